/* lost-update.c — `total += x` on a locked value still loses updates
 *
 * The article's own samples add to a shared total with `total.value += x`.
 * The value has a lock, but the get takes it and lets go, then the set
 * takes it and lets go: the addition in between is unguarded. Two
 * processes that both read before either writes both write "old + 1", and
 * one update vanishes without any error.
 *
 * Deterministic mode (the default): two processes, A and B, walk through
 * the losing order step by step, held in line by a process-shared barrier
 * between steps: A reads, B reads, A writes, B writes. Every pair of
 * updates loses exactly one, on any machine. The recorder (lib/mp-trace)
 * watches the total, and the parent prints what it recorded as a
 * swimlane: the losing reads and writes come out marked. Each step is also
 * logged into a shared array by the process that did it, and the verdict
 * rests on that log and on the final count.
 *
 * Free-running mode (--race): several processes add 1 many times with the
 * plain read-then-write and nothing holds them in line; the updates lost
 * are counted, not assumed.
 *
 * The fix in both modes: hold the value's lock across the whole
 * read-modify-write.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <unistd.h>

#include "demo-common.h"

#define ROUNDS              3       /* pairs of updates in the timeline */
#define ROLE_A              0
#define ROLE_B              1
#define BARRIER_BACKSTOP    (60 * G_USEC_PER_SEC)
#define DEFAULT_ITERATIONS  100000

/* Slots of the shared log, per round. The broken order has four steps; the
 * fixed order five (B first finds the lock busy, then waits). */
enum { BROKEN_A_READ, BROKEN_B_READ, BROKEN_A_WRITE, BROKEN_B_WRITE, BROKEN_STEPS };
enum { FIXED_A_READ, FIXED_B_TRIES, FIXED_A_WRITE, FIXED_B_READ, FIXED_B_WRITE, FIXED_STEPS };
#define LOG_SLOTS (ROUNDS * FIXED_STEPS)

static gboolean race_mode = FALSE;
static gint64 iterations = DEFAULT_ITERATIONS;

static const GOptionEntry extra_options[] = {
  { "race", 0, 0, G_OPTION_ARG_NONE, &race_mode,
    "Free-running: --workers processes add 1 many times, no steps enforced", NULL },
  { "iterations", 0, 0, G_OPTION_ARG_INT64, &iterations,
    "With --race: additions per process (default 100000)", "N" },
  G_OPTION_ENTRY_NULL
};

static const char summary[] =
  "A locked shared value takes its lock for each get and for each set, not\n"
  "for the addition between them: `total += x` from several processes loses\n"
  "updates silently. The default run forces the losing order (A reads, B\n"
  "reads, A writes, B writes) and prints it as a timeline; --race lets\n"
  "processes run freely. Fix: hold the value's lock across read-modify-write.";

/* ---- the two ways to add --------------------------------------------------- */

/* what the article wrote: get (locks, unlocks), add, set (locks, unlocks) */
static gboolean
add_without_holding_the_lock (MpValue *total,
                              gint64   x,
                              GError **error)
{
  gint64 v = mp_value_get_int (total, error);

  return *error == NULL && mp_value_set_int (total, v + x, error);
}

/* the fix: one lock acquisition around the read, the add and the write */
static gboolean
add_holding_the_lock (MpValue *total,
                      gint64   x,
                      GError **error)
{
  g_autoptr(MpLocker) locker = mp_locker_new (total, error);

  return locker != NULL && add_without_holding_the_lock (total, x, error);
}

/* ---- deterministic mode: the tasks of A and B ------------------------------ */

typedef struct {
  int        role;
  MpValue   *total;
  MpArray   *log;
  MpBarrier *barrier;
} Walker;

