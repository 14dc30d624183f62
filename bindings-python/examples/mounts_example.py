"""Custom mounts: a read-only and a read-write bind of host directories, a tmpfs, a
minimal /dev, and a directory, a file and a symbolic link created in the new root."""
import tempfile
from pathlib import Path

import hakoniwa

with tempfile.TemporaryDirectory(prefix="hakoniwa-mounts-") as tmp:
    host = Path(tmp)
    (host / "out").mkdir()
    (host / "input.txt").write_text("hello from the host\n")

    box = (
        hakoniwa.Container()
        .rootfs("/")
        .bindmount_ro(host, "/data")  # recursively read-only
        .bindmount_rw(host / "out", "/out")
        .tmpfsmount("/tmp")
        .devfsmount("/dev")  # null, zero, full, random, urandom, tty, pts, shm
        .dir("/work", 0o755)
        .file("/config/greeting.txt", "hello from the config\n")
        .symlink("/data/input.txt", "/input")
    )
    script = ("cat /input /config/greeting.txt; echo written > /out/result.txt; "
              "touch /data/x 2>/dev/null || echo /data is read-only; "
              "echo scratch > /tmp/s && cat /tmp/s; ls /")
    result = box.command("/bin/sh", "-c", script).output()
    print(result.stdout.decode(), end="")
    print("host sees:", (host / "out" / "result.txt").read_text(), end="")
