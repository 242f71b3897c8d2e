/* test-serialize.c — what may cross a process boundary
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

/* ------------------------------------------------------------------ */
/* TestCluster: a registered type with every kind of property; equality
 * by name only, as the article's cluster                               */

#define TEST_TYPE_CLUSTER (test_cluster_get_type ())
G_DECLARE_FINAL_TYPE (TestCluster, test_cluster, TEST, CLUSTER, GObject)

struct _TestCluster {
  GObject      parent_instance;
  char        *name;
  int          port;
  gboolean     available;
  double       load;
  gint64       serial;     /* construct-only */
  guint64      count;
  TestCluster *peer;
  GPtrArray   *tags;
  char        *derived;    /* read-only: computed, not sent */
};

enum {
  CLUSTER_PROP_0,
  CLUSTER_PROP_NAME,
  CLUSTER_PROP_PORT,
  CLUSTER_PROP_AVAILABLE,
  CLUSTER_PROP_LOAD,
  CLUSTER_PROP_SERIAL,
  CLUSTER_PROP_COUNT,
  CLUSTER_PROP_PEER,
  CLUSTER_PROP_TAGS,
  CLUSTER_PROP_DERIVED,
};

G_DEFINE_TYPE (TestCluster, test_cluster, G_TYPE_OBJECT)

static void
test_cluster_init (TestCluster *self)
{
}

static void
test_cluster_finalize (GObject *object)
{
  TestCluster *self = TEST_CLUSTER (object);

  g_free (self->name);
  g_clear_object (&self->peer);
  g_clear_pointer (&self->tags, g_ptr_array_unref);
  G_OBJECT_CLASS (test_cluster_parent_class)->finalize (object);
}

static void
test_cluster_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestCluster *self = TEST_CLUSTER (object);

  switch (prop_id)
    {
    case CLUSTER_PROP_NAME: g_value_set_string (value, self->name); break;
    case CLUSTER_PROP_PORT: g_value_set_int (value, self->port); break;
    case CLUSTER_PROP_AVAILABLE: g_value_set_boolean (value, self->available); break;
    case CLUSTER_PROP_LOAD: g_value_set_double (value, self->load); break;
    case CLUSTER_PROP_SERIAL: g_value_set_int64 (value, self->serial); break;
    case CLUSTER_PROP_COUNT: g_value_set_uint64 (value, self->count); break;
    case CLUSTER_PROP_PEER: g_value_set_object (value, self->peer); break;
    case CLUSTER_PROP_TAGS: g_value_set_boxed (value, self->tags); break;
    case CLUSTER_PROP_DERIVED: g_value_set_string (value, "computed"); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_cluster_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  TestCluster *self = TEST_CLUSTER (object);

  switch (prop_id)
    {
    case CLUSTER_PROP_NAME: g_free (self->name); self->name = g_value_dup_string (value); break;
    case CLUSTER_PROP_PORT: self->port = g_value_get_int (value); break;
    case CLUSTER_PROP_AVAILABLE: self->available = g_value_get_boolean (value); break;
    case CLUSTER_PROP_LOAD: self->load = g_value_get_double (value); break;
    case CLUSTER_PROP_SERIAL: self->serial = g_value_get_int64 (value); break;
    case CLUSTER_PROP_COUNT: self->count = g_value_get_uint64 (value); break;
    case CLUSTER_PROP_PEER: g_set_object (&self->peer, g_value_get_object (value)); break;
    case CLUSTER_PROP_TAGS:
      g_clear_pointer (&self->tags, g_ptr_array_unref);
      self->tags = g_value_dup_boxed (value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_cluster_class_init (TestClusterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = test_cluster_finalize;
  object_class->get_property = test_cluster_get_property;
  object_class->set_property = test_cluster_set_property;

  g_object_class_install_property (object_class, CLUSTER_PROP_NAME,
    g_param_spec_string ("name", NULL, NULL, NULL, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_PORT,
    g_param_spec_int ("port", NULL, NULL, 0, 65535, 0, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_AVAILABLE,
    g_param_spec_boolean ("available", NULL, NULL, FALSE, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_LOAD,
    g_param_spec_double ("load", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, 0, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_SERIAL,
    g_param_spec_int64 ("serial", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        rw | G_PARAM_CONSTRUCT_ONLY));
  g_object_class_install_property (object_class, CLUSTER_PROP_COUNT,
    g_param_spec_uint64 ("count", NULL, NULL, 0, G_MAXUINT64, 0, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_PEER,
    g_param_spec_object ("peer", NULL, NULL, TEST_TYPE_CLUSTER, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_TAGS,
    g_param_spec_boxed ("tags", NULL, NULL, MP_TYPE_GVALUE_LIST, rw));
  g_object_class_install_property (object_class, CLUSTER_PROP_DERIVED,
    g_param_spec_string ("derived", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

/* ------------------------------------------------------------------ */
/* TestPoint: registered without key properties (all must match), with a
 * string-vector and an enum property                                   */

#define TEST_TYPE_POINT (test_point_get_type ())
G_DECLARE_FINAL_TYPE (TestPoint, test_point, TEST, POINT, GObject)

struct _TestPoint {
  GObject   parent_instance;
  int       x;
  int       y;
  char    **labels;
  GSocketFamily family;
};

G_DEFINE_TYPE (TestPoint, test_point, G_TYPE_OBJECT)

static void
test_point_init (TestPoint *self)
{
  self->family = G_SOCKET_FAMILY_UNIX;
}

static void
test_point_finalize (GObject *object)
{
  g_strfreev (TEST_POINT (object)->labels);
  G_OBJECT_CLASS (test_point_parent_class)->finalize (object);
}

static void
test_point_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TestPoint *self = TEST_POINT (object);

  switch (prop_id)
    {
    case 1: g_value_set_int (value, self->x); break;
    case 2: g_value_set_int (value, self->y); break;
    case 3: g_value_set_boxed (value, self->labels); break;
    case 4: g_value_set_enum (value, self->family); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_point_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TestPoint *self = TEST_POINT (object);

  switch (prop_id)
    {
    case 1: self->x = g_value_get_int (value); break;
    case 2: self->y = g_value_get_int (value); break;
    case 3: g_strfreev (self->labels); self->labels = g_value_dup_boxed (value); break;
    case 4: self->family = g_value_get_enum (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_point_class_init (TestPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = test_point_finalize;
  object_class->get_property = test_point_get_property;
  object_class->set_property = test_point_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_int ("x", NULL, NULL, G_MININT, G_MAXINT, 0, rw));
  g_object_class_install_property (object_class, 2,
    g_param_spec_int ("y", NULL, NULL, G_MININT, G_MAXINT, 0, rw));
  g_object_class_install_property (object_class, 3,
    g_param_spec_boxed ("labels", NULL, NULL, G_TYPE_STRV, rw));
  g_object_class_install_property (object_class, 4,
    g_param_spec_enum ("family", NULL, NULL, G_TYPE_SOCKET_FAMILY, G_SOCKET_FAMILY_UNIX, rw));
}

/* ------------------------------------------------------------------ */
/* TestHolder: registered, but one property holds something that cannot
 * travel (a socket client or a raw pointer, depending on the subclass)  */

#define TEST_TYPE_HOLDER (test_holder_get_type ())
G_DECLARE_FINAL_TYPE (TestHolder, test_holder, TEST, HOLDER, GObject)

struct _TestHolder {
  GObject  parent_instance;
  char    *name;
  GObject *client;
};

G_DEFINE_TYPE (TestHolder, test_holder, G_TYPE_OBJECT)

static void test_holder_init (TestHolder *self) { }

static void
test_holder_finalize (GObject *object)
{
  TestHolder *self = TEST_HOLDER (object);

  g_free (self->name);
  g_clear_object (&self->client);
  G_OBJECT_CLASS (test_holder_parent_class)->finalize (object);
}

static void
test_holder_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TestHolder *self = TEST_HOLDER (object);

  if (prop_id == 1)
    g_value_set_string (value, self->name);
  else if (prop_id == 2)
    g_value_set_object (value, self->client);
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_holder_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TestHolder *self = TEST_HOLDER (object);

  if (prop_id == 1)
    {
      g_free (self->name);
      self->name = g_value_dup_string (value);
    }
  else if (prop_id == 2)
    g_set_object (&self->client, g_value_get_object (value));
  else
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
}

static void
test_holder_class_init (TestHolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_holder_finalize;
  object_class->get_property = test_holder_get_property;
  object_class->set_property = test_holder_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, 2,
    g_param_spec_object ("client", NULL, NULL, G_TYPE_SOCKET_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

#define TEST_TYPE_POINTER_HOLDER (test_pointer_holder_get_type ())
G_DECLARE_FINAL_TYPE (TestPointerHolder, test_pointer_holder, TEST, POINTER_HOLDER, GObject)

struct _TestPointerHolder {
  GObject  parent_instance;
  gpointer data;
};

G_DEFINE_TYPE (TestPointerHolder, test_pointer_holder, G_TYPE_OBJECT)

static void test_pointer_holder_init (TestPointerHolder *self) { }

static void
test_pointer_holder_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_pointer (value, TEST_POINTER_HOLDER (object)->data);
}

static void
test_pointer_holder_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TEST_POINTER_HOLDER (object)->data = g_value_get_pointer (value);
}

static void
test_pointer_holder_class_init (TestPointerHolderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_pointer_holder_get_property;
  object_class->set_property = test_pointer_holder_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_pointer ("data", NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

/* ------------------------------------------------------------------ */
/* TestShared: travels by inheritance only, through a reducer that also
 * asks the process being started to keep an fd; TestSecret never
 * travels; TestUnregistered was never registered                       */

#define TEST_TYPE_SHARED (test_shared_get_type ())
G_DECLARE_FINAL_TYPE (TestShared, test_shared, TEST, SHARED, GObject)

struct _TestShared {
  GObject parent_instance;
  int     block;   /* which shared block it names */
  int     fd;      /* the fd a child would need, -1 for none */
};

G_DEFINE_TYPE (TestShared, test_shared, G_TYPE_OBJECT)

static void test_shared_init (TestShared *self) { self->fd = -1; }
static void test_shared_class_init (TestSharedClass *klass) { }

static TestShared *
test_shared_new (int block,
                 int fd)
{
  TestShared *self = g_object_new (TEST_TYPE_SHARED, NULL);

  self->block = block;
  self->fd = fd;
  return self;
}

static GVariant *
test_shared_reduce (GObject  *object,
                    gpointer  user_data,
                    GError  **error)
{
  TestShared *self = TEST_SHARED (object);

  g_assert_cmpstr (user_data, ==, "shared-data");
  if (self->block < 0)
    {
      mp_set_error (error, MP_ERROR_FAILED, "block %d was already released", self->block);
      return NULL;
    }
  if (self->fd >= 0 && !mp_spawning_keep_fd (self->fd, error))
    return NULL;
  return g_variant_new ("(ii)", self->block, self->fd);
}

static GObject *
test_shared_rebuild (GVariant *state,
                     gpointer  user_data,
                     GError  **error)
{
  int block, fd;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE ("(ii)")))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "TestShared state must be (ii)");
      return NULL;
    }
  g_variant_get (state, "(ii)", &block, &fd);
  return G_OBJECT (test_shared_new (block, fd));
}

#define TEST_TYPE_SECRET (test_secret_get_type ())
G_DECLARE_FINAL_TYPE (TestSecret, test_secret, TEST, SECRET, GObject)
struct _TestSecret { GObject parent_instance; };
G_DEFINE_TYPE (TestSecret, test_secret, G_TYPE_OBJECT)
static void test_secret_init (TestSecret *self) { }
static void test_secret_class_init (TestSecretClass *klass) { }

#define TEST_TYPE_UNREGISTERED (test_unregistered_get_type ())
G_DECLARE_FINAL_TYPE (TestUnregistered, test_unregistered, TEST, UNREGISTERED, GObject)
struct _TestUnregistered { GObject parent_instance; };
G_DEFINE_TYPE (TestUnregistered, test_unregistered, G_TYPE_OBJECT)
static void test_unregistered_init (TestUnregistered *self) { }
static void test_unregistered_class_init (TestUnregisteredClass *klass) { }

/* TestDated: registered, with a property type that has no wire form */
#define TEST_TYPE_DATED (test_dated_get_type ())
G_DECLARE_FINAL_TYPE (TestDated, test_dated, TEST, DATED, GObject)
struct _TestDated { GObject parent_instance; GDateTime *when; };
G_DEFINE_TYPE (TestDated, test_dated, G_TYPE_OBJECT)
static void test_dated_init (TestDated *self) { }

static void
test_dated_finalize (GObject *object)
{
  g_clear_pointer (&TEST_DATED (object)->when, g_date_time_unref);
  G_OBJECT_CLASS (test_dated_parent_class)->finalize (object);
}

static void
test_dated_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_set_boxed (value, TEST_DATED (object)->when);
}

static void
test_dated_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  g_clear_pointer (&TEST_DATED (object)->when, g_date_time_unref);
  TEST_DATED (object)->when = g_value_dup_boxed (value);
}

static void
test_dated_class_init (TestDatedClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = test_dated_finalize;
  object_class->get_property = test_dated_get_property;
  object_class->set_property = test_dated_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_boxed ("when", NULL, NULL, G_TYPE_DATE_TIME, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
}

/* TestWide: one property per remaining scalar width, to check that each
 * comes back whole and that a value too wide for it is refused */
#define TEST_TYPE_WIDE (test_wide_get_type ())
G_DECLARE_FINAL_TYPE (TestWide, test_wide, TEST, WIDE, GObject)

struct _TestWide {
  GObject  parent_instance;
  GValue   props[9];
};

G_DEFINE_TYPE (TestWide, test_wide, G_TYPE_OBJECT)

static void
test_wide_init (TestWide *self)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (self);
  g_autofree GParamSpec **pspecs = NULL;
  guint n = 0;

  pspecs = g_object_class_list_properties (klass, &n);
  for (guint i = 0; i < n; i++)
    {
      g_value_init (&self->props[pspecs[i]->param_id], pspecs[i]->value_type);
      g_param_value_set_default (pspecs[i], &self->props[pspecs[i]->param_id]);
    }
}

static void
test_wide_finalize (GObject *object)
{
  TestWide *self = TEST_WIDE (object);

  for (guint i = 0; i < G_N_ELEMENTS (self->props); i++)
    if (G_IS_VALUE (&self->props[i]))
      g_value_unset (&self->props[i]);
  G_OBJECT_CLASS (test_wide_parent_class)->finalize (object);
}

static void
test_wide_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  g_value_copy (&TEST_WIDE (object)->props[prop_id], value);
}

static void
test_wide_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  g_value_copy (value, &TEST_WIDE (object)->props[prop_id]);
}

static void
test_wide_class_init (TestWideClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = test_wide_finalize;
  object_class->get_property = test_wide_get_property;
  object_class->set_property = test_wide_set_property;
  g_object_class_install_property (object_class, 1,
    g_param_spec_char ("c", NULL, NULL, G_MININT8, G_MAXINT8, 0, rw));
  g_object_class_install_property (object_class, 2,
    g_param_spec_uchar ("uc", NULL, NULL, 0, G_MAXUINT8, 0, rw));
  g_object_class_install_property (object_class, 3,
    g_param_spec_uint ("u", NULL, NULL, 0, G_MAXUINT, 0, rw));
  g_object_class_install_property (object_class, 4,
    g_param_spec_long ("l", NULL, NULL, G_MINLONG, G_MAXLONG, 0, rw));
  g_object_class_install_property (object_class, 5,
    g_param_spec_ulong ("ul", NULL, NULL, 0, G_MAXULONG, 0, rw));
  g_object_class_install_property (object_class, 6,
    g_param_spec_float ("f", NULL, NULL, -G_MAXFLOAT, G_MAXFLOAT, 0, rw));
  g_object_class_install_property (object_class, 7,
    g_param_spec_flags ("io", NULL, NULL, G_TYPE_IO_CONDITION, 0, rw));
  g_object_class_install_property (object_class, 8,
    g_param_spec_variant ("v", NULL, NULL, G_VARIANT_TYPE ("as"), NULL, rw));
}

/* TestNever: a reducer registration that says "never" */
#define TEST_TYPE_NEVER (test_never_get_type ())
G_DECLARE_FINAL_TYPE (TestNever, test_never, TEST, NEVER, GObject)
struct _TestNever { GObject parent_instance; };
G_DEFINE_TYPE (TestNever, test_never, G_TYPE_OBJECT)
static void test_never_init (TestNever *self) { }
static void test_never_class_init (TestNeverClass *klass) { }

/* TestLiar: a reducer whose rebuild function returns the wrong type */
#define TEST_TYPE_LIAR (test_liar_get_type ())
G_DECLARE_FINAL_TYPE (TestLiar, test_liar, TEST, LIAR, GObject)
struct _TestLiar { GObject parent_instance; };
G_DEFINE_TYPE (TestLiar, test_liar, G_TYPE_OBJECT)
static void test_liar_init (TestLiar *self) { }
static void test_liar_class_init (TestLiarClass *klass) { }

static GVariant *
test_liar_reduce (GObject *object, gpointer user_data, GError **error)
{
  return g_variant_new ("()");
}

static GObject *
test_liar_rebuild (GVariant *state, gpointer user_data, GError **error)
{
  return g_object_new (TEST_TYPE_POINT, NULL);
}

static void
register_test_types (void)
{
  static const char * const cluster_keys[] = { "name", NULL };

  mp_serialize_register_type (TEST_TYPE_CLUSTER, cluster_keys);
  mp_serialize_register_type (TEST_TYPE_POINT, NULL);
  mp_serialize_register_type (TEST_TYPE_HOLDER, NULL);
  mp_serialize_register_type (TEST_TYPE_POINTER_HOLDER, NULL);
  mp_serialize_register_reducer (TEST_TYPE_SHARED, MP_TRANSFER_INHERIT_ONLY,
                                 test_shared_reduce, test_shared_rebuild,
                                 (gpointer) "shared-data");
  mp_serialize_register_refusal (TEST_TYPE_SECRET, MP_ERROR_AUTH_KEY_REFUSED,
                                 "it holds the auth key");
  mp_serialize_register_type (TEST_TYPE_DATED, NULL);
  mp_serialize_register_type (TEST_TYPE_WIDE, NULL);
  mp_serialize_register_reducer (TEST_TYPE_NEVER, MP_TRANSFER_NEVER, NULL, NULL, NULL);
  mp_serialize_register_reducer (TEST_TYPE_LIAR, MP_TRANSFER_ALWAYS,
                                 test_liar_reduce, test_liar_rebuild, NULL);
}

/* ------------------------------------------------------------------ */
/* helpers                                                             */

/* serialize, go through bytes as over a socket, decode; checks that the
 * wire form of the copy equals the original's */
static void
round_trip (const GValue *value,
            GValue       *out)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GVariant) wire_again = NULL;

  wire = mp_serialize_value (value, &error);
  g_assert_no_error (error);
  g_assert_nonnull (wire);
  g_assert_false (g_variant_is_floating (wire));
  g_assert_true (g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT));

  bytes = mp_serialize_to_bytes (value, &error);
  g_assert_no_error (error);
  g_assert_true (mp_deserialize_from_bytes (bytes, out, &error));
  g_assert_no_error (error);

  wire_again = mp_serialize_value (out, &error);
  g_assert_no_error (error);
  g_assert_true (mp_serialize_wire_equal (wire, wire_again));
  g_assert_true (mp_gvalue_equal (value, out));
  g_assert_true (mp_gvalue_equal (out, value));
}

static void
assert_round_trip_as (const GValue *value,
                      GType         decoded_type)
{
  g_auto(GValue) out = G_VALUE_INIT;

  round_trip (value, &out);
  g_assert_cmpstr (g_type_name (G_VALUE_TYPE (&out)), ==, g_type_name (decoded_type));
}

/* decodes wire bytes that must be refused with @code */
static void
assert_bytes_refused (GBytes     *bytes,
                      int         code,
                      const char *message_prefix)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_false (mp_deserialize_from_bytes (bytes, &out, &error));
  g_assert_error (error, MP_ERROR, code);
  g_assert_false (G_IS_VALUE (&out));
  if (message_prefix != NULL && !g_str_has_prefix (error->message, message_prefix))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, message_prefix);
}

static void
assert_wire_refused (GVariant   *wire,
                     int         code,
                     const char *message_prefix)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (wire);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  /* as a live GVariant ... */
  g_assert_false (mp_deserialize_value (owned, &out, &error));
  g_assert_error (error, MP_ERROR, code);
  g_assert_false (G_IS_VALUE (&out));
  if (message_prefix != NULL && !g_str_has_prefix (error->message, message_prefix))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, message_prefix);

  /* ... and as bytes from a socket */
  if (g_variant_is_of_type (owned, G_VARIANT_TYPE_VARIANT))
    {
      bytes = g_variant_get_data_as_bytes (owned);
      assert_bytes_refused (bytes, code, message_prefix);
    }
}

