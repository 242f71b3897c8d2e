/* test-trace.c — the cross-process trace recorder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test records a known scenario, stops the trace and reads the
 * document back: the expected events in the expected order, and the
 * document's invariants (one process_name per process, every B closed by
 * an E on its track, timestamps non-decreasing per track).
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mp-process-private.h"
#include "mp-trace-private.h"
#include "test-manager-common.h"
#include "test-process-common.h"

/* ---- reading a document -------------------------------------------------- */

static JsonArray *
events_of (JsonNode *doc)
{
  g_assert_true (JSON_NODE_HOLDS_OBJECT (doc));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (doc), "displayTimeUnit"), ==, "ns");
  return json_object_get_array_member (json_node_get_object (doc), "traceEvents");
}

static const char *
kind_of (JsonObject *event)
{
  JsonObject *args = json_object_get_object_member (event, "args");

  return args != NULL && json_object_has_member (args, "kind") ?
         json_object_get_string_member (args, "kind") : NULL;
}

static const char *
ph_of (JsonObject *event)
{
  return json_object_get_string_member (event, "ph");
}

/* "kind/ph" of each event of @pid (all pids: 0), flows and metadata left
 * out, joined by spaces: the sequence a test expects. */
static char *
sequence_of (JsonNode   *doc,
             gint64      pid,
             const char *kind_prefix)
{
  JsonArray *events = events_of (doc);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);
      const char *kind = kind_of (e);
      const char *ph = ph_of (e);

      if (kind == NULL || strchr ("MsftT", ph[0]) != NULL)
        continue;
      if (pid != 0 && json_object_get_int_member (e, "pid") != pid)
        continue;
      if (kind_prefix != NULL && !g_str_has_prefix (kind, kind_prefix))
        continue;
      g_string_append_printf (out, "%s%s/%s", out->len > 0 ? " " : "", kind, ph);
    }
  return g_string_free (out, FALSE);
}

#define assert_sequence(doc, pid, prefix, expected) \
  G_STMT_START { \
    g_autofree char *seq_ = sequence_of ((doc), (pid), (prefix)); \
    g_assert_cmpstr (seq_, ==, (expected)); \
  } G_STMT_END

static JsonObject *
find_event (JsonNode   *doc,
            gint64      pid,
            const char *kind,
            const char *ph)
{
  JsonArray *events = events_of (doc);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);
      const char *k = kind_of (e);

      if (k != NULL && strcmp (k, kind) == 0 && strcmp (ph_of (e), ph) == 0 &&
          (pid == 0 || json_object_get_int_member (e, "pid") == pid))
        return e;
    }
  return NULL;
}

static const char *
role_of (JsonNode *doc,
         gint64    pid)
{
  JsonArray *events = events_of (doc);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);

      if (strcmp (ph_of (e), "M") == 0 && json_object_get_int_member (e, "pid") == pid &&
          g_strcmp0 (json_object_get_string_member (e, "name"), "process_name") == 0)
        return json_object_get_string_member (json_object_get_object_member (e, "args"), "name");
    }
  return NULL;
}

