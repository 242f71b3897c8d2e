/* mp-connection.c — framed messages between two processes over a socket
 *
 * The counterpart of CPython's multiprocessing.connection.Connection: a
 * stream socket carries length-prefixed frames (mp-frame.c), whole and
 * in order, from any thread; values travel as GVariant.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mpshare.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"

/* Bytes read ahead per recv(): small frames arrive with their header in
 * one system call; larger payloads are read straight into the frame. */
#define READ_AHEAD_SIZE 16384

struct _MpConnection {
  GSocket        *socket;
  /* the GSocketConnection a connect made, if any: kept while the socket
   * is in use, as it closes the socket when it is finalized */
  GIOStream      *stream;
  int             fd;             /* the socket's, for fd_transfer() */
  gint            max_frame;      /* atomic; fits: the limit is G_MAXINT32 */

  /* One frame goes out whole before the next starts. */
  GMutex          send_lock;

  /* Receiving state; a frame cut by a timeout resumes on the next call. */
  GMutex          recv_lock;
  MpFrameDecoder  decoder;
  guint8         *read_ahead;
  gsize           read_start;
  gsize           read_end;

  /* FALSE when other processes read the same stream: no byte past the
   * current frame may be taken (see mp_connection_set_read_ahead()) */
  gboolean        reads_ahead;

  gint            shut_down;      /* atomic: no further use */
  gint            broken;         /* atomic: the stream lost its framing */
  gint            closed;         /* atomic; set under both locks */
};

gboolean
mp_socket_error_is_peer_gone (const GError *gio_error)
{
  return g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* Turns a GIO error of a socket call into ours: the peer being gone is
 * one recognizable code, whatever the way we found out. */
void
mp_set_error_from_socket (GError     **error,
                          GError      *gio_error,
                          const char  *what)
{
  MpError code = MP_ERROR_FAILED;

  if (mp_socket_error_is_peer_gone (gio_error))
    code = MP_ERROR_CONNECTION_CLOSED;
  else if (g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = MP_ERROR_TIMEOUT;

  mp_set_error (error, code, "%s: %s", what, gio_error->message);
}

void
mp_socket_set_nodelay_if_tcp (GSocket *socket)
{
  /* Requests and replies are small and alternate: Nagle would hold a
   * reply back waiting for an acknowledgement that is itself delayed. */
  if (g_socket_get_family (socket) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL);
}

/**
 * mp_connection_new_for_socket: (skip)
 * @socket: a connected stream #GSocket
 *
 * Wraps @socket (a reference is taken). The connection closes the socket
 * when it is closed or its last reference goes.
 *
 * Returns: (transfer full): a new connection
 *
 * Since: 0.1
 */
MpConnection *
mp_connection_new_for_socket (GSocket *socket)
{
  MpConnection *self;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (g_socket_get_socket_type (socket) == G_SOCKET_TYPE_STREAM, NULL);

  self = g_atomic_rc_box_new0 (MpConnection);
  self->socket = g_object_ref (socket);
  self->fd = g_socket_get_fd (socket);
  g_socket_set_blocking (socket, TRUE);
  g_socket_set_timeout (socket, 0);
  /* GSocket keeps its fd non-blocking and makes a blocking receive out of
   * recv (EAGAIN), poll and recv again: three system calls where one
   * does, paid on nearly every reply of a request/reply protocol. So the
   * fd itself blocks (GSocket's calls then go straight to the kernel);
   * waits with a deadline poll first and read only what has arrived. */
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), FALSE, NULL);
  self->max_frame = (gint) MP_CONNECTION_DEFAULT_MAX_FRAME;
  g_mutex_init (&self->send_lock);
  g_mutex_init (&self->recv_lock);
  mp_frame_decoder_init (&self->decoder, MP_CONNECTION_DEFAULT_MAX_FRAME);
  self->read_ahead = g_malloc (READ_AHEAD_SIZE);
  self->reads_ahead = TRUE;
  return self;
}

/* Wraps the socket of @stream, which a GSocketClient connected; @stream
 * stays alive as long as the connection, so the socket does too. */
MpConnection *
mp_connection_new_for_stream (GSocketConnection *stream)
{
  MpConnection *self = mp_connection_new_for_socket (g_socket_connection_get_socket (stream));

  self->stream = g_object_ref (G_IO_STREAM (stream));
  return self;
}

