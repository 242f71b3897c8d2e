/* test-shared-memory.c — named shared memory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Every test body runs in a g_test_trap_subprocess() child that writes each
 * name it creates to a ledger file; the parent sweeps the ledger after the
 * child ended, passed or failed, so /dev/shm keeps nothing either way, and
 * a name the body should have unlinked fails the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mpshare.h"
#include "test-common.h"
#include "test-process-common.h"

#define LEDGER_ENV "MP_TEST_SHM_LEDGER"

/* ---- the ledger --------------------------------------------------------- */

static void
ledger_note (const char *name)
{
  const char *path = g_getenv (LEDGER_ENV);
  FILE *ledger;

  g_assert_nonnull (path);
  ledger = fopen (path, "a");
  g_assert_nonnull (ledger);
  fprintf (ledger, "%s\n", name);
  fclose (ledger);
}

/* Unlinks every name in the ledger that still exists; returns how many. */
static guint
ledger_sweep (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) names = NULL;
  guint leftovers = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  names = g_strsplit (contents, "\n", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *shm_path = NULL;

      if (*names[i] == '\0')
        continue;
      shm_path = g_strconcat ("/", names[i], NULL);
      if (shm_unlink (shm_path) == 0)
        {
          g_test_message ("swept leftover /dev/shm/%s", names[i]);
          leftovers++;
        }
    }
  return leftovers;
}

/* A name nobody else on the machine uses (tests of several build dirs
 * may run at once). On the stack, so forked children exit leak-free. */
typedef char Name[64];

static const char *
unique_name (Name        name,
             const char *what)
{
  g_snprintf (name, sizeof (Name), "mp-test-%d-%s", (int) getpid (), what);
  return name;
}

static MpSharedMemory *
create_noted (const char  *name,
              gsize        size,
              GError     **error)
{
  MpSharedMemory *shm;

  if (name != NULL)
    ledger_note (name);
  shm = mp_shared_memory_create (name, size, error);
  if (shm != NULL && name == NULL)
    ledger_note (mp_shared_memory_get_name (shm));
  return shm;
}

/* ---- fixture: run the body in a subprocess, sweep after it --------------- */

typedef struct {
  char *dir;
  char *ledger;
} Fixture;

typedef struct {
  const char *path;
  void      (*body) (void);
} SweptCase;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  if (g_test_subprocess ())
    return;
  fixture->dir = g_dir_make_tmp ("mp-test-shm-XXXXXX", NULL);
  g_assert_nonnull (fixture->dir);
  fixture->ledger = g_build_filename (fixture->dir, "ledger", NULL);
  g_setenv (LEDGER_ENV, fixture->ledger, TRUE);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  if (g_test_subprocess ())
    return;
  /* the trackers of the test's children came to this subreaper when their
   * creators ended; they end at once, with nothing left to clean */
  while (waitpid (-1, NULL, 0) > 0)
    ;
  g_unlink (fixture->ledger);
  g_rmdir (fixture->dir);
  g_unsetenv (LEDGER_ENV);
  g_free (fixture->ledger);
  g_free (fixture->dir);
}

