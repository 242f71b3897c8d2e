/* mp-check.c — find the catalog's pitfalls in Python source: the parser
 *
 * The source is parsed by Python itself: the user's own `python3` runs a
 * short script (below) that parses it with the `ast` module and prints the
 * tree as JSON. Python's own grammar, of the very version the student
 * runs, and nothing to install beyond the interpreter they already use.
 * The analysis is all C, in mp-check-rules.c.
 *
 * Bounded: the source is refused above MP_CHECK_MAX_SOURCE bytes or when
 * it holds a NUL byte (not text); the script refuses trees deeper than
 * MP_CHECK_MAX_DEPTH and reports Python's own RecursionError/MemoryError
 * as such; the interpreter runs under an address-space limit and a time
 * limit, and is always reaped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/resource.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "mpshare.h"
#include "mp-check-private.h"

#define PARSE_TIMEOUT_S  60
#define PARSE_MEMORY     (2048UL * 1024 * 1024)

/* Runs under python3 -I -S on the source given on standard input; its
 * first argument is the deepest nesting of the JSON tree. Errors come back
 * as one object with an "error" member, never as a traceback. Kept to
 * what Python 3.6 accepts, so an old interpreter says something useful. */
static const char parse_script[] =
  "import ast,json,sys\n"
  "D=int(sys.argv[1])\n"
  "def w(o):\n"
  " sys.stdout.write(json.dumps(o,separators=(',',':')))\n"
  "def bad(kind,msg,line=0,col=0):\n"
  " w({'error':kind,'message':msg,'line':line or 0,'column':col or 0})\n"
  " sys.exit(0)\n"
  "src=sys.stdin.buffer.read()\n"
  "try:\n"
  " t=ast.parse(src)\n"
  "except SyntaxError as e:\n"
  " bad('syntax',e.msg,e.lineno,e.offset)\n"
  "except (RecursionError,MemoryError):\n"
  " bad('depth','nested too deeply for the parser')\n"
  "except ValueError as e:\n"
  " bad('syntax',str(e))\n"
  "S={'ctx','type_comment','kind','type_ignores'}\n"
  "def c(n,d):\n"
  " if d>D:raise RecursionError\n"
  " if isinstance(n,ast.AST):\n"
  "  o={'_':type(n).__name__}\n"
  "  if hasattr(n,'lineno'):\n"
  "   o['@']=[n.lineno,n.col_offset,\n"
  "    getattr(n,'end_lineno',None) or n.lineno,\n"
  "    getattr(n,'end_col_offset',None) or n.col_offset]\n"
  "  for f in n._fields:\n"
  "   if f in S:continue\n"
  "   v=getattr(n,f,None)\n"
  "   if v is None or v==[]:continue\n"
  "   o[f]=c(v,d+1)\n"
  "  return o\n"
  " if isinstance(n,list):return [c(x,d+1) for x in n]\n"
  " if isinstance(n,bool) or n is None:return n\n"
  " if isinstance(n,str):return n[:200]\n"
  " if isinstance(n,int) and abs(n)<2**53:return n\n"
  " return None\n"
  "try:\n"
  " w(c(t,0))\n"
  "except (RecursionError,MemoryError):\n"
  " bad('depth','nested more than %d levels deep'%(D//2))\n";

/**
 * mp_check_find_python:
 *
 * The interpreter mp_check_source() should use: $MPSHARE_PYTHON when set
 * (a path or a name looked up in $PATH), else `python3` from $PATH.
 *
 * Returns: (transfer full) (nullable): its path, %NULL when there is none.
 */
char *
mp_check_find_python (void)
{
  const char *chosen = g_getenv ("MPSHARE_PYTHON");

  if (chosen == NULL || *chosen == '\0')
    chosen = "python3";
  return g_find_program_in_path (chosen);
}

static void
limit_child (gpointer user_data)
{
  struct rlimit limit = { PARSE_MEMORY, PARSE_MEMORY };

  /* a pathological file makes the parser fail, not the machine swap */
  setrlimit (RLIMIT_AS, &limit);
}

