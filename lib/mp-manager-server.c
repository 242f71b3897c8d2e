/* mp-manager-server.c — the manager's server process
 *
 * Python's managers.Server: a process that listens, authenticates each
 * client with the HMAC challenge (all handshakes in progress on the
 * accepting thread, bounded: see mp-gate.c), and serves every
 * authenticated connection in its own thread, so a call that blocks (Lock.acquire, Queue.get, Event.wait,
 * Barrier.wait, Condition.wait) never holds up the other clients.
 *
 * The registry maps object ids to objects with a reference count. A
 * client process holds references through its proxies ("create" and
 * "incref" add one, "decref" drops one); containers hold references to
 * the objects of the proxies stored in them. At zero the object is freed,
 * outside the registry lock. Each client process has an anchor connection
 * that stays open as long as the process lives: when it ends, the server
 * drops the references that process still held and releases the locks it
 * owned (CPython keeps both for ever).
 *
 * The server runs as an MpProcess task (fork or spawn). It reports its
 * address, or why it could not listen, on a "lifeline" socket whose other
 * end the parent keeps: when the parent goes away without shutting the
 * server down, the server notices and exits, so no orphan is left.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mp-manager-private.h"
#include "mp-connection.h"
#include "mp-connection-private.h"
#include "mp-gate-private.h"
#include "mp-trace-private.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

/* how long a client refused after its handshake has to send its first
 * request, which is answered with the refusal */
#define REFUSE_READ_TIMEOUT_US (100 * 1000)

/* the reply buffer a connection keeps between calls, at most */
#define REPLY_KEEP_SIZE 4096

struct _MpServerConn {
  MpServer     *server;
  MpConnection *connection;
  int           socket_fd;
  int           wake[2];      /* a byte in wake[0] wakes a blocked call */
  guint64       nonce;        /* the client process, from "hello" */
  gboolean      greeted;
  gboolean      anchor;
  gboolean      stop_after_reply;
  GByteArray   *reply;        /* the frame of the reply, reused call after call */
  GList         link;         /* in server->conns */
};

typedef struct {
  guint64                id;
  MpReferent            *referent;
  guint                  refcount;
} MpEntry;

struct _MpServer {
  MpListener   *listener;
  char         *address;
  GBytes       *authkey;
  MpConnection *lifeline;

  GMutex        lock;         /* everything below */
  GCond         drained;
  GHashTable   *objects;      /* &entry->id -> MpEntry* */
  guint64       next_id;
  GHashTable   *clients;      /* guint64 nonce -> GHashTable (guint64 id -> count) */
  GQueue        conns;
  guint         n_threads;
  gint          closing;      /* atomic too: read without the lock */
  gint64        refused_warned_at; /* the accepting thread's own */
};

/* ------------------------------------------------------------------ */
/* the registry                                                         */
/* ------------------------------------------------------------------ */

static guint64 *
id_key (guint64 id)
{
  return g_memdup2 (&id, sizeof id);
}

static void
entry_free (MpEntry *entry)
{
  g_clear_pointer (&entry->referent, mp_referent_unref);
  g_free (entry);
}

/* with the lock held: one more reference, owned by client @nonce
 * (0: held by the server itself, for a container) */
static gboolean
incref_locked (MpServer *server,
               guint64   nonce,
               guint64   id,
               GError  **error)
{
  MpEntry *entry = g_hash_table_lookup (server->objects, &id);

  if (entry == NULL)
    {
      mp_set_error (error, MP_ERROR_KEY,
                    "no object with id %" G_GUINT64_FORMAT " in the manager (it was freed when its last proxy went away)",
                    id);
      return FALSE;
    }
  entry->refcount++;
  if (nonce != 0)
    {
      GHashTable *refs = g_hash_table_lookup (server->clients, &nonce);
      gpointer count;

      if (refs == NULL)
        {
          refs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
          g_hash_table_insert (server->clients, id_key (nonce), refs);
        }
      count = g_hash_table_lookup (refs, &id);
      g_hash_table_replace (refs, id_key (id), GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
    }
  return TRUE;
}

/* with the lock held; a freed entry is appended to @dead, to be freed
 * once the lock is let go */
static gboolean
decref_locked (MpServer  *server,
               guint64    nonce,
               guint64    id,
               GPtrArray *dead,
               GError   **error)
{
  MpEntry *entry = g_hash_table_lookup (server->objects, &id);

  if (nonce != 0)
    {
      GHashTable *refs = g_hash_table_lookup (server->clients, &nonce);
      guint count = refs != NULL ? GPOINTER_TO_UINT (g_hash_table_lookup (refs, &id)) : 0;

      if (count == 0)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "this client holds no reference to object %" G_GUINT64_FORMAT, id);
          return FALSE;
        }
      if (count == 1)
        g_hash_table_remove (refs, &id);
      else
        g_hash_table_replace (refs, id_key (id), GUINT_TO_POINTER (count - 1));
    }
  if (entry == NULL)
    return TRUE;   /* already gone at shutdown */
  g_assert (entry->refcount > 0);
  if (--entry->refcount == 0)
    {
      g_hash_table_steal (server->objects, &id);
      g_ptr_array_add (dead, entry);
    }
  return TRUE;
}

