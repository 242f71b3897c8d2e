/* mp-manager-client.c — the connections of a process to its managers
 *
 * One endpoint per (server address, auth key) and process. It owns:
 *  - an anchor connection, opened first and never used for calls: while
 *    it is open the server knows this process is alive; when the process
 *    dies the kernel closes it and the server gives back the references
 *    and locks the process held;
 *  - a pool of idle connections for calls. A call takes one (or opens
 *    one) and puts it back, so concurrent calls from several threads run
 *    concurrently and a blocking call (Queue.get) never holds up another.
 *
 * Each connection says "hello" first with the process nonce (a random
 * number that names this process to the server) and every request names
 * its thread, so the server knows which client thread owns a lock.
 *
 * After fork() the child must not touch its parent's connections: the
 * first use in the child drops them without a word to the server (their
 * descriptors are closed; shutting the shared sockets down would cut the
 * parent off too) and starts afresh with a new nonce.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "mp-manager-private.h"
#include "mp-connection.h"
#include "mp-connection-private.h"
#include "mp-trace-private.h"

/* the request buffer a thread keeps between calls, at most */
#define REQUEST_KEEP_SIZE 4096

/* a backstop: a live server answers the handshake at once */
#define CONNECT_TIMEOUT_US (30 * G_USEC_PER_SEC)

struct _MpEndpoint {
  char         *address;
  GBytes       *authkey;
  char         *key;
  guint64       nonce;
  GPid          pid;
  gint          broken;     /* atomic: the server is gone or was shut down */

  GMutex        lock;       /* idle and anchor */
  GPtrArray    *idle;       /* MpConnection*, most recently used last */
  MpConnection *anchor;
};

static GMutex      client_lock;
static GHashTable *endpoints;     /* key -> MpEndpoint* (a reference) */
static GPtrArray  *inherited;     /* what a fork left us: kept, never used */
static guint64     client_nonce;
static GPid        client_pid;

/* ------------------------------------------------------------------ */
/* fork safety                                                          */
/* ------------------------------------------------------------------ */

static void
atfork_prepare (void)
{
  g_mutex_lock (&client_lock);
}

static void
atfork_release (void)
{
  g_mutex_unlock (&client_lock);
}

/* getpid() is a system call; every proxy call asks "am I still the
 * process I was?", so the answer is cached and renewed after fork */
static gint cached_pid;

static void
atfork_child (void)
{
  g_atomic_int_set (&cached_pid, getpid ());
  g_mutex_unlock (&client_lock);
}

static void
ensure_atfork (void)
{
  static gsize done = 0;

  /* a fork while another thread holds the lock would leave the child's
   * copy locked for ever */
  if (g_once_init_enter (&done))
    {
      pthread_atfork (atfork_prepare, atfork_release, atfork_child);
      g_once_init_leave (&done, 1);
    }
}

/**
 * mp_client_pid:
 *
 * Returns: getpid(), without a system call
 */
GPid
mp_client_pid (void)
{
  GPid pid;

  ensure_atfork ();
  pid = g_atomic_int_get (&cached_pid);
  if (pid == 0)
    {
      pid = getpid ();
      g_atomic_int_set (&cached_pid, pid);
    }
  return pid;
}

static void
abandon_connection (MpConnection *connection)
{
  /* The socket is shared with the parent: close our descriptor only and
   * leave the object alone for good (its teardown would shut the socket
   * down for the parent as well). */
  close (g_socket_get_fd (mp_connection_get_socket (connection)));
}

static void
endpoint_abandon (MpEndpoint *self)
{
  for (guint i = 0; i < self->idle->len; i++)
    abandon_connection (g_ptr_array_index (self->idle, i));
  if (self->anchor != NULL)
    abandon_connection (self->anchor);
}

static guint64
new_nonce (void)
{
  guint64 nonce;

  /* g_random's state is copied by fork: the pid and the clock tell a
   * child from its parent */
  do
    nonce = (((guint64) g_random_int () << 32) | g_random_int ()) ^
            ((guint64) getpid () << 20) ^ (guint64) g_get_real_time ();
  while (nonce == 0);
  return nonce;
}

/* with client_lock held */
static void
check_fork_locked (void)
{
  GPid pid = mp_client_pid ();

  if (client_pid == pid)
    return;
  if (endpoints != NULL)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, endpoints);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        endpoint_abandon (value);
      /* the parent's table and endpoints stay allocated but unused (see
       * above); kept reachable so leak checkers see no loss */
      if (inherited == NULL)
        inherited = g_ptr_array_new ();
      g_ptr_array_add (inherited, g_steal_pointer (&endpoints));
    }
  client_pid = pid;
  client_nonce = new_nonce ();
}

