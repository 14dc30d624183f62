"""Signal dispositions: the sandbox must not inherit Python's SIG_IGN for SIGPIPE."""

from __future__ import annotations

import signal

import hakoniwa


def test_python_ignores_sigpipe_but_yes_into_head_ends_normally() -> None:
    assert signal.getsignal(signal.SIGPIPE) == signal.SIG_IGN  # the premise
    r = hakoniwa.run(["bash", "-c", 'yes | head -1; echo "${PIPESTATUS[@]}"'], capture_output=True,
                     timeout=120)
    # `yes` dies of SIGPIPE (141 = 128 + 13); with SIGPIPE ignored it would get EPIPE,
    # print "write error" and exit 1.
    assert r.stdout == b"y\n141 0\n", r.stderr
    assert r.stderr == b""
    assert r.returncode == 0


def test_a_blocked_signal_mask_is_not_inherited() -> None:
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGUSR1})
    try:
        r = hakoniwa.run(["sh", "-c", "grep SigBlk /proc/self/status"], capture_output=True)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    assert r.stdout == b"SigBlk:\t0000000000000000\n"


def test_ctrl_c_while_run_waits_raises_keyboard_interrupt_and_kills_the_sandbox() -> None:
    """SIGINT (Ctrl-C) reaches Python while run() sleeps waiting for the sandbox: the wait
    is interrupted, KeyboardInterrupt propagates, and the sandbox is gone afterwards."""
    import os
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import os, sys, hakoniwa
        def cmdline(pid):
            try:  # a process may end between the listing and the open
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    return f.read()
            except OSError:
                return b""
        try:
            hakoniwa.run(["sh", "-c", "echo started; exec sleep 3141"], timeout=None)
        except KeyboardInterrupt:
            left = [p for p in os.listdir("/proc") if p.isdigit() and
                    b"sleep\\x003141" in cmdline(p)]
            print("interrupted", left, flush=True)
        """
    )
    import time

    # At once (Python may still be returning from the spawn) and a little later (waiting).
    for delay in (0, 0.0005, 0.002, 0.02):
        p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
        assert p.stdout is not None
        assert p.stdout.readline() == b"started\n"
        time.sleep(delay)
        p.send_signal(signal.SIGINT)
        out, _ = p.communicate(timeout=60)  # a hang guard, not a timing goal
        assert out == b"interrupted []\n", (delay, out)
        assert p.returncode == 0
    # Nothing of it is left on the host either.
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    assert b"sleep\x003141" not in f.read()
            except OSError:
                pass
