//! `--json-status`: one JSON document describing how the sandboxed program ended.

use std::io::Write;

use hakoniwa::{ExitReason, ExitStatus};
use serde::Serialize;

/// The document written by `--json-status`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `exited`, `signaled`, `wall_time_exceeded`, ... or `setup_failed`.
    pub reason: String,
    /// The exit code of `hakoniwa` (the program's, 128+signal, or 1, 125, 126, 127 when the
    /// program did not start: see exit_code.rs).
    pub code: i32,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub core_dumped: bool,
    /// The limit that ended the program: `walltime`, `cpu` or `fsize`.
    pub limit: Option<&'static str>,
    pub real_time: Option<f64>,
    pub user_time: Option<f64>,
    pub system_time: Option<f64>,
    pub max_rss_kb: Option<u64>,
    pub minor_faults: Option<u64>,
    pub major_faults: Option<u64>,
    pub voluntary_switches: Option<u64>,
    pub involuntary_switches: Option<u64>,
    /// Namespaces unshared.
    pub namespaces: Vec<String>,
    /// Setup time per part, in milliseconds (prepare, clone, idmap, network, mounts,
    /// identity, confine, exec, total).
    pub setup_ms: Option<std::collections::BTreeMap<&'static str, f64>>,
    /// Capabilities kept for a uid-0 program (null when the program is not uid 0).
    pub capabilities: Option<Vec<String>>,
    /// Landlock: ABI, handled access sets, rule counts, what was dropped (null when off).
    pub landlock: Option<serde_json::Value>,
    /// Seccomp: profile, filter length, architectures (null when unconfined).
    pub seccomp: Option<serde_json::Value>,
    /// The setup error, when the sandbox could not be set up.
    pub error: Option<String>,
}

/// The limit behind an exit reason.
pub fn limit_of(reason: ExitReason) -> Option<&'static str> {
    match reason {
        ExitReason::WallTimeExceeded => Some("walltime"),
        ExitReason::CpuTimeExceeded => Some("cpu"),
        ExitReason::FileSizeExceeded => Some("fsize"),
        _ => None,
    }
}

impl Report {
    pub fn from_status(status: &ExitStatus, namespaces: Vec<String>) -> Self {
        let u = status.usage();
        Report {
            reason: status.reason.name().to_string(),
            code: status.code(),
            exit_code: status.exit_code,
            signal: status.signal,
            core_dumped: status.core_dumped,
            limit: limit_of(status.reason),
            real_time: Some(u.real_time.as_secs_f64()),
            user_time: Some(u.user_time.as_secs_f64()),
            system_time: Some(u.system_time.as_secs_f64()),
            max_rss_kb: Some(u.max_rss_kb),
            minor_faults: Some(u.minor_faults),
            major_faults: Some(u.major_faults),
            voluntary_switches: Some(u.voluntary_switches),
            involuntary_switches: Some(u.involuntary_switches),
            namespaces,
            setup_ms: None,
            capabilities: None,
            landlock: None,
            seccomp: None,
            error: None,
        }
    }

    pub fn setup_failed(code: i32, error: String, namespaces: Vec<String>) -> Self {
        Report {
            reason: "setup_failed".into(),
            code,
            exit_code: None,
            signal: None,
            core_dumped: false,
            limit: None,
            real_time: None,
            user_time: None,
            system_time: None,
            max_rss_kb: None,
            minor_faults: None,
            major_faults: None,
            voluntary_switches: None,
            involuntary_switches: None,
            namespaces,
            setup_ms: None,
            capabilities: None,
            landlock: None,
            seccomp: None,
            error: Some(error),
        }
    }

    /// Write the document to `sink`.
    pub fn write(&self, sink: &mut Sink) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        match sink {
            Sink::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            Sink::File(f) => f.write_all(text.as_bytes()),
        }
    }
}

/// Where the document goes, opened before the sandbox starts.
///
/// The file is written after the program ran, in the host's namespaces. A program that can
/// write the file's directory (`-w $D --json-status $D/status.json`) could by then have
/// replaced the name with a symbolic link to any file the caller may write: so the file is
/// opened first (never through a symbolic link, created exclusively, or truncated only if
/// it is a regular file the caller owns) and the document is written through that
/// descriptor, whatever the name points at later.
#[derive(Debug)]
pub enum Sink {
    /// `--json-status -`: the program's stdout too.
    Stdout,
    /// `--json-status FILE` or `--json-status-fd N`.
    File(std::fs::File),
}

impl Sink {
    /// Open `--json-status DEST` (`-` = stdout).
    pub fn open_path(dest: &str) -> Result<Sink, String> {
        if dest == "-" {
            return Ok(Sink::Stdout);
        }
        open_file(std::path::Path::new(dest))
            .map(Sink::File)
            .map_err(|e| format!("--json-status {dest}: {e}"))
    }

    /// Take `--json-status-fd N`: it must be open for writing.
    pub fn from_fd(fd: i32) -> Result<Sink, String> {
        use rustix::fs::OFlags;
        use std::os::fd::{BorrowedFd, FromRawFd};
        let err = |m: String| format!("--json-status-fd {fd}: {m}");
        if fd < 0 {
            return Err(err("not a file descriptor".into()));
        }
        // SAFETY: only queried; ownership is taken below once the number is known open.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        let flags =
            rustix::fs::fcntl_getfl(b).map_err(|e| err(format!("not an open descriptor ({e})")))?;
        if flags & (OFlags::WRONLY | OFlags::RDWR) == OFlags::empty() {
            return Err(err("not open for writing".into()));
        }
        // Keep it away from pasta and anything else this process starts.
        rustix::io::fcntl_setfd(b, rustix::io::FdFlags::CLOEXEC).map_err(|e| err(e.to_string()))?;
        // SAFETY: the caller handed this descriptor to hakoniwa for the status document;
        // nothing else in this process uses it.
        Ok(Sink::File(unsafe { std::fs::File::from_raw_fd(fd) }))
    }
}

fn open_file(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags};
    let fail = |m: String| std::io::Error::new(std::io::ErrorKind::PermissionDenied, m);
    let create = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW;
    match rustix::fs::open(path, create | OFlags::CLOEXEC, Mode::from_raw_mode(0o644)) {
        Ok(fd) => return Ok(fd.into()),
        Err(rustix::io::Errno::EXIST) => {}
        Err(e) => return Err(e.into()),
    }
    // It exists: look at it without following a link or opening a device or a FIFO.
    let at = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let st = rustix::fs::fstat(&at)?;
    let kind = rustix::fs::FileType::from_raw_mode(st.st_mode);
    if kind == rustix::fs::FileType::Symlink {
        return Err(fail("refusing to write through a symbolic link".into()));
    }
    if kind != rustix::fs::FileType::RegularFile {
        return Err(fail(format!(
            "refusing to overwrite a {kind:?} (not a regular file)"
        )));
    }
    let me = rustix::process::geteuid().as_raw();
    if st.st_uid != me {
        return Err(fail(format!(
            "refusing to overwrite a file owned by uid {} (not by the caller, uid {me})",
            st.st_uid
        )));
    }
    // Reopen that very inode for writing (the name may not be looked up again).
    let fd = rustix::fs::open(
        format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&at)),
        OFlags::WRONLY | OFlags::TRUNC | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    Ok(fd.into())
}
