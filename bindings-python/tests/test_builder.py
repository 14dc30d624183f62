"""The builder API: Container().....command(...).output(), mirroring Rust."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import hakoniwa


def test_the_issue_example_chain_runs(tmp_path: Path) -> None:
    (tmp_path / "in").write_text("from host")
    c = (
        hakoniwa.Container()
        .rootfs("/")
        .tmpfsmount("/tmp")
        .bindmount_rw(str(tmp_path), "/data")
        .setrlimit("nofile", 64)
        .landlock(rx=["/usr"], ro=["/etc"], rw=["/data", "/tmp"])
        .seccomp("podman")
        .network("none")
    )
    out = c.command("/bin/sh", "-c", "cat /data/in; echo ok > /data/out; ulimit -n").output()
    assert out.returncode == 0, out.stderr
    assert out.stdout == b"from host64\n"
    assert (tmp_path / "out").read_text() == "ok\n"


@pytest.mark.skipif(shutil.which("pasta") is None, reason="pasta is not installed")
def test_pasta_networking_gives_the_sandbox_a_loopback_and_an_interface() -> None:
    c = hakoniwa.Container().rootfs("/").network("pasta")
    out = c.command("/bin/cat", "/proc/net/dev").output()
    assert out.returncode == 0, out.stderr
    assert b"lo:" in out.stdout


def test_an_empty_container_has_only_what_it_is_given() -> None:
    c = hakoniwa.Container().bindmount_ro("/usr").symlink("usr/bin", "/bin").symlink(
        "usr/lib", "/lib").symlink("usr/lib64", "/lib64").file("/greeting", "hello").dir("/made", 0o700)
    out = c.command("/bin/sh", "-c", "cat /greeting; ls /; stat -c %a /made").output()
    assert out.returncode == 0, out.stderr
    lines = out.stdout.decode().splitlines()
    assert lines[0].startswith("hello")
    assert "etc" not in lines and "made" in out.stdout.decode() and lines[-1] == "700"


def test_a_command_is_reusable_and_sets_env_cwd_and_args() -> None:
    cmd = (hakoniwa.Container().rootfs("/").command("/bin/sh", "-c")
           .arg('echo "$X $(pwd)"').env("X", "x").current_dir("/usr"))
    assert cmd.output().stdout == b"x /usr\n"
    assert cmd.output().stdout == b"x /usr\n"
    assert cmd.status().exit_code == 0


def test_hostname_unshares_uts() -> None:
    out = hakoniwa.Container().rootfs("/").hostname("box").command("/bin/hostname").output()
    assert out.stdout == b"box\n"
    assert "uts" in out.status.enforcement.namespaces


def test_builder_setters_reject_wrong_types() -> None:
    c = hakoniwa.Container()
    with pytest.raises(TypeError):
        c.setrlimit("nofile", "64")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        c.landlock(ro="/usr")
    with pytest.raises(TypeError):
        c.rootfs(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        hakoniwa.Command("not a container", "/bin/true")  # type: ignore[arg-type]


def test_unknown_names_are_config_errors_naming_them() -> None:
    c = hakoniwa.Container()
    with pytest.raises(hakoniwa.ConfigError, match="bogus"):
        c.setrlimit("bogus", 1)
    with pytest.raises(hakoniwa.ConfigError, match="nonamespace"):
        c.unshare("nonamespace")
    with pytest.raises(hakoniwa.ConfigError, match="nosuchprofile"):
        c.seccomp("nosuchprofile").command("/bin/true").output()
    # The builder's own checks raise the same ConfigError, also a ValueError.
    with pytest.raises(hakoniwa.ConfigError, match="carrier-pigeon") as info:
        c.network("carrier-pigeon")
    assert isinstance(info.value, ValueError)
    with pytest.raises(hakoniwa.ConfigError, match="nonamespace") as info:
        c.unshare("nonamespace")
    assert isinstance(info.value, ValueError)


def test_a_container_from_a_json_description_as_dict_or_text() -> None:
    doc = {"version": 1, "rootfs": "/", "hostname": "fromjson",
           "mounts": [{"type": "tmpfs", "target": "/tmp"}]}
    for c in (hakoniwa.Container.from_json(doc), hakoniwa.Container.from_json(json.dumps(doc))):
        out = c.command("/bin/sh", "-c", "hostname; touch /tmp/x && echo w").output()
        assert out.stdout == b"fromjson\nw\n", out.stderr
    with pytest.raises(hakoniwa.ConfigError, match="nonsense"):
        hakoniwa.Container.from_json({"version": 1, "nonsense": True})
    with pytest.raises(TypeError):
        hakoniwa.Container.from_json(42)  # type: ignore[arg-type]
