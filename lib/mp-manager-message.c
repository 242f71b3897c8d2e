/* mp-manager-message.c — the envelope of every manager call, cheaply
 *
 * A call is one request "(tsavt)" and one reply "(yv)" (see
 * mp-manager-private.h). Built with g_variant_new() and taken apart with
 * g_variant_get(), each envelope cost more than the socket round trip
 * under it: format strings parsed, a tree of values allocated, the tree
 * serialized, type information looked up. Here the envelopes the client
 * and the server *send* are written straight into the bytes GVariant
 * would produce (the serialization format is GLib's documented, stable
 * one; tests compare the bytes with g_variant_new()'s).
 *
 * What they *receive* is judged as GLib would judge it. A request's
 * envelope is checked byte by byte against the one layout GLib gives it;
 * its arguments, when all are plain values (None, booleans, numbers: the
 * common case), by GLib's rules for an array of variants and the exact
 * bytes of each plain value, and otherwise by g_variant_is_normal_form().
 * A reply is a fixed 8-byte head (the kind byte and zero padding, checked
 * here) followed by a "v" that g_variant_is_normal_form() checks, which is
 * exactly the normal form of "(yv)". A peer gets nothing past these checks
 * that GLib's own reading of the whole message would have refused: the
 * tests and the fuzz-frame target compare the verdicts.
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

/* a reply: the kind byte, then padding up to the 8-byte alignment of "v" */
#define REPLY_HEAD 8

static gsize
align8 (gsize n)
{
  return (n + 7) & ~(gsize) 7;
}

/* GVariant's framing offsets take the smallest of 1, 2, 4 or 8 bytes
 * that can address the whole container, the offsets included */
static gsize
offset_size (gsize body,
             gsize n_offsets)
{
  if (body + n_offsets <= G_MAXUINT8)
    return 1;
  if (body + 2 * n_offsets <= G_MAXUINT16)
    return 2;
  if (body + 4 * n_offsets <= G_MAXUINT32)
    return 4;
  return 8;
}

/* framing offsets are little-endian whatever the host */
static void
write_offset (guint8 *dest,
              gsize   value,
              gsize   size)
{
  for (gsize i = 0; i < size; i++)
    dest[i] = (guint8) (value >> (8 * i));
}

/* Grows @out by @size zero bytes; returns where they start. */
static guint8 *
append_zeros (GByteArray *out,
              gsize       size)
{
  guint start = out->len;

  g_byte_array_set_size (out, start + (guint) size);
  memset (out->data + start, 0, size);
  return out->data + start;
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
  arg->plain_size = 0;
}

/**
 * mp_argv_add_value:
 * @argv: arguments
 * @value: (nullable): the value (%NULL or unset: None)
 * @error: return location for a #GError
 *
 * Appends @value, serialized (mp_serialize_value()); a plain value is
 * kept as its bytes.
 *
 * Returns: %TRUE, or %FALSE with @error set when @value cannot be
 *   serialized (@argv is unchanged)
 */
gboolean
mp_argv_add_value (MpArgv        *argv,
                   const GValue  *value,
                   GError       **error)
{
  guint8 plain[MP_WIRE_PLAIN_MAX];
  gsize size = mp_wire_plain_encode (value, plain);
  GVariant *wire;
  MpArg *arg;

  if (size > 0)
    {
      arg = argv_push (argv);
      arg->wire = NULL;
      arg->is_plain = TRUE;
      arg->plain_size = (guint8) size;
      memcpy (arg->plain, plain, size);
      return TRUE;
    }
  wire = mp_serialize_value (value, error);
  if (wire == NULL)
    return FALSE;
  mp_argv_add (argv, wire);
  g_variant_unref (wire);
  return TRUE;
}

/**
 * mp_argv_add_int:
 * @argv: arguments
 * @value: an integer
 *
 * Appends @value as a plain integer, as mp_wire_int() would make it.
 */
