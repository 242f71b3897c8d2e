/* mp-proxy.c — proxies: handles on objects that live in a manager
 *
 * Python's BaseProxy. A proxy holds a token (typeid, address, id) and turns
 * every operation into a round trip to the server; what comes back is a
 * fresh copy. It travels to other processes as its token (a reducer,
 * registered at load time so spawned children know it) and works there
 * with that process's own auth key and connections.
 *
 * Reference counting (Python's incref/decref): a proxy made by a manager
 * factory comes with the reference "create" took; a proxy read back from
 * the server (a nested proxy) comes with one the server took while
 * replying; any other proxy (rebuilt from a task's arguments, or copied
 * by fork) takes one on its first call. Each reference belongs to the
 * process that took it and is given back when the proxy is finalized in
 * that process, or by the server when the process ends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"


#include "mp-manager-private.h"
#include "mp-trace-private.h"

struct _MpProxy {
  GObject          parent_instance;

  char            *typeid;
  char            *address;
  guint64          id;
  GBytes          *authkey;       /* NULL: this process's key */
  MpManagerState  *state;         /* NULL unless made by a manager here */

  GMutex           lock;
  GPid             ref_pid;       /* the process holding our reference, 0: none */
  MpEndpoint      *endpoint;
  GPid             endpoint_pid;
};

G_DEFINE_FINAL_TYPE (MpProxy, mp_proxy, G_TYPE_OBJECT)

/* ------------------------------------------------------------------ */
/* manager state                                                        */
/* ------------------------------------------------------------------ */

MpManagerState *
mp_manager_state_new (void)
{
  return g_atomic_rc_box_new0 (MpManagerState);
}

MpManagerState *
mp_manager_state_ref (MpManagerState *state)
{
  return g_atomic_rc_box_acquire (state);
}

void
mp_manager_state_unref (MpManagerState *state)
{
  g_atomic_rc_box_release (state);
}

/* ------------------------------------------------------------------ */
/* the object                                                           */
/* ------------------------------------------------------------------ */

static GBytes *
proxy_authkey (MpProxy *self)
{
  return self->authkey != NULL ? g_bytes_ref (self->authkey) : mp_get_auth_key ();
}

/* the endpoint for this process (the cached one may be the parent's) */
static MpEndpoint *
proxy_endpoint (MpProxy  *self,
                GError  **error)
{
  MpEndpoint *endpoint = NULL;

  g_mutex_lock (&self->lock);
  if (self->endpoint != NULL && self->endpoint_pid != mp_client_pid ())
    self->endpoint = NULL;   /* inherited by fork: not ours to unref */
  if (self->endpoint != NULL && !mp_endpoint_is_usable (self->endpoint))
    g_clear_pointer (&self->endpoint, mp_endpoint_unref);
  if (self->endpoint == NULL)
    {
      g_autoptr(GBytes) key = proxy_authkey (self);

      self->endpoint = mp_endpoint_get (self->address, key, error);
      self->endpoint_pid = mp_client_pid ();
    }
  if (self->endpoint != NULL)
    endpoint = mp_endpoint_ref (self->endpoint);
  g_mutex_unlock (&self->lock);
  return endpoint;
}

/* the arguments of a call, ended by NULL; no method takes more than a few */
#define MAX_CALL_ARGS 8

#define NO_ARGS ((MpArgv) MP_ARGV_INIT)

/* plain arguments, kept as their bytes */
static MpArgv
args_int (gint64 a)
{
  MpArgv argv = MP_ARGV_INIT;

  mp_argv_add_int (&argv, a);
  return argv;
}

static MpArgv
args_int2 (gint64 a,
           gint64 b)
{
  MpArgv argv = args_int (a);

  mp_argv_add_int (&argv, b);
  return argv;
}

static MpArgv
args_bool_int (gboolean b,
               gint64   i)
{
  MpArgv argv = MP_ARGV_INIT;
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_BOOLEAN);
  g_value_set_boolean (&value, b);
  mp_argv_add_value (&argv, &value, NULL);
  mp_argv_add_int (&argv, i);
  return argv;
}

/* @argv's arguments, which it no longer holds (to pass on by value) */
static MpArgv
argv_steal (MpArgv *argv)
{
  MpArgv stolen = *argv;

  *argv = (MpArgv) MP_ARGV_INIT;
  return stolen;
}

static MpArgv
args_of (GVariant *first,
         ...)
{
  MpArgv argv = MP_ARGV_INIT;
  va_list ap;

  /* kept as wire values, written straight into the request (see
   * mp_message_write_request()): no "av" GVariant in between */
  va_start (ap, first);
  for (GVariant *wire = first; wire != NULL; wire = va_arg (ap, GVariant *))
    {
      g_assert (argv.n < MAX_CALL_ARGS);
      mp_argv_add (&argv, wire);
    }
  va_end (ap);
  return argv;
}

static gboolean
ensure_reference (MpProxy    *self,
                  MpEndpoint *endpoint,
                  GError    **error)
{
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  if (self->ref_pid != mp_client_pid ())
    {
      g_autoptr(GVariant) payload = NULL;
      g_auto(MpArgv) args = args_of (mp_wire_uint (self->id), NULL);
      MpReplyKind kind;

      ok = mp_endpoint_call (endpoint, MP_SERVER_ID, "incref", &args, &kind, &payload, error);
      if (ok)
        self->ref_pid = mp_client_pid ();
    }
  g_mutex_unlock (&self->lock);
  return ok;
}

/* call_wire()'s call, traced: the reply (and a copy mark) is known only
 * from its payload, so the payload is always asked for. */
