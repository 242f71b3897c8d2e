/* mp-explain.c — name the pitfall behind an error message or a traceback
 *
 * The rules are plain substrings from the catalog, compared ignoring ASCII
 * case, and the matches are ranked by where they occur:
 *
 * - An mpshare message names its pitfall itself ("[pitfall ID]"): such a
 *   tag outranks every guess.
 * - Python prints a chain of exceptions root first: the original exception,
 *   then "During handling of the above exception, another exception
 *   occurred:" or "The above exception was the direct cause of the
 *   following exception:", then the next one. A pool worker's traceback
 *   travels as the cause, printed first in quotes; a pasted stderr shows a
 *   dying worker's traceback before the parent's. So the earlier a rule
 *   matches in the text, the closer it is to the root cause. (A manager's
 *   RemoteError prints the server's traceback after the client's frames,
 *   but those frames match no rule.)
 *
 * A rule may require context in the same "block": the lines between two
 * separators (a traceback header, a chain sentence, a ''' or """ line, a
 * line of dashes around a manager's RemoteError). That keeps a bare
 * BrokenPipeError from a pool's queue from passing for a dead manager.
 *
 * Matching reads the text as a terminal shows it: escape sequences
 * (colours, titles, cursor moves) are left out first, so a colour inside
 * a needle does not hide it and none reaches the evidence. Every search
 * moves forward through the text: the cost is linear in its length.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mpshare.h"

typedef struct {
  const MpCatalogEntry *entry;
  gsize                 offset;
  gboolean              tagged;
} Candidate;

typedef struct {
  const char *clean;  /* the input without escape sequences, CRs as LFs */
  const char *text;   /* ASCII-lowered copy of @clean */
  gsize       length;
  GArray     *blocks; /* gsize: the offset where each block starts, sorted */
  GArray     *shifts; /* Shift: where bytes of the input were left out */
} Haystack;

/* From @clean on, the input is @removed bytes ahead of the clean text. */
typedef struct {
  gsize clean;
  gsize removed;
} Shift;

static const char *
find (const char *haystack,
      gsize       haystack_len,
      const char *needle,
      gsize       needle_len)
{
  if (needle_len == 0)
    return NULL;
  return memmem (haystack, haystack_len, needle, needle_len);
}

/* g_ascii_strdown() stops at a NUL; pasted bytes may hold one. */
static char *
lower_bytes (const char *text,
             gsize       length)
{
  char *lower = g_malloc (length + 1);

  for (gsize i = 0; i < length; i++)
    lower[i] = g_ascii_tolower (text[i]);
  lower[length] = '\0';
  return lower;
}

/* The length of the terminal escape sequence at @text[0] (an ESC): a CSI
 * such as a colour (ESC [ params final), a string (OSC, DCS, APC ...:
 * ended by BEL or ESC \, or by the end of the line when unended), or
 * ESC and one byte. ECMA-48 defines their shapes. */
static gsize
escape_length (const char *text,
               gsize       length)
{
  gsize i = 2;

  if (length < 2)
    return 1;
  switch (text[1])
    {
    case '[':
      while (i < length && (guchar) text[i] >= 0x20 && (guchar) text[i] <= 0x3f)
        i++;
      if (i < length && (guchar) text[i] >= 0x40 && (guchar) text[i] <= 0x7e)
        i++;
      return i;
    case ']': case 'P': case 'X': case '^': case '_':
      for (; i < length && text[i] != '\n'; i++)
        {
          if (text[i] == '\a')
            return i + 1;
          if (text[i] == '\033' && i + 1 < length && text[i + 1] == '\\')
            return i + 2;
        }
      return i;
    default:
      return (guchar) text[1] >= 0x20 && (guchar) text[1] <= 0x7e ? 2 : 1;
    }
}

/* What a terminal would show as lines, without what it would act on:
 * escape sequences (IPython's and pytest's colours, a cursor move, a
 * window title) are left out so that they neither split a needle nor
 * reach the screen through the evidence; CR LF and lone CRs become LFs.
 * @shifts records where bytes were left out, to give input offsets. */
