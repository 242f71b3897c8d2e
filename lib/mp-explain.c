/* mp-explain.c — name the pitfall behind an error message, a traceback, a
 * failing test or a description in words
 *
 * Five kinds of evidence, strongest first:
 *
 * - An mpshare message names its pitfall itself ("[pitfall ID]"): such a
 *   tag outranks every guess. A pitfall's id as a word counts too.
 * - Python's words, the catalog's rules: plain substrings compared
 *   ignoring ASCII case. A rule may require context in the same "block"
 *   (the lines between two separators: a traceback header, a chain
 *   sentence, a ''' or """ line, a line of dashes, a pytest or unittest
 *   section line), which keeps a bare BrokenPipeError from a pool's queue
 *   from passing for a dead manager. A rule whose words also occur
 *   outside multiprocessing (pickle, copy, threads) counts only when the
 *   text shows multiprocessing somewhere: otherwise it is reported apart,
 *   as a general pickling or copying problem.
 * - The silent pitfalls print no error. A failing test's report (a block)
 *   that shows the cause (`.value +=`, `as_completed`, an element of a
 *   manager list being changed), or a paragraph of prose that says what
 *   goes wrong and names multiprocessing, each word from its own group
 *   (see the symptoms table). And a program's own check, the measured
 *   value beside the expected one in the shape the pitfall gives it (a
 *   count too small, the expected list reordered, an element's field
 *   unchanged): the numbers are the evidence there (see the checks table).
 *
 * Python prints a chain of exceptions root first, and a dying worker's
 * traceback before the parent's, so among the rest the earlier evidence
 * ranks first: the root cause of a chained traceback comes first.
 *
 * The text is read as a terminal shows it: escape sequences (colours,
 * titles, cursor moves) are left out first, so a colour inside a needle
 * does not hide it and none reaches the evidence. Every search moves
 * forward through the text or through one block or paragraph, once per
 * term: the cost is linear in the text's length.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mpshare.h"

/* ---- the text as a terminal shows it ----------------------------------- */

/* From @clean on, the input is @removed bytes ahead of the clean text. */
typedef struct {
  gsize clean;
  gsize removed;
} Shift;

typedef struct {
  const char *clean;      /* the input without escape sequences, CRs as LFs */
  const char *text;       /* ASCII-lowered copy of @clean */
  gsize       length;
  GArray     *lines;      /* gsize: the offset where each line starts */
  GArray     *blocks;     /* gsize: where each block starts */
  GArray     *paragraphs; /* gsize: where each paragraph starts */
  GArray     *shifts;     /* Shift: where bytes of the input were left out */
  gssize      mp_at;      /* the first sign of multiprocessing, or -1 */
  const char *mp_term;
} Haystack;

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

  /* the number of shifts at or before offset */
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

/* The index of the last start in @starts (sorted gsize offsets) at or
 * before @offset. */
static guint
last_start_before (GArray *starts,
                   gsize   offset)
{
  guint lo = 0, hi = starts->len;

  while (hi - lo > 1)
    {
      guint mid = lo + (hi - lo) / 2;
      if (g_array_index (starts, gsize, mid) <= offset)
        lo = mid;
      else
        hi = mid;
    }
  return lo;
}

/* The span [start, end) of the block or paragraph holding @offset. */
static void
span_of (const Haystack *hay,
         GArray         *starts,
         gsize           offset,
         gsize          *start,
         gsize          *end)
{
  guint i = last_start_before (starts, offset);

  *start = g_array_index (starts, gsize, i);
  *end = i + 1 < starts->len ? g_array_index (starts, gsize, i + 1) : hay->length;
}

/* ---- lines, blocks, paragraphs ----------------------------------------- */

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

/* pytest's "____ test_total ____" and "==== FAILURES ====" lines, and
 * unittest's "======" before each failure. */
static gboolean
line_is_test_section (const char *line,
                      gsize       len)
{
  if (len >= 6 && memcmp (line, "___", 3) == 0 && memcmp (line + len - 3, "___", 3) == 0)
    return TRUE;
  return len >= 6 && memcmp (line, "=====", 5) == 0;
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
  return line_is_dashes (line, len) || line_is_test_section (line, len);
}

/* One pass: where each line, block and paragraph (lines between blank
 * lines) starts. */
static void
find_structure (Haystack *hay)
{
  gsize zero = 0;
  gsize pos = 0;
  gboolean after_blank = FALSE;

  g_array_append_val (hay->blocks, zero);
  g_array_append_val (hay->paragraphs, zero);
  while (pos < hay->length)
    {
      const char *nl = memchr (hay->text + pos, '\n', hay->length - pos);
      gsize end = nl != NULL ? (gsize) (nl - hay->text) : hay->length;
      gsize start = pos;
      gsize stop = end;

      g_array_append_val (hay->lines, pos);
      while (start < stop && g_ascii_isspace (hay->text[start]))
        start++;
      while (stop > start && g_ascii_isspace (hay->text[stop - 1]))
        stop--;
      if (pos > 0 && line_starts_block (hay->text + start, stop - start))
        g_array_append_val (hay->blocks, pos);
      if (start == stop)
        after_blank = TRUE;
      else if (after_blank)
        {
          g_array_append_val (hay->paragraphs, pos);
          after_blank = FALSE;
        }
      pos = end + 1;
    }
}

/* ---- searching --------------------------------------------------------- */

/* How common a byte is in English text and tracebacks, 0 = rare: the
 * search below waits on the rarest byte of a needle, so that a text made
 * of common letters does not stop it at every other byte. */