static void
free_dead (GPtrArray *dead)
{
  /* may recurse into the registry (a freed list releases its proxies) */
  g_ptr_array_unref (dead);
}

static GPtrArray *
dead_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
}

typedef struct {
  MpServer *server;
  GArray   *ids;
} CollectIds;

static gboolean
collect_own_token (const MpToken *token,
                   gpointer       user_data)
{
  CollectIds *collect = user_data;

  if (strcmp (token->address, collect->server->address) == 0)
    g_array_append_val (collect->ids, token->id);
  return TRUE;
}

static GArray *
own_tokens (MpServer *server,
            GVariant *wire)
{
  CollectIds collect = { server, g_array_new (FALSE, FALSE, sizeof (guint64)) };

  mp_wire_foreach_token (wire, collect_own_token, &collect);
  return collect.ids;
}

/**
 * mp_server_retain_wire:
 * @server: the server
 * @wire: a value about to be stored in an object
 * @error: return location for a #GError
 *
 * Keeps alive the objects of this server whose proxies are inside @wire,
 * for as long as it stays stored; all or nothing.
 *
 * Returns: %FALSE with %MP_ERROR_KEY if one of them no longer exists.
 */
gboolean
mp_server_retain_wire (MpServer *server,
                       GVariant *wire,
                       GError  **error)
{
  g_autoptr(GArray) ids = NULL;
  gboolean ok = TRUE;

  if (!mp_wire_may_hold_tokens (wire))
    return TRUE;
  ids = own_tokens (server, wire);
  if (ids->len == 0)
    return TRUE;
  g_mutex_lock (&server->lock);
  for (guint i = 0; i < ids->len && ok; i++)
    if (!g_hash_table_contains (server->objects, &g_array_index (ids, guint64, i)))
      {
        mp_set_error (error, MP_ERROR_KEY,
                      "the value holds a proxy of object %" G_GUINT64_FORMAT ", which no longer exists",
                      g_array_index (ids, guint64, i));
        ok = FALSE;
      }
  for (guint i = 0; i < ids->len && ok; i++)
    incref_locked (server, 0, g_array_index (ids, guint64, i), NULL);
  g_mutex_unlock (&server->lock);
  return ok;
}

/**
 * mp_server_release_wire:
 * @server: the server
 * @wire: a value that was stored with mp_server_retain_wire()
 *
 * Gives back what mp_server_retain_wire() took. Call it with no object
 * mutex held: objects may be freed.
 */
void
mp_server_release_wire (MpServer *server,
                        GVariant *wire)
{
  g_autoptr(GArray) ids = NULL;
  GPtrArray *dead;

  if (!mp_wire_may_hold_tokens (wire))
    return;
  ids = own_tokens (server, wire);
  if (ids->len == 0)
    return;
  dead = dead_new ();
  g_mutex_lock (&server->lock);
  for (guint i = 0; i < ids->len; i++)
    decref_locked (server, 0, g_array_index (ids, guint64, i), dead, NULL);
  g_mutex_unlock (&server->lock);
  free_dead (dead);
}

/**
 * mp_server_lookup_token:
 * @server: the server
 * @wire: a serialized proxy of an object of this server
 * @error: return location for a #GError
 *
 * Returns: (transfer full): the object, or %NULL with @error set.
 */
MpReferent *
mp_server_lookup_token (MpServer *server,
                        GVariant *wire,
                        GError  **error)
{
  MpToken token;
  MpEntry *entry;
  MpReferent *referent = NULL;

  if (!mp_wire_get_token (wire, &token))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "expected a proxy");
      return NULL;
    }
  if (strcmp (token.address, server->address) != 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "the proxy belongs to the manager at %s, not to this one (%s)",
                    token.address, server->address);
      return NULL;
    }
  g_mutex_lock (&server->lock);
  entry = g_hash_table_lookup (server->objects, &token.id);
  if (entry != NULL)
    referent = mp_referent_ref (entry->referent);
  g_mutex_unlock (&server->lock);
  if (referent == NULL)
    mp_set_error (error, MP_ERROR_KEY, "no object with id %" G_GUINT64_FORMAT " in the manager",
                  token.id);
  return referent;
}

