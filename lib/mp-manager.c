/* mp-manager.c — the manager: a server process that owns shared objects
 *
 * Python's BaseManager / SyncManager, client side: it starts the server
 * process (mp-manager-server.c) or connects to a running one, asks it to
 * create objects and hands out proxies (mp-proxy.c) for them.
 *
 * Scoped use: the last unref of a manager that started its server shuts
 * the server down, so
 *
 *   {
 *     g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
 *     ...
 *   }
 *
 * behaves like Python's `with Manager() as manager:` — and a proxy used
 * after that scope fails with %MP_ERROR_MANAGER_CLOSED (the closed-manager
 * pitfall). Proxies do not keep their manager alive; they share only a
 * flag that says it was shut down.
 *
 * A manager refuses to be serialized: it holds the auth key (Python:
 * "Pickling an AuthenticationString object is disallowed for security
 * reasons"). Pass proxies instead (the manager-as-argument pitfall).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mp-manager-private.h"
#include "mp-connection.h"
#include "mp-process-private.h"

/* backstops, not synchronisation: a healthy server answers at once */
#define START_TIMEOUT_US    (60 * G_USEC_PER_SEC)
#define SHUTDOWN_TIMEOUT_US (10 * G_USEC_PER_SEC)

typedef enum {
  PHASE_INITIAL,
  PHASE_STARTED,     /* this manager started the server */
  PHASE_CONNECTED,   /* attached to a server someone else started */
  PHASE_SHUT_DOWN,
} Phase;

struct _MpManager {
  GObject          parent_instance;

  char            *requested_address;  /* NULL: a private Unix socket */
  char            *address;            /* where the server listens */
  GBytes          *authkey;
  MpStartMethod    method;
  Phase            phase;
  GPid             owner;              /* the process that started/connected */

  MpProcess       *process;            /* the server, when started here */
  MpConnection    *lifeline;
  MpManagerState  *state;
};

G_DEFINE_FINAL_TYPE (MpManager, mp_manager, G_TYPE_OBJECT)

static void
manager_register_refusal (void)
{
  mp_serialize_register_refusal (MP_TYPE_MANAGER, MP_ERROR_AUTH_KEY_REFUSED,
                                 "a manager carries the auth key of its server");
}

MP_INITIALIZER (manager_register_refusal)

/* ------------------------------------------------------------------ */
/* errors                                                               */
/* ------------------------------------------------------------------ */

/**
 * mp_error_get_remote_code:
 * @error: an error from a proxy or manager call
 *
 * Errors raised inside the server arrive as %MP_ERROR_REMOTE with a
 * message that starts with the original code's name in brackets, e.g.
 * "[index] pop from empty list". This gives back that original code.
 *
 * Returns: the original code for %MP_ERROR_REMOTE, the code itself for
 *   other %MP_ERROR errors, %MP_ERROR_FAILED otherwise.
 *
 * Since: 0.1
 */
MpError
mp_error_get_remote_code (const GError *error)
{
  const char *end;

  g_return_val_if_fail (error != NULL, MP_ERROR_FAILED);

  if (error->domain != MP_ERROR)
    return MP_ERROR_FAILED;
  if (error->code != MP_ERROR_REMOTE)
    return (MpError) error->code;
  if (error->message[0] != '[' || (end = strchr (error->message, ']')) == NULL)
    return MP_ERROR_FAILED;
  for (int code = 0; code < MP_ERROR_N_CODES; code++)
    {
      const char *name = mp_error_code_name ((MpError) code);

      if (strlen (name) == (gsize) (end - error->message - 1) &&
          strncmp (error->message + 1, name, end - error->message - 1) == 0)
        return (MpError) code;
    }
  return MP_ERROR_FAILED;
}

/* ------------------------------------------------------------------ */
/* registered types                                                     */
/* ------------------------------------------------------------------ */

