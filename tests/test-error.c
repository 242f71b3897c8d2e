/* test-error.c — the MP_ERROR domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include "mpshare.h"

static void
test_error_every_code_has_a_name (void)
{
  for (int code = 0; code < MP_ERROR_N_CODES; code++)
    {
      const char *name = mp_error_code_name ((MpError) code);
      g_assert_nonnull (name);
      g_assert_cmpstr (name, !=, "");
      /* names are unique: they are what scripts match on */
      for (int other = 0; other < code; other++)
        g_assert_cmpstr (name, !=, mp_error_code_name ((MpError) other));
    }
}

static void
test_error_pitfall_message (void)
{
  g_autoptr(GError) error = NULL;

  mp_set_error (&error, MP_ERROR_INHERITANCE_ONLY, "MpArray passed as a task argument");
  g_assert_error (error, MP_ERROR, MP_ERROR_INHERITANCE_ONLY);
  g_assert_true (g_str_has_prefix (error->message, "MpArray passed as a task argument"));
  g_assert_nonnull (strstr (error->message, "should only be shared between processes through inheritance"));
  g_assert_nonnull (strstr (error->message, "[pitfall inheritance-only]"));
  g_assert_nonnull (strstr (error->message, "Fix: "));
}

static void
test_error_pitfall_ids (void)
{
  /* every catalog pitfall with an error code of its own */
  static const struct { MpError code; const char *id; } rows[] = {
    { MP_ERROR_INHERITANCE_ONLY, "inheritance-only" },
    { MP_ERROR_MANAGER_CLOSED, "closed-manager" },
    { MP_ERROR_UNSERIALIZABLE, "unserializable-handle" },
    { MP_ERROR_AUTH_KEY_REFUSED, "manager-as-argument" },
    { MP_ERROR_BOOTSTRAPPING, "missing-main-guard" },
    { MP_ERROR_BROKEN_POOL, "broken-pool" },
    { MP_ERROR_LOCAL_FUNCTION, "local-function" },
    { MP_ERROR_NO_LOCK, "lock-false" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_assert_cmpstr (mp_error_pitfall_id (rows[i].code), ==, rows[i].id);
      g_assert_nonnull (mp_error_fix (rows[i].code));
    }
  g_assert_null (mp_error_pitfall_id (MP_ERROR_INDEX));
}

static void
test_error_errno (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (mp_set_error_from_errno (&error, ENOENT, "opening %s", "/nowhere"));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "opening /nowhere: "));
  g_assert_cmpint (mp_error_from_errno (ETIMEDOUT), ==, MP_ERROR_TIMEOUT);
  g_assert_cmpint (mp_error_from_errno (EOWNERDEAD), ==, MP_ERROR_OWNER_DIED);
  /* a NULL error location is allowed, as everywhere in GLib */
  g_assert_false (mp_set_error_from_errno (NULL, EINVAL, "x"));
}

/* A code this build does not know (a newer peer's, say) reads as the
 * generic FAILED, never as a crash or a garbage name. */
static void
test_error_unknown_code (void)
{
  const MpError unknown = (MpError) (MP_ERROR_N_CODES + 7);
  g_autoptr(GError) error = NULL;

  g_assert_cmpstr (mp_error_code_name (unknown), ==, mp_error_code_name (MP_ERROR_FAILED));
  g_assert_null (mp_error_pitfall_id (unknown));
  g_assert_null (mp_error_python_words (unknown));
  g_assert_null (mp_error_fix (unknown));
  g_assert_cmpstr (mp_error_python_words (MP_ERROR_LOCAL_FUNCTION), ==, "Can't pickle local object");

  mp_set_error (&error, unknown, "something new went wrong");
  g_assert_cmpstr (error->message, ==, "something new went wrong");
  g_assert_true (g_error_matches (error, MP_ERROR, unknown));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/error/codes/names", test_error_every_code_has_a_name);
  g_test_add_func ("/error/message/pitfall", test_error_pitfall_message);
  g_test_add_func ("/error/codes/pitfall-ids", test_error_pitfall_ids);
  g_test_add_func ("/error/errno", test_error_errno);
  g_test_add_func ("/error/codes/unknown", test_error_unknown_code);
  return g_test_run ();
}
