//! Signals sent to `hakoniwa run` (issue 14, "Stopping hakoniwa must clean up" and
//! "Signals, PID 1 and the terminal"): forwarded to the program while it runs; during setup
//! they end hakoniwa; either way the sandbox and pasta are gone, the root directory is left
//! as it was, and the exit code is 128+N.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn kill(child: &Child, sig: i32) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let sig = rustix::process::Signal::from_named_raw(sig).unwrap();
    let _ = rustix::process::kill_process(pid, sig);
}

/// Wait at most 60 s (a generous bound for a loaded machine) for `child` to end. If it does not: `Err` with what its processes were
/// doing then (it is killed afterwards).
fn wait(mut child: Child) -> Result<ExitStatus, String> {
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return Ok(s);
        }
        if t.elapsed() > Duration::from_secs(60) {
            let seen = tree(child.id());
            let _ = child.kill();
            let _ = child.wait();
            return Err(seen);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// `pid` and its descendants, one line each: pid, name, state and kernel wait channel of
/// every thread, command line.
fn tree(pid: u32) -> String {
    let read = |p: String| std::fs::read_to_string(p).unwrap_or_else(|_| "?".into());
    let mut out = String::new();
    let mut todo = vec![(pid, 0)];
    while let Some((pid, depth)) = todo.pop() {
        let mut threads = Vec::new();
        let mut children = Vec::new();
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let t = task.path();
            let stat = read(format!("{}/stat", t.display()));
            let state = stat
                .rfind(')')
                .and_then(|i| stat.get(i + 2..i + 3))
                .unwrap_or("?");
            let comm = read(format!("{}/comm", t.display()));
            let wchan = read(format!("{}/wchan", t.display()));
            threads.push(format!("{}:{state}:{wchan}", comm.trim()));
            for c in read(format!("{}/children", t.display())).split_whitespace() {
                children.extend(c.parse::<u32>().ok().map(|c| (c, depth + 1)));
            }
        }
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        let indent = "  ".repeat(depth);
        out += &format!("{indent}{pid} [{}] {cmd}\n", threads.join(" "));
        todo.extend(children);
    }
    out
}

/// Make `cmd` start with the default disposition of `sigs`. An ignored disposition is
/// inherited (`nohup` ignores SIGHUP; a non-interactive shell's `&` ignores SIGINT and
/// SIGQUIT), and the kernel discards an ignored signal that arrives before hakoniwa has
/// blocked it: the run would then go on as if it had not been sent.
fn default_dispositions<'a>(cmd: &'a mut Command, sigs: &'static [i32]) -> &'a mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before execve and makes only raw system
    // calls on memory of its own stack.
    unsafe {
        cmd.pre_exec(move || {
            for &sig in sigs {
                // struct kernel_sigaction: handler SIG_DFL (0), flags, restorer, mask.
                let act = [0u64; 4];
                // SAFETY: `act` is a live kernel_sigaction; no old action is wanted.
                syscalls::syscall!(
                    syscalls::Sysno::rt_sigaction,
                    sig,
                    act.as_ptr(),
                    0usize,
                    8usize
                )
                .map_err(|e| std::io::Error::from_raw_os_error(e.into_raw()))?;
            }
            Ok(())
        })
    }
}

/// Host processes named `comm` whose command line contains `needle`.
fn processes(comm: &str, needle: &str) -> Vec<String> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let p = e.path();
        let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if name.trim() == comm && cmd.contains(needle) {
            v.push(cmd);
        }
    }
    v
}

