/* mp-sync.h — process-shared locks, semaphores, conditions, events, barriers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * Python's multiprocessing.synchronize, on robust process-shared pthread
 * mutexes. Each object lives in its own shared memory (a memfd mapping),
 * so it keeps working in a forked child and, once handed over at process
 * start, in a spawned one. Differences from Python, all on purpose:
 *
 * - a holder that dies holding a lock does not hang everybody else: the
 *   next acquirer gets %MP_ERROR_OWNER_DIED and the lock is free again;
 * - only the thread holding an MpLock may release it (robust mutexes have
 *   an owner), and acquiring an MpLock the thread already holds is an
 *   error instead of a silent deadlock;
 * - a wait that runs out of time returns %FALSE with %MP_ERROR_TIMEOUT.
 *
 * Timeouts are in microseconds: %MP_WAIT_FOREVER (-1) waits forever, 0
 * only tries. The objects travel only by inheritance (like Python's):
 * serializing one outside process start is %MP_ERROR_INHERITANCE_ONLY.
 */

/**
 * MP_WAIT_FOREVER:
 *
 * The timeout meaning "no timeout".
 *
 * Since: 0.1
 */
#define MP_WAIT_FOREVER ((gint64) -1)

/**
 * MpLockable:
 *
 * Anything that can be acquired and released: #MpLock, #MpRLock,
 * #MpSemaphore, #MpBoundedSemaphore, #MpCondition.
 *
 * Since: 0.1
 */
#define MP_TYPE_LOCKABLE (mp_lockable_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (MpLockable, mp_lockable, MP, LOCKABLE, GObject)

struct _MpLockableInterface
{
  GTypeInterface g_iface;

  gboolean (*acquire) (MpLockable *self,
                       gint64      timeout_us,
                       GError    **error);
  gboolean (*release) (MpLockable *self,
                       GError    **error);
};

