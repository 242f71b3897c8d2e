/* mp-trace.h — the cross-process trace recorder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib.h>
#include <json-glib/json-glib.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/*
 * One process-wide recorder, off by default. Once started, every layer of
 * the library reports to it (process life, lock waits and holds, watched
 * Value/Array reads and writes, proxy calls, pool events, errors), in this
 * process and in every process it starts afterwards: fork and spawn
 * children, pool workers, the manager's server process. mp_trace_stop()
 * gathers all of it into one Chrome trace-event JSON document (what
 * Perfetto UI and chrome://tracing open). The environment variable
 * MP_TRACE=FILE.json switches it on for any program built on mpshare, from
 * library start to exit. docs/trace.md lists the events and the format.
 *
 * A spawned child finds the running trace in MP_TRACE_DIR and the watched
 * objects in MP_TRACE_WATCH: the library sets both for its children;
 * they are not for users to set.
 */

/**
 * MP_TRACE_ENV:
 *
 * The environment variable that switches the recorder on at library start;
 * its value is the path of the JSON file written at exit.
 *
 * Since: 0.1
 */
#define MP_TRACE_ENV "MP_TRACE"

MP_AVAILABLE_IN_ALL
gboolean   mp_trace_start     (const char  *path,
                               GError     **error);
MP_AVAILABLE_IN_ALL
JsonNode  *mp_trace_stop      (GError     **error);
MP_AVAILABLE_IN_ALL
gboolean   mp_trace_is_active (void);
MP_AVAILABLE_IN_ALL
void       mp_trace_set_role  (const char  *role);
MP_AVAILABLE_IN_ALL
void       mp_trace_watch     (gpointer     shared_object,
                               const char  *name);

G_END_DECLS