static G_GNUC_NO_INLINE gboolean
traced_call (MpProxy      *self,
             MpEndpoint   *endpoint,
             const char   *method,
             MpArgv       *args,
             MpReplyKind  *kind,
             GVariant    **payload,
             GVariant    **result,
             GError      **error)
{
  g_autoptr(GVariant) unboxed = NULL;
  GError *local = NULL;
  gboolean ok;

  mp_trace_proxy_target (self->typeid, self->id, method);
  ok = mp_endpoint_call_unboxed (endpoint, self->id, method, args, kind, payload, &unboxed,
                                 &local);
  mp_trace_proxy_done (ok, *payload, local);
  if (!ok)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  if (*kind != MP_REPLY_RETURN)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "%s.%s() returned an unexpected reply",
                    self->typeid, method);
      return FALSE;
    }
  if (result != NULL)
    *result = g_steal_pointer (&unboxed);
  return TRUE;
}

/* Calls @method; @args is consumed. The result is the value inside the
 * reply's "v", its shape checked (or the shared None itself), and may
 * hold proxies the server referenced for us: decode it with
 * decode_result(), or ignore it only when it cannot hold any. */
static gboolean
call_wire (MpProxy     *self,
           const char  *method,
           MpArgv       args,
           GVariant   **result,
           GError     **error)
{
  g_auto(MpArgv) owned_args = args;
  g_autoptr(MpEndpoint) endpoint = NULL;
  g_autoptr(GVariant) payload = NULL;   /* asked for by the trace only */
  g_autoptr(GVariant) value = NULL;
  MpReplyKind kind;

  if (self->state != NULL && g_atomic_int_get (&self->state->closed))
    {
      mp_proxy_set_closed_error (error, self->address, NULL);
      return FALSE;
    }
  endpoint = proxy_endpoint (self, error);
  if (endpoint == NULL || !ensure_reference (self, endpoint, error))
    return FALSE;
  if (MP_TRACE_ON)
    return traced_call (self, endpoint, method, &owned_args, &kind, &payload, result, error);
  if (!mp_endpoint_call_unboxed (endpoint, self->id, method, &owned_args, &kind, NULL,
                                 result != NULL ? &value : NULL, error))
    return FALSE;
  if (kind != MP_REPLY_RETURN)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "%s.%s() returned an unexpected reply",
                    self->typeid, method);
      return FALSE;
    }
  if (result != NULL)
    *result = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
decode_result (MpProxy   *self,
               GVariant  *wire,
               GValue    *out,
               GError   **error)
{
  g_auto(GValue) scratch = G_VALUE_INIT;
  gboolean ok;

  /* None, as the reader shares it: nothing to decode, @out stays unset */
  if (mp_wire_is_shared_none (wire))
    return TRUE;
  /* proxies rebuilt from this reply already hold their reference */
  mp_client_reply_begin (self->address);
  ok = mp_deserialize_value (wire, out != NULL ? out : &scratch, error);
  mp_client_reply_end ();
  return ok;
}

/* calls a method whose result is a value */
static gboolean
call_value (MpProxy     *self,
            const char  *method,
            MpArgv       args,
            GValue      *out,
            GError     **error)
{
  g_autoptr(GVariant) wire = NULL;

  return call_wire (self, method, args, &wire, error) &&
         decode_result (self, wire, out, error);
}

/* calls a method whose result is None or ignored and holds no proxy */
static gboolean
call_void (MpProxy    *self,
           const char *method,
           MpArgv      args,
           GError    **error)
{
  return call_wire (self, method, args, NULL, error);
}

static gboolean
call_int (MpProxy    *self,
          const char *method,
          MpArgv      args,
          gint64     *out,
          GError    **error)
{
  g_autoptr(GVariant) wire = NULL;

  if (!call_wire (self, method, args, &wire, error))
    return FALSE;
  if (!mp_wire_get_int (wire, out))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "%s.%s() should return an integer",
                    self->typeid, method);
      return FALSE;
    }
  return TRUE;
}

static gboolean
call_bool (MpProxy    *self,
           const char *method,
           MpArgv      args,
           gboolean   *out,
           GError    **error)
{
  g_autoptr(GVariant) wire = NULL;
  gboolean value;

  if (!call_wire (self, method, args, &wire, error))
    return FALSE;
  if (!mp_wire_get_bool (wire, &value))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "%s.%s() should return a boolean",
                    self->typeid, method);
      return FALSE;
    }
  if (out != NULL)
    *out = value;
  return TRUE;
}

static GPtrArray *
call_list (MpProxy    *self,
           const char *method,
           MpArgv      args,
           GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  if (!call_value (self, method, args, &value, error))
    return NULL;
  if (!G_VALUE_HOLDS (&value, MP_TYPE_GVALUE_LIST))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "%s.%s() should return a list",
                    self->typeid, method);
      return NULL;
    }
  return g_value_dup_boxed (&value);
}

static void
mp_proxy_finalize (GObject *object)
{
  MpProxy *self = MP_PROXY (object);
  gboolean closed = self->state != NULL && g_atomic_int_get (&self->state->closed);
  GPid pid = mp_client_pid ();

  /* give our reference back; after a fork only the process that took it may */
  if (self->ref_pid == pid && !closed)
    {
      g_autoptr(MpEndpoint) endpoint = proxy_endpoint (self, NULL);
      g_autoptr(GVariant) payload = NULL;
      g_autoptr(GError) error = NULL;
      g_auto(MpArgv) args = args_of (mp_wire_uint (self->id), NULL);
      MpReplyKind kind;

      if (endpoint != NULL &&
          !mp_endpoint_call (endpoint, MP_SERVER_ID, "decref", &args, &kind, &payload, &error))
        g_debug ("decref of %s %" G_GUINT64_FORMAT " failed: %s",
                 self->typeid, self->id, error->message);
    }
  if (self->endpoint != NULL && self->endpoint_pid == pid)
    mp_endpoint_unref (self->endpoint);
  g_clear_pointer (&self->state, mp_manager_state_unref);
  g_clear_pointer (&self->authkey, g_bytes_unref);
  g_free (self->typeid);
  g_free (self->address);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mp_proxy_parent_class)->finalize (object);
}

