/* test-cli.c — the mpshare command, run as a student runs it
 *
 * The built `mpshare` binary is found in $MP_DEMO_DIR (set by meson). Tests
 * that need demos point MP_DEMO_DIR at a fresh directory of small shell
 * scripts standing in for them, so list, run and tour are checked on known
 * outcomes whichever real demos exist yet (the real ones are run by the
 * demos suite).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <glib/gstdio.h>

#include "mpshare.h"
#include "test-common.h"

typedef struct {
  char *demo_dir;   /* a fresh directory of fake demos, removed at teardown */
} Fixture;

typedef struct {
  int   status;     /* exit status, or -1 when killed */
  char *out;
  char *err;
} Result;

static void
result_clear (Result *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static char *
mpshare_path (void)
{
  const char *dir = g_getenv ("MP_DEMO_DIR");

  if (dir != NULL)
    return g_build_filename (dir, "mpshare", NULL);
  return g_test_build_filename (G_TEST_BUILT, "..", "demos", "mpshare", NULL);
}

/* Runs mpshare with @args; @demo_dir becomes MP_DEMO_DIR when not NULL
 * (else an empty directory of the fixture is used by the caller). */
static void
run_cli (Result             *r,
         const char         *demo_dir,
         const char         *input,
         const char *const  *env,
         const char         *first,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  va_list ap;

  g_ptr_array_add (argv, mpshare_path ());
  va_start (ap, first);
  for (const char *a = first; a != NULL; a = va_arg (ap, const char *))
    g_ptr_array_add (argv, g_strdup (a));
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (demo_dir != NULL)
    g_subprocess_launcher_setenv (launcher, "MP_DEMO_DIR", demo_dir, TRUE);
  for (guint i = 0; env != NULL && env[i] != NULL; i += 2)
    g_subprocess_launcher_setenv (launcher, env[i], env[i + 1], TRUE);

  child = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, input != NULL ? input : "", NULL,
                                 &r->out, &r->err, &error);
  g_assert_no_error (error);
  r->status = g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : -1;
  g_test_message ("stdout:\n%s\nstderr:\n%s", r->out, r->err);
  /* GLib's complaints (a failed precondition, a bad source id) are bugs */
  g_assert_null (strstr (r->err, "CRITICAL"));
  g_assert_null (strstr (r->err, "WARNING"));
}

static void
assert_fits_80_columns (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_utf8_strlen (lines[i], -1) > 80)
        g_error ("line wider than 80 columns: \"%s\"", lines[i]);
    }
}

static gboolean
has_line_starting (const char *text,
                   const char *prefix)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return TRUE;
  return FALSE;
}

/* The words of the line that starts with @id followed by a space. */
static char **
row_of (const char *text,
        const char *id)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *prefix = g_strconcat (id, " ", NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_regex_split_simple ("\\s+", g_strstrip (lines[i]), 0, 0);
  return NULL;
}

static gboolean
has_row (const char *text,
         const char *id)
{
  g_auto(GStrv) row = row_of (text, id);
  return row != NULL;
}

/* In the build directory, not the system's temp dir: a failed assertion
 * skips the teardown, and what it leaves must not litter /tmp. */
static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->demo_dir = g_test_build_filename (G_TEST_BUILT, "cli-demos-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (f->demo_dir));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->demo_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->demo_dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->demo_dir), ==, 0);
  g_free (f->demo_dir);
}

/* A fake demo: prints its arguments, then exits with @broken_status for
 * --broken and @fixed_status for --fixed (anything else: 7). */
static void
add_fake_demo (Fixture    *f,
               const char *id,
               const char *broken_body,
               const char *fixed_body)
{
  g_autofree char *path = g_build_filename (f->demo_dir, id, NULL);
  g_autofree char *script = g_strdup_printf (
    "#!/bin/sh\n"
    "echo \"fake %s: $*\"\n"
    "case \"$1\" in\n"
    "  --broken) %s ;;\n"
    "  --fixed) %s ;;\n"
    "esac\n"
    "exit 7\n", id, broken_body, fixed_body);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

/* ---- help and commands --------------------------------------------------- */

static void
test_help (void)
{
  static const char *const commands[] = { "list", "run", "tour", "explain", "check" };

  {
    g_auto(Result) r = { 0 };
    run_cli (&r, NULL, NULL, NULL, "--help", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "Usage:"));
    for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
      g_assert_nonnull (strstr (r.out, commands[i]));
    /* the options mpshare itself takes, --color among them */
    g_assert_nonnull (strstr (r.out, "--color=WHEN"));
    g_assert_nonnull (strstr (r.out, "--version"));
    assert_fits_80_columns (r.out);
  }
  {
    g_auto(Result) r = { 0 };
    run_cli (&r, NULL, NULL, NULL, "help", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "--color=WHEN"));
  }
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_auto(Result) r = { 0 };
      g_autofree char *usage = g_strconcat ("mpshare ", commands[i], NULL);

      run_cli (&r, NULL, NULL, NULL, commands[i], "--help", NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_nonnull (strstr (r.out, "Usage:"));
      g_assert_nonnull (strstr (r.out, usage));
      assert_fits_80_columns (r.out);
    }
}

static void
test_version (void)
{
  g_auto(Result) r = { 0 };

  run_cli (&r, NULL, NULL, NULL, "--version", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "mpshare " PACKAGE_VERSION));
}

static void
test_bad_command (void)
{
  g_auto(Result) none = { 0 };
  g_auto(Result) unknown = { 0 };
  g_auto(Result) option = { 0 };

  run_cli (&none, NULL, NULL, NULL, NULL);
  g_assert_cmpint (none.status, ==, 2);
  g_assert_nonnull (strstr (none.err, "explain"));

  run_cli (&unknown, NULL, NULL, NULL, "frobnicate", NULL);
  g_assert_cmpint (unknown.status, ==, 2);
  g_assert_nonnull (strstr (unknown.err, "unknown command \"frobnicate\""));

  run_cli (&option, NULL, NULL, NULL, "--frobnicate", NULL);
  g_assert_cmpint (option.status, ==, 2);
}

/* ---- list ---------------------------------------------------------------- */

static void
test_list (Fixture       *f,
           gconstpointer  data)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_auto(Result) r = { 0 };

  add_fake_demo (f, entries[0].id, "exit 0", "exit 0");
  run_cli (&r, f->demo_dir, NULL, NULL, "list", NULL);
  g_assert_cmpint (r.status, ==, 0);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *row = g_strdup_printf ("  %s ", entries[i].id);
      g_assert_true (has_line_starting (r.out, row));
      g_assert_nonnull (strstr (r.out, entries[i].summary));
    }
  /* the built one is not reported missing; the others are */
  g_assert_nonnull (strstr (r.out, "not built yet"));
  g_assert_null (strstr (strstr (r.out, "not built yet"), entries[0].id));
  g_assert_nonnull (strstr (strstr (r.out, "not built yet"), entries[1].id));
  assert_fits_80_columns (r.out);
  g_assert_null (strchr (r.out, '\033'));
}

