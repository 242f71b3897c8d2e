/* manager-as-argument.c — a manager cannot travel to a worker
 *
 * The article wanted a ClusterPool that owns its manager, so the manager
 * would shut down with the pool. But the pool is what the tasks receive,
 * and a manager holds the auth key that lets anyone talk to its server:
 * it refuses to be serialized. (Python: "Pickling an AuthenticationString
 * object is disallowed for security reasons".)
 *
 * fixed: create the manager outside, in the parent, and pass the tasks
 *   only proxies (the results list). A proxy travels as a token and each
 *   worker reconnects with the auth key it inherited.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>

#include "demo-common.h"

#define N_WORKERS 3
#define N_NUMS 6
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- ClusterPool that owns its manager (the broken design) -------------- */

#define DEMO_TYPE_CLUSTER_POOL (cluster_pool_get_type ())
G_DECLARE_FINAL_TYPE (ClusterPool, cluster_pool, DEMO, CLUSTER_POOL, GObject)

struct _ClusterPool
{
  GObject    parent_instance;
  MpManager *manager;
  MpProxy   *results;    /* a manager list the jobs append to */
};

G_DEFINE_TYPE (ClusterPool, cluster_pool, G_TYPE_OBJECT)

enum { PROP_0, PROP_MANAGER, PROP_RESULTS, N_PROPS };
static GParamSpec *cluster_pool_props[N_PROPS];

static void
cluster_pool_dispose (GObject *object)
{
  ClusterPool *self = DEMO_CLUSTER_POOL (object);

  g_clear_object (&self->results);
  g_clear_object (&self->manager);   /* the pool's manager shuts down with it */
  G_OBJECT_CLASS (cluster_pool_parent_class)->dispose (object);
}

