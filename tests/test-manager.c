/* test-manager.c — the manager: server lifetime, references, processes,
 * pools, hostile clients, the closed-manager and manager-as-argument
 * pitfalls
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mp-connection.h"
#include "mp-gate-private.h"
#include "mp-manager-private.h"
#include "test-manager-common.h"

#define END G_MININT
#define CLOSED_WORDS "'ForkAwareLocal' object has no attribute 'connection'"
/* a backstop for waiting on the server to notice something */
#define NOTICE_US (30 * G_USEC_PER_SEC)

/* ------------------------------------------------------------------ */
/* tasks run by children                                                */
/* ------------------------------------------------------------------ */

/* (list, n): appends n */
static gboolean
task_append (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  MpProxy *list = mp_args_get_object (args, 0);
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_INT64);
  g_value_set_int64 (&item, mp_args_get_int (args, 1));
  return mp_list_proxy_append (list, &item, error);
}

MP_TASK_DEFINE ("manager-append", task_append)

/* (list, n): appends n * n and returns it (the article's sample 1) */
static gboolean
task_square (MpArgs  *args,
             GValue  *result,
             GError **error)
{
  MpProxy *list = mp_args_get_object (args, 0);
  gint64 n = mp_args_get_int (args, 1);
  g_auto(GValue) item = G_VALUE_INIT;

  g_value_init (&item, G_TYPE_INT64);
  g_value_set_int64 (&item, n * n);
  if (!mp_list_proxy_append (list, &item, error))
    return FALSE;
  g_value_init (result, G_TYPE_INT64);
  g_value_set_int64 (result, n * n);
  return TRUE;
}

MP_TASK_DEFINE ("manager-square", task_square)

/* (list, gate): once the gate opens, the manager is gone: the proxy must
 * fail with the closed-manager error */
static gboolean
task_expect_closed (MpArgs  *args,
                    GValue  *result,
                    GError **error)
{
  MpProxy *list = mp_args_get_object (args, 0);
  TestFd *gate = mp_args_get_object (args, 1);
  g_autoptr(GError) local = NULL;

  if (!test_fd_read_byte (test_fd_get_fd (gate)))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the gate closed without opening");
      return FALSE;
    }
  if (mp_list_proxy_len (list, &local) != -1 ||
      !g_error_matches (local, MP_ERROR, MP_ERROR_MANAGER_CLOSED) ||
      strstr (local->message, CLOSED_WORDS) == NULL)
    {
      mp_set_error (error, MP_ERROR_FAILED, "expected the closed-manager error, got: %s",
                    local != NULL ? local->message : "success");
      return FALSE;
    }
  return TRUE;
}

MP_TASK_DEFINE ("manager-expect-closed", task_expect_closed)

/* (list): the server is alive but out of descriptors: the call must say
 * "refused", never the closed-manager pitfall */
static gboolean
task_expect_refused (MpArgs  *args,
                     GValue  *result,
                     GError **error)
{
  MpProxy *list = mp_args_get_object (args, 0);
  g_autoptr(GError) local = NULL;

  if (mp_list_proxy_len (list, &local) != -1 ||
      !g_error_matches (local, MP_ERROR, MP_ERROR_REFUSED) ||
      strstr (local->message, "out of") == NULL)
    {
      mp_set_error (error, MP_ERROR_FAILED, "expected a refusal, got: %s",
                    local != NULL ? local->message : "success");
      return FALSE;
    }
  return TRUE;
}

MP_TASK_DEFINE ("manager-expect-refused", task_expect_refused)

/* (barrier): waits; the exit status says whether it passed */
static gboolean
task_barrier (MpArgs  *args,
              GValue  *result,
              GError **error)
{
  return mp_barrier_proxy_wait (mp_args_get_object (args, 0), -1, error) >= 0;
}

MP_TASK_DEFINE ("manager-barrier", task_barrier)

/* (barrier, queue): meets the parent, then blocks in get until killed or
 * given an item, which it checks */
static gboolean
task_barrier_then_get (MpArgs  *args,
                       GValue  *result,
                       GError **error)
{
  g_auto(GValue) item = G_VALUE_INIT;

  if (mp_barrier_proxy_wait (mp_args_get_object (args, 0), -1, error) < 0 ||
      !mp_queue_proxy_get (mp_args_get_object (args, 1), TRUE, -1, &item, error))
    return FALSE;
  if (!G_VALUE_HOLDS_STRING (&item) || g_strcmp0 (g_value_get_string (&item), "for the child") != 0)
    {
      mp_set_error (error, MP_ERROR_FAILED, "the child got the wrong item");
      return FALSE;
    }
  return TRUE;
}

MP_TASK_DEFINE ("manager-barrier-then-get", task_barrier_then_get)

/* (lock): takes the lock and exits without releasing it */
static gboolean
task_take_lock (MpArgs  *args,
                GValue  *result,
                GError **error)
{
  return mp_lock_proxy_acquire (mp_args_get_object (args, 0), TRUE, -1, error);
}

MP_TASK_DEFINE ("manager-take-lock", task_take_lock)

/* (list): item 0 is a dict proxy; writes through it */
static gboolean
task_write_nested (MpArgs  *args,
                   GValue  *result,
                   GError **error)
{
  g_auto(GValue) nested = G_VALUE_INIT;
  g_auto(GValue) pid = G_VALUE_INIT;

  if (!mp_list_proxy_get_item (mp_args_get_object (args, 0), 0, &nested, error))
    return FALSE;
  if (!G_VALUE_HOLDS (&nested, MP_TYPE_PROXY))
    {
      mp_set_error (error, MP_ERROR_FAILED, "the nested proxy came back as a %s",
                    G_VALUE_TYPE_NAME (&nested));
      return FALSE;
    }
  g_value_init (&pid, G_TYPE_INT64);
  g_value_set_int64 (&pid, getpid ());
  return mp_dict_proxy_set_item (g_value_get_object (&nested), "writer", &pid, error);
}

MP_TASK_DEFINE ("manager-write-nested", task_write_nested)

/* (manager): never runs: the manager cannot travel */
static gboolean
task_use_manager (MpArgs  *args,
                  GValue  *result,
                  GError **error)
{
  return TRUE;
}

MP_TASK_DEFINE ("manager-use-manager", task_use_manager)

/* ------------------------------------------------------------------ */
/* helpers                                                              */
/* ------------------------------------------------------------------ */

static void
run_process (MpStartMethod  method,
             const char    *task,
             MpArgs        *args,
             int            expected_exitcode)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProcess) process = mp_process_new (task, args);
  int exitcode = -1;

  mp_process_set_start_method (process, method);
  g_assert_true (mp_process_start (process, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_join (process, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_get_exitcode (process, &exitcode));
  g_assert_cmpint (exitcode, ==, expected_exitcode);
}

/* The server notices a dead client when its socket ends, a moment after
 * the kernel closed it: wait for that state, asking the server. */
static void
await_counts (MpManager *manager,
              guint      objects,
              guint      refs)
{
  gint64 deadline = g_get_monotonic_time () + NOTICE_US;

  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint n_objects, n_refs;

      g_assert_true (mp_manager_debug_info (manager, &n_objects, &n_refs, &error));
      if (n_objects == objects && n_refs == refs)
        return;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_thread_yield ();
    }
}

