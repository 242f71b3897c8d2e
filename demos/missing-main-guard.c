/* missing-main-guard.c — spawn runs main() again: guard it
 *
 * The lesson runs a small "script" twice as a separate program: once with
 * main() left unguarded, once with mp_main_guard() first. The script loads
 * a dataset (a side effect: one line in a log file) and computes squares in
 * child processes started with spawn. Everything the verdicts rest on is
 * read back from that log: who loaded the dataset, which start failed and
 * how, which squares came back.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "demo-common.h"

#define SCRIPT_WITHOUT_GUARD "--script-without-guard"
#define SCRIPT_WITH_GUARD    "--script-with-guard"
#define SCRIPT_NUMBERS       6
#define SCRIPT_TIMEOUT_S     120
#define CHILD_JOIN_TIMEOUT   (60 * G_USEC_PER_SEC)
/* A safety net, not part of the lesson: if the library ever let a re-run
 * child start processes, each would re-run the script again, forever. */
#define SCRIPT_DEPTH_ENV     "MPSHARE_DEMO_SCRIPT_DEPTH"

static const char summary[] =
  "With the spawn start method a child process is a fresh run of the program:\n"
  "it starts main() again from the top. If main() does not begin with\n"
  "mp_main_guard (argc, argv), the child repeats the program's side effects\n"
  "(here: loading a dataset) and its own attempt to start a process fails with\n"
  "the bootstrapping error. Fix: call mp_main_guard() first thing in main().";

/* ---- the script: the program a student would write ---------------------- */

/* One event per line, tab-separated, appended in a single write so lines
 * from several processes never mix. */
static void
log_event (const char *log_path,
           const char *format,
           ...)
{
  va_list args;
  g_autofree char *line = NULL;
  int fd;

  va_start (args, format);
  line = g_strdup_vprintf (format, args);
  va_end (args);
  fd = open (log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 || write (fd, line, strlen (line)) != (gssize) strlen (line))
    g_printerr ("cannot write to %s: %s\n", log_path, g_strerror (errno));
  if (fd >= 0)
    close (fd);
}

static gboolean
square_into_log (MpArgs   *args,
                 GValue   *result,
                 GError  **error)
{
  const char *log_path;
  gint64 n;

  if (mp_args_get_length (args) != 2)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-log takes (log path, number)");
      return FALSE;
    }
  log_path = mp_args_get_string (args, 0);
  n = mp_args_get_int (args, 1);
  log_event (log_path, "square\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT "\t%d\n",
             n, n * n, (int) getpid ());
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  return TRUE;
}
MP_TASK_DEFINE ("square-into-log", square_into_log)

static void
load_the_dataset (const char *log_path)
{
  g_print ("   [script pid %d] loading the dataset (a top-level side effect)\n",
           (int) getpid ());
  log_event (log_path, "loaded\t%d\n", (int) getpid ());
}

static void
log_start_failure (const char   *log_path,
                   const GError *error)
{
  g_autofree char *message = g_strdup (error->message);
  const char *code = error->domain == MP_ERROR
                       ? mp_error_code_name ((MpError) error->code) : "other";

  g_strdelimit (message, "\t\n", ' ');
  g_print ("   [script pid %d] could not start a process: %s\n",
           (int) getpid (), code);
  log_event (log_path, "start-failed\t%d\t%s\t%s\t%s\n", (int) getpid (),
             g_quark_to_string (error->domain), code, message);
}

