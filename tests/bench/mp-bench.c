/* mp-bench.c — what sharing costs: mpshare beside the floor it stands on
 *
 * Every row prints mpshare's figure, the floor measured in the same run
 * (the bare OS mechanism underneath) and their ratio, so the targets hold
 * as ratios on a noisy machine. Each figure is the best of --repeats runs:
 * noise only ever adds time. A manager row's floor is run between the
 * row's own runs, so both sides of its ratio see the same spells of a
 * busy machine.
 *
 * Placement (--pin): a wakeup that crosses CPUs costs far more than one on
 * the same CPU, so every row that involves two processes says where they
 * ran. "same" keeps everything on CPU 0; "split" puts the second process
 * on CPU 1; "none" lets the scheduler choose. A manager's server runs on
 * CPU 0 and its clients (one or two) on the second CPU; pool workers and
 * the echo of the socket ping-pong go there too.
 *
 * --tsv prints "key<TAB>mpshare<TAB>floor<TAB>unit" rows instead of the
 * table (the table goes to stderr), the contract of tests/bench/compare.py.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mpshare.h"
#include "mp-trace-private.h"

typedef enum { PIN_NONE, PIN_SAME, PIN_SPLIT } Pin;

static Pin pin = PIN_SAME;
static gint64 iterations = 200000;
static gint64 starts = 200;
static gint64 repeats = 5;
static gint64 round_trips = 20000;   /* per manager or ping-pong loop */
static gint64 pool_tasks = 20000;
static gboolean tsv;

/* ---- placement: two-process rows say where the processes run ---------- */

static int
cpu_of_second (void)
{
  return pin == PIN_SPLIT && g_get_num_processors () > 1 ? 1 : 0;
}

static void
pin_to_cpu (int cpu)
{
  cpu_set_t set;

  if (pin == PIN_NONE)
    return;
  CPU_ZERO (&set);
  CPU_SET (cpu, &set);
  if (sched_setaffinity (0, sizeof set, &set) != 0)
    g_printerr ("mp-bench: sched_setaffinity: %s\n", g_strerror (errno));
}

static const char *
pin_name (void)
{
  switch (pin)
    {
    case PIN_SAME: return "same CPU";
    case PIN_SPLIT: return cpu_of_second () == 1 ? "split CPUs" : "split (1 CPU only)";
    default: return "unpinned";
    }
}

/* A started child inherits its parent's CPU. To place children of
 * MpProcess (which forks inside the library) and of bare fork() alike, the
 * parent steps onto the second CPU around every fork while a start row
 * runs with --pin split; both sides of the row pay the same steps. */
static gboolean steer_children;

static void
steer_before_fork (void)
{
  if (steer_children && pin == PIN_SPLIT)
    pin_to_cpu (cpu_of_second ());
}

static void
steer_after_fork (void)
{
  if (steer_children && pin == PIN_SPLIT)
    pin_to_cpu (0);
}

/* ---- the table ---------------------------------------------------------- */

#define LABEL_WIDTH 66

static void
print_header (void)
{
  g_print ("%-*s %11s %11s %8s %8s %s\n", LABEL_WIDTH, "operation (vs floor)",
           "mpshare", "floor", "ratio", "target", "met");
  g_print ("%-*s %11s %11s %8s %8s %s\n", LABEL_WIDTH, "--------------------",
           "-------", "-----", "-----", "------", "---");
}

static const char *
format_ns (double ns, char *buf, gsize len)
{
  if (ns >= 1e6)
    g_snprintf (buf, len, "%.2f ms", ns / 1e6);
  else if (ns >= 1e3)
    g_snprintf (buf, len, "%.1f us", ns / 1e3);
  else
    g_snprintf (buf, len, "%.1f ns", ns);
  return buf;
}

static guint targets_missed;
static GString *tsv_rows;

/* one line for compare.py; @floor <= 0: the row has no floor */
static void
record_tsv (const char *key,
            double      value,
            double      floor_value,
            const char *unit)
{
  if (tsv_rows == NULL)
    tsv_rows = g_string_new (NULL);
  g_string_append_printf (tsv_rows, "%s\t%.1f\t", key, value);
  if (floor_value > 0)
    g_string_append_printf (tsv_rows, "%.1f", floor_value);
  else
    g_string_append (tsv_rows, "-");
  g_string_append_printf (tsv_rows, "\t%s\n", unit);
}

/* @key: the row's name for --tsv (compare.py's keys), NULL for a row
 * shown in the table only; @target: the largest acceptable mpshare/floor
 * ratio, 0 for none */
static void
print_row (const char *key,
           const char *operation,
           const char *floor_name,
           double      mp_ns,
           double      floor_ns,
           double      target)
{
  g_autofree char *label = g_strdup_printf ("%s (vs %s)", operation, floor_name);
  char a[32], b[32], t[16] = "-";
  double ratio = mp_ns / floor_ns;
  const char *met = "";

  if (target > 0)
    {
      g_snprintf (t, sizeof t, target * 10 == (int) (target * 10) ? "<= %.1fx" : "<= %.2fx", target);
      met = ratio <= target ? "yes" : "NO";
      targets_missed += ratio > target;
    }
  g_print ("%-*s %11s %11s %7.2fx %8s %s\n", LABEL_WIDTH, label,
           format_ns (mp_ns, a, sizeof a), format_ns (floor_ns, b, sizeof b),
           ratio, t, met);
  if (key != NULL)
    record_tsv (key, mp_ns, floor_ns, "ns");
}

/* a row without a floor (the floor itself, a rate) */
static void
print_plain_row (const char *operation,
                 const char *value)
{
  g_print ("%-*s %11s %11s %8s %8s\n", LABEL_WIDTH, operation, value, "-", "-", "-");
}

static void
print_section (const char *title)
{
  g_print ("%s\n", title);
}

