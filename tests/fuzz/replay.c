/* replay.c — runs a fuzz target over stored inputs, as a normal test
 *
 * Every file in the directories given on the command line goes through
 * LLVMFuzzerTestOneInput() once: the seeds and the inputs that once made
 * the fuzzer crash stay regression tests without clang or libFuzzer.
 * As libFuzzer does, LLVMFuzzerInitialize() runs first when the target
 * has one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv) __attribute__ ((weak));

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static void
replay_file (gconstpointer user_data)
{
  const char *path = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (LLVMFuzzerTestOneInput ((const guint8 *) contents, len), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  g_test_init (&argc, &argv, NULL);
  if (LLVMFuzzerInitialize != NULL)
    LLVMFuzzerInitialize (&argc, &argv);

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GDir) dir = g_dir_open (argv[i], 0, &error);
      g_autofree char *base = g_path_get_basename (argv[i]);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      g_assert_no_error (error);
      while ((name = g_dir_read_name (dir)) != NULL)
        g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_names);
      for (guint j = 0; j < names->len; j++)
        {
          char *path = g_build_filename (argv[i], names->pdata[j], NULL);
          g_autofree char *test_path = g_strdup_printf ("/fuzz/%s/%s", base,
                                                        (char *) names->pdata[j]);

          g_ptr_array_add (paths, path);
          g_test_add_data_func (test_path, path, replay_file);
        }
    }
  return g_test_run ();
}
