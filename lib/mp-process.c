/* mp-process.c — MpProcess, start methods, the task registry, the auth key
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Starting a process (Python's Popen classes, folded into one):
 *  1. the task name is checked in the parent (an unknown name is the
 *     local-function pitfall, reported here rather than as a crash there);
 *  2. the arguments are serialized inside a spawning context, so objects
 *     that travel only by inheritance are allowed and name their fds;
 *  3. a status socketpair is made; the child holds one end (and writes a
 *     byte or two into it), the parent keeps the other as the sentinel: it
 *     hangs up when the child exits, so join() polls instead of spinning;
 *  4. fork: the child finds the task and the serialized arguments in its
 *     copy of the parent's memory, decodes the arguments as a spawned child
 *     would, runs the task and _exit()s. spawn: the child execs the running
 *     binary with its original argv and MP_SPAWN_FD naming a memfd with the
 *     payload (name, task, auth key, arguments); mp_main_guard() picks it
 *     up there.
 *
 * A child never outlives this process (Python's children can): the
 * parent's ends of its channels are closed in every forked child
 * (mp_fd_add_parent_end()), and each child arms a parent-death signal
 * (mp_child_watch_parent()) that kills it, or asks the manager's server
 * to stop (SIGTERM), when the process that started it dies by any means.
 *
 * join() without a timeout waits for the child itself (waitpid), as
 * Python's Popen.wait(None) does: no wake-up for the status bytes, none
 * for the hang-up before the exit. Timed joins poll the sentinel.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mp-deadline-private.h"
#include "mp-process-private.h"
#include "mp-serialize-private.h"
#include "mp-trace-private.h"

#define AUTH_KEY_LENGTH 32

/* ---- process-wide state ------------------------------------------------ */

static GMutex      registry_lock;
static GHashTable *registry;          /* char* name -> TaskEntry* */

/* ISO C has no conversion between function and object pointers. */
typedef struct { MpTaskFunc func; } TaskEntry;

static GMutex      auth_lock;
static GBytes     *auth_key;

static GMutex      orphan_lock;
static GArray     *orphans;           /* GPid: disposed before they exited */

static GMutex      parent_end_lock;
static GArray     *parent_ends;       /* int: closed in every forked child */

/* Held from the creation of a child's fds until the parent closed the
 * child's ends, so a concurrent fork in another thread cannot inherit them
 * (a leaked status socket would keep a sentinel from ever hanging up). */
static GMutex      fork_lock;

static guint       process_counter;

/* Our own locks must not be copied into a forked child while another thread
 * holds them: take them all around fork(). None is held while taking another. */
static void
atfork_prepare (void)
{
  g_mutex_lock (&registry_lock);
  g_mutex_lock (&auth_lock);
  g_mutex_lock (&orphan_lock);
  g_mutex_lock (&parent_end_lock);
}

static void
atfork_release (void)
{
  g_mutex_unlock (&parent_end_lock);
  g_mutex_unlock (&orphan_lock);
  g_mutex_unlock (&auth_lock);
  g_mutex_unlock (&registry_lock);
}

/* Whoever forked (mpshare or the program itself, with plain fork()), the
 * child drops the parent's ends: close() is async-signal-safe. */
static void
atfork_child (void)
{
  for (guint i = 0; parent_ends != NULL && i < parent_ends->len; i++)
    close (g_array_index (parent_ends, int, i));
  if (parent_ends != NULL)
    g_array_set_size (parent_ends, 0);
  atfork_release ();
}

static void
install_atfork (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      pthread_atfork (atfork_prepare, atfork_release, atfork_child);
      g_once_init_leave (&once, 1);
    }
}

/* ---- the parent's ends of its children's channels ------------------------ */

void
mp_fd_add_parent_end (int fd)
{
  g_return_if_fail (fd >= 0);

  install_atfork ();
  g_mutex_lock (&parent_end_lock);
  if (parent_ends == NULL)
    parent_ends = g_array_new (FALSE, FALSE, sizeof (int));
  g_array_append_val (parent_ends, fd);
  g_mutex_unlock (&parent_end_lock);
}

void
mp_fd_forget_parent_end (int fd)
{
  g_mutex_lock (&parent_end_lock);
  for (guint i = 0; parent_ends != NULL && i < parent_ends->len; i++)
    if (g_array_index (parent_ends, int, i) == fd)
      {
        g_array_remove_index_fast (parent_ends, i);
        break;
      }
  g_mutex_unlock (&parent_end_lock);
}

void
mp_fd_close_parent_end (int fd)
{
  mp_fd_forget_parent_end (fd);
  close (fd);
}

/* ---- task registry ------------------------------------------------------ */

/**
 * mp_task_register:
 * @name: the task's name
 * @func: (scope forever): the task
 *
 * Registers @func under @name. Do it at load time (MP_TASK_DEFINE) or in
 * main() before mp_main_guard(), so a spawned child, which runs main()
 * again, registers it too. Registering a name again replaces the task.
 *
 * Since: 0.1
 */
