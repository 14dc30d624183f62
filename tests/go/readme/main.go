// The README's Go example: run a shell command in a sandbox and print what it wrote.
package main

import (
	"fmt"
	"log"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	c := hakoniwa.New() // user, mount and PID namespaces
	defer c.Close()
	if err := c.Rootfs("/"); err != nil { // host /usr, /bin, ... read-only
		log.Fatal(err)
	}
	cmd, err := c.Command("/bin/sh", "-c", "echo hello from pid $$")
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	out, err := cmd.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out)) // hello from pid 2 (PID 1 is the sandbox's init)
}
