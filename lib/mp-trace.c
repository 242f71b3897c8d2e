/* mp-trace.c — the cross-process trace recorder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where events go: per-thread files in one trace directory, each mapped
 * with MAP_SHARED and filled in place (a "shared-memory ring" per writer,
 * never wrapping: a full file is followed by a fresh one). Why so:
 *  - nothing is lost when a process dies: a store into a shared file
 *    mapping is in the page cache the moment it is made, so a SIGKILL
 *    between two events loses neither; no write(2) to be interrupted, no
 *    buffer to flush at exit (children leave by _exit());
 *  - an event costs a clock read and a few stores, no system call and no
 *    lock: each thread owns its file, and the only cross-process ordering
 *    needed is the record's size, stored last with release semantics, so a
 *    reader never takes a half-written record for a whole one;
 *  - no process needs to know another: a child learns the directory from
 *    its parent's memory (fork) or from MP_TRACE_DIR (spawn), and the
 *    process that started the trace reads every file at mp_trace_stop().
 *
 * A file is a header (magic, pid, tid) and records: a fixed part (size,
 * kind, phase, pid, tid, CLOCK_MONOTONIC ns, four numbers) and the
 * kind's strings, NUL-terminated, 8-byte aligned. The gatherer turns them
 * into Chrome trace-event JSON with json-glib; the schema table below
 * names each kind's arguments.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "mp-trace-private.h"

/* The directory a child joins (set in the environment of spawned children
 * by the process that started the trace). */
#define TRACE_DIR_ENV "MP_TRACE_DIR"

#define FILE_MAGIC  "MPTRACE2"
#define CHUNK_SIZE  (1024 * 1024)
/* A thread records this many files at most (some 100 000 events): a
 * trace is read by a person, and gathering millions of events would take
 * the memory of the machine. Later events are counted, not recorded. */
#define MAX_CHUNKS  8

static guint max_chunks = MAX_CHUNKS;
/* a string argument longer than this is cut (a message, a path) */
#define MAX_STRING  480

int mp_trace_flag = 0;

/* ---- the schema: what each kind's arguments are called ------------------ */

typedef enum { NUM_UNUSED, NUM_INT, NUM_BOOL, NUM_FLOW } NumType;
typedef enum { STR_UNUSED, STR_TEXT, STR_INT_LIST } StrType;

typedef struct
{
  const char *kind;
  const char *cat;
  const char *label;          /* the default "name" */
  const char *str_names[3];
  StrType     str_types[3];
  const char *num_names[4];
  NumType     num_types[4];
} KindInfo;

#define S1(a) { a, NULL, NULL }, { STR_TEXT, STR_UNUSED, STR_UNUSED }
#define S2(a, b) { a, b, NULL }, { STR_TEXT, STR_TEXT, STR_UNUSED }
#define S3(a, b, c) { a, b, c }, { STR_TEXT, STR_TEXT, STR_TEXT }
#define S0 { NULL, NULL, NULL }, { STR_UNUSED, STR_UNUSED, STR_UNUSED }

static const KindInfo kinds[MP_TRACE_N_KINDS] = {
  [MP_TRACE_PROCESS_START] = { "process.start", "process", "start", S2 ("method", "task"),
                               { NULL }, { NUM_UNUSED } },
  [MP_TRACE_PROCESS_EXIT] = { "process.exit", "process", "exit", S0,
                              { "code", "signal" }, { NUM_INT, NUM_INT } },
  [MP_TRACE_PROCESS_GUARD] = { "process.guard", "process", "main guard", S1 ("task"),
                               { NULL }, { NUM_UNUSED } },
  [MP_TRACE_PROCESS_BOOTSTRAP_ERROR] = { "process.bootstrap-error", "process", "bootstrapping error",
                                         S1 ("message"), { NULL }, { NUM_UNUSED } },
  [MP_TRACE_PROCESS_TASK] = { "process.task", "process", "task", S1 ("task"),
                              { "ok" }, { NUM_BOOL } },
  [MP_TRACE_LOCK_WAIT] = { "lock.wait", "lock", "wait", S2 ("object", "type"),
                           { NULL }, { NUM_UNUSED } },
  [MP_TRACE_LOCK_HOLD] = { "lock.hold", "lock", "hold", S2 ("object", "type"),
                           { "waited_ns" }, { NUM_INT } },
  [MP_TRACE_LOCK_TIMEOUT] = { "lock.timeout", "lock", "timed out", S2 ("object", "type"),
                              { NULL }, { NUM_UNUSED } },
  [MP_TRACE_LOCK_OWNER_DIED] = { "lock.owner-died", "lock", "owner died", S2 ("object", "type"),
                                 { NULL }, { NUM_UNUSED } },
  [MP_TRACE_VALUE_READ] = { "value.read", "value", "read", S1 ("object"),
                            { "value", "index" }, { NUM_INT, NUM_INT } },
  [MP_TRACE_VALUE_WRITE] = { "value.write", "value", "write", S1 ("object"),
                             { "value", "index" }, { NUM_INT, NUM_INT } },
  [MP_TRACE_PROXY_CALL] = { "proxy.call", "proxy", "call", S2 ("object", "method"),
                            { "bytes", NULL, NULL, "flow" }, { NUM_INT, NUM_UNUSED, NUM_UNUSED, NUM_FLOW } },
  [MP_TRACE_PROXY_HANDLE] = { "proxy.handle", "proxy", "handle", S2 ("object", "method"),
                              { "bytes" }, { NUM_INT } },
  [MP_TRACE_PROXY_REPLY] = { "proxy.reply", "proxy", "reply", S2 ("object", "method"),
                             { "bytes", "copy", NULL, "flow" }, { NUM_INT, NUM_BOOL, NUM_UNUSED, NUM_FLOW } },
  [MP_TRACE_POOL_SUBMIT] = { "pool.submit", "pool", "submit", S1 ("task"),
                             { "future" }, { NUM_INT } },
  [MP_TRACE_POOL_DISPATCH] = { "pool.dispatch", "pool", "dispatch", S1 ("task"),
                               { "future", "worker" }, { NUM_INT, NUM_INT } },
  [MP_TRACE_POOL_DONE] = { "pool.done", "pool", "done", S0,
                           { "future", "ok" }, { NUM_INT, NUM_BOOL } },
  [MP_TRACE_POOL_WORKER_DIED] = { "pool.worker-died", "pool", "worker died",
                                  { "broken", NULL, NULL }, { STR_INT_LIST, STR_UNUSED, STR_UNUSED },
                                  { "worker", "signal", "code" }, { NUM_INT, NUM_INT, NUM_INT } },
  [MP_TRACE_ERROR] = { "error", "error", "error", S3 ("code", "pitfall", "message"),
                       { NULL }, { NUM_UNUSED } },
  [MP_TRACE_SERIALIZE_REFUSED] = { "serialize.refused", "error", "refused", S2 ("path", "message"),
                                   { NULL }, { NUM_UNUSED } },
  [MP_TRACE_ROLE] = { "process.role", "process", "role", S1 ("name"),
                      { NULL }, { NUM_UNUSED } },
};

/* ---- the file format ----------------------------------------------------- */

typedef struct
{
  char    magic[8];
  gint32  pid;
  gint32  tid;
  gint64  dropped;            /* events not recorded: MAX_CHUNKS was full */
} FileHeader;

/* Records are small because every byte costs: the pages of a trace file
 * are fresh memory, and on a virtual machine the first store into a fresh
 * page is what an event costs most (some 10 us a page, measured: 170 ns
 * for a 64-byte record against 30 ns into reused memory). So a record
 * holds only the numbers it has, its pid and tid only when they are not
 * the file's, and its strings by number: each distinct string is written
 * once per file, as a KIND_STRING record, before the first record that
 * names it. A file stays readable on its own (a reader needs no other
 * file, nor the process alive). */
