/* mp-referent-queue.c — Queue in a manager's server
 *
 * Python's queue.Queue as the manager serves it: put and get block with
 * mp_call_wait(), task_done() and join() count unfinished items.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-referent-private.h"

/* ------------------------------------------------------------------ */
/* Queue                                                                */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  gint64      maxsize;          /* <= 0: unbounded */
  GQueue      items;            /* "v" wires */
  gint64      unfinished;
  GQueue      getters;
  GQueue      putters;
  GQueue      joiners;
} QueueReferent;

#define QUEUE(r) ((QueueReferent *) (r))

static gboolean
queue_init (MpReferent *self,
            MpCall     *call,
            MpArgv     *args,
            GError    **error)
{
  QueueReferent *queue = QUEUE (self);

  g_queue_init (&queue->items);
  g_queue_init (&queue->getters);
  g_queue_init (&queue->putters);
  g_queue_init (&queue->joiners);
  return mp_referent_args_count (args, "Queue()", 0, 1, error) &&
         mp_referent_arg_int_or (args, 0, 0, "Queue()", &queue->maxsize, error);
}

static void
queue_finalize (MpReferent *self)
{
  GVariant *wire;

  while ((wire = g_queue_pop_head (&QUEUE (self)->items)) != NULL)
    {
      mp_server_release_wire (self->server, wire);
      g_variant_unref (wire);
    }
}

static gboolean
queue_is_full (QueueReferent *self)
{
  return self->maxsize > 0 && (gint64) self->items.length >= self->maxsize;
}

static gboolean
queue_put_wire (QueueReferent *self,
                MpCall        *call,
                MpArgv        *args,
                gboolean       block,
                gint64         deadline,
                GError       **error)
{
  GVariant *item;

  while (queue_is_full (self))
    {
      if (!block || mp_deadline_passed (deadline))
        {
          mp_set_error (error, MP_ERROR_FULL, "the queue is full (maxsize %" G_GINT64_FORMAT ")",
                        self->maxsize);
          return FALSE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->putters, deadline, error))
        return FALSE;
    }
  item = mp_referent_store_arg (&self->parent, args, 0, error);
  if (item == NULL)
    return FALSE;
  g_queue_push_tail (&self->items, item);
  self->unfinished++;
  mp_waiters_wake_all (&self->getters);
  return TRUE;
}

static gboolean
queue_get_wire (QueueReferent *self,
                MpCall        *call,
                gboolean       block,
                gint64         deadline,
                GVariant     **result,
                GError       **error)
{
  while (self->items.length == 0)
    {
      if (!block || mp_deadline_passed (deadline))
        {
          mp_set_error (error, MP_ERROR_EMPTY, "the queue is empty");
          return FALSE;
        }
      if (!mp_call_wait_queued (call, &self->parent.mutex, &self->getters, deadline, error))
        return FALSE;
    }
  *result = g_queue_pop_head (&self->items);
  mp_call_release (call, *result);
  mp_waiters_wake_all (&self->putters);
  return TRUE;
}

static gboolean
queue_put (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean block;
  gint64 deadline;

  return mp_referent_args_count (args, "Queue.put()", 1, 3, error) &&
         mp_referent_arg_bool_or (args, 1, TRUE, "Queue.put()", &block, error) &&
         mp_referent_arg_deadline (args, 2, "Queue.put()", &deadline, error) &&
         queue_put_wire (QUEUE (self), call, args, block, deadline, error);
}

static gboolean
queue_put_nowait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return mp_referent_args_count (args, "Queue.put_nowait()", 1, 1, error) &&
         queue_put_wire (QUEUE (self), call, args, FALSE, -1, error);
}

static gboolean
queue_get (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  gboolean block;
  gint64 deadline;

  return mp_referent_args_count (args, "Queue.get()", 0, 2, error) &&
         mp_referent_arg_bool_or (args, 0, TRUE, "Queue.get()", &block, error) &&
         mp_referent_arg_deadline (args, 1, "Queue.get()", &deadline, error) &&
         queue_get_wire (QUEUE (self), call, block, deadline, result, error);
}

static gboolean
queue_get_nowait (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  return mp_referent_args_count (args, "Queue.get_nowait()", 0, 0, error) &&
         queue_get_wire (QUEUE (self), call, FALSE, -1, result, error);
}

static gboolean
queue_qsize (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Queue.qsize()", 0, 0, error))
    return FALSE;
  *result = mp_wire_int (QUEUE (self)->items.length);
  return TRUE;
}

static gboolean
queue_empty (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Queue.empty()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (QUEUE (self)->items.length == 0);
  return TRUE;
}

static gboolean
queue_full (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Queue.full()", 0, 0, error))
    return FALSE;
  *result = mp_wire_bool (queue_is_full (QUEUE (self)));
  return TRUE;
}

static gboolean
queue_task_done (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  QueueReferent *queue = QUEUE (self);

  if (!mp_referent_args_count (args, "Queue.task_done()", 0, 0, error))
    return FALSE;
  if (queue->unfinished <= 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "task_done() called too many times (Python: ValueError)");
      return FALSE;
    }
  if (--queue->unfinished == 0)
    mp_waiters_wake_all (&queue->joiners);
  return TRUE;
}

static gboolean
queue_join (MpReferent *self, MpCall *call, MpArgv   *args, GVariant **result, GError **error)
{
  if (!mp_referent_args_count (args, "Queue.join()", 0, 0, error))
    return FALSE;
  while (QUEUE (self)->unfinished > 0)
    if (!mp_call_wait_queued (call, &self->mutex, &QUEUE (self)->joiners, -1, error))
      return FALSE;
  return TRUE;
}

static const MpReferentMethod queue_methods[] = {
  { "empty", queue_empty },
  { "full", queue_full },
  { "get", queue_get },
  { "get_nowait", queue_get_nowait },
  { "join", queue_join },
  { "put", queue_put },
  { "put_nowait", queue_put_nowait },
  { "qsize", queue_qsize },
  { "task_done", queue_task_done },
  { NULL, NULL }
};

const MpReferentClass mp_referent_queue_class = {
  .typeid = "Queue",
  .instance_size = sizeof (QueueReferent),
  .methods = queue_methods,
  .init = queue_init,
  .finalize = queue_finalize,
};
