/* test-proxy.c — every operation of the 13 proxy types
 *
 * Each test gets a running manager (fork); the teardown checks that the
 * test left no object behind in the server. Blocking operations are
 * exercised from threads of this process: each thread is a client of its
 * own, so a lock held by one blocks the other.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "test-manager-common.h"

#define END G_MININT
#define SHORT_US (20 * 1000)   /* a timeout that is the subject of a test */

static void
assert_remote (const GError *error,
               MpError       code,
               const char   *words)
{
  g_assert_error (error, MP_ERROR, MP_ERROR_REMOTE);
  g_assert_cmpint (mp_error_get_remote_code (error), ==, code);
  g_assert_true (g_str_has_prefix (error->message, "["));
  g_assert_nonnull (strstr (error->message, mp_error_code_name (code)));
  if (words != NULL)
    g_assert_nonnull (strstr (error->message, words));
}

static MpProxy *
new_list (Fixture *f,
          int      first,
          ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = mp_gvalue_list_new ();
  MpProxy *proxy;
  va_list ap;

  va_start (ap, first);
  for (int v = first; v != END; v = va_arg (ap, int))
    g_ptr_array_add (items, value_int (v));
  va_end (ap);
  proxy = mp_manager_list (f->manager, items, &error);
  g_assert_no_error (error);
  g_assert_nonnull (proxy);
  return proxy;
}

static gint64
list_item_int (MpProxy *list,
               gint64   index)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_list_proxy_get_item (list, index, &out, &error));
  g_assert_no_error (error);
  return value_get_int (&out);
}

/* ------------------------------------------------------------------ */
/* list                                                                 */
/* ------------------------------------------------------------------ */

static void
test_list_append (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(GValue) two = value_string ("two");
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  g_assert_cmpstr (mp_proxy_get_typeid (list), ==, "list");
  g_assert_cmpstr (mp_proxy_get_address (list), ==, mp_manager_get_address (f->manager));
  g_assert_cmpuint (mp_proxy_get_id (list), >, 0);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);

  g_assert_true (mp_list_proxy_append (list, one, &error));
  g_assert_true (mp_list_proxy_append (list, two, &error));
  g_assert_true (mp_list_proxy_append (list, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 3);

  g_assert_cmpint (list_item_int (list, 0), ==, 1);
  g_assert_true (mp_list_proxy_get_item (list, -2, &out, &error));
  g_assert_cmpstr (g_value_get_string (&out), ==, "two");
  g_value_unset (&out);
  g_assert_true (mp_list_proxy_get_item (list, 2, &out, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&out));   /* None */

  g_assert_false (mp_list_proxy_get_item (list, 3, &out, &error));
  assert_remote (error, MP_ERROR_INDEX, "list index out of range");
}

static void
test_list_initial (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 3, END);

  assert_list_proxy_ints (list, 1, 2, 3, END);
}

static void
test_list_extend (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, END);
  g_autoptr(GPtrArray) more = int_list (2, 3, END);
  g_autoptr(GPtrArray) none = mp_gvalue_list_new ();

  g_assert_true (mp_list_proxy_extend (list, more, &error));
  g_assert_true (mp_list_proxy_extend (list, none, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 1, 2, 3, END);
}

static void
test_list_insert (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 3, END);
  g_autoptr(GValue) zero = value_int (0);
  g_autoptr(GValue) nine = value_int (9);
  g_autoptr(GValue) seven = value_int (7);
  g_autoptr(GValue) minus = value_int (-1);

  g_assert_true (mp_list_proxy_insert (list, 0, zero, &error));
  g_assert_true (mp_list_proxy_insert (list, -1, nine, &error));
  /* Python clamps out-of-range positions */
  g_assert_true (mp_list_proxy_insert (list, 100, seven, &error));
  g_assert_true (mp_list_proxy_insert (list, -100, minus, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, -1, 0, 1, 2, 9, 3, 7, END);
}

static void
test_list_pop (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 3, 4, END);
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_list_proxy_pop (list, -1, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 4);
  g_value_unset (&out);
  g_assert_true (mp_list_proxy_pop (list, 0, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_assert_no_error (error);

  g_assert_false (mp_list_proxy_pop (list, 5, &out, &error));
  assert_remote (error, MP_ERROR_INDEX, "pop index out of range");
  g_clear_error (&error);

  g_assert_true (mp_list_proxy_pop (list, -1, NULL, &error));
  g_assert_true (mp_list_proxy_pop (list, -1, NULL, &error));
  g_assert_no_error (error);

  /* the article's symptom: an index error raised in the server */
  g_assert_false (mp_list_proxy_pop (list, -1, &out, &error));
  assert_remote (error, MP_ERROR_INDEX, "pop from empty list");
  g_assert_nonnull (strstr (error->message, "IndexError"));
  g_assert_false (G_IS_VALUE (&out));
}

static void
test_list_search (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 1, 3, END);
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(GValue) one_float = value_double (1.0);
  g_autoptr(GValue) three = value_int (3);
  g_autoptr(GValue) seven = value_int (7);
  gboolean contained = FALSE;

  g_assert_cmpint (mp_list_proxy_index (list, one, &error), ==, 0);
  g_assert_cmpint (mp_list_proxy_index (list, three, &error), ==, 3);
  g_assert_cmpint (mp_list_proxy_count (list, one, &error), ==, 2);
  g_assert_cmpint (mp_list_proxy_count (list, seven, &error), ==, 0);
  /* Python: 1 == 1.0 */
  g_assert_cmpint (mp_list_proxy_count (list, one_float, &error), ==, 2);
  g_assert_true (mp_list_proxy_contains (list, three, &contained, &error));
  g_assert_true (contained);
  g_assert_true (mp_list_proxy_contains (list, seven, &contained, &error));
  g_assert_false (contained);
  g_assert_no_error (error);

  g_assert_cmpint (mp_list_proxy_index (list, seven, &error), ==, -1);
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "not in list");
  g_clear_error (&error);

  g_assert_true (mp_list_proxy_remove (list, one, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 2, 1, 3, END);
  g_assert_false (mp_list_proxy_remove (list, seven, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "list.remove(x): x not in list");
  assert_list_proxy_ints (list, 2, 1, 3, END);
}

static void
test_list_item (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 3, END);
  g_autoptr(GValue) eight = value_int (8);
  g_autoptr(GValue) nine = value_int (9);

  g_assert_true (mp_list_proxy_set_item (list, 0, eight, &error));
  g_assert_true (mp_list_proxy_set_item (list, -1, nine, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 8, 2, 9, END);
  g_assert_cmpint (list_item_int (list, -3), ==, 8);

  g_assert_false (mp_list_proxy_set_item (list, 3, nine, &error));
  assert_remote (error, MP_ERROR_INDEX, "list assignment index out of range");
  g_clear_error (&error);
  g_assert_false (mp_list_proxy_set_item (list, -4, nine, &error));
  assert_remote (error, MP_ERROR_INDEX, NULL);
}

static void
test_list_slice (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 0, 1, 2, 3, 4, 5, END);
  g_autoptr(GPtrArray) slice = NULL;
  g_autoptr(GPtrArray) three = int_list (7, 8, 9, END);
  g_autoptr(GPtrArray) none = mp_gvalue_list_new ();

  slice = mp_list_proxy_get_slice (list, 1, 3, &error);
  g_assert_no_error (error);
  assert_int_list (slice, 1, 2, END);
  g_clear_pointer (&slice, g_ptr_array_unref);
  slice = mp_list_proxy_get_slice (list, -2, G_MAXINT64, &error);
  assert_int_list (slice, 4, 5, END);
  g_clear_pointer (&slice, g_ptr_array_unref);
  slice = mp_list_proxy_get_slice (list, 4, 2, &error);
  assert_int_list (slice, END);
  g_clear_pointer (&slice, g_ptr_array_unref);
  slice = mp_list_proxy_get_slice (list, -100, 100, &error);
  assert_int_list (slice, 0, 1, 2, 3, 4, 5, END);
  g_assert_no_error (error);

  /* a slice assignment may change the length */
  g_assert_true (mp_list_proxy_set_slice (list, 1, 3, three, &error));
  assert_list_proxy_ints (list, 0, 7, 8, 9, 3, 4, 5, END);
  g_assert_true (mp_list_proxy_set_slice (list, -2, G_MAXINT64, none, &error));
  assert_list_proxy_ints (list, 0, 7, 8, 9, 3, END);
  g_assert_true (mp_list_proxy_set_slice (list, 0, 0, three, &error));
  assert_list_proxy_ints (list, 7, 8, 9, 0, 7, 8, 9, 3, END);
  g_assert_no_error (error);
}

