"""``Popen`` and ``run``: the ``subprocess``-shaped API."""

from __future__ import annotations

import fcntl
import io
import locale
import operator
import os
import selectors
import signal
import subprocess
import sys
import time
from typing import (
    IO, TYPE_CHECKING, Any, Dict, Generic, List, Optional, Sequence, Tuple, TypeVar, Union,
)

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

from . import _child, _lib
from ._errors import CalledProcessError, TimeoutExpired
from ._handle import ContainerHandle, default_container
from ._status import ExitStatus


__all__ = ["Popen", "run", "CompletedProcess", "PIPE", "DEVNULL", "STDOUT"]

PIPE = subprocess.PIPE
DEVNULL = subprocess.DEVNULL
STDOUT = subprocess.STDOUT

#: What a standard stream may be set to: ``None`` (inherit), ``PIPE``, ``DEVNULL``,
#: ``STDOUT`` (stderr only), a file descriptor or an object with ``fileno()``.
StdArg = Union[None, int, IO[Any]]
_Args = Union[str, bytes, "os.PathLike[str]", Sequence[Union[str, bytes, "os.PathLike[str]"]]]

_T = TypeVar("_T", str, bytes)


#: What ``input=`` takes: any bytes-like object, or a ``str`` in text mode.
_Input = Union["ReadableBuffer", str]


def _given(timeout: Optional[float]) -> float:
    """The timeout that expired, as the caller gave it (for :class:`TimeoutExpired`)."""
    assert timeout is not None
    return timeout


class CompletedProcess(subprocess.CompletedProcess, Generic[_T]):  # type: ignore[type-arg]
    """What :func:`run` returns: ``subprocess.CompletedProcess`` plus ``status``, the full
    :class:`ExitStatus` (reason, usage, enforcement). ``returncode`` follows ``subprocess``:
    the exit code, or minus the signal number."""

    stdout: _T
    stderr: _T

    def __init__(
        self,
        args: Any,
        returncode: int,
        stdout: _T,
        stderr: _T,
        status: ExitStatus,
    ) -> None:
        super().__init__(args, returncode, stdout, stderr)
        self.status = status

    def check_returncode(self) -> None:
        """Raise :class:`CalledProcessError` if ``returncode`` is not 0."""
        if self.returncode:
            raise CalledProcessError(self.returncode, self.args, self.stdout, self.stderr, self.status)


def _terminal_foreground() -> bool:
    """Whether our stdin is a terminal whose foreground is our process group (then the
    library gives that foreground to a program that inherits stdin, as a shell gives it to
    a job)."""
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return False


def _require_open(fd: int, what: str) -> int:
    """``fd``, or ``OSError`` (EBADF) naming the argument when it is not an open descriptor
    (as subprocess fails for it; the library's own message would not say which argument)."""
    try:
        fcntl.fcntl(fd, fcntl.F_GETFD)
    except OSError as e:
        raise OSError(e.errno, f"{what}: descriptor {fd} is not open ({e.strerror})") from None
    return fd


def _fileno(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise TypeError(f"{what} must be None, PIPE, DEVNULL, an fd or a file, not bool")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}: invalid file descriptor {value}")
        return _require_open(value, what)
    fileno = getattr(value, "fileno", None)
    if fileno is None:
        raise TypeError(
            f"{what} must be None, PIPE, DEVNULL, an fd or a file, not {type(value).__name__}"
        )
    fd = fileno()
    if not isinstance(fd, int):
        raise TypeError(f"{what}.fileno() did not return an int")
    return fd


