/* mp-resource-tracker-private.h — what shared memory tells its tracker
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* The longest name a tracker takes (as NAME_MAX, without the '/'). */
#define MP_RESOURCE_NAME_MAX 254

gboolean  mp_resource_tracker_register   (const char  *name,
                                          GError     **error);
void      mp_resource_tracker_unregister (const char  *name);

G_END_DECLS
