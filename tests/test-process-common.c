/* test-process-common.c — what the process and pool suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "test-process-common.h"

struct _TestFd
{
  GObject parent_instance;
  int     fd;
};

G_DEFINE_FINAL_TYPE (TestFd, test_fd, G_TYPE_OBJECT)

static void
test_fd_class_init (TestFdClass *klass)
{
}

static void
test_fd_init (TestFd *self)
{
  self->fd = -1;
}

TestFd *
test_fd_new (int fd)
{
  TestFd *self = g_object_new (TEST_TYPE_FD, NULL);

  self->fd = fd;
  return self;
}

int
test_fd_get_fd (TestFd *self)
{
  g_return_val_if_fail (TEST_IS_FD (self), -1);

  return self->fd;
}

static GVariant *
test_fd_reduce (GObject   *object,
                gpointer   user_data,
                GError   **error)
{
  TestFd *self = TEST_FD (object);

  if (!mp_spawning_keep_fd (self->fd, error))
    return NULL;
  return g_variant_new_int32 (self->fd);
}

static GObject *
test_fd_rebuild (GVariant  *state,
                 gpointer   user_data,
                 GError   **error)
{
  if (!g_variant_is_of_type (state, G_VARIANT_TYPE_INT32))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "TestFd: state is not an int32");
      return NULL;
    }
  return G_OBJECT (test_fd_new (g_variant_get_int32 (state)));
}

MP_INITIALIZER (register_test_fd)
static void
register_test_fd (void)
{
  mp_serialize_register_reducer (TEST_TYPE_FD, MP_TRANSFER_INHERIT_ONLY,
                                 test_fd_reduce, test_fd_rebuild, NULL);
}

void
test_pipe_open (TestPipe *pipe)
{
  int fds[2];
  g_autoptr(GError) error = NULL;

  g_unix_open_pipe (fds, FD_CLOEXEC, &error);
  g_assert_no_error (error);
  pipe->read_end = fds[0];
  pipe->write_end = fds[1];
}

void
test_pipe_close (TestPipe *pipe)
{
  if (pipe->read_end >= 0)
    close (pipe->read_end);
  if (pipe->write_end >= 0)
    close (pipe->write_end);
  pipe->read_end = pipe->write_end = -1;
}

void
test_pipe_release (TestPipe *pipe)
{
  g_assert_true (test_fd_write_all (pipe->write_end, "x", 1));
}

gboolean
test_fd_read_byte (int fd)
{
  char byte;
  ssize_t n;

  do
    n = read (fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

gboolean
test_fd_write_all (int         fd,
                   const void *data,
                   gsize       length)
{
  const char *at = data;

  while (length > 0)
    {
      ssize_t n = write (fd, at, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      at += n;
      length -= n;
    }
  return TRUE;
}

static gboolean
read_exact (int    fd,
            void  *data,
            gsize  length)
{
  char *at = data;

  while (length > 0)
    {
      ssize_t n = read (fd, at, length);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      at += n;
      length -= n;
    }
  return TRUE;
}

/* A message is a 4-byte length and the bytes: a child reports through a
 * pipe without the reader waiting for EOF (other processes may hold the
 * write end). */
gboolean
test_fd_write_message (int           fd,
                       const void   *data,
                       gsize         length)
{
  guint32 n = (guint32) length;

  return test_fd_write_all (fd, &n, sizeof n) && test_fd_write_all (fd, data, length);
}

GBytes *
test_fd_read_message (int fd)
{
  guint32 n;
  g_autofree char *data = NULL;

  if (!read_exact (fd, &n, sizeof n))
    return NULL;
  data = g_malloc (n + 1);
  if (!read_exact (fd, data, n))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&data), n);
}

void
test_assert_no_children (void)
{
  pid_t r;
  int saved;
  g_autoptr(GError) error = NULL;

  /* the forkserver lives on between processes, as it should: stopped
   * here it must reap every child it forked, and be reaped */
  g_assert_true (mp_forkserver_stop (&error));
  g_assert_no_error (error);
  r = waitpid (-1, NULL, WNOHANG);
  saved = errno;

  g_assert_cmpint (r, ==, -1);
  g_assert_cmpint (saved, ==, ECHILD);
}

void
test_add_both_methods (const char    *path_format,
                       GTestDataFunc  func)
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *path = g_strdup_printf (path_format, mp_start_method_to_string (methods[i]));
      g_test_add_data_func (path, GINT_TO_POINTER (methods[i]), func);
    }
}

/* ---- orphans: children of a killed parent ------------------------------- */

#define ORPHAN_BACKSTOP_MS (60 * 1000)

typedef struct
{
  const char    *kind;     /* helper-orphans' first argument */
  MpStartMethod  method;
  int            signum;   /* what kills the helper */
} OrphanCase;

/* Waits until @pid has exited (a zombie counts: its parent is gone, the
 * system reaps it), at most the backstop. Returns FALSE if it still runs. */
gboolean
test_wait_process_gone (pid_t pid,
                        guint backstop_ms)
{
  int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  gint64 deadline;

  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      int n;

      do
        n = poll (&pfd, 1, (int) backstop_ms);
      while (n < 0 && errno == EINTR);
      close (pidfd);
      return n == 1;
    }
  if (errno == ESRCH)
    return TRUE;
  /* no pidfd_open (valgrind 3.19 does not know it): watch /proc, in small
   * steps, for an event outside this process */
  deadline = g_get_monotonic_time () + backstop_ms * (gint64) 1000;
  for (;;)
    {
      g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
      g_autofree char *stat = NULL;

      if (!g_file_get_contents (path, &stat, NULL, NULL) || strstr (stat, ") Z ") != NULL)
        return TRUE;
      if (g_get_monotonic_time () >= deadline)
        return FALSE;
      g_usleep (1000);
    }
}