/* The invariants every document keeps. Returns how many processes it has. */
static guint
assert_well_formed (JsonNode *doc)
{
  JsonArray *events = events_of (doc);
  g_autoptr(GHashTable) names = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) pids = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) depth = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GHashTableIter iter;
  gpointer value;
  g_autofree gint64 *pid_store = g_new0 (gint64, json_array_get_length (events));

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);
      const char *ph = ph_of (e);
      gint64 pid = json_object_get_int_member (e, "pid");
      g_autofree char *track = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                                                pid, json_object_get_int_member (e, "tid"));
      double ts = json_object_get_double_member (e, "ts");
      double *prev = g_hash_table_lookup (last, track);
      gint64 *open = g_hash_table_lookup (depth, track);

      pid_store[i] = pid;
      g_assert_nonnull (json_object_get_string_member (e, "name"));
      g_assert_nonnull (json_object_get_string_member (e, "cat"));
      g_assert_true (json_object_has_member (e, "tid"));
      g_assert_nonnull (json_object_get_object_member (e, "args"));
      if (strcmp (ph, "M") == 0)
        {
          g_assert_false (g_hash_table_contains (names, &pid_store[i]));
          g_hash_table_add (names, &pid_store[i]);
          continue;
        }
      g_assert_nonnull (kind_of (e));
      g_hash_table_add (pids, &pid_store[i]);
      if (prev != NULL)
        g_assert_cmpfloat (ts, >=, *prev);
      else
        g_hash_table_insert (last, g_strdup (track), prev = g_new (double, 1));
      *prev = ts;
      if (open == NULL)
        g_hash_table_insert (depth, g_strdup (track), open = g_new0 (gint64, 1));
      if (strcmp (ph, "B") == 0)
        (*open)++;
      else if (strcmp (ph, "E") == 0)
        {
          g_assert_cmpint (*open, >, 0);
          (*open)--;
        }
    }
  g_hash_table_iter_init (&iter, depth);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_assert_cmpint (*(gint64 *) value, ==, 0);
  /* every process with events has its name (one that only named itself
   * has no other event) */
  g_assert_cmpuint (g_hash_table_size (names), >=, g_hash_table_size (pids));
  g_hash_table_iter_init (&iter, pids);
  while (g_hash_table_iter_next (&iter, &value, NULL))
    g_assert_true (g_hash_table_contains (names, value));
  return g_hash_table_size (names);
}

static JsonNode *
stop_trace (void)
{
  g_autoptr(GError) error = NULL;
  const char *dir = g_getenv ("MP_TRACE_DIR");
  g_autofree char *dir_copy = g_strdup (dir);
  JsonNode *doc;

  g_assert_nonnull (dir_copy);
  doc = mp_trace_stop (&error);
  g_assert_no_error (error);
  g_assert_nonnull (doc);
  g_assert_false (mp_trace_is_active ());
  /* nothing left behind */
  g_assert_false (g_file_test (dir_copy, G_FILE_TEST_EXISTS));
  g_assert_null (g_getenv ("MP_TRACE_DIR"));
  return doc;
}

static void
start_trace (void)
{
  g_autoptr(GError) error = NULL;

  /* a forkserver left from an earlier test would be a process outside
   * the trace: each trace starts its own */
  g_assert_true (mp_forkserver_stop (&error));
  g_assert_true (mp_trace_start (NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mp_trace_is_active ());
}

/* ---- tasks ---------------------------------------------------------------- */

static gboolean
task_noop (MpArgs *args, GValue *result, GError **error)
{
  return TRUE;
}
MP_TASK_DEFINE ("trace-noop", task_noop)

/* Leaves events, then dies by SIGKILL in the middle of a wait slice. */
static gboolean
task_killed (MpArgs *args, GValue *result, GError **error)
{
  mp_trace_set_role ("doomed");
  MP_TRACE (mp_trace_lock_wait_begin ("Lock", "never released"));
  MP_TRACE (mp_trace_lock_acquired ("Lock", "never released", 5));
  kill (getpid (), SIGKILL);
  return TRUE;
}
MP_TASK_DEFINE ("trace-killed", task_killed)

/* Takes the lock it is given, once. */
static gboolean
task_take_lock (MpArgs *args, GValue *result, GError **error)
{
  MpLock *lock = mp_args_get_object (args, 0);

  return mp_lock_acquire (lock, MP_WAIT_FOREVER, error) && mp_lock_release (lock, error);
}
MP_TASK_DEFINE ("trace-take-lock", task_take_lock)

/* Says it runs, then waits for the lock the parent holds. */
static gboolean
task_wait_lock (MpArgs *args, GValue *result, GError **error)
{
  MpEvent *running = mp_args_get_object (args, 0);
  MpLock *lock = mp_args_get_object (args, 1);

  mp_event_set (running);
  return mp_lock_acquire (lock, MP_WAIT_FOREVER, error) && mp_lock_release (lock, error);
}
MP_TASK_DEFINE ("trace-wait-lock", task_wait_lock)

/* An unguarded += on the watched value: a read, then a write. */
static gboolean
task_increment (MpArgs *args, GValue *result, GError **error)
{
  MpValue *value = mp_args_get_object (args, 0);
  gint64 v = mp_value_get_int (value, error);

  return mp_value_set_int (value, v + 1, error);
}
MP_TASK_DEFINE ("trace-increment", task_increment)

/* In a pool worker: appends a cluster to the manager list it is given,
 * then reads it back (a copy of the server's object). */
static gboolean
task_append (MpArgs *args, GValue *result, GError **error)
{
  MpProxy *list = mp_args_get_object (args, 0);
  g_autoptr(GValue) item = value_cluster ("a", TRUE);
  g_auto(GValue) back = G_VALUE_INIT;

  return mp_list_proxy_append (list, item, error) &&
         mp_list_proxy_get_item (list, 0, &back, error);
}
MP_TASK_DEFINE ("trace-append", task_append)

/* In a pool worker: dies, or (with any argument) waits to be broken. */
static gboolean
task_die (MpArgs *args, GValue *result, GError **error)
{
  if (mp_args_get_length (args) == 0)
    kill (getpid (), SIGKILL);
  return TRUE;
}
MP_TASK_DEFINE ("trace-die", task_die)

static MpProcess *
start_child_with (const char    *task,
                  MpStartMethod  method,
                  gpointer       object)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  MpProcess *p;

  mp_args_add_object (args, object);
  p = mp_process_new (task, args);
  mp_process_set_start_method (p, method);
  g_assert_true (mp_process_start (p, &error));
  g_assert_no_error (error);
  return p;
}