static void
test_list_reverse (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, 3, 4, END);
  g_autoptr(MpProxy) empty = new_list (f, END);

  g_assert_true (mp_list_proxy_reverse (list, &error));
  g_assert_true (mp_list_proxy_reverse (empty, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 4, 3, 2, 1, END);
  assert_list_proxy_ints (empty, END);
}

static void
test_list_sort (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) numbers = new_list (f, 3, 2, -1, END);
  g_autoptr(MpProxy) words = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(MpProxy) mixed = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GValue) half = value_double (1.5);
  g_autoptr(GPtrArray) sorted = NULL;
  const char *texts[] = { "pear", "apple", "fig" };

  g_assert_true (mp_list_proxy_append (numbers, half, &error));
  g_assert_true (mp_list_proxy_sort (numbers, &error));
  g_assert_no_error (error);
  sorted = mp_list_proxy_copy (numbers, &error);
  g_assert_cmpuint (sorted->len, ==, 4);
  g_assert_cmpint (value_get_int (g_ptr_array_index (sorted, 0)), ==, -1);
  g_assert_cmpfloat (g_value_get_double (g_ptr_array_index (sorted, 1)), ==, 1.5);
  g_assert_cmpint (value_get_int (g_ptr_array_index (sorted, 2)), ==, 2);
  g_assert_cmpint (value_get_int (g_ptr_array_index (sorted, 3)), ==, 3);
  g_clear_pointer (&sorted, g_ptr_array_unref);

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      g_autoptr(GValue) text = value_string (texts[i]);
      g_autoptr(GValue) number = value_int (i);

      g_assert_true (mp_list_proxy_append (words, text, &error));
      g_assert_true (mp_list_proxy_append (mixed, i == 1 ? number : text, &error));
    }
  g_assert_true (mp_list_proxy_sort (words, &error));
  g_assert_no_error (error);
  sorted = mp_list_proxy_copy (words, &error);
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (sorted, 0)), ==, "apple");
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (sorted, 1)), ==, "fig");
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (sorted, 2)), ==, "pear");
  g_clear_pointer (&sorted, g_ptr_array_unref);

  /* Python's TypeError, and the list is left as it was */
  g_assert_false (mp_list_proxy_sort (mixed, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "'<' not supported");
  g_clear_error (&error);
  sorted = mp_list_proxy_copy (mixed, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (sorted, 0)), ==, "pear");
  g_assert_cmpint (value_get_int (g_ptr_array_index (sorted, 1)), ==, 1);
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (sorted, 2)), ==, "fig");
}

static void
test_list_copy (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = new_list (f, 1, 2, END);
  g_autoptr(GPtrArray) copy = mp_list_proxy_copy (list, &error);

  g_assert_no_error (error);
  assert_int_list (copy, 1, 2, END);
  /* a copy: changing it changes nothing in the server */
  g_ptr_array_add (copy, value_int (3));
  g_value_set_int64 (g_ptr_array_index (copy, 0), 100);
  assert_list_proxy_ints (list, 1, 2, END);
}

/* the article's cluster: equality by name only, whatever its flag */
static void
test_list_custom_equality (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GValue) a = value_cluster ("alpha", TRUE);
  g_autoptr(GValue) b = value_cluster ("beta", TRUE);
  g_autoptr(GValue) a_busy = value_cluster ("alpha", FALSE);
  g_autoptr(GValue) b_busy = value_cluster ("beta", FALSE);
  g_autoptr(GValue) gamma = value_cluster ("gamma", TRUE);
  gboolean contained = FALSE;

  g_assert_true (mp_list_proxy_append (list, a, &error));
  g_assert_true (mp_list_proxy_append (list, b, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mp_list_proxy_index (list, a_busy, &error), ==, 0);
  g_assert_cmpint (mp_list_proxy_count (list, b_busy, &error), ==, 1);
  g_assert_true (mp_list_proxy_contains (list, gamma, &contained, &error));
  g_assert_false (contained);
  g_assert_true (mp_list_proxy_remove (list, b_busy, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 1);
}

/* the mutate-a-copy pitfall and its pop/change/append fix */
static void
test_list_mutate_copy (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GValue) cluster = value_cluster ("alpha", TRUE);
  g_auto(GValue) fetched = G_VALUE_INIT;
  g_auto(GValue) again = G_VALUE_INIT;
  TestCluster *copy;
  gboolean available = FALSE;

  g_assert_true (mp_list_proxy_append (list, cluster, &error));
  g_assert_true (mp_list_proxy_get_item (list, 0, &fetched, &error));
  g_assert_no_error (error);
  copy = g_value_get_object (&fetched);
  g_assert_true (copy != g_value_get_object (cluster));
  g_object_set (copy, "available", FALSE, NULL);

  g_assert_true (mp_list_proxy_get_item (list, 0, &again, &error));
  g_object_get (g_value_get_object (&again), "available", &available, NULL);
  g_assert_true (available);   /* unchanged: only the copy changed */
  g_value_unset (&again);

  /* the fix: pop, change, append */
  g_value_unset (&fetched);
  g_assert_true (mp_list_proxy_pop (list, 0, &fetched, &error));
  g_object_set (g_value_get_object (&fetched), "available", FALSE, NULL);
  g_assert_true (mp_list_proxy_append (list, &fetched, &error));
  g_assert_true (mp_list_proxy_get_item (list, 0, &again, &error));
  g_assert_no_error (error);
  g_object_get (g_value_get_object (&again), "available", &available, NULL);
  g_assert_false (available);
}

