/* unserializable-handle.c — a live OS handle cannot be stored in a manager
 *
 * A cluster needs credentials to talk to its service. The tempting design
 * keeps the open credentials stream (a live file descriptor) inside the
 * Cluster object (the one the cluster demos share, demo-cluster.h). A file
 * descriptor means nothing in another process, so the Cluster cannot be
 * stored in a manager list: the error names the field, Cluster.credentials.
 * (Python: "cannot pickle ... object".)
 *
 * fixed: store the recipe — the credentials path and the project name —
 *   and open the stream in the process that uses it. A worker does so
 *   and checks that the credentials it reads name the cluster's project.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "demo-cluster.h"

#define PROJECT "squares-project"
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- ClusterRecipe: what it takes to rebuild the handle (the fix) ------- */

#define DEMO_TYPE_CLUSTER_RECIPE (cluster_recipe_get_type ())
G_DECLARE_FINAL_TYPE (ClusterRecipe, cluster_recipe, DEMO, CLUSTER_RECIPE, GObject)

struct _ClusterRecipe
{
  GObject  parent_instance;
  char    *name;
  char    *project;
  char    *credentials_path;
};

G_DEFINE_TYPE (ClusterRecipe, cluster_recipe, G_TYPE_OBJECT)

enum { R_PROP_0, R_PROP_NAME, R_PROP_PROJECT, R_PROP_CREDENTIALS_PATH, R_N_PROPS };
static GParamSpec *recipe_props[R_N_PROPS];

static void
cluster_recipe_finalize (GObject *object)
{
  ClusterRecipe *self = DEMO_CLUSTER_RECIPE (object);

  g_free (self->name);
  g_free (self->project);
  g_free (self->credentials_path);
  G_OBJECT_CLASS (cluster_recipe_parent_class)->finalize (object);
}

static char **
cluster_recipe_field (ClusterRecipe *self, guint id)
{
  switch (id)
    {
    case R_PROP_NAME: return &self->name;
    case R_PROP_PROJECT: return &self->project;
    case R_PROP_CREDENTIALS_PATH: return &self->credentials_path;
    default: return NULL;
    }
}

static void
cluster_recipe_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  char **field = cluster_recipe_field (DEMO_CLUSTER_RECIPE (object), id);

  if (field == NULL)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  else
    g_value_set_string (value, *field);
}

static void
cluster_recipe_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  char **field = cluster_recipe_field (DEMO_CLUSTER_RECIPE (object), id);

  if (field == NULL)
    G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
  else
    {
      g_free (*field);
      *field = g_value_dup_string (value);
    }
}

static void
cluster_recipe_class_init (ClusterRecipeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = cluster_recipe_finalize;
  object_class->get_property = cluster_recipe_get_property;
  object_class->set_property = cluster_recipe_set_property;
  recipe_props[R_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  recipe_props[R_PROP_PROJECT] =
    g_param_spec_string ("project", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  recipe_props[R_PROP_CREDENTIALS_PATH] =
    g_param_spec_string ("credentials-path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, R_N_PROPS, recipe_props);
}

static void
cluster_recipe_init (ClusterRecipe *self)
{
}

/* The Cluster is registered too (demo-cluster.c): the library refuses it
 * because of what it holds, not because it does not know the type. */
MP_INITIALIZER (register_cluster_recipe)
static void
register_cluster_recipe (void)
{
  mp_serialize_register_type (DEMO_TYPE_CLUSTER_RECIPE, NULL);
}

/* ---- the credentials file ----------------------------------------------- */

/* Writes a credentials file naming @project in a fresh private directory. */
static char *
write_credentials (const char *project, char **dir_out, GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("mpshare-credentials-XXXXXX", error);
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;

  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, "credentials", NULL);
  contents = g_strdup_printf ("project=%s\n", project);
  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_NONE, 0600, error))
    {
      g_rmdir (dir);
      return NULL;
    }
  *dir_out = g_steal_pointer (&dir);
  return g_steal_pointer (&path);
}

static void
remove_credentials (const char *path, const char *dir)
{
  g_unlink (path);
  g_rmdir (dir);
}

/* Reads the project named by an open credentials stream. */
static char *
read_project (GInputStream *credentials, GError **error)
{
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (credentials);
  g_autofree char *line = g_data_input_stream_read_line (lines, NULL, NULL, error);

  if (line == NULL)
    {
      if (error == NULL || *error == NULL)
        mp_set_error (error, MP_ERROR_FAILED, "the credentials file is empty");
      return NULL;
    }
  if (!g_str_has_prefix (line, "project="))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the credentials name no project");
      return NULL;
    }
  return g_strdup (line + strlen ("project="));
}

/* ---- a worker: rebuild the handle from the recipe, use it ---------------- */

/* The article's fix: open the credentials where they are used. */
static GInputStream *
open_credentials (ClusterRecipe *recipe, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (recipe->credentials_path);

  return G_INPUT_STREAM (g_file_read (file, NULL, error));
}

/* args: clusters list; result: the project the credentials named */
static gboolean
use_cluster_from_recipe (MpArgs *args, GValue *result, GError **error)
{
  MpProxy *clusters = mp_args_get_object (args, 0);
  g_auto(GValue) item = G_VALUE_INIT;
  g_autoptr(GInputStream) credentials = NULL;
  ClusterRecipe *recipe;
  char *project;

  if (!mp_list_proxy_get_item (clusters, 0, &item, error))
    return FALSE;
  if (!G_VALUE_HOLDS (&item, DEMO_TYPE_CLUSTER_RECIPE))
    {
      mp_set_error (error, MP_ERROR_FAILED, "list[0] is not a ClusterRecipe");
      return FALSE;
    }
  recipe = g_value_get_object (&item);
  if ((credentials = open_credentials (recipe, error)) == NULL ||
      (project = read_project (credentials, error)) == NULL)
    return FALSE;
  g_value_init (result, G_TYPE_STRING);
  g_value_take_string (result, project);
  return TRUE;
}
MP_TASK_DEFINE ("use-cluster-from-recipe", use_cluster_from_recipe)

