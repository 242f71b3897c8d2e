/* fuzz-manager.c — libFuzzer target: untrusted requests into a manager
 * server running in this process
 *
 * Build and run a fixed number of executions (clang, libclang-rt-14-dev):
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true \
 *     -Db_sanitize=address,undefined -Db_lundef=false
 *   ninja -C build-fuzz tests/fuzz/fuzz-manager
 *   ./build-fuzz/tests/fuzz/fuzz-manager -runs=1000000 \
 *     "$(mktemp -d)" tests/fuzz/corpus/manager
 *
 * The server task runs in a thread of the fuzzer, so its code gives
 * coverage feedback and ASan watches it. Each input is one authenticated
 * client: the harness says hello, then sends the input's records one
 * frame each and reads every reply. A record is a little-endian 16-bit
 * length and that many bytes. A record that is a request, spelled as a
 * GVariant "(tsavt)" (REQUEST_RECORD), is put in the manager's envelope
 * (mp_message_write_request_variant()) and sent with two fixes that make inputs replayable: object ids count the
 * objects this input created (1 = its first), and proxy tokens among the
 * arguments point at this server. Any other record goes out raw: the
 * server must answer it if it happens to be a request, and otherwise
 * drop just this connection.
 *
 * What must hold: every reply is well-formed (a kind, zeros and a "v",
 * which is the normal form of a "(yv)"; a RETURN payload
 * passes mp_wire_check() as clients require, an ERROR names an MP_ERROR
 * code); a call that blocks ends when the client hangs up; the server
 * ends the connection after the client's goodbye, having released what
 * the client held, and the thread that served it ends.
 *
 * Compiled with -DFUZZ_MAKE_CORPUS the same file writes the seeds:
 *   build/tests/fuzz/fuzz-manager-corpus tests/fuzz/corpus/manager
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mpshare.h"
#include "mp-manager-private.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* how an input spells a request: (object id, method, arguments, thread) */
#define REQUEST_RECORD "(tsavt)"
#define MAX_RECORDS   16
#define MAX_CREATED   8
/* a reply slower than this means the call blocks (Queue.get, Lock.acquire
 * held by us, Barrier.wait, ...): the client then hangs up */
#define REPLY_WAIT_US (20 * 1000)
/* the server must end the connection within this after the hang-up */
#define GOODBYE_US    (10 * G_USEC_PER_SEC)

/* ------------------------------------------------------------------ */
/* FuzzCounter: a registered server-side type                          */

#define FUZZ_TYPE_COUNTER (fuzz_counter_get_type ())
G_DECLARE_FINAL_TYPE (FuzzCounter, fuzz_counter, FUZZ, COUNTER, GObject)

struct _FuzzCounter {
  GObject parent_instance;
  gint64  count;
  char   *label;
};

enum {
  COUNTER_PROP_0,
  COUNTER_PROP_COUNT,
  COUNTER_PROP_LABEL,
};

G_DEFINE_TYPE (FuzzCounter, fuzz_counter, G_TYPE_OBJECT)

static void
fuzz_counter_init (FuzzCounter *self)
{
}

static void
fuzz_counter_finalize (GObject *object)
{
  g_free (FUZZ_COUNTER (object)->label);
  G_OBJECT_CLASS (fuzz_counter_parent_class)->finalize (object);
}

static void
fuzz_counter_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  FuzzCounter *self = FUZZ_COUNTER (object);

  if (prop_id == COUNTER_PROP_COUNT)
    g_value_set_int64 (value, self->count);
  else
    g_value_set_string (value, self->label);
}

static void
fuzz_counter_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  FuzzCounter *self = FUZZ_COUNTER (object);

  if (prop_id == COUNTER_PROP_COUNT)
    self->count = g_value_get_int64 (value);
  else
    {
      g_free (self->label);
      self->label = g_value_dup_string (value);
    }
}

static void
fuzz_counter_class_init (FuzzCounterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = fuzz_counter_finalize;
  object_class->get_property = fuzz_counter_get_property;
  object_class->set_property = fuzz_counter_set_property;
  g_object_class_install_property (object_class, COUNTER_PROP_COUNT,
    g_param_spec_int64 ("count", NULL, NULL, G_MININT64, G_MAXINT64, 0, rw));
  g_object_class_install_property (object_class, COUNTER_PROP_LABEL,
    g_param_spec_string ("label", NULL, NULL, NULL, rw));
}

