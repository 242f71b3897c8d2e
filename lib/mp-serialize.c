/* mp-serialize.c — what may cross a process boundary (mpshare's "pickle")
 *
 * The counterpart of CPython's reduction.py + pickle: live GValues become
 * GVariants (the wire form is documented in mp-serialize.h) and back.
 * Decoding treats its input as hostile: it checks normal form, types and
 * nesting depth, and instantiates only types registered in this process.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <gio/gfiledescriptorbased.h>
#include <gio/gunixfdlist.h>
#include <gobject/gvaluecollector.h>

#include "mpshare.h"
#include "mp-serialize-private.h"
#include "mp-trace-private.h"

/* Bound on the GVariant nesting of one value. GLib refuses more than 128
 * levels in untrusted data; staying at 64 leaves room for the envelopes
 * (frames, manager requests) that carry our values, and stops reference
 * cycles between objects. */
#define MP_SERIALIZE_MAX_DEPTH 64

/* how many GVariant levels lie between a container and its elements */
#define LIST_CHILD_DEPTH   2   /* av -> v -> value */
#define DICT_CHILD_DEPTH   3   /* a{sv} -> {sv} -> v -> value */
#define OBJECT_CHILD_DEPTH 5   /* (sv) -> v -> a{sv} -> {sv} -> v -> value */

#define WIRE_NONE    "()"
#define WIRE_OBJECT  "(sv)"
#define WIRE_LIST    "av"
#define WIRE_DICT    "a{sv}"
#define WIRE_VARIANT "(v)"

/* ------------------------------------------------------------------ */
/* value containers                                                    */

/**
 * mp_gvalue_list_get_type:
 *
 * The boxed type of a list of values: a #GPtrArray of `GValue *` whose
 * free function is mp_gvalue_free(). Copying the boxed value takes a
 * reference; it does not copy the elements.
 *
 * Returns: the #GType
 *
 * Since: 0.1
 */
GType
mp_gvalue_list_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpGValueList"),
                                                 (GBoxedCopyFunc) g_ptr_array_ref,
                                                 (GBoxedFreeFunc) g_ptr_array_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/**
 * mp_gvalue_dict_get_type:
 *
 * The boxed type of a string-keyed dict of values: a #GHashTable of
 * `char *` to `GValue *` (see mp_gvalue_dict_new()). Copying the boxed
 * value takes a reference.
 *
 * Returns: the #GType
 *
 * Since: 0.1
 */
GType
mp_gvalue_dict_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpGValueDict"),
                                                 (GBoxedCopyFunc) g_hash_table_ref,
                                                 (GBoxedFreeFunc) g_hash_table_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/**
 * mp_gvalue_new:
 * @type: a value type, or %G_TYPE_INVALID for None
 *
 * Returns: (transfer full): a newly allocated #GValue initialised to @type
 *   (left unset for %G_TYPE_INVALID); free with mp_gvalue_free().
 *
 * Since: 0.1
 */
GValue *
mp_gvalue_new (GType type)
{
  GValue *value;

  g_return_val_if_fail (type == G_TYPE_INVALID || G_TYPE_IS_VALUE_TYPE (type), NULL);

  value = g_new0 (GValue, 1);
  if (type != G_TYPE_INVALID)
    g_value_init (value, type);
  return value;
}

/**
 * mp_gvalue_copy:
 * @value: a #GValue, possibly unset (None)
 *
 * Copies @value with g_value_copy(): strings are duplicated, objects and
 * boxed containers get a new reference.
 *
 * Returns: (transfer full): the copy; free with mp_gvalue_free().
 *
 * Since: 0.1
 */
GValue *
mp_gvalue_copy (const GValue *value)
{
  GValue *copy;

  g_return_val_if_fail (value != NULL, NULL);

  copy = g_new0 (GValue, 1);
  if (G_IS_VALUE (value))
    {
      g_value_init (copy, G_VALUE_TYPE (value));
      g_value_copy (value, copy);
    }
  return copy;
}

/**
 * mp_gvalue_free:
 * @value: (nullable): a #GValue from mp_gvalue_new() or mp_gvalue_copy()
 *
 * Unsets and frees @value.
 *
 * Since: 0.1
 */
void
mp_gvalue_free (GValue *value)
{
  if (value == NULL)
    return;
  if (G_IS_VALUE (value))
    g_value_unset (value);
  g_free (value);
}

/**
 * mp_gvalue_list_new:
 *
 * Returns: (transfer full): an empty list for %MP_TYPE_GVALUE_LIST values;
 *   elements are `GValue *` owned by the list.
 *
 * Since: 0.1
 */
GPtrArray *
mp_gvalue_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) mp_gvalue_free);
}

/**
 * mp_gvalue_dict_new:
 *
 * Returns: (transfer full): an empty dict for %MP_TYPE_GVALUE_DICT values;
 *   keys are g_strdup()ed strings, values `GValue *`, both owned.
 *
 * Since: 0.1
 */
GHashTable *
mp_gvalue_dict_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                (GDestroyNotify) mp_gvalue_free);
}

/* ------------------------------------------------------------------ */
/* the type registry                                                   */

typedef enum {
  ENTRY_PROPERTIES,
  ENTRY_REDUCER,
  ENTRY_REFUSAL,
} EntryKind;

typedef struct {
  EntryKind      kind;
  GType          type;
  char         **key_properties;   /* PROPERTIES: NULL = all properties */
  MpTransfer     transfer;         /* REDUCER */
  MpReduceFunc   reduce;
  MpRebuildFunc  rebuild;
  gpointer       user_data;
  MpError        code;             /* REFUSAL */
  char          *reason;
} TypeEntry;

/* Entries are immutable once published and live as long as the process:
 * a lookup can use one after dropping the lock, and registering a type
 * again only replaces the pointer in the tables. */
static GMutex      registry_lock;
static GHashTable *registry_by_type;   /* GType -> TypeEntry* */
static GHashTable *registry_by_name;   /* interned type name -> TypeEntry* */
static GPtrArray  *registry_entries;   /* owns every entry ever made */

static void
registry_publish (TypeEntry *entry)
{
  g_mutex_lock (&registry_lock);
  if (registry_by_type == NULL)
    {
      registry_by_type = g_hash_table_new (g_direct_hash, g_direct_equal);
      registry_by_name = g_hash_table_new (g_str_hash, g_str_equal);
      registry_entries = g_ptr_array_new ();
    }
  g_ptr_array_add (registry_entries, entry);
  g_hash_table_insert (registry_by_type, GSIZE_TO_POINTER (entry->type), entry);
  g_hash_table_insert (registry_by_name, (gpointer) g_type_name (entry->type), entry);
  g_mutex_unlock (&registry_lock);
}

static const TypeEntry *
registry_lookup_type (GType type)
{
  const TypeEntry *entry = NULL;

  g_mutex_lock (&registry_lock);
  if (registry_by_type != NULL)
    entry = g_hash_table_lookup (registry_by_type, GSIZE_TO_POINTER (type));
  g_mutex_unlock (&registry_lock);
  return entry;
}

static const TypeEntry *
registry_lookup_name (const char *name)
{
  const TypeEntry *entry = NULL;

  g_mutex_lock (&registry_lock);
  if (registry_by_name != NULL)
    entry = g_hash_table_lookup (registry_by_name, name);
  g_mutex_unlock (&registry_lock);
  return entry;
}

/* The entry that decides how an object of @type travels: its own
 * registration, else the reducer or refusal of its nearest registered
 * ancestor. Property registrations are not inherited: a subclass has
 * properties its parent's registration knows nothing about, and encoding
 * it as the parent would silently drop them. */
static const TypeEntry *
registry_lookup_object (GType type)
{
  const TypeEntry *entry = registry_lookup_type (type);

  if (entry != NULL)
    return entry;
  for (GType t = g_type_parent (type); t != G_TYPE_INVALID; t = g_type_parent (t))
    {
      entry = registry_lookup_type (t);
      if (entry != NULL && entry->kind != ENTRY_PROPERTIES)
        return entry;
    }
  return NULL;
}

static gboolean
property_travels (GParamSpec *pspec)
{
  /* readable to encode it, writable (maybe construct-only) to restore it */
  return (pspec->flags & G_PARAM_READABLE) != 0 &&
         (pspec->flags & G_PARAM_WRITABLE) != 0;
}

/**
 * mp_serialize_register_type:
 * @type: an instantiable #GObject type
 * @key_properties: (nullable) (array zero-terminated=1): the properties
 *   that define equality, or %NULL for all of them
 *
 * Lets objects of exactly @type cross a process boundary: every readable
 * and writable property is encoded by name together with the type name,
 * and decoding builds a fresh object. Both sides must register the type
 * (before mp_main_guard(), so spawned children know it too).
 *
 * Since: 0.1
 */
void
mp_serialize_register_type (GType               type,
                            const char * const *key_properties)
{
  TypeEntry *entry;
  GObjectClass *klass;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail (G_TYPE_IS_INSTANTIATABLE (type) && !G_TYPE_IS_ABSTRACT (type));

  klass = g_type_class_ref (type);
  for (gsize i = 0; key_properties != NULL && key_properties[i] != NULL; i++)
    {
      GParamSpec *pspec = g_object_class_find_property (klass, key_properties[i]);

      if (pspec == NULL || !property_travels (pspec))
        {
          g_critical ("%s: %s has no readable and writable property '%s'",
                      G_STRFUNC, g_type_name (type), key_properties[i]);
          g_type_class_unref (klass);
          return;
        }
    }
  /* the class reference is kept for good: equality peeks at the class */

  entry = g_new0 (TypeEntry, 1);
  entry->kind = ENTRY_PROPERTIES;
  entry->type = type;
  entry->key_properties = key_properties != NULL ? g_strdupv ((char **) key_properties) : NULL;
  registry_publish (entry);
}

/**
 * mp_serialize_register_reducer:
 * @type: a #GObject type; subclasses use it too unless registered themselves
 * @transfer: where objects of @type may be serialized
 * @reduce: turns an object into a #GVariant state
 * @rebuild: turns the state back into an object
 * @user_data: passed to @reduce and @rebuild
 *
 * Lets a library type choose its own state, e.g. the name of a shared
 * memory block instead of its contents.
 *
 * Since: 0.1
 */