/* ---- the parent ---------------------------------------------------------- */

static gboolean
store_cluster_with_open_stream (MpProxy *clusters, const char *path, GError **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = g_file_read (file, NULL, error);
  g_auto(GValue) item = G_VALUE_INIT;

  if (stream == NULL)
    return FALSE;
  g_value_init (&item, DEMO_TYPE_CLUSTER);
  g_value_take_object (&item, g_object_new (DEMO_TYPE_CLUSTER, "name", "kvyjv",
                                            "credentials", stream, NULL));
  return mp_list_proxy_append (clusters, &item, error);
}

static gboolean
store_cluster_recipe (MpProxy *clusters, const char *path, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, DEMO_TYPE_CLUSTER_RECIPE);
  g_value_take_object (&item, g_object_new (DEMO_TYPE_CLUSTER_RECIPE, "name", "kvyjv",
                                            "project", PROJECT,
                                            "credentials-path", path, NULL));
  return mp_list_proxy_append (clusters, &item, error);
}

static char *
project_seen_by_a_worker (MpProxy *clusters, GError **error)
{
  g_autoptr(MpPool) pool = mp_pool_new (1, error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, clusters, G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_auto(GValue) result = G_VALUE_INIT;
  gboolean ok;

  if (pool == NULL)
    return NULL;
  ok = (future = mp_pool_submit (pool, "use-cluster-from-recipe", args, error)) != NULL &&
       mp_future_result (future, WAIT_BACKSTOP, &result, error);
  mp_pool_shutdown (pool, TRUE);
  if (!ok)
    return NULL;
  if (!G_VALUE_HOLDS_STRING (&result))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the worker returned no project name");
      return NULL;
    }
  return g_value_dup_string (&result);
}

static const char summary[] =
  "A Cluster that keeps its credentials stream open (a live file descriptor)\n"
  "cannot be stored in a manager list: a descriptor means nothing in another\n"
  "process. --broken: unserializable, naming the field Cluster.credentials\n"
  "(Python: cannot pickle). Fix: store the recipe (project, credentials path)\n"
  "and open the stream in the process that uses it.";

/* What both halves start from: a credentials file and a manager with an
 * empty clusters list. Clearing it shuts the manager down and removes
 * the file. */
typedef struct {
  char      *dir;
  char      *path;
  MpManager *manager;
  MpProxy   *clusters;
} Setup;

static void
setup_clear (Setup *setup)
{
  g_clear_object (&setup->clusters);
  g_clear_object (&setup->manager);
  if (setup->path != NULL)
    remove_credentials (setup->path, setup->dir);
  g_clear_pointer (&setup->path, g_free);
  g_clear_pointer (&setup->dir, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Setup, setup_clear)

static gboolean
set_up (Demo  *demo,
        Setup *setup)
{
  g_autoptr(GError) error = NULL;

  demo_step (demo, "Write a credentials file for project %s; start a manager "
             "with an empty clusters list.", PROJECT);
  if ((setup->path = write_credentials (PROJECT, &setup->dir, &error)) == NULL ||
      (setup->manager = demo_start_manager (&error)) == NULL ||
      (setup->clusters = mp_manager_list (setup->manager, NULL, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  return TRUE;
}

static gboolean
half_store_live_stream (Demo *demo)
{
  g_auto(Setup) setup = { 0 };
  g_autoptr(GError) error = NULL;
  gint64 len;

  if (!set_up (demo, &setup))
    return FALSE;

  demo_step (demo, "Append a Cluster holding the open credentials stream.");
  if (store_cluster_with_open_stream (setup.clusters, setup.path, &error))
    return demo_reject (demo, "the Cluster with a live stream was stored");
  demo_print_error (error);
  if (!demo_error_is_mp (error, MP_ERROR_UNSERIALIZABLE) ||
      strstr (error->message, "Cluster.credentials") == NULL)
    return demo_reject (demo, "the error is not unserializable naming Cluster.credentials");
  g_clear_error (&error);

  demo_step (demo, "Check that the refusal left nothing in the list.");
  if ((len = mp_list_proxy_len (setup.clusters, &error)) < 0)
    return demo_reject_error (demo, error, "the run itself failed");
  if (len != 0)
    return demo_reject (demo, "the list holds %" G_GINT64_FORMAT " items after the refusal", len);
  demo_say ("=> storing the Cluster failed, naming Cluster.credentials, and the "
            "list stayed empty");
  return TRUE;
}

static gboolean
half_store_the_recipe (Demo *demo)
{
  g_auto(Setup) setup = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *project = NULL;

  if (!set_up (demo, &setup))
    return FALSE;

  demo_step (demo, "Append a ClusterRecipe: name, project, credentials path.");
  if (!store_cluster_recipe (setup.clusters, setup.path, &error))
    return demo_reject_error (demo, error, "the run itself failed");

  demo_step (demo, "A worker fetches the recipe, opens the credentials "
             "itself and reads the project they name.");
  if ((project = project_seen_by_a_worker (setup.clusters, &error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  demo_say ("the worker's credentials name the project: %s", project);
  if (!g_str_equal (project, PROJECT))
    return demo_reject (demo, "the worker read project %s, not %s", project, PROJECT);
  demo_say ("=> checked: the recipe travelled and the worker rebuilt the stream "
            "from it (project %s)", PROJECT);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "unserializable-handle",
  .summary = summary,
  .broken = half_store_live_stream,
  .fixed = half_store_the_recipe,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
