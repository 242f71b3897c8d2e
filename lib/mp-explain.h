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
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MP_EXPLAIN_MAX_TEXT:
 *
 * The largest text mp_explain() accepts, in bytes: far more than any
 * traceback, small enough to be answered in well under a second (the
 * time is linear in the length; tests/bench/explain-bench measures it).
 * `mpshare explain` examines the two ends of a longer input.
 *
 * Since: 0.1
 */
#define MP_EXPLAIN_MAX_TEXT (8 * 1024 * 1024)

/**
 * MpExplainKind:
 * @MP_EXPLAIN_TAG: an mpshare message names the pitfall (`[pitfall ID]`).
 * @MP_EXPLAIN_ID: the text names the pitfall's id as a word.
 * @MP_EXPLAIN_MESSAGE: words of Python's (or mpshare's) error message, a
 *   rule of the catalog.
 * @MP_EXPLAIN_DESCRIPTION: a description of what goes wrong, in words
 *   (a total too small, results in the wrong order, a change that does
 *   not stick), with multiprocessing named in it.
 * @MP_EXPLAIN_TEST_FAILURE: a failing test (pytest, unittest) whose
 *   report shows the cause (`.value +=`, `as_completed`, an element of a
 *   manager list being changed).
 * @MP_EXPLAIN_CHECK: a program's own check of its result, the measured
 *   value beside the expected one, in the shape the pitfall gives: a
 *   count smaller than expected, every expected item in another order, a
 *   field of a list's element (or work done by workers) that kept its old
 *   value. The numbers are the evidence; multiprocessing need not be in
 *   sight (a program without it that fails the same way is named too).
 *
 * What kind of evidence a match rests on.
 *
 * Since: 0.1
 */
typedef enum {
  MP_EXPLAIN_TAG,
  MP_EXPLAIN_ID,
  MP_EXPLAIN_MESSAGE,
  MP_EXPLAIN_DESCRIPTION,
  MP_EXPLAIN_TEST_FAILURE,
  MP_EXPLAIN_CHECK,
} MpExplainKind;

/**
 * MpExplainLine:
 * @number: the line's number in the text, from 1 (lines as a terminal
 *   shows them: a lone CR ends a line too)
 * @text: the line, trimmed and printable as #MpExplainMatch's @evidence
 *
 * One line of the text that a match used.
 *
 * Since: 0.1
 */
typedef struct {
  gsize  number;
  char  *text;
} MpExplainLine;

/**
 * MpExplainMatch:
 * @entry: the catalog entry of the matched pitfall
 * @offset: byte offset in the text of the evidence
 * @evidence: the line of the text that matched, trimmed, valid UTF-8, as
 *   a terminal would show it: escape sequences (colours, cursor moves,
 *   titles) left out, other control characters written as `\xNN` or
 *   `\uNNNN`, so it is safe to print
 * @tagged: %TRUE when an mpshare message named the pitfall itself
 *   (`[pitfall ID]`), the same as @kind being %MP_EXPLAIN_TAG
 * @kind: what kind of evidence the match rests on
 * @reason: one sentence saying which evidence was used, e.g. `Python's
 *   words "cannot pickle '", with multiprocessing in sight ("pool")`
 * @lines: (element-type MpExplainLine): every line of the text the match
 *   used, in text order (what `mpshare explain --why` shows)
 *
 * One pitfall found in a text, with the evidence that gave it away.
 *
 * Since: 0.1
 */
typedef struct {
  const MpCatalogEntry *entry;
  gsize                 offset;
  char                 *evidence;
  gboolean              tagged;
  MpExplainKind         kind;
  char                 *reason;
  GPtrArray            *lines;
} MpExplainMatch;

/**
 * MpExplainReport:
 * @matches: (element-type MpExplainMatch): the pitfalls, best first, as
 *   mp_explain() returns them
 * @general: (element-type MpExplainMatch): rules whose words occur but
 *   which need multiprocessing in sight, and the text shows none: the
 *   text looks like a general pickling or copying problem, not one of
 *   the pitfalls; in text order, each pitfall once
 * @length: the length of the text in bytes
 * @escapes: how many escape sequences of the text were left out
 *
 * Everything mp_explain_report() found in a text.
 *
 * Since: 0.1
 */
typedef struct {
  GPtrArray *matches;
  GPtrArray *general;
  gsize      length;
  guint      escapes;
} MpExplainReport;

MP_AVAILABLE_IN_ALL
GPtrArray       *mp_explain              (const char      *text,
                                          gssize           length,
                                          GError         **error);
MP_AVAILABLE_IN_ALL
MpExplainReport *mp_explain_report       (const char      *text,
                                          gssize           length,
                                          GError         **error);
MP_AVAILABLE_IN_ALL
char           **mp_explain_ids          (const char      *text,
                                          gssize           length,
                                          GError         **error);
MP_AVAILABLE_IN_ALL
const char      *mp_explain_kind_to_string (MpExplainKind  kind);
MP_AVAILABLE_IN_ALL
void             mp_explain_match_free   (MpExplainMatch  *match);
MP_AVAILABLE_IN_ALL
void             mp_explain_report_free  (MpExplainReport *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpExplainMatch, mp_explain_match_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpExplainReport, mp_explain_report_free)

G_END_DECLS
