/* test-timeline.c — the swimlane and the summary of a trace, and
 * `mpshare trace show|summary`
 *
 * The traces here are built in the test with json-glib, event by event,
 * in the recorder's vocabulary (docs/trace.md), so each test knows the
 * story the timeline must tell. Real recorded traces are checked by the
 * demos suite.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mpshare.h"
#include "test-common.h"

/* ---- building traces ---------------------------------------------------- */

typedef struct {
  JsonBuilder *builder;
} Doc;

static void
doc_begin (Doc *doc)
{
  doc->builder = json_builder_new ();
  json_builder_begin_object (doc->builder);
  json_builder_set_member_name (doc->builder, "displayTimeUnit");
  json_builder_add_string_value (doc->builder, "ns");
  json_builder_set_member_name (doc->builder, "traceEvents");
  json_builder_begin_array (doc->builder);
}

static JsonNode *
doc_end (Doc *doc)
{
  JsonNode *root;

  json_builder_end_array (doc->builder);
  json_builder_end_object (doc->builder);
  root = json_builder_get_root (doc->builder);
  g_clear_object (&doc->builder);
  return root;
}

/* One event; @args is the JSON text of its args object, kind added. */
static void
doc_event (Doc        *doc,
           const char *ph,
           double      ts_us,
           gint64      pid,
           const char *kind,
           const char *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = json_from_string (args != NULL ? args : "{}", &error);

  g_assert_no_error (error);
  if (kind != NULL)
    json_object_set_string_member (json_node_get_object (node), "kind", kind);
  json_builder_begin_object (doc->builder);
  json_builder_set_member_name (doc->builder, "name");
  json_builder_add_string_value (doc->builder, kind != NULL ? kind : "x");
  json_builder_set_member_name (doc->builder, "ph");
  json_builder_add_string_value (doc->builder, ph);
  json_builder_set_member_name (doc->builder, "ts");
  json_builder_add_double_value (doc->builder, ts_us);
  json_builder_set_member_name (doc->builder, "pid");
  json_builder_add_int_value (doc->builder, pid);
  json_builder_set_member_name (doc->builder, "tid");
  json_builder_add_int_value (doc->builder, pid);
  json_builder_set_member_name (doc->builder, "cat");
  json_builder_add_string_value (doc->builder, "mpshare");
  if (ph[0] == 'i')
    {
      json_builder_set_member_name (doc->builder, "s");
      json_builder_add_string_value (doc->builder, "t");
    }
  json_builder_set_member_name (doc->builder, "args");
  json_builder_add_value (doc->builder, g_steal_pointer (&node));
  json_builder_end_object (doc->builder);
}

static void
doc_role (Doc        *doc,
          gint64      pid,
          const char *role)
{
  g_autofree char *args = g_strdup_printf ("{\"name\": \"%s\"}", role);
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (args, &error);

  g_assert_no_error (error);
  json_builder_begin_object (doc->builder);
  json_builder_set_member_name (doc->builder, "name");
  json_builder_add_string_value (doc->builder, "process_name");
  json_builder_set_member_name (doc->builder, "ph");
  json_builder_add_string_value (doc->builder, "M");
  json_builder_set_member_name (doc->builder, "pid");
  json_builder_add_int_value (doc->builder, pid);
  json_builder_set_member_name (doc->builder, "args");
  json_builder_add_value (doc->builder, node);
  json_builder_end_object (doc->builder);
}

static void
doc_value (Doc        *doc,
           double      ts_us,
           gint64      pid,
           const char *kind,
           gint64      value)
{
  g_autofree char *args = g_strdup_printf ("{\"object\": \"total\", \"value\": %"
                                           G_GINT64_FORMAT "}", value);

  doc_event (doc, "i", ts_us, pid, kind, args);
}

static void
assert_fits (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_utf8_strlen (lines[i], -1) > MP_TIMELINE_WIDTH)
      g_error ("line wider than %d columns: \"%s\"", MP_TIMELINE_WIDTH, lines[i]);
}

/* The line of @text holding @needle, or NULL. */
static char *
line_with (const char *text,
           const char *needle)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], needle) != NULL)
      return g_strdup (lines[i]);
  return NULL;
}

/* Where @needle starts in @text; fails when absent. */
static gsize
position_of (const char *text,
             const char *needle)
{
  const char *at = strstr (text, needle);

  if (at == NULL)
    g_error ("\"%s\" not in:\n%s", needle, text);
  return (gsize) (at - text);
}

