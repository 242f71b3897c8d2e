/* mp-timeline.c — a recorded trace shown in a terminal
 *
 * The input is the Chrome trace-event document the recorder writes
 * (docs/trace.md): { "traceEvents": [ {name, ph, ts, pid, tid, args}... ] }
 * with args.kind naming what happened. Only json-glib reads it; nothing
 * here knows how it was recorded, so a saved file and a live run show the
 * same way.
 *
 * The swimlane has one row per event that says something, time going
 * down, one column per process. A lane that waits for a lock shows ':'
 * until it gets it, one that holds a lock shows '|', one inside a proxy
 * call or its handling '~'. A write that lands over another process's
 * write which the writer never read is marked '*', with the read it was
 * computed from: that is a lost update, found in the recorded values, not
 * assumed. Long runs of routine rows (uncontended locks, unmarked reads
 * and writes) are folded into one line with their count.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "mp-error.h"
#include "mp-timeline.h"

/* A run of more routine rows than this is folded, keeping its ends. */
#define FOLD_RUN   8
#define FOLD_HEAD  3
#define FOLD_TAIL  2

/* Choosing the busiest lanes, an error counts as this many events: the
 * process that met the pitfall is the one to see. A server (its lane
 * handles proxy calls) comes next: the other processes' calls go there. */
#define BUSY_ERROR  100
#define BUSY_SERVER 50

#define TIME_WIDTH 7          /* "123.456" milliseconds */
#define MAX_CELL   34         /* a lane no wider than this, even alone */

typedef struct {
  double      ts;         /* microseconds, as in the file */
  gint64      pid;
  gint64      tid;
  char        ph;         /* B, E, i, s, f, M; an X is split into B and E */
  const char *kind;       /* args.kind, "" when absent */
  const char *name;
  JsonObject *args;       /* borrowed from the document; NULL when absent */
  guint       order;      /* position in the file, for a stable sort */
  gint        other_end;  /* a B's E or an E's B, -1 when unmatched */
  gboolean    lost;       /* the read or the write of a lost update */
  const char *label;      /* what its object is called here, or NULL */
  gboolean    ok_known;   /* an end that carries args.ok ... */
  gboolean    ok;         /* ... and its value */
} Event;

typedef struct {
  gint64  pid;
  char   *role;
  guint   n_events;
  guint   n_errors;       /* error events: a lane with one is worth showing */
  gboolean serves;        /* handles proxy calls: a manager server */
  double  first_ts;
  double  last_ts;
  gboolean started;       /* its start is recorded: someone started it */
  gint    column;         /* -1 when not shown */
} Lane;

typedef struct {
  GArray     *events;     /* Event, in time order */
  GPtrArray  *lanes;      /* Lane, in the order of their first event */
  GHashTable *by_pid;     /* gint64 pid -> Lane */
  double      t0;
} Trace;

static void
lane_free (gpointer data)
{
  Lane *lane = data;

  g_free (lane->role);
  g_free (lane);
}

static void
trace_free (Trace *trace)
{
  g_array_unref (trace->events);
  g_hash_table_unref (trace->by_pid);
  g_ptr_array_unref (trace->lanes);
  g_free (trace);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Trace, trace_free)

/* ---- reading the document --------------------------------------------- */

static gboolean
shape_error (GError    **error,
             guint       index,
             const char *what)
{
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "trace event %u %s: this is not a Chrome trace as mpshare "
                "writes it (record one with --trace FILE.json, or run any "
                "program with MP_TRACE=FILE.json)", index, what);
  return FALSE;
}

static gboolean
member_is_number (JsonObject *object,
                  const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static double
member_double (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double) json_node_get_int (node);
  return json_node_get_double (node);
}

static const char *
member_string (JsonObject *object,
               const char *member)
{
  JsonNode *node;

  if (object == NULL || (node = json_object_get_member (object, member)) == NULL ||
      !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonArray *
events_of (JsonNode *trace,
           GError  **error)
{
  JsonObject *root;
  JsonNode *events;

  if (!JSON_NODE_HOLDS_OBJECT (trace))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the trace is not a JSON object with \"traceEvents\": "
                    "this is not a Chrome trace as mpshare writes it (record "
                    "one with --trace FILE.json)");
      return NULL;
    }
  root = json_node_get_object (trace);
  events = json_object_get_member (root, "traceEvents");
  if (events == NULL || !JSON_NODE_HOLDS_ARRAY (events))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the trace has no \"traceEvents\" array: this is not a "
                    "Chrome trace as mpshare writes it (record one with "
                    "--trace FILE.json)");
      return NULL;
    }
  return json_node_get_array (events);
}

/* Checks one event and appends it (an X as a B and an E). */
static gboolean
read_event (JsonNode *node,
            guint     index,
            GArray   *out,
            GError  **error)
{
  JsonObject *object;
  JsonNode *args;
  const char *ph;
  Event event = { 0 };

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return shape_error (error, index, "is not an object");
  object = json_node_get_object (node);
  ph = member_string (object, "ph");
  if (ph == NULL || strlen (ph) != 1)
    return shape_error (error, index, "has no one-letter \"ph\"");
  if (!member_is_number (object, "pid"))
    return shape_error (error, index, "has no \"pid\" number");
  if (ph[0] != 'M' && !member_is_number (object, "ts"))
    return shape_error (error, index, "has no \"ts\" number");
  if (ph[0] == 'X' && !member_is_number (object, "dur"))
    return shape_error (error, index, "is a complete slice (X) without \"dur\"");
  args = json_object_get_member (object, "args");
  if (args != NULL && !JSON_NODE_HOLDS_OBJECT (args) && !JSON_NODE_HOLDS_NULL (args))
    return shape_error (error, index, "has \"args\" that are not an object");

  event.ph = ph[0];
  event.pid = (gint64) member_double (object, "pid");
  event.tid = member_is_number (object, "tid") ? (gint64) member_double (object, "tid") : 0;
  event.ts = event.ph == 'M' ? 0 : member_double (object, "ts");
  event.args = args != NULL && JSON_NODE_HOLDS_OBJECT (args) ? json_node_get_object (args) : NULL;
  event.kind = member_string (event.args, "kind");
  if (event.kind == NULL)
    event.kind = "";
  event.name = member_string (object, "name");
  if (event.name == NULL)
    event.name = "";
  event.order = out->len;
  event.other_end = -1;
  if (event.args != NULL && json_object_has_member (event.args, "ok"))
    {
      JsonNode *ok = json_object_get_member (event.args, "ok");

      event.ok_known = JSON_NODE_HOLDS_VALUE (ok);
      event.ok = event.ok_known && json_node_get_value_type (ok) == G_TYPE_BOOLEAN
                   ? json_node_get_boolean (ok)
                   : event.ok_known && json_node_get_value_type (ok) == G_TYPE_INT64
                       ? json_node_get_int (ok) != 0 : TRUE;
    }
  if (event.ph != 'X')
    {
      g_array_append_val (out, event);
      return TRUE;
    }
  event.ph = 'B';
  g_array_append_val (out, event);
  event.ph = 'E';
  event.ts += member_double (object, "dur");
  event.order = out->len;
  g_array_append_val (out, event);
  return TRUE;
}

