/* mp-forkserver.c — the forkserver start method (Python's forkserver.py)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The first process started with MP_START_FORKSERVER spawns the server: a
 * fresh run of the program (main() runs once more, up to mp_main_guard(),
 * which diverts it into the task "mpshare:forkserver"). The server does
 * its preloads, then waits on a socketpair with its parent. Each request
 * carries the same bootstrap payload a spawned child reads (name, task,
 * auth key, serialized arguments, status fd) and, as SCM_RIGHTS, a reply
 * socket and every fd the child must inherit (shared memory, locks, a
 * pool worker's sockets, the status socket). The server forks; the child
 * puts each fd back at the number it had in the requesting process (the
 * number its serialized form names), as a spawned child finds them kept
 * across exec, and runs the task. The server writes the child's pid on the
 * reply socket, and its wait status when it has reaped it: the requesting
 * process cannot waitpid() a child that is not its own (Python's
 * forkserver writes both on its connection too).
 *
 * Decided where Python differs: the server's channel is a socketpair, not
 * a socket file in a temp dir, so nothing is left on disk; one server per
 * process (a forked child starts its own); the server's children get the
 * requesting child's death action and end with the server, which ends
 * with its parent (a death signal) or when the channel closes (it then
 * stops its children and reaps them first).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdmessage.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mp-process-private.h"
#include "mp-trace-private.h"

#define SERVER_TASK    "mpshare:forkserver"
#define REQUEST_TYPE   "(ayaii)"       /* payload, target fd numbers, death action */
/* the kernel passes at most 253 fds in one message (SCM_MAX_FD); one is
 * the reply socket */
#define MAX_PASSED_FDS 250
#define MAX_REQUEST    ((gsize) G_MAXINT32)

/* ---- the preload registry ------------------------------------------------ */

static GMutex      preload_lock;
static GHashTable *preloads;          /* char* name -> PreloadEntry* */
static GStrv       preload_names;     /* given to the next server */

/* ISO C has no conversion between function and object pointers. */
typedef struct { MpPreloadFunc func; } PreloadEntry;

/**
 * mp_preload_register:
 * @name: the "module" name
 * @func: (scope forever): the work to do once in the server
 *
 * Registers @func under @name, at load time (MP_PRELOAD_DEFINE) or in
 * main() before mp_main_guard(), so that the server, which runs main()
 * again up to the guard, knows it too.
 *
 * Since: 0.1
 */
void
mp_preload_register (const char    *name,
                     MpPreloadFunc  func)
{
  PreloadEntry *entry;

  g_return_if_fail (name != NULL && *name != '\0');
  g_return_if_fail (func != NULL);

  g_mutex_lock (&preload_lock);
  if (preloads == NULL)
    preloads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  entry = g_new (PreloadEntry, 1);
  entry->func = func;
  g_hash_table_replace (preloads, g_strdup (name), entry);
  g_mutex_unlock (&preload_lock);
}

static MpPreloadFunc
preload_lookup (const char *name)
{
  PreloadEntry *entry;
  MpPreloadFunc func = NULL;

  g_mutex_lock (&preload_lock);
  if (preloads != NULL && (entry = g_hash_table_lookup (preloads, name)) != NULL)
    func = entry->func;
  g_mutex_unlock (&preload_lock);
  return func;
}

/**
 * mp_set_forkserver_preload:
 * @names: (array zero-terminated=1): registered preload names, in order
 * @error: return location for a #GError
 *
 * Python's `set_forkserver_preload(module_names)`: the server runs each
 * named #MpPreloadFunc once, before it forks any child, so every child
 * starts with that work done (a copy of the server's memory). Takes
 * effect for a server started afterwards (see mp_forkserver_stop()).
 * Python silently skips a module it cannot import; a name that is not
 * registered is refused here, where the mistake is.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT naming the first
 *   unknown name (nothing changed).
 *
 * Since: 0.1
 */
