/* mp-gate.c — the handshake gate: peers wait here until they prove they
 * hold the key
 *
 * A peer that connects costs a descriptor before it has shown anything.
 * CPython's Server gives it a thread as well and waits for ever; an
 * unauthenticated peer holding a few hundred idle connections then
 * starves the server of descriptors. The gate runs every handshake in
 * progress on the accepting thread, with poll(), and bounds what a peer
 * without the key can hold:
 *
 * - at most MP_GATE_MAX_PENDING handshakes at once; a new peer pushes
 *   out the oldest connection of the peer address that holds the most,
 *   so a flood from one address crowds out nobody but itself, and the
 *   newest client always gets its turn;
 * - MP_GATE_HANDSHAKE_TIMEOUT from connect to the last message;
 * - a wrong key pauses the checking of that address's answers for
 *   MP_GATE_WRONG_KEY_PAUSE, so guessing is slow;
 * - out of descriptors, accept() gives up a reserved one to tell the
 *   peer so, warns once a minute at most and rests instead of spinning.
 *
 * Every peer turned away is told why ("#REFUSED#" and a reason), so a
 * client of a live server never mistakes it for a closed manager.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mp-gate-private.h"
#include "mp-auth-private.h"
#include "mp-connection-private.h"
#include "mp-listener-private.h"
#include "mp-trace-private.h"

/* accepts in a row before the handshakes in progress get their turn */
#define ACCEPT_BATCH 64

/* without a descriptor to wake it, the gate looks for a shutdown this
 * often (100 ms) */
#define CANCEL_CHECK (100 * 1000)

typedef enum {
  STEP_RESPONSE,     /* our challenge is out; waiting for its answer */
  STEP_CHALLENGE,    /* welcomed; waiting for the peer's challenge */
  STEP_VERDICT,      /* answered it; waiting for the peer's verdict */
} Step;

typedef struct {
  MpConnection *connection;
  int           fd;
  char         *peer;        /* the address without the port */
  GBytes       *challenge;   /* ours */
  Step          step;
  gint64        deadline;
  gint          poll_index;  /* in this round's poll set, -1: not there */
} Pending;

struct _MpGate {
  MpListener *listener;
  GPollFD     cancel;
  GPtrArray  *pending;          /* Pending *, oldest first */
  GHashTable *paused;           /* peer -> gint64 *: answers wait until then */
  int         reserve_fd;       /* given up to refuse a peer in words */
  gint64      accept_resumes;   /* out of descriptors: rest until then */
  gint64      warned_at;        /* the last "out of descriptors", 0: never */
  guint       n_refused;        /* for want of descriptors, since then */
};

static void
pending_free (Pending *p)
{
  if (p->connection != NULL)
    {
      mp_connection_close (p->connection);
      mp_connection_unref (p->connection);
    }
  g_clear_pointer (&p->challenge, g_bytes_unref);
  g_free (p->peer);
  g_free (p);
}

static int
open_reserve (void)
{
  return open ("/dev/null", O_RDONLY | O_CLOEXEC);
}

/**
 * mp_gate_new:
 * @listener: a listener; the gate accepts on it from now on
 *
 * Returns: (transfer full): a gate with no peer in it
 */
MpGate *
mp_gate_new (MpListener *listener)
{
  MpGate *self = g_new0 (MpGate, 1);

  self->listener = mp_listener_ref (listener);
  if (!g_cancellable_make_pollfd (mp_listener_get_cancellable (listener), &self->cancel))
    self->cancel = (GPollFD) { -1, 0, 0 };   /* then polled every CANCEL_CHECK */
  self->pending = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_free);
  self->paused = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->reserve_fd = open_reserve ();
  return self;
}

/**
 * mp_gate_free:
 * @self: a gate
 *
 * Closes the connections still in the handshake.
 */
void
mp_gate_free (MpGate *self)
{
  g_ptr_array_unref (self->pending);
  g_hash_table_unref (self->paused);
  if (self->reserve_fd >= 0)
    close (self->reserve_fd);
  if (self->cancel.fd >= 0)
    g_cancellable_release_fd (mp_listener_get_cancellable (self->listener));
  mp_listener_unref (self->listener);
  g_free (self);
}

/**
 * mp_gate_get_n_pending:
 * @self: a gate
 *
 * Returns: how many peers are in the handshake now
 */
guint
mp_gate_get_n_pending (MpGate *self)
{
  return self->pending->len;
}

/* One handshake message, sent at once or not at all: it is small and the
 * socket's buffer is empty, so only a peer that reads nothing and floods
 * us could fill it, and then it loses its place. */
