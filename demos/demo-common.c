/* demo-common.c — the shared frame of the mpshare demos
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "demo-common.h"
#include "demo-text.h"

/* Before main(): a spawned child is diverted by mp_main_guard(), first
 * thing in main(), and what it prints must fit 80 columns too. The locale
 * makes --help print its text as the terminal expects; numbers stay in
 * the C locale, as the docs quote them. */
static void __attribute__ ((constructor))
demo_text_setup (void)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  demo_text_install ();
}

struct _Demo {
  const DemoInfo *info;
  MpStartMethod   method;
  guint           workers;
  guint           step;
  char           *reason;   /* why the running half did not succeed */
  gboolean        timeline;     /* --timeline */
  char           *trace_path;   /* --trace FILE.json */
  gboolean        recording;
  GPtrArray      *recorded;     /* JsonNode: each stretch recorded, in order */
  GArray         *offsets;      /* double: µs from the first stretch's start */
  gint64          first_begin;  /* when the first stretch began, monotonic µs */
  gint64          begin;        /* when this stretch began */
  gboolean        shown;        /* a timeline was shown in this half */
};

/* --verbose: GLib's internals too (classes private to GLib, the error
 * domain's quark) */
static gboolean verbose;

/* What Python says for the pitfall an error reproduces, shown first in an
 * error box for the student who knows Python (its words as in 3.11;
 * "..." where they name the object). */
static const struct {
  const char *pitfall;
  const char *words;
} python_terms[] = {
  { "inheritance-only", "RuntimeError: ... objects should only be shared between "
                        "processes through inheritance" },
  { "closed-manager", "AttributeError: 'ForkAwareLocal' object has no attribute "
                      "'connection' (or BrokenPipeError, EOFError)" },
  { "unserializable-handle", "TypeError: cannot pickle '...' object" },
  { "manager-as-argument", "TypeError: Pickling an AuthenticationString object is "
                           "disallowed for security reasons" },
  { "missing-main-guard", "RuntimeError: An attempt has been made to start a new "
                          "process before the current process has finished its "
                          "bootstrapping phase." },
  { "lock-false", "AttributeError: ... object has no attribute 'get_lock'" },
  { "local-function", "AttributeError: Can't pickle local object '...'" },
  { "broken-pool", "concurrent.futures.process.BrokenProcessPool: A process in the "
                   "process pool was terminated abruptly while the future was "
                   "running or pending." },
};

/* The longest swimlane a demo prints; `mpshare trace show` prints all. */
#define DEMO_TIMELINE_ROWS 60

#define DEMO_MAX_WORKERS 64

MpStartMethod
demo_get_start_method (Demo *demo)
{
  return demo->method;
}

/* The method whose children are no copy of the parent: the demo's,
 * unless that is fork, then forkserver. For the pitfalls that only such
 * children show. */
MpStartMethod
demo_get_start_method_without_copy (Demo *demo)
{
  return demo->method == MP_START_FORK ? MP_START_FORKSERVER : demo->method;
}

guint
demo_get_workers (Demo *demo)
{
  return demo->workers;
}

void
demo_step (Demo       *demo,
           const char *format,
           ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("\nStep %u. %s\n", ++demo->step, text);
}

void
demo_say (const char *format,
          ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("   %s\n", text);
}

/**
 * demo_print_error:
 * @error: the error to show
 *
 * Prints @error the way every demo shows a reproduced failure: its domain,
 * its code with the code's stable name, and its message.
 */