/* add(n): checks its argument as a careful method must */
static gboolean
fuzz_counter_add (GObject  *object,
                  MpArgs   *args,
                  GValue   *result,
                  GError  **error)
{
  FuzzCounter *self = FUZZ_COUNTER (object);
  const GValue *n;

  if (mp_args_get_length (args) != 1 ||
      !G_VALUE_HOLDS_INT64 ((n = mp_args_get_value (args, 0))))
    {
      g_set_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT, "add() takes one int");
      return FALSE;
    }
  self->count += g_value_get_int64 (n);
  g_value_set_int64 (g_value_init (result, G_TYPE_INT64), self->count);
  return TRUE;
}

/* echo(x): any decoded value back, through the serializer both ways */
static gboolean
fuzz_counter_echo (GObject  *object,
                   MpArgs   *args,
                   GValue   *result,
                   GError  **error)
{
  const GValue *first;

  if (mp_args_get_length (args) == 0)
    return TRUE;
  first = mp_args_get_value (args, 0);
  if (G_IS_VALUE (first))
    {
      g_value_init (result, G_VALUE_TYPE (first));
      g_value_copy (first, result);
    }
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* the server, in a thread of this process                             */

static const guint8 auth_key_data[32] = "mpshare fuzz-manager auth key!!";
static GBytes *auth_key;
static char *server_address;
static MpConnection *lifeline;   /* kept: closing it stops the server */
static GThread *server;
/* FUZZ_VERBOSE=1 shows the conversation, to see what an input does */
static gboolean verbose;

static gpointer
server_thread (gpointer data)
{
  MpArgs *args = data;
  MpTaskFunc task = mp_task_lookup (MP_MANAGER_SERVER_TASK);
  g_auto(GValue) result = G_VALUE_INIT;
  g_autoptr(GError) error = NULL;

  if (!task (args, &result, &error))
    g_error ("the manager server failed: %s", error->message);
  mp_args_unref (args);
  return NULL;
}

static void
start_server (void)
{
  static const MpMethod methods[] = {
    { "add", fuzz_counter_add },
    { "echo", fuzz_counter_echo },
    { NULL, NULL },
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) report = NULL;
  const char *address;
  gboolean ok;
  MpArgs *args;
  int fds[2];

  mp_serialize_register_type (FUZZ_TYPE_COUNTER, NULL);
  mp_manager_register_type ("FuzzCounter", FUZZ_TYPE_COUNTER, methods);

  auth_key = g_bytes_new_static (auth_key_data, sizeof auth_key_data);
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    g_error ("socketpair: %s", g_strerror (errno));
  /* as mp_manager_start() does; -1: there is no parent's end to close */
  args = mp_args_new (G_TYPE_STRING, NULL, G_TYPE_BYTES, auth_key,
                      G_TYPE_INT64, (gint64) fds[1], G_TYPE_INT64, (gint64) -1,
                      G_TYPE_INVALID);
  server = g_thread_new ("fuzz-manager-server", server_thread, args);

  lifeline = mp_connection_new_for_fd (fds[0], &error);
  g_assert_no_error (error);
  report = mp_connection_recv_variant (lifeline, G_VARIANT_TYPE ("(bsus)"), -1, &error);
  g_assert_no_error (error);
  g_variant_get (report, "(b&sus)", &ok, &address, NULL, NULL);
  g_assert_true (ok);
  server_address = g_strdup (address);
}

/* At exit, as a parent that goes away: the server stops and removes its
 * socket and directory. (After a crash they stay behind.) */
static void
stop_server (void)
{
  mp_connection_shutdown (lifeline);
  g_thread_join (server);
  g_clear_pointer (&lifeline, mp_connection_unref);
  g_clear_pointer (&server_address, g_free);
  g_clear_pointer (&auth_key, g_bytes_unref);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* bad input must come back as a GError: a critical is a bug too */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  verbose = g_getenv ("FUZZ_VERBOSE") != NULL;
  /* before libFuzzer installs its handlers: the server task ignores SIGINT */
  start_server ();
  atexit (stop_server);
  return 0;
}

/* ------------------------------------------------------------------ */
/* one client                                                          */

typedef struct {
  MpConnection *connection;
  guint64       created[MAX_CREATED];
  guint         n_created;
  gboolean      gone;          /* the server ended the connection */
} Client;

static guint64
translate_id (Client  *client,
              guint64  id)
{
  if (id == MP_SERVER_ID || client->n_created == 0)
    return id;
  return client->created[(id - 1) % client->n_created];
}

/* a top-level argument that is a proxy token now names this server */
static GVariant *
translate_arg (Client   *client,
               GVariant *wire)
{
  g_autoptr(GVariant) inner = g_variant_get_variant (wire);
  g_autoptr(GVariant) state = NULL;
  g_autoptr(GVariant) key = NULL;
  MpToken token;

  if (!mp_wire_get_token (inner, &token))
    return g_variant_ref (wire);
  {
    g_autoptr(GVariant) boxed = g_variant_get_child_value (inner, 1);

    state = g_variant_get_variant (boxed);
  }
  key = g_variant_get_child_value (state, 3);
  return g_variant_ref_sink (g_variant_new_variant (
    g_variant_new ("(s@v)", MP_PROXY_WIRE_NAME,
                   g_variant_new_variant (g_variant_new ("(sst@ay)", token.typeid, server_address,
                                                         translate_id (client, token.id), key)))));
}

/* Returns: (transfer full) (nullable): the request to send, NULL to skip */
static GVariant *
translate_request (Client   *client,
                   GVariant *request)
{
  g_auto(GVariantBuilder) args = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GVariant) given = NULL;
  const char *method;
  guint64 id, thread;

  g_variant_get (request, "(t&s@avt)", &id, &method, &given, &thread);
  /* a client may stop the server; the fuzzer needs it running */
  if (id == MP_SERVER_ID && strcmp (method, "shutdown") == 0)
    return NULL;
  for (gsize i = 0; i < g_variant_n_children (given); i++)
    {
      g_autoptr(GVariant) wire = g_variant_get_child_value (given, i);
      g_autoptr(GVariant) translated = translate_arg (client, wire);
      gint64 n;

      /* incref/decref name an object by its id */
      if (i == 0 && id == MP_SERVER_ID && strstr (method, "cref") != NULL &&
          mp_wire_get_int (wire, &n) && n > 0)
        {
          g_clear_pointer (&translated, g_variant_unref);
          translated = g_variant_ref_sink (mp_wire_uint (translate_id (client, (guint64) n)));
        }
      g_variant_builder_add_value (&args, translated);
    }
  return g_variant_ref_sink (g_variant_new ("(ts@avt)", translate_id (client, id), method,
                                            g_variant_builder_end (&args), thread));
}

