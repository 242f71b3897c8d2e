/* mp-referent.c — the objects that live in a manager's server
 *
 * Python calls the object behind a proxy its "referent". These are the
 * server-side implementations of the 13 types of Python's SyncManager
 * (list, dict, Namespace, Value, Array, Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition, Event, Barrier, Queue) plus the adaptor for
 * custom types registered with mp_manager_register_type().
 *
 * Built-in objects keep values in their wire form, so storing, comparing
 * and returning never instantiates a custom type in the server. Each
 * object has its own mutex; a call that blocks (Lock.acquire, Queue.get,
 * Event.wait, Barrier.wait, Condition.wait) waits with mp_call_wait(),
 * which lets go of the mutex and also returns when the server shuts down
 * or the calling client goes away, so a dead client never takes a queue
 * item or a lock with it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-manager-private.h"

/* ------------------------------------------------------------------ */
/* arguments                                                           */
/* ------------------------------------------------------------------ */

static gboolean
args_count (MpArgv     *args,
            const char *what,
            gsize       min,
            gsize       max,
            GError    **error)
{
  gsize n = mp_argv_len (args);

  if (n < min || n > max)
    {
      if (min == max)
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s takes %" G_GSIZE_FORMAT " argument%s (%" G_GSIZE_FORMAT " given) (Python: TypeError)",
                      what, min, min == 1 ? "" : "s", n);
      else
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s takes %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " arguments (%" G_GSIZE_FORMAT " given) (Python: TypeError)",
                      what, min, max, n);
      return FALSE;
    }
  return TRUE;
}

/* the @i-th argument as a "v" wire value (new reference) */
static GVariant *
arg_wire (MpArgv   *args,
          gsize     i)
{
  return mp_argv_dup (args, i);
}

static gboolean
arg_present (MpArgv   *args,
             gsize     i)
{
  g_autoptr(GVariant) wire = NULL;

  if (i >= mp_argv_len (args))
    return FALSE;
  wire = arg_wire (args, i);
  return !mp_wire_is_none (wire);
}

static gboolean
arg_int (MpArgv     *args,
         gsize       i,
         const char *what,
         gint64     *out,
         GError    **error)
{
  g_autoptr(GVariant) wire = arg_wire (args, i);

  if (!mp_wire_get_int (wire, out))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be an integer (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  return TRUE;
}

/* optional integer: None or missing gives @fallback */
static gboolean
arg_int_or (MpArgv     *args,
            gsize       i,
            gint64      fallback,
            const char *what,
            gint64     *out,
            GError    **error)
{
  if (!arg_present (args, i))
    {
      *out = fallback;
      return TRUE;
    }
  return arg_int (args, i, what, out, error);
}

static gboolean
arg_bool_or (MpArgv     *args,
             gsize       i,
             gboolean    fallback,
             const char *what,
             gboolean   *out,
             GError    **error)
{
  g_autoptr(GVariant) wire = NULL;

  if (!arg_present (args, i))
    {
      *out = fallback;
      return TRUE;
    }
  wire = arg_wire (args, i);
  if (!mp_wire_get_bool (wire, out))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be a boolean (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  return TRUE;
}

/* a timeout in microseconds; None, missing or negative wait for ever */
static gboolean
arg_deadline (MpArgv     *args,
              gsize       i,
              const char *what,
              gint64     *deadline,
              GError    **error)
{
  gint64 timeout_us;

  if (!arg_int_or (args, i, -1, what, &timeout_us, error))
    return FALSE;
  *deadline = mp_deadline_from_timeout (timeout_us);
  return TRUE;
}

static gboolean
arg_string (MpArgv     *args,
            gsize       i,
            const char *what,
            char      **out,
            GError    **error)
{
  g_autoptr(GVariant) wire = arg_wire (args, i);
  const char *text = mp_wire_peek_string (wire);

  if (text == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be a string (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  *out = g_strdup (text);
  return TRUE;
}

static GVariant *
unboxed (GVariant *wire)
{
  return g_variant_get_variant (wire);
}

/* ------------------------------------------------------------------ */
/* ordering for list.sort(): Python's "<" on the kinds that have one    */
/* ------------------------------------------------------------------ */

typedef enum {
  ORDER_NUMBER,
  ORDER_STRING,
  ORDER_BYTES,
  ORDER_LIST,
  ORDER_NONE,
} OrderKind;

static OrderKind
order_kind (GVariant *inner)
{
  const char *type = g_variant_get_type_string (inner);

  if (strcmp (type, "b") == 0 || strcmp (type, "x") == 0 ||
      strcmp (type, "t") == 0 || strcmp (type, "d") == 0)
    return ORDER_NUMBER;
  if (strcmp (type, "ms") == 0)
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (inner);
      return text != NULL ? ORDER_STRING : ORDER_NONE;
    }
  if (strcmp (type, "ay") == 0)
    return ORDER_BYTES;
  if (strcmp (type, "av") == 0)
    return ORDER_LIST;
  return ORDER_NONE;
}

static const char *
python_type_name (GVariant *inner)
{
  const char *type = g_variant_get_type_string (inner);

  if (strcmp (type, "b") == 0)
    return "bool";
  if (strcmp (type, "x") == 0 || strcmp (type, "t") == 0)
    return "int";
  if (strcmp (type, "d") == 0)
    return "float";
  if (strcmp (type, "ms") == 0)
    return order_kind (inner) == ORDER_STRING ? "str" : "NoneType";
  if (strcmp (type, "ay") == 0)
    return "bytes";
  if (strcmp (type, "av") == 0)
    return "list";
  if (strcmp (type, "a{sv}") == 0)
    return "dict";
  if (strcmp (type, "()") == 0)
    return "NoneType";
  return "object";
}

static int
compare_numbers (GVariant *a,
                 GVariant *b)
{
  gboolean a_double = g_variant_is_of_type (a, G_VARIANT_TYPE_DOUBLE);
  gboolean b_double = g_variant_is_of_type (b, G_VARIANT_TYPE_DOUBLE);
  gboolean a_unsigned = g_variant_is_of_type (a, G_VARIANT_TYPE_UINT64);
  gboolean b_unsigned = g_variant_is_of_type (b, G_VARIANT_TYPE_UINT64);

  if (a_double || b_double)
    {
      double x = 0, y = 0;

      mp_wire_get_double (a, &x);
      mp_wire_get_double (b, &y);
      return (x > y) - (x < y);
    }
  if (a_unsigned || b_unsigned)
    {
      gint64 si;
      guint64 x, y;

      /* a negative signed value is below any unsigned one */
      if (!a_unsigned && mp_wire_get_int (a, &si) && si < 0)
        return -1;
      if (!b_unsigned && mp_wire_get_int (b, &si) && si < 0)
        return 1;
      x = a_unsigned ? g_variant_get_uint64 (a) : (mp_wire_get_int (a, &si), (guint64) si);
      y = b_unsigned ? g_variant_get_uint64 (b) : (mp_wire_get_int (b, &si), (guint64) si);
      return (x > y) - (x < y);
    }
  {
    gint64 x = 0, y = 0;

    mp_wire_get_int (a, &x);
    mp_wire_get_int (b, &y);
    return (x > y) - (x < y);
  }
}

/* Compares unboxed values; sets @error when Python's "<" would raise. */
static int
compare_inner (GVariant *a,
               GVariant *b,
               GError  **error)
{
  OrderKind ka = order_kind (a);
  OrderKind kb = order_kind (b);

  if (ka != kb || ka == ORDER_NONE)
    {
      if (error != NULL && *error == NULL)
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "'<' not supported between instances of '%s' and '%s' (Python: TypeError); sort only lists of comparable items",
                      python_type_name (a), python_type_name (b));
      return 0;
    }

  switch (ka)
    {
    case ORDER_NUMBER:
      return compare_numbers (a, b);

    case ORDER_STRING:
      {
        g_autoptr(GVariant) ta = g_variant_get_maybe (a);
        g_autoptr(GVariant) tb = g_variant_get_maybe (b);
        /* UTF-8 byte order is code point order, Python's str order */
        int c = strcmp (g_variant_get_string (ta, NULL), g_variant_get_string (tb, NULL));
        return (c > 0) - (c < 0);
      }

    case ORDER_BYTES:
      {
        gsize la = g_variant_get_size (a), lb = g_variant_get_size (b);
        int c = memcmp (g_variant_get_data (a), g_variant_get_data (b), MIN (la, lb));

        if (c != 0)
          return (c > 0) - (c < 0);
        return (la > lb) - (la < lb);
      }

    case ORDER_LIST:
      {
        gsize na = g_variant_n_children (a), nb = g_variant_n_children (b);

        for (gsize i = 0; i < MIN (na, nb); i++)
          {
            g_autoptr(GVariant) ca = g_variant_get_child_value (a, i);
            g_autoptr(GVariant) cb = g_variant_get_child_value (b, i);
            g_autoptr(GVariant) ia = g_variant_get_variant (ca);
            g_autoptr(GVariant) ib = g_variant_get_variant (cb);
            int c = compare_inner (ia, ib, error);

            if (c != 0 || (error != NULL && *error != NULL))
              return c;
          }
        return (na > nb) - (na < nb);
      }

    case ORDER_NONE:
    default:
      return 0;
    }
}

typedef struct {
  GError   *error;
  gboolean  reverse;
} SortData;

static gint
sort_compare (gconstpointer a,
              gconstpointer b,
              gpointer      user_data)
{
  SortData *data = user_data;
  g_autoptr(GVariant) ia = NULL;
  g_autoptr(GVariant) ib = NULL;
  int c;

  if (data->error != NULL)
    return 0;
  ia = unboxed (*(GVariant * const *) a);
  ib = unboxed (*(GVariant * const *) b);
  c = compare_inner (ia, ib, &data->error);
  return data->reverse ? -c : c;
}

/* ------------------------------------------------------------------ */
/* helpers shared by the containers                                     */
/* ------------------------------------------------------------------ */

/* Takes a client's value for storage: checks its shape and keeps the
 * objects of proxies inside it alive while it is stored. */
static GVariant *
store_arg (MpReferent *self,
           MpArgv     *args,
           gsize       i,
           GError    **error)
{
  g_autoptr(GVariant) wire = arg_wire (args, i);

  /* a plain value has the shape of a value and holds no proxy */
  if (!mp_argv_is_plain (args, i) && !mp_wire_is_plain (wire) &&
      (!mp_wire_check (wire, error) || !mp_server_retain_wire (self->server, wire, error)))
    return NULL;
  return g_steal_pointer (&wire);
}

static gboolean
store_wire (MpReferent *self,
            GVariant   *wire,
            GError    **error)
{
  return mp_wire_check (wire, error) && mp_server_retain_wire (self->server, wire, error);
}

static gboolean
normalize_index (gint64      *index,
                 gint64       len,
                 const char  *message,
                 GError     **error)
{
  if (*index < 0)
    *index += len;
  if (*index < 0 || *index >= len)
    {
      mp_set_error (error, MP_ERROR_INDEX, "%s", message);
      return FALSE;
    }
  return TRUE;
}

/* Python's slice bounds with step 1 */
static void
adjust_slice (gint64  len,
              gint64 *start,
              gint64 *stop)
{
  if (*start < 0)
    *start = MAX (*start + len, 0);
  else if (*start > len)
    *start = len;
  if (*stop < 0)
    *stop = MAX (*stop + len, 0);
  else if (*stop > len)
    *stop = len;
  if (*stop < *start)
    *stop = *start;
}

static GPtrArray *
wire_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

/* the elements of an "av" wire list as a new array of "v" wires */
static gboolean
list_elements (GVariant   *wire,
               const char *what,
               GPtrArray **out,
               GError    **error)
{
  g_autoptr(GVariant) inner = unboxed (wire);
  g_autoptr(GPtrArray) items = NULL;
  gsize n;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("av")))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s needs a list, not %s (Python: TypeError)", what, python_type_name (inner));
      return FALSE;
    }
  n = g_variant_n_children (inner);
  items = wire_array_new ();
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (items, g_variant_get_child_value (inner, i));
  *out = g_steal_pointer (&items);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* list                                                                 */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  GPtrArray  *items;   /* "v" wires */
} ListReferent;

