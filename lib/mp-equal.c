/* mp-equal.c — Python's == on values, live (GValues) or serialized
 * (wire values): numbers by value, containers by content, registered
 * objects by their key properties
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

static gboolean
signed_equals_double (gint64 i,
                      double d)
{
  /* exact, as Python compares int and float: 2**53 + 1 != 2.0**53 */
  if (!isfinite (d) || d != floor (d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    return FALSE;
  return (gint64) d == i;
}

static gboolean
unsigned_equals_double (guint64 u,
                        double  d)
{
  if (!isfinite (d) || d != floor (d) || d < 0 || d >= 18446744073709551616.0)
    return FALSE;
  return (guint64) d == u;
}

/* numbers compare by value across kinds, as in Python (bool excluded) */
static gboolean
numbers_equal (const MpUnpacked *a,
               const MpUnpacked *b)
{
  if (a->kind == MP_GVALUE_KIND_SIGNED && b->kind == MP_GVALUE_KIND_SIGNED)
    return a->i == b->i;
  if (a->kind == MP_GVALUE_KIND_UNSIGNED && b->kind == MP_GVALUE_KIND_UNSIGNED)
    return a->u == b->u;
  if (a->kind == MP_GVALUE_KIND_DOUBLE && b->kind == MP_GVALUE_KIND_DOUBLE)
    return a->d == b->d;
  if (a->kind == MP_GVALUE_KIND_SIGNED && b->kind == MP_GVALUE_KIND_UNSIGNED)
    return a->i >= 0 && (guint64) a->i == b->u;
  if (a->kind == MP_GVALUE_KIND_UNSIGNED && b->kind == MP_GVALUE_KIND_SIGNED)
    return b->i >= 0 && (guint64) b->i == a->u;
  if (a->kind == MP_GVALUE_KIND_SIGNED)
    return signed_equals_double (a->i, b->d);
  if (b->kind == MP_GVALUE_KIND_SIGNED)
    return signed_equals_double (b->i, a->d);
  if (a->kind == MP_GVALUE_KIND_UNSIGNED)
    return unsigned_equals_double (a->u, b->d);
  return unsigned_equals_double (b->u, a->d);
}

static gboolean
is_number (MpGValueKind kind)
{
  return kind == MP_GVALUE_KIND_SIGNED || kind == MP_GVALUE_KIND_UNSIGNED || kind == MP_GVALUE_KIND_DOUBLE;
}

static gboolean values_equal (const GValue *a,
                              const GValue *b,
                              guint         depth);

/* a strv as a list of values, so it compares with a decoded list */
static GPtrArray *
strv_to_list (const char * const *strv)
{
  GPtrArray *list = mp_gvalue_list_new ();

  for (gsize i = 0; strv[i] != NULL; i++)
    {
      GValue *element = mp_gvalue_new (G_TYPE_STRING);

      g_value_set_string (element, strv[i]);
      g_ptr_array_add (list, element);
    }
  return list;
}

static gboolean
lists_equal (GPtrArray *a,
             GPtrArray *b,
             guint      depth)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!values_equal (a->pdata[i], b->pdata[i], depth + 1))
      return FALSE;
  return TRUE;
}