static void
mp_proxy_class_init (MpProxyClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mp_proxy_finalize;
}

static void
mp_proxy_init (MpProxy *self)
{
  g_mutex_init (&self->lock);
}

/**
 * mp_proxy_new_internal:
 * @typeid: the object's type id
 * @address: its server's address
 * @id: its id
 * @authkey: (nullable): the key to use; %NULL for this process's
 * @state: (nullable): the state of the manager that made it
 * @holds_ref: whether the server already holds a reference for this
 *   process on the proxy's behalf
 *
 * Returns: (transfer full): a new proxy
 */
MpProxy *
mp_proxy_new_internal (const char     *typeid,
                       const char     *address,
                       guint64         id,
                       GBytes         *authkey,
                       MpManagerState *state,
                       gboolean        holds_ref)
{
  MpProxy *self = g_object_new (MP_TYPE_PROXY, NULL);

  self->typeid = g_strdup (typeid);
  self->address = g_strdup (address);
  self->id = id;
  self->authkey = authkey != NULL ? g_bytes_ref (authkey) : NULL;
  self->state = state != NULL ? mp_manager_state_ref (state) : NULL;
  self->ref_pid = holds_ref ? mp_client_pid () : 0;
  return self;
}

/* ------------------------------------------------------------------ */
/* travelling as a token                                                */
/* ------------------------------------------------------------------ */

static GVariant *
proxy_reduce (GObject  *object,
              gpointer  user_data,
              GError  **error)
{
  MpProxy *self = MP_PROXY (object);
  g_autoptr(GBytes) process_key = mp_get_auth_key ();
  GVariant *key;

  /* like Python, the key travels only into a process being started, and
   * only when it is not the process key the child inherits anyway */
  if (mp_spawning_is_active () && self->authkey != NULL && !g_bytes_equal (self->authkey, process_key))
    key = g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, self->authkey, TRUE);
  else
    key = g_variant_new_from_data (G_VARIANT_TYPE_BYTESTRING, NULL, 0, TRUE, NULL, NULL);
  return g_variant_new ("(sst@ay)", self->typeid, self->address, self->id, key);
}

static GObject *
proxy_rebuild (GVariant *state,
               gpointer  user_data,
               GError  **error)
{
  g_autoptr(GVariant) key_v = NULL;
  g_autoptr(GBytes) key = NULL;
  const char *typeid, *address;
  guint64 id;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE (MP_PROXY_STATE)))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "a proxy token must be %s, not %s",
                    MP_PROXY_STATE, g_variant_get_type_string (state));
      return NULL;
    }
  g_variant_get (state, "(&s&st@ay)", &typeid, &address, &id, &key_v);
  if (*typeid == '\0' || *address == '\0' || id == 0)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "a proxy token with an empty field was refused");
      return NULL;
    }
  if (g_variant_get_size (key_v) > 0)
    key = g_variant_get_data_as_bytes (key_v);
  return G_OBJECT (mp_proxy_new_internal (typeid, address, id, key, NULL,
                                          mp_client_reply_holds_ref (address)));
}

static void
proxy_register_reducer (void)
{
  mp_serialize_register_reducer (MP_TYPE_PROXY, MP_TRANSFER_ALWAYS,
                                 proxy_reduce, proxy_rebuild, NULL);
}

MP_INITIALIZER (proxy_register_reducer)

/* ------------------------------------------------------------------ */
/* generic                                                              */
/* ------------------------------------------------------------------ */

/**
 * mp_proxy_get_typeid:
 * @self: a proxy
 *
 * Returns: the type id of its object, e.g. "list" or a registered one
 *
 * Since: 0.1
 */
const char *
mp_proxy_get_typeid (MpProxy *self)
{
  g_return_val_if_fail (MP_IS_PROXY (self), NULL);
  return self->typeid;
}

/**
 * mp_proxy_get_address:
 * @self: a proxy
 *
 * Returns: the address of its manager
 *
 * Since: 0.1
 */
const char *
mp_proxy_get_address (MpProxy *self)
{
  g_return_val_if_fail (MP_IS_PROXY (self), NULL);
  return self->address;
}

/**
 * mp_proxy_get_id:
 * @self: a proxy
 *
 * Returns: the id of its object in the manager
 *
 * Since: 0.1
 */
guint64
mp_proxy_get_id (MpProxy *self)
{
  g_return_val_if_fail (MP_IS_PROXY (self), 0);
  return self->id;
}

/**
 * mp_proxy_call:
 * @self: a proxy
 * @method: an exposed method, named as in Python ("append", "__getitem__")
 * @args: (nullable): its arguments
 * @result: (out caller-allocates) (optional): an unset #GValue for the
 *   result (left unset for None)
 * @error: return location for a #GError
 *
 * Calls any exposed method, e.g. one of a registered custom type, or
 * "#GETVALUE" for a copy of the whole object (Python's _getvalue()).
 *
 * Returns: %TRUE, or %FALSE with @error set: %MP_ERROR_NOT_EXPOSED naming
 *   the exposed methods, %MP_ERROR_REMOTE for a failure in the server
 *   (see mp_error_get_remote_code()), %MP_ERROR_MANAGER_CLOSED ...
 *
 * Since: 0.1
 */