/**
 * mp_connection_new_for_fd: (skip)
 * @fd: a connected stream socket; the connection owns it from now on
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new connection, or %NULL with @error set.
 *   On failure @fd is closed as well, so the caller never leaks it.
 *
 * Since: 0.1
 */
MpConnection *
mp_connection_new_for_fd (int      fd,
                          GError **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (fd >= 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  socket = g_socket_new_from_fd (fd, &local_error);
  if (socket == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "fd %d is not a usable socket: %s", fd, local_error->message);
      close (fd);
      return NULL;
    }
  if (g_socket_get_socket_type (socket) != G_SOCKET_TYPE_STREAM)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "fd %d is not a stream socket; frames need a byte stream", fd);
      return NULL;
    }
  return mp_connection_new_for_socket (socket);
}

/**
 * mp_connection_new_pair:
 * @out_first: (out) (transfer full): one end
 * @out_second: (out) (transfer full): the other end
 * @error: return location for a #GError
 *
 * Two connected ends of a Unix-domain socket pair, like Python's
 * `Pipe(duplex=True)`. No handshake: both ends are trusted by birth.
 *
 * Returns: %TRUE, or %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_connection_new_pair (MpConnection **out_first,
                        MpConnection **out_second,
                        GError       **error)
{
  int fds[2];
  MpConnection *first;

  g_return_val_if_fail (out_first != NULL && out_second != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* GIO has no socketpair(). */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return mp_set_error_from_errno (error, errno, "Creating a socket pair");

  first = mp_connection_new_for_fd (fds[0], error);
  if (first == NULL)
    {
      close (fds[1]);
      return FALSE;
    }
  *out_second = mp_connection_new_for_fd (fds[1], error);
  if (*out_second == NULL)
    {
      mp_connection_unref (first);
      return FALSE;
    }
  *out_first = first;
  return TRUE;
}

/**
 * mp_connection_ref: (skip)
 * @self: a connection
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
MpConnection *
mp_connection_ref (MpConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_atomic_rc_box_acquire (self);
}

static void
connection_free (MpConnection *self)
{
  mp_connection_close (self);
  g_clear_object (&self->socket);
  g_clear_object (&self->stream);
  mp_frame_decoder_clear (&self->decoder);
  g_free (self->read_ahead);
  g_mutex_clear (&self->send_lock);
  g_mutex_clear (&self->recv_lock);
}

/**
 * mp_connection_unref:
 * @self: (transfer full): a connection
 *
 * Drops a reference; the last one closes the connection.
 *
 * Since: 0.1
 */
void
mp_connection_unref (MpConnection *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_rc_box_release_full (self, (GDestroyNotify) connection_free);
}

/**
 * mp_connection_get_socket:
 * @self: a connection
 *
 * Returns: (transfer none): the socket, e.g. to poll its fd; do not read
 *   or write it directly, that would break the framing.
 *
 * Since: 0.1
 */
GSocket *
mp_connection_get_socket (MpConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->socket;
}

/**
 * mp_connection_get_max_frame_size:
 * @self: a connection
 *
 * Returns: the largest payload @self sends or accepts.
 *
 * Since: 0.1
 */
gsize
mp_connection_get_max_frame_size (MpConnection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (gsize) g_atomic_int_get (&self->max_frame);
}

/**
 * mp_connection_set_max_frame_size:
 * @self: a connection
 * @max_frame: 1 to %MP_CONNECTION_MAX_FRAME_LIMIT bytes
 *
 * Sets the largest payload @self sends or accepts. A peer announcing more
 * is cut off with %MP_ERROR_PROTOCOL before anything is allocated.
 *
 * Since: 0.1
 */
void
mp_connection_set_max_frame_size (MpConnection *self,
                                  gsize         max_frame)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_frame >= 1 && max_frame <= MP_CONNECTION_MAX_FRAME_LIMIT);
  g_atomic_int_set (&self->max_frame, (gint) max_frame);
}

/* Stops all traffic: the peer sees the end of the stream and our own
 * threads blocked in send or recv wake up. Safe from any thread. */
void
mp_connection_break (MpConnection *self)
{
  if (g_atomic_int_compare_and_exchange (&self->broken, FALSE, TRUE))
    g_socket_shutdown (self->socket, TRUE, TRUE, NULL);
}