static void
await_barrier (MpProxy    *barrier,
               const char *name,
               gint64      value)
{
  gint64 deadline = g_get_monotonic_time () + NOTICE_US;

  while (barrier_attribute (barrier, name) != value)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_thread_yield ();
    }
}

static void
assert_closed (const GError *error)
{
  g_assert_error (error, MP_ERROR, MP_ERROR_MANAGER_CLOSED);
  g_assert_nonnull (strstr (error->message, CLOSED_WORDS));
  g_assert_nonnull (strstr (error->message, mp_error_fix (MP_ERROR_MANAGER_CLOSED)));
}

static void
add_both (const char   *path_format,
          void        (*func) (Fixture *, gconstpointer))
{
  static const MpStartMethod methods[] = { MP_START_FORK, MP_START_SPAWN, MP_START_FORKSERVER };

  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autofree char *path = g_strdup_printf (path_format, mp_start_method_to_string (methods[i]));

      g_test_add (path, Fixture, GINT_TO_POINTER (methods[i]), fixture_setup, func, fixture_teardown);
    }
}

/* ------------------------------------------------------------------ */
/* lifetime                                                             */
/* ------------------------------------------------------------------ */

static void
test_start (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autofree char *dir = NULL;

  g_assert_null (mp_manager_get_address (manager));
  g_assert_false (mp_manager_is_running (manager));
  g_assert_cmpint (mp_manager_get_server_pid (manager), ==, 0);
  g_assert_null (mp_manager_list (manager, NULL, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (mp_manager_shutdown (manager, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  mp_manager_set_start_method (manager, TEST_METHOD (data));
  g_assert_true (mp_manager_start (manager, &error));
  g_assert_no_error (error);
  g_assert_true (mp_manager_is_running (manager));
  g_assert_cmpint (mp_manager_get_server_pid (manager), >, 0);
  g_assert_cmpint (mp_manager_get_server_pid (manager), !=, getpid ());
  dir = manager_private_dir (manager);
  g_assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));

  g_assert_false (mp_manager_start (manager, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (mp_manager_shutdown (manager, &error));
  g_assert_true (mp_manager_shutdown (manager, &error));
  g_assert_no_error (error);
  g_assert_false (mp_manager_is_running (manager));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  test_assert_no_children ();

  g_assert_false (mp_manager_start (manager, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
}

static void
test_bad_address (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new ("unix:relative/path", NULL);

  g_assert_false (mp_manager_start (manager, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_INVALID_ARGUMENT);
  g_assert_false (mp_manager_is_running (manager));
  test_assert_no_children ();
}

/* ------------------------------------------------------------------ */
/* the closed-manager pitfall                                           */
/* ------------------------------------------------------------------ */

static void
test_closed_parent (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpProxy) dict = NULL;
  g_autoptr(MpProxy) queue = NULL;
  g_autoptr(MpProxy) lock = NULL;
  g_autoptr(MpProxy) value = NULL;
  g_autoptr(GValue) one = value_int (1);
  g_autofree char *dir = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  g_autoptr(GPtrArray) copy = NULL;

  {
    g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);

    mp_manager_set_start_method (manager, TEST_METHOD (data));
    g_assert_true (mp_manager_start (manager, &error));
    dir = manager_private_dir (manager);
    list = mp_manager_list (manager, NULL, &error);
    dict = mp_manager_dict (manager, NULL, &error);
    queue = mp_manager_queue (manager, 0, &error);
    lock = mp_manager_lock (manager, &error);
    value = mp_manager_value (manager, 'i', one, &error);
    g_assert_no_error (error);
    g_assert_true (mp_list_proxy_append (list, one, &error));
    /* the fix: copy the results out while the manager lives */
    copy = mp_list_proxy_copy (list, &error);
    g_assert_no_error (error);
  }
  /* the scope ended: the server is gone, nothing is left behind */
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  test_assert_no_children ();
  assert_int_list (copy, 1, END);

  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, -1);
  assert_closed (error);
  g_clear_error (&error);
  g_assert_false (mp_list_proxy_append (list, one, &error));
  assert_closed (error);
  g_clear_error (&error);
  g_assert_false (mp_dict_proxy_get_item (dict, "a", &out, &error));
  assert_closed (error);
  g_clear_error (&error);
  g_assert_false (mp_queue_proxy_get (queue, TRUE, -1, &out, &error));
  assert_closed (error);
  g_clear_error (&error);
  g_assert_false (mp_lock_proxy_acquire (lock, TRUE, -1, &error));
  assert_closed (error);
  g_clear_error (&error);
  g_assert_false (mp_value_proxy_get (value, &out, &error));
  assert_closed (error);
}

static void
test_closed_child (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpProcess) child = NULL;
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(TestFd) gate_fd = NULL;
  TestPipe gate;
  int exitcode = -1;

  g_assert_true (mp_manager_start (manager, &error));
  list = mp_manager_list (manager, NULL, &error);
  g_assert_no_error (error);

  test_pipe_open (&gate);
  gate_fd = test_fd_new (gate.read_end);
  args = mp_args_new (MP_TYPE_PROXY, list, TEST_TYPE_FD, gate_fd, G_TYPE_INVALID);
  child = mp_process_new ("manager-expect-closed", args);
  mp_process_set_start_method (child, TEST_METHOD (data));
  g_assert_true (mp_process_start (child, &error));
  g_assert_no_error (error);

  /* the parent ends the manager while the child still holds a proxy */
  g_assert_true (mp_manager_shutdown (manager, &error));
  g_assert_no_error (error);
  test_pipe_release (&gate);
  g_assert_true (mp_process_join (child, -1, &error));
  g_assert_true (mp_process_get_exitcode (child, &exitcode));
  g_assert_cmpint (exitcode, ==, 0);
  test_pipe_close (&gate);
}

static void
test_closed_server_died (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpProxy) other = NULL;
  g_autofree char *dir = NULL;

  mp_manager_set_start_method (manager, TEST_METHOD (data));
  g_assert_true (mp_manager_start (manager, &error));
  dir = manager_private_dir (manager);
  list = mp_manager_list (manager, NULL, &error);
  other = mp_manager_list (manager, NULL, &error);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);
  g_assert_no_error (error);

  /* the server dies without a word: no shutdown, no cleanup of its own */
  g_assert_cmpint (kill (mp_manager_get_server_pid (manager), SIGKILL), ==, 0);
  /* an idle connection finds the end of the stream */
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, -1);
  assert_closed (error);
  g_clear_error (&error);
  /* and a new connection finds nobody listening */
  g_assert_cmpint (mp_list_proxy_len (other, &error), ==, -1);
  assert_closed (error);
  g_clear_error (&error);

  /* the manager reaps the server and removes what it left */
  g_clear_object (&manager);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  test_assert_no_children ();
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, -1);
  assert_closed (error);
}

/* A server killed on an explicit path leaves its socket file; the next
 * manager on that path takes the place over instead of failing with
 * "Address already in use". */