/* the process @nonce is gone: give back what it held */
static void
client_gone (MpServer *server,
             guint64   nonce)
{
  g_autoptr(GPtrArray) referents = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_referent_unref);
  GPtrArray *dead = dead_new ();
  GHashTable *refs = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_mutex_lock (&server->lock);
  g_hash_table_steal_extended (server->clients, &nonce, &key, (gpointer *) &refs);
  if (refs != NULL)
    g_free (key);
  g_hash_table_iter_init (&iter, server->objects);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (referents, mp_referent_ref (((MpEntry *) value)->referent));
  if (refs != NULL)
    {
      g_hash_table_iter_init (&iter, refs);
      while (g_hash_table_iter_next (&iter, &key, &value))
        for (guint n = GPOINTER_TO_UINT (value); n > 0; n--)
          decref_locked (server, 0, *(guint64 *) key, dead, NULL);
      g_hash_table_unref (refs);
    }
  g_mutex_unlock (&server->lock);

  for (guint i = 0; i < referents->len; i++)
    mp_referent_release_owner (g_ptr_array_index (referents, i), nonce);
  free_dead (dead);
}

/* ------------------------------------------------------------------ */
/* blocking calls                                                       */
/* ------------------------------------------------------------------ */

void
mp_call_release (MpCall   *call,
                 GVariant *wire)
{
  /* most calls release one wire (set) or none: an array only beyond */
  if (call->released == NULL)
    {
      call->released = g_variant_ref (wire);
      return;
    }
  if (call->more_released == NULL)
    call->more_released = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_ptr_array_add (call->more_released, g_variant_ref (wire));
}

/* after the reply: gives back what the call dropped */
static void
call_finish (MpCall *call)
{
  if (call->released != NULL)
    {
      mp_server_release_wire (call->server, call->released);
      g_clear_pointer (&call->released, g_variant_unref);
    }
  for (guint i = 0; call->more_released != NULL && i < call->more_released->len; i++)
    mp_server_release_wire (call->server, g_ptr_array_index (call->more_released, i));
  g_clear_pointer (&call->more_released, g_ptr_array_unref);
}

/**
 * mp_call_wait:
 * @call: the blocked call
 * @mutex: the object's mutex, held; let go while waiting
 * @deadline: monotonic time to give up at, or -1
 * @error: return location for a #GError
 *
 * Waits until the object wakes this call (mp_waiter_wake()), the deadline
 * passes, the client hangs up or the server shuts down. The caller checks
 * its condition and the deadline again afterwards.
 *
 * Returns: %FALSE with @error set when the call must end: the client went
 *   away (so it must not take anything) or the server is closing.
 */
