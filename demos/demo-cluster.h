/* demo-cluster.h — the article's Cluster, shared by the cluster demos
 *
 * A stand-in for an expensive remote cluster, with a random five-letter
 * name. cluster-pool, cluster-pool-lock and unserializable-handle all use
 * it; each lesson touches the field it is about: is_available
 * (cluster-pool-lock: may the next job take it?) and credentials
 * (unserializable-handle: an open stream, the tempting design that cannot
 * be stored in a manager).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "demo-common.h"

G_BEGIN_DECLS

#define DEMO_TYPE_CLUSTER (cluster_get_type ())
G_DECLARE_FINAL_TYPE (Cluster, cluster, DEMO, CLUSTER, GObject)

struct _Cluster
{
  GObject       parent_instance;
  char         *name;
  gboolean      is_available;
  GInputStream *credentials;   /* open: a file descriptor of this process */
};

Cluster       *cluster_new_random  (void);
gint64         cluster_run_job     (Cluster      *self,
                                    gint64        num);
void           cluster_to_value    (Cluster      *self,
                                    GValue       *value);
Cluster       *cluster_from_value  (const GValue *value,
                                    GError      **error);

/* What a job of the cluster pools reports (cluster-pool, cluster-pool-lock):
 * it travels back as its result; the parent collects the reports in
 * completion order, prints each the article's way and checks them. */
typedef struct {
  gint64 num, squared, pid;
  char   name[6];        /* of the cluster that ran the job */
  gint64 shared_with;    /* other jobs on that cluster at once, if a referee watched */
} JobReport;

void           job_report_to_result          (GValue      *result,
                                              gint64       num,
                                              gint64       squared,
                                              Cluster     *cluster,
                                              gint64       shared_with);
GArray        *job_reports_collect           (GPtrArray   *futures,
                                              gint64       timeout_us,
                                              GError     **error);
guint          job_reports_count_clusters    (GArray      *reports);
gboolean       job_reports_squares_are_right (GArray      *reports,
                                              guint        n_jobs);

G_END_DECLS
