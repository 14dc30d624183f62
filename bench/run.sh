#!/usr/bin/env bash
# The benchmark harness (not part of CI's pass/fail): CLI start-up against bubblewrap,
# unshare(1) and a floor program; throughput with 1, 2 and 8 workers; the library from one
# process vs a bare posix_spawn; host-size independence; mount scaling; seccomp install and
# per-call cost; supervisor memory; setup stages; pasta. Prints medians, p10/p90 and paired
# ratios, and writes docs/benchmarks.md with a description of the machine.
#
#   bash bench/run.sh            # full run, release build (several minutes)
#   bash bench/run.sh --quick    # a few samples of everything, debug build (proves it works)
#
# After a full run, the harness alone (it prints the report; only --out writes a file):
#   HK_BENCH_ONLY=library,mounts ./target/release/harness   # some sections only
#   ./target/release/harness lib-rate 2 500   # 2 threads x 500 library spawns: rate only
#                                             # (a steady load to profile, e.g. perf record)
set -euo pipefail
cd "$(dirname "$0")/.."
# The CLI is measured as released (README, "Install"): a static, non-PIE musl executable
# (flags in .cargo/config.toml) when the musl target is installed; otherwise the glibc build,
# statically linked (static-pie), the flags given to its final crate only (CONTRIBUTING.md,
# "Build"). The report's header says which one it measured, read from the ELF file. A full
# run with the musl build also measures the glibc one as the baseline (unless HK_BASELINE
# names another build): the start-up table then shows what the musl build gains.
musl=x86_64-unknown-linux-musl
glibc_static_cli() {
  cargo rustc -q "$@" -p hakoniwa-sandbox-cli --bin hakoniwa -- \
    -C target-feature=+crt-static -C link-arg=-Wl,-z,pack-relative-relocs
}
static_cli() {
  local profile=debug
  if [ "${1:-}" = --release ]; then profile=release; fi
  if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    cargo build -q "$@" --locked -p hakoniwa-sandbox-cli --target "$musl"
    export HK_CLI=$PWD/target/$musl/$profile/hakoniwa
    # The floor is linked like the CLI it is compared with.
    cargo build -q "$@" --locked -p hakoniwa-bench --bin floor --target "$musl"
    export HK_FLOOR=$PWD/target/$musl/$profile/floor
    if [ "$profile" = release ] && [ -z "${HK_BASELINE:-}" ]; then
      glibc_static_cli "$@"
      export HK_BASELINE=$PWD/target/$profile/hakoniwa
    fi
  else
    echo "bench: the $musl target is not installed (rustup target add $musl):" \
      "measuring the glibc static-pie build of the CLI" >&2
    glibc_static_cli "$@"
    export HK_CLI=$PWD/target/$profile/hakoniwa
    cargo rustc -q "$@" -p hakoniwa-bench --bin floor -- -C target-feature=+crt-static
  fi
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
