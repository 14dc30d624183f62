"""Errors as exceptions, limits and confinement observable from Python."""

from __future__ import annotations

import errno
import fractions
import json
import os
import subprocess
from pathlib import Path

import pytest

import hakoniwa


def test_a_mount_point_in_a_read_only_directory_is_a_setup_error_naming_stage_path_and_errno(
    no_leaks: None,
) -> None:
    c = hakoniwa.Container().rootfs("/").tmpfsmount("/usr/hk-new-dir")
    with pytest.raises(hakoniwa.SetupError) as info:
        c.command("/bin/true").output()
    e = info.value
    assert isinstance(e, hakoniwa.Error)
    assert (e.stage, e.errno) == ("mount-target", errno.EROFS)
    assert e.path is not None and e.path.startswith("/usr/hk-new-dir")
    assert "mount-target" in str(e) and "/usr/hk-new-dir" in str(e)


def test_a_missing_working_directory_is_a_setup_error_at_the_chdir_stage(no_leaks: None) -> None:
    with pytest.raises(hakoniwa.SetupError) as info:
        hakoniwa.run(["true"], cwd="/no/such/dir")
    assert (info.value.stage, info.value.path, info.value.errno) == ("chdir", "/no/such/dir", errno.ENOENT)


def test_a_missing_bind_source_is_a_config_error_naming_it(no_leaks: None) -> None:
    c = hakoniwa.Container().rootfs("/").bindmount_ro("/nonexistent/hk-src", "/mnt")
    with pytest.raises(hakoniwa.ConfigError, match="/nonexistent/hk-src"):
        c.command("/bin/true").output()


def test_a_missing_program_is_a_setup_error_at_the_exec_stage(no_leaks: None) -> None:
    with pytest.raises(hakoniwa.SetupError) as info:
        hakoniwa.run(["/nonexistent-program"])
    assert info.value.stage == "exec" and info.value.errno == errno.ENOENT
    assert info.value.path == "/nonexistent-program"


def test_a_missing_or_unexecutable_program_is_also_the_oserror_subprocess_raises() -> None:
    with pytest.raises(FileNotFoundError) as missing:
        hakoniwa.run(["no-such-program-hk"])
    assert isinstance(missing.value, hakoniwa.ProgramNotFoundError)
    assert isinstance(missing.value, hakoniwa.SetupError) and missing.value.stage == "exec"
    assert missing.value.errno == errno.ENOENT
    assert missing.value.filename == missing.value.path
    assert missing.value.strerror == os.strerror(errno.ENOENT)
    with pytest.raises(PermissionError) as denied:
        hakoniwa.run(["/etc/passwd"])
    assert isinstance(denied.value, hakoniwa.ProgramPermissionError)
    assert denied.value.errno == errno.EACCES and denied.value.filename == "/etc/passwd"
    assert denied.value.strerror == os.strerror(errno.EACCES)
    # Other setup failures are no OSError.
    with pytest.raises(hakoniwa.SetupError) as other:
        hakoniwa.run(["true"], cwd="/no/such/dir-hk")
    assert not isinstance(other.value, OSError)


def test_errors_pickle_with_their_fields() -> None:
    import pickle

    with pytest.raises(hakoniwa.ProgramNotFoundError) as missing:
        hakoniwa.run(["no-such-program-hk"])
    with pytest.raises(hakoniwa.ConfigError) as config:
        hakoniwa.Container().rootfs("/").hostname("x" * 65).command("true").prepare()
    for e in (missing.value, config.value):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e) and back.errno == e.errno
    back = pickle.loads(pickle.dumps(missing.value))
    assert isinstance(back, hakoniwa.ProgramNotFoundError) and isinstance(back, FileNotFoundError)
    assert (back.stage, back.path, back.filename) == ("exec", missing.value.path, missing.value.path)
    assert back.strerror == missing.value.strerror


def test_an_invalid_setting_is_a_config_error() -> None:
    with pytest.raises(hakoniwa.ConfigError):
        hakoniwa.Container().rootfs("/").bindmount_ro("/usr", "relative").command("/bin/true").output()


