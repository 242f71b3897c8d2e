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

G_END_DECLS
