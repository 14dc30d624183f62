//! Size and path lengths of the programs this crate makes for the built-in profiles and a
//! reference profile: instructions, and the instructions executed per native system call
//! number (0 to the table's end, counted with [`hakoniwa_seccomp::interp`]), mean and max.
//!
//! `cargo run -p hakoniwa-seccomp --example program_stats [podman.json] [dump-dir]`
//!
//! With a dump directory, every program is also written there as raw `sock_filter` bytes
//! (`NAME.bpf`), for installing them elsewhere.

use hakoniwa_seccomp::caps::{cap_mask, PODMAN_DEFAULT_CAPS};
use hakoniwa_seccomp::interp::{path_len, SeccompData};
use hakoniwa_seccomp::{audit, from_oci_json, podman_default, setid, terminal, Arch, Policy};
use hakoniwa_seccomp::{Program, SockFilter};

fn stats(name: &str, prog: &[SockFilter], dump: Option<&str>) {
    let arch = Arch::X86_64.audit();
    let n = Arch::X86_64.max_syscall_nr() + 1;
    let paths: Vec<usize> = (0..n)
        .map(|nr| path_len(prog, &SeccompData::new(arch, nr, [0; 6])).expect("runs"))
        .collect();
    let mean = paths.iter().sum::<usize>() as f64 / paths.len() as f64;
    let max = paths.iter().max().copied().unwrap_or(0);
    let at = |s: &str| {
        let nr = Arch::X86_64.syscall_nr(s).expect("known");
        paths[nr as usize]
    };
    println!(
        "{name:<34} {:>5} insns  path mean {mean:>5.1} max {max:>3}  getppid {} ioctl {} kexec_load {}",
        prog.len(),
        at("getppid"),
        at("ioctl"),
        at("kexec_load"),
    );
    if let Some(dir) = dump {
        let bytes: Vec<u8> = prog
            .iter()
            .flat_map(|i| {
                let mut b = Vec::with_capacity(8);
                b.extend_from_slice(&i.code.to_ne_bytes());
                b.push(i.jt);
                b.push(i.jf);
                b.extend_from_slice(&i.k.to_ne_bytes());
                b
            })
            .collect();
        std::fs::write(format!("{dir}/{name}.bpf"), bytes).expect("dump");
    }
}

fn both(name: &str, p: &Policy, dump: Option<&str>) {
    let plain: Program = p.compile().expect("compile");
    stats(name, &plain.instructions, dump);
    let hooked = p.compile_with_exit_hook().expect("compile");
    stats(&format!("{name}+hook"), &hooked.instructions, dump);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dump = args.get(2).map(String::as_str);
    let caps = cap_mask(PODMAN_DEFAULT_CAPS);
    let p = podman_default(caps);
    both("default", &p, dump);
    let mut s = p.clone();
    setid::deny_setid_modes(&mut s).expect("setid rules");
    both("default+setid", &s, dump);
    let mut a = audit();
    terminal::deny_terminal_ioctls(&mut a, true).expect("terminal rules");
    both("audit", &a, dump);
    if let Some(path) = args.get(1) {
        let json = std::fs::read_to_string(path).expect("read the profile");
        let (mut o, _) = from_oci_json(&json, caps).expect("load the profile");
        terminal::deny_terminal_ioctls(&mut o, true).expect("terminal rules");
        both("podman.json", &o, dump);
    }
}