static void
assert_value_refused (const GValue *value,
                      int           code,
                      const char   *message_prefix)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = mp_serialize_value (value, &error);
  g_autoptr(GBytes) bytes = NULL;

  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, code);
  if (!g_str_has_prefix (error->message, message_prefix))
    g_error ("message \"%s\" does not start with \"%s\"", error->message, message_prefix);
  g_clear_error (&error);

  bytes = mp_serialize_to_bytes (value, &error);
  g_assert_null (bytes);
  g_assert_error (error, MP_ERROR, code);
}

static GValue *
int_value (gint64 v)
{
  GValue *value = mp_gvalue_new (G_TYPE_INT64);

  g_value_set_int64 (value, v);
  return value;
}

static GValue *
string_value (const char *v)
{
  GValue *value = mp_gvalue_new (G_TYPE_STRING);

  g_value_set_string (value, v);
  return value;
}

static GValue *
object_value (gpointer object)
{
  GValue *value = mp_gvalue_new (G_OBJECT_TYPE (object));

  g_value_set_object (value, object);
  return value;
}

static GValue *
list_value (GPtrArray *list)
{
  GValue *value = mp_gvalue_new (MP_TYPE_GVALUE_LIST);

  g_value_take_boxed (value, list);
  return value;
}

static GValue *
dict_value (GHashTable *dict)
{
  GValue *value = mp_gvalue_new (MP_TYPE_GVALUE_DICT);

  g_value_take_boxed (value, dict);
  return value;
}

static TestCluster *
make_cluster (const char *name,
              int         port,
              gboolean    available)
{
  g_autoptr(GPtrArray) tags = mp_gvalue_list_new ();

  g_ptr_array_add (tags, string_value ("gpu"));
  g_ptr_array_add (tags, int_value (7));
  return g_object_new (TEST_TYPE_CLUSTER,
                       "name", name, "port", port, "available", available,
                       "load", -0.25, "serial", G_GINT64_CONSTANT (-5000000000),
                       "count", G_MAXUINT64, "tags", tags, NULL);
}