gboolean
mp_call_wait (MpCall  *call,
              GMutex  *mutex,
              gint64   deadline,
              GError **error)
{
  MpServerConn *conn = call->conn;
  GPollFD fds[2];
  gint timeout_ms = -1;
  char buf[64];

  if (g_atomic_int_get (&call->server->closing))
    goto closing;

  fds[0].fd = conn->wake[0];
  fds[0].events = G_IO_IN;
  fds[0].revents = 0;
  fds[1].fd = conn->socket_fd;
  fds[1].events = POLLRDHUP;
  fds[1].revents = 0;
  if (deadline >= 0)
    {
      gint64 remaining = deadline - g_get_monotonic_time ();

      timeout_ms = remaining <= 0 ? 0 : (gint) MIN ((remaining + 999) / 1000, G_MAXINT);
    }

  g_mutex_unlock (mutex);
  g_poll (fds, G_N_ELEMENTS (fds), timeout_ms);
  while (read (conn->wake[0], buf, sizeof buf) > 0)
    ;
  g_mutex_lock (mutex);

  if (g_atomic_int_get (&call->server->closing))
    goto closing;
  if (fds[1].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
    {
      mp_set_error (error, MP_ERROR_FAILED,
                    "the client went away during the call; nothing was taken on its behalf");
      return FALSE;
    }
  return TRUE;

closing:
  mp_set_error (error, MP_ERROR_MANAGER_CLOSED,
                "The manager was shut down while the call was waiting");
  return FALSE;
}

gboolean
mp_call_wait_queued (MpCall  *call,
                     GMutex  *mutex,
                     GQueue  *waiters,
                     gint64   deadline,
                     GError **error)
{
  MpWaiter waiter = { call->conn, FALSE };
  GList link = { &waiter, NULL, NULL };
  gboolean ok;

  g_queue_push_tail_link (waiters, &link);
  ok = mp_call_wait (call, mutex, deadline, error);
  g_queue_unlink (waiters, &link);
  return ok;
}

static void
conn_wake (MpServerConn *conn)
{
  /* a full pipe already says "wake up" */
  if (write (conn->wake[1], "w", 1) < 0 && errno != EAGAIN)
    g_debug ("waking a manager call: %s", g_strerror (errno));
}

void
mp_waiter_wake (MpWaiter *waiter)
{
  conn_wake (waiter->conn);
}

void
mp_waiters_wake_all (GQueue *waiters)
{
  for (GList *l = waiters->head; l != NULL; l = l->next)
    mp_waiter_wake (l->data);
}

/* ------------------------------------------------------------------ */
/* requests                                                             */
/* ------------------------------------------------------------------ */

/* the frame to send in @conn's buffer: room for its header, then @kind
 * and @payload */
static void
reply_set (MpServerConn *conn,
           MpReplyKind   kind,
           GVariant     *payload)
{
  g_byte_array_set_size (conn->reply, MP_FRAME_HEADER_SIZE);
  mp_message_write_reply (conn->reply, kind, payload);
}

static void
reply_error (MpServerConn *conn,
             const GError *error)
{
  guint code = MP_ERROR_FAILED;
  g_autofree char *name = NULL;

  if (error->domain == MP_ERROR)
    {
      code = error->code;
      name = g_strdup (mp_error_code_name (error->code));
    }
  else
    name = g_strdup_printf ("%s:%d", g_quark_to_string (error->domain), error->code);
  reply_set (conn, MP_REPLY_ERROR,
             g_variant_new_variant (g_variant_new (MP_MSG_ERROR, code, name, error->message)));
}

/* the arguments after the first @skip (@tail: empty, filled) */
static void
args_tail (MpArgv *args,
           gsize   skip,
           MpArgv *tail)
{
  for (gsize i = skip; i < mp_argv_len (args); i++)
    mp_argv_add (tail, mp_argv_get (args, i));
}

static gboolean
arg_uint64 (MpArgv     *args,
            gsize       i,
            guint64    *out,
            GError    **error)
{
  g_autoptr(GVariant) wire = NULL;
  gint64 value;

  if (mp_argv_len (args) <= i)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "missing argument %" G_GSIZE_FORMAT, i + 1);
      return FALSE;
    }
  wire = mp_argv_dup (args, i);
  if (!mp_wire_get_int (wire, &value))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (wire);

      if (!g_variant_is_of_type (inner, G_VARIANT_TYPE_UINT64))
        {
          mp_set_error (error, MP_ERROR_PROTOCOL, "argument %" G_GSIZE_FORMAT " must be a number", i + 1);
          return FALSE;
        }
      *out = g_variant_get_uint64 (inner);
      return TRUE;
    }
  *out = (guint64) value;
  return TRUE;
}

static gboolean
server_hello (MpServer     *server,
              MpServerConn *conn,
              MpArgv       *args,
              GError      **error)
{
  g_autoptr(GVariant) anchor = NULL;
  guint64 nonce;
  gboolean is_anchor = FALSE;

  if (conn->greeted)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "hello twice on one connection");
      return FALSE;
    }
  if (mp_argv_len (args) != 3 || !arg_uint64 (args, 0, &nonce, error))
    {
      if (error != NULL && *error == NULL)
        mp_set_error (error, MP_ERROR_PROTOCOL, "hello takes (nonce, pid, anchor)");
      return FALSE;
    }
  anchor = mp_argv_dup (args, 2);
  if (nonce == 0 || !mp_wire_get_bool (anchor, &is_anchor))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "hello takes (nonce, pid, anchor)");
      return FALSE;
    }
  conn->nonce = nonce;
  conn->anchor = is_anchor;
  conn->greeted = TRUE;
  return TRUE;
}

static GVariant *
server_create (MpServer *server,
               MpCall   *call,
               MpArgv   *args,
               GError  **error)
{
  g_autoptr(GVariant) typeid_wire = NULL;
  g_auto(MpArgv) ctor_args = MP_ARGV_INIT;
  const MpReferentClass *klass;
  const char *typeid;
  MpReferent *referent;
  MpEntry *entry;

  if (mp_argv_len (args) < 1)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "create needs a type id");
      return NULL;
    }
  typeid_wire = mp_argv_dup (args, 0);
  typeid = mp_wire_peek_string (typeid_wire);
  if (typeid == NULL)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "create needs a type id");
      return NULL;
    }
  klass = mp_referent_class_lookup (typeid);
  if (klass == NULL)
    {
      mp_set_error (error, MP_ERROR_KEY,
                    "no type '%s' is registered in the manager; register it with mp_manager_register_type() before mp_main_guard()",
                    typeid);
      return NULL;
    }
  args_tail (args, 1, &ctor_args);
  referent = mp_referent_new (klass, server, call, &ctor_args, error);
  if (referent == NULL)
    return NULL;

  entry = g_new0 (MpEntry, 1);
  entry->referent = referent;
  g_mutex_lock (&server->lock);
  entry->id = ++server->next_id;
  g_hash_table_insert (server->objects, &entry->id, entry);
  incref_locked (server, call->nonce, entry->id, NULL);
  g_mutex_unlock (&server->lock);

  return g_variant_new (MP_MSG_PROXY, klass->typeid, entry->id);
}