static gint
compare_events (gconstpointer a,
                gconstpointer b)
{
  const Event *x = a, *y = b;

  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Pairs each E with the B open on its track (pid, tid). */
static void
match_slices (GArray *events)
{
  g_autoptr(GHashTable) open = g_hash_table_new_full (g_str_hash, g_str_equal,
                                                      g_free, (GDestroyNotify) g_array_unref);

  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      g_autofree char *track = NULL;
      GArray *stack;

      if (event->ph != 'B' && event->ph != 'E')
        continue;
      track = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT,
                               event->pid, event->tid);
      stack = g_hash_table_lookup (open, track);
      if (stack == NULL)
        {
          stack = g_array_new (FALSE, FALSE, sizeof (gint));
          g_hash_table_insert (open, g_steal_pointer (&track), stack);
        }
      if (event->ph == 'B')
        g_array_append_val (stack, i);
      else if (stack->len > 0)
        {
          gint begin = g_array_index (stack, gint, stack->len - 1);

          g_array_set_size (stack, stack->len - 1);
          Event *b = &g_array_index (events, Event, begin);

          /* an end says what it ends through its begin */
          event->other_end = begin;
          b->other_end = (gint) i;
          event->kind = b->kind;
          event->args = b->args;
        }
    }
}

static Lane *
lane_for (Trace  *trace,
          gint64  pid)
{
  Lane *lane = g_hash_table_lookup (trace->by_pid, &pid);

  if (lane == NULL)
    {
      lane = g_new0 (Lane, 1);
      lane->pid = pid;
      lane->column = -1;
      lane->first_ts = G_MAXDOUBLE;
      g_hash_table_insert (trace->by_pid, &lane->pid, lane);
      g_ptr_array_add (trace->lanes, lane);
    }
  return lane;
}

static gint
compare_lanes_by_start (gconstpointer a,
                        gconstpointer b)
{
  const Lane *x = *(Lane **) a, *y = *(Lane **) b;

  /* the process that started the others comes first */
  if (x->started != y->started)
    return x->started ? 1 : -1;
  /* then in the order they were made: a child reports its own start,
   * when the scheduler lets it, but gets its pid when it is forked */
  if (x->pid != y->pid)
    return x->pid < y->pid ? -1 : 1;
  return 0;
}

static void
collect_lanes (Trace *trace)
{
  for (guint i = 0; i < trace->events->len; i++)
    {
      Event *event = &g_array_index (trace->events, Event, i);
      Lane *lane = lane_for (trace, event->pid);

      if (event->ph == 'M')
        {
          const char *role = member_string (event->args, "name");

          if (g_strcmp0 (event->name, "process_name") == 0 && role != NULL)
            {
              g_free (lane->role);
              lane->role = g_utf8_make_valid (role, -1);
            }
          continue;
        }
      lane->n_events++;
      lane->n_errors += g_str_equal (event->kind, "error");
      lane->serves |= g_str_equal (event->kind, "proxy.handle");
      lane->started |= g_str_equal (event->kind, "process.start");
      lane->first_ts = MIN (lane->first_ts, event->ts);
      lane->last_ts = MAX (lane->last_ts, event->ts);
    }
  for (guint i = 0; i < trace->lanes->len; i++)
    {
      Lane *lane = trace->lanes->pdata[i];

      if (lane->role == NULL)
        lane->role = g_strdup_printf ("pid %" G_GINT64_FORMAT, lane->pid);
    }
  g_ptr_array_sort (trace->lanes, compare_lanes_by_start);
}

/* The key of a watched value: its object, and the element of an Array. */
static char *
value_key (const Event *event)
{
  const char *object = member_string (event->args, "object");
  JsonNode *index = event->args != NULL ? json_object_get_member (event->args, "index") : NULL;

  if (index != NULL && JSON_NODE_HOLDS_VALUE (index) &&
      json_node_get_value_type (index) == G_TYPE_INT64)
    return g_strdup_printf ("%s[%" G_GINT64_FORMAT "]", object != NULL ? object : "?",
                            json_node_get_int (index));
  return g_strdup (object != NULL ? object : "?");
}

/* A write by P over a write by Q (Q != P) that came after P's last read of
 * the same value: P computed from a value that was already stale, so Q's
 * update is gone. The read and the write are marked. */
static void
mark_lost_updates (GArray *events)
{
  g_autoptr(GHashTable) last_write = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) last_read = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      g_autofree char *key = NULL;
      g_autofree char *reader = NULL;
      gpointer read_at, write_at;

      if (event->ph != 'i' && event->ph != 'I')
        continue;
      if (!g_str_equal (event->kind, "value.read") && !g_str_equal (event->kind, "value.write"))
        continue;
      key = value_key (event);
      reader = g_strdup_printf ("%" G_GINT64_FORMAT " %s", event->pid, key);
      if (g_str_equal (event->kind, "value.read"))
        {
          g_hash_table_replace (last_read, g_steal_pointer (&reader), GINT_TO_POINTER (i + 1));
          continue;
        }
      if (g_hash_table_lookup_extended (last_read, reader, NULL, &read_at) &&
          g_hash_table_lookup_extended (last_write, key, NULL, &write_at))
        {
          guint r = GPOINTER_TO_UINT (read_at) - 1, w = GPOINTER_TO_UINT (write_at) - 1;

          if (w > r && g_array_index (events, Event, w).pid != event->pid)
            {
              event->lost = TRUE;
              g_array_index (events, Event, r).lost = TRUE;
            }
        }
      g_hash_table_replace (last_write, g_steal_pointer (&key), GINT_TO_POINTER (i + 1));
    }
}

