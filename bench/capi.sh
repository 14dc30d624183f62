#!/usr/bin/env bash
# C ABI overhead: spawn + wait of /bin/true in the default sandbox through the C ABI
# (libhakoniwa.so, bench/capi_bench.c) against the same through the Rust API
# (capi/examples/spawn_rust.rs). Goal: within 1.1x. Both run alternately, five times each;
# prints the median and the lowest of the five medians, and their ratios (on a busy machine
# the lowest is the steadier comparison). No pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
work=$(mktemp -d /tmp/hakoniwa-capi-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
capi/install.sh "$work/prefix" >/dev/null
cargo build --release -q -p hakoniwa-capi --example spawn_rust
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -O2 -o "$work/capi_bench" bench/capi_bench.c $(pkg-config --cflags --libs hakoniwa) \
  -Wl,-rpath,"$work/prefix/lib"
c=() r=()
for _ in 1 2 3 4 5; do
  c+=("$("$work/capi_bench" "$n")")
  r+=("$(./target/release/examples/spawn_rust "$n")")
done
nth() { local k=$1; shift; printf '%s\n' "$@" | sort -n | sed -n "${k}p"; }
cm=$(nth 3 "${c[@]}") rm=$(nth 3 "${r[@]}") cl=$(nth 1 "${c[@]}") rl=$(nth 1 "${r[@]}")
echo "spawn+wait /bin/true, medians of 5 runs of $n (us): C ABI ${c[*]}; Rust API ${r[*]}"
awk -v c="$cm" -v r="$rm" -v cl="$cl" -v rl="$rl" 'BEGIN {
  printf "median: C ABI %d us / Rust %d us = %.3f; lowest: %d / %d = %.3f (goal <= 1.1)\n",
    c, r, c / r, cl, rl, cl / rl }'
