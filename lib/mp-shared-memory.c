/* mp-shared-memory.c — named shared memory, attached by name
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpshare.h"
#include "mp-resource-tracker-private.h"

/* "/" + name must fit NAME_MAX (255) */
#define MP_SHM_NAME_MAX MP_RESOURCE_NAME_MAX
#define MP_SHM_GENERATED_ATTEMPTS 100

struct _MpSharedMemory
{
  GObject   parent_instance;

  char     *name;          /* without the leading '/' */
  gpointer  data;          /* NULL once closed */
  gsize     size;
  GPid      creator_pid;   /* 0 when attached; only this process unlinks */
  gboolean  unlinked;
};

G_DEFINE_FINAL_TYPE (MpSharedMemory, mp_shared_memory, G_TYPE_OBJECT)

static gboolean
check_name (const char  *name,
            GError     **error)
{
  const char *why = NULL;

  if (*name == '\0')
    why = "it is empty";
  else if (strchr (name, '/') != NULL)
    why = "it contains '/' (give the bare name, without /dev/shm/)";
  else if (strcmp (name, ".") == 0 || strcmp (name, "..") == 0)
    why = "'.' and '..' are not names";
  else if (strlen (name) > MP_SHM_NAME_MAX)
    why = "it is longer than 254 bytes";
  if (why == NULL)
    return TRUE;

  mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                "\"%s\" cannot name shared memory: %s", name, why);
  return FALSE;
}

/* Names are checked before they get here; a stack path keeps errno
 * untouched by any free(). */
static int
open_named (const char *name,
            int         flags)
{
  char path[MP_SHM_NAME_MAX + 2];

  g_snprintf (path, sizeof path, "/%s", name);
  return shm_open (path, flags | O_CLOEXEC, 0600);
}

static gboolean
unlink_named (const char *name)
{
  char path[MP_SHM_NAME_MAX + 2];

  g_snprintf (path, sizeof path, "/%s", name);
  return shm_unlink (path) == 0;
}

static void
mp_shared_memory_dispose (GObject *object)
{
  MpSharedMemory *self = MP_SHARED_MEMORY (object);

  /* A forked child holds a copy of the creator's object: only the
   * creating process itself may unlink. */
  if (self->creator_pid == getpid () && !self->unlinked)
    {
      gboolean unlinked = unlink_named (self->name);
      int saved_errno = errno;

      /* after the unlink: a death in between must not leak it */
      mp_resource_tracker_unregister (self->name);
      if (!unlinked)
        {
          /* ENOENT: another process unlinked it already, nothing to do */
          if (saved_errno != ENOENT)
            g_warning ("Could not unlink shared memory \"%s\": %s", self->name,
                       g_strerror (saved_errno));
        }
      self->unlinked = TRUE;
    }
  mp_shared_memory_close (self);

  G_OBJECT_CLASS (mp_shared_memory_parent_class)->dispose (object);
}

static void
mp_shared_memory_finalize (GObject *object)
{
  MpSharedMemory *self = MP_SHARED_MEMORY (object);

  g_free (self->name);

  G_OBJECT_CLASS (mp_shared_memory_parent_class)->finalize (object);
}

static void
mp_shared_memory_class_init (MpSharedMemoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mp_shared_memory_dispose;
  object_class->finalize = mp_shared_memory_finalize;
}

static void
mp_shared_memory_init (MpSharedMemory *self)
{
}

/* Maps @fd whole and closes it: the mapping keeps the memory alive. */
static gboolean
map_and_close (MpSharedMemory *self,
               int             fd,
               GError        **error)
{
  struct stat st;
  gpointer data;
  int saved_errno;

  if (fstat (fd, &st) < 0)
    {
      saved_errno = errno;
      close (fd);
      return mp_set_error_from_errno (error, saved_errno,
                                      "reading the size of shared memory \"%s\"", self->name);
    }
  if (st.st_size <= 0)
    {
      close (fd);
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Shared memory \"%s\" has size 0: its creator has not sized it",
                    self->name);
      return FALSE;
    }
  data = mmap (NULL, (gsize) st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  saved_errno = errno;
  close (fd);
  if (data == MAP_FAILED)
    return mp_set_error_from_errno (error, saved_errno,
                                    "mapping shared memory \"%s\"", self->name);
  self->data = data;
  self->size = (gsize) st.st_size;
  return TRUE;
}

