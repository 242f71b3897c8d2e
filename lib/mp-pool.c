/* mp-pool.c — a worker pool / executor (ProcessPoolExecutor)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each worker is an MpProcess (fork or spawn) running the internal task
 * MP_POOL_WORKER_TASK. Like Python's call queue, one socket carries the
 * requests to all workers: a worker takes the next request while holding
 * the pool's queue lock (an MpLock: one reader at a time keeps the frames
 * whole), lets go and runs it. So a free worker always takes the next task
 * and no task waits behind a slow one, yet the parent can send many
 * requests ahead and a busy worker goes from one task to the next without
 * waiting for the parent. Each worker answers on a socket of its own and
 * notes the task it runs in a shared array, so a worker's death can name
 * its task. Requests and replies are the connection layer's frames
 * (mp-connection.c), each holding one GVariant:
 *
 *   request (parent -> worker): "(tsv)" = (future index, task, arguments)
 *   reply   (worker -> parent): "(tbv)" = (future index, ok, body), the
 *            body being the result's wire value when ok, else "(sis)" =
 *            the error's domain, code and message
 *
 * One manager thread per pool (Python's executor management thread) sends
 * queued work, collects replies and watches the workers' sentinels. It
 * only routes replies: it reads a reply's future index and leaves the
 * rest to whoever asks the future for its result, so the thread never
 * touches GType. It reads that index holding future_lock, which a fork
 * waits for: GVariant's type cache has a lock of its own that a child
 * must not inherit held. A worker that dies while the pool is not
 * closing breaks the pool (BrokenProcessPool).
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <glib-unix.h>

#include "mp-connection-private.h"
#include "mp-deadline-private.h"
#include "mp-sync-private.h"
#include "mp-trace-private.h"
#include "mp-process-private.h"

#define MAX_FRAME        (1u << 30)
#define MAX_WORKERS      1024
#define INIT_FAILED_ID   G_MAXUINT64   /* reply id: the initializer failed */
#define REQUEST_TYPE     "(tsv)"
#define REPLY_TYPE       "(tbv)"
#define ERROR_TYPE       "(sis)"
#define READ_CHUNK       65536

/* the arguments of MP_POOL_WORKER_TASK, before the initializer's */
enum {
  WORKER_ARG_REPLY_FD,
  WORKER_ARG_QUEUE_FD,
  WORKER_ARG_SLOT,
  WORKER_ARG_QUEUE_LOCK,
  WORKER_ARG_RUNNING,
  WORKER_ARG_INITIALIZER,
  WORKER_N_ARGS
};

/* ---- frames (both sides) ------------------------------------------------- */

/* @message as a frame of the connection layer, header included (the
 * layout mp_connection_send_frame() takes) */
static GByteArray *
variant_frame (GVariant *message)
{
  gsize size = g_variant_get_size (message);
  GByteArray *frame = g_byte_array_sized_new (MP_FRAME_HEADER_SIZE + size);

  /* not g_variant_store() at frame->data + 4: GVariant serializes only
   * to memory aligned for its type */
  g_byte_array_set_size (frame, MP_FRAME_HEADER_SIZE);
  mp_frame_encode_header (frame->data, size);
  g_byte_array_append (frame, g_variant_get_data (message), size);
  return frame;
}

/* GLib computes a container type's layout when the first value of that
 * type is made and frees it with the last one; without a value that
 * stays, every request and every reply would pay for both. */
/* volatile: written once and never read, the stores must still stay */
static GVariant * volatile message_type_keepers[2];

static void
keep_message_types (void)
{
  static gsize kept = 0;

  if (g_once_init_enter (&kept))
    {
      message_type_keepers[0] = g_variant_ref_sink (g_variant_new (REQUEST_TYPE, G_GUINT64_CONSTANT (0), "",
                                                                   g_variant_new_boolean (FALSE)));
      message_type_keepers[1] = g_variant_ref_sink (g_variant_new (REPLY_TYPE, G_GUINT64_CONSTANT (0), FALSE,
                                                                   g_variant_new_boolean (FALSE)));
      g_once_init_leave (&kept, 1);
    }
}

/* ---- futures -------------------------------------------------------------- */

typedef enum {
  FUTURE_PENDING,
  FUTURE_RUNNING,
  FUTURE_DONE,
} FutureState;

struct _MpFuture
{
  GObject      parent_instance;

  guint        index;
  char        *task;

  /* guarded by future_lock */
  FutureState  state;
  guint64      done_order;   /* completion order, for as-completed */
  GBytes      *reply;        /* the worker's reply body, or NULL */
  char        *broken;       /* why the pool broke under it, or NULL */
};

G_DEFINE_FINAL_TYPE (MpFuture, mp_future, G_TYPE_OBJECT)

/* One lock and condition for every future: as-completed waits for any of
 * many futures, possibly of several pools, and completions are rare
 * compared to the work behind them. */
static GMutex  future_lock;
static GCond   future_cond;
static guint64 done_counter;

static void
future_atfork_prepare (void)
{
  g_mutex_lock (&future_lock);
}

static void
future_atfork_release (void)
{
  g_mutex_unlock (&future_lock);
}

static void
mp_future_finalize (GObject *object)
{
  MpFuture *self = MP_FUTURE (object);

  g_free (self->task);
  g_clear_pointer (&self->reply, g_bytes_unref);
  g_free (self->broken);

  G_OBJECT_CLASS (mp_future_parent_class)->finalize (object);
}

static void
mp_future_class_init (MpFutureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = mp_future_finalize;
}

static void
mp_future_init (MpFuture *self)
{
}

static MpFuture *
future_new (guint       index,
            const char *task)
{
  MpFuture *self = g_object_new (MP_TYPE_FUTURE, NULL);

  self->index = index;
  self->task = g_strdup (task);
  return self;
}

static void
future_set_running (MpFuture *self)
{
  g_mutex_lock (&future_lock);
  if (self->state == FUTURE_PENDING)
    self->state = FUTURE_RUNNING;
  g_mutex_unlock (&future_lock);
}

/* With future_lock held. Takes @reply or @broken (one of them). */
static void
future_finish_locked (MpFuture *self,
                      GBytes   *reply,
                      char     *broken)
{
  g_assert (self->state != FUTURE_DONE);
  self->state = FUTURE_DONE;
  self->done_order = ++done_counter;
  self->reply = reply;
  self->broken = broken;
}

/* Takes @reply or @broken (one of them). */
static void
future_finish (MpFuture *self,
               GBytes   *reply,
               char     *broken)
{
  g_mutex_lock (&future_lock);
  future_finish_locked (self, reply, broken);
  g_cond_broadcast (&future_cond);
  g_mutex_unlock (&future_lock);
}

