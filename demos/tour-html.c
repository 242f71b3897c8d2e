/* tour-html.c — `mpshare tour --html DIR`: the page a class looks at.
 *
 * One self-contained file (inline CSS and SVG, no script, no network):
 * per demo the verdicts and real exit statuses of both halves, the error
 * the broken half really raised (from its trace), the checks the fixed
 * half printed, both halves' recorded timelines drawn as SVG swimlanes,
 * and the demo's doc page rendered by cmark. Every figure comes from the
 * run: the outputs and traces the tour saved in DIR.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tour-html.h"

#include <cmark.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

/* ---- a trace as lanes, slices and marks -------------------------------- */

typedef struct {
  gint64      pid;
  const char *name;
  double      first;
  guint       depth;       /* rows of nested slices it needs */
  guint       index;       /* its row of lanes, top down */
} Lane;

typedef struct {
  Lane       *lane;
  double      start;
  double      end;
  guint       depth;
  const char *kind;
  JsonObject *args;       /* of the begin event */
  gboolean    matched;    /* a proxy.handle already joined to a call */
} Slice;

typedef struct {
  Lane       *lane;
  double      ts;
  const char *kind;
  JsonObject *args;
} Mark;

typedef struct {
  GHashTable *lanes;      /* pid → Lane */
  GPtrArray  *order;      /* Lane, top down */
  GArray     *slices;     /* Slice */
  GArray     *marks;      /* Mark */
  double      t0;
  double      t1;
} Chart;

typedef struct {
  double      start;
  guint       depth;
  JsonObject *args;
  const char *kind;
} Open;

static Lane *
chart_lane (Chart  *chart,
            gint64  pid,
            double  ts)
{
  Lane *lane = g_hash_table_lookup (chart->lanes, &pid);

  if (lane == NULL)
    {
      lane = g_new0 (Lane, 1);
      lane->pid = pid;
      lane->first = ts;
      g_hash_table_insert (chart->lanes, &lane->pid, lane);
    }
  lane->first = MIN (lane->first, ts);
  return lane;
}

static const char *
kind_of (JsonObject *event)
{
  JsonObject *args = json_object_get_object_member (event, "args");
  const char *kind = NULL;

  if (args != NULL)
    kind = json_object_get_string_member_with_default (args, "kind", NULL);
  return kind != NULL ? kind : json_object_get_string_member_with_default (event, "name", "");
}

static void
chart_add_slice (Chart  *chart,
                 Lane   *lane,
                 Open   *open,
                 double  end)
{
  Slice slice = { lane, open->start, MAX (end, open->start), open->depth,
                  open->kind, open->args, FALSE };

  lane->depth = MAX (lane->depth, open->depth + 1);
  g_array_append_val (chart->slices, slice);
}

/* The parent on top, the others in the order they appeared. */
static gint
lane_by_first (gconstpointer a,
               gconstpointer b)
{
  const Lane *x = *(Lane * const *) a, *y = *(Lane * const *) b;
  gboolean px = g_strcmp0 (x->name, "parent") == 0, py = g_strcmp0 (y->name, "parent") == 0;

  if (px != py)
    return px ? -1 : 1;
  return (x->first > y->first) - (x->first < y->first);
}

/* Slices are B/E pairs per (pid, tid), or X events; the gatherer closed
 * what a process left open, so an unmatched begin is closed at the end. */