def test_a_wall_time_kill_reports_its_reason(no_leaks: None) -> None:
    cmd = hakoniwa.Container().rootfs("/").command("/bin/sleep", "600").wait_timeout(0.2)
    status = cmd.status()
    assert status.reason == "wall_time_exceeded" and status.signal == 9 and status.code == 137
    assert status.to_dict()["limit"] == "walltime"
    r = hakoniwa.run(["sleep", "600"], wait_timeout=0.2)
    assert r.returncode == -9 and r.status.reason == "wall_time_exceeded"


def oci(action: str, syscalls: list[str], errno_ret: int = 1) -> str:
    return json.dumps({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": syscalls, "action": action, "errnoRet": errno_ret}],
    })


def test_a_seccomp_errno_rule_is_observable_as_the_errno() -> None:
    c = hakoniwa.Container().rootfs("/").tmpfsmount("/tmp").seccomp(oci("SCMP_ACT_ERRNO", ["mkdir", "mkdirat"]))
    out = c.command("/bin/mkdir", "/tmp/x").output()
    assert out.returncode == 1 and b"Operation not permitted" in out.stderr


def test_a_seccomp_kill_rule_gives_the_seccomp_violation_reason() -> None:
    c = hakoniwa.Container().rootfs("/").seccomp(oci("SCMP_ACT_KILL_PROCESS", ["uname"]))
    out = c.command("/bin/uname").output()
    assert out.status.reason == "seccomp_violation" and out.returncode == -31


def test_a_seccomp_profile_file_is_read_from_its_path(tmp_path: Path) -> None:
    profile = tmp_path / "deny-mkdir.json"
    profile.write_text(oci("SCMP_ACT_ERRNO", ["mkdir", "mkdirat"]))
    for given in (profile, str(profile)):
        c = hakoniwa.Container().rootfs("/").tmpfsmount("/tmp").seccomp(given)
        out = c.command("/bin/mkdir", "/tmp/x").output()
        assert out.returncode == 1 and b"Operation not permitted" in out.stderr
        seccomp = out.status.enforcement.seccomp
        assert seccomp is not None and seccomp["profile"] == str(profile)
    with pytest.raises(FileNotFoundError):
        hakoniwa.Container().seccomp(tmp_path / "missing.json")


def test_a_landlock_denied_path_is_observable(tmp_path: Path) -> None:
    (tmp_path / "secret").write_text("no")
    c = (hakoniwa.Container().rootfs("/").bindmount_ro(str(tmp_path), "/hidden")
         .landlock(rx=["/usr"], ro=["/etc", "/proc"]))
    out = c.command("/bin/cat", "/hidden/secret").output()
    assert out.returncode == 1 and b"Permission denied" in out.stderr
    assert out.status.enforcement.landlock is not None


def test_check_false_returns_the_failure_instead_of_raising() -> None:
    r = hakoniwa.run(["false"])
    assert r.returncode == 1
    with pytest.raises(subprocess.CalledProcessError):
        r.check_returncode()


def test_timeouts_are_checked_before_anything_runs_and_name_the_parameter() -> None:
    with pytest.raises(TypeError, match="timeout must be a number of seconds, not str"):
        hakoniwa.run(["true"], timeout="1")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timeout must be a number of seconds, not NaN"):
        hakoniwa.run(["true"], timeout=float("nan"))
    assert hakoniwa.run(["true"], timeout=float("inf")).returncode == 0  # no timeout
    assert hakoniwa.run(["true"], timeout=fractions.Fraction(30)).returncode == 0  # type: ignore[arg-type]
    for bad in (0, -1, float("inf"), float("nan"), 1e300):
        with pytest.raises(ValueError, match="wait_timeout must be"):
            hakoniwa.run(["true"], wait_timeout=bad)
        with pytest.raises(hakoniwa.ConfigError, match="seconds must be"):
            hakoniwa.Container().rootfs("/").command("true").wait_timeout(bad)
    with hakoniwa.Popen(["true"]) as p:
        with pytest.raises(TypeError, match="timeout must be a number of seconds"):
            p.wait("soon")  # type: ignore[arg-type]


def test_a_closed_descriptor_is_an_oserror_naming_the_argument() -> None:
    r, w = os.pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError, match=f"stdout: descriptor {w} is not open") as info:
        hakoniwa.run(["true"], stdout=w)
    assert info.value.errno == errno.EBADF
    with pytest.raises(OSError, match=f"pass_fds: descriptor {w} is not open"):
        hakoniwa.run(["true"], pass_fds=[w])
