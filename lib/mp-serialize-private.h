/* mp-serialize-private.h — what the serializer's files share, and the
 * spawning context the process layer sets
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "mpshare.h"

G_BEGIN_DECLS

/* While a process is being started the starting thread holds a context:
 * inherit-only objects may then be serialized, and the fds they need are
 * collected here so the process layer keeps them open across exec. */
typedef struct {
  GArray *fds;      /* int: fds that must survive into the child */
} MpSpawningContext;

void mp_spawning_begin (MpSpawningContext *context);
void mp_spawning_end   (MpSpawningContext *context);

/* ------------------------------------------------------------------ */
/* What the serializer's files share (mp-registry.c, mp-serialize.c,   */
/* mp-deserialize.c, mp-equal.c, mp-repr.c, mp-args.c, mp-gvalue.c)    */

/* Bound on the GVariant nesting of one value. GLib refuses more than 128
 * levels in untrusted data; staying at 64 leaves room for the envelopes
 * (frames, manager requests) that carry our values, and stops reference
 * cycles between objects. */
#define MP_SERIALIZE_MAX_DEPTH 64

/* how many GVariant levels lie between a container and its elements */
#define MP_LIST_CHILD_DEPTH   2   /* av -> v -> value */
#define MP_DICT_CHILD_DEPTH   3   /* a{sv} -> {sv} -> v -> value */
#define MP_OBJECT_CHILD_DEPTH 5   /* (sv) -> v -> a{sv} -> {sv} -> v -> value */

#define MP_WIRE_NONE    "()"
#define MP_WIRE_OBJECT  "(sv)"
#define MP_WIRE_LIST    "av"
#define MP_WIRE_DICT    "a{sv}"
#define MP_WIRE_VARIANT "(v)"

/* mp-registry.c: how a registered type travels */
typedef enum {
  MP_TYPE_ENTRY_PROPERTIES,
  MP_TYPE_ENTRY_REDUCER,
  MP_TYPE_ENTRY_REFUSAL,
} MpTypeEntryKind;

typedef struct {
  MpTypeEntryKind kind;
  GType          type;
  char         **key_properties;   /* PROPERTIES: NULL = all properties */
  MpTransfer     transfer;         /* REDUCER */
  MpReduceFunc   reduce;
  MpRebuildFunc  rebuild;
  gpointer       user_data;
  MpError        code;             /* REFUSAL */
  char          *reason;
} MpTypeEntry;

const MpTypeEntry *mp_registry_lookup_type   (GType       type);
const MpTypeEntry *mp_registry_lookup_name   (const char *name);
const MpTypeEntry *mp_registry_lookup_object (GType       type);
gboolean           mp_registry_property_travels (GParamSpec *pspec);

/* mp-serialize.c: errors that name the field path ("Point.x", "[0]") */
void      mp_serialize_set_error_at        (GError     **error,
                                            MpError      code,
                                            GString     *path,
                                            const char  *format,
                                            ...) G_GNUC_PRINTF (4, 5);
void      mp_serialize_propagate_error_at  (GError     **error,
                                            GError      *local,
                                            GString     *path);
void      mp_serialize_path_append_property (GString    *path,
                                             const char *type_name,
                                             const char *property);
void      mp_serialize_path_append_key     (GString     *path,
                                            const char  *key);
int       mp_serialize_compare_strings     (gconstpointer a,
                                            gconstpointer b);
/* a value's wire form without its "v" box (floating), or NULL */
GVariant *mp_serialize_encode              (const GValue *value,
                                            GString      *path,
                                            guint         depth,
                                            GError      **error);

/* mp-deserialize.c */
gboolean    mp_deserialize_decode          (GVariant    *wire,
                                            GValue      *out,
                                            GString     *path,
                                            guint        depth,
                                            GError     **error);
const char *mp_wire_type_for               (GType        type,
                                            gboolean    *none_allowed);
GVariant   *mp_wire_child_unboxed          (GVariant    *container,
                                            gsize        index);
/* @wire's inner value when it is a "v", else @wire (transfer full) */
GVariant   *mp_wire_unbox                  (GVariant    *wire);

/* mp-gvalue.c: the kinds equality and repr() know */
typedef enum {
  MP_GVALUE_KIND_NONE,
  MP_GVALUE_KIND_BOOL,
  MP_GVALUE_KIND_SIGNED,
  MP_GVALUE_KIND_UNSIGNED,
  MP_GVALUE_KIND_DOUBLE,
  MP_GVALUE_KIND_STRING,
  MP_GVALUE_KIND_BYTES,
  MP_GVALUE_KIND_VARIANT,
  MP_GVALUE_KIND_LIST,
  MP_GVALUE_KIND_STRV,
  MP_GVALUE_KIND_DICT,
  MP_GVALUE_KIND_OBJECT,
  MP_GVALUE_KIND_OTHER,
} MpGValueKind;

typedef struct {
  MpGValueKind kind;
  gint64    i;
  guint64   u;
  double    d;
  gconstpointer p;
} MpUnpacked;

MpUnpacked  mp_gvalue_unpack               (const GValue *value);

/* mp-repr.c */
void        mp_repr_append_string          (GString     *out,
                                            const char  *text);

G_END_DECLS
