/* test-process-common.c — what the process and pool suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

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
  pid_t r = waitpid (-1, NULL, WNOHANG);
  int saved = errno;

  g_assert_cmpint (r, ==, -1);
  g_assert_cmpint (saved, ==, ECHILD);
}

void
test_add_both_methods (const char    *path_format,
                       GTestDataFunc  func)
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *path = g_strdup_printf (path_format, mp_start_method_to_string (methods[i]));
      g_test_add_data_func (path, GINT_TO_POINTER (methods[i]), func);
    }
}