static GVariant *
server_debug_info (MpServer *server)
{
  g_autoptr(GPtrArray) counts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  GHashTableIter iter;
  gpointer value;
  guint n_refs = 0;

  g_mutex_lock (&server->lock);
  g_hash_table_iter_init (&iter, server->objects);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n_refs += ((MpEntry *) value)->refcount;
  g_ptr_array_add (counts, g_variant_ref_sink (mp_wire_int (g_hash_table_size (server->objects))));
  g_mutex_unlock (&server->lock);
  g_ptr_array_add (counts, g_variant_ref_sink (mp_wire_int (n_refs)));
  return mp_wire_list (counts);
}

static void server_stop (MpServer *server);

/* Returns: the reply (RETURN payload or PROXY) or NULL with @error set */
static GVariant *
server_method (MpServer     *server,
               MpServerConn *conn,
               MpCall       *call,
               const char   *method,
               MpArgv       *args,
               MpReplyKind  *kind,
               GError      **error)
{
  guint64 id;

  *kind = MP_REPLY_RETURN;
  if (strcmp (method, "hello") == 0)
    return server_hello (server, conn, args, error) ? mp_wire_none () : NULL;
  if (!conn->greeted)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL, "a client must say hello first");
      return NULL;
    }
  call->nonce = conn->nonce;

  if (strcmp (method, "create") == 0)
    {
      *kind = MP_REPLY_PROXY;
      return server_create (server, call, args, error);
    }
  if (strcmp (method, "incref") == 0 || strcmp (method, "decref") == 0)
    {
      gboolean ok;

      if (!arg_uint64 (args, 0, &id, error))
        return NULL;
      if (method[0] == 'i')
        {
          g_mutex_lock (&server->lock);
          ok = incref_locked (server, conn->nonce, id, error);
          g_mutex_unlock (&server->lock);
        }
      else
        {
          GPtrArray *dead = dead_new ();

          g_mutex_lock (&server->lock);
          ok = decref_locked (server, conn->nonce, id, dead, error);
          g_mutex_unlock (&server->lock);
          free_dead (dead);
        }
      return ok ? mp_wire_none () : NULL;
    }
  if (strcmp (method, "debug_info") == 0)
    return server_debug_info (server);
  if (strcmp (method, "shutdown") == 0)
    {
      conn->stop_after_reply = TRUE;
      return mp_wire_none ();
    }
  if (strcmp (method, "dummy") == 0)
    return mp_wire_none ();

  mp_set_error (error, MP_ERROR_NOT_EXPOSED,
                "the manager has no method '%s'; it has create, incref, decref, debug_info, shutdown and dummy",
                method);
  return NULL;
}

typedef struct {
  MpServer *server;
  guint64   nonce;
} PreIncref;

static gboolean
preincref_token (const MpToken *token,
                 gpointer       user_data)
{
  PreIncref *pre = user_data;

  if (strcmp (token->address, pre->server->address) == 0)
    incref_locked (pre->server, pre->nonce, token->id, NULL);
  return TRUE;
}

/* Leaves the reply's frame in conn->reply. @call: the call, with the
 * wires it dropped, to release once the reply is out (call_finish()). */
static void
server_handle (MpServer        *server,
               MpServerConn    *conn,
               const MpRequest *request,
               MpCall          *call)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  const char *method = request->method;
  MpArgv   *args = (MpArgv *) &request->args;
  guint64 id = request->id;
  MpReplyKind kind = MP_REPLY_RETURN;

  if (id == MP_SERVER_ID)
    {
      result = server_method (server, conn, call, method, args, &kind, &error);
      if (result != NULL)
        g_variant_take_ref (result);
    }
  else if (!conn->greeted)
    mp_set_error (&error, MP_ERROR_PROTOCOL, "a client must say hello first");
  else
    {
      g_autoptr(MpReferent) referent = NULL;
      MpEntry *entry;

      g_mutex_lock (&server->lock);
      entry = g_hash_table_lookup (server->objects, &id);
      if (entry != NULL)
        referent = mp_referent_ref (entry->referent);
      g_mutex_unlock (&server->lock);

      if (referent == NULL)
        mp_set_error (&error, MP_ERROR_KEY,
                      "no object with id %" G_GUINT64_FORMAT " in the manager (it was freed when its last proxy went away)",
                      id);
      else
        {
          MP_TRACE (mp_trace_proxy_handle (TRUE, referent->klass->typeid, id, method));
          mp_referent_invoke (referent, call, method, args, &result, &error);
          MP_TRACE (mp_trace_proxy_handle (FALSE, referent->klass->typeid, id, method));
        }
    }

  if (error != NULL)
    {
      reply_error (conn, error);
      return;
    }

  if (kind == MP_REPLY_RETURN && result != NULL)   /* NULL: None */
    {
      /* proxies handed out now hold a reference for the receiving
       * process, so the object outlives its removal from a container */
      PreIncref pre = { server, conn->nonce };

      if (mp_wire_may_hold_tokens (result))
        {
          g_mutex_lock (&server->lock);
          mp_wire_foreach_token (result, preincref_token, &pre);
          g_mutex_unlock (&server->lock);
        }
    }
  reply_set (conn, kind, kind == MP_REPLY_RETURN ? result : g_variant_new_variant (result));
}

