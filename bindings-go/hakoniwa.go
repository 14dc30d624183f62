// Package hakoniwa runs programs in Linux sandboxes through libhakoniwa (the C ABI of
// hakoniwa): a Container describes the sandbox, a Cmd runs a program in it.
//
//	c := hakoniwa.New()
//	defer c.Close()
//	if err := c.Rootfs("/"); err != nil { ... }
//	out, err := c.Command("/bin/echo", "hi").Output()
//
// Every call locks the goroutine to its OS thread while it reads the library's
// per-thread last error, so errors are never mixed up between goroutines. A Container
// may be used by many goroutines at once once configured; a Cmd by one at a time.
package hakoniwa

// #cgo pkg-config: hakoniwa
// #include <stdlib.h>
// #include <hakoniwa.h>
import "C"

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"
)

// Error is a failure reported by the library, with the setup stage, path and errno when
// it has them.
type Error struct {
	Code    int    // HAKONIWA_ERROR_* (negative)
	Message string // what happened
	Stage   string // setup stage, e.g. "mount_source", "exec", "config"; "" if none
	Path    string // the path, limit or rule concerned; "" if none
	Errno   int    // positive errno, or 0
}

func (e *Error) Error() string { return "hakoniwa: " + e.Message }

// call runs f on a locked OS thread and turns a negative result into an *Error.
func call(f func() C.int) (int, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	rc := f()
	if rc >= 0 {
		return int(rc), nil
	}
	e := &Error{Code: int(rc), Errno: int(C.hakoniwa_last_error_errno())}
	if m := C.hakoniwa_last_error_message(); m != nil {
		e.Message = C.GoString(m)
	}
	if s := C.hakoniwa_last_error_stage(); s != nil {
		e.Stage = C.GoString(s)
	}
	if p := C.hakoniwa_last_error_path(); p != nil {
		e.Path = C.GoString(p)
	}
	return int(rc), e
}

func withCString(s string, f func(*C.char) C.int) (int, error) {
	cs := C.CString(s)
	defer C.free(unsafe.Pointer(cs))
	return call(func() C.int { return f(cs) })
}

// Container is a sandbox configuration (see the C header for every option).
type Container struct{ c *C.hakoniwa_container_t }

// New returns a container with new user, mount and PID namespaces and an empty root.
func New() *Container {
	c := &Container{c: C.hakoniwa_container_new()}
	runtime.SetFinalizer(c, (*Container).Close)
	return c
}

// FromJSON returns a container described by a JSON document (docs/container.md).
func FromJSON(doc string) (*Container, error) {
	var p *C.hakoniwa_container_t
	if _, err := withCString(doc, func(s *C.char) C.int { return C.hakoniwa_container_from_json(s, &p) }); err != nil {
		return nil, err
	}
	c := &Container{c: p}
	runtime.SetFinalizer(c, (*Container).Close)
	return c, nil
}

// Close frees the container (commands made from it keep their own copy).
func (c *Container) Close() {
	if c.c != nil {
		C.hakoniwa_container_free(c.c)
		c.c = nil
	}
}

// Rootfs populates the root from a directory ("/" binds the host's system directories).
func (c *Container) Rootfs(dir string) error {
	_, err := withCString(dir, func(s *C.char) C.int { return C.hakoniwa_container_rootfs(c.c, s) })
	return err
}

// BindReadOnly binds a host path read-only at target.
func (c *Container) BindReadOnly(source, target string) error {
	cs := C.CString(source)
	defer C.free(unsafe.Pointer(cs))
	_, err := withCString(target, func(t *C.char) C.int { return C.hakoniwa_container_bindmount_ro(c.c, cs, t) })
	return err
}

// Tmpfs mounts a new tmpfs at target.
func (c *Container) Tmpfs(target string) error {
	_, err := withCString(target, func(t *C.char) C.int { return C.hakoniwa_container_tmpfsmount(c.c, t, 0, 0) })
	return err
}

// Command returns a command running name with args in a copy of the container.
func (c *Container) Command(name string, args ...string) (*Cmd, error) {
	var p *C.hakoniwa_command_t
	if _, err := withCString(name, func(s *C.char) C.int { return C.hakoniwa_command_new(c.c, s, &p) }); err != nil {
		return nil, err
	}
	runtime.KeepAlive(c)
	cmd := &Cmd{cmd: p}
	runtime.SetFinalizer(cmd, (*Cmd).Close)
	for _, a := range args {
		if _, err := withCString(a, func(s *C.char) C.int { return C.hakoniwa_command_arg(p, s) }); err != nil {
			cmd.Close()
			return nil, err
		}
	}
	return cmd, nil
}

// Cmd is a program to run in a sandbox; it may be run several times.
type Cmd struct{ cmd *C.hakoniwa_command_t }

// Close frees the command.
func (cmd *Cmd) Close() {
	if cmd.cmd != nil {
		C.hakoniwa_command_free(cmd.cmd)
		cmd.cmd = nil
	}
}

