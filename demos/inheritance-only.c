/* inheritance-only.c — a shared array cannot be a pool task argument
 *
 * A synchronized MpArray lives in memory that a process can only receive
 * while it is being started. A pool's workers are already running when a
 * task is submitted, so the array cannot go with the task: submitting it
 * fails with the inheritance-only error (Python: "SynchronizedArray objects
 * should only be shared between processes through inheritance").
 *
 * The article concluded there was no way around it and used one process
 * per task, giving up the worker limit. Three fixes, each checked:
 *  1. one process per task, the array passed when the process starts (the
 *     article's way: as many processes as tasks);
 *  2. a pool whose initializer receives the array once per worker, while
 *     the worker is being started, and keeps it for the tasks (the fix the
 *     article missed: max_workers still holds);
 *  3. named shared memory: the task gets only a name and attaches to the
 *     memory itself. Its creator unlinks the name; if the creator is
 *     killed first, its resource tracker does (shown with a child that is
 *     killed with SIGKILL: its name is gone once its tracker has exited).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "demo-common.h"

#define N_NUMBERS       6
#define PYTHON_WORDS    "should only be shared between processes through inheritance"
#define RESULT_BACKSTOP (120 * G_USEC_PER_SEC)

static const char summary[] =
  "A shared MpArray travels only by inheritance, when a process starts. Pool\n"
  "workers are already running, so submitting the array as a task argument\n"
  "fails with the inheritance-only error. Fix: one process per task with the\n"
  "array as a start argument (no worker limit), a pool initializer that gives\n"
  "the array to each worker once, or named shared memory attached by name.";

/* ---- the tasks --------------------------------------------------------------- */

/* Every task stores n*n at index n and returns the pid that did it, so
 * the parent can count the processes that worked. */
static gboolean
square_into (MpArray *squares,
             gint64   n,
             GValue  *result,
             GError **error)
{
  if (!mp_array_set_int (squares, n, n * n, error))
    return FALSE;
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, getpid ());
  return TRUE;
}

static gboolean
square_into_array_task (MpArgs  *args,
                        GValue  *result,
                        GError **error)
{
  MpArray *squares;

  if (mp_args_get_length (args) != 2 ||
      !MP_IS_ARRAY (squares = mp_args_get_object (args, 1)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-array takes (number, squares)");
      return FALSE;
    }
  return square_into (squares, mp_args_get_int (args, 0), result, error);
}
MP_TASK_DEFINE ("inheritance-only:square-into-array", square_into_array_task)

/* Fix 2: the array each pool worker received from its initializer. */
static MpArray *worker_squares;

static gboolean
keep_the_array_task (MpArgs  *args,
                     GValue  *result,
                     GError **error)
{
  MpArray *squares;

  if (mp_args_get_length (args) != 1 ||
      !MP_IS_ARRAY (squares = mp_args_get_object (args, 0)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "keep-the-array takes (squares)");
      return FALSE;
    }
  /* kept for the life of this worker process, as Python's global */
  g_set_object (&worker_squares, squares);
  return TRUE;
}
MP_TASK_DEFINE ("inheritance-only:keep-the-array", keep_the_array_task)

static gboolean
square_into_kept_array_task (MpArgs  *args,
                             GValue  *result,
                             GError **error)
{
  if (mp_args_get_length (args) != 1 || worker_squares == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-kept-array takes (number) and needs the "
                    "pool initializer keep-the-array");
      return FALSE;
    }
  return square_into (worker_squares, mp_args_get_int (args, 0), result, error);
}
MP_TASK_DEFINE ("inheritance-only:square-into-kept-array", square_into_kept_array_task)

