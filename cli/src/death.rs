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

/// When the program started, on the clock the audit subsystem stamps its records with: the
/// coarse wall clock, `audit(SECONDS.MILLIS:SERIAL)`. Records of a kill of this run's program
/// are stamped at or after it; an older record of a reused pid before it. Not the log's own
/// timestamp (sched_clock drifts from the other clocks on virtual machines, by minutes after
/// hours of steal time), and not a position in `/dev/kmsg`: opening it walks the printk ring
/// (about 0.2 ms here), which every run would pay; the log is read only after a kill.
pub struct KmsgMark {
    ms: u64,
}

impl KmsgMark {
    /// Take the mark (the coarse wall clock, as the audit subsystem reads it).
    pub fn now() -> Self {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        KmsgMark {
            ms: t.tv_sec.max(0) as u64 * 1000 + t.tv_nsec.max(0) as u64 / 1_000_000,
        }
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

/// The audit stamp of a kernel log record, in milliseconds of the wall clock:
/// `... audit(1796041460.652:46868): ...` gives 1796041460652.
fn audit_ms(rec: &str) -> Option<u64> {
    let stamp = rec.split_once(" audit(")?.1.split_once(':')?.0;
    let (sec, ms) = stamp.split_once('.')?;
    Some(sec.parse::<u64>().ok()? * 1000 + ms.parse::<u64>().ok()?)
}

/// Whether kernel log record `rec` is the audit record of a seccomp kill of `pid` stamped
/// at or after `mark`.
fn is_kill_record(rec: &str, pid: u32, mark: &KmsgMark) -> bool {
    rec.contains("type=1326")
        && rec.contains(&format!(" pid={pid} "))
        && rec.contains(" sig=31 ")
        && audit_ms(rec).is_some_and(|ms| ms >= mark.ms)
}

/// Find the audit record of the seccomp kill of `pid` in the kernel log, stamped at or
/// after `mark`.
fn seccomp_syscall_from_kmsg(pid: u32, mark: KmsgMark) -> Result<String, String> {
    let mut kmsg = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open("/dev/kmsg")
        .map_err(|e| {
            format!(
                "/dev/kmsg: {}",
                crate::strerror::strerror(e.raw_os_error().unwrap_or(0))
            )
        })?;
    // kauditd prints the record shortly after the kill: keep reading new records a little.
    let deadline = Instant::now() + Duration::from_millis(300);
    let mut buf = vec![0u8; 8192];
    let mut found = None;
    loop {
        match kmsg.read(&mut buf) {
            Ok(n) => {
                // "PRIO,SEQ,TIMESTAMP_US,FLAGS;MESSAGE", from the oldest one kept.
                let rec = String::from_utf8_lossy(&buf[..n]);
                if is_kill_record(&rec, pid, &mark) {
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

    const KILL: &str = "4,72699,10126076068,-;audit: type=1326 audit(1796045913.660:72699): \
        auid=4294967295 uid=1001 gid=1001 ses=4294967295 pid=23788 comm=\"uname\" \
        exe=\"/usr/bin/uname\" sig=31 arch=c000003e syscall=63 compat=0 ip=0x7fb21ce36b07 \
        code=0x80000000";

    #[test]
    fn an_audit_record_is_stamped_in_milliseconds_of_the_wall_clock() {
        assert_eq!(audit_ms(KILL), Some(1_796_045_913_660));
        assert_eq!(
            audit_ms("6,1,2,-;kauditd_printk_skb: 70 callbacks suppressed"),
            None
        );
    }

    #[test]
    fn a_kill_record_of_a_reused_pid_from_before_the_mark_is_not_taken() {
        let at = |ms| KmsgMark { ms };
        assert!(is_kill_record(KILL, 23788, &at(1_796_045_913_660)));
        assert!(is_kill_record(KILL, 23788, &at(1_796_045_913_000)));
        assert!(!is_kill_record(KILL, 23788, &at(1_796_045_913_661)));
        assert!(!is_kill_record(KILL, 2378, &at(0)));
        assert!(!is_kill_record(
            &KILL.replace("sig=31", "sig=9"),
            23788,
            &at(0)
        ));
    }

    #[test]
    fn the_mark_is_on_the_clock_of_the_audit_stamps() {
        // The coarse wall clock, in milliseconds: within a few ticks of the precise one.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let mark = KmsgMark::now().ms;
        assert!(mark.abs_diff(now) < 1000, "{mark} vs {now}");
    }
}
