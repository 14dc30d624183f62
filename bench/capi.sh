#!/usr/bin/env bash
# C ABI overhead: spawn + wait of /bin/true in the default sandbox through the C ABI
# (libhakoniwa.so, bench/capi_bench.c) against the same through the Rust API
# (capi/examples/spawn_rust.rs). Goal: within 1.1x. Both run in alternating rounds
# (HK_CAPI_ROUNDS, default 15, of N spawns each, default 60); prints the median of the
# per-round ratios with p10/p90. No pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-60}
work=$(mktemp -d /tmp/hakoniwa-capi-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
capi/install.sh "$work/prefix" >/dev/null
cargo build --release -q -p hakoniwa-capi --example spawn_rust
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -O2 -o "$work/capi_bench" bench/capi_bench.c $(pkg-config --cflags --libs hakoniwa) \
  -Wl,-rpath,"$work/prefix/lib"
# Many short rounds, alternating which goes first, so that a change of load hits both
# alike; each round's ratio compares two medians measured seconds apart.
rounds=${HK_CAPI_ROUNDS:-15}
c=() r=() ratios=()
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then
    cv=$("$work/capi_bench" "$n"); rv=$(./target/release/examples/spawn_rust "$n")
  else
    rv=$(./target/release/examples/spawn_rust "$n"); cv=$("$work/capi_bench" "$n")
  fi
  c+=("$cv") r+=("$rv") ratios+=("$(awk -v a="$cv" -v b="$rv" 'BEGIN { printf "%.4f", a / b }')")
done
q() { # q P VALUES...: the P-quantile (nearest rank)
  local p=$1; shift
  printf '%s\n' "$@" | sort -g | awk -v p="$p" '{ v[NR] = $1 } END {
    k = int((NR - 1) * p + 0.5) + 1; print v[k] }'
}
echo "spawn+wait /bin/true: $rounds alternating rounds of $n each (median us per round):" \
  "C ABI ${c[*]}; Rust API ${r[*]}"
echo "C ABI / Rust, median of per-round ratios: $(q 0.5 "${ratios[@]}")x" \
  "(p10 $(q 0.1 "${ratios[@]}"), p90 $(q 0.9 "${ratios[@]}"), n=$rounds);" \
  "medians: C ABI $(q 0.5 "${c[@]}") us, Rust $(q 0.5 "${r[@]}") us (goal <= 1.1x)"
