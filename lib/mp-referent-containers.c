/* mp-referent-containers.c — list, dict and Namespace in a manager's server
 *
 * Python's ListProxy, DictProxy and Namespace talk to these. Items keep
 * their wire form; list.sort() orders them as Python's "<" would, and
 * Namespace is a dict whose keys are attribute names.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-referent-private.h"

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
                      mp_referent_python_type_name (a), mp_referent_python_type_name (b));
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
  ia = mp_referent_unboxed (*(GVariant * const *) a);
  ib = mp_referent_unboxed (*(GVariant * const *) b);
  c = compare_inner (ia, ib, &data->error);
  return data->reverse ? -c : c;
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

  LIST (self)->items = mp_referent_wire_array_new ();
  if (!mp_referent_args_count (args, "list()", 0, 1, error))
    return FALSE;
  if (!mp_referent_arg_present (args, 0))
    return TRUE;
  wire = mp_referent_arg_wire (args, 0);
  if (!mp_referent_list_elements (wire, "list()", &items, error))
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      if (!mp_referent_store_wire (self, g_ptr_array_index (items, i), error))
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

  if (!mp_referent_args_count (args, "list.append()", 1, 1, error) ||
      (item = mp_referent_store_arg (self, args, 0, error)) == NULL)
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

  if (!mp_referent_args_count (args, "list.extend()", 1, 1, error))
    return FALSE;
  wire = mp_referent_arg_wire (args, 0);
  if (!mp_referent_list_elements (wire, "list.extend()", &items, error))
    return FALSE;
  for (stored = 0; stored < items->len; stored++)
    if (!mp_referent_store_wire (self, g_ptr_array_index (items, stored), error))
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

  if (!mp_referent_args_count (args, "list.insert()", 2, 2, error) ||
      !mp_referent_arg_int (args, 0, "list.insert()", &index, error) ||
      (item = mp_referent_store_arg (self, args, 1, error)) == NULL)
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

  if (!mp_referent_args_count (args, "list.pop()", 0, 1, error) ||
      !mp_referent_arg_int_or (args, 0, -1, "list.pop()", &index, error))
    return FALSE;
  if (items->len == 0)
    {
      mp_set_error (error, MP_ERROR_INDEX, "pop from empty list");
      return FALSE;
    }
  if (!mp_referent_normalize_index (&index, items->len, "pop index out of range", error))
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

  mp_referent_adjust_slice (len, &start, &stop);
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

  if (!mp_referent_args_count (args, "list.remove()", 1, 1, error))
    return FALSE;
  item = mp_referent_arg_wire (args, 0);
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

  if (!mp_referent_args_count (args, "list.index()", 1, 3, error) ||
      !mp_referent_arg_int_or (args, 1, 0, "list.index()", &start, error) ||
      !mp_referent_arg_int_or (args, 2, G_MAXINT64, "list.index()", &stop, error))
    return FALSE;
  item = mp_referent_arg_wire (args, 0);
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

  if (!mp_referent_args_count (args, "list.count()", 1, 1, error))
    return FALSE;
  item = mp_referent_arg_wire (args, 0);
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

  if (!mp_referent_args_count (args, "list.__contains__()", 1, 1, error))
    return FALSE;
  item = mp_referent_arg_wire (args, 0);
  *result = mp_wire_bool (list_find (LIST (self), item, 0, G_MAXINT64, &index));
  return TRUE;
}

static gboolean
list_len (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "list.__len__()", 0, 0, error))
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

  if (!mp_referent_args_count (args, "list.__getitem__()", 1, 2, error) ||
      !mp_referent_arg_int (args, 0, "list.__getitem__()", &start, error))
    return FALSE;
  if (mp_argv_len (args) == 2)
    {
      g_autoptr(GPtrArray) slice = mp_referent_wire_array_new ();

      if (!mp_referent_arg_int_or (args, 1, G_MAXINT64, "list.__getitem__()", &stop, error))
        return FALSE;
      mp_referent_adjust_slice (items->len, &start, &stop);
      for (gint64 i = start; i < stop; i++)
        g_ptr_array_add (slice, g_variant_ref (g_ptr_array_index (items, i)));
      *result = mp_wire_list (slice);
      return TRUE;
    }
  if (!mp_referent_normalize_index (&start, items->len, "list index out of range", error))
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

  if (!mp_referent_args_count (args, "list.__setitem__()", 2, 3, error) ||
      !mp_referent_arg_int (args, 0, "list.__setitem__()", &start, error))
    return FALSE;
  if (mp_argv_len (args) == 3)
    {
      g_autoptr(GVariant) wire = mp_referent_arg_wire (args, 2);
      g_autoptr(GPtrArray) replacement = NULL;
      guint stored;

      if (!mp_referent_arg_int_or (args, 1, G_MAXINT64, "list.__setitem__()", &stop, error) ||
          !mp_referent_list_elements (wire, "slice assignment", &replacement, error))
        return FALSE;
      for (stored = 0; stored < replacement->len; stored++)
        if (!mp_referent_store_wire (self, g_ptr_array_index (replacement, stored), error))
          break;
      if (stored < replacement->len)
        {
          for (guint i = 0; i < stored; i++)
            mp_call_release (call, g_ptr_array_index (replacement, i));
          return FALSE;
        }
      mp_referent_adjust_slice (items->len, &start, &stop);
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

      if (!mp_referent_normalize_index (&start, items->len, "list assignment index out of range", error) ||
          (item = mp_referent_store_arg (self, args, 1, error)) == NULL)
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

  if (!mp_referent_args_count (args, "list.__delitem__()", 1, 1, error) ||
      !mp_referent_arg_int (args, 0, "list.__delitem__()", &index, error) ||
      !mp_referent_normalize_index (&index, items->len, "list assignment index out of range", error))
    return FALSE;
  mp_call_release (call, g_ptr_array_index (items, index));
  g_ptr_array_remove_index (items, index);
  return TRUE;
}

static gboolean
list_reverse (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  GPtrArray *items = LIST (self)->items;

  if (!mp_referent_args_count (args, "list.reverse()", 0, 0, error))
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

  if (!mp_referent_args_count (args, "list.sort()", 0, 1, error) ||
      !mp_referent_arg_bool_or (args, 0, FALSE, "list.sort()", &data.reverse, error))
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

const MpReferentClass mp_referent_list_class = {
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
  g_autoptr(GVariant) inner = mp_referent_unboxed (wire);
  gsize n;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("a{sv}")))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s needs a dict with string keys, not %s (Python: TypeError)",
                    what, mp_referent_python_type_name (inner));
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
  if (!mp_referent_args_count (args, "dict()", 0, 1, error))
    return FALSE;
  if (!mp_referent_arg_present (args, 0))
    return TRUE;
  wire = mp_referent_arg_wire (args, 0);
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
      g_autoptr(GVariant) inner = mp_referent_unboxed (entry->wire);

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

  if (!mp_referent_args_count (args, "dict.__getitem__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "dict.__getitem__()", &key, error))
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

  if (!mp_referent_args_count (args, "dict.__setitem__()", 2, 2, error) ||
      !mp_referent_arg_string (args, 0, "dict.__setitem__()", &key, error) ||
      (value = mp_referent_store_arg (self, args, 1, error)) == NULL)
    return FALSE;
  dict_put (DICT (self), call, key, value);
  return TRUE;
}

static gboolean
dict_delitem (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!mp_referent_args_count (args, "dict.__delitem__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "dict.__delitem__()", &key, error))
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

  if (!mp_referent_args_count (args, "dict.get()", 1, 2, error) ||
      !mp_referent_arg_string (args, 0, "dict.get()", &key, error))
    return FALSE;
  entry = dict_lookup (DICT (self), key);
  if (entry != NULL)
    *result = g_variant_ref (entry->wire);
  else if (mp_argv_len (args) == 2)
    *result = mp_referent_arg_wire (args, 1);
  return TRUE;
}

static gboolean
dict_contains (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;

  if (!mp_referent_args_count (args, "dict.__contains__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "dict.__contains__()", &key, error))
    return FALSE;
  *result = mp_wire_bool (dict_lookup (DICT (self), key) != NULL);
  return TRUE;
}

static gboolean
dict_len (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "dict.__len__()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (DICT (self)->order.length);
  return TRUE;
}

typedef enum { VIEW_KEYS, VIEW_VALUES, VIEW_ITEMS } DictView;

static GVariant *
dict_view (DictReferent *self,
           DictView      view)
{
  g_autoptr(GPtrArray) wires = mp_referent_wire_array_new ();

  for (GList *l = self->order.head; l != NULL; l = l->next)
    {
      DictEntry *entry = l->data;

      if (view == VIEW_KEYS)
        g_ptr_array_add (wires, g_variant_ref_sink (mp_wire_string (entry->key)));
      else if (view == VIEW_VALUES)
        g_ptr_array_add (wires, g_variant_ref (entry->wire));
      else
        {
          g_autoptr(GPtrArray) pair = mp_referent_wire_array_new ();

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
  if (!mp_referent_args_count (args, "dict.keys()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_KEYS);
  return TRUE;
}

static gboolean
dict_values (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "dict.values()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_VALUES);
  return TRUE;
}

static gboolean
dict_items (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "dict.items()", 0, 0, error))
    return FALSE;
  *result = dict_view (DICT (self), VIEW_ITEMS);
  return TRUE;
}

static gboolean
dict_pop (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *key = NULL;
  DictEntry *entry;

  if (!mp_referent_args_count (args, "dict.pop()", 1, 2, error) ||
      !mp_referent_arg_string (args, 0, "dict.pop()", &key, error))
    return FALSE;
  entry = dict_take (DICT (self), key);
  if (entry == NULL)
    {
      if (mp_argv_len (args) == 2)
        {
          *result = mp_referent_arg_wire (args, 1);
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
  g_autoptr(GPtrArray) pair = mp_referent_wire_array_new ();
  DictEntry *entry;

  if (!mp_referent_args_count (args, "dict.popitem()", 0, 0, error))
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

  if (!mp_referent_args_count (args, "dict.setdefault()", 1, 2, error) ||
      !mp_referent_arg_string (args, 0, "dict.setdefault()", &key, error))
    return FALSE;
  entry = dict_lookup (DICT (self), key);
  if (entry != NULL)
    {
      *result = g_variant_ref (entry->wire);
      return TRUE;
    }
  if (mp_argv_len (args) == 2)
    value = mp_referent_store_arg (self, args, 1, error);
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

  if (!mp_referent_args_count (args, "dict.update()", 1, 1, error))
    return FALSE;
  wire = mp_referent_arg_wire (args, 0);
  return dict_store_all (self, call, wire, "dict.update()", error);
}

static gboolean
dict_clear (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  DictEntry *entry;

  if (!mp_referent_args_count (args, "dict.clear()", 0, 0, error))
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
  if (!mp_referent_args_count (args, "dict.copy()", 0, 0, error))
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

const MpReferentClass mp_referent_dict_class = {
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
  return mp_referent_args_count (args, "Namespace()", 0, 0, error);
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

  if (!mp_referent_args_count (args, "Namespace.__getattribute__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "Namespace.__getattribute__()", &name, error))
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

  if (!mp_referent_args_count (args, "Namespace.__setattr__()", 2, 2, error) ||
      !mp_referent_arg_string (args, 0, "Namespace.__setattr__()", &name, error) ||
      (value = mp_referent_store_arg (self, args, 1, error)) == NULL)
    return FALSE;
  dict_put (DICT (self), call, name, value);
  return TRUE;
}

static gboolean
namespace_delattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;
  DictEntry *entry;

  if (!mp_referent_args_count (args, "Namespace.__delattr__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "Namespace.__delattr__()", &name, error))
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

const MpReferentClass mp_referent_namespace_class = {
  .typeid = "Namespace",
  .instance_size = sizeof (DictReferent),
  .methods = namespace_methods,
  .init = namespace_init,
  .finalize = dict_finalize,
  .get_value = dict_get_value,
};
