/* mp-manager-wire.c — reading and writing wire values without decoding them
 *
 * The server keeps every stored value in its wire form: it never needs to
 * instantiate a custom type to store, compare (mp_serialize_wire_equal())
 * or hand back a value, so a client cannot make it run a constructor.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-manager-private.h"
#include "mp-serialize-private.h"

/* deeper than any value a program builds on purpose; GVariant bounds it too */
#define WIRE_MAX_DEPTH 64

GVariant *
mp_wire_none (void)
{
  return g_variant_new_variant (g_variant_new_tuple (NULL, 0));
}

GVariant *
mp_wire_bool (gboolean v)
{
  return g_variant_new_variant (g_variant_new_boolean (v));
}

GVariant *
mp_wire_int (gint64 v)
{
  return g_variant_new_variant (g_variant_new_int64 (v));
}

GVariant *
mp_wire_uint (guint64 v)
{
  return g_variant_new_variant (g_variant_new_uint64 (v));
}

GVariant *
mp_wire_double (double v)
{
  return g_variant_new_variant (g_variant_new_double (v));
}

GVariant *
mp_wire_string (const char *v)
{
  return g_variant_new_variant (
    g_variant_new_maybe (G_VARIANT_TYPE_STRING, v != NULL ? g_variant_new_string (v) : NULL));
}

/* @wires: "v" wire values */
GVariant *
mp_wire_list (GPtrArray *wires)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

  for (guint i = 0; wires != NULL && i < wires->len; i++)
    g_variant_builder_add_value (&builder, g_ptr_array_index (wires, i));
  return g_variant_new_variant (g_variant_builder_end (&builder));
}

static const char *const pinned_types[] = {
  MP_MSG_ERROR, MP_MSG_PROXY,
  "av", "a{sv}", "(sv)", "ms", "()", "(v)", "ay",
};
/* volatile: written only, yet it must stay, or the references look lost */
static GVariant * volatile pinned[G_N_ELEMENTS (pinned_types)];

void
mp_wire_pin_types (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);

      /* one value of each type, never freed, holds its type information */
      for (gsize i = 0; i < G_N_ELEMENTS (pinned_types); i++)
        pinned[i] = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (pinned_types[i]),
                                                                  empty, FALSE));
      g_once_init_leave (&done, 1);
    }
}

/* The shared None, built once and serialized at once: GLib's bytes for
 * it never change, so a received value with exactly those bytes is that
 * None (a GVariant has one normal form) without GLib judging it again. */
static GVariant *none_shared;
static const guint8 *none_data;
static gsize none_size;

static GVariant *
none_peek (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      none_shared = g_variant_ref_sink (mp_wire_none ());
      /* serialized now, not by the first reader */
      none_data = g_variant_get_data (none_shared);
      none_size = g_variant_get_size (none_shared);
      g_once_init_leave (&done, 1);
    }
  return none_shared;
}

GVariant *
mp_wire_none_shared (void)
{
  return g_variant_ref (none_peek ());
}

gboolean
mp_wire_is_shared_none (GVariant *wire)
{
  return wire == none_peek ();
}

gboolean
mp_wire_is_none_bytes (const guint8 *data,
                       gsize         size)
{
  none_peek ();
  return size == none_size && memcmp (data, none_data, size) == 0;
}

/* TRUE when @inner, an unboxed wire value, is a boolean, a number or None */
static gboolean
inner_is_plain (GVariant *inner)
{
  switch (g_variant_classify (inner))
    {
    case G_VARIANT_CLASS_BOOLEAN:
    case G_VARIANT_CLASS_INT64:
    case G_VARIANT_CLASS_UINT64:
    case G_VARIANT_CLASS_DOUBLE:
      return TRUE;
    case G_VARIANT_CLASS_TUPLE:
      return g_variant_n_children (inner) == 0;   /* None */
    default:
      return FALSE;
    }
}

gboolean
mp_wire_is_plain (GVariant *wire)
{
  g_autoptr(GVariant) inner = NULL;

  if (mp_wire_is_shared_none (wire))
    return TRUE;
  /* "v" is the only type of its class: no type string to compare */
  if (g_variant_classify (wire) != G_VARIANT_CLASS_VARIANT)
    return FALSE;
  inner = g_variant_get_variant (wire);
  return inner_is_plain (inner);
}

gboolean
mp_wire_may_hold_tokens (GVariant *wire)
{
  return !mp_wire_is_plain (wire);
}

gboolean
mp_wire_is_none (GVariant *wire)
{
  g_autoptr(GVariant) inner = NULL;

  if (mp_wire_is_shared_none (wire))
    return TRUE;
  inner = mp_wire_unbox (wire);

  return g_variant_is_of_type (inner, G_VARIANT_TYPE_UNIT);
}

