/* fuzz-serialize.c — libFuzzer target: untrusted bytes into the
 * serializer's decoders (mp_deserialize_from_bytes, mp_args_deserialize)
 *
 * Build and run a fixed number of executions (clang, libclang-rt-14-dev):
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true \
 *     -Db_sanitize=address,undefined -Db_lundef=false
 *   ninja -C build-fuzz tests/fuzz/fuzz-serialize
 *   ./build-fuzz/tests/fuzz/fuzz-serialize -runs=1000000 \
 *     "$(mktemp -d)" tests/fuzz/corpus/serialize
 *
 * A few registered types give the decoder every kind of property to fill:
 * scalars with ranges, enums, strings, nested objects, lists, dicts, strv,
 * bytes, variants, a construct-only and a read-only property, key
 * properties, a reducer and a refusal. Whatever decodes must encode again,
 * and one more round trip must give the same bytes and an equal value.
 *
 * Compiled with -DFUZZ_MAKE_CORPUS the same file is the seed generator:
 *   build/tests/fuzz/fuzz-serialize-corpus tests/fuzz/corpus/serialize
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "mpshare.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* ------------------------------------------------------------------ */
/* Property storage shared by the types: one GValue per property       */

static void
values_init (GValue      *values,
             GParamSpec **pspecs,
             guint        n)
{
  for (guint i = 1; i < n; i++)
    {
      g_value_init (&values[i], pspecs[i]->value_type);
      g_param_value_set_default (pspecs[i], &values[i]);
    }
}

static void
values_clear (GValue *values,
              guint   n)
{
  for (guint i = 1; i < n; i++)
    g_value_unset (&values[i]);
}

/* ------------------------------------------------------------------ */
/* FuzzKind, FuzzMask                                                  */

typedef enum {
  FUZZ_KIND_SMALL = 1,
  FUZZ_KIND_LARGE = 7,
} FuzzKind;

typedef enum {
  FUZZ_MASK_A = 1 << 0,
  FUZZ_MASK_B = 1 << 3,
} FuzzMask;

static GType fuzz_kind_get_type (void);
static GType fuzz_mask_get_type (void);

static GType
fuzz_kind_get_type (void)
{
  static gsize type_id = 0;
  static const GEnumValue values[] = {
    { FUZZ_KIND_SMALL, "FUZZ_KIND_SMALL", "small" },
    { FUZZ_KIND_LARGE, "FUZZ_KIND_LARGE", "large" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_enum_register_static ("FuzzKind", values));
  return type_id;
}

static GType
fuzz_mask_get_type (void)
{
  static gsize type_id = 0;
  static const GFlagsValue values[] = {
    { FUZZ_MASK_A, "FUZZ_MASK_A", "a" },
    { FUZZ_MASK_B, "FUZZ_MASK_B", "b" },
    { 0, NULL, NULL },
  };

  if (g_once_init_enter (&type_id))
    g_once_init_leave (&type_id, g_flags_register_static ("FuzzMask", values));
  return type_id;
}

/* ------------------------------------------------------------------ */
/* FuzzPoint: scalars only; equality by all properties                 */

#define FUZZ_TYPE_POINT (fuzz_point_get_type ())
G_DECLARE_FINAL_TYPE (FuzzPoint, fuzz_point, FUZZ, POINT, GObject)

enum {
  POINT_PROP_0,
  POINT_PROP_X,
  POINT_PROP_Y,
  POINT_PROP_LABEL,
  POINT_PROP_VISIBLE,
  POINT_PROP_RATIO,
  POINT_PROP_SMALL,
  POINT_PROP_KIND,
  POINT_PROP_MASK,
  POINT_N_PROPS
};

static GParamSpec *point_props[POINT_N_PROPS];

struct _FuzzPoint {
  GObject parent_instance;
  GValue  values[POINT_N_PROPS];
};

G_DEFINE_TYPE (FuzzPoint, fuzz_point, G_TYPE_OBJECT)

static void
fuzz_point_init (FuzzPoint *self)
{
  values_init (self->values, point_props, POINT_N_PROPS);
}

static void
fuzz_point_finalize (GObject *object)
{
  values_clear (FUZZ_POINT (object)->values, POINT_N_PROPS);
  G_OBJECT_CLASS (fuzz_point_parent_class)->finalize (object);
}

static void
fuzz_point_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  g_value_copy (&FUZZ_POINT (object)->values[prop_id], value);
}