static void
test_explicit_path_after_kill (gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = NULL;
  g_autoptr(MpManager) next = NULL;
  g_autoptr(MpProxy) list = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-manager-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "manager.sock", NULL);
  g_autofree char *address = g_strconcat ("unix:", path, NULL);

  g_assert_no_error (error);
  manager = mp_manager_new (address, NULL);
  mp_manager_set_start_method (manager, TEST_METHOD (data));
  g_assert_true (mp_manager_start (manager, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kill (mp_manager_get_server_pid (manager), SIGKILL), ==, 0);
  g_clear_object (&manager);
  test_assert_no_children ();
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));

  next = mp_manager_new (address, NULL);
  mp_manager_set_start_method (next, TEST_METHOD (data));
  g_assert_true (mp_manager_start (next, &error));
  g_assert_no_error (error);
  list = mp_manager_list (next, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);
  g_assert_true (mp_manager_shutdown (next, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_no_errno (g_rmdir (dir));
}

/* ------------------------------------------------------------------ */
/* peers without the key                                                */
/* ------------------------------------------------------------------ */

/* The server inherits the limit: both sides run short of descriptors. */
static void
lower_file_limit (rlim_t n)
{
  struct rlimit limit;

  g_assert_no_errno (getrlimit (RLIMIT_NOFILE, &limit));
  limit.rlim_cur = MIN (n, limit.rlim_max);
  g_assert_no_errno (setrlimit (RLIMIT_NOFILE, &limit));
}

/* A peer that connects and says nothing: it holds a descriptor of the
 * server and does not know the key. */
static GSocket *
connect_idle (const char *address)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) target = NULL;
  GSocket *socket;
  const char *port = strrchr (address, ':');

  g_assert_true (g_str_has_prefix (address, "tcp:127.0.0.1:"));
  target = g_inet_socket_address_new_from_string ("127.0.0.1", (guint) atoi (port + 1));
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, target, NULL, &error));
  g_assert_no_error (error);
  return socket;
}

#define IDLE_PEERS 200

/* The issue's attack: a few hundred idle connections from a peer without
 * the key, under a small file limit. The server holds a bounded number
 * of them, tells the ones it drops why, never runs out of descriptors,
 * and a client with the key gets through. */
static void
test_gate_idle_peers (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpManager) manager = mp_manager_new ("tcp:127.0.0.1:0", NULL);
      g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr(MpProxy) list = NULL;
      g_autoptr(MpConnection) client = NULL;
      g_autoptr(MpConnection) oldest = NULL;
      g_autoptr(GBytes) challenge = NULL;
      g_autoptr(GBytes) refusal = NULL;
      g_autoptr(GBytes) key = mp_get_auth_key ();
      g_autoptr(MpArgs) args = NULL;
      const char *address;

      /* the server's warnings are what the parent looks for */
      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      lower_file_limit (256);
      mp_manager_set_start_method (manager, MP_START_FORK);
      g_assert_true (mp_manager_start (manager, &error));
      g_assert_no_error (error);
      address = mp_manager_get_address (manager);
      list = mp_manager_list (manager, NULL, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < IDLE_PEERS; i++)
        g_ptr_array_add (idle, connect_idle (address));

      /* a client with the key: a bare handshake, then a whole process */
      client = mp_connection_connect (address, key, NOTICE_US, &error);
      g_assert_no_error (error);
      args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, G_GINT64_CONSTANT (5),
                          G_TYPE_INVALID);
      run_process (MP_START_FORK, "manager-append", args, 0);
      g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 1);

      /* the oldest idle peer lost its place, and was told so */
      oldest = mp_connection_new_for_socket (g_ptr_array_index (idle, 0));
      challenge = mp_connection_recv_bytes (oldest, NOTICE_US, &error);
      g_assert_no_error (error);
      g_assert_true (g_str_has_prefix (g_bytes_get_data (challenge, NULL), "#CHALLENGE#"));
      refusal = mp_connection_recv_bytes (oldest, NOTICE_US, &error);
      g_assert_no_error (error);
      g_assert_cmpmem (g_bytes_get_data (refusal, NULL), strlen ("#REFUSED#busy"),
                       "#REFUSED#busy", strlen ("#REFUSED#busy"));

      g_assert_true (mp_manager_shutdown (manager, &error));
      g_assert_no_error (error);
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr_unmatched ("*Too many open files*");
  g_test_trap_assert_stderr_unmatched ("*out of file descriptors*");
}

#define HELD_CLIENTS 30

/* Out of descriptors because of clients with the key: a new client is
 * told the live server refuses it (no closed-manager message), the
 * server warns once instead of for every attempt, the clients it serves
 * go on, and it recovers once some leave. */
static void
test_gate_out_of_descriptors (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpManager) manager = mp_manager_new (NULL, NULL);
      g_autoptr(GPtrArray) held = g_ptr_array_new_with_free_func ((GDestroyNotify) mp_connection_unref);
      g_autoptr(MpProxy) list = NULL;
      g_autoptr(GBytes) key = mp_get_auth_key ();
      g_autoptr(MpArgs) args = NULL;
      guint refused = 0;

      g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
      lower_file_limit (64);
      mp_manager_set_start_method (manager, MP_START_FORK);
      g_assert_true (mp_manager_start (manager, &error));
      g_assert_no_error (error);
      list = mp_manager_list (manager, NULL, &error);
      g_assert_no_error (error);

      for (guint i = 0; i < HELD_CLIENTS; i++)
        {
          MpConnection *c = mp_connection_connect (mp_manager_get_address (manager), key,
                                                   NOTICE_US, &error);
          if (c != NULL)
            g_ptr_array_add (held, c);
          else
            {
              g_assert_error (error, MP_ERROR, MP_ERROR_REFUSED);
              g_clear_error (&error);
              refused++;
            }
        }
      g_test_message ("held %u connections, %u refused at the handshake",
                      held->len, refused);

      args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INVALID);
      run_process (MP_START_FORK, "manager-expect-refused", args, 0);
      /* a client already served is not disturbed */
      g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);
      g_assert_no_error (error);

      g_ptr_array_set_size (held, 0);
      g_clear_pointer (&args, mp_args_unref);
      args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, G_GINT64_CONSTANT (3),
                          G_TYPE_INVALID);
      run_process (MP_START_FORK, "manager-append", args, 0);
      g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 1);
      g_assert_true (mp_manager_shutdown (manager, &error));
      g_assert_no_error (error);
      return;
    }
  g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  /* one warning per episode, not one per attempt */
  g_test_trap_assert_stderr_unmatched ("*WARNING*WARNING*WARNING*");
}

/* ------------------------------------------------------------------ */
/* references                                                           */
/* ------------------------------------------------------------------ */

static void
test_refcount_release (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(MpProxy) dict = mp_manager_dict (f->manager, NULL, &error);
  g_autoptr(MpProxy) lock = mp_manager_lock (f->manager, &error);
  g_autoptr(MpArgs) args = NULL;

  g_assert_no_error (error);
  assert_counts (f->manager, 3, 3);

  /* a child takes a reference of its own and gives it back */
  args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, G_GINT64_CONSTANT (7), G_TYPE_INVALID);
  run_process (MP_START_FORK, "manager-append", args, 0);
  assert_counts (f->manager, 3, 3);
  assert_list_proxy_ints (list, 7, END);

  g_clear_object (&dict);
  assert_counts (f->manager, 2, 2);
  g_clear_object (&lock);
  g_clear_pointer (&args, mp_args_unref);
  g_clear_object (&list);
  assert_counts (f->manager, 0, 0);
}

