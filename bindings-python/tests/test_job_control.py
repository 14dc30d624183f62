"""Job control at a real terminal (tmux): a program that inherits our terminal gets its
foreground, and Ctrl-Z typed there stops this process with it, as under ``subprocess``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest


class Tmux:
    """A tmux server running an interactive bash (killed with it when the test ends)."""

    def __init__(self, sock: Path) -> None:
        self.sock = str(sock)
        shell = "env -i PATH=/usr/bin:/bin TERM=screen PS1='sh> ' bash --norc --noprofile -i"
        self.tmux("new-session", "-d", "-s", "hk", "-x", "120", "-y", "30", shell)
        self.wait_for("sh>")

    def tmux(self, *args: str) -> str:
        out = subprocess.run(["tmux", "-S", self.sock, *args], capture_output=True, text=True)
        return out.stdout

    def keys(self, *keys: str) -> None:
        self.tmux("send-keys", "-t", "hk", *keys)

    def line(self, text: str) -> None:
        self.keys(text, "Enter")

    def screen(self) -> str:
        return self.tmux("capture-pane", "-t", "hk", "-p")

    def wait_for(self, needle: str) -> str:
        end = time.monotonic() + 30
        while True:
            screen = self.screen()
            if needle in screen:
                return screen
            assert time.monotonic() < end, f"{needle!r} never appeared:\n{screen}"
            time.sleep(0.05)

    def kill(self) -> None:
        self.tmux("kill-server")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    t = Tmux(tmp_path / "sock")
    yield t
    t.kill()


def states(marker: str) -> List[str]:
    """State letters of this user's processes whose command line contains ``marker``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if marker.encode() not in Path(f"/proc/{pid}/cmdline").read_bytes():
                continue
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        found.append(stat[stat.rindex(")") + 2])
    return found


def wait_state(marker: str, want: str, what: str) -> None:
    end = time.monotonic() + 30
    while True:
        s = states(marker)
        if s and all(c in want for c in s):
            return
        assert time.monotonic() < end, f"{what}: {s}"
        time.sleep(0.05)


def ctrl_z_fg_and_ctrl_c(tmux: Tmux, script: Path, secs: str) -> None:
    """Run ``script`` (which runs ``sleep secs`` and prints its return code) at the shell's
    prompt; Ctrl-Z stops it with the program, ``fg`` resumes both, Ctrl-C ends the program
    and raises KeyboardInterrupt in Python, as under subprocess."""
    tmux.line(f"{sys.executable} {script}")
    wait_state(f"sleep\0{secs}", "S", "sleep never started")
    tmux.keys("C-z")
    # The shell sees its job stopped: Python itself, not only the program.
    tmux.wait_for("Stopped")
    wait_state(str(script), "T", "python kept running")
    wait_state(f"sleep\0{secs}", "T", "the program kept running")
    tmux.line("fg")
    wait_state(f"sleep\0{secs}", "S", "the program did not resume")
    tmux.keys("C-c")
    screen = tmux.wait_for("KeyboardInterrupt")
    assert "rc " not in screen, screen


def job(tmp_path: Path, n: int, code: str) -> Tuple[Path, str]:
    """A script from ``code`` whose ``SECS`` is a duration no other test uses (to find its
    ``sleep`` among the host's processes), and that duration."""
    secs = f"{30 + n}.{os.getpid()}"
    script = tmp_path / f"job{n}.py"
    script.write_text(code.replace("SECS", secs))
    return script, secs


def test_ctrl_c_ends_a_loop_of_runs_with_keyboard_interrupt(tmux: Tmux, tmp_path: Path) -> None:
    # The program has the terminal's foreground, so Ctrl-C signals it alone; Python then
    # acts on it too, as it would have received it under subprocess.
    script, secs = job(tmp_path, 3, """
import hakoniwa
for i in range(3):
    r = hakoniwa.run(['sleep', 'SECS'])
    print('next', i, r.returncode)
""")
    tmux.line(f"{sys.executable} {script}")
    wait_state(f"sleep\0{secs}", "S", "sleep never started")
    tmux.keys("C-c")
    screen = tmux.wait_for("KeyboardInterrupt")
    assert "next 0" not in screen, screen


def test_a_sigint_sent_by_the_caller_raises_nothing(tmux: Tmux, tmp_path: Path) -> None:
    # Only Ctrl-C typed at the terminal is Python's as well; a SIGINT the caller sends
    # with send_signal ends the program alone, as under subprocess.
    script, secs = job(tmp_path, 4, """
import signal, time, hakoniwa
p = hakoniwa.Popen(['sleep', 'SECS'])
time.sleep(0.3)
p.send_signal(signal.SIGINT)
print('rc', p.wait())
""")
    tmux.line(f"{sys.executable} {script}")
    screen = tmux.wait_for("rc -2")
    assert "KeyboardInterrupt" not in screen, screen


def test_ctrl_z_stops_the_caller_with_the_program_and_fg_resumes_both(
    tmux: Tmux, tmp_path: Path
) -> None:
    script, secs = job(tmp_path, 1, """
import hakoniwa
r = hakoniwa.run(['sleep', 'SECS'])
print('rc', r.returncode)
""")
    ctrl_z_fg_and_ctrl_c(tmux, script, secs)


def test_ctrl_z_stops_an_asyncio_caller_with_the_program(tmux: Tmux, tmp_path: Path) -> None:
    script, secs = job(tmp_path, 2, """
import asyncio, hakoniwa
async def main():
    p = await hakoniwa.create_subprocess_exec('sleep', 'SECS')
    print('rc', await p.wait())
asyncio.run(main())
""")
    ctrl_z_fg_and_ctrl_c(tmux, script, secs)
