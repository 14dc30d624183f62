"""Namespaces: the program is PID 2 of its own PID namespace (under the sandbox's init,
PID 1) and uid 0 of its own user namespace, with its own host name (UTS) and IPC namespace."""
import hakoniwa

box = (
    hakoniwa.Container()  # new user, mount and PID namespaces; /proc
    .rootfs("/")  # the host's /usr, /bin, /lib*, /etc, /sbin, read-only
    .unshare("ipc")
    .hostname("sandbox")  # implies a new UTS namespace
    .uidmap(0)  # the caller's uid and gid appear as 0 inside
    .gidmap(0)
)
script = "echo pid=$$ uid=$(id -u) host=$(uname -n); ps -e -o pid=,comm="
result = box.command("/bin/sh", "-c", script).output()
print(result.stdout.decode(), end="")
print(f"exit code: {result.returncode}")
