/* mp-manager-private.h — what the manager's files share: the message
 * format, the wire helpers, the server-side objects and the client side
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"
#include "mp-connection-private.h"
#include "mp-deadline-private.h"
#include "mp-serialize-private.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* The message format                                                  */
/* ------------------------------------------------------------------ */

/*
 * Every connection to a manager carries frames (mp-connection), request
 * then reply, strictly alternating (Python's dispatch()). Each message is
 * a fixed header of the manager's own, then GVariant values: each value a
 * "v" (a wire value, mp_serialize_value()), serialized by GLib and, when
 * received, accepted only in normal form (g_variant_is_normal_form()).
 * The table below is the one description of the layout:
 * mp-manager-message.c writes and reads it, docs/manager-protocol.md
 * shows it, and test-manager-message checks that both say the same.
 *
 * All integers are unsigned and little-endian (GUINT32_TO_LE() and
 * friends); offsets count from the start of the frame's payload. Every
 * padding byte is zero. A reader refuses anything else, and bytes after
 * the last field.
 *
 * Request
 *   offset  width  field           order   limits
 *   0       8      object id       LE u64  0: the server itself
 *   8       8      client thread   LE u64  opaque; names a lock's owner
 *   16      4      method length   LE u32  m: the name's bytes, no NUL
 *   20      4      argument count  LE u32  n: bounded by the frame
 *                                          (each takes 8 bytes or more)
 *   24      m + 1  method name     bytes   UTF-8 without NUL, then NUL
 *   then n times, each at the next multiple of 8 (zero padding first):
 *   +0      4      value size      LE u32  s: within the frame
 *   +4      4      zero            -       0
 *   +8      s      the value       GLib's  a "v" in normal form
 *
 * Reply
 *   offset  width  field           order   limits
 *   0       1      kind            u8      0 RETURN, 1 ERROR, 2 PROXY
 *   1       7      zero            -       0
 *   8       rest   payload         GLib's  a "v" in normal form
 *
 * The widths bound nothing a frame can carry: a frame is at most
 * MP_CONNECTION_MAX_FRAME_LIMIT (2^31 - 1) bytes. Values start at
 * multiples of 8, GVariant's largest alignment, so a held frame's values
 * are read in place. (The reply happens to be the normal form of a
 * GVariant "(yv)" too; tests that fake a server use that.)
 *
 * Object id 0 is the server itself, with the methods "hello", "create",
 * "incref", "decref", "debug_info", "shutdown" and "dummy". The client
 * thread is an opaque number that, with the process nonce sent in
 * "hello", names the owner of a manager Lock or RLock.
 *
 * Reply kinds and their payloads:
 *   RETURN  the result, a wire value (None is "()")
 *   ERROR   (code, code name, message), boxed:             "(uss)"
 *   PROXY   (typeid, object id) of a new object, boxed:    "(st)"
 */
#define MP_MSG_REQUEST_ID          0
#define MP_MSG_REQUEST_THREAD      8
#define MP_MSG_REQUEST_METHOD_LEN  16
#define MP_MSG_REQUEST_N_ARGS      20
#define MP_MSG_REQUEST_HEAD        24
#define MP_MSG_ARG_HEAD            8
#define MP_MSG_REPLY_KIND          0
#define MP_MSG_REPLY_HEAD          8

/* a reply read whole as one GVariant (tests that fake a server) */
#define MP_MSG_REPLY   "(yv)"
#define MP_MSG_ERROR   "(uss)"
#define MP_MSG_PROXY   "(st)"

/* The same as GVariantTypes for every call: G_VARIANT_TYPE() would check
 * these constant strings again each time. */
#define MP_MSG_TYPE(type_string) ((const GVariantType *) (type_string))

typedef enum {
  MP_REPLY_RETURN = 0,
  MP_REPLY_ERROR  = 1,
  MP_REPLY_PROXY  = 2,
} MpReplyKind;

#define MP_SERVER_ID 0

/* The arguments of a call, kept as their "v" wire values: a request is
 * written from them and read into them without an "av" GVariant in
 * between (its type information is a locked lookup, its children each a
 * walk of the container). Plain struct, copied by value; up to
 * MP_ARGV_INLINE arguments need no allocation. */
#define MP_ARGV_INLINE 8

typedef struct {
  GVariant *wire;
  gboolean  is_plain;    /* known to be plain (FALSE: may be or not) */
} MpArg;