gboolean
mp_proxy_call (MpProxy     *self,
               const char  *method,
               MpArgs      *args,
               GValue      *result,
               GError     **error)
{
  MpArgv wire_args = MP_ARGV_INIT;

  g_return_val_if_fail (MP_IS_PROXY (self), FALSE);
  g_return_val_if_fail (method != NULL, FALSE);
  g_return_val_if_fail (result == NULL || !G_IS_VALUE (result), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (args != NULL)
    {
      g_autoptr(GVariant) av = mp_args_serialize (args, error);

      if (av == NULL)
        return FALSE;
      mp_argv_add_children (&wire_args, av, 0);
    }
  return call_value (self, method, wire_args, result, error);
}

/* ------------------------------------------------------------------ */
/* arguments                                                            */
/* ------------------------------------------------------------------ */

static GVariant *
list_wire (GPtrArray *items,
           GError   **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (&value, items);
  return mp_serialize_value (&value, error);
}

static GVariant *
dict_wire (GHashTable *items,
           GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, MP_TYPE_GVALUE_DICT);
  g_value_set_boxed (&value, items);
  return mp_serialize_value (&value, error);
}

/* the args of a call with one value */

/* ------------------------------------------------------------------ */
/* list                                                                 */
/* ------------------------------------------------------------------ */

#define CHECK_PROXY(self, error, fail) \
  g_return_val_if_fail (MP_IS_PROXY (self), fail); \
  g_return_val_if_fail ((error) == NULL || *(error) == NULL, fail)

#define CHECK_OUT(out, fail) \
  g_return_val_if_fail ((out) == NULL || !G_IS_VALUE (out), fail)

/**
 * mp_list_proxy_append:
 * @self: a list proxy
 * @item: (nullable): the value to append (%NULL: None); it is copied
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_append (MpProxy      *self,
                      const GValue *item,
                      GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  return call_void (self, "append", argv_steal (&args), error);
}

/**
 * mp_list_proxy_extend:
 * @self: a list proxy
 * @items: (element-type GValue): values to append
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_extend (MpProxy   *self,
                      GPtrArray *items,
                      GError   **error)
{
  g_autoptr(GVariant) wire = NULL;

  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (items != NULL, FALSE);
  wire = list_wire (items, error);
  return wire != NULL && call_void (self, "extend", args_of (wire, NULL), error);
}

/**
 * mp_list_proxy_insert:
 * @self: a list proxy
 * @index: where; negative counts from the end; out of range is clamped
 * @item: (nullable): the value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_insert (MpProxy      *self,
                      gint64        index,
                      const GValue *item,
                      GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add_int (&args, index);
  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  return call_void (self, "insert", argv_steal (&args), error);
}

/**
 * mp_list_proxy_pop:
 * @self: a list proxy
 * @index: which item; -1 for the last
 * @out: (out caller-allocates) (optional): an unset #GValue for the item
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MP_ERROR_REMOTE "[index]"
 *   for an empty list or a bad index)
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_pop (MpProxy  *self,
                   gint64    index,
                   GValue   *out,
                   GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "pop", args_int (index), out, error);
}

/**
 * mp_list_proxy_remove:
 * @self: a list proxy
 * @item: (nullable): the value to remove (the first equal one)
 * @error: return location for a #GError
 *
 * Equality is the type's own: registered objects compare by their key
 * properties.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_remove (MpProxy      *self,
                      const GValue *item,
                      GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  return call_void (self, "remove", argv_steal (&args), error);
}

/**
 * mp_list_proxy_index:
 * @self: a list proxy
 * @item: (nullable): the value to find
 * @error: return location for a #GError
 *
 * Returns: the index of the first equal item, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_list_proxy_index (MpProxy      *self,
                     const GValue *item,
                     GError      **error)
{
  gint64 index;

  CHECK_PROXY (self, error, -1);
  {
    g_auto(MpArgv) args = MP_ARGV_INIT;

    if (!mp_argv_add_value (&args, item, error))
      return -1;
    if (!call_int (self, "index", argv_steal (&args), &index, error))
      return -1;
  }
  return index;
}

/**
 * mp_list_proxy_count:
 * @self: a list proxy
 * @item: (nullable): the value to count
 * @error: return location for a #GError
 *
 * Returns: how many items equal @item, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_list_proxy_count (MpProxy      *self,
                     const GValue *item,
                     GError      **error)
{
  gint64 count;

  CHECK_PROXY (self, error, -1);
  {
    g_auto(MpArgv) args = MP_ARGV_INIT;

    if (!mp_argv_add_value (&args, item, error))
      return -1;
    if (!call_int (self, "count", argv_steal (&args), &count, error))
      return -1;
  }
  return count;
}

/**
 * mp_list_proxy_len:
 * @self: a list proxy
 * @error: return location for a #GError
 *
 * Returns: the length, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_list_proxy_len (MpProxy  *self,
                   GError  **error)
{
  gint64 len;

  CHECK_PROXY (self, error, -1);
  return call_int (self, "__len__", NO_ARGS, &len, error) ? len : -1;
}

/**
 * mp_list_proxy_get_item:
 * @self: a list proxy
 * @index: the index; negative counts from the end
 * @out: (out caller-allocates): an unset #GValue for a copy of the item
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_get_item (MpProxy  *self,
                        gint64    index,
                        GValue   *out,
                        GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "__getitem__", args_int (index), out, error);
}

/**
 * mp_list_proxy_set_item:
 * @self: a list proxy
 * @index: the index; negative counts from the end
 * @item: (nullable): the new value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_set_item (MpProxy      *self,
                        gint64        index,
                        const GValue *item,
                        GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add_int (&args, index);
  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  return call_void (self, "__setitem__", argv_steal (&args), error);
}

/**
 * mp_list_proxy_get_slice:
 * @self: a list proxy
 * @start: first index (Python slice rules: negative from the end, clamped)
 * @stop: index after the last; %G_MAXINT64 for "to the end"
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type GValue): copies of the items
 *   [start:stop], or %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
mp_list_proxy_get_slice (MpProxy  *self,
                         gint64    start,
                         gint64    stop,
                         GError  **error)
{
  CHECK_PROXY (self, error, NULL);
  return call_list (self, "__getitem__", args_int2 (start, stop), error);
}

/**
 * mp_list_proxy_set_slice:
 * @self: a list proxy
 * @start: first index (Python slice rules)
 * @stop: index after the last; %G_MAXINT64 for "to the end"
 * @items: (element-type GValue): the replacement, of any length
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_set_slice (MpProxy   *self,
                         gint64     start,
                         gint64     stop,
                         GPtrArray *items,
                         GError   **error)
{
  g_autoptr(GVariant) wire = NULL;

  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (items != NULL, FALSE);
  wire = list_wire (items, error);
  return wire != NULL &&
         call_void (self, "__setitem__",
                    args_of (mp_wire_int (start), mp_wire_int (stop), wire, NULL), error);
}

/**
 * mp_list_proxy_reverse:
 * @self: a list proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_reverse (MpProxy  *self,
                       GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "reverse", NO_ARGS, error);
}

/**
 * mp_list_proxy_sort:
 * @self: a list proxy
 * @error: return location for a #GError
 *
 * Sorts numbers, strings, bytes or lists of them (Python's "<"); a list
 * mixing kinds fails with "[invalid-argument] '<' not supported ..." and
 * stays as it was.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_sort (MpProxy  *self,
                    GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "sort", NO_ARGS, error);
}

/**
 * mp_list_proxy_contains:
 * @self: a list proxy
 * @item: (nullable): the value to look for
 * @contained: (out): whether an equal item is in the list
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_list_proxy_contains (MpProxy      *self,
                        const GValue *item,
                        gboolean     *contained,
                        GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (contained != NULL, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  return call_bool (self, "__contains__", argv_steal (&args), contained, error);
}

/**
 * mp_list_proxy_copy:
 * @self: a list proxy
 * @error: return location for a #GError
 *
 * Copies the whole list out (Python's `list(proxy)` / `_getvalue()`).
 *
 * Returns: (transfer full) (element-type GValue): the copy, or %NULL
 *
 * Since: 0.1
 */
