/* mp-check-private.h — the analysis half of mp_check_sources(), for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "mp-check.h"

G_BEGIN_DECLS

/* The analysis: every finding in @tree, parsed from @source, sorted by
 * line and column, lines silenced by `# mpshare: ignore[ID]` left out. */
GPtrArray *mp_check_tree  (const char  *file,
                           const char  *source,
                           JsonNode    *tree);

G_END_DECLS
