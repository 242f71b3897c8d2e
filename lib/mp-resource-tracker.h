/* mp-resource-tracker.h — cleans up after a creator of shared memory that died
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined (MPSHARE_INSIDE) && !defined (MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * Python's multiprocessing.resource_tracker, one per creating process:
 * the first mp_shared_memory_create() of a process starts a small child,
 * its tracker, which is told the name of every block this process creates
 * and every one it unlinks. When the process ends without unlinking a
 * block (it was killed, or forgot), the tracker unlinks it, prints
 * Python's warning ("resource_tracker: There appear to be N leaked
 * shared_memory objects to clean up at shutdown") and exits. It notices
 * because its creator's end of their socket closes (nothing else holds
 * it) and, as a backstop, by a parent-death signal. It never outlives its
 * creator by more than that clean-up.
 */

MP_AVAILABLE_IN_ALL
GPid            mp_resource_tracker_get_pid (void);

G_END_DECLS