/* A locked Value's lock has a label of its own ("RLock 1"); the value a
 * hold reads or writes names it better ("total"), in every process. */
static void
name_locks_after_values (GArray *events)
{
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < events->len; i++)
    {
      const Event *hold = &g_array_index (events, Event, i);
      const char *lock = member_string (hold->args, "object");

      if (hold->ph != 'B' || !g_str_equal (hold->kind, "lock.hold") || lock == NULL ||
          hold->other_end < 0 || g_hash_table_contains (names, lock))
        continue;
      for (guint k = i + 1; k < (guint) hold->other_end; k++)
        {
          const Event *e = &g_array_index (events, Event, k);
          const char *value = member_string (e->args, "object");

          if (e->pid == hold->pid && e->tid == hold->tid && value != NULL &&
              (g_str_equal (e->kind, "value.read") || g_str_equal (e->kind, "value.write")))
            {
              g_hash_table_insert (names, (gpointer) lock, (gpointer) value);
              break;
            }
        }
    }
  for (guint i = 0; i < events->len; i++)
    {
      Event *event = &g_array_index (events, Event, i);
      const char *object = member_string (event->args, "object");

      if (g_str_has_prefix (event->kind, "lock.") && object != NULL)
        event->label = g_hash_table_lookup (names, object);
    }
}

static Trace *
trace_read (JsonNode *document,
            GError  **error)
{
  g_autoptr(Trace) trace = g_new0 (Trace, 1);
  JsonArray *events;

  trace->events = g_array_new (FALSE, FALSE, sizeof (Event));
  trace->lanes = g_ptr_array_new_with_free_func (lane_free);
  trace->by_pid = g_hash_table_new (g_int64_hash, g_int64_equal);
  if ((events = events_of (document, error)) == NULL)
    return NULL;
  for (guint i = 0; i < json_array_get_length (events); i++)
    if (!read_event (json_array_get_element (events, i), i, trace->events, error))
      return NULL;
  g_array_sort (trace->events, compare_events);
  match_slices (trace->events);
  name_locks_after_values (trace->events);
  collect_lanes (trace);
  mark_lost_updates (trace->events);
  trace->t0 = G_MAXDOUBLE;
  for (guint i = 0; i < trace->lanes->len; i++)
    trace->t0 = MIN (trace->t0, ((Lane *) trace->lanes->pdata[i])->first_ts);
  return g_steal_pointer (&trace);
}

/**
 * mp_timeline_check:
 * @trace: a Chrome trace document
 * @error: return location for a #GError
 *
 * Checks that @trace has the shape the recorder writes: an object with a
 * "traceEvents" array of objects, each with a one-letter "ph", a "pid"
 * and (but for metadata) a "ts" number; "X" slices with a "dur".
 *
 * Returns: %TRUE when mp_timeline_render() and mp_timeline_summary() can
 *   read it; otherwise %FALSE with %MP_ERROR_INVALID_ARGUMENT naming the
 *   first event that is wrong.
 *
 * Since: 0.1
 */
