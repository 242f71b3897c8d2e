/* mp-sync.c — process-shared locks, semaphores, conditions, events, barriers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "mpshare.h"
#include "mp-deadline-private.h"
#include "mp-mapping-private.h"
#include "mp-sync-private.h"
#include "mp-trace-private.h"

/* "mpsy": a mapping we did not initialize is refused on attach */
#define MP_SYNC_MAGIC 0x7973706du

typedef enum {
  MP_SYNC_LOCK = 1,
  MP_SYNC_RLOCK,
  MP_SYNC_SEMAPHORE,
  MP_SYNC_BOUNDED_SEMAPHORE,
  MP_SYNC_CONDITION,
  MP_SYNC_EVENT,
  MP_SYNC_BARRIER,
} MpSyncKind;

/* Python's threading.Barrier states, same values */
typedef enum {
  BARRIER_BROKEN = -2,
  BARRIER_RESETTING = -1,
  BARRIER_FILLING = 0,
  BARRIER_DRAINING = 1,
} BarrierState;

/* What lives in the shared mapping. One layout for every kind keeps the
 * mapping code single; the union holds what each kind needs on top of
 * the mutex and the condition variable. It follows the mutex so that an
 * RLock's depth shares the mutex's cache line: taking a lock touches one
 * line, not two, which counts when two CPUs pass the lock back and forth. */
typedef struct _MpSyncState {
  guint32         magic;
  guint32         kind;
  pthread_mutex_t mutex;   /* robust, error-checking, process-shared */
  union {
    struct {
      guint   count;       /* RLock: recursion depth of the holder */
      guint32 padding;
      guint64 value_cell;  /* see mp_sync_lock_value_cell() */
    } lock;
    struct {
      guint value;
      guint max_value;     /* bounded: the initial value; else G_MAXUINT */
      guint n_sleepers;
    } sem;
    struct {
      /* Waiters that entered before the latest notify may take one of
       * n_signals; see condition_wait(). Protected by the lock's mutex. */
      guint64 n_waiting;
      guint64 n_signals;
      guint64 generation;
    } cond;
    struct {
      gboolean flag;
    } event;
    struct {
      guint parties;
      guint count;
      gint  state;         /* BarrierState */
    } barrier;
  } u;
  pthread_cond_t  cond;    /* process-shared, CLOCK_MONOTONIC */
  guint32         trace_id;  /* its number in traces: "Lock 3" */
  char            trace_name[20];  /* or its name there, when given */
} MpSyncState;

/* A value guarded by this lock alone shares the mutex's cache line: */
G_STATIC_ASSERT (G_STRUCT_OFFSET (MpSyncState, u.lock.value_cell) + sizeof (guint64) <= 64);

/* The instance layout every type here starts with is MpSyncObject, in
 * mp-sync-private.h, where shared values read who holds their lock. */

#define SYNC(obj) ((MpSyncObject *) (obj))

/* ---- which mutex does acquiring take, cheaply ------------------------------ */

/* Set by the class initializers, before any instance can exist. Both types
 * are final, so comparing the instance's class is the whole type check:
 * no g_type_check_instance_is_a() walk on every acquire and release.
 * (Relaxed atomics: plain moves, but no data race with a first class
 * initialization in another thread.) */
static GType lock_type_id;
static GType rlock_type_id;

/* the numbers of the objects this process made, for their trace labels */
static gint trace_serial;

#define LOCK_TYPE_ID()  __atomic_load_n (&lock_type_id, __ATOMIC_RELAXED)
#define RLOCK_TYPE_ID() __atomic_load_n (&rlock_type_id, __ATOMIC_RELAXED)

/* Objects acquired by acquiring the MpLock or MpRLock they hold (MpValue,
 * MpArray, MpCondition): each type says where that pointer sits, so taking
 * one goes straight to its lock, without an interface lookup. Registered
 * by class initializers, which GLib runs one at a time. */
typedef struct {
  GType   type;
  goffset lock_offset;
} GuardedType;

static GuardedType guarded_types[4];
static guint       n_guarded_types;

void
mp_sync_register_guarded_type (GType   type,
                               goffset lock_offset)
{
  guint n = g_atomic_int_get (&n_guarded_types);

  g_assert (n < G_N_ELEMENTS (guarded_types));
  guarded_types[n].type = type;
  guarded_types[n].lock_offset = lock_offset;
  g_atomic_int_set (&n_guarded_types, n + 1);
}

/* The MpLock or MpRLock that acquiring @object takes: @object itself, or
 * the lock a guarded object holds. NULL for anything else (a semaphore, a
 * value made with lock = FALSE, NULL): those take the interface's way. */
static inline MpSyncObject *
mutex_lock_of (gpointer  object,
               gboolean *recursive)
{
  const GTypeInstance *instance = object;
  GType type;

  if (instance == NULL || instance->g_class == NULL)
    return NULL;
  type = instance->g_class->g_type;
  if (type != RLOCK_TYPE_ID () && type != LOCK_TYPE_ID ())
    {
      guint n = g_atomic_int_get (&n_guarded_types);
      guint i;

      for (i = 0; i < n && guarded_types[i].type != type; i++)
        ;
      if (i == n)
        return NULL;
      instance = G_STRUCT_MEMBER (gpointer, object, guarded_types[i].lock_offset);
      if (instance == NULL)
        return NULL;
      type = instance->g_class->g_type;
    }
  *recursive = type == RLOCK_TYPE_ID ();
  return (MpSyncObject *) instance;
}

/* ---- who holds a lock, cheaply ------------------------------------------- */

/* A serial per thread, never reused in a process (a pthread_t is): asking
 * the mutex itself (trylock) on every access costs as much as locking.
 * A forked child's thread gets a fresh serial, so it never mistakes its
 * copy of the parent's bookkeeping for its own. 0 is no thread's. */
static guint64 next_thread_serial = 1;
__thread guint64 mp_sync_thread_serial __attribute__ ((tls_model ("initial-exec")));

guint64
mp_sync_new_thread_serial (void)
{
  mp_sync_thread_serial = __atomic_fetch_add (&next_thread_serial, 1, __ATOMIC_RELAXED);
  return mp_sync_thread_serial;
}

static void
forget_serial_in_child (void)
{
  mp_sync_thread_serial = 0;
}

static void
holder_set (MpSyncObject *sync)
{
  __atomic_store_n (&sync->holder, mp_sync_self_serial (), __ATOMIC_RELAXED);
}

static void
holder_clear (MpSyncObject *sync)
{
  __atomic_store_n (&sync->holder, 0, __ATOMIC_RELAXED);
}

/* TRUE only if the calling thread holds the mutex through this object; a
 * FALSE may still be a hold through another mapping of the same lock. */
static gboolean
holder_is_self (MpSyncObject *sync)
{
  return mp_sync_held_by_self (sync);
}

/* ---- time ---------------------------------------------------------- */

typedef struct {
  gboolean        forever;
  struct timespec at;      /* CLOCK_MONOTONIC */
} MpDeadline;

static void
deadline_init (MpDeadline *deadline,
               gint64      timeout_us)
{
  gint64 nsec;

  deadline->forever = timeout_us < 0;
  if (deadline->forever)
    return;
  clock_gettime (CLOCK_MONOTONIC, &deadline->at);
  nsec = deadline->at.tv_nsec + (timeout_us % G_USEC_PER_SEC) * 1000;
  deadline->at.tv_sec += timeout_us / G_USEC_PER_SEC + nsec / 1000000000;
  deadline->at.tv_nsec = nsec % 1000000000;
}

static int
mutex_lock_until (pthread_mutex_t  *mutex,
                  const MpDeadline *deadline)
{
  if (deadline->forever)
    return pthread_mutex_lock (mutex);
  return pthread_mutex_clocklock (mutex, CLOCK_MONOTONIC, &deadline->at);
}

static int
cond_wait_until (pthread_cond_t   *cond,
                 pthread_mutex_t  *mutex,
                 const MpDeadline *deadline)
{
  if (deadline->forever)
    return pthread_cond_wait (cond, mutex);
  /* the condition variable was made with CLOCK_MONOTONIC */
  return pthread_cond_timedwait (cond, mutex, &deadline->at);
}

/* ---- the shared state ---------------------------------------------- */

