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
 * write, because `total += x` with a lock per get and per set loses
 * updates (see the lost-update demo; the article's sample has that bug).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <unistd.h>

#include "demo-common.h"

#define N_NUMBERS     6
#define JOIN_BACKSTOP (120 * G_USEC_PER_SEC)

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
add_to_total (MpValue *total,
              gint64   x,
              GError **error)
{
  g_autoptr(MpLocker) locker = mp_locker_new (total, error);
  gint64 v;

  if (locker == NULL)
    return FALSE;
  v = mp_value_get_int (total, error);
  return *error == NULL && mp_value_set_int (total, v + x, error);
}

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
  /* a bad index is MP_ERROR_INDEX, never a write outside the array */
  return mp_array_set_int (squares, n, n * n, error) &&
         add_to_total (total, n * n, error);
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
  g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
  gboolean ok = TRUE;

  demo_step (demo, "Start one process per number 0..%d (%s) and wait for "
             "them all.", N_NUMBERS - 1,
             mp_start_method_to_string (demo_get_start_method (demo)));
  for (gint64 n = 0; n < N_NUMBERS && ok; n++)
    {
      g_autoptr(MpArgs) args = mp_args_new (G_TYPE_INT64, n, G_TYPE_INVALID);
      g_autoptr(MpProcess) process = NULL;

      if (squares != NULL)
        {
          mp_args_add_object (args, squares);
          mp_args_add_object (args, total);
        }
      process = mp_process_new (task, args);
      mp_process_set_start_method (process, demo_get_start_method (demo));
      ok = mp_process_start (process, error);
      if (ok)
        g_ptr_array_add (processes, g_steal_pointer (&process));
    }

  for (guint i = 0; i < processes->len; i++)
    {
      MpProcess *process = processes->pdata[i];
      g_autoptr(GError) join_error = NULL;
      int exitcode = -1;

      if (!mp_process_join (process, JOIN_BACKSTOP, &join_error))
        {
          mp_process_kill (process, NULL);
          mp_process_join (process, -1, NULL);
        }
      mp_process_get_exitcode (process, &exitcode);
      if (ok && exitcode != 0)
        {
          ok = FALSE;
          mp_set_error (error, MP_ERROR_PROCESS_FAILED,
                        "the process for number %u exited with %d", i, exitcode);
        }
    }
  if (ok)
    demo_say ("all %d processes exited with 0", N_NUMBERS);
  return ok;
}

static gboolean
half_plain_variables (Demo *demo)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;

  demo_step (demo, "Keep the squares and the total in ordinary variables.");
  if (!one_process_per_number (demo, "shared-squares:square-into-plain",
                               NULL, NULL, &error))
    {
      demo_print_error (error);
      return demo_reject (demo, "the processes did not run: %s", error->message);
    }

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
    {
      demo_print_error (error);
      return demo_reject (demo, "reading the shared memory failed: %s",
                          error->message);
    }
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
    {
      demo_print_error (error);
      return demo_reject (demo, "creating shared memory failed: %s", error->message);
    }
  demo_say ("each child gets both as start arguments and adds to the total "
            "holding its lock");
  if (!one_process_per_number (demo, "shared-squares:square-into-shared",
                               squares, total, &error))
    {
      demo_print_error (error);
      return demo_reject (demo, "the processes did not run: %s", error->message);
    }
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
