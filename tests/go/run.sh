#!/usr/bin/env bash
# Go tests (called by tests/run.sh PREFIX WORKDIR USER...): build the programs in this
# module against the installed libhakoniwa through cgo and pkg-config, offline (no module
# download: the only dependency is ../../bindings-go through a replace directive), and run
# them as each user: the README's example, the binding's failure modes (api), the stress
# test, and the capability examples of docs/go.md (examples/NAME, output checked against
# ../examples/NAME.expected).
set -euo pipefail
prefix=$1 work=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
export PKG_CONFIG_PATH=$prefix/lib/pkgconfig
export CGO_ENABLED=1 GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off
export GOCACHE=${GOCACHE:-$work/gocache} GOPATH=${GOPATH:-$work/gopath}
export CGO_LDFLAGS="-Wl,-rpath,$prefix/lib"
cd "$here"
go vet ./... ../../bindings-go/...
go build -o "$work/go-stress" ./stress
go build -o "$work/go-readme" ./readme
go build -o "$work/go-api" ./api
mkdir -p "$work/go-examples"
for dir in examples/*/; do
  go build -o "$work/go-examples/$(basename "$dir")" "./$dir"
done
# The shell commands of docs/go.md, run as printed from the repository's root (with the
# environment above: the installed library, offline module resolution).
python3 - "$here/../../docs/go.md" >"$work/go-doc-commands.txt" <<'PY'
import re, sys
for block in re.findall(r"^```sh\n(.*?)^```", open(sys.argv[1]).read(), flags=re.S | re.M):
    print(block, end="")
PY
while read -r line; do
  name=$(sed -n 's|.*go run \./examples/\([a-z]*\)$|\1|p' <<<"$line")
  [ -n "$name" ] || { echo "docs/go.md: a command this test does not know how to check: $line" >&2; exit 1; }
  (cd "$here/../.." && sh -c "$line") >"$work/go-doc-command.out" 2>&1 || {
    echo "-- a command of docs/go.md failed: $line" >&2
    cat "$work/go-doc-command.out" >&2
    exit 1
  }
  python3 "$here/../examples/check.py" "$name" "$work/go-doc-command.out"
  echo "doc command ran as printed: $line"
done <"$work/go-doc-commands.txt"
chmod -R a+rX "$work"
for user in "$@"; do
  echo "-- Go as $user"
  if [ "$user" = "$(id -un)" ]; then
    "$work/go-readme"
    "$work/go-api"
    "$work/go-stress"
  else
    (cd / && runuser -u "$user" -- env HOME="/home/$user" "$work/go-readme")
    (cd / && runuser -u "$user" -- env HOME="/home/$user" "$work/go-api")
    (cd / && runuser -u "$user" -- env HOME="/home/$user" "$work/go-stress")
  fi
  for prog in "$work"/go-examples/*; do
    name=$(basename "$prog")
    out=$work/go-example.$name.$user.out
    if [ "$user" = "$(id -un)" ]; then
      "$prog" >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    else
      (cd / && runuser -u "$user" -- env HOME="/home/$user" "$prog") >"$out" 2>&1 || { cat "$out" >&2; exit 1; }
    fi
    python3 "$here/../examples/check.py" "$name" "$out"
  done
  echo "go examples: $(ls "$work/go-examples" | wc -l) programs print what tests/examples/*.expected says"
done