/* ------------------------------------------------------------------ */
/* connections                                                          */
/* ------------------------------------------------------------------ */

static void
conn_free (MpServerConn *conn)
{
  if (conn->connection != NULL)
    mp_connection_unref (conn->connection);
  if (conn->wake[0] >= 0)
    close (conn->wake[0]);
  if (conn->wake[1] >= 0)
    close (conn->wake[1]);
  g_clear_pointer (&conn->reply, g_byte_array_unref);
  g_free (conn);
}

static void
serve_connection (MpServerConn *conn)
{
  MpServer *server = conn->server;
  g_autoptr(GError) error = NULL;

  /* the gate authenticated the client before it got this thread */
  while (!g_atomic_int_get (&server->closing))
    {
      /* declared first, so cleared last: the request points into it */
      g_auto(MpFrame) frame = MP_FRAME_INIT;
      g_auto(MpRequest) request = { 0 };
      MpCall call = { server, conn, conn->nonce, 0, NULL, NULL };
      gboolean sent, received;

      /* a client's goodbye ends its stream: normal, not a failure */
      mp_trace_expect_errors_push ();
      received = mp_connection_recv_frame (conn->connection, -1, &frame, &error);
      mp_trace_expect_errors_pop ();
      if (!received || !mp_message_decode_request (&frame, &request, &error))
        {
          /* the end of the stream is the normal goodbye; garbage ends
           * only this connection */
          if (!mp_connection_error_is_peer_gone (error))
            g_debug ("manager: dropping a client: %s", error->message);
          return;
        }
      call.thread = request.thread;
      server_handle (server, conn, &request, &call);
      sent = mp_connection_send_frame (conn->connection, conn->reply, &error);
      if (conn->reply->len > REPLY_KEEP_SIZE)
        {
          /* a big reply does not keep its memory for the small ones */
          g_byte_array_unref (conn->reply);
          conn->reply = g_byte_array_sized_new (REPLY_KEEP_SIZE);
        }
      call_finish (&call);
      if (conn->stop_after_reply)
        server_stop (server);
      if (!sent)
        {
          g_debug ("manager: a client left before its reply: %s", error->message);
          return;
        }
    }
}

static gpointer
connection_thread (gpointer data)
{
  MpServerConn *conn = data;
  MpServer *server = conn->server;

  serve_connection (conn);
  if (conn->anchor)
    client_gone (server, conn->nonce);

  mp_connection_close (conn->connection);
  g_mutex_lock (&server->lock);
  g_queue_unlink (&server->conns, &conn->link);
  conn_free (conn);
  if (--server->n_threads == 0)
    g_cond_broadcast (&server->drained);
  g_mutex_unlock (&server->lock);
  return NULL;
}

/* A client that passed the gate but cannot be served (out of
 * descriptors or threads) gets an error reply to its first request,
 * so it hears "refused", not "closed". */
static void
refuse_authenticated (MpServer     *server,
                      MpConnection *connection,
                      const GError *why)
{
  g_autoptr(GByteArray) reply = g_byte_array_new ();
  g_autoptr(GError) refusal = NULL;

  mp_set_error (&refusal, MP_ERROR_REFUSED,
                "The manager at %s is out of resources (%s); it serves its"
                " other clients", server->address, why->message);
  /* once a minute at most, not once per client */
  if (server->refused_warned_at == 0 ||
      g_get_monotonic_time () - server->refused_warned_at >= MP_GATE_WARN_INTERVAL)
    {
      g_warning ("manager at %s:\ncannot serve a new client: %s", server->address,
                 why->message);
      server->refused_warned_at = g_get_monotonic_time ();
    }
  /* the reply answers the client's first request, read first: over TCP
   * a close with unread bytes would reset the connection and lose it */
  {
    g_auto(MpFrame) request = MP_FRAME_INIT;
    mp_connection_recv_frame (connection, REFUSE_READ_TIMEOUT_US, &request, NULL);
  }
  g_byte_array_set_size (reply, MP_FRAME_HEADER_SIZE);
  mp_message_write_reply (reply, MP_REPLY_ERROR,
                          g_variant_new_variant (g_variant_new (MP_MSG_ERROR, MP_ERROR_REFUSED,
                                                                mp_error_code_name (MP_ERROR_REFUSED),
                                                                refusal->message)));
  if (!mp_connection_send_frame (connection, reply, NULL))
    g_debug ("manager: a refused client left first");
  mp_connection_close (connection);
  mp_connection_unref (connection);
}

