/* cluster-pool.c — the article's cluster pool: reuse clusters through a manager list
 *
 * Starting a cluster is expensive, so 9 jobs on 3 workers share the
 * clusters they make: a list in the manager holds the idle ones. A job
 * pops a cluster (or makes one when the list is empty), runs, and appends
 * it back. Because pop removes the cluster from the list, no other job can
 * take it while it is busy.
 *
 * broken: a job only reads the last cluster of the list (a copy) and
 *   leaves it there, so other jobs take the same cluster while it is busy.
 * fixed:  the article's pop -> run -> append.
 *
 * A referee (a manager dict of "jobs using this cluster now", guarded by
 * its own manager Lock) reports any cluster used by two jobs at once. The
 * jobs of each round wait for each other at a manager Barrier while they
 * hold their cluster, so the overlap is certain, not luck (the article
 * slept one second for the same effect).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-cluster.h"

#define N_WORKERS 3
#define N_JOBS 9
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- the referee: how many jobs use each cluster right now ------------- */

typedef struct {
  MpProxy *users;   /* dict: cluster name -> number of jobs using it */
  MpProxy *lock;    /* the referee's own lock, not part of the pool */
} Referee;

/* Adds @delta to the users of @name; *now is the count after the change.
 * Lock -> read -> change -> write back -> unlock: the referee itself must
 * not lose updates. */
static gboolean
referee_count (Referee *referee, const char *name, gint64 delta,
               gint64 *now, GError **error)
{
  g_auto(GValue) zero = G_VALUE_INIT;
  g_auto(GValue) count = G_VALUE_INIT;
  g_auto(GValue) updated = G_VALUE_INIT;
  gboolean ok;

  if (!mp_lock_proxy_acquire (referee->lock, TRUE, -1, error))
    return FALSE;
  g_value_init (&zero, G_TYPE_INT64);
  ok = mp_dict_proxy_get (referee->users, name, &zero, &count, error);
  if (ok && !demo_value_get_int (&count, now))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the referee's count is not an integer");
      ok = FALSE;
    }
  if (ok)
    {
      *now += delta;
      g_value_init (&updated, G_TYPE_INT64);
      g_value_set_int64 (&updated, *now);
      ok = mp_dict_proxy_set_item (referee->users, name, &updated, error);
    }
  if (!mp_lock_proxy_release (referee->lock, ok ? error : NULL))
    return FALSE;
  return ok;
}

/* ---- the two ways to borrow a cluster ---------------------------------- */

/* broken: read the last cluster and leave it in the list. */
static Cluster *
borrow_by_reading (MpProxy *clusters, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  gint64 len = mp_list_proxy_len (clusters, error);

  if (len < 0)
    return NULL;
  if (len == 0)
    {
      g_autoptr(Cluster) cluster = cluster_new_random ();

      cluster_to_value (cluster, &item);
      if (!mp_list_proxy_append (clusters, &item, error))
        return NULL;
      return g_steal_pointer (&cluster);
    }
  if (!mp_list_proxy_get_item (clusters, -1, &item, error))
    return NULL;
  return cluster_from_value (&item, error);
}

/* pop from an empty list: Python's IndexError, raised in the server */
static gboolean
list_was_empty (const GError *error)
{
  return mp_error_get_remote_code (error) == MP_ERROR_INDEX;
}

/* fixed, the article's pop_or_create_cluster: take it out of the list. */
static Cluster *
pop_or_create_cluster (MpProxy *clusters, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  g_autoptr(GError) local_error = NULL;

  if (mp_list_proxy_pop (clusters, -1, &item, &local_error))
    return cluster_from_value (&item, error);
  if (!list_was_empty (local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return cluster_new_random ();   /* the list was empty */
}

static gboolean
append_cluster (MpProxy *clusters, Cluster *cluster, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  cluster_to_value (cluster, &item);
  return mp_list_proxy_append (clusters, &item, error);
}

/* ---- a job ------------------------------------------------------------- */

/* args: num, clusters, users, referee lock, line_up, borrow by pop?
 * result: its JobReport, with the other users the referee saw */
static gboolean
run_job (MpArgs *args, GValue *result, GError **error)
{
  gint64 num = mp_args_get_int (args, 0);
  MpProxy *clusters = mp_args_get_object (args, 1);
  Referee referee = { mp_args_get_object (args, 2), mp_args_get_object (args, 3) };
  MpProxy *line_up = mp_args_get_object (args, 4);
  gboolean by_pop = mp_args_get_boolean (args, 5);
  g_autoptr(Cluster) cluster = NULL;
  gint64 users, ignored, squared;

  cluster = by_pop ? pop_or_create_cluster (clusters, error)
                   : borrow_by_reading (clusters, error);
  if (cluster == NULL ||
      !referee_count (&referee, cluster->name, +1, &users, error))
    goto fail;
  /* hold the cluster until the other two jobs of this round hold theirs */
  if (mp_barrier_proxy_wait (line_up, WAIT_BACKSTOP, error) < 0)
    return FALSE;
  squared = cluster_run_job (cluster, num);
  if (!referee_count (&referee, cluster->name, -1, &ignored, error) ||
      (by_pop && !append_cluster (clusters, cluster, error)))
    return FALSE;

  job_report_to_result (result, num, squared, cluster, users - 1);
  return TRUE;

fail:
  /* let the other jobs of the round fail fast instead of at the backstop */
  mp_barrier_proxy_abort (line_up, NULL);
  return FALSE;
}
MP_TASK_DEFINE ("run-job", run_job)

/* ---- the parent: run 9 jobs, print and check what they report ---------- */

static const char summary[] =
  "The article's cluster pool: 9 jobs on 3 workers reuse expensive clusters\n"
  "kept in a manager list. --broken: a job reads the last cluster and leaves\n"
  "it in the list, so other jobs take the same cluster while it is busy.\n"
  "Fix: pop the cluster (or make one if the list is empty), run, append it\n"
  "back; 3 clusters serve all 9 jobs, never two jobs at once.";

static GPtrArray *
submit_jobs (MpPool *pool, MpProxy *clusters, Referee *referee,
             MpProxy *line_up, gboolean by_pop, GError **error)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);

  for (gint64 num = 0; num < N_JOBS; num++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, num,
                                            MP_TYPE_PROXY, clusters,
                                            MP_TYPE_PROXY, referee->users,
                                            MP_TYPE_PROXY, referee->lock,
                                            MP_TYPE_PROXY, line_up,
                                            G_TYPE_BOOLEAN, by_pop,
                                            G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (pool, "run-job", args, error);

      if (future == NULL)
        return NULL;
      g_ptr_array_add (futures, future);
    }
  return g_steal_pointer (&futures);
}