void
demo_print_error (const GError *error)
{
  const char *pitfall;

  g_return_if_fail (error != NULL);

  pitfall = error->domain == MP_ERROR ? mp_error_pitfall_id ((MpError) error->code) : NULL;
  for (gsize i = 0; pitfall != NULL && i < G_N_ELEMENTS (python_terms); i++)
    if (g_str_equal (python_terms[i].pitfall, pitfall))
      g_print ("   | Python : %s\n", python_terms[i].words);
  if (error->domain == MP_ERROR)
    g_print ("   | code   : %s (%d)\n",
             mp_error_code_name ((MpError) error->code), error->code);
  else
    g_print ("   | code   : %d\n", error->code);
  /* GLib's own names (a class private to GLib, the error domain's
   * quark): for those who debug mpshare */
  if (verbose)
    {
      g_print ("   | message: %s\n", error->message);
      g_print ("   | domain : %s\n", g_quark_to_string (error->domain));
    }
  else
    {
      g_autofree char *message = demo_text_public_types (error->message);

      g_print ("   | message: %s\n", message);
    }
}

/**
 * demo_reject:
 * @demo: the running demo
 * @format: why the half did not succeed, in plain words
 *
 * Records why the running half failed (the last reason wins) and prints it.
 *
 * Returns: %FALSE, so a half can `return demo_reject (...)`.
 */
gboolean
demo_reject (Demo       *demo,
             const char *format,
             ...)
{
  va_list args;

  g_free (demo->reason);
  va_start (args, format);
  demo->reason = g_strdup_vprintf (format, args);
  va_end (args);
  g_print ("   !! %s\n", demo->reason);
  return FALSE;
}

/**
 * demo_reject_error:
 * @demo: the running demo
 * @error: what went wrong
 * @format: what could not be done, in plain words
 *
 * For a half that could not run at all: prints @error like any other
 * (demo_print_error()) and rejects the half with "@format: message".
 *
 * Returns: %FALSE, so a half can `return demo_reject_error (...)`.
 */
gboolean
demo_reject_error (Demo         *demo,
                   const GError *error,
                   const char   *format,
                   ...)
{
  va_list args;
  g_autofree char *what = NULL;
  g_autofree char *message = NULL;

  g_return_val_if_fail (error != NULL, FALSE);

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  message = verbose ? g_strdup (error->message) : demo_text_public_types (error->message);
  demo_print_error (error);
  return demo_reject (demo, "%s: %s", what, message);
}

char *
demo_format_ints (const gint64 *values,
                  gsize         n)
{
  GString *text = g_string_new ("[");

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (text, "%s%" G_GINT64_FORMAT, i > 0 ? ", " : "",
                            values[i]);
  g_string_append_c (text, ']');
  return g_string_free (text, FALSE);
}

