/* broken-pool.c — one worker dies, the whole pool is broken
 *
 * Nine jobs on a pool; job 4 gets a "poisoned" input and its task kills
 * its own worker (as a crash in native code, or an exit() deep in a
 * library, would). The pool cannot know what that worker was doing, so the
 * dead job's future and every one still pending fail with the broken-pool
 * error. The jobs after the poisoned one wait at a gate the parent opens
 * only after the crash was reported: they are certainly unfinished when the
 * worker dies, with no sleep involved.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "demo-common.h"

#define N_JOBS           9
#define POISONED         4
#define CRASH_STATUS     70
#define GATE_BACKSTOP_MS (30 * 1000)
#define RESULT_TIMEOUT   (90 * G_USEC_PER_SEC)
/* "Promptly": well before the gated jobs would give up on their own. */
#define PROMPT_LIMIT_US  (15 * G_USEC_PER_SEC)

static const char summary[] =
  "When a task kills its own worker process (a crash, abort(), _exit()), the\n"
  "pool cannot tell what else that worker held: the dead job's future and every\n"
  "pending one fail with the broken-pool error (Python: BrokenProcessPool).\n"
  "Fix: make the task report failure as an error instead of dying, and when a\n"
  "pool does break, start a fresh one and resubmit only the unfinished jobs.";

/* ---- tasks ---------------------------------------------------------------- */

static gboolean
read_job (MpArgs     *args,
          const char *task,
          gint64     *n,
          gint64     *poisoned,
          GError    **error)
{
  const char *gate;

  if (mp_args_get_length (args) != 3)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s takes (number, poisoned number, gate path)", task);
      return FALSE;
    }
  *n = mp_args_get_int (args, 0);
  *poisoned = mp_args_get_int (args, 1);
  gate = mp_args_get_string (args, 2);
  return gate == NULL || *gate == '\0' || demo_gate_wait (gate, GATE_BACKSTOP_MS, error);
}

static void
set_square (GValue *result,
            gint64  n)
{
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
}

/* the careless task: dies on bad input, and takes its worker with it */
static gboolean
square_or_crash (MpArgs  *args,
                 GValue  *result,
                 GError **error)
{
  gint64 n, poisoned;

  if (!read_job (args, "square-or-crash", &n, &poisoned, error))
    return FALSE;
  if (n == poisoned)
    {
      g_print ("   [worker pid %d] job %" G_GINT64_FORMAT ": poisoned input, "
               "the task calls _exit(%d)\n", (int) getpid (), n, CRASH_STATUS);
      fflush (stdout);
      _exit (CRASH_STATUS);
    }
  set_square (result, n);
  return TRUE;
}
MP_TASK_DEFINE ("square-or-crash", square_or_crash)

/* the careful task: the same bad input becomes an error for the caller */
static gboolean
square_or_report (MpArgs  *args,
                  GValue  *result,
                  GError **error)
{
  gint64 n, poisoned;

  if (!read_job (args, "square-or-report", &n, &poisoned, error))
    return FALSE;
  if (n == poisoned)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "job %" G_GINT64_FORMAT ": poisoned input, reported "
                    "instead of crashing the worker", n);
      return FALSE;
    }
  set_square (result, n);
  return TRUE;
}
MP_TASK_DEFINE ("square-or-report", square_or_report)

/* ---- one batch on one pool ------------------------------------------------- */

typedef enum {
  JOB_UNKNOWN,
  JOB_DONE,       /* value holds its square */
  JOB_BROKEN,     /* failed with broken-pool */
  JOB_ERROR,      /* failed with another error */
} JobState;

typedef struct {
  JobState state[N_JOBS];
  gint64   value[N_JOBS];
  GError  *error[N_JOBS];
} Outcome;

static void
outcome_clear (Outcome *outcome)
{
  for (guint i = 0; i < N_JOBS; i++)
    g_clear_error (&outcome->error[i]);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Outcome, outcome_clear)

static const char *
job_state_to_string (JobState state)
{
  switch (state)
    {
    case JOB_DONE:
      return "done";
    case JOB_BROKEN:
      return "broken-pool";
    case JOB_ERROR:
      return "error";
    case JOB_UNKNOWN:
    default:
      return "not submitted";
    }
}