static char *
to_string (const GValue *value)
{
  return mp_gvalue_to_string (value);
}

/* ------------------------------------------------------------------ */
/* round trips of plain values                                         */

static void
test_roundtrip_none (void)
{
  GValue none = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autofree char *text = NULL;

  round_trip (&none, &out);
  g_assert_false (G_IS_VALUE (&out));
  text = to_string (&out);
  g_assert_cmpstr (text, ==, "None");
}

static void
test_roundtrip_bool (void)
{
  for (int b = 0; b < 2; b++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_BOOLEAN);
      g_value_set_boolean (&value, b);
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS_BOOLEAN (&out));
      g_assert_cmpint (g_value_get_boolean (&out), ==, b);
    }
}

static void
test_roundtrip_int (void)
{
  struct { GType type; gint64 v; } signed_rows[] = {
    { G_TYPE_CHAR, G_MININT8 }, { G_TYPE_CHAR, G_MAXINT8 },
    { G_TYPE_INT, G_MININT }, { G_TYPE_INT, -1 }, { G_TYPE_INT, 0 }, { G_TYPE_INT, G_MAXINT },
    { G_TYPE_LONG, G_MINLONG }, { G_TYPE_LONG, G_MAXLONG },
    { G_TYPE_INT64, G_MININT64 }, { G_TYPE_INT64, G_MAXINT64 },
  };
  struct { GType type; guint64 v; } unsigned_rows[] = {
    { G_TYPE_UCHAR, G_MAXUINT8 }, { G_TYPE_UINT, G_MAXUINT }, { G_TYPE_ULONG, G_MAXULONG },
    { G_TYPE_UINT64, 0 }, { G_TYPE_UINT64, G_MAXUINT64 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (signed_rows); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, signed_rows[i].type);
      switch (signed_rows[i].type)
        {
        case G_TYPE_CHAR: g_value_set_schar (&value, (gint8) signed_rows[i].v); break;
        case G_TYPE_INT: g_value_set_int (&value, (int) signed_rows[i].v); break;
        case G_TYPE_LONG: g_value_set_long (&value, (long) signed_rows[i].v); break;
        default: g_value_set_int64 (&value, signed_rows[i].v); break;
        }
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS_INT64 (&out));
      g_assert_cmpint (g_value_get_int64 (&out), ==, signed_rows[i].v);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (unsigned_rows); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, unsigned_rows[i].type);
      switch (unsigned_rows[i].type)
        {
        case G_TYPE_UCHAR: g_value_set_uchar (&value, (guchar) unsigned_rows[i].v); break;
        case G_TYPE_UINT: g_value_set_uint (&value, (guint) unsigned_rows[i].v); break;
        case G_TYPE_ULONG: g_value_set_ulong (&value, (gulong) unsigned_rows[i].v); break;
        default: g_value_set_uint64 (&value, unsigned_rows[i].v); break;
        }
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS_UINT64 (&out));
      g_assert_cmpuint (g_value_get_uint64 (&out), ==, unsigned_rows[i].v);
    }
}

static void
test_roundtrip_enum_flags (void)
{
  g_auto(GValue) e = G_VALUE_INIT;
  g_auto(GValue) f = G_VALUE_INIT;

  g_value_init (&e, G_TYPE_SOCKET_FAMILY);
  g_value_set_enum (&e, G_SOCKET_FAMILY_IPV6);
  assert_round_trip_as (&e, G_TYPE_INT64);

  g_value_init (&f, G_TYPE_IO_CONDITION);
  g_value_set_flags (&f, G_IO_IN | G_IO_HUP);
  assert_round_trip_as (&f, G_TYPE_UINT64);
}

static void
test_roundtrip_double (void)
{
  const double rows[] = { 0.0, -0.0, 1.5, -2.75, 1e300, -1e-300, G_MAXDOUBLE, G_MINDOUBLE, INFINITY, -INFINITY };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_DOUBLE);
      g_value_set_double (&value, rows[i]);
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS_DOUBLE (&out));
      g_assert_cmpmem (&rows[i], sizeof (double), &out.data[0].v_double, sizeof (double));
    }

  {
    g_auto(GValue) value = G_VALUE_INIT;
    g_auto(GValue) out = G_VALUE_INIT;

    g_value_init (&value, G_TYPE_FLOAT);
    g_value_set_float (&value, -3.5f);
    round_trip (&value, &out);
    g_assert_cmpfloat (g_value_get_double (&out), ==, -3.5);
  }
}

static void
test_roundtrip_string (void)
{
  const char *rows[] = { "", "text", "naïve café — 日本語 🐍", "it's \"quoted\"\n\t", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      g_value_set_string (&value, rows[i]);
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS_STRING (&out));
      g_assert_cmpstr (g_value_get_string (&out), ==, rows[i]);
    }
}

static void
test_roundtrip_bytes (void)
{
  static const guint8 data[] = { 0, 1, 2, 0xff, 0, 'a' };
  GBytes *rows[] = { g_bytes_new_static (data, sizeof data), g_bytes_new (NULL, 0) };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_auto(GValue) out = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_BYTES);
      g_value_take_boxed (&value, rows[i]);
      round_trip (&value, &out);
      g_assert_true (G_VALUE_HOLDS (&out, G_TYPE_BYTES));
      g_assert_true (g_bytes_equal (g_value_get_boxed (&out), rows[i]));
    }
}

static void
test_roundtrip_variant (void)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) out = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_VARIANT);
  g_value_set_variant (&value, g_variant_new ("(sqa{sv})", "plain", 7, NULL));
  round_trip (&value, &out);
  g_assert_true (G_VALUE_HOLDS_VARIANT (&out));
  g_assert_true (g_variant_equal (g_value_get_variant (&out), g_value_get_variant (&value)));
}

static void
test_roundtrip_list (void)
{
  g_autoptr(GPtrArray) inner = mp_gvalue_list_new ();
  g_autoptr(GPtrArray) outer = mp_gvalue_list_new ();
  g_autoptr(GValue) empty = list_value (mp_gvalue_list_new ());
  g_autoptr(GValue) value = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autofree char *text = NULL;
  GPtrArray *copy;

  assert_round_trip_as (empty, MP_TYPE_GVALUE_LIST);

  for (int i = 0; i < 3; i++)
    g_ptr_array_add (inner, int_value (i * i));
  g_ptr_array_add (outer, list_value (g_ptr_array_ref (inner)));
  g_ptr_array_add (outer, mp_gvalue_new (G_TYPE_INVALID));
  g_ptr_array_add (outer, string_value ("x"));
  g_ptr_array_add (outer, list_value (mp_gvalue_list_new ()));
  value = list_value (g_ptr_array_ref (outer));

  round_trip (value, &out);
  copy = g_value_get_boxed (&out);
  g_assert_true (copy != outer);
  g_assert_cmpuint (copy->len, ==, 4);
  text = to_string (&out);
  g_assert_cmpstr (text, ==, "[[0, 1, 4], None, 'x', []]");

  /* a changed element makes the lists differ */
  g_value_set_int64 (inner->pdata[2], 5);
  g_assert_false (mp_gvalue_equal (value, &out));
}

static void
test_roundtrip_dict (void)
{
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_autoptr(GHashTable) nested = mp_gvalue_dict_new ();
  g_autoptr(GValue) empty = dict_value (mp_gvalue_dict_new ());
  g_autoptr(GValue) value = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autofree char *text = NULL;

  assert_round_trip_as (empty, MP_TYPE_GVALUE_DICT);

  g_hash_table_insert (nested, g_strdup ("deep"), list_value (mp_gvalue_list_new ()));
  g_hash_table_insert (dict, g_strdup ("b"), int_value (2));
  g_hash_table_insert (dict, g_strdup ("a"), int_value (1));
  g_hash_table_insert (dict, g_strdup ("ключ"), dict_value (g_hash_table_ref (nested)));
  value = dict_value (g_hash_table_ref (dict));

  round_trip (value, &out);
  g_assert_true (g_value_get_boxed (&out) != dict);
  text = to_string (&out);
  g_assert_cmpstr (text, ==, "{'a': 1, 'b': 2, 'ключ': {'deep': []}}");

  g_hash_table_insert (nested, g_strdup ("more"), int_value (0));
  g_assert_false (mp_gvalue_equal (value, &out));
}

/* ------------------------------------------------------------------ */
/* registered objects                                                  */

static void
test_object_roundtrip (void)
{
  g_autoptr(TestCluster) peer = make_cluster ("peer", 2, FALSE);
  g_autoptr(TestCluster) cluster = make_cluster ("alpha", 8080, TRUE);
  g_autoptr(GValue) value = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  TestCluster *copy;

  g_object_set (cluster, "peer", peer, NULL);
  value = object_value (cluster);
  round_trip (value, &out);

  g_assert_true (G_VALUE_HOLDS (&out, TEST_TYPE_CLUSTER));
  copy = g_value_get_object (&out);
  g_assert_true (copy != cluster);
  g_assert_cmpstr (copy->name, ==, "alpha");
  g_assert_cmpint (copy->port, ==, 8080);
  g_assert_true (copy->available);
  g_assert_cmpfloat (copy->load, ==, -0.25);
  g_assert_cmpint (copy->serial, ==, G_GINT64_CONSTANT (-5000000000));
  g_assert_cmpuint (copy->count, ==, G_MAXUINT64);
  g_assert_nonnull (copy->tags);
  g_assert_true (copy->tags != cluster->tags);
  g_assert_cmpuint (copy->tags->len, ==, 2);
  g_assert_nonnull (copy->peer);
  g_assert_true (copy->peer != peer);
  g_assert_cmpstr (copy->peer->name, ==, "peer");
  g_assert_null (copy->peer->peer);

  /* changing the copy leaves the original alone: it is a copy */
  g_object_set (copy, "port", 1, NULL);
  g_assert_cmpint (cluster->port, ==, 8080);
}

static void
test_object_strv_enum (void)
{
  const char *labels[] = { "a", "b", NULL };
  g_autoptr(TestPoint) point = g_object_new (TEST_TYPE_POINT, "x", -3, "y", 4,
                                             "labels", labels,
                                             "family", G_SOCKET_FAMILY_IPV4, NULL);
  g_autoptr(GValue) value = object_value (point);
  g_auto(GValue) out = G_VALUE_INIT;
  g_autofree char *text = NULL;
  TestPoint *copy;

  round_trip (value, &out);
  copy = g_value_get_object (&out);
  g_assert_true (copy != point);
  g_assert_cmpint (copy->x, ==, -3);
  g_assert_true (g_strv_equal ((const char * const *) copy->labels, labels));
  g_assert_cmpint (copy->family, ==, G_SOCKET_FAMILY_IPV4);
  text = to_string (&out);
  g_assert_cmpstr (text, ==, "TestPoint(x=-3, y=4, labels=['a', 'b'], family=2)");
}

static void
test_object_repr (void)
{
  g_autoptr(TestCluster) cluster = g_object_new (TEST_TYPE_CLUSTER, "name", "c1", "port", 22, NULL);
  g_autoptr(GValue) value = object_value (cluster);
  g_autofree char *text = to_string (value);

  /* property declaration order; the read-only "derived" does not travel */
  g_assert_cmpstr (text, ==,
                   "TestCluster(name='c1', port=22, available=False, load=0.0, serial=0, "
                   "count=0, peer=None, tags=None)");
}