void
mp_task_register (const char *name,
                  MpTaskFunc  func)
{
  TaskEntry *entry;

  g_return_if_fail (name != NULL && *name != '\0');
  g_return_if_fail (func != NULL);

  g_mutex_lock (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  entry = g_new (TaskEntry, 1);
  entry->func = func;
  g_hash_table_replace (registry, g_strdup (name), entry);
  g_mutex_unlock (&registry_lock);
}

/**
 * mp_task_lookup: (skip)
 * @name: a task name
 *
 * Returns: (nullable): the task registered under @name, or %NULL.
 *
 * Since: 0.1
 */
MpTaskFunc
mp_task_lookup (const char *name)
{
  TaskEntry *entry;
  MpTaskFunc func = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry_lock);
  if (registry != NULL && (entry = g_hash_table_lookup (registry, name)) != NULL)
    func = entry->func;
  g_mutex_unlock (&registry_lock);
  return func;
}

/* ---- auth key ------------------------------------------------------------ */

static GBytes *
make_auth_key (void)
{
  guint8 *key = g_malloc (AUTH_KEY_LENGTH);
  gsize done = 0;

  while (done < AUTH_KEY_LENGTH)
    {
      ssize_t n = getrandom (key + done, AUTH_KEY_LENGTH - done, 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        g_error ("mpshare: no randomness for the auth key: getrandom: %s", g_strerror (errno));
      done += n;
    }
  return g_bytes_new_take (key, AUTH_KEY_LENGTH);
}

/**
 * mp_get_auth_key:
 *
 * The process-wide auth key (Python's `current_process().authkey`): 32
 * random bytes made on first use. Every child inherits it, by fork as by
 * spawn (it travels in the bootstrap payload). Managers use it to
 * authenticate their clients.
 *
 * Returns: (transfer full): the key; g_bytes_unref() it.
 *
 * Since: 0.1
 */
GBytes *
mp_get_auth_key (void)
{
  GBytes *key;

  g_mutex_lock (&auth_lock);
  if (auth_key == NULL)
    g_atomic_pointer_set (&auth_key, make_auth_key ());
  key = g_bytes_ref (auth_key);
  g_mutex_unlock (&auth_lock);
  return key;
}

/* Makes the key unless it exists, without the lock and the reference
 * mp_get_auth_key() takes (each a write a forked child's parent pays for). */
static void
ensure_auth_key (void)
{
  if (g_atomic_pointer_get (&auth_key) == NULL)
    g_bytes_unref (mp_get_auth_key ());
}

/**
 * mp_set_auth_key:
 * @key: the new key (any bytes, at least one)
 *
 * Replaces the process-wide auth key; children started afterwards inherit
 * the new one.
 *
 * Since: 0.1
 */
void
mp_set_auth_key (GBytes *key)
{
  GBytes *old;

  g_return_if_fail (key != NULL);
  g_return_if_fail (g_bytes_get_size (key) > 0);

  g_mutex_lock (&auth_lock);
  old = g_atomic_pointer_exchange (&auth_key, g_bytes_ref (key));
  g_clear_pointer (&old, g_bytes_unref);
  g_mutex_unlock (&auth_lock);
}

/* ---- start methods ------------------------------------------------------- */

/* Python's DefaultContext._actual_context: MP_START_DEFAULT until the
 * method is set, or fixed by its first use (mp_get_start_method(), a
 * process started with the default method). A child starts with the
 * method that started it already set (mp_start_method_inherit()). */
static gint        actual_method = MP_START_DEFAULT;

/**
 * mp_set_start_method:
 * @method: the process-wide start method; %MP_START_DEFAULT (with @force)
 *   makes it unset again, so its next use fixes it to fork
 * @force: %FALSE: refuse when the method is already set or was already
 *   used, as Python's `set_start_method(method)`; %TRUE: replace it, as
 *   `set_start_method(method, force=True)`
 * @error: return location for a #GError
 *
 * Sets how processes, pools and managers started without a method of
 * their own start. The method is "set" from the first call, from the
 * first mp_get_start_method() and from the first process started with the
 * default method on (as in Python), and in every child: a child starts
 * with the method that started it. Libraries that must not touch the
 * process-wide method take an #MpContext (mp_get_context()) instead.
 *
 * Returns: %TRUE when set; %FALSE with %MP_ERROR_INVALID_ARGUMENT and
 *   Python's words "context has already been set" when it was set before
 *   and @force is %FALSE.
 *
 * Since: 0.1
 */
gboolean
mp_set_start_method (MpStartMethod   method,
                     gboolean        force,
                     GError        **error)
{
  int current;

  g_return_val_if_fail (MP_START_METHOD_IS_VALID (method), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = g_atomic_int_get (&actual_method);
  if (force)
    g_atomic_int_set (&actual_method, method);
  else if (current != MP_START_DEFAULT ||
           !g_atomic_int_compare_and_exchange (&actual_method, MP_START_DEFAULT, method))
    {
      current = g_atomic_int_get (&actual_method);
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "context has already been set: the start method is %s; set it once, "
                    "before the first process, or pass force=TRUE",
                    mp_start_method_to_string ((MpStartMethod) current));
      return FALSE;
    }
  if (method == MP_START_DEFAULT)
    g_atomic_int_set (&actual_method, MP_START_DEFAULT);
  return TRUE;
}

/**
 * mp_get_start_method:
 *
 * The process-wide start method. As Python's `get_start_method()`, asking
 * fixes it: when none was set, it becomes fork (the default on Linux up to
 * Python 3.13) and a later mp_set_start_method() without force fails. In a
 * child it is the method that started the child.
 *
 * Returns: %MP_START_FORK, %MP_START_SPAWN or %MP_START_FORKSERVER.
 *
 * Since: 0.1
 */
MpStartMethod
mp_get_start_method (void)
{
  g_atomic_int_compare_and_exchange (&actual_method, MP_START_DEFAULT, MP_START_FORK);
  return (MpStartMethod) g_atomic_int_get (&actual_method);
}

/**
 * mp_start_method_is_set:
 *
 * Python's `get_start_method(allow_none=True) is not None`, without fixing
 * anything.
 *
 * Returns: %TRUE when the process-wide method is set (or was used).
 *
 * Since: 0.1
 */
gboolean
mp_start_method_is_set (void)
{
  return g_atomic_int_get (&actual_method) != MP_START_DEFAULT;
}

/* A child's first step: the method that started it is its own. */
void
mp_start_method_inherit (MpStartMethod method)
{
  /* a forked child's method is mostly its parent's already: not writing
   * it spares a copied page */
  if (g_atomic_int_get (&actual_method) != (int) method)
    g_atomic_int_set (&actual_method, method);
}

/**
 * mp_start_method_to_string:
 * @method: an #MpStartMethod
 *
 * Returns: "default", "fork", "spawn" or "forkserver".
 *
 * Since: 0.1
 */
const char *
mp_start_method_to_string (MpStartMethod method)
{
  switch (method)
    {
    case MP_START_DEFAULT:
      return "default";
    case MP_START_FORK:
      return "fork";
    case MP_START_SPAWN:
      return "spawn";
    case MP_START_FORKSERVER:
      return "forkserver";
    default:
      return "invalid";
    }
}

/**
 * mp_start_method_from_string:
 * @text: "fork", "spawn" or "forkserver"
 * @method: (out): the method
 * @error: return location for a #GError
 *
 * Returns: %TRUE on success; %FALSE with %MP_ERROR_INVALID_ARGUMENT for
 *   any other text.
 *
 * Since: 0.1
 */
gboolean
mp_start_method_from_string (const char     *text,
                             MpStartMethod  *method,
                             GError        **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_str_equal (text, "fork"))
    *method = MP_START_FORK;
  else if (g_str_equal (text, "spawn"))
    *method = MP_START_SPAWN;
  else if (g_str_equal (text, "forkserver"))
    *method = MP_START_FORKSERVER;
  else
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "unknown start method '%s': use 'fork', 'spawn' or 'forkserver'", text);
      return FALSE;
    }
  return TRUE;
}

