/* mp-shared.c — MpValue and MpArray: typed shared memory children inherit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "mpshare.h"
#include "mp-mapping-private.h"
#include "mp-sync-private.h"

/* ---- typecodes --------------------------------------------------------- */

typedef enum {
  KIND_SIGNED,
  KIND_UNSIGNED,
  KIND_CHAR,      /* a byte, 0..255 */
  KIND_BOOL,      /* 0 or 1 */
  KIND_FLOAT,
} Kind;

/* The range is in the table, not computed, because every integer write
 * checks it. */
typedef struct {
  char        code;
  guint8      size;
  Kind        kind;
  const char *ctype;
  gint64      min;
  guint64     max;        /* 0 for the float kinds */
} Typecode;

static const Typecode typecodes[] = {
  { 'b', sizeof (signed char), KIND_SIGNED, "signed char", SCHAR_MIN, SCHAR_MAX },
  { 'B', sizeof (unsigned char), KIND_UNSIGNED, "unsigned char", 0, UCHAR_MAX },
  { 'h', sizeof (short), KIND_SIGNED, "short", SHRT_MIN, SHRT_MAX },
  { 'H', sizeof (unsigned short), KIND_UNSIGNED, "unsigned short", 0, USHRT_MAX },
  { 'i', sizeof (int), KIND_SIGNED, "int", INT_MIN, INT_MAX },
  { 'I', sizeof (unsigned int), KIND_UNSIGNED, "unsigned int", 0, UINT_MAX },
  { 'l', sizeof (long), KIND_SIGNED, "long", LONG_MIN, LONG_MAX },
  { 'L', sizeof (unsigned long), KIND_UNSIGNED, "unsigned long", 0, ULONG_MAX },
  { 'q', sizeof (long long), KIND_SIGNED, "long long", LLONG_MIN, LLONG_MAX },
  { 'Q', sizeof (unsigned long long), KIND_UNSIGNED, "unsigned long long", 0, ULLONG_MAX },
  { 'f', sizeof (float), KIND_FLOAT, "float", 0, 0 },
  { 'd', sizeof (double), KIND_FLOAT, "double", 0, 0 },
  { 'c', 1, KIND_CHAR, "char", 0, 255 },
  { '?', 1, KIND_BOOL, "bool", 0, 1 },
};

static const Typecode *
typecode_lookup (char code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (typecodes); i++)
    if (typecodes[i].code == code && code != '\0')
      return &typecodes[i];
  return NULL;
}

/**
 * mp_typecode_is_valid:
 * @typecode: a character
 *
 * Returns: whether @typecode is one of "bBhHiIlLqQfdc?".
 *
 * Since: 0.1
 */
gboolean
mp_typecode_is_valid (char typecode)
{
  return typecode_lookup (typecode) != NULL;
}

/**
 * mp_typecode_get_size:
 * @typecode: a typecode
 *
 * Returns: the size in bytes of one element, or 0 for an invalid typecode.
 *
 * Since: 0.1
 */
gsize
mp_typecode_get_size (char typecode)
{
  const Typecode *tc = typecode_lookup (typecode);

  return tc != NULL ? tc->size : 0;
}

static inline guint64
typecode_max (const Typecode *tc)
{
  return tc->max;
}

static inline gint64
typecode_min (const Typecode *tc)
{
  return tc->min;
}

static GType
typecode_gtype (const Typecode *tc)
{
  switch (tc->code)
    {
    case 'b': return G_TYPE_CHAR;
    case 'B': case 'c': return G_TYPE_UCHAR;
    case 'h': case 'i': return G_TYPE_INT;
    case 'H': case 'I': return G_TYPE_UINT;
    case 'l': return G_TYPE_LONG;
    case 'L': return G_TYPE_ULONG;
    case 'q': return G_TYPE_INT64;
    case 'Q': return G_TYPE_UINT64;
    case 'f': return G_TYPE_FLOAT;
    case 'd': return G_TYPE_DOUBLE;
    case '?': return G_TYPE_BOOLEAN;
    default: g_assert_not_reached ();
    }
}

static gboolean
check_typecode (char            code,
                const Typecode **tc,
                GError         **error)
{
  *tc = typecode_lookup (code);
  if (*tc != NULL)
    return TRUE;
  if (g_ascii_isprint (code))
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "'%c' is not a typecode: use one of \"bBhHiIlLqQfdc?\"", code);
  else
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "Byte 0x%02x is not a typecode: use one of \"bBhHiIlLqQfdc?\"",
                  (guint) (guchar) code);
  return FALSE;
}

/* ---- the shared part of MpValue and MpArray -------------------------------- */

/* The elements are in a mapping of their own, except for an MpValue made
 * with a lock of its own (Python's default): that one lives in its lock's
 * shared memory, next to the mutex (mp_sync_lock_value_cell()), and its
 * mapping stays empty (fd -1). */
typedef struct {
  MpMapping       mapping;
  const Typecode *tc;
  gsize           length;
  MpLockable     *lock;    /* MpLock or MpRLock; NULL when raw */
  guint8         *data;    /* the elements */
  guint64         trace_key;  /* mp_shared_trace_key(), 0 until asked */
} MpShared;

struct _MpValue
{
  GObject  parent_instance;
  MpShared shared;
};

struct _MpArray
{
  GObject  parent_instance;
  MpShared shared;
};

/* Both start the same way, so either one's shared part is found without
 * asking which it is. */
G_STATIC_ASSERT (G_STRUCT_OFFSET (MpValue, shared) == G_STRUCT_OFFSET (MpArray, shared));

/* The shared part of an MpValue or MpArray already checked to be one. */
static MpShared *
shared_of (gpointer object)
{
  return &((MpValue *) object)->shared;
}

static gsize
shared_bytes (const Typecode *tc,
              gsize           length)
{
  /* an empty array still needs a mapping to exist */
  return MAX (tc->size * length, 1);
}

static gboolean
shared_init (GObject     *owner,
             char         code,
             gsize        length,
             MpLockable  *lock,
             gboolean     new_lock,
             GError     **error)
{
  MpShared *s = shared_of (owner);

  if (!check_typecode (code, &s->tc, error))
    return FALSE;
  if (length > G_MAXSSIZE / s->tc->size)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "An MpArray of %" G_GSIZE_FORMAT " elements would not fit in memory",
                    length);
      return FALSE;
    }
  if (lock != NULL && !mp_sync_is_mutex_lock (lock))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "The lock of an %s must be an MpLock or MpRLock, not an %s",
                    G_OBJECT_TYPE_NAME (owner), G_OBJECT_TYPE_NAME (lock));
      return FALSE;
    }
  s->length = length;
  if (lock != NULL)
    s->lock = g_object_ref (lock);
  else if (new_lock)
    {
      s->lock = MP_LOCKABLE (mp_rlock_new (error));
      if (s->lock == NULL)
        return FALSE;
      if (MP_IS_VALUE (owner))
        {
          s->data = mp_sync_lock_value_cell (s->lock);
          return TRUE;
        }
    }
  if (!mp_mapping_create (&s->mapping, G_OBJECT_TYPE_NAME (owner),
                          shared_bytes (s->tc, length), error))
    return FALSE;
  s->data = s->mapping.data;
  return TRUE;
}

