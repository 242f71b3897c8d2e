/* mp-check-private.h — the two halves of mp_check_source(), for the tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "mp-check.h"

G_BEGIN_DECLS

/* Python's own parser, run in @python: the syntax tree of @source as JSON
 * (one object per node: "_" its type, "@" [line, col, end line, end col]
 * with columns in UTF-8 bytes, then its fields), or %NULL and an
 * MP_ERROR_INVALID_ARGUMENT naming @file and the line of a syntax error. */
JsonNode  *mp_check_parse (const char  *python,
                           const char  *file,
                           const char  *source,
                           gsize        length,
                           GError     **error);

/* The analysis: every finding in @tree, parsed from @source, sorted by
 * line and column, lines silenced by `# mpshare: ignore[ID]` left out. */
GPtrArray *mp_check_tree  (const char  *file,
                           const char  *source,
                           JsonNode    *tree);

G_END_DECLS
