/* test-process.c — MpProcess, start methods, the registry, the main guard
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Under spawn this very binary is executed again: main() calls
 * mp_main_guard() first, which diverts the child into its task.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mp-process-private.h"
#include "test-process-common.h"

/* ---- a registered custom type, to check objects reach the child ---------- */

#define TEST_TYPE_POINT (test_point_get_type ())
G_DECLARE_FINAL_TYPE (TestPoint, test_point, TEST, POINT, GObject)

struct _TestPoint
{
  GObject parent_instance;
  int     x, y;
  char   *label;
};

enum { PROP_0, PROP_X, PROP_Y, PROP_LABEL };

G_DEFINE_FINAL_TYPE (TestPoint, test_point, G_TYPE_OBJECT)

static void
test_point_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  TestPoint *self = TEST_POINT (object);

  switch (id)
    {
    case PROP_X: g_value_set_int (value, self->x); break;
    case PROP_Y: g_value_set_int (value, self->y); break;
    case PROP_LABEL: g_value_set_string (value, self->label); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
test_point_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  TestPoint *self = TEST_POINT (object);

  switch (id)
    {
    case PROP_X: self->x = g_value_get_int (value); break;
    case PROP_Y: self->y = g_value_get_int (value); break;
    case PROP_LABEL: g_free (self->label); self->label = g_value_dup_string (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
test_point_finalize (GObject *object)
{
  g_free (TEST_POINT (object)->label);
  G_OBJECT_CLASS (test_point_parent_class)->finalize (object);
}

static void
test_point_class_init (TestPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_point_get_property;
  object_class->set_property = test_point_set_property;
  object_class->finalize = test_point_finalize;
  g_object_class_install_property (object_class, PROP_X,
    g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_Y,
    g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_LABEL,
    g_param_spec_string ("label", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_point_init (TestPoint *self)
{
}

/* Registered at load time, so a spawned child knows the type too. */
MP_INITIALIZER (register_test_point)
static void
register_test_point (void)
{
  mp_serialize_register_type (TEST_TYPE_POINT, NULL);
}

/* ---- arguments of every kind -------------------------------------------- */

static GValue *
value_take (GType type, gpointer boxed)
{
  GValue *value = mp_gvalue_new (type);

  g_value_take_boxed (value, boxed);
  return value;
}

static GValue *
value_int (gint64 v)
{
  GValue *value = mp_gvalue_new (G_TYPE_INT64);

  g_value_set_int64 (value, v);
  return value;
}

/* The same arguments in parent and child; @variant changes one of them so
 * the check can be seen to fail. */
static void
add_all_kinds (MpArgs *args,
               gint64  variant)
{
  g_autoptr(GPtrArray) inner = mp_gvalue_list_new ();
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_autoptr(GPtrArray) flags = mp_gvalue_list_new ();
  g_autoptr(TestPoint) point = g_object_new (TEST_TYPE_POINT, "x", 3, "y", -4, "label", "p", NULL);
  g_autoptr(GValue) value = NULL;
  GValue *element;

  mp_args_add_boolean (args, TRUE);
  mp_args_add_int (args, G_GINT64_CONSTANT (-1234567890123) + variant);
  value = mp_gvalue_new (G_TYPE_UINT64);
  g_value_set_uint64 (value, G_MAXUINT64);
  mp_args_add_value (args, value);
  mp_args_add_double (args, 3.25);
  mp_args_add_string (args, "h\xc3\xa9llo w\xc3\xb6rld");
  mp_args_add_string (args, NULL);
  g_clear_pointer (&value, mp_gvalue_free);
  value = value_take (G_TYPE_BYTES, g_bytes_new ("\0\1\2\xff", 4));
  mp_args_add_value (args, value);

  element = mp_gvalue_new (G_TYPE_DOUBLE);
  g_value_set_double (element, 3.0);
  g_ptr_array_add (inner, element);
  g_ptr_array_add (list, value_int (1));
  element = mp_gvalue_new (G_TYPE_STRING);
  g_value_set_string (element, "two");
  g_ptr_array_add (list, element);
  g_ptr_array_add (list, value_take (MP_TYPE_GVALUE_LIST, g_steal_pointer (&inner)));
  g_clear_pointer (&value, mp_gvalue_free);
  value = value_take (MP_TYPE_GVALUE_LIST, g_steal_pointer (&list));
  mp_args_add_value (args, value);

  element = mp_gvalue_new (G_TYPE_BOOLEAN);
  g_value_set_boolean (element, FALSE);
  g_ptr_array_add (flags, element);
  g_hash_table_insert (dict, g_strdup ("a"), value_int (1));
  g_hash_table_insert (dict, g_strdup ("b"), value_take (MP_TYPE_GVALUE_LIST, g_steal_pointer (&flags)));
  g_clear_pointer (&value, mp_gvalue_free);
  value = value_take (MP_TYPE_GVALUE_DICT, g_steal_pointer (&dict));
  mp_args_add_value (args, value);

  mp_args_add_object (args, point);
}

static gboolean
task_check_args (MpArgs  *args,
                 GValue  *result,
                 GError **error)
{
  g_autoptr(MpArgs) expected = mp_args_new (G_TYPE_INVALID);
  guint n;

  add_all_kinds (expected, 0);
  n = mp_args_get_length (expected);
  if (mp_args_get_length (args) != n)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "got %u arguments, expected %u", mp_args_get_length (args), n);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (!mp_gvalue_equal (mp_args_get_value (args, i), mp_args_get_value (expected, i)))
      {
        g_autofree char *got = mp_gvalue_to_string (mp_args_get_value (args, i));
        g_autofree char *want = mp_gvalue_to_string (mp_args_get_value (expected, i));
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "argument %u is %s, expected %s", i, got, want);
        return FALSE;
      }
  return TRUE;
}
MP_TASK_DEFINE ("test-check-args", task_check_args)

/* ---- tasks ----------------------------------------------------------------- */

static gboolean
task_exit (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  int code = (int) mp_args_get_int (args, 0);

  if (code != 0)
    {
      fflush (NULL);
      _exit (code);
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-exit", task_exit)

static gboolean
task_noop (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  return TRUE;
}
MP_TASK_DEFINE ("test-noop", task_noop)

static gboolean
task_fail (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "this task always fails");
  return FALSE;
}
MP_TASK_DEFINE ("test-fail", task_fail)

static gboolean
task_signal (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  raise ((int) mp_args_get_int (args, 0));
  mp_set_error (error, MP_ERROR_FAILED, "still alive after raise()");
  return FALSE;
}
MP_TASK_DEFINE ("test-signal", task_signal)

/* Blocks until the test writes a byte into the pipe; says it started
 * into the second pipe, if given. */
static gboolean
task_block (MpArgs  *args,
            GValue  *result,
            GError **error)
{
  TestFd *gate = mp_args_get_object (args, 0);

  if (mp_args_get_length (args) > 1 &&
      !test_fd_write_all (test_fd_get_fd (mp_args_get_object (args, 1)), "s", 1))
    {
      mp_set_error (error, MP_ERROR_FAILED, "writing the started byte failed");
      return FALSE;
    }
  if (!test_fd_read_byte (test_fd_get_fd (gate)))
    {
      mp_set_error (error, MP_ERROR_FAILED, "reading the gate failed");
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-block", task_block)

/* Set by a forkserver preload, in the server: its children inherit it. */
static int preloaded;

static void
preload_count (void)
{
  preloaded++;
}
MP_PRELOAD_DEFINE ("test-preload", preload_count)

/* Writes what the test asks about into the pipe. */
static gboolean
task_report (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  TestFd *out = mp_args_get_object (args, 0);
  const char *what = mp_args_get_string (args, 1);
  g_autoptr(GBytes) answer = NULL;

  if (g_str_equal (what, "auth-key"))
    answer = mp_get_auth_key ();
  else if (g_str_equal (what, "spawned"))
    answer = g_bytes_new_static (mp_is_spawned_child () ? "yes" : "no", mp_is_spawned_child () ? 3 : 2);
  else if (g_str_equal (what, "parent-and-preload"))
    {
      g_autofree char *text = g_strdup_printf ("%d %d", (int) getppid (), preloaded);
      gsize length = strlen (text);

      answer = g_bytes_new_take (g_steal_pointer (&text), length);
    }
  else if (g_str_equal (what, "start-method"))
    {
      /* set from the start: setting it again needs force, as in Python */
      const char *set = mp_start_method_is_set () ? "set" : "unset";
      g_autofree char *text = g_strdup_printf ("%s %s", set,
                                               mp_start_method_to_string (mp_get_start_method ()));
      gsize length = strlen (text);

      answer = g_bytes_new_take (g_steal_pointer (&text), length);
    }
  else
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "nothing to report about '%s'", what);
      return FALSE;
    }
  if (!test_fd_write_message (test_fd_get_fd (out), g_bytes_get_data (answer, NULL), g_bytes_get_size (answer)))
    {
      mp_set_error (error, MP_ERROR_FAILED, "writing the report failed");
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-report", task_report)

/* Exits 0 only when it was given no arguments at all. */
static gboolean
task_no_args (MpArgs  *args,
              GValue  *result,
              GError **error)
{
  if (args == NULL || mp_args_get_length (args) != 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "expected no arguments");
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-no-args", task_no_args)

/* A child may start children of its own: its bootstrapping is over. */
static gboolean
task_nested (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  g_autoptr(MpArgs) child_args = mp_args_new (G_TYPE_INT64, (gint64) 5, G_TYPE_INVALID);
  g_autoptr(MpProcess) child = mp_process_new ("test-exit", child_args);
  int code = -1;

  mp_process_set_start_method (child, (MpStartMethod) mp_args_get_int (args, 0));
  if (!mp_process_start (child, error) || !mp_process_join (child, -1, error))
    return FALSE;
  if (!mp_process_get_exitcode (child, &code) || code != 5)
    {
      mp_set_error (error, MP_ERROR_PROCESS_FAILED, "grandchild exit code %d, expected 5", code);
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-nested", task_nested)

/* args: bytes, expected length, expected sum of the bytes */
static gboolean
task_check_bytes (MpArgs  *args,
                  GValue  *result,
                  GError **error)
{
  GBytes *bytes = g_value_get_boxed (mp_args_get_value (args, 0));
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 sum = 0;

  for (gsize i = 0; i < size; i++)
    sum += data[i];
  if ((gint64) size != mp_args_get_int (args, 1) || (gint64) sum != mp_args_get_int (args, 2))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "got %" G_GSIZE_FORMAT " bytes summing to %" G_GUINT64_FORMAT,
                    size, sum);
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("test-check-bytes", task_check_bytes)

/* ---- helpers ---------------------------------------------------------------- */

static MpProcess *
start_process (MpStartMethod  method,
               const char    *task,
               MpArgs        *args)
{
  g_autoptr(GError) error = NULL;
  MpProcess *process = mp_process_new (task, args);

  mp_process_set_start_method (process, method);
  mp_process_start (process, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mp_process_get_start_method (process), ==, method);
  g_assert_cmpint (mp_process_get_pid (process), >, 0);
  return process;
}

/* Runs @task to the end and returns its exit code. */
static int
run_to_exit (MpStartMethod  method,
             const char    *task,
             MpArgs        *args)
{
  g_autoptr(MpProcess) process = start_process (method, task, args);
  g_autoptr(GError) error = NULL;
  int code = G_MININT;

  mp_process_join (process, -1, &error);
  g_assert_no_error (error);
  g_assert_false (mp_process_is_alive (process));
  g_assert_true (mp_process_get_exitcode (process, &code));
  return code;
}

/* ---- tests ------------------------------------------------------------------ */

static void
test_start_method_strings (void)
{
  g_autoptr(GError) error = NULL;
  MpStartMethod method = MP_START_DEFAULT;

  g_assert_true (mp_start_method_from_string ("fork", &method, &error));
  g_assert_cmpint (method, ==, MP_START_FORK);
  g_assert_true (mp_start_method_from_string ("forkserver", &method, &error));
  g_assert_cmpint (method, ==, MP_START_FORKSERVER);
  g_assert_true (mp_start_method_from_string ("spawn", &method, &error));
  g_assert_cmpint (method, ==, MP_START_SPAWN);
  g_assert_no_error (error);
  g_assert_false (mp_start_method_from_string ("fork-server", &method, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "fork-server"));
  g_assert_nonnull (strstr (error->message, "'forkserver'"));
  g_assert_cmpint (method, ==, MP_START_SPAWN);

  g_assert_cmpstr (mp_start_method_to_string (MP_START_FORK), ==, "fork");
  g_assert_cmpstr (mp_start_method_to_string (MP_START_SPAWN), ==, "spawn");
  g_assert_cmpstr (mp_start_method_to_string (MP_START_FORKSERVER), ==, "forkserver");
  g_assert_cmpstr (mp_start_method_to_string (MP_START_DEFAULT), ==, "default");
}

static void
test_start_method_default (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpProcess) process = NULL;
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) 0, G_TYPE_INVALID);
      g_autoptr(GError) error = NULL;

      g_assert_false (mp_start_method_is_set ());
      g_assert_true (mp_set_start_method (MP_START_SPAWN, FALSE, &error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_SPAWN);

      /* a process without its own method follows the process-wide one */
      process = mp_process_new ("test-exit", args);
      g_assert_cmpint (mp_process_get_start_method (process), ==, MP_START_DEFAULT);
      mp_process_start (process, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mp_process_get_start_method (process), ==, MP_START_SPAWN);
      mp_process_join (process, -1, &error);
      g_assert_no_error (error);

      /* forced back to unset, the next use fixes it to fork */
      g_assert_true (mp_set_start_method (MP_START_DEFAULT, TRUE, &error));
      g_assert_false (mp_start_method_is_set ());
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_FORK);
      g_assert_true (mp_start_method_is_set ());
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Python: set_start_method() a second time raises RuntimeError("context
 * has already been set") unless force=True; get_start_method() fixes it. */
static void
test_start_method_set_twice (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (mp_set_start_method (MP_START_FORKSERVER, FALSE, &error));
      g_assert_false (mp_set_start_method (MP_START_SPAWN, FALSE, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_true (g_str_has_prefix (error->message, "context has already been set"));
      g_assert_nonnull (strstr (error->message, "forkserver"));
      g_assert_nonnull (strstr (error->message, "force"));
      g_clear_error (&error);
      /* the same method again is refused too, as in Python */
      g_assert_false (mp_set_start_method (MP_START_FORKSERVER, FALSE, &error));
      g_clear_error (&error);
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_FORKSERVER);
      g_assert_true (mp_set_start_method (MP_START_SPAWN, TRUE, &error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_SPAWN);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_start_method_get_fixes (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (mp_start_method_is_set ());
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_FORK);
      g_assert_false (mp_set_start_method (MP_START_SPAWN, FALSE, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_cmpint (mp_get_start_method (), ==, MP_START_FORK);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A context carries its method into what it makes, and leaves the
 * process-wide one alone (a library's choice is not the program's). */
static void
test_context (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpProcess) process = NULL;
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) 3, G_TYPE_INVALID);
      MpContext *spawn = mp_get_context (MP_START_SPAWN);
      int code = -1;

      g_assert_nonnull (spawn);
      g_assert_true (mp_get_context (MP_START_SPAWN) == spawn);
      g_assert_cmpint (mp_context_get_start_method (spawn), ==, MP_START_SPAWN);
      g_assert_cmpint (mp_context_get_start_method (mp_get_context (MP_START_FORKSERVER)), ==,
                       MP_START_FORKSERVER);
      g_assert_false (mp_start_method_is_set ());

      process = mp_context_process_new (spawn, "test-exit", args);
      g_assert_true (mp_process_start (process, &error));
      g_assert_no_error (error);
      g_assert_true (mp_process_join (process, -1, &error));
      g_assert_no_error (error);
      g_assert_true (mp_process_get_exitcode (process, &code));
      g_assert_cmpint (code, ==, 3);
      g_assert_cmpint (mp_process_get_start_method (process), ==, MP_START_SPAWN);
      /* the process-wide method was neither set nor used */
      g_assert_false (mp_start_method_is_set ());

      /* the default context is the process-wide method, fixed by asking */
      g_assert_cmpint (mp_context_get_start_method (mp_get_context (MP_START_DEFAULT)), ==,
                       MP_START_FORK);
      g_assert_true (mp_start_method_is_set ());
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_unknown_task (gconstpointer data)
{
  g_autoptr(MpProcess) process = mp_process_new ("no-such-task", NULL);
  g_autoptr(GError) error = NULL;
  int code;

  mp_process_set_start_method (process, TEST_METHOD (data));
  g_assert_false (mp_process_start (process, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_LOCAL_FUNCTION);
  g_assert_nonnull (strstr (error->message, "'no-such-task'"));
  g_assert_nonnull (strstr (error->message, "Can't pickle local object"));
  g_assert_cmpint (mp_process_get_pid (process), ==, 0);
  g_assert_false (mp_process_is_alive (process));
  g_assert_false (mp_process_get_exitcode (process, &code));
  test_assert_no_children ();
}

static void
test_misuse (void)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) 0, G_TYPE_INVALID);
  g_autoptr(MpProcess) process = mp_process_new ("test-exit", args);
  g_autoptr(GError) error = NULL;

  g_assert_false (mp_process_join (process, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mp_process_terminate (process, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (mp_process_start (process, &error));
  g_assert_false (mp_process_start (process, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (mp_process_join (process, -1, &error));
  /* joining again and signalling a finished process are harmless */
  g_assert_true (mp_process_join (process, 0, &error));
  g_assert_true (mp_process_kill (process, &error));
  g_assert_no_error (error);
  test_assert_no_children ();
}

static void
test_exitcode (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(MpArgs) zero = mp_args_new (G_TYPE_INT64, (gint64) 0, G_TYPE_INVALID);
  g_autoptr(MpArgs) seven = mp_args_new (G_TYPE_INT64, (gint64) 7, G_TYPE_INVALID);
  g_autoptr(MpArgs) sigkill = mp_args_new (G_TYPE_INT64, (gint64) SIGKILL, G_TYPE_INVALID);

  g_assert_cmpint (run_to_exit (method, "test-exit", zero), ==, 0);
  g_assert_cmpint (run_to_exit (method, "test-exit", seven), ==, 7);
  g_assert_cmpint (run_to_exit (method, "test-signal", sigkill), ==, -SIGKILL);
  test_assert_no_children ();
}

static void
test_task_error (gconstpointer data)
{
  if (g_test_subprocess ())
    {
      g_assert_cmpint (run_to_exit (TEST_METHOD (data), "test-fail", NULL), ==, 1);
      return;
    }
  /* the child prints its error under Python's header */
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Process Process-*(task 'test-fail'):*invalid-argument: this task always fails*");
}

static void
test_args (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(MpArgs) good = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpArgs) bad = mp_args_new (G_TYPE_INVALID);

  if (g_test_subprocess ())
    {
      add_all_kinds (good, 0);
      g_assert_cmpint (run_to_exit (method, "test-check-args", good), ==, 0);
      /* the check can fail: one changed value gives exit code 1 */
      add_all_kinds (bad, 1);
      g_assert_cmpint (run_to_exit (method, "test-check-args", bad), ==, 1);
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*argument 1 is*");
}

/* Arguments far larger than a pipe buffer reach the child whole. */
static void
test_large_args (gconstpointer data)
{
  gsize size = 3 * 1024 * 1024 + 17;
  g_autofree guint8 *data_bytes = g_malloc (size);
  g_autoptr(GValue) value = mp_gvalue_new (G_TYPE_BYTES);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  guint64 sum = 0;

  for (gsize i = 0; i < size; i++)
    sum += data_bytes[i] = (guint8) (i * 7 + 3);
  g_value_take_boxed (value, g_bytes_new (data_bytes, size));
  mp_args_add_value (args, value);
  mp_args_add_int (args, (gint64) size);
  mp_args_add_int (args, (gint64) sum);
  g_assert_cmpint (run_to_exit (TEST_METHOD (data), "test-check-bytes", args), ==, 0);
  test_assert_no_children ();
}

typedef struct
{
  MpStartMethod method;
  int           base;
} ThreadJob;

static gpointer
start_many (gpointer data)
{
  ThreadJob *job = data;

  for (int i = 0; i < 6; i++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) (job->base + i), G_TYPE_INVALID);
      MpStartMethod method = (i % 2 == 0) ? job->method : MP_START_FORK;

      if (run_to_exit (method, "test-exit", args) != job->base + i)
        return GINT_TO_POINTER (FALSE);
    }
  return GINT_TO_POINTER (TRUE);
}

/* Several threads start and join processes at once: each join sees its
 * own child, none hangs on a status socket another child inherited. */
static void
test_threads (gconstpointer data)
{
  ThreadJob jobs[4];
  GThread *threads[G_N_ELEMENTS (jobs)];
  const char *preload = g_getenv ("LD_PRELOAD");

  /* A child forked by one thread lacks the others' stacks: valgrind then
   * reports what only they referenced as lost, and fails the child. */
  if (preload != NULL && strstr (preload, "vgpreload") != NULL)
    {
      g_test_skip ("valgrind fails children forked from a multi-threaded parent");
      return;
    }

  for (guint t = 0; t < G_N_ELEMENTS (jobs); t++)
    {
      jobs[t].method = TEST_METHOD (data);
      jobs[t].base = 10 * (t + 1);
      threads[t] = g_thread_new ("starter", start_many, &jobs[t]);
    }
  for (guint t = 0; t < G_N_ELEMENTS (jobs); t++)
    g_assert_true (GPOINTER_TO_INT (g_thread_join (threads[t])));
  test_assert_no_children ();
}

typedef struct
{
  MpStartMethod  method;
  MpArgs        *args;
  int            started;   /* read end: the child's task began */
  pid_t          tid;
} ThreadStart;

/* Ends only once the child runs its task, so the child had armed its
 * death signal (first thing after fork, or before exec) when this
 * thread ends: the signal does come. */
static gpointer
start_in_thread (gpointer data)
{
  ThreadStart *start = data;
  MpProcess *process;

  start->tid = test_gettid ();
  process = start_process (start->method, "test-block", start->args);
  g_assert_true (test_fd_read_byte (start->started));
  return process;
}

/* The death signal comes when the *thread* that forked a child ends; a
 * child whose parent process lives on must not take it for its parent's
 * death. */
static void
test_parent_thread_exit (gconstpointer data)
{
  TestPipe gate, started;
  g_autoptr(TestFd) gate_fd = NULL;
  g_autoptr(TestFd) started_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  g_autoptr(GError) error = NULL;
  ThreadStart start = { .method = TEST_METHOD (data) };
  int code;

  test_pipe_open (&gate);
  test_pipe_open (&started);
  gate_fd = test_fd_new (gate.read_end);
  started_fd = test_fd_new (started.write_end);
  start.started = started.read_end;
  start.args = args = mp_args_new (TEST_TYPE_FD, gate_fd, TEST_TYPE_FD, started_fd, G_TYPE_INVALID);
  process = g_thread_join (g_thread_new ("starter", start_in_thread, &start));
  /* the signal is queued now: the child handles it before its read of
   * the gate returns */
  test_wait_thread_gone (start.tid);
  test_pipe_release (&gate);
  g_assert_true (mp_process_join (process, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (process, &code));
  g_assert_cmpint (code, ==, 0);
  test_pipe_close (&gate);
  test_pipe_close (&started);
  test_assert_no_children ();
}

static void
test_join_timeout (gconstpointer data)
{
  TestPipe gate;
  g_autoptr(TestFd) gate_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  g_autoptr(GError) error = NULL;
  int code;

  test_pipe_open (&gate);
  gate_fd = test_fd_new (gate.read_end);
  args = mp_args_new (TEST_TYPE_FD, gate_fd, G_TYPE_INVALID);
  process = start_process (TEST_METHOD (data), "test-block", args);

  g_assert_false (mp_process_join (process, 20 * 1000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_false (mp_process_join (process, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_true (mp_process_is_alive (process));
  g_assert_false (mp_process_get_exitcode (process, &code));

  test_pipe_release (&gate);
  /* a timeout past the end of the clock waits as for ever does */
  g_assert_true (mp_process_join (process, G_MAXINT64, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (process, &code));
  g_assert_cmpint (code, ==, 0);
  g_assert_true (mp_process_get_task_started (process));
  test_pipe_close (&gate);
  test_assert_no_children ();
}

static void
check_signal (MpStartMethod method,
              gboolean      use_kill)
{
  TestPipe gate, started;
  g_autoptr(TestFd) gate_fd = NULL;
  g_autoptr(TestFd) started_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  g_autoptr(GError) error = NULL;
  int code;

  test_pipe_open (&gate);
  test_pipe_open (&started);
  gate_fd = test_fd_new (gate.read_end);
  started_fd = test_fd_new (started.write_end);
  args = mp_args_new (TEST_TYPE_FD, gate_fd, TEST_TYPE_FD, started_fd, G_TYPE_INVALID);
  process = start_process (method, "test-block", args);

  /* the signal hits the task itself, blocked in read() */
  g_assert_true (test_fd_read_byte (started.read_end));
  g_assert_true (use_kill ? mp_process_kill (process, &error) : mp_process_terminate (process, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_join (process, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (process, &code));
  g_assert_cmpint (code, ==, use_kill ? -SIGKILL : -SIGTERM);
  test_pipe_close (&gate);
  test_pipe_close (&started);
  test_assert_no_children ();
}

static void
test_terminate (gconstpointer data)
{
  check_signal (TEST_METHOD (data), FALSE);
}

static void
test_kill (gconstpointer data)
{
  check_signal (TEST_METHOD (data), TRUE);
}

static GBytes *
report (MpStartMethod  method,
        const char    *what)
{
  TestPipe out;
  g_autoptr(TestFd) out_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(GBytes) answer = NULL;

  test_pipe_open (&out);
  out_fd = test_fd_new (out.write_end);
  args = mp_args_new (TEST_TYPE_FD, out_fd, G_TYPE_STRING, what, G_TYPE_INVALID);
  g_assert_cmpint (run_to_exit (method, "test-report", args), ==, 0);
  answer = test_fd_read_message (out.read_end);
  g_assert_nonnull (answer);
  test_pipe_close (&out);
  return g_steal_pointer (&answer);
}

static void
test_auth_key (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GBytes) key = mp_get_auth_key ();
  g_autoptr(GBytes) again = mp_get_auth_key ();
  g_autoptr(GBytes) child_key = NULL;
  g_autoptr(GBytes) chosen = g_bytes_new_static ("a key the test chose", 20);

  /* made once, 32 random bytes */
  g_assert_cmpuint (g_bytes_get_size (key), ==, 32);
  g_assert_true (g_bytes_equal (key, again));

  child_key = report (method, "auth-key");
  g_assert_true (g_bytes_equal (child_key, key));
  g_clear_pointer (&child_key, g_bytes_unref);

  /* a key set later is what later children inherit */
  mp_set_auth_key (chosen);
  child_key = report (method, "auth-key");
  g_assert_true (g_bytes_equal (child_key, chosen));
  mp_set_auth_key (key);
  test_assert_no_children ();
}

/* A task started without arguments gets an empty MpArgs (a forked child
 * has no wire to decode then), and one with an empty MpArgs the same. */
static void
test_no_args (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(MpArgs) empty = mp_args_new (G_TYPE_INVALID);

  g_assert_cmpint (run_to_exit (method, "test-no-args", NULL), ==, 0);
  g_assert_cmpint (run_to_exit (method, "test-no-args", empty), ==, 0);
  test_assert_no_children ();
}

/* The key is made before the first child starts, even a forked child
 * without arguments (which gets no payload): the child shares it. */
static void
test_auth_key_first_child (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);

  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) child_key = report (method, "auth-key");
      g_autoptr(GBytes) key = mp_get_auth_key ();

      g_assert_true (g_bytes_equal (child_key, key));
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_spawned_flag (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  g_autoptr(GBytes) answer = report (method, "spawned");
  g_autoptr(GBytes) expected = g_bytes_new_static (method == MP_START_SPAWN ? "yes" : "no",
                                                   method == MP_START_SPAWN ? 3 : 2);

  g_assert_false (mp_is_spawned_child ());
  g_assert_true (g_bytes_equal (answer, expected));
  test_assert_no_children ();
}

/* A child's process-wide method is the one that started it, already set;
 * the parent's is another, so a fork child cannot pass by inheriting it. */
static void
test_child_start_method (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);

  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) answer = NULL;
      g_autofree char *expected = g_strdup_printf ("set %s", mp_start_method_to_string (method));
      g_autoptr(GError) error = NULL;

      g_assert_true (mp_set_start_method (method == MP_START_SPAWN ? MP_START_FORK : MP_START_SPAWN,
                                          FALSE, &error));
      answer = report (method, "start-method");
      g_assert_cmpmem (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                       expected, strlen (expected));
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* One server forks every child; a preload runs there once, before it
 * forks, and every child inherits its work; stop ends the server. */
static void
test_forkserver_server (void)
{
  if (g_test_subprocess ())
    {
      const char *names[] = { "test-preload", NULL };
      const char *unknown[] = { "test-preload", "no-such-preload", NULL };
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) first = NULL;
      g_autoptr(GBytes) second = NULL;
      g_autofree char *expected = NULL;
      GPid server;

      g_assert_false (mp_set_forkserver_preload (unknown, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "'no-such-preload' is not registered"));
      g_clear_error (&error);
      g_assert_true (mp_set_forkserver_preload (names, &error));
      g_assert_cmpint (mp_forkserver_get_pid (), ==, 0);

      first = report (MP_START_FORKSERVER, "parent-and-preload");
      server = mp_forkserver_get_pid ();
      g_assert_cmpint (server, >, 0);
      g_assert_cmpint (server, !=, getpid ());
      second = report (MP_START_FORKSERVER, "parent-and-preload");
      g_assert_cmpint (mp_forkserver_get_pid (), ==, server);
      /* forked by the server, after one preload; none ran here */
      expected = g_strdup_printf ("%d 1", (int) server);
      g_assert_cmpmem (g_bytes_get_data (first, NULL), g_bytes_get_size (first), expected, strlen (expected));
      g_assert_true (g_bytes_equal (first, second));
      g_assert_cmpint (preloaded, ==, 0);

      g_assert_true (mp_forkserver_stop (&error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_forkserver_get_pid (), ==, 0);
      g_assert_cmpint (kill (server, 0), ==, -1);
      test_assert_no_children ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_nested (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);

  /* fork child starting a spawn grandchild and the other way round */
  for (int inner = MP_START_FORK; inner <= MP_START_SPAWN; inner++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) inner, G_TYPE_INVALID);
      g_assert_cmpint (run_to_exit (method, "test-nested", args), ==, 0);
    }
  test_assert_no_children ();
}

/* The parent's inherit-only object must not leak past the child's task. */
static void
test_inherit_only_allowed (gconstpointer data)
{
  g_autoptr(TestFd) fd = test_fd_new (1);
  g_autoptr(MpArgs) args = mp_args_new (TEST_TYPE_FD, fd, G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;

  /* outside a process start it is refused ... */
  g_assert_null (mp_args_serialize (args, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_clear_error (&error);
  /* ... while a process start accepts it */
  g_assert_cmpint (run_to_exit (TEST_METHOD (data), "test-noop", args), ==, 0);
  test_assert_no_children ();
}

/* Until @pid has exited: a child of ours stays a zombie; a forkserver's
 * child is not ours to wait for, its end is seen through a pidfd. */
static void
wait_exited (MpStartMethod method,
             GPid          pid)
{
  siginfo_t info;

  if (method == MP_START_FORKSERVER)
    g_assert_true (test_wait_process_gone (pid, 60 * 1000));
  else
    g_assert_cmpint (waitid (P_PID, pid, &info, WEXITED | WNOWAIT), ==, 0);
}

static void
test_dispose_unjoined (gconstpointer data)
{
  MpStartMethod method = TEST_METHOD (data);
  TestPipe gate;
  g_autoptr(TestFd) gate_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpArgs) zero = mp_args_new (G_TYPE_INT64, (gint64) 0, G_TYPE_INVALID);
  MpProcess *process;
  GPid pid;

  /* exited but never joined: dispose reaps it */
  process = start_process (method, "test-exit", zero);
  pid = mp_process_get_pid (process);
  wait_exited (method, pid);
  g_object_unref (process);
  test_assert_no_children ();

  /* still running when dropped: the next start reaps it */
  test_pipe_open (&gate);
  gate_fd = test_fd_new (gate.read_end);
  args = mp_args_new (TEST_TYPE_FD, gate_fd, G_TYPE_INVALID);
  process = start_process (method, "test-block", args);
  pid = mp_process_get_pid (process);
  g_object_unref (process);
  test_pipe_release (&gate);
  wait_exited (method, pid);
  g_assert_cmpint (run_to_exit (method, "test-exit", zero), ==, 0);
  test_pipe_close (&gate);
  test_assert_no_children ();
}

/* A program that reaps children behind the library's back (a SIGCHLD
 * handler calling waitpid, say) leaves it unable to know the exit code:
 * join says so instead of inventing one. */
static void
test_reaped_elsewhere (gconstpointer data)
{
  TestPipe gate;
  g_autoptr(TestFd) gate_fd = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  g_autoptr(GError) error = NULL;
  int status = -1, code = 12345;
  GPid pid;

  test_pipe_open (&gate);
  gate_fd = test_fd_new (gate.read_end);
  args = mp_args_new (TEST_TYPE_FD, gate_fd, G_TYPE_INVALID);
  process = start_process (TEST_METHOD (data), "test-block", args);
  pid = mp_process_get_pid (process);

  test_pipe_release (&gate);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));

  g_assert_false (mp_process_join (process, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "was reaped by someone else (is SIGCHLD ignored?)"));
  g_assert_false (mp_process_is_alive (process));
  g_assert_false (mp_process_get_exitcode (process, &code));
  g_assert_cmpint (code, ==, 12345);
  test_pipe_close (&gate);
  test_assert_no_children ();
}

/* ---- the main guard, seen from outside --------------------------------------- */

typedef struct
{
  int    status;
  char  *out;
  char  *err;
} HelperRun;

static void
run_helper (const char *mode,
            HelperRun  *run)
{
  g_autofree char *helper = g_test_build_filename (G_TEST_BUILT, "helper-noguard", NULL);
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;

  subprocess = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                                 helper, mode, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (subprocess, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (subprocess));
  run->status = g_subprocess_get_exit_status (subprocess);
  g_test_message ("helper %s exited %d\nstdout:\n%s\nstderr:\n%s", mode, run->status, run->out, run->err);
}

static void
helper_run_clear (HelperRun *run)
{
  g_free (run->out);
  g_free (run->err);
}

/* Lines of @text that start with @prefix. */
static GPtrArray *
lines_starting (const char *text,
                const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      g_ptr_array_add (found, g_strdup (lines[i]));
  return found;
}

static void
test_spawn_without_guard (void)
{
  HelperRun run = { 0 };
  g_autoptr(GPtrArray) side_effects = NULL;
  g_autoptr(GPtrArray) child_errors = NULL;
  g_autofree char *child_line = NULL;

  run_helper ("process", &run);
  g_assert_cmpint (run.status, ==, 0);

  /* main() ran twice: in the parent and again in the spawned child */
  side_effects = lines_starting (run.out, "side-effect:");
  g_assert_cmpuint (side_effects->len, ==, 2);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (side_effects, 0), "side-effect: main() ran in a parent") ||
                 g_str_has_prefix (g_ptr_array_index (side_effects, 1), "side-effect: main() ran in a parent"));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (side_effects, 0), "side-effect: main() ran in a spawned child") ||
                 g_str_has_prefix (g_ptr_array_index (side_effects, 1), "side-effect: main() ran in a spawned child"));

  /* the child's own start failed with the bootstrapping error ... */
  child_errors = lines_starting (run.out, "start-error: bootstrapping");
  g_assert_cmpuint (child_errors->len, ==, 1);
  child_line = g_strdup (g_ptr_array_index (child_errors, 0));
  g_assert_nonnull (strstr (child_line, "finished its bootstrapping phase"));
  g_assert_nonnull (strstr (child_line, "mp_main_guard"));
  /* ... its main() returned 0, yet it exits 1, saying why */
  g_assert_nonnull (strstr (run.err, "never ran"));
  /* and the parent learns honestly that the task never ran */
  g_assert_nonnull (strstr (run.out, "join-error: bootstrapping"));
  g_assert_nonnull (strstr (run.out, "exitcode: 1\n"));
  g_assert_null (strstr (run.out, "result:"));
  helper_run_clear (&run);
}

static void
test_spawn_with_guard (void)
{
  HelperRun run = { 0 };
  g_autoptr(GPtrArray) side_effects = NULL;

  run_helper ("guarded", &run);
  g_assert_cmpint (run.status, ==, 0);
  side_effects = lines_starting (run.out, "side-effect:");
  g_assert_cmpuint (side_effects->len, ==, 1);
  g_assert_nonnull (strstr (run.out, "result: 9\n"));
  g_assert_nonnull (strstr (run.out, "exitcode: 0\n"));
  g_assert_null (strstr (run.out, "error"));
  helper_run_clear (&run);
}

static void
test_spawn_pool_without_guard (void)
{
  HelperRun run = { 0 };
  g_autoptr(GPtrArray) side_effects = NULL;

  run_helper ("pool", &run);
  g_assert_cmpint (run.status, ==, 0);
  side_effects = lines_starting (run.out, "side-effect:");
  g_assert_cmpuint (side_effects->len, ==, 2);
  g_assert_nonnull (strstr (run.out, "pool-error: bootstrapping"));
  /* the worker dies at once: the pool may learn it before the submit
   * (refused) or after (the future fails); both are the broken pool */
  g_assert_true (strstr (run.out, "result-error: broken-pool") != NULL ||
                 strstr (run.out, "submit-error: broken-pool") != NULL);
  g_assert_nonnull (strstr (run.out, "mp_main_guard"));
  helper_run_clear (&run);
}

/* ---- a spawned child with a bad bootstrap payload ----------------------------- */

/* the fd number the payload gets in the helper */
#define PAYLOAD_FD 10

/* Runs helper-noguard @mode as if spawned: MP_SPAWN_FD is @marker, or,
 * when @marker is NULL, names a memfd holding @payload. */
static void
run_helper_bootstrap (const char *mode,
                      const char *marker,
                      GBytes     *payload,
                      HelperRun  *run)
{
  g_autofree char *helper = g_test_build_filename (G_TEST_BUILT, "helper-noguard", NULL);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) subprocess = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fd_marker = g_strdup_printf ("%d", PAYLOAD_FD);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (marker == NULL)
    {
      int fd = memfd_create ("test-payload", MFD_CLOEXEC);
      gsize size = 0;
      const void *data = payload != NULL ? g_bytes_get_data (payload, &size) : NULL;

      g_assert_cmpint (fd, >=, 0);
      g_assert_true (size == 0 || test_fd_write_all (fd, data, size));
      g_subprocess_launcher_take_fd (launcher, fd, PAYLOAD_FD);
      marker = fd_marker;
    }
  g_subprocess_launcher_setenv (launcher, MP_SPAWN_ENV, marker, TRUE);
  subprocess = g_subprocess_launcher_spawn (launcher, &error, helper, mode, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (subprocess, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (subprocess));
  run->status = g_subprocess_get_exit_status (subprocess);
  g_test_message ("helper %s (%s=%s) exited %d\nstdout:\n%s\nstderr:\n%s",
                  mode, MP_SPAWN_ENV, marker, run->status, run->out, run->err);
}

/* a payload as mp_process_start() writes it; @args_wire NULL: (3) */
static GBytes *
payload_new (const char *task,
             GVariant   *args_wire)
{
  g_autoptr(GBytes) key = mp_get_auth_key ();
  g_autoptr(MpArgs) three = mp_args_new (G_TYPE_INT64, (gint64) 3, G_TYPE_INVALID);
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GError) error = NULL;

  wire = args_wire != NULL ? g_variant_ref_sink (args_wire) : mp_args_serialize (three, &error);
  g_assert_no_error (error);
  /* no status socket: the child's status bytes go nowhere */
  return mp_spawn_payload_new ("Process-77", task, key, wire, -1);
}

/* A marker that names no usable fd is no spawned child: the program runs
 * as an ordinary parent (and its own spawned child works). */
static void
test_bootstrap_bad_marker (void)
{
  const char *markers[] = { "", "12abc", "-3", "99999999999", "77" };

  for (gsize i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      HelperRun run = { 0 };

      run_helper_bootstrap ("guarded", markers[i], NULL, &run);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_nonnull (strstr (run.out, "side-effect: main() ran in a parent"));
      g_assert_nonnull (strstr (run.out, "result: 9\n"));
      g_assert_nonnull (strstr (run.out, "exitcode: 0\n"));
      helper_run_clear (&run);
    }
}

/* The control: a well-made payload runs its task and nothing else. */
static void
test_bootstrap_good_payload (void)
{
  g_autoptr(GBytes) payload = payload_new ("helper-square", NULL);
  HelperRun run = { 0 };

  run_helper_bootstrap ("guarded", NULL, payload, &run);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.out, ==, "result: 9\n");
  g_assert_cmpstr (run.err, ==, "");
  helper_run_clear (&run);
}

typedef struct
{
  const char *name;
  const char *task;        /* NULL: @bytes are the payload */
  const char *bytes;
  const char *args;        /* GVariant text of a bad args wire, or NULL */
  const char *words;       /* on stderr */
} BadPayload;

static const BadPayload bad_payloads[] = {
  { "empty", NULL, "", NULL, "cannot bootstrap: the spawn payload (fd 10) has a bad size 0" },
  { "garbage", NULL, "\xff\xff\xff\xffgarbage", NULL,
    "Process ? (task '?'):\nMP_ERROR protocol: the bootstrap payload of this child is malformed" },
  { "unknown-task", "no-such-task", NULL, NULL,
    "Process Process-77 (task 'no-such-task'):\nMP_ERROR local-function: task 'no-such-task' is not registered in this child" },
  { "bad-args", "helper-square", NULL, "<int32 5>",
    "Process Process-77 (task 'helper-square'):\nMP_ERROR protocol: decoding the arguments of task 'helper-square': " },
};

/* A child whose payload is unusable says why on stderr and exits 1,
 * without running any of main() past the guard. */
static void
test_bootstrap_bad_payload (gconstpointer data)
{
  const BadPayload *bad = data;
  g_autoptr(GBytes) payload = NULL;
  HelperRun run = { 0 };

  if (bad->task == NULL)
    payload = g_bytes_new_static (bad->bytes, strlen (bad->bytes));
  else
    payload = payload_new (bad->task, bad->args != NULL ? g_variant_new_parsed (bad->args) : NULL);
  run_helper_bootstrap ("guarded", NULL, payload, &run);
  g_assert_cmpint (run.status, ==, MP_PROCESS_EXIT_FAILED);
  g_assert_cmpstr (run.out, ==, "");
  if (strstr (run.err, bad->words) == NULL)
    g_error ("stderr does not say '%s'", bad->words);
  helper_run_clear (&run);
}

/* Without the guard, a child whose payload cannot even be read still
 * says it never ran its task, and fails. */
static void
test_bootstrap_no_guard_empty_payload (void)
{
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  HelperRun run = { 0 };

  run_helper_bootstrap ("process", NULL, empty, &run);
  g_assert_cmpint (run.status, ==, MP_PROCESS_EXIT_FAILED);
  g_assert_nonnull (strstr (run.out, "side-effect: main() ran in a spawned child"));
  g_assert_nonnull (strstr (run.out, "start-error: bootstrapping"));
  g_assert_nonnull (strstr (run.err, "was started by spawn to run task '?', but main() ended without calling mp_main_guard()"));
  helper_run_clear (&run);
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/process/start-method/strings", test_start_method_strings);
  g_test_add_func ("/process/start-method/default", test_start_method_default);
  g_test_add_func ("/process/start-method/set-twice", test_start_method_set_twice);
  g_test_add_func ("/process/start-method/get-fixes", test_start_method_get_fixes);
  g_test_add_func ("/process/start-method/context", test_context);
  g_test_add_func ("/process/forkserver/server", test_forkserver_server);
  g_test_add_func ("/process/misuse", test_misuse);
  test_add_both_methods ("/process/%s/unknown-task", test_unknown_task);
  test_add_both_methods ("/process/%s/parent-thread-exit", test_parent_thread_exit);
  test_add_orphan_tests ("/process/orphans/process", "process");
  test_add_orphan_tests ("/process/orphans/manager-server", "manager");
  test_add_both_methods ("/process/%s/exitcode", test_exitcode);
  test_add_both_methods ("/process/%s/task-error", test_task_error);
  test_add_both_methods ("/process/%s/args", test_args);
  test_add_both_methods ("/process/%s/large-args", test_large_args);
  test_add_both_methods ("/process/%s/threads", test_threads);
  test_add_both_methods ("/process/%s/join-timeout", test_join_timeout);
  test_add_both_methods ("/process/%s/terminate", test_terminate);
  test_add_both_methods ("/process/%s/kill", test_kill);
  test_add_both_methods ("/process/%s/auth-key", test_auth_key);
  test_add_both_methods ("/process/%s/auth-key-first-child", test_auth_key_first_child);
  test_add_both_methods ("/process/%s/no-args", test_no_args);
  test_add_both_methods ("/process/%s/spawned-flag", test_spawned_flag);
  test_add_both_methods ("/process/%s/child-start-method", test_child_start_method);
  test_add_both_methods ("/process/%s/nested", test_nested);
  test_add_both_methods ("/process/%s/inherit-only", test_inherit_only_allowed);
  test_add_both_methods ("/process/%s/dispose-unjoined", test_dispose_unjoined);
  /* a forkserver's child cannot be reaped by its requester */
  g_test_add_data_func ("/process/fork/reaped-elsewhere", GINT_TO_POINTER (MP_START_FORK),
                        test_reaped_elsewhere);
  g_test_add_data_func ("/process/spawn/reaped-elsewhere", GINT_TO_POINTER (MP_START_SPAWN),
                        test_reaped_elsewhere);
  g_test_add_func ("/process/spawn/guard", test_spawn_with_guard);
  g_test_add_func ("/process/spawn/no-guard", test_spawn_without_guard);
  g_test_add_func ("/process/spawn/no-guard-pool", test_spawn_pool_without_guard);
  g_test_add_func ("/process/spawn/bootstrap/bad-marker", test_bootstrap_bad_marker);
  g_test_add_func ("/process/spawn/bootstrap/good-payload", test_bootstrap_good_payload);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_payloads); i++)
    {
      g_autofree char *path = g_strdup_printf ("/process/spawn/bootstrap/bad-payload/%s", bad_payloads[i].name);

      g_test_add_data_func (path, &bad_payloads[i], test_bootstrap_bad_payload);
    }
  g_test_add_func ("/process/spawn/bootstrap/no-guard-empty", test_bootstrap_no_guard_empty_payload);

  return g_test_run ();
}
