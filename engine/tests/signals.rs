//! Signals, PID 1 and process groups (issues 10 item 4 and 14): the sandbox's init gives the
//! program ordinary signal semantics, reaps orphans, and keeps it in its own process group.
mod common;

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use common::*;
use hakoniwa::{ExitReason, Stdio};

/// A pseudo-terminal's (master, slave); the slave is not our controlling terminal.
fn pty() -> (File, OwnedFd) {
    use syscalls::{syscall, Sysno};
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/ptmx")
        .expect("open /dev/ptmx");
    let unlock: i32 = 0;
    const TIOCSPTLCK: usize = 0x4004_5431;
    const TIOCGPTPEER: usize = 0x5441;
    const O_RDWR_NOCTTY_CLOEXEC: usize = 0o2 | 0o400 | 0o2000000;
    // SAFETY: `unlock` is a live int the kernel reads; TIOCGPTPEER takes open flags.
    let slave = unsafe {
        syscall!(
            Sysno::ioctl,
            master.as_raw_fd(),
            TIOCSPTLCK,
            &unlock as *const i32
        )
        .and_then(|_| {
            syscall!(
                Sysno::ioctl,
                master.as_raw_fd(),
                TIOCGPTPEER,
                O_RDWR_NOCTTY_CLOEXEC
            )
        })
        .expect("open the pty's slave")
    };
    // SAFETY: the kernel just returned this descriptor.
    (master, unsafe { OwnedFd::from_raw_fd(slave as i32) })
}

/// `sleep 30` in a sandbox, ended after 10 s at the latest.
fn sleeping() -> hakoniwa::Child {
    sandbox()
        .command("/bin/sleep")
        .arg("30")
        .wait_timeout(Duration::from_secs(10))
        .spawn()
        .unwrap()
}

#[test]
fn a_signal_death_keeps_its_signal_number() {
    let s = sandbox()
        .command("/bin/sh")
        .args(["-c", "kill -SEGV $$"])
        .status()
        .unwrap();
    assert_eq!(s.reason, ExitReason::Signaled, "{s:?}");
    assert_eq!(s.signal, Some(11), "{s:?}");
    assert_eq!(s.code(), 139);
}

#[test]
fn a_signal_from_the_caller_ends_a_program_without_handlers() {
    let mut child = sleeping();
    std::thread::sleep(Duration::from_millis(200));
    child.signal(15).unwrap();
    let s = child.wait().unwrap();
    assert_eq!(
        (s.reason, s.signal, s.code()),
        (ExitReason::Signaled, Some(15), 143)
    );
}

#[test]
fn a_real_time_signal_from_the_caller_reaches_the_program() {
    // SIGRTMIN+8 has no name: it goes through the same path as the named ones.
    let mut child = sleeping();
    std::thread::sleep(Duration::from_millis(200));
    child.signal(40).unwrap();
    let s = child.wait().unwrap();
    assert_eq!((s.reason, s.signal), (ExitReason::Signaled, Some(40)));
}

