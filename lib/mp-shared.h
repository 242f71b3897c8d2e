/* mp-shared.h — MpValue and MpArray: typed shared memory children inherit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-sync.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * Python's multiprocessing.sharedctypes: Value and Array. The memory is a
 * memfd mapping that forked and spawned children share once they receive
 * the object at process start; serializing one anywhere else fails with
 * %MP_ERROR_INHERITANCE_ONLY, as in Python (pitfall `inheritance-only`).
 *
 * Typecodes, as Python's array module:
 *
 *   b signed char   B unsigned char   h short   H unsigned short
 *   i int           I unsigned int    l long    L unsigned long
 *   q long long     Q unsigned long long
 *   f float         d double          c char (a byte)   ? bool (0 or 1)
 *
 * Integer typecodes are read and written with the _int (gint64) or _uint
 * (guint64) accessors, f and d with the _double ones; a value that does not
 * fit the typecode is refused, never truncated. The GValue accessors take
 * any numeric or boolean GValue and give the typecode's natural GType.
 *
 * Locking, as Python's `lock` argument:
 * - `lock = TRUE` (Python's default): a new process-shared #MpRLock;
 * - `lock = FALSE`: a raw object; asking for its lock is %MP_ERROR_NO_LOCK
 *   (pitfall `lock-false`);
 * - the _with_lock() constructors take your #MpLock or #MpRLock.
 * Every get and every set takes the lock for that one access, exactly as
 * Python does, so `v = get (); set (v + 1)` still loses updates between
 * processes (pitfall `lost-update`): hold the lock across both, e.g.
 * |[<!-- language="C" -->
 *   g_autoptr(MpLocker) locker = mp_locker_new (total, &error);
 *   gint64 v;
 *
 *   if (locker == NULL)
 *     return FALSE;
 *   v = mp_value_get_int (total, &error);
 *   return error == NULL && mp_value_set_int (total, v + x, &error);
 * ]|
 * Accesses by the thread holding the lock do not take it again, so this
 * works with a plain #MpLock too. MpValue and MpArray are #MpLockable.
 * For `total += x` itself, mp_value_add_int() holds the lock across the
 * read, the add and the write in one call (and costs the least).
 */

MP_AVAILABLE_IN_ALL
gboolean     mp_typecode_is_valid      (char         typecode);
MP_AVAILABLE_IN_ALL
gsize        mp_typecode_get_size      (char         typecode);

/**
 * MpValue:
 *
 * One number of a C type, named by a typecode, in memory shared with
 * the children that inherit it (Python's `multiprocessing.Value`).
 *
 * Since: 0.1
 */
#define MP_TYPE_VALUE (mp_value_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpValue, mp_value, MP, VALUE, GObject)

MP_AVAILABLE_IN_ALL
MpValue     *mp_value_create           (char         typecode,
                                        gboolean     lock,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
MpValue     *mp_value_create_with_lock (char         typecode,
                                        MpLockable  *lock,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
char         mp_value_get_typecode     (MpValue     *self);
MP_AVAILABLE_IN_ALL
MpLockable  *mp_value_get_lock         (MpValue     *self,
                                        GError     **error);

MP_AVAILABLE_IN_ALL
gint64       mp_value_get_int          (MpValue     *self,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_set_int          (MpValue     *self,
                                        gint64       v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_add_int          (MpValue     *self,
                                        gint64       delta,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
guint64      mp_value_get_uint         (MpValue     *self,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_set_uint         (MpValue     *self,
                                        guint64      v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
double       mp_value_get_double       (MpValue     *self,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_set_double       (MpValue     *self,
                                        double       v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_get              (MpValue     *self,
                                        GValue      *out,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_value_set              (MpValue     *self,
                                        const GValue *v,
                                        GError     **error);

/**
 * MpArray:
 *
 * A fixed-length array of numbers of one C type, in memory shared with
 * the children that inherit it (Python's `multiprocessing.Array`).
 *
 * Since: 0.1
 */
#define MP_TYPE_ARRAY (mp_array_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpArray, mp_array, MP, ARRAY, GObject)

MP_AVAILABLE_IN_ALL
MpArray     *mp_array_create           (char         typecode,
                                        gsize        length,
                                        gboolean     lock,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
MpArray     *mp_array_create_with_lock (char         typecode,
                                        gsize        length,
                                        MpLockable  *lock,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
MpArray     *mp_array_create_from_ints (char         typecode,
                                        const gint64 *values,
                                        gsize        n_values,
                                        gboolean     lock,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
MpArray     *mp_array_create_from_doubles (char         typecode,
                                           const double *values,
                                           gsize        n_values,
                                           gboolean     lock,
                                           GError     **error);
MP_AVAILABLE_IN_ALL
char         mp_array_get_typecode     (MpArray     *self);
MP_AVAILABLE_IN_ALL
gsize        mp_array_get_length       (MpArray     *self);
MP_AVAILABLE_IN_ALL
MpLockable  *mp_array_get_lock         (MpArray     *self,
                                        GError     **error);

/* one element; a negative index counts from the end, as in Python */
MP_AVAILABLE_IN_ALL
gint64       mp_array_get_int          (MpArray     *self,
                                        gssize       index,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set_int          (MpArray     *self,
                                        gssize       index,
                                        gint64       v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
guint64      mp_array_get_uint         (MpArray     *self,
                                        gssize       index,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set_uint         (MpArray     *self,
                                        gssize       index,
                                        guint64      v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
double       mp_array_get_double       (MpArray     *self,
                                        gssize       index,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set_double       (MpArray     *self,
                                        gssize       index,
                                        double       v,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_get              (MpArray     *self,
                                        gssize       index,
                                        GValue      *out,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set              (MpArray     *self,
                                        gssize       index,
                                        const GValue *v,
                                        GError     **error);

/* slices [start, start + n), under one lock acquisition */
MP_AVAILABLE_IN_ALL
gboolean     mp_array_get_ints         (MpArray     *self,
                                        gsize        start,
                                        gsize        n,
                                        gint64      *out,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set_ints         (MpArray     *self,
                                        gsize        start,
                                        const gint64 *values,
                                        gsize        n,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_get_doubles      (MpArray     *self,
                                        gsize        start,
                                        gsize        n,
                                        double      *out,
                                        GError     **error);
MP_AVAILABLE_IN_ALL
gboolean     mp_array_set_doubles      (MpArray     *self,
                                        gsize        start,
                                        const double *values,
                                        gsize        n,
                                        GError     **error);

MP_AVAILABLE_IN_ALL
char        *mp_array_to_string        (MpArray     *self,
                                        GError     **error);

G_END_DECLS
