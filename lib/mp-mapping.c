/* mp-mapping.c — anonymous shared memory that children inherit
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mp-mapping-private.h"

#define MP_MAPPING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static gboolean
map_fd (MpMapping  *mapping,
        int         fd,
        gsize       size,
        GError    **error)
{
  gpointer data = mmap (NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

  if (data == MAP_FAILED)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno,
                                      "mapping %" G_GSIZE_FORMAT " bytes of shared memory",
                                      size);
    }
  mapping->fd = fd;
  mapping->data = data;
  mapping->size = size;
  return TRUE;
}

/**
 * mp_mapping_create:
 * @mapping: an #MpMapping set to %MP_MAPPING_INIT
 * @debug_name: the name shown in /proc/PID/fd (not a path)
 * @size: bytes, > 0
 * @error: return location for a #GError
 *
 * Creates a zero-filled shared mapping of @size bytes backed by a memfd
 * whose size is sealed. The fd is close-on-exec: only the process layer
 * decides which fds a spawned child keeps.
 *
 * Returns: %TRUE on success.
 */
gboolean
mp_mapping_create (MpMapping  *mapping,
                   const char *debug_name,
                   gsize       size,
                   GError    **error)
{
  int fd;

  g_return_val_if_fail (mapping != NULL && mapping->fd == -1, FALSE);
  g_return_val_if_fail (debug_name != NULL, FALSE);
  g_return_val_if_fail (size > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  fd = memfd_create (debug_name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno,
                                      "creating shared memory for %s", debug_name);
    }
  if (ftruncate (fd, (off_t) size) < 0 ||
      fcntl (fd, F_ADD_SEALS, MP_MAPPING_SEALS) < 0)
    {
      int saved_errno = errno;
      close (fd);
      return mp_set_error_from_errno (error, saved_errno,
                                      "sizing shared memory for %s to %" G_GSIZE_FORMAT " bytes",
                                      debug_name, size);
    }
  if (!map_fd (mapping, fd, size, error))
    {
      close (fd);
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_mapping_attach:
 * @mapping: an #MpMapping set to %MP_MAPPING_INIT
 * @inherited_fd: an fd number received from another process
 * @expected_size: the size the object's state says it must have
 * @error: return location for a #GError
 *
 * Maps the memfd @inherited_fd, which came from serialized (so untrusted)
 * state: it must be open, sealed against resizing and exactly
 * @expected_size bytes long. The mapping keeps its own duplicate of the
 * fd, so the same inherited fd can be attached several times.
 *
 * Returns: %TRUE on success.
 */
gboolean
mp_mapping_attach (MpMapping  *mapping,
                   int         inherited_fd,
                   gsize       expected_size,
                   GError    **error)
{
  struct stat st;
  int seals;
  int fd;

  g_return_val_if_fail (mapping != NULL && mapping->fd == -1, FALSE);
  g_return_val_if_fail (expected_size > 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (inherited_fd < 0)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Shared memory fd %d is not a valid descriptor", inherited_fd);
      return FALSE;
    }
  fd = fcntl (inherited_fd, F_DUPFD_CLOEXEC, 3);
  if (fd < 0)
    {
      int saved_errno = errno;
      return mp_set_error_from_errno (error, saved_errno,
                                      "opening inherited shared memory fd %d (was it kept open across exec?)",
                                      inherited_fd);
    }

  seals = fcntl (fd, F_GET_SEALS);
  if (fstat (fd, &st) < 0 || seals < 0 ||
      (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW) ||
      st.st_size < 0 || (guint64) st.st_size != (guint64) expected_size)
    {
      close (fd);
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Inherited fd %d is not the sealed %" G_GSIZE_FORMAT "-byte shared memory its state describes",
                    inherited_fd, expected_size);
      return FALSE;
    }
  if (!map_fd (mapping, fd, expected_size, error))
    {
      close (fd);
      return FALSE;
    }
  return TRUE;
}

/**
 * mp_mapping_clear:
 * @mapping: an #MpMapping
 *
 * Unmaps and closes; the memory lives on while any process still maps it
 * or holds the fd. Safe on a cleared mapping.
 */
void
mp_mapping_clear (MpMapping *mapping)
{
  g_return_if_fail (mapping != NULL);

  if (mapping->data != NULL)
    munmap (mapping->data, mapping->size);
  if (mapping->fd >= 0)
    close (mapping->fd);
  mapping->fd = -1;
  mapping->data = NULL;
  mapping->size = 0;
}
