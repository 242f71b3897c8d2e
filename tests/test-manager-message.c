/* test-manager-message.c — the manager's call envelopes against their
 * table and GLib
 *
 * mp-manager-message.c writes and reads requests and replies laid out as
 * the table in mp-manager-private.h says, with GVariant values. These
 * tests hold it to a second reading of the table (message-reference.h)
 * in which GLib serializes and judges every value, and the reply, which
 * is also the normal form of a "(yv)", to GLib's own verdict: what it
 * writes is byte for byte what they write, and what it accepts from a
 * peer is exactly what they accept, on valid messages and on thousands
 * of damaged ones.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "mpshare.h"
#include "mp-manager-private.h"
#include "mp-connection-private.h"
#include "message-reference.h"

/* method names and arguments of many sizes: every padding length, and
 * values past 255 and 65535 bytes */
static const gsize method_lengths[] = { 0, 1, 3, 7, 8, 9, 16, 200, 250, 300 };
static const gsize arg_string_lengths[] = { 0, 1, 5, 100, 240, 1000, 70000 };

static char *
make_method (gsize len)
{
  char *method = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    method[i] = (char) ('a' + i % 26);
  method[len] = '\0';
  return method;
}

/* an "av" of @n_args wires, the last a string of @text_len bytes;
 * NULL for no arguments at all */
static GVariant *
make_args (guint n_args,
           gsize text_len)
{
  GVariantBuilder builder;
  g_autofree char *text = make_method (text_len);

  if (n_args == 0)
    return NULL;
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("av"));
  for (guint i = 1; i < n_args; i++)
    g_variant_builder_add_value (&builder, mp_wire_int (i * 1000003));
  g_variant_builder_add_value (&builder, mp_wire_string (text));
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* an "av" of plain values only (the decoder's fast path) */
static GVariant *
make_plain_args (guint n_args)
{
  GVariant *wires[] = { mp_wire_int (-3), mp_wire_bool (TRUE), mp_wire_none (), mp_wire_double (2.5),
                        mp_wire_uint (8) };

  g_assert (n_args <= G_N_ELEMENTS (wires));
  for (guint i = n_args; i < G_N_ELEMENTS (wires); i++)
    g_variant_unref (g_variant_ref_sink (wires[i]));
  return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, wires, n_args));
}

static GVariant *
glib_request (guint64     id,
              const char *method,
              GVariant   *args,
              guint64     thread)
{
  return g_variant_ref_sink (g_variant_new ("(ts@avt)", id, method,
                                            args != NULL ? args : g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                                                       NULL, 0),
                                            thread));
}

/* the writers append: here to nothing, in the library after the room
 * for a frame's header */
static GBytes *
encode_request (guint64     id,
                const char *method,
                GVariant   *args,
                guint64     thread)
{
  GByteArray *out = g_byte_array_new ();
  g_auto(MpArgv) argv = MP_ARGV_INIT;

  if (args != NULL)
    mp_argv_add_children (&argv, args, 0);
  mp_message_write_request (out, id, method, &argv, thread);
  return g_byte_array_free_to_bytes (out);
}

static GBytes *
encode_reply (MpReplyKind  kind,
              GVariant    *payload)
{
  GByteArray *out = g_byte_array_new ();

  mp_message_write_reply (out, kind, payload);
  return g_byte_array_free_to_bytes (out);
}

/* the "av" of a "(tsavt)" */
static GVariant *
args_of (GVariant *request)
{
  return g_variant_get_child_value (request, 2);
}

/* @ours is what the reference writes for @request */
static void
assert_reference_bytes (GBytes   *ours,
                        GVariant *request)
{
  g_autoptr(GVariant) av = args_of (request);
  g_autoptr(GBytes) theirs = NULL;
  const char *method;
  guint64 id, thread;

  g_variant_get (request, "(t&s@avt)", &id, &method, NULL, &thread);
  theirs = reference_write_request (id, method, av, thread);
  g_assert_cmpmem (g_bytes_get_data (ours, NULL), g_bytes_get_size (ours),
                   g_bytes_get_data (theirs, NULL), g_bytes_get_size (theirs));
}

