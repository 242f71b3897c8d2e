/* test-docs.c — the docs agree with the catalog and with what the programs print
 *
 * Pages under docs/ quote programs. A quote is checked when a marker comment
 * stands on the line just before its fenced block:
 *
 *   <!-- output: demos/broken-pool --broken -->   run $MP_DEMO_DIR/broken-pool
 *   <!-- output exit=1: demos/mpshare explain "hi" -->  ... expecting status 1
 *   <!-- pending-output: demos/lost-update --broken -->  demo not built yet
 *   <!-- python: tests/data/python-3.11/broken-pool.txt -->  a captured text
 *   <!-- program: demos/python/broken-pool-broken.py -->  a whole program
 *   <!-- explain: lost-update -->   `mpshare explain` must name this id first
 *
 * In a checked block every line must appear in the real text, in order
 * (other lines may sit between them). `...` inside a line matches any run
 * of characters (pids, timings); a line that is only `...` marks a gap. A
 * line ending in a backslash continues on the next one, whose indentation
 * is dropped, so long messages fit 80 columns. An output block may start
 * with the command as a reader types it, `$ build/demos/...`: it must be the
 * marker's command. `< FILE` at the end of a command feeds FILE (relative
 * to the source root) on standard input.
 *
 * An excerpt of a demo that is not built yet must be marked pending: it is
 * then skipped with the reason, never passed; once the demo is built the
 * pending mark fails until the real output replaces the guess.
 *
 * A program block is compared with its file line for line: a page quotes a
 * Python program of demos/python/ whole and as it is.
 *
 * For every catalog id: a demo binary, a page with its sections and both
 * of its Python programs (demos/python/ID-broken.py, ID-fixed.py), an explain
 * rule matching the page's quoted Python message (or its explain block for
 * a silent pitfall), and a row in tests/test-demos.c. No python needed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "mpshare.h"
#include "test-common.h"

#define MAX_COLUMNS    80
#define RUN_BACKSTOP_S 180

typedef enum {
  BLOCK_OUTPUT,
  BLOCK_PENDING,
  BLOCK_PYTHON,
  BLOCK_EXPLAIN,
  BLOCK_PROGRAM,
} BlockKind;

typedef struct {
  const struct _Doc *doc;
  guint              line;         /* of the marker, 1-based */
  guint              fence_open;   /* the block's fence lines, 1-based */
  guint              fence_close;
  BlockKind          kind;
  char              *arg;          /* command, file or pitfall id */
  int                exit_status;  /* expected, for outputs */
  GPtrArray         *lines;        /* logical lines, continuations joined */
} Block;

typedef struct _Doc {
  char      *name;       /* relative to docs/, e.g. "pitfalls/broken-pool.md" */
  char      *text;
  GPtrArray *blocks;     /* of Block */
  GPtrArray *problems;   /* of char *: marker syntax found wrong */
  GPtrArray *commands;   /* of Command: `$ build/demos/...` in other blocks */
  GPtrArray *shell;      /* of Command: the lines of a lab sheet's sh blocks */
  GPtrArray *pending_api; /* of char *: headers named by pending-api */
} Doc;

typedef struct {
  const Doc *doc;
  guint      line;
  char      *text;       /* after "$ build/"; a sh block's line whole */
} Command;

typedef struct {
  int   status;
  char *output;
} RunResult;

static char       *source_root;   /* the project's source tree */
static GPtrArray  *docs;          /* of Doc, sorted by name */
static GHashTable *run_cache;     /* command -> RunResult */

/* ---- small helpers ------------------------------------------------------ */

static void
block_free (gpointer data)
{
  Block *b = data;

  g_free (b->arg);
  g_ptr_array_unref (b->lines);
  g_free (b);
}

static void
command_free (gpointer data)
{
  Command *c = data;

  g_free (c->text);
  g_free (c);
}

static void
doc_free (gpointer data)
{
  Doc *d = data;

  g_free (d->name);
  g_free (d->text);
  g_ptr_array_unref (d->blocks);
  g_ptr_array_unref (d->problems);
  g_ptr_array_unref (d->commands);
  g_ptr_array_unref (d->shell);
  g_ptr_array_unref (d->pending_api);
  g_free (d);
}

static void
run_result_free (gpointer data)
{
  RunResult *r = data;

  g_free (r->output);
  g_free (r);
}

static char *
source_path (const char *relative)
{
  return g_build_filename (source_root, relative, NULL);
}

static char *
demo_binary (const char *demo)
{
  const char *dir = g_getenv ("MP_DEMO_DIR");

  return dir == NULL ? NULL : g_build_filename (dir, demo, NULL);
}

static gboolean
demo_is_built (const char *demo)
{
  g_autofree char *path = demo_binary (demo);

  return path != NULL && g_file_test (path, G_FILE_TEST_IS_EXECUTABLE);
}

/* A demo has landed when demos/meson.build lists it: then its binary must
 * exist, and a missing one is a failure, not a pending page. */
static gboolean
demo_has_landed (const char *demo)
{
  g_autofree char *path = source_path ("demos/meson.build");
  g_autofree char *text = NULL;
  g_autofree char *quoted = g_strdup_printf ("'%s'", demo);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return FALSE;
  return strstr (text, quoted) != NULL;
}

static char *
strip_trailing (const char *line)
{
  return g_strchomp (g_strdup (line));
}

/* Does @line match @pattern, where "..." in the pattern matches any run of
 * characters? Both are compared without trailing white space. */
static gboolean
line_matches (const char *pattern,
              const char *line)
{
  g_autofree char *p = strip_trailing (pattern);
  g_autofree char *l = strip_trailing (line);
  g_auto(GStrv) parts = g_strsplit (p, "...", -1);
  guint n = g_strv_length (parts);
  const char *at = l;

  if (n == 1)
    return g_str_equal (p, l);
  if (!g_str_has_prefix (l, parts[0]))
    return FALSE;
  at += strlen (parts[0]);
  for (guint i = 1; i + 1 < n; i++)
    {
      const char *found = strstr (at, parts[i]);

      if (found == NULL)
        return FALSE;
      at = found + strlen (parts[i]);
    }
  return strlen (at) >= strlen (parts[n - 1]) &&
         g_str_has_suffix (at, parts[n - 1]);
}

/* Every pattern line, in order, against @text. Greedy earliest matching is
 * exact for a subsequence of independent line patterns. Returns the first
 * pattern that found no line, or NULL. */
static const char *
first_unmatched (GPtrArray  *patterns,
                 guint       first,
                 const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint at = 0;

  for (guint i = first; i < patterns->len; i++)
    {
      const char *pattern = g_ptr_array_index (patterns, i);
      g_autofree char *bare = g_strstrip (g_strdup (pattern));

      if (*bare == '\0' || g_str_equal (bare, "..."))
        continue;
      while (lines[at] != NULL && !line_matches (pattern, lines[at]))
        at++;
      if (lines[at] == NULL)
        return pattern;
      at++;
    }
  return NULL;
}

