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