/**
 * mp_future_done:
 * @self: an #MpFuture
 *
 * Returns: %TRUE when the task finished, failed or was lost to a broken pool.
 *
 * Since: 0.1
 */
gboolean
mp_future_done (MpFuture *self)
{
  gboolean done;

  g_return_val_if_fail (MP_IS_FUTURE (self), FALSE);

  g_mutex_lock (&future_lock);
  done = self->state == FUTURE_DONE;
  g_mutex_unlock (&future_lock);
  return done;
}

/**
 * mp_future_get_index:
 * @self: an #MpFuture
 *
 * Returns: the position of this task in its pool's submission order, from 0.
 *
 * Since: 0.1
 */
guint
mp_future_get_index (MpFuture *self)
{
  g_return_val_if_fail (MP_IS_FUTURE (self), 0);

  return self->index;
}

/* The body of a reply, unboxed; @ok says whether it is a result or an
 * error. Children, not g_variant_get(): no format string to scan for
 * every task. */
static GVariant *
reply_get_body (GVariant *reply,
                gboolean *ok)
{
  g_autoptr(GVariant) flag = g_variant_get_child_value (reply, 1);
  g_autoptr(GVariant) boxed = g_variant_get_child_value (reply, 2);

  *ok = g_variant_get_boolean (flag);
  return g_variant_get_variant (boxed);
}

static gboolean
decode_reply (MpFuture  *self,
              GBytes    *reply,
              GValue    *result,
              GError   **error)
{
  g_autoptr(GVariant) message = mp_connection_variant_from_frame (reply, G_VARIANT_TYPE (REPLY_TYPE), NULL);
  g_autoptr(GVariant) body = NULL;
  gboolean ok;

  if (message == NULL)
    goto malformed;
  body = reply_get_body (message, &ok);
  if (ok)
    {
      GValue ignored = G_VALUE_INIT;

      ok = mp_deserialize_value (body, result != NULL ? result : &ignored, error);
      if (G_IS_VALUE (&ignored))
        g_value_unset (&ignored);
      return ok;
    }
  if (g_variant_is_of_type (body, G_VARIANT_TYPE (ERROR_TYPE)))
    {
      const char *domain, *text;
      gint32 code;

      g_variant_get (body, "(&si&s)", &domain, &code, &text);
      if (*domain == '\0')
        goto malformed;
      g_set_error_literal (error, g_quark_from_string (domain), code, text);
      return FALSE;
    }

malformed:
  mp_set_error (error, MP_ERROR_PROTOCOL, "future #%u (task '%s'): the worker's reply is malformed",
                self->index, self->task);
  return FALSE;
}

/**
 * mp_future_result:
 * @self: an #MpFuture
 * @timeout_us: how long to wait in microseconds; -1 waits forever
 * @result: (out caller-allocates) (optional): an unset GValue for the
 *   task's result (left unset for None); a fresh copy at every call
 * @error: return location for a #GError
 *
 * Waits for the task. A task that failed gives back its own error (same
 * domain, code and message); a task lost with its worker gives
 * %MP_ERROR_BROKEN_POOL; a wait that runs out gives %MP_ERROR_TIMEOUT.
 *
 * Returns: %TRUE with @result set when the task succeeded.
 *
 * Since: 0.1
 */
gboolean
mp_future_result (MpFuture  *self,
                  gint64     timeout_us,
                  GValue    *result,
                  GError   **error)
{
  g_autoptr(GBytes) reply = NULL;
  g_autofree char *broken = NULL;
  gint64 deadline;

  g_return_val_if_fail (MP_IS_FUTURE (self), FALSE);
  g_return_val_if_fail (result == NULL || !G_IS_VALUE (result), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  deadline = mp_deadline_from_timeout (timeout_us);
  g_mutex_lock (&future_lock);
  while (self->state != FUTURE_DONE)
    {
      if (deadline < 0)
        g_cond_wait (&future_cond, &future_lock);
      else if (!g_cond_wait_until (&future_cond, &future_lock, deadline) && self->state != FUTURE_DONE)
        {
          g_mutex_unlock (&future_lock);
          mp_set_error (error, MP_ERROR_TIMEOUT, "future #%u (task '%s') is not done after %" G_GINT64_FORMAT " us",
                        self->index, self->task, timeout_us);
          return FALSE;
        }
    }
  if (self->reply != NULL)
    reply = g_bytes_ref (self->reply);
  broken = g_strdup (self->broken);
  g_mutex_unlock (&future_lock);

  if (broken != NULL)
    {
      mp_set_error (error, MP_ERROR_BROKEN_POOL, "future #%u (task '%s') failed: %s", self->index, self->task, broken);
      return FALSE;
    }
  return decode_reply (self, reply, result, error);
}

/* ---- as completed ---------------------------------------------------------- */

struct _MpAsCompleted
{
  GPtrArray *futures;   /* MpFuture*, not yet yielded */
  GPtrArray *yielded;   /* keeps what next() returned alive */
};

/**
 * mp_as_completed_new: (skip)
 * @futures: (element-type MpFuture): futures, of one pool or several
 *
 * Returns: (transfer full): an iterator that yields each future of
 *   @futures once, in the order they complete (Python's as_completed()).
 *   Duplicates are yielded once.
 *
 * Since: 0.1
 */
MpAsCompleted *
mp_as_completed_new (GPtrArray *futures)
{
  MpAsCompleted *self;

  g_return_val_if_fail (futures != NULL, NULL);

  self = g_new0 (MpAsCompleted, 1);
  self->futures = g_ptr_array_new_with_free_func (g_object_unref);
  self->yielded = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < futures->len; i++)
    {
      MpFuture *future = g_ptr_array_index (futures, i);

      g_return_val_if_fail (MP_IS_FUTURE (future), self);
      if (!g_ptr_array_find (self->futures, future, NULL))
        g_ptr_array_add (self->futures, g_object_ref (future));
    }
  return self;
}

/**
 * mp_as_completed_next:
 * @self: an #MpAsCompleted
 * @timeout_us: how long to wait for the next one; -1 waits forever
 * @error: return location for a #GError
 *
 * Returns: (transfer none) (nullable): the next future to complete (done:
 *   mp_future_result() will not block), valid as long as @self; %NULL
 *   without error when all were yielded; %NULL with %MP_ERROR_TIMEOUT when
 *   none completed in time.
 *
 * Since: 0.1
 */
