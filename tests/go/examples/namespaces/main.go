// Namespaces: the program is PID 2 of its own PID namespace (under the sandbox's init,
// PID 1) and uid 0 of its own user namespace, with its own host name (UTS) and IPC namespace.
// The container is described in JSON (docs/container.md).
package main

import (
	"fmt"
	"log"
	"os"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	// New user, mount and PID namespaces and /proc are the default; the host's /usr, /bin,
	// /lib*, /etc, /sbin read-only; the caller's uid and gid appear as 0 inside.
	c, err := hakoniwa.FromJSON(fmt.Sprintf(`{
		"version": 1,
		"rootfs": "/",
		"namespaces": ["ipc"],
		"hostname": "sandbox",
		"uidmaps": [[0, %d, 1]],
		"gidmaps": [[0, %d, 1]]
	}`, os.Getuid(), os.Getgid()))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	cmd, err := c.Command("/bin/sh", "-c", "echo pid=$$ uid=$(id -u) host=$(uname -n); ps -e -o pid=,comm=")
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	status, err := cmd.Run() // streams inherited: the shell writes to our stdout
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("exit code: %d\n", status.Code)
}
