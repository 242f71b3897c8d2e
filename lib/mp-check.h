/* mp-check.h — find the catalog's pitfalls in Python source, before it runs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib.h>
#include "mp-catalog.h"
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MP_CHECK_MAX_SOURCE:
 *
 * The largest Python source mp_check_source() reads, in bytes: ten times
 * the largest module of CPython's standard library, small enough that the
 * syntax tree of a wrong file (a data dump, a generated table) stays a few
 * hundred megabytes at most.
 *
 * Since: 0.1
 */
#define MP_CHECK_MAX_SOURCE (2 * 1024 * 1024)

/**
 * MP_CHECK_MAX_DEPTH:
 *
 * The deepest syntax tree accepted: far deeper than code a person writes,
 * shallow enough that no recursion (Python's or ours) runs out of stack.
 *
 * Since: 0.1
 */
#define MP_CHECK_MAX_DEPTH 120

/**
 * MpCheckFinding:
 * @entry: the catalog entry of the pitfall
 * @file: the file name as given
 * @line: 1-based line of the offending code
 * @column: 1-based column, in characters
 * @end_line: last line of the offending code
 * @end_column: 1-based column just past its end, in characters
 * @message: what happens here, one sentence naming the names involved
 * @fix: the fix, one sentence
 * @evidence: the source line, trimmed
 *
 * One pitfall found in Python source.
 *
 * Since: 0.1
 */
typedef struct {
  const MpCatalogEntry *entry;
  char                 *file;
  guint                 line;
  guint                 column;
  guint                 end_line;
  guint                 end_column;
  char                 *message;
  const char           *fix;
  char                 *evidence;
} MpCheckFinding;

/**
 * MpCheckResult:
 * @file: the file name as given
 * @findings: (nullable) (element-type MpCheckFinding): its findings, in
 *   source order; %NULL when it could not be checked
 * @error: (nullable): why it could not be checked
 *
 * What mp_check_sources() found in one file.
 *
 * Since: 0.1
 */
typedef struct {
  char      *file;
  GPtrArray *findings;
  GError    *error;
} MpCheckResult;

MP_AVAILABLE_IN_ALL
char       *mp_check_find_python      (void);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_check_sources          (const char        *python,
                                       const char *const *files,
                                       GBytes     *const *sources,
                                       guint              n_files,
                                       GError           **error);
MP_AVAILABLE_IN_ALL
GPtrArray  *mp_check_source           (const char      *python,
                                       const char      *file,
                                       const char      *source,
                                       gsize            length,
                                       GError         **error);
MP_AVAILABLE_IN_ALL
char       *mp_check_finding_to_json  (const MpCheckFinding *finding);
MP_AVAILABLE_IN_ALL
void        mp_check_finding_free     (MpCheckFinding *finding);
MP_AVAILABLE_IN_ALL
void        mp_check_result_free      (MpCheckResult  *result);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpCheckFinding, mp_check_finding_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpCheckResult, mp_check_result_free)

G_END_DECLS