/* Python's ints: bool is an int too */
gboolean
mp_wire_get_int (GVariant *wire,
                 gint64   *out)
{
  g_autoptr(GVariant) inner = mp_wire_unbox (wire);

  if (g_variant_is_of_type (inner, G_VARIANT_TYPE_INT64))
    *out = g_variant_get_int64 (inner);
  else if (g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT64) &&
           g_variant_get_uint64 (inner) <= G_MAXINT64)
    *out = (gint64) g_variant_get_uint64 (inner);
  else if (g_variant_is_of_type (inner, G_VARIANT_TYPE_BOOLEAN))
    *out = g_variant_get_boolean (inner);
  else
    return FALSE;
  return TRUE;
}

gboolean
mp_wire_get_bool (GVariant *wire,
                  gboolean *out)
{
  g_autoptr(GVariant) inner = mp_wire_unbox (wire);
  gint64 i;

  if (g_variant_is_of_type (inner, G_VARIANT_TYPE_BOOLEAN))
    {
      *out = g_variant_get_boolean (inner);
      return TRUE;
    }
  if (mp_wire_get_int (inner, &i))
    {
      *out = i != 0;
      return TRUE;
    }
  return FALSE;
}

gboolean
mp_wire_get_double (GVariant *wire,
                    double   *out)
{
  g_autoptr(GVariant) inner = mp_wire_unbox (wire);
  gint64 i;

  if (g_variant_is_of_type (inner, G_VARIANT_TYPE_DOUBLE))
    *out = g_variant_get_double (inner);
  else if (g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT64))
    *out = (double) g_variant_get_uint64 (inner);
  else if (mp_wire_get_int (inner, &i))
    *out = (double) i;
  else
    return FALSE;
  return TRUE;
}

/* Returns: (nullable): the text of a non-NULL string, valid while @wire lives */
const char *
mp_wire_peek_string (GVariant *wire)
{
  g_autoptr(GVariant) inner = mp_wire_unbox (wire);
  g_autoptr(GVariant) text = NULL;
  const char *result;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("ms")))
    return NULL;
  text = g_variant_get_maybe (inner);
  if (text == NULL)
    return NULL;
  /* the string lives in @wire's serialized data, which outlives these refs */
  result = g_variant_get_string (text, NULL);
  return result;
}

static gboolean
check_inner (GVariant *inner,
             guint     depth,
             GError  **error)
{
  const char *type = g_variant_get_type_string (inner);

  if (depth > WIRE_MAX_DEPTH)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "a value nested deeper than %d levels was refused", WIRE_MAX_DEPTH);
      return FALSE;
    }
  if (strcmp (type, "()") == 0 || strcmp (type, "b") == 0 || strcmp (type, "x") == 0 ||
      strcmp (type, "t") == 0 || strcmp (type, "d") == 0 || strcmp (type, "ms") == 0 ||
      strcmp (type, "ay") == 0 || strcmp (type, "(v)") == 0)
    return TRUE;
  if (strcmp (type, "av") == 0)
    {
      gsize n = g_variant_n_children (inner);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (inner, i);
          g_autoptr(GVariant) value = g_variant_get_variant (child);

          if (!check_inner (value, depth + 1, error))
            return FALSE;
        }
      return TRUE;
    }
  if (strcmp (type, "a{sv}") == 0)
    {
      gsize n = g_variant_n_children (inner);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) entry = g_variant_get_child_value (inner, i);
          g_autoptr(GVariant) boxed = g_variant_get_child_value (entry, 1);
          g_autoptr(GVariant) value = g_variant_get_variant (boxed);

          if (!check_inner (value, depth + 1, error))
            return FALSE;
        }
      return TRUE;
    }
  if (strcmp (type, "(sv)") == 0)
    {
      g_autoptr(GVariant) name = g_variant_get_child_value (inner, 0);

      if (g_variant_get_size (name) <= 1)
        {
          mp_set_error (error, MP_ERROR_PROTOCOL, "an object without a type name was refused");
          return FALSE;
        }
      /* the state is the type's own business; the receiver's registry
       * checks it when (and only where) the object is rebuilt */
      return TRUE;
    }
  mp_set_error (error, MP_ERROR_PROTOCOL,
                "a value of wire type '%s' was refused: it is no serialized value", type);
  return FALSE;
}

/**
 * mp_wire_check_unbox:
 * @wire: an untrusted "v" wire value (already in normal form)
 * @inner: (out) (transfer full) (optional): the value inside @wire, when
 *   it passes
 * @error: return location for a #GError
 *
 * Checks that @wire has the shape of a serialized value, so what one
 * client stores cannot trip up the clients that read it later. The check
 * unboxes @wire; @inner hands that on to a reader, which then need not
 * unbox it again.
 *
 * Returns: %TRUE if it has, else %FALSE with %MP_ERROR_PROTOCOL.
 */