void
mp_serialize_register_reducer (GType         type,
                               MpTransfer    transfer,
                               MpReduceFunc  reduce,
                               MpRebuildFunc rebuild,
                               gpointer      user_data)
{
  TypeEntry *entry;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail (transfer <= MP_TRANSFER_NEVER);
  g_return_if_fail (transfer == MP_TRANSFER_NEVER || (reduce != NULL && rebuild != NULL));

  entry = g_new0 (TypeEntry, 1);
  entry->kind = ENTRY_REDUCER;
  entry->type = type;
  entry->transfer = transfer;
  entry->reduce = reduce;
  entry->rebuild = rebuild;
  entry->user_data = user_data;
  registry_publish (entry);
}

/**
 * mp_serialize_register_refusal:
 * @type: a #GObject type; subclasses are refused too
 * @code: the #MpError code serializing it fails with
 * @reason: why, in plain words (e.g. "the manager holds the auth key")
 *
 * Marks @type as never crossing a process boundary.
 *
 * Since: 0.1
 */
void
mp_serialize_register_refusal (GType       type,
                               MpError     code,
                               const char *reason)
{
  TypeEntry *entry;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail ((guint) code < MP_ERROR_N_CODES);
  g_return_if_fail (reason != NULL);

  entry = g_new0 (TypeEntry, 1);
  entry->kind = ENTRY_REFUSAL;
  entry->type = type;
  entry->transfer = MP_TRANSFER_NEVER;
  entry->code = code;
  entry->reason = g_strdup (reason);
  registry_publish (entry);
}

/**
 * mp_serialize_type_is_registered:
 * @type: a #GType
 *
 * Returns: %TRUE if objects of @type have a registration that decides how
 *   they travel (their own, or a reducer/refusal of an ancestor).
 *
 * Since: 0.1
 */
gboolean
mp_serialize_type_is_registered (GType type)
{
  g_return_val_if_fail (type != G_TYPE_INVALID, FALSE);

  if (!G_TYPE_IS_OBJECT (type))
    return FALSE;
  return registry_lookup_object (type) != NULL;
}

/* ------------------------------------------------------------------ */
/* the spawning context                                                */

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

/* ------------------------------------------------------------------ */
/* errors with a field path                                            */

static void set_error_at (GError    **error,
                          MpError     code,
                          GString    *path,
                          const char *format,
                          ...) G_GNUC_PRINTF (4, 5);

/* "path: what happened", or just "what happened" at the top level */
static void
set_error_at (GError    **error,
              MpError     code,
              GString    *path,
              const char *format,
              ...)
{
  va_list args;
  g_autofree char *what = NULL;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);

  /* decoding reports malformed input (PROTOCOL); the rest is a refusal */
  if (code != MP_ERROR_PROTOCOL)
    MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)", what));
  if (path->len > 0)
    mp_set_error (error, code, "%s: %s", path->str, what);
  else
    mp_set_error (error, code, "%s", what);
}

/* a callback's error keeps its code, gains the field path */
static void
propagate_error_at (GError  **error,
                    GError   *local,
                    GString  *path)
{
  if (local->domain == MP_ERROR && local->code != MP_ERROR_PROTOCOL)
    MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)", local->message));
  if (path->len > 0)
    g_propagate_prefixed_error (error, local, "%s: ", path->str);
  else
    g_propagate_error (error, local);
}

static void
path_append_property (GString    *path,
                      const char *type_name,
                      const char *property)
{
  if (path->len == 0)
    g_string_append_printf (path, "%s.%s", type_name, property);
  else
    g_string_append_printf (path, ".%s", property);
}

static void append_string_repr (GString *out, const char *text);

static void
path_append_key (GString    *path,
                 const char *key)
{
  g_string_append_c (path, '[');
  append_string_repr (path, key);
  g_string_append_c (path, ']');
}

/* The library types that own an OS handle (socket, fd, pipe, watch): they
 * mean nothing in another process. Ordered so the most telling name comes
 * first for classes that are several at once. */
static GType
live_handle_base (GType type)
{
  const GType handle_types[] = {
    G_TYPE_SOCKET_CLIENT,
    G_TYPE_SOCKET_LISTENER,
    G_TYPE_SOCKET_CONNECTION,
    G_TYPE_SOCKET,
    G_TYPE_IO_STREAM,
    G_TYPE_INPUT_STREAM,
    G_TYPE_OUTPUT_STREAM,
    G_TYPE_SUBPROCESS,
    G_TYPE_DBUS_CONNECTION,
    G_TYPE_FILE_MONITOR,
    G_TYPE_UNIX_FD_LIST,
    G_TYPE_FILE_DESCRIPTOR_BASED,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (handle_types); i++)
    if (g_type_is_a (type, handle_types[i]))
      return handle_types[i];
  return G_TYPE_INVALID;
}

/* ------------------------------------------------------------------ */
/* encoding                                                            */

static GVariant *encode_value (const GValue *value,
                               GString      *path,
                               guint         depth,
                               GError      **error);

static GVariant *
wire_none (void)
{
  return g_variant_new_tuple (NULL, 0);
}

static GVariant *
encode_string (const char *text,
               GString    *path,
               GError    **error)
{
  if (text == NULL)
    return g_variant_new_maybe (G_VARIANT_TYPE_STRING, NULL);
  if (!g_utf8_validate (text, -1, NULL))
    {
      set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "a string that is not valid UTF-8 cannot be serialized as text; store it as bytes (G_TYPE_BYTES)");
      return NULL;
    }
  return g_variant_new_maybe (G_VARIANT_TYPE_STRING, g_variant_new_string (text));
}

static GVariant *
encode_list (GPtrArray *list,
             GString   *path,
             guint      depth,
             GError   **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  gsize path_len = path->len;

  for (guint i = 0; i < list->len; i++)
    {
      GVariant *child;

      g_string_append_printf (path, "[%u]", i);
      child = encode_value (list->pdata[i], path, depth + LIST_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
encode_strv (char   **strv,
             GString *path,
             guint    depth,
             GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  gsize path_len = path->len;

  if (depth + LIST_CHILD_DEPTH > MP_SERIALIZE_MAX_DEPTH && strv[0] != NULL)
    return encode_value (NULL, path, depth + LIST_CHILD_DEPTH, error);
  for (guint i = 0; strv[i] != NULL; i++)
    {
      GVariant *child;

      g_string_append_printf (path, "[%u]", i);
      child = encode_string (strv[i], path, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_builder_end (&builder);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static GVariant *
encode_dict (GHashTable *dict,
             GString    *path,
             guint       depth,
             GError    **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  g_autofree const char **keys = NULL;
  guint n_keys = 0;
  gsize path_len = path->len;

  /* sorted, so equal dicts give equal bytes */
  keys = (const char **) g_hash_table_get_keys_as_array (dict, &n_keys);
  qsort (keys, n_keys, sizeof (char *), compare_strings);

  for (guint i = 0; i < n_keys; i++)
    {
      GVariant *child;

      if (!g_utf8_validate (keys[i], -1, NULL))
        {
          set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "a dict key is not valid UTF-8; keys must be text");
          return NULL;
        }
      path_append_key (path, keys[i]);
      child = encode_value (g_hash_table_lookup (dict, keys[i]), path,
                            depth + DICT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add (&builder, "{sv}", keys[i], child);
    }
  return g_variant_builder_end (&builder);
}

static const char *wire_type_for (GType     type,
                                  gboolean *none_allowed);

static GVariant *
encode_properties (GObject  *object,
                   GString  *path,
                   guint     depth,
                   GError  **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sv}"));
  g_autofree GParamSpec **pspecs = NULL;
  const char *type_name = G_OBJECT_TYPE_NAME (object);
  guint n_pspecs = 0;
  gsize path_len = path->len;

  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      gboolean none_allowed;
      GVariant *child;

      if (!property_travels (pspecs[i]))
        continue;
      path_append_property (path, type_name, pspecs[i]->name);
      /* refused even while it holds NULL: the receiver could not take it
       * back, and the next sender's non-NULL value could not travel */
      if (wire_type_for (pspecs[i]->value_type, &none_allowed) == NULL &&
          G_TYPE_FUNDAMENTAL (pspecs[i]->value_type) != G_TYPE_POINTER)
        {
          set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "a property of type %s cannot be serialized",
                        g_type_name (pspecs[i]->value_type));
          g_string_truncate (path, path_len);
          return NULL;
        }
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (object, pspecs[i]->name, &value);
      child = encode_value (&value, path, depth + OBJECT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (child == NULL)
        return NULL;
      g_variant_builder_add (&builder, "{sv}", pspecs[i]->name, child);
    }
  return g_variant_new ("(s@v)", type_name,
                        g_variant_new_variant (g_variant_builder_end (&builder)));
}

static GVariant *
encode_reduced (const TypeEntry *entry,
                GObject         *object,
                GString         *path,
                GError         **error)
{
  const char *type_name = G_OBJECT_TYPE_NAME (object);
  GError *local = NULL;
  GVariant *state;
  GVariant *wire;

  if (entry->transfer == MP_TRANSFER_NEVER)
    {
      set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s objects may never cross a process boundary", type_name);
      return NULL;
    }
  if (entry->transfer == MP_TRANSFER_INHERIT_ONLY && !mp_spawning_is_active ())
    {
      MP_TRACE (mp_trace_serialize_refused (path->len > 0 ? path->str : "(the value itself)",
                                            "travels only by inheritance, while a process is being started"));
      if (path->len > 0)
        mp_set_error (error, MP_ERROR_INHERITANCE_ONLY,
                      "%s passed as %s while no process is being started",
                      type_name, path->str);
      else
        mp_set_error (error, MP_ERROR_INHERITANCE_ONLY,
                      "%s serialized while no process is being started",
                      type_name);
      return NULL;
    }

  state = entry->reduce (object, entry->user_data, &local);
  if (state == NULL)
    {
      if (local == NULL)
        local = g_error_new (MP_ERROR, MP_ERROR_UNSERIALIZABLE,
                             "the reducer of %s failed without saying why", type_name);
      propagate_error_at (error, local, path);
      return NULL;
    }
  g_variant_take_ref (state);
  /* the registered type's name: its rebuild function makes the object */
  wire = g_variant_new ("(s@v)", g_type_name (entry->type), g_variant_new_variant (state));
  g_variant_unref (state);
  return wire;
}

static GVariant *
encode_object (GObject  *object,
               GString  *path,
               guint     depth,
               GError  **error)
{
  GType type;
  GType handle;
  const TypeEntry *entry;

  if (object == NULL)
    return wire_none ();

  type = G_OBJECT_TYPE (object);
  entry = registry_lookup_object (type);
  if (entry != NULL)
    {
      switch (entry->kind)
        {
        case ENTRY_PROPERTIES:
          return encode_properties (object, path, depth, error);
        case ENTRY_REDUCER:
          return encode_reduced (entry, object, path, error);
        case ENTRY_REFUSAL:
          set_error_at (error, entry->code, path, "%s cannot be serialized: %s",
                        g_type_name (type), entry->reason);
          return NULL;
        default:
          g_assert_not_reached ();
        }
    }

  handle = live_handle_base (type);
  if (handle == type)
    {
      set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s holds a live OS handle", g_type_name (type));
      return NULL;
    }
  if (handle != G_TYPE_INVALID)
    {
      set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "%s holds a live OS handle (it is a %s)",
                    g_type_name (type), g_type_name (handle));
      return NULL;
    }

  set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "%s is not registered: call mp_serialize_register_type() for it before mp_main_guard()",
                g_type_name (type));
  return NULL;
}

static GVariant *
encode_boxed (const GValue *value,
              GString      *path,
              guint         depth,
              GError      **error)
{
  GType type = G_VALUE_TYPE (value);
  gpointer boxed = g_value_get_boxed (value);

  if (boxed == NULL)
    return wire_none ();
  if (type == G_TYPE_BYTES)
    return g_variant_new_from_bytes (G_VARIANT_TYPE_BYTESTRING, boxed, TRUE);
  if (type == MP_TYPE_GVALUE_LIST)
    return encode_list (boxed, path, depth, error);
  if (type == MP_TYPE_GVALUE_DICT)
    return encode_dict (boxed, path, depth, error);
  if (type == G_TYPE_STRV)
    return encode_strv (boxed, path, depth, error);

  set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "values of type %s cannot be serialized (register a reducer for an object type, or use a list, dict, bytes or GVariant)",
                g_type_name (type));
  return NULL;
}

/* Returns a floating GVariant: the value's wire form without its "v" box. */
static GVariant *
encode_value (const GValue *value,
              GString      *path,
              guint         depth,
              GError      **error)
{
  GType type;

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                    "nested deeper than %d levels (is there a reference cycle?)",
                    MP_SERIALIZE_MAX_DEPTH);
      return NULL;
    }
  if (value == NULL || !G_IS_VALUE (value))
    return wire_none ();

  type = G_VALUE_TYPE (value);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return g_variant_new_boolean (g_value_get_boolean (value));
    case G_TYPE_CHAR:
      return g_variant_new_int64 (g_value_get_schar (value));
    case G_TYPE_INT:
      return g_variant_new_int64 (g_value_get_int (value));
    case G_TYPE_LONG:
      return g_variant_new_int64 (g_value_get_long (value));
    case G_TYPE_INT64:
      return g_variant_new_int64 (g_value_get_int64 (value));
    case G_TYPE_ENUM:
      return g_variant_new_int64 (g_value_get_enum (value));
    case G_TYPE_UCHAR:
      return g_variant_new_uint64 (g_value_get_uchar (value));
    case G_TYPE_UINT:
      return g_variant_new_uint64 (g_value_get_uint (value));
    case G_TYPE_ULONG:
      return g_variant_new_uint64 (g_value_get_ulong (value));
    case G_TYPE_UINT64:
      return g_variant_new_uint64 (g_value_get_uint64 (value));
    case G_TYPE_FLAGS:
      return g_variant_new_uint64 (g_value_get_flags (value));
    case G_TYPE_FLOAT:
      return g_variant_new_double (g_value_get_float (value));
    case G_TYPE_DOUBLE:
      return g_variant_new_double (g_value_get_double (value));
    case G_TYPE_STRING:
      return encode_string (g_value_get_string (value), path, error);
    case G_TYPE_VARIANT:
      {
        GVariant *v = g_value_get_variant (value);

        if (v == NULL)
          return wire_none ();
        return g_variant_new ("(v)", v);
      }
    case G_TYPE_BOXED:
      return encode_boxed (value, path, depth, error);
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      {
        gpointer object = g_value_peek_pointer (value);

        if (object == NULL || G_IS_OBJECT (object))
          return encode_object (object, path, depth, error);
      }
      break;
    case G_TYPE_POINTER:
      if (type == G_TYPE_POINTER)
        {
          set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                        "gpointer is a raw pointer: an address in this process means nothing in another");
          return NULL;
        }
      break;
    default:
      break;
    }

  set_error_at (error, MP_ERROR_UNSERIALIZABLE, path,
                "values of type %s cannot be serialized", g_type_name (type));
  return NULL;
}