void
mp_argv_add_int (MpArgv *argv,
                 gint64  value)
{
  GValue gvalue = G_VALUE_INIT;

  g_value_init (&gvalue, G_TYPE_INT64);
  g_value_set_int64 (&gvalue, value);
  mp_argv_add_value (argv, &gvalue, NULL);
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

/* the bytes of an argument's "v" */
static const guint8 *
arg_data (const MpArg *arg,
          gsize       *size)
{
  if (arg->wire == NULL)
    {
      *size = arg->plain_size;
      return arg->plain;
    }
  *size = g_variant_get_size (arg->wire);
  return g_variant_get_data (arg->wire);
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
    {
      const MpArg *arg = mp_argv_index (argv, i);

      if (arg->wire != NULL)
        g_variant_builder_add_value (&builder, arg->wire);
      else
        g_variant_builder_add_value (&builder, mp_wire_from_plain_bytes (arg->plain, arg->plain_size));
    }
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

/* the serialized size of @args as an "av", and the width of its offsets */
static gsize
args_size (const MpArgv *args,
           gsize        *osize)
{
  gsize body = 0, size;

  for (gsize i = 0; args != NULL && i < args->n; i++)
    {
      arg_data (mp_argv_index (args, i), &size);
      body = align8 (body) + size;
    }
  /* an array of variable-size elements: each at the next multiple of 8,
   * then the end of each in offsets as narrow as the size allows */
  *osize = args != NULL && args->n > 0 ? offset_size (body, args->n) : 0;
  return body + (args != NULL ? args->n : 0) * *osize;
}

/* writes @args as an "av" of @total bytes at @data (zeroed) */
static void
write_args (guint8       *data,
            const MpArgv *args,
            gsize         total,
            gsize         osize)
{
  gsize body = 0;

  for (gsize i = 0; i < args->n; i++)
    {
      gsize size;
      const guint8 *bytes = arg_data (mp_argv_index (args, i), &size);

      body = align8 (body);
      /* copied, not g_variant_store()d: in a frame after its 4-byte
       * header the place is not aligned as GLib's serializer insists */
      memcpy (data + body, bytes, size);
      body += size;
      write_offset (data + total - (args->n - i) * osize, body, osize);
    }
}

/**
 * mp_message_write_request:
 * @out: the bytes to append to (e.g. a frame with room for its header)
 * @id: the object id, or %MP_SERVER_ID
 * @method: the method's name (valid UTF-8)
 * @args: (nullable): the arguments; %NULL for none
 * @thread: the calling thread's tag
 *
 * Appends the serialized "(tsavt)" request, byte for byte what
 * g_variant_new (MP_MSG_REQUEST, ...) would serialize to.
 */
void
mp_message_write_request (GByteArray   *out,
                          guint64       id,
                          const char   *method,
                          const MpArgv *args,
                          guint64       thread)
{
  /* t at 0; s after it; av and t each at the next multiple of 8; then
   * the end offsets of s and av, the first member's last */
  gsize method_len = strlen (method);
  gsize method_end = 8 + method_len + 1;
  gsize args_start = align8 (method_end);
  gsize args_osize;
  gsize args_end = args_start + args_size (args, &args_osize);
  gsize thread_start = align8 (args_end);
  gsize body = thread_start + 8;
  gsize osize = offset_size (body, 2);
  gsize total = body + 2 * osize;
  guint8 *data = append_zeros (out, total);   /* padding and the string's NUL */

  memcpy (data, &id, 8);
  memcpy (data + 8, method, method_len);
  if (args_end > args_start)
    write_args (data + args_start, args, args_end - args_start, args_osize);
  memcpy (data + thread_start, &thread, 8);
  write_offset (data + total - osize, method_end, osize);
  write_offset (data + total - 2 * osize, args_end, osize);
}

/* GVariant reads the size of framing offsets off the container's size */
static gsize
offset_size_of (gsize total)
{
  if (total <= G_MAXUINT8)
    return 1;
  if (total <= G_MAXUINT16)
    return 2;
  if (total <= G_MAXUINT32)
    return 4;
  return 8;
}

static gsize
read_offset (const guint8 *src,
             gsize         size)
{
  gsize value = 0;

  for (gsize i = 0; i < size; i++)
    value |= (gsize) src[i] << (8 * i);
  return value;
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

/* Checks the framing of the "av" at @data by GLib's rules for the
 * normal form of an array of variable-size elements (framing offsets at
 * the end, as wide as the size needs; each element at the next multiple
 * of 8 after zero padding): FALSE when no normal form has this framing.
 * *@n: the number of elements. *@plain: every element is a plain value
 * (mp_wire_bytes_are_plain()) and the offsets are as narrow as GLib's
 * serializer makes them; otherwise GLib must judge the whole. */
static gboolean
check_args (const guint8 *data,
            gsize         size,
            gsize        *n_args,
            gboolean     *plain)
{
  gsize osize = offset_size_of (size);
  gsize last_end, n, start = 0;

  *plain = TRUE;
  *n_args = 0;
  if (size == 0)
    return TRUE;
  if (size < osize)
    return FALSE;
  last_end = read_offset (data + size - osize, osize);
  if (last_end > size || (size - last_end) % osize != 0)
    return FALSE;
  n = (size - last_end) / osize;
  if (n == 0)
    return FALSE;
  if (last_end + n * offset_size (last_end, n) != size)
    *plain = FALSE;
  for (gsize i = 0; i < n; i++)
    {
      gsize end = read_offset (data + last_end + i * osize, osize);

      if (end < start || end > last_end)
        return FALSE;
      for (; start % 8 != 0; start++)
        if (start >= end || data[start] != 0)
          return FALSE;
      if (*plain && !mp_wire_bytes_are_plain (data + start, end - start))
        *plain = FALSE;
      start = end;
    }
  *n_args = n;
  return start == last_end;
}

/* Adds the elements of the "av" at @offset, which check_args() accepted
 * and which is in normal form, to @argv (empty). Plain ones (@plain: all
 * of them) are copied out of @data; others are slices of @frame, which
 * holds @data. */
static void
split_args (const guint8 *data,
            GBytes       *frame,
            gsize         offset,
            gsize         size,
            gsize         n,
            gboolean      plain,
            MpArgv       *argv)
{
  const guint8 *args = data + offset;
  gsize osize = offset_size_of (size);
  gsize last_end = size - n * osize, start = 0;

  for (gsize i = 0; i < n; i++)
    {
      gsize end = read_offset (args + last_end + i * osize, osize);

      start = align8 (start);
      if (plain)
        mp_argv_add (argv, mp_wire_from_plain_bytes (args + start, end - start));
      else
        {
          /* a slice at a multiple of 8 in a malloc'd frame: aligned, so
           * GVariant does not copy it */
          g_autoptr(GBytes) bytes = g_bytes_new_from_bytes (frame, offset + start, end - start);

          mp_argv_add (argv, g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, bytes, TRUE));
        }
      ((MpArg *) mp_argv_index (argv, i))->is_plain = plain;
      start = end;
    }
}

/**
 * mp_message_decode_request:
 * @frame: a frame from a client (untrusted), lent or held
 * @request: (out caller-allocates): filled on success; clear it with
 *   mp_request_clear(). Its method name points into @frame, so @frame
 *   outlives it; its arguments are its own.
 * @error: return location for a #GError
 *
 * Accepts exactly the frames that are the normal form of a "(tsavt)"
 * value, as g_variant_is_normal_form() would, without building a GVariant
 * per member: the envelope is checked here, byte by byte, against the
 * one layout GVariant's serialization gives its members. So are
 * arguments that are all plain values (None, booleans, numbers), the
 * common case; a request with any other argument is judged whole by
 * g_variant_is_normal_form() itself. The arguments become one "v" each,
 * in @request->args: plain ones copied, others slices of the frame. The
 * tests and the fuzz target hold this to GLib's verdict on the whole
 * frame.
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_PROTOCOL.
 */
gboolean
mp_message_decode_request (const MpFrame  *frame,
                           MpRequest      *request,
                           GError        **error)
{
  gsize len = frame->len;
  const guint8 *data = frame->data;
  g_autoptr(GBytes) bytes = NULL;
  gsize osize, method_end, args_start, args_end, thread_start, body, n_args;
  gboolean plain;
  const char *method;

  /* the smallest request: id, an empty name, no arguments, thread (an
   * empty frame has no data pointer at all, so nothing is computed from
   * it before this check) */
  if (len < 8 + 8 + 8 + 2)
    goto bad;
  method = (const char *) data + 8;
  osize = offset_size_of (len);
  method_end = read_offset (data + len - osize, osize);
  args_end = read_offset (data + len - 2 * osize, osize);
  if (method_end < 8 + 1 || method_end > len)
    goto bad;
  args_start = align8 (method_end);
  if (args_end < args_start || args_end > len)
    goto bad;
  thread_start = align8 (args_end);
  body = thread_start + 8;
  /* nothing before, between or after the members but zero padding, and
   * offsets no wider than the size needs (GLib checks both) */
  if (offset_size (body, 2) != osize || body + 2 * osize != len ||
      !all_zero (data + method_end, args_start - method_end) ||
      !all_zero (data + args_end, thread_start - args_end))
    goto bad;
  /* GVariant's rule for a string: one NUL, at the end, and UTF-8 */
  if (data[method_end - 1] != '\0' ||
      !g_utf8_validate (method, (gssize) (method_end - 8 - 1), NULL) ||
      memchr (method, '\0', method_end - 8 - 1) != NULL)
    goto bad;

  if (!check_args (data + args_start, args_end - args_start, &n_args, &plain))
    goto bad;
  if (!plain)
    {
      /* strings, containers, objects: GLib judges them, in the whole
       * request, where nesting counts from the envelope (an "av" judged
       * alone would allow one level more than GLib's limit). They
       * become slices of the request, so a lent one is copied. */
      g_autoptr(GVariant) whole = NULL;

      bytes = mp_frame_slice (frame, 0, len);
      whole = g_variant_ref_sink (g_variant_new_from_bytes (MP_MSG_TYPE (MP_MSG_REQUEST),
                                                            bytes, FALSE));
      if (!g_variant_is_normal_form (whole))
        goto bad;
    }

  memcpy (&request->id, data, 8);
  memcpy (&request->thread, data + thread_start, 8);
  request->method = method;
  split_args (data, bytes, args_start, args_end - args_start, n_args, plain, &request->args);
  return TRUE;

bad:
  mp_set_error (error, MP_ERROR_PROTOCOL,
                "A message of %" G_GSIZE_FORMAT " bytes is not a valid '%s'"
                " value; it was dropped", len, MP_MSG_REQUEST);
  return FALSE;
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
 * @payload: (nullable): the "v" member (a floating reference is
 *   consumed); %NULL for None
 *
 * Appends the serialized "(yv)" reply.
 */
void
mp_message_write_reply (GByteArray  *out,
                        MpReplyKind  kind,
                        GVariant    *payload)
{
  /* None, the answer to most calls: its bytes, no value to look at */
  static const guint8 none[] = { 0, 0, '(', ')' };
  g_autoptr(GVariant) owned = payload != NULL ? g_variant_ref_sink (payload) : NULL;
  gsize size = owned != NULL ? g_variant_get_size (owned) : sizeof none;
  guint8 *data = append_zeros (out, REPLY_HEAD + size);

  data[0] = (guint8) kind;
  /* copied, not stored (see mp_message_write_request()) */
  memcpy (data + REPLY_HEAD, owned != NULL ? g_variant_get_data (owned) : none, size);
}

/**
 * mp_message_decode_reply:
 * @frame: a frame from the server (untrusted), lent or held
 * @kind: (out): the kind byte, not yet checked against #MpReplyKind
 * @payload: (out) (transfer full) (optional): the "v" member, in normal
 *   form; %NULL when not wanted, then a plain RETURN (None, a number) is
 *   only checked, never built
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_PROTOCOL when @frame is not
 *   the normal form of a "(yv)" value.
 */
gboolean
mp_message_decode_reply (const MpFrame  *frame,
                         guint8         *kind,
                         GVariant      **payload,
                         GError        **error)
{
  static const guint8 zeros[REPLY_HEAD - 1];
  g_autoptr(GBytes) rest = NULL;
  g_autoptr(GVariant) value = NULL;
  gsize len = frame->len;
  const guint8 *data = frame->data;

  if (len > REPLY_HEAD && memcmp (data + 1, zeros, sizeof zeros) == 0)
    {
      /* A plain result (None, a number) is in normal form when its bytes
       * say so; anything else GLib judges. Offset 8 keeps a held frame's
       * alignment for "v". */
      gboolean plain = mp_wire_bytes_are_plain (data + REPLY_HEAD, len - REPLY_HEAD);

      if (plain && payload == NULL && data[0] == MP_REPLY_RETURN)
        {
          *kind = data[0];
          return TRUE;
        }
      rest = mp_frame_slice (frame, REPLY_HEAD, len - REPLY_HEAD);
      value = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, rest, plain));
    }
  if (value == NULL || !g_variant_is_normal_form (value))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "A message of %" G_GSIZE_FORMAT " bytes is not a valid '%s'"
                    " value; it was dropped", len, MP_MSG_REPLY);
      return FALSE;
    }
  *kind = data[0];
  if (payload != NULL)
    *payload = g_steal_pointer (&value);
  return TRUE;
}
