"""Loading ``libhakoniwa.so`` through cffi, and turning its error codes into exceptions.

The declarations come from the library's own header: maturin runs cbindgen on the C-ABI crate
and writes them, compiled by cffi, to ``hakoniwa/_native/ffi.py``. The library shipped in
``hakoniwa/_native/`` is loaded unless ``HAKONIWA_LIB`` names another file.
"""

from __future__ import annotations

import importlib.util
import math
import numbers
import os
import threading
from pathlib import Path
from typing import Any, Optional, Tuple

from ._errors import (
    ConfigError,
    Error,
    ProgramNotFoundError,
    ProgramPermissionError,
    SetupError,
    UnsupportedError,
)

_NATIVE = Path(__file__).resolve().parent / "_native"
_lock = threading.Lock()
_loaded: Optional[Tuple[Any, Any]] = None


def _load_ffi() -> Any:
    # Loaded by path rather than imported: importing the package `_native` would also dlopen
    # the bundled library, a second copy when HAKONIWA_LIB names another one.
    path = _NATIVE / "ffi.py"
    spec = importlib.util.spec_from_file_location("hakoniwa._native_ffi", path)
    if spec is None or spec.loader is None or not path.is_file():
        raise ImportError(
            f"hakoniwa: the cffi declarations are missing ({path}); "
            "install the package with pip or maturin so they are generated"
        )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.ffi


def library_path() -> str:
    """The file the C library is loaded from: ``$HAKONIWA_LIB`` or the one in the package."""
    override = os.environ.get("HAKONIWA_LIB")
    if override:
        return override
    candidates = sorted(_NATIVE.glob("*.so"))
    if not candidates:
        raise ImportError(f"hakoniwa: no shared library in {_NATIVE}; set HAKONIWA_LIB")
    return str(candidates[0])


def get() -> Tuple[Any, Any]:
    """``(ffi, lib)``, loaded on first use (so ``import hakoniwa`` itself never fails)."""
    global _loaded
    if _loaded is None:
        with _lock:
            if _loaded is None:
                ffi = _load_ffi()
                path = library_path()
                try:
                    lib = ffi.dlopen(path)
                except OSError as e:
                    raise ImportError(f"hakoniwa: cannot load {path}: {e}") from e
                _loaded = (ffi, lib)
    return _loaded


def library_version() -> str:
    """The version of the loaded C library (``hakoniwa_version()``), e.g. ``"0.1.0"``."""
    ffi, lib = get()
    return _text(ffi, lib.hakoniwa_version()) or ""


def _text(ffi: Any, ptr: Any) -> Optional[str]:
    if ptr == ffi.NULL:
        return None
    return bytes(ffi.string(ptr)).decode("utf-8", "replace")


def last_error(rc: int) -> Error:
    """The exception for return code ``rc``, from the calling thread's last error."""
    ffi, lib = get()
    message = _text(ffi, lib.hakoniwa_last_error_message()) or f"hakoniwa error {rc}"
    errno = int(lib.hakoniwa_last_error_errno()) or None
    if rc == lib.HAKONIWA_ERROR_SETUP:
        stage = _text(ffi, lib.hakoniwa_last_error_stage()) or "unknown"
        path = _text(ffi, lib.hakoniwa_last_error_path())
        # As subprocess: a missing program is also a FileNotFoundError, one that may not be
        # executed a PermissionError.
        cls = {2: ProgramNotFoundError, 13: ProgramPermissionError}.get(errno or 0, SetupError)
        if stage != "exec":
            cls = SetupError
        return cls(message, stage, path, errno)
    if rc in (
        lib.HAKONIWA_ERROR_CONFIG,
        lib.HAKONIWA_ERROR_LANDLOCK,
        lib.HAKONIWA_ERROR_SECCOMP,
        lib.HAKONIWA_ERROR_INVALID_ARGUMENT,  # e.g. an unknown name (rlimit, namespace, ...)
    ):
        return ConfigError(message, errno)
    if rc == lib.HAKONIWA_ERROR_UNSUPPORTED:
        return UnsupportedError(message, errno)
    return Error(message, errno)


def check(rc: int) -> None:
    """Raise the matching exception unless ``rc`` is 0."""
    if rc != 0:
        raise last_error(rc)


#: The longest wall-clock limit (about 31 years): the library counts it in milliseconds.
MAX_LIMIT_SECONDS = 1e9


def seconds(value: Any, name: str, *, limit: bool = False) -> Optional[float]:
    """Check a number of seconds before any C call: ``TypeError`` for what is not a number,
    ``ValueError`` for NaN and, for a wall-clock ``limit``, for what is not more than 0 and
    at most :data:`MAX_LIMIT_SECONDS`. An infinite timeout is none."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    v = float(value)
    if math.isnan(v):
        raise ValueError(f"{name} must be a number of seconds, not NaN")
    if limit:
        if not 0 < v <= MAX_LIMIT_SECONDS:
            raise ValueError(f"{name} must be more than 0 and at most 1e9 seconds, not {value!r}")
        return v
    return None if v == math.inf else v


def cstr(value: Any, what: str) -> bytes:
    """``str``/``bytes``/path-like to NUL-free bytes for a C string, else ``TypeError``."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        data = os.fsencode(value)
    elif isinstance(value, bytes):
        data = value
    else:
        raise TypeError(f"{what} must be str, bytes or os.PathLike, not {type(value).__name__}")
    if b"\0" in data:
        raise ValueError(f"{what} contains a NUL byte: {data!r}")
    return data