/* None, a boolean or a number: encode_value() cannot fail on it and
 * never looks at the field path */
static gboolean
is_plain (const GValue *value)
{
  if (!G_IS_VALUE (value))
    return TRUE;
  switch (G_TYPE_FUNDAMENTAL (G_VALUE_TYPE (value)))
    {
    case G_TYPE_BOOLEAN:
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      return TRUE;
    default:
      return FALSE;
    }
}

/**
 * mp_serialize_value:
 * @value: a #GValue, possibly unset (None)
 * @error: return location for a #GError
 *
 * Encodes @value in its wire form (see the table in mp-serialize.h).
 * Fails, naming the field path, with %MP_ERROR_UNSERIALIZABLE for what
 * cannot travel (live OS handles, raw pointers, unregistered objects,
 * unsupported types), %MP_ERROR_INHERITANCE_ONLY for inherit-only objects
 * outside process start, or the code a refusal was registered with.
 *
 * Returns: (transfer full): a new "v" #GVariant (not floating), or %NULL.
 *
 * Since: 0.1
 */
GVariant *
mp_serialize_value (const GValue  *value,
                    GError       **error)
{
  g_autoptr(GString) path = NULL;
  GVariant *inner;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* the common case, on every manager call: nothing that can fail, so
   * no field path to build */
  if (is_plain (value))
    return g_variant_ref_sink (g_variant_new_variant (encode_value (value, NULL, 1, NULL)));
  path = g_string_new (NULL);
  inner = encode_value (value, path, 1, error);
  if (inner == NULL)
    return NULL;
  return g_variant_ref_sink (g_variant_new_variant (inner));
}

/**
 * mp_serialize_to_bytes:
 * @value: a #GValue, possibly unset (None)
 * @error: return location for a #GError
 *
 * Like mp_serialize_value(), as the bytes of the "v" GVariant.
 *
 * Returns: (transfer full): the bytes, or %NULL with @error set.
 *
 * Since: 0.1
 */
GBytes *
mp_serialize_to_bytes (const GValue  *value,
                       GError       **error)
{
  g_autoptr(GVariant) wire = NULL;

  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  wire = mp_serialize_value (value, error);
  if (wire == NULL)
    return NULL;
  return g_variant_get_data_as_bytes (wire);
}

/* ------------------------------------------------------------------ */
/* decoding: the input is hostile                                      */

static gboolean decode_value (GVariant  *wire,
                              GValue    *out,
                              GString   *path,
                              guint      depth,
                              GError   **error);

/* the inner value of a child "v": never fails on a checked container */
static GVariant *
child_unboxed (GVariant *container,
               gsize     index)
{
  g_autoptr(GVariant) box = g_variant_get_child_value (container, index);

  return g_variant_get_variant (box);
}

static gboolean
decode_list (GVariant *wire,
             GValue   *out,
             GString  *path,
             guint     depth,
             GError  **error)
{
  g_autoptr(GPtrArray) list = mp_gvalue_list_new ();
  gsize n = g_variant_n_children (wire);
  gsize path_len = path->len;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = child_unboxed (wire, i);
      GValue *element = mp_gvalue_new (G_TYPE_INVALID);
      gboolean ok;

      g_ptr_array_add (list, element);
      g_string_append_printf (path, "[%" G_GSIZE_FORMAT "]", i);
      ok = decode_value (child, element, path, depth + LIST_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (!ok)
        return FALSE;
    }
  g_value_init (out, MP_TYPE_GVALUE_LIST);
  g_value_take_boxed (out, g_steal_pointer (&list));
  return TRUE;
}

static gboolean
decode_dict (GVariant *wire,
             GValue   *out,
             GString  *path,
             guint     depth,
             GError  **error)
{
  g_autoptr(GHashTable) dict = mp_gvalue_dict_new ();
  gsize n = g_variant_n_children (wire);
  gsize path_len = path->len;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (wire, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (entry, 0);
      g_autoptr(GVariant) child = child_unboxed (entry, 1);
      const char *name = g_variant_get_string (key, NULL);
      GValue *element;
      gboolean ok;

      path_append_key (path, name);
      if (g_hash_table_contains (dict, name))
        {
          set_error_at (error, MP_ERROR_PROTOCOL, path, "the key appears twice in one dict");
          g_string_truncate (path, path_len);
          return FALSE;
        }
      element = mp_gvalue_new (G_TYPE_INVALID);
      g_hash_table_insert (dict, g_strdup (name), element);
      ok = decode_value (child, element, path, depth + DICT_CHILD_DEPTH, error);
      g_string_truncate (path, path_len);
      if (!ok)
        return FALSE;
    }
  g_value_init (out, MP_TYPE_GVALUE_DICT);
  g_value_take_boxed (out, g_steal_pointer (&dict));
  return TRUE;
}

/* What a property of @type looks like on the wire; NULL if no wire form. */
static const char *
wire_type_for (GType     type,
               gboolean *none_allowed)
{
  *none_allowed = FALSE;
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      return "b";
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
      return "x";
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
      return "t";
    case G_TYPE_FLOAT:
    case G_TYPE_DOUBLE:
      return "d";
    case G_TYPE_STRING:
      return "ms";
    case G_TYPE_VARIANT:
      *none_allowed = TRUE;
      return WIRE_VARIANT;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      *none_allowed = TRUE;
      return WIRE_OBJECT;
    case G_TYPE_BOXED:
      *none_allowed = TRUE;
      if (type == G_TYPE_BYTES)
        return "ay";
      if (type == MP_TYPE_GVALUE_LIST || type == G_TYPE_STRV)
        return WIRE_LIST;
      if (type == MP_TYPE_GVALUE_DICT)
        return WIRE_DICT;
      return NULL;
    default:
      return NULL;
    }
}

