/* mp-check-rules.c — find the catalog's pitfalls in a Python syntax tree
 *
 * The tree comes from mp-check.c (Python's `ast` as JSON). The analysis
 * reads it the way a person reads the file, once per concern:
 *
 * 1. scopes: the module, each function, each class; which names each
 *    function declares `global`;
 * 2. kinds: what each name holds, from imports (with their aliases),
 *    assignments, `with ... as` targets, `for` targets, attributes set
 *    on `self`, and the arguments the file itself passes to its own
 *    functions (direct calls, Process targets, pool tasks, initializers).
 *    Run three times so a kind travels through a few calls;
 * 3. sites: every Process and every pool/executor task, with its function
 *    and its arguments; the functions they run, and what those call;
 * 4. the rules, one function each, over the statements and the sites.
 *
 * Nothing is executed and no other file is read: a name whose origin is
 * not visible in this file has no kind, and gives no finding (docs/check.md
 * says what each rule cannot see).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mpshare.h"
#include "mp-check-private.h"

/* ---- the tree ------------------------------------------------------------ */

static const char *
ntype (JsonObject *n)
{
  return n != NULL ? json_object_get_string_member_with_default (n, "_", "") : "";
}

static gboolean
is (JsonObject *n,
    const char *type)
{
  return n != NULL && g_str_equal (ntype (n), type);
}

static JsonObject *
field (JsonObject *n,
       const char *name)
{
  JsonNode *m;

  if (n == NULL || (m = json_object_get_member (n, name)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (m))
    return NULL;
  return json_node_get_object (m);
}

static JsonArray *
list (JsonObject *n,
      const char *name)
{
  JsonNode *m;

  if (n == NULL || (m = json_object_get_member (n, name)) == NULL ||
      !JSON_NODE_HOLDS_ARRAY (m))
    return NULL;
  return json_node_get_array (m);
}

static guint
list_len (JsonArray *a)
{
  return a != NULL ? json_array_get_length (a) : 0;
}

static JsonObject *
item (JsonArray *a,
      guint      i)
{
  JsonNode *m;

  if (a == NULL || i >= json_array_get_length (a))
    return NULL;
  m = json_array_get_element (a, i);
  return JSON_NODE_HOLDS_OBJECT (m) ? json_node_get_object (m) : NULL;
}

static const char *
str (JsonObject *n,
     const char *name)
{
  JsonNode *m;

  if (n == NULL || (m = json_object_get_member (n, name)) == NULL ||
      json_node_get_value_type (m) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (m);
}

/* 0 when @n has no position (a module, an argument list). */
static int
pos (JsonObject *n,
     guint       i)
{
  JsonArray *p = list (n, "@");

  if (p == NULL || json_array_get_length (p) < 4)
    return 0;
  return (int) json_array_get_int_element (p, i);
}

#define LINE(n)     pos (n, 0)
#define END_LINE(n) pos (n, 2)

/* The name of a Name node, or NULL. */
static const char *
name_of (JsonObject *n)
{
  return is (n, "Name") ? str (n, "id") : NULL;
}

/* A Call's keyword argument, or NULL. */
static JsonObject *
keyword (JsonObject *call,
         const char *name)
{
  JsonArray *kws = list (call, "keywords");

  for (guint i = 0; i < list_len (kws); i++)
    {
      const char *arg = str (item (kws, i), "arg");

      if (arg != NULL && g_str_equal (arg, name))
        return field (item (kws, i), "value");
    }
  return NULL;
}

static JsonObject *
arg (JsonObject *call,
     guint       i)
{
  return item (list (call, "args"), i);
}

/* A Call's argument, positional @i or keyword @name. */
static JsonObject *
arg_or_keyword (JsonObject *call,
                guint       i,
                const char *name)
{
  JsonObject *k = keyword (call, name);

  return k != NULL ? k : arg (call, i);
}

static gboolean
is_constant (JsonObject *n,
             const char *text)
{
  const char *s;

  if (!is (n, "Constant"))
    return FALSE;
  s = str (n, "value");
  return text == NULL || (s != NULL && g_str_equal (s, text));
}

static gboolean
is_false (JsonObject *n)
{
  JsonNode *v;

  if (!is (n, "Constant") || (v = json_object_get_member (n, "value")) == NULL)
    return FALSE;
  return json_node_get_value_type (v) == G_TYPE_BOOLEAN && !json_node_get_boolean (v);
}

/* Statement lists inside a statement: they are walked as statements. */
static gboolean
is_block_member (const char *member)
{
  return g_str_equal (member, "body") || g_str_equal (member, "orelse") ||
         g_str_equal (member, "finalbody") || g_str_equal (member, "handlers") ||
         g_str_equal (member, "cases");
}

/* Members that hold no code of the node itself: the parser's own
 * (_type, @line) and the blocks of statements, walked as statements. */
static gboolean
is_hidden_or_block_member (const char *member)
{
  return member[0] == '_' || member[0] == '@' || is_block_member (member);
}

/* Calls @func on every object right under @n (a member that is an
 * object, or an object in a member that is an array) until one returns
 * TRUE, leaving out the members @skip says yes to (@skip may be NULL).
 * The one walk over an AST node's children. */
typedef gboolean (*ChildFunc) (JsonObject *child, gpointer data);

static gboolean
any_child (JsonObject  *n,
           gboolean   (*skip) (const char *member),
           ChildFunc    func,
           gpointer     data)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  json_object_iter_init (&iter, n);
  while (json_object_iter_next (&iter, &member, &value))
    {
      if (skip != NULL && skip (member))
        continue;
      if (JSON_NODE_HOLDS_OBJECT (value))
        {
          if (func (json_node_get_object (value), data))
            return TRUE;
        }
      else if (JSON_NODE_HOLDS_ARRAY (value))
        {
          JsonArray *a = json_node_get_array (value);

          for (guint i = 0; i < json_array_get_length (a); i++)
            if (func (item (a, i), data))
              return TRUE;
        }
    }
  return FALSE;
}

static gboolean
is_scope_node (JsonObject *n)
{
  return is (n, "FunctionDef") || is (n, "AsyncFunctionDef") || is (n, "ClassDef");
}

/* ---- what a name holds --------------------------------------------------- */

typedef enum {
  K_UNKNOWN = 0,
  K_MODULE,     /* an imported module or name: detail is its full name */
  K_CONTEXT,    /* a multiprocessing context: detail is its start method */
  K_SYNC,       /* a multiprocessing Lock .. Queue: detail is which */
  K_SHARED,     /* a Value/Array with its lock */
  K_RAW,        /* a Value/Array without one (lock=False, RawValue) */
  K_MANAGER,
  K_PROXY,      /* detail: the manager method (list, dict, Value...) */
  K_POOL,       /* a process pool or executor */
  K_PROCESS,
  K_HANDLE,     /* an open file, socket, connection, thread lock, client */
  K_INSTANCE,   /* of a class of this file: detail is its scope name */
  K_LAMBDA,
  K_FUNCTION,   /* a def of this file: detail is its scope name */
  K_ELEMENT,    /* a copy read from a proxy: owner is the proxy's name */
  K_UNORDERED,  /* results or futures in completion order: detail says how */
} KindTag;

typedef struct {
  KindTag     tag;
  const char *detail;  /* interned */
  const char *owner;   /* interned: the manager of a proxy, the proxy of an element */
  const char *start;   /* interned start method of a context, pool or process */
  int         line;    /* where it was made */
  int         end;     /* a manager's or proxy's last line of life, 0: none */
} Kind;

static const Kind unknown_kind = { K_UNKNOWN, NULL, NULL, NULL, 0, 0 };

typedef struct {
  int  line;
  Kind kind;
} Binding;

typedef struct _Scope Scope;
struct _Scope {
  const char *name;       /* "" for the module, "f", "C.m", "f.g" */
  JsonObject *node;
  JsonArray  *body;
  gboolean    is_class;
  gboolean    is_function;
  Scope      *parent;
  Scope      *klass;      /* for a method: its class */
  GHashTable *globals;    /* names declared global, as a set */
  GHashTable *bindings;   /* name -> GArray of Binding */
  GHashTable *attrs;      /* a class: attribute -> Kind* (from self.x = ...) */
  gboolean    custom_pickle; /* a class with __getstate__ or __reduce__ */
  gboolean    is_manager; /* a class derived from BaseManager */
  gboolean    guarded;    /* defined under if __name__ == "__main__" */
  /* a function: */
  gboolean    runs_in_pool;   /* a pool or executor task */
  gboolean    runs_in_children; /* in several processes at once */
  gboolean    starts;         /* starts processes (itself or by a call) */
  const char *pool_kind;      /* "executor" or "pool" */
};

typedef struct {
  JsonObject *call;
  Scope      *scope;
  JsonObject *func;      /* the task function, partial unwrapped */
  GPtrArray  *args;      /* JsonObject *: what is sent with it */
  gboolean    is_pool;
  const char *start;     /* the start method when known */
  gboolean    in_loop;
  const char *via;       /* "submit", "map", "Process"... */
} Site;

typedef struct {
  const char *file;
  char      **lines;
  guint       n_lines;
  GPtrArray  *scopes;      /* Scope *, module first */
  GHashTable *by_name;     /* scope name -> Scope * */
  GPtrArray  *sites;       /* Site * */
  GPtrArray  *findings;
  GPtrArray  *kinds;       /* Kind * allocated for class attributes */
  const char *start;       /* set_start_method's argument, or NULL */
  int         in_guard;    /* collecting under if __name__ == "__main__" */
} Checker;

static Kind
make (KindTag     tag,
      const char *detail,
      int         line)
{
  Kind k = { tag, detail != NULL ? g_intern_string (detail) : NULL, NULL, NULL, line, 0 };

  return k;
}

/* ---- findings ------------------------------------------------------------ */

/* The one-line fix of the catalog: check names only catalog pitfalls. */
static const char *
fix_for (const char *id)
{
  const MpCatalogEntry *entry = mp_catalog_lookup (id, NULL);

  g_assert (entry != NULL && entry->fix_python != NULL);
  return entry->fix_python;
}

/* 1-based column, in characters, of UTF-8 byte offset @byte on @line. */
static guint
column_of (Checker *c,
           int      line,
           int      byte)
{
  const char *text;
  const char *end;

  if (line < 1 || (guint) line > c->n_lines || byte <= 0)
    return 1;
  text = c->lines[line - 1];
  end = text + MIN ((gsize) byte, strlen (text));
  if (!g_utf8_validate (text, end - text, NULL))
    return (guint) byte + 1;
  return (guint) g_utf8_strlen (text, end - text) + 1;
}

/* Does line @line say `# mpshare: ignore[..., @id, ...]`? */
static gboolean
is_silenced (Checker    *c,
             int         line,
             const char *id)
{
  const char *at;

  if (line < 1 || (guint) line > c->n_lines)
    return FALSE;
  at = strstr (c->lines[line - 1], "mpshare: ignore[");
  while (at != NULL)
    {
      const char *open = at + strlen ("mpshare: ignore[");
      const char *close = strchr (open, ']');
      g_autofree char *ids = close != NULL ? g_strndup (open, close - open) : NULL;
      g_auto(GStrv) parts = ids != NULL ? g_strsplit (ids, ",", -1) : NULL;

      for (guint i = 0; parts != NULL && parts[i] != NULL; i++)
        if (g_str_equal (g_strstrip (parts[i]), id))
          return TRUE;
      at = strstr (open, "mpshare: ignore[");
    }
  return FALSE;
}

static void
report (Checker    *c,
        const char *id,
        JsonObject *where,
        const char *format,
        ...) G_GNUC_PRINTF (4, 5);

static void
report (Checker    *c,
        const char *id,
        JsonObject *where,
        const char *format,
        ...)
{
  MpCheckFinding *f;
  va_list args;
  int line = LINE (where);

  if (is_silenced (c, line, id))
    return;
  for (guint i = 0; i < c->findings->len; i++)
    {
      MpCheckFinding *seen = g_ptr_array_index (c->findings, i);

      if (seen->line == (guint) line && g_str_equal (seen->entry->id, id) &&
          seen->column == column_of (c, line, pos (where, 1)))
        return;
    }
  f = g_new0 (MpCheckFinding, 1);
  f->entry = mp_catalog_lookup (id, NULL);
  g_assert (f->entry != NULL);
  f->file = g_strdup (c->file);
  f->line = line;
  f->column = column_of (c, line, pos (where, 1));
  f->end_line = END_LINE (where);
  f->end_column = column_of (c, f->end_line, pos (where, 3));
  va_start (args, format);
  f->message = g_strdup_vprintf (format, args);
  va_end (args);
  f->fix = fix_for (id);
  f->evidence = g_strdup (line >= 1 && (guint) line <= c->n_lines
                          ? c->lines[line - 1] : "");
  g_strstrip (f->evidence);
  if (!g_utf8_validate (f->evidence, -1, NULL))
    {
      g_free (f->evidence);
      f->evidence = g_strdup ("(not UTF-8)");
    }
  g_ptr_array_add (c->findings, f);
}

/* ---- names and their kinds ------------------------------------------------ */

static Kind expr_kind (Checker *c, Scope *s, JsonObject *e);

static Scope *
scope_new (Checker    *c,
           const char *name,
           JsonObject *node,
           Scope      *parent)
{
  Scope *s = g_new0 (Scope, 1);

  s->name = g_intern_string (name);
  s->node = node;
  s->body = list (node, "body");
  s->parent = parent;
  s->is_class = is (node, "ClassDef");
  s->is_function = is (node, "FunctionDef") || is (node, "AsyncFunctionDef");
  s->globals = g_hash_table_new (g_str_hash, g_str_equal);
  s->bindings = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) g_array_unref);
  s->attrs = g_hash_table_new (g_str_hash, g_str_equal);
  if (parent != NULL && parent->is_class)
    s->klass = parent;
  s->guarded = c->in_guard > 0;
  g_ptr_array_add (c->scopes, s);
  g_hash_table_insert (c->by_name, (gpointer) s->name, s);
  return s;
}