static void
test_list_unserializable (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GValue) pointer = mp_gvalue_new (G_TYPE_POINTER);
  g_autoptr(MpValue) shared = mp_value_create ('i', TRUE, &error);
  g_autoptr(GValue) synchronized = mp_gvalue_new (MP_TYPE_VALUE);

  g_assert_no_error (error);
  /* refused in the client, before anything is sent */
  g_assert_false (mp_list_proxy_append (list, pointer, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_UNSERIALIZABLE);
  g_clear_error (&error);

  /* pitfall inheritance-only: shared memory cannot be stored in a manager */
  g_value_set_object (synchronized, shared);
  g_assert_false (mp_list_proxy_append (list, synchronized, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_clear_error (&error);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);
  g_assert_no_error (error);
}

/* Every call that takes a value refuses one that cannot travel, in the
 * client, before anything is sent: nothing changes in the server and no
 * object is created. */
static void
test_unserializable_everywhere (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) pointer = mp_gvalue_new (G_TYPE_POINTER);
  g_autoptr(GPtrArray) bad_list = mp_gvalue_list_new ();
  g_autoptr(GHashTable) bad_dict = mp_gvalue_dict_new ();
  g_autoptr(MpProxy) list = new_list (f, 1, 2, END);
  g_autoptr(MpProxy) dict = mp_manager_dict (f->manager, NULL, &error);
  g_autoptr(MpProxy) ns = mp_manager_namespace (f->manager, &error);
  g_autoptr(MpProxy) value = mp_manager_value (f->manager, 'i', NULL, &error);
  g_autoptr(MpProxy) array = mp_manager_array (f->manager, 'i', NULL, &error);
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_autoptr(MpProxy) refused = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  gboolean yes = FALSE;
  guint n_objects = 0, n_refs = 0;

  g_assert_no_error (error);
  g_ptr_array_add (bad_list, mp_gvalue_copy (pointer));
  g_hash_table_insert (bad_dict, g_strdup ("p"), mp_gvalue_copy (pointer));

#define REFUSED(call) \
  G_STMT_START { \
    g_assert_false (call); \
    g_assert_error (error, MP_ERROR, MP_ERROR_UNSERIALIZABLE); \
    g_clear_error (&error); \
  } G_STMT_END
  REFUSED (mp_list_proxy_append (list, pointer, &error));
  REFUSED (mp_list_proxy_extend (list, bad_list, &error));
  REFUSED (mp_list_proxy_insert (list, 0, pointer, &error));
  REFUSED (mp_list_proxy_remove (list, pointer, &error));
  REFUSED (mp_list_proxy_index (list, pointer, &error) >= 0);
  REFUSED (mp_list_proxy_count (list, pointer, &error) >= 0);
  REFUSED (mp_list_proxy_contains (list, pointer, &yes, &error));
  REFUSED (mp_list_proxy_set_item (list, 0, pointer, &error));
  REFUSED (mp_list_proxy_set_slice (list, 0, 1, bad_list, &error));
  REFUSED (mp_dict_proxy_set_item (dict, "k", pointer, &error));
  REFUSED (mp_dict_proxy_get (dict, "k", pointer, &out, &error));
  REFUSED (mp_dict_proxy_pop (dict, "k", pointer, &out, &error));
  REFUSED (mp_dict_proxy_setdefault (dict, "k", pointer, &out, &error));
  REFUSED (mp_dict_proxy_update (dict, bad_dict, &error));
  REFUSED (mp_namespace_proxy_set (ns, "a", pointer, &error));
  REFUSED (mp_value_proxy_set (value, pointer, &error));
  REFUSED (mp_array_proxy_set_item (array, 0, pointer, &error));
  REFUSED (mp_queue_proxy_put (queue, pointer, TRUE, -1, &error));
  REFUSED ((refused = mp_manager_list (f->manager, bad_list, &error)) != NULL);
  REFUSED ((refused = mp_manager_dict (f->manager, bad_dict, &error)) != NULL);
  REFUSED ((refused = mp_manager_value (f->manager, 'i', pointer, &error)) != NULL);
  REFUSED ((refused = mp_manager_array (f->manager, 'i', bad_list, &error)) != NULL);
#undef REFUSED
  g_assert_false (G_IS_VALUE (&out));

  assert_list_proxy_ints (list, 1, 2, END);
  g_assert_cmpint (mp_dict_proxy_len (dict, &error), ==, 0);
  g_assert_cmpint (mp_queue_proxy_qsize (queue, &error), ==, 0);
  g_assert_true (mp_value_proxy_get (value, &out, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&out));   /* still None */
  g_assert_true (mp_manager_debug_info (f->manager, &n_objects, &n_refs, &error));
  g_assert_cmpuint (n_objects, ==, 6);
  g_assert_cmpuint (n_refs, ==, 6);
}

/* ------------------------------------------------------------------ */
/* dict                                                                 */
/* ------------------------------------------------------------------ */

static MpProxy *
new_dict (Fixture    *f,
          const char *first_key,
          ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = mp_manager_dict (f->manager, NULL, &error);
  va_list ap;

  g_assert_no_error (error);
  va_start (ap, first_key);
  for (const char *key = first_key; key != NULL; key = va_arg (ap, const char *))
    {
      g_autoptr(GValue) value = value_int (va_arg (ap, gint64));

      g_assert_true (mp_dict_proxy_set_item (dict, key, value, &error));
      g_assert_no_error (error);
    }
  va_end (ap);
  return g_steal_pointer (&dict);
}

static gint64
dict_int (MpProxy    *dict,
          const char *key)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_dict_proxy_get_item (dict, key, &out, &error));
  g_assert_no_error (error);
  return value_get_int (&out);
}

static void
assert_keys (MpProxy    *dict,
             const char *first,
             ...)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) keys = mp_dict_proxy_keys (dict, &error);
  guint i = 0;
  va_list ap;

  g_assert_no_error (error);
  va_start (ap, first);
  for (const char *key = first; key != NULL; key = va_arg (ap, const char *), i++)
    {
      g_assert_cmpuint (i, <, keys->len);
      g_assert_cmpstr (g_value_get_string (g_ptr_array_index (keys, i)), ==, key);
    }
  va_end (ap);
  g_assert_cmpuint (i, ==, keys->len);
}

