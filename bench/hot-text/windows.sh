#!/usr/bin/env bash
# Prints how many distinct 64 KiB windows of BIN's text the default sandbox's start-up runs
# code in (`BIN run -- /bin/true`, followed instruction by instruction by step.c, which is
# built in a scratch directory): each window costs the process a page fault (the kernel maps
# a file's pages around a faulting address, 64 KiB by default). Used by regen.sh, and by
# tests/musl.sh to check that cli/hot-text.ld still lays that code out together.
#
#   bash bench/hot-text/windows.sh BIN
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: windows.sh BIN}
work=$(mktemp -d /tmp/hakoniwa-windows.XXXXXX)
trap 'rm -rf "$work"' EXIT
gcc -O2 -o "$work/step" "$here/step.c"
read -r lo hi < <(bash "$here/text-range.sh" "$bin")
"$work/step" "$work/run.txt" "$lo" "$hi" "$bin" run -- /bin/true 2>"$work/step.err" || {
  cat "$work/step.err" >&2
  exit 1
}
python3 -c 'import sys; print(len({int(l, 16) >> 16 for l in open(sys.argv[1])}))' "$work/run.txt"
