/* fuzz-frame.c — libFuzzer target: untrusted bytes into the frame decoder,
 * the handshake and message readers, and the manager's wire checks of
 * requests and replies
 *
 * Build and run a fixed number of executions (clang, libclang-rt-14-dev):
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true \
 *     -Db_sanitize=address,undefined -Db_lundef=false
 *   ninja -C build-fuzz tests/fuzz/fuzz-frame
 *   ./build-fuzz/tests/fuzz/fuzz-frame -runs=1000000 \
 *     "$(mktemp -d)" tests/fuzz/corpus/frame
 *
 * The first directory collects new inputs; the seed corpus stays as it is.
 * An input that crashed once goes into tests/fuzz/corpus/frame, where the
 * "fuzz-replay" test runs it on every `meson test`.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpshare.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"
#include "mp-manager-private.h"
#include "../message-reference.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* The receiver chooses the type; these cover the shapes the manager uses. */
static const char *const message_types[] = { "(sv)", "a{sv}", "(uuay)", "v", "(sava{sv})",
                                             MP_MSG_REPLY };

static gboolean
count_token (const MpToken *token,
             gpointer       user_data)
{
  g_assert_nonnull (token->typeid);
  g_assert_nonnull (token->address);
  (*(guint *) user_data)++;
  return TRUE;
}

/* what the server checks in a request's arguments */
static void
read_request (const MpRequest *request)
{
  for (gsize i = 0; i < mp_argv_len (&request->args); i++)
    {
      GVariant *wire = mp_argv_get (&request->args, i);
      g_autoptr(GError) error = NULL;
      guint n_tokens = 0;
      gint64 n;
      double d;
      gboolean b;

      if (!mp_wire_check (wire, &error))
        {
          g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
          continue;
        }
      mp_wire_foreach_token (wire, count_token, &n_tokens);
      mp_wire_get_int (wire, &n);
      mp_wire_get_double (wire, &d);
      mp_wire_get_bool (wire, &b);
      mp_wire_peek_string (wire);
      mp_wire_is_none (wire);
    }
}

/* what a client checks in a reply (mp-manager-client.c, parse_reply) */
static void
read_reply (GVariant *reply)
{
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) inner = NULL;
  g_autoptr(GError) error = NULL;
  guint8 kind;

  g_variant_get (reply, "(y@v)", &kind, &boxed);
  inner = g_variant_get_variant (boxed);
  if (kind == MP_REPLY_RETURN && !mp_wire_check (boxed, &error))
    g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  else if (kind == MP_REPLY_ERROR && g_variant_is_of_type (inner, G_VARIANT_TYPE (MP_MSG_ERROR)))
    {
      mp_client_set_remote_error (&error, inner);
      g_assert_true (error != NULL && error->domain == MP_ERROR);
    }
}

/* The manager reads its envelopes (mp-manager-message.c): it must
 * accept exactly what the table in mp-manager-private.h and GLib's
 * verdict on each value accept, whether the frame is held by its bytes
 * or lent from a connection's buffer (at any address), read the same
 * fields, and write an accepted request again byte for byte. A reply is
 * also the normal form of a "(yv)": GLib judges it whole. */
static void
read_envelopes (GBytes *frame)
{
  g_autoptr(GVariant) request_ref = NULL;
  g_autoptr(GVariant) reply_glib = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  g_autofree guint8 *buffer = g_malloc (len + 5);
  MpFrame held = MP_FRAME_INIT;
  MpFrame lent = { buffer + 5, len, NULL };

  if (len > 0)
    memcpy (buffer + 5, data, len);
  mp_frame_take_bytes (&held, g_bytes_ref (frame));

  request_ref = reference_read_request (data, len);
  /* GLib 2.74 reads past the end of a "(yv)" of 1 to 7 bytes while it
   * judges it; none is valid, and ours refuses them without reading */
  if (len >= 8)
    reply_glib = mp_connection_variant_from_frame (frame, G_VARIANT_TYPE (MP_MSG_REPLY), NULL);

  for (int way = 0; way < 2; way++)
    {
      const MpFrame *f = way == 0 ? &held : &lent;
      g_autoptr(GVariant) payload = NULL;
      g_autoptr(GError) error = NULL;
      MpRequest request = { 0 };
      guint8 kind;

      g_assert (mp_message_decode_request (f, &request, &error) == (request_ref != NULL));
      if (request_ref != NULL)
        {
          g_autoptr(GVariant) args = mp_argv_to_variant (&request.args, 0);
          g_autoptr(GVariant) ours = g_variant_ref_sink (g_variant_new ("(ts@avt)", request.id,
                                                                        request.method, args,
                                                                        request.thread));
          g_autoptr(GByteArray) again = g_byte_array_new ();

          g_assert (g_variant_equal (ours, request_ref));
          mp_message_write_request (again, request.id, request.method, &request.args,
                                    request.thread);
          g_assert (again->len == len && memcmp (again->data, data, len) == 0);
          read_request (&request);
        }
      else
        g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
      mp_request_clear (&request);
      g_clear_error (&error);

      g_assert (mp_message_decode_reply (f, &kind, &payload, &error) == (reply_glib != NULL));
      if (reply_glib != NULL)
        {
          g_autoptr(GVariant) boxed = g_variant_get_child_value (reply_glib, 1);

          g_assert (g_variant_equal (payload, boxed));
        }
      else
        g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
      /* the same verdict when the payload is not asked for (a plain
       * RETURN nobody reads: None by its bytes, the rest judged) */
      {
        guint8 kind_alone = 0xff;

        g_assert (mp_message_decode_reply (f, &kind_alone, NULL, NULL) == (reply_glib != NULL));
        g_assert (reply_glib == NULL || kind_alone == kind);
      }
    }
  mp_frame_clear (&held);
}

