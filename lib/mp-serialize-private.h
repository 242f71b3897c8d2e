/* mp-serialize-private.h — the spawning context, set by the process layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* While a process is being started the starting thread holds a context:
 * inherit-only objects may then be serialized, and the fds they need are
 * collected here so the process layer keeps them open across exec. */
typedef struct {
  GArray *fds;      /* int: fds that must survive into the child */
} MpSpawningContext;

void mp_spawning_begin (MpSpawningContext *context);
void mp_spawning_end   (MpSpawningContext *context);

/* Plain values — a boolean "b", an integer "x" or "t", a double "d" — and
 * None "()" as "v" wires made straight from their bytes: what GLib would
 * serialize, for one allocation instead of two values and a serialization
 * later. @type is one of those type strings, @value its @size bytes in
 * host order (None: one zero byte). Returns: a floating "v". */
GVariant *mp_wire_new_plain       (const char    *type,
                                   const void    *value,
                                   gsize          size);
/* Room for the longest plain "v": 8 bytes of value, a NUL, the type */
#define MP_WIRE_PLAIN_MAX (8 + 1 + 2)

/* Writes @value (NULL or unset: None) as the bytes of a plain "v" wire
 * into @out (room for MP_WIRE_PLAIN_MAX); returns their count, or 0 when
 * @value is no plain value. */
gsize     mp_wire_plain_encode    (const GValue  *value,
                                   guint8        *out);
/* A floating "v" made from a copy of @data, the bytes of a plain value
 * (mp_wire_plain_encode(), mp_wire_bytes_are_plain()), trusted as they
 * are the normal form by construction or by that check */
GVariant *mp_wire_from_plain_bytes (const guint8 *data,
                                    gsize         size);
/* TRUE when @data is, byte for byte, the normal form of a "v" holding a
 * plain value or None (so it needs no further check) */
gboolean  mp_wire_bytes_are_plain (const guint8  *data,
                                   gsize          size);

G_END_DECLS