static gboolean
send_now (int         fd,
          const void *data,
          gsize       len)
{
  guint8 frame[MP_FRAME_HEADER_SIZE + MP_AUTH_MAX_MESSAGE];

  g_assert (len <= MP_AUTH_MAX_MESSAGE);
  mp_frame_encode_header (frame, len);
  memcpy (frame + MP_FRAME_HEADER_SIZE, data, len);
  return send (fd, frame, MP_FRAME_HEADER_SIZE + len,
               MSG_DONTWAIT | MSG_NOSIGNAL) == (gssize) (MP_FRAME_HEADER_SIZE + len);
}

static gboolean
send_literal_now (Pending    *p,
                  const char *message)
{
  return send_now (p->fd, message, strlen (message));
}

/* Tells the peer why it is turned away; it may not read it, or be gone. */
static void
send_refusal (int         fd,
              const char *reason)
{
  g_autofree char *message = g_strconcat (MP_AUTH_REFUSED, reason, NULL);

  send_now (fd, message, MIN (strlen (message), (gsize) MP_AUTH_MAX_MESSAGE));
}

static void
refuse_index (MpGate     *self,
              guint       index,
              const char *reason)
{
  Pending *p = g_ptr_array_index (self->pending, index);

  g_debug ("gate of %s: turned away a peer from %s: %s",
           mp_listener_get_address (self->listener), p->peer, reason);
  send_refusal (p->fd, reason);
  g_ptr_array_remove_index (self->pending, index);
}

/* The oldest connection of the address with the most of them. */
static guint
crowded_out_index (MpGate *self)
{
  g_autoptr(GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  guint best = 0, best_count = 0;

  for (guint i = 0; i < self->pending->len; i++)
    {
      Pending *p = g_ptr_array_index (self->pending, i);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, p->peer)) + 1;

      g_hash_table_insert (counts, p->peer, GUINT_TO_POINTER (count));
    }
  for (guint i = 0; i < self->pending->len; i++)
    {
      Pending *p = g_ptr_array_index (self->pending, i);
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (counts, p->peer));

      if (count > best_count)
        {
          best = i;
          best_count = count;
        }
    }
  return best;
}

static void
crowd_out (MpGate     *self,
           const char *reason)
{
  if (self->pending->len > 0)
    refuse_index (self, crowded_out_index (self), reason);
}

/* -1 when the answers of @peer may be checked now */
static gint64
paused_until (MpGate     *self,
              const char *peer,
              gint64      now)
{
  gint64 *until = g_hash_table_lookup (self->paused, peer);

  if (until == NULL)
    return -1;
  if (*until <= now)
    {
      g_hash_table_remove (self->paused, peer);
      return -1;
    }
  return *until;
}

static void
pause_peer (MpGate     *self,
            const char *peer)
{
  gint64 until = g_get_monotonic_time () + MP_GATE_WRONG_KEY_PAUSE;

  g_hash_table_replace (self->paused, g_strdup (peer), g_memdup2 (&until, sizeof until));
}