gboolean
mp_set_forkserver_preload (const char * const *names,
                           GError            **error)
{
  g_return_val_if_fail (names != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (gsize i = 0; names[i] != NULL; i++)
    if (preload_lookup (names[i]) == NULL)
      {
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "forkserver preload '%s' is not registered: register it with "
                      "MP_PRELOAD_DEFINE (\"%s\", func) at load time", names[i], names[i]);
        return FALSE;
      }
  g_mutex_lock (&preload_lock);
  g_strfreev (preload_names);
  preload_names = g_strdupv ((char **) names);
  g_mutex_unlock (&preload_lock);
  return TRUE;
}

/* ---- messages with fds (SCM_RIGHTS through GSocket) --------------------- */

/* Sends @body after its 4-byte length, with @fds (borrowed) attached. */
static gboolean
send_with_fds (GSocket     *socket,
               GBytes      *body,
               const int   *fds,
               guint        n_fds,
               GError     **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (body, &size);
  guint32 length = (guint32) size;
  GOutputVector vectors[2] = { { &length, sizeof length }, { data, size } };
  g_autoptr(GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr(GSocketControlMessage) message = NULL;
  gsize total = sizeof length + size, done = 0;
  gssize n;

  for (guint i = 0; i < n_fds; i++)
    if (g_unix_fd_list_append (list, fds[i], error) < 0)
      return FALSE;
  message = g_unix_fd_message_new_with_fd_list (list);
  n = g_socket_send_message (socket, NULL, vectors, 2, &message, 1, G_SOCKET_MSG_NONE, NULL, error);
  if (n < 0)
    return FALSE;
  /* a stream socket may take part of it: the rest goes without the fds */
  for (done = (gsize) n; done < total; done += (gsize) n)
    {
      gsize at = done < sizeof length ? done : done - sizeof length;
      const guint8 *from = done < sizeof length ? (const guint8 *) &length : data;
      gsize left = done < sizeof length ? sizeof length - done : size - at;

      n = g_socket_send (socket, (const char *) from + at, left, NULL, error);
      if (n < 0)
        return FALSE;
    }
  return TRUE;
}

/* Receives what send_with_fds() sent. Returns the body, or NULL with
 * @error unset at a clean end of the stream (the peer closed it). */
static GBytes *
receive_with_fds (GSocket   *socket,
                  GArray    *fds,
                  GError   **error)
{
  guint32 length = 0;
  gsize done = 0;
  g_autofree guint8 *body = NULL;

  while (done < sizeof length)
    {
      GInputVector vector = { (guint8 *) &length + done, sizeof length - done };
      GSocketControlMessage **messages = NULL;
      int n_messages = 0;
      gssize n;

      n = g_socket_receive_message (socket, NULL, &vector, 1, &messages, &n_messages, NULL, NULL, error);
      for (int i = 0; i < n_messages; i++)
        {
          if (G_IS_UNIX_FD_MESSAGE (messages[i]))
            {
              int count = 0;
              int *stolen = g_unix_fd_message_steal_fds (G_UNIX_FD_MESSAGE (messages[i]), &count);

              g_array_append_vals (fds, stolen, count);
              g_free (stolen);
            }
          g_object_unref (messages[i]);
        }
      g_free (messages);
      if (n < 0)
        return NULL;
      if (n == 0)
        {
          if (done > 0 || fds->len > 0)
            mp_set_error (error, MP_ERROR_PROTOCOL, "forkserver: a request ended in its header");
          return NULL;
        }
      done += (gsize) n;
    }
  if (length > MAX_REQUEST)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "forkserver: a request of %u bytes", length);
      return NULL;
    }
  body = g_malloc (MAX (length, 1));
  for (done = 0; done < length;)
    {
      gssize n = g_socket_receive (socket, (char *) body + done, length - done, NULL, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        {
          mp_set_error (error, MP_ERROR_PROTOCOL, "forkserver: a request ended after %" G_GSIZE_FORMAT
                        " of %u bytes", done, length);
          return NULL;
        }
      done += (gsize) n;
    }
  return g_bytes_new_take (g_steal_pointer (&body), length);
}

static void
close_fds (GArray *fds,
           guint   from)
{
  for (guint i = from; i < fds->len; i++)
    close (g_array_index (fds, int, i));
  g_array_set_size (fds, MIN (from, fds->len));
}

