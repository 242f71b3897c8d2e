/* test-demos.c — every demo, end to end
 *
 * Runs each demo binary (found in $MP_DEMO_DIR) with --broken and with
 * --fixed under each start method, and checks the exit status (0 only when
 * the demo's own checks passed) and the markers the output must carry: the
 * reproduced error's code name and key words, the verified result, and the
 * verdict line of the half that ran — and only that half.
 *
 * One row per demo: later demos add a row, nothing else. A second table
 * checks that a half which cannot happen says so and fails the exit status.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>

#include "mpshare.h"

#define MAX_MARKERS    6
#define RUN_BACKSTOP_S 240

typedef enum {
  HALF_BROKEN = 1 << 0,
  HALF_FIXED  = 1 << 1,
} Half;

typedef enum {
  METHOD_FORK  = 1 << 0,
  METHOD_SPAWN = 1 << 1,
} Methods;

typedef struct {
  const char *demo;
  guint       halves;                        /* Half flags */
  guint       methods;                       /* Methods flags */
  const char *broken_markers[MAX_MARKERS];   /* NULL-terminated */
  const char *fixed_markers[MAX_MARKERS];
} DemoRow;

static const DemoRow demo_rows[] = {
  { "missing-main-guard", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : bootstrapping", "before the current process has finished its bootstrapping phase",
      "[pitfall missing-main-guard]", NULL },
    { "squares from the children: [0, 1, 4, 9, 16, 25]", "loaded exactly once", NULL } },
  { "as-completed-order", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "appended list: [", "=> position 0 holds", NULL },
    { "table by index: [0, 1, 4, 9, 16, 25, 36, 49, 64]",
      "map results: [0, 1, 4, 9, 16, 25, 36, 49, 64]", NULL } },
  { "local-function", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : local-function", "Can't pickle local object", "[pitfall local-function]",
      NULL },
    { "results: [0, 1, 4, 9, 16, 25]", NULL } },
  { "broken-pool", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : broken-pool", "terminated abruptly", "[pitfall broken-pool]", NULL },
    { "results: [0, 1, 4, 9, <error>, 25, 36, 49, 64]", "the fresh pool is still healthy",
      NULL } },
  { "manager-squares", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "squared_nums (completion order): [SquaredNum(num=", "=> the list is complete, but the total is ",
      "workers wrote over each other's updates", NULL },
    { "SquaredNum(num=5, squared_num=25)", "squared_nums_total: 55\n",
      "=> checked: the list holds SquaredNum(n, n*n) for n in 0..5 and the total is 55", NULL } },
  { "cluster-pool", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "job finished. num: 8, squared_num: 64, pid: ", "<- another job was using it too",
      "jobs ran on a cluster that another job was using at the same time", NULL },
    { "job finished. num: 8, squared_num: 64, pid: ",
      "=> checked: 3 clusters served all 9 jobs, never two jobs at once", NULL } },
  { "cluster-pool-lock", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "(busy)", "=> 9 clusters were made for 9 jobs and none was reused", NULL },
    { "(available)", "=> checked: 3 clusters served all 9 jobs, all available again", NULL } },
  { "closed-manager", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : manager-closed", "'ForkAwareLocal' object has no attribute 'connection'",
      "[pitfall closed-manager]", "=> reading after the scope failed with manager-closed", NULL },
    { "squares, read after the manager shut down: [",
      "=> checked: the copy holds the squares of 0..5", NULL } },
  { "mutate-a-copy", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "num_before: 1, num_changed: 9, num_after: 1", "the change never left the worker", NULL },
    { "pop     pop list[0]", "lock    lock, fetch list[0]", "nested  list[0] is a Namespace proxy",
      "server  list[0] is a server-side Num", "=> checked: all 4 ways changed list[0] to 9", NULL } },
  { "unserializable-handle", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : unserializable", "Cluster.credentials: ", "cannot pickle",
      "[pitfall unserializable-handle]", "the list stayed empty", NULL },
    { "the worker's credentials name the project: squares-project",
      "=> checked: the recipe travelled", NULL } },
  { "manager-as-argument", HALF_BROKEN | HALF_FIXED, METHOD_FORK | METHOD_SPAWN,
    { "code   : auth-key-refused", "args[1].manager: ", "disallowed for security reasons",
      "[pitfall manager-as-argument]", NULL },
    { "squares appended by the workers, sorted: [0, 1, 4, 9, 16, 25]",
      "=> checked: the workers reached the manager through the proxy", NULL } },
};