static char *
block_text (const Block *b)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < b->lines->len; i++)
    g_string_append_printf (text, "%s\n", (char *) g_ptr_array_index (b->lines, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ---- reading the docs ----------------------------------------------------- */

static gboolean
is_fence (const char *line)
{
  const char *l = line;

  while (*l == ' ')
    l++;
  return g_str_has_prefix (l, "```");
}

/* "<!-- KIND[ exit=N][: ARG] -->" on a line of its own; FALSE if the line
 * is no comment at all. */
static gboolean
parse_marker (const char  *line,
              char       **kind,
              char       **arg,
              int         *exit_status)
{
  g_autofree char *inner = NULL;
  g_autofree char *head = NULL;
  g_auto(GStrv) words = NULL;
  const char *colon;
  gsize len = strlen (line);

  if (!g_str_has_prefix (line, "<!--") || len < 7 ||
      !g_str_has_suffix (line, "-->"))
    return FALSE;
  inner = g_strstrip (g_strndup (line + 4, len - 7));
  colon = strchr (inner, ':');
  head = colon != NULL ? g_strndup (inner, colon - inner) : g_strdup (inner);
  words = g_strsplit (g_strstrip (head), " ", -1);
  *kind = g_strdup (words[0]);
  *arg = colon != NULL ? g_strstrip (g_strdup (colon + 1)) : NULL;
  *exit_status = 0;
  for (guint i = 1; words[i] != NULL; i++)
    if (g_str_has_prefix (words[i], "exit="))
      *exit_status = atoi (words[i] + 5);
  return TRUE;
}

/* The lines of the fenced block starting at @lines[*i], continuations
 * joined; *i is left on the closing fence. */
static GPtrArray *
read_fenced (char  **lines,
             guint  *i)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  GString *logical = NULL;

  for ((*i)++; lines[*i] != NULL && !is_fence (lines[*i]); (*i)++)
    {
      const char *line = lines[*i];
      gsize len = strlen (line);
      gboolean continues = len > 0 && line[len - 1] == '\\';

      if (logical == NULL)
        logical = g_string_new (NULL);
      else
        while (*line == ' ')
          line++, len--;
      g_string_append_len (logical, line, continues ? (gssize) len - 1 : (gssize) len);
      if (!continues)
        g_ptr_array_add (out, g_string_free (g_steal_pointer (&logical), FALSE));
    }
  if (logical != NULL)
    g_ptr_array_add (out, g_string_free (logical, FALSE));
  return out;
}

static void
add_problem (Doc        *doc,
             guint       line,
             const char *format,
             ...) G_GNUC_PRINTF (3, 4);

static void
add_problem (Doc        *doc,
             guint       line,
             const char *format,
             ...)
{
  va_list ap;
  g_autofree char *what = NULL;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_ptr_array_add (doc->problems, g_strdup_printf ("docs/%s:%u: %s", doc->name,
                                                   line, what));
}

static gboolean
kind_from_string (const char *kind,
                  BlockKind  *out)
{
  static const struct { const char *name; BlockKind kind; } kinds[] = {
    { "output", BLOCK_OUTPUT },
    { "pending-output", BLOCK_PENDING },
    { "python", BLOCK_PYTHON },
    { "explain", BLOCK_EXPLAIN },
    { "program", BLOCK_PROGRAM },
  };

  for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
    if (g_str_equal (kind, kinds[k].name))
      {
        *out = kinds[k].kind;
        return TRUE;
      }
  return FALSE;
}

static void
collect_commands (Doc        *doc,
                  GPtrArray  *block_lines,
                  guint       first_line)
{
  for (guint j = 0; j < block_lines->len; j++)
    {
      const char *l = g_ptr_array_index (block_lines, j);

      while (*l == ' ')
        l++;
      if (g_str_has_prefix (l, "$ build/demos/"))
        {
          Command *c = g_new0 (Command, 1);

          c->doc = doc;
          c->line = first_line + j;
          c->text = g_strdup (l + strlen ("$ build/"));
          g_ptr_array_add (doc->commands, c);
        }
    }
}

/* A lab sheet's ```sh block holds only commands a student pastes as they
 * are; each logical line (continuations joined) is kept with its first
 * line's number. *i is left on the closing fence. */
static void
collect_shell (Doc    *doc,
               char  **lines,
               guint  *i)
{
  GString *logical = NULL;
  guint first = 0;

  for ((*i)++; lines[*i] != NULL && !is_fence (lines[*i]); (*i)++)
    {
      const char *line = lines[*i];
      gsize len = strlen (line);
      gboolean continues = len > 0 && line[len - 1] == '\\';

      if (logical == NULL)
        {
          logical = g_string_new (NULL);
          first = *i + 1;
        }
      else
        while (*line == ' ')
          line++, len--;
      g_string_append_len (logical, line, continues ? (gssize) len - 1 : (gssize) len);
      if (!continues)
        {
          char *text = g_strstrip (g_string_free (g_steal_pointer (&logical), FALSE));
          Command *c;

          if (*text == '\0')
            {
              g_free (text);
              continue;
            }
          c = g_new0 (Command, 1);
          c->doc = doc;
          c->line = first;
          c->text = text;
          g_ptr_array_add (doc->shell, c);
        }
    }
  if (logical != NULL)
    g_string_free (logical, TRUE);
}

/* A marker too long for 80 columns goes on over several lines, each but
 * the last ending in a backslash; *i is left on its last line. */
static char *
join_marker (char  **lines,
             guint  *i)
{
  GString *joined = g_string_new (lines[*i]);

  while (joined->len > 0 && joined->str[joined->len - 1] == '\\' &&
         lines[*i + 1] != NULL)
    {
      const char *next = lines[++(*i)];

      g_string_truncate (joined, joined->len - 1);
      while (*next == ' ')
        next++;
      g_string_append (joined, next);
    }
  return g_string_free (joined, FALSE);
}

static Doc *
doc_load (const char *docs_dir,
          const char *name)
{
  g_autofree char *path = g_build_filename (docs_dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  Doc *doc = g_new0 (Doc, 1);

  doc->name = g_strdup (name);
  doc->blocks = g_ptr_array_new_with_free_func (block_free);
  doc->problems = g_ptr_array_new_with_free_func (g_free);
  doc->commands = g_ptr_array_new_with_free_func (command_free);
  doc->shell = g_ptr_array_new_with_free_func (command_free);
  doc->pending_api = g_ptr_array_new_with_free_func (g_free);
  g_file_get_contents (path, &doc->text, NULL, &error);
  g_assert_no_error (error);

  lines = g_strsplit (doc->text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *marker = NULL;
      g_autofree char *kind = NULL;
      g_autofree char *arg = NULL;
      guint marker_line = i + 1;
      int exit_status;
      BlockKind block_kind;
      Block *b;

      if (g_str_has_prefix (name, "labs/") && g_str_equal (lines[i], "```sh"))
        {
          guint start = i + 1;

          collect_shell (doc, lines, &i);
          if (lines[i] != NULL)
            continue;
          add_problem (doc, start, "a fenced block is never closed");
          break;
        }
      if (is_fence (lines[i]))
        {
          guint start = i + 2;
          g_autoptr(GPtrArray) inside = read_fenced (lines, &i);

          collect_commands (doc, inside, start);
          if (lines[i] != NULL)
            continue;
          add_problem (doc, start - 1, "a fenced block is never closed");
          break;
        }
      if (!g_str_has_prefix (lines[i], "<!--"))
        continue;
      marker = join_marker (lines, &i);
      if (!parse_marker (marker, &kind, &arg, &exit_status))
        continue;
      if (g_str_equal (kind, "pending-api"))
        {
          if (arg == NULL)
            add_problem (doc, marker_line, "pending-api needs a header name");
          else
            g_ptr_array_add (doc->pending_api, g_strdup (arg));
          continue;
        }
      /* the catalog block of a page: test_catalog_summary() reads it */
      if (g_str_equal (kind, "catalog") || g_str_equal (kind, "/catalog"))
        continue;
      if (!kind_from_string (kind, &block_kind))
        {
          add_problem (doc, marker_line, "unknown marker '%s'", kind);
          continue;
        }
      if (arg == NULL || *arg == '\0')
        {
          add_problem (doc, marker_line, "marker '%s' needs an argument", kind);
          continue;
        }
      if (lines[i + 1] == NULL || !is_fence (lines[i + 1]))
        {
          add_problem (doc, marker_line, "marker '%s' is not followed by a fenced block",
                       kind);
          continue;
        }
      b = g_new0 (Block, 1);
      b->doc = doc;
      b->line = marker_line;
      b->kind = block_kind;
      b->arg = g_steal_pointer (&arg);
      b->exit_status = exit_status;
      i++;
      b->fence_open = i + 1;
      b->lines = read_fenced (lines, &i);
      b->fence_close = i + 1;
      g_ptr_array_add (doc->blocks, b);
      if (lines[i] == NULL)
        {
          add_problem (doc, b->line, "a fenced block is never closed");
          break;
        }
    }
  return doc;
}

static void
collect_doc_names (const char *docs_dir,
                   const char *sub,
                   GPtrArray  *names)
{
  g_autofree char *dir_path = g_build_filename (docs_dir, sub, NULL);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *entry;

  if (dir == NULL)
    return;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *rel = *sub ? g_build_filename (sub, entry, NULL) : g_strdup (entry);
      g_autofree char *full = g_build_filename (docs_dir, rel, NULL);

      if (g_file_test (full, G_FILE_TEST_IS_DIR))
        collect_doc_names (docs_dir, rel, names);
      else if (g_str_has_suffix (entry, ".md"))
        g_ptr_array_add (names, g_steal_pointer (&rel));
    }
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char * const *) a, *(char * const *) b);
}

