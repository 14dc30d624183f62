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
    tasks: List[str]  # thread names (comm) of this process
    python_threads: int
    children: List[str]

    def count(self, spawners: bool) -> int:
        """Threads that are (or are not) the library's spawner threads."""
        return sum((name == SPAWNER) == spawners for name in self.tasks)


# The library clones from a pool of spawner threads when spawning from threads other than
# the main one; the pool grows to the largest number of concurrent spawns and stays.
SPAWNER = "hakoniwa-spawne"  # comm is cut to 15 characters


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
    tasks = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm") as f:
                tasks.append(f.read().strip())
        except FileNotFoundError:
            pass
    return Snapshot(sorted(fds), sorted(tasks), threading.active_count(), children())


def warm_up() -> None:
    """Spawn once from this thread, once from another and once without the sandbox's init:
    the library keeps a few threads and descriptors for the whole process (started on first
    use: spawner threads, the exit-hook notifier), which are not leaks."""
    hakoniwa.run(["/bin/true"])
    hakoniwa.run(["/bin/true"], container=hakoniwa.Container().rootfs("/").init(False))
    t = threading.Thread(target=hakoniwa.run, args=(["/bin/true"],))
    t.start()
    t.join()


def assert_no_leaks(before: Snapshot, concurrent_spawns: int = 1) -> None:
    """Nothing new but at most one spawner thread per concurrent spawn."""
    after = snapshot()
    assert after.children == [], f"child processes left: {after.children}"
    new = set(after.fds) - set(before.fds)
    assert not new, f"descriptors leaked: {sorted(new)}"
    assert after.count(spawners=False) <= before.count(spawners=False), (
        f"threads leaked: {before.tasks} -> {after.tasks}")
    assert after.count(spawners=True) <= max(before.count(spawners=True), concurrent_spawns), (
        f"more spawner threads than concurrent spawns: {after.tasks}")
    assert after.python_threads <= before.python_threads


@pytest.fixture
def no_leaks() -> Iterator[None]:
    """Fails the test if it leaves descriptors, threads or child processes behind."""
    warm_up()
    before = snapshot()
    yield
    assert_no_leaks(before)