static int
run_script (const char    *log_path,
            MpStartMethod  method)
{
  const char *depth_text = g_getenv (SCRIPT_DEPTH_ENV);
  int depth = depth_text != NULL ? atoi (depth_text) : 0;
  g_autoptr(GPtrArray) children = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *next_depth = g_strdup_printf ("%d", depth + 1);
  gboolean ok = TRUE;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (depth >= 2)
    {
      log_event (log_path, "runaway\t%d\n", (int) getpid ());
      return 4;
    }
  g_setenv (SCRIPT_DEPTH_ENV, next_depth, TRUE);
  /* in the timeline: the script, and its children re-running it */
  mp_trace_set_role (depth == 0 ? "script" : "script again");

  load_the_dataset (log_path);

  for (gint64 n = 0; n < SCRIPT_NUMBERS; n++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_STRING, log_path,
                                            G_TYPE_INT64, n, G_TYPE_INVALID);
      g_autoptr(MpProcess) child = mp_process_new ("square-into-log", args);
      g_autoptr(GError) error = NULL;

      /* spawn or forkserver: the pitfall does not exist under fork */
      mp_process_set_start_method (child, method);
      if (!mp_process_start (child, &error))
        {
          log_start_failure (log_path, error);
          ok = FALSE;
          break;
        }
      g_ptr_array_add (children, g_steal_pointer (&child));
    }

  for (guint i = 0; i < children->len; i++)
    {
      MpProcess *child = children->pdata[i];
      g_autoptr(GError) error = NULL;
      int exitcode = G_MININT;

      /* join reports a child that ended without reaching the guard as an
       * error of its own; the child is reaped all the same */
      if (!mp_process_join (child, CHILD_JOIN_TIMEOUT, &error) &&
          g_error_matches (error, MP_ERROR, MP_ERROR_TIMEOUT))
        {
          mp_process_kill (child, NULL);
          mp_process_join (child, -1, NULL);
        }
      mp_process_get_exitcode (child, &exitcode);
      log_event (log_path, "child-exit\t%u\t%d\t%s\n", i, exitcode,
                 error == NULL ? "-" : error->domain == MP_ERROR
                   ? mp_error_code_name ((MpError) error->code) : "other");
      ok &= exitcode == 0 && error == NULL;
    }
  return ok ? 0 : 1;
}

/* ---- reading the evidence back ------------------------------------------ */

typedef struct {
  guint      loads;
  int        first_loader;           /* the script itself loads first */
  guint      runaways;
  guint      children_started;
  guint      children_failed;
  guint      joins_bootstrapping;   /* the script's join saw the error too */
  guint      squares_seen;
  gint64     squares[SCRIPT_NUMBERS];
  gboolean   square_seen[SCRIPT_NUMBERS];
  GPtrArray *start_failures;         /* of char **: pid, domain, code, message */
} Evidence;

static void
evidence_clear (Evidence *evidence)
{
  g_clear_pointer (&evidence->start_failures, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Evidence, evidence_clear)

static gboolean
read_evidence (const char *log_path,
               Evidence   *evidence,
               GError    **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;

  memset (evidence, 0, sizeof *evidence);
  evidence->start_failures = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  if (!g_file_get_contents (log_path, &text, NULL, error))
    return FALSE;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", 5);
      guint nf = g_strv_length (f);

      if (nf == 2 && g_str_equal (f[0], "loaded"))
        {
          if (evidence->loads++ == 0)
            evidence->first_loader = atoi (f[1]);
        }
      else if (nf == 5 && g_str_equal (f[0], "start-failed"))
        g_ptr_array_add (evidence->start_failures, g_strdupv (&f[1]));
      else if (nf == 4 && g_str_equal (f[0], "child-exit"))
        {
          evidence->children_started++;
          evidence->children_failed += atoi (f[2]) != 0 || !g_str_equal (f[3], "-");
          evidence->joins_bootstrapping +=
            g_str_equal (f[3], mp_error_code_name (MP_ERROR_BOOTSTRAPPING));
        }
      else if (nf == 4 && g_str_equal (f[0], "square"))
        {
          gint64 n = g_ascii_strtoll (f[1], NULL, 10);

          if (n >= 0 && n < SCRIPT_NUMBERS && !evidence->square_seen[n])
            {
              evidence->square_seen[n] = TRUE;
              evidence->squares[n] = g_ascii_strtoll (f[2], NULL, 10);
              evidence->squares_seen++;
            }
        }
      else if (nf == 2 && g_str_equal (f[0], "runaway"))
        evidence->runaways++;
    }
  return TRUE;
}

/* ---- the lesson ---------------------------------------------------------- */

typedef struct {
  char *dir;
  char *log_path;
} Workspace;

