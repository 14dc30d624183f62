#!/usr/bin/env bash
# Python bindings: hakoniwa.run(["/bin/true"]) against subprocess.run(["/bin/true"]) from the
# same interpreter (goal: under 2x). Builds the wheel into a temporary venv; prints medians.
# Usage: bench/python.sh [iterations]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d /tmp/hk-py-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --disable-pip-version-check "maturin>=1.5,<2" cffi
export PATH="$work/venv/bin:$PATH"  # maturin runs cffi with the first python3 on PATH
(cd bindings-python && "$work/venv/bin/maturin" build --release -q -o "$work/dist")
"$work/venv/bin/pip" install -q --disable-pip-version-check "$work"/dist/*.whl
cd "$work"
"$work/venv/bin/python" - "${1:-300}" <<'PY'
import statistics, subprocess, sys, time
import hakoniwa

n = int(sys.argv[1])
def measure(fn):
    for _ in range(20):
        fn()
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000

container = hakoniwa.Container().rootfs("/")
cases = [
    ("subprocess.run(['/bin/true'])", lambda: subprocess.run(["/bin/true"])),
    ("hakoniwa.run(['/bin/true'])", lambda: hakoniwa.run(["/bin/true"])),
    ("hakoniwa.run(..., capture_output=True)", lambda: hakoniwa.run(["/bin/true"], capture_output=True)),
    ("Container().rootfs('/').command('/bin/true').status()", lambda: container.command("/bin/true").status()),
]
results = {name: measure(fn) for name, fn in cases}
base = results[cases[0][0]]
print(f"spawn + wait of /bin/true, median of {n} (ms)")
for name, ms in results.items():
    print(f"  {name:55s} {ms:7.3f}  ({ms / base:4.2f}x subprocess)")
PY
