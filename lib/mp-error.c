/* mp-error.c — the one error domain of mpshare
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>

#include "mpshare.h"
#include "mp-trace-private.h"

/**
 * mp_error_quark:
 *
 * The quark of the %MP_ERROR domain.
 *
 * Returns: the quark
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (mp-error-quark, mp_error)

typedef struct {
  const char *name;
  const char *pitfall;      /* catalog id, NULL when the code is no pitfall */
  /* For a code that is no pitfall; a pitfall's words are its catalog
   * entry's (python, fix_short), so its prose is written once. */
  const char *python_words; /* the key words of Python's message, if famous */
  const char *fix;          /* one sentence, NULL when the caller knows best */
} MpErrorInfo;

/* One row per MpError, in enum order: messages stay consistent because
 * every error of a code is composed from the same row. */
static const MpErrorInfo error_info[MP_ERROR_N_CODES] = {
  [MP_ERROR_FAILED] = { "failed", NULL, NULL, NULL },
  [MP_ERROR_INVALID_ARGUMENT] = { "invalid-argument", NULL, NULL, NULL },
  [MP_ERROR_INHERITANCE_ONLY] = { "inheritance-only", "inheritance-only", NULL, NULL },
  [MP_ERROR_MANAGER_CLOSED] = { "manager-closed", "closed-manager", NULL, NULL },
  [MP_ERROR_UNSERIALIZABLE] = { "unserializable", "unserializable-handle", NULL, NULL },
  [MP_ERROR_AUTH_KEY_REFUSED] = { "auth-key-refused", "manager-as-argument", NULL, NULL },
  [MP_ERROR_BOOTSTRAPPING] = { "bootstrapping", "missing-main-guard", NULL, NULL },
  [MP_ERROR_REMOTE] = { "remote", NULL, NULL, NULL },
  [MP_ERROR_TIMEOUT] = { "timeout", NULL, NULL, NULL },
  [MP_ERROR_BROKEN_BARRIER] = {
    "broken-barrier", NULL, "BrokenBarrierError", "reset the barrier before using it again" },
  [MP_ERROR_EMPTY] = { "empty", NULL, "queue.Empty", NULL },
  [MP_ERROR_FULL] = { "full", NULL, "queue.Full", NULL },
  [MP_ERROR_INDEX] = { "index", NULL, "IndexError", NULL },
  [MP_ERROR_KEY] = { "key", NULL, "KeyError", NULL },
  [MP_ERROR_AUTH_FAILED] = {
    "auth-failed", NULL, "AuthenticationError: digest received was wrong",
    "connect with the auth key of the manager you are talking to" },
  [MP_ERROR_PROCESS_FAILED] = { "process-failed", NULL, NULL, NULL },
  [MP_ERROR_BROKEN_POOL] = { "broken-pool", "broken-pool", NULL, NULL },
  [MP_ERROR_LOCAL_FUNCTION] = { "local-function", "local-function", NULL, NULL },
  [MP_ERROR_NO_LOCK] = { "no-lock", "lock-false", NULL, NULL },
  [MP_ERROR_OWNER_DIED] = {
    "owner-died", NULL, NULL,
    "check the protected data for consistency; the lock is usable again" },
  [MP_ERROR_PROTOCOL] = { "protocol", NULL, NULL, NULL },
  [MP_ERROR_NOT_EXPOSED] = { "not-exposed", NULL, NULL, NULL },
  [MP_ERROR_CONNECTION_CLOSED] = { "connection-closed", NULL, NULL, NULL },
  [MP_ERROR_REFUSED] = {
    "refused", NULL, NULL,
    "the server is alive; try again later, and if it keeps refusing, look"
    " for peers holding connections to it without the key" },
};

static const MpErrorInfo *
info_for (MpError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_info))
    return &error_info[MP_ERROR_FAILED];
  return &error_info[code];
}

/* The catalog entry of a pitfall code, NULL for any other code. */
static const MpCatalogEntry *
pitfall_for (MpError code)
{
  const char *id = info_for (code)->pitfall;

  return id != NULL ? mp_catalog_lookup (id, NULL) : NULL;
}

