/* mp-context.c — a start method chosen per call (Python's get_context())
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Python's contexts are objects with the whole multiprocessing API as
 * methods; here a context is only its method, and the constructors that
 * take one set it on what they make. mp_get_context (MP_START_DEFAULT) is
 * Python's get_context(None): the process-wide method, fixed by asking.
 */
#include "config.h"

#include "mpshare.h"

struct _MpContext
{
  MpStartMethod method;
};

static MpContext contexts[] = {
  { MP_START_DEFAULT },
  { MP_START_FORK },
  { MP_START_SPAWN },
  { MP_START_FORKSERVER },
};

/**
 * mp_get_context:
 * @method: a start method; %MP_START_DEFAULT for the process-wide one
 *
 * Python's `multiprocessing.get_context(method)`. A library that needs a
 * start method takes a context, and leaves mp_set_start_method() to the
 * program. With %MP_START_DEFAULT, the context of the process-wide method
 * (which that fixes, as mp_get_start_method() does).
 *
 * Returns: (transfer none): the context of @method, static
 *
 * Since: 0.1
 */
MpContext *
mp_get_context (MpStartMethod method)
{
  g_return_val_if_fail (MP_START_METHOD_IS_VALID (method), NULL);

  if (method == MP_START_DEFAULT)
    method = mp_get_start_method ();
  return &contexts[method];
}

/**
 * mp_context_get_start_method:
 * @self: a context
 *
 * Returns: its method: %MP_START_FORK, %MP_START_SPAWN or
 *   %MP_START_FORKSERVER
 *
 * Since: 0.1
 */
MpStartMethod
mp_context_get_start_method (const MpContext *self)
{
  g_return_val_if_fail (self != NULL, MP_START_DEFAULT);

  return self->method;
}

/**
 * mp_context_process_new:
 * @self: a context
 * @task: the name of a registered task
 * @args: (nullable): its arguments
 *
 * Python's `ctx.Process(target=..., args=...)`: mp_process_new() with the
 * context's start method.
 *
 * Returns: (transfer full): a new #MpProcess
 *
 * Since: 0.1
 */
MpProcess *
mp_context_process_new (const MpContext *self,
                        const char      *task,
                        MpArgs          *args)
{
  MpProcess *process;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (task != NULL, NULL);

  process = mp_process_new (task, args);
  mp_process_set_start_method (process, self->method);
  return process;
}

/**
 * mp_context_pool_new:
 * @self: a context
 * @max_workers: number of worker processes; 0 = number of CPUs
 * @initializer: (nullable): a registered task run once in each worker
 * @initargs: (nullable): its arguments
 * @error: return location for a #GError
 *
 * Python's `ctx.Pool(...)` / `ProcessPoolExecutor(mp_context=ctx)`:
 * mp_pool_new_full() with the context's start method.
 *
 * Returns: (transfer full) (nullable): a pool, or %NULL with @error set.
 *
 * Since: 0.1
 */
MpPool *
mp_context_pool_new (const MpContext *self,
                     guint            max_workers,
                     const char      *initializer,
                     MpArgs          *initargs,
                     GError         **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return mp_pool_new_full (max_workers, self->method, initializer, initargs, error);
}

/**
 * mp_context_manager_new:
 * @self: a context
 * @address: (nullable): as mp_manager_new()
 * @authkey: (nullable): as mp_manager_new()
 *
 * Python's `ctx.Manager()` before start: mp_manager_new() whose server
 * starts with the context's method.
 *
 * Returns: (transfer full): a new #MpManager, not started
 *
 * Since: 0.1
 */
MpManager *
mp_context_manager_new (const MpContext *self,
                        const char      *address,
                        GBytes          *authkey)
{
  MpManager *manager;

  g_return_val_if_fail (self != NULL, NULL);

  manager = mp_manager_new (address, authkey);
  mp_manager_set_start_method (manager, self->method);
  return manager;
}