/* ---- timing ------------------------------------------------------------- */

typedef void (*LoopFunc) (gpointer data, gint64 n);

static void
wait_for (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("mp-bench: a loop process failed (status %d)", status);
}

/* ns per operation of @loop run by @n_procs processes at once; the
 * processes start together behind a pipe so start-up is not measured */
static double
time_loop_once (LoopFunc loop, gpointer data, gint64 n, int n_procs)
{
  int go[2];
  pid_t pids[2];
  gint64 t0, t1;

  g_assert (n_procs == 1 || n_procs == 2);
  if (n_procs == 1)
    {
      t0 = g_get_monotonic_time ();
      loop (data, n);
      t1 = g_get_monotonic_time ();
      return (t1 - t0) * 1000.0 / n;
    }

  g_assert (pipe (go) == 0);
  for (int p = 0; p < n_procs; p++)
    {
      pids[p] = fork ();
      g_assert (pids[p] >= 0);
      if (pids[p] == 0)
        {
          char c;

          pin_to_cpu (p == 0 ? 0 : cpu_of_second ());
          close (go[1]);
          if (read (go[0], &c, 1) < 0)
            _exit (2);
          loop (data, n);
          _exit (0);
        }
    }
  close (go[0]);
  t0 = g_get_monotonic_time ();
  close (go[1]);   /* EOF releases both at once */
  for (int p = 0; p < n_procs; p++)
    wait_for (pids[p]);
  t1 = g_get_monotonic_time ();
  return (t1 - t0) * 1000.0 / (n * n_procs);
}

static double
time_loop (LoopFunc loop, gpointer data, int n_procs)
{
  double best = G_MAXDOUBLE;

  for (gint64 r = 0; r < repeats; r++)
    {
      double ns = time_loop_once (loop, data, iterations, n_procs);

      best = MIN (best, ns);
    }
  return best;
}

typedef void (*StartFunc) (gpointer data);

/* ns per start+join of @start, best of the repeats */
static double
time_starts (StartFunc start, gpointer data)
{
  double best = G_MAXDOUBLE;

  steer_children = TRUE;
  for (gint64 r = 0; r < repeats; r++)
    {
      gint64 t0 = g_get_monotonic_time ();
      double ns;

      for (gint64 i = 0; i < starts; i++)
        start (data);
      ns = (g_get_monotonic_time () - t0) * 1000.0 / starts;
      best = MIN (best, ns);
    }
  steer_children = FALSE;
  return best;
}

/* ---- floors: the bare mechanisms ---------------------------------------- */

typedef struct {
  pthread_mutex_t mutex;
  gint64          counter;
  _Atomic gint64  atomic_counter;
  volatile gint32 cells[16];
} Floor;

