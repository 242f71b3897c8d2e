/* mp-manager-message.c — the envelope of every manager call
 *
 * A call is one request and one reply, each a small fixed header of the
 * manager's own followed by GVariant values (the layout is the table in
 * mp-manager-private.h). The header is plain integers, written and read
 * with GLib's byte-order macros; the values are GLib's business: written
 * as the bytes g_variant_get_data() gives, read back with
 * g_variant_new_from_bytes() and accepted only when
 * g_variant_is_normal_form() says so. Nothing here knows how GVariant
 * lays out its bytes.
 *
 * Why not one GVariant "(tsavt)" per request: built with g_variant_new()
 * and taken apart with g_variant_get(), each envelope cost more than the
 * socket round trip under it (format strings parsed, a tree of values
 * allocated and serialized, type information looked up). The header
 * costs a few stores and loads; each argument is one GVariant, checked
 * on its own.
 *
 * Arguments travel as an MpArgv, one "v" each, in both directions: a
 * client writes them into the request without building an "av", and the
 * server reads them out without one.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-manager-private.h"
#include "mp-serialize-private.h"

static gsize
align8 (gsize n)
{
  return (n + 7) & ~(gsize) 7;
}

static void
put_u32 (guint8  *dest,
         guint32  value)
{
  value = GUINT32_TO_LE (value);
  memcpy (dest, &value, sizeof value);
}

static void
put_u64 (guint8  *dest,
         guint64  value)
{
  value = GUINT64_TO_LE (value);
  memcpy (dest, &value, sizeof value);
}

static guint32
get_u32 (const guint8 *src)
{
  guint32 value;

  memcpy (&value, src, sizeof value);
  return GUINT32_FROM_LE (value);
}

static guint64
get_u64 (const guint8 *src)
{
  guint64 value;

  memcpy (&value, src, sizeof value);
  return GUINT64_FROM_LE (value);
}

static gboolean
all_zero (const guint8 *data,
          gsize         len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != 0)
      return FALSE;
  return TRUE;
}

/* The sizes in a header are 32 bits wide: a message longer than that
 * is longer than any frame may be (MP_CONNECTION_MAX_FRAME_LIMIT), and
 * the connection refuses to send it whatever the header says. */
static guint32
size_field (gsize size)
{
  return (guint32) MIN (size, (gsize) G_MAXUINT32);
}

/* room for one more argument */
static MpArg *
argv_push (MpArgv *argv)
{
  if (argv->heap == NULL && argv->n == MP_ARGV_INLINE)
    {
      argv->heap_size = 2 * MP_ARGV_INLINE;
      argv->heap = g_new (MpArg, argv->heap_size);
      memcpy (argv->heap, argv->inline_args, sizeof argv->inline_args);
    }
  else if (argv->heap != NULL && argv->n == argv->heap_size)
    {
      argv->heap_size *= 2;
      argv->heap = g_renew (MpArg, argv->heap, argv->heap_size);
    }
  return (MpArg *) mp_argv_index (argv, argv->n++);
}

/**
 * mp_argv_add:
 * @argv: arguments
 * @wire: a "v" wire value; a floating reference is consumed
 *
 * Appends @wire to @argv.
 */
void
mp_argv_add (MpArgv   *argv,
             GVariant *wire)
{
  MpArg *arg = argv_push (argv);

  arg->wire = g_variant_ref_sink (wire);
  arg->is_plain = FALSE;
}

/* Appends @wire, taking the full reference the caller owns. */
static void
argv_take (MpArgv   *argv,
           GVariant *wire)
{
  MpArg *arg = argv_push (argv);

  arg->wire = wire;
  arg->is_plain = FALSE;
}

/**
 * mp_argv_add_value:
 * @argv: arguments
 * @value: (nullable): the value (%NULL or unset: None)
 * @error: return location for a #GError
 *
 * Appends @value, serialized (mp_serialize_value()).
 *
 * Returns: %TRUE, or %FALSE with @error set when @value cannot be
 *   serialized (@argv is unchanged)
 */
gboolean
mp_argv_add_value (MpArgv        *argv,
                   const GValue  *value,
                   GError       **error)
{
  GValue none = G_VALUE_INIT;
  GVariant *wire = mp_serialize_value (value != NULL ? value : &none, error);

  if (wire == NULL)
    return FALSE;
  argv_take (argv, wire);
  return TRUE;
}