static const Doc *
doc_find (const char *name)
{
  for (guint i = 0; i < docs->len; i++)
    {
      const Doc *d = g_ptr_array_index (docs, i);

      if (g_str_equal (d->name, name))
        return d;
    }
  return NULL;
}

/* ---- running the commands a page quotes ------------------------------------ */

/* Runs "demos/NAME ARG... [< FILE]" from the source root, standard error
 * merged into standard output; cached, so each command runs once. */
static const RunResult *
run_command (const char *command)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autofree char *label = NULL;
  RunResult *r = g_hash_table_lookup (run_cache, command);
  char *program;
  int argc;
  GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE;

  if (r != NULL)
    return r;

  g_shell_parse_argv (command, &argc, &argv, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (argv[0], "demos/"));
  launcher = g_subprocess_launcher_new (flags);
  if (argc >= 3 && g_str_equal (argv[argc - 2], "<"))
    {
      g_autofree char *input = source_path (argv[argc - 1]);

      g_assert_true (g_file_test (input, G_FILE_TEST_IS_REGULAR));
      g_subprocess_launcher_set_stdin_file_path (launcher, input);
      g_clear_pointer (&argv[argc - 2], g_free);
      g_clear_pointer (&argv[argc - 1], g_free);
    }
  else
    g_subprocess_launcher_set_stdin_file_path (launcher, "/dev/null");
  program = demo_binary (argv[0] + strlen ("demos/"));
  g_free (argv[0]);
  argv[0] = program;
  g_subprocess_launcher_set_cwd (launcher, source_root);
  g_subprocess_launcher_setenv (launcher, "NO_COLOR", "1", TRUE);
  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv, &error);
  g_assert_no_error (error);

  r = g_new0 (RunResult, 1);
  label = g_strdup_printf ("'%s'", command);
  r->output = test_communicate (child, label, RUN_BACKSTOP_S, &r->status);
  g_hash_table_insert (run_cache, g_strdup (command), r);
  return r;
}

/* the program a command runs: "broken-pool" for "demos/broken-pool --fixed" */
static char *
command_program (const char *command)
{
  const char *start = command + strlen ("demos/");
  const char *end = start + strcspn (start, " ");

  return g_strndup (start, end - start);
}

/* ---- the checks ----------------------------------------------------------- */

static void
test_doc_format (gconstpointer data)
{
  const Doc *doc = data;
  g_auto(GStrv) lines = g_strsplit (doc->text, "\n", -1);
  g_autoptr(GString) problems = g_string_new (NULL);
  guint n_lines = g_strv_length (lines);
  g_autofree gboolean *checked = g_new0 (gboolean, n_lines + 2);

  for (guint i = 0; i < doc->problems->len; i++)
    g_string_append_printf (problems, "\n  %s", (char *) g_ptr_array_index (doc->problems, i));
  for (guint i = 0; i < doc->blocks->len; i++)
    {
      const Block *b = g_ptr_array_index (doc->blocks, i);

      for (guint l = b->fence_open; l <= b->fence_close && l <= n_lines; l++)
        checked[l] = TRUE;
    }

  for (guint i = 0; lines[i] != NULL; i++)
    {
      glong columns = g_utf8_strlen (lines[i], -1);

      if (columns > MAX_COLUMNS)
        g_string_append_printf (problems, "\n  docs/%s:%u: %ld columns (at most %d)",
                                doc->name, i + 1, columns, MAX_COLUMNS);
      /* an mpshare message anywhere but a checked block is a hand-made
       * copy that nothing keeps true */
      if (!checked[i + 1] && strstr (lines[i], "[pitfall ") != NULL)
        g_string_append_printf (problems,
                                "\n  docs/%s:%u: an mpshare message outside a checked block",
                                doc->name, i + 1);
    }

  if (problems->len > 0)
    g_test_message ("problems:%s", problems->str);
  g_assert_cmpstr (problems->str, ==, "");
}