static Floor *
floor_new (void)
{
  Floor *f = mmap (NULL, sizeof *f, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  pthread_mutexattr_t attr;

  g_assert (f != MAP_FAILED);
  pthread_mutexattr_init (&attr);
  pthread_mutexattr_setpshared (&attr, PTHREAD_PROCESS_SHARED);
  pthread_mutexattr_setrobust (&attr, PTHREAD_MUTEX_ROBUST);
  pthread_mutex_init (&f->mutex, &attr);
  pthread_mutexattr_destroy (&attr);
  f->counter = 0;
  atomic_init (&f->atomic_counter, 0);
  return f;
}

static void
floor_free (Floor *f)
{
  pthread_mutex_destroy (&f->mutex);
  munmap (f, sizeof *f);
}

static void
floor_mutex_loop (gpointer data, gint64 n)
{
  Floor *f = data;

  for (gint64 i = 0; i < n; i++)
    {
      pthread_mutex_lock (&f->mutex);
      f->counter++;
      pthread_mutex_unlock (&f->mutex);
    }
}

static void
floor_atomic_loop (gpointer data, gint64 n)
{
  Floor *f = data;

  for (gint64 i = 0; i < n; i++)
    atomic_fetch_add_explicit (&f->atomic_counter, 1, memory_order_relaxed);
}

/* one element set, then read back: what an array element get/set is */
static void
floor_cell_loop (gpointer data, gint64 n)
{
  Floor *f = data;
  gint32 sum = 0;

  for (gint64 i = 0; i < n; i++)
    {
      f->cells[i & 15] = (gint32) i;
      sum += f->cells[(i + 1) & 15];
    }
  f->cells[0] = sum;
}

static void
floor_locked_cell_loop (gpointer data, gint64 n)
{
  Floor *f = data;
  gint32 sum = 0;

  for (gint64 i = 0; i < n; i++)
    {
      pthread_mutex_lock (&f->mutex);
      f->cells[i & 15] = (gint32) i;
      pthread_mutex_unlock (&f->mutex);
      pthread_mutex_lock (&f->mutex);
      sum += f->cells[(i + 1) & 15];
      pthread_mutex_unlock (&f->mutex);
    }
  f->cells[0] = sum;
}

static void
bare_fork_join (gpointer data)
{
  pid_t pid = fork ();

  g_assert (pid >= 0);
  if (pid == 0)
    _exit (0);
  wait_for (pid);
}

/* fork + exec of this very binary (@data: its path), which exits at once
 * (--exit-now) */
static void
bare_fork_exec_join (gpointer data)
{
  char *argv[] = { data, (char *) "--exit-now", NULL };
  pid_t pid = fork ();

  g_assert (pid >= 0);
  if (pid == 0)
    {
      execv (data, argv);
      _exit (127);
    }
  wait_for (pid);
}

/* ---- mpshare ------------------------------------------------------------ */

static gboolean
nothing_task (MpArgs *args, GValue *result, GError **error)
{
  return TRUE;
}
MP_TASK_DEFINE ("bench:nothing", nothing_task)

static void
mp_start_join (gpointer data)
{
  MpStartMethod method = GPOINTER_TO_INT (data);
  g_autoptr(MpProcess) process = mp_process_new ("bench:nothing", NULL);
  g_autoptr(GError) error = NULL;
  int exitcode = -1;

  mp_process_set_start_method (process, method);
  if (!mp_process_start (process, &error) ||
      !mp_process_join (process, -1, &error))
    g_error ("mp-bench: %s", error->message);
  if (!mp_process_get_exitcode (process, &exitcode) || exitcode != 0)
    g_error ("mp-bench: a %s child exited with %d",
             mp_start_method_to_string (method), exitcode);
}

/* value += 1 the right way, as the API spells the fix of lost-update: one
 * call that holds the lock across read, add and write */
static void
mp_locked_increment_loop (gpointer data, gint64 n)
{
  MpValue *value = data;

  for (gint64 i = 0; i < n; i++)
    mp_value_add_int (value, 1, NULL);
}

/* the same spelled out, as any longer update under the lock is written */
static void
mp_acquire_get_set_release_loop (gpointer data, gint64 n)
{
  MpValue *value = data;
  MpLockable *lock = MP_LOCKABLE (value);

  for (gint64 i = 0; i < n; i++)
    {
      mp_lockable_acquire (lock, MP_WAIT_FOREVER, NULL);
      mp_value_set_int (value, mp_value_get_int (value, NULL) + 1, NULL);
      mp_lockable_release (lock, NULL);
    }
}

/* one element set, then one read back, each taking the array's lock (or
 * none for a raw array), as `a[i] = x; y = a[j]` */
static void
mp_array_set_get_loop (gpointer data, gint64 n)
{
  MpArray *array = data;
  gint64 sum = 0;

  for (gint64 i = 0; i < n; i++)
    {
      mp_array_set_int (array, i & 15, (gint32) i, NULL);
      sum += mp_array_get_int (array, (i + 1) & 15, NULL);
    }
  mp_array_set_int (array, 0, (gint32) sum, NULL);
}

static MpValue *
new_counter (void)
{
  g_autoptr(GError) error = NULL;
  MpValue *value = mp_value_create ('q', TRUE, &error);

  if (value == NULL)
    g_error ("mp-bench: %s", error->message);
  return value;
}

static MpArray *
new_cells (gboolean lock)
{
  g_autoptr(GError) error = NULL;
  MpArray *array = mp_array_create ('i', 16, lock, &error);

  if (array == NULL)
    g_error ("mp-bench: %s", error->message);
  return array;
}

/* ---- the rows ----------------------------------------------------------- */

/* A 2-process loop can only be checked once both have finished: a counter
 * that missed an increment means the row measured a broken lock. */
static void
check_count (MpValue *value, gint64 expected)
{
  gint64 got = mp_value_get_int (value, NULL);

  if (got != expected)
    g_error ("mp-bench: the shared value counted %" G_GINT64_FORMAT
             ", not %" G_GINT64_FORMAT, got, expected);
}

static void
bench_locked_increment (Floor *f)
{
  g_autofree char *two = g_strdup_printf ("MpValue locked += 1, 2 processes [%s]", pin_name ());
  g_autoptr(MpValue) value = new_counter ();
  double mutex1, atomic1, mp1, mutex2, atomic2, mp2;

  print_section ("shared value: one increment, the lock held across read-modify-write");
  mutex1 = time_loop (floor_mutex_loop, f, 1);
  atomic1 = time_loop (floor_atomic_loop, f, 1);
  mp1 = time_loop (mp_locked_increment_loop, value, 1);
  check_count (value, iterations * repeats);
  print_row ("value_locked_incr_1p", "MpValue locked += 1, 1 process", "robust mutex", mp1, mutex1, 2.0);
  print_row ("value_locked_incr_1p_vs_atomic", "MpValue locked += 1, 1 process", "atomic add", mp1, atomic1, 0);
  print_row ("value_acquire_get_set_release_1p", "MpValue acquire, get, set, release, 1 process", "robust mutex",
             time_loop (mp_acquire_get_set_release_loop, value, 1), mutex1, 0);
  check_count (value, 2 * iterations * repeats);

  mp_value_set_int (value, 0, NULL);
  mutex2 = time_loop (floor_mutex_loop, f, 2);
  atomic2 = time_loop (floor_atomic_loop, f, 2);
  mp2 = time_loop (mp_locked_increment_loop, value, 2);
  check_count (value, 2 * iterations * repeats);
  print_row ("value_locked_incr_2p", two, "robust mutex", mp2, mutex2, 2.0);
  print_row ("value_locked_incr_2p_vs_atomic", two, "atomic add", mp2, atomic2, 0);
}

static void
bench_array_elements (Floor *f)
{
  g_autoptr(MpArray) locked = new_cells (TRUE);
  g_autoptr(MpArray) raw = new_cells (FALSE);

  print_section ("shared array: set one element, get another");
  print_row ("array_set_get_locked_1p", "MpArray set+get, locked, 1 process", "mutex+store/load",
             time_loop (mp_array_set_get_loop, locked, 1),
             time_loop (floor_locked_cell_loop, f, 1), 0);
  print_row ("array_set_get_raw_1p", "MpArray set+get, lock=FALSE, 1 process", "plain store/load",
             time_loop (mp_array_set_get_loop, raw, 1),
             time_loop (floor_cell_loop, f, 1), 0);
}

static void
bench_process_start (void)
{
  g_autofree char *fork_label = g_strdup_printf ("MpProcess fork start+join [%s]", pin_name ());
  g_autofree char *spawn_label = g_strdup_printf ("MpProcess spawn start+join [%s]", pin_name ());
  g_autofree char *server_label = g_strdup_printf ("MpProcess forkserver start+join [%s]", pin_name ());
  /* the real path: valgrind, for one, refuses to exec /proc/self/exe */
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  double bare_fork, bare_exec;

  print_section ("process start + join");
  bare_fork = time_starts (bare_fork_join, NULL);
  print_row ("fork_start_join", fork_label, "fork+waitpid", time_starts (mp_start_join, GINT_TO_POINTER (MP_START_FORK)),
             bare_fork, 1.5);
  if (self == NULL)
    self = g_strdup ("/proc/self/exe");
  bare_exec = time_starts (bare_fork_exec_join, self);
  print_row ("spawn_start_join", spawn_label, "fork+exec+waitpid", time_starts (mp_start_join, GINT_TO_POINTER (MP_START_SPAWN)),
             bare_exec, 2.0);
  /* the server is started once, outside the timing (Python's first
   * forkserver start does the same); each start is then a request, a
   * fork in the server and the status coming back from it */
  mp_start_join (GINT_TO_POINTER (MP_START_FORKSERVER));
  print_row ("forkserver_start_join", server_label, "fork+waitpid",
             time_starts (mp_start_join, GINT_TO_POINTER (MP_START_FORKSERVER)), bare_fork, 0);
  mp_forkserver_stop (NULL);
}

/* ---- the manager, beside a bare socket ping-pong ------------------------ */

/* A manager call is one request and one reply on a Unix socket between
 * two processes: its floor is the same exchange with nothing around it. */
#define PING_SIZE 32

static gboolean
read_full (int fd, guint8 *buf, gsize len)
{
  gsize got = 0;

  while (got < len)
    {
      ssize_t n = read (fd, buf + got, len - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      got += (gsize) n;
    }
  return TRUE;
}

static gboolean
write_full (int fd, const guint8 *buf, gsize len)
{
  gsize put = 0;

  while (put < len)
    {
      ssize_t n = write (fd, buf + put, len - put);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      put += (gsize) n;
    }
  return TRUE;
}

static void
ping_pong (int fd, gint64 n)
{
  guint8 message[PING_SIZE];

  memset (message, 'x', sizeof message);
  for (gint64 i = 0; i < n; i++)
    if (!write_full (fd, message, sizeof message) ||
        !read_full (fd, message, sizeof message))
      g_error ("mp-bench: the ping-pong echo went away");
}

/* Forks a process on @cpu that echoes each message back until the end
 * of the stream; *@fd: this side's end of the socket. */
static pid_t
start_echo (int  cpu,
            int *fd)
{
  int fds[2];
  pid_t echo;

  g_assert (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  echo = fork ();
  g_assert (echo >= 0);
  if (echo == 0)
    {
      guint8 message[PING_SIZE];

      close (fds[0]);
      pin_to_cpu (cpu);
      while (read_full (fds[1], message, sizeof message))
        if (!write_full (fds[1], message, sizeof message))
          _exit (1);
      _exit (0);   /* EOF: the row is done */
    }
  close (fds[1]);
  *fd = fds[0];
  return echo;
}

/* ns per round trip of one loop of small messages to @fd's echo */
static double
pingpong_once (int fd)
{
  gint64 t0 = g_get_monotonic_time ();

  ping_pong (fd, round_trips);
  return (g_get_monotonic_time () - t0) * 1000.0 / round_trips;
}

/* ns per operation of @loop run at once by @n_clients processes, all on
 * the second CPU. Each runs one operation first (connecting a proxy
 * inherited through fork, faulting pages in) and only then waits for the
 * start, so neither start-up nor connecting is measured. */
static double
time_clients_once (LoopFunc loop, gpointer data, gint64 n, int n_clients)
{
  int ready[2], go[2];
  pid_t pids[2];
  gint64 t0, t1;
  char c;

  g_assert (n_clients == 1 || n_clients == 2);
  g_assert (pipe (ready) == 0 && pipe (go) == 0);
  for (int p = 0; p < n_clients; p++)
    {
      pids[p] = fork ();
      g_assert (pids[p] >= 0);
      if (pids[p] == 0)
        {
          close (ready[0]);
          close (go[1]);
          pin_to_cpu (cpu_of_second ());
          loop (data, 1);
          if (write (ready[1], "r", 1) != 1 || read (go[0], &c, 1) < 0)
            _exit (2);
          loop (data, n);
          _exit (0);
        }
    }
  close (ready[1]);
  close (go[0]);
  for (int p = 0; p < n_clients; p++)
    if (read (ready[0], &c, 1) != 1)
      break;   /* a client died in its warm-up: wait_for() says so */
  close (ready[0]);
  t0 = g_get_monotonic_time ();
  close (go[1]);   /* EOF releases all clients at once */
  for (int p = 0; p < n_clients; p++)
    wait_for (pids[p]);
  t1 = g_get_monotonic_time ();
  return (t1 - t0) * 1000.0 / (n * n_clients);
}

static double
time_clients (LoopFunc loop, gpointer data, int n_clients)
{
  double best = G_MAXDOUBLE;

  for (gint64 r = 0; r < repeats; r++)
    {
      double ns = time_clients_once (loop, data, round_trips, n_clients);

      best = MIN (best, ns);   /* MIN() evaluates its arguments twice */
    }
  return best;
}

/* time_clients(), with the floor's ping-pong run between its runs, as
 * many times: a slow spell of the machine weighs on both sides of the
 * ratio alike. *@floor_ns: the best of those ping-pong runs, ns per round
 * trip of a small message between this process (CPU 0) and an echo on
 * the second CPU. @loop %NULL: the floor alone. */
static double
time_clients_beside_floor (LoopFunc  loop,
                           gpointer  data,
                           int       n_clients,
                           double   *floor_ns)
{
  int fd;
  pid_t echo = start_echo (cpu_of_second (), &fd);
  double best = G_MAXDOUBLE;

  ping_pong (fd, 100);   /* warm-up; the echo has pinned itself */
  *floor_ns = G_MAXDOUBLE;
  for (gint64 r = 0; r < repeats; r++)
    {
      double floor_ns_once = pingpong_once (fd);

      *floor_ns = MIN (*floor_ns, floor_ns_once);
      if (loop != NULL)
        {
          double ns = time_clients_once (loop, data, round_trips, n_clients);

          best = MIN (best, ns);
        }
    }
  close (fd);
  wait_for (echo);
  return best;
}

/* One ping-pong pair per client process of time_clients(): its echo on
 * CPU 0, where the manager's server runs. What two clients of one server
 * cost beyond one, with no manager at all: two pairs on one CPU switch
 * between more processes than one pair. */
static int pair_fd = -1;
static pid_t pair_echo;

static void
pair_pingpong_loop (gpointer data, gint64 n)
{
  if (pair_fd < 0)
    pair_echo = start_echo (0, &pair_fd);
  ping_pong (pair_fd, n);
  if (n > 1)
    {
      /* the timed loop is over: the echo ends with the stream */
      close (pair_fd);
      wait_for (pair_echo);
    }
}

static void
check_ok (gboolean ok, GError *error)
{
  if (!ok)
    g_error ("mp-bench: %s", error != NULL ? error->message : "failed");
}

static void
manager_append_loop (gpointer data, gint64 n)
{
  g_auto(GValue) one = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_value_init (&one, G_TYPE_INT64);
  g_value_set_int64 (&one, 1);
  for (gint64 i = 0; i < n; i++)
    check_ok (mp_list_proxy_append (data, &one, &error), error);
}

static void
manager_get_loop (gpointer data, gint64 n)
{
  g_autoptr(GError) error = NULL;

  for (gint64 i = 0; i < n; i++)
    {
      g_auto(GValue) out = G_VALUE_INIT;

      check_ok (mp_value_proxy_get (data, &out, &error), error);
    }
}

static void
manager_set_loop (gpointer data, gint64 n)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  g_value_init (&value, G_TYPE_INT64);
  for (gint64 i = 0; i < n; i++)
    {
      g_value_set_int64 (&value, i);
      check_ok (mp_value_proxy_set (data, &value, &error), error);
    }
}

/* the same operations on a shared-memory MpValue: one locked access each */
static void
shm_get_loop (gpointer data, gint64 n)
{
  gint64 sum = 0;

  for (gint64 i = 0; i < n; i++)
    sum += mp_value_get_int (data, NULL);
  g_assert (sum >= 0);
}

static void
shm_set_loop (gpointer data, gint64 n)
{
  for (gint64 i = 0; i < n; i++)
    mp_value_set_int (data, i, NULL);
}

typedef struct {
  const char *key;
  const char *label;
  const char *shm_label;   /* NULL: no shared-memory counterpart */
  LoopFunc    manager_loop;
  LoopFunc    shm_loop;
  gboolean    on_list;
} ManagerOp;

static void
bench_manager (void)
{
  static const ManagerOp ops[] = {
    { "manager_list_append", "manager list append", NULL, manager_append_loop, NULL, TRUE },
    { "manager_value_get", "manager Value get", "shared MpValue get", manager_get_loop, shm_get_loop, FALSE },
    { "manager_value_set", "manager Value set", "shared MpValue set", manager_set_loop, shm_set_loop, FALSE },
  };
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpProxy) value = NULL;
  g_autoptr(MpValue) shm = new_counter ();
  g_autoptr(GError) error = NULL;
  double floor_ns;
  gint64 len;

  print_section ("manager: one round trip per operation (server on CPU 0, clients on the second CPU)");
  time_clients_beside_floor (NULL, NULL, 0, &floor_ns);
  {
    g_autofree char *label = g_strdup_printf ("Unix socket ping-pong, %d bytes [%s] (the floor)",
                                              PING_SIZE, pin_name ());
    char a[32];

    print_plain_row (label, format_ns (floor_ns, a, sizeof a));
    record_tsv ("socket_pingpong", floor_ns, 0, "ns");
  }

  {
    double pairs_ns = time_clients (pair_pingpong_loop, NULL, 2);
    g_autofree char *label = g_strdup_printf ("Unix socket ping-pong, 2 pairs at once [%s]",
                                              pin_name ());
    char a[32];

    print_plain_row (label, format_ns (pairs_ns, a, sizeof a));
    record_tsv ("socket_pingpong_2pairs", pairs_ns, 0, "ns");
  }

  /* the server inherits CPU 0 from this process */
  check_ok (mp_manager_start (manager, &error), error);
  list = mp_manager_list (manager, NULL, &error);
  check_ok (list != NULL, error);
  value = mp_manager_value (manager, 'q', NULL, &error);
  check_ok (value != NULL, error);

  for (int clients = 1; clients <= 2; clients++)
    for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
      {
        const ManagerOp *op = &ops[i];
        g_autofree char *key = g_strdup_printf ("%s_%dc", op->key, clients);
        g_autofree char *label = g_strdup_printf ("%s, %d client%s [%s]", op->label, clients,
                                                  clients == 1 ? "" : "s", pin_name ());
        double row_floor_ns;
        double mp_ns = time_clients_beside_floor (op->manager_loop, op->on_list ? list : value,
                                                  clients, &row_floor_ns);

        print_row (key, label, "socket ping-pong", mp_ns, row_floor_ns, 1.2);
        if (op->shm_loop != NULL)
          {
            /* the article's "a manager is slower than shared memory",
             * measured: same operation, same number of processes */
            g_autofree char *shm_key = g_strdup_printf ("shm_value_%s_%dp",
                                                        op->shm_loop == shm_get_loop ? "get" : "set",
                                                        clients);
            double shm_ns = time_loop (op->shm_loop, shm, clients);

            print_row (NULL, label, op->shm_label, mp_ns, shm_ns, 0);
            record_tsv (shm_key, shm_ns, 0, "ns");
          }
      }

  /* every append arrived: warm-ups included, nothing lost or doubled */
  len = mp_list_proxy_len (list, &error);
  check_ok (error == NULL, error);
  if (len != 3 * (round_trips + 1) * repeats)
    g_error ("mp-bench: the manager list holds %" G_GINT64_FORMAT " items, not %"
             G_GINT64_FORMAT, len, 3 * (round_trips + 1) * repeats);
  g_clear_object (&list);
  g_clear_object (&value);
  check_ok (mp_manager_shutdown (manager, &error), error);
}

/* ---- the pool: trivial tasks per second --------------------------------- */

/* a pool worker's initializer: workers run on the second CPU, this
 * process (which submits and collects) on CPU 0 */
static gboolean
pin_worker_task (MpArgs *args, GValue *result, GError **error)
{
  pin_to_cpu ((int) mp_args_get_int (args, 0));
  return TRUE;
}
MP_TASK_DEFINE ("bench:pin-worker", pin_worker_task)

static double
pool_run (MpPool *pool, gint64 n)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  gint64 t0 = g_get_monotonic_time ();

  for (gint64 i = 0; i < n; i++)
    {
      MpFuture *future = mp_pool_submit (pool, "bench:nothing", NULL, &error);

      check_ok (future != NULL, error);
      g_ptr_array_add (futures, future);
    }
  for (guint i = 0; i < futures->len; i++)
    check_ok (mp_future_result (g_ptr_array_index (futures, i), -1, NULL, &error), error);
  return n * 1e6 / MAX (g_get_monotonic_time () - t0, 1);
}

