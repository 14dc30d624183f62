"""create_subprocess_exec: shaped like asyncio.subprocess.Process, waited on through the pidfd."""

from __future__ import annotations

import asyncio
import signal
import threading

import pytest

import hakoniwa


def test_streams_wait_and_returncode(no_leaks: None) -> None:
    async def main() -> None:
        p = await hakoniwa.create_subprocess_exec(
            "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
        assert p.pid > 0 and p.returncode is None
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(b"line\n")
        await p.stdin.drain()
        assert await p.stdout.readline() == b"line\n"
        p.stdin.close()
        assert await p.wait() == 0
        assert p.returncode == 0 and p.status is not None and p.status.reason == "exited"
        assert await p.stdout.read() == b""

    asyncio.run(main())


def test_waiting_uses_no_thread_per_child(no_leaks: None) -> None:
    async def main() -> None:
        before = threading.active_count()
        procs = [await hakoniwa.create_subprocess_exec("sleep", "0.3") for _ in range(20)]
        assert threading.active_count() == before
        assert await asyncio.gather(*(p.wait() for p in procs)) == [0] * 20

    asyncio.run(main())


def test_kill_terminate_and_send_signal(no_leaks: None) -> None:
    async def main() -> None:
        p = await hakoniwa.create_subprocess_exec("sleep", "600")
        p.kill()
        assert await p.wait() == -signal.SIGKILL
        script = "trap 'exit 9' USR1; echo ready; while :; do sleep 0.05; done"
        q = await hakoniwa.create_subprocess_exec("sh", "-c", script, stdout=asyncio.subprocess.PIPE)
        assert q.stdout is not None and await q.stdout.readline() == b"ready\n"
        q.send_signal(signal.SIGUSR1)
        assert await q.wait() == 9
        await q.stdout.read()

    asyncio.run(main())


def test_communicate_with_devnull_and_stderr_pipe(no_leaks: None) -> None:
    async def main() -> None:
        p = await hakoniwa.create_subprocess_exec(
            "sh", "-c", "cat; echo e >&2", stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        assert await p.communicate() == (b"", b"e\n")

    asyncio.run(main())


def test_a_setup_error_is_raised_by_create_subprocess_exec() -> None:
    async def main() -> None:
        with pytest.raises(hakoniwa.SetupError):
            await hakoniwa.create_subprocess_exec("/nonexistent-program")

    asyncio.run(main())


def test_a_wall_time_limit_is_enforced_while_awaiting(no_leaks: None) -> None:
    async def main() -> None:
        p = await hakoniwa.create_subprocess_exec("sleep", "600", wait_timeout=0.2)
        assert await p.wait() == -signal.SIGKILL
        assert p.status is not None and p.status.reason == "wall_time_exceeded"

    asyncio.run(main())