static gboolean
dir_is_empty (const char *path,
              char      **first)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name = dir != NULL ? g_dir_read_name (dir) : NULL;

  *first = g_strdup (name);
  return name == NULL;
}

static void
test_orphans (gconstpointer data)
{
  const OrphanCase *c = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = g_dir_make_tmp ("mp-orphans-XXXXXX", &error);
  g_autofree char *helper = g_test_build_filename (G_TEST_BUILT, "helper-orphans", NULL);
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr(GSubprocess) parent = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GArray) pids = g_array_new (FALSE, FALSE, sizeof (pid_t));
  g_autoptr(GPtrArray) shms = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) problems = g_string_new (NULL);
  g_autofree char *left = NULL;
  gboolean ready = FALSE;
  int was_subreaper = 0;

  g_assert_no_error (error);
  /* Orphans come to this process instead of init, which may never reap
   * them: each one is reaped here once it has ended. */
  g_assert_cmpint (prctl (PR_GET_CHILD_SUBREAPER, &was_subreaper), ==, 0);
  g_assert_cmpint (prctl (PR_SET_CHILD_SUBREAPER, 1), ==, 0);
  /* the manager's private directory goes here: it must be empty after */
  g_subprocess_launcher_setenv (launcher, "TMPDIR", tmpdir, TRUE);
  parent = g_subprocess_launcher_spawn (launcher, &error, helper, c->kind,
                                        mp_start_method_to_string (c->method), NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (parent));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (out, NULL, NULL, &error);

      g_assert_no_error (error);
      if (line == NULL || g_str_equal (line, "ready"))
        {
          ready = line != NULL;
          break;
        }
      if (g_str_has_prefix (line, "pid "))
        {
          pid_t pid = (pid_t) g_ascii_strtoll (line + 4, NULL, 10);
          g_array_append_val (pids, pid);
        }
      else if (g_str_has_prefix (line, "shm "))
        g_ptr_array_add (shms, g_strdup (line + 4));
    }
  g_assert_true (ready);
  g_test_message ("helper %s: %u descendants", g_subprocess_get_identifier (parent), pids->len);
  g_assert_cmpuint (pids->len, >, 0);

  g_subprocess_send_signal (parent, c->signum);
  g_assert_true (g_subprocess_wait (parent, NULL, &error));
  g_assert_true (g_subprocess_get_if_signaled (parent));
  g_assert_cmpint (g_subprocess_get_term_sig (parent), ==, c->signum);

  /* Each must end on its own; the survivors are killed before the
   * verdict so that a failing run leaves nothing behind either. */
  for (guint i = 0; i < pids->len; i++)
    {
      pid_t pid = g_array_index (pids, pid_t, i);

      if (!test_wait_process_gone (pid, ORPHAN_BACKSTOP_MS))
        {
          g_string_append_printf (problems, " process %d outlived its killed parent;", (int) pid);
          kill (pid, SIGKILL);
        }
      waitpid (pid, NULL, 0);
    }
  prctl (PR_SET_CHILD_SUBREAPER, was_subreaper);
  for (guint i = 0; i < shms->len; i++)
    {
      g_autofree char *path = g_build_filename ("/dev/shm", shms->pdata[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        {
          g_string_append_printf (problems, " %s stayed;", path);
          g_unlink (path);
        }
    }
  if (!dir_is_empty (tmpdir, &left))
    {
      g_autofree char *argv0 = g_find_program_in_path ("rm");
      g_string_append_printf (problems, " %s/%s stayed;", tmpdir, left);
      if (argv0 != NULL)
        g_spawn_sync (NULL, (char *[]) { argv0, "-rf", tmpdir, NULL }, NULL,
                      G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
    }
  else
    g_rmdir (tmpdir);
  g_assert_cmpstr (problems->str, ==, "");
}

/* Adds @prefix/{fork,spawn}/{sigkill,sigterm} for helper-orphans @kind. */
void
test_add_orphan_tests (const char *prefix,
                       const char *kind)
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER };
  static const int signals[] = { SIGKILL, SIGTERM };
  /* static: a trap subprocess exits without freeing the test data */
  static OrphanCase cases[4 * G_N_ELEMENTS (methods) * G_N_ELEMENTS (signals)];
  static guint n_cases;

  for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
    for (gsize s = 0; s < G_N_ELEMENTS (signals); s++)
      {
        OrphanCase *c;
        g_autofree char *path = NULL;

        g_assert_cmpuint (n_cases, <, G_N_ELEMENTS (cases));
        c = &cases[n_cases++];

        c->kind = kind;
        c->method = methods[m];
        c->signum = signals[s];
        path = g_strdup_printf ("%s/%s/%s", prefix, mp_start_method_to_string (methods[m]),
                                signals[s] == SIGKILL ? "sigkill" : "sigterm");
        g_test_add_data_func (path, c, test_orphans);
      }
}

/* The calling thread's id, for test_wait_thread_gone(). */
pid_t
test_gettid (void)
{
  return (pid_t) syscall (SYS_gettid);
}

/* g_thread_join() returns when the thread's stack may be freed, before
 * the kernel has let the thread go (and signalled the children it
 * forked, PR_SET_PDEATHSIG). Its /proc entry goes after that. */
void
test_wait_thread_gone (pid_t tid)
{
  g_autofree char *path = g_strdup_printf ("/proc/self/task/%d", (int) tid);
  gint64 deadline = g_get_monotonic_time () + ORPHAN_BACKSTOP_MS * (gint64) 1000;

  while (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}
