/* mutate-a-copy.c — changing an object fetched from a manager list changes nothing
 *
 * A list in the manager holds Num(num=1). A worker process wants to make
 * it 9. Reading list[0] through the proxy returns a *copy*: setting the
 * field changes that copy only, and the next read shows 1 again.
 *
 * broken: fetch -> change the field -> fetch again: still 1.
 * fixed, four ways (each checked by the parent reading it back):
 *   pop:     pop the object (it leaves the list) -> change -> append it back
 *   lock:    take a manager Lock -> fetch -> change -> set list[0] -> release
 *   nested:  keep a Namespace proxy in the list; change it through the proxy
 *   server:  a Num registered as a server-side type: its exposed method
 *            set_num runs in the server, so the object never leaves it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define BEFORE 1
#define WANTED 9
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- Num: the article's one-field dataclass ---------------------------- */

#define DEMO_TYPE_NUM (num_get_type ())
G_DECLARE_FINAL_TYPE (Num, num, DEMO, NUM, GObject)

struct _Num
{
  GObject parent_instance;
  gint64  num;
};

G_DEFINE_TYPE (Num, num, G_TYPE_OBJECT)

enum { PROP_0, PROP_NUM, N_PROPS };
static GParamSpec *num_props[N_PROPS];

static void
num_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
    case PROP_NUM: g_value_set_int64 (value, DEMO_NUM (object)->num); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
num_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
    case PROP_NUM: DEMO_NUM (object)->num = g_value_get_int64 (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
num_class_init (NumClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = num_get_property;
  object_class->set_property = num_set_property;
  num_props[PROP_NUM] =
    g_param_spec_int64 ("num", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, num_props);
}

static void
num_init (Num *self)
{
}

/* The methods a server-side Num exposes; they run in the server. */
static gboolean
num_method_set_num (GObject *self, MpArgs *args, GValue *result, GError **error)
{
  if (mp_args_get_length (args) != 1)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "set_num takes one number");
      return FALSE;
    }
  DEMO_NUM (self)->num = mp_args_get_int (args, 0);
  return TRUE;
}

static gboolean
num_method_get_num (GObject *self, MpArgs *args, GValue *result, GError **error)
{
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, DEMO_NUM (self)->num);
  return TRUE;
}

MP_INITIALIZER (register_num)
static void
register_num (void)
{
  static const MpMethod num_methods[] = {
    { "set_num", num_method_set_num },
    { "get_num", num_method_get_num },
    { NULL, NULL },
  };

  mp_serialize_register_type (DEMO_TYPE_NUM, NULL);
  mp_manager_register_type ("Num", DEMO_TYPE_NUM, num_methods);
}

static void
num_to_value (gint64 n, GValue *value)
{
  g_value_init (value, DEMO_TYPE_NUM);
  g_value_take_object (value, g_object_new (DEMO_TYPE_NUM, "num", n, NULL));
}

static gboolean
value_to_int64 (const GValue *value, gint64 *out, GError **error)
{
  if (demo_value_get_int (value, out))
    return TRUE;
  mp_set_error (error, MP_ERROR_FAILED, "expected an integer");
  return FALSE;
}

/* list[0].num, whatever list[0] holds: a Num, a Namespace proxy or a Num proxy */
static gboolean
read_num_at_0 (MpProxy *list, gint64 *out, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  g_auto(GValue) num = G_VALUE_INIT;
  MpProxy *nested;

  if (!mp_list_proxy_get_item (list, 0, &item, error))
    return FALSE;
  if (G_VALUE_HOLDS (&item, DEMO_TYPE_NUM))
    {
      *out = DEMO_NUM (g_value_get_object (&item))->num;
      return TRUE;
    }
  if (!G_VALUE_HOLDS (&item, MP_TYPE_PROXY))
    {
      mp_set_error (error, MP_ERROR_FAILED, "list[0] is neither a Num nor a proxy");
      return FALSE;
    }
  nested = g_value_get_object (&item);
  if (g_str_equal (mp_proxy_get_typeid (nested), "Num"))
    {
      if (!mp_proxy_call (nested, "get_num", NULL, &num, error))
        return FALSE;
    }
  else if (!mp_namespace_proxy_get (nested, "num", &num, error))
    return FALSE;
  return value_to_int64 (&num, out, error);
}

/* ---- what the worker does, one function per way ------------------------ */

typedef struct {
  MpProxy *list;
  MpProxy *lock;
  gint64   changed;   /* what the worker's own copy said after the change */
} Change;

/* The Num inside @item, which list[0] gave back; NULL if it holds none. */
static Num *
num_in (GValue *item, GError **error)
{
  if (G_VALUE_HOLDS (item, DEMO_TYPE_NUM) && g_value_get_object (item) != NULL)
    return g_value_get_object (item);
  mp_set_error (error, MP_ERROR_FAILED, "list[0] did not come back as a Num");
  return NULL;
}

static gboolean
change_the_copy (Change *c, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  Num *copy;

  if (!mp_list_proxy_get_item (c->list, 0, &item, error) ||
      (copy = num_in (&item, error)) == NULL)
    return FALSE;
  copy->num = WANTED;
  c->changed = copy->num;
  return TRUE;
}