/* Integers cross the boundary as INT64, but accept any integer kind. */
gboolean
demo_value_get_int (const GValue *value,
                    gint64       *out)
{
  if (value == NULL || !G_IS_VALUE (value))
    return FALSE;
  switch (G_VALUE_TYPE (value))
    {
    case G_TYPE_INT64:
      *out = g_value_get_int64 (value);
      return TRUE;
    case G_TYPE_INT:
      *out = g_value_get_int (value);
      return TRUE;
    case G_TYPE_LONG:
      *out = g_value_get_long (value);
      return TRUE;
    case G_TYPE_UINT64:
      *out = (gint64) g_value_get_uint64 (value);
      return TRUE;
    case G_TYPE_UINT:
      *out = g_value_get_uint (value);
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
demo_error_is_mp (const GError *error,
                  MpError       code)
{
  return error != NULL && g_error_matches (error, MP_ERROR, (int) code);
}

MpManager *
demo_start_manager (GError **error)
{
  g_autoptr(MpManager) manager = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  manager = mp_manager_new (NULL, NULL);
  return mp_manager_start (manager, error) ? g_steal_pointer (&manager) : NULL;
}

/* ---- running processes ------------------------------------------------- */

/* A backstop only: the demos' processes end in well under a second. */
#define DEMO_JOIN_BACKSTOP (180 * G_USEC_PER_SEC)

/**
 * demo_run_processes:
 * @demo: the running demo
 * @task: the task every process runs
 * @args_list: (element-type MpArgs): one process per entry, with its arguments
 * @start_line: (nullable): a barrier the processes wait at before they begin
 * @error: return location for a #GError
 *
 * Starts one process per argument list with the demo's start method and
 * joins every one that started. When one cannot start, the rest are not
 * started and @start_line is aborted, so the ones already waiting there
 * do not wait for a party that never comes.
 *
 * Returns: %TRUE when every process started and exited with 0.
 */
gboolean
demo_run_processes (Demo        *demo,
                    const char  *task,
                    GPtrArray   *args_list,
                    MpBarrier   *start_line,
                    GError     **error)
{
  g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok = TRUE;

  g_return_val_if_fail (task != NULL && args_list != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < args_list->len; i++)
    {
      g_autoptr(MpProcess) process = mp_process_new (task, args_list->pdata[i]);

      mp_process_set_start_method (process, demo->method);
      if (!mp_process_start (process, error))
        {
          ok = FALSE;
          if (start_line != NULL)
            mp_barrier_abort (start_line);
          break;
        }
      g_ptr_array_add (processes, g_steal_pointer (&process));
    }
  for (guint i = 0; i < processes->len; i++)
    {
      MpProcess *process = processes->pdata[i];
      g_autoptr(GError) join_error = NULL;
      int exitcode = -1;

      /* one still running at the backstop is killed, and reaped all the same */
      if (!mp_process_join (process, DEMO_JOIN_BACKSTOP, &join_error))
        {
          mp_process_kill (process, NULL);
          mp_process_join (process, -1, NULL);
        }
      mp_process_get_exitcode (process, &exitcode);
      if (ok && exitcode != 0)
        {
          ok = FALSE;
          mp_set_error (error, MP_ERROR_PROCESS_FAILED,
                        "process %u (pid %d) exited with %d%s%s", i,
                        (int) mp_process_get_pid (process), exitcode,
                        join_error != NULL ? ": " : "",
                        join_error != NULL ? join_error->message : "");
        }
    }
  return ok;
}

/* ---- measuring a race ---------------------------------------------------- */

#define DEMO_RACE_ATTEMPTS 3   /* the first run, then two with 10x more */

/**
 * demo_race_until_lost:
 * @demo: the running demo
 * @race: how to run the race and how to speak of its result
 * @n: additions per process in the first run
 * @user_data: passed to @race's run
 *
 * Runs the race and prints the final value, the value expected and the
 * updates lost (measured). When a run loses nothing, it is run again
 * with ten times the work, at most %DEMO_RACE_ATTEMPTS runs and
 * %DEMO_RACE_MAX_ITERATIONS additions per process.
 *
 * Returns: %TRUE when a run lost updates; otherwise %FALSE, the half
 *   rejected with the reason.
 */
/**
 * demo_race_iterations:
 * @demo: the running demo
 * @n: the additions per process asked for
 * @recorded_max: the most while recording
 *
 * Returns: @n, or @recorded_max when the demo records and @n is more
 *   (said in the output).
 */
gint64
demo_race_iterations (Demo   *demo,
                      gint64  n,
                      gint64  recorded_max)
{
  if (!demo->recording || n <= recorded_max)
    return n;
  demo_say ("(recording the trace: %" G_GINT64_FORMAT " additions per process "
            "instead of %" G_GINT64_FORMAT ", so the trace stays small)",
            recorded_max, n);
  return recorded_max;
}

gboolean
demo_race_until_lost (Demo           *demo,
                      const DemoRace *race,
                      gint64          n,
                      gpointer        user_data)
{
  g_return_val_if_fail (race != NULL && race->run != NULL, FALSE);

  n = demo_race_iterations (demo, n, race->recorded_max > 0 ? race->recorded_max
                                                         : DEMO_RACE_MAX_RECORDED);
  for (guint attempt = 1; attempt <= DEMO_RACE_ATTEMPTS; attempt++)
    {
      gint64 expected = n * demo->workers, final, lost;

      if ((final = race->run (demo, n, user_data)) < 0)
        return FALSE;
      lost = expected - final;
      demo_say ("final %s: %" G_GINT64_FORMAT " (expected %" G_GINT64_FORMAT ")",
                race->counted, final, expected);
      demo_say ("updates lost: %" G_GINT64_FORMAT " (measured)", lost);
      if (lost > 0)
        {
          demo_say ("=> %.2f%% of the updates vanished, %s",
                    100.0 * lost / expected, race->silently);
          return TRUE;
        }
      if (attempt == DEMO_RACE_ATTEMPTS || n * 10 > DEMO_RACE_MAX_ITERATIONS)
        break;
      /* while recording, the same short run again: a chance, not a trace
       * ten times the size */
      if (!demo->recording)
        n *= 10;
      demo_say ("this run happened to lose nothing (the processes rarely "
                "overlapped); trying again with %" G_GINT64_FORMAT " additions "
                "each", n);
    }
  return demo_reject (demo, "no update was lost in %d runs: the processes never "
                      "overlapped on this machine%s%s", DEMO_RACE_ATTEMPTS,
                      race->hint != NULL ? "; " : "",
                      race->hint != NULL ? race->hint : "");
}

/* ---- the gate ----------------------------------------------------------- */

struct _DemoGate {
  char *dir;
  char *path;
  int   fd;     /* held open once the gate is open: see demo_gate_open() */
};

#define DEMO_GATE_TOKENS 256

DemoGate *
demo_gate_new (GError **error)
{
  g_autoptr(DemoGate) gate = g_new0 (DemoGate, 1);

  gate->fd = -1;
  gate->dir = g_dir_make_tmp ("mpshare-gate-XXXXXX", error);
  if (gate->dir == NULL)
    return NULL;
  gate->path = g_build_filename (gate->dir, "gate", NULL);
  if (mkfifo (gate->path, 0600) != 0)
    {
      int saved_errno = errno;
      mp_set_error_from_errno (error, saved_errno, "creating the gate %s",
                               gate->path);
      return NULL;
    }
  return g_steal_pointer (&gate);
}

const char *
demo_gate_get_path (DemoGate *gate)
{
  return gate->path;
}

/* Opening read-write never blocks on Linux, and holding the fd keeps the
 * tokens in the FIFO until every waiter (even a late one) took its own. */
gboolean
demo_gate_open (DemoGate *gate,
                GError  **error)
{
  char tokens[DEMO_GATE_TOKENS];

  if (gate->fd >= 0)
    return TRUE;
  gate->fd = open (gate->path, O_RDWR | O_CLOEXEC);
  if (gate->fd < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno, "opening the gate %s",
                                      gate->path);
    }
  memset (tokens, 'g', sizeof tokens);
  if (write (gate->fd, tokens, sizeof tokens) != (gssize) sizeof tokens)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno, "opening the gate %s",
                                      gate->path);
    }
  return TRUE;
}

