//! Process lifecycle: descriptors, signals, wall-clock limit, parent death, threads (issue 2).
mod common;

use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use common::*;
use hakoniwa::{ExitReason, Stdio};

#[test]
fn non_cloexec_host_fd_is_not_visible_inside() {
    // std opens with O_CLOEXEC; make a descriptor without it at a recognisable number: the
    // lowest free one from 57 up (a fixed number could be another test's, running at the
    // same time in this process).
    let f = std::fs::File::open("/etc/passwd").unwrap();
    let high = rustix::io::fcntl_dupfd_cloexec(&f, 57).unwrap();
    rustix::io::fcntl_setfd(&high, rustix::io::FdFlags::empty()).unwrap();
    let number = high.as_raw_fd().to_string();
    assert!(
        rustix::io::fcntl_getfd(&high).unwrap().is_empty(),
        "fd {number} must be inheritable for this test"
    );
    let (code, out, _) = sh(&sandbox(), "ls /proc/self/fd");
    assert_eq!(code, 0);
    let fds: Vec<&str> = out.split_whitespace().collect();
    assert!(!fds.contains(&number.as_str()), "{fds:?}");
    assert!(
        fds.len() <= 4,
        "only stdio (and ls's own directory fd) expected: {fds:?}"
    );
    drop(high);
}

#[test]
fn an_inherited_stdout_marked_close_on_exec_still_reaches_the_program() {
    // Descriptor 1 stays where it is on the way to the program (no copy is made): the child
    // must still clear a close-on-exec flag the caller left on it. In a forked copy of this
    // process, whose descriptor 1 may be replaced.
    let code = in_forked_process(|| {
        use std::io::Read;
        use std::os::fd::FromRawFd;
        let mut fds = [0; 2];
        // SAFETY: descriptor calls on this forked process's own table.
        unsafe {
            assert_eq!(libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC), 0);
            assert_eq!(libc::dup3(fds[1], 1, libc::O_CLOEXEC), 1);
            libc::close(fds[1]);
        }
        let status = sandbox()
            .command("/bin/sh")
            .args(["-c", "echo reached"])
            .status()
            .unwrap();
        // SAFETY: the last write end goes, so the read below ends; `fds[0]` is owned by the
        // file from now on.
        let mut read_end = unsafe {
            libc::close(1);
            std::fs::File::from_raw_fd(fds[0])
        };
        let mut out = String::new();
        read_end.read_to_string(&mut out).unwrap();
        status.success() && out == "reached\n"
    });
    assert_eq!(code, OK);
}

#[test]
fn passed_fd_arrives_at_its_number() {
    let (r, w) = rustix::pipe::pipe().unwrap();
    let mut cmd = sandbox().command("/bin/sh");
    cmd.args(["-c", "echo through-fd-5 >&5"]).preserve_fd(w, 5);
    let s = cmd.status().unwrap();
    assert!(s.success());
    let mut buf = [0u8; 64];
    let n = rustix::io::read(&r, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"through-fd-5\n");
}

#[test]
fn signal_state_is_reset_for_the_program() {
    // The Rust test harness runs with SIGPIPE ignored, like a Python host.
    let (code, out, err) = sh(
        &sandbox(),
        "grep -E '^Sig(Blk|Ign)' /proc/self/status; yes | head -1",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\ny\n"
    );
    assert!(err.is_empty(), "yes must die of SIGPIPE quietly: {err}");
}

#[test]
fn stdio_null_and_fd() {
    let f = tempfile_path("stdio");
    let file = std::fs::File::create(&f).unwrap();
    let s = sandbox()
        .command("/bin/sh")
        .args(["-c", "echo to-file; cat"])
        .stdin(Stdio::null())
        .stdout(file)
        .status()
        .unwrap();
    assert!(s.success());
    assert_eq!(std::fs::read_to_string(&f).unwrap(), "to-file\n");
    std::fs::remove_file(f).unwrap();
}

fn tempfile_path(tag: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hakoniwa-test-{tag}-{}", std::process::id()))
}