static void
cluster_pool_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  ClusterPool *self = DEMO_CLUSTER_POOL (object);

  switch (id)
    {
    case PROP_MANAGER: g_value_set_object (value, self->manager); break;
    case PROP_RESULTS: g_value_set_object (value, self->results); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cluster_pool_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  ClusterPool *self = DEMO_CLUSTER_POOL (object);

  switch (id)
    {
    case PROP_MANAGER: g_set_object (&self->manager, g_value_get_object (value)); break;
    case PROP_RESULTS: g_set_object (&self->results, g_value_get_object (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
cluster_pool_class_init (ClusterPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = cluster_pool_dispose;
  object_class->get_property = cluster_pool_get_property;
  object_class->set_property = cluster_pool_set_property;
  cluster_pool_props[PROP_MANAGER] =
    g_param_spec_object ("manager", NULL, NULL, MP_TYPE_MANAGER,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  cluster_pool_props[PROP_RESULTS] =
    g_param_spec_object ("results", NULL, NULL, MP_TYPE_PROXY,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, cluster_pool_props);
}

static void
cluster_pool_init (ClusterPool *self)
{
}

/* The article's ClusterPool.__init__: it starts a manager of its own. */
static ClusterPool *
cluster_pool_new_with_own_manager (GError **error)
{
  g_autoptr(MpManager) manager = demo_start_manager (error);
  g_autoptr(MpProxy) results = NULL;

  if (manager == NULL || (results = mp_manager_list (manager, NULL, error)) == NULL)
    return NULL;
  return g_object_new (DEMO_TYPE_CLUSTER_POOL, "manager", manager,
                       "results", results, NULL);
}

MP_INITIALIZER (register_cluster_pool)
static void
register_cluster_pool (void)
{
  mp_serialize_register_type (DEMO_TYPE_CLUSTER_POOL, NULL);
}

/* ---- the tasks ----------------------------------------------------------- */

static gboolean
append_square (MpProxy *results, gint64 num, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_INT64);
  g_value_set_int64 (&item, num * num);
  return mp_list_proxy_append (results, &item, error);
}

/* broken: receives the whole ClusterPool, manager included */
static gboolean
square_with_cluster_pool (MpArgs *args, GValue *result, GError **error)
{
  ClusterPool *pool = mp_args_get_object (args, 1);

  return append_square (pool->results, mp_args_get_int (args, 0), error);
}
MP_TASK_DEFINE ("square-with-cluster-pool", square_with_cluster_pool)

/* fixed: receives only the proxy it needs */
static gboolean
square_with_proxy (MpArgs *args, GValue *result, GError **error)
{
  return append_square (mp_args_get_object (args, 1), mp_args_get_int (args, 0), error);
}
MP_TASK_DEFINE ("square-with-proxy", square_with_proxy)

/* Submits @task for 0..5 with @what as second argument and waits for all.
 * The error is the first one, at submit or in a result. */
static gboolean
square_in_workers (const char *task, gpointer what, GError **error)
{
  g_autoptr(MpPool) pool = mp_pool_new (N_WORKERS, error);
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok = TRUE;

  if (pool == NULL)
    return FALSE;
  for (gint64 num = 0; ok && num < N_NUMS; num++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, num,
                                            G_OBJECT_TYPE (what), what,
                                            G_TYPE_INVALID);
      MpFuture *future;

      future = mp_pool_submit (pool, task, args, error);
      if (future != NULL)
        g_ptr_array_add (futures, future);
      ok = future != NULL;
    }
  for (guint i = 0; ok && i < futures->len; i++)
    {
      g_auto(GValue) result = G_VALUE_INIT;

      ok = mp_future_result (g_ptr_array_index (futures, i), WAIT_BACKSTOP, &result, error);
    }
  mp_pool_shutdown (pool, TRUE);
  return ok;
}

static int
compare_int64 (const void *a, const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return (x > y) - (x < y);
}

static const char summary[] =
  "The article wanted a ClusterPool that owns its manager, and passed the pool\n"
  "to its tasks. A manager holds the auth key of its server and refuses to be\n"
  "serialized (--broken: auth-key-refused; Python: \"Pickling an\n"
  "AuthenticationString object is disallowed for security reasons\").\n"
  "Fix: create the manager outside, in the parent, and pass tasks only proxies.";

static gboolean
half_pass_the_manager (Demo *demo)
{
  g_autoptr(ClusterPool) cluster_pool = NULL;
  g_autoptr(GError) error = NULL;

  demo_step (demo, "Make a ClusterPool that starts and owns its manager.");
  if ((cluster_pool = cluster_pool_new_with_own_manager (&error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");

  demo_step (demo, "Submit tasks to %d workers, each given the ClusterPool.", N_WORKERS);
  if (square_in_workers ("square-with-cluster-pool", cluster_pool, &error))
    return demo_reject (demo, "the ClusterPool, manager and all, reached the workers");
  demo_print_error (error);
  if (!demo_error_is_mp (error, MP_ERROR_AUTH_KEY_REFUSED))
    return demo_reject (demo, "the tasks failed, but not with auth-key-refused");
  demo_say ("=> the manager inside the ClusterPool refused to travel to the workers");
  return TRUE;
}

static gboolean
half_pass_only_proxies (Demo *demo)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpProxy) results = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  gint64 values[N_NUMS];
  g_autofree char *text = NULL;

  demo_step (demo, "The parent starts the manager and makes a list.");
  if ((manager = demo_start_manager (&error)) == NULL ||
      (results = mp_manager_list (manager, NULL, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");

  demo_step (demo, "Submit tasks to %d workers, each given only the list proxy.", N_WORKERS);
  if (!square_in_workers ("square-with-proxy", results, &error) ||
      (items = mp_list_proxy_copy (results, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");

  demo_step (demo, "Check what the workers appended.");
  if (items->len != N_NUMS)
    return demo_reject (demo, "the list holds %u items, not %d", items->len, N_NUMS);
  for (guint i = 0; i < N_NUMS; i++)
    if (!demo_value_get_int (g_ptr_array_index (items, i), &values[i]))
      return demo_reject (demo, "item %u is not an integer", i);
  qsort (values, N_NUMS, sizeof values[0], compare_int64);
  text = demo_format_ints (values, N_NUMS);
  demo_say ("squares appended by the workers, sorted: %s", text);
  for (gint64 n = 0; n < N_NUMS; n++)
    if (values[n] != n * n)
      return demo_reject (demo, "the list is not the squares of 0..%d", N_NUMS - 1);
  demo_say ("=> checked: the workers reached the manager through the proxy");
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "manager-as-argument",
  .summary = summary,
  .broken = half_pass_the_manager,
  .fixed = half_pass_only_proxies,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