static char *
clean_text (const char *text,
            gsize       length,
            gsize      *clean_length,
            GArray     *shifts)
{
  char *clean = g_malloc (length + 1);
  gsize out = 0;
  gsize i = 0;

  while (i < length)
    {
      gsize skip = 0;

      if (text[i] == '\033')
        skip = escape_length (text + i, length - i);
      else if (text[i] == '\r' && i + 1 < length && text[i + 1] == '\n')
        skip = 1;
      if (skip > 0)
        {
          Shift shift = { out, (i + skip) - (out) };

          g_array_append_val (shifts, shift);
          i += skip;
          continue;
        }
      clean[out++] = text[i] == '\r' ? '\n' : text[i];
      i++;
    }
  clean[out] = '\0';
  *clean_length = out;
  return clean;
}

/* The offset in the input of the byte at @offset in the clean text. */
static gsize
input_offset (const Haystack *hay,
              gsize           offset)
{
  guint lo = 0, hi = hay->shifts->len;

  /* the last shift at or before offset */
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (hay->shifts, Shift, mid).clean <= offset)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == 0)
    return offset;
  return offset + g_array_index (hay->shifts, Shift, lo - 1).removed;
}

static gboolean
line_is_dashes (const char *line,
                gsize       len)
{
  if (len < 10)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (line[i] != '-')
      return FALSE;
  return TRUE;
}

static gboolean
line_starts_block (const char *line,
                   gsize       len)
{
  static const char *const exact[] = {
    "during handling of the above exception, another exception occurred:",
    "the above exception was the direct cause of the following exception:",
    "'''",
    "\"\"\"",
  };
  static const char header[] = "traceback (most recent call last)";

  if (len >= sizeof header - 1 && memcmp (line, header, sizeof header - 1) == 0)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (exact); i++)
    if (len == strlen (exact[i]) && memcmp (line, exact[i], len) == 0)
      return TRUE;
  return line_is_dashes (line, len);
}

static GArray *
find_blocks (const char *text,
             gsize       length)
{
  GArray *blocks = g_array_new (FALSE, FALSE, sizeof (gsize));
  gsize zero = 0;
  gsize pos = 0;

  g_array_append_val (blocks, zero);
  while (pos < length)
    {
      const char *nl = memchr (text + pos, '\n', length - pos);
      gsize end = nl != NULL ? (gsize) (nl - text) : length;
      gsize start = pos;
      gsize stop = end;

      while (start < stop && g_ascii_isspace (text[start]))
        start++;
      while (stop > start && g_ascii_isspace (text[stop - 1]))
        stop--;
      if (pos > 0 && line_starts_block (text + start, stop - start))
        g_array_append_val (blocks, pos);
      pos = end + 1;
    }
  return blocks;
}

static void
block_bounds (const Haystack *hay,
              gsize           offset,
              gsize          *start,
              gsize          *end)
{
  guint lo = 0, hi = hay->blocks->len;

  /* the last block that starts at or before offset */
  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (hay->blocks, gsize, mid) <= offset)
        lo = mid;
      else
        hi = mid;
    }
  *start = g_array_index (hay->blocks, gsize, lo);
  *end = lo + 1 < hay->blocks->len ? g_array_index (hay->blocks, gsize, lo + 1)
                                   : hay->length;
}

static gboolean
context_holds (const Haystack *hay,
               char *const    *context,
               gsize           start,
               gsize           end)
{
  for (guint i = 0; context[i] != NULL; i++)
    if (find (hay->text + start, end - start, context[i], strlen (context[i])) == NULL)
      return FALSE;
  return TRUE;
}

/* The first offset where @rule matches, or -1. A block is searched for the
 * context once: when it lacks it, the search goes on after that block, so
 * a text full of the needle costs one pass, not one pass per needle. */
static gssize
rule_first_match (const Haystack      *hay,
                  const MpCatalogRule *rule)
{
  g_autofree char *needle = g_ascii_strdown (rule->needle, -1);
  char *context[G_N_ELEMENTS (rule->context) + 1] = { NULL };
  guint n_context = 0;
  gsize needle_len = strlen (needle);
  gsize pos = 0;
  const char *hit = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (rule->context); i++)
    if (rule->context[i] != NULL)
      context[n_context++] = g_ascii_strdown (rule->context[i], -1);

  while (pos < hay->length &&
         (hit = find (hay->text + pos, hay->length - pos, needle, needle_len)) != NULL)
    {
      gsize offset = hit - hay->text;
      gsize start, end;

      block_bounds (hay, offset, &start, &end);
      if (context_holds (hay, context, start, end))
        break;
      pos = MAX (end, offset + 1);
      hit = NULL;
    }
  for (guint i = 0; i < n_context; i++)
    g_free (context[i]);
  return hit != NULL ? hit - hay->text : -1;
}