static void
fuzz_point_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  g_value_copy (value, &FUZZ_POINT (object)->values[prop_id]);
}

static void
fuzz_point_class_init (FuzzPointClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = fuzz_point_finalize;
  object_class->get_property = fuzz_point_get_property;
  object_class->set_property = fuzz_point_set_property;

  /* ranges narrower than the wire's, so validation can refuse a value */
  point_props[POINT_PROP_X] = g_param_spec_int ("x", NULL, NULL, -1000, 1000, 0, rw);
  point_props[POINT_PROP_Y] = g_param_spec_long ("y", NULL, NULL, G_MINLONG, G_MAXLONG, 0, rw);
  point_props[POINT_PROP_LABEL] = g_param_spec_string ("label", NULL, NULL, "origin", rw);
  point_props[POINT_PROP_VISIBLE] = g_param_spec_boolean ("visible", NULL, NULL, TRUE, rw);
  point_props[POINT_PROP_RATIO] = g_param_spec_float ("ratio", NULL, NULL, -1.0f, 1.0f, 0.0f, rw);
  point_props[POINT_PROP_SMALL] = g_param_spec_uchar ("small", NULL, NULL, 0, 100, 0, rw);
  point_props[POINT_PROP_KIND] = g_param_spec_enum ("kind", NULL, NULL, fuzz_kind_get_type (),
                                                    FUZZ_KIND_SMALL, rw);
  point_props[POINT_PROP_MASK] = g_param_spec_flags ("mask", NULL, NULL, fuzz_mask_get_type (),
                                                     0, rw);
  g_object_class_install_properties (object_class, POINT_N_PROPS, point_props);
}

/* ------------------------------------------------------------------ */
/* FuzzCluster: containers and objects; equality by name only          */

#define FUZZ_TYPE_CLUSTER (fuzz_cluster_get_type ())
G_DECLARE_FINAL_TYPE (FuzzCluster, fuzz_cluster, FUZZ, CLUSTER, GObject)

enum {
  CLUSTER_PROP_0,
  CLUSTER_PROP_NAME,
  CLUSTER_PROP_AVAILABLE,
  CLUSTER_PROP_PORT,
  CLUSTER_PROP_SERIAL,
  CLUSTER_PROP_LOAD,
  CLUSTER_PROP_POINT,
  CLUSTER_PROP_PEER,
  CLUSTER_PROP_ANY,
  CLUSTER_PROP_ITEMS,
  CLUSTER_PROP_ATTRS,
  CLUSTER_PROP_TAGS,
  CLUSTER_PROP_DATA,
  CLUSTER_PROP_EXTRA,
  CLUSTER_PROP_SUMMARY,   /* read-only: computed, never sent */
  CLUSTER_N_PROPS
};

static GParamSpec *cluster_props[CLUSTER_N_PROPS];

struct _FuzzCluster {
  GObject parent_instance;
  GValue  values[CLUSTER_N_PROPS];
};

G_DEFINE_TYPE (FuzzCluster, fuzz_cluster, G_TYPE_OBJECT)

static void
fuzz_cluster_init (FuzzCluster *self)
{
  values_init (self->values, cluster_props, CLUSTER_N_PROPS);
}

static void
fuzz_cluster_finalize (GObject *object)
{
  values_clear (FUZZ_CLUSTER (object)->values, CLUSTER_N_PROPS);
  G_OBJECT_CLASS (fuzz_cluster_parent_class)->finalize (object);
}

static void
fuzz_cluster_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  FuzzCluster *self = FUZZ_CLUSTER (object);

  if (prop_id == CLUSTER_PROP_SUMMARY)
    g_value_take_string (value, g_strdup_printf ("cluster %s",
                                                 g_value_get_string (&self->values[CLUSTER_PROP_NAME])));
  else
    g_value_copy (&self->values[prop_id], value);
}

static void
fuzz_cluster_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  g_value_copy (value, &FUZZ_CLUSTER (object)->values[prop_id]);
}