static void
test_nested_proxy (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(MpProxy) dict = mp_manager_dict (f->manager, NULL, &error);
  g_autoptr(GValue) stored = value_proxy (dict);
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(MpArgs) args = NULL;
  g_auto(GValue) out = G_VALUE_INIT;
  g_auto(GValue) writer = G_VALUE_INIT;
  MpProxy *nested;

  g_assert_no_error (error);
  g_assert_true (mp_list_proxy_append (list, stored, &error));
  g_clear_pointer (&stored, mp_gvalue_free);

  /* read back, it is still a proxy of the same object, not a copy */
  g_assert_true (mp_list_proxy_get_item (list, 0, &out, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS (&out, MP_TYPE_PROXY));
  nested = g_value_get_object (&out);
  g_assert_true (nested != dict);
  g_assert_cmpuint (mp_proxy_get_id (nested), ==, mp_proxy_get_id (dict));
  g_assert_cmpstr (mp_proxy_get_typeid (nested), ==, "dict");
  g_assert_true (mp_dict_proxy_set_item (nested, "k", one, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mp_dict_proxy_len (dict, &error), ==, 1);
  g_value_unset (&out);

  /* through a child too */
  args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INVALID);
  run_process (MP_START_SPAWN, "manager-write-nested", args, 0);
  g_assert_true (mp_dict_proxy_get_item (dict, "writer", &writer, &error));
  g_assert_no_error (error);
  g_assert_cmpint (value_get_int (&writer), >, 0);

  /* the list keeps the dict alive after its last proxy is gone */
  g_clear_object (&dict);
  assert_counts (f->manager, 2, 2);
  g_assert_true (mp_list_proxy_pop (list, 0, &out, &error));
  g_assert_no_error (error);
  nested = g_value_get_object (&out);
  assert_counts (f->manager, 2, 2);
  g_assert_cmpint (mp_dict_proxy_len (nested, &error), ==, 2);
  g_assert_no_error (error);
  g_value_unset (&out);
  assert_counts (f->manager, 1, 1);

  /* a freed container releases what it held, nested at any depth */
  dict = mp_manager_dict (f->manager, NULL, &error);
  stored = mp_gvalue_new (MP_TYPE_GVALUE_LIST);
  g_value_take_boxed (stored, mp_gvalue_list_new ());
  g_ptr_array_add (g_value_get_boxed (stored), value_proxy (dict));
  g_assert_true (mp_list_proxy_append (list, stored, &error));
  g_assert_no_error (error);
  g_clear_pointer (&stored, mp_gvalue_free);
  g_clear_object (&dict);
  assert_counts (f->manager, 2, 2);
  g_clear_pointer (&args, mp_args_unref);
  g_clear_object (&list);
  assert_counts (f->manager, 0, 0);
}

/* ------------------------------------------------------------------ */
/* processes and pools                                                  */
/* ------------------------------------------------------------------ */

static void
test_process_args (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);

  g_assert_no_error (error);
  for (gint64 i = 1; i <= 2; i++)
    {
      g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, i, G_TYPE_INVALID);

      /* the server was started one way, the children the other way too */
      run_process (i == 1 ? MP_START_FORK : MP_START_SPAWN, "manager-append", args, 0);
    }
  assert_list_proxy_ints (list, 1, 2, END);
}

static void
test_pool_args (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(MpPool) pool = mp_pool_new_full (3, TEST_METHOD (data), NULL, NULL, &error);
  g_autoptr(GPtrArray) futures = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 total = 0;

  g_assert_no_error (error);
  for (gint64 n = 0; n < 6; n++)
    {
      g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, n, G_TYPE_INVALID);
      MpFuture *future = mp_pool_submit (pool, "manager-square", args, &error);

      g_assert_no_error (error);
      g_ptr_array_add (futures, future);
    }
  for (guint i = 0; i < futures->len; i++)
    {
      g_auto(GValue) result = G_VALUE_INIT;

      g_assert_true (mp_future_result (g_ptr_array_index (futures, i), -1, &result, &error));
      g_assert_no_error (error);
      g_assert_cmpint (value_get_int (&result), ==, (gint64) i * i);
      total += value_get_int (&result);
    }
  /* workers give their references back before they exit */
  mp_pool_shutdown (pool, TRUE);

  g_assert_true (mp_list_proxy_sort (list, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 0, 1, 4, 9, 16, 25, END);
  g_assert_cmpint (total, ==, 55);
}

static void
test_concurrent_barrier (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 4, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, barrier, G_TYPE_INVALID);
  MpProcess *children[3];

  g_assert_no_error (error);
  /* each party blocks in the server until the last arrives: a server that
   * served one call at a time would never get there */
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      children[i] = mp_process_new ("manager-barrier", args);
      mp_process_set_start_method (children[i], TEST_METHOD (data));
      g_assert_true (mp_process_start (children[i], &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), >=, 0);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (children); i++)
    {
      int exitcode = -1;

      g_assert_true (mp_process_join (children[i], -1, &error));
      g_assert_true (mp_process_get_exitcode (children[i], &exitcode));
      g_assert_cmpint (exitcode, ==, 0);
      g_object_unref (children[i]);
    }
}

static void
test_concurrent_queue (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 2, &error);
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, barrier, MP_TYPE_PROXY, queue, G_TYPE_INVALID);
  g_autoptr(MpProcess) child = mp_process_new ("manager-barrier-then-get", args);
  g_autoptr(GValue) item = value_string ("for the child");
  int exitcode = -1;

  g_assert_no_error (error);
  g_assert_true (mp_process_start (child, &error));
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), >=, 0);
  /* the child is (about to be) blocked in get; we are still served */
  g_assert_cmpint (mp_queue_proxy_qsize (queue, &error), ==, 0);
  g_assert_true (mp_queue_proxy_put (queue, item, TRUE, -1, &error));
  g_assert_no_error (error);
  g_assert_true (mp_process_join (child, -1, &error));
  g_assert_true (mp_process_get_exitcode (child, &exitcode));
  g_assert_cmpint (exitcode, ==, 0);
}

/* ------------------------------------------------------------------ */
/* failing clients                                                      */
/* ------------------------------------------------------------------ */

static void
test_client_killed_barrier (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 2, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, barrier, G_TYPE_INVALID);
  g_autoptr(MpProcess) child = mp_process_new ("manager-barrier", args);

  g_assert_no_error (error);
  g_assert_true (mp_process_start (child, &error));
  await_barrier (barrier, "n_waiting", 1);

  /* killed in the middle of Barrier.wait */
  g_assert_true (mp_process_kill (child, &error));
  g_assert_true (mp_process_join (child, -1, &error));
  g_assert_no_error (error);

  /* the server noticed: the dead party left and broke the barrier, as a
   * timeout would, instead of letting the next one pass with a ghost */
  await_barrier (barrier, "broken", TRUE);
  g_assert_cmpint (barrier_attribute (barrier, "n_waiting"), ==, 0);
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), ==, -1);
  g_assert_error (error, MP_ERROR, MP_ERROR_BROKEN_BARRIER);
  g_clear_error (&error);

  /* the server goes on serving; the child's references are given back */
  g_assert_true (mp_barrier_proxy_reset (barrier, &error));
  g_assert_no_error (error);
  g_clear_object (&child);
  g_clear_pointer (&args, mp_args_unref);
  g_clear_object (&barrier);
  await_counts (f->manager, 0, 0);
}

