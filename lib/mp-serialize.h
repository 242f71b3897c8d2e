/* mp-serialize.h — what may cross a process boundary (mpshare's "pickle")
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * Live values are GValues. Supported kinds and their wire form (GVariant,
 * always boxed in "v"):
 *
 *   G_TYPE_INVALID (unset GValue, Python's None)      ()
 *   G_TYPE_BOOLEAN                                    b
 *   G_TYPE_CHAR/INT/LONG/INT64 (decoded as INT64)     x
 *   G_TYPE_UCHAR/UINT/ULONG/UINT64 (decoded UINT64)   t
 *   G_TYPE_FLOAT/DOUBLE (decoded as DOUBLE)           d
 *   G_TYPE_STRING (NULL allowed)                      ms
 *   G_TYPE_BYTES                                      ay
 *   G_TYPE_VARIANT (opaque plain data)                (v)
 *   MP_TYPE_GVALUE_LIST  (GPtrArray of GValue*)         av
 *   MP_TYPE_GVALUE_DICT  (GHashTable str -> GValue*)    a{sv}
 *   a GObject of a registered type                    (sv): type name + state
 *   G_TYPE_ENUM (decoded as INT64)                    x
 *   G_TYPE_FLAGS (decoded as UINT64)                  t
 *   G_TYPE_STRV (decoded as MP_TYPE_GVALUE_LIST)       av of ms
 *   a NULL object, boxed or GVariant                  () (None)
 *
 * Property-based types (mp_serialize_register_type()) have state a{sv}
 * (property name -> wire value). Types with their own reducer
 * (mp_serialize_register_reducer()) choose their own state.
 *
 * Decoding never trusts its input: bytes are checked for normal form and
 * only registered types are ever instantiated.
 */

/**
 * MpTransfer:
 * @MP_TRANSFER_ALWAYS: may be serialized anywhere.
 * @MP_TRANSFER_INHERIT_ONLY: only while a process is being started
 *   (mp_spawning_is_active()); elsewhere %MP_ERROR_INHERITANCE_ONLY.
 * @MP_TRANSFER_NEVER: never; the reducer is not called and the registered
 *   error code is returned.
 *
 * Since: 0.1
 */
typedef enum {
  MP_TRANSFER_ALWAYS,
  MP_TRANSFER_INHERIT_ONLY,
  MP_TRANSFER_NEVER,
} MpTransfer;

/**
 * MpReduceFunc:
 * @object: the object to reduce
 * @user_data: data given at registration
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a floating or full GVariant holding enough
 *   state to rebuild @object in another process, or %NULL with @error set.
 *
 * Since: 0.1
 */
typedef GVariant *(*MpReduceFunc)  (GObject   *object,
                                    gpointer   user_data,
                                    GError   **error);

/**
 * MpRebuildFunc:
 * @state: what the #MpReduceFunc returned (already checked: normal form)
 * @user_data: data given at registration
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new object, or %NULL with @error set.
 *
 * Since: 0.1
 */
typedef GObject  *(*MpRebuildFunc) (GVariant  *state,
                                    gpointer   user_data,
                                    GError   **error);

/* type registry */
MP_AVAILABLE_IN_ALL
void        mp_serialize_register_type      (GType               type,
                                             const char * const *key_properties);
MP_AVAILABLE_IN_ALL
void        mp_serialize_register_reducer   (GType               type,
                                             MpTransfer          transfer,
                                             MpReduceFunc        reduce,
                                             MpRebuildFunc       rebuild,
                                             gpointer            user_data);
MP_AVAILABLE_IN_ALL
void        mp_serialize_register_refusal   (GType               type,
                                             MpError             code,
                                             const char         *reason);
MP_AVAILABLE_IN_ALL
gboolean    mp_serialize_type_is_registered (GType               type);

/* encode / decode */
MP_AVAILABLE_IN_ALL
GVariant   *mp_serialize_value      (const GValue  *value,
                                     GError       **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_deserialize_value    (GVariant      *wire,
                                     GValue        *out,
                                     GError       **error);
MP_AVAILABLE_IN_ALL
GBytes     *mp_serialize_to_bytes   (const GValue  *value,
                                     GError       **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_deserialize_from_bytes (GBytes      *bytes,
                                       GValue      *out,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_serialize_wire_equal (GVariant      *a,
                                     GVariant      *b);

/* the spawning context: true only while a process is being started */
MP_AVAILABLE_IN_ALL
gboolean    mp_spawning_is_active   (void);
MP_AVAILABLE_IN_ALL
gboolean    mp_spawning_keep_fd     (int            fd,
                                     GError       **error);

G_END_DECLS
