/* manager-squares.c — the article's manager sample: squares into a manager list
 *
 * A pool of 3 workers squares the numbers 0..5. Each task appends a
 * SquaredNum(num, squared_num) object to a list that lives in the manager
 * and adds its square to a manager Value `total`.
 *
 * The list is always right: every append is one operation in the server.
 * The total is not: `total += square` through a proxy is two round trips
 * (read, then write), and a worker that reads before another one writes
 * overwrites that other worker's update. The article's sample carries this
 * bug and printed 55 only because its tasks rarely overlapped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "demo-common.h"

#define N_WORKERS 3
#define N_NUMS 6                     /* the numbers 0..5 */
#define EXPECTED_TOTAL 55            /* 0 + 1 + 4 + 9 + 16 + 25 */
#define WAIT_BACKSTOP (30 * G_USEC_PER_SEC)

/* ---- SquaredNum: the article's small dataclass, as a GObject ---------- */

#define DEMO_TYPE_SQUARED_NUM (squared_num_get_type ())
G_DECLARE_FINAL_TYPE (SquaredNum, squared_num, DEMO, SQUARED_NUM, GObject)

struct _SquaredNum
{
  GObject parent_instance;
  gint64  num;
  gint64  squared_num;
};

G_DEFINE_TYPE (SquaredNum, squared_num, G_TYPE_OBJECT)

enum { PROP_0, PROP_NUM, PROP_SQUARED_NUM, N_PROPS };
static GParamSpec *squared_num_props[N_PROPS];