gboolean
mp_timeline_check (JsonNode  *trace,
                   GError   **error)
{
  g_autoptr(Trace) read = NULL;

  g_return_val_if_fail (trace != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  read = trace_read (trace, error);
  return read != NULL;
}

/**
 * mp_timeline_load:
 * @path: a trace file, as `--trace FILE.json` or `MP_TRACE` writes it
 * @error: return location for a #GError
 *
 * Reads and checks a saved trace. A file larger than
 * %MP_TIMELINE_MAX_FILE_SIZE is refused before it is read.
 *
 * Returns: (transfer full): the document, or %NULL with @error set: the
 *   errno's code when the file cannot be read, %MP_ERROR_INVALID_ARGUMENT
 *   when it is not a regular file, too large, not JSON, or JSON of
 *   another shape.
 *
 * Since: 0.1
 */
JsonNode *
mp_timeline_load (const char  *path,
                  GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) parse_error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *limit_text = NULL;
  GStatBuf st;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;
      mp_set_error_from_errno (error, saved_errno, "reading the trace %s", path);
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s is not a regular file: give the .json file a trace "
                    "was saved to", path);
      return NULL;
    }
  /* plain spaces: g_format_size() puts a no-break space in the middle */
  limit_text = g_strdup_printf ("%.1f MB", MP_TIMELINE_MAX_FILE_SIZE / 1e6);
  size_text = g_strdup_printf ("%.1f MB", (double) st.st_size / 1e6);
  if (st.st_size > MP_TIMELINE_MAX_FILE_SIZE)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the trace %s is %s, more than the %s mpshare reads: "
                    "record a shorter run, or open it in Perfetto "
                    "(https://ui.perfetto.dev)", path, size_text, limit_text);
      return NULL;
    }
  if (!g_file_get_contents (path, &text, &length, &parse_error))
    {
      mp_set_error (error, MP_ERROR_FAILED, "reading the trace %s: %s", path,
                    parse_error->message);
      return NULL;
    }
  /* the file may have grown between the stat and the read */
  if (length > MP_TIMELINE_MAX_FILE_SIZE)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the trace %s grew past the %s mpshare reads while it "
                    "was read", path, limit_text);
      return NULL;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, text, (gssize) length, &parse_error))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s is not JSON (%s): give the file a trace was saved to "
                    "with --trace FILE.json", path, parse_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !mp_timeline_check (json_parser_get_root (parser), error))
    {
      if (error != NULL && *error == NULL)
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s is empty: give the file a trace was saved to", path);
      else
        g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/* ---- words for the events ---------------------------------------------- */

static const char *
signal_name (gint64 signal)
{
  static const struct { int number; const char *name; } names[] = {
    { 1, "SIGHUP" }, { 2, "SIGINT" }, { 3, "SIGQUIT" }, { 4, "SIGILL" },
    { 6, "SIGABRT" }, { 7, "SIGBUS" }, { 8, "SIGFPE" }, { 9, "SIGKILL" },
    { 11, "SIGSEGV" }, { 13, "SIGPIPE" }, { 14, "SIGALRM" }, { 15, "SIGTERM" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (names[i].number == signal)
      return names[i].name;
  return NULL;
}

static char *
describe_value (JsonObject *args,
                const char *member)
{
  JsonNode *node = args != NULL ? json_object_get_member (args, member) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("?");
  if (!JSON_NODE_HOLDS_VALUE (node))
    return json_to_string (node, FALSE);
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_INT64:
      return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return g_strdup_printf ("%g", json_node_get_double (node));
    case G_TYPE_BOOLEAN:
      return g_strdup (json_node_get_boolean (node) ? "true" : "false");
    default:
      return g_strdup (json_node_get_string (node));
    }
}

static const char *
object_of (const Event *event)
{
  const char *object = member_string (event->args, "object");

  if (event->label != NULL)
    return event->label;
  return object != NULL ? object : event->name;
}

static char *
describe_exit (const Event *event)
{
  JsonObject *args = event->args;

  if (args != NULL && json_object_has_member (args, "signal") &&
      member_is_number (args, "signal"))
    {
      gint64 number = (gint64) member_double (args, "signal");
      const char *name = signal_name (number);

      return name != NULL ? g_strdup_printf ("killed: %s", name)
                          : g_strdup_printf ("killed: signal %" G_GINT64_FORMAT, number);
    }
  if (args != NULL && member_is_number (args, "code"))
    return g_strdup_printf ("exit %" G_GINT64_FORMAT, (gint64) member_double (args, "code"));
  return g_strdup ("exit");
}

static char *
describe_future (const Event *event)
{
  g_autofree char *future = describe_value (event->args, "future");

  return g_strdup_printf ("#%s", future);
}

static gboolean
is_kind (const Event *event,
         const char  *kind)
{
  return g_str_equal (event->kind, kind);
}

/* Did another process do anything while this slice was open? */
static gboolean
slice_contended (const GArray *events,
                 guint         begin)
{
  const Event *b = &g_array_index (events, Event, begin);
  guint end = b->other_end >= 0 ? (guint) b->other_end : events->len;

  if (b->other_end < 0)
    return TRUE;   /* never ended: it waited to the end of the trace */
  for (guint k = begin + 1; k < end; k++)
    {
      const Event *e = &g_array_index (events, Event, k);

      if (e->pid != b->pid && e->ph != 'M')
        return TRUE;
    }
  return FALSE;
}

/* The hold that follows a wait on the same track, if the wait ended in one. */
static gboolean
wait_was_contended_before (const GArray *events,
                           guint         hold)
{
  const Event *h = &g_array_index (events, Event, hold);

  for (guint k = hold; k-- > 0;)
    {
      const Event *e = &g_array_index (events, Event, k);

      if (e->pid != h->pid || e->tid != h->tid)
        continue;
      if (e->ph == 'E' && is_kind (e, "lock.wait") && e->other_end >= 0)
        return slice_contended (events, (guint) e->other_end);
      return FALSE;
    }
  return FALSE;
}

static char *
describe_slice_begin (const GArray *events,
                      guint         i,
                      gboolean     *notable)
{
  const Event *event = &g_array_index (events, Event, i);
  g_autofree char *method = describe_value (event->args, "method");

  if (is_kind (event, "lock.wait"))
    {
      /* a wait nobody else acted during is a lock taken at once: the
       * hold that follows says it */
      if (!slice_contended (events, i))
        return NULL;
      *notable = TRUE;
      return g_strdup_printf ("wait %s", object_of (event));
    }
  if (is_kind (event, "lock.hold"))
    {
      *notable = wait_was_contended_before (events, i);
      return g_strdup_printf ("%s %s", *notable ? "got" : "lock", object_of (event));
    }
  /* the task runs from the process's start to its exit: those rows say it */
  if (is_kind (event, "process.task"))
    return NULL;
  *notable = TRUE;
  if (is_kind (event, "proxy.call"))
    return g_strdup_printf ("call %s", method);
  if (is_kind (event, "proxy.handle"))
    return g_strdup_printf ("serve %s", method);
  *notable = FALSE;
  return event->name[0] != '\0' ? g_strdup (event->name) : NULL;
}

static char *
describe_instant (const Event *event,
                  gboolean    *notable)
{
  g_autofree char *value = NULL;

  *notable = TRUE;
  if (is_kind (event, "value.read") || is_kind (event, "value.write"))
    {
      g_autofree char *key = value_key (event);

      *notable = event->lost;
      value = describe_value (event->args, "value");
      /* the mark first: a narrow lane cuts the end of a cell */
      return g_strdup_printf ("%s%s %s %s", event->lost ? "*" : "", key,
                              is_kind (event, "value.read") ? "->" : "<-", value);
    }
  if (is_kind (event, "process.start"))
    {
      value = describe_value (event->args, "method");
      return g_strdup_printf ("start (%s)", value);
    }
  if (is_kind (event, "process.exit"))
    return describe_exit (event);
  if (is_kind (event, "process.guard"))
    return g_strdup ("main guard");
  if (is_kind (event, "process.bootstrap-error"))
    return g_strdup ("!! bootstrapping");
  if (is_kind (event, "lock.timeout"))
    return g_strdup_printf ("timeout %s", object_of (event));
  if (is_kind (event, "lock.owner-died"))
    return g_strdup_printf ("!! owner died %s", object_of (event));
  if (is_kind (event, "proxy.reply"))
    {
      JsonNode *copy = event->args != NULL ? json_object_get_member (event->args, "copy") : NULL;

      value = describe_value (event->args, "method");
      if (copy != NULL && JSON_NODE_HOLDS_VALUE (copy) &&
          json_node_get_value_type (copy) == G_TYPE_BOOLEAN && json_node_get_boolean (copy))
        return g_strdup_printf ("%s: a copy", value);
      return g_strdup_printf ("%s returned", value);
    }
  if (is_kind (event, "pool.submit") || is_kind (event, "pool.dispatch"))
    {
      value = describe_future (event);
      return g_strdup_printf ("%s %s", is_kind (event, "pool.submit") ? "submit" : "run", value);
    }
  if (is_kind (event, "pool.done"))
    {
      JsonNode *ok = event->args != NULL ? json_object_get_member (event->args, "ok") : NULL;

      value = describe_future (event);
      return g_strdup_printf ("%s %s", value,
                              ok != NULL && JSON_NODE_HOLDS_VALUE (ok) &&
                              json_node_get_value_type (ok) == G_TYPE_BOOLEAN &&
                              !json_node_get_boolean (ok) ? "failed" : "done");
    }
  if (is_kind (event, "pool.worker-died"))
    {
      JsonNode *broken = event->args != NULL ? json_object_get_member (event->args, "broken") : NULL;
      guint n = broken != NULL && JSON_NODE_HOLDS_ARRAY (broken)
                  ? json_array_get_length (json_node_get_array (broken)) : 0;

      return g_strdup_printf ("!! died, broke %u", n);
    }
  if (is_kind (event, "error"))
    {
      value = describe_value (event->args, "code");
      return g_strdup_printf ("!! %s", value);
    }
  if (is_kind (event, "serialize.refused"))
    {
      value = describe_value (event->args, "path");
      return g_strdup_printf ("!! refused %s", value);
    }
  *notable = FALSE;
  return event->name[0] != '\0' ? g_strdup (event->name) : NULL;
}

/* The end of a task slice says whether it succeeded (args.ok, kept on the
 * end event itself). */
static gboolean
task_failed (const Event *end)
{
  return end->ok_known && !end->ok;
}

/* Is there a @kind event among the few before (@step -1) or after (+1)
 * event @i on its track? */
static gboolean
near_on_track (const GArray *events,
               guint         i,
               int           step,
               const char   *kind)
{
  const Event *event = &g_array_index (events, Event, i);
  guint seen = 0;

  for (gint64 k = (gint64) i + step; k >= 0 && k < events->len && seen < 4; k += step)
    {
      const Event *e = &g_array_index (events, Event, k);

      if (e->pid != event->pid || e->tid != event->tid)
        continue;
      if (is_kind (e, kind))
        return TRUE;
      seen++;
    }
  return FALSE;
}

/* An error whose row would only repeat the row beside it: a wait that
 * timed out (a try-lock that finds the lock busy is no error of the
 * program) or the bootstrapping check that just refused a start. */
static gboolean
error_said_already (const GArray *events,
                    guint         i)
{
  const char *code = member_string (g_array_index (events, Event, i).args, "code");

  if (g_strcmp0 (code, "timeout") == 0)
    return near_on_track (events, i, 1, "lock.timeout");
  if (g_strcmp0 (code, "bootstrapping") == 0)
    return near_on_track (events, i, -1, "process.bootstrap-error");
  return FALSE;
}

/* ---- the swimlane ------------------------------------------------------- */

typedef struct {
  double  ts;
  gint    column;
  char   *text;
  char    fills[MP_TIMELINE_MAX_LANES][2];
  gboolean notable;
  guint   folded;        /* > 0: this row stands for that many rows */
} Row;

static void
row_clear (gpointer data)
{
  g_free (((Row *) data)->text);
}

/* What a lane shows while nothing happens in it: the innermost open
 * wait, hold or call. */
typedef struct {
  gint waits;
  gint holds;
  gint calls;
} LaneState;

/* Two marks: the first says a lock is held, the second that the lane
 * waits (or is inside a proxy call): " |:" holds one lock, waits for more. */
static void
state_fill (const LaneState *state,
            char             fill[2])
{
  fill[0] = state->holds > 0 ? '|' : ' ';
  fill[1] = state->waits > 0 ? ':' : state->calls > 0 ? '~' : ' ';
}

static void
state_update (LaneState   *state,
              const Event *event)
{
  gint step = event->ph == 'B' ? 1 : event->ph == 'E' && event->other_end >= 0 ? -1 : 0;

  if (is_kind (event, "lock.wait"))
    state->waits += step;
  else if (is_kind (event, "lock.hold"))
    state->holds += step;
  else if (is_kind (event, "proxy.call") || is_kind (event, "proxy.handle"))
    state->calls += step;
  state->waits = MAX (state->waits, 0);
  state->holds = MAX (state->holds, 0);
  state->calls = MAX (state->calls, 0);
}

static gint
compare_lanes_by_events (gconstpointer a,
                         gconstpointer b)
{
  const Lane *x = *(Lane **) a, *y = *(Lane **) b;
  guint64 busy_x = x->n_events + (guint64) x->n_errors * BUSY_ERROR +
                   (x->serves ? BUSY_SERVER : 0);
  guint64 busy_y = y->n_events + (guint64) y->n_errors * BUSY_ERROR +
                   (y->serves ? BUSY_SERVER : 0);

  if (busy_x != busy_y)
    return busy_x > busy_y ? -1 : 1;
  return compare_lanes_by_start (a, b);
}

/* The busiest lanes get columns, in the order they started. */
static guint
choose_columns (Trace *trace)
{
  g_autoptr(GPtrArray) busiest = g_ptr_array_copy (trace->lanes, NULL, NULL);
  guint shown = 0;

  g_ptr_array_set_free_func (busiest, NULL);   /* the copy does not own them */
  g_ptr_array_sort (busiest, compare_lanes_by_events);
  for (guint i = 0; i < busiest->len && shown < MP_TIMELINE_MAX_LANES; i++)
    {
      Lane *lane = busiest->pdata[i];

      if (lane->n_events == 0)
        break;
      lane->column = 0;
      shown++;
    }
  shown = 0;
  for (guint i = 0; i < trace->lanes->len; i++)
    {
      Lane *lane = trace->lanes->pdata[i];

      if (lane->column == 0)
        lane->column = (gint) shown++;
    }
  return shown;
}

/* A lock taken at once around one read or write of its own track, and
 * nobody else waiting for it meanwhile: drawn as one row. (Other
 * processes may act meanwhile: their rows come before or after it.) */
static gboolean
is_brief_hold (const GArray *events,
               guint         i)
{
  const Event *hold = &g_array_index (events, Event, i);
  const Event *inner = NULL;

  if (hold->ph != 'B' || !is_kind (hold, "lock.hold") || hold->other_end < 0 ||
      wait_was_contended_before (events, i))
    return FALSE;
  for (guint k = i + 1; k < (guint) hold->other_end; k++)
    {
      const Event *e = &g_array_index (events, Event, k);

      if (e->pid == hold->pid && e->tid == hold->tid)
        {
          if (inner != NULL || (e->ph != 'i' && e->ph != 'I'))
            return FALSE;
          inner = e;
        }
      else if (g_str_has_prefix (e->kind, "lock.") &&
               g_strcmp0 (object_of (e), object_of (hold)) == 0)
        return FALSE;
    }
  return inner != NULL;
}

static guint
inner_of_brief_hold (const GArray *events,
                     guint         i)
{
  const Event *hold = &g_array_index (events, Event, i);

  for (guint k = i + 1;; k++)
    {
      const Event *e = &g_array_index (events, Event, k);

      if (e->pid == hold->pid && e->tid == hold->tid)
        return k;
    }
}

/* "[total -> 0]": the brackets are the lock, taken and released. */
static char *
describe_brief_hold (const Event *inner,
                     gboolean    *notable)
{
  g_autofree char *text = describe_instant (inner, notable);

  if (text == NULL)
    return g_strdup ("[]");
  if (text[0] == '*')
    return g_strdup_printf ("*[%s]", text + 1);
  return g_strdup_printf ("[%s]", text);
}

static GArray *
build_rows (Trace *trace,
            guint  n_columns)
{
  GArray *rows = g_array_new (FALSE, TRUE, sizeof (Row));
  LaneState states[MP_TIMELINE_MAX_LANES] = { { 0 } };
  /* events already drawn in a brief hold's row */
  g_autofree gboolean *skip = g_new0 (gboolean, trace->events->len + 1);

  g_array_set_clear_func (rows, row_clear);
  for (guint i = 0; i < trace->events->len; i++)
    {
      const Event *event = &g_array_index (trace->events, Event, i);
      Lane *lane = g_hash_table_lookup (trace->by_pid, &event->pid);
      gboolean notable = FALSE, brief = FALSE;
      char *text = NULL;
      Row row = { 0 };

      if (lane == NULL || lane->column < 0 || event->ph == 'M')
        continue;
      if (skip[i])
        continue;
      if (is_brief_hold (trace->events, i))
        {
          guint inner = inner_of_brief_hold (trace->events, i);

          /* at the time the lock was taken; the lane holds nothing after */
          text = describe_brief_hold (&g_array_index (trace->events, Event, inner),
                                      &notable);
          skip[inner] = TRUE;
          skip[event->other_end] = TRUE;
          brief = TRUE;
        }
      else if (event->ph == 'B')
        text = describe_slice_begin (trace->events, i, &notable);
      else if (event->ph == 'E' && is_kind (event, "lock.hold"))
        text = g_strdup_printf ("unlock %s", object_of (event));
      else if (event->ph == 'E' && is_kind (event, "process.task") && task_failed (event))
        {
          text = g_strdup ("!! task failed");
          notable = TRUE;
        }
      else if (is_kind (event, "error") && error_said_already (trace->events, i))
        text = NULL;
      else if (event->ph == 'i' || event->ph == 'I')
        text = describe_instant (event, &notable);
      if (!brief)
        state_update (&states[lane->column], event);
      if (text == NULL)
        continue;
      row.ts = event->ts;
      row.column = lane->column;
      row.text = text;
      row.notable = notable;
      for (guint c = 0; c < n_columns; c++)
        state_fill (&states[c], row.fills[c]);
      g_array_append_val (rows, row);
    }
  return rows;
}

/* Folds each run of more than FOLD_RUN routine rows into its ends and one
 * row that counts the rest. */
static GArray *
fold_rows (GArray *rows)
{
  GArray *folded = g_array_new (FALSE, TRUE, sizeof (Row));
  guint i = 0;

  g_array_set_clear_func (folded, row_clear);
  while (i < rows->len)
    {
      guint run = 0;

      while (i + run < rows->len && !g_array_index (rows, Row, i + run).notable)
        run++;
      for (guint k = 0; k < run; k++)
        {
          Row *row = &g_array_index (rows, Row, i + k);

          if (run > FOLD_RUN && k == FOLD_HEAD)
            {
              Row gap = *row;

              gap.text = NULL;
              gap.folded = run - FOLD_HEAD - FOLD_TAIL;
              g_array_append_val (folded, gap);
            }
          if (run > FOLD_RUN && k >= FOLD_HEAD && k < run - FOLD_TAIL)
            continue;
          g_array_append_val (folded, *row);
          row->text = NULL;    /* moved */
        }
      i += run;
      if (i < rows->len)
        {
          Row *row = &g_array_index (rows, Row, i);

          g_array_append_val (folded, *row);
          row->text = NULL;
          i++;
        }
    }
  return folded;
}

/* @text cut or padded to exactly @width columns. */
static void
append_cell (GString    *out,
             const char *text,
             guint       width)
{
  glong length = g_utf8_strlen (text, -1);

  if ((guint) length <= width)
    {
      g_string_append (out, text);
      for (guint k = (guint) length; k < width; k++)
        g_string_append_c (out, ' ');
      return;
    }
  g_string_append_len (out, text, g_utf8_offset_to_pointer (text, width - 1) - text);
  g_string_append_c (out, '~');
}

static void
end_line (GString *out)
{
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
}

static char *
format_ms (double us)
{
  double ms = us / 1000.0;

  if (ms < 100.0)
    return g_strdup_printf ("%*.3f", TIME_WIDTH, ms);
  if (ms < 10000.0)
    return g_strdup_printf ("%*.1f", TIME_WIDTH, ms);
  return g_strdup_printf ("%*.1fs", TIME_WIDTH - 1, ms / 1000.0);
}

static void
append_header (GString *out,
               Trace   *trace,
               guint    n_columns,
               guint    width)
{
  g_string_append_printf (out, "%*s ", TIME_WIDTH, "ms");
  for (guint c = 0; c < n_columns; c++)
    for (guint i = 0; i < trace->lanes->len; i++)
      {
        Lane *lane = trace->lanes->pdata[i];

        if (lane->column == (gint) c)
          {
            g_string_append_c (out, '|');
            append_cell (out, lane->role, width);
          }
      }
  end_line (out);
  for (guint k = 0; k < TIME_WIDTH + 1; k++)
    g_string_append_c (out, '-');
  for (guint c = 0; c < n_columns; c++)
    {
      g_string_append_c (out, '+');
      for (guint k = 0; k < width; k++)
        g_string_append_c (out, '-');
    }
  end_line (out);
}

static void
append_row (GString   *out,
            const Row *row,
            double     t0,
            guint      n_columns,
            guint      width)
{
  g_autofree char *time = NULL;

  if (row->folded > 0)
    {
      g_string_append_printf (out, "%*s  ... %u routine lines ...\n",
                              TIME_WIDTH, "", row->folded);
      return;
    }
  time = format_ms (row->ts - t0);
  g_string_append_printf (out, "%s ", time);
  for (guint c = 0; c < n_columns; c++)
    {
      g_string_append_c (out, '|');
      if ((gint) c == row->column)
        append_cell (out, row->text, width);
      else
        {
          char fill[4] = { ' ', row->fills[c][0], row->fills[c][1], '\0' };
          append_cell (out, fill, width);
        }
    }
  end_line (out);
}

/* Words wrapped to MP_TIMELINE_WIDTH, the lines after the first indented. */
static void
append_wrapped (GString    *out,
                const char *text,
                guint       indent)
{
  gsize margin = strspn (text, " ");
  g_auto(GStrv) words = g_strsplit (text + margin, " ", -1);
  gsize column = margin;

  g_string_append_len (out, text, (gssize) margin);
  for (guint i = 0; words[i] != NULL; i++)
    {
      gsize length = g_utf8_strlen (words[i], -1);

      if (column > margin && column + 1 + length > MP_TIMELINE_WIDTH)
        {
          g_string_append_c (out, '\n');
          for (guint k = 0; k < indent; k++)
            g_string_append_c (out, ' ');
          column = indent;
        }
      else if (column > margin)
        {
          g_string_append_c (out, ' ');
          column++;
        }
      g_string_append (out, words[i]);
      column += length;
    }
  g_string_append_c (out, '\n');
}

static void
append_hidden_lanes (GString *out,
                     Trace   *trace)
{
  g_autoptr(GString) names = g_string_new (NULL);
  guint hidden = 0;

  for (guint i = 0; i < trace->lanes->len; i++)
    {
      Lane *lane = trace->lanes->pdata[i];

      if (lane->column >= 0 || lane->n_events == 0)
        continue;
      g_string_append_printf (names, "%s%s (%u %s)", hidden > 0 ? ", " : "",
                              lane->role, lane->n_events,
                              lane->n_events == 1 ? "event" : "events");
      hidden++;
    }
  if (hidden > 0)
    {
      g_autofree char *line = g_strdup_printf (
        "%u more %s, not shown (the %d busiest, errors and servers first, are): %s", hidden,
        hidden == 1 ? "process" : "processes", MP_TIMELINE_MAX_LANES, names->str);
      append_wrapped (out, line, 2);
    }
}

static void
append_legend (GString *out,
               GArray  *rows)
{
  gboolean lost = FALSE;

  for (guint i = 0; i < rows->len && !lost; i++)
    lost = g_array_index (rows, Row, i).text != NULL &&
           g_array_index (rows, Row, i).text[0] == '*';
  g_string_append (out, "':' waits for a lock  '|' holds it  '[...]' under a lock "
                        "taken at once\n'~' in a proxy call  '!!' an error\n");
  if (lost)
    g_string_append (out, "'*' a write over another process's write that the "
                          "writer never read:\n    that update is lost, with "
                          "the read it was computed from\n");
}

/* Which rows to print when there are more than @max_rows: the first and
 * the last stay; of the others, routine rows go first, then the earliest
 * ones (a failure shows late), until @max_rows are left. */
static gboolean *
choose_rows (GArray *rows,
             guint   max_rows)
{
  gboolean *keep = g_new (gboolean, MAX (rows->len, 1));
  guint left = rows->len;

  for (guint i = 0; i < rows->len; i++)
    keep[i] = TRUE;
  for (int pass = 0; pass < 2 && max_rows > 0 && left > max_rows; pass++)
    for (guint i = 1; i + 1 < rows->len && left > max_rows; i++)
      {
        const Row *row = &g_array_index (rows, Row, i);

        if (keep[i] && (pass == 1 || !row->notable || row->folded > 0))
          {
            keep[i] = FALSE;
            left--;
          }
      }
  return keep;
}

/**
 * mp_timeline_render:
 * @trace: a Chrome trace document (mp_trace_stop(), mp_timeline_load())
 * @max_rows: the most rows to print, 0 for all; routine rows are left
 *   out first, and every run left out is counted
 * @error: return location for a #GError
 *
 * Draws the swimlane of @trace: one column per process headed by its
 * role, time going down (milliseconds since the first event), a row per
 * event that tells something, waits, holds and proxy calls drawn as
 * they last, lost updates marked, runs of routine rows folded with their
 * count. At most %MP_TIMELINE_MAX_LANES processes get a column: those
 * that met an error, then a server, then the busiest; the others are
 * named below. Every line fits
 * %MP_TIMELINE_WIDTH columns.
 *
 * Returns: (transfer full): the text, or %NULL with
 *   %MP_ERROR_INVALID_ARGUMENT when @trace has not the recorder's shape.
 *
 * Since: 0.1
 */
char *
mp_timeline_render (JsonNode  *trace,
                    guint      max_rows,
                    GError   **error)
{
  g_autoptr(Trace) read = NULL;
  g_autoptr(GArray) rows = NULL;
  g_autoptr(GArray) folded = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autofree gboolean *keep = NULL;
  guint n_columns, width;

  g_return_val_if_fail (trace != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((read = trace_read (trace, error)) == NULL)
    return NULL;
  n_columns = choose_columns (read);
  if (n_columns == 0)
    return g_strdup ("(no events were recorded)\n");
  width = MIN ((MP_TIMELINE_WIDTH - TIME_WIDTH - 1) / n_columns - 1, MAX_CELL);
  rows = build_rows (read, n_columns);
  folded = fold_rows (rows);
  append_header (out, read, n_columns, width);
  keep = choose_rows (folded, max_rows);
  for (guint i = 0; i < folded->len; i++)
    {
      guint dropped = 0;

      while (i + dropped < folded->len && !keep[i + dropped])
        dropped++;
      if (dropped > 0)
        {
          g_string_append_printf (out, "%*s  ... %u %s not shown ...\n",
                                  TIME_WIDTH, "", dropped, dropped == 1 ? "line" : "lines");
          i += dropped - 1;
          continue;
        }
      append_row (out, &g_array_index (folded, Row, i), read->t0, n_columns, width);
    }
  append_hidden_lanes (out, read);
  append_legend (out, folded);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- the summary -------------------------------------------------------- */

typedef struct {
  char   *what;      /* "total (Lock)", "append", "manager-closed" */
  guint   count;
  double  waited_us;
  char   *example;   /* an error's first message */
} Tally;

static void
tally_free (gpointer data)
{
  Tally *tally = data;

  g_free (tally->what);
  g_free (tally->example);
  g_free (tally);
}

static Tally *
tally_get (GPtrArray  *tallies,
           const char *what)
{
  Tally *tally;

  for (guint i = 0; i < tallies->len; i++)
    if (g_str_equal (((Tally *) tallies->pdata[i])->what, what))
      return tallies->pdata[i];
  tally = g_new0 (Tally, 1);
  tally->what = g_strdup (what);
  g_ptr_array_add (tallies, tally);
  return tally;
}

typedef struct {
  GPtrArray *waits;
  GPtrArray *calls;
  GPtrArray *errors;
  double     started;    /* process.start, or the first event */
  double     ended;      /* process.exit, or the last event */
  char      *how_ended;
} Life;

static void
life_clear (Life *life)
{
  g_ptr_array_unref (life->waits);
  g_ptr_array_unref (life->calls);
  g_ptr_array_unref (life->errors);
  g_free (life->how_ended);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Life, life_clear)

static void
life_init (Life       *life,
           const Lane *lane)
{
  life->waits = g_ptr_array_new_with_free_func (tally_free);
  life->calls = g_ptr_array_new_with_free_func (tally_free);
  life->errors = g_ptr_array_new_with_free_func (tally_free);
  life->started = lane->first_ts;
  life->ended = lane->last_ts;
  life->how_ended = NULL;
}

static void
life_add (Life         *life,
          const GArray *events,
          guint         i,
          const Lane   *lane)
{
  const Event *event = &g_array_index (events, Event, i);

  if (event->ph == 'B' && is_kind (event, "lock.wait"))
    {
      const char *type = member_string (event->args, "type");
      g_autofree char *what = g_strdup_printf ("%s (%s)", object_of (event),
                                               type != NULL ? type : "lock");
      Tally *tally = tally_get (life->waits, what);
      double end = event->other_end >= 0
                     ? g_array_index (events, Event, event->other_end).ts : lane->last_ts;

      tally->count++;
      tally->waited_us += end - event->ts;
    }
  else if (event->ph == 'B' && is_kind (event, "proxy.call"))
    {
      g_autofree char *method = describe_value (event->args, "method");

      tally_get (life->calls, method)->count++;
    }
  else if (is_kind (event, "error") || is_kind (event, "serialize.refused") ||
           is_kind (event, "process.bootstrap-error") || is_kind (event, "lock.owner-died") ||
           is_kind (event, "pool.worker-died"))
    {
      g_autofree char *code = is_kind (event, "error")
                                ? describe_value (event->args, "code")
                                : g_strdup (event->kind);
      Tally *tally = tally_get (life->errors, code);
      const char *message = member_string (event->args, "message");

      if (tally->count++ == 0 && message != NULL)
        tally->example = g_strdup (message);
    }
  else if (is_kind (event, "process.start"))
    life->started = event->ts;
  else if (is_kind (event, "process.exit"))
    {
      life->ended = event->ts;
      g_free (life->how_ended);
      life->how_ended = describe_exit (event);
    }
}

static void
append_tallies (GString    *out,
                const char *label,
                GPtrArray  *tallies,
                gboolean    timed)
{
  for (guint i = 0; i < tallies->len; i++)
    {
      Tally *tally = tallies->pdata[i];
      g_autofree char *line = NULL;

      if (timed)
        line = g_strdup_printf ("  %-9s %s: %u %s, %.3f ms", i == 0 ? label : "",
                                tally->what, tally->count,
                                tally->count == 1 ? "wait" : "waits",
                                tally->waited_us / 1000.0);
      else if (tally->example != NULL)
        line = g_strdup_printf ("  %-9s %s x%u: %s", i == 0 ? label : "",
                                tally->what, tally->count, tally->example);
      else
        line = g_strdup_printf ("  %-9s %s x%u", i == 0 ? label : "",
                                tally->what, tally->count);
      append_wrapped (out, line, 12);
    }
  if (tallies->len == 0)
    g_string_append_printf (out, "  %-9s none\n", label);
}

/**
 * mp_timeline_summary:
 * @trace: a Chrome trace document (mp_trace_stop(), mp_timeline_load())
 * @error: return location for a #GError
 *
 * Sums @trace up per process, in the order they started: its lifetime
 * (from its start to its exit, or its first to its last event) and how
 * it ended, the time it waited on each lock, its calls per proxy method
 * and its errors. Every line fits %MP_TIMELINE_WIDTH columns.
 *
 * Returns: (transfer full): the text, or %NULL with
 *   %MP_ERROR_INVALID_ARGUMENT when @trace has not the recorder's shape.
 *
 * Since: 0.1
 */
char *
mp_timeline_summary (JsonNode  *trace,
                     GError   **error)
{
  g_autoptr(Trace) read = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  g_return_val_if_fail (trace != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if ((read = trace_read (trace, error)) == NULL)
    return NULL;
  for (guint l = 0; l < read->lanes->len; l++)
    {
      const Lane *lane = read->lanes->pdata[l];
      g_autofree char *title = NULL;
      g_auto(Life) life = { 0 };

      if (lane->n_events == 0)
        continue;
      life_init (&life, lane);
      for (guint i = 0; i < read->events->len; i++)
        if (g_array_index (read->events, Event, i).pid == lane->pid)
          life_add (&life, read->events, i, lane);
      if (out->len > 0)
        g_string_append_c (out, '\n');
      title = g_strdup_printf ("%s (pid %" G_GINT64_FORMAT ")", lane->role, lane->pid);
      append_wrapped (out, title, 2);
      g_string_append_printf (out, "  %-9s %.3f ms, %s\n", "lifetime",
                              (life.ended - life.started) / 1000.0,
                              life.how_ended != NULL ? life.how_ended
                                                     : "no exit recorded");
      append_tallies (out, "waits", life.waits, TRUE);
      append_tallies (out, "calls", life.calls, FALSE);
      append_tallies (out, "errors", life.errors, FALSE);
    }
  if (out->len == 0)
    g_string_append (out, "(no events were recorded)\n");
  return g_string_free (g_steal_pointer (&out), FALSE);
}
