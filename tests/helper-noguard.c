/* helper-noguard.c — a program that forgets the main guard (on purpose)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: helper-noguard process|pool|guarded
 *
 * Prints one "side-effect:" line each time main() runs, then starts a
 * process (or a pool) under spawn. Without the guard, the spawned child
 * runs main() again: the side effect shows twice and its own start fails
 * with the bootstrapping error. Mode "guarded" calls mp_main_guard() first
 * and shows the fix. main() returns 0 in every case: a child that never ran
 * its task must still not look successful to its parent.
 */
#include <stdio.h>
#include <unistd.h>

#include "mpshare.h"

static gboolean
square (MpArgs  *args,
        GValue  *result,
        GError **error)
{
  gint64 n = mp_args_get_int (args, 0);

  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  if (!mp_is_spawned_child ())
    {
      mp_set_error (error, MP_ERROR_FAILED, "expected to run in a spawned child");
      return FALSE;
    }
  printf ("result: %" G_GINT64_FORMAT "\n", n * n);
  return TRUE;
}
MP_TASK_DEFINE ("helper-square", square)

static void
print_error (const char *what,
             const GError *error)
{
  printf ("%s: %s %s\n", what, mp_error_code_name (error->code), error->message);
  fflush (stdout);
}

static void
run_process (void)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) 3, G_TYPE_INVALID);
  g_autoptr(MpProcess) process = mp_process_new ("helper-square", args);
  g_autoptr(GError) error = NULL;
  int code = -1;

  mp_process_set_start_method (process, MP_START_SPAWN);
  if (!mp_process_start (process, &error))
    {
      print_error ("start-error", error);
      return;
    }
  if (!mp_process_join (process, -1, &error))
    print_error ("join-error", error);
  if (mp_process_get_exitcode (process, &code))
    printf ("exitcode: %d\n", code);
}

static void
run_pool (void)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) 3, G_TYPE_INVALID);
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(MpFuture) future = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) result = G_VALUE_INIT;

  pool = mp_pool_new_full (1, MP_START_SPAWN, NULL, NULL, &error);
  if (pool == NULL)
    {
      print_error ("pool-error", error);
      return;
    }
  future = mp_pool_submit (pool, "helper-square", args, &error);
  if (future == NULL || !mp_future_result (future, -1, &result, &error))
    print_error (future == NULL ? "submit-error" : "result-error", error);
  mp_pool_shutdown (pool, TRUE);
}

int
main (int    argc,
      char **argv)
{
  const char *mode = argc > 1 ? argv[1] : "process";

  if (g_str_equal (mode, "guarded"))
    mp_main_guard (argc, argv);

  printf ("side-effect: main() ran in a %s (pid %d)\n",
          mp_is_spawned_child () ? "spawned child" : "parent", (int) getpid ());
  fflush (stdout);

  if (g_str_equal (mode, "pool"))
    run_pool ();
  else
    run_process ();
  fflush (stdout);
  return 0;
}
