//! Attacks on the sandbox's init (PID 1) from the program it supervises: reaching its
//! descriptors (the events pipe), its executable memfd or its memory, ptracing it, and
//! stopping or killing it to break supervision.
mod common;

use common::*;

#[test]
fn the_program_cannot_reach_the_init_s_descriptors_executable_or_memory() {
    // The events pipe is the init's only descriptor: writing to it through /proc/1/fd would
    // forge reports. The init is not dumpable, so every ptrace-guarded /proc entry is refused,
    // for root inside (no CAP_SYS_PTRACE) as for other uids; the program's own entries are
    // the control.
    let script = r#"
        for f in /proc/1/fd/*; do
            [ -e "$f" ] && echo "fd-open:$f"
            readlink "$f" >/dev/null 2>&1 && echo "fd-link:$f"
            (printf 'HKI1xxxxxxxx' >> "$f") 2>/dev/null && echo "fd-write:$f"
        done
        head -c4 /proc/1/exe >/dev/null 2>&1 && echo exe-read
        readlink /proc/1/exe >/dev/null 2>&1 && echo exe-link
        head -c1 /proc/1/mem >/dev/null 2>&1 && echo mem-read
        cat /proc/1/maps 2>/dev/null | grep -q . && echo maps-read
        readlink /proc/$$/exe >/dev/null && echo control-exe
        head -c1 /proc/$$/maps >/dev/null && echo control-maps
        /usr/bin/python3 -c '
import ctypes
libc = ctypes.CDLL(None, use_errno=True)
print("attach", libc.ptrace(16, 1, 0, 0), ctypes.get_errno())
print("seize", libc.ptrace(0x4206, 1, 0, 0), ctypes.get_errno())
'
        exit 7
    "#;
    let mut c = sandbox();
    c.devfsmount("/dev");
    let (code, out, err) = sh(&c, script);
    assert_eq!(code, 7, "{out}{err}");
    for leak in [
        "fd-open",
        "fd-link",
        "fd-write",
        "exe-read",
        "exe-link",
        "mem-read",
        "maps-read",
    ] {
        assert!(!out.contains(leak), "{leak} reached:\n{out}{err}");
    }
    assert!(out.contains("control-exe\ncontrol-maps\n"), "{out}{err}");
    // EPERM (1) for both ways of attaching.
    assert!(out.contains("attach -1 1\nseize -1 1\n"), "{out}{err}");
}

#[test]
fn signals_from_inside_neither_stop_nor_kill_the_init_and_the_status_stays_true() {
    // SIGSTOP and SIGKILL from inside the namespace never reach PID 1 (the kernel drops them
    // for an init); the init keeps supervising and the program's own end is what is reported.
    let script = r#"
        kill -STOP 1; kill -KILL 1
        sleep 0.2
        while read -r k v; do [ "$k" = State: ] && echo "init-state:$v"; done </proc/1/status
        kill -SEGV $$
    "#;
    let c = sandbox();
    let out = c
        .command("/bin/sh")
        .args(["-c", script])
        .output()
        .expect("spawn");
    let text = String::from_utf8_lossy(&out.stdout);
    // Sleeping as a rule; running if something woke it just then. Never stopped (T).
    assert!(
        text.contains("init-state:S") || text.contains("init-state:R"),
        "{text}"
    );
    assert_eq!(out.status.signal(), Some(11), "{:?}", out.status);
    assert_eq!(out.status.code(), 139, "{:?}", out.status);
}

#[test]
fn a_request_to_the_init_forged_from_inside_is_forwarded_as_a_plain_signal() {
    // The engine asks the init for things (relay SIGSTOP, hand the terminal back before a
    // SIGCONT) through a pipe; 64 once asked it to relay a signal. A process inside can
    // queue a signal with any siginfo it likes (`rt_sigqueueinfo`, si_code SI_QUEUE, si_pid
    // 0): the init must not take it for the engine's. Here the forged request asks for SIGUSR1 to be
    // relayed to the program; the init must instead forward the signal as it came.
    let script = r#"
import ctypes, signal, struct
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, 64])
libc = ctypes.CDLL(None, use_errno=True)
# siginfo: signo, errno, code (SI_QUEUE), pad, pid 0, uid 0, value: SIGUSR1.
info = ctypes.create_string_buffer(struct.pack('iiiiiiq', 64, 0, -1, 0, 0, 0, 10), 128)
print('queued', libc.syscall(129, 1, 64, info), ctypes.get_errno())
print('got', signal.sigwaitinfo([signal.SIGUSR1, 64]).si_signo)
"#;
    let out = sandbox()
        .command("/usr/bin/python3")
        .args(["-c", script])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("queued 0 0\n"),
        "the forgery was refused: {out:?}"
    );
    assert!(text.contains("got 64\n"), "the init acted on it: {out:?}");
}

/// A program whose child stops and continues it `cycles` times (each change is a report of
/// the init's), then kills it with SIGSEGV unless it is to run on.
fn flood(cycles: u32, then_segv: bool) -> String {
    format!(
        r#"
import os, signal, time
pid = os.getpid()
if os.fork() == 0:
    for _ in range({cycles}):
        os.kill(pid, signal.SIGSTOP)
        time.sleep(0.001)
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.001)
    if {then_segv}:
        os.kill(pid, signal.SIGSEGV)
        os.kill(pid, signal.SIGCONT)
    os._exit(0)
while True:
    time.sleep(1)
"#,
        then_segv = if then_segv { "True" } else { "False" }
    )
}

#[test]
fn reports_of_stops_piled_up_unread_cannot_hide_how_the_program_ended() {
    // The init's reports wait in a pipe until the caller asks for the status. A program can
    // fill that pipe with stop and continue reports meanwhile; the report of its end (here a
    // SIGSEGV) must still come through, or PID 1's own exit (code 139) would pass for it.
    let mut child = sandbox()
        .command("/usr/bin/python3")
        .args(["-c", &flood(700, true)])
        .stdout(hakoniwa::Stdio::null())
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(5)); // nobody reads meanwhile
                                                           // An event loop waits for the pidfd alone: PID 1 must end without anyone reading.
    let pidfd = child.pidfd();
    let mut fds = [rustix::event::PollFd::new(
        &pidfd,
        rustix::event::PollFlags::IN,
    )];
    let limit = rustix::event::Timespec {
        tv_sec: 30,
        tv_nsec: 0,
    };
    let ready = rustix::event::poll(&mut fds, Some(&limit)).expect("poll");
    assert_eq!(ready, 1, "PID 1 did not end while nobody read its reports");
    let s = child.wait().expect("wait");
    assert_eq!(s.reason, hakoniwa::ExitReason::Signaled, "{s:?}");
    assert_eq!(s.signal, Some(11), "{s:?}");
}

#[test]
fn reports_of_stops_piled_up_unread_cannot_hide_a_wall_clock_kill() {
    let mut child = sandbox()
        .command("/usr/bin/python3")
        .args(["-c", &flood(100_000, false)])
        .wait_timeout(std::time::Duration::from_secs(3))
        .spawn()
        .expect("spawn");
    std::thread::sleep(std::time::Duration::from_secs(5)); // nobody reads meanwhile
    let s = child.wait().expect("wait");
    assert_eq!(s.reason, hakoniwa::ExitReason::WallTimeExceeded, "{s:?}");
}
