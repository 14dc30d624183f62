"""``Container`` and ``Command``: the builder API, mirroring the Rust crate."""

from __future__ import annotations

import json
import os
import subprocess
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import _child, _lib
from ._errors import ConfigError
from ._handle import ContainerHandle
from ._popen import CompletedProcess, Popen, StdArg, run

if TYPE_CHECKING:
    from ._status import ExitStatus

__all__ = ["Container", "Command"]

_Path = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]


class Container(ContainerHandle):
    """A sandbox configuration. Setters return the container, so calls chain::

        out = (hakoniwa.Container().rootfs("/").tmpfsmount("/tmp")
               .command("/bin/echo", "hi").output())

    ``Container()`` is the library's base sandbox: new user, mount and PID namespaces, the
    caller's uid and gid mapped to themselves, an empty tmpfs as root with a procfs at
    ``/proc``, the ``podman`` seccomp profile. ``rootfs("/")`` adds the host's system
    directories read-only, which is what ``container=None`` means in :func:`run` and
    :class:`Popen` (the CLI's default sandbox).

    Configure a container from one thread; once configured it may be shared by many
    threads, each spawning its own commands. Invalid settings are reported as
    :class:`ConfigError` when a command is spawned.
    """

    @classmethod
    def from_json(cls, document: Union[str, Mapping[str, Any]]) -> "Container":
        """A container from the library's JSON container description (version 1, see
        ``docs/container.md``), given as text or as a dict, e.g.
        ``{"version": 1, "rootfs": "/", "rlimits": {"cpu": 10}}``. Every option of the
        library is reachable this way. Errors name the offending field (:class:`ConfigError`).
        """
        if isinstance(document, Mapping):
            document = json.dumps(document)
        if not isinstance(document, str):
            raise TypeError(f"document must be str or a mapping, not {type(document).__name__}")
        ffi, lib = _lib.get()
        out = ffi.new("hakoniwa_container_t **")
        _lib.check(lib.hakoniwa_container_from_json(_lib.cstr(document, "document"), out))
        self = cls.__new__(cls)
        self._adopt(out[0])
        return self

    def _call(self, fn: Callable[..., int], *args: Any) -> "Container":
        with self._lock:
            _lib.check(fn(self._handle, *args))
        return self

    def _lib(self) -> Any:
        return _lib.get()[1]

    def rootfs(self, path: _Path) -> "Container":
        """Bind the system directories (``/bin``, ``/etc``, ``/lib*``, ``/sbin``, ``/usr``)
        of ``path`` read-only into the sandbox's root (``"/"`` for the host's)."""
        return self._call(self._lib().hakoniwa_container_rootfs, _lib.cstr(path, "rootfs"))

    def rootdir(self, path: _Path, rw: bool = False) -> "Container":
        """Use the host directory ``path`` as the sandbox's root (read-only unless ``rw``)."""
        return self._call(
            self._lib().hakoniwa_container_rootdir, _lib.cstr(path, "rootdir"), int(bool(rw))
        )

    def bindmount_ro(self, source: _Path, target: Optional[_Path] = None) -> "Container":
        """Bind the host path ``source`` read-only at ``target`` (default: the same path)."""
        src = _lib.cstr(source, "bind source")
        dst = src if target is None else _lib.cstr(target, "bind target")
        return self._call(self._lib().hakoniwa_container_bindmount_ro, src, dst)

    def bindmount_rw(self, source: _Path, target: Optional[_Path] = None) -> "Container":
        """Bind the host path ``source`` read-write at ``target`` (default: the same path)."""
        src = _lib.cstr(source, "bind source")
        dst = src if target is None else _lib.cstr(target, "bind target")
        return self._call(self._lib().hakoniwa_container_bindmount_rw, src, dst)

    def tmpfsmount(self, target: _Path, size: int = 0, mode: int = 0) -> "Container":
        """Mount a new, empty tmpfs at ``target`` (``size`` in bytes, 0 = the kernel's
        default; ``mode``, 0 = 0755)."""
        _int(size, "size")
        _int(mode, "mode")
        return self._call(
            self._lib().hakoniwa_container_tmpfsmount, _lib.cstr(target, "tmpfs"), size, mode
        )

    def devfsmount(self, target: _Path) -> "Container":
        """Mount a minimal ``/dev`` (null, zero, full, random, urandom, tty, pts) at ``target``."""
        return self._call(self._lib().hakoniwa_container_devfsmount, _lib.cstr(target, "devfs"))

    def procfsmount(self, target: _Path) -> "Container":
        """Mount a procfs of the sandbox's PID namespace at ``target``."""
        return self._call(self._lib().hakoniwa_container_procfsmount, _lib.cstr(target, "procfs"))

    def dir(self, target: _Path, mode: int = 0o755) -> "Container":
        """Create the directory ``target`` with ``mode`` inside the sandbox."""
        _int(mode, "mode")
        return self._call(self._lib().hakoniwa_container_dir, _lib.cstr(target, "dir"), mode)

    def file(self, target: _Path, contents: Union[str, bytes]) -> "Container":
        """Create the file ``target`` holding ``contents`` inside the sandbox."""
        if isinstance(contents, str):
            contents = contents.encode()
        if not isinstance(contents, bytes):
            raise TypeError(f"contents must be str or bytes, not {type(contents).__name__}")
        return self._call(
            self._lib().hakoniwa_container_file,
            _lib.cstr(target, "file"),
            contents,
            len(contents),
        )

    def symlink(self, original: _Path, link: _Path) -> "Container":
        """Create the symbolic link ``link`` pointing to ``original`` inside the sandbox."""
        return self._call(
            self._lib().hakoniwa_container_symlink,
            _lib.cstr(original, "symlink target"),
            _lib.cstr(link, "symlink"),
        )

    def hostname(self, name: str) -> "Container":
        """Set the hostname (unshares the UTS namespace)."""
        return self._call(self._lib().hakoniwa_container_hostname, _lib.cstr(name, "hostname"))

    def unshare(self, namespace: str) -> "Container":
        """Give the sandbox its own ``namespace``: ``"cgroup"``, ``"ipc"``, ``"network"``
        (``"net"``), ``"uts"`` (``"user"``, ``"mount"`` and ``"pid"`` are on by default)."""
        return self._call(self._lib().hakoniwa_container_unshare, _namespace(namespace))

    def share(self, namespace: str) -> "Container":
        """Keep the caller's ``namespace`` (the opposite of :meth:`unshare`)."""
        return self._call(self._lib().hakoniwa_container_share, _namespace(namespace))

    def uidmap(self, container_id: int) -> "Container":
        """Map the caller's uid to ``container_id`` inside the sandbox."""
        _int(container_id, "container_id")
        return self._call(self._lib().hakoniwa_container_uidmap, container_id)

    def gidmap(self, container_id: int) -> "Container":
        """Map the caller's gid to ``container_id`` inside the sandbox."""
        _int(container_id, "container_id")
        return self._call(self._lib().hakoniwa_container_gidmap, container_id)

    def setrlimit(self, resource: str, soft: int, hard: Optional[int] = None) -> "Container":
        """Set a resource limit by name (``"as"``, ``"core"``, ``"cpu"``, ``"fsize"``,
        ``"nofile"``, ``"nproc"``, ...); ``hard`` defaults to ``soft``."""
        _int(soft, "soft")
        hard = soft if hard is None else hard
        _int(hard, "hard")
        return self._call(
            self._lib().hakoniwa_container_setrlimit, _rlimit(resource), soft, hard
        )

    def landlock(
        self,
        *,
        ro: Optional[Sequence[_Path]] = None,
        rw: Optional[Sequence[_Path]] = None,
        rx: Optional[Sequence[_Path]] = None,
        tcp_bind: Optional[Sequence[int]] = None,
        tcp_connect: Optional[Sequence[int]] = None,
        best_effort: bool = False,
    ) -> "Container":
        """Restrict the program with landlock.

        When any of ``ro``, ``rw``, ``rx`` is given (even empty) the filesystem is
        restricted: only the listed paths (inside the sandbox) are reachable, read-only,
        read-write or read-execute. When ``tcp_bind``/``tcp_connect`` is given, only those
        TCP ports may be bound/connected to. ``best_effort`` keeps what the kernel supports
        instead of failing with :class:`SetupError` when it lacks a feature.
        """
        lib = self._lib()
        mode = lib.HAKONIWA_COMPAT_BEST_EFFORT if best_effort else lib.HAKONIWA_COMPAT_ENFORCE
        access = {
            "ro": lib.HAKONIWA_ACCESS_R,
            "rw": lib.HAKONIWA_ACCESS_R | lib.HAKONIWA_ACCESS_W,
            "rx": lib.HAKONIWA_ACCESS_R | lib.HAKONIWA_ACCESS_X,
        }
        fs = [(name, [_lib.cstr(p, "landlock path") for p in _seq(paths, name)])
              for name, paths in (("ro", ro), ("rw", rw), ("rx", rx)) if paths is not None]
        net = [(resource, [_port(p) for p in _seq(ports, name)])
               for name, resource, ports in (
                   ("tcp_bind", lib.HAKONIWA_LANDLOCK_TCP_BIND, tcp_bind),
                   ("tcp_connect", lib.HAKONIWA_LANDLOCK_TCP_CONNECT, tcp_connect),
               ) if ports is not None]
        if fs:
            self._call(lib.hakoniwa_container_landlock_restrict, lib.HAKONIWA_LANDLOCK_FS, mode)
        for name, paths in fs:
            for path in paths:
                self._call(lib.hakoniwa_container_landlock_fs_rule, path, access[name])
        for resource, ports in net:
            self._call(lib.hakoniwa_container_landlock_restrict, resource, mode)
            for port in ports:
                self._call(lib.hakoniwa_container_landlock_net_rule, port, resource)
        return self

    def seccomp(self, profile: Union[str, "os.PathLike[str]"]) -> "Container":
        """Choose the seccomp profile: ``"podman"`` (default), ``"audit"``, ``"unconfined"``,
        an OCI seccomp JSON document (text starting with ``{``), or the path of a file
        holding one (a path-like object, or text with a ``/``; read now, as the CLI's
        ``--seccomp FILE``)."""
        name = b"custom"
        if isinstance(profile, os.PathLike) or (isinstance(profile, str) and "/" in profile
                                                and not profile.lstrip().startswith("{")):
            path = os.fspath(profile)
            with open(path, encoding="utf-8") as f:
                profile = f.read()
            name = _lib.cstr(path, "seccomp")
        if not isinstance(profile, str):
            raise TypeError(f"profile must be str or a path, not {type(profile).__name__}")
        if profile.lstrip().startswith("{"):
            return self._call(
                self._lib().hakoniwa_container_seccomp_oci, name, _lib.cstr(profile, "seccomp")
            )
        return self._call(self._lib().hakoniwa_container_seccomp, _lib.cstr(profile, "seccomp"))

    def network(self, mode: str, *options: str) -> "Container":
        """Choose the network: ``"none"`` (a new, empty network namespace), ``"host"``, or
        ``"pasta"`` (user-mode networking; ``options`` are passed to pasta)."""
        lib = self._lib()
        if mode == "pasta":
            ffi = _lib.get()[0]
            args = [ffi.new("char[]", _lib.cstr(o, "pasta option")) for o in options]
            return self._call(
                lib.hakoniwa_container_network_pasta,
                ffi.NULL,
                ffi.new("const char *[]", args) if args else ffi.NULL,
                len(args),
            )
        if options:
            raise ConfigError(f"network {mode!r} takes no options")
        modes = {"none": lib.HAKONIWA_NETWORK_NONE, "host": lib.HAKONIWA_NETWORK_HOST}
        if mode not in modes:
            raise ConfigError(f"unknown network mode {mode!r} (none, host or pasta)")
        return self._call(lib.hakoniwa_container_network, modes[mode])

    def user(self, uid: int, gid: int, groups: Optional[Sequence[int]] = None) -> "Container":
        """Run the program as ``uid``/``gid`` (with supplementary ``groups``) in the sandbox."""
        _int(uid, "uid")
        _int(gid, "gid")
        gs = [_int(g, "group") for g in _seq(groups or (), "groups")]
        ffi = _lib.get()[0]
        return self._call(
            self._lib().hakoniwa_container_user,
            uid,
            gid,
            ffi.new("uint32_t[]", gs) if groups is not None else ffi.NULL,
            len(gs),
        )

    def init(self, on: bool = True) -> "Container":
        """Run a small init as PID 1 of the sandbox (the default: the program then behaves as
        outside a sandbox with signals and orphans), or, with ``on=False``, the program
        itself as PID 1 (it then ignores signals it has no handler for)."""
        if not isinstance(on, bool):
            raise TypeError(f"on must be bool, not {type(on).__name__}")
        return self._call(self._lib().hakoniwa_container_init, int(on))

    def command(self, program: _Path, *args: _Path) -> "Command":
        """A :class:`Command` running ``program`` with ``args`` in this container."""
        return Command(self, program, *args)


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be int, not {type(value).__name__}")
    return value