#[test]
fn signals_sent_to_hakoniwa_reach_the_program() {
    // os.write and os._exit: the signal may interrupt the print of "ready" itself. Short
    // sleeps: Python runs a handler between bytecodes, and a signal that comes just before
    // a long sleep's system call would wait for its end (seen: 30 s, then "got 10").
    let script = "import os, signal, time\n\
                  def got(n, f):\n    os.write(1, b'got %d\\n' % n); os._exit(0)\n\
                  for s in (1, 2, 3, 10, 12, 15, 28): signal.signal(s, got)\n\
                  print('ready', flush=True)\n\
                  for _ in range(600): time.sleep(0.05)\n";
    for sig in [1, 2, 3, 10, 12, 15, 28] {
        let mut child = Command::new(bin())
            .args(["run", "-v", "--", "/usr/bin/python3", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (mut out, mut line) = ready(&mut child);
        // The program runs before hakoniwa has learnt that it does: a signal until then
        // counts as one during setup and ends the sandbox (README, "Signals"). The verbose
        // log's Execve line comes once hakoniwa forwards.
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut log = String::new();
        while !log.contains("Execve:") {
            let n = err.read_line(&mut log).unwrap();
            assert_ne!(n, 0, "signal {sig}: no Execve line in the log:\n{log}");
        }
        kill(&child, sig);
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, format!("got {sig}\n"), "signal {sig}");
        let code = wait(child).unwrap_or_else(|seen| panic!("signal {sig}: not ended:\n{seen}"));
        assert_eq!(code.code(), Some(0), "signal {sig}: {code:?}");
    }
}

#[test]
fn a_forwarded_signal_that_ends_the_program_gives_128_plus_n() {
    for sig in [1, 2, 3, 10, 12, 15] {
        // A duration no other run uses, to find this sleep among the host's processes.
        let secs = format!("30.{}{sig}", std::process::id());
        let mut child = Command::new(bin())
            .args([
                "run",
                "--",
                "sh",
                "-c",
                &format!("echo ready; exec sleep {secs}"),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let t = Instant::now();
        while processes("sleep", &secs).is_empty() {
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "signal {sig}: no sleep {secs}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        kill(&child, sig);
        // hakoniwa itself exits (after the teardown) rather than dying of the signal; for
        // SIGINT and SIGQUIT it then ends by the same signal, as the program did, so that
        // shells stop a loop for it (its status in a shell is still 128+N).
        let status = wait(child).unwrap_or_else(|seen| panic!("signal {sig}: not ended:\n{seen}"));
        use std::os::unix::process::ExitStatusExt;
        if sig == 2 || sig == 3 {
            assert_eq!(status.signal(), Some(sig), "signal {sig}: {status:?}");
            assert!(!status.core_dumped(), "signal {sig}: {status:?}");
        } else {
            assert_eq!(status.code(), Some(128 + sig), "signal {sig}: {status:?}");
        }
    }
}

/// The program's stdout once it printed its first line, "ready" (and that line).
fn ready(child: &mut Child) -> (BufReader<std::process::ChildStdout>, String) {
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    (out, line)
}

/// `hakoniwa run -- sh -c SCRIPT` started with `sig` ignored (by a shell's `trap ''`).
fn ignoring(sig: &str, script: &str) -> Command {
    let mut c = Command::new("sh");
    c.args([
        "-c",
        &format!(
            "trap '' {sig}; exec {} run -- sh -c '{script}'",
            common::sh_quote(&bin())
        ),
    ]);
    c
}

#[test]
fn a_signal_hakoniwa_was_started_ignoring_is_not_forwarded() {
    // `nohup`, or a script's `&` for SIGINT: hakoniwa blocks the signal to take it, which
    // would queue what the kernel otherwise drops.
    let mut child = ignoring("HUP", "echo ready; sleep 1; echo survived")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut out, mut line) = ready(&mut child);
    kill(&child, 1);
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "survived\n");
    let status = wait(child).unwrap_or_else(|seen| panic!("not ended:\n{seen}"));
    assert_eq!(status.code(), Some(0), "{status:?}");
}

#[test]
fn started_with_sigint_ignored_hakoniwa_exits_130_rather_than_ending_by_it() {
    // As shells start background jobs: the signal hakoniwa would end by is ignored, so it
    // exits with the code instead.
    let status = ignoring("INT", "kill -INT $$")
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
}

#[test]
fn an_ending_signal_at_any_moment_gives_128_plus_n_stops_pasta_and_leaves_the_rootdir_as_it_was() {
    use std::os::unix::process::ExitStatusExt;
    let pasta = Command::new("pasta").arg("--version").output().is_ok();
    let root = scratch("sigroot");
    write(&root.join("keep"), "mine\n");
    let before = std::fs::read_dir(&root).unwrap().count();
    let logs = temp_dir("sigstderr");
    let log = logs.join("stderr");
    const SIGNALS: [i32; 3] = [15, 2, 1];
    for sig in SIGNALS {
        for delay_ms in [0, 3, 10, 25, 50, 100, 200] {
            let port = forward_port();
            let mut args = vec!["run".to_string(), "--rootdir".into(), s(&root).into()];
            if pasta {
                args.extend(["--network".into(), format!("pasta:-t,{port}")]);
            }
            args.extend(["--".into(), "sleep".into(), "300".into()]);
            let child = default_dispositions(&mut Command::new(bin()), &SIGNALS)
                .args(&args)
                .stdin(Stdio::null())
                .stderr(std::fs::File::create(&log).unwrap())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            kill(&child, sig);
            let code = wait(child);
            let stderr = std::fs::read_to_string(&log).unwrap_or_default();
            let what = format!("signal {sig} after {delay_ms} ms (port {port})");
            let code = code.unwrap_or_else(|seen| {
                panic!("{what}: hakoniwa did not end within 60 s; its processes then:\n{seen}stderr:\n{stderr}")
            });
            // A death by the signal counts as 128+N: only possible before hakoniwa has
            // installed its handling, when nothing exists yet.
            let code = code
                .code()
                .unwrap_or_else(|| 128 + code.signal().unwrap_or(0));
            assert_eq!(code, 128 + sig, "{what}; stderr:\n{stderr}");
            let marker = format!("-t {port} ");
            let t = Instant::now();
            while !processes("pasta", &marker).is_empty() || !processes("passt", &marker).is_empty()
            {
                assert!(
                    t.elapsed() < Duration::from_secs(15),
                    "pasta left running: {what}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
            let left: Vec<_> = std::fs::read_dir(&root)
                .unwrap()
                .flatten()
                .map(|e| e.file_name())
                .collect();
            assert_eq!(left.len(), before, "{what}: {left:?}");
        }
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// Without a profile or pasta no thread takes the signals until the program has run for a
/// moment (setup takes them at its checkpoints, then the main thread while it watches the
/// program's first moments): a signal at any of those moments still ends the run with
/// 128+N.
#[test]
fn an_ending_signal_before_and_after_the_signal_thread_starts_gives_128_plus_n() {
    const SIGNALS: [i32; 2] = [15, 1];
    for sig in SIGNALS {
        for delay_us in [0, 300, 1_000, 2_000, 5_000, 15_000, 40_000, 100_000] {
            let child = default_dispositions(&mut Command::new(bin()), &SIGNALS)
                .args(["run", "--", "sleep", "300"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_micros(delay_us));
            kill(&child, sig);
            let what = format!("signal {sig} after {delay_us} us");
            let status = wait(child).unwrap_or_else(|seen| panic!("{what}: not ended:\n{seen}"));
            use std::os::unix::process::ExitStatusExt;
            // A death by the signal counts as 128+N: only possible before hakoniwa has
            // blocked it, when nothing exists yet.
            let code = status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
            assert_eq!(code, 128 + sig, "{what}");
        }
    }
}

/// `timeout` ends its command with SIGTERM, then SIGCONT, so that a stopped one wakes up to
/// end; a program that stopped itself inside the sandbox must end the same way (found by an
/// attack session: the run hung for ever, as SIGCONT was not passed on).
#[test]
fn timeout_ends_a_program_that_stopped_itself() {
    let mut child = Command::new("timeout")
        .args([
            "2",
            &bin(),
            "run",
            "--",
            "sh",
            "-c",
            "kill -STOP $$; echo resumed",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    // `timeout` leads a process group of its own: if the run hangs, end that whole group
    // (hakoniwa, and with it the sandbox), not only `timeout`.
    let group = child.id() as i32;
    let status = wait(child).unwrap_or_else(|seen| {
        let _ = rustix::process::kill_process_group(
            rustix::process::Pid::from_raw(group).unwrap(),
            rustix::process::Signal::KILL,
        );
        panic!("not ended:\n{seen}")
    });
    assert_eq!(status.code(), Some(124), "timeout's own code: {status:?}");
    let mut out = String::new();
    std::io::Read::read_to_string(&mut BufReader::new(stdout), &mut out).unwrap();
    assert_eq!(out, "", "SIGTERM came first: the program never printed");
}