static void
scope_free (gpointer data)
{
  Scope *s = data;

  g_hash_table_unref (s->globals);
  g_hash_table_unref (s->bindings);
  g_hash_table_unref (s->attrs);
  g_free (s);
}

static Scope *
module_scope (Checker *c)
{
  return g_ptr_array_index (c->scopes, 0);
}

/* Where a name bound in @s lives: the module for a `global` name. */
static Scope *
binding_scope (Checker    *c,
               Scope      *s,
               const char *name)
{
  if (s->is_function && g_hash_table_contains (s->globals, name))
    return module_scope (c);
  return s;
}

static void
bind (Checker    *c,
      Scope      *s,
      const char *name,
      int         line,
      Kind        kind)
{
  GArray *a;
  Binding b = { line, kind };

  s = binding_scope (c, s, name);
  name = g_intern_string (name);
  a = g_hash_table_lookup (s->bindings, name);
  if (a == NULL)
    {
      a = g_array_new (FALSE, FALSE, sizeof (Binding));
      g_hash_table_insert (s->bindings, (gpointer) name, a);
    }
  for (guint i = 0; i < a->len; i++)
    {
      Binding *old = &g_array_index (a, Binding, i);

      /* the passes run again: the same binding is updated, not doubled */
      if (old->line == line)
        {
          if (kind.tag != K_UNKNOWN || line != 0)
            old->kind = kind;
          return;
        }
    }
  g_array_append_val (a, b);
}

/* The scope a def named @name seen from @s has, or NULL. */
static Scope *
find_def (Checker    *c,
          Scope      *s,
          const char *name)
{
  for (Scope *at = s; at != NULL; at = at->parent)
    {
      g_autofree char *full = at->name[0] != '\0'
        ? g_strconcat (at->name, ".", name, NULL) : g_strdup (name);
      Scope *def = g_hash_table_lookup (c->by_name, full);

      if (def != NULL && !(at->is_class && at != s))
        return def;
    }
  return NULL;
}

/* What @name holds at @line of @s. In its own scope the last binding
 * before the line counts; seen from an inner function the last binding
 * that says something, since the function runs later. */
static Kind
lookup (Checker    *c,
        Scope      *s,
        const char *name,
        int         line)
{
  gboolean own = TRUE;

  for (Scope *at = binding_scope (c, s, name); at != NULL; at = at->parent)
    {
      GArray *a;

      if (at->is_class && at != s)
        continue;
      a = g_hash_table_lookup (at->bindings, name);
      if (a != NULL && a->len > 0)
        {
          const Binding *best = NULL;

          for (guint i = 0; i < a->len; i++)
            {
              const Binding *b = &g_array_index (a, Binding, i);

              if (own && b->line <= line && (best == NULL || b->line >= best->line))
                best = b;
              else if (!own && b->kind.tag != K_UNKNOWN &&
                       (best == NULL || b->line >= best->line))
                best = b;
            }
          if (best == NULL)
            best = &g_array_index (a, Binding, own ? 0 : a->len - 1);
          return best->kind;
        }
      own = FALSE;
    }
  {
    Scope *def = find_def (c, s, name);

    if (def != NULL)
      return make (def->is_class ? K_INSTANCE : K_FUNCTION, def->name, LINE (def->node));
  }
  if (g_str_equal (name, "open"))
    return make (K_MODULE, "open", 0);
  return unknown_kind;
}

/* Full dotted name of @e as imported ("multiprocessing.Pool"), or NULL. */
static char *
qualify (Checker    *c,
         Scope      *s,
         JsonObject *e)
{
  if (is (e, "Name"))
    {
      Kind k = lookup (c, s, name_of (e), LINE (e));

      return k.tag == K_MODULE ? g_strdup (k.detail) : NULL;
    }
  if (is (e, "Attribute"))
    {
      Kind k = expr_kind (c, s, field (e, "value"));

      if (k.tag == K_CONTEXT)
        return g_strconcat ("multiprocessing.", str (e, "attr"), NULL);
      if (k.tag == K_MODULE)
        return g_strconcat (k.detail, ".", str (e, "attr"), NULL);
    }
  return NULL;
}

/* Submodules that re-export the same object under a shorter name. */
static char *
canonical (char *name)
{
  static const char *const prefixes[][2] = {
    { "multiprocessing.context.", "multiprocessing." },
    { "multiprocessing.sharedctypes.", "multiprocessing." },
    { "multiprocessing.synchronize.", "multiprocessing." },
    { "multiprocessing.queues.", "multiprocessing." },
    { "multiprocessing.pool.Pool", "multiprocessing.Pool" },
    { "multiprocessing.process.", "multiprocessing." },
    { "concurrent.futures.process.", "concurrent.futures." },
  };

  if (name == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (name, prefixes[i][0]))
      {
        char *short_name = g_strconcat (prefixes[i][1],
                                        name + strlen (prefixes[i][0]), NULL);
        g_free (name);
        return short_name;
      }
  return name;
}

static gboolean
name_in (const char        *name,
         const char *const *names)
{
  for (guint i = 0; name != NULL && names[i] != NULL; i++)
    if (g_str_equal (name, names[i]))
      return TRUE;
  return FALSE;
}

static const char *const sync_types[] = {
  "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event",
  "Barrier", "Queue", "JoinableQueue", "SimpleQueue", NULL
};

static const char *const lock_types[] = {
  "Lock", "RLock", "Semaphore", "BoundedSemaphore", "Condition", NULL
};

static const char *const proxy_types[] = {
  "list", "dict", "Value", "Array", "Namespace", "Lock", "RLock",
  "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier", "Queue",
  "JoinableQueue", NULL
};

/* What cannot be pickled: open files, sockets, connections, thread
 * locks, clients of services. */
static const char *const handle_makers[] = {
  "open", "io.open", "io.FileIO", "os.fdopen", "gzip.open", "bz2.open",
  "lzma.open", "tarfile.open", "zipfile.ZipFile", "mmap.mmap",
  "tempfile.TemporaryFile", "tempfile.NamedTemporaryFile",
  "socket.socket", "socket.create_connection", "sqlite3.connect",
  "threading.Lock", "threading.RLock", "threading.Condition",
  "threading.Semaphore", "threading.Event", "threading.Thread",
  "subprocess.Popen", "logging.FileHandler", "urllib.request.urlopen",
  "http.client.HTTPConnection", "http.client.HTTPSConnection",
  "smtplib.SMTP", "ftplib.FTP", "requests.Session", "requests.session",
  "boto3.client", "boto3.resource", "redis.Redis", "redis.StrictRedis",
  "psycopg2.connect", "pymysql.connect", "mysql.connector.connect",
  "pymongo.MongoClient", "paramiko.SSHClient", NULL
};

/* The start method named by a context or start-method call's argument. */
static const char *
start_of (JsonObject *call)
{
  JsonObject *m = arg_or_keyword (call, 0, "method");

  return is_constant (m, NULL) && str (m, "value") != NULL
    ? g_intern_string (str (m, "value")) : NULL;
}

/* The name of a Name or of a dotted chain of them ("self.total"), or NULL. */
static const char *
path_of (JsonObject *e)
{
  if (is (e, "Name"))
    return g_intern_string (str (e, "id"));
  if (is (e, "Attribute"))
    {
      const char *base = path_of (field (e, "value"));
      g_autofree char *full = NULL;

      if (base == NULL)
        return NULL;
      full = g_strconcat (base, ".", str (e, "attr"), NULL);
      return g_intern_string (full);
    }
  return NULL;
}

static Kind
call_kind (Checker    *c,
           Scope      *s,
           JsonObject *call)
{
  JsonObject *func = field (call, "func");
  g_autofree char *q = canonical (qualify (c, s, func));
  int line = LINE (call);

  if (q != NULL)
    {
      const char *last = strrchr (q, '.') != NULL ? strrchr (q, '.') + 1 : q;
      gboolean mp = g_str_has_prefix (q, "multiprocessing.") &&
                    strchr (q + strlen ("multiprocessing."), '.') == NULL;

      if (mp && (g_str_equal (last, "Value") || g_str_equal (last, "Array")))
        return make (is_false (keyword (call, "lock")) ? K_RAW : K_SHARED, last, line);
      if (mp && (g_str_equal (last, "RawValue") || g_str_equal (last, "RawArray")))
        return make (K_RAW, last, line);
      if (mp && name_in (last, sync_types))
        return make (K_SYNC, last, line);
      /* Manager() starts its server; the classes wait for start() */
      if (g_str_equal (q, "multiprocessing.Manager"))
        return make (K_MANAGER, "Manager", line);
      if (g_str_equal (q, "multiprocessing.managers.BaseManager") ||
          g_str_equal (q, "multiprocessing.managers.SyncManager"))
        return make (K_MANAGER, last, line);
      if (g_str_equal (q, "multiprocessing.Pool") ||
          g_str_equal (q, "concurrent.futures.ProcessPoolExecutor"))
        {
          Kind k = make (K_POOL, g_str_equal (last, "Pool") ? "pool" : "executor", line);
          JsonObject *ctx = keyword (call, "mp_context");

          if (is (func, "Attribute"))
            k.start = expr_kind (c, s, field (func, "value")).start;
          if (ctx != NULL)
            k.start = expr_kind (c, s, ctx).start;
          return k;
        }
      if (g_str_equal (q, "multiprocessing.Process"))
        {
          Kind k = make (K_PROCESS, "Process", line);

          if (is (func, "Attribute"))
            k.start = expr_kind (c, s, field (func, "value")).start;
          return k;
        }
      if (g_str_equal (q, "multiprocessing.get_context"))
        {
          Kind k = make (K_CONTEXT, "context", line);

          k.start = start_of (call);
          if (k.start == NULL)
            k.start = c->start;
          return k;
        }
      if (g_str_equal (q, "concurrent.futures.as_completed"))
        return make (K_UNORDERED, "as_completed", line);
      if (name_in (q, handle_makers))
        return make (K_HANDLE, q, line);
    }

  if (is (func, "Attribute"))
    {
      const char *attr = str (func, "attr");
      Kind owner = expr_kind (c, s, field (func, "value"));

      if (owner.tag == K_MANAGER && name_in (attr, proxy_types))
        {
          Kind k = make (K_PROXY, attr, line);

          k.owner = path_of (field (func, "value"));
          k.end = owner.end;
          return k;
        }
      if (owner.tag == K_POOL && g_str_equal (attr, "imap_unordered"))
        return make (K_UNORDERED, "imap_unordered", line);
      if (owner.tag == K_PROXY && g_str_equal (attr, "get") &&
          (g_str_equal (owner.detail, "dict") || g_str_equal (owner.detail, "list")))
        {
          Kind k = make (K_ELEMENT, owner.detail, line);

          k.owner = path_of (field (func, "value"));
          return k;
        }
    }
  {
    Kind callee = expr_kind (c, s, func);

    if (callee.tag == K_INSTANCE)     /* a class of this file, constructed */
      {
        Scope *cls = g_hash_table_lookup (c->by_name, callee.detail);

        if (cls != NULL && cls->is_manager)
          return make (K_MANAGER, cls->name, line);
        return make (K_INSTANCE, callee.detail, line);
      }
  }
  return unknown_kind;
}

