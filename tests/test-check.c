/* test-check.c — finding the pitfalls in Python source, and nothing else
 *
 * tests/data/check/bad/ (*.py) hold the pitfalls in several syntactic forms;
 * each offending line says which id it must give (`# expect: ID`), and
 * every finding must be expected: the exact set of (line, id) is compared.
 * tests/data/check/ok/ (*.py) are correct programs close to a pitfall: they
 * must give no finding. demos/python/ holds a broken and a fixed program
 * per pitfall (once that work has landed): every fixed one gives nothing,
 * every broken one names the pitfall programs.json says it shows, on the
 * line python_demo_lines[] records, and nothing else.
 *
 * Python parses: a test needing it skips with the reason when there is none.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mpshare.h"
#include "mp-check-private.h"

#define CLI_BACKSTOP_S 120

static char *python;     /* NULL: the tests that need it skip */

static gboolean
need_python (void)
{
  if (python == NULL)
    g_test_skip ("no python3 found on PATH (nor $MPSHARE_PYTHON): "
                 "check parses with Python's own ast module");
  return python != NULL;
}

static char *
data_path (const char *kind,
           const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "check", kind, name, NULL);
}

static GHashTable *checked;   /* path -> MpCheckResult, all data files */

/* The findings of @path, checked with all the others in one batch at
 * start-up (one Python for all: the suite stays fast on a busy machine). */
static GPtrArray *
check_file (const char *path,
            char      **source_out)
{
  MpCheckResult *r = g_hash_table_lookup (checked, path);

  g_assert_nonnull (r);
  g_assert_no_error (r->error);
  g_assert_nonnull (r->findings);
  if (source_out != NULL)
    g_assert_true (g_file_get_contents (path, source_out, NULL, NULL));
  return g_ptr_array_ref (r->findings);
}

static void
check_all (GPtrArray *paths)
{
  g_autoptr(GPtrArray) sources = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr(GError) read_error = NULL;
      char *text = NULL;
      gsize n = 0;

      if (!g_file_get_contents (g_ptr_array_index (paths, i), &text, &n, &read_error))
        g_error ("%s", read_error->message);
      g_ptr_array_add (sources, g_bytes_new_take (text, n));
    }
  checked = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                   (GDestroyNotify) mp_check_result_free);
  if (python == NULL || paths->len == 0)
    return;
  results = mp_check_sources (python, (const char *const *) paths->pdata,
                              (GBytes *const *) sources->pdata, paths->len, &error);
  g_assert_no_error (error);
  g_ptr_array_set_free_func (results, NULL);
  for (guint i = 0; i < results->len; i++)
    {
      MpCheckResult *r = g_ptr_array_index (results, i);
      g_hash_table_insert (checked, r->file, r);
    }
}

/* "LINE:ID" for every `# expect: ID [ID…]` comment of @source. */
static GHashTable *
expectations (const char *source)
{
  GHashTable *want = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit (source, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *at = strstr (lines[i], "# expect:");
      g_auto(GStrv) ids = NULL;

      if (at == NULL)
        continue;
      ids = g_strsplit_set (at + strlen ("# expect:"), " ,", -1);
      for (guint j = 0; ids[j] != NULL; j++)
        if (*ids[j] != '\0')
          g_hash_table_add (want, g_strdup_printf ("%u:%s", i + 1, ids[j]));
    }
  return want;
}

static GHashTable *
found_set (GPtrArray *findings)
{
  GHashTable *got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < findings->len; i++)
    {
      const MpCheckFinding *f = g_ptr_array_index (findings, i);

      g_hash_table_add (got, g_strdup_printf ("%u:%s", f->line, f->entry->id));
    }
  return got;
}

/* Every expected (line, id) found, and nothing else. */
static void
assert_same (const char *path,
             GHashTable *want,
             GHashTable *got)
{
  GHashTableIter iter;
  gpointer key;
  guint missing = 0, extra = 0;

  g_hash_table_iter_init (&iter, want);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (got, key))
      {
        g_test_message ("%s: expected %s, not found", path, (char *) key);
        missing++;
      }
  g_hash_table_iter_init (&iter, got);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (want, key))
      {
        g_test_message ("%s: found %s, not expected", path, (char *) key);
        extra++;
      }
  g_test_message ("%s: %u expected, %u found, %u missing, %u unexpected", path,
                  g_hash_table_size (want), g_hash_table_size (got), missing, extra);
  g_assert_cmpuint (missing, ==, 0);
  g_assert_cmpuint (extra, ==, 0);
}