MpFuture *
mp_as_completed_next (MpAsCompleted  *self,
                      gint64          timeout_us,
                      GError        **error)
{
  gint64 deadline;
  MpFuture *next = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->futures->len == 0)
    return NULL;

  deadline = mp_deadline_from_timeout (timeout_us);
  g_mutex_lock (&future_lock);
  for (;;)
    {
      guint best = 0;

      for (guint i = 0; i < self->futures->len; i++)
        {
          MpFuture *future = g_ptr_array_index (self->futures, i);

          if (future->state == FUTURE_DONE && (next == NULL || future->done_order < next->done_order))
            {
              next = future;
              best = i;
            }
        }
      if (next != NULL)
        {
          g_ptr_array_add (self->yielded, g_ptr_array_steal_index (self->futures, best));
          break;
        }
      if (deadline < 0)
        g_cond_wait (&future_cond, &future_lock);
      else if (!g_cond_wait_until (&future_cond, &future_lock, deadline))
        {
          g_mutex_unlock (&future_lock);
          mp_set_error (error, MP_ERROR_TIMEOUT, "no future completed within %" G_GINT64_FORMAT " us (%u still pending)",
                        timeout_us, self->futures->len);
          return NULL;
        }
    }
  g_mutex_unlock (&future_lock);
  return next;
}

/**
 * mp_as_completed_free:
 * @self: (transfer full): an #MpAsCompleted
 *
 * Since: 0.1
 */
void
mp_as_completed_free (MpAsCompleted *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->futures);
  g_ptr_array_unref (self->yielded);
  g_free (self);
}

/* ---- the worker side --------------------------------------------------------- */

/* The pool's side of the task table: which task each worker runs. */
static MpArray * volatile worker_running;
static guint worker_slot;

/* Answers request @id with the result's wire value, or with @error. */
static gboolean
send_reply (MpConnection *replies,
            guint64       id,
            GVariant     *result_wire,
            const GError *error)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GByteArray) frame = NULL;
  GVariant *fields[3];

  fields[0] = g_variant_new_uint64 (id);
  fields[1] = g_variant_new_boolean (error == NULL);
  if (error != NULL)
    {
      /* a task's message may hold any bytes; a GVariant string may not */
      g_autofree char *domain = g_utf8_make_valid (g_quark_to_string (error->domain), -1);
      g_autofree char *text = g_utf8_make_valid (error->message, -1);

      fields[2] = g_variant_new_variant (g_variant_new (ERROR_TYPE, domain, error->code, text));
    }
  else
    fields[2] = g_variant_new_variant (result_wire);
  reply = g_variant_ref_sink (g_variant_new_tuple (fields, G_N_ELEMENTS (fields)));
  /* header and reply in one send() */
  frame = variant_frame (reply);
  return mp_connection_send_frame (replies, frame, NULL);
}

/* The request being served, kept reachable: a task that kills its worker
 * must not look like a leak to valgrind. */
static GVariant * volatile serving_request;
static MpArgs   * volatile serving_args;

/* Runs one request; only a lost connection makes it return FALSE. */
static gboolean
serve_request (MpConnection *replies,
               GBytes       *request)
{
  g_autoptr(GVariant) message = mp_connection_variant_from_frame (request, G_VARIANT_TYPE (REQUEST_TYPE), NULL);
  g_autoptr(GVariant) task_field = NULL;
  g_autoptr(GVariant) args_wire = NULL;
  g_autoptr(MpArgs) args = NULL;
  GVariant *field;
  g_autoptr(GVariant) result_wire = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GValue) result = G_VALUE_INIT;
  const char *task;
  guint64 id;
  MpTaskFunc func;

  if (message == NULL)
    return FALSE;
  field = g_variant_get_child_value (message, 0);
  id = g_variant_get_uint64 (field);
  g_variant_unref (field);
  task_field = g_variant_get_child_value (message, 1);
  task = g_variant_get_string (task_field, NULL);
  field = g_variant_get_child_value (message, 2);
  args_wire = g_variant_get_variant (field);
  g_variant_unref (field);

  func = mp_task_lookup (task);
  if (func == NULL)
    mp_set_error (&error, MP_ERROR_LOCAL_FUNCTION, "task '%s' is not registered in pool worker %d",
                  task, (int) getpid ());
  else if ((args = mp_args_deserialize (args_wire, &error)) == NULL)
    g_prefix_error (&error, "decoding the arguments of task '%s': ", task);
  else
    {
      gboolean ok;

      serving_request = message;
      serving_args = args;
      /* a plain store in shared memory: if the task kills us, the parent
       * reads here which one it was */
      mp_array_set_uint (worker_running, worker_slot, id + 1, NULL);
      MP_TRACE (mp_trace_pool_dispatch (task, id, worker_slot + 1));
      ok = func (args, &result, &error);
      MP_TRACE (mp_trace_pool_done (id, ok));
      serving_request = NULL;
      serving_args = NULL;

      if (!ok && error == NULL)
        mp_set_error (&error, MP_ERROR_FAILED, "task '%s' failed without saying why", task);
      else if (ok && (result_wire = mp_serialize_value (&result, &error)) == NULL)
        g_prefix_error (&error, "returning the result of task '%s': ", task);
      else if (ok)
        result_wire = g_variant_take_ref (result_wire);
    }

  return send_reply (replies, id, result_wire, error);
}

/* The next request from the shared queue, taken whole under the queue
 * lock. Returns NULL at the end of the queue (shutdown) or when the lock
 * was left by a worker that died holding it (the pool is going down). */
static GBytes *
take_request (MpConnection *queue,
              MpLockable   *lock)
{
  GBytes *request;

  if (!mp_lockable_acquire (lock, MP_WAIT_FOREVER, NULL))
    return NULL;
  request = mp_connection_recv_bytes (queue, -1, NULL);
  mp_lockable_release (lock, NULL);
  return request;
}

/* The worker's ends of the queue and of its replies (one connection when
 * both are the same socket); FALSE with @error set when one is no socket. */
static gboolean
worker_connect (int             reply_fd,
                int             queue_fd,
                MpConnection  **out_replies,
                MpConnection  **out_queue,
                GError        **error)
{
  g_autoptr(MpConnection) replies = NULL;
  g_autoptr(MpConnection) queue = NULL;

  replies = mp_connection_new_for_fd (reply_fd, error);
  if (replies == NULL)
    {
      if (queue_fd != reply_fd)
        close (queue_fd);
      return FALSE;
    }
  queue = queue_fd == reply_fd ? mp_connection_ref (replies) : mp_connection_new_for_fd (queue_fd, error);
  if (queue == NULL)
    return FALSE;
  /* the other workers read the same queue: take one request, no more */
  mp_connection_set_read_ahead (queue, FALSE);
  mp_connection_set_max_frame_size (queue, MAX_FRAME);
  mp_connection_set_max_frame_size (replies, MAX_FRAME);
  *out_replies = g_steal_pointer (&replies);
  *out_queue = g_steal_pointer (&queue);
  return TRUE;
}

