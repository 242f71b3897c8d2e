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
#include <unistd.h>

#include "demo-common.h"

#define N_WORKERS 3
#define N_JOBS 9
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- Cluster: a name and an availability flag --------------------------- */

#define DEMO_TYPE_CLUSTER (cluster_get_type ())
G_DECLARE_FINAL_TYPE (Cluster, cluster, DEMO, CLUSTER, GObject)

struct _Cluster
{
  GObject   parent_instance;
  char     *name;
  gboolean  is_available;
};

G_DEFINE_TYPE (Cluster, cluster, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_IS_AVAILABLE, N_PROPS };
static GParamSpec *cluster_props[N_PROPS];

static void
cluster_finalize (GObject *object)
{
  g_free (DEMO_CLUSTER (object)->name);
  G_OBJECT_CLASS (cluster_parent_class)->finalize (object);
}

static void
cluster_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  Cluster *self = DEMO_CLUSTER (object);

  switch (id)
    {
    case PROP_NAME: g_value_set_string (value, self->name); break;
    case PROP_IS_AVAILABLE: g_value_set_boolean (value, self->is_available); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cluster_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  Cluster *self = DEMO_CLUSTER (object);

  switch (id)
    {
    case PROP_NAME: g_free (self->name); self->name = g_value_dup_string (value); break;
    case PROP_IS_AVAILABLE: self->is_available = g_value_get_boolean (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cluster_class_init (ClusterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cluster_finalize;
  object_class->get_property = cluster_get_property;
  object_class->set_property = cluster_set_property;
  cluster_props[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  cluster_props[PROP_IS_AVAILABLE] =
    g_param_spec_boolean ("is-available", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, cluster_props);
}

static void
cluster_init (Cluster *self)
{
}

/* A new busy cluster with a random five-letter name. A fresh GRand per
 * call: forked workers inherit the global generator's state. */
static Cluster *
cluster_new_random (void)
{
  g_autoptr(GRand) rand = g_rand_new ();
  char name[6];

  for (guint i = 0; i < 5; i++)
    name[i] = (char) ('a' + g_rand_int_range (rand, 0, 26));
  name[5] = '\0';
  return g_object_new (DEMO_TYPE_CLUSTER, "name", name, "is-available", FALSE, NULL);
}

static gint64
cluster_run_job (Cluster *self, gint64 num)
{
  return num * num;
}

/* Like the article's __eq__: two clusters are the same if their names are. */
MP_INITIALIZER (register_cluster)
static void
register_cluster (void)
{
  static const char * const key[] = { "name", NULL };

  mp_serialize_register_type (DEMO_TYPE_CLUSTER, key);
}

static void
cluster_to_value (Cluster *cluster, GValue *value)
{
  g_value_init (value, DEMO_TYPE_CLUSTER);
  g_value_set_object (value, cluster);
}

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
      const GValue *entry = g_ptr_array_index (clusters, i);
      g_auto(GValue) item = G_VALUE_INIT;
      Cluster *existing;

      if (!G_VALUE_HOLDS (entry, DEMO_TYPE_CLUSTER) ||
          (existing = g_value_get_object (entry)) == NULL)
        {
          mp_set_error (error, MP_ERROR_FAILED, "the clusters list held something else");
          return NULL;
        }
      if (!existing->is_available)
        continue;
      existing->is_available = FALSE;       /* changes only our copy ... */
      if (pool->write_back)
        {
          cluster_to_value (existing, &item);   /* ... until we write it back */
          if (!mp_list_proxy_set_item (pool->clusters, i, &item, error))
            return NULL;
        }
      return g_object_ref (existing);
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
 * result: (num, square, worker pid, cluster name) */
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

  g_value_init (result, G_TYPE_VARIANT);
  g_value_take_variant (result, g_variant_new ("(xxxs)", num, squared,
                                               (gint64) getpid (), cluster->name));
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
  gint64 num, squared, pid;
  char   name[6];
} JobReport;

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

static MpManager *
start_manager (GError **error)
{
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);

  return mp_manager_start (manager, error) ? g_steal_pointer (&manager) : NULL;
}

static gboolean
job_report_from_result (const GValue *result, JobReport *report, GError **error)
{
  GVariant *v = G_VALUE_HOLDS (result, G_TYPE_VARIANT) ? g_value_get_variant (result) : NULL;
  const char *name;

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE ("(xxxs)")))
    {
      mp_set_error (error, MP_ERROR_FAILED, "a job returned something other than its report");
      return FALSE;
    }
  g_variant_get (v, "(xxx&s)", &report->num, &report->squared, &report->pid, &name);
  g_strlcpy (report->name, name, sizeof report->name);
  return TRUE;
}

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
collect_reports (GPtrArray *futures, GArray *reports, GError **error)
{
  g_autoptr(MpAsCompleted) completed = mp_as_completed_new (futures);

  for (guint i = 0; i < futures->len; i++)
    {
      MpFuture *future = mp_as_completed_next (completed, WAIT_BACKSTOP, error);
      g_auto(GValue) result = G_VALUE_INIT;
      JobReport r;

      if (future == NULL ||
          !mp_future_result (future, 0, &result, error) ||
          !job_report_from_result (&result, &r, error))
        return FALSE;
      demo_say ("job finished. num: %" G_GINT64_FORMAT ", squared_num: %" G_GINT64_FORMAT
                ", pid: %" G_GINT64_FORMAT ", cluster_name: %s",
                r.num, r.squared, r.pid, r.name);
      g_array_append_val (reports, r);
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
  if ((manager = start_manager (error)) == NULL ||
      (clusters = mp_manager_list (manager, NULL, error)) == NULL ||
      (lock = mp_manager_lock (manager, error)) == NULL ||
      (line_up = mp_manager_barrier (manager, N_WORKERS, error)) == NULL ||
      (mp_pool = mp_pool_new (N_WORKERS, error)) == NULL)
    return FALSE;
  pool = (ClusterPool) { clusters, lock, write_back };

  demo_step (demo, "Submit jobs 0..%d; collect the reports as they complete.", N_JOBS - 1);
  run->reports = g_array_new (FALSE, TRUE, sizeof (JobReport));
  ok = submit_jobs (mp_pool, &pool, line_up, futures, error) &&
       collect_reports (futures, run->reports, error);
  mp_pool_shutdown (mp_pool, TRUE);
  if (!ok)
    return FALSE;

  demo_step (demo, "Copy the clusters list out while the manager runs.");
  run->clusters = mp_list_proxy_copy (clusters, error);
  return run->clusters != NULL;
}

/* ---- the checks -------------------------------------------------------- */

static guint
count_distinct_clusters (GArray *reports)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < reports->len; i++)
    g_hash_table_add (names, g_array_index (reports, JobReport, i).name);
  return g_hash_table_size (names);
}

static gboolean
squares_are_right (GArray *reports)
{
  gboolean seen[N_JOBS] = { FALSE };

  if (reports->len != N_JOBS)
    return FALSE;
  for (guint i = 0; i < reports->len; i++)
    {
      const JobReport *r = &g_array_index (reports, JobReport, i);

      if (r->num < 0 || r->num >= N_JOBS || seen[r->num] || r->squared != r->num * r->num)
        return FALSE;
      seen[r->num] = TRUE;
    }
  return TRUE;
}

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
run_failed (Demo *demo, const GError *error)
{
  demo_print_error (error);
  return demo_reject (demo, "the run itself failed: %s", error->message);
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
    return run_failed (demo, error);
  available = print_final_list (run.clusters);

  demo_step (demo, "Count the clusters the jobs used.");
  distinct = count_distinct_clusters (run.reports);
  if (!squares_are_right (run.reports))
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
    return run_failed (demo, error);
  available = print_final_list (run.clusters);

  demo_step (demo, "Check the squares and the clusters used.");
  distinct = count_distinct_clusters (run.reports);
  if (!squares_are_right (run.reports))
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
