/* global-not-inherited.c — module state set at run time stays behind
 *
 * A program keeps a setting in a global (Python: a module-level variable)
 * and sets it in main() at run time: a config file read, a cache filled, a
 * flag. Its pool tasks read the global. Under fork a worker is a copy of
 * the parent made after main() set it: it sees the value. Under spawn and
 * forkserver a worker is not a copy of that parent: it sees the value the
 * program starts with (the server of forkserver ran main() only up to the
 * guard), and nothing fails. Python 3.14 made forkserver the default on
 * Linux, and programs that ran right for years started to compute wrong
 * results without a word.
 *
 * Broken: the same pool, once under fork (all right) and once under the
 * demo's start method, or forkserver when that is fork: the wrong results
 * are counted, never assumed.
 *
 * Fixed: the setting travels as data: a pool initializer gives it to each
 * worker once (Python: Pool(initializer=..., initargs=...)); checked under
 * the same method. (Setting it at import time works too: every process
 * runs that.)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define NUMBERS     8
#define SCALE_AT_LOAD 1    /* the global's value when the program loads */
#define SCALE_SET   10     /* what main() sets at run time */
#define RESULT_WAIT (60 * G_USEC_PER_SEC)

static const char summary[] =
  "A global the program sets at run time (a config loaded in main(), a\n"
  "cache, a flag) is seen by fork workers, which are copies of the parent,\n"
  "but not by spawn or forkserver workers: they see the value the program\n"
  "starts with, and nothing fails. Fix: pass the state to the workers (task\n"
  "arguments, a pool initializer) or set it at load time.";

/* The program's "module state": its value when the program loads. */
static gint64 scale = SCALE_AT_LOAD;

/* ---- the tasks ------------------------------------------------------------- */

static gboolean
scaled_task (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  if (mp_args_get_length (args) != 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "scaled takes (n)");
      return FALSE;
    }
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, mp_args_get_int (args, 0) * scale);
  return TRUE;
}
MP_TASK_DEFINE ("global-not-inherited:scaled", scaled_task)

/* the fix: the pool initializer sets the worker's global from its args */
static gboolean
set_scale_task (MpArgs  *args,
                GValue  *result,
                GError **error)
{
  if (mp_args_get_length (args) != 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "set-scale takes (scale)");
      return FALSE;
    }
  scale = mp_args_get_int (args, 0);
  return TRUE;
}
MP_TASK_DEFINE ("global-not-inherited:set-scale", set_scale_task)

/* ---- the parent's side ----------------------------------------------------- */

/* Runs scaled(n) for n in 0..NUMBERS-1 on a pool started with @method
 * (initializer: set-scale, or none) and returns how many results were
 * wrong, or -1 once it has rejected the half. */
static gint
count_wrong_results (Demo          *demo,
                     MpStartMethod  method,
                     gboolean       with_initializer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArgs) initargs = mp_args_new (G_TYPE_INT64, (gint64) scale, G_TYPE_INVALID);
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;
  gint64 got[NUMBERS];
  gint64 want[NUMBERS];
  g_autofree char *got_text = NULL;
  g_autofree char *want_text = NULL;
  gint wrong = 0;

  pool = mp_context_pool_new (mp_get_context (method), demo_get_workers (demo),
                              with_initializer ? "global-not-inherited:set-scale" : NULL,
                              with_initializer ? initargs : NULL, &error);
  if (pool == NULL)
    {
      demo_reject_error (demo, error, "the pool could not start");
      return -1;
    }
  for (gint64 n = 0; n < NUMBERS; n++)
    g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID));
  results = mp_pool_map (pool, "global-not-inherited:scaled", args_list, RESULT_WAIT, &error);
  mp_pool_shutdown (pool, TRUE);
  if (results == NULL)
    {
      demo_reject_error (demo, error, "the tasks failed");
      return -1;
    }
  for (guint i = 0; i < NUMBERS; i++)
    {
      want[i] = (gint64) i * SCALE_SET;
      if (i >= results->len || !demo_value_get_int (results->pdata[i], &got[i]))
        {
          demo_reject (demo, "result %u is missing or not an integer", i);
          return -1;
        }
      wrong += got[i] != want[i];
    }
  got_text = demo_format_ints (got, NUMBERS);
  want_text = demo_format_ints (want, NUMBERS);
  demo_say ("results:  %s", got_text);
  demo_say ("expected: %s", want_text);
  demo_say ("wrong: %d of %d, errors: none", wrong, NUMBERS);
  return wrong;
}

static void
set_scale_at_run_time (Demo *demo)
{
  demo_step (demo, "main() loads its config: scale = %d (at load: %d).",
             SCALE_SET, SCALE_AT_LOAD);
  scale = SCALE_SET;
}

static gboolean
half_global (Demo *demo)
{
  MpStartMethod other = demo_get_start_method_without_copy (demo);
  gint wrong;

  set_scale_at_run_time (demo);
  demo_step (demo, "A pool under fork computes n * scale, n = 0..%d.",
             NUMBERS - 1);
  wrong = count_wrong_results (demo, MP_START_FORK, FALSE);
  if (wrong < 0)
    return FALSE;
  if (wrong > 0)
    return demo_reject (demo, "under fork %d result(s) were wrong already", wrong);
  demo_say ("=> fork workers are copies of this process: scale = %d",
            SCALE_SET);

  demo_step (demo, "The same pool under %s.", mp_start_method_to_string (other));
  wrong = count_wrong_results (demo, other, FALSE);
  if (wrong < 0)
    return FALSE;
  if (wrong == 0)
    return demo_reject (demo, "every result was right under %s",
                        mp_start_method_to_string (other));
  demo_say ("=> %d of %d results silently wrong: %s workers saw scale = %d,",
            wrong, NUMBERS, mp_start_method_to_string (other), SCALE_AT_LOAD);
  demo_say ("   the value the program starts with, not the one main() set");
  return TRUE;
}

static gboolean
half_initializer (Demo *demo)
{
  MpStartMethod other = demo_get_start_method_without_copy (demo);
  gint wrong;

  set_scale_at_run_time (demo);
  demo_step (demo, "Pass it on: a pool initializer, set-scale (%d), runs",
             SCALE_SET);
  demo_say ("once in each %s worker before its tasks.",
            mp_start_method_to_string (other));
  wrong = count_wrong_results (demo, other, TRUE);
  if (wrong != 0)
    return wrong < 0 ? FALSE
                     : demo_reject (demo, "%d result(s) wrong with the initializer", wrong);
  demo_say ("=> every worker has scale = %d: the state travelled as data",
            SCALE_SET);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "global-not-inherited",
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 2,
  .broken = half_global,
  .fixed = half_initializer,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