/**
 * mp_client_forget_inherited:
 *
 * Drops the manager connections a forked process inherited, at once (the
 * server process calls it first thing).
 */
void
mp_client_forget_inherited (void)
{
  ensure_atfork ();
  g_mutex_lock (&client_lock);
  check_fork_locked ();
  g_mutex_unlock (&client_lock);
}

static guint64
thread_tag (void)
{
  static GPrivate tag_key;
  static gsize counter = 0;
  gpointer tag = g_private_get (&tag_key);

  if (tag == NULL)
    {
      tag = GSIZE_TO_POINTER ((gsize) g_atomic_pointer_add (&counter, 1) + 1);
      g_private_set (&tag_key, tag);
    }
  return GPOINTER_TO_SIZE (tag);
}

/* ------------------------------------------------------------------ */
/* replies carrying proxies                                             */
/* ------------------------------------------------------------------ */

static GPrivate reply_address;

void
mp_client_reply_begin (const char *address)
{
  g_private_set (&reply_address, (gpointer) address);
}

void
mp_client_reply_end (void)
{
  g_private_set (&reply_address, NULL);
}

gboolean
mp_client_reply_holds_ref (const char *address)
{
  const char *current = g_private_get (&reply_address);

  return current != NULL && strcmp (current, address) == 0;
}

/* ------------------------------------------------------------------ */
/* errors                                                               */
/* ------------------------------------------------------------------ */

/**
 * mp_proxy_set_closed_error:
 * @error: return location for a #GError
 * @address: the manager's address
 * @cause: (nullable): what the socket said, e.g. "No such file or directory"
 *
 * The closed-manager error: Python's confusing words and the fix are
 * appended by mp_set_error().
 */
void
mp_proxy_set_closed_error (GError    **error,
                           const char *address,
                           const char *cause)
{
  mp_set_error (error, MP_ERROR_MANAGER_CLOSED,
                "The manager at %s is closed: it was shut down or its process ended%s%s",
                address, cause != NULL ? "; the socket says: " : "", cause != NULL ? cause : "");
}

static gboolean
passes_through (guint code)
{
  /* the documented outcomes of an operation keep their own code; any
   * other failure in the server is a remote error */
  switch (code)
    {
    case MP_ERROR_EMPTY:
    case MP_ERROR_FULL:
    case MP_ERROR_BROKEN_BARRIER:
    case MP_ERROR_TIMEOUT:
    case MP_ERROR_NOT_EXPOSED:
    case MP_ERROR_MANAGER_CLOSED:
    case MP_ERROR_REFUSED:
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * mp_client_set_remote_error:
 * @error: return location for a #GError
 * @payload: an ERROR reply's payload, "(uss)"
 *
 * Raises an error of the server in the client. Most become
 * %MP_ERROR_REMOTE with the message "[code-name] original message";
 * queue Empty/Full, a broken barrier, a timeout, a method that is not
 * exposed, a closing server and a refusal keep their own code.
 */
void
mp_client_set_remote_error (GError  **error,
                            GVariant *payload)
{
  guint code;
  const char *name, *message;

  g_variant_get (payload, "(u&s&s)", &code, &name, &message);
  if (code < MP_ERROR_N_CODES && passes_through (code))
    g_set_error_literal (error, MP_ERROR, (gint) code, message);
  else
    mp_set_error (error, MP_ERROR_REMOTE, "[%s] %s (raised in the manager's server process)",
                  name, message);
}

/* ------------------------------------------------------------------ */
/* endpoints                                                            */
/* ------------------------------------------------------------------ */

static char *
endpoint_key (const char *address,
              GBytes     *authkey)
{
  g_autofree char *digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, authkey);

  return g_strconcat (address, "\n", digest, NULL);
}

static void
endpoint_free (MpEndpoint *self)
{
  if (self->pid == mp_client_pid ())
    {
      for (guint i = 0; i < self->idle->len; i++)
        mp_connection_unref (g_ptr_array_index (self->idle, i));
      g_clear_pointer (&self->anchor, mp_connection_unref);
    }
  g_ptr_array_unref (self->idle);
  g_mutex_clear (&self->lock);
  g_free (self->address);
  g_free (self->key);
  g_bytes_unref (self->authkey);
}

MpEndpoint *
mp_endpoint_ref (MpEndpoint *self)
{
  return g_atomic_rc_box_acquire (self);
}

void
mp_endpoint_unref (MpEndpoint *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify) endpoint_free);
}

