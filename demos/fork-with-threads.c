/* fork-with-threads.c — fork while another thread holds a lock
 *
 * fork() copies the whole memory of the parent but only the thread that
 * called it. A lock that another thread held at that moment (a logger's,
 * the allocator's, the program's own) is held in the child too, by a
 * thread that does not exist there: nobody will ever release it, and the
 * child's first use of it blocks forever. Python 3.12 warns about this
 * at every fork of a multi-threaded process (a DeprecationWarning, shown
 * when warnings are on); 3.14 moved Linux to forkserver by default.
 *
 * Broken (always fork, the method this pitfall belongs to): a logging
 * thread holds the program's log lock while a child is forked; the child's
 * task takes the log lock with a timed acquire. The verdict comes from the
 * lock itself: the timed acquire gives up, and a try-lock then confirms
 * that it is held (by the vanished thread). The timeout only bounds how
 * long the demo waits; nothing hangs for real.
 *
 * Fixed: the same moment, the child started by forkserver (or spawn, the
 * demo's method when that is not fork): it is not a copy of this process
 * and takes the lock at once. And under fork: start the child before the
 * thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <glib-unix.h>

#include "demo-common.h"

/* how long the child's timed acquire waits: a bound, not the verdict */
#define ACQUIRE_BOUND_S 2
#define JOIN_BACKSTOP   (60 * G_USEC_PER_SEC)

/* what the child found, in the shared value */
#define FOUND_NOTHING   0
#define FOUND_HELD      1   /* the timed acquire gave up; try-lock: busy */
#define FOUND_TAKEN     2   /* it took the lock and logged */
/* the exit status of a child whose task failed */
#define CHILD_EXIT_FAILED 1

static const char summary[] =
  "fork() copies memory but only the calling thread: a lock another thread\n"
  "holds at that moment stays held in the child by a thread that does not\n"
  "exist there, and the child's first use of it blocks forever (Python\n"
  "3.12: DeprecationWarning \"use of fork() may lead to deadlocks in the\n"
  "child\"). Fix: forkserver or spawn, or fork before starting threads.";

/* The program's own lock, as a logger has one. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- the child's task ------------------------------------------------------ */

static gboolean
log_line_task (MpArgs  *args,
               GValue  *result,
               GError **error)
{
  MpValue *found;
  struct timespec deadline;
  int r;

  if (mp_args_get_length (args) != 1 || !MP_IS_VALUE (found = mp_args_get_object (args, 0)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "log-line takes (found)");
      return FALSE;
    }
  clock_gettime (CLOCK_REALTIME, &deadline);
  deadline.tv_sec += ACQUIRE_BOUND_S;
  r = pthread_mutex_timedlock (&log_lock, &deadline);
  if (r == 0)
    {
      g_print ("   [child %d] took the log lock and logged a line\n", (int) getpid ());
      pthread_mutex_unlock (&log_lock);
      return mp_value_set_int (found, FOUND_TAKEN, error);
    }
  /* Gave up: is it really held, or did something else fail? */
  if (r == ETIMEDOUT && pthread_mutex_trylock (&log_lock) == EBUSY)
    {
      g_print ("   [child %d] the log lock is held by a thread that does not exist "
               "here:\n   [child %d] a plain lock() would block forever\n",
               (int) getpid (), (int) getpid ());
      if (!mp_value_set_int (found, FOUND_HELD, error))
        return FALSE;
      /* the log line fails, as a timed lock does: the child exits 1 */
      mp_set_error (error, MP_ERROR_TIMEOUT,
                    "the log lock is still held after %d s by a thread that "
                    "does not exist in this child (forked while it held it)",
                    ACQUIRE_BOUND_S);
      return FALSE;
    }
  mp_set_error (error, MP_ERROR_FAILED, "taking the log lock: %s", g_strerror (r));
  return FALSE;
}
MP_TASK_DEFINE ("fork-with-threads:log-line", log_line_task)

/* ---- the logging thread ------------------------------------------------------ */

typedef struct {
  int held[2];      /* the thread writes a byte once it holds the lock */
  int release[2];   /* the parent writes a byte to let it go */
} Logger;

static gpointer
logger_thread (gpointer data)
{
  Logger *logger = data;
  char byte = 1;

  pthread_mutex_lock (&log_lock);
  if (write (logger->held[1], &byte, 1) != 1)
    g_printerr ("fork-with-threads: the logger could not say it holds the lock\n");
  /* holds it until told: a long log write, as far as the fork can tell */
  while (read (logger->release[0], &byte, 1) < 0 && errno == EINTR)
    ;
  pthread_mutex_unlock (&log_lock);
  return NULL;
}

static gboolean
read_byte (int fd)
{
  char byte;
  ssize_t n;

  do
    n = read (fd, &byte, 1);
  while (n < 0 && errno == EINTR);
  return n == 1;
}