/* ---- orphans: disposed before they exited ---------------------------------- */

/* Like Python's process._cleanup(): a child whose MpProcess was dropped
 * while it still ran is reaped by a later start, never left a zombie for
 * longer than that. */
static void
reap_orphans (void)
{
  g_mutex_lock (&orphan_lock);
  for (guint i = 0; orphans != NULL && i < orphans->len;)
    {
      GPid pid = g_array_index (orphans, GPid, i);
      pid_t r;

      do
        r = waitpid (pid, NULL, WNOHANG);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        i++;
      else
        g_array_remove_index_fast (orphans, i);
    }
  g_mutex_unlock (&orphan_lock);
}

static void
adopt_orphan (GPid pid)
{
  g_mutex_lock (&orphan_lock);
  if (orphans == NULL)
    orphans = g_array_new (FALSE, FALSE, sizeof (GPid));
  g_array_append_val (orphans, pid);
  g_mutex_unlock (&orphan_lock);
}

/* ---- MpProcess ----------------------------------------------------------- */

struct _MpProcess
{
  GObject        parent_instance;

  char          *name;          /* "Process-N", as Python names them */
  char          *task;
  MpArgs        *args;
  MpStartMethod  method;        /* as set; resolved by start() */
  GArray        *pass_fds;      /* int: extra fds the child needs */
  int            death_action;  /* how it ends when this process dies */

  GPid           pid;           /* 0 until started */
  int            sentinel;      /* parent's end of the status socket */
  int            server_reply;  /* forkserver: where its wait status comes */
  gboolean       started;
  gboolean       reaped;
  gboolean       lost;          /* someone else reaped it */
  gboolean       server_gone;   /* its forkserver ended before telling */
  int            exitcode;

  /* what the child said on its status socket */
  gboolean       saw_guard;
  gboolean       saw_running;
  gboolean       expect_errno;
  int            exec_errno;
};