GPtrArray *
mp_list_proxy_copy (MpProxy  *self,
                    GError  **error)
{
  CHECK_PROXY (self, error, NULL);
  return call_list (self, MP_GETVALUE_METHOD, NO_ARGS, error);
}

/* ------------------------------------------------------------------ */
/* dict                                                                 */
/* ------------------------------------------------------------------ */

#define CHECK_KEY(key, fail) \
  g_return_val_if_fail ((key) != NULL && g_utf8_validate ((key), -1, NULL), fail)

/**
 * mp_dict_proxy_get_item:
 * @self: a dict proxy
 * @key: the key
 * @out: (out caller-allocates): an unset #GValue for a copy of the value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set ("[key]" for a missing key)
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_get_item (MpProxy    *self,
                        const char *key,
                        GValue     *out,
                        GError    **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "__getitem__", args_of (mp_wire_string (key), NULL), out, error);
}

/**
 * mp_dict_proxy_set_item:
 * @self: a dict proxy
 * @key: the key
 * @value: (nullable): the value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_set_item (MpProxy      *self,
                        const char   *key,
                        const GValue *value,
                        GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add (&args, mp_wire_string (key));
  if (!mp_argv_add_value (&args, value, error))
    return FALSE;
  return call_void (self, "__setitem__", argv_steal (&args), error);
}

/**
 * mp_dict_proxy_del_item:
 * @self: a dict proxy
 * @key: the key
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set ("[key]" for a missing key)
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_del_item (MpProxy    *self,
                        const char *key,
                        GError    **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  return call_void (self, "__delitem__", args_of (mp_wire_string (key), NULL), error);
}

/**
 * mp_dict_proxy_get:
 * @self: a dict proxy
 * @key: the key
 * @fallback: (nullable): what to return when @key is missing (%NULL: None)
 * @out: (out caller-allocates): an unset #GValue
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_get (MpProxy      *self,
                   const char   *key,
                   const GValue *fallback,
                   GValue       *out,
                   GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  CHECK_OUT (out, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add (&args, mp_wire_string (key));
  if (!mp_argv_add_value (&args, fallback, error))
    return FALSE;
  return call_value (self, "get", argv_steal (&args), out, error);
}

/**
 * mp_dict_proxy_keys:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type GValue): the keys as string
 *   GValues, in insertion order, or %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
mp_dict_proxy_keys (MpProxy  *self,
                    GError  **error)
{
  CHECK_PROXY (self, error, NULL);
  return call_list (self, "keys", NO_ARGS, error);
}

/**
 * mp_dict_proxy_values:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type GValue): copies of the values,
 *   in insertion order, or %NULL with @error set
 *
 * Since: 0.1
 */
GPtrArray *
mp_dict_proxy_values (MpProxy  *self,
                      GError  **error)
{
  CHECK_PROXY (self, error, NULL);
  return call_list (self, "values", NO_ARGS, error);
}

/**
 * mp_dict_proxy_items:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type GValue): one %MP_TYPE_GVALUE_LIST
 *   GValue [key, value] per item, in insertion order, or %NULL
 *
 * Since: 0.1
 */
GPtrArray *
mp_dict_proxy_items (MpProxy  *self,
                     GError  **error)
{
  CHECK_PROXY (self, error, NULL);
  return call_list (self, "items", NO_ARGS, error);
}

