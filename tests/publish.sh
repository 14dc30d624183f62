#!/usr/bin/env bash
# Checks that every publishable crate would publish: `cargo publish --workspace --dry-run`
# packages each one (hakoniwa-sandbox, -runtime, -seccomp, -capi, -sandbox-cli), then builds
# it from its package alone against the others' packages. Cargo unpacks those into a cache
# keyed by name and version only, so a stale copy from an earlier run is removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf target/package
for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/; do
  case "$d" in */index.crates.io-*/) ;; *) rm -rf "$d"hakoniwa-* ;; esac
done
log=target/publish-dry-run.log
if ! cargo publish --workspace --dry-run --allow-dirty >"$log" 2>&1; then
  cat "$log"
  echo "publish dry run: a crate would not publish" >&2
  exit 1
fi
grep -E '^\s*(Packaged|Verifying)' "$log"
echo "publish dry run: every crate would publish"