static void
record_result (Outcome  *outcome,
               guint     job,
               MpFuture *future)
{
  g_auto(GValue) value = G_VALUE_INIT;
  GError *error = NULL;

  if (mp_future_result (future, RESULT_TIMEOUT, &value, &error))
    {
      if (demo_value_get_int (&value, &outcome->value[job]))
        outcome->state[job] = JOB_DONE;
      else
        {
          outcome->state[job] = JOB_ERROR;
          mp_set_error (&outcome->error[job], MP_ERROR_FAILED,
                        "job %u did not return an integer", job);
        }
      return;
    }
  outcome->state[job] = demo_error_is_mp (error, MP_ERROR_BROKEN_POOL)
                          ? JOB_BROKEN : JOB_ERROR;
  outcome->error[job] = error;
}

/* Prints how @job ended: its square, or its state and error. */
static void
say_outcome (const Outcome *outcome,
             guint          job)
{
  if (outcome->state[job] == JOB_DONE)
    demo_say ("job %u: done, %" G_GINT64_FORMAT, job, outcome->value[job]);
  else
    {
      demo_say ("job %u: %s:", job, job_state_to_string (outcome->state[job]));
      demo_print_error (outcome->error[job]);
    }
}

static void
unref_future (gpointer future)
{
  g_clear_object (&future);
}

static MpPool *
start_pool (Demo    *demo,
            GError **error)
{
  demo_step (demo, "Start a pool of %u workers (%s).", demo_get_workers (demo),
             mp_start_method_to_string (demo_get_start_method (demo)));
  return mp_pool_new (demo_get_workers (demo), error);
}

static MpFuture *
submit_job (MpPool     *pool,
            const char *task,
            guint       job,
            const char *gate,
            GError    **error)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) job,
                                        G_TYPE_INT64, (gint64) POISONED,
                                        G_TYPE_STRING, gate,
                                        G_TYPE_INVALID);
  return mp_pool_submit (pool, task, args, error);
}

/* Runs the careless batch: every job with square-or-crash, the ones after
 * the poisoned job held at a gate until the crash has been reported. */
static gboolean
run_careless_batch (Demo     *demo,
                    MpPool   *pool,
                    Outcome  *outcome,
                    gint64   *crash_reported_us,
                    GError  **error)
{
  g_autoptr(DemoGate) gate = demo_gate_new (error);
  /* the poisoned job waits here until every job is submitted, so the crash
   * never races the submitting and the story is the same on every run */
  g_autoptr(DemoGate) all_submitted = gate != NULL ? demo_gate_new (error) : NULL;
  /* a job refused at submit has no future: NULL */
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (unref_future);
  gint64 submitted_at;

  if (gate == NULL || all_submitted == NULL)
    return FALSE;
  demo_step (demo, "Submit %d jobs \"square-or-crash\"; job %d has the poisoned "
             "input.", N_JOBS, POISONED);
  demo_say ("jobs %d..%d wait at a gate the parent opens only after it has "
            "seen what happened to job %d, so they cannot finish before it",
            POISONED + 1, N_JOBS - 1, POISONED);
  demo_say ("job %d itself waits until all %d jobs are submitted", POISONED, N_JOBS);
  submitted_at = g_get_monotonic_time ();
  for (guint job = 0; job < N_JOBS; job++)
    {
      GError *refused = NULL;
      MpFuture *future = submit_job (pool, "square-or-crash", job,
                                     job == POISONED ? demo_gate_get_path (all_submitted)
                                     : job > POISONED ? demo_gate_get_path (gate) : "",
                                     &refused);

      /* the crash may come while we are still submitting: Python's submit
       * raises BrokenProcessPool then, and so does ours */
      if (future == NULL && demo_error_is_mp (refused, MP_ERROR_BROKEN_POOL))
        {
          outcome->state[job] = JOB_BROKEN;
          outcome->error[job] = refused;
        }
      else if (future == NULL)
        {
          g_propagate_error (error, refused);
          demo_gate_open (all_submitted, NULL);
          demo_gate_open (gate, NULL);
          return FALSE;
        }
      g_ptr_array_add (futures, future);
    }
  if (!demo_gate_open (all_submitted, error))
    {
      demo_gate_open (gate, NULL);
      return FALSE;
    }

  demo_step (demo, "Wait for job %d.", POISONED);
  record_result (outcome, POISONED, futures->pdata[POISONED]);
  *crash_reported_us = g_get_monotonic_time () - submitted_at;
  demo_say ("job %d ended after %.3f s: %s", POISONED,
            *crash_reported_us / (double) G_USEC_PER_SEC,
            job_state_to_string (outcome->state[POISONED]));
  if (outcome->error[POISONED] != NULL)
    demo_print_error (outcome->error[POISONED]);

  /* let any worker still held at the gate go, so nothing can hang on it */
  if (!demo_gate_open (gate, error))
    return FALSE;
  demo_step (demo, "Collect every other job.");
  for (guint job = 0; job < N_JOBS; job++)
    if (job != POISONED && futures->pdata[job] == NULL)
      demo_say ("job %u: broken-pool already at submit (the pool broke while "
                "the jobs were still being submitted)", job);
    else if (job != POISONED)
      {
        record_result (outcome, job, futures->pdata[job]);
        if (outcome->state[job] == JOB_BROKEN)
          demo_say ("job %u: broken-pool as well (it had not finished when the "
                    "worker died)", job);
        else
          say_outcome (outcome, job);
      }
  return TRUE;
}