static void
chart_fill (Chart     *chart,
            JsonArray *events)
{
  g_autoptr(GHashTable) stacks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) g_array_unref);
  GHashTableIter iter;
  gpointer key, value;
  gboolean any = FALSE;

  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *ph;
      gint64 pid;
      double ts;
      Lane *lane;

      if (event == NULL)
        continue;
      ph = json_object_get_string_member_with_default (event, "ph", "");
      pid = json_object_get_int_member_with_default (event, "pid", 0);
      ts = json_object_get_double_member_with_default (event, "ts", 0);
      if (g_str_equal (ph, "M"))
        {
          JsonObject *args = json_object_get_object_member (event, "args");

          if (args != NULL && g_strcmp0 (json_object_get_string_member_with_default (event, "name", ""),
                                         "process_name") == 0)
            chart_lane (chart, pid, G_MAXDOUBLE)->name =
              json_object_get_string_member_with_default (args, "name", NULL);
          continue;
        }
      lane = chart_lane (chart, pid, ts);
      chart->t0 = any ? MIN (chart->t0, ts) : ts;
      chart->t1 = any ? MAX (chart->t1, ts) : ts;
      any = TRUE;
      if (g_str_equal (ph, "B") || g_str_equal (ph, "E"))
        {
          g_autofree char *track = g_strdup_printf ("%" G_GINT64_FORMAT "/%" G_GINT64_FORMAT, pid,
                                                    json_object_get_int_member_with_default (event, "tid", 0));
          GArray *stack = g_hash_table_lookup (stacks, track);

          if (stack == NULL)
            {
              stack = g_array_new (FALSE, FALSE, sizeof (Open));
              g_hash_table_insert (stacks, g_steal_pointer (&track), stack);
            }
          if (g_str_equal (ph, "B"))
            {
              Open open = { ts, stack->len, json_object_get_object_member (event, "args"),
                            kind_of (event) };

              g_array_append_val (stack, open);
            }
          else if (stack->len > 0)
            {
              chart_add_slice (chart, lane, &g_array_index (stack, Open, stack->len - 1), ts);
              g_array_set_size (stack, stack->len - 1);
            }
        }
      else if (g_str_equal (ph, "X"))
        {
          Open open = { ts, 0, json_object_get_object_member (event, "args"), kind_of (event) };
          double end = ts + json_object_get_double_member_with_default (event, "dur", 0);

          chart_add_slice (chart, lane, &open, end);
          chart->t1 = MAX (chart->t1, end);
        }
      else if (g_str_equal (ph, "i") || g_str_equal (ph, "I"))
        {
          Mark mark = { lane, ts, kind_of (event), json_object_get_object_member (event, "args") };

          g_array_append_val (chart->marks, mark);
        }
    }

  g_hash_table_iter_init (&iter, stacks);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GArray *stack = value;
      gint64 pid = g_ascii_strtoll (key, NULL, 10);

      for (guint i = 0; i < stack->len; i++)
        chart_add_slice (chart, chart_lane (chart, pid, chart->t1),
                         &g_array_index (stack, Open, i), chart->t1);
    }

  g_hash_table_iter_init (&iter, chart->lanes);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (chart->order, value);
  g_ptr_array_sort (chart->order, lane_by_first);
  for (guint i = 0; i < chart->order->len; i++)
    ((Lane *) chart->order->pdata[i])->index = i;
}

static void
chart_clear (Chart *chart)
{
  g_hash_table_unref (chart->lanes);
  g_ptr_array_unref (chart->order);
  g_array_unref (chart->slices);
  g_array_unref (chart->marks);
}

/* ---- the chart as SVG --------------------------------------------------- */

#define SVG_WIDTH   960
#define LABEL_WIDTH 130
#define ROW_HEIGHT  12
#define LANE_GAP    14
#define AXIS_HEIGHT 24

typedef struct {
  const char *kind;
  const char *colour;
  const char *label;
} Style;

static const Style slice_styles[] = {
  { "lock.wait", "#f0a030", "waiting for a lock" },
  { "lock.hold", "#3d6fd0", "holding a lock" },
  { "proxy.call", "#2e9e5b", "proxy call (client)" },
  { "proxy.handle", "#7cc79a", "handled in the server" },
  { "process.task", "#d8d8d8", "the task runs" },
};

static const char *
slice_colour (const char *kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (slice_styles); i++)
    if (g_str_equal (kind, slice_styles[i].kind))
      return slice_styles[i].colour;
  return "#b0b0b0";
}