/* Runs whose outcome must NOT be success: a verdict that cannot fail would
 * be worthless, and bad options must be refused. */
typedef struct {
  const char *path;
  const char *demo;
  const char *args[4];     /* NULL-terminated */
  int         status;
  const char *marker;
} DemoRefusal;

static const DemoRefusal demo_refusals[] = {
  /* one worker runs jobs in submission order: the broken half must admit it */
  { "/demos/as-completed-order/one-worker-cannot-reproduce", "as-completed-order",
    { "--broken", "--workers", "1", NULL }, 1,
    "\nbroken: NOT reproduced (with a single worker" },
  { "/demos/broken-pool/bad-workers", "broken-pool", { "--workers", "0", NULL }, 2,
    "--workers must be between 1 and" },
  { "/demos/local-function/bad-start-method", "local-function",
    { "--start-method", "thread", NULL }, 2, "unknown start method 'thread'" },
};

typedef struct {
  const DemoRow *row;
  Half           half;      /* 0: --help */
  const char    *method;
} DemoCase;

typedef struct {
  GAsyncResult *result;
  gboolean      timed_out;
} Wait;

static void
communicated (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static gboolean
backstop_reached (gpointer user_data)
{
  Wait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs @argv and returns its stdout and stderr together; kills it if it
 * is still running at the backstop (then the test fails). */
static char *
run_demo (const char * const *argv,
          int                *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  char *output = NULL;
  GSource *backstop;
  Wait wait = { NULL, FALSE };

  child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);

  g_main_context_push_thread_default (context);
  backstop = g_timeout_source_new_seconds (RUN_BACKSTOP_S);
  g_source_set_callback (backstop, backstop_reached, &wait, NULL);
  g_source_attach (backstop, context);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, communicated, &wait);
  while (wait.result == NULL)
    {
      g_main_context_iteration (context, TRUE);
      if (wait.timed_out)
        {
          g_subprocess_force_exit (child);
          wait.timed_out = FALSE;
          g_test_message ("%s still running after %d s: killed", argv[0],
                          RUN_BACKSTOP_S);
          g_test_fail ();
        }
    }
  g_source_destroy (backstop);
  g_source_unref (backstop);
  g_subprocess_communicate_utf8_finish (child, wait.result, &output, NULL, &error);
  g_object_unref (wait.result);
  g_main_context_pop_thread_default (context);
  g_assert_no_error (error);

  if (g_subprocess_get_if_exited (child))
    *exit_status = g_subprocess_get_exit_status (child);
  else
    *exit_status = 128 + g_subprocess_get_term_sig (child);
  return output;
}

static char *
demo_path (const char *demo)
{
  const char *dir = g_getenv ("MP_DEMO_DIR");

  if (dir == NULL)
    return NULL;
  return g_build_filename (dir, demo, NULL);
}

static gboolean
output_has (const char *output,
            const char *marker)
{
  return strstr (output, marker) != NULL;
}

/* the verdict line of a half, as demo-common prints it */
static gboolean
output_has_verdict (const char *output,
                    const char *verdict)
{
  g_autofree char *line = g_strdup_printf ("\n%s\n", verdict);

  return output_has (output, line);
}