static void
test_dict_items (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, "a", G_GINT64_CONSTANT (1), "b", G_GINT64_CONSTANT (2), NULL);
  g_autoptr(GValue) ten = value_int (10);
  g_auto(GValue) out = G_VALUE_INIT;
  gboolean contained = FALSE;

  g_assert_cmpstr (mp_proxy_get_typeid (dict), ==, "dict");
  g_assert_cmpint (dict_int (dict, "a"), ==, 1);
  g_assert_cmpint (mp_dict_proxy_len (dict, &error), ==, 2);
  g_assert_true (mp_dict_proxy_set_item (dict, "a", ten, &error));
  g_assert_cmpint (dict_int (dict, "a"), ==, 10);
  g_assert_true (mp_dict_proxy_contains (dict, "b", &contained, &error));
  g_assert_true (contained);
  g_assert_true (mp_dict_proxy_del_item (dict, "b", &error));
  g_assert_true (mp_dict_proxy_contains (dict, "b", &contained, &error));
  g_assert_false (contained);
  g_assert_no_error (error);

  g_assert_false (mp_dict_proxy_get_item (dict, "b", &out, &error));
  assert_remote (error, MP_ERROR_KEY, "'b'");
  g_clear_error (&error);
  g_assert_false (mp_dict_proxy_del_item (dict, "b", &error));
  assert_remote (error, MP_ERROR_KEY, NULL);
}

static void
test_dict_get (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, "a", G_GINT64_CONSTANT (1), NULL);
  g_autoptr(GValue) five = value_int (5);
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_dict_proxy_get (dict, "a", five, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_assert_true (mp_dict_proxy_get (dict, "missing", five, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 5);
  g_value_unset (&out);
  g_assert_true (mp_dict_proxy_get (dict, "missing", NULL, &out, &error));
  g_assert_false (G_IS_VALUE (&out));
  g_assert_no_error (error);
}

static void
test_dict_views (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, "c", G_GINT64_CONSTANT (3), "a", G_GINT64_CONSTANT (1),
                                      "b", G_GINT64_CONSTANT (2), NULL);
  g_autoptr(GPtrArray) values = NULL;
  g_autoptr(GPtrArray) items = NULL;
  GPtrArray *pair;

  /* insertion order, as Python's dict */
  assert_keys (dict, "c", "a", "b", NULL);
  values = mp_dict_proxy_values (dict, &error);
  g_assert_no_error (error);
  assert_int_list (values, 3, 1, 2, END);
  items = mp_dict_proxy_items (dict, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 3);
  pair = g_value_get_boxed (g_ptr_array_index (items, 1));
  g_assert_cmpuint (pair->len, ==, 2);
  g_assert_cmpstr (g_value_get_string (g_ptr_array_index (pair, 0)), ==, "a");
  g_assert_cmpint (value_get_int (g_ptr_array_index (pair, 1)), ==, 1);
}

