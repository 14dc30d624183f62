"""Many spawns at once from threads and from asyncio: all correct, nothing leaked."""

from __future__ import annotations

import asyncio
import os
import resource
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator

import pytest

from conftest import assert_no_leaks, snapshot

import hakoniwa


def test_eight_threads_times_fifty_spawns_are_all_correct() -> None:
    container = hakoniwa.Container().rootfs("/")  # one container shared by every thread

    def worker(t: int, n: int) -> list[bytes]:
        return [
            hakoniwa.run(["echo", f"{t}-{i}"], capture_output=True, container=container).stdout
            for i in range(n)
        ]

    def round(n: int) -> list[list[bytes]]:
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(worker, range(8), [n] * 8))

    # A first, small round lets the library start what it keeps per process; the big round
    # must then add nothing but spawner threads, at most one per spawning thread.
    round(2)
    before = snapshot()
    assert round(50) == [[f"{t}-{i}\n".encode() for i in range(50)] for t in range(8)]
    assert_no_leaks(before, concurrent_spawns=8)
    assert round(50) == [[f"{t}-{i}\n".encode() for i in range(50)] for t in range(8)]
    assert_no_leaks(before, concurrent_spawns=8)


@pytest.fixture
def nofile_raised() -> Iterator[None]:
    """Each running sandbox holds about five descriptors in the caller (three in the library,
    plus its pipes): 200 at once need more than the usual soft limit of 1024, so raise it to
    the hard limit, as a program running hundreds of children would."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def key_quota() -> int:
    with open("/proc/sys/kernel/keys/maxkeys") as f:
        return int(f.read())


def test_two_hundred_concurrent_asyncio_children_are_all_correct(
    nofile_raised: None, no_leaks: None
) -> None:
    async def one(i: int) -> tuple[bytes | None, int]:
        p = await hakoniwa.create_subprocess_exec(
            "sh", "-c", f"read x; echo $x-{i}", stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
        out, _ = await p.communicate(b"hi\n")
        return out, await p.wait()

    async def main() -> list[tuple[bytes | None, int]]:
        return await asyncio.gather(*(one(i) for i in range(200)))

    assert asyncio.run(main()) == [(f"hi-{i}\n".encode(), 0) for i in range(200)]
