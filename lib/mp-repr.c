/* mp-repr.c — values as Python's repr() prints them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

static void
append_quoted (GString    *out,
               const char *data,
               gsize       len,
               gboolean    bytes)
{
  char quote = '\'';

  if (memchr (data, '\'', len) != NULL && memchr (data, '"', len) == NULL)
    quote = '"';

  g_string_append_c (out, quote);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      if (c == (guchar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20 || c == 0x7f || (bytes && c > 0x7f))
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, quote);
}

void
mp_repr_append_string (GString    *out,
                    const char *text)
{
  append_quoted (out, text, strlen (text), FALSE);
}

/* Python's repr of a float: the shortest text that reads back the same,
 * positional between 1e-4 and 1e16, else scientific with 2+ exponent
 * digits. */
static void
append_double_repr (GString *out,
                    double   d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char digits[32];
  gsize n_digits = 0;
  const char *p;
  int exponent;
  int point;

  if (isnan (d))
    {
      g_string_append (out, "nan");
      return;
    }
  if (isinf (d))
    {
      g_string_append (out, d < 0 ? "-inf" : "inf");
      return;
    }

  for (int precision = 0; precision < 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%de", precision);
      g_ascii_formatd (buf, sizeof buf, format, d);
      if (g_ascii_strtod (buf, NULL) == d)
        break;
    }

  p = buf;
  if (*p == '-')
    {
      g_string_append_c (out, '-');
      p++;
    }
  for (; *p != 'e' && *p != '\0'; p++)
    if (g_ascii_isdigit (*p) && n_digits < sizeof digits - 1)
      digits[n_digits++] = *p;
  exponent = *p == 'e' ? atoi (p + 1) : 0;
  while (n_digits > 1 && digits[n_digits - 1] == '0')
    n_digits--;
  digits[n_digits] = '\0';
  point = exponent + 1;   /* digits before the decimal point */

  if (point > -4 && point <= 16)
    {
      if (point <= 0)
        {
          g_string_append (out, "0.");
          for (int i = 0; i < -point; i++)
            g_string_append_c (out, '0');
          g_string_append (out, digits);
        }
      else if ((gsize) point >= n_digits)
        {
          g_string_append (out, digits);
          for (gsize i = n_digits; i < (gsize) point; i++)
            g_string_append_c (out, '0');
          g_string_append (out, ".0");
        }
      else
        {
          g_string_append_len (out, digits, point);
          g_string_append_c (out, '.');
          g_string_append (out, digits + point);
        }
    }
  else
    {
      g_string_append_c (out, digits[0]);
      if (n_digits > 1)
        {
          g_string_append_c (out, '.');
          g_string_append (out, digits + 1);
        }
      g_string_append_printf (out, "e%c%02d", exponent < 0 ? '-' : '+', ABS (exponent));
    }
}

static void append_repr (GString      *out,
                         const GValue *value,
                         guint         depth);

static void
append_object_repr (GString *out,
                    GObject *object,
                    guint    depth)
{
  const MpTypeEntry *entry = mp_registry_lookup_object (G_OBJECT_TYPE (object));
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs = 0;
  gboolean first = TRUE;

  if (entry == NULL || entry->kind != MP_TYPE_ENTRY_PROPERTIES)
    {
      g_string_append_printf (out, "<%s object at %p>", G_OBJECT_TYPE_NAME (object), (void *) object);
      return;
    }

  g_string_append_printf (out, "%s(", G_OBJECT_TYPE_NAME (object));
  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *name = NULL;

      if (!mp_registry_property_travels (pspecs[i]))
        continue;
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (object, pspecs[i]->name, &value);
      /* Python keyword style: squared_num, not squared-num */
      name = g_strdelimit (g_strdup (pspecs[i]->name), "-", '_');
      g_string_append_printf (out, "%s%s=", first ? "" : ", ", name);
      append_repr (out, &value, depth + 1);
      first = FALSE;
    }
  g_string_append_c (out, ')');
}

static void
append_repr (GString      *out,
             const GValue *value,
             guint         depth)
{
  MpUnpacked u = mp_gvalue_unpack (value);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      g_string_append (out, "...");
      return;
    }

  switch (u.kind)
    {
    case MP_GVALUE_KIND_NONE:
      g_string_append (out, "None");
      return;
    case MP_GVALUE_KIND_BOOL:
      g_string_append (out, u.i ? "True" : "False");
      return;
    case MP_GVALUE_KIND_SIGNED:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, u.i);
      return;
    case MP_GVALUE_KIND_UNSIGNED:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, u.u);
      return;
    case MP_GVALUE_KIND_DOUBLE:
      append_double_repr (out, u.d);
      return;
    case MP_GVALUE_KIND_STRING:
      mp_repr_append_string (out, u.p);
      return;
    case MP_GVALUE_KIND_BYTES:
      {
        gsize size = 0;
        const char *data = g_bytes_get_data ((GBytes *) u.p, &size);

        g_string_append_c (out, 'b');
        append_quoted (out, data != NULL ? data : "", size, TRUE);
        return;
      }
    case MP_GVALUE_KIND_VARIANT:
      {
        g_autofree char *text = g_variant_print ((GVariant *) u.p, TRUE);

        g_string_append (out, text);
        return;
      }
    case MP_GVALUE_KIND_LIST:
      {
        GPtrArray *list = (GPtrArray *) u.p;

        g_string_append_c (out, '[');
        for (guint i = 0; i < list->len; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            append_repr (out, list->pdata[i], depth + 1);
          }
        g_string_append_c (out, ']');
        return;
      }
    case MP_GVALUE_KIND_STRV:
      {
        const char * const *strv = u.p;

        g_string_append_c (out, '[');
        for (gsize i = 0; strv[i] != NULL; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            mp_repr_append_string (out, strv[i]);
          }
        g_string_append_c (out, ']');
        return;
      }
    case MP_GVALUE_KIND_DICT:
      {
        GHashTable *dict = (GHashTable *) u.p;
        g_autofree const char **keys = NULL;
        guint n_keys = 0;

        /* sorted: a GHashTable has no insertion order to show */
        keys = (const char **) g_hash_table_get_keys_as_array (dict, &n_keys);
        qsort (keys, n_keys, sizeof (char *), mp_serialize_compare_strings);
        g_string_append_c (out, '{');
        for (guint i = 0; i < n_keys; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            mp_repr_append_string (out, keys[i]);
            g_string_append (out, ": ");
            append_repr (out, g_hash_table_lookup (dict, keys[i]), depth + 1);
          }
        g_string_append_c (out, '}');
        return;
      }
    case MP_GVALUE_KIND_OBJECT:
      append_object_repr (out, (GObject *) u.p, depth);
      return;
    case MP_GVALUE_KIND_OTHER:
    default:
      {
        g_autofree char *contents = g_strdup_value_contents (value);

        g_string_append_printf (out, "<%s %s>", G_VALUE_TYPE_NAME (value), contents);
        return;
      }
    }
}

/**
 * mp_gvalue_to_string:
 * @value: a #GValue, possibly unset (None)
 *
 * Formats @value as Python's repr() would: `None`, `True`, `42`, `1.5`,
 * `'text'`, `b'\x00'`, `[0, 1, 4]`, `{'a': 1}` (keys sorted), and
 * registered objects as `TypeName(prop=value, ...)` in property order.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.1
 */
char *
mp_gvalue_to_string (const GValue *value)
{
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_new (NULL);
  append_repr (out, value, 0);
  return g_string_free (out, FALSE);
}
