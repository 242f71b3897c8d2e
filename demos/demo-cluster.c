/* demo-cluster.c — the article's Cluster, shared by the cluster demos
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <unistd.h>

#include "demo-cluster.h"

G_DEFINE_TYPE (Cluster, cluster, G_TYPE_OBJECT)

enum { PROP_0, PROP_NAME, PROP_IS_AVAILABLE, PROP_CREDENTIALS, N_PROPS };
static GParamSpec *cluster_props[N_PROPS];

static void
cluster_finalize (GObject *object)
{
  Cluster *self = DEMO_CLUSTER (object);

  g_free (self->name);
  g_clear_object (&self->credentials);
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
    case PROP_CREDENTIALS: g_value_set_object (value, self->credentials); break;
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
    case PROP_CREDENTIALS: g_set_object (&self->credentials, g_value_get_object (value)); break;
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
  cluster_props[PROP_CREDENTIALS] =
    g_param_spec_object ("credentials", NULL, NULL, G_TYPE_INPUT_STREAM,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, cluster_props);
}

static void
cluster_init (Cluster *self)
{
}

/* Like the article's __eq__: two clusters are the same if their names
 * are, so index() finds a cluster in a list even when its flag differs.
 * Registered at load time, so a spawned worker or server knows it too. */
MP_INITIALIZER (register_cluster)
static void
register_cluster (void)
{
  static const char * const key[] = { "name", NULL };

  mp_serialize_register_type (DEMO_TYPE_CLUSTER, key);
}

/**
 * cluster_new_random:
 *
 * A new busy cluster with a random five-letter name. A fresh GRand per
 * call: forked workers inherit the global generator's state and would
 * all draw the same names.
 *
 * Returns: (transfer full): the cluster
 */
Cluster *
cluster_new_random (void)
{
  g_autoptr(GRand) rand = g_rand_new ();
  char name[6];

  for (guint i = 0; i < 5; i++)
    name[i] = (char) ('a' + g_rand_int_range (rand, 0, 26));
  name[5] = '\0';
  return g_object_new (DEMO_TYPE_CLUSTER, "name", name, "is-available", FALSE, NULL);
}

/* The job a cluster runs: the article squared the number. */
gint64
cluster_run_job (Cluster *self,
                 gint64   num)
{
  g_return_val_if_fail (DEMO_IS_CLUSTER (self), 0);

  return num * num;
}

/* Puts @self into @value (uninitialised), as a list item. */
void
cluster_to_value (Cluster *self,
                  GValue  *value)
{
  g_return_if_fail (DEMO_IS_CLUSTER (self));

  g_value_init (value, DEMO_TYPE_CLUSTER);
  g_value_set_object (value, self);
}

/**
 * cluster_from_value:
 * @value: an item a clusters list gave back
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the Cluster in @value, or %NULL with @error
 *   set when the list held something else
 */
Cluster *
cluster_from_value (const GValue *value,
                    GError      **error)
{
  g_return_val_if_fail (G_IS_VALUE (value), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (G_VALUE_HOLDS (value, DEMO_TYPE_CLUSTER) && g_value_get_object (value) != NULL)
    return g_value_dup_object (value);
  mp_set_error (error, MP_ERROR_FAILED, "the clusters list held something else");
  return NULL;
}

/* ---- a job's report -------------------------------------------------------- */

#define JOB_REPORT_TYPE "(xxxsx)"

/* In the worker: the job's result, with this process's pid. */
void
job_report_to_result (GValue  *result,
                      gint64   num,
                      gint64   squared,
                      Cluster *cluster,
                      gint64   shared_with)
{
  g_return_if_fail (DEMO_IS_CLUSTER (cluster));

  g_value_init (result, G_TYPE_VARIANT);
  g_value_take_variant (result, g_variant_new (JOB_REPORT_TYPE, num, squared,
                                               (gint64) getpid (), cluster->name,
                                               shared_with));
}

static gboolean
job_report_from_result (const GValue *result,
                        JobReport    *report,
                        GError      **error)
{
  GVariant *v = G_VALUE_HOLDS (result, G_TYPE_VARIANT) ? g_value_get_variant (result) : NULL;
  const char *name;

  if (v == NULL || !g_variant_is_of_type (v, G_VARIANT_TYPE (JOB_REPORT_TYPE)))
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

/**
 * job_reports_collect:
 * @futures: (element-type MpFuture): the jobs submitted
 * @timeout_us: a backstop for each job
 * @error: return location for a #GError
 *
 * Collects the reports in completion order and prints each one.
 *
 * Returns: (transfer full) (element-type JobReport): the reports, or %NULL
 */
GArray *
job_reports_collect (GPtrArray *futures,
                     gint64     timeout_us,
                     GError   **error)
{
  g_autoptr(GArray) reports = NULL;
  g_autoptr(MpAsCompleted) completed = NULL;

  g_return_val_if_fail (futures != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  reports = g_array_new (FALSE, TRUE, sizeof (JobReport));
  completed = mp_as_completed_new (futures);
  for (guint i = 0; i < futures->len; i++)
    {
      MpFuture *future = mp_as_completed_next (completed, timeout_us, error);
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

/* How many different clusters ran the jobs. */
guint
job_reports_count_clusters (GArray *reports)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_val_if_fail (reports != NULL, 0);

  for (guint i = 0; i < reports->len; i++)
    g_hash_table_add (names, g_array_index (reports, JobReport, i).name);
  return g_hash_table_size (names);
}

/* TRUE when the jobs 0..@n_jobs-1 each ran once and returned their own square. */
gboolean
job_reports_squares_are_right (GArray *reports,
                               guint   n_jobs)
{
  g_autofree gboolean *seen = NULL;

  g_return_val_if_fail (reports != NULL, FALSE);

  if (reports->len != n_jobs)
    return FALSE;
  seen = g_new0 (gboolean, n_jobs);
  for (guint i = 0; i < reports->len; i++)
    {
      const JobReport *r = &g_array_index (reports, JobReport, i);

      if (r->num < 0 || r->num >= n_jobs || seen[r->num] || r->squared != r->num * r->num)
        return FALSE;
      seen[r->num] = TRUE;
    }
  return TRUE;
}