/* The task of every worker: args = (reply fd, queue fd, slot, queue lock,
 * task table, initializer or "", initargs...). */
static gboolean
pool_worker_task (MpArgs  *args,
                  GValue  *result,
                  GError **error)
{
  int fd = (int) mp_args_get_int (args, WORKER_ARG_REPLY_FD);
  int queue_fd = (int) mp_args_get_int (args, WORKER_ARG_QUEUE_FD);
  MpLockable *lock = mp_args_get_object (args, WORKER_ARG_QUEUE_LOCK);
  const char *initializer = mp_args_get_string (args, WORKER_ARG_INITIALIZER);
  g_autoptr(MpConnection) replies = NULL;
  g_autoptr(MpConnection) queue = NULL;

  if (!worker_connect (fd, queue_fd, &replies, &queue, error))
    return FALSE;
  keep_message_types ();

  worker_slot = (guint) mp_args_get_int (args, WORKER_ARG_SLOT);
  worker_running = mp_args_get_object (args, WORKER_ARG_RUNNING);
  if (MP_TRACE_ON)
    {
      g_autofree char *role = g_strdup_printf ("worker %u", worker_slot + 1);
      mp_trace_set_role (role);
    }

  if (initializer != NULL && *initializer != '\0')
    {
      g_autoptr(MpArgs) initargs = mp_args_new (G_TYPE_INVALID);
      g_auto(GValue) ignored = G_VALUE_INIT;
      MpTaskFunc func = mp_task_lookup (initializer);

      for (guint i = WORKER_N_ARGS; i < mp_args_get_length (args); i++)
        mp_args_add_value (initargs, mp_args_get_value (args, i));
      if (func == NULL)
        mp_set_error (error, MP_ERROR_LOCAL_FUNCTION, "initializer task '%s' is not registered in pool worker %d",
                      initializer, (int) getpid ());
      else if (!func (initargs, &ignored, error) && *error == NULL)
        mp_set_error (error, MP_ERROR_FAILED, "initializer '%s' failed without saying why", initializer);
      if (*error != NULL)
        {
          /* as Python's worker: report, then exit; the pool breaks */
          send_reply (replies, INIT_FAILED_ID, NULL, *error);
          return FALSE;
        }
    }

  for (;;)
    {
      g_autoptr(GBytes) request = take_request (queue, lock);

      /* the end of the queue is the pool's shutdown */
      if (request == NULL || !serve_request (replies, request))
        break;
    }
  return TRUE;
}

__attribute__((constructor)) static void
register_pool_worker (void)
{
  mp_task_register (MP_POOL_WORKER_TASK, pool_worker_task);
  pthread_atfork (future_atfork_prepare, future_atfork_release, future_atfork_release);
}

/* ---- the pool ------------------------------------------------------------------ */

typedef struct
{
  MpFuture *future;
  GBytes   *request;   /* the whole frame */
} Work;

static void
work_free (Work *work)
{
  g_clear_object (&work->future);
  g_clear_pointer (&work->request, g_bytes_unref);
  g_free (work);
}

typedef struct
{
  MpProcess  *process;
  int         fd;          /* parent's end of its replies, non-blocking; -1 once closed */
  MpFrameDecoder decoder;  /* a reply not complete yet */
  char       *init_error;  /* its initializer's error message */
  gboolean    closing;     /* told to exit (shutdown or broken) */
  gboolean    exited;      /* reaped */
} Worker;

struct _MpPool
{
  GObject        parent_instance;

  guint          max_workers;
  MpStartMethod  method;
  Worker        *workers;
  guint          n_workers;
  int            wake[2];      /* submit and shutdown wake the manager */
  GThread       *thread;

  /* the shared request queue; the manager thread's alone */
  int            queue_fd;     /* parent's end, non-blocking; -1 once closed */
  GByteArray    *queue_out;    /* requests not sent yet */
  gsize          queue_done;   /* how much of @queue_out is sent */
  gboolean       queue_ended;  /* shut down for writing: workers see the end */
  GHashTable    *in_flight;    /* future index -> MpFuture*, sent, no reply yet */
  MpLock        *queue_lock;   /* one reader of the queue at a time */
  MpArray       *running;      /* 'Q' per worker: future index + 1 it runs */

  GMutex         lock;         /* guards the fields below */
  GQueue         queue;        /* Work*, waiting for an idle worker */
  guint          next_index;
  gboolean       shutdown;
  gboolean       broken;
  char          *broken_reason;
};

G_DEFINE_FINAL_TYPE (MpPool, mp_pool, G_TYPE_OBJECT)

static void
wake_manager (MpPool *self)
{
  char byte = 1;

  /* a full pipe already wakes it */
  if (write (self->wake[1], &byte, 1) < 0 && errno != EAGAIN && errno != EINTR)
    g_warning ("mpshare: waking the pool manager: %s", g_strerror (errno));
}

static void
worker_close (Worker *worker)
{
  if (worker->fd >= 0)
    {
      mp_fd_close_parent_end (worker->fd);
      worker->fd = -1;
    }
}

static void
worker_clear (Worker *worker)
{
  worker_close (worker);
  g_clear_object (&worker->process);
  mp_frame_decoder_clear (&worker->decoder);
  g_clear_pointer (&worker->init_error, g_free);
}

/* The task @worker was running, as it noted in the shared table, if the
 * task is still waiting for its reply; else NULL. */
static MpFuture *
worker_current (MpPool *self,
                Worker *worker)
{
  guint64 noted = mp_array_get_uint (self->running, worker - self->workers, NULL);
  guint index = (guint) (noted - 1);

  if (noted == 0 || noted - 1 > G_MAXUINT)
    return NULL;
  return g_hash_table_lookup (self->in_flight, GUINT_TO_POINTER (index));
}