/* The class a `self` in @s stands for, or NULL. */
static Scope *
self_class (Scope      *s,
            JsonObject *e)
{
  const char *n = name_of (e);

  if (n == NULL || !g_str_equal (n, "self"))
    return NULL;
  for (; s != NULL && !s->is_class; s = s->parent)
    if (s->klass != NULL)
      return s->klass;
  return NULL;
}

static Kind
expr_kind (Checker    *c,
           Scope      *s,
           JsonObject *e)
{
  if (e == NULL)
    return unknown_kind;
  if (is (e, "Name"))
    return lookup (c, s, name_of (e), LINE (e));
  if (is (e, "Call"))
    return call_kind (c, s, e);
  if (is (e, "Lambda"))
    return make (K_LAMBDA, "lambda", LINE (e));
  if (is (e, "Await") || is (e, "NamedExpr"))
    return expr_kind (c, s, field (e, "value"));
  if (is (e, "Attribute"))
    {
      const char *attr = str (e, "attr");
      JsonObject *base = field (e, "value");
      Scope *cls = self_class (s, base);
      Kind owner;

      if (cls == NULL)
        {
          owner = expr_kind (c, s, base);
          if (owner.tag == K_INSTANCE)
            cls = g_hash_table_lookup (c->by_name, owner.detail);
          else if (owner.tag == K_MODULE)
            {
              g_autofree char *full = g_strconcat (owner.detail, ".", attr, NULL);
              return make (K_MODULE, full, LINE (e));
            }
          else if (owner.tag == K_PROXY && g_str_equal (owner.detail, "Namespace"))
            {
              Kind k = make (K_ELEMENT, "Namespace", LINE (e));

              k.owner = path_of (base);
              return k;
            }
        }
      if (cls != NULL)
        {
          Kind *k = g_hash_table_lookup (cls->attrs, attr);
          g_autofree char *method = g_strconcat (cls->name, ".", attr, NULL);
          Scope *def = g_hash_table_lookup (c->by_name, method);

          if (k != NULL)
            return *k;
          if (def != NULL)
            return make (K_FUNCTION, def->name, LINE (def->node));
        }
      return unknown_kind;
    }
  if (is (e, "Subscript"))
    {
      Kind owner = expr_kind (c, s, field (e, "value"));

      if (owner.tag == K_PROXY &&
          (g_str_equal (owner.detail, "list") || g_str_equal (owner.detail, "dict")))
        {
          Kind k = make (K_ELEMENT, owner.detail, LINE (e));

          k.owner = path_of (field (e, "value"));
          return k;
        }
    }
  return unknown_kind;
}

/* ---- pass 1: scopes, imports, classes ------------------------------------ */

static void collect_block (Checker *c, Scope *s, JsonArray *body);
static gboolean is_main_test (JsonObject *test);

static void
collect_import (Checker    *c,
                Scope      *s,
                JsonObject *stmt)
{
  JsonArray *names = list (stmt, "names");
  const char *from = str (stmt, "module");

  for (guint i = 0; i < list_len (names); i++)
    {
      JsonObject *alias = item (names, i);
      const char *name = str (alias, "name");
      const char *as = str (alias, "asname");
      g_autofree char *full = NULL;

      if (name == NULL || g_str_equal (name, "*"))
        continue;
      if (is (stmt, "ImportFrom"))
        full = g_strconcat (from != NULL ? from : "", ".", name, NULL);
      else if (as != NULL)
        full = g_strdup (name);
      else
        {
          /* `import a.b` binds a */
          full = g_strdup (name);
          if (strchr (full, '.') != NULL)
            *strchr (full, '.') = '\0';
        }
      bind (c, s, as != NULL ? as : (is (stmt, "Import") && strchr (name, '.')
                                     ? full : name),
            LINE (stmt), make (K_MODULE, full, LINE (stmt)));
    }
}

static void
collect_class (Checker    *c,
               Scope      *cls)
{
  JsonArray *bases = list (cls->node, "bases");

  for (guint i = 0; i < list_len (bases); i++)
    {
      JsonObject *b = item (bases, i);
      const char *n = is (b, "Attribute") ? str (b, "attr") : name_of (b);

      if (n != NULL && (g_str_equal (n, "BaseManager") || g_str_equal (n, "SyncManager")))
        cls->is_manager = TRUE;
    }
  for (guint i = 0; i < list_len (cls->body); i++)
    {
      const char *n = str (item (cls->body, i), "name");

      if (n != NULL && (g_str_equal (n, "__getstate__") || g_str_equal (n, "__reduce__") ||
                        g_str_equal (n, "__reduce_ex__")))
        cls->custom_pickle = TRUE;
    }
}

/* A parameter hides a global of the same name, even when no call of the
 * file tells what it holds. */
static void
collect_params (Checker *c,
                Scope   *fn)
{
  JsonObject *args = field (fn->node, "args");
  static const char *const lists[] = { "posonlyargs", "args", "kwonlyargs" };

  for (gsize l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      JsonArray *params = list (args, lists[l]);

      for (guint i = 0; i < list_len (params); i++)
        bind (c, fn, str (item (params, i), "arg"), 0, unknown_kind);
    }
  if (field (args, "vararg") != NULL)
    bind (c, fn, str (field (args, "vararg"), "arg"), 0, unknown_kind);
  if (field (args, "kwarg") != NULL)
    bind (c, fn, str (field (args, "kwarg"), "arg"), 0, unknown_kind);
}

static void
collect_stmt (Checker    *c,
              Scope      *s,
              JsonObject *stmt)
{
  JsonObjectIter iter;
  const char *member;
  JsonNode *value;

  if (is_scope_node (stmt))
    {
      g_autofree char *name = s->name[0] != '\0'
        ? g_strconcat (s->name, ".", str (stmt, "name"), NULL)
        : g_strdup (str (stmt, "name"));
      Scope *inner = scope_new (c, name, stmt, s);

      if (inner->is_class)
        collect_class (c, inner);
      else
        collect_params (c, inner);
      collect_block (c, inner, inner->body);
      return;
    }
  if (is (stmt, "If") && s->parent == NULL && is_main_test (field (stmt, "test")))
    {
      c->in_guard++;
      collect_block (c, s, list (stmt, "body"));
      c->in_guard--;
      collect_block (c, s, list (stmt, "orelse"));
      return;
    }
  if (is (stmt, "Import") || is (stmt, "ImportFrom"))
    collect_import (c, s, stmt);
  if (is (stmt, "Global"))
    {
      JsonArray *names = list (stmt, "names");

      for (guint i = 0; i < list_len (names); i++)
        g_hash_table_add (s->globals, (gpointer) g_intern_string (
                            json_array_get_string_element (names, i)));
    }
  json_object_iter_init (&iter, stmt);
  while (json_object_iter_next (&iter, &member, &value))
    if (is_block_member (member) && JSON_NODE_HOLDS_ARRAY (value))
      collect_block (c, s, json_node_get_array (value));
}

static void
collect_block (Checker   *c,
               Scope     *s,
               JsonArray *body)
{
  for (guint i = 0; i < list_len (body); i++)
    {
      JsonObject *stmt = item (body, i);

      /* an except handler or a match case holds a block of its own */
      if (is (stmt, "ExceptHandler") || is (stmt, "match_case"))
        collect_block (c, s, list (stmt, "body"));
      else
        collect_stmt (c, s, stmt);
    }
}

/* ---- walking statements -------------------------------------------------- */

typedef struct _Walk Walk;
typedef void (*StmtFunc) (Checker *c, Scope *s, JsonObject *stmt, Walk *w);

struct _Walk {
  StmtFunc    func;
  gpointer    data;
  int         loops;     /* enclosing for/while */
  int         locks;     /* locks held here */
  gboolean    guarded;   /* under if __name__ == "__main__" */
  JsonObject *with;      /* the innermost with statement */
};

static gboolean is_lock_expr (Checker *c, Scope *s, JsonObject *e);

static gboolean
is_main_test (JsonObject *test)
{
  JsonObject *left = field (test, "left");
  JsonObject *right = item (list (test, "comparators"), 0);
  JsonObject *op = item (list (test, "ops"), 0);

  if (!is (test, "Compare") || !is (op, "Eq"))
    return FALSE;
  return (g_strcmp0 (name_of (left), "__name__") == 0 && is_constant (right, "__main__")) ||
         (g_strcmp0 (name_of (right), "__name__") == 0 && is_constant (left, "__main__"));
}

static void walk_block (Checker *c, Scope *s, JsonArray *body, Walk *w);

/* "x.acquire()" / "x.release()" as a statement: the lock's expression. */
static JsonObject *
lock_call (JsonObject *stmt,
           const char *method)
{
  JsonObject *call = field (stmt, "value");
  JsonObject *func = field (call, "func");

  if (!is (stmt, "Expr") || !is (call, "Call") || !is (func, "Attribute") ||
      g_strcmp0 (str (func, "attr"), method) != 0)
    return NULL;
  return field (func, "value");
}

static void
walk_stmt (Checker    *c,
           Scope      *s,
           JsonObject *stmt,
           Walk       *w)
{
  Walk inner = *w;

  if (is_scope_node (stmt))
    return;
  if (is (stmt, "ExceptHandler") || is (stmt, "match_case"))
    {
      walk_block (c, s, list (stmt, "body"), w);
      return;
    }
  w->func (c, s, stmt, w);
  if (is (stmt, "For") || is (stmt, "AsyncFor") || is (stmt, "While"))
    inner.loops++;
  if (is (stmt, "With") || is (stmt, "AsyncWith"))
    {
      JsonArray *items = list (stmt, "items");

      inner.with = stmt;
      for (guint i = 0; i < list_len (items); i++)
        if (is_lock_expr (c, s, field (item (items, i), "context_expr")))
          inner.locks++;
    }
  if (is (stmt, "If") && is_main_test (field (stmt, "test")))
    {
      inner.guarded = TRUE;
      walk_block (c, s, list (stmt, "body"), &inner);
      inner.guarded = w->guarded;
      walk_block (c, s, list (stmt, "orelse"), &inner);
      return;
    }
  walk_block (c, s, list (stmt, "body"), &inner);
  walk_block (c, s, list (stmt, "handlers"), &inner);
  walk_block (c, s, list (stmt, "cases"), &inner);
  /* a loop's else runs once, after it */
  inner.loops = w->loops;
  walk_block (c, s, list (stmt, "orelse"), &inner);
  walk_block (c, s, list (stmt, "finalbody"), &inner);
}

static void
walk_block (Checker   *c,
            Scope     *s,
            JsonArray *body,
            Walk      *w)
{
  int locks = w->locks;

  for (guint i = 0; i < list_len (body); i++)
    {
      JsonObject *stmt = item (body, i);

      /* lock.acquire() ... lock.release() in one block, try/finally too */
      if (lock_call (stmt, "acquire") != NULL)
        w->locks++;
      else if (lock_call (stmt, "release") != NULL && w->locks > locks)
        w->locks--;
      walk_stmt (c, s, stmt, w);
    }
  w->locks = locks;
}

static void
walk_scope (Checker *c,
            Scope   *s,
            StmtFunc func,
            gpointer data)
{
  Walk w = { func, data, 0, 0, FALSE, NULL };

  if (!s->is_class)
    walk_block (c, s, s->body, &w);
}

static void
walk_all (Checker *c,
          StmtFunc func,
          gpointer data)
{
  for (guint i = 0; i < c->scopes->len; i++)
    walk_scope (c, g_ptr_array_index (c->scopes, i), func, data);
}

/* Calls @visit on every node of the expressions of @stmt itself (not of
 * the blocks it holds, not of nested defs); @in_loop counts the
 * comprehensions around the node. */
typedef void (*NodeFunc) (Checker *c, Scope *s, JsonObject *n, int in_loop, gpointer data);

typedef struct {
  Checker  *c;
  Scope    *s;
  int       in_loop;
  NodeFunc  visit;
  gpointer  data;
} Visit;

static gboolean visit_child (JsonObject *n, gpointer data);

static void
visit_node (Checker    *c,
            Scope      *s,
            JsonObject *n,
            int         in_loop,
            NodeFunc    visit,
            gpointer    data)
{
  Visit v = { c, s, in_loop, visit, data };

  if (n == NULL || is_scope_node (n))
    return;
  visit (c, s, n, in_loop, data);
  if (is (n, "ListComp") || is (n, "SetComp") || is (n, "GeneratorExp") ||
      is (n, "DictComp"))
    v.in_loop++;
  any_child (n, is_hidden_or_block_member, visit_child, &v);
}

static gboolean
visit_child (JsonObject *n,
             gpointer    data)
{
  Visit *v = data;

  visit_node (v->c, v->s, n, v->in_loop, v->visit, v->data);
  return FALSE;
}

