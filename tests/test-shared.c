/* test-shared.c — MpValue and MpArray
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mpshare.h"
#include "test-common.h"
#include "mp-serialize-private.h"

/* ---- typecodes --------------------------------------------------------------- */

typedef struct {
  char    code;
  gboolean is_unsigned;
  gint64  min;
  guint64 max;
  GType   gtype;
} IntRow;

static const IntRow int_rows[] = {
  { 'b', FALSE, G_MININT8, G_MAXINT8, G_TYPE_CHAR },
  { 'B', TRUE, 0, G_MAXUINT8, G_TYPE_UCHAR },
  { 'h', FALSE, G_MININT16, G_MAXINT16, G_TYPE_INT },
  { 'H', TRUE, 0, G_MAXUINT16, G_TYPE_UINT },
  { 'i', FALSE, G_MININT32, G_MAXINT32, G_TYPE_INT },
  { 'I', TRUE, 0, G_MAXUINT32, G_TYPE_UINT },
  { 'l', FALSE, G_MINLONG, G_MAXLONG, G_TYPE_LONG },
  { 'L', TRUE, 0, G_MAXULONG, G_TYPE_ULONG },
  { 'q', FALSE, G_MININT64, G_MAXINT64, G_TYPE_INT64 },
  { 'Q', TRUE, 0, G_MAXUINT64, G_TYPE_UINT64 },
  { 'c', TRUE, 0, 255, G_TYPE_UCHAR },
  { '?', TRUE, 0, 1, G_TYPE_BOOLEAN },
};

