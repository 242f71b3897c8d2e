/* mp-connection.c — framed messages over sockets, the HMAC handshake, listeners
 *
 * The counterpart of CPython's multiprocessing/connection.py: a stream
 * socket carries length-prefixed frames; before anything else both ends
 * prove they hold the same auth key with an HMAC-SHA256 challenge each.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>

#include "mpshare.h"
#include "mp-connection.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"

/* Bytes read ahead per recv(): small frames arrive with their header in
 * one system call; larger payloads are read straight into the frame. */
#define READ_AHEAD_SIZE 16384

#define SOCKET_FILE_NAME "listener"
/* below this many bytes a listener's key draws a warning */
#define MP_LISTENER_MIN_GOOD_KEY 16
#define LISTEN_BACKLOG 128

/* ------------------------------------------------------------------ */
/* frames                                                               */
/* ------------------------------------------------------------------ */

/**
 * mp_frame_encode_header:
 * @header: (out caller-allocates): 4 bytes
 * @payload_len: at most %MP_CONNECTION_MAX_FRAME_LIMIT
 *
 * Writes the big-endian length prefix of a frame.
 */
void
mp_frame_encode_header (guint8 header[MP_FRAME_HEADER_SIZE],
                        gsize  payload_len)
{
  guint32 be;

  g_return_if_fail (payload_len <= MP_CONNECTION_MAX_FRAME_LIMIT);

  be = GUINT32_TO_BE ((guint32) payload_len);
  memcpy (header, &be, sizeof be);
}

/**
 * mp_frame_parse_header:
 * @header: the 4 bytes of a length prefix, straight from the peer
 * @max_frame: the largest payload the receiver accepts
 * @out_payload_len: (out): the announced payload length
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_PROTOCOL when the peer
 *   announces more than @max_frame bytes.
 */
gboolean
mp_frame_parse_header (const guint8   header[MP_FRAME_HEADER_SIZE],
                       gsize          max_frame,
                       gsize         *out_payload_len,
                       GError       **error)
{
  guint32 be;
  gsize len;

  memcpy (&be, header, sizeof be);
  len = GUINT32_FROM_BE (be);
  if (len > max_frame)
    {
      /* CPython announces payloads over 2 GiB as -1 plus an 8-byte
       * length; that is above any limit we allow, so it lands here too. */
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The peer announced a frame of %" G_GSIZE_FORMAT
                    " bytes, more than the limit of %" G_GSIZE_FORMAT
                    " (256 during the auth handshake, otherwise set with"
                    " mp_connection_set_max_frame_size()); the connection"
                    " was closed", len, max_frame);
      return FALSE;
    }
  *out_payload_len = len;
  return TRUE;
}

void
mp_frame_decoder_init (MpFrameDecoder *self,
                       gsize           max_frame)
{
  memset (self, 0, sizeof *self);
  self->max_frame = max_frame;
}

void
mp_frame_decoder_clear (MpFrameDecoder *self)
{
  g_clear_pointer (&self->payload, g_free);
  self->header_got = 0;
  self->payload_len = 0;
  self->payload_got = 0;
}

/* TRUE when part of a frame has been taken in: an end of stream now
 * means the peer stopped in the middle of a message. */
gboolean
mp_frame_decoder_is_mid_frame (const MpFrameDecoder *self)
{
  return self->header_got > 0;
}

static GBytes *
take_frame (MpFrameDecoder *self)
{
  GBytes *frame;

  if (self->payload_len == 0)
    {
      g_clear_pointer (&self->payload, g_free);
      frame = g_bytes_new (NULL, 0);
    }
  else
    frame = g_bytes_new_take (g_steal_pointer (&self->payload), self->payload_len);

  self->header_got = 0;
  self->payload_len = 0;
  self->payload_got = 0;
  return frame;
}