static void
visit_stmt (Checker    *c,
            Scope      *s,
            JsonObject *stmt,
            int         in_loop,
            NodeFunc    visit,
            gpointer    data)
{
  /* an except handler's type and a case's pattern are not code to run */
  if (is (stmt, "ExceptHandler") || is (stmt, "match_case"))
    return;
  visit_node (c, s, stmt, in_loop, visit, data);
}

/* ---- pass 2: kinds -------------------------------------------------------- */

static void
bind_target (Checker    *c,
             Scope      *s,
             JsonObject *target,
             JsonObject *value,
             Kind        kind)
{
  if (is (target, "Name"))
    bind (c, s, name_of (target), LINE (target), kind);
  else if ((is (target, "Tuple") || is (target, "List")) &&
           (is (value, "Tuple") || is (value, "List")) &&
           list_len (list (target, "elts")) == list_len (list (value, "elts")))
    {
      JsonArray *t = list (target, "elts");
      JsonArray *v = list (value, "elts");

      for (guint i = 0; i < list_len (t); i++)
        bind_target (c, s, item (t, i), item (v, i), expr_kind (c, s, item (v, i)));
    }
  else if (is (target, "Tuple") || is (target, "List"))
    {
      JsonArray *t = list (target, "elts");

      for (guint i = 0; i < list_len (t); i++)
        bind_target (c, s, item (t, i), NULL, unknown_kind);
    }
  else if (is (target, "Attribute") && kind.tag != K_UNKNOWN)
    {
      Scope *cls = self_class (s, field (target, "value"));
      Kind *k;

      if (cls == NULL)
        return;
      k = g_new (Kind, 1);
      *k = kind;
      g_ptr_array_add (c->kinds, k);
      g_hash_table_insert (cls->attrs, (gpointer) g_intern_string (str (target, "attr")), k);
    }
}

/* The kind of one element of iterating @iter, for `for x in ...`. */
static Kind
element_kind (Checker    *c,
              Scope      *s,
              JsonObject *iter)
{
  Kind k = expr_kind (c, s, iter);

  if (k.tag == K_PROXY && g_str_equal (k.detail, "list"))
    {
      Kind e = make (K_ELEMENT, "list", LINE (iter));

      e.owner = path_of (iter);
      return e;
    }
  if (is (iter, "Call") && is (field (iter, "func"), "Attribute") &&
      g_strcmp0 (str (field (iter, "func"), "attr"), "values") == 0)
    {
      JsonObject *d = field (field (iter, "func"), "value");

      k = expr_kind (c, s, d);
      if (k.tag == K_PROXY && g_str_equal (k.detail, "dict"))
        {
          Kind e = make (K_ELEMENT, "dict", LINE (iter));

          e.owner = path_of (d);
          return e;
        }
    }
  return unknown_kind;
}

static void
bind_params (Checker    *c,
             Scope      *fn,
             JsonObject *call_args[],
             guint       n_args,
             Scope      *caller)
{
  JsonObject *args = field (fn->node, "args");
  JsonArray *only = list (args, "posonlyargs");
  JsonArray *params = list (args, "args");
  guint skip = fn->klass != NULL ? 1 : 0;   /* self */
  guint n_params = list_len (only) + list_len (params);

  for (guint i = 0; i < n_args && i + skip < n_params; i++)
    {
      guint at = i + skip;
      const char *p = at < list_len (only)
        ? str (item (only, at), "arg")
        : str (item (params, at - list_len (only)), "arg");
      Kind k = expr_kind (c, caller, call_args[i]);

      if (p != NULL && k.tag != K_UNKNOWN && k.tag != K_ELEMENT)
        bind (c, fn, p, 0, k);
    }
}

/* The elements of a tuple or list display, for args=(...). */
static guint
elements (JsonObject  *e,
          JsonObject **out,
          guint        max)
{
  JsonArray *elts = list (e, "elts");
  guint n = 0;

  if (!is (e, "Tuple") && !is (e, "List"))
    return 0;
  for (; n < max && n < list_len (elts); n++)
    out[n] = item (elts, n);
  return n;
}

static Scope *
function_of (Checker    *c,
             Scope      *s,
             JsonObject *e)
{
  Kind k = expr_kind (c, s, e);

  return k.tag == K_FUNCTION ? g_hash_table_lookup (c->by_name, k.detail) : NULL;
}

static gboolean
is_partial (Checker    *c,
            Scope      *s,
            JsonObject *e)
{
  g_autofree char *q = is (e, "Call") ? qualify (c, s, field (e, "func")) : NULL;

  return q != NULL && g_str_equal (q, "functools.partial");
}

/* Binds the parameters of a function the file calls, starts or submits. */
static void
bind_call (Checker    *c,
           Scope      *s,
           JsonObject *n,
           int         in_loop,
           gpointer    data)
{
  JsonObject *func = field (n, "func");
  JsonObject *args[16];
  guint n_args = 0;
  Scope *fn;
  Kind callee;
  const char *attr;

  if (!is (n, "Call"))
    return;
  fn = function_of (c, s, func);
  if (fn != NULL)
    {
      JsonArray *a = list (n, "args");

      for (; n_args < G_N_ELEMENTS (args) && n_args < list_len (a); n_args++)
        args[n_args] = item (a, n_args);
      bind_params (c, fn, args, n_args, s);
      return;
    }
  if (is_partial (c, s, n) && (fn = function_of (c, s, arg (n, 0))) != NULL)
    {
      JsonArray *a = list (n, "args");

      for (; n_args + 1 < list_len (a) && n_args < G_N_ELEMENTS (args); n_args++)
        args[n_args] = item (a, n_args + 1);
      bind_params (c, fn, args, n_args, s);
      return;
    }
  callee = expr_kind (c, s, func);
  if (callee.tag == K_INSTANCE)       /* a class: its __init__ gets them */
    {
      g_autofree char *init = g_strconcat (callee.detail, ".__init__", NULL);

      fn = g_hash_table_lookup (c->by_name, init);
      if (fn != NULL)
        {
          JsonArray *a = list (n, "args");

          for (; n_args < G_N_ELEMENTS (args) && n_args < list_len (a); n_args++)
            args[n_args] = item (a, n_args);
          bind_params (c, fn, args, n_args, s);
        }
      return;
    }
  callee = call_kind (c, s, n);
  if (callee.tag == K_PROCESS &&
      (fn = function_of (c, s, arg_or_keyword (n, 1, "target"))) != NULL)
    {
      n_args = elements (arg_or_keyword (n, 3, "args"), args, G_N_ELEMENTS (args));
      bind_params (c, fn, args, n_args, s);
    }
  if (callee.tag == K_POOL)
    {
      gboolean pool = g_str_equal (callee.detail, "pool");

      fn = function_of (c, s, arg_or_keyword (n, pool ? 1 : 1, "initializer"));
      if (fn != NULL)
        {
          n_args = elements (arg_or_keyword (n, 2, "initargs"), args, G_N_ELEMENTS (args));
          bind_params (c, fn, args, n_args, s);
        }
    }
  if (!is (func, "Attribute") || expr_kind (c, s, field (func, "value")).tag != K_POOL)
    return;
  attr = str (func, "attr");
  fn = function_of (c, s, arg (n, 0));
  if (fn == NULL)
    return;
  if (g_str_equal (attr, "submit"))
    {
      JsonArray *a = list (n, "args");

      for (; n_args + 1 < list_len (a) && n_args < G_N_ELEMENTS (args); n_args++)
        args[n_args] = item (a, n_args + 1);
    }
  else if (g_str_equal (attr, "apply") || g_str_equal (attr, "apply_async"))
    n_args = elements (arg_or_keyword (n, 1, "args"), args, G_N_ELEMENTS (args));
  else if (g_str_has_prefix (attr, "starmap"))
    {
      JsonObject *it = arg (n, 1);
      JsonObject *one = is (it, "ListComp") || is (it, "GeneratorExp")
        ? field (it, "elt") : item (list (it, "elts"), 0);

      n_args = elements (one, args, G_N_ELEMENTS (args));
    }
  bind_params (c, fn, args, n_args, s);
}

static void
bind_stmt (Checker    *c,
           Scope      *s,
           JsonObject *stmt,
           Walk       *w)
{
  visit_stmt (c, s, stmt, 0, bind_call, NULL);

  if (is (stmt, "Assign"))
    {
      JsonArray *targets = list (stmt, "targets");
      JsonObject *value = field (stmt, "value");
      Kind k = expr_kind (c, s, value);

      for (guint i = 0; i < list_len (targets); i++)
        bind_target (c, s, item (targets, i), value, k);
    }
  else if (is (stmt, "AnnAssign") && field (stmt, "value") != NULL)
    bind_target (c, s, field (stmt, "target"), field (stmt, "value"),
                 expr_kind (c, s, field (stmt, "value")));
  else if (is (stmt, "AugAssign") && is (field (stmt, "target"), "Name"))
    bind (c, s, name_of (field (stmt, "target")), LINE (stmt), unknown_kind);
  else if (is (stmt, "With") || is (stmt, "AsyncWith"))
    {
      JsonArray *items = list (stmt, "items");

      for (guint i = 0; i < list_len (items); i++)
        {
          JsonObject *it = item (items, i);
          JsonObject *ctx = field (it, "context_expr");
          Kind k = expr_kind (c, s, ctx);

          /* a manager entered by with lives until the block ends */
          if (k.tag == K_MANAGER && is (ctx, "Call"))
            k.end = END_LINE (stmt);
          if (field (it, "optional_vars") != NULL)
            bind_target (c, s, field (it, "optional_vars"), NULL, k);
        }
    }
  else if (is (stmt, "For") || is (stmt, "AsyncFor"))
    {
      JsonObject *target = field (stmt, "target");
      JsonObject *iter = field (stmt, "iter");
      Kind k = element_kind (c, s, iter);

      if (is (target, "Tuple") && list_len (list (target, "elts")) == 2 &&
          is (iter, "Call") && g_strcmp0 (str (field (iter, "func"), "attr"), "items") == 0)
        {
          JsonObject *d = field (field (iter, "func"), "value");
          Kind dk = expr_kind (c, s, d);

          bind_target (c, s, item (list (target, "elts"), 0), NULL, unknown_kind);
          if (dk.tag == K_PROXY && g_str_equal (dk.detail, "dict"))
            {
              k = make (K_ELEMENT, "dict", LINE (iter));
              k.owner = path_of (d);
            }
          bind_target (c, s, item (list (target, "elts"), 1), NULL, k);
        }
      else
        bind_target (c, s, target, NULL, k);
    }
  else if (is (stmt, "Expr"))
    {
      /* m.shutdown(): the manager and its proxies end here */
      JsonObject *call = field (stmt, "value");
      JsonObject *func = field (call, "func");

      if (is (call, "Call") && is (func, "Attribute") &&
          g_strcmp0 (str (func, "attr"), "shutdown") == 0 &&
          is (field (func, "value"), "Name"))
        {
          const char *m = name_of (field (func, "value"));
          Kind k = lookup (c, s, m, LINE (stmt));

          if (k.tag == K_MANAGER)
            {
              k.end = LINE (stmt);
              k.line = LINE (stmt);
              bind (c, s, m, LINE (stmt), k);
            }
        }
      else if (is (call, "Call"))
        {
          g_autofree char *q = canonical (qualify (c, s, func));

          if (q != NULL && g_str_equal (q, "multiprocessing.set_start_method"))
            c->start = start_of (call);
        }
    }
}

/* ---- pass 3: sites -------------------------------------------------------- */

static const char *const pool_methods[] = {
  "submit", "map", "map_async", "imap", "imap_unordered", "starmap",
  "starmap_async", "apply", "apply_async", NULL
};

static void
add_args (GPtrArray  *out,
          JsonArray  *a,
          guint       from)
{
  for (guint i = from; i < list_len (a); i++)
    g_ptr_array_add (out, item (a, i));
}

static void
add_keyword_values (GPtrArray  *out,
                    JsonObject *call,
                    const char *const *skip)
{
  JsonArray *kws = list (call, "keywords");

  for (guint i = 0; i < list_len (kws); i++)
    if (!name_in (str (item (kws, i), "arg"), skip))
      g_ptr_array_add (out, field (item (kws, i), "value"));
}

static void
site_free (gpointer data)
{
  Site *site = data;

  g_ptr_array_unref (site->args);
  g_free (site);
}

/* A partial(f, ...) task: f is the task, the rest travels with it. */
static void
unwrap_partial (Checker *c,
                Site    *site)
{
  while (is_partial (c, site->scope, site->func))
    {
      JsonObject *p = site->func;

      site->func = arg (p, 0);
      add_args (site->args, list (p, "args"), 1);
      add_keyword_values (site->args, p, (const char *const[]) { NULL });
    }
}

