/* test-referent.c — the manager's server objects facing hostile clients
 *
 * The typed proxies (test-proxy.c) only ever send well-formed calls. A
 * client built against another version, a fuzzer or a Python-minded user
 * of mp_proxy_call() can send anything: the wrong number of arguments,
 * the wrong types, proxies of objects that are gone. These tests speak the
 * wire protocol directly (an authenticated MpConnection, raw requests) and
 * check that every such call gets Python's error (code and words), that
 * nothing changes, and that no reference leaks in the server.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <unistd.h>

#include "mp-connection.h"
#include "mp-manager-private.h"
#include "test-manager-common.h"

/* ------------------------------------------------------------------ */
/* a raw client                                                         */
/* ------------------------------------------------------------------ */

typedef struct
{
  MpConnection *connection;
  guint64       nonce;
} RawClient;

/* "av" arguments from GVariant text, e.g. "[<int64 1>, <just 'x'>]" */
static GVariant *
av (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *args = g_variant_parse (G_VARIANT_TYPE ("av"), text, NULL, NULL, &error);

  g_assert_no_error (error);
  return args;
}

/* Returns: (transfer full): the "(yv)" reply to one request made by the
 * client thread @thread */
static GVariant *
raw_send_from (RawClient  *client,
               guint64     thread,
               guint64     id,
               const char *method,
               GVariant   *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) request = g_byte_array_new ();
  GVariant *reply;

  /* takes @args, floating or not */
  args = g_variant_take_ref (args != NULL ? args : g_variant_new ("av", NULL));
  g_byte_array_set_size (request, MP_FRAME_HEADER_SIZE);
  mp_message_write_request_variant (request, g_variant_new ("(ts@avt)", id, method, args, thread));
  g_assert_true (mp_connection_send_frame (client->connection, request, &error));
  g_assert_no_error (error);
  g_variant_unref (args);
  reply = mp_connection_recv_variant (client->connection, G_VARIANT_TYPE (MP_MSG_REPLY), -1, &error);
  g_assert_no_error (error);
  g_assert_nonnull (reply);
  return reply;
}

static GVariant *
raw_send (RawClient  *client,
          guint64     id,
          const char *method,
          GVariant   *args)
{
  return raw_send_from (client, 1, id, method, args);
}

/* Returns: (transfer full): the "v" wire value of a RETURN reply */
static GVariant *
expect_return (GVariant *reply)
{
  GVariant *payload = NULL;
  guint8 kind;

  g_variant_get (reply, "(y@v)", &kind, &payload);
  if (kind == MP_REPLY_ERROR)
    {
      g_autoptr(GVariant) fields = g_variant_get_variant (payload);
      const char *message;

      g_variant_get (fields, "(u&s&s)", NULL, NULL, &message);
      g_error ("expected a result, got the error: %s", message);
    }
  g_assert_cmpint (kind, ==, MP_REPLY_RETURN);
  g_variant_unref (reply);
  return payload;
}

static void
expect_error (GVariant   *reply,
              MpError     code,
              const char *words)
{
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariant) fields = NULL;
  const char *name, *message;
  guint8 kind;
  guint32 got;

  g_variant_get (reply, "(y@v)", &kind, &payload);
  g_assert_cmpint (kind, ==, MP_REPLY_ERROR);
  fields = g_variant_get_variant (payload);
  g_assert_true (g_variant_is_of_type (fields, G_VARIANT_TYPE (MP_MSG_ERROR)));
  g_variant_get (fields, "(u&s&s)", &got, &name, &message);
  g_test_message ("error %s: %s", name, message);
  g_assert_cmpuint (got, ==, code);
  g_assert_cmpstr (name, ==, mp_error_code_name (code));
  if (words != NULL && strstr (message, words) == NULL)
    g_error ("the error '%s' does not say '%s'", message, words);
  g_variant_unref (reply);
}

static void
raw_open (RawClient *client,
          MpManager *manager,
          gboolean   hello)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = mp_get_auth_key ();

  client->connection = mp_connection_connect (mp_manager_get_address (manager), key, -1, &error);
  g_assert_no_error (error);
  client->nonce = g_random_int () | G_GUINT64_CONSTANT (0x100000000);
  if (hello)
    {
      GVariant *args = g_variant_new_parsed ("[<%t>, <%x>, <false>]", client->nonce, (gint64) getpid ());

      g_variant_unref (expect_return (raw_send (client, MP_SERVER_ID, "hello", args)));
    }
}

static void
raw_close (RawClient *client)
{
  g_clear_pointer (&client->connection, mp_connection_unref);
}

/* creates @typeid with the constructor arguments @ctor (av text) */
static guint64
raw_create (RawClient  *client,
            const char *typeid,
            const char *ctor)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GVariant) rest = av (ctor != NULL ? ctor : "@av []");
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariant) fields = NULL;
  const char *got_typeid;
  guint64 id;
  guint8 kind;

  g_variant_builder_add_value (&builder, mp_wire_string (typeid));
  for (gsize i = 0; i < g_variant_n_children (rest); i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (rest, i);
      g_variant_builder_add_value (&builder, child);
    }
  reply = raw_send (client, MP_SERVER_ID, "create", g_variant_builder_end (&builder));
  g_variant_get (reply, "(y@v)", &kind, &payload);
  g_assert_cmpint (kind, ==, MP_REPLY_PROXY);
  fields = g_variant_get_variant (payload);
  g_variant_get (fields, "(&st)", &got_typeid, &id);
  g_assert_cmpstr (got_typeid, ==, typeid);
  return id;
}

static void
raw_decref (RawClient *client,
            guint64    id)
{
  g_variant_unref (expect_return (raw_send (client, MP_SERVER_ID, "decref",
                                            g_variant_new_parsed ("[<%t>]", id))));
}

/* the "v" wire of a proxy token; @address NULL: this manager's */
static GVariant *
token_wire (MpManager  *manager,
            const char *typeid,
            const char *address,
            guint64     id)
{
  GVariant *empty_key = g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, "", 0, TRUE, NULL, NULL);

  return g_variant_new_variant (
    g_variant_new ("(sv)", MP_PROXY_WIRE_NAME,
                   g_variant_new ("(sst@ay)", typeid,
                                  address != NULL ? address : mp_manager_get_address (manager),
                                  id, empty_key)));
}

static GVariant *
args_of (GVariant *first,
         ...)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  va_list ap;

  va_start (ap, first);
  for (GVariant *wire = first; wire != NULL; wire = va_arg (ap, GVariant *))
    g_variant_builder_add_value (&builder, wire);
  va_end (ap);
  return g_variant_builder_end (&builder);
}

/* a wire list of two wire values (taken) */
static GVariant *
wire_pair (GVariant *a,
           GVariant *b)
{
  GVariant *children[2] = { a, b };

  return g_variant_new_variant (g_variant_new_array (G_VARIANT_TYPE_VARIANT, children, 2));
}

/* a wire dict {"a": @a, "b": @b} of two wire values (taken) */
static GVariant *
wire_dict2 (GVariant *a,
            GVariant *b)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&builder, "{s@v}", "a", a);
  g_variant_builder_add (&builder, "{s@v}", "b", b);
  return g_variant_new_variant (g_variant_builder_end (&builder));
}

/* ------------------------------------------------------------------ */
/* calls with the wrong arguments                                       */
/* ------------------------------------------------------------------ */

typedef struct
{
  const char *method;
  const char *args;     /* GVariant text of the "av" arguments */
  MpError     code;
  const char *words;
} BadCall;

typedef struct
{
  const char    *typeid;
  const char    *ctor;  /* a valid constructor call */
  const BadCall *calls;
} BadCalls;

#define BAD_ARGS MP_ERROR_INVALID_ARGUMENT