static gboolean
check_usable (MpConnection *self,
              GError      **error)
{
  if (g_atomic_int_get (&self->closed) || g_atomic_int_get (&self->shut_down))
    {
      mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                    "The connection is closed; open a new one");
      return FALSE;
    }
  if (g_atomic_int_get (&self->broken))
    {
      mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                    "The connection was closed after an earlier error"
                    " (the peer went away or sent bad data); open a new one");
      return FALSE;
    }
  return TRUE;
}

/* Sends @len bytes as one frame, without the size check of the public
 * calls (the handshake sends a few bytes before any limit applies). */
gboolean
mp_connection_send_data (MpConnection *self,
                         const guint8 *data,
                         gsize         len,
                         GError      **error)
{
  guint8 header[MP_FRAME_HEADER_SIZE];
  GOutputVector vectors[2];
  GOutputVector *v = vectors;
  guint n_vectors = 2;
  gboolean ok = TRUE;

  mp_frame_encode_header (header, len);
  vectors[0].buffer = header;
  vectors[0].size = sizeof header;
  vectors[1].buffer = data;
  vectors[1].size = len;

  g_mutex_lock (&self->send_lock);
  if (!check_usable (self, error))
    {
      g_mutex_unlock (&self->send_lock);
      return FALSE;
    }

  /* Header and payload leave in one system call; a large payload that
   * does not fit the socket buffer continues where it stopped. */
  while (n_vectors > 0)
    {
      g_autoptr(GError) local_error = NULL;
      gsize written = 0;
      GPollableReturn ret;

      ret = g_socket_send_message_with_timeout (self->socket, NULL, v, (gint) n_vectors,
                                                NULL, 0, 0, -1, &written, NULL,
                                                &local_error);
      if (ret != G_POLLABLE_RETURN_OK)
        {
          if (local_error == NULL)
            g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                 "the socket refused the data");
          /* Part of a frame may be on the wire: nothing sent after it
           * could be framed correctly. */
          mp_connection_break (self);
          mp_set_error_from_socket (error, local_error, "Sending a message");
          ok = FALSE;
          break;
        }
      while (n_vectors > 0 && written >= v->size)
        {
          written -= v->size;
          v++;
          n_vectors--;
        }
      if (n_vectors > 0)
        {
          v->buffer = (const guint8 *) v->buffer + written;
          v->size -= written;
        }
    }
  g_mutex_unlock (&self->send_lock);
  return ok;
}

/* A message above the frame limit is refused before any of it is sent. */
static gboolean
check_frame_size (MpConnection *self,
                  gsize         len,
                  GError      **error)
{
  gsize max_frame = mp_connection_get_max_frame_size (self);

  if (len > max_frame)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "A message of %" G_GSIZE_FORMAT " bytes is larger than"
                    " the frame limit of %" G_GSIZE_FORMAT " bytes; nothing"
                    " was sent. Send less at a time or raise the limit on"
                    " both ends", len, max_frame);
      return FALSE;
    }
  return TRUE;
}

/* The blocking send and receive of every manager call, on the fd itself:
 * its fd blocks (see mp_connection_new_for_socket()), so GSocket's checks
 * and bookkeeping around the same system call are all they would add,
 * and on a round trip of a few microseconds they show. Should the fd not
 * block after all, GSocket does the waiting. Errors are GSocket's. */
static gssize
fd_transfer (MpConnection *self,
             gboolean      sending,
             guint8       *buf,
             gsize         size,
             GError      **error)
{
  for (;;)
    {
      gssize n = sending ? send (self->fd, buf, size, MSG_NOSIGNAL) : recv (self->fd, buf, size, 0);
      int errsv = errno;

      if (n >= 0)
        return n;
      if (errsv == EINTR)
        continue;
      if (errsv == EAGAIN || errsv == EWOULDBLOCK)
        return sending ? g_socket_send_with_blocking (self->socket, (const gchar *) buf, size,
                                                      TRUE, NULL, error)
                       : g_socket_receive_with_blocking (self->socket, (gchar *) buf, size,
                                                         TRUE, NULL, error);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   sending ? "Error sending data: %s" : "Error receiving data: %s",
                   g_strerror (errsv));
      return -1;
    }
}

