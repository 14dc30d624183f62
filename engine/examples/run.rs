//! Run a command in a default sandbox: `cargo run --example run -- id -a`.
use hakoniwa::Container;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (prog, rest) = args.split_first().expect("usage: run PROGRAM [ARGS...]");
    let mut c = Container::new();
    c.rootfs("/").devfsmount("/dev").tmpfsmount("/tmp");
    match c
        .command(prog)
        .args(rest)
        .env("PATH", "/usr/bin:/bin")
        .status()
    {
        Ok(s) => {
            eprintln!("{s} usage={:?}", s.usage);
            std::process::exit(s.code());
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(125);
        }
    }
}