static void
bench_pool (void)
{
  g_autoptr(MpArgs) initargs = mp_args_new (G_TYPE_INT64, (gint64) cpu_of_second (), G_TYPE_INVALID);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpPool) pool = mp_pool_new_full (2, MP_START_FORK, "bench:pin-worker", initargs, &error);
  double best = 0;
  char a[32];

  check_ok (pool != NULL, error);
  print_section ("pool: trivial tasks, 2 workers on the second CPU");
  pool_run (pool, 20);   /* warm-up: the workers start */
  for (gint64 r = 0; r < repeats; r++)
    {
      double rate = pool_run (pool, pool_tasks);

      best = MAX (best, rate);
    }
  mp_pool_shutdown (pool, TRUE);
  g_snprintf (a, sizeof a, "%.1fk/s", best / 1e3);
  print_plain_row ("MpPool(2) no-op tasks", a);
  record_tsv ("pool_trivial_tasks_per_s", best, 0, "tasks/s");
}

/* ---- main --------------------------------------------------------------- */

static void
print_to_stderr (const char *text)
{
  fputs (text, stderr);
}

static gboolean
parse_pin (const char *value, GError **error)
{
  if (g_strcmp0 (value, "same") == 0)
    pin = PIN_SAME;
  else if (g_strcmp0 (value, "split") == 0)
    pin = PIN_SPLIT;
  else if (g_strcmp0 (value, "none") == 0)
    pin = PIN_NONE;
  else
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "--pin takes same, split or none, not '%s'", value);
      return FALSE;
    }
  return TRUE;
}

