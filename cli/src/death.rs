//! How the program ended, in words: the signal's name, and for a seccomp kill the system
//! call that the filter refused.
//!
//! Naming the system call: the kernel delivers the seccomp kill as a SIGSYS whose siginfo
//! carries `si_syscall`, but that siginfo goes to the dying process only; the supervisor's
//! `waitid` sees "killed by signal 31" and nothing more (no ptrace, no handler can exist in
//! a process the filter killed). The one place the number is recorded is the kernel's audit
//! record (`type=1326 ... pid=P sig=31 arch=A syscall=N`), which without auditd is printed
//! to the kernel log. The CLI reads `/dev/kmsg` for it when it may (root, or
//! `kernel.dmesg_restrict = 0`); otherwise it says where to look.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use hakoniwa::seccomp::filter::Arch;

/// Signal names on x86_64 (1..=31).
const NAMES: [&str; 31] = [
    "SIGHUP",
    "SIGINT",
    "SIGQUIT",
    "SIGILL",
    "SIGTRAP",
    "SIGABRT",
    "SIGBUS",
    "SIGFPE",
    "SIGKILL",
    "SIGUSR1",
    "SIGSEGV",
    "SIGUSR2",
    "SIGPIPE",
    "SIGALRM",
    "SIGTERM",
    "SIGSTKFLT",
    "SIGCHLD",
    "SIGCONT",
    "SIGSTOP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGXCPU",
    "SIGXFSZ",
    "SIGVTALRM",
    "SIGPROF",
    "SIGWINCH",
    "SIGIO",
    "SIGPWR",
    "SIGSYS",
];

/// `SIGSEGV` for 11, `SIGRTMIN+2` for 36, `signal 99` otherwise.
pub fn signal_name(sig: i32) -> String {
    match sig {
        1..=31 => NAMES[(sig - 1) as usize].to_string(),
        34 => "SIGRTMIN".into(),
        35..=64 => format!("SIGRTMIN+{}", sig - 34),
        _ => format!("signal {sig}"),
    }
}

/// The line for a program killed by `sig` (None for SIGINT and SIGPIPE, which shells do not
/// report either: the user pressed Ctrl-C, or the reader went away).
pub fn signal_message(program: &str, sig: i32, core_dumped: bool) -> Option<String> {
    if sig == 2 || sig == 13 {
        return None;
    }
    Some(format!(
        "process {program} received signal {}{}",
        signal_name(sig),
        if core_dumped { " (core dumped)" } else { "" }
    ))
}

/// A position in the kernel log (`/dev/kmsg`), taken when the program starts: records after
/// it are new. A position rather than a time: the log's clock (sched_clock) drifts from
/// `CLOCK_MONOTONIC` on virtual machines, by minutes after hours of steal time.
pub struct KmsgMark(Result<std::fs::File, String>);

impl KmsgMark {
    /// Open the kernel log and move to its end (or remember why it cannot be read).
    pub fn now() -> Self {
        let opened = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
            .open("/dev/kmsg")
            .map_err(|e| {
                format!(
                    "/dev/kmsg: {}",
                    crate::strerror::strerror(e.raw_os_error().unwrap_or(0))
                )
            })
            .and_then(|f| {
                rustix::fs::seek(&f, rustix::fs::SeekFrom::End(0))
                    .map(|_| f)
                    .map_err(|e| format!("/dev/kmsg: {e}"))
            });
        KmsgMark(opened)
    }
}

/// The line for a seccomp kill of host pid `pid`; `mark` was taken before it started, so
/// an older record of a reused pid is not taken for this one.
pub fn seccomp_message(program: &str, pid: u32, mark: KmsgMark) -> String {
    match seccomp_syscall_from_kmsg(pid, mark) {
        Ok(name) => format!(
            "process {program} was killed by the seccomp filter (SIGSYS) for calling {name}"
        ),
        Err(why) => format!(
            "process {program} was killed by the seccomp filter (SIGSYS); the system call is not named here ({why}): \
             the kernel's audit record names it (dmesg or journalctl -k: type=1326 pid={pid} syscall=N)"
        ),
    }
}

/// Find the audit record of the seccomp kill of `pid` in the kernel log, after `mark`.
fn seccomp_syscall_from_kmsg(pid: u32, mark: KmsgMark) -> Result<String, String> {
    let mut kmsg = mark.0?;
    let needle = format!(" pid={pid} ");
    // kauditd prints the record shortly after the kill: keep reading new records a little.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut buf = vec![0u8; 8192];
    let mut found = None;
    loop {
        match kmsg.read(&mut buf) {
            Ok(n) => {
                // "PRIO,SEQ,TIMESTAMP_US,FLAGS;MESSAGE", every one newer than the mark.
                let rec = String::from_utf8_lossy(&buf[..n]);
                if rec.contains("type=1326") && rec.contains(&needle) && rec.contains(" sig=31 ") {
                    found = Some(rec.into_owned()); // keep the newest
                }
            }
            // EPIPE: records were overwritten while reading; go on with the next.
            Err(e) if e.raw_os_error() == Some(32) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if found.is_some() || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => return Err(format!("/dev/kmsg: {e}")),
        }
    }
    let rec = found.ok_or("no audit record for it in the kernel log")?;
    let field = |k: &str| {
        rec.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .map(str::to_string)
    };
    let nr: u32 = field("syscall=")
        .and_then(|n| n.parse().ok())
        .ok_or("the audit record has no syscall number")?;
    let arch = match field("arch=").as_deref() {
        Some("c000003e") => Some(Arch::X86_64),
        Some("40000003") => Some(Arch::X86),
        _ => None,
    };
    Ok(match arch.and_then(|a| a.syscall_name(nr)) {
        Some(name) => format!("{name} (system call {nr})"),
        None => format!("system call {nr}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_are_named_as_in_signal_h() {
        assert_eq!(signal_name(11), "SIGSEGV");
        assert_eq!(signal_name(31), "SIGSYS");
        assert_eq!(signal_name(36), "SIGRTMIN+2");
    }
}
