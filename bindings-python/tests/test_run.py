"""hakoniwa.run and CompletedProcess, compared with subprocess's behaviour."""

from __future__ import annotations

import copy
import multiprocessing
import os
import pathlib
import pickle
import subprocess
import sys

import pytest

import hakoniwa


def test_run_captures_output_and_returns_a_completed_process_with_the_full_status() -> None:
    result = hakoniwa.run(["/bin/echo", "hi"], capture_output=True)
    assert isinstance(result, subprocess.CompletedProcess)
    assert result.stdout == b"hi\n" and result.stderr == b""
    assert result.returncode == 0 and result.args == ["/bin/echo", "hi"]
    assert result.status.reason == "exited" and result.status.exit_code == 0
    assert {"user", "mount", "pid"} <= set(result.status.enforcement.namespaces)


def test_a_program_name_is_looked_up_in_the_sandbox_path() -> None:
    assert hakoniwa.run(["echo", "x"], capture_output=True).stdout == b"x\n"


def test_the_default_sandbox_shows_host_system_directories_read_only() -> None:
    r = hakoniwa.run(["sh", "-c", "ls /usr/bin/env && touch /usr/x"], capture_output=True, text=True)
    assert "/usr/bin/env" in r.stdout
    assert r.returncode != 0 and "Read-only file system" in r.stderr


def test_the_environment_is_not_inherited_unless_given() -> None:
    os.environ["HAKONIWA_PY_SECRET"] = "leak"
    try:
        bare = hakoniwa.run(["/usr/bin/env"], capture_output=True, text=True)
        assert "HAKONIWA_PY_SECRET" not in bare.stdout
        given = hakoniwa.run(["/usr/bin/env"], capture_output=True, text=True, env={"A": "1"})
        assert given.stdout.splitlines() == ["A=1"]
    finally:
        del os.environ["HAKONIWA_PY_SECRET"]


def test_cwd_sets_the_working_directory() -> None:
    assert hakoniwa.run(["pwd"], capture_output=True, cwd="/usr/lib").stdout == b"/usr/lib\n"


def test_input_is_piped_to_stdin() -> None:
    r = hakoniwa.run(["tr", "a-z", "A-Z"], input=b"hello", capture_output=True)
    assert r.stdout == b"HELLO"


def test_fifty_mib_of_output_is_captured_exactly() -> None:
    size = 50 * 1024 * 1024
    r = hakoniwa.run(["head", "-c", str(size), "/dev/zero"], capture_output=True,
                     container=hakoniwa.Container().rootfs("/").devfsmount("/dev"))
    assert r.returncode == 0
    assert len(r.stdout) == size and r.stdout.count(0) == size


def test_fifty_mib_written_and_read_back_through_pipes_both_ways() -> None:
    data = os.urandom(1024 * 1024) * 50
    r = hakoniwa.run(["cat"], input=data, capture_output=True)
    assert r.stdout == data


def test_text_mode_decodes_stdout_and_stderr_and_encodes_input() -> None:
    r = hakoniwa.run(["sh", "-c", "cat; echo été >&2"], input="ünï\r\ncode", capture_output=True,
                     text=True, encoding="utf-8")
    assert r.stdout == "ünï\ncode" and r.stderr == "été\n"


def test_check_raises_a_called_process_error_subclass_with_the_status() -> None:
    with pytest.raises(subprocess.CalledProcessError) as info:
        hakoniwa.run(["sh", "-c", "echo out; exit 3"], check=True, capture_output=True)
    e = info.value
    assert isinstance(e, hakoniwa.CalledProcessError) and isinstance(e, hakoniwa.Error)
    assert e.returncode == 3 and e.output == b"out\n" and e.stdout == b"out\n"
    assert e.status is not None and e.status.exit_code == 3
    assert "returned non-zero exit status 3" in str(e)
    assert hakoniwa.run(["true"], check=True).returncode == 0


def test_a_signal_gives_a_negative_return_code_like_subprocess() -> None:
    with hakoniwa.Popen(["sleep", "600"]) as p:
        p.kill()
    assert p.returncode == -9 and p.status is not None
    assert (p.status.signal, p.status.code, p.status.reason) == (9, 128 + 9, "signaled")