const char *
mp_endpoint_get_address (MpEndpoint *self)
{
  return self->address;
}

gboolean
mp_endpoint_is_usable (MpEndpoint *self)
{
  return self->pid == mp_client_pid () && !g_atomic_int_get (&self->broken);
}

static void
endpoint_close (MpEndpoint *self)
{
  /* made before, swapped in under the lock: never NULL, even for a
   * child forked in between */
  GPtrArray *fresh = g_ptr_array_new ();
  g_autoptr(GPtrArray) idle = NULL;
  MpConnection *anchor;

  g_atomic_int_set (&self->broken, TRUE);
  g_mutex_lock (&self->lock);
  idle = self->idle;
  self->idle = fresh;
  anchor = g_steal_pointer (&self->anchor);
  g_mutex_unlock (&self->lock);
  for (guint i = 0; i < idle->len; i++)
    mp_connection_unref (g_ptr_array_index (idle, i));
  if (anchor != NULL)
    mp_connection_unref (anchor);
}

/* the server is gone: later calls fail at once or reconnect afresh */
static void
endpoint_mark_broken (MpEndpoint *self)
{
  g_atomic_int_set (&self->broken, TRUE);
  g_mutex_lock (&client_lock);
  if (endpoints != NULL && client_pid == self->pid &&
      g_hash_table_lookup (endpoints, self->key) == self)
    g_hash_table_remove (endpoints, self->key);
  g_mutex_unlock (&client_lock);
}

/* one request, one reply. A reply that is
 * not a well-formed "(yv)" fails here, so the connection is dropped.
 * @boxed is left NULL for a plain RETURN value unless @want_value. */
static gboolean
round_trip (MpConnection  *connection,
            guint64        id,
            const char    *method,
            const MpArgv  *args,
            gboolean       want_value,
            guint8        *kind,
            GVariant     **boxed,
            GError       **error)
{
  /* a thread makes one call at a time: its request buffer is reused */
  static GPrivate request_key = G_PRIVATE_INIT ((GDestroyNotify) g_byte_array_unref);
  GByteArray *request = g_private_get (&request_key);
  g_auto(MpFrame) reply = MP_FRAME_INIT;
  gboolean sent;

  if (request == NULL)
    {
      request = g_byte_array_sized_new (REQUEST_KEEP_SIZE);
      g_private_set (&request_key, request);
    }
  /* room for the frame's header, then the message: one send() */
  g_byte_array_set_size (request, MP_FRAME_HEADER_SIZE);
  mp_message_write_request (request, id, method, args, (guint64) thread_tag ());
  MP_TRACE (mp_trace_proxy_send (request->len));
  sent = mp_connection_send_frame (connection, request, error);
  if (request->len > REQUEST_KEEP_SIZE)
    g_private_replace (&request_key, g_byte_array_sized_new (REQUEST_KEEP_SIZE));
  if (!sent)
    return FALSE;
  /* a lent reply: this thread is the connection's only reader until
   * the call returns, and nothing it needs points into the frame */
  if (!mp_connection_recv_frame (connection, -1, &reply, error))
    return FALSE;
  MP_TRACE (mp_trace_proxy_received (reply.len));
  *boxed = NULL;
  /* whatever is not a plain RETURN is built: errors and proxies are read */
  if (!mp_message_decode_reply (&reply, kind, want_value ? boxed : NULL, error))
    return FALSE;
  if (*kind != MP_REPLY_RETURN && *boxed == NULL)
    return mp_message_decode_reply (&reply, kind, boxed, error);
  return TRUE;
}

/* @boxed: the reply's "v" member, in normal form (NULL: a plain value
 * nobody asked for). @unboxed: for a RETURN, the value inside @boxed,
 * which the check unboxed anyway (the shared None stays itself). */
