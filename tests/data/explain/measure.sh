#!/bin/sh
# Recall and false positives of `mpshare explain` on the texts here.
#
#   tests/data/explain/measure.sh [build/demos/mpshare]
#
# A positive text counts when explain names the id its file name starts
# with (ID--...) first; a negative text is a false positive when explain
# names any pitfall at all. Misses and false positives are listed.
mpshare=${1:-build/demos/mpshare}
here=$(dirname "$0")
pos=0; hit=0; neg=0; fp=0
for f in "$here"/positive/*/*.txt; do
  want=$(basename "$f" | sed 's/--.*//')
  got=$("$mpshare" explain --ids - < "$f" 2>/dev/null | head -n 1)
  pos=$((pos + 1))
  if [ "$got" = "$want" ]; then hit=$((hit + 1)); else echo "missed: $f (${got:-nothing})"; fi
done
for f in "$here"/negative/*.txt "$here"/negative/*/*.txt; do
  [ -f "$f" ] || continue
  got=$("$mpshare" explain --ids - < "$f" 2>/dev/null | head -n 1)
  neg=$((neg + 1))
  if [ -n "$got" ]; then fp=$((fp + 1)); echo "false positive: $f ($got)"; fi
done
echo "recall: $hit of $pos positive texts named first"
echo "false positives: $fp of $neg negative texts named a pitfall"
