/* mp-context.h — a start method chosen per call (Python's get_context())
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include "mp-process.h"
#include "mp-pool.h"
#include "mp-manager.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MpContext:
 *
 * A start method held by value, as Python's `get_context("spawn")`: the
 * processes, pools and managers made through it start with its method,
 * whatever the process-wide one (mp_set_start_method()) is. Contexts are
 * static: never freed, valid in every thread.
 *
 * Since: 0.1
 */
typedef struct _MpContext MpContext;

MP_AVAILABLE_IN_ALL
MpContext     *mp_get_context               (MpStartMethod  method);
MP_AVAILABLE_IN_ALL
MpStartMethod  mp_context_get_start_method  (const MpContext *self);
MP_AVAILABLE_IN_ALL
MpProcess     *mp_context_process_new       (const MpContext *self,
                                             const char     *task,
                                             MpArgs         *args);
MP_AVAILABLE_IN_ALL
MpPool        *mp_context_pool_new          (const MpContext *self,
                                             guint           max_workers,
                                             const char     *initializer,
                                             MpArgs         *initargs,
                                             GError        **error);
MP_AVAILABLE_IN_ALL
MpManager     *mp_context_manager_new       (const MpContext *self,
                                             const char     *address,
                                             GBytes         *authkey);

G_END_DECLS
