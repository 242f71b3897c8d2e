/* mp-referent-sync.c — threading's primitives in a manager's server
 *
 * Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event and
 * Barrier, owned by client threads. A call that blocks waits with
 * mp_call_wait(), so it also returns when the server shuts down or its
 * client goes away.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-referent-private.h"

/* ------------------------------------------------------------------ */
/* Lock and RLock                                                       */
/* ------------------------------------------------------------------ */

/*
 * The owner of a lock is a client thread: (process nonce, thread). A Lock
 * may be released by anyone (threading.Lock); an RLock only by its owner.
 *
 * When a client process goes away while holding a lock (its anchor
 * connection ends), the server releases the lock. CPython leaves it held
 * for ever, so every other client deadlocks; a dead client can never
 * release it, so mpshare does what a robust mutex does. The data the lock
 * protected may be half-updated: that is the price, as with EOWNERDEAD.
 */
typedef struct {
  MpReferent  parent;
  gboolean    recursive;
  guint64     owner_nonce;
  guint64     owner_thread;
  guint       count;
  GQueue      waiters;
} LockReferent;

#define LOCK(r) ((LockReferent *) (r))

static gboolean
lock_init (MpReferent *self,
           MpCall     *call,
           MpArgv     *args,
           GError    **error)
{
  /* named as called: Lock() or RLock() */
  g_autofree char *what = g_strconcat (self->klass->typeid, "()", NULL);

  g_queue_init (&LOCK (self)->waiters);
  return mp_referent_args_count (args, what, 0, 0, error);
}

static gboolean
rlock_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  LOCK (self)->recursive = TRUE;
  return lock_init (self, call, args, error);
}

static gboolean
lock_owned_by (LockReferent *self,
               MpCall       *call)
{
  return self->count > 0 && self->owner_nonce == call->nonce &&
         self->owner_thread == call->thread;
}

/* with the mutex held; *acquired says whether it was */
static gboolean
lock_acquire_locked (LockReferent *self,
                     MpCall       *call,
                     gboolean      blocking,
                     gint64        deadline,
                     gboolean     *acquired,
                     GError      **error)
{
  for (;;)
    {
      if (self->count == 0)
        {
          self->count = 1;
          self->owner_nonce = call->nonce;
          self->owner_thread = call->thread;
          *acquired = TRUE;
          return TRUE;
        }
      if (self->recursive && lock_owned_by (self, call))
        {
          self->count++;
          *acquired = TRUE;
          return TRUE;
        }
      if (!blocking || mp_deadline_passed (deadline))
        {
          *acquired = FALSE;
          return TRUE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->waiters, deadline, error))
        return FALSE;
    }
}

static gboolean
lock_release_locked (LockReferent *self,
                     MpCall       *call,
                     GError      **error)
{
  if (self->count == 0 || (self->recursive && !lock_owned_by (self, call)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    self->recursive ? "cannot release un-acquired lock (Python: RuntimeError)"
                                    : "release unlocked lock (Python: RuntimeError)");
      return FALSE;
    }
  if (--self->count == 0)
    {
      self->owner_nonce = self->owner_thread = 0;
      mp_waiters_wake_all (&self->waiters);
    }
  return TRUE;
}

static gboolean
acquire_args (MpArgv     *args,
              const char *what,
              gboolean   *blocking,
              gint64     *deadline,
              GError    **error)
{
  return mp_referent_args_count (args, what, 0, 2, error) &&
         mp_referent_arg_bool_or (args, 0, TRUE, what, blocking, error) &&
         mp_referent_arg_deadline (args, 1, what, deadline, error);
}

static gboolean
lock_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean blocking, acquired;
  gint64 deadline;

  if (!acquire_args (args, "Lock.acquire()", &blocking, &deadline, error) ||
      !lock_acquire_locked (LOCK (self), call, blocking, deadline, &acquired, error))
    return FALSE;
  *result = mp_wire_bool (acquired);
  return TRUE;
}

static gboolean
lock_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return mp_referent_args_count (args, "Lock.release()", 0, 0, error) &&
         lock_release_locked (LOCK (self), call, error);
}

static void
lock_release_owner (MpReferent *self,
                    guint64     nonce)
{
  g_mutex_lock (&self->mutex);
  if (LOCK (self)->count > 0 && LOCK (self)->owner_nonce == nonce)
    {
      LOCK (self)->count = 0;
      LOCK (self)->owner_nonce = LOCK (self)->owner_thread = 0;
      mp_waiters_wake_all (&LOCK (self)->waiters);
    }
  g_mutex_unlock (&self->mutex);
}

