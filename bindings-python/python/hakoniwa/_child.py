"""The one place that builds, spawns and waits for a C-level command (all C calls live here)."""

from __future__ import annotations

import functools
import math
import os
from collections import abc
import select
import threading
import time
import warnings
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

from . import _lib
from ._handle import ContainerHandle
from ._status import ExitStatus

# What a standard stream of the program is connected to, as handed to `spawn`.
INHERIT = -1
NULL = -2
ALL_INHERITED = (INHERIT, INHERIT, INHERIT)
#: The longest sleep of a wait before Python looks at signals, and the library at what the
#: sandbox's init reported (a terminal stop to act on), again.
_MAX_WAIT_SLICE_MS = 64


class _Layout(NamedTuple):
    """The status structs as the header declares them."""

    usage_size: int
    enforcement_size: int
    setup_fields: Tuple[str, ...]  # hakoniwa_enforcement_t's setup_<part>_ns, in order
    setup_parts: Tuple[str, ...]  # their parts: the keys of the status document's setup_ms


_layout: Optional[_Layout] = None
#: The figures of ``hakoniwa_usage_t``, in the order ``ExitStatus._from_library`` takes them.
_USAGE_FIGURES = ("real_time_us", "user_time_us", "system_time_us", "max_rss_kb",
                  "minor_faults", "major_faults", "voluntary_switches", "involuntary_switches")


def _struct_layout(ffi: Any) -> _Layout:
    global _layout
    if _layout is None:
        setup = [n for n, _ in ffi.typeof("hakoniwa_enforcement_t").fields if n.startswith("setup_")]
        _layout = _Layout(
            ffi.sizeof("hakoniwa_usage_t"),
            ffi.sizeof("hakoniwa_enforcement_t"),
            tuple(setup),
            tuple(n[len("setup_") : -len("_ns")] for n in setup),
        )
    return _layout


class _Document:
    """The JSON status document of a library status, rendered when asked for
    (``ExitStatus.to_dict``). Holds the status, which is freed with this object."""

    __slots__ = ("_status",)

    def __init__(self, status: Any) -> None:
        self._status = status

    def text(self) -> str:
        ffi, lib = _lib.get()
        text = ffi.new("char **")
        length = ffi.new("size_t *")
        _lib.check(lib.hakoniwa_status_to_json(self._status, text, length))
        try:
            return bytes(ffi.buffer(text[0], length[0])).decode("utf-8")
        finally:
            lib.hakoniwa_string_free(text[0])