typedef struct {
  GString *svg;
  Chart   *chart;
  double   scale;            /* pixels per microsecond */
  GArray  *lane_y;           /* double, top of each lane by index */
} Canvas;

static double
canvas_x (Canvas *canvas,
          double  ts)
{
  return LABEL_WIDTH + (ts - canvas->chart->t0) * canvas->scale;
}

static double
canvas_y (Canvas *canvas,
          Lane   *lane)
{
  return g_array_index (canvas->lane_y, double, lane->index);
}

static void
append_args_title (GString    *svg,
                   const char *kind,
                   JsonObject *args,
                   double      ms)
{
  g_string_append_printf (svg, "<title>%s", kind);
  if (args != NULL)
    {
      JsonObjectIter iter;
      const char *member;
      JsonNode *node;

      json_object_iter_init (&iter, args);
      while (json_object_iter_next (&iter, &member, &node))
        {
          g_autofree char *text = NULL;
          g_autofree char *escaped = NULL;

          if (g_str_equal (member, "kind") || !JSON_NODE_HOLDS_VALUE (node))
            continue;
          if (json_node_get_value_type (node) == G_TYPE_STRING)
            text = g_strdup (json_node_get_string (node));
          else
            text = json_to_string (node, FALSE);
          escaped = g_markup_escape_text (text, -1);
          g_string_append_printf (svg, "\n%s: %s", member, escaped);
        }
    }
  if (ms >= 0)
    g_string_append_printf (svg, "\n%.3f ms", ms);
  g_string_append (svg, "</title>");
}

static void
draw_lanes (Canvas *canvas)
{
  Chart *chart = canvas->chart;

  for (guint i = 0; i < chart->order->len; i++)
    {
      Lane *lane = chart->order->pdata[i];
      double y = canvas_y (canvas, lane);
      double h = MAX (lane->depth, 1) * ROW_HEIGHT;
      g_autofree char *label = g_markup_printf_escaped ("%s", lane->name != NULL ? lane->name
                                                              : "process");

      g_string_append_printf (canvas->svg,
        "<rect class='lane' x='%d' y='%.1f' width='%d' height='%.1f'/>"
        "<text class='lane-name' x='4' y='%.1f'>%s</text>"
        "<text class='pid' x='4' y='%.1f'>pid %" G_GINT64_FORMAT "</text>\n",
        LABEL_WIDTH, y, SVG_WIDTH - LABEL_WIDTH, h, y + 10, label, y + 21, lane->pid);
    }
}

static gint
slice_order (gconstpointer a,
             gconstpointer b)
{
  const Slice *x = a, *y = b;
  int c;

  if (x->lane->index != y->lane->index)
    return x->lane->index < y->lane->index ? -1 : 1;
  if (x->depth != y->depth)
    return x->depth < y->depth ? -1 : 1;
  if ((c = strcmp (x->kind, y->kind)) != 0)
    return c;
  return (x->start > y->start) - (x->start < y->start);
}

/* Slices of a kind closer than a pixel on one row are drawn as one bar
 * that says how many it stands for: a loop of 10 000 lock holds is a
 * band, not 10 000 shapes. */
static void
draw_slices (Canvas *canvas)
{
  g_autoptr(GArray) sorted = g_array_copy (canvas->chart->slices);

  g_array_sort (sorted, slice_order);
  for (guint i = 0; i < sorted->len;)
    {
      Slice *s = &g_array_index (sorted, Slice, i);
      double end = s->end, busy = s->end - s->start;
      double x, w, y;
      guint n = 1;

      while (i + n < sorted->len)
        {
          Slice *next = &g_array_index (sorted, Slice, i + n);

          if (next->lane != s->lane || next->depth != s->depth ||
              !g_str_equal (next->kind, s->kind) ||
              (next->start - end) * canvas->scale >= 1.0)
            break;
          end = MAX (end, next->end);
          busy += next->end - next->start;
          n++;
        }
      x = canvas_x (canvas, s->start);
      w = MAX ((end - s->start) * canvas->scale, 1.5);
      y = canvas_y (canvas, s->lane) + s->depth * ROW_HEIGHT + 1;
      g_string_append_printf (canvas->svg,
        "<rect class='slice' data-kind='%s' x='%.1f' y='%.1f' width='%.1f' height='%d' "
        "fill='%s'>", s->kind, x, y, w, ROW_HEIGHT - 2, slice_colour (s->kind));
      if (n == 1)
        append_args_title (canvas->svg, s->kind, s->args, busy / 1000.0);
      else
        g_string_append_printf (canvas->svg, "<title>%u × %s, %.3f ms in all</title>",
                                n, s->kind, busy / 1000.0);
      g_string_append (canvas->svg, "</rect>\n");
      i += n;
    }
}

