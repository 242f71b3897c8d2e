/* mp-serialize.c — live values into their wire form (mpshare's "pickle")
 *
 * The counterpart of CPython's reduction.py + pickle.dumps(): live
 * GValues become GVariants (the wire form is documented in
 * mp-serialize.h). What cannot travel fails with an error that names
 * the field path to it; the helpers for that path live here too, as
 * decoding reports its errors the same way.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gfiledescriptorbased.h>
#include <gio/gunixfdlist.h>

#include "mpshare.h"
#include "mp-serialize-private.h"
#include "mp-trace-private.h"

/* "path: what happened", or just "what happened" at the top level */
void
mp_serialize_set_error_at (GError    **error,
              MpError     code,
              GString    *path,
              const char *format,
              ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  /* decoding reports malformed input (PROTOCOL); the rest is a refusal */
  if (code != MP_ERROR_PROTOCOL)
    MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)", what));
  if (path->len > 0)
    mp_set_error (error, code, "%s: %s", path->str, what);
  else
    mp_set_error (error, code, "%s", what);
}

/* a callback's error keeps its code, gains the field path */
void
mp_serialize_propagate_error_at (GError  **error,
                    GError   *local,
                    GString  *path)
{
  if (local->domain == MP_ERROR && local->code != MP_ERROR_PROTOCOL)
    MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)", local->message));
  if (path->len > 0)
    g_propagate_prefixed_error (error, local, "%s: ", path->str);
  else
    g_propagate_error (error, local);
}

void
mp_serialize_path_append_property (GString    *path,
                      const char *type_name,
                      const char *property)
{
  if (path->len == 0)
    g_string_append_printf (path, "%s.%s", type_name, property);
  else
    g_string_append_printf (path, ".%s", property);
}

void
mp_serialize_path_append_key (GString    *path,
                 const char *key)
{
  g_string_append_c (path, '[');
  mp_repr_append_string (path, key);
  g_string_append_c (path, ']');
}

/* The library types that own an OS handle (socket, fd, pipe, watch): they
 * mean nothing in another process. Ordered so the most telling name comes
 * first for classes that are several at once. */
static GType
live_handle_base (GType type)
{
  const GType handle_types[] = {
    G_TYPE_SOCKET_CLIENT,
    G_TYPE_SOCKET_LISTENER,
    G_TYPE_SOCKET_CONNECTION,
    G_TYPE_SOCKET,
    G_TYPE_IO_STREAM,
    G_TYPE_INPUT_STREAM,
    G_TYPE_OUTPUT_STREAM,
    G_TYPE_SUBPROCESS,
    G_TYPE_DBUS_CONNECTION,
    G_TYPE_FILE_MONITOR,
    G_TYPE_UNIX_FD_LIST,
    G_TYPE_FILE_DESCRIPTOR_BASED,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (handle_types); i++)
    if (g_type_is_a (type, handle_types[i]))
      return handle_types[i];
  return G_TYPE_INVALID;
}

static GVariant *
wire_none (void)
{
  return g_variant_new_tuple (NULL, 0);
}

static GVariant *
encode_string (const char *text,
               GString    *path,
               GError    **error)
{
  if (text == NULL)
    return g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL);
  if (!g_utf8_validate (text, -1, NULL))
    {
      mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "a string that is not valid UTF-8 cannot be serialized as text; store it as bytes (G_TYPE_BYTES)");
      return NULL;
    }
  return g_variant_new_maybe (G_VARIANT_TYPE_STRING, g_variant_new_string (text));
}

