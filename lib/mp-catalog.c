/* mp-catalog.c — the pitfall catalog and the worked samples, as data
 *
 * One table drives `mpshare list`, `run`, `tour` and `explain`, so a new
 * pitfall is one row here (plus its demo), never a change of logic.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mpshare.h"

/* Needles are compared ignoring ASCII case. A bare exception name that many
 * failures share (FileNotFoundError, BrokenPipeError ...) only counts with a
 * context that ties it to the pitfall, in the same traceback block. */
#define RULES(...) ((const MpCatalogRule[]) { __VA_ARGS__, { NULL, { NULL, NULL }, 0 } })
#define NO_RULES ((const MpCatalogRule[]) { { NULL, { NULL, NULL }, 0 } })
/* words that name the pitfall wherever they occur */
#define RULE(needle) { needle, { NULL, NULL }, MP_CATALOG_RULE_PLAIN }
/* words that pickle, copy or threads print too: they count only when the
 * text shows multiprocessing (mp-explain.c says what shows it) */
#define RULE_MP(needle) { needle, { NULL, NULL }, MP_CATALOG_RULE_NEEDS_MP }
/* words that count with both context words in the same traceback block */
#define RULE_IN(needle, ...) { needle, { __VA_ARGS__ }, MP_CATALOG_RULE_PLAIN }
#define MANAGER_CALL "managers.py", "connection.py"