/* Moves a decoded @from into @to, initialised to the property's type.
 * Returns FALSE when the value does not fit (range, object type). */
static gboolean
coerce_value (GValue *from,
              GValue *to)
{
  GType type = G_VALUE_TYPE (to);

  if (!G_IS_VALUE (from))
    return TRUE;   /* None: a NULL object, boxed or variant */

  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      g_value_set_boolean (to, g_value_get_boolean (from));
      return TRUE;
    case G_TYPE_CHAR:
    case G_TYPE_INT:
    case G_TYPE_LONG:
    case G_TYPE_INT64:
    case G_TYPE_ENUM:
      {
        gint64 v = g_value_get_int64 (from);

        switch (G_TYPE_FUNDAMENTAL (type))
          {
          case G_TYPE_CHAR:
            if (v < G_MININT8 || v > G_MAXINT8)
              return FALSE;
            g_value_set_schar (to, (gint8) v);
            return TRUE;
          case G_TYPE_INT:
            if (v < G_MININT || v > G_MAXINT)
              return FALSE;
            g_value_set_int (to, (int) v);
            return TRUE;
          case G_TYPE_ENUM:
            if (v < G_MININT || v > G_MAXINT)
              return FALSE;
            g_value_set_enum (to, (int) v);
            return TRUE;
          case G_TYPE_LONG:
            if (v < G_MINLONG || v > G_MAXLONG)
              return FALSE;
            g_value_set_long (to, (long) v);
            return TRUE;
          default:
            g_value_set_int64 (to, v);
            return TRUE;
          }
      }
    case G_TYPE_UCHAR:
    case G_TYPE_UINT:
    case G_TYPE_ULONG:
    case G_TYPE_UINT64:
    case G_TYPE_FLAGS:
      {
        guint64 v = g_value_get_uint64 (from);

        switch (G_TYPE_FUNDAMENTAL (type))
          {
          case G_TYPE_UCHAR:
            if (v > G_MAXUINT8)
              return FALSE;
            g_value_set_uchar (to, (guchar) v);
            return TRUE;
          case G_TYPE_UINT:
            if (v > G_MAXUINT)
              return FALSE;
            g_value_set_uint (to, (guint) v);
            return TRUE;
          case G_TYPE_FLAGS:
            if (v > G_MAXUINT)
              return FALSE;
            g_value_set_flags (to, (guint) v);
            return TRUE;
          case G_TYPE_ULONG:
            if (v > G_MAXULONG)
              return FALSE;
            g_value_set_ulong (to, (gulong) v);
            return TRUE;
          default:
            g_value_set_uint64 (to, v);
            return TRUE;
          }
      }
    case G_TYPE_FLOAT:
      {
        double v = g_value_get_double (from);

        if (isfinite (v) && (v > G_MAXFLOAT || v < -G_MAXFLOAT))
          return FALSE;
        g_value_set_float (to, (float) v);
        return TRUE;
      }
    case G_TYPE_DOUBLE:
      g_value_set_double (to, g_value_get_double (from));
      return TRUE;
    case G_TYPE_STRING:
      g_value_set_string (to, g_value_get_string (from));
      return TRUE;
    case G_TYPE_VARIANT:
      g_value_set_variant (to, g_value_get_variant (from));
      return TRUE;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      {
        GObject *object = g_value_get_object (from);

        if (!g_type_is_a (G_OBJECT_TYPE (object), type))
          return FALSE;
        g_value_set_object (to, object);
        return TRUE;
      }
    case G_TYPE_BOXED:
      if (type == G_TYPE_STRV)
        {
          GPtrArray *list = g_value_get_boxed (from);
          g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

          for (guint i = 0; i < list->len; i++)
            {
              const GValue *element = list->pdata[i];
              const char *text;

              if (!G_VALUE_HOLDS_STRING (element))
                return FALSE;
              text = g_value_get_string (element);
              if (text == NULL)
                return FALSE;
              g_strv_builder_add (builder, text);
            }
          g_value_take_boxed (to, g_strv_builder_end (builder));
          return TRUE;
        }
      g_value_set_boxed (to, g_value_get_boxed (from));
      return TRUE;
    default:
      return FALSE;
    }
}

static gboolean
decode_property (GParamSpec *pspec,
                 GVariant   *wire,
                 GValue     *out,
                 GString    *path,
                 guint       depth,
                 GError    **error)
{
  g_auto(GValue) decoded = G_VALUE_INIT;
  const char *got = g_variant_get_type_string (wire);
  gboolean none_allowed;
  const char *expected = wire_type_for (pspec->value_type, &none_allowed);

  if (expected == NULL)
    {
      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "a property of type %s cannot be received",
                    g_type_name (pspec->value_type));
      return FALSE;
    }
  if (strcmp (got, expected) != 0 && !(none_allowed && strcmp (got, WIRE_NONE) == 0))
    {
      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "expected wire type '%s' for a %s property, got '%s'",
                    expected, g_type_name (pspec->value_type), got);
      return FALSE;
    }
  if (!decode_value (wire, &decoded, path, depth, error))
    return FALSE;

  g_value_init (out, pspec->value_type);
  if (!coerce_value (&decoded, out))
    {
      g_autofree char *shown = mp_gvalue_to_string (&decoded);

      set_error_at (error, MP_ERROR_PROTOCOL, path, "%s does not fit a %s property",
                    shown, g_type_name (pspec->value_type));
      return FALSE;
    }
  if (g_param_value_validate (pspec, out))
    {
      g_autofree char *shown = mp_gvalue_to_string (&decoded);

      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "%s is not a valid value for this property", shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
decode_properties (const TypeEntry *entry,
                   GVariant        *state,
                   GValue          *out,
                   GString         *path,
                   guint            depth,
                   GError         **error)
{
  const char *type_name = g_type_name (entry->type);
  GObjectClass *klass;
  GParamSpec **pspecs;
  const char **names;
  GValue *values;
  gsize n, n_set = 0;
  gsize path_len = path->len;
  gboolean ok = TRUE;

  if (!g_variant_is_of_type (state, G_VARIANT_TYPE_VARDICT))
    {
      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "the state of a %s must be 'a{sv}', got '%s'",
                    type_name, g_variant_get_type_string (state));
      return FALSE;
    }

  klass = g_type_class_ref (entry->type);
  n = g_variant_n_children (state);
  pspecs = g_new0 (GParamSpec *, n);
  names = g_new0 (const char *, n);
  values = g_new0 (GValue, n);

  for (gsize i = 0; i < n && ok; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (state, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (item, 0);
      g_autoptr(GVariant) wire = child_unboxed (item, 1);
      const char *name = g_variant_get_string (key, NULL);
      GParamSpec *pspec = g_object_class_find_property (klass, name);

      path_append_property (path, type_name, name);
      if (pspec == NULL || !property_travels (pspec))
        {
          set_error_at (error, MP_ERROR_PROTOCOL, path,
                        "%s has no readable and writable property of that name",
                        type_name);
          ok = FALSE;
        }
      for (gsize j = 0; ok && j < n_set; j++)
        if (pspecs[j] == pspec)
          {
            set_error_at (error, MP_ERROR_PROTOCOL, path, "the property is given twice");
            ok = FALSE;
          }
      if (ok)
        ok = decode_property (pspec, wire, &values[n_set], path,
                              depth + OBJECT_CHILD_DEPTH, error);
      if (ok)
        {
          pspecs[n_set] = pspec;
          names[n_set] = pspec->name;
          n_set++;
        }
      g_string_truncate (path, path_len);
    }

  if (ok)
    {
      /* construct-only properties included: they must go in at creation */
      GObject *object = g_object_new_with_properties (entry->type, (guint) n_set,
                                                      names, values);

      g_value_init (out, entry->type);
      g_value_take_object (out, object);
    }

  for (gsize i = 0; i < n; i++)
    if (G_IS_VALUE (&values[i]))
      g_value_unset (&values[i]);
  g_free (values);
  g_free (names);
  g_free (pspecs);
  g_type_class_unref (klass);
  return ok;
}

static gboolean
decode_object (GVariant *wire,
               GValue   *out,
               GString  *path,
               guint     depth,
               GError  **error)
{
  g_autoptr(GVariant) name_v = g_variant_get_child_value (wire, 0);
  g_autoptr(GVariant) state = child_unboxed (wire, 1);
  const char *name = g_variant_get_string (name_v, NULL);
  const TypeEntry *entry = registry_lookup_name (name);
  GError *local = NULL;
  GObject *object;

  /* the receiver's registry decides: a type name alone never makes an object */
  if (entry == NULL)
    {
      g_autoptr(GString) shown = g_string_new (NULL);

      append_string_repr (shown, name);
      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "type %s is not registered in this process: call mp_serialize_register_type() for it before mp_main_guard()",
                    shown->str);
      return FALSE;
    }

  switch (entry->kind)
    {
    case ENTRY_PROPERTIES:
      return decode_properties (entry, state, out, path, depth, error);

    case ENTRY_REDUCER:
      if (entry->rebuild == NULL)
        break;
      object = entry->rebuild (state, entry->user_data, &local);
      if (object == NULL)
        {
          if (local == NULL)
            local = g_error_new (MP_ERROR, MP_ERROR_PROTOCOL,
                                 "the rebuild function of %s failed without saying why", name);
          propagate_error_at (error, local, path);
          return FALSE;
        }
      if (!g_type_is_a (G_OBJECT_TYPE (object), entry->type))
        {
          set_error_at (error, MP_ERROR_PROTOCOL, path,
                        "the rebuild function of %s returned a %s",
                        name, G_OBJECT_TYPE_NAME (object));
          g_object_unref (object);
          return FALSE;
        }
      g_value_init (out, G_OBJECT_TYPE (object));
      g_value_take_object (out, object);
      return TRUE;

    case ENTRY_REFUSAL:
    default:
      break;
    }

  set_error_at (error, MP_ERROR_PROTOCOL, path,
                "%s may never cross a process boundary, yet one was received", name);
  return FALSE;
}

/* @wire is the inner value (no "v" box); @out is unset and stays unset on
 * failure or for None. */