/**
 * mp_shared_memory_create:
 * @name: (nullable): the name (no '/'), or %NULL for a fresh "mp-XXXXXXXX"
 * @size: bytes, > 0
 * @error: return location for a #GError
 *
 * Creates a new zero-filled block of named shared memory. The name must
 * not exist yet. The calling process becomes the creator, which unlinks
 * the name when the object is disposed if mp_shared_memory_unlink() was
 * not called before.
 * Should the creator end first (killed, say), its resource tracker
 * unlinks the name (see mp_resource_tracker_get_pid()).
 *
 * Returns: (transfer full) (nullable): the block, or %NULL with @error set:
 *   %MP_ERROR_INVALID_ARGUMENT for a bad name or size 0, %MP_ERROR_FAILED
 *   when the name exists, the system refuses or no resource tracker can
 *   be started.
 *
 * Since: 0.1
 */
MpSharedMemory *
mp_shared_memory_create (const char  *name,
                         gsize        size,
                         GError     **error)
{
  g_autoptr(MpSharedMemory) self = NULL;
  int saved_errno;
  int fd = -1;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (name != NULL && !check_name (name, error))
    return NULL;
  if (size == 0 || size > (gsize) G_MAXINT64)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "Shared memory needs a size above zero (and below 2^63), not %" G_GSIZE_FORMAT,
                    size);
      return NULL;
    }

  self = g_object_new (MP_TYPE_SHARED_MEMORY, NULL);
  if (name != NULL)
    {
      self->name = g_strdup (name);
      fd = open_named (name, O_RDWR | O_CREAT | O_EXCL);
    }
  else
    {
      /* a clash with someone else's random name only means: draw again */
      for (int i = 0; i < MP_SHM_GENERATED_ATTEMPTS && fd < 0; i++)
        {
          g_free (self->name);
          self->name = g_strdup_printf ("mp-%08x", g_random_int ());
          fd = open_named (self->name, O_RDWR | O_CREAT | O_EXCL);
          if (fd < 0 && errno != EEXIST)
            break;
        }
    }
  if (fd < 0)
    {
      saved_errno = errno;
      if (saved_errno == EEXIST)
        mp_set_error (error, MP_ERROR_FAILED,
                      "Shared memory \"%s\" already exists (Python: FileExistsError): "
                      "attach to it, or create with another name", self->name);
      else
        mp_set_error_from_errno (error, saved_errno, "creating shared memory \"%s\"",
                                 self->name);
      return NULL;
    }
  /* from here on the name is ours: dispose unlinks it on any failure */
  self->creator_pid = getpid ();
  /* and should this process die before, its tracker does */
  if (!mp_resource_tracker_register (self->name, error))
    {
      close (fd);
      g_prefix_error (error, "creating shared memory \"%s\": ", self->name);
      return NULL;
    }

  if (ftruncate (fd, (off_t) size) < 0)
    {
      saved_errno = errno;
      close (fd);
      mp_set_error_from_errno (error, saved_errno,
                               "sizing shared memory \"%s\" to %" G_GSIZE_FORMAT " bytes",
                               self->name, size);
      return NULL;
    }
  if (!map_and_close (self, fd, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_shared_memory_attach:
 * @name: the name a creator gave (no '/')
 * @error: return location for a #GError
 *
 * Attaches to existing named shared memory. The size is the block's.
 *
 * Returns: (transfer full) (nullable): the block, or %NULL with @error set:
 *   %MP_ERROR_INVALID_ARGUMENT for a bad name, %MP_ERROR_FAILED when no
 *   such block exists.
 *
 * Since: 0.1
 */
MpSharedMemory *
mp_shared_memory_attach (const char  *name,
                         GError     **error)
{
  g_autoptr(MpSharedMemory) self = NULL;
  int fd;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_name (name, error))
    return NULL;

  self = g_object_new (MP_TYPE_SHARED_MEMORY, NULL);
  self->name = g_strdup (name);
  fd = open_named (name, O_RDWR);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ENOENT)
        mp_set_error (error, MP_ERROR_FAILED,
                      "No shared memory named \"%s\" exists (Python: FileNotFoundError): "
                      "it was never created, or its creator already unlinked it",
                      name);
      else
        mp_set_error_from_errno (error, saved_errno, "attaching to shared memory \"%s\"",
                                 name);
      return NULL;
    }
  if (!map_and_close (self, fd, error))
    return NULL;
  return g_steal_pointer (&self);
}

/**
 * mp_shared_memory_get_name:
 * @self: an #MpSharedMemory
 *
 * Returns: the name, without a leading '/': what mp_shared_memory_attach()
 *   takes.
 *
 * Since: 0.1
 */
