/* mp-catalog.h — the pitfall catalog and the worked samples, as data
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
 * MpCatalogKind:
 * @MP_CATALOG_PITFALL: a classic mistake, reproduced and fixed by its demo.
 * @MP_CATALOG_SAMPLE: a worked sample of the article, run by its demo.
 *
 * Since: 0.1
 */
typedef enum {
  MP_CATALOG_PITFALL,
  MP_CATALOG_SAMPLE,
} MpCatalogKind;

/**
 * MpCatalogRuleFlags:
 * @MP_CATALOG_RULE_PLAIN: the needle names the pitfall wherever it occurs.
 * @MP_CATALOG_RULE_NEEDS_MP: the needle also occurs outside
 *   multiprocessing (pickle, copy, threads): it counts only when the text
 *   shows multiprocessing too (a frame of `multiprocessing/` or
 *   `concurrent/futures/process.py`, a pool, a manager, a process).
 *
 * How far a rule's needle can be trusted on its own.
 *
 * Since: 0.1
 */
typedef enum {
  MP_CATALOG_RULE_PLAIN = 0,
  MP_CATALOG_RULE_NEEDS_MP = 1 << 0,
} MpCatalogRuleFlags;

/**
 * MpCatalogRule:
 * @needle: text whose presence names the pitfall (compared ignoring ASCII
 *   case), e.g. a key phrase of Python's message.
 * @context: up to two texts that must all appear in the same exception
 *   block (one traceback between chain separators) for @needle to count,
 *   e.g. `managers.py` and `connection.py` for a bare `BrokenPipeError`;
 *   unused slots are %NULL.
 * @flags: #MpCatalogRuleFlags; 0 (%MP_CATALOG_RULE_PLAIN) when left out
 *   of an initializer.
 *
 * One "explain" rule: how to recognise a pitfall in an error text.
 *
 * Since: 0.1
 */
typedef struct {
  const char         *needle;
  const char         *context[2];
  MpCatalogRuleFlags  flags;
} MpCatalogRule;

/**
 * MpCatalogEntry:
 * @id: the stable id, e.g. "closed-manager"; also the demo's name.
 * @kind: pitfall or worked sample.
 * @summary: one line (at most 54 characters, so `mpshare list` fits 80
 *   columns), lower case, no full stop.
 * @demo: the name of the demo binary.
 * @cause: why it happens, a short paragraph.
 * @fix: how to fix it, a short paragraph.
 * @fix_short: (nullable): the fix in one sentence, in mpshare's terms,
 *   lower case, no full stop: the "Fix:" of every error of this pitfall's
 *   #MpError code. %NULL for a silent pitfall (no error reports it) and
 *   for a sample.
 * @fix_python: (nullable): the fix in Python's terms, one line of at most
 *   70 characters (it follows "    fix:  " in `mpshare check`'s output).
 *   %NULL for a sample.
 * @python: (nullable): the key words of Python's message, %NULL for a
 *   silent pitfall or a sample.
 * @rules: the explain rules, ended by a rule whose needle is %NULL;
 *   empty for a sample.
 *
 * One row of the catalog, the one source of a pitfall's prose: errors
 * (mp-error.c), `mpshare check` and the summary block of each page in
 * `docs/` are taken from it or checked against it. All strings are
 * static.
 *
 * Since: 0.1
 */
typedef struct {
  const char          *id;
  MpCatalogKind        kind;
  const char          *summary;
  const char          *demo;
  const char          *cause;
  const char          *fix;
  const char          *fix_short;
  const char          *fix_python;
  const char          *python;
  const MpCatalogRule *rules;
} MpCatalogEntry;

MP_AVAILABLE_IN_ALL
const MpCatalogEntry *mp_catalog_get_entries (gsize         *n_entries);
MP_AVAILABLE_IN_ALL
const MpCatalogEntry *mp_catalog_lookup      (const char    *id,
                                              GError       **error);
MP_AVAILABLE_IN_ALL
char                 *mp_catalog_dup_ids     (const char    *separator);
MP_AVAILABLE_IN_ALL
const char           *mp_catalog_kind_to_string (MpCatalogKind kind);

G_END_DECLS