static gboolean
decode_value (GVariant  *wire,
              GValue    *out,
              GString   *path,
              guint      depth,
              GError   **error)
{
  const char *type = g_variant_get_type_string (wire);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      set_error_at (error, MP_ERROR_PROTOCOL, path,
                    "the value is nested deeper than %d levels", MP_SERIALIZE_MAX_DEPTH);
      return FALSE;
    }

  if (strcmp (type, WIRE_NONE) == 0)
    return TRUE;
  if (strcmp (type, "b") == 0)
    {
      g_value_init (out, G_TYPE_BOOLEAN);
      g_value_set_boolean (out, g_variant_get_boolean (wire));
      return TRUE;
    }
  if (strcmp (type, "x") == 0)
    {
      g_value_init (out, G_TYPE_INT64);
      g_value_set_int64 (out, g_variant_get_int64 (wire));
      return TRUE;
    }
  if (strcmp (type, "t") == 0)
    {
      g_value_init (out, G_TYPE_UINT64);
      g_value_set_uint64 (out, g_variant_get_uint64 (wire));
      return TRUE;
    }
  if (strcmp (type, "d") == 0)
    {
      g_value_init (out, G_TYPE_DOUBLE);
      g_value_set_double (out, g_variant_get_double (wire));
      return TRUE;
    }
  if (strcmp (type, "ms") == 0)
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (wire);

      g_value_init (out, G_TYPE_STRING);
      g_value_set_string (out, text != NULL ? g_variant_get_string (text, NULL) : NULL);
      return TRUE;
    }
  if (strcmp (type, "ay") == 0)
    {
      g_value_init (out, G_TYPE_BYTES);
      g_value_take_boxed (out, g_variant_get_data_as_bytes (wire));
      return TRUE;
    }
  if (strcmp (type, WIRE_VARIANT) == 0)
    {
      g_autoptr(GVariant) inner = child_unboxed (wire, 0);

      g_value_init (out, G_TYPE_VARIANT);
      g_value_set_variant (out, inner);
      return TRUE;
    }
  if (strcmp (type, WIRE_LIST) == 0)
    return decode_list (wire, out, path, depth, error);
  if (strcmp (type, WIRE_DICT) == 0)
    return decode_dict (wire, out, path, depth, error);
  if (strcmp (type, WIRE_OBJECT) == 0)
    return decode_object (wire, out, path, depth, error);

  set_error_at (error, MP_ERROR_PROTOCOL, path,
                "unexpected wire type '%s'", type);
  return FALSE;
}

/**
 * mp_deserialize_value:
 * @wire: a "v" #GVariant from mp_serialize_value() (or its unboxed inner
 *   value); it may come from an untrusted peer
 * @out: (out caller-allocates): an unset (zero-filled) #GValue
 * @error: return location for a #GError
 *
 * Decodes @wire into a fresh value. Registered objects are created anew
 * from the receiving process's registry. Anything malformed (not in normal
 * form, an unexpected type, an unknown type name, a property of the wrong
 * type, nesting too deep) fails with %MP_ERROR_PROTOCOL naming the path.
 *
 * Returns: %TRUE with @out set (left unset for None), or %FALSE.
 *
 * Since: 0.1
 */
gboolean
mp_deserialize_value (GVariant  *wire,
                      GValue    *out,
                      GError   **error)
{
  g_autoptr(GString) path = NULL;
  g_autoptr(GVariant) inner = NULL;

  g_return_val_if_fail (wire != NULL, FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_variant_is_normal_form (wire))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received data is not a well-formed serialized value (not in normal form)");
      return FALSE;
    }
  path = g_string_new (NULL);
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT))
    inner = g_variant_get_variant (wire);
  else
    inner = g_variant_ref (wire);
  return decode_value (inner, out, path, 1, error);
}

/**
 * mp_deserialize_from_bytes:
 * @bytes: the bytes of a "v" #GVariant, e.g. from mp_serialize_to_bytes()
 *   or a socket
 * @out: (out caller-allocates): an unset (zero-filled) #GValue
 * @error: return location for a #GError
 *
 * Loads untrusted bytes and decodes them as mp_deserialize_value() does.
 *
 * Returns: %TRUE with @out set, or %FALSE with %MP_ERROR_PROTOCOL.
 *
 * Since: 0.1
 */
gboolean
mp_deserialize_from_bytes (GBytes  *bytes,
                           GValue  *out,
                           GError **error)
{
  g_autoptr(GVariant) wire = NULL;

  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (out != NULL && !G_IS_VALUE (out), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  wire = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE_VARIANT, bytes, FALSE));
  return mp_deserialize_value (wire, out, error);
}

/* ------------------------------------------------------------------ */
/* equality                                                            */

typedef enum {
  KIND_NONE,
  KIND_BOOL,
  KIND_SIGNED,
  KIND_UNSIGNED,
  KIND_DOUBLE,
  KIND_STRING,
  KIND_BYTES,
  KIND_VARIANT,
  KIND_LIST,
  KIND_STRV,
  KIND_DICT,
  KIND_OBJECT,
  KIND_OTHER,
} ValueKind;

typedef struct {
  ValueKind kind;
  gint64    i;
  guint64   u;
  double    d;
  gconstpointer p;
} Unpacked;

/* Sorts a value into the kinds that equality knows; NULL strings, objects
 * and boxed values count as None, as they travel as None. */
static Unpacked
unpack (const GValue *value)
{
  Unpacked u = { KIND_NONE, 0, 0, 0.0, NULL };
  GType type;

  if (value == NULL || !G_IS_VALUE (value))
    return u;
  type = G_VALUE_TYPE (value);
  switch (G_TYPE_FUNDAMENTAL (type))
    {
    case G_TYPE_BOOLEAN:
      u.kind = KIND_BOOL;
      u.i = g_value_get_boolean (value) ? 1 : 0;
      return u;
    case G_TYPE_CHAR:    u.kind = KIND_SIGNED; u.i = g_value_get_schar (value); return u;
    case G_TYPE_INT:     u.kind = KIND_SIGNED; u.i = g_value_get_int (value); return u;
    case G_TYPE_LONG:    u.kind = KIND_SIGNED; u.i = g_value_get_long (value); return u;
    case G_TYPE_INT64:   u.kind = KIND_SIGNED; u.i = g_value_get_int64 (value); return u;
    case G_TYPE_ENUM:    u.kind = KIND_SIGNED; u.i = g_value_get_enum (value); return u;
    case G_TYPE_UCHAR:   u.kind = KIND_UNSIGNED; u.u = g_value_get_uchar (value); return u;
    case G_TYPE_UINT:    u.kind = KIND_UNSIGNED; u.u = g_value_get_uint (value); return u;
    case G_TYPE_ULONG:   u.kind = KIND_UNSIGNED; u.u = g_value_get_ulong (value); return u;
    case G_TYPE_UINT64:  u.kind = KIND_UNSIGNED; u.u = g_value_get_uint64 (value); return u;
    case G_TYPE_FLAGS:   u.kind = KIND_UNSIGNED; u.u = g_value_get_flags (value); return u;
    case G_TYPE_FLOAT:   u.kind = KIND_DOUBLE; u.d = g_value_get_float (value); return u;
    case G_TYPE_DOUBLE:  u.kind = KIND_DOUBLE; u.d = g_value_get_double (value); return u;
    case G_TYPE_STRING:
      u.p = g_value_get_string (value);
      u.kind = u.p != NULL ? KIND_STRING : KIND_NONE;
      return u;
    case G_TYPE_VARIANT:
      u.p = g_value_get_variant (value);
      u.kind = u.p != NULL ? KIND_VARIANT : KIND_NONE;
      return u;
    case G_TYPE_BOXED:
      u.p = g_value_get_boxed (value);
      if (u.p == NULL)
        u.kind = KIND_NONE;
      else if (type == G_TYPE_BYTES)
        u.kind = KIND_BYTES;
      else if (type == MP_TYPE_GVALUE_LIST)
        u.kind = KIND_LIST;
      else if (type == G_TYPE_STRV)
        u.kind = KIND_STRV;
      else if (type == MP_TYPE_GVALUE_DICT)
        u.kind = KIND_DICT;
      else
        u.kind = KIND_OTHER;
      return u;
    case G_TYPE_OBJECT:
    case G_TYPE_INTERFACE:
      u.p = g_value_peek_pointer (value);
      u.kind = u.p == NULL ? KIND_NONE : G_IS_OBJECT (u.p) ? KIND_OBJECT : KIND_OTHER;
      return u;
    default:
      u.kind = KIND_OTHER;
      u.p = g_value_peek_pointer (value);
      return u;
    }
}

static gboolean
signed_equals_double (gint64 i,
                      double d)
{
  /* exact, as Python compares int and float: 2**53 + 1 != 2.0**53 */
  if (!isfinite (d) || d != floor (d) || d < -9223372036854775808.0 || d >= 9223372036854775808.0)
    return FALSE;
  return (gint64) d == i;
}

static gboolean
unsigned_equals_double (guint64 u,
                        double  d)
{
  if (!isfinite (d) || d != floor (d) || d < 0 || d >= 18446744073709551616.0)
    return FALSE;
  return (guint64) d == u;
}

/* numbers compare by value across kinds, as in Python (bool excluded) */
static gboolean
numbers_equal (const Unpacked *a,
               const Unpacked *b)
{
  if (a->kind == KIND_SIGNED && b->kind == KIND_SIGNED)
    return a->i == b->i;
  if (a->kind == KIND_UNSIGNED && b->kind == KIND_UNSIGNED)
    return a->u == b->u;
  if (a->kind == KIND_DOUBLE && b->kind == KIND_DOUBLE)
    return a->d == b->d;
  if (a->kind == KIND_SIGNED && b->kind == KIND_UNSIGNED)
    return a->i >= 0 && (guint64) a->i == b->u;
  if (a->kind == KIND_UNSIGNED && b->kind == KIND_SIGNED)
    return b->i >= 0 && (guint64) b->i == a->u;
  if (a->kind == KIND_SIGNED)
    return signed_equals_double (a->i, b->d);
  if (b->kind == KIND_SIGNED)
    return signed_equals_double (b->i, a->d);
  if (a->kind == KIND_UNSIGNED)
    return unsigned_equals_double (a->u, b->d);
  return unsigned_equals_double (b->u, a->d);
}

static gboolean
is_number (ValueKind kind)
{
  return kind == KIND_SIGNED || kind == KIND_UNSIGNED || kind == KIND_DOUBLE;
}

static gboolean values_equal (const GValue *a,
                              const GValue *b,
                              guint         depth);