static void
test_bad (gconstpointer data)
{
  g_autofree char *path = NULL;
  g_autofree char *source = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GHashTable) want = NULL;
  g_autoptr(GHashTable) got = NULL;

  if (!need_python ())
    return;
  path = data_path ("bad", data);
  findings = check_file (path, &source);
  want = expectations (source);
  got = found_set (findings);
  g_assert_cmpuint (g_hash_table_size (want), >, 0);
  assert_same (path, want, got);
}

static void
test_ok (gconstpointer data)
{
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) findings = NULL;

  if (!need_python ())
    return;
  path = data_path ("ok", data);
  findings = check_file (path, NULL);
  for (guint i = 0; i < findings->len; i++)
    {
      const MpCheckFinding *f = g_ptr_array_index (findings, i);
      g_test_message ("false alarm: %s:%u: %s: %s", path, f->line, f->entry->id,
                      f->message);
    }
  g_assert_cmpuint (findings->len, ==, 0);
}

/* ---- the programs of demos/python/ --------------------------------------- */

static char *
python_demo_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "..", "demos", "python", NULL);
}

/* Where each broken program of demos/python/ shows its pitfall: a piece
 * of the offending line (robust to lines moving). The id comes from the
 * program's "shows" in demos/python/programs.json. */
static const struct {
  const char *program;
  const char *line;
} python_demo_lines[] = {
  { "as-completed-order", "squares != expected" },
  { "broken-pool", "os._exit(" },
  { "closed-manager", "sorted(results)" },
  { "closed-manager-broken-pipe", "clusters[0]" },
  { "fork-with-threads", "ctx.Process(target=log_line" },
  { "global-not-inherited", "pool.map(scaled" },
  { "cluster-pool", "executor.submit(parallel_func" },
  { "cluster-pool-lock", "cluster.is_available = False" },
  { "inheritance-only", "pool.starmap(square_into" },
  { "inheritance-only-executor", "executor.submit(add_squares" },
  { "local-function", "pool.map(square" },
  { "local-function-lambda", "lambda n" },
  { "local-function-module-lambda", "executor.submit(SQUARE" },
  { "local-function-spawn-main", "executor.submit(square" },
  { "lock-false", "total.get_lock()" },
  { "lock-false-array", "squares.get_lock()" },
  { "lost-update", "hits.value +=" },
  { "manager-as-argument", "squares_upto, manager" },
  { "manager-as-argument-pool", "count_clusters, (manager,)" },
  { "manager-squares", "total.value +=" },
  { "missing-main-guard", "cf.ProcessPoolExecutor(" },
  { "missing-main-guard-context", "set_start_method" },
  { "mutate-a-copy", "scores[0].points" },
  { "shared-squares", "total.value +=" },
  { "unserializable-client", "clusters.append(cluster)" },
  { "unserializable-handle", "clusters.append(cluster)" },
};

/* The pitfall programs.json says @program shows, or NULL. */
static char *
python_demo_shows (const char *program)
{
  g_autofree char *dir = python_demo_dir ();
  g_autofree char *path = g_build_filename (dir, "programs.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *programs, *entry;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  programs = json_object_get_object_member (json_node_get_object (
               json_parser_get_root (parser)), "programs");
  g_assert_nonnull (programs);
  entry = json_object_get_object_member (programs, program);
  if (entry == NULL)
    return NULL;
  return g_strdup (json_object_get_string_member_with_default (entry, "shows", NULL));
}

