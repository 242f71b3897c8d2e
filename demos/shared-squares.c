/* shared-squares.c — the article's first sample: squares into shared memory
 *
 * Numbers 0..5, one process per number. Each process squares its number,
 * stores the square at its own index of an array and adds it to a total.
 *
 * Broken: the array and the total are ordinary variables of the program.
 * Every child process works on its own copy of them (fork copies the
 * parent's memory, spawn starts a fresh program), so the parent never sees
 * a single square.
 *
 * Fixed: an MpArray and an MpValue live in shared memory; they reach the
 * children as start arguments (by inheritance: under fork and under
 * spawn). The total is updated with its lock held across read, add and
 * write (mp_value_add_int()), because `total += x` with a lock per get
 * and per set loses updates (see the lost-update demo; the article's
 * sample has that bug).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <unistd.h>

#include "demo-common.h"

#define N_NUMBERS     6

static const char summary[] =
  "One process per number squares it into an array and adds it to a total.\n"
  "With ordinary variables each child changes only its own copy: the parent\n"
  "still sees zeros. Fix: a shared MpArray and MpValue handed to each child\n"
  "when it starts (works under fork and spawn), and the total's lock held\n"
  "across the read-modify-write.";

/* ---- broken: ordinary variables ------------------------------------------- */

static gint64 plain_squares[N_NUMBERS];
static gint64 plain_total;

static gboolean
square_into_plain_task (MpArgs  *args,
                        GValue  *result,
                        GError **error)
{
  gint64 n;

  if (mp_args_get_length (args) != 1 ||
      (n = mp_args_get_int (args, 0)) < 0 || n >= N_NUMBERS)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-plain takes (number 0..%d)", N_NUMBERS - 1);
      return FALSE;
    }
  plain_squares[n] = n * n;
  plain_total += n * n;
  g_print ("   [child pid %d] squares[%" G_GINT64_FORMAT "] = %" G_GINT64_FORMAT
           ", total = %" G_GINT64_FORMAT " (in this child's own memory)\n",
           (int) getpid (), n, plain_squares[n], plain_total);
  return TRUE;
}
MP_TASK_DEFINE ("shared-squares:square-into-plain", square_into_plain_task)

/* ---- fixed: shared memory ----------------------------------------------------- */

static gboolean
square_into_shared_task (MpArgs  *args,
                         GValue  *result,
                         GError **error)
{
  MpArray *squares;
  MpValue *total;
  gint64 n;

  if (mp_args_get_length (args) != 3 ||
      !MP_IS_ARRAY (squares = mp_args_get_object (args, 1)) ||
      !MP_IS_VALUE (total = mp_args_get_object (args, 2)))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "square-into-shared takes (number, squares, total)");
      return FALSE;
    }
  n = mp_args_get_int (args, 0);
  /* a bad index is MP_ERROR_INDEX, never a write outside the array;
   * total += n * n holds the total's lock across the read, the add and
   * the write */
  return mp_array_set_int (squares, n, n * n, error) &&
         mp_value_add_int (total, n * n, error);
}
MP_TASK_DEFINE ("shared-squares:square-into-shared", square_into_shared_task)

/* ---- the parent's side ------------------------------------------------------------ */

static gboolean
one_process_per_number (Demo        *demo,
                        const char  *task,
                        MpArray     *squares,
                        MpValue     *total,
                        GError     **error)
{
  g_autoptr(GPtrArray) args_list = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_args_unref);

  demo_step (demo, "Start one process per number 0..%d (%s) and wait for "
             "them all.", N_NUMBERS - 1,
             mp_start_method_to_string (demo_get_start_method (demo)));
  for (gint64 n = 0; n < N_NUMBERS; n++)
    {
      MpArgs *args = mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID);

      if (squares != NULL)
        {
          mp_args_add_object (args, squares);
          mp_args_add_object (args, total);
        }
      g_ptr_array_add (args_list, args);
    }
  if (!demo_run_processes (demo, task, args_list, NULL, error))
    return FALSE;
  demo_say ("all %d processes exited with 0", N_NUMBERS);
  return TRUE;
}

