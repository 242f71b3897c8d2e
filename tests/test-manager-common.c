/* test-manager-common.c — what the manager and proxy suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdarg.h>
#include <string.h>

#include "test-manager-common.h"

/* ------------------------------------------------------------------ */
/* the fixture                                                          */
/* ------------------------------------------------------------------ */

char *
manager_private_dir (MpManager *manager)
{
  const char *address = mp_manager_get_address (manager);

  g_assert_nonnull (address);
  g_assert_true (g_str_has_prefix (address, "unix:"));
  return g_path_get_dirname (address + strlen ("unix:"));
}

void
assert_counts (MpManager *manager,
               guint      objects,
               guint      refs)
{
  g_autoptr(GError) error = NULL;
  guint n_objects = G_MAXUINT, n_refs = G_MAXUINT;

  g_assert_true (mp_manager_debug_info (manager, &n_objects, &n_refs, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_objects, ==, objects);
  g_assert_cmpuint (n_refs, ==, refs);
}

void
assert_no_objects (MpManager *manager)
{
  assert_counts (manager, 0, 0);
}

void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  MpStartMethod method = data != NULL ? TEST_METHOD (data) : MP_START_FORK;

  fixture->manager = mp_manager_new (NULL, NULL);
  mp_manager_set_start_method (fixture->manager, method);
  g_assert_true (mp_manager_start (fixture->manager, &error));
  g_assert_no_error (error);
  g_assert_true (mp_manager_is_running (fixture->manager));
  fixture->dir = manager_private_dir (fixture->manager);
  g_assert_true (g_file_test (fixture->dir, G_FILE_TEST_IS_DIR));
}

void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  assert_no_objects (fixture->manager);
  g_assert_true (mp_manager_shutdown (fixture->manager, &error));
  g_assert_no_error (error);
  g_assert_false (mp_manager_is_running (fixture->manager));
  g_clear_object (&fixture->manager);
  g_assert_false (g_file_test (fixture->dir, G_FILE_TEST_EXISTS));
  g_clear_pointer (&fixture->dir, g_free);
  test_assert_no_children ();
}

/* ------------------------------------------------------------------ */
/* values                                                               */
/* ------------------------------------------------------------------ */

GValue *
value_int (gint64 v)
{
  GValue *value = mp_gvalue_new (G_TYPE_INT64);

  g_value_set_int64 (value, v);
  return value;
}

GValue *
value_double (double v)
{
  GValue *value = mp_gvalue_new (G_TYPE_DOUBLE);

  g_value_set_double (value, v);
  return value;
}

GValue *
value_string (const char *v)
{
  GValue *value = mp_gvalue_new (G_TYPE_STRING);

  g_value_set_string (value, v);
  return value;
}

GValue *
value_proxy (MpProxy *proxy)
{
  GValue *value = mp_gvalue_new (MP_TYPE_PROXY);

  g_value_set_object (value, proxy);
  return value;
}

gint64
value_get_int (const GValue *value)
{
  g_assert_true (G_VALUE_HOLDS_INT64 (value));
  return g_value_get_int64 (value);
}

static GPtrArray *
int_list_valist (int     first,
                 va_list ap)
{
  GPtrArray *list = mp_gvalue_list_new ();

  for (int v = first; v != G_MININT; v = va_arg (ap, int))
    g_ptr_array_add (list, value_int (v));
  return list;
}

/* ints ended by G_MININT (plain ints: varargs promote no further) */
GPtrArray *
int_list (int first,
          ...)
{
  va_list ap;
  GPtrArray *list;

  va_start (ap, first);
  list = int_list_valist (first, ap);
  va_end (ap);
  return list;
}

static void
assert_ints_valist (GPtrArray *list,
                    int        first,
                    va_list    ap)
{
  g_autoptr(GPtrArray) expected = int_list_valist (first, ap);

  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, ==, expected->len);
  for (guint i = 0; i < list->len; i++)
    g_assert_cmpint (value_get_int (g_ptr_array_index (list, i)), ==,
                     value_get_int (g_ptr_array_index (expected, i)));
}

/* ints ended by G_MININT (plain ints: varargs promote no further) */
void
assert_int_list (GPtrArray *list,
                 int        first,
                 ...)
{
  va_list ap;

  va_start (ap, first);
  assert_ints_valist (list, first, ap);
  va_end (ap);
}

