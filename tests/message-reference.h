/* message-reference.h — the manager's request table, read and written
 * the plainest way, apart from mp-manager-message.c
 *
 * The table is in mp-manager-private.h. These two functions follow it
 * field by field, with GLib serializing each value and judging each
 * value received, so that test-manager-message and fuzz-frame can hold
 * the library's reader and writer to them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <string.h>

#include <glib.h>

/* Returns: (transfer full): @id, @method, the "v" children of @av (sunk
 * if floating) and @thread laid out as a request, each value as GLib
 * serializes it */
static inline GBytes *
reference_write_request (guint64     id,
                         const char *method,
                         GVariant   *av,
                         guint64     thread)
{
  /* takes a floating @av, as GLib's constructors do */
  g_autoptr(GVariant) owned = g_variant_ref_sink (av);
  GByteArray *out = g_byte_array_new ();
  guint32 method_len = GUINT32_TO_LE ((guint32) strlen (method));
  guint32 n_args = GUINT32_TO_LE ((guint32) g_variant_n_children (owned));
  static const guint8 zeros[8];

  id = GUINT64_TO_LE (id);
  thread = GUINT64_TO_LE (thread);
  g_byte_array_append (out, (const guint8 *) &id, 8);
  g_byte_array_append (out, (const guint8 *) &thread, 8);
  g_byte_array_append (out, (const guint8 *) &method_len, 4);
  g_byte_array_append (out, (const guint8 *) &n_args, 4);
  g_byte_array_append (out, (const guint8 *) method, (guint) strlen (method) + 1);
  for (gsize i = 0; i < g_variant_n_children (owned); i++)
    {
      g_autoptr(GVariant) value = g_variant_get_child_value (owned, i);
      guint32 size = GUINT32_TO_LE ((guint32) g_variant_get_size (value));

      g_byte_array_append (out, zeros, (8 - out->len % 8) % 8);
      g_byte_array_append (out, (const guint8 *) &size, 4);
      g_byte_array_append (out, zeros, 4);
      g_byte_array_append (out, g_variant_get_data (value), (guint) g_variant_get_size (value));
    }
  return g_byte_array_free_to_bytes (out);
}

/* Returns: (transfer full) (nullable): the request at @data as a
 * "(tsavt)", or NULL when it breaks a rule of the table or GLib finds a
 * value not in normal form */
static inline GVariant *
reference_read_request (const guint8 *data,
                        gsize         len)
{
  g_auto(GVariantBuilder) args = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  guint64 id, thread;
  guint32 method_len, n_args;
  g_autofree char *method = NULL;
  gsize pos;

  if (len < 24)
    return NULL;
  memcpy (&id, data, 8);
  memcpy (&thread, data + 8, 8);
  memcpy (&method_len, data + 16, 4);
  memcpy (&n_args, data + 20, 4);
  id = GUINT64_FROM_LE (id);
  thread = GUINT64_FROM_LE (thread);
  method_len = GUINT32_FROM_LE (method_len);
  n_args = GUINT32_FROM_LE (n_args);
  if ((guint64) 24 + method_len + 1 > len)
    return NULL;
  method = g_strndup ((const char *) data + 24, method_len);
  if (strlen (method) != method_len || data[24 + method_len] != 0 ||
      !g_utf8_validate (method, -1, NULL))
    return NULL;
  pos = 24 + (gsize) method_len + 1;
  for (guint32 i = 0; i < n_args; i++)
    {
      guint32 size, zero;
      g_autoptr(GVariant) value = NULL;
      g_autoptr(GBytes) bytes = NULL;

      for (; pos % 8 != 0; pos++)
        if (pos >= len || data[pos] != 0)
          return NULL;
      if (pos + 8 > len)
        return NULL;
      memcpy (&size, data + pos, 4);
      memcpy (&zero, data + pos + 4, 4);
      size = GUINT32_FROM_LE (size);
      pos += 8;
      if (zero != 0 || size > len - pos)
        return NULL;
      bytes = g_bytes_new (data + pos, size);
      value = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, bytes, FALSE));
      if (!g_variant_is_normal_form (value))
        return NULL;
      g_variant_builder_add_value (&args, value);
      pos += size;
    }
  if (pos != len)
    return NULL;
  return g_variant_ref_sink (g_variant_new ("(ts@avt)", id, method,
                                            g_variant_builder_end (&args), thread));
}
