//! The Rust half of `bench/capi.sh`: median time to spawn and wait for `/bin/true` in the
//! default sandbox through the Rust API (the C half is `bench/capi_bench.c`).
//!
//! `cargo run --release -p hakoniwa-capi --example spawn_rust -- [ITERATIONS]`

use std::time::{Duration, Instant};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let mut c = hakoniwa::Container::new();
    c.rootfs("/");
    let run = || assert!(c.command("/bin/true").status().unwrap().success());
    run(); // warm-up
    let mut times: Vec<Duration> = (0..n)
        .map(|_| {
            let t = Instant::now();
            run();
            t.elapsed()
        })
        .collect();
    times.sort();
    println!("{}", times[n / 2].as_micros());
}