static void
test_client_killed_queue (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) barrier = mp_manager_barrier (f->manager, 2, &error);
  g_autoptr(MpProxy) queue = mp_manager_queue (f->manager, 0, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, barrier, MP_TYPE_PROXY, queue, G_TYPE_INVALID);
  g_autoptr(MpProcess) child = mp_process_new ("manager-barrier-then-get", args);
  g_autoptr(GValue) item = value_string ("for the parent");
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_no_error (error);
  g_assert_true (mp_process_start (child, &error));
  g_assert_cmpint (mp_barrier_proxy_wait (barrier, -1, &error), >=, 0);
  /* the child goes on into a blocking Queue.get, and is killed there */
  g_assert_true (mp_process_kill (child, &error));
  g_assert_true (mp_process_join (child, -1, &error));
  g_assert_no_error (error);

  /* a call of a dead client takes nothing: the item stays for us */
  g_assert_true (mp_queue_proxy_put (queue, item, TRUE, -1, &error));
  g_assert_true (mp_queue_proxy_get (queue, TRUE, NOTICE_US, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (g_value_get_string (&out), ==, "for the parent");
  g_clear_object (&child);
  g_clear_pointer (&args, mp_args_unref);
  g_clear_object (&barrier);
  g_clear_object (&queue);
  await_counts (f->manager, 0, 0);
}

static void
test_lock_owner_died (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) lock = mp_manager_lock (f->manager, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_PROXY, lock, G_TYPE_INVALID);

  g_assert_no_error (error);
  run_process (TEST_METHOD (data), "manager-take-lock", args, 0);
  /* CPython would keep it locked for ever; the server releases the locks
   * of a client process that went away */
  g_assert_true (mp_lock_proxy_acquire (lock, TRUE, NOTICE_US, &error));
  g_assert_no_error (error);
  g_assert_true (mp_lock_proxy_release (lock, &error));
  g_assert_no_error (error);
}

static int
connect_raw (MpManager *manager)
{
  const char *path = mp_manager_get_address (manager) + strlen ("unix:");
  struct sockaddr_un sun = { .sun_family = AF_UNIX };
  int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  g_assert_cmpint (fd, >=, 0);
  g_strlcpy (sun.sun_path, path, sizeof sun.sun_path);
  g_assert_cmpint (connect (fd, (struct sockaddr *) &sun, sizeof sun), ==, 0);
  return fd;
}

/* the server hangs up: reading gives the end of the stream */
static void
assert_hung_up (int fd)
{
  char buf[256];
  ssize_t n;

  do
    n = read (fd, buf, sizeof buf);
  while (n > 0);
  g_assert_cmpint (n, <=, 0);
  close (fd);
}

static GVariant *
raw_call (MpConnection *connection,
          guint64       id,
          const char   *method,
          GVariant     *args)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) request = g_byte_array_new ();
  GVariant *reply;

  g_byte_array_set_size (request, MP_FRAME_HEADER_SIZE);
  mp_message_write_request_variant (request, g_variant_new ("(ts@avt)", id, method, args,
                                                            (guint64) 1));
  g_assert_true (mp_connection_send_frame (connection, request, &error));
  reply = mp_connection_recv_variant (connection, G_VARIANT_TYPE ("(yv)"), -1, &error);
  g_assert_no_error (error);
  return reply;
}

static void
test_garbage (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);
  g_autoptr(GBytes) key = mp_get_auth_key ();
  g_autoptr(GValue) one = value_int (1);
  g_autoptr(MpConnection) connection = NULL;
  g_autoptr(GBytes) junk = g_bytes_new_static ("\x01\x02garbage, not a request", 24);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) payload = NULL;
  GVariantBuilder builder;
  const guint8 huge[4] = { 0x7f, 0xff, 0xff, 0xff };
  const char *message;
  guint8 kind;
  guint code;
  int fd;

  g_assert_no_error (error);
  g_assert_true (mp_list_proxy_append (list, one, &error));

  /* bytes instead of the handshake */
  fd = connect_raw (f->manager);
  g_assert_cmpint (write (fd, "hello, server", 13), ==, 13);
  assert_hung_up (fd);

  /* a frame that announces 2 GiB */
  fd = connect_raw (f->manager);
  g_assert_cmpint (write (fd, huge, sizeof huge), ==, sizeof huge);
  assert_hung_up (fd);

  /* authenticated, then a frame that is no request */
  connection = mp_connection_connect (mp_manager_get_address (f->manager), key, -1, &error);
  g_assert_no_error (error);
  g_assert_true (mp_connection_send_bytes (connection, junk, &error));
  g_assert_null (mp_connection_recv_bytes (connection, -1, &error));
  g_assert_true (mp_connection_error_is_peer_gone (error));
  g_clear_error (&error);
  g_clear_pointer (&connection, mp_connection_unref);

  /* well framed, but a value that is no serialized value */
  connection = mp_connection_connect (mp_manager_get_address (f->manager), key, -1, &error);
  g_assert_no_error (error);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&builder, "v", g_variant_new ("t", (guint64) 12345));
  g_variant_builder_add (&builder, "v", g_variant_new ("x", (gint64) 1));
  g_variant_builder_add (&builder, "v", g_variant_new ("b", FALSE));
  reply = raw_call (connection, 0, "hello", g_variant_builder_end (&builder));
  g_clear_pointer (&reply, g_variant_unref);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  g_variant_builder_add (&builder, "v", g_variant_new ("(iii)", 1, 2, 3));
  reply = raw_call (connection, mp_proxy_get_id (list), "append", g_variant_builder_end (&builder));
  g_variant_get (reply, "(y@v)", &kind, &payload);
  g_assert_cmpint (kind, ==, 1);   /* ERROR */
  {
    g_autoptr(GVariant) fields = g_variant_get_variant (payload);

    g_variant_get (fields, "(u&s&s)", &code, NULL, &message);
    g_assert_cmpint (code, ==, MP_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (message, "refused"));
  }
  g_clear_pointer (&reply, g_variant_unref);
  g_clear_pointer (&payload, g_variant_unref);
  /* an id that was never handed out */
  reply = raw_call (connection, 999999, "append", g_variant_new ("av", NULL));
  g_variant_get (reply, "(y@v)", &kind, &payload);
  g_assert_cmpint (kind, ==, 1);
  g_clear_pointer (&payload, g_variant_unref);
  g_clear_pointer (&connection, mp_connection_unref);

  /* nobody else noticed */
  g_assert_true (mp_list_proxy_append (list, one, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 1, 1, END);
}

/* The original code of a remote error comes from its "[name]" prefix;
 * anything that does not have exactly that shape is just FAILED. */
