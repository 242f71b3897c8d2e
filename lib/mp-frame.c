/* mp-frame.c — frames: a length prefix and a payload, encoded and decoded
 *
 * A frame is a 4-byte big-endian length and that many bytes, as in
 * CPython's multiprocessing/connection.py. The decoder takes bytes as
 * they arrive and hands out whole frames; it is a pure function of its
 * input, so tests and the fuzzer feed it any bytes without a socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mpshare.h"
#include "mp-frame-private.h"

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