static void
test_equal_key_properties (void)
{
  g_autoptr(TestCluster) cluster = make_cluster ("alpha", 8080, TRUE);
  g_autoptr(GValue) value = object_value (cluster);
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GVariant) wire_copy = NULL;
  g_autoptr(GVariant) wire_renamed = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  TestCluster *copy;

  round_trip (value, &out);
  copy = g_value_get_object (&out);

  /* availability is no key: the copy is still "the same cluster" */
  g_object_set (copy, "available", FALSE, "port", 1, NULL);
  g_assert_true (mp_gvalue_equal (value, &out));
  wire = mp_serialize_value (value, &error);
  g_assert_no_error (error);
  wire_copy = mp_serialize_value (&out, &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_equal (wire, wire_copy));
  g_assert_true (mp_serialize_wire_equal (wire, wire_copy));

  /* the name is the key */
  g_object_set (copy, "name", "beta", NULL);
  g_assert_false (mp_gvalue_equal (value, &out));
  wire_renamed = mp_serialize_value (&out, &error);
  g_assert_no_error (error);
  g_assert_false (mp_serialize_wire_equal (wire, wire_renamed));
}

static void
test_equal_all_properties (void)
{
  g_autoptr(TestPoint) a = g_object_new (TEST_TYPE_POINT, "x", 1, "y", 2, NULL);
  g_autoptr(TestPoint) b = g_object_new (TEST_TYPE_POINT, "x", 1, "y", 2, NULL);
  g_autoptr(TestPoint) c = g_object_new (TEST_TYPE_POINT, "x", 1, "y", 3, NULL);
  g_autoptr(GValue) va = object_value (a);
  g_autoptr(GValue) vb = object_value (b);
  g_autoptr(GValue) vc = object_value (c);
  g_autoptr(GVariant) wa = mp_serialize_value (va, NULL);
  g_autoptr(GVariant) wb = mp_serialize_value (vb, NULL);
  g_autoptr(GVariant) wc = mp_serialize_value (vc, NULL);
  g_autoptr(TestUnregistered) u1 = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr(TestUnregistered) u2 = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr(GValue) vu1 = object_value (u1);
  g_autoptr(GValue) vu1_again = object_value (u1);
  g_autoptr(GValue) vu2 = object_value (u2);

  g_assert_true (mp_gvalue_equal (va, vb));
  g_assert_false (mp_gvalue_equal (va, vc));
  g_assert_true (mp_serialize_wire_equal (wa, wb));
  g_assert_false (mp_serialize_wire_equal (wa, wc));

  /* unregistered objects compare by identity, as Python's default == */
  g_assert_true (mp_gvalue_equal (vu1, vu1_again));
  g_assert_false (mp_gvalue_equal (vu1, vu2));
}

static void
test_equal_numbers (void)
{
  g_auto(GValue) i = G_VALUE_INIT;
  g_auto(GValue) u = G_VALUE_INIT;
  g_auto(GValue) d = G_VALUE_INIT;
  g_auto(GValue) b = G_VALUE_INIT;
  g_auto(GValue) none = G_VALUE_INIT;
  g_auto(GValue) null_string = G_VALUE_INIT;
  g_autoptr(GVariant) wi = NULL;
  g_autoptr(GVariant) wd = NULL;

  g_value_init (&i, G_TYPE_INT);
  g_value_set_int (&i, 1);
  g_value_init (&u, G_TYPE_UINT64);
  g_value_set_uint64 (&u, 1);
  g_value_init (&d, G_TYPE_DOUBLE);
  g_value_set_double (&d, 1.0);
  g_value_init (&b, G_TYPE_BOOLEAN);
  g_value_set_boolean (&b, TRUE);
  g_value_init (&null_string, G_TYPE_STRING);

  /* as Python: 1 == 1.0, widths do not matter; here True is no number */
  g_assert_true (mp_gvalue_equal (&i, &u));
  g_assert_true (mp_gvalue_equal (&i, &d));
  g_assert_true (mp_gvalue_equal (&u, &d));
  /* equality is symmetric */
  g_assert_true (mp_gvalue_equal (&u, &i));
  g_assert_true (mp_gvalue_equal (&d, &i));
  g_assert_true (mp_gvalue_equal (&d, &u));
  g_assert_false (mp_gvalue_equal (&i, &b));
  g_value_set_double (&d, 1.5);
  g_assert_false (mp_gvalue_equal (&i, &d));
  g_value_set_int (&i, -1);
  g_value_set_uint64 (&u, G_MAXUINT64);
  g_assert_false (mp_gvalue_equal (&i, &u));
  g_assert_true (mp_gvalue_equal (&none, &null_string));
  g_assert_false (mp_gvalue_equal (&none, &i));

  wi = mp_serialize_value (&i, NULL);
  g_value_set_double (&d, -1.0);
  wd = mp_serialize_value (&d, NULL);
  g_assert_true (mp_serialize_wire_equal (wi, wd));
}

/* Equality as the server sees it (on wire values) and as a client sees
 * it (on the decoded values) must agree, pair by pair, both ways round. */
typedef struct
{
  const char *a;
  const char *b;
  gboolean    equal;
  gboolean    decodes;   /* both sides decode into values here */
} EqualPair;

static const EqualPair equal_pairs[] = {
  /* numbers compare by value across int, unsigned and float (Python) */
  { "<int64 1>", "<uint64 1>", TRUE, TRUE },
  { "<int64 -1>", "<uint64 18446744073709551615>", FALSE, TRUE },
  { "<uint64 5>", "<5.0>", TRUE, TRUE },
  { "<uint64 5>", "<5.5>", FALSE, TRUE },
  { "<uint64 1>", "<-1.0>", FALSE, TRUE },
  { "<uint64 18446744073709551615>", "<1.8446744073709552e19>", FALSE, TRUE },
  { "<int64 9007199254740993>", "<9007199254740992.0>", FALSE, TRUE },
  { "<int64 9223372036854775807>", "<1e19>", FALSE, TRUE },
  { "<int64 -9223372036854775807>", "<-1e300>", FALSE, TRUE },
  { "<2.5>", "<2.5>", TRUE, TRUE },
  { "<uint64 7>", "<uint64 7>", TRUE, TRUE },
  { "<uint64 7>", "<uint64 8>", FALSE, TRUE },
  /* True is no number here */
  { "<true>", "<int64 1>", FALSE, TRUE },
  { "<true>", "<true>", TRUE, TRUE },
  { "<true>", "<false>", FALSE, TRUE },
  /* None has two spellings */
  { "<()>", "<@ms nothing>", TRUE, TRUE },
  { "<()>", "<int64 0>", FALSE, TRUE },
  { "<just 'a'>", "<just 'a'>", TRUE, TRUE },
  { "<just 'a'>", "<just 'b'>", FALSE, TRUE },
  { "<just 'a'>", "<@ms nothing>", FALSE, TRUE },
  { "<@ay [1, 2]>", "<@ay [1, 2]>", TRUE, TRUE },
  { "<@ay [1]>", "<@ay [1, 2]>", FALSE, TRUE },
  { "<(<int32 1>,)>", "<(<int32 1>,)>", TRUE, TRUE },
  { "<(<int32 1>,)>", "<(<int32 2>,)>", FALSE, TRUE },
  /* lists element by element, dicts key by key in any order */
  { "<@av [<int64 1>, <2.0>]>", "<@av [<1.0>, <uint64 2>]>", TRUE, TRUE },
  { "<@av [<int64 1>]>", "<@av [<int64 1>, <int64 2>]>", FALSE, TRUE },
  { "<@av [<int64 1>, <just 'x'>]>", "<@av [<int64 1>, <just 'y'>]>", FALSE, TRUE },
  { "<@av []>", "<@a{sv} {}>", FALSE, TRUE },
  { "<@a{sv} {'a': <int64 1>, 'b': <()>}>", "<@a{sv} {'b': <@ms nothing>, 'a': <1.0>}>", TRUE, TRUE },
  { "<@a{sv} {'a': <int64 1>}>", "<@a{sv} {'b': <int64 1>}>", FALSE, TRUE },
  { "<@a{sv} {'a': <int64 1>}>", "<@a{sv} {'a': <int64 1>, 'b': <int64 2>}>", FALSE, TRUE },
  { "<@a{sv} {'a': <int64 1>}>", "<@a{sv} {'a': <int64 2>}>", FALSE, TRUE },
  /* objects: key properties only (the cluster's name), else all */
  { "<('TestCluster', <@a{sv} {'name': <just 'c1'>, 'port': <int64 1>}>)>",
    "<('TestCluster', <@a{sv} {'name': <just 'c1'>, 'port': <int64 2>}>)>", TRUE, TRUE },
  { "<('TestCluster', <@a{sv} {'name': <just 'c1'>}>)>",
    "<('TestCluster', <@a{sv} {'name': <just 'c2'>}>)>", FALSE, TRUE },
  { "<('TestCluster', <@a{sv} {'port': <int64 1>}>)>",
    "<('TestCluster', <@a{sv} {'port': <int64 2>}>)>", TRUE, TRUE },
  { "<('TestCluster', <@a{sv} {'name': <just 'c1'>}>)>",
    "<('TestCluster', <@a{sv} {'port': <int64 2>}>)>", FALSE, FALSE },
  { "<('TestPoint', <@a{sv} {'x': <int64 1>, 'y': <int64 2>}>)>",
    "<('TestPoint', <@a{sv} {'y': <int64 2>, 'x': <int64 1>}>)>", TRUE, TRUE },
  { "<('TestPoint', <@a{sv} {'x': <int64 1>, 'y': <int64 2>}>)>",
    "<('TestPoint', <@a{sv} {'x': <int64 1>, 'y': <int64 3>}>)>", FALSE, TRUE },
  { "<('TestPoint', <@a{sv} {'x': <int64 1>}>)>",
    "<('TestCluster', <@a{sv} {'x': <int64 1>}>)>", FALSE, FALSE },
  /* types this process does not know: the same bytes or not equal */
  { "<('Nope', <@a{sv} {'x': <int64 1>}>)>", "<('Nope', <@a{sv} {'x': <int64 1>}>)>", TRUE, FALSE },
  { "<('Nope', <@a{sv} {'x': <int64 1>}>)>", "<('Nope', <@a{sv} {'x': <1.0>}>)>", FALSE, FALSE },
  { "<('TestPoint', <int64 1>)>", "<('TestPoint', <int64 1>)>", TRUE, FALSE },
};

static void
assert_pair (GVariant  *wa,
             GVariant  *wb,
             gboolean   equal,
             gboolean   decodes)
{
  g_autofree char *ta = g_variant_print (wa, TRUE);
  g_autofree char *tb = g_variant_print (wb, TRUE);
  g_auto(GValue) va = G_VALUE_INIT;
  g_auto(GValue) vb = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_test_message ("%s == %s: %s", ta, tb, equal ? "yes" : "no");
  g_assert_cmpint (mp_serialize_wire_equal (wa, wb), ==, equal);
  g_assert_cmpint (mp_serialize_wire_equal (wb, wa), ==, equal);
  if (!decodes)
    return;
  g_assert_true (mp_deserialize_value (wa, &va, &error));
  g_assert_true (mp_deserialize_value (wb, &vb, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mp_gvalue_equal (&va, &vb), ==, equal);
  g_assert_cmpint (mp_gvalue_equal (&vb, &va), ==, equal);
}

static void
test_equal_table (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (equal_pairs); i++)
    {
      g_autoptr(GVariant) wa = g_variant_parse (G_VARIANT_TYPE_VARIANT, equal_pairs[i].a, NULL, NULL, NULL);
      g_autoptr(GVariant) wb = g_variant_parse (G_VARIANT_TYPE_VARIANT, equal_pairs[i].b, NULL, NULL, NULL);

      g_assert_nonnull (wa);
      g_assert_nonnull (wb);
      assert_pair (wa, wb, equal_pairs[i].equal, equal_pairs[i].decodes);
    }
}

