/* mp-timeline.h — a recorded trace shown in a terminal: the swimlane of
 * what each process did, and a summary per process
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

/**
 * MP_TIMELINE_MAX_FILE_SIZE:
 *
 * The largest trace file mp_timeline_load() reads, in bytes. json-glib
 * holds the whole document in memory, several times the size of the
 * text; a bound keeps a wrong or runaway file from eating the machine.
 * A demo's trace is a few hundred kilobytes. Larger traces open in
 * Perfetto (https://ui.perfetto.dev), which streams.
 *
 * Since: 0.1
 */
#define MP_TIMELINE_MAX_FILE_SIZE (32 * 1000 * 1000)

/**
 * MP_TIMELINE_MAX_LANES:
 *
 * The most processes a swimlane shows side by side and still fits 80
 * columns; the busiest ones are shown and the others named below it.
 *
 * Since: 0.1
 */
#define MP_TIMELINE_MAX_LANES 4

/**
 * MP_TIMELINE_WIDTH:
 *
 * The widest line mp_timeline_render() and mp_timeline_summary() write,
 * in columns (an 80-column terminal, its last column left free).
 *
 * Since: 0.1
 */
#define MP_TIMELINE_WIDTH 79

MP_AVAILABLE_IN_ALL
JsonNode *mp_timeline_load    (const char  *path,
                               GError     **error);
MP_AVAILABLE_IN_ALL
gboolean  mp_timeline_check   (JsonNode    *trace,
                               GError     **error);
MP_AVAILABLE_IN_ALL
char     *mp_timeline_render  (JsonNode    *trace,
                               guint        max_rows,
                               GError     **error);
MP_AVAILABLE_IN_ALL
char     *mp_timeline_summary (JsonNode    *trace,
                               GError     **error);

G_END_DECLS
