//! Test helper: spawn `sleep MARKER` in a sandbox, say so, then wait forever. The test kills
//! this process and checks that the sandbox died with it.
//!
//! `hold MARKER [main | thread | ended-thread | exec] [SCRIPT]`: spawn from the main thread
//! (the default), from another thread that stays alive, or from another thread that has
//! ended before "spawned" is printed; `exec`: from the main thread, then replace this
//! process with `sleep 60` (whose end still ends the sandbox, but which has none of the
//! engine's descriptors); with SCRIPT, run `sh -c SCRIPT sh MARKER` instead (the script ends
//! in `exec sleep "$1"`).
use std::io::Write;

fn main() {
    let marker = std::env::args().nth(1).expect("usage: hold MARKER [FROM]");
    let from = std::env::args().nth(2).unwrap_or_else(|| "main".into());
    let script = std::env::args().nth(3);
    let spawn = move || {
        let mut c = hakoniwa::Container::new();
        c.rootfs("/");
        match &script {
            None => c.command("/bin/sleep").arg(&marker).spawn(),
            Some(s) => c.command("/bin/sh").args(["-c", s, "sh", &marker]).spawn(),
        }
        .expect("spawn")
    };
    let _child = match from.as_str() {
        "main" => spawn(),
        "exec" => {
            use std::os::unix::process::CommandExt;
            std::mem::forget(spawn());
            println!("spawned");
            std::io::stdout().flush().unwrap();
            let e = std::process::Command::new("/bin/sleep").arg("60").exec();
            panic!("exec: {e}");
        }
        "thread" => {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                tx.send(spawn()).unwrap();
                loop {
                    std::thread::park();
                }
            });
            rx.recv().unwrap()
        }
        "ended-thread" => std::thread::spawn(spawn).join().unwrap(),
        other => panic!("unknown spawning thread {other:?}"),
    };
    println!("spawned");
    std::io::stdout().flush().unwrap();
    loop {
        std::thread::park();
    }
}
