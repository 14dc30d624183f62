"""hakoniwa.Popen: pipes, polling, waiting, signals, context manager."""

from __future__ import annotations

import array
import fcntl
import gc
import os
import signal
import subprocess
import threading
import time
import warnings

import pytest

import hakoniwa


def test_popen_pipes_both_ways_and_reports_pid_and_status(no_leaks: None) -> None:
    with hakoniwa.Popen(["cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE) as p:
        assert p.pid > 0 and p.poll() is None
        assert p.stdin is not None and p.stdout is not None
        p.stdin.write(b"ping\n")
        p.stdin.flush()
        assert p.stdout.readline() == b"ping\n"
        p.stdin.close()
        assert p.wait() == 0
    assert p.returncode == 0 and p.status is not None and p.status.reason == "exited"


def test_wait_with_a_timeout_raises_and_leaves_the_program_running(no_leaks: None) -> None:
    with hakoniwa.Popen(["cat"], stdin=subprocess.PIPE) as p:
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=0.1)
        assert p.poll() is None
        assert p.stdin is not None
        p.stdin.close()
        assert p.wait(timeout=60) == 0


def test_communicate_sends_input_and_collects_both_streams(no_leaks: None) -> None:
    p = hakoniwa.Popen(["sh", "-c", "cat; echo err >&2"], stdin=hakoniwa.PIPE,
                       stdout=hakoniwa.PIPE, stderr=hakoniwa.PIPE)
    assert p.communicate(b"data") == (b"data", b"err\n")
    assert p.returncode == 0


def test_communicate_timeout_can_be_retried_like_subprocess(no_leaks: None) -> None:
    # The program waits for a line on a pipe this test holds: the first communicate must
    # time out whatever the machine's speed.
    r, w = os.pipe()
    try:
        p = hakoniwa.Popen(["sh", "-c", "echo first; read x; echo $x"], stdin=r, stdout=hakoniwa.PIPE)
    finally:
        os.close(r)
    with pytest.raises(hakoniwa.TimeoutExpired) as info:
        p.communicate(timeout=0.3)
    assert info.value.output in (b"", b"first\n")
    os.write(w, b"second\n")
    os.close(w)
    out, err = p.communicate(timeout=60)
    assert out == b"first\nsecond\n" and err is None


def test_stderr_to_stdout_merges_the_streams() -> None:
    r = hakoniwa.run(["sh", "-c", "echo a; echo b >&2"], stdout=hakoniwa.PIPE, stderr=hakoniwa.STDOUT)
    assert r.stdout == b"a\nb\n" and r.stderr is None


def test_devnull_and_a_file_object_as_streams(tmp_path: "os.PathLike[str]") -> None:
    path = os.path.join(os.fspath(tmp_path), "out")
    with open(path, "wb") as f:
        r = hakoniwa.run(["sh", "-c", "cat; echo written"], stdin=hakoniwa.DEVNULL, stdout=f)
    assert r.returncode == 0
    with open(path, "rb") as f:
        assert f.read() == b"written\n"


def test_terminate_reaches_a_program_that_handles_sigterm(no_leaks: None) -> None:
    script = "trap 'echo got-term; exit 7' TERM; echo ready; while :; do sleep 0.05; done"
    with hakoniwa.Popen(["sh", "-c", script], stdout=hakoniwa.PIPE) as p:
        assert p.stdout is not None and p.stdout.readline() == b"ready\n"
        p.terminate()
        assert p.wait() == 7
        assert p.stdout.read() == b"got-term\n"


def test_kill_ends_the_sandbox_with_sigkill(no_leaks: None) -> None:
    with hakoniwa.Popen(["sleep", "600"]) as p:
        p.kill()
        assert p.wait() == -signal.SIGKILL
    assert p.status is not None and p.status.signal == signal.SIGKILL
    p.kill()  # after reaping: nothing happens, like subprocess
    p.send_signal(signal.SIGTERM)


def test_waiting_from_many_threads_gives_everyone_the_same_status(no_leaks: None) -> None:
    p = hakoniwa.Popen(["sh", "-c", "exit 5"])
    codes: list[int] = []
    threads = [threading.Thread(target=lambda: codes.append(p.wait())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [5] * 8


def test_blocking_waits_release_the_gil() -> None:
    # The sandboxed `cat` ends only after this thread writes: a wait holding the GIL in
    # the other thread would deadlock here.
    r, w = os.pipe()
    result: list[bytes] = []

    def runner() -> None:
        try:
            result.append(hakoniwa.run(["cat"], stdin=r, capture_output=True).stdout)
        finally:
            os.close(r)

    t = threading.Thread(target=runner)
    t.start()
    os.write(w, b"through")
    os.close(w)
    t.join(timeout=120)
    assert not t.is_alive() and result == [b"through"]


def test_text_mode_popen_streams_are_text() -> None:
    with hakoniwa.Popen(["echo", "héllo"], stdout=hakoniwa.PIPE, text=True, encoding="utf-8") as p:
        assert p.stdout is not None and p.stdout.read() == "héllo\n"


def test_pass_fds_hands_descriptors_over_under_the_same_number(no_leaks: None) -> None:
    r, w = os.pipe()
    target = fcntl.fcntl(w, fcntl.F_DUPFD_CLOEXEC, 100)  # a free number, not 3 or 4
    os.close(w)
    with os.fdopen(r, "rb") as reader:
        try:
            res = hakoniwa.run(["bash", "-c", f"echo through >&{target}"], pass_fds=[target])
        finally:
            os.close(target)
        assert res.returncode == 0
        assert reader.read() == b"through\n"
    # Nothing else is inherited: without pass_fds the program has no such descriptor.
    r2, w2 = os.pipe()
    try:
        out = hakoniwa.run(["bash", "-c", f"echo x >&{w2}"], stderr=hakoniwa.DEVNULL)
        assert out.returncode != 0
    finally:
        os.close(r2)
        os.close(w2)


def test_terminate_ends_a_program_without_a_handler_unless_it_is_pid_1(no_leaks: None) -> None:
    with hakoniwa.Popen(["sleep", "600"]) as p:  # the sandbox's init passes SIGTERM on
        p.terminate()
        assert p.wait() == -signal.SIGTERM
    bare = hakoniwa.Container().rootfs("/").init(False)
    with hakoniwa.Popen(["sh", "-c", "echo $$; read x"], container=bare, stdin=hakoniwa.PIPE,
                        stdout=hakoniwa.PIPE) as q:
        assert q.stdout is not None and q.stdout.readline() == b"1\n"  # the program is PID 1
        q.terminate()
        with pytest.raises(hakoniwa.TimeoutExpired):  # ignored by PID 1 without a handler
            q.wait(timeout=0.5)
        q.kill()
        assert q.wait() == -signal.SIGKILL


def test_a_popen_collected_unwaited_kills_its_sandbox_with_a_resource_warning() -> None:
    r, w = os.pipe()
    try:
        p = hakoniwa.Popen(["sh", "-c", f"sleep 1; echo survived >&{w}"], pass_fds=[w])
        pid = p.pid
        with pytest.warns(ResourceWarning, match=f"sandbox {pid} was not waited for"):
            del p
            gc.collect()
        os.close(w)
        w = -1
        assert os.read(r, 100) == b""  # killed: nobody wrote, the last write end is gone
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_popen_collected_unwaited_is_killed_even_when_warnings_are_errors() -> None:
    r, w = os.pipe()
    try:
        p = hakoniwa.Popen(["sh", "-c", f"sleep 1; echo survived >&{w}"], pass_fds=[w])
        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)
            del p
            gc.collect()  # the warning raised in the finalizer is only reported
        os.close(w)
        w = -1
        assert os.read(r, 100) == b""
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_keyboard_interrupt_in_a_with_block_does_not_wait_for_the_program() -> None:
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        with hakoniwa.Popen(["sleep", "30"]) as p:
            raise KeyboardInterrupt
    assert time.monotonic() - start < 20  # not the 30 s of the program
    assert p.returncode is None
    p.kill()
    assert p.wait() == -9


def test_send_signal_takes_numbers_and_zero_is_a_no_op() -> None:
    with hakoniwa.Popen(["sleep", "30"]) as p:
        p.send_signal(0)
        assert p.poll() is None
        with pytest.raises(TypeError):
            p.send_signal("TERM")  # type: ignore[arg-type]
        p.send_signal(signal.SIGTERM)
    assert p.returncode == -signal.SIGTERM


def test_input_takes_bytes_like_objects_and_str_only_in_text_mode() -> None:
    for data in (bytearray(b"ab\n"), memoryview(b"ab\n"), array.array("b", b"ab\n")):
        assert hakoniwa.run(["cat"], input=data, capture_output=True).stdout == b"ab\n"
    with pytest.raises(TypeError, match="text=True"):
        hakoniwa.run(["cat"], input="ab\n", capture_output=True)
    assert hakoniwa.run(["cat"], input="ab\n", capture_output=True, text=True).stdout == "ab\n"