/* Why @worker died, in words for the futures it takes down. */
static char *
describe_death (MpPool *self,
                Worker *worker)
{
  MpProcess *process = worker->process;
  MpFuture *current = worker_current (self, worker);
  int code = 0;
  g_autofree char *how = NULL;

  if (mp_process_get_exitcode (process, &code))
    how = code < 0 ? g_strdup_printf ("was killed by signal %d (%s)", -code, g_strsignal (-code))
                   : g_strdup_printf ("exited with status %d", code);
  else
    how = g_strdup ("vanished");

  if (worker->init_error != NULL)
    return g_strdup_printf ("pool worker %s (pid %d) %s: its initializer failed: %s",
                            mp_process_get_name (process), (int) mp_process_get_pid (process), how,
                            worker->init_error);
  if (!mp_process_get_task_started (process))
    return g_strdup_printf ("pool worker %s (pid %d) %s before it could serve tasks%s",
                            mp_process_get_name (process), (int) mp_process_get_pid (process), how,
                            mp_process_get_start_method (process) == MP_START_SPAWN
                              ? " (under spawn, main() must call mp_main_guard() first)" : "");
  if (current != NULL)
    return g_strdup_printf ("pool worker %s (pid %d) %s while running task '%s' (future #%u)",
                            mp_process_get_name (process), (int) mp_process_get_pid (process), how,
                            current->task, current->index);
  return g_strdup_printf ("pool worker %s (pid %d) %s while idle",
                          mp_process_get_name (process), (int) mp_process_get_pid (process), how);
}

static gint
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return x < y ? -1 : x > y;
}

/* Called with the lock held, before break_pool(): worker @slot died and
 * takes down these futures. */
static void
trace_worker_died (MpPool *self,
                   guint   slot)
{
  g_autoptr(GArray) broken = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GString) text = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key;
  int code = 0;

  if (self->broken)
    return;
  g_hash_table_iter_init (&iter, self->in_flight);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      guint index = GPOINTER_TO_UINT (key);
      g_array_append_val (broken, index);
    }
  for (GList *l = self->queue.head; l != NULL; l = l->next)
    g_array_append_val (broken, ((Work *) l->data)->future->index);
  g_array_sort (broken, compare_uint);
  for (guint i = 0; i < broken->len; i++)
    g_string_append_printf (text, "%s%u", i > 0 ? "," : "", g_array_index (broken, guint, i));
  mp_process_get_exitcode (self->workers[slot].process, &code);
  mp_trace_pool_worker_died (slot + 1, code, text->str);
}

/* Called with the lock held: every future in flight or queued fails, every
 * worker still alive is killed (its task is lost either way). */
static void
break_pool (MpPool *self,
            char   *reason)
{
  Work *work;

  if (self->broken)
    {
      g_free (reason);
      return;
    }
  self->broken = TRUE;
  self->broken_reason = reason;

  {
    GHashTableIter iter;
    gpointer future;

    g_hash_table_iter_init (&iter, self->in_flight);
    while (g_hash_table_iter_next (&iter, NULL, &future))
      {
        future_finish (future, NULL, g_strdup (reason));
        g_hash_table_iter_remove (&iter);
      }
  }
  for (guint i = 0; i < self->n_workers; i++)
    {
      Worker *worker = &self->workers[i];

      if (!worker->exited)
        {
          mp_process_kill (worker->process, NULL);
          worker->closing = TRUE;
        }
    }
  while ((work = g_queue_pop_head (&self->queue)) != NULL)
    {
      future_finish (work->future, NULL, g_strdup (reason));
      work_free (work);
    }
}

/* The future index @reply answers, read with GVariant's API (a reply
 * that is not a valid one is found out when its result is asked for).
 * Called with future_lock held, as every use of GVariant in the manager
 * thread: see the file comment. */
static guint64
reply_get_index (GBytes *reply)
{
  g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (REPLY_TYPE),
                                                                              reply, FALSE));
  g_autoptr(GVariant) id = g_variant_get_child_value (message, 0);

  return g_variant_get_uint64 (id);
}

/* The message of an initializer's error reply, or NULL when @reply is
 * none. Called with future_lock held (see reply_get_index()). */
static char *
reply_dup_error_message (GBytes *reply)
{
  g_autoptr(GVariant) message = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (REPLY_TYPE),
                                                                              reply, FALSE));
  g_autoptr(GVariant) body = NULL;
  const char *text = NULL;
  gboolean ok;

  if (!g_variant_is_normal_form (message))
    return NULL;
  g_variant_get (message, "(tbv)", NULL, &ok, &body);
  if (!ok && g_variant_is_of_type (body, G_VARIANT_TYPE (ERROR_TYPE)))
    g_variant_get (body, "(&si&s)", NULL, NULL, &text);
  return g_strdup (text);
}

/* Completes the futures @replies answer, all at once: one wakeup for
 * the waiters. Returns FALSE at a reply that answers no task in flight:
 * not our worker talking. */
static gboolean
worker_complete (MpPool    *self,
                 Worker    *worker,
                 GPtrArray *replies)
{
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok = TRUE;

  g_mutex_lock (&self->lock);
  g_mutex_lock (&future_lock);
  for (guint i = 0; ok && i < replies->len; i++)
    {
      GBytes *reply = g_ptr_array_index (replies, i);
      guint64 id = reply_get_index (reply);
      gpointer future = NULL;

      if (id == INIT_FAILED_ID)
        {
          g_free (worker->init_error);
          worker->init_error = reply_dup_error_message (reply);
          continue;
        }
      if (id <= G_MAXUINT)
        g_hash_table_steal_extended (self->in_flight, GUINT_TO_POINTER ((guint) id), NULL, &future);
      ok = future != NULL;
      if (ok)
        {
          future_finish_locked (future, g_bytes_ref (reply), NULL);
          g_ptr_array_add (done, future);
        }
    }
  if (done->len > 0)
    g_cond_broadcast (&future_cond);
  g_mutex_unlock (&future_lock);
  g_mutex_unlock (&self->lock);
  return ok;
}

/* Reads what @worker sent; completes its futures when replies are whole. */
static void
worker_read (MpPool *self,
             Worker *worker)
{
  guint8 buf[READ_CHUNK];
  g_autoptr(GPtrArray) replies = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gboolean framed = TRUE;

  while (framed)
    {
      ssize_t n = read (worker->fd, buf, sizeof buf);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        break;
      if (n <= 0)
        {
          /* gone: its sentinel tells how */
          worker_close (worker);
          break;
        }
      for (gsize used = 0; framed && used < (gsize) n;)
        {
          GBytes *reply = NULL;
          gssize took = mp_frame_decoder_feed (&worker->decoder, buf + used, n - used, &reply, NULL);

          framed = took >= 0;
          used += MAX (took, 0);
          if (reply != NULL)
            g_ptr_array_add (replies, reply);
        }
    }

  if (!worker_complete (self, worker, replies) || !framed)
    {
      /* not our worker talking: stop listening, the pool breaks */
      worker_close (worker);
      mp_process_kill (worker->process, NULL);
    }
}