static void
join_ok (MpProcess *p)
{
  g_autoptr(GError) error = NULL;
  int code = -1;

  g_assert_true (mp_process_join (p, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (p, &code));
  g_assert_cmpint (code, ==, 0);
}

static MpProcess *
run_child (const char    *task,
           MpStartMethod  method,
           int           *exitcode)
{
  g_autoptr(GError) error = NULL;
  MpProcess *p = mp_process_new (task, NULL);

  mp_process_set_start_method (p, method);
  g_assert_true (mp_process_start (p, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_join (p, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (p, exitcode));
  return p;
}

/* ---- tests ---------------------------------------------------------------- */

static void
test_start_stop_misuse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) doc = NULL;

  g_assert_null (mp_trace_stop (&error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  start_trace ();
  g_assert_false (mp_trace_start (NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  doc = stop_trace ();
  /* the parent alone, named by its default role */
  g_assert_cmpuint (assert_well_formed (doc), ==, 1);
  g_assert_cmpstr (role_of (doc, getpid ()), ==, "parent");
}

/* @n processes, and the forkserver's server under forkserver */
static guint
processes_under (MpStartMethod method,
                 guint         n)
{
  return n + (method == MP_START_FORKSERVER);
}

static void
test_child (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(MpProcess) p = NULL;
  g_autofree char *seq = NULL;
  JsonObject *start, *exit_event;
  int code = -1;
  GPid pid;

  start_trace ();
  p = run_child ("trace-noop", method, &code);
  g_assert_cmpint (code, ==, 0);
  pid = mp_process_get_pid (p);
  doc = stop_trace ();

  /* under forkserver the server is a process of the trace too */
  g_assert_cmpuint (assert_well_formed (doc), ==, processes_under (method, 2));
  if (method == MP_START_FORKSERVER)
    g_assert_cmpstr (role_of (doc, mp_forkserver_get_pid ()), ==,
                     "forkserver");
  seq = sequence_of (doc, pid, NULL);
  if (method == MP_START_SPAWN)
    g_assert_cmpstr (seq, ==,
                     "process.start/i process.guard/i process.task/B process.task/E process.exit/i");
  else
    g_assert_cmpstr (seq, ==, "process.start/i process.task/B process.task/E process.exit/i");
  start = find_event (doc, pid, "process.start", "i");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (start, "args"), "method"), ==,
                   mp_start_method_to_string (method));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (start, "args"), "task"), ==,
                   "trace-noop");
  exit_event = find_event (doc, pid, "process.exit", "i");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (exit_event, "args"), "code"), ==, 0);
  g_assert_cmpstr (role_of (doc, pid), ==, mp_process_get_name (p));
  test_assert_no_children ();
}

