/* demo-cluster.c — the article's Cluster, shared by the cluster demos
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
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