static gboolean
header_complete (MpFrameDecoder *self,
                 GError        **error)
{
  gsize len;

  if (!mp_frame_parse_header (self->header, self->max_frame, &len, error))
    return FALSE;

  self->payload_len = len;
  self->payload_got = 0;
  if (len > 0)
    {
      self->payload = g_try_malloc (len);
      if (self->payload == NULL)
        {
          mp_set_error (error, MP_ERROR_FAILED,
                        "Out of memory for a frame of %" G_GSIZE_FORMAT
                        " bytes; the connection was closed", len);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * mp_frame_decoder_feed:
 * @self: a decoder
 * @data: (array length=len): bytes from the peer
 * @len: how many
 * @out_frame: (out) (transfer full) (nullable): set to the frame when one
 *   is complete, otherwise to %NULL
 * @error: return location for a #GError
 *
 * Takes in bytes up to the end of the current frame and no further, so
 * the caller keeps what follows for the next call.
 *
 * Returns: how many bytes of @data were used, or -1 with @error set when
 *   the stream cannot be trusted any more (the decoder is then reset).
 */
gssize
mp_frame_decoder_feed (MpFrameDecoder *self,
                       const guint8   *data,
                       gsize           len,
                       GBytes        **out_frame,
                       GError        **error)
{
  gsize used = 0;

  g_return_val_if_fail (data != NULL || len == 0, -1);
  g_return_val_if_fail (len <= G_MAXSSIZE, -1);

  *out_frame = NULL;

  if (self->header_got < MP_FRAME_HEADER_SIZE)
    {
      gsize n = MIN (len, MP_FRAME_HEADER_SIZE - self->header_got);

      if (n > 0)
        memcpy (self->header + self->header_got, data, n);
      self->header_got += n;
      used += n;
      if (self->header_got < MP_FRAME_HEADER_SIZE)
        return (gssize) used;
      if (!header_complete (self, error))
        {
          mp_frame_decoder_clear (self);
          return -1;
        }
    }

  {
    gsize n = MIN (len - used, self->payload_len - self->payload_got);

    if (n > 0)
      memcpy (self->payload + self->payload_got, data + used, n);
    self->payload_got += n;
    used += n;
  }

  if (self->payload_got == self->payload_len)
    *out_frame = take_frame (self);

  return (gssize) used;
}

/**
 * mp_frame_decoder_payload_space:
 * @self: a decoder
 * @out_space: (out): how many payload bytes are still missing
 *
 * Lets the caller read the rest of a large payload straight into the
 * frame instead of through its read-ahead buffer.
 *
 * Returns: (nullable): where the next payload byte goes, or %NULL when no
 *   payload is being filled.
 */
guint8 *
mp_frame_decoder_payload_space (MpFrameDecoder *self,
                                gsize          *out_space)
{
  *out_space = 0;
  if (self->header_got < MP_FRAME_HEADER_SIZE || self->payload == NULL)
    return NULL;
  *out_space = self->payload_len - self->payload_got;
  return self->payload + self->payload_got;
}

/* Counts @n bytes written at mp_frame_decoder_payload_space(); returns the
 * frame when that completed it. */
GBytes *
mp_frame_decoder_payload_commit (MpFrameDecoder *self,
                                 gsize           n)
{
  g_return_val_if_fail (self->payload != NULL, NULL);
  g_return_val_if_fail (n <= self->payload_len - self->payload_got, NULL);

  self->payload_got += n;
  if (self->payload_got < self->payload_len)
    return NULL;
  return take_frame (self);
}

/* ------------------------------------------------------------------ */
/* handshake messages                                                   */
/* ------------------------------------------------------------------ */

static gboolean
random_bytes (guint8  *buf,
              gsize    len,
              GError **error)
{
  /* GLib has no cryptographic random source; getrandom() is the kernel's. */
  while (len > 0)
    {
      ssize_t n = getrandom (buf, len, 0);

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          return mp_set_error_from_errno (error, saved_errno,
                                          "Reading random bytes for the auth challenge");
        }
      buf += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
has_prefix (const guint8 *data,
            gsize         len,
            const char   *prefix)
{
  gsize plen = strlen (prefix);

  return len >= plen && memcmp (data, prefix, plen) == 0;
}

/* Compares in time that depends only on @len, so a peer cannot learn how
 * many leading bytes of a forged digest were right. */
static gboolean
equal_constant_time (const guint8 *a,
                     const guint8 *b,
                     gsize         len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= (guint8) (a[i] ^ b[i]);
  return diff == 0;
}

static gboolean
check_authkey (GBytes  *authkey,
               GError **error)
{
  if (g_bytes_get_size (authkey) == 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "The auth key is empty; use the 32 random bytes of"
                    " mp_get_auth_key() or a key of your own");
      return FALSE;
    }
  return TRUE;
}

static void
compute_hmac (GBytes       *authkey,
              const guint8 *message,
              gsize         len,
              guint8        digest[32])
{
  gsize key_len = 0;
  const guint8 *key = g_bytes_get_data (authkey, &key_len);
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize digest_len = 32;

  g_hmac_update (hmac, message, (gssize) len);
  g_hmac_get_digest (hmac, digest, &digest_len);
  g_hmac_unref (hmac);
  g_assert (digest_len == 32);
}

/**
 * mp_auth_make_challenge:
 * @error: return location for a #GError
 *
 * Returns: (transfer full): "#CHALLENGE#{sha256}" and 40 fresh random
 *   bytes, or %NULL with @error set.
 */
GBytes *
mp_auth_make_challenge (GError **error)
{
  const gsize prefix = strlen (MP_AUTH_CHALLENGE MP_AUTH_DIGEST);
  guint8 *message = g_malloc (prefix + MP_AUTH_NONCE_SIZE);

  memcpy (message, MP_AUTH_CHALLENGE MP_AUTH_DIGEST, prefix);
  if (!random_bytes (message + prefix, MP_AUTH_NONCE_SIZE, error))
    {
      g_free (message);
      return NULL;
    }
  return g_bytes_new_take (message, prefix + MP_AUTH_NONCE_SIZE);
}

/**
 * mp_auth_make_response:
 * @authkey: the shared key
 * @challenge: the challenge frame from the peer (untrusted)
 * @error: return location for a #GError
 *
 * The digest name is part of the message the HMAC covers, so a peer in
 * the middle cannot talk us down to a weaker digest: only sha256 is
 * accepted.
 *
 * Returns: (transfer full): "{sha256}" and the 32-byte HMAC of the
 *   challenge, or %NULL with %MP_ERROR_AUTH_FAILED.
 */
GBytes *
mp_auth_make_response (GBytes  *authkey,
                       GBytes  *challenge,
                       GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (challenge, &len);
  const gsize tag = strlen (MP_AUTH_CHALLENGE);
  const gsize digest_tag = strlen (MP_AUTH_DIGEST);
  guint8 *response;

  g_return_val_if_fail (authkey != NULL, NULL);
  g_return_val_if_fail (challenge != NULL, NULL);

  if (!has_prefix (data, len, MP_AUTH_CHALLENGE))
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer did not start with an auth challenge; is it"
                    " an mpshare listener with the same protocol?");
      return NULL;
    }
  data += tag;
  len -= tag;
  if (!has_prefix (data, len, MP_AUTH_DIGEST))
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer's challenge does not ask for HMAC-SHA256 (an"
                    " older protocol such as CPython before 3.12 uses MD5);"
                    " only sha256 is accepted");
      return NULL;
    }
  if (len - digest_tag < MP_AUTH_MIN_NONCE_SIZE)
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer's challenge has only %" G_GSIZE_FORMAT
                    " random bytes, fewer than %d; refusing to answer it",
                    len - digest_tag, MP_AUTH_MIN_NONCE_SIZE);
      return NULL;
    }

  response = g_malloc (digest_tag + 32);
  memcpy (response, MP_AUTH_DIGEST, digest_tag);
  compute_hmac (authkey, data, len, response + digest_tag);
  return g_bytes_new_take (response, digest_tag + 32);
}

/**
 * mp_auth_verify_response:
 * @authkey: the shared key
 * @challenge: the challenge frame we sent
 * @response: the peer's answer (untrusted)
 * @error: return location for a #GError
 *
 * Returns: %TRUE when @response is the HMAC-SHA256 of @challenge under
 *   @authkey, otherwise %FALSE with %MP_ERROR_AUTH_FAILED.
 */
gboolean
mp_auth_verify_response (GBytes  *authkey,
                         GBytes  *challenge,
                         GBytes  *response,
                         GError **error)
{
  gsize clen = 0, rlen = 0;
  const guint8 *cdata = g_bytes_get_data (challenge, &clen);
  const guint8 *rdata = g_bytes_get_data (response, &rlen);
  const gsize tag = strlen (MP_AUTH_CHALLENGE);
  const gsize digest_tag = strlen (MP_AUTH_DIGEST);
  guint8 expected[32];

  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (clen > tag, FALSE);

  if (rlen != digest_tag + 32 || !has_prefix (rdata, rlen, MP_AUTH_DIGEST))
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer's answer to the auth challenge is not an"
                    " HMAC-SHA256 digest (%" G_GSIZE_FORMAT " bytes);"
                    " digest received was wrong", rlen);
      return FALSE;
    }

  compute_hmac (authkey, cdata + tag, clen - tag, expected);
  if (!equal_constant_time (expected, rdata + digest_tag, 32))
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer answered the auth challenge with a wrong"
                    " digest: it does not hold the same auth key");
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* connections                                                          */
/* ------------------------------------------------------------------ */

