/* mp-spawn.c — the child side: bootstrap payload, main guard, bootstrapping check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A child started by spawn is a fresh exec of the running binary. It finds
 * its work in a memfd named by the MP_SPAWN_FD environment variable: a
 * GVariant "(ssayvi)" = (process name, task name, auth key, serialized
 * args, status fd). A forked child gets the very same payload in memory, so
 * both start methods deserialize their arguments the same way (spawn.py's
 * preparation data + Process._bootstrap, folded together).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "mp-process-private.h"
#include "mp-trace-private.h"

#define PAYLOAD_TYPE "(ssayvi)"

/* Set by the load-time check below, before main() and before any thread. */
static gboolean spawned_child = FALSE;
static int      payload_fd = -1;
/* The guard was reached (a spawned child never returns from it). */
static gboolean guard_reached = FALSE;
/* This process runs a task: bootstrapping is over, it may start others. */
static gboolean running_task = FALSE;
/* The status socket this process writes to as a child; a forked grandchild
 * must not keep it open, or our parent's sentinel would never hang up. */
static int      own_status_fd = -1;
/* The running task's arguments, kept reachable: a task that ends its
 * process with _exit() must not look like a leak to valgrind. */
static MpArgs  * volatile task_args;

/* The parent process this child watches, and how it ends when it dies. */
static volatile sig_atomic_t watched_parent;
static volatile sig_atomic_t death_action = SIGKILL;

/* ---- the parent's death --------------------------------------------------- */

/* PR_SET_PDEATHSIG fires when the thread that forked us ends: a pool
 * created by a short-lived thread must outlive that thread. The kernel
 * has already given us our new parent when it signals, so a parent
 * process that is still ours means: only a thread ended. */
static void
on_parent_death (int signum)
{
  int saved_errno = errno;

  if (watched_parent != 0 && getppid () != watched_parent)
    kill (getpid (), death_action);
  errno = saved_errno;
}

/*
 * mp_child_watch_parent:
 * @parent: the pid of the process that started this one
 * @action: SIGKILL, or SIGTERM for a child that handles it
 *
 * Makes this child end when @parent dies, whatever else holds the
 * channels between them. Async-signal-safe: a forked child calls it
 * first thing, a spawned one before main() (the death signal was armed
 * and blocked before exec, see exec_child()).
 */
void
mp_child_watch_parent (pid_t parent,
                       int   action)
{
  struct sigaction handler = { .sa_handler = on_parent_death, .sa_flags = SA_RESTART };
  sigset_t death;

  watched_parent = parent;
  death_action = action;
  sigemptyset (&handler.sa_mask);
  sigaction (MP_PARENT_DEATH_SIGNAL, &handler, NULL);
  prctl (PR_SET_PDEATHSIG, MP_PARENT_DEATH_SIGNAL);
  sigemptyset (&death);
  sigaddset (&death, MP_PARENT_DEATH_SIGNAL);
  sigprocmask (SIG_UNBLOCK, &death, NULL);
  /* the parent may have died before prctl(): no signal will come */
  if (getppid () != parent)
    kill (getpid (), action);
}

/* A spawned child: "PID:ACTION" from MP_SPAWN_PARENT_ENV. */
static void
watch_parent_of_spawned_child (void)
{
  const char *marker = getenv (MP_SPAWN_PARENT_ENV);
  gint64 parent, action;
  char *end = NULL;

  if (marker == NULL)
    return;
  parent = g_ascii_strtoll (marker, &end, 10);
  if (end != marker && *end == ':' && parent > 0 && parent <= G_MAXINT)
    {
      const char *second = end + 1;

      action = g_ascii_strtoll (second, &end, 10);
      if (end != second && *end == '\0' && (action == SIGKILL || action == SIGTERM))
        mp_child_watch_parent ((pid_t) parent, (int) action);
    }
  unsetenv (MP_SPAWN_PARENT_ENV);
}