static void
test_killed (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(MpProcess) p = NULL;
  g_autofree char *seq = NULL;
  JsonObject *exit_event, *end;
  int code = 0;
  GPid pid;

  start_trace ();
  p = run_child ("trace-killed", method, &code);
  g_assert_cmpint (code, ==, -SIGKILL);
  pid = mp_process_get_pid (p);
  doc = stop_trace ();

  g_assert_cmpuint (assert_well_formed (doc), ==, processes_under (method, 2));
  g_assert_cmpstr (role_of (doc, pid), ==, "doomed");
  /* what it wrote before the kill is there; what it left open is closed */
  seq = sequence_of (doc, pid, NULL);
  g_assert_true (g_str_has_suffix (seq, "process.task/B lock.wait/B lock.wait/E lock.hold/B "
                                   "process.exit/i lock.hold/E process.task/E"));
  end = find_event (doc, pid, "lock.hold", "E");
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (end, "args"), "closed_at_death"));
  exit_event = find_event (doc, pid, "process.exit", "i");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (exit_event, "args"), "signal"), ==,
                   SIGKILL);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (
                     find_event (doc, pid, "lock.hold", "B"), "args"), "waited_ns"), ==, 5);
}

static void
test_errors_recorded (void)
{
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) error2 = NULL;
  g_autoptr(GError) error3 = NULL;
  g_autoptr(MpProcess) p = mp_process_new ("no-such-task", NULL);
  JsonObject *e;

  start_trace ();
  g_assert_false (mp_process_start (p, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_LOCAL_FUNCTION);
  /* an error nobody asks for is no error: a zero-timeout poll */
  mp_set_error (NULL, MP_ERROR_TIMEOUT, "a wait nobody reports");
  mp_set_error (&error2, MP_ERROR_TIMEOUT, "a wait somebody reports");
  /* control flow the library expects (a poll, a goodbye) is no failure */
  mp_trace_expect_errors_push ();
  mp_set_error (&error3, MP_ERROR_CONNECTION_CLOSED, "a peer's goodbye");
  mp_trace_expect_errors_pop ();
  doc = stop_trace ();

  assert_well_formed (doc);
  assert_sequence (doc, getpid (), "error", "error/i error/i");
  e = find_event (doc, getpid (), "error", "i");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (e, "args"), "code"), ==,
                   "local-function");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (e, "args"), "pitfall"), ==,
                   "local-function");
  g_assert_nonnull (strstr (json_object_get_string_member (json_object_get_object_member (e, "args"), "message"),
                            "no-such-task"));
}

static void
test_write_file (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *dir = g_dir_make_tmp ("test-trace-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "out.json", NULL);
  g_autofree char *bad = g_build_filename (dir, "missing", "out.json", NULL);

  g_assert_no_error (error);
  g_assert_true (mp_trace_start (path, &error));
  mp_trace_set_role ("the test");
  doc = stop_trace ();
  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (assert_well_formed (json_parser_get_root (parser)), ==, 1);
  g_assert_cmpstr (role_of (json_parser_get_root (parser), getpid ()), ==, "the test");
  g_assert_cmpint (g_unlink (path), ==, 0);

  /* a file that cannot be written: an error, and still nothing left */
  g_clear_pointer (&doc, json_node_unref);
  g_assert_true (mp_trace_start (bad, &error));
  g_assert_null (mp_trace_stop (&error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_false (mp_trace_is_active ());
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static JsonObject *
args_of (JsonObject *event)
{
  g_assert_nonnull (event);
  return json_object_get_object_member (event, "args");
}

static void
test_value_free (gpointer data)
{
  GValue *value = data;

  g_value_unset (value);
  g_free (value);
}

static double
ts_of (JsonObject *event)
{
  g_assert_nonnull (event);
  return json_object_get_double_member (event, "ts");
}

static void
test_lock_two_processes (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(MpProcess) p = NULL;
  g_autofree char *mine = NULL;
  g_autofree char *theirs = NULL;
  const char *label;
  GPid pid;

  g_assert_no_error (error);
  start_trace ();
  /* the parent holds the lock while the child starts: the child's hold
   * can only begin after the parent's ends */
  g_assert_true (mp_lock_acquire (lock, MP_WAIT_FOREVER, &error));
  p = start_child_with ("trace-take-lock", method, lock);
  g_assert_true (mp_lock_release (lock, &error));
  join_ok (p);
  pid = mp_process_get_pid (p);
  doc = stop_trace ();

  g_assert_cmpuint (assert_well_formed (doc), ==, processes_under (method, 2));
  mine = sequence_of (doc, getpid (), "lock.");
  theirs = sequence_of (doc, pid, "lock.");
  g_assert_cmpstr (mine, ==, "lock.wait/B lock.wait/E lock.hold/B lock.hold/E");
  g_assert_cmpstr (theirs, ==, "lock.wait/B lock.wait/E lock.hold/B lock.hold/E");
  label = json_object_get_string_member (json_object_get_object_member (
            find_event (doc, getpid (), "lock.hold", "B"), "args"), "object");
  g_assert_true (g_str_has_prefix (label, "Lock "));
  /* the same lock has the same name in both processes */
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     find_event (doc, pid, "lock.hold", "B"), "args"), "object"), ==, label);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     find_event (doc, pid, "lock.wait", "B"), "args"), "type"), ==, "Lock");
  /* wait, acquire, release in order across the two processes */
  g_assert_cmpfloat (ts_of (find_event (doc, getpid (), "lock.hold", "E")), <=,
                     ts_of (find_event (doc, pid, "lock.hold", "B")));
  g_assert_cmpfloat (ts_of (find_event (doc, pid, "lock.wait", "B")), <=,
                     ts_of (find_event (doc, pid, "lock.hold", "B")));
  g_assert_cmpfloat (ts_of (find_event (doc, pid, "process.start", "i")), <=,
                     ts_of (find_event (doc, pid, "lock.wait", "B")));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (
                     find_event (doc, pid, "lock.hold", "B"), "args"), "waited_ns"), >=, 0);
}

