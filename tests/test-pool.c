/* test-pool.c — MpPool, MpFuture, as-completed, map, broken pools
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * "Slow" tasks block on gates: pipes the test holds, handed to every worker
 * once by the pool initializer (they travel by inheritance, which only a
 * process start allows). The test opens a gate by writing a byte, so the
 * order tasks complete in is chosen by the test, never by timing.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mp-process-private.h"
#include "test-process-common.h"

#define N_GATES 3

/* ---- worker-side state, set by the initializer ----------------------------- */

static char *worker_tag;
static int   worker_init_count;
static int   worker_gate_read[N_GATES] = { -1, -1, -1 };
static int   worker_gate_write[N_GATES] = { -1, -1, -1 };

/* args: tag, then N_GATES read ends and N_GATES write ends (TestFd) */
static gboolean
task_init (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  g_free (worker_tag);
  worker_tag = g_strdup (mp_args_get_string (args, 0));
  worker_init_count++;
  for (guint i = 0; i < N_GATES && 1 + i < mp_args_get_length (args); i++)
    {
      worker_gate_read[i] = test_fd_get_fd (mp_args_get_object (args, 1 + i));
      worker_gate_write[i] = test_fd_get_fd (mp_args_get_object (args, 1 + N_GATES + i));
    }
  return TRUE;
}
MP_TASK_DEFINE ("pool-init", task_init)

static gboolean
task_init_fail (MpArgs  *args,
                GValue  *result,
                GError **error)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "the initializer refuses to start");
  return FALSE;
}
MP_TASK_DEFINE ("pool-init-fail", task_init_fail)

/* a careless task: fails without saying why */
static gboolean
task_fail_silently (MpArgs  *args,
                    GValue  *result,
                    GError **error)
{
  return FALSE;
}
MP_TASK_DEFINE ("pool-fail-silently", task_fail_silently)

static gboolean
task_init_info (MpArgs  *args,
                GValue  *result,
                GError **error)
{
  g_value_init (result, G_TYPE_STRING);
  g_value_take_string (result, g_strdup_printf ("%s:%d", worker_tag ? worker_tag : "(none)", worker_init_count));
  return TRUE;
}
MP_TASK_DEFINE ("pool-init-info", task_init_info)

/* ---- tasks -------------------------------------------------------------------- */

static gboolean
task_square (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  gint64 n = mp_args_get_int (args, 0);

  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  return TRUE;
}
MP_TASK_DEFINE ("pool-square", task_square)

static gboolean
task_echo (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  g_value_init (result, G_VALUE_TYPE (mp_args_get_value (args, 0)));
  g_value_copy (mp_args_get_value (args, 0), result);
  return TRUE;
}
MP_TASK_DEFINE ("pool-echo", task_echo)

static gboolean
task_fail (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "bad input %" G_GINT64_FORMAT, mp_args_get_int (args, 0));
  return FALSE;
}
MP_TASK_DEFINE ("pool-fail", task_fail)

static gboolean
task_unserializable_result (MpArgs  *args,
                            GValue  *result,
                            GError **error)
{
  g_value_init (result, G_TYPE_POINTER);
  g_value_set_pointer (result, &worker_init_count);
  return TRUE;
}
MP_TASK_DEFINE ("pool-pointer-result", task_unserializable_result)

/* Waits for gate args[1], then kills its own worker in the way args[0] names. */
static gboolean
task_die (MpArgs  *args,
          GValue  *result,
          GError **error)
{
  const char *how = mp_args_get_string (args, 0);
  gint64 k = mp_args_get_int (args, 1);
  struct rlimit no_core = { 0, 0 };

  if (k < 0 || k >= N_GATES || !test_fd_read_byte (worker_gate_read[k]))
    {
      mp_set_error (error, MP_ERROR_FAILED, "gate %" G_GINT64_FORMAT " cannot be read", k);
      return FALSE;
    }
  setrlimit (RLIMIT_CORE, &no_core);
  if (g_str_equal (how, "abort"))
    abort ();
  if (g_str_equal (how, "exit"))
    _exit (3);
  raise (SIGKILL);
  return TRUE;
}
MP_TASK_DEFINE ("pool-die", task_die)