typedef struct
{
  guint16 size;               /* whole record, 8-aligned; stored last */
  guint8  kind;               /* MpTraceKind, or KIND_STRING */
  guint8  ph;
  guint8  num_mask;           /* bit i: num[i] follows (8 bytes each) */
  guint8  num_double;         /* bit i: num[i] holds a double's bits */
  guint8  n_str;              /* string ids that follow; 0x80: one more, the name */
  guint8  foreign;            /* a gint32 pid (also the tid) and 4 bytes follow ts */
  gint64  ts;                 /* CLOCK_MONOTONIC, ns; KIND_STRING: the string's id */
  guint8  rest[];             /* pid, nums, guint32 string ids; KIND_STRING: the text */
} Record;

#define KIND_STRING 0xff

G_STATIC_ASSERT (sizeof (FileHeader) % 8 == 0);
G_STATIC_ASSERT (sizeof (Record) % 8 == 0);
G_STATIC_ASSERT (MP_TRACE_N_KINDS < KIND_STRING);
G_STATIC_ASSERT (sizeof (Record) + MAX_STRING + 8 < G_MAXUINT16);

/* The strings a writer gave a number in its current file: a small
 * direct-mapped cache, keyed by the string's hash. A string longer than
 * a slot is given a new number each time (messages, which are rare). */
#define STRING_SLOTS    64
#define STRING_SLOT_MAX 46

typedef struct
{
  guint32 hash;
  guint32 id;
  guint8  len;
  char    text[STRING_SLOT_MAX + 1];
} StringSlot;

/* ---- process-wide state -------------------------------------------------- */

static GMutex   state_lock;
static char    *trace_dir;          /* the directory all processes write into */
static char    *trace_path;         /* where the root writes the JSON, or NULL */
static gboolean trace_root;         /* this process started the trace */
static gboolean trace_from_env;     /* started by MP_TRACE: stopped at exit */
static gint64   trace_origin;       /* CLOCK_MONOTONIC ns at mp_trace_start() */
/* bumped at each start and stop: a thread's file from an earlier trace (or
 * from the parent, before fork) is never written again */
static guint    trace_generation;
static int      self_pid;
static char    *self_role;
static guint64  flow_counter;

static GMutex      watch_lock;
static GHashTable *watched;         /* guint64* mp_shared_trace_key -> name */

typedef struct
{
  guint    generation;
  int      pid;
  int      tid;
  guint    seq;
  int      fd;
  guint8  *base;
  gsize    used;
  guint    chunks;            /* files opened in this trace */
  guint64  events;
  guint32  next_string;       /* the next string id in this file */
  StringSlot strings[STRING_SLOTS];
} Writer;

/* initial-exec: the library is linked, not loaded late, and a thread's
 * writer is found with one load instead of a call to __tls_get_addr */
#define MP_TLS __thread __attribute__ ((tls_model ("initial-exec")))

static MP_TLS Writer *tls_writer;
static MP_TLS int     tls_tid;
static guint64          events_of_dead_threads;

static void writer_free (gpointer data);
static GPrivate writer_key = G_PRIVATE_INIT (writer_free);

static gint64 *
int64_dup (gint64 v)
{
  gint64 *p = g_new (gint64, 1);
  *p = v;
  return p;
}

gint64
mp_trace_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

static int
current_tid (void)
{
  if (tls_tid == 0)
    tls_tid = (int) syscall (SYS_gettid);
  return tls_tid;
}

static void
writer_unmap (Writer *w)
{
  if (w->base != NULL)
    munmap (w->base, CHUNK_SIZE);
  if (w->fd >= 0)
    close (w->fd);
  w->base = NULL;
  w->fd = -1;
}

static void
writer_free (gpointer data)
{
  Writer *w = data;

  if (w == NULL)
    return;
  writer_unmap (w);
  g_atomic_pointer_add (&events_of_dead_threads, (gssize) w->events);
  if (tls_writer == w)
    tls_writer = NULL;
  g_free (w);
}

/* Opens the next file of this thread; FALSE when the trace directory is
 * gone (the trace was stopped): then this thread stops writing. */