G_DEFINE_FINAL_TYPE (MpProcess, mp_process, G_TYPE_OBJECT)

static gboolean reap (MpProcess *self, gboolean block);

static void
mp_process_dispose (GObject *object)
{
  MpProcess *self = MP_PROCESS (object);

  /* An unjoined child is reaped now if it has exited; otherwise a later
   * start reaps it (reap_orphans) — dispose never blocks on a child. */
  if (self->started && !self->reaped && !reap (self, FALSE))
    {
      /* the forkserver reaps its own children */
      if (self->server_reply < 0)
        adopt_orphan (self->pid);
      self->reaped = TRUE;
      self->lost = TRUE;
    }
  if (self->server_reply >= 0)
    {
      mp_fd_close_parent_end (self->server_reply);
      self->server_reply = -1;
    }
  if (self->sentinel >= 0)
    {
      close (self->sentinel);
      self->sentinel = -1;
    }

  G_OBJECT_CLASS (mp_process_parent_class)->dispose (object);
}

static void
mp_process_finalize (GObject *object)
{
  MpProcess *self = MP_PROCESS (object);

  g_free (self->name);
  g_free (self->task);
  g_clear_pointer (&self->args, mp_args_unref);
  g_array_unref (self->pass_fds);

  G_OBJECT_CLASS (mp_process_parent_class)->finalize (object);
}

static void
mp_process_class_init (MpProcessClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mp_process_dispose;
  object_class->finalize = mp_process_finalize;
}

static void
mp_process_init (MpProcess *self)
{
  self->sentinel = -1;
  self->server_reply = -1;
  self->pass_fds = g_array_new (FALSE, FALSE, sizeof (int));
  self->death_action = SIGKILL;
}

/**
 * mp_process_new:
 * @task: the name of a registered task
 * @args: (nullable): its arguments; %NULL for none
 *
 * Creates a process object; nothing runs until mp_process_start(). The
 * task name is checked at start, in the parent.
 *
 * Returns: (transfer full): a new #MpProcess
 *
 * Since: 0.1
 */
MpProcess *
mp_process_new (const char *task,
                MpArgs     *args)
{
  MpProcess *self;

  g_return_val_if_fail (task != NULL, NULL);

  self = g_object_new (MP_TYPE_PROCESS, NULL);
  self->name = g_strdup_printf ("Process-%u", g_atomic_int_add (&process_counter, 1) + 1);
  self->task = g_strdup (task);
  self->args = args != NULL ? mp_args_ref (args) : mp_args_new (G_TYPE_INVALID);
  return self;
}

/**
 * mp_process_set_start_method:
 * @self: a not yet started #MpProcess
 * @method: how to start it; %MP_START_DEFAULT follows mp_get_start_method()
 *
 * Since: 0.1
 */
void
mp_process_set_start_method (MpProcess     *self,
                             MpStartMethod  method)
{
  g_return_if_fail (MP_IS_PROCESS (self));
  g_return_if_fail (!self->started);
  g_return_if_fail (MP_START_METHOD_IS_VALID (method));

  self->method = method;
}

/**
 * mp_process_get_start_method:
 * @self: an #MpProcess
 *
 * Returns: the method set on @self (possibly %MP_START_DEFAULT) before it
 *   starts; the method actually used once it has started.
 *
 * Since: 0.1
 */
MpStartMethod
mp_process_get_start_method (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), MP_START_DEFAULT);

  return self->method;
}

/* Keeps @fd open in the child, across exec too (the pool's worker socket).
 * The caller still owns @fd. */
void
mp_process_pass_fd (MpProcess *self,
                    int        fd)
{
  g_return_if_fail (MP_IS_PROCESS (self));
  g_return_if_fail (fd >= 0);

  g_array_append_val (self->pass_fds, fd);
}

/* The signal the child sends itself when this process dies (see
 * MP_PARENT_DEATH_SIGNAL): SIGKILL unless it has cleaning up to do. */
void
mp_process_set_parent_death_signal (MpProcess *self,
                                    int        signum)
{
  g_return_if_fail (MP_IS_PROCESS (self));
  g_return_if_fail (!self->started);
  g_return_if_fail (signum == SIGKILL || signum == SIGTERM);

  self->death_action = signum;
}

/* Readable (data or hang-up) when the child wrote status or exited;
 * -1 before start and after reaping. */
int
mp_process_get_sentinel (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), -1);

  return self->sentinel;
}

/* Whether the child reported that its task began. */
gboolean
mp_process_get_task_started (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);

  return self->saw_running;
}

const char *
mp_process_get_name (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), NULL);

  return self->name;
}

/* ---- starting ---------------------------------------------------------- */

/* Everything the spawn child needs between fork and exec, prepared before
 * fork: only async-signal-safe calls are allowed there. */
typedef struct
{
  char   *path;
  char  **argv;
  char  **envp;
  GArray *keep_fds;   /* int */
  int     max_fd;
  pid_t   parent;     /* getpid() before fork */
} ExecPlan;