#define LIST(r) ((ListReferent *) (r))

static gboolean
list_init (MpReferent *self,
           MpCall     *call,
           MpArgv     *args,
           GError    **error)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GVariant) wire = NULL;

  LIST (self)->items = wire_array_new ();
  if (!args_count (args, "list()", 0, 1, error))
    return FALSE;
  if (!arg_present (args, 0))
    return TRUE;
  wire = arg_wire (args, 0);
  if (!list_elements (wire, "list()", &items, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      if (!store_wire (self, g_ptr_array_index (items, i), error))
        return FALSE;
      g_ptr_array_add (LIST (self)->items, g_variant_ref (g_ptr_array_index (items, i)));
    }
  return TRUE;
}

static void
list_finalize (MpReferent *self)
{
  GPtrArray *items = LIST (self)->items;

  for (guint i = 0; items != NULL && i < items->len; i++)
    mp_server_release_wire (self->server, g_ptr_array_index (items, i));
  g_clear_pointer (&LIST (self)->items, g_ptr_array_unref);
}

static GVariant *
list_get_value (MpReferent *self,
                GError    **error)
{
  return mp_wire_list (LIST (self)->items);
}

static gboolean
list_append (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GVariant *item;

  if (!args_count (args, "list.append()", 1, 1, error) ||
      (item = store_arg (self, args, 0, error)) == NULL)
    return FALSE;
  g_ptr_array_add (LIST (self)->items, item);
  return TRUE;
}

static gboolean
list_extend (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GPtrArray) items = NULL;
  guint stored = 0;

  if (!args_count (args, "list.extend()", 1, 1, error))
    return FALSE;
  wire = arg_wire (args, 0);
  if (!list_elements (wire, "list.extend()", &items, error))
    return FALSE;
  for (stored = 0; stored < items->len; stored++)
    if (!store_wire (self, g_ptr_array_index (items, stored), error))
      break;
  if (stored < items->len)
    {
      /* all or nothing: give back what was retained */
      for (guint i = 0; i < stored; i++)
        mp_call_release (call, g_ptr_array_index (items, i));
      return FALSE;
    }
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (LIST (self)->items, g_variant_ref (g_ptr_array_index (items, i)));
  return TRUE;
}

static gboolean
list_insert (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  gint64 index;
  GVariant *item;

  if (!args_count (args, "list.insert()", 2, 2, error) ||
      !arg_int (args, 0, "list.insert()", &index, error) ||
      (item = store_arg (self, args, 1, error)) == NULL)
    return FALSE;
  /* Python clamps the position instead of failing */
  if (index < 0)
    index = MAX (index + (gint64) items->len, 0);
  if (index > (gint64) items->len)
    index = items->len;
  g_ptr_array_insert (items, (gint) index, item);
  return TRUE;
}

static gboolean
list_pop (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  gint64 index;

  if (!args_count (args, "list.pop()", 0, 1, error) ||
      !arg_int_or (args, 0, -1, "list.pop()", &index, error))
    return FALSE;
  if (items->len == 0)
    {
      mp_set_error (error, MP_ERROR_INDEX, "pop from empty list");
      return FALSE;
    }
  if (!normalize_index (&index, items->len, "pop index out of range", error))
    return FALSE;
  *result = g_ptr_array_steal_index (items, index);
  mp_call_release (call, *result);
  return TRUE;
}

static gboolean
list_find (ListReferent *self,
           GVariant     *item,
           gint64        start,
           gint64        stop,
           gint64       *found)
{
  gint64 len = self->items->len;

  adjust_slice (len, &start, &stop);
  for (gint64 i = start; i < stop; i++)
    if (mp_serialize_wire_equal (g_ptr_array_index (self->items, i), item))
      {
        *found = i;
        return TRUE;
      }
  return FALSE;
}

static gboolean
list_remove (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GVariant) item = NULL;
  gint64 index;

  if (!args_count (args, "list.remove()", 1, 1, error))
    return FALSE;
  item = arg_wire (args, 0);
  if (!list_find (LIST (self), item, 0, G_MAXINT64, &index))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "list.remove(x): x not in list (Python: ValueError)");
      return FALSE;
    }
  mp_call_release (call, g_ptr_array_index (LIST (self)->items, index));
  g_ptr_array_remove_index (LIST (self)->items, index);
  return TRUE;
}

static gboolean
list_index (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GVariant) item = NULL;
  gint64 start, stop, index;

  if (!args_count (args, "list.index()", 1, 3, error) ||
      !arg_int_or (args, 1, 0, "list.index()", &start, error) ||
      !arg_int_or (args, 2, G_MAXINT64, "list.index()", &stop, error))
    return FALSE;
  item = arg_wire (args, 0);
  if (!list_find (LIST (self), item, start, stop, &index))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "list.index(x): x not in list (Python: ValueError)");
      return FALSE;
    }
  *result = mp_wire_int (index);
  return TRUE;
}

static gboolean
list_count (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  g_autoptr(GVariant) item = NULL;
  gint64 count = 0;

  if (!args_count (args, "list.count()", 1, 1, error))
    return FALSE;
  item = arg_wire (args, 0);
  for (guint i = 0; i < items->len; i++)
    if (mp_serialize_wire_equal (g_ptr_array_index (items, i), item))
      count++;
  *result = mp_wire_int (count);
  return TRUE;
}

static gboolean
list_contains (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GVariant) item = NULL;
  gint64 index;

  if (!args_count (args, "list.__contains__()", 1, 1, error))
    return FALSE;
  item = arg_wire (args, 0);
  *result = mp_wire_bool (list_find (LIST (self), item, 0, G_MAXINT64, &index));
  return TRUE;
}

static gboolean
list_len (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "list.__len__()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (LIST (self)->items->len);
  return TRUE;
}

/* __getitem__(index) or, with two arguments, the slice [start:stop] */
static gboolean
list_getitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  gint64 start, stop;

  if (!args_count (args, "list.__getitem__()", 1, 2, error) ||
      !arg_int (args, 0, "list.__getitem__()", &start, error))
    return FALSE;
  if (mp_argv_len (args) == 2)
    {
      g_autoptr(GPtrArray) slice = wire_array_new ();

      if (!arg_int_or (args, 1, G_MAXINT64, "list.__getitem__()", &stop, error))
        return FALSE;
      adjust_slice (items->len, &start, &stop);
      for (gint64 i = start; i < stop; i++)
        g_ptr_array_add (slice, g_variant_ref (g_ptr_array_index (items, i)));
      *result = mp_wire_list (slice);
      return TRUE;
    }
  if (!normalize_index (&start, items->len, "list index out of range", error))
    return FALSE;
  *result = g_variant_ref (g_ptr_array_index (items, start));
  return TRUE;
}