static const char *
arg_string (JsonObject *args,
            const char *name)
{
  return args != NULL ? json_object_get_string_member_with_default (args, name, NULL) : NULL;
}

/* A proxy call's arrows: to the server's handling of the same method of
 * the same object that began during the call, and back. */
static void
draw_calls (Canvas     *canvas,
            const char *marker)
{
  Chart *chart = canvas->chart;

  for (guint i = 0; i < chart->slices->len; i++)
    {
      Slice *call = &g_array_index (chart->slices, Slice, i);

      if (!g_str_equal (call->kind, "proxy.call"))
        continue;
      for (guint j = 0; j < chart->slices->len; j++)
        {
          Slice *handle = &g_array_index (chart->slices, Slice, j);
          double yc, yh;

          if (handle->matched || !g_str_equal (handle->kind, "proxy.handle") ||
              handle->lane == call->lane ||
              handle->start < call->start || handle->start > call->end ||
              g_strcmp0 (arg_string (handle->args, "method"), arg_string (call->args, "method")) != 0 ||
              g_strcmp0 (arg_string (handle->args, "object"), arg_string (call->args, "object")) != 0)
            continue;
          handle->matched = TRUE;
          yc = canvas_y (canvas, call->lane) + call->depth * ROW_HEIGHT + ROW_HEIGHT / 2.0;
          yh = canvas_y (canvas, handle->lane) + handle->depth * ROW_HEIGHT + ROW_HEIGHT / 2.0;
          g_string_append_printf (canvas->svg,
            "<line class='call' x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' marker-end='url(#%s)'/>"
            "<line class='reply' x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' marker-end='url(#%s)'/>\n",
            canvas_x (canvas, call->start), yc, canvas_x (canvas, handle->start), yh, marker,
            canvas_x (canvas, handle->end), yh, canvas_x (canvas, call->end), yc, marker);
          break;
        }
    }
}

static void
draw_marks (Canvas *canvas)
{
  Chart *chart = canvas->chart;

  for (guint i = 0; i < chart->marks->len; i++)
    {
      Mark *m = &g_array_index (chart->marks, Mark, i);
      double x = canvas_x (canvas, m->ts);
      double y = canvas_y (canvas, m->lane);
      double bottom = y + MAX (m->lane->depth, 1) * ROW_HEIGHT;

      if (g_str_equal (m->kind, "error") || g_str_equal (m->kind, "serialize.refused") ||
          g_str_equal (m->kind, "process.bootstrap-error") || g_str_equal (m->kind, "pool.worker-died"))
        g_string_append_printf (canvas->svg,
          "<g class='error' data-kind='%s'><line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f'/>"
          "<circle cx='%.1f' cy='%.1f' r='5'/>", m->kind, x, y - 3, x, bottom + 3, x, y - 3);
      else if (g_str_has_prefix (m->kind, "value."))
        g_string_append_printf (canvas->svg,
          "<g class='value' data-kind='%s'><text x='%.1f' y='%.1f'>%s</text>",
          m->kind, x - 3, bottom + 10, g_str_equal (m->kind, "value.read") ? "r" : "w");
      else if (g_str_equal (m->kind, "lock.timeout") || g_str_equal (m->kind, "lock.owner-died"))
        g_string_append_printf (canvas->svg,
          "<g class='warn' data-kind='%s'><path d='M%.1f %.1fl5 5l-5 5l-5 -5z'/>",
          m->kind, x, y - 2);
      else
        g_string_append_printf (canvas->svg,
          "<g class='tick' data-kind='%s'><line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f'/>",
          m->kind, x, bottom - 4, x, bottom + 2);
      append_args_title (canvas->svg, m->kind, m->args, -1);
      g_string_append (canvas->svg, "</g>\n");
    }
}

