"""``ExitStatus``: how a sandboxed program ended, read from the library's JSON status document."""

from __future__ import annotations

import json
import signal as _signal
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Dict, Mapping, Optional, Tuple

__all__ = ["ExitStatus", "Enforcement"]


def _frozen(value: Any) -> Any:
    """A read-only view of a JSON value (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@dataclass(frozen=True)
class Enforcement:
    """What the sandbox enforced, as reported by the library.

    ``namespaces`` are the namespaces unshared (``"user"``, ``"mount"``, ...); ``capabilities``
    the capabilities kept for a uid-0 program (``None`` when the program is not uid 0);
    ``landlock`` and ``seccomp`` the library's reports (``None`` when off); ``setup_ms`` the
    setup time per stage in milliseconds (``None`` when the library did not measure it).
    """

    namespaces: Tuple[str, ...] = ()
    capabilities: Optional[Tuple[str, ...]] = None
    landlock: Optional[Mapping[str, Any]] = None
    seccomp: Optional[Mapping[str, Any]] = None
    setup_ms: Optional[Mapping[str, float]] = None
    no_new_privs: bool = False


@dataclass(frozen=True)
class ExitStatus:
    """How a sandboxed program ended and what it used.

    ``reason`` is ``"exited"``, ``"signaled"``, ``"wall_time_exceeded"``,
    ``"cpu_time_exceeded"``, ``"file_size_exceeded"`` or ``"seccomp_violation"``.
    ``code`` follows the CLI: the exit code, or 128 + the signal. ``exit_code`` and
    ``signal`` are ``None`` when they do not apply. Times are in seconds, ``max_rss_kb`` (the
    program's peak resident memory) in KiB, ``None`` when the library did not measure it. :meth:`to_dict` returns the same document as ``hakoniwa run --json-status``.
    """

    reason: str
    code: int
    exit_code: Optional[int]
    signal: Optional[int]
    core_dumped: bool
    real_time: float
    user_time: float
    system_time: float
    max_rss_kb: Optional[int]
    minor_faults: int
    major_faults: int
    voluntary_switches: int
    involuntary_switches: int
    enforcement: Enforcement
    _document: str = field(repr=False, compare=False, default="{}")

    @classmethod
    def _from_json(cls, document: str) -> "ExitStatus":
        d: Dict[str, Any] = json.loads(document)
        frozen = _frozen(d)
        return cls(
            reason=str(d["reason"]),
            code=int(d["code"]),
            exit_code=d.get("exit_code"),
            signal=d.get("signal"),
            core_dumped=bool(d.get("core_dumped", False)),
            real_time=float(d.get("real_time") or 0.0),
            user_time=float(d.get("user_time") or 0.0),
            system_time=float(d.get("system_time") or 0.0),
            max_rss_kb=None if d.get("max_rss_kb") is None else int(d["max_rss_kb"]),
            minor_faults=int(d.get("minor_faults") or 0),
            major_faults=int(d.get("major_faults") or 0),
            voluntary_switches=int(d.get("voluntary_switches") or 0),
            involuntary_switches=int(d.get("involuntary_switches") or 0),
            enforcement=Enforcement(
                namespaces=tuple(d.get("namespaces") or ()),
                capabilities=frozen.get("capabilities"),
                landlock=frozen.get("landlock"),
                seccomp=frozen.get("seccomp"),
                setup_ms=frozen.get("setup_ms"),
                no_new_privs=bool(d.get("no_new_privs", False)),
            ),
            _document=document,
        )

    @property
    def success(self) -> bool:
        """Whether the program exited with code 0."""
        return self.exit_code == 0

    @property
    def returncode(self) -> int:
        """The ``subprocess`` convention: the exit code, or minus the signal number."""
        if self.exit_code is not None:
            return self.exit_code
        if self.signal is not None:
            return -self.signal
        return -_signal.SIGKILL

    def to_dict(self) -> Dict[str, Any]:
        """The status as the CLI's ``--json-status`` document (a new dict on every call)."""
        result: Dict[str, Any] = json.loads(self._document)
        return result
