/* cluster-pool-lock.c — the article's cluster pool with a lock and an availability flag
 *
 * The clusters stay in the manager list; each carries an is_available
 * flag. A job takes the manager Lock, looks for an available cluster,
 * marks it busy and writes it back in place (or makes a new one), then
 * releases the Lock. When the job is done it marks the cluster available
 * again the same way. Clusters compare by name only, so index() finds a
 * cluster in the list even when its flag differs.
 *
 * broken: the article's first design — the flag is changed on the copy
 *   the job fetched and never written back, so the server never sees a
 *   cluster become available and every job makes a new one.
 * fixed:  lock -> fetch -> change -> write back in place -> unlock.
 *
 * The jobs of each round wait for each other at a manager Barrier while
 * they hold their cluster, so exactly 3 clusters are needed, every run.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-cluster.h"

#define N_WORKERS 3
#define N_JOBS 9
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- the pool: a list of clusters and a lock ---------------------------- */

typedef struct {
  MpProxy  *clusters;
  MpProxy  *lock;
  gboolean  write_back;   /* FALSE: the article's first, broken design */
} ClusterPool;

/* Under the lock: the first available cluster, marked busy; NULL with
 * @error unset when none is available. */
static Cluster *
take_available_cluster (ClusterPool *pool, GError **error)
{
  g_autoptr(GPtrArray) clusters = mp_list_proxy_copy (pool->clusters, error);

  if (clusters == NULL)
    return NULL;
  for (guint i = 0; i < clusters->len; i++)
    {
      g_autoptr(Cluster) existing = cluster_from_value (g_ptr_array_index (clusters, i), error);
      g_auto(GValue) item = G_VALUE_INIT;

      if (existing == NULL)
        return NULL;
      if (!existing->is_available)
        continue;
      existing->is_available = FALSE;       /* changes only our copy ... */
      if (pool->write_back)
        {
          cluster_to_value (existing, &item);   /* ... until we write it back */
          if (!mp_list_proxy_set_item (pool->clusters, i, &item, error))
            return NULL;
        }
      return g_steal_pointer (&existing);
    }
  return NULL;
}

/* Under the lock: a new busy cluster, appended to the list. */
static Cluster *
add_new_cluster (ClusterPool *pool, GError **error)
{
  g_autoptr(Cluster) cluster = cluster_new_random ();
  g_auto(GValue) item = G_VALUE_INIT;

  cluster_to_value (cluster, &item);
  if (!mp_list_proxy_append (pool->clusters, &item, error))
    return NULL;
  return g_steal_pointer (&cluster);
}

static Cluster *
take_or_add_cluster (ClusterPool *pool, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  Cluster *cluster = take_available_cluster (pool, &local_error);

  if (cluster != NULL)
    return cluster;
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return add_new_cluster (pool, error);
}

/* The article's get_or_create_cluster. */
static Cluster *
get_or_create_cluster (ClusterPool *pool, GError **error)
{
  Cluster *cluster;

  if (!mp_lock_proxy_acquire (pool->lock, TRUE, -1, error))
    return NULL;
  cluster = take_or_add_cluster (pool, error);
  if (!mp_lock_proxy_release (pool->lock, cluster ? error : NULL))
    g_clear_object (&cluster);
  return cluster;
}

/* The article's release_cluster: mark it available, replace it in place. */
static gboolean
release_cluster (ClusterPool *pool, Cluster *cluster, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  gboolean ok = TRUE;
  gint64 i;

  cluster->is_available = TRUE;
  if (!pool->write_back)
    return TRUE;              /* the broken design stops at the copy */

  if (!mp_lock_proxy_acquire (pool->lock, TRUE, -1, error))
    return FALSE;
  cluster_to_value (cluster, &item);
  /* index() compares names only: it finds the busy entry in the list */
  i = mp_list_proxy_index (pool->clusters, &item, error);
  ok = i >= 0 && mp_list_proxy_set_item (pool->clusters, i, &item, error);
  if (!mp_lock_proxy_release (pool->lock, ok ? error : NULL))
    return FALSE;
  return ok;
}

/* ---- a job ------------------------------------------------------------- */

/* args: num, clusters, lock, line_up, write back?
 * result: its JobReport */
static gboolean
run_job (MpArgs *args, GValue *result, GError **error)
{
  ClusterPool pool = {
    mp_args_get_object (args, 1), mp_args_get_object (args, 2),
    mp_args_get_boolean (args, 4),
  };
  gint64 num = mp_args_get_int (args, 0);
  MpProxy *line_up = mp_args_get_object (args, 3);
  g_autoptr(Cluster) cluster = NULL;
  gint64 squared;

  if ((cluster = get_or_create_cluster (&pool, error)) == NULL)
    {
      /* let the other jobs of the round fail fast */
      mp_barrier_proxy_abort (line_up, NULL);
      return FALSE;
    }
  /* hold the cluster until the other two jobs of this round hold theirs */
  if (mp_barrier_proxy_wait (line_up, WAIT_BACKSTOP, error) < 0)
    return FALSE;
  squared = cluster_run_job (cluster, num);
  if (!release_cluster (&pool, cluster, error))
    return FALSE;

  job_report_to_result (result, num, squared, cluster, 0);   /* no referee here */
  return TRUE;
}
MP_TASK_DEFINE ("run-job", run_job)

/* ---- the parent: run 9 jobs, print and check what they report ---------- */

static const char summary[] =
  "The article's cluster pool with a manager Lock: clusters stay in the list\n"
  "with an is_available flag. --broken: the article's first design changes the\n"
  "flag on the fetched copy only, so no cluster ever comes back: 9 jobs, 9 clusters.\n"
  "Fix: lock, fetch, change the flag, write the cluster back in place, unlock;\n"
  "3 clusters serve all 9 jobs.";

