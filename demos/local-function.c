/* local-function.c — a task must be something another process can find
 *
 * Python pickles a function by its module-level name, so a lambda or a
 * function defined inside main() cannot be sent to a pool ("Can't pickle
 * local object"). In C the same holds for every start method: a function
 * pointer or a closure means nothing in another address space (and after
 * exec, nothing at all), and a task name is only worth something if every
 * worker registered it when the program loaded.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define N_NUMBERS      6
#define RESULT_TIMEOUT (60 * G_USEC_PER_SEC)

static const char summary[] =
  "A pool task has to travel to another process. A function pointer or a\n"
  "closure cannot (Python: \"Can't pickle local object\"), and a task name\n"
  "registered only at run time, or never, is unknown where the task must run.\n"
  "Fix: register the task by name when the program loads (MP_TASK_DEFINE,\n"
  "before mp_main_guard() runs) and submit it by that name.";

/* ---- tasks ---------------------------------------------------------------- */

static gboolean
square (MpArgs  *args,
        GValue  *result,
        GError **error)
{
  gint64 n;

  if (mp_args_get_length (args) < 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "square takes (number)");
      return FALSE;
    }
  n = mp_args_get_int (args, mp_args_get_length (args) - 1);
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  return TRUE;
}
/* The fix: known to every process from the moment the binary loads. */
MP_TASK_DEFINE ("square", square)

/* "call the function I give you": the shape of the mistake. It never gets
 * to run with a function, because the arguments cannot be serialized. */
static gboolean
apply (MpArgs  *args,
       GValue  *result,
       GError **error)
{
  mp_set_error (error, MP_ERROR_FAILED, "apply ran, but a function cannot have "
                "reached this process");
  return FALSE;
}
MP_TASK_DEFINE ("apply", apply)

/* ---- the broken half ------------------------------------------------------- */

typedef enum {
  CASE_REGISTERED_LATE,
  CASE_NEVER_REGISTERED,
  CASE_FUNCTION_POINTER,
  CASE_CLOSURE,
} CaseKind;

typedef struct {
  CaseKind    kind;
  const char *story;
  MpError     expected[2];    /* the library may name either class */
  guint       n_expected;
} Case;

static const Case cases[] = {
  { CASE_REGISTERED_LATE,
    "a task registered at run time, inside main() after the guard",
    { MP_ERROR_LOCAL_FUNCTION }, 1 },
  { CASE_NEVER_REGISTERED,
    "a task name that was never registered (a typo: \"sqaure\")",
    { MP_ERROR_LOCAL_FUNCTION }, 1 },
  { CASE_FUNCTION_POINTER,
    "the function itself, as a pointer among the arguments",
    { MP_ERROR_UNSERIALIZABLE, MP_ERROR_LOCAL_FUNCTION }, 2 },
  { CASE_CLOSURE,
    "a closure (GClosure) that captured a local variable",
    { MP_ERROR_UNSERIALIZABLE, MP_ERROR_LOCAL_FUNCTION }, 2 },
};

static void
define_a_task_at_run_time (Demo *demo)
{
  demo_step (demo, "Define a task inside main(), after the guard has run.");
  demo_say ("mp_task_register (\"square-registered-late\", square) runs only "
            "now, not when the program loads:");
  demo_say ("a spawned worker runs main() afresh and is diverted by the guard "
            "before this line; a forked worker is a copy made when the pool "
            "started, before it too");
  mp_task_register ("square-registered-late", square);
}

static MpArgs *
args_for_case (const Case *c,
               gint64      n,
               gint64     *captured)
{
  MpArgs *args = mp_args_new (G_TYPE_INVALID);
  GValue value = G_VALUE_INIT;

  switch (c->kind)
    {
    case CASE_FUNCTION_POINTER:
      {
        /* a function pointer stored as data, the way C code passes it */
        union { MpTaskFunc func; gpointer data; } func = { .func = square };

        g_value_init (&value, G_TYPE_POINTER);
        g_value_set_pointer (&value, func.data);
        mp_args_add_value (args, &value);
        g_value_unset (&value);
      }
      break;
    case CASE_CLOSURE:
      {
        GClosure *closure = g_cclosure_new (G_CALLBACK (square), captured, NULL);

        g_closure_ref (closure);
        g_closure_sink (closure);
        g_value_init (&value, G_TYPE_CLOSURE);
        g_value_take_boxed (&value, closure);
        mp_args_add_value (args, &value);
        g_value_unset (&value);
      }
      break;
    case CASE_REGISTERED_LATE:
    case CASE_NEVER_REGISTERED:
    default:
      break;
    }
  mp_args_add_int (args, n);
  return args;
}

static const char *
task_for_case (const Case *c)
{
  switch (c->kind)
    {
    case CASE_REGISTERED_LATE:
      return "square-registered-late";
    case CASE_NEVER_REGISTERED:
      return "sqaure";
    case CASE_FUNCTION_POINTER:
    case CASE_CLOSURE:
    default:
      return "apply";
    }
}