static gboolean
queue_has_output (MpPool *self)
{
  return self->queue_fd >= 0 && self->queue_out->len > self->queue_done;
}

/* Sends what the shared queue takes without blocking. */
static void
queue_write (MpPool *self)
{
  while (queue_has_output (self))
    {
      ssize_t n = send (self->queue_fd, self->queue_out->data + self->queue_done,
                        self->queue_out->len - self->queue_done, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && errno == EAGAIN)
        return;
      if (n < 0)
        {
          /* no worker left to read: their sentinels say why */
          break;
        }
      self->queue_done += n;
    }
  g_byte_array_set_size (self->queue_out, 0);
  self->queue_done = 0;
}

/* With the lock held: moves queued work into the shared queue, for the
 * first free worker to take. Returns TRUE when the pool has nothing left
 * to do and is shut down or broken. */
static gboolean
dispatch (MpPool *self)
{
  Work *work;

  while (!self->broken && (work = g_queue_pop_head (&self->queue)) != NULL)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (work->request, &size);

      MpFuture *future = g_steal_pointer (&work->future);

      g_byte_array_append (self->queue_out, data, (guint) size);
      future_set_running (future);
      g_hash_table_insert (self->in_flight, GUINT_TO_POINTER (future->index), future);
      work_free (work);
    }
  return self->broken ||
         (self->shutdown && g_hash_table_size (self->in_flight) == 0 && g_queue_is_empty (&self->queue));
}

static gpointer
manager_thread (gpointer data)
{
  MpPool *self = data;
  g_autofree struct pollfd *fds = g_new (struct pollfd, 2 + 2 * self->n_workers);

  for (;;)
    {
      guint n_fds = 0, alive = 0;
      gboolean finished;

      g_mutex_lock (&self->lock);
      finished = dispatch (self);
      g_mutex_unlock (&self->lock);

      queue_write (self);
      /* no more work: the workers read the end of the queue and exit 0 */
      if (finished && !self->queue_ended)
        {
          self->queue_ended = TRUE;
          if (self->queue_fd >= 0)
            shutdown (self->queue_fd, SHUT_WR);
        }
      for (guint i = 0; i < self->n_workers; i++)
        {
          Worker *worker = &self->workers[i];

          if (finished)
            worker->closing = TRUE;
          alive += !worker->exited;
        }
      if (alive == 0)
        break;

      fds[n_fds++] = (struct pollfd) { .fd = self->wake[0], .events = POLLIN };
      fds[n_fds++] = (struct pollfd) { .fd = queue_has_output (self) ? self->queue_fd : -1,
                                       .events = POLLOUT };
      for (guint i = 0; i < self->n_workers; i++)
        {
          Worker *worker = &self->workers[i];

          fds[n_fds++] = (struct pollfd) {
            .fd = worker->exited ? -1 : mp_process_get_sentinel (worker->process), .events = POLLIN };
          fds[n_fds++] = (struct pollfd) { .fd = worker->exited ? -1 : worker->fd, .events = POLLIN };
        }
      if (poll (fds, n_fds, -1) < 0 && errno != EINTR)
        g_error ("mpshare: pool manager: poll: %s", g_strerror (errno));

      if (fds[0].revents)
        {
          char drain[64];
          while (read (self->wake[0], drain, sizeof drain) > 0)
            ;
        }
      for (guint i = 0; i < self->n_workers; i++)
        {
          Worker *worker = &self->workers[i];
          short sentinel = fds[2 + 2 * i].revents;
          short socket = fds[3 + 2 * i].revents;

          /* replies first: a reply sent just before dying still counts */
          if (socket & (POLLIN | POLLHUP | POLLERR))
            worker_read (self, worker);
          if (sentinel)
            {
              /* a zero-timeout join reads the status bytes and reaps an
               * exited worker; no GError here (see the file comment) */
              mp_process_join (worker->process, 0, NULL);
              if (!mp_process_is_alive (worker->process))
                {
                  if (worker->fd >= 0)
                    worker_read (self, worker);
                  worker->exited = TRUE;
                  worker_close (worker);
                  g_mutex_lock (&self->lock);
                  if (!worker->closing)
                    {
                      MP_TRACE (trace_worker_died (self, i));
                      break_pool (self, describe_death (self, worker));
                    }
                  g_mutex_unlock (&self->lock);
                }
            }
        }
    }
  return NULL;
}

static void
mp_pool_dispose (GObject *object)
{
  MpPool *self = MP_POOL (object);

  mp_pool_shutdown (self, TRUE);

  G_OBJECT_CLASS (mp_pool_parent_class)->dispose (object);
}

static void
mp_pool_finalize (GObject *object)
{
  MpPool *self = MP_POOL (object);

  for (guint i = 0; i < self->n_workers; i++)
    worker_clear (&self->workers[i]);
  g_free (self->workers);
  g_queue_clear_full (&self->queue, (GDestroyNotify) work_free);
  if (self->queue_fd >= 0)
    mp_fd_close_parent_end (self->queue_fd);
  g_clear_pointer (&self->queue_out, g_byte_array_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  g_clear_object (&self->queue_lock);
  g_clear_object (&self->running);
  if (self->wake[0] >= 0)
    close (self->wake[0]);
  if (self->wake[1] >= 0)
    close (self->wake[1]);
  g_free (self->broken_reason);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (mp_pool_parent_class)->finalize (object);
}

static void
mp_pool_class_init (MpPoolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mp_pool_dispose;
  object_class->finalize = mp_pool_finalize;
}

static void
mp_pool_init (MpPool *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->queue);
  self->wake[0] = self->wake[1] = -1;
  self->queue_fd = -1;
  self->queue_out = g_byte_array_new ();
  self->in_flight = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
}

