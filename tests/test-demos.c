/* test-demos.c — every demo, end to end
 *
 * Runs each demo binary (found in $MP_DEMO_DIR) with --broken and with
 * --fixed under each start method, and checks the exit status (0 only when
 * the demo's own checks passed) and the markers the output must carry: the
 * reproduced error's code name and key words, the verified result, and the
 * verdict line of the half that ran — and only that half.
 *
 * One row per demo: later demos add a row, nothing else. A demo with a
 * second mode adds a variant row (more arguments, its own test paths).
 * Demos that count lost updates also have their printed counts checked
 * against each other. A last table checks that a half which cannot
 * happen says so and fails the exit status.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>

#include "mpshare.h"
#include "test-common.h"

#define MAX_MARKERS    6
#define RUN_BACKSTOP_S 240

typedef enum {
  HALF_BROKEN = 1 << 0,
  HALF_FIXED  = 1 << 1,
} Half;

typedef enum {
  METHOD_FORK  = 1 << 0,
  METHOD_SPAWN = 1 << 1,
  METHOD_FORKSERVER = 1 << 2,
} Methods;

#define METHODS_ALL (METHOD_FORK | METHOD_SPAWN | METHOD_FORKSERVER)

typedef struct {
  const char *demo;
  guint       halves;                        /* Half flags */
  guint       methods;                       /* Methods flags */
  const char *broken_markers[MAX_MARKERS];   /* NULL-terminated */
  const char *fixed_markers[MAX_MARKERS];
} DemoRow;

static const DemoRow demo_rows[] = {
  { "missing-main-guard", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : bootstrapping", "before the current process has finished its bootstrapping phase",
      "[pitfall missing-main-guard]", NULL },
    { "squares from the children: [0, 1, 4, 9, 16, 25]", "loaded exactly once", NULL } },
  { "global-not-inherited", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "=> 7 of 8 results silently wrong", "errors: none", NULL },
    { "=> every worker has scale = 10", NULL } },
  { "fork-with-threads", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "the log lock is held by a thread that does not exist", "would block forever",
      "may lead to deadlocks in the child", NULL },
    { "took the log lock and logged a line", "nothing was held", NULL } },
  { "as-completed-order", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "appended list: [", "=> position 0 holds", NULL },
    { "table by index: [0, 1, 4, 9, 16, 25, 36, 49, 64]",
      "map results: [0, 1, 4, 9, 16, 25, 36, 49, 64]", NULL } },
  { "local-function", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : local-function", "Can't pickle local object", "[pitfall local-function]",
      NULL },
    { "results: [0, 1, 4, 9, 16, 25]", NULL } },
  { "broken-pool", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : broken-pool", "terminated abruptly", "[pitfall broken-pool]", NULL },
    { "results: [0, 1, 4, 9, <error>, 25, 36, 49, 64]", "the fresh pool is still healthy",
      NULL } },
  { "shared-squares", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "squares: [0, 0, 0, 0, 0, 0]\n", "total: 0\n", "all 6 processes exited with 0", NULL },
    { "squares: [0, 1, 4, 9, 16, 25]\n", "total: 55\n", NULL } },
  { "inheritance-only", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : inheritance-only", "should only be shared between processes through inheritance",
      "[pitfall inheritance-only]", NULL },
    { "squares (one process per task): [0, 1, 4, 9, 16, 25]",
      "squares (pool initializer): [0, 1, 4, 9, 16, 25]", "max_workers = 3 still holds",
      "squares (named shared memory): [0, 1, 4, 9, 16, 25]", "all three fixes verified", NULL } },
  /* deterministic: 3 forced pairs of updates lose exactly 3, every run */
  { "lost-update", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "final total: 3 (expected 6)", "updates lost: 3 (predicted 3)",
      "|*[total -> 0]\n", "|*[total <- 1]\n", NULL },
    { "final total: 6 (expected 6)", "updates lost: 0 (predicted 0)",
      "|timeout total\n", "|total -> 1\n", NULL } },
  { "lock-false", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : no-lock", "[pitfall lock-false]", "(measured)", NULL },
    { "its lock: an MpRLock", "both fixes verified", NULL } },
  { "manager-squares", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "squared_nums (completion order): [SquaredNum(num=", "=> the list is complete, but the total is ",
      "workers wrote over each other's updates", NULL },
    { "SquaredNum(num=5, squared_num=25)", "squared_nums_total: 55\n",
      "=> checked: the list holds SquaredNum(n, n*n) for n in 0..5 and the total is 55", NULL } },
  { "cluster-pool", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "job finished. num: 8, squared_num: 64, pid: ", "<- another job was using it too",
      "jobs ran on a cluster that another job was using at the same time", NULL },
    { "job finished. num: 8, squared_num: 64, pid: ",
      "=> checked: 3 clusters served all 9 jobs, never two jobs at once", NULL } },
  { "cluster-pool-lock", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "(busy)", "=> 9 clusters were made for 9 jobs and none was reused", NULL },
    { "(available)", "=> checked: 3 clusters served all 9 jobs, all available again", NULL } },
  { "closed-manager", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : manager-closed", "'ForkAwareLocal' object has no attribute 'connection'",
      "[pitfall closed-manager]", "=> reading after the scope failed with manager-closed", NULL },
    { "squares, read after the manager shut down: [",
      "=> checked: the copy holds the squares of 0..5", NULL } },
  { "mutate-a-copy", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "num_before: 1, num_changed: 9, num_after: 1", "the change never left the worker", NULL },
    { "pop     pop list[0]", "lock    lock, fetch list[0]", "nested  list[0] is a Namespace proxy",
      "server  list[0] is a server-side Num", "=> checked: all 4 ways changed list[0] to 9", NULL } },
  { "unserializable-handle", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : unserializable", "Cluster.credentials: ", "cannot pickle",
      "[pitfall unserializable-handle]", "the list stayed empty", NULL },
    { "the worker's credentials name the project: squares-project",
      "=> checked: the recipe travelled", NULL } },
  { "manager-as-argument", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
    { "code   : auth-key-refused", "args[1].manager: ", "disallowed for security reasons",
      "[pitfall manager-as-argument]", NULL },
    { "squares appended by the workers, sorted: [0, 1, 4, 9, 16, 25]",
      "=> checked: the workers reached the manager through the proxy", NULL } },
};