static gboolean
parse_reply (guint8        kind_byte,
             GVariant     *boxed,
             MpReplyKind  *kind,
             GVariant    **payload,
             GVariant    **unboxed,
             GError      **error)
{
  g_autoptr(GVariant) inner = NULL;

  switch (kind_byte)
    {
    case MP_REPLY_RETURN:
      /* the shape of a value (a plain one passes at a glance; NULL: a
       * plain one nobody asked for) */
      if (boxed != NULL && mp_wire_is_shared_none (boxed))
        inner = g_variant_ref (boxed);
      else if (boxed != NULL && !mp_wire_check_unbox (boxed, &inner, error))
        return FALSE;
      *kind = MP_REPLY_RETURN;
      if (payload != NULL)
        *payload = boxed != NULL ? g_variant_ref (boxed) : NULL;
      if (unboxed != NULL)
        *unboxed = g_steal_pointer (&inner);
      return TRUE;

    case MP_REPLY_PROXY:
      inner = g_variant_get_variant (boxed);
      if (!g_variant_is_of_type (inner, MP_MSG_TYPE (MP_MSG_PROXY)))
        break;
      *kind = MP_REPLY_PROXY;
      if (payload != NULL)
        *payload = g_steal_pointer (&inner);
      return TRUE;

    case MP_REPLY_ERROR:
      inner = g_variant_get_variant (boxed);
      if (!g_variant_is_of_type (inner, MP_MSG_TYPE (MP_MSG_ERROR)))
        break;
      mp_client_set_remote_error (error, inner);
      return FALSE;

    default:
      break;
    }
  mp_set_error (error, MP_ERROR_PROTOCOL, "the manager sent a malformed reply");
  return FALSE;
}

/* maps a failure of the socket: a vanished server is a closed manager */
static gboolean
connection_failed (MpEndpoint *self,
                   GError     *local,
                   GError    **error)
{
  if (mp_connection_error_is_peer_gone (local))
    {
      endpoint_mark_broken (self);
      mp_proxy_set_closed_error (error, self->address, local->message);
      g_error_free (local);
      return FALSE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

static MpConnection *
open_connection (MpEndpoint *self,
                 gboolean    anchor,
                 GError    **error)
{
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) payload = NULL;
  g_auto(MpArgv) args = MP_ARGV_INIT;
  GError *local = NULL;
  MpReplyKind kind;
  guint8 kind_byte;

  connection = mp_connection_connect (self->address, self->authkey, CONNECT_TIMEOUT_US, &local);
  if (connection == NULL)
    {
      connection_failed (self, local, error);
      return NULL;
    }
  mp_argv_add (&args, mp_wire_uint (self->nonce));
  mp_argv_add (&args, mp_wire_int (getpid ()));
  mp_argv_add (&args, mp_wire_bool (anchor));
  if (!round_trip (connection, MP_SERVER_ID, "hello", &args, FALSE, &kind_byte, &reply, &local))
    {
      connection_failed (self, local, error);
      return NULL;
    }
  if (!parse_reply (kind_byte, reply, &kind, &payload, NULL, error))
    return NULL;
  return g_steal_pointer (&connection);
}

static MpEndpoint *
endpoint_new (const char *address,
              GBytes     *authkey,
              const char *key,
              guint64     nonce)
{
  MpEndpoint *self = g_atomic_rc_box_new0 (MpEndpoint);

  self->address = g_strdup (address);
  self->authkey = g_bytes_ref (authkey);
  self->key = g_strdup (key);
  self->nonce = nonce;
  self->pid = mp_client_pid ();
  mp_wire_pin_types ();
  g_mutex_init (&self->lock);
  /* a stack, not a GQueue: taking and giving back allocate nothing */
  self->idle = g_ptr_array_new ();
  return self;
}

/**
 * mp_endpoint_get:
 * @address: the server's address
 * @authkey: the key to authenticate with
 * @error: return location for a #GError
 *
 * The endpoint of this process for @address, connected (anchor opened)
 * on first use.
 *
 * Returns: (transfer full): the endpoint, or %NULL with @error set:
 *   %MP_ERROR_MANAGER_CLOSED when nothing listens there any more,
 *   %MP_ERROR_AUTH_FAILED for a wrong key.
 */
MpEndpoint *
mp_endpoint_get (const char *address,
                 GBytes     *authkey,
                 GError    **error)
{
  g_autofree char *key = endpoint_key (address, authkey);
  MpEndpoint *self, *existing;
  guint64 nonce;

  ensure_atfork ();
  g_mutex_lock (&client_lock);
  check_fork_locked ();
  self = endpoints != NULL ? g_hash_table_lookup (endpoints, key) : NULL;
  if (self != NULL && !g_atomic_int_get (&self->broken))
    {
      mp_endpoint_ref (self);
      g_mutex_unlock (&client_lock);
      return self;
    }
  nonce = client_nonce;
  g_mutex_unlock (&client_lock);

  /* connect outside the lock: other managers' calls go on meanwhile */
  self = endpoint_new (address, authkey, key, nonce);
  self->anchor = open_connection (self, TRUE, error);
  if (self->anchor == NULL)
    {
      mp_endpoint_unref (self);
      return NULL;
    }

  g_mutex_lock (&client_lock);
  check_fork_locked ();
  existing = endpoints != NULL ? g_hash_table_lookup (endpoints, key) : NULL;
  if (existing != NULL && !g_atomic_int_get (&existing->broken))
    {
      /* another thread won the race */
      mp_endpoint_ref (existing);
      g_mutex_unlock (&client_lock);
      mp_endpoint_unref (self);
      return existing;
    }
  if (endpoints == NULL)
    endpoints = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) mp_endpoint_unref);
  g_hash_table_replace (endpoints, g_strdup (key), mp_endpoint_ref (self));
  g_mutex_unlock (&client_lock);
  return self;
}

