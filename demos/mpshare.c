/* mpshare.c — the classroom front: list, run, tour and explain the pitfalls
 *
 *   mpshare list                     the catalog, one line per id
 *   mpshare run ID [DEMO OPTION…]    one demo (its options pass through);
 *                                    --python runs its Python programs first
 *   mpshare tour                     every demo, broken then fixed, a table
 *   mpshare explain [TEXT…|-]        which pitfall an error message shows
 *                                    (--why, --ids, --format=json)
 *   mpshare check FILE.py…|DIR|-     the pitfalls Python source shows
 *   mpshare trace show FILE.json     the swimlane of a saved trace
 *   mpshare trace summary FILE.json  per process: lifetime, waits, calls
 *
 * Demos are found in $MP_DEMO_DIR when it is set, else next to this binary
 * when it runs from the build tree, else in libexecdir/mpshare where they
 * are installed (found from this binary's place first). The Python programs of
 * `run --python` are found in $MP_PYTHON_DIR when it is set, else in the
 * source tree this binary was built from, else where they are installed.
 *
 * Exit status: 0 success; 1 a tour row failed, explain matched nothing or
 * check found a pitfall; 2 bad usage (unknown command or id, demo not
 * built, a trace file that cannot be read, a file check cannot read as
 * Python); a demo run by `run` exits with its own status.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib-unix.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>
#include <json-glib/json-glib.h>

#include "mpshare.h"
#include "demo-text.h"
#include "tour-html.h"

#define WIDTH 79          /* stay inside an 80-column terminal */
#define ID_COLUMN 21      /* the longest id, "unserializable-handle" */

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

/* ---- output ------------------------------------------------------------ */

static gboolean use_colour;

/* --color=auto|always|never (or --color WHEN), anywhere on the command
 * line, is taken out of @argv here, before any command parses the rest.
 * auto: colour on a terminal, unless NO_COLOR is set and not empty (as
 * https://no-color.org says) or TERM is dumb. Returns FALSE on a bad
 * value, said on stderr. */
static gboolean
decide_colour (int   *argc,
               char **argv)
{
  const char *when = "auto";
  const char *no_color = g_getenv ("NO_COLOR");
  int kept = 1;

  for (int i = 1; i < *argc; i++)
    {
      if (g_str_has_prefix (argv[i], "--color="))
        when = argv[i] + strlen ("--color=");
      else if (g_str_equal (argv[i], "--color") && i + 1 < *argc)
        when = argv[++i];
      else
        argv[kept++] = argv[i];
    }
  argv[kept] = NULL;
  *argc = kept;

  if (g_str_equal (when, "always"))
    use_colour = TRUE;
  else if (g_str_equal (when, "never"))
    use_colour = FALSE;
  else if (g_str_equal (when, "auto"))
    use_colour = isatty (STDOUT_FILENO) && (no_color == NULL || *no_color == '\0') &&
                 g_strcmp0 (g_getenv ("TERM"), "dumb") != 0;
  else
    {
      g_printerr ("mpshare: --color takes auto, always or never, not \"%s\"\n", when);
      return FALSE;
    }
  return TRUE;
}

/* A copy of @text, wrapped in an SGR colour when colour is on. */
static char *
paint (const char *sgr,
       const char *text)
{
  if (!use_colour)
    return g_strdup (text);
  return g_strdup_printf ("\033[%sm%s\033[0m", sgr, text);
}

#define BOLD "1"
#define GREEN "32"
#define RED "31"
#define YELLOW "33"

/* Prints @text word-wrapped to WIDTH on @out: the first line after
 * @first, the others after as many spaces. */
static void
print_wrapped_to (FILE       *out,
                  const char *first,
                  const char *text)
{
  glong indent = g_utf8_strlen (first, -1);
  g_auto(GStrv) words = g_strsplit_set (text, " \n", -1);
  GString *line = g_string_new (first);
  glong used = indent;
  gboolean empty = TRUE;

  for (guint i = 0; words[i] != NULL; i++)
    {
      glong len = g_utf8_strlen (words[i], -1);

      if (len == 0)
        continue;
      if (!empty && used + 1 + len > WIDTH)
        {
          fprintf (out, "%s\n", line->str);
          g_string_assign (line, "");
          for (glong s = 0; s < indent; s++)
            g_string_append_c (line, ' ');
          used = indent;
          empty = TRUE;
        }
      if (!empty)
        {
          g_string_append_c (line, ' ');
          used++;
        }
      g_string_append (line, words[i]);
      used += len;
      empty = FALSE;
    }
  fprintf (out, "%s\n", line->str);
  g_string_free (line, TRUE);
}

static void
print_wrapped (const char *first,
               const char *text)
{
  print_wrapped_to (stdout, first, text);
}

/* @text cut to @max characters, with an ellipsis when cut. */
static char *
truncate_to (const char *text,
             glong       max)
{
  g_autofree char *head = NULL;

  if (g_utf8_strlen (text, -1) <= max)
    return g_strdup (text);
  head = g_utf8_substring (text, 0, max - 1);
  return g_strconcat (head, "…", NULL);
}

static void
print_rule (void)
{
  GString *rule = g_string_new (NULL);

  for (int i = 0; i < WIDTH; i++)
    g_string_append (rule, "─");
  g_print ("%s\n", rule->str);
  g_string_free (rule, TRUE);
}

/* ---- finding the demos -------------------------------------------------- */

static char *
self_dir (void)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);

  return exe != NULL ? g_path_get_dirname (exe) : NULL;
}

static gboolean
same_file (const char *a,
           const char *b)
{
  struct stat sa, sb;

  return stat (a, &sa) == 0 && stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Where demos are looked for, in order. $MP_DEMO_DIR, when set, is the only
 * place: it lets tests and classrooms point at one set of demos. Run from
 * the build tree, mpshare finds the demos built beside it; installed, in
 * libexecdir/mpshare, found from where the binary is (so an install moved
 * as a whole, or made into a DESTDIR, still works) and then where it was
 * configured to go. */
static GPtrArray *
demo_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("MP_DEMO_DIR");
  g_autofree char *self = self_dir ();

  if (env != NULL && *env != '\0')
    {
      g_ptr_array_add (dirs, g_strdup (env));
      return dirs;
    }
  if (self != NULL && same_file (self, MP_DEMO_BUILD_DIR))
    {
      g_ptr_array_add (dirs, g_steal_pointer (&self));
      return dirs;
    }
#ifdef MP_DEMO_RELATIVE_DIR
  if (self != NULL)
    {
      g_autofree char *near = g_build_filename (self, MP_DEMO_RELATIVE_DIR, NULL);
      char *dir = g_canonicalize_filename (near, NULL);

      if (!g_str_equal (dir, MP_DEMO_INSTALL_DIR))
        g_ptr_array_add (dirs, dir);
      else
        g_free (dir);
    }
#endif
  g_ptr_array_add (dirs, g_strdup (MP_DEMO_INSTALL_DIR));
  return dirs;
}

/* Returns: (nullable): the path of @entry's demo, %NULL if not built. */
static char *
find_demo (const MpCatalogEntry *entry,
           GPtrArray            *dirs)
{
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path = g_build_filename (g_ptr_array_index (dirs, i),
                                                entry->demo, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_EXECUTABLE) &&
          !g_file_test (path, G_FILE_TEST_IS_DIR))
        return g_steal_pointer (&path);
    }
  return NULL;
}

static char *
describe_dirs (GPtrArray *dirs)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < dirs->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? ", " : "",
                            (const char *) g_ptr_array_index (dirs, i));
  return g_string_free (text, FALSE);
}

/* ---- did you mean ------------------------------------------------------ */

/* The edit distance of @a and @b: insertions, deletions, substitutions
 * and swaps of two neighbours ("tuor") each count 1 (optimal string
 * alignment). Words longer than 64 bytes are never typos of ours. */
static guint
edit_distance (const char *a,
               const char *b)
{
  enum { MAX = 64 };
  gsize la = strlen (a), lb = strlen (b);
  guint d[MAX + 1][MAX + 1];

  if (la > MAX || lb > MAX)
    return G_MAXUINT;
  for (gsize i = 0; i <= la; i++)
    d[i][0] = i;
  for (gsize j = 0; j <= lb; j++)
    d[0][j] = j;
  for (gsize i = 1; i <= la; i++)
    for (gsize j = 1; j <= lb; j++)
      {
        guint cost = g_ascii_tolower (a[i - 1]) != g_ascii_tolower (b[j - 1]);

        d[i][j] = MIN (MIN (d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = MIN (d[i][j], d[i - 2][j - 2] + 1);
      }
  return d[la][lb];
}

/* The one of @candidates (NULL-terminated) that @word is most likely a
 * typo of, or NULL when none is close: one edit in a word of up to four
 * letters, two up to eight, three beyond. */
static const char *
did_you_mean (const char         *word,
              const char *const  *candidates)
{
  gsize len = strlen (word);
  guint allowed = len <= 4 ? 1 : (len <= 8 ? 2 : 3);
  const char *best = NULL;
  guint best_distance = G_MAXUINT;

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      guint distance = edit_distance (word, candidates[i]);

      if (distance <= allowed && distance < best_distance)
        {
          best = candidates[i];
          best_distance = distance;
        }
    }
  return best;
}

/* Every catalog id, NULL-terminated (the strings are the catalog's). */
static const char **
catalog_ids (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  const char **ids = g_new0 (const char *, n + 1);

  for (gsize i = 0; i < n; i++)
    ids[i] = entries[i].id;
  return ids;
}

/* Says that @id is no catalog id, which one it may be a typo of, and the
 * valid ones. */
static void
complain_unknown_id (const char *command,
                     const char *id)
{
  g_autofree const char **ids = catalog_ids ();
  g_autofree char *valid = mp_catalog_dup_ids (", ");
  const char *guess = did_you_mean (id, ids);

  g_printerr ("mpshare %s: unknown id \"%s\".", command, id);
  if (guess != NULL)
    g_printerr (" Did you mean \"%s\"?", guess);
  g_printerr ("\n");
  print_wrapped_to (stderr, "Valid ids: ", valid);
}

/* ---- list --------------------------------------------------------------- */

static void
print_section (MpCatalogKind kind,
               const char   *title,
               GPtrArray    *dirs,
               GPtrArray    *missing)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_autofree char *heading = paint (BOLD, title);

  g_print ("%s\n", heading);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *path = NULL;

      if (entries[i].kind != kind)
        continue;
      g_print ("  %-*s  %s\n", ID_COLUMN, entries[i].id, entries[i].summary);
      path = find_demo (&entries[i], dirs);
      if (path == NULL && missing != NULL)
        g_ptr_array_add (missing, (gpointer) entries[i].id);
    }
}