static const MpReferentMethod lock_methods[] = {
  { "acquire", lock_acquire },
  { "release", lock_release },
  { NULL, NULL }
};

const MpReferentClass mp_referent_lock_class = {
  .typeid = "Lock",
  .instance_size = sizeof (LockReferent),
  .methods = lock_methods,
  .init = lock_init,
  .release_owner = lock_release_owner,
};

const MpReferentClass mp_referent_rlock_class = {
  .typeid = "RLock",
  .instance_size = sizeof (LockReferent),
  .methods = lock_methods,
  .init = rlock_init,
  .release_owner = lock_release_owner,
};

gboolean
mp_referent_is_lock (MpReferent *self)
{
  return self->klass == &mp_referent_lock_class || self->klass == &mp_referent_rlock_class;
}

/* ------------------------------------------------------------------ */
/* Semaphore and BoundedSemaphore (no owner: anyone may release)        */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gboolean    bounded;
  gint64      initial;
  gint64      value;
  GQueue      waiters;
} SemaphoreReferent;

#define SEMAPHORE(r) ((SemaphoreReferent *) (r))

static gboolean
semaphore_init (MpReferent *self,
                MpCall     *call,
                MpArgv     *args,
                GError    **error)
{
  /* named as called: Semaphore() or BoundedSemaphore() */
  g_autofree char *what = g_strconcat (self->klass->typeid, "()", NULL);

  g_queue_init (&SEMAPHORE (self)->waiters);
  if (!mp_referent_args_count (args, what, 0, 1, error) ||
      !mp_referent_arg_int_or (args, 0, 1, what, &SEMAPHORE (self)->value, error))
    return FALSE;
  if (SEMAPHORE (self)->value < 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "semaphore initial value must be >= 0 (Python: ValueError)");
      return FALSE;
    }
  SEMAPHORE (self)->initial = SEMAPHORE (self)->value;
  return TRUE;
}

static gboolean
bounded_semaphore_init (MpReferent *self,
                        MpCall     *call,
                        MpArgv     *args,
                        GError    **error)
{
  SEMAPHORE (self)->bounded = TRUE;
  return semaphore_init (self, call, args, error);
}

static gboolean
semaphore_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  SemaphoreReferent *sem = SEMAPHORE (self);
  gboolean blocking;
  gint64 deadline;

  if (!acquire_args (args, "Semaphore.acquire()", &blocking, &deadline, error))
    return FALSE;
  while (sem->value == 0)
    {
      if (!blocking || mp_deadline_passed (deadline))
        {
          *result = mp_wire_bool (FALSE);
          return TRUE;
        }
      if (!mp_call_wait_queued (call, &self->mutex, &sem->waiters, deadline, error))
        return FALSE;
    }
  sem->value--;
  *result = mp_wire_bool (TRUE);
  return TRUE;
}

static gboolean
semaphore_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  SemaphoreReferent *sem = SEMAPHORE (self);
  gint64 n;

  if (!mp_referent_args_count (args, "Semaphore.release()", 0, 1, error) ||
      !mp_referent_arg_int_or (args, 0, 1, "Semaphore.release()", &n, error))
    return FALSE;
  if (n < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "n must be one or more (Python: ValueError)");
      return FALSE;
    }
  if (sem->bounded && sem->value + n > sem->initial)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Semaphore released too many times (Python: ValueError)");
      return FALSE;
    }
  sem->value += n;
  mp_waiters_wake_all (&sem->waiters);
  return TRUE;
}

static const MpReferentMethod semaphore_methods[] = {
  { "acquire", semaphore_acquire },
  { "release", semaphore_release },
  { NULL, NULL }
};

const MpReferentClass mp_referent_semaphore_class = {
  .typeid = "Semaphore",
  .instance_size = sizeof (SemaphoreReferent),
  .methods = semaphore_methods,
  .init = semaphore_init,
};

const MpReferentClass mp_referent_bounded_semaphore_class = {
  .typeid = "BoundedSemaphore",
  .instance_size = sizeof (SemaphoreReferent),
  .methods = semaphore_methods,
  .init = bounded_semaphore_init,
};

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

/* Lock order: the condition's mutex, then its lock's mutex. */
typedef struct {
  MpReferent  parent;
  MpReferent *lock;        /* a Lock or RLock */
  GVariant   *lock_token;  /* the token that keeps a shared lock alive */
  GQueue      waiters;     /* MpWaiter*, first come first notified */
} ConditionReferent;

#define CONDITION(r) ((ConditionReferent *) (r))

