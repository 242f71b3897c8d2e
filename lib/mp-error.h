/* mp-error.h — the one error domain of mpshare
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
 * MP_ERROR:
 *
 * Error domain of mpshare. Errors in this domain are from the #MpError
 * enumeration. Every message says what happened, names the pitfall id of
 * the catalog (see docs/pitfalls/) and the fix in one sentence.
 *
 * Since: 0.1
 */
#define MP_ERROR (mp_error_quark ())

/**
 * MpError:
 * @MP_ERROR_FAILED: generic failure (an OS call failed; the message names it).
 * @MP_ERROR_INVALID_ARGUMENT: bad input from the caller.
 * @MP_ERROR_INHERITANCE_ONLY: a synchronized shared object was serialized
 *   outside process start (pitfall `inheritance-only`).
 * @MP_ERROR_MANAGER_CLOSED: a proxy was used after its manager went away
 *   (pitfall `closed-manager`).
 * @MP_ERROR_UNSERIALIZABLE: a value cannot cross a process boundary
 *   (pitfall `unserializable-handle`).
 * @MP_ERROR_AUTH_KEY_REFUSED: the manager (which holds the auth key) was
 *   serialized (pitfall `manager-as-argument`).
 * @MP_ERROR_BOOTSTRAPPING: a spawned child started a process before it
 *   finished bootstrapping (pitfall `missing-main-guard`).
 * @MP_ERROR_REMOTE: an operation failed inside the manager server; the
 *   message carries the remote code and message.
 * @MP_ERROR_TIMEOUT: a wait ran out of time.
 * @MP_ERROR_BROKEN_BARRIER: a barrier was aborted or reset while waiting.
 * @MP_ERROR_EMPTY: get from an empty queue.
 * @MP_ERROR_FULL: put into a full queue.
 * @MP_ERROR_INDEX: an index out of range.
 * @MP_ERROR_KEY: a missing key or attribute.
 * @MP_ERROR_AUTH_FAILED: the HMAC challenge failed (wrong auth key).
 * @MP_ERROR_PROCESS_FAILED: a process could not be started or failed.
 * @MP_ERROR_BROKEN_POOL: a pool worker died (pitfall `broken-pool`).
 * @MP_ERROR_LOCAL_FUNCTION: a task that cannot travel to another process
 *   (pitfall `local-function`).
 * @MP_ERROR_NO_LOCK: asked for the lock of an object created without one
 *   (pitfall `lock-false`).
 * @MP_ERROR_OWNER_DIED: the holder of a process-shared lock died holding it.
 * @MP_ERROR_PROTOCOL: malformed bytes from a peer (frame or message).
 * @MP_ERROR_NOT_EXPOSED: a method not exposed by a manager type.
 * @MP_ERROR_CONNECTION_CLOSED: the peer of a connection is gone (end of
 *   stream, reset, broken pipe, nothing listening) or the connection was
 *   closed; the manager layer reports it as %MP_ERROR_MANAGER_CLOSED.
 * @MP_ERROR_REFUSED: a live server turned the connection away before or
 *   right after the handshake: too many peers waiting for the handshake,
 *   out of descriptors or threads, or a handshake too slow; the message
 *   says which. Trying again later may succeed.
 *
 * Error codes of the %MP_ERROR domain. The list only grows.
 *
 * Since: 0.1
 */
typedef enum {
  MP_ERROR_FAILED = 0,
  MP_ERROR_INVALID_ARGUMENT,
  MP_ERROR_INHERITANCE_ONLY,
  MP_ERROR_MANAGER_CLOSED,
  MP_ERROR_UNSERIALIZABLE,
  MP_ERROR_AUTH_KEY_REFUSED,
  MP_ERROR_BOOTSTRAPPING,
  MP_ERROR_REMOTE,
  MP_ERROR_TIMEOUT,
  MP_ERROR_BROKEN_BARRIER,
  MP_ERROR_EMPTY,
  MP_ERROR_FULL,
  MP_ERROR_INDEX,
  MP_ERROR_KEY,
  MP_ERROR_AUTH_FAILED,
  MP_ERROR_PROCESS_FAILED,
  MP_ERROR_BROKEN_POOL,
  MP_ERROR_LOCAL_FUNCTION,
  MP_ERROR_NO_LOCK,
  MP_ERROR_OWNER_DIED,
  MP_ERROR_PROTOCOL,
  MP_ERROR_NOT_EXPOSED,
  MP_ERROR_CONNECTION_CLOSED,
  MP_ERROR_REFUSED,
} MpError;

/**
 * MP_ERROR_N_CODES:
 *
 * The number of #MpError codes (one more than the last).
 *
 * Since: 0.1
 */
#define MP_ERROR_N_CODES (MP_ERROR_REFUSED + 1)

MP_AVAILABLE_IN_ALL
GQuark       mp_error_quark        (void);

MP_AVAILABLE_IN_ALL
const char  *mp_error_code_name    (MpError code);
MP_AVAILABLE_IN_ALL
const char  *mp_error_pitfall_id   (MpError code);
MP_AVAILABLE_IN_ALL
const char  *mp_error_python_words (MpError code);
MP_AVAILABLE_IN_ALL
const char  *mp_error_fix          (MpError code);

MP_AVAILABLE_IN_ALL
void         mp_set_error          (GError    **error,
                                    MpError     code,
                                    const char *format,
                                    ...) G_GNUC_PRINTF (3, 4);
MP_AVAILABLE_IN_ALL
MpError      mp_error_from_errno   (int         err_no);
MP_AVAILABLE_IN_ALL
gboolean     mp_set_error_from_errno (GError   **error,
                                      int        err_no,
                                      const char *format,
                                      ...) G_GNUC_PRINTF (3, 4);

G_END_DECLS
