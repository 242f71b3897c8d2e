/* mp-pool.h — a worker pool / executor (ProcessPoolExecutor)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-process.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MpFuture:
 *
 * The pending result of a task submitted to an #MpPool (Python's
 * `concurrent.futures.Future`).
 *
 * Since: 0.1
 */
#define MP_TYPE_FUTURE (mp_future_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpFuture, mp_future, MP, FUTURE, GObject)

/**
 * MpPool:
 *
 * A pool of worker processes running registered tasks (Python's
 * `concurrent.futures.ProcessPoolExecutor`).
 *
 * Since: 0.1
 */
#define MP_TYPE_POOL (mp_pool_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpPool, mp_pool, MP, POOL, GObject)

MP_AVAILABLE_IN_ALL
MpPool     *mp_pool_new          (guint          max_workers,
                                  GError       **error);
MP_AVAILABLE_IN_ALL
MpPool     *mp_pool_new_full     (guint          max_workers,
                                  MpStartMethod  method,
                                  const char    *initializer,
                                  MpArgs        *initargs,
                                  GError       **error);
MP_AVAILABLE_IN_ALL
guint       mp_pool_get_max_workers (MpPool     *self);
MP_AVAILABLE_IN_ALL
MpFuture   *mp_pool_submit       (MpPool        *self,
                                  const char    *task,
                                  MpArgs        *args,
                                  GError       **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_pool_map          (MpPool        *self,
                                  const char    *task,
                                  GPtrArray     *args_list,
                                  gint64         timeout_us,
                                  GError       **error);
MP_AVAILABLE_IN_ALL
void        mp_pool_shutdown     (MpPool        *self,
                                  gboolean       wait);
MP_AVAILABLE_IN_ALL
gboolean    mp_pool_is_broken    (MpPool        *self);

MP_AVAILABLE_IN_ALL
gboolean    mp_future_done       (MpFuture      *self);
MP_AVAILABLE_IN_ALL
gboolean    mp_future_result     (MpFuture      *self,
                                  gint64         timeout_us,
                                  GValue        *result,
                                  GError       **error);
MP_AVAILABLE_IN_ALL
guint       mp_future_get_index  (MpFuture      *self);

/**
 * MpAsCompleted:
 *
 * Yields the futures of a list as they finish, in completion order, not
 * submission order (Python's `concurrent.futures.as_completed()`). A C
 * iterator: not available to language bindings.
 *
 * Since: 0.1
 */
typedef struct _MpAsCompleted MpAsCompleted;
MP_AVAILABLE_IN_ALL
MpAsCompleted *mp_as_completed_new  (GPtrArray     *futures);
MP_AVAILABLE_IN_ALL
MpFuture      *mp_as_completed_next (MpAsCompleted *self,
                                     gint64         timeout_us,
                                     GError       **error);
MP_AVAILABLE_IN_ALL
void           mp_as_completed_free (MpAsCompleted *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpAsCompleted, mp_as_completed_free)

G_END_DECLS