static void
exec_plan_clear (ExecPlan *plan)
{
  g_clear_pointer (&plan->path, g_free);
  g_clear_pointer (&plan->argv, g_strfreev);
  g_clear_pointer (&plan->envp, g_strfreev);
  g_clear_pointer (&plan->keep_fds, g_array_unref);
}

/* The running binary and its original argv: the guard may never have run,
 * so /proc is the only honest source of both. */
static gboolean
exec_plan_init (ExecPlan *plan,
                GError  **error)
{
  g_autofree char *cmdline = NULL;
  gsize length = 0;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  struct rlimit limit;

  plan->path = g_file_read_link ("/proc/self/exe", NULL);
  if (plan->path == NULL || !g_file_test (plan->path, G_FILE_TEST_IS_EXECUTABLE))
    {
      g_free (plan->path);
      plan->path = g_strdup ("/proc/self/exe");
    }

  if (!g_file_get_contents ("/proc/self/cmdline", &cmdline, &length, error))
    {
      g_prefix_error (error, "spawn: reading the program's argv: ");
      return FALSE;
    }
  for (gsize at = 0; at < length; at += strlen (cmdline + at) + 1)
    g_ptr_array_add (argv, g_strdup (cmdline + at));
  if (argv->len == 0)
    g_ptr_array_add (argv, g_strdup (plan->path));
  g_ptr_array_add (argv, NULL);
  plan->argv = (char **) g_ptr_array_free (g_steal_pointer (&argv), FALSE);

  plan->keep_fds = g_array_new (FALSE, FALSE, sizeof (int));
  plan->max_fd = 65536;
  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < (rlim_t) plan->max_fd)
    plan->max_fd = (int) limit.rlim_cur;
  return TRUE;
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
G_GNUC_NORETURN static void
exec_child (const ExecPlan *plan,
            int             status_fd)
{
  sigset_t death;
  char report[2];

  /* The death signal is armed now, so no death goes unnoticed, but it
   * stays blocked (pending) across exec until the new image has its
   * handler (mp-spawn.c, before main()); nothing else is blocked. */
  sigemptyset (&death);
  sigaddset (&death, MP_PARENT_DEATH_SIGNAL);
  sigprocmask (SIG_SETMASK, &death, NULL);
  prctl (PR_SET_PDEATHSIG, MP_PARENT_DEATH_SIGNAL);
  if (getppid () != plan->parent)
    _exit (127);

  /* Only the fds the child needs survive exec: mark all close-on-exec,
   * then clear the flag on the chosen ones. */
  if (close_range (3, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
    for (int fd = 3; fd < plan->max_fd; fd++)
      {
        int flags = fcntl (fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC))
          fcntl (fd, F_SETFD, flags | FD_CLOEXEC);
      }
  for (guint i = 0; i < plan->keep_fds->len; i++)
    fcntl (g_array_index (plan->keep_fds, int, i), F_SETFD, 0);

  execve (plan->path, plan->argv, plan->envp);

  report[0] = MP_STATUS_EXEC_FAILED;
  report[1] = (char) MIN (errno, 255);
  send (status_fd, report, sizeof report, MSG_NOSIGNAL);
  _exit (127);
}

static int
payload_memfd_new (GBytes  *payload,
                   GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (payload, &size);
  int fd = memfd_create ("mpshare-spawn-payload", MFD_CLOEXEC);
  gsize done = 0;

  if (fd < 0)
    {
      mp_set_error_from_errno (error, errno, "spawn: memfd_create");
      return -1;
    }
  while (done < size)
    {
      ssize_t n = write (fd, data + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = errno;
          close (fd);
          mp_set_error_from_errno (error, saved, "spawn: writing the payload");
          return -1;
        }
      done += n;
    }
  return fd;
}

/* The forkserver forks the child: it gets the payload a spawned child
 * would read, and the fds it must inherit (@inherited, the pass-fds, the
 * status socket), passed with SCM_RIGHTS to the same numbers. */
static gboolean
start_by_forkserver (MpProcess  *self,
                     GBytes     *key,
                     GVariant   *wire,
                     GArray     *inherited,
                     GError    **error)
{
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  int status[2] = { -1, -1 };
  int reply = -1;
  GPid pid = 0;
  gboolean ok;

  /* started outside the fork lock: starting it starts a process */
  if (!mp_forkserver_ensure (error))
    {
      g_prefix_error (error, "starting %s: ", self->name);
      return FALSE;
    }
  if (inherited != NULL)
    g_array_append_vals (fds, inherited->data, inherited->len);
  g_array_append_vals (fds, self->pass_fds->data, self->pass_fds->len);

  mp_flush_stdio ();
  g_mutex_lock (&fork_lock);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, status) != 0)
    {
      int saved = errno;
      g_mutex_unlock (&fork_lock);
      mp_set_error (error, MP_ERROR_PROCESS_FAILED, "starting %s: socketpair: %s", self->name, g_strerror (saved));
      return FALSE;
    }
  g_array_append_val (fds, status[1]);
  payload = mp_spawn_payload_new (self->name, self->task, key, wire, status[1]);
  ok = mp_forkserver_request (payload, fds, self->death_action, &pid, &reply, error);
  close (status[1]);
  g_mutex_unlock (&fork_lock);
  if (!ok)
    {
      close (status[0]);
      g_prefix_error (error, "starting %s: ", self->name);
      return FALSE;
    }
  /* no other child may keep it open */
  mp_fd_add_parent_end (reply);
  self->server_reply = reply;
  self->sentinel = status[0];
  self->pid = pid;
  self->method = MP_START_FORKSERVER;
  self->started = TRUE;
  return TRUE;
}

