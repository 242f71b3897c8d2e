/* mp-deserialize.c — wire values back into live values (pickle.loads())
 *
 * Decoding treats its input as hostile: it checks normal form, types and
 * nesting depth, and instantiates only types registered in this process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

/* the inner value of a child "v": never fails on a checked container */
GVariant *
mp_wire_child_unboxed (GVariant *container,
               gsize     index)
{
  g_autoptr(GVariant) box = g_variant_get_child_value (container, index);

  return g_variant_get_variant (box);
}

static gboolean
decode_list (GVariant *wire,
             GValue   *out,
             GString  *path,
             guint     depth,
             GError  **error)
{
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  gsize n = g_variant_n_children (wire);
  gsize path_len = path->len;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = mp_wire_child_unboxed (wire, i);
      GValue *element = mp_gvalue_new (G_TYPE_INVALID);
      gboolean ok;

      g_ptr_array_add (list, element);
      g_string_append_printf (path, "[%" G_GSIZE_FORMAT "]", i);
      ok = mp_deserialize_decode (child, element, path, depth + MP_LIST_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (!ok)
        return FALSE;
    }
  g_value_init (out, MP_TYPE_GVALUE_LIST);
  g_value_take_boxed (out, g_steal_pointer (&list));
  return TRUE;
}

static gboolean
decode_dict (GVariant *wire,
             GValue   *out,
             GString  *path,
             guint     depth,
             GError  **error)
{
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  gsize n = g_variant_n_children (wire);
  gsize path_len = path->len;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (wire, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) child = mp_wire_child_unboxed (entry, 1);
      const char *name = g_variant_get_string (key, NULL);
      GValue *element;
      gboolean ok;

      mp_serialize_path_append_key (path, name);
      if (g_hash_table_contains (dict, name))
        {
          mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path, "the key appears twice in one dict");
          g_string_truncate (path, path_len);
          return FALSE;
        }
      element = mp_gvalue_new (G_TYPE_INVALID);
      g_hash_table_insert (dict, g_strdup (name), element);
      ok = mp_deserialize_decode (child, element, path, depth + MP_DICT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (!ok)
        return FALSE;
    }
  g_value_init (out, MP_TYPE_GVALUE_DICT);
  g_value_take_boxed (out, g_steal_pointer (&dict));
  return TRUE;
}

/* What a property of @type looks like on the wire; NULL if no wire form. */
const char *
mp_wire_type_for (GType     type,
               gboolean *none_allowed)
{
  *none_allowed = FALSE;
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return "b";
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
      return "x";
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
      return "t";
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      return "d";
    case G_TYPE_STRING:
      return "ms";
    case G_TYPE_VARIANT:
      *none_allowed = TRUE;
      return MP_WIRE_VARIANT;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      *none_allowed = TRUE;
      return MP_WIRE_OBJECT;
    case G_TYPE_BOXED:
      *none_allowed = TRUE;
      if (type == G_TYPE_BYTES)
        return "ay";
      if (type == MP_TYPE_GVALUE_LIST || type == G_TYPE_STRV)
        return MP_WIRE_LIST;
      if (type == MP_TYPE_GVALUE_DICT)
        return MP_WIRE_DICT;
      return NULL;
    default:
      return NULL;
    }
}

/* Moves a decoded @from into @to, initialised to the property's type.
 * Returns FALSE when the value does not fit (range, object type). */