static const BadCall list_calls[] = {
  { "append", "@av []", BAD_ARGS, "list.append() takes 1 argument (0 given) (Python: TypeError)" },
  { "extend", "[<int64 1>]", BAD_ARGS, "list.extend() needs a list, not int" },
  { "extend", "[<true>, <true>]", BAD_ARGS, "list.extend() takes 1 argument (2 given)" },
  { "insert", "[<int64 0>]", BAD_ARGS, "list.insert() takes 2 arguments (1 given)" },
  { "insert", "[<just 'x'>, <int64 1>]", BAD_ARGS, "list.insert(): argument 1 must be an integer" },
  { "pop", "[<just 'x'>]", BAD_ARGS, "list.pop(): argument 1 must be an integer" },
  { "pop", "[<int64 7>]", MP_ERROR_INDEX, "pop index out of range" },
  { "remove", "@av []", BAD_ARGS, "list.remove() takes 1 argument (0 given)" },
  { "remove", "[<int64 42>]", BAD_ARGS, "x not in list (Python: ValueError)" },
  { "index", "@av []", BAD_ARGS, "list.index() takes 1 to 3 arguments (0 given)" },
  { "index", "[<int64 1>, <just 'a'>]", BAD_ARGS, "list.index(): argument 2 must be an integer" },
  { "index", "[<int64 1>, <int64 0>, <2.5>]", BAD_ARGS, "list.index(): argument 3 must be an integer" },
  /* the item is there, but not inside [1:2] */
  { "index", "[<int64 1>, <int64 1>, <int64 2>]", BAD_ARGS, "list.index(x): x not in list" },
  { "count", "@av []", BAD_ARGS, "list.count() takes 1 argument (0 given)" },
  { "__contains__", "@av []", BAD_ARGS, "list.__contains__() takes 1 argument (0 given)" },
  { "__len__", "[<int64 1>]", BAD_ARGS, "list.__len__() takes 0 arguments (1 given)" },
  { "__getitem__", "[<just 'a'>]", BAD_ARGS, "list.__getitem__(): argument 1 must be an integer" },
  { "__getitem__", "[<int64 0>, <just 'b'>]", BAD_ARGS, "list.__getitem__(): argument 2 must be an integer" },
  { "__getitem__", "[<int64 0>, <int64 1>, <int64 2>]", BAD_ARGS, "takes 1 to 2 arguments (3 given)" },
  { "__setitem__", "[<int64 0>]", BAD_ARGS, "list.__setitem__() takes 2 to 3 arguments (1 given)" },
  { "__setitem__", "[<just 'a'>, <int64 1>]", BAD_ARGS, "list.__setitem__(): argument 1 must be an integer" },
  { "__setitem__", "[<int64 5>, <int64 1>]", MP_ERROR_INDEX, "list assignment index out of range" },
  { "__setitem__", "[<int64 0>, <just 'b'>, <@av []>]", BAD_ARGS, "list.__setitem__(): argument 2 must be an integer" },
  { "__setitem__", "[<int64 0>, <int64 1>, <int64 5>]", BAD_ARGS, "slice assignment needs a list, not int" },
  { "__delitem__", "@av []", BAD_ARGS, "list.__delitem__() takes 1 argument (0 given)" },
  { "__delitem__", "[<just 'a'>]", BAD_ARGS, "list.__delitem__(): argument 1 must be an integer" },
  { "__delitem__", "[<int64 -4>]", MP_ERROR_INDEX, "list assignment index out of range" },
  { "reverse", "[<int64 1>]", BAD_ARGS, "list.reverse() takes 0 arguments (1 given)" },
  { "sort", "[<just 'yes'>]", BAD_ARGS, "list.sort(): argument 1 must be a boolean" },
  { "sort", "[<true>, <true>]", BAD_ARGS, "list.sort() takes 0 to 1 arguments (2 given)" },
  { 0 }
};

static const BadCall dict_calls[] = {
  { "__getitem__", "@av []", BAD_ARGS, "dict.__getitem__() takes 1 argument (0 given)" },
  { "__getitem__", "[<int64 1>]", BAD_ARGS, "dict.__getitem__(): argument 1 must be a string" },
  { "__getitem__", "[<@ms nothing>]", BAD_ARGS, "dict.__getitem__(): argument 1 must be a string" },
  { "__getitem__", "[<just 'missing'>]", MP_ERROR_KEY, "'missing'" },
  { "__setitem__", "[<just 'k'>]", BAD_ARGS, "dict.__setitem__() takes 2 arguments (1 given)" },
  { "__setitem__", "[<int64 1>, <int64 2>]", BAD_ARGS, "dict.__setitem__(): argument 1 must be a string" },
  { "__delitem__", "[<int64 1>]", BAD_ARGS, "dict.__delitem__(): argument 1 must be a string" },
  { "__delitem__", "@av []", BAD_ARGS, "dict.__delitem__() takes 1 argument (0 given)" },
  { "get", "@av []", BAD_ARGS, "dict.get() takes 1 to 2 arguments (0 given)" },
  { "get", "[<int64 1>]", BAD_ARGS, "dict.get(): argument 1 must be a string" },
  { "__contains__", "[<int64 1>]", BAD_ARGS, "dict.__contains__(): argument 1 must be a string" },
  { "__contains__", "@av []", BAD_ARGS, "dict.__contains__() takes 1 argument (0 given)" },
  { "__len__", "[<int64 1>]", BAD_ARGS, "dict.__len__() takes 0 arguments (1 given)" },
  { "keys", "[<int64 1>]", BAD_ARGS, "dict.keys() takes 0 arguments (1 given)" },
  { "values", "[<int64 1>]", BAD_ARGS, "dict.values() takes 0 arguments (1 given)" },
  { "items", "[<int64 1>]", BAD_ARGS, "dict.items() takes 0 arguments (1 given)" },
  { "pop", "@av []", BAD_ARGS, "dict.pop() takes 1 to 2 arguments (0 given)" },
  { "pop", "[<int64 1>]", BAD_ARGS, "dict.pop(): argument 1 must be a string" },
  { "popitem", "[<int64 1>]", BAD_ARGS, "dict.popitem() takes 0 arguments (1 given)" },
  { "setdefault", "@av []", BAD_ARGS, "dict.setdefault() takes 1 to 2 arguments (0 given)" },
  { "setdefault", "[<int64 1>]", BAD_ARGS, "dict.setdefault(): argument 1 must be a string" },
  { "update", "@av []", BAD_ARGS, "dict.update() takes 1 argument (0 given)" },
  { "update", "[<@av []>]", BAD_ARGS, "dict.update() needs a dict with string keys, not list" },
  { "clear", "[<int64 1>]", BAD_ARGS, "dict.clear() takes 0 arguments (1 given)" },
  { "copy", "[<int64 1>]", BAD_ARGS, "dict.copy() takes 0 arguments (1 given)" },
  { 0 }
};

static const BadCall namespace_calls[] = {
  { "__getattribute__", "@av []", BAD_ARGS, "Namespace.__getattribute__() takes 1 argument (0 given)" },
  { "__getattribute__", "[<int64 1>]", BAD_ARGS, "Namespace.__getattribute__(): argument 1 must be a string" },
  { "__setattr__", "[<just 'a'>]", BAD_ARGS, "Namespace.__setattr__() takes 2 arguments (1 given)" },
  { "__setattr__", "[<int64 1>, <int64 2>]", BAD_ARGS, "Namespace.__setattr__(): argument 1 must be a string" },
  { "__delattr__", "@av []", BAD_ARGS, "Namespace.__delattr__() takes 1 argument (0 given)" },
  { "__delattr__", "[<int64 1>]", BAD_ARGS, "Namespace.__delattr__(): argument 1 must be a string" },
  { "__delattr__", "[<just 'ghost'>]", MP_ERROR_KEY, "'Namespace' object has no attribute 'ghost' (Python: AttributeError)" },
  { 0 }
};

static const BadCall value_calls[] = {
  { "get", "[<int64 1>]", BAD_ARGS, "Value.get() takes 0 arguments (1 given)" },
  { "set", "@av []", BAD_ARGS, "Value.set() takes 1 argument (0 given)" },
  { 0 }
};

static const BadCall array_calls[] = {
  { "__len__", "[<int64 1>]", BAD_ARGS, "array.__len__() takes 0 arguments (1 given)" },
  { "__getitem__", "@av []", BAD_ARGS, "array.__getitem__() takes 1 argument (0 given)" },
  { "__getitem__", "[<just 'a'>]", BAD_ARGS, "array.__getitem__(): argument 1 must be an integer" },
  { "__getitem__", "[<int64 3>]", MP_ERROR_INDEX, "array index out of range" },
  { "__setitem__", "[<int64 0>]", BAD_ARGS, "array.__setitem__() takes 2 arguments (1 given)" },
  { "__setitem__", "[<just 'a'>, <int64 1>]", BAD_ARGS, "array.__setitem__(): argument 1 must be an integer" },
  { "__setitem__", "[<int64 -9>, <int64 1>]", MP_ERROR_INDEX, "array assignment index out of range" },
  /* the array is 'h': 16-bit signed, Python's array.array checks */
  { "__setitem__", "[<int64 0>, <just 'x'>]", BAD_ARGS, "an integer is required, not str (Python: TypeError); array 'h' holds integers" },
  { "__setitem__", "[<int64 0>, <2.5>]", BAD_ARGS, "an integer is required, not float" },
  { "__setitem__", "[<int64 0>, <@av []>]", BAD_ARGS, "an integer is required, not list" },
  { "__setitem__", "[<int64 0>, <int64 32768>]", BAD_ARGS, "value out of range for array typecode 'h' (Python: OverflowError)" },
  { "__setitem__", "[<int64 0>, <int64 -32769>]", BAD_ARGS, "value out of range for array typecode 'h'" },
  { "__setitem__", "[<int64 0>, <uint64 40000>]", BAD_ARGS, "value out of range for array typecode 'h'" },
  { 0 }
};