/* ---- the trace recorder: its cost off and on ---------------------------- */

/* The rows pair this binary (the recorder compiled in, its hooks behind
 * one flag) with mp-bench-notrace, the same program linked with the
 * library built with -DMP_TRACE_DISABLED (no hooks at all). The twin runs
 * one loop per call, in turn with this process's own run of the same
 * loop, so a slow spell of the machine weighs on both sides alike. */

typedef enum { TWIN_INCREMENT, TWIN_MANAGER_GET } TwinRow;

static const char *const twin_names[] = { "increment", "manager-get" };

/* ns of this thread's CPU time per operation of @loop in this process:
 * on a machine shared with other work, the time this process was not
 * running does not count, where a wall-clock figure would add it */
static double
time_loop_cpu_once (LoopFunc loop, gpointer data, gint64 n)
{
  struct timespec t0, t1;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t0);
  loop (data, n);
  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &t1);
  return ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / n;
}

/* CPU time so far of every thread of process @pid, ns (the scheduler's
 * own account, /proc/PID/task/TID/schedstat) */
static gint64
process_cpu_ns (GPid pid)
{
  g_autofree char *tasks = g_strdup_printf ("/proc/%d/task", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (tasks, 0, NULL);
  const char *tid;
  gint64 sum = 0;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (tasks, tid, "schedstat", NULL);
      g_autofree char *text = NULL;

      if (g_file_get_contents (file, &text, NULL, NULL))
        sum += g_ascii_strtoll (text, NULL, 10);
    }
  return sum;
}

