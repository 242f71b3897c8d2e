/* demo-text.c — everything a person reads fits 80 columns
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-text.h"

#include <stdio.h>
#include <string.h>

/* Length in bytes of the escape sequence at @p (ESC [ params final), or 0. */
static gsize
escape_length (const char *p)
{
  gsize n = 2;

  if (p[0] != '\033' || p[1] != '[')
    return 0;
  while (p[n] != '\0' && !(p[n] >= 0x40 && p[n] <= 0x7e))
    n++;
  return p[n] != '\0' ? n + 1 : n;
}

guint
demo_text_columns (const char *text)
{
  guint columns = 0;

  g_return_val_if_fail (text != NULL, 0);

  for (const char *p = text; *p != '\0'; )
    {
      gsize skip = escape_length (p);
      gunichar c;

      if (skip > 0)
        {
          p += skip;
          continue;
        }
      c = g_utf8_get_char_validated (p, -1);
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          /* not UTF-8: one column a byte, as a terminal shows a box */
          columns++;
          p++;
          continue;
        }
      columns += g_unichar_iswide (c) ? 2 : g_unichar_iszerowidth (c) ? 0 : 1;
      p = g_utf8_next_char (p);
    }
  return columns;
}

/* Bytes of @line before its text starts, and the columns a continuation
 * line is indented by: the leading blanks, then one marker the demos
 * start lines with ("| label: ", "| ", "=> ", "!! ", "- ", "* ",
 * "Step N. ", "Fix: " ...). @box: the continuation starts with "|". */
static gsize
hanging_indent (const char *line,
                guint      *columns,
                gboolean   *box)
{
  static GRegex *marker;
  g_autoptr(GMatchInfo) match = NULL;
  gsize blanks = strspn (line, " ");
  int start, end;

  if (g_once_init_enter (&marker))
    g_once_init_leave (&marker,
                               g_regex_new ("^(?:\\| (?:[A-Za-z][a-z ]{0,12}: +)?|=> |!! |[-*] |"
                                            "Step \\d+\\. |[A-Z][a-z]+( [a-z]+)?: |"
                                            "\\d+\\. |\\[[^] ]{1,20}\\] )",
                                            G_REGEX_OPTIMIZE, 0, NULL));
  *box = line[blanks] == '|';
  if (g_regex_match (marker, line + blanks, 0, &match) &&
      g_match_info_fetch_pos (match, 0, &start, &end))
    {
      g_autofree char *prefix = g_strndup (line, blanks + end);
      guint width = demo_text_columns (prefix);

      /* a marker that takes most of the line is no indent */
      if (width <= DEMO_TEXT_WIDTH / 2)
        {
          *columns = width;
          return blanks + end;
        }
    }
  *box = FALSE;
  *columns = blanks <= DEMO_TEXT_WIDTH / 2 ? blanks : 0;
  return blanks;
}

/* Appends the longest start of @word that fits @room columns (at least
 * one character); returns the bytes taken. */
static gsize
take_columns (GString    *out,
              const char *word,
              gsize       length,
              guint       room)
{
  gsize at = 0;
  guint used = 0;

  while (at < length)
    {
      gsize skip = escape_length (word + at);
      const char *next;
      g_autofree char *one = NULL;
      guint w;

      if (skip > 0)
        {
          at += skip;
          continue;
        }
      next = g_utf8_find_next_char (word + at, word + length);
      if (next == NULL)
        next = word + length;
      one = g_strndup (word + at, next - (word + at));
      w = demo_text_columns (one);
      if (used + w > room && used > 0)
        break;
      used += w;
      at = next - word;
    }
  g_string_append_len (out, word, at);
  return at;
}