static void
read_messages (GBytes *frame)
{
  static const guint8 key_bytes[32] = { 1, 2, 3 };
  g_autoptr(GBytes) key = g_bytes_new_static (key_bytes, sizeof key_bytes);
  g_autoptr(GBytes) response = NULL;
  g_autoptr(GBytes) challenge = g_bytes_new_static (MP_AUTH_CHALLENGE MP_AUTH_DIGEST
                                                    "0123456789012345678901234567890123456789",
                                                    strlen (MP_AUTH_CHALLENGE MP_AUTH_DIGEST) + 40);

  /* as a challenge from a server, and as an answer to ours */
  response = mp_auth_make_response (key, frame, NULL);
  mp_auth_verify_response (key, challenge, frame, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (message_types); i++)
    {
      g_autoptr(GVariant) value = NULL;

      value = mp_connection_variant_from_frame (frame, G_VARIANT_TYPE (message_types[i]), NULL);
      if (value != NULL)
        {
          g_autofree char *text = g_variant_print (value, TRUE);
          (void) text;
          if (g_variant_is_of_type (value, G_VARIANT_TYPE (MP_MSG_REPLY)))
            read_reply (value);
        }
    }
  read_envelopes (frame);
}

/* The decoder alone, fed in chunks whose sizes come from the input. */
static void
decode_in_chunks (const guint8 *data,
                  size_t        size,
                  gsize         max_frame,
                  gsize         chunk)
{
  MpFrameDecoder decoder;
  gsize offset = 0;

  mp_frame_decoder_init (&decoder, max_frame);
  while (offset < size)
    {
      g_autoptr(GBytes) frame = NULL;
      gsize len = MIN (chunk, size - offset);
      gssize used = mp_frame_decoder_feed (&decoder, data + offset, len, &frame, NULL);

      if (used < 0)
        break;
      g_assert ((gsize) used <= len);
      offset += (gsize) used;
      if (frame != NULL)
        {
          g_assert (g_bytes_get_size (frame) <= max_frame);
          read_messages (frame);
        }
    }
  mp_frame_decoder_clear (&decoder);
}

/* A connection reading @data (at most 64 KiB) as if a peer had sent it
 * and hung up; NULL when that cannot be set up. */
static MpConnection *
connection_reading (const guint8 *data,
                    size_t        size,
                    gsize         max_frame)
{
  g_autoptr(MpConnection) connection = NULL;
  int fds[2];

  if (size > 64 * 1024 || socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    return NULL;
  connection = mp_connection_new_for_fd (fds[0], NULL);
  if (connection == NULL || (size > 0 && write (fds[1], data, size) != (ssize_t) size))
    {
      close (fds[1]);
      return NULL;
    }
  close (fds[1]);
  mp_connection_set_max_frame_size (connection, max_frame);
  return g_steal_pointer (&connection);
}

/* The same bytes through a real connection: read-ahead, direct payload
 * reads, the end of the stream in any place; received as new bytes,
 * then again as frames lent where they can be: the same frames. */
static void
decode_from_socket (const guint8 *data,
                    size_t        size,
                    gsize         max_frame)
{
  g_autoptr(MpConnection) connection = connection_reading (data, size, max_frame);
  g_autoptr(MpConnection) lending = connection_reading (data, size, max_frame);
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  if (connection == NULL || lending == NULL)
    return;
  for (;;)
    {
      GBytes *frame = mp_connection_recv_bytes (connection, 0, NULL);

      if (frame == NULL)
        break;
      g_assert (g_bytes_get_size (frame) <= max_frame);
      g_ptr_array_add (frames, frame);
    }
  g_assert (mp_connection_is_closed (connection));

  for (guint i = 0;; i++)
    {
      MpFrame frame = MP_FRAME_INIT;
      gboolean got = mp_connection_recv_frame (lending, 0, &frame, NULL);

      g_assert (got == (i < frames->len));
      if (!got)
        break;
      g_assert (frame.len == g_bytes_get_size (frames->pdata[i]));
      g_assert (frame.len == 0 ||
                memcmp (frame.data, g_bytes_get_data (frames->pdata[i], NULL), frame.len) == 0);
      mp_frame_clear (&frame);
    }
  g_assert (mp_connection_is_closed (lending));
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  gsize max_frame, chunk;

  if (size < 2)
    return 0;
  /* two bytes of the input pick the limit and the chunk size */
  max_frame = 1 + (gsize) data[0] * 256;
  chunk = 1 + data[1];
  data += 2;
  size -= 2;

  decode_in_chunks (data, size, max_frame, chunk);
  decode_in_chunks (data, size, max_frame, size > 0 ? size : 1);
  decode_from_socket (data, size, max_frame);
  return 0;
}