def _by_name(lookup: Callable[[bytes], int], what: str, name: Any) -> int:
    """The library's number for a name (its own lookup, so the names are the CLI's)."""
    if not isinstance(name, str):
        raise TypeError(f"{what} must be str, not {type(name).__name__}")
    value = lookup(_lib.cstr(name, what))
    if value < 0:
        raise _lib.last_error(value)
    return value


def _namespace(name: Any) -> int:
    return _by_name(_lib.get()[1].hakoniwa_namespace_from_name, "namespace", name)


def _rlimit(name: Any) -> int:
    return _by_name(_lib.get()[1].hakoniwa_rlimit_from_name, "resource", name)


def _port(value: Any) -> int:
    if _int(value, "port") < 0 or value > 65535:
        raise ConfigError(f"not a TCP port: {value}")
    return int(value)


def _seq(values: Any, what: str) -> Sequence[Any]:
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set, frozenset)):
        raise TypeError(f"{what} must be a list or tuple, not {type(values).__name__}")
    return list(values)


class Command:
    """A program with its arguments bound to a :class:`Container`, like Rust's ``Command``.

    The environment is empty unless set with :meth:`env`/:meth:`envs` (nothing is
    inherited), the working directory is ``/`` unless set. A command may be run many times.
    """

    def __init__(self, container: Container, program: _Path, *args: _Path) -> None:
        if not isinstance(container, Container):
            raise TypeError(f"container must be a hakoniwa.Container, not {type(container).__name__}")
        self._container = container
        self._argv: List[Any] = [program, *args]
        _lib.cstr(program, "program")
        for a in args:
            _lib.cstr(a, "argument")
        self._env: Dict[str, str] = {}
        self._cwd: Optional[_Path] = None
        self._wait_timeout: Optional[float] = None
        self._stdio: Dict[str, "StdArg"] = {}
        self._controlling_terminal = False

    def arg(self, arg: _Path) -> "Command":
        """Add one argument."""
        _lib.cstr(arg, "argument")
        self._argv.append(arg)
        return self

    def args(self, args: Sequence[_Path]) -> "Command":
        """Add arguments."""
        for a in _seq(args, "args"):
            self.arg(a)
        return self

    def env(self, key: str, value: str) -> "Command":
        """Set one environment variable."""
        _lib.cstr(key, "environment variable name")
        _lib.cstr(value, "environment variable value")
        self._env[key] = value
        return self

    def envs(self, env: Mapping[str, str]) -> "Command":
        """Set several environment variables."""
        for k, v in env.items():
            self.env(k, v)
        return self

    def current_dir(self, path: _Path) -> "Command":
        """Set the working directory inside the sandbox."""
        _lib.cstr(path, "cwd")
        self._cwd = path
        return self

    def wait_timeout(self, seconds: float) -> "Command":
        """Kill the sandbox after ``seconds`` of wall-clock time; the status then has
        ``reason == "wall_time_exceeded"``."""
        try:
            self._wait_timeout = _lib.seconds(seconds, "seconds", limit=True)
        except ValueError as e:  # a builder's setting, as the library would report it
            raise ConfigError(str(e)) from None
        return self

    def stdin(self, value: "StdArg") -> "Command":
        """Where stdin comes from: ``None`` (inherit), ``subprocess.PIPE``,
        ``subprocess.DEVNULL``, an fd or a file object."""
        self._stdio["stdin"] = value
        return self

    def stdout(self, value: "StdArg") -> "Command":
        """Where stdout goes (as for :meth:`stdin`)."""
        self._stdio["stdout"] = value
        return self

    def stderr(self, value: "StdArg") -> "Command":
        """Where stderr goes (as for :meth:`stdin`, plus ``subprocess.STDOUT``)."""
        self._stdio["stderr"] = value
        return self

    def controlling_terminal(self, on: bool = True) -> "Command":
        """Run in a session of its own whose controlling terminal is the first of stdin,
        stdout, stderr that is a terminal (see :class:`Popen`)."""
        if not isinstance(on, bool):
            raise TypeError(f"on must be a bool, not {type(on).__name__}")
        self._controlling_terminal = on
        return self

    def _popen_kwargs(self) -> Dict[str, Any]:
        return dict(
            env=self._env,
            cwd=self._cwd,
            container=self._container,
            wait_timeout=self._wait_timeout,
            controlling_terminal=self._controlling_terminal,
        )

    def prepare(self) -> None:
        """Check the command and its container as a spawn would, and build the whole plan,
        without running anything: raises :class:`ConfigError` for what a spawn would refuse
        (e.g. a host name longer than 64 bytes, a bind without a target). Failures only
        the kernel can report (a missing program, a mount that fails) still come from the
        spawn alone. The standard streams are not looked at."""
        options = _child.Options(
            env=_child.encode_env(self._env),
            cwd=None if self._cwd is None else _lib.cstr(self._cwd, "cwd"),
            wait_timeout=self._wait_timeout,
        )
        _child.prepare(self._container, _child.encode_argv(self._argv), options)

    def spawn(self) -> "Popen":
        """Start the program; stdio is inherited unless set. Returns a :class:`Popen`."""
        return Popen(
            self._argv,
            stdin=self._stdio.get("stdin"),
            stdout=self._stdio.get("stdout"),
            stderr=self._stdio.get("stderr"),
            **self._popen_kwargs(),
        )

    def status(self) -> "ExitStatus":
        """Run to completion (stdio inherited unless set) and return the exit status."""
        with self.spawn() as p:
            p.wait()
        assert p.status is not None
        return p.status

    def output(self) -> "CompletedProcess[bytes]":
        """Run to completion capturing stdout and stderr (stdin is ``/dev/null`` unless set)."""
        return run(
            self._argv,
            stdin=self._stdio.get("stdin", subprocess.DEVNULL),
            stdout=self._stdio.get("stdout", subprocess.PIPE),
            stderr=self._stdio.get("stderr", subprocess.PIPE),
            **self._popen_kwargs(),
        )
