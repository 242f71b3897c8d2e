/* closed-manager.c — using a proxy after its manager has shut down
 *
 * A pool of workers squares 0..5 into a list that lives in a manager. The
 * manager is scoped: it shuts down when the function that made it returns.
 *
 * broken: the function hands back the list *proxy*; reading it afterwards
 *   fails with MP_ERROR_MANAGER_CLOSED — promptly, no crash, no hang.
 *   (Python says "'ForkAwareLocal' object has no attribute 'connection'".)
 * fixed:  the function copies the list out while the manager runs and
 *   hands back the copy, which stays readable.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define N_WORKERS 3
#define N_NUMS 6
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)
#define PROMPT_LIMIT (5 * G_USEC_PER_SEC)   /* "no hang", generously */

static gboolean
append_square (MpArgs *args, GValue *result, GError **error)
{
  gint64 num = mp_args_get_int (args, 0);
  MpProxy *squares = mp_args_get_object (args, 1);
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_INT64);
  g_value_set_int64 (&item, num * num);
  return mp_list_proxy_append (squares, &item, error);
}
MP_TASK_DEFINE ("append-square", append_square)

static gboolean
square_in_workers (MpProxy *squares, GError **error)
{
  g_autoptr(MpPool) pool = mp_pool_new (N_WORKERS, error);
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);
  g_autoptr(GPtrArray) results = NULL;

  if (pool == NULL)
    return FALSE;
  for (gint64 num = 0; num < N_NUMS; num++)
    {
      g_ptr_array_add (args_list, mp_args_new (G_TYPE_INT64, num,
                                               MP_TYPE_PROXY, squares,
                                               G_TYPE_INVALID));
    }
  results = mp_pool_map (pool, "append-square", args_list, WAIT_BACKSTOP, error);
  mp_pool_shutdown (pool, TRUE);
  return results != NULL;
}

/* broken: the manager lives only inside this function; the proxy escapes. */
static MpProxy *
squares_in_a_scoped_manager (GError **error)
{
  g_autoptr(MpManager) manager = demo_start_manager (error);
  g_autoptr(MpProxy) squares = NULL;

  if (manager == NULL ||
      (squares = mp_manager_list (manager, NULL, error)) == NULL ||
      !square_in_workers (squares, error))
    return NULL;
  return g_steal_pointer (&squares);
}   /* <- the manager shuts down here */

/* fixed: the same, but copy the values out before the scope ends. */
static GPtrArray *
squares_copied_out_of_a_scoped_manager (GError **error)
{
  g_autoptr(MpManager) manager = demo_start_manager (error);
  g_autoptr(MpProxy) squares = NULL;

  if (manager == NULL ||
      (squares = mp_manager_list (manager, NULL, error)) == NULL ||
      !square_in_workers (squares, error))
    return NULL;
  return mp_list_proxy_copy (squares, error);
}   /* <- the manager shuts down here; the copy lives on */

static char *
list_to_string (GPtrArray *items)
{
  g_auto(GValue) list = G_VALUE_INIT;

  g_value_init (&list, MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (&list, items);
  return mp_gvalue_to_string (&list);
}

/* TRUE when @items are the squares of 0..5, in any order. */
static gboolean
are_the_squares (GPtrArray *items)
{
  gboolean seen[N_NUMS] = { FALSE };

  if (items->len != N_NUMS)
    return FALSE;
  for (guint i = 0; i < items->len; i++)
    {
      gint64 v, root;

      if (!demo_value_get_int (g_ptr_array_index (items, i), &v))
        return FALSE;
      for (root = 0; root < N_NUMS && root * root != v; root++)
        ;
      if (root == N_NUMS || seen[root])
        return FALSE;
      seen[root] = TRUE;
    }
  return TRUE;
}

static const char summary[] =
  "A manager lives only as long as its scope: when the function that made it\n"
  "returns, the server shuts down. --broken hands the list *proxy* out of the\n"
  "scope and reads it afterwards: manager-closed, promptly, no hang (Python:\n"
  "'ForkAwareLocal' object has no attribute 'connection').\n"
  "Fix: copy the values out while the manager still runs and use the copy.";

static gboolean
half_proxy_outlives_manager (Demo *demo)
{
  g_autoptr(MpProxy) squares = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start, elapsed;

  demo_step (demo, "Inside a function: start a manager, let %d workers append the "
             "squares of 0..%d to a manager list, return the list proxy.",
             N_WORKERS, N_NUMS - 1);
  if ((squares = squares_in_a_scoped_manager (&error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  demo_say ("the function returned: its manager has shut down");

  demo_step (demo, "Read the list through the proxy.");
  start = g_get_monotonic_time ();
  items = mp_list_proxy_copy (squares, &error);
  elapsed = g_get_monotonic_time () - start;
  if (items != NULL)
    return demo_reject (demo, "the proxy was still readable after the scope");
  demo_print_error (error);
  if (!demo_error_is_mp (error, MP_ERROR_MANAGER_CLOSED))
    return demo_reject (demo, "the read failed, but not with manager-closed");
  if (elapsed > PROMPT_LIMIT)
    return demo_reject (demo, "the error took %.1f s to arrive", elapsed / 1e6);
  demo_say ("=> reading after the scope failed with manager-closed in %.2f ms",
            elapsed / 1e3);
  demo_show_timeline (demo, "the manager ends with its scope, the proxy lives on");
  return TRUE;
}

static gboolean
half_copy_out_in_scope (Demo *demo)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  demo_step (demo, "Inside a function: the same, but copy the list out before "
             "returning.");
  if ((items = squares_copied_out_of_a_scoped_manager (&error)) == NULL)
    return demo_reject_error (demo, error, "the run itself failed");
  demo_say ("the function returned: its manager has shut down");

  demo_step (demo, "Use the copy.");
  text = list_to_string (items);
  demo_say ("squares, read after the manager shut down: %s", text);
  if (!are_the_squares (items))
    return demo_reject (demo, "the copy does not hold the squares of 0..%d", N_NUMS - 1);
  demo_say ("=> checked: the copy holds the squares of 0..%d", N_NUMS - 1);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "closed-manager",
  .tells_a_story = TRUE,
  .summary = summary,
  .broken = half_proxy_outlives_manager,
  .fixed = half_copy_out_in_scope,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