void
demo_gate_free (DemoGate *gate)
{
  if (gate == NULL)
    return;
  if (gate->fd >= 0)
    close (gate->fd);
  if (gate->path != NULL)
    g_unlink (gate->path);
  if (gate->dir != NULL)
    g_rmdir (gate->dir);
  g_free (gate->path);
  g_free (gate->dir);
  g_free (gate);
}

/**
 * demo_gate_wait:
 * @path: the gate's FIFO
 * @timeout_ms: a backstop; the gate is normally opened long before
 * @error: return location for a #GError
 *
 * Blocks until the gate at @path is open and takes one token from it.
 * Runs inside tasks, in the worker processes.
 */
gboolean
demo_gate_wait (const char *path,
                guint       timeout_ms,
                GError    **error)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  int fd;

  /* Non-blocking open returns at once; poll() then waits for a token. A
   * FIFO never written to reports no hang-up, so this does not spin. */
  fd = open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno, "opening the gate %s",
                                      path);
    }
  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      char token;
      int n;

      if (left_ms <= 0)
        break;
      n = poll (&pfd, 1, (int) MIN (left_ms, G_MAXINT));
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          close (fd);
          return mp_set_error_from_errno (error, saved_errno,
                                          "waiting at the gate %s", path);
        }
      if (n == 0)
        break;
      if (read (fd, &token, 1) == 1)
        {
          close (fd);
          return TRUE;
        }
      if (errno != EAGAIN && errno != EINTR)
        {
          int saved_errno = errno;
          close (fd);
          return mp_set_error_from_errno (error, saved_errno,
                                          "waiting at the gate %s", path);
        }
      if (pfd.revents & POLLHUP)
        {
          close (fd);
          mp_set_error (error, MP_ERROR_FAILED,
                        "the gate %s was closed without being opened", path);
          return FALSE;
        }
    }
  close (fd);
  mp_set_error (error, MP_ERROR_TIMEOUT,
                "nobody opened the gate %s within %u ms", path, timeout_ms);
  return FALSE;
}

