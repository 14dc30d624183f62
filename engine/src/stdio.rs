//! Standard streams of the sandboxed program.

use std::os::fd::OwnedFd;

/// What one of the program's standard streams is connected to.
///
/// # Examples
///
/// ```no_run
/// use hakoniwa::{Container, Stdio};
///
/// let log = std::fs::File::create("/tmp/program.log")?;
/// Container::new()
///     .rootfs("/")
///     .command("/bin/echo")
///     .arg("to the log")
///     .stdin(Stdio::null())
///     .stdout(log) // any File or OwnedFd
///     .status()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Stdio(pub(crate) StdioKind);

#[derive(Debug)]
pub(crate) enum StdioKind {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
}

impl Stdio {
    /// The caller's own stream (the default for `spawn` and `status`).
    pub fn inherit() -> Self {
        Stdio(StdioKind::Inherit)
    }

    /// `/dev/null` of the host.
    pub fn null() -> Self {
        Stdio(StdioKind::Null)
    }

    /// A new pipe; the caller's end is on [`crate::Child`] (the default for `output`).
    pub fn piped() -> Self {
        Stdio(StdioKind::Piped)
    }

    /// Any open file descriptor (moved into the program).
    pub fn from_fd(fd: OwnedFd) -> Self {
        Stdio(StdioKind::Fd(fd))
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Self {
        Stdio::from_fd(fd)
    }
}

impl From<std::fs::File> for Stdio {
    fn from(f: std::fs::File) -> Self {
        Stdio::from_fd(f.into())
    }
}