/**
 * mp_argv_add_int:
 * @argv: arguments
 * @value: an integer
 *
 * Appends @value as mp_wire_int() makes it.
 */
void
mp_argv_add_int (MpArgv *argv,
                 gint64  value)
{
  mp_argv_add (argv, mp_wire_int (value));
}

void
mp_argv_clear (MpArgv *argv)
{
  for (gsize i = 0; i < argv->n; i++)
    g_clear_pointer (&((MpArg *) mp_argv_index (argv, i))->wire, g_variant_unref);
  g_clear_pointer (&argv->heap, g_free);
  argv->heap_size = 0;
  argv->n = 0;
}

/**
 * mp_argv_to_variant:
 * @argv: arguments
 * @skip: how many to leave out at the start
 *
 * Returns: (transfer full): the arguments after the first @skip as an
 *   "av" (for what wants them as one value: a custom type's method)
 */
GVariant *
mp_argv_to_variant (const MpArgv *argv,
                    gsize         skip)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));

  for (gsize i = skip; i < argv->n; i++)
    g_variant_builder_add_value (&builder, mp_argv_get (argv, i));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * mp_argv_add_children:
 * @argv: arguments
 * @av: an "av"
 * @skip: how many of its children to leave out at the start
 *
 * Appends the children of @av after the first @skip to @argv.
 */
void
mp_argv_add_children (MpArgv   *argv,
                      GVariant *av,
                      gsize     skip)
{
  gsize n = g_variant_n_children (av);

  for (gsize i = skip; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (av, i);

      mp_argv_add (argv, child);
    }
}

/* Stores the @size bytes GLib serializes @wire to at @dest. A small
 * value built here is still a tree of GVariants: it is serialized
 * straight into an aligned buffer (g_variant_get_data() would first
 * allocate a serialized copy inside @wire). Either way the bytes are
 * copied, not stored in place: after the frame's 4-byte header the place
 * is not aligned as GLib's serializer insists. */
static void
store_value (guint8   *dest,
             GVariant *wire,
             gsize     size)
{
  guint64 small[8];

  if (size <= sizeof small)
    {
      g_variant_store (wire, small);
      memcpy (dest, small, size);
    }
  else
    memcpy (dest, g_variant_get_data (wire), size);
}

/**
 * mp_message_write_request:
 * @out: the bytes to append to (e.g. a frame with room for its header)
 * @id: the object id, or %MP_SERVER_ID
 * @method: the method's name (valid UTF-8)
 * @args: (nullable): the arguments; %NULL for none
 * @thread: the calling thread's tag
 *
 * Appends a request laid out as the table in mp-manager-private.h says.
 */
void
mp_message_write_request (GByteArray   *out,
                          guint64       id,
                          const char   *method,
                          const MpArgv *args,
                          guint64       thread)
{
  gsize start = out->len;
  gsize method_len = strlen (method);
  gsize n_args = args != NULL ? args->n : 0;
  gsize sizes[MP_ARGV_INLINE];
  gsize len = MP_MSG_REQUEST_HEAD + method_len + 1;
  gsize pos;
  guint8 *message;

  /* the whole message's length first: @out grows once, zeroed once
   * (every padding byte is zero) */
  for (gsize i = 0; i < n_args; i++)
    {
      gsize size = g_variant_get_size (mp_argv_get (args, i));

      if (i < MP_ARGV_INLINE)
        sizes[i] = size;
      len = align8 (len) + MP_MSG_ARG_HEAD + size;
    }
  g_byte_array_set_size (out, (guint) (start + len));
  message = out->data + start;
  memset (message, 0, len);

  put_u64 (message + MP_MSG_REQUEST_ID, id);
  put_u64 (message + MP_MSG_REQUEST_THREAD, thread);
  put_u32 (message + MP_MSG_REQUEST_METHOD_LEN, size_field (method_len));
  put_u32 (message + MP_MSG_REQUEST_N_ARGS, size_field (n_args));
  memcpy (message + MP_MSG_REQUEST_HEAD, method, method_len);
  pos = MP_MSG_REQUEST_HEAD + method_len + 1;
  for (gsize i = 0; i < n_args; i++)
    {
      GVariant *wire = mp_argv_get (args, i);
      gsize size = i < MP_ARGV_INLINE ? sizes[i] : g_variant_get_size (wire);

      pos = align8 (pos);
      put_u32 (message + pos, size_field (size));
      pos += MP_MSG_ARG_HEAD;
      store_value (message + pos, wire, size);
      pos += size;
    }
}

