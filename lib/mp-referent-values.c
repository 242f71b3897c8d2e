/* mp-referent-values.c — Value and Array in a manager's server
 *
 * The manager's Value and Array (not the shared-memory ones of
 * mp-shared.c): one value, or a typed sequence, held by the server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-referent-private.h"

/* ------------------------------------------------------------------ */
/* Value: Python's manager Value keeps the typecode only for its repr   */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  char       *typecode;
  GVariant   *wire;
} ValueReferent;

#define VALUE(r) ((ValueReferent *) (r))

static gboolean
value_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  if (!mp_referent_args_count (args, "Value()", 1, 2, error) ||
      !mp_referent_arg_string (args, 0, "Value()", &VALUE (self)->typecode, error))
    return FALSE;
  /* Like CPython's managers.Value, the typecode is NOT checked or applied:
   * Value('i', 'text') happily stores a string. Only Array checks. */
  if (mp_referent_arg_present (args, 1))
    VALUE (self)->wire = mp_referent_store_arg (self, args, 1, error);
  else
    VALUE (self)->wire = g_variant_ref_sink (mp_wire_none ());
  return VALUE (self)->wire != NULL;
}

static void
value_finalize (MpReferent *self)
{
  if (VALUE (self)->wire != NULL)
    mp_server_release_wire (self->server, VALUE (self)->wire);
  g_clear_pointer (&VALUE (self)->wire, g_variant_unref);
  g_clear_pointer (&VALUE (self)->typecode, g_free);
}

static GVariant *
value_get_value (MpReferent *self,
                 GError    **error)
{
  return g_variant_ref (VALUE (self)->wire);
}

static gboolean
value_get (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Value.get()", 0, 0, error))
    return FALSE;
  *result = g_variant_ref (VALUE (self)->wire);
  return TRUE;
}

static gboolean
value_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GVariant *wire;

  if (!mp_referent_args_count (args, "Value.set()", 1, 1, error) ||
      (wire = mp_referent_store_arg (self, args, 0, error)) == NULL)
    return FALSE;
  mp_call_release (call, VALUE (self)->wire);
  g_variant_unref (VALUE (self)->wire);
  VALUE (self)->wire = wire;
  return TRUE;
}

static const MpReferentMethod value_methods[] = {
  { "get", value_get },
  { "set", value_set },
  { NULL, NULL }
};

const MpReferentClass mp_referent_value_class = {
  .typeid = "Value",
  .instance_size = sizeof (ValueReferent),
  .methods = value_methods,
  .init = value_init,
  .finalize = value_finalize,
  .get_value = value_get_value,
};

/* ------------------------------------------------------------------ */
/* Array: Python's array.array, which does check its typecode           */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  char        typecode;
  GPtrArray  *items;   /* "v" wires, already converted to the typecode */
} ArrayReferent;

#define ARRAY(r) ((ArrayReferent *) (r))

typedef struct {
  char     code;
  gboolean is_float;
  gint64   min;
  guint64  max;
} Typecode;

static const Typecode typecodes[] = {
  { 'b', FALSE, G_MININT8, G_MAXINT8 },
  { 'B', FALSE, 0, G_MAXUINT8 },
  { 'h', FALSE, G_MININT16, G_MAXINT16 },
  { 'H', FALSE, 0, G_MAXUINT16 },
  { 'i', FALSE, G_MININT32, G_MAXINT32 },
  { 'I', FALSE, 0, G_MAXUINT32 },
  { 'l', FALSE, G_MININT64, G_MAXINT64 },
  { 'L', FALSE, 0, G_MAXUINT64 },
  { 'q', FALSE, G_MININT64, G_MAXINT64 },
  { 'Q', FALSE, 0, G_MAXUINT64 },
  { 'f', TRUE, 0, 0 },
  { 'd', TRUE, 0, 0 },
};

static const Typecode *
typecode_lookup (char code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (typecodes); i++)
    if (typecodes[i].code == code)
      return &typecodes[i];
  return NULL;
}