static void
print_catalog (void)
{
  g_autoptr(GPtrArray) dirs = demo_dirs ();
  g_autoptr(GPtrArray) missing = g_ptr_array_new ();

  print_section (MP_CATALOG_PITFALL,
                 "Pitfalls (mpshare run ID reproduces one, then fixes it):",
                 dirs, missing);
  g_print ("\n");
  print_section (MP_CATALOG_SAMPLE,
                 "Worked samples of the article (mpshare run ID runs one):",
                 dirs, missing);
  if (missing->len > 0)
    {
      g_autofree char *ids = NULL;

      g_ptr_array_add (missing, NULL);
      ids = g_strjoinv (", ", (char **) missing->pdata);
      g_print ("\n");
      print_wrapped ("Demos not built yet: ", ids);
    }
}

static int
cmd_list (int    argc,
          char **argv)
{
  gboolean ids_only = FALSE;
  const GOptionEntry options[] = {
    { "ids", 0, 0, G_OPTION_ARG_NONE, &ids_only,
      "Print only the ids, one a line", NULL },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context,
    "List every pitfall and worked sample with a one-line summary.\n"
    "Each id is also the name of its demo.");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare list: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr ("mpshare list: unexpected argument \"%s\"\n", argv[1]);
      return EXIT_USAGE;
    }

  if (ids_only)
    {
      gsize n;
      const MpCatalogEntry *entries = mp_catalog_get_entries (&n);

      for (gsize i = 0; i < n; i++)
        g_print ("%s\n", entries[i].id);
      return EXIT_OK;
    }
  print_catalog ();
  return EXIT_OK;
}

/* ---- run ---------------------------------------------------------------- */

static const MpCatalogEntry *
lookup_or_complain (const char *command,
                    const char *id)
{
  g_autoptr(GError) error = NULL;
  const MpCatalogEntry *entry = mp_catalog_lookup (id, &error);

  if (entry == NULL)
    complain_unknown_id (command, id);
  return entry;
}

static char *describe_status (int wait_status);

/* Where the Python programs of the demos are looked for, in order. */
static GPtrArray *
python_dirs (void)
{
  GPtrArray *dirs = g_ptr_array_new_with_free_func (g_free);
  const char *env = g_getenv ("MP_PYTHON_DIR");

  if (env != NULL && *env != '\0')
    {
      g_ptr_array_add (dirs, g_strdup (env));
      return dirs;
    }
  g_ptr_array_add (dirs, g_strdup (MP_PYTHON_SOURCE_DIR));
  g_ptr_array_add (dirs, g_strdup (MP_PYTHON_INSTALL_DIR));
  return dirs;
}

/* Returns: (nullable): the directory holding both Python programs of
 * @entry, %NULL when none does. */
static char *
find_python_programs (const MpCatalogEntry *entry,
                      GPtrArray            *dirs)
{
  for (guint i = 0; i < dirs->len; i++)
    {
      const char *dir = g_ptr_array_index (dirs, i);
      g_autofree char *broken = g_strdup_printf ("%s/%s-broken.py", dir, entry->id);
      g_autofree char *fixed = g_strdup_printf ("%s/%s-fixed.py", dir, entry->id);

      if (g_file_test (broken, G_FILE_TEST_IS_REGULAR) &&
          g_file_test (fixed, G_FILE_TEST_IS_REGULAR))
        return g_strdup (dir);
    }
  return NULL;
}

/* Runs one Python half (@half: "broken" or "fixed") in the foreground,
 * its output shared with ours. Returns: whether it behaved as that half
 * must: the broken one fails (exit 1), the fixed one succeeds. */
static gboolean
run_python_half (const char *python,
                 const char *dir,
                 const char *id,
                 const char *half,
                 const char *start_method)
{
  g_autofree char *script = g_strdup_printf ("%s/%s-%s.py", dir, id, half);
  g_autofree char *shown = NULL;
  g_autofree char *status = NULL;
  g_autofree char *verdict = NULL;
  g_auto(GStrv) env = g_get_environ ();
  g_autoptr(GError) error = NULL;
  const char *argv[] = { python, script, NULL };
  gboolean broken = g_str_equal (half, "broken");
  gboolean behaved;
  int wait_status;

  if (start_method != NULL)
    env = g_environ_setenv (env, "MP_START_METHOD", start_method, TRUE);
  if (start_method != NULL)
    shown = g_strdup_printf ("MP_START_METHOD=%s python3 %s-%s.py",
                             start_method, id, half);
  else
    shown = g_strdup_printf ("python3 %s-%s.py", id, half);
  g_print ("$ %s\n", shown);
  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_CHILD_INHERITS_STDIN,
                     NULL, NULL, NULL, NULL, &wait_status, &error))
    {
      g_printerr ("mpshare run: %s\n", error->message);
      return FALSE;
    }
  status = describe_status (wait_status);
  behaved = WIFEXITED (wait_status) &&
            WEXITSTATUS (wait_status) == (broken ? 1 : 0);
  if (broken)
    verdict = paint (behaved ? GREEN : RED,
                     behaved ? "reproduced" : "NOT reproduced");
  else
    verdict = paint (behaved ? GREEN : RED, behaved ? "fixed" : "NOT fixed");
  g_print ("→ %s (%s)\n\n", verdict, status);
  return behaved;
}

/* `run ID --python`: both Python programs (or the one half asked for),
 * then the C demo. Returns: whether every Python half behaved. */
static gboolean
run_python_programs (const MpCatalogEntry *entry,
                     GPtrArray            *demo_args)
{
  g_autofree char *python = g_find_program_in_path ("python3");
  g_autoptr(GPtrArray) dirs = python_dirs ();
  g_autofree char *dir = NULL;
  const char *start_method = NULL;
  gboolean only_broken = FALSE, only_fixed = FALSE;
  gboolean behaved = TRUE;

  if (python == NULL)
    {
      g_print ("No python3 on PATH: the Python programs of %s cannot run; "
               "the C demo only.\n\n", entry->id);
      return TRUE;
    }
  dir = find_python_programs (entry, dirs);
  if (dir == NULL)
    {
      g_autofree char *where = describe_dirs (dirs);
      g_autofree char *why = g_strdup_printf ("no Python programs for \"%s\" "
                                              "(looked in %s); the C demo only.",
                                              entry->id, where);
      print_wrapped ("", why);
      g_print ("\n");
      return TRUE;
    }
  for (guint i = 0; i < demo_args->len; i++)
    {
      const char *arg = g_ptr_array_index (demo_args, i);

      if (g_str_equal (arg, "--broken"))
        only_broken = TRUE;
      else if (g_str_equal (arg, "--fixed"))
        only_fixed = TRUE;
      else if (g_str_equal (arg, "--start-method") && i + 1 < demo_args->len)
        start_method = g_ptr_array_index (demo_args, i + 1);
      else if (g_str_has_prefix (arg, "--start-method="))
        start_method = arg + strlen ("--start-method=");
    }
  {
    /* a path does not wrap: shown from the current directory when it is
     * below it, and on a line of its own */
    g_autofree char *cwd = g_get_current_dir ();
    g_autoptr(GFile) here = g_file_new_for_path (cwd);
    g_autoptr(GFile) there = g_file_new_for_path (dir);
    g_autofree char *relative = g_file_get_relative_path (here, there);
    g_autofree char *title = paint (BOLD, "Python");

    g_print ("%s %s, from\n  %s:\n", title, entry->id,
             relative != NULL ? relative : dir);
  }
  if (!only_fixed)
    behaved &= run_python_half (python, dir, entry->id, "broken", start_method);
  if (!only_broken)
    behaved &= run_python_half (python, dir, entry->id, "fixed", start_method);
  g_print ("%s\n", behaved ? "Now the C demo:" : "Not every Python half "
           "behaved as it should; now the C demo:");
  return behaved;
}