static void
test_list_ids (void)
{
  g_auto(Result) r = { 0 };
  g_autofree char *ids = mp_catalog_dup_ids ("\n");
  g_autofree char *expected = g_strconcat (ids, "\n", NULL);

  run_cli (&r, NULL, NULL, NULL, "list", "--ids", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, expected);
}

/* ---- run ----------------------------------------------------------------- */

static void
test_run_unknown (Fixture       *f,
                  gconstpointer  data)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_auto(Result) r = { 0 };
  g_auto(Result) none = { 0 };
  g_autoptr(GRegex) spaces = g_regex_new ("\\s+", 0, 0, NULL);
  g_autofree char *flat = NULL;

  run_cli (&r, f->demo_dir, NULL, NULL, "run", "no-such-pitfall", "--broken", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "no-such-pitfall"));
  /* the list of valid ids may be wrapped: compare without line breaks */
  flat = g_regex_replace_literal (spaces, r.err, -1, 0, " ", 0, NULL);
  for (gsize i = 0; i < n; i++)
    g_assert_nonnull (strstr (flat, entries[i].id));
  assert_fits_80_columns (r.err);

  run_cli (&none, f->demo_dir, NULL, NULL, "run", NULL);
  g_assert_cmpint (none.status, ==, 2);
  g_assert_nonnull (strstr (none.err, entries[0].id));
}

static void
test_run_not_built (Fixture       *f,
                    gconstpointer  data)
{
  g_auto(Result) r = { 0 };

  run_cli (&r, f->demo_dir, NULL, NULL, "run", "closed-manager", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "not built"));
  g_assert_nonnull (strstr (r.err, "closed-manager"));
}

/* Options after the id reach the demo untouched; its exit status is ours. */
static void
test_run_passes_through (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(Result) fixed = { 0 };

  add_fake_demo (f, "lost-update", "exit 0", "exit 5");
  run_cli (&r, f->demo_dir, NULL, NULL, "run", "lost-update",
           "--race", "--start-method", "spawn", "--help", NULL);
  g_assert_cmpint (r.status, ==, 7);
  g_assert_cmpstr (r.out, ==, "fake lost-update: --race --start-method spawn --help\n");

  run_cli (&fixed, f->demo_dir, NULL, NULL, "run", "lost-update", "--fixed", NULL);
  g_assert_cmpint (fixed.status, ==, 5);
}

/* ---- tour ---------------------------------------------------------------- */

static void
test_tour_table (Fixture       *f,
                 gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(GStrv) passing = NULL;
  g_auto(GStrv) unfixed = NULL;
  g_auto(GStrv) unreproduced = NULL;
  g_auto(GStrv) missing = NULL;
  const char *p1, *p2, *p3, *p4;

  add_fake_demo (f, "inheritance-only", "exit 0", "exit 0");
  add_fake_demo (f, "closed-manager", "exit 0", "exit 1");
  add_fake_demo (f, "broken-pool", "exit 1", "exit 0");
  add_fake_demo (f, "cluster-pool", "exit 0", "exit 0");
  run_cli (&r, f->demo_dir, NULL, NULL, "tour", NULL);
  g_assert_cmpint (r.status, ==, 1);

  /* catalog order, one marker each, both halves run */
  p1 = strstr (r.out, "[1/4] inheritance-only…");
  p2 = strstr (r.out, "[2/4] closed-manager…");
  p3 = strstr (r.out, "[3/4] broken-pool…");
  p4 = strstr (r.out, "[4/4] cluster-pool…");
  g_assert_true (p1 != NULL && p2 > p1 && p3 > p2 && p4 > p3);
  g_assert_nonnull (strstr (r.out, "fake closed-manager: --broken\n"));
  g_assert_nonnull (strstr (r.out, "fake closed-manager: --fixed\n"));

  passing = row_of (r.out, "inheritance-only");
  g_assert_nonnull (passing);
  g_assert_cmpstr (passing[1], ==, "yes");
  g_assert_cmpstr (passing[2], ==, "yes");
  g_assert_cmpstr (passing[4], ==, "s");
  unfixed = row_of (r.out, "closed-manager");
  g_assert_cmpstr (unfixed[1], ==, "yes");
  g_assert_cmpstr (unfixed[2], ==, "no");
  unreproduced = row_of (r.out, "broken-pool");
  g_assert_cmpstr (unreproduced[1], ==, "no");
  g_assert_cmpstr (unreproduced[2], ==, "yes");
  missing = row_of (r.out, "mutate-a-copy");
  g_assert_cmpstr (missing[1], ==, "not");
  g_assert_cmpstr (missing[2], ==, "built");
  assert_fits_80_columns (r.out);
}

static void
test_tour_built_only (Fixture       *f,
                      gconstpointer  data)
{
  g_auto(Result) strict = { 0 };
  g_auto(Result) built = { 0 };
  g_auto(Result) spawn = { 0 };
  g_auto(Result) bad = { 0 };

  add_fake_demo (f, "unserializable-handle", "exit 0", "exit 0");
  add_fake_demo (f, "lock-false", "exit 0", "exit 0");
  add_fake_demo (f, "shared-squares", "exit 0", "exit 0");

  /* every built row says yes, but the catalog is not complete */
  run_cli (&strict, f->demo_dir, NULL, NULL, "tour", NULL);
  g_assert_cmpint (strict.status, ==, 1);
  g_assert_true (has_row (strict.out, "closed-manager"));

  run_cli (&built, f->demo_dir, NULL, NULL, "tour", "--built-only", NULL);
  g_assert_cmpint (built.status, ==, 0);
  g_assert_false (has_row (built.out, "closed-manager"));
  g_assert_nonnull (strstr (built.out, "Skipped, not built yet:"));
  g_assert_nonnull (strstr (built.out, "[1/3] unserializable-handle…"));
  assert_fits_80_columns (built.out);

  run_cli (&spawn, f->demo_dir, NULL, NULL, "tour", "--built-only",
           "--start-method", "spawn", NULL);
  g_assert_cmpint (spawn.status, ==, 0);
  g_assert_nonnull (strstr (spawn.out, "fake lock-false: --broken --start-method spawn\n"));

  run_cli (&bad, f->demo_dir, NULL, NULL, "tour", "--start-method", "vfork", NULL);
  g_assert_cmpint (bad.status, ==, 2);
}

static void
test_tour_nothing_built (Fixture       *f,
                         gconstpointer  data)
{
  g_auto(Result) r = { 0 };

  run_cli (&r, f->demo_dir, NULL, NULL, "tour", "--built-only", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.out, "No demo is built yet"));
}

/* A half that hangs is stopped at the timeout, with the workers it started
 * (its whole process group), and the row says so. */
/* kill() returns before its target has died, so "gone, or at most a
 * zombie" is waited for through a pidfd: readable once the process is
 * dead, ESRCH when it is already reaped. */
