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

typedef struct {
  GAsyncResult *result;
  gboolean      timed_out;
} Wait;

static void
communicated (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *wait = user_data;

  wait->result = g_object_ref (result);
}

static gboolean
backstop_reached (gpointer user_data)
{
  Wait *wait = user_data;

  wait->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

char *
test_communicate (GSubprocess *child,
                  const char  *what,
                  guint        backstop_s,
                  int         *exit_status)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  char *output = NULL;
  GSource *backstop;
  Wait wait = { NULL, FALSE };

  g_main_context_push_thread_default (context);
  backstop = g_timeout_source_new_seconds (backstop_s);
  g_source_set_callback (backstop, backstop_reached, &wait, NULL);
  g_source_attach (backstop, context);
  g_subprocess_communicate_utf8_async (child, NULL, NULL, communicated, &wait);
  while (wait.result == NULL)
    {
      g_main_context_iteration (context, TRUE);
      if (wait.timed_out)
        {
          g_subprocess_force_exit (child);
          wait.timed_out = FALSE;
          g_test_message ("%s still running after %u s: killed", what, backstop_s);
          g_test_fail ();
        }
    }
  g_source_destroy (backstop);
  g_source_unref (backstop);
  g_subprocess_communicate_utf8_finish (child, wait.result, &output, NULL, &error);
  g_object_unref (wait.result);
  g_main_context_pop_thread_default (context);
  g_assert_no_error (error);

  if (g_subprocess_get_if_exited (child))
    *exit_status = g_subprocess_get_exit_status (child);
  else
    *exit_status = 128 + g_subprocess_get_term_sig (child);
  return output;
}

/* Counted here, not with the demos' own helper: the check must not share
 * the code it checks. */
static guint
line_columns (const char *line)
{
  g_autoptr(GString) plain = g_string_new (NULL);

  for (const char *p = line; *p != '\0'; p++)
    {
      if (p[0] == '\033' && p[1] == '[')
        {
          for (p += 2; *p != '\0' && !(*p >= 0x40 && *p <= 0x7e); p++)
            ;
          if (*p == '\0')
            break;
          continue;
        }
      g_string_append_c (plain, *p);
    }
  if (!g_utf8_validate (plain->str, plain->len, NULL))
    return plain->len;
  return g_utf8_strlen (plain->str, plain->len);
}

void
test_assert_fits (const char *output,
                  const char *what)
{
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (line_columns (lines[i]) > 80)
      g_test_fail_printf ("%s: line %u is %u columns wide: \"%s\"", what, i + 1,
                          line_columns (lines[i]), lines[i]);
}