/* What the careless batch must show: the dead job and every job that had
 * not finished fail with broken-pool; the ones done before keep results. */
static gboolean
check_pool_broke (Demo          *demo,
                  MpPool        *pool,
                  const Outcome *outcome,
                  gint64         crash_reported_us)
{
  guint broken = 0;

  if (outcome->state[POISONED] != JOB_BROKEN)
    return demo_reject (demo, "job %d ended as \"%s\", not broken-pool", POISONED,
                        job_state_to_string (outcome->state[POISONED]));
  if (crash_reported_us > PROMPT_LIMIT_US)
    return demo_reject (demo, "the broken pool was reported only after %.1f s",
                        crash_reported_us / (double) G_USEC_PER_SEC);
  for (guint job = 0; job < N_JOBS; job++)
    {
      if (outcome->state[job] == JOB_BROKEN)
        broken++;
      else if (job > POISONED)
        return demo_reject (demo, "job %u was held at the gate when the worker "
                            "died, yet ended as \"%s\"", job,
                            job_state_to_string (outcome->state[job]));
      else if (outcome->state[job] != JOB_DONE || outcome->value[job] != (gint64) job * job)
        return demo_reject (demo, "job %u ended as \"%s\"", job,
                            job_state_to_string (outcome->state[job]));
    }
  if (!mp_pool_is_broken (pool))
    return demo_reject (demo, "mp_pool_is_broken() says the pool is fine");
  demo_say ("=> job %d and %u pending job(s) failed with broken-pool after "
            "%.3f s; %u job(s) finished before the crash kept their results",
            POISONED, broken - 1, crash_reported_us / (double) G_USEC_PER_SEC,
            N_JOBS - broken);
  return TRUE;
}

static gboolean
check_pool_refuses_work (Demo   *demo,
                         MpPool *pool)
{
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;

  demo_step (demo, "Try to submit one more job to the broken pool.");
  future = submit_job (pool, "square-or-crash", 0, "", &error);
  if (future != NULL)
    mp_future_result (future, RESULT_TIMEOUT, &value, &error);
  if (!demo_error_is_mp (error, MP_ERROR_BROKEN_POOL))
    return demo_reject (demo, "a broken pool accepted new work");
  demo_say ("%s:", future == NULL ? "refused at submit" : "its future failed");
  demo_print_error (error);
  return TRUE;
}

/* Starts a pool and runs the careless batch on it. Returns the pool, for
 * the caller to examine and shut down, or NULL once the half is rejected. */
static MpPool *
run_careless_batch_on_a_new_pool (Demo       *demo,
                                  Outcome    *outcome,
                                  gint64     *crash_reported_us,
                                  const char *which)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;

  pool = start_pool (demo, &error);
  if (pool == NULL || !run_careless_batch (demo, pool, outcome,
                                           crash_reported_us, &error))
    {
      if (pool != NULL)
        mp_pool_shutdown (pool, TRUE);
      demo_reject_error (demo, error, "%s could not run", which);
      return NULL;
    }
  return g_steal_pointer (&pool);
}

static gboolean
half_worker_dies (Demo *demo)
{
  g_autoptr(MpPool) pool = NULL;
  g_auto(Outcome) outcome = { .state = { JOB_UNKNOWN } };
  gint64 crash_reported_us = 0;
  gboolean ok;

  pool = run_careless_batch_on_a_new_pool (demo, &outcome, &crash_reported_us,
                                           "the batch");
  if (pool == NULL)
    return FALSE;
  ok = check_pool_broke (demo, pool, &outcome, crash_reported_us) &&
       check_pool_refuses_work (demo, pool);
  mp_pool_shutdown (pool, TRUE);
  demo_show_timeline (demo, "a worker dies, the pending jobs break");
  return ok;
}