// Env sets an environment variable (the environment starts empty).
func (cmd *Cmd) Env(key, value string) error {
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	_, err := withCString(value, func(v *C.char) C.int { return C.hakoniwa_command_env(cmd.cmd, ck, v) })
	return err
}

// WaitTimeout sets a wall-clock limit: the sandbox is killed when it expires.
func (cmd *Cmd) WaitTimeout(d time.Duration) error {
	_, err := call(func() C.int { return C.hakoniwa_command_wait_timeout(cmd.cmd, C.uint64_t(d.Milliseconds())) })
	return err
}

// Status is how the program ended.
type Status struct {
	Reason   uint32 // HAKONIWA_EXIT_*
	ExitCode int    // -1 when a signal ended it
	Signal   int    // 0 unless a signal ended it
	Code     int    // exit code, or 128 + signal
	JSON     string // the --json-status document
}

// Success reports whether the program exited with code 0.
func (s *Status) Success() bool { return s.ExitCode == 0 }

// ExitError is returned by Output when the program did not exit with 0.
type ExitError struct {
	Status *Status
	Stderr []byte
}

func (e *ExitError) Error() string {
	if e.Status.Signal != 0 {
		return fmt.Sprintf("hakoniwa: program killed by signal %d", e.Status.Signal)
	}
	return fmt.Sprintf("hakoniwa: program exited with %d", e.Status.ExitCode)
}

func takeStatus(st *C.hakoniwa_status_t) *Status {
	defer C.hakoniwa_status_free(st)
	s := &Status{
		Reason:   uint32(C.hakoniwa_status_reason(st)),
		ExitCode: int(C.hakoniwa_status_exit_code(st)),
		Signal:   int(C.hakoniwa_status_signal(st)),
		Code:     int(C.hakoniwa_status_code(st)),
	}
	var js *C.char
	var n C.size_t
	if C.hakoniwa_status_to_json(st, &js, &n) == 0 {
		s.JSON = C.GoStringN(js, C.int(n))
		C.hakoniwa_string_free(js)
	}
	return s
}

func takeBuffer(p *C.uint8_t, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	b := C.GoBytes(unsafe.Pointer(p), C.int(n))
	C.hakoniwa_buffer_free(p, n)
	return b
}

// Output runs the program, capturing stdout (returned) and stderr (in an *ExitError when
// the program fails). stdin is /dev/null.
func (cmd *Cmd) Output() ([]byte, error) {
	var st *C.hakoniwa_status_t
	var out, errb *C.uint8_t
	var outLen, errLen C.size_t
	_, err := call(func() C.int {
		return C.hakoniwa_command_output(cmd.cmd, &st, &out, &outLen, &errb, &errLen)
	})
	runtime.KeepAlive(cmd)
	if err != nil {
		return nil, err
	}
	stdout, stderr := takeBuffer(out, outLen), takeBuffer(errb, errLen)
	s := takeStatus(st)
	if !s.Success() {
		return stdout, &ExitError{Status: s, Stderr: stderr}
	}
	return stdout, nil
}

// Run runs the program with inherited streams and returns its status.
func (cmd *Cmd) Run() (*Status, error) {
	var st *C.hakoniwa_status_t
	_, err := call(func() C.int { return C.hakoniwa_command_status(cmd.cmd, &st) })
	runtime.KeepAlive(cmd)
	if err != nil {
		return nil, err
	}
	return takeStatus(st), nil
}

// Version is the library's version.
func Version() string { return C.GoString(C.hakoniwa_version()) }

// Process is a started sandboxed program.
type Process struct{ ch *C.hakoniwa_child_t }

// Start starts the program with inherited streams (stdin, stdout, stderr of this process).
func (cmd *Cmd) Start() (*Process, error) {
	var ch *C.hakoniwa_child_t
	_, err := call(func() C.int { return C.hakoniwa_command_spawn(cmd.cmd, &ch) })
	runtime.KeepAlive(cmd)
	if err != nil {
		return nil, err
	}
	p := &Process{ch: ch}
	runtime.SetFinalizer(p, (*Process).Close)
	return p, nil
}

// Pid is the program's pid as this process sees it.
func (p *Process) Pid() int {
	pid, _ := call(func() C.int { return C.hakoniwa_child_pid(p.ch) })
	runtime.KeepAlive(p)
	return pid
}

// Kill kills the whole sandbox. It may be called while another goroutine waits.
func (p *Process) Kill() error {
	_, err := call(func() C.int { return C.hakoniwa_child_kill(p.ch) })
	runtime.KeepAlive(p)
	return err
}

// Wait waits for the program to end.
func (p *Process) Wait() (*Status, error) {
	var st *C.hakoniwa_status_t
	_, err := call(func() C.int { return C.hakoniwa_child_wait(p.ch, &st) })
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	return takeStatus(st), nil
}

// Close releases the process handle, killing and reaping the sandbox if it still runs.
// No other goroutine may use the process during or after Close.
func (p *Process) Close() {
	if p.ch != nil {
		C.hakoniwa_child_free(p.ch)
		p.ch = nil
	}
}