static gboolean
start_connection (MpServer     *server,
                  MpConnection *connection,
                  GError      **error)
{
  MpServerConn *conn = g_new0 (MpServerConn, 1);
  GThread *thread;

  conn->server = server;
  conn->connection = connection;
  conn->socket_fd = g_socket_get_fd (mp_connection_get_socket (connection));
  conn->wake[0] = conn->wake[1] = -1;
  conn->reply = g_byte_array_sized_new (REPLY_KEEP_SIZE);
  conn->link.data = conn;
  if (!g_unix_open_pipe (conn->wake, FD_CLOEXEC, error) ||
      !g_unix_set_fd_nonblocking (conn->wake[0], TRUE, error) ||
      !g_unix_set_fd_nonblocking (conn->wake[1], TRUE, error))
    {
      conn->connection = NULL;   /* still the caller's */
      conn_free (conn);
      return FALSE;
    }

  g_mutex_lock (&server->lock);
  if (g_atomic_int_get (&server->closing))
    {
      g_mutex_unlock (&server->lock);
      conn_free (conn);
      return TRUE;
    }
  thread = g_thread_try_new ("mp-manager-client", connection_thread, conn, error);
  if (thread == NULL)
    {
      g_mutex_unlock (&server->lock);
      conn->connection = NULL;   /* still the caller's */
      conn_free (conn);
      return FALSE;
    }
  g_queue_push_tail_link (&server->conns, &conn->link);
  server->n_threads++;
  g_mutex_unlock (&server->lock);
  g_thread_unref (thread);
  return TRUE;
}

/* Stops accepting and ends every connection; safe from any thread. */
static void
server_stop (MpServer *server)
{
  g_mutex_lock (&server->lock);
  if (g_atomic_int_get (&server->closing))
    {
      g_mutex_unlock (&server->lock);
      return;
    }
  g_atomic_int_set (&server->closing, TRUE);
  for (GList *l = server->conns.head; l != NULL; l = l->next)
    {
      MpServerConn *conn = l->data;

      mp_connection_shutdown (conn->connection);
      conn_wake (conn);
    }
  g_mutex_unlock (&server->lock);
  mp_listener_shutdown (server->listener);
}

/* What stops a server besides "shutdown": its parent going away (the
 * lifeline ends; the parent never writes on it) and SIGTERM or SIGHUP
 * (MpProcess.terminate(), a terminal closing), which would otherwise kill
 * it before it removed its socket and directory. */
typedef struct {
  GMainContext *context;
  GThread      *thread;
  gint          done;     /* atomic */
} Watcher;

static gboolean
stop_on_signal (gpointer data)
{
  server_stop (data);
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_on_lifeline (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      data)
{
  server_stop (data);
  return G_SOURCE_REMOVE;
}

static gpointer
watcher_thread (gpointer data)
{
  Watcher *watcher = data;

  /* not g_main_loop_run(): a quit that comes before it starts is lost */
  g_main_context_push_thread_default (watcher->context);
  while (!g_atomic_int_get (&watcher->done))
    g_main_context_iteration (watcher->context, TRUE);
  g_main_context_pop_thread_default (watcher->context);
  return NULL;
}

static void
watch_source (Watcher     *watcher,
              GSource     *source,
              GSourceFunc  func,
              MpServer    *server)
{
  g_source_set_callback (source, func, server, NULL);
  g_source_attach (source, watcher->context);
  g_source_unref (source);
}

static void
watcher_start (Watcher  *watcher,
               MpServer *server)
{
  watcher->context = g_main_context_new ();
  watcher->done = FALSE;
  watch_source (watcher, g_unix_signal_source_new (SIGTERM), stop_on_signal, server);
  watch_source (watcher, g_unix_signal_source_new (SIGHUP), stop_on_signal, server);
  watch_source (watcher,
                g_socket_create_source (mp_connection_get_socket (server->lifeline),
                                        G_IO_IN | G_IO_HUP | G_IO_ERR, NULL),
                (GSourceFunc) (void (*) (void)) stop_on_lifeline, server);
  watcher->thread = g_thread_new ("mp-manager-watcher", watcher_thread, watcher);
}

static void
watcher_stop (Watcher *watcher)
{
  g_atomic_int_set (&watcher->done, TRUE);
  g_main_context_wakeup (watcher->context);
  g_thread_join (watcher->thread);
  g_main_context_unref (watcher->context);
}

static void
report (MpConnection *lifeline,
        const GError *error,
        const char   *address)
{
  GVariant *message;

  if (error == NULL)
    message = g_variant_new ("(bsus)", TRUE, address, 0, "");
  else
    message = g_variant_new ("(bsus)", FALSE, "",
                             error->domain == MP_ERROR ? (guint) error->code : (guint) MP_ERROR_FAILED,
                             error->message);
  if (!mp_connection_send_variant (lifeline, message, NULL))
    g_debug ("manager: the parent left before the server reported");
}

static void
server_free_objects (MpServer *server)
{
  GPtrArray *dead = dead_new ();
  GHashTableIter iter;
  gpointer value;

  g_mutex_lock (&server->lock);
  g_hash_table_iter_init (&iter, server->objects);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_ptr_array_add (dead, value);
      g_hash_table_iter_steal (&iter);
    }
  g_hash_table_remove_all (server->clients);
  g_mutex_unlock (&server->lock);
  free_dead (dead);
}

