/* mp-auth.c — the HMAC challenge on the auth key, message by message and
 * on a connection
 *
 * Each side sends a random challenge; the other proves it holds the key
 * with an HMAC-SHA256 over it (CPython 3.12+'s "{sha256}" handshake in
 * multiprocessing/connection.py: deliver_challenge, answer_challenge).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "mpshare.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"

/* ------------------------------------------------------------------ */
/* the messages                                                         */
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

/* An empty key would make every HMAC predictable. */
gboolean
mp_auth_check_key (GBytes  *authkey,
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
/* the handshake on a connection                                        */
/* ------------------------------------------------------------------ */

static gboolean
send_message (MpConnection *self,
              GBytes       *message,
              GError      **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (message, &len);

  return mp_connection_send_data (self, data, len, error);
}

static gboolean
send_literal (MpConnection *self,
              const char   *message,
              GError      **error)
{
  return mp_connection_send_data (self, (const guint8 *) message, strlen (message), error);
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
recv_message (MpConnection *self,
              gint64        deadline,
              GError      **error)
{
  g_autoptr(GBytes) message = NULL;
  gsize len = 0;
  const guint8 *data;

  message = mp_connection_recv_limited (self, MP_AUTH_MAX_MESSAGE, deadline, error);
  if (message == NULL)
    return NULL;
  data = g_bytes_get_data (message, &len);
  if (is_refusal (data, len, error))
    return NULL;
  return g_steal_pointer (&message);
}

/* The server hung up while we were sending: it may have said why just
 * before, in bytes that arrived but were not read yet. */
static gboolean
find_refusal (MpConnection *self,
              GError      **error)
{
  guint8 buf[MP_FRAME_HEADER_SIZE + MP_AUTH_MAX_MESSAGE];
  gsize len = mp_connection_peek (self, buf, sizeof buf), payload;

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
  if (challenge == NULL || !send_message (self, challenge, error))
    return FALSE;

  response = recv_message (self, deadline, error);
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

  challenge = recv_message (self, deadline, error);
  if (challenge == NULL)
    return FALSE;
  response = mp_auth_make_response (authkey, challenge, error);
  if (response == NULL || !send_message (self, response, error))
    return FALSE;

  verdict = recv_message (self, deadline, error);
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

/* The four public calls are these steps in some order; they share their
 * argument checks here, so a failed check names this function. */
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

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (authkey != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!mp_auth_check_key (authkey, error))
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
  mp_connection_break (self);
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
  return run_handshake (self, authkey, timeout_us, answer_challenge,
                        deliver_challenge, error);
}
