/* mp-auth.h — the HMAC challenge that opens every connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include "mp-connection.h"

G_BEGIN_DECLS

/*
 * The messages (CPython 3.12+'s "{sha256}" handshake), each one frame:
 *
 *   challenge  = "#CHALLENGE#" "{sha256}" 40 random bytes
 *   response   = "{sha256}" HMAC-SHA256 (key, challenge without "#CHALLENGE#")
 *   verdict    = "#WELCOME#" | "#FAILURE#"
 *
 * The server delivers its challenge first and then answers the client's;
 * the client does the opposite, so both sides prove they hold the key.
 */

MP_AVAILABLE_IN_ALL
gboolean      mp_connection_deliver_challenge (MpConnection  *self,
                                               GBytes        *authkey,
                                               gint64         timeout_us,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_answer_challenge  (MpConnection  *self,
                                               GBytes        *authkey,
                                               gint64         timeout_us,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_authenticate_server (MpConnection *self,
                                                 GBytes       *authkey,
                                                 gint64        timeout_us,
                                                 GError      **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_connection_authenticate_client (MpConnection *self,
                                                 GBytes       *authkey,
                                                 gint64        timeout_us,
                                                 GError      **error);

G_END_DECLS