typedef struct {
  GMainLoop    *loop;
  GBytes       *out;
  GBytes       *err;
  GError       *error;
  gboolean      timed_out;
  GCancellable *cancel;
} Communication;

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Communication *c = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result,
                                   &c->out, &c->err, &c->error);
  g_main_loop_quit (c->loop);
}

static gboolean
on_parse_timeout (gpointer user_data)
{
  Communication *c = user_data;

  c->timed_out = TRUE;
  g_cancellable_cancel (c->cancel);
  return G_SOURCE_REMOVE;
}

/* Runs the parse script in @python with @source on its standard input;
 * returns what it printed, or %NULL with @error set. */
static GBytes *
run_parser (const char  *python,
            const char  *source,
            gsize        length,
            GError     **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GMainLoop) loop = g_main_loop_new (context, FALSE);
  g_autoptr(GCancellable) cancel = g_cancellable_new ();
  g_autoptr(GBytes) input = g_bytes_new_static (source, length);
  g_autoptr(GSource) timer = g_timeout_source_new_seconds (PARSE_TIMEOUT_S);
  g_autofree char *depth = g_strdup_printf ("%d", 2 * MP_CHECK_MAX_DEPTH);
  Communication c = { loop, NULL, NULL, NULL, FALSE, cancel };

  g_subprocess_launcher_set_child_setup (launcher, limit_child, NULL, NULL);
  child = g_subprocess_launcher_spawn (launcher, error, python, "-I", "-S",
                                       "-c", parse_script, depth, NULL);
  if (child == NULL)
    {
      g_prefix_error (error, "starting the Python parser %s: ", python);
      return NULL;
    }

  g_main_context_push_thread_default (context);
  g_source_set_callback (timer, on_parse_timeout, &c, NULL);
  g_source_attach (timer, context);
  g_subprocess_communicate_async (child, input, cancel, on_communicated, &c);
  g_main_loop_run (loop);
  g_source_destroy (timer);
  g_main_context_pop_thread_default (context);

  if (c.error != NULL)
    {
      g_subprocess_force_exit (child);
      g_subprocess_wait (child, NULL, NULL);
      g_clear_pointer (&c.out, g_bytes_unref);
      g_clear_pointer (&c.err, g_bytes_unref);
      if (c.timed_out)
        {
          g_clear_error (&c.error);
          mp_set_error (error, MP_ERROR_TIMEOUT,
                        "the Python parser %s took more than %d s; "
                        "check a smaller file", python, PARSE_TIMEOUT_S);
          return NULL;
        }
      g_propagate_prefixed_error (error, c.error, "running the Python parser %s: ",
                                  python);
      return NULL;
    }
  g_subprocess_wait (child, NULL, NULL);
  if (!g_subprocess_get_if_exited (child) ||
      g_subprocess_get_exit_status (child) != 0)
    {
      gsize n = 0;
      const char *text = c.err != NULL ? g_bytes_get_data (c.err, &n) : NULL;
      g_autofree char *said = g_strndup (text != NULL ? text : "", MIN (n, 300));

      g_bytes_unref (c.out);
      g_bytes_unref (c.err);
      mp_set_error (error, MP_ERROR_FAILED,
                    "the Python parser %s failed (is it Python 3.6 or "
                    "newer?): %s", python, g_strstrip (said));
      return NULL;
    }
  g_bytes_unref (c.err);
  return c.out;
}

/* The script's verdict on a file it could not turn into a tree. */
static void
set_parse_error (GError     **error,
                 const char  *file,
                 JsonObject  *verdict)
{
  const char *kind = json_object_get_string_member_with_default (verdict, "error", "");
  const char *message = json_object_get_string_member_with_default (verdict, "message", "");
  gint64 line = json_object_get_int_member_with_default (verdict, "line", 0);
  gint64 column = json_object_get_int_member_with_default (verdict, "column", 0);

  if (g_str_equal (kind, "syntax") && line > 0)
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "%s:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                  ": not valid Python: %s", file, line, MAX (column, 1), message);
  else if (g_str_equal (kind, "syntax"))
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "%s: not valid Python: %s", file, message);
  else
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "%s: %s; split the code into functions, or check another "
                  "file", file, message);
}

