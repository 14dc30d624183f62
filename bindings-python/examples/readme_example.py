"""The example from README.md (kept identical by tests/test_readme.py; checked by mypy)."""

import asyncio
import subprocess

import hakoniwa

# subprocess-shaped: the default sandbox (host /usr, /bin, /lib*, /etc, /sbin read-only,
# new user, mount and PID namespaces, the default seccomp profile). The environment is
# empty unless you pass one.
result = hakoniwa.run(["sh", "-c", "echo hello from $(hostname); id -u"],
                      capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
print(result.stdout, end="")
print(result.status.reason, result.status.real_time, result.status.max_rss_kb)

# Failures are exceptions, subclasses of subprocess's own.
try:
    hakoniwa.run(["sh", "-c", "exit 3"], check=True)
except subprocess.CalledProcessError as e:
    assert isinstance(e, hakoniwa.CalledProcessError) and e.returncode == 3
try:
    hakoniwa.run(["sleep", "60"], timeout=0.2)  # the sandbox is killed, then this raises
except subprocess.TimeoutExpired:
    pass

# The builder, mirroring the Rust API: an empty tmpfs root with only what you add.
box = (
    hakoniwa.Container()
    .rootfs("/")                      # host system directories, read-only
    .tmpfsmount("/tmp")
    .setrlimit("nofile", 64)
    .landlock(rx=["/usr"], ro=["/etc"], rw=["/tmp"])
    .seccomp("podman")
    .network("none")
)
out = box.command("/bin/sh", "-c", "echo hi > /tmp/f && cat /tmp/f").wait_timeout(10).output()
assert out.stdout == b"hi\n" and out.status.to_dict()["reason"] == "exited"

# A setup failure names the stage, the path and the errno.
try:
    hakoniwa.run(["true"], cwd="/no/such/dir")
except hakoniwa.SetupError as e:
    print(e.stage, e.path, e.errno)

# asyncio: waits on the child's pidfd, no thread per child.
async def main() -> None:
    p = await hakoniwa.create_subprocess_exec(
        "tr", "a-z", "A-Z", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    stdout, _ = await p.communicate(b"shout\n")
    assert stdout == b"SHOUT\n" and p.returncode == 0

asyncio.run(main())
