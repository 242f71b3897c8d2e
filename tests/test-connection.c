/* test-connection.c — frames, the HMAC handshake, Unix and TCP listeners
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "mpshare.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"

/* A backstop only: every wait below ends on an event long before. */
#define BACKSTOP_US (30 * G_USEC_PER_SEC)

static GBytes *
make_key (guint8 fill)
{
  guint8 key[32];

  memset (key, fill, sizeof key);
  return g_bytes_new (key, sizeof key);
}

static GBytes *
bytes_from_string (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

static GBytes *
patterned_bytes (gsize len)
{
  guint8 *data = g_malloc (len > 0 ? len : 1);

  for (gsize i = 0; i < len; i++)
    data[i] = (guint8) (i * 31 + (i >> 8));
  return g_bytes_new_take (data, len);
}

/* One end an MpConnection, the other a raw fd the test writes anything to. */
static void
make_raw_pair (MpConnection **out_connection,
               int           *out_raw_fd)
{
  g_autoptr(GError) error = NULL;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  *out_connection = mp_connection_new_for_fd (fds[0], &error);
  g_assert_no_error (error);
  *out_raw_fd = fds[1];
}

static void
write_all (int           fd,
           const void   *data,
           gsize         len)
{
  const guint8 *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      p += n;
      len -= (gsize) n;
    }
}

static void
write_header (int   fd,
              guint32 len)
{
  guint32 be = GUINT32_TO_BE (len);
  write_all (fd, &be, sizeof be);
}

/* ------------------------------------------------------------------ */
/* the frame decoder, fed from buffers                                  */
/* ------------------------------------------------------------------ */

static void
test_frame_header (void)
{
  guint8 header[MP_FRAME_HEADER_SIZE];
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  mp_frame_encode_header (header, 0x01020304);
  g_assert_cmpmem (header, 4, "\x01\x02\x03\x04", 4);
  g_assert_true (mp_frame_parse_header (header, 0x01020304, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 0x01020304);

  g_assert_false (mp_frame_parse_header (header, 0x01020303, &len, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* CPython's escape for huge frames (-1) is above any limit */
  memset (header, 0xff, sizeof header);
  g_assert_false (mp_frame_parse_header (header, MP_CONNECTION_MAX_FRAME_LIMIT, &len, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
}

/* Three frames, fed in every chunk size from 1 byte to all at once: the
 * decoder must give the same frames whatever the split. */
static void
test_frame_decoder_splits (void)
{
  static const gsize sizes[] = { 5, 0, 300 };
  g_autoptr(GByteArray) stream = g_byte_array_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      guint8 header[MP_FRAME_HEADER_SIZE];
      g_autoptr(GBytes) payload = patterned_bytes (sizes[i]);

      mp_frame_encode_header (header, sizes[i]);
      g_byte_array_append (stream, header, sizeof header);
      g_byte_array_append (stream, g_bytes_get_data (payload, NULL), sizes[i]);
    }

  for (gsize chunk = 1; chunk <= stream->len; chunk++)
    {
      MpFrameDecoder decoder;
      gsize offset = 0, n_frames = 0;

      mp_frame_decoder_init (&decoder, 1000);
      while (offset < stream->len)
        {
          g_autoptr(GError) error = NULL;
          gsize len = MIN (chunk, stream->len - offset);
          gsize done = 0;

          while (done < len)
            {
              g_autoptr(GBytes) frame = NULL;
              gssize used = mp_frame_decoder_feed (&decoder, stream->data + offset + done,
                                                   len - done, &frame, &error);
              g_assert_no_error (error);
              g_assert_cmpint (used, >, 0);
              done += (gsize) used;
              if (frame != NULL)
                {
                  g_autoptr(GBytes) expected = patterned_bytes (sizes[n_frames]);
                  g_assert_true (g_bytes_equal (frame, expected));
                  n_frames++;
                }
            }
          offset += len;
        }
      g_assert_cmpuint (n_frames, ==, G_N_ELEMENTS (sizes));
      g_assert_false (mp_frame_decoder_is_mid_frame (&decoder));
      mp_frame_decoder_clear (&decoder);
    }
}

static void
test_frame_decoder_oversize (void)
{
  MpFrameDecoder decoder;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) frame = NULL;
  guint8 header[MP_FRAME_HEADER_SIZE];

  mp_frame_decoder_init (&decoder, 16);
  mp_frame_encode_header (header, 17);
  g_assert_cmpint (mp_frame_decoder_feed (&decoder, header, sizeof header, &frame, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_assert_null (frame);
  g_assert_false (mp_frame_decoder_is_mid_frame (&decoder));
  mp_frame_decoder_clear (&decoder);
}

/* ------------------------------------------------------------------ */
/* frames over a socket pair                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  MpConnection *connection;
  GPtrArray    *payloads;   /* GBytes */
  GError       *error;
} SendJob;

static gpointer
send_all_thread (gpointer data)
{
  SendJob *job = data;

  for (guint i = 0; i < job->payloads->len && job->error == NULL; i++)
    mp_connection_send_bytes (job->connection, job->payloads->pdata[i], &job->error);
  return NULL;
}

static void
test_frame_roundtrip (void)
{
  static const gsize sizes[] = { 0, 1, 4, 100, 16383, 16384, 16385, 100000, 3 * 1024 * 1024 };
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  SendJob job = { 0 };
  GThread *sender;

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    g_ptr_array_add (payloads, patterned_bytes (sizes[i]));

  /* the big frames do not fit the socket buffer: send from a thread */
  job.connection = a;
  job.payloads = payloads;
  sender = g_thread_new ("sender", send_all_thread, &job);
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) got = mp_connection_recv_bytes (b, BACKSTOP_US, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (got), ==, sizes[i]);
      g_assert_true (g_bytes_equal (got, payloads->pdata[i]));
    }
  g_thread_join (sender);
  g_assert_no_error (job.error);

  /* and back the other way, many small frames read ahead together */
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      g_autoptr(GBytes) bytes = bytes_from_string (text);
      g_assert_true (mp_connection_send_bytes (b, bytes, &error));
      g_assert_no_error (error);
    }
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *text = g_strdup_printf ("message %u", i);
      g_autoptr(GBytes) expected = bytes_from_string (text);
      g_autoptr(GBytes) got = mp_connection_recv_bytes (a, BACKSTOP_US, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (got, expected));
    }
}

static void
test_frame_oversize (void)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) big = patterned_bytes (1025);
  char byte;
  int raw;

  make_raw_pair (&connection, &raw);
  mp_connection_set_max_frame_size (connection, 1024);
  g_assert_cmpuint (mp_connection_get_max_frame_size (connection), ==, 1024);

  /* sending above the limit is refused locally and sends nothing */
  g_assert_false (mp_connection_send_bytes (connection, big, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mp_connection_is_closed (connection));

  /* a peer announcing more than the limit is cut off */
  write_header (raw, 1025);
  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_true (mp_connection_is_closed (connection));

  /* the peer sees the end of the stream: only this connection closed */
  g_assert_cmpint (read (raw, &byte, 1), ==, 0);

  got = mp_connection_recv_bytes (connection, 0, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  close (raw);
}

static void
test_frame_truncated (void)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  int raw;

  make_raw_pair (&connection, &raw);
  write_header (raw, 10);
  write_all (raw, "abc", 3);
  close (raw);

  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "3 of 10"));
  g_assert_false (mp_connection_error_is_peer_gone (error));
  g_assert_true (mp_connection_is_closed (connection));
}