/* Submits the case and waits for it. Returns the error it ended with, or
 * %NULL if (wrongly) it worked; @where says which side refused it. */
static GError *
submit_and_wait (MpPool      *pool,
                 const Case  *c,
                 const char **where,
                 GValue      *result)
{
  gint64 captured = 3;
  g_autoptr(MpArgs) args = args_for_case (c, 4, &captured);
  g_autoptr(MpFuture) future = NULL;
  GError *error = NULL;

  *where = "refused in the parent, at submit";
  future = mp_pool_submit (pool, task_for_case (c), args, &error);
  if (future == NULL)
    return error;
  *where = "failed when the worker got it";
  mp_future_result (future, RESULT_TIMEOUT, result, &error);
  return error;
}

static gboolean
error_is_expected (const Case   *c,
                   const GError *error)
{
  for (guint i = 0; i < c->n_expected; i++)
    if (demo_error_is_mp (error, c->expected[i]))
      return TRUE;
  return FALSE;
}

static gboolean
try_case (Demo       *demo,
          MpPool     *pool,
          const Case *c)
{
  g_auto(GValue) result = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;
  const char *where = NULL;

  demo_step (demo, "Submit %s.", c->story);
  error = submit_and_wait (pool, c, &where, &result);
  if (error == NULL)
    {
      g_autofree char *shown = mp_gvalue_to_string (&result);

      demo_say ("it ran and returned %s", shown);
      return demo_reject (demo, "%s was accepted and ran under %s", c->story,
                          mp_start_method_to_string (demo_get_start_method (demo)));
    }
  demo_say ("%s:", where);
  demo_print_error (error);
  demo_say ("(Python refuses a lambda or a function defined inside main() the "
            "same way: \"Can't pickle local object\")");
  if (!error_is_expected (c, error))
    return demo_reject (demo, "%s failed, but with %s instead of %s", c->story,
                        error->domain == MP_ERROR
                          ? mp_error_code_name ((MpError) error->code)
                          : g_quark_to_string (error->domain),
                        mp_error_code_name (c->expected[0]));
  return TRUE;
}

static gboolean
half_tasks_that_cannot_travel (Demo *demo)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  demo_step (demo, "Start a pool of %u workers (%s).", demo_get_workers (demo),
             mp_start_method_to_string (demo_get_start_method (demo)));
  pool = mp_pool_new (demo_get_workers (demo), &error);
  if (pool == NULL)
    return demo_reject_error (demo, error, "the pool did not start");
  define_a_task_at_run_time (demo);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    ok &= try_case (demo, pool, &cases[i]);
  if (ok)
    demo_say ("=> all %u attempts failed with a clear error, none crashed a "
              "worker or hung", (guint) G_N_ELEMENTS (cases));
  mp_pool_shutdown (pool, TRUE);
  return ok;
}

/* ---- the fixed half -------------------------------------------------------- */

static gboolean
half_registered_by_name (Demo *demo)
{
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  gint64 squares[N_NUMBERS];
  g_autofree char *shown = NULL;

  demo_step (demo, "The task \"square\" is registered when the program loads "
             "(MP_TASK_DEFINE), so every worker knows it, fork or spawn.");
  demo_step (demo, "Start a pool of %u workers (%s) and submit \"square\" by "
             "name for 0..%d.", demo_get_workers (demo),
             mp_start_method_to_string (demo_get_start_method (demo)),
             N_NUMBERS - 1);
  pool = mp_pool_new (demo_get_workers (demo), &error);
  for (gint64 n = 0; pool != NULL && n < N_NUMBERS; n++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (pool, "square", args, &error);

      if (future == NULL)
        break;
      g_ptr_array_add (futures, future);
    }
  if (error != NULL)
    {
      if (pool != NULL)
        mp_pool_shutdown (pool, TRUE);
      return demo_reject_error (demo, error, "submitting by name failed");
    }

  demo_step (demo, "Read each future's result, in submission order.");
  for (guint i = 0; i < N_NUMBERS; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      if (!mp_future_result (futures->pdata[i], RESULT_TIMEOUT, &value, &error))
        {
          mp_pool_shutdown (pool, TRUE);
          return demo_reject_error (demo, error, "job %u failed", i);
        }
      if (!demo_value_get_int (&value, &squares[i]))
        {
          mp_pool_shutdown (pool, TRUE);
          return demo_reject (demo, "job %u did not return an integer", i);
        }
    }
  mp_pool_shutdown (pool, TRUE);

  shown = demo_format_ints (squares, N_NUMBERS);
  demo_say ("results: %s", shown);
  for (guint i = 0; i < N_NUMBERS; i++)
    if (squares[i] != (gint64) i * i)
      return demo_reject (demo, "job %u returned %" G_GINT64_FORMAT, i, squares[i]);
  demo_say ("=> checked: every result is n*n");
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "local-function",
  .summary = summary,
  .uses_workers = TRUE,
  .default_workers = 3,
  .broken = half_tasks_that_cannot_travel,
  .fixed = half_registered_by_name,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
