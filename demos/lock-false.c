/* lock-false.c — a shared value created without a lock
 *
 * Python's Value('i', 0, lock=False) (here mp_value_create ('q', FALSE))
 * is raw shared memory: there is no lock to ask for, and processes that
 * add to it at the same time overwrite each other's updates.
 *
 * Broken: asking the raw value for its lock is an error; several processes
 * counting up on it lose updates (counted, not assumed; a run that happens
 * to lose nothing is repeated with more work, a bounded number of times).
 *
 * Fixed, two ways, each checked to give the exact total: an explicit
 * MpLock handed to the processes beside the raw value, or a value created
 * with its own lock; either way the lock is held across read-modify-write.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define DEFAULT_ITERATIONS  100000
#define BARRIER_BACKSTOP    (60 * G_USEC_PER_SEC)

static gint64 iterations = DEFAULT_ITERATIONS;
static gint64 fixed_iterations;   /* the fixed half's: fewer while recording */

static const GOptionEntry extra_options[] = {
  { "iterations", 0, 0, G_OPTION_ARG_INT64, &iterations,
    "Additions per process (default 100000)", "N" },
  G_OPTION_ENTRY_NULL
};

static const char summary[] =
  "A shared value created with lock = FALSE is raw shared memory: asking for\n"
  "its lock is an error, and processes adding to it at once overwrite each\n"
  "other's updates. Fix: guard it with an explicit MpLock, or create it with\n"
  "a lock; either way hold the lock across the read-modify-write.";

/* ---- the task: count up n times --------------------------------------------- */

typedef struct {
  MpValue    *counter;
  MpLockable *guard;       /* NULL: nothing guards the read-modify-write */
  MpBarrier  *start_line;
  gint64      n;
} Counting;

static gboolean
counting_from_args (MpArgs   *args,
                    Counting *counting,
                    GError  **error)
{
  if (mp_args_get_length (args) != 4 ||
      !MP_IS_VALUE (counting->counter = mp_args_get_object (args, 0)) ||
      ((counting->guard = mp_args_get_object (args, 1)) != NULL &&
       !MP_IS_LOCKABLE (counting->guard)) ||
      !MP_IS_BARRIER (counting->start_line = mp_args_get_object (args, 2)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "count-up takes (counter, guard or none, start line, n)");
      return FALSE;
    }
  counting->n = mp_args_get_int (args, 3);
  return TRUE;
}

static gboolean
add_one (Counting *counting,
         GError  **error)
{
  g_autoptr(MpLocker) locker = NULL;
  gint64 v;

  if (counting->guard != NULL && (locker = mp_locker_new (counting->guard, error)) == NULL)
    return FALSE;
  v = mp_value_get_int (counting->counter, error);
  return *error == NULL && mp_value_set_int (counting->counter, v + 1, error);
}

static gboolean
count_up_task (MpArgs  *args,
               GValue  *result,
               GError **error)
{
  Counting counting;

  if (!counting_from_args (args, &counting, error))
    return FALSE;
  /* everybody starts counting together, however long their start took */
  if (mp_barrier_wait (counting.start_line, BARRIER_BACKSTOP, error) < 0)
    return FALSE;
  for (gint64 i = 0; i < counting.n; i++)
    if (!add_one (&counting, error))
      return FALSE;
  return TRUE;
}
MP_TASK_DEFINE ("lock-false:count-up", count_up_task)

/* ---- the parent's side ----------------------------------------------------------- */

/* Starts --workers processes counting @n times each on @counter, guarded
 * by @guard (or not), and returns the final count, or -1 with @error. */
static gint64
count_up_together (Demo       *demo,
                   MpValue    *counter,
                   MpLockable *guard,
                   gint64      n,
                   GError    **error)
{
  guint workers = demo_get_workers (demo);
  g_autoptr(MpBarrier) start_line = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  gint64 count;

  if ((start_line = mp_barrier_new (workers, error)) == NULL ||
      !mp_value_set_int (counter, 0, error))
    return -1;
  for (guint w = 0; w < workers; w++)
    {
      MpArgs *args = mp_args_new (MP_TYPE_VALUE, counter, G_TYPE_INVALID);

      mp_args_add_object (args, guard);    /* NULL travels as None */
      mp_args_add_object (args, start_line);
      mp_args_add_int (args, n);
      g_ptr_array_add (args_list, args);
    }
  if (!demo_run_processes (demo, "lock-false:count-up", args_list, start_line, error))
    return -1;
  count = mp_value_get_int (counter, error);
  return *error == NULL ? count : -1;
}

static gboolean
ask_for_the_lock (Demo    *demo,
                  MpValue *counter)
{
  g_autoptr(GError) error = NULL;

  demo_step (demo, "Ask the raw value for its lock.");
  if (mp_value_get_lock (counter, &error) != NULL)
    return demo_reject (demo, "a value created with lock = FALSE has a lock");
  demo_print_error (error);
  if (!demo_error_is_mp (error, MP_ERROR_NO_LOCK))
    return demo_reject (demo, "the error is not no-lock");
  demo_say ("=> there is no lock to take: nothing keeps two processes apart");
  return TRUE;
}