static int
cmd_run (int    argc,
         char **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new ("ID [--python] [--broken|--fixed] [DEMO OPTION…]");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dirs = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) demo_argv = NULL;
  g_autoptr(GPtrArray) demo_args = NULL;
  const MpCatalogEntry *entry;
  gboolean python = FALSE;

  g_option_context_set_summary (context,
    "Run the demo of one pitfall or worked sample. Everything after ID goes\n"
    "to the demo: --broken (reproduce only), --fixed (fix only), neither for\n"
    "both; --start-method fork|spawn|forkserver; see mpshare run ID --help.\n"
    "--python (after ID) first runs the pitfall's two Python programs with\n"
    "the python3 on PATH (the start method goes to them as MP_START_METHOD),\n"
    "then the C demo.");
  /* options after ID belong to the demo */
  g_option_context_set_strict_posix (context, TRUE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare run: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc < 2)
    {
      g_autofree char *ids = mp_catalog_dup_ids (", ");
      g_printerr ("mpshare run: which demo? Give an id.\n");
      print_wrapped_to (stderr, "Valid ids: ", ids);
      return EXIT_USAGE;
    }

  entry = lookup_or_complain ("run", argv[1]);
  if (entry == NULL)
    return EXIT_USAGE;

  dirs = demo_dirs ();
  path = find_demo (entry, dirs);
  if (path == NULL)
    {
      g_autofree char *where = describe_dirs (dirs);
      g_autofree char *why = g_strdup_printf ("the demo of \"%s\" is not built yet "
                                              "(looked in %s).", entry->id, where);
      print_wrapped_to (stderr, "mpshare run: ", why);
      return EXIT_USAGE;
    }

  demo_args = g_ptr_array_new ();
  for (int i = 2; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--python"))
        python = TRUE;
      else
        g_ptr_array_add (demo_args, argv[i]);
    }
  demo_argv = g_ptr_array_new ();
  g_ptr_array_add (demo_argv, path);
  for (guint i = 0; i < demo_args->len; i++)
    g_ptr_array_add (demo_argv, g_ptr_array_index (demo_args, i));
  g_ptr_array_add (demo_argv, NULL);

  if (python && !run_python_programs (entry, demo_args))
    {
      /* the demo still runs; its status cannot hide the Python failure */
      int wait_status;

      fflush (stdout);
      if (!g_spawn_sync (NULL, (char **) demo_argv->pdata, NULL,
                         G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                         &wait_status, &error))
        g_printerr ("mpshare run: %s\n", error->message);
      return EXIT_FAILED;
    }

  fflush (stdout);
  execv (path, (char **) demo_argv->pdata);
  {
    int saved = errno;
    g_printerr ("mpshare run: starting %s: %s\n", path, g_strerror (saved));
  }
  return EXIT_USAGE;
}

/* ---- tour --------------------------------------------------------------- */

typedef enum {
  HALF_PASSED,
  HALF_FAILED,
  HALF_TIMED_OUT,
  HALF_NOT_RUN,
} HalfResult;

typedef struct {
  const MpCatalogEntry *entry;
  gboolean              built;
  HalfResult            broken;
  HalfResult            fixed;
  gint64                elapsed_us;
} TourRow;

typedef struct {
  GMainLoop *loop;
  GPid       pid;
  int        wait_status;
  gboolean   timed_out;
} Waiter;

/* With --html: where a half's output and trace go. */
typedef struct {
  char *output_path;
  char *trace_path;
} TourCapture;

/* How tour runs each demo. */
typedef struct {
  const char *start_method;   /* passed on, or NULL */
  gboolean    timeline;       /* --timeline passed on */
  gboolean    quiet;          /* the demos' output goes to /dev/null */
  gboolean    verbose;        /* --verbose passed on */
  guint       timeout_s;
} TourOptions;

static Waiter *current_waiter;
static int last_wait_status;     /* of the half run_half() ran last */
static int tour_interrupted;     /* the signal that stopped the tour, or 0 */

static void
child_new_group (gpointer user_data)
{
  /* its own process group, so a timeout or ^C also stops its workers */
  setpgid (0, 0);
}

static void
kill_group (GPid pgid)
{
  if (pgid > 0)
    kill (-pgid, SIGKILL);
}

static void
on_child_exit (GPid     pid,
               int      wait_status,
               gpointer user_data)
{
  Waiter *waiter = user_data;

  waiter->wait_status = wait_status;
  g_main_loop_quit (waiter->loop);
}

static gboolean
on_timeout (gpointer user_data)
{
  Waiter *waiter = user_data;

  waiter->timed_out = TRUE;
  kill_group (waiter->pid);
  return G_SOURCE_REMOVE;
}

static GMainLoop *pause_loop;    /* while waiting for Enter */

static gboolean
on_interrupt (gpointer user_data)
{
  tour_interrupted = GPOINTER_TO_INT (user_data);
  if (current_waiter != NULL)
    kill_group (current_waiter->pid);
  if (pause_loop != NULL)
    g_main_loop_quit (pause_loop);
  return G_SOURCE_CONTINUE;
}

/* A line (or the end) has come on standard input. */
static gboolean
on_enter (int          fd,
          GIOCondition condition,
          gpointer     user_data)
{
  char buffer[256];
  ssize_t got = read (fd, buffer, sizeof buffer);

  if (got < 0 && errno == EINTR)
    return G_SOURCE_CONTINUE;
  /* a terminal in canonical mode hands over whole lines */
  if (got > 0 && memchr (buffer, '\n', got) == NULL)
    return G_SOURCE_CONTINUE;
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Waits for Enter on the terminal, in the main loop so that ^C still stops
 * the tour. */
static void
wait_for_enter (const char *id)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  guint source;

  g_print ("Press Enter to run %s (^C stops the tour)… ", id);
  fflush (stdout);
  source = g_unix_fd_add (STDIN_FILENO, G_IO_IN | G_IO_HUP | G_IO_ERR, on_enter, loop);
  pause_loop = loop;
  if (!tour_interrupted)
    g_main_loop_run (loop);
  pause_loop = NULL;
  if (g_main_context_find_source_by_id (NULL, source) != NULL)
    g_source_remove (source);
}

static char *
describe_status (int wait_status)
{
  if (WIFEXITED (wait_status))
    return g_strdup_printf ("exit %d", WEXITSTATUS (wait_status));
  if (WIFSIGNALED (wait_status))
    return g_strdup_printf ("killed by signal %d", WTERMSIG (wait_status));
  return g_strdup ("ended");
}

/* Runs the demo at @path with @half ("--broken" or "--fixed"), its
 * output shared with ours, and says what came of it. */