static void
run_swept (Fixture       *fixture,
           gconstpointer  data)
{
  const SweptCase *test = data;
  guint leftovers;

  if (g_test_subprocess ())
    {
      test->body ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  leftovers = ledger_sweep (fixture->ledger);
  g_test_trap_assert_passed ();
  g_assert_cmpuint (leftovers, ==, 0);
}

/* ---- the bodies -------------------------------------------------------- */

static void
body_create_attach_unlink (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) creator = NULL;
  g_autoptr(MpSharedMemory) attached = NULL;
  guint8 *data;
  Name name;
  pid_t pid;

  creator = create_noted (unique_name (name, "cau"), 4096, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mp_shared_memory_get_name (creator), ==, name);
  g_assert_cmpuint (mp_shared_memory_get_size (creator), ==, 4096);
  g_assert_true (mp_shared_memory_is_creator (creator));
  data = mp_shared_memory_get_data (creator);
  for (gsize i = 0; i < 4096; i++)
    g_assert_cmpuint (data[i], ==, 0);
  memcpy (data, "hello", 6);

  /* another process attaches by name alone and writes */
  pid = test_fork ();
  if (pid == 0)
    {
      MpSharedMemory *other = mp_shared_memory_attach (name, NULL);

      if (other == NULL)
        test_child_exit (1);
      memcpy ((char *) mp_shared_memory_get_data (other) + 100, "world", 6);
      g_object_unref (other);
      test_child_exit (0);
    }
  g_assert_cmpint (test_reap (pid), ==, 0);
  g_assert_cmpstr ((char *) data + 100, ==, "world");

  attached = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
  g_assert_false (mp_shared_memory_is_creator (attached));
  g_assert_cmpuint (mp_shared_memory_get_size (attached), ==, 4096);
  g_assert_cmpstr (mp_shared_memory_get_data (attached), ==, "hello");

  mp_shared_memory_close (attached);
  g_assert_null (mp_shared_memory_get_data (attached));
  mp_shared_memory_close (attached);

  g_assert_true (mp_shared_memory_unlink (creator, &error));
  g_assert_no_error (error);
  /* the name is gone, the memory stays while mapped */
  g_clear_object (&attached);
  attached = mp_shared_memory_attach (name, &error);
  g_assert_null (attached);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "No shared memory named"));
  g_assert_nonnull (strstr (error->message, name));
  g_clear_error (&error);
  g_assert_cmpstr ((char *) data + 100, ==, "world");

  g_assert_false (mp_shared_memory_unlink (creator, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "already unlinked"));
}

static void
body_generated_name (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) a = create_noted (NULL, 100, &error);
  g_autoptr(MpSharedMemory) b = create_noted (NULL, 100, &error);
  g_autoptr(GRegex) pattern = g_regex_new ("^mp-[0-9a-f]{8}$", 0, 0, NULL);

  g_assert_no_error (error);
  g_assert_true (g_regex_match (pattern, mp_shared_memory_get_name (a), 0, NULL));
  g_assert_true (g_regex_match (pattern, mp_shared_memory_get_name (b), 0, NULL));
  g_assert_cmpstr (mp_shared_memory_get_name (a), !=, mp_shared_memory_get_name (b));
  g_assert_cmpuint (mp_shared_memory_get_size (a), ==, 100);
  /* no unlink: disposing the creators is enough, the sweep checks it */
}

static void
body_dispose_unlinks (void)
{
  g_autoptr(GError) error = NULL;
  MpSharedMemory *creator;
  MpSharedMemory *attached;
  Name name;

  creator = create_noted (unique_name (name, "dispose"), 64, &error);
  g_assert_no_error (error);

  /* an attacher going away leaves the name alone */
  attached = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
  g_object_unref (attached);
  attached = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
  g_object_unref (attached);

  /* the creator going away unlinks */
  g_object_unref (creator);
  attached = mp_shared_memory_attach (name, &error);
  g_assert_null (attached);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
}

static void
body_forked_copy_does_not_unlink (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) creator = NULL;
  g_autoptr(MpSharedMemory) attached = NULL;
  Name name;
  pid_t pid;

  creator = create_noted (unique_name (name, "forked"), 64, &error);
  g_assert_no_error (error);
  pid = test_fork ();
  if (pid == 0)
    {
      /* the child's copy of the creator is not the creator */
      if (mp_shared_memory_is_creator (creator))
        test_child_exit (1);
      g_clear_object (&creator);
      test_child_exit (0);
    }
  g_assert_cmpint (test_reap (pid), ==, 0);
  attached = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
}

static void
body_unlinked_by_attacher (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) creator = NULL;
  g_autoptr(MpSharedMemory) attached = NULL;
  Name name;

  creator = create_noted (unique_name (name, "attacher-unlinks"), 64, &error);
  g_assert_no_error (error);
  attached = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
  /* anyone may unlink; the creator's dispose then has nothing to do and
   * stays quiet (a warning would abort this test) */
  g_assert_true (mp_shared_memory_unlink (attached, &error));
  g_assert_no_error (error);
}

