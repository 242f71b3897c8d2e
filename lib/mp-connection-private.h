/* mp-connection-private.h — frames on a connection, for the manager, the
 * pool, the handshake, connecting and listening
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"
#include "mp-frame-private.h"

G_BEGIN_DECLS

gboolean mp_connection_recv_frame        (MpConnection   *self,
                                          gint64          timeout_us,
                                          MpFrame        *frame,
                                          GError        **error);

/* Sends @frame whole: its first MP_FRAME_HEADER_SIZE bytes are room for
 * the header, filled in here; the payload follows. One send() carries
 * both, where mp_connection_send_bytes() needs a sendmsg() of two parts. */
gboolean mp_connection_send_frame        (MpConnection   *self,
                                          GByteArray     *frame,
                                          GError        **error);

void     mp_connection_set_read_ahead    (MpConnection   *self,
                                          gboolean        read_ahead);

GVariant *mp_connection_variant_from_frame (GBytes             *frame,
                                            const GVariantType *type,
                                            GError            **error);

/* For the handshake (mp-auth.c), connecting and listening. */
MpConnection *mp_connection_new_for_stream (GSocketConnection *stream);
gboolean mp_connection_send_data         (MpConnection   *self,
                                          const guint8   *data,
                                          gsize           len,
                                          GError        **error);
GBytes  *mp_connection_recv_limited      (MpConnection   *self,
                                          gsize           limit,
                                          gint64          deadline,
                                          GError        **error);
gsize    mp_connection_peek              (MpConnection   *self,
                                          guint8         *buf,
                                          gsize           size);
void     mp_connection_break             (MpConnection   *self);

gboolean mp_socket_error_is_peer_gone    (const GError   *gio_error);
void     mp_set_error_from_socket        (GError        **error,
                                          GError         *gio_error,
                                          const char     *what);
void     mp_socket_set_nodelay_if_tcp    (GSocket        *socket);

G_END_DECLS