/**
 * mp_manager_register_type:
 * @typeid: the name proxies and mp_manager_create() use
 * @type: a GObject type, created in the server with g_object_new (type, NULL)
 * @methods: the methods its proxies may call, ended by { NULL, NULL }
 *
 * Python's BaseManager.register (typeid, callable, exposed=...). Register
 * before mp_main_guard() (e.g. in an MP_INITIALIZER) so that a server
 * started by spawn knows the type too. Calling any other method through a
 * proxy fails with %MP_ERROR_NOT_EXPOSED naming these. A copy of the whole
 * object ("#GETVALUE") works when @type is registered with the serializer.
 *
 * Since: 0.1
 */
void
mp_manager_register_type (const char     *typeid,
                          GType           type,
                          const MpMethod *methods)
{
  g_return_if_fail (typeid != NULL && *typeid != '\0');
  g_return_if_fail (g_type_is_a (type, G_TYPE_OBJECT) && !G_TYPE_IS_ABSTRACT (type));
  g_return_if_fail (methods != NULL);

  /* the built-in types cannot be replaced */
  g_return_if_fail (mp_referent_class_lookup (typeid) == NULL ||
                    mp_referent_class_lookup (typeid)->gtype != G_TYPE_INVALID);
  for (const MpMethod *m = methods; m->name != NULL; m++)
    g_return_if_fail (m->func != NULL);

  mp_referent_register_custom (typeid, type, methods);
}

/* ------------------------------------------------------------------ */
/* the object                                                           */
/* ------------------------------------------------------------------ */

/* Closes our end of the lifeline (see mp_fd_add_parent_end()). */
static void
drop_lifeline (MpManager *self)
{
  if (self->lifeline == NULL)
    return;
  mp_fd_forget_parent_end (g_socket_get_fd (mp_connection_get_socket (self->lifeline)));
  g_clear_pointer (&self->lifeline, mp_connection_unref);
}

static void
mp_manager_dispose (GObject *object)
{
  MpManager *self = MP_MANAGER (object);

  /* the scope of the manager ended: like Python's __exit__, stop the
   * server it started; forked copies never do */
  if (self->phase == PHASE_STARTED && self->owner == getpid ())
    {
      g_autoptr(GError) error = NULL;

      if (!mp_manager_shutdown (self, &error))
        g_warning ("Shutting down the manager at %s: %s", self->address, error->message);
    }

  G_OBJECT_CLASS (mp_manager_parent_class)->dispose (object);
}

static void
mp_manager_finalize (GObject *object)
{
  MpManager *self = MP_MANAGER (object);

  if (self->owner == 0 || self->owner == getpid ())
    {
      g_clear_object (&self->process);
      drop_lifeline (self);
    }
  g_clear_pointer (&self->state, mp_manager_state_unref);
  g_clear_pointer (&self->authkey, g_bytes_unref);
  g_free (self->requested_address);
  g_free (self->address);

  G_OBJECT_CLASS (mp_manager_parent_class)->finalize (object);
}

static void
mp_manager_class_init (MpManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mp_manager_dispose;
  object_class->finalize = mp_manager_finalize;
}

static void
mp_manager_init (MpManager *self)
{
  self->state = mp_manager_state_new ();
}

/**
 * mp_manager_new:
 * @address: (nullable): where the server will listen: %NULL for a Unix
 *   socket in a fresh private directory, "unix:/path", or "tcp:HOST:PORT"
 *   (port 0 picks a free one; see mp_manager_get_address())
 * @authkey: (nullable): the key clients must prove they hold; %NULL for
 *   the process key (mp_get_auth_key()), which children inherit
 *
 * Returns: (transfer full): a manager, not started yet (mp_manager_start())
 *
 * Since: 0.1
 */
MpManager *
mp_manager_new (const char *address,
                GBytes     *authkey)
{
  MpManager *self;

  g_return_val_if_fail (authkey == NULL || g_bytes_get_size (authkey) > 0, NULL);

  self = g_object_new (MP_TYPE_MANAGER, NULL);
  self->requested_address = g_strdup (address);
  self->authkey = authkey != NULL ? g_bytes_ref (authkey) : mp_get_auth_key ();
  return self;
}