static gboolean
state_init (MpSyncState *state,
            MpSyncKind   kind,
            GError     **error)
{
  pthread_mutexattr_t mattr;
  pthread_condattr_t cattr;
  int r;

  pthread_mutexattr_init (&mattr);
  pthread_mutexattr_setpshared (&mattr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust (&mattr, PTHREAD_MUTEX_ROBUST);
  /* error-checking: relocking reports EDEADLK and trylock tells the
   * holder apart from everyone else, without keeping thread ids */
  pthread_mutexattr_settype (&mattr, PTHREAD_MUTEX_ERRORCHECK);
  r = pthread_mutex_init (&state->mutex, &mattr);
  pthread_mutexattr_destroy (&mattr);
  if (r != 0)
    return mp_set_error_from_errno (error, r, "initializing a process-shared mutex");

  pthread_condattr_init (&cattr);
  pthread_condattr_setpshared (&cattr, PTHREAD_PROCESS_SHARED);
  pthread_condattr_setclock (&cattr, CLOCK_MONOTONIC);
  r = pthread_cond_init (&state->cond, &cattr);
  pthread_condattr_destroy (&cattr);
  if (r != 0)
    return mp_set_error_from_errno (error, r, "initializing a process-shared condition variable");

  state->kind = kind;
  state->trace_id = (guint32) g_atomic_int_add (&trace_serial, 1) + 1;
  state->magic = MP_SYNC_MAGIC;
  return TRUE;
}

/* The internal mutex of a semaphore, event, barrier is held only for a few
 * single-field updates, so a process dying inside leaves the fields
 * consistent: recover without bothering the caller. */
static int
state_lock (MpSyncState      *state,
            const MpDeadline *deadline)
{
  int r = mutex_lock_until (&state->mutex, deadline);

  if (r == EOWNERDEAD)
    {
      pthread_mutex_consistent (&state->mutex);
      r = 0;
    }
  return r;
}

static void
state_lock_forever (MpSyncState *state)
{
  MpDeadline forever = { TRUE, { 0, 0 } };
  int r = state_lock (state, &forever);

  /* only EDEADLK is left, which would be a bug here */
  g_assert (r == 0);
}

static void
state_unlock (MpSyncState *state)
{
  pthread_mutex_unlock (&state->mutex);
}

static int
state_wait (MpSyncState      *state,
            const MpDeadline *deadline)
{
  int r = cond_wait_until (&state->cond, &state->mutex, deadline);

  if (r == EOWNERDEAD)
    {
      pthread_mutex_consistent (&state->mutex);
      r = 0;
    }
  return r;
}

/* ---- objects in a mapping -------------------------------------------- */

static void
sync_object_set_state (MpSyncObject *sync,
                       MpSyncState  *state)
{
  sync->state = state;
  sync->mutex = &state->mutex;
  sync->depth = &state->u.lock.count;
}

static gboolean
sync_object_create (gpointer     object,
                    MpSyncKind   kind,
                    GError     **error)
{
  MpSyncObject *sync = SYNC (object);

  if (!mp_mapping_create (&sync->mapping, G_OBJECT_TYPE_NAME (object),
                          sizeof (MpSyncState), error))
    return FALSE;
  sync_object_set_state (sync, sync->mapping.data);
  return state_init (sync->state, kind, error);
}

static gboolean
sync_object_attach (gpointer     object,
                    MpSyncKind   kind,
                    int          fd,
                    GError     **error)
{
  MpSyncObject *sync = SYNC (object);

  if (!mp_mapping_attach (&sync->mapping, fd, sizeof (MpSyncState), error))
    return FALSE;
  sync_object_set_state (sync, sync->mapping.data);
  if (sync->state->magic != MP_SYNC_MAGIC || sync->state->kind != (guint32) kind ||
      (kind == MP_SYNC_BARRIER && sync->state->u.barrier.parties == 0))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Shared memory fd %d does not hold an %s", fd,
                    G_OBJECT_TYPE_NAME (object));
      return FALSE;
    }
  return TRUE;
}

/* Every type here finalizes the same way and derives from GObject. */
static void
sync_object_finalize (GObject *object)
{
  GObjectClass *parent_class;

  MpSyncObject *sync = SYNC (object);

  /* A thread dropping a lock it still holds (a task returning with the
   * lock taken): the kernel finds the mutex through this mapping when the
   * thread dies and marks it owner-died for the others. Unmapped, it could
   * not, and they would wait forever; so the mapping stays. */
  if (__atomic_load_n (&sync->holder, __ATOMIC_RELAXED) != 0)
    sync->mapping.data = NULL;

  /* Never pthread_*_destroy: other processes may still use the objects.
   * The memory goes away with the last mapping. */
  mp_mapping_clear (&sync->mapping);

  parent_class = g_type_class_peek (G_TYPE_OBJECT);
  parent_class->finalize (object);
}

static double
seconds (gint64 timeout_us)
{
  return (double) timeout_us / G_USEC_PER_SEC;
}

static gboolean
set_timeout_error (GError    **error,
                   gpointer    object,
                   const char *what,
                   gint64      timeout_us)
{
  mp_set_error (error, MP_ERROR_TIMEOUT,
                "Timed out after %.3f s waiting to %s the %s",
                seconds (timeout_us), what, G_OBJECT_TYPE_NAME (object));
  return FALSE;
}

/* ---- MpLockable ------------------------------------------------------ */

static gboolean lock_acquire (gpointer   object,
                              gint64     timeout_us,
                              gboolean   recursive,
                              GError   **error);
static gboolean lock_release (gpointer   object,
                              gboolean   recursive,
                              GError   **error);

G_DEFINE_INTERFACE (MpLockable, mp_lockable, G_TYPE_OBJECT)

static void
mp_lockable_default_init (MpLockableInterface *iface)
{
}

/* MP_IS_LOCKABLE(), with the common cases first: its walk of the type's
 * interfaces costs more than taking the lock. */
static inline gboolean
is_lockable (gpointer object)
{
  gboolean recursive;

  return mutex_lock_of (object, &recursive) != NULL || MP_IS_LOCKABLE (object);
}

/**
 * mp_lockable_acquire:
 * @self: an #MpLockable
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Acquires @self, whatever kind of lock it is.
 *
 * Returns: %TRUE when acquired; %FALSE with %MP_ERROR_TIMEOUT,
 *   %MP_ERROR_OWNER_DIED or %MP_ERROR_INVALID_ARGUMENT.
 *
 * Since: 0.1
 */
gboolean
mp_lockable_acquire (MpLockable *self,
                     gint64      timeout_us,
                     GError    **error)
{
  gboolean recursive;
  MpSyncObject *lock = mutex_lock_of (self, &recursive);

  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (lock != NULL)
    return lock_acquire (lock, timeout_us, recursive, error);
  g_return_val_if_fail (MP_IS_LOCKABLE (self), FALSE);
  return MP_LOCKABLE_GET_IFACE (self)->acquire (self, timeout_us, error);
}

/**
 * mp_lockable_release:
 * @self: an #MpLockable
 * @error: return location for a #GError
 *
 * Returns: %TRUE when released; %FALSE with %MP_ERROR_INVALID_ARGUMENT
 *   when the caller may not release @self.
 *
 * Since: 0.1
 */
gboolean
mp_lockable_release (MpLockable *self,
                     GError    **error)
{
  gboolean recursive;
  MpSyncObject *lock = mutex_lock_of (self, &recursive);

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (lock != NULL)
    return lock_release (lock, recursive, error);
  g_return_val_if_fail (MP_IS_LOCKABLE (self), FALSE);
  return MP_LOCKABLE_GET_IFACE (self)->release (self, error);
}

/**
 * mp_locker_new: (skip)
 * @lockable: (type MpLockable): any #MpLockable
 * @error: return location for a #GError
 *
 * Acquires @lockable, waiting as long as it takes. Free the locker (or
 * let g_autoptr() do it) to release.
 *
 * Returns: (transfer full) (nullable): a locker, or %NULL with @error set
 *   (then nothing is held).
 *
 * Since: 0.1
 */