gboolean
mp_connection_send_frame (MpConnection  *self,
                          GByteArray    *frame,
                          GError       **error)
{
  gsize len, sent = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (frame != NULL && frame->len >= MP_FRAME_HEADER_SIZE, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  len = frame->len - MP_FRAME_HEADER_SIZE;
  if (!check_frame_size (self, len, error))
    return FALSE;
  mp_frame_encode_header (frame->data, len);

  g_mutex_lock (&self->send_lock);
  if (!check_usable (self, error))
    {
      g_mutex_unlock (&self->send_lock);
      return FALSE;
    }
  while (sent < frame->len)
    {
      g_autoptr(GError) local_error = NULL;
      gssize n = fd_transfer (self, TRUE, frame->data + sent, frame->len - sent, &local_error);

      if (n <= 0)
        {
          if (local_error == NULL)
            g_set_error_literal (&local_error, G_IO_ERROR, G_IO_ERROR_FAILED,
                                 "the socket refused the data");
          /* part of a frame may be on the wire (see mp_connection_send_data()) */
          mp_connection_break (self);
          mp_set_error_from_socket (error, local_error, "Sending a message");
          ok = FALSE;
          break;
        }
      sent += (gsize) n;
    }
  g_mutex_unlock (&self->send_lock);
  return ok;
}

/**
 * mp_connection_send_bytes:
 * @self: a connection
 * @payload: the message
 * @error: return location for a #GError
 *
 * Sends @payload as one frame, blocking until the socket took all of it.
 * Concurrent senders never interleave their frames.
 *
 * Returns: %TRUE, or %FALSE with @error set: %MP_ERROR_INVALID_ARGUMENT
 *   when @payload is above the frame-size limit (nothing was sent),
 *   %MP_ERROR_CONNECTION_CLOSED when the peer is gone.
 *
 * Since: 0.1
 */
gboolean
mp_connection_send_bytes (MpConnection *self,
                          GBytes       *payload,
                          GError      **error)
{
  gsize len = 0;
  const guint8 *data;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (payload != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = g_bytes_get_data (payload, &len);
  return check_frame_size (self, len, error) && mp_connection_send_data (self, data, len, error);
}

/* Reads what is available, waiting until @deadline. Returns the count,
 * 0 at the end of the stream, -1 with @error set. */
static gssize
socket_read (MpConnection *self,
             guint8       *buf,
             gsize         size,
             gint64        deadline,
             GError      **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      gssize n;

      if (deadline < 0)
        n = fd_transfer (self, FALSE, buf, size, &local_error);
      else
        {
          if (!g_socket_condition_timed_wait (self->socket, G_IO_IN,
                                              mp_deadline_remaining_us (deadline), NULL,
                                              &local_error))
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                mp_set_error (error, MP_ERROR_TIMEOUT,
                              "No message arrived in time; the connection"
                              " stays usable, call again to keep waiting");
              else
                mp_set_error_from_socket (error, local_error, "Waiting for a message");
              return -1;
            }
          n = g_socket_receive_with_blocking (self->socket, (gchar *) buf, size,
                                              FALSE, NULL, &local_error);
          if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            continue;
        }

      if (n < 0)
        {
          mp_set_error_from_socket (error, local_error, "Receiving a message");
          return -1;
        }
      return n;
    }
}

/* Lends the frame at the start of the read-ahead buffer when all of it
 * is there: no copy, no allocation. */
static gboolean
lend_frame (MpConnection  *self,
            gsize          limit,
            MpFrame       *frame,
            gboolean      *lent,
            GError       **error)
{
  const guint8 *head = self->read_ahead + self->read_start;
  gsize avail = self->read_end - self->read_start, len;

  *lent = FALSE;
  if (mp_frame_decoder_is_mid_frame (&self->decoder) || avail < MP_FRAME_HEADER_SIZE)
    return TRUE;
  if (!mp_frame_parse_header (head, limit, &len, error))
    return FALSE;
  if (len > avail - MP_FRAME_HEADER_SIZE)
    return TRUE;
  frame->data = head + MP_FRAME_HEADER_SIZE;
  frame->len = len;
  frame->bytes = NULL;
  self->read_start += MP_FRAME_HEADER_SIZE + len;
  *lent = TRUE;
  return TRUE;
}

/* @may_lend: a frame that arrived whole in the read-ahead buffer may be
 * lent (@frame->bytes NULL) rather than copied out */