static void
write_status (int fd, char byte)
{
  ssize_t n;

  do
    n = send (fd, &byte, 1, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
}

static GBytes *
read_payload (int fd, GError **error)
{
  struct stat st;
  g_autofree guint8 *data = NULL;
  gsize done = 0;

  if (fstat (fd, &st) != 0)
    {
      mp_set_error_from_errno (error, errno, "reading the spawn payload (fd %d)", fd);
      return NULL;
    }
  if (st.st_size <= 0 || st.st_size > G_MAXINT32)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "the spawn payload (fd %d) has a bad size %" G_GINT64_FORMAT,
                    fd, (gint64) st.st_size);
      return NULL;
    }

  data = g_malloc (st.st_size);
  while (done < (gsize) st.st_size)
    {
      ssize_t n = pread (fd, data + done, st.st_size - done, done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          mp_set_error_from_errno (error, n < 0 ? errno : EIO, "reading the spawn payload (fd %d)", fd);
          return NULL;
        }
      done += n;
    }
  return g_bytes_new_take (g_steal_pointer (&data), done);
}

static GVariant *
parse_payload (GBytes *bytes, GError **error)
{
  g_autoptr(GVariant) payload = g_variant_new_from_bytes (G_VARIANT_TYPE (PAYLOAD_TYPE), bytes, FALSE);

  if (!g_variant_is_normal_form (payload))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "the bootstrap payload of this child is malformed");
      return NULL;
    }
  return g_steal_pointer (&payload);
}

/* A spawned child whose main() ends without the guard never ran its task:
 * like Python's child dying with the bootstrapping RuntimeError, it must not
 * look successful to its parent. on_exit() sees the status main() chose. */
static void
exit_without_guard (int status, void *unused)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) payload = NULL;
  const char *task = "?";

  if (guard_reached)
    return;

  bytes = read_payload (payload_fd, NULL);
  if (bytes != NULL)
    payload = parse_payload (bytes, NULL);
  if (payload != NULL)
    g_variant_get_child (payload, 1, "&s", &task);
  MP_TRACE (mp_trace_bootstrap_error ("main() ended without calling mp_main_guard()"));

  fflush (stdout);
  /* through GLib: a program that routes g_printerr() (to wrap, to log)
   * has these lines too */
  g_printerr ("mpshare: process %d was started by spawn to run task '%s', but main() "
              "ended without calling mp_main_guard(): the task never ran "
              "[pitfall missing-main-guard]. Fix: %s.\n",
              (int) getpid (), task, mp_error_fix (MP_ERROR_BOOTSTRAPPING));
  fflush (stderr);
  mp_child_exit (status != 0 ? status : MP_PROCESS_EXIT_FAILED);
}

__attribute__((constructor)) static void
detect_spawned_child (void)
{
  const char *marker = getenv (MP_SPAWN_ENV);
  gint64 fd;
  char *end = NULL;

  watch_parent_of_spawned_child ();
  if (marker == NULL)
    return;

  fd = g_ascii_strtoll (marker, &end, 10);
  /* the marker must not leak into programs this child runs in turn */
  unsetenv (MP_SPAWN_ENV);
  if (end == marker || *end != '\0' || fd < 0 || fd > G_MAXINT ||
      fcntl ((int) fd, F_GETFD) < 0)
    return;

  payload_fd = (int) fd;
  fcntl (payload_fd, F_SETFD, FD_CLOEXEC);
  spawned_child = TRUE;
  /* as Python's spawn.prepare(): main() runs again with the method set */
  mp_start_method_inherit (MP_START_SPAWN);
  on_exit (exit_without_guard, NULL);
}

/**
 * mp_is_spawned_child:
 *
 * Returns: %TRUE when this process was started by the spawn method (it
 *   runs main() again from the top), whether or not the guard ran yet.
 *
 * Since: 0.1
 */
gboolean
mp_is_spawned_child (void)
{
  return spawned_child;
}

/**
 * mp_main_guard:
 * @argc: main()'s argc
 * @argv: main()'s argv
 *
 * The C counterpart of `if __name__ == "__main__":`. Call it first thing in
 * main(), after registering tasks and types that are not registered at load
 * time. In an ordinary process it returns at once. In a child started by
 * spawn it never returns: it reads the bootstrap payload, runs the task and
 * exits with 0 on success, 1 when the task failed (the error is printed on
 * stderr under a "Process Process-N" header, as Python prints it).
 *
 * Since: 0.1
 */