static char *
render (JsonNode *trace,
        guint     max_rows)
{
  g_autoptr(GError) error = NULL;
  char *text = mp_timeline_render (trace, max_rows, &error);

  g_assert_no_error (error);
  g_test_message ("%s", text);
  assert_fits (text);
  return text;
}

/* ---- the swimlane ------------------------------------------------------- */

/* A and B each: read, then write, in the losing order of lost-update. */
static JsonNode *
lost_update_trace (gboolean holding_the_lock)
{
  Doc doc;

  doc_begin (&doc);
  doc_role (&doc, 100, "parent");
  doc_role (&doc, 101, "process A");
  doc_role (&doc, 102, "process B");
  /* the parent sets the total; it started the others, so it comes first */
  doc_value (&doc, 0, 100, "value.write", 0);
  doc_event (&doc, "i", 5, 102, "process.start", "{\"method\": \"fork\"}");
  doc_event (&doc, "i", 6, 101, "process.start", "{\"method\": \"fork\"}");
  if (!holding_the_lock)
    {
      doc_value (&doc, 10, 101, "value.read", 0);
      doc_value (&doc, 20, 102, "value.read", 0);
      doc_value (&doc, 30, 101, "value.write", 1);
      doc_value (&doc, 40, 102, "value.write", 1);
    }
  else
    {
      doc_event (&doc, "B", 10, 101, "lock.wait", "{\"object\": \"total\", \"type\": \"Lock\"}");
      doc_event (&doc, "E", 10, 101, "lock.wait", "{}");
      doc_event (&doc, "B", 10, 101, "lock.hold", "{\"object\": \"total\"}");
      doc_value (&doc, 11, 101, "value.read", 0);
      doc_event (&doc, "B", 20, 102, "lock.wait", "{\"object\": \"total\", \"type\": \"Lock\"}");
      doc_value (&doc, 30, 101, "value.write", 1);
      doc_event (&doc, "E", 31, 101, "lock.hold", "{}");
      doc_event (&doc, "E", 32, 102, "lock.wait", "{}");
      doc_event (&doc, "B", 32, 102, "lock.hold", "{\"object\": \"total\"}");
      doc_value (&doc, 33, 102, "value.read", 1);
      doc_value (&doc, 40, 102, "value.write", 2);
      doc_event (&doc, "E", 41, 102, "lock.hold", "{}");
    }
  doc_event (&doc, "i", 50, 101, "process.exit", "{\"code\": 0}");
  return doc_end (&doc);
}

static void
test_render_lost_update (void)
{
  g_autoptr(JsonNode) trace = lost_update_trace (FALSE);
  g_autofree char *text = render (trace, 0);
  g_autofree char *header = line_with (text, "parent");
  g_autofree char *b_read = line_with (text, "*total -> 0");
  g_autofree char *b_write = line_with (text, "*total <- 1");

  /* one column per process, named by its role: the parent first, then
   * the others in the order they were made (B reported its start first,
   * but A has the lower pid) */
  g_assert_nonnull (header);
  g_assert_cmpuint (position_of (header, "parent"), <, position_of (header, "process A"));
  g_assert_cmpuint (position_of (header, "process A"), <, position_of (header, "process B"));
  /* time goes down: A reads, B reads, A writes, B writes */
  g_assert_cmpuint (position_of (text, "total -> 0"), <, position_of (text, "*total -> 0"));
  g_assert_cmpuint (position_of (text, "*total -> 0"), <, position_of (text, "total <- 1"));
  g_assert_cmpuint (position_of (text, "total <- 1"), <, position_of (text, "*total <- 1"));
  /* B's read and write are the losing pair, in B's column; A's are not marked */
  g_assert_cmpuint (position_of (b_read, "*total"), ==, position_of (header, "process B"));
  g_assert_cmpuint (position_of (b_write, "*total"), ==, position_of (header, "process B"));
  g_assert_nonnull (strstr (text, "that update is lost"));
  g_assert_nonnull (strstr (text, "exit 0"));
  g_assert_nonnull (strstr (text, "start (fork)"));
}

