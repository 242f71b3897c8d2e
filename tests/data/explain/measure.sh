#!/bin/sh
# Recall and false positives of `mpshare explain` on every text it is
# tested on:
#
#   meson compile -C build explain-measure
#   tests/data/explain/measure.sh [build/demos/mpshare]     (the same)
#
# Positive texts: tests/data/python-X.Y/*.txt (the broken programs of
# demos/python/ under each CPython; their `expected` index names the id)
# and tests/data/explain/positive/*/ID--*.txt. One counts when explain
# names its id first. Negative texts: tests/data/explain/negative/; one is
# a false positive when explain names any pitfall at all (a "general"
# verdict is no pitfall). Misses and false positives are listed.
mpshare=${1:-build/demos/mpshare}
here=$(dirname "$0")
data=$here/..
pos=0; hit=0; neg=0; fp=0

first_id() {
  "$mpshare" explain --ids - < "$1" 2>/dev/null | head -n 1
}

count() {  # FILE WANTED-ID
  got=$(first_id "$1")
  pos=$((pos + 1))
  if [ "$got" = "$2" ]; then
    hit=$((hit + 1))
  else
    echo "missed: $1 (${got:-nothing}, not $2)"
  fi
}

for index in "$data"/python-*/expected; do
  [ -f "$index" ] || continue
  dir=$(dirname "$index")
  while read -r name want _; do
    case $name in ''|'#'*) continue ;; esac
    count "$dir/$name.txt" "$want"
  done < "$index"
done
for f in "$here"/positive/*/*.txt; do
  count "$f" "$(basename "$f" | sed 's/--.*//')"
done
for f in "$here"/negative/*.txt "$here"/negative/*/*.txt; do
  [ -f "$f" ] || continue
  got=$(first_id "$f")
  neg=$((neg + 1))
  if [ -n "$got" ]; then fp=$((fp + 1)); echo "false positive: $f ($got)"; fi
done
[ "$pos" -gt 0 ] && [ "$neg" -gt 0 ] || { echo "no texts found under $data" >&2; exit 2; }
echo "recall: $hit of $pos positive texts named first" \
     "($((hit * 1000 / pos / 10)).$((hit * 1000 / pos % 10)) %)"
echo "false positives: $fp of $neg negative texts named a pitfall" \
     "($((fp * 1000 / neg / 10)).$((fp * 1000 / neg % 10)) %)"