/**
 * mp_dict_proxy_len:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: the number of items, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_dict_proxy_len (MpProxy  *self,
                   GError  **error)
{
  gint64 len;

  CHECK_PROXY (self, error, -1);
  return call_int (self, "__len__", NO_ARGS, &len, error) ? len : -1;
}

/**
 * mp_dict_proxy_contains:
 * @self: a dict proxy
 * @key: the key
 * @contained: (out): whether @key is in the dict
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_contains (MpProxy    *self,
                        const char *key,
                        gboolean   *contained,
                        GError    **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  g_return_val_if_fail (contained != NULL, FALSE);
  return call_bool (self, "__contains__", args_of (mp_wire_string (key), NULL), contained, error);
}

/**
 * mp_dict_proxy_pop:
 * @self: a dict proxy
 * @key: the key
 * @fallback: (nullable): returned when @key is missing; %NULL: a missing
 *   key is an error ("[key]"), as in Python without a default
 * @out: (out caller-allocates) (optional): an unset #GValue
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_pop (MpProxy      *self,
                   const char   *key,
                   const GValue *fallback,
                   GValue       *out,
                   GError      **error)
{
  g_auto(MpArgv) args = MP_ARGV_INIT;

  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  CHECK_OUT (out, FALSE);
  mp_argv_add (&args, mp_wire_string (key));
  /* no fallback: a missing key is an error, not a None */
  if (fallback != NULL && !mp_argv_add_value (&args, fallback, error))
    return FALSE;
  return call_value (self, "pop", argv_steal (&args), out, error);
}

/**
 * mp_dict_proxy_popitem:
 * @self: a dict proxy
 * @key: (out) (optional) (transfer full): the key of the last inserted item
 * @out: (out caller-allocates) (optional): an unset #GValue for its value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set ("[key]" when empty)
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_popitem (MpProxy  *self,
                       char    **key,
                       GValue   *out,
                       GError  **error)
{
  g_autoptr(GPtrArray) pair = NULL;
  const GValue *k, *v;

  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (key == NULL || *key == NULL, FALSE);
  CHECK_OUT (out, FALSE);
  pair = call_list (self, "popitem", NO_ARGS, error);
  if (pair == NULL)
    return FALSE;
  if (pair->len != 2 || !G_VALUE_HOLDS_STRING ((k = g_ptr_array_index (pair, 0))))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "dict.popitem() should return a [key, value] pair");
      return FALSE;
    }
  v = g_ptr_array_index (pair, 1);
  if (key != NULL)
    *key = g_value_dup_string (k);
  if (out != NULL && G_IS_VALUE (v))
    {
      g_value_init (out, G_VALUE_TYPE (v));
      g_value_copy (v, out);
    }
  return TRUE;
}

/**
 * mp_dict_proxy_setdefault:
 * @self: a dict proxy
 * @key: the key
 * @fallback: (nullable): stored under @key when it is missing (%NULL: None)
 * @out: (out caller-allocates) (optional): an unset #GValue for the value now under @key
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_setdefault (MpProxy      *self,
                          const char   *key,
                          const GValue *fallback,
                          GValue       *out,
                          GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (key, FALSE);
  CHECK_OUT (out, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add (&args, mp_wire_string (key));
  if (!mp_argv_add_value (&args, fallback, error))
    return FALSE;
  return call_value (self, "setdefault", argv_steal (&args), out, error);
}

/**
 * mp_dict_proxy_update:
 * @self: a dict proxy
 * @items: (element-type utf8 GValue): string keys to values
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_update (MpProxy    *self,
                      GHashTable *items,
                      GError    **error)
{
  g_autoptr(GVariant) wire = NULL;

  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (items != NULL, FALSE);
  wire = dict_wire (items, error);
  return wire != NULL && call_void (self, "update", args_of (wire, NULL), error);
}

/**
 * mp_dict_proxy_clear:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_dict_proxy_clear (MpProxy  *self,
                     GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "clear", NO_ARGS, error);
}

/**
 * mp_dict_proxy_copy:
 * @self: a dict proxy
 * @error: return location for a #GError
 *
 * Returns: (transfer full) (element-type utf8 GValue): a copy of the whole
 *   dict (see mp_gvalue_dict_new()), or %NULL with @error set
 *
 * Since: 0.1
 */
GHashTable *
mp_dict_proxy_copy (MpProxy  *self,
                    GError  **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  CHECK_PROXY (self, error, NULL);
  if (!call_value (self, "copy", NO_ARGS, &value, error))
    return NULL;
  if (!G_VALUE_HOLDS (&value, MP_TYPE_GVALUE_DICT))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "dict.copy() should return a dict");
      return NULL;
    }
  return g_value_dup_boxed (&value);
}

/* ------------------------------------------------------------------ */
/* Namespace                                                            */
/* ------------------------------------------------------------------ */

/**
 * mp_namespace_proxy_get:
 * @self: a Namespace proxy
 * @name: the attribute
 * @out: (out caller-allocates): an unset #GValue for a copy of its value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set ("[key]" for a missing one)
 *
 * Since: 0.1
 */
gboolean
mp_namespace_proxy_get (MpProxy    *self,
                        const char *name,
                        GValue     *out,
                        GError    **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (name, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "__getattribute__", args_of (mp_wire_string (name), NULL), out, error);
}

/**
 * mp_namespace_proxy_set:
 * @self: a Namespace proxy
 * @name: the attribute
 * @value: (nullable): its new value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_namespace_proxy_set (MpProxy      *self,
                        const char   *name,
                        const GValue *value,
                        GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (name, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add (&args, mp_wire_string (name));
  if (!mp_argv_add_value (&args, value, error))
    return FALSE;
  return call_void (self, "__setattr__", argv_steal (&args), error);
}

/**
 * mp_namespace_proxy_del:
 * @self: a Namespace proxy
 * @name: the attribute
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_namespace_proxy_del (MpProxy    *self,
                        const char *name,
                        GError    **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_KEY (name, FALSE);
  return call_void (self, "__delattr__", args_of (mp_wire_string (name), NULL), error);
}

/* ------------------------------------------------------------------ */
/* Value and Array                                                      */
/* ------------------------------------------------------------------ */

