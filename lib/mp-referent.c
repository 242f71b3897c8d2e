/* mp-referent.c — the objects that live in a manager's server
 *
 * Python calls the object behind a proxy its "referent". These are the
 * server-side implementations of the 13 types of Python's SyncManager
 * (list, dict, Namespace, Value, Array, Lock, RLock, Semaphore,
 * BoundedSemaphore, Condition, Event, Barrier, Queue) plus the adaptor for
 * custom types registered with mp_manager_register_type().
 *
 * Built-in objects keep values in their wire form, so storing, comparing
 * and returning never instantiates a custom type in the server. Each
 * object has its own mutex; a call that blocks (Lock.acquire, Queue.get,
 * Event.wait, Barrier.wait, Condition.wait) waits with mp_call_wait(),
 * which lets go of the mutex and also returns when the server shuts down
 * or the calling client goes away, so a dead client never takes a queue
 * item or a lock with it.
 *
 * The types live by family: mp-referent-containers.c (list, dict,
 * Namespace), mp-referent-values.c (Value, Array), mp-referent-sync.c
 * (Lock, RLock, Semaphore, BoundedSemaphore, Condition, Event, Barrier)
 * and mp-referent-queue.c (Queue). This file holds what they share: the
 * object, its classes, how a call reaches a method, reading a call's
 * arguments and storing values, and the custom types.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mp-referent-private.h"

/* ------------------------------------------------------------------ */
/* arguments                                                           */
/* ------------------------------------------------------------------ */

gboolean
mp_referent_args_count (MpArgv     *args,
            const char *what,
            gsize       min,
            gsize       max,
            GError    **error)
{
  gsize n = mp_argv_len (args);

  if (n < min || n > max)
    {
      if (min == max)
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s takes %" G_GSIZE_FORMAT " argument%s (%" G_GSIZE_FORMAT " given) (Python: TypeError)",
                      what, min, min == 1 ? "" : "s", n);
      else
        mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                      "%s takes %" G_GSIZE_FORMAT " to %" G_GSIZE_FORMAT " arguments (%" G_GSIZE_FORMAT " given) (Python: TypeError)",
                      what, min, max, n);
      return FALSE;
    }
  return TRUE;
}

/* the @i-th argument as a "v" wire value (new reference) */
GVariant *
mp_referent_arg_wire (MpArgv   *args,
          gsize     i)
{
  return mp_argv_dup (args, i);
}

gboolean
mp_referent_arg_present (MpArgv   *args,
             gsize     i)
{
  g_autoptr(GVariant) wire = NULL;

  if (i >= mp_argv_len (args))
    return FALSE;
  wire = mp_referent_arg_wire (args, i);
  return !mp_wire_is_none (wire);
}

gboolean
mp_referent_arg_int (MpArgv     *args,
         gsize       i,
         const char *what,
         gint64     *out,
         GError    **error)
{
  g_autoptr(GVariant) wire = mp_referent_arg_wire (args, i);

  if (!mp_wire_get_int (wire, out))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be an integer (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  return TRUE;
}

/* optional integer: None or missing gives @fallback */
gboolean
mp_referent_arg_int_or (MpArgv     *args,
            gsize       i,
            gint64      fallback,
            const char *what,
            gint64     *out,
            GError    **error)
{
  if (!mp_referent_arg_present (args, i))
    {
      *out = fallback;
      return TRUE;
    }
  return mp_referent_arg_int (args, i, what, out, error);
}

gboolean
mp_referent_arg_bool_or (MpArgv     *args,
             gsize       i,
             gboolean    fallback,
             const char *what,
             gboolean   *out,
             GError    **error)
{
  g_autoptr(GVariant) wire = NULL;

  if (!mp_referent_arg_present (args, i))
    {
      *out = fallback;
      return TRUE;
    }
  wire = mp_referent_arg_wire (args, i);
  if (!mp_wire_get_bool (wire, out))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be a boolean (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  return TRUE;
}

/* a timeout in microseconds; None, missing or negative wait for ever */
gboolean
mp_referent_arg_deadline (MpArgv     *args,
              gsize       i,
              const char *what,
              gint64     *deadline,
              GError    **error)
{
  gint64 timeout_us;

  if (!mp_referent_arg_int_or (args, i, -1, what, &timeout_us, error))
    return FALSE;
  *deadline = mp_deadline_from_timeout (timeout_us);
  return TRUE;
}

gboolean
mp_referent_arg_string (MpArgv     *args,
            gsize       i,
            const char *what,
            char      **out,
            GError    **error)
{
  g_autoptr(GVariant) wire = mp_referent_arg_wire (args, i);
  const char *text = mp_wire_peek_string (wire);

  if (text == NULL)
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s: argument %" G_GSIZE_FORMAT " must be a string (Python: TypeError)",
                    what, i + 1);
      return FALSE;
    }
  *out = g_strdup (text);
  return TRUE;
}

