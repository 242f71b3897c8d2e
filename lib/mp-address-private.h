/* mp-address-private.h — "unix:/path" and "[tcp:]HOST:PORT", parsed
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* One of the two is set. */
typedef struct {
  char               *path;      /* "unix:/path": the socket path */
  GSocketConnectable *network;   /* "tcp:HOST:PORT": a GNetworkAddress */
} MpAddress;

gboolean        mp_address_parse             (const char    *text,
                                              MpAddress     *out,
                                              GError       **error);
void            mp_address_clear             (MpAddress     *self);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpAddress, mp_address_clear)

const char     *mp_address_get_host          (const MpAddress *self);
guint16         mp_address_get_port          (const MpAddress *self);
GSocketAddress *mp_address_resolve           (const MpAddress *self,
                                              GError       **error);
void            mp_address_set_resolve_error (GError       **error,
                                              const MpAddress *self,
                                              const GError  *resolver_error);
gboolean        mp_address_bad               (GError       **error,
                                              const char    *text,
                                              const char    *why);
char           *mp_address_format            (GSocketAddress *address);

G_END_DECLS