static void
test_render_lock_held (void)
{
  g_autoptr(JsonNode) trace = lost_update_trace (TRUE);
  g_autofree char *text = render (trace, 0);
  g_autofree char *header = line_with (text, "parent");
  g_autofree char *a_write = line_with (text, "total <- 1");
  g_autofree char *b_lock = line_with (text, "got total");
  g_autofree char *b_wait = line_with (text, "wait total");

  /* nothing is lost when the lock is held across the read and the write */
  g_assert_null (strstr (text, "*total"));
  /* B waited while A held the lock: B's column shows ':' beside A's write */
  g_assert_nonnull (strstr (text, "wait total"));
  g_assert_nonnull (a_write);
  g_assert_cmpint (a_write[position_of (header, "process B") + 2], ==, ':');
  /* and beside B's wait, A's column shows that A holds the lock */
  g_assert_cmpint (b_wait[position_of (header, "process A") + 1], ==, '|');
  /* A took the lock at once; B got it after waiting */
  g_assert_nonnull (strstr (text, "lock total"));
  g_assert_nonnull (b_lock);
  g_assert_cmpuint (position_of (text, "unlock total"), <, position_of (text, "got total"));
  g_assert_cmpuint (position_of (text, "got total"), <, position_of (text, "total -> 1"));
}

/* Proxy calls, pool events and errors each say what happened. */
static void
test_render_vocabulary (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;

  doc_begin (&doc);
  doc_role (&doc, 1, "parent");
  doc_role (&doc, 2, "manager server");
  doc_role (&doc, 3, "worker 1");
  doc_event (&doc, "i", 0, 1, "pool.submit", "{\"task\": \"t\", \"future\": 0}");
  doc_event (&doc, "i", 1, 3, "pool.dispatch", "{\"task\": \"t\", \"future\": 0, \"worker\": 1}");
  doc_event (&doc, "B", 2, 3, "proxy.call", "{\"object\": \"list\", \"method\": \"get\", \"bytes\": 30}");
  doc_event (&doc, "B", 3, 2, "proxy.handle", "{\"object\": \"list\", \"method\": \"get\"}");
  doc_event (&doc, "E", 4, 2, "proxy.handle", "{}");
  doc_event (&doc, "i", 5, 3, "proxy.reply", "{\"object\": \"list\", \"method\": \"get\", \"copy\": true}");
  doc_event (&doc, "E", 5, 3, "proxy.call", "{}");
  doc_event (&doc, "i", 6, 3, "process.exit", "{\"signal\": 9}");
  doc_event (&doc, "i", 7, 1, "pool.worker-died", "{\"worker\": 1, \"signal\": 9, \"broken\": [0, 1]}");
  doc_event (&doc, "i", 8, 1, "error", "{\"code\": \"broken-pool\", \"pitfall\": \"broken-pool\", \"message\": \"a worker died\"}");
  doc_event (&doc, "i", 9, 1, "pool.done", "{\"future\": 0, \"ok\": false}");
  /* a lock taken at once around one read: one row, in brackets */
  doc_event (&doc, "B", 10, 1, "lock.hold", "{\"object\": \"RLock 1\"}");
  doc_event (&doc, "i", 11, 1, "value.read", "{\"object\": \"v\", \"value\": 3}");
  doc_event (&doc, "E", 12, 1, "lock.hold", NULL);
  /* a try-lock that finds the lock busy: a timeout, not an error row */
  doc_event (&doc, "i", 13, 1, "error", "{\"code\": \"timeout\"}");
  doc_event (&doc, "i", 14, 1, "lock.timeout", "{\"object\": \"RLock 1\"}");
  /* a task that failed says so when it ends */
  doc_event (&doc, "B", 15, 2, "process.task", "{\"task\": \"t\"}");
  doc_event (&doc, "E", 16, 2, "process.task", "{\"ok\": false}");
  trace = doc_end (&doc);
  text = render (trace, 0);

  g_assert_nonnull (strstr (text, "|[v -> 3]"));
  g_assert_null (strstr (text, "lock RLock 1"));
  /* the lock held around the watched value is named after it */
  g_assert_nonnull (strstr (text, "|timeout v "));
  g_assert_null (strstr (text, "!! timeout"));
  g_assert_nonnull (strstr (text, "|!! task failed"));

  g_assert_cmpuint (position_of (text, "submit #0"), <, position_of (text, "run #0"));
  g_assert_cmpuint (position_of (text, "call get"), <, position_of (text, "serve get"));
  g_assert_cmpuint (position_of (text, "serve get"), <, position_of (text, "get: a copy"));
  g_assert_cmpuint (position_of (text, "killed: SIGKILL"), <, position_of (text, "!! died, broke 2"));
  g_assert_cmpuint (position_of (text, "!! broken-pool"), <, position_of (text, "#0 failed"));
}