static void
shared_clear (MpShared *s)
{
  mp_mapping_clear (&s->mapping);
  g_clear_object (&s->lock);
}

static MpLockable *
shared_get_lock (GObject    *owner,
                 MpShared   *s,
                 GError    **error)
{
  if (s->lock != NULL)
    return s->lock;
  mp_set_error (error, MP_ERROR_NO_LOCK,
                "This %s was created with lock = FALSE, so it has no lock to "
                "take and nothing keeps processes from racing on it",
                G_OBJECT_TYPE_NAME (owner));
  return NULL;
}

/* Inline, as the lock's own fast path: an access costs little more than
 * the mutex, and nothing when the caller holds the lock already (a
 * read-modify-write under the lock). */
static inline gboolean
shared_enter (MpShared  *s,
              gboolean  *entered,
              GError   **error)
{
  *entered = FALSE;
  return s->lock == NULL || mp_sync_lock_enter (s->lock, entered, error);
}

static inline void
shared_leave (MpShared *s,
              gboolean  entered)
{
  if (entered)
    mp_sync_lock_leave (s->lock, entered);
}

static void shared_trace_access (const MpShared *s,
                                 gsize           index,
                                 guint64         bits,
                                 gboolean        write);

/* Raw accesses go through relaxed atomics: unlocked objects race by
 * design (that is the lesson), and a race must lose updates, not be
 * undefined behaviour. */
static inline guint64
load_bits_untraced (const MpShared *s,
                    gsize           index)
{
  const guint8 *p = (const guint8 *) s->data + index * s->tc->size;

  switch (s->tc->size)
    {
    case 1: return __atomic_load_n ((const guint8 *) p, __ATOMIC_RELAXED);
    case 2: return __atomic_load_n ((const guint16 *) p, __ATOMIC_RELAXED);
    case 4: return __atomic_load_n ((const guint32 *) p, __ATOMIC_RELAXED);
    case 8: return __atomic_load_n ((const guint64 *) p, __ATOMIC_RELAXED);
    default: g_assert_not_reached ();
    }
}

static inline guint64
load_bits (const MpShared *s,
           gsize           index)
{
  guint64 bits = load_bits_untraced (s, index);

  if (MP_TRACE_ON)
    shared_trace_access (s, index, bits, FALSE);
  return bits;
}

static inline void
store_bits (MpShared *s,
            gsize     index,
            guint64   bits)
{
  guint8 *p = (guint8 *) s->data + index * s->tc->size;

  if (MP_TRACE_ON)
    shared_trace_access (s, index, bits, TRUE);
  switch (s->tc->size)
    {
    case 1: __atomic_store_n ((guint8 *) p, (guint8) bits, __ATOMIC_RELAXED); break;
    case 2: __atomic_store_n ((guint16 *) p, (guint16) bits, __ATOMIC_RELAXED); break;
    case 4: __atomic_store_n ((guint32 *) p, (guint32) bits, __ATOMIC_RELAXED); break;
    case 8: __atomic_store_n ((guint64 *) p, bits, __ATOMIC_RELAXED); break;
    default: g_assert_not_reached ();
    }
}

/* An element's bits as a number: signed kinds sign-extend. */
static inline void
bits_to_number (const Typecode *tc,
                guint64         bits,
                gboolean       *negative,
                guint64        *magnitude_or_bits)
{
  *negative = FALSE;
  *magnitude_or_bits = bits;
  if (tc->kind == KIND_SIGNED && tc->size < 8)
    {
      guint64 sign = G_GUINT64_CONSTANT (1) << (8 * tc->size - 1);

      if (bits & sign)
        {
          *negative = TRUE;
          *magnitude_or_bits = bits | ~((sign << 1) - 1);   /* sign-extended */
        }
    }
  else if (tc->kind == KIND_SIGNED && (bits >> 63) != 0)
    *negative = TRUE;
}

static gboolean
double_to_bits (const Typecode *tc,
                double          v,
                guint64        *bits)
{
  if (tc->size == sizeof (float))
    {
      float f = (float) v;
      guint32 b;

      memcpy (&b, &f, sizeof b);
      *bits = b;
    }
  else
    memcpy (bits, &v, sizeof v);
  return TRUE;
}

static double
bits_to_double (const Typecode *tc,
                guint64         bits)
{
  if (tc->size == sizeof (float))
    {
      guint32 b = (guint32) bits;
      float f;

      memcpy (&f, &b, sizeof f);
      return f;
    }
  else
    {
      double d;

      memcpy (&d, &bits, sizeof d);
      return d;
    }
}

/**
 * mp_shared_trace_key: (skip)
 * @object: an #MpValue or #MpArray
 *
 * What names @object's memory in every process that shares it, forked or
 * spawned: the inode of the memfd its elements live in (its own, or its
 * lock's for a Value that lives next to its mutex).
 *
 * Returns: the key, or 0 when @object is neither or has no memory.
 */
guint64
mp_shared_trace_key (gpointer object)
{
  MpShared *s;
  struct stat st;
  int fd;

  if (!MP_IS_VALUE (object) && !MP_IS_ARRAY (object))
    return 0;
  s = shared_of (object);
  if (s->trace_key != 0)
    return s->trace_key;
  fd = s->mapping.fd >= 0 ? s->mapping.fd :
       s->lock != NULL && mp_sync_is_mutex_lock (s->lock) ? ((MpSyncObject *) s->lock)->mapping.fd : -1;
  if (fd >= 0 && fstat (fd, &st) == 0)
    s->trace_key = (guint64) st.st_ino;
  return s->trace_key;
}

/* A read or write of a watched object (mp_trace_watch()) is an event. */
static G_GNUC_NO_INLINE void
shared_trace_access (const MpShared *s,
                     gsize           index,
                     guint64         bits,
                     gboolean        write)
{
  gconstpointer owner = (const guint8 *) s - G_STRUCT_OFFSET (MpValue, shared);
  const char *name = mp_trace_watched_name (mp_shared_trace_key ((gpointer) owner));
  gint64 at = MP_TRACE_NONE;
  gboolean negative;
  guint64 number;

  if (name == NULL)
    return;
  if (G_TYPE_CHECK_INSTANCE_TYPE (owner, MP_TYPE_ARRAY))
    at = (gint64) index;
  if (s->tc->kind == KIND_FLOAT)
    {
      mp_trace_value_double (write, name, at, bits_to_double (s->tc, bits));
      return;
    }
  bits_to_number (s->tc, bits, &negative, &number);
  mp_trace_value_int (write, name, at, (gint64) number);
}

