// Network: "none" is a new network namespace with only lo (up); pasta connects a new
// namespace to the host, here forwarding one port of the sandbox's loopback to a server on
// the host's loopback (-T PORT). Needs pasta (Debian package passt).
package main

import (
	"fmt"
	"log"
	"net"
	"strconv"

	hakoniwa "hakoniwa.example/bindings-go"
)

// run runs a bash script in a container described by doc and returns what it printed.
func run(doc, script string) string {
	c, err := hakoniwa.FromJSON(doc)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	cmd, err := c.Command("/bin/bash", "-c", script)
	if err != nil {
		log.Fatal(err)
	}
	defer cmd.Close()
	out, err := cmd.Output()
	if err != nil {
		log.Fatal(err)
	}
	return string(out)
}

func main() {
	fmt.Print("offline: ", run(`{"version": 1, "rootfs": "/", "network": "none"}`, "ip -o link | cut -d' ' -f2"))

	server, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer server.Close()
	go func() {
		if conn, err := server.Accept(); err == nil {
			conn.Write([]byte("hello from the host\n"))
			conn.Close()
		}
	}()
	port := strconv.Itoa(server.Addr().(*net.TCPAddr).Port)
	// The sandbox's 127.0.0.1:PORT is forwarded to the host's.
	online := fmt.Sprintf(`{"version": 1, "rootfs": "/", "network": {"pasta": {"args": ["-T", "%s"]}}}`, port)
	fmt.Print("through pasta: ", run(online, "exec 3<>/dev/tcp/127.0.0.1/"+port+"; cat <&3"))
}