static void
assert_process_dies (char *pid_text)
{
  pid_t pid = (pid_t) g_ascii_strtoll (g_strstrip (pid_text), NULL, 10);
  int pidfd;

  g_assert_cmpint (pid, >, 0);
  pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  if (pidfd >= 0)
    {
      struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
      g_assert_cmpint (poll (&pfd, 1, 60 * 1000), ==, 1);   /* a backstop only */
      close (pidfd);
    }
  else if (errno == ENOSYS)
    {
      /* no pidfd_open (valgrind 3.19 does not know it): watch /proc */
      g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
      gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

      for (;;)
        {
          g_autofree char *stat = NULL;

          if (!g_file_get_contents (stat_path, &stat, NULL, NULL) ||
              strstr (stat, ") Z ") != NULL)
            break;
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_usleep (1000);
        }
    }
  else
    g_assert_cmpint (errno, ==, ESRCH);
}

static void
test_tour_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(GStrv) row = NULL;
  g_autofree char *pid_file = g_build_filename (f->demo_dir, "worker.pid", NULL);
  g_autofree char *broken = g_strdup_printf ("sleep 600 & echo $! > '%s'; wait", pid_file);
  g_autofree char *pid_text = NULL;
  gint64 start = g_get_monotonic_time ();

  add_fake_demo (f, "as-completed-order", broken, "exit 0");
  run_cli (&r, f->demo_dir, NULL, NULL, "tour", "--built-only", "--timeout", "1", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_USEC_PER_SEC);
  row = row_of (r.out, "as-completed-order");
  g_assert_cmpstr (row[1], ==, "timeout");
  g_assert_cmpstr (row[2], ==, "yes");

  /* the demo's own child died with it: gone, or at most a zombie */
  g_assert_true (g_file_get_contents (pid_file, &pid_text, NULL, NULL));
  assert_process_dies (pid_text);
  g_assert_cmpint (g_unlink (pid_file), ==, 0);
}

/* SIGTERM to the tour stops the running demo and the workers it started,
 * and the tour says so. The fake demo announces itself through a FIFO, so
 * the signal is sent exactly while it runs. */
static void
test_tour_interrupted (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *fifo = g_build_filename (f->demo_dir, "started.fifo", NULL);
  g_autofree char *pid_file = g_build_filename (f->demo_dir, "worker.pid", NULL);
  g_autofree char *broken = g_strdup_printf (
    "sleep 600 & echo $! > '%s'; echo started > '%s'; wait", pid_file, fifo);
  g_autofree char *path = mpshare_path ();
  const char *argv[] = { path, "tour", "--built-only", NULL };
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *pid_text = NULL;
  struct pollfd pfd;
  char line[16];
  int fd;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  add_fake_demo (f, "lost-update", broken, "exit 0");

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_setenv (launcher, "MP_DEMO_DIR", f->demo_dir, TRUE);
  child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);

  fd = open (fifo, O_RDONLY | O_NONBLOCK);
  g_assert_cmpint (fd, >=, 0);
  pfd = (struct pollfd) { .fd = fd, .events = POLLIN };
  g_assert_cmpint (poll (&pfd, 1, 60 * 1000), ==, 1);   /* a backstop only */
  g_assert_cmpint (read (fd, line, sizeof line), >, 0);
  close (fd);

  g_subprocess_send_signal (child, SIGTERM);
  g_subprocess_communicate_utf8 (child, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", out);
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 128 + SIGTERM);
  g_assert_nonnull (strstr (out, "Tour interrupted."));

  g_assert_true (g_file_get_contents (pid_file, &pid_text, NULL, NULL));
  assert_process_dies (pid_text);
  g_assert_cmpint (g_unlink (pid_file), ==, 0);
  g_assert_cmpint (g_unlink (fifo), ==, 0);
}

/* ---- run --python ------------------------------------------------------- */

/* A fake python3 in @f's directory: it says which program it ran under
 * which start method, then exits with @broken_status for a *-broken.py
 * and 0 for a *-fixed.py. */
static void
add_fake_python (Fixture *f,
                 int      broken_status)
{
  g_autofree char *path = g_build_filename (f->demo_dir, "python3", NULL);
  g_autofree char *script = g_strdup_printf (
    "#!/bin/sh\n"
    "echo \"fake python: ${MP_START_METHOD:-default} ${1##*/}\"\n"
    "case \"$1\" in\n"
    "  *-broken.py) exit %d ;;\n"
    "esac\n"
    "exit 0\n", broken_status);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, script, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, 0755), ==, 0);
}

static void
add_python_programs (Fixture    *f,
                     const char *id)
{
  static const char *const halves[] = { "broken", "fixed" };

  for (guint i = 0; i < G_N_ELEMENTS (halves); i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-%s.py", id, halves[i]);
      g_autofree char *path = g_build_filename (f->demo_dir, name, NULL);
      g_autoptr(GError) error = NULL;

      g_file_set_contents (path, "# a program\n", -1, &error);
      g_assert_no_error (error);
    }
}

/* Without a python3 on PATH the C demo still runs, and the output says
 * why the Python programs did not. */
static void
test_run_python_missing (Fixture       *f,
                         gconstpointer  data)
{
  const char *env[] = { "PATH", f->demo_dir, "MP_PYTHON_DIR", f->demo_dir, NULL };
  g_auto(Result) r = { 0 };

  add_fake_demo (f, "lost-update", "exit 0", "exit 0");
  add_python_programs (f, "lost-update");
  run_cli (&r, f->demo_dir, NULL, env, "run", "lost-update", "--python", "--fixed", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "No python3 on PATH"));
  g_assert_nonnull (strstr (r.out, "fake lost-update: --fixed\n"));
}

/* Both Python halves run, in order, with the start method given to the
 * demo; then the demo, without --python. */
static void
test_run_python (Fixture       *f,
                 gconstpointer  data)
{
  const char *env[] = { "PATH", f->demo_dir, "MP_PYTHON_DIR", f->demo_dir, NULL };
  g_auto(Result) r = { 0 };
  const char *broken, *fixed, *demo;

  add_fake_demo (f, "lost-update", "exit 0", "exit 0");
  add_fake_python (f, 1);
  add_python_programs (f, "lost-update");
  run_cli (&r, f->demo_dir, NULL, env, "run", "lost-update", "--python",
           "--start-method", "spawn", NULL);
  broken = strstr (r.out, "fake python: spawn lost-update-broken.py\n→ reproduced (exit 1)");
  fixed = strstr (r.out, "fake python: spawn lost-update-fixed.py\n→ fixed (exit 0)");
  demo = strstr (r.out, "fake lost-update: --start-method spawn\n");
  g_assert_true (broken != NULL && fixed > broken && demo > fixed);
  /* the demo's own status: the fake exits 7 without --broken or --fixed */
  g_assert_cmpint (r.status, ==, 7);
  assert_fits_80_columns (r.out);
}

/* A broken half that does not fail is reported, and the run fails after
 * the demo has run. */