/* ---- running this binary again ------------------------------------------ */

typedef struct {
  gboolean done;
  gboolean timed_out;
  GError  *error;
} SelfRun;

static void
self_run_waited (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SelfRun *run = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, &run->error);
  run->done = TRUE;
}

static gboolean
self_run_timed_out (gpointer user_data)
{
  SelfRun *run = user_data;

  run->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/**
 * demo_run_self:
 * @args: the arguments after the program name, %NULL-terminated
 * @timeout_s: a backstop; the child is killed when it runs out
 * @exit_status: (out): the exit status, or minus the signal that killed it
 * @error: return location for a #GError
 *
 * Runs this very binary as a plain new program with @args (its output goes
 * to ours) and waits for it.
 */
gboolean
demo_run_self (const char * const *args,
               guint               timeout_s,
               int                *exit_status,
               GError            **error)
{
  g_autofree char *self = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  GSource *timeout;
  SelfRun run = { FALSE, FALSE, NULL };
  gboolean killed = FALSE;

  self = g_file_read_link ("/proc/self/exe", error);
  if (self == NULL)
    return FALSE;
  g_ptr_array_add (argv, self);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  fflush (stdout);
  fflush (stderr);
  child = g_subprocess_newv ((const char * const *) argv->pdata,
                             G_SUBPROCESS_FLAGS_NONE, error);
  if (child == NULL)
    return FALSE;

  g_main_context_push_thread_default (context);
  g_subprocess_wait_async (child, NULL, self_run_waited, &run);
  timeout = g_timeout_source_new_seconds (timeout_s);
  g_source_set_callback (timeout, self_run_timed_out, &run, NULL);
  g_source_attach (timeout, context);
  while (!run.done)
    {
      g_main_context_iteration (context, TRUE);
      if (run.timed_out && !killed)
        {
          g_subprocess_force_exit (child);
          killed = TRUE;
        }
    }
  g_source_destroy (timeout);
  g_source_unref (timeout);
  g_main_context_pop_thread_default (context);

  if (killed)
    {
      g_clear_error (&run.error);
      mp_set_error (error, MP_ERROR_TIMEOUT,
                    "%s did not finish within %u s and was killed", self,
                    timeout_s);
      return FALSE;
    }
  if (run.error != NULL)
    {
      g_propagate_error (error, run.error);
      return FALSE;
    }
  if (g_subprocess_get_if_exited (child))
    *exit_status = g_subprocess_get_exit_status (child);
  else
    *exit_status = -g_subprocess_get_term_sig (child);
  return TRUE;
}

/* ---- recording ------------------------------------------------------------ */

static gboolean
recording_wanted (Demo *demo)
{
  const DemoInfo *info = demo->info;

  return demo->timeline || demo->trace_path != NULL ||
         (info->tells_a_story && (info->untold_if == NULL || !*info->untold_if));
}

gboolean
demo_is_recording (Demo *demo)
{
  return demo->recording;
}

/* A demo that cannot record still teaches: it says so and goes on. */
static void
record_begin (Demo *demo)
{
  g_autoptr(GError) error = NULL;

  if (demo->recording || !recording_wanted (demo))
    return;
  /* the recorder counts from its start: this says where each stretch
   * sits on one clock when --trace joins them */
  demo->begin = g_get_monotonic_time ();
  if (demo->recorded->len == 0)
    demo->first_begin = demo->begin;
  if (!mp_trace_start (NULL, &error))
    {
      g_printerr ("%s: cannot record a trace: %s\n", demo->info->name, error->message);
      return;
    }
  demo->recording = TRUE;
}

/* Stops recording; the stretch is kept for --trace and returned. */
static JsonNode *
record_end (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  JsonNode *stretch;

  if (!demo->recording)
    return NULL;
  demo->recording = FALSE;
  /* a forkserver started in this half ends with it, its exit recorded;
   * the next half that needs one starts its own */
  if (!mp_forkserver_stop (&error))
    {
      g_printerr ("%s: the forkserver ended badly: %s\n", demo->info->name, error->message);
      g_clear_error (&error);
    }
  stretch = mp_trace_stop (&error);
  if (stretch == NULL)
    {
      g_printerr ("%s: the trace was lost: %s\n", demo->info->name, error->message);
      return NULL;
    }
  g_ptr_array_add (demo->recorded, stretch);
  g_array_append_val (demo->offsets, (double) { (double) (demo->begin - demo->first_begin) });
  return stretch;
}

static void
print_timeline (Demo       *demo,
                JsonNode   *stretch,
                const char *what)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = mp_timeline_render (stretch, DEMO_TIMELINE_ROWS, &error);

  g_print ("\n--- Timeline: %s (recorded) ---\n", what);
  if (text == NULL)
    g_print ("   (cannot be drawn: %s)\n", error->message);
  else
    g_print ("%s", text);
}