/* Fix 3: the task gets a name and attaches to the memory itself. */
static gboolean
square_into_named_memory_task (MpArgs  *args,
                               GValue  *result,
                               GError **error)
{
  g_autoptr(MpSharedMemory) memory = NULL;
  gint64 *squares;
  gint64 n;

  if (mp_args_get_length (args) != 2 || mp_args_get_string (args, 1) == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-named-memory takes (number, memory name)");
      return FALSE;
    }
  n = mp_args_get_int (args, 0);
  memory = mp_shared_memory_attach (mp_args_get_string (args, 1), error);
  if (memory == NULL)
    return FALSE;
  if (n < 0 || (gsize) (n + 1) * sizeof (gint64) > mp_shared_memory_get_size (memory))
    {
      mp_set_error (error, MP_ERROR_INDEX, "number %" G_GINT64_FORMAT
                    " is outside the named memory", n);
      return FALSE;
    }
  /* each task writes only its own slot: no two tasks touch the same bytes */
  squares = mp_shared_memory_get_data (memory);
  squares[n] = n * n;
  mp_shared_memory_close (memory);
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, getpid ());
  return TRUE;
}
MP_TASK_DEFINE ("inheritance-only:square-into-named-memory", square_into_named_memory_task)

/* Fix 3, when the creator dies: args = (name, created event, a 'q' array
 * for the tracker's pid). Creates the memory, reports, then waits to be
 * killed: it never unlinks the name itself. */
static gboolean
create_then_wait_task (MpArgs  *args,
                       GValue  *result,
                       GError **error)
{
  MpSharedMemory *memory;

  if (mp_args_get_length (args) != 3 || mp_args_get_string (args, 0) == NULL ||
      !MP_IS_EVENT (mp_args_get_object (args, 1)) ||
      !MP_IS_ARRAY (mp_args_get_object (args, 2)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "create-then-wait takes (name, event, tracker pid array)");
      return FALSE;
    }
  memory = mp_shared_memory_create (mp_args_get_string (args, 0), 64, error);
  if (memory == NULL ||
      !mp_array_set_int (mp_args_get_object (args, 2), 0,
                         mp_resource_tracker_get_pid (), error))
    return FALSE;
  mp_event_set (mp_args_get_object (args, 1));
  for (;;)
    pause ();
  return TRUE;
}
MP_TASK_DEFINE ("inheritance-only:create-then-wait", create_then_wait_task)

/* ---- the parent's helpers ----------------------------------------------------- */

static MpArray *
create_squares (GError **error)
{
  demo_say ("a shared MpArray('q', %d) with its lock (a synchronized array)",
            N_NUMBERS);
  return mp_array_create ('q', N_NUMBERS, TRUE, error);
}

static MpPool *
start_pool (Demo        *demo,
            const char  *initializer,
            MpArgs      *initargs,
            GError     **error)
{
  demo_step (demo, "Start a pool of %u workers (%s)%s.", demo_get_workers (demo),
             mp_start_method_to_string (demo_get_start_method (demo)),
             initializer != NULL ? ", its initializer gets the array" : "");
  return mp_pool_new_full (demo_get_workers (demo), demo_get_start_method (demo),
                           initializer, initargs, error);
}

static void
unref_future (gpointer future)
{
  g_clear_object (&future);
}

/* Submits the task for every number and collects the pids that ran them. */
static gboolean
submit_all_numbers (MpPool      *pool,
                    const char  *task,
                    MpArgs      *(*args_for) (gint64 n, gpointer data),
                    gpointer     data,
                    GHashTable  *pids,
                    GError     **error)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (unref_future);

  for (gint64 n = 0; n < N_NUMBERS; n++)
    {
      g_autoptr(MpArgs) args = args_for (n, data);
      MpFuture *future = mp_pool_submit (pool, task, args, error);

      if (future == NULL)
        return FALSE;
      g_ptr_array_add (futures, future);
    }
  for (guint i = 0; i < futures->len; i++)
    {
      g_auto(GValue) result = G_VALUE_INIT;
      gint64 pid;

      if (!mp_future_result (futures->pdata[i], RESULT_BACKSTOP, &result, error))
        return FALSE;
      if (!demo_value_get_int (&result, &pid))
        {
          mp_set_error (error, MP_ERROR_FAILED, "task %u returned no pid", i);
          return FALSE;
        }
      g_hash_table_add (pids, GINT_TO_POINTER ((int) pid));
    }
  return TRUE;
}