static void
draw_axis (Canvas *canvas,
           double  y)
{
  double span_ms = (canvas->chart->t1 - canvas->chart->t0) / 1000.0;
  double step = pow (10, floor (log10 (MAX (span_ms, 0.001))));

  if (span_ms / step < 3)
    step /= 2;
  for (double t = 0; t <= span_ms + 1e-9; t += step)
    {
      double x = canvas_x (canvas, canvas->chart->t0 + t * 1000.0);

      g_string_append_printf (canvas->svg,
        "<line class='grid' x1='%.1f' y1='0' x2='%.1f' y2='%.1f'/>"
        "<text class='axis' x='%.1f' y='%.1f'>%g ms</text>\n", x, x, y, x - 8, y + 14, t);
    }
}

/**
 * tour_html_timeline_svg:
 * @trace: a Chrome trace document, as mp_timeline_load() gives it
 * @title: (nullable): what the chart shows, for its accessible name
 *
 * Draws the recorded trace as swimlanes: a lane per process (named by its
 * role), time to the right, lock waits and holds and proxy calls as bars,
 * a proxy call's request and reply as arrows to and from the server's
 * lane, errors as red marks, reads and writes of watched values as r/w.
 * Each shape's tooltip holds the event's own fields.
 *
 * Returns: (transfer full): an `<svg>` element
 */
char *
tour_html_timeline_svg (JsonNode   *trace,
                        const char *title)
{
  static guint serial;
  Chart chart = {
    g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free),
    g_ptr_array_new (), g_array_new (FALSE, FALSE, sizeof (Slice)),
    g_array_new (FALSE, FALSE, sizeof (Mark)), 0, 0 };
  Canvas canvas = { g_string_new (NULL), &chart, 0,
                    g_array_new (FALSE, FALSE, sizeof (double)) };
  JsonObject *root = JSON_NODE_HOLDS_OBJECT (trace) ? json_node_get_object (trace) : NULL;
  JsonArray *events = root != NULL ? json_object_get_array_member (root, "traceEvents") : NULL;
  g_autofree char *marker = g_strdup_printf ("arrow%u", ++serial);
  g_autofree char *name = g_markup_escape_text (title != NULL ? title : "timeline", -1);
  double y = 4;

  if (events != NULL)
    chart_fill (&chart, events);
  canvas.scale = (SVG_WIDTH - LABEL_WIDTH - 10) / MAX (chart.t1 - chart.t0, 1.0);
  for (guint i = 0; i < chart.order->len; i++)
    {
      Lane *lane = chart.order->pdata[i];

      g_array_append_val (canvas.lane_y, y);
      y += MAX (lane->depth, 1) * ROW_HEIGHT + LANE_GAP;
    }

  g_string_append_printf (canvas.svg,
    "<svg class='timeline' xmlns='http://www.w3.org/2000/svg' role='img' aria-label='%s' "
    "width='%d' height='%.0f' viewBox='0 0 %d %.0f'>"
    "<defs><marker id='%s' viewBox='0 0 10 10' refX='9' refY='5' markerWidth='6' "
    "markerHeight='6' orient='auto'><path d='M0 0L10 5L0 10z'/></marker></defs>\n",
    name, SVG_WIDTH, y + AXIS_HEIGHT, SVG_WIDTH, y + AXIS_HEIGHT, marker);
  if (chart.order->len == 0)
    g_string_append (canvas.svg, "<text x='10' y='20'>no events were recorded</text>\n");
  else
    {
      draw_axis (&canvas, y);
      draw_lanes (&canvas);
      draw_slices (&canvas);
      draw_calls (&canvas, marker);
      draw_marks (&canvas);
    }
  g_string_append (canvas.svg, "</svg>");

  g_array_unref (canvas.lane_y);
  chart_clear (&chart);
  return g_string_free (canvas.svg, FALSE);
}