/**
 * demo_show_timeline:
 * @demo: the running demo
 * @what: what the timeline shows, e.g. "the broken half"
 *
 * Prints the swimlane of what the processes did since the half began, or
 * since the last timeline shown, and records on. Only processes joined by
 * now have all their events in it; one still running stops reporting.
 * Does nothing when the demo does not record.
 */
void
demo_show_timeline (Demo       *demo,
                    const char *what)
{
  JsonNode *stretch;

  g_return_if_fail (what != NULL);

  if ((stretch = record_end (demo)) == NULL)
    return;
  print_timeline (demo, stretch, what);
  demo->shown = TRUE;
  record_begin (demo);
}

static gboolean
has_events (JsonNode *stretch)
{
  JsonArray *events = json_object_get_array_member (json_node_get_object (stretch),
                                                    "traceEvents");

  for (guint i = 0; i < json_array_get_length (events); i++)
    if (!g_str_equal (json_object_get_string_member_with_default (
                        json_array_get_object_element (events, i), "ph", "M"), "M"))
      return TRUE;
  return FALSE;
}

/* Every stretch recorded, as one document: one track per process. */
static JsonNode *
recorded_document (Demo *demo)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GHashTable) named = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "displayTimeUnit");
  json_builder_add_string_value (builder, "ns");
  json_builder_set_member_name (builder, "traceEvents");
  json_builder_begin_array (builder);
  for (guint s = 0; s < demo->recorded->len; s++)
    {
      JsonObject *root = json_node_get_object (demo->recorded->pdata[s]);
      JsonArray *events = json_object_get_array_member (root, "traceEvents");
      double offset = g_array_index (demo->offsets, double, s);

      for (guint i = 0; i < json_array_get_length (events); i++)
        {
          JsonNode *event = json_node_copy (json_array_get_element (events, i));
          JsonObject *object = json_node_get_object (event);
          const char *ph = json_object_get_string_member_with_default (object, "ph", "");

          /* the parent is in every stretch: name its track once */
          if (g_str_equal (ph, "M"))
            {
              g_autofree char *key = json_to_string (event, FALSE);

              if (!g_hash_table_add (named, g_steal_pointer (&key)))
                {
                  json_node_unref (event);
                  continue;
                }
            }
          else if (json_object_has_member (object, "ts"))
            json_object_set_double_member (object, "ts",
                                           json_object_get_double_member (object, "ts") + offset);
          json_builder_add_value (builder, event);
        }
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
write_recorded (Demo *demo)
{
  g_autoptr(JsonNode) document = recorded_document (demo);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GError) error = NULL;

  json_generator_set_root (generator, document);
  if (!json_generator_to_file (generator, demo->trace_path, &error))
    {
      g_printerr ("%s: writing the trace to %s: %s\n", demo->info->name,
                  demo->trace_path, error->message);
      return FALSE;
    }
  /* the path on lines of its own: it may be long */
  g_print ("\nTrace written to\n  %s\nOpen it in https://ui.perfetto.dev, or "
           "run: mpshare trace show FILE\n", demo->trace_path);
  return TRUE;
}

