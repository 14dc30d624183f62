// Custom mounts: a read-only and a read-write bind of host directories, a tmpfs, a
// minimal /dev, and a directory, a file and a symbolic link created in the new root.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	hakoniwa "hakoniwa.example/bindings-go"
)

func main() {
	host, err := os.MkdirTemp("", "hakoniwa-mounts-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(host)
	if err := os.Mkdir(filepath.Join(host, "out"), 0o755); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(host, "input.txt"), []byte("hello from the host\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	// Mounts are applied in order (docs/container.md); json.Marshal quotes the host paths.
	doc, _ := json.Marshal(map[string]interface{}{
		"version": 1,
		"rootfs":  "/",
		"mounts": []map[string]interface{}{
			{"type": "bind", "source": host, "target": "/data"}, // recursively read-only
			{"type": "bind", "source": filepath.Join(host, "out"), "target": "/out", "readonly": false},
			{"type": "tmpfs", "target": "/tmp"},
			{"type": "devfs", "target": "/dev"}, // null, zero, full, random, urandom, tty, pts, shm
			{"type": "dir", "target": "/work", "mode": 0o755},
			{"type": "file", "target": "/config/greeting.txt", "contents": "hello from the config\n"},
			{"type": "symlink", "original": "/data/input.txt", "target": "/input"},
		},
	})
	c, err := hakoniwa.FromJSON(string(doc))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	cmd, err := c.Command("/bin/sh", "-c", "cat /input /config/greeting.txt; echo written > /out/result.txt; "+
		"touch /data/x 2>/dev/null || echo /data is read-only; echo scratch > /tmp/s && cat /tmp/s; ls /")
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	out, err := cmd.Output()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(out))
	result, err := os.ReadFile(filepath.Join(host, "out", "result.txt"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("host sees: %s", result)
}