/* __setitem__(index, value) or, with three arguments, [start:stop] = list */
static gboolean
list_setitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  gint64 start, stop;

  if (!args_count (args, "list.__setitem__()", 2, 3, error) ||
      !arg_int (args, 0, "list.__setitem__()", &start, error))
    return FALSE;
  if (mp_argv_len (args) == 3)
    {
      g_autoptr(GVariant) wire = arg_wire (args, 2);
      g_autoptr(GPtrArray) replacement = NULL;
      guint stored;

      if (!arg_int_or (args, 1, G_MAXINT64, "list.__setitem__()", &stop, error) ||
          !list_elements (wire, "slice assignment", &replacement, error))
        return FALSE;
      for (stored = 0; stored < replacement->len; stored++)
        if (!store_wire (self, g_ptr_array_index (replacement, stored), error))
          break;
      if (stored < replacement->len)
        {
          for (guint i = 0; i < stored; i++)
            mp_call_release (call, g_ptr_array_index (replacement, i));
          return FALSE;
        }
      adjust_slice (items->len, &start, &stop);
      for (gint64 i = start; i < stop; i++)
        mp_call_release (call, g_ptr_array_index (items, i));
      g_ptr_array_remove_range (items, start, stop - start);
      for (guint i = 0; i < replacement->len; i++)
        g_ptr_array_insert (items, (gint) (start + i),
                            g_variant_ref (g_ptr_array_index (replacement, i)));
      return TRUE;
    }
  else
    {
      GVariant *item;

      if (!normalize_index (&start, items->len, "list assignment index out of range", error) ||
          (item = store_arg (self, args, 1, error)) == NULL)
        return FALSE;
      mp_call_release (call, g_ptr_array_index (items, start));
      g_variant_unref (g_ptr_array_index (items, start));
      g_ptr_array_index (items, start) = item;
      return TRUE;
    }
}

static gboolean
list_delitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  gint64 index;

  if (!args_count (args, "list.__delitem__()", 1, 1, error) ||
      !arg_int (args, 0, "list.__delitem__()", &index, error) ||
      !normalize_index (&index, items->len, "list assignment index out of range", error))
    return FALSE;
  mp_call_release (call, g_ptr_array_index (items, index));
  g_ptr_array_remove_index (items, index);
  return TRUE;
}

static gboolean
list_reverse (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;

  if (!args_count (args, "list.reverse()", 0, 0, error))
    return FALSE;
  for (guint i = 0, j = items->len; i + 1 < j; i++, j--)
    {
      gpointer tmp = items->pdata[i];
      items->pdata[i] = items->pdata[j - 1];
      items->pdata[j - 1] = tmp;
    }
  return TRUE;
}

static gboolean
list_sort (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new (items->len);
  SortData data = { NULL, FALSE };

  if (!args_count (args, "list.sort()", 0, 1, error) ||
      !arg_bool_or (args, 0, FALSE, "list.sort()", &data.reverse, error))
    return FALSE;
  /* sort borrowed pointers: an incomparable pair leaves the list as it was */
  for (guint i = 0; i < items->len; i++)
    g_ptr_array_add (sorted, g_ptr_array_index (items, i));
  g_ptr_array_sort_with_data (sorted, sort_compare, &data);
  if (data.error != NULL)
    {
      g_propagate_error (error, data.error);
      return FALSE;
    }
  if (items->len > 0)
    memcpy (items->pdata, sorted->pdata, items->len * sizeof (gpointer));
  return TRUE;
}

static const MpReferentMethod list_methods[] = {
  { "__contains__", list_contains },
  { "__delitem__", list_delitem },
  { "__getitem__", list_getitem },
  { "__len__", list_len },
  { "__setitem__", list_setitem },
  { "append", list_append },
  { "count", list_count },
  { "extend", list_extend },
  { "index", list_index },
  { "insert", list_insert },
  { "pop", list_pop },
  { "remove", list_remove },
  { "reverse", list_reverse },
  { "sort", list_sort },
  { NULL, NULL }
};

static const MpReferentClass list_class = {
  .typeid = "list",
  .instance_size = sizeof (ListReferent),
  .methods = list_methods,
  .init = list_init,
  .finalize = list_finalize,
  .get_value = list_get_value,
};

/* ------------------------------------------------------------------ */
/* dict and Namespace: string keys in insertion order                   */
/* ------------------------------------------------------------------ */

typedef struct {
  char     *key;
  GVariant *wire;
} DictEntry;

typedef struct {
  MpReferent  parent;
  GQueue      order;   /* DictEntry*, oldest first (Python's dict order) */
  GHashTable *index;   /* key -> GList* link in order */
} DictReferent;

#define DICT(r) ((DictReferent *) (r))

static void
dict_entry_free (DictEntry *entry)
{
  g_free (entry->key);
  g_clear_pointer (&entry->wire, g_variant_unref);
  g_free (entry);
}

static DictEntry *
dict_lookup (DictReferent *self,
             const char   *key)
{
  GList *link = g_hash_table_lookup (self->index, key);

  return link != NULL ? link->data : NULL;
}

/* stores an already retained @wire, releasing what it replaces */
static void
dict_put (DictReferent *self,
          MpCall       *call,
          const char   *key,
          GVariant     *wire)
{
  DictEntry *entry = dict_lookup (self, key);

  if (entry != NULL)
    {
      mp_call_release (call, entry->wire);
      g_variant_unref (entry->wire);
      entry->wire = wire;
      return;
    }
  entry = g_new0 (DictEntry, 1);
  entry->key = g_strdup (key);
  entry->wire = wire;
  g_queue_push_tail (&self->order, entry);
  g_hash_table_insert (self->index, entry->key, self->order.tail);
}

/* unlinks @key; the caller owns the returned entry */
static DictEntry *
dict_take (DictReferent *self,
           const char   *key)
{
  GList *link = g_hash_table_lookup (self->index, key);
  DictEntry *entry;

  if (link == NULL)
    return NULL;
  entry = link->data;
  g_hash_table_remove (self->index, key);
  g_queue_delete_link (&self->order, link);
  return entry;
}

static gboolean
dict_store_all (MpReferent *self,
                MpCall     *call,
                GVariant   *wire,
                const char *what,
                GError    **error)
{
  g_autoptr(GVariant) inner = unboxed (wire);
  gsize n;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("a{sv}")))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s needs a dict with string keys, not %s (Python: TypeError)",
                    what, python_type_name (inner));
      return FALSE;
    }
  if (!mp_wire_check (wire, error) || !mp_server_retain_wire (self->server, wire, error))
    return FALSE;
  n = g_variant_n_children (inner);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (inner, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) value = g_variant_get_child_value (entry, 1);

      /* each stored value takes its own share of the tokens retained for
       * the whole dict above, which are given back right after */
      if (!mp_server_retain_wire (self->server, value, error))
        {
          mp_call_release (call, wire);
          return FALSE;
        }
      dict_put (DICT (self), call, g_variant_get_string (key, NULL), g_steal_pointer (&value));
    }
  mp_call_release (call, wire);
  return TRUE;
}

static gboolean
dict_init (MpReferent *self,
           MpCall     *call,
           MpArgv     *args,
           GError    **error)
{
  g_autoptr(GVariant) wire = NULL;

  g_queue_init (&DICT (self)->order);
  DICT (self)->index = g_hash_table_new (g_str_hash, g_str_equal);
  if (!args_count (args, "dict()", 0, 1, error))
    return FALSE;
  if (!arg_present (args, 0))
    return TRUE;
  wire = arg_wire (args, 0);
  return dict_store_all (self, call, wire, "dict()", error);
}

static void
dict_finalize (MpReferent *self)
{
  DictEntry *entry;

  while ((entry = g_queue_pop_head (&DICT (self)->order)) != NULL)
    {
      mp_server_release_wire (self->server, entry->wire);
      dict_entry_free (entry);
    }
  g_clear_pointer (&DICT (self)->index, g_hash_table_unref);
}

static GVariant *
dict_as_wire (DictReferent *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));

  /* a{sv} keeps the order of the entries as built */
  for (GList *l = self->order.head; l != NULL; l = l->next)
    {
      DictEntry *entry = l->data;
      g_autoptr(GVariant) inner = unboxed (entry->wire);

      g_variant_builder_add (&builder, "{sv}", entry->key, inner);
    }
  return g_variant_new_variant (g_variant_builder_end (&builder));
}

static GVariant *
dict_get_value (MpReferent *self,
                GError    **error)
{
  return dict_as_wire (DICT (self));
}

static gboolean
dict_key_error (GError    **error,
                const char *key)
{
  mp_set_error (error, MP_ERROR_KEY, "'%s'", key);
  return FALSE;
}

static gboolean
dict_getitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!args_count (args, "dict.__getitem__()", 1, 1, error) ||
      !arg_string (args, 0, "dict.__getitem__()", &key, error))
    return FALSE;
  entry = dict_lookup (DICT (self), key);
  if (entry == NULL)
    return dict_key_error (error, key);
  *result = g_variant_ref (entry->wire);
  return TRUE;
}