struct _MpConnection {
  GSocket        *socket;
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

static gboolean
gio_error_is_peer_gone (const GError *gio_error)
{
  return g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

/* Turns a GIO error of a socket call into ours: the peer being gone is
 * one recognizable code, whatever the way we found out. */
static void
set_error_from_gio (GError     **error,
                    GError      *gio_error,
                    const char  *what)
{
  MpError code = MP_ERROR_FAILED;

  if (gio_error_is_peer_gone (gio_error))
    code = MP_ERROR_CONNECTION_CLOSED;
  else if (g_error_matches (gio_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    code = MP_ERROR_TIMEOUT;

  mp_set_error (error, code, "%s: %s", what, gio_error->message);
}

/* Time left until @deadline, rounded up to whole milliseconds because
 * poll() counts in those: rounding down would wake early and spin. */
static gint64
remaining_us (gint64 deadline)
{
  gint64 left;

  if (deadline < 0)
    return -1;
  left = deadline - g_get_monotonic_time ();
  if (left <= 0)
    return 0;
  return (left + 999) / 1000 * 1000;
}

static void
set_nodelay_if_tcp (GSocket *socket)
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
static void
break_connection (MpConnection *self)
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

static gboolean
send_frame (MpConnection *self,
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
          break_connection (self);
          set_error_from_gio (error, local_error, "Sending a message");
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
          /* part of a frame may be on the wire (see send_frame()) */
          break_connection (self);
          set_error_from_gio (error, local_error, "Sending a message");
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
  return check_frame_size (self, len, error) && send_frame (self, data, len, error);
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
                                              remaining_us (deadline), NULL,
                                              &local_error))
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                mp_set_error (error, MP_ERROR_TIMEOUT,
                              "No message arrived in time; the connection"
                              " stays usable, call again to keep waiting");
              else
                set_error_from_gio (error, local_error, "Waiting for a message");
              return -1;
            }
          n = g_socket_receive_with_blocking (self->socket, (gchar *) buf, size,
                                              FALSE, NULL, &local_error);
          if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
            continue;
        }