static void
check_output_block (const Block *b)
{
  g_autofree char *program = command_program (b->arg);
  const RunResult *r;
  const char *missing;
  guint first = 0;

  if (g_getenv ("MP_DEMO_DIR") == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  if (g_str_has_prefix (b->arg, "demos/mpshare check"))
    {
      g_autofree char *python = mp_check_find_python ();

      if (python == NULL)
        {
          g_test_skip ("no python3: mpshare check parses with Python's ast");
          return;
        }
    }
  if (b->kind == BLOCK_PENDING)
    {
      if (!demo_is_built (program))
        {
          g_autofree char *why = g_strdup_printf ("pending: demo %s is not built yet "
                                                  "(docs/%s:%u)", program, b->doc->name,
                                                  b->line);
          g_test_skip (why);
          return;
        }
      g_test_message ("docs/%s:%u: demo %s is built now: run '%s' and replace the "
                      "pending excerpt with its real output (marker output:)",
                      b->doc->name, b->line, program, b->arg);
      g_test_fail ();
      return;
    }
  if (!demo_is_built (program))
    {
      g_test_message ("docs/%s:%u: demo %s is not built%s", b->doc->name, b->line,
                      program, demo_has_landed (program) ? ""
                        : "; if it has not landed, mark the excerpt pending-output");
      g_test_fail ();
      return;
    }

  if (b->lines->len > 0 &&
      g_str_has_prefix (g_ptr_array_index (b->lines, 0), "$ "))
    {
      g_autofree char *typed = g_strdup_printf ("$ build/%s", b->arg);

      g_assert_cmpstr (g_ptr_array_index (b->lines, 0), ==, typed);
      first = 1;
    }

  r = run_command (b->arg);
  missing = first_unmatched (b->lines, first, r->output);
  if (missing != NULL || r->status != b->exit_status)
    g_test_message ("docs/%s:%u: '%s' exited %d (expected %d); first quoted line "
                    "not found in order:\n  %s\n---- its real output ----\n%s",
                    b->doc->name, b->line, b->arg, r->status, b->exit_status,
                    missing != NULL ? missing : "(none)", r->output);
  g_assert_cmpint (r->status, ==, b->exit_status);
  g_assert_null (missing);
}

static void
check_python_block (const Block *b)
{
  g_autofree char *path = source_path (b->arg);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  const char *missing;

  g_assert_true (g_str_has_prefix (b->arg, "tests/data/"));
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  missing = first_unmatched (b->lines, 0, text);
  if (missing != NULL)
    g_test_message ("docs/%s:%u: not in %s, in order: %s", b->doc->name, b->line,
                    b->arg, missing);
  g_assert_null (missing);
}

/* The block is the program, every line, in order, nothing more. */
static void
check_program_block (const Block *b)
{
  g_autofree char *path = source_path (b->arg);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  guint n;

  g_assert_true (g_str_has_prefix (b->arg, "demos/python/"));
  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  n = g_strv_length (lines);
  if (n > 0 && lines[n - 1][0] == '\0')
    n--;                        /* the newline that ends the last line */
  for (guint i = 0; i < MAX (n, b->lines->len); i++)
    {
      const char *want = i < n ? lines[i] : "(the end of the file)";
      const char *quoted = i < b->lines->len ? g_ptr_array_index (b->lines, i)
                                             : "(the end of the quote)";

      if (!g_str_equal (want, quoted))
        g_test_message ("docs/%s:%u: line %u of the quote differs from %s:\n"
                        "  quoted: %s\n  file:   %s", b->doc->name, b->fence_open + 1 + i,
                        i + 1, b->arg, quoted, want);
      g_assert_cmpstr (quoted, ==, want);
    }
}

static void
check_explain_block (const Block *b)
{
  g_autofree char *text = block_text (b);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = mp_explain_ids (text, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (mp_catalog_lookup (b->arg, &error));
  g_assert_no_error (error);
  if (ids[0] == NULL || !g_str_equal (ids[0], b->arg))
    g_test_message ("docs/%s:%u: explain names %s first, the marker says %s",
                    b->doc->name, b->line, ids[0] ? ids[0] : "nothing", b->arg);
  g_assert_cmpstr (ids[0], ==, b->arg);
}

static void
test_block (gconstpointer data)
{
  const Block *b = data;

  switch (b->kind)
    {
    case BLOCK_OUTPUT:
    case BLOCK_PENDING:
      check_output_block (b);
      break;
    case BLOCK_PYTHON:
      check_python_block (b);
      break;
    case BLOCK_EXPLAIN:
      check_explain_block (b);
      break;
    case BLOCK_PROGRAM:
      check_program_block (b);
      break;
    default:
      g_assert_not_reached ();
    }
}

/* The options a demo (or `mpshare run`'s demo) offers, from its --help. */
static const RunResult *
help_of (const char *program)
{
  g_autofree char *command = g_strdup_printf ("demos/%s --help", program);

  return run_command (command);
}

static void
test_command (gconstpointer data)
{
  const Command *c = data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) argv = NULL;
  g_autofree char *program = NULL;
  const char *demo;
  guint first_option = 1;
  const RunResult *help;

  g_shell_parse_argv (c->text, NULL, &argv, &error);
  g_assert_no_error (error);
  program = command_program (c->text);
  g_test_message ("docs/%s:%u: %s", c->doc->name, c->line, c->text);

  demo = program;
  if (g_str_equal (program, "mpshare"))
    {
      const char *const subcommands[] = { "list", "run", "tour", "explain", "check", NULL };

      g_assert_nonnull (argv[1]);
      g_assert_true (g_strv_contains (subcommands, argv[1]));
      if (!g_str_equal (argv[1], "run"))
        return;   /* run by the blocks that quote them, if quoted */
      g_assert_nonnull (argv[2]);
      demo = argv[2];
      first_option = 3;
    }
  g_assert_nonnull (mp_catalog_lookup (demo, &error));
  g_assert_no_error (error);

  if (!demo_is_built (demo))
    {
      g_autofree char *why = g_strdup_printf ("demo %s is not built yet: its options "
                                              "are unchecked", demo);

      g_assert_false (demo_has_landed (demo));
      g_test_skip (why);
      return;
    }
  help = help_of (demo);
  g_assert_cmpint (help->status, ==, 0);
  for (guint i = first_option; argv[i] != NULL; i++)
    {
      g_autofree char *option = NULL;

      if (!g_str_has_prefix (argv[i], "--"))
        continue;
      option = g_strndup (argv[i], strcspn (argv[i], "="));
      if (strstr (help->output, option) == NULL)
        g_test_message ("%s has no option %s", demo, option);
      g_assert_nonnull (strstr (help->output, option));
    }
}

/* ---- the lab sheets' commands ------------------------------------------------ */

/* The steps of the README's first command (the one that installs, builds
 * and runs the demos), split at "&&": a sheet's set-up lines must be made
 * of these, since a test cannot install packages or build the tree. */
static GStrv
readme_setup_steps (void)
{
  g_autofree char *path = source_path ("README.md");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GStrvBuilder) steps = g_strv_builder_new ();
  guint i = 0;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  lines = g_strsplit (text, "\n", -1);
  while (lines[i] != NULL && !g_str_equal (lines[i], "<!-- demo-command -->"))
    i++;
  g_assert_nonnull (lines[i]);
  g_assert_true (lines[i + 1] != NULL && is_fence (lines[i + 1]));
  g_assert_nonnull (lines[i + 2]);
  {
    g_auto(GStrv) parts = g_strsplit (lines[i + 2], " && ", -1);

    /* the last step runs the tour: a sheet runs its own demos instead */
    for (guint p = 0; parts[p] != NULL; p++)
      if (!g_str_has_prefix (parts[p], "./build/demos/"))
        g_strv_builder_add (steps, g_strstrip (parts[p]));
  }
  return g_strv_builder_end (steps);
}