/**
 * mp_manager_set_start_method:
 * @self: a manager, not started yet
 * @method: how to start the server process
 *
 * Since: 0.1
 */
void
mp_manager_set_start_method (MpManager     *self,
                             MpStartMethod  method)
{
  g_return_if_fail (MP_IS_MANAGER (self));
  g_return_if_fail (MP_START_METHOD_IS_VALID (method));
  g_return_if_fail (self->phase == PHASE_INITIAL);

  self->method = method;
}

static gboolean
check_initial (MpManager  *self,
               GError    **error)
{
  if (self->phase == PHASE_INITIAL)
    return TRUE;
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                self->phase == PHASE_SHUT_DOWN ? "The manager has shut down; make a new one"
                                               : "The manager is already running");
  return FALSE;
}

static void
kill_server (MpManager *self)
{
  /* Python's _finalize_manager: terminate, then kill, always reap */
  if (!mp_process_join (self->process, SHUTDOWN_TIMEOUT_US, NULL))
    {
      mp_process_terminate (self->process, NULL);
      if (!mp_process_join (self->process, SHUTDOWN_TIMEOUT_US, NULL))
        {
          mp_process_kill (self->process, NULL);
          mp_process_join (self->process, -1, NULL);
        }
    }
}

/* a server that died cannot remove its socket and private directory */
static void
remove_leftovers (MpManager *self)
{
  g_autofree char *dir = NULL;
  const char *path;

  if (self->requested_address != NULL || self->address == NULL ||
      !g_str_has_prefix (self->address, "unix:"))
    return;
  path = self->address + strlen ("unix:");
  dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
}

