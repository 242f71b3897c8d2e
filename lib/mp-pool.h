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

G_BEGIN_DECLS

#define MP_TYPE_FUTURE (mp_future_get_type ())
G_DECLARE_FINAL_TYPE (MpFuture, mp_future, MP, FUTURE, GObject)

#define MP_TYPE_POOL (mp_pool_get_type ())
G_DECLARE_FINAL_TYPE (MpPool, mp_pool, MP, POOL, GObject)

MpPool     *mp_pool_new          (guint          max_workers,
                                  GError       **error);
MpPool     *mp_pool_new_full     (guint          max_workers,
                                  MpStartMethod  method,
                                  const char    *initializer,
                                  MpArgs        *initargs,
                                  GError       **error);
guint       mp_pool_get_max_workers (MpPool     *self);
MpFuture   *mp_pool_submit       (MpPool        *self,
                                  const char    *task,
                                  MpArgs        *args,
                                  GError       **error);
GPtrArray  *mp_pool_map          (MpPool        *self,
                                  const char    *task,
                                  GPtrArray     *args_list,
                                  gint64         timeout_us,
                                  GError       **error);
void        mp_pool_shutdown     (MpPool        *self,
                                  gboolean       wait);
gboolean    mp_pool_is_broken    (MpPool        *self);

gboolean    mp_future_done       (MpFuture      *self);
gboolean    mp_future_result     (MpFuture      *self,
                                  gint64         timeout_us,
                                  GValue        *result,
                                  GError       **error);
guint       mp_future_get_index  (MpFuture      *self);

typedef struct _MpAsCompleted MpAsCompleted;
MpAsCompleted *mp_as_completed_new  (GPtrArray     *futures);
MpFuture      *mp_as_completed_next (MpAsCompleted *self,
                                     gint64         timeout_us,
                                     GError       **error);
void           mp_as_completed_free (MpAsCompleted *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpAsCompleted, mp_as_completed_free)

G_END_DECLS