static void
assert_same_bytes (GBytes   *ours,
                   GVariant *theirs)
{
  g_assert_cmpmem (g_bytes_get_data (ours, NULL), g_bytes_get_size (ours),
                   g_variant_get_data (theirs), g_variant_get_size (theirs));
}

/* GLib's verdict on @frame as a message of @type */
static gboolean
glib_accepts (GBytes     *frame,
              const char *type)
{
  g_autoptr(GVariant) value = NULL;

  /* GLib 2.74 reads past the end of a "(yv)" of 1 to 7 bytes while it
   * judges it (valgrind shows it); no such value is in normal form, and
   * mp_message_decode_reply() refuses them before GLib sees them */
  if (strcmp (type, MP_MSG_REPLY) == 0 && g_bytes_get_size (frame) < 8)
    return FALSE;
  value = mp_connection_variant_from_frame (frame, G_VARIANT_TYPE (type), NULL);
  return value != NULL;
}

/* A copy of @frame's bytes at LENT_AT, an odd address, as a frame lent
 * from the read-ahead buffer after its header */
#define LENT_AT 5

static guint8 *
lend_copy (GBytes *frame)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  guint8 *buffer = g_malloc (LENT_AT + len);

  if (len > 0)
    memcpy (buffer + LENT_AT, data, len);
  return buffer;
}

/* Decodes @frame held by its bytes into @request (whose method points
 * into @frame), and lent from elsewhere: both ways agree. */
static gboolean
decode_request (GBytes     *frame,
                MpRequest  *request,
                GError    **error)
{
  g_auto(MpFrame) held = MP_FRAME_INIT;
  g_autofree guint8 *buffer = lend_copy (frame);
  MpFrame lent = { buffer + LENT_AT, g_bytes_get_size (frame), NULL };
  g_auto(MpRequest) lent_request = { 0 };
  gboolean lent_ok = mp_message_decode_request (&lent, &lent_request, NULL);
  gboolean ok;

  mp_frame_take_bytes (&held, g_bytes_ref (frame));
  ok = mp_message_decode_request (&held, request, error);
  g_assert_cmpint (ok, ==, lent_ok);
  if (ok)
    {
      g_autoptr(GVariant) args = mp_argv_to_variant (&request->args, 0);
      g_autoptr(GVariant) lent_args = mp_argv_to_variant (&lent_request.args, 0);

      g_assert_cmpuint (lent_request.id, ==, request->id);
      g_assert_cmpstr (lent_request.method, ==, request->method);
      g_assert_cmpuint (lent_request.thread, ==, request->thread);
      g_assert_true (g_variant_equal (lent_args, args));
    }
  return ok;
}

/* the same for a reply */
static gboolean
decode_reply (GBytes     *frame,
              guint8     *kind,
              GVariant  **payload,
              GError    **error)
{
  g_auto(MpFrame) held = MP_FRAME_INIT;
  g_autofree guint8 *buffer = lend_copy (frame);
  MpFrame lent = { buffer + LENT_AT, g_bytes_get_size (frame), NULL };
  g_autoptr(GVariant) lent_payload = NULL;
  guint8 lent_kind = 0;
  gboolean lent_ok = mp_message_decode_reply (&lent, &lent_kind, &lent_payload, NULL);
  gboolean ok;

  mp_frame_take_bytes (&held, g_bytes_ref (frame));
  ok = mp_message_decode_reply (&held, kind, payload, error);
  g_assert_cmpint (ok, ==, lent_ok);
  if (ok)
    {
      g_assert_cmpuint (lent_kind, ==, *kind);
      if (payload != NULL)
        g_assert_true (g_variant_equal (lent_payload, *payload));
    }
  return ok;
}