/* Waits for gate args[0]; args[1] (optional) is a gate to open afterwards. */
static gboolean
task_gate (MpArgs  *args,
           GValue  *result,
           GError **error)
{
  gint64 k = mp_args_get_int (args, 0);

  if (k < 0 || k >= N_GATES || !test_fd_read_byte (worker_gate_read[k]))
    {
      mp_set_error (error, MP_ERROR_FAILED, "gate %" G_GINT64_FORMAT " cannot be read", k);
      return FALSE;
    }
  if (mp_args_get_length (args) > 1)
    {
      gint64 next = mp_args_get_int (args, 1);
      if (next >= 0 && next < N_GATES && !test_fd_write_all (worker_gate_write[next], "x", 1))
        {
          mp_set_error (error, MP_ERROR_FAILED, "gate %" G_GINT64_FORMAT " cannot be opened", next);
          return FALSE;
        }
    }
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, k * k);
  return TRUE;
}
MP_TASK_DEFINE ("pool-gate", task_gate)

/* ---- fixture: a pool whose workers know the gates ------------------------------ */

typedef struct
{
  MpStartMethod  method;
  TestPipe       gates[N_GATES];
  MpPool        *pool;
} Fixture;

static MpArgs *
gate_initargs (Fixture    *fixture,
               const char *tag)
{
  MpArgs *args = mp_args_new (G_TYPE_STRING, tag, G_TYPE_INVALID);

  for (int end = 0; end < 2; end++)
    for (guint i = 0; i < N_GATES; i++)
      {
        g_autoptr(TestFd) fd = test_fd_new (end == 0 ? fixture->gates[i].read_end : fixture->gates[i].write_end);
        mp_args_add_object (args, fd);
      }
  return args;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(MpArgs) initargs = NULL;
  g_autoptr(GError) error = NULL;

  fixture->method = TEST_METHOD (data);
  for (guint i = 0; i < N_GATES; i++)
    test_pipe_open (&fixture->gates[i]);
  initargs = gate_initargs (fixture, "gates");
  fixture->pool = mp_pool_new_full (N_GATES, fixture->method, "pool-init", initargs, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_pool_get_max_workers (fixture->pool), ==, N_GATES);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_clear_object (&fixture->pool);
  for (guint i = 0; i < N_GATES; i++)
    test_pipe_close (&fixture->gates[i]);
  test_assert_no_children ();
}

static MpFuture *
submit_int (MpPool     *pool,
            const char *task,
            gint64      n)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  MpFuture *future = mp_pool_submit (pool, task, args, &error);

  g_assert_no_error (error);
  g_assert_nonnull (future);
  return future;
}

static gint64
result_int (MpFuture *future)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  /* a timeout past the end of the clock waits as -1 does */
  g_assert_true (mp_future_result (future, G_MAXINT64, &value, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS_INT64 (&value));
  return g_value_get_int64 (&value);
}

/* ---- tests ------------------------------------------------------------------------ */

static void
test_submit (Fixture       *fixture,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (gint64 i = 0; i < 10; i++)
    g_ptr_array_add (futures, submit_int (fixture->pool, "pool-square", i));
  for (guint i = 0; i < futures->len; i++)
    {
      MpFuture *future = g_ptr_array_index (futures, i);

      g_assert_cmpuint (mp_future_get_index (future), ==, i);
      g_assert_cmpint (result_int (future), ==, (gint64) i * i);
      g_assert_true (mp_future_done (future));
      /* asking again gives the same answer */
      g_assert_cmpint (result_int (future), ==, (gint64) i * i);
    }
}

