//! Spawn benchmark: median time to spawn and reap `/bin/true` in the default sandbox, from a
//! host that first touches `HOST_MIB` MiB of memory (to show that spawning does not copy the
//! host's address space), and the same for bubblewrap and `unshare` when installed.
//!
//! `cargo run --release -p hakoniwa --example spawn_bench -- [ITERATIONS] [HOST_MIB]`

use std::time::{Duration, Instant};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    f(); // warm-up
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200);
    let mib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let ballast: Vec<u8> = (0..mib << 20).map(|i| i as u8).collect();
    std::hint::black_box(&ballast);

    let mut c = hakoniwa::Container::new();
    c.rootfs("/");
    let ours = time(n, || {
        assert!(c.command("/bin/true").status().unwrap().success());
    });
    let mut bare = hakoniwa::Container::empty();
    bare.runctl(hakoniwa::Runctl::AllowNewPrivs);
    let empty = time(n, || {
        assert!(bare.command("/bin/true").status().unwrap().success());
    });
    let std_spawn = time(n, || {
        assert!(std::process::Command::new("/bin/true")
            .status()
            .unwrap()
            .success());
    });
    println!("host_mib={mib} iterations={n}");
    println!(
        "hakoniwa sandbox (user+mnt+pid, rootfs /): {:>8.3} ms",
        ours.as_secs_f64() * 1e3
    );
    println!(
        "hakoniwa empty container (no namespaces):   {:>8.3} ms",
        empty.as_secs_f64() * 1e3
    );
    println!(
        "std::process::Command /bin/true:           {:>8.3} ms",
        std_spawn.as_secs_f64() * 1e3
    );
    let external = [
        (
            "bwrap",
            vec![
                "--unshare-user",
                "--unshare-pid",
                "--ro-bind",
                "/usr",
                "/usr",
                "--symlink",
                "usr/bin",
                "/bin",
                "--symlink",
                "usr/lib",
                "/lib",
                "--symlink",
                "usr/lib64",
                "/lib64",
                "--proc",
                "/proc",
                "/bin/true",
            ],
        ),
        ("unshare", vec!["-Urmpf", "--mount-proc", "/bin/true"]),
    ];
    for (tool, targs) in external {
        if std::process::Command::new(tool)
            .args(&targs)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
        {
            let d = time(n.min(100), || {
                assert!(std::process::Command::new(tool)
                    .args(&targs)
                    .status()
                    .unwrap()
                    .success());
            });
            println!("{tool:<43} {:>8.3} ms", d.as_secs_f64() * 1e3);
        }
    }
}