/* ---- the page ----------------------------------------------------------- */

void
tour_half_clear (TourHalf *half)
{
  g_clear_pointer (&half->output_file, g_free);
  g_clear_pointer (&half->trace_file, g_free);
}

static const char page_style[] =
  "body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:64em;"
  "padding:1em 2em;color:#1d1d1d}"
  "h1{margin-bottom:.2em}section.demo{border-top:3px solid #ccc;margin-top:2.5em}"
  "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;"
  "text-align:left}th{background:#f2f2f2}"
  ".yes{color:#176d17;font-weight:bold}.no{color:#b3261e;font-weight:bold}"
  ".error-box{border-left:4px solid #b3261e;background:#fdf1f0;padding:.4em .8em}"
  ".checks{border-left:4px solid #176d17;background:#f0f8f0;padding:.4em .8em}"
  "pre{background:#f6f6f6;padding:.6em;overflow-x:auto;font-size:85%}"
  "svg.timeline{display:block;max-width:100%;height:auto;margin:.5em 0}"
  "svg .lane{fill:#fafafa;stroke:#e2e2e2}svg .lane-name{font:bold 11px sans-serif}"
  "svg .pid{font:10px sans-serif;fill:#777}svg .grid{stroke:#eee}"
  "svg .axis{font:10px sans-serif;fill:#666}svg .call,svg .reply{stroke:#2e9e5b;"
  "stroke-width:1.2}svg .reply{stroke-dasharray:3 2}"
  "svg .error line{stroke:#d0021b;stroke-width:2}svg .error circle{fill:#d0021b}"
  "svg .value text{font:bold 10px monospace;fill:#6a3d9a}svg .warn path{fill:#e67e00}"
  "svg .tick line{stroke:#555;stroke-width:1.5}"
  ".legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;"
  "width:1.6em;height:.8em;margin-right:.3em;vertical-align:middle}"
  ".doc{border:1px solid #ddd;padding:0 1.5em;margin-top:1em}";

static char *
read_text (const char *dir,
           const char *name)
{
  g_autofree char *path = NULL;
  char *text = NULL;

  if (name == NULL)
    return NULL;
  path = g_build_filename (dir, name, NULL);
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

static char *
describe_status (const TourHalf *half)
{
  if (!half->ran)
    return g_strdup ("not run");
  if (half->timed_out)
    return g_strdup ("timed out, stopped");
  if (WIFEXITED (half->wait_status))
    return g_strdup_printf ("exit %d", WEXITSTATUS (half->wait_status));
  if (WIFSIGNALED (half->wait_status))
    return g_strdup_printf ("killed by signal %d", WTERMSIG (half->wait_status));
  return g_strdup ("ended");
}

/* The first error the half recorded, preferring one of its own pitfall. */
static JsonObject *
recorded_error (JsonNode   *trace,
                const char *id)
{
  JsonObject *root = trace != NULL && JSON_NODE_HOLDS_OBJECT (trace) ? json_node_get_object (trace) : NULL;
  JsonArray *events = root != NULL ? json_object_get_array_member (root, "traceEvents") : NULL;
  JsonObject *first = NULL;

  for (guint i = 0; events != NULL && i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      JsonObject *args = event != NULL ? json_object_get_object_member (event, "args") : NULL;

      if (args == NULL || g_strcmp0 (arg_string (args, "kind"), "error") != 0)
        continue;
      if (g_strcmp0 (arg_string (args, "pitfall"), id) == 0)
        return args;
      if (first == NULL)
        first = args;
    }
  return first;
}

static void
append_escaped (GString    *page,
                const char *format,
                const char *text)
{
  g_autofree char *escaped = g_markup_escape_text (text != NULL ? text : "", -1);

  g_string_append_printf (page, format, escaped);
}

/* The lines of the fixed half that state what it checked ("=> ..."). */
static void
append_checks (GString    *page,
               const char *output)
{
  g_auto(GStrv) lines = g_strsplit (output != NULL ? output : "", "\n", -1);
  gboolean any = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);

      if (!g_str_has_prefix (line, "=> ") && !g_str_has_prefix (line, "fixed:"))
        continue;
      if (!any)
        g_string_append (page, "<div class='checks'><b>The fix, checked:</b><ul>");
      any = TRUE;
      append_escaped (page, "<li>%s</li>", line);
    }
  if (any)
    g_string_append (page, "</ul></div>\n");
}

