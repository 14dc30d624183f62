#!/usr/bin/env bash
# Go tests (called by tests/run.sh PREFIX WORKDIR USER...): build the programs in this
# module against the installed libhakoniwa through cgo and pkg-config, offline (no module
# download: the only dependency is ../../bindings-go through a replace directive), and run
# them as each user.
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
chmod -R a+rX "$work"
for user in "$@"; do
  echo "-- Go as $user"
  if [ "$user" = "$(id -un)" ]; then
    "$work/go-readme"
    "$work/go-stress"
  else
    (cd / && runuser -u "$user" -- env HOME="/home/$user" "$work/go-readme")
    (cd / && runuser -u "$user" -- env HOME="/home/$user" "$work/go-stress")
  fi
done