/* no float that is not finite equals an int */
static void
test_equal_not_finite (void)
{
  const double odd[] = { INFINITY, -INFINITY, NAN };

  for (gsize i = 0; i < G_N_ELEMENTS (odd); i++)
    {
      g_autoptr(GVariant) d = g_variant_ref_sink (g_variant_new_variant (g_variant_new_double (odd[i])));
      g_autoptr(GVariant) s = g_variant_ref_sink (g_variant_new_variant (g_variant_new_int64 (0)));
      g_autoptr(GVariant) u = g_variant_ref_sink (g_variant_new_variant (g_variant_new_uint64 (0)));

      assert_pair (d, s, FALSE, TRUE);
      assert_pair (u, d, FALSE, TRUE);
    }
}

/* values that never travel still compare, by identity or by content */
static void
test_equal_local_values (void)
{
  g_auto(GValue) a = G_VALUE_INIT;
  g_auto(GValue) b = G_VALUE_INIT;
  g_autoptr(GObject) one = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr(GObject) two = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr(GHashTable) da = mp_gvalue_dict_new ();
  g_autoptr(GHashTable) db = mp_gvalue_dict_new ();
  int x = 0, y = 0;

  /* an unregistered object equals only itself (Python's default __eq__) */
  g_value_init (&a, TEST_TYPE_UNREGISTERED);
  g_value_init (&b, TEST_TYPE_UNREGISTERED);
  g_value_set_object (&a, one);
  g_value_set_object (&b, two);
  g_assert_false (mp_gvalue_equal (&a, &b));
  g_value_set_object (&b, one);
  g_assert_true (mp_gvalue_equal (&a, &b));
  g_value_unset (&a);
  g_value_unset (&b);

  /* a pointer compares by address */
  g_value_init (&a, G_TYPE_POINTER);
  g_value_init (&b, G_TYPE_POINTER);
  g_value_set_pointer (&a, &x);
  g_value_set_pointer (&b, &y);
  g_assert_false (mp_gvalue_equal (&a, &b));
  g_value_set_pointer (&b, &x);
  g_assert_true (mp_gvalue_equal (&a, &b));
  g_value_unset (&a);
  g_value_unset (&b);

  /* narrow widths, char and float, still compare by value */
  g_value_init (&a, G_TYPE_CHAR);
  g_value_set_schar (&a, -3);
  g_value_init (&b, G_TYPE_FLOAT);
  g_value_set_float (&b, -3.0f);
  g_assert_true (mp_gvalue_equal (&a, &b));
  g_value_set_float (&b, -3.5f);
  g_assert_false (mp_gvalue_equal (&a, &b));
  g_value_unset (&a);
  g_value_unset (&b);

  /* dicts with the same keys and different values */
  g_hash_table_insert (da, g_strdup ("k"), mp_gvalue_new (G_TYPE_INT64));
  g_hash_table_insert (db, g_strdup ("other"), mp_gvalue_new (G_TYPE_INT64));
  g_value_init (&a, MP_TYPE_GVALUE_DICT);
  g_value_init (&b, MP_TYPE_GVALUE_DICT);
  g_value_set_boxed (&a, da);
  g_value_set_boxed (&b, db);
  g_assert_false (mp_gvalue_equal (&a, &b));
}

/* ------------------------------------------------------------------ */
/* refusals                                                            */

static void
test_object_widths (void)
{
  const char *strings[] = { "a", NULL };
  g_autoptr(TestWide) wide = g_object_new (TEST_TYPE_WIDE,
                                           "c", G_MININT8, "uc", G_MAXUINT8, "u", G_MAXUINT,
                                           "l", G_MINLONG, "ul", G_MAXULONG, "f", -2.5f,
                                           "io", G_IO_IN | G_IO_ERR,
                                           "v", g_variant_new_strv (strings, -1), NULL);
  g_autoptr(GValue) value = object_value (wide);
  g_auto(GValue) out = G_VALUE_INIT;
  TestWide *copy;

  round_trip (value, &out);
  copy = g_value_get_object (&out);
  g_assert_true (copy != wide);
  for (guint i = 1; i < G_N_ELEMENTS (copy->props); i++)
    {
      g_autofree char *a = g_strdup_value_contents (&wide->props[i]);
      g_autofree char *b = g_strdup_value_contents (&copy->props[i]);

      g_assert_cmpstr (a, ==, b);
    }
}

static GVariant *
wide_wire_with (const char *property,
                GVariant   *wire_value)
{
  g_auto(GVariantBuilder) state = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  g_variant_builder_add (&state, "{sv}", property, wire_value);
  return g_variant_new ("v", g_variant_new ("(sv)", "TestWide", g_variant_builder_end (&state)));
}

static void
test_hostile_widths (void)
{
  static const struct { const char *property; gint64 v; } signed_rows[] = {
    { "c", 128 }, { "c", -129 },
#if GLIB_SIZEOF_LONG == 4
    { "l", G_GINT64_CONSTANT (1) << 40 },
#endif
  };
  static const struct { const char *property; guint64 v; } unsigned_rows[] = {
    { "uc", 256 }, { "u", G_GUINT64_CONSTANT (1) << 32 }, { "io", G_GUINT64_CONSTANT (1) << 32 },
#if GLIB_SIZEOF_LONG == 4
    { "ul", G_GUINT64_CONSTANT (1) << 32 },
#endif
  };

  for (gsize i = 0; i < G_N_ELEMENTS (signed_rows); i++)
    assert_wire_refused (wide_wire_with (signed_rows[i].property, g_variant_new_int64 (signed_rows[i].v)),
                         MP_ERROR_PROTOCOL, "TestWide.");
  for (gsize i = 0; i < G_N_ELEMENTS (unsigned_rows); i++)
    assert_wire_refused (wide_wire_with (unsigned_rows[i].property, g_variant_new_uint64 (unsigned_rows[i].v)),
                         MP_ERROR_PROTOCOL, "TestWide.");
  assert_wire_refused (wide_wire_with ("f", g_variant_new_double (1e300)),
                       MP_ERROR_PROTOCOL, "TestWide.f: 1e+300 does not fit a gfloat property");
  assert_wire_refused (wide_wire_with ("f", g_variant_new_double (-1e300)),
                       MP_ERROR_PROTOCOL, "TestWide.f: -1e+300 does not fit a gfloat property");
  /* a GVariant property whose pspec wants "as" */
  assert_wire_refused (wide_wire_with ("v", g_variant_new ("(v)", g_variant_new_int32 (1))),
                       MP_ERROR_PROTOCOL, "TestWide.v: ");
  assert_wire_refused (wide_wire_with ("uc", g_variant_new_int64 (1)),
                       MP_ERROR_PROTOCOL, "TestWide.uc: expected wire type 't' for a guchar property, got 'x'");
}

static void
test_equal_reduced (void)
{
  g_autoptr(TestShared) a = test_shared_new (3, -1);
  g_autoptr(TestShared) b = test_shared_new (3, -1);
  g_autoptr(TestShared) c = test_shared_new (4, -1);
  g_autoptr(GValue) va = object_value (a);
  g_autoptr(GValue) vb = object_value (b);
  g_autoptr(GValue) vc = object_value (c);

  /* equal when they name the same block; no spawning context needed */
  g_assert_true (mp_gvalue_equal (va, vb));
  g_assert_false (mp_gvalue_equal (va, vc));
}

static void
test_equal_strv_list (void)
{
  const char *strings[] = { "a", "b", NULL };
  g_auto(GValue) strv = G_VALUE_INIT;
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  g_autoptr(GValue) list_v = NULL;
  g_autofree char *text = NULL;

  g_value_init (&strv, G_TYPE_STRV);
  g_value_set_boxed (&strv, strings);
  g_ptr_array_add (list, string_value ("a"));
  g_ptr_array_add (list, string_value ("b"));
  list_v = list_value (g_ptr_array_ref (list));

  g_assert_true (mp_gvalue_equal (&strv, list_v));
  g_assert_true (mp_gvalue_equal (list_v, &strv));
  assert_round_trip_as (&strv, MP_TYPE_GVALUE_LIST);
  text = to_string (&strv);
  g_assert_cmpstr (text, ==, "['a', 'b']");
  g_value_set_string (list->pdata[1], "c");
  g_assert_false (mp_gvalue_equal (&strv, list_v));
}

static void
test_reducer_fails (void)
{
  g_autoptr(TestShared) released = test_shared_new (-1, -1);
  g_autoptr(TestShared) shared = test_shared_new (1, -1);
  g_autoptr(TestNever) never = g_object_new (TEST_TYPE_NEVER, NULL);
  g_autoptr(MpArgs) args = mp_args_new (TEST_TYPE_SHARED, released, G_TYPE_INVALID);
  g_autoptr(GValue) shared_v = object_value (shared);
  g_autoptr(GValue) never_v = object_value (never);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  MpSpawningContext context = { NULL };

  /* the reducer's own error keeps its code and gains the path */
  mp_spawning_begin (&context);
  wire = mp_args_serialize (args, &error);
  mp_spawning_end (&context);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "args[0]: block -1 was already released"));

  /* at the top level there is no path to name */
  assert_value_refused (shared_v, MP_ERROR_INHERITANCE_ONLY,
                        "TestShared serialized while no process is being started");
  assert_value_refused (never_v, MP_ERROR_UNSERIALIZABLE,
                        "TestNever objects may never cross a process boundary");
}

static void
test_refuse_socket_client (void)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(TestHolder) holder = g_object_new (TEST_TYPE_HOLDER, "name", "h", "client", client, NULL);
  g_autoptr(GValue) value = object_value (holder);
  g_autoptr(GValue) bare = object_value (client);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT, 1, TEST_TYPE_HOLDER, holder, G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;

  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE,
                        "TestHolder.client: GSocketClient holds a live OS handle");
  assert_value_refused (bare, MP_ERROR_UNSERIALIZABLE, "GSocketClient holds a live OS handle");

  wire = mp_args_serialize (args, &error);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_UNSERIALIZABLE);
  g_assert_true (g_str_has_prefix (error->message,
                                   "args[1].client: GSocketClient holds a live OS handle"));
  /* the message names the pitfall and the fix */
  g_assert_nonnull (strstr (error->message, "[pitfall unserializable-handle]"));

  /* without the client it travels */
  g_object_set (holder, "client", NULL, NULL);
  g_clear_pointer (&value, mp_gvalue_free);
  value = object_value (holder);
  assert_round_trip_as (value, TEST_TYPE_HOLDER);
}

