/* mp-gate-bench.c — idle peers without the key against a client with it
 *
 * The attack of issue 16: a peer that does not know the key opens many
 * connections to a manager over TCP and leaves them idle. This program
 * starts a manager under a given file limit, opens --idle such
 * connections from this process (whose own limit is raised back), then
 * measures how long a client with the key takes to get through: a bare
 * handshake, and a whole new process appending to a list. It prints how
 * many descriptors the server holds meanwhile (from /proc), so the bound
 * on what idle peers cost is seen, not assumed.
 *
 *   mp-gate-bench --limit 1024 --idle 1000
 *   mp-gate-bench --limit 20000 --idle 19000
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpshare.h"

static gboolean
task_append (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_INT64);
  g_value_set_int64 (&item, 1);
  return mp_list_proxy_append (mp_args_get_object (args, 0), &item, error);
}

MP_TASK_DEFINE ("gate-bench-append", task_append)

static gboolean
set_soft_limit (rlim_t n)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) < 0)
    return FALSE;
  limit.rlim_cur = MIN (n, limit.rlim_max);
  return setrlimit (RLIMIT_NOFILE, &limit) == 0;
}

static guint
count_fds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", (int) pid);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static GSocket *
connect_idle (GSocketAddress *target)
{
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, NULL);

  if (socket != NULL && !g_socket_connect (socket, target, NULL, NULL))
    g_clear_object (&socket);
  return socket;
}

static double
ms_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int    argc,
      char **argv)
{
  gint64 limit = 1024, idle = 1000;
  GOptionEntry entries[] = {
    { "limit", 0, 0, G_OPTION_ARG_INT64, &limit, "The server's file limit", "N" },
    { "idle", 0, 0, G_OPTION_ARG_INT64, &idle, "Idle connections without the key", "N" },
    G_OPTION_ENTRY_NULL
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new ("tcp:127.0.0.1:0", NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(GPtrArray) sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GSocketAddress) target = NULL;
  g_autoptr(MpConnection) client = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(MpProcess) process = NULL;
  const char *address;
  double handshake_ms, process_ms;
  guint fds_before, fds_during;
  gint64 start;

  mp_main_guard (argc, argv);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc > 1 ||
      limit < 64 || idle < 0)
    {
      g_printerr ("mp-gate-bench: %s\nUsage: mp-gate-bench [--limit N]"
                  " [--idle N]\n", error != NULL ? error->message : "bad arguments");
      return 2;
    }

  /* the server inherits the small limit; this process, the attacker,
   * takes back what the hard limit allows */
  if (!set_soft_limit ((rlim_t) limit) || !mp_manager_start (manager, &error) ||
      !set_soft_limit (RLIM_INFINITY))
    {
      g_printerr ("mp-gate-bench: %s\n", error != NULL ? error->message : g_strerror (errno));
      return 1;
    }
  address = mp_manager_get_address (manager);
  list = mp_manager_list (manager, NULL, &error);
  g_assert_no_error (error);
  fds_before = count_fds (mp_manager_get_server_pid (manager));
  target = g_inet_socket_address_new_from_string ("127.0.0.1",
                                                  (guint) atoi (strrchr (address, ':') + 1));

  for (gint64 i = 0; i < idle; i++)
    {
      GSocket *socket = connect_idle (target);

      if (socket == NULL)
        break;
      g_ptr_array_add (sockets, socket);
    }

  key = mp_get_auth_key ();
  start = g_get_monotonic_time ();
  client = mp_connection_connect (address, key, 10 * G_USEC_PER_SEC, &error);
  handshake_ms = ms_since (start);
  fds_during = count_fds (mp_manager_get_server_pid (manager));
  if (client == NULL)
    {
      g_printerr ("mp-gate-bench: the client with the key: %s\n", error->message);
      return 1;
    }

  args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INVALID);
  process = mp_process_new ("gate-bench-append", args);
  mp_process_set_start_method (process, MP_START_FORK);
  start = g_get_monotonic_time ();
  if (!mp_process_start (process, &error) || !mp_process_join (process, -1, &error) ||
      mp_list_proxy_len (list, &error) != 1)
    {
      g_printerr ("mp-gate-bench: a new process with the key: %s\n",
                  error != NULL ? error->message : "its append was lost");
      return 1;
    }
  process_ms = ms_since (start);

  g_print ("server file limit      %" G_GINT64_FORMAT "\n", limit);
  g_print ("idle peers held open   %u (asked for %" G_GINT64_FORMAT ")\n",
           sockets->len, idle);
  g_print ("server descriptors     %u before, %u with the idle peers\n",
           fds_before, fds_during);
  g_print ("client with the key    handshake %.1f ms; a new process's"
           " call %.1f ms\n", handshake_ms, process_ms);

  g_ptr_array_set_size (sockets, 0);
  return mp_manager_shutdown (manager, &error) ? 0 : 1;
}