static gboolean
start_worker (MpPool      *self,
              Worker      *worker,
              int          queue_fd,
              const char  *initializer,
              MpArgs      *initargs,
              GError     **error)
{
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  int pair[2];
  gboolean ok;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return mp_set_error_from_errno (error, errno, "creating a pool worker: socketpair");

  /* in the order of WORKER_ARG_* */
  mp_args_add_int (args, pair[1]);
  mp_args_add_int (args, queue_fd);
  mp_args_add_int (args, worker - self->workers);
  mp_args_add_object (args, self->queue_lock);
  mp_args_add_object (args, self->running);
  mp_args_add_string (args, initializer != NULL ? initializer : "");
  for (guint i = 0; initargs != NULL && i < mp_args_get_length (initargs); i++)
    mp_args_add_value (args, mp_args_get_value (initargs, i));

  worker->process = mp_process_new (MP_POOL_WORKER_TASK, args);
  mp_process_set_start_method (worker->process, self->method);
  mp_process_pass_fd (worker->process, pair[1]);
  mp_process_pass_fd (worker->process, queue_fd);
  /* the initargs are serialized here, inside process start: objects that
   * travel only by inheritance are welcome (the inheritance-only fix) */
  ok = mp_process_start (worker->process, error);
  close (pair[1]);
  if (!ok)
    {
      close (pair[0]);
      g_prefix_error (error, "starting a pool worker: ");
      return FALSE;
    }
  worker->fd = pair[0];
  /* no other child may keep it: the worker's replies would never fail */
  mp_fd_add_parent_end (worker->fd);
  g_unix_set_fd_nonblocking (worker->fd, TRUE, NULL);
  mp_frame_decoder_init (&worker->decoder, MAX_FRAME);
  return TRUE;
}

/**
 * mp_pool_new:
 * @max_workers: number of worker processes; 0 = number of CPUs
 * @error: return location for a #GError
 *
 * Same as mp_pool_new_full() with the default start method and no
 * initializer.
 *
 * Returns: (transfer full) (nullable): a pool, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpPool *
mp_pool_new (guint    max_workers,
             GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return mp_pool_new_full (max_workers, MP_START_DEFAULT, NULL, NULL, error);
}

/**
 * mp_pool_new_full:
 * @max_workers: number of worker processes; 0 = number of CPUs
 * @method: how workers start; %MP_START_DEFAULT follows mp_get_start_method()
 * @initializer: (nullable): a registered task run once in each worker
 *   before it serves tasks
 * @initargs: (nullable): its arguments; serialized while the workers
 *   start, so objects that travel only by inheritance are allowed
 * @error: return location for a #GError
 *
 * Starts all workers at once. Fails with %MP_ERROR_LOCAL_FUNCTION when
 * @initializer is not registered, %MP_ERROR_BOOTSTRAPPING in a spawned
 * child that has not reached mp_main_guard(), or the error of starting a
 * worker. An initializer that fails makes the pool broken: every future
 * then fails with %MP_ERROR_BROKEN_POOL naming the initializer's error.
 *
 * Returns: (transfer full) (nullable): a pool, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpPool *
mp_pool_new_full (guint           max_workers,
                  MpStartMethod   method,
                  const char     *initializer,
                  MpArgs         *initargs,
                  GError        **error)
{
  g_autoptr(MpPool) self = NULL;
  g_autoptr(GError) local_error = NULL;
  int queue[2];

  g_return_val_if_fail (MP_START_METHOD_IS_VALID (method), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!mp_spawn_check_bootstrapped ("creating a process pool", error))
    return NULL;
  if (max_workers == 0)
    max_workers = MAX (g_get_num_processors (), 1);
  if (max_workers > MAX_WORKERS)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT, "max_workers %u is too many: use at most %u",
                    max_workers, MAX_WORKERS);
      return NULL;
    }
  if (initializer != NULL && mp_task_lookup (initializer) == NULL)
    {
      mp_set_error (error, MP_ERROR_LOCAL_FUNCTION,
                    "initializer task '%s' is not registered, so a pool worker could not find it by name",
                    initializer);
      return NULL;
    }

  keep_message_types ();
  self = g_object_new (MP_TYPE_POOL, NULL);
  self->max_workers = max_workers;
  self->method = method != MP_START_DEFAULT ? method : mp_get_start_method ();
  if (!g_unix_open_pipe (self->wake, FD_CLOEXEC, &local_error))
    {
      mp_set_error (error, MP_ERROR_FAILED, "creating a pool: %s", local_error->message);
      return NULL;
    }
  g_unix_set_fd_nonblocking (self->wake[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (self->wake[1], TRUE, NULL);

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, queue) != 0)
    {
      mp_set_error_from_errno (error, errno, "creating a pool: socketpair");
      return NULL;
    }
  self->queue_fd = queue[0];
  /* Workers forked after this one, and any other child, must not keep
   * the parent's end: the end of the queue is how idle workers see their
   * parent go (busy ones get the death signal). */
  mp_fd_add_parent_end (self->queue_fd);
  g_unix_set_fd_nonblocking (self->queue_fd, TRUE, NULL);
  self->queue_lock = mp_lock_new (error);
  if (self->queue_lock != NULL)
    mp_sync_set_trace_name (self->queue_lock, "pool queue");
  self->running = self->queue_lock != NULL ? mp_array_create ('Q', max_workers, FALSE, error) : NULL;
  if (self->running == NULL)
    {
      close (queue[1]);
      g_prefix_error (error, "creating a pool: ");
      return NULL;
    }

  self->workers = g_new0 (Worker, max_workers);
  for (guint i = 0; i < max_workers; i++)
    {
      Worker *worker = &self->workers[i];

      worker->fd = -1;
      if (!start_worker (self, worker, queue[1], initializer, initargs, error))
        {
          close (queue[1]);
          /* stop the ones already running; the finalizer frees them */
          g_clear_object (&worker->process);
          for (guint j = 0; j < i; j++)
            {
              worker_close (&self->workers[j]);
              mp_process_kill (self->workers[j].process, NULL);
              mp_process_join (self->workers[j].process, -1, NULL);
            }
          self->n_workers = i;
          return NULL;
        }
      self->n_workers = i + 1;
    }
  /* the workers hold the reading end now */
  close (queue[1]);

  self->thread = g_thread_try_new ("mp-pool", manager_thread, self, &local_error);
  if (self->thread == NULL)
    {
      for (guint i = 0; i < self->n_workers; i++)
        {
          worker_close (&self->workers[i]);
          mp_process_join (self->workers[i].process, -1, NULL);
        }
      mp_set_error (error, MP_ERROR_FAILED, "creating a pool: %s", local_error->message);
      return NULL;
    }
  return g_steal_pointer (&self);
}

/**
 * mp_pool_get_max_workers:
 * @self: an #MpPool
 *
 * Returns: the number of workers.
 *
 * Since: 0.1
 */
guint
mp_pool_get_max_workers (MpPool *self)
{
  g_return_val_if_fail (MP_IS_POOL (self), 0);

  return self->max_workers;
}

/**
 * mp_pool_is_broken:
 * @self: an #MpPool
 *
 * Returns: %TRUE once a worker died unexpectedly (Python's BrokenProcessPool).
 *
 * Since: 0.1
 */
