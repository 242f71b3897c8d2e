/* mp-listener.c — a listening socket that accepts authenticated peers
 *
 * CPython: multiprocessing.connection.Listener.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>

#include "mpshare.h"
#include "mp-address-private.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"
#include "mp-listener-private.h"

#define SOCKET_FILE_NAME "listener"
/* below this many bytes a listener's key draws a warning */
#define MP_LISTENER_MIN_GOOD_KEY 16
#define LISTEN_BACKLOG 128

struct _MpListener {
  GSocket      *socket;
  GBytes       *authkey;
  char         *address;
  char         *socket_path;     /* a file we created, removed at close */
  char         *private_dir;     /* a directory we created, likewise */
  GPid          owner;           /* only the creating process removes them */
  GCancellable *cancellable;     /* wakes accept() from another thread */
  GMutex        lock;            /* held while accepting and closing */
  gint64        handshake_timeout_us;
  gsize         max_frame;
  gboolean      closed;
};

/* A socket file at @path after "Address already in use": a server that
 * was killed leaves its file behind, and nothing answers there any more.
 * Such a file is removed (TRUE: try the bind again); a live listener is
 * left alone and named. Anything but a socket is never removed. */
static gboolean
remove_stale_socket (const char *path,
                     GError    **error)
{
  g_autoptr(GSocket) probe = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GCredentials) peer = NULL;
  struct stat st;
  pid_t pid = -1;

  if (g_lstat (path, &st) < 0 || !S_ISSOCK (st.st_mode))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Cannot listen at %s: a file that is not a socket is"
                    " there; choose another path", path);
      return FALSE;
    }
  probe = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                        G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  address = g_unix_socket_address_new (path);
  if (probe != NULL && !g_socket_connect (probe, address, NULL, &local_error) &&
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    {
      g_debug ("listener: removing the stale socket %s (nobody listens)", path);
      if (g_unlink (path) == 0 || errno == ENOENT)
        return TRUE;
      return mp_set_error_from_errno (error, errno, "Removing the stale socket %s", path);
    }
  if (local_error != NULL)
    {
      g_autofree char *what = g_strdup_printf ("Probing the socket at %s", path);
      mp_set_error_from_socket (error, local_error, what);
      return FALSE;
    }
  peer = g_socket_get_credentials (probe, NULL);
  if (peer != NULL)
    pid = g_credentials_get_unix_pid (peer, NULL);
  if (pid > 0)
    mp_set_error (error, MP_ERROR_FAILED,
                  "Cannot listen at %s: process %d already listens there;"
                  " stop it or choose another path", path, (int) pid);
  else
    mp_set_error (error, MP_ERROR_FAILED,
                  "Cannot listen at %s: another process already listens"
                  " there; stop it or choose another path", path);
  return FALSE;
}

static gboolean
listen_unix (MpListener *self,
             const char *path,
             GError    **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean bound;

  self->socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                               G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  if (self->socket == NULL)
    {
      mp_set_error_from_socket (error, local_error, "Creating a Unix socket");
      return FALSE;
    }
  address = g_unix_socket_address_new (path);
  bound = g_socket_bind (self->socket, address, FALSE, &local_error);
  if (!bound && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
    {
      g_clear_error (&local_error);
      if (!remove_stale_socket (path, error))
        return FALSE;
      bound = g_socket_bind (self->socket, address, FALSE, &local_error);
    }
  if (!bound)
    {
      g_autofree char *what = g_strdup_printf ("Binding a Unix socket at %s", path);
      mp_set_error_from_socket (error, local_error, what);
      return FALSE;
    }
  self->socket_path = g_strdup (path);

  /* Only the owner may connect; in the private directory nobody else
   * could reach the socket anyway, even before this chmod. */
  if (g_chmod (path, 0600) < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno,
                                      "Making the socket %s private", path);
    }
  self->address = g_strconcat ("unix:", path, NULL);
  return TRUE;
}