static void
test_python_demo (gconstpointer data)
{
  const char *name = data;
  gboolean fixed = g_str_has_suffix (name, "-fixed.py");
  g_autofree char *dir = python_demo_dir ();
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *program = NULL;
  g_autofree char *shows = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  const char *line = NULL;
  gboolean at_line = FALSE;

  if (!need_python ())
    return;
  findings = check_file (path, NULL);
  for (guint i = 0; i < findings->len; i++)
    {
      const MpCheckFinding *f = g_ptr_array_index (findings, i);
      g_test_message ("%s:%u: %s: %s", name, f->line, f->entry->id, f->evidence);
    }
  if (fixed)
    {
      g_assert_cmpuint (findings->len, ==, 0);
      return;
    }
  if (!g_str_has_suffix (name, "-broken.py"))
    {
      g_test_skip ("neither a -broken.py nor a -fixed.py program");
      return;
    }
  program = g_strndup (name, strlen (name) - strlen ("-broken.py"));
  shows = python_demo_shows (program);
  if (shows == NULL)
    {
      g_test_skip ("not in programs.json: no pitfall to expect");
      return;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (python_demo_lines); i++)
    if (g_str_equal (python_demo_lines[i].program, program))
      line = python_demo_lines[i].line;
  g_assert_cmpuint (findings->len, >, 0);
  for (guint i = 0; i < findings->len; i++)
    {
      const MpCheckFinding *f = g_ptr_array_index (findings, i);

      /* every finding is the program's pitfall: nothing else is wrong */
      g_assert_cmpstr (f->entry->id, ==, shows);
      if (line != NULL && strstr (f->evidence, line) != NULL)
        at_line = TRUE;
    }
  if (line == NULL)
    {
      g_test_message ("%s: no line recorded in python_demo_lines; the id "
                      "alone was checked", name);
      return;
    }
  g_assert_true (at_line);
}

/* ---- bad input ------------------------------------------------------------ */

static void
assert_refused (const char *source,
                gssize      length,
                const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  gint64 start = g_get_monotonic_time ();

  findings = mp_check_source (python, "input.py", source,
                              length < 0 ? strlen (source) : (gsize) length, &error);
  g_assert_null (findings);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_test_message ("%s (%" G_GINT64_FORMAT " ms)", error->message,
                  (g_get_monotonic_time () - start) / 1000);
  g_assert_true (g_str_has_prefix (error->message, "input.py"));
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_syntax_error (void)
{
  if (!need_python ())
    return;
  assert_refused ("import os\n\ndef f(:\n    pass\n", -1, "input.py:3:");
  assert_refused ("x = [1, 2\n", -1, "not valid Python");
  /* text, but not Python at all */
  assert_refused ("Dear instructor,\nplease find my lab attached.\n", -1,
                  "input.py:1:");
}

static void
test_binary (void)
{
  static const char elf[] = "\177ELF\002\001\001\000\000\000";

  /* refused before any parser runs: no Python needed */
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings =
    mp_check_source ("/nonexistent/python3", "a.out", elf, sizeof elf - 1, &error);

  g_assert_null (findings);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "a.out"));
  g_assert_nonnull (strstr (error->message, "NUL byte at offset 7"));
}

static void
test_too_large (void)
{
  gsize n = MP_CHECK_MAX_SOURCE + 1;
  g_autofree char *big = g_malloc (n);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = NULL;

  memset (big, '#', n);
  findings = mp_check_source ("/nonexistent/python3", "big.py", big, n, &error);
  g_assert_null (findings);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "big.py"));
  g_assert_nonnull (strstr (error->message, "too large"));
}

static void
test_deep (void)
{
  g_autoptr(GString) chain = g_string_new ("x = 1");
  g_autoptr(GString) parens = g_string_new ("x = ");
  g_autoptr(GString) blocks = g_string_new (NULL);

  if (!need_python ())
    return;
  /* deeper than MP_CHECK_MAX_DEPTH, shallow enough for Python's parser */
  for (int i = 0; i < 400; i++)
    g_string_append (chain, " + 1");
  g_string_append_c (chain, '\n');
  assert_refused (chain->str, -1, "nested");
  /* so deep that Python's own parser gives up */
  for (int i = 0; i < 100000; i++)
    g_string_append (parens, "-");
  g_string_append (parens, "1\n");
  assert_refused (parens->str, -1, "nested");
  /* Python's own limit on indentation, reported as a syntax error */
  for (int i = 0; i < 120; i++)
    {
      for (int s = 0; s < i; s++)
        g_string_append_c (blocks, ' ');
      g_string_append (blocks, "if x:\n");
    }
  for (int s = 0; s < 120; s++)
    g_string_append_c (blocks, ' ');
  g_string_append (blocks, "pass\n");
  assert_refused (blocks->str, -1, "input.py");
}

