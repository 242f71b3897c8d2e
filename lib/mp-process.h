/* mp-process.h — processes, start methods, the task registry, the main guard
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-serialize.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MpStartMethod:
 * @MP_START_DEFAULT: use the process-wide method (mp_set_start_method()).
 * @MP_START_FORK: the child is a copy of the parent.
 * @MP_START_SPAWN: fork + exec of the running binary; the child runs main()
 *   from the top and mp_main_guard() diverts it into the task.
 * @MP_START_FORKSERVER: the first process started this way spawns one
 *   server (main() runs again there, once, up to mp_main_guard()); the
 *   server forks every child on request. Arguments are serialized as under
 *   spawn, and shared objects travel by inheritance as under spawn (their
 *   memory is passed to the server with SCM_RIGHTS).
 *
 * Since: 0.1
 */
typedef enum {
  MP_START_DEFAULT = 0,
  MP_START_FORK,
  MP_START_SPAWN,
  MP_START_FORKSERVER,
} MpStartMethod;

/**
 * MP_START_METHOD_IS_VALID:
 * @m: an #MpStartMethod
 *
 * %TRUE for a method a caller may name (%MP_START_DEFAULT included).
 *
 * Since: 0.1
 */
#define MP_START_METHOD_IS_VALID(m) \
  ((m) == MP_START_DEFAULT || (m) == MP_START_FORK || \
   (m) == MP_START_SPAWN || (m) == MP_START_FORKSERVER)

/**
 * MpTaskFunc:
 * @args: the task's arguments (deserialized copies)
 * @result: (out caller-allocates): an unset GValue; leave it unset for None
 * @error: return location for a #GError
 *
 * A task: code that runs in another process. Tasks are found by name, as
 * function pointers mean nothing after exec.
 *
 * Returns: %TRUE on success, %FALSE with @error set.
 *
 * Since: 0.1
 */
typedef gboolean (*MpTaskFunc) (MpArgs   *args,
                                GValue   *result,
                                GError  **error);

/**
 * MP_TASK_DEFINE:
 * @name: a string literal, the task's name
 * @func: an #MpTaskFunc
 *
 * Registers @func under @name when the program loads — the C counterpart
 * of a module-level `def` that a spawned child can find again.
 *
 * Since: 0.1
 */
#define MP_TASK_DEFINE(name, func) \
  __attribute__((constructor)) static void \
  G_PASTE (mp__task_register_, __LINE__) (void) { mp_task_register ((name), (func)); }

/**
 * MP_INITIALIZER:
 * @func: a `void func (void)` to run when the program loads
 *
 * Runs @func at load time, before main(): the place to register types so
 * spawned children know them too.
 *
 * Since: 0.1
 */
#define MP_INITIALIZER(func) \
  static void func (void); \
  __attribute__((constructor)) static void \
  G_PASTE (mp__initializer_, __LINE__) (void) { func (); }

MP_AVAILABLE_IN_ALL
void           mp_task_register        (const char   *name,
                                        MpTaskFunc    func);
MP_AVAILABLE_IN_ALL
MpTaskFunc     mp_task_lookup          (const char   *name);

MP_AVAILABLE_IN_ALL
void           mp_main_guard           (int           argc,
                                        char        **argv);
MP_AVAILABLE_IN_ALL
gboolean       mp_is_spawned_child     (void);

/* the process-wide auth key (Python's current_process().authkey): 32
 * random bytes made on first use, inherited by every child, fork or spawn */
MP_AVAILABLE_IN_ALL
GBytes        *mp_get_auth_key         (void);
MP_AVAILABLE_IN_ALL
void           mp_set_auth_key         (GBytes       *key);

MP_AVAILABLE_IN_ALL
gboolean       mp_set_start_method     (MpStartMethod method,
                                        gboolean      force,
                                        GError      **error);
MP_AVAILABLE_IN_ALL
MpStartMethod  mp_get_start_method     (void);
MP_AVAILABLE_IN_ALL
gboolean       mp_start_method_is_set  (void);
MP_AVAILABLE_IN_ALL
const char    *mp_start_method_to_string   (MpStartMethod method);
MP_AVAILABLE_IN_ALL
gboolean       mp_start_method_from_string (const char   *text,
                                            MpStartMethod *method,
                                            GError      **error);

/**
 * MpProcess:
 *
 * A child process running a registered task (Python's
 * `multiprocessing.Process`), started by fork, spawn or the fork server.
 *
 * Since: 0.1
 */
#define MP_TYPE_PROCESS (mp_process_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpProcess, mp_process, MP, PROCESS, GObject)

MP_AVAILABLE_IN_ALL
MpProcess     *mp_process_new          (const char   *task,
                                        MpArgs       *args);
MP_AVAILABLE_IN_ALL
void           mp_process_set_start_method (MpProcess *self,
                                            MpStartMethod method);
MP_AVAILABLE_IN_ALL
MpStartMethod  mp_process_get_start_method (MpProcess *self);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_start        (MpProcess    *self,
                                        GError      **error);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_join         (MpProcess    *self,
                                        gint64        timeout_us,
                                        GError      **error);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_is_alive     (MpProcess    *self);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_get_exitcode (MpProcess    *self,
                                        int          *exitcode);
MP_AVAILABLE_IN_ALL
GPid           mp_process_get_pid      (MpProcess    *self);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_terminate    (MpProcess    *self,
                                        GError      **error);
MP_AVAILABLE_IN_ALL
gboolean       mp_process_kill         (MpProcess    *self,
                                        GError      **error);

G_END_DECLS
