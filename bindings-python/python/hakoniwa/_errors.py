"""Exceptions raised by the bindings (every failure of the C library becomes one of these)."""

from __future__ import annotations

import os
import subprocess
from typing import Any, Optional, Sequence, Tuple, Union

from ._status import ExitStatus

__all__ = [
    "Error",
    "ConfigError",
    "SetupError",
    "ProgramNotFoundError",
    "ProgramPermissionError",
    "UnsupportedError",
    "CalledProcessError",
    "TimeoutExpired",
]


class Error(Exception):
    """Base class of every error reported by the hakoniwa library.

    ``errno`` is the positive errno of the failed system call when there is one, else ``None``.
    """

    def __init__(self, message: str, errno: Optional[int] = None) -> None:
        super().__init__(message)
        self.message = message
        self.errno = errno

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> Tuple[Any, ...]:
        # Pickled with its fields (multiprocessing sends exceptions between processes).
        return (type(self), (self.message, self.errno), dict(vars(self)))


class ConfigError(Error, ValueError):
    """The sandbox configuration is invalid (naming the setting), whether the builder or the
    library finds it; also a ``ValueError``."""


class SetupError(Error):
    """A setup step failed before the program started.

    ``stage`` names the step (e.g. ``"mount_source"``, ``"exec"``), ``path`` is the path, limit
    or rule concerned (or ``None``) and ``errno`` the positive errno.
    """

    def __init__(
        self,
        message: str,
        stage: str,
        path: Optional[str],
        errno: Optional[int],
    ) -> None:
        super().__init__(message, errno)
        self.stage = stage
        self.path = path

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.message, self.stage, self.path, self.errno), dict(vars(self)))


class _ProgramExecError(SetupError):
    """The program's ``execve`` failed in a way ``subprocess`` reports as an ``OSError``:
    ``filename`` is the program, ``strerror`` the errno's text (not the library's message)."""

    def __init__(self, message: str, stage: str, path: Optional[str], errno: Optional[int]) -> None:
        super().__init__(message, stage, path, errno)
        self.filename = path
        self.strerror = os.strerror(errno) if errno is not None else None


class ProgramNotFoundError(_ProgramExecError, FileNotFoundError):
    """The program does not exist in the sandbox (stage ``exec``, ENOENT); also a
    ``FileNotFoundError``, which ``subprocess`` raises then. ``filename`` is the program."""


class ProgramPermissionError(_ProgramExecError, PermissionError):
    """The program may not be executed in the sandbox (stage ``exec``, EACCES); also a
    ``PermissionError``, which ``subprocess`` raises then. ``filename`` is the program."""


class UnsupportedError(Error):
    """The running kernel or the library lacks something the configuration asks for."""


_Output = Union[bytes, str, None]


class CalledProcessError(subprocess.CalledProcessError, Error):
    """Raised by ``run(..., check=True)`` when the program did not exit with 0.

    ``status`` is the program's full :class:`ExitStatus`.
    """

    def __init__(
        self,
        returncode: int,
        cmd: Any,
        output: _Output = None,
        stderr: _Output = None,
        status: Optional[ExitStatus] = None,
    ) -> None:
        # ``cmd`` as given (a list, a string, bytes, a path), as subprocess keeps it.
        subprocess.CalledProcessError.__init__(self, returncode, cmd, output, stderr)
        text = subprocess.CalledProcessError.__str__(self)
        if status is not None and status.reason not in ("exited", "signaled"):
            text += f" ({status.reason})"
        Error.__init__(self, text)
        self.status = status

    def __reduce__(self) -> Tuple[Any, ...]:
        return (
            type(self),
            (self.returncode, self.cmd, self.output, self.stderr, self.status),
            dict(vars(self)),  # notes and attributes a caller added
        )

    def __str__(self) -> str:
        return self.message


class TimeoutExpired(subprocess.TimeoutExpired, Error):
    """Raised when ``timeout=`` expires; the sandbox has been killed by then (in ``run``)."""

    def __init__(
        self,
        cmd: Any,
        timeout: float,
        output: _Output = None,
        stderr: _Output = None,
    ) -> None:
        subprocess.TimeoutExpired.__init__(self, cmd, timeout, output, stderr)
        Error.__init__(self, subprocess.TimeoutExpired.__str__(self))

    def __reduce__(self) -> Tuple[Any, ...]:
        return (type(self), (self.cmd, self.timeout, self.output, self.stderr), dict(vars(self)))

    def __str__(self) -> str:
        return self.message