static void
show (const char *what,
      GVariant   *value)
{
  g_autofree char *text = NULL;

  if (!verbose)
    return;
  text = g_variant_print (value, FALSE);
  g_printerr ("%s %s\n", what, text);
}

static void
check_reply (Client   *client,
             GVariant *reply)
{
  g_autoptr(GVariant) boxed = NULL;
  g_autoptr(GVariant) inner = NULL;
  g_autoptr(GError) error = NULL;
  guint8 kind;

  show ("<-", reply);
  g_variant_get (reply, "(y@v)", &kind, &boxed);
  switch (kind)
    {
    case MP_REPLY_RETURN:
      /* what a client refuses to read must never be sent */
      if (!mp_wire_check (boxed, &error))
        g_error ("the server returned a malformed value: %s", error->message);
      break;

    case MP_REPLY_PROXY:
      inner = g_variant_get_variant (boxed);
      g_assert_true (g_variant_is_of_type (inner, G_VARIANT_TYPE (MP_MSG_PROXY)));
      if (client->n_created < MAX_CREATED)
        {
          guint64 id;

          g_variant_get (inner, "(&st)", NULL, &id);
          client->created[client->n_created++] = id;
        }
      break;

    case MP_REPLY_ERROR:
      inner = g_variant_get_variant (boxed);
      g_assert_true (g_variant_is_of_type (inner, G_VARIANT_TYPE (MP_MSG_ERROR)));
      mp_client_set_remote_error (&error, inner);
      g_assert_nonnull (error);
      g_assert_true (error->domain == MP_ERROR);
      break;

    default:
      g_error ("the server sent a reply of unknown kind %u", kind);
    }
}