static void
test_remote_code (void)
{
  static const struct {
    const char *message;
    MpError     code;
  } remote[] = {
    { "[index] pop from empty list", MP_ERROR_INDEX },
    { "[key] 'missing'", MP_ERROR_KEY },
    { "[invalid-argument]", MP_ERROR_INVALID_ARGUMENT },
    { "index] no opening bracket", MP_ERROR_FAILED },
    { "[index no closing bracket", MP_ERROR_FAILED },
    { "[] empty", MP_ERROR_FAILED },
    { "[ind] a prefix of a name", MP_ERROR_FAILED },
    { "[indexes] a longer word", MP_ERROR_FAILED },
    { "[teapot] no such code", MP_ERROR_FAILED },
    { "", MP_ERROR_FAILED },
  };
  g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "[index] not ours");
  g_autoptr(GError) local = g_error_new_literal (MP_ERROR, MP_ERROR_EMPTY, "[index] a local error");

  for (gsize i = 0; i < G_N_ELEMENTS (remote); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (MP_ERROR, MP_ERROR_REMOTE, remote[i].message);

      g_test_message ("'%s'", remote[i].message);
      g_assert_cmpint (mp_error_get_remote_code (error), ==, remote[i].code);
    }
  g_assert_cmpint (mp_error_get_remote_code (other), ==, MP_ERROR_FAILED);
  g_assert_cmpint (mp_error_get_remote_code (local), ==, MP_ERROR_EMPTY);
}

/* ---- a hostile server --------------------------------------------------- */

/* A fake manager that answers hello and dummy properly and "create" with
 * whatever the type id asks for: the client must turn each bad reply into
 * an error, never a crash or a proxy made of garbage. */
typedef struct
{
  MpListener *listener;
  GThread    *acceptor;
  GPtrArray  *handlers;   /* GThread*, joined at the end */
  GPtrArray  *connections;
  GMutex      lock;
} FakeServer;

/* what the fake's objects answer: always the wrong type */
static GVariant *
fake_object_reply (const char *method)
{
  if (strcmp (method, "__len__") == 0 || strcmp (method, "qsize") == 0)
    return g_variant_new ("(yv)", 0, g_variant_new ("ms", "many"));
  if (strcmp (method, "is_set") == 0)
    return g_variant_new ("(yv)", 0, g_variant_new ("ms", "yes"));
  if (strcmp (method, "copy") == 0 || strcmp (method, "#GETVALUE") == 0)
    return g_variant_new ("(yv)", 0, g_variant_new_int64 (3));
  if (strcmp (method, "popitem") == 0)
    return g_variant_new ("(yv)", 0, g_variant_new_parsed ("[<int64 1>]"));
  if (strcmp (method, "append") == 0)
    return g_variant_new ("(yv)", 2, g_variant_new ("(st)", "list", (guint64) 2));
  return g_variant_new ("(yv)", 0, g_variant_new ("()"));
}

static GVariant *
fake_reply_for (guint64     id,
                const char *method,
                GVariant   *args)
{
  g_autoptr(GVariant) first = NULL;
  const char *typeid = NULL;

  if (id != 0)
    return fake_object_reply (method);
  if (strcmp (method, "debug_info") == 0)
    return g_variant_new ("(yv)", 0, g_variant_new ("ms", "lots"));
  if (strcmp (method, "create") != 0)
    return g_variant_new ("(yv)", 0, g_variant_new ("()"));
  first = g_variant_get_child_value (args, 0);
  {
    g_autoptr(GVariant) inner = g_variant_get_variant (first);
    g_autoptr(GVariant) text = g_variant_get_maybe (inner);

    typeid = text != NULL ? g_variant_get_string (text, NULL) : "";
    if (strcmp (typeid, "proxy-of-garbage") == 0)
      return g_variant_new ("(yv)", 2, g_variant_new_int32 (1));
    if (strcmp (typeid, "unknown-kind") == 0)
      return g_variant_new ("(yv)", 9, g_variant_new ("()"));
    if (strcmp (typeid, "error-of-garbage") == 0)
      return g_variant_new ("(yv)", 1, g_variant_new_string ("oops"));
    if (strcmp (typeid, "return-instead") == 0)
      return g_variant_new ("(yv)", 0, g_variant_new ("()"));
    if (strcmp (typeid, "bad-wire") == 0)
      return g_variant_new ("(yv)", 0, g_variant_new_int32 (5));
    if (strcmp (typeid, "list") == 0 || strcmp (typeid, "dict") == 0 ||
        strcmp (typeid, "Event") == 0 || strcmp (typeid, "Queue") == 0)
      return g_variant_new ("(yv)", 2, g_variant_new ("(st)", typeid, (guint64) 1));
    if (strcmp (typeid, "future-error") == 0)
      return g_variant_new ("(yv)", 1, g_variant_new ("(uss)", 999, "from-the-future", "a code we do not know"));
  }
  return g_variant_new ("(yv)", 1, g_variant_new ("(uss)", MP_ERROR_KEY, "key", "no such type"));
}

static gpointer
fake_handler_thread (gpointer data)
{
  g_autoptr(MpConnection) connection = data;

  for (;;)
    {
      /* declared first, so cleared last: the request points into it */
      g_auto(MpFrame) frame = MP_FRAME_INIT;
      g_auto(MpRequest) request = { 0 };
      g_autoptr(GVariant) args = NULL;

      if (!mp_connection_recv_frame (connection, -1, &frame, NULL) ||
          !mp_message_decode_request (&frame, &request, NULL))
        return NULL;
      args = mp_argv_to_variant (&request.args, 0);
      if (!mp_connection_send_variant (connection,
                                       fake_reply_for (request.id, request.method, args), NULL))
        return NULL;
    }
}

static gpointer
fake_acceptor_thread (gpointer data)
{
  FakeServer *fake = data;

  for (;;)
    {
      MpConnection *connection = mp_listener_accept (fake->listener, -1, NULL);

      if (connection == NULL)
        {
          if (mp_listener_is_shut_down (fake->listener))
            return NULL;
          continue;
        }
      g_mutex_lock (&fake->lock);
      g_ptr_array_add (fake->connections, mp_connection_ref (connection));
      g_ptr_array_add (fake->handlers, g_thread_new ("fake-handler", fake_handler_thread, connection));
      g_mutex_unlock (&fake->lock);
    }
}