typedef struct {
  GArray    *reports;    /* JobReport, completion order */
  GPtrArray *clusters;   /* GValue*: the list at the end */
} PoolRun;

static void
pool_run_clear (PoolRun *run)
{
  g_clear_pointer (&run->reports, g_array_unref);
  g_clear_pointer (&run->clusters, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PoolRun, pool_run_clear)

static gboolean
submit_jobs (MpPool *mp_pool, ClusterPool *pool, MpProxy *line_up,
             GPtrArray *futures, GError **error)
{
  for (gint64 num = 0; num < N_JOBS; num++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, num,
                                            MP_TYPE_PROXY, pool->clusters,
                                            MP_TYPE_PROXY, pool->lock,
                                            MP_TYPE_PROXY, line_up,
                                            G_TYPE_BOOLEAN, pool->write_back,
                                            G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (mp_pool, "run-job", args, error);

      if (future == NULL)
        return FALSE;
      g_ptr_array_add (futures, future);
    }
  return TRUE;
}

static gboolean
run_nine_jobs (Demo *demo, gboolean write_back, PoolRun *run, GError **error)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpProxy) clusters = NULL;
  g_autoptr(MpProxy) lock = NULL;
  g_autoptr(MpProxy) line_up = NULL;
  g_autoptr(MpPool) mp_pool = NULL;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  ClusterPool pool;
  gboolean ok;

  demo_step (demo, "Start a manager with an empty clusters list, a Lock and a "
             "Barrier for %d; a pool of %d workers.", N_WORKERS, N_WORKERS);
  if ((manager = demo_start_manager (error)) == NULL ||
      (clusters = mp_manager_list (manager, NULL, error)) == NULL ||
      (lock = mp_manager_lock (manager, error)) == NULL ||
      (line_up = mp_manager_barrier (manager, N_WORKERS, error)) == NULL ||
      (mp_pool = mp_pool_new (N_WORKERS, error)) == NULL)
    return FALSE;
  pool = (ClusterPool) { clusters, lock, write_back };

  demo_step (demo, "Submit jobs 0..%d; collect the reports as they complete.", N_JOBS - 1);
  ok = submit_jobs (mp_pool, &pool, line_up, futures, error) &&
       (run->reports = job_reports_collect (futures, WAIT_BACKSTOP, error)) != NULL;
  mp_pool_shutdown (mp_pool, TRUE);
  if (!ok)
    return FALSE;

  demo_step (demo, "Copy the clusters list out while the manager runs.");
  run->clusters = mp_list_proxy_copy (clusters, error);
  return run->clusters != NULL;
}

/* ---- the checks -------------------------------------------------------- */

/* Prints the final list; returns how many of its clusters are available. */
static guint
print_final_list (GPtrArray *clusters)
{
  g_autoptr(GString) text = g_string_new (NULL);
  guint available = 0;

  for (guint i = 0; i < clusters->len; i++)
    {
      const GValue *item = g_ptr_array_index (clusters, i);
      Cluster *c;

      if (!G_VALUE_HOLDS (item, DEMO_TYPE_CLUSTER))
        continue;
      c = g_value_get_object (item);
      g_string_append_printf (text, " %s(%s)", c->name,
                              c->is_available ? "available" : "busy");
      available += c->is_available;
    }
  demo_say ("clusters in the manager at the end:%s", text->str);
  return available;
}

static gboolean
half_flag_on_a_copy (Demo *demo)
{
  g_auto(PoolRun) run = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  guint distinct, available;

  demo_say ("the job flips is_available on the cluster it fetched (a copy) and "
            "never writes it back");
  if (!run_nine_jobs (demo, FALSE, &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");
  available = print_final_list (run.clusters);

  demo_step (demo, "Count the clusters the jobs used.");
  distinct = job_reports_count_clusters (run.reports);
  if (!job_reports_squares_are_right (run.reports, N_JOBS))
    return demo_reject (demo, "the squares of 0..%d are not all right", N_JOBS - 1);
  if (distinct != N_JOBS || available != 0)
    return demo_reject (demo, "%u clusters for %d jobs, %u available: some were reused",
                        distinct, N_JOBS, available);
  demo_say ("=> %u clusters were made for %d jobs and none was reused: the server "
            "never saw a cluster become available", distinct, N_JOBS);
  return TRUE;
}

static gboolean
half_write_back_under_lock (Demo *demo)
{
  g_auto(PoolRun) run = { NULL, NULL };
  g_autoptr(GError) error = NULL;
  guint distinct, available;

  demo_say ("lock -> fetch -> change the flag -> write it back in place -> unlock, "
            "on taking and on giving back");
  if (!run_nine_jobs (demo, TRUE, &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");
  available = print_final_list (run.clusters);

  demo_step (demo, "Check the squares and the clusters used.");
  distinct = job_reports_count_clusters (run.reports);
  if (!job_reports_squares_are_right (run.reports, N_JOBS))
    return demo_reject (demo, "the squares of 0..%d are not all right", N_JOBS - 1);
  if (distinct != N_WORKERS || run.clusters->len != N_WORKERS || available != N_WORKERS)
    return demo_reject (demo, "%u clusters used, %u in the list, %u available; "
                        "expected %d of each", distinct, run.clusters->len,
                        available, N_WORKERS);
  demo_say ("=> checked: %d clusters served all %d jobs, all available again at "
            "the end, and every square is right", N_WORKERS, N_JOBS);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "cluster-pool-lock",
  .summary = summary,
  .broken = half_flag_on_a_copy,
  .fixed = half_write_back_under_lock,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