/**
 * mp_endpoint_forget:
 * @address: a server's address
 * @authkey: the key used with it
 *
 * The manager at @address was shut down: close this process's
 * connections to it now instead of when the last proxy goes.
 */
void
mp_endpoint_forget (const char *address,
                    GBytes     *authkey)
{
  g_autofree char *key = endpoint_key (address, authkey);
  MpEndpoint *self = NULL;

  g_mutex_lock (&client_lock);
  check_fork_locked ();
  if (endpoints != NULL)
    {
      self = g_hash_table_lookup (endpoints, key);
      if (self != NULL)
        {
          mp_endpoint_ref (self);
          g_hash_table_remove (endpoints, key);
        }
    }
  g_mutex_unlock (&client_lock);
  if (self != NULL)
    {
      endpoint_close (self);
      mp_endpoint_unref (self);
    }
}

/**
 * mp_endpoint_call_unboxed:
 * @self: an endpoint
 * @id: the object id, or %MP_SERVER_ID
 * @method: the method's name
 * @args: (nullable): the arguments
 * @kind: (out): %MP_REPLY_RETURN or %MP_REPLY_PROXY
 * @payload: (out) (transfer full) (optional): the result: a "v" wire for
 *   RETURN, "(st)" for PROXY; %NULL when the caller ignores a RETURN
 *   value (a plain one is then never built)
 * @unboxed: (out) (transfer full) (optional): for a RETURN asked for,
 *   the value inside the "v" (checked, as mp_wire_check_unbox() gives
 *   it), or mp_wire_none_shared() itself; else %NULL
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set: the server's error (see
 *   mp_client_set_remote_error()) or %MP_ERROR_MANAGER_CLOSED.
 */
gboolean
mp_endpoint_call_unboxed (MpEndpoint   *self,
                          guint64       id,
                          const char   *method,
                          const MpArgv *args,
                          MpReplyKind  *kind,
                          GVariant    **payload,
                          GVariant    **unboxed,
                          GError      **error)
{
  g_autoptr(GVariant) reply = NULL;
  MpConnection *connection;
  GError *local = NULL;
  guint8 kind_byte;
  gboolean want_value = payload != NULL || unboxed != NULL;

  if (unboxed != NULL)
    *unboxed = NULL;
  if (!mp_endpoint_is_usable (self))
    {
      mp_proxy_set_closed_error (error, self->address, NULL);
      return FALSE;
    }

  g_mutex_lock (&self->lock);
  connection = self->idle->len > 0 ? g_ptr_array_steal_index_fast (self->idle, self->idle->len - 1) : NULL;
  g_mutex_unlock (&self->lock);
  if (connection == NULL)
    {
      connection = open_connection (self, FALSE, error);
      if (connection == NULL)
        return FALSE;
    }

  if (!round_trip (connection, id, method, args, want_value, &kind_byte, &reply, &local))
    {
      mp_connection_unref (connection);
      return connection_failed (self, local, error);
    }

  g_mutex_lock (&self->lock);
  if (!g_atomic_int_get (&self->broken))
    {
      g_ptr_array_add (self->idle, connection);
      connection = NULL;
    }
  g_mutex_unlock (&self->lock);
  if (connection != NULL)
    mp_connection_unref (connection);

  return parse_reply (kind_byte, reply, kind, payload, unboxed, error);
}

/**
 * mp_endpoint_call:
 *
 * mp_endpoint_call_unboxed() for a caller that wants no unboxed value.
 */
gboolean
mp_endpoint_call (MpEndpoint   *self,
                  guint64       id,
                  const char   *method,
                  const MpArgv *args,
                  MpReplyKind  *kind,
                  GVariant    **payload,
                  GError      **error)
{
  return mp_endpoint_call_unboxed (self, id, method, args, kind, payload, NULL, error);
}