      if (n < 0)
        {
          set_error_from_gio (error, local_error, "Receiving a message");
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
          break_connection (self);
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
              break_connection (self);
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
            break_connection (self);
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
          break_connection (self);
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

static GBytes *
recv_frame_bytes (MpConnection *self,
                  gsize         limit,
                  gint64        deadline,
                  GError      **error)
{
  MpFrame frame;

  if (!recv_frame (self, limit, deadline, FALSE, &frame, error))
    return NULL;
  return frame.bytes;
}

/**
 * mp_frame_take_bytes:
 * @frame: (out caller-allocates): a frame to fill
 * @bytes: (transfer full): its payload
 *
 * Makes @frame the frame held by @bytes.
 */
void
mp_frame_take_bytes (MpFrame *frame,
                     GBytes  *bytes)
{
  frame->bytes = bytes;
  frame->data = g_bytes_get_data (bytes, &frame->len);
}

/**
 * mp_frame_slice:
 * @frame: a frame
 * @offset: where the bytes start
 * @size: how many
 *
 * Returns: (transfer full): @size bytes of @frame from @offset that
 *   outlive it: a slice of a held frame's bytes (no copy; at a multiple
 *   of 8 it keeps their malloc alignment), a copy of a lent one's.
 */
GBytes *
mp_frame_slice (const MpFrame *frame,
                gsize          offset,
                gsize          size)
{
  g_return_val_if_fail (offset <= frame->len && size <= frame->len - offset, NULL);

  if (frame->bytes != NULL)
    return g_bytes_new_from_bytes (frame->bytes, offset, size);
  return g_bytes_new (frame->data + offset, size);
}

void
mp_frame_clear (MpFrame *frame)
{
  g_clear_pointer (&frame->bytes, g_bytes_unref);
  frame->data = NULL;
  frame->len = 0;
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

  return recv_frame_bytes (self, mp_connection_get_max_frame_size (self),
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

/* ------------------------------------------------------------------ */
/* the handshake on a connection                                        */
/* ------------------------------------------------------------------ */

static gboolean
send_literal (MpConnection *self,
              const char   *message,
              GError      **error)
{
  return send_frame (self, (const guint8 *) message, strlen (message), error);
}

/* A handshake message, or the refusal a live server sends instead, which
 * becomes %MP_ERROR_REFUSED with the server's reason (printable
 * characters only: the peer is not trusted yet). */
static gboolean
is_refusal (const guint8 *data,
            gsize         len,
            GError      **error)
{
  g_autoptr(GString) reason = NULL;

  if (!has_prefix (data, len, MP_AUTH_REFUSED))
    return FALSE;
  reason = g_string_new (NULL);
  for (gsize i = strlen (MP_AUTH_REFUSED); i < len; i++)
    g_string_append_c (reason, g_ascii_isprint (data[i]) ? (char) data[i] : '?');
  mp_set_error (error, MP_ERROR_REFUSED,
                "The server is alive but refused the connection: %s",
                reason->len > 0 ? reason->str : "no reason given");
  return TRUE;
}

static GBytes *
recv_handshake_message (MpConnection *self,
                        gint64        deadline,
                        GError      **error)
{
  g_autoptr(GBytes) message = recv_frame_bytes (self, MP_AUTH_MAX_MESSAGE, deadline, error);
  gsize len = 0;
  const guint8 *data;

  if (message == NULL)
    return NULL;
  data = g_bytes_get_data (message, &len);
  if (is_refusal (data, len, error))
    return NULL;
  return g_steal_pointer (&message);
}

/* The server hung up while we were sending: it may have said why just
 * before, in bytes read ahead already or still waiting in the socket. */
static gboolean
find_refusal (MpConnection *self,
              GError      **error)
{
  guint8 buf[MP_FRAME_HEADER_SIZE + MP_AUTH_MAX_MESSAGE];
  gsize len, payload;
  gssize n;

  if (mp_frame_decoder_is_mid_frame (&self->decoder))
    return FALSE;
  len = MIN (self->read_end - self->read_start, sizeof buf);
  memcpy (buf, self->read_ahead + self->read_start, len);
  n = recv (self->fd, buf + len, sizeof buf - len, MSG_DONTWAIT);
  if (n > 0)
    len += (gsize) n;
  if (len < MP_FRAME_HEADER_SIZE ||
      !mp_frame_parse_header (buf, MP_AUTH_MAX_MESSAGE, &payload, NULL) ||
      payload > len - MP_FRAME_HEADER_SIZE)
    return FALSE;
  return is_refusal (buf + MP_FRAME_HEADER_SIZE, payload, error);
}

static gboolean
deliver_challenge (MpConnection *self,
                   GBytes       *authkey,
                   gint64        deadline,
                   GError      **error)
{
  g_autoptr(GBytes) challenge = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) auth_error = NULL;

  challenge = mp_auth_make_challenge (error);
  if (challenge == NULL ||
      !send_frame (self, g_bytes_get_data (challenge, NULL),
                   g_bytes_get_size (challenge), error))
    return FALSE;

  response = recv_handshake_message (self, deadline, error);
  if (response == NULL)
    return FALSE;

  if (!mp_auth_verify_response (authkey, challenge, response, &auth_error))
    {
      /* Tell the peer why before hanging up; it may already be gone. */
      send_literal (self, MP_AUTH_FAILURE, NULL);
      g_propagate_error (error, g_steal_pointer (&auth_error));
      return FALSE;
    }
  return send_literal (self, MP_AUTH_WELCOME, error);
}

static gboolean
answer_challenge (MpConnection *self,
                  GBytes       *authkey,
                  gint64        deadline,
                  GError      **error)
{
  g_autoptr(GBytes) challenge = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GBytes) verdict = NULL;
  g_autoptr(GBytes) welcome = NULL;

  challenge = recv_handshake_message (self, deadline, error);
  if (challenge == NULL)
    return FALSE;
  response = mp_auth_make_response (authkey, challenge, error);
  if (response == NULL ||
      !send_frame (self, g_bytes_get_data (response, NULL),
                   g_bytes_get_size (response), error))
    return FALSE;

  verdict = recv_handshake_message (self, deadline, error);
  if (verdict == NULL)
    return FALSE;
  welcome = g_bytes_new_static (MP_AUTH_WELCOME, strlen (MP_AUTH_WELCOME));
  if (!g_bytes_equal (verdict, welcome))
    {
      mp_set_error (error, MP_ERROR_AUTH_FAILED,
                    "The peer rejected our answer to its auth challenge:"
                    " the two sides hold different auth keys");
      return FALSE;
    }
  return TRUE;
}

typedef gboolean (*HandshakeStep) (MpConnection *, GBytes *, gint64, GError **);

static gboolean
run_handshake (MpConnection  *self,
               GBytes        *authkey,
               gint64         timeout_us,
               HandshakeStep  first,
               HandshakeStep  second,
               GError       **error)
{
  gint64 deadline = mp_deadline_from_timeout (timeout_us);
  g_autoptr(GError) local_error = NULL;

  if (!check_authkey (authkey, error))
    return FALSE;

  if (first (self, authkey, deadline, &local_error) &&
      (second == NULL || second (self, authkey, deadline, &local_error)))
    return TRUE;

  if (mp_connection_error_is_peer_gone (local_error))
    {
      g_autoptr(GError) refusal = NULL;

      if (find_refusal (self, &refusal))
        {
          g_clear_error (&local_error);
          local_error = g_steal_pointer (&refusal);
        }
    }
  /* A connection that failed to authenticate must carry nothing else. */
  break_connection (self);
  if (g_error_matches (local_error, MP_ERROR, MP_ERROR_TIMEOUT))
    g_prefix_error (&local_error, "Auth handshake: ");
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

/**
 * mp_connection_deliver_challenge:
 * @self: a connection
 * @authkey: the shared key (not empty)
 * @timeout_us: for the whole exchange; negative waits for ever
 * @error: return location for a #GError
 *
 * Sends a random challenge and checks the peer's HMAC-SHA256 of it,
 * then tells the peer the verdict. On any failure the connection is cut.
 *
 * Returns: %TRUE when the peer holds @authkey; otherwise %FALSE with
 *   %MP_ERROR_AUTH_FAILED (wrong key), %MP_ERROR_TIMEOUT, or a
 *   connection error.
 *
 * Since: 0.1
 */
gboolean
mp_connection_deliver_challenge (MpConnection *self,
                                 GBytes       *authkey,
                                 gint64        timeout_us,
                                 GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return run_handshake (self, authkey, timeout_us, deliver_challenge, NULL, error);
}

/**
 * mp_connection_answer_challenge:
 * @self: a connection
 * @authkey: the shared key (not empty)
 * @timeout_us: for the whole exchange; negative waits for ever
 * @error: return location for a #GError
 *
 * Answers the peer's challenge and waits for its verdict.
 *
 * Returns: %TRUE when the peer accepted; otherwise %FALSE with
 *   %MP_ERROR_AUTH_FAILED, %MP_ERROR_TIMEOUT or a connection error.
 *
 * Since: 0.1
 */
gboolean
mp_connection_answer_challenge (MpConnection *self,
                                GBytes       *authkey,
                                gint64        timeout_us,
                                GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return run_handshake (self, authkey, timeout_us, answer_challenge, NULL, error);
}

/**
 * mp_connection_authenticate_server:
 * @self: a freshly accepted connection
 * @authkey: the shared key (not empty)
 * @timeout_us: for the whole handshake; negative waits for ever
 * @error: return location for a #GError
 *
 * The server's half of the mutual handshake: challenge the client first,
 * then answer its challenge.
 *
 * Returns: %TRUE when both sides proved they hold @authkey.
 *
 * Since: 0.1
 */
gboolean
mp_connection_authenticate_server (MpConnection *self,
                                   GBytes       *authkey,
                                   gint64        timeout_us,
                                   GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return run_handshake (self, authkey, timeout_us, deliver_challenge,
                        answer_challenge, error);
}

/**
 * mp_connection_authenticate_client:
 * @self: a freshly connected connection
 * @authkey: the shared key (not empty)
 * @timeout_us: for the whole handshake; negative waits for ever
 * @error: return location for a #GError
 *
 * The client's half: answer the server's challenge, then challenge it.
 *
 * Returns: %TRUE when both sides proved they hold @authkey; a wrong key
 *   gives %MP_ERROR_AUTH_FAILED.
 *
 * Since: 0.1
 */
gboolean
mp_connection_authenticate_client (MpConnection *self,
                                   GBytes       *authkey,
                                   gint64        timeout_us,
                                   GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return run_handshake (self, authkey, timeout_us, answer_challenge,
                        deliver_challenge, error);
}

/* ------------------------------------------------------------------ */
/* addresses                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  gboolean  is_unix;
  char     *path;   /* unix */
  char     *host;   /* tcp, without brackets */
  guint     port;   /* tcp */
} Address;

static void
address_clear (Address *address)
{
  g_clear_pointer (&address->path, g_free);
  g_clear_pointer (&address->host, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Address, address_clear)

static gboolean
bad_address (GError    **error,
             const char *address,
             const char *why)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "Bad address \"%s\": %s. Use \"unix:/absolute/path\","
                " \"tcp:HOST:PORT\" or \"HOST:PORT\"", address, why);
  return FALSE;
}

static gboolean
is_host_name_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '.' || c == '_';
}

