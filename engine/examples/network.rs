//! Network: `Network::None` is a new network namespace with only `lo` (up); pasta connects a
//! new namespace to the host, here forwarding one port of the sandbox's loopback to a
//! server on the host's loopback (`-T PORT`).
//!
//! `cargo run -p hakoniwa-sandbox --example network` (shown in docs/rust.md, run by
//! engine/tests/examples.rs; needs `pasta` from the passt package)
use std::io::Write;
use std::net::TcpListener;

use hakoniwa::{Container, Network, Pasta};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut offline = Container::new();
    offline.rootfs("/").network(Network::None);
    let links = offline.command("/bin/ip").args(["-o", "link"]).output()?;
    for line in String::from_utf8_lossy(&links.stdout).lines() {
        println!("offline: {}", line.split_whitespace().nth(1).unwrap_or("?"));
    }

    let server = TcpListener::bind("127.0.0.1:0")?;
    let port = server.local_addr()?.port().to_string();
    let greeter = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut stream, _) = server.accept()?;
        stream.write_all(b"hello from the host\n")
    });
    let mut online = Container::new();
    online
        .rootfs("/")
        .network(Pasta::default().args(["-T", port.as_str()]));
    let script = format!("exec 3<>/dev/tcp/127.0.0.1/{port}; cat <&3");
    let reply = online.command("/bin/bash").args(["-c", &script]).output()?;
    greeter.join().expect("greeter thread")?;
    print!("through pasta: {}", String::from_utf8_lossy(&reply.stdout));
    Ok(())
}