void
mp_main_guard (int    argc,
               char **argv)
{
  g_autoptr(GError) error = NULL;
  GBytes *payload;

  guard_reached = TRUE;
  if (!spawned_child)
    return;

  payload = read_payload (payload_fd, &error);
  close (payload_fd);
  payload_fd = -1;
  if (payload == NULL)
    {
      g_printerr ("mpshare: spawned child %d cannot bootstrap: %s\n", (int) getpid (), error->message);
      mp_child_exit (MP_PROCESS_EXIT_FAILED);
    }
  mp_spawn_run_child (payload, MP_START_SPAWN);
}

/*
 * mp_spawn_check_bootstrapped:
 * @what: what the caller is about to do, e.g. "starting a process"
 *
 * Python's spawn._check_not_importing_main(): a spawned child that is still
 * re-running main() (the guard has not diverted it) must not start
 * processes, or every generation would spawn the next one forever.
 */
gboolean
mp_spawn_check_bootstrapped (const char  *what,
                             GError     **error)
{
  if (!spawned_child || running_task)
    return TRUE;

  MP_TRACE (mp_trace_bootstrap_error (what));
  mp_set_error (error, MP_ERROR_BOOTSTRAPPING,
                "%s in process %d, a child started by spawn that is still re-running main() "
                "before its task: main() did not call mp_main_guard() before this point",
                what, (int) getpid ());
  return FALSE;
}

GBytes *
mp_spawn_payload_new (const char *name,
                      const char *task,
                      GBytes     *auth_key,
                      GVariant   *args_wire,
                      int         status_fd)
{
  g_autoptr(GVariant) payload = NULL;

  payload = g_variant_ref_sink (g_variant_new ("(ss@ayvi)", name, task,
                                               g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, auth_key, TRUE),
                                               args_wire, status_fd));
  return g_variant_get_data_as_bytes (payload);
}

static void
print_task_error (const char *name,
                  const char *task,
                  const GError *error)
{
  fflush (stdout);
  g_printerr ("Process %s (task '%s'):\n", name, task);
  if (error == NULL)
    g_printerr ("task failed without setting an error\n");
  else if (error->domain == MP_ERROR)
    g_printerr ("MP_ERROR %s: %s\n", mp_error_code_name (error->code), error->message);
  else
    g_printerr ("%s %d: %s\n", g_quark_to_string (error->domain), error->code, error->message);
  fflush (stderr);
}

/* The forkserver's child closes the server's status socket before it
 * puts its inherited fds in place: one may take that number. */
void
mp_spawn_forget_status_fd (void)
{
  if (own_status_fd >= 0)
    close (own_status_fd);
  own_status_fd = -1;
}

/* A child's first steps, whatever started it. */
static void
become_child (int           status_fd,
              MpStartMethod method)
{
  guard_reached = TRUE;
  running_task = TRUE;
  /* a child forked by a spawned child was started by fork */
  spawned_child = method == MP_START_SPAWN;
  mp_start_method_inherit (method);

  if (own_status_fd >= 0 && own_status_fd != status_fd)
    close (own_status_fd);
  own_status_fd = status_fd;
}

/* Runs @func on the arguments in @args_wire and gives the exit status (0
 * or MP_PROCESS_EXIT_FAILED, the error printed). A NULL @args_wire means
 * no arguments: @no_args (an empty MpArgs, borrowed) is handed over. */
static int
run_task (const char *name,
          const char *task,
          MpTaskFunc  func,
          GVariant   *args_wire,
          MpArgs     *no_args,
          int         status_fd)
{
  g_autoptr(GError) error = NULL;
  GValue result = G_VALUE_INIT;
  MpArgs *args = no_args;
  int code = MP_PROCESS_EXIT_FAILED;

  if (args_wire != NULL)
    {
      args = mp_args_deserialize (args_wire, &error);
      if (args == NULL)
        {
          g_prefix_error (&error, "decoding the arguments of task '%s': ", task);
          print_task_error (name, task, error);
          return code;
        }
    }

  write_status (status_fd, MP_STATUS_RUNNING);
  task_args = args;
  MP_TRACE (mp_trace_task (task, TRUE, FALSE));
  if (func (args, &result, &error))
    code = 0;
  MP_TRACE (mp_trace_task (task, FALSE, code == 0));
  task_args = NULL;

  if (code != 0)
    print_task_error (name, task, error);
  /* not G_IS_VALUE(): its type check takes a lock, one more page copied */
  if (G_VALUE_TYPE (&result) != G_TYPE_INVALID)
    g_value_unset (&result);
  if (args != no_args)
    mp_args_unref (args);
  return code;
}