static guint
byte_commonness (guchar c)
{
  static const char common[] = " etaoinsrhldcu\nmfpgwybv.,k";
  const char *at = memchr (common, c, sizeof common - 1);

  return at != NULL ? (guint) (sizeof common - (at - common)) : 0;
}

/* memmem() by hand: under ASan, memmem's interceptor checks the whole
 * rest of the text on every call, which made a search that moves forward
 * quadratic; memchr's checks only what it read. It waits on the needle's
 * rarest byte. */
static const char *
find (const char *haystack,
      gsize       haystack_len,
      const char *needle,
      gsize       needle_len)
{
  gsize anchor = 0;
  const char *end;

  if (needle_len == 0 || needle_len > haystack_len)
    return NULL;
  for (gsize i = 1; i < needle_len; i++)
    if (byte_commonness (needle[i]) < byte_commonness (needle[anchor]))
      anchor = i;
  end = haystack + haystack_len - needle_len + 1;
  for (const char *p = haystack + anchor; p < end + anchor; p++)
    {
      p = memchr (p, needle[anchor], (end + anchor) - p);
      if (p == NULL)
        return NULL;
      if (memcmp (p - anchor, needle, needle_len) == 0)
        return p - anchor;
    }
  return NULL;
}

static gboolean
is_id_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

/* The first offset of @term in [from, to) of the lowered text, or -1. A
 * term that starts (ends) with a letter or digit must start (end) a word
 * there: "pool" is not in "ThreadPoolExecutor", nor "sum" in "summary". */
static gssize
find_term (const Haystack *hay,
           const char     *term,
           gsize           from,
           gsize           to)
{
  gsize len = strlen (term);
  gboolean word_start = g_ascii_isalnum (term[0]);
  gboolean word_end = g_ascii_isalnum (term[len - 1]);
  const char *hit;

  while (from < to && (hit = find (hay->text + from, to - from, term, len)) != NULL)
    {
      gsize at = hit - hay->text;

      if ((!word_start || at == 0 || !is_id_char (hay->text[at - 1])) &&
          (!word_end || at + len >= hay->length || !is_id_char (hay->text[at + len])))
        return at;
      from = at + 1;
    }
  return -1;
}

/* The first offset in [from, to) of any of @terms, or -1; @which gets the
 * term found. */
static gssize
find_any (const Haystack     *hay,
          const char *const  *terms,
          gsize               from,
          gsize               to,
          const char        **which)
{
  gssize best = -1;

  for (guint i = 0; terms[i] != NULL; i++)
    {
      /* only the part before the best so far can hold an earlier one */
      gssize at = find_term (hay, terms[i], from, best >= 0 ? MIN (to, (gsize) best + strlen (terms[i])) : to);

      if (at >= 0 && (best < 0 || at < best))
        {
          best = at;
          *which = terms[i];
        }
    }
  return best;
}

/* Signs of multiprocessing: a frame of its package or of the process pool,
 * a pool, a manager, a process (as words). */
static const char *const mp_signs[] = {
  "multiprocessing", "processpoolexecutor", "pool", "manager", "process",
  "processes", "__mp_main__", "forkserver", "listproxy", "dictproxy",
  "autoproxy", "[pitfall ", NULL
};

/* ---- what was found ---------------------------------------------------- */

typedef struct {
  const MpCatalogEntry *entry;
  gsize                 offset;   /* the first evidence, in the clean text */
  MpExplainKind         kind;
  char                 *reason;
  GArray               *used;     /* gsize: offsets of every evidence */
  gboolean              general;  /* a rule that needs multiprocessing, without */
} Candidate;

static void
candidate_clear (gpointer data)
{
  Candidate *c = data;

  g_free (c->reason);
  g_clear_pointer (&c->used, g_array_unref);
}

/* A candidate resting on the evidence at @used (-1: none); it ranks by
 * @used[0] when @ranked_by_first (a rule's needle, not its context), else
 * by the earliest of them (the words of a description). */
static void
add_candidate (GArray               *candidates,
               const MpCatalogEntry *entry,
               MpExplainKind         kind,
               char                 *reason,
               const gssize         *used,
               guint                 n_used,
               gboolean              ranked_by_first)
{
  Candidate c = { entry, G_MAXSIZE, kind, reason,
                  g_array_new (FALSE, FALSE, sizeof (gsize)), FALSE };

  for (guint i = 0; i < n_used; i++)
    if (used[i] >= 0)
      {
        gsize at = used[i];

        g_array_append_val (c.used, at);
        if (!ranked_by_first || i == 0)
          c.offset = MIN (c.offset, at);
      }
  g_array_append_val (candidates, c);
}

/* ---- tags and ids ------------------------------------------------------ */

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
          gssize at = hit - hay->text;

          add_candidate (candidates, entry, MP_EXPLAIN_TAG,
                         g_strdup ("an mpshare message names this pitfall itself"),
                         &at, 1, TRUE);
        }
      pos = id_start;
    }
}

/* ---- the catalog's rules ----------------------------------------------- */

/* The first offset where @rule's needle occurs with its context in the
 * same block, or -1; @context_at gets where each context word is. A
 * block is searched for the context once: when it lacks it, the search
 * goes on after that block, so a text full of the needle costs one pass,
 * not one pass per needle. */
