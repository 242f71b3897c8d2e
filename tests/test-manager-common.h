/* test-manager-common.h — what the manager and proxy suites share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"
#include "test-process-common.h"

G_BEGIN_DECLS

/* A manager started for one test. Teardown checks that the test dropped
 * every proxy (no object left in the server), shuts the server down and
 * checks that its private directory is gone. */
typedef struct
{
  MpManager *manager;
  char      *dir;      /* the server's private directory */
} Fixture;

void      fixture_setup         (Fixture       *fixture,
                                 gconstpointer  data);
void      fixture_teardown      (Fixture       *fixture,
                                 gconstpointer  data);
char     *manager_private_dir   (MpManager     *manager);
/* The manager holds @objects objects and @refs references in all. */
void      assert_counts         (MpManager     *manager,
                                 guint          objects,
                                 guint          refs);
void      assert_no_objects     (MpManager     *manager);
/* A Barrier proxy's attribute ("parties", "n_waiting", "broken"). */
gint64    barrier_attribute     (MpProxy       *barrier,
                                 const char    *name);

/* values */
GValue   *value_int             (gint64         v);
GValue   *value_double          (double         v);
GValue   *value_string          (const char    *v);
GValue   *value_proxy           (MpProxy       *proxy);
gint64    value_get_int         (const GValue  *value);
/* lists of ints, ended by G_MININT */
GPtrArray *int_list             (int            first,
                                 ...);
void      assert_int_list       (GPtrArray     *list,
                                 int            first,
                                 ...);
void      assert_list_proxy_ints (MpProxy      *list,
                                  int           first,
                                  ...);

/* TestCluster: a registered value type whose equality is its name only
 * (the article's cluster); it travels as a copy. */
#define TEST_TYPE_CLUSTER (test_cluster_get_type ())
G_DECLARE_FINAL_TYPE (TestCluster, test_cluster, TEST, CLUSTER, GObject)

TestCluster *test_cluster_new   (const char    *name,
                                 gboolean       available);
GValue      *value_cluster      (const char    *name,
                                 gboolean       available);

/* TestCounter: a server-side type (mp_manager_register_type "Counter")
 * exposing "increment" (adds its argument, returns the new total) and
 * "get"; any other method (say "reset") is not exposed. */
#define TEST_TYPE_COUNTER (test_counter_get_type ())
G_DECLARE_FINAL_TYPE (TestCounter, test_counter, TEST, COUNTER, GObject)

G_END_DECLS