#[test]
fn piped_stdin_round_trip() {
    use std::io::{Read, Write};
    let mut child = sandbox()
        .command("/bin/cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"hello").unwrap();
    let mut s = String::new();
    child.stdout.take().unwrap().read_to_string(&mut s).unwrap();
    assert_eq!(s, "hello");
    assert!(child.wait().unwrap().success());
}

#[test]
fn output_drains_100_mib_on_each_stream_without_deadlock() {
    let mut c = sandbox();
    c.devfsmount("/dev");
    let out = c
        .command("/bin/sh")
        .args([
            "-c",
            "head -c 104857600 /dev/zero & head -c 104857600 /dev/zero >&2; wait",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout.len(), 100 << 20);
    assert_eq!(out.stderr.len(), 100 << 20);
}

#[test]
fn wall_clock_limit_kills_the_whole_sandbox() {
    use std::io::BufRead;
    let marker = format!("{}.{}", 4000 + std::process::id() % 1000, 271828);
    let mut c = sandbox();
    c.devfsmount("/dev"); // the shell starts background jobs with stdin from /dev/null
    let mut child = c
        .command("/bin/sh")
        // A double-forked daemon that would outlive its parent; "started" once it runs. The
        // shell's own sleep would end long after the limit.
        .args([
            "-c",
            &format!(
                "(setsid sleep {marker} &); \
                 until ps -e -o args= | grep -qx 'sleep {marker}'; do sleep 0.01; done; \
                 echo started; sleep 60"
            ),
        ])
        .stdout(Stdio::piped())
        .wait_timeout(Duration::from_secs(3))
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(
        line, "started\n",
        "the daemon did not start within the limit"
    );
    // The daemon really runs (so its absence below means something). Only its command line
    // is exactly `sleep MARKER` (the shell's names the marker too).
    let daemons = || {
        host_pids_with(&format!("sleep {marker}"))
            .into_iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c == format!("sleep\0{marker}\0").as_bytes())
            })
            .count()
    };
    assert_eq!(daemons(), 1);
    let s = child.wait().unwrap();
    assert_eq!(s.reason, ExitReason::WallTimeExceeded);
    assert_eq!(s.code(), 137);
    // The PID namespace died with its PID 1: no daemon left on the host.
    let gone = Instant::now();
    while daemons() != 0 {
        assert!(
            gone.elapsed() < Duration::from_secs(20),
            "the daemon survived"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn wall_clock_limit_applies_to_output_too() {
    // The limit is ten times what the echo needs on a loaded machine; the sleep would end
    // long after it.
    let out = sandbox()
        .command("/bin/sh")
        .args(["-c", "echo started; sleep 60"])
        .wait_timeout(Duration::from_secs(2))
        .output()
        .unwrap();
    assert_eq!(out.status.reason, ExitReason::WallTimeExceeded);
    assert_eq!(out.stdout, b"started\n");
}

#[test]
fn signal_62_reaches_the_program_of_a_sandbox_spawned_from_another_thread() {
    // Like any signal, whichever thread cloned the sandbox.
    let mut child = sandbox().command("/bin/sleep").arg("30").spawn().unwrap();
    child.signal(62).unwrap();
    let s = child.wait().unwrap();
    assert_eq!(s.signal, Some(62), "{s:?}");
}

/// Spawn `sleep 0.5` in `c` from a thread that ends at once; it must run to its end.
fn outlives_the_thread_that_spawned_it(c: hakoniwa::Container) {
    let mut child = std::thread::spawn(move || c.command("/bin/sleep").arg("0.5").spawn().unwrap())
        .join()
        .unwrap();
    std::thread::sleep(Duration::from_millis(100)); // the spawning thread is gone
    let s = child.wait().unwrap();
    assert!(s.success(), "{s:?}");
}

#[test]
fn sandbox_outlives_the_thread_that_spawned_it() {
    // Cloned by the thread itself: its init has no parent-death signal and watches the host.
    outlives_the_thread_that_spawned_it(sandbox());
}

/// The `hold` example as the host process, killed and reaped however the test ends (a
/// failed assertion must not leave it holding its sandbox forever).
struct Host(std::process::Child);

impl Host {
    /// Start `hold ARGS [SCRIPT]` and wait until it has spawned its sandbox.
    fn hold(args: &[&str], script: Option<&str>) -> Host {
        let mut host = Host(
            std::process::Command::new(example("hold"))
                .args(args)
                .args(script)
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(host.0.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "spawned");
        host
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Spawn `sleep MARKER` from the `hold` example (its thread `from`), kill the example, and
/// check that the sandbox died with it.
fn sandbox_dies_with_the_host_process_spawned_from(from: &str, salt: u32) {
    sandbox_running_dies_with_the_host_process(from, None, salt)
}

/// As above, the program being `sh -c SCRIPT sh MARKER` when `script` is given.
fn sandbox_running_dies_with_the_host_process(from: &str, script: Option<&str>, salt: u32) {
    let marker = format!("{}.{}", 5000 + std::process::id() % 1000, salt);
    let host = Host::hold(&[marker.as_str(), from], script);
    // `spawn` returns once the program's execve has closed the error pipe, which the
    // kernel does before it writes the new image's arguments (`/proc/PID/cmdline` reads
    // empty for that moment): wait for them rather than read once.
    let t = Instant::now();
    while host_pids_with(&format!("sleep {marker}")).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the sandbox never ran"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(host_pids_with(&format!("sleep {marker}")).len(), 1);
    drop(host); // SIGKILL, then reaped
    let t = Instant::now();
    while !host_pids_with(&format!("sleep {marker}")).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "sandbox survived its host"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_init_whose_engine_is_gone_without_killing_it_does_not_spin() {
    // The host replaces itself (execve): the sandbox stays its child, but the engine's
    // end of the request pipe is closed. The init's watch would report that end forever;
    // the init stops watching the pipe instead and goes on sleeping.
    let marker = format!("{}.7", 5000 + std::process::id() % 1000);
    let host = Host::hold(&[marker.as_str(), "exec"], None);
    let t = Instant::now();
    let program = loop {
        if let Some(p) = host_pids_with(&format!("sleep {marker}")).first() {
            break *p;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "never ran");
        std::thread::sleep(Duration::from_millis(5));
    };
    let field = |pid: u32, n: usize| -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let rest: Vec<&str> = stat.rsplit(") ").next().unwrap().split(' ').collect();
        rest[n - 3].parse().unwrap() // fields counted from 1; the rest starts at field 3
    };
    let init = field(program, 4) as u32; // the program's parent
                                         // Wait until the host has exec'd (its descriptors are closed then).
    while !std::fs::read_to_string(format!("/proc/{}/cmdline", host.0.id()))
        .unwrap_or_default()
        .starts_with("/bin/sleep\u{0}60")
    {
        assert!(t.elapsed() < Duration::from_secs(20), "never exec'd");
        std::thread::sleep(Duration::from_millis(5));
    }
    let ticks = |pid| field(pid, 14) + field(pid, 15); // utime + stime
    let before = ticks(init);
    std::thread::sleep(Duration::from_secs(1));
    let used = ticks(init) - before;
    // A spinning init uses about every tick of the second (100 per second); a sleeping one
    // none.
    assert!(used < 50, "the init used {used} clock ticks in 1 s");
    assert_eq!(host_pids_with(&format!("sleep {marker}")), vec![program]);
    drop(host);
    let t = Instant::now();
    while !host_pids_with(&format!("sleep {marker}")).is_empty() {
        assert!(t.elapsed() < Duration::from_secs(20), "outlived its host");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_sandbox_whose_program_may_ptrace_outlives_the_thread_that_spawned_it() {
    // CAP_SYS_PTRACE would let the program reach the init's descriptors: its init does not
    // watch the host, and a spawner thread clones it instead (see host_watch.rs).
    let mut c = sandbox();
    c.cap_add(19);
    outlives_the_thread_that_spawned_it(c);
}

#[test]
fn a_sandbox_without_an_init_outlives_the_thread_that_spawned_it() {
    // The program is PID 1: a spawner thread clones it.
    let mut c = sandbox();
    c.init(false);
    outlives_the_thread_that_spawned_it(c);
}

/// The number of pidfds the init of a `sleep` spawned from this (non-main) thread holds, or
/// `None` where its descriptors cannot be listed (the init is not dumpable: only root can).
fn pidfds_held_by_the_init(c: &hakoniwa::Container) -> Option<usize> {
    let mut child = c.command("/bin/sleep").arg("10").spawn().unwrap();
    let init = child.id(); // the sandbox's PID 1
    let n = std::fs::read_dir(format!("/proc/{init}/fd")).ok().map(|d| {
        d.flatten()
            .filter(|e| {
                std::fs::read_link(e.path()).is_ok_and(|l| l.to_str() == Some("anon_inode:[pidfd]"))
            })
            .count()
    });
    child.kill().unwrap();
    child.wait().unwrap();
    n
}

#[test]
fn the_init_holds_the_hosts_pidfd_only_where_the_program_cannot_ptrace_it() {
    assert_ne!(
        rustix_free_gettid(),
        std::process::id(),
        "runs on a test thread"
    );
    let Some(n) = pidfds_held_by_the_init(&sandbox()) else {
        return; // not root: covered by the two tests around this one
    };
    assert_eq!(n, 1, "the default sandbox's init watches the host");
    let mut c = sandbox();
    c.cap_add(19);
    assert_eq!(pidfds_held_by_the_init(&c), Some(0), "CAP_SYS_PTRACE kept");
}

/// This thread's id (`/proc/thread-self`).
fn rustix_free_gettid() -> u32 {
    std::fs::read_link("/proc/thread-self")
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

#[test]
fn sandbox_dies_with_the_host_process() {
    sandbox_dies_with_the_host_process_spawned_from("main", 314159);
}

#[test]
fn sandbox_spawned_from_another_thread_dies_with_the_host_process() {
    // Cloned by that thread itself (its init watches the host's pidfd; see host_watch.rs).
    sandbox_dies_with_the_host_process_spawned_from("thread", 271828);
}

#[test]
fn a_program_that_lowers_the_inits_open_file_limit_still_dies_with_the_host() {
    // The program has the init's ids, so it may lower the init's limits. A `poll` of two
    // descriptors under RLIMIT_NOFILE 1 fails (EINVAL); an orphan's end then made the init
    // wait for signals alone, and the sandbox outlived its host. `epoll_wait` has no limit.
    let script = "prlimit --pid 1 --nofile=1:1 || exit 9; (sleep 0.2 &); exec sleep \"$1\"";
    sandbox_running_dies_with_the_host_process("thread", Some(script), 173205);
}

#[test]
fn sandbox_spawned_from_an_ended_thread_dies_with_the_host_process() {
    // The thread's end was not the host's: the init kept running until the host's.
    sandbox_dies_with_the_host_process_spawned_from("ended-thread", 141421);
}

#[test]
fn dropping_a_child_kills_and_reaps_it() {
    let child = sandbox().command("/bin/sleep").arg("30").spawn().unwrap();
    let fd = child.pidfd().as_raw_fd();
    assert!(fd > 2);
    let pid = child.id();
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    drop(child);
    // Killed and reaped: the pid is gone entirely (not even a zombie).
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
}

#[test]
fn host_killed_mid_setup_leaves_nothing_behind() {
    let mountinfo = || std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let before = mountinfo();
    let tmp_before = my_tmp_entries(&["hakoniwa-test-"]);
    let marker = format!("{}.{}", 6000 + std::process::id() % 1000, 161803);
    for i in 0..100u64 {
        let mut host = std::process::Command::new(example("hold"))
            .arg(&marker)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // From right away to a few milliseconds: many kills land during the sandbox's setup.
        std::thread::sleep(Duration::from_micros((i % 8) * 400));
        host.kill().unwrap();
        host.wait().unwrap();
    }
    let t = Instant::now();
    while !host_pids_with(&format!("sleep {marker}")).is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "a sandbox outlived its killed host"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(mountinfo(), before);
    let new = new_tmp_entries(&tmp_before, &["hakoniwa-test-"]);
    assert!(new.is_empty(), "new entries in /tmp: {new:?}");
}

#[test]
fn container_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<hakoniwa::Container>();
    check::<hakoniwa::ExitStatus>();
    check::<hakoniwa::Error>();
}

#[test]
fn passed_fds_cannot_displace_the_error_pipe() {
    let out = std::process::Command::new(example("fd_collision"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok", "{out:?}");
}

/// A command keeps its stdio and preserved descriptors across spawns, as
/// `std::process::Command` does (issue 11: the second spawn used to run with defaults).
#[test]
fn a_command_spawned_twice_keeps_its_stdout_and_preserved_fds() {
    use std::io::Read;
    let (mut out_r, out_w) = std::io::pipe().unwrap();
    let (mut fd5_r, fd5_w) = std::io::pipe().unwrap();
    let c = sandbox();
    let mut cmd = c.command("/bin/sh");
    cmd.args(["-c", "echo out; echo five >&5"])
        .stdout(std::os::fd::OwnedFd::from(out_w))
        .preserve_fd(fd5_w.into(), 5);
    for _ in 0..2 {
        assert!(cmd.status().unwrap().success());
    }
    drop(cmd); // closes the command's own copies: the readers see EOF
    let mut out = String::new();
    out_r.read_to_string(&mut out).unwrap();
    let mut five = String::new();
    fd5_r.read_to_string(&mut five).unwrap();
    assert_eq!(out, "out\nout\n");
    assert_eq!(five, "five\nfive\n");
}

#[test]
fn program_id_is_the_host_pid_of_the_program_not_of_the_init() {
    let mut child = sandbox().command("/bin/sleep").arg("30").spawn().unwrap();
    let pid = child.program_id().expect("the program runs");
    assert_ne!(pid, child.id(), "the init is PID 1, the program its child");
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).unwrap();
        line.split_whitespace().last().unwrap().to_string()
    };
    assert_eq!(field("NSpid:"), "2", "{status}");
    assert_eq!(field("PPid:"), child.id().to_string(), "{status}");
    // `spawn` returns once the program's execve is past its point of no return (its
    // close-on-exec descriptors are closed); the kernel renames it a moment later.
    let comm = format!("/proc/{pid}/comm");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_to_string(&comm).unwrap() != "sleep\n" {
        assert!(Instant::now() < deadline, "the program never became sleep");
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_stop_and_continue_of_the_init_of_a_sandbox_spawned_from_another_thread_does_not_end_it() {
    // Its init waits for signals and the host's end together; a stop and continue (as
    // `kill -STOP`/`-CONT`, a freezer's freeze and thaw, a tracer's attach) interrupts that
    // wait, which is then waited again, as the init of a main-thread spawn does.
    assert_ne!(
        rustix_free_gettid(),
        std::process::id(),
        "runs on a test thread"
    );
    let mut child = sandbox().command("/bin/sleep").arg("1").spawn().unwrap();
    let init = child.id().to_string();
    let state = || {
        let stat = std::fs::read_to_string(format!("/proc/{init}/stat")).unwrap_or_default();
        stat.rsplit(')')
            .next()
            .and_then(|r| r.trim().chars().next())
    };
    for (sig, want) in [("-STOP", 'T'), ("-CONT", 'S')] {
        assert!(std::process::Command::new("kill")
            .args([sig, &init])
            .status()
            .unwrap()
            .success());
        let start = Instant::now();
        while state() != Some(want) {
            assert!(start.elapsed() < Duration::from_secs(10), "{:?}", state());
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    let s = child.wait().unwrap();
    assert!(s.success(), "{s:?}");
}

#[test]
fn a_host_out_of_descriptors_gets_an_error_naming_the_call_and_the_spawn_works_again() {
    // Every descriptor the host may open is in use: the spawn fails with EMFILE naming what
    // it could not open, from the main thread and from another one, leaves nothing behind,
    // and works again once descriptors are free.
    let code = in_forked_process(|| {
        let limit = libc::rlimit {
            rlim_cur: 64,
            rlim_max: 64,
        };
        // SAFETY: a valid rlimit struct; lowers this forked process's own limit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        let c = sandbox();
        c.command("/bin/true").status().unwrap(); // the init's memfd, opened once
        let mut held = Vec::new();
        while let Ok(f) = std::fs::File::open("/dev/null") {
            held.push(f);
        }
        let from_main = c.command("/bin/true").status().unwrap_err();
        let c2 = c.clone();
        let from_thread = std::thread::spawn(move || c2.command("/bin/true").status().unwrap_err())
            .join()
            .unwrap();
        for e in [&from_main, &from_thread] {
            let text = e.to_string();
            if e.errno() != Some(24) || !text.contains("Too many open files") {
                panic!("{e:?}: {text}");
            }
        }
        held.truncate(held.len() - 20);
        let leftover = std::fs::read_to_string(format!(
            "/proc/{}/task/{}/children",
            std::process::id(),
            std::process::id()
        ))
        .unwrap();
        assert_eq!(leftover.trim(), "", "children left");
        c.command("/bin/true").status().unwrap().success()
    });
    assert_eq!(code, OK);
}
