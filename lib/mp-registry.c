/* mp-registry.c — the types allowed to cross a process boundary
 *
 * CPython's copyreg: which GObject types may be serialized, by their
 * properties, a reducer of their own, or never (a refusal).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include "mpshare.h"
#include "mp-serialize-private.h"

/* Entries are immutable once published and live as long as the process:
 * a lookup can use one after dropping the lock, and registering a type
 * again only replaces the pointer in the tables. */
static GMutex      registry_lock;
static GHashTable *registry_by_type;   /* GType -> MpTypeEntry* */
static GHashTable *registry_by_name;   /* interned type name -> MpTypeEntry* */
static GPtrArray  *registry_entries;   /* owns every entry ever made */

static void
registry_publish (MpTypeEntry *entry)
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

const MpTypeEntry *
mp_registry_lookup_type (GType type)
{
  const MpTypeEntry *entry = NULL;

  g_mutex_lock (&registry_lock);
  if (registry_by_type != NULL)
    entry = g_hash_table_lookup (registry_by_type, GSIZE_TO_POINTER (type));
  g_mutex_unlock (&registry_lock);
  return entry;
}

const MpTypeEntry *
mp_registry_lookup_name (const char *name)
{
  const MpTypeEntry *entry = NULL;

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
const MpTypeEntry *
mp_registry_lookup_object (GType type)
{
  const MpTypeEntry *entry = mp_registry_lookup_type (type);

  if (entry != NULL)
    return entry;
  for (GType t = g_type_parent (type); t != G_TYPE_INVALID; t = g_type_parent (t))
    {
      entry = mp_registry_lookup_type (t);
      if (entry != NULL && entry->kind != MP_TYPE_ENTRY_PROPERTIES)
        return entry;
    }
  return NULL;
}

gboolean
mp_registry_property_travels (GParamSpec *pspec)
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
  MpTypeEntry *entry;
  GObjectClass *klass;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail (G_TYPE_IS_INSTANTIATABLE (type) && !G_TYPE_IS_ABSTRACT (type));

  klass = g_type_class_ref (type);
  for (gsize i = 0; key_properties != NULL && key_properties[i] != NULL; i++)
    {
      GParamSpec *pspec = g_object_class_find_property (klass, key_properties[i]);

      if (pspec == NULL || !mp_registry_property_travels (pspec))
        {
          g_critical ("%s: %s has no readable and writable property '%s'",
                      G_STRFUNC, g_type_name (type), key_properties[i]);
          g_type_class_unref (klass);
          return;
        }
    }
  /* the class reference is kept for good: equality peeks at the class */

  entry = g_new0 (MpTypeEntry, 1);
  entry->kind = MP_TYPE_ENTRY_PROPERTIES;
  entry->type = type;
  entry->key_properties = key_properties != NULL ? g_strdupv ((char **) key_properties) : NULL;
  registry_publish (entry);
}

/**
 * mp_serialize_register_reducer:
 * @type: a #GObject type; subclasses use it too unless registered themselves
 * @transfer: where objects of @type may be serialized
 * @reduce: (scope forever): turns an object into a #GVariant state
 * @rebuild: (scope forever): turns the state back into an object
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
  MpTypeEntry *entry;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail (transfer <= MP_TRANSFER_NEVER);
  g_return_if_fail (transfer == MP_TRANSFER_NEVER || (reduce != NULL && rebuild != NULL));

  entry = g_new0 (MpTypeEntry, 1);
  entry->kind = MP_TYPE_ENTRY_REDUCER;
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
  MpTypeEntry *entry;

  g_return_if_fail (G_TYPE_IS_OBJECT (type));
  g_return_if_fail ((guint) code < MP_ERROR_N_CODES);
  g_return_if_fail (reason != NULL);

  entry = g_new0 (MpTypeEntry, 1);
  entry->kind = MP_TYPE_ENTRY_REFUSAL;
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
  return mp_registry_lookup_object (type) != NULL;
}
