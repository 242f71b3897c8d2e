/* as-completed-order.c — results arrive in completion order
 *
 * Nine squares on a pool of workers, collected "as completed" and appended
 * to a list, as in the article (whose own output ends ..., 36, 64, 49).
 * To make "a later job finishes first" a fact rather than luck, the first
 * job(s) wait at a gate that the parent opens only once another result has
 * arrived — a slow job, without any sleep.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define N_JOBS          9
#define MAX_ATTEMPTS    3
#define GATE_BACKSTOP_MS (60 * 1000)
#define RESULT_TIMEOUT  (90 * G_USEC_PER_SEC)

static const char summary[] =
  "Collecting pool results \"as completed\" gives them in the order the jobs\n"
  "finished, not the order they were submitted: a slow early job lands late.\n"
  "Code that assumes position i holds the result of job i silently mixes them up.\n"
  "Fix: let the index travel with each result and store it by index, or use\n"
  "mp_pool_map(), which returns the results in submission order.";

/* ---- tasks ---------------------------------------------------------------- */

static gboolean
wait_if_gated (MpArgs  *args,
               GError **error)
{
  const char *gate = mp_args_get_string (args, 1);

  return gate == NULL || *gate == '\0' || demo_gate_wait (gate, GATE_BACKSTOP_MS, error);
}

static gboolean
check_args (MpArgs     *args,
            const char *task,
            GError    **error)
{
  if (mp_args_get_length (args) == 2)
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "%s takes (number, gate path)",
                task);
  return FALSE;
}

/* the article's task: returns only the square */
static gboolean
square (MpArgs  *args,
        GValue  *result,
        GError **error)
{
  gint64 n;

  if (!check_args (args, "square", error) || !wait_if_gated (args, error))
    return FALSE;
  n = mp_args_get_int (args, 0);
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  return TRUE;
}
MP_TASK_DEFINE ("square", square)

static GValue *
int_value (gint64 v)
{
  GValue *value = mp_gvalue_new (G_TYPE_INT64);

  g_value_set_int64 (value, v);
  return value;
}

/* the fix: the result says which number it belongs to, (n, n*n) */
static gboolean
square_with_index (MpArgs  *args,
                   GValue  *result,
                   GError **error)
{
  GPtrArray *pair;
  gint64 n;

  if (!check_args (args, "square-with-index", error) || !wait_if_gated (args, error))
    return FALSE;
  n = mp_args_get_int (args, 0);
  pair = mp_gvalue_list_new ();
  g_ptr_array_add (pair, int_value (n));
  g_ptr_array_add (pair, int_value (n * n));
  g_value_init (result, MP_TYPE_GVALUE_LIST);
  g_value_take_boxed (result, pair);
  return TRUE;
}
MP_TASK_DEFINE ("square-with-index", square_with_index)

/* ---- a run: submit, then collect as completed ------------------------------ */

typedef struct {
  MpPool    *pool;
  DemoGate  *gate;
  GPtrArray *futures;          /* in submission order */
  guint      arrival[N_JOBS];  /* job index, in the order results arrived */
  GValue     results[N_JOBS];  /* in arrival order */
  guint      n_arrived;
} Run;

static void
run_clear (Run *run)
{
  /* a gate left shut would hold a worker until its backstop */
  if (run->gate != NULL)
    demo_gate_open (run->gate, NULL);
  if (run->pool != NULL)
    mp_pool_shutdown (run->pool, TRUE);
  g_clear_object (&run->pool);
  g_clear_pointer (&run->gate, demo_gate_free);
  g_clear_pointer (&run->futures, g_ptr_array_unref);
  for (guint i = 0; i < N_JOBS; i++)
    if (G_IS_VALUE (&run->results[i]))
      g_value_unset (&run->results[i]);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static gboolean
start_pool (Demo    *demo,
            Run     *run,
            GError **error)
{
  demo_step (demo, "Start a pool of %u workers (%s).", demo_get_workers (demo),
             mp_start_method_to_string (demo_get_start_method (demo)));
  run->pool = mp_pool_new (demo_get_workers (demo), error);
  return run->pool != NULL;
}

static gboolean
submit_jobs (Demo       *demo,
             Run        *run,
             const char *task,
             guint       n_slow,
             GError    **error)
{
  run->gate = demo_gate_new (error);
  if (run->gate == NULL)
    return FALSE;
  run->futures = g_ptr_array_new_with_free_func (g_object_unref);

  demo_step (demo, "Submit %d jobs \"%s\" for 0..%d.", N_JOBS, task, N_JOBS - 1);
  if (n_slow == 1)
    demo_say ("job 0 is a slow one: it waits at a gate the parent opens only "
              "when another result is in");
  else if (n_slow > 1)
    demo_say ("jobs 0..%u are slow ones: they wait at a gate the parent opens "
              "only when another result is in", n_slow - 1);
  for (guint i = 0; i < N_JOBS; i++)
    {
      const char *gate = i < n_slow ? demo_gate_get_path (run->gate) : "";
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) i,
                                            G_TYPE_STRING, gate, G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (run->pool, task, args, error);

      if (future == NULL)
        return FALSE;
      g_ptr_array_add (run->futures, future);
    }
  return TRUE;
}