static HalfResult
run_half (const char        *path,
          const char        *name,
          const char        *half,
          const TourOptions *opts,
          TourCapture       *capture,
          gint64            *elapsed_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *status = NULL;
  g_autofree char *verdict = NULL;
  const char *argv[9] = { path, half, NULL, NULL, NULL, NULL, NULL, NULL, NULL };
  g_auto(GStrv) env = NULL;
  guint argc = 2;
  g_autofree char *args = NULL;
  Waiter waiter = { 0 };
  guint timer;
  gint64 start;
  HalfResult result;
  int out_fd = -1;

  if (opts->start_method != NULL)
    {
      argv[argc++] = "--start-method";
      argv[argc++] = opts->start_method;
    }
  if (opts->timeline)
    argv[argc++] = "--timeline";
  if (opts->verbose)
    argv[argc++] = "--verbose";
  if (!opts->quiet)
    {
      args = g_strjoinv (" ", (char **) argv + 1);
      g_print ("$ %s %s\n", name, args);
      fflush (stdout);
    }
  if (capture != NULL)
    {
      argv[argc++] = "--trace";
      argv[argc++] = capture->trace_path;
    }
  /* the page shows what the demo printed: it goes to a file, not here;
   * --quiet shows none of it */
  if (capture == NULL && opts->quiet &&
      (out_fd = g_open ("/dev/null", O_WRONLY | O_CLOEXEC, 0)) < 0)
    {
      int saved = errno;

      g_printerr ("mpshare tour: /dev/null: %s\n", g_strerror (saved));
      return HALF_FAILED;
    }
  if (capture != NULL &&
      (out_fd = g_open (capture->output_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
    {
      int saved = errno;

      g_printerr ("mpshare tour: %s: %s\n", capture->output_path, g_strerror (saved));
      return HALF_FAILED;
    }

  start = g_get_monotonic_time ();
  /* g_spawn, not GSubprocess: the pid must stay known after the exit, to
   * stop the workers the demo may leave in its group */
  /* stdin from /dev/null: in a group of its own a demo reading the
   * terminal would be stopped, not served */
  /* for the page, lines unwrapped: the browser wraps them to its width */
  if (capture != NULL)
    env = g_environ_setenv (g_get_environ (), "COLUMNS", "100000", TRUE);
  if (!g_spawn_async_with_pipes_and_fds (NULL, argv, (const char * const *) env,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         child_new_group, NULL, -1, out_fd, out_fd,
                                         NULL, NULL, 0, &waiter.pid, NULL, NULL, NULL, &error))
    {
      g_printerr ("mpshare tour: %s\n", error->message);
      if (out_fd >= 0)
        close (out_fd);
      *elapsed_us += g_get_monotonic_time () - start;
      return HALF_FAILED;
    }
  if (out_fd >= 0)
    close (out_fd);

  waiter.loop = loop;
  current_waiter = &waiter;
  /* a child watch is one-shot: it is gone once it has reported the exit */
  g_child_watch_add (waiter.pid, on_child_exit, &waiter);
  timer = g_timeout_add_seconds (opts->timeout_s, on_timeout, &waiter);
  if (tour_interrupted)
    kill_group (waiter.pid);
  g_main_loop_run (loop);
  current_waiter = NULL;
  if (!waiter.timed_out)
    g_source_remove (timer);
  /* workers the demo left behind share its group */
  kill_group (waiter.pid);
  g_spawn_close_pid (waiter.pid);
  *elapsed_us += g_get_monotonic_time () - start;

  last_wait_status = waiter.wait_status;
  status = describe_status (waiter.wait_status);
  if (waiter.timed_out)
    result = HALF_TIMED_OUT;
  else if (WIFEXITED (waiter.wait_status) && WEXITSTATUS (waiter.wait_status) == 0)
    result = HALF_PASSED;
  else
    result = HALF_FAILED;

  if (g_str_equal (half, "--broken"))
    verdict = paint (result == HALF_PASSED ? GREEN : RED,
                     result == HALF_PASSED ? "reproduced" : "NOT reproduced");
  else
    verdict = paint (result == HALF_PASSED ? GREEN : RED,
                     result == HALF_PASSED ? "fixed" : "NOT fixed");
  if (opts->quiet)
    ;
  else if (waiter.timed_out)
    g_print ("→ %s: timed out after %u s, stopped\n", verdict, opts->timeout_s);
  else
    g_print ("→ %s (%s)\n", verdict, status);
  return result;
}

static const char *
half_word (HalfResult result)
{
  switch (result)
    {
    case HALF_PASSED:
      return "yes";
    case HALF_TIMED_OUT:
      return "timeout";
    case HALF_NOT_RUN:
      return "-";
    case HALF_FAILED:
    default:
      return "no";
    }
}

static void
print_cell (const char *word,
            int         width)
{
  const char *sgr = g_str_equal (word, "yes") ? GREEN
                    : g_str_equal (word, "-") ? NULL
                    : g_str_equal (word, "not built") ? YELLOW : RED;
  g_autofree char *painted = sgr != NULL ? paint (sgr, word) : g_strdup (word);
  int pad = width - (int) g_utf8_strlen (word, -1);

  g_print ("%s%*s", painted, pad > 0 ? pad : 0, "");
}

static void
print_table (const TourRow  *rows,
             const gboolean *selected,
             guint           n_rows,
             gboolean        built_only)
{
  g_autofree char *header = NULL;

  header = g_strdup_printf ("%-*s  %-11s %-7s %s", ID_COLUMN, "id",
                            "reproduced", "fixed", "time");
  {
    g_autofree char *bold = paint (BOLD, header);
    g_print ("\n%s\n", bold);
  }
  for (guint i = 0; i < n_rows; i++)
    {
      const TourRow *row = &rows[i];

      if (!selected[i] || (!row->built && built_only))
        continue;
      g_print ("%-*s  ", ID_COLUMN, row->entry->id);
      if (!row->built)
        {
          print_cell ("not built", 12);
          print_cell ("-", 8);
          g_print ("-\n");
          continue;
        }
      print_cell (half_word (row->broken), 12);
      print_cell (half_word (row->fixed), 8);
      g_print ("%.2f s\n", row->elapsed_us / 1e6);
    }
}

/* One half of a tour row; with --html its output and trace are kept in
 * @html_dir for the page, and @half says what came of it. */
static HalfResult
run_tour_half (const char           *path,
               const MpCatalogEntry *entry,
               const char           *name,
               const TourOptions    *opts,
               const char           *html_dir,
               TourHalf             *half,
               gint64               *elapsed_us)
{
  g_autofree char *flag = g_strconcat ("--", name, NULL);
  TourCapture capture = { NULL, NULL };
  HalfResult result;

  if (html_dir == NULL)
    return run_half (path, entry->id, flag, opts, NULL, elapsed_us);

  half->output_file = g_strdup_printf ("%s-%s.txt", entry->id, name);
  half->trace_file = g_strdup_printf ("%s-%s.json", entry->id, name);
  capture.output_path = g_build_filename (html_dir, half->output_file, NULL);
  capture.trace_path = g_build_filename (html_dir, half->trace_file, NULL);
  result = run_half (path, entry->id, flag, opts, &capture, elapsed_us);
  half->ran = TRUE;
  half->passed = result == HALF_PASSED;
  half->timed_out = result == HALF_TIMED_OUT;
  half->wait_status = last_wait_status;
  g_free (capture.output_path);
  g_free (capture.trace_path);
  return result;
}

/* The doc pages: in the source tree the tour was built from, or where
 * they are installed. */
static char *
docs_dir (void)
{
  const char *const dirs[] = { MP_DOCS_SOURCE_DIR, MP_DOCS_INSTALL_DIR };

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autofree char *probe = g_build_filename (dirs[i], "pitfalls", NULL);

      if (g_file_test (probe, G_FILE_TEST_IS_DIR))
        return g_strdup (dirs[i]);
    }
  return NULL;
}

/* The per-demo coverage page of `meson compile -C BUILD coverage-demos`,
 * when this mpshare is BUILD/demos/mpshare and the page exists. */
static char *
coverage_page (void)
{
  g_autofree char *dir = self_dir ();
  g_autofree char *path = NULL;

  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, "..", "coverage-demos", "index.html", NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  return g_filename_to_uri (path, NULL, NULL);
}

/* The rows @only (ids, commas allowed inside each) names, or every row when
 * @only is NULL; FALSE, after saying so, when an id is unknown. */
static gboolean
select_rows (char     **only,
             gboolean  *selected,
             gsize      n)
{
  gsize n_entries;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n_entries);

  g_return_val_if_fail (n == n_entries, FALSE);
  for (gsize i = 0; i < n; i++)
    selected[i] = only == NULL;
  for (guint i = 0; only != NULL && only[i] != NULL; i++)
    {
      g_auto(GStrv) ids = g_strsplit (only[i], ",", -1);

      for (guint j = 0; ids[j] != NULL; j++)
        {
          const char *id = g_strstrip (ids[j]);
          g_autoptr(GError) error = NULL;
          const MpCatalogEntry *entry;

          if (*id == '\0')
            continue;
          entry = mp_catalog_lookup (id, &error);
          if (entry == NULL)
            {
              complain_unknown_id ("tour", id);
              return FALSE;
            }
          selected[entry - entries] = TRUE;
        }
    }
  return TRUE;
}

/* --quiet's one line for a demo that ran. */
static void
print_progress (guint          k,
                guint          n,
                const TourRow *row)
{
  g_autofree char *broken = paint (row->broken == HALF_PASSED ? GREEN : RED,
                                   half_word (row->broken));
  g_autofree char *fixed = paint (row->fixed == HALF_PASSED ? GREEN : RED,
                                  half_word (row->fixed));

  g_print ("[%u/%u] %-*s reproduced: %s, fixed: %s (%.2f s)\n", k, n, ID_COLUMN,
           row->entry->id, broken, fixed, row->elapsed_us / 1e6);
  fflush (stdout);
}

static int
cmd_tour (int    argc,
          char **argv)
{
  gboolean built_only = FALSE, pause = FALSE;
  g_autofree char *start_method = NULL;
  g_autofree char *html_dir = NULL;
  g_auto(GStrv) only = NULL;
  int timeout_s = 300;
  TourOptions opts = { 0 };
  const GOptionEntry options[] = {
    { "only", 0, 0, G_OPTION_ARG_STRING_ARRAY, &only,
      "Run only these demos, in catalog order", "ID[,ID…]" },
    { "pause", 0, 0, G_OPTION_ARG_NONE, &pause,
      "Wait for Enter before each demo (stdin a terminal)", NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opts.quiet,
      "One line per demo, then the table", NULL },
    { "built-only", 0, 0, G_OPTION_ARG_NONE, &built_only,
      "Skip demos not built yet instead of failing", NULL },
    { "start-method", 0, 0, G_OPTION_ARG_STRING, &start_method,
      "Every demo's start method: fork, spawn or forkserver",
      "METHOD" },
    { "timeline", 0, 0, G_OPTION_ARG_NONE, &opts.timeline,
      "Pass --timeline to every demo", NULL },
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &opts.verbose,
      "Pass --verbose to every demo (GLib's own names)", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s,
      "Stop a demo half after SECONDS (default 300)", "SECONDS" },
    { "html", 0, 0, G_OPTION_ARG_FILENAME, &html_dir,
      "Write DIR/index.html: a page for the class", "DIR" },
    G_OPTION_ENTRY_NULL
  };
  g_autofree TourDemo *page = NULL;
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dirs = NULL;
  g_autoptr(GPtrArray) paths = NULL;
  g_autofree TourRow *rows = NULL;
  g_autofree gboolean *selected = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new ();
  const MpCatalogEntry *entries;
  gsize n;
  static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
  guint signal_ids[G_N_ELEMENTS (stop_signals)];
  guint n_built = 0, k = 0;
  gboolean all_yes = TRUE;
  MpStartMethod method;

  g_option_context_set_summary (context,
    "Run every demo in catalog order, each once with --broken (it must\n"
    "reproduce its pitfall) and once with --fixed (the fix must work), then\n"
    "print a table. Exit 0 only when every row says yes; a demo not built\n"
    "yet is a \"not built\" row and fails the tour unless --built-only.\n"
    "For a class: --only some ids, --pause before each, --quiet for one\n"
    "line per demo, --html DIR for one page.");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare tour: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc > 1)
    {
      g_printerr ("mpshare tour: unexpected argument \"%s\"\n", argv[1]);
      return EXIT_USAGE;
    }
  if (start_method != NULL &&
      !mp_start_method_from_string (start_method, &method, &error))
    {
      g_printerr ("mpshare tour: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (timeout_s <= 0)
    {
      g_printerr ("mpshare tour: --timeout must be a positive number of seconds\n");
      return EXIT_USAGE;
    }

  if (html_dir != NULL && g_mkdir_with_parents (html_dir, 0755) != 0)
    {
      int saved = errno;

      g_printerr ("mpshare tour: cannot create %s: %s\n", html_dir, g_strerror (saved));
      return EXIT_USAGE;
    }

  entries = mp_catalog_get_entries (&n);
  selected = g_new0 (gboolean, n);
  if (!select_rows (only, selected, n))
    return EXIT_USAGE;
  opts.start_method = start_method;
  opts.timeout_s = timeout_s;
  /* pausing needs someone at a terminal to press Enter */
  pause = pause && isatty (STDIN_FILENO);
  rows = g_new0 (TourRow, n);
  page = g_new0 (TourDemo, n);
  dirs = demo_dirs ();
  paths = g_ptr_array_new_with_free_func (g_free);
  for (gsize i = 0; i < n; i++)
    {
      char *path = selected[i] ? find_demo (&entries[i], dirs) : NULL;

      rows[i].entry = &entries[i];
      rows[i].built = path != NULL;
      rows[i].broken = rows[i].fixed = HALF_NOT_RUN;
      g_ptr_array_add (paths, path);
      if (path != NULL)
        n_built++;
      else if (selected[i])
        g_ptr_array_add (missing, (gpointer) entries[i].id);
    }

  /* stopping the tour stops the demo it runs, workers included */
  for (guint i = 0; i < G_N_ELEMENTS (stop_signals); i++)
    signal_ids[i] = g_unix_signal_add (stop_signals[i], on_interrupt,
                                       GINT_TO_POINTER (stop_signals[i]));
  for (gsize i = 0; i < n && !tour_interrupted; i++)
    {
      const char *path = g_ptr_array_index (paths, i);

      if (path == NULL)
        continue;
      k++;
      if (pause)
        {
          wait_for_enter (entries[i].id);
          if (tour_interrupted)
            break;
        }
      if (!opts.quiet)
        {
          g_autofree char *marker = g_strdup_printf ("[%u/%u] %s…", k, n_built,
                                                     entries[i].id);
          g_autofree char *title = paint (BOLD, marker);

          g_print ("\n%s\n%s\n", title, entries[i].summary);
          print_rule ();
        }
      page[i].entry = &entries[i];
      rows[i].broken = run_tour_half (path, &entries[i], "broken", &opts,
                                      html_dir, &page[i].broken, &rows[i].elapsed_us);
      if (!tour_interrupted)
        rows[i].fixed = run_tour_half (path, &entries[i], "fixed", &opts,
                                       html_dir, &page[i].fixed, &rows[i].elapsed_us);
      if (opts.quiet)
        print_progress (k, n_built, &rows[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (stop_signals); i++)
    g_source_remove (signal_ids[i]);

  for (gsize i = 0; i < n; i++)
    if (!selected[i])
      continue;
    else if (rows[i].built ? (rows[i].broken != HALF_PASSED || rows[i].fixed != HALF_PASSED)
                           : !built_only)
      all_yes = FALSE;

  print_table (rows, selected, n, built_only);
  if (missing->len > 0)
    {
      g_autofree char *ids = NULL;

      g_ptr_array_add (missing, NULL);
      ids = g_strjoinv (", ", (char **) missing->pdata);
      g_print ("\n");
      print_wrapped (built_only ? "Skipped, not built yet: " : "Not built yet: ", ids);
    }
  if (tour_interrupted)
    g_print ("\nTour interrupted.\n");
  else if (n_built == 0)
    g_print ("\nNo demo is built yet: build the project first (ninja -C BUILDDIR).\n");
  else
    {
      g_autofree char *verdict = paint (all_yes ? GREEN : RED,
                                        all_yes ? "every row says yes" : "not every row says yes");
      g_print ("\nTour done: %s.\n", verdict);
    }

  if (html_dir != NULL && !tour_interrupted)
    {
      g_autofree char *coverage = coverage_page ();
      g_autofree char *docs = docs_dir ();
      g_autofree char *index = g_build_filename (html_dir, "index.html", NULL);
      g_autoptr(GArray) built = g_array_new (FALSE, FALSE, sizeof (TourDemo));

      for (gsize i = 0; i < n; i++)
        if (rows[i].built)
          g_array_append_val (built, page[i]);
      if (!tour_html_write (html_dir, (TourDemo *) built->data, built->len, start_method,
                            docs, coverage, &error))
        {
          g_printerr ("mpshare tour: %s\n", error->message);
          all_yes = FALSE;
        }
      else
        {
          g_print ("\nThe page for the class:\n  %s\n", index);
        }
    }
  for (gsize i = 0; i < n; i++)
    {
      tour_half_clear (&page[i].broken);
      tour_half_clear (&page[i].fixed);
    }

  if (tour_interrupted)
    return 128 + tour_interrupted;
  return all_yes && n_built > 0 ? EXIT_OK : EXIT_FAILED;
}

/* ---- explain ------------------------------------------------------------ */

/* Standard input may be a whole log. explain examines at most
 * MP_EXPLAIN_MAX_TEXT bytes of it: the first half and the last half (a
 * traceback ends a log, the start shows what ran), and reads a pipe up to
 * EXPLAIN_MAX_READ bytes, so that `yes | mpshare explain` ends. A regular
 * file is not read in between: its size is known and its tail is sought. */
#define EXPLAIN_GAP "\n----------\n"
#define EXPLAIN_HALF ((MP_EXPLAIN_MAX_TEXT - (sizeof EXPLAIN_GAP - 1)) / 2)
#define EXPLAIN_MAX_READ (G_GUINT64_CONSTANT (1) << 30)

typedef struct {
  GByteArray *head;       /* the first EXPLAIN_HALF bytes */
  guint8     *tail;       /* a ring of the last EXPLAIN_HALF bytes after them */
  gsize       tail_len;
  gsize       tail_next;  /* where the ring is written next */
  guint64     total;      /* the size of the input, or what was read of it */
  gboolean    stopped;    /* the input goes on past EXPLAIN_MAX_READ */
} Input;

static void
input_clear (Input *in)
{
  g_clear_pointer (&in->head, g_byte_array_unref);
  g_clear_pointer (&in->tail, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Input, input_clear)

static void
input_take (Input        *in,
            const guint8 *bytes,
            gsize         n)
{
  gsize to_head = MIN (n, EXPLAIN_HALF - in->head->len);

  g_byte_array_append (in->head, bytes, to_head);
  for (gsize i = to_head; i < n; )
    {
      gsize chunk = MIN (n - i, EXPLAIN_HALF - in->tail_next);

      memcpy (in->tail + in->tail_next, bytes + i, chunk);
      in->tail_next = (in->tail_next + chunk) % EXPLAIN_HALF;
      in->tail_len = MIN (in->tail_len + chunk, EXPLAIN_HALF);
      i += chunk;
    }
  in->total += n;
}

/* Reads @stream to its end, or to @limit bytes, into @in. */
static gboolean
input_read (Input         *in,
            GInputStream  *stream,
            guint64        limit,
            GError       **error)
{
  guint8 buffer[65536];

  while (in->total < limit)
    {
      gssize got = g_input_stream_read (stream, buffer,
                                        MIN (sizeof buffer, limit - in->total),
                                        NULL, error);
      if (got < 0)
        return FALSE;
      if (got == 0)
        return TRUE;
      input_take (in, buffer, got);
    }
  return TRUE;
}

/* A regular file larger than explain examines: its head, then its tail. */
static gboolean
input_read_file_ends (Input    *in,
                      int       fd,
                      guint64   size,
                      GError  **error)
{
  g_autoptr(GInputStream) stream = g_unix_input_stream_new (fd, FALSE);

  if (!input_read (in, stream, EXPLAIN_HALF, error))
    return FALSE;
  if (lseek (fd, -(off_t) EXPLAIN_HALF, SEEK_END) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "seeking to the end: %s", g_strerror (saved));
      return FALSE;
    }
  if (!input_read (in, stream, 2 * (guint64) EXPLAIN_HALF, error))
    return FALSE;
  in->total = size;
  return TRUE;
}

/* The text explain examines: all of it, or its two ends around a line of
 * dashes, which also keeps a traceback block from spanning the gap. */
static char *
input_text (Input *in,
            gsize *length)
{
  GByteArray *text = g_byte_array_sized_new (in->head->len + in->tail_len + 64);
  gsize oldest = in->tail_len < EXPLAIN_HALF ? 0 : in->tail_next;

  g_byte_array_append (text, in->head->data, in->head->len);
  if (in->total > in->head->len + in->tail_len)
    g_byte_array_append (text, (const guint8 *) EXPLAIN_GAP, sizeof EXPLAIN_GAP - 1);
  g_byte_array_append (text, in->tail + oldest, in->tail_len - oldest);
  g_byte_array_append (text, in->tail, oldest);
  *length = text->len;
  g_byte_array_append (text, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (text, FALSE);
}

/* Says on standard error what explain left out of a large input. */
static void
input_report_skipped (const Input *in)
{
  g_autofree char *note = NULL;
  guint64 examined = in->head->len + in->tail_len;

  if (in->stopped)
    note = g_strdup_printf ("standard input goes on past %" G_GUINT64_FORMAT
                            " bytes, where explain stops reading. It examined "
                            "the first %u bytes and the last %" G_GSIZE_FORMAT
                            " it read, and skipped the %" G_GUINT64_FORMAT
                            " bytes between them and everything after.",
                            in->total, in->head->len, in->tail_len,
                            in->total - examined);
  else if (in->total > examined)
    note = g_strdup_printf ("standard input has %" G_GUINT64_FORMAT " bytes, "
                            "more than explain examines. It examined "
                            "the first %u and the last %" G_GSIZE_FORMAT
                            ", and skipped the %" G_GUINT64_FORMAT " bytes "
                            "between them (from byte %u).",
                            in->total, in->head->len,
                            in->tail_len, in->total - examined, in->head->len);
  if (note != NULL)
    print_wrapped_to (stderr, "mpshare explain: ", note);
}

/* What explain read of standard input, for --format=json. */
typedef struct {
  guint64  total;     /* the input's size, or what was read of it */
  gsize    examined;
  gboolean stopped;   /* the input went on past EXPLAIN_MAX_READ */
} InputSummary;

static char *
read_stdin (gsize         *length,
            InputSummary  *summary,
            GError       **error)
{
  g_autoptr(GInputStream) stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_auto(Input) in = { g_byte_array_new (), g_malloc (EXPLAIN_HALF), 0, 0, 0, FALSE };
  struct stat st;
  off_t here;
  gboolean ok;

  if (isatty (STDIN_FILENO))
    g_printerr ("Paste the error message or traceback, then press Ctrl-D.\n");
  if (fstat (STDIN_FILENO, &st) == 0 && S_ISREG (st.st_mode) &&
      (here = lseek (STDIN_FILENO, 0, SEEK_CUR)) >= 0 &&
      st.st_size - here > MP_EXPLAIN_MAX_TEXT)
    ok = input_read_file_ends (&in, STDIN_FILENO, st.st_size - here, error);
  else
    {
      guint8 probe;

      ok = input_read (&in, stream, EXPLAIN_MAX_READ, error);
      /* one byte more tells a pipe that goes on from one that just ends */
      if (ok && in.total == EXPLAIN_MAX_READ)
        in.stopped = g_input_stream_read (stream, &probe, 1, NULL, NULL) > 0;
    }
  if (!ok)
    {
      g_prefix_error (error, "reading standard input: ");
      return NULL;
    }
  input_report_skipped (&in);
  summary->total = in.total;
  summary->examined = in.head->len + in.tail_len;
  summary->stopped = in.stopped;
  return input_text (&in, length);
}

/* "   Why:   the reason", then with --why each line it used, numbered. */
static void
print_evidence (const MpExplainMatch *match,
                gboolean              why)
{
  print_wrapped ("   Why:   ", match->reason);
  if (!why)
    return;
  for (guint i = 0; i < match->lines->len; i++)
    {
      const MpExplainLine *line = g_ptr_array_index (match->lines, i);
      g_autofree char *number = g_strdup_printf ("%" G_GSIZE_FORMAT ":", line->number);
      g_autofree char *row = g_strdup_printf ("%s %-7s %s", i == 0 ? "   Lines:" : "         ",
                                              number, line->text);
      g_autofree char *fitted = truncate_to (row, WIDTH);

      g_print ("%s\n", fitted);
    }
}

static void
print_match (guint                 rank,
             const MpExplainMatch *match,
             GPtrArray            *dirs,
             gboolean              why)
{
  const MpCatalogEntry *entry = match->entry;
  g_autofree char *title = g_strdup_printf ("%u. %s", rank, entry->id);
  g_autofree char *painted = paint (BOLD, title);
  g_autofree char *seen = truncate_to (match->evidence, WIDTH - 10);
  g_autofree char *demo = find_demo (entry, dirs);
  g_autofree char *command = NULL;

  g_print ("%s: %s\n", painted, entry->summary);
  g_print ("   Seen:  %s\n", seen);
  if (match->tagged)
    g_print ("          (the mpshare message names this pitfall itself)\n");
  print_evidence (match, why);
  print_wrapped ("   Cause: ", entry->cause);
  print_wrapped ("   Fix:   ", entry->fix);
  command = g_strdup_printf ("mpshare run %s%s", entry->id,
                             demo != NULL ? " (reproduces it, then fixes it)"
                                          : " (its demo is not built yet)");
  print_wrapped ("   Demo:  ", command);
}

#define GENERAL_PROBLEM \
  "a general pickling or copying problem, not a " \
  "multiprocessing pitfall: nothing in the text shows multiprocessing " \
  "(a frame of multiprocessing/ or concurrent/futures/, a pool, a " \
  "manager, a Process)."

/* A rule's words without multiprocessing in sight: what they resemble. */
static void
print_general (GPtrArray *general,
               gboolean   why)
{
  g_print ("No pitfall of the catalog matches this text.\n");
  print_wrapped ("", "It looks like " GENERAL_PROBLEM);
  for (guint i = 0; i < general->len; i++)
    {
      const MpExplainMatch *match = g_ptr_array_index (general, i);
      g_autofree char *seen = truncate_to (match->evidence, WIDTH - 10);
      g_autofree char *like = g_strdup_printf (
        "%s (%s), if it came from a pool, a manager or a Process: paste "
        "the whole traceback then.", match->entry->id, match->entry->summary);

      g_print ("\n   Seen:  %s\n", seen);
      print_evidence (match, why);
      print_wrapped ("   Like:  ", like);
    }
}

static JsonNode *
match_to_json (const MpExplainMatch *match)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, match->entry->id);
  json_builder_set_member_name (b, "summary");
  json_builder_add_string_value (b, match->entry->summary);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, mp_explain_kind_to_string (match->kind));
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, match->reason);
  json_builder_set_member_name (b, "evidence");
  json_builder_add_string_value (b, match->evidence);
  json_builder_set_member_name (b, "offset");
  json_builder_add_int_value (b, match->offset);
  json_builder_set_member_name (b, "lines");
  json_builder_begin_array (b);
  for (guint i = 0; i < match->lines->len; i++)
    {
      const MpExplainLine *line = g_ptr_array_index (match->lines, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "number");
      json_builder_add_int_value (b, line->number);
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, line->text);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
add_matches_json (JsonBuilder *b,
                  const char  *name,
                  GPtrArray   *matches)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < matches->len; i++)
    json_builder_add_value (b, match_to_json (g_ptr_array_index (matches, i)));
  json_builder_end_array (b);
}

