/* mp-resource-tracker.c — unlinks the shared memory of a creator that died
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * CPython's resource_tracker is one process for a whole tree, started by
 * exec and fed over a pipe every child inherits. mpshare's creator owns
 * its blocks (only it unlinks them, see mp-shared-memory.c), so each
 * creating process gets a tracker of its own: a forked child that holds
 * one end of a SOCK_SEQPACKET pair, the creator the other. One packet per
 * event, "R" or "U" followed by the name (register, unregister).
 *
 * The creator's end is a parent end (mp_fd_add_parent_end()): closed in
 * every forked child, close-on-exec for spawned ones, so the tracker reads
 * end-of-file exactly when its creator is gone. Should a plain fork() of
 * the program's own keep a copy, the parent-death signal still ends the
 * wait. The tracker ignores SIGINT and SIGTERM (as CPython's: a Ctrl-C or
 * a kill of the process group must not take it before its creator).
 *
 * The tracker is forked from a process that may run other threads, so
 * between fork() and _exit() it calls only async-signal-safe functions,
 * plus malloc() and free(), which glibc makes safe in a forked child.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mp-process-private.h"
#include "mp-resource-tracker-private.h"

#define MESSAGE_MAX (1 + MP_RESOURCE_NAME_MAX)

/* ---- the tracker process ---------------------------------------------------- */

static volatile sig_atomic_t tracker_creator;
static volatile sig_atomic_t tracker_socket = -1;

/* The creator died while another process still holds its end: end the
 * wait as end-of-file would. */
static void
on_creator_death (int signum)
{
  int saved_errno = errno;

  if (getppid () != tracker_creator)
    shutdown (tracker_socket, SHUT_RD);
  errno = saved_errno;
}