static void
test_no_python (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings =
    mp_check_source ("/nonexistent/python3", "x.py", "x = 1\n", 6, &error);

  g_assert_null (findings);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "/nonexistent/python3"));
}

/* ---- what a finding says ---------------------------------------------------- */

static const char lost_update[] =
  "import multiprocessing as mp\n"
  "\n"
  "def add(total):\n"
  "    total.value += 1  # the update\n"
  "\n"
  "if __name__ == \"__main__\":\n"
  "    v = mp.Value(\"i\", 0)\n"
  "    ps = [mp.Process(target=add, args=(v,)) for _ in range(2)]\n";

static GPtrArray *
check_text (const char *text)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *findings = mp_check_source (python, "t.py", text, strlen (text), &error);

  g_assert_no_error (error);
  return findings;
}

static void
test_finding_fields (void)
{
  g_autoptr(GPtrArray) findings = NULL;
  const MpCheckFinding *f;

  if (!need_python ())
    return;
  findings = check_text (lost_update);
  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->entry->id, ==, "lost-update");
  g_assert_cmpstr (f->file, ==, "t.py");
  g_assert_cmpuint (f->line, ==, 4);
  g_assert_cmpuint (f->column, ==, 5);
  g_assert_cmpuint (f->end_line, ==, 4);
  g_assert_cmpuint (f->end_column, ==, 16);
  g_assert_cmpstr (f->evidence, ==, "total.value += 1  # the update");
  g_assert_nonnull (strstr (f->message, "add()"));
  g_assert_nonnull (strstr (f->message, "total"));
  g_assert_nonnull (f->fix);
}

static void
test_column_in_characters (void)
{
  g_autoptr(GPtrArray) findings = NULL;
  const MpCheckFinding *f;
  static const char text[] =
    "import multiprocessing as mp\n"
    "def add(total):\n"
    "    s = \"ÉÉ\"; total.value += 1\n"
    "if __name__ == \"__main__\":\n"
    "    v = mp.Value(\"i\", 0)\n"
    "    ps = [mp.Process(target=add, args=(v,)) for _ in range(2)]\n";

  if (!need_python ())
    return;
  findings = check_text (text);
  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  /* Python counts bytes; a reader counts characters */
  g_assert_cmpuint (f->column, ==, 15);
}

static void
test_ignore (void)
{
  g_autoptr(GPtrArray) silenced = NULL;
  g_autoptr(GPtrArray) other = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wrong = NULL;

  if (!need_python ())
    return;
  {
    g_auto(GStrv) parts = g_strsplit (lost_update, "# the update", 2);

    text = g_strjoin ("# mpshare: ignore[broken-pool, lost-update]", parts[0],
                      parts[1], NULL);
    wrong = g_strjoin ("# mpshare: ignore[lock-false]", parts[0], parts[1], NULL);
  }
  silenced = check_text (text);
  g_assert_cmpuint (silenced->len, ==, 0);
  other = check_text (wrong);
  g_assert_cmpuint (other->len, ==, 1);
}

static void
test_json (void)
{
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  JsonObject *o;
  JsonArray *end;

  if (!need_python ())
    return;
  findings = check_text (lost_update);
  g_assert_cmpuint (findings->len, ==, 1);
  text = mp_check_finding_to_json (g_ptr_array_index (findings, 0));
  g_assert_null (strchr (text, '\n'));
  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "file"), ==, "t.py");
  g_assert_cmpint (json_object_get_int_member (o, "line"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (o, "column"), ==, 5);
  end = json_object_get_array_member (o, "end");
  g_assert_cmpint (json_array_get_int_element (end, 0), ==, 4);
  g_assert_cmpint (json_array_get_int_element (end, 1), ==, 16);
  g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "lost-update");
  g_assert_nonnull (json_object_get_string_member (o, "message"));
  g_assert_nonnull (json_object_get_string_member (o, "fix"));
  g_assert_cmpstr (json_object_get_string_member (o, "evidence"), ==,
                   "total.value += 1  # the update");
}

