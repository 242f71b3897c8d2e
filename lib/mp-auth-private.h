/* mp-auth-private.h — the handshake messages
 *
 * Pure functions over buffers, so tests and the fuzzer can feed them any
 * bytes without a socket.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* Handshake messages are tiny; a peer that has not proved it holds the key
 * may make us allocate no more than this (CPython uses the same bound). */
#define MP_AUTH_MAX_MESSAGE 256
#define MP_AUTH_NONCE_SIZE 40
#define MP_AUTH_MIN_NONCE_SIZE 20

#define MP_AUTH_CHALLENGE "#CHALLENGE#"
#define MP_AUTH_WELCOME   "#WELCOME#"
#define MP_AUTH_FAILURE   "#FAILURE#"
/* sent instead of a handshake message by a live server that turns a
 * peer away, followed by the reason in words (not in CPython: its
 * clients see a failed handshake) */
#define MP_AUTH_REFUSED   "#REFUSED#"
#define MP_AUTH_DIGEST    "{sha256}"

gboolean mp_auth_check_key               (GBytes         *authkey,
                                          GError        **error);
GBytes  *mp_auth_make_challenge          (GError        **error);
GBytes  *mp_auth_make_response           (GBytes         *authkey,
                                          GBytes         *challenge,
                                          GError        **error);
gboolean mp_auth_verify_response         (GBytes         *authkey,
                                          GBytes         *challenge,
                                          GBytes         *response,
                                          GError        **error);

G_END_DECLS