/* Reads or writes one gint32 on a blocking or non-blocking socket. */
static gboolean
write_int (int    fd,
           gint32 value)
{
  ssize_t n;

  do
    n = send (fd, &value, sizeof value, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) sizeof value;
}

/* 1: read it; 0: nothing yet (not @block); -1: end of stream or error */
static int
read_int (int      fd,
          gboolean block,
          gint32  *value)
{
  ssize_t n;

  do
    n = recv (fd, value, sizeof *value, block ? MSG_WAITALL : MSG_DONTWAIT | MSG_PEEK);
  while (n < 0 && errno == EINTR);
  if (n < 0 && !block && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (!block && n > 0 && n < (ssize_t) sizeof *value)
    return 0;
  if (!block && n == (ssize_t) sizeof *value)
    return read_int (fd, TRUE, value);
  return n == (ssize_t) sizeof *value ? 1 : -1;
}

/* ---- the server ------------------------------------------------------------ */

typedef struct
{
  pid_t pid;
  int   pidfd;    /* -1 when pidfd_open() is missing: polled instead */
  int   reply;    /* the requester's reply socket */
  int   action;   /* how it ends with the server: SIGKILL or SIGTERM */
} Child;

static int
open_pidfd (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int) syscall (SYS_pidfd_open, pid, 0);
#else
  return -1;
#endif
}

/* In the new child: each received fd goes to the number it had in the
 * requester. Everything of the server's is closed first; the received fds
 * are first moved above every number involved, so none is overwritten. */