MpLocker *
mp_locker_new (gpointer   lockable,
               GError   **error)
{
  g_return_val_if_fail (is_lockable (lockable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mp_lockable_acquire (lockable, MP_WAIT_FOREVER, error))
    return NULL;
  /* like GMutexLocker, the locker is the lock itself, plus a reference */
  return (MpLocker *) g_object_ref (lockable);
}

/**
 * mp_locker_free:
 * @locker: (transfer full): a locker from mp_locker_new()
 *
 * Releases the lock the locker holds.
 *
 * Since: 0.1
 */
void
mp_locker_free (MpLocker *locker)
{
  MpLockable *lockable = (MpLockable *) locker;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (is_lockable (lockable));

  if (!mp_lockable_release (lockable, &error))
    g_critical ("mp_locker_free: %s", error->message);
  g_object_unref (lockable);
}

/* ---- tracing ----------------------------------------------------------- */

/* Each wait is traced once, at the outermost call: the traced path calls
 * the untraced one with this set. */
static __thread __attribute__ ((tls_model ("initial-exec"))) gboolean trace_inside;

static const char *
trace_type (gpointer object)
{
  static const char *const names[] = {
    [MP_SYNC_LOCK] = "Lock", [MP_SYNC_RLOCK] = "RLock", [MP_SYNC_SEMAPHORE] = "Semaphore",
    [MP_SYNC_BOUNDED_SEMAPHORE] = "BoundedSemaphore", [MP_SYNC_CONDITION] = "Condition",
    [MP_SYNC_EVENT] = "Event", [MP_SYNC_BARRIER] = "Barrier",
  };
  guint32 kind = SYNC (object)->state->kind;

  return kind < G_N_ELEMENTS (names) && names[kind] != NULL ? names[kind] : "lock";
}

/* "Lock 3": the same in every process that shares the object */
static void
trace_label (gpointer  object,
             char     *buf,
             gsize     size)
{
  if (SYNC (object)->state->trace_name[0] != '\0')
    {
      g_strlcpy (buf, SYNC (object)->state->trace_name, size);
      return;
    }
  mp_trace_format_label (buf, size, trace_type (object), SYNC (object)->state->trace_id);
}

/* One wait: @func does it (with @flag its own parameter); it gives 0 for
 * failure. @holds: success opens a hold (locks, semaphores), else the
 * wait only ends (conditions, events, barriers). */
typedef int (*TracedWait) (gpointer   object,
                           gint64     timeout_us,
                           gboolean   flag,
                           GError   **error);

static G_GNUC_NO_INLINE int
trace_wait (gpointer    object,
            gint64      timeout_us,
            gboolean    flag,
            GError    **error,
            TracedWait  func,
            gboolean    holds)
{
  const char *type = trace_type (object);
  GError *local = NULL;
  char label[64];
  gint64 start;
  int r;

  trace_label (object, label, sizeof label);
  mp_trace_lock_wait_begin (type, label);
  start = mp_trace_now_ns ();
  trace_inside = TRUE;
  r = func (object, timeout_us, flag, &local);
  trace_inside = FALSE;
  if (r != 0 && holds)
    mp_trace_lock_acquired (type, label, mp_trace_now_ns () - start);
  else if (r == 0 && local != NULL && local->domain == MP_ERROR && local->code == MP_ERROR_TIMEOUT)
    mp_trace_lock_timeout (type, label);
  else
    {
      mp_trace_lock_wait_end (type, label);
      if (r == 0 && local != NULL && local->domain == MP_ERROR && local->code == MP_ERROR_OWNER_DIED)
        mp_trace_lock_owner_died (type, label);
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return r;
}

typedef gboolean (*TracedRelease) (gpointer   object,
                                   gboolean   flag,
                                   GError   **error);

static G_GNUC_NO_INLINE gboolean
trace_release (gpointer       object,
               gboolean       flag,
               GError       **error,
               TracedRelease  func)
{
  char label[64];
  gboolean ok;

  trace_inside = TRUE;
  ok = func (object, flag, error);
  trace_inside = FALSE;
  if (ok)
    {
      trace_label (object, label, sizeof label);
      mp_trace_lock_released (trace_type (object), label);
    }
  return ok;
}

static int
traced_lock_acquire (gpointer object, gint64 timeout_us, gboolean recursive, GError **error)
{
  return lock_acquire (object, timeout_us, recursive, error);
}

static gboolean
traced_lock_release (gpointer object, gboolean recursive, GError **error)
{
  return lock_release (object, recursive, error);
}

/**
 * mp_sync_set_trace_name: (skip)
 * @object: a lock, semaphore, condition, event or barrier
 * @name: what traces call it in every process (cut at 19 bytes)
 *
 * For the library's own locks, whose number would say nothing.
 */
void
mp_sync_set_trace_name (gpointer    object,
                        const char *name)
{
  g_strlcpy (SYNC (object)->state->trace_name, name, sizeof SYNC (object)->state->trace_name);
}

gboolean
mp_sync_lock_enter_traced (MpLockable  *lock,
                           gboolean    *entered,
                           GError     **error)
{
  char label[64];
  gint64 start;
  gboolean ok;

  *entered = FALSE;
  if (mp_sync_held_by_self ((MpSyncObject *) lock))
    return TRUE;
  trace_label (lock, label, sizeof label);
  mp_trace_lock_wait_begin (trace_type (lock), label);
  start = mp_trace_now_ns ();
  trace_inside = TRUE;
  ok = mp_sync_lock_enter_untraced (lock, entered, error);
  trace_inside = FALSE;
  if (ok && *entered)
    mp_trace_lock_acquired (trace_type (lock), label, mp_trace_now_ns () - start);
  else
    mp_trace_lock_wait_end (trace_type (lock), label);
  return ok;
}

void
mp_sync_lock_leave_traced (MpLockable *lock)
{
  char label[64];

  pthread_mutex_unlock (((MpSyncObject *) lock)->mutex);
  trace_label (lock, label, sizeof label);
  mp_trace_lock_released (trace_type (lock), label);
}

/* ---- Lock and RLock ---------------------------------------------------- */

/* Robust mutexes make the dead holder visible: the next locker gets
 * EOWNERDEAD and holds the mutex. We make it consistent and free again,
 * and tell the caller, who did not get the lock and may retry. */
static gboolean
recover_dead_owner (gpointer   object,
                    GError   **error)
{
  MpSyncState *state = SYNC (object)->state;

  pthread_mutex_consistent (&state->mutex);
  state->u.lock.count = 0;
  holder_clear (SYNC (object));
  pthread_mutex_unlock (&state->mutex);
  mp_set_error (error, MP_ERROR_OWNER_DIED,
                "The process holding this %s died without releasing it; "
                "the lock has been recovered and is free again, but what it "
                "protected may be half-updated",
                G_OBJECT_TYPE_NAME (object));
  return FALSE;
}

/* TRUE when the calling thread holds @object's mutex. */
static gboolean
lock_is_mine (gpointer object)
{
  MpSyncState *state = SYNC (object)->state;
  int r;

  if (holder_is_self (SYNC (object)))
    return TRUE;
  r = pthread_mutex_trylock (&state->mutex);

  switch (r)
    {
    case EDEADLK:
      return TRUE;
    case 0:
      pthread_mutex_unlock (&state->mutex);
      return FALSE;
    case EOWNERDEAD:
      /* the holder died; whoever asks is not the holder */
      pthread_mutex_consistent (&state->mutex);
      state->u.lock.count = 0;
      holder_clear (SYNC (object));
      pthread_mutex_unlock (&state->mutex);
      return FALSE;
    default:
      return FALSE;
    }
}

/* Everything but an uncontended first acquire: waiting, recursion, a dead
 * holder, errors. @r is what trying the mutex gave, or EDEADLK when this
 * thread already holds it through this object. */
static G_GNUC_NO_INLINE gboolean
lock_acquire_slow (gpointer   object,
                   int        r,
                   gint64     timeout_us,
                   gboolean   recursive,
                   GError   **error)
{
  MpSyncState *state = SYNC (object)->state;
  MpDeadline deadline;

  if (r == EBUSY && timeout_us != 0)
    {
      deadline_init (&deadline, timeout_us);
      r = mutex_lock_until (&state->mutex, &deadline);
    }

  switch (r)
    {
    case 0:
      state->u.lock.count = 1;
      holder_set (SYNC (object));
      return TRUE;
    case EDEADLK:
      if (!recursive)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "This thread already holds this %s; acquiring it again "
                        "would wait forever (Python deadlocks here). Use an "
                        "MpRLock to lock recursively",
                        G_OBJECT_TYPE_NAME (object));
          return FALSE;
        }
      if (state->u.lock.count == G_MAXUINT)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "%s acquired too many times recursively",
                        G_OBJECT_TYPE_NAME (object));
          return FALSE;
        }
      state->u.lock.count++;
      return TRUE;
    case EOWNERDEAD:
      return recover_dead_owner (object, error);
    case EBUSY:
    case ETIMEDOUT:
      return set_timeout_error (error, object, "acquire", timeout_us);
    default:
      return mp_set_error_from_errno (error, r, "acquiring the %s",
                                      G_OBJECT_TYPE_NAME (object));
    }
}

/* The common case, inlined into every caller: a lock nobody holds costs
 * one compare-and-swap and two plain stores. */
static inline gboolean
lock_acquire (gpointer   object,
              gint64     timeout_us,
              gboolean   recursive,
              GError   **error)
{
  MpSyncObject *sync = SYNC (object);
  int r;

  if (MP_TRACE_ON && !trace_inside)
    return trace_wait (object, timeout_us, recursive, error, traced_lock_acquire, TRUE);
  if (recursive && holder_is_self (sync))
    return lock_acquire_slow (object, EDEADLK, timeout_us, recursive, error);
  r = pthread_mutex_trylock (sync->mutex);
  if (G_UNLIKELY (r != 0))
    return lock_acquire_slow (object, r, timeout_us, recursive, error);
  *sync->depth = 1;
  holder_set (sync);
  return TRUE;
}

static gboolean
set_release_error (gpointer   object,
                   int        r,
                   GError   **error)
{
  if (r == EPERM)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Cannot release an %s this thread does not hold: it is "
                    "free or held by another thread or process (Python: "
                    "\"semaphore or lock released too many times\")",
                    G_OBJECT_TYPE_NAME (object));
      return FALSE;
    }
  return mp_set_error_from_errno (error, r, "releasing the %s",
                                  G_OBJECT_TYPE_NAME (object));
}