static gboolean
condition_init (MpReferent *self,
                MpCall     *call,
                MpArgv     *args,
                GError    **error)
{
  ConditionReferent *cond = CONDITION (self);

  g_queue_init (&cond->waiters);
  if (!mp_referent_args_count (args, "Condition()", 0, 1, error))
    return FALSE;
  if (!mp_referent_arg_present (args, 0))
    {
      /* Python's default: a fresh RLock of the condition's own */
      MpArgv none = MP_ARGV_INIT;

      cond->lock = mp_referent_new (&mp_referent_rlock_class, self->server, call, &none, error);
      return cond->lock != NULL;
    }
  cond->lock_token = mp_referent_arg_wire (args, 0);
  cond->lock = mp_server_lookup_token (self->server, cond->lock_token, error);
  if (cond->lock == NULL)
    {
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      g_prefix_error (error, "Condition(): ");
      return FALSE;
    }
  if (!mp_referent_is_lock (cond->lock))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Condition() needs a Lock or an RLock proxy, not a %s", cond->lock->klass->typeid);
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      return FALSE;
    }
  if (!mp_server_retain_wire (self->server, cond->lock_token, error))
    {
      g_clear_pointer (&cond->lock_token, g_variant_unref);
      return FALSE;
    }
  return TRUE;
}

static void
condition_finalize (MpReferent *self)
{
  ConditionReferent *cond = CONDITION (self);

  if (cond->lock_token != NULL)
    mp_server_release_wire (self->server, cond->lock_token);
  g_clear_pointer (&cond->lock_token, g_variant_unref);
  g_clear_pointer (&cond->lock, mp_referent_unref);
}

static gboolean
condition_acquire (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  MpReferent *lock = CONDITION (self)->lock;
  gboolean ok;

  /* the condition's mutex is not needed: the lock has its own */
  g_mutex_unlock (&self->mutex);
  g_mutex_lock (&lock->mutex);
  ok = lock_acquire (lock, call, args, result, error);
  g_mutex_unlock (&lock->mutex);
  g_mutex_lock (&self->mutex);
  return ok;
}

static gboolean
condition_release (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  MpReferent *lock = CONDITION (self)->lock;
  gboolean ok;

  g_mutex_lock (&lock->mutex);
  ok = lock_release (lock, call, args, result, error);
  g_mutex_unlock (&lock->mutex);
  return ok;
}

/* Python's Condition._is_owned(): an RLock's owner, or a Lock held by anyone */
static gboolean
condition_lock_owned (ConditionReferent *self,
                      MpCall            *call)
{
  LockReferent *lock = LOCK (self->lock);
  gboolean owned;

  g_mutex_lock (&self->lock->mutex);
  owned = lock->recursive ? lock_owned_by (lock, call) : lock->count > 0;
  g_mutex_unlock (&self->lock->mutex);
  return owned;
}