static void
append_half (GString        *page,
             const char     *dir,
             const TourDemo *demo,
             const TourHalf *half,
             const char     *name)
{
  g_autofree char *status = describe_status (half);
  g_autofree char *output = read_text (dir, half->output_file);
  g_autofree char *trace_path = half->trace_file != NULL
                                ? g_build_filename (dir, half->trace_file, NULL) : NULL;
  g_autoptr(JsonNode) trace = NULL;
  g_autoptr(GError) error = NULL;
  gboolean broken = g_str_equal (name, "broken");

  g_string_append_printf (page, "<h3>The %s half: <span class='%s'>%s</span> "
                          "<small>(%s)</small></h3>\n", name,
                          half->passed ? "yes" : "no",
                          half->passed ? (broken ? "reproduced" : "fixed")
                                       : (broken ? "NOT reproduced" : "NOT fixed"),
                          status);
  if (trace_path != NULL)
    trace = mp_timeline_load (trace_path, &error);
  if (broken && trace != NULL)
    {
      JsonObject *raised = recorded_error (trace, demo->entry->id);

      if (raised != NULL)
        {
          g_string_append (page, "<div class='error-box'>");
          if (demo->entry->python != NULL)
            append_escaped (page, "<div>Python: <code>%s</code></div>", demo->entry->python);
          append_escaped (page, "<div>mpshare: <code>%s</code>", arg_string (raised, "code"));
          append_escaped (page, " (pitfall <code>%s</code>)</div>", arg_string (raised, "pitfall"));
          append_escaped (page, "<div>%s</div></div>\n", arg_string (raised, "message"));
        }
      else if (demo->entry->python == NULL)
        g_string_append (page, "<p>No error is raised: the failure is a wrong "
                         "result, shown in the output below.</p>\n");
    }
  if (!broken)
    append_checks (page, output);

  if (trace != NULL)
    {
      g_autofree char *what = g_strdup_printf ("%s, the %s half", demo->entry->id, name);
      g_autofree char *svg = tour_html_timeline_svg (trace, what);

      g_string_append (page, svg);
      append_escaped (page, "<p><a href='%s'>The trace as JSON</a> (open it in "
                      "<a href='https://ui.perfetto.dev'>ui.perfetto.dev</a>).</p>\n",
                      half->trace_file);
    }
  else if (half->ran)
    append_escaped (page, "<p>No timeline: %s</p>\n",
                    error != NULL ? error->message : "no trace was written");
  if (output != NULL)
    append_escaped (page, "<details><summary>What the demo printed</summary>"
                    "<pre>%s</pre></details>\n", output);
}

static void
append_doc (GString    *page,
            const char *docs_dir,
            const char *id)
{
  static const char *const kinds[] = { "pitfalls", "samples" };

  for (guint i = 0; docs_dir != NULL && i < G_N_ELEMENTS (kinds); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/%s/%s.md", docs_dir, kinds[i], id);
      g_autofree char *markdown = NULL;
      gsize length;
      char *html;

      if (!g_file_get_contents (path, &markdown, &length, NULL))
        continue;
      /* CMARK_OPT_DEFAULT leaves raw HTML out ("<!-- raw HTML omitted -->"):
       * a doc page cannot bring a script into the class's page */
      html = cmark_markdown_to_html (markdown, length, CMARK_OPT_DEFAULT);
      g_string_append (page, "<details class='doc'><summary>The doc page</summary>\n");
      g_string_append (page, html);
      g_string_append (page, "</details>\n");
      free (html);
      return;
    }
}