const char *
mp_shared_memory_get_name (MpSharedMemory *self)
{
  g_return_val_if_fail (MP_IS_SHARED_MEMORY (self), NULL);

  return self->name;
}

/**
 * mp_shared_memory_get_size:
 * @self: an #MpSharedMemory
 *
 * Returns: the size in bytes (kept after close).
 *
 * Since: 0.1
 */
gsize
mp_shared_memory_get_size (MpSharedMemory *self)
{
  g_return_val_if_fail (MP_IS_SHARED_MEMORY (self), 0);

  return self->size;
}

/**
 * mp_shared_memory_get_data:
 * @self: an #MpSharedMemory
 *
 * Returns: (nullable): the first byte of the block, mp_shared_memory_get_size()
 *   bytes long; %NULL once closed.
 *
 * Since: 0.1
 */
gpointer
mp_shared_memory_get_data (MpSharedMemory *self)
{
  g_return_val_if_fail (MP_IS_SHARED_MEMORY (self), NULL);

  return self->data;
}

/**
 * mp_shared_memory_is_creator:
 * @self: an #MpSharedMemory
 *
 * Returns: whether this process created the block (and so unlinks it).
 *
 * Since: 0.1
 */
gboolean
mp_shared_memory_is_creator (MpSharedMemory *self)
{
  g_return_val_if_fail (MP_IS_SHARED_MEMORY (self), FALSE);

  return self->creator_pid == getpid ();
}

/**
 * mp_shared_memory_close:
 * @self: an #MpSharedMemory
 *
 * Unmaps the block from this process. Others keep theirs; the name stays
 * until unlinked. Closing twice is harmless.
 *
 * Since: 0.1
 */
void
mp_shared_memory_close (MpSharedMemory *self)
{
  g_return_if_fail (MP_IS_SHARED_MEMORY (self));

  if (self->data != NULL)
    munmap (self->data, self->size);
  self->data = NULL;
}

/**
 * mp_shared_memory_unlink:
 * @self: an #MpSharedMemory
 * @error: return location for a #GError
 *
 * Removes the name: nobody can attach any more, and the memory is freed
 * once every process has closed it. Normally the creator's job; any
 * process may do it, once.
 *
 * Returns: %TRUE; %FALSE with %MP_ERROR_FAILED when the name is gone.
 *
 * Since: 0.1
 */
gboolean
mp_shared_memory_unlink (MpSharedMemory *self,
                         GError        **error)
{
  gboolean unlinked;
  int saved_errno;

  g_return_val_if_fail (MP_IS_SHARED_MEMORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  unlinked = unlink_named (self->name);
  saved_errno = errno;
  /* either way the creator's tracker has nothing left to do for it */
  if (self->creator_pid == getpid () && !self->unlinked)
    mp_resource_tracker_unregister (self->name);
  if (!unlinked)
    {
      /* either way nobody can attach any more: do not try again */
      self->unlinked = TRUE;
      if (saved_errno == ENOENT)
        {
          mp_set_error (error, MP_ERROR_FAILED,
                        "Shared memory \"%s\" was already unlinked (Python: "
                        "FileNotFoundError): unlink once, in the creator",
                        self->name);
          return FALSE;
        }
      return mp_set_error_from_errno (error, saved_errno,
                                      "unlinking shared memory \"%s\"", self->name);
    }
  self->unlinked = TRUE;
  return TRUE;
}

/* ---- travelling by name ------------------------------------------------- */

/* The name is all a receiver needs, so this travels anywhere (pool task
 * arguments, manager calls): the receiver attaches, and never unlinks. */
static GVariant *
reduce_shared_memory (GObject   *object,
                      gpointer   user_data,
                      GError   **error)
{
  return g_variant_new_string (MP_SHARED_MEMORY (object)->name);
}

static GObject *
rebuild_shared_memory (GVariant  *state,
                       gpointer   user_data,
                       GError   **error)
{
  if (!g_variant_is_of_type (state, G_VARIANT_TYPE_STRING))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "The state of an MpSharedMemory must be its name (s), not %s",
                    g_variant_get_type_string (state));
      return NULL;
    }
  return G_OBJECT (mp_shared_memory_attach (g_variant_get_string (state, NULL), error));
}

/* At load time, so that a spawned child knows the type before
 * mp_main_guard() decodes its arguments. */
MP_INITIALIZER (mp_shared_memory_register_reducer)

static void
mp_shared_memory_register_reducer (void)
{
  mp_serialize_register_reducer (MP_TYPE_SHARED_MEMORY, MP_TRANSFER_ALWAYS,
                                 reduce_shared_memory, rebuild_shared_memory, NULL);
}
