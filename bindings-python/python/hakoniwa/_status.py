"""``ExitStatus``: how a sandboxed program ended, as the library reports it.

What stays the same from run to run of one sandbox (how the program ended, what the sandbox
enforced) comes from the library as a JSON text, the status document with the measurements
zeroed (``hakoniwa_status_outcome_json``), parsed once per distinct text; the measurements
(times, usage, setup timings) come from the library's structs when first read. The whole JSON
status document is rendered only when :meth:`ExitStatus.to_dict` asks for it.
"""

from __future__ import annotations

import json
import signal as _signal
from dataclasses import dataclass, field, fields
from types import MappingProxyType
import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    Type,
    TypeVar,
)

__all__ = ["ExitStatus", "Enforcement"]


def _frozen(value: Any) -> Any:
    """A read-only view of a JSON value (dicts become mapping proxies, lists tuples)."""
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


def _thawed(value: Any) -> Any:
    """The plain value of a :func:`_frozen` one (mapping proxies become dicts, tuples lists),
    which :func:`_frozen` turns back into the same read-only value."""
    if isinstance(value, Mapping):
        return {k: _thawed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    return value


_T = TypeVar("_T")


def _assemble(cls: Type[_T], **fields: Any) -> _T:
    """An instance of the frozen dataclass ``cls`` with every field given, made without
    the generated ``__init__`` (which sets each field through ``object.__setattr__``, a
    few microseconds per status). Only for values the constructor would take unchanged."""
    instance: _T = object.__new__(cls)
    vars(instance).update(fields)
    return instance


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

    def __reduce__(self) -> Tuple[Any, ...]:
        # Plain values: mapping proxies cannot be pickled (multiprocessing, copy.deepcopy).
        return (_enforcement_from_plain, (_thawed(vars(self)),))


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
    #: The JSON status document: the text itself, or an object whose ``text()`` renders it
    #: (the library's status, kept until this object goes).
    _document: Any = field(repr=False, compare=False, default="{}")

    @classmethod
    def _from_library(
        cls,
        outcome: bytes,
        measure: Callable[[], Tuple[Sequence[int], Dict[str, float]]],
        document: Any,
    ) -> "ExitStatus":
        """The status from the library's outcome text (``hakoniwa_status_outcome_json``)
        and ``measure``, which reads the library's figures when first asked for: its usage
        in ``hakoniwa_usage_t`` order (real, user and system time in microseconds, peak RSS
        in KiB or 0 when not measured, minor and major faults, voluntary and involuntary
        switches) and the setup times (a new dict, kept).

        How the program ended (and so ``returncode``) is set at once; the measurements and
        ``enforcement`` are assembled on first access (most callers only look at the return
        code: a quarter of the bindings' own bytecodes per run)."""
        o = _outcome(outcome)
        return _assemble(
            cls,
            reason=o.reason,
            code=o.code,
            exit_code=o.exit_code,
            signal=o.signal,
            core_dumped=o.core_dumped,
            _document=document,
            _late=(o, measure),
        )

    def _fill(self) -> None:
        """Set the measurements and ``enforcement`` from the pending ``measure``."""
        with _fill_lock:
            late = vars(self).get("_late")
            if late is None:
                return  # another thread filled them meanwhile
            o, measure = late
            usage, setup_ms = measure()
            real_us, user_us, system_us, max_rss_kb, minor, major, voluntary, involuntary = usage
            enforcement = _assemble(
                Enforcement,
                namespaces=o.namespaces,
                capabilities=o.capabilities,
                landlock=o.landlock,
                seccomp=o.seccomp,
                setup_ms=MappingProxyType(setup_ms),
                no_new_privs=o.no_new_privs,
            )
            vars(self).update(
                real_time=real_us / 1e6,
                user_time=user_us / 1e6,
                system_time=system_us / 1e6,
                max_rss_kb=max_rss_kb or None,
                minor_faults=minor,
                major_faults=major,
                voluntary_switches=voluntary,
                involuntary_switches=involuntary,
                enforcement=enforcement,
            )
            del vars(self)["_late"]

    if not TYPE_CHECKING:  # type checkers see the declared fields only

        def __getattr__(self, name: str) -> Any:
            # Called only for attributes not set: the late fields of a status made by
            # _from_library before its first such access (another thread may be filling
            # them right now: _fill waits for it).
            if name in _LATE_FIELDS:
                self._fill()
                if name in vars(self):
                    return vars(self)[name]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __reduce__(self) -> Tuple[Any, ...]:
        # Plain values, the document as its text: the library's objects behind a status
        # from a run stay in this process (multiprocessing results, copy.deepcopy).
        values = {name: getattr(self, name) for name in _FIELDS}
        document = self._document
        text = document if isinstance(document, str) else document.text()
        return (_status_from_plain, (values, text))

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
        document = self._document
        result: Dict[str, Any] = json.loads(document if isinstance(document, str) else document.text())
        return result


#: The fields ``ExitStatus._from_library`` leaves for the first access to one of them.
_LATE_FIELDS = frozenset((
    "real_time", "user_time", "system_time", "max_rss_kb", "minor_faults", "major_faults",
    "voluntary_switches", "involuntary_switches", "enforcement",
))
#: Every field but the document, in declaration order.
_FIELDS = tuple(f.name for f in fields(ExitStatus) if f.name != "_document")


def _enforcement_from_plain(values: Dict[str, Any]) -> Enforcement:
    frozen = {k: _frozen(v) for k, v in values.items()}
    return _assemble(Enforcement, **frozen)


def _status_from_plain(values: Dict[str, Any], document: str) -> ExitStatus:
    return _assemble(ExitStatus, **values, _document=document)


#: One status is filled by one thread; the others wait and find it done.
_fill_lock = threading.Lock()


class _Outcome(NamedTuple):
    """The parsed outcome text: the fields every run of a sandbox that ended alike shares."""

    reason: str
    code: int
    exit_code: Optional[int]
    signal: Optional[int]
    core_dumped: bool
    namespaces: Tuple[str, ...]
    capabilities: Optional[Tuple[str, ...]]
    landlock: Optional[Mapping[str, Any]]
    seccomp: Optional[Mapping[str, Any]]
    no_new_privs: bool


#: Parsed outcome texts (read-only values, shared by the statuses that have them). Bounded:
#: emptied when full. Threads may race to add the same text; either result is the same.
_outcomes: Dict[bytes, _Outcome] = {}
_OUTCOMES_MAX = 256


def _outcome(text: bytes) -> _Outcome:
    found = _outcomes.get(text)
    if found is not None:
        return found
    d: Dict[str, Any] = json.loads(text)
    frozen = _frozen(d)
    parsed = _Outcome(
        reason=str(d["reason"]),
        code=int(d["code"]),
        exit_code=d.get("exit_code"),
        signal=d.get("signal"),
        core_dumped=bool(d.get("core_dumped", False)),
        namespaces=tuple(d.get("namespaces") or ()),
        capabilities=frozen.get("capabilities"),
        landlock=frozen.get("landlock"),
        seccomp=frozen.get("seccomp"),
        no_new_privs=bool(d.get("no_new_privs", False)),
    )
    if len(_outcomes) >= _OUTCOMES_MAX:
        _outcomes.clear()
    _outcomes[text] = parsed
    return parsed
