/* mp-check.c — find the catalog's pitfalls in Python source: the parser
 *
 * The source is parsed by Python itself: the user's own `python3` runs a
 * short script (below) that parses each file of a batch with the `ast`
 * module and prints its tree as one line of JSON. Python's own grammar,
 * of the very version the student runs, and nothing to install beyond the
 * interpreter they already use (docs/check.md says why not tree-sitter).
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

#define PARSE_TIMEOUT_S  60   /* plus one second per file of a batch */
#define PARSE_MEMORY     (2048UL * 1024 * 1024)

/* Runs under python3 -I -S; its argument is the deepest nesting of the
 * JSON tree. Older trees are given the shape of 3.9's: no Index around a
 * subscript, Constant for Num/Str/Bytes/NameConstant, and an end line
 * from the node's last child (3.7 and before). Standard input holds the sources, each as its length in
 * bytes on a line, then its bytes; for each it prints one line: the tree,
 * or an object with an "error" member (never a traceback). One process
 * for many files: a start of Python costs more than most parses. Kept to
 * what Python 3.6 accepts, so an old interpreter still says something
 * useful. */
static const char parse_script[] =
  "import ast,json,sys\n"
  "D=int(sys.argv[1])\n"
  "S={'ctx','type_comment','kind','type_ignores'}\n"
  "def bad(kind,msg,line=0,col=0):\n"
  " return {'error':kind,'message':msg,'line':line or 0,'column':col or 0}\n"
  "def e(x):\n"
  " if isinstance(x,list):return max([e(y) for y in x]+[0])\n"
  " if isinstance(x,dict) and '@' in x:return x['@'][2]\n"
  " return 0\n"
  "def c(n,d):\n"
  " if d>D:raise RecursionError\n"
  " if isinstance(n,ast.AST):\n"
  "  k=type(n).__name__\n"
  "  if k=='Index':return c(n.value,d)\n"
  "  o={'_':k}\n"
  "  if k in('Num','Str','Bytes','NameConstant'):\n"
  "   o['_']='Constant'\n"
  "   v=getattr(n,'n',getattr(n,'s',getattr(n,'value',None)))\n"
  "   n=ast.Constant(value=v,lineno=n.lineno,col_offset=n.col_offset)\n"
  "  if hasattr(n,'lineno'):\n"
  "   o['@']=[n.lineno,n.col_offset,\n"
  "    getattr(n,'end_lineno',None) or n.lineno,\n"
  "    getattr(n,'end_col_offset',None) or n.col_offset]\n"
  "  for f in n._fields:\n"
  "   if f in S:continue\n"
  "   v=getattr(n,f,None)\n"
  "   if v is None or v==[]:continue\n"
  "   o[f]=c(v,d+1)\n"
  "  if '@' in o and not hasattr(n,'end_lineno'):\n"
  "   o['@'][2]=max([o['@'][0]]+[e(x) for x in o.values()])\n"
  "  return o\n"
  " if isinstance(n,list):return [c(x,d+1) for x in n]\n"
  " if isinstance(n,bool) or n is None:return n\n"
  " if isinstance(n,str):return n[:200]\n"
  " if isinstance(n,int) and abs(n)<2**53:return n\n"
  " return None\n"
  "def one(src):\n"
  " try:\n"
  "  t=ast.parse(src)\n"
  " except SyntaxError as e:\n"
  "  return bad('syntax',e.msg,e.lineno,e.offset)\n"
  " except (RecursionError,MemoryError):\n"
  "  return bad('depth','nested too deeply for the parser')\n"
  " except ValueError as e:\n"
  "  return bad('syntax',str(e))\n"
  " try:\n"
  "  return c(t,0)\n"
  " except (RecursionError,MemoryError):\n"
  "  return bad('depth','nested more than %d levels deep'%(D//2))\n"
  "i=sys.stdin.buffer\n"
  "while True:\n"
  " h=i.readline()\n"
  " if not h:break\n"
  " t=one(i.read(int(h)))\n"
  " sys.stdout.write(json.dumps(t,separators=(',',':'))+'\\n')\n"
  " t=None\n";

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