static gboolean
check_squares (Demo          *demo,
               const gint64  *got,
               const char    *how)
{
  g_autofree char *shown = demo_format_ints (got, N_NUMBERS);

  demo_say ("squares (%s): %s", how, shown);
  for (gint64 n = 0; n < N_NUMBERS; n++)
    if (got[n] != n * n)
      return demo_reject (demo, "%s: squares[%" G_GINT64_FORMAT "] is %"
                          G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, how, n,
                          got[n], n * n);
  return TRUE;
}

static gboolean
check_array (Demo       *demo,
             MpArray    *squares,
             const char *how)
{
  g_autoptr(GError) error = NULL;
  gint64 got[N_NUMBERS];

  if (!mp_array_get_ints (squares, 0, N_NUMBERS, got, &error))
    return demo_reject (demo, "%s: reading the array failed: %s", how,
                        error->message);
  return check_squares (demo, got, how);
}

/* ---- broken: the array as a pool task argument ---------------------------------- */

static MpArgs *
number_and_array (gint64   n,
                  gpointer squares)
{
  return mp_args_new (G_TYPE_INT64, n, MP_TYPE_ARRAY, squares, G_TYPE_INVALID);
}

static gboolean
check_inheritance_error (Demo         *demo,
                         const GError *error)
{
  if (error == NULL)
    return demo_reject (demo, "the pool accepted the shared array as a task "
                        "argument");
  demo_say ("refused:");
  demo_print_error (error);
  if (!demo_error_is_mp (error, MP_ERROR_INHERITANCE_ONLY))
    return demo_reject (demo, "the error is not inheritance-only");
  if (strstr (error->message, PYTHON_WORDS) == NULL)
    return demo_reject (demo, "the message lacks Python's words \"%s\"",
                        PYTHON_WORDS);
  return TRUE;
}

static gboolean
half_array_as_task_argument (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  gboolean ran;

  demo_step (demo, "Create the array to share.");
  squares = create_squares (&error);
  if (squares == NULL || (pool = start_pool (demo, NULL, NULL, &error)) == NULL)
    return demo_reject_error (demo, error, "the setup failed");
  demo_step (demo, "Submit \"square-into-array\" (n, squares) for n = 0..%d.",
             N_NUMBERS - 1);
  ran = submit_all_numbers (pool, "inheritance-only:square-into-array",
                            number_and_array, squares, pids, &error);
  mp_pool_shutdown (pool, TRUE);
  if (ran)
    return check_inheritance_error (demo, NULL);
  if (!check_inheritance_error (demo, error))
    return FALSE;
  demo_say ("=> a task argument is serialized for a worker that is already "
            "running; a synchronized array may only be handed over while a "
            "process starts");
  return TRUE;
}

/* ---- fix 1: one process per task, the array at start ----------------------------- */

static gboolean
one_process_per_task (Demo     *demo,
                      MpArray  *squares,
                      guint    *n_processes,
                      GError  **error)
{
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);

  for (gint64 n = 0; n < N_NUMBERS; n++)
    g_ptr_array_add (args_list, number_and_array (n, squares));
  if (!demo_run_processes (demo, "inheritance-only:square-into-array",
                           args_list, NULL, error))
    return FALSE;
  *n_processes = args_list->len;
  return TRUE;
}

static gboolean
fix_one_process_per_task (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = NULL;
  guint n_processes = 0;

  demo_step (demo, "Fix 1 (the article's way): start one process per number, "
             "the array passed when it starts.");
  squares = create_squares (&error);
  if (squares == NULL || !one_process_per_task (demo, squares, &n_processes, &error))
    return demo_reject_error (demo, error, "fix 1 failed");
  if (!check_array (demo, squares, "one process per task"))
    return FALSE;
  demo_say ("=> correct, but %u processes for %d tasks: the worker limit of "
            "%u is gone", n_processes, N_NUMBERS, demo_get_workers (demo));
  return TRUE;
}