static gboolean
parse_port (const char *text,
            guint      *out_port)
{
  guint64 value = 0;
  gsize len = strlen (text);

  if (len == 0 || len > 5)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint64) (text[i] - '0');
    }
  if (value > 65535)
    return FALSE;
  *out_port = (guint) value;
  return TRUE;
}

/* Strict on purpose: an address is typed by people and copied between
 * programs, and a silently misread one connects to the wrong thing. */
static gboolean
parse_address (const char *text,
               Address    *out,
               GError    **error)
{
  const char *rest;
  const char *colon;
  g_autofree char *host = NULL;

  memset (out, 0, sizeof *out);

  if (g_str_has_prefix (text, "unix:"))
    {
      rest = text + strlen ("unix:");
      if (rest[0] != '/')
        return bad_address (error, text, "a Unix socket path must be absolute");
      if (strlen (rest) >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
        return bad_address (error, text, "the socket path is too long for a Unix socket");
      out->is_unix = TRUE;
      out->path = g_strdup (rest);
      return TRUE;
    }

  rest = g_str_has_prefix (text, "tcp:") ? text + strlen ("tcp:") : text;
  if (rest[0] == '[')
    {
      const char *close = strchr (rest, ']');

      if (close == NULL || close[1] != ':')
        return bad_address (error, text, "an IPv6 host is written [ADDRESS]:PORT");
      host = g_strndup (rest + 1, (gsize) (close - rest - 1));
      if (!g_hostname_is_ip_address (host) || strchr (host, ':') == NULL)
        return bad_address (error, text, "the part in brackets is not an IPv6 address");
      colon = close + 1;
    }
  else
    {
      colon = strrchr (rest, ':');
      if (colon == NULL)
        return bad_address (error, text, "no port");
      host = g_strndup (rest, (gsize) (colon - rest));
      if (host[0] == '\0')
        return bad_address (error, text, "no host (127.0.0.1 for this machine;"
                            " 0.0.0.0 for all interfaces, where anyone who"
                            " reaches the port can try keys)");
      if (strlen (host) > 253)
        return bad_address (error, text, "the host name is too long");
      for (const char *c = host; *c != '\0'; c++)
        if (!is_host_name_char (*c))
          return bad_address (error, text, "the host is neither an address nor a host name");
    }

  if (!parse_port (colon + 1, &out->port))
    return bad_address (error, text, "the port must be a number from 0 to 65535");

  out->is_unix = FALSE;
  out->host = g_steal_pointer (&host);
  return TRUE;
}

/* Numeric hosts are used as they are; names go through the resolver. */
static GList *
resolve_host (const char *host,
              GError    **error)
{
  GInetAddress *numeric = g_inet_address_new_from_string (host);
  g_autoptr(GResolver) resolver = NULL;
  g_autoptr(GError) local_error = NULL;
  GList *list;

  if (numeric != NULL)
    return g_list_append (NULL, numeric);

  resolver = g_resolver_get_default ();
  list = g_resolver_lookup_by_name (resolver, host, NULL, &local_error);
  if (list == NULL)
    mp_set_error (error, MP_ERROR_FAILED, "Cannot resolve host \"%s\": %s",
                  host, local_error->message);
  return list;
}

static char *
format_tcp_address (GSocketAddress *address)
{
  GInetSocketAddress *inet = G_INET_SOCKET_ADDRESS (address);
  g_autofree char *ip = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  guint port = g_inet_socket_address_get_port (inet);

  if (strchr (ip, ':') != NULL)
    return g_strdup_printf ("tcp:[%s]:%u", ip, port);
  return g_strdup_printf ("tcp:%s:%u", ip, port);
}

/* ------------------------------------------------------------------ */
/* connecting                                                           */
/* ------------------------------------------------------------------ */

static gboolean
set_send_timeout (GSocket *socket,
                  gint64   timeout_us)
{
  struct timeval tv = { 0, 0 };

  if (timeout_us > 0)
    {
      tv.tv_sec = timeout_us / G_USEC_PER_SEC;
      tv.tv_usec = timeout_us % G_USEC_PER_SEC;
    }
  else if (timeout_us == 0)
    tv.tv_usec = 1;
  return setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
}

static GSocket *
connect_unix (const char *address_text,
              const char *path,
              gint64      deadline,
              GError    **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  if (socket == NULL)
    {
      set_error_from_gio (error, local_error, "Creating a Unix socket");
      return NULL;
    }
  address = g_unix_socket_address_new (path);

  /* A non-blocking connect to a Unix socket whose backlog is full fails
   * with EAGAIN instead of waiting its turn; a blocking one queues in the
   * kernel, bounded by SO_SNDTIMEO. */
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), FALSE, NULL);
  set_send_timeout (socket, remaining_us (deadline));
  ok = g_socket_connect (socket, address, NULL, &local_error);
  set_send_timeout (socket, -1);
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), TRUE, NULL);

  if (!ok)
    {
      g_autofree char *what = g_strdup_printf ("Connecting to %s", address_text);

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        mp_set_error (error, MP_ERROR_TIMEOUT,
                      "Connecting to %s: the listener did not take the"
                      " connection in time (is it still accepting?)", address_text);
      else if (gio_error_is_peer_gone (local_error))
        mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                      "Nothing listens at %s (%s); the server has exited or"
                      " was never started", address_text, local_error->message);
      else
        set_error_from_gio (error, local_error, what);
      return NULL;
    }
  return g_steal_pointer (&socket);
}