/* Runs @script in @python with @arg as its argument and @input on its
 * standard input, for at most @timeout_s seconds. Returns what it printed
 * (also when it failed: then @failure says how), or %NULL with @error set
 * when it could not be run to its end. */
static GBytes *
run_python (const char  *python,
            const char  *script,
            const char  *arg,
            GBytes      *input,
            guint        timeout_s,
            char       **failure,
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
  g_autoptr(GSource) timer = g_timeout_source_new_seconds (timeout_s);
  Communication c = { loop, NULL, NULL, NULL, FALSE, cancel };

  g_subprocess_launcher_set_child_setup (launcher, limit_child, NULL, NULL);
  child = g_subprocess_launcher_spawn (launcher, error, python, "-I", "-S",
                                       "-c", script, arg, NULL);
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
                        "the Python parser %s took more than %u s; "
                        "check fewer or smaller files", python, timeout_s);
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

      *failure = g_strdup_printf ("the Python parser %s failed (is it Python "
                                  "3.6 or newer?): %s", python, g_strstrip (said));
    }
  g_bytes_unref (c.err);
  return c.out;
}

/* The script's verdict on a file it could not turn into a tree. */
static GError *
parse_error (const char  *file,
             JsonObject  *verdict)
{
  const char *kind = json_object_get_string_member_with_default (verdict, "error", "");
  const char *message = json_object_get_string_member_with_default (verdict, "message", "");
  gint64 line = json_object_get_int_member_with_default (verdict, "line", 0);
  gint64 column = json_object_get_int_member_with_default (verdict, "column", 0);

  if (g_str_equal (kind, "syntax") && line > 0)
    return g_error_new (MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                        "%s:%" G_GINT64_FORMAT ":%" G_GINT64_FORMAT
                        ": not valid Python: %s", file, line, MAX (column, 1),
                        message);
  if (g_str_equal (kind, "syntax"))
    return g_error_new (MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                        "%s: not valid Python: %s", file, message);
  return g_error_new (MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                      "%s: %s; split the code into functions, or check "
                      "another file", file, message);
}

/* Why @source cannot be a program to check, before any parsing; NULL
 * when it may be one. */
static GError *
refuse_early (const char *file,
              const char *source,
              gsize       length)
{
  const char *nul;

  if (length > MP_CHECK_MAX_SOURCE)
    return g_error_new (MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                        "%s: %" G_GSIZE_FORMAT " bytes is too large to be a "
                        "program to check (the limit is %d MiB)", file, length,
                        MP_CHECK_MAX_SOURCE / (1024 * 1024));
  nul = memchr (source, '\0', length);
  if (nul != NULL)
    return g_error_new (MP_ERROR, MP_ERROR_INVALID_ARGUMENT,
                        "%s: not Python source: a NUL byte at offset %"
                        G_GSIZE_FORMAT " (a binary file?)", file,
                        (gsize) (nul - source));
  return NULL;
}