typedef struct {
  gsize   n;
  MpArg   inline_args[MP_ARGV_INLINE];
  MpArg  *heap;          /* all of them, when there are more */
  gsize   heap_size;
} MpArgv;

#define MP_ARGV_INIT { 0 }

void        mp_argv_add               (MpArgv      *argv,
                                       GVariant    *wire);
void        mp_argv_add_int           (MpArgv      *argv,
                                       gint64       value);
gboolean    mp_argv_add_value         (MpArgv      *argv,
                                       const GValue *value,
                                       GError     **error);
void        mp_argv_add_children      (MpArgv      *argv,
                                       GVariant    *av,
                                       gsize        skip);
void        mp_argv_clear             (MpArgv      *argv);
GVariant   *mp_argv_to_variant        (const MpArgv *argv,
                                       gsize        skip);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpArgv, mp_argv_clear)

static inline gsize
mp_argv_len (const MpArgv *argv)
{
  return argv->n;
}

static inline const MpArg *
mp_argv_index (const MpArgv *argv,
               gsize         i)
{
  return argv->heap != NULL ? &argv->heap[i] : &argv->inline_args[i];
}

/* The @i-th argument's wire, (transfer none) */
static inline GVariant *
mp_argv_get (const MpArgv *argv,
             gsize         i)
{
  return mp_argv_index (argv, i)->wire;
}

/* TRUE when the @i-th argument is known to be a plain value (None, a
 * boolean, a number): nothing in it to check or to keep alive */
static inline gboolean
mp_argv_is_plain (const MpArgv *argv,
                  gsize         i)
{
  return mp_argv_index (argv, i)->is_plain;
}

/* (transfer full) */
static inline GVariant *
mp_argv_dup (const MpArgv *argv,
             gsize         i)
{
  return g_variant_ref (mp_argv_get (argv, i));
}

/* Envelopes (mp-manager-message.c), laid out as the table above says */
typedef struct {
  guint64     id;
  const char *method;    /* points into the frame it was read from */
  MpArgv      args;      /* the "av" */
  guint64     thread;
} MpRequest;

void        mp_message_write_request  (GByteArray  *out,
                                       guint64      id,
                                       const char  *method,
                                       const MpArgv *args,
                                       guint64      thread);
void        mp_message_write_request_variant (GByteArray *out,
                                              GVariant   *request);
gboolean    mp_message_decode_request (const MpFrame *frame,
                                       MpRequest     *request,
                                       GError       **error);
void        mp_request_clear          (MpRequest   *request);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpRequest, mp_request_clear)
void        mp_message_write_reply    (GByteArray  *out,
                                       MpReplyKind  kind,
                                       GVariant    *payload);
gboolean    mp_message_decode_reply   (const MpFrame *frame,
                                       guint8        *kind,
                                       GVariant     **payload,
                                       GError       **error);

/* The task that runs a manager server; see mp-manager-server.c. */
#define MP_MANAGER_SERVER_TASK "mpshare:manager-server"

/* The state of a proxy's token inside its "(sv)" wire object:
 * (typeid, address, object id, auth key or empty). */
#define MP_PROXY_WIRE_NAME  "MpProxy"
#define MP_PROXY_STATE      "(sstay)"

/* ------------------------------------------------------------------ */
/* Wire values (see mp-serialize.h for the table)                      */
/* ------------------------------------------------------------------ */

/* constructors: each returns a new "v" wire value (floating) */
GVariant   *mp_wire_none        (void);
GVariant   *mp_wire_bool        (gboolean     v);
GVariant   *mp_wire_int         (gint64       v);
GVariant   *mp_wire_uint        (guint64      v);
GVariant   *mp_wire_double      (double       v);
GVariant   *mp_wire_string      (const char  *v);
GVariant   *mp_wire_list        (GPtrArray   *wires);

/* readers: @wire is a "v" wire value */
gboolean    mp_wire_is_none     (GVariant    *wire);
gboolean    mp_wire_get_int     (GVariant    *wire,
                                 gint64      *out);
gboolean    mp_wire_get_bool    (GVariant    *wire,
                                 gboolean    *out);
gboolean    mp_wire_get_double  (GVariant    *wire,
                                 double      *out);
const char *mp_wire_peek_string (GVariant    *wire);

/* Keeps the GVariant type information of the message and wire types
 * alive for the life of the process. GLib (before 2.76) frees a container
 * type's information with the last value of that type and builds it again
 * for the next one: a hash table insert and remove on every call. */