/**
 * mp_process_start:
 * @self: a new #MpProcess
 * @error: return location for a #GError
 *
 * Starts the child. Fails in the parent, with nothing started, when the
 * task is not registered (%MP_ERROR_LOCAL_FUNCTION), when an argument
 * cannot be serialized (its own code), when this process is a spawned child
 * still re-running main() before the guard (%MP_ERROR_BOOTSTRAPPING), or
 * when the OS refuses (%MP_ERROR_PROCESS_FAILED).
 *
 * Arguments are serialized inside a spawning context: objects that travel
 * only by inheritance (shared memory, locks) are allowed here, and their
 * fds are kept open in the child at the same numbers.
 *
 * The child ends when this process dies, however it dies (killed with
 * SIGKILL included): it is sent SIGKILL. A thread of this process that
 * ends is not its death: a child started from a short-lived thread lives
 * on. The child's handler for the real-time signal SIGRTMIN+4 is mpshare's.
 *
 * Returns: %TRUE when the child was started.
 *
 * Since: 0.1
 */
gboolean
mp_process_start (MpProcess  *self,
                  GError    **error)
{
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GError) local_error = NULL;
  MpSpawningContext context = { 0 };
  ExecPlan plan = { 0 };
  MpStartMethod method;
  int status[2] = { -1, -1 };
  int memfd = -1;
  MpTaskFunc func;
  GPid pid;
  pid_t parent;
  int fork_errno;

  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->started)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s was already started: a process can only be started once; create a new MpProcess",
                    self->name);
      return FALSE;
    }
  if (!mp_spawn_check_bootstrapped ("starting a process", error))
    return FALSE;
  func = mp_task_lookup (self->task);
  if (func == NULL)
    {
      mp_set_error (error, MP_ERROR_LOCAL_FUNCTION,
                    "task '%s' is not registered, so a child process could not find it by name",
                    self->task);
      return FALSE;
    }

  install_atfork ();
  reap_orphans ();
  method = self->method != MP_START_DEFAULT ? self->method : mp_get_start_method ();
  /* made now, before fork, so every child shares the parent's key (a
   * spawned child reads it from its payload) */
  if (method != MP_START_FORK)
    key = mp_get_auth_key ();
  else
    ensure_auth_key ();

  /* A forked child without arguments has nothing to decode, and nothing
   * here needs checking: it gets no wire at all. */
  if (method != MP_START_FORK || mp_args_get_length (self->args) > 0)
    {
      mp_spawning_begin (&context);
      wire = mp_args_serialize (self->args, &local_error);
      if (wire != NULL)
        wire = g_variant_take_ref (wire);
      if (wire != NULL && method == MP_START_SPAWN && exec_plan_init (&plan, &local_error))
        {
          if (context.fds != NULL)
            g_array_append_vals (plan.keep_fds, context.fds->data, context.fds->len);
          g_array_append_vals (plan.keep_fds, self->pass_fds->data, self->pass_fds->len);
        }
      mp_spawning_end (&context);
    }
  if (local_error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  "starting %s (task '%s'): ", self->name, self->task);
      g_clear_pointer (&context.fds, g_array_unref);
      exec_plan_clear (&plan);
      return FALSE;
    }
  if (method == MP_START_FORKSERVER)
    {
      gboolean ok = start_by_forkserver (self, key, wire, context.fds, error);

      g_clear_pointer (&context.fds, g_array_unref);
      return ok;
    }
  g_clear_pointer (&context.fds, g_array_unref);

  /* What the child inherits of stdio buffers must not be printed twice. */
  mp_flush_stdio ();

  g_mutex_lock (&fork_lock);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, status) != 0)
    {
      int saved = errno;
      g_mutex_unlock (&fork_lock);
      exec_plan_clear (&plan);
      mp_set_error (error, MP_ERROR_PROCESS_FAILED, "starting %s: socketpair: %s", self->name, g_strerror (saved));
      return FALSE;
    }
  if (method == MP_START_SPAWN)
    {
      g_autofree char *marker = NULL;

      payload = mp_spawn_payload_new (self->name, self->task, key, wire, status[1]);
      memfd = payload_memfd_new (payload, &local_error);
      if (memfd < 0)
        {
          close (status[0]);
          close (status[1]);
          g_mutex_unlock (&fork_lock);
          exec_plan_clear (&plan);
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "starting %s: ", self->name);
          return FALSE;
        }
      marker = g_strdup_printf ("%d", memfd);
      plan.envp = g_environ_setenv (g_get_environ (), MP_SPAWN_ENV, marker, TRUE);
      g_free (marker);
      marker = g_strdup_printf ("%d:%d", (int) getpid (), self->death_action);
      plan.envp = g_environ_setenv (plan.envp, MP_SPAWN_PARENT_ENV, marker, TRUE);
      plan.parent = getpid ();
      g_array_append_val (plan.keep_fds, memfd);
      g_array_append_val (plan.keep_fds, status[1]);
    }

  parent = getpid ();
  pid = fork ();
  fork_errno = errno;
  if (pid == 0)
    {
      if (method == MP_START_SPAWN)
        exec_child (&plan, status[1]);
      mp_child_watch_parent (parent, self->death_action);
      /* a forked child may start processes of its own */
      g_mutex_unlock (&fork_lock);
      close (status[0]);
      mp_spawn_run_forked_child (self->name, self->task, func, wire, self->args, status[1]);
    }

  close (status[1]);
  if (memfd >= 0)
    close (memfd);
  g_mutex_unlock (&fork_lock);
  exec_plan_clear (&plan);

  if (pid < 0)
    {
      close (status[0]);
      mp_set_error (error, MP_ERROR_PROCESS_FAILED, "starting %s: fork: %s", self->name, g_strerror (fork_errno));
      return FALSE;
    }

  self->sentinel = status[0];
  self->pid = pid;
  self->method = method;
  self->started = TRUE;
  return TRUE;
}