/* Six processes: the four busiest get a column, the two others are named. */
static void
test_render_busiest_lanes (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  g_autofree char *unwrapped = NULL;
  g_autoptr(GRegex) wrapped_line = g_regex_new ("\n +", 0, 0, NULL);
  double ts = 0;

  doc_begin (&doc);
  for (gint64 pid = 1; pid <= 6; pid++)
    {
      g_autofree char *role = g_strdup_printf ("worker %" G_GINT64_FORMAT, pid);

      doc_role (&doc, pid, role);
      /* workers 3 and 5 do one thing, the others three */
      for (int k = 0; k < (pid == 3 || pid == 5 ? 1 : 3); k++)
        doc_event (&doc, "i", ts++, pid, "process.start", "{\"method\": \"spawn\"}");
    }
  trace = doc_end (&doc);
  text = render (trace, 0);
  header = line_with (text, "ms ");

  g_assert_nonnull (strstr (header, "worker 1"));
  g_assert_nonnull (strstr (header, "worker 2"));
  g_assert_nonnull (strstr (header, "worker 4"));
  g_assert_nonnull (strstr (header, "worker 6"));
  g_assert_null (strstr (header, "worker 3"));
  g_assert_null (strstr (header, "worker 5"));
  /* the names may wrap: read them as one line */
  unwrapped = g_regex_replace_literal (wrapped_line, text, -1, 0, " ", 0, NULL);
  g_assert_nonnull (strstr (unwrapped, "2 more processes, not shown"));
  g_assert_nonnull (strstr (unwrapped, "worker 3 (1 event), worker 5 (1 event)"));
}

/* Five processes: the server handles one call, each worker does more;
 * the server still gets a column, as the calls go there. */
static void
test_render_server_lane (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  double ts = 0;

  doc_begin (&doc);
  for (gint64 pid = 1; pid <= 4; pid++)
    {
      g_autofree char *role = g_strdup_printf ("worker %" G_GINT64_FORMAT, pid);

      doc_role (&doc, pid, role);
      for (int k = 0; k < 3; k++)
        doc_event (&doc, "i", ts++, pid, "process.start", "{\"method\": \"spawn\"}");
    }
  doc_role (&doc, 5, "manager server");
  doc_event (&doc, "B", ts++, 5, "proxy.handle", "{\"object\": \"list\", \"method\": \"get\"}");
  doc_event (&doc, "E", ts++, 5, "proxy.handle", "{}");
  trace = doc_end (&doc);
  text = render (trace, 0);
  header = line_with (text, "ms ");

  g_assert_nonnull (strstr (header, "manager server"));
  g_assert_nonnull (strstr (header, "worker 1"));
  g_assert_null (strstr (header, "worker 4"));
  g_assert_nonnull (strstr (text, "1 more process, not shown"));
}

/* A long run of routine rows is folded, with the count of what it hides;
 * the marked rows after it stay. */
static void
test_render_fold (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  g_autofree char *short_text = NULL;
  double ts = 0;

  doc_begin (&doc);
  doc_role (&doc, 1, "process A");
  doc_role (&doc, 2, "process B");
  for (gint64 v = 0; v < 20; v++)
    {
      doc_value (&doc, ts++, 1, "value.read", v);
      doc_value (&doc, ts++, 1, "value.write", v + 1);
    }
  doc_value (&doc, ts++, 1, "value.read", 20);
  doc_value (&doc, ts++, 2, "value.read", 20);
  doc_value (&doc, ts++, 1, "value.write", 21);
  doc_value (&doc, ts++, 2, "value.write", 21);
  trace = doc_end (&doc);
  text = render (trace, 0);

  /* 41 routine rows (A's 40 and its 41st read), then B's marked read */
  g_assert_nonnull (strstr (text, "... 36 routine lines ..."));
  g_assert_nonnull (strstr (text, "total -> 0"));
  g_assert_null (strstr (text, "total -> 5\n"));
  g_assert_nonnull (strstr (text, "*total -> 20"));
  g_assert_nonnull (strstr (text, "*total <- 21"));

  /* a limit on the rows drops routine rows first, keeps the first and
   * the marked ones, and says how many it left out */
  short_text = render (trace, 3);
  g_assert_nonnull (strstr (short_text, "... 5 lines not shown ..."));
  g_assert_nonnull (strstr (short_text, "... 1 line not shown ..."));
  g_assert_nonnull (strstr (short_text, "total -> 0"));
  g_assert_null (strstr (short_text, "routine lines"));
  g_assert_nonnull (strstr (short_text, "*total -> 20"));
  g_assert_nonnull (strstr (short_text, "*total <- 21"));
}