static gboolean
condition_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  ConditionReferent *cond = CONDITION (self);
  LockReferent *lock = LOCK (cond->lock);
  MpWaiter waiter = { call->conn, FALSE };
  GList link = { &waiter, NULL, NULL };
  gint64 deadline;
  guint saved;
  gboolean acquired, ok = TRUE;
  g_autoptr(GError) wait_error = NULL;

  if (!mp_referent_args_count (args, "Condition.wait()", 0, 1, error) ||
      !mp_referent_arg_deadline (args, 0, "Condition.wait()", &deadline, error))
    return FALSE;
  if (!condition_lock_owned (cond, call))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "cannot wait on un-acquired lock (Python: RuntimeError)");
      return FALSE;
    }

  /* queue up before letting go of the lock, so no notify can be missed */
  g_queue_push_tail_link (&cond->waiters, &link);
  g_mutex_lock (&cond->lock->mutex);
  saved = lock->count;
  lock->count = 0;
  lock->owner_nonce = lock->owner_thread = 0;
  mp_waiters_wake_all (&lock->waiters);
  g_mutex_unlock (&cond->lock->mutex);

  while (!waiter.flagged && !mp_deadline_passed (deadline))
    if (!mp_call_wait (call, &self->mutex, deadline, &wait_error))
      break;
  if (!waiter.flagged)
    g_queue_unlink (&cond->waiters, &link);
  *result = mp_wire_bool (waiter.flagged);

  /* take the lock back as it was held, even after a timeout */
  g_mutex_unlock (&self->mutex);
  g_mutex_lock (&cond->lock->mutex);
  if (wait_error == NULL)
    ok = lock_acquire_locked (lock, call, TRUE, -1, &acquired, &wait_error);
  if (ok && wait_error == NULL)
    lock->count = saved;
  g_mutex_unlock (&cond->lock->mutex);
  g_mutex_lock (&self->mutex);

  if (wait_error != NULL)
    {
      g_clear_pointer (result, g_variant_unref);
      g_propagate_error (error, g_steal_pointer (&wait_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
condition_notify_n (ConditionReferent *self,
                    MpCall            *call,
                    gint64             n,
                    GError           **error)
{
  if (!condition_lock_owned (self, call))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "cannot notify on un-acquired lock (Python: RuntimeError)");
      return FALSE;
    }
  while (n-- > 0 && self->waiters.head != NULL)
    {
      /* the links live on the waiters' stacks: unlink, never free */
      MpWaiter *waiter = g_queue_pop_head_link (&self->waiters)->data;

      waiter->flagged = TRUE;
      mp_waiter_wake (waiter);
    }
  return TRUE;
}

static gboolean
condition_notify (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gint64 n;

  return mp_referent_args_count (args, "Condition.notify()", 0, 1, error) &&
         mp_referent_arg_int_or (args, 0, 1, "Condition.notify()", &n, error) &&
         condition_notify_n (CONDITION (self), call, n, error);
}

static gboolean
condition_notify_all (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return mp_referent_args_count (args, "Condition.notify_all()", 0, 0, error) &&
         condition_notify_n (CONDITION (self), call, G_MAXINT64, error);
}

static void
condition_release_owner (MpReferent *self,
                         guint64     nonce)
{
  /* a lock shared with the registry is released there too; twice is harmless */
  lock_release_owner (CONDITION (self)->lock, nonce);
}

static const MpReferentMethod condition_methods[] = {
  { "acquire", condition_acquire },
  { "notify", condition_notify },
  { "notify_all", condition_notify_all },
  { "release", condition_release },
  { "wait", condition_wait },
  { NULL, NULL }
};

const MpReferentClass mp_referent_condition_class = {
  .typeid = "Condition",
  .instance_size = sizeof (ConditionReferent),
  .methods = condition_methods,
  .init = condition_init,
  .finalize = condition_finalize,
  .release_owner = condition_release_owner,
};

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gboolean    flag;
  GQueue      waiters;
} EventReferent;

#define EVENT(r) ((EventReferent *) (r))

static gboolean
event_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  g_queue_init (&EVENT (self)->waiters);
  return mp_referent_args_count (args, "Event()", 0, 0, error);
}

static gboolean
event_is_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Event.is_set()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (EVENT (self)->flag);
  return TRUE;
}

static gboolean
event_set (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Event.set()", 0, 0, error))
    return FALSE;
  EVENT (self)->flag = TRUE;
  mp_waiters_wake_all (&EVENT (self)->waiters);
  return TRUE;
}

static gboolean
event_clear (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Event.clear()", 0, 0, error))
    return FALSE;
  EVENT (self)->flag = FALSE;
  return TRUE;
}

static gboolean
event_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gint64 deadline;

  if (!mp_referent_args_count (args, "Event.wait()", 0, 1, error) ||
      !mp_referent_arg_deadline (args, 0, "Event.wait()", &deadline, error))
    return FALSE;
  while (!EVENT (self)->flag && !mp_deadline_passed (deadline))
    if (!mp_call_wait_queued (call, &self->mutex, &EVENT (self)->waiters, deadline, error))
      return FALSE;
  *result = mp_wire_bool (EVENT (self)->flag);
  return TRUE;
}

static const MpReferentMethod event_methods[] = {
  { "clear", event_clear },
  { "is_set", event_is_set },
  { "set", event_set },
  { "wait", event_wait },
  { NULL, NULL }
};

const MpReferentClass mp_referent_event_class = {
  .typeid = "Event",
  .instance_size = sizeof (EventReferent),
  .methods = event_methods,
  .init = event_init,
};

/* ------------------------------------------------------------------ */
/* Barrier                                                              */
/* ------------------------------------------------------------------ */

typedef enum {
  BARRIER_WAITING,
  BARRIER_PASSED,
  BARRIER_BROKEN,
} BarrierOutcome;

typedef struct {
  MpWaiter        waiter;
  BarrierOutcome  outcome;
  GList           link;
} BarrierWaiter;

typedef struct {
  MpReferent  parent;
  gint64      parties;
  gboolean    broken;
  GQueue      waiting;   /* BarrierWaiter* of the current round */
} BarrierReferent;

#define BARRIER(r) ((BarrierReferent *) (r))