static void
place_fds (const int *received,
           const int *targets,
           guint      n)
{
  int top = 0;
  int *high = g_newa (int, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    top = MAX (top, MAX (received[i], targets[i]) + 1);
  for (guint i = 0; i < n; i++)
    {
      high[i] = fcntl (received[i], F_DUPFD_CLOEXEC, top);
      close (received[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      if (high[i] >= 0)
        dup2 (high[i], targets[i]);
      close (high[i]);
    }
}

/* Serves one request: forks the child. Takes the fds in @fds. */
static void
serve_request (GBytes  *body,
               GArray  *fds,
               int      control,
               GArray  *children)
{
  g_autoptr(GVariant) request = NULL;
  g_autoptr(GVariant) payload_v = NULL;
  g_autoptr(GVariant) targets_v = NULL;
  const gint32 *targets;
  gsize n_targets = 0;
  gint32 action = SIGKILL;
  pid_t server = getpid ();
  Child child = { 0, -1, -1, SIGKILL };
  int reply;

  request = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (REQUEST_TYPE), body, FALSE));
  if (fds->len == 0 || !g_variant_is_normal_form (request))
    {
      g_printerr ("mpshare forkserver %d: a malformed request was dropped\n", (int) server);
      close_fds (fds, 0);
      return;
    }
  g_variant_get (request, "(@ay@aii)", &payload_v, &targets_v, &action);
  targets = g_variant_get_fixed_array (targets_v, &n_targets, sizeof (gint32));
  reply = g_array_index (fds, int, 0);
  if (n_targets != fds->len - 1 || (action != SIGKILL && action != SIGTERM))
    {
      write_int (reply, -EBADMSG);
      g_printerr ("mpshare forkserver %d: a request with %u fds for %u numbers was dropped\n",
                  (int) server, fds->len - 1, (guint) n_targets);
      close_fds (fds, 0);
      return;
    }
  for (gsize i = 0; i < n_targets; i++)
    if (targets[i] < 0)
      {
        g_printerr ("mpshare forkserver %d: a request for fd %d was dropped\n", (int) server, targets[i]);
        write_int (reply, -EBADMSG);
        close_fds (fds, 0);
        return;
      }

  mp_flush_stdio ();
  child.pid = fork ();
  if (child.pid == 0)
    {
      GBytes *payload = g_variant_get_data_as_bytes (payload_v);

      /* the server's channels are not the child's */
      close (control);
      close (reply);
      for (guint i = 0; i < children->len; i++)
        {
          Child *other = &g_array_index (children, Child, i);
          close (other->reply);
          if (other->pidfd >= 0)
            close (other->pidfd);
        }
      mp_spawn_forget_status_fd ();
      place_fds ((const int *) fds->data + 1, targets, (guint) n_targets);
      mp_child_watch_parent (server, action);
      mp_spawn_run_child (payload, MP_START_FORKSERVER);
    }

  close_fds (fds, 1);
  if (child.pid < 0)
    {
      int saved = errno;
      g_printerr ("mpshare forkserver %d: fork: %s\n", (int) server, g_strerror (saved));
      write_int (reply, -saved);
      close (reply);
      g_array_set_size (fds, 0);
      return;
    }
  g_array_set_size (fds, 0);
  child.pidfd = open_pidfd (child.pid);
  child.reply = reply;
  child.action = action;
  write_int (reply, child.pid);
  g_array_append_val (children, child);
}

/* Reaps the children that exited and tells their requesters. */
static void
reap_children (GArray  *children,
               gboolean block)
{
  for (guint i = 0; i < children->len;)
    {
      Child *child = &g_array_index (children, Child, i);
      int status = 0;
      pid_t r;

      do
        r = waitpid (child->pid, &status, block ? 0 : WNOHANG);
      while (r < 0 && errno == EINTR);
      if (r == 0)
        {
          i++;
          continue;
        }
      /* the requester may be gone: MSG_NOSIGNAL, nothing to do then */
      write_int (child->reply, r > 0 ? status : -ECHILD);
      close (child->reply);
      if (child->pidfd >= 0)
        close (child->pidfd);
      g_array_remove_index_fast (children, i);
    }
}

/* The server's task: args (control fd, preload names...). */
static gboolean
forkserver_task (MpArgs   *args,
                 GValue   *result,
                 GError  **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GArray) children = g_array_new (FALSE, FALSE, sizeof (Child));
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (int));
  int control;

  if (mp_args_get_length (args) < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "the forkserver takes its channel's fd");
      return FALSE;
    }
  control = (int) mp_args_get_int (args, 0);
  socket = g_socket_new_from_fd (control, error);
  if (socket == NULL)
    return FALSE;
  mp_trace_set_role ("forkserver");

  for (guint i = 1; i < mp_args_get_length (args); i++)
    {
      const char *name = mp_args_get_string (args, i);
      MpPreloadFunc func = preload_lookup (name);

      if (func == NULL)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "forkserver preload '%s' is not registered in the server: register it "
                        "at load time (MP_PRELOAD_DEFINE)", name);
          return FALSE;
        }
      func ();
    }

  for (;;)
    {
      g_autofree struct pollfd *pfds = g_new0 (struct pollfd, children->len + 1);
      gboolean unwatched = FALSE;
      int n;

      pfds[0].fd = control;
      pfds[0].events = POLLIN;
      for (guint i = 0; i < children->len; i++)
        {
          pfds[i + 1].fd = g_array_index (children, Child, i).pidfd;
          pfds[i + 1].events = POLLIN;
          unwatched |= pfds[i + 1].fd < 0;
        }
      /* without pidfds the timeout only bounds how late a reap comes */
      n = poll (pfds, children->len + 1, unwatched ? 100 : -1);
      if (n < 0 && errno != EINTR)
        return mp_set_error_from_errno (error, errno, "forkserver: poll");
      reap_children (children, FALSE);
      if (n > 0 && pfds[0].revents != 0)
        {
          g_autoptr(GError) local_error = NULL;
          g_autoptr(GBytes) body = receive_with_fds (socket, fds, &local_error);

          if (body != NULL)
            serve_request (body, fds, control, children);
          else
            {
              close_fds (fds, 0);
              if (local_error != NULL)
                g_printerr ("mpshare forkserver %d: %s\n", (int) getpid (), local_error->message);
              break;
            }
        }
    }

  /* The parent closed the channel: its children end with it, as they
   * would with a parent that forked them itself (a manager's server with
   * SIGTERM, so it removes its socket first). */
  for (guint i = 0; i < children->len; i++)
    kill (g_array_index (children, Child, i).pid, g_array_index (children, Child, i).action);
  reap_children (children, TRUE);
  return TRUE;
}
MP_TASK_DEFINE (SERVER_TASK, forkserver_task)

