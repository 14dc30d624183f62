"""A terminal of the sandbox's own (controlling_terminal), and Command.prepare."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import time
from pathlib import Path
from typing import Iterator


import pytest

import hakoniwa


class Pty:
    """A pseudo-terminal whose slave the test gives to the sandbox and then closes."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()

    def close_slave(self) -> None:
        """Close our copy (the sandbox holds its own): the master then sees its end."""
        os.close(self.slave)
        self.slave = -1

    def close(self) -> None:
        for fd in (self.master, self.slave):
            if fd >= 0:
                os.close(fd)


@pytest.fixture
def pty() -> Iterator[Pty]:
    p = Pty()
    yield p
    p.close()


def read_until(fd: int, marker: bytes, seconds: float = 30.0) -> bytes:
    """What the program wrote on the pseudo-terminal up to ``marker``."""
    seen = b""
    end = time.monotonic() + seconds
    while marker not in seen:
        left = end - time.monotonic()
        assert left > 0, f"no {marker!r} on the terminal; got {seen!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            seen += os.read(fd, 4096)
    return seen


def test_ctrl_c_typed_on_its_own_terminal_reaches_the_program(pty: Pty, no_leaks: None) -> None:
    with hakoniwa.Popen(
        ["sh", "-c", "echo ready; exec sleep 60"],
        stdin=pty.slave, stdout=pty.slave, stderr=pty.slave, controlling_terminal=True,
    ) as p:
        pty.close_slave()
        read_until(pty.master, b"ready")
        os.write(pty.master, b"\x03")  # Ctrl-C, as typed
        # Without a controlling terminal nobody gets the SIGINT and this times out.
        assert p.wait(timeout=30) == -signal.SIGINT
        assert p.status is not None and p.status.reason == "signaled"


def test_ctrl_z_typed_on_its_own_terminal_reaches_the_program(pty: Pty, no_leaks: None) -> None:
    # os.write: the signal may come while print() is still flushing "ready". Short sleeps:
    # Python runs a handler between bytecodes, so a signal that comes just before a long
    # sleep starts would wait for its end.
    script = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTSTP, lambda *_: os.write(1, b'got-tstp\\n'))\n"
        "os.write(1, b'ready\\n')\n"
        "for _ in range(1200): time.sleep(0.05)\n"
    )
    with hakoniwa.Popen(
        ["python3", "-c", script],
        stdin=pty.slave, stdout=pty.slave, stderr=pty.slave, controlling_terminal=True,
    ) as p:
        pty.close_slave()
        read_until(pty.master, b"ready")
        os.write(pty.master, b"\x1a")  # Ctrl-Z, as typed
        read_until(pty.master, b"got-tstp")
        p.kill()


def test_the_program_sees_its_terminal_as_the_controlling_one(pty: Pty, no_leaks: None) -> None:
    # /dev/tty opens the controlling terminal: it fails in a session without one.
    with hakoniwa.Popen(
        ["sh", "-c", "echo via-tty > /dev/tty && echo done && exec sleep 60"],
        stdin=pty.slave, stdout=pty.slave, stderr=pty.slave, controlling_terminal=True,
        container=hakoniwa.Container().rootfs("/").devfsmount("/dev"),
    ) as p:
        pty.close_slave()
        out = read_until(pty.master, b"done")  # read while it runs: a closed pty may drop it
        assert b"via-tty" in out
        p.kill()


def test_a_controlling_terminal_needs_a_terminal_among_the_streams() -> None:
    with pytest.raises(hakoniwa.ConfigError, match="terminal"):
        hakoniwa.run(
            ["true"], stdin=hakoniwa.DEVNULL, stdout=hakoniwa.DEVNULL,
            stderr=hakoniwa.DEVNULL, controlling_terminal=True,
        )


def test_controlling_terminal_takes_only_a_bool() -> None:
    with pytest.raises(TypeError, match="controlling_terminal"):
        hakoniwa.Popen(["true"], controlling_terminal=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hakoniwa.Container().command("true").controlling_terminal("yes")  # type: ignore[arg-type]


def test_the_builder_gives_a_command_its_own_terminal(pty: Pty, no_leaks: None) -> None:
    command = (
        hakoniwa.Container().rootfs("/")
        .command("sh", "-c", "echo ready; exec sleep 60")
        .stdin(pty.slave).stdout(pty.slave).stderr(pty.slave)
        .controlling_terminal()
    )
    with command.spawn() as p:
        pty.close_slave()
        read_until(pty.master, b"ready")
        os.write(pty.master, b"\x03")
        assert p.wait(timeout=30) == -signal.SIGINT


def test_asyncio_children_take_a_terminal_and_passed_descriptors(
    pty: Pty, no_leaks: None
) -> None:
    r, w = os.pipe()

    async def main() -> None:
        p = await hakoniwa.create_subprocess_exec(  # dash takes single-digit fds only
            "bash", "-c", f"echo through >&{w}; echo ready; exec sleep 60",
            stdin=pty.slave, stdout=pty.slave, stderr=pty.slave,
            controlling_terminal=True, pass_fds=[w],
        )
        pty.close_slave()
        os.close(w)
        read_until(pty.master, b"ready")
        assert os.read(r, 100) == b"through\n"
        os.write(pty.master, b"\x03")
        assert await asyncio.wait_for(p.wait(), 30) == -signal.SIGINT

    try:
        asyncio.run(main())
    finally:
        os.close(r)


def test_prepare_refuses_what_a_spawn_would_refuse_without_running_anything(
    tmp_path: Path,
) -> None:
    box = hakoniwa.Container().rootfs("/").bindmount_rw(str(tmp_path), "/out")
    box.command("sh", "-c", "touch /out/ran").prepare()
    assert not (tmp_path / "ran").exists()
    bad = hakoniwa.Container().rootfs("/").hostname("x" * 65)
    with pytest.raises(hakoniwa.ConfigError, match="hostname"):
        bad.command("true").prepare()
    # The same configuration fails the spawn alike.
    with pytest.raises(hakoniwa.ConfigError, match="hostname"):
        bad.command("true").status()