/* ---- the fixed half -------------------------------------------------------- */

static gboolean
resubmit_unfinished (Demo    *demo,
                     Outcome *outcome,
                     GError **error)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GArray) jobs = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint job = 0; job < N_JOBS; job++)
    if (outcome->state[job] != JOB_DONE)
      g_array_append_val (jobs, job);

  pool = start_pool (demo, error);
  if (pool == NULL)
    return FALSE;
  demo_step (demo, "Resubmit only the %u unfinished job(s), with the careful "
             "task \"square-or-report\".", jobs->len);
  for (guint i = 0; i < jobs->len; i++)
    {
      guint job = g_array_index (jobs, guint, i);
      MpFuture *future = submit_job (pool, "square-or-report", job, "", error);

      if (future == NULL)
        {
          mp_pool_shutdown (pool, TRUE);
          return FALSE;
        }
      g_ptr_array_add (futures, future);
    }
  for (guint i = 0; i < jobs->len; i++)
    {
      guint job = g_array_index (jobs, guint, i);

      g_clear_error (&outcome->error[job]);
      record_result (outcome, job, futures->pdata[i]);
      say_outcome (outcome, job);
    }
  if (mp_pool_is_broken (pool))
    {
      mp_set_error (error, MP_ERROR_BROKEN_POOL, "the fresh pool broke too");
      mp_pool_shutdown (pool, TRUE);
      return FALSE;
    }
  demo_say ("the fresh pool is still healthy");
  mp_pool_shutdown (pool, TRUE);
  return TRUE;
}

static gboolean
check_all_results (Demo          *demo,
                   const Outcome *outcome)
{
  GString *table = g_string_new ("[");
  g_autofree char *shown = NULL;
  gboolean ok = TRUE;

  demo_step (demo, "Check every job.");
  for (guint job = 0; job < N_JOBS; job++)
    {
      if (job > 0)
        g_string_append (table, ", ");
      if (outcome->state[job] == JOB_DONE)
        g_string_append_printf (table, "%" G_GINT64_FORMAT, outcome->value[job]);
      else
        g_string_append_printf (table, "<%s>", job_state_to_string (outcome->state[job]));

      if (job == POISONED)
        {
          if (outcome->state[job] != JOB_ERROR ||
              !demo_error_is_mp (outcome->error[job], MP_ERROR_INVALID_ARGUMENT))
            ok = demo_reject (demo, "job %u should end with the task's own "
                              "invalid-argument error", job);
        }
      else if (outcome->state[job] != JOB_DONE || outcome->value[job] != (gint64) job * job)
        ok = demo_reject (demo, "job %u ended as \"%s\"", job,
                          job_state_to_string (outcome->state[job]));
    }
  g_string_append_c (table, ']');
  shown = g_string_free (table, FALSE);
  demo_say ("results: %s", shown);
  if (ok)
    demo_say ("=> checked: every job but %d returned n*n; job %d reported its "
              "poisoned input as an error, and no worker died for it",
              POISONED, POISONED);
  return ok;
}

static gboolean
half_fresh_pool_and_resubmit (Demo *demo)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(Outcome) outcome = { .state = { JOB_UNKNOWN } };
  gint64 crash_reported_us = 0;
  guint unfinished = 0;

  pool = run_careless_batch_on_a_new_pool (demo, &outcome, &crash_reported_us,
                                           "the first batch");
  if (pool == NULL)
    return FALSE;

  demo_step (demo, "Notice the broken pool and which jobs are unfinished.");
  for (guint job = 0; job < N_JOBS; job++)
    unfinished += outcome.state[job] != JOB_DONE;
  demo_say ("mp_pool_is_broken() = %s; %u job(s) unfinished",
            mp_pool_is_broken (pool) ? "TRUE" : "FALSE", unfinished);
  if (!mp_pool_is_broken (pool))
    {
      mp_pool_shutdown (pool, TRUE);
      return demo_reject (demo, "the first pool did not break, nothing to recover");
    }
  demo_say ("shut it down and start a fresh one");
  mp_pool_shutdown (pool, TRUE);

  if (!resubmit_unfinished (demo, &outcome, &error))
    return demo_reject_error (demo, error, "resubmitting failed");
  return check_all_results (demo, &outcome);
}

static const DemoInfo demo_info = {
  .name = "broken-pool",
  .tells_a_story = TRUE,
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 3,
  .broken = half_worker_dies,
  .fixed = half_fresh_pool_and_resubmit,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