static gboolean
dict_setitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  GVariant *value;

  if (!args_count (args, "dict.__setitem__()", 2, 2, error) ||
      !arg_string (args, 0, "dict.__setitem__()", &key, error) ||
      (value = store_arg (self, args, 1, error)) == NULL)
    return FALSE;
  dict_put (DICT (self), call, key, value);
  return TRUE;
}

static gboolean
dict_delitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!args_count (args, "dict.__delitem__()", 1, 1, error) ||
      !arg_string (args, 0, "dict.__delitem__()", &key, error))
    return FALSE;
  entry = dict_take (DICT (self), key);
  if (entry == NULL)
    return dict_key_error (error, key);
  mp_call_release (call, entry->wire);
  dict_entry_free (entry);
  return TRUE;
}

static gboolean
dict_get (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!args_count (args, "dict.get()", 1, 2, error) ||
      !arg_string (args, 0, "dict.get()", &key, error))
    return FALSE;
  entry = dict_lookup (DICT (self), key);
  if (entry != NULL)
    *result = g_variant_ref (entry->wire);
  else if (mp_argv_len (args) == 2)
    *result = arg_wire (args, 1);
  return TRUE;
}

static gboolean
dict_contains (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;

  if (!args_count (args, "dict.__contains__()", 1, 1, error) ||
      !arg_string (args, 0, "dict.__contains__()", &key, error))
    return FALSE;
  *result = mp_wire_bool (dict_lookup (DICT (self), key) != NULL);
  return TRUE;
}

static gboolean
dict_len (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "dict.__len__()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (DICT (self)->order.length);
  return TRUE;
}

typedef enum { VIEW_KEYS, VIEW_VALUES, VIEW_ITEMS } DictView;

static GVariant *
dict_view (DictReferent *self,
           DictView      view)
{
  g_autoptr(GPtrArray) wires = wire_array_new ();

  for (GList *l = self->order.head; l != NULL; l = l->next)
    {
      DictEntry *entry = l->data;

      if (view == VIEW_KEYS)
        g_ptr_array_add (wires, g_variant_ref_sink (mp_wire_string (entry->key)));
      else if (view == VIEW_VALUES)
        g_ptr_array_add (wires, g_variant_ref (entry->wire));
      else
        {
          g_autoptr(GPtrArray) pair = wire_array_new ();

          g_ptr_array_add (pair, g_variant_ref_sink (mp_wire_string (entry->key)));
          g_ptr_array_add (pair, g_variant_ref (entry->wire));
          g_ptr_array_add (wires, g_variant_ref_sink (mp_wire_list (pair)));
        }
    }
  return mp_wire_list (wires);
}

static gboolean
dict_keys (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "dict.keys()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_KEYS);
  return TRUE;
}

static gboolean
dict_values (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "dict.values()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_VALUES);
  return TRUE;
}

static gboolean
dict_items (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "dict.items()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_ITEMS);
  return TRUE;
}

static gboolean
dict_pop (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!args_count (args, "dict.pop()", 1, 2, error) ||
      !arg_string (args, 0, "dict.pop()", &key, error))
    return FALSE;
  entry = dict_take (DICT (self), key);
  if (entry == NULL)
    {
      if (mp_argv_len (args) == 2)
        {
          *result = arg_wire (args, 1);
          return TRUE;
        }
      return dict_key_error (error, key);
    }
  *result = g_steal_pointer (&entry->wire);
  mp_call_release (call, *result);
  dict_entry_free (entry);
  return TRUE;
}

/* Python 3.7+: the most recently inserted item, as a [key, value] pair */
static gboolean
dict_popitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GPtrArray) pair = wire_array_new ();
  DictEntry *entry;

  if (!args_count (args, "dict.popitem()", 0, 0, error))
    return FALSE;
  if (DICT (self)->order.tail == NULL)
    {
      mp_set_error (error, MP_ERROR_KEY, "popitem(): dictionary is empty");
      return FALSE;
    }
  entry = DICT (self)->order.tail->data;
  entry = dict_take (DICT (self), entry->key);
  g_ptr_array_add (pair, g_variant_ref_sink (mp_wire_string (entry->key)));
  g_ptr_array_add (pair, g_variant_ref (entry->wire));
  mp_call_release (call, entry->wire);
  dict_entry_free (entry);
  *result = mp_wire_list (pair);
  return TRUE;
}

static gboolean
dict_setdefault (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;
  GVariant *value;

  if (!args_count (args, "dict.setdefault()", 1, 2, error) ||
      !arg_string (args, 0, "dict.setdefault()", &key, error))
    return FALSE;
  entry = dict_lookup (DICT (self), key);
  if (entry != NULL)
    {
      *result = g_variant_ref (entry->wire);
      return TRUE;
    }
  if (mp_argv_len (args) == 2)
    value = store_arg (self, args, 1, error);
  else
    value = g_variant_ref_sink (mp_wire_none ());
  if (value == NULL)
    return FALSE;
  dict_put (DICT (self), call, key, value);
  *result = g_variant_ref (value);
  return TRUE;
}

static gboolean
dict_update (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autoptr(GVariant) wire = NULL;

  if (!args_count (args, "dict.update()", 1, 1, error))
    return FALSE;
  wire = arg_wire (args, 0);
  return dict_store_all (self, call, wire, "dict.update()", error);
}

static gboolean
dict_clear (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  DictEntry *entry;

  if (!args_count (args, "dict.clear()", 0, 0, error))
    return FALSE;
  g_hash_table_remove_all (DICT (self)->index);
  while ((entry = g_queue_pop_head (&DICT (self)->order)) != NULL)
    {
      mp_call_release (call, entry->wire);
      dict_entry_free (entry);
    }
  return TRUE;
}

static gboolean
dict_copy (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "dict.copy()", 0, 0, error))
    return FALSE;
  *result = dict_as_wire (DICT (self));
  return TRUE;
}

static const MpReferentMethod dict_methods[] = {
  { "__contains__", dict_contains },
  { "__delitem__", dict_delitem },
  { "__getitem__", dict_getitem },
  { "__len__", dict_len },
  { "__setitem__", dict_setitem },
  { "clear", dict_clear },
  { "copy", dict_copy },
  { "get", dict_get },
  { "items", dict_items },
  { "keys", dict_keys },
  { "pop", dict_pop },
  { "popitem", dict_popitem },
  { "setdefault", dict_setdefault },
  { "update", dict_update },
  { "values", dict_values },
  { NULL, NULL }
};

static const MpReferentClass dict_class = {
  .typeid = "dict",
  .instance_size = sizeof (DictReferent),
  .methods = dict_methods,
  .init = dict_init,
  .finalize = dict_finalize,
  .get_value = dict_get_value,
};

static gboolean
namespace_init (MpReferent *self,
                MpCall     *call,
                MpArgv     *args,
                GError    **error)
{
  g_queue_init (&DICT (self)->order);
  DICT (self)->index = g_hash_table_new (g_str_hash, g_str_equal);
  return args_count (args, "Namespace()", 0, 0, error);
}

static gboolean
namespace_attribute_error (GError    **error,
                           const char *name)
{
  mp_set_error (error, MP_ERROR_KEY,
                "'Namespace' object has no attribute '%s' (Python: AttributeError)", name);
  return FALSE;
}

static gboolean
namespace_getattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;
  DictEntry *entry;

  if (!args_count (args, "Namespace.__getattribute__()", 1, 1, error) ||
      !arg_string (args, 0, "Namespace.__getattribute__()", &name, error))
    return FALSE;
  entry = dict_lookup (DICT (self), name);
  if (entry == NULL)
    return namespace_attribute_error (error, name);
  *result = g_variant_ref (entry->wire);
  return TRUE;
}

static gboolean
namespace_setattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;
  GVariant *value;

  if (!args_count (args, "Namespace.__setattr__()", 2, 2, error) ||
      !arg_string (args, 0, "Namespace.__setattr__()", &name, error) ||
      (value = store_arg (self, args, 1, error)) == NULL)
    return FALSE;
  dict_put (DICT (self), call, name, value);
  return TRUE;
}

static gboolean
namespace_delattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;
  DictEntry *entry;

  if (!args_count (args, "Namespace.__delattr__()", 1, 1, error) ||
      !arg_string (args, 0, "Namespace.__delattr__()", &name, error))
    return FALSE;
  entry = dict_take (DICT (self), name);
  if (entry == NULL)
    return namespace_attribute_error (error, name);
  mp_call_release (call, entry->wire);
  dict_entry_free (entry);
  return TRUE;
}

static const MpReferentMethod namespace_methods[] = {
  { "__delattr__", namespace_delattr },
  { "__getattribute__", namespace_getattr },
  { "__setattr__", namespace_setattr },
  { NULL, NULL }
};

static const MpReferentClass namespace_class = {
  .typeid = "Namespace",
  .instance_size = sizeof (DictReferent),
  .methods = namespace_methods,
  .init = namespace_init,
  .finalize = dict_finalize,
  .get_value = dict_get_value,
};

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
  if (!args_count (args, "Value()", 1, 2, error) ||
      !arg_string (args, 0, "Value()", &VALUE (self)->typecode, error))
    return FALSE;
  /* Like CPython's managers.Value, the typecode is NOT checked or applied:
   * Value('i', 'text') happily stores a string. Only Array checks. */
  if (arg_present (args, 1))
    VALUE (self)->wire = store_arg (self, args, 1, error);
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
  if (!args_count (args, "Value.get()", 0, 0, error))
    return FALSE;
  *result = g_variant_ref (VALUE (self)->wire);
  return TRUE;
}