/* ---- the command --------------------------------------------------------------- */

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *r)
{
  g_free (r->out);
  g_free (r->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_check (Run               *r,
           const char        *input,
           const char        *python_env,
           const char *const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *exe = g_test_build_filename (G_TEST_BUILT, "..", "demos",
                                                "mpshare", NULL);

  g_ptr_array_add (argv, exe);
  g_ptr_array_add (argv, (gpointer) "check");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_setenv (launcher, "NO_COLOR", "1", TRUE);
  /* relative paths are the data's: a line must not depend on where the
   * source tree was cloned */
  g_subprocess_launcher_set_cwd (launcher, g_test_get_dir (G_TEST_DIST));
  if (python_env != NULL)
    g_subprocess_launcher_setenv (launcher, "MPSHARE_PYTHON", python_env, TRUE);
  child = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata,
                                        &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, input != NULL ? input : "", NULL,
                                 &r->out, &r->err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (child, NULL, NULL);
  r->status = g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : -1;
  g_test_message ("status %d\nstdout:\n%s\nstderr:\n%s", r->status, r->out, r->err);
  g_assert_null (strstr (r->err, "CRITICAL"));
  g_assert_null (strstr (r->err, "WARNING"));
}

static void
assert_fits_80_columns (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_utf8_strlen (lines[i], -1) > 80)
      g_error ("line wider than 80 columns: \"%s\"", lines[i]);
}

static void
test_cli_text (void)
{
  g_autofree char *bad = g_build_filename ("data", "check", "bad", "lost-update.py", NULL);
  g_autofree char *ok = data_path ("ok", "pool-initializer.py");

  if (!need_python ())
    return;
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { bad, NULL });
    g_assert_cmpint (r.status, ==, 1);
    g_assert_true (g_str_has_prefix (r.out, bad));
    g_assert_nonnull (strstr (r.out, ":10:5: lost-update:"));
    g_assert_nonnull (strstr (r.out, "add()"));
    g_assert_nonnull (strstr (r.out, "   10 | total.value += n"));
    g_assert_nonnull (strstr (r.out, "    fix:  hold a lock around the update"));
    g_assert_nonnull (strstr (r.out, "    demo: mpshare run lost-update\n"));
    assert_fits_80_columns (r.out);
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { ok, NULL });
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.out, ==, "No pitfall found (1 file checked).\n");
  }
}

static void
test_cli_formats (void)
{
  g_autofree char *bad = data_path ("bad", "broken-pool.py");
  g_autofree char *ok = data_path ("ok", "map-keeps-order.py");

  if (!need_python ())
    return;
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { "--ids", bad, ok, NULL });
    g_assert_cmpint (r.status, ==, 1);
    g_assert_cmpstr (r.out, ==, "broken-pool\nbroken-pool\nbroken-pool\n");
  }
  {
    g_auto(Run) r = { 0 };
    g_auto(GStrv) lines = NULL;
    guint n = 0;

    run_check (&r, NULL, NULL, (const char *[]) { "--format=json", bad, NULL });
    g_assert_cmpint (r.status, ==, 1);
    lines = g_strsplit (r.out, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        g_autoptr(JsonParser) parser = json_parser_new ();
        g_autoptr(GError) error = NULL;
        JsonObject *o;

        if (*lines[i] == '\0')
          continue;
        g_assert_true (json_parser_load_from_data (parser, lines[i], -1, &error));
        o = json_node_get_object (json_parser_get_root (parser));
        g_assert_cmpstr (json_object_get_string_member (o, "id"), ==, "broken-pool");
        g_assert_cmpstr (json_object_get_string_member (o, "file"), ==, bad);
        n++;
      }
    g_assert_cmpuint (n, ==, 3);
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { "--format=xml", bad, NULL });
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "unknown format \"xml\""));
  }
}