def _measurements(status: Any) -> Tuple[List[int], Dict[str, float]]:
    """The usage figures (in ``_USAGE_FIGURES`` order) and setup times of a library status
    (an ``ExitStatus`` reads them when first asked for)."""
    ffi, lib = _lib.get()
    layout = _struct_layout(ffi)
    usage = ffi.new("hakoniwa_usage_t *", [layout.usage_size])
    _lib.check(lib.hakoniwa_status_usage(status, usage))
    enforcement = ffi.new("hakoniwa_enforcement_t *", [layout.enforcement_size])
    _lib.check(lib.hakoniwa_status_enforcement(status, enforcement))
    return (
        [getattr(usage, figure) for figure in _USAGE_FIGURES],
        # Milliseconds rounded down to whole microseconds, as in the status document.
        dict(zip(layout.setup_parts, [getattr(enforcement, f) // 1000 / 1000 for f in layout.setup_fields])),
    )


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
        #: The process that spawned the sandbox (a forked process's copy leaves it alone).
        self._owner = os.getpid()
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

    def discard(self) -> None:
        """Kill and reap the sandbox now, without a status (a spawn interrupted by an
        exception after the program started: nobody will wait for it)."""
        with self._lock:
            handle, self._handle = self._handle, None
            self.pidfd = -1
        if handle is not None:
            _lib.get()[1].hakoniwa_child_free(handle)  # kills and reaps

    @property
    def status(self) -> Optional[ExitStatus]:
        """The exit status once reaped, else ``None``."""
        return self._status

    def _take_status(self, status_out: Any) -> ExitStatus:
        ffi, lib = _lib.get()
        status = ffi.gc(status_out[0], lib.hakoniwa_status_free)  # kept by the ExitStatus
        outcome = lib.hakoniwa_status_outcome_json(status)
        if outcome == ffi.NULL:
            raise _lib.last_error(lib.hakoniwa_last_error_code())
        self._status = ExitStatus._from_library(
            ffi.string(outcome), functools.partial(_measurements, status), _Document(status)
        )
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
            # Python runs a signal's handler between bytecodes: a signal that comes after
            # the last such point and before poll() sleeps (Ctrl-C just as the wait begins)
            # would wait for the sandbox to end. Sleeping in growing slices bounds that
            # delay (a short program's wait is one slice). After each slice the library
            # also looks at what the init reported: a program that has our terminal and is
            # stopped by Ctrl-Z stops this process too, as it would under subprocess; it
            # enforces the wall-clock limit as well.
            slice_ms = 16
            while self._status is None:
                wait_ms = slice_ms
                slice_ms = min(slice_ms * 2, _MAX_WAIT_SLICE_MS)
                if end is not None or self.deadline is not None:
                    now = time.monotonic()
                    limit = min(t for t in (end, self.deadline) if t is not None)
                    wait_ms = min(wait_ms, max(0, math.ceil((limit - now) * 1000)))
                ready = poller.poll(wait_ms)
                status = self.try_wait()
                if ready or status is not None:
                    return status
                if end is not None and time.monotonic() >= end:
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
        """Send ``sig`` to the program (the sandbox's init forwards it, in order; SIGSTOP
        stops the program); a no-op once it was reaped."""
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
            unwaited = self._status is None and self._owner == os.getpid()
            try:
                _lib.get()[1].hakoniwa_child_free(handle)  # kills and reaps it first
            except Exception:  # interpreter shutdown: the library may be gone already
                pass
            if unwaited:
                # As subprocess warns of a child still running (here it was killed). After
                # the free: with warnings as errors the warning raises here, and a
                # finalizer's exception is only reported.
                warnings.warn(
                    f"sandbox {self.pid} was not waited for: killed with its handle",
                    ResourceWarning,
                    source=self,
                )


class Options(NamedTuple):
    """Everything about one run besides the container and the program with its arguments."""

    env: Optional[List[Tuple[bytes, bytes]]] = None
    cwd: Optional[bytes] = None
    #: The program's stdin, stdout, stderr: a caller's fd, ``INHERIT`` or ``NULL``.
    stdio: Tuple[int, int, int] = ALL_INHERITED
    wait_timeout: Optional[float] = None
    pass_fds: Sequence[int] = ()
    controlling_terminal: bool = False


DEFAULT_OPTIONS = Options()


def _command(container: ContainerHandle, argv: Sequence[bytes], options: Options) -> Any:
    """A C-level command for ``argv`` in ``container`` (freed when collected). The library
    duplicates the fds in ``options.stdio`` and ``options.pass_fds``: the caller closes its
    own."""
    ffi, lib = _lib.get()
    out = ffi.new("hakoniwa_command_t **")
    with container._lock:  # the library forbids reading a container while it is changed
        _lib.check(lib.hakoniwa_command_new(container._handle, argv[0], out))
    command = ffi.gc(out[0], lib.hakoniwa_command_free)
    try:
        for arg in argv[1:]:
            _lib.check(lib.hakoniwa_command_arg(command, arg))
        for key, value in options.env or ():
            _lib.check(lib.hakoniwa_command_env(command, key, value))
        if options.cwd is not None:
            _lib.check(lib.hakoniwa_command_current_dir(command, options.cwd))
        stdio = options.stdio
        streams = () if stdio == ALL_INHERITED else (
            lib.HAKONIWA_STDIN, lib.HAKONIWA_STDOUT, lib.HAKONIWA_STDERR)
        for stream, fd in zip(streams, stdio):
            if fd == INHERIT:
                continue  # the library's default for a spawn
            if fd == NULL:
                mode = lib.HAKONIWA_STDIO_NULL
            else:
                mode = lib.HAKONIWA_STDIO_FD  # duplicated by the library
            _lib.check(lib.hakoniwa_command_stdio(command, stream, mode, fd))
        for fd in options.pass_fds:  # duplicated by the library, to the same number
            _lib.check(lib.hakoniwa_command_preserve_fd(command, fd, fd))
        if options.wait_timeout is not None:
            ms = max(1, round(options.wait_timeout * 1000))
            _lib.check(lib.hakoniwa_command_wait_timeout(command, ms))
        if options.controlling_terminal:
            _lib.check(lib.hakoniwa_command_controlling_terminal(command, 1))
    except BaseException:
        ffi.release(command)
        raise
    return command


def prepare(container: ContainerHandle, argv: Sequence[bytes], options: Options) -> None:
    """Check ``argv`` in ``container`` with ``options`` as a spawn would, and build the whole
    plan, without running anything (:class:`ConfigError` for what a spawn would refuse)."""
    ffi, lib = _lib.get()
    command = _command(container, argv, options)
    try:
        _lib.check(lib.hakoniwa_command_prepare(command))
    finally:
        ffi.release(command)


def spawn(container: ContainerHandle, argv: Sequence[bytes], options: Options) -> NativeChild:
    """Spawn ``argv`` in ``container`` with ``options``."""
    ffi, lib = _lib.get()
    command = _command(container, argv, options)
    # The sandbox must always have an owner that ends it, even when a signal's exception
    # (Ctrl-C) comes right after the spawn: the handle moves from `child_out` into `child`
    # in one statement without calls, and everything after the spawn, the return
    # included, is inside the `except` that ends the sandbox.
    child = NativeChild(None, 0, -1, None)
    child_out = ffi.new("hakoniwa_child_t **")  # NULL until the spawn succeeds
    wait_timeout = options.wait_timeout
    try:
        _lib.check(lib.hakoniwa_command_spawn(command, child_out))
        ffi.release(command)
        child._handle, child_out[0] = child_out[0], ffi.NULL
        child.pidfd = int(lib.hakoniwa_child_pidfd(child._handle))  # owned by the handle
        child.pid = int(lib.hakoniwa_child_pid(child._handle))
        if wait_timeout is not None:  # from now: the library's limit started a little earlier
            child.deadline = time.monotonic() + wait_timeout
        return child
    except BaseException:
        # Python 3.9 may raise between the two stores above: then both hold the handle,
        # and `discard` frees it once.
        orphan = child_out[0]
        if orphan != ffi.NULL and orphan != child._handle:
            lib.hakoniwa_child_free(orphan)  # kills and reaps the sandbox
        child.discard()
        ffi.release(command)
        raise


def encode_env(env: Optional[Mapping[Any, Any]]) -> Optional[List[Tuple[bytes, bytes]]]:
    """Validate and encode an environment mapping (``TypeError`` before any C call)."""
    if env is None:
        return None
    if not isinstance(env, abc.Mapping):
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
    if not hasattr(args, "__iter__") and not isinstance(args, abc.Sequence):
        raise TypeError(f"args must be a sequence of str, bytes or paths, not {type(args).__name__}")
    argv = [_lib.cstr(a, "argument") for a in args]
    if not argv or not argv[0]:
        raise ValueError("args must name a program")
    return argv
