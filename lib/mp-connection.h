/* mp-connection.h — framed messages between two processes over a socket
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <gio/gio.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * A frame is a length (4 bytes, big endian, at most 0x7fffffff) and that
 * many payload bytes: the same as CPython's multiprocessing.connection for
 * frames below 2 GiB. The handshake that comes first is in mp-auth.h.
 *
 * Timeouts are in microseconds: a negative timeout waits for ever, 0 does
 * not wait at all.
 */

/**
 * MP_CONNECTION_DEFAULT_MAX_FRAME:
 *
 * The largest payload a new connection accepts (64 MiB): a peer that
 * announces more is cut off before anything is allocated.
 *
 * Since: 0.1
 */
#define MP_CONNECTION_DEFAULT_MAX_FRAME ((gsize) 64 * 1024 * 1024)

/**
 * MP_CONNECTION_MAX_FRAME_LIMIT:
 *
 * The upper bound of any frame-size limit: the length prefix is a signed
 * 32-bit number on CPython's side.
 *
 * Since: 0.1
 */
#define MP_CONNECTION_MAX_FRAME_LIMIT ((gsize) G_MAXINT32)

/**
 * MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT:
 *
 * How long a listener waits for a new peer to finish the handshake
 * (10 s): a silent peer must not stall the accept loop for ever.
 *
 * Since: 0.1
 */
#define MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT (10 * G_USEC_PER_SEC)

/**
 * MpConnection:
 *
 * A connection between two processes carrying framed messages over a
 * socket, after an HMAC challenge on the auth key (Python's
 * `multiprocessing.connection.Connection`). Reference counted; created
 * and used from C only (not available to language bindings).
 *
 * Since: 0.1
 */
typedef struct _MpConnection MpConnection;

/* connections */
MP_AVAILABLE_IN_ALL
MpConnection *mp_connection_new_for_socket    (GSocket       *socket);
MP_AVAILABLE_IN_ALL
MpConnection *mp_connection_new_for_fd        (int            fd,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_new_pair          (MpConnection **out_first,
                                               MpConnection **out_second,
                                               GError       **error);

MP_AVAILABLE_IN_ALL
MpConnection *mp_connection_ref               (MpConnection  *self);
MP_AVAILABLE_IN_ALL
void          mp_connection_unref             (MpConnection  *self);

MP_AVAILABLE_IN_ALL
GSocket      *mp_connection_get_socket        (MpConnection  *self);
MP_AVAILABLE_IN_ALL
gsize         mp_connection_get_max_frame_size (MpConnection *self);
MP_AVAILABLE_IN_ALL
void          mp_connection_set_max_frame_size (MpConnection *self,
                                                gsize         max_frame);

MP_AVAILABLE_IN_ALL
gboolean      mp_connection_send_bytes        (MpConnection  *self,
                                               GBytes        *payload,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
GBytes       *mp_connection_recv_bytes        (MpConnection  *self,
                                               gint64         timeout_us,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_poll              (MpConnection  *self,
                                               gint64         timeout_us);

MP_AVAILABLE_IN_ALL
gboolean      mp_connection_send_variant      (MpConnection  *self,
                                               GVariant      *value,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
GVariant     *mp_connection_recv_variant      (MpConnection  *self,
                                               const GVariantType *type,
                                               gint64         timeout_us,
                                               GError       **error);

MP_AVAILABLE_IN_ALL
void          mp_connection_shutdown          (MpConnection  *self);
MP_AVAILABLE_IN_ALL
void          mp_connection_close             (MpConnection  *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_is_closed         (MpConnection  *self);

MP_AVAILABLE_IN_ALL
gboolean      mp_connection_error_is_peer_gone (const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpConnection, mp_connection_unref)

G_END_DECLS
