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


def _program_state(init: int) -> str:
    """The state letter (R, S, T, ...) of the sandbox's program, the init's child."""
    with open(f"/proc/{init}/task/{init}/children") as f:
        program = f.read().split()[0]
    with open(f"/proc/{program}/stat") as f:
        return f.read().rsplit(") ", 1)[1][0]


def _await_state(init: int, stopped: bool) -> None:
    import time

    end = time.monotonic() + 30  # a hang guard, not a timing goal
    while True:
        try:
            if (_program_state(init) == "T") == stopped:
                return
        except (OSError, IndexError):
            pass  # the program is not started yet
        assert time.monotonic() < end, "the program's state never changed"
        time.sleep(0.01)


def test_sigstop_and_sigcont_stop_and_resume_the_program_not_the_init() -> None:
    with hakoniwa.Popen(["sh", "-c", "read x; echo got $x"], stdin=hakoniwa.PIPE,
                        stdout=hakoniwa.PIPE, wait_timeout=60) as p:
        _await_state(p.pid, stopped=False)
        p.send_signal(signal.SIGSTOP)
        _await_state(p.pid, stopped=True)
        with open(f"/proc/{p.pid}/stat") as f:
            assert f.read().rsplit(") ", 1)[1][0] != "T"  # the init relayed it
        p.send_signal(signal.SIGCONT)
        _await_state(p.pid, stopped=False)
        # Sent back to back, they arrive in the order sent: the program runs on.
        for _ in range(20):
            p.send_signal(signal.SIGSTOP)
            p.send_signal(signal.SIGCONT)
        out, _ = p.communicate(b"on\n")
    assert out == b"got on\n"
    assert p.returncode == 0
