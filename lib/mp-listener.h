/* mp-listener.h — accepting authenticated connections on an address
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include "mp-connection.h"

G_BEGIN_DECLS

/**
 * MpListener:
 *
 * Accepts #MpConnection peers on a Unix-domain or TCP address (Python's
 * `multiprocessing.connection.Listener`). Reference counted; C only.
 *
 * Since: 0.1
 */
typedef struct _MpListener   MpListener;

MP_AVAILABLE_IN_ALL
MpListener   *mp_listener_new                 (const char    *address,
                                               GBytes        *authkey,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
MpListener   *mp_listener_ref                 (MpListener    *self);
MP_AVAILABLE_IN_ALL
void          mp_listener_unref               (MpListener    *self);

MP_AVAILABLE_IN_ALL
const char   *mp_listener_get_address         (MpListener    *self);
MP_AVAILABLE_IN_ALL
void          mp_listener_set_handshake_timeout (MpListener  *self,
                                                 gint64       timeout_us);
MP_AVAILABLE_IN_ALL
void          mp_listener_set_max_frame_size  (MpListener    *self,
                                               gsize          max_frame);

MP_AVAILABLE_IN_ALL
MpConnection *mp_listener_accept              (MpListener    *self,
                                               gint64         timeout_us,
                                               GError       **error);
MP_AVAILABLE_IN_ALL
MpConnection *mp_listener_accept_unauthenticated (MpListener *self,
                                                  gint64      timeout_us,
                                                  GError    **error);
MP_AVAILABLE_IN_ALL
void          mp_listener_shutdown            (MpListener    *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_listener_is_shut_down        (MpListener    *self);
MP_AVAILABLE_IN_ALL
void          mp_listener_close               (MpListener    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpListener, mp_listener_unref)

G_END_DECLS