class Popen:
    """A program running in a sandbox, shaped like ``subprocess.Popen``.

    ``args`` is the program and its arguments (a program name without ``/`` is looked up in
    the sandbox's ``PATH``). ``env`` is the whole environment (nothing is inherited when it is
    ``None``). ``container=None`` is the CLI's default sandbox (see :class:`Container`).
    ``wait_timeout`` kills the sandbox after that many seconds of wall-clock time (the status
    then says ``wall_time_exceeded``). ``pass_fds`` are passed to the program under the same
    numbers (like ``subprocess``; nothing else is inherited). With ``controlling_terminal``
    the sandbox runs in a session of its own whose controlling terminal is the first of
    stdin, stdout, stderr that is a terminal, typically the slave of a pseudo-terminal
    (``os.openpty()``) the caller relays: Ctrl-C and Ctrl-Z typed there reach the program,
    and nothing in the sandbox can reach the caller's own terminal. Setup failures raise
    :class:`SetupError` here.
    """

    def __init__(
        self,
        args: _Args,
        *,
        stdin: StdArg = None,
        stdout: StdArg = None,
        stderr: StdArg = None,
        cwd: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
        env: Optional[Any] = None,
        text: bool = False,
        encoding: Optional[str] = None,
        errors: Optional[str] = None,
        universal_newlines: Optional[bool] = None,
        container: Optional[ContainerHandle] = None,
        wait_timeout: Optional[float] = None,
        pass_fds: Sequence[int] = (),
        controlling_terminal: bool = False,
    ) -> None:

        self.args = args
        if not isinstance(controlling_terminal, bool):
            raise TypeError("controlling_terminal must be a bool")
        if pass_fds != ():  # the checks take a few microseconds; the default needs none
            if isinstance(pass_fds, (str, bytes)) or not all(
                isinstance(fd, int) and not isinstance(fd, bool) for fd in pass_fds
            ):
                raise TypeError("pass_fds must be a sequence of file descriptors (int)")
            if any(fd < 3 for fd in pass_fds):
                raise ValueError("pass_fds: descriptors 0-2 are set with stdin, stdout and stderr")
            for fd in pass_fds:
                _require_open(fd, "pass_fds")
        argv = _child.encode_argv(args)
        envp = _child.encode_env(env)
        cwdb = None if cwd is None else _lib.cstr(cwd, "cwd")
        if container is not None and not isinstance(container, ContainerHandle):
            raise TypeError(f"container must be a hakoniwa.Container or None, not {type(container).__name__}")
        wait_timeout = _lib.seconds(wait_timeout, "wait_timeout", limit=True)
        self.text_mode = bool(text or universal_newlines or encoding or errors)
        self.encoding = encoding or (locale.getpreferredencoding(False) if self.text_mode else None)
        self.errors = errors or "strict"
        self.stdin: Optional[IO[Any]] = None
        self.stdout: Optional[IO[Any]] = None
        self.stderr: Optional[IO[Any]] = None
        self.returncode: Optional[int] = None
        self.status: Optional[ExitStatus] = None
        self._input_offset = 0
        # Looked at before the spawn, which hands the foreground over.
        self._takes_terminal = stdin is None and not controlling_terminal and _terminal_foreground()
        self._sent_sigint = False

        child_fds: List[int] = []  # ours to close after the spawn
        parent: List[Optional[int]] = [None, None, None]
        fds: List[int] = []
        # All three inherited (the common case) needs no look at each.
        streams = () if stdin is None and stdout is None and stderr is None else (
            (stdin, "stdin"), (stdout, "stdout"), (stderr, "stderr"))
        try:
            for index, (value, what) in enumerate(streams):
                if value is None:
                    fds.append(_child.INHERIT)
                elif value == DEVNULL:
                    fds.append(_child.NULL)
                elif value == PIPE:
                    r, w = os.pipe()
                    parent[index], child = (w, r) if index == 0 else (r, w)
                    child_fds.append(child)
                    fds.append(child)
                elif value == STDOUT:
                    if index != 2:
                        raise ValueError("STDOUT is only valid for stderr")
                    # Where stdout goes: the same fd, /dev/null, or our own stdout.
                    fds.append(1 if fds[1] == _child.INHERIT else fds[1])
                else:
                    fds.append(_fileno(value, what))
            if container is None:  # only now: every argument was checked before any C call
                container = default_container()
            options = _child.Options(
                envp, cwdb, (fds[0], fds[1], fds[2]) if fds else _child.ALL_INHERITED,
                wait_timeout, pass_fds, controlling_terminal,
            )
            self._child = _child.spawn(container, argv, options)
            while child_fds:  # popped first: an interrupted close leaks, never closes twice
                os.close(child_fds.pop())
            self.pid = self._child.pid
            if parent[0] is not None:
                self.stdin = self._wrap(parent[0], "wb")
            if parent[1] is not None:
                self.stdout = self._wrap(parent[1], "rb")
            if parent[2] is not None:
                self.stderr = self._wrap(parent[2], "rb")
        except BaseException:
            # E.g. Ctrl-C right after the spawn: nobody holds this Popen to wait for the
            # sandbox, so it ends here (the traceback would keep it alive until collected).
            native = vars(self).get("_child")
            if native is not None:
                native.discard()
            wrapped = {f.fileno() for f in (self.stdin, self.stdout, self.stderr) if f is not None}
            for fd in child_fds + [p for p in parent if p is not None and p not in wrapped]:
                os.close(fd)
            raise

    def _wrap(self, fd: int, mode: str) -> IO[Any]:
        f = io.open(fd, mode, buffering=-1)
        if self.text_mode:
            return io.TextIOWrapper(
                f, encoding=self.encoding, errors=self.errors,
                write_through=mode == "wb", line_buffering=mode == "wb",
            )
        return f

    @property
    def pidfd(self) -> int:
        """The program's pidfd (readable once it has ended; -1 after it was reaped). Owned
        by this object: do not close it."""
        return self._child.pidfd

    def __repr__(self) -> str:
        return f"<hakoniwa.Popen: returncode: {self.returncode} args: {self.args!r}>"

    def __enter__(self) -> "Popen":
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        for f in (self.stdout, self.stderr):
            if f is not None:
                f.close()
        try:
            if self.stdin is not None:
                self.stdin.close()
        except BrokenPipeError:
            pass
        finally:
            if exc_type is KeyboardInterrupt:
                # As subprocess does: wait a moment for a program the SIGINT reached too,
                # not until it ends; the KeyboardInterrupt goes on (the sandbox still ends
                # with this object).
                try:
                    self.wait(0.25)
                except TimeoutExpired:
                    pass
            else:
                self.wait()

    def _set_status(self, status: Optional[ExitStatus]) -> Optional[int]:
        if status is not None and self.returncode is None:
            self.status = status
            self.returncode = status.returncode
            if self._takes_terminal and status.signal == signal.SIGINT and not self._sent_sigint:
                # Ctrl-C at our terminal went to the program alone (it had the foreground):
                # act on it here too, as under subprocess, where both get it (the default
                # handler raises KeyboardInterrupt). Not for a SIGINT sent with send_signal;
                # a program that sends itself SIGINT cannot be told apart.
                signal.raise_signal(signal.SIGINT)
        return self.returncode

    def poll(self) -> Optional[int]:
        """The return code if the program has ended (reaping it), else ``None``."""
        if self.returncode is None:
            self._set_status(self._child.try_wait())
        return self.returncode

    def wait(self, timeout: Optional[float] = None) -> int:
        """Wait for the program to end and return its return code; raise
        :class:`TimeoutExpired` after ``timeout`` seconds (the program keeps running)."""
        limit = _lib.seconds(timeout, "timeout")
        if self.returncode is None:
            if self._set_status(self._child.wait(limit)) is None:
                raise TimeoutExpired(self.args, _given(timeout))
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the program (nothing once it has been reaped). The sandbox's init
        passes it on, in the order sent (SIGSTOP stops the program, SIGCONT continues its
        process group); with ``Container().init(False)`` the program is PID 1 of its namespace
        and only receives the signals it handles, except SIGKILL."""
        if isinstance(sig, bool):
            raise TypeError("sig must be a signal number, not bool")
        try:
            sig = operator.index(sig)  # an int, a signal.Signals, a numpy integer
        except TypeError:
            raise TypeError(f"sig must be a signal number, not {type(sig).__name__}") from None
        if sig == 0:
            return  # subprocess's liveness probe: nothing to send
        if sig == signal.SIGINT:
            self._sent_sigint = True
        self._child.send_signal(sig)

    def terminate(self) -> None:
        """Send SIGTERM."""
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """Kill the whole sandbox (SIGKILL)."""
        self._child.kill()

    def communicate(
        self, input: Optional[_Input] = None, timeout: Optional[float] = None
    ) -> Tuple[Any, Any]:
        """Send ``input`` to stdin, read stdout and stderr to the end, wait for the program;
        returns ``(stdout, stderr)``. On :class:`TimeoutExpired` the program keeps running
        and ``communicate`` may be called again (as in ``subprocess``)."""
        limit = _lib.seconds(timeout, "timeout")
        if input is not None and self.stdin is None:
            raise ValueError("input given but stdin is not a pipe")
        if self.stdin is None and self.stdout is None and self.stderr is None:
            self.wait(timeout)  # nothing to send or read; its TimeoutExpired is communicate's
            return None, None
        deadline = None if limit is None else time.monotonic() + limit
        if not hasattr(self, "_chunks"):
            self._chunks: Tuple[List[bytes], List[bytes]] = ([], [])
            self._input: Optional[bytes] = None
            if isinstance(input, str):
                if not self.text_mode:  # as subprocess: str only in text mode
                    raise TypeError("input must be a bytes-like object, not str (text=True for str)")
                self._input = input.encode(self.encoding or "utf-8")
            elif input is not None:
                try:
                    self._input = bytes(memoryview(input))  # any bytes-like object
                except TypeError:
                    raise TypeError(
                        f"input must be bytes-like or str, not {type(input).__name__}"
                    ) from None
            if self.stdin is not None:
                self.stdin.flush()
                if not self._input:
                    self._close_stdin()
        readers: Dict[int, Tuple[int, IO[Any]]] = {}  # fd -> (index into _chunks, file)
        for index, f in enumerate((self.stdout, self.stderr)):
            if f is not None and not f.closed:
                raw = f.buffer if isinstance(f, io.TextIOWrapper) else f
                readers[raw.fileno()] = (index, f)
        writing = self.stdin is not None and not self.stdin.closed and bool(self._input)
        if readers or writing:
            self._exchange(readers, writing, deadline, timeout)
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            self.wait(remaining)
        except TimeoutExpired:
            raise TimeoutExpired(self.args, _given(timeout), *self._partial()) from None
        return self._partial()

    def _exchange(
        self,
        readers: Dict[int, Tuple[int, IO[Any]]],
        writing: bool,
        deadline: Optional[float],
        timeout: Optional[float],
    ) -> None:
        """Write the input and read stdout and stderr until all are done (``communicate``)."""
        with selectors.PollSelector() as sel:
            if writing:
                assert self.stdin is not None
                sel.register(self.stdin.fileno(), selectors.EVENT_WRITE)
            for fd in readers:
                sel.register(fd, selectors.EVENT_READ)
            while sel.get_map():
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimeoutExpired(self.args, _given(timeout), *self._partial())
                for key, _ in sel.select(remaining):
                    if key.fd in readers:
                        index, f = readers[key.fd]
                        data = os.read(key.fd, 65536)
                        if data:
                            self._chunks[index].append(data)
                        else:
                            sel.unregister(key.fd)
                            f.close()
                    else:
                        assert self._input is not None
                        chunk = self._input[self._input_offset : self._input_offset + 65536]
                        try:
                            self._input_offset += os.write(key.fd, chunk)
                        except BrokenPipeError:
                            self._input_offset = len(self._input)
                        if self._input_offset >= len(self._input):
                            sel.unregister(key.fd)
                            self._close_stdin()

    def _close_stdin(self) -> None:
        assert self.stdin is not None
        try:
            self.stdin.close()
        except BrokenPipeError:
            pass

    def _partial(self) -> Tuple[Any, Any]:
        chunks: Tuple[List[bytes], List[bytes]] = getattr(self, "_chunks", ([], []))
        return tuple(  # type: ignore[return-value]
            None if f is None else self._decode(b"".join(chunks[i]))
            for i, f in enumerate((self.stdout, self.stderr))
        )

    def _decode(self, data: bytes) -> Any:
        if not self.text_mode:
            return data
        text = data.decode(self.encoding or "utf-8", self.errors)
        return text.replace("\r\n", "\n").replace("\r", "\n")


def run(
    args: _Args,
    *,
    input: Optional[_Input] = None,
    capture_output: bool = False,
    stdin: StdArg = None,
    stdout: StdArg = None,
    stderr: StdArg = None,
    timeout: Optional[float] = None,
    check: bool = False,
    cwd: Optional[Union[str, bytes, "os.PathLike[str]"]] = None,
    env: Optional[Any] = None,
    text: bool = False,
    encoding: Optional[str] = None,
    errors: Optional[str] = None,
    container: Optional[ContainerHandle] = None,
    wait_timeout: Optional[float] = None,
    pass_fds: Sequence[int] = (),
    controlling_terminal: bool = False,
) -> CompletedProcess[Any]:
    """Run ``args`` in a sandbox and wait for it, like ``subprocess.run``.

    ``container=None`` is the CLI's default sandbox: the host's system directories
    read-only, new user, mount and PID namespaces, the default seccomp profile. The
    environment is empty unless ``env`` is given. With ``timeout`` the sandbox is killed
    and :class:`TimeoutExpired` raised; with ``check=True`` a non-zero return code raises
    :class:`CalledProcessError`. The result's ``status`` is the full :class:`ExitStatus`.
    ``wait_timeout``, ``pass_fds`` and ``controlling_terminal`` are as for :class:`Popen`.
    """
    _lib.seconds(timeout, "timeout")  # checked before anything runs
    if input is not None:
        if stdin is not None:
            raise ValueError("stdin and input arguments may not both be used.")
        stdin = PIPE
    if capture_output:
        if stdout is not None or stderr is not None:
            raise ValueError("stdout and stderr arguments may not be used with capture_output.")
        stdout = stderr = PIPE
    with Popen(
        args,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        cwd=cwd,
        env=env,
        text=text,
        encoding=encoding,
        errors=errors,
        container=container,
        wait_timeout=wait_timeout,
        pass_fds=pass_fds,
        controlling_terminal=controlling_terminal,
    ) as process:
        try:
            out, err = process.communicate(input, timeout=timeout)
        except TimeoutExpired as e:
            process.kill()
            process.wait()
            raise TimeoutExpired(process.args, _given(timeout), e.output, e.stderr) from None
        except BaseException:
            process.kill()
            process.wait()  # killed: ends at once (the with block would wait 0.25 s only)
            raise
    assert process.status is not None
    result: CompletedProcess[Any] = CompletedProcess(process.args, process.returncode or 0, out, err, process.status)
    if check:
        result.check_returncode()
    return result
