//! Handling I/O: capture output, feed stdin through a pipe, and pass an extra descriptor.
//!
//! `cargo run -p hakoniwa-sandbox --example io` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use std::io::{Read, Write};

use hakoniwa::{Container, Stdio};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut container = Container::new();
    container.rootfs("/");

    // output(): stdout and stderr captured (drained together), stdin is /dev/null.
    let out = container
        .command("/bin/sh")
        .args(["-c", "echo to stdout; echo to stderr >&2; exit 3"])
        .output()?;
    print!("captured: {}", String::from_utf8_lossy(&out.stdout));
    print!("captured: {}", String::from_utf8_lossy(&out.stderr));
    println!("code: {:?}", out.status.exit_code);

    // spawn() with pipes: write to its stdin, read its stdout.
    let mut child = container
        .command("/usr/bin/tr")
        .args(["a-z", "A-Z"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child.stdin.take().expect("piped").write_all(b"shout\n")?; // dropped: EOF
    let mut shouted = String::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_string(&mut shouted)?;
    child.wait()?;
    print!("tr: {shouted}");

    // preserve_fd(): the write end of a host pipe becomes descriptor 3 of the program.
    let (mut reader, writer) = std::io::pipe()?;
    container
        .command("/bin/sh")
        .args(["-c", "echo through fd 3 >&3"])
        .preserve_fd(writer.into(), 3)
        .status()?;
    let mut via_fd = String::new();
    reader.read_to_string(&mut via_fd)?; // EOF: the program's copy was closed at its exit
    print!("fd 3: {via_fd}");
    Ok(())
}
