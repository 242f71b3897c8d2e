/* test-explain.c — naming the pitfall behind Python's and mpshare's errors
 *
 * The Python texts are real: tests/data/python-X.Y/ holds the standard
 * error of each broken program of demos/python/ as CPython X.Y printed it,
 * and its `expected` index says which pitfall each text shows. Both are
 * written by `meson compile -C build python-captures`; the tests here need
 * no Python.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mpshare.h"
#include "test-common.h"

typedef struct {
  char *version;                /* python-X.Y, a directory of tests/data/ */
  char *file;                   /* NAME of NAME.txt */
  char *first;                  /* the id explain must name first */
  char *last;                   /* the id of the last exception line alone,
                                   NULL: none; "~": no exception line */
} Capture;

static const char *
first_id (GPtrArray *matches)
{
  if (matches->len == 0)
    return NULL;
  return ((MpExplainMatch *) g_ptr_array_index (matches, 0))->entry->id;
}

static void
test_capture (gconstpointer user_data)
{
  const Capture *capture = user_data;
  g_autofree char *text = test_read_capture (capture->version, capture->file);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  ids = mp_explain_ids (text, -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ids[0]);
  g_assert_cmpstr (ids[0], ==, capture->first);
}

/* The last exception line of a capture alone (what a student copies from
 * a log) names the pitfall of the exception printed last, unless it says
 * nothing on its own: a bare OS error, or a message spread over lines. */
static void
test_capture_last_line (gconstpointer user_data)
{
  const Capture *capture = user_data;
  g_autofree char *text = test_read_capture (capture->version, capture->file);
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) info = NULL;
  g_autofree char *last = NULL;
  g_autoptr(MpExplainReport) report = NULL;
  g_autoptr(GError) error = NULL;

  regex = g_regex_new ("^[A-Za-z_][A-Za-z0-9_.]*: .*$", G_REGEX_MULTILINE, 0, &error);
  g_assert_no_error (error);
  for (g_regex_match (regex, text, 0, &info); g_match_info_matches (info);
       g_match_info_next (info, NULL))
    {
      g_free (last);
      last = g_match_info_fetch (info, 0);
    }
  g_assert_nonnull (last);
  g_test_message ("last exception line: %s", last);

  /* words that pickle prints outside multiprocessing too name, alone, a
   * general problem that resembles the pitfall, not the pitfall */
  report = mp_explain_report (last, -1, &error);
  g_assert_no_error (error);
  if (report->matches->len == 0 && capture->last != NULL)
    g_assert_cmpstr (first_id (report->general), ==, capture->last);
  else
    g_assert_cmpstr (first_id (report->matches), ==, capture->last);
}

/* Single messages, exactly as Python words them, each with its id. Words
 * that pickle or copy print outside multiprocessing too name a pitfall
 * only with multiprocessing in sight: alone (general) they are reported
 * as a general problem that resembles the pitfall. */
