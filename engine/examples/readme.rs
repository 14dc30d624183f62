//! The README's library example: an interactive shell in the default sandbox (type `exit`
//! to leave). `cargo run -p hakoniwa-sandbox --example readme` (run by
//! engine/tests/examples.rs with a script on stdin; the test checks that the README shows
//! the code below verbatim).
use hakoniwa::Container;
fn main() {
    _ = Container::new() // new user, mount and PID namespaces
        .rootfs("/") // host /bin, /lib, /usr, ... read-only
        .command("/bin/sh")
        .status()
        .expect("failed to execute process within container");
}