static void
find_site (Checker    *c,
           Scope      *s,
           JsonObject *n,
           int         in_loop,
           gpointer    data)
{
  Walk *w = data;
  JsonObject *func = field (n, "func");
  Site *site;
  Kind k;

  if (!is (n, "Call"))
    return;
  k = call_kind (c, s, n);
  if (k.tag == K_PROCESS)
    {
      site = g_new0 (Site, 1);
      site->func = arg_or_keyword (n, 1, "target");
      site->args = g_ptr_array_new ();
      g_ptr_array_add (site->args, arg_or_keyword (n, 3, "args"));
      g_ptr_array_add (site->args, arg_or_keyword (n, 4, "kwargs"));
      g_ptr_array_remove_fast (site->args, NULL);
      g_ptr_array_remove_fast (site->args, NULL);
      site->start = k.start != NULL ? k.start : c->start;
      site->via = "Process";
    }
  else if (is (func, "Attribute") && name_in (str (func, "attr"), pool_methods) &&
           (k = expr_kind (c, s, field (func, "value"))).tag == K_POOL)
    {
      const char *attr = str (func, "attr");
      static const char *const apply_kw[] = { "args", "kwds", NULL };

      site = g_new0 (Site, 1);
      site->is_pool = TRUE;
      site->func = arg_or_keyword (n, 0, "fn");
      if (site->func == NULL)
        site->func = keyword (n, "func");
      site->args = g_ptr_array_new ();
      add_args (site->args, list (n, "args"), 1);
      if (g_str_has_prefix (attr, "apply"))
        {
          g_ptr_array_add (site->args, keyword (n, "args"));
          g_ptr_array_add (site->args, keyword (n, "kwds"));
          g_ptr_array_remove_fast (site->args, NULL);
          g_ptr_array_remove_fast (site->args, NULL);
        }
      else if (g_str_equal (attr, "submit"))
        add_keyword_values (site->args, n, (const char *const[]) { "fn", NULL });
      else
        add_keyword_values (site->args, n, apply_kw);
      site->start = k.start != NULL ? k.start : c->start;
      site->via = attr;
    }
  else
    return;
  site->call = n;
  site->scope = s;
  site->in_loop = in_loop > 0 || w->loops > 0;
  unwrap_partial (c, site);
  g_ptr_array_add (c->sites, site);
}

static void
find_sites_stmt (Checker    *c,
                 Scope      *s,
                 JsonObject *stmt,
                 Walk       *w)
{
  visit_stmt (c, s, stmt, 0, find_site, w);
}

/* Calls from @fn to other functions of the file: they run where @fn runs. */
typedef struct {
  Scope     *from;
  GPtrArray *callees;
} Callees;

static void
find_callee (Checker    *c,
             Scope      *s,
             JsonObject *n,
             int         in_loop,
             gpointer    data)
{
  Callees *out = data;
  Scope *fn;

  if (is (n, "Call") && (fn = function_of (c, s, field (n, "func"))) != NULL &&
      fn != out->from)
    g_ptr_array_add (out->callees, fn);
}

static void
find_callees_stmt (Checker    *c,
                   Scope      *s,
                   JsonObject *stmt,
                   Walk       *w)
{
  visit_stmt (c, s, stmt, 0, find_callee, w->data);
}

static GPtrArray *
callees_of (Checker *c,
            Scope   *fn)
{
  Callees out = { fn, g_ptr_array_new () };

  walk_scope (c, fn, find_callees_stmt, &out);
  return out.callees;
}

/* How many processes run @fn at once, from its sites. */
static void
mark_workers (Checker *c)
{
  g_autoptr(GHashTable) process_sites = g_hash_table_new (NULL, NULL);
  gboolean changed = TRUE;

  for (guint i = 0; i < c->sites->len; i++)
    {
      Site *site = g_ptr_array_index (c->sites, i);
      Scope *fn = function_of (c, site->scope, site->func);
      guint n;

      if (fn == NULL)
        continue;
      if (site->is_pool)
        {
          Kind pool = expr_kind (c, site->scope,
                                 field (field (site->call, "func"), "value"));

          fn->runs_in_pool = TRUE;
          fn->pool_kind = pool.detail;
          fn->runs_in_children = TRUE;
          continue;
        }
      n = GPOINTER_TO_UINT (g_hash_table_lookup (process_sites, fn)) + 1;
      g_hash_table_insert (process_sites, fn, GUINT_TO_POINTER (n));
      if (site->in_loop || n > 1)
        fn->runs_in_children = TRUE;
    }
  /* what a worker calls runs there too */
  while (changed)
    {
      changed = FALSE;
      for (guint i = 0; i < c->scopes->len; i++)
        {
          Scope *fn = g_ptr_array_index (c->scopes, i);
          g_autoptr(GPtrArray) callees = NULL;

          if (!fn->runs_in_pool && !fn->runs_in_children)
            continue;
          callees = callees_of (c, fn);
          for (guint j = 0; j < callees->len; j++)
            {
              Scope *callee = g_ptr_array_index (callees, j);

              if ((fn->runs_in_pool && !callee->runs_in_pool) ||
                  (fn->runs_in_children && !callee->runs_in_children))
                {
                  callee->runs_in_pool |= fn->runs_in_pool;
                  if (callee->pool_kind == NULL)
                    callee->pool_kind = fn->pool_kind;
                  callee->runs_in_children |= fn->runs_in_children;
                  changed = TRUE;
                }
            }
        }
    }
}

/* ---- rule: missing-main-guard --------------------------------------------- */

typedef struct {
  JsonObject *call;
  const char *what;
} Start;

/* Does @n start processes, and how? NULL when not. */
static const char *
starts_processes (Checker    *c,
                  Scope      *s,
                  JsonObject *n)
{
  JsonObject *func = field (n, "func");
  g_autofree char *q = NULL;
  Kind k;
  Scope *fn;

  if (!is (n, "Call"))
    return NULL;
  k = call_kind (c, s, n);
  if (k.tag == K_POOL)
    return g_str_equal (k.detail, "pool") ? "starts a process pool"
                                          : "starts a process pool executor";
  if (k.tag == K_MANAGER && g_str_equal (k.detail, "Manager"))
    return "starts a manager's server process";
  if (is (func, "Attribute") && g_strcmp0 (str (func, "attr"), "start") == 0)
    {
      Kind owner = expr_kind (c, s, field (func, "value"));

      if (owner.tag == K_PROCESS)
        return "starts a process";
      if (owner.tag == K_MANAGER)
        return "starts a manager's server process";
    }
  q = canonical (qualify (c, s, func));
  if (q != NULL && g_str_equal (q, "multiprocessing.set_start_method"))
    return "sets the start method";
  fn = function_of (c, s, func);
  if (fn != NULL && fn->starts)
    return "calls a function that starts processes";
  return NULL;
}

static void
find_start (Checker    *c,
            Scope      *s,
            JsonObject *n,
            int         in_loop,
            gpointer    data)
{
  Start *found = data;
  const char *what;

  if (found->call == NULL && (what = starts_processes (c, s, n)) != NULL)
    {
      found->call = n;
      found->what = what;
    }
}

static void
mark_starts_stmt (Checker    *c,
                  Scope      *s,
                  JsonObject *stmt,
                  Walk       *w)
{
  Start found = { NULL, NULL };

  visit_stmt (c, s, stmt, 0, find_start, &found);
  if (found.call != NULL && !s->starts)
    {
      s->starts = TRUE;
      *(gboolean *) w->data = TRUE;
    }
}

static void
guard_stmt (Checker    *c,
            Scope      *s,
            JsonObject *stmt,
            Walk       *w)
{
  Start found = { NULL, NULL };

  if (w->guarded)
    return;
  visit_stmt (c, s, stmt, 0, find_start, &found);
  if (found.call == NULL)
    return;
  if (g_str_equal (found.what, "calls a function that starts processes"))
    {
      JsonObject *func = field (found.call, "func");
      const char *n = name_of (func) != NULL ? name_of (func) : str (func, "attr");

      report (c, "missing-main-guard", found.call,
              "%s() starts processes and is called at import time: under "
              "spawn and forkserver (macOS, Windows; Linux from Python 3.14) "
              "each child imports this file again and runs it again",
              n != NULL ? n : "this function");
      return;
    }
  report (c, "missing-main-guard", found.call,
          "this call %s at import time: under spawn and forkserver "
          "(macOS, Windows; Linux from Python 3.14) each child imports this "
          "file again and fails with 'An attempt has been made to start a "
          "new process before the current process has finished its "
          "bootstrapping phase'", found.what);
}

static void
rule_missing_main_guard (Checker *c)
{
  gboolean changed = TRUE;

  while (changed)
    {
      changed = FALSE;
      for (guint i = 1; i < c->scopes->len; i++)
        {
          Scope *s = g_ptr_array_index (c->scopes, i);

          if (s->is_function && !s->starts)
            walk_scope (c, s, mark_starts_stmt, &changed);
        }
    }
  walk_scope (c, module_scope (c), guard_stmt, NULL);
}

/* ---- rules on what a task carries ----------------------------------------- */

typedef enum {
  CARRY_PROCESS,   /* Process args: only what spawn must pickle fails */
  CARRY_TASK,      /* a pool or executor task */
  CARRY_STORE,     /* stored into a manager container or a queue */
} Carry;

static gboolean
spawns (const char *start)
{
  return start != NULL && (g_str_equal (start, "spawn") || g_str_equal (start, "forkserver"));
}

static const char *
carry_words (Carry how)
{
  switch (how)
    {
    case CARRY_PROCESS: return "a Process started with spawn or forkserver";
    case CARRY_TASK: return "a pool task";
    case CARRY_STORE: return "a manager container or a queue";
    default: g_assert_not_reached ();
    }
}

/* A finding for one value carried to another process, by its kind. */
static void
check_carried_kind (Checker    *c,
                    JsonObject *e,
                    Kind        k,
                    const char *what,
                    Carry       how)
{
  if ((k.tag == K_SYNC || k.tag == K_SHARED || k.tag == K_RAW) && how != CARRY_PROCESS)
    report (c, "inheritance-only", e,
            "%s (a multiprocessing %s) is sent to %s: pickling it raises "
            "'%s objects should only be shared between processes through "
            "inheritance'", what, k.detail, carry_words (how),
            k.tag == K_SYNC ? k.detail : "Synchronized");
  else if (k.tag == K_MANAGER)
    report (c, "manager-as-argument", e,
            "%s, a Manager, is sent to %s: pickling it refuses its auth "
            "key ('Pickling an AuthenticationString object is disallowed')",
            what, carry_words (how));
  else if (k.tag == K_HANDLE)
    report (c, "unserializable-handle", e,
            "%s (from %s()) is sent to %s: a live OS handle cannot be "
            "pickled ('cannot pickle')", what, k.detail, carry_words (how));
}

static void
check_carried (Checker    *c,
               Scope      *s,
               JsonObject *e,
               Carry       how)
{
  Kind k;
  g_autofree char *q = NULL;

  if (e == NULL)
    return;
  if (is (e, "Tuple") || is (e, "List") || is (e, "Set"))
    {
      JsonArray *elts = list (e, "elts");

      for (guint i = 0; i < list_len (elts); i++)
        check_carried (c, s, item (elts, i), how);
      return;
    }
  if (is (e, "Dict"))
    {
      JsonArray *values = list (e, "values");

      for (guint i = 0; i < list_len (values); i++)
        check_carried (c, s, item (values, i), how);
      return;
    }
  if (is (e, "Starred"))
    {
      check_carried (c, s, field (e, "value"), how);
      return;
    }
  if (is (e, "ListComp") || is (e, "GeneratorExp") || is (e, "SetComp"))
    {
      check_carried (c, s, field (e, "elt"), how);
      return;
    }
  if (is (e, "BinOp"))
    {
      check_carried (c, s, field (e, "left"), how);
      check_carried (c, s, field (e, "right"), how);
      return;
    }
  if (is (e, "Call"))
    {
      q = qualify (c, s, field (e, "func"));
      if (q == NULL && name_of (field (e, "func")) != NULL)
        q = g_strdup (name_of (field (e, "func")));
      if (q != NULL && (g_str_equal (q, "functools.partial") || g_str_equal (q, "zip") ||
                        g_str_equal (q, "itertools.repeat") || g_str_equal (q, "tuple") ||
                        g_str_equal (q, "list") || g_str_equal (q, "itertools.zip_longest")))
        {
          JsonArray *a = list (e, "args");

          for (guint i = 0; i < list_len (a); i++)
            check_carried (c, s, item (a, i), how);
          return;
        }
    }
  k = expr_kind (c, s, e);
  if (k.tag == K_INSTANCE)
    {
      Scope *cls = g_hash_table_lookup (c->by_name, k.detail);
      GHashTableIter iter;
      gpointer key, value;

      if (cls == NULL || cls->custom_pickle)
        return;
      g_hash_table_iter_init (&iter, cls->attrs);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          g_autofree char *what = g_strdup_printf ("a %s holding .%s", cls->name,
                                                   (const char *) key);
          check_carried_kind (c, e, *(Kind *) value, what, how);
        }
      return;
    }
  {
    g_autofree char *text = NULL;
    const char *p = path_of (e);

    text = p != NULL ? g_strdup (p) : g_strdup ("this value");
    check_carried_kind (c, e, k, text, how);
  }
}