static gboolean
walker_from_args (MpArgs  *args,
                  Walker  *walker,
                  GError **error)
{
  if (mp_args_get_length (args) != 4)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "a walker takes (role, total, log, barrier)");
      return FALSE;
    }
  walker->role = (int) mp_args_get_int (args, 0);
  mp_trace_set_role (walker->role == ROLE_A ? "process A" : "process B");
  walker->total = mp_args_get_object (args, 1);
  walker->log = mp_args_get_object (args, 2);
  walker->barrier = mp_args_get_object (args, 3);
  if (!MP_IS_VALUE (walker->total) || !MP_IS_ARRAY (walker->log) ||
      !MP_IS_BARRIER (walker->barrier))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "a walker takes (role, total, log, barrier)");
      return FALSE;
    }
  return TRUE;
}

/* Both processes meet here after every step, so the next step starts only
 * when the previous one is done. */
static gboolean
next_step (Walker  *walker,
           GError **error)
{
  return mp_barrier_wait (walker->barrier, BARRIER_BACKSTOP, error) >= 0;
}

static gboolean
log_step (Walker  *walker,
          guint    round,
          guint    step,
          gint64   v,
          GError **error)
{
  return mp_array_set_int (walker->log, round * FIXED_STEPS + step, v, error);
}

/* One round of the losing order: A reads, B reads, A writes, B writes. */
static gboolean
walk_the_losing_order (Walker  *walker,
                       guint    round,
                       GError **error)
{
  gboolean is_a = walker->role == ROLE_A;
  guint my_read = is_a ? BROKEN_A_READ : BROKEN_B_READ;
  guint my_write = is_a ? BROKEN_A_WRITE : BROKEN_B_WRITE;
  gint64 seen = 0;

  for (guint step = 0; step < BROKEN_STEPS; step++)
    {
      if (step == my_read)
        {
          seen = mp_value_get_int (walker->total, error);
          if (*error != NULL || !log_step (walker, round, step, seen, error))
            return FALSE;
        }
      else if (step == my_write)
        {
          if (!mp_value_set_int (walker->total, seen + 1, error) ||
              !log_step (walker, round, step, seen + 1, error))
            return FALSE;
        }
      if (!next_step (walker, error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
walk_losing_order_task (MpArgs  *args,
                        GValue  *result,
                        GError **error)
{
  Walker walker;

  if (!walker_from_args (args, &walker, error))
    return FALSE;
  for (guint round = 0; round < ROUNDS; round++)
    if (!walk_the_losing_order (&walker, round, error))
      {
        mp_barrier_abort (walker.barrier);  /* never leave the other hanging */
        return FALSE;
      }
  return TRUE;
}
MP_TASK_DEFINE ("lost-update:walk-losing-order", walk_losing_order_task)

/* A's round with the fix: take the lock, read, let B try, write, let go. */
static gboolean
a_adds_holding_the_lock (Walker  *walker,
                         guint    round,
                         GError **error)
{
  g_autoptr(MpLocker) locker = mp_locker_new (walker->total, error);
  gint64 seen;

  if (locker == NULL)
    return FALSE;
  seen = mp_value_get_int (walker->total, error);
  if (*error != NULL || !log_step (walker, round, FIXED_A_READ, seen, error) ||
      !next_step (walker, error) ||       /* B may now try the lock ... */
      !next_step (walker, error))         /* ... and has found it busy */
    return FALSE;
  return mp_value_set_int (walker->total, seen + 1, error) &&
         log_step (walker, round, FIXED_A_WRITE, seen + 1, error);
}

/* B, while A is between its read and its write: is the lock free? */
static gboolean
b_tries_the_lock (Walker  *walker,
                  guint    round,
                  GError **error)
{
  g_autoptr(GError) busy = NULL;
  gboolean got_it = mp_lockable_acquire (MP_LOCKABLE (walker->total), 0, &busy);

  if (got_it)
    mp_lockable_release (MP_LOCKABLE (walker->total), NULL);
  else if (!g_error_matches (busy, MP_ERROR, MP_ERROR_TIMEOUT))
    {
      g_propagate_error (error, g_steal_pointer (&busy));
      return FALSE;
    }
  return log_step (walker, round, FIXED_B_TRIES, got_it ? 0 : 1, error);
}

/* B's add with the fix: taking the lock waits until A has let go. */
static gboolean
b_waits_then_adds (Walker  *walker,
                   guint    round,
                   GError **error)
{
  g_autoptr(MpLocker) locker = mp_locker_new (walker->total, error);
  gint64 seen;

  if (locker == NULL)
    return FALSE;
  seen = mp_value_get_int (walker->total, error);
  return *error == NULL &&
         log_step (walker, round, FIXED_B_READ, seen, error) &&
         mp_value_set_int (walker->total, seen + 1, error) &&
         log_step (walker, round, FIXED_B_WRITE, seen + 1, error);
}

static gboolean
b_adds_holding_the_lock (Walker  *walker,
                         guint    round,
                         GError **error)
{
  return next_step (walker, error) &&        /* A holds the lock and has read */
         b_tries_the_lock (walker, round, error) &&
         next_step (walker, error) &&        /* A may write now */
         b_waits_then_adds (walker, round, error);
}

static gboolean
walk_fixed_order_task (MpArgs  *args,
                       GValue  *result,
                       GError **error)
{
  Walker walker;

  if (!walker_from_args (args, &walker, error))
    return FALSE;
  for (guint round = 0; round < ROUNDS; round++)
    {
      gboolean ok = walker.role == ROLE_A
                      ? a_adds_holding_the_lock (&walker, round, error)
                      : b_adds_holding_the_lock (&walker, round, error);

      /* the round ends when both are done */
      if (!ok || !next_step (&walker, error))
        {
          mp_barrier_abort (walker.barrier);
          return FALSE;
        }
    }
  return TRUE;
}
MP_TASK_DEFINE ("lost-update:walk-fixed-order", walk_fixed_order_task)

/* ---- deterministic mode: the parent's side ---------------------------------- */

typedef struct {
  gint64 total;
  gint64 log[LOG_SLOTS];
} Walk;

static gboolean
walk_two_processes (Demo       *demo,
                    const char *task,
                    Walk       *walk,
                    GError    **error)
{
  g_autoptr(MpValue) total = mp_value_create ('q', TRUE, error);
  g_autoptr(MpArray) log = NULL;
  g_autoptr(MpBarrier) barrier = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);

  if (total == NULL ||
      (log = mp_array_create ('q', LOG_SLOTS, FALSE, error)) == NULL ||
      (barrier = mp_barrier_new (2, error)) == NULL)
    return FALSE;
  mp_trace_watch (total, "total");
  for (int role = ROLE_A; role <= ROLE_B; role++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, (gint64) role,
                                             MP_TYPE_VALUE, total,
                                             MP_TYPE_ARRAY, log,
                                             MP_TYPE_BARRIER, barrier,
                                             G_TYPE_INVALID));
  demo_say ("processes A and B start (%s) with the total, the step log and a "
            "barrier of 2", mp_start_method_to_string (demo_get_start_method (demo)));
  if (!demo_run_processes (demo, task, args_list, barrier, error))
    return FALSE;
  walk->total = mp_value_get_int (total, error);
  return *error == NULL && mp_array_get_ints (log, 0, LOG_SLOTS, walk->log, error);
}

static gint64
logged (const Walk *walk,
        guint       round,
        guint       step)
{
  return walk->log[round * FIXED_STEPS + step];
}

/* The verdict rests on the counts and on what each process logged. */
static gboolean
check_updates_lost (Demo       *demo,
                    gint64      final_total,
                    gint64      expected,
                    gint64      predicted_lost)
{
  gint64 lost = expected - final_total;

  demo_say ("final total: %" G_GINT64_FORMAT " (expected %" G_GINT64_FORMAT ")",
            final_total, expected);
  demo_say ("updates lost: %" G_GINT64_FORMAT " (predicted %" G_GINT64_FORMAT ")",
            lost, predicted_lost);
  if (lost != predicted_lost)
    return demo_reject (demo, "%" G_GINT64_FORMAT " update(s) lost, but the "
                        "order forced %" G_GINT64_FORMAT, lost, predicted_lost);
  return TRUE;
}

static gboolean
check_losing_log (Demo       *demo,
                  const Walk *walk)
{
  for (guint r = 0; r < ROUNDS; r++)
    if (logged (walk, r, BROKEN_A_READ) != logged (walk, r, BROKEN_B_READ) ||
        logged (walk, r, BROKEN_A_WRITE) != logged (walk, r, BROKEN_B_WRITE))
      return demo_reject (demo, "in round %u A and B did not read and write the "
                          "same values", r + 1);
  return TRUE;
}

static gboolean
check_waiting_log (Demo       *demo,
                   const Walk *walk)
{
  for (guint r = 0; r < ROUNDS; r++)
    {
      if (logged (walk, r, FIXED_B_TRIES) != 1)
        return demo_reject (demo, "in round %u B found the lock free while A "
                            "was between its read and its write", r + 1);
      if (logged (walk, r, FIXED_B_READ) != logged (walk, r, FIXED_A_WRITE))
        return demo_reject (demo, "in round %u B read %" G_GINT64_FORMAT
                            ", not what A wrote (%" G_GINT64_FORMAT ")", r + 1,
                            logged (walk, r, FIXED_B_READ),
                            logged (walk, r, FIXED_A_WRITE));
    }
  demo_say ("=> in every round B asked for the lock while A held it, waited, "
            "and read A's result");
  return TRUE;
}

/* Walks A and B through @task, then prints the timeline recorded. */
static gboolean
walk_and_show_the_timeline (Demo        *demo,
                            const char  *task,
                            Walk        *walk)
{
  g_autoptr(GError) error = NULL;

  if (!walk_two_processes (demo, task, walk, &error))
    return demo_reject_error (demo, error, "the walk could not run");
  demo_step (demo, "The timeline, as the recorder saw A and B.");
  demo_show_timeline (demo, "A and B, step by step");
  return TRUE;
}

static gboolean
half_losing_order (Demo *demo)
{
  Walk walk = { 0 };

  demo_step (demo, "A and B each add 1 to a locked total, %d times, with "
             "`v = get (); set (v + 1)`.", ROUNDS);
  demo_say ("a barrier holds them to the order A reads, B reads, A writes, B writes");
  if (!walk_and_show_the_timeline (demo, "lost-update:walk-losing-order", &walk))
    return FALSE;
  demo_step (demo, "Count what was lost.");
  if (!check_updates_lost (demo, walk.total, 2 * ROUNDS, ROUNDS) ||
      !check_losing_log (demo, &walk))
    return FALSE;
  demo_say ("=> each get and each set took the lock, and still one update of "
            "every pair vanished, with no error anywhere");
  return TRUE;
}

static gboolean
half_waiting_order (Demo *demo)
{
  Walk walk = { 0 };

  demo_step (demo, "A and B each add 1 to the total, %d times, holding the "
             "lock from the read to the write.", ROUNDS);
  demo_say ("B asks for the lock right after A has read");
  if (!walk_and_show_the_timeline (demo, "lost-update:walk-fixed-order", &walk))
    return FALSE;
  demo_step (demo, "Count what was lost.");
  return check_updates_lost (demo, walk.total, 2 * ROUNDS, 0) &&
         check_waiting_log (demo, &walk);
}

/* ---- free-running mode --------------------------------------------------------- */

static gboolean
count_up_task (MpArgs  *args,
               GValue  *result,
               GError **error)
{
  MpValue *total;
  MpBarrier *start_line;
  gint64 n;
  gboolean hold_lock;

  if (mp_args_get_length (args) != 4 ||
      !MP_IS_VALUE (total = mp_args_get_object (args, 0)) ||
      !MP_IS_BARRIER (start_line = mp_args_get_object (args, 1)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "count-up takes (total, start line, n, hold lock)");
      return FALSE;
    }
  n = mp_args_get_int (args, 2);
  hold_lock = mp_args_get_boolean (args, 3);
  /* everybody starts counting together, however long their start took */
  if (mp_barrier_wait (start_line, BARRIER_BACKSTOP, error) < 0)
    return FALSE;
  for (gint64 i = 0; i < n; i++)
    if (!(hold_lock ? add_holding_the_lock (total, 1, error)
                    : add_without_holding_the_lock (total, 1, error)))
      return FALSE;
  return TRUE;
}
MP_TASK_DEFINE ("lost-update:count-up", count_up_task)

/* Runs the workers once; returns the final total or -1 with @error set. */
static gint64
count_up_together (Demo     *demo,
                   gint64    n,
                   gboolean  hold_lock,
                   GError  **error)
{
  guint workers = demo_get_workers (demo);
  g_autoptr(MpValue) total = mp_value_create ('q', TRUE, error);
  g_autoptr(MpBarrier) start_line = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  gint64 final_total;

  if (total == NULL || (start_line = mp_barrier_new (workers, error)) == NULL)
    return -1;
  mp_trace_watch (total, "total");
  for (guint w = 0; w < workers; w++)
    g_ptr_array_add (args_list, mp_args_new (MP_TYPE_VALUE, total,
                                             MP_TYPE_BARRIER, start_line,
                                             G_TYPE_INT64, n,
                                             G_TYPE_BOOLEAN, hold_lock,
                                             G_TYPE_INVALID));
  if (!demo_run_processes (demo, "lost-update:count-up", args_list, start_line, error))
    return -1;
  final_total = mp_value_get_int (total, error);
  return *error == NULL ? final_total : -1;
}

/* One free-running race: `v = get (); set (v + 1)`, nothing held across. */
static gint64
race_without_holding_the_lock (Demo     *demo,
                               gint64    n,
                               gpointer  unused)
{
  g_autoptr(GError) error = NULL;
  gint64 final_total;

  demo_step (demo, "%u processes each add 1, %" G_GINT64_FORMAT " times, "
             "with `v = get (); set (v + 1)`.", demo_get_workers (demo), n);
  final_total = count_up_together (demo, n, FALSE, &error);
  if (final_total < 0)
    demo_reject_error (demo, error, "the race could not run");
  return final_total;
}

static gboolean
half_free_race (Demo *demo)
{
  static const DemoRace race = {
    .run = race_without_holding_the_lock,
    .counted = "total",
    .silently = "silently",
    .hint = "the deterministic mode (without --race) shows the loss every time",
  };

  return demo_race_until_lost (demo, &race, iterations, NULL);
}

static gboolean
half_free_race_fixed (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  guint workers = demo_get_workers (demo);
  gint64 n = demo_race_iterations (demo, iterations, DEMO_RACE_MAX_RECORDED);
  gint64 expected = n * workers, final_total;

  demo_step (demo, "%u processes each add 1, %" G_GINT64_FORMAT " times, "
             "holding the lock across read-modify-write.", workers, n);
  final_total = count_up_together (demo, n, TRUE, &error);
  if (final_total < 0)
    return demo_reject_error (demo, error, "the count could not run");
  return check_updates_lost (demo, final_total, expected, 0);
}

/* ---- the lesson ---------------------------------------------------------------- */

static gboolean
check_options (Demo *demo)
{
  if (iterations < 1 || iterations > DEMO_RACE_MAX_ITERATIONS)
    return demo_reject (demo, "--iterations must be between 1 and %d",
                        DEMO_RACE_MAX_ITERATIONS);
  if (!race_mode)
    demo_say ("(deterministic mode: two processes, A and B; --race runs %u "
              "free-running processes)", demo_get_workers (demo));
  return TRUE;
}

static gboolean
half_broken (Demo *demo)
{
  if (!check_options (demo))
    return FALSE;
  return race_mode ? half_free_race (demo) : half_losing_order (demo);
}

static gboolean
half_fixed (Demo *demo)
{
  if (!check_options (demo))
    return FALSE;
  return race_mode ? half_free_race_fixed (demo) : half_waiting_order (demo);
}

static const DemoInfo demo_info = {
  .name = "lost-update",
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 4,
  .broken = half_broken,
  .fixed = half_fixed,
  .extra_options = extra_options,
  .tells_a_story = TRUE,
  .untold_if = &race_mode,   /* the race: --timeline draws it when asked */
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
