/* mp-manager.h — the manager: a server process that owns shared objects
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-process.h"

G_BEGIN_DECLS

typedef struct _MpProxy MpProxy;

#define MP_TYPE_MANAGER (mp_manager_get_type ())
G_DECLARE_FINAL_TYPE (MpManager, mp_manager, MP, MANAGER, GObject)

/**
 * MpMethodFunc:
 * @self: the server-side object
 * @args: the call's arguments (copies)
 * @result: (out caller-allocates): an unset GValue; leave unset for None
 * @error: return location for a #GError
 *
 * A method of a registered server-side type; it runs in the server.
 */
typedef gboolean (*MpMethodFunc) (GObject  *self,
                                  MpArgs   *args,
                                  GValue   *result,
                                  GError  **error);

typedef struct {
  const char   *name;
  MpMethodFunc  func;
} MpMethod;

/* Python's BaseManager.register (typeid, callable, exposed=...): objects of
 * @type are created in the server with g_object_new (type, NULL) and only
 * the methods listed in @methods (ended by { NULL, NULL }) may be called
 * through their proxies. Register before mp_main_guard() (MP_INITIALIZER)
 * so a spawned server knows the type too. */
void          mp_manager_register_type   (const char     *typeid,
                                          GType           type,
                                          const MpMethod *methods);

MpManager    *mp_manager_new             (const char     *address,
                                          GBytes         *authkey);
void          mp_manager_set_start_method (MpManager     *self,
                                           MpStartMethod  method);
gboolean      mp_manager_start           (MpManager      *self,
                                          GError        **error);
MpManager    *mp_manager_connect         (const char     *address,
                                          GBytes         *authkey,
                                          GError        **error);
gboolean      mp_manager_shutdown        (MpManager      *self,
                                          GError        **error);
const char   *mp_manager_get_address     (MpManager      *self);
gboolean      mp_manager_is_running      (MpManager      *self);
GPid          mp_manager_get_server_pid  (MpManager      *self);

/* factories (Python's SyncManager methods) */
MpProxy      *mp_manager_list            (MpManager      *self,
                                          GPtrArray      *initial,
                                          GError        **error);
MpProxy      *mp_manager_dict            (MpManager      *self,
                                          GHashTable     *initial,
                                          GError        **error);
MpProxy      *mp_manager_namespace       (MpManager      *self,
                                          GError        **error);
MpProxy      *mp_manager_value           (MpManager      *self,
                                          char            typecode,
                                          const GValue   *initial,
                                          GError        **error);
MpProxy      *mp_manager_array           (MpManager      *self,
                                          char            typecode,
                                          GPtrArray      *initial,
                                          GError        **error);
MpProxy      *mp_manager_lock            (MpManager      *self,
                                          GError        **error);
MpProxy      *mp_manager_rlock           (MpManager      *self,
                                          GError        **error);
MpProxy      *mp_manager_semaphore       (MpManager      *self,
                                          guint           value,
                                          GError        **error);
MpProxy      *mp_manager_bounded_semaphore (MpManager    *self,
                                            guint         value,
                                            GError      **error);
MpProxy      *mp_manager_condition       (MpManager      *self,
                                          MpProxy        *lock,
                                          GError        **error);
MpProxy      *mp_manager_event           (MpManager      *self,
                                          GError        **error);
MpProxy      *mp_manager_barrier         (MpManager      *self,
                                          guint           parties,
                                          GError        **error);
MpProxy      *mp_manager_queue           (MpManager      *self,
                                          guint           maxsize,
                                          GError        **error);
MpProxy      *mp_manager_create          (MpManager      *self,
                                          const char     *typeid,
                                          GError        **error);

/* An error raised inside the server comes back as MP_ERROR_REMOTE with a
 * message "[code-name] original message"; this returns the original code
 * (e.g. MP_ERROR_INDEX for a pop from an empty list). Queue Empty/Full, a
 * broken barrier, a timeout, a method that is not exposed and a closing
 * server keep their own code instead. */
MpError       mp_error_get_remote_code   (const GError   *error);

/* introspection for tests and teaching: live objects in the server */
gboolean      mp_manager_debug_info      (MpManager      *self,
                                          guint          *n_objects,
                                          guint          *n_refs,
                                          GError        **error);

G_END_DECLS