/* The report as one JSON object on standard output, for scripts:
 * {"verdict": "pitfall"|"general"|"none", "matches": [...],
 *  "general": [...], "input": {"bytes", "examined", "skipped", "complete"}}. */
static void
print_json (const MpExplainReport *report,
            const InputSummary    *input)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *out = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "verdict");
  json_builder_add_string_value (b, report->matches->len > 0 ? "pitfall"
                                    : report->general->len > 0 ? "general" : "none");
  add_matches_json (b, "matches", report->matches);
  add_matches_json (b, "general", report->general);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "bytes");
  json_builder_add_int_value (b, input->total);
  json_builder_set_member_name (b, "examined");
  json_builder_add_int_value (b, input->examined);
  json_builder_set_member_name (b, "skipped");
  json_builder_add_int_value (b, input->total - input->examined);
  json_builder_set_member_name (b, "complete");
  json_builder_add_boolean_value (b, !input->stopped);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  out = json_generator_to_data (gen, NULL);
  g_print ("%s\n", out);
}

static int
print_report (const MpExplainReport *report,
              gboolean               why)
{
  g_autoptr(GPtrArray) dirs = NULL;

  if (report->matches->len == 0 && report->general->len > 0)
    {
      print_general (report->general, why);
      return EXIT_FAILED;
    }
  if (report->matches->len == 0)
    {
      g_print ("No pitfall of the catalog matches this text. The catalog:\n\n");
      print_catalog ();
      return EXIT_FAILED;
    }
  dirs = demo_dirs ();
  if (report->matches->len > 1)
    g_print ("This text shows %u pitfalls, the root cause first.\n\n",
             report->matches->len);
  for (guint i = 0; i < report->matches->len; i++)
    {
      if (i > 0)
        g_print ("\n");
      print_match (i + 1, g_ptr_array_index (report->matches, i), dirs, why);
    }
  return EXIT_OK;
}

