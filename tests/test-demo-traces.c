/* test-demo-traces.c — every demo records what its processes did
 *
 * Runs each demo of the catalog under fork and under spawn with
 * `--timeline --trace FILE.json` and checks what a Perfetto user and a
 * student rely on:
 * - the file is JSON that json-glib loads, in the recorder's shape;
 * - every slice that begins ends, properly nested, on its own track;
 * - timestamps never go back within a track;
 * - every process the demo started has its own track, named, and its
 *   start and its exit recorded;
 * - each half printed its timeline, and every line fits 80 columns;
 * - the demo left nothing in its temporary directory, nor a trace
 *   directory in /dev/shm.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "mpshare.h"
#include "test-common.h"

#define RUN_BACKSTOP_S 240

typedef struct {
  const char *demo;
  const char *method;
  const char *extra[4];    /* more arguments, NULL-terminated */
} Run;

/* Absolute: it becomes the demo's TMPDIR, where sockets live. */
static char *
make_dir (const char *template)
{
  g_autofree char *dir = g_test_build_filename (G_TEST_BUILT, template, NULL);

  g_assert_nonnull (g_mkdtemp (dir));
  return g_canonicalize_filename (dir, NULL);
}

/* Removes @dir, which must hold only @keep (or nothing). */
static void
remove_dir (const char *dir,
            const char *keep)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_strcmp0 (name, keep) != 0)
        g_test_fail_printf ("left behind: %s", path);
      /* one level is all a demo could leave: a trace or gate directory */
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_dir (path, NULL);
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static char *
run_demo (const Run  *run,
          const char *trace_path,
          const char *tmp_dir,
          char      **pid,
          int        *status)
{
  g_autofree char *program = g_build_filename (g_getenv ("MP_DEMO_DIR"), run->demo, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, program);
  g_ptr_array_add (argv, (gpointer) "--start-method");
  g_ptr_array_add (argv, (gpointer) run->method);
  g_ptr_array_add (argv, (gpointer) "--timeline");
  g_ptr_array_add (argv, (gpointer) "--trace");
  g_ptr_array_add (argv, (gpointer) trace_path);
  for (guint i = 0; run->extra[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) run->extra[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_setenv (launcher, "TMPDIR", tmp_dir, TRUE);
  g_subprocess_launcher_unsetenv (launcher, "MP_TRACE");
  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  *pid = g_strdup (g_subprocess_get_identifier (child));
  return test_communicate (child, run->demo, RUN_BACKSTOP_S, status);
}

static JsonArray *
events_of (JsonNode *root)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_get_array_member (json_node_get_object (root), "traceEvents");
}

static char *
track_of (JsonObject *event)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                          json_object_get_int_member (event, "pid"),
                          json_object_get_int_member_with_default (event, "tid", 0));
}

static const char *
kind_of (JsonObject *event)
{
  JsonObject *args = json_object_get_object_member (event, "args");

  return args != NULL ? json_object_get_string_member_with_default (args, "kind", "") : "";
}

/* Every B has its E on the same track, properly nested, and time never
 * goes back within a track. */
static void
check_tracks (JsonArray *events)
{
  g_autoptr(GHashTable) open = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                      (GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GHashTable) last_ts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *ph = json_object_get_string_member (event, "ph");
      g_autofree char *track = track_of (event);
      GPtrArray *stack;
      double ts, *last;

      if (g_str_equal (ph, "M"))
        continue;
      ts = json_object_get_double_member (event, "ts");
      last = g_hash_table_lookup (last_ts, track);
      if (last != NULL && ts < *last)
        g_test_fail_printf ("event %u (%s) on track %s at %.3f us is earlier "
                            "than the one before it (%.3f us)", i, kind_of (event),
                            track, ts, *last);
      if (last == NULL)
        g_hash_table_insert (last_ts, g_strdup (track), last = g_new (double, 1));
      *last = ts;

      if ((stack = g_hash_table_lookup (open, track)) == NULL)
        g_hash_table_insert (open, g_strdup (track), stack = g_ptr_array_new ());
      if (g_str_equal (ph, "B"))
        g_ptr_array_add (stack, (gpointer) kind_of (event));
      else if (g_str_equal (ph, "E"))
        {
          if (stack->len == 0)
            g_test_fail_printf ("event %u on track %s ends a slice that never began", i, track);
          else
            g_ptr_array_set_size (stack, stack->len - 1);
        }
    }
  g_hash_table_iter_init (&iter, open);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (((GPtrArray *) value)->len > 0)
      g_test_fail_printf ("track %s: %u slice(s) never end, the first a %s", (char *) key,
                          ((GPtrArray *) value)->len,
                          (char *) g_ptr_array_index ((GPtrArray *) value, 0));
}