/* a strv as a list of values, so it compares with a decoded list */
static GPtrArray *
strv_to_list (const char * const *strv)
{
  GPtrArray *list = mp_gvalue_list_new ();

  for (gsize i = 0; strv[i] != NULL; i++)
    {
      GValue *element = mp_gvalue_new (G_TYPE_STRING);

      g_value_set_string (element, strv[i]);
      g_ptr_array_add (list, element);
    }
  return list;
}

static gboolean
lists_equal (GPtrArray *a,
             GPtrArray *b,
             guint      depth)
{
  if (a->len != b->len)
    return FALSE;
  for (guint i = 0; i < a->len; i++)
    if (!values_equal (a->pdata[i], b->pdata[i], depth + 1))
      return FALSE;
  return TRUE;
}

static gboolean
dicts_equal (GHashTable *a,
             GHashTable *b,
             guint       depth)
{
  GHashTableIter iter;
  gpointer key, value;

  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gpointer other;

      if (!g_hash_table_lookup_extended (b, key, NULL, &other))
        return FALSE;
      if (!values_equal (value, other, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
property_is_key (const TypeEntry *entry,
                 GParamSpec      *pspec)
{
  if (entry->key_properties == NULL)
    return TRUE;
  for (gsize i = 0; entry->key_properties[i] != NULL; i++)
    {
      GParamSpec *key = g_object_class_find_property (g_type_class_peek (entry->type),
                                                      entry->key_properties[i]);
      if (key == pspec)
        return TRUE;
    }
  return FALSE;
}

static gboolean
objects_equal (GObject *a,
               GObject *b,
               guint    depth)
{
  const TypeEntry *entry;

  if (a == b)
    return TRUE;
  if (G_OBJECT_TYPE (a) != G_OBJECT_TYPE (b))
    return FALSE;
  entry = registry_lookup_object (G_OBJECT_TYPE (a));
  if (entry == NULL)
    return FALSE;   /* identity, as Python's default __eq__ */

  if (entry->kind == ENTRY_PROPERTIES)
    {
      g_autofree GParamSpec **pspecs = NULL;
      guint n_pspecs = 0;

      pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (a), &n_pspecs);
      for (guint i = 0; i < n_pspecs; i++)
        {
          g_auto(GValue) va = G_VALUE_INIT;
          g_auto(GValue) vb = G_VALUE_INIT;

          if (!property_travels (pspecs[i]) || !property_is_key (entry, pspecs[i]))
            continue;
          g_value_init (&va, pspecs[i]->value_type);
          g_value_init (&vb, pspecs[i]->value_type);
          g_object_get_property (a, pspecs[i]->name, &va);
          g_object_get_property (b, pspecs[i]->name, &vb);
          if (!values_equal (&va, &vb, depth + 1))
            return FALSE;
        }
      return TRUE;
    }

  if (entry->kind == ENTRY_REDUCER && entry->reduce != NULL)
    {
      /* equal when they reduce to the same state (e.g. the same shared
       * block); the transfer rule is about travelling, not comparing */
      g_autoptr(GVariant) sa = entry->reduce (a, entry->user_data, NULL);
      g_autoptr(GVariant) sb = entry->reduce (b, entry->user_data, NULL);

      if (sa != NULL)
        g_variant_take_ref (sa);
      if (sb != NULL)
        g_variant_take_ref (sb);
      return sa != NULL && sb != NULL && g_variant_equal (sa, sb);
    }
  return FALSE;
}

static gboolean
values_equal (const GValue *a,
              const GValue *b,
              guint         depth)
{
  Unpacked ua = unpack (a);
  Unpacked ub = unpack (b);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    return FALSE;

  if (is_number (ua.kind) && is_number (ub.kind))
    return numbers_equal (&ua, &ub);

  /* a strv and a list of strings are the same thing on the wire */
  if ((ua.kind == KIND_STRV) != (ub.kind == KIND_STRV) &&
      (ua.kind == KIND_LIST || ub.kind == KIND_LIST))
    {
      const Unpacked *strv = ua.kind == KIND_STRV ? &ua : &ub;
      const Unpacked *list = ua.kind == KIND_STRV ? &ub : &ua;
      g_autoptr(GPtrArray) as_list = strv_to_list (strv->p);

      return lists_equal (as_list, (GPtrArray *) list->p, depth);
    }

  if (ua.kind != ub.kind)
    return FALSE;

  switch (ua.kind)
    {
    case KIND_NONE:
      return TRUE;
    case KIND_BOOL:
      return ua.i == ub.i;
    case KIND_STRING:
      return strcmp (ua.p, ub.p) == 0;
    case KIND_BYTES:
      return g_bytes_equal (ua.p, ub.p);
    case KIND_VARIANT:
      return g_variant_equal (ua.p, ub.p);
    case KIND_LIST:
      return lists_equal ((GPtrArray *) ua.p, (GPtrArray *) ub.p, depth);
    case KIND_STRV:
      return g_strv_equal (ua.p, ub.p);
    case KIND_DICT:
      return dicts_equal ((GHashTable *) ua.p, (GHashTable *) ub.p, depth);
    case KIND_OBJECT:
      return objects_equal ((GObject *) ua.p, (GObject *) ub.p, depth);
    case KIND_OTHER:
    default:
      return G_VALUE_TYPE (a) == G_VALUE_TYPE (b) && ua.p == ub.p;
    }
}

/**
 * mp_gvalue_equal:
 * @a: a #GValue, possibly unset (None)
 * @b: a #GValue, possibly unset (None)
 *
 * Compares two values the way Python's `==` would after a round trip:
 * numbers by value whatever their width, strings, bytes, lists and dicts by
 * content, registered objects by their key properties (all properties when
 * the type named none), other objects by identity.
 *
 * Returns: %TRUE if equal
 *
 * Since: 0.1
 */
gboolean
mp_gvalue_equal (const GValue *a,
                const GValue *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return values_equal (a, b, 0);
}

static gboolean wire_equal (GVariant *a,
                            GVariant *b,
                            guint     depth);

static GVariant *
unbox (GVariant *wire)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_VARIANT))
    return g_variant_get_variant (wire);
  return g_variant_ref (wire);
}

static gboolean
wire_as_number (GVariant *wire,
                Unpacked *u)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_INT64))
    {
      u->kind = KIND_SIGNED;
      u->i = g_variant_get_int64 (wire);
      return TRUE;
    }
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_UINT64))
    {
      u->kind = KIND_UNSIGNED;
      u->u = g_variant_get_uint64 (wire);
      return TRUE;
    }
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_DOUBLE))
    {
      u->kind = KIND_DOUBLE;
      u->d = g_variant_get_double (wire);
      return TRUE;
    }
  return FALSE;
}

static gboolean
wire_is_none (GVariant *wire)
{
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE_UNIT))
    return TRUE;
  if (g_variant_is_of_type (wire, G_VARIANT_TYPE ("ms")))
    {
      g_autoptr(GVariant) text = g_variant_get_maybe (wire);

      return text == NULL;
    }
  return FALSE;
}

/* a{sv} lookup: for that type GLib unboxes the "v" itself */
static GVariant *
vardict_lookup (GVariant   *dict,
                const char *key)
{
  return g_variant_lookup_value (dict, key, NULL);
}

static gboolean
vardicts_equal (GVariant *a,
                GVariant *b,
                guint     depth)
{
  gsize n = g_variant_n_children (a);

  if (n != g_variant_n_children (b))
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) item = g_variant_get_child_value (a, i);
      g_autoptr(GVariant) key = g_variant_get_child_value (item, 0);
      g_autoptr(GVariant) va = child_unboxed (item, 1);
      g_autoptr(GVariant) vb = vardict_lookup (b, g_variant_get_string (key, NULL));

      if (vb == NULL || !wire_equal (va, vb, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
wire_objects_equal (GVariant *a,
                    GVariant *b,
                    guint     depth)
{
  g_autoptr(GVariant) name_a = g_variant_get_child_value (a, 0);
  g_autoptr(GVariant) name_b = g_variant_get_child_value (b, 0);
  g_autoptr(GVariant) state_a = child_unboxed (a, 1);
  g_autoptr(GVariant) state_b = child_unboxed (b, 1);
  const char *name = g_variant_get_string (name_a, NULL);
  const TypeEntry *entry;

  if (strcmp (name, g_variant_get_string (name_b, NULL)) != 0)
    return FALSE;

  entry = registry_lookup_name (name);
  if (entry == NULL || entry->kind != ENTRY_PROPERTIES ||
      !g_variant_is_of_type (state_a, G_VARIANT_TYPE_VARDICT) ||
      !g_variant_is_of_type (state_b, G_VARIANT_TYPE_VARDICT))
    return g_variant_equal (state_a, state_b);

  if (entry->key_properties == NULL)
    return vardicts_equal (state_a, state_b, depth);

  for (gsize i = 0; entry->key_properties[i] != NULL; i++)
    {
      GParamSpec *pspec = g_object_class_find_property (g_type_class_peek (entry->type),
                                                        entry->key_properties[i]);
      const char *key = pspec != NULL ? pspec->name : entry->key_properties[i];
      g_autoptr(GVariant) va = vardict_lookup (state_a, key);
      g_autoptr(GVariant) vb = vardict_lookup (state_b, key);

      if (va == NULL && vb == NULL)
        continue;
      if (va == NULL || vb == NULL || !wire_equal (va, vb, depth + 1))
        return FALSE;
    }
  return TRUE;
}

static gboolean
wire_equal (GVariant *a,
            GVariant *b,
            guint     depth)
{
  g_autoptr(GVariant) ia = unbox (a);
  g_autoptr(GVariant) ib = unbox (b);
  Unpacked na, nb;

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    return g_variant_equal (ia, ib);

  if (wire_as_number (ia, &na) && wire_as_number (ib, &nb))
    return numbers_equal (&na, &nb);
  if (wire_is_none (ia) && wire_is_none (ib))
    return TRUE;
  if (!g_variant_type_equal (g_variant_get_type (ia), g_variant_get_type (ib)))
    return FALSE;

  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (WIRE_OBJECT)))
    return wire_objects_equal (ia, ib, depth);
  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (WIRE_LIST)))
    {
      gsize n = g_variant_n_children (ia);

      if (n != g_variant_n_children (ib))
        return FALSE;
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) ea = child_unboxed (ia, i);
          g_autoptr(GVariant) eb = child_unboxed (ib, i);

          if (!wire_equal (ea, eb, depth + 1))
            return FALSE;
        }
      return TRUE;
    }
  if (g_variant_is_of_type (ia, G_VARIANT_TYPE (WIRE_DICT)))
    return vardicts_equal (ia, ib, depth);

  return g_variant_equal (ia, ib);
}