/* ---- the frame ----------------------------------------------------------- */

static gboolean
run_half (Demo         *demo,
          const char   *label,
          DemoHalfFunc  half,
          char        **verdict)
{
  gboolean ok;

  g_print ("\n=== The %s half ===\n", label);
  g_clear_pointer (&demo->reason, g_free);
  demo->step = 0;
  demo->shown = FALSE;
  record_begin (demo);
  ok = half (demo);
  if (demo->timeline)
    {
      g_autofree char *what = g_strdup_printf ("the %s half", label);
      JsonNode *stretch = record_end (demo);

      if (stretch != NULL && demo->shown && !has_events (stretch))
        g_print ("\n--- Timeline: %s (recorded) ---\n"
                 "(all of it is in the timeline above)\n", what);
      else if (stretch != NULL)
        print_timeline (demo, stretch, what);
    }
  else
    record_end (demo);
  if (ok)
    *verdict = g_strdup_printf ("%s: %s", label,
                                half == demo->info->broken ? "reproduced"
                                                           : "verified");
  else
    *verdict = g_strdup_printf ("%s: NOT %s (%s)", label,
                                half == demo->info->broken ? "reproduced"
                                                           : "verified",
                                demo->reason != NULL ? demo->reason
                                                     : "no reason recorded");
  /* a verdict without its reason would be a bug in the demo itself */
  g_warn_if_fail (ok || demo->reason != NULL);
  return ok;
}

/* Said before the run, not after it: the trace goes into a directory
 * that exists, and never over a directory. Returns why not, or NULL. */
