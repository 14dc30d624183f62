// Package hakoniwa runs programs in Linux sandboxes through libhakoniwa (the C ABI of
// hakoniwa): a Container describes the sandbox, a Cmd runs a program in it.
//
//	c := hakoniwa.New()
//	defer c.Close()
//	if err := c.Rootfs("/"); err != nil { ... }
//	cmd, err := c.Command("/bin/echo", "hi")
//	if err != nil { ... }
//	defer cmd.Close()
//	out, err := cmd.Output()
//
// FromJSON describes a whole container in one JSON document (docs/container.md): every
// option of the library. docs/go.md has a complete program per capability.
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
	"os"
	"runtime"
	"syscall"
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

// The standard streams, for Cmd.Pipe and Process.Pipe.
const (
	Stdin  = C.HAKONIWA_STDIN
	Stdout = C.HAKONIWA_STDOUT
	Stderr = C.HAKONIWA_STDERR
)

// Pipe connects the program's stream (Stdin, Stdout or Stderr) to a pipe; after Start,
// Process.Pipe gives this process's end. Without it Start and Run inherit the stream.
func (cmd *Cmd) Pipe(stream int) error {
	_, err := call(func() C.int {
		return C.hakoniwa_command_stdio(cmd.cmd, C.uint32_t(stream), C.HAKONIWA_STDIO_PIPE, -1)
	})
	return err
}

// ExtraFile passes f to the program as descriptor target (3 or more; a smaller one is an
// *Error at once, use Pipe for the standard streams). The command keeps a
// duplicate of f until Close: close the command, and your own f, before waiting for
// end-of-file on the other end of a pipe.
func (cmd *Cmd) ExtraFile(f *os.File, target int) error {
	_, err := call(func() C.int {
		return C.hakoniwa_command_preserve_fd(cmd.cmd, C.int(f.Fd()), C.int(target))
	})
	runtime.KeepAlive(f)
	return err
}

// Why the program ended (Status.Reason).
const (
	Exited           uint32 = C.HAKONIWA_EXIT_EXITED
	Signaled         uint32 = C.HAKONIWA_EXIT_SIGNALED
	WallTimeExceeded uint32 = C.HAKONIWA_EXIT_WALL_TIME_EXCEEDED
	CPUTimeExceeded  uint32 = C.HAKONIWA_EXIT_CPU_TIME_EXCEEDED
	FileSizeExceeded uint32 = C.HAKONIWA_EXIT_FILE_SIZE_EXCEEDED
	SeccompViolation uint32 = C.HAKONIWA_EXIT_SECCOMP_VIOLATION
)

// Status is how the program ended.
type Status struct {
	Reason   uint32 // Exited, Signaled, WallTimeExceeded, ...
	ExitCode int    // -1 when a signal ended it
	Signal   int    // 0 unless a signal ended it
	Code     int    // exit code, or 128 + signal
	Usage    Usage  // what the program used
	JSON     string // the --json-status document (also what the sandbox enforced)
}

// Usage is what the program used, from the status.
type Usage struct {
	RealTime, UserTime, SystemTime         time.Duration
	MaxRSSKB                               uint64 // the program's own peak; 0 if unknown
	MinorFaults, MajorFaults               uint64
	VoluntarySwitches, InvoluntarySwitches uint64
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
	u := C.hakoniwa_usage_t{size: C.uint32_t(unsafe.Sizeof(C.hakoniwa_usage_t{}))}
	if C.hakoniwa_status_usage(st, &u) == 0 {
		s.Usage = Usage{
			RealTime:            time.Duration(u.real_time_us) * time.Microsecond,
			UserTime:            time.Duration(u.user_time_us) * time.Microsecond,
			SystemTime:          time.Duration(u.system_time_us) * time.Microsecond,
			MaxRSSKB:            uint64(u.max_rss_kb),
			MinorFaults:         uint64(u.minor_faults),
			MajorFaults:         uint64(u.major_faults),
			VoluntarySwitches:   uint64(u.voluntary_switches),
			InvoluntarySwitches: uint64(u.involuntary_switches),
		}
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

// Start starts the program; its streams are this process's stdin, stdout and stderr unless
// connected with Pipe.
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

// Pipe takes this process's end of a stream connected with Cmd.Pipe; the file is the
// caller's to close (closing Stdin's gives the program end-of-file).
func (p *Process) Pipe(stream int) (*os.File, error) {
	fd, err := call(func() C.int { return C.hakoniwa_child_take_stdio(p.ch, C.uint32_t(stream)) })
	runtime.KeepAlive(p)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), fmt.Sprintf("hakoniwa-stream-%d", stream)), nil
}

// Kill kills the whole sandbox. It may be called while another goroutine waits.
func (p *Process) Kill() error {
	_, err := call(func() C.int { return C.hakoniwa_child_kill(p.ch) })
	runtime.KeepAlive(p)
	return err
}

// Signal sends sig (a syscall.Signal, 1 to 64) to the program, as os.Process.Signal does.
// The sandbox's init forwards signals in the order sent: syscall.SIGSTOP stops the
// program, syscall.SIGCONT continues it, and SIGKILL ends the whole sandbox. Once the
// program has ended, signals have no effect. It may be called while another goroutine
// waits.
func (p *Process) Signal(sig os.Signal) error {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return &Error{Code: int(C.HAKONIWA_ERROR_INVALID_ARGUMENT), Message: fmt.Sprintf("unsupported signal %v", sig)}
	}
	_, err := call(func() C.int { return C.hakoniwa_child_signal(p.ch, C.int(s)) })
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
