/* test-columns.c — what `mpshare` prints fits 80 columns
 *
 * Runs `mpshare --help`, `list`, `tour` (the real demos) and `explain` on
 * every captured Python text, and fails on any line wider than 80
 * columns, and that --color is obeyed. The demos' own output is checked where they run: every half
 * under fork and spawn in test-demos.c, with --timeline in
 * test-demo-traces.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <gio/gio.h>

#include "test-common.h"

#define RUN_BACKSTOP_S 600

/* stdout and stderr of `mpshare @args...`, @input on its stdin (or none) */
static char *
run_mpshare (const char         *input,
             const char * const *args,
             int                *status)
{
  g_autofree char *program = g_build_filename (g_getenv ("MP_DEMO_DIR"), "mpshare", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *output = NULL;

  g_ptr_array_add (argv, program);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE |
                                        (input != NULL ? G_SUBPROCESS_FLAGS_STDIN_PIPE
                                                       : G_SUBPROCESS_FLAGS_NONE));
  child = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  if (input == NULL)
    return test_communicate (child, args[0], RUN_BACKSTOP_S, status);
  g_subprocess_communicate_utf8 (child, input, NULL, &output, NULL, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : -1;
  return g_steal_pointer (&output);
}

static void
test_command (gconstpointer data)
{
  const char * const *args = data;
  g_autofree char *what = g_strjoinv (" ", (char **) args);
  g_autofree char *output = NULL;
  int status;

  output = run_mpshare (NULL, args, &status);
  g_test_message ("mpshare %s: exit %d", what, status);
  g_assert_cmpint (status, >=, 0);
  g_assert_cmpuint (strlen (output), >, 0);
  test_assert_fits (output, what);
}

static void
test_explain (gconstpointer data)
{
  const char *name = data;
  const char *args[] = { "explain", NULL };
  g_autofree char *text = test_read_capture ("python-3.11", name);
  g_autofree char *output = NULL;
  int status;

  output = run_mpshare (text, args, &status);
  g_assert_cmpint (status, >=, 0);
  g_assert_cmpuint (strlen (output), >, 0);
  test_assert_fits (output, name);
}

/* --color: always paints even into a pipe, never and auto (a pipe is no
 * terminal) do not, a bad value is refused; the colour takes no column. */
static void
test_colour (void)
{
  static const char *const always[] = { "list", "--color=always", NULL };
  static const char *const never[] = { "--color", "never", "list", NULL };
  static const char *const automatic[] = { "list", "--color=auto", NULL };
  static const char *const bad[] = { "list", "--color=sometimes", NULL };
  g_autofree char *painted = NULL, *plain = NULL, *piped = NULL, *refused = NULL;
  int status;

  painted = run_mpshare (NULL, always, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (painted, "\033["));
  test_assert_fits (painted, "list --color=always");
  plain = run_mpshare (NULL, never, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (plain, "\033["));
  piped = run_mpshare (NULL, automatic, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_null (strstr (piped, "\033["));
  refused = run_mpshare (NULL, bad, &status);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (refused, "--color takes auto, always or never"));
}

int
main (int    argc,
      char **argv)
{
  static const char *const help[] = { "--help", NULL };
  static const char *const list[] = { "list", NULL };
  static const char *const tour[] = { "tour", "--built-only", NULL };
  g_autofree char *dir = NULL;
  g_autoptr(GDir) captures = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *file;

  g_test_init (&argc, &argv, NULL);
  /* as on an 80-column terminal (the tests' environment sets it wide) */
  g_unsetenv ("COLUMNS");
  g_test_add_data_func ("/columns/mpshare/help", help, test_command);
  g_test_add_data_func ("/columns/mpshare/list", list, test_command);
  g_test_add_data_func ("/columns/mpshare/tour", tour, test_command);
  g_test_add_func ("/columns/mpshare/color", test_colour);

  dir = g_test_build_filename (G_TEST_DIST, "data", "python-3.11", NULL);
  captures = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (captures);
  while ((file = g_dir_read_name (captures)) != NULL)
    if (g_str_has_suffix (file, ".txt"))
      g_ptr_array_add (names, g_strndup (file, strlen (file) - 4));
  g_assert_cmpuint (names->len, >, 0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/columns/mpshare/explain/%s",
                                               (char *) names->pdata[i]);
      g_test_add_data_func (path, names->pdata[i], test_explain);
    }
  return g_test_run ();
}
