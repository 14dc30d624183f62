#!/usr/bin/env bash
# Regenerates cli/hot-text.ld, the layout of the CLI's start-up code (see cli/build.rs):
#
#   bash bench/hot-text/regen.sh
#
# 1. links the musl release build of the CLI with a link map;
# 2. runs a few typical commands under step.c (ptrace, one instruction at a time: the
#    default sandbox first, then --version, --json-status, --unshare-all with a devfs and a
#    tmpfs, an unconfined one, a failing program, -v), recording the instructions each ran in
#    the binary's text, in the order they first ran;
# 3. order.py turns those into the linker script: the input sections they lie in, in that
#    order;
# 4. builds again with the new script and prints how many 64 KiB text windows the default
#    sandbox's start-up touches, before and after.
#
# Needs what the build needs, plus gcc and python3. Run it after changes to the start-up
# path (tests/musl.sh fails when the default start-up runs code in more than 12 windows,
# and runs this script as CONTRIBUTING.md prints it). As root,
# the commands run as root: the paths of an unprivileged caller differ little (a few
# functions), and those still run, only from outside the hot section.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
musl=x86_64-unknown-linux-musl
bin=target/$musl/release/hakoniwa
work=$(mktemp -d /tmp/hakoniwa-hot-text.XXXXXX)
trap 'rm -rf "$work"' EXIT

gcc -O2 -Wall -o "$work/step" bench/hot-text/step.c

link_with_map() {
  cargo rustc -q --release --locked -p hakoniwa-sandbox-cli --bin hakoniwa --target $musl \
    -- -C link-arg=-Wl,-Map="$work/map.txt"
}

windows() {
  bash bench/hot-text/windows.sh "$bin"
}

echo "== link with a map"
link_with_map
before=$(windows)
read -r lo hi < <(bash bench/hot-text/text-range.sh "$bin")

echo "== record the start-up paths"
commands=(
  "run -- /bin/true"
  "--version"
  "run --json-status=$work/status.json -- /bin/true"
  "run --unshare-all --devfs /dev --tmpfs /tmp -- /bin/true"
  "run --seccomp unconfined -- /bin/true"
  "run -- /bin/false"
  "run -v -- /bin/true"
)
files=()
for i in "${!commands[@]}"; do
  echo "-- hakoniwa ${commands[$i]}"
  # shellcheck disable=SC2086 # the words of the command
  "$work/step" "$work/$i.txt" "$lo" "$hi" "$bin" ${commands[$i]} >/dev/null 2>"$work/$i.err" || true
  tail -n1 "$work/$i.err"
  files+=("$work/$i.txt")
done

echo "== write cli/hot-text.ld"
python3 bench/hot-text/order.py "$work/map.txt" "${files[@]}" >"$work/hot-text.ld"
mv "$work/hot-text.ld" cli/hot-text.ld

echo "== build with it"
link_with_map
after=$(windows)
echo "64 KiB text windows the default sandbox's start-up runs code in: $before before, $after now"