static const BadCall lock_calls[] = {
  { "acquire", "[<just 'x'>]", BAD_ARGS, "Lock.acquire(): argument 1 must be a boolean" },
  { "acquire", "[<true>, <just 'soon'>]", BAD_ARGS, "Lock.acquire(): argument 2 must be an integer" },
  { "acquire", "[<true>, <int64 1>, <int64 2>]", BAD_ARGS, "Lock.acquire() takes 0 to 2 arguments (3 given)" },
  { "release", "[<int64 1>]", BAD_ARGS, "Lock.release() takes 0 arguments (1 given)" },
  { "release", "@av []", BAD_ARGS, "release unlocked lock (Python: RuntimeError)" },
  { 0 }
};

static const BadCall rlock_calls[] = {
  { "release", "@av []", BAD_ARGS, "cannot release un-acquired lock (Python: RuntimeError)" },
  { 0 }
};

static const BadCall semaphore_calls[] = {
  { "acquire", "[<just 'x'>]", BAD_ARGS, "Semaphore.acquire(): argument 1 must be a boolean" },
  { "release", "[<int64 0>]", BAD_ARGS, "n must be one or more (Python: ValueError)" },
  { "release", "[<just 'x'>]", BAD_ARGS, "Semaphore.release(): argument 1 must be an integer" },
  { "release", "[<int64 1>, <int64 1>]", BAD_ARGS, "Semaphore.release() takes 0 to 1 arguments (2 given)" },
  { 0 }
};

static const BadCall bounded_semaphore_calls[] = {
  { "release", "@av []", BAD_ARGS, "Semaphore released too many times (Python: ValueError)" },
  { 0 }
};

static const BadCall condition_calls[] = {
  { "wait", "[<just 'x'>]", BAD_ARGS, "Condition.wait(): argument 1 must be an integer" },
  { "wait", "[<int64 1>, <int64 1>]", BAD_ARGS, "Condition.wait() takes 0 to 1 arguments (2 given)" },
  { "wait", "[<int64 1000>]", BAD_ARGS, "cannot wait on un-acquired lock (Python: RuntimeError)" },
  { "notify", "[<just 'x'>]", BAD_ARGS, "Condition.notify(): argument 1 must be an integer" },
  { "notify", "@av []", BAD_ARGS, "cannot notify on un-acquired lock (Python: RuntimeError)" },
  { "notify_all", "[<int64 1>]", BAD_ARGS, "Condition.notify_all() takes 0 arguments (1 given)" },
  { "notify_all", "@av []", BAD_ARGS, "cannot notify on un-acquired lock" },
  { "release", "@av []", BAD_ARGS, "cannot release un-acquired lock" },
  { 0 }
};

static const BadCall event_calls[] = {
  { "is_set", "[<int64 1>]", BAD_ARGS, "Event.is_set() takes 0 arguments (1 given)" },
  { "set", "[<int64 1>]", BAD_ARGS, "Event.set() takes 0 arguments (1 given)" },
  { "clear", "[<int64 1>]", BAD_ARGS, "Event.clear() takes 0 arguments (1 given)" },
  { "wait", "[<just 'x'>]", BAD_ARGS, "Event.wait(): argument 1 must be an integer" },
  { "wait", "[<int64 1>, <int64 2>]", BAD_ARGS, "Event.wait() takes 0 to 1 arguments (2 given)" },
  { 0 }
};

static const BadCall barrier_calls[] = {
  { "wait", "[<just 'x'>]", BAD_ARGS, "Barrier.wait(): argument 1 must be an integer" },
  { "abort", "[<int64 1>]", BAD_ARGS, "Barrier.abort() takes 0 arguments (1 given)" },
  { "reset", "[<int64 1>]", BAD_ARGS, "Barrier.reset() takes 0 arguments (1 given)" },
  { "__getattribute__", "@av []", BAD_ARGS, "Barrier.__getattribute__() takes 1 argument (0 given)" },
  { "__getattribute__", "[<int64 1>]", BAD_ARGS, "Barrier.__getattribute__(): argument 1 must be a string" },
  { "__getattribute__", "[<just 'colour'>]", MP_ERROR_KEY, "'Barrier' object has no attribute 'colour' (Python: AttributeError)" },
  { 0 }
};

static const BadCall queue_calls[] = {
  { "put", "@av []", BAD_ARGS, "Queue.put() takes 1 to 3 arguments (0 given)" },
  { "put", "[<int64 1>, <just 'x'>]", BAD_ARGS, "Queue.put(): argument 2 must be a boolean" },
  { "put", "[<int64 1>, <true>, <just 'x'>]", BAD_ARGS, "Queue.put(): argument 3 must be an integer" },
  { "put_nowait", "@av []", BAD_ARGS, "Queue.put_nowait() takes 1 argument (0 given)" },
  { "put_nowait", "[<int64 2>]", MP_ERROR_FULL, "the queue is full (maxsize 1)" },
  { "put", "[<int64 2>, <false>]", MP_ERROR_FULL, "the queue is full (maxsize 1)" },
  { "get", "[<just 'x'>]", BAD_ARGS, "Queue.get(): argument 1 must be a boolean" },
  { "get", "[<true>, <just 'x'>]", BAD_ARGS, "Queue.get(): argument 2 must be an integer" },
  { "get_nowait", "[<int64 1>]", BAD_ARGS, "Queue.get_nowait() takes 0 arguments (1 given)" },
  { "qsize", "[<int64 1>]", BAD_ARGS, "Queue.qsize() takes 0 arguments (1 given)" },
  { "empty", "[<int64 1>]", BAD_ARGS, "Queue.empty() takes 0 arguments (1 given)" },
  { "full", "[<int64 1>]", BAD_ARGS, "Queue.full() takes 0 arguments (1 given)" },
  { "task_done", "[<int64 1>]", BAD_ARGS, "Queue.task_done() takes 0 arguments (1 given)" },
  { "join", "[<int64 1>]", BAD_ARGS, "Queue.join() takes 0 arguments (1 given)" },
  { 0 }
};

static const BadCall counter_calls[] = {
  /* a custom type decodes its arguments: an unregistered type is refused */
  { "increment", "[<('NoSuchType', <@a{sv} {}>)>]", MP_ERROR_PROTOCOL, "type 'NoSuchType' is not registered in this process" },
  { 0 }
};

static const BadCalls bad_calls[] = {
  { "list", "[<@av [<int64 1>, <int64 2>]>]", list_calls },
  { "dict", "[<@a{sv} {'a': <int64 1>}>]", dict_calls },
  { "Namespace", NULL, namespace_calls },
  { "Value", "[<just 'i'>, <int64 7>]", value_calls },
  { "Array", "[<just 'h'>, <@av [<int64 1>, <int64 2>, <int64 3>]>]", array_calls },
  { "Lock", NULL, lock_calls },
  { "RLock", NULL, rlock_calls },
  { "Semaphore", "[<int64 1>]", semaphore_calls },
  { "BoundedSemaphore", "[<int64 1>]", bounded_semaphore_calls },
  { "Condition", NULL, condition_calls },
  { "Event", NULL, event_calls },
  { "Barrier", "[<int64 2>]", barrier_calls },
  { "Queue", "[<int64 1>]", queue_calls },
  { "Counter", NULL, counter_calls },
};

/* Every refused call says why in Python's words and leaves the object
 * exactly as it was. */
static void
test_bad_calls (Fixture       *f,
                gconstpointer  data)
{
  const BadCalls *calls = data;
  RawClient client;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;
  guint64 id;

  raw_open (&client, f->manager, TRUE);
  id = raw_create (&client, calls->typeid, calls->ctor);
  if (strcmp (calls->typeid, "Queue") == 0)
    g_variant_unref (expect_return (raw_send (&client, id, "put", av ("[<int64 1>]"))));
  before = raw_send (&client, id, MP_GETVALUE_METHOD, NULL);

  for (const BadCall *call = calls->calls; call->method != NULL; call++)
    {
      g_test_message ("%s.%s(%s)", calls->typeid, call->method, call->args);
      expect_error (raw_send (&client, id, call->method, av (call->args)), call->code, call->words);
    }

  /* types without a value (locks, events...) answer #GETVALUE with the
   * same error both times */
  after = raw_send (&client, id, MP_GETVALUE_METHOD, NULL);
  g_assert_true (g_variant_equal (before, after));
  if (strcmp (calls->typeid, "Queue") == 0)
    g_variant_unref (expect_return (raw_send (&client, id, "get", NULL)));
  raw_decref (&client, id);
  raw_close (&client);
}

typedef struct
{
  const char *typeid;
  const char *ctor;
  MpError     code;
  const char *words;
} BadConstructor;