/* Everything but the last release by the thread that took the lock
 * through this object: inner levels of an RLock, holds through another
 * mapping of the same lock, releases by a thread that does not hold it. */
static G_GNUC_NO_INLINE gboolean
lock_release_slow (gpointer   object,
                   gboolean   recursive,
                   GError   **error)
{
  MpSyncState *state = SYNC (object)->state;
  gboolean held_here;
  int r;

  if (recursive)
    {
      if (!lock_is_mine (object))
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "Cannot release an %s this thread does not hold "
                        "(Python: \"attempt to release recursive lock not owned by thread\")",
                        G_OBJECT_TYPE_NAME (object));
          return FALSE;
        }
      if (--state->u.lock.count > 0)
        return TRUE;
    }

  /* cleared before the mutex goes to someone else; put back if it was
   * not ours to release */
  held_here = holder_is_self (SYNC (object));
  if (held_here)
    holder_clear (SYNC (object));
  r = pthread_mutex_unlock (&state->mutex);
  if (r != 0 && held_here)
    holder_set (SYNC (object));
  if (r != 0)
    return set_release_error (object, r, error);
  return TRUE;
}

static inline gboolean
lock_release (gpointer   object,
              gboolean   recursive,
              GError   **error)
{
  MpSyncObject *sync = SYNC (object);
  guint depth;
  int r;

  if (MP_TRACE_ON && !trace_inside)
    return trace_release (object, recursive, error, traced_lock_release);
  if (!holder_is_self (sync) || (recursive && *sync->depth != 1))
    return lock_release_slow (object, recursive, error);
  /* cleared before the mutex goes to someone else */
  depth = *sync->depth;
  *sync->depth = 0;
  holder_clear (sync);
  r = pthread_mutex_unlock (sync->mutex);
  if (G_LIKELY (r == 0))
    return TRUE;
  *sync->depth = depth;
  holder_set (sync);
  return set_release_error (object, r, error);
}

struct _MpLock
{
  MpSyncObject sync;
};

static gboolean
mp_lock_lockable_acquire (MpLockable *self,
                          gint64      timeout_us,
                          GError    **error)
{
  return lock_acquire (self, timeout_us, FALSE, error);
}

static gboolean
mp_lock_lockable_release (MpLockable *self,
                          GError    **error)
{
  return lock_release (self, FALSE, error);
}

static void
mp_lock_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = mp_lock_lockable_acquire;
  iface->release = mp_lock_lockable_release;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MpLock, mp_lock, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, mp_lock_lockable_init))

static void
mp_lock_class_init (MpLockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
  __atomic_store_n (&lock_type_id, G_TYPE_FROM_CLASS (klass), __ATOMIC_RELAXED);
}