static gboolean
recv_frame (MpConnection *self,
            gsize         limit,
            gint64        deadline,
            gboolean      may_lend,
            MpFrame      *frame,
            GError      **error)
{
  GBytes *bytes = NULL;
  gboolean lent = FALSE;

  g_mutex_lock (&self->recv_lock);
  if (!check_usable (self, error))
    goto out;

  self->decoder.max_frame = limit;
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      guint8 *target;
      gsize space;
      gboolean direct;
      gssize n;

      if (may_lend && !lend_frame (self, limit, frame, &lent, error))
        {
          mp_connection_break (self);
          goto out;
        }
      if (lent)
        goto out;

      /* Frames already read ahead come first. */
      if (self->read_start < self->read_end)
        {
          gssize used = mp_frame_decoder_feed (&self->decoder,
                                               self->read_ahead + self->read_start,
                                               self->read_end - self->read_start,
                                               &bytes, error);
          if (used < 0)
            {
              mp_connection_break (self);
              goto out;
            }
          self->read_start += (gsize) used;
          if (self->read_start == self->read_end)
            self->read_start = self->read_end = 0;
          if (bytes != NULL)
            goto out;
        }

      /* The rest of a large payload goes straight into the frame; so
       * does any payload when nothing past the frame may be read. */
      target = mp_frame_decoder_payload_space (&self->decoder, &space);
      direct = target != NULL && (space >= READ_AHEAD_SIZE || !self->reads_ahead);
      if (!direct)
        {
          /* the buffer is used up; a frame lent from it is done with,
           * as its caller is receiving again */
          self->read_start = self->read_end = 0;
          target = self->read_ahead;
          space = self->reads_ahead ? READ_AHEAD_SIZE
                                    : MP_FRAME_HEADER_SIZE - self->decoder.header_got;
        }

      n = socket_read (self, target, space, deadline, &local_error);
      if (n < 0)
        {
          if (!g_error_matches (local_error, MP_ERROR, MP_ERROR_TIMEOUT))
            mp_connection_break (self);
          g_propagate_error (error, g_steal_pointer (&local_error));
          goto out;
        }
      if (n == 0)
        {
          if (g_atomic_int_get (&self->shut_down))
            mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                          "The connection was shut down while waiting for a message");
          else if (mp_frame_decoder_is_mid_frame (&self->decoder))
            mp_set_error (error, MP_ERROR_PROTOCOL,
                          "The peer closed the connection in the middle of a"
                          " message (%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                          " payload bytes arrived); the message is lost",
                          self->decoder.payload_got, self->decoder.payload_len);
          else
            mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                          "The peer closed the connection (end of stream);"
                          " it has exited or dropped us");
          mp_frame_decoder_clear (&self->decoder);
          mp_connection_break (self);
          goto out;
        }

      if (direct)
        {
          bytes = mp_frame_decoder_payload_commit (&self->decoder, (gsize) n);
          if (bytes != NULL)
            goto out;
        }
      else
        {
          self->read_start = 0;
          self->read_end = (gsize) n;
        }
    }

out:
  g_mutex_unlock (&self->recv_lock);
  if (bytes != NULL)
    mp_frame_take_bytes (frame, bytes);
  return lent || bytes != NULL;
}

/* Receives one frame of at most @limit bytes by @deadline (the handshake
 * allows less than the connection's limit). */
GBytes *
mp_connection_recv_limited (MpConnection *self,
                            gsize         limit,
                            gint64        deadline,
                            GError      **error)
{
  MpFrame frame;

  if (!recv_frame (self, limit, deadline, FALSE, &frame, error))
    return NULL;
  return frame.bytes;
}


/* Copies into @buf what arrived but no receive took yet: the bytes read
 * ahead, then those waiting in the socket, without waiting. Nothing at
 * all in the middle of a frame, whose start is gone from the buffer. */
gsize
mp_connection_peek (MpConnection *self,
                    guint8       *buf,
                    gsize         size)
{
  gsize len;
  gssize n;

  if (mp_frame_decoder_is_mid_frame (&self->decoder))
    return 0;
  len = MIN (self->read_end - self->read_start, size);
  memcpy (buf, self->read_ahead + self->read_start, len);
  n = recv (self->fd, buf + len, size - len, MSG_DONTWAIT | MSG_PEEK);
  return n > 0 ? len + (gsize) n : len;
}

