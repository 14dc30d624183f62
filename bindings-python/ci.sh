#!/usr/bin/env bash
# The Python bindings' CI step (called by .ci/test; run as root).
#
#  1. a tools venv with maturin, pytest, mypy and cffi from PyPI;
#  2. a wheel and an sdist built with maturin; the wheel must carry a platform tag;
#  3. one fresh venv installed from the source tree (`pip install ./bindings-python`),
#     another from the wheel, and a third from the sdist: each imports hakoniwa and runs a
#     sandbox;
#  4. pytest (from the wheel's venv) as root, then as hkuser from a venv of hkuser's own;
#  5. mypy --strict on the package, its examples and its tests.
#
# Everything lives in one temporary directory, removed at the end.
#   HK_PY_SKIP_SDIST=1  skips building from the sdist (it recompiles the whole engine).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"

if [ "${1:-}" = "--user-tests" ]; then
  # Second half, as hkuser: a venv of our own from the wheel root built, then pytest.
  wheel=$2 cli=$3
  work=$(mktemp -d /tmp/hk-py-user.XXXXXX)
  trap 'rm -rf "$work"' EXIT
  python3 -m venv "$work/venv"
  "$work/venv/bin/pip" install -q --disable-pip-version-check "$wheel" pytest
  cd "$work"  # not the source tree: the installed package must be the one imported
  HAKONIWA_CLI=$cli "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests"
  exit 0
fi

work=$(mktemp -d /tmp/hk-py.XXXXXX)
chmod 0755 "$work"
trap 'rm -rf "$work"' EXIT
pip_q=(-q --disable-pip-version-check)

echo "-- tools venv"
python3 -m venv "$work/tools"
"$work/tools/bin/pip" install "${pip_q[@]}" "maturin>=1.5,<2" pytest mypy cffi
# maturin generates the cffi declarations with the first python3 on PATH: the venv's.
export PATH="$work/tools/bin:$PATH"

echo "-- the CLI (for comparing --json-status)"
cargo build -q -p hakoniwa-sandbox-cli
cli="$repo/target/debug/hakoniwa"

echo "-- wheel and sdist"
(cd "$here" && "$work/tools/bin/maturin" build --release -q -o "$work/dist" \
  && "$work/tools/bin/maturin" sdist -o "$work/dist")
wheel=$(ls "$work"/dist/*.whl)
sdist=$(ls "$work"/dist/*.tar.gz)
case "$(basename "$wheel")" in
  *-none-any.whl) echo "FAIL: the wheel is not platform-tagged: $wheel"; exit 1 ;;
  *-manylinux_*_x86_64.whl | *-linux_x86_64.whl) echo "wheel: $(basename "$wheel")" ;;
  *) echo "FAIL: unexpected wheel tag: $wheel"; exit 1 ;;
esac
tar tzf "$sdist" >"$work/sdist.txt"
for needed in capi/Cargo.toml engine/Cargo.toml engine/runtime/Cargo.toml engine/seccomp/Cargo.toml \
  Cargo.lock Cargo.toml pyproject.toml python/hakoniwa/__init__.py python/hakoniwa/py.typed; do
  grep -q "^[^/]*/$needed\$" "$work/sdist.txt" || { echo "FAIL: sdist lacks $needed"; exit 1; }
done

smoke='import hakoniwa, sys
r = hakoniwa.run(["echo", "ok"], capture_output=True)
assert r.stdout == b"ok\n" and r.status.reason == "exited", r
print("sandbox ran from", hakoniwa.__file__)'

echo "-- fresh venv from the source tree (docs/python.md's \`pip install ./bindings-python\`)"
python3 -m venv "$work/from-source"
"$work/from-source/bin/pip" install "${pip_q[@]}" "$here"
(cd "$work" && "$work/from-source/bin/python" -c "$smoke")

echo "-- fresh venv from the wheel"
python3 -m venv "$work/from-wheel"
"$work/from-wheel/bin/pip" install "${pip_q[@]}" "$wheel" pytest
(cd "$work" && "$work/from-wheel/bin/python" -c "$smoke")

if [ "${HK_PY_SKIP_SDIST:-}" != 1 ]; then
  echo "-- fresh venv from the sdist (unpacked outside the repository)"
  mkdir "$work/sdist" && tar xzf "$sdist" -C "$work/sdist"
  python3 -m venv "$work/from-sdist"
  # Its own cargo target directory (kept between runs under target/, so later runs only
  # rebuild what changed): the unpacked sdist must build without the repository.
  CARGO_TARGET_DIR="$repo/target/python-sdist" "$work/from-sdist/bin/pip" install "${pip_q[@]}" "$work"/sdist/*/
  (cd "$work" && "$work/from-sdist/bin/python" -c "$smoke")
fi

echo "-- mypy --strict"
(cd "$here" && MYPYPATH="$here/python" "$work/tools/bin/mypy" --strict --cache-dir "$work/mypy-cache" \
  python/hakoniwa examples tests)

# Both runs happen even if the first fails; the exit status reports either failure.
status=0
echo "-- pytest as root"
(cd "$work" && HAKONIWA_CLI=$cli "$work/from-wheel/bin/python" -m pytest -q -p no:cacheprovider "$here/tests") \
  || status=1

echo "-- pytest as hkuser"
chmod 0644 "$wheel"
chmod -R a+rX "$here"
d=$repo
while [ "$d" != / ]; do chmod o+x "$d"; d=$(dirname "$d"); done
chmod o+x "$repo/target" "$repo/target/debug" && chmod a+rx "$cli"
runuser -u hkuser -- env HOME=/home/hkuser bash "$here/ci.sh" --user-tests "$wheel" "$cli" || status=1
exit $status