static const MpCatalogEntry catalog[] = {
  {
    .id = "inheritance-only",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a locked shared Value/Array handed to a pool task",
    .demo = "inheritance-only",
    .cause =
      "A synchronized Value or Array lives in shared memory together with its "
      "lock. A child can only receive that memory when it starts, by "
      "inheriting the mapping. A pool task's arguments are serialized and "
      "sent later to a worker that already runs, where a copy would share "
      "nothing, so serializing them is refused.",
    .fix =
      "Hand the object over when the process starts: one process per task "
      "with the object as a start argument, or a pool initializer that gives "
      "it to each worker once (keeps max_workers). Or use named shared "
      "memory and let each task attach to it by name.",
    .fix_short =
      "pass it when the process starts (process arguments or a pool "
      "initializer), or use named shared memory and attach by name",
    .fix_python =
      "pass it in Process args or the pool's initializer, not to a task",
    .python = "objects should only be shared between processes through inheritance",
    .rules = RULES (
      RULE ("shared between processes through inheritance")),
  },
  {
    .id = "closed-manager",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a proxy used after its manager has shut down",
    .demo = "closed-manager",
    .cause =
      "A proxy holds no data: every call is a request to the manager's server "
      "process. Once the manager's scope has ended (the with block, the "
      "g_autoptr, shutdown) that server is gone and nobody answers. Python "
      "reports it as 'ForkAwareLocal' object has no attribute 'connection', "
      "followed by FileNotFoundError, ConnectionRefusedError or "
      "BrokenPipeError.",
    .fix =
      "Copy the results out of the proxies while the manager still runs, or "
      "keep the manager alive until the last proxy has been used.",
    .fix_short = "copy the results out while the manager is still running",
    .fix_python =
      "copy the data out (list(p), dict(p)) before the manager ends",
    .python = "'ForkAwareLocal' object has no attribute 'connection'",
    .rules = RULES (
      RULE ("'ForkAwareLocal' object has no attribute 'connection'"),
      RULE_IN ("FileNotFoundError", MANAGER_CALL),
      RULE_IN ("ConnectionRefusedError", MANAGER_CALL),
      RULE_IN ("BrokenPipeError", MANAGER_CALL),
      RULE_IN ("ConnectionResetError", MANAGER_CALL),
      RULE_IN ("EOFError", MANAGER_CALL),
      /* only the last frames of the chain: the proxy's reconnection */
      RULE_IN ("FileNotFoundError", "connection.py", "in SocketClient"),
      RULE_IN ("ConnectionRefusedError", "connection.py", "in SocketClient"),
      RULE ("manager is closed")),
  },
  {
    .id = "mutate-a-copy",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a field changed on an object read from a manager list",
    .demo = "mutate-a-copy",
    .cause =
      "Reading an item through a proxy sends back a serialized copy. "
      "Changing a field of that copy changes only your copy; the object in "
      "the manager is untouched and the next read shows the old value. "
      "Nothing fails: the change is silently lost.",
    .fix =
      "Write the change back: pop the item, change it and append it; or "
      "under a manager lock get it, change it and set it back in place; or "
      "store a nested proxy; or register a server-side type whose method "
      "makes the change inside the manager.",
    .fix_python =
      "write the element back (p[i] = item), or pop, change and append",
    .python = NULL,
    .rules = RULES (
      RULE_MP ("change is lost"),
      RULE_MP ("changes are lost"),
      RULE_MP ("changed a copy"),
      RULE_MP ("modified a copy")),
  },
  {
    .id = "unserializable-handle",
    .kind = MP_CATALOG_PITFALL,
    .summary = "an object with a live OS handle stored in a manager",
    .demo = "unserializable-handle",
    .cause =
      "Everything sent to a manager is serialized. A socket client, an open "
      "stream or a file descriptor is a handle into this process's kernel "
      "state: its bytes mean nothing in another process, so serialization "
      "refuses it and names the field that holds it.",
    .fix =
      "Store the recipe instead of the handle (a path, a host and port, a "
      "project name) and rebuild the client or stream in the process that "
      "uses it.",
    .fix_short =
      "store the recipe (path, name, address) and rebuild the handle in "
      "the process that uses it",
    .fix_python =
      "send the recipe (path, address) and open the handle where used",
    .python = "cannot pickle '...' object",
    .rules = RULES (
      RULE_MP ("cannot pickle '"),
      RULE ("holds a live OS handle")),
  },
  {
    .id = "manager-as-argument",
    .kind = MP_CATALOG_PITFALL,
    .summary = "the manager itself passed to a pool task",
    .demo = "manager-as-argument",
    .cause =
      "The manager holds the auth key that lets a process talk to its "
      "server. Serializing the manager would hand that secret to whoever "
      "reads the bytes, so it is refused.",
    .fix =
      "Create the manager in the parent and pass only its proxies: a proxy "
      "travels as a token, and the receiving process reconnects with the "
      "auth key it inherited.",
    .fix_short =
      "create the manager in the parent and pass only its proxies to "
      "tasks",
    .fix_python =
      "keep the manager in the parent; pass only its proxies to tasks",
    .python = "Pickling an AuthenticationString object is disallowed for security reasons",
    .rules = RULES (
      RULE ("Pickling an AuthenticationString object is disallowed")),
  },
  {
    .id = "missing-main-guard",
    .kind = MP_CATALOG_PITFALL,
    .summary = "spawn without the main guard: main() runs twice",
    .demo = "missing-main-guard",
    .cause =
      "Under spawn the child is a new run of the program from the top "
      "(Python re-imports the main module). Without the guard it repeats "
      "the parent's start-up work, and starting a process there fails "
      "because the child is still bootstrapping. A top-level "
      "set_start_method() fails the same way: context has already been set.",
    .fix =
      "Call mp_main_guard (argc, argv) first thing in main() (Python: put "
      "the start-up code under if __name__ == '__main__':), and choose the "
      "start method inside that guarded part.",
    .fix_short = "call mp_main_guard (argc, argv) first thing in main()",
    .fix_python = "start processes only under if __name__ == \"__main__\":",
    .python = "An attempt has been made to start a new process before the "
              "current process has finished its bootstrapping phase",
    .rules = RULES (
      RULE ("bootstrapping phase"),
      RULE ("context has already been set")),
  },
  {
    .id = "lost-update",
    .kind = MP_CATALOG_PITFALL,
    .summary = "total += x on a shared value silently loses updates",
    .demo = "lost-update",
    .cause =
      "The lock of a synchronized Value guards each read and each write, not "
      "the addition between them. Two processes can read the same old "
      "total, both add, and both write it back: one update vanishes, with "
      "no error at all.",
    .fix =
      "Hold the lock across the whole read-modify-write (Python: with "
      "v.get_lock(): v.value += x; mpshare: mp_value_add_int(), or an "
      "MpLocker around the get and the set), or let each task return its "
      "part and add the parts up in the parent.",
    .fix_python =
      "hold a lock around the update: with v.get_lock(): v.value += 1",
    .python = NULL,
    .rules = RULES (
      RULE ("lost update"),
      RULE ("updates were lost"),
      RULE ("updates lost"),
      RULE_MP ("race condition")),
  },
  {
    .id = "lock-false",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a Value created with lock=False has no lock to take",
    .demo = "lock-false",
    .cause =
      "lock=False gives the raw shared object: the same memory without a "
      "lock. There is nothing to acquire (Python: object has no attribute "
      "'get_lock'), and concurrent increments race and lose updates.",
    .fix =
      "Create it with a lock (the default), or guard every read-modify-write "
      "with an explicit process-shared lock handed over with it.",
    .fix_short =
      "create the object with a lock, or guard it with an explicit MpLock",
    .fix_python =
      "drop lock=False, or guard every access with one explicit Lock",
    .python = "object has no attribute 'get_lock'",
    .rules = RULES (
      RULE ("object has no attribute 'get_lock'"),
      /* the raw ctypes object used as a lock: `with v:`, v.acquire() */
      RULE_IN ("object does not support the context manager protocol", "'c_", NULL),
      RULE_IN ("object has no attribute '__enter__'", "'c_", NULL),
      RULE_IN ("object has no attribute 'acquire'", "'c_", NULL),
      RULE_MP ("lock=False")),
  },
  {
    .id = "as-completed-order",
    .kind = MP_CATALOG_PITFALL,
    .summary = "results taken in completion order, not input order",
    .demo = "as-completed-order",
    .cause =
      "as_completed yields each future as soon as it finishes. Tasks take "
      "different times, so a later input can finish first, and results "
      "appended in that order no longer line up with their inputs.",
    .fix =
      "Keep the index with the result (return it from the task, or map each "
      "future to its index), or use map, which keeps submission order.",
    .fix_python = "keep each input with its result (return (i, r)), or use map",
    .python = NULL,
    .rules = RULES (
      RULE ("completion order"),
      RULE_MP ("out of order"),
      RULE_MP ("wrong order")),
  },
  {
    .id = "local-function",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a task that cannot travel to a worker process",
    .demo = "local-function",
    .cause =
      "A worker is another process (under spawn, a fresh run of the "
      "program), so it must find the task by name. A lambda, a nested "
      "function or a function pointer has no name a worker can look up, so "
      "it cannot be serialized (Python: Can't pickle local object; 3.12+: "
      "Can't get local object).",
    .fix =
      "Register the task by name at start-up (MP_TASK_DEFINE; Python: a "
      "module-level def, outside the main guard) and submit it by name, "
      "passing the data it needs as arguments.",
    .fix_short =
      "register the task by name before mp_main_guard() and submit it by "
      "name",
    .fix_python =
      "define the task with def at module level and pass it by name",
    .python = "Can't pickle local object",
    .rules = RULES (
      RULE_MP ("Can't pickle local object"),
      RULE_MP ("Can't get local object"),
      RULE_MP ("Can't get local attribute"),
      RULE_MP ("Can't pickle <function <lambda>"),
      RULE_MP ("attribute lookup <lambda> on"),
      /* 3.14's pickler (Lib/pickle.py whichmodule()) */
      RULE_MP ("it's not found as __main__."),
      RULE_IN ("Can't get attribute '", "__mp_main__", NULL),
      /* a worker of a notebook or an interactive session: __main__ is
       * no file it can import ("(built-in)", 3.12+: "(<class
       * '_frozen_importlib.BuiltinImporter'>)") */
      RULE_MP ("on <module '__main__' ("),
      RULE_IN ("FileNotFoundError", "_fixup_main_from_path", "<stdin>")),
  },
  {
    .id = "broken-pool",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a task kills its worker and the whole pool breaks",
    .demo = "broken-pool",
    .cause =
      "When a worker process dies mid-task (abort, _exit, a signal, out of "
      "memory), the pool cannot know which work was lost, so it fails the "
      "running future and every pending one, and refuses new work.",
    .fix =
      "Report a task's failure as an error instead of exiting; or catch the "
      "broken pool, start a fresh pool and resubmit only the tasks that did "
      "not finish.",
    .fix_short =
      "report task failures as errors instead of exiting, or start a "
      "fresh pool and resubmit the unfinished tasks",
    .fix_python =
      "raise instead of exiting, or catch BrokenProcessPool and resubmit",
    .python = "A process in the process pool was terminated abruptly while "
              "the future was running or pending",
    .rules = RULES (
      RULE ("BrokenProcessPool"),
      RULE ("terminated abruptly"),
      RULE ("process pool is not usable anymore"),
      RULE ("TerminatedWorkerError")),
  },
  {
    .id = "global-not-inherited",
    .kind = MP_CATALOG_PITFALL,
    .summary = "a global set in main() unseen by forkserver workers",
    .demo = "global-not-inherited",
    .cause =
      "A global (a module-level variable) that main() sets at run time is "
      "in a fork worker, a copy of the parent made after main() set it. A "
      "spawn or forkserver worker is no such copy: it has the value the "
      "program starts with. Nothing fails; the results are wrong. Python "
      "3.14 made forkserver the default on Linux, and programs that were "
      "right under fork for years went silently wrong.",
    .fix =
      "Pass the state to the workers as data: as task arguments, or once "
      "per worker through a pool initializer (initializer=, initargs=). Or "
      "set it at load time (import time), which every process runs.",
    .fix_python =
      "pass the value as an argument or through the pool's initializer",
    .python = NULL,
    .rules = RULES (
      /* a student's own check, as demos/python/ words it */
      RULE ("module's initial"),
      RULE ("not the one main() set"),
      RULE ("global not inherited"),
      RULE ("global variable not inherited"),
      RULE ("global is not set in the worker")),
  },
  {
    .id = "fork-with-threads",
    .kind = MP_CATALOG_PITFALL,
    .summary = "fork while a thread holds a lock: the child deadlocks",
    .demo = "fork-with-threads",
    .cause =
      "fork() copies the parent's memory but only the thread that called "
      "it. A lock another thread held at that moment (a logger's, the "
      "allocator's, the program's own) is held in the child too, by a "
      "thread that does not exist there: the child's first use of it "
      "blocks forever. Python 3.12 warns at every fork of a multi-threaded "
      "process.",
    .fix =
      "Start the children with forkserver or spawn (Python 3.14's default "
      "on Linux is forkserver), or start them before any thread.",
    .fix_python = "start processes before threads, or use forkserver or spawn",
    .python = "is multi-threaded, use of fork() may lead to deadlocks in the child",
    .rules = RULES (
      RULE ("use of fork() may lead to deadlocks in the child"),
      RULE ("is multi-threaded, use of fork()"),
      /* a student's own check, as demos/python/ words it */
      RULE ("held by a thread that does not exist"),
      RULE ("deadlock after fork"),
      RULE ("deadlocks after fork")),
  },
  {
    .id = "shared-squares",
    .kind = MP_CATALOG_SAMPLE,
    .summary = "squares of 0..5 into a shared Array, total in a Value",
    .demo = "shared-squares",
    .cause =
      "The article's first sample: one process per number writes its square "
      "into a shared Array and adds it to a shared Value total.",
    .fix =
      "Its total += x carries the lost-update bug; see lost-update.",
    .python = NULL,
    .rules = NO_RULES,
  },
  {
    .id = "manager-squares",
    .kind = MP_CATALOG_SAMPLE,
    .summary = "a pool of 3 appends squares to a manager list",
    .demo = "manager-squares",
    .cause =
      "Custom objects (number, square) appended to a manager list by a pool "
      "of three workers, with a manager Value as the running total.",
    .fix =
      "The list shows completion order (see as-completed-order), and "
      "total += x through the proxy is a read then a write: hold a manager "
      "Lock around it, as lost-update shows.",
    .python = NULL,
    .rules = NO_RULES,
  },
  {
    .id = "cluster-pool",
    .kind = MP_CATALOG_SAMPLE,
    .summary = "reusable clusters kept in a manager list (pop/append)",
    .demo = "cluster-pool",
    .cause =
      "Nine jobs on three workers share three named clusters kept in a "
      "manager list: each job pops one, uses it and appends it back.",
    .fix =
      "Pop and append write the change back; see mutate-a-copy.",
    .python = NULL,
    .rules = NO_RULES,
  },
  {
    .id = "cluster-pool-lock",
    .kind = MP_CATALOG_SAMPLE,
    .summary = "clusters under a manager lock, replaced in place",
    .demo = "cluster-pool-lock",
    .cause =
      "The same nine jobs, but a manager Lock guards get-or-create of an "
      "available cluster, which is then replaced in place in the list.",
    .fix =
      "The lock makes read, change and write back one step.",
    .python = NULL,
    .rules = NO_RULES,
  },
};