/* Returns: FALSE when the conversation is over */
static gboolean
exchange (Client *client,
          GBytes *frame,
          gint64  wait_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = NULL;

  if (!mp_connection_send_bytes (client->connection, frame, &error))
    {
      client->gone = TRUE;
      return FALSE;
    }
  reply = mp_connection_recv_variant (client->connection, G_VARIANT_TYPE (MP_MSG_REPLY),
                                      wait_us, &error);
  if (reply == NULL)
    {
      /* a blocked call, or the server dropped a client that sent garbage */
      if (mp_connection_error_is_peer_gone (error))
        client->gone = TRUE;
      else
        g_assert_true (g_error_matches (error, MP_ERROR, MP_ERROR_TIMEOUT));
      return FALSE;
    }
  check_reply (client, reply);
  return TRUE;
}

static gboolean
send_request (Client   *client,
              GVariant *request,
              gint64    wait_us)
{
  g_autoptr(GByteArray) message = g_byte_array_new ();
  g_autoptr(GBytes) frame = NULL;

  mp_message_write_request_variant (message, request);
  frame = g_byte_array_free_to_bytes (g_steal_pointer (&message));
  show ("->", request);
  return exchange (client, frame, wait_us);
}

static void
say_hello (Client   *client,
           gboolean  anchor)
{
  static guint64 nonce;
  g_auto(GVariantBuilder) args = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GVariant) request = NULL;

  /* a fresh client process each time: its anchor's end releases all */
  g_variant_builder_add_value (&args, mp_wire_uint (++nonce));
  g_variant_builder_add_value (&args, mp_wire_int (getpid ()));
  g_variant_builder_add_value (&args, mp_wire_bool (anchor));
  request = g_variant_ref_sink (g_variant_new ("(ts@avt)", (guint64) MP_SERVER_ID, "hello",
                                               g_variant_builder_end (&args), (guint64) 1));
  /* never blocks: only a loaded machine makes it slow */
  g_assert_true (send_request (client, request, GOODBYE_US));
}

/* The threads of this process, as the kernel lists them. */
static guint
count_threads (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Waits until the thread that served a client has ended, so the next
 * input starts alone and LeakSanitizer never catches a thread half-way
 * through freeing its thread-local memory (GSlice's magazines). Its name
 * cannot tell it apart (GLib 2.74 cannot set a name longer than 15
 * characters) and it cannot be joined without its handle: poll until the
 * process has no more threads than before the client came, bounded. */
static void
wait_for_threads (guint  before,
                  gint64 deadline)
{
  while (count_threads () > before)
    {
      if (g_get_monotonic_time () >= deadline)
        g_error ("a server thread outlived its client by %d s",
                 (int) (GOODBYE_US / G_USEC_PER_SEC));
      g_usleep (50);
    }
}

/* Hangs up (write side) and waits until the server has ended the
 * connection: by then it released everything this client held. */
static void
say_goodbye (Client *client,
             guint   threads_before)
{
  GSocket *socket = mp_connection_get_socket (client->connection);
  gint64 deadline = g_get_monotonic_time () + GOODBYE_US;

  g_socket_shutdown (socket, FALSE, TRUE, NULL);
  while (!client->gone)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) frame = NULL;
      gint64 now = g_get_monotonic_time ();

      if (now >= deadline)
        g_error ("the server still holds the connection %d s after the client hung up",
                 (int) (GOODBYE_US / G_USEC_PER_SEC));
      /* the replies of calls that the hang-up ended may come first */
      frame = mp_connection_recv_bytes (client->connection, deadline - now, &error);
      if (frame == NULL && !g_error_matches (error, MP_ERROR, MP_ERROR_TIMEOUT))
        client->gone = TRUE;
    }
  wait_for_threads (threads_before, deadline);
}

/* With FUZZ_VERBOSE, what the server still holds after an input: objects
 * kept alive by a reference cycle, for instance. */
