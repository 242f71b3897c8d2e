/* mp-trace-private.h — the hooks every layer calls to report to the recorder
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A hook site is one line:
 *
 *   MP_TRACE (mp_trace_lock_wait (type, name));
 *
 * With the recorder off, that is one load of a global flag and a branch the
 * compiler lays out as not taken (G_UNLIKELY): the hook's arguments are not
 * even evaluated. Built with -DMP_TRACE_DISABLED the hooks vanish, which is
 * how tests/bench measures what the branch costs.
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* nonzero while this process records; written only by mp-trace.c, when
 * a trace starts or stops. Deliberately not volatile nor atomic: within
 * one inlined access path (lock, read, write, unlock) the compiler loads
 * it once and drops the later checks, so the path pays one branch, not
 * one per hook. A trace switched on meanwhile is seen at the next call. */
extern int mp_trace_flag;

#ifdef MP_TRACE_DISABLED
#define MP_TRACE_ON 0
#else
#define MP_TRACE_ON G_UNLIKELY (mp_trace_flag != 0)
#endif

#define MP_TRACE(call) G_STMT_START { if (MP_TRACE_ON) { call; } } G_STMT_END

/* The event kinds (args.kind in the document), in docs/trace.md's order.
 * Add at the end of a group freely: the numbers never leave a trace run. */
typedef enum
{
  MP_TRACE_PROCESS_START,
  MP_TRACE_PROCESS_EXIT,
  MP_TRACE_PROCESS_GUARD,
  MP_TRACE_PROCESS_BOOTSTRAP_ERROR,
  MP_TRACE_PROCESS_TASK,       /* slice: the child's task runs */
  MP_TRACE_LOCK_WAIT,
  MP_TRACE_LOCK_HOLD,
  MP_TRACE_LOCK_TIMEOUT,
  MP_TRACE_LOCK_OWNER_DIED,
  MP_TRACE_VALUE_READ,
  MP_TRACE_VALUE_WRITE,
  MP_TRACE_PROXY_CALL,
  MP_TRACE_PROXY_HANDLE,
  MP_TRACE_PROXY_REPLY,
  MP_TRACE_POOL_SUBMIT,
  MP_TRACE_POOL_DISPATCH,
  MP_TRACE_POOL_DONE,
  MP_TRACE_POOL_WORKER_DIED,
  MP_TRACE_ERROR,
  MP_TRACE_SERIALIZE_REFUSED,
  MP_TRACE_ROLE,               /* the process_name metadata */
  MP_TRACE_N_KINDS
} MpTraceKind;

/* A numeric argument left out of the event. */
#define MP_TRACE_NONE G_MININT64

/* One event as a hook hands it over. str[] and num[] mean what the kind's
 * row of the schema in mp-trace.c says; unused strings are NULL, unused
 * numbers MP_TRACE_NONE. */
typedef struct
{
  MpTraceKind  kind;
  char         ph;            /* 'B', 'E' or 'i' */
  guint8       num_double;    /* bit i: num[i] holds a double's bits */
  int          pid;           /* 0: this process; else reported for it */
  const char  *name;          /* short label; NULL: the kind's default */
  const char  *str[3];
  gint64       num[4];
} MpTraceEvent;

void      mp_trace_emit               (const MpTraceEvent *event);
void      mp_trace_format_label       (char       *buf,
                                       gsize       size,
                                       const char *type,
                                       guint64     id);
gint64    mp_trace_now_ns             (void);
guint64   mp_trace_flow_new           (void);

/* process life: mp-spawn.c (in the child), mp-process.c (the reaper) */
void      mp_trace_child_begin        (const char *process_name,
                                       const char *task,
                                       const char *method);
void      mp_trace_process_exit       (GPid        pid,
                                       int         exitcode);
void      mp_trace_process_guard      (const char *task);
void      mp_trace_bootstrap_error    (const char *message);
void      mp_trace_task               (const char *task,
                                       gboolean    begin,
                                       gboolean    ok);

/* lock-like waits: @type as in the vocabulary ("Lock", "Queue.get", ...),
 * @object the object's label. wait_begin opens lock.wait; acquired closes
 * it and opens lock.hold; released closes lock.hold. A wait that fails
 * closes lock.wait through timeout or wait_end. */
void      mp_trace_lock_wait_begin    (const char *type,
                                       const char *object);
void      mp_trace_lock_acquired      (const char *type,
                                       const char *object,
                                       gint64      waited_ns);
void      mp_trace_lock_released      (const char *type,
                                       const char *object);
void      mp_trace_lock_wait_end      (const char *type,
                                       const char *object);
void      mp_trace_lock_timeout       (const char *type,
                                       const char *object);
void      mp_trace_lock_owner_died    (const char *type,
                                       const char *object);

/* watched shared objects (mp_trace_watch): NULL when the object whose
 * mp_shared_trace_key() is @key is not */
const char *mp_trace_watched_name     (guint64     key);
guint64   mp_shared_trace_key         (gpointer    object);
void      mp_trace_value_int          (gboolean    write,
                                       const char *object,
                                       gint64      index,
                                       gint64      value);
void      mp_trace_value_double       (gboolean    write,
                                       const char *object,
                                       gint64      index,
                                       double      value);

/* proxy calls. Client (mp-proxy.c, mp-manager-client.c): target names
 * the call, send opens proxy.call as the request goes out, received
 * notes the reply's size, done closes it (and a manager lock's or queue's
 * wait). Server (mp-manager-server.c): handle opens and closes
 * proxy.handle. */
void      mp_trace_proxy_target       (const char *typeid,
                                       guint64     id,
                                       const char *method);
void      mp_trace_proxy_send         (gsize       bytes);
void      mp_trace_proxy_received     (gsize       bytes);
void      mp_trace_proxy_done         (gboolean    ok,
                                       GVariant   *payload,
                                       GError     *error);
void      mp_trace_proxy_handle       (gboolean    begin,
                                       const char *typeid,
                                       guint64     id,
                                       const char *method);

/* pools: mp-pool.c (dispatch and done in the worker) */
void      mp_trace_pool_submit        (const char *task,
                                       guint       future);
void      mp_trace_pool_dispatch      (const char *task,
                                       guint64     future,
                                       guint       worker);
void      mp_trace_pool_done          (guint64     future,
                                       gboolean    ok);
void      mp_trace_pool_worker_died   (guint       worker,
                                       int         exitcode,
                                       const char *broken);

/* errors: mp-error.c */
void      mp_trace_error              (int         code,
                                       const char *message);
/* An error set between push and pop is the caller's control flow (a
 * poll that found nothing yet, a peer's normal goodbye), not a failure
 * anyone should see on a timeline: it is not recorded. Per thread;
 * pairs nest. */
void      mp_trace_expect_errors_push (void);
void      mp_trace_expect_errors_pop  (void);
void      mp_trace_serialize_refused  (const char *path,
                                       const char *message);

/* Stops the trace this process started and removes its directory without
 * gathering anything: for benchmarks, whose millions of events nobody
 * reads. Returns how many bytes of events all processes had written. */
guint64   mp_trace_discard            (void);
/* How many 1 MiB files a thread may fill (8 by default); the events past
 * them are counted in the document's "mpshareDroppedEvents". Benchmarks
 * lift it, to measure recorded events, not dropped ones. */
void      mp_trace_set_file_limit     (guint       chunks);

/* Milestones for tests and docs: how many events this process wrote. */
guint64   mp_trace_events_written     (void);

G_END_DECLS
