/* helper-orphans.c — a parent that is killed while its children run
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: helper-orphans pool|process|manager|tracker fork|spawn|forkserver
 *
 * Starts what the first argument names under the given start method:
 *   pool     a pool of 2 workers, one of them given a task that never ends;
 *   process  a child whose task never ends;
 *   manager  a manager's server, then a child whose task never ends (a
 *            forked child used to keep the server's lifeline open);
 *   tracker  named shared memory created here and in a child whose task
 *            never ends (each creator has a resource tracker).
 * Then it prints, one per line, "pid N" for every process descending from
 * it (found in /proc, whatever started them), "shm NAME" for the shared
 * memory it made, and "ready", and waits to be killed. The test kills it
 * and checks that every one of those processes and names goes away.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mpshare.h"

#define BACKSTOP_US (60 * G_USEC_PER_SEC)

static gboolean
block_forever (MpArgs  *args,
               GValue  *result,
               GError **error)
{
  for (;;)
    pause ();
  return TRUE;
}
MP_TASK_DEFINE ("orphans:block", block_forever)

/* args: (name, event): creates the memory, sets the event, blocks */
static gboolean
create_and_block (MpArgs  *args,
                  GValue  *result,
                  GError **error)
{
  MpSharedMemory *memory = mp_shared_memory_create (mp_args_get_string (args, 0), 64, error);

  if (memory == NULL)
    return FALSE;
  mp_event_set (mp_args_get_object (args, 1));
  for (;;)
    pause ();
  return TRUE;
}
MP_TASK_DEFINE ("orphans:create-and-block", create_and_block)

static void
die (const char   *what,
     const GError *error)
{
  fprintf (stderr, "helper-orphans: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

/* The parent of @pid, from /proc/PID/stat ("pid (comm) state ppid ..."). */
static pid_t
parent_of (pid_t pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *close_paren;
  int ppid = 0;
  char state;

  if (!g_file_get_contents (path, &stat, NULL, NULL) ||
      (close_paren = strrchr (stat, ')')) == NULL ||
      sscanf (close_paren + 1, " %c %d", &state, &ppid) != 2)
    return 0;
  return (pid_t) ppid;
}

/* Every process whose chain of parents leads here. */
static void
print_descendants (void)
{
  g_autoptr(GArray) found = g_array_new (FALSE, FALSE, sizeof (pid_t));
  gboolean grew = TRUE;
  pid_t self = getpid ();

  while (grew)
    {
      g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
      const char *name;

      grew = FALSE;
      while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
        {
          pid_t pid = (pid_t) g_ascii_strtoll (name, NULL, 10);
          pid_t parent;
          gboolean known = FALSE, ours = FALSE;

          if (pid <= 0 || pid == self)
            continue;
          for (guint i = 0; i < found->len; i++)
            known |= g_array_index (found, pid_t, i) == pid;
          if (known)
            continue;
          parent = parent_of (pid);
          ours = parent == self;
          for (guint i = 0; !ours && i < found->len; i++)
            ours = g_array_index (found, pid_t, i) == parent;
          if (ours)
            {
              g_array_append_val (found, pid);
              grew = TRUE;
            }
        }
    }
  for (guint i = 0; i < found->len; i++)
    printf ("pid %d\n", (int) g_array_index (found, pid_t, i));
}

static MpProcess *
start_task (const char    *task,
            MpArgs        *args,
            MpStartMethod  method)
{
  g_autoptr(GError) error = NULL;
  MpProcess *process = mp_process_new (task, args);

  mp_process_set_start_method (process, method);
  if (!mp_process_start (process, &error))
    die ("starting a child", error);
  return process;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  MpStartMethod method = MP_START_FORK;
  const char *kind;

  mp_main_guard (argc, argv);
  if (argc != 3 || !mp_start_method_from_string (argv[2], &method, &error))
    {
      fprintf (stderr, "usage: helper-orphans pool|process|manager|tracker fork|spawn|forkserver\n");
      return 2;
    }
  kind = argv[1];

  if (g_str_equal (kind, "pool"))
    {
      MpPool *pool = mp_pool_new_full (2, method, NULL, NULL, &error);

      if (pool == NULL || mp_pool_submit (pool, "orphans:block", NULL, &error) == NULL)
        die ("starting the pool", error);
    }
  else if (g_str_equal (kind, "process"))
    start_task ("orphans:block", NULL, method);
  else if (g_str_equal (kind, "manager"))
    {
      MpManager *manager = mp_manager_new (NULL, NULL);

      mp_manager_set_start_method (manager, method);
      if (!mp_manager_start (manager, &error))
        die ("starting the manager", error);
      start_task ("orphans:block", NULL, method);
    }
  else if (g_str_equal (kind, "tracker"))
    {
      g_autofree char *mine = g_strdup_printf ("mp-orphans-%d-parent", (int) getpid ());
      g_autofree char *child = g_strdup_printf ("mp-orphans-%d-child", (int) getpid ());
      MpEvent *created = mp_event_new (&error);
      g_autoptr(MpArgs) args = NULL;

      if (created == NULL || mp_shared_memory_create (mine, 64, &error) == NULL)
        die ("creating shared memory", error);
      args = mp_args_new (G_TYPE_STRING, child, MP_TYPE_EVENT, created, G_TYPE_INVALID);
      start_task ("orphans:create-and-block", args, method);
      if (!mp_event_wait (created, BACKSTOP_US, &error))
        die ("waiting for the child's shared memory", error);
      printf ("shm %s\nshm %s\n", mine, child);
    }
  else
    {
      fprintf (stderr, "helper-orphans: unknown kind '%s'\n", kind);
      return 2;
    }

  print_descendants ();
  printf ("ready\n");
  fflush (stdout);
  for (;;)
    pause ();
  return 0;
}