/* ns of CPU time per manager Value get, the client's and the server's
 * (@server) together: on a machine shared with other work, a round trip's
 * wall-clock time is mostly waiting for a turn on a CPU */
static double
time_round_trips_cpu_once (MpProxy *proxy, GPid server, gint64 n)
{
  int out[2];
  pid_t client;
  gint64 server_before = process_cpu_ns (server);
  double client_ns = 0;

  g_assert (pipe (out) == 0);
  client = fork ();
  g_assert (client >= 0);
  if (client == 0)
    {
      struct timespec t0, t1;
      double ns;

      close (out[0]);
      pin_to_cpu (cpu_of_second ());
      manager_get_loop (proxy, 1);   /* connects */
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t0);
      manager_get_loop (proxy, n);
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &t1);
      ns = (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec);
      _exit (write (out[1], &ns, sizeof ns) == sizeof ns ? 0 : 2);
    }
  close (out[1]);
  if (read (out[0], &client_ns, sizeof client_ns) != sizeof client_ns)
    client_ns = 0;
  close (out[0]);
  wait_for (client);
  return (client_ns + (double) (process_cpu_ns (server) - server_before)) / n;
}

/* One run of @row in this process, ns of CPU time per operation.
 * @value/@proxy: the counter or manager Value to use; @server: the pid of
 * the manager's server. */