/* A complete slice (X, with dur) counts as its begin and its end. */
static void
test_render_complete_slices (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  g_autofree char *summary = NULL;
  g_autoptr(GError) error = NULL;

  doc_begin (&doc);
  doc_role (&doc, 1, "worker 1");
  doc_role (&doc, 2, "worker 2");
  doc_event (&doc, "B", 0, 2, "lock.hold", "{\"object\": \"lock\"}");
  doc_event (&doc, "i", 1, 1, "process.start", "{\"method\": \"fork\"}");
  doc_event (&doc, "E", 1400, 2, "lock.hold", NULL);
  trace = doc_end (&doc);
  /* a wait of worker 1 from 2 µs, 1500 µs long, as an X */
  {
    JsonArray *events = json_object_get_array_member (json_node_get_object (trace), "traceEvents");
    JsonObject *x = json_object_new ();
    JsonObject *args = json_object_new ();

    json_object_set_string_member (args, "kind", "lock.wait");
    json_object_set_string_member (args, "object", "lock");
    json_object_set_string_member (args, "type", "Lock");
    json_object_set_string_member (x, "name", "acquire");
    json_object_set_string_member (x, "ph", "X");
    json_object_set_double_member (x, "ts", 2);
    json_object_set_double_member (x, "dur", 1500);
    json_object_set_int_member (x, "pid", 1);
    json_object_set_int_member (x, "tid", 1);
    json_object_set_object_member (x, "args", args);
    json_array_add_object_element (events, x);
  }
  text = render (trace, 0);
  g_assert_nonnull (strstr (text, "wait lock"));

  summary = mp_timeline_summary (trace, &error);
  g_assert_no_error (error);
  g_test_message ("%s", summary);
  g_assert_nonnull (strstr (summary, "lock (Lock): 1 wait, 1.500 ms"));
}

static void
test_render_empty (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;

  doc_begin (&doc);
  trace = doc_end (&doc);
  text = render (trace, 0);
  g_assert_cmpstr (text, ==, "(no events were recorded)\n");
}

/* ---- the summary -------------------------------------------------------- */