/**
 * mp_serialize_wire_equal:
 * @a: a wire value ("v" or unboxed)
 * @b: a wire value ("v" or unboxed)
 *
 * Compares two serialized values as mp_gvalue_equal() compares live ones,
 * without decoding them: registered objects by their key properties.
 * Safe on any well-typed input.
 *
 * Returns: %TRUE if equal
 *
 * Since: 0.1
 */
gboolean
mp_serialize_wire_equal (GVariant *a,
                         GVariant *b)
{
  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  return wire_equal (a, b, 0);
}

/* ------------------------------------------------------------------ */
/* Python-like text                                                    */

static void
append_quoted (GString    *out,
               const char *data,
               gsize       len,
               gboolean    bytes)
{
  char quote = '\'';

  if (memchr (data, '\'', len) != NULL && memchr (data, '"', len) == NULL)
    quote = '"';

  g_string_append_c (out, quote);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar) data[i];

      if (c == (guchar) quote || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, (char) c);
        }
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20 || c == 0x7f || (bytes && c > 0x7f))
        g_string_append_printf (out, "\\x%02x", c);
      else
        g_string_append_c (out, (char) c);
    }
  g_string_append_c (out, quote);
}

static void
append_string_repr (GString    *out,
                    const char *text)
{
  append_quoted (out, text, strlen (text), FALSE);
}

/* Python's repr of a float: the shortest text that reads back the same,
 * positional between 1e-4 and 1e16, else scientific with 2+ exponent
 * digits. */
static void
append_double_repr (GString *out,
                    double   d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  char digits[32];
  gsize n_digits = 0;
  const char *p;
  int exponent;
  int point;

  if (isnan (d))
    {
      g_string_append (out, "nan");
      return;
    }
  if (isinf (d))
    {
      g_string_append (out, d < 0 ? "-inf" : "inf");
      return;
    }

  for (int precision = 0; precision < 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%de", precision);
      g_ascii_formatd (buf, sizeof buf, format, d);
      if (g_ascii_strtod (buf, NULL) == d)
        break;
    }

  p = buf;
  if (*p == '-')
    {
      g_string_append_c (out, '-');
      p++;
    }
  for (; *p != 'e' && *p != '\0'; p++)
    if (g_ascii_isdigit (*p) && n_digits < sizeof digits - 1)
      digits[n_digits++] = *p;
  exponent = *p == 'e' ? atoi (p + 1) : 0;
  while (n_digits > 1 && digits[n_digits - 1] == '0')
    n_digits--;
  digits[n_digits] = '\0';
  point = exponent + 1;   /* digits before the decimal point */

  if (point > -4 && point <= 16)
    {
      if (point <= 0)
        {
          g_string_append (out, "0.");
          for (int i = 0; i < -point; i++)
            g_string_append_c (out, '0');
          g_string_append (out, digits);
        }
      else if ((gsize) point >= n_digits)
        {
          g_string_append (out, digits);
          for (gsize i = n_digits; i < (gsize) point; i++)
            g_string_append_c (out, '0');
          g_string_append (out, ".0");
        }
      else
        {
          g_string_append_len (out, digits, point);
          g_string_append_c (out, '.');
          g_string_append (out, digits + point);
        }
    }
  else
    {
      g_string_append_c (out, digits[0]);
      if (n_digits > 1)
        {
          g_string_append_c (out, '.');
          g_string_append (out, digits + 1);
        }
      g_string_append_printf (out, "e%c%02d", exponent < 0 ? '-' : '+', ABS (exponent));
    }
}

static void append_repr (GString      *out,
                         const GValue *value,
                         guint         depth);

static void
append_object_repr (GString *out,
                    GObject *object,
                    guint    depth)
{
  const TypeEntry *entry = registry_lookup_object (G_OBJECT_TYPE (object));
  g_autofree GParamSpec **pspecs = NULL;
  guint n_pspecs = 0;
  gboolean first = TRUE;

  if (entry == NULL || entry->kind != ENTRY_PROPERTIES)
    {
      g_string_append_printf (out, "<%s object at %p>", G_OBJECT_TYPE_NAME (object), (void *) object);
      return;
    }

  g_string_append_printf (out, "%s(", G_OBJECT_TYPE_NAME (object));
  pspecs = g_object_class_list_properties (G_OBJECT_GET_CLASS (object), &n_pspecs);
  for (guint i = 0; i < n_pspecs; i++)
    {
      g_auto(GValue) value = G_VALUE_INIT;
      g_autofree char *name = NULL;

      if (!property_travels (pspecs[i]))
        continue;
      g_value_init (&value, pspecs[i]->value_type);
      g_object_get_property (object, pspecs[i]->name, &value);
      /* Python keyword style: squared_num, not squared-num */
      name = g_strdelimit (g_strdup (pspecs[i]->name), "-", '_');
      g_string_append_printf (out, "%s%s=", first ? "" : ", ", name);
      append_repr (out, &value, depth + 1);
      first = FALSE;
    }
  g_string_append_c (out, ')');
}

static void
append_repr (GString      *out,
             const GValue *value,
             guint         depth)
{
  Unpacked u = unpack (value);

  if (depth > MP_SERIALIZE_MAX_DEPTH)
    {
      g_string_append (out, "...");
      return;
    }

  switch (u.kind)
    {
    case KIND_NONE:
      g_string_append (out, "None");
      return;
    case KIND_BOOL:
      g_string_append (out, u.i ? "True" : "False");
      return;
    case KIND_SIGNED:
      g_string_append_printf (out, "%" G_GINT64_FORMAT, u.i);
      return;
    case KIND_UNSIGNED:
      g_string_append_printf (out, "%" G_GUINT64_FORMAT, u.u);
      return;
    case KIND_DOUBLE:
      append_double_repr (out, u.d);
      return;
    case KIND_STRING:
      append_string_repr (out, u.p);
      return;
    case KIND_BYTES:
      {
        gsize size = 0;
        const char *data = g_bytes_get_data ((GBytes *) u.p, &size);

        g_string_append_c (out, 'b');
        append_quoted (out, data != NULL ? data : "", size, TRUE);
        return;
      }
    case KIND_VARIANT:
      {
        g_autofree char *text = g_variant_print ((GVariant *) u.p, TRUE);

        g_string_append (out, text);
        return;
      }
    case KIND_LIST:
      {
        GPtrArray *list = (GPtrArray *) u.p;

        g_string_append_c (out, '[');
        for (guint i = 0; i < list->len; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            append_repr (out, list->pdata[i], depth + 1);
          }
        g_string_append_c (out, ']');
        return;
      }
    case KIND_STRV:
      {
        const char * const *strv = u.p;

        g_string_append_c (out, '[');
        for (gsize i = 0; strv[i] != NULL; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            append_string_repr (out, strv[i]);
          }
        g_string_append_c (out, ']');
        return;
      }
    case KIND_DICT:
      {
        GHashTable *dict = (GHashTable *) u.p;
        g_autofree const char **keys = NULL;
        guint n_keys = 0;

        /* sorted: a GHashTable has no insertion order to show */
        keys = (const char **) g_hash_table_get_keys_as_array (dict, &n_keys);
        qsort (keys, n_keys, sizeof (char *), compare_strings);
        g_string_append_c (out, '{');
        for (guint i = 0; i < n_keys; i++)
          {
            if (i > 0)
              g_string_append (out, ", ");
            append_string_repr (out, keys[i]);
            g_string_append (out, ": ");
            append_repr (out, g_hash_table_lookup (dict, keys[i]), depth + 1);
          }
        g_string_append_c (out, '}');
        return;
      }
    case KIND_OBJECT:
      append_object_repr (out, (GObject *) u.p, depth);
      return;
    case KIND_OTHER:
    default:
      {
        g_autofree char *contents = g_strdup_value_contents (value);

        g_string_append_printf (out, "<%s %s>", G_VALUE_TYPE_NAME (value), contents);
        return;
      }
    }
}

/**
 * mp_gvalue_to_string:
 * @value: a #GValue, possibly unset (None)
 *
 * Formats @value as Python's repr() would: `None`, `True`, `42`, `1.5`,
 * `'text'`, `b'\x00'`, `[0, 1, 4]`, `{'a': 1}` (keys sorted), and
 * registered objects as `TypeName(prop=value, ...)` in property order.
 *
 * Returns: (transfer full): the text
 *
 * Since: 0.1
 */
char *
mp_gvalue_to_string (const GValue *value)
{
  GString *out;

  g_return_val_if_fail (value != NULL, NULL);

  out = g_string_new (NULL);
  append_repr (out, value, 0);
  return g_string_free (out, FALSE);
}

/* ------------------------------------------------------------------ */
/* MpArgs                                                              */

struct _MpArgs {
  gatomicrefcount  ref_count;
  GPtrArray       *values;    /* GValue*, unset = None */
};

/**
 * mp_args_get_type:
 *
 * Returns: the boxed #GType of #MpArgs (copy = ref)
 *
 * Since: 0.1
 */