gboolean
mp_wire_check_unbox (GVariant  *wire,
                     GVariant **inner,
                     GError   **error)
{
  g_autoptr(GVariant) unboxed = NULL;

  if (!g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "a wire value must be a boxed variant");
      return FALSE;
    }
  unboxed = g_variant_get_variant (wire);
  /* a plain value passes at a glance */
  if (!inner_is_plain (unboxed) && !check_inner (unboxed, 0, error))
    return FALSE;
  if (inner != NULL)
    *inner = g_steal_pointer (&unboxed);
  return TRUE;
}

/**
 * mp_wire_check:
 * @wire: an untrusted "v" wire value (already in normal form)
 * @error: return location for a #GError
 *
 * mp_wire_check_unbox() without the unboxed value.
 *
 * Returns: %TRUE if it has, else %FALSE with %MP_ERROR_PROTOCOL.
 */
gboolean
mp_wire_check (GVariant *wire,
               GError  **error)
{
  if (mp_wire_is_shared_none (wire))
    return TRUE;
  return mp_wire_check_unbox (wire, NULL, error);
}

/**
 * mp_wire_get_token:
 * @wire: a wire value, boxed or not
 * @token: (out): the token, pointing into @wire
 *
 * Returns: %TRUE if @wire is a serialized proxy.
 */
gboolean
mp_wire_get_token (GVariant *wire,
                   MpToken  *token)
{
  g_autoptr(GVariant) inner = mp_wire_unbox (wire);
  g_autoptr(GVariant) name = NULL;
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) field = NULL;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("(sv)")))
    return FALSE;
  name = g_variant_get_child_value (inner, 0);
  if (strcmp (g_variant_get_string (name, NULL), MP_PROXY_WIRE_NAME) != 0)
    return FALSE;
  boxed = g_variant_get_child_value (inner, 1);
  state = g_variant_get_variant (boxed);
  if (!g_variant_is_of_type (state, G_VARIANT_TYPE (MP_PROXY_STATE)))
    return FALSE;

  /* the strings point into the serialized data, which @wire keeps alive */
  field = g_variant_get_child_value (state, 0);
  token->typeid = g_variant_get_string (field, NULL);
  g_clear_pointer (&field, g_variant_unref);
  field = g_variant_get_child_value (state, 1);
  token->address = g_variant_get_string (field, NULL);
  g_clear_pointer (&field, g_variant_unref);
  field = g_variant_get_child_value (state, 2);
  token->id = g_variant_get_uint64 (field);
  return TRUE;
}

/* Follows the wire grammar the way mp_deserialize_value() does, so the
 * server counts exactly the proxies a client will rebuild: inside lists,
 * dicts and the properties of objects, never inside opaque "(v)" data or
 * a reducer's private state. */
static gboolean
foreach_token (GVariant   *value,
               MpTokenFunc func,
               gpointer    user_data,
               guint       depth)
{
  const char *type = g_variant_get_type_string (value);
  gboolean values_of_dict = FALSE;
  MpToken token;
  gsize n;

  if (depth > WIRE_MAX_DEPTH)
    return TRUE;
  if (strcmp (type, "(sv)") == 0)
    {
      g_autoptr(GVariant) boxed = NULL;
      g_autoptr(GVariant) state = NULL;

      if (mp_wire_get_token (value, &token))
        return func (&token, user_data);
      boxed = g_variant_get_child_value (value, 1);
      state = g_variant_get_variant (boxed);
      if (!g_variant_is_of_type (state, G_VARIANT_TYPE ("a{sv}")))
        return TRUE;
      return foreach_token (state, func, user_data, depth + 1);
    }
  if (strcmp (type, "a{sv}") == 0)
    values_of_dict = TRUE;
  else if (strcmp (type, "av") != 0)
    return TRUE;

  n = g_variant_n_children (value);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (value, i);
      g_autoptr(GVariant) boxed = values_of_dict ? g_variant_get_child_value (child, 1)
                                                 : g_variant_ref (child);
      g_autoptr(GVariant) inner = g_variant_get_variant (boxed);

      if (!foreach_token (inner, func, user_data, depth + 1))
        return FALSE;
    }
  return TRUE;
}

/**
 * mp_wire_foreach_token:
 * @wire: a wire value
 * @func: called for each serialized proxy found in @wire
 * @user_data: data for @func
 *
 * Finds the proxies inside a value (in lists, dicts, objects' states), so
 * the server can keep their objects alive while a container holds them.
 *
 * Returns: %FALSE if @func stopped the walk.
 */
gboolean
mp_wire_foreach_token (GVariant   *wire,
                       MpTokenFunc func,
                       gpointer    user_data)
{
  g_autoptr(GVariant) inner = NULL;

  if (!mp_wire_may_hold_tokens (wire))
    return TRUE;
  inner = mp_wire_unbox (wire);
  return foreach_token (inner, func, user_data, 0);
}