static gboolean
value_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GVariant *wire;

  if (!args_count (args, "Value.set()", 1, 1, error) ||
      (wire = store_arg (self, args, 0, error)) == NULL)
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

static const MpReferentClass value_class = {
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
  g_autoptr(GVariant) inner = unboxed (wire);

  if (tc->is_float)
    {
      double d;

      if (!mp_wire_get_double (inner, &d))
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "must be real number, not %s (Python: TypeError); array '%c' holds floats",
                        python_type_name (inner), code);
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
                        python_type_name (inner), code);
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

  ARRAY (self)->items = wire_array_new ();
  if (!args_count (args, "Array()", 1, 2, error) ||
      !arg_string (args, 0, "Array()", &code, error))
    return FALSE;
  if (strlen (code) != 1 || typecode_lookup (code[0]) == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "bad typecode '%s' (must be b, B, h, H, i, I, l, L, q, Q, f or d) (Python: ValueError)",
                    code);
      return FALSE;
    }
  ARRAY (self)->typecode = code[0];
  if (!arg_present (args, 1))
    return TRUE;
  wire = arg_wire (args, 1);
  if (!list_elements (wire, "Array()", &items, error))
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
  if (!args_count (args, "array.__len__()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (ARRAY (self)->items->len);
  return TRUE;
}

static gboolean
array_getitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = ARRAY (self)->items;
  gint64 index;

  if (!args_count (args, "array.__getitem__()", 1, 1, error) ||
      !arg_int (args, 0, "array.__getitem__()", &index, error) ||
      !normalize_index (&index, items->len, "array index out of range", error))
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

  if (!args_count (args, "array.__setitem__()", 2, 2, error) ||
      !arg_int (args, 0, "array.__setitem__()", &index, error) ||
      !normalize_index (&index, items->len, "array assignment index out of range", error))
    return FALSE;
  wire = arg_wire (args, 1);
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

static const MpReferentClass array_class = {
  .typeid = "Array",
  .instance_size = sizeof (ArrayReferent),
  .methods = array_methods,
  .init = array_init,
  .finalize = array_finalize,
  .get_value = array_get_value,
};

/* ------------------------------------------------------------------ */
/* Lock and RLock                                                       */
/* ------------------------------------------------------------------ */

/*
 * The owner of a lock is a client thread: (process nonce, thread). A Lock
 * may be released by anyone (threading.Lock); an RLock only by its owner.
 *
 * When a client process goes away while holding a lock (its anchor
 * connection ends), the server releases the lock. CPython leaves it held
 * for ever, so every other client deadlocks; a dead client can never
 * release it, so mpshare does what a robust mutex does. The data the lock
 * protected may be half-updated: that is the price, as with EOWNERDEAD.
 */
typedef struct {
  MpReferent  parent;
  gboolean    recursive;
  guint64     owner_nonce;
  guint64     owner_thread;
  guint       count;
  GQueue      waiters;
} LockReferent;

#define LOCK(r) ((LockReferent *) (r))

static gboolean
lock_init (MpReferent *self,
           MpCall     *call,
           MpArgv     *args,
           GError    **error)
{
  /* named as called: Lock() or RLock() */
  g_autofree char *what = g_strconcat (self->klass->typeid, "()", NULL);

  g_queue_init (&LOCK (self)->waiters);
  return args_count (args, what, 0, 0, error);
}

static gboolean
rlock_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  LOCK (self)->recursive = TRUE;
  return lock_init (self, call, args, error);
}

static gboolean
lock_owned_by (LockReferent *self,
               MpCall       *call)
{
  return self->count > 0 && self->owner_nonce == call->nonce &&
         self->owner_thread == call->thread;
}

/* with the mutex held; *acquired says whether it was */
static gboolean
lock_acquire_locked (LockReferent *self,
                     MpCall       *call,
                     gboolean      blocking,
                     gint64        deadline,
                     gboolean     *acquired,
                     GError      **error)
{
  for (;;)
    {
      if (self->count == 0)
        {
          self->count = 1;
          self->owner_nonce = call->nonce;
          self->owner_thread = call->thread;
          *acquired = TRUE;
          return TRUE;
        }
      if (self->recursive && lock_owned_by (self, call))
        {
          self->count++;
          *acquired = TRUE;
          return TRUE;
        }
      if (!blocking || mp_deadline_passed (deadline))
        {
          *acquired = FALSE;
          return TRUE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->waiters, deadline, error))
        return FALSE;
    }
}

static gboolean
lock_release_locked (LockReferent *self,
                     MpCall       *call,
                     GError      **error)
{
  if (self->count == 0 || (self->recursive && !lock_owned_by (self, call)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    self->recursive ? "cannot release un-acquired lock (Python: RuntimeError)"
                                    : "release unlocked lock (Python: RuntimeError)");
      return FALSE;
    }
  if (--self->count == 0)
    {
      self->owner_nonce = self->owner_thread = 0;
      mp_waiters_wake_all (&self->waiters);
    }
  return TRUE;
}

static gboolean
acquire_args (MpArgv     *args,
              const char *what,
              gboolean   *blocking,
              gint64     *deadline,
              GError    **error)
{
  return args_count (args, what, 0, 2, error) &&
         arg_bool_or (args, 0, TRUE, what, blocking, error) &&
         arg_deadline (args, 1, what, deadline, error);
}

static gboolean
lock_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean blocking, acquired;
  gint64 deadline;

  if (!acquire_args (args, "Lock.acquire()", &blocking, &deadline, error) ||
      !lock_acquire_locked (LOCK (self), call, blocking, deadline, &acquired, error))
    return FALSE;
  *result = mp_wire_bool (acquired);
  return TRUE;
}

static gboolean
lock_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return args_count (args, "Lock.release()", 0, 0, error) &&
         lock_release_locked (LOCK (self), call, error);
}

static void
lock_release_owner (MpReferent *self,
                    guint64     nonce)
{
  g_mutex_lock (&self->mutex);
  if (LOCK (self)->count > 0 && LOCK (self)->owner_nonce == nonce)
    {
      LOCK (self)->count = 0;
      LOCK (self)->owner_nonce = LOCK (self)->owner_thread = 0;
      mp_waiters_wake_all (&LOCK (self)->waiters);
    }
  g_mutex_unlock (&self->mutex);
}

static const MpReferentMethod lock_methods[] = {
  { "acquire", lock_acquire },
  { "release", lock_release },
  { NULL, NULL }
};

static const MpReferentClass lock_class = {
  .typeid = "Lock",
  .instance_size = sizeof (LockReferent),
  .methods = lock_methods,
  .init = lock_init,
  .release_owner = lock_release_owner,
};

static const MpReferentClass rlock_class = {
  .typeid = "RLock",
  .instance_size = sizeof (LockReferent),
  .methods = lock_methods,
  .init = rlock_init,
  .release_owner = lock_release_owner,
};

gboolean
mp_referent_is_lock (MpReferent *self)
{
  return self->klass == &lock_class || self->klass == &rlock_class;
}

/* ------------------------------------------------------------------ */
/* Semaphore and BoundedSemaphore (no owner: anyone may release)        */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gboolean    bounded;
  gint64      initial;
  gint64      value;
  GQueue      waiters;
} SemaphoreReferent;

#define SEMAPHORE(r) ((SemaphoreReferent *) (r))

static gboolean
semaphore_init (MpReferent *self,
                MpCall     *call,
                MpArgv     *args,
                GError    **error)
{
  /* named as called: Semaphore() or BoundedSemaphore() */
  g_autofree char *what = g_strconcat (self->klass->typeid, "()", NULL);

  g_queue_init (&SEMAPHORE (self)->waiters);
  if (!args_count (args, what, 0, 1, error) ||
      !arg_int_or (args, 0, 1, what, &SEMAPHORE (self)->value, error))
    return FALSE;
  if (SEMAPHORE (self)->value < 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "semaphore initial value must be >= 0 (Python: ValueError)");
      return FALSE;
    }
  SEMAPHORE (self)->initial = SEMAPHORE (self)->value;
  return TRUE;
}

static gboolean
bounded_semaphore_init (MpReferent *self,
                        MpCall     *call,
                        MpArgv     *args,
                        GError    **error)
{
  SEMAPHORE (self)->bounded = TRUE;
  return semaphore_init (self, call, args, error);
}

static gboolean
semaphore_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  SemaphoreReferent *sem = SEMAPHORE (self);
  gboolean blocking;
  gint64 deadline;

  if (!acquire_args (args, "Semaphore.acquire()", &blocking, &deadline, error))
    return FALSE;
  while (sem->value == 0)
    {
      if (!blocking || mp_deadline_passed (deadline))
        {
          *result = mp_wire_bool (FALSE);
          return TRUE;
        }
      if (!mp_call_wait_queued (call, &self->mutex, &sem->waiters, deadline, error))
        return FALSE;
    }
  sem->value--;
  *result = mp_wire_bool (TRUE);
  return TRUE;
}

