/* explain-bench.c — how long mp_explain() takes on large adversarial texts
 *
 * Each row builds one text of a given size and prints the best of
 * --repeats timings. The texts are the worst cases known: a needle that
 * needs context, repeated without it (the input that made explain
 * quadratic), the same in many small blocks, many pitfall tags, a real
 * traceback repeated, escape sequences everywhere, and one endless line.
 * Sizes: 1 MiB and MP_EXPLAIN_MAX_TEXT, the largest text mp_explain()
 * takes. A benchmark, never a test: nothing is asserted about the times.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mpshare.h"

static const struct {
  const char *name;
  const char *unit;   /* repeated to fill the text */
} shapes[] = {
  { "EOFError lines", "EOFError\n" },
  { "EOFError blocks", "Traceback (most recent call last):\n"
                       "  File \"managers.py\"\nEOFError\n" },
  { "pitfall tags", "[pitfall lost-update [pitfall x] lost-updates " },
  { "a traceback", "Traceback (most recent call last):\n"
                   "  File \"/usr/lib/python3.11/multiprocessing/managers.py\", "
                   "line 817, in _callmethod\n"
                   "    conn = self._tls.connection\n"
                   "AttributeError: 'ForkAwareLocal' object has no attribute "
                   "'connection'\n" },
  { "colour codes", "\033[0;31mBroken\033[0mPipe\033[1mError\033[0m\r\n" },
  { "one long line", "EOFError BrokenPipeError cannot pickle " },
};

static char *
build_text (const char *unit,
            gsize       size)
{
  gsize unit_len = strlen (unit);
  char *text = g_malloc (size + 1);

  for (gsize i = 0; i < size; i++)
    text[i] = unit[i % unit_len];
  text[size] = '\0';
  return text;
}

static double
cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The best wall-clock and CPU times of @repeats runs. On a loaded machine
 * the wall clock also counts other programs' turns; the CPU time is what
 * explain itself costs. */
static void
time_explain (const char *text,
              gsize       size,
              gint64      repeats,
              double     *wall,
              double     *cpu)
{
  *wall = *cpu = G_MAXDOUBLE;
  for (gint64 r = 0; r < repeats; r++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) matches = NULL;
      gint64 start = g_get_monotonic_time ();
      double cpu_start = cpu_seconds ();

      matches = mp_explain (text, size, &error);
      g_assert_no_error (error);
      *cpu = MIN (*cpu, cpu_seconds () - cpu_start);
      *wall = MIN (*wall, (g_get_monotonic_time () - start) / 1e6);
    }
}

int
main (int    argc,
      char **argv)
{
  gint64 repeats = 3;
  gboolean quick = FALSE;
  const GOptionEntry options[] = {
    { "repeats", 'r', 0, G_OPTION_ARG_INT64, &repeats, "Runs per row; the best counts", "N" },
    { "quick", 'q', 0, G_OPTION_ARG_NONE, &quick, "Small texts only (smoke test, figures meaningless)", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("");
  g_autoptr(GError) error = NULL;
  const gsize sizes[] = { 1024 * 1024, MP_EXPLAIN_MAX_TEXT };

  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 1 ||
      repeats < 1)
    {
      g_printerr ("explain-bench: %s\n",
                  error != NULL ? error->message : "bad arguments");
      return 2;
    }

  printf ("mp_explain() on adversarial texts, best of %" G_GINT64_FORMAT "%s\n",
          repeats, quick ? " (--quick: figures are not meaningful)" : "");
  printf ("%-20s %10s %12s %12s\n", "text", "bytes", "wall (s)", "CPU (s)");
  for (gsize s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (gsize i = 0; i < G_N_ELEMENTS (shapes); i++)
      {
        gsize size = quick ? sizes[s] / 256 : sizes[s];
        g_autofree char *text = build_text (shapes[i].unit, size);
        double wall, cpu;

        time_explain (text, size, repeats, &wall, &cpu);
        printf ("%-20s %10" G_GSIZE_FORMAT " %12.3f %12.3f\n", shapes[i].name,
                size, wall, cpu);
        fflush (stdout);
      }
  return 0;
}