static void
fuzz_cluster_class_init (FuzzClusterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = fuzz_cluster_finalize;
  object_class->get_property = fuzz_cluster_get_property;
  object_class->set_property = fuzz_cluster_set_property;

  cluster_props[CLUSTER_PROP_NAME] = g_param_spec_string ("name", NULL, NULL, "unnamed", rw);
  cluster_props[CLUSTER_PROP_AVAILABLE] = g_param_spec_boolean ("available", NULL, NULL, FALSE, rw);
  cluster_props[CLUSTER_PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 1, 65535, 8080, rw);
  cluster_props[CLUSTER_PROP_SERIAL] =
    g_param_spec_int64 ("serial", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  cluster_props[CLUSTER_PROP_LOAD] = g_param_spec_double ("load", NULL, NULL,
                                                          -G_MAXDOUBLE, G_MAXDOUBLE, 0.0, rw);
  cluster_props[CLUSTER_PROP_POINT] = g_param_spec_object ("point", NULL, NULL, FUZZ_TYPE_POINT, rw);
  cluster_props[CLUSTER_PROP_PEER] = g_param_spec_object ("peer", NULL, NULL, FUZZ_TYPE_CLUSTER, rw);
  cluster_props[CLUSTER_PROP_ANY] = g_param_spec_object ("any", NULL, NULL, G_TYPE_OBJECT, rw);
  cluster_props[CLUSTER_PROP_ITEMS] = g_param_spec_boxed ("items", NULL, NULL, MP_TYPE_GVALUE_LIST, rw);
  cluster_props[CLUSTER_PROP_ATTRS] = g_param_spec_boxed ("attrs", NULL, NULL, MP_TYPE_GVALUE_DICT, rw);
  cluster_props[CLUSTER_PROP_TAGS] = g_param_spec_boxed ("tags", NULL, NULL, G_TYPE_STRV, rw);
  cluster_props[CLUSTER_PROP_DATA] = g_param_spec_boxed ("data", NULL, NULL, G_TYPE_BYTES, rw);
  cluster_props[CLUSTER_PROP_EXTRA] = g_param_spec_variant ("extra", NULL, NULL, G_VARIANT_TYPE_ANY,
                                                            NULL, rw);
  cluster_props[CLUSTER_PROP_SUMMARY] = g_param_spec_string ("summary", NULL, NULL, NULL,
                                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, CLUSTER_N_PROPS, cluster_props);
}

/* ------------------------------------------------------------------ */
/* FuzzHandle: travels by its own reducer as (path, number)             */

#define FUZZ_TYPE_HANDLE (fuzz_handle_get_type ())
G_DECLARE_FINAL_TYPE (FuzzHandle, fuzz_handle, FUZZ, HANDLE, GObject)

struct _FuzzHandle {
  GObject  parent_instance;
  char    *path;
  guint64  number;
};

G_DEFINE_TYPE (FuzzHandle, fuzz_handle, G_TYPE_OBJECT)

static void
fuzz_handle_init (FuzzHandle *self)
{
}

static void
fuzz_handle_finalize (GObject *object)
{
  g_free (FUZZ_HANDLE (object)->path);
  G_OBJECT_CLASS (fuzz_handle_parent_class)->finalize (object);
}

static void
fuzz_handle_class_init (FuzzHandleClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = fuzz_handle_finalize;
}

static FuzzHandle *
fuzz_handle_new (const char *path,
                 guint64     number)
{
  FuzzHandle *self = g_object_new (FUZZ_TYPE_HANDLE, NULL);

  self->path = g_strdup (path);
  self->number = number;
  return self;
}

static GVariant *
fuzz_handle_reduce (GObject   *object,
                    gpointer   user_data,
                    GError   **error)
{
  FuzzHandle *self = FUZZ_HANDLE (object);

  return g_variant_new ("(st)", self->path, self->number);
}

/* as a careful rebuild function would: the state's shape is the peer's word */
static GObject *
fuzz_handle_rebuild (GVariant  *state,
                     gpointer   user_data,
                     GError   **error)
{
  const char *path;
  guint64 number;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE ("(st)")))
    {
      g_set_error (error, MP_ERROR, MP_ERROR_PROTOCOL,
                   "a FuzzHandle state must be '(st)', got '%s'",
                   g_variant_get_type_string (state));
      return NULL;
    }
  g_variant_get (state, "(&st)", &path, &number);
  if (path[0] != '/')
    {
      g_set_error (error, MP_ERROR, MP_ERROR_PROTOCOL, "a FuzzHandle path must be absolute");
      return NULL;
    }
  return G_OBJECT (fuzz_handle_new (path, number));
}