static void
append_legend (GString *page)
{
  g_string_append (page, "<p class='legend'>");
  for (guint i = 0; i < G_N_ELEMENTS (slice_styles); i++)
    g_string_append_printf (page, "<span><i style='background:%s'></i>%s</span>",
                            slice_styles[i].colour, slice_styles[i].label);
  g_string_append (page, "<span><i style='background:#d0021b'></i>an error</span>"
                   "<span><b>r</b>/<b>w</b> a watched value read/written</span>"
                   "<span>arrows: a proxy call's request and reply</span></p>\n");
}

/**
 * tour_html_write:
 * @dir: the directory the tour saved outputs and traces in
 * @demos: what each demo's halves did
 * @n_demos: how many
 * @start_method: (nullable): the start method passed to the demos
 * @docs_dir: (nullable): where the doc pages are (docs/)
 * @coverage_page: (nullable): the per-demo coverage page, to link to
 * @error: return location for a #GError
 *
 * Writes @dir/index.html.
 *
 * Returns: %TRUE, or %FALSE with @error set when the page can't be written
 */
gboolean
tour_html_write (const char     *dir,
                 const TourDemo *demos,
                 guint           n_demos,
                 const char     *start_method,
                 const char     *docs_dir,
                 const char     *coverage_page,
                 GError        **error)
{
  g_autoptr(GString) page = g_string_new (NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%d %H:%M");
  g_autofree char *path = g_build_filename (dir, "index.html", NULL);
  guint passed = 0;

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (demos != NULL || n_demos == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_demos; i++)
    passed += demos[i].broken.passed && demos[i].fixed.passed;

  g_string_append_printf (page, "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
                          "<title>mpshare tour</title><style>%s</style></head><body>\n"
                          "<h1>mpshare tour</h1>\n<p>Run %s, start method %s. "
                          "%u of %u demos reproduced their pitfall and then fixed it.",
                          page_style, when, start_method != NULL ? start_method : "fork (default)",
                          passed, n_demos);
  if (coverage_page != NULL)
    append_escaped (page, " <a href='%s'>Which library code each demo reaches</a>.", coverage_page);
  g_string_append (page, "</p>\n<table><tr><th>id</th><th>kind</th><th>reproduced</th>"
                   "<th>fixed</th></tr>\n");
  for (guint i = 0; i < n_demos; i++)
    {
      const TourDemo *d = &demos[i];

      g_string_append_printf (page, "<tr><td><a href='#%s'>%s</a></td><td>%s</td>"
                              "<td class='%s'>%s</td><td class='%s'>%s</td></tr>\n",
                              d->entry->id, d->entry->id, mp_catalog_kind_to_string (d->entry->kind),
                              d->broken.passed ? "yes" : "no", d->broken.passed ? "yes" : "no",
                              d->fixed.passed ? "yes" : "no", d->fixed.passed ? "yes" : "no");
    }
  g_string_append (page, "</table>\n");
  append_legend (page);

  for (guint i = 0; i < n_demos; i++)
    {
      const TourDemo *d = &demos[i];

      g_string_append_printf (page, "<section class='demo' id='%s'><h2>%s</h2>\n",
                              d->entry->id, d->entry->id);
      append_escaped (page, "<p>%s</p>\n", d->entry->summary);
      append_half (page, dir, d, &d->broken, "broken");
      append_half (page, dir, d, &d->fixed, "fixed");
      append_doc (page, docs_dir, d->entry->id);
      g_string_append (page, "</section>\n");
    }
  g_string_append (page, "</body></html>\n");

  if (!g_file_set_contents (path, page->str, page->len, error))
    return FALSE;
  return TRUE;
}
