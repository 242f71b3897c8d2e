/* mp-process-private.h — what the process, spawn and pool files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <signal.h>
#include <unistd.h>

#include "mpshare.h"

G_BEGIN_DECLS

/* Exit status of a child whose task returned an error or could not be
 * started (Python's child exits with 1 after printing the traceback). */
#define MP_PROCESS_EXIT_FAILED 1

/* The environment variable that marks a spawned child; its value is the
 * fd of the memfd holding the bootstrap payload. */
#define MP_SPAWN_ENV "MP_SPAWN_FD"

/* Bytes a child writes into its status socket (the parent's sentinel):
 * they let the parent tell "never ran its task" from "task failed". */
#define MP_STATUS_GUARD       'G'  /* a spawned child reached mp_main_guard() */
#define MP_STATUS_RUNNING     'R'  /* the task is about to run */
#define MP_STATUS_EXEC_FAILED 'E'  /* followed by one byte: errno of execve */

/* mp-process.c, for the pool */
void      mp_process_pass_fd        (MpProcess    *self,
                                     int           fd);
void      mp_process_set_parent_death_signal (MpProcess *self,
                                              int        signum);
int       mp_process_get_sentinel   (MpProcess    *self);
gboolean  mp_process_get_task_started (MpProcess  *self);
const char *mp_process_get_name     (MpProcess    *self);

/* mp-process.c: the parent's ends of the channels to its children (the
 * pool's request queue, a worker's replies, a manager's lifeline). Every
 * fork() closes them in the new child (a pthread_atfork handler), so no
 * child, sibling or later one, keeps a parent's end open: when the parent
 * dies, the other end reads end-of-file. Forget a descriptor before
 * closing it, or a later child could close whatever reused its number. */
void      mp_fd_add_parent_end      (int           fd);
void      mp_fd_forget_parent_end   (int           fd);
void      mp_fd_close_parent_end    (int           fd);

/* How a child notices that its parent died (mp-spawn.c). The kernel sends
 * this signal (PR_SET_PDEATHSIG) when the *thread* that forked the child
 * ends, not only the process: the handler ends the child only when its
 * parent process is gone (getppid() changed), and then with the child's
 * death action: SIGKILL by default, SIGTERM for a child that cleans up
 * (the manager's server removes its socket and directory). */
#define MP_PARENT_DEATH_SIGNAL (SIGRTMIN + 4)
/* For a spawned child: "PID:ACTION", set by its parent, read before main() */
#define MP_SPAWN_PARENT_ENV    "MP_SPAWN_PARENT"

/* Async-signal-safe: runs between fork and exec. */
void      mp_child_watch_parent     (pid_t         parent,
                                     int           action);

/* mp-process.c: a child's process-wide method is the one that started it */
void      mp_start_method_inherit   (MpStartMethod method);

/* mp-spawn.c, for mp-process.c and mp-pool.c */
G_GNUC_INTERNAL
void      mp_flush_stdio            (void);
gboolean  mp_spawn_check_bootstrapped (const char *what,
                                        GError    **error);
GBytes   *mp_spawn_payload_new      (const char   *name,
                                     const char   *task,
                                     GBytes       *auth_key,
                                     GVariant     *args_wire,
                                     int           status_fd);
void      mp_spawn_forget_status_fd (void);
G_GNUC_NORETURN
void      mp_spawn_run_child        (GBytes       *payload,
                                     MpStartMethod method);
G_GNUC_NORETURN
void      mp_spawn_run_forked_child (const char   *name,
                                     const char   *task,
                                     MpTaskFunc    func,
                                     GVariant     *args_wire,
                                     MpArgs       *no_args,
                                     int           status_fd);

/* mp-forkserver.c, for mp-process.c */
gboolean  mp_forkserver_ensure      (GError      **error);
gboolean  mp_forkserver_request     (GBytes       *payload,
                                     GArray       *fds,
                                     int           death_action,
                                     GPid         *pid,
                                     int          *reply,
                                     GError      **error);
int       mp_forkserver_read_status (int           reply,
                                     gboolean      block,
                                     int          *status);

/* mp-pool.c: the task every pool worker runs */
#define MP_POOL_WORKER_TASK "mpshare:pool-worker"

/* How a child of the library ends. _exit() skips atexit handlers (the
 * parent's state is not ours to flush), and so would skip gcov's: a
 * coverage build dumps its counters first, or the code that runs only in
 * children (tasks, pool workers, the manager server) would never count. */
#ifdef MP_COVERAGE
void __gcov_dump (void);
#endif

G_GNUC_NORETURN static inline void
mp_child_exit (int status)
{
#ifdef MP_COVERAGE
  __gcov_dump ();
#endif
  _exit (status);
}

G_END_DECLS