/* Requests and replies far larger than a socket buffer, several at once. */
static void
test_large (Fixture       *fixture,
            gconstpointer  data)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (guint k = 0; k < 4; k++)
    {
      gsize size = (2u << 20) + k;
      guint8 *bytes = g_malloc (size);
      g_autoptr(GValue) value = mp_gvalue_new (G_TYPE_BYTES);
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
      g_autoptr(GError) error = NULL;

      for (gsize i = 0; i < size; i++)
        bytes[i] = (guint8) (i * (k + 3));
      g_ptr_array_add (sent, g_bytes_new_take (bytes, size));
      g_value_set_boxed (value, g_ptr_array_index (sent, k));
      mp_args_add_value (args, value);
      g_ptr_array_add (futures, mp_pool_submit (fixture->pool, "pool-echo", args, &error));
      g_assert_no_error (error);
    }
  for (guint k = 0; k < futures->len; k++)
    {
      g_autoptr(GError) error = NULL;
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_true (mp_future_result (g_ptr_array_index (futures, k), -1, &value, &error));
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (g_value_get_boxed (&value), g_ptr_array_index (sent, k)));
    }
}

static void
test_map_order (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  /* task k waits for gate k and then opens gate k-1: they run in the
   * order 2, 1, 0, the reverse of submission */
  for (gint64 k = 0; k < N_GATES; k++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, k, G_TYPE_INT64, k - 1, G_TYPE_INVALID));
  test_pipe_release (&fixture->gates[N_GATES - 1]);

  results = mp_pool_map (fixture->pool, "pool-gate", args_list, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, N_GATES);
  for (guint i = 0; i < results->len; i++)
    g_assert_cmpint (g_value_get_int64 (g_ptr_array_index (results, i)), ==, (gint64) i * i);
}

static void
test_map_error (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  for (gint64 k = 0; k < 4; k++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, k, G_TYPE_INVALID));
  results = mp_pool_map (fixture->pool, "pool-fail", args_list, -1, &error);
  g_assert_null (results);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  /* the first error in submission order */
  g_assert_true (g_str_has_prefix (error->message, "bad input 0"));
  g_clear_error (&error);

  results = mp_pool_map (fixture->pool, "no-such-task", args_list, -1, &error);
  g_assert_null (results);
  g_assert_error (error, MP_ERROR, MP_ERROR_LOCAL_FUNCTION);
}

/* map with a timeout: it gives up waiting, the tasks stay accepted and
 * finish once their gates open; with time enough it collects them all */
static void
test_map_timeout (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) squares = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, (gint64) 0, G_TYPE_INVALID));
  results = mp_pool_map (fixture->pool, "pool-gate", args_list, 20 * 1000, &error);
  g_assert_null (results);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  test_pipe_release (&fixture->gates[0]);
  for (gint64 k = 0; k < 4; k++)
    g_ptr_array_add (squares, mp_args_new (G_TYPE_INT64, k, G_TYPE_INVALID));
  results = mp_pool_map (fixture->pool, "pool-square", squares, 60 * G_USEC_PER_SEC, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 4);
  for (guint i = 0; i < results->len; i++)
    g_assert_cmpint (g_value_get_int64 (g_ptr_array_index (results, i)), ==, (gint64) i * i);
  mp_pool_shutdown (fixture->pool, TRUE);
  g_assert_false (mp_pool_is_broken (fixture->pool));
}