static void
test_demo_half (gconstpointer data)
{
  const DemoCase *c = data;
  g_autofree char *path = demo_path (c->row->demo);
  g_autofree char *output = NULL;
  gboolean broken = c->half == HALF_BROKEN;
  const char * const *markers = broken ? c->row->broken_markers
                                       : c->row->fixed_markers;
  const char *argv[] = { path, broken ? "--broken" : "--fixed",
                         "--start-method", c->method, NULL };
  g_autoptr(GString) missing = g_string_new (NULL);
  int status = -1;

  if (path == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  output = run_demo (argv, &status);

  for (guint i = 0; markers[i] != NULL; i++)
    if (!output_has (output, markers[i]))
      g_string_append_printf (missing, " \"%s\"", markers[i]);
  if (!output_has_verdict (output, broken ? "broken: reproduced" : "fixed: verified"))
    g_string_append (missing, " (the verdict line)");
  /* only the half asked for ran */
  if (output_has (output, broken ? "=== The fixed half ===" : "=== The broken half ==="))
    g_string_append (missing, " (the other half should not have run)");

  if (status != 0 || missing->len > 0)
    {
      g_test_message ("---- output of %s %s --start-method %s ----\n%s", path,
                      argv[1], c->method, output);
      g_test_message ("exit status %d; missing:%s", status, missing->str);
    }
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (missing->str, ==, "");
}

static void
test_demo_help (gconstpointer data)
{
  const DemoCase *c = data;
  g_autofree char *path = demo_path (c->row->demo);
  g_autofree char *output = NULL;
  const char *argv[] = { path, "--help", NULL };
  int status = -1;

  if (path == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  output = run_demo (argv, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (output_has (output, "--broken"));
  g_assert_true (output_has (output, "--fixed"));
  g_assert_true (output_has (output, "--start-method"));
  g_assert_true (output_has (output, "Fix"));
  /* --help explains, it runs nothing */
  g_assert_false (output_has (output, "=== Verdict ==="));
}

static void
test_demo_refusal (gconstpointer data)
{
  const DemoRefusal *r = data;
  g_autofree char *path = demo_path (r->demo);
  g_autofree char *output = NULL;
  const char *argv[G_N_ELEMENTS (r->args) + 1] = { path };
  int status = -1;

  if (path == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  for (gsize i = 0; r->args[i] != NULL; i++)
    argv[i + 1] = r->args[i];
  output = run_demo (argv, &status);
  if (status != r->status || !output_has (output, r->marker))
    g_test_message ("---- output of %s ----\n%s", path, output);
  g_assert_cmpint (status, ==, r->status);
  g_assert_true (output_has (output, r->marker));
}

static void
add_demo_tests (const DemoRow *row,
                GPtrArray     *cases)
{
  static const struct { Methods flag; const char *name; } methods[] = {
    { METHOD_FORK, "fork" },
    { METHOD_SPAWN, "spawn" },
  };
  static const struct { Half flag; const char *name; } halves[] = {
    { HALF_BROKEN, "broken" },
    { HALF_FIXED, "fixed" },
  };
  DemoCase *help = g_new0 (DemoCase, 1);
  g_autofree char *help_path = g_strdup_printf ("/demos/%s/help", row->demo);

  help->row = row;
  g_ptr_array_add (cases, help);
  g_test_add_data_func (help_path, help, test_demo_help);

  for (gsize h = 0; h < G_N_ELEMENTS (halves); h++)
    for (gsize m = 0; m < G_N_ELEMENTS (methods); m++)
      {
        DemoCase *c;
        g_autofree char *test_path = NULL;

        if (!(row->halves & halves[h].flag) || !(row->methods & methods[m].flag))
          continue;
        c = g_new0 (DemoCase, 1);
        c->row = row;
        c->half = halves[h].flag;
        c->method = methods[m].name;
        g_ptr_array_add (cases, c);
        test_path = g_strdup_printf ("/demos/%s/%s/%s", row->demo,
                                     halves[h].name, methods[m].name);
        g_test_add_data_func (test_path, c, test_demo_half);
      }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) cases = g_ptr_array_new_with_free_func (g_free);

  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (demo_rows); i++)
    add_demo_tests (&demo_rows[i], cases);
  for (gsize i = 0; i < G_N_ELEMENTS (demo_refusals); i++)
    g_test_add_data_func (demo_refusals[i].path, &demo_refusals[i], test_demo_refusal);
  return g_test_run ();
}