static void
mp_lock_init (MpLock *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_lock_new:
 * @error: return location for a #GError
 *
 * Creates a process-shared lock (Python's `multiprocessing.Lock`).
 *
 * Returns: (transfer full) (nullable): a new lock, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpLock *
mp_lock_new (GError **error)
{
  g_autoptr(MpLock) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_LOCK, NULL);
  if (!sync_object_create (self, MP_SYNC_LOCK, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_lock_acquire:
 * @self: an #MpLock
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Returns: %TRUE when acquired. %FALSE with %MP_ERROR_TIMEOUT when the
 *   time ran out, %MP_ERROR_OWNER_DIED when the previous holder died
 *   holding it (the lock is then free again: retry),
 *   %MP_ERROR_INVALID_ARGUMENT when this thread already holds it.
 *
 * Since: 0.1
 */
gboolean
mp_lock_acquire (MpLock  *self,
                 gint64   timeout_us,
                 GError **error)
{
  g_return_val_if_fail (MP_IS_LOCK (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return lock_acquire (self, timeout_us, FALSE, error);
}

/**
 * mp_lock_release:
 * @self: an #MpLock
 * @error: return location for a #GError
 *
 * Returns: %TRUE when released; %FALSE with %MP_ERROR_INVALID_ARGUMENT
 *   when the calling thread does not hold @self.
 *
 * Since: 0.1
 */
gboolean
mp_lock_release (MpLock  *self,
                 GError **error)
{
  g_return_val_if_fail (MP_IS_LOCK (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return lock_release (self, FALSE, error);
}

struct _MpRLock
{
  MpSyncObject sync;
};

static gboolean
mp_rlock_lockable_acquire (MpLockable *self,
                           gint64      timeout_us,
                           GError    **error)
{
  return lock_acquire (self, timeout_us, TRUE, error);
}

static gboolean
mp_rlock_lockable_release (MpLockable *self,
                           GError    **error)
{
  return lock_release (self, TRUE, error);
}

static void
mp_rlock_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = mp_rlock_lockable_acquire;
  iface->release = mp_rlock_lockable_release;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MpRLock, mp_rlock, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, mp_rlock_lockable_init))

static void
mp_rlock_class_init (MpRLockClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
  __atomic_store_n (&rlock_type_id, G_TYPE_FROM_CLASS (klass), __ATOMIC_RELAXED);
}

static void
mp_rlock_init (MpRLock *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_rlock_new:
 * @error: return location for a #GError
 *
 * Creates a process-shared recursive lock (Python's `multiprocessing.RLock`):
 * the holding thread may acquire it again and must release it as often.
 *
 * Returns: (transfer full) (nullable): a new lock, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpRLock *
mp_rlock_new (GError **error)
{
  g_autoptr(MpRLock) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_RLOCK, NULL);
  if (!sync_object_create (self, MP_SYNC_RLOCK, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_rlock_acquire:
 * @self: an #MpRLock
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Returns: %TRUE when acquired (again); %FALSE with %MP_ERROR_TIMEOUT or
 *   %MP_ERROR_OWNER_DIED (the lock is then free again: retry).
 *
 * Since: 0.1
 */
gboolean
mp_rlock_acquire (MpRLock  *self,
                  gint64    timeout_us,
                  GError  **error)
{
  g_return_val_if_fail (MP_IS_RLOCK (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return lock_acquire (self, timeout_us, TRUE, error);
}

/**
 * mp_rlock_release:
 * @self: an #MpRLock
 * @error: return location for a #GError
 *
 * Undoes one acquire; the lock is free after the last.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT when the calling
 *   thread does not hold @self.
 *
 * Since: 0.1
 */
gboolean
mp_rlock_release (MpRLock  *self,
                  GError  **error)
{
  g_return_val_if_fail (MP_IS_RLOCK (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return lock_release (self, TRUE, error);
}

/* ---- Semaphore and BoundedSemaphore ------------------------------------ */

static int
traced_semaphore_acquire (gpointer object, gint64 timeout_us, gboolean unused, GError **error);
static gboolean
traced_semaphore_release (gpointer object, gboolean unused, GError **error);

static gboolean
semaphore_acquire (gpointer   object,
                   gint64     timeout_us,
                   GError   **error)
{
  MpSyncState *state = SYNC (object)->state;
  MpDeadline deadline;
  int r;

  if (MP_TRACE_ON && !trace_inside)
    return trace_wait (object, timeout_us, FALSE, error, traced_semaphore_acquire, TRUE);
  deadline_init (&deadline, timeout_us);
  r = state_lock (state, &deadline);
  if (r == ETIMEDOUT)
    return set_timeout_error (error, object, "acquire", timeout_us);
  if (r != 0)
    return mp_set_error_from_errno (error, r, "acquiring the %s",
                                    G_OBJECT_TYPE_NAME (object));

  while (state->u.sem.value == 0 && r == 0)
    {
      state->u.sem.n_sleepers++;
      r = state_wait (state, &deadline);
      state->u.sem.n_sleepers--;
    }
  /* a release may have come with the timeout */
  if (state->u.sem.value == 0)
    {
      state_unlock (state);
      if (r == ETIMEDOUT)
        return set_timeout_error (error, object, "acquire", timeout_us);
      return mp_set_error_from_errno (error, r, "waiting for the %s",
                                      G_OBJECT_TYPE_NAME (object));
    }
  state->u.sem.value--;
  state_unlock (state);
  return TRUE;
}

static gboolean
semaphore_release (gpointer   object,
                   GError   **error)
{
  MpSyncState *state = SYNC (object)->state;

  if (MP_TRACE_ON && !trace_inside)
    return trace_release (object, FALSE, error, traced_semaphore_release);
  state_lock_forever (state);
  if (state->u.sem.value >= state->u.sem.max_value)
    {
      guint max_value = state->u.sem.max_value;

      state_unlock (state);
      if (state->kind == MP_SYNC_BOUNDED_SEMAPHORE)
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s released more often than acquired: its value would "
                      "exceed the initial %u (Python: \"Semaphore released too many times\")",
                      G_OBJECT_TYPE_NAME (object), max_value);
      else
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s value would overflow %u", G_OBJECT_TYPE_NAME (object),
                      max_value);
      return FALSE;
    }
  state->u.sem.value++;
  if (state->u.sem.n_sleepers > 0)
    pthread_cond_signal (&state->cond);
  state_unlock (state);
  return TRUE;
}

static int
traced_semaphore_acquire (gpointer object, gint64 timeout_us, gboolean unused, GError **error)
{
  return semaphore_acquire (object, timeout_us, error);
}

static gboolean
traced_semaphore_release (gpointer object, gboolean unused, GError **error)
{
  return semaphore_release (object, error);
}

static guint
semaphore_get_value (gpointer object)
{
  MpSyncState *state = SYNC (object)->state;
  guint value;

  state_lock_forever (state);
  value = state->u.sem.value;
  state_unlock (state);
  return value;
}

static gboolean
semaphore_create (gpointer    object,
                  MpSyncKind  kind,
                  guint       value,
                  guint       max_value,
                  GError    **error)
{
  MpSyncState *state;

  if (!sync_object_create (object, kind, error))
    return FALSE;
  state = SYNC (object)->state;
  state->u.sem.value = value;
  state->u.sem.max_value = max_value;
  return TRUE;
}

struct _MpSemaphore
{
  MpSyncObject sync;
};

static gboolean
mp_semaphore_lockable_acquire (MpLockable *self,
                               gint64      timeout_us,
                               GError    **error)
{
  return mp_semaphore_acquire (MP_SEMAPHORE (self), timeout_us, error);
}

static gboolean
mp_semaphore_lockable_release (MpLockable *self,
                               GError    **error)
{
  return mp_semaphore_release (MP_SEMAPHORE (self), error);
}

static void
mp_semaphore_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = mp_semaphore_lockable_acquire;
  iface->release = mp_semaphore_lockable_release;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MpSemaphore, mp_semaphore, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, mp_semaphore_lockable_init))

static void
mp_semaphore_class_init (MpSemaphoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
}

static void
mp_semaphore_init (MpSemaphore *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_semaphore_new:
 * @value: the initial value
 * @error: return location for a #GError
 *
 * Creates a process-shared counting semaphore (Python's
 * `multiprocessing.Semaphore`).
 *
 * Returns: (transfer full) (nullable): a new semaphore, or %NULL with
 *   @error set.
 *
 * Since: 0.1
 */
MpSemaphore *
mp_semaphore_new (guint     value,
                  GError  **error)
{
  g_autoptr(MpSemaphore) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_SEMAPHORE, NULL);
  if (!semaphore_create (self, MP_SYNC_SEMAPHORE, value, G_MAXUINT, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_semaphore_acquire:
 * @self: an #MpSemaphore
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Waits until the value is above zero, then decrements it.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_TIMEOUT.
 *
 * Since: 0.1
 */
gboolean
mp_semaphore_acquire (MpSemaphore *self,
                      gint64       timeout_us,
                      GError     **error)
{
  g_return_val_if_fail (MP_IS_SEMAPHORE (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return semaphore_acquire (self, timeout_us, error);
}

/**
 * mp_semaphore_release:
 * @self: an #MpSemaphore
 * @error: return location for a #GError
 *
 * Increments the value, waking one waiter. Anyone may release.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT on overflow.
 *
 * Since: 0.1
 */
gboolean
mp_semaphore_release (MpSemaphore *self,
                      GError     **error)
{
  g_return_val_if_fail (MP_IS_SEMAPHORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return semaphore_release (self, error);
}

/**
 * mp_semaphore_get_value:
 * @self: an #MpSemaphore
 *
 * Returns: the current value (already stale when other processes use it).
 *
 * Since: 0.1
 */
guint
mp_semaphore_get_value (MpSemaphore *self)
{
  g_return_val_if_fail (MP_IS_SEMAPHORE (self), 0);

  return semaphore_get_value (self);
}

struct _MpBoundedSemaphore
{
  MpSyncObject sync;
};

static gboolean
mp_bounded_semaphore_lockable_acquire (MpLockable *self,
                                       gint64      timeout_us,
                                       GError    **error)
{
  return mp_bounded_semaphore_acquire (MP_BOUNDED_SEMAPHORE (self), timeout_us, error);
}

static gboolean
mp_bounded_semaphore_lockable_release (MpLockable *self,
                                       GError    **error)
{
  return mp_bounded_semaphore_release (MP_BOUNDED_SEMAPHORE (self), error);
}

static void
mp_bounded_semaphore_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = mp_bounded_semaphore_lockable_acquire;
  iface->release = mp_bounded_semaphore_lockable_release;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MpBoundedSemaphore, mp_bounded_semaphore, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, mp_bounded_semaphore_lockable_init))

static void
mp_bounded_semaphore_class_init (MpBoundedSemaphoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
}

static void
mp_bounded_semaphore_init (MpBoundedSemaphore *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_bounded_semaphore_new:
 * @value: the initial value, also the most the value may ever be
 * @error: return location for a #GError
 *
 * Creates a process-shared bounded semaphore (Python's
 * `multiprocessing.BoundedSemaphore`): releasing it more often than it was
 * acquired is an error instead of a silent extra permit.
 *
 * Returns: (transfer full) (nullable): a new semaphore, or %NULL with
 *   @error set.
 *
 * Since: 0.1
 */
MpBoundedSemaphore *
mp_bounded_semaphore_new (guint     value,
                          GError  **error)
{
  g_autoptr(MpBoundedSemaphore) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_BOUNDED_SEMAPHORE, NULL);
  if (!semaphore_create (self, MP_SYNC_BOUNDED_SEMAPHORE, value, value, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_bounded_semaphore_acquire:
 * @self: an #MpBoundedSemaphore
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_TIMEOUT.
 *
 * Since: 0.1
 */
gboolean
mp_bounded_semaphore_acquire (MpBoundedSemaphore *self,
                              gint64              timeout_us,
                              GError            **error)
{
  g_return_val_if_fail (MP_IS_BOUNDED_SEMAPHORE (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return semaphore_acquire (self, timeout_us, error);
}

/**
 * mp_bounded_semaphore_release:
 * @self: an #MpBoundedSemaphore
 * @error: return location for a #GError
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT when the value
 *   would exceed the initial value (the value is then unchanged).
 *
 * Since: 0.1
 */
gboolean
mp_bounded_semaphore_release (MpBoundedSemaphore *self,
                              GError            **error)
{
  g_return_val_if_fail (MP_IS_BOUNDED_SEMAPHORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return semaphore_release (self, error);
}

/**
 * mp_bounded_semaphore_get_value:
 * @self: an #MpBoundedSemaphore
 *
 * Returns: the current value.
 *
 * Since: 0.1
 */
guint
mp_bounded_semaphore_get_value (MpBoundedSemaphore *self)
{
  g_return_val_if_fail (MP_IS_BOUNDED_SEMAPHORE (self), 0);

  return semaphore_get_value (self);
}

/* ---- Condition ----------------------------------------------------------- */

struct _MpCondition
{
  MpSyncObject sync;
  MpLockable  *lock;       /* an MpLock or MpRLock */
};

static gboolean
mp_condition_lockable_acquire (MpLockable *self,
                               gint64      timeout_us,
                               GError    **error)
{
  return mp_condition_acquire (MP_CONDITION (self), timeout_us, error);
}

static gboolean
mp_condition_lockable_release (MpLockable *self,
                               GError    **error)
{
  return mp_condition_release (MP_CONDITION (self), error);
}

static void
mp_condition_lockable_init (MpLockableInterface *iface)
{
  iface->acquire = mp_condition_lockable_acquire;
  iface->release = mp_condition_lockable_release;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (MpCondition, mp_condition, G_TYPE_OBJECT,
  G_IMPLEMENT_INTERFACE (MP_TYPE_LOCKABLE, mp_condition_lockable_init))

static void
mp_condition_finalize (GObject *object)
{
  MpCondition *self = MP_CONDITION (object);

  g_clear_object (&self->lock);
  sync_object_finalize (object);
}

static void
mp_condition_class_init (MpConditionClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mp_condition_finalize;
  mp_sync_register_guarded_type (G_TYPE_FROM_CLASS (klass), G_STRUCT_OFFSET (MpCondition, lock));
}

static void
mp_condition_init (MpCondition *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

static gboolean
condition_check_lock (MpLockable  *lock,
                      GError     **error)
{
  if (MP_IS_LOCK (lock) || MP_IS_RLOCK (lock))
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "An MpCondition needs an MpLock or MpRLock, not an %s",
                G_OBJECT_TYPE_NAME (lock));
  return FALSE;
}

/**
 * mp_condition_new:
 * @lock: (nullable): an #MpLock or #MpRLock, or %NULL for a new #MpRLock
 * @error: return location for a #GError
 *
 * Creates a process-shared condition (Python's `multiprocessing.Condition`).
 *
 * Returns: (transfer full) (nullable): a new condition, or %NULL with
 *   @error set.
 *
 * Since: 0.1
 */
MpCondition *
mp_condition_new (MpLockable  *lock,
                  GError     **error)
{
  g_autoptr(MpCondition) self = NULL;

  g_return_val_if_fail (lock == NULL || MP_IS_LOCKABLE (lock), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (lock != NULL && !condition_check_lock (lock, error))
    return NULL;

  self = g_object_new (MP_TYPE_CONDITION, NULL);
  if (lock != NULL)
    self->lock = g_object_ref (lock);
  else
    {
      self->lock = (MpLockable *) mp_rlock_new (error);
      if (self->lock == NULL)
        return NULL;
    }
  if (!sync_object_create (self, MP_SYNC_CONDITION, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_condition_get_lock:
 * @self: an #MpCondition
 *
 * Returns: (transfer none): the lock the condition waits on.
 *
 * Since: 0.1
 */
MpLockable *
mp_condition_get_lock (MpCondition *self)
{
  g_return_val_if_fail (MP_IS_CONDITION (self), NULL);

  return self->lock;
}

/**
 * mp_condition_acquire:
 * @self: an #MpCondition
 * @timeout_us: microseconds to wait, 0 to only try, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Acquires the condition's lock.
 *
 * Returns: as mp_lockable_acquire().
 *
 * Since: 0.1
 */
gboolean
mp_condition_acquire (MpCondition *self,
                      gint64       timeout_us,
                      GError     **error)
{
  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mp_lockable_acquire (self->lock, timeout_us, error);
}

/**
 * mp_condition_release:
 * @self: an #MpCondition
 * @error: return location for a #GError
 *
 * Releases the condition's lock.
 *
 * Returns: as mp_lockable_release().
 *
 * Since: 0.1
 */
gboolean
mp_condition_release (MpCondition *self,
                      GError     **error)
{
  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mp_lockable_release (self->lock, error);
}

static gboolean
condition_check_held (MpCondition *self,
                      const char  *what,
                      GError     **error)
{
  if (lock_is_mine (self->lock))
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "Cannot %s an MpCondition without holding its lock: acquire "
                "it first (Python: \"cannot %s on un-acquired lock\")", what, what);
  return FALSE;
}

/**
 * mp_condition_wait:
 * @self: an #MpCondition
 * @timeout_us: microseconds to wait, 0 to only check, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Releases the lock (all levels of an #MpRLock), waits until notified,
 * then takes the lock back. The caller must hold the lock, and holds it
 * again when this returns, whatever the result.
 *
 * Returns: %TRUE when notified; %FALSE with %MP_ERROR_TIMEOUT, with
 *   %MP_ERROR_OWNER_DIED (another holder of the lock died holding it; the
 *   lock is consistent again and held by the caller), or with
 *   %MP_ERROR_INVALID_ARGUMENT when the caller does not hold the lock.
 *
 * Since: 0.1
 */
static int
traced_condition_wait (gpointer object, gint64 timeout_us, gboolean unused, GError **error)
{
  return mp_condition_wait (object, timeout_us, error);
}

gboolean
mp_condition_wait (MpCondition *self,
                   gint64       timeout_us,
                   GError     **error)
{
  MpSyncState *cond;
  MpSyncState *lock;
  MpDeadline deadline;
  guint64 generation;
  guint saved_count;
  gboolean notified = FALSE;
  gboolean owner_died = FALSE;
  int r = 0;

  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (MP_TRACE_ON && !trace_inside)
    return trace_wait (self, timeout_us, FALSE, error, traced_condition_wait, FALSE);
  if (!condition_check_held (self, "wait", error))
    return FALSE;

  cond = self->sync.state;
  lock = SYNC (self->lock)->state;
  deadline_init (&deadline, timeout_us);

  /* n_waiting + n_signals is the number of waiters inside; notify moves
   * waiters from the first to the second, and a waiter may take a signal
   * only if a notify happened after it entered (generation changed).
   * Spurious wake-ups and latecomers thus never steal a notification. */
  generation = cond->u.cond.generation;
  cond->u.cond.n_waiting++;
  /* the mutex is released once below; an RLock's depth comes back after */
  saved_count = lock->u.lock.count;
  lock->u.lock.count = 0;
  holder_clear (SYNC (self->lock));

  for (;;)
    {
      r = cond_wait_until (&cond->cond, &lock->mutex, &deadline);
      if (r == EOWNERDEAD)
        {
          pthread_mutex_consistent (&lock->mutex);
          owner_died = TRUE;
        }
      if (cond->u.cond.generation != generation && cond->u.cond.n_signals > 0)
        {
          cond->u.cond.n_signals--;
          notified = TRUE;
          break;
        }
      if (r == ETIMEDOUT || owner_died)
        {
          cond->u.cond.n_waiting--;
          break;
        }
    }
  lock->u.lock.count = saved_count;
  holder_set (SYNC (self->lock));

  if (owner_died)
    {
      mp_set_error (error, MP_ERROR_OWNER_DIED,
                    "A process holding the lock of this MpCondition died "
                    "without releasing it; the lock is consistent again and "
                    "held by the caller, but what it protected may be half-updated");
      return FALSE;
    }
  if (!notified)
    return set_timeout_error (error, self, "be notified by", timeout_us);
  return TRUE;
}

/**
 * mp_condition_wait_for:
 * @self: an #MpCondition
 * @predicate: (scope call): checked with the lock held
 * @user_data: data for @predicate
 * @timeout_us: microseconds to wait in total, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Waits until @predicate returns %TRUE. The caller must hold the lock.
 *
 * Returns: %TRUE when @predicate holds; %FALSE with @error set as for
 *   mp_condition_wait() when it still does not at the deadline.
 *
 * Since: 0.1
 */
gboolean
mp_condition_wait_for (MpCondition *self,
                       MpPredicate  predicate,
                       gpointer     user_data,
                       gint64       timeout_us,
                       GError     **error)
{
  gint64 end_time;

  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (predicate != NULL, FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  end_time = mp_deadline_from_timeout (timeout_us);
  while (!predicate (user_data))
    {
      gint64 left = MP_WAIT_FOREVER;
      g_autoptr(GError) local_error = NULL;

      if (end_time >= 0)
        {
          left = end_time - g_get_monotonic_time ();
          if (left <= 0)
            return set_timeout_error (error, self, "see the predicate hold on", timeout_us);
        }
      if (!mp_condition_wait (self, left, &local_error) &&
          !g_error_matches (local_error, MP_ERROR, MP_ERROR_TIMEOUT))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * mp_condition_notify:
 * @self: an #MpCondition
 * @n: how many waiters to wake at most
 * @error: return location for a #GError
 *
 * Wakes up to @n of the processes or threads waiting on @self. The caller
 * must hold the lock.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_INVALID_ARGUMENT when the caller
 *   does not hold the lock.
 *
 * Since: 0.1
 */
gboolean
mp_condition_notify (MpCondition *self,
                     guint        n,
                     GError     **error)
{
  MpSyncState *cond;
  guint64 k;

  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!condition_check_held (self, "notify", error))
    return FALSE;

  cond = self->sync.state;
  k = MIN ((guint64) n, cond->u.cond.n_waiting);
  if (k > 0)
    {
      cond->u.cond.n_waiting -= k;
      cond->u.cond.n_signals += k;
      cond->u.cond.generation++;
      /* every waiter wakes; those not entitled go back to sleep */
      pthread_cond_broadcast (&cond->cond);
    }
  return TRUE;
}

/**
 * mp_condition_notify_all:
 * @self: an #MpCondition
 * @error: return location for a #GError
 *
 * Wakes every waiter. The caller must hold the lock.
 *
 * Returns: as mp_condition_notify().
 *
 * Since: 0.1
 */
gboolean
mp_condition_notify_all (MpCondition *self,
                         GError     **error)
{
  g_return_val_if_fail (MP_IS_CONDITION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return mp_condition_notify (self, G_MAXUINT, error);
}

/* ---- Event ----------------------------------------------------------------- */

struct _MpEvent
{
  MpSyncObject sync;
};

G_DEFINE_FINAL_TYPE (MpEvent, mp_event, G_TYPE_OBJECT)

static void
mp_event_class_init (MpEventClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
}

static void
mp_event_init (MpEvent *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_event_new:
 * @error: return location for a #GError
 *
 * Creates a process-shared event, initially clear (Python's
 * `multiprocessing.Event`).
 *
 * Returns: (transfer full) (nullable): a new event, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpEvent *
mp_event_new (GError **error)
{
  g_autoptr(MpEvent) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (MP_TYPE_EVENT, NULL);
  if (!sync_object_create (self, MP_SYNC_EVENT, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_event_set:
 * @self: an #MpEvent
 *
 * Sets the flag and wakes every waiter.
 *
 * Since: 0.1
 */
void
mp_event_set (MpEvent *self)
{
  MpSyncState *state;

  g_return_if_fail (MP_IS_EVENT (self));

  state = self->sync.state;
  state_lock_forever (state);
  state->u.event.flag = TRUE;
  pthread_cond_broadcast (&state->cond);
  state_unlock (state);
}

/**
 * mp_event_clear:
 * @self: an #MpEvent
 *
 * Clears the flag.
 *
 * Since: 0.1
 */
void
mp_event_clear (MpEvent *self)
{
  MpSyncState *state;

  g_return_if_fail (MP_IS_EVENT (self));

  state = self->sync.state;
  state_lock_forever (state);
  state->u.event.flag = FALSE;
  state_unlock (state);
}

/**
 * mp_event_is_set:
 * @self: an #MpEvent
 *
 * Returns: whether the flag is set.
 *
 * Since: 0.1
 */
gboolean
mp_event_is_set (MpEvent *self)
{
  MpSyncState *state;
  gboolean flag;

  g_return_val_if_fail (MP_IS_EVENT (self), FALSE);

  state = self->sync.state;
  state_lock_forever (state);
  flag = state->u.event.flag;
  state_unlock (state);
  return flag;
}

/**
 * mp_event_wait:
 * @self: an #MpEvent
 * @timeout_us: microseconds to wait, 0 to only check, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Waits until the flag is set.
 *
 * Returns: %TRUE when set; %FALSE with %MP_ERROR_TIMEOUT.
 *
 * Since: 0.1
 */
static int
traced_event_wait (gpointer object, gint64 timeout_us, gboolean unused, GError **error)
{
  return mp_event_wait (object, timeout_us, error);
}

gboolean
mp_event_wait (MpEvent *self,
               gint64   timeout_us,
               GError **error)
{
  MpSyncState *state;
  MpDeadline deadline;
  gboolean flag;
  int r;

  g_return_val_if_fail (MP_IS_EVENT (self), FALSE);
  g_return_val_if_fail (timeout_us >= -1, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (MP_TRACE_ON && !trace_inside)
    return trace_wait (self, timeout_us, FALSE, error, traced_event_wait, FALSE);
  state = self->sync.state;
  deadline_init (&deadline, timeout_us);
  r = state_lock (state, &deadline);
  if (r == ETIMEDOUT)
    return set_timeout_error (error, self, "see the flag of", timeout_us);
  if (r != 0)
    return mp_set_error_from_errno (error, r, "waiting for an MpEvent");

  while (!state->u.event.flag && r == 0)
    r = state_wait (state, &deadline);
  flag = state->u.event.flag;
  state_unlock (state);

  if (!flag)
    return set_timeout_error (error, self, "see the flag of", timeout_us);
  return TRUE;
}

/* ---- Barrier ------------------------------------------------------------------ */

struct _MpBarrier
{
  MpSyncObject sync;
};

G_DEFINE_FINAL_TYPE (MpBarrier, mp_barrier, G_TYPE_OBJECT)

static void
mp_barrier_class_init (MpBarrierClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = sync_object_finalize;
}

static void
mp_barrier_init (MpBarrier *self)
{
  self->sync.mapping = (MpMapping) MP_MAPPING_INIT;
}

/**
 * mp_barrier_new:
 * @parties: how many must arrive before all go on, at least 1
 * @error: return location for a #GError
 *
 * Creates a process-shared barrier (Python's `multiprocessing.Barrier`,
 * without the action callback).
 *
 * Returns: (transfer full) (nullable): a new barrier, or %NULL with @error
 *   set (%MP_ERROR_INVALID_ARGUMENT when @parties is 0).
 *
 * Since: 0.1
 */
MpBarrier *
mp_barrier_new (guint     parties,
                GError  **error)
{
  g_autoptr(MpBarrier) self = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (parties == 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "An MpBarrier needs at least one party");
      return NULL;
    }
  self = g_object_new (MP_TYPE_BARRIER, NULL);
  if (!sync_object_create (self, MP_SYNC_BARRIER, error))
    return NULL;
  self->sync.state->u.barrier.parties = parties;
  self->sync.state->u.barrier.state = BARRIER_FILLING;
  return g_steal_pointer (&self);
}

static void
barrier_set_broken_error (GError **error)
{
  mp_set_error (error, MP_ERROR_BROKEN_BARRIER,
                "The MpBarrier is broken: it was aborted, reset, or a waiter "
                "timed out");
}

/**
 * mp_barrier_wait:
 * @self: an #MpBarrier
 * @timeout_us: microseconds to wait, %MP_WAIT_FOREVER
 * @error: return location for a #GError
 *
 * Waits until all parties have called this. A waiter that times out
 * breaks the barrier, so the others do not wait for it forever.
 *
 * Returns: the arrival index, 0 for the first to arrive up to parties - 1;
 *   -1 with %MP_ERROR_BROKEN_BARRIER when the barrier is or becomes broken
 *   (aborted, reset, another waiter timed out), or with %MP_ERROR_TIMEOUT
 *   for the waiter whose time ran out (Python raises BrokenBarrierError
 *   there too; the barrier is broken for everyone else).
 *
 * Since: 0.1
 */
/* the arrival index + 1: 0 is failure */
static int
traced_barrier_wait (gpointer object, gint64 timeout_us, gboolean unused, GError **error)
{
  return mp_barrier_wait (object, timeout_us, error) + 1;
}

int
mp_barrier_wait (MpBarrier *self,
                 gint64     timeout_us,
                 GError   **error)
{
  MpSyncState *state;
  MpDeadline deadline;
  guint index;
  gboolean timed_out = FALSE;
  gboolean broken = FALSE;
  int r;

  g_return_val_if_fail (MP_IS_BARRIER (self), -1);
  g_return_val_if_fail (timeout_us >= -1, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  if (MP_TRACE_ON && !trace_inside)
    return trace_wait (self, timeout_us, FALSE, error, traced_barrier_wait, FALSE) - 1;
  state = self->sync.state;
  deadline_init (&deadline, timeout_us);
  r = state_lock (state, &deadline);
  if (r == ETIMEDOUT)
    {
      set_timeout_error (error, self, "enter", timeout_us);
      return -1;
    }
  if (r != 0)
    {
      mp_set_error_from_errno (error, r, "entering an MpBarrier");
      return -1;
    }

  /* the previous round must drain (or a reset finish) before a new one */
  while (state->u.barrier.state == BARRIER_DRAINING ||
         state->u.barrier.state == BARRIER_RESETTING)
    {
      if (state_wait (state, &deadline) == ETIMEDOUT &&
          (state->u.barrier.state == BARRIER_DRAINING ||
           state->u.barrier.state == BARRIER_RESETTING))
        {
          state_unlock (state);
          set_timeout_error (error, self, "enter", timeout_us);
          return -1;
        }
    }
  if (state->u.barrier.state == BARRIER_BROKEN)
    {
      state_unlock (state);
      barrier_set_broken_error (error);
      return -1;
    }

  index = state->u.barrier.count++;
  if (index + 1 == state->u.barrier.parties)
    {
      state->u.barrier.state = BARRIER_DRAINING;
      pthread_cond_broadcast (&state->cond);
    }
  else
    {
      while (state->u.barrier.state == BARRIER_FILLING)
        {
          if (state_wait (state, &deadline) == ETIMEDOUT &&
              state->u.barrier.state == BARRIER_FILLING)
            {
              state->u.barrier.state = BARRIER_BROKEN;
              pthread_cond_broadcast (&state->cond);
              timed_out = TRUE;
            }
        }
      broken = !timed_out && state->u.barrier.state != BARRIER_DRAINING;
    }

  /* leave; the last one out opens the barrier for the next round */
  state->u.barrier.count--;
  if (state->u.barrier.count == 0 &&
      (state->u.barrier.state == BARRIER_DRAINING ||
       state->u.barrier.state == BARRIER_RESETTING))
    {
      state->u.barrier.state = BARRIER_FILLING;
      pthread_cond_broadcast (&state->cond);
    }
  state_unlock (state);

  if (timed_out)
    {
      mp_set_error (error, MP_ERROR_TIMEOUT,
                    "Timed out after %.3f s waiting at the MpBarrier for %u "
                    "more part%s; the barrier is now broken for everyone "
                    "(Python: BrokenBarrierError)",
                    seconds (timeout_us),
                    state->u.barrier.parties - index - 1,
                    state->u.barrier.parties - index - 1 == 1 ? "y" : "ies");
      return -1;
    }
  if (broken)
    {
      barrier_set_broken_error (error);
      return -1;
    }
  return (int) index;
}

/**
 * mp_barrier_abort:
 * @self: an #MpBarrier
 *
 * Breaks the barrier: current and later waiters get
 * %MP_ERROR_BROKEN_BARRIER until mp_barrier_reset().
 *
 * Since: 0.1
 */
void
mp_barrier_abort (MpBarrier *self)
{
  MpSyncState *state;

  g_return_if_fail (MP_IS_BARRIER (self));

  state = self->sync.state;
  state_lock_forever (state);
  state->u.barrier.state = BARRIER_BROKEN;
  pthread_cond_broadcast (&state->cond);
  state_unlock (state);
}

/**
 * mp_barrier_reset:
 * @self: an #MpBarrier
 *
 * Returns the barrier to its empty, unbroken state. Current waiters get
 * %MP_ERROR_BROKEN_BARRIER.
 *
 * Since: 0.1
 */
void
mp_barrier_reset (MpBarrier *self)
{
  MpSyncState *state;

  g_return_if_fail (MP_IS_BARRIER (self));

  state = self->sync.state;
  state_lock_forever (state);
  if (state->u.barrier.count > 0)
    {
      /* waiters still inside: the last one out finishes the reset */
      if (state->u.barrier.state == BARRIER_FILLING ||
          state->u.barrier.state == BARRIER_BROKEN)
        state->u.barrier.state = BARRIER_RESETTING;
    }
  else
    state->u.barrier.state = BARRIER_FILLING;
  pthread_cond_broadcast (&state->cond);
  state_unlock (state);
}

/**
 * mp_barrier_get_parties:
 * @self: an #MpBarrier
 *
 * Returns: how many must arrive.
 *
 * Since: 0.1
 */
guint
mp_barrier_get_parties (MpBarrier *self)
{
  g_return_val_if_fail (MP_IS_BARRIER (self), 0);

  /* set at creation, never changed */
  return self->sync.state->u.barrier.parties;
}

/**
 * mp_barrier_get_n_waiting:
 * @self: an #MpBarrier
 *
 * Returns: how many are waiting in the current round.
 *
 * Since: 0.1
 */
guint
mp_barrier_get_n_waiting (MpBarrier *self)
{
  MpSyncState *state;
  guint n;

  g_return_val_if_fail (MP_IS_BARRIER (self), 0);

  state = self->sync.state;
  state_lock_forever (state);
  n = state->u.barrier.state == BARRIER_FILLING ? state->u.barrier.count : 0;
  state_unlock (state);
  return n;
}

/**
 * mp_barrier_is_broken:
 * @self: an #MpBarrier
 *
 * Returns: whether the barrier is broken.
 *
 * Since: 0.1
 */
gboolean
mp_barrier_is_broken (MpBarrier *self)
{
  MpSyncState *state;
  gboolean broken;

  g_return_val_if_fail (MP_IS_BARRIER (self), FALSE);

  state = self->sync.state;
  state_lock_forever (state);
  broken = state->u.barrier.state == BARRIER_BROKEN;
  state_unlock (state);
  return broken;
}

/* ---- for shared values (mp-sync-private.h) --------------------------------- */

gpointer
mp_sync_lock_value_cell (MpLockable *lock)
{
  return &SYNC (lock)->state->u.lock.value_cell;
}

gboolean
mp_sync_is_mutex_lock (gpointer object)
{
  GType type = object != NULL ? G_TYPE_FROM_INSTANCE (object) : G_TYPE_INVALID;

  return type != G_TYPE_INVALID && (type == LOCK_TYPE_ID () || type == RLOCK_TYPE_ID ());
}

/* mp_sync_lock_enter() when the mutex was not free: @r is what trying it
 * gave. */
gboolean
mp_sync_lock_enter_slow (MpLockable *lock,
                         int         r,
                         gboolean   *entered,
                         GError    **error)
{
  MpSyncState *state = SYNC (lock)->state;

  /* Both kinds have an error-checking mutex: EDEADLK means the same, for
   * a hold through another mapping. */
  if (r == EBUSY)
    r = pthread_mutex_lock (&state->mutex);
  switch (r)
    {
    case 0:
      *entered = TRUE;
      return TRUE;
    case EDEADLK:
      return TRUE;
    case EOWNERDEAD:
      return recover_dead_owner (lock, error);
    default:
      return mp_set_error_from_errno (error, r, "acquiring the %s",
                                      G_OBJECT_TYPE_NAME (lock));
    }
}

/* ---- travelling by inheritance -------------------------------------------- */

/* The state is the memfd's number: the process layer keeps it open in the
 * child (across exec for spawn), where the rebuild maps it again. */
static GVariant *
reduce_sync_object (GObject   *object,
                    gpointer   user_data,
                    GError   **error)
{
  int fd = SYNC (object)->mapping.fd;

  if (!mp_spawning_keep_fd (fd, error))
    return NULL;
  return g_variant_new_int32 (fd);
}

static GObject *
rebuild_sync_object (GType       type,
                     MpSyncKind  kind,
                     GVariant   *state,
                     GError    **error)
{
  g_autoptr(GObject) object = NULL;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE_INT32))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The state of an %s must be an fd number (i), not %s",
                    g_type_name (type), g_variant_get_type_string (state));
      return NULL;
    }
  object = g_object_new (type, NULL);
  if (!sync_object_attach (object, kind, g_variant_get_int32 (state), error))
    return NULL;
  return g_steal_pointer (&object);
}

static GType
type_of_kind (MpSyncKind kind)
{
  switch (kind)
    {
    case MP_SYNC_LOCK:
      return MP_TYPE_LOCK;
    case MP_SYNC_RLOCK:
      return MP_TYPE_RLOCK;
    case MP_SYNC_SEMAPHORE:
      return MP_TYPE_SEMAPHORE;
    case MP_SYNC_BOUNDED_SEMAPHORE:
      return MP_TYPE_BOUNDED_SEMAPHORE;
    case MP_SYNC_EVENT:
      return MP_TYPE_EVENT;
    case MP_SYNC_BARRIER:
      return MP_TYPE_BARRIER;
    case MP_SYNC_CONDITION:
    default:
      g_assert_not_reached ();
    }
}

static GObject *
rebuild_by_kind (GVariant  *state,
                 gpointer   user_data,
                 GError   **error)
{
  MpSyncKind kind = GPOINTER_TO_INT (user_data);

  return rebuild_sync_object (type_of_kind (kind), kind, state, error);
}

/* A condition travels with its lock: (its own fd, the lock's wire form). */
static GVariant *
reduce_condition (GObject   *object,
                  gpointer   user_data,
                  GError   **error)
{
  MpCondition *self = MP_CONDITION (object);
  g_auto(GValue) lock_value = G_VALUE_INIT;
  g_autoptr(GVariant) lock_wire = NULL;
  g_autoptr(GVariant) fd = NULL;

  fd = reduce_sync_object (object, user_data, error);
  if (fd == NULL)
    return NULL;
  g_variant_ref_sink (fd);
  g_value_init (&lock_value, G_OBJECT_TYPE (self->lock));
  g_value_set_object (&lock_value, self->lock);
  lock_wire = mp_serialize_value (&lock_value, error);
  if (lock_wire == NULL)
    return NULL;
  return g_variant_new ("(@i@v)", fd, lock_wire);
}

static GObject *
rebuild_condition (GVariant  *state,
                   gpointer   user_data,
                   GError   **error)
{
  g_autoptr(GVariant) fd = NULL;
  g_autoptr(GVariant) lock_wire = NULL;
  g_auto(GValue) lock_value = G_VALUE_INIT;
  g_autoptr(GObject) object = NULL;
  GObject *lock;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE ("(iv)")))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The state of an MpCondition must be (iv), not %s",
                    g_variant_get_type_string (state));
      return NULL;
    }
  g_variant_get (state, "(@i@v)", &fd, &lock_wire);
  if (!mp_deserialize_value (lock_wire, &lock_value, error))
    return NULL;
  lock = G_VALUE_HOLDS_OBJECT (&lock_value) ? g_value_get_object (&lock_value) : NULL;
  if (!MP_IS_LOCK (lock) && !MP_IS_RLOCK (lock))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The lock of a received MpCondition is not an MpLock or MpRLock");
      return NULL;
    }
  object = rebuild_sync_object (MP_TYPE_CONDITION, MP_SYNC_CONDITION, fd, error);
  if (object == NULL)
    return NULL;
  MP_CONDITION (object)->lock = g_object_ref (MP_LOCKABLE (lock));
  return g_steal_pointer (&object);
}

/* At load time, so that a spawned child, which runs main() from the top,
 * knows the types before mp_main_guard() decodes its arguments. */
MP_INITIALIZER (mp_sync_register_reducers)

static void
mp_sync_register_reducers (void)
{
  pthread_atfork (NULL, NULL, forget_serial_in_child);

  static const MpSyncKind plain_kinds[] = {
    MP_SYNC_LOCK, MP_SYNC_RLOCK, MP_SYNC_SEMAPHORE, MP_SYNC_BOUNDED_SEMAPHORE,
    MP_SYNC_EVENT, MP_SYNC_BARRIER,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (plain_kinds); i++)
    mp_serialize_register_reducer (type_of_kind (plain_kinds[i]),
                                   MP_TRANSFER_INHERIT_ONLY,
                                   reduce_sync_object, rebuild_by_kind,
                                   GINT_TO_POINTER (plain_kinds[i]));
  mp_serialize_register_reducer (MP_TYPE_CONDITION, MP_TRANSFER_INHERIT_ONLY,
                                 reduce_condition, rebuild_condition, NULL);
}
