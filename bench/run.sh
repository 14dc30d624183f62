#!/usr/bin/env bash
# Spawn benchmarks: a small host and a host holding 1 GiB of touched memory (goal: within
# 1.5x), against bubblewrap and unshare(1); pasta start-up apart from sandbox start-up; seccomp
# filter install time. Prints medians; no pass/fail.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p hakoniwa --example spawn_bench
cargo build --release -q -p hakoniwa-seccomp --example seccomp_install_bench
for mib in 0 1024; do
  ./target/release/examples/spawn_bench "${1:-200}" "$mib"
  echo
done
echo "== seccomp filter install time (binary search vs seccompiler's linear program)"
./target/release/examples/seccomp_install_bench