/**
 * mp_connection_recv_frame:
 * @self: a connection
 * @timeout_us: as for mp_connection_recv_bytes()
 * @frame: (out caller-allocates): the frame; clear it with
 *   mp_frame_clear()
 * @error: return location for a #GError
 *
 * Receives one whole frame, as mp_connection_recv_bytes() does, but a
 * small one that arrived whole is lent rather than copied into a new
 * #GBytes: @frame->bytes is then %NULL and @frame->data points into @self
 * until the next receive on it. For a connection one thread reads, that
 * is done with each frame before it reads the next: a manager's.
 *
 * Returns: %TRUE, or %FALSE with @error set as by
 *   mp_connection_recv_bytes().
 */
gboolean
mp_connection_recv_frame (MpConnection  *self,
                          gint64         timeout_us,
                          MpFrame       *frame,
                          GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (frame != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return recv_frame (self, mp_connection_get_max_frame_size (self),
                     mp_deadline_from_timeout (timeout_us), TRUE, frame, error);
}

/**
 * mp_connection_set_read_ahead:
 * @self: a connection
 * @read_ahead: whether a receive may read past the frame it returns
 *
 * A connection reads ahead by default: bytes of the next frame come in
 * with this one, saving a system call per small frame. A stream that
 * several processes read in turn (a pool's request queue, each reader
 * taking one whole frame under a lock) must not: bytes read ahead would
 * be lost to the others. Without read-ahead a frame costs two reads, its
 * length and its payload, and nothing more leaves the socket.
 */
void
mp_connection_set_read_ahead (MpConnection *self,
                              gboolean      read_ahead)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->recv_lock);
  self->reads_ahead = read_ahead;
  g_mutex_unlock (&self->recv_lock);
}

/**
 * mp_connection_recv_bytes:
 * @self: a connection
 * @timeout_us: how long to wait; negative waits for ever, 0 not at all
 * @error: return location for a #GError
 *
 * Receives one whole frame. On %MP_ERROR_TIMEOUT the connection stays
 * usable (a frame cut in half is resumed by the next call); any other
 * error closes it: %MP_ERROR_CONNECTION_CLOSED when the peer went away
 * between frames, %MP_ERROR_PROTOCOL for an oversize frame or one cut
 * short by the end of the stream.
 *
 * Returns: (transfer full): the payload, or %NULL with @error set.
 *
 * Since: 0.1
 */
GBytes *
mp_connection_recv_bytes (MpConnection *self,
                          gint64        timeout_us,
                          GError      **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return mp_connection_recv_limited (self, mp_connection_get_max_frame_size (self),
                                     mp_deadline_from_timeout (timeout_us), error);
}

/**
 * mp_connection_poll:
 * @self: a connection
 * @timeout_us: how long to wait; negative waits for ever, 0 not at all
 *
 * Returns: %TRUE when mp_connection_recv_bytes() would not wait: data has
 *   arrived, or the stream ended (recv then reports why). %FALSE when
 *   nothing came in time or the connection is closed.
 *
 * Since: 0.1
 */
gboolean
mp_connection_poll (MpConnection *self,
                    gint64        timeout_us)
{
  gboolean ready;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->recv_lock);
  if (g_atomic_int_get (&self->closed) || g_atomic_int_get (&self->shut_down))
    ready = FALSE;
  else if (g_atomic_int_get (&self->broken) || self->read_start < self->read_end)
    ready = TRUE;
  else
    ready = g_socket_condition_timed_wait (self->socket, G_IO_IN,
                                           timeout_us < 0 ? -1 : timeout_us,
                                           NULL, NULL);
  g_mutex_unlock (&self->recv_lock);
  return ready;
}

/**
 * mp_connection_send_variant:
 * @self: a connection
 * @value: a #GVariant (a floating one is consumed)
 * @error: return location for a #GError
 *
 * Sends the serialized bytes of @value as one frame. The type does not
 * travel: the receiver names the type it expects.
 *
 * Returns: %TRUE, or %FALSE with @error set.
 *
 * Since: 0.1
 */
gboolean
mp_connection_send_variant (MpConnection *self,
                            GVariant     *value,
                            GError      **error)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  owned = g_variant_ref_sink (value);
  bytes = g_variant_get_data_as_bytes (owned);
  return mp_connection_send_bytes (self, bytes, error);
}