static const BadConstructor bad_constructors[] = {
  { "list", "[<int64 1>]", BAD_ARGS, "list() needs a list, not int" },
  { "list", "[<@av []>, <@av []>]", BAD_ARGS, "list() takes 0 to 1 arguments (2 given)" },
  { "dict", "[<just 'a'>]", BAD_ARGS, "dict() needs a dict with string keys, not str" },
  { "dict", "[<()>, <()>]", BAD_ARGS, "dict() takes 0 to 1 arguments (2 given)" },
  { "Namespace", "[<int64 1>]", BAD_ARGS, "Namespace() takes 0 arguments (1 given)" },
  { "Value", "@av []", BAD_ARGS, "Value() takes 1 to 2 arguments (0 given)" },
  { "Value", "[<int64 1>]", BAD_ARGS, "Value(): argument 1 must be a string" },
  { "Array", "@av []", BAD_ARGS, "Array() takes 1 to 2 arguments (0 given)" },
  { "Array", "[<int64 1>]", BAD_ARGS, "Array(): argument 1 must be a string" },
  { "Array", "[<just 'ii'>]", BAD_ARGS, "bad typecode 'ii' (must be b, B, h, H, i, I, l, L, q, Q, f or d) (Python: ValueError)" },
  { "Array", "[<just 'z'>]", BAD_ARGS, "bad typecode 'z'" },
  { "Array", "[<just 'i'>, <int64 3>]", BAD_ARGS, "Array() needs a list, not int" },
  { "Array", "[<just 'i'>, <@av [<int64 1>, <just 'x'>]>]", BAD_ARGS, "Array() item 1: an integer is required, not str" },
  { "Array", "[<just 'd'>, <@av [<just 'x'>]>]", BAD_ARGS, "Array() item 0: must be real number, not str (Python: TypeError); array 'd' holds floats" },
  { "Array", "[<just 'f'>, <@av [<()>]>]", BAD_ARGS, "must be real number, not NoneType" },
  { "Array", "[<just 'B'>, <@av [<int64 -1>]>]", BAD_ARGS, "value out of range for array typecode 'B'" },
  { "Array", "[<just 'b'>, <@av [<int64 128>]>]", BAD_ARGS, "value out of range for array typecode 'b'" },
  { "Array", "[<just 'q'>, <@av [<uint64 9223372036854775808>]>]", BAD_ARGS, "value out of range for array typecode 'q'" },
  { "Array", "[<just 'i'>, <@av [<@a{sv} {}>]>]", BAD_ARGS, "an integer is required, not dict" },
  { "Array", "[<just 'i'>, <@av [<@ay []>]>]", BAD_ARGS, "an integer is required, not bytes" },
  { "Lock", "[<int64 1>]", BAD_ARGS, "Lock() takes 0 arguments (1 given)" },
  { "RLock", "[<int64 1>]", BAD_ARGS, "RLock() takes 0 arguments (1 given)" },
  { "Semaphore", "[<int64 -1>]", BAD_ARGS, "semaphore initial value must be >= 0 (Python: ValueError)" },
  { "Semaphore", "[<just 'x'>]", BAD_ARGS, "Semaphore(): argument 1 must be an integer" },
  { "BoundedSemaphore", "[<int64 1>, <int64 1>]", BAD_ARGS, "BoundedSemaphore() takes 0 to 1 arguments (2 given)" },
  { "BoundedSemaphore", "[<just 'x'>]", BAD_ARGS, "BoundedSemaphore(): argument 1 must be an integer" },
  { "Condition", "[<()>, <()>]", BAD_ARGS, "Condition() takes 0 to 1 arguments (2 given)" },
  { "Condition", "[<int64 1>]", BAD_ARGS, "Condition(): expected a proxy" },
  { "Event", "[<int64 1>]", BAD_ARGS, "Event() takes 0 arguments (1 given)" },
  { "Barrier", "@av []", BAD_ARGS, "Barrier() takes 1 argument (0 given)" },
  { "Barrier", "[<just 'x'>]", BAD_ARGS, "Barrier(): argument 1 must be an integer" },
  { "Barrier", "[<int64 0>]", BAD_ARGS, "parties must be > 0 (Python: ValueError)" },
  { "Queue", "[<just 'x'>]", BAD_ARGS, "Queue(): argument 1 must be an integer" },
  { "Queue", "[<int64 1>, <int64 1>]", BAD_ARGS, "Queue() takes 0 to 1 arguments (2 given)" },
  { "Counter", "[<int64 1>]", BAD_ARGS, "Counter takes 0 arguments (1 given)" },
};

/* A constructor that refuses its arguments creates no object. */
static void
test_bad_constructors (Fixture       *f,
                       gconstpointer  data)
{
  RawClient client;

  raw_open (&client, f->manager, TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (bad_constructors); i++)
    {
      const BadConstructor *bad = &bad_constructors[i];
      g_autoptr(GVariant) rest = av (bad->ctor);
      g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

      g_test_message ("%s(%s)", bad->typeid, bad->ctor);
      g_variant_builder_add_value (&builder, mp_wire_string (bad->typeid));
      for (gsize j = 0; j < g_variant_n_children (rest); j++)
        {
          g_autoptr(GVariant) child = g_variant_get_child_value (rest, j);
          g_variant_builder_add_value (&builder, child);
        }
      expect_error (raw_send (&client, MP_SERVER_ID, "create", g_variant_builder_end (&builder)),
                    bad->code, bad->words);
      assert_counts (f->manager, 0, 0);
    }
  raw_close (&client);
}

/* ------------------------------------------------------------------ */
/* the server's own methods                                             */
/* ------------------------------------------------------------------ */

static void
test_server_protocol (Fixture       *f,
                      gconstpointer  data)
{
  RawClient client;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GVariant) inner = NULL;
  gint64 n = -1;
  guint64 id;

  /* nothing before hello, and hello must be well formed */
  raw_open (&client, f->manager, FALSE);
  expect_error (raw_send (&client, MP_SERVER_ID, "create", av ("[<just 'list'>]")),
                MP_ERROR_PROTOCOL, "a client must say hello first");
  expect_error (raw_send (&client, 1, "append", av ("[<int64 1>]")),
                MP_ERROR_PROTOCOL, "a client must say hello first");
  expect_error (raw_send (&client, MP_SERVER_ID, "hello", av ("[<int64 1>, <int64 2>]")),
                MP_ERROR_PROTOCOL, "hello takes (nonce, pid, anchor)");
  expect_error (raw_send (&client, MP_SERVER_ID, "hello", av ("[<just 'x'>, <int64 2>, <false>]")),
                MP_ERROR_PROTOCOL, "argument 1 must be a number");
  expect_error (raw_send (&client, MP_SERVER_ID, "hello", av ("[<int64 0>, <int64 2>, <false>]")),
                MP_ERROR_PROTOCOL, "hello takes (nonce, pid, anchor)");
  expect_error (raw_send (&client, MP_SERVER_ID, "hello", av ("[<int64 5>, <int64 2>, <just 'x'>]")),
                MP_ERROR_PROTOCOL, "hello takes (nonce, pid, anchor)");
  /* a nonce above G_MAXINT64 is still a nonce */
  g_variant_unref (expect_return (raw_send (&client, MP_SERVER_ID, "hello",
                                            av ("[<uint64 18446744073709551615>, <int64 2>, <false>]"))));
  expect_error (raw_send (&client, MP_SERVER_ID, "hello", av ("[<int64 5>, <int64 2>, <false>]")),
                MP_ERROR_PROTOCOL, "hello twice on one connection");

  /* create */
  expect_error (raw_send (&client, MP_SERVER_ID, "create", NULL), MP_ERROR_PROTOCOL, "create needs a type id");
  expect_error (raw_send (&client, MP_SERVER_ID, "create", av ("[<int64 1>]")),
                MP_ERROR_PROTOCOL, "create needs a type id");
  expect_error (raw_send (&client, MP_SERVER_ID, "create", av ("[<just 'Teapot'>]")),
                MP_ERROR_KEY, "no type 'Teapot' is registered in the manager");

  /* references */
  expect_error (raw_send (&client, MP_SERVER_ID, "incref", NULL), MP_ERROR_PROTOCOL, "missing argument 1");
  expect_error (raw_send (&client, MP_SERVER_ID, "incref", av ("[<just 'x'>]")),
                MP_ERROR_PROTOCOL, "argument 1 must be a number");
  expect_error (raw_send (&client, MP_SERVER_ID, "incref", av ("[<int64 424242>]")),
                MP_ERROR_KEY, "no object with id 424242");
  id = raw_create (&client, "list", NULL);
  expect_error (raw_send (&client, MP_SERVER_ID, "decref", args_of (mp_wire_int (id + 1000), NULL)),
                MP_ERROR_INVALID_ARGUMENT, "this client holds no reference");
  g_variant_unref (expect_return (raw_send (&client, MP_SERVER_ID, "incref",
                                            args_of (mp_wire_uint (id), NULL))));
  assert_counts (f->manager, 1, 2);
  raw_decref (&client, id);
  assert_counts (f->manager, 1, 1);

  /* the rest of the server's methods */
  g_variant_unref (expect_return (raw_send (&client, MP_SERVER_ID, "dummy", NULL)));
  counts = expect_return (raw_send (&client, MP_SERVER_ID, "debug_info", NULL));
  inner = g_variant_get_variant (counts);
  wire = g_variant_get_child_value (inner, 0);
  g_assert_true (mp_wire_get_int (wire, &n));
  g_assert_cmpint (n, ==, 1);
  expect_error (raw_send (&client, MP_SERVER_ID, "frobnicate", NULL),
                MP_ERROR_NOT_EXPOSED, "the manager has no method 'frobnicate'");
  raw_decref (&client, id);
  expect_error (raw_send (&client, MP_SERVER_ID, "decref", args_of (mp_wire_int (id), NULL)),
                MP_ERROR_INVALID_ARGUMENT, "this client holds no reference");
  expect_error (raw_send (&client, id, "append", av ("[<int64 1>]")),
                MP_ERROR_KEY, "it was freed when its last proxy went away");
  raw_close (&client);
}

