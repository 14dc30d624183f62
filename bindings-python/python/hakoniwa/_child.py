"""The one place that builds, spawns and waits for a C-level command (all C calls live here)."""

from __future__ import annotations

import math
import os
import select
import threading
import time
from typing import Any, List, Mapping, Optional, Sequence, Tuple

from . import _lib
from ._handle import ContainerHandle
from ._status import ExitStatus

# What a standard stream of the program is connected to, as handed to `spawn`.
INHERIT = -1
NULL = -2


class NativeChild:
    """A running sandboxed program: the C ``hakoniwa_child_t`` handle, freed exactly once.

    Every C call on the handle happens under one lock (the C ABI allows no concurrent
    calls on one child); ``wait`` may be called from several threads and all get the same
    status. Freeing a child that was not waited for kills and reaps it (the C library's
    documented behaviour), so dropping a ``NativeChild`` never leaves a zombie.
    """

    def __init__(self, handle: Any, pid: int, pidfd: int, deadline: Optional[float]) -> None:
        self._handle = handle
        self.pid = pid
        self.pidfd = pidfd
        #: When the library's wall-clock limit expires (``time.monotonic()``). The library
        #: enforces it whenever it is asked for the status; waiters here wake up for it.
        self.deadline = deadline
        self._lock = threading.Lock()
        self._status: Optional[ExitStatus] = None
        # The pidfd belongs to the handle: the handle is freed (closing it) once the status is
        # known and nobody polls it
        # any more (a closed number could be reused by another open while a waiter polls).
        self._pins = 0

    def pin(self) -> None:
        """Keep the handle and its pidfd (for a poller such as an event loop) until
        :meth:`unpin`."""
        with self._lock:
            self._pins += 1

    def unpin(self) -> None:
        """Release a :meth:`pin`; frees the handle when the status is known and unpinned."""
        with self._lock:
            self._pins -= 1
            self._free_if_done()

    def _free_if_done(self) -> None:
        if self._status is not None and self._pins == 0 and self._handle is not None:
            handle, self._handle = self._handle, None
            self.pidfd = -1
            _lib.get()[1].hakoniwa_child_free(handle)

    @property
    def status(self) -> Optional[ExitStatus]:
        """The exit status once reaped, else ``None``."""
        return self._status

    def _take_status(self, status_out: Any) -> ExitStatus:
        ffi, lib = _lib.get()
        status = status_out[0]
        try:
            text = ffi.new("char **")
            length = ffi.new("size_t *")
            _lib.check(lib.hakoniwa_status_to_json(status, text, length))
            try:
                document = bytes(ffi.buffer(text[0], length[0])).decode("utf-8")
            finally:
                lib.hakoniwa_string_free(text[0])
        finally:
            lib.hakoniwa_status_free(status)
        self._status = ExitStatus._from_json(document)
        self._free_if_done()
        return self._status

    def wait(self, timeout: Optional[float] = None) -> Optional[ExitStatus]:
        """Wait until the program ends and return its status; ``None`` if ``timeout``
        seconds passed first. Waiting is a ``poll`` on the pidfd (the GIL is released), so
        other threads may signal or kill the program meanwhile."""
        end = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._status is not None:
                return self._status
            self._pins += 1
        try:
            poller = select.poll()
            poller.register(self.pidfd, select.POLLIN)
            while self._status is None:
                now = time.monotonic()
                limits = [t - now for t in (end, self.deadline) if t is not None]
                wait_ms = None if not limits else max(0, math.ceil(min(limits) * 1000))
                if poller.poll(wait_ms):
                    return self.try_wait()
                if self.deadline is not None and time.monotonic() >= self.deadline:
                    self.try_wait()  # the library kills the sandbox: its wall-clock limit expired
                elif end is not None and time.monotonic() >= end:
                    return None
            return self._status
        finally:
            self.unpin()

    def try_wait(self) -> Optional[ExitStatus]:
        """The status if the program has ended, else ``None``; never blocks."""
        with self._lock:
            if self._status is not None:
                return self._status
            ffi, lib = _lib.get()
            out = ffi.new("hakoniwa_status_t **")
            _lib.check(lib.hakoniwa_child_try_wait(self._handle, out))
            if out[0] == ffi.NULL:
                return None
            return self._take_status(out)

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the program (through its pidfd); a no-op once it was reaped."""
        with self._lock:
            if self._status is None and self._handle is not None:
                _, lib = _lib.get()
                _lib.check(lib.hakoniwa_child_signal(self._handle, int(sig)))

    def kill(self) -> None:
        """Kill the sandbox (SIGKILL to PID 1 of its namespace ends everything in it)."""
        with self._lock:
            if self._status is None and self._handle is not None:
                _, lib = _lib.get()
                _lib.check(lib.hakoniwa_child_kill(self._handle))

    def __del__(self) -> None:
        handle, self._handle = self._handle, None
        if handle is not None:
            try:
                _lib.get()[1].hakoniwa_child_free(handle)
            except Exception:  # interpreter shutdown: the library may be gone already
                pass


def spawn(
    container: ContainerHandle,
    argv: Sequence[bytes],
    env: Optional[List[Tuple[bytes, bytes]]],
    cwd: Optional[bytes],
    stdio: Tuple[int, int, int],
    wait_timeout: Optional[float],
    pass_fds: Sequence[int] = (),
) -> NativeChild:
    """Spawn ``argv`` in ``container`` with the given standard
    streams (a caller's fd, ``INHERIT`` or ``NULL``). The library duplicates the fds, so
    the caller closes its own."""
    ffi, lib = _lib.get()
    out = ffi.new("hakoniwa_command_t **")
    with container._lock:  # the library forbids reading a container while it is changed
        _lib.check(lib.hakoniwa_command_new(container._handle, argv[0], out))
    command = ffi.gc(out[0], lib.hakoniwa_command_free)
    try:
        for arg in argv[1:]:
            _lib.check(lib.hakoniwa_command_arg(command, arg))
        for key, value in env or ():
            _lib.check(lib.hakoniwa_command_env(command, key, value))
        if cwd is not None:
            _lib.check(lib.hakoniwa_command_current_dir(command, cwd))
        streams = (lib.HAKONIWA_STDIN, lib.HAKONIWA_STDOUT, lib.HAKONIWA_STDERR)
        for stream, fd in zip(streams, stdio):
            if fd == INHERIT:
                mode = lib.HAKONIWA_STDIO_INHERIT
            elif fd == NULL:
                mode = lib.HAKONIWA_STDIO_NULL
            else:
                mode = lib.HAKONIWA_STDIO_FD  # duplicated by the library
            _lib.check(lib.hakoniwa_command_stdio(command, stream, mode, fd))
        for fd in pass_fds:  # duplicated by the library, to the same number in the program
            _lib.check(lib.hakoniwa_command_preserve_fd(command, fd, fd))
        if wait_timeout is not None:
            _lib.check(lib.hakoniwa_command_wait_timeout(command, max(1, round(wait_timeout * 1000))))
        child_out = ffi.new("hakoniwa_child_t **")
        _lib.check(lib.hakoniwa_command_spawn(command, child_out))
    finally:
        ffi.release(command)
    handle = child_out[0]
    pidfd = int(lib.hakoniwa_child_pidfd(handle))  # owned by the handle
    deadline = None if wait_timeout is None else time.monotonic() + wait_timeout
    return NativeChild(handle, int(lib.hakoniwa_child_pid(handle)), pidfd, deadline)


def encode_env(env: Optional[Mapping[Any, Any]]) -> Optional[List[Tuple[bytes, bytes]]]:
    """Validate and encode an environment mapping (``TypeError`` before any C call)."""
    if env is None:
        return None
    if not isinstance(env, Mapping):
        raise TypeError(f"env must be a mapping, not {type(env).__name__}")
    pairs = []
    for key, value in env.items():
        k = _lib.cstr(key, "environment variable name")
        if not k or b"=" in k:
            raise ValueError(f"invalid environment variable name: {key!r}")
        pairs.append((k, _lib.cstr(value, f"value of environment variable {key!r}")))
    return pairs


def encode_argv(args: Any) -> List[bytes]:
    """Validate and encode the program and its arguments (``TypeError`` before any C call)."""
    if isinstance(args, (str, bytes, os.PathLike)):
        args = [args]
    if not isinstance(args, Sequence) and not hasattr(args, "__iter__"):
        raise TypeError(f"args must be a sequence of str, bytes or paths, not {type(args).__name__}")
    argv = [_lib.cstr(a, "argument") for a in args]
    if not argv or not argv[0]:
        raise ValueError("args must name a program")
    return argv