/* Starts the logging thread and returns once it holds the lock. */
static GThread *
logger_start (Logger  *logger,
              GError **error)
{
  GThread *thread;

  if (!g_unix_open_pipe (logger->held, FD_CLOEXEC, error))
    return NULL;
  if (!g_unix_open_pipe (logger->release, FD_CLOEXEC, error))
    {
      close (logger->held[0]);
      close (logger->held[1]);
      return NULL;
    }
  thread = g_thread_new ("logger", logger_thread, logger);
  if (!read_byte (logger->held[0]))
    g_printerr ("fork-with-threads: the logger ended before it held the lock\n");
  return thread;
}

static void
logger_stop (Logger  *logger,
             GThread *thread)
{
  char byte = 1;

  if (write (logger->release[1], &byte, 1) != 1)
    g_printerr ("fork-with-threads: could not release the logger\n");
  g_thread_join (thread);
  close (logger->held[0]);
  close (logger->held[1]);
  close (logger->release[0]);
  close (logger->release[1]);
}

/* Starts the child with @method, joins it (the backstop only bounds) and
 * returns what it found, or -1 once it has rejected the half. */
static gint64
run_child (Demo          *demo,
           MpStartMethod  method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpValue) found = mp_value_create ('q', TRUE, &error);
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) child = NULL;
  int code = -1;
  gint64 what;

  if (found == NULL)
    {
      demo_reject_error (demo, error, "the result value could not be made");
      return -1;
    }
  args = mp_args_new (MP_TYPE_VALUE, found, G_TYPE_INVALID);
  child = mp_context_process_new (mp_get_context (method), "fork-with-threads:log-line", args);
  if (!mp_process_start (child, &error))
    {
      demo_reject_error (demo, error, "the child could not start");
      return -1;
    }
  if (!mp_process_join (child, JOIN_BACKSTOP, &error))
    {
      /* the watchdog: a child that never came back is stopped and said so */
      mp_process_kill (child, NULL);
      mp_process_join (child, -1, NULL);
      demo_reject_error (demo, error, "the child hung past the backstop");
      return -1;
    }
  what = mp_value_get_int (found, &error);
  if (error != NULL)
    {
      demo_reject_error (demo, error, "reading the result failed");
      return -1;
    }
  /* a child that found the lock held failed its log line: exit 1 */
  if (!mp_process_get_exitcode (child, &code) ||
      code != (what == FOUND_HELD ? CHILD_EXIT_FAILED : 0))
    {
      demo_reject (demo, "the child exited with %d", code);
      return -1;
    }
  return what;
}

static gboolean
half_fork_while_held (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  Logger logger;
  GThread *thread;
  gint64 found;

  demo_step (demo, "A logging thread takes the log lock and holds it.");
  thread = logger_start (&logger, &error);
  if (thread == NULL)
    return demo_reject_error (demo, error, "the logger could not start");
  demo_step (demo, "Meanwhile a child is started with fork; it logs a line.");
  demo_say ("Python 3.12 would warn here:");
  demo_say ("DeprecationWarning: This process (pid=%d) is multi-threaded,",
            (int) getpid ());
  demo_say ("use of fork() may lead to deadlocks in the child.");
  found = run_child (demo, MP_START_FORK);
  logger_stop (&logger, thread);
  if (found < 0)
    return FALSE;
  if (found != FOUND_HELD)
    return demo_reject (demo, "the child took the log lock: it was not held "
                        "in the child");
  demo_say ("=> the child inherited the lock held, and no thread to free it:");
  demo_say ("   without the %d s bound its first log line would hang forever",
            ACQUIRE_BOUND_S);
  return TRUE;
}

static gboolean
half_no_copy (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  MpStartMethod other = demo_get_start_method_without_copy (demo);
  Logger logger;
  GThread *thread;
  gint64 found;

  demo_step (demo, "Fix 1: the same moment, the child started by %s.",
             mp_start_method_to_string (other));
  thread = logger_start (&logger, &error);
  if (thread == NULL)
    return demo_reject_error (demo, error, "the logger could not start");
  found = run_child (demo, other);
  logger_stop (&logger, thread);
  if (found < 0)
    return FALSE;
  if (found != FOUND_TAKEN)
    return demo_reject (demo, "under %s the child found the lock held",
                        mp_start_method_to_string (other));
  demo_say ("=> a %s child is no copy of this process: its lock is free",
            mp_start_method_to_string (other));

  demo_step (demo, "Fix 2: under fork, start the child before the thread.");
  found = run_child (demo, MP_START_FORK);
  if (found < 0)
    return FALSE;
  thread = logger_start (&logger, &error);
  if (thread == NULL)
    return demo_reject_error (demo, error, "the logger could not start");
  logger_stop (&logger, thread);
  if (found != FOUND_TAKEN)
    return demo_reject (demo, "forked before any thread, the child found the "
                        "lock held");
  demo_say ("=> forked while this process had one thread: nothing was held");
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "fork-with-threads",
  .summary = summary,
  .broken = half_fork_while_held,
  .fixed = half_no_copy,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
