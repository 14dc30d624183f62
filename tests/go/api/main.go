// The failure modes of the binding's stream and descriptor calls: each is an *hakoniwa.Error
// with a message naming the problem, and nothing is left running.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	hakoniwa "hakoniwa.example/bindings-go"
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go api: "+format+"\n", args...)
	os.Exit(1)
}

// wantError checks that err is an *hakoniwa.Error whose message contains part.
func wantError(what string, err error, part string) {
	var e *hakoniwa.Error
	if !errors.As(err, &e) {
		fail("%s: want an *hakoniwa.Error, got %v", what, err)
	}
	if !strings.Contains(e.Message, part) {
		fail("%s: the message %q does not mention %q", what, e.Message, part)
	}
}

func main() {
	c := hakoniwa.New()
	defer c.Close()
	if err := c.Rootfs("/"); err != nil {
		fail("%v", err)
	}
	cmd, err := c.Command("/bin/cat")
	if err != nil {
		fail("%v", err)
	}
	defer cmd.Close()

	r, w, err := os.Pipe()
	if err != nil {
		fail("%v", err)
	}
	// The target is checked at once.
	onto1, err := c.Command("/bin/true")
	if err != nil {
		fail("%v", err)
	}
	defer onto1.Close()
	wantError("ExtraFile onto stdout", onto1.ExtraFile(w, 1), "target descriptor 1 must be 3 or higher")
	wantError("Pipe of stream 7", cmd.Pipe(7), "stream")

	if err := cmd.Pipe(hakoniwa.Stdin); err != nil {
		fail("%v", err)
	}
	if err := cmd.Pipe(hakoniwa.Stdout); err != nil {
		fail("%v", err)
	}
	p, err := cmd.Start()
	if err != nil {
		fail("%v", err)
	}
	defer p.Close()
	_, err = p.Pipe(hakoniwa.Stderr) // not piped: inherited
	wantError("Pipe of an inherited stream", err, "not piped")
	stdin, err := p.Pipe(hakoniwa.Stdin)
	if err != nil {
		fail("%v", err)
	}
	_, err = p.Pipe(hakoniwa.Stdin) // taken already
	wantError("Pipe taken twice", err, "taken")
	stdout, err := p.Pipe(hakoniwa.Stdout)
	if err != nil {
		fail("%v", err)
	}
	stdin.WriteString("echoed\n")
	stdin.Close()
	out, err := io.ReadAll(stdout)
	stdout.Close()
	if err != nil || string(out) != "echoed\n" {
		fail("cat gave %q, %v", out, err)
	}
	if st, err := p.Wait(); err != nil || !st.Success() {
		fail("cat ended with %+v, %v", st, err)
	}
	r.Close()
	w.Close()
	signals(c)
	fmt.Println("go api: the stream and descriptor errors name their problem; signals reach the program")
}

// signals: SIGSTOP and SIGCONT from this goroutine while another one waits, then SIGTERM
// ends the program; a signal that is not a syscall.Signal, or not one of Linux's, is an
// error.
func signals(c *hakoniwa.Container) {
	cmd, err := c.Command("/bin/sleep", "30")
	if err != nil {
		fail("%v", err)
	}
	defer cmd.Close()
	if err := cmd.WaitTimeout(20 * time.Second); err != nil { // never hangs
		fail("%v", err)
	}
	p, err := cmd.Start()
	if err != nil {
		fail("%v", err)
	}
	defer p.Close()
	done := make(chan *hakoniwa.Status)
	go func() {
		st, err := p.Wait()
		if err != nil {
			fail("wait: %v", err)
		}
		done <- st
	}()
	for _, s := range []syscall.Signal{syscall.SIGSTOP, syscall.SIGCONT, syscall.SIGTERM} {
		if err := p.Signal(s); err != nil {
			fail("Signal(%v): %v", s, err)
		}
	}
	wantError("Signal(os.Interrupt-like non-syscall signal)", p.Signal(fakeSignal{}), "unsupported signal")
	wantError("Signal(65)", p.Signal(syscall.Signal(65)), "65")
	if st := <-done; st.Signal != int(syscall.SIGTERM) {
		fail("the program ended with %+v, not SIGTERM", st)
	}
	if err := p.Signal(syscall.SIGSTOP); err != nil { // after the end: no effect
		fail("Signal after the end: %v", err)
	}
}

type fakeSignal struct{}

func (fakeSignal) String() string { return "fake" }
func (fakeSignal) Signal()        {}