static gboolean
semaphore_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  SemaphoreReferent *sem = SEMAPHORE (self);
  gint64 n;

  if (!args_count (args, "Semaphore.release()", 0, 1, error) ||
      !arg_int_or (args, 0, 1, "Semaphore.release()", &n, error))
    return FALSE;
  if (n < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "n must be one or more (Python: ValueError)");
      return FALSE;
    }
  if (sem->bounded && sem->value + n > sem->initial)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Semaphore released too many times (Python: ValueError)");
      return FALSE;
    }
  sem->value += n;
  mp_waiters_wake_all (&sem->waiters);
  return TRUE;
}

static const MpReferentMethod semaphore_methods[] = {
  { "acquire", semaphore_acquire },
  { "release", semaphore_release },
  { NULL, NULL }
};

static const MpReferentClass semaphore_class = {
  .typeid = "Semaphore",
  .instance_size = sizeof (SemaphoreReferent),
  .methods = semaphore_methods,
  .init = semaphore_init,
};

static const MpReferentClass bounded_semaphore_class = {
  .typeid = "BoundedSemaphore",
  .instance_size = sizeof (SemaphoreReferent),
  .methods = semaphore_methods,
  .init = bounded_semaphore_init,
};

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

/* Lock order: the condition's mutex, then its lock's mutex. */
typedef struct {
  MpReferent  parent;
  MpReferent *lock;        /* a Lock or RLock */
  GVariant   *lock_token;  /* the token that keeps a shared lock alive */
  GQueue      waiters;     /* MpWaiter*, first come first notified */
} ConditionReferent;

#define CONDITION(r) ((ConditionReferent *) (r))

static gboolean
condition_init (MpReferent *self,
                MpCall     *call,
                MpArgv     *args,
                GError    **error)
{
  ConditionReferent *cond = CONDITION (self);

  g_queue_init (&cond->waiters);
  if (!args_count (args, "Condition()", 0, 1, error))
    return FALSE;
  if (!arg_present (args, 0))
    {
      /* Python's default: a fresh RLock of the condition's own */
      MpArgv none = MP_ARGV_INIT;

      cond->lock = mp_referent_new (&rlock_class, self->server, call, &none, error);
      return cond->lock != NULL;
    }
  cond->lock_token = arg_wire (args, 0);
  cond->lock = mp_server_lookup_token (self->server, cond->lock_token, error);
  if (cond->lock == NULL)
    {
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      g_prefix_error (error, "Condition(): ");
      return FALSE;
    }
  if (!mp_referent_is_lock (cond->lock))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Condition() needs a Lock or an RLock proxy, not a %s", cond->lock->klass->typeid);
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      return FALSE;
    }
  if (!mp_server_retain_wire (self->server, cond->lock_token, error))
    {
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      return FALSE;
    }
  return TRUE;
}

static void
condition_finalize (MpReferent *self)
{
  ConditionReferent *cond = CONDITION (self);

  if (cond->lock_token != NULL)
    mp_server_release_wire (self->server, cond->lock_token);
  g_clear_pointer (&cond->lock_token, g_variant_unref);
  g_clear_pointer (&cond->lock, mp_referent_unref);
}

static gboolean
condition_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  MpReferent *lock = CONDITION (self)->lock;
  gboolean ok;

  /* the condition's mutex is not needed: the lock has its own */
  g_mutex_unlock (&self->mutex);
  g_mutex_lock (&lock->mutex);
  ok = lock_acquire (lock, call, args, result, error);
  g_mutex_unlock (&lock->mutex);
  g_mutex_lock (&self->mutex);
  return ok;
}

static gboolean
condition_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  MpReferent *lock = CONDITION (self)->lock;
  gboolean ok;

  g_mutex_lock (&lock->mutex);
  ok = lock_release (lock, call, args, result, error);
  g_mutex_unlock (&lock->mutex);
  return ok;
}

/* Python's Condition._is_owned(): an RLock's owner, or a Lock held by anyone */
static gboolean
condition_lock_owned (ConditionReferent *self,
                      MpCall            *call)
{
  LockReferent *lock = LOCK (self->lock);
  gboolean owned;

  g_mutex_lock (&self->lock->mutex);
  owned = lock->recursive ? lock_owned_by (lock, call) : lock->count > 0;
  g_mutex_unlock (&self->lock->mutex);
  return owned;
}

static gboolean
condition_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  ConditionReferent *cond = CONDITION (self);
  LockReferent *lock = LOCK (cond->lock);
  MpWaiter waiter = { call->conn, FALSE };
  GList link = { &waiter, NULL, NULL };
  gint64 deadline;
  guint saved;
  gboolean acquired, ok = TRUE;
  g_autoptr(GError) wait_error = NULL;

  if (!args_count (args, "Condition.wait()", 0, 1, error) ||
      !arg_deadline (args, 0, "Condition.wait()", &deadline, error))
    return FALSE;
  if (!condition_lock_owned (cond, call))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "cannot wait on un-acquired lock (Python: RuntimeError)");
      return FALSE;
    }

  /* queue up before letting go of the lock, so no notify can be missed */
  g_queue_push_tail_link (&cond->waiters, &link);
  g_mutex_lock (&cond->lock->mutex);
  saved = lock->count;
  lock->count = 0;
  lock->owner_nonce = lock->owner_thread = 0;
  mp_waiters_wake_all (&lock->waiters);
  g_mutex_unlock (&cond->lock->mutex);

  while (!waiter.flagged && !mp_deadline_passed (deadline))
    if (!mp_call_wait (call, &self->mutex, deadline, &wait_error))
      break;
  if (!waiter.flagged)
    g_queue_unlink (&cond->waiters, &link);
  *result = mp_wire_bool (waiter.flagged);

  /* take the lock back as it was held, even after a timeout */
  g_mutex_unlock (&self->mutex);
  g_mutex_lock (&cond->lock->mutex);
  if (wait_error == NULL)
    ok = lock_acquire_locked (lock, call, TRUE, -1, &acquired, &wait_error);
  if (ok && wait_error == NULL)
    lock->count = saved;
  g_mutex_unlock (&cond->lock->mutex);
  g_mutex_lock (&self->mutex);

  if (wait_error != NULL)
    {
      g_clear_pointer (result, g_variant_unref);
      g_propagate_error (error, g_steal_pointer (&wait_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
condition_notify_n (ConditionReferent *self,
                    MpCall            *call,
                    gint64             n,
                    GError           **error)
{
  if (!condition_lock_owned (self, call))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "cannot notify on un-acquired lock (Python: RuntimeError)");
      return FALSE;
    }
  while (n-- > 0 && self->waiters.head != NULL)
    {
      /* the links live on the waiters' stacks: unlink, never free */
      MpWaiter *waiter = g_queue_pop_head_link (&self->waiters)->data;

      waiter->flagged = TRUE;
      mp_waiter_wake (waiter);
    }
  return TRUE;
}

static gboolean
condition_notify (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gint64 n;

  return args_count (args, "Condition.notify()", 0, 1, error) &&
         arg_int_or (args, 0, 1, "Condition.notify()", &n, error) &&
         condition_notify_n (CONDITION (self), call, n, error);
}

static gboolean
condition_notify_all (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return args_count (args, "Condition.notify_all()", 0, 0, error) &&
         condition_notify_n (CONDITION (self), call, G_MAXINT64, error);
}

static void
condition_release_owner (MpReferent *self,
                         guint64     nonce)
{
  /* a lock shared with the registry is released there too; twice is harmless */
  lock_release_owner (CONDITION (self)->lock, nonce);
}

static const MpReferentMethod condition_methods[] = {
  { "acquire", condition_acquire },
  { "notify", condition_notify },
  { "notify_all", condition_notify_all },
  { "release", condition_release },
  { "wait", condition_wait },
  { NULL, NULL }
};

static const MpReferentClass condition_class = {
  .typeid = "Condition",
  .instance_size = sizeof (ConditionReferent),
  .methods = condition_methods,
  .init = condition_init,
  .finalize = condition_finalize,
  .release_owner = condition_release_owner,
};

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gboolean    flag;
  GQueue      waiters;
} EventReferent;

#define EVENT(r) ((EventReferent *) (r))

static gboolean
event_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  g_queue_init (&EVENT (self)->waiters);
  return args_count (args, "Event()", 0, 0, error);
}

static gboolean
event_is_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Event.is_set()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (EVENT (self)->flag);
  return TRUE;
}

static gboolean
event_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Event.set()", 0, 0, error))
    return FALSE;
  EVENT (self)->flag = TRUE;
  mp_waiters_wake_all (&EVENT (self)->waiters);
  return TRUE;
}

static gboolean
event_clear (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Event.clear()", 0, 0, error))
    return FALSE;
  EVENT (self)->flag = FALSE;
  return TRUE;
}

static gboolean
event_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gint64 deadline;

  if (!args_count (args, "Event.wait()", 0, 1, error) ||
      !arg_deadline (args, 0, "Event.wait()", &deadline, error))
    return FALSE;
  while (!EVENT (self)->flag && !mp_deadline_passed (deadline))
    if (!mp_call_wait_queued (call, &self->mutex, &EVENT (self)->waiters, deadline, error))
      return FALSE;
  *result = mp_wire_bool (EVENT (self)->flag);
  return TRUE;
}

static const MpReferentMethod event_methods[] = {
  { "clear", event_clear },
  { "is_set", event_is_set },
  { "set", event_set },
  { "wait", event_wait },
  { NULL, NULL }
};

static const MpReferentClass event_class = {
  .typeid = "Event",
  .instance_size = sizeof (EventReferent),
  .methods = event_methods,
  .init = event_init,
};