static void
workspace_clear (Workspace *ws)
{
  if (ws->log_path != NULL)
    g_unlink (ws->log_path);
  if (ws->dir != NULL)
    g_rmdir (ws->dir);
  g_clear_pointer (&ws->log_path, g_free);
  g_clear_pointer (&ws->dir, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Workspace, workspace_clear)

static gboolean
workspace_init (Workspace *ws,
                GError   **error)
{
  ws->dir = g_dir_make_tmp ("mpshare-main-guard-XXXXXX", error);
  if (ws->dir == NULL)
    return FALSE;
  ws->log_path = g_build_filename (ws->dir, "events.log", NULL);
  return TRUE;
}

/* The script's method: forkserver when asked for, else spawn. */
static MpStartMethod
script_method (Demo *demo)
{
  return demo_get_start_method (demo) == MP_START_FORKSERVER ? MP_START_FORKSERVER
                                                              : MP_START_SPAWN;
}

static void
explain_why_spawn (Demo *demo)
{
  if (script_method (demo) == MP_START_FORKSERVER)
    {
      demo_step (demo, "Use the forkserver start method for the script's "
                 "children.");
      demo_say ("forkserver runs main() again once, in its server (a spawned");
      demo_say ("process), not in each child: the server forks the children.");
      return;
    }
  demo_step (demo, "Use the spawn start method for the script's children.");
  demo_say ("Only spawn and forkserver re-run main(); under fork the child is");
  demo_say ("a copy of the parent that never runs main() again, so this");
  demo_say ("pitfall cannot happen there. The script uses spawn whatever");
  demo_say ("--start-method says (it was: %s).",
            mp_start_method_to_string (demo_get_start_method (demo)));
}

static gboolean
run_the_script (Demo       *demo,
                const char *mode,
                const char *log_path,
                const char *what)
{
  const char *method = mp_start_method_to_string (script_method (demo));
  const char *args[] = { mode, log_path, method, NULL };
  g_autoptr(GError) error = NULL;
  int status = -1;

  demo_step (demo, "Run the script %s: it loads the dataset, then starts %d "
             "children (%s) to square 0..%d.", what, SCRIPT_NUMBERS, method,
             SCRIPT_NUMBERS - 1);
  if (!demo_run_self (args, SCRIPT_TIMEOUT_S, &status, &error))
    return demo_reject (demo, "the script could not be run: %s", error->message);
  demo_say ("the script exited with status %d", status);
  return TRUE;
}

/* Runs the script in a fresh workspace and reads back what it logged;
 * the workspace is removed once the evidence is in memory. */
static gboolean
run_the_script_and_read_its_log (Demo       *demo,
                                 const char *mode,
                                 const char *what,
                                 Evidence   *evidence)
{
  g_auto(Workspace) ws = { 0 };
  g_autoptr(GError) error = NULL;

  if (!workspace_init (&ws, &error))
    return demo_reject (demo, "no temporary directory: %s", error->message);
  if (!run_the_script (demo, mode, ws.log_path, what))
    return FALSE;
  if (!read_evidence (ws.log_path, evidence, &error))
    return demo_reject (demo, "the log cannot be read: %s", error->message);
  return TRUE;
}

static void
print_start_failure (char **failure)
{
  GError shown = { 0 };

  /* rebuild the child's GError from its log line, to print it like any other */
  shown.domain = g_quark_from_string (failure[1]);
  shown.code = MP_ERROR_FAILED;
  for (int code = 0; code < MP_ERROR_N_CODES; code++)
    if (g_str_equal (mp_error_code_name ((MpError) code), failure[2]))
      shown.code = code;
  shown.message = failure[3];
  demo_say ("the child with pid %s reported:", failure[0]);
  demo_print_error (&shown);
}

static gboolean
judge_unguarded_run (Demo     *demo,
                     Evidence *evidence)
{
  guint bootstrapping = 0;

  demo_step (demo, "Read the log back and check what really happened.");
  demo_say ("the dataset was loaded %u time(s); %u child(ren) were started",
            evidence->loads, evidence->children_started);
  for (guint i = 0; i < evidence->start_failures->len; i++)
    {
      char **failure = evidence->start_failures->pdata[i];

      if (i == 0)
        print_start_failure (failure);
      else
        demo_say ("the child with pid %s reported %s as well", failure[0],
                  failure[2]);
      if (g_str_equal (failure[2], mp_error_code_name (MP_ERROR_BOOTSTRAPPING))
          && atoi (failure[0]) != evidence->first_loader)
        bootstrapping++;
    }

  if (evidence->runaways > 0)
    return demo_reject (demo, "a re-run child started processes of its own "
                        "(%u runaway run(s) were stopped by the safety net)",
                        evidence->runaways);
  if (evidence->loads < 2)
    return demo_reject (demo, "the dataset was loaded %u time(s), not repeated "
                        "in a child", evidence->loads);
  if (bootstrapping == 0)
    return demo_reject (demo, "no re-run child reported the bootstrapping error");
  if (evidence->squares_seen > 0)
    return demo_reject (demo, "%u square(s) were computed although no child "
                        "should have reached its task", evidence->squares_seen);
  if (evidence->children_failed != evidence->children_started)
    return demo_reject (demo, "%u of %u children exited with status 0",
                        evidence->children_started - evidence->children_failed,
                        evidence->children_started);

  if (script_method (demo) == MP_START_FORKSERVER)
    {
      if (evidence->loads != 2)
        return demo_reject (demo, "under forkserver the dataset was loaded %u "
                            "times, not twice", evidence->loads);
      demo_say ("=> the side effect ran twice: once in the script, once in the");
      demo_say ("   forkserver, which re-ran main() once (not once per child) and");
      demo_say ("   failed there, so no child was ever forked");
    }
  else
    demo_say ("=> the side effect ran %u times (once in the script, once more "
              "in each re-run child)", evidence->loads);
  demo_say ("=> %u re-run child(ren) failed with the bootstrapping error, "
            "before any square was computed", bootstrapping);
  demo_say ("=> joining them, the script was told %u time(s) that a child "
            "never reached its task", evidence->joins_bootstrapping);
  return TRUE;
}

static gboolean
half_without_guard (Demo *demo)
{
  g_auto(Evidence) evidence = { 0 };

  explain_why_spawn (demo);
  if (!run_the_script_and_read_its_log (demo, SCRIPT_WITHOUT_GUARD,
                                        "WITHOUT mp_main_guard() in main()",
                                        &evidence))
    return FALSE;
  demo_show_timeline (demo, "each spawned child runs the script again");
  return judge_unguarded_run (demo, &evidence);
}

static gboolean
judge_guarded_run (Demo     *demo,
                   Evidence *evidence)
{
  g_autofree char *shown = NULL;

  demo_step (demo, "Read the log back and check the result.");
  demo_say ("the dataset was loaded %u time(s); %u child(ren) were started, "
            "%u failed", evidence->loads, evidence->children_started,
            evidence->children_failed);
  for (guint i = 0; i < evidence->start_failures->len; i++)
    print_start_failure (evidence->start_failures->pdata[i]);

  if (evidence->loads != 1)
    return demo_reject (demo, "the dataset was loaded %u times, expected once",
                        evidence->loads);
  if (evidence->start_failures->len > 0)
    return demo_reject (demo, "a process could not be started");
  if (evidence->children_started != SCRIPT_NUMBERS || evidence->children_failed > 0)
    return demo_reject (demo, "%u of %u children ran and succeeded",
                        evidence->children_started - evidence->children_failed,
                        SCRIPT_NUMBERS);
  for (gint64 n = 0; n < SCRIPT_NUMBERS; n++)
    {
      if (!evidence->square_seen[n])
        return demo_reject (demo, "no square came back for %" G_GINT64_FORMAT, n);
      if (evidence->squares[n] != n * n)
        return demo_reject (demo, "the square of %" G_GINT64_FORMAT " came back "
                            "as %" G_GINT64_FORMAT, n, evidence->squares[n]);
    }
  shown = demo_format_ints (evidence->squares, SCRIPT_NUMBERS);
  demo_say ("=> squares from the children: %s (checked: each is n*n)", shown);
  demo_say ("=> the dataset was loaded exactly once: the guard sent every "
            "child straight to its task");
  return TRUE;
}

static gboolean
half_with_guard (Demo *demo)
{
  g_auto(Evidence) evidence = { 0 };

  explain_why_spawn (demo);
  return run_the_script_and_read_its_log (demo, SCRIPT_WITH_GUARD,
                                          "WITH mp_main_guard() first in main()",
                                          &evidence) &&
         judge_guarded_run (demo, &evidence);
}

static const DemoInfo demo_info = {
  .name = "missing-main-guard",
  .tells_a_story = TRUE,
  .summary = summary,
  .broken = half_without_guard,
  .fixed = half_with_guard,
};

static gboolean
script_requested (int         argc,
                  char      **argv,
                  const char *mode)
{
  return argc >= 4 && g_str_equal (argv[1], mode);
}

/* the script's third argument: its children's start method */
static MpStartMethod
script_method_arg (char **argv)
{
  MpStartMethod method = MP_START_SPAWN;

  if (!mp_start_method_from_string (argv[3], &method, NULL) || method == MP_START_FORK)
    method = MP_START_SPAWN;
  return method;
}

int
main (int    argc,
      char **argv)
{
  /* The script without the guard, on purpose: under spawn its children run
   * this line again and take the same path, side effects and all. */
  if (script_requested (argc, argv, SCRIPT_WITHOUT_GUARD))
    return run_script (argv[2], script_method_arg (argv));

  mp_main_guard (argc, argv);

  if (script_requested (argc, argv, SCRIPT_WITH_GUARD))
    return run_script (argv[2], script_method_arg (argv));
  return demo_run (&demo_info, argc, argv);
}