static void
test_run_python_not_reproduced (Fixture       *f,
                                gconstpointer  data)
{
  const char *env[] = { "PATH", f->demo_dir, "MP_PYTHON_DIR", f->demo_dir, NULL };
  g_auto(Result) r = { 0 };

  add_fake_demo (f, "lost-update", "exit 0", "exit 0");
  add_fake_python (f, 0);
  add_python_programs (f, "lost-update");
  run_cli (&r, f->demo_dir, NULL, env, "run", "lost-update", "--python", "--broken", NULL);
  g_assert_nonnull (strstr (r.out, "→ NOT reproduced (exit 0)"));
  g_assert_null (strstr (r.out, "lost-update-fixed.py"));
  g_assert_nonnull (strstr (r.out, "fake lost-update: --broken\n"));
  g_assert_cmpint (r.status, ==, 1);
}

/* ---- explain ------------------------------------------------------------- */

static void
test_explain_ids (void)
{
  /* a worker's bootstrapping error, then the pool it broke */
  g_autofree char *chained = test_read_capture ("python-3.11", "missing-main-guard");
  g_auto(Result) from_stdin = { 0 };
  g_auto(Result) from_dash = { 0 };
  g_auto(Result) from_args = { 0 };

  run_cli (&from_stdin, NULL, chained, NULL, "explain", "--ids", NULL);
  g_assert_cmpint (from_stdin.status, ==, 0);
  g_assert_cmpstr (from_stdin.out, ==, "missing-main-guard\nbroken-pool\n");

  run_cli (&from_dash, NULL, chained, NULL, "explain", "--ids", "-", NULL);
  g_assert_cmpint (from_dash.status, ==, 0);
  g_assert_cmpstr (from_dash.out, ==, from_stdin.out);

  /* words given unquoted are one text */
  run_cli (&from_args, NULL, NULL, NULL, "explain", "--ids", "TypeError:", "Pickling",
           "an", "AuthenticationString", "object", "is", "disallowed", "for",
           "security", "reasons", NULL);
  g_assert_cmpint (from_args.status, ==, 0);
  g_assert_cmpstr (from_args.out, ==, "manager-as-argument\n");
}

static void
test_explain_full (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *text = test_read_capture ("python-3.13", "local-function-spawn-main");
  g_auto(Result) r = { 0 };
  g_autoptr(GError) error = NULL;
  const MpCatalogEntry *local = mp_catalog_lookup ("local-function", &error);
  const char *first, *second;

  add_fake_demo (f, "local-function", "exit 0", "exit 0");
  run_cli (&r, f->demo_dir, text, NULL, "explain", NULL);
  g_assert_cmpint (r.status, ==, 0);
  first = strstr (r.out, "1. local-function: ");
  second = strstr (r.out, "2. broken-pool: ");
  g_assert_true (first != NULL && second > first);
  g_assert_nonnull (strstr (r.out, local->summary));
  g_assert_nonnull (strstr (r.out, "Seen:  AttributeError: Can't get attribute 'square'"));
  g_assert_nonnull (strstr (r.out, "Cause: "));
  g_assert_nonnull (strstr (r.out, "Fix:   "));
  g_assert_nonnull (strstr (r.out, "mpshare run local-function (reproduces it"));
  g_assert_nonnull (strstr (r.out, "mpshare run broken-pool (its demo is not built yet)"));
  assert_fits_80_columns (r.out);
}

static void
test_explain_mpshare_message (void)
{
  g_autoptr(GError) mp_error = NULL;
  g_auto(Result) r = { 0 };

  mp_set_error (&mp_error, MP_ERROR_MANAGER_CLOSED, "reading list item 0");
  run_cli (&r, NULL, mp_error->message, NULL, "explain", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, "1. closed-manager: "));
  g_assert_nonnull (strstr (r.out, "names this pitfall itself"));
}

static void
test_explain_no_match (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_auto(Result) r = { 0 };
  g_auto(Result) ids = { 0 };
  const char *text = "ZeroDivisionError: division by zero";

  run_cli (&r, NULL, NULL, NULL, "explain", text, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.out, "No pitfall"));
  for (gsize i = 0; i < n; i++)
    g_assert_nonnull (strstr (r.out, entries[i].id));
  assert_fits_80_columns (r.out);

  run_cli (&ids, NULL, NULL, NULL, "explain", "--ids", text, NULL);
  g_assert_cmpint (ids.status, ==, 1);
  g_assert_cmpstr (ids.out, ==, "");
  g_assert_nonnull (strstr (ids.err, "no pitfall"));
}

static void
test_explain_empty (void)
{
  g_auto(Result) r = { 0 };

  run_cli (&r, NULL, "  \n", NULL, "explain", NULL);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "nothing to explain"));
}

/* A log larger than explain examines, ending in the error: read whole
 * from a pipe, its ends sought in a file; either way the note gives the
 * input's real size and what was skipped, and the error is found. */
#define LARGE_INPUT (20 * 1024 * 1024)

static char *
large_input (gsize *length)
{
  const char *last = "\nTypeError: cannot pickle '_thread.lock' object\n";
  GString *text = g_string_sized_new (LARGE_INPUT);

  while (text->len < LARGE_INPUT - strlen (last))
    g_string_append (text, "INFO pool worker 3 finished a task\n");
  g_string_append (text, last);
  *length = text->len;
  return g_string_free (text, FALSE);
}

static void
assert_large_input_explained (const char *out,
                              const char *err,
                              int         status,
                              gsize       length)
{
  g_autofree char *size = g_strdup_printf ("has %" G_GSIZE_FORMAT " bytes", length);
  g_autoptr(GRegex) spaces = g_regex_new ("\\s+", 0, 0, NULL);
  /* the note is wrapped to 80 columns: compare it as one line */
  g_autofree char *flat = g_regex_replace_literal (spaces, err, -1, 0, " ", 0, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "unserializable-handle\n");
  g_assert_nonnull (strstr (flat, size));
  g_assert_nonnull (strstr (flat, "skipped the "));
  assert_fits_80_columns (err);
}

static void
test_explain_large_pipe (void)
{
  gsize length;
  g_autofree char *text = large_input (&length);
  g_auto(Result) r = { 0 };

  run_cli (&r, NULL, text, NULL, "explain", "--ids", NULL);
  assert_large_input_explained (r.out, r.err, r.status, length);
}

static void
test_explain_large_file (Fixture       *f,
                         gconstpointer  data)
{
  gsize length;
  g_autofree char *text = large_input (&length);
  g_autofree char *path = g_build_filename (f->demo_dir, "log.txt", NULL);
  g_autofree char *binary = mpshare_path ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_file_set_contents (path, text, length, &error);
  g_assert_no_error (error);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, path);
  child = g_subprocess_launcher_spawn (launcher, &error, binary, "explain",
                                       "--ids", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("stderr:\n%s", err);
  assert_large_input_explained (out, err,
                                g_subprocess_get_if_exited (child)
                                  ? g_subprocess_get_exit_status (child) : -1,
                                length);
}