static inline gboolean
check_integer_kind (GObject    *owner,
                    MpShared   *s,
                    GError    **error)
{
  if (s->tc->kind != KIND_FLOAT)
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "This %s has typecode '%c' (%s): read and write it with the "
                "_double accessors",
                G_OBJECT_TYPE_NAME (owner), s->tc->code, s->tc->ctype);
  return FALSE;
}

static gboolean
check_float_kind (GObject    *owner,
                  MpShared   *s,
                  GError    **error)
{
  if (s->tc->kind == KIND_FLOAT)
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "This %s has typecode '%c' (%s): read and write it with the "
                "_int or _uint accessors",
                G_OBJECT_TYPE_NAME (owner), s->tc->code, s->tc->ctype);
  return FALSE;
}

static G_GNUC_NO_INLINE gboolean
set_range_error (GError        **error,
                 const Typecode *tc,
                 const char     *value)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "%s does not fit typecode '%c' (%s, %" G_GINT64_FORMAT "..%" G_GUINT64_FORMAT ")",
                value, tc->code, tc->ctype, typecode_min (tc), typecode_max (tc));
  return FALSE;
}

/* A number as a sign and 64 bits (the gint64 bits when negative). */
static inline gboolean
number_fits (const Typecode *tc,
             gboolean        negative,
             guint64         v)
{
  return negative ? (gint64) v >= typecode_min (tc) : v <= typecode_max (tc);
}

static char *
number_to_string (gboolean negative,
                  guint64  v)
{
  return negative ? g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) v)
                  : g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

/* Checks that a number fits the typecode and gives its bits. */
static inline gboolean
int_to_bits (const Typecode *tc,
             gboolean        negative,
             guint64         v,    /* the gint64 bits when negative */
             guint64        *bits,
             GError        **error)
{
  if (!number_fits (tc, negative, v))
    {
      g_autofree char *shown = number_to_string (negative, v);
      return set_range_error (error, tc, shown);
    }
  *bits = v;
  return TRUE;
}

/* @number + @delta, both as sign and bits; FALSE when the sum leaves the
 * 64-bit range altogether (it then fits no typecode either). */
static inline gboolean
add_to_number (gboolean  negative,
               guint64   number,
               gint64    delta,
               gboolean *sum_negative,
               guint64  *sum)
{
  if (negative)
    {
      gint64 r;

      if (__builtin_add_overflow ((gint64) number, delta, &r))
        return FALSE;
      *sum_negative = r < 0;
      *sum = (guint64) r;
      return TRUE;
    }
  if (delta >= 0)
    {
      *sum_negative = FALSE;
      return !__builtin_add_overflow (number, (guint64) delta, sum);
    }
  /* unsigned wrap-around gives the gint64 bits of a negative result */
  *sum_negative = number < -(guint64) delta;
  *sum = number + (guint64) delta;
  return TRUE;
}

/* A stored element that the requested C type cannot represent. */
static G_GNUC_NO_INLINE gboolean
set_does_not_fit_error (GError        **error,
                        const Typecode *tc,
                        gboolean        negative)
{
  if (negative)
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "A negative element of typecode '%c' (%s) has no unsigned "
                  "value: read it with the _int accessors", tc->code, tc->ctype);
  else
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "An element of typecode '%c' (%s) above G_MAXINT64 does not "
                  "fit a gint64: read it with the _uint accessors", tc->code, tc->ctype);
  return FALSE;
}

/* Element reads and writes, the lock taken around each. */

static inline gboolean
shared_read_int (GObject    *owner,
                 MpShared   *s,
                 gsize       index,
                 gboolean    want_unsigned,
                 guint64    *out,
                 GError    **error)
{
  gboolean entered;
  gboolean negative;
  guint64 bits;

  if (!check_integer_kind (owner, s, error))
    return FALSE;
  if (!shared_enter (s, &entered, error))
    return FALSE;
  bits = load_bits (s, index);
  shared_leave (s, entered);

  bits_to_number (s->tc, bits, &negative, out);
  if (want_unsigned && negative)
    return set_does_not_fit_error (error, s->tc, TRUE);
  if (!want_unsigned && !negative && *out > (guint64) G_MAXINT64)
    return set_does_not_fit_error (error, s->tc, FALSE);
  return TRUE;
}

static inline gboolean
shared_write_int (GObject    *owner,
                  MpShared   *s,
                  gsize       index,
                  gboolean    negative,
                  guint64     v,
                  GError    **error)
{
  gboolean entered;
  guint64 bits = 0;

  if (!check_integer_kind (owner, s, error) ||
      !int_to_bits (s->tc, negative, v, &bits, error))
    return FALSE;
  if (!shared_enter (s, &entered, error))
    return FALSE;
  store_bits (s, index, bits);
  shared_leave (s, entered);
  return TRUE;
}

/* Element += @delta, the lock held across the read, the add and the write. */
static inline gboolean
shared_add_int (GObject    *owner,
                MpShared   *s,
                gsize       index,
                gint64      delta,
                GError    **error)
{
  gboolean entered;
  gboolean negative, sum_negative;
  guint64 number, sum;
  gboolean fits;

  if (!check_integer_kind (owner, s, error))
    return FALSE;
  if (!shared_enter (s, &entered, error))
    return FALSE;
  bits_to_number (s->tc, load_bits (s, index), &negative, &number);
  fits = add_to_number (negative, number, delta, &sum_negative, &sum) &&
         number_fits (s->tc, sum_negative, sum);
  if (fits)
    store_bits (s, index, sum);
  shared_leave (s, entered);

  if (!fits)
    {
      g_autofree char *value = number_to_string (negative, number);
      g_autofree char *shown = g_strdup_printf ("%s + %" G_GINT64_FORMAT, value, delta);
      return set_range_error (error, s->tc, shown);
    }
  return TRUE;
}

static gboolean
shared_read_double (GObject    *owner,
                    MpShared   *s,
                    gsize       index,
                    double     *out,
                    GError    **error)
{
  gboolean entered;
  guint64 bits;

  if (!check_float_kind (owner, s, error))
    return FALSE;
  if (!shared_enter (s, &entered, error))
    return FALSE;
  bits = load_bits (s, index);
  shared_leave (s, entered);
  *out = bits_to_double (s->tc, bits);
  return TRUE;
}

