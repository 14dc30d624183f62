"""``create_subprocess_exec``: sandboxed programs for asyncio.

The program's exit is watched through its pidfd with ``loop.add_reader`` (a pidfd becomes
readable when the process ends): no thread and no SIGCHLD handler per child.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, List, Optional, Sequence, Tuple, Union

from ._handle import ContainerHandle
from ._popen import DEVNULL, PIPE, STDOUT, Popen, StdArg
from ._status import ExitStatus

__all__ = ["Process", "create_subprocess_exec"]

_DEFAULT_LIMIT = 2**16
#: How often a program that may be stopped at our terminal is looked at (seconds).
_STOP_CHECK_S = 0.05



class Process:
    """A sandboxed program under asyncio, shaped like ``asyncio.subprocess.Process``.

    ``stdin`` is an ``asyncio.StreamWriter`` and ``stdout``/``stderr`` are
    ``asyncio.StreamReader`` objects when the stream was ``PIPE``, else ``None``.
    ``status`` is the full :class:`ExitStatus` once the program has ended.
    """

    stdin: Optional[asyncio.StreamWriter]
    stdout: Optional[asyncio.StreamReader]
    stderr: Optional[asyncio.StreamReader]

    def __init__(self, popen: Popen, loop: asyncio.AbstractEventLoop, watch_stops: bool = False) -> None:
        self._popen = popen
        self._loop = loop
        self._exited: asyncio.Future[int] = loop.create_future()
        self.stdin = None
        self.stdout = None
        self.stderr = None
        self._pidfd = popen.pidfd
        popen._child.pin()  # the pidfd stays open while it is registered with the loop
        loop.add_reader(self._pidfd, self._on_exit)
        deadline = popen._child.deadline
        self._timer: Optional[asyncio.TimerHandle] = None
        if deadline is not None:
            # The library enforces the wall-clock limit when asked for the status: ask then.
            self._timer = loop.call_later(max(0.0, deadline - time.monotonic()), self._on_exit)
        # A program given our terminal's foreground that is stopped there (Ctrl-Z) stops this
        # process too, as under asyncio's own subprocesses; the library acts on the init's
        # report of the stop when asked for the status, so it is asked now and then.
        self._stop_check: Optional[asyncio.TimerHandle] = None
        if watch_stops:
            self._check_stops()

    def _check_stops(self) -> None:
        self._on_exit()
        if not self._exited.done():
            self._stop_check = self._loop.call_later(_STOP_CHECK_S, self._check_stops)

    def _on_exit(self) -> None:
        try:
            code = self._popen.poll()
        except BaseException as e:  # a library error while reaping: report it to wait()
            self._stop_watching()
            if not self._exited.done():
                self._exited.set_exception(e)
            return
        if code is not None:
            self._stop_watching()
            if not self._exited.done():
                self._exited.set_result(code)

    def _stop_watching(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._stop_check is not None:
            self._stop_check.cancel()
        if self._pidfd >= 0:
            self._loop.remove_reader(self._pidfd)
            self._pidfd = -1
            self._popen._child.unpin()

    def __repr__(self) -> str:
        return f"<hakoniwa.Process {self.pid}>"

    @property
    def pid(self) -> int:
        """The program's pid (in the caller's PID namespace)."""
        return self._popen.pid

    @property
    def returncode(self) -> Optional[int]:
        """The return code once the program has ended (``-signal`` when killed), else ``None``."""
        return self._popen.returncode if self._exited.done() else None

    @property
    def status(self) -> Optional[ExitStatus]:
        """The full exit status once the program has ended, else ``None``."""
        return self._popen.status if self._exited.done() else None

    async def wait(self) -> int:
        """Wait for the program to end and return its return code."""
        return await asyncio.shield(self._exited)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the program (nothing once it has been reaped)."""
        self._popen.send_signal(sig)

    def terminate(self) -> None:
        """Send SIGTERM."""
        self._popen.terminate()

    def kill(self) -> None:
        """Kill the whole sandbox (SIGKILL)."""
        self._popen.kill()

    async def _feed_stdin(self, input: Optional[bytes]) -> None:
        assert self.stdin is not None
        try:
            if input:
                self.stdin.write(input)
                await self.stdin.drain()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.stdin.close()
        try:
            await self.stdin.wait_closed()
        except (BrokenPipeError, ConnectionResetError):
            pass

    @staticmethod
    async def _read(stream: Optional[asyncio.StreamReader]) -> Optional[bytes]:
        if stream is None:
            return None
        return await stream.read()

    async def communicate(self, input: Optional[bytes] = None) -> Tuple[Optional[bytes], Optional[bytes]]:
        """Send ``input`` to stdin (then close it), read stdout and stderr to the end and
        wait for the program; returns ``(stdout, stderr)``."""
        if input is not None and not isinstance(input, (bytes, bytearray, memoryview)):
            raise TypeError(f"input must be bytes, not {type(input).__name__}")
        feed = self._feed_stdin(bytes(input) if input is not None else None) if self.stdin else None
        results = await asyncio.gather(
            feed if feed is not None else asyncio.sleep(0),
            self._read(self.stdout),
            self._read(self.stderr),
        )
        await self.wait()
        return results[1], results[2]


async def create_subprocess_exec(
    program: Union[str, bytes, "os.PathLike[str]"],
    *args: Union[str, bytes, "os.PathLike[str]"],
    stdin: StdArg = None,
    stdout: StdArg = None,
    stderr: StdArg = None,
    limit: int = _DEFAULT_LIMIT,
    cwd: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
    env: Optional[Any] = None,
    container: Optional[ContainerHandle] = None,
    wait_timeout: Optional[float] = None,
    pass_fds: Sequence[int] = (),
    controlling_terminal: bool = False,
) -> Process:
    """Start ``program`` with ``args`` in a sandbox, like ``asyncio.create_subprocess_exec``.

    ``stdin``, ``stdout`` and ``stderr`` accept ``asyncio.subprocess.PIPE``, ``DEVNULL``,
    ``STDOUT`` (stderr only), an fd, a file or ``None`` (inherit). ``container``, ``env``,
    ``wait_timeout``, ``pass_fds`` and ``controlling_terminal`` are as for :class:`Popen`.
    The spawn itself (a few milliseconds) runs on the event loop's thread; waiting never
    blocks it.
    """
    loop = asyncio.get_running_loop()  # Popen checks the arguments before spawning
    popen = Popen(
        [program, *args],
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        container=container,
        wait_timeout=wait_timeout,
        pass_fds=pass_fds,
        controlling_terminal=controlling_terminal,
    )
    process = Process(popen, loop, popen._takes_terminal)
    opened: List[asyncio.BaseTransport] = []
    try:
        if popen.stdin is not None:
            pipe = popen.stdin
            popen.stdin = None
            write_transport, protocol = await loop.connect_write_pipe(
                lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop),
                pipe,
            )
            opened.append(write_transport)
            process.stdin = asyncio.StreamWriter(write_transport, protocol, None, loop)
        for name in ("stdout", "stderr"):
            pipe = getattr(popen, name)
            if pipe is None:
                continue
            setattr(popen, name, None)
            reader = asyncio.StreamReader(limit=limit, loop=loop)
            transport, _ = await loop.connect_read_pipe(
                lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
            )
            opened.append(transport)
            setattr(process, name, reader)
    except BaseException:
        for t in opened:
            t.close()
        popen.kill()
        raise
    return process


# Re-exported for `hakoniwa.asyncio.PIPE`-style use.
PIPE = PIPE
DEVNULL = DEVNULL
STDOUT = STDOUT
