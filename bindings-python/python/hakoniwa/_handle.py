"""The library's container handle, below everything that spawns.

:class:`ContainerHandle` owns a ``hakoniwa_container_t`` and the lock that keeps it from
being read while it is changed; the public :class:`~hakoniwa.Container` extends it with
the setters and ``command()``. Spawning (``_child``, ``_popen``) needs only this, so the
modules form a chain: ``_handle`` <- ``_child`` <- ``_popen`` <- ``_container``.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

from . import _lib

__all__ = ["ContainerHandle", "default_container"]


class ContainerHandle:
    """A sandbox configuration held by the library (see :class:`hakoniwa.Container`)."""

    def __init__(self) -> None:
        ffi, lib = _lib.get()
        handle = lib.hakoniwa_container_new()
        if handle == ffi.NULL:
            raise _lib.last_error(lib.hakoniwa_last_error_code())
        self._adopt(handle)

    def _adopt(self, handle: Any) -> None:
        """Own ``handle`` (freed with this object)."""
        lib = _lib.get()[1]
        self._handle: Any = _lib.get()[0].gc(handle, lib.hakoniwa_container_free)
        self._lock = threading.Lock()


_default: Optional[ContainerHandle] = None
_default_lock = threading.Lock()


def default_container() -> ContainerHandle:
    """The CLI's default sandbox (``Container().rootfs("/")``), built once and shared."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                box = ContainerHandle()
                _lib.check(_lib.get()[1].hakoniwa_container_rootfs(box._handle, b"/"))
                _default = box
    return _default