static void
test_hostile_server (void)
{
  static const struct {
    const char *typeid;
    MpError     code;
    const char *words;
  } cases[] = {
    { "proxy-of-garbage", MP_ERROR_PROTOCOL, "the manager sent a malformed reply" },
    { "unknown-kind", MP_ERROR_PROTOCOL, "the manager sent a malformed reply" },
    { "error-of-garbage", MP_ERROR_PROTOCOL, "the manager sent a malformed reply" },
    { "bad-wire", MP_ERROR_PROTOCOL, "wire type 'i' was refused" },
    { "future-error", MP_ERROR_REMOTE, "[from-the-future] a code we do not know" },
    { "no-such", MP_ERROR_REMOTE, "[key] no such type" },
  };
  g_autoptr(GBytes) key = g_bytes_new_static ("the fake server's key", 21);
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) client = NULL;
  FakeServer fake = { NULL, NULL, g_ptr_array_new (),
                      g_ptr_array_new_with_free_func ((GDestroyNotify) mp_connection_unref), { 0 } };

  g_mutex_init (&fake.lock);
  fake.listener = mp_listener_new (NULL, key, &error);
  g_assert_no_error (error);
  fake.acceptor = g_thread_new ("fake-acceptor", fake_acceptor_thread, &fake);

  client = mp_manager_connect (mp_listener_get_address (fake.listener), key, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MpProxy) proxy = mp_manager_create (client, cases[i].typeid, &error);

      g_assert_null (proxy);
      g_assert_error (error, MP_ERROR, (gint) cases[i].code);
      g_test_message ("%s: %s", cases[i].typeid, error->message);
      g_assert_nonnull (strstr (error->message, cases[i].words));
      if (cases[i].code == MP_ERROR_REMOTE)
        g_assert_cmpint (mp_error_get_remote_code (error), ==,
                         strcmp (cases[i].typeid, "no-such") == 0 ? MP_ERROR_KEY : MP_ERROR_FAILED);
      g_clear_error (&error);
    }

  /* results of the wrong type are refused by the typed calls */
  {
    g_autoptr(MpProxy) list = mp_manager_list (client, NULL, &error);
    g_autoptr(MpProxy) dict = mp_manager_dict (client, NULL, &error);
    g_autoptr(MpProxy) event = mp_manager_event (client, &error);
    g_autoptr(MpProxy) queue = mp_manager_queue (client, 0, &error);
    g_autoptr(GValue) one = value_int (1);
    g_auto(GValue) out = G_VALUE_INIT;
    g_autofree char *key = NULL;
    gboolean flag = FALSE;
    guint n = 0;

    g_assert_no_error (error);
#define WRONG(call, words) \
    G_STMT_START { \
      g_assert_false (call); \
      g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL); \
      g_test_message ("%s", error->message); \
      g_assert_nonnull (strstr (error->message, words)); \
      g_clear_error (&error); \
    } G_STMT_END
    WRONG (mp_list_proxy_len (list, &error) >= 0, "list.__len__() should return an integer");
    WRONG (mp_list_proxy_copy (list, &error) != NULL, "list.#GETVALUE() should return a list");
    WRONG (mp_list_proxy_append (list, one, &error), "list.append() returned an unexpected reply");
    WRONG (mp_dict_proxy_copy (dict, &error) != NULL, "dict.copy() should return a dict");
    WRONG (mp_dict_proxy_popitem (dict, &key, &out, &error), "dict.popitem() should return a [key, value] pair");
    WRONG (mp_event_proxy_is_set (event, &flag, &error), "Event.is_set() should return a boolean");
    WRONG (mp_queue_proxy_qsize (queue, &error) >= 0, "Queue.qsize() should return an integer");
    WRONG (mp_manager_debug_info (client, &n, &n, &error), "the manager sent malformed debug info");
#undef WRONG
    g_assert_null (key);
    g_assert_false (G_IS_VALUE (&out));
  }
  g_clear_object (&client);

  /* the fake hangs up on its clients and stops */
  mp_listener_shutdown (fake.listener);
  g_thread_join (fake.acceptor);
  for (guint i = 0; i < fake.connections->len; i++)
    mp_connection_shutdown (g_ptr_array_index (fake.connections, i));
  for (guint i = 0; i < fake.handlers->len; i++)
    g_thread_join (g_ptr_array_index (fake.handlers, i));
  g_ptr_array_unref (fake.handlers);
  g_ptr_array_unref (fake.connections);
  mp_listener_unref (fake.listener);
  g_mutex_clear (&fake.lock);
}

/* ------------------------------------------------------------------ */
/* keys, addresses, connect                                             */
/* ------------------------------------------------------------------ */

static void
test_auth_wrong_key (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) wrong = g_bytes_new_static ("not the key", 11);
  g_autoptr(MpManager) intruder = NULL;
  g_autoptr(MpProxy) list = mp_manager_list (f->manager, NULL, &error);

  g_assert_no_error (error);
  intruder = mp_manager_connect (mp_manager_get_address (f->manager), wrong, &error);
  g_assert_null (intruder);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);

  /* the server keeps serving the others */
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, 0);
  g_assert_no_error (error);
}

#define GUESSES 5

/* Guessing keys is slow: after a wrong key the server waits before it
 * checks the next answer from the same address (a lower bound on time,
 * which load can only lengthen). */
static void
test_auth_wrong_key_pause (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GBytes) wrong = g_bytes_new_static ("not the key of this manager", 27);
  const char *address = mp_manager_get_address (f->manager);
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  for (guint i = 0; i < GUESSES; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpConnection) guess = mp_connection_connect (address, wrong, NOTICE_US, &error);

      g_assert_null (guess);
      g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
    }
  elapsed = g_get_monotonic_time () - start;
  g_test_message ("%d wrong keys took %" G_GINT64_FORMAT " ms", GUESSES, elapsed / 1000);
  g_assert_cmpint (elapsed, >=, (GUESSES - 1) * MP_GATE_WRONG_KEY_PAUSE);
}

static void
test_custom_key (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) key = g_bytes_new_static ("a key of our own", 16);
  g_autoptr(MpManager) manager = mp_manager_new (NULL, key);
  g_autoptr(MpManager) other = NULL;
  g_autoptr(MpManager) intruder = NULL;
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpArgs) args = NULL;

  g_assert_true (mp_manager_start (manager, &error));
  g_assert_no_error (error);

  /* the process key is not this manager's key */
  intruder = mp_manager_connect (mp_manager_get_address (manager), NULL, &error);
  g_assert_null (intruder);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_FAILED);
  g_clear_error (&error);

  other = mp_manager_connect (mp_manager_get_address (manager), key, &error);
  g_assert_no_error (error);
  list = mp_manager_list (other, NULL, &error);
  g_assert_no_error (error);
  /* a spawned child receives the key with the proxy, as in Python */
  args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, G_GINT64_CONSTANT (3), G_TYPE_INVALID);
  run_process (MP_START_SPAWN, "manager-append", args, 0);
  assert_list_proxy_ints (list, 3, END);
  g_clear_pointer (&args, mp_args_unref);
  g_clear_object (&list);
  assert_no_objects (manager);
}

static void
test_connect (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) second = NULL;
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(GValue) one = value_int (1);

  second = mp_manager_connect (mp_manager_get_address (f->manager), NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mp_manager_is_running (second));
  g_assert_cmpstr (mp_manager_get_address (second), ==, mp_manager_get_address (f->manager));
  g_assert_cmpint (mp_manager_get_server_pid (second), ==, 0);
  list = mp_manager_list (second, NULL, &error);
  g_assert_no_error (error);
  assert_counts (f->manager, 1, 1);

  /* dropping a connected manager leaves the server running */
  g_clear_object (&second);
  g_assert_true (mp_manager_is_running (f->manager));
  g_assert_true (mp_list_proxy_append (list, one, &error));
  g_assert_no_error (error);
  assert_list_proxy_ints (list, 1, END);

  second = mp_manager_connect ("unix:/nonexistent/mpshare/socket", NULL, &error);
  g_assert_null (second);
  assert_closed (error);
}

static void
test_tcp_loopback (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpManager) manager = mp_manager_new ("tcp:127.0.0.1:0", NULL);
  g_autoptr(MpProxy) list = NULL;
  g_autoptr(MpArgs) args = NULL;

  g_assert_true (mp_manager_start (manager, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (mp_manager_get_address (manager), "tcp:127.0.0.1:"));
  g_assert_false (g_str_has_suffix (mp_manager_get_address (manager), ":0"));

  list = mp_manager_list (manager, NULL, &error);
  g_assert_no_error (error);
  args = mp_args_new (MP_TYPE_PROXY, list, G_TYPE_INT64, G_GINT64_CONSTANT (5), G_TYPE_INVALID);
  run_process (MP_START_FORK, "manager-append", args, 0);
  assert_list_proxy_ints (list, 5, END);

  g_assert_true (mp_manager_shutdown (manager, &error));
  g_assert_no_error (error);
  test_assert_no_children ();
  g_assert_cmpint (mp_list_proxy_len (list, &error), ==, -1);
  assert_closed (error);
}