/**
 * mp_connection_variant_from_frame:
 * @frame: bytes from a peer (untrusted)
 * @type: the definite type the receiver expects
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the value, only if @frame is the normal form
 *   of a @type value; otherwise %NULL with %MP_ERROR_PROTOCOL.
 */
GVariant *
mp_connection_variant_from_frame (GBytes             *frame,
                                  const GVariantType *type,
                                  GError            **error)
{
  g_autoptr(GVariant) value = NULL;

  value = g_variant_ref_sink (g_variant_new_from_bytes (type, frame, FALSE));
  if (!g_variant_is_normal_form (value))
    {
      g_autofree char *type_string = g_variant_type_dup_string (type);

      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "A message of %" G_GSIZE_FORMAT " bytes is not a valid"
                    " '%s' value; it was dropped", g_bytes_get_size (frame),
                    type_string);
      return NULL;
    }
  return g_steal_pointer (&value);
}

/**
 * mp_connection_recv_variant:
 * @self: a connection
 * @type: the definite type expected
 * @timeout_us: as for mp_connection_recv_bytes()
 * @error: return location for a #GError
 *
 * Receives one frame and reads it as a @type value. A frame that is not
 * the normal form of such a value fails with %MP_ERROR_PROTOCOL; the
 * framing is intact, so the connection stays open and the caller decides.
 *
 * Returns: (transfer full): the value, or %NULL with @error set.
 *
 * Since: 0.1
 */
GVariant *
mp_connection_recv_variant (MpConnection       *self,
                            const GVariantType *type,
                            gint64              timeout_us,
                            GError            **error)
{
  g_autoptr(GBytes) frame = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (type != NULL && g_variant_type_is_definite (type), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  frame = mp_connection_recv_bytes (self, timeout_us, error);
  if (frame == NULL)
    return NULL;
  return mp_connection_variant_from_frame (frame, type, error);
}

/**
 * mp_connection_shutdown:
 * @self: a connection
 *
 * Ends all traffic on @self, for every process sharing the socket (a
 * forked copy included). Safe to call from any thread: threads blocked in
 * send or recv on @self return with %MP_ERROR_CONNECTION_CLOSED, and the
 * peer sees the end of the stream. The socket stays allocated until
 * mp_connection_close() or the last unref.
 *
 * Since: 0.1
 */
void
mp_connection_shutdown (MpConnection *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_int_compare_and_exchange (&self->shut_down, FALSE, TRUE))
    g_socket_shutdown (self->socket, TRUE, TRUE, NULL);
}

/**
 * mp_connection_close:
 * @self: a connection
 *
 * Releases this process's socket. Like closing any fd, it leaves a copy
 * inherited by (or from) another process working; the peer sees the end
 * of the stream once no process holds the socket any more. A send or recv
 * in progress in another thread is waited for: call
 * mp_connection_shutdown() first to make it return. Idempotent; later
 * calls fail with %MP_ERROR_CONNECTION_CLOSED.
 *
 * Since: 0.1
 */
void
mp_connection_close (MpConnection *self)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->send_lock);
  g_mutex_lock (&self->recv_lock);
  if (!g_atomic_int_get (&self->closed))
    {
      g_atomic_int_set (&self->closed, TRUE);
      g_socket_close (self->socket, NULL);
      mp_frame_decoder_clear (&self->decoder);
      self->read_start = self->read_end = 0;
    }
  g_mutex_unlock (&self->recv_lock);
  g_mutex_unlock (&self->send_lock);
}

/**
 * mp_connection_is_closed:
 * @self: a connection
 *
 * Returns: %TRUE once @self can carry no more messages: closed, shut
 *   down, or cut off after an error.
 *
 * Since: 0.1
 */
gboolean
mp_connection_is_closed (MpConnection *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return g_atomic_int_get (&self->closed) || g_atomic_int_get (&self->shut_down) ||
         g_atomic_int_get (&self->broken);
}

/**
 * mp_connection_error_is_peer_gone:
 * @error: (nullable): an error from this module
 *
 * The one test the manager layer needs to turn a vanished server into
 * %MP_ERROR_MANAGER_CLOSED: the end of the stream, a reset, a broken pipe,
 * a refused connection or a missing socket file all count.
 *
 * Returns: %TRUE when @error says the peer is gone.
 *
 * Since: 0.1
 */
gboolean
mp_connection_error_is_peer_gone (const GError *error)
{
  return g_error_matches (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
}