static gboolean
dicts_equal (GHashTable *a,
             GHashTable *b,
             guint       depth)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gpointer other;

      if (!g_hash_table_lookup_extended (b, key, NULL, &other))
        return FALSE;
      if (!values_equal (value, other, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
property_is_key (const MpTypeEntry *entry,
                 GParamSpec      *pspec)
{
  if (entry->key_properties == NULL)
    return TRUE;
  for (gsize i = 0; entry->key_properties[i] != NULL; i++)
    {
      GParamSpec *key = g_object_class_find_property (g_type_class_peek (entry->type),
                                                      entry->key_properties[i]);
      if (key == pspec)
        return TRUE;
    }
  return FALSE;
}

static gboolean
objects_equal (GObject *a,
               GObject *b,
               guint    depth)
{
  const MpTypeEntry *entry;

  if (a == b)
    return TRUE;
  if (G_OBJECT_TYPE (a) != G_OBJECT_TYPE (b))
    return FALSE;
  entry = mp_registry_lookup_object (G_OBJECT_TYPE (a));
  if (entry == NULL)
    return FALSE;   /* identity, as Python's default __eq__ */

  if (entry->kind == MP_TYPE_ENTRY_PROPERTIES)
    {
      g_autofree GParamSpec **pspecs = NULL;
      guint n_pspecs = 0;

      pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (a), &n_pspecs);
      for (guint i = 0; i < n_pspecs; i++)
        {
          g_auto(GValue) va = G_VALUE_INIT;
          g_auto(GValue) vb = G_VALUE_INIT;

          if (!mp_registry_property_travels (pspecs[i]) || !property_is_key (entry, pspecs[i]))
            continue;
          g_value_init (&va, pspecs[i]->value_type);
          g_value_init (&vb, pspecs[i]->value_type);
          g_object_get_property (a, pspecs[i]->name, &va);
          g_object_get_property (b, pspecs[i]->name, &vb);
          if (!values_equal (&va, &vb, depth + 1))
            return FALSE;
        }
      return TRUE;
    }

  if (entry->kind == MP_TYPE_ENTRY_REDUCER && entry->reduce != NULL)
    {
      /* equal when they reduce to the same state (e.g. the same shared
       * block); the transfer rule is about travelling, not comparing */
      g_autoptr(GVariant) sa = entry->reduce (a, entry->user_data, NULL);
      g_autoptr(GVariant) sb = entry->reduce (b, entry->user_data, NULL);

      if (sa != NULL)
        g_variant_take_ref (sa);
      if (sb != NULL)
        g_variant_take_ref (sb);
      return sa != NULL && sb != NULL && g_variant_equal (sa, sb);
    }
  return FALSE;
}

static gboolean
values_equal (const GValue *a,
              const GValue *b,
              guint         depth)
{
  MpUnpacked ua = mp_gvalue_unpack (a);
  MpUnpacked ub = mp_gvalue_unpack (b);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    return FALSE;

  if (is_number (ua.kind) && is_number (ub.kind))
    return numbers_equal (&ua, &ub);

  /* a strv and a list of strings are the same thing on the wire */
  if ((ua.kind == MP_GVALUE_KIND_STRV) != (ub.kind == MP_GVALUE_KIND_STRV) &&
      (ua.kind == MP_GVALUE_KIND_LIST || ub.kind == MP_GVALUE_KIND_LIST))
    {
      const MpUnpacked *strv = ua.kind == MP_GVALUE_KIND_STRV ? &ua : &ub;
      const MpUnpacked *list = ua.kind == MP_GVALUE_KIND_STRV ? &ub : &ua;
      g_autoptr(GPtrArray) as_list = strv_to_list (strv->p);

      return lists_equal (as_list, (GPtrArray *) list->p, depth);
    }

  if (ua.kind != ub.kind)
    return FALSE;

  switch (ua.kind)
    {
    case MP_GVALUE_KIND_NONE:
      return TRUE;
    case MP_GVALUE_KIND_BOOL:
      return ua.i == ub.i;
    case MP_GVALUE_KIND_STRING:
      return strcmp (ua.p, ub.p) == 0;
    case MP_GVALUE_KIND_BYTES:
      return g_bytes_equal (ua.p, ub.p);
    case MP_GVALUE_KIND_VARIANT:
      return g_variant_equal (ua.p, ub.p);
    case MP_GVALUE_KIND_LIST:
      return lists_equal ((GPtrArray *) ua.p, (GPtrArray *) ub.p, depth);
    case MP_GVALUE_KIND_STRV:
      return g_strv_equal (ua.p, ub.p);
    case MP_GVALUE_KIND_DICT:
      return dicts_equal ((GHashTable *) ua.p, (GHashTable *) ub.p, depth);
    case MP_GVALUE_KIND_OBJECT:
      return objects_equal ((GObject *) ua.p, (GObject *) ub.p, depth);
    case MP_GVALUE_KIND_OTHER:
    default:
      return G_VALUE_TYPE (a) == G_VALUE_TYPE (b) && ua.p == ub.p;
    }
}

/**
 * mp_gvalue_equal:
 * @a: a #GValue, possibly unset (None)
 * @b: a #GValue, possibly unset (None)
 *
 * Compares two values the way Python's `==` would after a round trip:
 * numbers by value whatever their width, strings, bytes, lists and dicts by
 * content, registered objects by their key properties (all properties when
 * the type named none), other objects by identity.
 *
 * Returns: %TRUE if equal
 *
 * Since: 0.1
 */
gboolean
mp_gvalue_equal (const GValue *a,
                const GValue *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return values_equal (a, b, 0);
}

static gboolean wire_equal (GVariant *a,
                            GVariant *b,
                            guint     depth);

GVariant *
mp_wire_unbox (GVariant *wire)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT))
    return g_variant_get_variant (wire);
  return g_variant_ref (wire);
}

static gboolean
wire_as_number (GVariant *wire,
                MpUnpacked *u)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_INT64))
    {
      u->kind = MP_GVALUE_KIND_SIGNED;
      u->i = g_variant_get_int64 (wire);
      return TRUE;
    }
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_UINT64))
    {
      u->kind = MP_GVALUE_KIND_UNSIGNED;
      u->u = g_variant_get_uint64 (wire);
      return TRUE;
    }
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_DOUBLE))
    {
      u->kind = MP_GVALUE_KIND_DOUBLE;
      u->d = g_variant_get_double (wire);
      return TRUE;
    }
  return FALSE;
}