static int
print_ids (const MpExplainReport *report)
{
  if (report->matches->len == 0)
    {
      if (report->general->len > 0)
        print_wrapped_to (stderr, "mpshare explain: ", "no pitfall of the "
                          "catalog matches this text; it looks like "
                          GENERAL_PROBLEM);
      else
        g_printerr ("mpshare explain: no pitfall of the catalog matches this text\n");
      return EXIT_FAILED;
    }
  for (guint i = 0; i < report->matches->len; i++)
    g_print ("%s\n", ((MpExplainMatch *) g_ptr_array_index (report->matches, i))->entry->id);
  return EXIT_OK;
}

static int
cmd_explain (int    argc,
             char **argv)
{
  gboolean ids_only = FALSE;
  gboolean why = FALSE;
  g_autofree char *format = NULL;
  const GOptionEntry options[] = {
    { "ids", 0, 0, G_OPTION_ARG_NONE, &ids_only,
      "Print only the matched ids, best first", NULL },
    { "why", 0, 0, G_OPTION_ARG_NONE, &why,
      "Also show the input lines each match used", NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "text (the default) or json, for scripts", "FORMAT" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("[TEXT…|-]");
  g_autoptr(GError) error = NULL;
  g_autoptr(MpExplainReport) report = NULL;
  g_autofree char *text = NULL;
  InputSummary input = { 0 };
  gsize length;

  g_option_context_set_summary (context,
    "Name the pitfall behind an error message, a whole pasted Python\n"
    "traceback, a failing test's report, a program's own failed check\n"
    "(\"hits is 20, expected 40\"), a description of what goes wrong, or\n"
    "an mpshare error, with the evidence used, its cause, its fix and the\n"
    "demo that reproduces it. The text comes from the\n"
    "arguments, or from standard input when there is none or it is \"-\".\n"
    "When a traceback chains exceptions, the root cause comes first.\n"
    "Words that pickle or copy print outside multiprocessing too count\n"
    "only when the text shows multiprocessing. Exit 1 when nothing\n"
    "matches.\n"
    "\n"
    "Standard input may be any size: explain examines its first and last\n"
    "4 MiB (all of it when smaller), reads a pipe up to 1 GiB, and says\n"
    "on standard error what it skipped. Escape sequences of the input\n"
    "(colours, cursor moves) are left out; other control characters are\n"
    "shown as \\xNN.");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_wrapped_to (stderr, "mpshare explain: ", error->message);
      return EXIT_USAGE;
    }
  if (format != NULL && !g_str_equal (format, "text") && !g_str_equal (format, "json"))
    {
      g_printerr ("mpshare explain: --format is text or json, not \"%s\"\n", format);
      return EXIT_USAGE;
    }

  if (argc < 2 || (argc == 2 && g_str_equal (argv[1], "-")))
    {
      text = read_stdin (&length, &input, &error);
      if (text == NULL)
        {
          print_wrapped_to (stderr, "mpshare explain: ", error->message);
          return EXIT_USAGE;
        }
    }
  else
    {
      text = g_strjoinv (" ", argv + 1);
      length = strlen (text);
      input.total = input.examined = length;
    }

  report = mp_explain_report (text, length, &error);
  if (report == NULL)
    {
      print_wrapped_to (stderr, "mpshare explain: ", error->message);
      return EXIT_USAGE;
    }

  if (format != NULL && g_str_equal (format, "json"))
    {
      print_json (report, &input);
      return report->matches->len > 0 ? EXIT_OK : EXIT_FAILED;
    }
  if (ids_only)
    return print_ids (report);
  return print_report (report, why);
}

/* ---- check -------------------------------------------------------------- */

typedef struct {
  gboolean    json;
  gboolean    ids_only;
  const char *python;
  guint       n_files;
  guint       n_findings;
  guint       n_bad;
  GPtrArray  *names;     /* queued for the next batch */
  GPtrArray  *sources;
  gsize       queued_bytes;
} CheckRun;

/* Prints @text after @first, wrapped to WIDTH, later lines after @indent
 * spaces. */
static void
print_hanging (const char *first,
               guint       indent,
               const char *text)
{
  g_autofree char *all = g_strconcat (first, text, NULL);
  g_auto(GStrv) words = g_strsplit (all, " ", -1);
  GString *line = g_string_new (NULL);
  glong used = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      glong len = g_utf8_strlen (words[i], -1);

      if (used > (glong) indent && used + 1 + len > WIDTH)
        {
          g_print ("%s\n", line->str);
          g_string_truncate (line, 0);
          for (guint s = 0; s < indent; s++)
            g_string_append_c (line, ' ');
          used = indent;
        }
      else if (i > 0)
        {
          g_string_append_c (line, ' ');
          used++;
        }
      g_string_append (line, words[i]);
      used += len;
    }
  g_print ("%s\n", line->str);
  g_string_free (line, TRUE);
}

