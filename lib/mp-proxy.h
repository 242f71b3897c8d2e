/* mp-proxy.h — proxies: handles on objects that live in a manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-manager.h"
#include "mp-sync.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/* A proxy is an object holding a token (typeid, server address, object
 * id); every operation is a round trip to the server, so every read
 * returns a copy. It serializes as its token and reconnects in the
 * receiving process with that process's auth key. */
/**
 * MpProxy:
 *
 * The client side of an object owned by an #MpManager's server: every
 * call is a request to the server, and every read returns a copy (Python's
 * `BaseProxy` and its subclasses).
 *
 * Since: 0.1
 */
#define MP_TYPE_PROXY (mp_proxy_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpProxy, mp_proxy, MP, PROXY, GObject)

MP_AVAILABLE_IN_ALL
const char *mp_proxy_get_typeid     (MpProxy      *self);
MP_AVAILABLE_IN_ALL
const char *mp_proxy_get_address    (MpProxy      *self);
MP_AVAILABLE_IN_ALL
guint64     mp_proxy_get_id         (MpProxy      *self);

/* the generic call: @method is the exposed name, as Python's
 * (e.g. "append", "__getitem__", "acquire") */
MP_AVAILABLE_IN_ALL
gboolean    mp_proxy_call           (MpProxy      *self,
                                     const char   *method,
                                     MpArgs       *args,
                                     GValue       *result,
                                     GError      **error);

/* Values go in as (nullable: None) GValues and come out as copies in
 * unset GValues the caller provides. Lists come out as GPtrArrays of
 * GValue* (MP_TYPE_GVALUE_LIST); dict keys() as string GValues, items() as
 * [key, value] MP_TYPE_GVALUE_LIST GValues; copy() as mp_gvalue_dict_new().
 * Indexes follow Python: negative counts from the end; slices are clamped
 * and G_MAXINT64 as stop means "to the end". */

/* list */
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_append    (MpProxy *self, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_extend    (MpProxy *self, GPtrArray *items, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_insert    (MpProxy *self, gint64 index, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_pop       (MpProxy *self, gint64 index, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_remove    (MpProxy *self, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_list_proxy_index     (MpProxy *self, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_list_proxy_count     (MpProxy *self, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_list_proxy_len       (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_get_item  (MpProxy *self, gint64 index, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_set_item  (MpProxy *self, gint64 index, const GValue *item, GError **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_list_proxy_get_slice (MpProxy *self, gint64 start, gint64 stop, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_set_slice (MpProxy *self, gint64 start, gint64 stop, GPtrArray *items, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_reverse   (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_sort      (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_list_proxy_contains  (MpProxy *self, const GValue *item, gboolean *contained, GError **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_list_proxy_copy      (MpProxy *self, GError **error);

/* dict */
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_get_item  (MpProxy *self, const char *key, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_set_item  (MpProxy *self, const char *key, const GValue *value, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_del_item  (MpProxy *self, const char *key, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_get       (MpProxy *self, const char *key, const GValue *fallback, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_dict_proxy_keys      (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_dict_proxy_values    (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_dict_proxy_items     (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_dict_proxy_len       (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_contains  (MpProxy *self, const char *key, gboolean *contained, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_pop       (MpProxy *self, const char *key, const GValue *fallback, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_popitem   (MpProxy *self, char **key, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_setdefault (MpProxy *self, const char *key, const GValue *fallback, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_update    (MpProxy *self, GHashTable *items, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_dict_proxy_clear     (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
GHashTable *mp_dict_proxy_copy      (MpProxy *self, GError **error);

/* Namespace */
MP_AVAILABLE_IN_ALL
gboolean    mp_namespace_proxy_get  (MpProxy *self, const char *name, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_namespace_proxy_set  (MpProxy *self, const char *name, const GValue *value, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_namespace_proxy_del  (MpProxy *self, const char *name, GError **error);

/* Value and Array */
MP_AVAILABLE_IN_ALL
gboolean    mp_value_proxy_get      (MpProxy *self, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_value_proxy_set      (MpProxy *self, const GValue *value, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_array_proxy_get_item (MpProxy *self, gint64 index, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_array_proxy_set_item (MpProxy *self, gint64 index, const GValue *value, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_array_proxy_len      (MpProxy *self, GError **error);

/* Lock, RLock, Semaphore, BoundedSemaphore (timeout_us: -1 = forever;
 * blocking = FALSE tries once). Returns TRUE when acquired; FALSE when
 * not acquired in time (then @error, when not NULL, is set to
 * MP_ERROR_TIMEOUT) or on failure (@error set to another code). */
MP_AVAILABLE_IN_ALL
gboolean    mp_lock_proxy_acquire   (MpProxy *self, gboolean blocking, gint64 timeout_us, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_lock_proxy_release   (MpProxy *self, GError **error);

/* Condition */
MP_AVAILABLE_IN_ALL
gboolean    mp_condition_proxy_wait       (MpProxy *self, gint64 timeout_us, gboolean *notified, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_condition_proxy_notify     (MpProxy *self, guint n, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_condition_proxy_notify_all (MpProxy *self, GError **error);
/* MpPredicate: see mp-sync.h */
MP_AVAILABLE_IN_ALL
gboolean    mp_condition_proxy_wait_for   (MpProxy *self, MpPredicate predicate, gpointer user_data,
                                           gint64 timeout_us, gboolean *satisfied, GError **error);

/* Event */
MP_AVAILABLE_IN_ALL
gboolean    mp_event_proxy_set      (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_event_proxy_clear    (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_event_proxy_is_set   (MpProxy *self, gboolean *is_set, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_event_proxy_wait     (MpProxy *self, gint64 timeout_us, gboolean *is_set, GError **error);

/* Barrier */
MP_AVAILABLE_IN_ALL
gint64      mp_barrier_proxy_wait   (MpProxy *self, gint64 timeout_us, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_barrier_proxy_abort  (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_barrier_proxy_reset  (MpProxy *self, GError **error);

/* Queue */
MP_AVAILABLE_IN_ALL
gboolean    mp_queue_proxy_put      (MpProxy *self, const GValue *item, gboolean block, gint64 timeout_us, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_queue_proxy_get      (MpProxy *self, gboolean block, gint64 timeout_us, GValue *out, GError **error);
MP_AVAILABLE_IN_ALL
gint64      mp_queue_proxy_qsize    (MpProxy *self, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_queue_proxy_empty    (MpProxy *self, gboolean *empty, GError **error);
MP_AVAILABLE_IN_ALL
gboolean    mp_queue_proxy_full     (MpProxy *self, gboolean *full, GError **error);

G_END_DECLS