static void
rule_carried_by_sites (Checker *c)
{
  for (guint i = 0; i < c->sites->len; i++)
    {
      Site *site = g_ptr_array_index (c->sites, i);
      Carry how = site->is_pool ? CARRY_TASK : CARRY_PROCESS;

      if (!site->is_pool && !spawns (site->start))
        continue;
      for (guint j = 0; j < site->args->len; j++)
        check_carried (c, site->scope, g_ptr_array_index (site->args, j), how);
    }
}

/* ---- rule: local-function -------------------------------------------------- */

static void
rule_local_function (Checker *c)
{
  for (guint i = 0; i < c->sites->len; i++)
    {
      Site *site = g_ptr_array_index (c->sites, i);
      Kind k = expr_kind (c, site->scope, site->func);
      Scope *fn;
      const char *how = site->is_pool ? "a pool task" : "a Process target under spawn";

      if (!site->is_pool && !spawns (site->start))
        continue;
      if (k.tag == K_LAMBDA)
        {
          report (c, "local-function", site->func,
                  "a lambda is sent as %s: pickling stores functions by "
                  "their importable name, and a lambda has none", how);
          continue;
        }
      if (k.tag != K_FUNCTION ||
          (fn = g_hash_table_lookup (c->by_name, k.detail)) == NULL)
        continue;
      if (fn->guarded && fn->parent != NULL && fn->parent->parent == NULL)
        report (c, "local-function", site->func,
                "%s() is defined under if __name__ == \"__main__\" and sent "
                "as %s: under spawn and forkserver (macOS, Windows; Linux "
                "from Python 3.14) a worker imports this file without "
                "running that block, and cannot find it ('Can't get "
                "attribute')", str (fn->node, "name"), how);
      else if (fn->parent != NULL && fn->parent->is_function)
        report (c, "local-function", site->func,
                "%s() is defined inside %s() and sent as %s: pickling "
                "stores functions by their importable name, and a nested "
                "function has none ('Can't pickle local object')",
                str (fn->node, "name"), str (fn->parent->node, "name"), how);
      else if (fn->klass != NULL && fn->klass->parent != NULL &&
               fn->klass->parent->is_function)
        report (c, "local-function", site->func,
                "%s is a method of class %s, defined inside %s(), sent as "
                "%s: the class has no importable name ('Can't pickle local "
                "object')", str (fn->node, "name"), str (fn->klass->node, "name"),
                str (fn->klass->parent->node, "name"), how);
    }
}

/* ---- rule: closed-manager -------------------------------------------------- */

typedef struct {
  GHashTable *seen;    /* names already reported in this scope */
} Closed;

static void
find_closed_use (Checker    *c,
                 Scope      *s,
                 JsonObject *n,
                 int         in_loop,
                 gpointer    data)
{
  Closed *closed = data;
  const char *name = name_of (n);
  Kind k;

  if (name == NULL || g_hash_table_contains (closed->seen, name))
    return;
  k = lookup (c, s, name, LINE (n));
  if (k.tag == K_PROXY && k.owner != NULL)
    {
      Kind m = lookup (c, s, k.owner, LINE (n));

      if (m.tag == K_MANAGER && m.end > 0 && m.end > k.end)
        k.end = m.end;
    }
  if (k.tag != K_PROXY || k.end <= 0 || LINE (n) <= k.end)
    return;
  g_hash_table_add (closed->seen, (gpointer) name);
  report (c, "closed-manager", n,
          "%s is a proxy of %s, whose manager ended on line %d: its server "
          "process is gone and every use fails ('ForkAwareLocal' object has "
          "no attribute 'connection')", name,
          k.owner != NULL ? k.owner : "a manager", k.end);
}

static void
closed_stmt (Checker    *c,
             Scope      *s,
             JsonObject *stmt,
             Walk       *w)
{
  Closed *closed = w->data;
  JsonObject *value = field (stmt, "value");
  Kind k;

  /* a proxy returned out of its manager's with block */
  if (is (stmt, "Return") && s->is_function && value != NULL &&
      (k = expr_kind (c, s, value)).tag == K_PROXY && w->with != NULL &&
      k.end == END_LINE (w->with))
    {
      report (c, "closed-manager", value,
              "the proxy %s is returned from inside the with block of its "
              "manager: the manager shuts down as %s() returns, and the "
              "caller's first use fails", path_of (value) ? path_of (value) : "",
              str (s->node, "name"));
      return;
    }
  visit_stmt (c, s, stmt, 0, find_closed_use, closed);
}

static void
rule_closed_manager (Checker *c)
{
  for (guint i = 0; i < c->scopes->len; i++)
    {
      Closed closed = { g_hash_table_new (g_str_hash, g_str_equal) };

      walk_scope (c, g_ptr_array_index (c->scopes, i), closed_stmt, &closed);
      g_hash_table_unref (closed.seen);
    }
}

/* ---- rule: mutate-a-copy ---------------------------------------------------- */

static const char *const mutators[] = {
  "append", "extend", "insert", "remove", "pop", "clear", "update",
  "setdefault", "add", "discard", "sort", "reverse", "popitem", NULL
};

static const char *const writers[] = {
  "append", "extend", "insert", "update", "setdefault", "__setitem__", "put", NULL
};

typedef struct {
  const char *name;     /* the local copy */
  const char *proxy;    /* where it was read from */
  JsonObject *where;    /* the change */
  int         read;     /* the read's line */
} Change;

typedef struct {
  GArray *changes;      /* Change */
  GPtrArray *writes;    /* JsonObject *: expressions written into proxies, with proxy */
  GPtrArray *write_proxies;
} Copies;

static gboolean mentions_child (JsonObject *e, gpointer name);

static gboolean
mentions (JsonObject *e,
          const char *name)
{
  if (e == NULL)
    return FALSE;
  if (g_strcmp0 (name_of (e), name) == 0)
    return TRUE;
  return any_child (e, NULL, mentions_child, (gpointer) name);
}

static gboolean
mentions_child (JsonObject *e,
                gpointer    name)
{
  return mentions (e, name);
}

/* The object changed in place by @target (x.a = .., x[k] = ..): x. */
static JsonObject *
changed_object (JsonObject *target)
{
  if (is (target, "Attribute") || is (target, "Subscript"))
    return field (target, "value");
  return NULL;
}

static void
note_change (Checker    *c,
             Scope      *s,
             Copies     *copies,
             JsonObject *obj,
             JsonObject *where)
{
  Kind k = expr_kind (c, s, obj);
  Change change;

  if (k.tag != K_ELEMENT || k.owner == NULL)
    return;
  if (!is (obj, "Name"))
    {
      report (c, "mutate-a-copy", where,
              "this changes a copy read from the proxy %s: the manager "
              "keeps the old value, and the change is lost without an "
              "error", k.owner);
      return;
    }
  change.name = g_intern_string (name_of (obj));
  change.proxy = k.owner;
  change.where = where;
  change.read = k.line;
  g_array_append_val (copies->changes, change);
}

static void
copies_stmt (Checker    *c,
             Scope      *s,
             JsonObject *stmt,
             Walk       *w)
{
  Copies *copies = w->data;
  JsonArray *targets = list (stmt, "targets");
  JsonObject *value = field (stmt, "value");

  if (is (stmt, "Assign") || is (stmt, "AugAssign") || is (stmt, "AnnAssign"))
    {
      guint n = is (stmt, "Assign") ? list_len (targets) : 1;

      for (guint i = 0; i < n; i++)
        {
          JsonObject *t = is (stmt, "Assign") ? item (targets, i) : field (stmt, "target");
          JsonObject *obj = changed_object (t);
          Kind pk = expr_kind (c, s, obj);

          /* proxy[k] = v, ns.attr = v: written into the proxy */
          if (pk.tag == K_PROXY)
            {
              g_ptr_array_add (copies->writes, value);
              g_ptr_array_add (copies->write_proxies, (gpointer) path_of (obj));
              continue;
            }
          if (obj != NULL)
            note_change (c, s, copies, obj, t);
        }
    }
  if (is (stmt, "Expr") && is (value, "Call") && is (field (value, "func"), "Attribute"))
    {
      JsonObject *func = field (value, "func");
      JsonObject *obj = field (func, "value");
      Kind pk = expr_kind (c, s, obj);

      if (pk.tag == K_PROXY && name_in (str (func, "attr"), writers))
        {
          g_ptr_array_add (copies->writes, value);
          g_ptr_array_add (copies->write_proxies, (gpointer) path_of (obj));
        }
      else if (name_in (str (func, "attr"), mutators))
        note_change (c, s, copies, obj, value);
    }
}

static void
rule_mutate_a_copy (Checker *c)
{
  for (guint i = 0; i < c->scopes->len; i++)
    {
      Scope *s = g_ptr_array_index (c->scopes, i);
      Copies copies = { g_array_new (FALSE, FALSE, sizeof (Change)),
                        g_ptr_array_new (), g_ptr_array_new () };
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      walk_scope (c, s, copies_stmt, &copies);
      for (guint j = 0; j < copies.changes->len; j++)
        {
          Change *ch = &g_array_index (copies.changes, Change, j);
          gboolean written = FALSE;

          for (guint k = 0; k < copies.writes->len && !written; k++)
            {
              JsonObject *w = g_ptr_array_index (copies.writes, k);
              Kind then;

              if (g_strcmp0 (g_ptr_array_index (copies.write_proxies, k), ch->proxy) != 0 ||
                  !mentions (w, ch->name))
                continue;
              /* the same copy, not a new object under the same name */
              then = lookup (c, s, ch->name, LINE (w));
              written = then.tag == K_ELEMENT && then.line == ch->read;
            }
          if (written || g_hash_table_contains (seen, ch->name))
            continue;
          g_hash_table_add (seen, (gpointer) ch->name);
          report (c, "mutate-a-copy", ch->where,
                  "%s is a copy read from the proxy %s (line %d): this "
                  "change stays in this process, %s is never written back, "
                  "and the manager keeps the old value", ch->name, ch->proxy,
                  ch->read, ch->name);
        }
      g_array_unref (copies.changes);
      g_ptr_array_unref (copies.writes);
      g_ptr_array_unref (copies.write_proxies);
    }
}

/* ---- rules: lost-update, lock-false ----------------------------------------- */

static gboolean
is_lock_expr (Checker    *c,
              Scope      *s,
              JsonObject *e)
{
  Kind k;
  JsonObject *func = field (e, "func");

  /* v.get_lock() is a lock, unless v has none (lock-false says so) */
  if (is (e, "Call") && is (func, "Attribute") &&
      g_strcmp0 (str (func, "attr"), "get_lock") == 0)
    return expr_kind (c, s, field (func, "value")).tag != K_RAW;
  k = expr_kind (c, s, e);
  switch (k.tag)
    {
    case K_SYNC:
    case K_PROXY:
      return name_in (k.detail, lock_types);
    case K_UNKNOWN:
      /* something this file does not show: give it the benefit of the doubt */
      return !is (e, "Call");
    case K_SHARED:
      return TRUE;     /* with v: takes v's own lock */
    default:
      return FALSE;
    }
}

/* The shared object whose element or value @target writes, or NULL. */
static JsonObject *
shared_written (JsonObject *target)
{
  if (is (target, "Attribute") && g_strcmp0 (str (target, "attr"), "value") == 0)
    return field (target, "value");
  if (is (target, "Subscript"))
    return field (target, "value");
  if (is (target, "Attribute"))
    return field (target, "value");
  return NULL;
}

/* Does @value read what @target writes? (v.value = v.value + 1) */
static gboolean reads_back_child (JsonObject *value, gpointer target);

static gboolean
reads_back (JsonObject *value,
            JsonObject *target)
{
  const char *whole = path_of (target);
  const char *obj = path_of (field (target, "value"));

  if (value == NULL)
    return FALSE;
  if (whole != NULL && path_of (value) == whole)
    return TRUE;
  if (is (target, "Subscript") && is (value, "Subscript") && obj != NULL &&
      path_of (field (value, "value")) == obj)
    return TRUE;
  return any_child (value, NULL, reads_back_child, target);
}