/* ------------------------------------------------------------------ */
/* proxies of objects that are gone                                     */
/* ------------------------------------------------------------------ */

#define DEAD_ID G_GUINT64_CONSTANT (987654321)
#define GONE "which no longer exists"

/* A value holding a proxy of a freed object is refused everywhere it
 * could be stored, all or nothing: what was already retained for the
 * other items is given back. */
static void
test_dead_proxies (Fixture       *f,
                   gconstpointer  data)
{
  RawClient client;
  guint64 list, dict, ns, value, queue, lock;
  g_autoptr(GVariant) before = NULL;
  g_autoptr(GVariant) after = NULL;

  raw_open (&client, f->manager, TRUE);
  list = raw_create (&client, "list", "[<@av [<int64 1>]>]");
  dict = raw_create (&client, "dict", NULL);
  ns = raw_create (&client, "Namespace", NULL);
  value = raw_create (&client, "Value", "[<just 'i'>]");
  queue = raw_create (&client, "Queue", NULL);
  lock = raw_create (&client, "Lock", NULL);
  assert_counts (f->manager, 6, 6);

#define LIVE() token_wire (f->manager, "Lock", NULL, lock)
#define DEAD() token_wire (f->manager, "list", NULL, DEAD_ID)
  before = raw_send (&client, list, MP_GETVALUE_METHOD, NULL);

  expect_error (raw_send (&client, list, "append", args_of (DEAD (), NULL)), MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, list, "insert", args_of (mp_wire_int (0), DEAD (), NULL)), MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, list, "extend",
                          args_of (wire_pair (LIVE (), DEAD ()), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, list, "__setitem__",
                          args_of (mp_wire_int (0), mp_wire_int (1),
                                   wire_pair (LIVE (), DEAD ()), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, list, "__setitem__", args_of (mp_wire_int (0), DEAD (), NULL)),
                MP_ERROR_KEY, GONE);
  after = raw_send (&client, list, MP_GETVALUE_METHOD, NULL);
  g_assert_true (g_variant_equal (before, after));

  expect_error (raw_send (&client, dict, "__setitem__", args_of (mp_wire_string ("k"), DEAD (), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, dict, "setdefault", args_of (mp_wire_string ("k"), DEAD (), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, dict, "update",
                          args_of (wire_dict2 (LIVE (), DEAD ()), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, dict, "__len__", av ("[<true>]")), BAD_ARGS, NULL);
  g_clear_pointer (&after, g_variant_unref);
  after = expect_return (raw_send (&client, dict, "__len__", NULL));
  {
    gint64 len = -1;

    g_assert_true (mp_wire_get_int (after, &len));
    g_assert_cmpint (len, ==, 0);
  }

  expect_error (raw_send (&client, ns, "__setattr__", args_of (mp_wire_string ("a"), DEAD (), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, value, "set", args_of (DEAD (), NULL)), MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, queue, "put", args_of (DEAD (), NULL)), MP_ERROR_KEY, GONE);

  /* constructors too */
  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("Value"), mp_wire_string ("i"), DEAD (), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("list"),
                                   wire_pair (LIVE (), DEAD ()), NULL)),
                MP_ERROR_KEY, GONE);
  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("dict"),
                                   wire_dict2 (mp_wire_int (1), DEAD ()), NULL)),
                MP_ERROR_KEY, GONE);

  /* nothing was retained on the way: one reference per object, as before */
  assert_counts (f->manager, 6, 6);
#undef LIVE
#undef DEAD

  raw_decref (&client, list);
  raw_decref (&client, dict);
  raw_decref (&client, ns);
  raw_decref (&client, value);
  raw_decref (&client, queue);
  raw_decref (&client, lock);
  raw_close (&client);
}

/* Condition(lock) takes a proxy of a Lock or RLock of this manager. */
static void
test_condition_lock_argument (Fixture       *f,
                              gconstpointer  data)
{
  RawClient client;
  guint64 list, lock, cond = 0;

  raw_open (&client, f->manager, TRUE);
  list = raw_create (&client, "list", NULL);
  lock = raw_create (&client, "Lock", NULL);

  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("Condition"),
                                   token_wire (f->manager, "Lock", "unix:/elsewhere/listener", lock), NULL)),
                BAD_ARGS, "Condition(): the proxy belongs to the manager at unix:/elsewhere/listener, not to this one");
  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("Condition"), token_wire (f->manager, "Lock", NULL, DEAD_ID), NULL)),
                MP_ERROR_KEY, "Condition(): no object with id 987654321 in the manager");
  expect_error (raw_send (&client, MP_SERVER_ID, "create",
                          args_of (mp_wire_string ("Condition"), token_wire (f->manager, "list", NULL, list), NULL)),
                BAD_ARGS, "Condition() needs a Lock or an RLock proxy, not a list");
  assert_counts (f->manager, 2, 2);

  /* the good one keeps its lock alive: one more reference to the lock */
  {
    g_autoptr(GVariant) reply = raw_send (&client, MP_SERVER_ID, "create",
                                          args_of (mp_wire_string ("Condition"),
                                                   token_wire (f->manager, "Lock", NULL, lock), NULL));
    g_autoptr(GVariant) payload = NULL;
    g_autoptr(GVariant) fields = NULL;
    guint8 kind;

    g_variant_get (reply, "(y@v)", &kind, &payload);
    g_assert_cmpint (kind, ==, MP_REPLY_PROXY);
    fields = g_variant_get_variant (payload);
    g_variant_get (fields, "(&st)", NULL, &cond);
  }
  assert_counts (f->manager, 3, 4);

  /* a plain Lock held by anyone counts as owned (Python's _is_owned) */
  g_variant_unref (expect_return (raw_send (&client, lock, "acquire", NULL)));
  g_variant_unref (expect_return (raw_send (&client, cond, "notify_all", NULL)));
  g_variant_unref (expect_return (raw_send (&client, cond, "release", NULL)));
  expect_error (raw_send (&client, cond, "release", NULL), BAD_ARGS, "release unlocked lock");

  raw_decref (&client, cond);
  assert_counts (f->manager, 2, 2);
  raw_decref (&client, list);
  raw_decref (&client, lock);
  raw_close (&client);
}

/* A proxy of another manager is stored as plain data: this server keeps
 * no reference for it and gives it back untouched. */
static void
test_foreign_proxy (Fixture       *f,
                    gconstpointer  data)
{
  RawClient client;
  g_autoptr(GVariant) stored = NULL;
  g_autoptr(GVariant) token = NULL;
  MpToken parsed;
  guint64 list;

  raw_open (&client, f->manager, TRUE);
  list = raw_create (&client, "list", NULL);
  token = g_variant_ref_sink (token_wire (f->manager, "dict", "unix:/another/manager", 7));
  g_variant_unref (expect_return (raw_send (&client, list, "append", args_of (token, NULL))));
  assert_counts (f->manager, 1, 1);
  stored = expect_return (raw_send (&client, list, "__getitem__", av ("[<int64 0>]")));
  g_assert_true (mp_wire_get_token (stored, &parsed));
  g_assert_cmpstr (parsed.typeid, ==, "dict");
  g_assert_cmpstr (parsed.address, ==, "unix:/another/manager");
  g_assert_cmpuint (parsed.id, ==, 7);
  raw_decref (&client, list);
  raw_close (&client);
}

/* ------------------------------------------------------------------ */
/* what only the wire can say                                           */
/* ------------------------------------------------------------------ */

static void
expect_value (GVariant   *reply,
              const char *expected)
{
  g_autoptr(GVariant) got = expect_return (reply);
  g_autoptr(GVariant) want = g_variant_parse (G_VARIANT_TYPE_VARIANT, expected, NULL, NULL, NULL);

  g_assert_nonnull (want);
  if (!g_variant_equal (got, want))
    {
      g_autofree char *text = g_variant_print (got, TRUE);
      g_error ("got %s, expected %s", text, expected);
    }
}

