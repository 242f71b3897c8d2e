/* mp-gvalue.c — GValue helpers: boxed lists and dicts of values, values
 * on the heap, and the kinds a value falls into for comparing and
 * printing it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

/**
 * mp_gvalue_list_get_type:
 *
 * The boxed type of a list of values: a #GPtrArray of `GValue *` whose
 * free function is mp_gvalue_free(). Copying the boxed value takes a
 * reference; it does not copy the elements.
 *
 * Returns: the #GType
 *
 * Since: 0.1
 */
GType
mp_gvalue_list_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpGValueList"),
                                                 (GBoxedCopyFunc) g_ptr_array_ref,
                                                 (GBoxedFreeFunc) g_ptr_array_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/**
 * mp_gvalue_dict_get_type:
 *
 * The boxed type of a string-keyed dict of values: a #GHashTable of
 * `char *` to `GValue *` (see mp_gvalue_dict_new()). Copying the boxed
 * value takes a reference.
 *
 * Returns: the #GType
 *
 * Since: 0.1
 */
GType
mp_gvalue_dict_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpGValueDict"),
                                                 (GBoxedCopyFunc) g_hash_table_ref,
                                                 (GBoxedFreeFunc) g_hash_table_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/**
 * mp_gvalue_new:
 * @type: a value type, or %G_TYPE_INVALID for None
 *
 * Returns: (transfer full): a newly allocated #GValue initialised to @type
 *   (left unset for %G_TYPE_INVALID); free with mp_gvalue_free().
 *
 * Since: 0.1
 */
GValue *
mp_gvalue_new (GType type)
{
  GValue *value;

  g_return_val_if_fail (type == G_TYPE_INVALID || G_TYPE_IS_VALUE_TYPE (type), NULL);

  value = g_new0 (GValue, 1);
  if (type != G_TYPE_INVALID)
    g_value_init (value, type);
  return value;
}

/**
 * mp_gvalue_copy:
 * @value: a #GValue, possibly unset (None)
 *
 * Copies @value with g_value_copy(): strings are duplicated, objects and
 * boxed containers get a new reference.
 *
 * Returns: (transfer full): the copy; free with mp_gvalue_free().
 *
 * Since: 0.1
 */
GValue *
mp_gvalue_copy (const GValue *value)
{
  GValue *copy;

  g_return_val_if_fail (value != NULL, NULL);

  copy = g_new0 (GValue, 1);
  if (G_IS_VALUE (value))
    {
      g_value_init (copy, G_VALUE_TYPE (value));
      g_value_copy (value, copy);
    }
  return copy;
}

/**
 * mp_gvalue_free:
 * @value: (nullable): a #GValue from mp_gvalue_new() or mp_gvalue_copy()
 *
 * Unsets and frees @value.
 *
 * Since: 0.1
 */
void
mp_gvalue_free (GValue *value)
{
  if (value == NULL)
    return;
  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

/**
 * mp_gvalue_list_new:
 *
 * Returns: (transfer full) (element-type GValue): an empty list for
 *   %MP_TYPE_GVALUE_LIST values; elements are `GValue *` owned by the
 *   list.
 *
 * Since: 0.1
 */
GPtrArray *
mp_gvalue_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) mp_gvalue_free);
}

/**
 * mp_gvalue_dict_new:
 *
 * Returns: (transfer full): an empty dict for %MP_TYPE_GVALUE_DICT values;
 *   keys are g_strdup()ed strings, values `GValue *`, both owned.
 *
 * Since: 0.1
 */
GHashTable *
mp_gvalue_dict_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) mp_gvalue_free);
}

/* Sorts a value into the kinds that equality knows; NULL strings, objects
 * and boxed values count as None, as they travel as None. */
MpUnpacked
mp_gvalue_unpack (const GValue *value)
{
  MpUnpacked u = { MP_GVALUE_KIND_NONE, 0, 0, 0.0, NULL };
  GType type;

  if (value == NULL || !G_IS_VALUE (value))
    return u;
  type = G_VALUE_TYPE (value);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      u.kind = MP_GVALUE_KIND_BOOL;
      u.i = g_value_get_boolean (value) ? 1 : 0;
      return u;
    case G_TYPE_CHAR:    u.kind = MP_GVALUE_KIND_SIGNED; u.i = g_value_get_schar (value); return u;
    case G_TYPE_INT:     u.kind = MP_GVALUE_KIND_SIGNED; u.i = g_value_get_int (value); return u;
    case G_TYPE_LONG:    u.kind = MP_GVALUE_KIND_SIGNED; u.i = g_value_get_long (value); return u;
    case G_TYPE_INT64:   u.kind = MP_GVALUE_KIND_SIGNED; u.i = g_value_get_int64 (value); return u;
    case G_TYPE_ENUM:    u.kind = MP_GVALUE_KIND_SIGNED; u.i = g_value_get_enum (value); return u;
    case G_TYPE_UCHAR:   u.kind = MP_GVALUE_KIND_UNSIGNED; u.u = g_value_get_uchar (value); return u;
    case G_TYPE_UINT:    u.kind = MP_GVALUE_KIND_UNSIGNED; u.u = g_value_get_uint (value); return u;
    case G_TYPE_ULONG:   u.kind = MP_GVALUE_KIND_UNSIGNED; u.u = g_value_get_ulong (value); return u;
    case G_TYPE_UINT64:  u.kind = MP_GVALUE_KIND_UNSIGNED; u.u = g_value_get_uint64 (value); return u;
    case G_TYPE_FLAGS:   u.kind = MP_GVALUE_KIND_UNSIGNED; u.u = g_value_get_flags (value); return u;
    case G_TYPE_FLOAT:   u.kind = MP_GVALUE_KIND_DOUBLE; u.d = g_value_get_float (value); return u;
    case G_TYPE_DOUBLE:  u.kind = MP_GVALUE_KIND_DOUBLE; u.d = g_value_get_double (value); return u;
    case G_TYPE_STRING:
      u.p = g_value_get_string (value);
      u.kind = u.p != NULL ? MP_GVALUE_KIND_STRING : MP_GVALUE_KIND_NONE;
      return u;
    case G_TYPE_VARIANT:
      u.p = g_value_get_variant (value);
      u.kind = u.p != NULL ? MP_GVALUE_KIND_VARIANT : MP_GVALUE_KIND_NONE;
      return u;
    case G_TYPE_BOXED:
      u.p = g_value_get_boxed (value);
      if (u.p == NULL)
        u.kind = MP_GVALUE_KIND_NONE;
      else if (type == G_TYPE_BYTES)
        u.kind = MP_GVALUE_KIND_BYTES;
      else if (type == MP_TYPE_GVALUE_LIST)
        u.kind = MP_GVALUE_KIND_LIST;
      else if (type == G_TYPE_STRV)
        u.kind = MP_GVALUE_KIND_STRV;
      else if (type == MP_TYPE_GVALUE_DICT)
        u.kind = MP_GVALUE_KIND_DICT;
      else
        u.kind = MP_GVALUE_KIND_OTHER;
      return u;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      u.p = g_value_peek_pointer (value);
      u.kind = u.p == NULL ? MP_GVALUE_KIND_NONE : G_IS_OBJECT (u.p) ? MP_GVALUE_KIND_OBJECT : MP_GVALUE_KIND_OTHER;
      return u;
    default:
      u.kind = MP_GVALUE_KIND_OTHER;
      u.p = g_value_peek_pointer (value);
      return u;
    }
}
