"""Network: "none" is a new network namespace with only lo (up); pasta connects a new
namespace to the host, here forwarding one port of the sandbox's loopback to a server on
the host's loopback (-T PORT). Needs pasta (Debian package passt)."""
import socket
import threading

import hakoniwa

offline = hakoniwa.Container().rootfs("/").network("none")
links = offline.command("/bin/sh", "-c", "ip -o link | cut -d' ' -f2").output()
print("offline:", links.stdout.decode(), end="")

server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen(1)
port = server.getsockname()[1]


def greet() -> None:
    conn, _ = server.accept()
    with conn:
        conn.sendall(b"hello from the host\n")


greeter = threading.Thread(target=greet)
greeter.start()
# The sandbox's 127.0.0.1:PORT is forwarded to the host's.
online = hakoniwa.Container().rootfs("/").network("pasta", "-T", str(port))
script = f"exec 3<>/dev/tcp/127.0.0.1/{port}; cat <&3"
reply = online.command("/bin/bash", "-c", script).output()
greeter.join()
server.close()
print("through pasta:", reply.stdout.decode(), end="")
