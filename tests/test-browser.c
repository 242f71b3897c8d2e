/* test-browser.c — the class's page of `mpshare tour --html`, as a
 * browser shows it: headless Chromium loads it, its DOM must hold every
 * catalog id with its verdicts and one SVG timeline per half, and its
 * screenshot must not be blank.
 *
 * The tour runs once for all the tests (it runs every demo twice). Skipped
 * with the reason when no Chromium is on PATH (Debian: apt-get install
 * chromium).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "mpshare.h"
#include "test-common.h"

#define TOUR_BACKSTOP_S 1200
#define BROWSER_BACKSTOP_S 300

static char *chromium;      /* NULL: none found */
static char *page_dir;      /* the tour's output */
static int tour_status = -1;

static char *
mpshare_path (void)
{
  const char *dir = g_getenv ("MP_DEMO_DIR");

  if (dir != NULL)
    return g_build_filename (dir, "mpshare", NULL);
  return g_test_build_filename (G_TEST_BUILT, "..", "demos", "mpshare", NULL);
}

static char *
find_chromium (void)
{
  static const char *const names[] = { "chromium", "chromium-browser", "google-chrome" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      char *path = g_find_program_in_path (names[i]);

      if (path != NULL)
        return path;
    }
  return NULL;
}

/* Runs @argv, its stdout returned and its exit status in @status. */
static char *
run (const char *const *argv,
     const char        *home,
     const char        *what,
     guint              backstop_s,
     int               *status)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autoptr(GSubprocess) child = NULL;
  g_autoptr(GError) error = NULL;

  /* Chromium writes ~/.config/chromium* whatever its profile: a home of
   * its own keeps the user's untouched */
  if (home != NULL)
    {
      g_subprocess_launcher_setenv (launcher, "HOME", home, TRUE);
      g_subprocess_launcher_unsetenv (launcher, "XDG_CONFIG_HOME");
      g_subprocess_launcher_unsetenv (launcher, "XDG_CACHE_HOME");
    }

  child = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return test_communicate (child, what, backstop_s, status);
}

/* Chromium, headless, its profile in the page's directory so nothing is
 * left in $HOME. @extra is one more argument (what to do). */
static char *
run_chromium (const char *extra,
              int        *status)
{
  g_autofree char *profile = g_strdup_printf ("--user-data-dir=%s/chromium-profile", page_dir);
  g_autofree char *index = g_build_filename (page_dir, "index.html", NULL);
  g_autofree char *uri = g_filename_to_uri (index, NULL, NULL);
  const char *argv[] = { chromium, "--headless", "--no-sandbox", "--disable-gpu",
                         "--no-first-run", "--hide-scrollbars", "--window-size=1200,2400",
                         profile, extra, uri, NULL };

  return run (argv, page_dir, "chromium", BROWSER_BACKSTOP_S, status);
}

static gboolean
need_page (void)
{
  if (chromium == NULL)
    {
      g_test_skip ("no Chromium on PATH (Debian: apt-get install chromium)");
      return FALSE;
    }
  g_assert_cmpint (tour_status, ==, 0);
  return TRUE;
}

/* The part of @dom from the section of @id to its end. */
static char *
section_of (const char *dom,
            const char *id)
{
  g_autofree char *open = g_strdup_printf ("<section class=\"demo\" id=\"%s\">", id);
  const char *start = strstr (dom, open);
  const char *end;

  if (start == NULL)
    return NULL;
  end = strstr (start, "</section>");
  g_assert_nonnull (end);
  return g_strndup (start, end - start);
}

