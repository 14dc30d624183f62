"""Shared fixtures: leak accounting for descriptors, threads and child processes."""

from __future__ import annotations

import gc
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
    gc.collect()  # objects of earlier tests close their descriptors now, not mid-test
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(f"{fd}->{os.readlink(f'/proc/self/fd/{fd}')}")
        except FileNotFoundError:  # the descriptor listdir itself used
            pass
    return Snapshot(
        sorted(fds), len(os.listdir("/proc/self/task")), threading.active_count(), children()
    )


def warm_up() -> None:
    """Spawn once from this thread and once from another: the library keeps a few threads
    for the whole process (started on first use), which are not leaks."""
    hakoniwa.run(["/bin/true"])
    t = threading.Thread(target=hakoniwa.run, args=(["/bin/true"],))
    t.start()
    t.join()


def assert_no_leaks(before: Snapshot) -> None:
    after = snapshot()
    assert after.children == [], f"child processes left: {after.children}"
    new = set(after.fds) - set(before.fds)
    assert not new, f"descriptors leaked: {sorted(new)}"
    assert after.tasks <= before.tasks, f"threads leaked: {before.tasks} -> {after.tasks}"
    assert after.python_threads <= before.python_threads


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves descriptors, threads or child processes behind."""
    warm_up()
    before = snapshot()
    yield
    assert_no_leaks(before)
