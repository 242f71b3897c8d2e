/* mp-spawning.c — the spawning context: while a process is being
 * started, inherit-only objects may be serialized and the fds they
 * need are kept open for the child (CPython's
 * context.get_spawning_popen())
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "mpshare.h"
#include "mp-serialize-private.h"

/* A short stack, so a nested begin/end pair does not lose the outer
 * context; deeper nesting is counted but only the first levels kept. */
#define SPAWNING_STACK_MAX 8
static _Thread_local MpSpawningContext *spawning_stack[SPAWNING_STACK_MAX];
static _Thread_local guint spawning_depth;

static MpSpawningContext *
spawning_current (void)
{
  if (spawning_depth == 0)
    return NULL;
  return spawning_stack[MIN (spawning_depth, SPAWNING_STACK_MAX) - 1];
}

/**
 * mp_spawning_begin:
 * @context: a context owned by the caller; its @fds may be %NULL and is
 *   then created on the first mp_spawning_keep_fd()
 *
 * Marks the calling thread as starting a process until mp_spawning_end():
 * inherit-only objects may be serialized meanwhile.
 */
void
mp_spawning_begin (MpSpawningContext *context)
{
  g_return_if_fail (context != NULL);

  if (spawning_depth < SPAWNING_STACK_MAX)
    spawning_stack[spawning_depth] = context;
  else
    g_warning ("%s: spawning contexts nested deeper than %d", G_STRFUNC, SPAWNING_STACK_MAX);
  spawning_depth++;
}

/**
 * mp_spawning_end:
 * @context: the context given to the matching mp_spawning_begin()
 *
 * Ends the spawning context. The caller keeps and frees @context->fds.
 */
void
mp_spawning_end (MpSpawningContext *context)
{
  g_return_if_fail (context != NULL);
  g_return_if_fail (spawning_depth > 0);

  spawning_depth--;
  if (spawning_depth < SPAWNING_STACK_MAX)
    {
      if (spawning_stack[spawning_depth] != context)
        g_warning ("%s: contexts ended in a different order than begun", G_STRFUNC);
      spawning_stack[spawning_depth] = NULL;
    }
}

/**
 * mp_spawning_is_active:
 *
 * Returns: %TRUE while the calling thread is starting a process (between
 *   mp_spawning_begin() and mp_spawning_end()).
 *
 * Since: 0.1
 */
gboolean
mp_spawning_is_active (void)
{
  return spawning_depth > 0;
}

/**
 * mp_spawning_keep_fd:
 * @fd: a file descriptor the child process needs
 * @error: return location for a #GError
 *
 * Asks the process being started to keep @fd open in the child (a reducer
 * of an inherit-only object calls this). Adding the same fd twice is fine.
 *
 * Returns: %TRUE, or %FALSE with %MP_ERROR_INHERITANCE_ONLY when no
 *   process is being started.
 *
 * Since: 0.1
 */
gboolean
mp_spawning_keep_fd (int      fd,
                     GError **error)
{
  MpSpawningContext *context;

  g_return_val_if_fail (fd >= 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  context = spawning_current ();
  if (context == NULL)
    {
      mp_set_error (error, MP_ERROR_INHERITANCE_ONLY,
                    "file descriptor %d can only be handed to a child while a process is being started",
                    fd);
      return FALSE;
    }
  if (context->fds == NULL)
    context->fds = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < context->fds->len; i++)
    if (g_array_index (context->fds, int, i) == fd)
      return TRUE;
  g_array_append_val (context->fds, fd);
  return TRUE;
}