/* ---- the client: one server per process ----------------------------------- */

static GMutex     server_lock;
static MpProcess *server;
static GSocket   *server_socket;
static pid_t      server_owner;

static void stop_at_exit (void);

/* Called with server_lock held. */
static void
forget_inherited_server (void)
{
  /* a copy of our parent's server, inherited by fork: not ours to use or
   * to stop (the fd was closed by the fork handler) */
  if (server != NULL && server_owner != getpid ())
    {
      server = NULL;
      server_socket = NULL;
    }
}

/* Called with server_lock held. */
static gboolean
stop_locked (GError **error)
{
  gboolean ok = TRUE;

  forget_inherited_server ();
  if (server == NULL)
    return TRUE;
  /* the end of the channel tells the server to stop */
  mp_fd_forget_parent_end (g_socket_get_fd (server_socket));
  g_clear_object (&server_socket);
  ok = mp_process_join (server, -1, error);
  g_clear_object (&server);
  return ok;
}

/* Called with server_lock held. */
static gboolean
ensure_server (GError **error)
{
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  static gsize at_exit_once = 0;
  int pair[2];
  GSocket *socket;

  forget_inherited_server ();
  if (server != NULL && mp_process_is_alive (server))
    return TRUE;
  if (server != NULL)
    stop_locked (NULL);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return mp_set_error_from_errno (error, errno, "starting the forkserver: socketpair");
  args = mp_args_new (G_TYPE_INT64, (gint64) pair[1], G_TYPE_INVALID);
  g_mutex_lock (&preload_lock);
  for (gsize i = 0; preload_names != NULL && preload_names[i] != NULL; i++)
    mp_args_add_string (args, preload_names[i]);
  g_mutex_unlock (&preload_lock);

  process = mp_process_new (SERVER_TASK, args);
  mp_process_set_start_method (process, MP_START_SPAWN);
  mp_process_pass_fd (process, pair[1]);
  if (!mp_process_start (process, error))
    {
      close (pair[0]);
      close (pair[1]);
      g_prefix_error (error, "starting the forkserver: ");
      return FALSE;
    }
  close (pair[1]);
  socket = g_socket_new_from_fd (pair[0], error);
  if (socket == NULL)
    {
      close (pair[0]);
      mp_process_kill (process, NULL);
      mp_process_join (process, -1, NULL);
      return FALSE;
    }
  /* no other child may keep it, or the server would outlive us */
  mp_fd_add_parent_end (pair[0]);
  server_socket = socket;
  server = g_steal_pointer (&process);
  server_owner = getpid ();
  if (g_once_init_enter (&at_exit_once))
    {
      atexit (stop_at_exit);
      g_once_init_leave (&at_exit_once, 1);
    }
  return TRUE;
}

/* Why the server could not serve: it is gone; join it to say how. */
static void
explain_server_gone (GError **error)
{
  g_autoptr(GError) why = NULL;
  int code = 0;

  g_mutex_lock (&server_lock);
  forget_inherited_server ();
  if (server != NULL && !mp_process_join (server, 5 * G_USEC_PER_SEC, &why))
    ;
  else if (server != NULL && mp_process_get_exitcode (server, &code))
    why = g_error_new (MP_ERROR, MP_ERROR_PROCESS_FAILED, "it exited with status %d", code);
  g_mutex_unlock (&server_lock);
  mp_set_error (error, why != NULL && why->code == MP_ERROR_BOOTSTRAPPING ? MP_ERROR_BOOTSTRAPPING
                                                                          : MP_ERROR_PROCESS_FAILED,
                "the forkserver ended before it started the child: %s",
                why != NULL ? why->message : "no reason known");
}

/*
 * mp_forkserver_ensure:
 *
 * Starts this process's forkserver unless it runs. Call it before
 * mp_forkserver_request(), without mpshare's fork lock: starting the
 * server starts a process.
 */
gboolean
mp_forkserver_ensure (GError **error)
{
  gboolean ok;

  g_mutex_lock (&server_lock);
  ok = ensure_server (error);
  g_mutex_unlock (&server_lock);
  return ok;
}

