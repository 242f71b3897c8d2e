/* mp-frame-private.h — frames: the length prefix and the decoder
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

G_END_DECLS