static void
show_server_objects (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) request = NULL;
  Client client = { NULL, { 0 }, 0, FALSE };
  guint threads = count_threads ();

  client.connection = mp_connection_connect (server_address, auth_key, GOODBYE_US, &error);
  g_assert_no_error (error);
  say_hello (&client, FALSE);
  request = g_variant_ref_sink (g_variant_new ("(ts@avt)", (guint64) MP_SERVER_ID, "debug_info",
                                               g_variant_new ("av", NULL), (guint64) 1));
  g_printerr ("after the input, (objects, references):\n");
  g_assert_true (send_request (&client, request, GOODBYE_US));
  say_goodbye (&client, threads);
  mp_connection_unref (client.connection);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  g_autoptr(GError) error = NULL;
  Client client = { NULL, { 0 }, 0, FALSE };
  guint threads = count_threads ();
  gsize offset = 0;

  client.connection = mp_connection_connect (server_address, auth_key, GOODBYE_US, &error);
  g_assert_no_error (error);
  say_hello (&client, TRUE);

  for (guint n = 0; n < MAX_RECORDS && offset + 2 <= size; n++)
    {
      gsize len = data[offset] | (gsize) data[offset + 1] << 8;
      g_autoptr(GBytes) record = NULL;
      g_autoptr(GVariant) request = NULL;
      g_autoptr(GVariant) translated = NULL;
      gboolean going_on;

      offset += 2;
      len = MIN (len, size - offset);
      record = g_bytes_new (data + offset, len);
      offset += len;

      request = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (REQUEST_RECORD),
                                                              record, FALSE));
      if (!g_variant_is_normal_form (request))
        {
          if (verbose)
            g_printerr ("-> %" G_GSIZE_FORMAT " bytes that are no request\n", len);
          going_on = exchange (&client, record, REPLY_WAIT_US);
        }
      else if ((translated = translate_request (&client, request)) == NULL)
        going_on = TRUE;
      else
        going_on = send_request (&client, translated, REPLY_WAIT_US);
      if (!going_on)
        break;
    }

  say_goodbye (&client, threads);
  mp_connection_unref (client.connection);
  if (verbose)
    show_server_objects ();
  return 0;
}

/* ------------------------------------------------------------------ */
/* The seed corpus: conversations a real client has, and a few bad ones */

#ifdef FUZZ_MAKE_CORPUS

/* (id, method, args...) with args as GVariant wires ("v"), then NULL */
static void
add_request (GByteArray *out,
             guint64     id,
             const char *method,
             ...)
{
  g_auto(GVariantBuilder) args = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GVariant) request = NULL;
  GVariant *arg;
  guint8 header[2];
  va_list ap;

  va_start (ap, method);
  while ((arg = va_arg (ap, GVariant *)) != NULL)
    g_variant_builder_add_value (&args, arg);
  va_end (ap);
  request = g_variant_ref_sink (g_variant_new ("(ts@avt)", id, method,
                                               g_variant_builder_end (&args), (guint64) 1));
  header[0] = (guint8) (g_variant_get_size (request) & 0xff);
  header[1] = (guint8) (g_variant_get_size (request) >> 8);
  g_byte_array_append (out, header, 2);
  g_byte_array_append (out, g_variant_get_data (request), (guint) g_variant_get_size (request));
}

static void
add_raw (GByteArray   *out,
         const guint8 *data,
         gsize         len)
{
  guint8 header[2] = { (guint8) (len & 0xff), (guint8) (len >> 8) };

  g_byte_array_append (out, header, 2);
  g_byte_array_append (out, data, (guint) len);
}

/* a proxy token for the input's @n-th object (the harness fills in the address) */
static GVariant *
wire_token (const char *typeid,
            guint64     n)
{
  return g_variant_new_variant (
    g_variant_new ("(s@v)", MP_PROXY_WIRE_NAME,
                   g_variant_new_variant (g_variant_new ("(sst@ay)", typeid, "", n,
                                                         g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1)))));
}

static GVariant *
wire_object (const char *type_name,
             const char *property,
             GVariant   *value)
{
  g_auto(GVariantBuilder) state = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);

  g_variant_builder_add (&state, "{sv}", property, value);
  return g_variant_new_variant (g_variant_new ("(s@v)", type_name,
                                               g_variant_new_variant (g_variant_builder_end (&state))));
}

