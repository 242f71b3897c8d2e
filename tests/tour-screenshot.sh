#!/bin/sh
# Regenerates docs/tour.png, the picture of `mpshare tour --html` in
# docs/: `meson compile -C build tour-screenshot` (needs chromium).
# Usage: tour-screenshot.sh MPSHARE OUTPUT.png
set -eu
mpshare=$1
png=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "tour-screenshot: no chromium on PATH (apt-get install chromium)" >&2
  exit 2
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/mpshare-tour-XXXXXX")
trap 'rm -rf "$dir"' EXIT
"$mpshare" tour --html "$dir/page" >/dev/null
# its own HOME: chromium writes ~/.config/chromium* whatever its profile
HOME=$dir "$browser" --headless --no-sandbox --disable-gpu --no-first-run \
  --hide-scrollbars --window-size=1200,1800 --user-data-dir="$dir/profile" \
  --screenshot="$png" "file://$dir/page/index.html" >/dev/null 2>&1
echo "wrote $png"