static guint
job_of (Run      *run,
        MpFuture *future)
{
  guint index = G_MAXUINT;

  g_ptr_array_find (run->futures, future, &index);
  return index;
}

static gboolean
collect_as_completed (Demo    *demo,
                      Run     *run,
                      GError **error)
{
  g_autoptr(MpAsCompleted) completed = mp_as_completed_new (run->futures);

  demo_step (demo, "Collect the results as they complete, appending each.");
  for (guint k = 0; k < N_JOBS; k++)
    {
      MpFuture *future = mp_as_completed_next (completed, RESULT_TIMEOUT, error);
      GValue *value = &run->results[k];
      g_autofree char *shown = NULL;
      guint job;

      if (future == NULL)
        return FALSE;
      job = job_of (run, future);
      if (job == G_MAXUINT)
        {
          mp_set_error (error, MP_ERROR_FAILED, "as-completed gave back a "
                        "future that was never submitted");
          return FALSE;
        }
      if (!mp_future_result (future, RESULT_TIMEOUT, value, error))
        {
          g_prefix_error (error, "job %u: ", job);
          return FALSE;
        }
      run->arrival[k] = job;
      run->n_arrived++;
      shown = mp_gvalue_to_string (value);
      demo_say ("arrived #%u: job %u -> %s", k, job, shown);
      /* another result is in: the slow jobs may finish now */
      if (!demo_gate_open (run->gate, error))
        return FALSE;
    }
  return TRUE;
}

/* ---- the broken half ------------------------------------------------------- */

