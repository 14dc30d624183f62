// Reading usage figures: times, the program's own peak memory, page faults and context
// switches from the status, and how long each setup step took.
package main

import (
	"encoding/json"
	"fmt"
	"log"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	// perl -e reads /dev/null.
	c, err := hakoniwa.FromJSON(`{"version": 1, "rootfs": "/", "mounts": [{"type": "devfs", "target": "/dev"}]}`)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	// perl builds a 64 MiB string: the program's peak resident size is at least that.
	cmd, err := c.Command("/usr/bin/perl", "-e", "my $s = 'x' x (64 << 20); print length($s), qq(\\n);")
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	status, err := cmd.Run() // stdout inherited
	if err != nil {
		log.Fatal(err)
	}
	// The setup times are in the status document (docs/status.schema.json).
	var doc struct {
		SetupMs struct{ Total, Mounts float64 } `json:"setup_ms"`
	}
	if err := json.Unmarshal([]byte(status.JSON), &doc); err != nil {
		log.Fatal(err)
	}
	u := status.Usage
	fmt.Printf("exit code: %d\n", status.Code)
	fmt.Printf("setup: %.3f ms (mounts %.3f ms)\n", doc.SetupMs.Total, doc.SetupMs.Mounts)
	fmt.Printf("real: %.6f s\n", u.RealTime.Seconds())
	fmt.Printf("cpu: user %.6f s, system %.6f s\n", u.UserTime.Seconds(), u.SystemTime.Seconds())
	if u.MaxRSSKB != 0 {
		fmt.Printf("peak rss: %d KiB\n", u.MaxRSSKB)
	} else {
		fmt.Println("peak rss: unknown")
	}
	fmt.Printf("faults: %d minor, %d major\n", u.MinorFaults, u.MajorFaults)
	fmt.Printf("context switches: %d voluntary, %d involuntary\n", u.VoluntarySwitches, u.InvoluntarySwitches)
}