static void
test_summary (void)
{
  Doc doc;
  g_autoptr(JsonNode) trace = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  doc_begin (&doc);
  doc_role (&doc, 1, "parent");
  doc_role (&doc, 2, "worker 1");
  doc_event (&doc, "i", 1000, 2, "process.start", "{\"method\": \"spawn\"}");
  doc_event (&doc, "B", 1100, 2, "lock.wait", "{\"object\": \"total\", \"type\": \"Lock\"}");
  doc_event (&doc, "E", 1350, 2, "lock.wait", "{}");
  doc_event (&doc, "B", 2000, 2, "lock.wait", "{\"object\": \"total\", \"type\": \"Lock\"}");
  doc_event (&doc, "E", 2250, 2, "lock.wait", "{}");
  doc_event (&doc, "B", 2300, 2, "proxy.call", "{\"object\": \"l\", \"method\": \"append\"}");
  doc_event (&doc, "E", 2400, 2, "proxy.call", "{}");
  doc_event (&doc, "B", 2500, 2, "proxy.call", "{\"object\": \"l\", \"method\": \"append\"}");
  doc_event (&doc, "E", 2600, 2, "proxy.call", "{}");
  doc_event (&doc, "B", 2700, 2, "proxy.call", "{\"object\": \"l\", \"method\": \"get\"}");
  doc_event (&doc, "E", 2800, 2, "proxy.call", "{}");
  doc_event (&doc, "i", 2900, 2, "error", "{\"code\": \"manager-closed\", \"message\": \"the manager is closed\"}");
  doc_event (&doc, "i", 4000, 2, "process.exit", "{\"code\": 1}");
  doc_event (&doc, "i", 0, 1, "process.start", "{\"method\": \"fork\"}");
  doc_event (&doc, "i", 5000, 1, "pool.submit", "{\"future\": 1}");
  trace = doc_end (&doc);
  text = mp_timeline_summary (trace, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  assert_fits (text);

  g_assert_cmpuint (position_of (text, "parent (pid 1)"), <, position_of (text, "worker 1 (pid 2)"));
  g_assert_nonnull (strstr (text, "lifetime  5.000 ms, no exit recorded"));
  g_assert_nonnull (strstr (text, "lifetime  3.000 ms, exit 1"));
  g_assert_nonnull (strstr (text, "total (Lock): 2 waits, 0.500 ms"));
  g_assert_nonnull (strstr (text, "\n  calls     append x2\n"));
  g_assert_nonnull (strstr (text, "\n            get x1\n"));
  g_assert_nonnull (strstr (text, "manager-closed x1: the manager is closed"));
}

/* ---- bad documents and bad files ----------------------------------------- */

static void
test_check_wrong_shapes (void)
{
  static const char *const wrong[] = {
    "[1, 2]",
    "{\"events\": []}",
    "{\"traceEvents\": {}}",
    "{\"traceEvents\": [3]}",
    "{\"traceEvents\": [{\"ph\": \"i\", \"ts\": 1}]}",
    "{\"traceEvents\": [{\"ph\": \"i\", \"pid\": 1}]}",
    "{\"traceEvents\": [{\"ph\": \"ii\", \"ts\": 1, \"pid\": 1}]}",
    "{\"traceEvents\": [{\"ph\": \"X\", \"ts\": 1, \"pid\": 1}]}",
    "{\"traceEvents\": [{\"ph\": \"i\", \"ts\": \"1\", \"pid\": 1}]}",
    "{\"traceEvents\": [{\"ph\": \"i\", \"ts\": 1, \"pid\": 1, \"args\": 3}]}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = json_from_string (wrong[i], &error);
      char *text;

      g_assert_no_error (error);
      g_assert_false (mp_timeline_check (node, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_test_message ("%s: %s", wrong[i], error->message);
      g_assert_nonnull (strstr (error->message, "--trace FILE.json"));
      g_clear_error (&error);
      text = mp_timeline_render (node, 0, &error);
      g_assert_null (text);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      text = mp_timeline_summary (node, &error);
      g_assert_null (text);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
    }
}

typedef struct {
  char *dir;     /* a fresh directory in the build tree, removed at teardown */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = g_test_build_filename (G_TEST_BUILT, "timeline-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (f->dir));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_assert_cmpint (g_rmdir (f->dir), ==, 0);
  g_free (f->dir);
}

static char *
write_file (Fixture    *f,
            const char *name,
            const char *contents)
{
  char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

/* A sparse file of @size bytes: the size is what the loader must refuse. */
static char *
write_sparse (Fixture *f,
              goffset  size)
{
  char *path = g_build_filename (f->dir, "huge.json", NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, size), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  return path;
}

static void
assert_load_fails (const char *path,
                   gint        code,
                   const char *words)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) trace = mp_timeline_load (path, &error);

  g_assert_null (trace);
  g_assert_error (error, MP_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, words));
}

static void
test_load_bad_files (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing.json", NULL);
  g_autofree char *not_json = write_file (f, "not.json", "Step 1. this is a demo's output\n");
  g_autofree char *empty = write_file (f, "empty.json", "");
  g_autofree char *wrong = write_file (f, "wrong.json", "{\"traceEvents\": [{\"ph\": \"B\"}]}");
  g_autofree char *huge = write_sparse (f, 100 * 1000 * 1000);

  assert_load_fails (missing, mp_error_from_errno (ENOENT), "No such file");
  assert_load_fails (not_json, MP_ERROR_INVALID_ARGUMENT, "is not JSON");
  assert_load_fails (empty, MP_ERROR_INVALID_ARGUMENT, "empty");
  assert_load_fails (wrong, MP_ERROR_INVALID_ARGUMENT, "no \"pid\"");
  assert_load_fails (huge, MP_ERROR_INVALID_ARGUMENT, "100.0 MB, more than the 32.0 MB");
  assert_load_fails (f->dir, MP_ERROR_INVALID_ARGUMENT, "not a regular file");
}

static void
test_load_saved (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(JsonNode) original = lost_update_trace (FALSE);
  g_autofree char *saved = json_to_string (original, TRUE);
  g_autofree char *path = write_file (f, "trace.json", saved);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) loaded = mp_timeline_load (path, &error);
  g_autofree char *from_memory = NULL;
  g_autofree char *from_file = NULL;

  g_assert_no_error (error);
  from_memory = render (original, 0);
  from_file = render (loaded, 0);
  g_assert_cmpstr (from_file, ==, from_memory);
}

/* ---- mpshare trace ------------------------------------------------------- */

static char *
run_mpshare (int         *status,
             char       **err,
             const char  *verb,
             const char  *path)
{
  g_autofree char *mpshare = g_build_filename (g_getenv ("MP_DEMO_DIR"), "mpshare", NULL);
  const char *argv[] = { mpshare, "trace", verb, path, NULL };
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;
  char *out = NULL;

  child = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                   G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (child, NULL, NULL, &out, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (child));
  *status = g_subprocess_get_exit_status (child);
  g_test_message ("mpshare trace %s %s: %d\n%s%s", verb, path != NULL ? path : "",
                  *status, out, *err);
  return out;
}

static void
test_cli_show_and_summary (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(JsonNode) trace = lost_update_trace (FALSE);
  g_autofree char *saved = json_to_string (trace, FALSE);
  g_autofree char *path = write_file (f, "trace.json", saved);
  g_autofree char *expected_show = render (trace, 0);
  g_autofree char *expected_summary = mp_timeline_summary (trace, NULL);
  g_autofree char *err1 = NULL, *err2 = NULL;
  g_autofree char *show = NULL, *summary = NULL;
  int status;

  show = run_mpshare (&status, &err1, "show", path);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (show, ==, expected_show);
  g_assert_cmpstr (err1, ==, "");
  summary = run_mpshare (&status, &err2, "summary", path);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (summary, ==, expected_summary);
}

static void
test_cli_bad_input (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *missing = g_build_filename (f->dir, "missing.json", NULL);
  g_autofree char *not_json = write_file (f, "not.json", "not json at all");
  g_autofree char *wrong = write_file (f, "wrong.json", "{\"traceEvents\": 1}");
  g_autofree char *huge = write_sparse (f, 100 * 1000 * 1000);
  const struct { const char *verb; const char *path; const char *words; } cases[] = {
    { "show", missing, "No such file" },
    { "summary", missing, "No such file" },
    { "show", not_json, "is not JSON" },
    { "show", wrong, "no \"traceEvents\" array" },
    { "summary", wrong, "no \"traceEvents\" array" },
    { "show", huge, "more than the 32.0 MB" },
    { "play", not_json, "say show or summary" },
    { "show", NULL, "say show or summary" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      g_autofree char *out = NULL;
      int status;

      out = run_mpshare (&status, &err, cases[i].verb, cases[i].path);
      g_assert_cmpint (status, ==, 2);
      g_assert_cmpstr (out, ==, "");
      g_assert_true (g_str_has_prefix (err, "mpshare trace"));
      g_assert_nonnull (strstr (err, cases[i].words));
      g_assert_null (strstr (err, "CRITICAL"));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/timeline/render/lost-update", test_render_lost_update);
  g_test_add_func ("/timeline/render/lock-held", test_render_lock_held);
  g_test_add_func ("/timeline/render/vocabulary", test_render_vocabulary);
  g_test_add_func ("/timeline/render/busiest-lanes", test_render_busiest_lanes);
  g_test_add_func ("/timeline/render/server-lane", test_render_server_lane);
  g_test_add_func ("/timeline/render/fold", test_render_fold);
  g_test_add_func ("/timeline/render/complete-slices", test_render_complete_slices);
  g_test_add_func ("/timeline/render/empty", test_render_empty);
  g_test_add_func ("/timeline/summary", test_summary);
  g_test_add_func ("/timeline/check/wrong-shapes", test_check_wrong_shapes);
  g_test_add ("/timeline/load/bad-files", Fixture, NULL, fixture_setup,
              test_load_bad_files, fixture_teardown);
  g_test_add ("/timeline/load/saved", Fixture, NULL, fixture_setup,
              test_load_saved, fixture_teardown);
  g_test_add ("/timeline/cli/show-and-summary", Fixture, NULL, fixture_setup,
              test_cli_show_and_summary, fixture_teardown);
  g_test_add ("/timeline/cli/bad-input", Fixture, NULL, fixture_setup,
              test_cli_bad_input, fixture_teardown);
  return g_test_run ();
}
