/* mp-gvalue.h — GValue helpers: boxed lists and dicts of values, values on the
 * heap, and Python's == and repr() on them
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

/* value containers */
#define MP_TYPE_GVALUE_LIST (mp_gvalue_list_get_type ())
#define MP_TYPE_GVALUE_DICT (mp_gvalue_dict_get_type ())
MP_AVAILABLE_IN_ALL
GType       mp_gvalue_list_get_type (void) G_GNUC_CONST;
MP_AVAILABLE_IN_ALL
GType       mp_gvalue_dict_get_type (void) G_GNUC_CONST;

MP_AVAILABLE_IN_ALL
GValue     *mp_gvalue_new           (GType         type);
MP_AVAILABLE_IN_ALL
GValue     *mp_gvalue_copy          (const GValue *value);
MP_AVAILABLE_IN_ALL
void        mp_gvalue_free          (GValue       *value);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GValue, mp_gvalue_free)

MP_AVAILABLE_IN_ALL
GPtrArray  *mp_gvalue_list_new      (void);
MP_AVAILABLE_IN_ALL
GHashTable *mp_gvalue_dict_new      (void);

MP_AVAILABLE_IN_ALL
gboolean    mp_gvalue_equal         (const GValue *a,
                                    const GValue *b);
MP_AVAILABLE_IN_ALL
char       *mp_gvalue_to_string     (const GValue *value);

G_END_DECLS
