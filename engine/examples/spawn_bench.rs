//! Spawn benchmark: median time to spawn and reap `/bin/true` in the default sandbox, from a
//! host that first touches `HOST_MIB` MiB of memory (to show that spawning does not copy the
//! host's address space), and the same for bubblewrap and `unshare` when installed.
//!
//! `cargo run --release -p hakoniwa-sandbox --example spawn_bench -- [ITERATIONS] [HOST_MIB]`

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
    // Networking: the sandbox with pasta against a bare `pasta --config-net -- /bin/true`
    // (pasta's own start-up), and the sandbox with only a network namespace (no pasta).
    let mut none = hakoniwa::Container::new();
    none.rootfs("/").network(hakoniwa::Network::None);
    let netns = time(n, || {
        assert!(none.command("/bin/true").status().unwrap().success());
    });
    let mut with_pasta = hakoniwa::Container::new();
    with_pasta.rootfs("/").network(hakoniwa::Pasta::default());
    let pasta_ok = with_pasta
        .command("/bin/true")
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let pasta = pasta_ok.then(|| {
        time(n.min(50), || {
            assert!(with_pasta.command("/bin/true").status().unwrap().success());
        })
    });
    // As root pasta drops to "nobody" and then cannot set up its namespace; stay root as
    // the engine does.
    let mut bare_args = vec![
        "--config-net",
        "--quiet",
        "-t",
        "none",
        "-u",
        "none",
        "-T",
        "none",
        "-U",
        "none",
    ];
    if rustix::process::geteuid().is_root() {
        bare_args.extend(["--runas", "0"]);
    }
    bare_args.extend(["--", "/bin/true"]);
    let bare_pasta = std::process::Command::new("pasta")
        .args(&bare_args)
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
        .then(|| {
            time(n.min(50), || {
                assert!(std::process::Command::new("pasta")
                    .args(&bare_args)
                    .stderr(std::process::Stdio::null())
                    .status()
                    .unwrap()
                    .success());
            })
        });
    // Wall-clock limit: `sleep 5` with a 300 ms limit (goal: ends within 500 ms).
    let walltime = time(5, || {
        let s = c
            .command("/bin/sleep")
            .arg("5")
            .wait_timeout(std::time::Duration::from_millis(300))
            .status()
            .unwrap();
        assert_eq!(s.reason, hakoniwa::ExitReason::WallTimeExceeded);
    });
    println!("host_mib={mib} iterations={n}");
    println!(
        "`sleep 5` with a 300 ms wall-clock limit:   {:>8.3} ms",
        walltime.as_secs_f64() * 1e3
    );
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
    println!(
        "hakoniwa sandbox + new network namespace:  {:>8.3} ms",
        netns.as_secs_f64() * 1e3
    );
    if let Some(p) = pasta {
        println!(
            "hakoniwa sandbox + pasta:                  {:>8.3} ms",
            p.as_secs_f64() * 1e3
        );
        println!(
            "  of which pasta start-up (vs. netns only): {:>8.3} ms",
            (p.saturating_sub(netns)).as_secs_f64() * 1e3
        );
    }
    if let (Some(p), Some(b)) = (pasta, bare_pasta) {
        println!(
            "bare `pasta --config-net -- /bin/true`:    {:>8.3} ms",
            b.as_secs_f64() * 1e3
        );
        println!(
            "  our overhead on top of bare pasta:        {:>8.3} ms",
            (p.as_secs_f64() - b.as_secs_f64()) * 1e3
        );
    }
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