static gboolean
reads_back_child (JsonObject *value,
                  gpointer    target)
{
  return reads_back (value, target);
}

static void
check_update (Checker    *c,
              Scope      *s,
              JsonObject *target,
              gboolean    modify,
              Walk       *w)
{
  JsonObject *obj = shared_written (target);
  const char *name = path_of (obj);
  Kind k = expr_kind (c, s, obj);

  /* a plain store is no race: processes often fill slots of their own */
  if (k.tag == K_RAW && modify && w->locks == 0)
    report (c, "lock-false", target,
            "%s was made without a lock (%s, line %d), and %s() updates "
            "it in several processes at once: a read, then a write, with "
            "nothing to stop another process in between",
            name != NULL ? name : "this value", k.detail, k.line,
            str (s->node, "name"));
  else if (modify && w->locks == 0 &&
           (k.tag == K_SHARED ||
            (k.tag == K_PROXY && name_in (k.detail, (const char *const[]) {
              "Value", "Array", "list", "dict", "Namespace", NULL }))))
    report (c, "lost-update", target,
            "%s() runs in several processes at once and updates %s with a "
            "read, then a write, holding no lock around both: another "
            "process can write in between, and its update is lost",
            str (s->node, "name"), name != NULL ? name : "this value");
}

static void
find_lock_misuse (Checker    *c,
                  Scope      *s,
                  JsonObject *n,
                  int         in_loop,
                  gpointer    data)
{
  JsonObject *func = field (n, "func");
  Kind k;

  if (!is (n, "Call") || !is (func, "Attribute") ||
      !name_in (str (func, "attr"), (const char *const[]) {
        "get_lock", "acquire", "release", NULL }))
    return;
  k = expr_kind (c, s, field (func, "value"));
  if (k.tag == K_RAW)
    report (c, "lock-false", n,
            "%s was made without a lock (line %d): it has no %s() "
            "('AttributeError: 'c_int' object has no attribute')",
            path_of (field (func, "value")) ? path_of (field (func, "value")) : "this value",
            k.line, str (func, "attr"));
}

static void
updates_stmt (Checker    *c,
              Scope      *s,
              JsonObject *stmt,
              Walk       *w)
{
  JsonArray *items = list (stmt, "items");

  for (guint i = 0; i < list_len (items); i++)
    {
      JsonObject *ctx = field (item (items, i), "context_expr");
      Kind k = expr_kind (c, s, ctx);

      if (k.tag == K_RAW)
        report (c, "lock-false", ctx,
                "%s was made without a lock (line %d): a with on it fails "
                "('AttributeError: __enter__')",
                path_of (ctx) ? path_of (ctx) : "this value", k.line);
    }
  visit_stmt (c, s, stmt, 0, find_lock_misuse, NULL);
  if (!s->runs_in_children)
    return;
  if (is (stmt, "AugAssign"))
    check_update (c, s, field (stmt, "target"), TRUE, w);
  else if (is (stmt, "Assign"))
    {
      JsonArray *targets = list (stmt, "targets");

      for (guint i = 0; i < list_len (targets); i++)
        {
          JsonObject *t = item (targets, i);

          if (is (t, "Attribute") || is (t, "Subscript"))
            check_update (c, s, t, reads_back (field (stmt, "value"), t), w);
        }
    }
}

static void
rule_updates (Checker *c)
{
  walk_all (c, updates_stmt, NULL);
}

/* ---- rule: as-completed-order ----------------------------------------------- */

typedef struct {
  GHashTable *gathered;   /* list name -> line gathered in completion order */
  GHashTable *sorted;     /* list names sorted afterwards */
  GHashTable *indices;    /* loop index name -> what it counts (the iterable) */
} Order;

/* i in `for i in range(...)`, `for i, x in enumerate(...)`, and the same
 * in comprehensions: a position in some sequence. */
static void
note_index (Order      *o,
            JsonObject *target,
            JsonObject *iter)
{
  const char *fn = name_of (field (iter, "func"));
  JsonObject *first = is (target, "Tuple") ? item (list (target, "elts"), 0) : NULL;

  if (fn == NULL || !is (iter, "Call"))
    return;
  if (g_str_equal (fn, "range") && name_of (target) != NULL)
    g_hash_table_insert (o->indices, (gpointer) g_intern_string (name_of (target)), iter);
  else if (g_str_equal (fn, "enumerate") && name_of (first) != NULL)
    g_hash_table_insert (o->indices, (gpointer) g_intern_string (name_of (first)), iter);
}

static void
find_index (Checker    *c,
            Scope      *s,
            JsonObject *n,
            int         in_loop,
            gpointer    data)
{
  if (is (n, "comprehension"))
    note_index (data, field (n, "target"), field (n, "iter"));
}

/* Does @e carry its input along (a tuple, a dict, a list display)? */
static gboolean
carries_index (JsonObject *e)
{
  return is (e, "Tuple") || is (e, "Dict") || is (e, "List");
}

static gboolean
is_unordered (Checker    *c,
              Scope      *s,
              JsonObject *e)
{
  return expr_kind (c, s, e).tag == K_UNORDERED;
}

static void
gathered (Order      *o,
          const char *name,
          int         line,
          const char *how)
{
  if (name != NULL && !g_hash_table_contains (o->gathered, name))
    g_hash_table_insert (o->gathered, (gpointer) name, GINT_TO_POINTER (line));
  (void) how;
}

/* R.append(x) in the body of a for over an unordered iterable. */
static void
gather_appends (Checker    *c,
                Scope      *s,
                JsonArray  *body,
                Order      *o)
{
  for (guint i = 0; i < list_len (body); i++)
    {
      JsonObject *stmt = item (body, i);
      JsonObject *call = field (stmt, "value");
      JsonObject *func = field (call, "func");

      if (is (stmt, "Expr") && is (call, "Call") && is (func, "Attribute") &&
          g_strcmp0 (str (func, "attr"), "append") == 0 &&
          !carries_index (arg (call, 0)))
        gathered (o, path_of (field (func, "value")), LINE (stmt), "append");
      if (is (stmt, "If") || is (stmt, "Try") || is (stmt, "With"))
        gather_appends (c, s, list (stmt, "body"), o);
    }
}

static void
order_stmt (Checker    *c,
            Scope      *s,
            JsonObject *stmt,
            Walk       *w)
{
  Order *o = w->data;
  JsonObject *value = field (stmt, "value");
  JsonObject *func = field (value, "func");

  if ((is (stmt, "For") || is (stmt, "AsyncFor")) &&
      is_unordered (c, s, field (stmt, "iter")))
    gather_appends (c, s, list (stmt, "body"), o);
  if (is (stmt, "For") || is (stmt, "AsyncFor"))
    note_index (o, field (stmt, "target"), field (stmt, "iter"));
  visit_stmt (c, s, stmt, 0, find_index, o);
  if (is (stmt, "Assign") && list_len (list (stmt, "targets")) == 1)
    {
      const char *name = path_of (item (list (stmt, "targets"), 0));
      JsonObject *gen = item (list (value, "generators"), 0);

      if ((is (value, "ListComp") && is_unordered (c, s, field (gen, "iter")) &&
           !carries_index (field (value, "elt"))) ||
          (is (value, "Call") && g_strcmp0 (name_of (func), "list") == 0 &&
           expr_kind (c, s, arg (value, 0)).tag == K_UNORDERED &&
           g_strcmp0 (expr_kind (c, s, arg (value, 0)).detail, "imap_unordered") == 0))
        gathered (o, name, LINE (stmt), "list");
      if (is (value, "Call") && g_strcmp0 (name_of (func), "sorted") == 0)
        g_hash_table_add (o->sorted, (gpointer) name);
    }
  /* apply_async(..., callback=R.append) */
  if (is (stmt, "Expr") || is (stmt, "Assign"))
    {
      JsonObject *cb = is (value, "Call") ? keyword (value, "callback") : NULL;

      if (cb != NULL && is (cb, "Attribute") && g_strcmp0 (str (cb, "attr"), "append") == 0 &&
          is (func, "Attribute") && g_strcmp0 (str (func, "attr"), "apply_async") == 0)
        gathered (o, path_of (field (cb, "value")), LINE (stmt), "callback");
    }
  if (is (stmt, "Expr") && is (value, "Call") && is (func, "Attribute") &&
      g_strcmp0 (str (func, "attr"), "sort") == 0)
    g_hash_table_add (o->sorted, (gpointer) path_of (field (func, "value")));
}

static void
find_positional_use (Checker    *c,
                     Scope      *s,
                     JsonObject *n,
                     int         in_loop,
                     gpointer    data)
{
  Order *o = data;
  const char *name = NULL;
  int line;

  JsonObject *slice = field (n, "slice");

  /* x[i] counts when i is a position in something other than x itself
   * (for i in range(len(x)) walks x in its own order: no mix-up) */
  if (is (n, "Subscript") && !is_constant (slice, NULL) && !is (slice, "Slice"))
    {
      const char *i = name_of (slice);
      JsonObject *counted = i != NULL ? g_hash_table_lookup (o->indices, i) : NULL;

      name = path_of (field (n, "value"));
      if (i != NULL && (counted == NULL || (name != NULL && mentions (counted, name))))
        name = NULL;
    }
  else if (is (n, "Call") && g_strcmp0 (name_of (field (n, "func")), "zip") == 0 &&
           list_len (list (n, "args")) >= 2)
    {
      JsonArray *a = list (n, "args");

      for (guint i = 0; i < list_len (a) && name == NULL; i++)
        {
          const char *p = path_of (item (a, i));

          if (p != NULL && g_hash_table_contains (o->gathered, p))
            name = p;
        }
    }
  else if (is (n, "Compare") && list_len (list (n, "comparators")) == 1 &&
           (is (item (list (n, "ops"), 0), "Eq") || is (item (list (n, "ops"), 0), "NotEq")))
    {
      /* compared whole with a list in input order */
      const char *left = path_of (field (n, "left"));
      const char *right = path_of (item (list (n, "comparators"), 0));

      if (left != NULL && g_hash_table_contains (o->gathered, left) && left != right)
        name = left;
      else if (right != NULL && g_hash_table_contains (o->gathered, right) && left != right)
        name = right;
    }
  if (name == NULL || !g_hash_table_contains (o->gathered, name) ||
      g_hash_table_contains (o->sorted, name))
    return;
  line = GPOINTER_TO_INT (g_hash_table_lookup (o->gathered, name));
  if (LINE (n) <= line)
    return;
  report (c, "as-completed-order", n,
          "%s was filled in completion order (line %d), and is used here "
          "by position against the inputs: its i-th result need not be "
          "the i-th input's", name, line);
  g_hash_table_add (o->sorted, (gpointer) name);   /* once per list */
}

static void
order_use_stmt (Checker    *c,
                Scope      *s,
                JsonObject *stmt,
                Walk       *w)
{
  visit_stmt (c, s, stmt, 0, find_positional_use, w->data);
}

static void
rule_as_completed_order (Checker *c)
{
  for (guint i = 0; i < c->scopes->len; i++)
    {
      Scope *s = g_ptr_array_index (c->scopes, i);
      Order o = { g_hash_table_new (g_str_hash, g_str_equal),
                  g_hash_table_new (g_str_hash, g_str_equal),
                  g_hash_table_new (g_str_hash, g_str_equal) };

      walk_scope (c, s, order_stmt, &o);
      if (g_hash_table_size (o.gathered) > 0)
        walk_scope (c, s, order_use_stmt, &o);
      g_hash_table_unref (o.gathered);
      g_hash_table_unref (o.sorted);
      g_hash_table_unref (o.indices);
    }
}

/* ---- rule: unserializable-handle (stored) ----------------------------------- */

static void
stores_stmt (Checker    *c,
             Scope      *s,
             JsonObject *stmt,
             Walk       *w)
{
  JsonObject *value = field (stmt, "value");
  JsonObject *func = field (value, "func");

  if (is (stmt, "Assign"))
    {
      JsonArray *targets = list (stmt, "targets");

      for (guint i = 0; i < list_len (targets); i++)
        {
          JsonObject *obj = changed_object (item (targets, i));
          Kind k = expr_kind (c, s, obj);

          if (k.tag == K_PROXY)
            check_carried (c, s, value, CARRY_STORE);
        }
    }
  if (is (stmt, "Expr") && is (value, "Call") && is (func, "Attribute"))
    {
      Kind k = expr_kind (c, s, field (func, "value"));

      if ((k.tag == K_PROXY && name_in (str (func, "attr"), writers)) ||
          (k.tag == K_SYNC && g_str_has_suffix (k.detail, "Queue") &&
           g_str_has_prefix (str (func, "attr"), "put")))
        {
          JsonArray *a = list (value, "args");

          for (guint i = 0; i < list_len (a); i++)
            check_carried (c, s, item (a, i), CARRY_STORE);
        }
    }
}