/* One race on the raw value: nothing guards the read-modify-write. */
static gint64
race_on_the_raw_value (Demo     *demo,
                       gint64    n,
                       gpointer  counter)
{
  g_autoptr(GError) error = NULL;
  gint64 count;

  demo_step (demo, "%u processes each add 1 to the raw value, %"
             G_GINT64_FORMAT " times, at the same time.",
             demo_get_workers (demo), n);
  count = count_up_together (demo, counter, NULL, n, &error);
  if (count < 0)
    demo_reject_error (demo, error, "the count could not run");
  return count;
}

static gboolean
count_until_updates_are_lost (Demo    *demo,
                              MpValue *counter)
{
  static const DemoRace race = {
    .run = race_on_the_raw_value,
    .counted = "count",
    .silently = "with no error",
    /* the raw value is not watched and has no lock: its additions make
     * no events, so the race runs in full even while recording (a short
     * race on this machine may lose nothing) */
    .recorded_max = DEMO_RACE_MAX_ITERATIONS,
  };

  return demo_race_until_lost (demo, &race, iterations, counter);
}

static gboolean
check_options (Demo *demo)
{
  if (iterations < 1 || iterations > DEMO_RACE_MAX_ITERATIONS)
    return demo_reject (demo, "--iterations must be between 1 and %d",
                        DEMO_RACE_MAX_ITERATIONS);
  return TRUE;
}

static gboolean
half_raw_value (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) counter = NULL;

  if (!check_options (demo))
    return FALSE;
  demo_step (demo, "Create a shared MpValue('q', 0) with lock = FALSE.");
  counter = mp_value_create ('q', FALSE, &error);
  if (counter == NULL)
    return demo_reject_error (demo, error, "creating the value failed");
  return ask_for_the_lock (demo, counter) &&
         count_until_updates_are_lost (demo, counter);
}

/* ---- fixed -------------------------------------------------------------------------- */

static gboolean
check_exact_count (Demo       *demo,
                   MpValue    *counter,
                   MpLockable *guard,
                   const char *how)
{
  g_autoptr(GError) error = NULL;
  gint64 expected = fixed_iterations * demo_get_workers (demo);
  gint64 count = count_up_together (demo, counter, guard, fixed_iterations, &error);

  if (count < 0)
    return demo_reject_error (demo, error, "%s: the count could not run", how);
  demo_say ("final count: %" G_GINT64_FORMAT " (expected %" G_GINT64_FORMAT ")",
            count, expected);
  demo_say ("updates lost: %" G_GINT64_FORMAT, expected - count);
  if (count != expected)
    return demo_reject (demo, "%s: %" G_GINT64_FORMAT " update(s) lost", how,
                        expected - count);
  return TRUE;
}

static gboolean
fix_explicit_lock (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) counter = NULL;
  g_autoptr(MpLock) lock = NULL;

  demo_step (demo, "Fix 1: keep the raw value, and hand an MpLock to the "
             "processes beside it; %u processes add 1, %" G_GINT64_FORMAT
             " times each, holding it.", demo_get_workers (demo), fixed_iterations);
  counter = mp_value_create ('q', FALSE, &error);
  if (counter != NULL)
    lock = mp_lock_new (&error);
  if (lock == NULL)
    return demo_reject_error (demo, error, "fix 1: the setup failed");
  return check_exact_count (demo, counter, MP_LOCKABLE (lock), "explicit lock");
}

static gboolean
fix_locked_value (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) counter = NULL;
  MpLockable *lock;

  demo_step (demo, "Fix 2: create the value with a lock (lock = TRUE); %u "
             "processes add 1, %" G_GINT64_FORMAT " times each, holding its "
             "lock.", demo_get_workers (demo), fixed_iterations);
  counter = mp_value_create ('q', TRUE, &error);
  if (counter == NULL || (lock = mp_value_get_lock (counter, &error)) == NULL)
    return demo_reject_error (demo, error, "fix 2: the setup failed");
  demo_say ("its lock: an %s", G_OBJECT_TYPE_NAME (lock));
  return check_exact_count (demo, counter, lock, "locked value");
}

static gboolean
half_guarded_value (Demo *demo)
{
  gboolean one, two;

  if (!check_options (demo))
    return FALSE;
  fixed_iterations = demo_race_iterations (demo, iterations, DEMO_RACE_MAX_RECORDED);
  /* run both even if one fails: each verdict is its own */
  one = fix_explicit_lock (demo);
  two = fix_locked_value (demo);
  if (one && two)
    demo_say ("=> both fixes verified: not one update lost");
  return one && two;
}

static const DemoInfo demo_info = {
  .name = "lock-false",
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 4,
  .broken = half_raw_value,
  .fixed = half_guarded_value,
  .extra_options = extra_options,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