static GVariant *
encode_list (GPtrArray *list,
             GString   *path,
             guint      depth,
             GError   **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  gsize path_len = path->len;

  for (guint i = 0; i < list->len; i++)
    {
      GVariant *child;

      g_string_append_printf (path, "[%u]", i);
      child = mp_serialize_encode (list->pdata[i], path, depth + MP_LIST_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
encode_strv (char   **strv,
             GString *path,
             guint    depth,
             GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  gsize path_len = path->len;

  if (depth + MP_LIST_CHILD_DEPTH > MP_SERIALIZE_MAX_DEPTH && strv[0] != NULL)
    return mp_serialize_encode (NULL, path, depth + MP_LIST_CHILD_DEPTH, error);
  for (guint i = 0; strv[i] != NULL; i++)
    {
      GVariant *child;

      g_string_append_printf (path, "[%u]", i);
      child = encode_string (strv[i], path, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_builder_end (&builder);
}

int
mp_serialize_compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static GVariant *
encode_dict (GHashTable *dict,
             GString    *path,
             guint       depth,
             GError    **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  g_autofree const char **keys = NULL;
  guint n_keys = 0;
  gsize path_len = path->len;

  /* sorted, so equal dicts give equal bytes */
  keys = (const char **) g_hash_table_get_keys_as_array (dict, &n_keys);
  qsort (keys, n_keys, sizeof (char *), mp_serialize_compare_strings);

  for (guint i = 0; i < n_keys; i++)
    {
      GVariant *child;

      if (!g_utf8_validate (keys[i], -1, NULL))
        {
          mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "a dict key is not valid UTF-8; keys must be text");
          return NULL;
        }
      mp_serialize_path_append_key (path, keys[i]);
      child = mp_serialize_encode (g_hash_table_lookup (dict, keys[i]), path,
                            depth + MP_DICT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add (&builder, "{sv}", keys[i], child);
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
encode_properties (GObject  *object,
                   GString  *path,
                   guint     depth,
                   GError  **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  g_autofree GParamSpec **pspecs = NULL;
  const char *type_name = G_OBJECT_TYPE_NAME (object);
  guint n_pspecs = 0;
  gsize path_len = path->len;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      gboolean none_allowed;
      GVariant *child;

      if (!mp_registry_property_travels (pspecs[i]))
        continue;
      mp_serialize_path_append_property (path, type_name, pspecs[i]->name);
      /* refused even while it holds NULL: the receiver could not take it
       * back, and the next sender's non-NULL value could not travel */
      if (mp_wire_type_for (pspecs[i]->value_type, &none_allowed) == NULL &&
          G_TYPE_FUNDAMENTAL (pspecs[i]->value_type) != G_TYPE_POINTER)
        {
          mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "a property of type %s cannot be serialized",
                        g_type_name (pspecs[i]->value_type));
          g_string_truncate (path, path_len);
          return NULL;
        }
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (object, pspecs[i]->name, &value);
      child = mp_serialize_encode (&value, path, depth + MP_OBJECT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add (&builder, "{sv}", pspecs[i]->name, child);
    }
  return g_variant_new ("(s@v)", type_name,
                        g_variant_new_variant (g_variant_builder_end (&builder)));
}

static GVariant *
encode_reduced (const MpTypeEntry *entry,
                GObject         *object,
                GString         *path,
                GError         **error)
{
  const char *type_name = G_OBJECT_TYPE_NAME (object);
  GError *local = NULL;
  GVariant *state;
  GVariant *wire;

  if (entry->transfer == MP_TRANSFER_NEVER)
    {
      mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s objects may never cross a process boundary", type_name);
      return NULL;
    }
  if (entry->transfer == MP_TRANSFER_INHERIT_ONLY && !mp_spawning_is_active ())
    {
      MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)",
                                            "travels only by inheritance, while a process is being started"));
      if (path->len > 0)
        mp_set_error (error, MP_ERROR_INHERITANCE_ONLY,
                      "%s passed as %s while no process is being started",
                      type_name, path->str);
      else
        mp_set_error (error, MP_ERROR_INHERITANCE_ONLY,
                      "%s serialized while no process is being started",
                      type_name);
      return NULL;
    }

  state = entry->reduce (object, entry->user_data, &local);
  if (state == NULL)
    {
      if (local == NULL)
        local = g_error_new (MP_ERROR, MP_ERROR_UNSERIALIZABLE,
                             "the reducer of %s failed without saying why", type_name);
      mp_serialize_propagate_error_at (error, local, path);
      return NULL;
    }
  g_variant_take_ref (state);
  /* the registered type's name: its rebuild function makes the object */
  wire = g_variant_new ("(s@v)", g_type_name (entry->type), g_variant_new_variant (state));
  g_variant_unref (state);
  return wire;
}

static GVariant *
encode_object (GObject  *object,
               GString  *path,
               guint     depth,
               GError  **error)
{
  GType type;
  GType handle;
  const MpTypeEntry *entry;

  if (object == NULL)
    return wire_none ();

  type = G_OBJECT_TYPE (object);
  entry = mp_registry_lookup_object (type);
  if (entry != NULL)
    {
      switch (entry->kind)
        {
        case MP_TYPE_ENTRY_PROPERTIES:
          return encode_properties (object, path, depth, error);
        case MP_TYPE_ENTRY_REDUCER:
          return encode_reduced (entry, object, path, error);
        case MP_TYPE_ENTRY_REFUSAL:
          mp_serialize_set_error_at (error, entry->code, path, "%s cannot be serialized: %s",
                        g_type_name (type), entry->reason);
          return NULL;
        default:
          g_assert_not_reached ();
        }
    }

  handle = live_handle_base (type);
  if (handle == type)
    {
      mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s holds a live OS handle", g_type_name (type));
      return NULL;
    }
  if (handle != G_TYPE_INVALID)
    {
      mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s holds a live OS handle (it is a %s)",
                    g_type_name (type), g_type_name (handle));
      return NULL;
    }

  mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "%s is not registered: call mp_serialize_register_type() for it before mp_main_guard()",
                g_type_name (type));
  return NULL;
}

static GVariant *
encode_boxed (const GValue *value,
              GString      *path,
              guint         depth,
              GError      **error)
{
  GType type = G_VALUE_TYPE (value);
  gpointer boxed = g_value_get_boxed (value);

  if (boxed == NULL)
    return wire_none ();
  if (type == G_TYPE_BYTES)
    return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, boxed, TRUE);
  if (type == MP_TYPE_GVALUE_LIST)
    return encode_list (boxed, path, depth, error);
  if (type == MP_TYPE_GVALUE_DICT)
    return encode_dict (boxed, path, depth, error);
  if (type == G_TYPE_STRV)
    return encode_strv (boxed, path, depth, error);

  mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "values of type %s cannot be serialized (register a reducer for an object type, or use a list, dict, bytes or GVariant)",
                g_type_name (type));
  return NULL;
}