/* Turns the script's line for @r into findings or an error. */
static void
read_verdict (MpCheckResult *r,
              const char    *line,
              gsize          length,
              GBytes        *source,
              const char    *python)
{
  g_autoptr(JsonParser) parser = json_parser_new_immutable ();
  g_autoptr(GError) json_error = NULL;
  JsonNode *root;

  if (!json_parser_load_from_data (parser, line, length, &json_error))
    {
      r->error = g_error_new (MP_ERROR, MP_ERROR_FAILED,
                              "%s: the Python parser %s printed no syntax "
                              "tree: %s", r->file, python, json_error->message);
      return;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    r->error = g_error_new (MP_ERROR, MP_ERROR_FAILED,
                            "%s: the Python parser %s printed no syntax tree",
                            r->file, python);
  else if (json_object_has_member (json_node_get_object (root), "error"))
    r->error = parse_error (r->file, json_node_get_object (root));
  else
    {
      gsize n;
      const char *data = g_bytes_get_data (source, &n);
      g_autofree char *text = g_strndup (data != NULL ? data : "", n);

      r->findings = mp_check_tree (r->file, text, root);
    }
}

static void
check_result_free (gpointer data)
{
  mp_check_result_free (data);
}

/**
 * mp_check_sources:
 * @python: the Python interpreter that parses, see mp_check_find_python()
 * @files: (array length=n_files): the names findings and errors carry
 * @sources: (array length=n_files): the Python sources
 * @n_files: how many
 * @error: return location for a #GError
 *
 * Finds the catalog's pitfalls in Python source without running it:
 * Python's `ast` module (in @python, one process for all the files)
 * parses, the analysis here follows names through each file (imports and
 * their aliases, assignments, `with` targets, the parameters of the file's
 * own functions, attributes set on `self`). A line that says
 * `# mpshare: ignore[ID]` gives no finding of ID.
 *
 * A file that is not Python (a syntax error: its line is named), holds a
 * NUL byte, is larger than %MP_CHECK_MAX_SOURCE or nested deeper than
 * %MP_CHECK_MAX_DEPTH gets an %MP_ERROR_INVALID_ARGUMENT in its result;
 * the others are checked all the same.
 *
 * Returns: (transfer full) (element-type MpCheckResult): one result per
 *   file, in order; %NULL with @error set when @python cannot be run.
 *
 * Since: 0.1
 */
GPtrArray *
mp_check_sources (const char        *python,
                  const char *const *files,
                  GBytes     *const *sources,
                  guint              n_files,
                  GError           **error)
{
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (check_result_free);
  g_autoptr(GByteArray) input = g_byte_array_new ();
  g_autoptr(GBytes) in_bytes = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autofree char *failure = NULL;
  g_autofree char *depth = g_strdup_printf ("%d", 2 * MP_CHECK_MAX_DEPTH);
  const char *at, *end;
  gsize out_len;
  guint sent = 0;

  g_return_val_if_fail (python != NULL, NULL);
  g_return_val_if_fail (files != NULL || n_files == 0, NULL);
  g_return_val_if_fail (sources != NULL || n_files == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < n_files; i++)
    {
      MpCheckResult *r = g_new0 (MpCheckResult, 1);
      gsize n;
      const char *data = g_bytes_get_data (sources[i], &n);

      g_return_val_if_fail (files[i] != NULL, NULL);
      r->file = g_strdup (files[i]);
      r->error = refuse_early (files[i], data != NULL ? data : "", n);
      if (r->error == NULL)
        {
          g_autofree char *header = g_strdup_printf ("%" G_GSIZE_FORMAT "\n", n);

          g_byte_array_append (input, (const guint8 *) header, strlen (header));
          g_byte_array_append (input, (const guint8 *) data, n);
          sent++;
        }
      g_ptr_array_add (results, r);
    }
  if (sent == 0)
    return g_steal_pointer (&results);

  in_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&input));
  out = run_python (python, parse_script, depth, in_bytes,
                    PARSE_TIMEOUT_S + sent, &failure, error);
  if (out == NULL)
    return NULL;

  at = g_bytes_get_data (out, &out_len);
  end = at != NULL ? at + out_len : NULL;
  for (guint i = 0; i < n_files; i++)
    {
      MpCheckResult *r = g_ptr_array_index (results, i);
      const char *eol = at != NULL && at < end ? memchr (at, '\n', end - at) : NULL;

      if (r->error != NULL)
        continue;
      if (eol == NULL)
        {
          r->error = g_error_new (MP_ERROR, MP_ERROR_FAILED, "%s: %s", r->file,
                                  failure != NULL ? failure
                                  : "the Python parser stopped before this file");
          continue;
        }
      read_verdict (r, at, eol - at, sources[i], python);
      at = eol + 1;
    }
  return g_steal_pointer (&results);
}