static gboolean
barrier_init (MpReferent *self,
              MpCall     *call,
              MpArgv     *args,
              GError    **error)
{
  g_queue_init (&BARRIER (self)->waiting);
  if (!mp_referent_args_count (args, "Barrier()", 1, 1, error) ||
      !mp_referent_arg_int (args, 0, "Barrier()", &BARRIER (self)->parties, error))
    return FALSE;
  if (BARRIER (self)->parties < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "parties must be > 0 (Python: ValueError)");
      return FALSE;
    }
  return TRUE;
}

/* ends the current round: everybody waiting passes or breaks */
static void
barrier_end_round (BarrierReferent *self,
                   BarrierOutcome   outcome)
{
  BarrierWaiter *w;

  while ((w = g_queue_peek_head (&self->waiting)) != NULL)
    {
      g_queue_unlink (&self->waiting, &w->link);
      w->outcome = outcome;
      mp_waiter_wake (&w->waiter);
    }
}

static gboolean
broken_barrier (GError **error)
{
  mp_set_error (error, MP_ERROR_BROKEN_BARRIER, "the barrier is broken");
  return FALSE;
}

static gboolean
barrier_wait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  BarrierReferent *barrier = BARRIER (self);
  BarrierWaiter w = { { call->conn, FALSE }, BARRIER_WAITING, { NULL, NULL, NULL } };
  gint64 deadline, index;

  if (!mp_referent_args_count (args, "Barrier.wait()", 0, 1, error) ||
      !mp_referent_arg_deadline (args, 0, "Barrier.wait()", &deadline, error))
    return FALSE;
  if (barrier->broken)
    return broken_barrier (error);

  index = barrier->waiting.length;
  if (index + 1 == barrier->parties)
    {
      barrier_end_round (barrier, BARRIER_PASSED);
      *result = mp_wire_int (index);
      return TRUE;
    }

  w.link.data = &w;
  g_queue_push_tail_link (&barrier->waiting, &w.link);
  while (w.outcome == BARRIER_WAITING)
    {
      g_autoptr(GError) wait_error = NULL;

      if (mp_deadline_passed (deadline) ||
          !mp_call_wait (call, &self->mutex, deadline, &wait_error))
        {
          if (w.outcome != BARRIER_WAITING)
            break;
          /* Python: a timeout breaks the barrier for everybody */
          g_queue_unlink (&barrier->waiting, &w.link);
          barrier->broken = TRUE;
          barrier_end_round (barrier, BARRIER_BROKEN);
          if (wait_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&wait_error));
              return FALSE;
            }
          return broken_barrier (error);
        }
    }
  if (w.outcome == BARRIER_BROKEN)
    return broken_barrier (error);
  *result = mp_wire_int (index);
  return TRUE;
}

static gboolean
barrier_abort (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Barrier.abort()", 0, 0, error))
    return FALSE;
  BARRIER (self)->broken = TRUE;
  barrier_end_round (BARRIER (self), BARRIER_BROKEN);
  return TRUE;
}

static gboolean
barrier_reset (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Barrier.reset()", 0, 0, error))
    return FALSE;
  /* those waiting now get BrokenBarrierError; later rounds work again */
  barrier_end_round (BARRIER (self), BARRIER_BROKEN);
  BARRIER (self)->broken = FALSE;
  return TRUE;
}

static gboolean
barrier_getattr (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  g_autofree char *name = NULL;

  if (!mp_referent_args_count (args, "Barrier.__getattribute__()", 1, 1, error) ||
      !mp_referent_arg_string (args, 0, "Barrier.__getattribute__()", &name, error))
    return FALSE;
  if (strcmp (name, "parties") == 0)
    *result = mp_wire_int (BARRIER (self)->parties);
  else if (strcmp (name, "n_waiting") == 0)
    *result = mp_wire_int (BARRIER (self)->waiting.length);
  else if (strcmp (name, "broken") == 0)
    *result = mp_wire_bool (BARRIER (self)->broken);
  else
    {
      mp_set_error (error, MP_ERROR_KEY,
                    "'Barrier' object has no attribute '%s' (Python: AttributeError); it has parties, n_waiting and broken",
                    name);
      return FALSE;
    }
  return TRUE;
}

static const MpReferentMethod barrier_methods[] = {
  { "__getattribute__", barrier_getattr },
  { "abort", barrier_abort },
  { "reset", barrier_reset },
  { "wait", barrier_wait },
  { NULL, NULL }
};

const MpReferentClass mp_referent_barrier_class = {
  .typeid = "Barrier",
  .instance_size = sizeof (BarrierReferent),
  .methods = barrier_methods,
  .init = barrier_init,
};