static void
body_invalid (void)
{
  static const char *const bad_names[] = { "", "a/b", "/x", ".", ".." };
  g_autoptr(GError) error = NULL;
  g_autofree char *too_long = g_strnfill (255, 'a');
  g_autoptr(MpSharedMemory) creator = NULL;
  MpSharedMemory *shm;
  Name name;

  unique_name (name, "exists");

  for (gsize i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      shm = mp_shared_memory_create (bad_names[i], 16, &error);
      g_assert_null (shm);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
      shm = mp_shared_memory_attach (bad_names[i], &error);
      g_assert_null (shm);
      g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  shm = mp_shared_memory_attach (too_long, &error);
  g_assert_null (shm);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  shm = create_noted (name, 0, &error);
  g_assert_null (shm);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  creator = create_noted (name, 16, &error);
  g_assert_no_error (error);
  shm = mp_shared_memory_create (name, 16, &error);
  g_assert_null (shm);
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "already exists"));
  g_clear_error (&error);
  /* the failed second create did not take the name away from the first */
  shm = mp_shared_memory_attach (name, &error);
  g_assert_no_error (error);
  g_object_unref (shm);
}

static void
body_travels_by_name (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) creator = NULL;
  g_autoptr(GVariant) wire = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_auto(GValue) received = G_VALUE_INIT;
  g_autofree char *printed = NULL;
  MpSharedMemory *attached;
  Name name;

  creator = create_noted (unique_name (name, "travels"), 32, &error);
  g_assert_no_error (error);
  strcpy (mp_shared_memory_get_data (creator), "by name");

  /* no process is being started: it travels anyway, as its name */
  g_value_init (&value, MP_TYPE_SHARED_MEMORY);
  g_value_set_object (&value, creator);
  wire = mp_serialize_value (&value, &error);
  g_assert_no_error (error);
  printed = g_variant_print (wire, FALSE);
  g_assert_nonnull (strstr (printed, name));

  g_assert_true (mp_deserialize_value (wire, &received, &error));
  g_assert_no_error (error);
  attached = g_value_get_object (&received);
  g_assert_true (attached != creator);
  g_assert_false (mp_shared_memory_is_creator (attached));
  g_assert_cmpstr (mp_shared_memory_get_name (attached), ==, name);
  g_assert_cmpuint (mp_shared_memory_get_size (attached), ==, 32);
  g_assert_cmpstr (mp_shared_memory_get_data (attached), ==, "by name");

  /* the receiver going away leaves the name to the creator */
  g_value_unset (&received);
  g_assert_true (mp_deserialize_value (wire, &received, &error));
  g_assert_no_error (error);
  g_value_unset (&received);
  g_assert_true (mp_shared_memory_unlink (creator, &error));

  /* a name that is gone, a name that is no name, a state of another shape */
  g_assert_false (mp_deserialize_value (wire, &received, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_FAILED);
  g_clear_error (&error);
  g_clear_pointer (&wire, g_variant_unref);
  wire = g_variant_ref_sink (g_variant_new_variant (
      g_variant_new ("(sv)", "MpSharedMemory", g_variant_new_string ("../etc"))));
  g_assert_false (mp_deserialize_value (wire, &received, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_clear_pointer (&wire, g_variant_unref);
  wire = g_variant_ref_sink (g_variant_new_variant (
      g_variant_new ("(sv)", "MpSharedMemory", g_variant_new_int32 (3))));
  g_assert_false (mp_deserialize_value (wire, &received, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
}

/* The third fix of the inheritance-only pitfall: a pool task argument,
 * no process start involved, reaching the same memory by name. */
static gboolean
task_shm_write (MpArgs   *args,
                GValue   *result,
                GError  **error)
{
  MpSharedMemory *shm = mp_args_get_object (args, 0);
  const char *text = mp_args_get_string (args, 1);

  if (mp_shared_memory_is_creator (shm) || strlen (text) >= mp_shared_memory_get_size (shm))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the worker got the wrong block");
      return FALSE;
    }
  strcpy (mp_shared_memory_get_data (shm), text);
  return TRUE;
}
MP_TASK_DEFINE ("shm-write", task_shm_write)

static void
body_pool_task (MpStartMethod method)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) shm = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_auto(GValue) result = G_VALUE_INIT;
  Name name;

  shm = create_noted (unique_name (name, "pool"), 64, &error);
  g_assert_no_error (error);
  pool = mp_pool_new_full (1, method, NULL, NULL, &error);
  g_assert_no_error (error);
  mp_args_add_object (args, shm);
  mp_args_add_string (args, "written by a pool worker");
  future = mp_pool_submit (pool, "shm-write", args, &error);
  g_assert_no_error (error);
  g_assert_true (mp_future_result (future, MP_WAIT_FOREVER, &result, &error));
  g_assert_no_error (error);
  mp_pool_shutdown (pool, TRUE);
  g_assert_cmpstr (mp_shared_memory_get_data (shm), ==, "written by a pool worker");
}

static void
body_pool_task_fork (void)
{
  body_pool_task (MP_START_FORK);
}

static void
body_pool_task_spawn (void)
{
  body_pool_task (MP_START_SPAWN);
}

/* A block that exists but was never sized (its creator died between
 * shm_open and ftruncate, or it is someone else's) is refused, not
 * mapped as zero bytes. */
static void
body_attach_unsized (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpSharedMemory) shm = NULL;
  g_autofree char *path = NULL;
  Name name;
  int fd;

  unique_name (name, "unsized");
  ledger_note (name);
  path = g_strconcat ("/", name, NULL);
  fd = shm_open (path, O_RDWR | O_CREAT | O_EXCL, 0600);
  g_assert_cmpint (fd, >=, 0);
  close (fd);

  shm = mp_shared_memory_attach (name, &error);
  g_assert_null (shm);
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "has size 0: its creator has not sized it"));
  g_assert_cmpint (shm_unlink (path), ==, 0);
}

