/* mp-connect.c — from an address to an authenticated connection
 *
 * CPython: multiprocessing.connection.Client.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>

#include <gio/gunixsocketaddress.h>
#include <glib-unix.h>

#include "mpshare.h"
#include "mp-address-private.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"

static gboolean
set_send_timeout (GSocket *socket,
                  gint64   timeout_us)
{
  struct timeval tv = { 0, 0 };

  if (timeout_us > 0)
    {
      tv.tv_sec = timeout_us / G_USEC_PER_SEC;
      tv.tv_usec = timeout_us % G_USEC_PER_SEC;
    }
  else if (timeout_us == 0)
    tv.tv_usec = 1;
  return setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) == 0;
}

/* A failed connect in our words: nothing listening is one recognizable
 * code, as the manager layer turns it into "the manager is gone". */
static void
set_connect_error (GError     **error,
                   const char  *address_text,
                   GError      *local_error)
{
  g_autofree char *what = g_strdup_printf ("Connecting to %s", address_text);

  if (mp_socket_error_is_peer_gone (local_error))
    mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                  "Nothing listens at %s (%s); the server has exited or"
                  " was never started", address_text, local_error->message);
  else
    mp_set_error_from_socket (error, local_error, what);
}

static MpConnection *
connect_unix (const char *address_text,
              const char *path,
              gint64      deadline,
              GError    **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GError) local_error = NULL;
  gboolean ok;

  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, &local_error);
  if (socket == NULL)
    {
      mp_set_error_from_socket (error, local_error, "Creating a Unix socket");
      return NULL;
    }
  address = g_unix_socket_address_new (path);

  /* A non-blocking connect to a Unix socket whose backlog is full fails
   * with EAGAIN instead of waiting its turn; a blocking one queues in the
   * kernel, bounded by SO_SNDTIMEO. (Hence no GSocketClient here: it
   * connects without blocking.) */
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), FALSE, NULL);
  set_send_timeout (socket, mp_deadline_remaining_us (deadline));
  ok = g_socket_connect (socket, address, NULL, &local_error);
  set_send_timeout (socket, -1);
  g_unix_set_fd_nonblocking (g_socket_get_fd (socket), TRUE, NULL);

  if (!ok)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        mp_set_error (error, MP_ERROR_TIMEOUT,
                      "Connecting to %s: the listener did not take the"
                      " connection in time (is it still accepting?)", address_text);
      else
        set_connect_error (error, address_text, local_error);
      return NULL;
    }
  return mp_connection_new_for_socket (socket);
}

typedef struct {
  GSocketConnection *stream;
  GError            *error;
  gboolean           done;
} TcpConnect;

static void
tcp_connected (GObject      *client,
               GAsyncResult *result,
               gpointer      user_data)
{
  TcpConnect *attempt = user_data;

  attempt->stream = g_socket_client_connect_finish (G_SOCKET_CLIENT (client), result,
                                                    &attempt->error);
  attempt->done = TRUE;
}

static gboolean
deadline_reached (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_REMOVE;
}

/* GSocketClient tries every address the host resolves to, in order. Its
 * own timeout counts whole seconds, so the deadline cancels it instead:
 * the attempt runs on a main context of its own, iterated here until it
 * ends or the deadline fires. */
static GSocketConnection *
connect_tcp_by_deadline (GSocketConnectable *network,
                         gint64              deadline,
                         GError            **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSource) timer = NULL;
  TcpConnect attempt = { NULL, NULL, FALSE };

  /* an mpshare address names the peer itself, never a proxy */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_main_context_push_thread_default (context);
  if (deadline >= 0)
    {
      timer = g_timeout_source_new ((guint) MIN (mp_deadline_remaining_us (deadline) / 1000,
                                                 G_MAXUINT));
      g_source_set_callback (timer, deadline_reached, cancellable, NULL);
      g_source_attach (timer, context);
    }
  g_socket_client_connect_async (client, network, cancellable, tcp_connected, &attempt);
  while (!attempt.done)
    g_main_context_iteration (context, TRUE);
  if (timer != NULL)
    g_source_destroy (timer);
  g_main_context_pop_thread_default (context);

  if (attempt.stream == NULL)
    g_propagate_error (error, attempt.error);
  return attempt.stream;
}

static MpConnection *
connect_tcp (const char      *address_text,
             const MpAddress *address,
             gint64           deadline,
             GError         **error)
{
  g_autoptr(GSocketConnection) stream = NULL;
  g_autoptr(GError) local_error = NULL;

  if (mp_address_get_port (address) == 0)
    {
      mp_address_bad (error, address_text,
                      "port 0 means \"any\" and only makes sense for listening");
      return NULL;
    }

  stream = connect_tcp_by_deadline (address->network, deadline, &local_error);
  if (stream != NULL)
    {
      mp_socket_set_nodelay_if_tcp (g_socket_connection_get_socket (stream));
      return mp_connection_new_for_stream (stream);
    }

  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    mp_set_error (error, MP_ERROR_TIMEOUT, "Connecting to %s: no answer in time",
                  address_text);
  else if (local_error->domain == G_RESOLVER_ERROR)
    mp_address_set_resolve_error (error, address, local_error);
  else
    set_connect_error (error, address_text, local_error);
  return NULL;
}

/**
 * mp_connection_connect: (skip)
 * @address: "unix:/path", "tcp:HOST:PORT" or "HOST:PORT"
 * @authkey: the key the listener was made with (not empty)
 * @timeout_us: for connecting and the handshake; negative waits for ever
 * @error: return location for a #GError
 *
 * Connects and runs the client half of the handshake. A host name is
 * tried at every address it resolves to, in order.
 *
 * Returns: (transfer full): an authenticated connection, or %NULL with
 *   @error set: %MP_ERROR_INVALID_ARGUMENT for a malformed address,
 *   %MP_ERROR_CONNECTION_CLOSED when nothing listens there,
 *   %MP_ERROR_AUTH_FAILED when the keys differ, %MP_ERROR_REFUSED when a
 *   live server turned us away (busy, out of resources), %MP_ERROR_TIMEOUT,
 *   %MP_ERROR_FAILED for a host name that does not resolve.
 *
 * Since: 0.1
 */
MpConnection *
mp_connection_connect (const char *address,
                       GBytes     *authkey,
                       gint64      timeout_us,
                       GError    **error)
{
  g_auto(MpAddress) parsed = { 0 };
  g_autoptr(MpConnection) connection = NULL;
  gint64 deadline = mp_deadline_from_timeout (timeout_us);

  g_return_val_if_fail (address != NULL, NULL);
  g_return_val_if_fail (authkey != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mp_address_parse (address, &parsed, error) || !mp_auth_check_key (authkey, error))
    return NULL;

  if (parsed.path != NULL)
    connection = connect_unix (address, parsed.path, deadline, error);
  else
    connection = connect_tcp (address, &parsed, deadline, error);
  if (connection == NULL)
    return NULL;

  if (!mp_connection_authenticate_client (connection, authkey,
                                          mp_deadline_remaining_us (deadline), error))
    {
      g_prefix_error (error, "Connecting to %s: ", address);
      return NULL;
    }
  return g_steal_pointer (&connection);
}