GVariant *
mp_referent_unboxed (GVariant *wire)
{
  return g_variant_get_variant (wire);
}

/* ------------------------------------------------------------------ */
/* values as objects store them (every family)                          */
/* ------------------------------------------------------------------ */

/* Takes a client's value for storage: checks its shape and keeps the
 * objects of proxies inside it alive while it is stored. */
GVariant *
mp_referent_store_arg (MpReferent *self,
           MpArgv     *args,
           gsize       i,
           GError    **error)
{
  g_autoptr(GVariant) wire = mp_referent_arg_wire (args, i);

  /* a plain value has the shape of a value and holds no proxy */
  if (!mp_argv_is_plain (args, i) && !mp_wire_is_plain (wire) &&
      (!mp_wire_check (wire, error) || !mp_server_retain_wire (self->server, wire, error)))
    return NULL;
  return g_steal_pointer (&wire);
}

gboolean
mp_referent_store_wire (MpReferent *self,
            GVariant   *wire,
            GError    **error)
{
  return mp_wire_check (wire, error) && mp_server_retain_wire (self->server, wire, error);
}

const char *
mp_referent_python_type_name (GVariant *inner)
{
  const char *type = g_variant_get_type_string (inner);

  if (strcmp (type, "b") == 0)
    return "bool";
  if (strcmp (type, "x") == 0 || strcmp (type, "t") == 0)
    return "int";
  if (strcmp (type, "d") == 0)
    return "float";
  if (strcmp (type, "ms") == 0)
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (inner);
      return text != NULL ? "str" : "NoneType";
    }
  if (strcmp (type, "ay") == 0)
    return "bytes";
  if (strcmp (type, "av") == 0)
    return "list";
  if (strcmp (type, "a{sv}") == 0)
    return "dict";
  if (strcmp (type, "()") == 0)
    return "NoneType";
  return "object";
}

gboolean
mp_referent_normalize_index (gint64      *index,
                 gint64       len,
                 const char  *message,
                 GError     **error)
{
  if (*index < 0)
    *index += len;
  if (*index < 0 || *index >= len)
    {
      mp_set_error (error, MP_ERROR_INDEX, "%s", message);
      return FALSE;
    }
  return TRUE;
}

/* Python's slice bounds with step 1 */
void
mp_referent_adjust_slice (gint64  len,
              gint64 *start,
              gint64 *stop)
{
  if (*start < 0)
    *start = MAX (*start + len, 0);
  else if (*start > len)
    *start = len;
  if (*stop < 0)
    *stop = MAX (*stop + len, 0);
  else if (*stop > len)
    *stop = len;
  if (*stop < *start)
    *stop = *start;
}

GPtrArray *
mp_referent_wire_array_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
}