static gboolean
listen_tcp (MpListener      *self,
            const MpAddress *parsed,
            GError         **error)
{
  const char *host = mp_address_get_host (parsed);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  gboolean all_interfaces;

  address = mp_address_resolve (parsed, error);
  if (address == NULL)
    return FALSE;
  all_interfaces = g_inet_address_get_is_any (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));

  self->socket = g_socket_new (g_socket_address_get_family (address),
                               G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                               &local_error);
  /* allow_reuse: a restarted server gets its port back at once */
  if (self->socket == NULL ||
      !g_socket_bind (self->socket, address, TRUE, &local_error))
    {
      g_autofree char *what = g_strdup_printf ("Listening on %s port %u", host,
                                               mp_address_get_port (parsed));
      mp_set_error_from_socket (error, local_error, what);
      return FALSE;
    }
  /* Allowed, as in CPython, but the key is all that guards the port and
   * nothing after the handshake is encrypted. */
  if (all_interfaces)
    g_warning ("listening on all interfaces (%s): anyone who can reach\n"
               "this port can try auth keys, and the traffic after the\n"
               "handshake is not encrypted. To reach it from elsewhere,\n"
               "listen on 127.0.0.1 and tunnel over SSH (docs/models.md).",
               host);
  return TRUE;
}

/**
 * mp_listener_new: (skip)
 * @address: (nullable): %NULL for a Unix socket in a fresh private
 *   directory (mode 0700, socket 0600), "unix:/path" for a socket at that
 *   path (a socket file left there by a listener that was killed is
 *   removed; a live listener there is an error naming its pid), or
 *   "tcp:HOST:PORT" / "HOST:PORT" (port 0 picks a free one; an IPv6 host
 *   in brackets; a host name listens at the first address it resolves to)
 * @authkey: the key clients must prove they hold (not empty; a key
 *   shorter than 16 bytes works but draws a g_warning(), as does
 *   listening on all interfaces, 0.0.0.0 or ::)
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a listening socket, or %NULL with @error set.
 *   mp_listener_get_address() tells clients where to connect.
 *
 * Since: 0.1
 */
MpListener *
mp_listener_new (const char *address,
                 GBytes     *authkey,
                 GError    **error)
{
  g_autoptr(MpListener) self = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(MpAddress) parsed = { 0 };
  gboolean ok;

  g_return_val_if_fail (authkey != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mp_auth_check_key (authkey, error))
    return NULL;
  if (address != NULL && !mp_address_parse (address, &parsed, error))
    return NULL;
  /* CPython takes any key; a short one is allowed for tests and
   * teaching, but it is the only thing a peer has to guess */
  if (g_bytes_get_size (authkey) < MP_LISTENER_MIN_GOOD_KEY)
    g_warning ("the auth key is only %" G_GSIZE_FORMAT " bytes, shorter than"
               " %d:\na peer that can connect may guess it; use"
               " mp_get_auth_key()\n(32 random bytes) or a longer key",
               g_bytes_get_size (authkey), MP_LISTENER_MIN_GOOD_KEY);

  self = g_atomic_rc_box_new0 (MpListener);
  self->authkey = g_bytes_ref (authkey);
  self->owner = getpid ();
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->lock);
  self->handshake_timeout_us = MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT;
  self->max_frame = MP_CONNECTION_DEFAULT_MAX_FRAME;

  if (address == NULL)
    {
      g_autofree char *path = NULL;

      self->private_dir = g_dir_make_tmp ("mpshare-XXXXXX", &local_error);
      if (self->private_dir == NULL)
        {
          mp_set_error (error, MP_ERROR_FAILED,
                        "Creating a private directory for the socket: %s",
                        local_error->message);
          return NULL;
        }
      path = g_build_filename (self->private_dir, SOCKET_FILE_NAME, NULL);
      if (strlen (path) >= sizeof ((struct sockaddr_un *) NULL)->sun_path)
        {
          mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                        "The socket path %s is too long for a Unix socket;"
                        " set TMPDIR to a shorter directory", path);
          return NULL;
        }
      ok = listen_unix (self, path, error);
    }
  else if (parsed.path != NULL)
    ok = listen_unix (self, parsed.path, error);
  else
    ok = listen_tcp (self, &parsed, error);
  if (!ok)
    return NULL;

  g_socket_set_listen_backlog (self->socket, LISTEN_BACKLOG);
  if (!g_socket_listen (self->socket, &local_error))
    {
      mp_set_error_from_socket (error, local_error, "Listening");
      return NULL;
    }
  /* accept() waits on its own terms (timeout, cancellation) */
  g_socket_set_blocking (self->socket, FALSE);

  if (self->address == NULL)
    {
      g_autoptr(GSocketAddress) bound = g_socket_get_local_address (self->socket, &local_error);

      if (bound == NULL)
        {
          mp_set_error_from_socket (error, local_error, "Reading the listening address");
          return NULL;
        }
      self->address = mp_address_format (bound);
    }
  return g_steal_pointer (&self);
}

