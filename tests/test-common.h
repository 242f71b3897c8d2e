/* test-common.h — what several suites share: forked children, forged
 * wire values, captured tracebacks, the output of a child program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <sys/types.h>

#include <gio/gio.h>

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

/* Reads @child's stdout to its end and waits for it: returns the output
 * (free it) and sets @exit_status (128 + the signal when one ended it).
 * A child still running after @backstop_s seconds is killed and the test
 * fails; @what names it in that message. */
char     *test_communicate      (GSubprocess *child,
                                 const char  *what,
                                 guint        backstop_s,
                                 int         *exit_status);

/* Fails the test for each line of @output wider than 80 columns (colour
 * sequences take none; a character is a column), naming @what. */
void      test_assert_fits      (const char  *output,
                                 const char  *what);

G_END_DECLS
