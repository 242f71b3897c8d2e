/* mp-deadline-private.h — timeouts become deadlines, one way everywhere
 *
 * A timeout is in microseconds, negative for none; a deadline is a time
 * of g_get_monotonic_time(), -1 for none. A timeout so long that the
 * clock would overflow before it ran out never runs out either: no
 * deadline, rather than a sum that overflows (a peer may send any
 * timeout at all).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

static inline gint64
mp_deadline_from_timeout (gint64 timeout_us)
{
  gint64 now;

  if (timeout_us < 0)
    return -1;
  now = g_get_monotonic_time ();
  return timeout_us > G_MAXINT64 - now ? -1 : now + timeout_us;
}

static inline gboolean
mp_deadline_passed (gint64 deadline)
{
  return deadline >= 0 && g_get_monotonic_time () >= deadline;
}

/* Time left until @deadline (-1: none), rounded up to whole milliseconds
 * because poll() counts in those: rounding down would wake early and
 * spin. */
static inline gint64
mp_deadline_remaining_us (gint64 deadline)
{
  gint64 left;

  if (deadline < 0)
    return -1;
  left = deadline - g_get_monotonic_time ();
  if (left <= 0)
    return 0;
  return (left + 999) / 1000 * 1000;
}

G_END_DECLS
