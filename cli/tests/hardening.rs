//! Holes found by attacking the sandbox (security issue): the status file cannot be
//! redirected, `kill -9` of the CLI leaves neither the program nor pasta behind, a process
//! limit never silently fails to hold, and a root caller's sandbox leaves no set-id files.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;

fn root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Poll `cond` every 20 ms for up to `secs` seconds.
fn wait_for(secs: u64, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if cond() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Live (not zombie) host processes running `sleep MARKER` (argv[0] may be a full path).
fn sleepers(marker: &str) -> Vec<i32> {
    let tail = format!("sleep\0{marker}\0");
    processes()
        .filter(|(_, cmd)| cmd.ends_with(tail.as_bytes()))
        .filter(|(_, cmd)| cmd.iter().filter(|b| **b == 0).count() == 2)
        .map(|(pid, _)| pid)
        .collect()
}

/// `(pid, raw cmdline)` of every live (not zombie) host process.
fn processes() -> impl Iterator<Item = (i32, Vec<u8>)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let state = stat.rsplit_once(") ")?.1.chars().next()?;
            if state == 'Z' || state == 'X' {
                return None;
            }
            Some((pid, std::fs::read(e.path().join("cmdline")).ok()?))
        })
}

/// A scratch directory removed when the test ends, passed or not (the set-id test leaves
/// set-id files there that must not outlive it).
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        Scratch(scratch(name))
    }
}

impl std::ops::Deref for Scratch {
    type Target = std::path::Path;
    fn deref(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static N: AtomicUsize = AtomicUsize::new(0);

/// A `sleep` argument no other process uses: it marks the sandboxed program.
fn marker() -> String {
    let n = N.fetch_add(1, Ordering::SeqCst);
    format!("{}.{}", 3000 + n, std::process::id())
}

/// Start `hakoniwa run ARGS -- sleep MARKER`; return once the program runs.
fn start_sleeper(args: &[&str], marker: &str) -> Child {
    let mut cli = Command::new(bin())
        .arg("run")
        .args(args)
        .args(["--", "sleep", marker])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = wait_for(20, || {
        !sleepers(marker).is_empty() || cli.try_wait().map(|s| s.is_some()).unwrap_or(true)
    });
    if sleepers(marker).is_empty() {
        let _ = cli.kill();
        let out = cli.wait_with_output().unwrap();
        panic!(
            "{args:?}: the program never ran (started={started}): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    cli
}

/// `kill -9` the CLI and reap it.
fn kill9(mut cli: Child) {
    cli.kill().unwrap();
    cli.wait().unwrap();
}

/// The caller's subordinate uid range as `START:COUNT`, if it has one.
fn subuid_range() -> Option<String> {
    let me = whoami();
    let text = std::fs::read_to_string("/etc/subuid").ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        if f.next()? != me {
            return None;
        }
        Some(format!("{}:{}", f.next()?, f.next()?))
    })
}

#[test]
fn a_sandbox_cannot_redirect_the_json_status_through_a_symlink() {
    let d = Scratch::new("status-link");
    let o = Scratch::new("status-other");
    let other = o.join("precious");
    write(&other, "precious\n");
    let status = d.join("status.json");
    let script = format!("rm -f status.json; ln -s {} status.json", s(&other));
    let out = hk(&[
        "run",
        "-w",
        s(&d),
        "--json-status",
        s(&status),
        "--",
        "sh",
        "-c",
        &script,
    ]);
    out.ok();
    assert!(status.is_symlink(), "the program did plant its link");
    assert_eq!(std::fs::read_to_string(&other).unwrap(), "precious\n");
}

#[test]
fn json_status_refuses_a_link_a_device_or_a_missing_directory_before_the_program_runs() {
    let d = Scratch::new("status-refused");
    let link = d.join("link.json");
    std::os::unix::fs::symlink(d.join("target.json"), &link).unwrap();
    let ran = d.join("ran");
    let touch = format!("touch {}", s(&ran));
    let missing = d.join("no/such/dir/status.json");
    for (dest, why) in [
        (s(&link), "symbolic link"),
        ("/dev/null", "not a regular file"),
        (s(&missing), "No such file"),
    ] {
        let out = hk(&[
            "run",
            "-w",
            s(&d),
            "--json-status",
            dest,
            "--",
            "sh",
            "-c",
            &touch,
        ]);
        assert_eq!(out.code, 1, "{dest}: {}", out.stderr);
        assert!(
            out.stderr.contains("--json-status") && out.stderr.contains(why),
            "{dest}: {}",
            out.stderr
        );
        assert!(!ran.exists(), "{dest}: the program ran");
    }
    assert!(!d.join("target.json").exists(), "followed the link");
    // A file of another user (only a root caller can make one to test with).
    if root() {
        let theirs = d.join("theirs.json");
        write(&theirs, "{}");
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let out = hk(&["run", "--json-status", s(&theirs), "--", "true"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains("owned by uid 65534"), "{}", out.stderr);
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "{}");
    }
    // The caller's own regular file is truncated and rewritten.
    let mine = d.join("mine.json");
    write(&mine, &"x".repeat(10000));
    hk(&["run", "--json-status", s(&mine), "--", "true"]).ok();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mine).unwrap()).unwrap();
    assert_eq!(v["code"], 0);
}