GType
mp_args_get_type (void)
{
  static gsize type_id = 0;

  /* by hand, as G_DEFINE_BOXED_TYPE trips -Wpedantic */
  if (g_once_init_enter (&type_id))
    {
      GType type = g_boxed_type_register_static (g_intern_static_string ("MpArgs"),
                                                 (GBoxedCopyFunc) mp_args_ref,
                                                 (GBoxedFreeFunc) mp_args_unref);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

static MpArgs *
args_alloc (void)
{
  MpArgs *args = g_new0 (MpArgs, 1);

  g_atomic_ref_count_init (&args->ref_count);
  args->values = mp_gvalue_list_new ();
  return args;
}

/* Appends a new #GValue holding @type (unset for %G_TYPE_INVALID) and
 * returns it, owned by @args, for the caller to set. */
static GValue *
args_append_new (MpArgs *args,
                 GType   type)
{
  GValue *value = mp_gvalue_new (type);

  g_ptr_array_add (args->values, value);
  return value;
}

/**
 * mp_args_new:
 * @first_type: the #GType of the first argument, or %G_TYPE_INVALID
 * @...: its value, then more type/value pairs, ended by %G_TYPE_INVALID
 *
 * Builds a tuple of arguments as g_object_new() collects properties:
 * `mp_args_new (G_TYPE_INT, 3, G_TYPE_STRING, "x", G_TYPE_INVALID)`.
 * Values are copied (strings duplicated, objects referenced). As with any
 * varargs, each value must have the C type of its GType: a %G_TYPE_INT64
 * takes a gint64 (`G_GINT64_CONSTANT (3)`), a %G_TYPE_DOUBLE a double
 * (`2.0`, not `2`). None is added with mp_args_add_value() and an unset
 * #GValue.
 *
 * Returns: (transfer full): the arguments
 *
 * Since: 0.1
 */
MpArgs *
mp_args_new (GType first_type,
             ...)
{
  MpArgs *args = args_alloc ();
  va_list ap;
  GType type = first_type;

  va_start (ap, first_type);
  while (type != G_TYPE_INVALID)
    {
      GValue *value;
      char *collect_error = NULL;

      if (!G_TYPE_IS_VALUE_TYPE (type))
        {
          g_critical ("%s: argument %u: '%s' is not a value type", G_STRFUNC,
                      args->values->len, g_type_name (type));
          break;
        }
      value = g_new0 (GValue, 1);
      G_VALUE_COLLECT_INIT (value, type, ap, 0, &collect_error);
      if (collect_error != NULL)
        {
          g_critical ("%s: argument %u: %s", G_STRFUNC, args->values->len, collect_error);
          g_free (collect_error);
          /* like g_object_new(): the value may be half made, so leak it */
          break;
        }
      g_ptr_array_add (args->values, value);
      type = va_arg (ap, GType);
    }
  va_end (ap);
  return args;
}

/**
 * mp_args_ref:
 * @args: an #MpArgs
 *
 * Returns: (transfer full): @args
 *
 * Since: 0.1
 */
MpArgs *
mp_args_ref (MpArgs *args)
{
  g_return_val_if_fail (args != NULL, NULL);

  g_atomic_ref_count_inc (&args->ref_count);
  return args;
}

/**
 * mp_args_unref:
 * @args: (transfer full): an #MpArgs
 *
 * Since: 0.1
 */
void
mp_args_unref (MpArgs *args)
{
  g_return_if_fail (args != NULL);

  if (g_atomic_ref_count_dec (&args->ref_count))
    {
      g_ptr_array_unref (args->values);
      g_free (args);
    }
}

/**
 * mp_args_add_value:
 * @args: an #MpArgs
 * @value: a #GValue to copy; unset means None
 *
 * Since: 0.1
 */
void
mp_args_add_value (MpArgs       *args,
                   const GValue *value)
{
  g_return_if_fail (args != NULL);
  g_return_if_fail (value != NULL);

  g_ptr_array_add (args->values, mp_gvalue_copy (value));
}

/**
 * mp_args_add_boolean:
 * @args: an #MpArgs
 * @v: the value
 *
 * Since: 0.1
 */
void
mp_args_add_boolean (MpArgs   *args,
                     gboolean  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_boolean (args_append_new (args, G_TYPE_BOOLEAN), v);
}

/**
 * mp_args_add_int:
 * @args: an #MpArgs
 * @v: the value, added as a %G_TYPE_INT64
 *
 * Since: 0.1
 */
void
mp_args_add_int (MpArgs *args,
                 gint64  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_int64 (args_append_new (args, G_TYPE_INT64), v);
}

/**
 * mp_args_add_double:
 * @args: an #MpArgs
 * @v: the value
 *
 * Since: 0.1
 */
void
mp_args_add_double (MpArgs *args,
                    double  v)
{
  g_return_if_fail (args != NULL);

  g_value_set_double (args_append_new (args, G_TYPE_DOUBLE), v);
}

/**
 * mp_args_add_string:
 * @args: an #MpArgs
 * @v: (nullable): the string, copied
 *
 * Since: 0.1
 */
void
mp_args_add_string (MpArgs     *args,
                    const char *v)
{
  g_return_if_fail (args != NULL);

  g_value_set_string (args_append_new (args, G_TYPE_STRING), v);
}

/**
 * mp_args_add_object:
 * @args: an #MpArgs
 * @object: (type GObject) (nullable): the object, referenced
 *
 * Since: 0.1
 */
void
mp_args_add_object (MpArgs   *args,
                    gpointer  object)
{
  g_return_if_fail (args != NULL);
  g_return_if_fail (object == NULL || G_IS_OBJECT (object));

  g_value_set_object (args_append_new (args, object != NULL ? G_OBJECT_TYPE (object)
                                                            : G_TYPE_OBJECT),
                      object);
}

/**
 * mp_args_get_length:
 * @args: an #MpArgs
 *
 * Returns: the number of arguments
 *
 * Since: 0.1
 */
guint
mp_args_get_length (MpArgs *args)
{
  g_return_val_if_fail (args != NULL, 0);

  return args->values->len;
}

/**
 * mp_args_get_value:
 * @args: an #MpArgs
 * @index: an index below mp_args_get_length()
 *
 * Returns: (transfer none): the argument; unset for None
 *
 * Since: 0.1
 */
const GValue *
mp_args_get_value (MpArgs *args,
                   guint   index)
{
  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  return args->values->pdata[index];
}

/**
 * mp_args_get_boolean:
 * @args: an #MpArgs
 * @index: the index of a boolean argument
 *
 * Returns: the value
 *
 * Since: 0.1
 */
gboolean
mp_args_get_boolean (MpArgs *args,
                     guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (index < args->values->len, FALSE);

  value = args->values->pdata[index];
  g_return_val_if_fail (G_VALUE_HOLDS_BOOLEAN (value), FALSE);
  return g_value_get_boolean (value);
}

/**
 * mp_args_get_int:
 * @args: an #MpArgs
 * @index: the index of an integer argument of any width (an unsigned one
 *   must fit in a gint64)
 *
 * Returns: the value
 *
 * Since: 0.1
 */
gint64
mp_args_get_int (MpArgs *args,
                 guint   index)
{
  Unpacked u;

  g_return_val_if_fail (args != NULL, 0);
  g_return_val_if_fail (index < args->values->len, 0);

  u = unpack (args->values->pdata[index]);
  g_return_val_if_fail (u.kind == KIND_SIGNED || u.kind == KIND_UNSIGNED, 0);
  if (u.kind == KIND_SIGNED)
    return u.i;
  g_return_val_if_fail (u.u <= G_MAXINT64, 0);
  return (gint64) u.u;
}

/**
 * mp_args_get_double:
 * @args: an #MpArgs
 * @index: the index of a float or double argument
 *
 * Returns: the value
 *
 * Since: 0.1
 */
double
mp_args_get_double (MpArgs *args,
                    guint   index)
{
  Unpacked u;

  g_return_val_if_fail (args != NULL, 0.0);
  g_return_val_if_fail (index < args->values->len, 0.0);

  u = unpack (args->values->pdata[index]);
  g_return_val_if_fail (u.kind == KIND_DOUBLE, 0.0);
  return u.d;
}

/**
 * mp_args_get_string:
 * @args: an #MpArgs
 * @index: the index of a string argument (or None)
 *
 * Returns: (transfer none) (nullable): the string; %NULL for None
 *
 * Since: 0.1
 */
const char *
mp_args_get_string (MpArgs *args,
                    guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  value = args->values->pdata[index];
  if (!G_IS_VALUE (value))
    return NULL;
  g_return_val_if_fail (G_VALUE_HOLDS_STRING (value), NULL);
  return g_value_get_string (value);
}

/**
 * mp_args_get_object:
 * @args: an #MpArgs
 * @index: the index of an object argument (or None)
 *
 * Returns: (transfer none) (type GObject) (nullable): the object
 *
 * Since: 0.1
 */
gpointer
mp_args_get_object (MpArgs *args,
                    guint   index)
{
  const GValue *value;

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (index < args->values->len, NULL);

  value = args->values->pdata[index];
  if (!G_IS_VALUE (value))
    return NULL;
  g_return_val_if_fail (G_VALUE_HOLDS_OBJECT (value), NULL);
  return g_value_get_object (value);
}

/**
 * mp_args_serialize:
 * @args: an #MpArgs
 * @error: return location for a #GError
 *
 * Encodes the arguments as an "av" tuple; errors name the argument, e.g.
 * `args[0].client: GSocketClient holds a live OS handle`.
 *
 * Returns: (transfer full): a new "av" #GVariant (not floating), or %NULL.
 *
 * Since: 0.1
 */
GVariant *
mp_args_serialize (MpArgs  *args,
                   GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("av"));
  g_autoptr(GString) path = g_string_new (NULL);

  g_return_val_if_fail (args != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < args->values->len; i++)
    {
      GVariant *child;

      g_string_printf (path, "args[%u]", i);
      child = encode_value (args->values->pdata[i], path, 1 + LIST_CHILD_DEPTH, error);
      if (child == NULL)
        return NULL;
      g_variant_builder_add_value (&builder, g_variant_new_variant (child));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/**
 * mp_args_deserialize:
 * @wire: an "av" #GVariant from mp_args_serialize(), maybe untrusted
 * @error: return location for a #GError
 *
 * Returns: (transfer full): fresh arguments, or %NULL with
 *   %MP_ERROR_PROTOCOL naming the argument.
 *
 * Since: 0.1
 */
MpArgs *
mp_args_deserialize (GVariant  *wire,
                     GError   **error)
{
  g_autoptr(MpArgs) args = NULL;
  g_autoptr(GString) path = g_string_new (NULL);
  g_autoptr(GVariant) list = NULL;
  gsize n;

  g_return_val_if_fail (wire != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_variant_is_normal_form (wire))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received arguments are not well-formed (not in normal form)");
      return NULL;
    }
  list = unbox (wire);
  if (!g_variant_is_of_type (list, G_VARIANT_TYPE ("av")))
    {
      mp_set_error (error, MP_ERROR_PROTOCOL,
                    "received arguments have wire type '%s', expected 'av'",
                    g_variant_get_type_string (list));
      return NULL;
    }

  args = args_alloc ();
  n = g_variant_n_children (list);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = child_unboxed (list, i);
      GValue *value = args_append_new (args, G_TYPE_INVALID);

      g_string_printf (path, "args[%" G_GSIZE_FORMAT "]", i);
      if (!decode_value (child, value, path, 1 + LIST_CHILD_DEPTH, error))
        return NULL;
    }
  return g_steal_pointer (&args);
}