/* ---- fix 2: a pool initializer hands the array to each worker once ---------------- */

static MpArgs *
number_only (gint64   n,
             gpointer unused)
{
  return mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID);
}

static gboolean
fix_pool_initializer (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = NULL;
  g_autoptr(MpArgs) initargs = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  gboolean ran;

  demo_step (demo, "Fix 2 (the one the article missed): a pool initializer "
             "hands the array to each worker once.");
  squares = create_squares (&error);
  if (squares == NULL)
    return demo_reject_error (demo, error, "fix 2 failed");
  demo_say ("the initializer \"keep-the-array\" receives it while each worker "
            "starts, and keeps it for the tasks");
  initargs = mp_args_new (MP_TYPE_ARRAY, squares, G_TYPE_INVALID);
  pool = start_pool (demo, "inheritance-only:keep-the-array", initargs, &error);
  if (pool == NULL)
    return demo_reject_error (demo, error, "fix 2 failed");
  demo_step (demo, "Submit \"square-into-kept-array\" (n) for n = 0..%d.",
             N_NUMBERS - 1);
  ran = submit_all_numbers (pool, "inheritance-only:square-into-kept-array",
                            number_only, NULL, pids, &error);
  mp_pool_shutdown (pool, TRUE);
  if (!ran)
    return demo_reject_error (demo, error, "fix 2 failed");
  if (!check_array (demo, squares, "pool initializer"))
    return FALSE;
  if (g_hash_table_size (pids) > demo_get_workers (demo))
    return demo_reject (demo, "%u processes ran the tasks, more than the %u "
                        "workers", g_hash_table_size (pids),
                        demo_get_workers (demo));
  demo_say ("=> correct, and only %u worker process(es) ran the %d tasks: "
            "max_workers = %u still holds", g_hash_table_size (pids), N_NUMBERS,
            demo_get_workers (demo));
  return TRUE;
}

/* ---- fix 3: named shared memory, attached by name --------------------------------- */

static MpArgs *
number_and_name (gint64   n,
                 gpointer name)
{
  return mp_args_new (G_TYPE_INT64, n, G_TYPE_STRING, name, G_TYPE_INVALID);
}

static gboolean
fix_named_shared_memory (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) memory = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GHashTable) pids = g_hash_table_new (NULL, NULL);
  gint64 got[N_NUMBERS];
  const char *name;
  gboolean ran;

  demo_step (demo, "Fix 3: named shared memory, attached by name in the task.");
  demo_say ("named shared memory for %d numbers", N_NUMBERS);
  memory = mp_shared_memory_create (NULL, N_NUMBERS * sizeof (gint64), &error);
  if (memory == NULL)
    return demo_reject_error (demo, error, "fix 3 failed");
  name = mp_shared_memory_get_name (memory);
  demo_say ("its name is \"%s\"; the tasks get only that string", name);
  pool = start_pool (demo, NULL, NULL, &error);
  ran = pool != NULL &&
        submit_all_numbers (pool, "inheritance-only:square-into-named-memory",
                            number_and_name, (gpointer) name, pids, &error);
  if (pool != NULL)
    mp_pool_shutdown (pool, TRUE);
  if (ran)
    memcpy (got, mp_shared_memory_get_data (memory), sizeof got);
  /* the creator removes the name, also when something failed */
  mp_shared_memory_unlink (memory, ran ? &error : NULL);
  if (!ran || error != NULL)
    return demo_reject_error (demo, error, "fix 3 failed");
  if (!check_squares (demo, got, "named shared memory"))
    return FALSE;
  demo_say ("=> correct, with a pool of %u; the memory was unlinked afterwards",
            demo_get_workers (demo));
  return TRUE;
}

/* Waits until @pid (not our child: a grandchild) has exited, at most
 * @backstop_us; a pidfd is readable then. */