/* the elements of an "av" wire list as a new array of "v" wires */
gboolean
mp_referent_list_elements (GVariant   *wire,
               const char *what,
               GPtrArray **out,
               GError    **error)
{
  g_autoptr(GVariant) inner = mp_referent_unboxed (wire);
  g_autoptr(GPtrArray) items = NULL;
  gsize n;

  if (!g_variant_is_of_type (inner, G_VARIANT_TYPE ("av")))
    {
      mp_set_error (error, MP_ERROR_INVALID_ARGUMENT,
                    "%s needs a list, not %s (Python: TypeError)", what, mp_referent_python_type_name (inner));
      return FALSE;
    }
  n = g_variant_n_children (inner);
  items = mp_referent_wire_array_new ();
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (items, g_variant_get_child_value (inner, i));
  *out = g_steal_pointer (&items);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* registered custom types: a GObject made and kept in the server        */
/* ------------------------------------------------------------------ */

typedef struct {
  MpReferent  parent;
  GObject    *object;
} CustomReferent;

#define CUSTOM(r) ((CustomReferent *) (r))

static gboolean
custom_init (MpReferent *self,
             MpCall     *call,
             MpArgv     *args,
             GError    **error)
{
  if (!mp_referent_args_count (args, self->klass->typeid, 0, 0, error))
    return FALSE;
  CUSTOM (self)->object = g_object_new (self->klass->gtype, NULL);
  return TRUE;
}

static void
custom_finalize (MpReferent *self)
{
  g_clear_object (&CUSTOM (self)->object);
}

/* a copy of the object, when its type can travel */
static GVariant *
custom_get_value (MpReferent *self,
                  GError    **error)
{
  g_auto(GValue) value = G_VALUE_INIT;

  g_value_init (&value, self->klass->gtype);
  g_value_set_object (&value, CUSTOM (self)->object);
  return mp_serialize_value (&value, error);
}

static gboolean
custom_invoke (MpReferent     *self,
               const MpMethod *method,
               MpArgv         *args,
               GVariant      **result,
               GError        **error)
{
  g_autoptr(MpArgs) margs = NULL;
  g_autoptr(GVariant) args_av = mp_argv_to_variant (args, 0);
  g_auto(GValue) value = G_VALUE_INIT;

  /* the only place a server decodes a client's values: the method needs
   * live arguments, and decoding only ever builds registered types */
  margs = mp_args_deserialize (args_av, error);
  if (margs == NULL)
    return FALSE;
  if (!method->func (CUSTOM (self)->object, margs, &value, error))
    {
      if (error != NULL && *error == NULL)
        mp_set_error (error, MP_ERROR_FAILED, "%s.%s() failed without saying why",
                      self->klass->typeid, method->name);
      return FALSE;
    }
  *result = mp_serialize_value (&value, error);
  return *result != NULL;
}

static GMutex classes_lock;
static GHashTable *custom_classes;   /* typeid -> MpReferentClass* */

static const MpReferentClass * const builtin_classes[] = {
  &mp_referent_list_class,
  &mp_referent_dict_class,
  &mp_referent_namespace_class,
  &mp_referent_value_class,
  &mp_referent_array_class,
  &mp_referent_lock_class,
  &mp_referent_rlock_class,
  &mp_referent_semaphore_class,
  &mp_referent_bounded_semaphore_class,
  &mp_referent_condition_class,
  &mp_referent_event_class,
  &mp_referent_barrier_class,
  &mp_referent_queue_class,
};

/**
 * mp_referent_class_lookup:
 * @typeid: a type id, e.g. "list" or a registered custom type's
 *
 * Returns: (nullable): the class, or %NULL when @typeid is unknown.
 */
const MpReferentClass *
mp_referent_class_lookup (const char *typeid)
{
  const MpReferentClass *klass = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (builtin_classes); i++)
    if (strcmp (builtin_classes[i]->typeid, typeid) == 0)
      return builtin_classes[i];
  g_mutex_lock (&classes_lock);
  if (custom_classes != NULL)
    klass = g_hash_table_lookup (custom_classes, typeid);
  g_mutex_unlock (&classes_lock);
  return klass;
}

void
mp_referent_register_custom (const char     *typeid,
                             GType           type,
                             const MpMethod *methods)
{
  MpReferentClass *klass;
  gsize n = 0;

  while (methods != NULL && methods[n].name != NULL)
    n++;

  klass = g_new0 (MpReferentClass, 1);
  klass->typeid = g_strdup (typeid);
  klass->instance_size = sizeof (CustomReferent);
  klass->init = custom_init;
  klass->finalize = custom_finalize;
  klass->get_value = custom_get_value;
  klass->gtype = type;
  klass->custom_methods = g_new0 (MpMethod, n + 1);
  for (gsize i = 0; i < n; i++)
    {
      klass->custom_methods[i].name = g_strdup (methods[i].name);
      klass->custom_methods[i].func = methods[i].func;
    }

  g_mutex_lock (&classes_lock);
  if (custom_classes == NULL)
    custom_classes = g_hash_table_new (g_str_hash, g_str_equal);
  /* classes live as long as the program, like GTypes */
  g_hash_table_replace (custom_classes, (gpointer) klass->typeid, klass);
  g_mutex_unlock (&classes_lock);
}

/**
 * mp_referent_class_exposed:
 * @klass: a class
 *
 * Returns: (transfer full): its exposed methods, e.g. "'append', 'pop'"
 */
