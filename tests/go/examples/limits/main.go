// Limits: resource limits (setrlimit) and a wall-clock limit, and how the status reports
// which one ended the program.
package main

import (
	"fmt"
	"log"
	"time"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	// Open files: soft = hard = 64. CPU seconds: SIGXCPU at the soft limit, SIGKILL at the hard one.
	c, err := hakoniwa.FromJSON(`{"version": 1, "rootfs": "/", "rlimits": {"nofile": 64, "cpu": [1, 2]}}`)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	command := func(name string, args ...string) *hakoniwa.Cmd {
		cmd, err := c.Command(name, args...)
		if err != nil {
			log.Fatal(err)
		}
		return cmd
	}

	limit := command("/bin/sh", "-c", "ulimit -n")
	defer limit.Close()
	out, err := limit.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print("open files: ", string(out))

	busy := command("/bin/sh", "-c", "while :; do :; done")
	defer busy.Close()
	status, err := busy.Run()
	if err != nil {
		log.Fatal(err)
	}
	if status.Reason != hakoniwa.CPUTimeExceeded {
		log.Fatalf("the busy loop ended for reason %d", status.Reason)
	}
	fmt.Println("busy loop: cpu_time_exceeded")

	sleeper := command("/bin/sleep", "60")
	defer sleeper.Close()
	if err := sleeper.WaitTimeout(300 * time.Millisecond); err != nil { // the whole sandbox is killed
		log.Fatal(err)
	}
	status, err = sleeper.Run()
	if err != nil {
		log.Fatal(err)
	}
	if status.Reason != hakoniwa.WallTimeExceeded {
		log.Fatalf("sleep ended for reason %d", status.Reason)
	}
	fmt.Printf("sleep 60: wall_time_exceeded, code %d\n", status.Code)
}