static gboolean
coerce_value (GValue *from,
              GValue *to)
{
  GType type = G_VALUE_TYPE (to);

  if (!G_IS_VALUE (from))
    return TRUE;   /* None: a NULL object, boxed or variant */

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (to, g_value_get_boolean (from));
      return TRUE;
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
      {
        gint64 v = g_value_get_int64 (from);

        switch (G_TYPE_FUNDAMENTAL (type))
          {
          case G_TYPE_CHAR:
            if (v < G_MININT8 || v > G_MAXINT8)
              return FALSE;
            g_value_set_schar (to, (gint8) v);
            return TRUE;
          case G_TYPE_INT:
            if (v < G_MININT || v > G_MAXINT)
              return FALSE;
            g_value_set_int (to, (int) v);
            return TRUE;
          case G_TYPE_ENUM:
            if (v < G_MININT || v > G_MAXINT)
              return FALSE;
            g_value_set_enum (to, (int) v);
            return TRUE;
          case G_TYPE_LONG:
            if (v < G_MINLONG || v > G_MAXLONG)
              return FALSE;
            g_value_set_long (to, (long) v);
            return TRUE;
          default:
            g_value_set_int64 (to, v);
            return TRUE;
          }
      }
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
      {
        guint64 v = g_value_get_uint64 (from);

        switch (G_TYPE_FUNDAMENTAL (type))
          {
          case G_TYPE_UCHAR:
            if (v > G_MAXUINT8)
              return FALSE;
            g_value_set_uchar (to, (guchar) v);
            return TRUE;
          case G_TYPE_UINT:
            if (v > G_MAXUINT)
              return FALSE;
            g_value_set_uint (to, (guint) v);
            return TRUE;
          case G_TYPE_FLAGS:
            if (v > G_MAXUINT)
              return FALSE;
            g_value_set_flags (to, (guint) v);
            return TRUE;
          case G_TYPE_ULONG:
            if (v > G_MAXULONG)
              return FALSE;
            g_value_set_ulong (to, (gulong) v);
            return TRUE;
          default:
            g_value_set_uint64 (to, v);
            return TRUE;
          }
      }
    case G_TYPE_FLOAT:
      {
        double v = g_value_get_double (from);

        if (isfinite (v) && (v > G_MAXFLOAT || v < -G_MAXFLOAT))
          return FALSE;
        g_value_set_float (to, (float) v);
        return TRUE;
      }
    case G_TYPE_DOUBLE:
      g_value_set_double (to, g_value_get_double (from));
      return TRUE;
    case G_TYPE_STRING:
      g_value_set_string (to, g_value_get_string (from));
      return TRUE;
    case G_TYPE_VARIANT:
      g_value_set_variant (to, g_value_get_variant (from));
      return TRUE;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      {
        GObject *object = g_value_get_object (from);

        if (!g_type_is_a (G_OBJECT_TYPE (object), type))
          return FALSE;
        g_value_set_object (to, object);
        return TRUE;
      }
    case G_TYPE_BOXED:
      if (type == G_TYPE_STRV)
        {
          GPtrArray *list = g_value_get_boxed (from);
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

          for (guint i = 0; i < list->len; i++)
            {
              const GValue *element = list->pdata[i];
              const char *text;

              if (!G_VALUE_HOLDS_STRING (element))
                return FALSE;
              text = g_value_get_string (element);
              if (text == NULL)
                return FALSE;
              g_strv_builder_add (builder, text);
            }
          g_value_take_boxed (to, g_strv_builder_end (builder));
          return TRUE;
        }
      g_value_set_boxed (to, g_value_get_boxed (from));
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
decode_property (GParamSpec *pspec,
                 GVariant   *wire,
                 GValue     *out,
                 GString    *path,
                 guint       depth,
                 GError    **error)
{
  g_auto(GValue) decoded = G_VALUE_INIT;
  const char *got = g_variant_get_type_string (wire);
  gboolean none_allowed;
  const char *expected = mp_wire_type_for (pspec->value_type, &none_allowed);

  if (expected == NULL)
    {
      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "a property of type %s cannot be received",
                    g_type_name (pspec->value_type));
      return FALSE;
    }
  if (strcmp (got, expected) != 0 && !(none_allowed && strcmp (got, MP_WIRE_NONE) == 0))
    {
      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "expected wire type '%s' for a %s property, got '%s'",
                    expected, g_type_name (pspec->value_type), got);
      return FALSE;
    }
  if (!mp_deserialize_decode (wire, &decoded, path, depth, error))
    return FALSE;

  g_value_init (out, pspec->value_type);
  if (!coerce_value (&decoded, out))
    {
      g_autofree char *shown = mp_gvalue_to_string (&decoded);

      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path, "%s does not fit a %s property",
                    shown, g_type_name (pspec->value_type));
      return FALSE;
    }
  if (g_param_value_validate (pspec, out))
    {
      g_autofree char *shown = mp_gvalue_to_string (&decoded);

      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "%s is not a valid value for this property", shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
decode_properties (const MpTypeEntry *entry,
                   GVariant        *state,
                   GValue          *out,
                   GString         *path,
                   guint            depth,
                   GError         **error)
{
  const char *type_name = g_type_name (entry->type);
  GObjectClass *klass;
  GParamSpec **pspecs;
  const char **names;
  GValue *values;
  gsize n, n_set = 0;
  gsize path_len = path->len;
  gboolean ok = TRUE;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE_VARDICT))
    {
      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "the state of a %s must be 'a{sv}', got '%s'",
                    type_name, g_variant_get_type_string (state));
      return FALSE;
    }

  klass = g_type_class_ref (entry->type);
  n = g_variant_n_children (state);
  pspecs = g_new0 (GParamSpec *, n);
  names = g_new0 (const char *, n);
  values = g_new0 (GValue, n);

  for (gsize i = 0; i < n && ok; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (state, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (item, 0);
      g_autoptr(GVariant) wire = mp_wire_child_unboxed (item, 1);
      const char *name = g_variant_get_string (key, NULL);
      GParamSpec *pspec = g_object_class_find_property (klass, name);

      mp_serialize_path_append_property (path, type_name, name);
      if (pspec == NULL || !mp_registry_property_travels (pspec))
        {
          mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                        "%s has no readable and writable property of that name",
                        type_name);
          ok = FALSE;
        }
      for (gsize j = 0; ok && j < n_set; j++)
        if (pspecs[j] == pspec)
          {
            mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path, "the property is given twice");
            ok = FALSE;
          }
      if (ok)
        ok = decode_property (pspec, wire, &values[n_set], path,
                              depth + MP_OBJECT_CHILD_DEPTH, error);
      if (ok)
        {
          pspecs[n_set] = pspec;
          names[n_set] = pspec->name;
          n_set++;
        }
      g_string_truncate (path, path_len);
    }

  if (ok)
    {
      /* construct-only properties included: they must go in at creation */
      GObject *object = g_object_new_with_properties (entry->type, (guint) n_set,
                                                      names, values);

      g_value_init (out, entry->type);
      g_value_take_object (out, object);
    }

  for (gsize i = 0; i < n; i++)
    if (G_IS_VALUE (&values[i]))
      g_value_unset (&values[i]);
  g_free (values);
  g_free (names);
  g_free (pspecs);
  g_type_class_unref (klass);
  return ok;
}