static char *
peer_name (GSocket *socket)
{
  g_autoptr(GSocketAddress) address = g_socket_get_remote_address (socket, NULL);

  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("a local socket");
  return g_inet_address_to_string (
    g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

static void
add_pending (MpGate  *self,
             GSocket *client)
{
  g_autoptr(GError) error = NULL;
  Pending *p;

  if (self->pending->len >= MP_GATE_MAX_PENDING)
    crowd_out (self, "busy: " G_STRINGIFY (MP_GATE_MAX_PENDING) " peers were in"
               " the handshake already, and this connection was the oldest"
               " of the address holding the most of them");

  p = g_new0 (Pending, 1);
  p->connection = mp_connection_new_for_socket (client);
  p->fd = g_socket_get_fd (client);
  p->peer = peer_name (client);
  p->step = STEP_RESPONSE;
  p->deadline = g_get_monotonic_time () + MP_GATE_HANDSHAKE_TIMEOUT;
  p->poll_index = -1;
  mp_connection_set_max_frame_size (p->connection, MP_AUTH_MAX_MESSAGE);
  p->challenge = mp_auth_make_challenge (&error);
  if (p->challenge == NULL ||
      !send_now (p->fd, g_bytes_get_data (p->challenge, NULL),
                 g_bytes_get_size (p->challenge)))
    {
      g_debug ("gate: could not challenge a peer from %s: %s", p->peer,
               error != NULL ? error->message : g_strerror (errno));
      pending_free (p);
      return;
    }
  g_ptr_array_add (self->pending, p);
}

/* Once per MP_GATE_WARN_INTERVAL at most, however many peers knock. */
static void
warn_out_of_fds (MpGate *self)
{
  struct rlimit limit = { 0, 0 };
  gint64 now = g_get_monotonic_time ();

  self->n_refused++;
  if (self->warned_at != 0 && now - self->warned_at < MP_GATE_WARN_INTERVAL)
    return;
  getrlimit (RLIMIT_NOFILE, &limit);
  g_warning ("%s: out of file descriptors (limit %llu);\n"
             "new clients are told so and refused (%u since the last\n"
             "warning); the clients being served go on",
             mp_listener_get_address (self->listener),
             (unsigned long long) limit.rlim_cur, self->n_refused);
  self->warned_at = now;
  self->n_refused = 0;
}

/* accept() failed for want of a descriptor: give up the reserve one to
 * tell the next peer in words; with that gone too, rest. Handshakes in
 * progress keep their places: they are bounded already, and may be
 * clients with the key. */
static void
out_of_fds (MpGate *self)
{
  GSocket *listen_socket = mp_listener_get_socket (self->listener);
  g_autoptr(GSocket) client = NULL;

  warn_out_of_fds (self);
  if (self->reserve_fd >= 0)
    {
      close (self->reserve_fd);
      client = g_socket_accept (listen_socket, NULL, NULL);
      if (client != NULL)
        {
          send_refusal (g_socket_get_fd (client), "out of resources: the server"
                        " has no file descriptor left; try again later");
          g_socket_close (client, NULL);
        }
      self->reserve_fd = open_reserve ();
      if (client != NULL && self->reserve_fd >= 0)
        return;
    }
  self->accept_resumes = g_get_monotonic_time () + MP_GATE_EMFILE_BACKOFF;
}

static void
accept_batch (MpGate *self)
{
  GSocket *listen_socket = mp_listener_get_socket (self->listener);

  for (guint i = 0; i < ACCEPT_BATCH; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) client = g_socket_accept (listen_socket, NULL, &error);

      if (client != NULL)
        {
          if (self->reserve_fd < 0)
            self->reserve_fd = open_reserve ();
          add_pending (self, client);
          continue;
        }
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return;
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        out_of_fds (self);
      else
        {
          /* a peer that gave up already, or memory short: rest a moment
           * rather than spin on a listener that stays readable */
          g_debug ("gate of %s: accept: %s", mp_listener_get_address (self->listener),
                   error->message);
          self->accept_resumes = g_get_monotonic_time () + MP_GATE_EMFILE_BACKOFF;
        }
      return;
    }
}

typedef enum {
  OUTCOME_WAIT,
  OUTCOME_DONE,
  OUTCOME_DROP,
} Outcome;

/* Takes the peer's messages as far as they have arrived. */
static Outcome
advance (MpGate  *self,
         Pending *p)
{
  GBytes *authkey = mp_listener_get_authkey (self->listener);

  for (;;)
    {
      g_auto(MpFrame) frame = MP_FRAME_INIT;
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) message = NULL;
      g_autoptr(GBytes) response = NULL;

      if (p->step == STEP_RESPONSE &&
          paused_until (self, p->peer, g_get_monotonic_time ()) >= 0)
        return OUTCOME_WAIT;
      gboolean received;

      /* a poll: "nothing yet" is no failure to record */
      mp_trace_expect_errors_push ();
      received = mp_connection_recv_frame (p->connection, 0, &frame, &error);
      mp_trace_expect_errors_pop ();
      if (!received)
        {
          if (g_error_matches (error, MP_ERROR, MP_ERROR_TIMEOUT))
            return OUTCOME_WAIT;
          g_debug ("gate: a peer from %s left the handshake: %s", p->peer, error->message);
          return OUTCOME_DROP;
        }
      message = g_bytes_new (frame.data, frame.len);

      switch (p->step)
        {
        case STEP_RESPONSE:
          if (!mp_auth_verify_response (authkey, p->challenge, message, &error))
            {
              pause_peer (self, p->peer);
              send_literal_now (p, MP_AUTH_FAILURE);
              g_debug ("gate: refused a peer from %s: %s", p->peer, error->message);
              return OUTCOME_DROP;
            }
          if (!send_literal_now (p, MP_AUTH_WELCOME))
            return OUTCOME_DROP;
          p->step = STEP_CHALLENGE;
          break;
        case STEP_CHALLENGE:
          response = mp_auth_make_response (authkey, message, &error);
          if (response == NULL ||
              !send_now (p->fd, g_bytes_get_data (response, NULL), g_bytes_get_size (response)))
            {
              g_debug ("gate: a peer from %s sent a bad challenge: %s", p->peer,
                       error != NULL ? error->message : g_strerror (errno));
              return OUTCOME_DROP;
            }
          p->step = STEP_VERDICT;
          break;
        case STEP_VERDICT:
          if (frame.len != strlen (MP_AUTH_WELCOME) ||
              memcmp (frame.data, MP_AUTH_WELCOME, frame.len) != 0)
            {
              g_debug ("gate: a peer from %s rejected our answer (another key)", p->peer);
              return OUTCOME_DROP;
            }
          return OUTCOME_DONE;
        default:
          g_assert_not_reached ();
        }
    }
}