static void
test_lock_timeout (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSemaphore) sem = mp_semaphore_new (0, &error);
  g_autoptr(JsonNode) doc = NULL;

  g_assert_no_error (error);
  start_trace ();
  g_assert_false (mp_semaphore_acquire (sem, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  doc = stop_trace ();
  assert_well_formed (doc);
  assert_sequence (doc, getpid (), "lock.", "lock.wait/B lock.wait/E lock.timeout/i");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (
                     find_event (doc, getpid (), "lock.timeout", "i"), "args"), "type"), ==, "Semaphore");
}

static void
test_watch (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) value = mp_value_create ('q', FALSE, &error);
  g_autoptr(MpValue) unwatched = mp_value_create ('q', FALSE, &error);
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(MpProcess) p = NULL;
  JsonObject *write;

  g_assert_no_error (error);
  mp_value_set_int (value, 41, NULL);
  start_trace ();
  mp_trace_watch (value, "total");
  mp_value_set_int (unwatched, 1, NULL);
  p = start_child_with ("trace-increment", method, value);
  join_ok (p);
  g_assert_cmpint (mp_value_get_int (value, NULL), ==, 42);
  doc = stop_trace ();
  mp_trace_watch (value, NULL);

  assert_well_formed (doc);
  /* the parent's own read at the end; the child's read then write */
  assert_sequence (doc, getpid (), "value.", "value.read/i");
  assert_sequence (doc, mp_process_get_pid (p), "value.", "value.read/i value.write/i");
  write = find_event (doc, mp_process_get_pid (p), "value.write", "i");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (write, "args"), "value"), ==, 42);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (write, "args"), "object"), ==,
                   "total");
  g_assert_false (json_object_has_member (json_object_get_object_member (write, "args"), "index"));
}


/* The first event of @kind/@ph with args.method == @method on @pid. */
static JsonObject *
find_call (JsonNode   *doc,
           gint64      pid,
           const char *kind,
           const char *ph,
           const char *method)
{
  JsonArray *events = events_of (doc);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);

      if (g_strcmp0 (kind_of (e), kind) == 0 && strcmp (ph_of (e), ph) == 0 &&
          json_object_get_int_member (e, "pid") == pid &&
          g_strcmp0 (json_object_get_string_member (args_of (e), "method"), method) == 0)
        return e;
    }
  return NULL;
}

static JsonObject *
find_flow (JsonNode   *doc,
           const char *ph,
           gint64      id)
{
  JsonArray *events = events_of (doc);

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *e = json_array_get_object_element (events, i);

      if (strcmp (ph_of (e), ph) == 0 && json_object_get_int_member (e, "id") == id)
        return e;
    }
  return NULL;
}

