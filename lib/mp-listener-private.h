/* mp-listener-private.h — what the handshake gate (mp-gate.c) reads of a
 * listener: it waits on the listener's socket and cancellable itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

GSocket      *mp_listener_get_socket         (MpListener *self);
GCancellable *mp_listener_get_cancellable    (MpListener *self);
GBytes       *mp_listener_get_authkey        (MpListener *self);
gsize         mp_listener_get_max_frame_size (MpListener *self);

G_END_DECLS