/* The same demo again with more arguments, as /demos/<demo>/<variant>/... */
typedef struct {
  DemoRow     row;
  const char *variant;
  const char *args[4];                       /* NULL-terminated */
} DemoVariant;

static const DemoVariant demo_variants[] = {
  { { "lost-update", HALF_BROKEN | HALF_FIXED, METHODS_ALL,
      { "(measured)", "vanished, silently", NULL },
      { "final total: 400000 (expected 400000)", NULL } },
    "race", { "--race", NULL } },
};

/* Runs whose outcome must NOT be success: a verdict that cannot fail would
 * be worthless, and bad options must be refused. */
typedef struct {
  const char *path;
  const char *demo;
  const char *args[8];     /* NULL-terminated */
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
  /* nothing typed is ignored: a typo would silently run something else */
  { "/demos/lock-false/unknown-option", "lock-false",
    { "--brokn", NULL }, 2,
    "Unknown option --brokn\nUsage: lock-false [--broken | --fixed]" },
  { "/demos/shared-squares/stray-argument", "shared-squares",
    { "--fixed", "spawn", NULL }, 2,
    "unexpected argument 'spawn'\nUsage: shared-squares [--broken | --fixed]" },
  { "/demos/local-function/bad-start-method", "local-function",
    { "--start-method", "thread", NULL }, 2, "unknown start method 'thread'" },
  /* one process alone cannot race: the measured loss must be zero, said so */
  { "/demos/lock-false/one-process-cannot-race", "lock-false",
    { "--broken", "--workers", "1", "--iterations", "1000", NULL }, 1,
    "\nbroken: NOT reproduced (no update was lost in 3 runs" },
  { "/demos/lost-update/race/one-process-cannot-race", "lost-update",
    { "--broken", "--race", "--workers", "1", "--iterations", "1000", NULL }, 1,
    "\nbroken: NOT reproduced (no update was lost in 3 runs" },
  { "/demos/lost-update/bad-iterations", "lost-update",
    { "--race", "--iterations", "0", NULL }, 1,
    "\nfixed: NOT verified (--iterations must be between 1 and" },
};

typedef struct {
  const DemoRow *row;
  Half           half;      /* 0: --help */
  const char    *method;
  const char * const *extra_args;   /* NULL or NULL-terminated */
} DemoCase;

/* Runs @argv and returns its stdout and stderr together; kills it if it
 * is still running at the backstop (then the test fails). */
static char *
run_demo (const char * const *argv,
          int                *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) child = NULL;

  child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_MERGE, &error);
  g_assert_no_error (error);

  return test_communicate (child, argv[0], RUN_BACKSTOP_S, exit_status);
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

/* Demos that count lost updates print pairs of lines
 *   final total: F (expected E)
 *   updates lost: L (predicted P | measured)
 * The numbers must agree: L = E - F, L = P when predicted; a broken half
 * ends with L > 0 (earlier runs, retried because they lost nothing, have
 * L = 0); a fixed half never loses one. */
