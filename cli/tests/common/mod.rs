//! Helpers: run the real `hakoniwa` binary and make scratch directories.

#![allow(dead_code)]

pub mod docs;
pub mod schema;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(&self) -> &Self {
        assert_eq!(
            self.code, 0,
            "stdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// The binary under test: this build's, or `HAKONIWA_TEST_BIN` (to check that a new test
/// fails against an older build).
pub fn bin() -> String {
    std::env::var("HAKONIWA_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hakoniwa").into())
}

pub fn hk_with(args: &[&str], envs: &[(&str, &str)]) -> Out {
    let mut c = Command::new(bin());
    c.args(args);
    for (k, v) in envs {
        c.env(k, v);
    }
    out_of(&mut c)
}

/// Run a prepared command (stdin null) and collect its output.
pub fn out_of(c: &mut Command) -> Out {
    let o = c
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run hakoniwa");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

/// Run `hakoniwa` from `dir` with extra variables and `stdin` as standard input.
pub fn hk_piped(dir: &Path, args: &[&str], envs: &[(&str, &str)], stdin: &str) -> Out {
    use std::io::Write;
    let mut c = Command::new(bin());
    c.args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let mut child = c.spawn().expect("run hakoniwa");
    // A program that does not read its input may be gone before it is written.
    let _ = child
        .stdin
        .take()
        .expect("piped")
        .write_all(stdin.as_bytes());
    let o = child.wait_with_output().expect("wait for hakoniwa");
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub fn hk(args: &[&str]) -> Out {
    hk_with(args, &[])
}

/// Run in a directory.
pub fn hk_in(dir: &Path, args: &[&str]) -> Out {
    let mut c = Command::new(bin());
    c.args(args).current_dir(dir);
    out_of(&mut c)
}

/// A `--json-status` document of a run with both landlock scopes enforced.
pub fn assert_both_scopes(json: &str) {
    assert!(
        json.contains(r#""scoped": ["abstract_unix_socket", "signal"]"#),
        "{json}"
    );
}

/// Whether the test runs as root.
pub fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

/// Compile a C program with the host's cc into `dir/name`.
pub fn compile_c(dir: &Path, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    std::fs::write(&src, source).unwrap();
    let exe = dir.join(name);
    let st = Command::new("cc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .args(extra)
        .status()
        .expect("cc is required (.ci/setup installs gcc)");
    assert!(st.success(), "cc {name}.c failed");
    exe
}

static N: AtomicUsize = AtomicUsize::new(0);

/// A fresh scratch directory under the temp dir (removed by the caller or left for the OS).
pub fn scratch(name: &str) -> PathBuf {
    let n = N.fetch_add(1, Ordering::SeqCst);
    let d = std::env::temp_dir().join(format!("hk-cli-test-{}-{n}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A scratch directory removed when dropped, also when the test fails.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// [`scratch`], removed when the returned guard is dropped.
pub fn temp_dir(name: &str) -> TempDir {
    TempDir(scratch(name))
}

pub fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p).unwrap();
    }
    std::fs::write(path, text).unwrap();
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `text` as one word of a shell command line (single-quoted): the checkout's path, and so
/// the binary's, may hold spaces or other characters the shell would split or expand.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// A descriptor number that is not open in this process, and so not in a child it starts
/// (the test harness may have inherited some from whatever started it).
pub fn unused_fd() -> i32 {
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect();
    (9..).find(|n| !open.contains(n)).unwrap()
}

/// The caller's user name on the host.
pub fn whoami() -> String {
    let o = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub fn host_ns(name: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{name}"))
        .unwrap()
        .display()
        .to_string()
}

pub fn profiles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles")
}

/// Whether the caller has a range in both /etc/subuid and /etc/subgid (what
/// `--userns auto` needs).
pub fn caller_has_subid_ranges() -> bool {
    let me = whoami();
    let uid = rustix::process::getuid().as_raw().to_string();
    ["/etc/subuid", "/etc/subgid"].iter().all(|f| {
        std::fs::read_to_string(f)
            .unwrap_or_default()
            .lines()
            .any(|l| matches!(l.split(':').next(), Some(n) if n == me || n == uid))
    })
}

/// For a documented `--userns auto` example run by a caller without subordinate ranges,
/// check what the docs promise then (exit 125, the message naming the file) and return
/// true; return false when the example is to be checked as usual.
pub fn userns_auto_without_ranges(line: &str, out: &Out) -> bool {
    if !line.contains("--userns auto") || caller_has_subid_ranges() {
        return false;
    }
    assert_eq!(out.code, 125, "{line}: {}", out.stderr);
    assert!(out.stderr.contains("/etc/sub"), "{line}: {}", out.stderr);
    true
}

/// Run `run` while a thread of the test waits to open the FIFO `fifo` from the other end
/// (for writing when `cli_reads`, else for reading). That open returns only once someone
/// opens the FIFO's other end, so the thread tells, without any timing, whether the CLI
/// opened the FIFO while it ran: the CLI stays blocked in its `read` (or `open`) until the
/// thread has looked. Returns the output and whether the CLI opened the FIFO.
pub fn watching_fifo(fifo: &Path, cli_reads: bool, run: impl FnOnce() -> Out) -> (Out, bool) {
    use std::sync::atomic::AtomicBool;
    use std::sync::Arc;
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (fifo, done) = (fifo.to_path_buf(), done.clone());
        std::thread::spawn(move || {
            let end = std::fs::OpenOptions::new()
                .read(!cli_reads)
                .write(cli_reads)
                .open(&fifo)
                .expect("open the FIFO");
            let opened_by_the_cli = !done.load(Ordering::SeqCst);
            drop(end);
            opened_by_the_cli
        })
    };
    let out = run();
    done.store(true, Ordering::SeqCst);
    // Release the watcher if the CLI never opened the FIFO: opened for reading and
    // writing, a FIFO never blocks, and it counts as the other end for a watcher already
    // waiting or one that only gets to its open now.
    let release = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(fifo)
        .expect("open the FIFO to release the watcher");
    let opened = watcher.join().expect("watcher thread");
    drop(release);
    (out, opened)
}

/// Make a FIFO.
pub fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(st.success(), "mkfifo {}", path.display());
}

/// Host processes (anywhere) whose command line contains `needle`: (pid, command line).
pub fn pids_with(needle: &str) -> Vec<(u32, String)> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) {
            v.push((pid, cmd));
        }
    }
    v
}

/// Parse a `--json-status` document and check it against `docs/status.schema.json`.
pub fn status_doc(text: &str) -> serde_json::Value {
    let v: serde_json::Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    let schema = schema::status_schema();
    let mut errors = Vec::new();
    schema::validate(&schema, &schema, &v, "$", &mut errors);
    assert!(errors.is_empty(), "{errors:#?}\n{text}");
    v
}

/// A port for pasta to forward from the host (`-t`), outside the kernel's ephemeral range.
///
/// When pasta cannot bind a forwarded port's IPv4 socket but can bind the IPv6 one, it
/// carries on silently. A port taken with `bind(0)` is released before pasta binds it, and a
/// test running at the same time could be handed the same port by its own `bind(0)` in
/// between (CI saw this once). Ports below the ephemeral range are never handed out that
/// way; each call of this process takes the next one, from a start that differs per process.
pub fn forward_port() -> u16 {
    use std::net::TcpListener;
    use std::sync::atomic::AtomicU16;
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20000 + (std::process::id() % 500) as u16 * 16;
    (0..64)
        .map(|_| start + NEXT.fetch_add(1, Ordering::Relaxed) % 16)
        .find(|&port| {
            let free = |a: &str| TcpListener::bind((a, port)).is_ok();
            free("0.0.0.0") && free("::")
        })
        .expect("no free port to forward among 16 tried")
}