static GSocket *
connect_tcp_one (GInetAddress *ip,
                 guint         port,
                 gint64        deadline,
                 GError      **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  socket = g_socket_new (g_inet_address_get_family (ip), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;
  address = g_inet_socket_address_new (ip, (guint16) port);

  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, address, NULL, error))
    {
      if (!g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_PENDING))
        return NULL;
      g_clear_error (error);
      if (!g_socket_condition_timed_wait (socket, G_IO_OUT, remaining_us (deadline),
                                          NULL, error) ||
          !g_socket_check_connect_result (socket, error))
        return NULL;
    }
  g_socket_set_blocking (socket, TRUE);
  set_nodelay_if_tcp (socket);
  return g_steal_pointer (&socket);
}

static GSocket *
connect_tcp (const char *address_text,
             const char *host,
             guint       port,
             gint64      deadline,
             GError    **error)
{
  g_autoptr(GError) last_error = NULL;
  GList *ips;
  GSocket *socket = NULL;

  if (port == 0)
    {
      bad_address (error, address_text, "port 0 means \"any\" and only makes sense for listening");
      return NULL;
    }
  ips = resolve_host (host, error);
  if (ips == NULL)
    return NULL;

  for (GList *l = ips; l != NULL && socket == NULL; l = l->next)
    {
      g_clear_error (&last_error);
      socket = connect_tcp_one (l->data, port, deadline, &last_error);
    }
  g_resolver_free_addresses (ips);

  if (socket == NULL)
    {
      if (g_error_matches (last_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        mp_set_error (error, MP_ERROR_TIMEOUT, "Connecting to %s: no answer in time",
                      address_text);
      else if (gio_error_is_peer_gone (last_error))
        mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                      "Nothing listens at %s (%s); the server has exited or"
                      " was never started", address_text, last_error->message);
      else
        {
          g_autofree char *what = g_strdup_printf ("Connecting to %s", address_text);
          set_error_from_gio (error, last_error, what);
        }
    }
  return socket;
}

/**
 * mp_connection_connect: (skip)
 * @address: "unix:/path", "tcp:HOST:PORT" or "HOST:PORT"
 * @authkey: the key the listener was made with (not empty)
 * @timeout_us: for connecting and the handshake; negative waits for ever
 * @error: return location for a #GError
 *
 * Connects and runs the client half of the handshake.
 *
 * Returns: (transfer full): an authenticated connection, or %NULL with
 *   @error set: %MP_ERROR_INVALID_ARGUMENT for a malformed address,
 *   %MP_ERROR_CONNECTION_CLOSED when nothing listens there,
 *   %MP_ERROR_AUTH_FAILED when the keys differ, %MP_ERROR_REFUSED when a
 *   live server turned us away (busy, out of resources), %MP_ERROR_TIMEOUT.
 *
 * Since: 0.1
 */
MpConnection *
mp_connection_connect (const char *address,
                       GBytes     *authkey,
                       gint64      timeout_us,
                       GError    **error)
{
  g_auto(Address) parsed = { 0 };
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(MpConnection) connection = NULL;
  gint64 deadline = mp_deadline_from_timeout (timeout_us);

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (authkey != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!parse_address (address, &parsed, error) || !check_authkey (authkey, error))
    return NULL;

  if (parsed.is_unix)
    socket = connect_unix (address, parsed.path, deadline, error);
  else
    socket = connect_tcp (address, parsed.host, parsed.port, deadline, error);
  if (socket == NULL)
    return NULL;

  connection = mp_connection_new_for_socket (socket);
  if (!mp_connection_authenticate_client (connection, authkey,
                                          remaining_us (deadline), error))
    {
      g_prefix_error (error, "Connecting to %s: ", address);
      return NULL;
    }
  return g_steal_pointer (&connection);
}

/* ------------------------------------------------------------------ */
/* listeners                                                            */
/* ------------------------------------------------------------------ */

struct _MpListener {
  GSocket      *socket;
  GBytes       *authkey;
  char         *address;
  char         *socket_path;     /* a file we created, removed at close */
  char         *private_dir;     /* a directory we created, likewise */
  GPid          owner;           /* only the creating process removes them */
  GCancellable *cancellable;     /* wakes accept() from another thread */
  GMutex        lock;            /* held while accepting and closing */
  gint64        handshake_timeout_us;
  gsize         max_frame;
  gboolean      closed;
};

/* A socket file at @path after "Address already in use": a server that
 * was killed leaves its file behind, and nothing answers there any more.
 * Such a file is removed (TRUE: try the bind again); a live listener is
 * left alone and named. Anything but a socket is never removed. */
static gboolean
remove_stale_socket (const char *path,
                     GError    **error)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GCredentials) peer = NULL;
  struct stat st;
  pid_t pid = -1;

  if (g_lstat (path, &st) < 0 || !S_ISSOCK (st.st_mode))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Cannot listen at %s: a file that is not a socket is"
                    " there; choose another path", path);
      return FALSE;
    }
  probe = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                        G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  address = g_unix_socket_address_new (path);
  if (probe != NULL && !g_socket_connect (probe, address, NULL, &local_error) &&
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    {
      g_debug ("listener: removing the stale socket %s (nobody listens)", path);
      if (g_unlink (path) == 0 || errno == ENOENT)
        return TRUE;
      return mp_set_error_from_errno (error, errno, "Removing the stale socket %s", path);
    }
  if (local_error != NULL)
    {
      g_autofree char *what = g_strdup_printf ("Probing the socket at %s", path);
      set_error_from_gio (error, local_error, what);
      return FALSE;
    }
  peer = g_socket_get_credentials (probe, NULL);
  if (peer != NULL)
    pid = g_credentials_get_unix_pid (peer, NULL);
  if (pid > 0)
    mp_set_error (error, MP_ERROR_FAILED,
                  "Cannot listen at %s: process %d already listens there;"
                  " stop it or choose another path", path, (int) pid);
  else
    mp_set_error (error, MP_ERROR_FAILED,
                  "Cannot listen at %s: another process already listens"
                  " there; stop it or choose another path", path);
  return FALSE;
}

static gboolean
listen_unix (MpListener *self,
             const char *path,
             GError    **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean bound;

  self->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  if (self->socket == NULL)
    {
      set_error_from_gio (error, local_error, "Creating a Unix socket");
      return FALSE;
    }
  address = g_unix_socket_address_new (path);
  bound = g_socket_bind (self->socket, address, FALSE, &local_error);
  if (!bound && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_clear_error (&local_error);
      if (!remove_stale_socket (path, error))
        return FALSE;
      bound = g_socket_bind (self->socket, address, FALSE, &local_error);
    }
  if (!bound)
    {
      g_autofree char *what = g_strdup_printf ("Binding a Unix socket at %s", path);
      set_error_from_gio (error, local_error, what);
      return FALSE;
    }
  self->socket_path = g_strdup (path);

  /* Only the owner may connect; in the private directory nobody else
   * could reach the socket anyway, even before this chmod. */
  if (g_chmod (path, 0600) < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno,
                                      "Making the socket %s private", path);
    }
  self->address = g_strconcat ("unix:", path, NULL);
  return TRUE;
}