static void
test_as_completed (Fixture       *fixture,
                   gconstpointer  data)
{
  static const guint release_order[N_GATES] = { 1, 2, 0 };
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MpAsCompleted) completed = NULL;
  g_autoptr(GError) error = NULL;

  for (gint64 k = 0; k < N_GATES; k++)
    g_ptr_array_add (futures, submit_int (fixture->pool, "pool-gate", k));
  /* duplicates are yielded once */
  g_ptr_array_add (futures, g_object_ref (g_ptr_array_index (futures, 0)));
  completed = mp_as_completed_new (futures);

  /* nothing can complete while every gate is shut */
  g_assert_null (mp_as_completed_next (completed, 20 * 1000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  for (guint i = 0; i < N_GATES; i++)
    g_assert_false (mp_future_done (g_ptr_array_index (futures, i)));

  for (guint i = 0; i < N_GATES; i++)
    {
      MpFuture *next;

      test_pipe_release (&fixture->gates[release_order[i]]);
      next = mp_as_completed_next (completed, -1, &error);
      g_assert_no_error (error);
      g_assert_nonnull (next);
      g_assert_cmpuint (mp_future_get_index (next), ==, release_order[i]);
      g_assert_true (mp_future_done (next));
      g_assert_cmpint (result_int (next), ==, (gint64) release_order[i] * release_order[i]);
    }
  g_assert_null (mp_as_completed_next (completed, -1, &error));
  g_assert_no_error (error);
}

static void
test_initializer (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < 3 * N_GATES; i++)
    {
      g_autoptr(GError) error = NULL;
      MpFuture *future = mp_pool_submit (fixture->pool, "pool-init-info", NULL, &error);

      g_assert_no_error (error);
      g_ptr_array_add (futures, future);
    }
  for (guint i = 0; i < futures->len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_auto(GValue) value = G_VALUE_INIT;

      g_assert_true (mp_future_result (g_ptr_array_index (futures, i), -1, &value, &error));
      g_assert_no_error (error);
      /* the initializer ran exactly once in every worker */
      g_assert_cmpstr (g_value_get_string (&value), ==, "gates:1");
    }
}

static void
test_initializer_fails (gconstpointer data)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(GError) error = NULL;

  pool = mp_pool_new_full (2, TEST_METHOD (data), "pool-init-fail", NULL, &error);
  g_assert_no_error (error);
  future = mp_pool_submit (pool, "pool-square", NULL, &error);
  if (future != NULL)
    {
      g_assert_false (mp_future_result (future, -1, NULL, &error));
    }
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_POOL);
  g_assert_nonnull (strstr (error->message, "the initializer refuses to start"));
  g_assert_true (mp_pool_is_broken (pool));
  g_clear_object (&pool);
  g_clear_error (&error);

  /* an initializer that fails without an error still breaks the pool,
   * and the message says so */
  g_clear_object (&future);
  pool = mp_pool_new_full (1, TEST_METHOD (data), "pool-fail-silently", NULL, &error);
  g_assert_no_error (error);
  future = mp_pool_submit (pool, "pool-square", NULL, &error);
  if (future != NULL)
    g_assert_false (mp_future_result (future, -1, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_POOL);
  g_assert_nonnull (strstr (error->message, "initializer 'pool-fail-silently' failed without saying why"));
  g_clear_object (&future);
  g_clear_object (&pool);
  g_clear_error (&error);

  pool = mp_pool_new_full (2, TEST_METHOD (data), "no-such-initializer", NULL, &error);
  g_assert_null (pool);
  g_assert_error (error, MP_ERROR, MP_ERROR_LOCAL_FUNCTION);
  g_assert_nonnull (strstr (error->message, "'no-such-initializer'"));
  test_assert_no_children ();
}