gboolean
mp_pool_is_broken (MpPool *self)
{
  gboolean broken;

  g_return_val_if_fail (MP_IS_POOL (self), FALSE);

  g_mutex_lock (&self->lock);
  broken = self->broken;
  g_mutex_unlock (&self->lock);
  return broken;
}


static gboolean
check_accepting (MpPool  *self,
                 GError **error)
{
  if (self->broken)
    {
      mp_set_error (error, MP_ERROR_BROKEN_POOL,
                    "the pool is broken and runs no new tasks, as %s", self->broken_reason);
      return FALSE;
    }
  if (self->shutdown)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "cannot schedule new futures after shutdown: this pool was shut down; create a new pool");
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_pool_submit:
 * @self: an #MpPool
 * @task: the name of a registered task
 * @args: (nullable): its arguments
 * @error: return location for a #GError
 *
 * Queues @task. Fails at once with %MP_ERROR_LOCAL_FUNCTION when @task is
 * not registered, with the serializer's error when an argument cannot
 * travel (%MP_ERROR_INHERITANCE_ONLY for a synchronized shared object),
 * %MP_ERROR_BROKEN_POOL on a broken pool and %MP_ERROR_INVALID_ARGUMENT
 * after shutdown.
 *
 * Returns: (transfer full) (nullable): the task's future
 *
 * Since: 0.1
 */
MpFuture *
mp_pool_submit (MpPool      *self,
                const char  *task,
                MpArgs      *args,
                GError     **error)
{
  g_autoptr(MpArgs) no_args = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_autoptr(GVariant) request = NULL;
  MpFuture *future;
  Work *work;
  guint index;
  gboolean wake;

  g_return_val_if_fail (MP_IS_POOL (self), NULL);
  g_return_val_if_fail (task != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&self->lock);
  if (!check_accepting (self, error))
    {
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  g_mutex_unlock (&self->lock);

  if (mp_task_lookup (task) == NULL)
    {
      mp_set_error (error, MP_ERROR_LOCAL_FUNCTION,
                    "task '%s' is not registered, so a pool worker could not find it by name", task);
      return NULL;
    }
  if (args == NULL)
    args = no_args = mp_args_new (G_TYPE_INVALID);
  /* Serialized now, outside any process start: an inheritance-only object
   * fails here. Python pickles later, in the feeder thread, and raises the
   * same error only at result(); failing at once is easier to follow. */
  wire = mp_args_serialize (args, error);
  if (wire == NULL)
    {
      g_prefix_error (error, "submitting task '%s': ", task);
      return NULL;
    }
  wire = g_variant_take_ref (wire);

  g_mutex_lock (&self->lock);
  if (!check_accepting (self, error))
    {
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  index = self->next_index;
  request = g_variant_ref_sink (g_variant_new (REQUEST_TYPE, (guint64) index, task, wire));
  if (g_variant_get_size (request) > MAX_FRAME)
    {
      g_mutex_unlock (&self->lock);
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "submitting task '%s': its arguments take %" G_GSIZE_FORMAT " bytes, more than a pool"
                    " request may carry (%u); share large data by name (named shared memory) instead",
                    task, g_variant_get_size (request), MAX_FRAME);
      return NULL;
    }
  self->next_index++;
  future = future_new (index, task);
  MP_TRACE (mp_trace_pool_submit (task, index));
  work = g_new0 (Work, 1);
  work->future = g_object_ref (future);
  work->request = g_byte_array_free_to_bytes (variant_frame (request));
  /* work already queued has the manager's attention: it is awake and
   * about to move it, or its wake byte is on the way */
  wake = g_queue_is_empty (&self->queue);
  g_queue_push_tail (&self->queue, work);
  g_mutex_unlock (&self->lock);

  if (wake)
    wake_manager (self);
  return future;
}

/**
 * mp_pool_map:
 * @self: an #MpPool
 * @task: the name of a registered task
 * @args_list: (element-type MpArgs): one argument tuple per call
 * @timeout_us: how long to wait for all results; -1 waits forever
 * @error: return location for a #GError
 *
 * Submits @task once per element of @args_list and collects the results in
 * submission order, whatever order they complete in.
 *
 * Returns: (transfer full) (element-type GValue) (nullable): the results
 *   (free with g_ptr_array_unref()), or %NULL with the first error in
 *   submission order.
 *
 * Since: 0.1
 */
GPtrArray *
mp_pool_map (MpPool      *self,
             const char  *task,
             GPtrArray   *args_list,
             gint64       timeout_us,
             GError     **error)
{
  g_autoptr(GPtrArray) futures = NULL;
  g_autoptr(GPtrArray) results = NULL;
  gint64 deadline;

  g_return_val_if_fail (MP_IS_POOL (self), NULL);
  g_return_val_if_fail (task != NULL, NULL);
  g_return_val_if_fail (args_list != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  deadline = mp_deadline_from_timeout (timeout_us);
  futures = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < args_list->len; i++)
    {
      MpFuture *future = mp_pool_submit (self, task, g_ptr_array_index (args_list, i), error);

      if (future == NULL)
        return NULL;
      g_ptr_array_add (futures, future);
    }

  results = g_ptr_array_new_full (futures->len, (GDestroyNotify) mp_gvalue_free);
  for (guint i = 0; i < futures->len; i++)
    {
      GValue *value = g_new0 (GValue, 1);
      gint64 left = deadline < 0 ? -1 : MAX (deadline - g_get_monotonic_time (), 0);

      g_ptr_array_add (results, value);
      if (!mp_future_result (g_ptr_array_index (futures, i), left, value, error))
        return NULL;
    }
  return g_steal_pointer (&results);
}

/**
 * mp_pool_shutdown:
 * @self: an #MpPool
 * @wait: whether to wait for the queued tasks and reap the workers
 *
 * Refuses new tasks from now on. The queued ones still run; with @wait the
 * call returns when they are done and every worker has exited and been
 * reaped. Disposing the pool shuts it down with @wait = %TRUE.
 *
 * Since: 0.1
 */
void
mp_pool_shutdown (MpPool   *self,
                  gboolean  wait)
{
  GThread *thread = NULL;

  g_return_if_fail (MP_IS_POOL (self));

  g_mutex_lock (&self->lock);
  self->shutdown = TRUE;
  if (wait)
    thread = g_steal_pointer (&self->thread);
  g_mutex_unlock (&self->lock);

  if (self->wake[1] >= 0)
    wake_manager (self);
  if (thread != NULL)
    g_thread_join (thread);
}