/* ------------------------------------------------------------------ */
/* FuzzSecret: refused, so receiving one must fail                      */

#define FUZZ_TYPE_SECRET (fuzz_secret_get_type ())
G_DECLARE_FINAL_TYPE (FuzzSecret, fuzz_secret, FUZZ, SECRET, GObject)

struct _FuzzSecret {
  GObject parent_instance;
};

G_DEFINE_TYPE (FuzzSecret, fuzz_secret, G_TYPE_OBJECT)

static void
fuzz_secret_init (FuzzSecret *self)
{
}

static void
fuzz_secret_class_init (FuzzSecretClass *klass)
{
}

/* ------------------------------------------------------------------ */
/* The target                                                          */

static void
register_types (void)
{
  static const char *const cluster_keys[] = { "name", NULL };

  mp_serialize_register_type (FUZZ_TYPE_POINT, NULL);
  mp_serialize_register_type (FUZZ_TYPE_CLUSTER, cluster_keys);
  mp_serialize_register_reducer (FUZZ_TYPE_HANDLE, MP_TRANSFER_ALWAYS,
                                 fuzz_handle_reduce, fuzz_handle_rebuild, NULL);
  mp_serialize_register_refusal (FUZZ_TYPE_SECRET, MP_ERROR_UNSERIALIZABLE,
                                 "it holds a secret");
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* bad input must come back as a GError: a critical is a bug too */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  register_types ();
  return 0;
}

/* A failure must be a clean MP_ERROR with a message, never a half-set value. */
static void
assert_clean_failure (gboolean      ok,
                      const GValue *value,
                      const GError *error)
{
  if (ok)
    {
      g_assert_no_error (error);
      return;
    }
  g_assert_nonnull (error);
  g_assert_true (error->domain == MP_ERROR);
  g_assert_nonnull (error->message);
  g_assert_true (value == NULL || !G_IS_VALUE (value));
}

/* A decoded value encodes again; a second round trip is then exact. */
static void
check_round_trip (const GValue *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_auto(GValue) again = G_VALUE_INIT;
  g_autofree char *text = mp_gvalue_to_string (value);

  g_assert_nonnull (text);
  first = mp_serialize_to_bytes (value, &error);
  g_assert_no_error (error);
  g_assert_true (mp_deserialize_from_bytes (first, &again, &error));
  g_assert_no_error (error);
  second = mp_serialize_to_bytes (&again, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (first, second));

  /* equal, unless a NaN inside makes the copy unequal to itself */
  if (mp_gvalue_equal (&again, &again))
    g_assert_true (mp_gvalue_equal (value, &again));
}

static void
fuzz_value (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean ok;

  ok = mp_deserialize_from_bytes (bytes, &value, &error);
  assert_clean_failure (ok, &value, error);
  if (ok)
    check_round_trip (&value);
}

/* The unboxed forms the decoder also accepts, as a receiver that chose
 * the type would load them. */
static void
fuzz_unboxed (GBytes     *bytes,
              const char *type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  gboolean ok;

  wire = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type), bytes, FALSE));
  if (!g_variant_is_normal_form (wire))
    return;
  ok = mp_deserialize_value (wire, &value, &error);
  assert_clean_failure (ok, &value, error);
  if (ok)
    {
      check_round_trip (&value);
      g_autoptr(GVariant) fresh = mp_serialize_value (&value, NULL);

      /* Not equal in general: a float property narrows a double. But the
       * comparison is symmetric, and reflexive without NaNs. */
      g_assert_nonnull (fresh);
      g_assert_true (mp_serialize_wire_equal (wire, fresh) ==
                     mp_serialize_wire_equal (fresh, wire));
      if (mp_gvalue_equal (&value, &value))
        g_assert_true (mp_serialize_wire_equal (fresh, fresh));
    }
}