/*
 * mp_forkserver_request:
 * @payload: the bootstrap payload (mp_spawn_payload_new())
 * @fds: (element-type int): the fds the child inherits, at these numbers
 * @death_action: SIGKILL or SIGTERM: how the child ends with the server
 * @pid: (out): the child's pid
 * @reply: (out): the socket on which its wait status will come
 *
 * Asks the server (mp_forkserver_ensure()) to fork a child.
 */
gboolean
mp_forkserver_request (GBytes   *payload,
                       GArray   *fds,
                       int       death_action,
                       GPid     *pid,
                       int      *reply,
                       GError  **error)
{
  g_autoptr(GVariant) request = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GArray) passed = g_array_new (FALSE, FALSE, sizeof (int));
  int pair[2];
  gint32 answer = 0;
  gboolean sent;

  if (fds->len > MAX_PASSED_FDS)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "a forkserver child can inherit at most %d fds, not %u: pass fewer shared objects",
                    MAX_PASSED_FDS, fds->len);
      return FALSE;
    }
  request = g_variant_ref_sink (g_variant_new ("(@ay@aii)",
                                               g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, payload, TRUE),
                                               g_variant_new_fixed_array (G_VARIANT_TYPE_INT32, fds->data, fds->len,
                                                                          sizeof (gint32)),
                                               (gint32) death_action));
  body = g_variant_get_data_as_bytes (request);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return mp_set_error_from_errno (error, errno, "forkserver: socketpair");
  g_array_append_val (passed, pair[1]);
  g_array_append_vals (passed, fds->data, fds->len);

  g_mutex_lock (&server_lock);
  forget_inherited_server ();
  sent = FALSE;
  if (server_socket == NULL)
    mp_set_error (error, MP_ERROR_PROCESS_FAILED,
                  "the forkserver was stopped while a child was being started");
  else
    sent = send_with_fds (server_socket, body, (const int *) passed->data, passed->len, error);
  g_mutex_unlock (&server_lock);
  close (pair[1]);
  if (!sent)
    {
      close (pair[0]);
      return FALSE;
    }

  if (read_int (pair[0], TRUE, &answer) != 1)
    {
      close (pair[0]);
      explain_server_gone (error);
      return FALSE;
    }
  if (answer <= 0)
    {
      close (pair[0]);
      return mp_set_error_from_errno (error, -answer, "the forkserver could not fork");
    }
  *pid = answer;
  *reply = pair[0];
  return TRUE;
}

/*
 * mp_forkserver_read_status:
 * @reply: the socket mp_forkserver_request() gave
 * @block: wait for it
 * @status: (out): the child's wait status
 *
 * Returns: 1 with @status set; 0 when it has not come yet (never when
 *   @block); -1 when the server ended without sending it.
 */
int
mp_forkserver_read_status (int       reply,
                           gboolean  block,
                           int      *status)
{
  gint32 value = 0;
  int r = read_int (reply, block, &value);

  if (r == 1)
    *status = value;
  return r;
}

/**
 * mp_forkserver_get_pid:
 *
 * Returns: the pid of this process's forkserver, 0 when none runs.
 *
 * Since: 0.1
 */
GPid
mp_forkserver_get_pid (void)
{
  GPid pid = 0;

  g_mutex_lock (&server_lock);
  forget_inherited_server ();
  if (server != NULL)
    pid = mp_process_get_pid (server);
  g_mutex_unlock (&server_lock);
  return pid;
}

/**
 * mp_forkserver_stop:
 * @error: return location for a #GError
 *
 * Stops this process's forkserver, if one runs: it kills the children it
 * forked that still run, reaps them and exits, and is reaped. The next
 * process started with %MP_START_FORKSERVER starts a new server (with the
 * preloads set then). Done at exit too.
 *
 * Returns: %TRUE; %FALSE with @error set when the server ended badly.
 *
 * Since: 0.1
 */
gboolean
mp_forkserver_stop (GError **error)
{
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&server_lock);
  ok = stop_locked (error);
  g_mutex_unlock (&server_lock);
  return ok;
}

static void
stop_at_exit (void)
{
  mp_forkserver_stop (NULL);
}
