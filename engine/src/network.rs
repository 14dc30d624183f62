//! Network modes: none (a new network namespace with `lo` up), host (the caller's network
//! namespace) and pasta (a new network namespace connected through pasta from `passt`).
//!
//! Pasta is started by the parent once the child's namespaces exist and its id maps are
//! written, and before the child continues; the parent waits until pasta has configured the
//! namespace (pasta writes its pid file only then) instead of sleeping. Pasta keeps running
//! when the namespace dies, so the engine kills it when the sandbox ends, and pasta's
//! parent-death signal kills it when the supervising process dies first.
//!
//! # References
//! - [network_namespaces(7)](https://man7.org/linux/man-pages/man7/network_namespaces.7.html)
//! - pasta: <https://passt.top/>

use std::io::{Read, Seek};
use std::path::PathBuf;
use std::sync::{mpsc, Mutex};

use crate::error::{Error, Result, Stage};
use crate::process_local::ProcessLocal;

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
        // In the foreground, as the engine's child: see start_pasta.
        let mut v: Vec<String> = vec!["--config-net".into(), "--quiet".into(), "-f".into()];
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

/// A running pasta (in the foreground: our child), stopped and reaped on drop.
#[derive(Debug)]
pub(crate) struct PastaProc {
    child: std::process::Child,
    /// The process that started pasta: a copy in a process forked from it leaves pasta to
    /// it (the sandbox's network would go with it).
    owner: u32,
}