static gboolean
wait_until_gone (GPid   pid,
                 gint64 backstop_us)
{
  int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  gint64 deadline = g_get_monotonic_time () + backstop_us;
  struct pollfd pfd;
  int n;

  if (pidfd < 0)
    return errno == ESRCH;
  pfd = (struct pollfd) { .fd = pidfd, .events = POLLIN };
  do
    n = poll (&pfd, 1, (int) ((deadline - g_get_monotonic_time ()) / 1000));
  while (n < 0 && errno == EINTR && g_get_monotonic_time () < deadline);
  close (pidfd);
  return n == 1;
}

/* Starts the child that creates @name, and gives its tracker's pid. */
static MpProcess *
start_creator (Demo        *demo,
               const char  *name,
               GPid        *tracker,
               GError     **error)
{
  g_autoptr(MpEvent) created = mp_event_new (error);
  g_autoptr(MpArray) tracker_pid = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  gint64 pid = 0;

  if (created == NULL || (tracker_pid = mp_array_create ('q', 1, FALSE, error)) == NULL)
    return NULL;
  args = mp_args_new (G_TYPE_STRING, name, MP_TYPE_EVENT, created,
                      MP_TYPE_ARRAY, tracker_pid, G_TYPE_INVALID);
  process = mp_process_new ("inheritance-only:create-then-wait", args);
  mp_process_set_start_method (process, demo_get_start_method (demo));
  if (!mp_process_start (process, error))
    return NULL;
  if (!mp_event_wait (created, RESULT_BACKSTOP, error) ||
      !mp_array_get_ints (tracker_pid, 0, 1, &pid, error))
    {
      mp_process_kill (process, NULL);
      mp_process_join (process, -1, NULL);
      return NULL;
    }
  *tracker = (GPid) pid;
  return g_steal_pointer (&process);
}

static gboolean
fix_named_memory_creator_killed (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProcess) creator = NULL;
  g_autoptr(MpSharedMemory) left = NULL;
  g_autofree char *name = g_strdup_printf ("mp-inheritance-only-%d", (int) getpid ());
  GPid tracker = 0;

  demo_step (demo, "Fix 3, continued: the creator is killed before it unlinks.");
  creator = start_creator (demo, name, &tracker, &error);
  if (creator == NULL)
    return demo_reject_error (demo, error, "the creator did not start");
  demo_say ("process %d created \"%s\"; its tracker is process %d",
            (int) mp_process_get_pid (creator), name, (int) tracker);
  /* said before: the tracker speaks as soon as the creator is dead */
  demo_say ("killing process %d with SIGKILL: it never unlinks the name",
            (int) mp_process_get_pid (creator));
  if (!mp_process_kill (creator, &error) || !mp_process_join (creator, -1, &error))
    return demo_reject_error (demo, error, "killing the creator failed");
  if (tracker <= 0 || !wait_until_gone (tracker, RESULT_BACKSTOP))
    return demo_reject (demo, "the resource tracker (pid %d) did not end with "
                        "its creator", (int) tracker);
  left = mp_shared_memory_attach (name, &error);
  if (left != NULL)
    {
      mp_shared_memory_unlink (left, NULL);
      return demo_reject (demo, "\"%s\" was still there after its tracker "
                          "ended", name);
    }
  if (!g_error_matches (error, MP_ERROR, MP_ERROR_FAILED) ||
      strstr (error->message, "No shared memory named") == NULL)
    return demo_reject_error (demo, error, "attaching failed, but not for "
                              "want of the name");
  demo_say ("=> the tracker unlinked it when its creator died; attaching "
            "now fails");
  return TRUE;
}

static gboolean
half_three_fixes (Demo *demo)
{
  /* run all three even if one fails: each verdict is its own */
  gboolean one = fix_one_process_per_task (demo);
  gboolean two = fix_pool_initializer (demo);
  gboolean three = fix_named_shared_memory (demo);

  three = fix_named_memory_creator_killed (demo) && three;

  if (one && two && three)
    demo_say ("=> all three fixes verified");
  return one && two && three;
}

static const DemoInfo demo_info = {
  .name = "inheritance-only",
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 3,
  .broken = half_array_as_task_argument,
  .fixed = half_three_fixes,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