static void
test_request_bytes (void)
{
  for (gsize m = 0; m < G_N_ELEMENTS (method_lengths); m++)
    for (guint n_args = 0; n_args <= 3; n_args++)
      for (gsize t = 0; t < G_N_ELEMENTS (arg_string_lengths); t++)
        {
          g_autofree char *method = make_method (method_lengths[m]);
          g_autoptr(GVariant) args = make_args (n_args, arg_string_lengths[t]);
          g_autoptr(GVariant) theirs = glib_request (G_MAXUINT64 - m, method, args, 77 + t);
          g_autoptr(GBytes) ours = encode_request (G_MAXUINT64 - m, method, args, 77 + t);
          g_auto(MpRequest) request = { 0 };
          g_autoptr(GError) error = NULL;

          assert_reference_bytes (ours, theirs);
          /* after what the array held already, as after a header's room */
          {
            g_autoptr(GByteArray) framed = g_byte_array_new ();
            g_auto(MpArgv) argv = MP_ARGV_INIT;

            if (args != NULL)
              mp_argv_add_children (&argv, args, 0);
            g_byte_array_append (framed, (const guint8 *) "room", 4);
            mp_message_write_request (framed, G_MAXUINT64 - m, method, args != NULL ? &argv : NULL, 77 + t);
            g_assert_cmpmem (framed->data, 4, "room", 4);
            g_assert_cmpmem (framed->data + 4, framed->len - 4,
                             g_bytes_get_data (ours, NULL), g_bytes_get_size (ours));
          }

          g_assert_true (decode_request (ours, &request, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (request.id, ==, G_MAXUINT64 - m);
          g_assert_cmpstr (request.method, ==, method);
          g_assert_cmpuint (request.thread, ==, 77 + t);
          if (args != NULL)
            {
              g_autoptr(GVariant) got = mp_argv_to_variant (&request.args, 0);

              g_assert_true (g_variant_equal (got, args));
            }
          else
            g_assert_cmpuint (mp_argv_len (&request.args), ==, 0);
          if (n_args == 0)
            break;   /* the text length means nothing without arguments */
        }
}

/* The fields sit where the table says, in little-endian order, and each
 * value is the bytes GLib serialized, at a multiple of 8. */
static void
test_request_layout (void)
{
  g_autoptr(GVariant) args = make_args (2, 5);
  g_autoptr(GVariant) first = g_variant_get_child_value (args, 0);
  g_autoptr(GVariant) second = g_variant_get_child_value (args, 1);
  g_autoptr(GBytes) frame = encode_request (G_GUINT64_CONSTANT (0x0102030405060708), "len",
                                            args, 0x1122);
  static const guint8 head[] = {
    8, 7, 6, 5, 4, 3, 2, 1,                 /* object id */
    0x22, 0x11, 0, 0, 0, 0, 0, 0,           /* client thread */
    3, 0, 0, 0,                             /* method length */
    2, 0, 0, 0,                             /* argument count */
    'l', 'e', 'n', 0,                       /* method name and its NUL */
    0, 0, 0, 0,                             /* padding to 32 */
  };
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);
  gsize first_size = g_variant_get_size (first);
  gsize second_at = 32 + MP_MSG_ARG_HEAD + ((first_size + 7) & ~(gsize) 7);

  g_assert_cmpuint (len, >, sizeof head);
  g_assert_cmpmem (data, sizeof head, head, sizeof head);
  g_assert_cmpuint (data[32], ==, first_size);
  g_assert_cmpmem (data + 33, 7, "\0\0\0\0\0\0\0", 7);
  g_assert_cmpmem (data + 40, first_size, g_variant_get_data (first), first_size);
  g_assert_cmpuint (second_at + MP_MSG_ARG_HEAD + g_variant_get_size (second), ==, len);
  g_assert_cmpuint (data[second_at], ==, g_variant_get_size (second));
  g_assert_cmpmem (data + second_at + MP_MSG_ARG_HEAD, g_variant_get_size (second),
                   g_variant_get_data (second), g_variant_get_size (second));
}

/* Arguments written from an MpArgv against the reference: none, plain
 * values, strings long enough for 2- and
 * 4-byte offsets, nested lists, and more arguments than an MpArgv holds
 * without allocating; each read back one by one. */
static void
test_args_bytes (void)
{
  static const guint counts[] = { 0, 1, 2, 3, 4, 5, 6, MP_ARGV_INLINE, MP_ARGV_INLINE + 1, 40 };

  for (gsize t = 0; t < G_N_ELEMENTS (arg_string_lengths); t++)
    for (gsize c = 0; c < G_N_ELEMENTS (counts); c++)
      {
        guint n = counts[c];
        g_autofree char *text = make_method (arg_string_lengths[t]);
        g_autoptr(GPtrArray) theirs_wires = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
        g_auto(MpArgv) ours = MP_ARGV_INIT;
        g_auto(MpRequest) request = { 0 };
        g_autoptr(GVariant) theirs = NULL;
        g_autoptr(GBytes) frame = NULL;
        g_autoptr(GError) error = NULL;

        for (guint i = 0; i < n; i++)
          {
            GVariant *wire;
            GPtrArray *inner = g_ptr_array_new ();

            switch (i % 4)
              {
              case 0: wire = mp_wire_int (-(gint64) i); break;
              case 1: wire = mp_wire_string (text); break;
              case 2: wire = mp_wire_none (); break;
              default:
                g_ptr_array_add (inner, mp_wire_bool (i & 1));
                g_ptr_array_add (inner, mp_wire_string (text));
                wire = mp_wire_list (inner);
                break;
              }
            g_ptr_array_unref (inner);
            g_ptr_array_add (theirs_wires, g_variant_ref_sink (wire));
            mp_argv_add (&ours, wire);
          }
        g_assert_cmpuint (mp_argv_len (&ours), ==, n);
        theirs = glib_request (7, "m", g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                            (GVariant **) theirs_wires->pdata, n), 9);
        {
          GByteArray *out = g_byte_array_new ();

          mp_message_write_request (out, 7, "m", &ours, 9);
          frame = g_byte_array_free_to_bytes (out);
        }
        assert_reference_bytes (frame, theirs);
        g_assert_true (g_variant_is_normal_form (theirs));

        g_assert_true (decode_request (frame, &request, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (mp_argv_len (&request.args), ==, n);
        for (guint i = 0; i < n; i++)
          g_assert_true (g_variant_equal (mp_argv_get (&request.args, i),
                                          g_ptr_array_index (theirs_wires, i)));
      }
}

/* Values added to an MpArgv: the request carries what
 * mp_serialize_value() makes. */
static void
test_args_values (void)
{
  g_auto(MpArgv) ours = MP_ARGV_INIT;
  g_autoptr(GPtrArray) theirs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  g_autoptr(GVariant) request = NULL;
  g_autoptr(GVariant) back = NULL;
  g_autoptr(GVariant) args = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GError) error = NULL;
  GValue values[6] = { G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT,
                       G_VALUE_INIT, G_VALUE_INIT, G_VALUE_INIT };
  GValue pointer = G_VALUE_INIT;

  g_value_init (&values[1], G_TYPE_BOOLEAN);
  g_value_set_boolean (&values[1], TRUE);
  g_value_init (&values[2], G_TYPE_INT);
  g_value_set_int (&values[2], -7);
  g_value_init (&values[3], G_TYPE_UINT64);
  g_value_set_uint64 (&values[3], G_MAXUINT64);
  g_value_init (&values[4], G_TYPE_DOUBLE);
  g_value_set_double (&values[4], 0.5);
  g_value_init (&values[5], G_TYPE_STRING);
  g_value_set_string (&values[5], "not plain");

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      /* values[0] is unset: None */
      GVariant *wire = mp_serialize_value (&values[i], &error);

      g_assert_no_error (error);
      g_ptr_array_add (theirs, wire);
      g_assert_true (mp_argv_add_value (&ours, &values[i], &error));
      g_assert_no_error (error);
      g_assert_cmpint (mp_wire_is_plain (mp_argv_get (&ours, i)), ==, i < 5);
    }
  mp_argv_add_int (&ours, 42);
  g_ptr_array_add (theirs, g_variant_ref_sink (mp_wire_int (42)));
  g_assert_true (mp_wire_is_plain (mp_argv_get (&ours, 6)));

  /* a value that cannot travel adds nothing */
  g_value_init (&pointer, G_TYPE_POINTER);
  g_assert_false (mp_argv_add_value (&ours, &pointer, &error));
  g_assert_error (error, MP_ERROR, MP_ERROR_UNSERIALIZABLE);
  g_assert_cmpuint (mp_argv_len (&ours), ==, theirs->len);

  request = glib_request (3, "put", g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                         (GVariant **) theirs->pdata, theirs->len), 4);
  {
    GByteArray *out = g_byte_array_new ();

    mp_message_write_request (out, 3, "put", &ours, 4);
    frame = g_byte_array_free_to_bytes (out);
  }
  assert_reference_bytes (frame, request);
  back = mp_argv_to_variant (&ours, 0);
  args = g_variant_get_child_value (request, 2);
  g_assert_true (g_variant_equal (back, args));

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    g_value_unset (&values[i]);   /* values[0] was never set: a no-op */
}