static void
test_refuse_stream_in_list (void)
{
  int fds[2];
  g_autoptr(GInputStream) stream = NULL;
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  g_autoptr(GValue) value = NULL;
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_autoptr(GValue) dict_v = NULL;

  g_assert_no_errno (pipe (fds));
  close (fds[1]);
  stream = g_unix_input_stream_new (fds[0], TRUE);

  g_ptr_array_add (list, int_value (0));
  g_ptr_array_add (list, string_value ("one"));
  g_ptr_array_add (list, object_value (stream));
  value = list_value (g_ptr_array_ref (list));
  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE,
                        "[2]: GUnixInputStream holds a live OS handle (it is a GInputStream)");

  g_hash_table_insert (dict, g_strdup ("log"), list_value (g_ptr_array_ref (list)));
  dict_v = dict_value (g_hash_table_ref (dict));
  assert_value_refused (dict_v, MP_ERROR_UNSERIALIZABLE,
                        "['log'][2]: GUnixInputStream holds a live OS handle");
}

static void
test_refuse_pointer (void)
{
  g_autoptr(TestPointerHolder) holder = g_object_new (TEST_TYPE_POINTER_HOLDER, "data", &holder, NULL);
  g_autoptr(GValue) value = object_value (holder);
  g_autoptr(GValue) raw = mp_gvalue_new (G_TYPE_POINTER);

  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE,
                        "TestPointerHolder.data: gpointer is a raw pointer");
  assert_value_refused (raw, MP_ERROR_UNSERIALIZABLE, "gpointer is a raw pointer");
}

static void
test_refuse_unregistered (void)
{
  g_autoptr(TestUnregistered) object = g_object_new (TEST_TYPE_UNREGISTERED, NULL);
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_autoptr(GValue) value = NULL;

  g_hash_table_insert (dict, g_strdup ("it's"), object_value (object));
  value = dict_value (g_hash_table_ref (dict));
  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE,
                        "[\"it's\"]: TestUnregistered is not registered: call mp_serialize_register_type()");
}

static void
test_refuse_unsupported (void)
{
  g_auto(GValue) gtype = G_VALUE_INIT;
  g_auto(GValue) bad_utf8 = G_VALUE_INIT;
  g_auto(GValue) boxed = G_VALUE_INIT;

  g_value_init (&gtype, G_TYPE_GTYPE);
  g_value_set_gtype (&gtype, G_TYPE_INT);
  assert_value_refused (&gtype, MP_ERROR_UNSERIALIZABLE, "values of type GType cannot be serialized");

  g_value_init (&bad_utf8, G_TYPE_STRING);
  g_value_set_string (&bad_utf8, "\xff\xfe");
  assert_value_refused (&bad_utf8, MP_ERROR_UNSERIALIZABLE, "a string that is not valid UTF-8");

  g_value_init (&boxed, G_TYPE_DATE_TIME);
  g_value_take_boxed (&boxed, g_date_time_new_from_unix_utc (0));
  assert_value_refused (&boxed, MP_ERROR_UNSERIALIZABLE, "values of type GDateTime cannot be serialized");
}

static void
test_refuse_property_type (void)
{
  g_autoptr(TestDated) dated = g_object_new (TEST_TYPE_DATED, NULL);
  g_autoptr(GValue) value = object_value (dated);

  /* even while NULL: the type itself has no wire form */
  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE,
                        "TestDated.when: a property of type GDateTime cannot be serialized");
}

static void
test_refuse_cycle (void)
{
  g_autoptr(TestCluster) a = make_cluster ("a", 1, TRUE);
  g_autoptr(TestCluster) b = make_cluster ("b", 2, TRUE);
  g_autoptr(GValue) value = object_value (a);

  g_object_set (a, "peer", b, NULL);
  g_object_set (b, "peer", a, NULL);
  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE, "TestCluster.peer.peer.peer");
  /* break the cycle so both are freed */
  g_object_set (b, "peer", NULL, NULL);
}

static void
test_refuse_too_deep (void)
{
  g_autoptr(GValue) value = int_value (0);
  g_autoptr(GValue) ok_value = NULL;

  /* 40 nested lists are too deep for the wire; 20 travel */
  for (int level = 0; level < 40; level++)
    {
      GPtrArray *list = mp_gvalue_list_new ();

      g_ptr_array_add (list, g_steal_pointer (&value));
      value = list_value (list);
      if (level == 19)
        ok_value = mp_gvalue_copy (value);
    }
  assert_round_trip_as (ok_value, MP_TYPE_GVALUE_LIST);
  assert_value_refused (value, MP_ERROR_UNSERIALIZABLE, "[0][0][0]");
}

/* ------------------------------------------------------------------ */
/* reducers: inherit-only and never                                    */

static void
test_reducer_inherit_only (void)
{
  g_autoptr(TestShared) shared = test_shared_new (42, -1);
  g_autoptr(MpArgs) args = mp_args_new (TEST_TYPE_SHARED, shared, G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(MpArgs) copy = NULL;
  MpSpawningContext context = { NULL };
  TestShared *rebuilt;

  /* a task argument: refused with Python's words */
  g_assert_false (mp_spawning_is_active ());
  wire = mp_args_serialize (args, &error);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_assert_true (g_str_has_prefix (error->message, "TestShared passed as args[0]"));
  g_assert_nonnull (strstr (error->message, "objects should only be shared between processes through inheritance"));
  g_clear_error (&error);

  /* while a process is being started: it travels */
  mp_spawning_begin (&context);
  g_assert_true (mp_spawning_is_active ());
  wire = mp_args_serialize (args, &error);
  mp_spawning_end (&context);
  g_assert_no_error (error);
  g_assert_nonnull (wire);
  g_assert_false (mp_spawning_is_active ());

  copy = mp_args_deserialize (wire, &error);
  g_assert_no_error (error);
  rebuilt = mp_args_get_object (copy, 0);
  g_assert_true (TEST_IS_SHARED (rebuilt));
  g_assert_true (rebuilt != shared);
  g_assert_cmpint (rebuilt->block, ==, 42);
  g_assert_null (context.fds);
}

static void
test_reducer_keeps_fd (void)
{
  g_autoptr(TestShared) shared = test_shared_new (1, 0);
  g_autoptr(TestShared) shared_too = test_shared_new (2, 0);
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  g_autoptr(GValue) value = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GError) error = NULL;
  MpSpawningContext context = { NULL };

  g_ptr_array_add (list, object_value (shared));
  g_ptr_array_add (list, object_value (shared_too));
  value = list_value (g_ptr_array_ref (list));

  g_assert_false (mp_spawning_keep_fd (0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_clear_error (&error);

  mp_spawning_begin (&context);
  wire = mp_serialize_value (value, &error);
  mp_spawning_end (&context);
  g_assert_no_error (error);
  /* the same fd asked for twice is kept once */
  g_assert_nonnull (context.fds);
  g_assert_cmpuint (context.fds->len, ==, 1);
  g_assert_cmpint (g_array_index (context.fds, int, 0), ==, 0);
  g_array_unref (context.fds);
}

static void
test_reducer_never (void)
{
  g_autoptr(TestSecret) secret = g_object_new (TEST_TYPE_SECRET, NULL);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_STRING, "x", TEST_TYPE_SECRET, secret, G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  MpSpawningContext context = { NULL };

  /* never means never, not even while a process starts */
  mp_spawning_begin (&context);
  wire = mp_args_serialize (args, &error);
  mp_spawning_end (&context);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_KEY_REFUSED);
  g_assert_true (g_str_has_prefix (error->message,
                                   "args[1]: TestSecret cannot be serialized: it holds the auth key"));
  g_assert_nonnull (strstr (error->message, "disallowed for security reasons"));

  /* and one claiming to be a TestSecret is not rebuilt */
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "TestSecret", g_variant_new ("()"))),
                       MP_ERROR_PROTOCOL, "TestSecret may never cross a process boundary");
}

static void
test_spawning_nesting (void)
{
  MpSpawningContext outer = { NULL };
  MpSpawningContext inner = { NULL };
  g_autoptr(GError) error = NULL;

  mp_spawning_begin (&outer);
  mp_spawning_begin (&inner);
  g_assert_true (mp_spawning_keep_fd (2, &error));
  mp_spawning_end (&inner);
  g_assert_true (mp_spawning_is_active ());
  g_assert_true (mp_spawning_keep_fd (1, &error));
  mp_spawning_end (&outer);
  g_assert_false (mp_spawning_is_active ());
  g_assert_no_error (error);

  g_assert_cmpuint (inner.fds->len, ==, 1);
  g_assert_cmpuint (outer.fds->len, ==, 1);
  g_assert_cmpint (g_array_index (outer.fds, int, 0), ==, 1);
  g_array_unref (inner.fds);
  g_array_unref (outer.fds);
}

static gpointer
spawning_in_thread (gpointer data)
{
  /* the context belongs to the thread that starts the process */
  return GINT_TO_POINTER (mp_spawning_is_active ());
}

static void
test_spawning_thread_local (void)
{
  MpSpawningContext context = { NULL };
  GThread *thread;

  mp_spawning_begin (&context);
  thread = g_thread_new ("other", spawning_in_thread, NULL);
  g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
  mp_spawning_end (&context);
}

/* ------------------------------------------------------------------ */
/* hostile input                                                       */

static GBytes *
serialized_sample (void)
{
  g_autoptr(TestCluster) peer = make_cluster ("peer", 2, FALSE);
  g_autoptr(TestCluster) cluster = make_cluster ("alpha", 8080, TRUE);
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_autoptr(GValue) value = NULL;
  g_autoptr(GError) error = NULL;
  GBytes *bytes;

  g_object_set (cluster, "peer", peer, NULL);
  g_hash_table_insert (dict, g_strdup ("cluster"), object_value (cluster));
  g_hash_table_insert (dict, g_strdup ("n"), int_value (-3));
  g_hash_table_insert (dict, g_strdup ("s"), string_value ("text"));
  value = dict_value (g_hash_table_ref (dict));
  bytes = mp_serialize_to_bytes (value, &error);
  g_assert_no_error (error);
  return bytes;
}

/* either decodes to something or fails with a protocol error */
static gboolean
decode_anything (const guint8 *data,
                 gsize         len)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, len);
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  if (mp_deserialize_from_bytes (bytes, &out, &error))
    {
      g_assert_no_error (error);
      return TRUE;
    }
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_assert_false (G_IS_VALUE (&out));
  return FALSE;
}

static void
test_hostile_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20240611);
  guint8 buffer[256];
  guint refused = 0;

  for (int round = 0; round < 2000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, sizeof buffer);

      for (gsize i = 0; i < len; i++)
        buffer[i] = (guint8) g_rand_int_range (rand, 0, 256);
      if (!decode_anything (buffer, len))
        refused++;
    }
  /* garbage is nearly always refused; the few that decode are harmless */
  g_assert_cmpuint (refused, >, 1900);
}

static void
test_hostile_mutations (void)
{
  g_autoptr(GBytes) sample = serialized_sample ();
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (sample, &len);
  g_autofree guint8 *copy = g_memdup2 (data, len);
  guint truncated_refused = 0;

  g_assert_true (decode_anything (data, len));

  /* every truncation */
  for (gsize cut = 0; cut < len; cut++)
    if (!decode_anything (data, cut))
      truncated_refused++;
  g_assert_cmpuint (truncated_refused, ==, len);

  /* every byte flipped to a few values */
  for (gsize i = 0; i < len; i++)
    {
      static const guint8 patterns[] = { 0x00, 0xff, 0x01, 0x80, 'v', '(' };

      for (gsize p = 0; p < G_N_ELEMENTS (patterns); p++)
        {
          copy[i] = patterns[p];
          decode_anything (copy, len);
        }
      copy[i] = data[i];
    }
}

