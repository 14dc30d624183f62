#!/usr/bin/env bash
# Python bindings: hakoniwa.run(["/bin/true"]) against subprocess.run(["/bin/true"]) from the
# same interpreter (goal: under 2x). Builds the wheel (release) into a temporary venv; prints
# medians and paired ratios of interleaved rounds, and what the bindings add to the library's
# own spawn+wait of the same sandbox (called through the C ABI from the same interpreter).
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
import random, statistics, subprocess, sys, time
import hakoniwa
from hakoniwa import _handle, _lib  # only for the library-floor line below

n = int(sys.argv[1])
container = hakoniwa.Container().rootfs("/")
ffi, lib = _lib.get()
default = _handle.default_container()


def library_floor():
    """The same sandbox through the C ABI alone: one blocking call that spawns and waits
    (hakoniwa_command_status), no Popen, no ExitStatus. hakoniwa.run minus this is what the
    bindings add; this divided by subprocess.run is as low as the ratio can get."""
    cmd = ffi.new("hakoniwa_command_t **")
    status = ffi.new("hakoniwa_status_t **")
    assert lib.hakoniwa_command_new(default._handle, b"/bin/true", cmd) == 0
    assert lib.hakoniwa_command_status(cmd[0], status) == 0
    lib.hakoniwa_status_free(status[0])
    lib.hakoniwa_command_free(cmd[0])


cases = [
    ("subprocess.run(['/bin/true'])", lambda: subprocess.run(["/bin/true"])),
    ("hakoniwa.run(['/bin/true'])", lambda: hakoniwa.run(["/bin/true"])),
    ("hakoniwa.run(..., capture_output=True)", lambda: hakoniwa.run(["/bin/true"], capture_output=True)),
    ("Container().rootfs('/').command('/bin/true').status()", lambda: container.command("/bin/true").status()),
    ("library floor (C ABI spawn+wait, same sandbox)", library_floor),
]
for _, fn in cases:
    for _ in range(20):
        fn()
# Interleaved rounds, so that load hits every case alike; each case's ratio to subprocess is
# the median of the per-round ratios (and, in brackets, the ratio of the medians). The order
# is new every round (the same sequence in every run), so that no case always runs behind
# the same other one (see round_order in bench/src/bin/harness.rs).
times = [[] for _ in cases]
order = random.Random(1)
for r in range(n):
    rnd = list(range(len(cases)))
    order.shuffle(rnd)
    for i in rnd:
        t = time.perf_counter()
        cases[i][1]()
        times[i].append(time.perf_counter() - t)

def q(v, p):
    v = sorted(v)
    return v[round((len(v) - 1) * p)]

print(f"spawn + wait of /bin/true, {n} interleaved rounds: median ms (p10, p90); paired ratio to subprocess")
for (name, _), v in zip(cases, times):
    ratios = [a / b for a, b in zip(v, times[0])]
    print(
        f"  {name:55s} {statistics.median(v) * 1000:7.3f} ({q(v, .1) * 1000:.3f}, {q(v, .9) * 1000:.3f})"
        f"  {statistics.median(ratios):4.2f}x ({q(ratios, .1):.2f}, {q(ratios, .9):.2f})"
        f" [{statistics.median(v) / statistics.median(times[0]):4.2f}x]"
    )
added = [a - b for a, b in zip(times[1], times[4])]
print(f"hakoniwa.run minus the library floor, paired median: {statistics.median(added) * 1e6:.0f} us"
      f" (p10 {q(added, .1) * 1e6:.0f}, p90 {q(added, .9) * 1e6:.0f})")
print("goal: hakoniwa.run(['/bin/true']) under 2x subprocess.run")
PY
