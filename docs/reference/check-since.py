#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Lists the symbols of a GIR file whose doc comment lacks `Since:`.

Every public symbol of mpshare carries `Since: 0.1`; g-ir-scanner turns it
into the version attribute. Classes' GType structs (MpFooClass, written by
G_DECLARE_*) have no doc comment of their own and are left out. Prints the
symbols and exits 1 when there are any; writes OUTPUT (a stamp) otherwise.

  check-since.py GIR OUTPUT
"""
import sys
import xml.etree.ElementTree as ET

CORE = '{http://www.gtk.org/introspection/core/1.0}'
GLIB = '{http://www.gtk.org/introspection/glib/1.0}'
C = '{http://www.gtk.org/introspection/c/1.0}'
KINDS = ['class', 'interface', 'record', 'union', 'enumeration', 'bitfield',
         'callback', 'constant', 'alias', 'function', 'function-macro',
         'method', 'constructor', 'virtual-method', 'property', 'signal']


def main():
    gir, out = sys.argv[1], sys.argv[2]
    ns = ET.parse(gir).getroot().find(CORE + 'namespace')
    missing = []
    # a callback inside a record is the type of a field (a vfunc of an
    # interface struct): documented with the struct
    nested = {id(cb) for field in ns.iter(CORE + 'field')
              for cb in field.iter(CORE + 'callback')}
    for kind in KINDS:
        for el in ns.iter(CORE + kind):
            if id(el) in nested:
                continue
            if el.get(GLIB + 'is-gtype-struct-for'):
                continue
            if kind == 'virtual-method':
                continue    # documented with the interface struct field
            if el.get('version') is None:
                name = (el.get(C + 'identifier') or el.get(C + 'type')
                        or el.get('name'))
                missing.append('%s %s' % (kind, name))
    for m in missing:
        print('no Since: in the doc comment of %s' % m)
    if missing:
        return 1
    open(out, 'w').write('%s: every symbol has Since:\n' % gir)
    return 0


if __name__ == '__main__':
    sys.exit(main())