/* A pasted log's escape sequences do not reach the terminal. */
static void
test_explain_escapes (void)
{
  g_auto(Result) r = { 0 };

  run_cli (&r, NULL, "\033]0;owned\007\033[2J\033[0;31mTypeError\033[0m: "
           "cannot pickle '_io.\033[5ABufferedReader\x01' object\n"
           "(from pool.apply)\n",
           NULL, "explain", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Seen:  TypeError: cannot pickle "
                                   "'_io.BufferedReader\\x01' object"));
  g_assert_null (strchr (r.out, '\033'));
  g_assert_null (strchr (r.out, '\007'));
  g_assert_null (strchr (r.out, '\001'));
}

/* Words that pickle prints outside multiprocessing too, with none in
 * sight: a general problem, exit 1, in each format. */
static void
test_explain_general (void)
{
  const char *text = "Traceback (most recent call last):\n"
                     "  File \"/usr/lib/python3.12/copy.py\", line 151, in deepcopy\n"
                     "TypeError: cannot pickle '_thread.lock' object\n";
  g_auto(Result) r = { 0 };
  g_auto(Result) ids = { 0 };

  run_cli (&r, NULL, text, NULL, "explain", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.out, "general pickling or copying problem"));
  g_assert_nonnull (strstr (r.out, "Seen:  TypeError: cannot pickle '_thread.lock' object"));
  g_assert_nonnull (strstr (r.out, "Like:  unserializable-handle"));
  assert_fits_80_columns (r.out);

  run_cli (&ids, NULL, text, NULL, "explain", "--ids", NULL);
  g_assert_cmpint (ids.status, ==, 1);
  g_assert_cmpstr (ids.out, ==, "");
  g_assert_nonnull (strstr (ids.err, "general pickling"));
  assert_fits_80_columns (ids.err);
}

/* --why shows each match's reason and the numbered lines it used. */
static void
test_explain_why (void)
{
  const char *text =
    "Traceback (most recent call last):\n"
    "  File \"/usr/lib/python3.13/multiprocessing/managers.py\", line 817, in _callmethod\n"
    "  File \"/usr/lib/python3.13/multiprocessing/connection.py\", line 206, in send\n"
    "BrokenPipeError: [Errno 32] Broken pipe\n";
  g_auto(Result) r = { 0 };
  g_auto(Result) plain = { 0 };

  run_cli (&r, NULL, text, NULL, "explain", "--why", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "Why:   the words \"BrokenPipeError\" with \"managers.py\""));
  g_assert_nonnull (strstr (r.out, "Lines: 2:"));
  g_assert_nonnull (strstr (r.out, "3:      File \"/usr/lib/python3.13/multiprocessing/conn"));
  g_assert_nonnull (strstr (r.out, "4:      BrokenPipeError: [Errno 32] Broken pipe"));
  assert_fits_80_columns (r.out);

  run_cli (&plain, NULL, text, NULL, "explain", NULL);
  g_assert_nonnull (strstr (plain.out, "Why:   "));
  g_assert_null (strstr (plain.out, "Lines:"));
}

/* --format=json: one object for scripts, whatever the verdict. */
static void
test_explain_json (void)
{
  static const struct {
    const char *text;
    const char *verdict;
    int         status;
  } cases[] = {
    { "my counter is too small with four processes", "pitfall", 0 },
    { "TypeError: cannot pickle '_thread.lock' object", "general", 1 },
    { "ZeroDivisionError: division by zero", "none", 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) r = { 0 };
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;
      JsonObject *root, *input;

      run_cli (&r, NULL, cases[i].text, NULL, "explain", "--format=json", NULL);
      g_assert_cmpint (r.status, ==, cases[i].status);
      json_parser_load_from_data (parser, r.out, -1, &error);
      g_assert_no_error (error);
      root = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (root, "verdict"), ==, cases[i].verdict);
      input = json_object_get_object_member (root, "input");
      g_assert_cmpint (json_object_get_int_member (input, "bytes"), ==, strlen (cases[i].text));
      g_assert_cmpint (json_object_get_int_member (input, "skipped"), ==, 0);
      if (g_str_equal (cases[i].verdict, "pitfall"))
        {
          JsonArray *matches = json_object_get_array_member (root, "matches");
          JsonObject *m = json_array_get_object_element (matches, 0);

          g_assert_cmpstr (json_object_get_string_member (m, "id"), ==, "lost-update");
          g_assert_cmpstr (json_object_get_string_member (m, "kind"), ==, "description");
          g_assert_nonnull (strstr (json_object_get_string_member (m, "reason"), "\"too small\""));
          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (m, "lines")), ==, 1);
        }
    }

  {
    g_auto(Result) bad = { 0 };

    run_cli (&bad, NULL, NULL, NULL, "explain", "--format=xml", "x", NULL);
    g_assert_cmpint (bad.status, ==, 2);
    g_assert_nonnull (strstr (bad.err, "text or json"));
  }
}

/* ---- help, did you mean -------------------------------------------------- */

/* The commands `mpshare help` lists, from its "Commands:" section. */
static GStrv
listed_commands (void)
{
  g_auto(Result) r = { 0 };
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;
  gboolean in_section = FALSE;

  run_cli (&r, NULL, NULL, NULL, "help", NULL);
  g_assert_cmpint (r.status, ==, 0);
  lines = g_strsplit (r.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_equal (lines[i], "Commands:"))
        in_section = TRUE;
      else if (in_section && lines[i][0] == '\0')
        break;
      else if (in_section && g_str_has_prefix (lines[i], "  ") &&
               g_ascii_isalpha (lines[i][2]))
        {
          g_auto(GStrv) words = g_strsplit (lines[i] + 2, " ", 2);
          g_strv_builder_add (builder, words[0]);
        }
    }
  return g_strv_builder_end (builder);
}

static void
test_help_command (void)
{
  g_auto(GStrv) commands = listed_commands ();
  g_auto(Result) typo = { 0 };
  g_auto(Result) two = { 0 };

  g_assert_cmpuint (g_strv_length (commands), >=, 7);
  g_assert_true (g_strv_contains ((const char *const *) commands, "help"));
  for (guint i = 0; commands[i] != NULL; i++)
    {
      g_auto(Result) r = { 0 };
      g_autofree char *usage = g_strconcat ("mpshare ", commands[i], NULL);

      run_cli (&r, NULL, NULL, NULL, "help", commands[i], NULL);
      g_assert_cmpint (r.status, ==, 0);
      g_assert_nonnull (strstr (r.out, usage));
      assert_fits_80_columns (r.out);
    }

  run_cli (&typo, NULL, NULL, NULL, "help", "tuor", NULL);
  g_assert_cmpint (typo.status, ==, 2);
  g_assert_nonnull (strstr (typo.err, "unknown command \"tuor\". Did you mean \"tour\"?"));
  run_cli (&two, NULL, NULL, NULL, "help", "run", "tour", NULL);
  g_assert_cmpint (two.status, ==, 2);
}