/**
 * mp_manager_start:
 * @self: a new manager
 * @error: return location for a #GError
 *
 * Starts the server process (fork or spawn, see
 * mp_manager_set_start_method()) and waits until it listens.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_manager_start (MpManager  *self,
                  GError    **error)
{
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(GVariant) report = NULL;
  g_autoptr(GError) local = NULL;
  g_autoptr(MpEndpoint) endpoint = NULL;
  MpStartMethod method;
  const char *address, *message;
  gboolean ok;
  guint code;
  int fds[2];

  g_return_val_if_fail (MP_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_initial (self, error))
    return FALSE;

  /* the lifeline: fds[0] stays here, fds[1] goes to the server */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return mp_set_error_from_errno (error, errno, "Creating the manager's lifeline socket");

  method = self->method != MP_START_DEFAULT ? self->method : mp_get_start_method ();
  if (method == MP_START_DEFAULT)
    method = MP_START_FORK;

  /* No child (the server included) keeps our end: our death is the end
   * of the lifeline for the server. */
  mp_fd_add_parent_end (fds[0]);
  args = mp_args_new (G_TYPE_STRING, self->requested_address,
                      G_TYPE_BYTES, self->authkey,
                      G_TYPE_INT64, (gint64) fds[1],
                      G_TYPE_INVALID);
  self->process = mp_process_new (MP_MANAGER_SERVER_TASK, args);
  mp_process_set_start_method (self->process, method);
  mp_process_pass_fd (self->process, fds[1]);
  /* a server that dies of our death first removes its socket and directory */
  mp_process_set_parent_death_signal (self->process, SIGTERM);
  ok = mp_process_start (self->process, error);
  close (fds[1]);
  if (!ok)
    {
      mp_fd_close_parent_end (fds[0]);
      g_clear_object (&self->process);
      g_prefix_error (error, "Starting the manager's server: ");
      return FALSE;
    }
  self->owner = getpid ();

  /* the connection owns it now, and closes it on failure too */
  self->lifeline = mp_connection_new_for_fd (fds[0], &local);
  if (self->lifeline == NULL)
    mp_fd_forget_parent_end (fds[0]);
  if (self->lifeline != NULL)
    report = mp_connection_recv_variant (self->lifeline, G_VARIANT_TYPE ("(bsus)"),
                                         START_TIMEOUT_US, &local);
  if (report == NULL)
    {
      int exitcode = -1;

      kill_server (self);
      mp_process_get_exitcode (self->process, &exitcode);
      mp_set_error (error, MP_ERROR_PROCESS_FAILED,
                    "The manager's server process ended before it was listening (exit code %d): %s",
                    exitcode, local->message);
      self->phase = PHASE_SHUT_DOWN;
      return FALSE;
    }

  g_variant_get (report, "(b&su&s)", &ok, &address, &code, &message);
  if (!ok)
    {
      kill_server (self);
      g_set_error (error, MP_ERROR, code < MP_ERROR_N_CODES ? (gint) code : MP_ERROR_FAILED,
                   "The manager's server could not listen: %s", message);
      self->phase = PHASE_SHUT_DOWN;
      return FALSE;
    }
  self->address = g_strdup (address);
  self->phase = PHASE_STARTED;

  /* connect now: the anchor connection, and an early error if any */
  endpoint = mp_endpoint_get (self->address, self->authkey, error);
  if (endpoint == NULL)
    {
      g_autoptr(GError) ignored = NULL;

      mp_manager_shutdown (self, &ignored);
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_manager_connect:
 * @address: the address of a running manager (mp_manager_get_address())
 * @authkey: (nullable): its key; %NULL for this process's key
 * @error: return location for a #GError
 *
 * Python's BaseManager.connect(): attaches to a server another process
 * started. Dropping the returned manager never shuts that server down.
 *
 * Returns: (transfer full): a manager, or %NULL with @error set:
 *   %MP_ERROR_MANAGER_CLOSED when nothing listens at @address,
 *   %MP_ERROR_AUTH_FAILED for a wrong key
 *
 * Since: 0.1
 */
MpManager *
mp_manager_connect (const char *address,
                    GBytes     *authkey,
                    GError    **error)
{
  g_autoptr(MpManager) self = NULL;
  g_autoptr(MpEndpoint) endpoint = NULL;
  g_autoptr(GVariant) payload = NULL;
  MpReplyKind kind;

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (authkey == NULL || g_bytes_get_size (authkey) > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = mp_manager_new (address, authkey);
  self->address = g_strdup (address);
  endpoint = mp_endpoint_get (self->address, self->authkey, error);
  if (endpoint == NULL ||
      !mp_endpoint_call (endpoint, MP_SERVER_ID, "dummy", NULL, &kind, &payload, error))
    return NULL;
  self->phase = PHASE_CONNECTED;
  self->owner = getpid ();
  return g_steal_pointer (&self);
}

/**
 * mp_manager_shutdown:
 * @self: a manager
 * @error: return location for a #GError
 *
 * Stops the server: it frees every object, removes its socket and exits;
 * a server this manager started is reaped. Every proxy of it fails with
 * %MP_ERROR_MANAGER_CLOSED afterwards. Idempotent. On a manager from
 * mp_manager_connect() it asks the server to shut down as well.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_manager_shutdown (MpManager  *self,
                     GError    **error)
{
  g_autoptr(MpEndpoint) endpoint = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GError) local = NULL;
  MpReplyKind kind;
  gboolean started;

  g_return_val_if_fail (MP_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->phase == PHASE_SHUT_DOWN)
    return TRUE;
  if (self->phase == PHASE_INITIAL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "The manager was never started");
      return FALSE;
    }
  if (self->owner != getpid ())
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Only the process that started the manager may shut it down");
      return FALSE;
    }

  started = self->phase == PHASE_STARTED;
  self->phase = PHASE_SHUT_DOWN;
  g_atomic_int_set (&self->state->closed, TRUE);

  /* a server that already died is as good as shut down */
  endpoint = mp_endpoint_get (self->address, self->authkey, &local);
  if (endpoint != NULL)
    mp_endpoint_call (endpoint, MP_SERVER_ID, "shutdown", NULL, &kind, &payload, &local);
  mp_endpoint_forget (self->address, self->authkey);
  if (local != NULL && !g_error_matches (local, MP_ERROR, MP_ERROR_MANAGER_CLOSED))
    g_debug ("Asking the manager at %s to shut down: %s", self->address, local->message);

  if (started)
    {
      /* our end of the lifeline going away stops the server too */
      drop_lifeline (self);
      kill_server (self);
      remove_leftovers (self);
    }
  return TRUE;
}

/**
 * mp_manager_get_address:
 * @self: a manager
 *
 * Returns: (nullable): where the server listens ("unix:/path" or
 *   "tcp:IP:PORT"), or %NULL before it started
 *
 * Since: 0.1
 */
const char *
mp_manager_get_address (MpManager *self)
{
  g_return_val_if_fail (MP_IS_MANAGER (self), NULL);
  return self->address;
}

/**
 * mp_manager_is_running:
 * @self: a manager
 *
 * Returns: %TRUE while started or connected and not shut down (for a
 *   server started here: while its process lives)
 *
 * Since: 0.1
 */
gboolean
mp_manager_is_running (MpManager *self)
{
  g_return_val_if_fail (MP_IS_MANAGER (self), FALSE);

  if (self->phase == PHASE_STARTED)
    return mp_process_is_alive (self->process);
  return self->phase == PHASE_CONNECTED;
}

/**
 * mp_manager_get_server_pid:
 * @self: a manager
 *
 * Returns: the pid of the server process it started, or 0
 *
 * Since: 0.1
 */
GPid
mp_manager_get_server_pid (MpManager *self)
{
  g_return_val_if_fail (MP_IS_MANAGER (self), 0);
  return self->process != NULL ? mp_process_get_pid (self->process) : 0;
}

/* ------------------------------------------------------------------ */
/* creating objects                                                     */
/* ------------------------------------------------------------------ */

static gboolean
check_running (MpManager  *self,
               GError    **error)
{
  if (self->phase == PHASE_STARTED || self->phase == PHASE_CONNECTED)
    return TRUE;
  if (self->phase == PHASE_SHUT_DOWN)
    mp_proxy_set_closed_error (error, self->address != NULL ? self->address : "(none)", NULL);
  else
    mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                  "The manager is not started; call mp_manager_start() first");
  return FALSE;
}