static void
print_finding (const MpCheckFinding *f)
{
  g_autofree char *where = g_strdup_printf ("%s:%u:%u: ", f->file, f->line,
                                            f->column);
  g_autofree char *id = paint (BOLD, f->entry->id);
  g_autofree char *head = g_strconcat (where, id, ":", NULL);
  g_autofree char *number = g_strdup_printf ("%5u | ", f->line);
  g_autofree char *code = truncate_to (f->evidence, WIDTH - 8);

  if (use_colour)
    {
      /* the escapes take no room on screen but would count in the wrap */
      g_print ("%s\n", head);
      print_hanging ("    ", 4, f->message);
    }
  else
    {
      g_autofree char *first = g_strconcat (where, f->entry->id, ": ", NULL);
      print_hanging (first, 4, f->message);
    }
  g_print ("%s%s\n", number, code);
  print_hanging ("    fix:  ", 10, f->fix);
  g_print ("    demo: mpshare run %s\n", f->entry->id);
}

static gboolean
read_all_stdin (GBytes **out,
                GError **error)
{
  g_autoptr(GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  guint8 buffer[8192];

  for (;;)
    {
      gssize got = g_input_stream_read (in, buffer, sizeof buffer, NULL, error);

      if (got < 0)
        return FALSE;
      if (got == 0)
        break;
      g_byte_array_append (bytes, buffer, got);
      /* one byte over the limit is enough for the refusal */
      if (bytes->len > MP_CHECK_MAX_SOURCE)
        break;
    }
  *out = g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
  return TRUE;
}

/* Reads @path without reading more than the limit allows. */
static GBytes *
read_source (const char *path,
             GError    **error)
{
  g_autoptr(GFile) file = g_file_new_for_commandline_arg (path);
  g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                 G_FILE_QUERY_INFO_NONE, NULL, error);
  char *data;
  gsize length;

  if (info == NULL)
    return NULL;
  if (g_file_info_get_size (info) > MP_CHECK_MAX_SOURCE)
    {
      g_set_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                   "%" G_GOFFSET_FORMAT " bytes is too large to be a program "
                   "to check (the limit is %d MiB)", g_file_info_get_size (info),
                   MP_CHECK_MAX_SOURCE / (1024 * 1024));
      return NULL;
    }
  if (!g_file_load_contents (file, NULL, &data, &length, NULL, error))
    return NULL;
  return g_bytes_new_take (data, length);
}

static void
print_findings (CheckRun  *run,
                GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MpCheckFinding *f = g_ptr_array_index (findings, i);

      if (run->ids_only)
        g_print ("%s\n", f->entry->id);
      else if (run->json)
        {
          g_autofree char *line = mp_check_finding_to_json (f);
          g_print ("%s\n", line);
        }
      else
        {
          if (run->n_findings > 0)
            g_print ("\n");
          print_finding (f);
        }
      run->n_findings++;
    }
}

/* Checks the files queued so far, with one Python for all of them. */
static void
check_queued (CheckRun *run)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;

  if (run->names->len == 0)
    return;
  results = mp_check_sources (run->python, (const char *const *) run->names->pdata,
                              (GBytes *const *) run->sources->pdata,
                              run->names->len, &error);
  if (results == NULL)
    {
      g_autofree char *text = g_strconcat ("mpshare check: ", error->message, NULL);
      print_wrapped_to (stderr, "", text);
      run->n_bad += run->names->len;
    }
  for (guint i = 0; results != NULL && i < results->len; i++)
    {
      MpCheckResult *r = g_ptr_array_index (results, i);

      if (r->error != NULL)
        {
          /* the message names the file already */
          g_autofree char *text = g_strconcat ("mpshare check: ", r->error->message, NULL);
          print_wrapped_to (stderr, "", text);
          run->n_bad++;
        }
      else
        print_findings (run, r->findings);
    }
  g_ptr_array_set_size (run->names, 0);
  g_ptr_array_set_size (run->sources, 0);
  run->queued_bytes = 0;
}

/* Files are checked in batches: one Python start for many files, and
 * never more than a few files' worth of source in memory. */
static void
check_one (CheckRun   *run,
           const char *name,
           GBytes     *source)
{
  run->n_files++;
  g_ptr_array_add (run->names, g_strdup (name));
  g_ptr_array_add (run->sources, g_bytes_ref (source));
  run->queued_bytes += g_bytes_get_size (source);
  if (run->queued_bytes >= 2 * MP_CHECK_MAX_SOURCE || run->names->len >= 256)
    check_queued (run);
}

static void
check_path (CheckRun   *run,
            const char *path,
            gboolean    named);

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every *.py under @dir, in name order; hidden and cache directories and
 * symbolic links to directories are left out (no loops). */
static void
check_dir (CheckRun   *run,
           const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = g_dir_open (dir, 0, &error);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (d == NULL)
    {
      g_printerr ("mpshare check: %s\n", error->message);
      run->n_bad++;
      return;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    if (name[0] != '.' && !g_str_equal (name, "__pycache__"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (dir, g_ptr_array_index (names, i), NULL);

      if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) &&
          g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      check_path (run, path, FALSE);
    }
}

static void
check_path (CheckRun   *run,
            const char *path,
            gboolean    named)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) source = NULL;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      check_dir (run, path);
      return;
    }
  /* in a directory only Python files count; a file named is checked */
  if (!named && !g_str_has_suffix (path, ".py"))
    return;
  source = read_source (path, &error);
  if (source == NULL)
    {
      g_printerr ("mpshare check: %s: %s\n", path, error->message);
      run->n_files++;
      run->n_bad++;
      return;
    }
  check_one (run, path, source);
}