static void
test_dict_pop (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, "x", G_GINT64_CONSTANT (1), "y", G_GINT64_CONSTANT (2),
                                      "z", G_GINT64_CONSTANT (3), NULL);
  g_autoptr(GValue) zero = value_int (0);
  g_auto(GValue) out = G_VALUE_INIT;
  g_autofree char *key = NULL;

  g_assert_true (mp_dict_proxy_pop (dict, "x", NULL, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_assert_true (mp_dict_proxy_pop (dict, "x", zero, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 0);
  g_value_unset (&out);
  g_assert_no_error (error);
  g_assert_false (mp_dict_proxy_pop (dict, "x", NULL, &out, &error));
  assert_remote (error, MP_ERROR_KEY, NULL);
  g_clear_error (&error);

  /* popitem: the last inserted first */
  g_assert_true (mp_dict_proxy_popitem (dict, &key, &out, &error));
  g_assert_cmpstr (key, ==, "z");
  g_assert_cmpint (value_get_int (&out), ==, 3);
  g_value_unset (&out);
  g_clear_pointer (&key, g_free);
  g_assert_true (mp_dict_proxy_popitem (dict, &key, NULL, &error));
  g_assert_cmpstr (key, ==, "y");
  g_assert_no_error (error);
  g_assert_false (mp_dict_proxy_popitem (dict, NULL, NULL, &error));
  assert_remote (error, MP_ERROR_KEY, "popitem(): dictionary is empty");
}

static void
test_dict_setdefault (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, NULL);
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(GValue) two = value_int (2);
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_dict_proxy_setdefault (dict, "k", one, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_assert_true (mp_dict_proxy_setdefault (dict, "k", two, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_assert_true (mp_dict_proxy_setdefault (dict, "none", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dict_int (dict, "k"), ==, 1);
  assert_keys (dict, "k", "none", NULL);
}

static void
test_dict_update (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = new_dict (f, "a", G_GINT64_CONSTANT (1), NULL);
  g_autoptr(GHashTable) more = mp_gvalue_dict_new ();
  g_autoptr(GHashTable) copy = NULL;
  g_autoptr(GHashTable) initial = mp_gvalue_dict_new ();
  g_autoptr(MpProxy) second = NULL;

  g_hash_table_insert (more, g_strdup ("a"), value_int (10));
  g_hash_table_insert (more, g_strdup ("b"), value_int (20));
  g_assert_true (mp_dict_proxy_update (dict, more, &error));
  g_assert_no_error (error);
  g_assert_cmpint (dict_int (dict, "a"), ==, 10);
  g_assert_cmpint (dict_int (dict, "b"), ==, 20);

  copy = mp_dict_proxy_copy (dict, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (copy), ==, 2);
  g_assert_cmpint (value_get_int (g_hash_table_lookup (copy, "b")), ==, 20);
  /* a copy: changing it changes nothing in the server */
  g_hash_table_remove (copy, "b");
  g_assert_cmpint (mp_dict_proxy_len (dict, &error), ==, 2);

  g_assert_true (mp_dict_proxy_clear (dict, &error));
  g_assert_cmpint (mp_dict_proxy_len (dict, &error), ==, 0);
  g_assert_no_error (error);

  g_hash_table_insert (initial, g_strdup ("q"), value_string ("r"));
  second = mp_manager_dict (f->manager, initial, &error);
  g_assert_no_error (error);
  assert_keys (second, "q", NULL);
}

/* ------------------------------------------------------------------ */
/* Namespace, Value, Array                                              */
/* ------------------------------------------------------------------ */

static void
test_namespace (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) ns = mp_manager_namespace (f->manager, &error);
  g_autoptr(GValue) value = value_string ("hello");
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  g_assert_cmpstr (mp_proxy_get_typeid (ns), ==, "Namespace");
  g_assert_true (mp_namespace_proxy_set (ns, "greeting", value, &error));
  g_assert_true (mp_namespace_proxy_get (ns, "greeting", &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&out), ==, "hello");
  g_value_unset (&out);
  g_assert_true (mp_namespace_proxy_del (ns, "greeting", &error));
  g_assert_no_error (error);

  g_assert_false (mp_namespace_proxy_get (ns, "greeting", &out, &error));
  assert_remote (error, MP_ERROR_KEY, "'Namespace' object has no attribute 'greeting'");
  g_clear_error (&error);
  g_assert_false (mp_namespace_proxy_del (ns, "greeting", &error));
  assert_remote (error, MP_ERROR_KEY, NULL);
}

static void
test_value (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GValue) five = value_int (5);
  g_autoptr(GValue) text = value_string ("not an int");
  g_autoptr(MpProxy) value = mp_manager_value (f->manager, 'i', five, &error);
  g_autoptr(MpProxy) none = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  g_assert_true (mp_value_proxy_get (value, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 5);
  g_value_unset (&out);

  /* Python's manager Value ignores its typecode: a string goes into 'i' */
  g_assert_true (mp_value_proxy_set (value, text, &error));
  g_assert_true (mp_value_proxy_get (value, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&out), ==, "not an int");
  g_value_unset (&out);

  none = mp_manager_value (f->manager, 'd', NULL, &error);
  g_assert_true (mp_value_proxy_get (none, &out, &error));
  g_assert_no_error (error);
  g_assert_false (G_IS_VALUE (&out));
}

static void
test_array (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) items = int_list (1, 2, 3, END);
  g_autoptr(MpProxy) array = mp_manager_array (f->manager, 'i', items, &error);
  g_autoptr(GValue) ten = value_int (10);
  g_autoptr(GValue) huge = value_int (G_GINT64_CONSTANT (1) << 40);
  g_autoptr(GValue) half = value_double (2.5);
  g_autoptr(GValue) text = value_string ("x");
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  g_assert_cmpint (mp_array_proxy_len (array, &error), ==, 3);
  g_assert_true (mp_array_proxy_get_item (array, -1, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 3);
  g_value_unset (&out);
  g_assert_true (mp_array_proxy_set_item (array, 0, ten, &error));
  g_assert_true (mp_array_proxy_get_item (array, 0, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value_get_int (&out), ==, 10);
  g_value_unset (&out);

  /* unlike Value, Array checks its typecode */
  g_assert_false (mp_array_proxy_set_item (array, 0, huge, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "out of range");
  g_clear_error (&error);
  g_assert_false (mp_array_proxy_set_item (array, 0, half, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "integer is required");
  g_clear_error (&error);
  g_assert_false (mp_array_proxy_set_item (array, 0, text, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, NULL);
  g_clear_error (&error);
  g_assert_false (mp_array_proxy_get_item (array, 3, &out, &error));
  assert_remote (error, MP_ERROR_INDEX, NULL);
  g_clear_error (&error);
  g_assert_true (mp_array_proxy_get_item (array, 0, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 10);
}

static void
test_array_typecodes (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ints = int_list (1, END);
  g_autoptr(GPtrArray) too_big = int_list (300, END);
  g_autoptr(MpProxy) doubles = mp_manager_array (f->manager, 'd', ints, &error);
  g_autoptr(MpProxy) floats = mp_manager_array (f->manager, 'f', NULL, &error);
  g_autoptr(MpProxy) bad = NULL;
  g_autoptr(GValue) tenth = value_double (0.1);
  g_autoptr(GPtrArray) tenths = mp_gvalue_list_new ();
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  /* an int stored in a 'd' array becomes a float */
  g_assert_true (mp_array_proxy_get_item (doubles, 0, &out, &error));
  g_assert_cmpfloat (g_value_get_double (&out), ==, 1.0);
  g_value_unset (&out);
  g_assert_cmpint (mp_array_proxy_len (floats, &error), ==, 0);
  g_assert_no_error (error);

  g_clear_object (&floats);
  g_ptr_array_add (tenths, mp_gvalue_copy (tenth));
  floats = mp_manager_array (f->manager, 'f', tenths, &error);
  g_assert_no_error (error);
  /* 'f' is a C float: 0.1 comes back rounded, as from array('f') */
  g_assert_true (mp_array_proxy_get_item (floats, 0, &out, &error));
  g_assert_cmpfloat (g_value_get_double (&out), ==, (double) 0.1f);
  g_assert_cmpfloat (g_value_get_double (&out), !=, 0.1);

  bad = mp_manager_array (f->manager, 'b', too_big, &error);
  g_assert_null (bad);
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "out of range");
  g_clear_error (&error);
  bad = mp_manager_array (f->manager, 'z', NULL, &error);
  g_assert_null (bad);
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "bad typecode");
}

/* ------------------------------------------------------------------ */
/* Lock, RLock, Semaphore                                               */
/* ------------------------------------------------------------------ */

typedef struct {
  MpProxy  *proxy;
  gboolean  blocking;
  gint64    timeout_us;
  gboolean  result;
  GError   *error;
} Attempt;

static gpointer
acquire_thread (gpointer data)
{
  Attempt *attempt = data;

  attempt->result = mp_lock_proxy_acquire (attempt->proxy, attempt->blocking,
                                           attempt->timeout_us, &attempt->error);
  return NULL;
}

static gpointer
release_thread (gpointer data)
{
  Attempt *attempt = data;

  attempt->result = mp_lock_proxy_release (attempt->proxy, &attempt->error);
  return NULL;
}

static gpointer
acquire_release_thread (gpointer data)
{
  Attempt *attempt = data;

  acquire_thread (attempt);
  if (attempt->result)
    attempt->result = mp_lock_proxy_release (attempt->proxy, &attempt->error);
  return NULL;
}

/* runs @func in another thread: another client thread, another owner */
static void
in_thread (GThreadFunc  func,
           Attempt     *attempt)
{
  g_thread_join (g_thread_new ("attempt", func, attempt));
}

static void
test_lock (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) lock = mp_manager_lock (f->manager, &error);
  Attempt attempt = { lock, FALSE, -1, TRUE, NULL };
  GThread *waiter;

  g_assert_no_error (error);
  g_assert_true (mp_lock_proxy_acquire (lock, TRUE, -1, &error));
  g_assert_no_error (error);

  /* not taken in time says so: FALSE alone would read as a failure */
  in_thread (acquire_thread, &attempt);
  g_assert_error (attempt.error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_false (attempt.result);
  g_clear_error (&attempt.error);
  attempt.blocking = TRUE;
  attempt.timeout_us = SHORT_US;
  attempt.result = TRUE;
  in_thread (acquire_thread, &attempt);
  g_assert_error (attempt.error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (attempt.error->message, "not acquired within"));
  g_assert_false (attempt.result);
  g_clear_error (&attempt.error);
  /* without an error location the documented FALSE is all there is */
  g_assert_false (mp_lock_proxy_acquire (lock, TRUE, SHORT_US, NULL));

  /* not reentrant: the owner itself cannot take it twice */
  g_assert_false (mp_lock_proxy_acquire (lock, FALSE, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* a blocked acquire returns once the lock is released */
  attempt.timeout_us = -1;
  waiter = g_thread_new ("waiter", acquire_thread, &attempt);
  g_assert_true (mp_lock_proxy_release (lock, &error));
  g_thread_join (waiter);
  g_assert_no_error (attempt.error);
  g_assert_true (attempt.result);

  /* threading.Lock: any thread may release it */
  g_assert_true (mp_lock_proxy_release (lock, &error));
  g_assert_no_error (error);
  g_assert_false (mp_lock_proxy_release (lock, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "release unlocked lock");
}

static void
test_rlock (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) rlock = mp_manager_rlock (f->manager, &error);
  Attempt attempt = { rlock, FALSE, -1, TRUE, NULL };

  g_assert_no_error (error);
  g_assert_true (mp_lock_proxy_acquire (rlock, TRUE, -1, &error));
  g_assert_true (mp_lock_proxy_acquire (rlock, FALSE, -1, &error));
  g_assert_no_error (error);

  in_thread (acquire_thread, &attempt);
  g_assert_error (attempt.error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_false (attempt.result);
  g_clear_error (&attempt.error);
  in_thread (release_thread, &attempt);
  g_assert_false (attempt.result);
  assert_remote (attempt.error, MP_ERROR_INVALID_ARGUMENT, "cannot release un-acquired lock");
  g_clear_error (&attempt.error);

  g_assert_true (mp_lock_proxy_release (rlock, &error));
  g_assert_true (mp_lock_proxy_release (rlock, &error));
  g_assert_no_error (error);
  g_assert_false (mp_lock_proxy_release (rlock, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, NULL);

  attempt.result = FALSE;
  in_thread (acquire_release_thread, &attempt);
  g_assert_no_error (attempt.error);
  g_assert_true (attempt.result);
}

static void
test_semaphore (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) sem = mp_manager_semaphore (f->manager, 2, &error);
  g_autoptr(MpProxy) bounded = mp_manager_bounded_semaphore (f->manager, 1, &error);

  g_assert_no_error (error);
  g_assert_true (mp_lock_proxy_acquire (sem, TRUE, -1, &error));
  g_assert_true (mp_lock_proxy_acquire (sem, TRUE, -1, &error));
  g_assert_false (mp_lock_proxy_acquire (sem, FALSE, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_false (mp_lock_proxy_acquire (sem, TRUE, SHORT_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_true (mp_lock_proxy_release (sem, &error));
  g_assert_true (mp_lock_proxy_acquire (sem, FALSE, -1, &error));
  g_assert_true (mp_lock_proxy_release (sem, &error));
  g_assert_true (mp_lock_proxy_release (sem, &error));
  /* a plain semaphore may go above its start value */
  g_assert_true (mp_lock_proxy_release (sem, &error));
  g_assert_no_error (error);

  g_assert_true (mp_lock_proxy_acquire (bounded, TRUE, -1, &error));
  g_assert_true (mp_lock_proxy_release (bounded, &error));
  g_assert_no_error (error);
  g_assert_false (mp_lock_proxy_release (bounded, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "released too many times");
}

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  MpProxy  *cond;
  gint      waiting;    /* changed only with the condition's lock held */
  gint      ready;
  gboolean  notified;
  gboolean  satisfied;
  GError   *error;
} CondData;

static gboolean
is_ready (gpointer user_data)
{
  return g_atomic_int_get (&((CondData *) user_data)->ready);
}

static gpointer
cond_waiter (gpointer user_data)
{
  CondData *data = user_data;

  if (mp_lock_proxy_acquire (data->cond, TRUE, -1, &data->error))
    {
      g_atomic_int_inc (&data->waiting);
      if (mp_condition_proxy_wait_for (data->cond, is_ready, data, -1, &data->satisfied, &data->error))
        mp_lock_proxy_release (data->cond, &data->error);
    }
  return NULL;
}

static gpointer
cond_plain_waiter (gpointer user_data)
{
  CondData *data = user_data;

  if (mp_lock_proxy_acquire (data->cond, TRUE, -1, &data->error))
    {
      g_atomic_int_inc (&data->waiting);
      if (mp_condition_proxy_wait (data->cond, -1, &data->notified, &data->error))
        mp_lock_proxy_release (data->cond, &data->error);
    }
  return NULL;
}

/* with the lock held and @n counted, the waiters are inside wait(): they
 * count themselves under the lock and let go of it only by waiting */
static void
acquire_when_waiting (CondData *data,
                      gint      n)
{
  g_autoptr(GError) error = NULL;

  for (;;)
    {
      g_assert_true (mp_lock_proxy_acquire (data->cond, TRUE, -1, &error));
      g_assert_no_error (error);
      if (g_atomic_int_get (&data->waiting) == n)
        return;
      g_assert_true (mp_lock_proxy_release (data->cond, &error));
      g_thread_yield ();
    }
}

static void
test_condition_notify (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) cond = mp_manager_condition (f->manager, NULL, &error);
  CondData one = { cond, 0, 0, FALSE, FALSE, NULL };
  GThread *thread;
  gboolean notified = TRUE;

  g_assert_no_error (error);
  g_assert_cmpstr (mp_proxy_get_typeid (cond), ==, "Condition");

  /* Python's RuntimeError */
  g_assert_false (mp_condition_proxy_wait (cond, 0, NULL, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "un-acquired");
  g_clear_error (&error);
  g_assert_false (mp_condition_proxy_notify (cond, 1, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "un-acquired");
  g_clear_error (&error);

  /* a wait that nobody notifies times out */
  g_assert_true (mp_lock_proxy_acquire (cond, TRUE, -1, &error));
  g_assert_true (mp_condition_proxy_wait (cond, SHORT_US, &notified, &error));
  g_assert_no_error (error);
  g_assert_false (notified);
  g_assert_true (mp_lock_proxy_release (cond, &error));

  thread = g_thread_new ("waiter", cond_plain_waiter, &one);
  acquire_when_waiting (&one, 1);
  g_assert_true (mp_condition_proxy_notify (cond, 1, &error));
  g_assert_true (mp_lock_proxy_release (cond, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_no_error (one.error);
  g_assert_true (one.notified);
}

static void
test_condition_wait_for (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) cond = mp_manager_condition (f->manager, NULL, &error);
  CondData shared = { cond, 0, 0, FALSE, FALSE, NULL };
  GThread *threads[2];
  gboolean satisfied = TRUE;

  g_assert_no_error (error);
  /* a predicate that never holds, with a timeout */
  g_assert_true (mp_lock_proxy_acquire (cond, TRUE, -1, &error));
  g_assert_true (mp_condition_proxy_wait_for (cond, is_ready, &shared, SHORT_US, &satisfied, &error));
  g_assert_no_error (error);
  g_assert_false (satisfied);
  g_assert_true (mp_lock_proxy_release (cond, &error));

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("waiter", cond_waiter, &shared);
  acquire_when_waiting (&shared, G_N_ELEMENTS (threads));
  g_atomic_int_set (&shared.ready, 1);
  g_assert_true (mp_condition_proxy_notify_all (cond, &error));
  g_assert_true (mp_lock_proxy_release (cond, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);
  g_assert_no_error (shared.error);
  g_assert_true (shared.satisfied);
}

static void
test_condition_shared_lock (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) lock = mp_manager_lock (f->manager, &error);
  g_autoptr(MpProxy) cond = mp_manager_condition (f->manager, lock, &error);
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(MpProxy) bad = NULL;
  Attempt attempt = { lock, FALSE, -1, TRUE, NULL };

  g_assert_no_error (error);
  /* acquiring the condition takes the lock it was made with */
  g_assert_true (mp_lock_proxy_acquire (cond, TRUE, -1, &error));
  in_thread (acquire_thread, &attempt);
  g_assert_error (attempt.error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_false (attempt.result);
  g_clear_error (&attempt.error);
  g_assert_true (mp_lock_proxy_release (lock, &error));
  g_assert_no_error (error);

  /* the condition keeps its lock alive */
  g_clear_object (&lock);
  g_assert_true (mp_lock_proxy_acquire (cond, FALSE, -1, &error));
  g_assert_true (mp_lock_proxy_release (cond, &error));
  g_assert_no_error (error);

  bad = mp_manager_condition (f->manager, list, &error);
  g_assert_null (bad);
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "Lock or an RLock");
}

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpProxy  *event;
  gboolean  is_set;
  GError   *error;
} EventData;

static gpointer
event_waiter (gpointer user_data)
{
  EventData *data = user_data;

  mp_event_proxy_wait (data->event, -1, &data->is_set, &data->error);
  return NULL;
}

static void
test_event (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) event = mp_manager_event (f->manager, &error);
  EventData waiter = { event, FALSE, NULL };
  gboolean is_set = TRUE;
  GThread *thread;

  g_assert_no_error (error);
  g_assert_true (mp_event_proxy_is_set (event, &is_set, &error));
  g_assert_false (is_set);
  g_assert_true (mp_event_proxy_wait (event, SHORT_US, &is_set, &error));
  g_assert_false (is_set);
  g_assert_no_error (error);

  thread = g_thread_new ("waiter", event_waiter, &waiter);
  g_assert_true (mp_event_proxy_set (event, &error));
  g_thread_join (thread);
  g_assert_no_error (waiter.error);
  g_assert_true (waiter.is_set);

  g_assert_true (mp_event_proxy_is_set (event, &is_set, &error));
  g_assert_true (is_set);
  g_assert_true (mp_event_proxy_wait (event, -1, &is_set, &error));
  g_assert_true (is_set);
  g_assert_true (mp_event_proxy_clear (event, &error));
  g_assert_true (mp_event_proxy_is_set (event, &is_set, &error));
  g_assert_false (is_set);
  g_assert_no_error (error);
}

/* ------------------------------------------------------------------ */
/* Barrier                                                              */
/* ------------------------------------------------------------------ */

typedef struct {
  MpProxy *barrier;
  gint64   index;
  GError  *error;
} BarrierData;

static gpointer
barrier_waiter (gpointer user_data)
{
  BarrierData *data = user_data;

  data->index = mp_barrier_proxy_wait (data->barrier, -1, &data->error);
  return NULL;
}

static void
wait_for_waiting (MpProxy *barrier,
                  gint64   n)
{
  /* a round trip per look: stops as soon as the server says so */
  while (barrier_attribute (barrier, "n_waiting") != n)
    g_thread_yield ();
}

static void
test_barrier (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 3, &error);
  BarrierData waiters[2] = { { barrier, -1, NULL }, { barrier, -1, NULL } };
  GThread *threads[2];

  g_assert_no_error (error);
  g_assert_cmpint (barrier_attribute (barrier, "parties"), ==, 3);
  g_assert_cmpint (barrier_attribute (barrier, "broken"), ==, FALSE);

  for (guint round = 0; round < 2; round++)
    {
      guint seen = 0;
      gint64 mine;

      for (guint i = 0; i < 2; i++)
        threads[i] = g_thread_new ("party", barrier_waiter, &waiters[i]);
      mine = mp_barrier_proxy_wait (barrier, -1, &error);
      g_assert_no_error (error);
      for (guint i = 0; i < 2; i++)
        {
          g_thread_join (threads[i]);
          g_assert_no_error (waiters[i].error);
          seen |= 1u << waiters[i].index;
        }
      seen |= 1u << mine;
      g_assert_cmpuint (seen, ==, 7);   /* indices 0, 1 and 2 */
    }
}

static void
test_barrier_broken (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 2, &error);
  BarrierData waiter = { barrier, -1, NULL };
  GThread *thread;

  g_assert_no_error (error);
  /* abort: the one waiting and every later wait break */
  thread = g_thread_new ("party", barrier_waiter, &waiter);
  wait_for_waiting (barrier, 1);
  g_assert_true (mp_barrier_proxy_abort (barrier, &error));
  g_thread_join (thread);
  g_assert_error (waiter.error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_clear_error (&waiter.error);
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_clear_error (&error);
  g_assert_cmpint (barrier_attribute (barrier, "broken"), ==, TRUE);

  /* reset: usable again; who was waiting breaks */
  g_assert_true (mp_barrier_proxy_reset (barrier, &error));
  thread = g_thread_new ("party", barrier_waiter, &waiter);
  wait_for_waiting (barrier, 1);
  g_assert_true (mp_barrier_proxy_reset (barrier, &error));
  g_thread_join (thread);
  g_assert_error (waiter.error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_clear_error (&waiter.error);
  thread = g_thread_new ("party", barrier_waiter, &waiter);
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), >=, 0);
  g_thread_join (thread);
  g_assert_no_error (waiter.error);
  g_assert_no_error (error);

  /* as in Python, a wait that times out breaks the barrier */
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, SHORT_US, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_clear_error (&error);
  g_assert_cmpint (barrier_attribute (barrier, "broken"), ==, TRUE);
}

/* ------------------------------------------------------------------ */
/* Queue                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpProxy  *queue;
  GValue    item;
  gboolean  ok;
  GError   *error;
} QueueData;

static gpointer
queue_getter (gpointer user_data)
{
  QueueData *data = user_data;

  data->ok = mp_queue_proxy_get (data->queue, TRUE, -1, &data->item, &data->error);
  return NULL;
}

static gpointer
queue_putter (gpointer user_data)
{
  QueueData *data = user_data;

  data->ok = mp_queue_proxy_put (data->queue, &data->item, TRUE, -1, &data->error);
  return NULL;
}

static void
test_queue (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_auto(GValue) out = G_VALUE_INIT;
  gboolean flag = FALSE;

  g_assert_no_error (error);
  for (gint64 i = 1; i <= 3; i++)
    {
      g_autoptr(GValue) item = value_int (i);
      g_assert_true (mp_queue_proxy_put (queue, item, TRUE, -1, &error));
    }
  g_assert_cmpint (mp_queue_proxy_qsize (queue, &error), ==, 3);
  g_assert_true (mp_queue_proxy_empty (queue, &flag, &error));
  g_assert_false (flag);
  g_assert_true (mp_queue_proxy_full (queue, &flag, &error));
  g_assert_false (flag);
  g_assert_no_error (error);

  for (gint64 i = 1; i <= 3; i++)
    {
      g_assert_true (mp_queue_proxy_get (queue, TRUE, -1, &out, &error));
      g_assert_cmpint (value_get_int (&out), ==, i);   /* first in, first out */
      g_value_unset (&out);
    }
  g_assert_true (mp_queue_proxy_empty (queue, &flag, &error));
  g_assert_true (flag);
  g_assert_no_error (error);

  g_assert_false (mp_queue_proxy_get (queue, FALSE, -1, &out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_false (mp_queue_proxy_get (queue, TRUE, SHORT_US, &out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_EMPTY);
  g_assert_false (G_IS_VALUE (&out));
}

static void
test_queue_full (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 1, &error);
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(GValue) two = value_int (2);
  QueueData putter = { queue, G_VALUE_INIT, FALSE, NULL };
  g_auto(GValue) out = G_VALUE_INIT;
  gboolean full = FALSE;
  GThread *thread;

  g_assert_no_error (error);
  g_assert_true (mp_queue_proxy_put (queue, one, FALSE, -1, &error));
  g_assert_true (mp_queue_proxy_full (queue, &full, &error));
  g_assert_true (full);
  g_assert_no_error (error);
  g_assert_false (mp_queue_proxy_put (queue, two, FALSE, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FULL);
  g_clear_error (&error);
  g_assert_false (mp_queue_proxy_put (queue, two, TRUE, SHORT_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FULL);
  g_clear_error (&error);

  /* a blocked put completes once a get makes room */
  g_value_init (&putter.item, G_TYPE_INT64);
  g_value_set_int64 (&putter.item, 2);
  thread = g_thread_new ("putter", queue_putter, &putter);
  g_assert_true (mp_queue_proxy_get (queue, TRUE, -1, &out, &error));
  g_assert_cmpint (value_get_int (&out), ==, 1);
  g_value_unset (&out);
  g_thread_join (thread);
  g_value_unset (&putter.item);
  g_assert_no_error (putter.error);
  g_assert_true (putter.ok);
  g_assert_true (mp_queue_proxy_get (queue, FALSE, -1, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value_get_int (&out), ==, 2);
}

static void
test_queue_blocking_get (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_autoptr(GValue) text = value_string ("wake up");
  QueueData getter = { queue, G_VALUE_INIT, FALSE, NULL };
  GThread *thread;

  g_assert_no_error (error);
  thread = g_thread_new ("getter", queue_getter, &getter);
  /* while a client is blocked in get, others are served */
  g_assert_cmpint (mp_queue_proxy_qsize (queue, &error), ==, 0);
  g_assert_true (mp_queue_proxy_put (queue, text, TRUE, -1, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_assert_no_error (getter.error);
  g_assert_true (getter.ok);
  g_assert_cmpstr (g_value_get_string (&getter.item), ==, "wake up");
  g_value_unset (&getter.item);
}

static void
test_queue_task_done (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_autoptr(GValue) item = value_int (1);

  g_assert_no_error (error);
  g_assert_true (mp_queue_proxy_put (queue, item, TRUE, -1, &error));
  g_assert_true (mp_queue_proxy_get (queue, TRUE, -1, NULL, &error));
  g_assert_true (mp_proxy_call (queue, "task_done", NULL, NULL, &error));
  /* every item put was marked done: join returns at once */
  g_assert_true (mp_proxy_call (queue, "join", NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (mp_proxy_call (queue, "task_done", NULL, NULL, &error));
  assert_remote (error, MP_ERROR_INVALID_ARGUMENT, "task_done() called too many times");
}

/* ------------------------------------------------------------------ */
/* generic                                                              */
/* ------------------------------------------------------------------ */

static void
test_not_exposed (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) dict = mp_manager_dict (f->manager, NULL, &error);
  g_autoptr(GValue) one = value_int (1);

  g_assert_no_error (error);
  /* a list operation on a dict */
  g_assert_false (mp_list_proxy_append (dict, one, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_NOT_EXPOSED);
  g_assert_nonnull (strstr (error->message, "'append'"));
  g_assert_nonnull (strstr (error->message, "'popitem'"));
  g_clear_error (&error);
  g_assert_false (mp_proxy_call (dict, "__class__", NULL, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_NOT_EXPOSED);
}

static void
test_getvalue (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) ns = mp_manager_namespace (f->manager, &error);
  g_autoptr(GValue) one = value_int (1);
  g_auto(GValue) out = G_VALUE_INIT;
  GHashTable *copy;

  g_assert_true (mp_namespace_proxy_set (ns, "x", one, &error));
  g_assert_true (mp_proxy_call (ns, "#GETVALUE", NULL, &out, &error));
  g_assert_no_error (error);
  copy = g_value_get_boxed (&out);
  g_assert_cmpuint (g_hash_table_size (copy), ==, 1);
  g_assert_cmpint (value_get_int (g_hash_table_lookup (copy, "x")), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/proxy/list/append", test_list_append);
  ADD ("/proxy/list/initial", test_list_initial);
  ADD ("/proxy/list/extend", test_list_extend);
  ADD ("/proxy/list/insert", test_list_insert);
  ADD ("/proxy/list/pop", test_list_pop);
  ADD ("/proxy/list/search", test_list_search);
  ADD ("/proxy/list/item", test_list_item);
  ADD ("/proxy/list/slice", test_list_slice);
  ADD ("/proxy/list/reverse", test_list_reverse);
  ADD ("/proxy/list/sort", test_list_sort);
  ADD ("/proxy/list/copy", test_list_copy);
  ADD ("/proxy/list/custom-equality", test_list_custom_equality);
  ADD ("/proxy/list/mutate-a-copy", test_list_mutate_copy);
  ADD ("/proxy/list/unserializable", test_list_unserializable);
  ADD ("/proxy/unserializable/everywhere", test_unserializable_everywhere);
  ADD ("/proxy/dict/items", test_dict_items);
  ADD ("/proxy/dict/get", test_dict_get);
  ADD ("/proxy/dict/views", test_dict_views);
  ADD ("/proxy/dict/pop", test_dict_pop);
  ADD ("/proxy/dict/setdefault", test_dict_setdefault);
  ADD ("/proxy/dict/update", test_dict_update);
  ADD ("/proxy/namespace", test_namespace);
  ADD ("/proxy/value", test_value);
  ADD ("/proxy/array/items", test_array);
  ADD ("/proxy/array/typecodes", test_array_typecodes);
  ADD ("/proxy/lock", test_lock);
  ADD ("/proxy/rlock", test_rlock);
  ADD ("/proxy/semaphore", test_semaphore);
  ADD ("/proxy/condition/notify", test_condition_notify);
  ADD ("/proxy/condition/wait-for", test_condition_wait_for);
  ADD ("/proxy/condition/shared-lock", test_condition_shared_lock);
  ADD ("/proxy/event", test_event);
  ADD ("/proxy/barrier/rounds", test_barrier);
  ADD ("/proxy/barrier/broken", test_barrier_broken);
  ADD ("/proxy/queue/fifo", test_queue);
  ADD ("/proxy/queue/full", test_queue_full);
  ADD ("/proxy/queue/blocking-get", test_queue_blocking_get);
  ADD ("/proxy/queue/task-done", test_queue_task_done);
  ADD ("/proxy/not-exposed", test_not_exposed);
  ADD ("/proxy/getvalue", test_getvalue);
#undef ADD

  return g_test_run ();
}
