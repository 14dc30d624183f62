#!/usr/bin/env bash
# The benchmark harness (not part of CI's pass/fail): CLI start-up against bubblewrap,
# unshare(1) and a floor program; throughput with 1, 2 and 8 workers; the library from one
# process vs a bare posix_spawn; host-size independence; mount scaling; seccomp install and
# per-call cost; supervisor memory; setup stages; pasta. Prints medians, p10/p90 and paired
# ratios, and writes docs/benchmarks.md with a description of the machine.
#
#   bash bench/run.sh            # full run, release build (several minutes)
#   bash bench/run.sh --quick    # a few samples of everything, debug build (proves it works)
set -euo pipefail
cd "$(dirname "$0")/.."
# The CLI is measured as released: statically linked, the flag given to its final crate only
# (see CONTRIBUTING.md, "Build").
static_cli() {
  cargo rustc -q "$@" -p hakoniwa-sandbox-cli --bin hakoniwa -- \
    -C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs
}
if [ "${1:-}" = --quick ]; then
  cargo build -q -p hakoniwa-bench
  static_cli
  out=target/benchmarks-quick.md
  ./target/debug/harness --quick --out "$out"
else
  cargo build --release -q -p hakoniwa-bench
  static_cli --release
  out=docs/benchmarks.md
  ./target/release/harness --out "$out"
fi
# Other front ends add their own scripts (C ABI, Python); their output is appended.
for extra in bench/capi.sh bench/python.sh; do
  if [ -f "$extra" ]; then
    echo
    echo "== $extra"
    { echo; echo "## $(basename "$extra")"; echo; echo '```'; bash "$extra"; echo '```'; } | tee -a "$out"
  fi
done