static void
fuzz_args (GBytes     *bytes,
           const char *type)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(GVariant) again = NULL;
  g_autoptr(MpArgs) args2 = NULL;
  g_autoptr(GVariant) again2 = NULL;

  /* as the process and pool layers do: normal form first */
  wire = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (type), bytes, FALSE));
  if (!g_variant_is_normal_form (wire))
    return;
  args = mp_args_deserialize (wire, &error);
  if (args == NULL)
    {
      assert_clean_failure (FALSE, NULL, error);
      return;
    }
  g_assert_no_error (error);

  again = mp_args_serialize (args, &error);
  g_assert_no_error (error);
  args2 = mp_args_deserialize (again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_args_get_length (args2), ==, mp_args_get_length (args));
  again2 = mp_args_serialize (args2, &error);
  g_assert_no_error (error);
  g_assert_true (g_variant_equal (again, again2));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  /* a copy of the exact size, so ASan sees any read past the end */
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  fuzz_value (bytes);
  fuzz_unboxed (bytes, "(sv)");
  fuzz_unboxed (bytes, "a{sv}");
  fuzz_args (bytes, "av");
  fuzz_args (bytes, "v");
  return 0;
}

/* ------------------------------------------------------------------ */
/* The seed corpus: real serialized values and a few hostile ones       */

#ifdef FUZZ_MAKE_CORPUS

static void
write_seed (const char *dir,
            const char *name,
            GBytes     *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  if (!g_file_set_contents (path, data != NULL ? data : "", (gssize) size, &error))
    g_error ("%s", error->message);
  g_print ("%s (%" G_GSIZE_FORMAT " bytes)\n", path, size);
}

static void
write_value (const char   *dir,
             const char   *name,
             const GValue *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = mp_serialize_to_bytes (value, &error);

  if (bytes == NULL)
    g_error ("%s: %s", name, error->message);
  write_seed (dir, name, bytes);
}

/* the inner value alone, for the unboxed "(sv)" and "a{sv}" loads */
static void
write_unboxed (const char   *dir,
               const char   *name,
               const GValue *value)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) wire = mp_serialize_value (value, &error);
  g_autoptr(GVariant) inner = NULL;
  g_autoptr(GBytes) bytes = NULL;

  if (wire == NULL)
    g_error ("%s: %s", name, error->message);
  inner = g_variant_get_variant (wire);
  bytes = g_variant_get_data_as_bytes (inner);
  write_seed (dir, name, bytes);
}

/* a hand-made wire value ("v"), for inputs no sender would produce */
static void
write_wire (const char *dir,
            const char *name,
            GVariant   *inner)
{
  g_autoptr(GVariant) wire = g_variant_ref_sink (g_variant_new_variant (inner));
  g_autoptr(GBytes) bytes = g_variant_get_data_as_bytes (wire);

  write_seed (dir, name, bytes);
}

static GValue *
string_value (const char *text)
{
  GValue *value = mp_gvalue_new (G_TYPE_STRING);

  g_value_set_string (value, text);
  return value;
}

static GValue *
int_value (gint64 v)
{
  GValue *value = mp_gvalue_new (G_TYPE_INT64);

  g_value_set_int64 (value, v);
  return value;
}