/* An RLock belongs to one thread of one client; a Condition's wait that
 * times out says False and gives the lock back as it was held. */
static void
test_owners_and_timeouts (Fixture       *f,
                          gconstpointer  data)
{
  RawClient client;
  guint64 rlock, cond, sem, lock;

  raw_open (&client, f->manager, TRUE);
  rlock = raw_create (&client, "RLock", NULL);
  expect_value (raw_send_from (&client, 7, rlock, "acquire", NULL), "<true>");
  expect_value (raw_send_from (&client, 7, rlock, "acquire", av ("[<true>, <()>]")), "<true>");
  expect_value (raw_send_from (&client, 8, rlock, "acquire", av ("[<false>]")), "<false>");
  expect_error (raw_send_from (&client, 8, rlock, "release", NULL), BAD_ARGS, "cannot release un-acquired lock");
  g_variant_unref (expect_return (raw_send_from (&client, 7, rlock, "release", NULL)));
  g_variant_unref (expect_return (raw_send_from (&client, 7, rlock, "release", NULL)));
  expect_error (raw_send_from (&client, 7, rlock, "release", NULL), BAD_ARGS, "cannot release un-acquired lock");

  /* a plain Lock: anyone may release it, nobody may take it twice */
  lock = raw_create (&client, "Lock", NULL);
  expect_value (raw_send_from (&client, 7, lock, "acquire", NULL), "<true>");
  expect_value (raw_send_from (&client, 7, lock, "acquire", av ("[<true>, <int64 1000>]")), "<false>");
  g_variant_unref (expect_return (raw_send_from (&client, 8, lock, "release", NULL)));

  cond = raw_create (&client, "Condition", NULL);
  expect_value (raw_send_from (&client, 3, cond, "acquire", NULL), "<true>");
  expect_value (raw_send_from (&client, 3, cond, "wait", av ("[<int64 1000>]")), "<false>");
  expect_error (raw_send_from (&client, 4, cond, "notify", av ("[<int64 1>]")), BAD_ARGS, "cannot notify on un-acquired lock");
  g_variant_unref (expect_return (raw_send_from (&client, 3, cond, "notify", av ("[<()>]"))));
  g_variant_unref (expect_return (raw_send_from (&client, 3, cond, "release", NULL)));
  expect_error (raw_send_from (&client, 3, cond, "release", NULL), BAD_ARGS, "cannot release un-acquired lock");

  sem = raw_create (&client, "Semaphore", "[<int64 0>]");
  expect_value (raw_send (&client, sem, "acquire", av ("[<false>]")), "<false>");
  expect_value (raw_send (&client, sem, "acquire", av ("[<true>, <int64 1000>]")), "<false>");
  g_variant_unref (expect_return (raw_send (&client, sem, "release", av ("[<int64 2>]"))));
  expect_value (raw_send (&client, sem, "acquire", av ("[<()>, <()>]")), "<true>");

  raw_decref (&client, rlock);
  raw_decref (&client, lock);
  raw_decref (&client, cond);
  raw_decref (&client, sem);
  raw_close (&client);
}

/* None stands for a missing optional argument, as in Python; defaults
 * come back (and setdefault stores them); unsigned values keep their
 * full range in the arrays that hold them. */
static void
test_optional_arguments (Fixture       *f,
                         gconstpointer  data)
{
  RawClient client;
  guint64 list, dict, big, empty, queue, barrier;

  raw_open (&client, f->manager, TRUE);
  list = raw_create (&client, "list", "[<@av [<int64 1>, <int64 2>, <int64 3>]>]");
  expect_value (raw_send (&client, list, "pop", av ("[<()>]")), "<int64 3>");
  expect_value (raw_send (&client, list, "index", av ("[<int64 2>, <()>, <()>]")), "<int64 1>");
  expect_value (raw_send (&client, list, "__getitem__", av ("[<int64 -5>, <int64 1>]")), "<@av [<int64 1>]>");
  expect_value (raw_send (&client, list, "__getitem__", av ("[<int64 5>, <int64 -9>]")), "<@av []>");
  g_variant_unref (expect_return (raw_send (&client, list, "__setitem__",
                                            av ("[<int64 9>, <()>, <@av [<int64 4>]>]"))));
  expect_value (raw_send (&client, list, MP_GETVALUE_METHOD, NULL), "<@av [<int64 1>, <int64 2>, <int64 4>]>");
  g_variant_unref (expect_return (raw_send (&client, list, "sort", av ("[<()>]"))));

  dict = raw_create (&client, "dict", NULL);
  expect_value (raw_send (&client, dict, "get", av ("[<just 'k'>, <int64 5>]")), "<int64 5>");
  expect_value (raw_send (&client, dict, "get", av ("[<just 'k'>]")), "<()>");
  expect_value (raw_send (&client, dict, "setdefault", av ("[<just 'k'>, <int64 6>]")), "<int64 6>");
  expect_value (raw_send (&client, dict, "setdefault", av ("[<just 'k'>, <int64 7>]")), "<int64 6>");
  expect_value (raw_send (&client, dict, "setdefault", av ("[<just 'n'>]")), "<()>");
  expect_value (raw_send (&client, dict, "pop", av ("[<just 'gone'>, <just 'dflt'>]")), "<just 'dflt'>");
  expect_value (raw_send (&client, dict, MP_GETVALUE_METHOD, NULL), "<@a{sv} {'k': <int64 6>, 'n': <()>}>");

  big = raw_create (&client, "Array", "[<just 'Q'>, <@av [<uint64 18446744073709551615>, <int64 5>, <true>]>]");
  expect_value (raw_send (&client, big, "__getitem__", av ("[<int64 0>]")), "<uint64 18446744073709551615>");
  expect_value (raw_send (&client, big, "__getitem__", av ("[<int64 2>]")), "<int64 1>");
  g_variant_unref (expect_return (raw_send (&client, big, "__setitem__", av ("[<int64 1>, <uint64 7>]"))));
  expect_value (raw_send (&client, big, "__getitem__", av ("[<int64 -2>]")), "<int64 7>");
  empty = raw_create (&client, "Array", "[<just 'f'>, <()>]");
  expect_value (raw_send (&client, empty, "__len__", NULL), "<int64 0>");

  /* join returns at once when nothing is unfinished, and after task_done */
  queue = raw_create (&client, "Queue", "[<()>]");
  g_variant_unref (expect_return (raw_send (&client, queue, "join", NULL)));
  g_variant_unref (expect_return (raw_send (&client, queue, "put", av ("[<int64 1>, <()>, <()>]"))));
  expect_value (raw_send (&client, queue, "full", NULL), "<false>");
  expect_value (raw_send (&client, queue, "get", av ("[<()>, <()>]")), "<int64 1>");
  g_variant_unref (expect_return (raw_send (&client, queue, "task_done", NULL)));
  g_variant_unref (expect_return (raw_send (&client, queue, "join", NULL)));
  expect_error (raw_send (&client, queue, "get_nowait", NULL), MP_ERROR_EMPTY, "the queue is empty");

  barrier = raw_create (&client, "Barrier", "[<int64 1>]");
  expect_value (raw_send (&client, barrier, "wait", av ("[<()>]")), "<int64 0>");
  expect_value (raw_send (&client, barrier, "__getattribute__", av ("[<just 'broken'>]")), "<false>");
  g_variant_unref (expect_return (raw_send (&client, barrier, "abort", NULL)));
  expect_value (raw_send (&client, barrier, "__getattribute__", av ("[<just 'broken'>]")), "<true>");
  expect_error (raw_send (&client, barrier, "wait", NULL), MP_ERROR_BROKEN_BARRIER, "the barrier is broken");

  raw_decref (&client, list);
  raw_decref (&client, dict);
  raw_decref (&client, big);
  raw_decref (&client, empty);
  raw_decref (&client, queue);
  raw_decref (&client, barrier);
  raw_close (&client);
}

/* ------------------------------------------------------------------ */
/* list.sort(): Python's "<" across the kinds that have one             */
/* ------------------------------------------------------------------ */

static GVariant *
sorted_list (RawClient  *client,
             const char *items,
             const char *sort_args)
{
  g_autofree char *ctor = g_strdup_printf ("[<@av %s>]", items);
  guint64 id = raw_create (client, "list", ctor);
  GVariant *result;

  g_variant_unref (expect_return (raw_send (client, id, "sort", av (sort_args))));
  result = expect_return (raw_send (client, id, MP_GETVALUE_METHOD, NULL));
  raw_decref (client, id);
  return result;
}