static const struct {
  const char *message;
  const char *id;
  gboolean    general;
} messages[] = {
  { "RuntimeError: SynchronizedArray objects should only be shared between processes through inheritance", "inheritance-only", FALSE },
  { "RuntimeError: Queue objects should only be shared between processes through inheritance", "inheritance-only", FALSE },
  { "AttributeError: 'ForkAwareLocal' object has no attribute 'connection'", "closed-manager", FALSE },
  { "TypeError: cannot pickle '_thread.lock' object", "unserializable-handle", TRUE },
  { "TypeError: cannot pickle '_io.BufferedReader' object", "unserializable-handle", TRUE },
  { "TypeError: Pickling an AuthenticationString object is disallowed for security reasons", "manager-as-argument", FALSE },
  { "RuntimeError: context has already been set", "missing-main-guard", FALSE },
  { "        current process has finished its bootstrapping phase.", "missing-main-guard", FALSE },
  { "AttributeError: Can't pickle local object 'main.<locals>.square'", "local-function", TRUE },
  { "AttributeError: Can't get local object 'main.<locals>.square'", "local-function", TRUE },
  { "AttributeError: Can't get local attribute 'main.<locals>.square' on <module '__main__'>", "local-function", TRUE },
  { "_pickle.PicklingError: Can't pickle <function <lambda> at 0x7f2a1c0e3e20>: attribute lookup <lambda> on __main__ failed", "local-function", TRUE },
  /* 3.14's pure-Python pickler (python/cpython Lib/pickle.py, whichmodule) */
  { "_pickle.PicklingError: Can't pickle local object <function main.<locals>.square at 0x7f2a1c0e3e20>", "local-function", TRUE },
  { "_pickle.PicklingError: Can't pickle <function <lambda> at 0x7f2a1c0e3e20>: it's not found as __main__.<lambda>", "local-function", TRUE },
  { "concurrent.futures.process.BrokenProcessPool: A process in the process pool was terminated abruptly while the future was running or pending.", "broken-pool", FALSE },
  { "concurrent.futures.process.BrokenProcessPool: A child process terminated abruptly, the process pool is not usable anymore", "broken-pool", FALSE },
  { "AttributeError: 'c_long' object has no attribute 'get_lock'", "lock-false", FALSE },
  { "my total is 17 instead of 20: a lost update?", "lost-update", FALSE },
  { "why does mpshare explain lost-update", "lost-update", FALSE },
  /* the same words with multiprocessing in sight */
  { "TypeError: cannot pickle '_thread.lock' object (from pool.apply)", "unserializable-handle", FALSE },
  { "  File \"/usr/lib/python3.12/multiprocessing/reduction.py\", line 51, in dumps\n"
    "AttributeError: Can't get local object 'main.<locals>.square'", "local-function", FALSE },
  /* 3.12+: a raw value (lock=False) used as a lock */
  { "TypeError: 'c_int' object does not support the context manager protocol", "lock-false", FALSE },
  { "AttributeError: 'c_int_Array_4' object has no attribute 'acquire'", "lock-false", FALSE },
  { "TypeError: 'c_double' object does not support the context manager protocol", "lock-false", FALSE },
  /* the last frames of a dead manager's chain */
  { "  File \"/usr/lib/python3.13/multiprocessing/connection.py\", line 646, in SocketClient\n"
    "    s.connect(address)\n"
    "FileNotFoundError: [Errno 2] No such file or directory", "closed-manager", FALSE },
  { "  File \"/usr/lib/python3.13/multiprocessing/connection.py\", line 646, in SocketClient\n"
    "ConnectionRefusedError: [Errno 111] Connection refused", "closed-manager", FALSE },
  /* a notebook's worker: __main__ is no file */
  { "AttributeError: Can't get attribute 'square' on <module '__main__' (built-in)>\n"
    "concurrent.futures.process.BrokenProcessPool: A process in the process pool was "
    "terminated abruptly while the future was running or pending.", "local-function", FALSE },
  { "AttributeError: Can't get attribute 'square' on <module '__main__' (built-in)>", "local-function", TRUE },
  { "race condition between my worker processes", "lost-update", FALSE },
  { "race condition between my threads", "lost-update", TRUE },
};

static void
test_message (gconstpointer user_data)
{
  guint i = GPOINTER_TO_UINT (user_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpExplainReport) report = mp_explain_report (messages[i].message, -1, &error);
  GPtrArray *found = messages[i].general ? report->general : report->matches;
  GPtrArray *other = messages[i].general ? report->matches : report->general;

  g_assert_no_error (error);
  g_assert_cmpuint (found->len, >=, 1);
  g_assert_cmpstr (first_id (found), ==, messages[i].id);
  if (strchr (messages[i].message, '\n') == NULL)
    g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpuint (other->len, ==, 0);
}

/* Every mpshare error that names a pitfall is explained as that pitfall,
 * first, whatever Python words it quotes. */
static void
test_mpshare_messages (void)
{
  guint checked = 0;

  for (MpError code = 0; code < MP_ERROR_N_CODES; code++)
    {
      const char *pitfall = mp_error_pitfall_id (code);
      g_autoptr(GError) mp_error = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) matches = NULL;
      const MpExplainMatch *first;

      if (pitfall == NULL)
        continue;
      mp_set_error (&mp_error, code, "something failed in task %d", 3);
      matches = mp_explain (mp_error->message, -1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (matches->len, >=, 1);
      first = g_ptr_array_index (matches, 0);
      g_assert_cmpstr (first->entry->id, ==, pitfall);
      g_assert_true (first->tagged);
      checked++;
    }
  g_assert_cmpuint (checked, >=, 8);
}

