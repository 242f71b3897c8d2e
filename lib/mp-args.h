/* mp-args.h — MpArgs, the arguments of a task
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(MPSHARE_INSIDE) && !defined(MPSHARE_COMPILATION)
#error "Only <mpshare.h> can be included directly."
#endif

#include <glib-object.h>
#include "mp-visibility.h"

G_BEGIN_DECLS

/**
 * MpArgs:
 *
 * A reference-counted tuple of #GValues: the arguments of a task. Built
 * with mp_args_new() like g_object_new()'s varargs (a GType then a value,
 * ended by %G_TYPE_INVALID), or one value at a time with mp_args_add_*().
 *
 * Since: 0.1
 */
typedef struct _MpArgs MpArgs;

#define MP_TYPE_ARGS (mp_args_get_type ())
MP_AVAILABLE_IN_ALL
GType         mp_args_get_type     (void) G_GNUC_CONST;

MP_AVAILABLE_IN_ALL
MpArgs       *mp_args_new          (GType         first_type,
                                    ...);
MP_AVAILABLE_IN_ALL
MpArgs       *mp_args_ref          (MpArgs       *args);
MP_AVAILABLE_IN_ALL
void          mp_args_unref        (MpArgs       *args);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpArgs, mp_args_unref)

MP_AVAILABLE_IN_ALL
void          mp_args_add_value    (MpArgs       *args,
                                    const GValue *value);
MP_AVAILABLE_IN_ALL
void          mp_args_add_boolean  (MpArgs       *args,
                                    gboolean      v);
MP_AVAILABLE_IN_ALL
void          mp_args_add_int      (MpArgs       *args,
                                    gint64        v);
MP_AVAILABLE_IN_ALL
void          mp_args_add_double   (MpArgs       *args,
                                    double        v);
MP_AVAILABLE_IN_ALL
void          mp_args_add_string   (MpArgs       *args,
                                    const char   *v);
MP_AVAILABLE_IN_ALL
void          mp_args_add_object   (MpArgs       *args,
                                    gpointer      object);

MP_AVAILABLE_IN_ALL
guint         mp_args_get_length   (MpArgs       *args);
MP_AVAILABLE_IN_ALL
const GValue *mp_args_get_value    (MpArgs       *args,
                                    guint         index);
MP_AVAILABLE_IN_ALL
gboolean      mp_args_get_boolean  (MpArgs       *args,
                                    guint         index);
MP_AVAILABLE_IN_ALL
gint64        mp_args_get_int      (MpArgs       *args,
                                    guint         index);
MP_AVAILABLE_IN_ALL
double        mp_args_get_double   (MpArgs       *args,
                                    guint         index);
MP_AVAILABLE_IN_ALL
const char   *mp_args_get_string   (MpArgs       *args,
                                    guint         index);
MP_AVAILABLE_IN_ALL
gpointer      mp_args_get_object   (MpArgs       *args,
                                    guint         index);

MP_AVAILABLE_IN_ALL
GVariant     *mp_args_serialize    (MpArgs       *args,
                                    GError      **error);
MP_AVAILABLE_IN_ALL
MpArgs       *mp_args_deserialize  (GVariant     *wire,
                                    GError      **error);

G_END_DECLS
