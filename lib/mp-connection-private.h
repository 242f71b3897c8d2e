/* mp-connection-private.h — the frame decoder and the handshake messages
 *
 * Pure functions over buffers, so tests and the fuzzer can feed them any
 * bytes without a socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

#define MP_FRAME_HEADER_SIZE 4

/* Handshake messages are tiny; a peer that has not proved it holds the key
 * may make us allocate no more than this (CPython uses the same bound). */
#define MP_AUTH_MAX_MESSAGE 256
#define MP_AUTH_NONCE_SIZE 40
#define MP_AUTH_MIN_NONCE_SIZE 20

#define MP_AUTH_CHALLENGE "#CHALLENGE#"
#define MP_AUTH_WELCOME   "#WELCOME#"
#define MP_AUTH_FAILURE   "#FAILURE#"
/* sent instead of a handshake message by a live server that turns a
 * peer away, followed by the reason in words (not in CPython: its
 * clients see a failed handshake) */
#define MP_AUTH_REFUSED   "#REFUSED#"
#define MP_AUTH_DIGEST    "{sha256}"

/* Incremental frame decoder: bytes go in as they arrive, whole frames come
 * out. A frame's payload is allocated once its length is known and checked
 * against max_frame, so a hostile length costs nothing. */
typedef struct {
  gsize   max_frame;
  guint8  header[MP_FRAME_HEADER_SIZE];
  gsize   header_got;
  guint8 *payload;        /* NULL until the header is complete */
  gsize   payload_len;
  gsize   payload_got;
} MpFrameDecoder;

void     mp_frame_encode_header          (guint8          header[MP_FRAME_HEADER_SIZE],
                                          gsize           payload_len);
gboolean mp_frame_parse_header           (const guint8    header[MP_FRAME_HEADER_SIZE],
                                          gsize           max_frame,
                                          gsize          *out_payload_len,
                                          GError        **error);

void     mp_frame_decoder_init           (MpFrameDecoder *self,
                                          gsize           max_frame);
void     mp_frame_decoder_clear          (MpFrameDecoder *self);
gboolean mp_frame_decoder_is_mid_frame   (const MpFrameDecoder *self);
gssize   mp_frame_decoder_feed           (MpFrameDecoder *self,
                                          const guint8   *data,
                                          gsize           len,
                                          GBytes        **out_frame,
                                          GError        **error);
guint8  *mp_frame_decoder_payload_space  (MpFrameDecoder *self,
                                          gsize          *out_space);
GBytes  *mp_frame_decoder_payload_commit (MpFrameDecoder *self,
                                          gsize           n);

/* One received frame: @len bytes at @data, held by @bytes, or lent by
 * the connection (@bytes %NULL) until its next receive. */
typedef struct {
  const guint8 *data;
  gsize         len;
  GBytes       *bytes;
} MpFrame;

#define MP_FRAME_INIT { NULL, 0, NULL }

void     mp_frame_take_bytes             (MpFrame        *frame,
                                          GBytes         *bytes);
GBytes  *mp_frame_slice                  (const MpFrame  *frame,
                                          gsize           offset,
                                          gsize           size);
void     mp_frame_clear                  (MpFrame        *frame);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpFrame, mp_frame_clear)

gboolean mp_connection_recv_frame        (MpConnection   *self,
                                          gint64          timeout_us,
                                          MpFrame        *frame,
                                          GError        **error);

/* the handshake, message by message */
GBytes  *mp_auth_make_challenge          (GError        **error);
GBytes  *mp_auth_make_response           (GBytes         *authkey,
                                          GBytes         *challenge,
                                          GError        **error);
gboolean mp_auth_verify_response         (GBytes         *authkey,
                                          GBytes         *challenge,
                                          GBytes         *response,
                                          GError        **error);

/* Sends @frame whole: its first MP_FRAME_HEADER_SIZE bytes are room for
 * the header, filled in here; the payload follows. One send() carries
 * both, where mp_connection_send_bytes() needs a sendmsg() of two parts. */
gboolean mp_connection_send_frame        (MpConnection   *self,
                                          GByteArray     *frame,
                                          GError        **error);

void     mp_connection_set_read_ahead    (MpConnection   *self,
                                          gboolean        read_ahead);

GSocket      *mp_listener_get_socket         (MpListener *self);
GCancellable *mp_listener_get_cancellable    (MpListener *self);
GBytes       *mp_listener_get_authkey        (MpListener *self);
gsize         mp_listener_get_max_frame_size (MpListener *self);

GVariant *mp_connection_variant_from_frame (GBytes             *frame,
                                            const GVariantType *type,
                                            GError            **error);

G_END_DECLS