#[test]
fn json_status_fd_writes_the_document_to_that_descriptor_only() {
    let d = Scratch::new("status-fd");
    let f = d.join("status.json");
    let script = format!(
        "exec {} run --json-status-fd 3 -- sh -c 'echo abc; ls /proc/self/fd' 3>{}",
        sh_quote(&bin()),
        sh_quote(s(&f))
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("abc\n"), "{stdout}");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
        .expect("the document alone is in the file");
    assert_eq!(v["reason"], "exited");
    // A number no descriptor of this process has (a fixed 9 may be inherited from the CI's
    // own shell), and stdin, opened read-only.
    let closed = unused_fd().to_string();
    for (fd, why) in [
        (closed.as_str(), "not an open descriptor"),
        ("0", "not open for writing"),
    ] {
        let out = hk(&["run", "--json-status-fd", fd, "--", "true"]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(out.stderr.contains(why), "{}", out.stderr);
    }
}

#[test]
fn killing_the_cli_ends_the_program_in_every_identity_mode() {
    // Each mode changes the program's ids after the parent-death signal was first armed.
    let mut modes: Vec<(&str, Vec<String>)> = Vec::new();
    let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    modes.push(("default map", Vec::new()));
    if root() {
        modes.push((
            "--user",
            own(&[
                "-u",
                "0:0:1",
                "-u",
                "65534:65534:1",
                "-g",
                "0:0:1",
                "-g",
                "65534:65534:1",
                "--user",
                "nobody:nogroup",
            ]),
        ));
        modes.push((
            "map without the caller",
            own(&["-u", "0:100000:65536", "-g", "0:100000:65536"]),
        ));
    }
    match subuid_range() {
        Some(range) => {
            let m = format!("0:{range}");
            if !root() {
                modes.push(("map without the caller", own(&["-u", &m, "-g", &m])));
            }
            modes.push((
                "--userns auto --user 65534",
                own(&["--userns", "auto", "--user", "65534"]),
            ));
        }
        None => eprintln!(
            "no /etc/subuid range for {}: --userns auto not tried",
            whoami()
        ),
    }
    let mut left = Vec::new();
    for (label, args) in &modes {
        let m = marker();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let cli = start_sleeper(&args, &m);
        kill9(cli);
        if !wait_for(10, || sleepers(&m).is_empty()) {
            for pid in sleepers(&m) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            left.push(*label);
        }
    }
    assert!(left.is_empty(), "the program outlived the CLI: {left:?}");
}

#[test]
fn killing_the_cli_stops_pasta_and_frees_its_port() {
    let port = forward_port();
    let m = marker();
    let net = format!("pasta:-t,{port}");
    let cli = start_sleeper(&["--network", &net], &m);
    let program = sleepers(&m)[0];
    // pasta's command line ends with the sandbox's pid: its PID 1, the program's parent
    // (the sandbox's init).
    let stat = std::fs::read_to_string(format!("/proc/{program}/stat")).unwrap();
    let init: i32 = stat
        .rsplit(") ")
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let tail = format!("\0{init}\0");
    let pasta = || -> Vec<i32> {
        processes()
            .filter(|(_, c)| c.starts_with(b"pasta\0") && c.ends_with(tail.as_bytes()))
            .map(|(p, _)| p)
            .collect()
    };
    assert_eq!(pasta().len(), 1, "pasta runs for the sandbox");
    assert!(
        std::net::TcpListener::bind(("0.0.0.0", port)).is_err(),
        "pasta forwards the port"
    );
    kill9(cli);
    let gone = wait_for(10, || pasta().is_empty());
    for pid in pasta() {
        let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
    }
    assert!(gone, "pasta outlived the CLI");
    assert!(
        wait_for(10, || std::net::TcpListener::bind(("0.0.0.0", port))
            .is_ok()),
        "port {port} is still bound"
    );
    assert!(wait_for(10, || sleepers(&m).is_empty()));
}

#[test]
fn limit_nproc_is_refused_for_host_root_and_holds_otherwise() {
    let forks = "my @k; for (1..30) { my $p = fork; last unless defined $p; \
                 if ($p == 0) { sleep 60; exit 0 } push @k, $p } print scalar(@k), qq(\\n); kill 9, @k;";
    let run = |maps: &[&str]| {
        let mut a = vec!["run", "--devfs", "/dev", "--limit-nproc", "10"];
        a.extend(maps);
        a.extend(["--", "perl", "-e", forks]);
        hk(&a)
    };
    if root() {
        let out = run(&[]);
        assert_ne!(out.code, 0, "{}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains("RLIMIT_NPROC") && out.stderr.contains("host uid 0"),
            "{}",
            out.stderr
        );
        assert!(out.stdout.is_empty(), "the program ran: {}", out.stdout);
        let out = run(&["-u", "0:100000:65536", "-g", "0:100000:65536"]);
        out.ok();
        let n: u32 = out.stdout.trim().parse().unwrap();
        assert!(n < 10, "the limit of 10 did not hold: {n} forks");
    } else {
        let out = run(&[]);
        out.ok();
        let n: u32 = out.stdout.trim().parse().unwrap();
        assert!(n < 10, "the limit of 10 did not hold: {n} forks");
    }
}

#[test]
fn host_root_cannot_chmod_setuid_or_setcap_in_a_rw_bind_unless_allowed() {
    let d = Scratch::new("setid");
    let script = "cp /bin/true t && chmod u+s t; echo chmod=$?; \
                  setcap cap_setuid+ep t 2>/dev/null; echo setcap=$?";
    let run = |flag: &str| {
        let out = hk(&[
            "run",
            flag,
            "--devfs",
            "/dev",
            "-w",
            s(&d),
            "--",
            "sh",
            "-c",
            script,
        ]);
        out.ok();
        out
    };
    let out = run("-v");
    if root() {
        assert_eq!(out.stdout, "chmod=1\nsetcap=1\n", "{}", out.stderr);
        assert!(
            out.stderr.contains("not blockable"),
            "-v names the residue: {}",
            out.stderr
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(d.join("t")).unwrap().permissions(),
        );
        assert_eq!(mode & 0o6000, 0);
        let _ = std::fs::remove_file(d.join("t"));
        let out = run("--allow-setid");
        assert_eq!(out.stdout, "chmod=0\nsetcap=0\n", "{}", out.stderr);
    } else {
        // Not host root: the sandbox gets no set-id block (the files are the caller's own).
        assert!(out.stdout.contains("chmod=0"), "{}", out.stdout);
        assert!(!out.stderr.contains("Set-id"), "{}", out.stderr);
    }
}

/// The issue asks for 200 runs killed at random moments.
#[test]
fn killing_the_cli_at_random_moments_leaves_no_program_and_no_pasta() {
    // As root a map without host root plus --user; as hkuser its subordinate range.
    let mut ids: Vec<String> = if root() {
        [
            "-u",
            "0:100000:65536",
            "-g",
            "0:100000:65536",
            "--user",
            "nobody",
        ]
        .map(String::from)
        .to_vec()
    } else if subuid_range().is_some() {
        ["--userns", "auto", "--user", "nobody"]
            .map(String::from)
            .to_vec()
    } else {
        Vec::new()
    };
    ids.push("--network".into());
    // A small linear congruential generator: the kill moments differ per run but need no
    // crate; 0..80 ms covers setup (clone, id maps, pasta) and the running program.
    let mut seed = u64::from(std::process::id());
    let mut next_ms = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % 80
    };
    let mut left = Vec::new();
    for _ in 0..200 {
        let port = forward_port();
        let m = marker();
        let net = format!("pasta:-t,{port}");
        let mut cli = Command::new(bin())
            .arg("run")
            .args(&ids)
            .arg(&net)
            .args(["--", "sleep", &m])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(next_ms()));
        cli.kill().unwrap();
        cli.wait().unwrap();
        let forward = format!("\0-t\0{port}\0");
        let pasta = || -> Vec<i32> {
            processes()
                .filter(|(_, c)| {
                    c.starts_with(b"pasta\0")
                        && c.windows(forward.len()).any(|w| w == forward.as_bytes())
                })
                .map(|(p, _)| p)
                .collect()
        };
        let clean = wait_for(10, || sleepers(&m).is_empty() && pasta().is_empty());
        let port_free = wait_for(10, || {
            std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
        });
        if !clean || !port_free {
            left.push(format!(
                "port {port}: program {:?}, pasta {:?}, port free {port_free}",
                sleepers(&m),
                pasta()
            ));
            for pid in sleepers(&m).into_iter().chain(pasta()) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
    }
    assert!(left.is_empty(), "left behind: {left:#?}");
}