/* "build/demos/X ARG... [# exits N[ or M]]" -> "demos/X ARG..." and the
 * statuses the sheet allows (0 when it says none; M for a result that
 * varies from run to run, which the sheet must explain); NULL for a line
 * that is no demo command. */
static char *
sheet_demo_command (const char *line,
                    int        *exit_status,
                    int        *or_status,
                    GError    **error)
{
  g_autoptr(GRegex) re = g_regex_new ("^build/(demos/[^#]*?)\\s*"
                                      "(#\\s*exits\\s+([0-9]+)"
                                      "(\\s+or\\s+([0-9]+))?\\s*)?$", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *status = NULL;
  g_autofree char *other = NULL;

  *exit_status = 0;
  *or_status = -1;
  if (!g_str_has_prefix (line, "build/demos/"))
    return NULL;
  if (!g_regex_match (re, line, 0, &match))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "a comment the test cannot read (write '# exits N' or none)");
      return NULL;
    }
  status = g_match_info_fetch (match, 3);
  if (status != NULL && *status != '\0')
    *exit_status = atoi (status);
  other = g_match_info_fetch (match, 5);
  if (other != NULL && *other != '\0')
    *or_status = atoi (other);
  return g_match_info_fetch (match, 1);
}

/* One line of a lab sheet's sh block: pasted as it is, it must run and
 * exit as the sheet says; a set-up line must be the README's own steps. */
static void
test_shell_line (gconstpointer data)
{
  const Command *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *command = NULL;
  int expected;
  int or_expected;
  const RunResult *r;

  g_test_message ("docs/%s:%u: %s", c->doc->name, c->line, c->text);
  if (g_str_has_prefix (c->text, "$"))
    g_test_message ("a command block holds a prompt: drop the '$ '");
  g_assert_false (g_str_has_prefix (c->text, "$"));

  command = sheet_demo_command (c->text, &expected, &or_expected, &error);
  g_assert_no_error (error);
  if (command == NULL)
    {
      g_auto(GStrv) readme = readme_setup_steps ();
      g_auto(GStrv) parts = g_strsplit (c->text, " && ", -1);

      for (guint p = 0; parts[p] != NULL; p++)
        {
          g_autofree char *step = g_strstrip (g_strdup (parts[p]));

          if (!g_strv_contains ((const char * const *) readme, step))
            g_test_message ("'%s' is neither build/demos/... nor a step of "
                            "the README's first command", step);
          g_assert_true (g_strv_contains ((const char * const *) readme, step));
        }
      return;
    }

  if (g_getenv ("MP_DEMO_DIR") == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  if (g_str_has_prefix (command, "demos/mpshare check"))
    {
      g_autofree char *python = mp_check_find_python ();

      if (python == NULL)
        {
          g_test_skip ("no python3: mpshare check parses with Python's ast");
          return;
        }
    }
  r = run_command (command);
  if (r->status == or_expected)
    return;
  if (r->status != expected)
    g_test_message ("'%s' exited %d, the sheet says %d; its output:\n%s",
                    command, r->status, expected, r->output);
  g_assert_cmpint (r->status, ==, expected);
}

/* A sheet's set-up installs what the README installs and builds as it
 * builds: every step of the README's first command but the tour. */
static void
test_sheet_setup (gconstpointer data)
{
  const Doc *doc = data;
  g_auto(GStrv) readme = readme_setup_steps ();
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < doc->shell->len; i++)
    {
      const Command *c = g_ptr_array_index (doc->shell, i);
      g_auto(GStrv) parts = g_strsplit (c->text, " && ", -1);

      for (guint p = 0; parts[p] != NULL; p++)
        g_ptr_array_add (found, g_strstrip (g_strdup (parts[p])));
    }
  g_assert_nonnull (readme[0]);
  for (guint s = 0; readme[s] != NULL; s++)
    {
      gboolean there = FALSE;

      for (guint i = 0; i < found->len && !there; i++)
        there = g_str_equal (g_ptr_array_index (found, i), readme[s]);
      if (!there)
        g_test_message ("docs/%s: its set-up lacks the README's step '%s'",
                        doc->name, readme[s]);
      g_assert_true (there);
    }
  g_assert_nonnull (strstr (doc->text, "top of the mpshare source tree"));
}

/* ---- the catalog ---------------------------------------------------------- */

static char *
page_name (const MpCatalogEntry *e)
{
  return g_strdup_printf ("%s/%s.md", e->kind == MP_CATALOG_PITFALL ? "pitfalls" : "samples",
                          e->id);
}