static void
check_lost_update_counts (const char *output,
                          Half        half,
                          GString    *missing)
{
  g_autoptr(GRegex) regex = g_regex_new ("final (?:total|count): (-?\\d+) \\(expected (-?\\d+)\\)\n"
                                         " *updates lost: (-?\\d+)(?: \\(predicted (-?\\d+)\\))?",
                                         0, 0, NULL);
  g_autoptr(GMatchInfo) match = NULL;
  gint64 lost = -1;
  guint runs = 0;

  g_assert_nonnull (regex);
  for (g_regex_match (regex, output, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *final_text = g_match_info_fetch (match, 1);
      g_autofree char *expected_text = g_match_info_fetch (match, 2);
      g_autofree char *lost_text = g_match_info_fetch (match, 3);
      g_autofree char *predicted_text = g_match_info_fetch (match, 4);
      gint64 final_total = g_ascii_strtoll (final_text, NULL, 10);
      gint64 expected = g_ascii_strtoll (expected_text, NULL, 10);

      if (half == HALF_BROKEN && runs > 0 && lost != 0)
        g_string_append (missing, " (a run after one that lost updates)");
      lost = g_ascii_strtoll (lost_text, NULL, 10);
      runs++;
      if (lost != expected - final_total)
        g_string_append_printf (missing, " (lost %" G_GINT64_FORMAT " != %"
                                G_GINT64_FORMAT " - %" G_GINT64_FORMAT ")",
                                lost, expected, final_total);
      if (predicted_text != NULL && *predicted_text != '\0' &&
          lost != g_ascii_strtoll (predicted_text, NULL, 10))
        g_string_append_printf (missing, " (lost %" G_GINT64_FORMAT
                                " but predicted %s)", lost, predicted_text);
      if (half == HALF_FIXED && lost != 0)
        g_string_append_printf (missing, " (the fix lost %" G_GINT64_FORMAT ")", lost);
    }
  if (runs > 0 && half == HALF_BROKEN && lost <= 0)
    g_string_append (missing, " (no update was lost)");
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
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *command = NULL;
  g_autoptr(GString) missing = g_string_new (NULL);
  int status = -1;

  if (path == NULL)
    {
      g_test_skip ("MP_DEMO_DIR is not set");
      return;
    }
  g_ptr_array_add (argv, path);
  g_ptr_array_add (argv, (gpointer) (broken ? "--broken" : "--fixed"));
  g_ptr_array_add (argv, (gpointer) "--start-method");
  g_ptr_array_add (argv, (gpointer) c->method);
  for (guint i = 0; c->extra_args != NULL && c->extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) c->extra_args[i]);
  g_ptr_array_add (argv, NULL);
  command = g_strjoinv (" ", (char **) argv->pdata);
  output = run_demo ((const char * const *) argv->pdata, &status);

  for (guint i = 0; markers[i] != NULL; i++)
    if (!output_has (output, markers[i]))
      g_string_append_printf (missing, " \"%s\"", markers[i]);
  if (!output_has_verdict (output, broken ? "broken: reproduced" : "fixed: verified"))
    g_string_append (missing, " (the verdict line)");
  /* only the half asked for ran */
  if (output_has (output, broken ? "=== The fixed half ===" : "=== The broken half ==="))
    g_string_append (missing, " (the other half should not have run)");
  check_lost_update_counts (output, c->half, missing);

  if (status != 0 || missing->len > 0)
    {
      g_test_message ("---- output of %s ----\n%s", command, output);
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

/* @variant: NULL for the demo's own row, else a name for @extra_args */
static void
add_demo_tests (const DemoRow      *row,
                const char         *variant,
                const char * const *extra_args,
                GPtrArray          *cases)
{
  static const struct { Methods flag; const char *name; } methods[] = {
    { METHOD_FORK, "fork" },
    { METHOD_SPAWN, "spawn" },
    { METHOD_FORKSERVER, "forkserver" },
  };
  static const struct { Half flag; const char *name; } halves[] = {
    { HALF_BROKEN, "broken" },
    { HALF_FIXED, "fixed" },
  };
  g_autofree char *prefix = variant != NULL
                              ? g_strdup_printf ("/demos/%s/%s", row->demo, variant)
                              : g_strdup_printf ("/demos/%s", row->demo);

  if (variant == NULL)
    {
      DemoCase *help = g_new0 (DemoCase, 1);
      g_autofree char *help_path = g_strdup_printf ("%s/help", prefix);

      help->row = row;
      g_ptr_array_add (cases, help);
      g_test_add_data_func (help_path, help, test_demo_help);
    }

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
        c->extra_args = extra_args;
        g_ptr_array_add (cases, c);
        test_path = g_strdup_printf ("%s/%s/%s", prefix, halves[h].name,
                                     methods[m].name);
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
    add_demo_tests (&demo_rows[i], NULL, NULL, cases);
  for (gsize i = 0; i < G_N_ELEMENTS (demo_variants); i++)
    add_demo_tests (&demo_variants[i].row, demo_variants[i].variant,
                    demo_variants[i].args, cases);
  for (gsize i = 0; i < G_N_ELEMENTS (demo_refusals); i++)
    g_test_add_data_func (demo_refusals[i].path, &demo_refusals[i], test_demo_refusal);
  return g_test_run ();
}