/* A typo gets the nearest command or id; a word far from all gets none. */
static void
test_did_you_mean (Fixture       *f,
                   gconstpointer  data)
{
  static const struct {
    const char *args[3];
    const char *guess;    /* NULL: no guess */
  } cases[] = {
    { { "tuor", NULL }, "tour" },
    { { "lst", NULL }, "list" },
    { { "explian", NULL }, "explain" },
    { { "chekc", NULL }, "check" },
    { { "frobnicate", NULL }, NULL },
    { { "run", "lost-updte", NULL }, "lost-update" },
    { { "run", "broken-pol", NULL }, "broken-pool" },
    { { "run", "Lost-Update", NULL }, "lost-update" },
    { { "run", "closed", NULL }, NULL },
    { { "tour", "--only=mutate-a-cpy", NULL }, "mutate-a-copy" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) r = { 0 };

      run_cli (&r, f->demo_dir, NULL, NULL, cases[i].args[0], cases[i].args[1],
               cases[i].args[2], NULL);
      g_assert_cmpint (r.status, ==, 2);
      if (cases[i].guess != NULL)
        {
          g_autofree char *want = g_strdup_printf ("Did you mean \"%s\"?", cases[i].guess);
          g_assert_nonnull (strstr (r.err, want));
        }
      else
        g_assert_null (strstr (r.err, "Did you mean"));
      assert_fits_80_columns (r.err);
    }
}

/* ---- tour modes ----------------------------------------------------------- */

static void
test_tour_only (Fixture       *f,
                gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(Result) repeated = { 0 };
  g_auto(Result) unbuilt = { 0 };
  g_auto(Result) unknown = { 0 };
  const char *p1, *p2;

  add_fake_demo (f, "closed-manager", "exit 0", "exit 0");
  add_fake_demo (f, "lost-update", "exit 0", "exit 0");
  add_fake_demo (f, "broken-pool", "exit 0", "exit 0");

  /* in catalog order, whatever the order asked; the others not run */
  run_cli (&r, f->demo_dir, NULL, NULL, "tour", "--only", "broken-pool, lost-update", NULL);
  g_assert_cmpint (r.status, ==, 0);
  p1 = strstr (r.out, "[1/2] lost-update…");
  p2 = strstr (r.out, "[2/2] broken-pool…");
  g_assert_true (p1 != NULL && p2 > p1);
  g_assert_null (strstr (r.out, "fake closed-manager"));
  g_assert_false (has_row (r.out, "closed-manager"));
  g_assert_false (has_row (r.out, "mutate-a-copy"));
  g_assert_true (has_row (r.out, "lost-update"));
  g_assert_null (strstr (r.out, "not built"));

  run_cli (&repeated, f->demo_dir, NULL, NULL, "tour", "--only", "lost-update",
           "--only", "closed-manager", NULL);
  g_assert_cmpint (repeated.status, ==, 0);
  g_assert_nonnull (strstr (repeated.out, "[1/2] closed-manager…"));

  /* an id asked for but not built fails the tour */
  run_cli (&unbuilt, f->demo_dir, NULL, NULL, "tour", "--only", "lost-update,lock-false", NULL);
  g_assert_cmpint (unbuilt.status, ==, 1);
  g_assert_true (has_row (unbuilt.out, "lock-false"));

  run_cli (&unknown, f->demo_dir, NULL, NULL, "tour", "--only", "lost-update,nope", NULL);
  g_assert_cmpint (unknown.status, ==, 2);
  g_assert_nonnull (strstr (unknown.err, "unknown id \"nope\""));
  g_assert_nonnull (strstr (unknown.err, "Valid ids:"));
  g_assert_null (strstr (unknown.out, "fake lost-update"));
}

static void
test_tour_quiet (Fixture       *f,
                 gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) row = NULL;
  guint n_progress = 0;

  add_fake_demo (f, "lost-update", "exit 0", "exit 0");
  add_fake_demo (f, "broken-pool", "exit 0", "exit 3");
  run_cli (&r, f->demo_dir, NULL, NULL, "tour", "--quiet", "--built-only", NULL);
  g_assert_cmpint (r.status, ==, 1);
  /* nothing of the demos' own output, no commands, one line each */
  g_assert_null (strstr (r.out, "fake "));
  g_assert_null (strstr (r.out, "$ "));
  lines = g_strsplit (r.out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "["))
      n_progress++;
  g_assert_cmpuint (n_progress, ==, 2);
  g_assert_nonnull (strstr (r.out, "[1/2] lost-update"));
  g_assert_nonnull (strstr (r.out, "reproduced: yes, fixed: yes"));
  g_assert_nonnull (strstr (r.out, "[2/2] broken-pool"));
  g_assert_nonnull (strstr (r.out, "reproduced: yes, fixed: no"));
  /* and the table */
  row = row_of (r.out, "broken-pool");
  g_assert_nonnull (row);
  g_assert_cmpstr (row[2], ==, "no");
  assert_fits_80_columns (r.out);
}

/* --start-method and --timeline reach every demo, both halves. */
static void
test_tour_passes_through (Fixture       *f,
                          gconstpointer  data)
{
  g_auto(Result) r = { 0 };

  add_fake_demo (f, "lock-false", "exit 0", "exit 0");
  run_cli (&r, f->demo_dir, NULL, NULL, "tour", "--built-only", "--start-method",
           "spawn", "--timeline", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "fake lock-false: --broken --start-method spawn --timeline\n"));
  g_assert_nonnull (strstr (r.out, "fake lock-false: --fixed --start-method spawn --timeline\n"));
}

/* Reads @master until @text has come (or the terminal closes); returns
 * everything read so far. */
