//! The seed's example, as written in the first issue.
use hakoniwa::Container;

fn main() {
    _ = Container::new() // new user, mount and PID namespaces
        .rootfs("/") // host /bin, /lib, /usr, ... read-only (filesystem issue)
        .command("/bin/sh")
        .status()
        .expect("failed to execute process within container");
}