char *
mp_referent_class_exposed (const MpReferentClass *klass)
{
  GString *names = g_string_new (NULL);

  if (klass->custom_methods != NULL)
    for (const MpMethod *m = klass->custom_methods; m->name != NULL; m++)
      g_string_append_printf (names, "%s'%s'", names->len > 0 ? ", " : "", m->name);
  if (klass->methods != NULL)
    for (const MpReferentMethod *m = klass->methods; m->name != NULL; m++)
      g_string_append_printf (names, "%s'%s'", names->len > 0 ? ", " : "", m->name);
  return g_string_free (names, FALSE);
}

/* ------------------------------------------------------------------ */
/* the object                                                           */
/* ------------------------------------------------------------------ */

/**
 * mp_referent_new:
 * @klass: what to make
 * @server: the server it lives in
 * @call: the "create" call
 * @args: the constructor's arguments ("av")
 * @error: return location for a #GError
 *
 * Returns: (transfer full): a new object, or %NULL with @error set.
 */
MpReferent *
mp_referent_new (const MpReferentClass *klass,
                 MpServer              *server,
                 MpCall                *call,
                 MpArgv                *args,
                 GError               **error)
{
  MpReferent *self = g_malloc0 (klass->instance_size);

  self->klass = klass;
  self->server = server;
  g_mutex_init (&self->mutex);
  g_atomic_ref_count_init (&self->ref_count);
  if (!klass->init (self, call, args, error))
    {
      mp_referent_unref (self);
      return NULL;
    }
  return self;
}

MpReferent *
mp_referent_ref (MpReferent *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/* The last unref must come with no object mutex held: finalizing may
 * release tokens and so free other objects. */
void
mp_referent_unref (MpReferent *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  if (self->klass->finalize != NULL)
    self->klass->finalize (self);
  g_mutex_clear (&self->mutex);
  g_free (self);
}

/**
 * mp_referent_invoke:
 * @self: an object
 * @call: the call
 * @method: the method's name, checked against the exposed ones
 * @args: the arguments ("av", untrusted)
 * @result: (out) (transfer full): the result as a "v" wire, or %NULL for None
 * @error: return location for a #GError
 *
 * Returns: %TRUE, or %FALSE with @error set (%MP_ERROR_NOT_EXPOSED for a
 *   method the type does not expose, naming the ones it does).
 */
gboolean
mp_referent_invoke (MpReferent  *self,
                    MpCall      *call,
                    const char  *method,
                    MpArgv      *args,
                    GVariant   **result,
                    GError     **error)
{
  const MpReferentClass *klass = self->klass;
  gboolean ok;

  *result = NULL;
  if (strcmp (method, MP_GETVALUE_METHOD) == 0 && klass->get_value != NULL)
    {
      g_mutex_lock (&self->mutex);
      *result = klass->get_value (self, error);
      g_mutex_unlock (&self->mutex);
      if (*result != NULL)
        g_variant_take_ref (*result);
      return *result != NULL;
    }

  if (klass->custom_methods != NULL)
    for (const MpMethod *m = klass->custom_methods; m->name != NULL; m++)
      if (strcmp (m->name, method) == 0)
        {
          /* one call at a time: custom objects need not be thread-safe */
          g_mutex_lock (&self->mutex);
          ok = custom_invoke (self, m, args, result, error);
          g_mutex_unlock (&self->mutex);
          return ok;
        }

  if (klass->methods != NULL)
    for (const MpReferentMethod *m = klass->methods; m->name != NULL; m++)
      if (strcmp (m->name, method) == 0)
        {
          g_mutex_lock (&self->mutex);
          ok = m->func (self, call, args, result, error);
          g_mutex_unlock (&self->mutex);
          if (!ok)
            g_clear_pointer (result, g_variant_unref);
          else if (*result != NULL)
            g_variant_take_ref (*result);
          return ok;
        }

  {
    g_autofree char *exposed = mp_referent_class_exposed (klass);

    mp_set_error (error, MP_ERROR_NOT_EXPOSED,
                  "method '%s' of '%s' object is not exposed; exposed: %s (Python: \"method %s of %s object is not in exposed=...\")",
                  method, klass->typeid, exposed, method, klass->typeid);
  }
  return FALSE;
}

void
mp_referent_release_owner (MpReferent *self,
                           guint64     nonce)
{
  if (self->klass->release_owner != NULL)
    self->klass->release_owner (self, nonce);
}
