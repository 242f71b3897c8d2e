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
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * What a manager guarantees (and where it departs from CPython's):
 *
 * - Every read through a proxy returns a copy; only the server's object is
 *   shared. Values travel with the serializer, so only registered types
 *   are ever instantiated from a peer's bytes. The server keeps stored
 *   values serialized: it never builds a client's object, except the
 *   arguments of a registered type's method, which needs them live.
 * - Errors raised in the server arrive as MP_ERROR_REMOTE with the message
 *   "[code-name] original message" (mp_error_get_remote_code() gives the
 *   code back): pop from an empty list is "[index] pop from empty list".
 *   The documented outcomes keep their own code: MP_ERROR_EMPTY / _FULL
 *   (Queue), _BROKEN_BARRIER, _TIMEOUT, _NOT_EXPOSED, _MANAGER_CLOSED and
 *   _REFUSED.
 * - References (Python's incref/decref): "create" takes one for the proxy
 *   it returns, a proxy rebuilt in another process takes its own on first
 *   use, a proxy read back from a container comes with one, finalizing a
 *   proxy gives its one back; containers keep the objects of the proxies
 *   stored in them alive. Unlike CPython, references belong to a process:
 *   when a client process ends, even killed, the server drops the ones it
 *   still held (CPython keeps them until shutdown).
 * - A client process that ends while holding a manager Lock or RLock (or
 *   a Condition's lock) has it released by the server: CPython keeps it
 *   locked for ever and every other client deadlocks. Like a robust mutex
 *   this saves the others, but the data the lock guarded may be half
 *   updated. Semaphores have no owner and are not given back.
 * - A call blocked in the server (Queue.get, Lock.acquire ...) whose
 *   client dies ends without taking anything: no queue item is lost. A
 *   dead party breaks a Barrier, as a timeout does.
 * - Value ignores its typecode, as CPython's manager Value does; Array
 *   checks it. Dict keys and Namespace attributes are strings.
 * - The server stops when asked (mp_manager_shutdown(), or the last unref
 *   of the manager that started it), when the process that started it
 *   ends (killed with SIGKILL too, whatever children that process left:
 *   none of them keeps the lifeline open, and the server gets a death
 *   signal), and on SIGTERM or SIGHUP; it ignores SIGINT (Ctrl-C is for
 *   its parent). It removes its socket and private directory when it stops.
 * - After that every proxy call fails with MP_ERROR_MANAGER_CLOSED, at
 *   once and without hanging (pitfall closed-manager).
 * - Peers that have not proved they hold the key cost the server little
 *   (CPython gives each a thread and waits for ever): at most 32 are in
 *   the handshake at once, and when one more comes the oldest connection
 *   of the address holding the most is dropped (new ones are never
 *   refused for being new); each has 3 s; after a wrong key the next
 *   answer from that address waits 100 ms. Out of file descriptors, the
 *   server tells new peers so and warns once a minute at most. A client
 *   turned away by a live server gets MP_ERROR_REFUSED saying why, never
 *   MP_ERROR_MANAGER_CLOSED. See docs/models.md.
 * - Listening on all interfaces (tcp:0.0.0.0:PORT) or with a key under
 *   16 bytes works but warns; a socket file left at an explicit
 *   unix:/path by a killed server is replaced.
 */

typedef struct _MpProxy MpProxy;

/**
 * MpManager:
 *
 * A server process that owns shared objects and hands out #MpProxy
 * objects for them (Python's `multiprocessing.Manager()`).
 *
 * Since: 0.1
 */
#define MP_TYPE_MANAGER (mp_manager_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpManager, mp_manager, MP, MANAGER, GObject)

/**
 * MpMethodFunc:
 * @self: the server-side object
 * @args: the call's arguments (copies)
 * @result: (out caller-allocates): an unset GValue; leave unset for None
 * @error: return location for a #GError
 *
 * A method of a registered server-side type; it runs in the server.
 *
 * Since: 0.1
 */
typedef gboolean (*MpMethodFunc) (GObject  *self,
                                  MpArgs   *args,
                                  GValue   *result,
                                  GError  **error);

/**
 * MpMethod:
 * @name: the method's name, as a proxy calls it
 * @func: (scope forever): the method
 *
 * One method a registered server-side type exposes; a list of them ends
 * with `{ NULL, NULL }` (see mp_manager_register_type()).
 *
 * Since: 0.1
 */
typedef struct {
  const char   *name;
  MpMethodFunc  func;
} MpMethod;

/* Python's BaseManager.register (typeid, callable, exposed=...): objects of
 * @type are created in the server with g_object_new (type, NULL) and only
 * the methods listed in @methods (ended by { NULL, NULL }) may be called
 * through their proxies. Register before mp_main_guard() (MP_INITIALIZER)
 * so a spawned server knows the type too. */
MP_AVAILABLE_IN_ALL
void          mp_manager_register_type   (const char     *typeid,
                                          GType           type,
                                          const MpMethod *methods);

MP_AVAILABLE_IN_ALL
MpManager    *mp_manager_new             (const char     *address,
                                          GBytes         *authkey);
MP_AVAILABLE_IN_ALL
void          mp_manager_set_start_method (MpManager     *self,
                                           MpStartMethod  method);
MP_AVAILABLE_IN_ALL
gboolean      mp_manager_start           (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpManager    *mp_manager_connect         (const char     *address,
                                          GBytes         *authkey,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_manager_shutdown        (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
const char   *mp_manager_get_address     (MpManager      *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_manager_is_running      (MpManager      *self);
MP_AVAILABLE_IN_ALL
GPid          mp_manager_get_server_pid  (MpManager      *self);

/* factories (Python's SyncManager methods) */
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_list            (MpManager      *self,
                                          GPtrArray      *initial,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_dict            (MpManager      *self,
                                          GHashTable     *initial,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_namespace       (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_value           (MpManager      *self,
                                          char            typecode,
                                          const GValue   *initial,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_array           (MpManager      *self,
                                          char            typecode,
                                          GPtrArray      *initial,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_lock            (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_rlock           (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_semaphore       (MpManager      *self,
                                          guint           value,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_bounded_semaphore (MpManager    *self,
                                            guint         value,
                                            GError      **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_condition       (MpManager      *self,
                                          MpProxy        *lock,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_event           (MpManager      *self,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_barrier         (MpManager      *self,
                                          guint           parties,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_queue           (MpManager      *self,
                                          guint           maxsize,
                                          GError        **error);
MP_AVAILABLE_IN_ALL
MpProxy      *mp_manager_create          (MpManager      *self,
                                          const char     *typeid,
                                          GError        **error);

/* An error raised inside the server comes back as MP_ERROR_REMOTE with a
 * message "[code-name] original message"; this returns the original code
 * (e.g. MP_ERROR_INDEX for a pop from an empty list). Queue Empty/Full, a
 * broken barrier, a timeout, a method that is not exposed and a closing
 * server keep their own code instead. */
MP_AVAILABLE_IN_ALL
MpError       mp_error_get_remote_code   (const GError   *error);

/* introspection for tests and teaching: live objects in the server */
MP_AVAILABLE_IN_ALL
gboolean      mp_manager_debug_info      (MpManager      *self,
                                          guint          *n_objects,
                                          guint          *n_refs,
                                          GError        **error);

G_END_DECLS