static void
test_task_error (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(MpFuture) failing = submit_int (fixture->pool, "pool-fail", 7);
  g_autoptr(MpFuture) pointer = submit_int (fixture->pool, "pool-pointer-result", 0);
  g_autoptr(MpFuture) fine = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) expected = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  /* the worker's error comes back whole: same code, same message */
  mp_set_error (&expected, MP_ERROR_INVALID_ARGUMENT, "bad input %d", 7);
  g_assert_false (mp_future_result (failing, -1, &value, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==, expected->message);
  g_assert_false (G_IS_VALUE (&value));
  g_clear_error (&error);

  /* a result that cannot travel back is an error too, not a lost worker */
  g_assert_false (mp_future_result (pointer, -1, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_UNSERIALIZABLE);
  g_assert_nonnull (strstr (error->message, "pool-pointer-result"));

  g_clear_error (&error);

  /* a task that fails without an error fails with one that says so */
  g_clear_object (&failing);
  failing = submit_int (fixture->pool, "pool-fail-silently", 0);
  g_assert_false (mp_future_result (failing, -1, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "task 'pool-fail-silently' failed without saying why"));

  g_assert_false (mp_pool_is_broken (fixture->pool));
  fine = submit_int (fixture->pool, "pool-square", 5);
  g_assert_cmpint (result_int (fine), ==, 25);
}

static void
test_result_timeout (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(MpFuture) future = submit_int (fixture->pool, "pool-gate", 0);
  g_autoptr(GError) error = NULL;

  g_assert_false (mp_future_result (future, 20 * 1000, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_false (mp_future_done (future));
  test_pipe_release (&fixture->gates[0]);
  g_assert_cmpint (result_int (future), ==, 0);
}

static void
test_broken (Fixture       *fixture,
             gconstpointer  data)
{
  static const char *const ways[] = { "abort", "exit", "kill" };

  for (gsize w = 0; w < G_N_ELEMENTS (ways); w++)
    {
      g_autoptr(MpArgs) how = mp_args_new (G_TYPE_STRING, ways[w], G_TYPE_INT64, (gint64) 2, G_TYPE_INVALID);
      g_autoptr(MpArgs) initargs = gate_initargs (fixture, "gates");
      g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(MpFuture) late = NULL;
      g_autoptr(GError) error = NULL;

      if (fixture->pool == NULL)
        {
          fixture->pool = mp_pool_new_full (N_GATES, fixture->method, "pool-init", initargs, &error);
          g_assert_no_error (error);
        }

      /* tasks blocked in two workers, one that will kill the third, and
       * tasks queued behind them; then the killer's gate opens */
      g_ptr_array_add (futures, submit_int (fixture->pool, "pool-gate", 0));
      g_ptr_array_add (futures, submit_int (fixture->pool, "pool-gate", 1));
      g_ptr_array_add (futures, mp_pool_submit (fixture->pool, "pool-die", how, &error));
      g_assert_no_error (error);
      for (gint64 i = 0; i < 3; i++)
        g_ptr_array_add (futures, submit_int (fixture->pool, "pool-square", i));
      test_pipe_release (&fixture->gates[2]);

      /* every one of them fails promptly, none hangs */
      for (guint i = 0; i < futures->len; i++)
        {
          g_autoptr(GError) lost = NULL;

          g_assert_false (mp_future_result (g_ptr_array_index (futures, i), -1, NULL, &lost));
          g_assert_error (lost, MP_ERROR, MP_ERROR_BROKEN_POOL);
          g_assert_nonnull (strstr (lost->message, "terminated abruptly"));
          g_assert_nonnull (strstr (lost->message, "[pitfall broken-pool]"));
        }
      g_assert_true (mp_pool_is_broken (fixture->pool));

      late = mp_pool_submit (fixture->pool, "pool-square", NULL, &error);
      g_assert_null (late);
      g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_POOL);
      g_assert_nonnull (strstr (error->message, "pool-die"));

      g_clear_object (&fixture->pool);
      test_assert_no_children ();
    }
}

static void
test_shutdown (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(MpFuture) gated = submit_int (fixture->pool, "pool-gate", 0);
  g_autoptr(MpFuture) queued = submit_int (fixture->pool, "pool-square", 4);
  g_autoptr(MpFuture) late = NULL;
  g_autoptr(GError) error = NULL;

  mp_pool_shutdown (fixture->pool, FALSE);
  late = mp_pool_submit (fixture->pool, "pool-square", NULL, &error);
  g_assert_null (late);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "after shutdown"));

  /* the accepted tasks still run, and waiting reaps every worker */
  test_pipe_release (&fixture->gates[0]);
  mp_pool_shutdown (fixture->pool, TRUE);
  g_assert_true (mp_future_done (gated));
  g_assert_true (mp_future_done (queued));
  g_assert_cmpint (result_int (gated), ==, 0);
  g_assert_cmpint (result_int (queued), ==, 16);
  test_assert_no_children ();
  g_assert_false (mp_pool_is_broken (fixture->pool));
}

static void
test_dispose_waits (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (gint64 i = 0; i < 6; i++)
    g_ptr_array_add (futures, submit_int (fixture->pool, "pool-square", i));
  g_clear_object (&fixture->pool);
  test_assert_no_children ();
  for (guint i = 0; i < futures->len; i++)
    {
      g_assert_true (mp_future_done (g_ptr_array_index (futures, i)));
      g_assert_cmpint (result_int (g_ptr_array_index (futures, i)), ==, (gint64) i * i);
    }
}