static gboolean
is_id_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

/* The id itself, as a whole word ("explain lost-update"). */
static gssize
id_first_match (const Haystack *hay,
                const char     *id)
{
  gsize id_len = strlen (id);
  gsize pos = 0;
  const char *hit;

  while (pos < hay->length &&
         (hit = find (hay->text + pos, hay->length - pos, id, id_len)) != NULL)
    {
      gsize offset = hit - hay->text;
      gsize after = offset + id_len;

      if ((offset == 0 || !is_id_char (hay->text[offset - 1])) &&
          (after >= hay->length || !is_id_char (hay->text[after])))
        return offset;
      pos = offset + 1;
    }
  return -1;
}

static const MpCatalogEntry *
pitfall_by_id (const char *id,
               gsize       id_len)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);

  for (gsize i = 0; i < n; i++)
    if (entries[i].kind == MP_CATALOG_PITFALL &&
        strlen (entries[i].id) == id_len &&
        memcmp (entries[i].id, id, id_len) == 0)
      return &entries[i];
  return NULL;
}

static void
add_tags (const Haystack *hay,
          GArray         *candidates)
{
  static const char tag[] = "[pitfall ";
  gsize pos = 0;
  const char *hit;

  while (pos < hay->length &&
         (hit = find (hay->text + pos, hay->length - pos, tag, sizeof tag - 1)) != NULL)
    {
      gsize id_start = (hit - hay->text) + sizeof tag - 1;
      gsize id_end = id_start;
      const MpCatalogEntry *entry;

      while (id_end < hay->length && is_id_char (hay->text[id_end]))
        id_end++;
      if (id_end < hay->length && hay->text[id_end] == ']' &&
          (entry = pitfall_by_id (hay->text + id_start, id_end - id_start)) != NULL)
        {
          Candidate c = { entry, hit - hay->text, TRUE };
          g_array_append_val (candidates, c);
        }
      pos = id_start;
    }
}

static void
add_rules (const Haystack *hay,
           GArray         *candidates)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);

  for (gsize i = 0; i < n; i++)
    {
      const MpCatalogEntry *entry = &entries[i];
      gssize best;

      if (entry->kind != MP_CATALOG_PITFALL)
        continue;
      best = id_first_match (hay, entry->id);
      for (const MpCatalogRule *rule = entry->rules; rule->needle != NULL; rule++)
        {
          gssize offset = rule_first_match (hay, rule);
          if (offset >= 0 && (best < 0 || offset < best))
            best = offset;
        }
      if (best >= 0)
        {
          Candidate c = { entry, best, FALSE };
          g_array_append_val (candidates, c);
        }
    }
}

static gint
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  const Candidate *ca = a, *cb = b;

  if (ca->tagged != cb->tagged)
    return ca->tagged ? -1 : 1;
  if (ca->offset != cb->offset)
    return ca->offset < cb->offset ? -1 : 1;
  /* same spot: keep catalog order, so the ranking is stable */
  return ca->entry < cb->entry ? -1 : (ca->entry > cb->entry ? 1 : 0);
}

/* A bidirectional override or isolate reorders what a terminal shows
 * (the "Trojan Source" trick): shown as an escape like a control. */