/**
 * mp_error_code_name:
 * @code: an #MpError
 *
 * Returns: a short stable name for @code, e.g. "inheritance-only".
 *
 * Since: 0.1
 */
const char *
mp_error_code_name (MpError code)
{
  return info_for (code)->name;
}

/**
 * mp_error_pitfall_id:
 * @code: an #MpError
 *
 * Returns: (nullable): the catalog id of the pitfall behind @code, or %NULL.
 *
 * Since: 0.1
 */
const char *
mp_error_pitfall_id (MpError code)
{
  return info_for (code)->pitfall;
}

/**
 * mp_error_python_words:
 * @code: an #MpError
 *
 * Returns: (nullable): the key words of Python's message for the same
 *   failure, so a student recognizes it, or %NULL.
 *
 * Since: 0.1
 */
const char *
mp_error_python_words (MpError code)
{
  const MpCatalogEntry *entry = pitfall_for (code);

  return entry != NULL ? entry->python : info_for (code)->python_words;
}

/**
 * mp_error_fix:
 * @code: an #MpError
 *
 * Returns: (nullable): the fix in one sentence, or %NULL.
 *
 * Since: 0.1
 */
const char *
mp_error_fix (MpError code)
{
  const MpCatalogEntry *entry = pitfall_for (code);

  return entry != NULL ? entry->fix_short : info_for (code)->fix;
}

static void
set_error_valist (GError    **error,
                  MpError     code,
                  const char *format,
                  va_list     args)
{
  const char *python_words = mp_error_python_words (code);
  const char *pitfall = mp_error_pitfall_id (code);
  const char *fix = mp_error_fix (code);
  g_autofree char *what = g_strdup_vprintf (format, args);
  GString *msg = g_string_new (what);

  if (python_words != NULL)
    g_string_append_printf (msg, " (Python: \"%s\")", python_words);
  if (pitfall != NULL)
    g_string_append_printf (msg, " [pitfall %s]", pitfall);
  if (fix != NULL)
    g_string_append_printf (msg, " Fix: %s.", fix);

  MP_TRACE (mp_trace_error (code, what));
  g_set_error_literal (error, MP_ERROR, code, msg->str);
  g_string_free (msg, TRUE);
}

/**
 * mp_set_error:
 * @error: (nullable): return location for a #GError
 * @code: the #MpError code
 * @format: printf-style text saying what happened
 *
 * Sets @error in the %MP_ERROR domain. The message is @format followed by
 * Python's words for the same failure, the pitfall id and the fix, all
 * taken from the code's row so every error of a kind reads the same.
 *
 * Since: 0.1
 */
void
mp_set_error (GError    **error,
              MpError     code,
              const char *format,
              ...)
{
  va_list args;

  if (error == NULL)
    return;

  va_start (args, format);
  set_error_valist (error, code, format, args);
  va_end (args);
}

/**
 * mp_error_from_errno:
 * @err_no: an errno value
 *
 * Returns: the #MpError code that best matches @err_no.
 *
 * Since: 0.1
 */
MpError
mp_error_from_errno (int err_no)
{
  switch (err_no)
    {
    case EINVAL:
    case EBADF:
    case ENAMETOOLONG:
      return MP_ERROR_INVALID_ARGUMENT;
    case ETIMEDOUT:
      return MP_ERROR_TIMEOUT;
    case EOWNERDEAD:
      return MP_ERROR_OWNER_DIED;
    default:
      return MP_ERROR_FAILED;
    }
}

/**
 * mp_set_error_from_errno:
 * @error: (nullable): return location for a #GError
 * @err_no: the saved errno
 * @format: what was being done, e.g. "opening %s"
 *
 * Sets @error to "@format: strerror(@err_no)" with the matching code.
 *
 * Returns: %FALSE, so callers can `return mp_set_error_from_errno (...)`.
 *
 * Since: 0.1
 */
gboolean
mp_set_error_from_errno (GError    **error,
                         int         err_no,
                         const char *format,
                         ...)
{
  va_list args;
  g_autofree char *what = NULL;

  if (error == NULL)
    return FALSE;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  mp_set_error (error, mp_error_from_errno (err_no), "%s: %s", what,
                g_strerror (err_no));
  return FALSE;
}