/* ---- waiting ------------------------------------------------------------- */

/* Reads what the child reported so far; never blocks. */
static void
read_status (MpProcess *self)
{
  guint8 buf[64];

  while (self->sentinel >= 0)
    {
      ssize_t n = recv (self->sentinel, buf, sizeof buf, MSG_DONTWAIT);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      for (ssize_t i = 0; i < n; i++)
        {
          if (self->expect_errno)
            {
              self->exec_errno = buf[i];
              self->expect_errno = FALSE;
            }
          else if (buf[i] == MP_STATUS_GUARD)
            self->saw_guard = TRUE;
          else if (buf[i] == MP_STATUS_RUNNING)
            self->saw_running = TRUE;
          else if (buf[i] == MP_STATUS_EXEC_FAILED)
            self->expect_errno = TRUE;
        }
      /* a short read took all there was: no second system call to hear so */
      if (n < (ssize_t) sizeof buf)
        return;
    }
}

/* Collects the child's status if it has exited (or waits when @block). */
static gboolean
reap (MpProcess *self,
      gboolean   block)
{
  int status = 0;
  pid_t r;

  if (self->server_reply >= 0)
    {
      /* the forkserver reaped it and sends its status */
      int got = mp_forkserver_read_status (self->server_reply, block, &status);

      if (got == 0)
        return FALSE;
      r = got > 0 && status >= 0 ? self->pid : -1;
      self->server_gone = got < 0;
      mp_fd_close_parent_end (self->server_reply);
      self->server_reply = -1;
    }
  else
    do
      r = waitpid (self->pid, &status, block ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
  if (r == 0)
    return FALSE;

  read_status (self);
  if (r < 0)
    self->lost = TRUE;
  else if (WIFSIGNALED (status))
    self->exitcode = -WTERMSIG (status);
  else
    self->exitcode = WEXITSTATUS (status);
  if (r > 0)
    MP_TRACE (mp_trace_process_exit (self->pid, self->exitcode));
  self->reaped = TRUE;
  if (self->sentinel >= 0)
    {
      close (self->sentinel);
      self->sentinel = -1;
    }
  return TRUE;
}

/* How a finished child went, as join() reports it. */
static gboolean
check_outcome (MpProcess  *self,
               GError    **error)
{
  if (self->lost && self->server_gone)
    {
      mp_set_error (error, MP_ERROR_PROCESS_FAILED,
                    "%s (pid %d) was started by the forkserver, which ended before it reported "
                    "the child's exit: its exit code is unknown",
                    self->name, (int) self->pid);
      return FALSE;
    }
  if (self->lost)
    {
      mp_set_error (error, MP_ERROR_FAILED,
                    "%s (pid %d) was reaped by someone else (is SIGCHLD ignored?): its exit code is unknown",
                    self->name, (int) self->pid);
      return FALSE;
    }
  if (self->exec_errno != 0)
    {
      mp_set_error (error, MP_ERROR_PROCESS_FAILED, "%s (pid %d) could not exec the program for spawn: %s",
                    self->name, (int) self->pid, g_strerror (self->exec_errno));
      return FALSE;
    }
  if (self->method == MP_START_SPAWN && !self->saw_guard && self->exitcode >= 0)
    {
      mp_set_error (error, MP_ERROR_BOOTSTRAPPING,
                    "%s (pid %d, task '%s') ran main() again but never reached mp_main_guard(), "
                    "so its task never ran; it exited with status %d",
                    self->name, (int) self->pid, self->task, self->exitcode);
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_process_join:
 * @self: a started #MpProcess
 * @timeout_us: how long to wait in microseconds; -1 waits forever
 * @error: return location for a #GError
 *
 * Waits for the child to exit and reaps it, without busy-waiting: in
 * waitpid() when there is no timeout, else by polling the child's status
 * socket, which hangs up when the child exits.
 *
 * Returns: %TRUE when the child has exited (see mp_process_get_exitcode());
 *   %FALSE with %MP_ERROR_TIMEOUT when it still runs after @timeout_us.
 *   %FALSE with %MP_ERROR_BOOTSTRAPPING (child reaped, exit code set) when
 *   a spawned child exited without its guard ever running its task.
 *
 * Since: 0.1
 */
gboolean
mp_process_join (MpProcess  *self,
                 gint64      timeout_us,
                 GError    **error)
{
  gint64 deadline;

  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!self->started)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "%s: can only join a started process", self->name);
      return FALSE;
    }

  deadline = mp_deadline_from_timeout (timeout_us);
  if (deadline < 0)
    {
      if (!self->reaped)
        reap (self, TRUE);
      return check_outcome (self, error);
    }

  while (!self->reaped && !reap (self, FALSE))
    {
      struct pollfd pfd = { .fd = self->sentinel, .events = POLLIN };
      int timeout_ms = (int) CLAMP ((deadline - g_get_monotonic_time () + 999) / 1000, 0, G_MAXINT);
      gboolean hung_up = FALSE;

      if (poll (&pfd, 1, timeout_ms) < 0)
        hung_up = errno != EINTR;
      else if (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))
        hung_up = TRUE;
      else if (pfd.revents & POLLIN)
        {
          char probe;
          read_status (self);
          hung_up = recv (self->sentinel, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
        }
      /* The child's end is closed: it exited (or exec'd something that
       * dropped the fd; then this waits for that program). */
      if (hung_up)
        reap (self, TRUE);
      else if (g_get_monotonic_time () >= deadline)
        {
          mp_set_error (error, MP_ERROR_TIMEOUT, "%s (pid %d) still runs after %" G_GINT64_FORMAT " us",
                        self->name, (int) self->pid, timeout_us);
          return FALSE;
        }
    }
  return check_outcome (self, error);
}