static void
test_reply_bytes (void)
{
  static const MpReplyKind kinds[] = { MP_REPLY_RETURN, MP_REPLY_ERROR, MP_REPLY_PROXY };

  /* NULL is None, written without a value */
  {
    g_autoptr(GVariant) none = g_variant_ref_sink (mp_wire_none ());
    g_autoptr(GVariant) theirs = g_variant_ref_sink (g_variant_new ("(y@v)", MP_REPLY_RETURN, none));
    g_autoptr(GBytes) ours = encode_reply (MP_REPLY_RETURN, NULL);
    g_autoptr(GVariant) got = NULL;
    guint8 kind = 0xff;

    assert_same_bytes (ours, theirs);
    /* read back as the one shared None: its bytes are GLib's own */
    g_assert_true (decode_reply (ours, &kind, &got, NULL));
    g_assert_cmpuint (kind, ==, MP_REPLY_RETURN);
    g_assert_true (g_variant_equal (got, none));
    g_assert_true (mp_wire_is_shared_none (got));
  }

  for (gsize t = 0; t < G_N_ELEMENTS (arg_string_lengths); t++)
    for (gsize k = 0; k < G_N_ELEMENTS (kinds); k++)
      {
        g_autofree char *text = make_method (arg_string_lengths[t]);
        g_autoptr(GVariant) payload = g_variant_ref_sink (mp_wire_string (text));
        g_autoptr(GVariant) theirs = g_variant_ref_sink (g_variant_new ("(y@v)", kinds[k], payload));
        g_autoptr(GBytes) ours = encode_reply (kinds[k], payload);
        g_autoptr(GVariant) got = NULL;
        g_autoptr(GError) error = NULL;
        guint8 kind = 0xff;

        assert_same_bytes (ours, theirs);
        g_assert_true (decode_reply (ours, &kind, &got, &error));
        g_assert_no_error (error);
        g_assert_cmpuint (kind, ==, kinds[k]);
        g_assert_true (g_variant_equal (got, payload));
      }
}