/* ------------------------------------------------------------------ */
/* Barrier                                                              */
/* ------------------------------------------------------------------ */

typedef enum {
  BARRIER_WAITING,
  BARRIER_PASSED,
  BARRIER_BROKEN,
} BarrierOutcome;

typedef struct {
  MpWaiter        waiter;
  BarrierOutcome  outcome;
  GList           link;
} BarrierWaiter;

typedef struct {
  MpReferent  parent;
  gint64      parties;
  gboolean    broken;
  GQueue      waiting;   /* BarrierWaiter* of the current round */
} BarrierReferent;

#define BARRIER(r) ((BarrierReferent *) (r))

static gboolean
barrier_init (MpReferent *self,
              MpCall     *call,
              MpArgv     *args,
              GError    **error)
{
  g_queue_init (&BARRIER (self)->waiting);
  if (!args_count (args, "Barrier()", 1, 1, error) ||
      !arg_int (args, 0, "Barrier()", &BARRIER (self)->parties, error))
    return FALSE;
  if (BARRIER (self)->parties < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "parties must be > 0 (Python: ValueError)");
      return FALSE;
    }
  return TRUE;
}

/* ends the current round: everybody waiting passes or breaks */
static void
barrier_end_round (BarrierReferent *self,
                   BarrierOutcome   outcome)
{
  BarrierWaiter *w;

  while ((w = g_queue_peek_head (&self->waiting)) != NULL)
    {
      g_queue_unlink (&self->waiting, &w->link);
      w->outcome = outcome;
      mp_waiter_wake (&w->waiter);
    }
}

static gboolean
broken_barrier (GError **error)
{
  mp_set_error (error, MP_ERROR_BROKEN_BARRIER, "the barrier is broken");
  return FALSE;
}

static gboolean
barrier_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  BarrierReferent *barrier = BARRIER (self);
  BarrierWaiter w = { { call->conn, FALSE }, BARRIER_WAITING, { NULL, NULL, NULL } };
  gint64 deadline, index;

  if (!args_count (args, "Barrier.wait()", 0, 1, error) ||
      !arg_deadline (args, 0, "Barrier.wait()", &deadline, error))
    return FALSE;
  if (barrier->broken)
    return broken_barrier (error);

  index = barrier->waiting.length;
  if (index + 1 == barrier->parties)
    {
      barrier_end_round (barrier, BARRIER_PASSED);
      *result = mp_wire_int (index);
      return TRUE;
    }

  w.link.data = &w;
  g_queue_push_tail_link (&barrier->waiting, &w.link);
  while (w.outcome == BARRIER_WAITING)
    {
      g_autoptr(GError) wait_error = NULL;

      if (mp_deadline_passed (deadline) ||
          !mp_call_wait (call, &self->mutex, deadline, &wait_error))
        {
          if (w.outcome != BARRIER_WAITING)
            break;
          /* Python: a timeout breaks the barrier for everybody */
          g_queue_unlink (&barrier->waiting, &w.link);
          barrier->broken = TRUE;
          barrier_end_round (barrier, BARRIER_BROKEN);
          if (wait_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&wait_error));
              return FALSE;
            }
          return broken_barrier (error);
        }
    }
  if (w.outcome == BARRIER_BROKEN)
    return broken_barrier (error);
  *result = mp_wire_int (index);
  return TRUE;
}

static gboolean
barrier_abort (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Barrier.abort()", 0, 0, error))
    return FALSE;
  BARRIER (self)->broken = TRUE;
  barrier_end_round (BARRIER (self), BARRIER_BROKEN);
  return TRUE;
}

static gboolean
barrier_reset (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Barrier.reset()", 0, 0, error))
    return FALSE;
  /* those waiting now get BrokenBarrierError; later rounds work again */
  barrier_end_round (BARRIER (self), BARRIER_BROKEN);
  BARRIER (self)->broken = FALSE;
  return TRUE;
}

static gboolean
barrier_getattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;

  if (!args_count (args, "Barrier.__getattribute__()", 1, 1, error) ||
      !arg_string (args, 0, "Barrier.__getattribute__()", &name, error))
    return FALSE;
  if (strcmp (name, "parties") == 0)
    *result = mp_wire_int (BARRIER (self)->parties);
  else if (strcmp (name, "n_waiting") == 0)
    *result = mp_wire_int (BARRIER (self)->waiting.length);
  else if (strcmp (name, "broken") == 0)
    *result = mp_wire_bool (BARRIER (self)->broken);
  else
    {
      mp_set_error (error, MP_ERROR_KEY,
                    "'Barrier' object has no attribute '%s' (Python: AttributeError); it has parties, n_waiting and broken",
                    name);
      return FALSE;
    }
  return TRUE;
}

static const MpReferentMethod barrier_methods[] = {
  { "__getattribute__", barrier_getattr },
  { "abort", barrier_abort },
  { "reset", barrier_reset },
  { "wait", barrier_wait },
  { NULL, NULL }
};

static const MpReferentClass barrier_class = {
  .typeid = "Barrier",
  .instance_size = sizeof (BarrierReferent),
  .methods = barrier_methods,
  .init = barrier_init,
};

/* ------------------------------------------------------------------ */
/* Queue                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gint64      maxsize;          /* <= 0: unbounded */
  GQueue      items;            /* "v" wires */
  gint64      unfinished;
  GQueue      getters;
  GQueue      putters;
  GQueue      joiners;
} QueueReferent;

#define QUEUE(r) ((QueueReferent *) (r))

static gboolean
queue_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  QueueReferent *queue = QUEUE (self);

  g_queue_init (&queue->items);
  g_queue_init (&queue->getters);
  g_queue_init (&queue->putters);
  g_queue_init (&queue->joiners);
  return args_count (args, "Queue()", 0, 1, error) &&
         arg_int_or (args, 0, 0, "Queue()", &queue->maxsize, error);
}

static void
queue_finalize (MpReferent *self)
{
  GVariant *wire;

  while ((wire = g_queue_pop_head (&QUEUE (self)->items)) != NULL)
    {
      mp_server_release_wire (self->server, wire);
      g_variant_unref (wire);
    }
}

static gboolean
queue_is_full (QueueReferent *self)
{
  return self->maxsize > 0 && (gint64) self->items.length >= self->maxsize;
}

static gboolean
queue_put_wire (QueueReferent *self,
                MpCall        *call,
                MpArgv        *args,
                gboolean       block,
                gint64         deadline,
                GError       **error)
{
  GVariant *item;

  while (queue_is_full (self))
    {
      if (!block || mp_deadline_passed (deadline))
        {
          mp_set_error (error, MP_ERROR_FULL, "the queue is full (maxsize %" G_GINT64_FORMAT ")",
                        self->maxsize);
          return FALSE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->putters, deadline, error))
        return FALSE;
    }
  item = store_arg (&self->parent, args, 0, error);
  if (item == NULL)
    return FALSE;
  g_queue_push_tail (&self->items, item);
  self->unfinished++;
  mp_waiters_wake_all (&self->getters);
  return TRUE;
}

static gboolean
queue_get_wire (QueueReferent *self,
                MpCall        *call,
                gboolean       block,
                gint64         deadline,
                GVariant     **result,
                GError       **error)
{
  while (self->items.length == 0)
    {
      if (!block || mp_deadline_passed (deadline))
        {
          mp_set_error (error, MP_ERROR_EMPTY, "the queue is empty");
          return FALSE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->getters, deadline, error))
        return FALSE;
    }
  *result = g_queue_pop_head (&self->items);
  mp_call_release (call, *result);
  mp_waiters_wake_all (&self->putters);
  return TRUE;
}

static gboolean
queue_put (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean block;
  gint64 deadline;

  return args_count (args, "Queue.put()", 1, 3, error) &&
         arg_bool_or (args, 1, TRUE, "Queue.put()", &block, error) &&
         arg_deadline (args, 2, "Queue.put()", &deadline, error) &&
         queue_put_wire (QUEUE (self), call, args, block, deadline, error);
}

static gboolean
queue_put_nowait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return args_count (args, "Queue.put_nowait()", 1, 1, error) &&
         queue_put_wire (QUEUE (self), call, args, FALSE, -1, error);
}

static gboolean
queue_get (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean block;
  gint64 deadline;

  return args_count (args, "Queue.get()", 0, 2, error) &&
         arg_bool_or (args, 0, TRUE, "Queue.get()", &block, error) &&
         arg_deadline (args, 1, "Queue.get()", &deadline, error) &&
         queue_get_wire (QUEUE (self), call, block, deadline, result, error);
}

static gboolean
queue_get_nowait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return args_count (args, "Queue.get_nowait()", 0, 0, error) &&
         queue_get_wire (QUEUE (self), call, FALSE, -1, result, error);
}

static gboolean
queue_qsize (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Queue.qsize()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (QUEUE (self)->items.length);
  return TRUE;
}

static gboolean
queue_empty (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Queue.empty()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (QUEUE (self)->items.length == 0);
  return TRUE;
}

static gboolean
queue_full (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Queue.full()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (queue_is_full (QUEUE (self)));
  return TRUE;
}