static gboolean
pop_change_append (Change *c, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  Num *num;

  if (!mp_list_proxy_pop (c->list, 0, &item, error) ||
      (num = num_in (&item, error)) == NULL)
    return FALSE;
  num->num = WANTED;
  c->changed = WANTED;
  return mp_list_proxy_append (c->list, &item, error);
}

static gboolean
lock_change_set_back (Change *c, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  Num *num = NULL;
  gboolean ok;

  if (!mp_lock_proxy_acquire (c->lock, TRUE, -1, error))
    return FALSE;
  ok = mp_list_proxy_get_item (c->list, 0, &item, error) &&
       (num = num_in (&item, error)) != NULL;
  if (ok)
    {
      num->num = WANTED;
      c->changed = WANTED;
      ok = mp_list_proxy_set_item (c->list, 0, &item, error);
    }
  if (!mp_lock_proxy_release (c->lock, ok ? error : NULL))
    return FALSE;
  return ok;
}

static gboolean
change_through_nested_proxy (Change *c, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  g_auto(GValue) wanted = G_VALUE_INIT;

  if (!mp_list_proxy_get_item (c->list, 0, &item, error))
    return FALSE;
  if (!G_VALUE_HOLDS (&item, MP_TYPE_PROXY))
    {
      mp_set_error (error, MP_ERROR_FAILED, "list[0] did not come back as a proxy");
      return FALSE;
    }
  g_value_init (&wanted, G_TYPE_INT64);
  g_value_set_int64 (&wanted, WANTED);
  c->changed = WANTED;
  return mp_namespace_proxy_set (g_value_get_object (&item), "num", &wanted, error);
}

static gboolean
call_method_in_server (Change *c, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;
  g_auto(GValue) none = G_VALUE_INIT;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) WANTED, G_TYPE_INVALID);

  if (!mp_list_proxy_get_item (c->list, 0, &item, error))
    return FALSE;
  if (!G_VALUE_HOLDS (&item, MP_TYPE_PROXY))
    {
      mp_set_error (error, MP_ERROR_FAILED, "list[0] did not come back as a proxy");
      return FALSE;
    }
  c->changed = WANTED;
  return mp_proxy_call (g_value_get_object (&item), "set_num", args, &none, error);
}

typedef struct {
  const char  *name;
  const char  *how;
  gboolean   (*change) (Change *c, GError **error);
} Way;

static const Way ways[] = {
  { "copy",   "fetch list[0], set num on it",                      change_the_copy },
  { "pop",    "pop list[0], set num, append it back",             pop_change_append },
  { "lock",   "lock, fetch list[0], set num, store list[0], unlock", lock_change_set_back },
  { "nested", "list[0] is a Namespace proxy: set num through it",  change_through_nested_proxy },
  { "server", "list[0] is a server-side Num: call its set_num",    call_method_in_server },
};

static const Way *
way_by_name (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (ways); i++)
    if (g_str_equal (ways[i].name, name))
      return &ways[i];
  return NULL;
}

/* args: way name, list, lock; result: what the worker's copy said */
static gboolean
change_num_in_worker (MpArgs *args, GValue *result, GError **error)
{
  const Way *way = way_by_name (mp_args_get_string (args, 0));
  Change c = { mp_args_get_object (args, 1), mp_args_get_object (args, 2), 0 };

  if (way == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "no such way");
      return FALSE;
    }
  if (!way->change (&c, error))
    return FALSE;
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, c.changed);
  return TRUE;
}
MP_TASK_DEFINE ("change-num", change_num_in_worker)

/* ---- the parent: set up list[0] = 1, let a worker change it, read it ---- */

static const char summary[] =
  "Reading an object from a manager list returns a copy: a worker that changes\n"
  "a field of what it fetched changes nothing in the server (--broken: before 1,\n"
  "changed 9, after 1). Fix, four ways, each checked by reading list[0] again:\n"
  "pop -> change -> append; lock -> fetch -> change -> set back; a Namespace\n"
  "proxy kept in the list; a server-side type whose method makes the change.";

/* The object that list[0] refers to for @way: a Namespace or a
 * server-side Num, both holding num = 1, made in the server. */
static MpProxy *
make_object_in_server (MpManager *manager, const Way *way, GError **error)
{
  g_autoptr(MpProxy) proxy = NULL;
  g_auto(GValue) one = G_VALUE_INIT;
  g_auto(GValue) none = G_VALUE_INIT;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, (gint64) BEFORE, G_TYPE_INVALID);

  if (g_str_equal (way->name, "nested"))
    {
      g_value_init (&one, G_TYPE_INT64);
      g_value_set_int64 (&one, BEFORE);
      if ((proxy = mp_manager_namespace (manager, error)) == NULL ||
          !mp_namespace_proxy_set (proxy, "num", &one, error))
        return NULL;
    }
  else if ((proxy = mp_manager_create (manager, "Num", error)) == NULL ||
           !mp_proxy_call (proxy, "set_num", args, &none, error))
    return NULL;
  return g_steal_pointer (&proxy);
}