static gboolean
decode_object (GVariant *wire,
               GValue   *out,
               GString  *path,
               guint     depth,
               GError  **error)
{
  g_autoptr(GVariant) name_v = g_variant_get_child_value (wire, 0);
  g_autoptr(GVariant) state = mp_wire_child_unboxed (wire, 1);
  const char *name = g_variant_get_string (name_v, NULL);
  const MpTypeEntry *entry = mp_registry_lookup_name (name);
  GError *local = NULL;
  GObject *object;

  /* the receiver's registry decides: a type name alone never makes an object */
  if (entry == NULL)
    {
      g_autoptr(GString) shown = g_string_new (NULL);

      mp_repr_append_string (shown, name);
      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "type %s is not registered in this process: call mp_serialize_register_type() for it before mp_main_guard()",
                    shown->str);
      return FALSE;
    }

  switch (entry->kind)
    {
    case MP_TYPE_ENTRY_PROPERTIES:
      return decode_properties (entry, state, out, path, depth, error);

    case MP_TYPE_ENTRY_REDUCER:
      if (entry->rebuild == NULL)
        break;
      object = entry->rebuild (state, entry->user_data, &local);
      if (object == NULL)
        {
          if (local == NULL)
            local = g_error_new (MP_ERROR, MP_ERROR_PROTOCOL,
                                 "the rebuild function of %s failed without saying why", name);
          mp_serialize_propagate_error_at (error, local, path);
          return FALSE;
        }
      if (!g_type_is_a (G_OBJECT_TYPE (object), entry->type))
        {
          mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                        "the rebuild function of %s returned a %s",
                        name, G_OBJECT_TYPE_NAME (object));
          g_object_unref (object);
          return FALSE;
        }
      g_value_init (out, G_OBJECT_TYPE (object));
      g_value_take_object (out, object);
      return TRUE;

    case MP_TYPE_ENTRY_REFUSAL:
    default:
      break;
    }

  mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                "%s may never cross a process boundary, yet one was received", name);
  return FALSE;
}

/* @wire is the inner value (no "v" box); @out is unset and stays unset on
 * failure or for None. @path may be NULL only for a boolean or a number,
 * which never fail. */