static double
run_row_once (TwinRow row, MpValue *value, MpProxy *proxy, GPid server)
{
  if (row == TWIN_INCREMENT)
    return time_loop_cpu_once (mp_locked_increment_loop, value, iterations);
  return time_round_trips_cpu_once (proxy, server, round_trips);
}

/* mp-bench-notrace --twin ROW: prints ns per operation of one run. */
static int
twin_main (const char *name)
{
  g_autoptr(MpValue) value = new_counter ();
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpProxy) proxy = NULL;
  g_autoptr(GError) error = NULL;
  TwinRow row;

  if (g_strcmp0 (name, twin_names[TWIN_INCREMENT]) == 0)
    row = TWIN_INCREMENT;
  else if (g_strcmp0 (name, twin_names[TWIN_MANAGER_GET]) == 0)
    row = TWIN_MANAGER_GET;
  else
    {
      g_printerr ("mp-bench: --twin takes increment or manager-get, not '%s'\n", name);
      return 2;
    }
  if (row == TWIN_MANAGER_GET)
    {
      manager = mp_manager_new (NULL, NULL);
      check_ok (mp_manager_start (manager, &error), error);
      proxy = mp_manager_value (manager, 'q', NULL, &error);
      check_ok (proxy != NULL, error);
    }
  g_print ("%.3f\n", run_row_once (row, value, proxy,
                                   manager != NULL ? mp_manager_get_server_pid (manager) : 0));
  return 0;
}

/* The twin's figure for one run of @row, or -1 when there is no twin. */
static double
run_twin (const char *twin, TwinRow row)
{
  g_autofree char *out = NULL;
  g_autofree char *n = g_strdup_printf ("%" G_GINT64_FORMAT, iterations);
  g_autofree char *trips = g_strdup_printf ("%" G_GINT64_FORMAT, round_trips);
  const char *pin_option = pin == PIN_SAME ? "same" : pin == PIN_SPLIT ? "split" : "none";
  const char *argv[] = { twin, "--pin", pin_option, "--iterations", n, "--round-trips", trips,
                         "--twin", twin_names[row], NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("mp-bench: running %s: %s", twin, error->message);
  return g_ascii_strtod (out, NULL);
}

static gchar *
find_twin (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *dir = self != NULL ? g_path_get_dirname (self) : NULL;
  char *twin = dir != NULL ? g_build_filename (dir, "mp-bench-notrace", NULL) : NULL;

  if (twin != NULL && g_file_test (twin, G_FILE_TEST_IS_EXECUTABLE))
    return twin;
  g_free (twin);
  return NULL;
}

/* ns per recorded instant event, the shared-memory write alone */
static void
trace_emit_loop (gpointer data, gint64 n)
{
  for (gint64 i = 0; i < n; i++)
    mp_trace_value_int (TRUE, "total", MP_TRACE_NONE, i);
}

static void
start_tracing (void)
{
  g_autoptr(GError) error = NULL;

  /* every event of the loops is recorded: none is dropped at the limit */
  mp_trace_set_file_limit (G_MAXUINT);

  check_ok (mp_trace_start (NULL, &error), error);
}

static void
bench_trace (void)
{
  g_autofree char *twin = find_twin ();
  g_autoptr(MpValue) value = new_counter ();
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpManager) traced_manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpProxy) proxy = NULL;
  g_autoptr(MpProxy) traced_proxy = NULL;
  g_autoptr(GError) error = NULL;
  double off[2] = { G_MAXDOUBLE, G_MAXDOUBLE };
  double none[2] = { G_MAXDOUBLE, G_MAXDOUBLE };
  double incr_on = G_MAXDOUBLE, get_on = G_MAXDOUBLE, event_ns = G_MAXDOUBLE;
  guint64 bytes;

  print_section ("trace recorder: tracing off vs no recorder, the cost of an event "
                 "(CPU time; a round trip's: client + server)");
  check_ok (mp_manager_start (manager, &error), error);
  proxy = mp_manager_value (manager, 'q', NULL, &error);
  check_ok (proxy != NULL, error);

  for (gint64 r = 0; r < repeats; r++)
    for (TwinRow row = TWIN_INCREMENT; row <= TWIN_MANAGER_GET; row++)
      {
        double ns = run_row_once (row, value, proxy, mp_manager_get_server_pid (manager));

        off[row] = MIN (off[row], ns);
        if (twin != NULL)
          {
            ns = run_twin (twin, row);
            none[row] = MIN (none[row], ns);
          }
      }
  if (twin != NULL)
    {
      print_row ("trace_off_value_locked_incr_1p", "MpValue locked += 1, 1 process, tracing off",
                 "no recorder", off[TWIN_INCREMENT], none[TWIN_INCREMENT], 1.03);
      print_row ("trace_off_manager_value_get_1c", "manager Value get, 1 client, tracing off",
                 "no recorder", off[TWIN_MANAGER_GET], none[TWIN_MANAGER_GET], 1.03);
    }
  else
    print_plain_row ("tracing off vs no recorder: no mp-bench-notrace (sanitizer or coverage build)", "-");

  /* tracing on: a locked increment writes 4 events (wait begin and end,
   * hold begin and end); a manager get 3 in the client, 2 in the server */
  start_tracing ();
  check_ok (mp_manager_start (traced_manager, &error), error);
  traced_proxy = mp_manager_value (traced_manager, 'q', NULL, &error);
  check_ok (traced_proxy != NULL, error);
  for (gint64 r = 0; r < repeats; r++)
    {
      double ns = time_loop_cpu_once (trace_emit_loop, NULL, iterations);

      event_ns = MIN (event_ns, ns);
      ns = time_loop_cpu_once (mp_locked_increment_loop, value, iterations);
      incr_on = MIN (incr_on, ns);
      ns = time_round_trips_cpu_once (traced_proxy, mp_manager_get_server_pid (traced_manager), round_trips);
      get_on = MIN (get_on, ns);
    }
  g_clear_object (&traced_proxy);
  check_ok (mp_manager_shutdown (traced_manager, &error), error);
  bytes = mp_trace_discard ();

  print_row ("trace_event", "one trace event (value.write), tracing on", "200 ns target",
             event_ns, 200, 1.0);
  print_row ("trace_on_value_locked_incr_1p", "MpValue locked += 1 (4 events), tracing on", "tracing off",
             incr_on, off[TWIN_INCREMENT], 0);
  print_row ("trace_event_in_incr", "one event of a traced locked += 1", "200 ns target",
             (incr_on - off[TWIN_INCREMENT]) / 4, 200, 1.0);
  print_row ("trace_on_manager_value_get_1c", "manager Value get, 1 client (5 events), tracing on",
             "tracing off", get_on, off[TWIN_MANAGER_GET], 1.05);
  {
    char a[32];

    g_snprintf (a, sizeof a, "%.1f MB", bytes / 1e6);
    print_plain_row ("trace files written by the traced rows (then removed)", a);
  }
}