/* @args: "av" of the constructor's arguments after the typeid (consumed) */
static MpProxy *
create (MpManager   *self,
        const char  *typeid,
        GVariant    *args,
        GError     **error)
{
  g_autoptr(GVariant) owned = args != NULL ? g_variant_ref_sink (args) : NULL;
  g_auto(MpArgv) create_args = MP_ARGV_INIT;
  g_autoptr(MpEndpoint) endpoint = NULL;
  g_autoptr(GVariant) payload = NULL;
  const char *created;
  guint64 id;
  MpReplyKind kind;

  if (!check_running (self, error))
    return NULL;
  mp_argv_add (&create_args, mp_wire_string (typeid));
  if (owned != NULL)
    mp_argv_add_children (&create_args, owned, 0);

  endpoint = mp_endpoint_get (self->address, self->authkey, error);
  if (endpoint == NULL ||
      !mp_endpoint_call (endpoint, MP_SERVER_ID, "create", &create_args,
                         &kind, &payload, error))
    return NULL;
  if (kind != MP_REPLY_PROXY)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "the manager answered create without a proxy");
      return NULL;
    }
  g_variant_get (payload, "(&st)", &created, &id);
  /* "create" took the reference this proxy holds */
  return mp_proxy_new_internal (created, self->address, id, self->authkey, self->state, TRUE);
}

static GVariant *
one_arg (GVariant *wire)
{
  GVariant *children[1] = { wire };
  return g_variant_new_array (G_VARIANT_TYPE_VARIANT, children, 1);
}

#define CHECK_MANAGER(self, error) \
  g_return_val_if_fail (MP_IS_MANAGER (self), NULL); \
  g_return_val_if_fail ((error) == NULL || *(error) == NULL, NULL)