static gssize
rule_first_match (const Haystack      *hay,
                  const MpCatalogRule *rule,
                  gssize              *context_at)
{
  g_autofree char *needle = g_ascii_strdown (rule->needle, -1);
  gsize needle_len = strlen (needle);
  gsize pos = 0;
  const char *hit;

  while (pos < hay->length &&
         (hit = find (hay->text + pos, hay->length - pos, needle, needle_len)) != NULL)
    {
      gsize offset = hit - hay->text;
      gsize start, end;
      gboolean holds = TRUE;

      span_of (hay, hay->blocks, offset, &start, &end);
      for (gsize i = 0; i < G_N_ELEMENTS (rule->context); i++)
        {
          g_autofree char *ctx = NULL;
          const char *ctx_hit;

          context_at[i] = -1;
          if (rule->context[i] == NULL || !holds)
            continue;
          ctx = g_ascii_strdown (rule->context[i], -1);
          ctx_hit = find (hay->text + start, end - start, ctx, strlen (ctx));
          if (ctx_hit == NULL)
            holds = FALSE;
          else
            context_at[i] = ctx_hit - hay->text;
        }
      if (holds)
        return offset;
      pos = MAX (end, offset + 1);
    }
  return -1;
}

static char *
rule_reason (const MpCatalogRule *rule,
             const Haystack      *hay)
{
  GString *reason = g_string_new (NULL);

  g_string_append_printf (reason, "the words \"%s\"", rule->needle);
  if (rule->context[0] != NULL)
    {
      g_string_append_printf (reason, " with \"%s\"", rule->context[0]);
      if (rule->context[1] != NULL)
        g_string_append_printf (reason, " and \"%s\"", rule->context[1]);
      g_string_append (reason, " in the same traceback");
    }
  if ((rule->flags & MP_CATALOG_RULE_NEEDS_MP) != 0)
    {
      if (hay->mp_at >= 0)
        g_string_append_printf (reason, ", and multiprocessing in sight "
                                "(\"%s\")", hay->mp_term);
      else
        g_string_append (reason, ", but nothing shows multiprocessing");
    }
  return g_string_free (reason, FALSE);
}

static void
add_rules (const Haystack       *hay,
           const MpCatalogEntry *entry,
           GArray               *candidates,
           GArray               *general)
{
  const MpCatalogRule *best_rule = NULL, *best_general = NULL;
  gssize best[1 + G_N_ELEMENTS (entry->rules->context) + 1] = { -1, -1, -1, -1 };
  gssize best_g = -1;
  /* the id itself, as a whole word ("explain lost-update") */
  gssize id_at = find_term (hay, entry->id, 0, hay->length);

  for (const MpCatalogRule *rule = entry->rules; rule->needle != NULL; rule++)
    {
      gssize context_at[G_N_ELEMENTS (rule->context)];
      gssize at = rule_first_match (hay, rule, context_at);
      gboolean needs_mp = (rule->flags & MP_CATALOG_RULE_NEEDS_MP) != 0;

      if (at < 0)
        continue;
      if (needs_mp && hay->mp_at < 0)
        {
          if (best_g < 0 || at < best_g)
            {
              best_g = at;
              best_general = rule;
            }
          continue;
        }
      if (best[0] < 0 || at < best[0])
        {
          best_rule = rule;
          best[0] = at;
          best[1] = context_at[0];
          best[2] = context_at[1];
          best[3] = needs_mp ? hay->mp_at : -1;
        }
    }

  if (id_at >= 0 && (best[0] < 0 || id_at < best[0]))
    add_candidate (candidates, entry, MP_EXPLAIN_ID,
                   g_strdup_printf ("the text names the pitfall \"%s\"", entry->id),
                   &id_at, 1, TRUE);
  else if (best_rule != NULL)
    add_candidate (candidates, entry, MP_EXPLAIN_MESSAGE,
                   rule_reason (best_rule, hay), best, G_N_ELEMENTS (best), TRUE);
  if (best_general != NULL)
    {
      add_candidate (general, entry, MP_EXPLAIN_MESSAGE,
                     rule_reason (best_general, hay), &best_g, 1, TRUE);
      g_array_index (general, Candidate, general->len - 1).general = TRUE;
    }
}

/* ---- the silent pitfalls: tests and descriptions ----------------------- */

#define TERMS(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* A failing test, as pytest and unittest report it. */
#define FAILED_TEST TERMS ("assertionerror", "e       assert", "e   assert", \
                           "failed")
/* Multiprocessing named in prose. */
#define MP_WORDS TERMS ("process", "processes", "multiprocessing", "pool", \
                        "worker", "workers", "manager", "processpoolexecutor", \
                        "executor", "in parallel", "parallel", "concurrently", \
                        "mp.value", "value(")

typedef struct {
  const char        *id;
  MpExplainKind      kind;    /* DESCRIPTION: one paragraph; TEST_FAILURE: one block */
  const char        *what;    /* the evidence, for the reason */
  gboolean           changes_element; /* also a line like "items[0].x = 1" */
  const char *const *groups[3];       /* a word of each, in the same span */
} Symptom;