static gboolean
listen_tcp (MpListener *self,
            const char *host,
            guint       port,
            GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  gboolean all_interfaces;
  GList *ips;

  ips = resolve_host (host, error);
  if (ips == NULL)
    return FALSE;
  address = g_inet_socket_address_new (ips->data, (guint16) port);
  all_interfaces = g_inet_address_get_is_any (ips->data);
  g_resolver_free_addresses (ips);

  self->socket = g_socket_new (g_socket_address_get_family (address),
                               G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                               &local_error);
  /* allow_reuse: a restarted server gets its port back at once */
  if (self->socket == NULL ||
      !g_socket_bind (self->socket, address, TRUE, &local_error))
    {
      g_autofree char *what = g_strdup_printf ("Listening on %s port %u", host, port);
      set_error_from_gio (error, local_error, what);
      return FALSE;
    }
  /* Allowed, as in CPython, but the key is all that guards the port and
   * nothing after the handshake is encrypted. */
  if (all_interfaces)
    g_warning ("listening on all interfaces (%s): anyone who can reach\n"
               "this port can try auth keys, and the traffic after the\n"
               "handshake is not encrypted. To reach it from elsewhere,\n"
               "listen on 127.0.0.1 and tunnel over SSH (docs/models.md).",
               host);
  return TRUE;
}

/**
 * mp_listener_new: (skip)
 * @address: (nullable): %NULL for a Unix socket in a fresh private
 *   directory (mode 0700, socket 0600), "unix:/path" for a socket at that
 *   path (a socket file left there by a listener that was killed is
 *   removed; a live listener there is an error naming its pid), or "tcp:HOST:PORT" / "HOST:PORT" (port 0
 *   picks a free one)
 * @authkey: the key clients must prove they hold (not empty; a key
 *   shorter than 16 bytes works but draws a g_warning(), as does
 *   listening on all interfaces, 0.0.0.0 or ::)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a listening socket, or %NULL with @error set.
 *   mp_listener_get_address() tells clients where to connect.
 *
 * Since: 0.1
 */
MpListener *
mp_listener_new (const char *address,
                 GBytes     *authkey,
                 GError    **error)
{
  g_autoptr(MpListener) self = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(Address) parsed = { 0 };
  gboolean ok;

  g_return_val_if_fail (authkey != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_authkey (authkey, error))
    return NULL;
  if (address != NULL && !parse_address (address, &parsed, error))
    return NULL;
  /* CPython takes any key; a short one is allowed for tests and
   * teaching, but it is the only thing a peer has to guess */
  if (g_bytes_get_size (authkey) < MP_LISTENER_MIN_GOOD_KEY)
    g_warning ("the auth key is only %" G_GSIZE_FORMAT " bytes, shorter than"
               " %d:\na peer that can connect may guess it; use"
               " mp_get_auth_key()\n(32 random bytes) or a longer key",
               g_bytes_get_size (authkey), MP_LISTENER_MIN_GOOD_KEY);

  self = g_atomic_rc_box_new0 (MpListener);
  self->authkey = g_bytes_ref (authkey);
  self->owner = getpid ();
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  self->handshake_timeout_us = MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT;
  self->max_frame = MP_CONNECTION_DEFAULT_MAX_FRAME;

  if (address == NULL)
    {
      g_autofree char *path = NULL;

      self->private_dir = g_dir_make_tmp ("mpshare-XXXXXX", &local_error);
      if (self->private_dir == NULL)
        {
          mp_set_error (error, MP_ERROR_FAILED,
                        "Creating a private directory for the socket: %s",
                        local_error->message);
          return NULL;
        }
      path = g_build_filename (self->private_dir, SOCKET_FILE_NAME, NULL);
      if (strlen (path) >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "The socket path %s is too long for a Unix socket;"
                        " set TMPDIR to a shorter directory", path);
          return NULL;
        }
      ok = listen_unix (self, path, error);
    }
  else if (parsed.is_unix)
    ok = listen_unix (self, parsed.path, error);
  else
    ok = listen_tcp (self, parsed.host, parsed.port, error);
  if (!ok)
    return NULL;

  g_socket_set_listen_backlog (self->socket, LISTEN_BACKLOG);
  if (!g_socket_listen (self->socket, &local_error))
    {
      set_error_from_gio (error, local_error, "Listening");
      return NULL;
    }
  /* accept() waits on its own terms (timeout, cancellation) */
  g_socket_set_blocking (self->socket, FALSE);

  if (self->address == NULL)
    {
      g_autoptr(GSocketAddress) bound = g_socket_get_local_address (self->socket, &local_error);

      if (bound == NULL)
        {
          set_error_from_gio (error, local_error, "Reading the listening address");
          return NULL;
        }
      self->address = format_tcp_address (bound);
    }
  return g_steal_pointer (&self);
}

/**
 * mp_listener_ref: (skip)
 * @self: a listener
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
MpListener *
mp_listener_ref (MpListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_atomic_rc_box_acquire (self);
}

static void
listener_free (MpListener *self)
{
  mp_listener_close (self);
  g_clear_object (&self->socket);
  g_clear_pointer (&self->authkey, g_bytes_unref);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->socket_path, g_free);
  g_clear_pointer (&self->private_dir, g_free);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
}

/**
 * mp_listener_unref:
 * @self: (transfer full): a listener
 *
 * Drops a reference; the last one closes the listener.
 *
 * Since: 0.1
 */
void
mp_listener_unref (MpListener *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_rc_box_release_full (self, (GDestroyNotify) listener_free);
}

/**
 * mp_listener_get_address:
 * @self: a listener
 *
 * Returns: where clients connect: "unix:/path" or "tcp:IP:PORT" with the
 *   port actually bound.
 *
 * Since: 0.1
 */
const char *
mp_listener_get_address (MpListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->address;
}

/**
 * mp_listener_set_handshake_timeout:
 * @self: a listener
 * @timeout_us: how long a new peer has to authenticate; negative: for ever
 *
 * Bounds how long mp_listener_accept() waits for a connected peer to
 * finish the handshake (default %MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT).
 * Set it before accepting; like mp_listener_set_max_frame_size() it is
 * not meant to change while another thread accepts.
 *
 * Since: 0.1
 */