/* A None argument, by its bytes, is read as the one shared None and
 * known plain; any other value is GLib's to build and judge. */
static void
test_args_none_shared (void)
{
  g_autoptr(GVariant) args = g_variant_ref_sink (
    g_variant_new_array (G_VARIANT_TYPE_VARIANT, (GVariant *[]) {
      mp_wire_none (), mp_wire_int (0), mp_wire_string (NULL),
      g_variant_new_variant (g_variant_new_tuple ((GVariant *[]) { mp_wire_none () }, 1)),
    }, 4));
  g_autoptr(GBytes) frame = encode_request (7, "set", args, 1);
  g_auto(MpRequest) request = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (decode_request (frame, &request, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mp_argv_len (&request.args), ==, 4);
  g_assert_true (mp_wire_is_shared_none (mp_argv_get (&request.args, 0)));
  g_assert_true (mp_argv_is_plain (&request.args, 0));
  for (gsize i = 1; i < 4; i++)
    {
      g_autoptr(GVariant) sent = g_variant_get_child_value (args, i);

      g_assert_false (mp_wire_is_shared_none (mp_argv_get (&request.args, i)));
      g_assert_true (g_variant_equal (mp_argv_get (&request.args, i), sent));
    }
  /* the bytes of None alone, with nothing around them, and cut short */
  g_assert_true (mp_wire_is_none_bytes (g_variant_get_data (mp_argv_get (&request.args, 0)),
                                        g_variant_get_size (mp_argv_get (&request.args, 0))));
  g_assert_false (mp_wire_is_none_bytes (g_variant_get_data (mp_argv_get (&request.args, 0)),
                                         g_variant_get_size (mp_argv_get (&request.args, 0)) - 1));
}

/* The decoder and the reference (GLib judging each value) agree on
 * @frame; returns the shared verdict. */
static gboolean
assert_request_verdict (GBytes *frame)
{
  g_auto(MpRequest) request = { 0 };
  g_autoptr(GError) error = NULL;
  gboolean ours = decode_request (frame, &request, &error);
  g_autoptr(GVariant) whole = reference_read_request (g_bytes_get_data (frame, NULL),
                                                      g_bytes_get_size (frame));

  if (ours != (whole != NULL))
    g_error ("request decoder says %d, the reference says %d, on %" G_GSIZE_FORMAT " bytes",
             ours, whole != NULL, g_bytes_get_size (frame));
  if (ours)
    {
      g_autoptr(GVariant) args = args_of (whole);
      g_autoptr(GVariant) got = mp_argv_to_variant (&request.args, 0);
      guint64 id, thread;
      const char *method;

      g_variant_get (whole, "(t&s@avt)", &id, &method, NULL, &thread);
      g_assert_cmpuint (request.id, ==, id);
      g_assert_cmpstr (request.method, ==, method);
      g_assert_cmpuint (request.thread, ==, thread);
      g_assert_true (g_variant_equal (got, args));
      /* one layout per request: written again, the same bytes */
      assert_reference_bytes (frame, whole);
    }
  else
    g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  return ours;
}

static gboolean
assert_reply_verdict (GBytes *frame)
{
  g_autoptr(GVariant) payload = NULL;
  g_autoptr(GError) error = NULL;
  guint8 kind = 0;
  gboolean ours = decode_reply (frame, &kind, &payload, &error);
  gboolean glib = glib_accepts (frame, MP_MSG_REPLY);
  guint8 kind_alone = 0;

  if (ours != glib)
    g_error ("reply decoder says %d, GLib says %d, on %" G_GSIZE_FORMAT " bytes",
             ours, glib, g_bytes_get_size (frame));
  /* judged the same when nobody asks for the payload (the None read
   * without building it, the rest judged in place) */
  if (decode_reply (frame, &kind_alone, NULL, NULL) != ours)
    g_error ("reply decoder without a payload says %d, GLib says %d, on %" G_GSIZE_FORMAT
             " bytes", !ours, glib, g_bytes_get_size (frame));
  if (ours)
    g_assert_cmpuint (kind_alone, ==, kind);
  if (ours)
    {
      g_autoptr(GVariant) whole = mp_connection_variant_from_frame (frame, MP_MSG_TYPE (MP_MSG_REPLY), NULL);
      g_autoptr(GVariant) boxed = g_variant_get_child_value (whole, 1);
      guint8 glib_kind;

      g_variant_get (whole, "(y@v)", &glib_kind, NULL);
      g_assert_cmpuint (kind, ==, glib_kind);
      g_assert_true (g_variant_equal (payload, boxed));
    }
  else
    g_assert_error (error, MP_ERROR, MP_ERROR_PROTOCOL);
  return ours;
}

typedef gboolean (*VerdictFunc) (GBytes *frame);

typedef struct {
  guint accepted;
  guint refused;
} Tally;

static void
judge (VerdictFunc   verdict,
       const guint8 *data,
       gsize         len,
       Tally        *tally)
{
  /* a malloc'd copy, aligned as a received frame is */
  g_autoptr(GBytes) frame = g_bytes_new (data, len);

  if (verdict (frame))
    tally->accepted++;
  else
    tally->refused++;
}

/* Damages @valid in every way a short message allows and many random ways:
 * each byte set to a few values, cut at every length, grown by a byte,
 * then random multi-byte damage. */
static void
damage_and_judge (GBytes      *valid,
                  VerdictFunc  verdict,
                  Tally       *tally)
{
  static const guint8 values[] = { 0x00, 0x01, 0x07, 0x08, 0x10, 0x20, 0x7f, 0x80, 0xc3, 0xff };
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (valid, &len);
  g_autofree guint8 *copy = g_malloc (len + 1);

  judge (verdict, data, len, tally);
  for (gsize i = 0; i < len && len <= 512; i++)
    for (gsize v = 0; v < G_N_ELEMENTS (values); v++)
      {
        memcpy (copy, data, len);
        copy[i] = values[v];
        judge (verdict, copy, len, tally);
      }
  for (gsize cut = 0; cut < len && len <= 512; cut++)
    judge (verdict, data, cut, tally);
  memcpy (copy, data, len);
  copy[len] = 0;
  judge (verdict, copy, len + 1, tally);

  for (guint round = 0; round < 200; round++)
    {
      guint n_changes = (guint) g_test_rand_int_range (1, 4);

      memcpy (copy, data, len);
      for (guint c = 0; c < n_changes; c++)
        copy[g_test_rand_int_range (0, (gint32) len)] = (guint8) g_test_rand_int_range (0, 256);
      judge (verdict, copy, len, tally);
    }
}

static void
test_request_like_reference (void)
{
  Tally tally = { 0, 0 };

  for (gsize m = 0; m < G_N_ELEMENTS (method_lengths); m++)
    for (guint n_args = 0; n_args <= 2; n_args++)
      {
        g_autofree char *method = make_method (method_lengths[m]);
        g_autoptr(GVariant) args = make_args (n_args, 3);
        g_autoptr(GVariant) plain_args = make_plain_args (n_args + 1);
        g_autoptr(GBytes) valid = encode_request (m, method, args, 1);
        g_autoptr(GBytes) valid_plain = encode_request (m, method, plain_args, 1);

        damage_and_judge (valid, assert_request_verdict, &tally);
        damage_and_judge (valid_plain, assert_request_verdict, &tally);
      }
  /* the comparison meant something only if both verdicts occurred */
  g_assert_cmpuint (tally.accepted, >, 100);
  g_assert_cmpuint (tally.refused, >, 100);
}

/* An argument holding an array whose offsets are wider than needed,
 * though the whole is just big enough for the size to call for them:
 * GLib (since the fixes of 2023) refuses it, and so must the decoder. */
static void
test_request_wide_offsets (void)
{
  Tally tally = { 0, 0 };

  for (guint n = 12; n <= 15; n++)
    {
      GVariant *wires[15];
      g_autoptr(GVariant) narrow = NULL;
      g_autoptr(GVariant) wide_args = NULL;
      g_autoptr(GVariant) wide_wire = NULL;
      g_autoptr(GBytes) wide_bytes = NULL;
      g_autoptr(GBytes) request = NULL;
      gsize len, body, wide_len;
      const guint8 *data;
      guint8 *wide;

      for (guint i = 0; i < n; i++)
        wires[i] = mp_wire_int (i);
      narrow = g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARIANT, wires, n));
      data = g_variant_get_data (narrow);
      len = g_variant_get_size (narrow);
      g_assert_cmpuint (len, <=, 255);   /* one byte per offset */
      body = len - n;
      wide_len = body + 2 * n;
      wide = g_malloc0 (wide_len);
      memcpy (wide, data, body);
      for (guint i = 0; i < n; i++)
        wide[body + 2 * i] = data[body + i];   /* little-endian */
      wide_bytes = g_bytes_new_take (wide, wide_len);
      wide_args = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE ("av"), wide_bytes, FALSE));
      /* GLib copies the serialized child as it is: the value keeps the
       * wide offsets */
      wide_wire = g_variant_ref_sink (g_variant_new_variant (wide_args));
      request = reference_write_request (1, "extend",
                                         g_variant_new_array (G_VARIANT_TYPE_VARIANT, &wide_wire, 1),
                                         2);
      judge (assert_request_verdict, g_bytes_get_data (request, NULL), g_bytes_get_size (request), &tally);
    }
  g_assert_cmpuint (tally.refused, ==, 4);
}