static void
assert_sorted (RawClient  *client,
               const char *items,
               const char *sort_args,
               const char *expected)
{
  g_autoptr(GVariant) result = sorted_list (client, items, sort_args);
  g_autoptr(GVariant) want = g_variant_parse (G_VARIANT_TYPE_VARIANT, expected, NULL, NULL, NULL);

  g_assert_nonnull (want);
  if (!g_variant_equal (result, want))
    {
      g_autofree char *got = g_variant_print (result, TRUE);
      g_error ("sorting %s gave %s, expected %s", items, got, expected);
    }
}

static void
test_sort_kinds (Fixture       *f,
                 gconstpointer  data)
{
  RawClient client;
  static const struct {
    const char *items;
    const char *a;   /* the two type names, in either order */
    const char *b;
  } incomparable[] = {
    { "[<()>, <()>]", "NoneType", "NoneType" },
    { "[<@ms nothing>, <@ms nothing>]", "NoneType", "NoneType" },
    { "[<@a{sv} {}>, <@a{sv} {}>]", "dict", "dict" },
    { "[<@ay [1]>, <just 'a'>]", "bytes", "str" },
    { "[<@av [<int64 1>]>, <2.5>]", "list", "float" },
    { "[<@av [<int64 1>]>, <@av [<just 'a'>]>]", "int", "str" },
    { "[<('Thing', <@a{sv} {}>)>, <true>]", "object", "bool" },
  };

  raw_open (&client, f->manager, TRUE);

  /* numbers of every kind compare by value; equal ones keep their order */
  assert_sorted (&client,
                 "[<uint64 18446744073709551615>, <int64 3>, <2.5>, <int64 -5>, <uint64 3>, <true>]",
                 "@av []",
                 "<[<int64 -5>, <true>, <2.5>, <int64 3>, <uint64 3>, <uint64 18446744073709551615>]>");
  assert_sorted (&client, "[<uint64 5>, <int64 -1>, <uint64 2>]", "@av []",
                 "<[<int64 -1>, <uint64 2>, <uint64 5>]>");
  assert_sorted (&client, "[<int64 -1>, <uint64 5>, <int64 7>]", "[<true>]",
                 "<[<int64 7>, <uint64 5>, <int64 -1>]>");
  /* bytes: byte by byte, a prefix first */
  assert_sorted (&client, "[<@ay [0x62]>, <@ay [0x61, 0x62]>, <@ay [0x61]>]", "@av []",
                 "<[<@ay [0x61]>, <@ay [0x61, 0x62]>, <@ay [0x62]>]>");
  /* lists: element by element, a prefix first */
  assert_sorted (&client,
                 "[<@av [<int64 1>, <int64 2>]>, <@av [<int64 1>]>, <@av [<int64 0>, <int64 9>]>]",
                 "@av []",
                 "<[<@av [<int64 0>, <int64 9>]>, <@av [<int64 1>]>, <@av [<int64 1>, <int64 2>]>]>");
  /* strings in code point order, the sort flag as an int */
  assert_sorted (&client, "[<just 'b'>, <just 'é'>, <just 'a'>]", "[<int64 1>]",
                 "<[<just 'é'>, <just 'b'>, <just 'a'>]>");

  for (gsize i = 0; i < G_N_ELEMENTS (incomparable); i++)
    {
      g_autofree char *ctor = g_strdup_printf ("[<@av %s>]", incomparable[i].items);
      guint64 id = raw_create (&client, "list", ctor);
      g_autoptr(GVariant) before = raw_send (&client, id, MP_GETVALUE_METHOD, NULL);
      g_autoptr(GVariant) after = NULL;
      g_autofree char *ab = g_strdup_printf ("'<' not supported between instances of '%s' and '%s' (Python: TypeError)",
                                             incomparable[i].a, incomparable[i].b);
      g_autofree char *ba = g_strdup_printf ("'<' not supported between instances of '%s' and '%s' (Python: TypeError)",
                                             incomparable[i].b, incomparable[i].a);
      g_autoptr(GVariant) reply = raw_send (&client, id, "sort", NULL);
      g_autoptr(GVariant) payload = NULL;
      g_autoptr(GVariant) fields = NULL;
      const char *message;
      guint32 code;
      guint8 kind;

      g_variant_get (reply, "(y@v)", &kind, &payload);
      g_assert_cmpint (kind, ==, MP_REPLY_ERROR);
      fields = g_variant_get_variant (payload);
      g_variant_get (fields, "(u&s&s)", &code, NULL, &message);
      g_assert_cmpuint (code, ==, BAD_ARGS);
      g_assert_true (strstr (message, ab) != NULL || strstr (message, ba) != NULL);
      after = raw_send (&client, id, MP_GETVALUE_METHOD, NULL);
      g_assert_true (g_variant_equal (before, after));
      raw_decref (&client, id);
    }
  raw_close (&client);
}

/* ------------------------------------------------------------------ */
/* wire values: what the server accepts before storing anything         */
/* ------------------------------------------------------------------ */

static GVariant *
parse_wire (const char *text)
{
  g_autoptr(GError) error = NULL;
  GVariant *wire = g_variant_parse (NULL, text, NULL, NULL, &error);

  g_assert_no_error (error);
  return wire;
}

/* @depth lists around an int */
static GVariant *
nested_lists (guint depth)
{
  GVariant *wire = mp_wire_int (1);

  for (guint i = 0; i < depth; i++)
    wire = g_variant_new_variant (g_variant_new_array (G_VARIANT_TYPE_VARIANT, &wire, 1));
  return g_variant_ref_sink (wire);
}

static void
test_wire_check (void)
{
  static const char * const good[] = {
    "<()>", "<true>", "<int64 -1>", "<uint64 18446744073709551615>", "<2.5>",
    "<just 'text'>", "<@ms nothing>", "<@ay [1, 2]>", "<(<int32 5>,)>",
    "<@av [<int64 1>, <@av [<just 'x'>]>]>",
    "<@a{sv} {'k': <@a{sv} {'deep': <()>}>}>",
    "<('Point', <@a{sv} {'x': <int64 1>}>)>",
  };
  static const struct {
    const char *text;
    const char *words;
  } bad[] = {
    { "int64 1", "a wire value must be a boxed variant" },
    { "<int32 1>", "a value of wire type 'i' was refused: it is no serialized value" },
    { "<'bare string'>", "wire type 's' was refused" },
    { "<@av [<int64 1>, <int16 2>]>", "wire type 'n' was refused" },
    { "<@a{sv} {'k': <@a{sv} {'deep': <byte 0>}>}>", "wire type 'y' was refused" },
    { "<('', <@a{sv} {}>)>", "an object without a type name was refused" },
    { "<{'k', <int64 1>}>", "wire type '{sv}' was refused" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GVariant) wire = parse_wire (good[i]);
      g_autoptr(GError) error = NULL;

      g_test_message ("good: %s", good[i]);
      g_assert_true (mp_wire_check (wire, &error));
      g_assert_no_error (error);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GVariant) wire = parse_wire (bad[i].text);
      g_autoptr(GError) error = NULL;

      g_test_message ("bad: %s", bad[i].text);
      g_assert_false (mp_wire_check (wire, &error));
      g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, bad[i].words));
    }

  /* nesting is bounded: 64 levels pass, 65 do not */
  {
    g_autoptr(GVariant) deep_enough = nested_lists (64);
    g_autoptr(GVariant) too_deep = nested_lists (65);
    g_autoptr(GError) error = NULL;

    g_assert_true (mp_wire_check (deep_enough, &error));
    g_assert_no_error (error);
    g_assert_false (mp_wire_check (too_deep, &error));
    g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "nested deeper than 64 levels"));
  }
}