static void
test_inheritance_only (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(TestFd) fd = test_fd_new (fixture->gates[0].read_end);
  g_autoptr(MpArgs) args = mp_args_new (TEST_TYPE_FD, fd, G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(MpFuture) fine = NULL;
  g_autoptr(GError) error = NULL;

  /* the object that the initializer handed over is refused as a task
   * argument, right at submit */
  future = mp_pool_submit (fixture->pool, "pool-gate", args, &error);
  g_assert_null (future);
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_assert_nonnull (strstr (error->message, "should only be shared between processes through inheritance"));

  g_assert_false (mp_pool_is_broken (fixture->pool));
  fine = submit_int (fixture->pool, "pool-square", 3);
  g_assert_cmpint (result_int (fine), ==, 9);
}

static void
test_unknown_task (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(GError) error = NULL;

  future = mp_pool_submit (fixture->pool, "no-such-task", NULL, &error);
  g_assert_null (future);
  g_assert_error (error, MP_ERROR, MP_ERROR_LOCAL_FUNCTION);
  g_assert_nonnull (strstr (error->message, "'no-such-task'"));
  g_assert_nonnull (strstr (error->message, "Can't pickle local object"));
}

static void
test_max_workers (void)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  pool = mp_pool_new (0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_pool_get_max_workers (pool), ==, MAX (g_get_num_processors (), 1));
  g_clear_object (&pool);

  pool = mp_pool_new (100000, &error);
  g_assert_null (pool);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  test_assert_no_children ();
}

/* ---- the worker's side of the protocol, driven by hand ----------------------- */

/* The pool's worker task, run in a thread of this process against one end
 * of a socketpair, which serves as its request queue and its reply socket
 * at once; the test plays the pool on the other end. */
typedef struct
{
  MpConnection *ours;
  int           fd;        /* the socket of @ours, for bytes no pool sends */
  GThread      *thread;
  gboolean      returned;
} Worker;

static gpointer
worker_thread (gpointer data)
{
  int fd = GPOINTER_TO_INT (data);
  g_autoptr(MpLock) queue_lock = mp_lock_new (NULL);
  g_autoptr(MpArray) running = mp_array_create ('Q', 1, FALSE, NULL);
  /* reply fd, queue fd, slot, queue lock, task table, initializer */
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) fd, G_TYPE_INT64, (gint64) fd,
                                        G_TYPE_INT64, (gint64) 0, MP_TYPE_LOCK, queue_lock,
                                        MP_TYPE_ARRAY, running, G_TYPE_STRING, "", G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) result = G_VALUE_INIT;
  MpTaskFunc worker = mp_task_lookup (MP_POOL_WORKER_TASK);

  return GINT_TO_POINTER (worker (args, &result, &error));
}

static void
worker_start (Worker *worker)
{
  g_autoptr(GError) error = NULL;
  int pair[2];

  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), ==, 0);
  worker->ours = mp_connection_new_for_fd (pair[0], &error);
  g_assert_no_error (error);
  worker->fd = g_socket_get_fd (mp_connection_get_socket (worker->ours));
  worker->thread = g_thread_new ("worker", worker_thread, GINT_TO_POINTER (pair[1]));
}

/* the worker ends (and closes its end) once it stops serving */
static void
worker_join (Worker *worker)
{
  char byte;

  g_assert_cmpint (read (worker->fd, &byte, 1), ==, 0);
  worker->returned = GPOINTER_TO_INT (g_thread_join (worker->thread));
  g_clear_pointer (&worker->ours, mp_connection_unref);
}

static void
send_request (Worker     *worker,
              guint64     id,
              const char *task,
              GVariant   *args_wire)
{
  g_autoptr(GError) error = NULL;

  mp_connection_send_variant (worker->ours, g_variant_new ("(tsv)", id, task, args_wire), &error);
  g_assert_no_error (error);
}

/* a reply is "(tbv)": the request's id, whether the task succeeded, and
 * its result's wire value or its error as "(sis)" */
