//! `--json-status`: the engine's status document ([`hakoniwa::status_json`]; its schema is
//! `engine/status.schema.json`, printed by `hakoniwa run --json-schema`), and where it goes.

use std::io::Write;

/// The document for a run that failed before the program started.
pub fn setup_failed(code: i32, error: &str, namespaces: &[String]) -> String {
    let ns: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    hakoniwa::status_json::setup_failed(code, error, &ns)
}

impl Sink {
    /// Write a document.
    pub fn write(&mut self, text: &str) -> std::io::Result<()> {
        match self {
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
        let what = match kind {
            rustix::fs::FileType::Directory => "a directory",
            rustix::fs::FileType::Fifo => "a fifo",
            rustix::fs::FileType::Socket => "a socket",
            rustix::fs::FileType::CharacterDevice => "a character device",
            rustix::fs::FileType::BlockDevice => "a block device",
            _ => "something",
        };
        return Err(fail(format!(
            "refusing to overwrite {what} (not a regular file)"
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