/* Converts @wire as array.array(typecode) would store it. */
static GVariant *
array_convert (char        code,
               GVariant   *wire,
               GError    **error)
{
  const Typecode *tc = typecode_lookup (code);
  g_autoptr(GVariant) inner = mp_referent_unboxed (wire);

  if (tc->is_float)
    {
      double d;

      if (!mp_wire_get_double (inner, &d))
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "must be real number, not %s (Python: TypeError); array '%c' holds floats",
                        mp_referent_python_type_name (inner), code);
          return NULL;
        }
      /* 'f' is a C float: the value is rounded as it is stored */
      return mp_wire_double (code == 'f' ? (double) (float) d : d);
    }

  if (g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT64))
    {
      guint64 u = g_variant_get_uint64 (inner);

      if (u > tc->max)
        goto overflow;
      return u > G_MAXINT64 ? mp_wire_uint (u) : mp_wire_int ((gint64) u);
    }
  else
    {
      gint64 i;

      if (g_variant_is_of_type (inner, G_VARIANT_TYPE_DOUBLE) || !mp_wire_get_int (inner, &i))
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "an integer is required, not %s (Python: TypeError); array '%c' holds integers",
                        mp_referent_python_type_name (inner), code);
          return NULL;
        }
      if (i < tc->min || (i > 0 && (guint64) i > tc->max))
        goto overflow;
      return mp_wire_int (i);
    }

overflow:
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "value out of range for array typecode '%c' (Python: OverflowError)", code);
  return NULL;
}

static gboolean
array_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  g_autofree char *code = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GVariant) wire = NULL;

  ARRAY (self)->items = mp_referent_wire_array_new ();
  if (!mp_referent_args_count (args, "Array()", 1, 2, error) ||
      !mp_referent_arg_string (args, 0, "Array()", &code, error))
    return FALSE;
  if (strlen (code) != 1 || typecode_lookup (code[0]) == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "bad typecode '%s' (must be b, B, h, H, i, I, l, L, q, Q, f or d) (Python: ValueError)",
                    code);
      return FALSE;
    }
  ARRAY (self)->typecode = code[0];
  if (!mp_referent_arg_present (args, 1))
    return TRUE;
  wire = mp_referent_arg_wire (args, 1);
  if (!mp_referent_list_elements (wire, "Array()", &items, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      GVariant *converted = array_convert (code[0], g_ptr_array_index (items, i), error);

      if (converted == NULL)
        {
          g_prefix_error (error, "Array() item %u: ", i);
          return FALSE;
        }
      g_ptr_array_add (ARRAY (self)->items, g_variant_ref_sink (converted));
    }
  return TRUE;
}

static void
array_finalize (MpReferent *self)
{
  g_clear_pointer (&ARRAY (self)->items, g_ptr_array_unref);
}

static GVariant *
array_get_value (MpReferent *self,
                 GError    **error)
{
  return mp_wire_list (ARRAY (self)->items);
}

static gboolean
array_len (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "array.__len__()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (ARRAY (self)->items->len);
  return TRUE;
}

static gboolean
array_getitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = ARRAY (self)->items;
  gint64 index;

  if (!mp_referent_args_count (args, "array.__getitem__()", 1, 1, error) ||
      !mp_referent_arg_int (args, 0, "array.__getitem__()", &index, error) ||
      !mp_referent_normalize_index (&index, items->len, "array index out of range", error))
    return FALSE;
  *result = g_variant_ref (g_ptr_array_index (items, index));
  return TRUE;
}

static gboolean
array_setitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = ARRAY (self)->items;
  g_autoptr(GVariant) wire = NULL;
  GVariant *converted;
  gint64 index;

  if (!mp_referent_args_count (args, "array.__setitem__()", 2, 2, error) ||
      !mp_referent_arg_int (args, 0, "array.__setitem__()", &index, error) ||
      !mp_referent_normalize_index (&index, items->len, "array assignment index out of range", error))
    return FALSE;
  wire = mp_referent_arg_wire (args, 1);
  converted = array_convert (ARRAY (self)->typecode, wire, error);
  if (converted == NULL)
    return FALSE;
  g_variant_unref (g_ptr_array_index (items, index));
  g_ptr_array_index (items, index) = g_variant_ref_sink (converted);
  return TRUE;
}

static const MpReferentMethod array_methods[] = {
  { "__getitem__", array_getitem },
  { "__len__", array_len },
  { "__setitem__", array_setitem },
  { NULL, NULL }
};

const MpReferentClass mp_referent_array_class = {
  .typeid = "Array",
  .instance_size = sizeof (ArrayReferent),
  .methods = array_methods,
  .init = array_init,
  .finalize = array_finalize,
  .get_value = array_get_value,
};