/* Returns a floating GVariant: the value's wire form without its "v" box. */
GVariant *
mp_serialize_encode (const GValue *value,
              GString      *path,
              guint         depth,
              GError      **error)
{
  GType type;

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "nested deeper than %d levels (is there a reference cycle?)",
                    MP_SERIALIZE_MAX_DEPTH);
      return NULL;
    }
  if (value == NULL || !G_IS_VALUE (value))
    return wire_none ();

  type = G_VALUE_TYPE (value);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return g_variant_new_boolean (g_value_get_boolean (value));
    case G_TYPE_CHAR:
      return g_variant_new_int64 (g_value_get_schar (value));
    case G_TYPE_INT:
      return g_variant_new_int64 (g_value_get_int (value));
    case G_TYPE_LONG:
      return g_variant_new_int64 (g_value_get_long (value));
    case G_TYPE_INT64:
      return g_variant_new_int64 (g_value_get_int64 (value));
    case G_TYPE_ENUM:
      return g_variant_new_int64 (g_value_get_enum (value));
    case G_TYPE_UCHAR:
      return g_variant_new_uint64 (g_value_get_uchar (value));
    case G_TYPE_UINT:
      return g_variant_new_uint64 (g_value_get_uint (value));
    case G_TYPE_ULONG:
      return g_variant_new_uint64 (g_value_get_ulong (value));
    case G_TYPE_UINT64:
      return g_variant_new_uint64 (g_value_get_uint64 (value));
    case G_TYPE_FLAGS:
      return g_variant_new_uint64 (g_value_get_flags (value));
    case G_TYPE_FLOAT:
      return g_variant_new_double (g_value_get_float (value));
    case G_TYPE_DOUBLE:
      return g_variant_new_double (g_value_get_double (value));
    case G_TYPE_STRING:
      return encode_string (g_value_get_string (value), path, error);
    case G_TYPE_VARIANT:
      {
        GVariant *v = g_value_get_variant (value);

        if (v == NULL)
          return wire_none ();
        return g_variant_new ("(v)", v);
      }
    case G_TYPE_BOXED:
      return encode_boxed (value, path, depth, error);
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      {
        gpointer object = g_value_peek_pointer (value);

        if (object == NULL || G_IS_OBJECT (object))
          return encode_object (object, path, depth, error);
      }
      break;
    case G_TYPE_POINTER:
      if (type == G_TYPE_POINTER)
        {
          mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "gpointer is a raw pointer: an address in this process means nothing in another");
          return NULL;
        }
      break;
    default:
      break;
    }

  mp_serialize_set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "values of type %s cannot be serialized", g_type_name (type));
  return NULL;
}

/* None, a boolean or a number: mp_serialize_encode() cannot fail on it and
 * never looks at the field path */
static gboolean
is_plain (const GValue *value)
{
  if (!G_IS_VALUE (value))
    return TRUE;
  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value)))
    {
    case G_TYPE_BOOLEAN:
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * mp_serialize_value:
 * @value: a #GValue, possibly unset (None)
 * @error: return location for a #GError
 *
 * Encodes @value in its wire form (see the table in mp-serialize.h).
 * Fails, naming the field path, with %MP_ERROR_UNSERIALIZABLE for what
 * cannot travel (live OS handles, raw pointers, unregistered objects,
 * unsupported types), %MP_ERROR_INHERITANCE_ONLY for inherit-only objects
 * outside process start, or the code a refusal was registered with.
 *
 * Returns: (transfer full): a new "v" #GVariant (not floating), or %NULL.
 *
 * Since: 0.1
 */
GVariant *
mp_serialize_value (const GValue  *value,
                    GError       **error)
{
  g_autoptr(GString) path = NULL;
  GVariant *inner;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* the common case, on every manager call: nothing that can fail, so
   * no field path to build */
  if (is_plain (value))
    return g_variant_ref_sink (g_variant_new_variant (mp_serialize_encode (value, NULL, 1, NULL)));
  path = g_string_new (NULL);
  inner = mp_serialize_encode (value, path, 1, error);
  if (inner == NULL)
    return NULL;
  return g_variant_ref_sink (g_variant_new_variant (inner));
}

/**
 * mp_serialize_to_bytes:
 * @value: a #GValue, possibly unset (None)
 * @error: return location for a #GError
 *
 * Like mp_serialize_value(), as the bytes of the "v" GVariant.
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set.
 *
 * Since: 0.1
 */
GBytes *
mp_serialize_to_bytes (const GValue  *value,
                       GError       **error)
{
  g_autoptr(GVariant) wire = NULL;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  wire = mp_serialize_value (value, error);
  if (wire == NULL)
    return NULL;
  return g_variant_get_data_as_bytes (wire);
}