static void
test_manager_from_pool (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(JsonNode) doc = NULL;
  JsonObject *dispatch, *call, *handle, *reply, *get_reply;
  gint64 worker, server, flow;

  start_trace ();
  mp_manager_set_start_method (manager, method);
  g_assert_true (mp_manager_start (manager, &error));
  g_assert_no_error (error);
  server = mp_manager_get_server_pid (manager);
  list = mp_manager_list (manager, NULL, &error);
  g_assert_no_error (error);
  pool = mp_pool_new_full (1, method, NULL, NULL, &error);
  g_assert_no_error (error);
  mp_args_add_object (args, list);
  future = mp_pool_submit (pool, "trace-append", args, &error);
  g_assert_no_error (error);
  g_assert_true (mp_future_result (future, -1, NULL, &error));
  g_assert_no_error (error);
  mp_pool_shutdown (pool, TRUE);
  g_clear_object (&list);
  g_assert_true (mp_manager_shutdown (manager, &error));
  g_assert_no_error (error);
  doc = stop_trace ();

  assert_well_formed (doc);
  g_assert_cmpstr (role_of (doc, server), ==, "manager server");
  g_assert_nonnull (find_event (doc, getpid (), "pool.submit", "i"));
  dispatch = find_event (doc, 0, "pool.dispatch", "i");
  worker = json_object_get_int_member (dispatch, "pid");
  g_assert_cmpstr (json_object_get_string_member (args_of (dispatch), "task"), ==, "trace-append");
  g_assert_cmpint (json_object_get_int_member (args_of (dispatch), "worker"), ==, 1);
  g_assert_cmpstr (role_of (doc, worker), ==, "worker 1");

  /* request in the worker, handling in the server, reply in the worker */
  call = find_call (doc, worker, "proxy.call", "B", "append");
  handle = find_call (doc, server, "proxy.handle", "B", "append");
  reply = find_call (doc, worker, "proxy.reply", "i", "append");
  g_assert_cmpstr (json_object_get_string_member (args_of (call), "object"), ==,
                   json_object_get_string_member (args_of (handle), "object"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (args_of (call), "object"), "list "));
  g_assert_cmpint (json_object_get_int_member (args_of (call), "bytes"), >, 0);
  g_assert_cmpint (json_object_get_int_member (args_of (reply), "bytes"), >, 0);
  g_assert_cmpfloat (ts_of (call), <=, ts_of (handle));
  g_assert_cmpfloat (ts_of (handle), <=, ts_of (reply));
  g_assert_false (json_object_get_boolean_member (args_of (reply), "copy"));
  flow = json_object_get_int_member (args_of (call), "flow");
  g_assert_cmpint (json_object_get_int_member (find_flow (doc, "s", flow), "pid"), ==, worker);
  g_assert_cmpint (json_object_get_int_member (find_flow (doc, "f", flow), "pid"), ==, worker);
  g_assert_cmpint (json_object_get_int_member (args_of (reply), "flow"), ==, flow);
  /* reading the object back gives a copy */
  get_reply = find_call (doc, worker, "proxy.reply", "i", "__getitem__");
  g_assert_nonnull (get_reply);
  g_assert_true (json_object_get_boolean_member (args_of (get_reply), "copy"));
  g_assert_nonnull (find_event (doc, worker, "pool.done", "i"));
  g_assert_true (json_object_get_boolean_member (args_of (find_event (doc, worker, "pool.done", "i")), "ok"));
  /* the handshake polls, the clients' goodbyes and the shutdown are the
   * server's normal life: no error on any track */
  g_assert_null (find_event (doc, 0, "error", "i"));
}

/* A child named in one trace and reaped in the next, where only its exit
 * (written by the parent) stands, keeps its name there. */