/**
 * mp_value_proxy_get:
 * @self: a Value proxy
 * @out: (out caller-allocates): an unset #GValue for a copy of the value
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_value_proxy_get (MpProxy  *self,
                    GValue   *out,
                    GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "get", NO_ARGS, out, error);
}

/**
 * mp_value_proxy_set:
 * @self: a Value proxy
 * @value: (nullable): the new value; like Python's manager Value, any
 *   type is accepted whatever the typecode
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_value_proxy_set (MpProxy      *self,
                    const GValue *value,
                    GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  if (!mp_argv_add_value (&args, value, error))
    return FALSE;
  return call_void (self, "set", argv_steal (&args), error);
}

/**
 * mp_array_proxy_get_item:
 * @self: an Array proxy
 * @index: the index; negative counts from the end
 * @out: (out caller-allocates): an unset #GValue
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_array_proxy_get_item (MpProxy  *self,
                         gint64    index,
                         GValue   *out,
                         GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "__getitem__", args_int (index), out, error);
}

/**
 * mp_array_proxy_set_item:
 * @self: an Array proxy
 * @index: the index; negative counts from the end
 * @value: a number that fits the array's typecode
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set ("[invalid-argument]" for a
 *   value of the wrong type or out of the typecode's range)
 *
 * Since: 0.1
 */
gboolean
mp_array_proxy_set_item (MpProxy      *self,
                         gint64        index,
                         const GValue *value,
                         GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  mp_argv_add_int (&args, index);
  if (!mp_argv_add_value (&args, value, error))
    return FALSE;
  return call_void (self, "__setitem__", argv_steal (&args), error);
}

/**
 * mp_array_proxy_len:
 * @self: an Array proxy
 * @error: return location for a #GError
 *
 * Returns: the length, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_array_proxy_len (MpProxy  *self,
                    GError  **error)
{
  gint64 len;

  CHECK_PROXY (self, error, -1);
  return call_int (self, "__len__", NO_ARGS, &len, error) ? len : -1;
}

/* ------------------------------------------------------------------ */
/* Lock, RLock, Semaphore, BoundedSemaphore (and Condition's lock)      */
/* ------------------------------------------------------------------ */

/**
 * mp_lock_proxy_acquire:
 * @self: a Lock, RLock, Semaphore, BoundedSemaphore or Condition proxy
 * @blocking: %FALSE to try once
 * @timeout_us: how long to wait when blocking; -1 for ever
 * @error: return location for a #GError
 *
 * Python's acquire() returns False when the lock was not taken; here
 * %FALSE also means a failure, so a caller that passes @error is told
 * which: a lock not taken in time (or at once, with @blocking %FALSE)
 * is %MP_ERROR_TIMEOUT. A caller that passes %NULL gets %FALSE alone,
 * as before.
 *
 * Returns: %TRUE when acquired; %FALSE with %MP_ERROR_TIMEOUT when it was
 *   not acquired in time, with another code on failure
 *
 * Since: 0.1
 */
gboolean
mp_lock_proxy_acquire (MpProxy  *self,
                       gboolean  blocking,
                       gint64    timeout_us,
                       GError  **error)
{
  gboolean acquired = FALSE;

  CHECK_PROXY (self, error, FALSE);
  if (!call_bool (self, "acquire",
                  args_bool_int (blocking, timeout_us < 0 ? -1 : timeout_us),
                  &acquired, error))
    return FALSE;
  if (!acquired && !blocking)
    mp_set_error (error, MP_ERROR_TIMEOUT,
                  "%s.acquire(): not acquired: another holder has it"
                  " (tried once, not blocking)", self->typeid);
  else if (!acquired)
    mp_set_error (error, MP_ERROR_TIMEOUT,
                  "%s.acquire(): not acquired within %" G_GINT64_FORMAT
                  " us: another holder kept it", self->typeid, timeout_us);
  return acquired;
}

/**
 * mp_lock_proxy_release:
 * @self: a Lock, RLock, Semaphore, BoundedSemaphore or Condition proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (releasing an unlocked lock, an
 *   RLock of another thread, a BoundedSemaphore too often)
 *
 * Since: 0.1
 */
gboolean
mp_lock_proxy_release (MpProxy  *self,
                       GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "release", NO_ARGS, error);
}

/* ------------------------------------------------------------------ */
/* Condition                                                            */
/* ------------------------------------------------------------------ */

/**
 * mp_condition_proxy_wait:
 * @self: a Condition proxy, acquired by this thread
 * @timeout_us: -1 for ever
 * @notified: (out) (optional): %FALSE when the wait timed out
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_condition_proxy_wait (MpProxy   *self,
                         gint64     timeout_us,
                         gboolean  *notified,
                         GError   **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_bool (self, "wait", args_int (timeout_us < 0 ? -1 : timeout_us),
                    notified, error);
}

/**
 * mp_condition_proxy_notify:
 * @self: a Condition proxy, acquired by this thread
 * @n: how many waiters to wake
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_condition_proxy_notify (MpProxy  *self,
                           guint     n,
                           GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "notify", args_int (n), error);
}

/**
 * mp_condition_proxy_notify_all:
 * @self: a Condition proxy, acquired by this thread
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_condition_proxy_notify_all (MpProxy  *self,
                               GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "notify_all", NO_ARGS, error);
}

/**
 * mp_condition_proxy_wait_for:
 * @self: a Condition proxy, acquired by this thread
 * @predicate: (scope call): evaluated here, in the client, with the lock
 *   held
 * @user_data: data for @predicate
 * @timeout_us: -1 for ever
 * @satisfied: (out) (optional): the last value of @predicate
 * @error: return location for a #GError
 *
 * Python's ConditionProxy.wait_for(): waits until @predicate holds.
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_condition_proxy_wait_for (MpProxy     *self,
                             MpPredicate  predicate,
                             gpointer     user_data,
                             gint64       timeout_us,
                             gboolean    *satisfied,
                             GError     **error)
{
  gint64 deadline = mp_deadline_from_timeout (timeout_us);
  gboolean result;

  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (predicate != NULL, FALSE);

  result = predicate (user_data);
  while (!result)
    {
      gint64 wait_us = -1;

      if (deadline >= 0)
        {
          wait_us = deadline - g_get_monotonic_time ();
          if (wait_us <= 0)
            break;
        }
      if (!mp_condition_proxy_wait (self, wait_us, NULL, error))
        return FALSE;
      result = predicate (user_data);
    }
  if (satisfied != NULL)
    *satisfied = result;
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Event                                                                */
/* ------------------------------------------------------------------ */