static gboolean
shared_write_double (GObject    *owner,
                     MpShared   *s,
                     gsize       index,
                     double      v,
                     GError    **error)
{
  gboolean entered;
  guint64 bits;

  if (!check_float_kind (owner, s, error) || !double_to_bits (s->tc, v, &bits))
    return FALSE;
  if (!shared_enter (s, &entered, error))
    return FALSE;
  store_bits (s, index, bits);
  shared_leave (s, entered);
  return TRUE;
}

static gboolean
shared_read_gvalue (GObject    *owner,
                    MpShared   *s,
                    gsize       index,
                    GValue     *out,
                    GError    **error)
{
  const Typecode *tc = s->tc;
  gboolean negative;
  guint64 number;
  gboolean entered;
  guint64 bits;

  if (!shared_enter (s, &entered, error))
    return FALSE;
  bits = load_bits (s, index);
  shared_leave (s, entered);

  g_value_init (out, typecode_gtype (tc));
  if (tc->kind == KIND_FLOAT)
    {
      if (tc->size == sizeof (float))
        g_value_set_float (out, (float) bits_to_double (tc, bits));
      else
        g_value_set_double (out, bits_to_double (tc, bits));
      return TRUE;
    }
  bits_to_number (tc, bits, &negative, &number);
  switch (G_VALUE_TYPE (out))
    {
    case G_TYPE_CHAR: g_value_set_schar (out, (gint8) number); break;
    case G_TYPE_UCHAR: g_value_set_uchar (out, (guchar) number); break;
    case G_TYPE_INT: g_value_set_int (out, (gint) (gint64) number); break;
    case G_TYPE_UINT: g_value_set_uint (out, (guint) number); break;
    case G_TYPE_LONG: g_value_set_long (out, (glong) (gint64) number); break;
    case G_TYPE_ULONG: g_value_set_ulong (out, (gulong) number); break;
    case G_TYPE_INT64: g_value_set_int64 (out, (gint64) number); break;
    case G_TYPE_UINT64: g_value_set_uint64 (out, number); break;
    case G_TYPE_BOOLEAN: g_value_set_boolean (out, number != 0); break;
    default: g_assert_not_reached ();
    }
  return TRUE;
}

static gboolean
shared_write_gvalue (GObject      *owner,
                     MpShared     *s,
                     gsize         index,
                     const GValue *v,
                     GError      **error)
{
  gint64 i;

  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (v)))
    {
    case G_TYPE_BOOLEAN: i = g_value_get_boolean (v) ? 1 : 0; break;
    case G_TYPE_CHAR: i = g_value_get_schar (v); break;
    case G_TYPE_INT: i = g_value_get_int (v); break;
    case G_TYPE_LONG: i = g_value_get_long (v); break;
    case G_TYPE_INT64: i = g_value_get_int64 (v); break;
    case G_TYPE_UCHAR:
      return shared_write_int (owner, s, index, FALSE, g_value_get_uchar (v), error);
    case G_TYPE_UINT:
      return shared_write_int (owner, s, index, FALSE, g_value_get_uint (v), error);
    case G_TYPE_ULONG:
      return shared_write_int (owner, s, index, FALSE, g_value_get_ulong (v), error);
    case G_TYPE_UINT64:
      return shared_write_int (owner, s, index, FALSE, g_value_get_uint64 (v), error);
    case G_TYPE_FLOAT:
      return shared_write_double (owner, s, index, g_value_get_float (v), error);
    case G_TYPE_DOUBLE:
      return shared_write_double (owner, s, index, g_value_get_double (v), error);
    default:
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "A %s cannot be stored in an %s of typecode '%c' (%s)",
                    G_VALUE_TYPE_NAME (v), G_OBJECT_TYPE_NAME (owner),
                    s->tc->code, s->tc->ctype);
      return FALSE;
    }
  return shared_write_int (owner, s, index, i < 0, (guint64) i, error);
}

/* ---- MpLockable, for both ---------------------------------------------------- */

/* Only for an object without a lock: mp_lockable_acquire() takes the
 * lock of the others directly (mp_sync_register_guarded_type()). */
static gboolean
shared_lockable_acquire (MpLockable *self,
                         gint64      timeout_us,
                         GError    **error)
{
  MpShared *s = shared_of (self);
  MpLockable *lock = shared_get_lock ((GObject *) self, s, error);

  return lock != NULL && mp_lockable_acquire (lock, timeout_us, error);
}

static gboolean
shared_lockable_release (MpLockable *self,
                         GError    **error)
{
  MpShared *s = shared_of (self);
  MpLockable *lock = shared_get_lock ((GObject *) self, s, error);

  return lock != NULL && mp_lockable_release (lock, error);
}

static void
shared_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = shared_lockable_acquire;
  iface->release = shared_lockable_release;
}

/* ---- MpValue ------------------------------------------------------------------ */

G_DEFINE_FINAL_TYPE_WITH_CODE (MpValue, mp_value, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, shared_lockable_init))

static void
mp_value_finalize (GObject *object)
{
  shared_clear (&((MpValue *) object)->shared);

  G_OBJECT_CLASS (mp_value_parent_class)->finalize (object);
}

static void
mp_value_class_init (MpValueClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mp_value_finalize;
  mp_sync_register_guarded_type (G_TYPE_FROM_CLASS (klass), G_STRUCT_OFFSET (MpValue, shared.lock));
}