/* Each process with events has a named track; each process the demo
 * started (process.start) was also seen to exit. */
static void
check_processes (JsonArray *events)
{
  g_autoptr(GHashTable) named = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) started = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) exited = g_hash_table_new (g_int64_hash, g_int64_equal);
  GHashTableIter iter;
  gpointer pid;
  guint n_events = json_array_get_length (events);
  g_autofree gint64 *pids = g_new (gint64, n_events + 1);

  for (guint i = 0; i < n_events; i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *ph = json_object_get_string_member (event, "ph");
      const char *kind = kind_of (event);

      pids[i] = json_object_get_int_member (event, "pid");
      if (g_str_equal (ph, "M"))
        {
          if (g_str_equal (json_object_get_string_member (event, "name"), "process_name"))
            g_hash_table_add (named, &pids[i]);
          continue;
        }
      g_hash_table_add (seen, &pids[i]);
      if (g_str_equal (kind, "process.start"))
        g_hash_table_add (started, &pids[i]);
      else if (g_str_equal (kind, "process.exit"))
        g_hash_table_add (exited, &pids[i]);
    }
  g_assert_cmpuint (g_hash_table_size (seen), >=, 1);
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    if (!g_hash_table_contains (named, pid))
      g_test_fail_printf ("pid %" G_GINT64_FORMAT " has events but no named track",
                          *(gint64 *) pid);
  g_hash_table_iter_init (&iter, started);
  while (g_hash_table_iter_next (&iter, &pid, NULL))
    if (!g_hash_table_contains (exited, pid))
      g_test_fail_printf ("pid %" G_GINT64_FORMAT " started, but its exit is not recorded",
                          *(gint64 *) pid);
}

/* Every line fits 80 columns, the timelines' and the rest. */
static void
check_output (const char *output)
{
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);
  guint timelines = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "--- Timeline: "))
      timelines++;
  g_assert_cmpuint (timelines, >=, 2);
  test_assert_fits (output, "the demo with --timeline");
  g_assert_nonnull (strstr (output, "\n--- Timeline: the broken half (recorded) ---\n"));
  g_assert_nonnull (strstr (output, "\n--- Timeline: the fixed half (recorded) ---\n"));
  g_assert_null (strstr (output, "(cannot be drawn"));
  g_assert_null (strstr (output, "cannot record a trace"));
  g_assert_null (strstr (output, "the trace was lost"));
}

/* The recorder keeps its events in /dev/shm/mpshare-trace-XXXXXX (not
 * under TMPDIR), one file per thread named PID-TID-N.mpt. */
static GHashTable *
trace_dirs_now (void)
{
  g_autoptr(GDir) shm = g_dir_open ("/dev/shm", 0, NULL);
  GHashTable *dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *name;

  while (shm != NULL && (name = g_dir_read_name (shm)) != NULL)
    if (g_str_has_prefix (name, "mpshare-trace-"))
      g_hash_table_add (dirs, g_strdup (name));
  return dirs;
}

/* The demo's own process writes into its trace directory first, so a
 * directory of this run is one made while it ran and holding a file of
 * its pid. Other tests may be recording at the same time, and an older
 * directory may hold a file of an earlier process that had the same
 * pid: neither is this run's business. */