/**
 * mp_manager_list:
 * @self: a running manager
 * @initial: (nullable) (element-type GValue): the first items (copied)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new list in the server, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_list (MpManager  *self,
                 GPtrArray  *initial,
                 GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;

  CHECK_MANAGER (self, error);
  if (initial == NULL)
    return create (self, "list", NULL, error);
  g_value_init (&value, MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (&value, initial);
  wire = mp_serialize_value (&value, error);
  return wire != NULL ? create (self, "list", one_arg (wire), error) : NULL;
}

/**
 * mp_manager_dict:
 * @self: a running manager
 * @initial: (nullable) (element-type utf8 GValue): the first items (copied)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new dict (string keys), or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_dict (MpManager   *self,
                 GHashTable  *initial,
                 GError     **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;

  CHECK_MANAGER (self, error);
  if (initial == NULL)
    return create (self, "dict", NULL, error);
  g_value_init (&value, MP_TYPE_GVALUE_DICT);
  g_value_set_boxed (&value, initial);
  wire = mp_serialize_value (&value, error);
  return wire != NULL ? create (self, "dict", one_arg (wire), error) : NULL;
}

/**
 * mp_manager_namespace:
 * @self: a running manager
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new, empty Namespace, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_namespace (MpManager  *self,
                      GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Namespace", NULL, error);
}

static GVariant *
typecode_wire (char typecode)
{
  char text[2] = { typecode, '\0' };
  return mp_wire_string (text);
}

/**
 * mp_manager_value:
 * @self: a running manager
 * @typecode: a typecode such as 'i' or 'd'. Like Python's manager Value,
 *   it is recorded but NOT enforced: any value may be stored
 * @initial: (nullable): the value (%NULL: None)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Value, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_value (MpManager     *self,
                  char           typecode,
                  const GValue  *initial,
                  GError       **error)
{
  static const GValue none = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;
  GVariant *children[2];

  CHECK_MANAGER (self, error);
  g_return_val_if_fail (typecode != '\0', NULL);
  wire = mp_serialize_value (initial != NULL ? initial : &none, error);
  if (wire == NULL)
    return NULL;
  children[0] = typecode_wire (typecode);
  children[1] = wire;
  return create (self, "Value", g_variant_new_array (G_VARIANT_TYPE_VARIANT, children, 2), error);
}

/**
 * mp_manager_array:
 * @self: a running manager
 * @typecode: one of b B h H i I l L q Q f d; items are checked against it
 * @initial: (nullable) (element-type GValue): the items
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Array, or %NULL with @error
 *   set ("[invalid-argument]" for a bad typecode or item)
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_array (MpManager  *self,
                  char        typecode,
                  GPtrArray  *initial,
                  GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;
  GVariant *children[2];

  CHECK_MANAGER (self, error);
  g_value_init (&value, MP_TYPE_GVALUE_LIST);
  g_value_take_boxed (&value, initial != NULL ? g_ptr_array_ref (initial) : mp_gvalue_list_new ());
  wire = mp_serialize_value (&value, error);
  if (wire == NULL)
    return NULL;
  children[0] = typecode_wire (typecode);
  children[1] = wire;
  return create (self, "Array", g_variant_new_array (G_VARIANT_TYPE_VARIANT, children, 2), error);
}

/**
 * mp_manager_lock:
 * @self: a running manager
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Lock, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_lock (MpManager  *self,
                 GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Lock", NULL, error);
}

/**
 * mp_manager_rlock:
 * @self: a running manager
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new RLock, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_rlock (MpManager  *self,
                  GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "RLock", NULL, error);
}

/**
 * mp_manager_semaphore:
 * @self: a running manager
 * @value: the initial count
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Semaphore, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_semaphore (MpManager  *self,
                      guint       value,
                      GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Semaphore", one_arg (mp_wire_int (value)), error);
}

/**
 * mp_manager_bounded_semaphore:
 * @self: a running manager
 * @value: the initial (and highest) count
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new BoundedSemaphore, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_bounded_semaphore (MpManager  *self,
                              guint       value,
                              GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "BoundedSemaphore", one_arg (mp_wire_int (value)), error);
}

/**
 * mp_manager_condition:
 * @self: a running manager
 * @lock: (nullable): a Lock or RLock proxy of this manager to wait with;
 *   %NULL for a new RLock of the condition's own (Python's default)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Condition, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_condition (MpManager  *self,
                      MpProxy    *lock,
                      GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;

  CHECK_MANAGER (self, error);
  g_return_val_if_fail (lock == NULL || MP_IS_PROXY (lock), NULL);
  if (lock == NULL)
    return create (self, "Condition", NULL, error);
  g_value_init (&value, MP_TYPE_PROXY);
  g_value_set_object (&value, lock);
  wire = mp_serialize_value (&value, error);
  return wire != NULL ? create (self, "Condition", one_arg (wire), error) : NULL;
}

/**
 * mp_manager_event:
 * @self: a running manager
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Event, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_event (MpManager  *self,
                  GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Event", NULL, error);
}

/**
 * mp_manager_barrier:
 * @self: a running manager
 * @parties: how many must wait before all pass (at least 1)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Barrier, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_barrier (MpManager  *self,
                    guint       parties,
                    GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Barrier", one_arg (mp_wire_int (parties)), error);
}

/**
 * mp_manager_queue:
 * @self: a running manager
 * @maxsize: the most items it holds; 0 for no limit
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new Queue, or %NULL
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_queue (MpManager  *self,
                  guint       maxsize,
                  GError    **error)
{
  CHECK_MANAGER (self, error);
  return create (self, "Queue", one_arg (mp_wire_int (maxsize)), error);
}

/**
 * mp_manager_create:
 * @self: a running manager
 * @typeid: a type registered with mp_manager_register_type() (or a
 *   built-in one that takes no arguments, e.g. "list")
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a proxy of a new object of @typeid, or %NULL
 *   ("[key]" for a type the server does not know)
 *
 * Since: 0.1
 */
