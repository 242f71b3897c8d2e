/* mp-serialize-private.h — the spawning context, set by the process layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* While a process is being started the starting thread holds a context:
 * inherit-only objects may then be serialized, and the fds they need are
 * collected here so the process layer keeps them open across exec. */
typedef struct {
  GArray *fds;      /* int: fds that must survive into the child */
} MpSpawningContext;

void mp_spawning_begin (MpSpawningContext *context);
void mp_spawning_end   (MpSpawningContext *context);

G_END_DECLS