gboolean
mp_deserialize_decode (GVariant  *wire,
              GValue    *out,
              GString   *path,
              guint      depth,
              GError   **error)
{
  const char *type = g_variant_get_type_string (wire);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "the value is nested deeper than %d levels", MP_SERIALIZE_MAX_DEPTH);
      return FALSE;
    }

  if (strcmp (type, MP_WIRE_NONE) == 0)
    return TRUE;
  if (strcmp (type, "b") == 0)
    {
      g_value_init (out, G_TYPE_BOOLEAN);
      g_value_set_boolean (out, g_variant_get_boolean (wire));
      return TRUE;
    }
  if (strcmp (type, "x") == 0)
    {
      g_value_init (out, G_TYPE_INT64);
      g_value_set_int64 (out, g_variant_get_int64 (wire));
      return TRUE;
    }
  if (strcmp (type, "t") == 0)
    {
      g_value_init (out, G_TYPE_UINT64);
      g_value_set_uint64 (out, g_variant_get_uint64 (wire));
      return TRUE;
    }
  if (strcmp (type, "d") == 0)
    {
      g_value_init (out, G_TYPE_DOUBLE);
      g_value_set_double (out, g_variant_get_double (wire));
      return TRUE;
    }
  if (strcmp (type, "ms") == 0)
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (wire);

      g_value_init (out, G_TYPE_STRING);
      g_value_set_string (out, text != NULL ? g_variant_get_string (text, NULL) : NULL);
      return TRUE;
    }
  if (strcmp (type, "ay") == 0)
    {
      g_value_init (out, G_TYPE_BYTES);
      g_value_take_boxed (out, g_variant_get_data_as_bytes (wire));
      return TRUE;
    }
  if (strcmp (type, MP_WIRE_VARIANT) == 0)
    {
      g_autoptr(GVariant) inner = mp_wire_child_unboxed (wire, 0);

      g_value_init (out, G_TYPE_VARIANT);
      g_value_set_variant (out, inner);
      return TRUE;
    }
  if (strcmp (type, MP_WIRE_LIST) == 0)
    return decode_list (wire, out, path, depth, error);
  if (strcmp (type, MP_WIRE_DICT) == 0)
    return decode_dict (wire, out, path, depth, error);
  if (strcmp (type, MP_WIRE_OBJECT) == 0)
    return decode_object (wire, out, path, depth, error);

  mp_serialize_set_error_at (error, MP_ERROR_PROTOCOL, path,
                "unexpected wire type '%s'", type);
  return FALSE;
}

/**
 * mp_deserialize_value:
 * @wire: a "v" #GVariant from mp_serialize_value() (or its unboxed inner
 *   value); it may come from an untrusted peer
 * @out: (out caller-allocates): an unset (zero-filled) #GValue
 * @error: return location for a #GError
 *
 * Decodes @wire into a fresh value. Registered objects are created anew
 * from the receiving process's registry. Anything malformed (not in normal
 * form, an unexpected type, an unknown type name, a property of the wrong
 * type, nesting too deep) fails with %MP_ERROR_PROTOCOL naming the path.
 *
 * Returns: %TRUE with @out set (left unset for None), or %FALSE.
 *
 * Since: 0.1
 */
gboolean
mp_deserialize_value (GVariant  *wire,
                      GValue    *out,
                      GError   **error)
{
  g_autoptr(GString) path = NULL;
  g_autoptr(GVariant) inner = NULL;

  g_return_val_if_fail (wire != NULL, FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_variant_is_normal_form (wire))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received data is not a well-formed serialized value (not in normal form)");
      return FALSE;
    }
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT))
    inner = g_variant_get_variant (wire);
  else
    inner = g_variant_ref (wire);
  switch (g_variant_classify (inner))
    {
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_INT64:
    case G_VARIANT_CLASS_UINT64:
    case G_VARIANT_CLASS_DOUBLE:
      /* a number cannot fail: no field path to build (the common case:
       * every manager call that returns one) */
      return mp_deserialize_decode (inner, out, NULL, 1, error);
    default:
      break;
    }
  path = g_string_new (NULL);
  return mp_deserialize_decode (inner, out, path, 1, error);
}

/**
 * mp_deserialize_from_bytes:
 * @bytes: the bytes of a "v" #GVariant, e.g. from mp_serialize_to_bytes()
 *   or a socket
 * @out: (out caller-allocates): an unset (zero-filled) #GValue
 * @error: return location for a #GError
 *
 * Loads untrusted bytes and decodes them as mp_deserialize_value() does.
 *
 * Returns: %TRUE with @out set, or %FALSE with %MP_ERROR_PROTOCOL.
 *
 * Since: 0.1
 */
gboolean
mp_deserialize_from_bytes (GBytes  *bytes,
                           GValue  *out,
                           GError **error)
{
  g_autoptr(GVariant) wire = NULL;

  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, bytes, FALSE));
  return mp_deserialize_value (wire, out, error);
}
