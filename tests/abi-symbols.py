#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Compares what libmpshare.so exports with what the public headers declare.

Exported: `nm -D --defined-only LIB`. Declared: every non-static function
that gcc's -aux-info lists from the public headers, compiling a file that
includes only <mpshare.h> (so a declaration counts whether or not it carries
MP_AVAILABLE_IN_ALL). The test fails naming each private symbol that is
exported and each public function that is not. TAP on stdout.

  abi-symbols.py --lib LIB --nm NM --cc CC [--pkg-config PC] \
      [--coverage-cc CC] --include DIR HEADER...

In a coverage build (-Db_coverage=true) the library also exports the
coverage runtime the compiler linked into it (gcc's libgcov: __gcov_*,
mangle_path); --coverage-cc names that compiler, and what its runtime
archive defines is not counted as ours.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

PKGS = ['glib-2.0', 'gobject-2.0', 'gio-2.0', 'gio-unix-2.0', 'json-glib-1.0']


def exported(nm, lib):
    out = subprocess.run([nm, '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    syms = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3:
            syms.add(fields[2].split('@')[0])
    return syms


# the coverage runtimes gcc and clang link into an instrumented library
COVERAGE_RUNTIMES = ['libgcov.a', 'libclang_rt.profile-x86_64.a',
                     'libclang_rt.profile.a']


def coverage_runtime(nm, cc):
    """What the compiler's coverage runtime archive defines."""
    syms = set()
    for name in COVERAGE_RUNTIMES:
        path = subprocess.run(cc + ['-print-file-name=' + name],
                              capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(path) or not os.path.isfile(path):
            continue
        out = subprocess.run([nm, '--defined-only', path],
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = line.split()
            if len(fields) == 3:
                syms.add(fields[2])
    return syms


def declared(cc, pkg_config, include, headers):
    cflags = []
    if pkg_config:
        cflags = shlex.split(subprocess.run(
            [pkg_config, '--cflags'] + PKGS, check=True,
            capture_output=True, text=True).stdout)
    names = {os.path.basename(h) for h in headers}
    with tempfile.TemporaryDirectory(prefix='mp-abi-') as tmp:
        src = os.path.join(tmp, 'umbrella.c')
        aux = os.path.join(tmp, 'umbrella.aux')
        with open(src, 'w') as f:
            f.write('#include <mpshare.h>\n')
        subprocess.run(cc + ['-fsyntax-only', '-aux-info', aux, '-I', include]
                       + cflags + [src], check=True)
        text = open(aux).read()
    decls = {}
    for line in text.splitlines():
        m = re.match(r'/\* (\S+):(\d+):\w+ \*/ (.*)', line)
        if not m or os.path.basename(m.group(1)) not in names:
            continue
        if os.path.dirname(os.path.abspath(m.group(1))) != os.path.abspath(include):
            continue
        if re.match(r'static\b', m.group(3)):
            continue    # inline helpers (g_autoptr cleanups): nothing to export
        name = re.search(r'(\w+) \(', m.group(3)).group(1)
        decls[name] = '%s:%s' % (os.path.basename(m.group(1)), m.group(2))
    return decls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--lib', required=True)
    ap.add_argument('--nm', required=True)
    ap.add_argument('--cc', required=True,
                    help='a gcc command (-aux-info is gcc\'s), space-separated')
    ap.add_argument('--pkg-config')
    ap.add_argument('--coverage-cc',
                    help='the compiler of a coverage build, space-separated')
    ap.add_argument('--include', required=True)
    ap.add_argument('headers', nargs='+')
    args = ap.parse_args()

    exp = exported(args.nm, args.lib)
    runtime = set()
    if args.coverage_cc:
        runtime = coverage_runtime(args.nm, shlex.split(args.coverage_cc))
        if not runtime:
            print('Bail out! no coverage runtime archive found for %s'
                  % args.coverage_cc)
            return 1
        exp -= runtime
    decls = declared(shlex.split(args.cc), args.pkg_config, args.include,
                     args.headers)
    pub = set(decls)
    private = sorted(exp - pub)
    missing = sorted(pub - exp)

    print('1..2')
    print('# %d exported, %d declared in the public headers'
          % (len(exp), len(pub)))
    if runtime:
        print('# (not counting the coverage runtime: %d symbols)'
              % len(runtime))
    if private:
        print('# exported, but no public header declares them (make them'
              ' static, or\n# declare them in a *-private.h, without'
              ' MP_AVAILABLE_IN_ALL):')
        for s in private:
            print('#   %s' % s)
    print('%s 1 - /abi/exports/nothing-private' % ('not ok' if private else 'ok'))
    if missing:
        print('# declared in a public header, not exported (put'
              ' MP_AVAILABLE_IN_ALL\n# before the declaration, or define'
              ' the function):')
        for s in missing:
            print('#   %s (%s)' % (s, decls[s]))
    print('%s 2 - /abi/exports/every-public' % ('not ok' if missing else 'ok'))
    return 1 if private or missing else 0


if __name__ == '__main__':
    sys.exit(main())