/* ---- rule: broken-pool ------------------------------------------------------- */

static void
find_exit (Checker    *c,
           Scope      *s,
           JsonObject *n,
           int         in_loop,
           gpointer    data)
{
  g_autofree char *q = NULL;
  JsonObject *target;
  g_autofree char *pid = NULL;

  if (!is (n, "Call"))
    return;
  q = canonical (qualify (c, s, field (n, "func")));
  if (q == NULL)
    return;
  target = arg (n, 0);
  if (is (target, "Call"))
    pid = qualify (c, s, field (target, "func"));
  if (g_str_equal (q, "os._exit") || g_str_equal (q, "os.abort") ||
      (g_str_equal (q, "os.kill") && pid != NULL && g_str_equal (pid, "os.getpid")))
    {
      gboolean executor = g_strcmp0 (s->pool_kind, "executor") == 0;

      report (c, "broken-pool", n,
              "%s() runs in a pool worker and %s() ends that worker: %s",
              str (s->node, "name"), q,
              executor ? "every pending future then fails with "
                         "BrokenProcessPool, and nothing here handles it"
                       : "the pool starts another worker, but this task's "
                         "result never comes and get() waits forever");
    }
}

static void
exits_stmt (Checker    *c,
            Scope      *s,
            JsonObject *stmt,
            Walk       *w)
{
  visit_stmt (c, s, stmt, 0, find_exit, NULL);
}

/* Does @n name BrokenProcessPool or BrokenExecutor anywhere? */
static gboolean
handles_broken_pool (JsonObject *n,
                     gpointer    unused)
{
  if (n == NULL)
    return FALSE;
  if (g_strcmp0 (name_of (n), "BrokenProcessPool") == 0 ||
      g_strcmp0 (name_of (n), "BrokenExecutor") == 0 ||
      (is (n, "Attribute") && (g_strcmp0 (str (n, "attr"), "BrokenProcessPool") == 0 ||
                               g_strcmp0 (str (n, "attr"), "BrokenExecutor") == 0)))
    return TRUE;
  return any_child (n, NULL, handles_broken_pool, NULL);
}

static void
rule_broken_pool (Checker    *c,
                  JsonObject *module)
{
  gboolean handled = handles_broken_pool (module, NULL);

  for (guint i = 1; i < c->scopes->len; i++)
    {
      Scope *s = g_ptr_array_index (c->scopes, i);

      if (!s->runs_in_pool)
        continue;
      if (handled && g_strcmp0 (s->pool_kind, "executor") == 0)
        continue;
      walk_scope (c, s, exits_stmt, NULL);
    }
}

/* ---- the whole ---------------------------------------------------------------- */

static gint
finding_order (gconstpointer a,
               gconstpointer b)
{
  const MpCheckFinding *x = *(const MpCheckFinding *const *) a;
  const MpCheckFinding *y = *(const MpCheckFinding *const *) b;

  if (x->line != y->line)
    return x->line < y->line ? -1 : 1;
  if (x->column != y->column)
    return x->column < y->column ? -1 : 1;
  return g_strcmp0 (x->entry->id, y->entry->id);
}

/* ---- rule: global-not-inherited ------------------------------------------- */

/* Calls @func on every node of a function's body, not entering nested
 * defs, classes or lambdas (their code runs elsewhere, or later). */
typedef struct {
  gboolean  (*func) (JsonObject *n, gpointer data);
  gpointer    data;
} BodyWalk;

static gboolean
body_node (JsonObject *n,
           gpointer    data)
{
  BodyWalk *w = data;

  if (n == NULL || is_scope_node (n) || is (n, "Lambda"))
    return FALSE;
  if (w->func (n, w->data))
    return TRUE;
  return any_child (n, NULL, body_node, w);
}

static gboolean
walk_body (JsonArray *body,
           gboolean (*func) (JsonObject *n, gpointer data),
           gpointer   data)
{
  BodyWalk w = { func, data };

  for (guint i = 0; i < list_len (body); i++)
    if (body_node (item (body, i), &w))
      return TRUE;
  return FALSE;
}

typedef struct {
  const char *name;
  JsonObject *found;
} NameSearch;

/* an assignment whose target is the bare name */
static gboolean
assigns_name (JsonObject *n,
              gpointer    data)
{
  NameSearch *search = data;
  JsonArray *targets = list (n, "targets");

  if (is (n, "AugAssign") || is (n, "AnnAssign"))
    {
      JsonObject *t = field (n, "target");
      if (is (t, "Name") && g_strcmp0 (str (t, "id"), search->name) == 0)
        return (search->found = n) != NULL;
    }
  for (guint i = 0; is (n, "Assign") && i < list_len (targets); i++)
    if (is (item (targets, i), "Name") && g_strcmp0 (str (item (targets, i), "id"), search->name) == 0)
      return (search->found = n) != NULL;
  return FALSE;
}

/* The function of this file that sets global @name at run time (declares
 * it global and assigns it), other than @worker, or NULL. */
static Scope *
global_setter (Checker    *c,
               const char *name,
               Scope      *worker)
{
  for (guint i = 0; i < c->scopes->len; i++)
    {
      Scope *s = g_ptr_array_index (c->scopes, i);
      NameSearch search = { name, NULL };

      if (!s->is_function || s == worker || s->globals == NULL ||
          !g_hash_table_contains (s->globals, name))
        continue;
      if (walk_body (s->body, assigns_name, &search))
        return s;
    }
  return NULL;
}

typedef struct {
  const char *name;
  gboolean    found;
} InitializerSearch;

/* initializer=NAME anywhere: that function runs in every worker */
static gboolean
names_initializer (JsonObject *n,
                   gpointer    data)
{
  InitializerSearch *search = data;
  JsonObject *init;

  if (n == NULL)
    return FALSE;
  if (is (n, "Call") && (init = keyword (n, "initializer")) != NULL &&
      is (init, "Name") && g_strcmp0 (str (init, "id"), search->name) == 0)
    search->found = TRUE;
  return search->found || any_child (n, NULL, names_initializer, data);
}

static gboolean
runs_in_each_worker (Checker    *c,
                     JsonObject *module,
                     Scope      *fn)
{
  InitializerSearch search = { str (fn->node, "name"), FALSE };

  (void) c;
  names_initializer (module, &search);
  return search.found;
}

typedef struct {
  Checker    *c;
  Scope      *worker;
  const char *global;     /* what it reads that a function sets */
  Scope      *setter;
} GlobalRead;

static gboolean
reads_set_global (JsonObject *n,
                  gpointer    data)
{
  GlobalRead *read = data;
  const char *id;

  /* (the tree has no ctx: a name the worker binds is its own anyway) */
  if (!is (n, "Name") || (id = str (n, "id")) == NULL)
    return FALSE;
  /* its own local, or a global it sets itself: not the parent's */
  if (g_hash_table_contains (read->worker->bindings, id) ||
      (read->worker->globals != NULL && g_hash_table_contains (read->worker->globals, id)))
    return FALSE;
  read->setter = global_setter (read->c, id, read->worker);
  read->global = id;

  return read->setter != NULL;
}

static void
rule_global_not_inherited (Checker    *c,
                           JsonObject *module)
{
  for (guint i = 0; i < c->sites->len; i++)
    {
      Site *site = g_ptr_array_index (c->sites, i);
      Scope *fn = function_of (c, site->scope, site->func);
      GlobalRead read = { c, fn, NULL, NULL };

      /* fork copies the parent, globals included: only a file that
       * chooses fork is safe (the default is forkserver from 3.14) */
      if (fn == NULL || g_strcmp0 (site->start, "fork") == 0 ||
          !walk_body (fn->body, reads_set_global, &read) ||
          runs_in_each_worker (c, module, read.setter))
        continue;
      report (c, "global-not-inherited", site->call,
              "%s() reads the global %s, which %s() sets at run time; %s "
              "runs it in a worker that under spawn and forkserver (Linux "
              "from Python 3.14) has the value the module starts with, "
              "silently", str (fn->node, "name"), read.global,
              str (read.setter->node, "name"),
              site->is_pool ? "the pool" : "Process");
    }
}

/* ---- rule: fork-with-threads ---------------------------------------------- */

typedef struct {
  Checker *c;
  Scope   *s;
  GArray  *starts;   /* int lines of thread.start() */
  GArray  *joins;    /* int lines of thread.join() */
} ThreadCalls;

/* NAME.start() / NAME.join() on a threading.Thread of this scope */
static gboolean
thread_call (JsonObject *n,
             gpointer    data)
{
  ThreadCalls *calls = data;
  JsonObject *func = field (n, "func");
  const char *attr;
  int line;
  Kind k;

  if (!is (n, "Call") || !is (func, "Attribute") || (attr = str (func, "attr")) == NULL)
    return FALSE;
  k = expr_kind (calls->c, calls->s, field (func, "value"));
  if (k.tag != K_HANDLE || g_strcmp0 (k.detail, "threading.Thread") != 0)
    return FALSE;
  line = LINE (n);
  if (g_str_equal (attr, "start"))
    g_array_append_val (calls->starts, line);
  else if (g_str_equal (attr, "join"))
    g_array_append_val (calls->joins, line);
  return FALSE;
}

static void
rule_fork_with_threads (Checker *c)
{
  for (guint i = 0; i < c->sites->len; i++)
    {
      Site *site = g_ptr_array_index (c->sites, i);
      g_autoptr(GArray) starts = g_array_new (FALSE, FALSE, sizeof (int));
      g_autoptr(GArray) joins = g_array_new (FALSE, FALSE, sizeof (int));
      ThreadCalls calls = { c, site->scope, starts, joins };
      int at = LINE (site->call), running = 0;

      /* spawn and forkserver children are no copies of this process */
      if (spawns (site->start))
        continue;
      walk_body (site->scope->body, thread_call, &calls);
      /* a thread started before this process, and not joined since */
      for (guint s = 0; s < starts->len; s++)
        {
          int started = g_array_index (starts, int, s);
          gboolean joined = FALSE;

          for (guint j = 0; j < joins->len; j++)
            joined |= g_array_index (joins, int, j) > started &&
                      g_array_index (joins, int, j) < at;
          if (started < at && !joined)
            running = started;
        }
      if (running == 0)
        continue;
      report (c, "fork-with-threads", site->call,
              "a process is forked while the thread started on line %d runs "
              "(%s under fork, the default up to Python 3.13): a lock that "
              "thread holds at that moment stays held in the child forever",
              running, site->is_pool ? "a pool worker" : "a Process");
    }
}

GPtrArray *
mp_check_tree (const char *file,
               const char *source,
               JsonNode   *tree)
{
  Checker c = { 0 };
  JsonObject *module;

  g_return_val_if_fail (file != NULL, NULL);
  g_return_val_if_fail (source != NULL, NULL);
  g_return_val_if_fail (tree != NULL && JSON_NODE_HOLDS_OBJECT (tree), NULL);

  module = json_node_get_object (tree);
  c.file = file;
  c.lines = g_strsplit (source, "\n", -1);
  c.n_lines = g_strv_length (c.lines);
  for (guint i = 0; i < c.n_lines; i++)
    if (g_str_has_suffix (c.lines[i], "\r"))
      c.lines[i][strlen (c.lines[i]) - 1] = '\0';
  c.scopes = g_ptr_array_new_with_free_func (scope_free);
  c.by_name = g_hash_table_new (g_str_hash, g_str_equal);
  c.sites = g_ptr_array_new_with_free_func (site_free);
  c.findings = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_check_finding_free);
  c.kinds = g_ptr_array_new_with_free_func (g_free);

  collect_block (&c, scope_new (&c, "", module, NULL), list (module, "body"));
  /* kinds travel one call further on each pass */
  for (int pass = 0; pass < 3; pass++)
    walk_all (&c, bind_stmt, NULL);
  walk_all (&c, find_sites_stmt, NULL);
  mark_workers (&c);

  rule_missing_main_guard (&c);
  rule_carried_by_sites (&c);
  rule_local_function (&c);
  rule_closed_manager (&c);
  rule_mutate_a_copy (&c);
  rule_updates (&c);
  rule_as_completed_order (&c);
  rule_global_not_inherited (&c, module);
  rule_fork_with_threads (&c);
  walk_all (&c, stores_stmt, NULL);
  rule_broken_pool (&c, module);

  g_ptr_array_sort (c.findings, finding_order);
  g_strfreev (c.lines);
  g_ptr_array_unref (c.scopes);
  g_hash_table_unref (c.by_name);
  g_ptr_array_unref (c.sites);
  g_ptr_array_unref (c.kinds);
  return c.findings;
}
