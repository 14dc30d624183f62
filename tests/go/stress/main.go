// 200 sandboxes from 16 goroutines at once, twice, through libhakoniwa from Go (a heavily
// multithreaded host): every output is checked, and afterwards no descriptor, child
// process or library thread may be left over.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	hakoniwa "hakoniwa.example/bindings-go"
)

const (
	sandboxes  = 200
	goroutines = 16
)

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "go stress: "+format+"\n", args...)
	os.Exit(1)
}

func fds() int {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		fail("%v", err)
	}
	return len(entries)
}

// threads counts this process's threads, and those the library started (named hakoniwa-*).
func threads() (all, library int) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		fail("%v", err)
	}
	for _, t := range tasks {
		comm, _ := os.ReadFile("/proc/self/task/" + t.Name() + "/comm")
		if strings.HasPrefix(string(comm), "hakoniwa-") {
			library++
		}
	}
	return len(tasks), library
}

// children counts processes whose parent is this process.
func children() int {
	self := strconv.Itoa(os.Getpid())
	procs, _ := os.ReadDir("/proc")
	n := 0
	for _, p := range procs {
		if _, err := strconv.Atoi(p.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == self {
			n++
		}
	}
	return n
}

func round(c *hakoniwa.Container) {
	var wg sync.WaitGroup
	jobs := make(chan int)
	errs := make(chan error, sandboxes)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				cmd, err := c.Command("/bin/sh", "-c", `echo "$N:$$"`)
				if err != nil {
					errs <- err
					continue
				}
				if err := cmd.Env("N", strconv.Itoa(i)); err != nil {
					errs <- err
				}
				out, err := cmd.Output()
				cmd.Close()
				want := fmt.Sprintf("%d:2\n", i) // its own number, as PID 2 of its namespace (after the init)
				if err != nil {
					errs <- fmt.Errorf("sandbox %d: %w", i, err)
				} else if string(out) != want {
					errs <- fmt.Errorf("sandbox %d: output %q, want %q", i, out, want)
				}
			}
		}()
	}
	for i := 0; i < sandboxes; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	close(errs)
	for err := range errs {
		fail("%v", err)
	}
}

func main() {
	c := hakoniwa.New()
	defer c.Close()
	if err := c.Rootfs("/"); err != nil {
		fail("%v", err)
	}
	fds0 := fds()
	start := time.Now()
	round(c)
	fds1, children1 := fds(), children()
	threads1, lib1 := threads()
	round(c)
	fds2, children2 := fds(), children()
	threads2, lib2 := threads()
	fmt.Printf("go stress: %d sandboxes from %d goroutines in %v; fds %d/%d/%d, threads %d/%d (library %d/%d), children %d/%d\n",
		2*sandboxes, goroutines, time.Since(start).Round(time.Millisecond), fds0, fds1, fds2,
		threads1, threads2, lib1, lib2, children1, children2)
	// The library keeps a fixed set of descriptors and threads for its helpers: a pool of
	// spawner threads (one per spawn running at the same time on a thread other than the
	// main one, kept for reuse; it grows to the largest number of spawns that overlapped),
	// the exit-hook notifier. However many rounds run, it stays bounded by the goroutines
	// spawning at once.
	if fds2 != fds1 || fds1 > fds0+4 {
		fail("descriptors leaked: %d before, %d after one round, %d after two", fds0, fds1, fds2)
	}
	if lib1 > goroutines+2 || lib2 > goroutines+2 {
		fail("library threads: %d after one round, %d after two", lib1, lib2)
	}
	// Go keeps idle OS threads for cgo calls; their number is bounded by the goroutines.
	if threads2 > threads1+goroutines/2 {
		fail("threads grew from %d to %d", threads1, threads2)
	}
	if children1 != 0 || children2 != 0 {
		fail("child processes left: %d, %d", children1, children2)
	}

	// A failure reaches Go as a typed error with its stage (checked on this goroutine
	// while others ran in the rounds above, so the per-thread last error did not mix).
	cmd, err := c.Command("/no/such/program")
	if err != nil {
		fail("%v", err)
	}
	_, err = cmd.Output()
	var he *hakoniwa.Error
	if !errors.As(err, &he) || he.Stage != "exec" || he.Errno != int(syscall.ENOENT) {
		fail("missing program: %#v", err)
	}
	cmd.Close()

	// A goroutine waits for a long sleep while this one kills it.
	sleeper, err := c.Command("/bin/sleep", "30")
	if err != nil {
		fail("%v", err)
	}
	p, err := sleeper.Start()
	if err != nil {
		fail("%v", err)
	}
	done := make(chan *hakoniwa.Status)
	go func() {
		st, err := p.Wait()
		if err != nil {
			fail("wait: %v", err)
		}
		done <- st
	}()
	time.Sleep(100 * time.Millisecond)
	if err := p.Kill(); err != nil {
		fail("kill: %v", err)
	}
	if st := <-done; st.Signal != 9 {
		fail("killed sleeper: signal %d", st.Signal)
	}
	p.Close()
	sleeper.Close()
	fmt.Println("go stress: ok")
}