/**
 * mp_message_write_request_variant:
 * @out: the bytes to append to
 * @request: a "(tsavt)" value: (object id, method, arguments, thread);
 *   a floating reference is consumed
 *
 * Appends @request as mp_message_write_request() writes one: how tests
 * and the fuzzers, which spell requests as GVariant text or take them
 * from their input, put them on the wire.
 */
void
mp_message_write_request_variant (GByteArray *out,
                                  GVariant   *request)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (request);
  g_auto(MpArgv) args = MP_ARGV_INIT;
  g_autoptr(GVariant) av = NULL;
  const char *method;
  guint64 id, thread;

  g_return_if_fail (g_variant_is_of_type (owned, G_VARIANT_TYPE ("(tsavt)")));

  g_variant_get (owned, "(t&s@avt)", &id, &method, &av, &thread);
  mp_argv_add_children (&args, av, 0);
  mp_message_write_request (out, id, method, &args, thread);
}

/* One value of a message: @size bytes at @offset of @frame, which must
 * be the normal form of a "v". Held frames give slices, which GLib uses
 * in place when they are aligned; lent ones are copied. */
static GVariant *
read_value (const MpFrame *frame,
            gsize          offset,
            gsize          size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GVariant) value = NULL;

  /* None (most replies, many arguments): GLib's own bytes for it, so the
   * value GLib would build from them is the shared one */
  if (mp_wire_is_none_bytes (frame->data + offset, size))
    return mp_wire_none_shared ();
  bytes = mp_frame_slice (frame, offset, size);
  value = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, bytes, FALSE));
  if (!g_variant_is_normal_form (value))
    return NULL;
  return g_steal_pointer (&value);
}

static gboolean
request_error (const MpFrame  *frame,
               const char     *what,
               GError        **error)
{
  mp_set_error (error, MP_ERROR_PROTOCOL,
                "A request of %" G_GSIZE_FORMAT " bytes was dropped: %s",
                frame->len, what);
  return FALSE;
}

/**
 * mp_message_decode_request:
 * @frame: a frame from a client (untrusted), lent or held
 * @request: (out caller-allocates): filled on success; clear it with
 *   mp_request_clear(). Its method name points into @frame, so @frame
 *   outlives it; its arguments are its own.
 * @error: return location for a #GError
 *
 * Reads a request laid out as the table in mp-manager-private.h says:
 * every field in bounds, every padding byte zero, the method name UTF-8
 * with one NUL at its end, every argument a "v" GVariant that
 * g_variant_is_normal_form() accepts, and nothing after the last one.
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_PROTOCOL (@request is then
 *   cleared).
 */
gboolean
mp_message_decode_request (const MpFrame  *frame,
                           MpRequest      *request,
                           GError        **error)
{
  const guint8 *data = frame->data;
  gsize len = frame->len;
  gsize method_len, n_args, pos;

  /* an empty frame has no data pointer at all: nothing is read from it
   * before this check */
  if (len < MP_MSG_REQUEST_HEAD + 1)
    return request_error (frame, "shorter than a request's header", error);
  method_len = get_u32 (data + MP_MSG_REQUEST_METHOD_LEN);
  n_args = get_u32 (data + MP_MSG_REQUEST_N_ARGS);
  if (method_len >= len - MP_MSG_REQUEST_HEAD)
    return request_error (frame, "the method name runs past its end", error);
  pos = MP_MSG_REQUEST_HEAD + method_len;
  if (data[pos] != '\0' ||
      memchr (data + MP_MSG_REQUEST_HEAD, '\0', method_len) != NULL ||
      !g_utf8_validate ((const char *) data + MP_MSG_REQUEST_HEAD, (gssize) method_len, NULL))
    return request_error (frame, "the method name is no UTF-8 text ended by one NUL", error);
  pos++;

  request->id = get_u64 (data + MP_MSG_REQUEST_ID);
  request->thread = get_u64 (data + MP_MSG_REQUEST_THREAD);
  request->method = (const char *) data + MP_MSG_REQUEST_HEAD;
  for (gsize i = 0; i < n_args; i++)
    {
      gsize padded = align8 (pos), size;
      GVariant *wire;

      if (padded > len || len - padded < MP_MSG_ARG_HEAD ||
          !all_zero (data + pos, padded - pos) ||
          !all_zero (data + padded + 4, MP_MSG_ARG_HEAD - 4))
        {
          mp_request_clear (request);
          return request_error (frame, "an argument's header is missing or not padded with zeros",
                                error);
        }
      pos = padded + MP_MSG_ARG_HEAD;
      size = get_u32 (data + padded);
      if (size > len - pos)
        {
          mp_request_clear (request);
          return request_error (frame, "an argument runs past its end", error);
        }
      wire = read_value (frame, pos, size);
      if (wire == NULL)
        {
          mp_request_clear (request);
          return request_error (frame, "an argument is not a GVariant \"v\" in normal form",
                                error);
        }
      /* whether it is plain is asked where it matters (store_arg()),
       * unless it is the shared None */
      argv_take (&request->args, wire);
      if (mp_wire_is_shared_none (wire))
        ((MpArg *) mp_argv_index (&request->args, request->args.n - 1))->is_plain = TRUE;
      pos += size;
    }
  if (pos != len)
    {
      mp_request_clear (request);
      return request_error (frame, "bytes follow its last argument", error);
    }
  return TRUE;
}