static void
test_frame_truncated_header (void)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  int raw;

  make_raw_pair (&connection, &raw);
  write_all (raw, "\0\0", 2);
  close (raw);

  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
}

static void
test_frame_eof (void)
{
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) hello = bytes_from_string ("last words");
  g_autoptr(GBytes) got = NULL;

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  g_assert_true (mp_connection_send_bytes (a, hello, &error));
  mp_connection_close (a);
  g_assert_true (mp_connection_is_closed (a));

  /* what was sent before the close still arrives */
  got = mp_connection_recv_bytes (b, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, hello));
  g_clear_pointer (&got, g_bytes_unref);

  /* then a clean end of stream, recognizable as "peer gone" */
  g_assert_true (mp_connection_poll (b, BACKSTOP_US));
  got = mp_connection_recv_bytes (b, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_assert_true (mp_connection_error_is_peer_gone (error));
  g_clear_error (&error);

  /* a closed connection refuses work instead of crashing */
  g_assert_false (mp_connection_send_bytes (a, hello, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);
  g_assert_false (mp_connection_poll (a, 0));
  mp_connection_close (a);
}

static void
test_frame_send_to_gone_peer (void)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) payload = patterned_bytes (100);
  int raw;

  make_raw_pair (&connection, &raw);
  close (raw);

  /* EPIPE, not SIGPIPE: this process must survive to see the error */
  g_assert_false (mp_connection_send_bytes (connection, payload, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_assert_true (mp_connection_error_is_peer_gone (error));
  g_assert_true (mp_connection_is_closed (connection));
}

static void
test_frame_timeout_resumes (void)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  int raw;

  make_raw_pair (&connection, &raw);

  got = mp_connection_recv_bytes (connection, 0, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_false (mp_connection_poll (connection, 0));

  /* half a frame, then a timeout: the half is kept */
  write_header (raw, 6);
  write_all (raw, "hal", 3);
  got = mp_connection_recv_bytes (connection, 1000, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_false (mp_connection_is_closed (connection));

  write_all (raw, "ves", 3);
  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "halves", 6);
  g_clear_pointer (&got, g_bytes_unref);

  /* a timeout past the end of the clock waits as for ever does */
  write_header (raw, 1);
  write_all (raw, "!", 1);
  got = mp_connection_recv_bytes (connection, G_MAXINT64, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "!", 1);
  close (raw);
}

/* Writes a frame of patterned bytes of each size; returns the payloads. */
static GPtrArray *
write_frames (int          raw,
              const gsize *sizes,
              gsize        n)
{
  GPtrArray *payloads = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (gsize i = 0; i < n; i++)
    {
      GBytes *payload = patterned_bytes (sizes[i]);

      g_ptr_array_add (payloads, payload);
      write_header (raw, sizes[i]);
      write_all (raw, g_bytes_get_data (payload, NULL), sizes[i]);
    }
  return payloads;
}

/* Frames that arrive whole in one read are lent, in order, with nothing
 * allocated; one bigger than the read-ahead buffer, or completed by a
 * later read, is held by its own bytes. */
static void
test_frame_lent (void)
{
  static const gsize sizes[] = { 0, 1, 30, 200, 40000, 5 };
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) payloads = NULL;
  int raw;

  make_raw_pair (&connection, &raw);
  payloads = write_frames (raw, sizes, G_N_ELEMENTS (sizes));
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto(MpFrame) frame = MP_FRAME_INIT;

      g_assert_true (mp_connection_recv_frame (connection, BACKSTOP_US, &frame, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (frame.data, frame.len,
                       g_bytes_get_data (payloads->pdata[i], NULL), sizes[i]);
      /* the first four came in the first read; the big one cannot */
      if (i < 4)
        g_assert_null (frame.bytes);
      if (sizes[i] > 16384)
        g_assert_nonnull (frame.bytes);
    }

  /* half a frame, a timeout, the rest: the decoder kept the half */
  {
    g_auto(MpFrame) frame = MP_FRAME_INIT;

    write_header (raw, 6);
    write_all (raw, "hal", 3);
    g_assert_false (mp_connection_recv_frame (connection, 1000, &frame, &error));
    g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
    g_clear_error (&error);
    write_all (raw, "ves", 3);
    g_assert_true (mp_connection_recv_frame (connection, BACKSTOP_US, &frame, &error));
    g_assert_no_error (error);
    g_assert_nonnull (frame.bytes);
    g_assert_cmpmem (frame.data, frame.len, "halves", 6);
  }

  /* an oversize header read ahead breaks the connection, as always */
  {
    g_auto(MpFrame) frame = MP_FRAME_INIT;

    mp_connection_set_max_frame_size (connection, 100);
    write_header (raw, 101);
    g_assert_false (mp_connection_recv_frame (connection, BACKSTOP_US, &frame, &error));
    g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
    g_assert_true (mp_connection_is_closed (connection));
  }
  close (raw);
}

typedef struct {
  MpConnection *connection;
  GBytes       *got;
  GError       *error;
} RecvJob;

static gpointer
recv_thread (gpointer data)
{
  RecvJob *job = data;

  job->got = mp_connection_recv_bytes (job->connection, BACKSTOP_US, &job->error);
  return NULL;
}

/* Two readers of one stream (a pool's workers on its request queue), each
 * without read-ahead, take whole frames in turn: what one receives never
 * holds bytes of the frame the other one is due. */
static void
test_frame_no_read_ahead (void)
{
  static const gsize sizes[] = { 0, 5, 300, 40000, 7, 1 };
  g_autoptr(MpConnection) first = NULL;
  g_autoptr(MpConnection) second = NULL;
  MpConnection *readers[2];
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) payloads = NULL;
  int raw;

  make_raw_pair (&first, &raw);
  second = mp_connection_new_for_fd (dup (g_socket_get_fd (mp_connection_get_socket (first))), &error);
  g_assert_no_error (error);
  readers[0] = first;
  readers[1] = second;
  for (guint r = 0; r < 2; r++)
    mp_connection_set_read_ahead (readers[r], FALSE);
  payloads = write_frames (raw, sizes, G_N_ELEMENTS (sizes));
  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr(GBytes) got = mp_connection_recv_bytes (readers[i % 2], BACKSTOP_US, &error);

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (got, payloads->pdata[i]));
    }
  close (raw);
}