static void
test_catalog_demo (gconstpointer data)
{
  const MpCatalogEntry *e = data;

  if (g_getenv ("MP_DEMO_DIR") == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  if (demo_is_built (e->demo))
    return;
  if (demo_has_landed (e->demo))
    {
      g_test_message ("demos/meson.build lists %s but it is not built", e->demo);
      g_test_fail ();
      return;
    }
  {
    g_autofree char *why = g_strdup_printf ("demo %s has not landed yet "
                                            "(not in demos/meson.build)", e->demo);
    g_test_skip (why);
  }
}

static gboolean
doc_has_heading (const Doc  *doc,
                 const char *heading)
{
  g_autofree char *line = g_strdup_printf ("\n## %s\n", heading);

  return strstr (doc->text, line) != NULL;
}

static void
test_catalog_page (gconstpointer data)
{
  const MpCatalogEntry *e = data;
  static const char *const pitfall_sections[] = {
    "Symptom", "Why it happens", "Reproduce", "Fix", "Check yourself", NULL };
  static const char *const sample_sections[] = {
    "What it does", "Run it", "How it works", "What to notice", NULL };
  const char *const *sections = e->kind == MP_CATALOG_PITFALL ? pitfall_sections
                                                               : sample_sections;
  g_autofree char *name = page_name (e);
  g_autofree char *title = g_strdup_printf ("# %s", e->id);
  g_autofree char *own = g_strdup_printf ("demos/%s", e->demo);
  g_autofree char *own_args = g_strdup_printf ("demos/%s ", e->demo);
  const Doc *doc = doc_find (name);
  gboolean quotes_demo = FALSE;

  if (doc == NULL)
    g_test_message ("docs/%s is missing", name);
  g_assert_nonnull (doc);
  g_assert_true (g_str_has_prefix (doc->text, title));
  for (guint i = 0; sections[i] != NULL; i++)
    {
      if (!doc_has_heading (doc, sections[i]))
        g_test_message ("docs/%s has no section '## %s'", name, sections[i]);
      g_assert_true (doc_has_heading (doc, sections[i]));
    }
  for (guint i = 0; i < doc->blocks->len; i++)
    {
      const Block *b = g_ptr_array_index (doc->blocks, i);

      if ((b->kind == BLOCK_OUTPUT || b->kind == BLOCK_PENDING) &&
          (g_str_equal (b->arg, own) || g_str_has_prefix (b->arg, own_args)))
        quotes_demo = TRUE;
    }
  if (!quotes_demo)
    g_test_message ("docs/%s quotes no run of its demo", name);
  g_assert_true (quotes_demo);

  /* reachable from the index, where the library's messages send students */
  {
    const Doc *index = doc_find ("README.md");
    g_autofree char *link = g_strdup_printf ("(%s)", name);

    g_assert_nonnull (index);
    if (strstr (index->text, link) == NULL)
      g_test_message ("docs/README.md does not link %s", name);
    g_assert_nonnull (strstr (index->text, link));
  }
}

/* Text of a page's catalog block as a reader sees it: quote marks,
 * emphasis, code marks and escapes dropped, white space collapsed. */
static char *
plain_words (const char *markdown)
{
  GString *out = g_string_new (NULL);
  g_auto(GStrv) lines = g_strsplit (markdown, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = lines[i];

      if (g_str_has_prefix (line, ">"))
        line++;
      for (const char *c = line; ; c++)
        {
          gboolean space = *c == '\0' || g_ascii_isspace (*c);

          if (space && out->len > 0 && out->str[out->len - 1] != ' ')
            g_string_append_c (out, ' ');
          else if (!space && *c != '*' && *c != '`' && *c != '\\')
            g_string_append_c (out, *c);
          if (*c == '\0')
            break;
        }
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

/* The catalog (lib/mp-catalog.c) is the one source of a pitfall's prose:
 * the page opens with its summary, cause, fix and Python's words in a
 * block between <!-- catalog --> and <!-- /catalog -->, word for word. */
static void
test_catalog_summary (gconstpointer data)
{
  const MpCatalogEntry *e = data;
  g_autofree char *name = page_name (e);
  const Doc *doc = doc_find (name);
  const char *open, *close;
  g_autofree char *block = NULL;
  g_autofree char *found = NULL;
  g_autofree char *wanted = NULL;
  g_autofree char *wanted_raw = NULL;
  gboolean pitfall = e->kind == MP_CATALOG_PITFALL;

  g_assert_nonnull (doc);
  open = strstr (doc->text, "<!-- catalog -->\n");
  close = open != NULL ? strstr (open, "<!-- /catalog -->") : NULL;
  if (close == NULL)
    g_test_message ("docs/%s has no <!-- catalog --> ... <!-- /catalog -->"
                    " block", name);
  g_assert_nonnull (close);
  open += strlen ("<!-- catalog -->\n");
  block = g_strndup (open, close - open);
  found = plain_words (block);
  wanted_raw = g_strdup_printf ("In short: %s. %s: %s %s: %s%s%s",
                                e->summary,
                                pitfall ? "Why" : "What it does", e->cause,
                                pitfall ? "Fix" : "Notice", e->fix,
                                e->python != NULL ? " Python says: " : "",
                                e->python != NULL ? e->python : "");
  wanted = plain_words (wanted_raw);
  if (!g_str_equal (found, wanted))
    g_test_message ("docs/%s: the catalog block differs from lib/mp-catalog.c"
                    "\n  page:    %s\n  catalog: %s", name, found, wanted);
  g_assert_cmpstr (found, ==, wanted);
}

/* The page's Python quotes name its pitfall; a silent pitfall (no Python
 * message) has an explain block instead. A pitfall with an MpError code
 * quotes the mpshare message, checked against the program. */
static void
test_catalog_explain (gconstpointer data)
{
  const MpCatalogEntry *e = data;
  g_autofree char *name = page_name (e);
  g_autofree char *tag = g_strdup_printf ("[pitfall %s]", e->id);
  const Doc *doc = doc_find (name);
  guint n_python = 0, n_explain = 0, n_tagged = 0;
  gboolean has_code = FALSE, has_python_words = FALSE;

  g_assert_nonnull (doc);
  g_assert_nonnull (e->rules);
  g_assert_nonnull (e->rules[0].needle);

  for (MpError code = 0; code < MP_ERROR_N_CODES; code++)
    if (g_strcmp0 (mp_error_pitfall_id (code), e->id) == 0)
      has_code = TRUE;

  for (guint i = 0; i < doc->blocks->len; i++)
    {
      const Block *b = g_ptr_array_index (doc->blocks, i);
      g_autofree char *text = block_text (b);

      if (b->kind == BLOCK_PYTHON)
        {
          /* the block is an excerpt (check_python_block() says of what):
           * explain is given the whole text, as a student pastes it */
          g_autofree char *path = source_path (b->arg);
          g_autofree char *whole = NULL;
          g_autoptr(GError) error = NULL;
          g_auto(GStrv) ids = NULL;

          g_file_get_contents (path, &whole, NULL, &error);
          g_assert_no_error (error);
          ids = mp_explain_ids (whole, -1, &error);
          g_autofree char *pattern = e->python ? g_strdup_printf ("...%s...", e->python) : NULL;

          g_assert_no_error (error);
          if (ids[0] == NULL || !g_str_equal (ids[0], e->id))
            g_test_message ("docs/%s:%u: explain names %s first, not %s", name, b->line,
                            ids[0] ? ids[0] : "nothing", e->id);
          g_assert_cmpstr (ids[0], ==, e->id);
          n_python++;
          /* Python breaks its long messages over several lines */
          if (pattern != NULL)
            {
              g_autoptr(GRegex) space = g_regex_new ("\\s+", 0, 0, NULL);
              g_autofree char *flat = g_regex_replace_literal (space, text, -1, 0, " ",
                                                               0, NULL);

              if (line_matches (pattern, flat))
                has_python_words = TRUE;
            }
        }
      else if (b->kind == BLOCK_EXPLAIN && g_str_equal (b->arg, e->id))
        n_explain++;
      else if ((b->kind == BLOCK_OUTPUT || b->kind == BLOCK_PENDING) &&
               strstr (text, tag) != NULL)
        n_tagged++;
    }

  if (e->python != NULL)
    {
      if (!has_python_words)
        g_test_message ("docs/%s quotes no Python message with \"%s\"", name, e->python);
      g_assert_cmpuint (n_python, >, 0);
      g_assert_true (has_python_words);
    }
  else
    {
      if (n_explain == 0)
        g_test_message ("docs/%s: a silent pitfall needs an explain block", name);
      g_assert_cmpuint (n_explain, >, 0);
    }
  if (has_code)
    {
      if (n_tagged == 0)
        g_test_message ("docs/%s quotes no mpshare message with %s", name, tag);
      g_assert_cmpuint (n_tagged, >, 0);
    }
}

/* The page quotes both Python programs of its id, whole (each quote is
 * checked against its file as a block). */
static void
test_catalog_python (gconstpointer data)
{
  const MpCatalogEntry *e = data;
  g_autofree char *name = page_name (e);
  const Doc *doc = doc_find (name);
  static const char *const halves[] = { "broken", "fixed" };

  g_assert_nonnull (doc);
  for (guint h = 0; h < G_N_ELEMENTS (halves); h++)
    {
      g_autofree char *program = g_strdup_printf ("demos/python/%s-%s.py", e->id,
                                                  halves[h]);
      g_autofree char *path = source_path (program);
      gboolean quoted = FALSE;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_test_message ("%s is missing", program);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
      for (guint i = 0; i < doc->blocks->len; i++)
        {
          const Block *b = g_ptr_array_index (doc->blocks, i);

          if (b->kind == BLOCK_PROGRAM && g_str_equal (b->arg, program))
            quoted = TRUE;
        }
      if (!quoted)
        g_test_message ("docs/%s does not quote %s (<!-- program: %s -->)", name,
                        program, program);
      g_assert_true (quoted);
    }
}

static void
test_catalog_tests (gconstpointer data)
{
  const MpCatalogEntry *e = data;
  g_autofree char *path = source_path ("tests/test-demos.c");
  g_autofree char *text = NULL;
  g_autofree char *row = g_strdup_printf ("{ \"%s\",", e->demo);
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  if (strstr (text, row) != NULL)
    return;
  if (!demo_has_landed (e->demo))
    {
      g_autofree char *why = g_strdup_printf ("demo %s has not landed: no row in "
                                              "tests/test-demos.c yet", e->demo);
      g_test_skip (why);
      return;
    }
  g_test_message ("tests/test-demos.c has no row for %s", e->demo);
  g_test_fail ();
}

/* ---- API names ------------------------------------------------------------ */

static void
add_words (GHashTable *names,
           const char *path)
{
  g_autoptr(GRegex) word = g_regex_new ("[A-Za-z_][A-Za-z0-9_]*", 0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GRegex) declare = g_regex_new ("G_DECLARE_(?:\\w+_TYPE|INTERFACE)\\s*\\(\\s*\\w+\\s*,"
                                           "\\s*(\\w+)\\s*,\\s*(\\w+)\\s*,\\s*(\\w+)",
                                           0, 0, NULL);
  g_autoptr(GMatchInfo) declared = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  for (g_regex_match (word, text, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    g_hash_table_add (names, g_match_info_fetch (match, 0));
  /* the cast and check macros G_DECLARE_*_TYPE writes: MP_LOCKABLE ... */
  for (g_regex_match (declare, text, 0, &declared); g_match_info_matches (declared);
       g_match_info_next (declared, NULL))
    {
      g_autofree char *func = g_match_info_fetch (declared, 1);
      g_autofree char *module = g_match_info_fetch (declared, 2);
      g_autofree char *obj = g_match_info_fetch (declared, 3);

      g_hash_table_add (names, g_strdup_printf ("%s_%s", module, obj));
      g_hash_table_add (names, g_strdup_printf ("%s_IS_%s", module, obj));
      g_hash_table_add (names, g_strdup_printf ("%s_get_type", func));
    }
}

/* the words of lib/'s public headers, the test environment's variables
 * (MP_DEMO_DIR) from tests/meson.build, and the Python programs' own
 * (MP_START_METHOD) from demos/python/README.md */
static GHashTable *
declared_names (void)
{
  g_autofree char *lib = source_path ("lib");
  g_autofree char *test_build = source_path ("tests/meson.build");
  g_autofree char *python_readme = source_path ("demos/python/README.md");
  g_autoptr(GDir) dir = g_dir_open (lib, 0, NULL);
  GHashTable *names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *entry;

  g_assert_nonnull (dir);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;

      if (!g_str_has_suffix (entry, ".h") || g_str_has_suffix (entry, "-private.h"))
        continue;
      path = g_build_filename (lib, entry, NULL);
      add_words (names, path);
    }
  add_words (names, test_build);
  add_words (names, python_readme);
  return names;
}

/* @doc's text without its quoted Python programs: their names (a
 * keyword argument mp_context=) are Python's, not mpshare's. */
static char *
text_without_programs (const Doc *doc)
{
  g_auto(GStrv) lines = g_strsplit (doc->text, "\n", -1);

  for (guint i = 0; i < doc->blocks->len; i++)
    {
      const Block *b = g_ptr_array_index (doc->blocks, i);

      if (b->kind != BLOCK_PROGRAM)
        continue;
      for (guint l = b->fence_open; l <= b->fence_close && lines[l - 1] != NULL; l++)
        lines[l - 1][0] = '\0';
    }
  return g_strjoinv ("\n", lines);
}

/* Every mpshare name a page mentions (mp_*, MP_*, Mp*) is declared in a
 * public header of lib/. A page may name headers still on their way
 * (pending-api): while one of them is missing, its names are skipped. */
static void
test_api_names (gconstpointer data)
{
  const Doc *doc = data;
  g_autoptr(GHashTable) declared = declared_names ();
  g_autoptr(GRegex) api = g_regex_new ("\\b(mp_[a-z0-9_]+|MP_[A-Z0-9_]+|Mp[A-Z][A-Za-z]+)\\b",
                                       0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GString) unknown = g_string_new (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) headers_missing = g_string_new (NULL);
  g_autofree char *text = text_without_programs (doc);

  for (g_regex_match (api, text, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *name = g_match_info_fetch (match, 0);

      if (g_hash_table_contains (declared, name) || g_hash_table_contains (seen, name))
        continue;
      g_string_append_printf (unknown, " %s", name);
      g_hash_table_add (seen, g_steal_pointer (&name));
    }

  for (guint i = 0; i < doc->pending_api->len; i++)
    {
      const char *header = g_ptr_array_index (doc->pending_api, i);
      g_autofree char *rel = g_build_filename ("lib", header, NULL);
      g_autofree char *path = source_path (rel);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        g_string_append_printf (headers_missing, " %s", header);
      else
        {
          g_test_message ("docs/%s: lib/%s has landed: remove its pending-api marker",
                          doc->name, header);
          g_test_fail ();
        }
    }

  if (unknown->len > 0 && headers_missing->len > 0)
    {
      g_autofree char *why = g_strdup_printf ("pending headers%s: names not declared "
                                              "yet:%s", headers_missing->str,
                                              unknown->str);
      g_test_skip (why);
      return;
    }
  if (unknown->len > 0)
    g_test_message ("docs/%s names what no public header of lib/ declares:%s",
                    doc->name, unknown->str);
  g_assert_cmpstr (unknown->str, ==, "");
}

/* ---- the test program ----------------------------------------------------- */

static void
load_docs (void)
{
  g_autofree char *docs_dir = source_path ("docs");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  docs = g_ptr_array_new_with_free_func (doc_free);
  collect_doc_names (docs_dir, "", names);
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (docs, doc_load (docs_dir, g_ptr_array_index (names, i)));
}

static void
test_docs_found (void)
{
  /* a wrong G_TEST_SRCDIR must not pass as "nothing to check" */
  g_assert_nonnull (doc_find ("README.md"));
  g_assert_nonnull (doc_find ("models.md"));
  g_assert_nonnull (doc_find ("python-to-mpshare.md"));
}

/* The checker's own rules, on known input: a check that cannot fail
 * would prove nothing. */
static void
test_matcher (void)
{
  g_autoptr(GPtrArray) p = g_ptr_array_new ();
  const char *text = "a 1\n   job 4 ended after 0.004 s: broken-pool\nc 3\n";

  g_assert_true (line_matches ("job ... ended", "job 4 ended"));
  g_assert_true (line_matches ("...", "anything"));
  g_assert_true (line_matches ("a...b...c", "abc"));
  g_assert_false (line_matches ("a...b...c", "acb"));
  g_assert_false (line_matches ("ab...ba", "aba"));
  g_assert_true (line_matches ("x  ", "x"));
  g_assert_false (line_matches ("job 4", "job 4 ended"));

  g_ptr_array_add (p, (gpointer) "a 1");
  g_ptr_array_add (p, (gpointer) "...");
  g_ptr_array_add (p, (gpointer) "c 3");
  g_assert_null (first_unmatched (p, 0, text));
  g_ptr_array_add (p, (gpointer) "   job ... ended after ... s: broken-pool");
  /* in order: the job line comes before "c 3" */
  g_assert_cmpstr (first_unmatched (p, 0, text), ==, p->pdata[3]);
}

int
main (int    argc,
      char **argv)
{
  gsize n_entries;
  const MpCatalogEntry *entries;
  int status;

  g_test_init (&argc, &argv, NULL);
  source_root = g_test_build_filename (G_TEST_DIST, "..", NULL);
  run_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, run_result_free);
  load_docs ();

  g_test_add_func ("/docs/checker/matcher", test_matcher);
  g_test_add_func ("/docs/found", test_docs_found);

  entries = mp_catalog_get_entries (&n_entries);
  for (gsize i = 0; i < n_entries; i++)
    {
      const MpCatalogEntry *e = &entries[i];
      g_autofree char *demo = g_strdup_printf ("/docs/catalog/%s/demo", e->id);
      g_autofree char *page = g_strdup_printf ("/docs/catalog/%s/page", e->id);
      g_autofree char *summary = g_strdup_printf ("/docs/catalog/%s/summary", e->id);
      g_autofree char *explain = g_strdup_printf ("/docs/catalog/%s/explain", e->id);
      g_autofree char *tests = g_strdup_printf ("/docs/catalog/%s/tests", e->id);
      g_autofree char *python = g_strdup_printf ("/docs/catalog/%s/python", e->id);

      g_test_add_data_func (demo, e, test_catalog_demo);
      g_test_add_data_func (page, e, test_catalog_page);
      g_test_add_data_func (summary, e, test_catalog_summary);
      if (e->kind == MP_CATALOG_PITFALL)
        g_test_add_data_func (explain, e, test_catalog_explain);
      g_test_add_data_func (tests, e, test_catalog_tests);
      g_test_add_data_func (python, e, test_catalog_python);
    }

  for (guint i = 0; i < docs->len; i++)
    {
      const Doc *doc = g_ptr_array_index (docs, i);
      g_autofree char *format = g_strdup_printf ("/docs/page/%s/format", doc->name);
      g_autofree char *names = g_strdup_printf ("/docs/page/%s/api-names", doc->name);

      g_test_add_data_func (format, doc, test_doc_format);
      g_test_add_data_func (names, doc, test_api_names);
      if (g_str_has_prefix (doc->name, "labs/"))
        {
          g_autofree char *setup = g_strdup_printf ("/docs/page/%s/setup", doc->name);

          g_test_add_data_func (setup, doc, test_sheet_setup);
        }
      for (guint j = 0; j < doc->shell->len; j++)
        {
          const Command *c = g_ptr_array_index (doc->shell, j);
          g_autofree char *path = g_strdup_printf ("/docs/page/%s/shell/line-%u",
                                                   doc->name, c->line);

          g_test_add_data_func (path, c, test_shell_line);
        }
      for (guint j = 0; j < doc->blocks->len; j++)
        {
          const Block *b = g_ptr_array_index (doc->blocks, j);
          g_autofree char *path = g_strdup_printf ("/docs/page/%s/quote/line-%u",
                                                   doc->name, b->line);

          g_test_add_data_func (path, b, test_block);
        }
      for (guint j = 0; j < doc->commands->len; j++)
        {
          const Command *c = g_ptr_array_index (doc->commands, j);
          g_autofree char *path = g_strdup_printf ("/docs/page/%s/command/line-%u",
                                                   doc->name, c->line);

          g_test_add_data_func (path, c, test_command);
        }
    }

  status = g_test_run ();
  g_ptr_array_unref (docs);
  g_hash_table_unref (run_cache);
  g_free (source_root);
  return status;
}
