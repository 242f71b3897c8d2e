/* mp-forkserver.h — the forkserver start method: preloads, stopping
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MpPreloadFunc:
 *
 * Work done once in the forkserver before it forks any child: the C
 * counterpart of a module Python's forkserver imports
 * (`set_forkserver_preload(["numpy"])`): tables built, files read,
 * libraries initialised, all inherited by every child it forks.
 *
 * Since: 0.1
 */
typedef void (*MpPreloadFunc) (void);

/**
 * MP_PRELOAD_DEFINE:
 * @name: a string literal, the "module" name
 * @func: an #MpPreloadFunc
 *
 * Registers @func under @name when the program loads, so the server (a
 * fresh run of the program) knows it too.
 *
 * Since: 0.1
 */
#define MP_PRELOAD_DEFINE(name, func) \
  __attribute__((constructor)) static void \
  G_PASTE (mp__preload_register_, __LINE__) (void) { mp_preload_register ((name), (func)); }

MP_AVAILABLE_IN_ALL
void      mp_preload_register        (const char         *name,
                                      MpPreloadFunc       func);
MP_AVAILABLE_IN_ALL
gboolean  mp_set_forkserver_preload  (const char * const *names,
                                      GError            **error);
MP_AVAILABLE_IN_ALL
GPid      mp_forkserver_get_pid      (void);
MP_AVAILABLE_IN_ALL
gboolean  mp_forkserver_stop         (GError            **error);

G_END_DECLS