/* ------------------------------------------------------------------ */
/* the manager-as-argument pitfall                                      */
/* ------------------------------------------------------------------ */

static void
test_refuse_serialize (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpPool) pool = mp_pool_new (1, &error);
  g_autoptr(MpArgs) args = mp_args_new (MP_TYPE_MANAGER, f->manager, G_TYPE_INVALID);
  g_autoptr(MpFuture) future = NULL;
  g_auto(GValue) value = G_VALUE_INIT;
  g_autoptr(GVariant) wire = NULL;

  g_value_init (&value, MP_TYPE_MANAGER);
  g_value_set_object (&value, f->manager);
  wire = mp_serialize_value (&value, &error);
  g_assert_null (wire);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_KEY_REFUSED);
  g_assert_nonnull (strstr (error->message, "disallowed for security reasons"));
  g_assert_nonnull (strstr (error->message, mp_error_fix (MP_ERROR_AUTH_KEY_REFUSED)));
  g_clear_error (&error);

  future = mp_pool_submit (pool, "manager-use-manager", args, &error);
  g_assert_null (future);
  g_assert_error (error, MP_ERROR, MP_ERROR_AUTH_KEY_REFUSED);
  mp_pool_shutdown (pool, TRUE);
}

/* ------------------------------------------------------------------ */
/* registered custom types                                              */
/* ------------------------------------------------------------------ */

static gint64
counter_call (MpProxy    *counter,
              const char *method,
              MpArgs     *args)
{
  g_autoptr(GError) error = NULL;
  g_auto(GValue) out = G_VALUE_INIT;

  g_assert_true (mp_proxy_call (counter, method, args, &out, &error));
  g_assert_no_error (error);
  return value_get_int (&out);
}

static void
test_custom_type (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MpProxy) counter = mp_manager_create (f->manager, "Counter", &error);
  g_autoptr(MpProxy) unknown = NULL;
  g_autoptr(MpArgs) five = mp_args_new (G_TYPE_INT64, G_GINT64_CONSTANT (5), G_TYPE_INVALID);
  g_autoptr(MpArgs) three = mp_args_new (G_TYPE_INT64, G_GINT64_CONSTANT (3), G_TYPE_INVALID);
  g_autoptr(MpArgs) none = mp_args_new (G_TYPE_INVALID);
  g_auto(GValue) out = G_VALUE_INIT;
  gint64 total = 0;

  g_assert_no_error (error);
  g_assert_cmpstr (mp_proxy_get_typeid (counter), ==, "Counter");
  /* the method runs in the server: the object itself changes */
  g_assert_cmpint (counter_call (counter, "increment", five), ==, 5);
  g_assert_cmpint (counter_call (counter, "increment", three), ==, 8);
  g_assert_cmpint (counter_call (counter, "get", NULL), ==, 8);

  g_assert_false (mp_proxy_call (counter, "reset", NULL, &out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_NOT_EXPOSED);
  g_assert_nonnull (strstr (error->message, "'reset'"));
  g_assert_nonnull (strstr (error->message, "'increment'"));
  g_assert_nonnull (strstr (error->message, "'get'"));
  g_clear_error (&error);

  /* an error of the method comes back as a remote error */
  g_assert_false (mp_proxy_call (counter, "increment", none, &out, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_REMOTE);
  g_assert_cmpint (mp_error_get_remote_code (error), ==, MP_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "increment takes one number"));
  g_clear_error (&error);

  /* a copy of the whole object */
  g_assert_true (mp_proxy_call (counter, "#GETVALUE", NULL, &out, &error));
  g_assert_no_error (error);
  g_assert_true (G_VALUE_HOLDS (&out, TEST_TYPE_COUNTER));
  g_object_get (g_value_get_object (&out), "total", &total, NULL);
  g_assert_cmpint (total, ==, 8);

  unknown = mp_manager_create (f->manager, "NoSuchType", &error);
  g_assert_null (unknown);
  g_assert_error (error, MP_ERROR, MP_ERROR_REMOTE);
  g_assert_cmpint (mp_error_get_remote_code (error), ==, MP_ERROR_KEY);
  g_assert_nonnull (strstr (error->message, "NoSuchType"));
}

int
main (int    argc,
      char **argv)
{
  mp_main_guard (argc, argv);
  g_test_init (&argc, &argv, NULL);

  test_add_both_methods ("/manager/start/%s", test_start);
  g_test_add_func ("/manager/start/bad-address", test_bad_address);
  test_add_both_methods ("/manager/closed/parent/%s", test_closed_parent);
  test_add_both_methods ("/manager/closed/child/%s", test_closed_child);
  test_add_both_methods ("/manager/closed/server-died/%s", test_closed_server_died);
  test_add_both_methods ("/manager/start/explicit-path-after-kill/%s", test_explicit_path_after_kill);
  g_test_add_func ("/manager/gate/idle-peers", test_gate_idle_peers);
  g_test_add_func ("/manager/gate/out-of-descriptors", test_gate_out_of_descriptors);
  g_test_add ("/manager/refcount/release", Fixture, NULL, fixture_setup, test_refcount_release, fixture_teardown);
  g_test_add ("/manager/nested-proxy", Fixture, NULL, fixture_setup, test_nested_proxy, fixture_teardown);
  add_both ("/manager/process-args/%s", test_process_args);
  add_both ("/manager/pool-args/%s", test_pool_args);
  add_both ("/manager/concurrent/barrier/%s", test_concurrent_barrier);
  g_test_add ("/manager/concurrent/queue", Fixture, NULL, fixture_setup, test_concurrent_queue, fixture_teardown);
  g_test_add ("/manager/client-killed/barrier", Fixture, NULL, fixture_setup, test_client_killed_barrier, fixture_teardown);
  g_test_add ("/manager/client-killed/queue", Fixture, NULL, fixture_setup, test_client_killed_queue, fixture_teardown);
  add_both ("/manager/client-killed/lock-owner/%s", test_lock_owner_died);
  g_test_add ("/manager/garbage-frame", Fixture, NULL, fixture_setup, test_garbage, fixture_teardown);
  g_test_add_func ("/manager/remote-code", test_remote_code);
  g_test_add_func ("/manager/hostile-server", test_hostile_server);
  g_test_add ("/manager/auth/wrong-key", Fixture, NULL, fixture_setup, test_auth_wrong_key, fixture_teardown);
  g_test_add ("/manager/auth/wrong-key-pause", Fixture, NULL, fixture_setup, test_auth_wrong_key_pause, fixture_teardown);
  g_test_add_func ("/manager/auth/custom-key", test_custom_key);
  g_test_add ("/manager/connect", Fixture, NULL, fixture_setup, test_connect, fixture_teardown);
  g_test_add_func ("/manager/tcp/loopback", test_tcp_loopback);
  g_test_add ("/manager/refuse-serialize", Fixture, NULL, fixture_setup, test_refuse_serialize, fixture_teardown);
  add_both ("/manager/custom-type/exposed/%s", test_custom_type);

  return g_test_run ();
}