#[test]
fn a_signal_number_linux_does_not_have_is_refused() {
    let mut child = sleeping();
    let e = child.signal(65).unwrap_err();
    assert_eq!(e.errno(), Some(22), "{e}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn sigstop_and_sigcont_from_the_caller_stop_and_resume_the_program() {
    let mut child = sandbox()
        .command("/bin/sh")
        .args(["-c", "read x; echo got $x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .wait_timeout(Duration::from_secs(10))
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let state = |pid: u32| {
        let children = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap();
        let program = children
            .split_whitespace()
            .next()
            .expect("the program")
            .to_string();
        let stat = std::fs::read_to_string(format!("/proc/{program}/stat")).unwrap();
        stat.rsplit(") ").next().unwrap().chars().next().unwrap()
    };
    child.signal(19).unwrap();
    let t = std::time::Instant::now();
    while state(child.id()) != 'T' {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the program never stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.signal(18).unwrap();
    while state(child.id()) == 'T' {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "the program never resumed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"on\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got on\n");
    assert!(out.status.success(), "{:?}", out.status);
}

#[test]
fn orphans_are_reaped() {
    // The inner shell exits at once; its background sleep is re-parented to PID 1 and ends
    // a second later. perl's system() waits only for its own child, so without an init
    // nobody waits for the orphan: a zombie. perl polls `ps` (for up to 60 s, whatever the
    // machine's speed) until the orphan is what the caller waits for (`gone`: seen, then
    // reaped; or `zombie`), then prints the list.
    let script = r#"my $want = shift; system("sh -c 'sleep 1 &'");
        my ($ps, $seen);
        for (1 .. 1200) {
            $ps = `ps -e -o stat= -o comm=`;
            my @sleep = grep { /\bsleep\b/ } split /\n/, $ps;
            $seen ||= @sleep;
            last if $want eq "gone" ? $seen && !@sleep : grep { /^\s*Z/ } @sleep;
            select(undef, undef, undef, 0.05);
        }
        print $ps"#;
    let run = |c: &hakoniwa::Container, want: &str| {
        let out = c
            .command("/usr/bin/perl")
            .args(["-e", script, want])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let mut c = sandbox();
    c.devfsmount("/dev"); // perl may open /dev/null
    let out = run(&c, "gone");
    assert!(
        !out.lines().any(|l| l.trim_start().starts_with('Z')),
        "{out}"
    );
    assert!(!out.contains("sleep"), "the orphan is still there: {out}");
    // The original layout, for contrast: the program as PID 1 leaves the zombie.
    c.init(false);
    let out = run(&c, "zombie");
    assert!(
        out.lines().any(|l| l.trim_start().starts_with('Z')),
        "{out}"
    );
}

#[test]
fn with_a_terminal_the_program_gets_its_own_process_group() {
    let (_master, slave) = pty();
    let out = sandbox()
        .command("/bin/sh")
        .args(["-c", "ps -o pgid= -p $$"])
        .stdin(Stdio::from(slave))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Its own group (led by itself, pid 2); sharing the caller's would show 0 (a group
    // whose leader is outside the namespace).
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2");
}

#[test]
fn the_program_cannot_read_the_init_s_memory_or_environment() {
    // The init is not dumpable: same user, but ptrace-level access is refused.
    let (_, out, err) = sh(
        &sandbox(),
        "cat /proc/1/environ; echo init=$?; cat /proc/$$/environ >&2; echo self=$?",
    );
    assert!(out.contains("init=1\n"), "{out}{err}");
    assert!(out.contains("self=0\n"), "{out}{err}");
    assert!(err.contains("Permission denied"), "{err}");
}

#[test]
fn a_process_limit_of_one_still_starts_the_program_and_still_holds() {
    // The init counts as a process of the same user: with RLIMIT_NPROC 1 set before its
    // fork, the program could not even start. The limit is set for the program after that
    // fork.
    let mut c = sandbox();
    c.setrlimit(hakoniwa::Rlimit::Nproc, 1, 1);
    if euid() == 0 {
        // The kernel does not enforce the limit for host uid 0 (the engine refuses it):
        // map the sandbox to root's subordinate range (.ci/setup gives root one).
        c.uidmaps(&[(0, 100000, 65536)])
            .gidmaps(&[(0, 100000, 65536)]);
    }
    let script = "echo started; \
                  while read -r l; do case $l in *processes*) echo \"$l\";; esac; done </proc/self/limits; \
                  (true) 2>&1 || echo no-fork";
    let (_, out, err) = sh(&c, script);
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(
        words.get(..5),
        Some(&["started", "Max", "processes", "1", "1"][..]),
        "{out}{err}"
    );
    assert!(format!("{out}{err}").contains("Cannot fork"), "{out}{err}");
}

#[test]
fn the_init_reports_a_failed_exec_as_an_exec_error() {
    let e = sandbox().command("/no/such/program").status().unwrap_err();
    match e {
        hakoniwa::Error::Setup { stage, errno, .. } => {
            assert_eq!((stage, errno), (hakoniwa::Stage::Exec, 2))
        }
        other => panic!("{other:?}"),
    }
}

/// Read the pseudo-terminal's master until `needle` has come (generous deadline).
fn read_until(master: &mut File, needle: &str) -> String {
    use std::io::Read;
    let (tx, rx) = std::sync::mpsc::channel();
    let mut m = master.try_clone().unwrap();
    let needle = needle.to_string();
    std::thread::spawn(move || {
        let mut seen = Vec::new();
        let mut buf = [0u8; 512];
        while let Ok(n) = m.read(&mut buf) {
            if n == 0 {
                break;
            }
            seen.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&seen).contains(&needle) {
                break;
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&seen).into_owned());
    });
    rx.recv_timeout(Duration::from_secs(30))
        .expect("the program's output never came")
}

#[test]
fn with_a_controlling_terminal_the_program_s_group_is_its_foreground_in_a_session_of_its_own() {
    for init in [true, false] {
        let (mut master, slave) = pty();
        let mut c = sandbox();
        c.init(init);
        let mut cmd = c.command("/bin/sh");
        // pgrp, session, tpgid (the terminal's foreground group) of the shell.
        cmd.args(["-c", "echo ids $(cut -d' ' -f5,6,8 /proc/$$/stat) end"])
            .stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave))
            .controlling_terminal(true);
        let mut child = cmd.spawn().unwrap();
        let seen = read_until(&mut master, " end");
        assert!(child.wait().unwrap().success());
        // With the init: the program is pid 2 in its own group, the init (1) leads the
        // session. Without: the program leads both. Its group has the terminal.
        let want = if init {
            "ids 2 1 2 end"
        } else {
            "ids 1 1 1 end"
        };
        assert!(seen.contains(want), "init {init}: {seen:?}");
    }
}

#[test]
fn a_controlling_terminal_that_is_not_a_terminal_is_refused() {
    let err = sandbox()
        .command("/bin/true")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .controlling_terminal(true)
        .spawn()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("controlling_terminal") && err.contains("is a terminal"),
        "{err}"
    );
}

#[test]
fn with_stdin_not_a_terminal_the_controlling_terminal_is_the_one_on_stdout() {
    for init in [true, false] {
        let (mut master, slave) = pty();
        let mut c = sandbox();
        c.init(init);
        let mut cmd = c.command("/bin/sh");
        // The shell's group has the terminal on fd 1 (tpgid == pgrp), stdin stays /dev/null,
        // and a SIGINT sent through the master (as the CLI does for a Ctrl-C typed in its
        // own terminal) reaches it (its handler runs: without an init it is PID 1).
        cmd.args([
            "-c",
            "s=$(cut -d' ' -f5,8 /proc/$$/stat); set -- $s; \
             [ \"$1\" = \"$2\" ] && echo fg-ok; [ -t 0 ] || echo stdin-not-tty; \
             trap 'exit 3' INT; echo rea''dy; while :; do sleep 1; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::from(slave))
        .controlling_terminal(true);
        let mut child = cmd.spawn().unwrap();
        let seen = read_until(&mut master, "ready");
        assert!(seen.contains("fg-ok"), "init {init}: {seen:?}");
        assert!(seen.contains("stdin-not-tty"), "init {init}: {seen:?}");
        const TIOCSIG: usize = 0x4004_5436;
        // SAFETY: no pointers: the argument is the signal number.
        let r = unsafe {
            syscalls::syscall!(syscalls::Sysno::ioctl, master.as_raw_fd(), TIOCSIG, 2usize)
        };
        r.expect("TIOCSIG");
        let s = child.wait().unwrap();
        assert_eq!(s.exit_code, Some(3), "init {init}: {s:?}");
    }
}

#[test]
fn ctrl_c_and_ctrl_z_typed_in_its_own_terminal_reach_the_program_and_the_stop_hook() {
    use std::io::Write;
    let (mut master, slave) = pty();
    let mut cmd = sandbox().command("/bin/sh");
    cmd.args(["-c", "echo rea''dy; exec sleep 60"])
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave))
        .controlling_terminal(true);
    let mut child = cmd.spawn().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    child.on_terminal_stop(move |sig| {
        let _ = tx.send(sig);
        true
    });
    read_until(&mut master, "ready");
    // Ctrl-Z: the line discipline stops the program, the hook hears of it, and the program
    // is continued when it returns.
    master.write_all(&[0x1a]).unwrap();
    let waiter = std::thread::spawn(move || child.wait());
    assert_eq!(rx.recv_timeout(Duration::from_secs(30)), Ok(20));
    // Ctrl-C: SIGINT to the (continued) program, which has no handler.
    master.write_all(&[0x03]).unwrap();
    let s = waiter.join().unwrap().unwrap();
    assert_eq!(s.signal, Some(2), "{s:?}");
}

#[test]
fn signals_63_and_64_sent_by_the_caller_reach_the_program() {
    // No signal number is the engine's own: its requests to the init go through a pipe.
    for sig in [63, 64] {
        let mut child = sandbox().command("/bin/sleep").arg("30").spawn().unwrap();
        child.signal(sig).unwrap();
        let s = child.wait().unwrap();
        assert_eq!(s.signal, Some(sig), "{s:?}");
    }
}

/// The state letter (R, S, T, ...) of the program, the init's child.
fn program_state(init: u32) -> Option<char> {
    let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children")).ok()?;
    let program = children.split_whitespace().next()?.to_string();
    let stat = std::fs::read_to_string(format!("/proc/{program}/stat")).ok()?;
    stat.rsplit(") ").next()?.chars().next()
}

/// Wait (10 s at most) until the program's state satisfies `want`.
fn await_program(init: u32, what: &str, want: impl Fn(Option<char>) -> bool) {
    let t = std::time::Instant::now();
    while !want(program_state(init)) {
        assert!(t.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `sh -c 'read x; echo got $x'` with piped stdin and stdout, ended after 20 s at the latest.
fn reading() -> hakoniwa::Child {
    let child = sandbox()
        .command("/bin/sh")
        .args(["-c", "read x; echo got $x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .wait_timeout(Duration::from_secs(20))
        .spawn()
        .unwrap();
    await_program(child.id(), "no program", |s| s.is_some());
    child
}

/// Feed `on` to [`reading`]'s program: it must answer and end normally.
fn answers(mut child: hakoniwa::Child) {
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"on\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "got on\n");
    assert!(out.status.success(), "{:?}", out.status);
}

#[test]
fn sigstop_then_sigcont_sent_back_to_back_leave_the_program_running() {
    // Both go through the init, in the order they were sent; a SIGCONT taken before the
    // stop request (as when the stop was a separate signal and the init took the lower
    // number first) would leave the program stopped, and the wall-time limit would end it.
    let mut child = reading();
    for _ in 0..50 {
        child.signal(19).unwrap();
        child.signal(18).unwrap();
    }
    answers(child);
}

#[test]
fn sigcont_then_sigstop_sent_back_to_back_leave_the_program_stopped() {
    let mut child = reading();
    for _ in 0..50 {
        child.signal(18).unwrap();
        child.signal(19).unwrap();
    }
    await_program(child.id(), "never stopped", |s| s == Some('T'));
    child.signal(18).unwrap();
    answers(child);
}

#[test]
fn a_signaller_signals_from_another_thread_while_this_one_waits() {
    let mut child = sleeping();
    let signaller = child.signaller().unwrap();
    let init = child.id();
    let sender = std::thread::spawn(move || {
        await_program(init, "no program", |s| s.is_some());
        signaller.signal(19).unwrap();
        await_program(init, "never stopped", |s| s == Some('T'));
        // The init relayed the stop and runs on.
        let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap();
        assert!(
            !stat.rsplit(") ").next().unwrap().starts_with('T'),
            "{stat}"
        );
        signaller.signal(18).unwrap();
        signaller.signal(15).unwrap();
        signaller
    });
    let s = child.wait().unwrap();
    assert_eq!(s.signal, Some(15), "{s:?}");
    // Once the sandbox has ended, signals are no error.
    let signaller = sender.join().unwrap();
    signaller.signal(19).unwrap();
    signaller.signal(9).unwrap();
}

#[test]
fn signals_to_a_sandbox_whose_init_has_ended_are_no_error() {
    // The init's end closes its end of the request pipe; the caller's writes neither fail
    // (EPIPE, and SIGPIPE where it is not ignored) nor block once the pipe is full.
    use rustix::event::{poll, PollFd, PollFlags};
    let mut child = sandbox().command("/bin/true").spawn().unwrap();
    {
        let pidfd = child.pidfd();
        let mut fds = [PollFd::new(&pidfd, PollFlags::IN)];
        let ten_s = rustix::event::Timespec {
            tv_sec: 10,
            tv_nsec: 0,
        };
        assert_eq!(poll(&mut fds, Some(&ten_s)).unwrap(), 1, "not ended");
    }
    for _ in 0..70_000 {
        child.signal(19).unwrap();
    }
    for sig in [18, 63, 64, 15, 9] {
        child.signal(sig).unwrap();
    }
    assert!(child.wait().unwrap().success());
}

#[test]
fn the_program_cannot_forge_the_engines_requests_to_the_init() {
    // A real-time signal the kernel cannot queue (the program may lower the init's
    // RLIMIT_SIGPENDING: same ids) arrives without its sender, as a signal from outside
    // the namespace would: 64 used to ask the init to stop the program. It is the
    // program's own signal, forwarded to it.
    let s = sandbox()
        .command("/bin/sh")
        .args([
            "-c",
            "prlimit --pid 1 --sigpending=0:0 && kill -64 1; sleep 2; echo after",
        ])
        .wait_timeout(Duration::from_secs(20))
        .output()
        .unwrap();
    assert_eq!(s.status.signal, Some(64), "{:?}", s);
}

#[test]
fn sigstop_from_the_caller_works_when_the_program_used_up_its_inits_pending_signals() {
    // The engine's request to stop the program goes through a pipe: no signal to the init
    // has to be queued.
    use std::io::{BufRead, BufReader};
    let mut child = sandbox()
        .command("/bin/sh")
        .args([
            "-c",
            "prlimit --pid 1 --sigpending=0:0 && echo lowered && exec sleep 30",
        ])
        .stdout(Stdio::piped())
        .wait_timeout(Duration::from_secs(20))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "lowered\n");
    child.signal(19).unwrap();
    let init = child.id();
    let t = std::time::Instant::now();
    loop {
        let children = std::fs::read_to_string(format!("/proc/{init}/task/{init}/children"))
            .unwrap_or_default();
        let stopped = children.split_whitespace().any(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('T')))
        });
        if stopped {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the program never stopped"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}