MpProxy *
mp_manager_create (MpManager   *self,
                   const char  *typeid,
                   GError     **error)
{
  CHECK_MANAGER (self, error);
  g_return_val_if_fail (typeid != NULL, NULL);
  return create (self, typeid, NULL, error);
}

/**
 * mp_manager_debug_info:
 * @self: a running manager
 * @n_objects: (out) (optional): how many objects live in the server
 * @n_refs: (out) (optional): the sum of their reference counts
 * @error: return location for a #GError
 *
 * For tests and teaching: after every proxy is gone, both are 0.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_manager_debug_info (MpManager  *self,
                       guint      *n_objects,
                       guint      *n_refs,
                       GError    **error)
{
  g_autoptr(MpEndpoint) endpoint = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GVariant) list = NULL;
  MpReplyKind kind;
  gint64 objects = -1, refs = -1;

  g_return_val_if_fail (MP_IS_MANAGER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_running (self, error))
    return FALSE;
  endpoint = mp_endpoint_get (self->address, self->authkey, error);
  if (endpoint == NULL ||
      !mp_endpoint_call (endpoint, MP_SERVER_ID, "debug_info", NULL, &kind, &payload, error))
    return FALSE;
  list = g_variant_get_variant (payload);
  if (g_variant_is_of_type (list, G_VARIANT_TYPE ("av")) && g_variant_n_children (list) == 2)
    {
      g_autoptr(GVariant) first = g_variant_get_child_value (list, 0);
      g_autoptr(GVariant) second = g_variant_get_child_value (list, 1);

      mp_wire_get_int (first, &objects);
      mp_wire_get_int (second, &refs);
    }
  if (objects < 0 || refs < 0)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "the manager sent malformed debug info");
      return FALSE;
    }
  if (n_objects != NULL)
    *n_objects = (guint) objects;
  if (n_refs != NULL)
    *n_refs = (guint) refs;
  return TRUE;
}