static char *
trace_path_refused (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (!g_str_has_suffix (path, ".json") || g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_strdup_printf ("--trace wants a file name ending in .json, not \"%s\"", path);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_strdup_printf ("--trace %s: the directory %s does not exist", path, dir);
  return NULL;
}

/* Bad options: what is wrong, the usage line, exit status 2. */
static int
usage_error (const DemoInfo *info,
             const char     *why)
{
  g_printerr ("%s: %s\n", info->name, why);
  g_printerr ("Usage: %s [--broken | --fixed] [OPTION...]\n"
              "  [--start-method fork|spawn|forkserver]\n"
              "(see %s --help)\n", info->name, info->name);
  return 2;
}

/**
 * demo_run:
 * @info: the lesson
 * @argc: from main()
 * @argv: from main()
 *
 * Parses the common options, runs the halves asked for and prints one
 * verdict line per half.
 *
 * Returns: the exit status: 0 when every half succeeded, 1 when one did
 *   not, 2 for bad options.
 */
int
demo_run (const DemoInfo *info,
          int             argc,
          char          **argv)
{
  gboolean want_broken = FALSE, want_fixed = FALSE;
  g_autofree char *method_text = NULL;
  gint workers = (gint) info->default_workers;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *broken_verdict = NULL, *fixed_verdict = NULL;
  gboolean ok = TRUE;
  g_autoptr(GPtrArray) recorded = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);
  g_autoptr(GArray) offsets = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *trace_path = NULL;
  g_autofree char *refused = NULL;
  Demo demo = { info, MP_START_FORK, 0, 0, NULL, FALSE, NULL, FALSE, recorded, offsets, 0, 0, FALSE };
  GOptionEntry entries[] = {
    { "broken", 0, 0, G_OPTION_ARG_NONE, &want_broken,
      "Run only the half that reproduces the pitfall", NULL },
    { "fixed", 0, 0, G_OPTION_ARG_NONE, &want_fixed,
      "Run only the half that shows the fix", NULL },
    { "start-method", 0, 0, G_OPTION_ARG_STRING, &method_text,
      "How children start: fork (default), spawn or forkserver", "METHOD" },
    { "timeline", 0, 0, G_OPTION_ARG_NONE, &demo.timeline,
      "After each half, draw what the processes did (recorded)", NULL },
    { "trace", 0, 0, G_OPTION_ARG_FILENAME, &trace_path,
      "Write the run's trace as Chrome trace JSON (Perfetto opens it)",
      "FILE.json" },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose,
      "Also show GLib's internals (its classes' names, the error domain)", NULL },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers,
      "Number of pool workers", "N" },
    G_OPTION_ENTRY_NULL
  };

  /* one line at a time, so output of parent and children never interleaves
   * mid-line and nothing sits in a buffer that fork would duplicate */
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (!info->uses_workers)
    entries[6] = (GOptionEntry) G_OPTION_ENTRY_NULL;
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, info->summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (info->extra_options != NULL)
    g_option_context_add_main_entries (context, info->extra_options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (info, error->message);
  /* an argument the demo would ignore is a typo it must not hide */
  if (argc > 1)
    {
      g_autofree char *why = g_strdup_printf ("unexpected argument '%s'", argv[1]);
      return usage_error (info, why);
    }
  if (method_text == NULL)
    demo.method = mp_get_start_method ();
  else if (!mp_start_method_from_string (method_text, &demo.method, &error))
    {
      g_printerr ("%s: %s\n", info->name, error->message);
      return 2;
    }
  if (demo.method == MP_START_DEFAULT)
    demo.method = MP_START_FORK;
  if (info->uses_workers && (workers < 1 || workers > DEMO_MAX_WORKERS))
    {
      g_printerr ("%s: --workers must be between 1 and %d\n", info->name,
                  DEMO_MAX_WORKERS);
      return 2;
    }
  demo.workers = (guint) workers;
  if (trace_path != NULL && (refused = trace_path_refused (trace_path)) != NULL)
    return usage_error (info, refused);
  demo.trace_path = trace_path;
  if (!want_broken && !want_fixed)
    want_broken = want_fixed = TRUE;
  /* set once, as a Python program would, before the first process */
  if (method_text != NULL && !mp_set_start_method (demo.method, FALSE, &error))
    {
      g_printerr ("%s: %s\n", info->name, error->message);
      return 2;
    }

  g_print ("mpshare demo: %s (start method: %s", info->name,
           mp_start_method_to_string (demo.method));
  if (info->uses_workers)
    g_print (", workers: %u", demo.workers);
  g_print (")\n");

  if (want_broken)
    ok &= run_half (&demo, "broken", info->broken, &broken_verdict);
  if (want_fixed)
    ok &= run_half (&demo, "fixed", info->fixed, &fixed_verdict);

  g_print ("\n=== Verdict ===\n");
  if (broken_verdict != NULL)
    g_print ("%s\n", broken_verdict);
  if (fixed_verdict != NULL)
    g_print ("%s\n", fixed_verdict);
  g_free (demo.reason);
  if (demo.trace_path != NULL && !write_recorded (&demo))
    return 1;
  return ok ? 0 : 1;
}
