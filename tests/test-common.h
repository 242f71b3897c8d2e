/* test-common.h — what several suites share: forked children, forged
 * wire values, captured tracebacks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/types.h>

#include "mpshare.h"

G_BEGIN_DECLS

/* fork(), asserting it worked. */
pid_t     test_fork             (void);

/* Ends a forked child (see test-common.c for why not plain _exit()). */
G_GNUC_NORETURN
void      test_child_exit       (int code);

/* Waits for @pid; returns its exit status, a signal is a failure. */
int       test_reap             (pid_t pid);

/* Deserializing `(type_name, state)` fails with @code. */
void      test_assert_forged_refused (const char *type_name,
                                      GVariant   *state,
                                      gint        code);

/* The text of tests/data/@version/@name.txt (free it). */
char     *test_read_capture     (const char *version,
                                 const char *name);

G_END_DECLS
