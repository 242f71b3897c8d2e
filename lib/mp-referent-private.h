/* mp-referent-private.h — what the families of server-side objects share
 *
 * mp-referent.c holds the object and these helpers; each family of types
 * (mp-referent-containers.c, -values.c, -sync.c, -queue.c) defines its
 * classes, which the class table of mp-referent.c lists.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mp-manager-private.h"

G_BEGIN_DECLS

/* a call's arguments: each checks the count or the @i-th argument and
 * says what was wrong in Python's terms, naming @what */
gboolean    mp_referent_args_count     (MpArgv      *args,
                                        const char  *what,
                                        gsize        min,
                                        gsize        max,
                                        GError     **error);
GVariant   *mp_referent_arg_wire       (MpArgv      *args,
                                        gsize        i);
gboolean    mp_referent_arg_present    (MpArgv      *args,
                                        gsize        i);
gboolean    mp_referent_arg_int        (MpArgv      *args,
                                        gsize        i,
                                        const char  *what,
                                        gint64      *out,
                                        GError     **error);
gboolean    mp_referent_arg_int_or     (MpArgv      *args,
                                        gsize        i,
                                        gint64       fallback,
                                        const char  *what,
                                        gint64      *out,
                                        GError     **error);
gboolean    mp_referent_arg_bool_or    (MpArgv      *args,
                                        gsize        i,
                                        gboolean     fallback,
                                        const char  *what,
                                        gboolean    *out,
                                        GError     **error);
gboolean    mp_referent_arg_deadline   (MpArgv      *args,
                                        gsize        i,
                                        const char  *what,
                                        gint64      *deadline,
                                        GError     **error);
gboolean    mp_referent_arg_string     (MpArgv      *args,
                                        gsize        i,
                                        const char  *what,
                                        char       **out,
                                        GError     **error);

/* values as the objects store them: "v" wires */
GVariant   *mp_referent_unboxed        (GVariant    *wire);
const char *mp_referent_python_type_name (GVariant  *inner);
GVariant   *mp_referent_store_arg      (MpReferent  *self,
                                        MpArgv      *args,
                                        gsize        i,
                                        GError     **error);
gboolean    mp_referent_store_wire     (MpReferent  *self,
                                        GVariant    *wire,
                                        GError     **error);
gboolean    mp_referent_normalize_index (gint64     *index,
                                         gint64      len,
                                         const char *message,
                                         GError    **error);
void        mp_referent_adjust_slice   (gint64       len,
                                        gint64      *start,
                                        gint64      *stop);
GPtrArray  *mp_referent_wire_array_new (void);
gboolean    mp_referent_list_elements  (GVariant    *wire,
                                        const char  *what,
                                        GPtrArray  **out,
                                        GError     **error);

/* the built-in classes, by family */
extern const MpReferentClass mp_referent_list_class;
extern const MpReferentClass mp_referent_dict_class;
extern const MpReferentClass mp_referent_namespace_class;
extern const MpReferentClass mp_referent_value_class;
extern const MpReferentClass mp_referent_array_class;
extern const MpReferentClass mp_referent_lock_class;
extern const MpReferentClass mp_referent_rlock_class;
extern const MpReferentClass mp_referent_semaphore_class;
extern const MpReferentClass mp_referent_bounded_semaphore_class;
extern const MpReferentClass mp_referent_condition_class;
extern const MpReferentClass mp_referent_event_class;
extern const MpReferentClass mp_referent_barrier_class;
extern const MpReferentClass mp_referent_queue_class;

G_END_DECLS