static void
write_text (const char *text)
{
  gsize length = strlen (text);

  while (length > 0)
    {
      ssize_t n = write (STDERR_FILENO, text, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return;
      text += n;
      length -= n;
    }
}

typedef struct
{
  char  **names;
  gsize   n;
  gsize   size;
} NameSet;

static void
names_add (NameSet    *set,
           const char *name)
{
  for (gsize i = 0; i < set->n; i++)
    if (strcmp (set->names[i], name) == 0)
      return;
  if (set->n == set->size)
    {
      gsize size = MAX (set->size * 2, 16);
      char **grown = realloc (set->names, size * sizeof (char *));

      if (grown == NULL)
        return;
      set->names = grown;
      set->size = size;
    }
  set->names[set->n] = strdup (name);
  if (set->names[set->n] != NULL)
    set->n++;
}

static void
names_remove (NameSet    *set,
              const char *name)
{
  for (gsize i = 0; i < set->n; i++)
    if (strcmp (set->names[i], name) == 0)
      {
        free (set->names[i]);
        set->names[i] = set->names[--set->n];
        return;
      }
}

/* What the creator left: unlink it all, then say so in Python's words. */
static void
clean_up (NameSet *set,
          pid_t    creator)
{
  char text[512];
  guint leaked = 0;

  for (gsize i = 0; i < set->n; i++)
    {
      char path[MESSAGE_MAX + 1];

      snprintf (path, sizeof path, "/%s", set->names[i]);
      if (shm_unlink (path) == 0)
        {
          leaked++;
          continue;
        }
      /* ENOENT: another process unlinked it; nothing was leaked */
      if (errno != ENOENT)
        {
          snprintf (text, sizeof text, "mpshare: resource_tracker: '%s': %s\n", set->names[i],
                    strerror (errno));
          write_text (text);
        }
      set->names[i][0] = '\0';
    }
  if (leaked == 0)
    return;
  snprintf (text, sizeof text,
            "mpshare: resource_tracker: There appear to be %u leaked shared_memory\n"
            "  objects to clean up at shutdown: process %d ended without unlinking\n",
            leaked, (int) creator);
  write_text (text);
  for (gsize i = 0; i < set->n; i++)
    if (set->names[i][0] != '\0')
      {
        snprintf (text, sizeof text, "  \"%s\" (unlinked now)\n", set->names[i]);
        write_text (text);
      }
}

G_GNUC_NORETURN static void
tracker_main (int   socket,
              pid_t creator)
{
  struct sigaction ignore = { .sa_handler = SIG_IGN };
  struct sigaction death = { .sa_handler = on_creator_death };
  NameSet set = { 0 };
  sigset_t mask;
  int null;

  sigemptyset (&ignore.sa_mask);
  sigemptyset (&death.sa_mask);
  sigaction (SIGINT, &ignore, NULL);
  sigaction (SIGTERM, &ignore, NULL);
  sigaction (SIGHUP, &ignore, NULL);

  /* Nothing of the creator's but this socket and stderr: in particular
   * not the stdout a reader waits to end. */
  if (socket != 3)
    {
      dup2 (socket, 3);
      socket = 3;
    }
  close_range (4, ~0U, 0);
  null = open ("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0)
    {
      dup2 (null, STDIN_FILENO);
      dup2 (null, STDOUT_FILENO);
      close (null);
    }

  tracker_creator = creator;
  tracker_socket = socket;
  sigaction (MP_PARENT_DEATH_SIGNAL, &death, NULL);
  prctl (PR_SET_PDEATHSIG, MP_PARENT_DEATH_SIGNAL);
  sigfillset (&mask);
  sigprocmask (SIG_UNBLOCK, &mask, NULL);
  if (getppid () != creator)
    shutdown (socket, SHUT_RD);

  for (;;)
    {
      char message[MESSAGE_MAX + 1];
      ssize_t n = recv (socket, message, MESSAGE_MAX, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      message[n] = '\0';
      if (message[0] == 'R' && n > 1)
        names_add (&set, message + 1);
      else if (message[0] == 'U' && n > 1)
        names_remove (&set, message + 1);
    }
  clean_up (&set, creator);
  _exit (0);
}

/* ---- the creator's side ------------------------------------------------------ */

static GMutex      lock;
static int         tracker_fd = -1;   /* our end */
static GPid        tracker_pid;
static GPid        tracker_owner;     /* the process tracker_fd belongs to */
static GHashTable *registered;        /* names, to tell a relaunched tracker */

static void
atfork_prepare (void)
{
  g_mutex_lock (&lock);
}

static void
atfork_release (void)
{
  g_mutex_unlock (&lock);
}

/* A forked child has no tracker yet: the fd it inherited was closed with
 * the other parent ends; the rest is reset at its first use. */
static void
forget_inherited_locked (void)
{
  if (tracker_owner == getpid ())
    return;
  tracker_fd = -1;
  tracker_pid = 0;
  tracker_owner = getpid ();
  if (registered != NULL)
    g_hash_table_remove_all (registered);
}

/* Forks a tracker and makes it ours. Returns FALSE with errno set. Not
 * under the lock: the atfork handlers take it. */
static gboolean
start_tracker (int  *fd,
               GPid *pid)
{
  int pair[2];
  pid_t creator = getpid ();
  int saved_errno;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return FALSE;
  /* before fork: no child, the tracker included, keeps our end */
  mp_fd_add_parent_end (pair[1]);
  *pid = fork ();
  if (*pid == 0)
    tracker_main (pair[0], creator);
  saved_errno = errno;
  close (pair[0]);
  if (*pid < 0)
    {
      mp_fd_close_parent_end (pair[1]);
      errno = saved_errno;
      return FALSE;
    }
  *fd = pair[1];
  return TRUE;
}

static gboolean
send_message (int         fd,
              char        kind,
              const char *name)
{
  char message[MESSAGE_MAX];
  gsize length = strlen (name);
  ssize_t n;

  message[0] = kind;
  memcpy (message + 1, name, length);
  do
    n = send (fd, message, 1 + length, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t) (1 + length);
}

/* Starts a tracker unless one runs, and tells a new one what the old one
 * knew (CPython relaunches a dead tracker too). */
static gboolean
ensure_tracker (GError **error)
{
  GHashTableIter iter;
  gpointer name;
  int fd = -1;
  GPid pid = 0;

  g_mutex_lock (&lock);
  forget_inherited_locked ();
  if (tracker_fd >= 0)
    {
      g_mutex_unlock (&lock);
      return TRUE;
    }
  g_mutex_unlock (&lock);

  if (!start_tracker (&fd, &pid))
    return mp_set_error_from_errno (error, errno, "starting the resource tracker");

  g_mutex_lock (&lock);
  forget_inherited_locked ();
  if (tracker_fd >= 0)
    {
      /* another thread was quicker: ours ends at once, with nothing */
      g_mutex_unlock (&lock);
      mp_fd_close_parent_end (fd);
      return TRUE;
    }
  tracker_fd = fd;
  tracker_pid = pid;
  if (registered != NULL)
    {
      g_hash_table_iter_init (&iter, registered);
      while (g_hash_table_iter_next (&iter, &name, NULL))
        send_message (tracker_fd, 'R', name);
    }
  g_mutex_unlock (&lock);
  return TRUE;
}

static void
install_atfork (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      pthread_atfork (atfork_prepare, atfork_release, atfork_release);
      g_once_init_leave (&once, 1);
    }
}

/* Drops a tracker that no longer reads (it was killed). */
static void
drop_dead_tracker_locked (int fd)
{
  if (tracker_fd != fd)
    return;
  mp_fd_close_parent_end (tracker_fd);
  tracker_fd = -1;
  tracker_pid = 0;
}

/*
 * mp_resource_tracker_register:
 * @name: a block of shared memory this process just created
 *
 * From now on the name is unlinked if this process ends before it calls
 * mp_resource_tracker_unregister().
 */
gboolean
mp_resource_tracker_register (const char  *name,
                              GError     **error)
{
  g_return_val_if_fail (name != NULL && *name != '\0', FALSE);
  g_return_val_if_fail (strlen (name) <= MP_RESOURCE_NAME_MAX, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  install_atfork ();
  for (int attempt = 0; attempt < 2; attempt++)
    {
      gboolean sent;
      int fd;

      if (!ensure_tracker (error))
        return FALSE;
      g_mutex_lock (&lock);
      if (registered == NULL)
        registered = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_add (registered, g_strdup (name));
      fd = tracker_fd;
      sent = fd >= 0 && send_message (fd, 'R', name);
      if (!sent)
        drop_dead_tracker_locked (fd);
      g_mutex_unlock (&lock);
      if (sent)
        return TRUE;
    }
  mp_set_error (error, MP_ERROR_FAILED,
                "the resource tracker of process %d does not answer: \"%s\" would not be "
                "unlinked if this process died", (int) getpid (), name);
  return FALSE;
}

/*
 * mp_resource_tracker_unregister:
 * @name: a name this process registered and has now unlinked
 */
void
mp_resource_tracker_unregister (const char *name)
{
  g_return_if_fail (name != NULL);

  g_mutex_lock (&lock);
  forget_inherited_locked ();
  if (registered != NULL && g_hash_table_remove (registered, name) && tracker_fd >= 0 &&
      !send_message (tracker_fd, 'U', name))
    drop_dead_tracker_locked (tracker_fd);
  g_mutex_unlock (&lock);
}

/**
 * mp_resource_tracker_get_pid:
 *
 * The tracker of this process, started by its first
 * mp_shared_memory_create(). Its exit is the moment this process's
 * leftovers are gone: a parent that killed a child can wait for the
 * child's tracker to exit, then find its shared memory unlinked.
 *
 * Returns: the pid of this process's resource tracker, or 0 when this
 *   process has none (it created no shared memory).
 *
 * Since: 0.1
 */
GPid
mp_resource_tracker_get_pid (void)
{
  GPid pid;

  g_mutex_lock (&lock);
  forget_inherited_locked ();
  pid = tracker_pid;
  g_mutex_unlock (&lock);
  return pid;
}
