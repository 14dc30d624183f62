"""Limits: resource limits (setrlimit) and a wall-clock limit, and how the status reports
which one ended the program."""
import hakoniwa

box = (
    hakoniwa.Container()
    .rootfs("/")
    .setrlimit("nofile", 64)  # soft = hard
    .setrlimit("cpu", 1, 2)  # seconds of CPU: SIGXCPU at the soft limit, SIGKILL at the hard one
)
result = box.command("/bin/sh", "-c", "ulimit -n").output()
print("open files:", result.stdout.decode(), end="")

busy = box.command("/bin/sh", "-c", "while :; do :; done").status()
assert busy.reason == "cpu_time_exceeded", busy
print("busy loop:", busy.reason)

# The whole sandbox is killed after 0.3 s.
sleeper = box.command("/bin/sleep", "60").wait_timeout(0.3).status()
print(f"sleep 60: {sleeper.reason}, code {sleeper.code}")