/* Python's conversions: bool is an int, an int is a float, nothing else */
static void
test_wire_readers (void)
{
  static const struct {
    const char *text;
    gboolean    is_int;
    gint64      i;
    gboolean    is_bool;
    gboolean    b;
    gboolean    is_double;
    double      d;
  } cases[] = {
    { "<int64 -7>", TRUE, -7, TRUE, TRUE, TRUE, -7.0 },
    { "<int64 0>", TRUE, 0, TRUE, FALSE, TRUE, 0.0 },
    { "<uint64 9>", TRUE, 9, TRUE, TRUE, TRUE, 9.0 },
    { "<uint64 18446744073709551615>", FALSE, 0, FALSE, FALSE, TRUE, 18446744073709551615.0 },
    { "<true>", TRUE, 1, TRUE, TRUE, TRUE, 1.0 },
    { "<false>", TRUE, 0, TRUE, FALSE, TRUE, 0.0 },
    { "<0.5>", FALSE, 0, FALSE, FALSE, TRUE, 0.5 },
    { "<just '1'>", FALSE, 0, FALSE, FALSE, FALSE, 0 },
    { "<()>", FALSE, 0, FALSE, FALSE, FALSE, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) wire = parse_wire (cases[i].text);
      g_autoptr(GVariant) inner = g_variant_get_variant (wire);
      gint64 n = 12345;
      gboolean b = 2;
      double d = -1;

      g_test_message ("%s", cases[i].text);
      /* boxed or not, the same answers */
      g_assert_cmpint (mp_wire_get_int (wire, &n), ==, cases[i].is_int);
      g_assert_cmpint (mp_wire_get_int (inner, &n), ==, cases[i].is_int);
      g_assert_cmpint (n, ==, cases[i].is_int ? cases[i].i : 12345);
      g_assert_cmpint (mp_wire_get_bool (wire, &b), ==, cases[i].is_bool);
      g_assert_cmpint (b, ==, cases[i].is_bool ? cases[i].b : 2);
      g_assert_cmpint (mp_wire_get_double (wire, &d), ==, cases[i].is_double);
      g_assert_cmpfloat (d, ==, cases[i].is_double ? cases[i].d : -1);
    }

  {
    g_autoptr(GVariant) none = g_variant_ref_sink (mp_wire_none ());
    g_autoptr(GVariant) nothing = parse_wire ("<@ms nothing>");
    g_autoptr(GVariant) text = g_variant_ref_sink (mp_wire_string ("hi"));
    g_autoptr(GVariant) null_text = g_variant_ref_sink (mp_wire_string (NULL));
    g_autoptr(GVariant) number = g_variant_ref_sink (mp_wire_int (1));
    g_autoptr(GVariant) empty = g_variant_ref_sink (mp_wire_list (NULL));

    g_assert_true (mp_wire_is_none (none));
    g_assert_false (mp_wire_is_none (nothing));
    g_assert_false (mp_wire_is_none (number));
    g_assert_cmpstr (mp_wire_peek_string (text), ==, "hi");
    g_assert_null (mp_wire_peek_string (null_text));
    g_assert_null (mp_wire_peek_string (nothing));
    g_assert_null (mp_wire_peek_string (number));
    g_autoptr(GVariant) empty_inner = g_variant_get_variant (empty);

    g_assert_true (mp_wire_check (empty, NULL));
    g_assert_cmpstr (g_variant_get_type_string (empty_inner), ==, "av");
    g_assert_cmpuint (g_variant_n_children (empty_inner), ==, 0);
  }
}

typedef struct
{
  GPtrArray *found;
  guint      limit;   /* stop the walk after this many */
} Collect;

static gboolean
collect_token (const MpToken *token,
               gpointer       user_data)
{
  Collect *collect = user_data;

  g_ptr_array_add (collect->found,
                   g_strdup_printf ("%s@%s#%" G_GUINT64_FORMAT, token->typeid, token->address, token->id));
  return collect->found->len < collect->limit;
}

/* The server counts exactly the proxies a client would rebuild. */
static void
test_wire_tokens (void)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  Collect collect = { found, G_MAXUINT };
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GVariant) deep = NULL;
  const char *token = "('MpProxy', <('list', 'unix:/m', uint64 %d, @ay [])>)";
  g_autofree char *t1 = g_strdup_printf (token, 1);
  g_autofree char *t2 = g_strdup_printf (token, 2);
  g_autofree char *t3 = g_strdup_printf (token, 3);
  g_autofree char *t4 = g_strdup_printf (token, 4);
  g_autofree char *t5 = g_strdup_printf (token, 5);
  g_autofree char *text = NULL;
  MpToken parsed;

  /* in a list, in a dict, in an object's properties; never inside opaque
   * "(v)" data, an object whose state is no property dict, or a token
   * whose state has the wrong shape */
  text = g_strdup_printf ("<@av [<%s>, <@a{sv} {'k': <%s>}>, <('Point', <@a{sv} {'p': <%s>}>)>,"
                          " <(<%s>,)>, <('Opaque', <(<%s>,)>)>,"
                          " <('MpProxy', <('list', 'unix:/m')>)>, <int64 9>]>",
                          t1, t2, t3, t4, t5);
  wire = parse_wire (text);
  g_assert_true (mp_wire_foreach_token (wire, collect_token, &collect));
  g_assert_cmpuint (found->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (found, 0), ==, "list@unix:/m#1");
  g_assert_cmpstr (g_ptr_array_index (found, 1), ==, "list@unix:/m#2");
  g_assert_cmpstr (g_ptr_array_index (found, 2), ==, "list@unix:/m#3");

  /* the walk stops when asked to */
  g_ptr_array_set_size (found, 0);
  collect.limit = 2;
  g_assert_false (mp_wire_foreach_token (wire, collect_token, &collect));
  g_assert_cmpuint (found->len, ==, 2);
  g_ptr_array_set_size (found, 0);
  collect.limit = G_MAXUINT;

  g_assert_false (mp_wire_get_token (wire, &parsed));
  {
    g_autofree char *bad_state = g_strdup ("<('MpProxy', <int64 1>)>");
    g_autoptr(GVariant) not_a_token = parse_wire (bad_state);
    g_autoptr(GVariant) other_name = parse_wire ("<('MpProxyX', <('list', 'unix:/m', uint64 1, @ay [])>)>");

    g_assert_false (mp_wire_get_token (not_a_token, &parsed));
    g_assert_false (mp_wire_get_token (other_name, &parsed));
  }

  /* a token buried deeper than any real value is not followed */
  {
    GVariant *inner = g_variant_new_variant (g_variant_new_parsed (t1));

    for (guint i = 0; i < 70; i++)
      inner = g_variant_new_variant (g_variant_new_array (G_VARIANT_TYPE_VARIANT, &inner, 1));
    deep = g_variant_ref_sink (inner);
  }
  g_assert_true (mp_wire_foreach_token (deep, collect_token, &collect));
  g_assert_cmpuint (found->len, ==, 0);
}

/* the test data is not a start method here: always fork the manager */
static void
setup (Fixture       *f,
       gconstpointer  data)
{
  fixture_setup (f, NULL);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  fixture_teardown (f, NULL);
}

/* A timeout so long that the clock would overflow before it ran out
 * (a peer may send any) is no deadline: each call that takes one still
 * answers at once when it need not wait. The fuzzer found the overflow;
 * UBSan in the server stops this test without the fix. */
static void
test_timeout_end_of_time (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *forever = g_strdup_printf ("<int64 %" G_GINT64_FORMAT ">", G_MAXINT64);
  g_autofree char *blocking = g_strdup_printf ("[<true>, %s]", forever);
  g_autofree char *alone = g_strdup_printf ("[%s]", forever);
  g_autofree char *put = g_strdup_printf ("[<int64 5>, <true>, %s]", forever);
  g_autofree char *get = g_strdup_printf ("[<true>, %s]", forever);
  RawClient client;
  guint64 lock, sem, event, barrier, queue;

  raw_open (&client, f->manager, TRUE);
  lock = raw_create (&client, "RLock", NULL);
  expect_value (raw_send (&client, lock, "acquire", av (blocking)), "<true>");
  sem = raw_create (&client, "Semaphore", "[<int64 1>]");
  expect_value (raw_send (&client, sem, "acquire", av (blocking)), "<true>");
  event = raw_create (&client, "Event", NULL);
  g_variant_unref (expect_return (raw_send (&client, event, "set", NULL)));
  expect_value (raw_send (&client, event, "wait", av (alone)), "<true>");
  barrier = raw_create (&client, "Barrier", "[<int64 1>]");
  expect_value (raw_send (&client, barrier, "wait", av (alone)), "<int64 0>");
  queue = raw_create (&client, "Queue", NULL);
  g_variant_unref (expect_return (raw_send (&client, queue, "put", av (put))));
  expect_value (raw_send (&client, queue, "get", av (get)), "<int64 5>");

  raw_decref (&client, lock);
  raw_decref (&client, sem);
  raw_decref (&client, event);
  raw_decref (&client, barrier);
  raw_decref (&client, queue);
  raw_close (&client);
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (bad_calls); i++)
    {
      g_autofree char *path = g_strdup_printf ("/referent/bad-args/%s", bad_calls[i].typeid);

      g_test_add (path, Fixture, &bad_calls[i], setup, test_bad_calls, teardown);
    }
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/referent/bad-constructor", test_bad_constructors);
  ADD ("/referent/server/protocol", test_server_protocol);
  ADD ("/referent/dead-proxy/refused", test_dead_proxies);
  ADD ("/referent/dead-proxy/condition-lock", test_condition_lock_argument);
  ADD ("/referent/foreign-proxy", test_foreign_proxy);
  ADD ("/referent/sort/kinds", test_sort_kinds);
  ADD ("/referent/owners-and-timeouts", test_owners_and_timeouts);
  ADD ("/referent/optional-arguments", test_optional_arguments);
  ADD ("/referent/timeout/end-of-time", test_timeout_end_of_time);
  g_test_add_func ("/referent/wire/check", test_wire_check);
  g_test_add_func ("/referent/wire/readers", test_wire_readers);
  g_test_add_func ("/referent/wire/tokens", test_wire_tokens);

  return g_test_run ();
}