void
mp_request_clear (MpRequest *request)
{
  mp_argv_clear (&request->args);
  request->method = NULL;
}

/**
 * mp_message_write_reply:
 * @out: the bytes to append to
 * @kind: the reply's kind
 * @payload: (nullable): the "v" payload (a floating reference is
 *   consumed); %NULL for None
 *
 * Appends a reply laid out as the table in mp-manager-private.h says.
 */
void
mp_message_write_reply (GByteArray  *out,
                        MpReplyKind  kind,
                        GVariant    *payload)
{
  g_autoptr(GVariant) owned = payload != NULL ? g_variant_ref_sink (payload)
                                              : mp_wire_none_shared ();
  gsize start = out->len;
  gsize size = g_variant_get_size (owned);

  g_byte_array_set_size (out, (guint) (start + MP_MSG_REPLY_HEAD + size));
  memset (out->data + start, 0, MP_MSG_REPLY_HEAD);
  out->data[start + MP_MSG_REPLY_KIND] = (guint8) kind;
  store_value (out->data + start + MP_MSG_REPLY_HEAD, owned, size);
}

/**
 * mp_message_decode_reply:
 * @frame: a frame from the server (untrusted), lent or held
 * @kind: (out): the kind byte, not yet checked against #MpReplyKind
 * @payload: (out) (transfer full) (optional): the "v" payload, in
 *   normal form
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_PROTOCOL when @frame is not
 *   a reply as the table in mp-manager-private.h describes it (its
 *   payload judged by g_variant_is_normal_form()).
 */
gboolean
mp_message_decode_reply (const MpFrame  *frame,
                         guint8         *kind,
                         GVariant      **payload,
                         GError        **error)
{
  g_autoptr(GVariant) value = NULL;

  if (frame->len > MP_MSG_REPLY_HEAD &&
      all_zero (frame->data + MP_MSG_REPLY_KIND + 1, MP_MSG_REPLY_HEAD - 1))
    {
      if (payload != NULL ||
          mp_wire_is_none_bytes (frame->data + MP_MSG_REPLY_HEAD,
                                 frame->len - MP_MSG_REPLY_HEAD))
        value = read_value (frame, MP_MSG_REPLY_HEAD, frame->len - MP_MSG_REPLY_HEAD);
      else
        {
          /* only judged, then dropped: GLib may read the frame in place
           * (it copies what is not aligned) */
          g_autoptr(GVariant) judged = NULL;

          judged = g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE_VARIANT,
                                                                frame->data + MP_MSG_REPLY_HEAD,
                                                                frame->len - MP_MSG_REPLY_HEAD,
                                                                FALSE, NULL, NULL));
          if (g_variant_is_normal_form (judged))
            value = g_steal_pointer (&judged);
        }
    }
  if (value == NULL)
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "A reply of %" G_GSIZE_FORMAT " bytes was dropped: it is no kind"
                    " byte, 7 zero bytes and a GVariant \"v\" in normal form", frame->len);
      return FALSE;
    }
  *kind = frame->data[MP_MSG_REPLY_KIND];
  if (payload != NULL)
    *payload = g_steal_pointer (&value);
  return TRUE;
}