static gboolean
half_plain_variables (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;

  demo_step (demo, "Keep the squares and the total in ordinary variables.");
  if (!one_process_per_number (demo, "shared-squares:square-into-plain",
                               NULL, NULL, &error))
    return demo_reject_error (demo, error, "the processes did not run");

  demo_step (demo, "Look at the variables in the parent.");
  shown = demo_format_ints (plain_squares, N_NUMBERS);
  demo_say ("squares: %s", shown);
  demo_say ("total: %" G_GINT64_FORMAT, plain_total);
  for (guint n = 0; n < N_NUMBERS; n++)
    if (plain_squares[n] != 0)
      return demo_reject (demo, "the parent sees squares[%u] = %" G_GINT64_FORMAT
                          ": a child's write reached it", n, plain_squares[n]);
  if (plain_total != 0)
    return demo_reject (demo, "the parent sees a total of %" G_GINT64_FORMAT,
                        plain_total);
  demo_say ("=> every child wrote its square, but into its own copy: the "
            "parent's array is still all zeros");
  return TRUE;
}

static gboolean
check_squares (Demo    *demo,
               MpArray *squares,
               MpValue *total)
{
  g_autoptr(GError) error = NULL;
  gint64 got[N_NUMBERS], sum = 0, got_total;
  g_autofree char *shown = NULL;

  demo_step (demo, "Read the shared array and total in the parent.");
  if (!mp_array_get_ints (squares, 0, N_NUMBERS, got, &error) ||
      (got_total = mp_value_get_int (total, &error), error != NULL))
    return demo_reject_error (demo, error, "reading the shared memory failed");
  shown = demo_format_ints (got, N_NUMBERS);
  demo_say ("squares: %s", shown);
  demo_say ("total: %" G_GINT64_FORMAT, got_total);
  for (gint64 n = 0; n < N_NUMBERS; n++)
    {
      if (got[n] != n * n)
        return demo_reject (demo, "squares[%" G_GINT64_FORMAT "] is %"
                            G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, n,
                            got[n], n * n);
      sum += n * n;
    }
  if (got_total != sum)
    return demo_reject (demo, "the total is %" G_GINT64_FORMAT ", not %"
                        G_GINT64_FORMAT, got_total, sum);
  demo_say ("=> checked: every square arrived and the total is their sum, %"
            G_GINT64_FORMAT, sum);
  return TRUE;
}

static gboolean
half_shared_memory (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpArray) squares = NULL;
  g_autoptr(MpValue) total = NULL;

  demo_step (demo, "Create a shared MpArray('i', %d) and MpValue('i', 0), each "
             "with its own lock.", N_NUMBERS);
  squares = mp_array_create ('i', N_NUMBERS, TRUE, &error);
  if (squares != NULL)
    total = mp_value_create ('i', TRUE, &error);
  if (total == NULL)
    return demo_reject_error (demo, error, "creating shared memory failed");
  demo_say ("each child gets both as start arguments and adds to the total "
            "holding its lock");
  /* what a start argument carries when nothing of the parent's memory
   * survives: the lab sheet asks it */
  if (demo_get_start_method (demo) == MP_START_SPAWN)
    demo_say ("under spawn a child keeps nothing of this memory but each "
              "object's file descriptor, held open across exec: it maps the "
              "same pages again");
  if (!one_process_per_number (demo, "shared-squares:square-into-shared",
                               squares, total, &error))
    return demo_reject_error (demo, error, "the processes did not run");
  return check_squares (demo, squares, total);
}

static const DemoInfo demo_info = {
  .name = "shared-squares",
  .summary = summary,
  .broken = half_plain_variables,
  .fixed = half_shared_memory,
};

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  return demo_run (&demo_info, argc, argv);
}
