/* mp-gate-private.h — the handshake gate: peers wait here until they
 * prove they hold the key
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* At most this many peers may be in the handshake at once; a new one
 * pushes out the oldest of the peer address that holds the most, so idle
 * connections cost at most this many descriptors and crowd out nobody
 * but their own kind (see docs/models.md). */
#define MP_GATE_MAX_PENDING 32

/* A peer has this long (3 s) from its connect to finish the handshake. */
#define MP_GATE_HANDSHAKE_TIMEOUT (3 * G_USEC_PER_SEC)

/* After a wrong key, the answers of the same peer address wait this long
 * (100 ms) before they are checked: at most ten guesses a second. */
#define MP_GATE_WRONG_KEY_PAUSE (100 * 1000)

/* How long accept() rests when the process is out of descriptors and
 * cannot even refuse a peer in words (100 ms). */
#define MP_GATE_EMFILE_BACKOFF (100 * 1000)

/* "Out of descriptors" is said once a minute at most. */
#define MP_GATE_WARN_INTERVAL (60 * G_USEC_PER_SEC)

typedef struct _MpGate MpGate;

MpGate       *mp_gate_new             (MpListener *listener);
void          mp_gate_free            (MpGate     *self);
MpConnection *mp_gate_accept          (MpGate     *self,
                                       GError    **error);
guint         mp_gate_get_n_pending   (MpGate     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpGate, mp_gate_free)

G_END_DECLS