static void
test_hostile_non_normal (void)
{
  /* a boolean stored as 2: GVariant itself would read it, normal form not */
  static const guint8 bool_two[] = { 2, 0, 'b' };
  /* a string without its terminating nul */
  static const guint8 unterminated[] = { 'a', 'b', 0, 'm', 's' };
  g_autoptr(GBytes) b1 = g_bytes_new_static (bool_two, sizeof bool_two);
  g_autoptr(GBytes) b2 = g_bytes_new_static (unterminated, sizeof unterminated);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);

  assert_bytes_refused (b1, MP_ERROR_PROTOCOL, "received data is not a well-formed");
  assert_bytes_refused (b2, MP_ERROR_PROTOCOL, NULL);
  assert_bytes_refused (empty, MP_ERROR_PROTOCOL, NULL);
}

static void
test_hostile_unexpected_type (void)
{
  assert_wire_refused (g_variant_new ("v", g_variant_new_uint16 (3)),
                       MP_ERROR_PROTOCOL, "unexpected wire type 'q'");
  assert_wire_refused (g_variant_new ("v", g_variant_new_strv (NULL, 0)),
                       MP_ERROR_PROTOCOL, "unexpected wire type 'as'");
  assert_wire_refused (g_variant_new_parsed ("<[<@x 1>, <@u 5>]>"),
                       MP_ERROR_PROTOCOL, "[1]: unexpected wire type 'u'");
}

static GVariant *
cluster_wire_with (const char *property,
                   GVariant   *wire_value)
{
  g_auto(GVariantBuilder) state = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  g_variant_builder_add (&state, "{sv}", "name",
                         g_variant_new_maybe (G_VARIANT_TYPE_STRING, g_variant_new_string ("x")));
  g_variant_builder_add (&state, "{sv}", property, wire_value);
  return g_variant_new ("v", g_variant_new ("(sv)", "TestCluster",
                                            g_variant_builder_end (&state)));
}

static void
test_hostile_objects (void)
{
  /* type names this process never registered, real GType or not */
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "GSocketClient",
                                                          g_variant_new ("a{sv}", NULL))),
                       MP_ERROR_PROTOCOL, "type 'GSocketClient' is not registered in this process");
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "NoSuchType",
                                                          g_variant_new ("a{sv}", NULL))),
                       MP_ERROR_PROTOCOL, "type 'NoSuchType' is not registered");
  assert_wire_refused (g_variant_new_parsed ("<[<@x 1>, <('TestUnregistered', <@a{sv} {}>)>]>"),
                       MP_ERROR_PROTOCOL, "[1]: type 'TestUnregistered' is not registered");

  /* properties of the wrong wire type, out of range, unknown, twice */
  assert_wire_refused (cluster_wire_with ("port", g_variant_new_string ("80")),
                       MP_ERROR_PROTOCOL,
                       "TestCluster.port: expected wire type 'x' for a gint property, got 's'");
  assert_wire_refused (cluster_wire_with ("port", g_variant_new_uint64 (80)),
                       MP_ERROR_PROTOCOL, "TestCluster.port: expected wire type 'x'");
  assert_wire_refused (cluster_wire_with ("port", g_variant_new_int64 (70000)),
                       MP_ERROR_PROTOCOL, "TestCluster.port: 70000 is not a valid value");
  assert_wire_refused (cluster_wire_with ("port", g_variant_new_int64 (G_GINT64_CONSTANT (1) << 40)),
                       MP_ERROR_PROTOCOL, "TestCluster.port: 1099511627776 does not fit a gint property");
  assert_wire_refused (cluster_wire_with ("peer", g_variant_new_parsed ("('TestPoint', <@a{sv} {}>)")),
                       MP_ERROR_PROTOCOL, "TestCluster.peer: TestPoint(");
  assert_wire_refused (cluster_wire_with ("peer", g_variant_new_boolean (TRUE)),
                       MP_ERROR_PROTOCOL, "TestCluster.peer: expected wire type '(sv)'");
  assert_wire_refused (cluster_wire_with ("derived", g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL)),
                       MP_ERROR_PROTOCOL, "TestCluster.derived: TestCluster has no readable and writable property");
  assert_wire_refused (cluster_wire_with ("no-such", g_variant_new_int64 (1)),
                       MP_ERROR_PROTOCOL, "TestCluster.no-such: ");
  assert_wire_refused (cluster_wire_with ("name", g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL)),
                       MP_ERROR_PROTOCOL, "TestCluster.name: the property is given twice");
  assert_wire_refused (cluster_wire_with ("tags", g_variant_new_parsed ("[<@ms nothing>, <('NoSuchType', <()>)>]")),
                       MP_ERROR_PROTOCOL, "TestCluster.tags[1]: type 'NoSuchType'");
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "TestCluster", g_variant_new_int32 (1))),
                       MP_ERROR_PROTOCOL, "the state of a TestCluster must be 'a{sv}', got 'i'");

  /* a reducer type with a state its rebuild function refuses */
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "TestShared", g_variant_new_string ("x"))),
                       MP_ERROR_PROTOCOL, "TestShared state must be (ii)");
  /* a rebuild function that makes something else */
  assert_wire_refused (g_variant_new ("v", g_variant_new ("(sv)", "TestLiar", g_variant_new ("()"))),
                       MP_ERROR_PROTOCOL, "the rebuild function of TestLiar returned a TestPoint");
  /* a strv property fed something else than strings */
  assert_wire_refused (g_variant_new_parsed ("<('TestPoint', <{'labels': <[<@x 1>]>}>)>"),
                       MP_ERROR_PROTOCOL, "TestPoint.labels: [1] does not fit a GStrv property");
  assert_wire_refused (g_variant_new_parsed ("<('TestPoint', <{'labels': <[<@ms nothing>]>}>)>"),
                       MP_ERROR_PROTOCOL, "TestPoint.labels: [None] does not fit a GStrv property");
  assert_wire_refused (g_variant_new_parsed ("<('TestPoint', <{'family': <@x 1099511627776>}>)>"),
                       MP_ERROR_PROTOCOL, "TestPoint.family: 1099511627776 does not fit");
  /* an enum value the enum does not have */
  assert_wire_refused (g_variant_new_parsed ("<('TestPoint', <{'family': <@x 99>}>)>"),
                       MP_ERROR_PROTOCOL, "TestPoint.family: 99 is not a valid value");
}

static void
test_hostile_dict (void)
{
  assert_wire_refused (g_variant_new_parsed ("<@a{sv} [{'a', <@x 1>}, {'a', <@x 2>}]>"),
                       MP_ERROR_PROTOCOL, "['a']: the key appears twice in one dict");
}

static GVariant *
nested_lists (int levels)
{
  GVariant *wire = g_variant_new_int64 (0);

  for (int i = 0; i < levels; i++)
    {
      GVariant *box = g_variant_new_variant (wire);

      wire = g_variant_new_array (G_VARIANT_TYPE_VARIANT, &box, 1);
    }
  return g_variant_new_variant (wire);
}

static void
test_hostile_deep (void)
{
  g_autoptr(GVariant) shallow = g_variant_ref_sink (nested_lists (20));
  g_auto(GValue) out = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_assert_true (mp_deserialize_value (shallow, &out, &error));
  g_assert_no_error (error);

  /* deeper than our bound, still within GVariant's own */
  assert_wire_refused (nested_lists (40), MP_ERROR_PROTOCOL, "[0][0][0]");
  /* beyond GVariant's bound: not normal form */
  assert_wire_refused (nested_lists (100), MP_ERROR_PROTOCOL, NULL);
}

/* ------------------------------------------------------------------ */
/* MpArgs                                                              */

static void
test_args_varargs (void)
{
  g_autoptr(TestPoint) point = g_object_new (TEST_TYPE_POINT, "x", 5, NULL);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT, 3,
                                        G_TYPE_STRING, "x",
                                        G_TYPE_BOOLEAN, TRUE,
                                        G_TYPE_DOUBLE, 2.5,
                                        G_TYPE_UINT64, G_GUINT64_CONSTANT (7),
                                        G_TYPE_CHAR, 'c',
                                        G_TYPE_FLOAT, 0.5,
                                        TEST_TYPE_POINT, point,
                                        G_TYPE_STRING, NULL,
                                        G_TYPE_INVALID);
  g_autoptr(MpArgs) none = mp_args_new (G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(MpArgs) copy = NULL;

  g_assert_cmpuint (mp_args_get_length (none), ==, 0);
  g_assert_cmpuint (mp_args_get_length (args), ==, 9);
  g_assert_cmpint (mp_args_get_int (args, 0), ==, 3);
  g_assert_cmpstr (mp_args_get_string (args, 1), ==, "x");
  g_assert_true (mp_args_get_boolean (args, 2));
  g_assert_cmpfloat (mp_args_get_double (args, 3), ==, 2.5);
  g_assert_cmpint (mp_args_get_int (args, 4), ==, 7);
  g_assert_cmpint (mp_args_get_int (args, 5), ==, 'c');
  g_assert_cmpfloat (mp_args_get_double (args, 6), ==, 0.5);
  g_assert_true (mp_args_get_object (args, 7) == point);
  g_assert_null (mp_args_get_string (args, 8));
  g_assert_true (G_VALUE_HOLDS_INT (mp_args_get_value (args, 0)));

  /* the copy after a round trip: fresh values, wider types */
  wire = mp_args_serialize (args, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_is_of_type (wire, G_VARIANT_TYPE ("av")));
  copy = mp_args_deserialize (wire, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_args_get_length (copy), ==, 9);
  g_assert_cmpint (mp_args_get_int (copy, 0), ==, 3);
  g_assert_true (G_VALUE_HOLDS_INT64 (mp_args_get_value (copy, 0)));
  g_assert_cmpstr (mp_args_get_string (copy, 1), ==, "x");
  g_assert_true (mp_args_get_boolean (copy, 2));
  g_assert_cmpfloat (mp_args_get_double (copy, 6), ==, 0.5);
  g_assert_true (mp_args_get_object (copy, 7) != point);
  g_assert_cmpint (TEST_POINT (mp_args_get_object (copy, 7))->x, ==, 5);
  for (guint i = 0; i < mp_args_get_length (args); i++)
    g_assert_true (mp_gvalue_equal (mp_args_get_value (args, i), mp_args_get_value (copy, i)));

  g_clear_pointer (&wire, g_variant_unref);
  wire = mp_args_serialize (none, &error);
  g_assert_no_error (error);
  g_clear_pointer (&copy, mp_args_unref);
  copy = mp_args_deserialize (wire, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_args_get_length (copy), ==, 0);
}

static void
test_args_add (void)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(TestPoint) point = g_object_new (TEST_TYPE_POINT, NULL);
  GValue none = G_VALUE_INIT;
  MpArgs *ref;

  mp_args_add_boolean (args, TRUE);
  mp_args_add_int (args, G_MININT64);
  mp_args_add_double (args, -1.25);
  mp_args_add_string (args, "s");
  mp_args_add_object (args, point);
  mp_args_add_object (args, NULL);
  mp_args_add_value (args, &none);

  g_assert_cmpuint (mp_args_get_length (args), ==, 7);
  g_assert_true (mp_args_get_boolean (args, 0));
  g_assert_cmpint (mp_args_get_int (args, 1), ==, G_MININT64);
  g_assert_cmpfloat (mp_args_get_double (args, 2), ==, -1.25);
  g_assert_cmpstr (mp_args_get_string (args, 3), ==, "s");
  g_assert_true (mp_args_get_object (args, 4) == point);
  g_assert_null (mp_args_get_object (args, 5));
  g_assert_null (mp_args_get_object (args, 6));
  g_assert_false (G_IS_VALUE (mp_args_get_value (args, 6)));

  ref = mp_args_ref (args);
  g_assert_true (ref == args);
  mp_args_unref (ref);
  g_assert_true (G_TYPE_IS_BOXED (MP_TYPE_ARGS));
}