/* A tag ranks first even after Python words of a pitfall that comes
 * earlier in the catalog, and an unknown or sample id in a tag is ignored. */
static void
test_tag_ranking (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  ids = mp_explain_ids ("TypeError: cannot pickle '_thread.lock' object, then "
                        "[pitfall no-such-id] and [pitfall shared-squares] and "
                        "[pitfall broken-pool]", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ids[0], ==, "broken-pool");
  g_assert_cmpstr (ids[1], ==, "unserializable-handle");
  g_assert_cmpstr (ids[2], ==, NULL);
}

/* In a chain, the exception printed first is the root cause, even when its
 * pitfall comes later in the catalog than the consequence's. */
static void
test_chain_ranking (void)
{
  static const char *const separators[] = {
    "During handling of the above exception, another exception occurred:",
    "The above exception was the direct cause of the following exception:",
  };

  for (guint i = 0; i < G_N_ELEMENTS (separators); i++)
    {
      g_autofree char *text = g_strdup_printf (
        "Traceback (most recent call last):\n"
        "  File \"/usr/lib/python3.13/multiprocessing/reduction.py\", line 51, in dumps\n"
        "AttributeError: Can't get local object 'main.<locals>.square'\n"
        "\n%s\n\n"
        "Traceback (most recent call last):\n"
        "  File \"app.py\", line 9, in <module>\n"
        "RuntimeError: SynchronizedArray objects should only be shared between "
        "processes through inheritance\n", separators[i]);
      g_autoptr(GError) error = NULL;
      g_auto(GStrv) ids = mp_explain_ids (text, -1, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (ids[0], ==, "local-function");
      g_assert_cmpstr (ids[1], ==, "inheritance-only");
      g_assert_cmpstr (ids[2], ==, NULL);
    }
}

/* Earlier evidence ranks first, each id once, and the evidence is the line. */
static void
test_position_ranking (void)
{
  const char *text =
    "pool worker says: AttributeError: Can't get local object 'f.<locals>.g'\n"
    "  then: TypeError: cannot pickle '_thread.lock' object\n"
    "and again: Can't pickle local object 'f.<locals>.h'\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = mp_explain (text, -1, &error);
  const MpExplainMatch *m0, *m1;

  g_assert_no_error (error);
  g_assert_cmpuint (matches->len, ==, 2);
  m0 = g_ptr_array_index (matches, 0);
  m1 = g_ptr_array_index (matches, 1);
  g_assert_cmpstr (m0->entry->id, ==, "local-function");
  g_assert_cmpstr (m0->evidence, ==,
                   "pool worker says: AttributeError: Can't get local object 'f.<locals>.g'");
  g_assert_false (m0->tagged);
  g_assert_cmpstr (m1->entry->id, ==, "unserializable-handle");
  g_assert_cmpuint (m0->offset, <, m1->offset);
}

/* A bare OS error counts for closed-manager only inside a traceback block
 * that shows a manager call; from another block it does not. */
static void
test_context_block (void)
{
  const char *other_block =
    "Traceback (most recent call last):\n"
    "  File \"/usr/lib/python3.11/multiprocessing/managers.py\", line 810, in _callmethod\n"
    "  File \"/usr/lib/python3.11/multiprocessing/connection.py\", line 501, in Client\n"
    "ValueError: something else\n"
    "Traceback (most recent call last):\n"
    "  File \"app.py\", line 3, in <module>\n"
    "FileNotFoundError: [Errno 2] No such file or directory: 'data.csv'\n";
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = mp_explain_ids (other_block, -1, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (ids[0], ==, NULL);
}

/* A pitfall id counts as a whole word only; a tag must be closed to be
 * a tag. */
static void
test_id_as_word (void)
{
  static const struct {
    const char *text;
    const char *first;    /* NULL: no match */
    gboolean    tagged;
  } cases[] = {
    { "lost-update", "lost-update", FALSE },
    { "please explain lost-update.", "lost-update", FALSE },
    { "lost-updates are silent", NULL, FALSE },
    { "xlost-update", NULL, FALSE },
    { "lost-update_2", NULL, FALSE },
    { "see [pitfall lost-update", "lost-update", FALSE },
    { "see [pitfall lost-update]", "lost-update", TRUE },
    { "[pitfall lost-update-2] and nothing else", NULL, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) matches = mp_explain (cases[i].text, -1, &error);

      g_test_message ("'%s'", cases[i].text);
      g_assert_no_error (error);
      if (cases[i].first == NULL)
        {
          g_assert_cmpuint (matches->len, ==, 0);
          continue;
        }
      g_assert_cmpuint (matches->len, >=, 1);
      g_assert_cmpstr (((MpExplainMatch *) g_ptr_array_index (matches, 0))->entry->id, ==, cases[i].first);
      g_assert_cmpint (((MpExplainMatch *) g_ptr_array_index (matches, 0))->tagged, ==, cases[i].tagged);
    }

  /* NULs and blanks only: nothing to explain */
  {
    g_autoptr(GError) error = NULL;

    g_assert_null (mp_explain ("\0 \0\n", 4, &error));
    g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  }
}

static void
test_no_match (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = NULL;

  matches = mp_explain ("Traceback (most recent call last):\n"
                        "  File \"app.py\", line 1, in <module>\n"
                        "ZeroDivisionError: division by zero\n", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (matches->len, ==, 0);
}

/* Bytes, not strings: a length with embedded NULs and invalid UTF-8. */
static void
test_binary (void)
{
  static const char text[] = "\xff\xfe pool\0TypeError: cannot pickle 'socket' object \xc3";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = mp_explain (text, sizeof text - 1, &error);
  const MpExplainMatch *m;

  g_assert_no_error (error);
  g_assert_cmpuint (matches->len, ==, 1);
  m = g_ptr_array_index (matches, 0);
  g_assert_cmpstr (m->entry->id, ==, "unserializable-handle");
  g_assert_true (g_utf8_validate (m->evidence, -1, NULL));
}

static void
test_bad_input (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *huge = NULL;

  g_assert_null (mp_explain ("", -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_null (mp_explain_ids (" \n\t\n", -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  huge = g_malloc0 (MP_EXPLAIN_MAX_TEXT + 2);
  memset (huge, 'x', MP_EXPLAIN_MAX_TEXT + 1);
  g_assert_null (mp_explain (huge, -1, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

/* Texts of the largest size mp_explain() takes, made of what once cost a
 * pass per occurrence (a needle that needs context it lacks, in one
 * block or in many, tags, ids that are not words): each is answered, and
 * right. Nothing about time is asserted; tests/bench/explain-bench times
 * them. */
static const struct {
  const char *unit;
  const char *first;    /* the id found, or NULL */
} adversarial[] = {
  { "EOFError\n", NULL },
  { "Traceback (most recent call last):\n  File \"managers.py\"\nEOFError\n", NULL },
  { "BrokenPipeError ConnectionResetError FileNotFoundError ", NULL },
  { "[pitfall lost-updatex] lost-updates [pitfall ", NULL },
  { "\033[31m\033]0;title\033\\\r\n", NULL },
  { "\033[31mCan't pickle local object\033[0m in pool ", "local-function" },
};

static void
test_adversarial (gconstpointer user_data)
{
  guint i = GPOINTER_TO_UINT (user_data);
  gsize unit_len = strlen (adversarial[i].unit);
  g_autofree char *text = g_malloc (MP_EXPLAIN_MAX_TEXT);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  for (gsize at = 0; at < MP_EXPLAIN_MAX_TEXT; at++)
    text[at] = adversarial[i].unit[at % unit_len];
  ids = mp_explain_ids (text, MP_EXPLAIN_MAX_TEXT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ids[0], ==, adversarial[i].first);
}

/* No control character of the input reaches the evidence, which is
 * printed on a terminal. */
static void
assert_printable (const char *evidence)
{
  g_assert_true (g_utf8_validate (evidence, -1, NULL));
  for (const char *p = evidence; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      g_assert_false (g_unichar_iscntrl (c));
      g_assert_false (c >= 0x202a && c <= 0x202e);
    }
}

/* The matches of @text, which must be @id alone. */
static GPtrArray *
explain_once (const char *text,
              const char *id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *matches = mp_explain (text, -1, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpstr (((MpExplainMatch *) g_ptr_array_index (matches, 0))->entry->id, ==, id);
  return matches;
}

/* Colours (IPython's, pytest's --color=yes) are out of the matching: one
 * inside a needle or a context word does not hide it, and the evidence
 * is the line as a terminal shows it, at the input's own offset. */
static void
test_escape_colours (void)
{
  const char *text =
    "\033[0;31m-----------------------------------------\033[0m\n"
    "Traceback (most recent call last):\n"
    "  File \033[0;32m/usr/lib/python3.11/multiprocessing/\033[1mmanagers.py\033[0m:817,"
    " in \033[0;36m_callmethod\033[0m\n"
    "  File \033[0;32m/usr/lib/python3.11/multiprocessing/connection.py\033[0m:501\r\n"
    "\033[0;31mBroken\033[0mPipeError\033[0m: [Errno 32] Broken pipe\r\n";
  g_autoptr(GPtrArray) matches = explain_once (text, "closed-manager");
  const MpExplainMatch *m = g_ptr_array_index (matches, 0);

  g_assert_cmpstr (m->evidence, ==, "BrokenPipeError: [Errno 32] Broken pipe");
  g_assert_true (g_str_has_prefix (text + m->offset, "Broken\033[0mPipe"));
}

/* What a pasted log could do to a terminal (retitle it, move the cursor,
 * clear it, ring, reorder text) is removed or shown as an escape. */
static void
test_escape_controls (void)
{
  const char *text =
    "\033]0;owned\007\033[2J\033[H pool: TypeError: cannot pickle "
    "'\033P+q\033\\\x9b\x07\xc2\x9b\x01\xe2\x80\xae\x7f' object\033[5A\033";
  g_autoptr(GPtrArray) matches = explain_once (text, "unserializable-handle");
  const MpExplainMatch *m = g_ptr_array_index (matches, 0);

  g_test_message ("evidence: %s", m->evidence);
  assert_printable (m->evidence);
  g_assert_null (strstr (m->evidence, "owned"));
  g_assert_nonnull (strstr (m->evidence, "TypeError: cannot pickle '"));
  g_assert_nonnull (strstr (m->evidence, "\\x07\\u009b\\x01\\u202e\\x7f' object"));
}

/* ---- tests/data/explain: real texts of 3.12 and 3.13, 3.14's from its
 * sources, IPython and pytest with colours, test reports, descriptions;
 * and a negative set from outside multiprocessing (see its README) ---- */

/* Reports that show neither the cause nor any multiprocessing: unittest
 * prints only the assertion's own line. Named here so that a change in
 * what explain makes of them shows. */
static const char *const known_misses[] = {
  "as-completed-order--unittest--test_order.txt",
  "lost-update--unittest--test_lost_update.txt",
  "mutate-a-copy--unittest--test_mutate.txt",
};

/* The report on the file at @path. */
static MpExplainReport *
report_on_file (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  MpExplainReport *report;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  report = mp_explain_report (text, -1, &error);
  g_assert_no_error (error);
  return report;
}

static void
test_data_positive (gconstpointer user_data)
{
  const char *path = user_data;
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *want = g_strndup (base, strstr (base, "--") - base);
  g_autoptr(MpExplainReport) report = report_on_file (path);

  if (g_strv_contains (known_misses, base))
    {
      g_assert_cmpuint (report->matches->len, ==, 0);
      return;
    }
  g_assert_cmpstr (first_id (report->matches), ==, want);
  for (guint i = 0; i < report->matches->len; i++)
    {
      const MpExplainMatch *m = g_ptr_array_index (report->matches, i);

      g_assert_nonnull (m->reason);
      g_assert_cmpuint (m->lines->len, >=, 1);
    }
}

static void
test_data_negative (gconstpointer user_data)
{
  const char *path = user_data;
  g_autoptr(MpExplainReport) report = report_on_file (path);

  if (report->matches->len > 0)
    g_test_message ("%s names %s", path, first_id (report->matches));
  g_assert_cmpuint (report->matches->len, ==, 0);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* Adds a test per .txt file under @dir (and its subdirectories). */
static guint
add_data_tests (const char    *dir,
                const char    *prefix,
                GTestDataFunc  func)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  /* a stable order, whatever the file system's */
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    {
      const char *entry = g_ptr_array_index (names, i);
      char *path = g_build_filename (dir, entry, NULL);
      g_autofree char *test_path = g_strdup_printf ("%s/%s", prefix, entry);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          n += add_data_tests (path, test_path, func);
          g_free (path);
        }
      else if (g_str_has_suffix (entry, ".txt"))
        {
          /* the path lives as long as the test program */
          g_test_add_data_func_full (test_path, path, func, g_free);
          n++;
        }
      else
        g_free (path);
    }
  return n;
}

/* Words that pickle and copy print outside multiprocessing too: alone,
 * they are a general problem that resembles a pitfall, never a pitfall;
 * with a frame of multiprocessing, they are the pitfall. */
static void
test_precision (void)
{
  static const struct {
    const char *file;     /* under tests/data/explain/negative/ */
    const char *like;
  } generals[] = {
    { "python-3.12--deepcopy-lock.txt", "unserializable-handle" },
    { "python-3.13--pickle-file.txt", "unserializable-handle" },
    { "python-3.12--pickle-lambda.txt", "local-function" },
    { "python-3.13--pickle-local.txt", "local-function" },
    { "python-3.13--thread-pool-deepcopy-lock.txt", "unserializable-handle" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (generals); i++)
    {
      g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "explain",
                                                     "negative", generals[i].file, NULL);
      g_autofree char *text = NULL;
      g_autofree char *with_mp = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(MpExplainReport) alone = NULL;
      g_autoptr(MpExplainReport) in_pool = NULL;

      g_file_get_contents (path, &text, NULL, &error);
      g_assert_no_error (error);
      alone = mp_explain_report (text, -1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (alone->matches->len, ==, 0);
      g_assert_cmpstr (first_id (alone->general), ==, generals[i].like);
      g_assert_nonnull (strstr (((MpExplainMatch *) g_ptr_array_index (alone->general, 0))->reason,
                                "nothing shows multiprocessing"));

      with_mp = g_strconcat ("  File \"/usr/lib/python3.12/multiprocessing/pool.py\", "
                             "line 114, in worker\n", text, NULL);
      in_pool = mp_explain_report (with_mp, -1, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (first_id (in_pool->matches), ==, generals[i].like);
      g_assert_cmpuint (in_pool->general->len, ==, 0);
    }
}

/* Each match says what it used: the kind, a reason naming the words, and
 * the numbered lines (what --why prints). */
static void
test_evidence_lines (void)
{
  const char *text =
    "=================================== FAILURES ===================================\n"
    "________________________________ test_total ____________________________________\n"
    "\n"
    "    def test_total():\n"
    "        def add():\n"
    "            for _ in range(20000):\n"
    "                total.value += 1\n"
    ">       assert total.value == 80000\n"
    "E       assert 65388 == 80000\n"
    "\n"
    "my pool results come back shuffled\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) matches = mp_explain (text, -1, &error);
  const MpExplainMatch *lost, *order;
  const MpExplainLine *line;

  g_assert_no_error (error);
  g_assert_cmpuint (matches->len, ==, 2);
  lost = g_ptr_array_index (matches, 0);
  order = g_ptr_array_index (matches, 1);
  g_assert_cmpstr (lost->entry->id, ==, "lost-update");
  g_assert_cmpint (lost->kind, ==, MP_EXPLAIN_TEST_FAILURE);
  g_assert_nonnull (strstr (lost->reason, "\".value +=\""));
  g_assert_cmpuint (lost->lines->len, ==, 2);
  line = g_ptr_array_index (lost->lines, 0);
  g_assert_cmpuint (line->number, ==, 7);
  g_assert_cmpstr (line->text, ==, "total.value += 1");
  line = g_ptr_array_index (lost->lines, 1);
  g_assert_cmpuint (line->number, ==, 9);
  g_assert_cmpstr (order->entry->id, ==, "as-completed-order");
  g_assert_cmpint (order->kind, ==, MP_EXPLAIN_DESCRIPTION);
  g_assert_nonnull (strstr (order->reason, "\"shuffled\""));
  g_assert_cmpstr (mp_explain_kind_to_string (order->kind), ==, "description");
}

/* A description needs its three kinds of words in one paragraph: what,
 * how it goes wrong, and multiprocessing. */
static void
test_description_paragraph (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) apart = mp_explain_ids ("the total is too small\n\n"
                                        "I use four processes", -1, &error);
  g_auto(GStrv) together = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (apart[0], ==, NULL);
  together = mp_explain_ids ("the total is too small\nI use four processes", -1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (together[0], ==, "lost-update");
}

/* A program's own check names a silent pitfall by its numbers: the same
 * words without the pitfall's shape name nothing. */
static void
test_check_shapes (void)
{
  static const struct {
    const char *text;
    const char *id;       /* NULL: nothing */
    const char *reason;   /* in the reason of the first match */
  } cases[] = {
    { "hits is 20, expected 40: the total is too small", "lost-update",
      "20 where 40 was expected (\"too small\"), with no multiprocessing in sight" },
    { "  File \"/usr/lib/python3.12/multiprocessing/pool.py\", line 1\n\n"
      "total is 20, expected 40: the total is too small", "lost-update",
      "with multiprocessing in sight (\"multiprocessing\")" },
    { "hits is 60, expected 40: the total is too small", NULL, NULL },
    { "hits is 20, expected 40", NULL, NULL },
    { "mean is 2.5, expected 3: the sample is too small", NULL, NULL },
    { "python3 is broken, expected 40: too small", NULL, NULL },
    { "squares came in the wrong order: [1, 0, 4], expected [0, 1, 4]",
      "as-completed-order", "every expected item, in another order" },
    { "squares came in the wrong order: [1, 4], expected [0, 1, 4]", NULL, NULL },
    { "squares in order: [0, 1, 4], expected [0, 1, 4]", NULL, NULL },
    { "squares came in the wrong order: [1, 1, 4], expected [0, 1, 4]", NULL, NULL },
    { "scores[0].points is 1 after add_bonus(), expected 11: the change did not stick",
      "mutate-a-copy", "\"scores[0].points\", a field of a list's element" },
    { "rows[2]['n'] is 0, expected 5: the change did not stick", "mutate-a-copy",
      "\"rows[2]['n']\"" },
    { "score.points is 1 after add_bonus(), expected 11: the change did not stick",
      NULL, NULL },
    { "settings['port'] is 8080, expected 9090: the change did not stick", NULL, NULL },
    { "3 workers made 9 clusters, expected at most 3: the flag did not stick",
      "mutate-a-copy", "what the workers did was not kept" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) matches = mp_explain (cases[i].text, -1, &error);
      const MpExplainMatch *m;

      g_assert_no_error (error);
      g_test_message ("%s", cases[i].text);
      g_assert_cmpstr (first_id (matches), ==, cases[i].id);
      if (cases[i].id == NULL)
        continue;
      m = g_ptr_array_index (matches, 0);
      g_test_message ("reason: %s", m->reason);
      g_assert_cmpint (m->kind, ==, MP_EXPLAIN_CHECK);
      g_assert_cmpstr (mp_explain_kind_to_string (m->kind), ==, "check");
      g_assert_nonnull (strstr (m->reason, cases[i].reason));
    }
}

static void
test_null_text (void)
{
  if (g_test_subprocess ())
    {
      mp_explain (NULL, -1, NULL);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*text != NULL*");
}

static void
capture_free (gpointer data)
{
  Capture *capture = data;

  g_free (capture->version);
  g_free (capture->file);
  g_free (capture->first);
  g_free (capture->last);
  g_free (capture);
}

/* Every tests/data/python-X.Y/ and the texts its `expected` index names;
 * the index lines read "NAME FIRST LAST" (LAST "-": the last exception
 * line alone names nothing). */
static GPtrArray *
load_captures (void)
{
  GPtrArray *captures = g_ptr_array_new_with_free_func (capture_free);
  g_autofree char *data = g_test_build_filename (G_TEST_DIST, "data", NULL);
  g_autoptr(GDir) dir = g_dir_open (data, 0, NULL);
  g_autoptr(GPtrArray) versions = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "python-"))
      g_ptr_array_add (versions, g_strdup (name));
  g_ptr_array_sort (versions, compare_names);

  for (guint v = 0; v < versions->len; v++)
    {
      const char *version = g_ptr_array_index (versions, v);
      g_autofree char *index = g_build_filename (data, version, "expected", NULL);
      g_autofree char *contents = NULL;
      g_auto(GStrv) lines = NULL;
      g_autoptr(GError) error = NULL;

      g_file_get_contents (index, &contents, NULL, &error);
      g_assert_no_error (error);
      lines = g_strsplit (contents, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto(GStrv) words = NULL;
          Capture *capture;

          if (lines[i][0] == '#' || lines[i][0] == '\0')
            continue;
          words = g_strsplit (lines[i], " ", -1);
          g_assert_cmpuint (g_strv_length (words), ==, 3);
          capture = g_new0 (Capture, 1);
          capture->version = g_strdup (version);
          capture->file = g_strdup (words[0]);
          capture->first = g_strdup (words[1]);
          capture->last = g_str_equal (words[2], "-") ? NULL : g_strdup (words[2]);
          g_ptr_array_add (captures, capture);
        }
    }
  return captures;
}

static void
add_capture_tests (GPtrArray *captures)
{
  for (guint i = 0; i < captures->len; i++)
    {
      const Capture *capture = g_ptr_array_index (captures, i);
      g_autofree char *path = g_strdup_printf ("/explain/%s/%s", capture->version,
                                               capture->file);
      g_autofree char *last = g_strconcat (path, "/last-line", NULL);

      g_test_add_data_func (path, capture, test_capture);
      if (g_strcmp0 (capture->last, "~") != 0)
        g_test_add_data_func (last, capture, test_capture_last_line);
    }
}

/* The data is there, for every version the programs were run under. */
static void
test_captures_found (gconstpointer user_data)
{
  GPtrArray *captures = (GPtrArray *) user_data;

  g_assert_cmpuint (captures->len, >=, 15);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) captures = NULL;

  g_test_init (&argc, &argv, NULL);

  captures = load_captures ();
  g_test_add_data_func ("/explain/captures-found", captures, test_captures_found);
  add_capture_tests (captures);
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autofree char *path = g_strdup_printf ("/explain/message/%u-%s", i, messages[i].id);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_message);
    }
  g_test_add_func ("/explain/mpshare-messages", test_mpshare_messages);
  g_test_add_func ("/explain/rank/tag-first", test_tag_ranking);
  g_test_add_func ("/explain/rank/chain", test_chain_ranking);
  g_test_add_func ("/explain/rank/position", test_position_ranking);
  g_test_add_func ("/explain/context/same-block", test_context_block);
  g_test_add_func ("/explain/no-match", test_no_match);
  g_test_add_func ("/explain/id-as-word", test_id_as_word);
  g_test_add_func ("/explain/binary", test_binary);
  g_test_add_func ("/explain/bad-input", test_bad_input);
  g_test_add_func ("/explain/null-text", test_null_text);
  for (guint i = 0; i < G_N_ELEMENTS (adversarial); i++)
    {
      g_autofree char *path = g_strdup_printf ("/explain/adversarial/%u", i);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_adversarial);
    }
  g_test_add_func ("/explain/escape/colours", test_escape_colours);
  g_test_add_func ("/explain/precision/general", test_precision);
  g_test_add_func ("/explain/evidence/lines", test_evidence_lines);
  g_test_add_func ("/explain/description/paragraph", test_description_paragraph);
  g_test_add_func ("/explain/check/shapes", test_check_shapes);
  {
    g_autofree char *positive = g_test_build_filename (G_TEST_DIST, "data", "explain", "positive", NULL);
    g_autofree char *negative = g_test_build_filename (G_TEST_DIST, "data", "explain", "negative", NULL);

    /* the data are committed: finding none is a broken checkout */
    g_assert_cmpuint (add_data_tests (positive, "/explain/data/positive", test_data_positive), >=, 90);
    g_assert_cmpuint (add_data_tests (negative, "/explain/data/negative", test_data_negative), >=, 25);
  }
  g_test_add_func ("/explain/escape/controls", test_escape_controls);

  return g_test_run ();
}
