//! Peak-RSS probe: touch HOST_MIB MiB in the host, spawn `/bin/true`, print the program's
//! reported peak RSS in KiB. `rss_probe 500`
fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    let ballast: Vec<u8> = (0..mib << 20).map(|i| i as u8).collect();
    std::hint::black_box(&ballast);
    let mut c = hakoniwa::Container::new();
    c.rootfs("/").peak_memory(true);
    let s = c.command("/bin/true").status().expect("spawn");
    println!("{}", s.usage.max_rss_kb.expect("peak memory asked for"));
}