/**
 * mp_listener_ref: (skip)
 * @self: a listener
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
MpListener *
mp_listener_ref (MpListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_atomic_rc_box_acquire (self);
}

static void
listener_free (MpListener *self)
{
  mp_listener_close (self);
  g_clear_object (&self->socket);
  g_clear_pointer (&self->authkey, g_bytes_unref);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->socket_path, g_free);
  g_clear_pointer (&self->private_dir, g_free);
  g_clear_object (&self->cancellable);
  g_mutex_clear (&self->lock);
}

/**
 * mp_listener_unref:
 * @self: (transfer full): a listener
 *
 * Drops a reference; the last one closes the listener.
 *
 * Since: 0.1
 */
void
mp_listener_unref (MpListener *self)
{
  g_return_if_fail (self != NULL);
  g_atomic_rc_box_release_full (self, (GDestroyNotify) listener_free);
}

/**
 * mp_listener_get_address:
 * @self: a listener
 *
 * Returns: where clients connect: "unix:/path" or "tcp:IP:PORT" with the
 *   port actually bound.
 *
 * Since: 0.1
 */
const char *
mp_listener_get_address (MpListener *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->address;
}

/**
 * mp_listener_set_handshake_timeout:
 * @self: a listener
 * @timeout_us: how long a new peer has to authenticate; negative: for ever
 *
 * Bounds how long mp_listener_accept() waits for a connected peer to
 * finish the handshake (default %MP_CONNECTION_DEFAULT_HANDSHAKE_TIMEOUT).
 * Set it before accepting; like mp_listener_set_max_frame_size() it is
 * not meant to change while another thread accepts.
 *
 * Since: 0.1
 */
void
mp_listener_set_handshake_timeout (MpListener *self,
                                   gint64      timeout_us)
{
  g_return_if_fail (self != NULL);
  self->handshake_timeout_us = timeout_us;
}

/**
 * mp_listener_set_max_frame_size:
 * @self: a listener
 * @max_frame: 1 to %MP_CONNECTION_MAX_FRAME_LIMIT bytes
 *
 * The frame-size limit given to connections accepted from now on.
 *
 * Since: 0.1
 */
void
mp_listener_set_max_frame_size (MpListener *self,
                                gsize       max_frame)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_frame >= 1 && max_frame <= MP_CONNECTION_MAX_FRAME_LIMIT);
  self->max_frame = max_frame;
}

/* for the handshake gate (mp-gate.c, see mp-listener-private.h) */
GSocket *
mp_listener_get_socket (MpListener *self)
{
  return self->socket;
}

GCancellable *
mp_listener_get_cancellable (MpListener *self)
{
  return self->cancellable;
}

GBytes *
mp_listener_get_authkey (MpListener *self)
{
  return self->authkey;
}

gsize
mp_listener_get_max_frame_size (MpListener *self)
{
  return self->max_frame;
}

static GSocket *
accept_socket (MpListener *self,
               gint64      deadline,
               GError    **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      GSocket *client;

      if (self->closed || g_cancellable_is_cancelled (self->cancellable))
        {
          mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                        "The listener at %s was shut down", self->address);
          return NULL;
        }
      if (!g_socket_condition_timed_wait (self->socket, G_IO_IN, mp_deadline_remaining_us (deadline),
                                          self->cancellable, &local_error))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            continue;   /* reported at the top of the loop */
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            mp_set_error (error, MP_ERROR_TIMEOUT,
                          "No client connected to %s in time", self->address);
          else
            mp_set_error_from_socket (error, local_error, "Waiting for a client");
          return NULL;
        }
      client = g_socket_accept (self->socket, NULL, &local_error);
      if (client != NULL)
        return client;
      /* another thread took it, or the client gave up already */
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        continue;
      mp_set_error_from_socket (error, local_error, "Accepting a client");
      return NULL;
    }
}