/* Flushes stdout and stderr when they hold output. fflush() on an empty
 * stream still takes its lock, a write: around fork that is a page copied
 * for the parent and another for the child. */
void
mp_flush_stdio (void)
{
  if (__fpending (stdout) > 0)
    fflush (stdout);
  if (__fpending (stderr) > 0)
    fflush (stderr);
}

G_GNUC_NORETURN static void
exit_child (int code)
{
  mp_flush_stdio ();
  mp_child_exit (code);
}

/*
 * mp_spawn_run_child:
 * @payload: (transfer full): the bootstrap payload
 * @method: how this child was started: exec'd (spawn) or forked by the
 *   forkserver
 *
 * Runs the task described by @payload and exits: 0 on success, 1 when the
 * task or its bootstrap failed. Everything is freed first so a child
 * under valgrind exits clean.
 */
void
mp_spawn_run_child (GBytes        *payload_bytes,
                    MpStartMethod  method)
{
  gboolean spawned = method == MP_START_SPAWN;
  g_autoptr(GError) error = NULL;
  GVariant *payload = NULL;
  GVariant *key_v = NULL;
  GVariant *args_wire = NULL;
  const char *name = "?";
  const char *task = "?";
  int status_fd = -1;
  int code = MP_PROCESS_EXIT_FAILED;
  MpTaskFunc func;

  payload = parse_payload (payload_bytes, &error);
  if (payload == NULL)
    goto out;
  g_variant_get (payload, "(&s&s@ayvi)", &name, &task, &key_v, &args_wire, &status_fd);
  become_child (status_fd, method);
  MP_TRACE (mp_trace_child_begin (name, task, mp_start_method_to_string (method)));
  if (spawned)
    MP_TRACE (mp_trace_process_guard (task));
  fcntl (status_fd, F_SETFD, FD_CLOEXEC);

  if (spawned)
    write_status (status_fd, MP_STATUS_GUARD);
  if (method != MP_START_FORK)
    {
      g_autoptr(GBytes) key = g_variant_get_data_as_bytes (key_v);
      mp_set_auth_key (key);
    }

  func = mp_task_lookup (task);
  if (func == NULL)
    {
      mp_set_error (&error, MP_ERROR_LOCAL_FUNCTION,
                    "task '%s' is not registered in this child (pid %d): register it at load time "
                    "(MP_TASK_DEFINE) or before mp_main_guard()", task, (int) getpid ());
      goto out;
    }
  code = run_task (name, task, func, args_wire, NULL, status_fd);

out:
  if (error != NULL)
    print_task_error (name, task, error);
  g_clear_pointer (&args_wire, g_variant_unref);
  g_clear_pointer (&key_v, g_variant_unref);
  g_clear_pointer (&payload, g_variant_unref);
  g_bytes_unref (payload_bytes);
  g_clear_error (&error);
  exit_child (code);
}

/*
 * mp_spawn_run_forked_child:
 * @args_wire: (nullable): the serialized arguments; %NULL when there are none
 * @no_args: the parent's empty #MpArgs, handed to a task without arguments
 *
 * What a child started by fork runs: everything a spawned child reads from
 * its payload is in its copy of the parent's memory already (the task
 * looked up by the parent, the serialized arguments), so nothing is copied
 * or parsed. The arguments are decoded as under spawn; a task without any
 * gets the parent's empty MpArgs, untouched: each page a forked child
 * writes is a page copied, and allocating an empty MpArgs and freeing it
 * wrote several (GLib's slice allocator).
 */
void
mp_spawn_run_forked_child (const char *name,
                           const char *task,
                           MpTaskFunc  func,
                           GVariant   *args_wire,
                           MpArgs     *no_args,
                           int         status_fd)
{
  become_child (status_fd, MP_START_FORK);
  MP_TRACE (mp_trace_child_begin (name, task, "fork"));
  exit_child (run_task (name, task, func, args_wire, no_args, status_fd));
}