static void
test_cli_inputs (void)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_DIST, "data", "check", "ok", NULL);
  g_autofree char *count = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  if (!need_python ())
    return;
  while (g_dir_read_name (d) != NULL)
    n++;
  count = g_strdup_printf ("No pitfall found (%u files checked).\n", n);
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { dir, NULL });
    g_assert_cmpint (r.status, ==, 0);
    g_assert_cmpstr (r.out, ==, count);
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, lost_update, NULL, (const char *[]) { "--ids", "-", NULL });
    g_assert_cmpint (r.status, ==, 1);
    g_assert_cmpstr (r.out, ==, "lost-update\n");
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, "def f(:\n", NULL, (const char *[]) { "-", NULL });
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "<stdin>:1:"));
    g_assert_nonnull (strstr (r.err, "not valid Python"));
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { "/nonexistent/lab.py", NULL });
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "/nonexistent/lab.py"));
  }
  {
    g_auto(Run) r = { 0 };

    run_check (&r, NULL, NULL, (const char *[]) { NULL });
    g_assert_cmpint (r.status, ==, 2);
    g_assert_nonnull (strstr (r.err, "which files?"));
  }
}

static void
test_cli_no_python (void)
{
  g_autofree char *ok = data_path ("ok", "map-keeps-order.py");
  g_auto(Run) r = { 0 };

  run_check (&r, NULL, "/nonexistent/python3", (const char *[]) { ok, NULL });
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "Install Python 3"));
  assert_fits_80_columns (r.err);
}

/* ---- main ------------------------------------------------------------------------ */

static GPtrArray *test_names;    /* the data of the tests added here */

/* A test per *.py file of @dir; its path is queued in @paths. */
static void
add_dir_tests (const char   *kind,
               const char   *dir,
               GTestDataFunc func,
               GPtrArray    *paths)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *base = NULL;
      g_autofree char *test_path = NULL;
      char *kept;

      if (!g_str_has_suffix (name, ".py"))
        continue;
      kept = g_strdup (name);
      g_ptr_array_add (test_names, kept);
      g_ptr_array_add (paths, g_build_filename (dir, name, NULL));
      base = g_strndup (name, strlen (name) - 3);
      test_path = g_strdup_printf ("/check/%s/%s", kind, base);
      g_test_add_data_func (test_path, kept, func);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *bad = NULL;
  g_autofree char *ok = NULL;
  g_autofree char *demos = NULL;
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  int status;

  g_test_init (&argc, &argv, NULL);
  python = mp_check_find_python ();
  bad = g_test_build_filename (G_TEST_DIST, "data", "check", "bad", NULL);
  ok = g_test_build_filename (G_TEST_DIST, "data", "check", "ok", NULL);
  demos = python_demo_dir ();

  test_names = g_ptr_array_new_with_free_func (g_free);
  add_dir_tests ("bad", bad, test_bad, paths);
  add_dir_tests ("ok", ok, test_ok, paths);
  add_dir_tests ("python-demos", demos, test_python_demo, paths);
  check_all (paths);
  g_test_add_func ("/check/input/syntax-error", test_syntax_error);
  g_test_add_func ("/check/input/binary", test_binary);
  g_test_add_func ("/check/input/too-large", test_too_large);
  g_test_add_func ("/check/input/deep", test_deep);
  g_test_add_func ("/check/input/no-python", test_no_python);
  g_test_add_func ("/check/finding/fields", test_finding_fields);
  g_test_add_func ("/check/finding/column-in-characters", test_column_in_characters);
  g_test_add_func ("/check/finding/ignore", test_ignore);
  g_test_add_func ("/check/finding/json", test_json);
  g_test_add_func ("/check/cli/text", test_cli_text);
  g_test_add_func ("/check/cli/formats", test_cli_formats);
  g_test_add_func ("/check/cli/inputs", test_cli_inputs);
  g_test_add_func ("/check/cli/no-python", test_cli_no_python);

  status = g_test_run ();
  g_hash_table_unref (checked);
  g_ptr_array_unref (test_names);
  g_free (python);
  return status;
}