char *
demo_text_wrap (const char *line,
                guint       width)
{
  g_autoptr(GString) out = NULL;
  g_autofree char *continuation = NULL;
  guint indent, column;
  gboolean box;
  gsize start;
  const char *p;

  g_return_val_if_fail (line != NULL, NULL);
  g_return_val_if_fail (width >= 20, NULL);

  if (demo_text_columns (line) <= width)
    return g_strdup (line);

  start = hanging_indent (line, &indent, &box);
  continuation = g_strnfill (indent, ' ');
  if (box && indent > 0)
    continuation[strspn (line, " ")] = '|';

  out = g_string_new_len (line, start);
  column = indent;
  p = line + start;
  while (*p != '\0')
    {
      gsize spaces = strspn (p, " ");
      const char *word = p + spaces;
      gsize length = strcspn (word, " ");
      g_autofree char *text = g_strndup (word, length);
      guint w = demo_text_columns (text);

      if (length == 0)
        break;   /* trailing blanks: dropped */
      if (column > indent && column + spaces + w > width)
        {
          /* the break: the blanks before the word go */
          g_string_append_c (out, '\n');
          g_string_append (out, continuation);
          column = indent;
          spaces = 0;
        }
      else if (column > indent || out->len > start)
        {
          g_string_append_len (out, p, spaces);
          column += spaces;
        }
      /* a word wider than the room: split, nothing cut */
      while (column + w > width)
        {
          gsize taken = take_columns (out, word, length, width - column);
          g_autofree char *rest = NULL;

          word += taken;
          length -= taken;
          g_string_append_c (out, '\n');
          g_string_append (out, continuation);
          column = indent;
          rest = g_strndup (word, length);
          w = demo_text_columns (rest);
        }
      g_string_append_len (out, word, length);
      column += w;
      p = word + length;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

guint
demo_text_width (void)
{
  const char *columns = g_getenv ("COLUMNS");
  guint64 width;

  if (columns != NULL && g_ascii_string_to_unsigned (columns, 10, 40, G_MAXINT, &width, NULL))
    return (guint) width;
  return DEMO_TEXT_WIDTH;
}

/* ---- the print handlers -------------------------------------------------- */

typedef struct {
  FILE    *stream;
  GString *line;       /* a line begun without its newline, already out */
} Sink;

static Sink sinks[2];
static GMutex sink_lock;

/* Written in one piece: other processes write to the same terminal or
 * pipe, and half a line of theirs must not land inside one of ours. */
static void
sink_write (Sink       *sink,
            const char *text)
{
  g_autoptr(GString) out = g_string_new (NULL);

  g_mutex_lock (&sink_lock);
  for (const char *p = text; *p != '\0'; )
    {
      const char *nl = strchr (p, '\n');

      if (nl == NULL)
        {
          /* a prompt: out now, its line no longer wrapped */
          g_string_append (out, p);
          g_string_append (sink->line, p);
          break;
        }
      if (sink->line->len > 0)
        {
          g_string_append_len (out, p, nl - p + 1);
          g_string_truncate (sink->line, 0);
        }
      else
        {
          g_autofree char *line = g_strndup (p, nl - p);
          g_autofree char *wrapped = demo_text_wrap (line, demo_text_width ());

          g_string_append (out, wrapped);
          g_string_append_c (out, '\n');
        }
      p = nl + 1;
    }
  fwrite (out->str, 1, out->len, sink->stream);
  fflush (sink->stream);
  g_mutex_unlock (&sink_lock);
}

static void
print_out (const char *text)
{
  sink_write (&sinks[0], text);
}

static void
print_err (const char *text)
{
  /* what is on stdout goes first, as with a terminal */
  fflush (stdout);
  sink_write (&sinks[1], text);
}

void
demo_text_install (void)
{
  if (sinks[0].line != NULL)
    return;
  sinks[0] = (Sink) { stdout, g_string_new (NULL) };
  sinks[1] = (Sink) { stderr, g_string_new (NULL) };
  g_set_print_handler (print_out);
  g_set_printerr_handler (print_err);
}

/* The library's words for an object whose class is private to GLib: the
 * class, then the public one it derives from (lib/mp-serialize.c); any
 * run of white space between words, so that a text already wrapped (a
 * trace summary) reads the same. */
#define PRIVATE_CLASS_PATTERN \
  "\\b[A-Za-z_][A-Za-z0-9_]*\\s+holds\\s+a\\s+live\\s+OS\\s+handle\\s+" \
  "\\(it\\s+is\\s+(an?)\\s+([A-Za-z_][A-Za-z0-9_]*)\\)"

char *
demo_text_public_types (const char *message)
{
  /* compiled per call: error boxes are few */
  g_autoptr(GRegex) private_class = g_regex_new (PRIVATE_CLASS_PATTERN, 0, 0, NULL);
  char *plain;

  g_return_val_if_fail (message != NULL, NULL);

  plain = g_regex_replace (private_class, message, -1, 0,
                           "\\1 \\2 holds a live OS handle", 0, NULL);
  return plain != NULL ? plain : g_strdup (message);
}
