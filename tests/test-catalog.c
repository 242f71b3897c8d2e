/* test-catalog.c — the pitfall catalog is complete and consistent
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mpshare.h"

/* The ids the design notes list, in their order: the catalog must hold
 * each of them, pitfalls first, then the article's worked samples. */
static const char *const design_pitfalls[] = {
  "inheritance-only", "closed-manager", "mutate-a-copy",
  "unserializable-handle", "manager-as-argument", "missing-main-guard",
  "lost-update", "lock-false", "as-completed-order", "local-function",
  "broken-pool",
  /* issue 14: the pitfalls of forkserver, Linux's default from Python 3.14 */
  "global-not-inherited", "fork-with-threads",
};
static const char *const design_samples[] = {
  "shared-squares", "manager-squares", "cluster-pool", "cluster-pool-lock",
};

static void
test_design_order (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (design_pitfalls) + G_N_ELEMENTS (design_samples));
  for (gsize i = 0; i < G_N_ELEMENTS (design_pitfalls); i++)
    {
      g_assert_cmpstr (entries[i].id, ==, design_pitfalls[i]);
      g_assert_cmpint (entries[i].kind, ==, MP_CATALOG_PITFALL);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (design_samples); i++)
    {
      const MpCatalogEntry *e = &entries[G_N_ELEMENTS (design_pitfalls) + i];
      g_assert_cmpstr (e->id, ==, design_samples[i]);
      g_assert_cmpint (e->kind, ==, MP_CATALOG_SAMPLE);
    }
}

/* Every row is complete and fits the 80-column `mpshare list`. */
static void
test_entries_complete (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  for (gsize i = 0; i < n; i++)
    {
      const MpCatalogEntry *e = &entries[i];
      guint n_rules = 0;

      g_test_message ("checking %s", e->id);
      g_assert_true (g_hash_table_add (ids, (gpointer) e->id));
      g_assert_cmpstr (e->demo, ==, e->id);
      g_assert_nonnull (e->summary);
      g_assert_cmpuint (g_utf8_strlen (e->summary, -1), <=, 54);
      g_assert_false (g_str_has_suffix (e->summary, "."));
      g_assert_cmpuint (strlen (e->cause), >, 40);
      g_assert_cmpuint (strlen (e->fix), >, 20);
      g_assert_nonnull (e->rules);
      for (const MpCatalogRule *r = e->rules; r->needle != NULL; r++)
        {
          g_assert_cmpstr (r->needle, !=, "");
          n_rules++;
        }
      /* every pitfall can be explained and checked; a sample is no
       * error, so it has no rules and no one-line fixes */
      if (e->kind == MP_CATALOG_PITFALL)
        {
          g_assert_cmpuint (n_rules, >=, 1);
          g_assert_nonnull (e->fix_python);
          g_assert_cmpuint (g_utf8_strlen (e->fix_python, -1), <=, 70);
        }
      else
        {
          g_assert_cmpuint (n_rules, ==, 0);
          g_assert_null (e->fix_python);
          g_assert_null (e->fix_short);
        }
      /* fix_short ends an error message's "Fix: %s." */
      if (e->fix_short != NULL)
        {
          g_assert_false (g_str_has_suffix (e->fix_short, "."));
          g_assert_false (g_ascii_isupper (e->fix_short[0]));
        }
    }
}

/* Each Python key phrase of the catalog is recognised as its own pitfall
 * (a rule and its documentation cannot drift apart): as a pitfall, or,
 * for words that pickle and copy print outside multiprocessing too, as a
 * general problem that resembles it. */
static void
test_python_words_explained (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpExplainReport) report = NULL;
      GPtrArray *found;

      if (entries[i].python == NULL || strstr (entries[i].python, "...") != NULL)
        continue;
      report = mp_explain_report (entries[i].python, -1, &error);
      g_assert_no_error (error);
      found = report->matches->len > 0 ? report->matches : report->general;
      g_assert_cmpuint (found->len, >=, 1);
      g_assert_cmpstr (((MpExplainMatch *) g_ptr_array_index (found, 0))->entry->id, ==,
                       entries[i].id);
    }
}

/* mp-error.c names pitfalls by id: each must be a pitfall of the
 * catalog, and its errors carry the catalog's words and fix, so the prose
 * is written once. A pitfall reported by an error has both. */
static void
test_error_codes_in_catalog (void)
{
  guint n_pitfall_codes = 0;

  for (MpError code = 0; code < MP_ERROR_N_CODES; code++)
    {
      const char *id = mp_error_pitfall_id (code);
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) made = NULL;
      const MpCatalogEntry *entry;

      if (id == NULL)
        continue;
      n_pitfall_codes++;
      entry = mp_catalog_lookup (id, &error);
      g_assert_no_error (error);
      g_assert_cmpint (entry->kind, ==, MP_CATALOG_PITFALL);
      g_assert_nonnull (entry->python);
      g_assert_nonnull (entry->fix_short);
      g_assert_true (mp_error_python_words (code) == entry->python);
      g_assert_true (mp_error_fix (code) == entry->fix_short);

      mp_set_error (&made, code, "doing %s", "something");
      g_assert_true (g_str_has_prefix (made->message, "doing something"));
      g_assert_nonnull (strstr (made->message, entry->python));
      g_assert_nonnull (strstr (made->message, entry->fix_short));
    }
  g_assert_cmpuint (n_pitfall_codes, >=, 8);
}

static void
test_lookup (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (mp_catalog_lookup (entries[i].id, &error) == &entries[i]);
      g_assert_no_error (error);
    }

  g_assert_null (mp_catalog_lookup ("no-such-pitfall", &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "no-such-pitfall"));
  for (gsize i = 0; i < n; i++)
    g_assert_nonnull (strstr (error->message, entries[i].id));
}

static void
test_dup_ids (void)
{
  gsize n;
  const MpCatalogEntry *entries = mp_catalog_get_entries (&n);
  g_autofree char *joined = mp_catalog_dup_ids ("\n");
  g_auto(GStrv) ids = g_strsplit (joined, "\n", -1);

  g_assert_cmpuint (g_strv_length (ids), ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpstr (ids[i], ==, entries[i].id);
  g_assert_cmpstr (mp_catalog_kind_to_string (MP_CATALOG_PITFALL), ==, "pitfall");
  g_assert_cmpstr (mp_catalog_kind_to_string (MP_CATALOG_SAMPLE), ==, "sample");
}

static void
test_bad_arguments (void)
{
  if (g_test_subprocess ())
    {
      mp_catalog_lookup (NULL, NULL);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stderr ("*CRITICAL*id != NULL*");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/catalog/design-order", test_design_order);
  g_test_add_func ("/catalog/entries-complete", test_entries_complete);
  g_test_add_func ("/catalog/python-words-explained", test_python_words_explained);
  g_test_add_func ("/catalog/error-codes-in-catalog", test_error_codes_in_catalog);
  g_test_add_func ("/catalog/lookup", test_lookup);
  g_test_add_func ("/catalog/dup-ids", test_dup_ids);
  g_test_add_func ("/catalog/bad-arguments", test_bad_arguments);

  return g_test_run ();
}