static void
squared_num_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  SquaredNum *self = DEMO_SQUARED_NUM (object);

  switch (id)
    {
    case PROP_NUM: g_value_set_int64 (value, self->num); break;
    case PROP_SQUARED_NUM: g_value_set_int64 (value, self->squared_num); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
squared_num_set_property (GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
  SquaredNum *self = DEMO_SQUARED_NUM (object);

  switch (id)
    {
    case PROP_NUM: self->num = g_value_get_int64 (value); break;
    case PROP_SQUARED_NUM: self->squared_num = g_value_get_int64 (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
squared_num_class_init (SquaredNumClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = squared_num_get_property;
  object_class->set_property = squared_num_set_property;
  squared_num_props[PROP_NUM] =
    g_param_spec_int64 ("num", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  squared_num_props[PROP_SQUARED_NUM] =
    g_param_spec_int64 ("squared-num", NULL, NULL, G_MININT64, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, squared_num_props);
}

static void
squared_num_init (SquaredNum *self)
{
}

static SquaredNum *
squared_num_new (gint64 num, gint64 squared_num)
{
  return g_object_new (DEMO_TYPE_SQUARED_NUM,
                       "num", num, "squared-num", squared_num, NULL);
}

/* Registered at load time, so a spawned worker or server knows it too. */
MP_INITIALIZER (register_squared_num)
static void
register_squared_num (void)
{
  mp_serialize_register_type (DEMO_TYPE_SQUARED_NUM, NULL);
}

/* ---- what a worker does ------------------------------------------------ */

static gboolean
append_squared_num (MpProxy *squared_nums, gint64 num, GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, DEMO_TYPE_SQUARED_NUM);
  g_value_take_object (&item, squared_num_new (num, num * num));
  return mp_list_proxy_append (squared_nums, &item, error);
}

static gboolean
read_total (MpProxy *total, gint64 *out, GError **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  if (!mp_value_proxy_get (total, &value, error))
    return FALSE;
  /* a manager Value ignores its typecode: take whatever integer came back */
  if (!demo_value_get_int (&value, out))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the total is not an integer");
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_total (MpProxy *total, gint64 new_total, GError **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_INT64);
  g_value_set_int64 (&value, new_total);
  return mp_value_proxy_set (total, &value, error);
}

/* All three workers meet here, so they overlap every time, not by luck. */
static gboolean
wait_for_the_other_workers (MpProxy *line_up, GError **error)
{
  return mp_barrier_proxy_wait (line_up, WAIT_BACKSTOP, error) >= 0;
}

/* A worker that failed before the barrier breaks it, so the others fail
 * at once instead of waiting for the backstop. */
static gboolean
give_up (MpProxy *line_up)
{
  mp_barrier_proxy_abort (line_up, NULL);
  return FALSE;
}

/* The article's task: append, then `total += square` — a read and a
 * write with the other workers free to write in between. The barrier
 * holds that window open, so the lost updates show on every run. */
static gboolean
add_square_unguarded (MpArgs *args, GValue *result, GError **error)
{
  gint64 num = mp_args_get_int (args, 0);
  MpProxy *squared_nums = mp_args_get_object (args, 1);
  MpProxy *total = mp_args_get_object (args, 2);
  MpProxy *line_up = mp_args_get_object (args, 3);
  gint64 seen;

  if (!append_squared_num (squared_nums, num, error) ||
      !read_total (total, &seen, error))
    return give_up (line_up);
  if (!wait_for_the_other_workers (line_up, error))
    return FALSE;
  return write_total (total, seen + num * num, error);
}
MP_TASK_DEFINE ("add-square-unguarded", add_square_unguarded)

/* The fix: hold the manager Lock across the read and the write. The
 * workers still meet at the barrier first, so they race for the lock. */
static gboolean
add_square_under_lock (MpArgs *args, GValue *result, GError **error)
{
  gint64 num = mp_args_get_int (args, 0);
  MpProxy *squared_nums = mp_args_get_object (args, 1);
  MpProxy *total = mp_args_get_object (args, 2);
  MpProxy *line_up = mp_args_get_object (args, 3);
  MpProxy *lock = mp_args_get_object (args, 4);
  gint64 seen;
  gboolean ok;

  if (!append_squared_num (squared_nums, num, error))
    return give_up (line_up);
  if (!wait_for_the_other_workers (line_up, error) ||
      !mp_lock_proxy_acquire (lock, TRUE, -1, error))
    return FALSE;
  ok = read_total (total, &seen, error) &&
       write_total (total, seen + num * num, error);
  if (!mp_lock_proxy_release (lock, ok ? error : NULL))
    return FALSE;
  return ok;
}
MP_TASK_DEFINE ("add-square-under-lock", add_square_under_lock)

/* ---- the parent's side --------------------------------------------------- */

static const char summary[] =
  "The article's manager sample: 3 pool workers square 0..5, append\n"
  "SquaredNum(num, squared_num) to a manager list and add the square to a\n"
  "manager Value. --broken runs its `total += square` (a read, then a write)\n"
  "with the workers lined up between the two: updates are lost, total < 55.\n"
  "Fix: hold a manager Lock across the read and the write; the total is 55.";

typedef struct {
  GPtrArray *squared_nums;   /* GValue*: the list in completion order */
  gint64     total;
} SquaresRun;

static void
squares_run_clear (SquaresRun *run)
{
  g_clear_pointer (&run->squared_nums, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (SquaresRun, squares_run_clear)

static gboolean
submit_and_wait (MpPool     *pool,
                 const char *task,
                 MpProxy    *squared_nums,
                 MpProxy    *total,
                 MpProxy    *line_up,
                 MpProxy    *lock,
                 GError    **error)
{
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(MpAsCompleted) completed = NULL;

  for (gint64 num = 0; num < N_NUMS; num++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, num,
                                            MP_TYPE_PROXY, squared_nums,
                                            MP_TYPE_PROXY, total,
                                            MP_TYPE_PROXY, line_up,
                                            MP_TYPE_PROXY, lock,
                                            G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (pool, task, args, error);

      if (future == NULL)
        return FALSE;
      g_ptr_array_add (futures, future);
    }

  completed = mp_as_completed_new (futures);
  for (guint i = 0; i < N_NUMS; i++)
    {
      MpFuture *future = mp_as_completed_next (completed, WAIT_BACKSTOP, error);
      g_auto(GValue) ignored = G_VALUE_INIT;

      if (future == NULL || !mp_future_result (future, 0, &ignored, error))
        return FALSE;
    }
  return TRUE;
}

/* Runs the sample with @task in a fresh manager and pool; fills @run. */
static gboolean
run_the_sample (Demo *demo, const char *task, SquaresRun *run, GError **error)
{
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpProxy) squared_nums = NULL;
  g_autoptr(MpProxy) total = NULL;
  g_autoptr(MpProxy) line_up = NULL;
  g_autoptr(MpProxy) lock = NULL;
  g_autoptr(MpPool) pool = NULL;
  g_auto(GValue) zero = G_VALUE_INIT;
  gboolean ok;

  demo_step (demo, "Start a manager holding a list, a Value('i', 0), a Lock and a "
             "Barrier for %d, and a pool of %d workers.", N_WORKERS, N_WORKERS);
  g_value_init (&zero, G_TYPE_INT);
  if ((manager = demo_start_manager (error)) == NULL ||
      (squared_nums = mp_manager_list (manager, NULL, error)) == NULL ||
      (total = mp_manager_value (manager, 'i', &zero, error)) == NULL ||
      (line_up = mp_manager_barrier (manager, N_WORKERS, error)) == NULL ||
      (lock = mp_manager_lock (manager, error)) == NULL ||
      (pool = mp_pool_new (N_WORKERS, error)) == NULL)
    return FALSE;

  demo_step (demo, "Submit \"%s\" for 0..%d and wait for all of them.", task, N_NUMS - 1);
  ok = submit_and_wait (pool, task, squared_nums, total, line_up, lock, error);
  mp_pool_shutdown (pool, TRUE);
  if (!ok)
    return FALSE;

  demo_step (demo, "Copy the list and the total out while the manager runs.");
  run->squared_nums = mp_list_proxy_copy (squared_nums, error);
  return run->squared_nums != NULL && read_total (total, &run->total, error);
}

static void
print_the_results (SquaresRun *run)
{
  g_auto(GValue) list = G_VALUE_INIT;
  g_autofree char *text = NULL;

  g_value_init (&list, MP_TYPE_GVALUE_LIST);
  g_value_set_boxed (&list, run->squared_nums);
  text = mp_gvalue_to_string (&list);
  demo_say ("squared_nums (completion order): %s", text);
  demo_say ("squared_nums_total: %" G_GINT64_FORMAT, run->total);
}

/* TRUE when the list holds exactly SquaredNum(n, n*n) for n in 0..5. */
static gboolean
list_is_complete (GPtrArray *squared_nums)
{
  gboolean seen[N_NUMS] = { FALSE };

  if (squared_nums->len != N_NUMS)
    return FALSE;
  for (guint i = 0; i < squared_nums->len; i++)
    {
      const GValue *item = g_ptr_array_index (squared_nums, i);
      SquaredNum *sq;

      if (!G_VALUE_HOLDS (item, DEMO_TYPE_SQUARED_NUM))
        return FALSE;
      sq = g_value_get_object (item);
      if (sq->num < 0 || sq->num >= N_NUMS || seen[sq->num] ||
          sq->squared_num != sq->num * sq->num)
        return FALSE;
      seen[sq->num] = TRUE;
    }
  return TRUE;
}

static gboolean
half_unguarded_total (Demo *demo)
{
  g_auto(SquaresRun) run = { NULL, 0 };
  g_autoptr(GError) error = NULL;

  demo_say ("each task appends, then does total = total + square: a read and "
            "a write, with the workers lined up between the two");
  if (!run_the_sample (demo, "add-square-unguarded", &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");
  print_the_results (&run);

  demo_step (demo, "Check the list and the total.");
  if (!list_is_complete (run.squared_nums))
    return demo_reject (demo, "the list is not SquaredNum(n, n*n) for n in 0..5");
  if (run.total == EXPECTED_TOTAL)
    return demo_reject (demo, "the total came out %d: no update was lost", EXPECTED_TOTAL);
  demo_say ("=> the list is complete, but the total is %" G_GINT64_FORMAT " instead "
            "of %d: workers wrote over each other's updates (%" G_GINT64_FORMAT
            " lost)", run.total, EXPECTED_TOTAL, EXPECTED_TOTAL - run.total);
  return TRUE;
}

static gboolean
half_total_under_lock (Demo *demo)
{
  g_auto(SquaresRun) run = { NULL, 0 };
  g_autoptr(GError) error = NULL;

  demo_say ("each task appends, then takes the manager Lock, reads, writes, "
            "releases");
  if (!run_the_sample (demo, "add-square-under-lock", &run, &error))
    return demo_reject_error (demo, error, "the run itself failed");
  print_the_results (&run);

  demo_step (demo, "Check the list and the total.");
  if (!list_is_complete (run.squared_nums))
    return demo_reject (demo, "the list is not SquaredNum(n, n*n) for n in 0..5");
  if (run.total != EXPECTED_TOTAL)
    return demo_reject (demo, "the total is %" G_GINT64_FORMAT ", not %d",
                        run.total, EXPECTED_TOTAL);
  demo_say ("=> checked: the list holds SquaredNum(n, n*n) for n in 0..5 and "
            "the total is %d", EXPECTED_TOTAL);
  return TRUE;
}

static const DemoInfo demo_info = {
  .name = "manager-squares",
  .summary = summary,
  .broken = half_unguarded_total,
  .fixed = half_total_under_lock,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