void        mp_wire_pin_types   (void);

/* The one None every server reply and stored default can share: built
 * once, already serialized, never changed. (transfer full) */
GVariant   *mp_wire_none_shared (void);

/* TRUE when @wire is that shared None itself (a pointer comparison) */
gboolean    mp_wire_is_shared_none (GVariant *wire);

/* TRUE when @data holds exactly GLib's bytes of that None: a received
 * value that is None, in normal form (it has only one), judged without
 * building it */
gboolean    mp_wire_is_none_bytes (const guint8 *data,
                                   gsize         size);

/* FALSE when @wire certainly holds no proxy (a plain value); TRUE says
 * only that it has to be looked into */
gboolean    mp_wire_may_hold_tokens (GVariant *wire);

/* TRUE when @wire is a "v" holding a plain value (a boolean, a number)
 * or None: no proxy inside, nothing to check */
gboolean    mp_wire_is_plain    (GVariant    *wire);

/* checks the shape of an untrusted wire value; names what is wrong */
gboolean    mp_wire_check       (GVariant    *wire,
                                 GError     **error);
gboolean    mp_wire_check_unbox (GVariant    *wire,
                                 GVariant   **inner,
                                 GError     **error);

typedef struct {
  const char *typeid;
  const char *address;
  guint64     id;
} MpToken;

/* Calls @func for every proxy token inside @wire (nested anywhere);
 * stops early and returns FALSE when @func does. */
typedef gboolean (*MpTokenFunc) (const MpToken *token,
                                 gpointer       user_data);
gboolean    mp_wire_foreach_token (GVariant    *wire,
                                   MpTokenFunc  func,
                                   gpointer     user_data);
gboolean    mp_wire_get_token   (GVariant    *wire,
                                 MpToken     *token);

/* ------------------------------------------------------------------ */
/* The server side (mp-manager-server.c, mp-referent.c)                */
/* ------------------------------------------------------------------ */

typedef struct _MpServer      MpServer;
typedef struct _MpServerConn  MpServerConn;
typedef struct _MpReferent    MpReferent;
typedef struct _MpReferentClass MpReferentClass;

/* One request being served. The owner of a lock is (nonce, thread). */
typedef struct {
  MpServer     *server;
  MpServerConn *conn;
  guint64       nonce;      /* the client process */
  guint64       thread;     /* the client thread */
  GVariant     *released;   /* a wire dropped by the call, released after the reply */
  GPtrArray    *more_released;   /* the others, when it dropped several */
} MpCall;

/* A call blocked in a server object; wakers set @flagged when they mean
 * this waiter in particular (Condition.notify). */
typedef struct {
  MpServerConn *conn;
  gboolean      flagged;
} MpWaiter;

typedef gboolean (*MpReferentMethodFunc) (MpReferent  *self,
                                          MpCall      *call,
                                          MpArgv      *args,
                                          GVariant   **result,
                                          GError     **error);

typedef struct {
  const char           *name;
  MpReferentMethodFunc  func;
} MpReferentMethod;

struct _MpReferentClass {
  const char             *typeid;
  gsize                   instance_size;
  const MpReferentMethod *methods;     /* the exposed ones, ended by NULL */
  gboolean  (*init)          (MpReferent *self,
                              MpCall     *call,
                              MpArgv     *args,
                              GError    **error);
  void      (*finalize)      (MpReferent *self);
  /* Python's "#GETVALUE": a copy of the whole object, or NULL */
  GVariant *(*get_value)     (MpReferent *self,
                              GError    **error);
  /* a client process went away: drop what it owned (locks) */
  void      (*release_owner) (MpReferent *self,
                              guint64     nonce);

  /* registered custom types (mp_manager_register_type) */
  GType           gtype;
  MpMethod       *custom_methods;
};

struct _MpReferent {
  const MpReferentClass *klass;
  MpServer              *server;
  GMutex                 mutex;
  gatomicrefcount        ref_count;
};

#define MP_GETVALUE_METHOD "#GETVALUE"

const MpReferentClass *mp_referent_class_lookup (const char *typeid);
void        mp_referent_register_custom (const char     *typeid,
                                         GType           type,
                                         const MpMethod *methods);
char       *mp_referent_class_exposed  (const MpReferentClass *klass);