JsonNode *
mp_check_parse (const char  *python,
                const char  *file,
                const char  *source,
                gsize        length,
                GError     **error)
{
  g_autoptr(GBytes) out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) json_error = NULL;
  JsonNode *root;
  gsize n;
  const char *data;

  g_return_val_if_fail (python != NULL, NULL);
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (source != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length > MP_CHECK_MAX_SOURCE)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: %" G_GSIZE_FORMAT " bytes is too large to be a "
                    "program to check (the limit is %d MiB)", file, length,
                    MP_CHECK_MAX_SOURCE / (1024 * 1024));
      return NULL;
    }
  if (memchr (source, '\0', length) != NULL)
    {
      gsize at = (const char *) memchr (source, '\0', length) - source;
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: not Python source: a NUL byte at offset %" G_GSIZE_FORMAT
                    " (a binary file?)", file, at);
      return NULL;
    }

  out = run_parser (python, source, length, error);
  if (out == NULL)
    return NULL;
  data = g_bytes_get_data (out, &n);
  if (!json_parser_load_from_data (parser, data, n, &json_error))
    {
      mp_set_error (error, MP_ERROR_FAILED,
                    "%s: the Python parser %s printed no syntax tree: %s",
                    file, python, json_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      mp_set_error (error, MP_ERROR_FAILED,
                    "%s: the Python parser %s printed no syntax tree", file, python);
      return NULL;
    }
  if (json_object_has_member (json_node_get_object (root), "error"))
    {
      set_parse_error (error, file, json_node_get_object (root));
      return NULL;
    }
  return json_node_ref (root);
}

/**
 * mp_check_source:
 * @python: the Python interpreter that parses, see mp_check_find_python()
 * @file: the name findings and errors carry
 * @source: the Python source
 * @length: its length in bytes
 * @error: return location for a #GError
 *
 * Finds the catalog's pitfalls in @source without running it: Python's
 * `ast` module (in @python) parses, the analysis here follows names through
 * the file (imports and their aliases, assignments, `with` targets, the
 * parameters of the file's own functions, attributes set in `__init__`).
 * A line that says `# mpshare: ignore[ID]` gives no finding of ID.
 *
 * Returns: (transfer full) (element-type MpCheckFinding): the findings,
 *   in source order (empty when there is none), or %NULL with
 *   %MP_ERROR_INVALID_ARGUMENT for source that is not Python (naming
 *   @file and the line), too large or too deeply nested, and another code
 *   when @python could not be run.
 */
GPtrArray *
mp_check_source (const char  *python,
                 const char  *file,
                 const char  *source,
                 gsize        length,
                 GError     **error)
{
  g_autoptr(JsonNode) tree = NULL;

  g_return_val_if_fail (python != NULL, NULL);
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (source != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  tree = mp_check_parse (python, file, source != NULL ? source : "", length, error);
  if (tree == NULL)
    return NULL;
  {
    g_autofree char *text = g_strndup (source != NULL ? source : "", length);
    return mp_check_tree (file, text, tree);
  }
}

/**
 * mp_check_finding_to_json:
 * @finding: a finding
 *
 * One finding as a JSON object on one line: file, line, column, end
 * (`[line, column]`), id, message, fix, evidence.
 *
 * Returns: (transfer full): the JSON text.
 */
char *
mp_check_finding_to_json (const MpCheckFinding *finding)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (finding != NULL, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, finding->file);
  json_builder_set_member_name (builder, "line");
  json_builder_add_int_value (builder, finding->line);
  json_builder_set_member_name (builder, "column");
  json_builder_add_int_value (builder, finding->column);
  json_builder_set_member_name (builder, "end");
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, finding->end_line);
  json_builder_add_int_value (builder, finding->end_column);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_string_value (builder, finding->entry->id);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, finding->message);
  json_builder_set_member_name (builder, "fix");
  json_builder_add_string_value (builder, finding->fix);
  json_builder_set_member_name (builder, "evidence");
  json_builder_add_string_value (builder, finding->evidence);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

/**
 * mp_check_finding_free:
 * @finding: (nullable): a finding
 *
 * Frees @finding.
 */
void
mp_check_finding_free (MpCheckFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->file);
  g_free (finding->message);
  g_free (finding->evidence);
  g_free (finding);
}
