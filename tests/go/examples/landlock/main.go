// Landlock: after the mounts, restrict the filesystem to reading and executing /usr and
// reading and writing /tmp; everything else is denied, whatever the mounts allow. Needs a
// kernel with landlock.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	// "enforce": fail if the kernel cannot restrict the filesystem. /bin and /lib are
	// symbolic links into /usr.
	c, err := hakoniwa.FromJSON(`{
		"version": 1,
		"rootfs": "/",
		"mounts": [{"type": "tmpfs", "target": "/tmp"}],
		"landlock": {
			"restrict": {"fs": "enforce"},
			"fs_rules": [{"path": "/usr", "access": "rx"}, {"path": "/tmp", "access": "rw"}]
		}
	}`)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	cmd, err := c.Command("/bin/sh", "-c", "echo kept > /tmp/note && cat /tmp/note; ls /etc 2>&1")
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	if err := cmd.Pipe(hakoniwa.Stdout); err != nil {
		log.Fatal(err)
	}
	p, err := cmd.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	stdout, err := p.Pipe(hakoniwa.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	out, err := io.ReadAll(stdout)
	stdout.Close()
	if err != nil {
		log.Fatal(err)
	}
	status, err := p.Wait()
	if err != nil {
		log.Fatal(err)
	}
	// What the sandbox enforced is in the status document (docs/status.schema.json).
	var enforced struct {
		Landlock struct{ ABI int } // matched case-insensitively to "landlock": {"abi": N, ...}
	}
	if err := json.Unmarshal([]byte(status.JSON), &enforced); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("landlock ABI %d\n", enforced.Landlock.ABI)
	fmt.Print(string(out))
}