static void
read_until (int         master,
            GString    *out,
            const char *text)
{
  char buffer[1024];
  ssize_t got;

  while (text == NULL || strstr (out->str, text) == NULL)
    {
      got = read (master, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        break;      /* EIO: the terminal's last holder is gone */
      g_string_append_len (out, buffer, got);
    }
}

static guint
count_of (const char *text,
          const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (text, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* On a terminal, --pause waits for Enter before each demo: the demo has
 * not run when the prompt shows, and runs once Enter is pressed. Without
 * a terminal it does not wait. */
static void
test_tour_pause (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = mpshare_path ();
  g_autofree char *ran_lost = g_build_filename (f->demo_dir, "ran-lost-update", NULL);
  g_autofree char *ran_pool = g_build_filename (f->demo_dir, "ran-broken-pool", NULL);
  g_autofree char *touch_lost = g_strdup_printf ("touch '%s'; exit 0", ran_lost);
  g_autofree char *touch_pool = g_strdup_printf ("touch '%s'; exit 0", ran_pool);
  const char *argv[] = { path, "tour", "--built-only", "--pause", NULL };
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_auto(Result) piped = { 0 };
  int master, slave;

  add_fake_demo (f, "lost-update", touch_lost, "exit 0");
  add_fake_demo (f, "broken-pool", touch_pool, "exit 0");

  g_assert_cmpint (openpty (&master, &slave, NULL, NULL, NULL), ==, 0);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_stdin_fd (launcher, slave);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (slave));
  g_subprocess_launcher_setenv (launcher, "MP_DEMO_DIR", f->demo_dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "NO_COLOR", "1", TRUE);
  child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_clear_object (&launcher);   /* closes our copies of the slave */

  read_until (master, out, "Press Enter to run lost-update");
  g_assert_false (g_file_test (ran_lost, G_FILE_TEST_EXISTS));
  g_assert_cmpint (write (master, "\n", 1), ==, 1);
  read_until (master, out, "Press Enter to run broken-pool");
  g_assert_true (g_file_test (ran_lost, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (ran_pool, G_FILE_TEST_EXISTS));
  g_assert_cmpint (write (master, "\n", 1), ==, 1);
  read_until (master, out, NULL);
  close (master);
  g_subprocess_wait (child, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("%s", out->str);
  g_assert_true (g_subprocess_get_if_exited (child));
  g_assert_cmpint (g_subprocess_get_exit_status (child), ==, 0);
  g_assert_true (g_file_test (ran_pool, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_of (out->str, "Press Enter"), ==, 2);
  g_assert_cmpint (g_unlink (ran_lost), ==, 0);
  g_assert_cmpint (g_unlink (ran_pool), ==, 0);

  /* standard input a pipe: nobody to press Enter, no wait */
  run_cli (&piped, f->demo_dir, NULL, NULL, "tour", "--built-only", "--pause", NULL);
  g_assert_cmpint (piped.status, ==, 0);
  g_assert_null (strstr (piped.out, "Press Enter"));
  g_assert_cmpint (g_unlink (ran_lost), ==, 0);
  g_assert_cmpint (g_unlink (ran_pool), ==, 0);
}

/* GLib's own name for a class (GLocalFileInputStream, private to GIO) is
 * in the library's message; the demo's error box, its verdict line and
 * `mpshare trace` show the public class instead, unless --verbose. The
 * real demo runs: the message is the library's. */
static void
test_verbose_types (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *trace = g_build_filename (f->demo_dir, "handle.json", NULL);
  g_auto(Result) plain = { 0 };
  g_auto(Result) verbose = { 0 };
  g_auto(Result) summary = { 0 };
  g_auto(Result) summary_verbose = { 0 };
  g_auto(Result) tour = { 0 };

  run_cli (&plain, NULL, NULL, NULL, "run", "unserializable-handle", "--broken",
           "--trace", trace, NULL);
  g_assert_cmpint (plain.status, ==, 0);
  g_assert_nonnull (strstr (plain.out, "| message: Cluster.credentials: a GInputStream "
                                       "holds a live OS handle (Python:"));
  g_assert_null (strstr (plain.out, "GLocalFileInputStream"));
  g_assert_null (strstr (plain.out, "| domain"));

  run_cli (&verbose, NULL, NULL, NULL, "run", "unserializable-handle", "--broken",
           "--verbose", NULL);
  g_assert_cmpint (verbose.status, ==, 0);
  g_assert_nonnull (strstr (verbose.out, "Cluster.credentials: GLocalFileInputStream "
                                         "holds a live OS handle (it is a GInputStream)"));
  g_assert_nonnull (strstr (verbose.out, "| domain : "));

  /* the trace recorded the library's words; summary shows them plainly,
   * reflowed within 80 columns */
  run_cli (&summary, NULL, NULL, (const char *const[]) { "COLUMNS", "80", NULL },
           "trace", "summary", trace, NULL);
  g_assert_cmpint (summary.status, ==, 0);
  g_assert_nonnull (strstr (summary.out, "a GInputStream holds a live OS handle"));
  g_assert_null (strstr (summary.out, "GLocalFileInputStream"));
  assert_fits_80_columns (summary.out);
  run_cli (&summary_verbose, NULL, NULL, NULL, "trace", "summary", "--verbose", trace, NULL);
  g_assert_cmpint (summary_verbose.status, ==, 0);
  g_assert_nonnull (strstr (summary_verbose.out, "GLocalFileInputStream"));

  /* tour passes --verbose on to both halves */
  add_fake_demo (f, "lock-false", "exit 0", "exit 0");
  run_cli (&tour, f->demo_dir, NULL, NULL, "tour", "--built-only", "--verbose", NULL);
  g_assert_cmpint (tour.status, ==, 0);
  g_assert_nonnull (strstr (tour.out, "fake lock-false: --broken --verbose\n"));
  g_assert_nonnull (strstr (tour.out, "fake lock-false: --fixed --verbose\n"));
}

/* ---- man page and completion ---------------------------------------------- */

static void
test_man_page (void)
{
  g_auto(GStrv) commands = listed_commands ();
  g_autofree char *path = g_test_build_filename (G_TEST_BUILT, "..", "demos", "mpshare.1", NULL);
  g_autofree char *page = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &page, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (page, ".\\\" mpshare(1)"));
  g_assert_nonnull (strstr (page, ".TH MPSHARE 1"));
  g_assert_null (strstr (page, "@"));     /* every path filled in */
  for (guint i = 0; commands[i] != NULL; i++)
    {
      /* each command opens an entry of COMMANDS: ".BR run " or ".B tour" */
      g_autofree char *br = g_strdup_printf ("\n.BR %s ", commands[i]);
      g_autofree char *b = g_strdup_printf ("\n.B %s\n", commands[i]);
      g_autofree char *bi = g_strdup_printf ("\n.BI \"%s ", commands[i]);

      if (strstr (page, br) == NULL && strstr (page, b) == NULL && strstr (page, bi) == NULL)
        g_error ("mpshare.1 has no entry for the command \"%s\"", commands[i]);
    }
  for (const char *const *o = (const char *const[]) { "\\-\\-color", "\\-\\-only", "\\-\\-pause",
         "\\-\\-quiet", "\\-\\-timeline", "\\-\\-why", NULL }; *o != NULL; o++)
    g_assert_nonnull (strstr (page, *o));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* What the completion offers after @words (the last is being typed). */
static char *
complete (const char *const *words)
{
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "..", "demos",
                                                   "mpshare.bash-completion", NULL);
  g_autofree char *exe = mpshare_path ();
  g_autoptr(GString) code = g_string_new (NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "bash", "--norc", "--noprofile", "-c", NULL, NULL };
  guint n = g_strv_length ((char **) words);
  int status;

  g_string_append_printf (code, ". '%s'\nCOMP_WORDS=('%s'", script, exe);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (code, " '%s'", words[i]);
  g_string_append_printf (code, ")\nCOMP_CWORD=%u\n_mpshare\n"
                          "printf '%%s\\n' \"${COMPREPLY[@]}\" | LC_ALL=C sort\n", n);
  argv[4] = code->str;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  g_test_message ("%s", err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return g_strdup (g_strstrip (out));
}

static void
test_completion (void)
{
  g_autofree char *bash = g_find_program_in_path ("bash");
  g_auto(GStrv) commands = NULL;
  g_autofree char *all = NULL, *listed = NULL;
  g_autofree char *ids = NULL, *lo = NULL, *only = NULL, *help = NULL, *method = NULL;

  if (bash == NULL)
    {
      g_test_skip ("no bash to run the completion in (apt-get install bash)");
      return;
    }
  /* every command of `mpshare help`, no more */
  commands = listed_commands ();
  g_qsort_with_data (commands, g_strv_length (commands), sizeof (char *),
                     compare_strings, NULL);
  listed = g_strjoinv ("\n", commands);
  all = complete ((const char *const[]) { "", NULL });
  /* sorted bytewise: the options --help and --version, then the commands */
  g_assert_true (g_str_has_prefix (all, "--help\n--version\n"));
  g_assert_cmpstr (all + strlen ("--help\n--version\n"), ==, listed);

  /* ids come from the catalog, through mpshare itself */
  ids = complete ((const char *const[]) { "run", "lost", NULL });
  g_assert_cmpstr (ids, ==, "lost-update");
  lo = complete ((const char *const[]) { "run", "lo", NULL });
  g_assert_cmpstr (lo, ==, "local-function\nlock-false\nlost-update");
  only = complete ((const char *const[]) { "tour", "--only", "broken-pool,lock", NULL });
  g_assert_cmpstr (only, ==, "broken-pool,lock-false");
  help = complete ((const char *const[]) { "help", "ex", NULL });
  g_assert_cmpstr (help, ==, "explain");
  method = complete ((const char *const[]) { "tour", "--start-method", "", NULL });
  g_assert_cmpstr (method, ==, "fork\nforkserver\nspawn");
}

/* ---- colour -------------------------------------------------------------- */

/* Runs `mpshare list` with its stdout on a pseudo-terminal. */
static char *
list_on_tty (const char *no_color)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = mpshare_path ();
  const char *argv[] = { path, "list", NULL };
  GString *out = g_string_new (NULL);
  int master, slave;
  char buffer[4096];
  ssize_t got;

  g_assert_cmpint (openpty (&master, &slave, NULL, NULL, NULL), ==, 0);
  g_subprocess_launcher_take_stdout_fd (launcher, slave);
  if (no_color != NULL)
    g_subprocess_launcher_setenv (launcher, "NO_COLOR", no_color, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "NO_COLOR");
  child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_clear_object (&launcher);   /* closes our copy of the slave */

  /* read until the child closes the terminal (EIO on Linux) */
  while ((got = read (master, buffer, sizeof buffer)) > 0 || (got < 0 && errno == EINTR))
    if (got > 0)
      g_string_append_len (out, buffer, got);
  close (master);
  g_subprocess_wait_check (child, NULL, &error);
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static void
test_colour (void)
{
  g_autofree char *coloured = list_on_tty (NULL);
  g_autofree char *plain = list_on_tty ("1");
  g_auto(Result) piped = { 0 };

  g_assert_nonnull (strstr (coloured, "\033["));
  g_assert_nonnull (strstr (plain, "Pitfalls"));
  g_assert_null (strchr (plain, '\033'));

  run_cli (&piped, NULL, NULL, NULL, "list", NULL);
  g_assert_null (strchr (piped.out, '\033'));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/bad-command", test_bad_command);
  g_test_add ("/cli/list/table", Fixture, NULL, fixture_setup, test_list, fixture_teardown);
  g_test_add_func ("/cli/list/ids", test_list_ids);
  g_test_add ("/cli/run/unknown-id", Fixture, NULL, fixture_setup, test_run_unknown, fixture_teardown);
  g_test_add ("/cli/run/not-built", Fixture, NULL, fixture_setup, test_run_not_built, fixture_teardown);
  g_test_add ("/cli/run/passes-through", Fixture, NULL, fixture_setup, test_run_passes_through, fixture_teardown);
  g_test_add ("/cli/run/python", Fixture, NULL, fixture_setup, test_run_python, fixture_teardown);
  g_test_add ("/cli/run/python/missing", Fixture, NULL, fixture_setup, test_run_python_missing, fixture_teardown);
  g_test_add ("/cli/run/python/not-reproduced", Fixture, NULL, fixture_setup, test_run_python_not_reproduced, fixture_teardown);
  g_test_add ("/cli/tour/table", Fixture, NULL, fixture_setup, test_tour_table, fixture_teardown);
  g_test_add ("/cli/tour/built-only", Fixture, NULL, fixture_setup, test_tour_built_only, fixture_teardown);
  g_test_add ("/cli/tour/nothing-built", Fixture, NULL, fixture_setup, test_tour_nothing_built, fixture_teardown);
  g_test_add ("/cli/tour/timeout", Fixture, NULL, fixture_setup, test_tour_timeout, fixture_teardown);
  g_test_add ("/cli/tour/interrupted", Fixture, NULL, fixture_setup, test_tour_interrupted, fixture_teardown);
  g_test_add_func ("/cli/explain/ids", test_explain_ids);
  g_test_add ("/cli/explain/full", Fixture, NULL, fixture_setup, test_explain_full, fixture_teardown);
  g_test_add_func ("/cli/explain/mpshare-message", test_explain_mpshare_message);
  g_test_add_func ("/cli/explain/no-match", test_explain_no_match);
  g_test_add_func ("/cli/explain/empty", test_explain_empty);
  g_test_add_func ("/cli/explain/large-pipe", test_explain_large_pipe);
  g_test_add ("/cli/explain/large-file", Fixture, NULL, fixture_setup,
              test_explain_large_file, fixture_teardown);
  g_test_add_func ("/cli/explain/escapes", test_explain_escapes);
  g_test_add_func ("/cli/explain/general", test_explain_general);
  g_test_add_func ("/cli/explain/why", test_explain_why);
  g_test_add_func ("/cli/explain/json", test_explain_json);
  g_test_add_func ("/cli/colour", test_colour);
  g_test_add_func ("/cli/help/command", test_help_command);
  g_test_add ("/cli/did-you-mean", Fixture, NULL, fixture_setup, test_did_you_mean, fixture_teardown);
  g_test_add ("/cli/tour/only", Fixture, NULL, fixture_setup, test_tour_only, fixture_teardown);
  g_test_add ("/cli/tour/quiet", Fixture, NULL, fixture_setup, test_tour_quiet, fixture_teardown);
  g_test_add ("/cli/tour/passes-through", Fixture, NULL, fixture_setup, test_tour_passes_through, fixture_teardown);
  g_test_add ("/cli/tour/pause", Fixture, NULL, fixture_setup, test_tour_pause, fixture_teardown);
  g_test_add ("/cli/verbose-types", Fixture, NULL, fixture_setup, test_verbose_types,
              fixture_teardown);
  g_test_add_func ("/cli/man-page", test_man_page);
  g_test_add_func ("/cli/completion", test_completion);

  return g_test_run ();
}
