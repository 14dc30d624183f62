"""Spawning after fork: in a child forked from a process that already spawned, and after."""

from __future__ import annotations

import gc
import multiprocessing
import time

import hakoniwa


def spawn_in_child(queue: "multiprocessing.Queue[bytes]") -> None:
    queue.put(hakoniwa.run(["echo", "child"], capture_output=True, timeout=60).stdout)


def test_spawning_works_in_a_forked_child_and_in_the_parent_after_the_fork() -> None:
    assert hakoniwa.run(["echo", "before"], capture_output=True).stdout == b"before\n"
    ctx = multiprocessing.get_context("fork")
    queue: multiprocessing.Queue[bytes] = ctx.Queue()
    procs = [ctx.Process(target=spawn_in_child, args=(queue,)) for _ in range(2)]
    for p in procs:
        p.start()
    try:
        results = [queue.get(timeout=60) for _ in procs]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
    assert results == [b"child\n", b"child\n"]
    assert hakoniwa.run(["echo", "after"], capture_output=True).stdout == b"after\n"


def drop_inherited(box: "list[hakoniwa.Popen]") -> None:
    try:
        box[0].poll()
    except hakoniwa.Error as e:  # refused: waiting would take the parent's reports
        assert "another process spawned" in str(e), e
    else:
        raise AssertionError("a forked worker could wait for the parent's sandbox")
    box.clear()  # the worker's copy of the parent's Popen has no reference left: collected
    gc.collect()


def test_a_forked_worker_collecting_an_inherited_popen_leaves_the_parent_s_sandbox_running() -> None:
    box = [hakoniwa.Popen(["sleep", "30"])]  # only the list refers to it, in both processes
    ctx = multiprocessing.get_context("fork")
    worker = ctx.Process(target=drop_inherited, args=(box,))
    worker.start()
    worker.join(timeout=60)
    assert worker.exitcode == 0
    time.sleep(0.2)  # a kill from the worker would have landed by now
    assert box[0].poll() is None, "the worker's collection ended the parent's sandbox"
    box[0].kill()
    assert box[0].wait() == -9