static void
write_scalars (const char *dir)
{
  g_auto(GValue) none = G_VALUE_INIT;
  g_auto(GValue) b = G_VALUE_INIT;
  g_auto(GValue) i = G_VALUE_INIT;
  g_auto(GValue) u = G_VALUE_INIT;
  g_auto(GValue) d = G_VALUE_INIT;
  g_auto(GValue) nan = G_VALUE_INIT;
  g_auto(GValue) s = G_VALUE_INIT;
  g_auto(GValue) null_s = G_VALUE_INIT;
  g_auto(GValue) bytes = G_VALUE_INIT;
  g_auto(GValue) variant = G_VALUE_INIT;

  write_value (dir, "none", &none);
  g_value_set_boolean (g_value_init (&b, G_TYPE_BOOLEAN), TRUE);
  write_value (dir, "bool", &b);
  g_value_set_int64 (g_value_init (&i, G_TYPE_INT64), -42);
  write_value (dir, "int", &i);
  g_value_set_uint64 (g_value_init (&u, G_TYPE_UINT64), G_MAXUINT64);
  write_value (dir, "uint", &u);
  g_value_set_double (g_value_init (&d, G_TYPE_DOUBLE), 2.5);
  write_value (dir, "double", &d);
  g_value_set_double (g_value_init (&nan, G_TYPE_DOUBLE), NAN);
  write_value (dir, "nan", &nan);
  g_value_set_string (g_value_init (&s, G_TYPE_STRING), "squared \xc3\xa9");
  write_value (dir, "string", &s);
  g_value_init (&null_s, G_TYPE_STRING);
  write_value (dir, "string-null", &null_s);
  g_value_take_boxed (g_value_init (&bytes, G_TYPE_BYTES), g_bytes_new ("\0\1\2", 3));
  write_value (dir, "bytes", &bytes);
  g_value_set_variant (g_value_init (&variant, G_TYPE_VARIANT),
                       g_variant_new ("(ia{sv})", 7, NULL));
  write_value (dir, "variant", &variant);
}

static void
write_containers (const char *dir)
{
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  g_autoptr(GPtrArray) inner = mp_gvalue_list_new ();
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  g_auto(GValue) list_value = G_VALUE_INIT;
  g_auto(GValue) dict_value = G_VALUE_INIT;
  GValue *inner_value;

  g_ptr_array_add (inner, int_value (0));
  g_ptr_array_add (inner, int_value (1));
  g_ptr_array_add (inner, int_value (4));
  inner_value = mp_gvalue_new (MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (inner_value, inner);
  g_ptr_array_add (list, string_value ("a"));
  g_ptr_array_add (list, inner_value);
  g_ptr_array_add (list, mp_gvalue_new (G_TYPE_INVALID));
  g_value_set_boxed (g_value_init (&list_value, MP_TYPE_GVALUE_LIST), list);
  write_value (dir, "list", &list_value);

  g_hash_table_insert (dict, g_strdup ("total"), int_value (55));
  g_hash_table_insert (dict, g_strdup ("names"), mp_gvalue_copy (&list_value));
  g_hash_table_insert (dict, g_strdup ("it's"), string_value ("quoted"));
  g_value_set_boxed (g_value_init (&dict_value, MP_TYPE_GVALUE_DICT), dict);
  write_value (dir, "dict", &dict_value);
  write_unboxed (dir, "dict-unboxed", &dict_value);
}

static void
write_objects (const char *dir)
{
  static const char *const tags[] = { "gpu", "spot", NULL };
  g_autoptr(FuzzPoint) point = g_object_new (FUZZ_TYPE_POINT, "x", -3, "y", 12L,
                                             "label", "p", "visible", FALSE,
                                             "ratio", 0.5f, "small", 9,
                                             "kind", FUZZ_KIND_LARGE,
                                             "mask", FUZZ_MASK_A | FUZZ_MASK_B, NULL);
  g_autoptr(FuzzCluster) peer = g_object_new (FUZZ_TYPE_CLUSTER, "name", "peer", NULL);
  g_autoptr(FuzzHandle) handle = fuzz_handle_new ("/tmp/socket", 3);
  g_autoptr(GPtrArray) items = mp_gvalue_list_new ();
  g_autoptr(GHashTable) attrs = mp_gvalue_dict_new ();
  g_autoptr(GBytes) data = g_bytes_new ("xyz", 3);
  g_autoptr(FuzzCluster) cluster = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) handle_value = G_VALUE_INIT;
  g_auto(GValue) point_value = G_VALUE_INIT;

  g_ptr_array_add (items, int_value (1));
  g_ptr_array_add (items, string_value ("two"));
  g_hash_table_insert (attrs, g_strdup ("zone"), string_value ("eu"));
  cluster = g_object_new (FUZZ_TYPE_CLUSTER, "name", "abcde", "available", TRUE,
                          "port", 9000u, "serial", G_GINT64_CONSTANT (77), "load", 0.25,
                          "point", point, "peer", peer, "any", handle, "items", items,
                          "attrs", attrs, "tags", tags, "data", data,
                          "extra", g_variant_new_string ("x"), NULL);

  g_value_set_object (g_value_init (&point_value, FUZZ_TYPE_POINT), point);
  write_value (dir, "object-point", &point_value);
  write_unboxed (dir, "object-point-unboxed", &point_value);
  g_value_set_object (g_value_init (&value, FUZZ_TYPE_CLUSTER), cluster);
  write_value (dir, "object-cluster", &value);
  write_unboxed (dir, "object-cluster-unboxed", &value);
  g_value_set_object (g_value_init (&handle_value, FUZZ_TYPE_HANDLE), handle);
  write_value (dir, "object-reducer", &handle_value);
}