static gboolean
pause_is_over (gpointer key,
               gpointer value,
               gpointer now)
{
  return *(gint64 *) value <= *(gint64 *) now;
}

/* Drops the peers whose time is up, and the pauses that are over. */
static void
drop_late (MpGate *self,
           gint64  now)
{
  g_hash_table_foreach_remove (self->paused, pause_is_over, &now);
  for (guint i = 0; i < self->pending->len;)
    {
      Pending *p = g_ptr_array_index (self->pending, i);

      if (p->deadline <= now)
        {
          g_autofree char *reason =
            g_strdup_printf ("the handshake took longer than the %d s allowed",
                             (int) (MP_GATE_HANDSHAKE_TIMEOUT / G_USEC_PER_SEC));
          refuse_index (self, i, reason);
        }
      else
        i++;
    }
}

static gint64
earliest (gint64 a,
          gint64 b)
{
  if (a < 0)
    return b;
  if (b < 0)
    return a;
  return MIN (a, b);
}

/* The poll set of this round; returns the time to wake up at (-1: none)
 * and the listener's index in @fds (-1: resting). */
static gint64
poll_set (MpGate  *self,
          gint64   now,
          GPollFD *fds,
          guint   *n_fds,
          gint    *listen_index)
{
  gint64 wake = -1;
  guint n = 0;

  if (self->cancel.fd >= 0)
    fds[n++] = self->cancel;
  else
    wake = now + CANCEL_CHECK;
  *listen_index = -1;
  if (now >= self->accept_resumes)
    {
      *listen_index = (gint) n;
      fds[n++] = (GPollFD) { g_socket_get_fd (mp_listener_get_socket (self->listener)), G_IO_IN, 0 };
    }
  else
    wake = self->accept_resumes;

  for (guint i = 0; i < self->pending->len; i++)
    {
      Pending *p = g_ptr_array_index (self->pending, i);
      gint64 until = p->step == STEP_RESPONSE ? paused_until (self, p->peer, now) : -1;

      wake = earliest (wake, p->deadline);
      p->poll_index = -1;
      if (until >= 0)
        {
          /* its answer may be there already: not polled, or poll spins */
          wake = earliest (wake, until);
          continue;
        }
      p->poll_index = (gint) n;
      fds[n++] = (GPollFD) { p->fd, G_IO_IN, 0 };
    }
  *n_fds = n;
  return wake;
}

/**
 * mp_gate_accept:
 * @self: a gate
 * @error: return location for a #GError
 *
 * Accepts peers and runs their handshakes until one proves it holds the
 * key. Peers that fail, are too slow or are crowded out are told why and
 * dropped; that is no error of this call.
 *
 * Returns: (transfer full): an authenticated connection, or %NULL with
 *   %MP_ERROR_CONNECTION_CLOSED once the listener was shut down.
 */
MpConnection *
mp_gate_accept (MpGate  *self,
                GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (;;)
    {
      g_autofree GPollFD *fds = NULL;
      gint64 now = g_get_monotonic_time ();
      gint64 wake;
      gint listen_index, timeout_ms = -1;
      guint n_fds;

      if (mp_listener_is_shut_down (self->listener))
        {
          /* its owner shut it down: the accept loop's normal end */
          mp_trace_expect_errors_push ();
          mp_set_error (error, MP_ERROR_CONNECTION_CLOSED,
                        "The listener at %s was shut down",
                        mp_listener_get_address (self->listener));
          mp_trace_expect_errors_pop ();
          return NULL;
        }
      drop_late (self, now);
      fds = g_new (GPollFD, 2 + self->pending->len);
      wake = poll_set (self, now, fds, &n_fds, &listen_index);
      if (wake >= 0)
        timeout_ms = (gint) MIN ((MAX (wake - now, 0) + 999) / 1000, G_MAXINT);
      if (g_poll (fds, n_fds, timeout_ms) < 0)
        continue;   /* EINTR */

      for (guint i = 0; i < self->pending->len;)
        {
          Pending *p = g_ptr_array_index (self->pending, i);
          Outcome outcome;

          if (p->poll_index < 0 || fds[p->poll_index].revents == 0)
            {
              i++;
              continue;
            }
          outcome = advance (self, p);
          if (outcome == OUTCOME_WAIT)
            i++;
          else if (outcome == OUTCOME_DROP)
            g_ptr_array_remove_index (self->pending, i);
          else
            {
              MpConnection *connection = g_steal_pointer (&p->connection);

              g_ptr_array_remove_index (self->pending, i);
              mp_connection_set_max_frame_size (connection,
                                                mp_listener_get_max_frame_size (self->listener));
              return connection;
            }
        }
      if (listen_index >= 0 && fds[listen_index].revents != 0)
        accept_batch (self);
    }
}