static gboolean
attempt_in_completion_order (Demo     *demo,
                             guint     n_slow,
                             gboolean *in_order)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 appended[N_JOBS];
  g_autofree char *shown = NULL;
  int wrong = -1;

  *in_order = FALSE;
  if (!start_pool (demo, &run, &error) ||
      !submit_jobs (demo, &run, "square", n_slow, &error) ||
      !collect_as_completed (demo, &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");

  for (guint i = 0; i < N_JOBS; i++)
    if (!demo_value_get_int (&run.results[i], &appended[i]))
      return demo_reject (demo, "result #%u is not an integer", i);
  shown = demo_format_ints (appended, N_JOBS);
  demo_step (demo, "Check the list the way the article's code uses it: "
             "position i should hold i*i.");
  demo_say ("appended list: %s", shown);
  for (guint i = 0; i < N_JOBS && wrong < 0; i++)
    if (appended[i] != (gint64) i * i)
      wrong = (int) i;

  *in_order = wrong < 0;
  if (*in_order)
    {
      demo_say ("this run happened to finish in submission order: nothing "
                "to see yet");
      return demo_reject (demo, "every result arrived in submission order");
    }
  demo_say ("=> position %d holds %" G_GINT64_FORMAT ", not %d*%d = %d: it is "
            "the result of job %u", wrong, appended[wrong], wrong, wrong,
            wrong * wrong, run.arrival[wrong]);
  demo_show_timeline (demo, "each job is done when its worker finishes it");
  return TRUE;
}

static gboolean
half_completion_order (Demo *demo)
{
  guint workers = demo_get_workers (demo);
  gboolean in_order = TRUE;

  if (workers < 2)
    return demo_reject (demo, "with a single worker jobs run one after the "
                        "other and finish in submission order; use --workers 2 "
                        "or more");
  /* each retry holds back more jobs, the widest spread a pool this size can
   * take while keeping a worker free to produce the result that opens it */
  for (guint attempt = 1; attempt <= MAX_ATTEMPTS; attempt++)
    {
      guint n_slow = MIN (attempt, workers - 1);

      if (attempt > 1)
        g_print ("\n-- attempt %u of %u, %u slow job(s) --\n", attempt,
                 MAX_ATTEMPTS, n_slow);
      if (attempt_in_completion_order (demo, n_slow, &in_order))
        return TRUE;
      if (!in_order)
        return FALSE;   /* a real failure of the run, already explained */
    }
  return FALSE;
}

/* ---- the fixed half -------------------------------------------------------- */

static gboolean
place_by_travelling_index (Demo  *demo,
                           Run   *run,
                           gint64 table[N_JOBS])
{
  gboolean filled[N_JOBS] = { FALSE };
  gboolean scrambled = FALSE;

  demo_step (demo, "Store each result at the index it carries, not where it "
             "arrived.");
  for (guint k = 0; k < N_JOBS; k++)
    {
      GPtrArray *pair = NULL;
      gint64 index, square;

      if (G_VALUE_HOLDS (&run->results[k], MP_TYPE_GVALUE_LIST))
        pair = g_value_get_boxed (&run->results[k]);
      if (pair == NULL || pair->len != 2 ||
          !demo_value_get_int (pair->pdata[0], &index) ||
          !demo_value_get_int (pair->pdata[1], &square))
        return demo_reject (demo, "result #%u is not an (index, square) pair", k);
      if (index < 0 || index >= N_JOBS || filled[index])
        return demo_reject (demo, "result #%u carries a bad or repeated index "
                            "%" G_GINT64_FORMAT, k, index);
      filled[index] = TRUE;
      table[index] = square;
      scrambled |= run->arrival[k] != k;
    }
  demo_say ("the results arrived %s", scrambled ? "out of order (job 0 was slow)"
                                                : "in order this time");
  return TRUE;
}

static gboolean
check_squares (Demo         *demo,
               const gint64 *table,
               const char   *how)
{
  g_autofree char *shown = demo_format_ints (table, N_JOBS);

  demo_say ("%s: %s", how, shown);
  for (guint i = 0; i < N_JOBS; i++)
    if (table[i] != (gint64) i * i)
      return demo_reject (demo, "%s: position %u holds %" G_GINT64_FORMAT,
                          how, i, table[i]);
  demo_say ("=> checked: position i holds i*i for every i");
  return TRUE;
}

static gboolean
fix_index_travels_with_result (Demo *demo)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 table[N_JOBS];

  g_print ("\n-- fix 1: the index travels with the result --\n");
  if (!start_pool (demo, &run, &error) ||
      !submit_jobs (demo, &run, "square-with-index",
                    demo_get_workers (demo) > 1 ? 1 : 0, &error) ||
      !collect_as_completed (demo, &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");
  return place_by_travelling_index (demo, &run, table) &&
         check_squares (demo, table, "table by index");
}

static gboolean
fix_map_keeps_order (Demo *demo)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) values = NULL;
  gint64 table[N_JOBS];

  g_print ("\n-- fix 2: mp_pool_map() returns results in submission order --\n");
  if (!start_pool (demo, &run, &error))
    return demo_reject_error (demo, error, "the pool did not start");
  demo_step (demo, "Map \"square\" over 0..%d (no gate: map returns only when "
             "all are done, whatever order they finish in).", N_JOBS - 1);
  for (guint i = 0; i < N_JOBS; i++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, (gint64) i,
                                             G_TYPE_STRING, "", G_TYPE_INVALID));
  values = mp_pool_map (run.pool, "square", args_list, RESULT_TIMEOUT, &error);
  if (values == NULL)
    return demo_reject_error (demo, error, "map failed");
  if (values->len != N_JOBS)
    return demo_reject (demo, "map returned %u results for %d jobs", values->len,
                        N_JOBS);
  for (guint i = 0; i < N_JOBS; i++)
    if (!demo_value_get_int (values->pdata[i], &table[i]))
      return demo_reject (demo, "map result %u is not an integer", i);
  return check_squares (demo, table, "map results");
}

static gboolean
half_index_or_map (Demo *demo)
{
  gboolean ok = fix_index_travels_with_result (demo);

  return fix_map_keeps_order (demo) && ok;
}

static const DemoInfo demo_info = {
  .name = "as-completed-order",
  .tells_a_story = TRUE,
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 3,
  .broken = half_completion_order,
  .fixed = half_index_or_map,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
