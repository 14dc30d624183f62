// Seccomp: the default profile (Podman's decisions) applies unless changed; here an OCI
// JSON profile allows everything except mkdir (fails with EPERM) and uname (kills).
package main

import (
	"errors"
	"fmt"
	"log"

	hakoniwa "hakoniwa.example/bindings-go"
)

// The OCI profile goes inside the container description, under "seccomp"; the name only
// appears in messages and the status.
const container = `{
	"version": 1,
	"rootfs": "/",
	"mounts": [{"type": "tmpfs", "target": "/tmp"}],
	"seccomp": {"name": "example.json", "oci": {
		"defaultAction": "SCMP_ACT_ALLOW",
		"syscalls": [
			{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1},
			{"names": ["uname"], "action": "SCMP_ACT_KILL_PROCESS"}
		]
	}}
}`

func main() {
	c, err := hakoniwa.FromJSON(container)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	mkdir, err := c.Command("/bin/mkdir", "/tmp/dir")
	if err != nil {
		log.Fatal(err)
	}
	defer mkdir.Close()
	var failed *hakoniwa.ExitError // the program ran and exited with a non-zero code
	if _, err := mkdir.Output(); !errors.As(err, &failed) {
		log.Fatalf("mkdir did not fail: %v", err)
	}
	fmt.Printf("mkdir: %s", failed.Stderr)

	uname, err := c.Command("/bin/uname")
	if err != nil {
		log.Fatal(err)
	}
	defer uname.Close()
	status, err := uname.Run()
	if err != nil {
		log.Fatal(err)
	}
	if status.Reason != hakoniwa.SeccompViolation {
		log.Fatalf("uname ended for reason %d", status.Reason)
	}
	fmt.Printf("uname: seccomp_violation, signal %d\n", status.Signal)
}