static void
write_seed (const char *dir,
            const char *name,
            GByteArray *bytes)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error))
    g_error ("%s", error->message);
  g_print ("%s (%u bytes)\n", path, bytes->len);
  g_byte_array_set_size (bytes, 0);
}

static GVariant *
i (gint64 v)
{
  return mp_wire_int (v);
}

static GVariant *
s (const char *v)
{
  return mp_wire_string (v);
}

static void
write_corpus (const char *dir)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  static const guint8 garbage[] = { 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01 };

  add_request (b, 0, "create", s ("list"), NULL);
  add_request (b, 1, "append", i (1), NULL);
  add_request (b, 1, "append", s ("two"), NULL);
  add_request (b, 1, "extend", mp_wire_list (NULL), NULL);
  add_request (b, 1, "insert", i (0), mp_wire_none (), NULL);
  add_request (b, 1, "__getitem__", i (-1), NULL);
  add_request (b, 1, "__setitem__", i (0), mp_wire_double (2.5), NULL);
  add_request (b, 1, "index", s ("two"), NULL);
  add_request (b, 1, "count", i (1), NULL);
  add_request (b, 1, "sort", NULL);
  add_request (b, 1, "pop", NULL);
  add_request (b, 1, "#GETVALUE", NULL);
  add_request (b, 1, "__len__", NULL);
  write_seed (dir, "list", b);

  add_request (b, 0, "create", s ("dict"), NULL);
  add_request (b, 1, "__setitem__", s ("a"), i (1), NULL);
  add_request (b, 1, "setdefault", s ("b"), s ("x"), NULL);
  add_request (b, 1, "get", s ("c"), i (0), NULL);
  add_request (b, 1, "keys", NULL);
  add_request (b, 1, "items", NULL);
  add_request (b, 1, "pop", s ("a"), NULL);
  add_request (b, 1, "popitem", NULL);
  add_request (b, 1, "update", NULL);
  add_request (b, 1, "__delitem__", s ("zz"), NULL);
  write_seed (dir, "dict", b);

  add_request (b, 0, "create", s ("Namespace"), NULL);
  add_request (b, 1, "__setattr__", s ("x"), i (3), NULL);
  add_request (b, 1, "__getattribute__", s ("x"), NULL);
  add_request (b, 1, "__delattr__", s ("x"), NULL);
  add_request (b, 0, "create", s ("Value"), s ("i"), i (7), NULL);
  add_request (b, 2, "set", i (8), NULL);
  add_request (b, 2, "get", NULL);
  add_request (b, 0, "create", s ("Array"), s ("d"), mp_wire_list (NULL), NULL);
  add_request (b, 3, "__len__", NULL);
  add_request (b, 3, "__getitem__", i (0), NULL);
  write_seed (dir, "namespace-value-array", b);

  add_request (b, 0, "create", s ("Lock"), NULL);
  add_request (b, 1, "acquire", mp_wire_bool (TRUE), i (10000), NULL);
  add_request (b, 1, "release", NULL);
  add_request (b, 0, "create", s ("RLock"), NULL);
  add_request (b, 2, "acquire", NULL);
  add_request (b, 2, "acquire", NULL);
  add_request (b, 2, "release", NULL);
  add_request (b, 0, "create", s ("Condition"), wire_token ("RLock", 2), NULL);
  add_request (b, 3, "acquire", NULL);
  add_request (b, 3, "notify_all", NULL);
  add_request (b, 3, "wait", i (0), NULL);
  add_request (b, 3, "release", NULL);
  write_seed (dir, "locks-condition", b);

  add_request (b, 0, "create", s ("Semaphore"), i (1), NULL);
  add_request (b, 1, "acquire", NULL);
  add_request (b, 1, "release", NULL);
  add_request (b, 0, "create", s ("BoundedSemaphore"), i (1), NULL);
  add_request (b, 2, "release", NULL);
  add_request (b, 0, "create", s ("Event"), NULL);
  add_request (b, 3, "set", NULL);
  add_request (b, 3, "wait", NULL);
  add_request (b, 3, "is_set", NULL);
  add_request (b, 0, "create", s ("Barrier"), i (1), NULL);
  add_request (b, 4, "wait", NULL);
  add_request (b, 4, "__getattribute__", s ("parties"), NULL);
  write_seed (dir, "semaphore-event-barrier", b);

  /* timeouts the clock cannot reach: the server once added them to the
   * time and overflowed (found by this target) */
  add_request (b, 0, "create", s ("Event"), NULL);
  add_request (b, 1, "set", NULL);
  add_request (b, 1, "wait", i (G_MAXINT64), NULL);
  add_request (b, 0, "create", s ("Queue"), NULL);
  add_request (b, 2, "put", i (1), mp_wire_bool (TRUE), i (G_MAXINT64), NULL);
  add_request (b, 2, "get", mp_wire_bool (TRUE), i (G_MAXINT64 - 9999), NULL);
  add_request (b, 0, "create", s ("Lock"), NULL);
  add_request (b, 3, "acquire", mp_wire_bool (TRUE), i (G_MAXINT64), NULL);
  write_seed (dir, "end-of-time", b);

  add_request (b, 0, "create", s ("Queue"), i (2), NULL);
  add_request (b, 1, "put", i (1), NULL);
  add_request (b, 1, "put_nowait", s ("x"), NULL);
  add_request (b, 1, "full", NULL);
  add_request (b, 1, "put_nowait", s ("y"), NULL);
  add_request (b, 1, "get", NULL);
  add_request (b, 1, "get_nowait", NULL);
  add_request (b, 1, "get", mp_wire_bool (TRUE), i (1000), NULL);
  add_request (b, 1, "qsize", NULL);
  add_request (b, 1, "task_done", NULL);
  write_seed (dir, "queue", b);

  add_request (b, 0, "create", s ("list"), NULL);
  add_request (b, 0, "create", s ("dict"), NULL);
  add_request (b, 1, "append", wire_token ("dict", 2), NULL);
  add_request (b, 0, "decref", i (2), NULL);
  add_request (b, 1, "__getitem__", i (0), NULL);
  add_request (b, 0, "debug_info", NULL);
  add_request (b, 0, "incref", i (1), NULL);
  add_request (b, 0, "decref", i (1), NULL);
  write_seed (dir, "nested-proxy-refcounts", b);

  /* a container holding a proxy to itself: a reference cycle */
  add_request (b, 0, "create", s ("list"), NULL);
  add_request (b, 1, "append", wire_token ("list", 1), NULL);
  add_request (b, 0, "create", s ("dict"), NULL);
  add_request (b, 2, "__setitem__", s ("me"), wire_token ("dict", 2), NULL);
  add_request (b, 2, "__setitem__", s ("list"), wire_token ("list", 1), NULL);
  write_seed (dir, "cycle", b);

  add_request (b, 0, "create", s ("FuzzCounter"), NULL);
  add_request (b, 1, "add", i (5), NULL);
  add_request (b, 1, "add", s ("five"), NULL);
  add_request (b, 1, "echo", wire_object ("FuzzCounter", "count", g_variant_new_int64 (3)), NULL);
  add_request (b, 1, "echo", wire_object ("GSubprocess", "argv", g_variant_new_int64 (3)), NULL);
  add_request (b, 1, "#GETVALUE", NULL);
  add_request (b, 1, "not_exposed", NULL);
  write_seed (dir, "custom-type", b);

  add_request (b, 0, "hello", mp_wire_uint (99), i (1), mp_wire_bool (FALSE), NULL);
  add_request (b, 0, "create", s ("NoSuchType"), NULL);
  add_request (b, 0, "no_such_method", NULL);
  add_request (b, 42, "append", i (1), NULL);
  add_request (b, 0, "dummy", NULL);
  add_raw (b, garbage, sizeof garbage);
  add_request (b, 0, "dummy", NULL);
  write_seed (dir, "hostile", b);
}

int
main (int    argc,
      char **argv)
{
  if (argc != 2)
    {
      g_printerr ("usage: %s DIRECTORY\n"
                  "Writes the seed corpus of fuzz-manager into DIRECTORY.\n", argv[0]);
      return 2;
    }
  if (g_mkdir_with_parents (argv[1], 0755) < 0)
    g_error ("cannot create %s: %s", argv[1], g_strerror (errno));
  write_corpus (argv[1]);
  return 0;
}

#endif /* FUZZ_MAKE_CORPUS */