/* Puts the starting num = 1 in @list in the form @way works on. */
static gboolean
put_num_in_list (MpManager *manager, MpProxy *list, const Way *way, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  if (g_str_equal (way->name, "nested") || g_str_equal (way->name, "server"))
    {
      g_autoptr(MpProxy) nested = make_object_in_server (manager, way, error);

      if (nested == NULL)
        return FALSE;
      g_value_init (&item, MP_TYPE_PROXY);
      g_value_set_object (&item, nested);
    }
  else
    num_to_value (BEFORE, &item);
  return mp_list_proxy_append (list, &item, error);
}

static gboolean
change_in_a_worker (MpPool *pool, const Way *way, MpProxy *list, MpProxy *lock,
                    gint64 *changed, GError **error)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_STRING, way->name,
                                        MP_TYPE_PROXY, list,
                                        MP_TYPE_PROXY, lock,
                                        G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_auto(GValue) result = G_VALUE_INIT;

  return (future = mp_pool_submit (pool, "change-num", args, error)) != NULL &&
         mp_future_result (future, WAIT_BACKSTOP, &result, error) &&
         value_to_int64 (&result, changed, error);
}

/* Runs one way on a fresh list; *before, *changed, *after are list[0].num
 * as the parent saw it, as the worker's copy said after the change, and as
 * the parent sees it again. */
static gboolean
try_one_way (MpManager *manager, MpPool *pool, const Way *way,
             gint64 *before, gint64 *changed, gint64 *after, GError **error)
{
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpProxy) lock = NULL;

  if ((list = mp_manager_list (manager, NULL, error)) == NULL ||
      (lock = mp_manager_lock (manager, error)) == NULL ||
      !put_num_in_list (manager, list, way, error) ||
      !read_num_at_0 (list, before, error) ||
      !change_in_a_worker (pool, way, list, lock, changed, error) ||
      !read_num_at_0 (list, after, error))
    return FALSE;
  demo_say ("%-7s %s", way->name, way->how);
  demo_say ("        num_before: %" G_GINT64_FORMAT ", num_changed: %" G_GINT64_FORMAT
            ", num_after: %" G_GINT64_FORMAT, *before, *changed, *after);
  return TRUE;
}

static gboolean
start_manager_and_pool (Demo *demo, MpManager **manager, MpPool **pool, GError **error)
{
  demo_step (demo, "Start a manager and a pool of one worker.");
  return (*manager = demo_start_manager (error)) != NULL &&
         (*pool = mp_pool_new (1, error)) != NULL;
}

static gboolean
half_change_the_copy (Demo *demo)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  gint64 before = 0, changed = 0, after = 0;
  gboolean ok;

  ok = start_manager_and_pool (demo, &manager, &pool, &error);
  if (ok)
    {
      demo_step (demo, "list[0] = Num(num=%d); a worker fetches list[0] and sets "
                 "num = %d on it; the parent reads list[0] again.", BEFORE, WANTED);
      ok = try_one_way (manager, pool, way_by_name ("copy"), &before, &changed, &after, &error);
    }
  if (pool != NULL)
    mp_pool_shutdown (pool, TRUE);
  if (!ok)
    return demo_reject_error (demo, error, "the run itself failed");

  if (before != BEFORE || changed != WANTED || after != BEFORE)
    return demo_reject (demo, "the change reached the server");
  demo_say ("=> the worker's copy said %d, the list still says %d: the change "
            "never left the worker", WANTED, BEFORE);
  demo_show_timeline (demo, "the worker gets a copy and changes only that");
  return TRUE;
}

static gboolean
half_four_ways (Demo *demo)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  guint n_ok = 0, n_ways = 0;
  gboolean ok;

  ok = start_manager_and_pool (demo, &manager, &pool, &error);
  if (ok)
    demo_step (demo, "For each way: list[0] holds num = %d, a worker makes it %d, "
               "the parent reads list[0] again.", BEFORE, WANTED);
  for (guint i = 0; ok && i < G_N_ELEMENTS (ways); i++)
    {
      gint64 before, changed, after;

      if (g_str_equal (ways[i].name, "copy"))
        continue;
      n_ways++;
      ok = try_one_way (manager, pool, &ways[i], &before, &changed, &after, &error);
      if (ok && before == BEFORE && after == WANTED)
        n_ok++;
      else if (ok)
        demo_say ("   !! %s did not change list[0]", ways[i].name);
    }
  if (pool != NULL)
    mp_pool_shutdown (pool, TRUE);
  if (!ok)
    return demo_reject_error (demo, error, "the run itself failed");

  if (n_ok != n_ways)
    return demo_reject (demo, "only %u of the %u ways changed list[0]", n_ok, n_ways);
  demo_say ("=> checked: all %u ways changed list[0] to %d in the server", n_ways, WANTED);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "mutate-a-copy",
  .tells_a_story = TRUE,
  .summary = summary,
  .broken = half_change_the_copy,
  .fixed = half_four_ways,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