/* ---- the sweep itself ------------------------------------------------------ */

static void
test_failing_test_leaves_nothing (Fixture       *fixture,
                                  gconstpointer  data)
{
  g_autofree char *path = NULL;
  Name name;
  int fd;

  if (g_test_subprocess ())
    {
      /* made behind the library's back: no resource tracker cleans it */
      unique_name (name, "dies");
      ledger_note (name);
      path = g_strconcat ("/", name, NULL);
      fd = shm_open (path, O_RDWR | O_CREAT | O_EXCL, 0600);
      g_assert_cmpint (fd, >=, 0);
      /* ends as a failing assertion does: before any cleanup */
      _exit (1);
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_failed ();
  g_assert_cmpuint (ledger_sweep (fixture->ledger), ==, 1);
  g_assert_cmpuint (ledger_sweep (fixture->ledger), ==, 0);
}

/* ---- the resource tracker ---------------------------------------------------- */

#define TRACKER_WARNING "mpshare: resource_tracker: There appear to be %u leaked shared_memory\n" \
                        "  objects to clean up at shutdown: process * ended without unlinking\n"

/* A creator that dies without unlinking: its tracker unlinks the name
 * and says so, in Python's words. The trap reads the child's stderr to
 * its end, which comes when the tracker (who holds it too) has exited. */
static void
test_tracker_killed_creator (Fixture       *fixture,
                             gconstpointer  data)
{
  Name name;

  if (g_test_subprocess ())
    {
      MpSharedMemory *shm = create_noted (unique_name (name, "killed"), 64, NULL);

      g_assert_nonnull (shm);
      kill (getpid (), GPOINTER_TO_INT (data));
      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*There appear to be 1 leaked shared_memory*"
                             "objects to clean up at shutdown*mp-test-*-killed*");
  g_assert_cmpuint (ledger_sweep (fixture->ledger), ==, 0);
}

/* Unlinked in time: nothing to say, nothing to do. */
static void
test_tracker_clean_exit (Fixture       *fixture,
                         gconstpointer  data)
{
  Name name;

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpSharedMemory) kept = create_noted (unique_name (name, "kept"), 64, &error);
      MpSharedMemory *unlinked = create_noted (NULL, 64, &error);

      g_assert_no_error (error);
      g_assert_nonnull (kept);
      g_assert_true (mp_shared_memory_unlink (unlinked, &error));
      g_assert_no_error (error);
      g_object_unref (unlinked);
      return;
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("");
  g_assert_cmpuint (ledger_sweep (fixture->ledger), ==, 0);
}