static gboolean
server_run (const char   *address,
            GBytes       *authkey,
            MpConnection *lifeline,
            GError      **error)
{
  MpServer server = { 0 };
  g_autoptr(GError) listen_error = NULL;
  Watcher watcher;
  MpGate *gate;

  server.authkey = authkey;
  server.lifeline = lifeline;
  mp_wire_pin_types ();
  server.listener = mp_listener_new (address, authkey, &listen_error);
  if (server.listener == NULL)
    {
      /* the parent raises it from the report; the child need not print it */
      report (lifeline, listen_error, NULL);
      return TRUE;
    }
  server.address = g_strdup (mp_listener_get_address (server.listener));
  g_mutex_init (&server.lock);
  g_cond_init (&server.drained);
  /* keyed by &entry->id: entries can be stolen without a key to free */
  server.objects = g_hash_table_new (g_int64_hash, g_int64_equal);
  server.clients = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                          (GDestroyNotify) g_hash_table_unref);
  g_queue_init (&server.conns);

  watcher_start (&watcher, &server);
  report (lifeline, NULL, server.address);

  gate = mp_gate_new (server.listener);
  for (;;)
    {
      g_autoptr(GError) accept_error = NULL;
      MpConnection *connection;

      /* only the shutdown ends this: the gate deals with the peers */
      connection = mp_gate_accept (gate, &accept_error);
      if (connection == NULL)
        break;
      if (!start_connection (&server, connection, &accept_error))
        refuse_authenticated (&server, connection, accept_error);
    }
  mp_gate_free (gate);

  /* every client thread ends: their sockets are shut and their waits woken */
  server_stop (&server);
  g_mutex_lock (&server.lock);
  while (server.n_threads > 0)
    g_cond_wait (&server.drained, &server.lock);
  g_mutex_unlock (&server.lock);
  watcher_stop (&watcher);

  server_free_objects (&server);
  mp_listener_close (server.listener);
  mp_listener_unref (server.listener);
  g_hash_table_unref (server.objects);
  g_hash_table_unref (server.clients);
  g_cond_clear (&server.drained);
  g_mutex_clear (&server.lock);
  g_free (server.address);
  return TRUE;
}

/* args: address (NULL: a private Unix socket), auth key, the server's end
 * of the lifeline. No child keeps the parent's end (it is closed at every
 * fork, see mp_fd_add_parent_end()): the parent's death ends the lifeline. */
static gboolean
manager_server_task (MpArgs  *args,
                     GValue  *result,
                     GError **error)
{
  const char *address = mp_args_get_string (args, 0);
  GBytes *authkey = g_value_get_boxed (mp_args_get_value (args, 1));
  int lifeline_fd = (int) mp_args_get_int (args, 2);
  g_autoptr(MpConnection) lifeline = NULL;

  /* Python's bpo-36368: Ctrl-C in the terminal is for the parent, which
   * then shuts the server down */
  signal (SIGINT, SIG_IGN);
  MP_TRACE (mp_trace_set_role ("manager server"));

  /* nor the parent's connections to other managers */
  mp_client_forget_inherited ();

  lifeline = mp_connection_new_for_fd (lifeline_fd, error);
  if (lifeline == NULL)
    return FALSE;
  return server_run (address, authkey, lifeline, error);
}

MP_TASK_DEFINE (MP_MANAGER_SERVER_TASK, manager_server_task)