static void
write_args (const char *dir)
{
  g_autoptr(FuzzPoint) point = g_object_new (FUZZ_TYPE_POINT, "x", 5, NULL);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT, 3, G_TYPE_STRING, "job",
                                        G_TYPE_DOUBLE, 1.5, G_TYPE_BOOLEAN, TRUE,
                                        G_TYPE_INVALID);
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GBytes) bytes = NULL;

  mp_args_add_object (args, point);
  wire = mp_args_serialize (args, NULL);
  bytes = g_variant_get_data_as_bytes (wire);
  write_seed (dir, "args", bytes);
}

/* the decoder's refusals, each one step from a valid value */
static void
write_hostile (const char *dir)
{
  g_autoptr(GVariant) deep = g_variant_ref_sink (g_variant_new_int64 (1));
  g_auto(GVariantBuilder) dup = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  write_wire (dir, "hostile-unknown-type",
              g_variant_new ("(s@v)", "GSubprocess",
                             g_variant_new_variant (g_variant_new ("a{sv}", NULL))));
  write_wire (dir, "hostile-refused-type",
              g_variant_new ("(s@v)", "FuzzSecret",
                             g_variant_new_variant (g_variant_new ("a{sv}", NULL))));
  write_wire (dir, "hostile-out-of-range",
              g_variant_new_parsed ("('FuzzPoint', <{'x': <int64 5000>}>)"));
  write_wire (dir, "hostile-wrong-property-type",
              g_variant_new_parsed ("('FuzzCluster', <{'port': <'high'>}>)"));
  write_wire (dir, "hostile-read-only-property",
              g_variant_new_parsed ("('FuzzCluster', <{'summary': <@ms 'x'>}>)"));
  /* a manager proxy's token: rebuilt as a proxy, never connected here */
  write_wire (dir, "proxy-token",
              g_variant_new_parsed ("('MpProxy', <('list', 'unix:/nonexistent/listener', uint64 3, @ay [])>)"));
  write_wire (dir, "hostile-proxy-token-empty",
              g_variant_new_parsed ("('MpProxy', <('', '', uint64 0, @ay [])>)"));
  write_wire (dir, "hostile-bad-reducer-state",
              g_variant_new_parsed ("('FuzzHandle', <('relative', uint64 1)>)"));
  g_variant_builder_add (&dup, "{sv}", "k", g_variant_new_int64 (1));
  g_variant_builder_add (&dup, "{sv}", "k", g_variant_new_int64 (2));
  write_wire (dir, "hostile-duplicate-key", g_variant_builder_end (&dup));

  for (int i = 0; i < 40; i++)
    {
      GVariant *box = g_variant_new_variant (deep);
      GVariant *list = g_variant_new_array (NULL, &box, 1);

      g_variant_unref (deep);
      deep = g_variant_ref_sink (list);
    }
  write_wire (dir, "hostile-deep-list", deep);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 2)
    {
      g_printerr ("usage: %s DIRECTORY\n"
                  "Writes the seed corpus of fuzz-serialize into DIRECTORY.\n", argv[0]);
      return 2;
    }
  LLVMFuzzerInitialize (&argc, &argv);
  if (g_mkdir_with_parents (argv[1], 0755) < 0)
    g_error ("cannot create %s: %s", argv[1], g_strerror (errno));
  write_scalars (argv[1]);
  write_containers (argv[1]);
  write_objects (argv[1]);
  write_args (argv[1]);
  write_hostile (argv[1]);
  return 0;
}

#endif /* FUZZ_MAKE_CORPUS */
