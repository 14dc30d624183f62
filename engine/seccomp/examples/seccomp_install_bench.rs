//! Install time of the default profile: our binary-search program vs seccompiler's linear
//! program. Each sample installs the filter in a fresh thread (the kernel builds its
//! allow-cache by emulating the filter for every system call number at install) and times
//! only the `seccomp()` call. Prints medians.
//!
//! `cargo run --release -p hakoniwa-seccomp --example seccomp_install_bench [samples]`

use std::time::{Duration, Instant};

use hakoniwa_seccomp::{podman_default, Action, Arch, Policy, SockFilter};
use syscalls::{syscall, Sysno};

#[repr(C)]
struct SockFprog {
    len: u16,
    filter: *const SockFilter,
}

fn install_time(prog: &[SockFilter]) -> Duration {
    let prog = prog.to_vec();
    std::thread::spawn(move || {
        // SAFETY: prctl(PR_SET_NO_NEW_PRIVS) takes no pointers.
        unsafe { syscall!(Sysno::prctl, 38, 1, 0, 0, 0) }.expect("no_new_privs");
        let fprog = SockFprog {
            len: prog.len() as u16,
            filter: prog.as_ptr(),
        };
        let t = Instant::now();
        // SAFETY: `fprog` points at a live instruction array; the kernel copies it.
        unsafe { syscall!(Sysno::seccomp, 1, 0, &fprog as *const SockFprog) }.expect("seccomp");
        t.elapsed()
    })
    .join()
    .expect("bench thread")
}

fn median(prog: &[SockFilter], samples: usize) -> Duration {
    let mut v: Vec<Duration> = (0..samples).map(|_| install_time(prog)).collect();
    v.sort_unstable();
    v[v.len() / 2]
}

fn bench(name: &str, p: &Policy, samples: usize) {
    let ours = p.compile().expect("compile").instructions;
    let linear = p
        .compile_linear_seccompiler()
        .expect("compile with seccompiler");
    // Warm up, then interleave to share any drift.
    median(&ours, 5);
    median(&linear, 5);
    let (mut o, mut l) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        o.push(median(&ours, samples / 5));
        l.push(median(&linear, samples / 5));
    }
    o.sort_unstable();
    l.sort_unstable();
    let (o, l) = (o[2], l[2]);
    println!(
        "{name}: binary search {} insns {:>8.1} µs | seccompiler linear {} insns {:>8.1} µs | ratio {:.2}",
        ours.len(),
        o.as_secs_f64() * 1e6,
        linear.len(),
        l.as_secs_f64() * 1e6,
        o.as_secs_f64() / l.as_secs_f64()
    );
}

fn main() {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    bench("podman_default(caps=0)", &podman_default(0), samples);
    let mut allow = Policy::new(Action::Errno(1));
    for nr in (0..300).step_by(2) {
        if Arch::X86_64.syscall_name(nr).is_some() {
            allow.rule_nr(nr, vec![], Action::Allow).expect("rule");
        }
    }
    bench("allowlist-150", &allow, samples);
}
