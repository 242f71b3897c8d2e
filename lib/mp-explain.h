/* mp-explain.h — name the pitfall behind an error message or a traceback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib.h>
#include "mp-catalog.h"

G_BEGIN_DECLS

/**
 * MP_EXPLAIN_MAX_TEXT:
 *
 * The largest text mp_explain() accepts, in bytes: far more than any
 * traceback, small enough to be answered in well under a second (the
 * time is linear in the length; tests/bench/explain-bench measures it).
 * `mpshare explain` examines the two ends of a longer input.
 */
#define MP_EXPLAIN_MAX_TEXT (8 * 1024 * 1024)

/**
 * MpExplainMatch:
 * @entry: the catalog entry of the matched pitfall
 * @offset: byte offset in the text of the evidence
 * @evidence: the line of the text that matched, trimmed, valid UTF-8, as
 *   a terminal would show it: escape sequences (colours, cursor moves,
 *   titles) left out, other control characters written as `\xNN` or
 *   `\uNNNN`, so it is safe to print
 * @tagged: %TRUE when an mpshare message named the pitfall itself
 *   (`[pitfall ID]`)
 *
 * One pitfall found in a text, with the line that gave it away.
 */
typedef struct {
  const MpCatalogEntry *entry;
  gsize                 offset;
  char                 *evidence;
  gboolean              tagged;
} MpExplainMatch;

GPtrArray  *mp_explain            (const char     *text,
                                   gssize          length,
                                   GError        **error);
char      **mp_explain_ids        (const char     *text,
                                   gssize          length,
                                   GError        **error);
void        mp_explain_match_free (MpExplainMatch *match);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpExplainMatch, mp_explain_match_free)

G_END_DECLS
