//! Signals sent to `hakoniwa run` (issue 14, "Stopping hakoniwa must clean up" and
//! "Signals, PID 1 and the terminal"): forwarded to the program while it runs; during setup
//! they end hakoniwa; either way the sandbox, pasta and the created mount points are gone
//! and the exit code is 128+N.
mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn kill(child: &Child, sig: i32) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).unwrap();
    let sig = rustix::process::Signal::from_named_raw(sig).unwrap();
    let _ = rustix::process::kill_process(pid, sig);
}

/// Wait at most 15 s; the exit code, with a death by signal N counted as 128+N (only
/// possible before hakoniwa has installed its handling, when nothing exists yet).
fn wait(mut child: Child) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    let t = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0));
        }
        if t.elapsed() > Duration::from_secs(15) {
            let _ = child.kill();
            panic!("hakoniwa did not end");
        }
        std::thread::sleep(Duration::from_millis(10));
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
    // os.write and os._exit: the signal may interrupt the print of "ready" itself.
    let script = "import os, signal, time\n\
                  def got(n, f):\n    os.write(1, b'got %d\\n' % n); os._exit(0)\n\
                  for s in (1, 2, 3, 10, 12, 15, 28): signal.signal(s, got)\n\
                  print('ready', flush=True)\n\
                  time.sleep(30)\n";
    for sig in [1, 2, 3, 10, 12, 15, 28] {
        let mut child = Command::new(bin())
            .args(["run", "--", "/usr/bin/python3", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, "ready\n");
        kill(&child, sig);
        line.clear();
        out.read_line(&mut line).unwrap();
        assert_eq!(line, format!("got {sig}\n"));
        assert_eq!(wait(child), 0, "signal {sig}");
    }
}

#[test]
fn a_forwarded_signal_that_ends_the_program_gives_128_plus_n() {
    for sig in [1, 2, 3, 10, 12, 15] {
        let mut child = Command::new(bin())
            .args(["run", "--", "sh", "-c", "echo ready; exec sleep 30"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        std::thread::sleep(Duration::from_millis(50)); // until the exec
        kill(&child, sig);
        // hakoniwa itself exits (after the teardown) rather than dying of the signal.
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(128 + sig), "signal {sig}: {status:?}");
    }
}

#[test]
fn an_ending_signal_at_any_moment_removes_pasta_and_the_created_mount_points() {
    let pasta = Command::new("pasta").arg("--version").output().is_ok();
    let root = scratch("sigroot");
    write(&root.join("keep"), "mine\n");
    let before = std::fs::read_dir(&root).unwrap().count();
    let mut n = 0;
    for sig in [15, 2, 1] {
        for delay_ms in [0, 3, 10, 25, 50, 100, 200] {
            n += 1;
            let port = 20000 + (std::process::id() % 20000) as u16 + n;
            let mut args = vec!["run".to_string(), "--rootdir".into(), s(&root).into()];
            if pasta {
                args.extend(["--network".into(), format!("pasta:-t,{port}")]);
            }
            args.extend(["--".into(), "sleep".into(), "30".into()]);
            let child = Command::new(bin())
                .args(&args)
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            kill(&child, sig);
            let code = wait(child);
            let what = format!("signal {sig} after {delay_ms} ms");
            assert_eq!(code, 128 + sig, "{what}");
            let marker = format!("-t {port} ");
            let t = Instant::now();
            while !processes("pasta", &marker).is_empty() || !processes("passt", &marker).is_empty()
            {
                assert!(
                    t.elapsed() < Duration::from_secs(5),
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
