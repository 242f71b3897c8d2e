/* test-common.c — what several suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test-common.h"

pid_t
test_fork (void)
{
  pid_t pid = fork ();

  g_assert_cmpint (pid, >=, 0);
  return pid;
}

/* Memcheck, run on the child, scans the stack but not the registers of a
 * thread that exits, so what the parent's frames held only in
 * callee-saved registers would count as leaked: spill them onto the
 * stack first. */
G_GNUC_NO_INLINE void
test_child_exit (int code)
{
  __builtin_unwind_init ();
  _exit (code);
}

int
test_reap (pid_t pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0)
    g_assert_cmpint (errno, ==, EINTR);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

void
test_assert_forged_refused (const char *type_name,
                            GVariant   *state,
                            gint        code)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = g_variant_ref_sink (
      g_variant_new_variant (g_variant_new ("(sv)", type_name, state)));

  g_assert_false (mp_deserialize_value (wire, &value, &error));
  g_assert_error (error, MP_ERROR, code);
}

char *
test_read_capture (const char *version,
                   const char *name)
{
  g_autofree char *base = g_strconcat (name, ".txt", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", version, base, NULL);
  g_autoptr(GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}
