/* mp-args.c — MpArgs, the arguments of a task: a reference-counted
 * tuple of values, and its wire form
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <gobject/gvaluecollector.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

struct _MpArgs {
  gatomicrefcount  ref_count;
  GPtrArray       *values;    /* GValue*, unset = None */
};

/**
 * mp_args_get_type:
 *
 * Returns: the boxed #GType of #MpArgs (copy = ref)
 *
 * Since: 0.1
 */
GType
mp_args_get_type (void)
{
  static gsize type_id = 0;

  /* by hand, as G_DEFINE_BOXED_TYPE trips -Wpedantic */
  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpArgs"),
                                                 (GBoxedCopyFunc) mp_args_ref,
                                                 (GBoxedFreeFunc) mp_args_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

static MpArgs *
args_alloc (void)
{
  MpArgs *args = g_new0 (MpArgs, 1);

  g_atomic_ref_count_init (&args->ref_count);
  args->values = mp_gvalue_list_new ();
  return args;
}

/* Appends a new #GValue holding @type (unset for %G_TYPE_INVALID) and
 * returns it, owned by @args, for the caller to set. */
static GValue *
args_append_new (MpArgs *args,
                 GType   type)
{
  GValue *value = mp_gvalue_new (type);

  g_ptr_array_add (args->values, value);
  return value;
}

/**
 * mp_args_new:
 * @first_type: the #GType of the first argument, or %G_TYPE_INVALID
 * @...: its value, then more type/value pairs, ended by %G_TYPE_INVALID
 *
 * Builds a tuple of arguments as g_object_new() collects properties:
 * `mp_args_new (G_TYPE_INT, 3, G_TYPE_STRING, "x", G_TYPE_INVALID)`.
 * Values are copied (strings duplicated, objects referenced). As with any
 * varargs, each value must have the C type of its GType: a %G_TYPE_INT64
 * takes a gint64 (`G_GINT64_CONSTANT (3)`), a %G_TYPE_DOUBLE a double
 * (`2.0`, not `2`). None is added with mp_args_add_value() and an unset
 * #GValue.
 *
 * Returns: (transfer full): the arguments
 *
 * Since: 0.1
 */
MpArgs *
mp_args_new (GType first_type,
             ...)
{
  MpArgs *args = args_alloc ();
  va_list ap;
  GType type = first_type;

  va_start (ap, first_type);
  while (type != G_TYPE_INVALID)
    {
      GValue *value;
      char *collect_error = NULL;

      if (!G_TYPE_IS_VALUE_TYPE (type))
        {
          g_critical ("%s: argument %u: '%s' is not a value type", G_STRFUNC,
                      args->values->len, g_type_name (type));
          break;
        }
      value = g_new0 (GValue, 1);
      G_VALUE_COLLECT_INIT (value, type, ap, 0, &collect_error);
      if (collect_error != NULL)
        {
          g_critical ("%s: argument %u: %s", G_STRFUNC, args->values->len, collect_error);
          g_free (collect_error);
          /* like g_object_new(): the value may be half made, so leak it */
          break;
        }
      g_ptr_array_add (args->values, value);
      type = va_arg (ap, GType);
    }
  va_end (ap);
  return args;
}

/**
 * mp_args_ref:
 * @args: an #MpArgs
 *
 * Returns: (transfer full): @args
 *
 * Since: 0.1
 */
MpArgs *
mp_args_ref (MpArgs *args)
{
  g_return_val_if_fail (args != NULL, NULL);

  g_atomic_ref_count_inc (&args->ref_count);
  return args;
}

/**
 * mp_args_unref:
 * @args: (transfer full): an #MpArgs
 *
 * Since: 0.1
 */
void
mp_args_unref (MpArgs *args)
{
  g_return_if_fail (args != NULL);

  if (g_atomic_ref_count_dec (&args->ref_count))
    {
      g_ptr_array_unref (args->values);
      g_free (args);
    }
}

/**
 * mp_args_add_value:
 * @args: an #MpArgs
 * @value: a #GValue to copy; unset means None
 *
 * Since: 0.1
 */
void
mp_args_add_value (MpArgs       *args,
                   const GValue *value)
{
  g_return_if_fail (args != NULL);
  g_return_if_fail (value != NULL);

  g_ptr_array_add (args->values, mp_gvalue_copy (value));
}

/**
 * mp_args_add_boolean:
 * @args: an #MpArgs
 * @v: the value
 *
 * Since: 0.1
 */
void
mp_args_add_boolean (MpArgs   *args,
                     gboolean  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_boolean (args_append_new (args, G_TYPE_BOOLEAN), v);
}

/**
 * mp_args_add_int:
 * @args: an #MpArgs
 * @v: the value, added as a %G_TYPE_INT64
 *
 * Since: 0.1
 */
void
mp_args_add_int (MpArgs *args,
                 gint64  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_int64 (args_append_new (args, G_TYPE_INT64), v);
}

/**
 * mp_args_add_double:
 * @args: an #MpArgs
 * @v: the value
 *
 * Since: 0.1
 */
void
mp_args_add_double (MpArgs *args,
                    double  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_double (args_append_new (args, G_TYPE_DOUBLE), v);
}

/**
 * mp_args_add_string:
 * @args: an #MpArgs
 * @v: (nullable): the string, copied
 *
 * Since: 0.1
 */
void
mp_args_add_string (MpArgs     *args,
                    const char *v)
{
  g_return_if_fail (args != NULL);

  g_value_set_string (args_append_new (args, G_TYPE_STRING), v);
}

/**
 * mp_args_add_object:
 * @args: an #MpArgs
 * @object: (type GObject) (nullable): the object, referenced
 *
 * Since: 0.1
 */
void
mp_args_add_object (MpArgs   *args,
                    gpointer  object)
{
  g_return_if_fail (args != NULL);
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  g_value_set_object (args_append_new (args, object != NULL ? G_OBJECT_TYPE (object)
                                                            : G_TYPE_OBJECT),
                      object);
}

/**
 * mp_args_get_length:
 * @args: an #MpArgs
 *
 * Returns: the number of arguments
 *
 * Since: 0.1
 */
guint
mp_args_get_length (MpArgs *args)
{
  g_return_val_if_fail (args != NULL, 0);

  return args->values->len;
}

/**
 * mp_args_get_value:
 * @args: an #MpArgs
 * @index: an index below mp_args_get_length()
 *
 * Returns: (transfer none): the argument; unset for None
 *
 * Since: 0.1
 */
const GValue *
mp_args_get_value (MpArgs *args,
                   guint   index)
{
  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  return args->values->pdata[index];
}

/**
 * mp_args_get_boolean:
 * @args: an #MpArgs
 * @index: the index of a boolean argument
 *
 * Returns: the value
 *
 * Since: 0.1
 */
gboolean
mp_args_get_boolean (MpArgs *args,
                     guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (index < args->values->len, FALSE);

  value = args->values->pdata[index];
  g_return_val_if_fail (G_VALUE_HOLDS_BOOLEAN (value), FALSE);
  return g_value_get_boolean (value);
}

/**
 * mp_args_get_int:
 * @args: an #MpArgs
 * @index: the index of an integer argument of any width (an unsigned one
 *   must fit in a gint64)
 *
 * Returns: the value
 *
 * Since: 0.1
 */
gint64
mp_args_get_int (MpArgs *args,
                 guint   index)
{
  MpUnpacked u;

  g_return_val_if_fail (args != NULL, 0);
  g_return_val_if_fail (index < args->values->len, 0);

  u = mp_gvalue_unpack (args->values->pdata[index]);
  g_return_val_if_fail (u.kind == MP_GVALUE_KIND_SIGNED || u.kind == MP_GVALUE_KIND_UNSIGNED, 0);
  if (u.kind == MP_GVALUE_KIND_SIGNED)
    return u.i;
  g_return_val_if_fail (u.u <= G_MAXINT64, 0);
  return (gint64) u.u;
}

/**
 * mp_args_get_double:
 * @args: an #MpArgs
 * @index: the index of a float or double argument
 *
 * Returns: the value
 *
 * Since: 0.1
 */
double
mp_args_get_double (MpArgs *args,
                    guint   index)
{
  MpUnpacked u;

  g_return_val_if_fail (args != NULL, 0.0);
  g_return_val_if_fail (index < args->values->len, 0.0);

  u = mp_gvalue_unpack (args->values->pdata[index]);
  g_return_val_if_fail (u.kind == MP_GVALUE_KIND_DOUBLE, 0.0);
  return u.d;
}

/**
 * mp_args_get_string:
 * @args: an #MpArgs
 * @index: the index of a string argument (or None)
 *
 * Returns: (transfer none) (nullable): the string; %NULL for None
 *
 * Since: 0.1
 */
const char *
mp_args_get_string (MpArgs *args,
                    guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  value = args->values->pdata[index];
  if (!G_IS_VALUE (value))
    return NULL;
  g_return_val_if_fail (G_VALUE_HOLDS_STRING (value), NULL);
  return g_value_get_string (value);
}

/**
 * mp_args_get_object:
 * @args: an #MpArgs
 * @index: the index of an object argument (or None)
 *
 * Returns: (transfer none) (type GObject) (nullable): the object
 *
 * Since: 0.1
 */
gpointer
mp_args_get_object (MpArgs *args,
                    guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  value = args->values->pdata[index];
  if (!G_IS_VALUE (value))
    return NULL;
  g_return_val_if_fail (G_VALUE_HOLDS_OBJECT (value), NULL);
  return g_value_get_object (value);
}

/**
 * mp_args_serialize:
 * @args: an #MpArgs
 * @error: return location for a #GError
 *
 * Encodes the arguments as an "av" tuple; errors name the argument, e.g.
 * `args[0].client: GSocketClient holds a live OS handle`.
 *
 * Returns: (transfer full): a new "av" #GVariant (not floating), or %NULL.
 *
 * Since: 0.1
 */
GVariant *
mp_args_serialize (MpArgs  *args,
                   GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GString) path = g_string_new (NULL);

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < args->values->len; i++)
    {
      GVariant *child;

      g_string_printf (path, "args[%u]", i);
      child = mp_serialize_encode (args->values->pdata[i], path, 1 + MP_LIST_CHILD_DEPTH, error);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * mp_args_deserialize:
 * @wire: an "av" #GVariant from mp_args_serialize(), maybe untrusted
 * @error: return location for a #GError
 *
 * Returns: (transfer full): fresh arguments, or %NULL with
 *   %MP_ERROR_PROTOCOL naming the argument.
 *
 * Since: 0.1
 */
MpArgs *
mp_args_deserialize (GVariant  *wire,
                     GError   **error)
{
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(GString) path = g_string_new (NULL);
  g_autoptr(GVariant) list = NULL;
  gsize n;

  g_return_val_if_fail (wire != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_variant_is_normal_form (wire))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received arguments are not well-formed (not in normal form)");
      return NULL;
    }
  list = mp_wire_unbox (wire);
  if (!g_variant_is_of_type (list, G_VARIANT_TYPE ("av")))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received arguments have wire type '%s', expected 'av'",
                    g_variant_get_type_string (list));
      return NULL;
    }

  args = args_alloc ();
  n = g_variant_n_children (list);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = mp_wire_child_unboxed (list, i);
      GValue *value = args_append_new (args, G_TYPE_INVALID);

      g_string_printf (path, "args[%" G_GSIZE_FORMAT "]", i);
      if (!mp_deserialize_decode (child, value, path, 1 + MP_LIST_CHILD_DEPTH, error))
        return NULL;
    }
  return g_steal_pointer (&args);
}