/* An argument nested right up to GLib's limit and past it: each value
 * is judged alone, as GLib judges it alone. Both verdicts occur across
 * the range. */
static void
test_request_deep_argument (void)
{
  Tally tally = { 0, 0 };

  for (guint depth = 120; depth <= 128; depth++)
    {
      g_autoptr(GBytes) frame = NULL;
      g_autoptr(GString) type_string = g_string_new (NULL);
      GVariant *wire;

      /* a "v" holding an empty array a...ay, whose type is @depth deep */
      for (guint i = 1; i < depth; i++)
        g_string_append_c (type_string, 'a');
      g_string_append_c (type_string, 'y');
      wire = g_variant_new_variant (g_variant_new_array (G_VARIANT_TYPE (type_string->str + 1),
                                                         NULL, 0));
      frame = reference_write_request (1, "x", g_variant_new_array (G_VARIANT_TYPE_VARIANT, &wire, 1),
                                       2);
      judge (assert_request_verdict, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame), &tally);
    }
  g_assert_cmpuint (tally.accepted, >, 0);
  g_assert_cmpuint (tally.refused, >, 0);
}

static void
test_reply_like_glib (void)
{
  Tally tally = { 0, 0 };
  GVariant *payloads[] = {
    mp_wire_none (), mp_wire_int (-5), mp_wire_string ("a reply"),
    mp_wire_uint (G_MAXUINT64), mp_wire_bool (TRUE), mp_wire_double (-0.5),
    g_variant_new_variant (g_variant_new (MP_MSG_PROXY, "list", (guint64) 9)),
    g_variant_new_variant (g_variant_new (MP_MSG_ERROR, 3, "key", "no such key")),
  };

  for (gsize p = 0; p < G_N_ELEMENTS (payloads); p++)
    {
      g_autoptr(GBytes) valid = encode_reply ((MpReplyKind) (p % 3), payloads[p]);

      damage_and_judge (valid, assert_reply_verdict, &tally);
    }
  g_assert_cmpuint (tally.accepted, >, 100);
  g_assert_cmpuint (tally.refused, >, 100);
}