/* A tracker that was killed is replaced at the next registration, and
 * the new one is told every name the old one knew. */
static void
test_tracker_relaunched (Fixture       *fixture,
                         gconstpointer  data)
{
  Name first, second;

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      MpSharedMemory *before = create_noted (unique_name (first, "before"), 64, &error);
      MpSharedMemory *after = NULL;
      GPid killed = mp_resource_tracker_get_pid ();

      g_assert_no_error (error);
      g_assert_cmpint (kill (killed, SIGKILL), ==, 0);
      g_assert_cmpint (waitpid (killed, NULL, 0), ==, killed);
      after = create_noted (unique_name (second, "after"), 64, &error);
      g_assert_no_error (error);
      g_assert_cmpint (mp_resource_tracker_get_pid (), >, 0);
      g_assert_cmpint (mp_resource_tracker_get_pid (), !=, killed);
      g_assert_nonnull (before);
      g_assert_nonnull (after);
      _exit (0);
    }
  g_test_trap_subprocess (NULL, 0, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*There appear to be 2 leaked shared_memory*");
  g_assert_cmpuint (ledger_sweep (fixture->ledger), ==, 0);
}

static const SweptCase swept_cases[] = {
  { "/shm/create-attach-unlink", body_create_attach_unlink },
  { "/shm/generated-name", body_generated_name },
  { "/shm/dispose-unlinks", body_dispose_unlinks },
  { "/shm/forked-copy-does-not-unlink", body_forked_copy_does_not_unlink },
  { "/shm/unlinked-by-attacher", body_unlinked_by_attacher },
  { "/shm/invalid", body_invalid },
  { "/shm/attach-unsized", body_attach_unsized },
  { "/shm/travels-by-name", body_travels_by_name },
  { "/shm/pool-task/fork", body_pool_task_fork },
  { "/shm/pool-task/spawn", body_pool_task_spawn },
};

int
main (int argc, char **argv)
{
  /* a spawned pool worker goes into its task here */
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);
  /* orphaned trackers come here to be reaped (see fixture_teardown()) */
  if (!g_test_subprocess ())
    prctl (PR_SET_CHILD_SUBREAPER, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (swept_cases); i++)
    g_test_add (swept_cases[i].path, Fixture, &swept_cases[i],
                fixture_setup, run_swept, fixture_teardown);
  g_test_add ("/shm/failing-test-leaves-nothing", Fixture, NULL,
              fixture_setup, test_failing_test_leaves_nothing, fixture_teardown);
  g_test_add ("/shm/tracker/killed-creator/sigkill", Fixture, GINT_TO_POINTER (SIGKILL),
              fixture_setup, test_tracker_killed_creator, fixture_teardown);
  g_test_add ("/shm/tracker/killed-creator/sigterm", Fixture, GINT_TO_POINTER (SIGTERM),
              fixture_setup, test_tracker_killed_creator, fixture_teardown);
  g_test_add ("/shm/tracker/clean-exit", Fixture, NULL,
              fixture_setup, test_tracker_clean_exit, fixture_teardown);
  g_test_add ("/shm/tracker/relaunched", Fixture, NULL,
              fixture_setup, test_tracker_relaunched, fixture_teardown);
  /* the tracker (with what it started) must end with its killed creator */
  test_add_orphan_tests ("/shm/orphans/tracker", "tracker");

  return g_test_run ();
}