int
main (int argc, char **argv)
{
  gboolean quick = FALSE;
  gboolean no_trace = FALSE;
  gboolean trace_only = FALSE;
  gboolean manager_only = FALSE;
  gboolean pool_only = FALSE;
  g_autofree char *pin_text = NULL;
  g_autofree char *twin_row = NULL;
  GOptionEntry entries[] = {
    { "pin", 0, 0, G_OPTION_ARG_STRING, &pin_text,
      "Where two-process rows run: same (one CPU, the default), split (two CPUs) or none", "same|split|none" },
    { "iterations", 'n', 0, G_OPTION_ARG_INT64, &iterations, "Operations per timed loop", "N" },
    { "starts", 's', 0, G_OPTION_ARG_INT64, &starts, "Process starts per start+join row", "N" },
    { "repeats", 'r', 0, G_OPTION_ARG_INT64, &repeats, "Runs of each measurement; the best one counts", "N" },
    { "round-trips", 0, 0, G_OPTION_ARG_INT64, &round_trips, "Operations per manager or ping-pong loop", "N" },
    { "pool-tasks", 0, 0, G_OPTION_ARG_INT64, &pool_tasks, "Tasks per pool measurement", "N" },
    { "tsv", 0, 0, G_OPTION_ARG_NONE, &tsv, "Print key<TAB>mpshare<TAB>floor<TAB>unit rows for compare.py (the table goes to stderr)", NULL },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "A few iterations only (smoke test, figures meaningless)", NULL },
    { "no-trace-rows", 0, 0, G_OPTION_ARG_NONE, &no_trace, "Leave out the trace recorder's rows", NULL },
    { "trace-rows-only", 0, 0, G_OPTION_ARG_NONE, &trace_only, "Only the trace recorder's rows", NULL },
    { "manager-rows-only", 0, 0, G_OPTION_ARG_NONE, &manager_only, "Only the manager's rows (with their floors)", NULL },
    { "pool-rows-only", 0, 0, G_OPTION_ARG_NONE, &pool_only, "Only the pool's rows", NULL },
    { "twin", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &twin_row, "Run one loop, print ns per operation (mp-bench-notrace)", "ROW" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  Floor *f;

  /* the floor of a spawn row: an exec of this binary that does nothing */
  if (argc == 2 && strcmp (argv[1], "--exit-now") == 0)
    return 0;

  mp_main_guard (argc, argv);

  context = g_option_context_new ("- what sharing state between processes costs");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      (pin_text != NULL && !parse_pin (pin_text, &error)))
    {
      g_printerr ("mp-bench: %s\n", error->message);
      return 2;
    }
  if (quick)
    {
      iterations = 2000;
      starts = 3;
      repeats = 1;
      round_trips = 200;
      pool_tasks = 200;
    }
  if (iterations < 1 || starts < 1 || repeats < 1 || round_trips < 1 || pool_tasks < 1)
    {
      g_printerr ("mp-bench: --iterations, --starts, --repeats, --round-trips and"
                  " --pool-tasks must be at least 1\n");
      return 2;
    }
  if (tsv)
    g_set_print_handler (print_to_stderr);

  pthread_atfork (steer_before_fork, steer_after_fork, NULL);
  pin_to_cpu (0);
  if (twin_row != NULL)
    return twin_main (twin_row);

  g_print ("mp-bench: %" G_GINT64_FORMAT " iterations a loop, %" G_GINT64_FORMAT
           " starts a start+join row, best of %" G_GINT64_FORMAT
           ", two-process rows on %s\n\n", iterations, starts, repeats, pin_name ());
  print_header ();
  if (trace_only)
    {
      bench_trace ();
      return 0;
    }
  if (pool_only)
    {
      bench_pool ();
      return 0;
    }
  if (!manager_only)
    {
      f = floor_new ();
      bench_locked_increment (f);
      bench_array_elements (f);
      floor_free (f);
      bench_process_start ();
    }
  bench_manager ();
  if (!manager_only)
    bench_pool ();
  if (!no_trace && !manager_only)
    bench_trace ();
  g_print ("\n%u target%s missed%s\n", targets_missed, targets_missed == 1 ? "" : "s",
           quick ? " (--quick: figures are not meaningful)" : "");
  if (tsv && tsv_rows != NULL)
    {
      fputs (tsv_rows->str, stdout);
      fflush (stdout);
    }
  return 0;
}