/**
 * mp_listener_accept_unauthenticated: (skip)
 * @self: a listener
 * @timeout_us: how long to wait for a client; negative waits for ever
 * @error: return location for a #GError
 *
 * Accepts a client without the handshake, so a server can run
 * mp_connection_authenticate_server() in the client's own thread and keep
 * accepting meanwhile. Nothing may be exchanged before that succeeds.
 *
 * Returns: (transfer full): the connection, or %NULL with @error set:
 *   %MP_ERROR_TIMEOUT, or %MP_ERROR_CONNECTION_CLOSED once the listener
 *   was shut down.
 *
 * Since: 0.1
 */
MpConnection *
mp_listener_accept_unauthenticated (MpListener *self,
                                    gint64      timeout_us,
                                    GError    **error)
{
  g_autoptr(GSocket) client = NULL;
  MpConnection *connection;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&self->lock);
  client = accept_socket (self, mp_deadline_from_timeout (timeout_us), error);
  g_mutex_unlock (&self->lock);
  if (client == NULL)
    return NULL;

  mp_socket_set_nodelay_if_tcp (client);
  connection = mp_connection_new_for_socket (client);
  mp_connection_set_max_frame_size (connection, self->max_frame);
  return connection;
}

/**
 * mp_listener_accept: (skip)
 * @self: a listener
 * @timeout_us: how long to wait for a client to connect; negative: for
 *   ever, 0: only take one already waiting
 * @error: return location for a #GError
 *
 * Accepts one client and authenticates it. The handshake has its own
 * bound, the handshake timeout, so polling with @timeout_us 0 still gives
 * a waiting client the time to answer. A client that fails the handshake
 * costs only its own connection: the error is returned and the listener
 * goes on accepting.
 *
 * Returns: (transfer full): an authenticated connection, or %NULL with
 *   @error set (%MP_ERROR_AUTH_FAILED for a client with a wrong key).
 *   Use mp_listener_is_shut_down() to tell "stop accepting" from errors
 *   that concern one client.
 *
 * Since: 0.1
 */
MpConnection *
mp_listener_accept (MpListener *self,
                    gint64      timeout_us,
                    GError    **error)
{
  g_autoptr(MpConnection) connection = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  connection = mp_listener_accept_unauthenticated (self, timeout_us, error);
  if (connection == NULL)
    return NULL;

  if (!mp_connection_authenticate_server (connection, self->authkey,
                                          self->handshake_timeout_us, error))
    {
      g_prefix_error (error, "Refused a client of %s: ", self->address);
      return NULL;
    }
  return g_steal_pointer (&connection);
}

/**
 * mp_listener_shutdown:
 * @self: a listener
 *
 * Stops accepting. Safe from any thread: a thread blocked in
 * mp_listener_accept() returns with %MP_ERROR_CONNECTION_CLOSED, and so
 * does every later call. Connections already accepted are not touched.
 *
 * Since: 0.1
 */
void
mp_listener_shutdown (MpListener *self)
{
  g_return_if_fail (self != NULL);
  g_cancellable_cancel (self->cancellable);
}

/**
 * mp_listener_is_shut_down:
 * @self: a listener
 *
 * An accept loop stops when this is %TRUE: an error from
 * mp_listener_accept() otherwise concerns one client only (a wrong key, a
 * client gone during the handshake — also %MP_ERROR_CONNECTION_CLOSED).
 *
 * Returns: %TRUE after mp_listener_shutdown() or mp_listener_close().
 *
 * Since: 0.1
 */
gboolean
mp_listener_is_shut_down (MpListener *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return g_cancellable_is_cancelled (self->cancellable);
}

/**
 * mp_listener_close:
 * @self: a listener
 *
 * Shuts the listener down, closes its socket and removes the socket file
 * and private directory it created (only in the process that created
 * them: a forked child closing its copy leaves them alone). Idempotent.
 *
 * Since: 0.1
 */
void
mp_listener_close (MpListener *self)
{
  g_return_if_fail (self != NULL);

  mp_listener_shutdown (self);
  g_mutex_lock (&self->lock);
  if (!self->closed)
    {
      self->closed = TRUE;
      if (self->socket != NULL)
        g_socket_close (self->socket, NULL);
      if (self->owner == getpid ())
        {
          if (self->socket_path != NULL)
            g_unlink (self->socket_path);
          if (self->private_dir != NULL)
            g_rmdir (self->private_dir);
        }
    }
  g_mutex_unlock (&self->lock);
}