static void
test_typecodes_sizes (void)
{
  static const struct { char code; gsize size; } sizes[] = {
    { 'b', 1 }, { 'B', 1 }, { 'h', 2 }, { 'H', 2 }, { 'i', 4 }, { 'I', 4 },
    { 'l', sizeof (long) }, { 'L', sizeof (long) }, { 'q', 8 }, { 'Q', 8 },
    { 'f', 4 }, { 'd', 8 }, { 'c', 1 }, { '?', 1 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_assert_true (mp_typecode_is_valid (sizes[i].code));
      g_assert_cmpuint (mp_typecode_get_size (sizes[i].code), ==, sizes[i].size);
    }
  g_assert_false (mp_typecode_is_valid ('x'));
  g_assert_false (mp_typecode_is_valid ('\0'));
  g_assert_cmpuint (mp_typecode_get_size ('u'), ==, 0);
}

/* Every integer typecode keeps its extremes, through every accessor. */
static void
test_typecodes_int_round_trip (void)
{
  for (gsize r = 0; r < G_N_ELEMENTS (int_rows); r++)
    {
      const IntRow *row = &int_rows[r];
      g_autoptr(GError) error = NULL;
      g_autoptr(MpValue) value = mp_value_create (row->code, TRUE, &error);
      g_autoptr(MpArray) array = mp_array_create (row->code, 3, TRUE, &error);
      g_auto(GValue) gv = G_VALUE_INIT;

      g_test_message ("typecode '%c'", row->code);
      g_assert_no_error (error);
      g_assert_cmpint (mp_value_get_typecode (value), ==, row->code);
      g_assert_cmpint (mp_value_get_int (value, &error), ==, 0);

      g_assert_true (mp_value_set_int (value, row->min, &error));
      g_assert_cmpint (mp_value_get_int (value, &error), ==, row->min);
      g_assert_true (mp_value_set_uint (value, row->max, &error));
      g_assert_cmpuint (mp_value_get_uint (value, &error), ==, row->max);
      g_assert_no_error (error);

      g_assert_true (mp_array_set_int (array, 0, row->min, &error));
      g_assert_true (mp_array_set_uint (array, 2, row->max, &error));
      g_assert_cmpint (mp_array_get_int (array, 0, &error), ==, row->min);
      g_assert_cmpint (mp_array_get_int (array, 1, &error), ==, 0);
      g_assert_cmpuint (mp_array_get_uint (array, 2, &error), ==, row->max);
      g_assert_no_error (error);

      /* the natural GType, and back */
      g_assert_true (mp_value_get (value, &gv, &error));
      g_assert_true (G_VALUE_HOLDS (&gv, row->gtype));
      g_assert_true (mp_value_set_int (value, 0, &error));
      g_assert_true (mp_value_set (value, &gv, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (mp_value_get_uint (value, &error), ==, row->max);
      g_value_unset (&gv);
      g_assert_true (mp_array_get (array, 0, &gv, &error));
      g_assert_true (mp_array_set (array, 1, &gv, &error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_array_get_int (array, 1, &error), ==, row->min);
    }
}

static void
test_typecodes_float_round_trip (void)
{
  static const double doubles[] = { 0.0, -0.0, 1.5, -2.25, DBL_MAX, -DBL_MIN, INFINITY, -INFINITY };
  static const double floats[] = { 0.0, 1.5, -2.25, FLT_MAX, -FLT_MIN, INFINITY };
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) d = mp_value_create ('d', TRUE, &error);
  g_autoptr(MpValue) f = mp_value_create ('f', TRUE, &error);
  g_autoptr(MpArray) arr = mp_array_create ('d', 2, FALSE, &error);
  g_auto(GValue) gv = G_VALUE_INIT;

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (doubles); i++)
    {
      g_assert_true (mp_value_set_double (d, doubles[i], &error));
      g_assert_cmpmem (&(double) { mp_value_get_double (d, &error) }, sizeof (double),
                       &doubles[i], sizeof (double));
      g_assert_true (mp_array_set_double (arr, -1, doubles[i], &error));
      g_assert_cmpfloat (mp_array_get_double (arr, 1, &error), ==, doubles[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (floats); i++)
    {
      g_assert_true (mp_value_set_double (f, floats[i], &error));
      g_assert_cmpfloat (mp_value_get_double (f, &error), ==, floats[i]);
    }
  g_assert_no_error (error);

  /* 'f' rounds as C does */
  g_assert_true (mp_value_set_double (f, 0.1, &error));
  g_assert_cmpfloat (mp_value_get_double (f, &error), ==, (double) 0.1f);
  mp_value_set_double (d, NAN, &error);
  g_assert_true (isnan (mp_value_get_double (d, &error)));

  g_assert_true (mp_value_get (f, &gv, &error));
  g_assert_true (G_VALUE_HOLDS_FLOAT (&gv));
  g_value_unset (&gv);
  g_value_init (&gv, G_TYPE_INT);
  g_value_set_int (&gv, 7);
  g_assert_false (mp_value_set (d, &gv, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

static void
test_typecodes_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) value = NULL;
  g_autoptr(MpArray) array = NULL;
  g_auto(GValue) gv = G_VALUE_INIT;

  /* unknown typecodes */
  value = mp_value_create ('x', TRUE, &error);
  g_assert_null (value);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "bBhHiIlLqQfdc?"));
  g_clear_error (&error);
  array = mp_array_create ('\0', 3, FALSE, &error);
  g_assert_null (array);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* out of range: refused, nothing written */
  for (gsize r = 0; r < G_N_ELEMENTS (int_rows); r++)
    {
      const IntRow *row = &int_rows[r];

      value = mp_value_create (row->code, FALSE, &error);
      g_assert_no_error (error);
      mp_value_set_int (value, 1, &error);
      if (row->max < G_MAXUINT64)
        {
          g_assert_false (mp_value_set_uint (value, row->max + 1, &error));
          g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
          g_assert_nonnull (strstr (error->message, "does not fit typecode"));
          g_clear_error (&error);
        }
      if (row->min > G_MININT64)
        {
          g_assert_false (mp_value_set_int (value, row->min - 1, &error));
          g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
          g_clear_error (&error);
        }
      g_assert_cmpint (mp_value_get_int (value, &error), ==, 1);
      g_assert_false (mp_value_set_double (value, 1.0, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      g_clear_object (&value);
    }

  /* stored values a C type cannot hold */
  value = mp_value_create ('Q', TRUE, &error);
  mp_value_set_uint (value, G_MAXUINT64, &error);
  g_assert_cmpint (mp_value_get_int (value, &error), ==, 0);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "_uint"));
  g_clear_error (&error);
  g_clear_object (&value);
  value = mp_value_create ('b', TRUE, &error);
  mp_value_set_int (value, -1, &error);
  g_assert_cmpuint (mp_value_get_uint (value, &error), ==, 0);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* floats go only into f and d; strings nowhere */
  g_assert_false (mp_value_get_double (value, &error) != 0);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_value_init (&gv, G_TYPE_DOUBLE);
  g_value_set_double (&gv, 1.0);
  g_assert_false (mp_value_set (value, &gv, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_value_unset (&gv);
  g_value_init (&gv, G_TYPE_STRING);
  g_value_set_string (&gv, "1");
  g_assert_false (mp_value_set (value, &gv, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_object (&value);
  value = mp_value_create ('d', TRUE, &error);
  g_assert_false (mp_value_set_int (value, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "_double"));
}

/* ---- arrays -------------------------------------------------------------------- */

static void
test_array_index (void)
{
  static const gint64 squares[] = { 0, 1, 4, 9, 16, 25 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) array = mp_array_create_from_ints ('b', squares, 6, TRUE, &error);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (mp_array_get_length (array), ==, 6);
  g_assert_cmpint (mp_array_get_typecode (array), ==, 'b');
  g_assert_cmpint (mp_array_get_int (array, -1, &error), ==, 25);
  g_assert_cmpint (mp_array_get_int (array, -6, &error), ==, 0);
  g_assert_no_error (error);

  /* one past either end, and far away: refused, nothing written */
  {
    static const gssize bad[] = { 6, -7, G_MAXSSIZE, G_MINSSIZE, 1000 };

    for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_auto(GValue) gv = G_VALUE_INIT;

        g_assert_false (mp_array_set_int (array, bad[i], 1, &error));
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_assert_nonnull (strstr (error->message, "IndexError"));
        g_clear_error (&error);
        g_assert_cmpint (mp_array_get_int (array, bad[i], &error), ==, 0);
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
        g_assert_false (mp_array_get (array, bad[i], &gv, &error));
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_assert_false (G_IS_VALUE (&gv));
        g_clear_error (&error);
        /* every accessor checks the index first */
        g_value_init (&gv, G_TYPE_INT64);
        g_assert_false (mp_array_set (array, bad[i], &gv, &error));
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
        g_assert_cmpuint (mp_array_get_uint (array, bad[i], &error), ==, 0);
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
        g_assert_false (mp_array_set_uint (array, bad[i], 1, &error));
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
        g_assert_cmpfloat (mp_array_get_double (array, bad[i], &error), ==, 0.0);
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
        g_assert_false (mp_array_set_double (array, bad[i], 1.0, &error));
        g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
        g_clear_error (&error);
      }
  }
  text = mp_array_to_string (array, &error);
  g_assert_cmpstr (text, ==, "[0, 1, 4, 9, 16, 25]");
}

static void
test_array_slices (void)
{
  static const gint64 three[] = { 7, 8, 9 };
  static const gint64 too_big[] = { 1, 2, 300 };
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) array = mp_array_create ('B', 5, TRUE, &error);
  g_autoptr(MpArray) doubles = NULL;
  g_autofree char *text = NULL;
  gint64 out[5];
  double dout[2];

  g_assert_no_error (error);
  g_assert_true (mp_array_set_ints (array, 1, three, 3, &error));
  g_assert_true (mp_array_get_ints (array, 0, 5, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out[0], ==, 0);
  g_assert_cmpint (out[1], ==, 7);
  g_assert_cmpint (out[3], ==, 9);
  g_assert_cmpint (out[4], ==, 0);

  /* past the end: refused before anything is written */
  g_assert_false (mp_array_set_ints (array, 3, three, 3, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_false (mp_array_get_ints (array, 6, 0, out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_false (mp_array_get_ints (array, 1, G_MAXSIZE, out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);
  /* one bad value: nothing is written */
  g_assert_false (mp_array_set_ints (array, 0, too_big, 3, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "Element 2: "));
  g_clear_error (&error);
  text = mp_array_to_string (array, &error);
  g_assert_cmpstr (text, ==, "[0, 7, 8, 9, 0]");
  g_clear_pointer (&text, g_free);

  /* empty slices are fine anywhere inside */
  g_assert_true (mp_array_set_ints (array, 5, NULL, 0, &error));
  g_assert_no_error (error);

  doubles = mp_array_create_from_doubles ('d', (double[]) { 1.0, 2.5 }, 2, FALSE, &error);
  g_assert_no_error (error);
  text = mp_array_to_string (doubles, &error);
  g_assert_cmpstr (text, ==, "[1.0, 2.5]");
  g_assert_true (mp_array_get_doubles (doubles, 0, 2, dout, &error));
  g_assert_cmpfloat (dout[1], ==, 2.5);
  g_assert_false (mp_array_get_doubles (array, 0, 1, dout, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mp_array_set_ints (doubles, 0, three, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* float slices: past the end refused, nothing written; 'f' rounds */
  g_assert_false (mp_array_get_doubles (doubles, 1, 2, dout, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_false (mp_array_set_doubles (doubles, 2, (double[]) { 9.0 }, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);
  g_assert_true (mp_array_set_doubles (doubles, 0, (double[]) { -0.5, 4.0 }, 2, &error));
  g_clear_pointer (&text, g_free);
  text = mp_array_to_string (doubles, &error);
  g_assert_cmpstr (text, ==, "[-0.5, 4.0]");
  g_clear_object (&doubles);
  doubles = mp_array_create_from_doubles ('f', (double[]) { 0.1 }, 1, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (mp_array_get_doubles (doubles, 0, 1, dout, &error));
  g_assert_cmpfloat (dout[0], ==, (double) 0.1f);

  /* an unsigned 64-bit element too big for the int accessors */
  {
    g_autoptr(MpArray) wide = mp_array_create ('Q', 2, FALSE, &error);

    g_assert_no_error (error);
    g_assert_true (mp_array_set_uint (wide, 1, G_MAXUINT64, &error));
    g_assert_false (mp_array_get_ints (wide, 0, 2, out, &error));
    g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "above G_MAXINT64 does not fit a gint64"));
    g_clear_error (&error);
    g_assert_cmpuint (mp_array_get_uint (wide, -1, &error), ==, G_MAXUINT64);
    g_assert_no_error (error);
  }
}

static void
test_array_odd_shapes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) empty = mp_array_create ('i', 0, TRUE, &error);
  g_autoptr(MpArray) bools = mp_array_create_from_ints ('?', (gint64[]) { 1, 0 }, 2, TRUE, &error);
  g_autoptr(MpArray) chars = mp_array_create_from_ints ('c', (gint64[]) { 'a', 0, '\'' }, 3, TRUE, &error);
  g_autoptr(MpArray) refused = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  text = mp_array_to_string (empty, &error);
  g_assert_cmpstr (text, ==, "[]");
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (mp_array_get_int (empty, 0, &error), ==, 0);
  g_assert_error (error, MP_ERROR, MP_ERROR_INDEX);
  g_clear_error (&error);

  text = mp_array_to_string (bools, &error);
  g_assert_cmpstr (text, ==, "[True, False]");
  g_clear_pointer (&text, g_free);
  text = mp_array_to_string (chars, &error);
  g_assert_cmpstr (text, ==, "[b'a', b'\\x00', b'\\x27']");

  refused = mp_array_create_from_ints ('?', (gint64[]) { 2 }, 1, TRUE, &error);
  g_assert_null (refused);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  refused = mp_array_create ('q', G_MAXSIZE / 4, FALSE, &error);
  g_assert_null (refused);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

/* ---- locks ---------------------------------------------------------------------- */

static void
test_value_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) locked = mp_value_create ('i', TRUE, &error);
  g_autoptr(MpValue) raw = mp_value_create ('i', FALSE, &error);
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(MpSemaphore) sem = mp_semaphore_new (1, &error);
  g_autoptr(MpValue) a = NULL;
  g_autoptr(MpArray) b = NULL;
  g_autoptr(MpValue) bad = NULL;
  g_autoptr(MpLocker) locker = NULL;

  g_assert_no_error (error);

  /* Python's default: a recursive lock of its own */
  g_assert_true (MP_IS_RLOCK (mp_value_get_lock (locked, &error)));
  g_assert_no_error (error);

  /* one lock may guard several objects */
  a = mp_value_create_with_lock ('d', MP_LOCKABLE (lock), &error);
  b = mp_array_create_with_lock ('i', 4, MP_LOCKABLE (lock), &error);
  g_assert_no_error (error);
  g_assert_true (mp_value_get_lock (a, &error) == MP_LOCKABLE (lock));
  g_assert_true (mp_array_get_lock (b, &error) == MP_LOCKABLE (lock));

  /* lock = FALSE: nothing to take, in Python's words */
  g_assert_null (mp_value_get_lock (raw, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_NO_LOCK);
  g_assert_nonnull (strstr (error->message, "lock = FALSE"));
  g_assert_nonnull (strstr (error->message, "object has no attribute 'get_lock'"));
  g_assert_nonnull (strstr (error->message, "[pitfall lock-false]"));
  g_clear_error (&error);
  locker = mp_locker_new (raw, &error);
  g_assert_null (locker);
  g_assert_error (error, MP_ERROR, MP_ERROR_NO_LOCK);
  g_clear_error (&error);
  /* but it reads and writes */
  g_assert_true (mp_value_set_int (raw, 5, &error));
  g_assert_cmpint (mp_value_get_int (raw, &error), ==, 5);

  /* a semaphore guards no value */
  bad = mp_value_create_with_lock ('i', MP_LOCKABLE (sem), &error);
  g_assert_null (bad);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

/* Exit 0 when the lock could not be taken right now. */
static int
try_lock_in_child (MpLockable *lock)
{
  pid_t pid = test_fork ();

  if (pid == 0)
    {
      /* released again: dying with it would leave it owner-died */
      if (mp_lockable_acquire (lock, 0, NULL))
        test_child_exit (mp_lockable_release (lock, NULL) ? 1 : 2);
      test_child_exit (0);
    }
  return test_reap (pid);
}

/* The fix of the lost-update pitfall: hold the lock across the read and the
 * write. Accesses inside do not take the lock again, even a plain MpLock. */
static void
test_value_read_modify_write (gconstpointer data)
{
  gboolean plain_lock = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(MpValue) total = NULL;

  total = plain_lock ? mp_value_create_with_lock ('q', MP_LOCKABLE (lock), &error)
                     : mp_value_create ('q', TRUE, &error);
  g_assert_no_error (error);
  {
    G_GNUC_UNUSED g_autoptr(MpLocker) locker = mp_locker_new (total, &error);
    gint64 v;

    g_assert_no_error (error);
    v = mp_value_get_int (total, &error);
    g_assert_true (mp_value_set_int (total, v + 41, &error));
    g_assert_no_error (error);
    /* still held after the inner accesses */
    g_assert_cmpint (try_lock_in_child (mp_value_get_lock (total, NULL)), ==, 0);
  }
  g_assert_cmpint (try_lock_in_child (mp_value_get_lock (total, NULL)), ==, 1);
  g_assert_cmpint (mp_value_get_int (total, &error), ==, 41);
}

/* The pitfall itself, forced: both processes read before either writes.
 * Each get and each set takes the lock, and one update is still lost. */
static void
test_value_per_call_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) total = mp_value_create ('i', TRUE, &error);
  g_autoptr(MpBarrier) read_done = mp_barrier_new (2, &error);
  pid_t pid;
  gint64 v;

  g_assert_no_error (error);
  pid = test_fork ();
  if (pid == 0)
    {
      gint64 mine = mp_value_get_int (total, NULL);

      if (mp_barrier_wait (read_done, MP_WAIT_FOREVER, NULL) < 0 ||
          !mp_value_set_int (total, mine + 1, NULL))
        test_child_exit (1);
      test_child_exit (0);
    }
  v = mp_value_get_int (total, &error);
  g_assert_cmpint (mp_barrier_wait (read_done, MP_WAIT_FOREVER, &error), >=, 0);
  g_assert_true (mp_value_set_int (total, v + 1, &error));
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_no_error (error);
  /* two increments, one survives */
  g_assert_cmpint (mp_value_get_int (total, &error), ==, 1);
}

/* mp_value_add_int(): every integer typecode's range, checked on the sum;
 * a refused add writes nothing and leaves the lock free. */
static void
test_value_add_int_range (void)
{
  for (gsize r = 0; r < G_N_ELEMENTS (int_rows); r++)
    {
      const IntRow *row = &int_rows[r];
      g_autoptr(GError) error = NULL;
      g_autoptr(MpValue) value = mp_value_create (row->code, TRUE, &error);

      g_test_message ("typecode '%c'", row->code);
      g_assert_no_error (error);
      g_assert_true (mp_value_set_int (value, row->min, &error));
      g_assert_true (mp_value_add_int (value, 1, &error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_value_get_int (value, &error), ==, row->min + 1);

      g_assert_true (mp_value_set_int (value, row->min, &error));
      g_assert_false (mp_value_add_int (value, -1, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, "does not fit"));
      g_clear_error (&error);
      g_assert_cmpint (mp_value_get_int (value, &error), ==, row->min);

      g_assert_true (mp_value_set_uint (value, row->max, &error));
      g_assert_false (mp_value_add_int (value, 1, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, " + 1 does not fit"));
      g_clear_error (&error);
      g_assert_cmpuint (mp_value_get_uint (value, &error), ==, row->max);
      g_assert_true (mp_value_add_int (value, -1, &error));
      g_assert_cmpuint (mp_value_get_uint (value, &error), ==, row->max - 1);
      g_assert_no_error (error);
      /* nothing stays held, not even after a refusal */
      g_assert_cmpint (try_lock_in_child (mp_value_get_lock (value, NULL)), ==, 1);
    }
}

/* Sums beyond 64 bits, across zero, and what has no integer at all. */
static void
test_value_add_int_edges (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) q = mp_value_create ('q', TRUE, &error);
  g_autoptr(MpValue) big = mp_value_create ('Q', TRUE, &error);
  g_autoptr(MpValue) d = mp_value_create ('d', TRUE, &error);
  g_autoptr(MpValue) raw = mp_value_create ('i', FALSE, &error);

  g_assert_no_error (error);
  g_assert_true (mp_value_set_int (q, G_MAXINT64, &error));
  g_assert_true (mp_value_add_int (q, G_MININT64, &error));
  g_assert_cmpint (mp_value_get_int (q, &error), ==, -1);
  g_assert_true (mp_value_add_int (q, G_MININT64 + 1, &error));
  g_assert_cmpint (mp_value_get_int (q, &error), ==, G_MININT64);
  g_assert_no_error (error);
  g_assert_false (mp_value_add_int (q, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (mp_value_get_int (q, &error), ==, G_MININT64);

  g_assert_true (mp_value_set_uint (big, G_MAXUINT64, &error));
  g_assert_true (mp_value_add_int (big, G_MININT64, &error));
  g_assert_cmpuint (mp_value_get_uint (big, &error), ==, (guint64) G_MAXINT64);
  g_assert_true (mp_value_add_int (big, G_MAXINT64, &error));
  g_assert_cmpuint (mp_value_get_uint (big, &error), ==, G_MAXUINT64 - 1);
  g_assert_no_error (error);
  g_assert_false (mp_value_add_int (big, 2, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (mp_value_set_uint (big, 5, &error));
  g_assert_false (mp_value_add_int (big, -7, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpuint (mp_value_get_uint (big, &error), ==, 5);

  g_assert_false (mp_value_add_int (d, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* no lock to hold: a plain add */
  g_assert_true (mp_value_add_int (raw, -3, &error));
  g_assert_cmpint (mp_value_get_int (raw, &error), ==, -3);
  g_assert_no_error (error);
}

/* The one-call fix of lost-update: several processes adding at once lose
 * nothing; inside a longer update under the lock (a plain MpLock, which
 * cannot be taken twice) it adds without taking the lock again. */
#define N_ADDERS 4
#define N_ADDS 100000

static void
test_value_add_int_processes (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(MpValue) total = NULL;
  pid_t pids[N_ADDERS];
  int gate[2];

  g_assert_no_error (error);
  total = mp_value_create_with_lock ('q', MP_LOCKABLE (lock), &error);
  g_assert_no_error (error);
  /* all start at once (the write end closing), so the adds overlap */
  g_assert_true (g_unix_open_pipe (gate, FD_CLOEXEC, &error));
  for (int p = 0; p < N_ADDERS; p++)
    {
      pids[p] = test_fork ();
      if (pids[p] == 0)
        {
          char c;

          close (gate[1]);
          if (read (gate[0], &c, 1) != 0)
            test_child_exit (2);
          for (int i = 0; i < N_ADDS; i++)
            if (!mp_value_add_int (total, 1, NULL))
              test_child_exit (1);
          test_child_exit (0);
        }
    }
  close (gate[0]);
  close (gate[1]);
  for (int p = 0; p < N_ADDERS; p++)
    g_assert_cmpint (test_reap (pids[p]), ==, 0);
  g_assert_cmpint (mp_value_get_int (total, &error), ==, N_ADDERS * N_ADDS);

  {
    G_GNUC_UNUSED g_autoptr(MpLocker) locker = mp_locker_new (total, &error);

    g_assert_no_error (error);
    g_assert_true (mp_value_add_int (total, 2, &error));
    g_assert_no_error (error);
    g_assert_cmpint (try_lock_in_child (MP_LOCKABLE (lock)), ==, 0);
  }
  g_assert_cmpint (try_lock_in_child (MP_LOCKABLE (lock)), ==, 1);
  g_assert_cmpint (mp_value_get_int (total, &error), ==, N_ADDERS * N_ADDS + 2);
}

static void
test_value_owner_died (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) value = mp_value_create ('i', TRUE, &error);
  pid_t pid;

  g_assert_no_error (error);
  pid = test_fork ();
  if (pid == 0)
    {
      /* dies in the middle of a locked update */
      if (!mp_lockable_acquire (MP_LOCKABLE (value), MP_WAIT_FOREVER, NULL))
        test_child_exit (1);
      mp_value_set_int (value, 99, NULL);
      test_child_exit (0);
    }
  g_assert_cmpint (test_reap (pid), ==, 0);

  g_assert_cmpint (mp_value_get_int (value, &error), ==, 0);
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
  g_clear_error (&error);
  /* recovered; what the dead holder wrote is there, to be checked */
  g_assert_cmpint (mp_value_get_int (value, &error), ==, 99);
  g_assert_no_error (error);

  /* the one-call add reports a dead holder too, and adds nothing */
  pid = test_fork ();
  if (pid == 0)
    {
      if (!mp_lockable_acquire (MP_LOCKABLE (value), MP_WAIT_FOREVER, NULL))
        test_child_exit (1);
      test_child_exit (0);
    }
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_false (mp_value_add_int (value, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
  g_clear_error (&error);
  g_assert_true (mp_value_add_int (value, 1, &error));
  g_assert_cmpint (mp_value_get_int (value, &error), ==, 100);
  g_assert_no_error (error);
}

/* ---- travelling by inheritance ------------------------------------------------- */

static GVariant *
serialize_object (gpointer   object,
                  gboolean   at_start,
                  guint     *n_fds,
                  GError   **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  MpSpawningContext context = { NULL };
  GVariant *wire;

  g_value_init (&value, G_OBJECT_TYPE (object));
  g_value_set_object (&value, object);
  if (at_start)
    mp_spawning_begin (&context);
  wire = mp_serialize_value (&value, error);
  if (at_start)
    mp_spawning_end (&context);
  if (n_fds != NULL)
    *n_fds = context.fds != NULL ? context.fds->len : 0;
  g_clear_pointer (&context.fds, g_array_unref);
  return wire;
}

static void
test_serialize_inheritance_only (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) array = mp_array_create ('i', 3, TRUE, &error);
  g_autoptr(MpValue) raw = mp_value_create ('d', FALSE, &error);
  GObject *objects[] = { G_OBJECT (array), G_OBJECT (raw) };

  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (objects); i++)
    {
      g_autoptr(GVariant) wire = NULL;
      g_auto(GValue) copy = G_VALUE_INIT;
      guint n_fds = 0;

      /* anywhere but process start: Python's words, the type name first */
      wire = serialize_object (objects[i], FALSE, NULL, &error);
      g_assert_null (wire);
      g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
      g_assert_true (g_str_has_prefix (error->message, G_OBJECT_TYPE_NAME (objects[i])));
      g_assert_nonnull (strstr (error->message,
                                "objects should only be shared between processes through inheritance"));
      g_clear_error (&error);

      /* at process start: the memory's fd, and the lock's if any */
      wire = serialize_object (objects[i], TRUE, &n_fds, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (n_fds, ==, objects[i] == G_OBJECT (array) ? 2 : 1);
      g_assert_true (mp_deserialize_value (wire, &copy, &error));
      g_assert_no_error (error);
      g_assert_true (G_VALUE_HOLDS (&copy, G_OBJECT_TYPE (objects[i])));
    }
}

static void
test_serialize_shares_memory_and_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) array = mp_array_create ('h', 4, TRUE, &error);
  g_autoptr(GVariant) wire = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  MpArray *copy;

  g_assert_no_error (error);
  wire = serialize_object (array, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mp_deserialize_value (wire, &value, &error));
  g_clear_pointer (&wire, g_variant_unref);
  copy = g_value_get_object (&value);
  g_assert_true (copy != array);
  g_assert_cmpuint (mp_array_get_length (copy), ==, 4);
  g_assert_cmpint (mp_array_get_typecode (copy), ==, 'h');

  g_assert_true (mp_array_set_int (copy, 3, -300, &error));
  g_assert_cmpint (mp_array_get_int (array, 3, &error), ==, -300);
  g_assert_no_error (error);
  {
    G_GNUC_UNUSED g_autoptr(MpLocker) locker = mp_locker_new (copy, &error);

    g_assert_no_error (error);
    g_assert_cmpint (try_lock_in_child (mp_array_get_lock (array, NULL)), ==, 0);
  }
  g_assert_cmpint (try_lock_in_child (mp_array_get_lock (array, NULL)), ==, 1);
}

/* A value made with a lock of its own lives in that lock's memory: it
 * travels with the lock's fd alone, and its copy shares both. */
static void
test_serialize_value_in_its_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) total = mp_value_create ('q', TRUE, &error);
  g_autoptr(GVariant) wire = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  MpValue *copy;
  guint n_fds = 0;

  g_assert_no_error (error);
  g_assert_true (mp_value_set_int (total, -5, &error));
  wire = serialize_object (total, TRUE, &n_fds, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (n_fds, ==, 1);
  g_assert_true (mp_deserialize_value (wire, &value, &error));
  g_assert_no_error (error);
  copy = g_value_get_object (&value);
  g_assert_true (copy != total);
  g_assert_cmpint (mp_value_get_int (copy, &error), ==, -5);
  g_assert_true (mp_value_add_int (copy, 7, &error));
  g_assert_cmpint (mp_value_get_int (total, &error), ==, 2);
  g_assert_no_error (error);
  {
    G_GNUC_UNUSED g_autoptr(MpLocker) locker = mp_locker_new (copy, &error);

    g_assert_no_error (error);
    g_assert_cmpint (try_lock_in_child (mp_value_get_lock (total, NULL)), ==, 0);
  }
  g_assert_cmpint (try_lock_in_child (mp_value_get_lock (total, NULL)), ==, 1);

  /* a value sharing a lock has memory of its own: two fds */
  {
    g_autoptr(MpValue) other = mp_value_create_with_lock ('q', mp_value_get_lock (total, NULL), &error);
    g_autoptr(GVariant) other_wire = NULL;

    g_assert_no_error (error);
    other_wire = serialize_object (other, TRUE, &n_fds, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (n_fds, ==, 2);
    g_assert_true (mp_value_set_int (other, 40, &error));
    g_assert_cmpint (mp_value_get_int (total, &error), ==, 2);
  }
}

static void
test_serialize_forged_state (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) array = mp_array_create ('i', 4, FALSE, &error);
  g_autoptr(GVariant) wire = serialize_object (array, TRUE, NULL, &error);
  g_autoptr(GVariant) object_wire = NULL;
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) state = NULL;
  gint32 fd;

  g_assert_no_error (error);
  /* take the real fd out of a real state: v((s v((y t i mv)))) */
  object_wire = g_variant_get_variant (wire);
  boxed = g_variant_get_child_value (object_wire, 1);
  state = g_variant_get_variant (boxed);
  g_variant_get_child (state, 2, "i", &fd);

#define STATE(code, length, fd) \
  g_variant_new ("(yti@mv)", (guchar) (code), (guint64) (length), (gint32) (fd), \
                 g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL))
  /* the honest state works */
  {
    g_auto(GValue) value = G_VALUE_INIT;
    g_autoptr(GVariant) honest = g_variant_ref_sink (
        g_variant_new_variant (g_variant_new ("(sv)", "MpArray", STATE ('i', 4, fd))));

    g_assert_true (mp_deserialize_value (honest, &value, &error));
    g_assert_no_error (error);
  }
  test_assert_forged_refused ("MpArray", STATE ('x', 4, fd), MP_ERROR_INVALID_ARGUMENT);
  /* a size that does not match the mapping: never mapped, never overrun */
  test_assert_forged_refused ("MpArray", STATE ('i', 5, fd), MP_ERROR_INVALID_ARGUMENT);
  test_assert_forged_refused ("MpArray", STATE ('q', 4, fd), MP_ERROR_INVALID_ARGUMENT);
  test_assert_forged_refused ("MpArray", STATE ('i', G_MAXUINT64, fd), MP_ERROR_PROTOCOL);
  test_assert_forged_refused ("MpValue", STATE ('i', 4, fd), MP_ERROR_PROTOCOL);
  test_assert_forged_refused ("MpArray", STATE ('i', 4, 9999), MP_ERROR_INVALID_ARGUMENT);
  test_assert_forged_refused ("MpArray", g_variant_new_int32 (fd), MP_ERROR_PROTOCOL);
  /* no fd: only a value in its lock's memory, so only with a lock */
  test_assert_forged_refused ("MpValue", STATE ('i', 1, -1), MP_ERROR_PROTOCOL);
  {
    g_autoptr(MpRLock) lock = mp_rlock_new (&error);
    g_autoptr(GVariant) lock_wire = NULL;

    g_assert_no_error (error);
    lock_wire = serialize_object (lock, TRUE, NULL, &error);
    g_assert_no_error (error);
    test_assert_forged_refused ("MpArray",
                           g_variant_new ("(yti@mv)", 'i', G_GUINT64_CONSTANT (4), -1,
                                          g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, lock_wire)),
                           MP_ERROR_PROTOCOL);
  }
  test_assert_forged_refused ("MpValue",
                         g_variant_new ("(yti@mv)", 'i', G_GUINT64_CONSTANT (1), fd,
                                        g_variant_new_maybe (G_VARIANT_TYPE_VARIANT,
                                                             g_variant_new_variant (g_variant_new_int32 (3)))),
                         MP_ERROR_PROTOCOL);
#undef STATE
}

/* ---- through real processes, fork and spawn --------------------------------------- */

/* The article's first sample: arr[i] = i * i, total += i * i (the fixed
 * way, holding the lock across the read and the write). */
static gboolean
task_square (MpArgs   *args,
             GValue   *result,
             GError  **error)
{
  MpArray *squares = mp_args_get_object (args, 0);
  MpValue *total = mp_args_get_object (args, 1);
  gint64 i = mp_args_get_int (args, 2);
  g_autoptr(MpLocker) locker = NULL;
  gint64 sum;

  if (!mp_array_set_int (squares, i, i * i, error))
    return FALSE;
  locker = mp_locker_new (total, error);
  if (locker == NULL)
    return FALSE;
  sum = mp_value_get_int (total, error);
  return sum >= 0 && mp_value_set_int (total, sum + i * i, error);
}
MP_TASK_DEFINE ("shared-square", task_square)

static void
test_process_squares (gconstpointer data)
{
  MpStartMethod method = (MpStartMethod) GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = mp_array_create ('i', 6, TRUE, &error);
  g_autoptr(MpValue) total = mp_value_create ('i', TRUE, &error);
  g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  for (gint64 i = 0; i < 6; i++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
      MpProcess *process;

      mp_args_add_object (args, squares);
      mp_args_add_object (args, total);
      mp_args_add_int (args, i);
      process = mp_process_new ("shared-square", args);
      mp_process_set_start_method (process, method);
      g_ptr_array_add (processes, process);
      g_assert_true (mp_process_start (process, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < processes->len; i++)
    {
      int exitcode = -1;

      g_assert_true (mp_process_join (g_ptr_array_index (processes, i), MP_WAIT_FOREVER, &error));
      g_assert_true (mp_process_get_exitcode (g_ptr_array_index (processes, i), &exitcode));
      g_assert_cmpint (exitcode, ==, 0);
    }
  text = mp_array_to_string (squares, &error);
  g_assert_cmpstr (text, ==, "[0, 1, 4, 9, 16, 25]");
  g_assert_cmpint (mp_value_get_int (total, &error), ==, 55);
  g_assert_no_error (error);
}

/* A task that returns holding the value's lock: its process exits with
 * the lock taken, after its copy of the value was dropped. */
static gboolean
task_return_holding (MpArgs   *args,
                     GValue   *result,
                     GError  **error)
{
  MpValue *value = mp_args_get_object (args, 0);

  if (!mp_lockable_acquire (MP_LOCKABLE (value), MP_WAIT_FOREVER, error))
    return FALSE;
  return mp_value_set_int (value, 7, error);
}
MP_TASK_DEFINE ("shared-return-holding", task_return_holding)

static void
test_process_owner_died (gconstpointer data)
{
  MpStartMethod method = (MpStartMethod) GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) value = mp_value_create ('i', TRUE, &error);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpProcess) process = NULL;
  int exitcode = -1;

  g_assert_no_error (error);
  mp_args_add_object (args, value);
  process = mp_process_new ("shared-return-holding", args);
  mp_process_set_start_method (process, method);
  g_assert_true (mp_process_start (process, &error));
  g_assert_true (mp_process_join (process, MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (process, &exitcode));
  g_assert_cmpint (exitcode, ==, 0);

  /* bounded: a regression would otherwise hang here, as Python does */
  g_assert_true (mp_lockable_acquire (MP_LOCKABLE (value), 20 * G_USEC_PER_SEC, &error) == FALSE);
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
  g_clear_error (&error);
  g_assert_cmpint (mp_value_get_int (value, &error), ==, 7);
  g_assert_no_error (error);
}

/* A pool task argument is no process start: refused. */
static void
test_pool_argument_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = mp_array_create ('i', 6, TRUE, &error);
  g_autoptr(MpPool) pool = mp_pool_new_full (1, MP_START_FORK, NULL, NULL, &error);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;

  g_assert_no_error (error);
  mp_args_add_object (args, squares);
  mp_args_add_object (args, NULL);
  mp_args_add_int (args, 1);
  future = mp_pool_submit (pool, "shared-square", args, &error);
  g_assert_null (future);
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_assert_nonnull (strstr (error->message, "MpArray"));
  g_assert_nonnull (strstr (error->message,
                            "objects should only be shared between processes through inheritance"));
  mp_pool_shutdown (pool, TRUE);
}

/* The pool fix: the initializer receives the array once per worker, at
 * the worker's start, and keeps it for the tasks. */
static MpArray *worker_squares;

static gboolean
task_pool_init (MpArgs   *args,
                GValue   *result,
                GError  **error)
{
  g_set_object (&worker_squares, mp_args_get_object (args, 0));
  return TRUE;
}
MP_TASK_DEFINE ("shared-pool-init", task_pool_init)

static gboolean
task_pool_square (MpArgs   *args,
                  GValue   *result,
                  GError  **error)
{
  gint64 i = mp_args_get_int (args, 0);

  if (worker_squares == NULL)
    {
      mp_set_error (error, MP_ERROR_FAILED, "the initializer did not run");
      return FALSE;
    }
  return mp_array_set_int (worker_squares, i, i * i, error);
}
MP_TASK_DEFINE ("shared-pool-square", task_pool_square)

static void
test_pool_initializer (gconstpointer data)
{
  MpStartMethod method = (MpStartMethod) GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = mp_array_create ('i', 6, TRUE, &error);
  g_autoptr(MpArgs) initargs = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  g_autofree char *text = NULL;

  g_assert_no_error (error);
  mp_args_add_object (initargs, squares);
  pool = mp_pool_new_full (2, method, "shared-pool-init", initargs, &error);
  g_assert_no_error (error);
  for (gint64 i = 0; i < 6; i++)
    {
      MpArgs *args = mp_args_new (G_TYPE_INVALID);

      mp_args_add_int (args, i);
      g_ptr_array_add (args_list, args);
    }
  results = mp_pool_map (pool, "shared-pool-square", args_list, MP_WAIT_FOREVER, &error);
  g_assert_no_error (error);
  g_assert_nonnull (results);
  mp_pool_shutdown (pool, TRUE);
  text = mp_array_to_string (squares, &error);
  g_assert_cmpstr (text, ==, "[0, 1, 4, 9, 16, 25]");
}

static void
add_both_methods (const char    *path_format,
                  GTestDataFunc  func)
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *path = g_strdup_printf (path_format, mp_start_method_to_string (methods[i]));

      g_test_add_data_func (path, GINT_TO_POINTER (methods[i]), func);
    }
}

int
main (int argc, char **argv)
{
  /* a spawned child goes into its task here */
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/shared/typecodes/sizes", test_typecodes_sizes);
  g_test_add_func ("/shared/typecodes/int-round-trip", test_typecodes_int_round_trip);
  g_test_add_func ("/shared/typecodes/float-round-trip", test_typecodes_float_round_trip);
  g_test_add_func ("/shared/typecodes/refused", test_typecodes_refused);
  g_test_add_func ("/shared/array/index", test_array_index);
  g_test_add_func ("/shared/array/slices", test_array_slices);
  g_test_add_func ("/shared/array/odd-shapes", test_array_odd_shapes);
  g_test_add_func ("/shared/value/lock", test_value_lock);
  g_test_add_data_func ("/shared/value/read-modify-write/rlock", GINT_TO_POINTER (FALSE),
                        test_value_read_modify_write);
  g_test_add_data_func ("/shared/value/read-modify-write/lock", GINT_TO_POINTER (TRUE),
                        test_value_read_modify_write);
  g_test_add_func ("/shared/value/per-call-lock", test_value_per_call_lock);
  g_test_add_func ("/shared/value/add-int/range", test_value_add_int_range);
  g_test_add_func ("/shared/value/add-int/edges", test_value_add_int_edges);
  g_test_add_func ("/shared/value/add-int/processes", test_value_add_int_processes);
  g_test_add_func ("/shared/value/owner-died", test_value_owner_died);
  g_test_add_func ("/shared/serialize/inheritance-only", test_serialize_inheritance_only);
  g_test_add_func ("/shared/serialize/shares-memory-and-lock", test_serialize_shares_memory_and_lock);
  g_test_add_func ("/shared/serialize/value-in-its-lock", test_serialize_value_in_its_lock);
  g_test_add_func ("/shared/serialize/forged-state", test_serialize_forged_state);
  add_both_methods ("/shared/process/squares/%s", test_process_squares);
  add_both_methods ("/shared/process/owner-died/%s", test_process_owner_died);
  g_test_add_func ("/shared/pool/argument-refused", test_pool_argument_refused);
  add_both_methods ("/shared/pool/initializer/%s", test_pool_initializer);

  return g_test_run ();
}