MP_AVAILABLE_IN_ALL
gboolean      mp_lockable_acquire     (MpLockable  *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_lockable_release     (MpLockable  *self,
                                       GError     **error);

/**
 * MpLocker:
 *
 * Scoped locking, like #GMutexLocker:
 * |[<!-- language="C" -->
 *   g_autoptr(MpLocker) locker = mp_locker_new (lock, &error);
 *   if (locker == NULL)
 *     return FALSE;
 *   ... // released when locker goes out of scope
 * ]|
 *
 * Since: 0.1
 */
typedef struct _MpLocker MpLocker;

MP_AVAILABLE_IN_ALL
MpLocker     *mp_locker_new           (gpointer     lockable,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
void          mp_locker_free          (MpLocker    *locker);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpLocker, mp_locker_free)

/* Lock: one holder at a time, not recursive */
/**
 * MpLock:
 *
 * A process-shared, non-recursive lock on a robust mutex (Python's
 * `multiprocessing.Lock`).
 *
 * Since: 0.1
 */
#define MP_TYPE_LOCK (mp_lock_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpLock, mp_lock, MP, LOCK, GObject)

MP_AVAILABLE_IN_ALL
MpLock       *mp_lock_new             (GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_lock_acquire         (MpLock      *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_lock_release         (MpLock      *self,
                                       GError     **error);

/* RLock: the holding thread may acquire again; release as often */
/**
 * MpRLock:
 *
 * A process-shared recursive lock (Python's `multiprocessing.RLock`).
 *
 * Since: 0.1
 */
#define MP_TYPE_RLOCK (mp_rlock_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpRLock, mp_rlock, MP, RLOCK, GObject)

MP_AVAILABLE_IN_ALL
MpRLock      *mp_rlock_new            (GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_rlock_acquire        (MpRLock     *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_rlock_release        (MpRLock     *self,
                                       GError     **error);

/* Semaphore: a counter; acquire waits while it is zero */
/**
 * MpSemaphore:
 *
 * A process-shared counting semaphore (Python's
 * `multiprocessing.Semaphore`).
 *
 * Since: 0.1
 */
#define MP_TYPE_SEMAPHORE (mp_semaphore_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpSemaphore, mp_semaphore, MP, SEMAPHORE, GObject)

MP_AVAILABLE_IN_ALL
MpSemaphore  *mp_semaphore_new        (guint        value,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_semaphore_acquire    (MpSemaphore *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_semaphore_release    (MpSemaphore *self,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
guint         mp_semaphore_get_value  (MpSemaphore *self);

/* BoundedSemaphore: releasing beyond the initial value is an error */
/**
 * MpBoundedSemaphore:
 *
 * A process-shared semaphore that refuses to be released above its
 * initial value (Python's `multiprocessing.BoundedSemaphore`).
 *
 * Since: 0.1
 */
#define MP_TYPE_BOUNDED_SEMAPHORE (mp_bounded_semaphore_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpBoundedSemaphore, mp_bounded_semaphore, MP, BOUNDED_SEMAPHORE, GObject)

MP_AVAILABLE_IN_ALL
MpBoundedSemaphore *mp_bounded_semaphore_new     (guint               value,
                                                  GError            **error);
MP_AVAILABLE_IN_ALL
gboolean            mp_bounded_semaphore_acquire (MpBoundedSemaphore *self,
                                                  gint64              timeout_us,
                                                  GError            **error);
MP_AVAILABLE_IN_ALL
gboolean            mp_bounded_semaphore_release (MpBoundedSemaphore *self,
                                                  GError            **error);
MP_AVAILABLE_IN_ALL
guint               mp_bounded_semaphore_get_value (MpBoundedSemaphore *self);

/* Condition: wait until notified, on an MpLock or MpRLock */
/**
 * MpCondition:
 *
 * A process-shared condition variable over an #MpLockable (Python's
 * `multiprocessing.Condition`).
 *
 * Since: 0.1
 */
#define MP_TYPE_CONDITION (mp_condition_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpCondition, mp_condition, MP, CONDITION, GObject)

/**
 * MpPredicate:
 * @user_data: data given to mp_condition_wait_for()
 *
 * Returns: %TRUE when the awaited state is reached.
 *
 * Since: 0.1
 */
typedef gboolean (*MpPredicate) (gpointer user_data);

MP_AVAILABLE_IN_ALL
MpCondition  *mp_condition_new        (MpLockable  *lock,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
MpLockable   *mp_condition_get_lock   (MpCondition *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_acquire    (MpCondition *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_release    (MpCondition *self,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_wait       (MpCondition *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_wait_for   (MpCondition *self,
                                       MpPredicate  predicate,
                                       gpointer     user_data,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_notify     (MpCondition *self,
                                       guint        n,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
gboolean      mp_condition_notify_all (MpCondition *self,
                                       GError     **error);

/* Event: a flag others can wait for */
/**
 * MpEvent:
 *
 * A process-shared flag that processes can wait for (Python's
 * `multiprocessing.Event`).
 *
 * Since: 0.1
 */
#define MP_TYPE_EVENT (mp_event_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpEvent, mp_event, MP, EVENT, GObject)

MP_AVAILABLE_IN_ALL
MpEvent      *mp_event_new            (GError     **error);
MP_AVAILABLE_IN_ALL
void          mp_event_set            (MpEvent     *self);
MP_AVAILABLE_IN_ALL
void          mp_event_clear          (MpEvent     *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_event_is_set         (MpEvent     *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_event_wait           (MpEvent     *self,
                                       gint64       timeout_us,
                                       GError     **error);

/* Barrier: @parties wait until all have arrived */
/**
 * MpBarrier:
 *
 * A process-shared barrier for a fixed number of parties (Python's
 * `multiprocessing.Barrier`).
 *
 * Since: 0.1
 */
#define MP_TYPE_BARRIER (mp_barrier_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpBarrier, mp_barrier, MP, BARRIER, GObject)

MP_AVAILABLE_IN_ALL
MpBarrier    *mp_barrier_new          (guint        parties,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
int           mp_barrier_wait         (MpBarrier   *self,
                                       gint64       timeout_us,
                                       GError     **error);
MP_AVAILABLE_IN_ALL
void          mp_barrier_abort        (MpBarrier   *self);
MP_AVAILABLE_IN_ALL
void          mp_barrier_reset        (MpBarrier   *self);
MP_AVAILABLE_IN_ALL
guint         mp_barrier_get_parties  (MpBarrier   *self);
MP_AVAILABLE_IN_ALL
guint         mp_barrier_get_n_waiting (MpBarrier  *self);
MP_AVAILABLE_IN_ALL
gboolean      mp_barrier_is_broken    (MpBarrier   *self);

G_END_DECLS