static GVariant *
read_reply (Worker   *worker,
            guint64   want_id,
            gboolean  want_ok)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = mp_connection_recv_variant (worker->ours, G_VARIANT_TYPE ("(tbv)"), -1, &error);
  GVariant *body;
  guint64 id;
  gboolean ok;

  g_assert_no_error (error);
  g_variant_get (reply, "(tbv)", &id, &ok, &body);
  g_assert_cmpuint (id, ==, want_id);
  g_assert_cmpint (ok, ==, want_ok);
  return body;
}

static void
expect_error_reply (Worker     *worker,
                    guint64     want_id,
                    MpError     want_code,
                    const char *words)
{
  g_autoptr(GVariant) body = read_reply (worker, want_id, FALSE);
  const char *domain, *message;
  gint32 code;

  g_assert_true (g_variant_is_of_type (body, G_VARIANT_TYPE ("(sis)")));
  g_variant_get (body, "(&si&s)", &domain, &code, &message);
  g_test_message ("error reply %" G_GUINT64_FORMAT ": %s %d %s", want_id, domain, code, message);
  g_assert_cmpstr (domain, ==, g_quark_to_string (MP_ERROR));
  g_assert_cmpint (code, ==, want_code);
  g_assert_nonnull (strstr (message, words));
}

/* Each request gets a reply with its own id; what cannot run gets an error
 * reply and the worker goes on; garbage ends the worker cleanly. */
static void
test_worker_protocol (void)
{
  g_autoptr(MpArgs) three = mp_args_new (G_TYPE_INT64, (gint64) 3, G_TYPE_INVALID);
  g_autoptr(GVariant) three_wire = mp_args_serialize (three, NULL);
  g_autoptr(GBytes) garbage = g_bytes_new_static ("\xff\xff\xff", 3);
  g_autoptr(GError) error = NULL;
  Worker worker;

  worker_start (&worker);

  send_request (&worker, 41, "pool-square", three_wire);
  {
    g_autoptr(GVariant) wire = read_reply (&worker, 41, TRUE);
    g_auto(GValue) value = G_VALUE_INIT;

    g_assert_true (mp_deserialize_value (wire, &value, NULL));
    g_assert_cmpint (g_value_get_int64 (&value), ==, 9);
  }

  send_request (&worker, 42, "no-such-task", three_wire);
  expect_error_reply (&worker, 42, MP_ERROR_LOCAL_FUNCTION, "task 'no-such-task' is not registered in pool worker");
  send_request (&worker, 43, "pool-square", g_variant_new_int32 (3));
  expect_error_reply (&worker, 43, MP_ERROR_PROTOCOL, "decoding the arguments of task 'pool-square'");
  send_request (&worker, 44, "pool-fail", three_wire);
  expect_error_reply (&worker, 44, MP_ERROR_INVALID_ARGUMENT, "bad input 3");

  /* a frame whose body is no request */
  mp_connection_send_bytes (worker.ours, garbage, &error);
  g_assert_no_error (error);
  worker_join (&worker);
  g_assert_true (worker.returned);
}

static void
test_worker_bad_frames (void)
{
  static const guint8 oversize[4] = { 0x7f, 0xff, 0xff, 0xff };
  static const guint8 truncated[6] = { 0, 0, 0, 100, 'a', 'b' };
  Worker worker;

  /* a frame announcing more than any request needs */
  worker_start (&worker);
  g_assert_true (test_fd_write_all (worker.fd, oversize, sizeof oversize));
  worker_join (&worker);
  g_assert_true (worker.returned);

  /* the pool going away in the middle of a frame */
  worker_start (&worker);
  g_assert_true (test_fd_write_all (worker.fd, truncated, sizeof truncated));
  g_assert_cmpint (shutdown (worker.fd, SHUT_WR), ==, 0);
  worker_join (&worker);
  g_assert_true (worker.returned);

  /* and in the middle of a length */
  worker_start (&worker);
  g_assert_true (test_fd_write_all (worker.fd, truncated, 2));
  g_assert_cmpint (shutdown (worker.fd, SHUT_WR), ==, 0);
  worker_join (&worker);
  g_assert_true (worker.returned);
}

