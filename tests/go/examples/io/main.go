// Handling I/O: capture output, feed stdin through a pipe, and pass an extra descriptor.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"os"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	c := hakoniwa.New()
	defer c.Close()
	if err := c.Rootfs("/"); err != nil {
		log.Fatal(err)
	}
	command := func(name string, args ...string) *hakoniwa.Cmd {
		cmd, err := c.Command(name, args...)
		if err != nil {
			log.Fatal(err)
		}
		return cmd
	}

	// Output: stdout returned, stderr in the *ExitError of a failed program, stdin /dev/null.
	both := command("/bin/sh", "-c", "echo to stdout; echo to stderr >&2; exit 3")
	defer both.Close()
	out, err := both.Output()
	var failed *hakoniwa.ExitError
	if !errors.As(err, &failed) {
		log.Fatalf("expected an exit code: %v", err)
	}
	fmt.Printf("captured: %s", out)
	fmt.Printf("captured: %s", failed.Stderr)
	fmt.Printf("code: %d\n", failed.Status.ExitCode)

	// Start with pipes: write to its stdin, read its stdout.
	tr := command("/usr/bin/tr", "a-z", "A-Z")
	defer tr.Close()
	if err := tr.Pipe(hakoniwa.Stdin); err != nil {
		log.Fatal(err)
	}
	if err := tr.Pipe(hakoniwa.Stdout); err != nil {
		log.Fatal(err)
	}
	p, err := tr.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()
	stdin, err := p.Pipe(hakoniwa.Stdin)
	if err != nil {
		log.Fatal(err)
	}
	stdout, err := p.Pipe(hakoniwa.Stdout)
	if err != nil {
		log.Fatal(err)
	}
	stdin.WriteString("shout\n")
	stdin.Close() // end-of-file
	shouted, err := io.ReadAll(stdout)
	stdout.Close()
	if err != nil {
		log.Fatal(err)
	}
	if _, err := p.Wait(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("tr: %s", shouted)

	// ExtraFile: the write end of a host pipe becomes descriptor 3 of the program.
	r, w, err := os.Pipe()
	if err != nil {
		log.Fatal(err)
	}
	viaFd := command("/bin/sh", "-c", "echo through fd 3 >&3")
	if err := viaFd.ExtraFile(w, 3); err != nil {
		log.Fatal(err)
	}
	w.Close() // the command holds its own copy until Close
	if _, err := viaFd.Run(); err != nil {
		log.Fatal(err)
	}
	viaFd.Close() // now the program's and the command's copies are gone: end-of-file
	got, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("fd 3: %s", got)
}
