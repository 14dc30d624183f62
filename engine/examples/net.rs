//! Run a command with pasta networking: `net [PASTA_ARGS...] -- PROGRAM [ARGS...]`.
fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sep = args
        .iter()
        .position(|a| a == "--")
        .expect("usage: net [PASTA_ARGS...] -- PROGRAM [ARGS...]");
    let mut c = hakoniwa::Container::new();
    c.rootfs("/").devfsmount("/dev").network(
        hakoniwa::Pasta::default()
            .program(std::env::var("PASTA").unwrap_or("pasta".into()))
            .args(args[..sep].iter().cloned()),
    );
    let s = c
        .command(&args[sep + 1])
        .args(&args[sep + 2..])
        .env("PATH", "/usr/bin:/bin")
        .status();
    match s {
        Ok(s) => std::process::exit(s.code()),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(125)
        }
    }
}
