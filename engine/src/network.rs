//! Network modes: none (a new network namespace with `lo` up), host (the caller's network
//! namespace) and pasta (a new network namespace connected through pasta from `passt`).
//!
//! Pasta is started by the parent once the child's namespaces exist and its id maps are
//! written, and before the child continues; the parent waits until pasta has configured the
//! namespace (pasta's foreground process exits only then) instead of sleeping. Pasta keeps
//! running when the namespace dies, so the engine kills it when the sandbox ends.

use std::io::{Read, Seek};
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::error::{Error, Result, Stage};

/// Options for pasta user-mode networking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pasta {
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<String>,
}

impl Default for Pasta {
    fn default() -> Self {
        Pasta {
            program: PathBuf::from("pasta"),
            args: Vec::new(),
        }
    }
}

impl Pasta {
    /// Pasta with the engine's defaults (no port forwarding, `--no-map-gw`).
    pub fn new() -> Self {
        Pasta::default()
    }

    /// The pasta binary (default: `pasta` from `PATH`).
    pub fn program(&mut self, program: impl Into<PathBuf>) -> &mut Self {
        self.program = program.into();
        self
    }

    /// Append pasta options, e.g. `["-t", "8080"]` or `["-T", "5432"]`.
    pub fn args<I, S>(&mut self, args: I) -> &mut Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// The full argument list for joining `pid` (without the program).
    pub fn command_line(&self, pid: i32, root: bool) -> Vec<String> {
        let given = |names: &[&str]| {
            self.args.iter().any(|a| {
                names
                    .iter()
                    .any(|n| a == n || a.starts_with(&format!("{n}=")))
            })
        };
        let mut v: Vec<String> = vec!["--config-net".into(), "--quiet".into()];
        for (short, long) in [
            ("-t", "--tcp-ports"),
            ("-u", "--udp-ports"),
            ("-T", "--tcp-ns"),
            ("-U", "--udp-ns"),
        ] {
            if !given(&[short, long]) {
                v.extend([short.to_string(), "none".to_string()]);
            }
        }
        if !given(&["--map-gw"]) && !given(&["--no-map-gw"]) {
            v.push("--no-map-gw".into());
        }
        v.retain(|a| a != "--map-gw");
        // As root, pasta drops to "nobody" and then cannot open the sandbox's user
        // namespace; stay root unless the caller chose otherwise.
        if root && !given(&["--runas"]) {
            v.extend(["--runas".into(), "0".into()]);
        }
        v.extend(self.args.iter().filter(|a| *a != "--map-gw").cloned());
        v.extend(["--pid".into(), "/proc/self/fd/0".into(), pid.to_string()]);
        v
    }
}

/// How the sandbox is connected.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Network {
    /// A new network namespace with only `lo`, brought up (the original left it down).
    None,
    /// The caller's network namespace (overrides an unshared network namespace).
    Host,
    /// A new network namespace connected through pasta.
    Pasta(Pasta),
}

impl From<Pasta> for Network {
    fn from(p: Pasta) -> Self {
        Network::Pasta(p)
    }
}

impl From<&mut Pasta> for Network {
    fn from(p: &mut Pasta) -> Self {
        Network::Pasta(p.clone())
    }
}

/// A running pasta, stopped (and waited for) on drop.
#[derive(Debug)]
pub(crate) struct PastaProc {
    pidfd: OwnedFd,
}

impl PastaProc {
    pub(crate) fn stop(&mut self) {
        let _ = crate::sys::pidfd_send_signal(self.pidfd.as_fd(), 9);
        // Not our child (it daemonised): wait for the pidfd to report the exit.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            let mut fds = [rustix::event::PollFd::new(
                &self.pidfd,
                rustix::event::PollFlags::IN,
            )];
            let ts = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 50_000_000,
            };
            if matches!(rustix::event::poll(&mut fds, Some(&ts)), Ok(n) if n > 0) {
                break;
            }
        }
    }
}

impl Drop for PastaProc {
    fn drop(&mut self) {
        self.stop();
    }
}

fn fail(message: String, errno: i32) -> Error {
    Error::setup(Stage::Network, Some(message), errno)
}

/// Start pasta for the child `pid` and wait until the namespace is configured.
pub(crate) fn start_pasta(p: &Pasta, pid: i32, root: bool) -> Result<PastaProc> {
    let memfd = rustix::fs::memfd_create("hakoniwa-pasta-pid", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| Error::io("memfd_create", e))?;
    let mut file = std::fs::File::from(memfd);
    let stdin = file.try_clone().map_err(|e| Error::io("dup", e))?;
    let out = std::process::Command::new(&p.program)
        .args(p.command_line(pid, root))
        .stdin(stdin)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| {
            fail(
                format!("{}: {e}", p.program.display()),
                e.raw_os_error().unwrap_or(2),
            )
        })?;
    if !out.status.success() {
        // This pasta also logs every line to syslog and complains when it cannot.
        let msg: Vec<&str> = std::str::from_utf8(&out.stderr)
            .unwrap_or("")
            .lines()
            .filter(|l| !l.starts_with("Failed to send") && !l.trim().is_empty())
            .take(3)
            .collect();
        return Err(fail(
            format!("pasta failed ({}): {}", out.status, msg.join(" / ")),
            22,
        ));
    }
    let mut pidtext = String::new();
    file.rewind()
        .and_then(|_| file.read_to_string(&mut pidtext))
        .map_err(|e| Error::io("read pasta pid", e))?;
    let ppid: i32 = pidtext
        .trim()
        .parse()
        .map_err(|_| fail(format!("pasta wrote no pid ({pidtext:?})"), 22))?;
    let pidfd = rustix::process::pidfd_open(
        rustix::process::Pid::from_raw(ppid).ok_or_else(|| fail("pasta pid 0".into(), 22))?,
        rustix::process::PidfdFlags::empty(),
    )
    .map_err(|e| {
        fail(
            format!("pasta exited right after start: {e}"),
            e.raw_os_error(),
        )
    })?;
    Ok(PastaProc { pidfd })
}