/* The table of mp-manager-private.h, as docs/manager-protocol.md shows
 * it: the header's lines from "Request" to the reply's payload, without
 * their comment prefix, appear in the page in one piece. */
static void
test_table_in_docs (void)
{
  g_autofree char *header_path = g_test_build_filename (G_TEST_DIST, "..", "lib",
                                                        "mp-manager-private.h", NULL);
  g_autofree char *doc_path = g_test_build_filename (G_TEST_DIST, "..", "docs",
                                                     "manager-protocol.md", NULL);
  g_autofree char *header = NULL;
  g_autofree char *doc = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) table = g_string_new (NULL);
  gboolean inside = FALSE;

  g_assert_true (g_file_get_contents (header_path, &header, NULL, NULL));
  g_assert_true (g_file_get_contents (doc_path, &doc, NULL, NULL));
  lines = g_strsplit (header, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *text = lines[i];

      if (g_str_has_prefix (text, " * "))
        text += 3;
      else if (strcmp (text, " *") == 0)
        text = "";
      else
        continue;
      if (strcmp (text, "Request") == 0)
        inside = TRUE;
      if (!inside)
        continue;
      g_string_append_printf (table, "%s\n", text);
      if (g_str_has_prefix (text, "  8       rest   payload"))
        break;
    }
  g_assert_cmpuint (table->len, >, 500);
  if (strstr (doc, table->str) == NULL)
    g_error ("docs/manager-protocol.md does not show the table of"
             " lib/mp-manager-private.h as it is now:\n%s", table->str);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/manager/message/request/bytes", test_request_bytes);
  g_test_add_func ("/manager/message/request/layout", test_request_layout);
  g_test_add_func ("/manager/message/request/like-reference", test_request_like_reference);
  g_test_add_func ("/manager/message/request/wide-offsets", test_request_wide_offsets);
  g_test_add_func ("/manager/message/request/deep-argument", test_request_deep_argument);
  g_test_add_func ("/manager/message/args/bytes", test_args_bytes);
  g_test_add_func ("/manager/message/args/values", test_args_values);
  g_test_add_func ("/manager/message/args/none-shared", test_args_none_shared);
  g_test_add_func ("/manager/message/reply/bytes", test_reply_bytes);
  g_test_add_func ("/manager/message/reply/like-glib", test_reply_like_glib);
  g_test_add_func ("/manager/message/table-in-docs", test_table_in_docs);

  return g_test_run ();
}