static void
mp_value_init (MpValue *self)
{
  self->shared.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_value_create:
 * @typecode: one of "bBhHiIlLqQfdc?"
 * @lock: %TRUE for a new process-shared #MpRLock (Python's default),
 *   %FALSE for a raw value without a lock
 * @error: return location for a #GError
 *
 * Creates a zero value in shared memory (Python's `multiprocessing.Value`).
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set
 *   (%MP_ERROR_INVALID_ARGUMENT for an unknown typecode).
 *
 * Since: 0.1
 */
MpValue *
mp_value_create (char      typecode,
                 gboolean  lock,
                 GError  **error)
{
  g_autoptr(MpValue) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_VALUE, NULL);
  if (!shared_init ((GObject *) self, typecode, 1, NULL, lock, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_value_create_with_lock:
 * @typecode: one of "bBhHiIlLqQfdc?"
 * @lock: the #MpLock or #MpRLock that guards the value
 * @error: return location for a #GError
 *
 * Creates a zero value in shared memory guarded by @lock, which may guard
 * other objects too (Python's `Value (typecode, lock=lock)`).
 *
 * Returns: (transfer full) (nullable): the value, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpValue *
mp_value_create_with_lock (char         typecode,
                           MpLockable  *lock,
                           GError     **error)
{
  g_autoptr(MpValue) self = NULL;

  g_return_val_if_fail (MP_IS_LOCKABLE (lock), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_VALUE, NULL);
  if (!shared_init ((GObject *) self, typecode, 1, lock, FALSE, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_value_get_typecode:
 * @self: an #MpValue
 *
 * Returns: the typecode.
 *
 * Since: 0.1
 */
char
mp_value_get_typecode (MpValue *self)
{
  g_return_val_if_fail (MP_IS_VALUE (self), '\0');

  return self->shared.tc->code;
}

/**
 * mp_value_get_lock:
 * @self: an #MpValue
 * @error: return location for a #GError
 *
 * Returns: (transfer none) (nullable): the lock guarding @self, or %NULL
 *   with %MP_ERROR_NO_LOCK when it was created with `lock = FALSE`.
 *
 * Since: 0.1
 */
MpLockable *
mp_value_get_lock (MpValue  *self,
                   GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return shared_get_lock ((GObject *) self, &self->shared, error);
}

/**
 * mp_value_get_int:
 * @self: an #MpValue of an integer, char or bool typecode
 * @error: return location for a #GError
 *
 * Reads the value, taking the lock for the read.
 *
 * Returns: the value; 0 with @error set for a float typecode, a 'Q' value
 *   above %G_MAXINT64, or %MP_ERROR_OWNER_DIED from the lock.
 *
 * Since: 0.1
 */
gint64
mp_value_get_int (MpValue  *self,
                  GError  **error)
{
  guint64 v = 0;

  g_return_val_if_fail (MP_IS_VALUE (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!shared_read_int ((GObject *) self, &self->shared, 0, FALSE, &v, error))
    return 0;
  return (gint64) v;
}

/**
 * mp_value_set_int:
 * @self: an #MpValue of an integer, char or bool typecode
 * @v: the new value
 * @error: return location for a #GError
 *
 * Writes the value, taking the lock for the write.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT when @v does not
 *   fit the typecode (nothing is written).
 *
 * Since: 0.1
 */
gboolean
mp_value_set_int (MpValue  *self,
                  gint64    v,
                  GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_write_int ((GObject *) self, &self->shared, 0, v < 0, (guint64) v, error);
}

/**
 * mp_value_add_int:
 * @self: an #MpValue of an integer, char or bool typecode
 * @delta: what to add (negative to subtract)
 * @error: return location for a #GError
 *
 * `total += delta` done right: the lock is held across the read, the add
 * and the write, so no other process's update can fall between them and
 * be lost (the fix of pitfall `lost-update`, in one call). When the
 * calling thread already holds the lock, it is not taken again. A value
 * made with `lock = FALSE` has no lock to hold: then this is as unguarded
 * as a get followed by a set.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT when the sum does
 *   not fit the typecode or the typecode is 'f' or 'd' (nothing is
 *   written), or %MP_ERROR_OWNER_DIED from the lock.
 *
 * Since: 0.1
 */
gboolean
mp_value_add_int (MpValue  *self,
                  gint64    delta,
                  GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_add_int ((GObject *) self, &self->shared, 0, delta, error);
}

/**
 * mp_value_get_uint:
 * @self: an #MpValue of an integer, char or bool typecode
 * @error: return location for a #GError
 *
 * Returns: the value; 0 with @error set when it is negative.
 *
 * Since: 0.1
 */
guint64
mp_value_get_uint (MpValue  *self,
                   GError  **error)
{
  guint64 v = 0;

  g_return_val_if_fail (MP_IS_VALUE (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!shared_read_int ((GObject *) self, &self->shared, 0, TRUE, &v, error))
    return 0;
  return v;
}

/**
 * mp_value_set_uint:
 * @self: an #MpValue of an integer, char or bool typecode
 * @v: the new value
 * @error: return location for a #GError
 *
 * Returns: as mp_value_set_int().
 *
 * Since: 0.1
 */
gboolean
mp_value_set_uint (MpValue  *self,
                   guint64   v,
                   GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_write_int ((GObject *) self, &self->shared, 0, FALSE, v, error);
}

/**
 * mp_value_get_double:
 * @self: an #MpValue of typecode 'f' or 'd'
 * @error: return location for a #GError
 *
 * Returns: the value; 0 with @error set for other typecodes.
 *
 * Since: 0.1
 */
double
mp_value_get_double (MpValue  *self,
                     GError  **error)
{
  double v = 0;

  g_return_val_if_fail (MP_IS_VALUE (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!shared_read_double ((GObject *) self, &self->shared, 0, &v, error))
    return 0;
  return v;
}

/**
 * mp_value_set_double:
 * @self: an #MpValue of typecode 'f' or 'd'
 * @v: the new value ('f' rounds it to float, as C does)
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with @error set for other typecodes.
 *
 * Since: 0.1
 */
gboolean
mp_value_set_double (MpValue  *self,
                     double    v,
                     GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_write_double ((GObject *) self, &self->shared, 0, v, error);
}

/**
 * mp_value_get:
 * @self: an #MpValue
 * @out: (out caller-allocates): an unset #GValue
 * @error: return location for a #GError
 *
 * Reads the value into @out, initialized to the typecode's natural type
 * (b: gchar, B c: guchar, h i: gint, H I: guint, l: glong, L: gulong,
 * q: gint64, Q: guint64, f: gfloat, d: gdouble, ?: gboolean).
 *
 * Returns: %TRUE; %FALSE with @error set (then @out stays unset).
 *
 * Since: 0.1
 */
gboolean
mp_value_get (MpValue  *self,
              GValue   *out,
              GError  **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_read_gvalue ((GObject *) self, &self->shared, 0, out, error);
}

/**
 * mp_value_set:
 * @self: an #MpValue
 * @v: a boolean, integer or floating point #GValue
 * @error: return location for a #GError
 *
 * Writes @v, which must fit the typecode (floating point only into 'f'
 * and 'd', as Python refuses a float for an int).
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT.
 *
 * Since: 0.1
 */
gboolean
mp_value_set (MpValue      *self,
              const GValue *v,
              GError      **error)
{
  g_return_val_if_fail (MP_IS_VALUE (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (v), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return shared_write_gvalue ((GObject *) self, &self->shared, 0, v, error);
}

/* ---- MpArray -------------------------------------------------------------------- */

G_DEFINE_FINAL_TYPE_WITH_CODE (MpArray, mp_array, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, shared_lockable_init))

static void
mp_array_finalize (GObject *object)
{
  shared_clear (&((MpArray *) object)->shared);

  G_OBJECT_CLASS (mp_array_parent_class)->finalize (object);
}

static void
mp_array_class_init (MpArrayClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mp_array_finalize;
  mp_sync_register_guarded_type (G_TYPE_FROM_CLASS (klass), G_STRUCT_OFFSET (MpArray, shared.lock));
}

static void
mp_array_init (MpArray *self)
{
  self->shared.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_array_create:
 * @typecode: one of "bBhHiIlLqQfdc?"
 * @length: the number of elements, fixed for good
 * @lock: %TRUE for a new process-shared #MpRLock (Python's default),
 *   %FALSE for a raw array without a lock
 * @error: return location for a #GError
 *
 * Creates a zero-filled array in shared memory (Python's
 * `multiprocessing.Array (typecode, length)`).
 *
 * Returns: (transfer full) (nullable): the array, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpArray *
mp_array_create (char      typecode,
                 gsize     length,
                 gboolean  lock,
                 GError  **error)
{
  g_autoptr(MpArray) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_ARRAY, NULL);
  if (!shared_init ((GObject *) self, typecode, length, NULL, lock, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_array_create_with_lock:
 * @typecode: one of "bBhHiIlLqQfdc?"
 * @length: the number of elements
 * @lock: the #MpLock or #MpRLock that guards the array
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the array, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpArray *
mp_array_create_with_lock (char         typecode,
                           gsize        length,
                           MpLockable  *lock,
                           GError     **error)
{
  g_autoptr(MpArray) self = NULL;

  g_return_val_if_fail (MP_IS_LOCKABLE (lock), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_ARRAY, NULL);
  if (!shared_init ((GObject *) self, typecode, length, lock, FALSE, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_array_create_from_ints:
 * @typecode: an integer, char or bool typecode
 * @values: (array length=n_values) (nullable): the initial elements
 * @n_values: how many, also the array's length
 * @lock: as for mp_array_create()
 * @error: return location for a #GError
 *
 * Python's `Array (typecode, [1, 2, 3])`.
 *
 * Returns: (transfer full) (nullable): the array, or %NULL with @error set
 *   (also when a value does not fit the typecode).
 *
 * Since: 0.1
 */
MpArray *
mp_array_create_from_ints (char          typecode,
                           const gint64 *values,
                           gsize         n_values,
                           gboolean      lock,
                           GError      **error)
{
  g_autoptr(MpArray) self = NULL;

  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = mp_array_create (typecode, n_values, lock, error);
  if (self == NULL || !mp_array_set_ints (self, 0, values, n_values, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_array_create_from_doubles:
 * @typecode: 'f' or 'd'
 * @values: (array length=n_values) (nullable): the initial elements
 * @n_values: how many, also the array's length
 * @lock: as for mp_array_create()
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (nullable): the array, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpArray *
mp_array_create_from_doubles (char          typecode,
                              const double *values,
                              gsize         n_values,
                              gboolean      lock,
                              GError      **error)
{
  g_autoptr(MpArray) self = NULL;

  g_return_val_if_fail (values != NULL || n_values == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = mp_array_create (typecode, n_values, lock, error);
  if (self == NULL || !mp_array_set_doubles (self, 0, values, n_values, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_array_get_typecode:
 * @self: an #MpArray
 *
 * Returns: the typecode.
 *
 * Since: 0.1
 */
char
mp_array_get_typecode (MpArray *self)
{
  g_return_val_if_fail (MP_IS_ARRAY (self), '\0');

  return self->shared.tc->code;
}

/**
 * mp_array_get_length:
 * @self: an #MpArray
 *
 * Returns: the number of elements.
 *
 * Since: 0.1
 */
gsize
mp_array_get_length (MpArray *self)
{
  g_return_val_if_fail (MP_IS_ARRAY (self), 0);

  return self->shared.length;
}

/**
 * mp_array_get_lock:
 * @self: an #MpArray
 * @error: return location for a #GError
 *
 * Returns: (transfer none) (nullable): the lock guarding @self, or %NULL
 *   with %MP_ERROR_NO_LOCK when it was created with `lock = FALSE`.
 *
 * Since: 0.1
 */
MpLockable *
mp_array_get_lock (MpArray  *self,
                   GError  **error)
{
  g_return_val_if_fail (MP_IS_ARRAY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return shared_get_lock ((GObject *) self, &self->shared, error);
}

/* Python's indexing: -1 is the last element. */
static gboolean
resolve_index (MpArray  *self,
               gssize    index,
               gsize    *out,
               GError  **error)
{
  gsize length = self->shared.length;

  if (index < 0 && (gsize) -(index + 1) < length)
    {
      *out = length - (gsize) -(index + 1) - 1;
      return TRUE;
    }
  if (index >= 0 && (gsize) index < length)
    {
      *out = (gsize) index;
      return TRUE;
    }
  mp_set_error (error, MP_ERROR_INDEX,
                "Index %" G_GSSIZE_FORMAT " is out of range for an MpArray of length %" G_GSIZE_FORMAT,
                index, length);
  return FALSE;
}

static gboolean
check_slice (MpArray  *self,
             gsize     start,
             gsize     n,
             GError  **error)
{
  gsize length = self->shared.length;

  if (start <= length && n <= length - start)
    return TRUE;
  mp_set_error (error, MP_ERROR_INDEX,
                "Slice [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT " + %" G_GSIZE_FORMAT
                ") is out of range for an MpArray of length %" G_GSIZE_FORMAT,
                start, start, n, length);
  return FALSE;
}

/**
 * mp_array_get_int:
 * @self: an #MpArray of an integer, char or bool typecode
 * @index: the element; negative counts from the end
 * @error: return location for a #GError
 *
 * Returns: the element; 0 with %MP_ERROR_INDEX for an index out of range,
 *   or an error as for mp_value_get_int().
 *
 * Since: 0.1
 */
gint64
mp_array_get_int (MpArray  *self,
                  gssize    index,
                  GError  **error)
{
  guint64 v = 0;
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!resolve_index (self, index, &i, error) ||
      !shared_read_int ((GObject *) self, &self->shared, i, FALSE, &v, error))
    return 0;
  return (gint64) v;
}

/**
 * mp_array_set_int:
 * @self: an #MpArray of an integer, char or bool typecode
 * @index: the element; negative counts from the end
 * @v: the new value
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INDEX or
 *   %MP_ERROR_INVALID_ARGUMENT (nothing is written).
 *
 * Since: 0.1
 */
gboolean
mp_array_set_int (MpArray  *self,
                  gssize    index,
                  gint64    v,
                  GError  **error)
{
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return resolve_index (self, index, &i, error) &&
         shared_write_int ((GObject *) self, &self->shared, i, v < 0, (guint64) v, error);
}

/**
 * mp_array_get_uint:
 * @self: an #MpArray of an integer, char or bool typecode
 * @index: the element; negative counts from the end
 * @error: return location for a #GError
 *
 * Returns: the element; 0 with @error set.
 *
 * Since: 0.1
 */
guint64
mp_array_get_uint (MpArray  *self,
                   gssize    index,
                   GError  **error)
{
  guint64 v = 0;
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!resolve_index (self, index, &i, error) ||
      !shared_read_int ((GObject *) self, &self->shared, i, TRUE, &v, error))
    return 0;
  return v;
}

/**
 * mp_array_set_uint:
 * @self: an #MpArray of an integer, char or bool typecode
 * @index: the element; negative counts from the end
 * @v: the new value
 * @error: return location for a #GError
 *
 * Returns: as mp_array_set_int().
 *
 * Since: 0.1
 */
gboolean
mp_array_set_uint (MpArray  *self,
                   gssize    index,
                   guint64   v,
                   GError  **error)
{
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return resolve_index (self, index, &i, error) &&
         shared_write_int ((GObject *) self, &self->shared, i, FALSE, v, error);
}

/**
 * mp_array_get_double:
 * @self: an #MpArray of typecode 'f' or 'd'
 * @index: the element; negative counts from the end
 * @error: return location for a #GError
 *
 * Returns: the element; 0 with @error set.
 *
 * Since: 0.1
 */
double
mp_array_get_double (MpArray  *self,
                     gssize    index,
                     GError  **error)
{
  double v = 0;
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!resolve_index (self, index, &i, error) ||
      !shared_read_double ((GObject *) self, &self->shared, i, &v, error))
    return 0;
  return v;
}

/**
 * mp_array_set_double:
 * @self: an #MpArray of typecode 'f' or 'd'
 * @index: the element; negative counts from the end
 * @v: the new value
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_array_set_double (MpArray  *self,
                     gssize    index,
                     double    v,
                     GError  **error)
{
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return resolve_index (self, index, &i, error) &&
         shared_write_double ((GObject *) self, &self->shared, i, v, error);
}

/**
 * mp_array_get:
 * @self: an #MpArray
 * @index: the element; negative counts from the end
 * @out: (out caller-allocates): an unset #GValue
 * @error: return location for a #GError
 *
 * Reads an element as mp_value_get() does.
 *
 * Returns: %TRUE; %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_array_get (MpArray  *self,
              gssize    index,
              GValue   *out,
              GError  **error)
{
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return resolve_index (self, index, &i, error) &&
         shared_read_gvalue ((GObject *) self, &self->shared, i, out, error);
}

/**
 * mp_array_set:
 * @self: an #MpArray
 * @index: the element; negative counts from the end
 * @v: a boolean, integer or floating point #GValue
 * @error: return location for a #GError
 *
 * Writes an element as mp_value_set() does.
 *
 * Returns: %TRUE; %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_array_set (MpArray      *self,
              gssize        index,
              const GValue *v,
              GError      **error)
{
  gsize i;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (G_IS_VALUE (v), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return resolve_index (self, index, &i, error) &&
         shared_write_gvalue ((GObject *) self, &self->shared, i, v, error);
}

/**
 * mp_array_get_ints:
 * @self: an #MpArray of an integer, char or bool typecode
 * @start: the first element
 * @n: how many elements
 * @out: (array length=n): where to put them
 * @error: return location for a #GError
 *
 * Reads a slice under one acquisition of the lock, so it is a consistent
 * snapshot with respect to other locked accesses.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INDEX when the slice does not lie
 *   inside the array, or another error as for mp_array_get_int().
 *
 * Since: 0.1
 */
gboolean
mp_array_get_ints (MpArray  *self,
                   gsize     start,
                   gsize     n,
                   gint64   *out,
                   GError  **error)
{
  MpShared *s;
  gboolean entered;
  gboolean ok = TRUE;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (out != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  s = &self->shared;
  if (!check_slice (self, start, n, error) ||
      !check_integer_kind ((GObject *) self, s, error) ||
      !shared_enter (s, &entered, error))
    return FALSE;
  for (gsize i = 0; i < n && ok; i++)
    {
      gboolean negative;
      guint64 v;

      bits_to_number (s->tc, load_bits (s, start + i), &negative, &v);
      if (!negative && v > (guint64) G_MAXINT64)
        ok = set_does_not_fit_error (error, s->tc, FALSE);
      out[i] = (gint64) v;
    }
  shared_leave (s, entered);
  return ok;
}

/**
 * mp_array_set_ints:
 * @self: an #MpArray of an integer, char or bool typecode
 * @start: the first element
 * @values: (array length=n): the new elements
 * @n: how many
 * @error: return location for a #GError
 *
 * Writes a slice under one acquisition of the lock. Every value is checked
 * first: on error nothing is written.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INDEX or %MP_ERROR_INVALID_ARGUMENT.
 *
 * Since: 0.1
 */
gboolean
mp_array_set_ints (MpArray      *self,
                   gsize         start,
                   const gint64 *values,
                   gsize         n,
                   GError      **error)
{
  MpShared *s;
  gboolean entered;
  guint64 bits;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (values != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  s = &self->shared;
  if (!check_slice (self, start, n, error) ||
      !check_integer_kind ((GObject *) self, s, error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!int_to_bits (s->tc, values[i] < 0, (guint64) values[i], &bits, error))
      {
        g_prefix_error (error, "Element %" G_GSIZE_FORMAT ": ", i);
        return FALSE;
      }
  if (!shared_enter (s, &entered, error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    store_bits (s, start + i, (guint64) values[i]);
  shared_leave (s, entered);
  return TRUE;
}

/**
 * mp_array_get_doubles:
 * @self: an #MpArray of typecode 'f' or 'd'
 * @start: the first element
 * @n: how many elements
 * @out: (array length=n): where to put them
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_array_get_doubles (MpArray  *self,
                      gsize     start,
                      gsize     n,
                      double   *out,
                      GError  **error)
{
  MpShared *s;
  gboolean entered;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (out != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  s = &self->shared;
  if (!check_slice (self, start, n, error) ||
      !check_float_kind ((GObject *) self, s, error) ||
      !shared_enter (s, &entered, error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    out[i] = bits_to_double (s->tc, load_bits (s, start + i));
  shared_leave (s, entered);
  return TRUE;
}

/**
 * mp_array_set_doubles:
 * @self: an #MpArray of typecode 'f' or 'd'
 * @start: the first element
 * @values: (array length=n): the new elements
 * @n: how many
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with @error set (nothing is written).
 *
 * Since: 0.1
 */
gboolean
mp_array_set_doubles (MpArray      *self,
                      gsize         start,
                      const double *values,
                      gsize         n,
                      GError      **error)
{
  MpShared *s;
  gboolean entered;

  g_return_val_if_fail (MP_IS_ARRAY (self), FALSE);
  g_return_val_if_fail (values != NULL || n == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  s = &self->shared;
  if (!check_slice (self, start, n, error) ||
      !check_float_kind ((GObject *) self, s, error) ||
      !shared_enter (s, &entered, error))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      guint64 bits;

      double_to_bits (s->tc, values[i], &bits);
      store_bits (s, start + i, bits);
    }
  shared_leave (s, entered);
  return TRUE;
}

static void
append_element (GString        *out,
                const Typecode *tc,
                guint64         bits)
{
  gboolean negative;
  guint64 v;

  switch (tc->kind)
    {
    case KIND_FLOAT:
      {
        char buf[G_ASCII_DTOSTR_BUF_SIZE];
        double d = bits_to_double (tc, bits);

        g_ascii_dtostr (buf, sizeof buf, d);
        g_string_append (out, buf);
        /* Python writes 1.0, not 1 */
        if (isfinite (d) && strpbrk (buf, ".e") == NULL)
          g_string_append (out, ".0");
      }
      break;
    case KIND_BOOL:
      g_string_append (out, bits != 0 ? "True" : "False");
      break;
    case KIND_CHAR:
      if (bits >= 0x20 && bits < 0x7f && bits != '\\' && bits != '\'')
        g_string_append_printf (out, "b'%c'", (char) bits);
      else
        g_string_append_printf (out, "b'\\x%02x'", (guint) bits);
      break;
    case KIND_SIGNED:
      bits_to_number (tc, bits, &negative, &v);
      g_string_append_printf (out, "%" G_GINT64_FORMAT, (gint64) v);
      break;
    case KIND_UNSIGNED:
    default:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, bits);
      break;
    }
}

/**
 * mp_array_to_string:
 * @self: an #MpArray
 * @error: return location for a #GError
 *
 * Formats the elements the way Python prints `arr[:]`, e.g.
 * "[0, 1, 4, 9, 16, 25]", under one acquisition of the lock.
 *
 * Returns: (transfer full) (nullable): the text, or %NULL with
 *   %MP_ERROR_OWNER_DIED from the lock.
 *
 * Since: 0.1
 */
char *
mp_array_to_string (MpArray  *self,
                    GError  **error)
{
  g_autoptr(GString) out = g_string_new ("[");
  MpShared *s;
  gboolean entered;

  g_return_val_if_fail (MP_IS_ARRAY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  s = &self->shared;
  if (!shared_enter (s, &entered, error))
    return NULL;
  for (gsize i = 0; i < s->length; i++)
    {
      if (i > 0)
        g_string_append (out, ", ");
      append_element (out, s->tc, load_bits (s, i));
    }
  shared_leave (s, entered);
  g_string_append_c (out, ']');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- travelling by inheritance ------------------------------------------------- */

/* State: (typecode, length, memfd number, the lock's wire form or nothing).
 * Raw objects too travel only by inheritance, as Python's do: their memory
 * exists only for processes that inherit its fd. A value living in its
 * lock's memory has no fd of its own: -1, and the lock brings the memory. */
static GVariant *
reduce_shared (GObject   *object,
               gpointer   user_data,
               GError   **error)
{
  MpShared *s = shared_of (object);
  g_autoptr(GVariant) lock_wire = NULL;

  if (s->mapping.fd >= 0 && !mp_spawning_keep_fd (s->mapping.fd, error))
    return NULL;
  if (s->lock != NULL)
    {
      g_auto(GValue) lock_value = G_VALUE_INIT;

      g_value_init (&lock_value, G_OBJECT_TYPE (s->lock));
      g_value_set_object (&lock_value, s->lock);
      lock_wire = mp_serialize_value (&lock_value, error);
      if (lock_wire == NULL)
        return NULL;
    }
  return g_variant_new ("(yti@mv)", (guchar) s->tc->code, (guint64) s->length,
                        s->mapping.fd,
                        g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, lock_wire));
}

static GObject *
rebuild_shared (GVariant  *state,
                gpointer   user_data,
                GError   **error)
{
  GType type = GPOINTER_TO_SIZE (user_data);
  g_autoptr(GObject) object = NULL;
  g_autoptr(GVariant) maybe_lock = NULL;
  g_autoptr(GVariant) lock_wire = NULL;
  MpShared *s;
  guchar code;
  guint64 length;
  gint32 fd;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE ("(ytimv)")))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The state of an %s must be (ytimv), not %s",
                    g_type_name (type), g_variant_get_type_string (state));
      return NULL;
    }
  g_variant_get (state, "(yti@mv)", &code, &length, &fd, &maybe_lock);

  object = g_object_new (type, NULL);
  s = shared_of (object);
  if (!check_typecode ((char) code, &s->tc, error))
    return NULL;
  if ((type == MP_TYPE_VALUE && length != 1) || length > G_MAXSSIZE / s->tc->size)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "A received %s claims %" G_GUINT64_FORMAT " elements",
                    g_type_name (type), length);
      return NULL;
    }
  s->length = (gsize) length;

  lock_wire = g_variant_get_maybe (maybe_lock);
  if (lock_wire != NULL)
    {
      g_auto(GValue) lock_value = G_VALUE_INIT;

      if (!mp_deserialize_value (lock_wire, &lock_value, error))
        return NULL;
      if (!G_VALUE_HOLDS_OBJECT (&lock_value) ||
          !mp_sync_is_mutex_lock (g_value_get_object (&lock_value)))
        {
          mp_set_error (error, MP_ERROR_PROTOCOL,
                        "The lock of a received %s is not an MpLock or MpRLock",
                        g_type_name (type));
          return NULL;
        }
      s->lock = g_value_dup_object (&lock_value);
    }

  if (fd == -1)
    {
      if (type != MP_TYPE_VALUE || s->lock == NULL)
        {
          mp_set_error (error, MP_ERROR_PROTOCOL,
                        "A received %s has no memory: no fd and no lock to live in",
                        g_type_name (type));
          return NULL;
        }
      s->data = mp_sync_lock_value_cell (s->lock);
      return g_steal_pointer (&object);
    }
  if (!mp_mapping_attach (&s->mapping, fd, shared_bytes (s->tc, s->length), error))
    return NULL;
  s->data = s->mapping.data;
  return g_steal_pointer (&object);
}

/* At load time, so that a spawned child knows the types before
 * mp_main_guard() decodes its arguments. */
MP_INITIALIZER (mp_shared_register_reducers)

static void
mp_shared_register_reducers (void)
{
  mp_serialize_register_reducer (MP_TYPE_VALUE, MP_TRANSFER_INHERIT_ONLY,
                                 reduce_shared, rebuild_shared,
                                 GSIZE_TO_POINTER (MP_TYPE_VALUE));
  mp_serialize_register_reducer (MP_TYPE_ARRAY, MP_TRANSFER_INHERIT_ONLY,
                                 reduce_shared, rebuild_shared,
                                 GSIZE_TO_POINTER (MP_TYPE_ARRAY));
}
