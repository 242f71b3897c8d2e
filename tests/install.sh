#!/bin/sh
# An install as a packager makes it, into a scratch DESTDIR: the installed
# mpshare finds its installed demos (tour --quiet, run lost-update), a
# program builds and runs against the installed mpshare.pc, and the man
# page and the bash completion are where they belong.
#
#   tests/install.sh MESON BUILD_DIR CC [SANITIZE]
#
# TAP; skipped with the reason when pkg-config or a C compiler is missing.
# SANITIZE is the build's b_sanitize ("none", "address,undefined"): a
# program linked to a sanitized library must be built with it too. The
# scratch directory is removed whatever happens.
meson=$1
build=$2
cc=$3
sanitize=${4:-none}
cflags=
[ "$sanitize" != none ] && cflags="-fsanitize=$sanitize"
n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); failed=1; echo "not ok $n - $1"; }

for tool in pkg-config "$cc"; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "1..0 # SKIP $tool not found: apt-get install pkg-config gcc"
    exit 0
  fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mpshare-install-XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest

if ! "$meson" install -C "$build" --no-rebuild --quiet --destdir "$dest" >"$tmp/log" 2>&1; then
  sed 's/^/# /' "$tmp/log"
  echo "not ok 1 - meson install --destdir"
  echo "1..1"
  exit 1
fi
ok "meson install --destdir"

exe=$(find "$dest" -path '*/bin/mpshare' -type f | head -n 1)
lib=$(find "$dest" -name 'libmpshare.so' | head -n 1)
pc=$(find "$dest" -name mpshare.pc | head -n 1)
demo=$(find "$dest" -path '*/libexec/mpshare/lost-update' -type f | head -n 1)
man=$(find "$dest" -path '*/man1/mpshare.1' | head -n 1)
completion=$(find "$dest" -path '*/bash-completion/completions/mpshare' | head -n 1)
for f in "bin/mpshare:$exe" "libmpshare.so:$lib" "mpshare.pc:$pc" \
         "libexec/mpshare/lost-update:$demo" "man1/mpshare.1:$man" \
         "bash-completion/completions/mpshare:$completion"; do
  if [ -n "${f#*:}" ]; then ok "installed ${f%%:*}"; else not_ok "installed ${f%%:*}"; fi
done
[ -n "$exe" ] && [ -n "$lib" ] && [ -n "$pc" ] || { echo "1..$n"; exit 1; }

# the installed tree alone: no MP_DEMO_DIR, the libraries of the DESTDIR
libdir=$(dirname "$lib")
unset MP_DEMO_DIR MP_PYTHON_DIR
export LD_LIBRARY_PATH="$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

"$exe" tour --quiet >"$tmp/tour" 2>&1
status=$?
sed 's/^/# /' "$tmp/tour"
if [ $status = 0 ] && grep -q "Tour done: every row says yes" "$tmp/tour" &&
   ! grep -q "not built" "$tmp/tour"; then
  ok "installed mpshare tour --quiet: every demo found and every row yes"
else
  not_ok "installed mpshare tour --quiet (exit $status)"
fi

"$exe" run lost-update >"$tmp/run" 2>&1
status=$?
if [ $status = 0 ] && grep -q "lost" "$tmp/run"; then
  ok "installed mpshare run lost-update"
else
  sed 's/^/# /' "$tmp/run"
  not_ok "installed mpshare run lost-update (exit $status)"
fi

# A program against the installed mpshare.pc. The .pc names the configured
# prefix, which lies inside the DESTDIR here: a copy with the DESTDIR's
# prefix stands for it (PKG_CONFIG_SYSROOT_DIR or --define-variable would
# move GLib's own paths too).
cat > "$tmp/use.c" <<'C'
#include <mpshare.h>

int
main (void)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = mp_explain_ids ("hits is 20, expected 40: the total is too small",
                                      -1, &error);

  if (ids == NULL || ids[0] == NULL)
    return 1;
  g_print ("%s\n", ids[0]);
  return 0;
}
C
mkdir "$tmp/pkgconfig"
sed "s|^prefix=|prefix=$dest|" "$pc" > "$tmp/pkgconfig/mpshare.pc"
flags=$(PKG_CONFIG_PATH=$tmp/pkgconfig pkg-config --cflags --libs mpshare 2>"$tmp/pc-err")
if [ $? != 0 ]; then
  sed 's/^/# /' "$tmp/pc-err"
  not_ok "pkg-config --cflags --libs mpshare"
else
  ok "pkg-config --cflags --libs mpshare"
  # shellcheck disable=SC2086
  if "$cc" $cflags -o "$tmp/use" "$tmp/use.c" $flags 2>"$tmp/cc-err"; then
    ok "a program compiles and links against the installed mpshare.pc"
    out=$("$tmp/use" 2>&1)
    if [ "$out" = lost-update ]; then
      ok "it runs with the installed library: $out"
    else
      echo "# $out"
      not_ok "it runs with the installed library"
    fi
  else
    sed 's/^/# /' "$tmp/cc-err"
    not_ok "a program compiles and links against the installed mpshare.pc"
  fi
fi

if command -v bash >/dev/null 2>&1 && [ -n "$completion" ]; then
  got=$(PATH="$(dirname "$exe"):$PATH" bash -c '
    . "$1"
    COMP_WORDS=(mpshare run lost-up); COMP_CWORD=2; _mpshare
    echo "${COMPREPLY[*]}"' bash "$completion")
  if [ "$got" = lost-update ]; then
    ok "the installed completion completes an id with the installed mpshare"
  else
    not_ok "the installed completion completes an id (got \"$got\")"
  fi
fi

echo "1..$n"
exit $failed