static void
test_name_kept (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpEvent) running = mp_event_new (&error);
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpProcess) p = NULL;
  g_autoptr(JsonNode) first = NULL;
  g_autoptr(JsonNode) second = NULL;
  gint64 pid;

  g_assert_no_error (error);
  g_assert_true (mp_lock_acquire (lock, MP_WAIT_FOREVER, &error));
  start_trace ();
  mp_args_add_object (args, running);
  mp_args_add_object (args, lock);
  p = mp_process_new ("trace-wait-lock", args);
  mp_process_set_start_method (p, method);
  g_assert_true (mp_process_start (p, &error));
  g_assert_no_error (error);
  pid = mp_process_get_pid (p);
  /* its task runs: it has named itself */
  g_assert_true (mp_event_wait (running, -1, &error));
  first = stop_trace ();

  /* not start_trace (): a forkserver's child lives on into this trace */
  g_assert_true (mp_trace_start (NULL, &error));
  g_assert_no_error (error);
  g_assert_true (mp_lock_release (lock, &error));
  join_ok (p);
  second = stop_trace ();

  assert_well_formed (second);
  g_assert_nonnull (find_event (second, pid, "process.exit", "i"));
  g_assert_nonnull (role_of (first, pid));
  g_assert_false (g_str_has_prefix (role_of (first, pid), "pid "));
  g_assert_cmpstr (role_of (second, pid), ==, role_of (first, pid));
}