static gboolean
writer_open_chunk (Writer *w)
{
  g_autofree char *dir = NULL;

  writer_unmap (w);
  g_mutex_lock (&state_lock);
  dir = g_strdup (trace_dir);
  g_mutex_unlock (&state_lock);
  if (dir == NULL)
    return FALSE;

  for (int attempt = 0; attempt < 1000; attempt++, w->seq++)
    {
      g_autofree char *file = g_strdup_printf ("%s/%d-%d-%u.mpt", dir, w->pid, w->tid, w->seq);
      FileHeader *header;

      w->fd = open (file, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (w->fd < 0 && errno == EEXIST)
        continue;
      if (w->fd < 0)
        return FALSE;
      if (ftruncate (w->fd, CHUNK_SIZE) != 0)
        break;
      /* populated now, in one go: no page fault in the middle of events
       * (in tmpfs, a populated page is written without one) */
      w->base = mmap (NULL, CHUNK_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, w->fd, 0);
      if (w->base == MAP_FAILED)
        {
          w->base = NULL;
          break;
        }
      header = (FileHeader *) w->base;
      memcpy (header->magic, FILE_MAGIC, sizeof header->magic);
      header->pid = w->pid;
      header->tid = w->tid;
      w->used = sizeof (FileHeader);
      /* string ids are per file */
      memset (w->strings, 0, sizeof w->strings);
      w->next_string = 1;
      w->seq++;
      w->chunks++;
      return TRUE;
    }
  writer_unmap (w);
  return FALSE;
}

/* This thread's writer for the running trace, or NULL (cannot write). */
static Writer *
writer_get (void)
{
  Writer *w = tls_writer;
  guint generation = g_atomic_int_get (&trace_generation);

  if (G_LIKELY (w != NULL && w->generation == generation && w->pid == self_pid))
    return w->base != NULL ? w : NULL;

  if (w != NULL && w->pid != self_pid)
    {
      /* inherited through fork from the thread that forked: the mapping
       * is the parent's file, never to be written here */
      writer_unmap (w);
      w->events = 0;
    }
  if (w == NULL)
    {
      w = g_new0 (Writer, 1);
      w->fd = -1;
      g_private_set (&writer_key, w);
      tls_writer = w;
    }
  writer_unmap (w);
  w->generation = generation;
  w->pid = self_pid;
  w->tid = current_tid ();
  w->seq = 0;
  w->chunks = 0;
  if (!writer_open_chunk (w))
    return NULL;
  return w;
}

/* FNV-1a of @s, at most MAX_STRING bytes, and its length */
static inline guint32
string_hash (const char *s,
             gsize      *length)
{
  guint32 h = 2166136261u;
  gsize n = 0;

  while (n < MAX_STRING && s[n] != '\0')
    h = (h ^ (guint8) s[n++]) * 16777619u;
  *length = n;
  return h;
}

static inline StringSlot *
string_slot (Writer     *w,
             const char *s,
             guint32     hash,
             gsize       length)
{
  StringSlot *slot = &w->strings[hash % STRING_SLOTS];

  if (slot->id != 0 && slot->hash == hash && slot->len == length &&
      memcmp (slot->text, s, length) == 0)
    return slot;
  return NULL;
}

static inline gsize
string_record_size (gsize length)
{
  return (sizeof (Record) + length + 1 + 7) & ~(gsize) 7;
}

/* Writes a KIND_STRING record for @s at w->used (the room was checked)
 * and returns its id. */
static guint32
string_define (Writer     *w,
               const char *s,
               guint32     hash,
               gsize       length)
{
  Record *r = (Record *) (w->base + w->used);
  gsize size = string_record_size (length);
  guint32 id = w->next_string++;

  r->kind = KIND_STRING;
  r->ph = 0;
  r->num_mask = r->num_double = r->n_str = r->foreign = 0;
  r->ts = id;
  memcpy (r->rest, s, length);
  r->rest[length] = '\0';
  w->used += size;
  __atomic_store_n (&r->size, (guint16) size, __ATOMIC_RELEASE);

  if (length <= STRING_SLOT_MAX)
    {
      StringSlot *slot = &w->strings[hash % STRING_SLOTS];

      slot->hash = hash;
      slot->id = id;
      slot->len = (guint8) length;
      memcpy (slot->text, s, length);
    }
  return id;
}

/**
 * mp_trace_emit: (skip)
 * @event: the event
 *
 * Appends @event to this thread's trace file. Call it only under
 * MP_TRACE_ON (the hooks do); it checks again, cheaply, so a trace
 * stopped meanwhile is not written.
 */
void
mp_trace_emit (const MpTraceEvent *event)
{
  const KindInfo *info;
  Writer *w;
  Record *r;
  const char *strs[4];
  guint32 hashes[4];
  gsize lengths[4];
  guint32 ids[4];
  gsize size, defs;
  guint n_str = 0, n_slots, num_mask = 0;
  guint8 *at;

  if (!mp_trace_flag || event->kind >= MP_TRACE_N_KINDS)
    return;
  w = writer_get ();
  if (w == NULL)
    return;
  info = &kinds[event->kind];

  for (guint i = 0; i < G_N_ELEMENTS (event->str); i++)
    if (info->str_types[i] != STR_UNUSED)
      n_str = i + 1;
  for (guint i = 0; i < n_str; i++)
    strs[i] = event->str[i] != NULL ? event->str[i] : "";
  n_slots = n_str;
  if (event->name != NULL)
    strs[n_slots++] = event->name;
  for (guint i = 0; i < G_N_ELEMENTS (event->num); i++)
    if (event->num[i] != MP_TRACE_NONE || (event->num_double & (1u << i)))
      num_mask |= 1u << i;

  size = sizeof (Record) + (event->pid != 0 ? 8 : 0) +
         8 * (gsize) __builtin_popcount (num_mask) + 4 * n_slots;
  size = (size + 7) & ~(gsize) 7;

  for (gboolean fresh = FALSE;; fresh = TRUE)
    {
      defs = 0;
      for (guint i = 0; i < n_slots; i++)
        {
          if (!fresh)
            hashes[i] = string_hash (strs[i], &lengths[i]);
          if (fresh || string_slot (w, strs[i], hashes[i], lengths[i]) == NULL)
            defs += string_record_size (lengths[i]);
        }
      if (w->used + defs + size + sizeof (guint16) <= CHUNK_SIZE)
        break;
      if (fresh || w->chunks >= max_chunks)
        {
          ((FileHeader *) w->base)->dropped++;
          return;
        }
      /* the next file starts its own string numbers */
      if (!writer_open_chunk (w))
        return;
    }

  /* the log only grows: ask for the lines of the next events now, so
   * their cache misses overlap this one's work */
  if (w->used + 512 < CHUNK_SIZE)
    __builtin_prefetch (w->base + w->used + 512, 1, 0);
  for (guint i = 0; i < n_slots; i++)
    {
      StringSlot *slot = string_slot (w, strs[i], hashes[i], lengths[i]);

      ids[i] = slot != NULL ? slot->id : string_define (w, strs[i], hashes[i], lengths[i]);
    }

  r = (Record *) (w->base + w->used);
  r->kind = event->kind;
  r->ph = (guint8) event->ph;
  r->num_mask = (guint8) num_mask;
  r->num_double = event->num_double;
  r->n_str = (guint8) (n_str | (event->name != NULL ? 0x80 : 0));
  r->foreign = event->pid != 0;
  r->ts = mp_trace_now_ns ();
  at = r->rest;
  if (event->pid != 0)
    {
      gint32 pid[2] = { event->pid, 0 };
      memcpy (at, pid, sizeof pid);
      at += sizeof pid;
    }
  for (guint i = 0; i < G_N_ELEMENTS (event->num); i++)
    if (num_mask & (1u << i))
      {
        memcpy (at, &event->num[i], 8);
        at += 8;
      }
  memcpy (at, ids, 4 * n_slots);
  w->used += size;
  w->events++;
  /* the record is whole before its size says it exists */
  __atomic_store_n (&r->size, (guint16) size, __ATOMIC_RELEASE);
}

/**
 * mp_trace_events_written: (skip)
 *
 * Returns: how many events the threads of this process wrote in the
 *   running trace so far (the ones alive, and the ones that ended).
 */
guint64
mp_trace_events_written (void)
{
  return (tls_writer != NULL ? tls_writer->events : 0) +
         g_atomic_pointer_get (&events_of_dead_threads);
}

guint64
mp_trace_flow_new (void)
{
  /* unique across processes: the pid in the high half */
  return ((guint64) (guint32) self_pid << 32) | (guint32) g_atomic_pointer_add (&flow_counter, 1);
}

/* ---- the hooks ----------------------------------------------------------- */

static void
emit_simple (MpTraceKind  kind,
             char         ph,
             const char  *name,
             const char  *s0,
             const char  *s1,
             gint64       n0)
{
  MpTraceEvent event = { .kind = kind, .ph = ph, .name = name,
                         .str = { s0, s1, NULL },
                         .num = { n0, MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

static void
emit_role (const char *role)
{
  emit_simple (MP_TRACE_ROLE, 'M', NULL, role, NULL, MP_TRACE_NONE);
}

/**
 * mp_trace_set_role:
 * @role: the label of this process ("parent", "worker 2", "manager
 *   server", "process A")
 *
 * Names this process's track in the trace. The library names the processes
 * it starts (the process name, "worker N", "manager server"); a program
 * may rename them, e.g. in its task. Harmless when tracing is off.
 *
 * Since: 0.1
 */
void
mp_trace_set_role (const char *role)
{
  g_return_if_fail (role != NULL);

  g_mutex_lock (&state_lock);
  g_free (self_role);
  self_role = g_strdup (role);
  g_mutex_unlock (&state_lock);
  if (MP_TRACE_ON)
    emit_role (role);
}

void
mp_trace_child_begin (const char *process_name,
                      const char *task,
                      const char *method)
{
  g_mutex_lock (&state_lock);
  g_free (self_role);
  self_role = g_strdup (process_name);
  g_mutex_unlock (&state_lock);
  emit_role (process_name);
  emit_simple (MP_TRACE_PROCESS_START, 'i', NULL, method, task, MP_TRACE_NONE);
}

void
mp_trace_process_exit (GPid pid,
                       int  exitcode)
{
  MpTraceEvent event = { .kind = MP_TRACE_PROCESS_EXIT, .ph = 'i', .pid = pid,
                         .num = { exitcode >= 0 ? exitcode : MP_TRACE_NONE,
                                  exitcode < 0 ? -exitcode : MP_TRACE_NONE,
                                  MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

void
mp_trace_process_guard (const char *task)
{
  emit_simple (MP_TRACE_PROCESS_GUARD, 'i', NULL, task, NULL, MP_TRACE_NONE);
}

void
mp_trace_bootstrap_error (const char *message)
{
  emit_simple (MP_TRACE_PROCESS_BOOTSTRAP_ERROR, 'i', NULL, message, NULL, MP_TRACE_NONE);
}

void
mp_trace_task (const char *task,
               gboolean    begin,
               gboolean    ok)
{
  emit_simple (MP_TRACE_PROCESS_TASK, begin ? 'B' : 'E', task, task, NULL,
               begin ? MP_TRACE_NONE : ok);
}

void
mp_trace_lock_wait_begin (const char *type,
                          const char *object)
{
  emit_simple (MP_TRACE_LOCK_WAIT, 'B', NULL, object, type, MP_TRACE_NONE);
}

void
mp_trace_lock_acquired (const char *type,
                        const char *object,
                        gint64      waited_ns)
{
  emit_simple (MP_TRACE_LOCK_WAIT, 'E', NULL, object, type, MP_TRACE_NONE);
  emit_simple (MP_TRACE_LOCK_HOLD, 'B', NULL, object, type, waited_ns);
}

void
mp_trace_lock_released (const char *type,
                        const char *object)
{
  emit_simple (MP_TRACE_LOCK_HOLD, 'E', NULL, object, type, MP_TRACE_NONE);
}

void
mp_trace_lock_wait_end (const char *type,
                        const char *object)
{
  emit_simple (MP_TRACE_LOCK_WAIT, 'E', NULL, object, type, MP_TRACE_NONE);
}

void
mp_trace_lock_timeout (const char *type,
                       const char *object)
{
  emit_simple (MP_TRACE_LOCK_WAIT, 'E', NULL, object, type, MP_TRACE_NONE);
  emit_simple (MP_TRACE_LOCK_TIMEOUT, 'i', NULL, object, type, MP_TRACE_NONE);
}

void
mp_trace_lock_owner_died (const char *type,
                          const char *object)
{
  emit_simple (MP_TRACE_LOCK_OWNER_DIED, 'i', NULL, object, type, MP_TRACE_NONE);
}

/* The watched objects travel to spawned children in this variable:
 * "KEY=NAME" lines. */
#define TRACE_WATCH_ENV "MP_TRACE_WATCH"

static void
watch_export_locked (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, name;

  g_hash_table_iter_init (&iter, watched);
  while (g_hash_table_iter_next (&iter, &key, &name))
    g_string_append_printf (text, "%" G_GUINT64_FORMAT "=%s\n", *(guint64 *) key, (char *) name);
  if (text->len > 0)
    g_setenv (TRACE_WATCH_ENV, text->str, TRUE);
  else
    g_unsetenv (TRACE_WATCH_ENV);
}

static void
watch_set_locked (guint64     key,
                  const char *name)
{
  if (watched == NULL)
    watched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  if (name == NULL)
    {
      g_hash_table_remove (watched, &key);
      return;
    }
  /* one line per object: a name is cut at its first newline */
  g_hash_table_replace (watched, int64_dup ((gint64) key), g_strndup (name, strcspn (name, "\n")));
}

static void
watch_import (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  g_mutex_lock (&watch_lock);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *end = NULL;
      guint64 key = g_ascii_strtoull (lines[i], &end, 10);

      if (end != lines[i] && *end == '=' && key != 0)
        watch_set_locked (key, end + 1);
    }
  g_mutex_unlock (&watch_lock);
}

/**
 * mp_trace_watch:
 * @shared_object: an #MpValue or #MpArray
 * @name: (nullable): its label in the trace; %NULL stops watching it
 *
 * Marks @shared_object as watched: while tracing, each read and write of
 * its elements is recorded as value.read / value.write with the value
 * (and the index, for an array), in this process and in every process
 * that shares it and is started afterwards (fork or spawn: the mark goes
 * with the object's memory, not with this pointer). Objects not watched
 * cost nothing more than with tracing off. Call it before starting the
 * children that should report.
 *
 * Since: 0.1
 */
void
mp_trace_watch (gpointer    shared_object,
                const char *name)
{
  guint64 key;

  g_return_if_fail (MP_IS_VALUE (shared_object) || MP_IS_ARRAY (shared_object));

  key = mp_shared_trace_key (shared_object);
  if (key == 0)
    return;
  g_mutex_lock (&watch_lock);
  watch_set_locked (key, name);
  watch_export_locked ();
  g_mutex_unlock (&watch_lock);
}

const char *
mp_trace_watched_name (guint64 key)
{
  const char *name = NULL;

  g_mutex_lock (&watch_lock);
  if (watched != NULL)
    name = g_hash_table_lookup (watched, &key);
  g_mutex_unlock (&watch_lock);
  return name;
}

void
mp_trace_value_int (gboolean    write,
                    const char *object,
                    gint64      index,
                    gint64      value)
{
  MpTraceEvent event = { .kind = write ? MP_TRACE_VALUE_WRITE : MP_TRACE_VALUE_READ, .ph = 'i',
                         .str = { object }, .num = { value, index, MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

void
mp_trace_value_double (gboolean    write,
                       const char *object,
                       gint64      index,
                       double      value)
{
  MpTraceEvent event = { .kind = write ? MP_TRACE_VALUE_WRITE : MP_TRACE_VALUE_READ, .ph = 'i',
                         .num_double = 1, .str = { object },
                         .num = { 0, index, MP_TRACE_NONE, MP_TRACE_NONE } };

  memcpy (&event.num[0], &value, sizeof value);
  mp_trace_emit (&event);
}

/* ---- proxy calls --------------------------------------------------------- */

/* The call this thread is making (a thread makes one at a time). */
typedef struct
{
  gboolean active;            /* target() was called */
  gboolean sent;              /* proxy.call is open */
  char     object[72];
  char     method[48];
  char     wait_type[48];     /* a manager lock's or queue's wait, or "" */
  gboolean holds;             /* a successful wait opens a hold */
  gboolean releases;          /* a successful call closes a hold */
  gint64   wait_start;
  guint64  flow;
  gsize    reply_bytes;
} ProxyCall;

static MP_TLS ProxyCall proxy_call;

/**
 * mp_trace_format_label: (skip)
 * @buf: where to write
 * @size: its size (at least 24)
 * @type: the type's name, "Lock" or a manager typeid
 * @id: the object's number
 *
 * Writes "TYPE ID" into @buf, the type cut to fit: the label of an object
 * in every event about it. Written by hand: printf would cost more than
 * the event itself.
 */
void
mp_trace_format_label (char       *buf,
                       gsize       size,
                       const char *type,
                       guint64     id)
{
  char digits[21];
  gsize n = 0, at;

  do
    digits[n++] = (char) ('0' + id % 10);
  while ((id /= 10) != 0);
  at = MIN (strlen (type), size - n - 2);
  memcpy (buf, type, at);
  buf[at++] = ' ';
  while (n > 0)
    buf[at++] = digits[--n];
  buf[at] = '\0';
}

static gboolean
is_lock_typeid (const char *typeid)
{
  return g_str_equal (typeid, "Lock") || g_str_equal (typeid, "RLock") ||
         g_str_equal (typeid, "Semaphore") || g_str_equal (typeid, "BoundedSemaphore") ||
         g_str_equal (typeid, "Condition");
}

void
mp_trace_proxy_target (const char *typeid,
                       guint64     id,
                       const char *method)
{
  ProxyCall *c = &proxy_call;

  c->active = TRUE;
  c->sent = c->holds = c->releases = FALSE;
  c->wait_type[0] = '\0';
  c->reply_bytes = 0;
  mp_trace_format_label (c->object, sizeof c->object, typeid, id);
  g_strlcpy (c->method, method, sizeof c->method);

  /* the manager's locks and queues wait in the server: a lock-like wait */
  if (is_lock_typeid (typeid) && g_str_equal (method, "acquire"))
    {
      g_snprintf (c->wait_type, sizeof c->wait_type, "manager %s", typeid);
      c->holds = TRUE;
    }
  else if (is_lock_typeid (typeid) && g_str_equal (method, "release"))
    {
      g_snprintf (c->wait_type, sizeof c->wait_type, "manager %s", typeid);
      c->releases = TRUE;
    }
  else if ((g_str_equal (typeid, "Queue") || g_str_equal (typeid, "JoinableQueue")) &&
           (g_str_equal (method, "get") || g_str_equal (method, "put")))
    g_snprintf (c->wait_type, sizeof c->wait_type, "Queue.%s", method);
  else if ((g_str_equal (typeid, "Event") || g_str_equal (typeid, "Condition") ||
            g_str_equal (typeid, "Barrier")) && g_str_equal (method, "wait"))
    g_snprintf (c->wait_type, sizeof c->wait_type, "manager %s", typeid);

  if (c->wait_type[0] != '\0' && !c->releases)
    {
      mp_trace_lock_wait_begin (c->wait_type, c->object);
      c->wait_start = mp_trace_now_ns ();
    }
}

void
mp_trace_proxy_send (gsize bytes)
{
  ProxyCall *c = &proxy_call;
  /* no .name: the reader names a call by its method */
  MpTraceEvent event = { .kind = MP_TRACE_PROXY_CALL, .ph = 'B', .str = { c->object, c->method } };

  if (!c->active || c->sent)
    return;
  c->sent = TRUE;
  c->flow = mp_trace_flow_new ();
  event.num[0] = (gint64) bytes;
  event.num[1] = event.num[2] = MP_TRACE_NONE;
  event.num[3] = (gint64) c->flow;
  mp_trace_emit (&event);
}

void
mp_trace_proxy_received (gsize bytes)
{
  proxy_call.reply_bytes = bytes;
}

/* A reply that carries an object, a list or a dict is the server's object
 * copied: changing it changes nothing there (pitfall mutate-a-copy). */
static gboolean
reply_is_copy (GVariant *payload)
{
  g_autoptr(GVariant) inner = NULL;
  const char *type;

  if (payload == NULL || !g_variant_is_of_type (payload, G_VARIANT_TYPE_VARIANT))
    return FALSE;
  inner = g_variant_get_variant (payload);
  type = g_variant_get_type_string (inner);
  return g_str_equal (type, "(sv)") || g_str_equal (type, "av") || g_str_equal (type, "a{sv}");
}

void
mp_trace_proxy_done (gboolean  ok,
                     GVariant *payload,
                     GError   *error)
{
  ProxyCall *c = &proxy_call;

  if (!c->active)
    return;
  if (c->sent)
    {
      gboolean copy = ok && reply_is_copy (payload);
      MpTraceEvent reply = { .kind = MP_TRACE_PROXY_REPLY, .ph = 'i',
                             .name = ok ? (copy ? "copy" : "reply") : "error reply",
                             .str = { c->object, c->method },
                             .num = { (gint64) c->reply_bytes, copy,
                                      MP_TRACE_NONE, (gint64) c->flow } };
      MpTraceEvent end = { .kind = MP_TRACE_PROXY_CALL, .ph = 'E',
                           .str = { c->object, c->method },
                           .num = { MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE } };

      if (c->reply_bytes > 0)
        mp_trace_emit (&reply);
      mp_trace_emit (&end);
    }
  if (c->wait_type[0] != '\0')
    {
      gboolean timed_out = error != NULL && error->domain == MP_ERROR &&
                           (error->code == MP_ERROR_TIMEOUT || error->code == MP_ERROR_EMPTY ||
                            error->code == MP_ERROR_FULL);

      if (c->releases)
        {
          if (ok)
            mp_trace_lock_released (c->wait_type, c->object);
        }
      else if (ok && c->holds)
        mp_trace_lock_acquired (c->wait_type, c->object, mp_trace_now_ns () - c->wait_start);
      else if (timed_out)
        mp_trace_lock_timeout (c->wait_type, c->object);
      else
        mp_trace_lock_wait_end (c->wait_type, c->object);
    }
  c->active = FALSE;
}

void
mp_trace_proxy_handle (gboolean    begin,
                       const char *typeid,
                       guint64     id,
                       const char *method)
{
  char object[72];
  MpTraceEvent event = { .kind = MP_TRACE_PROXY_HANDLE, .ph = begin ? 'B' : 'E',
                         .str = { object, method },
                         .num = { MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE } };

  mp_trace_format_label (object, sizeof object, typeid, id);
  mp_trace_emit (&event);
}

/* ---- pools --------------------------------------------------------------- */

void
mp_trace_pool_submit (const char *task,
                      guint       future)
{
  emit_simple (MP_TRACE_POOL_SUBMIT, 'i', NULL, task, NULL, future);
}

void
mp_trace_pool_dispatch (const char *task,
                        guint64     future,
                        guint       worker)
{
  MpTraceEvent event = { .kind = MP_TRACE_POOL_DISPATCH, .ph = 'i', .str = { task },
                         .num = { (gint64) future, worker, MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

void
mp_trace_pool_done (guint64  future,
                    gboolean ok)
{
  MpTraceEvent event = { .kind = MP_TRACE_POOL_DONE, .ph = 'i',
                         .num = { (gint64) future, ok, MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

void
mp_trace_pool_worker_died (guint       worker,
                           int         exitcode,
                           const char *broken)
{
  MpTraceEvent event = { .kind = MP_TRACE_POOL_WORKER_DIED, .ph = 'i', .str = { broken },
                         .num = { worker, exitcode < 0 ? -exitcode : MP_TRACE_NONE,
                                  exitcode >= 0 ? exitcode : MP_TRACE_NONE, MP_TRACE_NONE } };
  mp_trace_emit (&event);
}

static _Thread_local guint expected_errors_depth;

void
mp_trace_expect_errors_push (void)
{
  expected_errors_depth++;
}

void
mp_trace_expect_errors_pop (void)
{
  g_return_if_fail (expected_errors_depth > 0);
  expected_errors_depth--;
}

void
mp_trace_error (int         code,
                const char *message)
{
  MpTraceEvent event = { .kind = MP_TRACE_ERROR, .ph = 'i',
                         .name = mp_error_code_name (code),
                         .str = { mp_error_code_name (code), mp_error_pitfall_id (code), message },
                         .num = { MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE } };

  if (expected_errors_depth > 0)
    return;
  mp_trace_emit (&event);
}

void
mp_trace_serialize_refused (const char *path,
                            const char *message)
{
  emit_simple (MP_TRACE_SERIALIZE_REFUSED, 'i', NULL, path, message, MP_TRACE_NONE);
}

/* ---- start and stop ------------------------------------------------------ */

static void
atfork_child (void)
{
  self_pid = getpid ();
  tls_tid = 0;
  /* the parent's file is closed now, not at the first event: the
   * forkserver's child puts inherited fds at numbers of its choosing
   * before that, and a late close would hit one of them */
  if (tls_writer != NULL && tls_writer->pid != self_pid)
    writer_unmap (tls_writer);
}

/* Turns recording on in this process, writing into @dir. */
static void
join_trace (const char *dir)
{
  g_mutex_lock (&state_lock);
  g_free (trace_dir);
  trace_dir = g_strdup (dir);
  g_atomic_int_inc (&trace_generation);
  g_mutex_unlock (&state_lock);
  __atomic_store_n (&mp_trace_flag, 1, __ATOMIC_RELEASE);
}

static gboolean
remove_dir (const char  *dir,
            GError     **error)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  const char *entry;

  if (d == NULL)
    return FALSE;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, entry, NULL);
      g_unlink (file);
    }
  if (g_rmdir (dir) != 0)
    {
      int saved = errno;
      g_set_error (error, MP_ERROR, mp_error_from_errno (saved),
                   "removing the trace directory %s: %s", dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* In /dev/shm when it is there (tmpfs: events stay in memory, no disk
 * block is allocated under a page being written), else in the temporary
 * directory. */
static char *
make_trace_dir (GError **error)
{
  g_autofree char *in_shm = g_strdup ("/dev/shm/mpshare-trace-XXXXXX");

  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && g_mkdtemp (in_shm) != NULL)
    return g_steal_pointer (&in_shm);
  return g_dir_make_tmp ("mpshare-trace-XXXXXX", error);
}

/**
 * mp_trace_start:
 * @path: (nullable): where mp_trace_stop() writes the Chrome trace JSON;
 *   %NULL: nothing is written, mp_trace_stop() only returns the document
 * @error: return location for a #GError
 *
 * Starts recording in this process and in every process it starts from
 * now on (fork and spawn children, pool workers, the manager server). The
 * events go into a private temporary directory that mp_trace_stop()
 * removes.
 *
 * Returns: %TRUE when recording; %FALSE with %MP_ERROR_INVALID_ARGUMENT
 *   when a trace is already running in this process, or an OS error when
 *   the directory cannot be made.
 *
 * Since: 0.1
 */
gboolean
mp_trace_start (const char  *path,
                GError     **error)
{
  g_autofree char *dir = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (path == NULL || *path != '\0', FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (mp_trace_flag)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "a trace is already running in this process (pid %d): stop it with mp_trace_stop() "
                    "before starting another", (int) getpid ());
      return FALSE;
    }

  dir = make_trace_dir (&local_error);
  if (dir == NULL)
    {
      mp_set_error (error, MP_ERROR_FAILED, "starting a trace: %s", local_error->message);
      g_error_free (local_error);
      return FALSE;
    }

  g_mutex_lock (&state_lock);
  g_free (trace_path);
  trace_path = g_strdup (path);
  trace_root = TRUE;
  trace_origin = mp_trace_now_ns ();
  if (self_role == NULL)
    self_role = g_strdup ("parent");
  g_mutex_unlock (&state_lock);
  self_pid = getpid ();
  /* spawned children (fresh programs) learn the directory from here */
  g_setenv (TRACE_DIR_ENV, dir, TRUE);
  join_trace (dir);
  emit_role (self_role);
  return TRUE;
}

/**
 * mp_trace_is_active:
 *
 * Returns: %TRUE while this process records.
 *
 * Since: 0.1
 */
gboolean
mp_trace_is_active (void)
{
  return mp_trace_flag != 0;
}

/* ---- the gatherer -------------------------------------------------------- */

typedef struct
{
  gint64      ts;
  guint       order;          /* position in its file: ties keep it */
  JsonObject *object;         /* the event, without "ts" until output */
  MpTraceKind kind;
  char        ph;
  char       *match;          /* B/E: kind + object, what pairs them */
} Ev;

typedef struct
{
  int        pid;
  int        tid;
  GPtrArray *events;          /* Ev* */
} Track;

static void
ev_free (gpointer data)
{
  Ev *ev = data;

  if (ev->object != NULL)
    json_object_unref (ev->object);
  g_free (ev->match);
  g_free (ev);
}

static void
track_free (gpointer data)
{
  Track *t = data;

  g_ptr_array_unref (t->events);
  g_free (t);
}


static Track *
track_for (GHashTable *tracks,
           int         pid,
           int         tid)
{
  gint64 key = ((gint64) pid << 32) | (guint32) tid;
  Track *t = g_hash_table_lookup (tracks, &key);

  if (t == NULL)
    {
      t = g_new0 (Track, 1);
      t->pid = pid;
      t->tid = tid;
      t->events = g_ptr_array_new_with_free_func (ev_free);
      g_hash_table_insert (tracks, int64_dup (key), t);
    }
  return t;
}

static void
set_int_list (JsonObject *args,
              const char *name,
              const char *text)
{
  JsonArray *list = json_array_new ();
  g_auto(GStrv) parts = g_strsplit (text, ",", -1);

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0')
      json_array_add_int_element (list, g_ascii_strtoll (parts[i], NULL, 10));
  json_object_set_array_member (args, name, list);
}

/* One record into an Ev of its track, or FALSE when it is malformed.
 * @header: the file's; @strings: the file's strings by id, so far. */
static gboolean
read_record (const Record     *r,
             gsize             size,
             const FileHeader *header,
             GPtrArray        *strings,
             GHashTable       *tracks,
             GHashTable       *roles,
             guint             order)
{
  const KindInfo *info;
  const char *strs[4] = { NULL };
  const guint8 *at = r->rest;
  const guint8 *end = (const guint8 *) r + size;
  guint n_str = r->n_str & 0x7f;
  gboolean has_name = (r->n_str & 0x80) != 0;
  gint64 num[4] = { MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE, MP_TRACE_NONE };
  gint32 pid = header->pid, tid = header->tid;
  JsonObject *args;
  Ev *ev;

  if (r->kind == KIND_STRING)
    {
      /* ids come in order, each text NUL-terminated within its record */
      if (r->ts != (gint64) strings->len || memchr (at, '\0', end - at) == NULL)
        return FALSE;
      g_ptr_array_add (strings, (gpointer) at);
      return TRUE;
    }
  if (r->kind >= MP_TRACE_N_KINDS || n_str > 3)
    return FALSE;
  info = &kinds[r->kind];
  if (r->foreign)
    {
      if (end - at < 8)
        return FALSE;
      memcpy (&pid, at, sizeof pid);
      tid = pid;
      at += 8;
    }
  for (guint i = 0; i < G_N_ELEMENTS (num); i++)
    if (r->num_mask & (1u << i))
      {
        if (end - at < 8)
          return FALSE;
        memcpy (&num[i], at, 8);
        at += 8;
      }
  for (guint i = 0; i < n_str + (has_name ? 1 : 0); i++)
    {
      guint32 id;

      if (end - at < 4)
        return FALSE;
      memcpy (&id, at, sizeof id);
      at += 4;
      if (id == 0 || id >= strings->len)
        return FALSE;
      strs[i] = strings->pdata[id];
    }

  if (r->kind == MP_TRACE_ROLE)
    {
      if (strs[0] != NULL)
        g_hash_table_replace (roles, GINT_TO_POINTER (pid), g_strdup (strs[0]));
      return TRUE;
    }

  args = json_object_new ();
  json_object_set_string_member (args, "kind", info->kind);
  for (guint i = 0; i < n_str; i++)
    {
      if (info->str_types[i] == STR_INT_LIST)
        set_int_list (args, info->str_names[i], strs[i]);
      /* empty: not given (a code without a pitfall) */
      else if (info->str_types[i] == STR_TEXT && strs[i] != NULL && *strs[i] != '\0')
        json_object_set_string_member (args, info->str_names[i], strs[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (num); i++)
    {
      /* an end has its numbers too: a task's end says whether it went well */
      if (info->num_types[i] == NUM_UNUSED || !(r->num_mask & (1u << i)))
        continue;
      if (r->num_double & (1u << i))
        {
          double d;
          memcpy (&d, &num[i], sizeof d);
          json_object_set_double_member (args, info->num_names[i], d);
        }
      else if (num[i] == MP_TRACE_NONE)
        continue;
      else if (info->num_types[i] == NUM_BOOL)
        json_object_set_boolean_member (args, info->num_names[i], num[i] != 0);
      else
        json_object_set_int_member (args, info->num_names[i], num[i]);
    }

  ev = g_new0 (Ev, 1);
  ev->ts = r->ts;
  ev->order = order;
  ev->kind = r->kind;
  ev->ph = (char) r->ph;
  if (ev->ph == 'B' || ev->ph == 'E')
    ev->match = g_strdup_printf ("%s|%s", info->kind, n_str > 0 && strs[0] != NULL ? strs[0] : "");
  ev->object = json_object_new ();
  json_object_set_string_member (ev->object, "name",
                                 has_name ? strs[n_str] :
                                 r->kind == MP_TRACE_PROXY_CALL || r->kind == MP_TRACE_PROXY_HANDLE ?
                                   (strs[1] != NULL && *strs[1] ? strs[1] : info->label) : info->label);
  json_object_set_string_member (ev->object, "cat", info->cat);
  json_object_set_string_member (ev->object, "ph", (char[]) { ev->ph, '\0' });
  json_object_set_int_member (ev->object, "pid", pid);
  json_object_set_int_member (ev->object, "tid", tid);
  if (ev->ph == 'i')
    json_object_set_string_member (ev->object, "s", "t");
  json_object_set_object_member (ev->object, "args", args);
  g_ptr_array_add (track_for (tracks, pid, tid)->events, ev);
  return TRUE;
}

static void
read_file (const char *file,
           GHashTable *tracks,
           GHashTable *roles,
           gint64     *dropped)
{
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (file, FALSE, NULL);
  /* id 0 is no string */
  g_autoptr(GPtrArray) strings = g_ptr_array_new ();
  const FileHeader *header;
  const guint8 *data;
  gsize length, at;
  guint order = 0;

  if (mapped == NULL)
    return;
  data = (const guint8 *) g_mapped_file_get_contents (mapped);
  length = g_mapped_file_get_length (mapped);
  if (length < sizeof (FileHeader) || memcmp (data, FILE_MAGIC, 8) != 0)
    return;
  header = (const FileHeader *) data;
  *dropped += header->dropped;
  g_ptr_array_add (strings, NULL);
  for (at = sizeof (FileHeader); at + sizeof (Record) <= length; order++)
    {
      const Record *r = (const Record *) (data + at);
      guint16 size = __atomic_load_n (&r->size, __ATOMIC_ACQUIRE);

      /* zero: the end (or a record its writer never finished) */
      if (size < sizeof (Record) || size % 8 != 0 || size > length - at)
        break;
      if (!read_record (r, size, header, strings, tracks, roles, order))
        break;
      at += size;
    }
}

static gint
ev_compare (gconstpointer a,
            gconstpointer b)
{
  const Ev *x = *(const Ev * const *) a;
  const Ev *y = *(const Ev * const *) b;

  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static Ev *
closing_event (const Ev   *begin,
               gint64      ts,
               const char *why)
{
  Ev *ev = g_new0 (Ev, 1);
  JsonObject *args = json_object_new ();

  ev->ts = ts;
  ev->order = G_MAXUINT;
  ev->kind = begin->kind;
  ev->ph = 'E';
  ev->object = json_object_new ();
  json_object_set_string_member (ev->object, "name", json_object_get_string_member (begin->object, "name"));
  json_object_set_string_member (ev->object, "cat", json_object_get_string_member (begin->object, "cat"));
  json_object_set_string_member (ev->object, "ph", "E");
  json_object_set_int_member (ev->object, "pid", json_object_get_int_member (begin->object, "pid"));
  json_object_set_int_member (ev->object, "tid", json_object_get_int_member (begin->object, "tid"));
  json_object_set_string_member (args, "kind", kinds[begin->kind].kind);
  json_object_set_boolean_member (args, why, TRUE);
  json_object_set_object_member (ev->object, "args", args);
  return ev;
}

/* A deep copy: each event of the document gets its own "ts". */
static JsonObject *
object_copy (JsonObject *object)
{
  JsonObject *copy = json_object_new ();
  JsonObjectIter iter;
  const char *member;
  JsonNode *node;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &member, &node))
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        json_object_set_object_member (copy, member, object_copy (json_node_get_object (node)));
      else
        json_object_set_member (copy, member, json_node_copy (node));
    }
  return copy;
}

static Ev *
reopened_event (const Ev *begin,
                gint64    ts)
{
  Ev *ev = g_new0 (Ev, 1);

  ev->ts = ts;
  ev->kind = begin->kind;
  ev->ph = 'B';
  ev->match = g_strdup (begin->match);
  ev->object = object_copy (begin->object);
  return ev;
}

/* Sorts a track into @out with its B/E events properly nested, as Chrome
 * and Perfetto need them: an E pairs with the innermost open B of the same
 * kind and object; slices opened inside it and still open are closed
 * around it and opened again (a thread that releases locks in another
 * order than it took them); an E nobody opened on this track (a semaphore
 * released by another process than took it) is dropped; what is still
 * open at the end is closed at @close_ts, the track's process's last
 * event or its death. */
static void
track_finish (Track     *t,
              gint64     close_ts,
              gboolean   died,
              GPtrArray *out)
{
  g_autoptr(GPtrArray) open = g_ptr_array_new ();   /* Ev* B, owned by out */
  guint order = 0;

  g_ptr_array_sort (t->events, ev_compare);
  g_ptr_array_set_free_func (t->events, NULL);
  for (guint i = 0; i < t->events->len; i++)
    {
      Ev *ev = t->events->pdata[i];
      gint found = -1;

      if (ev->ph != 'E')
        {
          ev->order = order++;
          g_ptr_array_add (out, ev);
          if (ev->ph == 'B')
            g_ptr_array_add (open, ev);
          continue;
        }
      for (guint j = open->len; j-- > 0; )
        if (g_strcmp0 (((Ev *) open->pdata[j])->match, ev->match) == 0)
          {
            found = (gint) j;
            break;
          }
      if (found < 0)
        {
          ev_free (ev);
          continue;
        }
      {
        g_autoptr(GPtrArray) inner = g_ptr_array_new ();

        while (open->len > (guint) found + 1)
          {
            Ev *b = g_ptr_array_steal_index (open, open->len - 1);
            Ev *e = closing_event (b, ev->ts, "split");
            e->order = order++;
            g_ptr_array_add (out, e);
            g_ptr_array_add (inner, b);
          }
        g_ptr_array_remove_index (open, found);
        ev->order = order++;
        g_ptr_array_add (out, ev);
        for (guint j = inner->len; j-- > 0; )
          {
            Ev *b = reopened_event (inner->pdata[j], ev->ts);
            b->order = order++;
            g_ptr_array_add (out, b);
            g_ptr_array_add (open, b);
          }
      }
    }
  while (open->len > 0)
    {
      Ev *b = g_ptr_array_steal_index (open, open->len - 1);
      Ev *e = closing_event (b, MAX (close_ts, b->ts), died ? "closed_at_death" : "closed_at_stop");
      e->order = order++;
      g_ptr_array_add (out, e);
    }
  g_ptr_array_set_size (t->events, 0);
}

static gint
ev_compare_global (gconstpointer a,
                   gconstpointer b)
{
  const Ev *x = *(const Ev * const *) a;
  const Ev *y = *(const Ev * const *) b;
  gint64 xp = json_object_get_int_member (x->object, "pid");
  gint64 yp = json_object_get_int_member (y->object, "pid");
  gint64 xt = json_object_get_int_member (x->object, "tid");
  gint64 yt = json_object_get_int_member (y->object, "tid");

  if (x->ts != y->ts)
    return x->ts < y->ts ? -1 : 1;
  if (xp != yp)
    return xp < yp ? -1 : 1;
  if (xt != yt)
    return xt < yt ? -1 : 1;
  return x->order < y->order ? -1 : x->order > y->order;
}

static JsonObject *
flow_event (const Ev *ev,
            gint64    flow,
            gboolean  start)
{
  JsonObject *o = json_object_new ();
  JsonObject *args = json_object_new ();

  json_object_set_string_member (o, "name", "proxy call");
  json_object_set_string_member (o, "cat", "proxy");
  json_object_set_string_member (o, "ph", start ? "s" : "f");
  if (!start)
    json_object_set_string_member (o, "bp", "e");
  json_object_set_int_member (o, "id", flow);
  json_object_set_int_member (o, "pid", json_object_get_int_member (ev->object, "pid"));
  json_object_set_int_member (o, "tid", json_object_get_int_member (ev->object, "tid"));
  json_object_set_string_member (args, "kind", kinds[ev->kind].kind);
  json_object_set_object_member (o, "args", args);
  return o;
}

static void
add_event (JsonArray  *list,
           JsonObject *object,
           gint64      ts,
           gint64      origin)
{
  json_object_set_double_member (object, "ts", (double) (ts - origin) / 1000.0);
  json_array_add_object_element (list, object);
}

/* pid -> role, of every process a trace of this process named: a child
 * started in one trace and reaped in the next (its exit is written by
 * this process) keeps its name. Only mp_trace_stop() touches it. */
static GHashTable *earlier_roles;

static void
remember_roles (GHashTable *roles)
{
  GHashTableIter iter;
  gpointer pid, role;

  if (earlier_roles == NULL)
    earlier_roles = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_hash_table_iter_init (&iter, roles);
  while (g_hash_table_iter_next (&iter, &pid, &role))
    g_hash_table_replace (earlier_roles, pid, g_strdup (role));
}

/* Reads every file of @dir into one document. */
static JsonNode *
gather (const char *dir,
        gint64      origin,
        GError    **error)
{
  g_autoptr(GHashTable) tracks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, track_free);
  g_autoptr(GHashTable) roles = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GHashTable) last_ts = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr(GHashTable) exited = g_hash_table_new (NULL, NULL);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func (ev_free);
  g_autoptr(GDir) d = g_dir_open (dir, 0, error);
  g_autoptr(GList) pids = NULL;
  JsonNode *document;
  gint64 dropped = 0;
  JsonObject *root;
  JsonArray *list;
  GHashTableIter iter;
  const char *entry;
  Track *t;

  if (d == NULL)
    return NULL;
  while ((entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, entry, NULL);
      read_file (file, tracks, roles, &dropped);
    }

  /* each process's last moment, and whether it is known to be gone */
  g_hash_table_iter_init (&iter, tracks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    for (guint i = 0; i < t->events->len; i++)
      {
        Ev *ev = t->events->pdata[i];
        gint64 *last = g_hash_table_lookup (last_ts, GINT_TO_POINTER (t->pid));

        if (last == NULL)
          g_hash_table_insert (last_ts, GINT_TO_POINTER (t->pid), int64_dup (ev->ts));
        else if (ev->ts > *last)
          *last = ev->ts;
        if (ev->kind == MP_TRACE_PROCESS_EXIT)
          g_hash_table_add (exited, GINT_TO_POINTER (t->pid));
      }

  g_hash_table_iter_init (&iter, tracks);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    {
      gint64 *last = g_hash_table_lookup (last_ts, GINT_TO_POINTER (t->pid));
      gboolean died = g_hash_table_contains (exited, GINT_TO_POINTER (t->pid)) ||
                      (t->pid != getpid () && kill (t->pid, 0) != 0 && errno == ESRCH);
      track_finish (t, last != NULL ? *last : origin, died, all);
    }
  g_ptr_array_sort (all, ev_compare_global);

  root = json_object_new ();
  list = json_array_new ();
  json_object_set_string_member (root, "displayTimeUnit", "ns");
  if (dropped > 0)
    json_object_set_int_member (root, "mpshareDroppedEvents", dropped);

  /* one process_name per process, first */
  /* a process that only named itself has a track too */
  g_hash_table_iter_init (&iter, roles);
  while (g_hash_table_iter_next (&iter, (gpointer *) &entry, NULL))
    if (!g_hash_table_contains (last_ts, entry))
      g_hash_table_insert (last_ts, (gpointer) entry, int64_dup (origin));
  pids = g_hash_table_get_keys (last_ts);
  for (GList *l = pids; l != NULL; l = l->next)
    {
      int pid = GPOINTER_TO_INT (l->data);
      const char *role = g_hash_table_lookup (roles, l->data);
      g_autofree char *fallback = g_strdup_printf ("pid %d", pid);

      if (role == NULL && earlier_roles != NULL)
        role = g_hash_table_lookup (earlier_roles, l->data);
      JsonObject *m = json_object_new ();
      JsonObject *args = json_object_new ();

      json_object_set_string_member (m, "name", "process_name");
      json_object_set_string_member (m, "cat", "__metadata");
      json_object_set_string_member (m, "ph", "M");
      json_object_set_int_member (m, "pid", pid);
      json_object_set_int_member (m, "tid", pid);
      json_object_set_string_member (args, "name", role != NULL ? role : fallback);
      json_object_set_object_member (m, "args", args);
      add_event (list, m, origin, origin);
    }
  remember_roles (roles);

  for (guint i = 0; i < all->len; i++)
    {
      Ev *ev = all->pdata[i];
      JsonObject *args = json_object_get_object_member (ev->object, "args");
      gboolean flow = args != NULL && json_object_has_member (args, "flow") && ev->ph != 'E';
      gint64 flow_id = flow ? json_object_get_int_member (args, "flow") : 0;

      if (flow && ev->kind == MP_TRACE_PROXY_REPLY)
        add_event (list, flow_event (ev, flow_id, FALSE), ev->ts, origin);
      add_event (list, json_object_ref (ev->object), ev->ts, origin);
      if (flow && ev->kind == MP_TRACE_PROXY_CALL)
        add_event (list, flow_event (ev, flow_id, TRUE), ev->ts, origin);
    }

  json_object_set_array_member (root, "traceEvents", list);
  document = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (document, root);
  return document;
}

static gboolean
write_document (JsonNode    *document,
                const char  *path,
                GError     **error)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *data = NULL;
  gsize length = 0;
  GError *local_error = NULL;

  json_generator_set_root (generator, document);
  data = json_generator_to_data (generator, &length);
  if (!g_file_set_contents (path, data, length, &local_error))
    {
      mp_set_error (error, MP_ERROR_FAILED, "writing the trace to %s: %s", path, local_error->message);
      g_error_free (local_error);
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_trace_stop:
 * @error: return location for a #GError
 *
 * In the process that called mp_trace_start(): stops recording here and
 * in the children (they find the trace gone and stop writing), gathers the
 * events of every process, writes the JSON file given to mp_trace_start()
 * if any, and removes the temporary trace directory. Join the processes
 * you started before, or the events they write afterwards are not in it.
 * Slices still open are closed at their process's last event (or death).
 *
 * Returns: (transfer full): the Chrome trace-event document, or %NULL with
 *   %MP_ERROR_INVALID_ARGUMENT when this process started no trace, or an
 *   OS error when the file cannot be written (the document is lost then,
 *   but nothing is left behind).
 *
 * Since: 0.1
 */
JsonNode *
mp_trace_stop (GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonNode) document = NULL;
  gint64 origin;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&state_lock);
  if (!mp_trace_flag || !trace_root)
    {
      g_mutex_unlock (&state_lock);
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "no trace was started in this process (pid %d): only the process that called "
                    "mp_trace_start() stops it and gathers the events", (int) getpid ());
      return NULL;
    }
  __atomic_store_n (&mp_trace_flag, 0, __ATOMIC_RELEASE);
  g_atomic_int_inc (&trace_generation);
  dir = g_steal_pointer (&trace_dir);
  path = g_steal_pointer (&trace_path);
  origin = trace_origin;
  trace_root = FALSE;
  g_mutex_unlock (&state_lock);
  g_unsetenv (TRACE_DIR_ENV);
  g_atomic_pointer_set (&events_of_dead_threads, 0);

  document = gather (dir, origin, error);
  if (!remove_dir (dir, document != NULL ? error : NULL) && document != NULL)
    return NULL;
  if (document == NULL)
    return NULL;
  if (path != NULL && !write_document (document, path, error))
    return NULL;
  return g_steal_pointer (&document);
}

void
mp_trace_set_file_limit (guint chunks)
{
  max_chunks = MAX (chunks, 1);
}

guint64
mp_trace_discard (void)
{
  g_autofree char *dir = NULL;
  g_autoptr(GDir) d = NULL;
  const char *entry;
  guint64 bytes = 0;

  g_mutex_lock (&state_lock);
  if (!mp_trace_flag || !trace_root)
    {
      g_mutex_unlock (&state_lock);
      return 0;
    }
  __atomic_store_n (&mp_trace_flag, 0, __ATOMIC_RELEASE);
  g_atomic_int_inc (&trace_generation);
  dir = g_steal_pointer (&trace_dir);
  g_clear_pointer (&trace_path, g_free);
  trace_root = FALSE;
  g_mutex_unlock (&state_lock);
  g_unsetenv (TRACE_DIR_ENV);

  d = g_dir_open (dir, 0, NULL);
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, entry, NULL);
      struct stat st;

      /* the files are sparse: what was written is what is allocated */
      if (stat (file, &st) == 0)
        bytes += (guint64) st.st_blocks * 512;
    }
  remove_dir (dir, NULL);
  return bytes;
}

static void
stop_at_exit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) document = NULL;

  /* only the process that started it: forked children share this
   * handler but _exit() skips it, and a child's flag says not root */
  if (!trace_from_env || !trace_root || getpid () != self_pid)
    return;
  document = mp_trace_stop (&error);
  if (document == NULL)
    g_printerr ("mpshare: %s=%s: %s\n", MP_TRACE_ENV, g_getenv (MP_TRACE_ENV), error->message);
}

/* At library start: join a trace our parent runs (MP_TRACE_DIR, set for
 * spawned children), or start one for the whole program (MP_TRACE). */
__attribute__((constructor)) static void
trace_init (void)
{
  const char *dir = getenv (TRACE_DIR_ENV);
  const char *path = getenv (MP_TRACE_ENV);

  self_pid = getpid ();
  pthread_atfork (NULL, NULL, atfork_child);
  if (dir != NULL && *dir != '\0')
    {
      const char *watch = getenv (TRACE_WATCH_ENV);

      if (watch != NULL)
        watch_import (watch);
      if (g_file_test (dir, G_FILE_TEST_IS_DIR))
        join_trace (dir);
      return;
    }
  if (path != NULL && *path != '\0')
    {
      g_autoptr(GError) error = NULL;

      if (!mp_trace_start (path, &error))
        {
          g_printerr ("mpshare: %s=%s: %s\n", MP_TRACE_ENV, path, error->message);
          return;
        }
      trace_from_env = TRUE;
      atexit (stop_at_exit);
    }
}