static const Symptom symptoms[] = {
  { "lost-update", MP_EXPLAIN_TEST_FAILURE,
    "a failing test whose listing adds to a shared .value", FALSE,
    { FAILED_TEST, TERMS (".value +=", ".value+=", ".value -=", ".value-="), NULL } },
  { "lost-update", MP_EXPLAIN_TEST_FAILURE,
    "a failing assertion on a shared .value in a test that runs processes", FALSE,
    { FAILED_TEST, TERMS (".value ==", ".value,", ".value !="),
      TERMS ("multiprocessing", "process", "processes", "pool", "manager",
             "processpoolexecutor") } },
  { "lost-update", MP_EXPLAIN_DESCRIPTION,
    "a description of a total that comes out too small or varies", FALSE,
    { TERMS ("total", "totals", "sum", "count", "counter", "counts", "tally",
             "result", "value", "number", "final"),
      TERMS ("too small", "too low", "smaller than", "lower than", "less than",
             "fewer than", "short of", "instead of", "varies", "vary",
             "varying", "different every", "different each", "changes every",
             "changes each", "differs", "inconsistent", "random",
             "nondeterministic", "non-deterministic", "not always",
             "sometimes", "every run", "each run", "between runs",
             "every time", "each time", "is lower", "is smaller",
             "updates are missing", "missing updates"),
      MP_WORDS } },
  { "as-completed-order", MP_EXPLAIN_TEST_FAILURE,
    "a failing test whose listing collects results with as_completed", FALSE,
    { FAILED_TEST, TERMS ("as_completed", "imap_unordered"), NULL } },
  { "as-completed-order", MP_EXPLAIN_DESCRIPTION,
    "a description of results that come in the wrong order", FALSE,
    { TERMS ("result", "results", "output", "outputs", "list", "answers",
             "squares", "values", "items", "order"),
      TERMS ("wrong order", "out of order", "different order", "not in order",
             "order changes", "order is different", "shuffled", "mixed up",
             "jumbled", "random order", "scrambled", "order varies",
             "not in the same order", "unordered", "not sorted",
             "order is wrong", "in the order they finish", "order they finish"),
      TERMS ("as_completed", "as completed", "pool", "executor", "future",
             "futures", "process", "processes", "worker", "workers",
             "parallel", "imap_unordered", "multiprocessing",
             "processpoolexecutor") } },
  { "mutate-a-copy", MP_EXPLAIN_TEST_FAILURE,
    "a failing test whose listing changes an element of a manager list", TRUE,
    { FAILED_TEST, TERMS ("manager", "listproxy", "dictproxy"), NULL } },
  { "mutate-a-copy", MP_EXPLAIN_DESCRIPTION,
    "a description of a change to a manager's object that does not stick", FALSE,
    { TERMS ("does not stick", "doesn't stick", "don't stick", "didn't stick",
             "not stick", "not saved", "isn't saved", "not kept", "reverts",
             "reverted", "unchanged", "still the old", "stays the same",
             "stay the same", "remains the same", "not updated",
             "isn't updated", "doesn't update", "does not update",
             "has no effect", "no effect", "is lost", "gets lost",
             "never changes", "doesn't change", "does not change",
             "not changed", "still shows", "still has the old"),
      TERMS ("manager", "proxy", "listproxy", "dictproxy", "shared list",
             "shared dict", "manager.list", "manager.dict"),
      NULL } },
};

/* A line that changes an element reached through a subscript, in place:
 * "clusters[0].available = False", "rows[0]['n'] += 1",
 * "items[i].append(x)". On a manager's list that changes a copy. */