static gboolean
is_bidi_control (gunichar c)
{
  return (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
         c == 0x200e || c == 0x200f || c == 0x061c;
}

/* @line (valid UTF-8) with every control character that survived the
 * cleaning made visible as an escape ("\x07", "\u009b"), a tab as a
 * space: printing it cannot move the cursor or retitle the terminal. */
static char *
make_printable (const char *line)
{
  GString *out = g_string_sized_new (strlen (line));

  for (const char *p = line; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\t')
        g_string_append_c (out, ' ');
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if ((c >= 0x80 && c < 0xa0) || is_bidi_control (c))
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

static char *
evidence_line (const char *text,
               gsize       length,
               gsize       offset)
{
  gsize start = offset, end = offset;
  g_autofree char *line = NULL;
  g_autofree char *printable = NULL;

  while (start > 0 && text[start - 1] != '\n')
    start--;
  while (end < length && text[end] != '\n')
    end++;
  /* also turns a NUL into U+FFFD, so the rest of the line still shows */
  line = g_utf8_make_valid (text + start, end - start);
  printable = make_printable (g_strstrip (line));
  return g_steal_pointer (&printable);
}

/**
 * mp_explain_match_free:
 * @match: (transfer full) (nullable): a match
 *
 * Frees @match.
 */
void
mp_explain_match_free (MpExplainMatch *match)
{
  if (match == NULL)
    return;
  g_free (match->evidence);
  g_free (match);
}

/**
 * mp_explain:
 * @text: an error message, a whole pasted Python traceback, or an mpshare
 *   error message
 * @length: the length of @text in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Names the pitfalls of the catalog that @text shows, best match first:
 * pitfalls that an mpshare message names itself (`[pitfall ID]`), then the
 * others in the order their evidence appears, which puts the root cause of
 * a chained Python traceback first. Each pitfall appears once.
 *
 * An empty (or all blank) text, or one longer than %MP_EXPLAIN_MAX_TEXT, is
 * %MP_ERROR_INVALID_ARGUMENT, whose message gives the text's length.
 * Escape sequences in @text are ignored (see #MpExplainMatch). A text that matches nothing is no error: the
 * array is empty.
 *
 * Returns: (transfer full) (element-type MpExplainMatch) (nullable): the
 *   matches, or %NULL with @error set.
 */
GPtrArray *
mp_explain (const char  *text,
            gssize       length,
            GError     **error)
{
  g_autofree char *clean = NULL;
  g_autofree char *lower = NULL;
  g_autoptr(GArray) shifts = NULL;
  g_autoptr(GArray) blocks = NULL;
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GHashTable) seen = NULL;
  GPtrArray *matches;
  Haystack hay;
  gsize len, clean_len;
  gboolean blank = TRUE;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = length < 0 ? strlen (text) : (gsize) length;
  if (len > MP_EXPLAIN_MAX_TEXT)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the text to explain has %" G_GSIZE_FORMAT " bytes, more "
                    "than the %d an error message or traceback needs; paste "
                    "only the error", len, MP_EXPLAIN_MAX_TEXT);
      return NULL;
    }
  for (gsize i = 0; i < len && blank; i++)
    blank = g_ascii_isspace (text[i]) || text[i] == '\0';
  if (blank)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "nothing to explain: give an error message or a whole "
                    "traceback");
      return NULL;
    }

  shifts = g_array_new (FALSE, FALSE, sizeof (Shift));
  clean = clean_text (text, len, &clean_len, shifts);
  lower = lower_bytes (clean, clean_len);
  blocks = find_blocks (lower, clean_len);
  hay = (Haystack) { clean, lower, clean_len, blocks, shifts };

  candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  add_tags (&hay, candidates);
  add_rules (&hay, candidates);
  g_array_sort (candidates, compare_candidates);

  matches = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_explain_match_free);
  seen = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < candidates->len; i++)
    {
      const Candidate *c = &g_array_index (candidates, Candidate, i);
      MpExplainMatch *match;

      if (!g_hash_table_add (seen, (gpointer) c->entry))
        continue;
      match = g_new0 (MpExplainMatch, 1);
      match->entry = c->entry;
      match->offset = input_offset (&hay, c->offset);
      match->tagged = c->tagged;
      match->evidence = evidence_line (clean, clean_len, c->offset);
      g_ptr_array_add (matches, match);
    }
  return matches;
}

/**
 * mp_explain_ids:
 * @text: as for mp_explain()
 * @length: the length of @text in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * The ids of mp_explain()'s matches, best first.
 *
 * Returns: (transfer full) (nullable): a %NULL-terminated array of ids,
 *   empty when nothing matches, or %NULL with @error set.
 */
char **
mp_explain_ids (const char  *text,
                gssize       length,
                GError     **error)
{
  g_autoptr(GPtrArray) matches = NULL;
  GStrvBuilder *builder;
  char **ids;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  matches = mp_explain (text, length, error);
  if (matches == NULL)
    return NULL;

  builder = g_strv_builder_new ();
  for (guint i = 0; i < matches->len; i++)
    {
      const MpExplainMatch *match = g_ptr_array_index (matches, i);
      g_strv_builder_add (builder, match->entry->id);
    }
  ids = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return ids;
}
