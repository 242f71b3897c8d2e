/* test-sync.c — process-shared Lock, RLock, Semaphore, Condition, Event, Barrier
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mpshare.h"
#include "test-common.h"
#include "mp-mapping-private.h"
#include "mp-serialize-private.h"

/* Generous backstop so a bug fails a test instead of hanging it. */
#define BACKSTOP_MS 20000

/* ---- cross-process plumbing: fork, pipes, a shared counter -------------- */

typedef int (*ChildFunc) (gpointer data);

static pid_t
fork_child (ChildFunc func,
            gpointer  data)
{
  pid_t pid = test_fork ();

  if (pid == 0)
    test_child_exit (func (data));
  return pid;
}

/* A one-way byte channel between processes: a "step done" signal. */
typedef struct {
  int fds[2];
} Pipe;

static void
pipe_open (Pipe *p)
{
  g_assert_true (g_unix_open_pipe (p->fds, FD_CLOEXEC, NULL));
}

static void
pipe_close (Pipe *p)
{
  close (p->fds[0]);
  close (p->fds[1]);
}

static void
pipe_send (Pipe  *p,
           guint8 byte)
{
  g_assert_cmpint (write (p->fds[1], &byte, 1), ==, 1);
}

static gboolean
pipe_poll (Pipe *p,
           int   timeout_ms)
{
  struct pollfd pfd = { p->fds[0], POLLIN, 0 };
  int r;

  do
    r = poll (&pfd, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  g_assert_cmpint (r, >=, 0);
  return r > 0;
}

static guint8
pipe_receive (Pipe *p)
{
  guint8 byte = 0;

  g_assert_true (pipe_poll (p, BACKSTOP_MS));
  g_assert_cmpint (read (p->fds[0], &byte, 1), ==, 1);
  return byte;
}

/* Plain shared memory for test bookkeeping, independent of the code under test. */
typedef struct {
  volatile gint64 counter;
  volatile gint   flag;
} Scratch;

static Scratch *
scratch_new (void)
{
  Scratch *s = mmap (NULL, sizeof (Scratch), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  g_assert_true (s != MAP_FAILED);
  return s;
}

static void
scratch_free (Scratch *s)
{
  munmap (s, sizeof (Scratch));
}

/* ---- Lock -------------------------------------------------------------- */

static void
test_lock_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = mp_lock_new (&error);

  g_assert_no_error (error);
  g_assert_true (mp_lock_acquire (lock, MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);

  /* relocking is reported instead of deadlocking */
  g_assert_false (mp_lock_acquire (lock, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "MpRLock"));
  g_clear_error (&error);

  g_assert_true (mp_lock_release (lock, &error));
  g_assert_no_error (error);

  g_assert_false (mp_lock_release (lock, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "released too many times"));
}

typedef struct {
  MpLock *lock;
  Pipe    to_parent;
  Pipe    to_child;
} HolderData;

/* Takes the lock, says so, holds it until told to let go. */
static int
child_hold_lock (gpointer data)
{
  HolderData *d = data;

  if (!mp_lock_acquire (d->lock, MP_WAIT_FOREVER, NULL))
    return 1;
  pipe_send (&d->to_parent, 'A');
  pipe_receive (&d->to_child);
  return mp_lock_release (d->lock, NULL) ? 0 : 2;
}

static void
test_lock_timeout (void)
{
  g_autoptr(GError) error = NULL;
  HolderData d;
  gint64 start;
  pid_t pid;

  d.lock = mp_lock_new (&error);
  g_assert_no_error (error);
  pipe_open (&d.to_parent);
  pipe_open (&d.to_child);

  pid = fork_child (child_hold_lock, &d);
  g_assert_cmpint (pipe_receive (&d.to_parent), ==, 'A');

  g_assert_false (mp_lock_acquire (d.lock, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  start = g_get_monotonic_time ();
  g_assert_false (mp_lock_acquire (d.lock, 30000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 30000);
  g_clear_error (&error);

  /* another process holds it: not ours to release */
  g_assert_false (mp_lock_release (d.lock, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  pipe_send (&d.to_child, 'R');
  g_assert_true (mp_lock_acquire (d.lock, MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);
  g_assert_true (mp_lock_release (d.lock, &error));
  g_assert_cmpint (test_reap (pid), ==, 0);

  pipe_close (&d.to_parent);
  pipe_close (&d.to_child);
  g_object_unref (d.lock);
}

#define N_INCREMENTERS 3
#define N_INCREMENTS   2000

typedef struct {
  MpLockable *lock;
  Scratch    *scratch;
} IncrementData;

/* A read-modify-write that loses updates unless the lock excludes. */
static int
child_increment (gpointer data)
{
  IncrementData *d = data;

  for (int i = 0; i < N_INCREMENTS; i++)
    {
      g_autoptr(MpLocker) locker = mp_locker_new (d->lock, NULL);
      gint64 v;

      if (locker == NULL)
        return 1;
      v = d->scratch->counter;
      sched_yield ();
      d->scratch->counter = v + 1;
    }
  return 0;
}

static void
test_lock_exclusion (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) lock = NULL;
  IncrementData d;
  pid_t pids[N_INCREMENTERS];

  if (type == MP_TYPE_LOCK)
    lock = G_OBJECT (mp_lock_new (&error));
  else if (type == MP_TYPE_RLOCK)
    lock = G_OBJECT (mp_rlock_new (&error));
  else
    lock = G_OBJECT (mp_bounded_semaphore_new (1, &error));
  g_assert_no_error (error);

  d.lock = MP_LOCKABLE (lock);
  d.scratch = scratch_new ();
  for (int i = 0; i < N_INCREMENTERS; i++)
    pids[i] = fork_child (child_increment, &d);
  for (int i = 0; i < N_INCREMENTERS; i++)
    g_assert_cmpint (test_reap (pids[i]), ==, 0);
  g_assert_cmpint (d.scratch->counter, ==, N_INCREMENTERS * N_INCREMENTS);
  scratch_free (d.scratch);
}

static gpointer
thread_release_lock (gpointer data)
{
  GError *error = NULL;

  g_assert_false (mp_lockable_release (data, &error));
  return error;
}

static void
test_lock_release_by_other_thread (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) lock = NULL;
  GThread *thread;

  lock = type == MP_TYPE_LOCK ? G_OBJECT (mp_lock_new (&error)) : G_OBJECT (mp_rlock_new (&error));
  g_assert_no_error (error);
  g_assert_true (mp_lockable_acquire (MP_LOCKABLE (lock), MP_WAIT_FOREVER, &error));

  thread = g_thread_new ("releaser", thread_release_lock, lock);
  error = g_thread_join (thread);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* still ours */
  g_assert_true (mp_lockable_release (MP_LOCKABLE (lock), &error));
  g_assert_no_error (error);
}

/* Takes the lock and dies holding it. */
static int
child_die_holding (gpointer data)
{
  if (!mp_lockable_acquire (data, MP_WAIT_FOREVER, NULL))
    return 1;
  test_child_exit (0);
}

static void
test_lock_owner_died (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) lock = NULL;
  pid_t pid;

  lock = type == MP_TYPE_LOCK ? G_OBJECT (mp_lock_new (&error)) : G_OBJECT (mp_rlock_new (&error));
  g_assert_no_error (error);

  pid = fork_child (child_die_holding, lock);
  g_assert_cmpint (test_reap (pid), ==, 0);

  /* Python would hang here forever */
  g_assert_false (mp_lockable_acquire (MP_LOCKABLE (lock), MP_WAIT_FOREVER, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
  g_assert_nonnull (strstr (error->message, G_OBJECT_TYPE_NAME (lock)));
  g_assert_nonnull (strstr (error->message, "died"));
  g_clear_error (&error);

  /* recovered: usable again, by anyone */
  g_assert_true (mp_lockable_acquire (MP_LOCKABLE (lock), 0, &error));
  g_assert_no_error (error);
  g_assert_true (mp_lockable_release (MP_LOCKABLE (lock), &error));
  g_assert_no_error (error);
  pid = fork_child (child_die_holding, lock);
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_false (mp_lockable_acquire (MP_LOCKABLE (lock), 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
}

static gpointer
thread_acquire_and_quit (gpointer data)
{
  return GINT_TO_POINTER (mp_lockable_acquire (data, 0, NULL));
}

/* A thread that ends holding the lock: the next thread, which may well
 * reuse its pthread_t, must not mistake itself for the holder. */
static void
test_lock_thread_died (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) lock = NULL;

  lock = type == MP_TYPE_LOCK ? G_OBJECT (mp_lock_new (&error)) : G_OBJECT (mp_rlock_new (&error));
  g_assert_no_error (error);

  for (int round = 0; round < 2; round++)
    {
      GThread *thread = g_thread_new ("holder", thread_acquire_and_quit, lock);

      g_assert_true (GPOINTER_TO_INT (g_thread_join (thread)));
      thread = g_thread_new ("next", thread_acquire_and_quit, lock);
      g_assert_false (GPOINTER_TO_INT (g_thread_join (thread)));
      /* the dead thread's lock was recovered by "next", then is free */
      g_assert_true (mp_lockable_acquire (MP_LOCKABLE (lock), 0, &error));
      g_assert_no_error (error);
      g_assert_true (mp_lockable_release (MP_LOCKABLE (lock), &error));
      g_assert_no_error (error);
    }
}

/* ---- RLock ------------------------------------------------------------- */

/* Exit 0 when the lock could not be taken right now, 1 when it could. */
static int
child_try_lock (gpointer data)
{
  g_autoptr(GError) error = NULL;

  if (mp_lockable_acquire (data, 0, &error))
    return mp_lockable_release (data, NULL) ? 1 : 3;
  return g_error_matches (error, MP_ERROR, MP_ERROR_TIMEOUT) ? 0 : 2;
}

static void
test_rlock_recursion (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpRLock) lock = mp_rlock_new (&error);

  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      g_assert_true (mp_rlock_acquire (lock, 0, &error));
      g_assert_no_error (error);
    }
  for (int i = 0; i < 3; i++)
    {
      /* held until the last release */
      g_assert_cmpint (test_reap (fork_child (child_try_lock, lock)), ==, 0);
      g_assert_true (mp_rlock_release (lock, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (test_reap (fork_child (child_try_lock, lock)), ==, 1);

  g_assert_false (mp_rlock_release (lock, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "not owned"));
}

/* ---- MpLocker ------------------------------------------------------------ */

static void
test_locker_scoped (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = mp_lock_new (&error);

  g_assert_no_error (error);
  {
    g_autoptr(MpLocker) locker = mp_locker_new (lock, &error);

    g_assert_no_error (error);
    g_assert_nonnull (locker);
    g_assert_cmpint (test_reap (fork_child (child_try_lock, lock)), ==, 0);
  }
  g_assert_cmpint (test_reap (fork_child (child_try_lock, lock)), ==, 1);

  /* a locker that could not lock holds nothing and frees to nothing */
  g_assert_true (mp_lock_acquire (lock, 0, &error));
  {
    g_autoptr(MpLocker) locker = mp_locker_new (lock, &error);

    g_assert_null (locker);
    g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
  }
  g_assert_true (mp_lock_release (lock, &error));
  g_assert_no_error (error);
}

/* ---- Semaphore / BoundedSemaphore ----------------------------------------- */

static void
test_semaphore_basic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSemaphore) sem = mp_semaphore_new (2, &error);
  gint64 start;

  g_assert_no_error (error);
  g_assert_cmpuint (mp_semaphore_get_value (sem), ==, 2);
  g_assert_true (mp_semaphore_acquire (sem, 0, &error));
  g_assert_true (mp_semaphore_acquire (sem, 0, &error));
  g_assert_cmpuint (mp_semaphore_get_value (sem), ==, 0);

  g_assert_false (mp_semaphore_acquire (sem, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  start = g_get_monotonic_time ();
  g_assert_false (mp_semaphore_acquire (sem, 20000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_clear_error (&error);

  /* a plain semaphore may go above its initial value */
  for (int i = 0; i < 3; i++)
    g_assert_true (mp_semaphore_release (sem, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mp_semaphore_get_value (sem), ==, 3);
}

typedef struct {
  MpSemaphore *sem;
  Pipe         done;
} SemData;

static int
child_acquire_semaphore (gpointer data)
{
  SemData *d = data;

  if (!mp_semaphore_acquire (d->sem, MP_WAIT_FOREVER, NULL))
    return 1;
  pipe_send (&d->done, 'S');
  return 0;
}

static void
test_semaphore_cross_process (void)
{
  g_autoptr(GError) error = NULL;
  SemData d;
  pid_t pids[2];

  d.sem = mp_semaphore_new (0, &error);
  g_assert_no_error (error);
  pipe_open (&d.done);

  pids[0] = fork_child (child_acquire_semaphore, &d);
  pids[1] = fork_child (child_acquire_semaphore, &d);

  /* one release lets exactly one child through */
  g_assert_true (mp_semaphore_release (d.sem, &error));
  g_assert_cmpint (pipe_receive (&d.done), ==, 'S');
  g_assert_false (pipe_poll (&d.done, 50));

  g_assert_true (mp_semaphore_release (d.sem, &error));
  g_assert_cmpint (pipe_receive (&d.done), ==, 'S');
  g_assert_cmpint (test_reap (pids[0]), ==, 0);
  g_assert_cmpint (test_reap (pids[1]), ==, 0);
  g_assert_cmpuint (mp_semaphore_get_value (d.sem), ==, 0);

  pipe_close (&d.done);
  g_object_unref (d.sem);
}

static void
test_bounded_semaphore_too_many (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpBoundedSemaphore) sem = mp_bounded_semaphore_new (2, &error);

  g_assert_no_error (error);
  g_assert_false (mp_bounded_semaphore_release (sem, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "Semaphore released too many times"));
  g_clear_error (&error);
  g_assert_cmpuint (mp_bounded_semaphore_get_value (sem), ==, 2);

  g_assert_true (mp_bounded_semaphore_acquire (sem, 0, &error));
  g_assert_true (mp_bounded_semaphore_acquire (sem, 0, &error));
  g_assert_false (mp_bounded_semaphore_acquire (sem, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);
  g_assert_true (mp_bounded_semaphore_release (sem, &error));
  g_assert_true (mp_bounded_semaphore_release (sem, &error));
  g_assert_no_error (error);
  g_assert_false (mp_bounded_semaphore_release (sem, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

/* ---- Condition ------------------------------------------------------------- */

static void
test_condition_needs_lock (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpCondition) cond = mp_condition_new (NULL, &error);
  g_autoptr(MpSemaphore) sem = mp_semaphore_new (1, &error);
  g_autoptr(MpCondition) bad = NULL;
  gint64 start;

  g_assert_no_error (error);
  g_assert_true (MP_IS_RLOCK (mp_condition_get_lock (cond)));

  g_assert_false (mp_condition_wait (cond, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "un-acquired lock"));
  g_clear_error (&error);
  g_assert_false (mp_condition_notify (cond, 1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* nobody notifies: the wait times out and the lock is held again */
  g_assert_true (mp_condition_acquire (cond, 0, &error));
  start = g_get_monotonic_time ();
  g_assert_false (mp_condition_wait (cond, 20000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_clear_error (&error);
  g_assert_true (mp_condition_notify (cond, 1, &error));
  g_assert_true (mp_condition_release (cond, &error));
  g_assert_no_error (error);

  bad = mp_condition_new (MP_LOCKABLE (sem), &error);
  g_assert_null (bad);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

typedef struct {
  MpCondition *cond;
  Scratch     *scratch;
  Pipe         to_parent;
  Pipe         to_child;
} CondData;

/* Announces itself while holding the lock, then waits to be notified. */
static int
child_wait_notified (gpointer data)
{
  CondData *d = data;
  g_autoptr(GError) error = NULL;

  if (!mp_condition_acquire (d->cond, MP_WAIT_FOREVER, NULL))
    return 1;
  d->scratch->counter++;
  pipe_send (&d->to_parent, 'W');
  if (!mp_condition_wait (d->cond, MP_WAIT_FOREVER, &error))
    return 2;
  d->scratch->flag++;
  pipe_send (&d->to_parent, 'N');
  return mp_condition_release (d->cond, NULL) ? 0 : 3;
}

/* Acquiring the lock after a child announced itself means the child is
 * inside wait: it held the lock until wait released it. */
static void
acquire_when_all_wait (CondData *d,
                       guint     n)
{
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (pipe_receive (&d->to_parent), ==, 'W');
  g_assert_true (mp_condition_acquire (d->cond, MP_WAIT_FOREVER, NULL));
  g_assert_cmpint (d->scratch->counter, ==, n);
}

static void
test_condition_notify (gconstpointer data)
{
  gboolean with_lock = GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpLock) lock = NULL;
  CondData d;
  pid_t pids[3];

  if (with_lock)
    lock = mp_lock_new (&error);
  d.cond = mp_condition_new (MP_LOCKABLE (lock), &error);
  g_assert_no_error (error);
  d.scratch = scratch_new ();
  pipe_open (&d.to_parent);

  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    pids[i] = fork_child (child_wait_notified, &d);
  acquire_when_all_wait (&d, G_N_ELEMENTS (pids));

  /* notify (2) wakes two of three, no more */
  g_assert_true (mp_condition_notify (d.cond, 2, &error));
  g_assert_true (mp_condition_release (d.cond, &error));
  g_assert_cmpint (pipe_receive (&d.to_parent), ==, 'N');
  g_assert_cmpint (pipe_receive (&d.to_parent), ==, 'N');
  g_assert_false (pipe_poll (&d.to_parent, 50));
  g_assert_cmpint (d.scratch->flag, ==, 2);

  g_assert_true (mp_condition_acquire (d.cond, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_condition_notify_all (d.cond, &error));
  g_assert_true (mp_condition_release (d.cond, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pipe_receive (&d.to_parent), ==, 'N');
  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    g_assert_cmpint (test_reap (pids[i]), ==, 0);
  g_assert_cmpint (d.scratch->flag, ==, 3);

  pipe_close (&d.to_parent);
  scratch_free (d.scratch);
  g_object_unref (d.cond);
}

/* Can take the condition's lock only if the parent's wait released every
 * level of its RLock. */
static int
child_notify_when_told (gpointer data)
{
  CondData *d = data;

  pipe_receive (&d->to_child);
  if (!mp_condition_acquire (d->cond, MP_WAIT_FOREVER, NULL))
    return 1;
  d->scratch->flag = 1;
  if (!mp_condition_notify (d->cond, 1, NULL))
    return 2;
  return mp_condition_release (d->cond, NULL) ? 0 : 3;
}

static void
test_condition_rlock_depth (void)
{
  g_autoptr(GError) error = NULL;
  CondData d;
  pid_t pid;

  d.cond = mp_condition_new (NULL, &error);
  g_assert_no_error (error);
  d.scratch = scratch_new ();
  pipe_open (&d.to_child);

  pid = fork_child (child_notify_when_told, &d);
  g_assert_true (mp_condition_acquire (d.cond, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_condition_acquire (d.cond, MP_WAIT_FOREVER, &error));
  pipe_send (&d.to_child, 'G');
  while (d.scratch->flag == 0)
    g_assert_true (mp_condition_wait (d.cond, MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_reap (pid), ==, 0);

  /* both levels came back */
  g_assert_true (mp_condition_release (d.cond, &error));
  g_assert_true (mp_condition_release (d.cond, &error));
  g_assert_no_error (error);
  g_assert_false (mp_condition_release (d.cond, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);

  pipe_close (&d.to_child);
  scratch_free (d.scratch);
  g_object_unref (d.cond);
}

static int
child_count_to_three (gpointer data)
{
  CondData *d = data;

  for (int i = 1; i <= 3; i++)
    {
      g_autoptr(MpLocker) locker = mp_locker_new (d->cond, NULL);

      if (locker == NULL)
        return 1;
      d->scratch->counter = i;
      if (!mp_condition_notify_all (d->cond, NULL))
        return 2;
    }
  return 0;
}

static gboolean
counter_is_three (gpointer data)
{
  Scratch *scratch = data;

  return scratch->counter == 3;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

static void
test_condition_wait_for (void)
{
  g_autoptr(GError) error = NULL;
  CondData d;
  gint64 start;
  pid_t pid;

  d.cond = mp_condition_new (NULL, &error);
  g_assert_no_error (error);
  d.scratch = scratch_new ();

  g_assert_true (mp_condition_acquire (d.cond, MP_WAIT_FOREVER, &error));
  pid = fork_child (child_count_to_three, &d);
  g_assert_true (mp_condition_wait_for (d.cond, counter_is_three, d.scratch,
                                        MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);
  g_assert_cmpint (d.scratch->counter, ==, 3);

  start = g_get_monotonic_time ();
  g_assert_false (mp_condition_wait_for (d.cond, never, NULL, 20000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_clear_error (&error);

  g_assert_true (mp_condition_release (d.cond, &error));
  g_assert_cmpint (test_reap (pid), ==, 0);
  scratch_free (d.scratch);
  g_object_unref (d.cond);
}

/* ---- Event ------------------------------------------------------------------ */

static int
child_wait_event (gpointer data)
{
  return mp_event_wait (data, MP_WAIT_FOREVER, NULL) ? 0 : 1;
}

static int
child_set_event (gpointer data)
{
  mp_event_set (data);
  return 0;
}

static void
test_event (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpEvent) event = mp_event_new (&error);
  gint64 start;
  pid_t pid;

  g_assert_no_error (error);
  g_assert_false (mp_event_is_set (event));
  start = g_get_monotonic_time ();
  g_assert_false (mp_event_wait (event, 20000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_clear_error (&error);

  /* set here, seen there */
  pid = fork_child (child_wait_event, event);
  mp_event_set (event);
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_true (mp_event_is_set (event));
  g_assert_true (mp_event_wait (event, 0, &error));

  mp_event_clear (event);
  g_assert_false (mp_event_is_set (event));
  g_assert_false (mp_event_wait (event, 0, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_clear_error (&error);

  /* set there, seen here */
  pid = fork_child (child_set_event, event);
  g_assert_true (mp_event_wait (event, MP_WAIT_FOREVER, &error));
  g_assert_no_error (error);
  g_assert_cmpint (test_reap (pid), ==, 0);
}

/* ---- Barrier ------------------------------------------------------------------ */

typedef struct {
  MpBarrier *barrier;
  Pipe       indices;
} BarrierData;

/* Two rounds; reports each arrival index. */
static int
child_barrier_rounds (gpointer data)
{
  BarrierData *d = data;

  for (int round = 0; round < 2; round++)
    {
      int index = mp_barrier_wait (d->barrier, MP_WAIT_FOREVER, NULL);

      if (index < 0)
        return 1;
      pipe_send (&d->indices, (guint8) index);
    }
  return 0;
}

static void
test_barrier_indices (void)
{
  g_autoptr(GError) error = NULL;
  BarrierData d;
  pid_t pids[2];

  d.barrier = mp_barrier_new (3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mp_barrier_get_parties (d.barrier), ==, 3);
  pipe_open (&d.indices);

  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    pids[i] = fork_child (child_barrier_rounds, &d);

  for (int round = 0; round < 2; round++)
    {
      guint seen = 0;
      int index = mp_barrier_wait (d.barrier, MP_WAIT_FOREVER, &error);

      g_assert_no_error (error);
      g_assert_cmpint (index, >=, 0);
      g_assert_cmpint (index, <, 3);
      seen |= 1u << index;
      for (int i = 0; i < 2; i++)
        {
          guint8 other = pipe_receive (&d.indices);

          g_assert_cmpuint (other, <, 3);
          seen |= 1u << other;
        }
      /* every index 0..parties-1 exactly once per round */
      g_assert_cmpuint (seen, ==, 0x7);
    }
  for (guint i = 0; i < G_N_ELEMENTS (pids); i++)
    g_assert_cmpint (test_reap (pids[i]), ==, 0);
  g_assert_false (mp_barrier_is_broken (d.barrier));
  g_assert_cmpuint (mp_barrier_get_n_waiting (d.barrier), ==, 0);

  pipe_close (&d.indices);
  g_object_unref (d.barrier);
}

/* Exit 0 when the wait ends with a broken barrier. */
static int
child_barrier_expect_broken (gpointer data)
{
  g_autoptr(GError) error = NULL;

  if (mp_barrier_wait (data, MP_WAIT_FOREVER, &error) >= 0)
    return 1;
  return g_error_matches (error, MP_ERROR, MP_ERROR_BROKEN_BARRIER) ? 0 : 2;
}

/* Exits with its arrival index. */
static int
child_barrier_pass (gpointer data)
{
  int index = mp_barrier_wait (data, MP_WAIT_FOREVER, NULL);

  return index < 0 ? 100 : index;
}

/* A state change, not a synchronisation: the child cannot tell us it is
 * inside mp_barrier_wait(), the barrier can. */
static void
wait_for_n_waiting (MpBarrier *barrier,
                    guint      n)
{
  gint64 end = g_get_monotonic_time () + BACKSTOP_MS * 1000;

  while (mp_barrier_get_n_waiting (barrier) != n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, end);
      sched_yield ();
    }
}

/* the timeout message counts who is still missing, in good English */
static void
test_barrier_timeout_parties (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpBarrier) barrier = mp_barrier_new (3, &error);

  g_assert_no_error (error);
  g_assert_cmpint (mp_barrier_wait (barrier, 1000, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "for 2 more parties; the barrier is now broken for everyone"));
  g_clear_error (&error);
  g_assert_true (mp_barrier_is_broken (barrier));
  g_assert_cmpuint (mp_barrier_get_n_waiting (barrier), ==, 0);
  mp_barrier_reset (barrier);
  g_assert_false (mp_barrier_is_broken (barrier));
  g_assert_cmpuint (mp_barrier_get_parties (barrier), ==, 3);
}

static void
test_barrier_broken (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpBarrier) barrier = mp_barrier_new (2, &error);
  gint64 start;
  int index;
  pid_t pid;

  g_assert_no_error (error);

  /* alone at a two-party barrier: the timeout breaks it */
  start = g_get_monotonic_time ();
  g_assert_cmpint (mp_barrier_wait (barrier, 20000, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_TIMEOUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 20000);
  g_assert_nonnull (strstr (error->message, "broken"));
  g_clear_error (&error);
  g_assert_true (mp_barrier_is_broken (barrier));

  /* later callers are turned away at once */
  g_assert_cmpint (mp_barrier_wait (barrier, MP_WAIT_FOREVER, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_assert_nonnull (strstr (error->message, "BrokenBarrierError"));
  g_clear_error (&error);

  mp_barrier_reset (barrier);
  g_assert_false (mp_barrier_is_broken (barrier));

  /* abort breaks it for a waiter in another process */
  pid = fork_child (child_barrier_expect_broken, barrier);
  wait_for_n_waiting (barrier, 1);
  mp_barrier_abort (barrier);
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_true (mp_barrier_is_broken (barrier));
  mp_barrier_reset (barrier);

  /* reset with a waiter inside: the waiter sees it broken, the barrier
   * is whole again afterwards */
  pid = fork_child (child_barrier_expect_broken, barrier);
  wait_for_n_waiting (barrier, 1);
  mp_barrier_reset (barrier);
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_false (mp_barrier_is_broken (barrier));

  /* and works for a full round */
  pid = fork_child (child_barrier_pass, barrier);
  index = mp_barrier_wait (barrier, MP_WAIT_FOREVER, &error);
  g_assert_no_error (error);
  g_assert_cmpint (test_reap (pid), ==, 1 - index);
}

static void
test_barrier_invalid (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpBarrier) barrier = mp_barrier_new (0, &error);

  g_assert_null (barrier);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* one party never waits */
  barrier = mp_barrier_new (1, &error);
  g_assert_cmpint (mp_barrier_wait (barrier, 0, &error), ==, 0);
  g_assert_cmpint (mp_barrier_wait (barrier, 0, &error), ==, 0);
  g_assert_no_error (error);
}

/* ---- travelling by inheritance ---------------------------------------------- */

static GObject *
new_primitive (GType type)
{
  g_autoptr(GError) error = NULL;
  GObject *object;

  if (type == MP_TYPE_LOCK)
    object = G_OBJECT (mp_lock_new (&error));
  else if (type == MP_TYPE_RLOCK)
    object = G_OBJECT (mp_rlock_new (&error));
  else if (type == MP_TYPE_SEMAPHORE)
    object = G_OBJECT (mp_semaphore_new (0, &error));
  else if (type == MP_TYPE_BOUNDED_SEMAPHORE)
    object = G_OBJECT (mp_bounded_semaphore_new (1, &error));
  else if (type == MP_TYPE_CONDITION)
    object = G_OBJECT (mp_condition_new (NULL, &error));
  else if (type == MP_TYPE_EVENT)
    object = G_OBJECT (mp_event_new (&error));
  else
    object = G_OBJECT (mp_barrier_new (2, &error));
  g_assert_no_error (error);
  return object;
}

/* Changes @copy and checks that @original sees it: one shared state. */
static void
assert_same_state (GObject *original,
                   GObject *copy)
{
  g_autoptr(GError) error = NULL;

  if (MP_IS_LOCK (copy) || MP_IS_RLOCK (copy) || MP_IS_CONDITION (copy))
    {
      g_assert_true (mp_lockable_acquire (MP_LOCKABLE (copy), 0, &error));
      g_assert_cmpint (test_reap (fork_child (child_try_lock, original)), ==, 0);
      g_assert_true (mp_lockable_release (MP_LOCKABLE (copy), &error));
      g_assert_cmpint (test_reap (fork_child (child_try_lock, original)), ==, 1);
    }
  else if (MP_IS_SEMAPHORE (copy))
    {
      g_assert_true (mp_semaphore_release (MP_SEMAPHORE (copy), &error));
      g_assert_cmpuint (mp_semaphore_get_value (MP_SEMAPHORE (original)), ==, 1);
    }
  else if (MP_IS_BOUNDED_SEMAPHORE (copy))
    {
      g_assert_true (mp_bounded_semaphore_acquire (MP_BOUNDED_SEMAPHORE (copy), 0, &error));
      g_assert_cmpuint (mp_bounded_semaphore_get_value (MP_BOUNDED_SEMAPHORE (original)), ==, 0);
    }
  else if (MP_IS_EVENT (copy))
    {
      mp_event_set (MP_EVENT (copy));
      g_assert_true (mp_event_is_set (MP_EVENT (original)));
    }
  else
    {
      g_assert_cmpuint (mp_barrier_get_parties (MP_BARRIER (copy)), ==, 2);
      mp_barrier_abort (MP_BARRIER (copy));
      g_assert_true (mp_barrier_is_broken (MP_BARRIER (original)));
    }
  g_assert_no_error (error);
}

/* Serializes @object as process start does; returns the first kept fd. */
static GVariant *
serialize_at_start (GObject *object,
                    int     *first_fd,
                    guint   *n_fds)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  MpSpawningContext context = { NULL };
  GVariant *wire;

  g_value_init (&value, G_OBJECT_TYPE (object));
  g_value_set_object (&value, object);
  mp_spawning_begin (&context);
  wire = mp_serialize_value (&value, &error);
  mp_spawning_end (&context);
  g_assert_no_error (error);
  g_assert_nonnull (wire);
  g_assert_nonnull (context.fds);
  if (first_fd != NULL)
    *first_fd = g_array_index (context.fds, int, 0);
  if (n_fds != NULL)
    *n_fds = context.fds->len;
  g_array_unref (context.fds);
  return wire;
}

static void
test_serialize_inheritance_only (gconstpointer data)
{
  GType type = GPOINTER_TO_SIZE (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GObject) original = new_primitive (type);
  g_autoptr(GVariant) wire = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) copy = G_VALUE_INIT;
  guint n_fds = 0;

  g_value_init (&value, type);
  g_value_set_object (&value, original);

  /* a task argument, a manager call: refused, in Python's words */
  wire = mp_serialize_value (&value, &error);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_assert_true (g_str_has_prefix (error->message, g_type_name (type)));
  g_assert_nonnull (strstr (error->message,
                            "objects should only be shared between processes through inheritance"));
  g_clear_error (&error);

  /* while a process is being started: the memfd travels (a condition's
   * lock has a mapping of its own) */
  wire = serialize_at_start (original, NULL, &n_fds);
  g_assert_cmpuint (n_fds, ==, type == MP_TYPE_CONDITION ? 2 : 1);

  g_assert_true (mp_deserialize_value (wire, &copy, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS (&copy, type));
  g_assert_true (g_value_get_object (&copy) != original);
  assert_same_state (original, g_value_get_object (&copy));
}

static void
assert_forged_says (const char *type_name,
                    GVariant   *state,
                    gint        code,
                    const char *words)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = g_variant_ref_sink (
      g_variant_new_variant (g_variant_new ("(sv)", type_name, state)));

  g_assert_false (mp_deserialize_value (wire, &value, &error));
  g_assert_error (error, MP_ERROR, code);
  g_test_message ("%s: %s", type_name, error->message);
  g_assert_nonnull (strstr (error->message, words));
  g_assert_false (G_IS_VALUE (&value));
}

/* Forged memfds: sealed but of the wrong size, of the right size but
 * never set up as a primitive, not sealed at all. */
static void
test_serialize_forged_memfd (void)
{
  g_autoptr(GObject) lock = new_primitive (MP_TYPE_LOCK);
  g_autoptr(GObject) sem = new_primitive (MP_TYPE_SEMAPHORE);
  g_autoptr(GVariant) lock_wire = NULL;
  g_autoptr(GVariant) sem_wire = NULL;
  g_autoptr(GError) error = NULL;
  MpMapping small = MP_MAPPING_INIT;
  MpMapping blank = MP_MAPPING_INIT;
  struct stat st;
  int lock_fd = -1, unsealed;

  lock_wire = serialize_at_start (lock, &lock_fd, NULL);
  sem_wire = serialize_at_start (sem, NULL, NULL);
  g_assert_cmpint (fstat (lock_fd, &st), ==, 0);

  g_assert_true (mp_mapping_create (&small, "forged-small", 16, &error));
  g_assert_true (mp_mapping_create (&blank, "forged-blank", st.st_size, &error));
  g_assert_no_error (error);
  unsealed = memfd_create ("forged-unsealed", MFD_CLOEXEC);
  g_assert_cmpint (unsealed, >=, 0);
  g_assert_cmpint (ftruncate (unsealed, st.st_size), ==, 0);

  assert_forged_says ("MpLock", g_variant_new_int32 (small.fd), MP_ERROR_INVALID_ARGUMENT,
                      "is not the sealed");
  assert_forged_says ("MpLock", g_variant_new_int32 (unsealed), MP_ERROR_INVALID_ARGUMENT,
                      "is not the sealed");
  assert_forged_says ("MpLock", g_variant_new_int32 (blank.fd), MP_ERROR_INVALID_ARGUMENT,
                      "does not hold an MpLock");
  assert_forged_says ("MpBarrier", g_variant_new_int32 (blank.fd), MP_ERROR_INVALID_ARGUMENT,
                      "does not hold an MpBarrier");

  /* a condition's lock must be a lock, its own fd a condition's, and the
   * lock must decode */
  assert_forged_says ("MpCondition", g_variant_new ("(i@v)", lock_fd, sem_wire), MP_ERROR_PROTOCOL,
                      "is not an MpLock or MpRLock");
  assert_forged_says ("MpCondition", g_variant_new ("(i@v)", lock_fd, lock_wire), MP_ERROR_INVALID_ARGUMENT,
                      "does not hold an MpCondition");
  assert_forged_says ("MpCondition",
                      g_variant_new ("(iv)", lock_fd, g_variant_new ("(sv)", "NoSuchLock", g_variant_new_int32 (1))),
                      MP_ERROR_PROTOCOL, "not registered");

  close (unsealed);
  mp_mapping_clear (&small);
  mp_mapping_clear (&blank);
}

static void
test_serialize_forged_state (void)
{
  g_autoptr(GObject) event = new_primitive (MP_TYPE_EVENT);
  g_autoptr(GVariant) wire = NULL;
  int event_fd = -1;
  Pipe p;

  /* an fd that is no sealed memfd, then one that is closed */
  pipe_open (&p);
  test_assert_forged_refused ("MpLock", g_variant_new_int32 (p.fds[0]), MP_ERROR_INVALID_ARGUMENT);
  pipe_close (&p);
  test_assert_forged_refused ("MpLock", g_variant_new_int32 (p.fds[0]), MP_ERROR_INVALID_ARGUMENT);
  test_assert_forged_refused ("MpLock", g_variant_new_int32 (-1), MP_ERROR_INVALID_ARGUMENT);

  /* the mapping of another kind of primitive */
  wire = serialize_at_start (event, &event_fd, NULL);
  test_assert_forged_refused ("MpLock", g_variant_new_int32 (event_fd), MP_ERROR_INVALID_ARGUMENT);

  /* a state of the wrong shape */
  test_assert_forged_refused ("MpLock", g_variant_new_string ("3"), MP_ERROR_PROTOCOL);
  test_assert_forged_refused ("MpCondition", g_variant_new_int32 (event_fd), MP_ERROR_PROTOCOL);
  test_assert_forged_refused ("MpCondition",
                         g_variant_new ("(iv)", event_fd, g_variant_new_int32 (1)),
                         MP_ERROR_PROTOCOL);
}

/* ---- through real processes, fork and spawn ---------------------------------- */

/* The child's side of a conversation through every kind of primitive;
 * it ends by dying with the lock held. */
static gboolean
task_sync_steps (MpArgs   *args,
                 GValue   *result,
                 GError  **error)
{
  MpBarrier *barrier = mp_args_get_object (args, 0);
  MpEvent *event = mp_args_get_object (args, 1);
  MpSemaphore *sem = mp_args_get_object (args, 2);
  MpCondition *cond = mp_args_get_object (args, 3);
  MpLock *lock = mp_args_get_object (args, 4);

  if (mp_barrier_wait (barrier, MP_WAIT_FOREVER, error) < 0 ||
      !mp_event_wait (event, MP_WAIT_FOREVER, error) ||
      !mp_semaphore_release (sem, error))
    return FALSE;
  /* the parent holds the condition until it waits on it */
  if (!mp_condition_acquire (cond, MP_WAIT_FOREVER, error) ||
      !mp_condition_notify (cond, 1, error) ||
      !mp_condition_release (cond, error))
    return FALSE;
  return mp_lock_acquire (lock, MP_WAIT_FOREVER, error);
}
MP_TASK_DEFINE ("sync-steps", task_sync_steps)

static void
test_process_steps (gconstpointer data)
{
  MpStartMethod method = (MpStartMethod) GPOINTER_TO_INT (data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpBarrier) barrier = mp_barrier_new (2, &error);
  g_autoptr(MpEvent) event = mp_event_new (&error);
  g_autoptr(MpSemaphore) sem = mp_semaphore_new (0, &error);
  g_autoptr(MpCondition) cond = mp_condition_new (NULL, &error);
  g_autoptr(MpLock) lock = mp_lock_new (&error);
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpProcess) process = NULL;
  int exitcode = -1;

  g_assert_no_error (error);
  mp_args_add_object (args, barrier);
  mp_args_add_object (args, event);
  mp_args_add_object (args, sem);
  mp_args_add_object (args, cond);
  mp_args_add_object (args, lock);
  process = mp_process_new ("sync-steps", args);
  mp_process_set_start_method (process, method);

  g_assert_true (mp_condition_acquire (cond, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_process_start (process, &error));
  g_assert_no_error (error);

  g_assert_cmpint (mp_barrier_wait (barrier, MP_WAIT_FOREVER, &error), >=, 0);
  mp_event_set (event);
  g_assert_true (mp_semaphore_acquire (sem, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_condition_wait (cond, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_condition_release (cond, &error));
  g_assert_no_error (error);

  g_assert_true (mp_process_join (process, MP_WAIT_FOREVER, &error));
  g_assert_true (mp_process_get_exitcode (process, &exitcode));
  g_assert_cmpint (exitcode, ==, 0);

  /* the child exited holding the lock (a bounded wait: a regression
   * here would otherwise hang, which is what Python does) */
  g_assert_false (mp_lock_acquire (lock, BACKSTOP_MS * 1000, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_OWNER_DIED);
  g_clear_error (&error);
  g_assert_true (mp_lock_acquire (lock, 0, &error));
  g_assert_true (mp_lock_release (lock, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  /* a spawned child goes into its task here */
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sync/lock/basic", test_lock_basic);
  g_test_add_func ("/sync/lock/timeout", test_lock_timeout);
  g_test_add_data_func ("/sync/lock/exclusion", GSIZE_TO_POINTER (MP_TYPE_LOCK), test_lock_exclusion);
  g_test_add_data_func ("/sync/lock/other-thread", GSIZE_TO_POINTER (MP_TYPE_LOCK), test_lock_release_by_other_thread);
  g_test_add_data_func ("/sync/lock/owner-died", GSIZE_TO_POINTER (MP_TYPE_LOCK), test_lock_owner_died);
  g_test_add_data_func ("/sync/lock/thread-died", GSIZE_TO_POINTER (MP_TYPE_LOCK), test_lock_thread_died);
  g_test_add_func ("/sync/rlock/recursion", test_rlock_recursion);
  g_test_add_data_func ("/sync/rlock/thread-died", GSIZE_TO_POINTER (MP_TYPE_RLOCK), test_lock_thread_died);
  g_test_add_data_func ("/sync/rlock/exclusion", GSIZE_TO_POINTER (MP_TYPE_RLOCK), test_lock_exclusion);
  g_test_add_data_func ("/sync/rlock/other-thread", GSIZE_TO_POINTER (MP_TYPE_RLOCK), test_lock_release_by_other_thread);
  g_test_add_data_func ("/sync/rlock/owner-died", GSIZE_TO_POINTER (MP_TYPE_RLOCK), test_lock_owner_died);
  g_test_add_func ("/sync/locker/scoped", test_locker_scoped);
  g_test_add_func ("/sync/semaphore/basic", test_semaphore_basic);
  g_test_add_func ("/sync/semaphore/cross-process", test_semaphore_cross_process);
  g_test_add_func ("/sync/bounded-semaphore/too-many", test_bounded_semaphore_too_many);
  g_test_add_data_func ("/sync/bounded-semaphore/exclusion", GSIZE_TO_POINTER (MP_TYPE_BOUNDED_SEMAPHORE), test_lock_exclusion);
  g_test_add_func ("/sync/condition/needs-lock", test_condition_needs_lock);
  g_test_add_data_func ("/sync/condition/notify/rlock", GINT_TO_POINTER (FALSE), test_condition_notify);
  g_test_add_data_func ("/sync/condition/notify/lock", GINT_TO_POINTER (TRUE), test_condition_notify);
  g_test_add_func ("/sync/condition/rlock-depth", test_condition_rlock_depth);
  g_test_add_func ("/sync/condition/wait-for", test_condition_wait_for);
  g_test_add_func ("/sync/event", test_event);
  g_test_add_func ("/sync/barrier/indices", test_barrier_indices);
  g_test_add_func ("/sync/barrier/broken", test_barrier_broken);
  g_test_add_func ("/sync/barrier/timeout-parties", test_barrier_timeout_parties);
  g_test_add_func ("/sync/barrier/invalid", test_barrier_invalid);
  {
    const GType types[] = { MP_TYPE_LOCK, MP_TYPE_RLOCK, MP_TYPE_SEMAPHORE,
                            MP_TYPE_BOUNDED_SEMAPHORE, MP_TYPE_CONDITION,
                            MP_TYPE_EVENT, MP_TYPE_BARRIER };

    for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
      {
        g_autofree char *path = g_strdup_printf ("/sync/serialize/inheritance-only/%s",
                                                 g_type_name (types[i]));
        g_test_add_data_func (path, GSIZE_TO_POINTER (types[i]),
                              test_serialize_inheritance_only);
      }
  }
  g_test_add_func ("/sync/serialize/forged-state", test_serialize_forged_state);
  g_test_add_func ("/sync/serialize/forged-memfd", test_serialize_forged_memfd);
  g_test_add_data_func ("/sync/process/steps/fork", GINT_TO_POINTER (MP_START_FORK), test_process_steps);
  g_test_add_data_func ("/sync/process/steps/spawn", GINT_TO_POINTER (MP_START_SPAWN), test_process_steps);

  return g_test_run ();
}