/**
 * mp_check_source:
 * @python: the Python interpreter that parses, see mp_check_find_python()
 * @file: the name findings and errors carry
 * @source: the Python source
 * @length: its length in bytes
 * @error: return location for a #GError
 *
 * mp_check_sources() for one file.
 *
 * Returns: (transfer full) (element-type MpCheckFinding): the findings,
 *   in source order (empty when there is none), or %NULL with the error of
 *   mp_check_sources() or of the file's result.
 *
 * Since: 0.1
 */
GPtrArray *
mp_check_source (const char  *python,
                 const char  *file,
                 const char  *source,
                 gsize        length,
                 GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GPtrArray) results = NULL;
  MpCheckResult *r;

  g_return_val_if_fail (python != NULL, NULL);
  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (source != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = g_bytes_new (source, length);
  results = mp_check_sources (python, &file, &bytes, 1, error);
  if (results == NULL)
    return NULL;
  r = g_ptr_array_index (results, 0);
  if (r->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&r->error));
      return NULL;
    }
  return g_steal_pointer (&r->findings);
}

/* Does @path start with "#!" (a launcher script, not the interpreter)? */
static gboolean
is_script (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  char head[2] = { 0, 0 };
  gsize got = 0;

  if (in == NULL)
    return FALSE;
  g_input_stream_read_all (G_INPUT_STREAM (in), head, sizeof head, &got, NULL, NULL);
  return got == 2 && head[0] == '#' && head[1] == '!';
}

/**
 * mp_check_find_python:
 *
 * The interpreter mp_check_sources() should use: $MPSHARE_PYTHON when set
 * (a path or a name looked up in $PATH), else `python3` from $PATH. A
 * launcher script in between (a pyenv shim costs a second per start) is
 * asked once for the interpreter it runs, which is then used directly.
 *
 * Returns: (transfer full) (nullable): its path, %NULL when there is none.
 *
 * Since: 0.1
 */
char *
mp_check_find_python (void)
{
  const char *chosen = g_getenv ("MPSHARE_PYTHON");
  g_autofree char *found = NULL;
  g_autoptr(GBytes) none = g_bytes_new_static ("", 0);
  g_autoptr(GBytes) out = NULL;
  g_autofree char *failure = NULL;
  g_autofree char *real = NULL;
  gsize n;
  const char *data;

  if (chosen == NULL || *chosen == '\0')
    chosen = "python3";
  found = g_find_program_in_path (chosen);
  if (found == NULL)
    return NULL;
  if (!is_script (found))
    return g_steal_pointer (&found);   /* the interpreter itself */
  out = run_python (found, "import sys\nsys.stdout.write(sys.executable)", "",
                    none, PARSE_TIMEOUT_S, &failure, NULL);
  if (out == NULL || failure != NULL)
    return g_steal_pointer (&found);   /* parsing will say what is wrong */
  data = g_bytes_get_data (out, &n);
  real = g_strndup (data != NULL ? data : "", n);
  if (!g_path_is_absolute (real) || !g_file_test (real, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&found);
  return g_steal_pointer (&real);
}

/**
 * mp_check_result_free:
 * @result: (nullable): a result of mp_check_sources()
 *
 * Frees @result.
 *
 * Since: 0.1
 */
void
mp_check_result_free (MpCheckResult *result)
{
  if (result == NULL)
    return;
  g_free (result->file);
  g_clear_pointer (&result->findings, g_ptr_array_unref);
  g_clear_error (&result->error);
  g_free (result);
}

/**
 * mp_check_finding_to_json:
 * @finding: a finding
 *
 * One finding as a JSON object on one line: file, line, column, end
 * (`[line, column]`), id, message, fix, evidence.
 *
 * Returns: (transfer full): the JSON text.
 *
 * Since: 0.1
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
 *
 * Since: 0.1
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