static GRegex *
element_change_regex (void)
{
  static gsize once;
  static GRegex *regex;

  if (g_once_init_enter (&once))
    {
      regex = g_regex_new ("[a-z0-9_)]\\[[^]\\n]{1,80}\\]"
                               "(\\.[a-z_][a-z0-9_]*|\\[[^]\\n]{1,80}\\])"
                               "(\\s*([-+*/|&]?=)[^=]|\\.(append|extend|update|add|"
                               "insert|pop|remove|clear)\\()",
                               G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  return regex;
}

/* The first element change in [from, to), or -1. */
static gssize
find_element_change (const Haystack *hay,
                     gsize           from,
                     gsize           to)
{
  g_autoptr(GMatchInfo) info = NULL;
  int start;

  if (!g_regex_match_full (element_change_regex (), hay->text, to, from, 0, &info, NULL))
    return -1;
  g_match_info_fetch_pos (info, 0, &start, NULL);
  return start;
}

/* Whether @symptom holds in [from, to): @at gets where each group (and the
 * element change) was found, @words the terms. */
static gboolean
symptom_holds (const Haystack *hay,
               const Symptom  *symptom,
               gsize           from,
               gsize           to,
               gssize         *at,
               const char    **words)
{
  for (guint g = 0; g < G_N_ELEMENTS (symptom->groups); g++)
    {
      at[g] = -1;
      if (symptom->groups[g] == NULL)
        continue;
      at[g] = find_any (hay, symptom->groups[g], from, to, &words[g]);
      if (at[g] < 0)
        return FALSE;
    }
  at[G_N_ELEMENTS (symptom->groups)] = -1;
  if (symptom->changes_element &&
      (at[G_N_ELEMENTS (symptom->groups)] = find_element_change (hay, from, to)) < 0)
    return FALSE;
  return TRUE;
}

static char *
symptom_reason (const Symptom *symptom,
                const char   **words,
                gboolean       changes_element)
{
  GString *reason = g_string_new (symptom->what);
  const char *sep = " (";

  for (guint g = 0; g < G_N_ELEMENTS (symptom->groups); g++)
    if (symptom->groups[g] != NULL)
      {
        g_string_append_printf (reason, "%s\"%s\"", sep, words[g]);
        sep = ", ";
      }
  if (changes_element)
    g_string_append (reason, ", a line changing an element");
  g_string_append (reason, ")");
  return g_string_free (reason, FALSE);
}

/* The first span (paragraph or block) where @symptom holds. Each span is
 * searched once per term: linear in the text's length. */
static void
add_symptom (const Haystack *hay,
             const Symptom  *symptom,
             GArray         *candidates)
{
  GArray *starts = symptom->kind == MP_EXPLAIN_DESCRIPTION ? hay->paragraphs : hay->blocks;
  gssize at[G_N_ELEMENTS (symptom->groups) + 1];
  const char *words[G_N_ELEMENTS (symptom->groups)] = { NULL };
  g_autoptr(GError) error = NULL;
  const MpCatalogEntry *entry = mp_catalog_lookup (symptom->id, &error);

  g_return_if_fail (entry != NULL);
  for (guint i = 0; i < starts->len; i++)
    {
      gsize from = g_array_index (starts, gsize, i);
      gsize to = i + 1 < starts->len ? g_array_index (starts, gsize, i + 1) : hay->length;

      if (symptom_holds (hay, symptom, from, to, at, words))
        {
          add_candidate (candidates, entry, symptom->kind,
                         symptom_reason (symptom, words, symptom->changes_element),
                         at, G_N_ELEMENTS (at), FALSE);
          return;
        }
    }
}

/* ---- a program's own check --------------------------------------------- */

/* A program that tests its own result prints the measured value beside
 * the expected one ("hits is 20, expected 40"). For a silent pitfall that
 * line is all there is, and its numbers are evidence of the pitfall's own
 * shape; the words alone ("too small") are not: prose about a spreadsheet
 * uses them too. Only the first "expected" of a line is read, and every
 * scan stays inside its line: linear in the text's length. */

typedef enum {
  CHECK_SMALLER,      /* a count below the expected one */
  CHECK_REORDERED,    /* the expected list, every item, in another order */
  CHECK_KEPT_OLD,     /* an element's field, or workers' work, unchanged */
} CheckShape;

typedef struct {
  const char        *id;
  CheckShape         shape;
  const char *const *words;   /* one of them on the line */
} Check;

static const Check checks[] = {
  { "lost-update", CHECK_SMALLER,
    TERMS ("too small", "too low", "smaller", "fewer", "lost", "missing") },
  { "as-completed-order", CHECK_REORDERED,
    TERMS ("order", "ordered") },
  { "mutate-a-copy", CHECK_KEPT_OLD,
    TERMS ("did not stick", "does not stick", "didn't stick", "doesn't stick",
           "not stick", "unchanged", "still the old", "not saved", "not kept",
           "reverted", "has no effect") },
};

/* The longest list of a check that is compared, in bytes. */
#define CHECK_LIST_MAX 2048

/* The whole number ending at or before @at (at most 24 bytes back), or
 * FALSE: a count, so not part of a name ("python3") nor a fraction. */
static gboolean
number_before (const Haystack *hay,
               gsize           line_start,
               gsize           at,
               gint64         *value)
{
  gsize end = at, start;
  g_autofree char *digits = NULL;

  while (end > line_start && at - end < 24 && !g_ascii_isdigit (hay->text[end - 1]))
    end--;
  if (end == line_start || !g_ascii_isdigit (hay->text[end - 1]))
    return FALSE;
  start = end;
  while (start > line_start && g_ascii_isdigit (hay->text[start - 1]))
    start--;
  if (start > line_start && hay->text[start - 1] == '-')
    start--;
  /* a count: not a name's digits ("python3"), not a fraction's */
  if (start > line_start && (is_id_char (hay->text[start - 1]) ||
                             hay->text[start - 1] == '.'))
    return FALSE;
  if (end < at && hay->text[end] == '.' && g_ascii_isdigit (hay->text[end + 1]))
    return FALSE;
  digits = g_strndup (hay->text + start, end - start);
  *value = g_ascii_strtoll (digits, NULL, 10);
  return TRUE;
}

/* The whole number right after "expected" at @at ("expected 40",
 * "expected at least 40"), or FALSE. */
static gboolean
number_after (const Haystack *hay,
              gsize           at,
              gsize           line_end,
              gint64         *value)
{
  static const char least[] = "at least ";
  gsize start = at + strlen ("expected");
  gsize end;
  g_autofree char *digits = NULL;

  while (start < line_end && (hay->text[start] == ' ' || hay->text[start] == ':'))
    start++;
  if (line_end - start > sizeof least - 1 &&
      memcmp (hay->text + start, least, sizeof least - 1) == 0)
    start += sizeof least - 1;
  end = start;
  if (end < line_end && hay->text[end] == '-')
    end++;
  while (end < line_end && g_ascii_isdigit (hay->text[end]))
    end++;
  if (end == start || !g_ascii_isdigit (hay->text[end - 1]) ||
      (end < line_end && is_id_char (hay->text[end])) ||
      (end + 1 < line_end && hay->text[end] == '.' && g_ascii_isdigit (hay->text[end + 1])))
    return FALSE;
  digits = g_strndup (hay->text + start, end - start);
  *value = g_ascii_strtoll (digits, NULL, 10);
  return TRUE;
}

/* The items of the list "[a, b, c]" spanning [open, close], trimmed. */
static GStrv
list_items (const Haystack *hay,
            gsize           open,
            gsize           close)
{
  g_autofree char *inner = g_strndup (hay->text + open + 1, close - open - 1);
  GStrv items = g_strsplit (inner, ",", -1);

  for (guint i = 0; items[i] != NULL; i++)
    g_strstrip (items[i]);
  return items;
}

static int
compare_items (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Whether @a and @b hold the same items, each as often, in another order. */
static gboolean
reordered (GStrv a,
           GStrv b)
{
  guint n = g_strv_length (a);
  g_autofree char **sa = NULL, **sb = NULL;

  if (n < 2 || n != g_strv_length (b) || g_strv_equal ((const char *const *) a,
                                                       (const char *const *) b))
    return FALSE;
  sa = g_memdup2 (a, n * sizeof (char *));
  sb = g_memdup2 (b, n * sizeof (char *));
  qsort (sa, n, sizeof (char *), compare_items);
  qsort (sb, n, sizeof (char *), compare_items);
  for (guint i = 0; i < n; i++)
    if (strcmp (sa[i], sb[i]) != 0)
      return FALSE;
  return TRUE;
}

/* "[...] ... expected [...]" around @at, the measured list a reordering
 * of the expected one; @list gets where the measured list starts. */
static gboolean
lists_reordered (const Haystack *hay,
                 gsize           line_start,
                 gsize           at,
                 gsize           line_end,
                 gssize         *list)
{
  gsize close = at, open, open2, close2;
  g_auto(GStrv) got = NULL, want = NULL;

  while (close > line_start && at - close < 40 && hay->text[close - 1] != ']')
    close--;
  if (close == line_start || hay->text[close - 1] != ']')
    return FALSE;
  close--;
  for (open = close; open > line_start && close - open < CHECK_LIST_MAX &&
       hay->text[open] != '['; open--)
    ;
  if (hay->text[open] != '[')
    return FALSE;
  for (open2 = at + strlen ("expected"); open2 < line_end && open2 - at < 20 &&
       hay->text[open2] != '['; open2++)
    ;
  if (open2 >= line_end || hay->text[open2] != '[')
    return FALSE;
  for (close2 = open2; close2 < line_end && close2 - open2 < CHECK_LIST_MAX &&
       hay->text[close2] != ']'; close2++)
    ;
  if (close2 >= line_end || hay->text[close2] != ']')
    return FALSE;
  got = list_items (hay, open, close);
  want = list_items (hay, open2, close2);
  *list = open;
  return reordered (got, want);
}

/* A field (or an item) of an element reached by a subscript, as a check
 * reads it back: "scores[0].points", "rows[0]['n']". */
static GRegex *
element_field_regex (void)
{
  static gsize once;
  static GRegex *regex;

  if (g_once_init_enter (&once))
    {
      regex = g_regex_new ("[a-z0-9_)]\\[[^]\\n]{1,40}\\](\\.[a-z_][a-z0-9_]*|\\[[^]\\n]{1,40}\\])",
                           G_REGEX_OPTIMIZE | G_REGEX_RAW, 0, NULL);
      g_once_init_leave (&once, 1);
    }
  return regex;
}

/* The first element field in [from, to), or -1; @name gets its text. */
static gssize
find_element_field (const Haystack *hay,
                    gsize           from,
                    gsize           to,
                    char          **name)
{
  g_autoptr(GMatchInfo) info = NULL;
  int start, end;

  if (!g_regex_match_full (element_field_regex (), hay->text, to, from, 0, &info, NULL))
    return -1;
  g_match_info_fetch_pos (info, 0, &start, &end);
  /* the whole name before the subscript: "scores[0].points" */
  while (start > 0 && (gsize) start > from &&
         (is_id_char (hay->text[start - 1]) || hay->text[start - 1] == '.'))
    start--;
  *name = g_strndup (hay->clean + start, end - start);
  return start;
}

static char *
check_reason (const Haystack *hay,
              const char     *what,
              const char     *word,
              gboolean        names_workers)
{
  g_autofree char *sight = NULL;

  if (hay->mp_at >= 0)
    sight = g_strdup_printf (", with multiprocessing in sight (\"%s\")", hay->mp_term);
  else if (!names_workers)
    sight = g_strdup (", with no multiprocessing in sight");
  return g_strdup_printf ("the program's own check: %s (\"%s\")%s", what, word,
                          sight != NULL ? sight : "");
}

/* Whether @check holds on the line [start, end) whose "expected" is at
 * @at; adds its candidate. */
static gboolean
add_check_on_line (const Haystack *hay,
                   const Check    *check,
                   gsize           start,
                   gssize          at,
                   gsize           end,
                   GArray         *candidates)
{
  g_autoptr(GError) error = NULL;
  const MpCatalogEntry *entry = mp_catalog_lookup (check->id, &error);
  const char *word = NULL;
  gssize used[3] = { at, -1, -1 };
  g_autofree char *what = NULL;
  gboolean names_workers = FALSE;

  g_return_val_if_fail (entry != NULL, FALSE);
  if ((used[1] = find_any (hay, check->words, start, end, &word)) < 0)
    return FALSE;
  switch (check->shape)
    {
    case CHECK_SMALLER:
      {
        gint64 got, want;

        if (!number_before (hay, start, at, &got) ||
            !number_after (hay, at, end, &want) || !(got < want))
          return FALSE;
        what = g_strdup_printf ("%" G_GINT64_FORMAT " where %" G_GINT64_FORMAT
                                " was expected", got, want);
        break;
      }
    case CHECK_REORDERED:
      if (!lists_reordered (hay, start, at, end, &used[2]))
        return FALSE;
      what = g_strdup ("every expected item, in another order");
      break;
    case CHECK_KEPT_OLD:
      {
        g_autofree char *name = NULL;
        const char *worker = NULL;

        if ((used[2] = find_element_field (hay, start, end, &name)) >= 0)
          what = g_strdup_printf ("\"%s\", a field of a list's element, kept its "
                                  "old value", name);
        else if ((used[2] = find_any (hay, MP_WORDS, start, end, &worker)) >= 0)
          {
            what = g_strdup_printf ("what the %s did was not kept", worker);
            names_workers = TRUE;
          }
        else
          return FALSE;
        break;
      }
    default:
      g_return_val_if_reached (FALSE);
    }
  add_candidate (candidates, entry, MP_EXPLAIN_CHECK,
                 check_reason (hay, what, word, names_workers),
                 used, G_N_ELEMENTS (used), FALSE);
  return TRUE;
}

/* Every line with the word "expected" is read once, for every check that
 * has not held yet. */
static void
add_checks (const Haystack *hay,
            GArray         *candidates)
{
  gboolean held[G_N_ELEMENTS (checks)] = { FALSE };
  guint n_held = 0;
  gsize pos = 0;
  gssize at;

  while (n_held < G_N_ELEMENTS (checks) &&
         (at = find_term (hay, "expected", pos, hay->length)) >= 0)
    {
      gsize start, end;
      guint line = last_start_before (hay->lines, at);
      const char *nl;

      start = g_array_index (hay->lines, gsize, line);
      nl = memchr (hay->text + at, '\n', hay->length - at);
      end = nl != NULL ? (gsize) (nl - hay->text) : hay->length;
      for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
        if (!held[i] && add_check_on_line (hay, &checks[i], start, at, end, candidates))
          {
            held[i] = TRUE;
            n_held++;
          }
      pos = end;
    }
}

/* ---- building the answer ----------------------------------------------- */

static gint
compare_candidates (gconstpointer a,
                    gconstpointer b)
{
  const Candidate *ca = a, *cb = b;
  gboolean ta = ca->kind == MP_EXPLAIN_TAG, tb = cb->kind == MP_EXPLAIN_TAG;

  if (ta != tb)
    return ta ? -1 : 1;
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

/* The line of the clean text holding @offset, trimmed and printable. */
static char *
line_text (const Haystack *hay,
           gsize           offset)
{
  guint i = last_start_before (hay->lines, offset);
  gsize start = hay->lines->len > 0 ? g_array_index (hay->lines, gsize, i) : 0;
  const char *nl = memchr (hay->clean + start, '\n', hay->length - start);
  gsize end = nl != NULL ? (gsize) (nl - hay->clean) : hay->length;
  /* also turns a NUL into U+FFFD, so the rest of the line still shows */
  g_autofree char *line = g_utf8_make_valid (hay->clean + start, end - start);

  return make_printable (g_strstrip (line));
}

static void
line_free (gpointer data)
{
  MpExplainLine *line = data;

  g_free (line->text);
  g_free (line);
}

static int
compare_offsets (gconstpointer a,
                 gconstpointer b)
{
  gsize x = *(const gsize *) a, y = *(const gsize *) b;

  return x < y ? -1 : (x > y ? 1 : 0);
}

static MpExplainMatch *
match_from (const Haystack *hay,
            Candidate      *c)
{
  MpExplainMatch *match = g_new0 (MpExplainMatch, 1);
  guint last_line = G_MAXUINT;

  match->entry = c->entry;
  match->offset = input_offset (hay, c->offset);
  match->kind = c->kind;
  match->tagged = c->kind == MP_EXPLAIN_TAG;
  match->evidence = line_text (hay, c->offset);
  match->reason = g_steal_pointer (&c->reason);
  match->lines = g_ptr_array_new_with_free_func (line_free);
  g_array_sort (c->used, compare_offsets);
  for (guint i = 0; i < c->used->len; i++)
    {
      gsize at = g_array_index (c->used, gsize, i);
      guint n = last_start_before (hay->lines, at);
      MpExplainLine *line;

      if (n == last_line)
        continue;
      last_line = n;
      line = g_new0 (MpExplainLine, 1);
      line->number = n + 1;
      line->text = line_text (hay, at);
      g_ptr_array_add (match->lines, line);
    }
  return match;
}

/* The candidates as matches, best first, each pitfall once. */
static GPtrArray *
matches_from (const Haystack *hay,
              GArray         *candidates)
{
  GPtrArray *matches = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_explain_match_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);

  g_array_sort (candidates, compare_candidates);
  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *c = &g_array_index (candidates, Candidate, i);

      if (g_hash_table_add (seen, (gpointer) c->entry))
        g_ptr_array_add (matches, match_from (hay, c));
    }
  return matches;
}

static void
haystack_clear (Haystack *hay)
{
  g_free ((char *) hay->clean);
  g_free ((char *) hay->text);
  g_clear_pointer (&hay->lines, g_array_unref);
  g_clear_pointer (&hay->blocks, g_array_unref);
  g_clear_pointer (&hay->paragraphs, g_array_unref);
  g_clear_pointer (&hay->shifts, g_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Haystack, haystack_clear)

/**
 * mp_explain_match_free:
 * @match: (transfer full) (nullable): a match
 *
 * Frees @match.
 *
 * Since: 0.1
 */
void
mp_explain_match_free (MpExplainMatch *match)
{
  if (match == NULL)
    return;
  g_free (match->evidence);
  g_free (match->reason);
  g_clear_pointer (&match->lines, g_ptr_array_unref);
  g_free (match);
}

/**
 * mp_explain_report_free:
 * @report: (transfer full) (nullable): a report
 *
 * Frees @report and its matches.
 *
 * Since: 0.1
 */
void
mp_explain_report_free (MpExplainReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->matches, g_ptr_array_unref);
  g_clear_pointer (&report->general, g_ptr_array_unref);
  g_free (report);
}

/**
 * mp_explain_kind_to_string:
 * @kind: a kind of evidence
 *
 * A stable lower-case name for @kind ("tag", "id", "message",
 * "description", "test-failure", "check"), as `mpshare explain --format=json`
 * prints it.
 *
 * Returns: a static string, or %NULL for an unknown kind.
 *
 * Since: 0.1
 */
const char *
mp_explain_kind_to_string (MpExplainKind kind)
{
  switch (kind)
    {
    case MP_EXPLAIN_TAG: return "tag";
    case MP_EXPLAIN_ID: return "id";
    case MP_EXPLAIN_MESSAGE: return "message";
    case MP_EXPLAIN_DESCRIPTION: return "description";
    case MP_EXPLAIN_TEST_FAILURE: return "test-failure";
    case MP_EXPLAIN_CHECK: return "check";
    default: return NULL;
    }
}

/**
 * mp_explain_report: (skip)
 * @text: an error message, a whole pasted Python traceback, a failing
 *   test's report, a description in words, or an mpshare error message
 * @length: the length of @text in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Finds the pitfalls of the catalog that @text shows, best match first:
 * pitfalls that an mpshare message names itself (`[pitfall ID]`), then the
 * others in the order their evidence appears, which puts the root cause of
 * a chained Python traceback first. Each pitfall appears once, with the
 * evidence it rests on (see #MpExplainMatch).
 *
 * A rule whose words also occur outside multiprocessing counts only when
 * @text shows multiprocessing (a frame of `multiprocessing/` or
 * `concurrent/futures/process.py`, a pool, a manager, a process); without
 * it, it goes to the report's @general list instead.
 *
 * Escape sequences in @text are left out before matching. The time taken
 * is linear in @length.
 *
 * An empty (or all blank) text, or one longer than %MP_EXPLAIN_MAX_TEXT,
 * is %MP_ERROR_INVALID_ARGUMENT, whose message gives the text's length.
 * A text that matches nothing is no error: both lists are empty.
 *
 * Returns: (transfer full) (nullable): the report, or %NULL with @error
 *   set.
 *
 * Since: 0.1
 */
MpExplainReport *
mp_explain_report (const char  *text,
                   gssize       length,
                   GError     **error)
{
  g_auto(Haystack) hay = { 0 };
  g_autoptr(GArray) candidates = NULL;
  g_autoptr(GArray) general = NULL;
  MpExplainReport *report;
  gsize n_entries;
  const MpCatalogEntry *entries;
  gsize len;
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

  hay.shifts = g_array_new (FALSE, FALSE, sizeof (Shift));
  hay.clean = clean_text (text, len, &hay.length, hay.shifts);
  hay.text = lower_bytes (hay.clean, hay.length);
  hay.lines = g_array_new (FALSE, FALSE, sizeof (gsize));
  hay.blocks = g_array_new (FALSE, FALSE, sizeof (gsize));
  hay.paragraphs = g_array_new (FALSE, FALSE, sizeof (gsize));
  find_structure (&hay);
  hay.mp_at = find_any (&hay, mp_signs, 0, hay.length, &hay.mp_term);

  candidates = g_array_new (FALSE, FALSE, sizeof (Candidate));
  general = g_array_new (FALSE, FALSE, sizeof (Candidate));
  g_array_set_clear_func (candidates, candidate_clear);
  g_array_set_clear_func (general, candidate_clear);
  add_tags (&hay, candidates);
  entries = mp_catalog_get_entries (&n_entries);
  for (gsize i = 0; i < n_entries; i++)
    if (entries[i].kind == MP_CATALOG_PITFALL)
      add_rules (&hay, &entries[i], candidates, general);
  for (gsize i = 0; i < G_N_ELEMENTS (symptoms); i++)
    add_symptom (&hay, &symptoms[i], candidates);
  add_checks (&hay, candidates);

  report = g_new0 (MpExplainReport, 1);
  report->matches = matches_from (&hay, candidates);
  report->general = matches_from (&hay, general);
  report->length = len;
  report->escapes = hay.shifts->len;
  return report;
}

/**
 * mp_explain:
 * @text: as for mp_explain_report()
 * @length: the length of @text in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * The pitfalls of mp_explain_report(), best first.
 *
 * Returns: (transfer full) (element-type MpExplainMatch) (nullable): the
 *   matches, empty when nothing matches, or %NULL with @error set.
 *
 * Since: 0.1
 */
GPtrArray *
mp_explain (const char  *text,
            gssize       length,
            GError     **error)
{
  g_autoptr(MpExplainReport) report = NULL;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  report = mp_explain_report (text, length, error);
  if (report == NULL)
    return NULL;
  return g_steal_pointer (&report->matches);
}

/**
 * mp_explain_ids:
 * @text: as for mp_explain_report()
 * @length: the length of @text in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * The ids of mp_explain()'s matches, best first.
 *
 * Returns: (transfer full) (nullable): a %NULL-terminated array of ids,
 *   empty when nothing matches, or %NULL with @error set.
 *
 * Since: 0.1
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