static void
test_worker_killed (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(MpArgs) wait_args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpFuture) dies = NULL;
  g_autoptr(MpFuture) broken = NULL;
  g_autoptr(JsonNode) doc = NULL;
  g_autofree char *seq = NULL;
  JsonObject *died, *exit_event, *dispatch;
  JsonArray *list;
  gint64 worker;

  start_trace ();
  pool = mp_pool_new_full (1, method, NULL, NULL, &error);
  g_assert_no_error (error);
  mp_args_add_int (wait_args, 1);
  dies = mp_pool_submit (pool, "trace-die", NULL, &error);
  broken = mp_pool_submit (pool, "trace-die", wait_args, &error);
  g_assert_no_error (error);
  g_assert_false (mp_future_result (dies, -1, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_POOL);
  g_clear_error (&error);
  g_assert_false (mp_future_result (broken, -1, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_POOL);
  mp_pool_shutdown (pool, TRUE);
  doc = stop_trace ();

  assert_well_formed (doc);
  dispatch = find_event (doc, 0, "pool.dispatch", "i");
  worker = json_object_get_int_member (dispatch, "pid");
  /* the worker's events up to the kill are there (taking the request
   * under the pool's queue lock, then the task), its task slice closed */
  seq = sequence_of (doc, worker, NULL);
  g_assert_cmpstr (seq, ==, method == MP_START_SPAWN ?
                   "process.start/i process.guard/i process.task/B lock.wait/B lock.wait/E lock.hold/B "
                   "lock.hold/E pool.dispatch/i process.exit/i process.task/E" :
                   "process.start/i process.task/B lock.wait/B lock.wait/E lock.hold/B lock.hold/E "
                   "pool.dispatch/i process.exit/i process.task/E");
  g_assert_true (json_object_get_boolean_member (args_of (find_event (doc, worker, "process.task", "E")),
                                                 "closed_at_death"));
  exit_event = find_event (doc, worker, "process.exit", "i");
  g_assert_cmpint (json_object_get_int_member (args_of (exit_event), "signal"), ==, SIGKILL);
  died = find_event (doc, getpid (), "pool.worker-died", "i");
  g_assert_cmpint (json_object_get_int_member (args_of (died), "worker"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (args_of (died), "signal"), ==, SIGKILL);
  list = json_object_get_array_member (args_of (died), "broken");
  g_assert_cmpuint (json_array_get_length (list), ==, 2);
  g_assert_cmpint (json_array_get_int_element (list, 0), ==, mp_future_get_index (dies));
  g_assert_cmpint (json_array_get_int_element (list, 1), ==, mp_future_get_index (broken));
}

static void
test_serialize_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) value = mp_value_create ('q', TRUE, &error);
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func (test_value_free);
  g_autoptr(JsonNode) doc = NULL;
  g_autoptr(GVariant) wire = NULL;
  GValue *item = g_new0 (GValue, 1);
  g_auto(GValue) boxed = G_VALUE_INIT;
  JsonObject *refused, *e;

  g_assert_no_error (error);
  g_value_init (item, MP_TYPE_VALUE);
  g_value_set_object (item, value);
  g_ptr_array_add (list, item);
  g_value_init (&boxed, MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (&boxed, list);

  start_trace ();
  /* a locked Value inside a list, outside any process start */
  wire = mp_serialize_value (&boxed, &error);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  doc = stop_trace ();

  assert_well_formed (doc);
  refused = find_event (doc, getpid (), "serialize.refused", "i");
  g_assert_nonnull (refused);
  g_assert_cmpstr (json_object_get_string_member (args_of (refused), "path"), ==, "[0]");
  e = find_event (doc, getpid (), "error", "i");
  g_assert_cmpstr (json_object_get_string_member (args_of (e), "pitfall"), ==, "inheritance-only");
}

/* Run as `test-trace --env-child` with MP_TRACE set: starts and joins one
 * child, then exits through main(), where the recorder writes the file. */
static int
env_child_main (void)
{
  g_autoptr(MpProcess) p = NULL;
  int code = -1;

  if (!mp_trace_is_active ())
    return 3;
  p = run_child ("trace-noop", MP_START_FORK, &code);
  g_print ("%d\n", (int) getpid ());
  return code;
}

static void
test_env (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-trace-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "env.json", NULL);
  g_autofree char *self = g_test_build_filename (G_TEST_BUILT, "test-trace", NULL);
  g_autofree char *out = NULL;
  g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "MP_TRACE", path, TRUE);
  const char *argv[] = { self, "--env-child", NULL };
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *doc;
  int status = -1;

  /* g_spawn_sync(), not GSubprocess: no GLib worker thread here, whose
   * memory every later forked child would count as lost under valgrind */
  g_assert_no_error (error);
  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, &error));
  g_assert_no_error (error);

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  doc = json_parser_get_root (parser);
  g_assert_cmpuint (assert_well_formed (doc), ==, 2);
  /* the program, named "parent", printed its pid */
  g_assert_cmpstr (role_of (doc, g_ascii_strtoll (out, NULL, 10)), ==, "parent");
  g_assert_nonnull (find_event (doc, 0, "process.exit", "i"));
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static void
test_file_limit (void)
{
  g_autoptr(JsonNode) doc = NULL;
  gint64 dropped, recorded = 0;
  JsonArray *events;
  const int n = 100000;  /* more than one 1 MiB file holds (32 bytes each) */

  mp_trace_set_file_limit (1);
  start_trace ();
  for (int i = 0; i < n; i++)
    mp_trace_value_int (TRUE, "total", MP_TRACE_NONE, i);
  doc = stop_trace ();
  mp_trace_set_file_limit (8);

  assert_well_formed (doc);
  events = events_of (doc);
  for (guint i = 0; i < json_array_get_length (events); i++)
    recorded += g_strcmp0 (kind_of (json_array_get_object_element (events, i)), "value.write") == 0;
  dropped = json_object_get_int_member (json_node_get_object (doc), "mpshareDroppedEvents");
  g_assert_cmpint (recorded, >, 0);
  g_assert_cmpint (dropped, >, 0);
  /* every event is either in the document or counted as dropped */
  g_assert_cmpint (recorded + dropped, ==, n);
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  if (argc == 2 && strcmp (argv[1], "--env-child") == 0)
    return env_child_main ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/trace/misuse", test_start_stop_misuse);
  g_test_add_func ("/trace/errors", test_errors_recorded);
  g_test_add_func ("/trace/write-file", test_write_file);
  g_test_add_func ("/trace/env", test_env);
  g_test_add_func ("/trace/file-limit", test_file_limit);
  test_add_both_methods ("/trace/%s/child", test_child);
  test_add_both_methods ("/trace/%s/killed", test_killed);
  test_add_both_methods ("/trace/%s/lock", test_lock_two_processes);
  test_add_both_methods ("/trace/%s/watch", test_watch);
  g_test_add_func ("/trace/lock-timeout", test_lock_timeout);
  g_test_add_func ("/trace/serialize-refused", test_serialize_refused);
  test_add_both_methods ("/trace/%s/manager-from-pool", test_manager_from_pool);
  test_add_both_methods ("/trace/%s/worker-killed", test_worker_killed);
  test_add_both_methods ("/trace/%s/name-kept", test_name_kept);
  return g_test_run ();
}