static void
test_frame_shutdown_wakes_reader (void)
{
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  RecvJob job = { 0 };
  GThread *reader;

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  job.connection = a;
  reader = g_thread_new ("reader", recv_thread, &job);
  /* whether the reader is already waiting or not, it must return at once */
  mp_connection_shutdown (a);
  mp_connection_close (a);
  g_thread_join (reader);
  g_assert_null (job.got);
  g_assert_error (job.error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_clear_error (&job.error);

  /* and the peer sees the end of the stream */
  g_assert_null (mp_connection_recv_bytes (b, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
}

/* Closing a copy in one process must not cut the socket off for the
 * process that still uses it (Python's Connection.close does the same). */
static void
test_frame_close_inherited_copy (void)
{
  g_autoptr(MpConnection) ours = NULL;
  g_autoptr(MpConnection) theirs = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ping = bytes_from_string ("ping");
  g_autoptr(GBytes) got = NULL;
  int status = 0;
  pid_t pid;

  g_assert_true (mp_connection_new_pair (&ours, &theirs, &error));
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      GBytes *echo;
      int code = 1;

      g_clear_pointer (&ours, mp_connection_unref);
      echo = mp_connection_recv_bytes (theirs, BACKSTOP_US, NULL);
      if (echo != NULL && mp_connection_send_bytes (theirs, echo, NULL))
        code = 0;
      g_clear_pointer (&echo, g_bytes_unref);
      g_clear_pointer (&theirs, mp_connection_unref);
      g_clear_pointer (&ping, g_bytes_unref);
      _exit (code);
    }

  /* the child's end is closed here, at once, before the child uses it */
  mp_connection_close (theirs);
  g_assert_true (mp_connection_send_bytes (ours, ping, &error));
  got = mp_connection_recv_bytes (ours, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, ping));
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
}

static void
test_fd_not_a_stream_socket (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;
  int pipe_fds[2], dgram[2];

  /* the fd is the connection's from the call on, even when it fails */
  g_assert_no_errno (pipe (pipe_fds));
  connection = mp_connection_new_for_fd (pipe_fds[0], &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_cmpint (fcntl (pipe_fds[0], F_GETFD), ==, -1);
  close (pipe_fds[1]);

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, dgram));
  connection = mp_connection_new_for_fd (dgram[0], &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_cmpint (fcntl (dgram[0], F_GETFD), ==, -1);
  close (dgram[1]);
}

static void
test_variant_roundtrip (void)
{
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) got = NULL;
  const char *name = NULL;
  guint32 number = 0;

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  g_assert_true (mp_connection_send_variant (a, g_variant_new ("(su)", "squares", 25), &error));
  got = mp_connection_recv_variant (b, G_VARIANT_TYPE ("(su)"), BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_variant_get (got, "(&su)", &name, &number);
  g_assert_cmpstr (name, ==, "squares");
  g_assert_cmpuint (number, ==, 25);
}

static void
test_variant_not_normal (void)
{
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) got = NULL;
  g_autoptr(GBytes) garbage = g_bytes_new ("\x05\x00\x00\x00xyz\xff", 8);

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  g_assert_true (mp_connection_send_bytes (a, garbage, &error));
  g_assert_true (mp_connection_send_variant (a, g_variant_new_string ("ok"), &error));

  got = mp_connection_recv_variant (b, G_VARIANT_TYPE ("(su)"), BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* framing is intact: the next message still reads */
  got = mp_connection_recv_variant (b, G_VARIANT_TYPE_STRING, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_string (got, NULL), ==, "ok");
}

/* ------------------------------------------------------------------ */
/* the handshake                                                        */
/* ------------------------------------------------------------------ */

static void
test_auth_messages (void)
{
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GBytes) other_key = make_key (2);
  g_autoptr(GBytes) challenge = NULL;
  g_autoptr(GBytes) challenge2 = NULL;
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GBytes) wrong = NULL;
  g_autoptr(GBytes) md5_challenge = NULL;
  g_autoptr(GBytes) short_challenge = NULL;
  g_autoptr(GBytes) truncated = NULL;
  g_autoptr(GError) error = NULL;
  guint8 *tampered;
  gsize len;

  challenge = mp_auth_make_challenge (&error);
  g_assert_no_error (error);
  challenge2 = mp_auth_make_challenge (&error);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (challenge, NULL), "#CHALLENGE#{sha256}"));
  g_assert_cmpuint (g_bytes_get_size (challenge), ==, strlen ("#CHALLENGE#{sha256}") + 40);
  g_assert_false (g_bytes_equal (challenge, challenge2));

  response = mp_auth_make_response (key, challenge, &error);
  g_assert_no_error (error);
  g_assert_true (mp_auth_verify_response (key, challenge, response, &error));
  g_assert_no_error (error);

  /* another key, another challenge, one flipped bit: all refused */
  g_assert_false (mp_auth_verify_response (other_key, challenge, response, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  g_assert_false (mp_auth_verify_response (key, challenge2, response, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  tampered = g_bytes_unref_to_data (g_bytes_ref (response), &len);
  tampered[len - 1] ^= 1;
  wrong = g_bytes_new_take (tampered, len);
  g_assert_false (mp_auth_verify_response (key, challenge, wrong, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  truncated = g_bytes_new_from_bytes (response, 0, g_bytes_get_size (response) - 1);
  g_assert_false (mp_auth_verify_response (key, challenge, truncated, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);

  /* no downgrade: a challenge without the sha256 tag (CPython < 3.12
   * style, HMAC-MD5) is not answered */
  md5_challenge = bytes_from_string ("#CHALLENGE#0123456789abcdefghij");
  g_assert_null (mp_auth_make_response (key, md5_challenge, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  short_challenge = bytes_from_string ("#CHALLENGE#{sha256}tooshort");
  g_assert_null (mp_auth_make_response (key, short_challenge, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
}

/* The digest is the standard HMAC-SHA256, so a CPython 3.12 peer computes
 * the same: hmac.new(key, b"{sha256}" + nonce, "sha256"). */
static void
test_auth_known_digest (void)
{
  g_autoptr(GBytes) key = bytes_from_string ("key");
  g_autoptr(GBytes) challenge = bytes_from_string ("#CHALLENGE#{sha256}"
                                                   "0123456789abcdefghij0123456789abcdefghij");
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = g_compute_hmac_for_string (G_CHECKSUM_SHA256,
                                                         (const guchar *) "key", 3,
                                                         "{sha256}0123456789abcdefghij0123456789abcdefghij", -1);
  g_autoptr(GString) hex = g_string_new (NULL);
  const guint8 *data;
  gsize len;

  response = mp_auth_make_response (key, challenge, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (response, &len);
  g_assert_cmpuint (len, ==, 8 + 32);
  g_assert_cmpmem (data, 8, "{sha256}", 8);
  for (gsize i = 8; i < len; i++)
    g_string_append_printf (hex, "%02x", data[i]);
  g_assert_cmpstr (hex->str, ==, expected);
}

typedef struct {
  MpConnection *connection;
  GBytes       *key;
  gboolean      ok;
  GError       *error;
} AuthJob;

static gpointer
auth_server_thread (gpointer data)
{
  AuthJob *job = data;

  job->ok = mp_connection_authenticate_server (job->connection, job->key, BACKSTOP_US,
                                               &job->error);
  return NULL;
}

static void
run_pair_handshake (GBytes   *server_key,
                    GBytes   *client_key,
                    AuthJob  *server,
                    gboolean *client_ok,
                    GError  **client_error,
                    MpConnection **out_server,
                    MpConnection **out_client)
{
  g_autoptr(GError) error = NULL;
  GThread *thread;

  g_assert_true (mp_connection_new_pair (out_server, out_client, &error));
  server->connection = *out_server;
  server->key = server_key;
  thread = g_thread_new ("auth-server", auth_server_thread, server);
  *client_ok = mp_connection_authenticate_client (*out_client, client_key, BACKSTOP_US,
                                                  client_error);
  g_thread_join (thread);
}

static void
test_auth_ok (void)
{
  g_autoptr(GBytes) key = make_key (7);
  g_autoptr(MpConnection) server = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) ping = bytes_from_string ("ping");
  g_autoptr(GBytes) got = NULL;
  AuthJob job = { 0 };
  gboolean ok;

  run_pair_handshake (key, key, &job, &ok, &error, &server, &client);
  g_assert_no_error (error);
  g_assert_no_error (job.error);
  g_assert_true (ok);
  g_assert_true (job.ok);

  /* the connection carries messages afterwards, in both directions */
  g_assert_true (mp_connection_send_bytes (client, ping, &error));
  got = mp_connection_recv_bytes (server, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, ping));
  g_clear_pointer (&got, g_bytes_unref);
  g_assert_true (mp_connection_send_bytes (server, ping, &error));
  got = mp_connection_recv_bytes (client, BACKSTOP_US, &error);
  g_assert_true (g_bytes_equal (got, ping));
}

static void
test_auth_wrong_key (void)
{
  g_autoptr(GBytes) server_key = make_key (7);
  g_autoptr(GBytes) client_key = make_key (8);
  g_autoptr(MpConnection) server = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(GError) error = NULL;
  AuthJob job = { 0 };
  gboolean ok;

  run_pair_handshake (server_key, client_key, &job, &ok, &error, &server, &client);
  g_assert_false (ok);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_assert_nonnull (strstr (error->message, "auth key"));
  g_assert_false (job.ok);
  g_assert_error (job.error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&job.error);

  /* neither side can be used unauthenticated afterwards */
  g_assert_true (mp_connection_is_closed (server));
  g_assert_true (mp_connection_is_closed (client));
}

/* A server without the key that simply welcomes any answer: the client's
 * own challenge unmasks it (the reason the handshake is mutual). */
static gpointer
impostor_server_thread (gpointer data)
{
  MpConnection *connection = data;
  g_autoptr(GBytes) challenge = mp_auth_make_challenge (NULL);
  g_autoptr(GBytes) welcome = bytes_from_string (MP_AUTH_WELCOME);
  g_autoptr(GBytes) guess = NULL;
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GBytes) theirs = NULL;
  guint8 forged[8 + 32] = "{sha256}";

  guess = g_bytes_new (forged, sizeof forged);
  if (!mp_connection_send_bytes (connection, challenge, NULL))
    return NULL;
  answer = mp_connection_recv_bytes (connection, BACKSTOP_US, NULL);
  if (answer == NULL || !mp_connection_send_bytes (connection, welcome, NULL))
    return NULL;
  theirs = mp_connection_recv_bytes (connection, BACKSTOP_US, NULL);
  if (theirs == NULL || !mp_connection_send_bytes (connection, guess, NULL))
    return NULL;
  /* the verdict the client sends back */
  return mp_connection_recv_bytes (connection, BACKSTOP_US, NULL);
}

static void
test_auth_client_checks_server (void)
{
  g_autoptr(GBytes) key = make_key (7);
  g_autoptr(MpConnection) impostor = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) verdict = NULL;
  GThread *thread;

  g_assert_true (mp_connection_new_pair (&impostor, &client, &error));
  thread = g_thread_new ("impostor", impostor_server_thread, impostor);
  g_assert_false (mp_connection_authenticate_client (client, key, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  verdict = g_thread_join (thread);
  g_assert_nonnull (verdict);
  g_assert_cmpmem (g_bytes_get_data (verdict, NULL), g_bytes_get_size (verdict),
                   MP_AUTH_FAILURE, strlen (MP_AUTH_FAILURE));
}

static void
test_auth_empty_key (void)
{
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(MpConnection) a = NULL;
  g_autoptr(MpConnection) b = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (mp_connection_new_pair (&a, &b, &error));
  g_assert_false (mp_connection_authenticate_client (a, empty, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_null (mp_listener_new (NULL, empty, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

/* A peer that does not hold the key may not make us allocate: the
 * handshake reads at most 256 bytes per message. */
static void
test_auth_oversize_challenge (void)
{
  g_autoptr(GBytes) key = make_key (7);
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  int raw;

  make_raw_pair (&connection, &raw);
  write_header (raw, MP_AUTH_MAX_MESSAGE + 1);
  g_assert_false (mp_connection_authenticate_client (connection, key, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  close (raw);
}

static void
test_auth_not_a_challenge (void)
{
  g_autoptr(GBytes) key = make_key (7);
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  int raw;

  make_raw_pair (&connection, &raw);
  write_header (raw, 5);
  write_all (raw, "hello", 5);
  g_assert_false (mp_connection_answer_challenge (connection, key, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  close (raw);
}

/* ------------------------------------------------------------------ */
/* listeners                                                            */
/* ------------------------------------------------------------------ */

typedef struct {
  const char *address;
  GBytes     *key;
  const char *message;   /* sent after connecting, if set */
  gboolean    ok;
  GError     *error;
} ClientJob;

static gpointer
client_thread (gpointer data)
{
  ClientJob *job = data;
  g_autoptr(MpConnection) connection = NULL;

  connection = mp_connection_connect (job->address, job->key, BACKSTOP_US, &job->error);
  if (connection != NULL && job->message != NULL)
    {
      g_autoptr(GBytes) bytes = bytes_from_string (job->message);
      g_autoptr(GBytes) echo = NULL;

      if (mp_connection_send_bytes (connection, bytes, &job->error))
        echo = mp_connection_recv_bytes (connection, BACKSTOP_US, &job->error);
      job->ok = echo != NULL && g_bytes_equal (echo, bytes);
    }
  else
    job->ok = connection != NULL;
  return NULL;
}

/* Accepts one client and echoes its first message back. */
static void
accept_and_echo (MpListener *listener)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GBytes) got = NULL;

  connection = mp_listener_accept (listener, BACKSTOP_US, &error);
  g_assert_no_error (error);
  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_true (mp_connection_send_bytes (connection, got, &error));
  g_assert_no_error (error);
}

/* A client thread connects to @address with @key and sends @message; the
 * listener accepts it and echoes the message back, which the client checks. */
static void
assert_echoes (MpListener *listener,
               const char *address,
               GBytes     *key,
               const char *message)
{
  ClientJob job = { address, key, message, FALSE, NULL };
  GThread *client = g_thread_new ("client", client_thread, &job);

  accept_and_echo (listener);
  g_thread_join (client);
  g_assert_no_error (job.error);
  g_assert_true (job.ok);
}

static void
test_unix_mode_0600 (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  const char *address;
  struct stat st;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  address = mp_listener_get_address (listener);
  g_assert_true (g_str_has_prefix (address, "unix:/"));
  path = g_strdup (address + strlen ("unix:"));
  dir = g_path_get_dirname (path);

  g_assert_no_errno (g_stat (path, &st));
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_assert_no_errno (g_stat (dir, &st));
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpint (st.st_mode & 07777, ==, 0700);
  g_assert_cmpuint (st.st_uid, ==, getuid ());

  mp_listener_close (listener);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  mp_listener_close (listener);   /* idempotent */
}

static void
test_unix_connect_accept (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) late = NULL;
  g_autofree char *address = NULL;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  address = g_strdup (mp_listener_get_address (listener));

  assert_echoes (listener, address, key, "hello over unix");

  /* once the listener is gone, connecting says the peer is gone */
  mp_listener_close (listener);
  late = mp_connection_connect (address, key, BACKSTOP_US, &error);
  g_assert_null (late);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_assert_true (mp_connection_error_is_peer_gone (error));
}

typedef struct {
  const char *address;
  GBytes     *good_key;
  GBytes     *bad_key;
  GError     *bad_error;
  gboolean    good_ok;
  GError     *good_error;
} TwoClientsJob;

static gpointer
wrong_then_right_thread (gpointer data)
{
  TwoClientsJob *job = data;
  g_autoptr(MpConnection) bad = NULL;
  ClientJob good = { job->address, job->good_key, "after the intruder", FALSE, NULL };

  bad = mp_connection_connect (job->address, job->bad_key, BACKSTOP_US, &job->bad_error);
  g_assert_null (bad);
  client_thread (&good);
  job->good_ok = good.ok;
  job->good_error = good.error;
  return NULL;
}

static void
test_unix_wrong_key_keeps_serving (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(GBytes) bad_key = make_key (4);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpConnection) refused = NULL;
  g_autoptr(GError) error = NULL;
  TwoClientsJob job = { 0 };
  GThread *clients;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  job.address = mp_listener_get_address (listener);
  job.good_key = key;
  job.bad_key = bad_key;
  clients = g_thread_new ("clients", wrong_then_right_thread, &job);

  refused = mp_listener_accept (listener, BACKSTOP_US, &error);
  g_assert_null (refused);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);
  g_assert_false (mp_listener_is_shut_down (listener));
  accept_and_echo (listener);

  g_thread_join (clients);
  g_assert_error (job.bad_error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&job.bad_error);
  g_assert_no_error (job.good_error);
  g_assert_true (job.good_ok);
}

/* A raw client that sends a garbage frame instead of answering the
 * challenge; returns once the listener has hung up on it. */
static gpointer
garbage_client_thread (gpointer data)
{
  const char *path = data;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) error = NULL;
  guint8 header[MP_FRAME_HEADER_SIZE];
  char buf[512];

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  mp_frame_encode_header (header, 0x7fffffff);
  g_assert_cmpint (g_socket_send (socket, (char *) header, sizeof header, NULL, &error), ==, 4);
  /* read the challenge and anything else until the listener hangs up */
  while (g_socket_receive (socket, buf, sizeof buf, NULL, &error) > 0)
    ;
  g_assert_no_error (error);
  return NULL;
}

static void
test_unix_garbage_frame (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpConnection) refused = NULL;
  g_autoptr(GError) error = NULL;
  GThread *thread;
  const char *address;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  address = mp_listener_get_address (listener);

  thread = g_thread_new ("garbage", garbage_client_thread, (gpointer) (address + strlen ("unix:")));
  refused = mp_listener_accept (listener, BACKSTOP_US, &error);
  g_assert_null (refused);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_thread_join (thread);

  assert_echoes (listener, address, key, "still here");
}

typedef struct {
  MpListener   *listener;
  MpConnection *connection;
  GError       *error;
} AcceptJob;

static gpointer
accept_thread (gpointer data)
{
  AcceptJob *job = data;

  job->connection = mp_listener_accept (job->listener, BACKSTOP_US, &job->error);
  return NULL;
}

/* An authenticated client turning hostile loses only its own connection. */
static MpConnection *
connect_while_accepting (MpListener    *listener,
                         GBytes        *key,
                         MpConnection **out_server)
{
  g_autoptr(GError) error = NULL;
  AcceptJob job = { listener, NULL, NULL };
  GThread *thread;
  MpConnection *client;

  thread = g_thread_new ("acceptor", accept_thread, &job);
  client = mp_connection_connect (mp_listener_get_address (listener), key, BACKSTOP_US, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_no_error (job.error);
  *out_server = job.connection;
  return client;
}

static void
test_unix_garbage_after_auth (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpConnection) server_a = NULL;
  g_autoptr(MpConnection) server_b = NULL;
  g_autoptr(MpConnection) client_a = NULL;
  g_autoptr(MpConnection) client_b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) fine = bytes_from_string ("fine");
  guint8 header[MP_FRAME_HEADER_SIZE];

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  mp_listener_set_max_frame_size (listener, 4096);
  client_a = connect_while_accepting (listener, key, &server_a);
  client_b = connect_while_accepting (listener, key, &server_b);
  g_assert_cmpuint (mp_connection_get_max_frame_size (server_a), ==, 4096);

  /* client a writes a length far above the limit, bypassing the framing */
  mp_frame_encode_header (header, 1 << 20);
  g_assert_cmpint (g_socket_send (mp_connection_get_socket (client_a), (char *) header,
                                  sizeof header, NULL, &error), ==, sizeof header);
  got = mp_connection_recv_bytes (server_a, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  g_clear_error (&error);

  /* a is cut off: its client sees the end of the stream */
  got = mp_connection_recv_bytes (client_a, BACKSTOP_US, &error);
  g_assert_null (got);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_clear_error (&error);

  /* b is untouched */
  g_assert_true (mp_connection_send_bytes (client_b, fine, &error));
  got = mp_connection_recv_bytes (server_b, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (got, fine));
}

static void
test_unix_explicit_path (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpListener) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *pid_text = NULL;

  dir = g_dir_make_tmp ("test-connection-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "explicit.sock", NULL);
  address = g_strconcat ("unix:", path, NULL);

  listener = mp_listener_new (address, key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mp_listener_get_address (listener), ==, address);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  /* a live listener's socket is never taken over (nor removed), and the
   * error names who listens */
  second = mp_listener_new (address, key, &error);
  g_assert_null (second);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  pid_text = g_strdup_printf ("process %d already listens there", (int) getpid ());
  g_assert_nonnull (strstr (error->message, pid_text));
  g_clear_error (&error);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  mp_listener_close (listener);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* the directory was the caller's: it stays */
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  g_assert_no_errno (g_rmdir (dir));
}

/* A socket bound and never unlinked: what a killed server leaves. */
static void
leave_dead_socket (const char *path)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr(GError) error = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  g_assert_true (g_socket_listen (socket, &error));
  g_assert_true (g_socket_close (socket, &error));
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_unix_stale_socket (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *address = NULL;
  g_autofree char *file_path = NULL;
  g_autofree char *file_address = NULL;
  AcceptJob job = { 0 };
  GThread *thread;

  dir = g_dir_make_tmp ("test-connection-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (dir, "stale.sock", NULL);
  address = g_strconcat ("unix:", path, NULL);
  leave_dead_socket (path);

  /* nobody listens there: the file is replaced, and the new one works */
  listener = mp_listener_new (address, key, &error);
  g_assert_no_error (error);
  job.listener = listener;
  thread = g_thread_new ("accept", accept_thread, &job);
  client = mp_connection_connect (address, key, BACKSTOP_US, &error);
  g_thread_join (thread);
  g_assert_no_error (error);
  g_assert_no_error (job.error);
  g_clear_pointer (&job.connection, mp_connection_unref);
  mp_listener_close (listener);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  /* a file that is no socket is never removed */
  file_path = g_build_filename (dir, "not-a-socket", NULL);
  file_address = g_strconcat ("unix:", file_path, NULL);
  g_assert_true (g_file_set_contents (file_path, "data", -1, &error));
  g_assert_null (mp_listener_new (file_address, key, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not a socket"));
  g_clear_error (&error);
  g_assert_true (g_file_test (file_path, G_FILE_TEST_IS_REGULAR));
  g_assert_no_errno (g_unlink (file_path));
  g_assert_no_errno (g_rmdir (dir));
}

/* A live server that turns a peer away says why; the client reports it
 * as a refusal, with control characters of the untrusted reason made
 * harmless. */
static void
test_auth_refused (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(GBytes) refusal = bytes_from_string ("#REFUSED#busy: testing\x1b[2J");
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(MpConnection) server = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (mp_connection_new_pair (&client, &server, &error));
  g_assert_true (mp_connection_send_bytes (server, refusal, &error));
  g_assert_false (mp_connection_authenticate_client (client, key, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "alive but refused the connection: busy: testing?[2J"));
}

/* A server that drops a peer in the middle of the handshake (crowded
 * out) says why and hangs up; the peer's next send fails, and it must
 * still report the refusal, not a server that is gone. */
static void
test_auth_refused_mid_handshake (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(GBytes) refusal = bytes_from_string ("#REFUSED#busy: crowded out");
  g_autoptr(GBytes) challenge = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(MpConnection) server = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (mp_connection_new_pair (&client, &server, &error));
  challenge = mp_auth_make_challenge (&error);
  g_assert_no_error (error);
  g_assert_true (mp_connection_send_bytes (server, challenge, &error));
  g_assert_true (mp_connection_send_bytes (server, refusal, &error));
  mp_connection_close (server);

  g_assert_false (mp_connection_authenticate_client (client, key, BACKSTOP_US, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "busy: crowded out"));
}

/* A short key works, with a warning that says why it is a risk; 16 bytes
 * and more are quiet. */
static void
test_listener_short_key_warns (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) good = g_bytes_new ("0123456789abcdef", 16);
      g_autoptr(GBytes) weak = bytes_from_string ("secret");
      g_autoptr(MpListener) quiet = NULL;
      g_autoptr(MpListener) loud = NULL;

      quiet = mp_listener_new (NULL, good, NULL);
      g_assert_nonnull (quiet);
      g_printerr ("16 bytes: no warning so far\n");
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      loud = mp_listener_new (NULL, weak, NULL);
      g_assert_nonnull (loud);
      return;
    }
  g_test_trap_subprocess (NULL, BACKSTOP_US, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("16 bytes: no warning so far\n*"
                             "*the auth key is only 6 bytes, shorter than 16*"
                             "*may guess it*");
}

/* Listening on every interface is allowed, with a warning naming what
 * it exposes and the way out (a tunnel). */
static void
test_tcp_all_interfaces_warns (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GBytes) key = make_key (3);
      g_autoptr(MpListener) local = NULL;
      g_autoptr(MpListener) everyone = NULL;

      local = mp_listener_new ("tcp:127.0.0.1:0", key, NULL);
      g_assert_nonnull (local);
      g_printerr ("loopback: no warning so far\n");
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      everyone = mp_listener_new ("tcp:0.0.0.0:0", key, NULL);
      g_assert_nonnull (everyone);
      return;
    }
  g_test_trap_subprocess (NULL, BACKSTOP_US, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("loopback: no warning so far\n*"
                             "*listening on all interfaces (0.0.0.0)*"
                             "*can try auth keys*not encrypted*SSH*");
}

static void
test_unix_shutdown_wakes_accept (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  AcceptJob job = { 0 };
  GThread *thread;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  job.listener = listener;
  thread = g_thread_new ("acceptor", accept_thread, &job);
  mp_listener_shutdown (listener);
  g_thread_join (thread);
  g_assert_null (job.connection);
  g_assert_error (job.error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_clear_error (&job.error);
  g_assert_true (mp_listener_is_shut_down (listener));

  g_assert_null (mp_listener_accept (listener, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
}

static void
test_unix_accept_timeout (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  g_assert_null (mp_listener_accept (listener, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_null (mp_listener_accept (listener, 2000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
}

/* A client that connects and says nothing is dropped after the handshake
 * timeout; the listener then serves the next one. */
static void
test_unix_silent_client (void)
{
  g_autoptr(GBytes) key = make_key (3);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) silent = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(MpConnection) refused = NULL;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  mp_listener_set_handshake_timeout (listener, 20 * 1000);

  silent = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  address = g_unix_socket_address_new (mp_listener_get_address (listener) + strlen ("unix:"));
  g_assert_true (g_socket_connect (silent, address, NULL, &error));
  refused = mp_listener_accept (listener, BACKSTOP_US, &error);
  g_assert_null (refused);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  assert_echoes (listener, mp_listener_get_address (listener), key, "next");
}

/* The child's side: drop the inherited listener, connect back, send. */
static int
child_connect_and_send (MpListener *inherited,
                        GBytes     *key)
{
  g_autofree char *address = g_strdup (mp_listener_get_address (inherited));
  g_autoptr(MpConnection) child = NULL;
  g_autoptr(GBytes) hello = g_bytes_new_static ("from the child", 14);

  mp_listener_unref (inherited);
  child = mp_connection_connect (address, key, BACKSTOP_US, NULL);
  if (child == NULL)
    return 2;
  return mp_connection_send_bytes (child, hello, NULL) ? 0 : 3;
}

/* A forked child inherits the listener: closing its copy must not remove
 * the parent's socket, and it can connect back with the inherited key. */
static void
test_unix_fork_child (void)
{
  g_autoptr(GBytes) key = make_key (5);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autofree char *path = NULL;
  int status = 0;
  pid_t pid;

  listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  path = g_strdup (mp_listener_get_address (listener) + strlen ("unix:"));

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      int code = child_connect_and_send (g_steal_pointer (&listener), key);

      /* _exit skips the cleanups of this frame: free by hand for valgrind */
      g_clear_pointer (&path, g_free);
      g_clear_pointer (&key, g_bytes_unref);
      _exit (code);
    }

  connection = mp_listener_accept (listener, BACKSTOP_US, &error);
  g_assert_no_error (error);
  got = mp_connection_recv_bytes (connection, BACKSTOP_US, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "from the child", 14);

  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  mp_listener_close (listener);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

static void
test_tcp_loopback (void)
{
  g_autoptr(GBytes) key = make_key (9);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) late = NULL;
  g_autofree char *address = NULL;
  guint64 port = 0;

  listener = mp_listener_new ("tcp:127.0.0.1:0", key, &error);
  g_assert_no_error (error);
  address = g_strdup (mp_listener_get_address (listener));
  g_assert_true (g_str_has_prefix (address, "tcp:127.0.0.1:"));
  g_assert_true (g_ascii_string_to_unsigned (address + strlen ("tcp:127.0.0.1:"), 10,
                                             1, 65535, &port, NULL));

  assert_echoes (listener, address, key, "hello over tcp");

  mp_listener_close (listener);
  late = mp_connection_connect (address, key, BACKSTOP_US, &error);
  g_assert_null (late);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
}

static void
test_tcp_bare_host_port (void)
{
  g_autoptr(GBytes) key = make_key (9);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;
  const char *address;

  listener = mp_listener_new ("127.0.0.1:0", key, &error);
  g_assert_no_error (error);
  address = mp_listener_get_address (listener);
  g_assert_true (g_str_has_prefix (address, "tcp:127.0.0.1:"));

  /* the bare form connects too */
  assert_echoes (listener, address + strlen ("tcp:"), key, "bare");
}

static void
test_tcp_ipv6_loopback (void)
{
  g_autoptr(GBytes) key = make_key (9);
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(GError) error = NULL;

  listener = mp_listener_new ("tcp:[::1]:0", key, &error);
  if (listener == NULL)
    {
      g_test_skip_printf ("no IPv6 loopback here: %s", error->message);
      return;
    }
  g_assert_true (g_str_has_prefix (mp_listener_get_address (listener), "tcp:[::1]:"));

  assert_echoes (listener, mp_listener_get_address (listener), key, "hello over ipv6");
  /* GLib reads the brackets of the bare form too */
  assert_echoes (listener, mp_listener_get_address (listener) + strlen ("tcp:"),
                 key, "bare ipv6");
}

/* A TCP socket bound to a free loopback port, not listening yet; returns
 * the port's address, "tcp:127.0.0.1:PORT". */
static char *
bind_free_loopback_port (GSocket **out_socket)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, any_port, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *out_socket = g_steal_pointer (&socket);
  return g_strdup_printf ("tcp:127.0.0.1:%u",
                          g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
}

/* A connect deadline below a second holds: GSocketClient's own timeout
 * counts whole seconds. A listener with a backlog of 0 takes one
 * connection into its queue and drops the SYNs of the next ones, so the
 * second connect gets no answer at all. */
static void
test_tcp_connect_deadline (void)
{
  g_autoptr(GBytes) key = make_key (9);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) full = NULL;
  g_autoptr(GSocket) first = NULL;
  g_autoptr(MpConnection) connection = NULL;
  g_autofree char *address = bind_free_loopback_port (&full);

  g_socket_set_listen_backlog (full, 0);
  g_assert_true (g_socket_listen (full, &error));
  bound = g_socket_get_local_address (full, &error);
  g_assert_no_error (error);
  first = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_true (g_socket_connect (first, bound, NULL, &error));
  g_assert_no_error (error);

  connection = mp_connection_connect (address, key, 200 * 1000, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "no answer in time"));
}

static void
test_address_invalid (void)
{
  static const char *const bad[] = {
    "", "unix:", "unix:relative/path", "unix:@abstract", "tcp:", "tcp:host",
    "tcp::80", "tcp:127.0.0.1:", "tcp:127.0.0.1:65536", "tcp:127.0.0.1:-1",
    "tcp:127.0.0.1:+80", "tcp:127.0.0.1:80x", "tcp:127.0.0.1: 80",
    "tcp:127.0.0.1:123456", " tcp:127.0.0.1:80", "tcp:[::1:80", "tcp:[::1]80",
    "tcp:[localhost]:80", "tcp:a b:80", "http://example.org:80", "tcp:ho/st:1",
    "127.0.0.1", "nothing-at-all",
  };
  g_autoptr(GBytes) key = make_key (1);
  g_autofree char *long_path = g_strnfill (200, 'x');
  g_autofree char *long_address = g_strconcat ("unix:/", long_path, NULL);

  for (gsize i = 0; i <= G_N_ELEMENTS (bad); i++)
    {
      const char *address = i < G_N_ELEMENTS (bad) ? bad[i] : long_address;
      g_autoptr(GError) error = NULL;
      g_autoptr(MpConnection) connection = NULL;
      g_autoptr(MpListener) listener = NULL;

      g_test_message ("address \"%s\"", address);
      connection = mp_connection_connect (address, key, 0, &error);
      g_assert_null (connection);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      listener = mp_listener_new (address, key, &error);
      g_assert_null (listener);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
    }
}

/* the reason is in the message, so a typo is easy to spot */
static void
test_address_reasons (void)
{
  g_autofree char *long_host = g_strnfill (254, 'h');
  g_autofree char *long_host_address = g_strconcat ("tcp:", long_host, ":80", NULL);
  g_autofree char *max_host = g_strnfill (253, 'h');
  g_autofree char *max_host_address = g_strconcat ("tcp:", max_host, ":0", NULL);
  const struct {
    const char *address;
    const char *why;
  } bad[] = {
    { "tcp:[127.0.0.1]:80", "the part in brackets is not an IPv6 address" },
    { "[::1]", "an IPv6 host is written [ADDRESS]:PORT" },
    { long_host_address, "the host name is too long" },
    { "tcp:ho$t:80", "the host is neither an address nor a host name" },
    { "unix:tmp/x", "a Unix socket path must be absolute" },
    { "tcp::80", "0.0.0.0 for all interfaces, where anyone who reaches the port can try keys" },
    { "tcp:127.0.0.1:99999", "the port must be a number from 0 to 65535" },
  };
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(MpListener) listener = mp_listener_new (bad[i].address, key, &error);

      g_assert_null (listener);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, bad[i].why));
      g_assert_nonnull (strstr (error->message, "Use \"unix:/absolute/path\""));
      g_clear_error (&error);
    }

  /* 253 characters is still a host name: the port is what is wrong */
  connection = mp_connection_connect (max_host_address, key, 0, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "port 0 means \"any\""));
}

/* Where g_network_address_parse() does the reading, the errors stay ours:
 * MP_ERROR_INVALID_ARGUMENT, what is wrong, the forms that work. */
static void
test_address_glib_parsed (void)
{
  const struct {
    const char *address;
    const char *why;
  } bad[] = {
    { "localhost", "no port" },
    { "tcp:[::1]", "no port (an IPv6 host is written [ADDRESS]:PORT)" },
    { "[::1]:", "the port must be a number from 0 to 65535" },
    { "localhost:65536", "the port must be a number from 0 to 65535" },
    { "tcp:[::1]:70000", "the port must be a number from 0 to 65535" },
    /* GLib would look "http" up in /etc/services */
    { "localhost:http", "the port must be a number from 0 to 65535" },
    /* GLib would read it as one IPv6 address with no port */
    { "::1:80", "an IPv6 host is written [ADDRESS]:PORT" },
    { "tcp:[::1]x:80", "an IPv6 host is written [ADDRESS]:PORT" },
  };
  g_autoptr(GBytes) key = make_key (1);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpListener) listener = NULL;
      g_autoptr(MpConnection) connection = NULL;

      listener = mp_listener_new (bad[i].address, key, &error);
      g_assert_null (listener);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, bad[i].why));
      g_assert_nonnull (strstr (error->message, "Use \"unix:/absolute/path\""));
      g_clear_error (&error);

      connection = mp_connection_connect (bad[i].address, key, BACKSTOP_US, &error);
      g_assert_null (connection);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_assert_nonnull (strstr (error->message, bad[i].why));
    }
}

/* A host name that does not resolve (".invalid" never does, RFC 2606)
 * says so in our words, for listening and for connecting. */
static void
test_address_unresolvable (void)
{
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpListener) listener = NULL;
  g_autoptr(MpConnection) connection = NULL;

  listener = mp_listener_new ("tcp:no-such-host.invalid:0", key, &error);
  g_assert_null (listener);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot resolve host \"no-such-host.invalid\""));
  g_assert_nonnull (strstr (error->message, "Check the name, or use an IP address"));
  g_clear_error (&error);

  connection = mp_connection_connect ("no-such-host.invalid:80", key, BACKSTOP_US, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "Cannot resolve host \"no-such-host.invalid\""));
}

/* A port that is bound but not listening refuses at once: the error
 * says nothing listens there, the way a dead manager's address does. */
static void
test_address_tcp_refused (void)
{
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) holder = NULL;
  g_autoptr(MpConnection) connection = NULL;
  g_autofree char *address = bind_free_loopback_port (&holder);

  connection = mp_connection_connect (address, key, BACKSTOP_US, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_assert_nonnull (strstr (error->message, "Nothing listens at"));
  g_assert_true (mp_connection_error_is_peer_gone (error));
}

static void
test_address_connect_port_zero (void)
{
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;

  connection = mp_connection_connect ("tcp:127.0.0.1:0", key, 0, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

static void
test_address_missing_socket (void)
{
  g_autoptr(GBytes) key = make_key (1);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpConnection) connection = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-connection-XXXXXX", NULL);
  g_autofree char *address = g_strconcat ("unix:", dir, "/no-such-socket", NULL);

  connection = mp_connection_connect (address, key, BACKSTOP_US, &error);
  g_assert_null (connection);
  g_assert_error (error, MP_ERROR, MP_ERROR_CONNECTION_CLOSED);
  g_assert_true (mp_connection_error_is_peer_gone (error));
  g_assert_no_errno (g_rmdir (dir));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/connection/frame/header", test_frame_header);
  g_test_add_func ("/connection/frame/decoder-splits", test_frame_decoder_splits);
  g_test_add_func ("/connection/frame/decoder-oversize", test_frame_decoder_oversize);
  g_test_add_func ("/connection/frame/roundtrip", test_frame_roundtrip);
  g_test_add_func ("/connection/frame/oversize", test_frame_oversize);
  g_test_add_func ("/connection/frame/truncated", test_frame_truncated);
  g_test_add_func ("/connection/frame/truncated-header", test_frame_truncated_header);
  g_test_add_func ("/connection/frame/eof", test_frame_eof);
  g_test_add_func ("/connection/frame/send-to-gone-peer", test_frame_send_to_gone_peer);
  g_test_add_func ("/connection/frame/timeout-resumes", test_frame_timeout_resumes);
  g_test_add_func ("/connection/frame/lent", test_frame_lent);
  g_test_add_func ("/connection/frame/no-read-ahead", test_frame_no_read_ahead);
  g_test_add_func ("/connection/frame/shutdown-wakes-reader", test_frame_shutdown_wakes_reader);
  g_test_add_func ("/connection/frame/close-inherited-copy", test_frame_close_inherited_copy);
  g_test_add_func ("/connection/fd/not-a-stream-socket", test_fd_not_a_stream_socket);
  g_test_add_func ("/connection/variant/roundtrip", test_variant_roundtrip);
  g_test_add_func ("/connection/variant/not-normal", test_variant_not_normal);
  g_test_add_func ("/connection/auth/messages", test_auth_messages);
  g_test_add_func ("/connection/auth/known-digest", test_auth_known_digest);
  g_test_add_func ("/connection/auth/ok", test_auth_ok);
  g_test_add_func ("/connection/auth/wrong-key", test_auth_wrong_key);
  g_test_add_func ("/connection/auth/client-checks-server", test_auth_client_checks_server);
  g_test_add_func ("/connection/auth/empty-key", test_auth_empty_key);
  g_test_add_func ("/connection/auth/oversize-challenge", test_auth_oversize_challenge);
  g_test_add_func ("/connection/auth/not-a-challenge", test_auth_not_a_challenge);
  g_test_add_func ("/connection/auth/refused", test_auth_refused);
  g_test_add_func ("/connection/auth/refused-mid-handshake", test_auth_refused_mid_handshake);
  g_test_add_func ("/connection/unix/mode-0600", test_unix_mode_0600);
  g_test_add_func ("/connection/unix/connect-accept", test_unix_connect_accept);
  g_test_add_func ("/connection/unix/wrong-key-keeps-serving", test_unix_wrong_key_keeps_serving);
  g_test_add_func ("/connection/unix/garbage-frame", test_unix_garbage_frame);
  g_test_add_func ("/connection/unix/garbage-after-auth", test_unix_garbage_after_auth);
  g_test_add_func ("/connection/unix/explicit-path", test_unix_explicit_path);
  g_test_add_func ("/connection/unix/stale-socket", test_unix_stale_socket);
  g_test_add_func ("/connection/unix/shutdown-wakes-accept", test_unix_shutdown_wakes_accept);
  g_test_add_func ("/connection/unix/accept-timeout", test_unix_accept_timeout);
  g_test_add_func ("/connection/unix/silent-client", test_unix_silent_client);
  g_test_add_func ("/connection/unix/fork-child", test_unix_fork_child);
  g_test_add_func ("/connection/tcp/loopback", test_tcp_loopback);
  g_test_add_func ("/connection/tcp/all-interfaces-warns", test_tcp_all_interfaces_warns);
  g_test_add_func ("/connection/listener/short-key-warns", test_listener_short_key_warns);
  g_test_add_func ("/connection/tcp/bare-host-port", test_tcp_bare_host_port);
  g_test_add_func ("/connection/tcp/ipv6-loopback", test_tcp_ipv6_loopback);
  g_test_add_func ("/connection/tcp/connect-deadline", test_tcp_connect_deadline);
  g_test_add_func ("/connection/address/invalid", test_address_invalid);
  g_test_add_func ("/connection/address/connect-port-zero", test_address_connect_port_zero);
  g_test_add_func ("/connection/address/reasons", test_address_reasons);
  g_test_add_func ("/connection/address/glib-parsed", test_address_glib_parsed);
  g_test_add_func ("/connection/address/unresolvable", test_address_unresolvable);
  g_test_add_func ("/connection/address/tcp-refused", test_address_tcp_refused);
  g_test_add_func ("/connection/address/missing-socket", test_address_missing_socket);

  return g_test_run ();
}