static void
test_args_hostile (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) not_list = g_variant_ref_sink (g_variant_new_int32 (1));
  g_autoptr(GVariant) bad_item = g_variant_ref_sink (g_variant_new_parsed ("[<@x 1>, <@q 2>]"));
  g_autoptr(GVariant) deep = g_variant_ref_sink (nested_lists (40));
  g_autoptr(GVariant) deep_args = NULL;
  MpArgs *args;

  args = mp_args_deserialize (not_list, &error);
  g_assert_null (args);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);

  args = mp_args_deserialize (bad_item, &error);
  g_assert_null (args);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_assert_true (g_str_has_prefix (error->message, "args[1]: unexpected wire type 'q'"));
  g_clear_error (&error);

  deep_args = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, &deep, 1));
  args = mp_args_deserialize (deep_args, &error);
  g_assert_null (args);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_assert_true (g_str_has_prefix (error->message, "args[0][0]"));
}

static void
test_args_wrong_getter (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_STRING, "x", G_TYPE_INVALID);

      /* a programming error: critical, 0 returned */
      g_assert_cmpint (mp_args_get_int (args, 0), ==, 0);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*mp_args_get_int*");
}

static void
test_args_index_out_of_range (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);

      g_assert_null (mp_args_get_value (args, 0));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*index < args->values->len*");
}

/* ------------------------------------------------------------------ */
/* text                                                                */

static void
test_repr_scalars (void)
{
  static const struct { double d; const char *text; } doubles[] = {
    { 1.5, "1.5" }, { 0.1, "0.1" }, { 100.0, "100.0" }, { -0.0, "-0.0" },
    { 1e16, "1e+16" }, { 1e15, "1000000000000000.0" }, { 1e-5, "1e-05" },
    { 0.0001, "0.0001" }, { 1.0 / 3, "0.3333333333333333" }, { 2.5e-300, "2.5e-300" },
    { INFINITY, "inf" }, { -INFINITY, "-inf" }, { NAN, "nan" },
  };
  static const struct { const char *s; const char *text; } strings[] = {
    { "text", "'text'" }, { "it's", "\"it's\"" }, { "a'b\"c", "'a\\'b\"c'" },
    { "tab\there\n", "'tab\\there\\n'" }, { "\x01", "'\\x01'" }, { "日本", "'日本'" },
    { "back\\slash", "'back\\\\slash'" }, { "cr\r", "'cr\\r'" }, { "del\x7f", "'del\\x7f'" },
  };
  g_auto(GValue) v = G_VALUE_INIT;
  g_autofree char *text = NULL;
  static const guint8 raw[] = { 'a', 0, 0xff, '\'' };

  for (gsize i = 0; i < G_N_ELEMENTS (doubles); i++)
    {
      g_auto(GValue) d = G_VALUE_INIT;
      g_autofree char *t = NULL;

      g_value_init (&d, G_TYPE_DOUBLE);
      g_value_set_double (&d, doubles[i].d);
      t = to_string (&d);
      g_assert_cmpstr (t, ==, doubles[i].text);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      g_autoptr(GValue) s = string_value (strings[i].s);
      g_autofree char *t = to_string (s);

      g_assert_cmpstr (t, ==, strings[i].text);
    }

  g_value_init (&v, G_TYPE_BYTES);
  g_value_take_boxed (&v, g_bytes_new (raw, sizeof raw));
  text = to_string (&v);
  g_assert_cmpstr (text, ==, "b\"a\\x00\\xff'\"");
  g_value_unset (&v);
  g_clear_pointer (&text, g_free);

  g_value_init (&v, G_TYPE_BYTES);
  g_value_take_boxed (&v, g_bytes_new (NULL, 0));
  text = to_string (&v);
  g_assert_cmpstr (text, ==, "b''");
  g_value_unset (&v);
  g_clear_pointer (&text, g_free);

  g_value_init (&v, G_TYPE_BOOLEAN);
  text = to_string (&v);
  g_assert_cmpstr (text, ==, "False");
  g_value_set_boolean (&v, TRUE);
  g_clear_pointer (&text, g_free);
  text = to_string (&v);
  g_assert_cmpstr (text, ==, "True");
  g_value_unset (&v);
  g_clear_pointer (&text, g_free);

  g_value_init (&v, G_TYPE_UINT64);
  g_value_set_uint64 (&v, G_MAXUINT64);
  text = to_string (&v);
  g_assert_cmpstr (text, ==, "18446744073709551615");
}

static void
test_register_queries (void)
{
  g_assert_true (mp_serialize_type_is_registered (TEST_TYPE_CLUSTER));
  g_assert_true (mp_serialize_type_is_registered (TEST_TYPE_SHARED));
  g_assert_true (mp_serialize_type_is_registered (TEST_TYPE_SECRET));
  g_assert_false (mp_serialize_type_is_registered (TEST_TYPE_UNREGISTERED));
  g_assert_false (mp_serialize_type_is_registered (G_TYPE_SOCKET_CLIENT));
  g_assert_false (mp_serialize_type_is_registered (G_TYPE_INT));

  /* registering again is harmless */
  register_test_types ();
  g_assert_true (mp_serialize_type_is_registered (TEST_TYPE_CLUSTER));
}

static void
test_register_bad_key (void)
{
  if (g_test_subprocess ())
    {
      static const char * const keys[] = { "nope", NULL };

      mp_serialize_register_type (TEST_TYPE_UNREGISTERED, keys);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*TestUnregistered has no readable and writable property 'nope'*");
}

static void
test_guards (void)
{
  g_autoptr(GError) error = g_error_new_literal (MP_ERROR, MP_ERROR_FAILED, "already set");
  g_autoptr(GVariant) wire = g_variant_ref_sink (g_variant_new_variant (g_variant_new ("()")));
  g_auto(GValue) set = G_VALUE_INIT;
  GValue none = G_VALUE_INIT;

  g_value_init (&set, G_TYPE_INT);

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  g_assert_null (mp_serialize_value (NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*error == NULL*");
  g_assert_null (mp_serialize_value (&none, &error));
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*!G_IS_VALUE (out)*");
  g_assert_false (mp_deserialize_value (wire, &set, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*bytes != NULL*");
  g_assert_false (mp_deserialize_from_bytes (NULL, &none, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*fd >= 0*");
  g_assert_false (mp_spawning_keep_fd (-1, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*G_TYPE_IS_OBJECT*");
  mp_serialize_register_type (G_TYPE_INT, NULL);
  g_test_assert_expected_messages ();

  g_test_expect_message ("mpshare", G_LOG_LEVEL_CRITICAL, "*args != NULL*");
  g_assert_cmpuint (mp_args_get_length (NULL), ==, 0);
  g_test_assert_expected_messages ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  register_test_types ();

  g_test_add_func ("/serialize/roundtrip/none", test_roundtrip_none);
  g_test_add_func ("/serialize/roundtrip/bool", test_roundtrip_bool);
  g_test_add_func ("/serialize/roundtrip/int", test_roundtrip_int);
  g_test_add_func ("/serialize/roundtrip/enum-flags", test_roundtrip_enum_flags);
  g_test_add_func ("/serialize/roundtrip/double", test_roundtrip_double);
  g_test_add_func ("/serialize/roundtrip/string", test_roundtrip_string);
  g_test_add_func ("/serialize/roundtrip/bytes", test_roundtrip_bytes);
  g_test_add_func ("/serialize/roundtrip/variant", test_roundtrip_variant);
  g_test_add_func ("/serialize/roundtrip/list", test_roundtrip_list);
  g_test_add_func ("/serialize/roundtrip/dict", test_roundtrip_dict);
  g_test_add_func ("/serialize/object/roundtrip", test_object_roundtrip);
  g_test_add_func ("/serialize/object/strv-enum", test_object_strv_enum);
  g_test_add_func ("/serialize/object/repr", test_object_repr);
  g_test_add_func ("/serialize/object/widths", test_object_widths);
  g_test_add_func ("/serialize/equal/key-properties", test_equal_key_properties);
  g_test_add_func ("/serialize/equal/all-properties", test_equal_all_properties);
  g_test_add_func ("/serialize/equal/numbers", test_equal_numbers);
  g_test_add_func ("/serialize/equal/reduced", test_equal_reduced);
  g_test_add_func ("/serialize/equal/strv-list", test_equal_strv_list);
  g_test_add_func ("/serialize/equal/table", test_equal_table);
  g_test_add_func ("/serialize/equal/not-finite", test_equal_not_finite);
  g_test_add_func ("/serialize/equal/local-values", test_equal_local_values);
  g_test_add_func ("/serialize/refuse/socket-client", test_refuse_socket_client);
  g_test_add_func ("/serialize/refuse/stream-in-list", test_refuse_stream_in_list);
  g_test_add_func ("/serialize/refuse/pointer", test_refuse_pointer);
  g_test_add_func ("/serialize/refuse/unregistered", test_refuse_unregistered);
  g_test_add_func ("/serialize/refuse/unsupported", test_refuse_unsupported);
  g_test_add_func ("/serialize/refuse/property-type", test_refuse_property_type);
  g_test_add_func ("/serialize/refuse/cycle", test_refuse_cycle);
  g_test_add_func ("/serialize/refuse/too-deep", test_refuse_too_deep);
  g_test_add_func ("/serialize/reducer/inherit-only", test_reducer_inherit_only);
  g_test_add_func ("/serialize/reducer/keep-fd", test_reducer_keeps_fd);
  g_test_add_func ("/serialize/reducer/never", test_reducer_never);
  g_test_add_func ("/serialize/reducer/fails", test_reducer_fails);
  g_test_add_func ("/serialize/spawning/nesting", test_spawning_nesting);
  g_test_add_func ("/serialize/spawning/thread-local", test_spawning_thread_local);
  g_test_add_func ("/serialize/hostile/garbage", test_hostile_garbage);
  g_test_add_func ("/serialize/hostile/mutations", test_hostile_mutations);
  g_test_add_func ("/serialize/hostile/non-normal", test_hostile_non_normal);
  g_test_add_func ("/serialize/hostile/unexpected-type", test_hostile_unexpected_type);
  g_test_add_func ("/serialize/hostile/objects", test_hostile_objects);
  g_test_add_func ("/serialize/hostile/dict", test_hostile_dict);
  g_test_add_func ("/serialize/hostile/deep", test_hostile_deep);
  g_test_add_func ("/serialize/hostile/widths", test_hostile_widths);
  g_test_add_func ("/serialize/args/varargs", test_args_varargs);
  g_test_add_func ("/serialize/args/add", test_args_add);
  g_test_add_func ("/serialize/args/hostile", test_args_hostile);
  g_test_add_func ("/serialize/args/wrong-getter", test_args_wrong_getter);
  g_test_add_func ("/serialize/args/index-out-of-range", test_args_index_out_of_range);
  g_test_add_func ("/serialize/repr/scalars", test_repr_scalars);
  g_test_add_func ("/serialize/register/queries", test_register_queries);
  g_test_add_func ("/serialize/register/bad-key", test_register_bad_key);
  g_test_add_func ("/serialize/guards", test_guards);
  return g_test_run ();
}
