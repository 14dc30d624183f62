//! Reading usage figures: times, the program's own peak memory, page faults and context
//! switches from the `ExitStatus`, and how long each setup step took.
//!
//! `cargo run -p hakoniwa-sandbox --example usage` (shown in docs/rust.md, run by
//! engine/tests/examples.rs)
use hakoniwa::Container;

fn main() -> Result<(), hakoniwa::Error> {
    let mut container = Container::new();
    // perl -e reads /dev/null; peak memory is measured only when asked for.
    container.rootfs("/").devfsmount("/dev").peak_memory(true);
    // perl builds a 64 MiB string: the program's peak resident size is at least that.
    let mut child = container
        .command("/usr/bin/perl")
        .args(["-e", "my $s = 'x' x (64 << 20); print length($s), qq(\n);"])
        .spawn()?;
    let setup = child.enforcement().timings;
    let status = child.wait()?;
    let usage = status.usage();
    println!("exit: {status}");
    println!("setup: {:?} (mounts {:?})", setup.total, setup.mounts);
    println!("real: {:?}", usage.real_time);
    println!(
        "cpu: user {:?}, system {:?}",
        usage.user_time, usage.system_time
    );
    match usage.max_rss_kb {
        Some(kb) => println!("peak rss: {kb} KiB"),
        None => println!("peak rss: unknown"),
    }
    println!(
        "faults: {} minor, {} major",
        usage.minor_faults, usage.major_faults
    );
    println!(
        "context switches: {} voluntary, {} involuntary",
        usage.voluntary_switches, usage.involuntary_switches
    );
    Ok(())
}
