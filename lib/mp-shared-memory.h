/* mp-shared-memory.h — named shared memory, attached by name
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

/*
 * Python's multiprocessing.shared_memory.SharedMemory: a block of POSIX
 * shared memory (/dev/shm/NAME) that any process can attach to by name.
 * Because the name is all another process needs, an MpSharedMemory
 * serializes as its name anywhere, also as a pool task argument: the
 * receiver attaches by name. That makes it the fix of the
 * inheritance-only pitfall that needs no process start at all.
 *
 * The creator owns the name: it unlinks it (mp_shared_memory_unlink(), or
 * at the latest when its object is disposed), attachers never do. Unlike
 * Python, an attaching process never unlinks the block when it exits.
 */

/**
 * MpSharedMemory:
 *
 * A named block of shared memory that any process can attach to by
 * name (Python's `multiprocessing.shared_memory.SharedMemory`).
 *
 * Since: 0.1
 */
#define MP_TYPE_SHARED_MEMORY (mp_shared_memory_get_type ())
MP_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MpSharedMemory, mp_shared_memory, MP, SHARED_MEMORY, GObject)

MP_AVAILABLE_IN_ALL
MpSharedMemory *mp_shared_memory_create   (const char     *name,
                                           gsize           size,
                                           GError        **error);
MP_AVAILABLE_IN_ALL
MpSharedMemory *mp_shared_memory_attach   (const char     *name,
                                           GError        **error);

MP_AVAILABLE_IN_ALL
const char     *mp_shared_memory_get_name (MpSharedMemory *self);
MP_AVAILABLE_IN_ALL
gsize           mp_shared_memory_get_size (MpSharedMemory *self);
MP_AVAILABLE_IN_ALL
gpointer        mp_shared_memory_get_data (MpSharedMemory *self);
MP_AVAILABLE_IN_ALL
gboolean        mp_shared_memory_is_creator (MpSharedMemory *self);

MP_AVAILABLE_IN_ALL
void            mp_shared_memory_close    (MpSharedMemory *self);
MP_AVAILABLE_IN_ALL
gboolean        mp_shared_memory_unlink   (MpSharedMemory *self,
                                           GError        **error);

G_END_DECLS
