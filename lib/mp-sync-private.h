/* mp-sync-private.h — what shared values need from the locks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* TRUE for the locks a shared value can be guarded by: MpLock, MpRLock. */
gboolean mp_sync_is_mutex_lock (gpointer    object);

/* Takes @lock for one access. When the calling thread already holds it
 * (it is doing a read-modify-write under the lock), there is nothing to
 * take, *entered is FALSE and leave does nothing; otherwise the lock is
 * taken and *entered is TRUE. Fails only with %MP_ERROR_OWNER_DIED (the
 * lock is then free again). */
gboolean mp_sync_lock_enter    (MpLockable *lock,
                                gboolean   *entered,
                                GError    **error);
void     mp_sync_lock_leave    (MpLockable *lock,
                                gboolean    entered);

G_END_DECLS
