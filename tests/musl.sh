#!/usr/bin/env bash
# The release build of the CLI, tested (called by .ci/test): the commands of the README's
# "Install" section run as printed, then the CLI's test suite runs against the binary they
# installed (HAKONIWA_TEST_BIN, cli/tests/common/mod.rs), as root and as hkuser.
#
#  - `rustup target add x86_64-unknown-linux-musl` needs rustup's server unless the target
#    is installed already: it gets a short timeout, and when it fails on a machine without
#    the target this step prints SKIP with the reason and passes (tests never need the
#    internet);
#  - `cargo install ...` runs with CARGO_INSTALL_ROOT in a scratch directory (nothing is
#    installed on the host), CARGO_TARGET_DIR=target (it builds where `cargo build
#    --target ...` and bench/run.sh do, so a later run reuses the build) and
#    CARGO_NET_OFFLINE=true (the crates are those the workspace's build already fetched:
#    cargo install would otherwise update the registry's index);
#  - the installed file must be what .cargo/config.toml promises: a statically linked,
#    non-PIE executable (ET_EXEC, no PT_INTERP program header) without glibc.
#
# HK_MUSL_SUITES="a b" runs only those test files (cli/tests/NAME.rs) as hkuser; by default
# every one runs both ways.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
musl=x86_64-unknown-linux-musl
work=$(mktemp -d /tmp/hakoniwa-musl.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 0755 "$work"
start=$SECONDS

# The sh blocks of CONTRIBUTING.md's "Build" section that contain WORD.
build_blocks() {
  python3 - "$root/CONTRIBUTING.md" "$1" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n## Build\n")[1].split("\n## ")[0]
for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
    if sys.argv[2] in block:
        print(block.strip())
PY
}

mapfile -t lines < <(python3 - "$root/README.md" <<'PY'
import re, sys
text = open(sys.argv[1]).read().split("\n## Install\n")[1].split("\n## ")[0]
for block in re.findall(r"^```sh\n(.*?)^```", text, flags=re.S | re.M):
    for line in block.splitlines():
        line = line.split("  #")[0].strip()
        if line and not line.startswith("#"):
            print(line)
PY
)
want=("rustup target add $musl" "cargo install --locked --path cli --target $musl")
if [ "${lines[*]}" != "${want[*]}" ]; then
  echo "README.md, Install: the commands are not the ones this test mirrors:" >&2
  printf '  %s\n' "${lines[@]}" >&2
  exit 1
fi

echo "== README, Install: ${lines[0]}"
if ! timeout 60 sh -c "${lines[0]}" >"$work/rustup.out" 2>&1; then
  if rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    echo "($musl is installed; rustup could not check for an update:" \
      "$(tail -n1 "$work/rustup.out"))"
  else
    echo "SKIP: the musl release build is not tested here: '${lines[0]}' failed" \
      "(no access to rustup's server?) and the target is not installed:"
    sed 's/^/  /' "$work/rustup.out"
    exit 0
  fi
fi

echo "== README, Install: ${lines[1]}"
CARGO_NET_OFFLINE=true CARGO_INSTALL_ROOT="$work/install" CARGO_TARGET_DIR="$root/target" \
  sh -c "${lines[1]}"
bin=$work/install/bin/hakoniwa
[ -x "$bin" ] || { echo "'${lines[1]}' installed no $bin" >&2; exit 1; }
if ! readelf -h "$bin" | grep -q 'Type: *EXEC'; then
  echo "$bin is not a non-PIE executable (.cargo/config.toml's relocation-model=static):" >&2
  readelf -h "$bin" | grep Type >&2
  exit 1
fi
if readelf -l "$bin" | grep -q INTERP; then
  echo "$bin asks for a dynamic loader (.cargo/config.toml's crt-static)" >&2
  exit 1
fi
if grep -q GLIBC_TUNABLES "$bin"; then
  echo "$bin contains glibc's start-up code" >&2
  exit 1
fi
"$bin" --version
echo "built in $((SECONDS - start)) s: static, non-PIE, musl"

# cli/hot-text.ld (cli/build.rs; CONTRIBUTING.md, "Build"): the default sandbox's start-up
# runs code in few 64 KiB windows of text, 7 when the script was made, 28 without it. More
# than 12 means the script went stale (its sections renamed or gone): regenerate it.
windows=$(bash bench/hot-text/windows.sh "$bin")
echo "the default sandbox's start-up runs code in $windows windows of 64 KiB of text"
if [ "$windows" -gt 12 ]; then
  echo "cli/hot-text.ld no longer lays out the start-up code: run bash bench/hot-text/regen.sh" >&2
  exit 1
fi
# HAKONIWA_HOT_TEXT=0 links without it (then builds as before again).
HAKONIWA_HOT_TEXT=0 CARGO_NET_OFFLINE=true \
  cargo build -q --release --locked -p hakoniwa-sandbox-cli --target $musl
plain=target/$musl/release/hakoniwa
if readelf -SW "$plain" | grep -q '\.text\.hot'; then
  echo "HAKONIWA_HOT_TEXT=0 still linked $plain with cli/hot-text.ld" >&2
  exit 1
fi
echo "HAKONIWA_HOT_TEXT=0: linked without it ($(bash bench/hot-text/windows.sh "$plain") windows)"
CARGO_NET_OFFLINE=true cargo build -q --release --locked -p hakoniwa-sandbox-cli --target $musl
if ! readelf -SW "$plain" | grep -q '\.text\.hot'; then
  echo "without HAKONIWA_HOT_TEXT, $plain was linked without cli/hot-text.ld" >&2
  exit 1
fi
# CONTRIBUTING.md, "Build": the script regenerates as printed and still lays out the code;
# the committed script is put back afterwards (the build relinks with it).
regen=$(build_blocks regen.sh)
if [ "$regen" != "bash bench/hot-text/regen.sh" ]; then
  echo "CONTRIBUTING.md, Build: the regen command is not the one this test mirrors: $regen" >&2
  exit 1
fi
echo "== CONTRIBUTING.md, Build: $regen"
cp cli/hot-text.ld "$work/hot-text.ld.committed"
# Put the committed script back even when the regeneration fails half-way.
trap 'cp "$work/hot-text.ld.committed" cli/hot-text.ld; rm -rf "$work"' EXIT
CARGO_NET_OFFLINE=true sh -c "$regen" | tee "$work/regen.out"
cp "$work/hot-text.ld.committed" cli/hot-text.ld
trap 'rm -rf "$work"' EXIT
now=$(tail -n1 "$work/regen.out" | sed -n 's/.* \([0-9][0-9]*\) now$/\1/p')
if [ -z "$now" ] || [ "$now" -gt 12 ]; then
  echo "regen.sh did not lay out the start-up code (last line: $(tail -n1 "$work/regen.out"))" >&2
  exit 1
fi

# CONTRIBUTING.md, "Build": the same build in the tree (cargo reuses what cargo install built).
build=$(build_blocks musl)
want="rustup target add $musl
cargo build --release --locked -p hakoniwa-sandbox-cli --target $musl
target/$musl/release/hakoniwa --version"
if [ "$build" != "$want" ]; then
  echo "CONTRIBUTING.md, Build: the musl commands are not the ones this test mirrors:" >&2
  echo "$build" >&2
  exit 1
fi
echo "== CONTRIBUTING.md, Build: the musl build in the tree"
out=$(CARGO_NET_OFFLINE=true sh -c "$want")
grep -x "hakoniwa [0-9].*" <<<"$out"

echo "== the CLI's tests against the musl build, as root"
t=$SECONDS
cargo test -q --locked -p hakoniwa-sandbox-cli --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for l in sys.stdin:
    try: m = json.loads(l)
    except ValueError: continue
    if m.get("reason") == "compiler-artifact" and m.get("profile", {}).get("test") and m.get("executable"):
        print(m["target"]["name"], m["executable"])' >"$work/tests.txt"
HAKONIWA_TEST_BIN=$bin cargo test -q --locked -p hakoniwa-sandbox-cli 2>&1 | tee "$work/root.log"
echo "as root: $((SECONDS - t)) s"

if [ "$(id -u)" = 0 ] && id hkuser >/dev/null 2>&1; then
  echo "== the CLI's tests against the musl build, as hkuser"
  t=$SECONDS
  d=$work
  while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
  chmod -R a+rX "$work"
  status=0
  while read -r name exe; do
    if [ -n "${HK_MUSL_SUITES:-}" ] && ! grep -qw -- "$name" <<<"$HK_MUSL_SUITES"; then continue; fi
    echo "-- $name"
    (cd cli && runuser -u hkuser -- env HOME=/home/hkuser HAKONIWA_TEST_BIN="$bin" "$exe" -q) 2>&1 \
      | tee -a "$work/user.log" || status=1
  done <"$work/tests.txt"
  echo "as hkuser: $((SECONDS - t)) s"
  [ $status = 0 ] || exit 1
fi
echo "== the musl build passed the CLI's tests ($((SECONDS - start)) s in all)"
