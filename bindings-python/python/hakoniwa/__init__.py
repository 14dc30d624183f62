"""Run programs in a Linux sandbox, shaped like ``subprocess`` and ``asyncio``.

Thin bindings over ``libhakoniwa.so`` (the hakoniwa engine's C ABI, shipped inside this
package; ``HAKONIWA_LIB`` loads another copy instead)::

    import hakoniwa

    result = hakoniwa.run(["echo", "hello"], capture_output=True, text=True)
    print(result.stdout, result.status.reason)

``container=None`` everywhere means the CLI's default sandbox: the host's system directories
read-only, new user, mount and PID namespaces and the default seccomp profile. Build other
sandboxes with :class:`Container`. Blocking calls release the GIL; spawning from many threads
at once is safe.
"""

from ._asyncio import Process, create_subprocess_exec
from ._container import Command, Container
from ._errors import (
    CalledProcessError,
    ConfigError,
    Error,
    ProgramNotFoundError,
    ProgramPermissionError,
    SetupError,
    TimeoutExpired,
    UnsupportedError,
)
from ._lib import library_path, library_version
from ._popen import DEVNULL, PIPE, STDOUT, CompletedProcess, Popen, run
from ._status import Enforcement, ExitStatus

__all__ = [
    "CalledProcessError",
    "Command",
    "CompletedProcess",
    "ConfigError",
    "Container",
    "DEVNULL",
    "Enforcement",
    "Error",
    "ExitStatus",
    "PIPE",
    "Popen",
    "ProgramNotFoundError",
    "ProgramPermissionError",
    "Process",
    "STDOUT",
    "SetupError",
    "TimeoutExpired",
    "UnsupportedError",
    "create_subprocess_exec",
    "library_path",
    "library_version",
    "run",
]