static guint
count (const char *haystack,
       const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_dom (void)
{
  g_autofree char *dom = NULL;
  const MpCatalogEntry *entries;
  gsize n;
  int status;

  if (!need_page ())
    return;
  dom = run_chromium ("--dump-dom", &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (dom, "<h1>mpshare tour</h1>"));

  entries = mp_catalog_get_entries (&n);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *section = section_of (dom, entries[i].id);

      g_test_message ("section %s", entries[i].id);
      g_assert_nonnull (section);
      /* the tour exited 0: every half passed, and the page says so */
      g_assert_nonnull (strstr (section, "The broken half: <span class=\"yes\">reproduced</span>"));
      g_assert_nonnull (strstr (section, "The fixed half: <span class=\"yes\">fixed</span>"));
      g_assert_cmpuint (count (section, "<svg class=\"timeline\""), ==, 2);
      /* a drawn timeline has lanes: no half recorded nothing */
      g_assert_null (strstr (section, "no events were recorded"));
      g_assert_cmpuint (count (section, "class=\"lane\""), >=, 2);
      /* a pitfall that raises shows the error its broken half recorded */
      if (entries[i].kind == MP_CATALOG_PITFALL && entries[i].python != NULL)
        g_assert_nonnull (strstr (section, "class=\"error-box\""));
    }
}

/* Is the PNG at @path more than one colour? Its pixel rows, inflated,
 * must hold many different byte values: a blank page holds a handful. */
static void
assert_png_not_blank (const char *path)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree guint8 *data = NULL;
  g_autoptr(GByteArray) idat = g_byte_array_new ();
  g_autoptr(GZlibDecompressor) inflater = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autoptr(GError) error = NULL;
  gboolean seen[256] = { FALSE };
  guint distinct = 0;
  gsize length, at = 8, in_at = 0;
  guint8 out[65536];

  g_assert_true (g_file_get_contents (path, (char **) &data, &length, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 8);
  g_assert_cmpmem (data, 8, signature, 8);
  while (at + 12 <= length)
    {
      guint32 size;

      memcpy (&size, data + at, sizeof size);
      size = GUINT32_FROM_BE (size);

      g_assert_cmpuint (at + 12 + size, <=, length);
      if (memcmp (data + at + 4, "IDAT", 4) == 0)
        g_byte_array_append (idat, data + at + 8, size);
      at += 12 + size;
    }
  g_assert_cmpuint (idat->len, >, 0);

  for (;;)
    {
      gsize read = 0, written = 0;
      GConverterResult r = g_converter_convert (G_CONVERTER (inflater), idat->data + in_at,
                                                idat->len - in_at, out, sizeof out,
                                                G_CONVERTER_INPUT_AT_END, &read, &written, &error);

      g_assert_no_error (error);
      in_at += read;
      for (gsize i = 0; i < written; i++)
        if (!seen[out[i]])
          {
            seen[out[i]] = TRUE;
            distinct++;
          }
      if (r == G_CONVERTER_FINISHED)
        break;
    }
  g_test_message ("%s: %u distinct byte values in its pixel rows", path, distinct);
  g_assert_cmpuint (distinct, >=, 64);
}

static void
test_screenshot (void)
{
  g_autofree char *shot = NULL;
  g_autofree char *arg = NULL;
  g_autofree char *out = NULL;
  int status;

  if (!need_page ())
    return;
  /* kept in the build directory, to look at */
  shot = g_test_build_filename (G_TEST_BUILT, "tour-page.png", NULL);
  g_remove (shot);
  arg = g_strdup_printf ("--screenshot=%s", shot);
  out = run_chromium (arg, &status);
  g_assert_cmpint (status, ==, 0);
  assert_png_not_blank (shot);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_remove (child);
    }
  g_rmdir (path);
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int result;

  g_test_init (&argc, &argv, NULL);
  chromium = find_chromium ();
  if (chromium != NULL)
    {
      g_autofree char *mpshare = mpshare_path ();
      g_autofree char *out = NULL;

      page_dir = g_dir_make_tmp ("mpshare-browser-XXXXXX", &error);
      g_assert_no_error (error);
      {
        const char *tour[] = { mpshare, "tour", "--html", page_dir, NULL };

        out = run (tour, NULL, "mpshare tour --html", TOUR_BACKSTOP_S, &tour_status);
      }
      g_test_message ("mpshare tour --html:\n%s", out);
    }

  g_test_add_func ("/browser/tour-page/dom", test_dom);
  g_test_add_func ("/browser/tour-page/screenshot", test_screenshot);
  result = g_test_run ();

  if (page_dir != NULL)
    remove_tree (page_dir);
  g_free (page_dir);
  g_free (chromium);
  return result;
}