static GArray *
run_nine_jobs (Demo *demo, gboolean by_pop, GError **error)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpProxy) clusters = NULL;
  g_autoptr(MpProxy) users = NULL;
  g_autoptr(MpProxy) referee_lock = NULL;
  g_autoptr(MpProxy) line_up = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) futures = NULL;
  g_autoptr(GArray) reports = NULL;
  Referee referee;

  demo_step (demo, "Start a manager with an empty clusters list, the referee "
             "(a dict and its Lock) and a Barrier for %d; a pool of %d workers.",
             N_WORKERS, N_WORKERS);
  if ((manager = demo_start_manager (error)) == NULL ||
      (clusters = mp_manager_list (manager, NULL, error)) == NULL ||
      (users = mp_manager_dict (manager, NULL, error)) == NULL ||
      (referee_lock = mp_manager_lock (manager, error)) == NULL ||
      (line_up = mp_manager_barrier (manager, N_WORKERS, error)) == NULL ||
      (pool = mp_pool_new (N_WORKERS, error)) == NULL)
    return NULL;
  referee = (Referee) { users, referee_lock };

  demo_step (demo, "Submit jobs 0..%d; collect the reports as they complete.", N_JOBS - 1);
  futures = submit_jobs (pool, clusters, &referee, line_up, by_pop, error);
  if (futures != NULL)
    reports = job_reports_collect (futures, WAIT_BACKSTOP, error);
  mp_pool_shutdown (pool, TRUE);
  return g_steal_pointer (&reports);
}

/* ---- the checks -------------------------------------------------------- */

static guint
count_shared_jobs (GArray *reports)
{
  guint n = 0;

  for (guint i = 0; i < reports->len; i++)
    n += g_array_index (reports, JobReport, i).shared_with > 0;
  return n;
}

static void
print_squared_nums (GArray *reports)
{
  gint64 squares[N_JOBS];
  g_autofree char *text = NULL;

  for (guint i = 0; i < reports->len && i < N_JOBS; i++)
    squares[i] = g_array_index (reports, JobReport, i).squared;
  text = demo_format_ints (squares, MIN (reports->len, N_JOBS));
  demo_say ("squared_nums (completion order): %s", text);
}

static gboolean
half_borrow_by_reading (Demo *demo)
{
  g_autoptr(GArray) reports = NULL;
  g_autoptr(GError) error = NULL;
  guint shared;

  demo_say ("a job reads clusters[-1] (a copy) and leaves the cluster in the list");
  if ((reports = run_nine_jobs (demo, FALSE, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  print_squared_nums (reports);

  demo_step (demo, "Ask the referee: did two jobs ever use one cluster at once?");
  shared = count_shared_jobs (reports);
  if (!job_reports_squares_are_right (reports, N_JOBS))
    return demo_reject (demo, "the squares of 0..%d are not all right", N_JOBS - 1);
  if (shared == 0)
    return demo_reject (demo, "no cluster was used by two jobs at once");
  demo_say ("=> %u of the %d jobs ran on a cluster that another job was using "
            "at the same time", shared, N_JOBS);
  demo_show_timeline (demo, "every job reads the same last cluster");
  return TRUE;
}

static gboolean
half_pop_and_append (Demo *demo)
{
  g_autoptr(GArray) reports = NULL;
  g_autoptr(GError) error = NULL;
  guint distinct;

  demo_say ("a job pops a cluster (or makes one when the list is empty), runs, "
            "and appends it back");
  if ((reports = run_nine_jobs (demo, TRUE, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  print_squared_nums (reports);

  demo_step (demo, "Check the squares, the referee and the clusters used.");
  distinct = job_reports_count_clusters (reports);
  if (!job_reports_squares_are_right (reports, N_JOBS))
    return demo_reject (demo, "the squares of 0..%d are not all right", N_JOBS - 1);
  if (count_shared_jobs (reports) > 0)
    return demo_reject (demo, "a cluster was used by two jobs at once");
  if (distinct != N_WORKERS)
    return demo_reject (demo, "%u clusters were used, not %d", distinct, N_WORKERS);
  demo_say ("=> checked: %d clusters served all %d jobs, never two jobs at once, "
            "and every square is right", N_WORKERS, N_JOBS);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "cluster-pool",
  .tells_a_story = TRUE,
  .summary = summary,
  .broken = half_borrow_by_reading,
  .fixed = half_pop_and_append,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
