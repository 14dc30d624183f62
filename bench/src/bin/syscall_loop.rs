//! Per-call cost of system calls, measured from inside a sandbox: a cheap allowed call
//! (`getppid`), `ioctl(0, TCGETS)` (argument-checked in the default profile, so never in
//! the kernel's allow-cache) and a call the default profile denies (`acct(NULL)`).
//! Prints `name nanoseconds-per-call` lines. `syscall_loop [ITERATIONS]`

use std::time::Instant;

use syscalls::{syscall, Sysno};

fn per_call(n: u32, f: impl Fn()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let mut termios = [0u8; 64];
    let tp = termios.as_mut_ptr() as usize;
    // SAFETY (all three): no pointers, or a live 64-byte buffer for struct termios.
    let getppid = per_call(n, || {
        let _ = unsafe { syscall!(Sysno::getppid) };
    });
    let tcgets = per_call(n, || {
        let _ = unsafe { syscall!(Sysno::ioctl, 0, 0x5401, tp) };
    });
    let denied = per_call(n, || {
        let _ = unsafe { syscall!(Sysno::acct, 0) };
    });
    println!("getppid {getppid:.1}");
    println!("ioctl_tcgets {tcgets:.1}");
    println!("denied_acct {denied:.1}");
}