def processes_with(token: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if token.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_timeout_kills_the_sandbox_and_raises_a_timeout_expired_subclass(no_leaks: None) -> None:
    token = f"hk-timeout-{os.getpid()}"
    script = f"echo started; while :; do sleep 0.05; done; : {token}"
    with pytest.raises(subprocess.TimeoutExpired) as info:
        hakoniwa.run(["sh", "-c", script], timeout=0.5, capture_output=True)
    assert isinstance(info.value, hakoniwa.TimeoutExpired)
    assert info.value.timeout == 0.5 and info.value.output == b"started\n"
    assert processes_with(token) == []


def test_timeout_with_nothing_piped_kills_the_sandbox_and_raises_as_subprocess_does(no_leaks: None) -> None:
    token = f"hk-timeout-inherited-{os.getpid()}"
    with pytest.raises(hakoniwa.TimeoutExpired) as info:
        hakoniwa.run(["sh", "-c", f"while :; do sleep 0.05; done; : {token}"], timeout=0.3)
    assert info.value.cmd == ["sh", "-c", f"while :; do sleep 0.05; done; : {token}"]
    assert (info.value.timeout, info.value.output, info.value.stderr) == (0.3, None, None)
    assert processes_with(token) == []
    # communicate() on a Popen with nothing piped: the program keeps running after the
    # timeout and a later communicate() waits for it, as in subprocess.
    with hakoniwa.Popen(["sleep", "0.5"]) as p:
        with pytest.raises(hakoniwa.TimeoutExpired):
            p.communicate(timeout=0.05)
        assert p.poll() is None
        assert p.communicate() == (None, None) and p.returncode == 0


def test_wrong_argument_types_raise_type_error_before_any_c_call() -> None:
    code = """
import hakoniwa
for bad in (lambda: hakoniwa.run(123), lambda: hakoniwa.run(["echo", 1]),
            lambda: hakoniwa.run(["echo"], env={"A": 1}), lambda: hakoniwa.run(["echo"], cwd=3),
            lambda: hakoniwa.run(["echo"], container="default"),
            lambda: hakoniwa.run(["echo"], stdout=2.5)):
    try:
        bad()
    except TypeError:
        continue
    raise SystemExit("no TypeError")
print("ok")
"""
    # The library path is unusable: any C call would fail with ImportError instead.
    env = dict(os.environ, HAKONIWA_LIB="/nonexistent/libhakoniwa.so")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout == "ok\n", out.stderr


def test_a_nul_byte_in_an_argument_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="NUL"):
        hakoniwa.run(["echo", "a\0b"])


def test_hakoniwa_lib_overrides_the_library_path() -> None:
    code = "import hakoniwa; print(hakoniwa.library_path()); hakoniwa.run(['true'])"
    env = dict(os.environ, HAKONIWA_LIB="/nonexistent/libhakoniwa.so")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.stdout == "/nonexistent/libhakoniwa.so\n"
    assert "cannot load /nonexistent/libhakoniwa.so" in out.stderr
    env["HAKONIWA_LIB"] = hakoniwa.library_path()  # the bundled one, named explicitly
    ok = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr


def test_the_library_reports_its_version() -> None:
    assert hakoniwa.library_version().split(".")[0].isdigit()


def test_check_keeps_the_command_as_given_and_words_a_signal_as_subprocess_does() -> None:
    for args in ("false", b"false", pathlib.Path("/bin/false")):
        with pytest.raises(hakoniwa.CalledProcessError) as info:
            hakoniwa.run(args, check=True, env={"PATH": "/bin:/usr/bin"})
        assert info.value.cmd == args
        expected = subprocess.CalledProcessError(1, args)
        assert str(info.value) == str(expected)
    with pytest.raises(hakoniwa.CalledProcessError) as killed:
        hakoniwa.run(["sh", "-c", "kill -9 $$"], check=True)
    assert str(killed.value) == str(subprocess.CalledProcessError(-9, ["sh", "-c", "kill -9 $$"]))
    assert "died with <Signals.SIGKILL: 9>" in str(killed.value)
    # TimeoutExpired keeps the command as given too.
    with pytest.raises(hakoniwa.TimeoutExpired) as late:
        hakoniwa.run(("sleep", "30"), timeout=0.2)
    assert late.value.cmd == ("sleep", "30")
    assert str(late.value) == str(subprocess.TimeoutExpired(("sleep", "30"), 0.2))


def test_results_statuses_and_errors_pickle_and_copy_as_plain_values() -> None:
    r = hakoniwa.run(["sh", "-c", "echo out; echo err >&2"], capture_output=True)
    for back in (pickle.loads(pickle.dumps(r)), copy.deepcopy(r)):
        assert isinstance(back, hakoniwa.CompletedProcess)
        assert (back.args, back.returncode, back.stdout, back.stderr) == (
            r.args, r.returncode, r.stdout, r.stderr)
        assert back.status == r.status and back.status.to_dict() == r.status.to_dict()
        assert back.status.enforcement.setup_ms == r.status.enforcement.setup_ms
    with pytest.raises(hakoniwa.CalledProcessError) as failed:
        hakoniwa.run(["sh", "-c", "exit 3"], check=True, capture_output=True)
    with pytest.raises(hakoniwa.TimeoutExpired) as late:
        hakoniwa.run(["sleep", "30"], timeout=0.2)
    failed.value.add_note("a note")
    for e in (failed.value, late.value):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e) and back.cmd == e.cmd
    assert pickle.loads(pickle.dumps(failed.value)).__notes__ == ["a note"]
    back_failed = pickle.loads(pickle.dumps(failed.value))
    assert back_failed.returncode == 3 and back_failed.status == failed.value.status


def run_in_worker(args: "list[str]") -> "hakoniwa.CompletedProcess[bytes]":
    return hakoniwa.run(args, capture_output=True)


def check_in_worker(args: "list[str]") -> None:
    hakoniwa.run(args, check=True)


def test_a_pool_worker_returns_results_and_raises_errors_across_processes() -> None:
    with multiprocessing.get_context("fork").Pool(1) as pool:
        r = pool.apply(run_in_worker, (["echo", "from worker"],))
        assert r.stdout == b"from worker\n" and r.status.success
        with pytest.raises(hakoniwa.CalledProcessError) as info:
            pool.apply(check_in_worker, (["false"],))
        assert info.value.returncode == 1 and info.value.status is not None