/* the whole list in the server, ints ended by G_MININT */
void
assert_list_proxy_ints (MpProxy *proxy,
                        int      first,
                        ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) copy = mp_list_proxy_copy (proxy, &error);
  va_list ap;

  g_assert_no_error (error);
  va_start (ap, first);
  assert_ints_valist (copy, first, ap);
  va_end (ap);
}

/* ------------------------------------------------------------------ */
/* TestCluster                                                          */
/* ------------------------------------------------------------------ */

struct _TestCluster
{
  GObject   parent_instance;
  char     *name;
  gboolean  available;
};

G_DEFINE_FINAL_TYPE (TestCluster, test_cluster, G_TYPE_OBJECT)

enum { CLUSTER_PROP_NAME = 1, CLUSTER_PROP_AVAILABLE };

static void
test_cluster_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestCluster *self = TEST_CLUSTER (object);

  if (prop_id == CLUSTER_PROP_NAME)
    g_value_set_string (value, self->name);
  else
    g_value_set_boolean (value, self->available);
}

static void
test_cluster_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TestCluster *self = TEST_CLUSTER (object);

  if (prop_id == CLUSTER_PROP_NAME)
    {
      g_free (self->name);
      self->name = g_value_dup_string (value);
    }
  else
    self->available = g_value_get_boolean (value);
}

static void
test_cluster_finalize (GObject *object)
{
  g_free (TEST_CLUSTER (object)->name);
  G_OBJECT_CLASS (test_cluster_parent_class)->finalize (object);
}

static void
test_cluster_class_init (TestClusterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_cluster_get_property;
  object_class->set_property = test_cluster_set_property;
  object_class->finalize = test_cluster_finalize;
  g_object_class_install_property (object_class, CLUSTER_PROP_NAME,
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, CLUSTER_PROP_AVAILABLE,
    g_param_spec_boolean ("available", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_cluster_init (TestCluster *self)
{
}

TestCluster *
test_cluster_new (const char *name,
                  gboolean    available)
{
  return g_object_new (TEST_TYPE_CLUSTER, "name", name, "available", available, NULL);
}

GValue *
value_cluster (const char *name,
               gboolean    available)
{
  GValue *value = mp_gvalue_new (TEST_TYPE_CLUSTER);

  g_value_take_object (value, test_cluster_new (name, available));
  return value;
}

/* ------------------------------------------------------------------ */
/* TestCounter                                                          */
/* ------------------------------------------------------------------ */

struct _TestCounter
{
  GObject parent_instance;
  gint64  total;
};

G_DEFINE_FINAL_TYPE (TestCounter, test_counter, G_TYPE_OBJECT)

static void
test_counter_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  g_value_set_int64 (value, TEST_COUNTER (object)->total);
}

static void
test_counter_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TEST_COUNTER (object)->total = g_value_get_int64 (value);
}

static void
test_counter_class_init (TestCounterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_counter_get_property;
  object_class->set_property = test_counter_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_int64 ("total", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

static void
test_counter_init (TestCounter *self)
{
}

static gboolean
counter_increment (GObject  *object,
                   MpArgs   *args,
                   GValue   *result,
                   GError  **error)
{
  TestCounter *self = TEST_COUNTER (object);

  if (mp_args_get_length (args) != 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "increment takes one number");
      return FALSE;
    }
  self->total += mp_args_get_int (args, 0);
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, self->total);
  return TRUE;
}

static gboolean
counter_get (GObject  *object,
             MpArgs   *args,
             GValue   *result,
             GError  **error)
{
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, TEST_COUNTER (object)->total);
  return TRUE;
}

static const MpMethod counter_methods[] = {
  { "increment", counter_increment },
  { "get", counter_get },
  { NULL, NULL }
};

static void
register_test_types (void)
{
  static const char * const cluster_keys[] = { "name", NULL };

  mp_serialize_register_type (TEST_TYPE_CLUSTER, cluster_keys);
  mp_serialize_register_type (TEST_TYPE_COUNTER, NULL);
  mp_manager_register_type ("Counter", TEST_TYPE_COUNTER, counter_methods);
}

MP_INITIALIZER (register_test_types)

gint64
barrier_attribute (MpProxy    *barrier,
                   const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_STRING, name, G_TYPE_INVALID);
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_proxy_call (barrier, "__getattribute__", args, &out, &error));
  g_assert_no_error (error);
  if (G_VALUE_HOLDS_BOOLEAN (&out))
    return g_value_get_boolean (&out);
  return value_get_int (&out);
}
