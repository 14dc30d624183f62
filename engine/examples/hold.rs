//! Test helper: spawn `sleep MARKER` in a sandbox, say so, then wait forever. The test kills
//! this process and checks that the sandbox died with it.
use std::io::Write;

fn main() {
    let marker = std::env::args().nth(1).expect("usage: hold MARKER");
    let mut c = hakoniwa::Container::new();
    c.rootfs("/");
    let _child = c.command("/bin/sleep").arg(&marker).spawn().expect("spawn");
    println!("spawned");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}