static void
check_no_trace_dir_of (GHashTable *before,
                       const char *pid)
{
  g_autoptr(GHashTable) after = trace_dirs_now ();
  g_autofree char *prefix = g_strconcat (pid, "-", NULL);
  GHashTableIter iter;
  const char *name;

  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, (gpointer *) &name, NULL))
    {
      g_autofree char *dir = g_build_filename ("/dev/shm", name, NULL);
      g_autoptr(GDir) trace = NULL;
      const char *file;

      if (g_hash_table_contains (before, name) ||
          (trace = g_dir_open (dir, 0, NULL)) == NULL)
        continue;
      while ((file = g_dir_read_name (trace)) != NULL)
        if (g_str_has_prefix (file, prefix))
          g_test_fail_printf ("trace directory left behind: %s", dir);
    }
}

/* A free-running race loses updates only when the processes happen to
 * overlap, which a loaded machine may not give in a short recorded run;
 * the demo then says so honestly and exits 1. The trace is still checked. */
static gboolean
race_found_nothing (const Run  *run,
                    const char *output,
                    int         status)
{
  return run->extra[0] != NULL && g_str_equal (run->extra[0], "--race") &&
         status == 1 && strstr (output, "broken: NOT reproduced (no update was lost in") != NULL &&
         strstr (output, "fixed: verified") != NULL;
}

static void
test_demo_trace (gconstpointer data)
{
  const Run *run = data;
  g_autofree char *dir = make_dir ("demo-trace-XXXXXX");
  g_autofree char *tmp_dir = g_build_filename (dir, "tmp", NULL);
  g_autofree char *trace_path = g_build_filename (dir, "trace.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;
  g_autofree char *pid = NULL;
  JsonArray *events;
  int status;
  /* taken before the demo's pid exists */
  g_autoptr(GHashTable) trace_dirs_before = trace_dirs_now ();

  g_assert_cmpint (g_mkdir (tmp_dir, 0700), ==, 0);
  output = run_demo (run, trace_path, tmp_dir, &pid, &status);
  g_test_message ("%s", output);
  if (race_found_nothing (run, output, status))
    g_test_message ("the race lost nothing this time (no overlap); checking its trace");
  else
    g_assert_cmpint (status, ==, 0);
  check_output (output);
  check_no_trace_dir_of (trace_dirs_before, pid);

  json_parser_load_from_file (parser, trace_path, &error);
  g_assert_no_error (error);
  mp_timeline_check (json_parser_get_root (parser), &error);
  g_assert_no_error (error);
  events = events_of (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (events), >, 0);
  check_tracks (events);
  check_processes (events);

  remove_dir (tmp_dir, NULL);
  remove_dir (dir, "trace.json");
}

int
main (int    argc,
      char **argv)
{
  static const char *const methods[] = { "fork", "spawn" };
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func (g_free);
  const MpCatalogEntry *entries;
  gsize n_entries;

  g_test_init (&argc, &argv, NULL);
  /* as on an 80-column terminal (the tests' environment sets it wide) */
  g_unsetenv ("COLUMNS");

  entries = mp_catalog_get_entries (&n_entries);
  for (gsize i = 0; i < n_entries; i++)
    for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
      {
        g_autofree char *path = NULL;
        Run *run = g_new0 (Run, 1);

        run->demo = entries[i].demo;
        run->method = methods[m];
        g_ptr_array_add (runs, run);
        path = g_strdup_printf ("/demo-traces/%s/%s", entries[i].id, methods[m]);
        g_test_add_data_func (path, run, test_demo_trace);
      }
  /* the free-running race, short enough to record every step */
  for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
    {
      g_autofree char *path = g_strdup_printf ("/demo-traces/lost-update/race/%s", methods[m]);
      Run *run = g_new0 (Run, 1);

      run->demo = "lost-update";
      run->method = methods[m];
      run->extra[0] = "--race";
      run->extra[1] = "--iterations";
      run->extra[2] = "2000";
      g_ptr_array_add (runs, run);
      g_test_add_data_func (path, run, test_demo_trace);
    }
  return g_test_run ();
}