/**
 * mp_event_proxy_set:
 * @self: an Event proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_event_proxy_set (MpProxy  *self,
                    GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "set", NO_ARGS, error);
}

/**
 * mp_event_proxy_clear:
 * @self: an Event proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_event_proxy_clear (MpProxy  *self,
                      GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "clear", NO_ARGS, error);
}

/**
 * mp_event_proxy_is_set:
 * @self: an Event proxy
 * @is_set: (out): the flag
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_event_proxy_is_set (MpProxy   *self,
                       gboolean  *is_set,
                       GError   **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (is_set != NULL, FALSE);
  return call_bool (self, "is_set", NO_ARGS, is_set, error);
}

/**
 * mp_event_proxy_wait:
 * @self: an Event proxy
 * @timeout_us: -1 for ever
 * @is_set: (out) (optional): the flag when the wait ended (%FALSE: timed out)
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_event_proxy_wait (MpProxy   *self,
                     gint64     timeout_us,
                     gboolean  *is_set,
                     GError   **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_bool (self, "wait", args_int (timeout_us < 0 ? -1 : timeout_us),
                    is_set, error);
}

/* ------------------------------------------------------------------ */
/* Barrier                                                              */
/* ------------------------------------------------------------------ */

/**
 * mp_barrier_proxy_wait:
 * @self: a Barrier proxy
 * @timeout_us: -1 for ever; running out breaks the barrier (as in Python)
 * @error: return location for a #GError
 *
 * Returns: the arrival index (0 .. parties-1), or -1 with @error set
 *   (%MP_ERROR_BROKEN_BARRIER when aborted, reset or timed out)
 *
 * Since: 0.1
 */
gint64
mp_barrier_proxy_wait (MpProxy  *self,
                       gint64    timeout_us,
                       GError  **error)
{
  gint64 index;

  CHECK_PROXY (self, error, -1);
  return call_int (self, "wait", args_int (timeout_us < 0 ? -1 : timeout_us),
                   &index, error) ? index : -1;
}

/**
 * mp_barrier_proxy_abort:
 * @self: a Barrier proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_barrier_proxy_abort (MpProxy  *self,
                        GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "abort", NO_ARGS, error);
}

/**
 * mp_barrier_proxy_reset:
 * @self: a Barrier proxy
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_barrier_proxy_reset (MpProxy  *self,
                        GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  return call_void (self, "reset", NO_ARGS, error);
}

/* ------------------------------------------------------------------ */
/* Queue                                                                */
/* ------------------------------------------------------------------ */

/**
 * mp_queue_proxy_put:
 * @self: a Queue proxy
 * @item: (nullable): the value
 * @block: %FALSE to fail at once when full
 * @timeout_us: -1 for ever
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MP_ERROR_FULL)
 *
 * Since: 0.1
 */
gboolean
mp_queue_proxy_put (MpProxy      *self,
                    const GValue *item,
                    gboolean      block,
                    gint64        timeout_us,
                    GError      **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_auto(MpArgv) args = MP_ARGV_INIT;

  if (!mp_argv_add_value (&args, item, error))
    return FALSE;
  mp_argv_add (&args, mp_wire_bool (block));
  mp_argv_add_int (&args, timeout_us < 0 ? -1 : timeout_us);
  return call_void (self, "put",
                    argv_steal (&args),
                    error);
}

/**
 * mp_queue_proxy_get:
 * @self: a Queue proxy
 * @block: %FALSE to fail at once when empty
 * @timeout_us: -1 for ever
 * @out: (out caller-allocates) (optional): an unset #GValue for the item
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MP_ERROR_EMPTY)
 *
 * Since: 0.1
 */
gboolean
mp_queue_proxy_get (MpProxy  *self,
                    gboolean  block,
                    gint64    timeout_us,
                    GValue   *out,
                    GError  **error)
{
  CHECK_PROXY (self, error, FALSE);
  CHECK_OUT (out, FALSE);
  return call_value (self, "get",
                     args_bool_int (block, timeout_us < 0 ? -1 : timeout_us),
                     out, error);
}

/**
 * mp_queue_proxy_qsize:
 * @self: a Queue proxy
 * @error: return location for a #GError
 *
 * Returns: the number of items, or -1 with @error set
 *
 * Since: 0.1
 */
gint64
mp_queue_proxy_qsize (MpProxy  *self,
                      GError  **error)
{
  gint64 size;

  CHECK_PROXY (self, error, -1);
  return call_int (self, "qsize", NO_ARGS, &size, error) ? size : -1;
}

/**
 * mp_queue_proxy_empty:
 * @self: a Queue proxy
 * @empty: (out): whether it is empty
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_queue_proxy_empty (MpProxy   *self,
                      gboolean  *empty,
                      GError   **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (empty != NULL, FALSE);
  return call_bool (self, "empty", NO_ARGS, empty, error);
}

/**
 * mp_queue_proxy_full:
 * @self: a Queue proxy
 * @full: (out): whether it is full
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
mp_queue_proxy_full (MpProxy   *self,
                     gboolean  *full,
                     GError   **error)
{
  CHECK_PROXY (self, error, FALSE);
  g_return_val_if_fail (full != NULL, FALSE);
  return call_bool (self, "full", NO_ARGS, full, error);
}