static int
cmd_check (int    argc,
           char **argv)
{
  g_autofree char *format = NULL;
  g_autofree char *python_opt = NULL;
  gboolean ids_only = FALSE;
  const GOptionEntry options[] = {
    { "format", 0, 0, G_OPTION_ARG_STRING, &format,
      "text (the default) or json (one object a line)", "FORMAT" },
    { "ids", 0, 0, G_OPTION_ARG_NONE, &ids_only,
      "Print only the id of each finding, one a line", NULL },
    { "python", 0, 0, G_OPTION_ARG_FILENAME, &python_opt,
      "The Python that parses (default: python3)", "PATH" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE.py…|DIR|-");
  g_autoptr(GError) error = NULL;
  g_autofree char *python = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sources =
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  CheckRun run = { 0 };

  g_option_context_set_summary (context,
    "Read Python source and point at the lines that show a pitfall of the\n"
    "catalog, with the fix and the demo. Nothing is run: Python's own\n"
    "parser (python3's ast module) reads the file, mpshare follows the\n"
    "names. A DIR is searched for *.py files; - reads standard input.\n"
    "A line with \"# mpshare: ignore[ID]\" gives no finding of ID.\n"
    "Exit 0 nothing found, 1 something found, 2 bad input.");
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare check: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (format != NULL && !g_str_equal (format, "text") && !g_str_equal (format, "json"))
    {
      g_printerr ("mpshare check: unknown format \"%s\" (text or json)\n", format);
      return EXIT_USAGE;
    }
  if (argc < 2)
    {
      g_printerr ("mpshare check: which files? Give FILE.py, a directory, "
                  "or - for standard input.\n");
      return EXIT_USAGE;
    }
  if (python_opt != NULL)
    python = g_find_program_in_path (python_opt);
  else
    python = mp_check_find_python ();
  if (python == NULL)
    {
      print_wrapped_to (stderr, "mpshare check: ",
                        "no Python to parse with: check reads source with "
                        "Python's own parser. Install Python 3 (apt-get "
                        "install python3) or name one with --python PATH or "
                        "MPSHARE_PYTHON.");
      return EXIT_USAGE;
    }
  run.names = names;
  run.sources = sources;
  run.json = format != NULL && g_str_equal (format, "json");
  run.ids_only = ids_only;
  run.python = python;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "-"))
        {
          g_autoptr(GBytes) source = NULL;

          if (!read_all_stdin (&source, &error))
            {
              g_printerr ("mpshare check: reading standard input: %s\n", error->message);
              return EXIT_USAGE;
            }
          check_one (&run, "<stdin>", source);
        }
      else
        check_path (&run, argv[i], TRUE);
    }
  check_queued (&run);
  if (run.n_files == 0)
    {
      g_printerr ("mpshare check: no Python file (*.py) found\n");
      return EXIT_USAGE;
    }
  if (!run.json && !run.ids_only && run.n_findings == 0 && run.n_bad == 0)
    g_print ("No pitfall found (%u file%s checked).\n", run.n_files,
             run.n_files == 1 ? "" : "s");
  if (run.n_bad > 0)
    return EXIT_USAGE;
  return run.n_findings > 0 ? EXIT_FAILED : EXIT_OK;
}

/* ---- trace ------------------------------------------------------------- */

static const char trace_help[] =
  "Show a trace saved by a demo's --trace FILE.json (or by any program run\n"
  "with MP_TRACE=FILE.json):\n"
  "  show FILE.json       the swimlane: one column per process, time down\n"
  "  summary FILE.json    per process: lifetime, time waiting on each lock,\n"
  "                       calls per proxy method, errors\n"
  "The same file opens in Perfetto (https://ui.perfetto.dev).";

static int
cmd_trace (int    argc,
           char **argv)
{
  gboolean summary;
  g_autoptr(GOptionContext) context = g_option_context_new ("show|summary FILE.json");
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  gboolean verbose = FALSE;
  const GOptionEntry options[] = {
    { "verbose", 0, 0, G_OPTION_ARG_NONE, &verbose,
      "Name GLib's own classes as the trace recorded them", NULL },
    G_OPTION_ENTRY_NULL
  };

  g_option_context_set_summary (context, trace_help);
  g_option_context_add_main_entries (context, options, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare trace: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (argc != 3 || !(g_str_equal (argv[1], "show") || g_str_equal (argv[1], "summary")))
    {
      g_printerr ("mpshare trace: say show or summary, then one trace file: "
                  "mpshare trace show FILE.json\n");
      return EXIT_USAGE;
    }
  summary = g_str_equal (argv[1], "summary");
  trace = mp_timeline_load (argv[2], &error);
  if (trace != NULL)
    text = summary ? mp_timeline_summary (trace, &error)
                   : mp_timeline_render (trace, 0, &error);
  if (text == NULL)
    {
      g_printerr ("mpshare trace %s: %s\n", argv[1], error->message);
      return EXIT_USAGE;
    }
  /* a class private to GLib (GLocalFileInputStream) only when asked */
  if (!verbose)
    {
      char *plain = demo_text_public_types (text);

      g_free (text);
      text = plain;
    }
  g_print ("%s", text);
  return EXIT_OK;
}

/* ---- main --------------------------------------------------------------- */

typedef struct {
  const char *name;
  int       (*func) (int argc, char **argv);
} Command;

static int cmd_help (int argc, char **argv);

static const Command commands[] = {
  { "help", cmd_help },
  { "list", cmd_list },
  { "run", cmd_run },
  { "tour", cmd_tour },
  { "explain", cmd_explain },
  { "trace", cmd_trace },
  { "check", cmd_check },
};

static const char commands_help[] =
  "Commands:\n"
  "  list                     every pitfall and worked sample, one line each\n"
  "  run ID [DEMO OPTION…]    run the demo of ID (--broken, --fixed, …)\n"
  "  tour                     run every demo, broken then fixed; a table\n"
  "  explain [TEXT…|-]        which pitfall an error message or traceback\n"
  "                           shows, its cause, its fix and its demo\n"
  "  check FILE.py…|DIR|-     the pitfalls a Python program's source shows,\n"
  "                           line by line, with the fix and the demo\n"
  "  trace show|summary FILE  a saved trace: its swimlane, or per process\n"
  "                           its lifetime, waits, calls and errors\n"
  "  help [COMMAND]           this help, or the options of COMMAND\n"
  "\n"
  "mpshare help COMMAND (or mpshare COMMAND --help) shows the options of a\n"
  "command; man mpshare says more.";

/* mpshare's own options. --color is taken out of the command line by
 * decide_colour() before any parser sees it: its entry is here so that
 * the help lists it. */
static gboolean version_asked;
static char *colour_listed;

static const GOptionEntry top_options[] = {
  { "color", 0, 0, G_OPTION_ARG_STRING, &colour_listed,
    "auto (colour on a terminal), always or never", "WHEN" },
  { "version", 0, 0, G_OPTION_ARG_NONE, &version_asked, "Print the version", NULL },
  G_OPTION_ENTRY_NULL
};

static GOptionContext *
top_context_new (void)
{
  GOptionContext *context = g_option_context_new ("COMMAND [ARG…]");

  g_option_context_set_summary (context,
    "Reproduce, explain and fix the pitfalls of sharing state between\n"
    "processes, as Python's multiprocessing shows them.");
  g_option_context_set_description (context, commands_help);
  g_option_context_add_main_entries (context, top_options, NULL);
  return context;
}

static void
print_top_help (FILE *out)
{
  g_autoptr(GOptionContext) context = top_context_new ();
  g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

  fputs (help, out);
}

/* Only --help and --version come before a command. */
static int
top_level (int    argc,
           char **argv)
{
  g_autoptr(GOptionContext) context = top_context_new ();
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("mpshare: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (version_asked)
    {
      g_print ("mpshare %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }
  g_printerr ("mpshare: which command?\n\n");
  print_top_help (stderr);
  return EXIT_USAGE;
}

static const Command *
find_command (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (name, commands[i].name))
      return &commands[i];
  return NULL;
}

/* "mpshare: unknown command", with the command @name may be a typo of. */
static void
complain_unknown_command (const char *who,
                          const char *name)
{
  const char *names[G_N_ELEMENTS (commands) + 1] = { NULL };
  const char *guess;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    names[i] = commands[i].name;
  guess = did_you_mean (name, names);
  g_printerr ("%s: unknown command \"%s\".", who, name);
  if (guess != NULL)
    g_printerr (" Did you mean \"%s\"?", guess);
  g_printerr ("\n\n");
  print_top_help (stderr);
}

/* Runs @command: the program's name is set once, before any
 * GOptionContext, so that its help says "mpshare run". */
static int
run_command (const Command *command,
             int            argc,
             char         **argv)
{
  g_autofree char *prgname = g_strconcat ("mpshare ", command->name, NULL);

  g_set_prgname (prgname);
  return command->func (argc, argv);
}

/* mpshare help [COMMAND]: the help of mpshare, or of one command (which
 * its own option parser prints, exiting 0). */
static int
cmd_help (int    argc,
          char **argv)
{
  const Command *command;
  char *help_argv[3] = { NULL, (char *) "--help", NULL };

  if (argc == 1)
    {
      g_set_prgname ("mpshare");
      print_top_help (stdout);
      return EXIT_OK;
    }
  if (argc > 2)
    {
      g_set_prgname ("mpshare");
      g_printerr ("mpshare help: one command at a time: mpshare help COMMAND\n");
      return EXIT_USAGE;
    }
  command = find_command (argv[1]);
  if (command == NULL)
    {
      g_set_prgname ("mpshare");
      complain_unknown_command ("mpshare help", argv[1]);
      return EXIT_USAGE;
    }
  if (command->func == cmd_help)
    return cmd_help (1, argv);
  help_argv[0] = argv[1];
  return run_command (command, 2, help_argv);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  setlocale (LC_NUMERIC, "C");
  demo_text_install ();
  if (!decide_colour (&argc, argv))
    return EXIT_USAGE;

  if (argc > 1 && argv[1][0] != '-')
    {
      const Command *command = find_command (argv[1]);

      if (command != NULL && command->func == cmd_help)
        return cmd_help (argc - 1, argv + 1);
      if (command != NULL)
        return run_command (command, argc - 1, argv + 1);
      g_set_prgname ("mpshare");
      complain_unknown_command ("mpshare", argv[1]);
      return EXIT_USAGE;
    }
  g_set_prgname ("mpshare");
  return top_level (argc, argv);
}
