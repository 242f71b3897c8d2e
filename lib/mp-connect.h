/* mp-connect.h — connecting to a listener's address
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include "mp-connection.h"

G_BEGIN_DECLS

MP_AVAILABLE_IN_ALL
MpConnection *mp_connection_connect           (const char    *address,
                                               GBytes        *authkey,
                                               gint64         timeout_us,
                                               GError       **error);

G_END_DECLS