static void
add_pool_test (const char *name,
               void (*func) (Fixture *, gconstpointer))
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pool/%s/%s", mp_start_method_to_string (methods[i]), name);
      g_test_add (path, Fixture, GINT_TO_POINTER (methods[i]), fixture_set_up, func, fixture_tear_down);
    }
}

/* An initializer that says the worker runs: args = (write end, TestFd) */
static gboolean
task_init_ready (MpArgs  *args,
                 GValue  *result,
                 GError **error)
{
  if (!test_fd_write_all (test_fd_get_fd (mp_args_get_object (args, 0)), "r", 1))
    {
      mp_set_error (error, MP_ERROR_FAILED, "writing the ready byte failed");
      return FALSE;
    }
  return TRUE;
}
MP_TASK_DEFINE ("pool-init-ready", task_init_ready)

typedef struct
{
  MpStartMethod  method;
  pid_t          tid;
} ThreadStart;

/* Ends only once both workers run their initializer: they had armed
 * their death signal when this thread ends, so the signal does come. */
static gpointer
new_pool_in_thread (gpointer data)
{
  ThreadStart *start = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TestFd) ready_fd = NULL;
  g_autoptr(MpArgs) initargs = NULL;
  TestPipe ready;
  MpPool *pool;

  start->tid = test_gettid ();
  test_pipe_open (&ready);
  ready_fd = test_fd_new (ready.write_end);
  initargs = mp_args_new (TEST_TYPE_FD, ready_fd, G_TYPE_INVALID);
  pool = mp_pool_new_full (2, start->method, "pool-init-ready", initargs, &error);
  g_assert_no_error (error);
  g_assert_true (test_fd_read_byte (ready.read_end));
  g_assert_true (test_fd_read_byte (ready.read_end));
  test_pipe_close (&ready);
  return pool;
}

/* A pool made by a short-lived thread (a GThreadPool task, say) outlives
 * that thread: the death signal its end sends the workers is not their
 * parent's death. */
static void
test_parent_thread_exit (gconstpointer data)
{
  ThreadStart start = { .method = TEST_METHOD (data) };
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GError) error = NULL;

  pool = g_thread_join (g_thread_new ("starter", new_pool_in_thread, &start));
  test_wait_thread_gone (start.tid);
  for (gint64 n = 0; n < 4; n++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID));
  results = mp_pool_map (pool, "pool-square", args_list, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, 4);
  g_assert_cmpint (g_value_get_int64 (results->pdata[3]), ==, 9);
  g_assert_false (mp_pool_is_broken (pool));
  mp_pool_shutdown (pool, TRUE);
  test_assert_no_children ();
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  add_pool_test ("submit", test_submit);
  add_pool_test ("large", test_large);
  add_pool_test ("map/order", test_map_order);
  add_pool_test ("map/error", test_map_error);
  add_pool_test ("map/timeout", test_map_timeout);
  add_pool_test ("as-completed", test_as_completed);
  add_pool_test ("initializer", test_initializer);
  add_pool_test ("task-error", test_task_error);
  add_pool_test ("result-timeout", test_result_timeout);
  add_pool_test ("broken", test_broken);
  add_pool_test ("shutdown", test_shutdown);
  add_pool_test ("dispose", test_dispose_waits);
  add_pool_test ("inheritance-only", test_inheritance_only);
  add_pool_test ("unknown-task", test_unknown_task);
  test_add_both_methods ("/pool/%s/initializer-fails", test_initializer_fails);
  test_add_both_methods ("/pool/%s/parent-thread-exit", test_parent_thread_exit);
  test_add_orphan_tests ("/pool/orphans", "pool");
  g_test_add_func ("/pool/max-workers", test_max_workers);
  g_test_add_func ("/pool/worker/protocol", test_worker_protocol);
  g_test_add_func ("/pool/worker/bad-frames", test_worker_bad_frames);

  return g_test_run ();
}
