/* mp-sync-private.h — what shared values need from the locks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <pthread.h>

#include "mpshare.h"
#include "mp-trace-private.h"
#include "mp-mapping-private.h"

G_BEGIN_DECLS

/* Everything here is hidden (G_GNUC_INTERNAL) and what runs on every
 * access to a shared value is inline: a locked increment must cost little
 * more than the mutex it takes (tests/bench/mp-bench). */

/* The instance layout of every type in mp-sync.c. For a Lock or RLock,
 * mutex and depth point into the shared state (the RLock's recursion
 * depth), and holder is the serial of the thread of this process holding
 * the mutex through this object, 0 when none does; holder is written only
 * by that thread, hence relaxed accesses. */
typedef struct {
  GObject              parent_instance;
  MpMapping            mapping;
  struct _MpSyncState *state;
  pthread_mutex_t     *mutex;
  guint               *depth;
  guint64              holder;
} MpSyncObject;

/* This thread's serial, 0 until it first takes a lock (mp-sync.c); a
 * forked child starts again from 0. */
G_GNUC_INTERNAL
extern __thread guint64 mp_sync_thread_serial __attribute__ ((tls_model ("initial-exec")));
G_GNUC_INTERNAL
guint64  mp_sync_new_thread_serial (void);

static inline guint64
mp_sync_self_serial (void)
{
  guint64 serial = mp_sync_thread_serial;

  return G_LIKELY (serial != 0) ? serial : mp_sync_new_thread_serial ();
}

/* Whether the calling thread holds @lock (an MpLock or MpRLock) through
 * this object. */
static inline gboolean
mp_sync_held_by_self (gpointer lock)
{
  guint64 holder = __atomic_load_n (&((MpSyncObject *) lock)->holder, __ATOMIC_RELAXED);

  return holder != 0 && holder == mp_sync_thread_serial;
}

/* 8 bytes, 8-aligned, zero at first, in the shared memory of @lock (an
 * MpLock or MpRLock), in the cache line of its mutex: where a value
 * guarded by this lock alone lives, so that a locked update touches one
 * line, as a bare mutex next to its counter does. Stays valid as long as
 * @lock does. */
G_GNUC_INTERNAL
gpointer mp_sync_lock_value_cell (MpLockable *lock);

/* TRUE for the locks a shared value can be guarded by: MpLock, MpRLock. */
G_GNUC_INTERNAL
gboolean mp_sync_is_mutex_lock (gpointer    object);

/* Makes mp_lockable_acquire() and _release() on an instance of @type take
 * the MpLock or MpRLock pointed to at @lock_offset in the instance
 * directly (a NULL pointer there falls back to the type's MpLockable
 * methods). Call it from the class initializer. */
G_GNUC_INTERNAL
void     mp_sync_register_guarded_type (GType    type,
                                        goffset  lock_offset);

/* mp_sync_lock_enter() once trying the mutex gave @r, not 0. */
G_GNUC_INTERNAL
gboolean mp_sync_lock_enter_slow (MpLockable *lock,
                                  int         r,
                                  gboolean   *entered,
                                  GError    **error);

/* Takes @lock (an MpLock or MpRLock) for one access. When the calling
 * thread already holds it (it is doing a read-modify-write under the
 * lock), there is nothing to take, *entered is FALSE and leave does
 * nothing; otherwise the lock is taken and *entered is TRUE. Fails only
 * with %MP_ERROR_OWNER_DIED (the lock is then free again).
 *
 * Between enter and leave nothing can ask the lock who holds it (the
 * access calls out to nothing), so the mutex alone is taken: no depth,
 * no holder. That keeps the time the lock is held, which the other
 * processes wait out, to the access itself. */
static inline gboolean
mp_sync_lock_enter_untraced (MpLockable *lock,
                             gboolean   *entered,
                             GError    **error)
{
  MpSyncObject *sync = (MpSyncObject *) lock;
  int r;

  *entered = FALSE;
  if (mp_sync_held_by_self (sync))
    return TRUE;
  r = pthread_mutex_trylock (sync->mutex);
  if (G_UNLIKELY (r != 0))
    return mp_sync_lock_enter_slow (lock, r, entered, error);
  *entered = TRUE;
  return TRUE;
}

void     mp_sync_set_trace_name    (gpointer     object,
                                    const char  *name);

/* the same, traced (mp-sync.c) */
gboolean mp_sync_lock_enter_traced (MpLockable  *lock,
                                    gboolean    *entered,
                                    GError     **error);
void     mp_sync_lock_leave_traced (MpLockable  *lock);

static inline gboolean
mp_sync_lock_enter (MpLockable *lock,
                    gboolean   *entered,
                    GError    **error)
{
  if (MP_TRACE_ON)
    return mp_sync_lock_enter_traced (lock, entered, error);
  return mp_sync_lock_enter_untraced (lock, entered, error);
}

static inline void
mp_sync_lock_leave (MpLockable *lock,
                    gboolean    entered)
{
  if (!entered)
    return;
  if (MP_TRACE_ON)
    mp_sync_lock_leave_traced (lock);
  else
    pthread_mutex_unlock (((MpSyncObject *) lock)->mutex);
}

G_END_DECLS
