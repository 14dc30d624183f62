"""Landlock: after the mounts, restrict the filesystem to reading and executing /usr and
reading and writing /tmp; everything else is denied, whatever the mounts allow. Needs a
kernel with landlock."""
import hakoniwa

box = (
    hakoniwa.Container()
    .rootfs("/")
    .tmpfsmount("/tmp")
    # Fails with SetupError if the kernel cannot (best_effort=True would not).
    # /bin and /lib are symbolic links into /usr.
    .landlock(rx=["/usr"], rw=["/tmp"])
)
script = "echo kept > /tmp/note && cat /tmp/note; ls /etc 2>&1"
result = box.command("/bin/sh", "-c", script).output()
landlock = result.status.enforcement.landlock  # what the sandbox enforced
assert landlock is not None
print("landlock ABI", landlock["abi"])
print(result.stdout.decode(), end="")
