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
#include <unistd.h>

#include "demo-common.h"

#define N_WORKERS 3
#define N_JOBS 9
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- Cluster: a stand-in for an expensive remote cluster --------------- */

#define DEMO_TYPE_CLUSTER (cluster_get_type ())
G_DECLARE_FINAL_TYPE (Cluster, cluster, DEMO, CLUSTER, GObject)

struct _Cluster
{
  GObject  parent_instance;
  char    *name;
};

G_DEFINE_TYPE (Cluster, cluster, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, N_PROPS };
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
  switch (id)
    {
    case PROP_NAME: g_value_set_string (value, DEMO_CLUSTER (object)->name); break;
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
  g_object_class_install_properties (object_class, N_PROPS, cluster_props);
}

static void
cluster_init (Cluster *self)
{
}

/* A new cluster with a random five-letter name. A fresh GRand per call:
 * forked workers inherit the global generator's state and would all
 * draw the same names. */
static Cluster *
cluster_new_random (void)
{
  g_autoptr(GRand) rand = g_rand_new ();
  char name[6];

  for (guint i = 0; i < 5; i++)
    name[i] = (char) ('a' + g_rand_int_range (rand, 0, 26));
  name[5] = '\0';
  return g_object_new (DEMO_TYPE_CLUSTER, "name", name, NULL);
}

/* The job the cluster runs: the article squared the number. */
static gint64
cluster_run_job (Cluster *self, gint64 num)
{
  return num * num;
}

MP_INITIALIZER (register_cluster)
static void
register_cluster (void)
{
  mp_serialize_register_type (DEMO_TYPE_CLUSTER, NULL);
}

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

/* A new reference to the Cluster the list gave back in @item. */
static Cluster *
cluster_from_item (const GValue *item, GError **error)
{
  if (G_VALUE_HOLDS (item, DEMO_TYPE_CLUSTER) && g_value_get_object (item) != NULL)
    return g_value_dup_object (item);
  mp_set_error (error, MP_ERROR_FAILED, "the clusters list held something else");
  return NULL;
}

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

      g_value_init (&item, DEMO_TYPE_CLUSTER);
      g_value_set_object (&item, cluster);
      if (!mp_list_proxy_append (clusters, &item, error))
        return NULL;
      return g_steal_pointer (&cluster);
    }
  if (!mp_list_proxy_get_item (clusters, -1, &item, error))
    return NULL;
  return cluster_from_item (&item, error);
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
    return cluster_from_item (&item, error);
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

  g_value_init (&item, DEMO_TYPE_CLUSTER);
  g_value_set_object (&item, cluster);
  return mp_list_proxy_append (clusters, &item, error);
}

/* ---- a job ------------------------------------------------------------- */

/* args: num, clusters, users, referee lock, line_up, borrow by pop?
 * result: (num, square, worker pid, cluster name, other users seen) */
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

  g_value_init (result, G_TYPE_VARIANT);
  g_value_take_variant (result, g_variant_new ("(xxxsx)", num, squared,
                                               (gint64) getpid (),
                                               cluster->name, users - 1));
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

typedef struct {
  gint64 num, squared, pid, shared_with;
  char   name[6];
} JobReport;

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

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE ("(xxxsx)")))
    {
      mp_set_error (error, MP_ERROR_FAILED, "a job returned something other than its report");
      return FALSE;
    }
  g_variant_get (v, "(xxx&sx)", &report->num, &report->squared, &report->pid,
                 &name, &report->shared_with);
  g_strlcpy (report->name, name, sizeof report->name);
  return TRUE;
}

static void
print_job_report (const JobReport *r)
{
  demo_say ("job finished. num: %" G_GINT64_FORMAT ", squared_num: %" G_GINT64_FORMAT
            ", pid: %" G_GINT64_FORMAT ", cluster_name: %s%s",
            r->num, r->squared, r->pid, r->name,
            r->shared_with > 0 ? "  <- another job was using it too" : "");
}

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

/* Collects the reports in completion order and prints each one. */
static GArray *
collect_reports (GPtrArray *futures, GError **error)
{
  g_autoptr(GArray) reports = g_array_new (FALSE, TRUE, sizeof (JobReport));
  g_autoptr(MpAsCompleted) completed = mp_as_completed_new (futures);

  for (guint i = 0; i < futures->len; i++)
    {
      MpFuture *future = mp_as_completed_next (completed, WAIT_BACKSTOP, error);
      g_auto(GValue) result = G_VALUE_INIT;
      JobReport report;

      if (future == NULL ||
          !mp_future_result (future, 0, &result, error) ||
          !job_report_from_result (&result, &report, error))
        return NULL;
      print_job_report (&report);
      g_array_append_val (reports, report);
    }
  return g_steal_pointer (&reports);
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
  if ((manager = start_manager (error)) == NULL ||
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
    reports = collect_reports (futures, error);
  mp_pool_shutdown (pool, TRUE);
  return g_steal_pointer (&reports);
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

static guint
count_shared_jobs (GArray *reports)
{
  guint n = 0;

  for (guint i = 0; i < reports->len; i++)
    n += g_array_index (reports, JobReport, i).shared_with > 0;
  return n;
}

/* TRUE when the jobs 0..8 each ran once and returned their own square. */
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
run_failed (Demo *demo, const GError *error)
{
  demo_print_error (error);
  return demo_reject (demo, "the run itself failed: %s", error->message);
}

static gboolean
half_borrow_by_reading (Demo *demo)
{
  g_autoptr(GArray) reports = NULL;
  g_autoptr(GError) error = NULL;
  guint shared;

  demo_say ("a job reads clusters[-1] (a copy) and leaves the cluster in the list");
  if ((reports = run_nine_jobs (demo, FALSE, &error)) == NULL)
    return run_failed (demo, error);
  print_squared_nums (reports);

  demo_step (demo, "Ask the referee: did two jobs ever use one cluster at once?");
  shared = count_shared_jobs (reports);
  if (!squares_are_right (reports))
    return demo_reject (demo, "the squares of 0..%d are not all right", N_JOBS - 1);
  if (shared == 0)
    return demo_reject (demo, "no cluster was used by two jobs at once");
  demo_say ("=> %u of the %d jobs ran on a cluster that another job was using "
            "at the same time", shared, N_JOBS);
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
    return run_failed (demo, error);
  print_squared_nums (reports);

  demo_step (demo, "Check the squares, the referee and the clusters used.");
  distinct = count_distinct_clusters (reports);
  if (!squares_are_right (reports))
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