static gboolean
wire_is_none (GVariant *wire)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_UNIT))
    return TRUE;
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE ("ms")))
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (wire);

      return text == NULL;
    }
  return FALSE;
}

/* a{sv} lookup: for that type GLib unboxes the "v" itself */
static GVariant *
vardict_lookup (GVariant   *dict,
                const char *key)
{
  return g_variant_lookup_value (dict, key, NULL);
}

static gboolean
vardicts_equal (GVariant *a,
                GVariant *b,
                guint     depth)
{
  gsize n = g_variant_n_children (a);

  if (n != g_variant_n_children (b))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (a, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (item, 0);
      g_autoptr(GVariant) va = mp_wire_child_unboxed (item, 1);
      g_autoptr(GVariant) vb = vardict_lookup (b, g_variant_get_string (key, NULL));

      if (vb == NULL || !wire_equal (va, vb, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
wire_objects_equal (GVariant *a,
                    GVariant *b,
                    guint     depth)
{
  g_autoptr(GVariant) name_a = g_variant_get_child_value (a, 0);
  g_autoptr(GVariant) name_b = g_variant_get_child_value (b, 0);
  g_autoptr(GVariant) state_a = mp_wire_child_unboxed (a, 1);
  g_autoptr(GVariant) state_b = mp_wire_child_unboxed (b, 1);
  const char *name = g_variant_get_string (name_a, NULL);
  const MpTypeEntry *entry;

  if (strcmp (name, g_variant_get_string (name_b, NULL)) != 0)
    return FALSE;

  entry = mp_registry_lookup_name (name);
  if (entry == NULL || entry->kind != MP_TYPE_ENTRY_PROPERTIES ||
      !g_variant_is_of_type (state_a, G_VARIANT_TYPE_VARDICT) ||
      !g_variant_is_of_type (state_b, G_VARIANT_TYPE_VARDICT))
    return g_variant_equal (state_a, state_b);

  if (entry->key_properties == NULL)
    return vardicts_equal (state_a, state_b, depth);

  for (gsize i = 0; entry->key_properties[i] != NULL; i++)
    {
      GParamSpec *pspec = g_object_class_find_property (g_type_class_peek (entry->type),
                                                        entry->key_properties[i]);
      const char *key = pspec != NULL ? pspec->name : entry->key_properties[i];
      g_autoptr(GVariant) va = vardict_lookup (state_a, key);
      g_autoptr(GVariant) vb = vardict_lookup (state_b, key);

      if (va == NULL && vb == NULL)
        continue;
      if (va == NULL || vb == NULL || !wire_equal (va, vb, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
wire_equal (GVariant *a,
            GVariant *b,
            guint     depth)
{
  g_autoptr(GVariant) ia = mp_wire_unbox (a);
  g_autoptr(GVariant) ib = mp_wire_unbox (b);
  MpUnpacked na, nb;

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    return g_variant_equal (ia, ib);

  if (wire_as_number (ia, &na) && wire_as_number (ib, &nb))
    return numbers_equal (&na, &nb);
  if (wire_is_none (ia) && wire_is_none (ib))
    return TRUE;
  if (!g_variant_type_equal (g_variant_get_type (ia), g_variant_get_type (ib)))
    return FALSE;

  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (MP_WIRE_OBJECT)))
    return wire_objects_equal (ia, ib, depth);
  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (MP_WIRE_LIST)))
    {
      gsize n = g_variant_n_children (ia);

      if (n != g_variant_n_children (ib))
        return FALSE;
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) ea = mp_wire_child_unboxed (ia, i);
          g_autoptr(GVariant) eb = mp_wire_child_unboxed (ib, i);

          if (!wire_equal (ea, eb, depth + 1))
            return FALSE;
        }
      return TRUE;
    }
  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (MP_WIRE_DICT)))
    return vardicts_equal (ia, ib, depth);

  return g_variant_equal (ia, ib);
}

/**
 * mp_serialize_wire_equal:
 * @a: a wire value ("v" or unboxed)
 * @b: a wire value ("v" or unboxed)
 *
 * Compares two serialized values as mp_gvalue_equal() compares live ones,
 * without decoding them: registered objects by their key properties.
 * Safe on any well-typed input.
 *
 * Returns: %TRUE if equal
 *
 * Since: 0.1
 */
gboolean
mp_serialize_wire_equal (GVariant *a,
                         GVariant *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return wire_equal (a, b, 0);
}
