#!/bin/sh
# The public headers compile as C++: <mpshare.h> with g++ -Wall -Wextra
# -Werror, as a C++ program that uses the library would include it.
#
#   tests/cxx-headers.sh SOURCE_ROOT [CXX]
#
# TAP; skipped (exit 77) with the reason when no C++ compiler or no
# pkg-config is found.
src=$1
cxx=${2:-g++}
echo "1..1"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "ok 1 # SKIP no C++ compiler ($cxx): apt-get install g++"
  exit 77
fi
if ! command -v pkg-config >/dev/null 2>&1; then
  echo "ok 1 # SKIP no pkg-config to find GLib's headers: apt-get install pkg-config"
  exit 77
fi
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat > "$tmp/use.cc" <<'CC'
#include <mpshare.h>

/* a few names of each header, so that each is really read */
static gboolean
ready (gpointer)
{
  return TRUE;
}

int
main ()
{
  MpPredicate predicate = ready;
  g_autoptr(GError) error = NULL;

  (void) predicate;
  (void) mp_catalog_lookup ("lost-update", &error);
  return mp_error_quark () == 0;
}
CC
flags=$(pkg-config --cflags glib-2.0 gobject-2.0 gio-2.0 gio-unix-2.0 json-glib-1.0) || {
  echo "not ok 1 - pkg-config does not know GLib or json-glib"; exit 1; }
# shellcheck disable=SC2086
if "$cxx" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -I"$src/lib" $flags \
     "$tmp/use.cc" 2>"$tmp/err"; then
  echo "ok 1 - <mpshare.h> compiles as C++ with $cxx -Wall -Wextra -Werror"
else
  sed 's/^/# /' "$tmp/err" | head -n 40
  echo "not ok 1 - <mpshare.h> does not compile as C++"
  exit 1
fi