impl PastaProc {
    pub(crate) fn stop(&mut self) {
        if self.owner != crate::process_local::current_pid() {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
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

/// `CAP_NET_BIND_SERVICE`: the one capability a root caller's pasta keeps in the host's
/// user namespace (forwarding a port below 1024).
const CAP_NET_BIND_SERVICE: u32 = 10;

/// A job for the launcher thread: start pasta and hand back the child.
type Launch = Box<dyn FnOnce() -> std::io::Result<std::process::Child> + Send>;
type LaunchReply = mpsc::SyncSender<std::io::Result<std::process::Child>>;

/// The job queue of this process's launcher thread.
type Launcher = mpsc::Sender<(Launch, LaunchReply)>;

/// Per process ([`ProcessLocal`]): a forked host starts its own launcher thread, and never
/// waits on a lock that another thread of its parent held at the fork.
static LAUNCHER: ProcessLocal<Mutex<Option<Launcher>>> = ProcessLocal::new();

/// Run `launch` on the process's pasta launcher thread.
///
/// pasta gets `PR_SET_PDEATHSIG(SIGKILL)`, and the kernel sends it when the parent
/// *thread* exits. The launcher lives as long as the process (it is made again after a
/// `fork` of the host), so pasta dies with the supervising process whatever ends it (even
/// `SIGKILL`), but not when a short-lived thread that spawned a sandbox returns.
fn on_launcher(program: &std::path::Path, launch: Launch) -> Result<std::process::Child> {
    let tx = {
        let mut g = LAUNCHER
            .get_or_init(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match g.as_ref() {
            Some(tx) => tx.clone(),
            None => {
                let (tx, rx) = mpsc::channel::<(Launch, LaunchReply)>();
                std::thread::Builder::new()
                    .name("hakoniwa-pasta".into())
                    .spawn(move || {
                        for (job, reply) in rx {
                            let _ = reply.send(job());
                        }
                    })
                    .map_err(|e| Error::io("thread spawn", e))?;
                *g = Some(tx.clone());
                tx
            }
        }
    };
    let (rtx, rrx) = mpsc::sync_channel(1);
    let gone = || {
        Error::io(
            "pasta launcher thread",
            std::io::Error::from_raw_os_error(32),
        )
    };
    tx.send((launch, rtx)).map_err(|_| gone())?;
    rrx.recv().map_err(|_| gone())?.map_err(|e| {
        fail(
            format!("{}: {e}", program.display()),
            e.raw_os_error().unwrap_or(2),
        )
    })
}

/// Start pasta for the child `pid` and wait until the namespace is configured.
///
/// pasta runs in the foreground (`-f`) as our child instead of daemonising, so that its
/// parent-death signal stays armed and it is reaped here. It writes its pid file once the
/// namespace is configured: the pid file is a pipe (`/proc/self/fd/0` is its write end),
/// and a line on it is the go-ahead; EOF without one means pasta exited. For a root caller
/// pasta has to stay uid 0 (the sandbox's user namespace belongs to root, and only its
/// owner may join it), but it starts with an empty capability bounding set except
/// `CAP_NET_BIND_SERVICE` and with `no_new_privs`: it holds no other capability in the
/// host's user namespace (its capabilities then live in the sandbox's user namespace).
pub(crate) fn start_pasta(p: &Pasta, pid: i32, root: bool) -> Result<PastaProc> {
    use std::os::unix::process::CommandExt;
    let (ready_r, ready_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)
        .map_err(|e| Error::io("pipe2", e))?;
    let log = rustix::fs::memfd_create("hakoniwa-pasta-log", rustix::fs::MemfdFlags::CLOEXEC)
        .map_err(|e| Error::io("memfd_create", e))?;
    let mut log = std::fs::File::from(log);
    let stderr = log.try_clone().map_err(|e| Error::io("dup", e))?;
    let mut cmd = std::process::Command::new(&p.program);
    cmd.args(p.command_line(pid, root))
        .stdin(std::fs::File::from(ready_w))
        .stdout(std::process::Stdio::null())
        .stderr(stderr);
    let parent = rustix::process::getpid();
    let drop_caps = if root {
        crate::seccomp::all_caps() & !(1u64 << CAP_NET_BIND_SERVICE)
    } else {
        0
    };
    // SAFETY: the closure runs in the forked child before execve and makes only raw system
    // calls through rustix (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            use rustix::thread::{remove_capability_from_bounding_set, CapabilitySet};
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
            // The parent may have died before the signal was armed.
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::Error::from_raw_os_error(3));
            }
            for n in (0..64).filter(|n| drop_caps & (1u64 << n) != 0) {
                remove_capability_from_bounding_set(CapabilitySet::from_bits_retain(1 << n))?;
            }
            rustix::thread::set_no_new_privs(true)?;
            Ok(())
        });
    }
    // No sandbox child may be cloned while this spawn waits for pasta's execve (see
    // `spawn::without_clones`).
    let launch = move || crate::spawn::without_clones(|| cmd.spawn());
    let mut child = on_launcher(&p.program, Box::new(launch))?;
    // Only pasta holds the write end now: EOF means it exited.
    let mut ready = std::fs::File::from(ready_r);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match ready.read(&mut byte) {
            Ok(0) => break,
            Ok(_) => line.push(byte[0]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::io("read pasta pid", e));
            }
        }
    }
    if line.ends_with(b"\n") {
        return Ok(PastaProc {
            child,
            owner: crate::process_local::current_pid(),
        });
    }
    let status = child.wait().map_err(|e| Error::io("wait pasta", e))?;
    let mut text = String::new();
    let _ = log.rewind().and_then(|_| log.read_to_string(&mut text));
    // This pasta also logs every line to syslog and complains when it cannot.
    let msg: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with("Failed to send") && !l.trim().is_empty())
        .take(3)
        .collect();
    Err(fail(
        format!("pasta failed ({status}): {}", msg.join(" / ")),
        22,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn launch_true() -> bool {
        let launch: Launch = Box::new(|| std::process::Command::new("/bin/true").spawn());
        on_launcher(std::path::Path::new("/bin/true"), launch)
            .and_then(|mut c| c.wait().map_err(|e| Error::io("wait", e)))
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn a_forked_host_starts_its_own_launcher_while_a_parent_thread_held_the_lock() {
        assert!(launch_true(), "the parent's launcher");
        // A spawning thread of the parent holds the lock at the moment of the fork.
        let held = LAUNCHER
            .get_or_init(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let forked = crate::process_local::in_forked_process(launch_true);
        drop(held);
        assert_eq!(
            forked,
            Ok(0),
            "Err(14): stuck on the parent's lock until the alarm"
        );
        assert!(launch_true(), "the parent's launcher after the fork");
    }
}
