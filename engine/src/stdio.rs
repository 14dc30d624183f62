//! Standard streams of the sandboxed program, and how one spawn connects them.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use hakoniwa_runtime::FdMap;
use rustix::pipe::{pipe_with, PipeFlags};

use crate::error::{Error, Result};

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

/// One spawn's standard streams and preserved descriptors (its own copies).
#[derive(Debug)]
pub(crate) struct Streams {
    /// stdin, stdout, stderr.
    pub(crate) std: [StdioKind; 3],
    /// Descriptors passed to the program, with the number each gets there.
    pub(crate) preserved: Vec<(OwnedFd, i32)>,
}

/// The streams connected for one spawn: which descriptor becomes which in the child, and
/// the caller's ends of the pipes.
#[derive(Debug)]
pub(crate) struct Wired {
    /// Source -> target descriptor numbers for the child, sorted by target.
    pub(crate) maps: Vec<FdMap>,
    /// Descriptors that must stay open until the clone has copied the descriptor table.
    pub(crate) keep: Vec<OwnedFd>,
    /// The caller's ends of piped streams.
    pub(crate) parent_ends: [Option<std::fs::File>; 3],
    /// The program's stdin, open while `keep` is (fd 0 or a descriptor held there).
    pub(crate) stdin: RawFd,
    /// The program's stdin is a terminal.
    pub(crate) stdin_is_tty: bool,
    /// The first of the program's stdin, stdout, stderr (0, 1, 2) that is a terminal.
    pub(crate) terminal: Option<RawFd>,
}

impl Streams {
    /// All three streams inherited, nothing preserved.
    pub(crate) fn inherit() -> Streams {
        Streams {
            std: [StdioKind::Inherit, StdioKind::Inherit, StdioKind::Inherit],
            preserved: Vec::new(),
        }
    }

    /// Connect the streams: open `/dev/null` and pipes as asked, check the preserved
    /// descriptors' numbers.
    pub(crate) fn wire(self) -> Result<Wired> {
        let mut keep: Vec<OwnedFd> = Vec::new();
        let mut maps: Vec<FdMap> = Vec::new();
        let mut parent_ends: [Option<std::fs::File>; 3] = [None, None, None];
        let mut terminal = None;
        let mut stdin: RawFd = -1;
        for (i, kind) in self.std.into_iter().enumerate() {
            let dst = i as RawFd;
            let inherited = match kind {
                StdioKind::Inherit => stream_state(dst),
                _ => StreamState::Closed,
            };
            let src = match kind {
                StdioKind::Inherit if inherited != StreamState::Closed => {
                    if inherited == StreamState::Terminal
                        && terminal.is_none()
                        && device_path(dst).is_some()
                    {
                        terminal = Some(dst);
                    }
                    dst
                }
                StdioKind::Inherit | StdioKind::Null => {
                    let n = open_null()?;
                    let raw = n.as_raw_fd();
                    keep.push(n);
                    raw
                }
                StdioKind::Piped => {
                    let (r, w) =
                        pipe_with(PipeFlags::CLOEXEC).map_err(|e| Error::io("pipe2", e))?;
                    let (mine, theirs) = if i == 0 { (w, r) } else { (r, w) };
                    parent_ends[i] = Some(std::fs::File::from(mine));
                    let raw = theirs.as_raw_fd();
                    keep.push(theirs);
                    raw
                }
                StdioKind::Fd(fd) => {
                    if terminal.is_none() && rustix::termios::isatty(&fd) {
                        terminal = Some(dst);
                    }
                    let raw = fd.as_raw_fd();
                    keep.push(fd);
                    raw
                }
            };
            if i == 0 {
                stdin = src;
            }
            maps.push(FdMap { src, dst });
        }
        for (fd, target) in self.preserved {
            if target < 3 {
                return Err(Error::config(
                    "preserve_fd",
                    format!("target {target} must be 3 or higher (use stdin/stdout/stderr)"),
                ));
            }
            maps.push(FdMap {
                src: fd.as_raw_fd(),
                dst: target,
            });
            keep.push(fd);
        }
        maps.sort_by_key(|m| m.dst);
        Ok(Wired {
            maps,
            keep,
            parent_ends,
            stdin,
            stdin_is_tty: terminal == Some(0),
            terminal,
        })
    }
}

/// What a descriptor number of this process holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StreamState {
    Closed,
    Open,
    Terminal,
}

/// [`StreamState`] of `fd`: one `ioctl(TIOCGWINSZ)` answers for the usual descriptors (a
/// terminal's size, or ENOTTY for anything else open); only EBADF (closed, or an `O_PATH`
/// descriptor) takes an `fcntl` to tell the two apart.
fn stream_state(fd: RawFd) -> StreamState {
    // SAFETY: borrowing a descriptor number only for queries that fail on a closed one.
    let b = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
    match rustix::termios::tcgetwinsize(b) {
        Ok(_) => StreamState::Terminal,
        Err(rustix::io::Errno::BADF) if rustix::io::fcntl_getfd(b).is_err() => StreamState::Closed,
        Err(_) => StreamState::Open,
    }
}

fn open_null() -> Result<OwnedFd> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map(OwnedFd::from)
        .map_err(|e| Error::io("open /dev/null", e))
}

/// The terminal device open at descriptor `fd` of this process, if it is one.
pub(crate) fn tty_path(fd: RawFd) -> Option<std::path::PathBuf> {
    if stream_state(fd) != StreamState::Terminal {
        return None;
    }
    device_path(fd)
}

/// The `/dev` path of descriptor `fd` of this process (known to be a terminal).
fn device_path(fd: RawFd) -> Option<std::path::PathBuf> {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .filter(|p| p.starts_with("/dev/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_is_closed_open_or_a_terminal_and_an_o_path_descriptor_counts_as_open() {
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(stream_state(null.as_raw_fd()), StreamState::Open);
        let path = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::PATH | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )
        .unwrap();
        assert_eq!(stream_state(path.as_raw_fd()), StreamState::Open);
        // A number no process can have open (other tests may open and close meanwhile).
        assert_eq!(stream_state(i32::MAX - 1), StreamState::Closed);
        let ptmx = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/ptmx");
        if let Ok(master) = ptmx {
            assert_eq!(stream_state(master.as_raw_fd()), StreamState::Terminal);
        }
    }
}