void
mp_listener_set_handshake_timeout (MpListener *self,
                                   gint64      timeout_us)
{
  g_return_if_fail (self != NULL);
  self->handshake_timeout_us = timeout_us;
}

/**
 * mp_listener_set_max_frame_size:
 * @self: a listener
 * @max_frame: 1 to %MP_CONNECTION_MAX_FRAME_LIMIT bytes
 *
 * The frame-size limit given to connections accepted from now on.
 *
 * Since: 0.1
 */
void
mp_listener_set_max_frame_size (MpListener *self,
                                gsize       max_frame)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_frame >= 1 && max_frame <= MP_CONNECTION_MAX_FRAME_LIMIT);
  self->max_frame = max_frame;
}

/* for the handshake gate (mp-gate.c), which waits on the listener's
 * socket and cancellable itself */
GSocket *
mp_listener_get_socket (MpListener *self)
{
  return self->socket;
}

GCancellable *
mp_listener_get_cancellable (MpListener *self)
{
  return self->cancellable;
}

GBytes *
mp_listener_get_authkey (MpListener *self)
{
  return self->authkey;
}

gsize
mp_listener_get_max_frame_size (MpListener *self)
{
  return self->max_frame;
}

static GSocket *
accept_socket (MpListener *self,
               gint64      deadline,
               GError    **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GSocket *client;

      if (self->closed || g_cancellable_is_cancelled (self->cancellable))
        {
          mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                        "The listener at %s was shut down", self->address);
          return NULL;
        }
      if (!g_socket_condition_timed_wait (self->socket, G_IO_IN, remaining_us (deadline),
                                          self->cancellable, &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            continue;   /* reported at the top of the loop */
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            mp_set_error (error, MP_ERROR_TIMEOUT,
                          "No client connected to %s in time", self->address);
          else
            set_error_from_gio (error, local_error, "Waiting for a client");
          return NULL;
        }
      client = g_socket_accept (self->socket, NULL, &local_error);
      if (client != NULL)
        return client;
      /* another thread took it, or the client gave up already */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        continue;
      set_error_from_gio (error, local_error, "Accepting a client");
      return NULL;
    }
}

/**
 * mp_listener_accept_unauthenticated: (skip)
 * @self: a listener
 * @timeout_us: how long to wait for a client; negative waits for ever
 * @error: return location for a #GError
 *
 * Accepts a client without the handshake, so a server can run
 * mp_connection_authenticate_server() in the client's own thread and keep
 * accepting meanwhile. Nothing may be exchanged before that succeeds.
 *
 * Returns: (transfer full): the connection, or %NULL with @error set:
 *   %MP_ERROR_TIMEOUT, or %MP_ERROR_CONNECTION_CLOSED once the listener
 *   was shut down.
 *
 * Since: 0.1
 */
MpConnection *
mp_listener_accept_unauthenticated (MpListener *self,
                                    gint64      timeout_us,
                                    GError    **error)
{
  g_autoptr(GSocket) client = NULL;
  MpConnection *connection;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&self->lock);
  client = accept_socket (self, mp_deadline_from_timeout (timeout_us), error);
  g_mutex_unlock (&self->lock);
  if (client == NULL)
    return NULL;

  set_nodelay_if_tcp (client);
  connection = mp_connection_new_for_socket (client);
  mp_connection_set_max_frame_size (connection, self->max_frame);
  return connection;
}

/**
 * mp_listener_accept: (skip)
 * @self: a listener
 * @timeout_us: how long to wait for a client to connect; negative: for
 *   ever, 0: only take one already waiting
 * @error: return location for a #GError
 *
 * Accepts one client and authenticates it. The handshake has its own
 * bound, the handshake timeout, so polling with @timeout_us 0 still gives
 * a waiting client the time to answer. A client that fails the handshake
 * costs only its own connection: the error is returned and the listener
 * goes on accepting.
 *
 * Returns: (transfer full): an authenticated connection, or %NULL with
 *   @error set (%MP_ERROR_AUTH_FAILED for a client with a wrong key).
 *   Use mp_listener_is_shut_down() to tell "stop accepting" from errors
 *   that concern one client.
 *
 * Since: 0.1
 */
MpConnection *
mp_listener_accept (MpListener *self,
                    gint64      timeout_us,
                    GError    **error)
{
  g_autoptr(MpConnection) connection = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  connection = mp_listener_accept_unauthenticated (self, timeout_us, error);
  if (connection == NULL)
    return NULL;

  if (!mp_connection_authenticate_server (connection, self->authkey,
                                          self->handshake_timeout_us, error))
    {
      g_prefix_error (error, "Refused a client of %s: ", self->address);
      return NULL;
    }
  return g_steal_pointer (&connection);
}

/**
 * mp_listener_shutdown:
 * @self: a listener
 *
 * Stops accepting. Safe from any thread: a thread blocked in
 * mp_listener_accept() returns with %MP_ERROR_CONNECTION_CLOSED, and so
 * does every later call. Connections already accepted are not touched.
 *
 * Since: 0.1
 */
void
mp_listener_shutdown (MpListener *self)
{
  g_return_if_fail (self != NULL);
  g_cancellable_cancel (self->cancellable);
}

/**
 * mp_listener_is_shut_down:
 * @self: a listener
 *
 * An accept loop stops when this is %TRUE: an error from
 * mp_listener_accept() otherwise concerns one client only (a wrong key, a
 * client gone during the handshake — also %MP_ERROR_CONNECTION_CLOSED).
 *
 * Returns: %TRUE after mp_listener_shutdown() or mp_listener_close().
 *
 * Since: 0.1
 */
gboolean
mp_listener_is_shut_down (MpListener *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return g_cancellable_is_cancelled (self->cancellable);
}

/**
 * mp_listener_close:
 * @self: a listener
 *
 * Shuts the listener down, closes its socket and removes the socket file
 * and private directory it created (only in the process that created
 * them: a forked child closing its copy leaves them alone). Idempotent.
 *
 * Since: 0.1
 */
void
mp_listener_close (MpListener *self)
{
  g_return_if_fail (self != NULL);

  mp_listener_shutdown (self);
  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      self->closed = TRUE;
      if (self->socket != NULL)
        g_socket_close (self->socket, NULL);
      if (self->owner == getpid ())
        {
          if (self->socket_path != NULL)
            g_unlink (self->socket_path);
          if (self->private_dir != NULL)
            g_rmdir (self->private_dir);
        }
    }
  g_mutex_unlock (&self->lock);
}