static gboolean
queue_task_done (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  QueueReferent *queue = QUEUE (self);

  if (!args_count (args, "Queue.task_done()", 0, 0, error))
    return FALSE;
  if (queue->unfinished <= 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "task_done() called too many times (Python: ValueError)");
      return FALSE;
    }
  if (--queue->unfinished == 0)
    mp_waiters_wake_all (&queue->joiners);
  return TRUE;
}

static gboolean
queue_join (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!args_count (args, "Queue.join()", 0, 0, error))
    return FALSE;
  while (QUEUE (self)->unfinished > 0)
    if (!mp_call_wait_queued (call, &self->mutex, &QUEUE (self)->joiners, -1, error))
      return FALSE;
  return TRUE;
}

static const MpReferentMethod queue_methods[] = {
  { "empty", queue_empty },
  { "full", queue_full },
  { "get", queue_get },
  { "get_nowait", queue_get_nowait },
  { "join", queue_join },
  { "put", queue_put },
  { "put_nowait", queue_put_nowait },
  { "qsize", queue_qsize },
  { "task_done", queue_task_done },
  { NULL, NULL }
};

static const MpReferentClass queue_class = {
  .typeid = "Queue",
  .instance_size = sizeof (QueueReferent),
  .methods = queue_methods,
  .init = queue_init,
  .finalize = queue_finalize,
};

/* ------------------------------------------------------------------ */
/* registered custom types: a GObject made and kept in the server        */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  GObject    *object;
} CustomReferent;

#define CUSTOM(r) ((CustomReferent *) (r))

static gboolean
custom_init (MpReferent *self,
             MpCall     *call,
             MpArgv     *args,
             GError    **error)
{
  if (!args_count (args, self->klass->typeid, 0, 0, error))
    return FALSE;
  CUSTOM (self)->object = g_object_new (self->klass->gtype, NULL);
  return TRUE;
}

static void
custom_finalize (MpReferent *self)
{
  g_clear_object (&CUSTOM (self)->object);
}

/* a copy of the object, when its type can travel */
static GVariant *
custom_get_value (MpReferent *self,
                  GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, self->klass->gtype);
  g_value_set_object (&value, CUSTOM (self)->object);
  return mp_serialize_value (&value, error);
}

static gboolean
custom_invoke (MpReferent     *self,
               const MpMethod *method,
               MpArgv         *args,
               GVariant      **result,
               GError        **error)
{
  g_autoptr(MpArgs) margs = NULL;
  g_autoptr(GVariant) args_av = mp_argv_to_variant (args, 0);
  g_auto(GValue) value = G_VALUE_INIT;

  /* the only place a server decodes a client's values: the method needs
   * live arguments, and decoding only ever builds registered types */
  margs = mp_args_deserialize (args_av, error);
  if (margs == NULL)
    return FALSE;
  if (!method->func (CUSTOM (self)->object, margs, &value, error))
    {
      if (error != NULL && *error == NULL)
        mp_set_error (error, MP_ERROR_FAILED, "%s.%s() failed without saying why",
                      self->klass->typeid, method->name);
      return FALSE;
    }
  *result = mp_serialize_value (&value, error);
  return *result != NULL;
}

static GMutex classes_lock;
static GHashTable *custom_classes;   /* typeid -> MpReferentClass* */

static const MpReferentClass * const builtin_classes[] = {
  &list_class, &dict_class, &namespace_class, &value_class, &array_class,
  &lock_class, &rlock_class, &semaphore_class, &bounded_semaphore_class,
  &condition_class, &event_class, &barrier_class, &queue_class,
};

/**
 * mp_referent_class_lookup:
 * @typeid: a type id, e.g. "list" or a registered custom type's
 *
 * Returns: (nullable): the class, or %NULL when @typeid is unknown.
 */
const MpReferentClass *
mp_referent_class_lookup (const char *typeid)
{
  const MpReferentClass *klass = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (builtin_classes); i++)
    if (strcmp (builtin_classes[i]->typeid, typeid) == 0)
      return builtin_classes[i];
  g_mutex_lock (&classes_lock);
  if (custom_classes != NULL)
    klass = g_hash_table_lookup (custom_classes, typeid);
  g_mutex_unlock (&classes_lock);
  return klass;
}

void
mp_referent_register_custom (const char     *typeid,
                             GType           type,
                             const MpMethod *methods)
{
  MpReferentClass *klass;
  gsize n = 0;

  while (methods != NULL && methods[n].name != NULL)
    n++;

  klass = g_new0 (MpReferentClass, 1);
  klass->typeid = g_strdup (typeid);
  klass->instance_size = sizeof (CustomReferent);
  klass->init = custom_init;
  klass->finalize = custom_finalize;
  klass->get_value = custom_get_value;
  klass->gtype = type;
  klass->custom_methods = g_new0 (MpMethod, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      klass->custom_methods[i].name = g_strdup (methods[i].name);
      klass->custom_methods[i].func = methods[i].func;
    }

  g_mutex_lock (&classes_lock);
  if (custom_classes == NULL)
    custom_classes = g_hash_table_new (g_str_hash, g_str_equal);
  /* classes live as long as the program, like GTypes */
  g_hash_table_replace (custom_classes, (gpointer) klass->typeid, klass);
  g_mutex_unlock (&classes_lock);
}

/**
 * mp_referent_class_exposed:
 * @klass: a class
 *
 * Returns: (transfer full): its exposed methods, e.g. "'append', 'pop'"
 */
char *
mp_referent_class_exposed (const MpReferentClass *klass)
{
  GString *names = g_string_new (NULL);

  if (klass->custom_methods != NULL)
    for (const MpMethod *m = klass->custom_methods; m->name != NULL; m++)
      g_string_append_printf (names, "%s'%s'", names->len > 0 ? ", " : "", m->name);
  if (klass->methods != NULL)
    for (const MpReferentMethod *m = klass->methods; m->name != NULL; m++)
      g_string_append_printf (names, "%s'%s'", names->len > 0 ? ", " : "", m->name);
  return g_string_free (names, FALSE);
}

/* ------------------------------------------------------------------ */
/* the object                                                           */
/* ------------------------------------------------------------------ */

/**
 * mp_referent_new:
 * @klass: what to make
 * @server: the server it lives in
 * @call: the "create" call
 * @args: the constructor's arguments ("av")
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new object, or %NULL with @error set.
 */
MpReferent *
mp_referent_new (const MpReferentClass *klass,
                 MpServer              *server,
                 MpCall                *call,
                 MpArgv                *args,
                 GError               **error)
{
  MpReferent *self = g_malloc0 (klass->instance_size);

  self->klass = klass;
  self->server = server;
  g_mutex_init (&self->mutex);
  g_atomic_ref_count_init (&self->ref_count);
  if (!klass->init (self, call, args, error))
    {
      mp_referent_unref (self);
      return NULL;
    }
  return self;
}

MpReferent *
mp_referent_ref (MpReferent *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/* The last unref must come with no object mutex held: finalizing may
 * release tokens and so free other objects. */
void
mp_referent_unref (MpReferent *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  if (self->klass->finalize != NULL)
    self->klass->finalize (self);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

/**
 * mp_referent_invoke:
 * @self: an object
 * @call: the call
 * @method: the method's name, checked against the exposed ones
 * @args: the arguments ("av", untrusted)
 * @result: (out) (transfer full): the result as a "v" wire, or %NULL for None
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MP_ERROR_NOT_EXPOSED for a
 *   method the type does not expose, naming the ones it does).
 */
gboolean
mp_referent_invoke (MpReferent  *self,
                    MpCall      *call,
                    const char  *method,
                    MpArgv      *args,
                    GVariant   **result,
                    GError     **error)
{
  const MpReferentClass *klass = self->klass;
  gboolean ok;

  *result = NULL;
  if (strcmp (method, MP_GETVALUE_METHOD) == 0 && klass->get_value != NULL)
    {
      g_mutex_lock (&self->mutex);
      *result = klass->get_value (self, error);
      g_mutex_unlock (&self->mutex);
      if (*result != NULL)
        g_variant_take_ref (*result);
      return *result != NULL;
    }

  if (klass->custom_methods != NULL)
    for (const MpMethod *m = klass->custom_methods; m->name != NULL; m++)
      if (strcmp (m->name, method) == 0)
        {
          /* one call at a time: custom objects need not be thread-safe */
          g_mutex_lock (&self->mutex);
          ok = custom_invoke (self, m, args, result, error);
          g_mutex_unlock (&self->mutex);
          return ok;
        }

  if (klass->methods != NULL)
    for (const MpReferentMethod *m = klass->methods; m->name != NULL; m++)
      if (strcmp (m->name, method) == 0)
        {
          g_mutex_lock (&self->mutex);
          ok = m->func (self, call, args, result, error);
          g_mutex_unlock (&self->mutex);
          if (!ok)
            g_clear_pointer (result, g_variant_unref);
          else if (*result != NULL)
            g_variant_take_ref (*result);
          return ok;
        }

  {
    g_autofree char *exposed = mp_referent_class_exposed (klass);

    mp_set_error (error, MP_ERROR_NOT_EXPOSED,
                  "method '%s' of '%s' object is not exposed; exposed: %s (Python: \"method %s of %s object is not in exposed=...\")",
                  method, klass->typeid, exposed, method, klass->typeid);
  }
  return FALSE;
}

void
mp_referent_release_owner (MpReferent *self,
                           guint64     nonce)
{
  if (self->klass->release_owner != NULL)
    self->klass->release_owner (self, nonce);
}
