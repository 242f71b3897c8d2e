/* mp-visibility.h — what the shared library exports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

/* The library is built with -fvisibility=hidden: only declarations marked
 * with MP_AVAILABLE_IN_ALL (every one in the public headers, none in the
 * *-private.h ones) are exported, as GLib does with GLIB_AVAILABLE_IN_ALL.
 * tests/abi-symbols.py checks the two lists against each other. */
#if defined(__GNUC__) || defined(__clang__)
#define _MP_EXPORT __attribute__((visibility ("default")))
#else
#define _MP_EXPORT
#endif

#define _MP_EXTERN _MP_EXPORT extern

/**
 * MP_AVAILABLE_IN_ALL:
 *
 * Marks a public function (or variable) of mpshare: exported from the
 * shared library and part of its API since the first release.
 *
 * Since: 0.1
 */
#define MP_AVAILABLE_IN_ALL _MP_EXTERN
