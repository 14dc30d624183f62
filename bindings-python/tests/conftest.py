"""Shared fixtures: leak accounting for descriptors, threads and child processes."""

from __future__ import annotations

import os
import threading
from typing import Iterator, List, NamedTuple

import pytest

import hakoniwa


class Snapshot(NamedTuple):
    fds: List[str]
    tasks: int
    python_threads: int
    children: List[str]


def children() -> List[str]:
    """Pids of this process's children (any thread's), zombies included."""
    out: List[str] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children") as f:
                out += f.read().split()
        except FileNotFoundError:
            pass
    return out


def snapshot() -> Snapshot:
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
        except FileNotFoundError:  # the descriptor listdir itself used
            pass
    return Snapshot(
        sorted(fds), len(os.listdir("/proc/self/task")), threading.active_count(), children()
    )


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves descriptors, threads or child processes behind."""
    hakoniwa.run(["/bin/true"])  # warm-up: threads the library keeps for the whole process
    before = snapshot()
    yield
    after = snapshot()
    assert after.children == [], f"child processes left: {after.children}"
    assert after.fds == before.fds, f"descriptors leaked: {set(after.fds) - set(before.fds)}"
    assert after.tasks == before.tasks, f"threads leaked: {before.tasks} -> {after.tasks}"
    assert after.python_threads == before.python_threads