MpReferent *mp_referent_new            (const MpReferentClass *klass,
                                        MpServer       *server,
                                        MpCall         *call,
                                        MpArgv         *args,
                                        GError        **error);
MpReferent *mp_referent_ref            (MpReferent     *self);
void        mp_referent_unref          (MpReferent     *self);
gboolean    mp_referent_invoke         (MpReferent     *self,
                                        MpCall         *call,
                                        const char     *method,
                                        MpArgv         *args,
                                        GVariant      **result,
                                        GError        **error);
void        mp_referent_release_owner  (MpReferent     *self,
                                        guint64         nonce);
gboolean    mp_referent_is_lock        (MpReferent     *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpReferent, mp_referent_unref)

/* services of the server to its objects (mp-manager-server.c) */
gboolean    mp_server_retain_wire      (MpServer       *server,
                                        GVariant       *wire,
                                        GError        **error);
void        mp_server_release_wire     (MpServer       *server,
                                        GVariant       *wire);
MpReferent *mp_server_lookup_token     (MpServer       *server,
                                        GVariant       *wire,
                                        GError        **error);

void        mp_call_release            (MpCall         *call,
                                        GVariant       *wire);
gboolean    mp_call_wait               (MpCall         *call,
                                        GMutex         *mutex,
                                        gint64          deadline,
                                        GError        **error);
gboolean    mp_call_wait_queued        (MpCall         *call,
                                        GMutex         *mutex,
                                        GQueue         *waiters,
                                        gint64          deadline,
                                        GError        **error);
void        mp_waiter_wake             (MpWaiter       *waiter);
void        mp_waiters_wake_all        (GQueue         *waiters);

/* ------------------------------------------------------------------ */
/* The client side (mp-manager-client.c)                               */
/* ------------------------------------------------------------------ */

/* The connections of this process to one server (address + key): an
 * anchor connection whose end tells the server this process is gone, and
 * a pool of connections for calls, one per concurrent call. */
typedef struct _MpEndpoint MpEndpoint;

MpEndpoint *mp_endpoint_get            (const char     *address,
                                        GBytes         *authkey,
                                        GError        **error);
MpEndpoint *mp_endpoint_ref            (MpEndpoint     *self);
void        mp_endpoint_unref          (MpEndpoint     *self);
const char *mp_endpoint_get_address    (MpEndpoint     *self);
gboolean    mp_endpoint_is_usable      (MpEndpoint     *self);
gboolean    mp_endpoint_call           (MpEndpoint     *self,
                                        guint64         id,
                                        const char     *method,
                                        const MpArgv   *args,
                                        MpReplyKind    *kind,
                                        GVariant      **payload,
                                        GError        **error);
gboolean    mp_endpoint_call_unboxed   (MpEndpoint     *self,
                                        guint64         id,
                                        const char     *method,
                                        const MpArgv   *args,
                                        MpReplyKind    *kind,
                                        GVariant      **payload,
                                        GVariant      **unboxed,
                                        GError        **error);
void        mp_endpoint_forget         (const char     *address,
                                        GBytes         *authkey);
void        mp_client_forget_inherited (void);
GPid        mp_client_pid              (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpEndpoint, mp_endpoint_unref)

void        mp_client_set_remote_error (GError        **error,
                                        GVariant       *payload);

/* While a reply from the server at @address is decoded in this thread,
 * proxies rebuilt from it already hold a reference the server took for
 * this process. */
void        mp_client_reply_begin      (const char     *address);
void        mp_client_reply_end        (void);
gboolean    mp_client_reply_holds_ref  (const char     *address);

/* ------------------------------------------------------------------ */
/* Manager and proxy internals                                         */
/* ------------------------------------------------------------------ */

/* Shared by a manager and the proxies it made: once the manager shut its
 * server down, they fail at once without touching the socket. */
typedef struct {
  gint closed;   /* atomic */
} MpManagerState;

MpManagerState *mp_manager_state_new   (void);
MpManagerState *mp_manager_state_ref   (MpManagerState *state);
void            mp_manager_state_unref (MpManagerState *state);

MpProxy    *mp_proxy_new_internal      (const char     *typeid,
                                        const char     *address,
                                        guint64         id,
                                        GBytes         *authkey,
                                        MpManagerState *state,
                                        gboolean        holds_ref);
void        mp_proxy_set_closed_error  (GError        **error,
                                        const char     *address,
                                        const char     *cause);

G_END_DECLS
