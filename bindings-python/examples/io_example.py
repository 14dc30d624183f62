"""Handling I/O: capture output, feed stdin through a pipe, and pass an extra descriptor."""
import os
import subprocess

import hakoniwa

box = hakoniwa.Container().rootfs("/")

# output(): stdout and stderr captured (drained together), stdin is /dev/null.
result = box.command("/bin/sh", "-c", "echo to stdout; echo to stderr >&2; exit 3").output()
print("captured:", result.stdout.decode(), end="")
print("captured:", result.stderr.decode(), end="")
print("code:", result.returncode)

# Popen with pipes: write to its stdin, read its stdout (communicate closes stdin: EOF).
with hakoniwa.Popen(["/usr/bin/tr", "a-z", "A-Z"], container=box,
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE) as tr:
    shouted, _ = tr.communicate(b"shout\n")
print("tr:", shouted.decode(), end="")

# pass_fds: the write end of a host pipe is passed under its own number (as in subprocess).
reader, writer = os.pipe()
script = f"echo through fd {writer} >&{writer}"
hakoniwa.run(["/bin/sh", "-c", script], container=box, pass_fds=[writer])
os.close(writer)  # the program's copy closed at its exit: the reader sees end-of-file
with os.fdopen(reader) as r:
    print(f"fd {writer}:", r.read(), end="")