/**
 * mp_process_is_alive:
 * @self: an #MpProcess
 *
 * Returns: %TRUE when the child was started and has not exited yet.
 *
 * Since: 0.1
 */
gboolean
mp_process_is_alive (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);

  return self->started && !self->reaped && !reap (self, FALSE);
}

/**
 * mp_process_get_exitcode:
 * @self: an #MpProcess
 * @exitcode: (out) (optional): 0, the child's exit status, or minus the
 *   number of the signal that killed it (as Python)
 *
 * Returns: %TRUE when the child has exited and @exitcode is set, %FALSE
 *   while it runs or before it started (Python's `None`).
 *
 * Since: 0.1
 */
gboolean
mp_process_get_exitcode (MpProcess *self,
                         int       *exitcode)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);

  if (!self->started)
    return FALSE;
  if (!self->reaped && !reap (self, FALSE))
    return FALSE;
  if (self->lost)
    return FALSE;
  if (exitcode != NULL)
    *exitcode = self->exitcode;
  return TRUE;
}

/**
 * mp_process_get_pid:
 * @self: an #MpProcess
 *
 * Returns: the child's pid, 0 before start.
 *
 * Since: 0.1
 */
GPid
mp_process_get_pid (MpProcess *self)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), 0);

  return self->pid;
}

static gboolean
send_signal (MpProcess   *self,
             int          signum,
             GError     **error)
{
  if (!self->started)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "%s: cannot signal a process that was never started",
                    self->name);
      return FALSE;
    }
  /* a reaped pid may belong to someone else by now */
  if (self->reaped)
    return TRUE;
  if (kill (self->pid, signum) != 0 && errno != ESRCH)
    return mp_set_error_from_errno (error, errno, "sending %s to %s (pid %d)", g_strsignal (signum),
                                    self->name, (int) self->pid);
  return TRUE;
}

/**
 * mp_process_terminate:
 * @self: a started #MpProcess
 * @error: return location for a #GError
 *
 * Sends SIGTERM; join() then reports exit code -15. Does nothing when the
 * child already exited.
 *
 * Returns: %TRUE on success.
 *
 * Since: 0.1
 */
gboolean
mp_process_terminate (MpProcess  *self,
                      GError    **error)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return send_signal (self, SIGTERM, error);
}

/**
 * mp_process_kill:
 * @self: a started #MpProcess
 * @error: return location for a #GError
 *
 * Sends SIGKILL; join() then reports exit code -9.
 *
 * Returns: %TRUE on success.
 *
 * Since: 0.1
 */
gboolean
mp_process_kill (MpProcess  *self,
                 GError    **error)
{
  g_return_val_if_fail (MP_IS_PROCESS (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return send_signal (self, SIGKILL, error);
}