/**
 * mp_catalog_get_entries:
 * @n_entries: (out): the number of entries
 *
 * The catalog in its fixed order: the pitfalls in the order of the design
 * notes, then the worked samples.
 *
 * Returns: (array length=n_entries): the entries; static, do not free.
 *
 * Since: 0.1
 */
const MpCatalogEntry *
mp_catalog_get_entries (gsize *n_entries)
{
  g_return_val_if_fail (n_entries != NULL, NULL);

  *n_entries = G_N_ELEMENTS (catalog);
  return catalog;
}

/**
 * mp_catalog_dup_ids:
 * @separator: put between two ids, e.g. ", "
 *
 * Returns: (transfer full): every id in catalog order, joined.
 *
 * Since: 0.1
 */
char *
mp_catalog_dup_ids (const char *separator)
{
  GString *ids;

  g_return_val_if_fail (separator != NULL, NULL);

  ids = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (catalog); i++)
    {
      if (i > 0)
        g_string_append (ids, separator);
      g_string_append (ids, catalog[i].id);
    }
  return g_string_free (ids, FALSE);
}

/**
 * mp_catalog_lookup:
 * @id: a catalog id, e.g. "broken-pool"
 * @error: return location for a #GError
 *
 * Finds the entry of @id. An unknown id is %MP_ERROR_INVALID_ARGUMENT
 * whose message lists every valid id.
 *
 * Returns: (nullable): the entry; static, do not free.
 *
 * Since: 0.1
 */
const MpCatalogEntry *
mp_catalog_lookup (const char  *id,
                   GError     **error)
{
  g_autofree char *valid = NULL;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (catalog); i++)
    if (g_str_equal (catalog[i].id, id))
      return &catalog[i];

  valid = mp_catalog_dup_ids (", ");
  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "unknown pitfall or sample id \"%s\"; valid ids: %s", id, valid);
  return NULL;
}

/**
 * mp_catalog_kind_to_string:
 * @kind: an #MpCatalogKind
 *
 * Returns: "pitfall" or "sample".
 *
 * Since: 0.1
 */
const char *
mp_catalog_kind_to_string (MpCatalogKind kind)
{
  switch (kind)
    {
    case MP_CATALOG_PITFALL:
      return "pitfall";
    case MP_CATALOG_SAMPLE:
      return "sample";
    default:
      g_return_val_if_reached ("unknown");
    }
}
