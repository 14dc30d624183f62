"""Seccomp: the default profile (Podman's decisions) applies unless changed; here an OCI
JSON profile allows everything except mkdir (fails with EPERM) and uname (kills)."""
import json

import hakoniwa

PROFILE = {
    "defaultAction": "SCMP_ACT_ALLOW",
    "syscalls": [
        {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
        {"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"},
    ],
}

box = hakoniwa.Container().rootfs("/").tmpfsmount("/tmp").seccomp(json.dumps(PROFILE))
mkdir = box.command("/bin/mkdir", "/tmp/dir").output()
print("mkdir:", mkdir.stderr.decode(), end="")

uname = box.command("/bin/uname").status()
assert uname.reason == "seccomp_violation", uname
print(f"uname: {uname.reason}, signal {uname.signal}")
