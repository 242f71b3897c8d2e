/* mp-mapping-private.h — anonymous shared memory that children inherit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* A memfd mapped MAP_SHARED. The fd, not the address, is what crosses a
 * process boundary: a forked child inherits it, a spawned child receives
 * it across exec (mp_spawning_keep_fd()), and either maps it again. The
 * size is sealed, so no process can shrink the file under another's
 * mapping (which would turn every access into SIGBUS). */
typedef struct {
  int      fd;
  gpointer data;
  gsize    size;
} MpMapping;

#define MP_MAPPING_INIT { -1, NULL, 0 }

gboolean mp_mapping_create (MpMapping  *mapping,
                            const char *debug_name,
                            gsize       size,
                            GError    **error);
gboolean mp_mapping_attach (MpMapping  *mapping,
                            int         inherited_fd,
                            gsize       expected_size,
                            GError    **error);
void     mp_mapping_clear  (MpMapping  *mapping);

G_END_DECLS
