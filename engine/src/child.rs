//! `Child`: a running sandboxed program, supervised through its pidfd.
//!
//! With a PID namespace, the `Child` is the sandbox's PID 1: the init (see `init.rs`), which
//! runs the program as its child and reports its stops and its end over the events pipe, or
//! the program itself with `Container::init(false)`. Killing PID 1 with SIGKILL kills
//! everything in the sandbox, double-forked daemons included. A `Child` that is dropped
//! without `wait` is killed and reaped on drop (unlike `std::process::Child`), so a sandbox
//! never outlives the handle that controls it.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};

use hakoniwa_runtime::init_proto::{Event, EVENT_SIZE};

use crate::error::{Error, Result};
use crate::exit_status::{ExitReason, ExitStatus, Usage};
use crate::sys::{self, Signal, WaitIdOptions};

/// Captured output of a finished program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Output {
    /// How it ended.
    pub status: ExitStatus,
    /// Everything it wrote to stdout.
    pub stdout: Vec<u8>,
    /// Everything it wrote to stderr.
    pub stderr: Vec<u8>,
}

/// The caller's end of a piped stdin.
#[derive(Debug)]
pub struct ChildStdin(pub(crate) File);
/// The caller's end of a piped stdout.
#[derive(Debug)]
pub struct ChildStdout(pub(crate) File);
/// The caller's end of a piped stderr.
#[derive(Debug)]
pub struct ChildStderr(pub(crate) File);

impl Write for ChildStdin {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}
impl Read for ChildStdout {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl Read for ChildStderr {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}
impl AsFd for ChildStdin {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
impl AsFd for ChildStdout {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}
impl AsFd for ChildStderr {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }
}

/// A running sandboxed program.
///
/// Made by [`Command::spawn`](crate::Command::spawn). The program is PID 1 of its PID
/// namespace (when one is unshared), so [`Child::kill`] ends the whole sandbox.
///
/// # Warning
///
/// Unlike `std::process::Child`, dropping a `Child` that has not been waited for kills and
/// reaps the sandbox: a sandbox never outlives its handle. A wall-clock limit set with
/// [`Command::wait_timeout`](crate::Command::wait_timeout) is enforced while a thread is in
/// [`Child::wait`], [`Child::try_wait`] or [`Child::wait_with_output`].
///
/// # Examples
///
/// ```no_run
/// use std::io::Read;
/// use hakoniwa::{Container, Stdio};
///
/// let mut child = Container::new()
///     .rootfs("/")
///     .command("/bin/sh")
///     .args(["-c", "echo started; sleep 60"])
///     .stdout(Stdio::piped())
///     .spawn()?;
/// let mut line = [0u8; 8];
/// child.stdout.as_mut().unwrap().read_exact(&mut line)?;
/// assert_eq!(&line, b"started\n");
/// assert!(child.try_wait()?.is_none()); // still running
/// child.kill()?; // SIGKILL to PID 1 ends the whole sandbox
/// let status = child.wait()?;
/// assert_eq!(status.signal, Some(9));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// - [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
/// - [pidfd_send_signal(2)](https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html)
/// - [waitid(2)](https://man7.org/linux/man-pages/man2/wait.2.html)
/// - [pid_namespaces(7)](https://man7.org/linux/man-pages/man7/pid_namespaces.7.html)
#[derive(Debug)]
pub struct Child {
    pub(crate) pid: i32,
    /// The pidfd, and the request pipe with an init.
    pub(crate) signaller: crate::signaller::Signaller,
    /// Piped stdin, if requested.
    pub stdin: Option<ChildStdin>,
    /// Piped stdout, if requested.
    pub stdout: Option<ChildStdout>,
    /// Piped stderr, if requested.
    pub stderr: Option<ChildStderr>,
    pub(crate) started: Instant,
    pub(crate) deadline: Option<Instant>,
    /// `RLIMIT_CPU` soft limit in seconds, to recognise its SIGKILL (soft = hard).
    pub(crate) cpu_limit: Option<u64>,
    pub(crate) timed_out: bool,
    pub(crate) status: Option<ExitStatus>,
    pub(crate) warnings: Vec<String>,
    pub(crate) pasta: Option<crate::network::PastaProc>,
    pub(crate) enforcement: crate::enforcement::Enforcement,
    pub(crate) peak: Option<crate::exit_hook::Peak>,
    /// The init's events pipe (`None` without an init, or after its EOF).
    pub(crate) events: Option<File>,
    /// The caller's controlling terminal, when the program runs under job control.
    pub(crate) terminal: Option<std::sync::Arc<crate::jobctl::Terminal>>,
    /// What the supervisor does when the program stops on a terminal stop signal under
    /// [`crate::Command::controlling_terminal`].
    pub(crate) stop_hook: Option<crate::jobctl::StopHook>,
    /// The sandbox has a controlling terminal of its own.
    pub(crate) controlling_terminal: bool,
    /// What the init reported about the program's end.
    pub(crate) ended: Option<Event>,
    /// The process that spawned the sandbox: a copy of this `Child` in a forked process
    /// does not kill it when dropped.
    pub(crate) owner: u32,
}

/// How often a supervisor without an init checks for a stopped program under job control.
const JOBCTL_POLL: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 100_000_000,
};

fn timeval(sec: i64, usec: i64) -> Duration {
    Duration::from_secs(sec.max(0) as u64) + Duration::from_micros(usec.max(0) as u64)
}

impl Child {
    /// The pid, in the caller's PID namespace, of the sandbox's PID 1: the init, or the
    /// program itself with `Container::init(false)` or without a PID namespace.
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// The program's pid in the caller's PID namespace, while it runs: with the init, the
    /// init's child (looked up in `/proc`, so `None` once the program has ended); otherwise
    /// the same as [`Child::id`].
    pub fn program_id(&self) -> Option<u32> {
        if self.events.is_some() {
            crate::init::program_pid(self.pid).map(|p| p as u32)
        } else {
            Some(self.pid as u32)
        }
    }

    /// What setup reported without failing: e.g. a seccomp profile naming a system call this
    /// architecture does not know, or landlock rights a `BestEffort` ruleset had to drop.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// What this sandbox enforces (namespaces, capabilities, landlock, seccomp).
    pub fn enforcement(&self) -> &crate::enforcement::Enforcement {
        &self.enforcement
    }

    /// The pidfd (valid until the `Child` is dropped).
    ///
    /// # References
    /// - [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html)
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.signaller.pidfd()
    }

    /// A [`crate::Signaller`] for this sandbox: signals from any thread, while another one
    /// waits for this `Child`.
    pub fn signaller(&self) -> Result<crate::Signaller> {
        self.signaller.try_clone()
    }

    /// Kill the sandbox (SIGKILL to its PID 1 ends the whole PID namespace).
    pub fn kill(&mut self) -> Result<()> {
        self.note_peak();
        self.signal(Signal::KILL.as_raw())
    }

    /// Send a signal to the program. With the init (the default with a PID namespace) the
    /// init forwards it, in the order they were sent (`SIGSTOP` stops the program,
    /// `SIGCONT` continues its process group), and SIGKILL ends the whole sandbox. With
    /// `Container::init(false)` the program is PID 1 and ignores signals it has no handler
    /// for, except SIGKILL and SIGSTOP. Under job control (the program in the caller's own
    /// terminal), `SIGCONT` first hands the program the terminal's foreground if this
    /// process's group has it (a shell's `fg`), so a caller can pass its own `SIGCONT` on.
    /// Once the sandbox has ended, signals have no effect and are no error. From another
    /// thread, while this one waits: [`Child::signaller`].
    pub fn signal(&mut self, sig: i32) -> Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        self.signaller.signal(sig)
    }

    /// The program runs in the caller's own terminal under job control (stdin is the
    /// caller's controlling terminal, whether or not this process is in its foreground, and
    /// no [`crate::Command::controlling_terminal`]): a terminal stop of the program stops this
    /// process too, and once this process is continued the program is continued by
    /// [`Child::wait`] itself, in the terminal's foreground if this process has it (see the
    /// crate's job control docs). A Ctrl-C, Ctrl-\\ or Ctrl-Z this process gets itself then
    /// means the program is not in the terminal's foreground (the shell's `fg` of a job
    /// running in the background hands the foreground over without a signal): pass it on
    /// with [`crate::Signaller::signal_from_terminal`].
    pub fn job_control(&self) -> bool {
        self.signaller.job_control()
    }

    /// Under [`crate::Command::controlling_terminal`]: when the program stops on a terminal
    /// stop signal (`sig`: Ctrl-Z typed in its terminal, or a background read or write),
    /// call `hook` from the thread that waits; once it returns, the program is continued,
    /// given its terminal's foreground again if `hook` returned `true`. A relay of the
    /// caller's terminal uses this to put that terminal back in its own mode and stop itself
    /// the same way (job control of the caller's shell; its whole job with
    /// [`crate::stop_job`] when the user typed the suspend key), then to take the terminal
    /// again when continued in the foreground. Without a hook the program stays stopped
    /// until it gets a `SIGCONT` ([`Child::signal`]). Past the wall-clock deadline (if any)
    /// the hook is not called, and while it runs the kernel continues this process at the
    /// deadline.
    pub fn on_terminal_stop(&mut self, hook: impl FnMut(i32) -> bool + Send + Sync + 'static) {
        self.stop_hook = Some(crate::jobctl::StopHook(Box::new(hook)));
    }

    fn remaining(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Remember the program's own peak memory before killing it (no exit hook runs and the
    /// init reports nothing then), when it was asked for.
    fn note_peak(&mut self) {
        let Some(p) = &self.peak else {
            return;
        };
        if self.events.is_some() {
            let kb = crate::init::program_pid(self.pid)
                .and_then(|p| crate::exit_hook::vm_hwm(p, p))
                .unwrap_or(0);
            p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
        } else if let Some(kb) = crate::exit_hook::vm_hwm(self.pid, self.pid) {
            p.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// Read what the init reported (without blocking unless `block`); act on stops.
    fn pump_events(&mut self, block: bool) -> Result<()> {
        let Some(f) = self.events.as_mut() else {
            return Ok(());
        };
        if !block {
            let mut fds = [PollFd::new(&*f, PollFlags::IN)];
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            if !matches!(poll(&mut fds, Some(&zero)), Ok(n) if n > 0) {
                return Ok(());
            }
        }
        // Everything reported so far is read before acting: a backlog of stops and
        // continues (the program can make many while nobody reads) leaves only its last
        // state to act on, never a stop that is over.
        let mut buf = [0u8; EVENT_SIZE * 8];
        let mut stopped = None;
        let mut first = true;
        loop {
            let n = match f.read(&mut buf) {
                Ok(0) => {
                    self.events = None; // the init is gone; its status says the rest
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                // The pipe's description is non-blocking (the init drops unread reports
                // through it when the pipe is full): a read that must block waits here.
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if !(block && first) {
                        break;
                    }
                    let mut fds = [PollFd::new(&*f, PollFlags::IN)];
                    match poll(&mut fds, None) {
                        Ok(_) | Err(rustix::io::Errno::INTR) => continue,
                        Err(e) => {
                            return Err(Error::io("poll init events", std::io::Error::from(e)))
                        }
                    }
                }
                Err(e) => return Err(Error::io("read init events", e)),
            };
            first = false;
            for rec in buf[..n].chunks_exact(EVENT_SIZE) {
                let mut r = [0u8; EVENT_SIZE];
                r.copy_from_slice(rec);
                match Event::decode(&r) {
                    Some(Event::Stopped(sig)) => stopped = Some(sig),
                    Some(Event::Continued) => stopped = None,
                    Some(e @ (Event::Ended { .. } | Event::WallTime)) => {
                        self.ended = Some(e);
                        stopped = None;
                    }
                    None => {}
                }
            }
            let mut fds = [PollFd::new(&*f, PollFlags::IN)];
            let zero = Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            if n < buf.len() || !matches!(poll(&mut fds, Some(&zero)), Ok(k) if k > 0) {
                break;
            }
        }
        if let Some(sig) = stopped {
            self.program_stopped(sig);
        }
        Ok(())
    }

    /// The program stopped on `sig`. Under job control, a terminal stop signal stops this
    /// process too (see jobctl.rs); once it is continued, so is the program, with the
    /// terminal handed back to it if we were continued in the foreground.
    fn program_stopped(&mut self, sig: i32) {
        if !crate::jobctl::is_terminal_stop(sig) {
            return;
        }
        if self.terminal.is_none() && self.stop_hook.is_none() {
            return;
        }
        // A stopped supervisor would not return at the wall-clock deadline (the init kills
        // the program then, but a script or a shell without job control waits on us): have
        // the kernel continue us at the deadline, when the program has surely ended.
        let _wake = match self.remaining() {
            Some(d) if d.is_zero() => return,
            Some(d) => sys::ContinueTimer::arm(d),
            None => None,
        };
        // A read or write of the terminal stopped the program while this process has its
        // foreground (the shell's `fg` of a job that ran on in the background hands the
        // foreground over without a signal): it is the program's again, no stop. Or another
        // thread has handed it over since the stop (a SIGCONT passed on at `fg`): the stop
        // is stale.
        let not_ours_to_stop = match &self.terminal {
            Some(t) if sig != Signal::TSTP.as_raw() => {
                t.we_are_foreground()
                    || self.program_id().is_some_and(|p| t.foreground_is(p as i32))
            }
            _ => false,
        };
        let foreground = match (&self.terminal, &mut self.stop_hook) {
            (Some(_), _) if not_ours_to_stop => true,
            (Some(t), _) => t.stop_like_program(sig),
            (None, Some(h)) => (h.0)(sig),
            (None, None) => return,
        };
        let _ = self.signaller.continue_program(foreground);
    }

    fn expire(&mut self) -> Result<()> {
        self.timed_out = true;
        self.kill()
    }

    /// Wait until the pidfd is readable or the deadline passes (killing on expiry).
    fn wait_ready(&mut self) -> Result<()> {
        loop {
            let timeout = match self.remaining() {
                None => None,
                Some(d) if d.is_zero() => {
                    self.expire()?;
                    return Ok(());
                }
                Some(d) => Some(Timespec::try_from(d).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                })),
            };
            // Without an init, a stopped program is only seen by asking (pidfds report exits
            // only): under job control, ask every 100 ms.
            let direct_jobctl =
                self.events.is_none() && (self.terminal.is_some() || self.controlling_terminal);
            let timeout = match (direct_jobctl, timeout) {
                (true, t) => Some(t.map_or(JOBCTL_POLL, |t| {
                    if t.tv_sec == 0 && t.tv_nsec < JOBCTL_POLL.tv_nsec {
                        t
                    } else {
                        JOBCTL_POLL
                    }
                })),
                (false, t) => t,
            };
            let (exited, events) = {
                let pidfd = self.signaller.pidfd();
                let mut fds = vec![PollFd::new(&pidfd, PollFlags::IN)];
                if let Some(e) = &self.events {
                    fds.push(PollFd::new(e, PollFlags::IN));
                }
                match poll(&mut fds, timeout.as_ref()) {
                    Ok(0) => (false, false),
                    Ok(_) => (
                        !fds[0].revents().is_empty(),
                        fds.get(1).is_some_and(|f| !f.revents().is_empty()),
                    ),
                    Err(rustix::io::Errno::INTR) => continue,
                    Err(e) => return Err(Error::io("poll", e)),
                }
            };
            if exited {
                return Ok(());
            }
            if events {
                self.pump_events(true)?;
            } else if direct_jobctl {
                self.check_direct_stop();
            }
            // loop re-checks the deadline
        }
    }

    /// Without an init: whether the program stopped (waitid WSTOPPED), then as for an init's
    /// report.
    fn check_direct_stop(&mut self) {
        let w = sys::waitid_pidfd(
            self.signaller.pidfd(),
            WaitIdOptions::STOPPED | WaitIdOptions::NOHANG,
        );
        if let Ok(w) = w {
            if w.pid != 0 && w.code == sys::CLD_STOPPED {
                self.program_stopped(w.status);
            }
        }
    }

    fn reap(&mut self, options: WaitIdOptions) -> Result<Option<ExitStatus>> {
        let w = sys::waitid_pidfd(self.signaller.pidfd(), WaitIdOptions::EXITED | options)
            .map_err(|e| Error::Io {
                op: "waitid",
                errno: e.raw_os_error(),
            })?;
        if w.pid == 0 {
            return Ok(None);
        }
        // The init has exited: everything it reported is in the pipe, then EOF.
        while self.events.is_some() {
            self.pump_events(true)?;
        }
        // With an init, its report describes the program: its own wait status and rusage
        // (the init's ru_maxrss would include the host's, folded in at the init's execve).
        let mut w = w;
        let mut init_walltime = false;
        match self.ended {
            Some(Event::Ended { status, rusage }) => {
                (w.code, w.status) = match status & 0x7f {
                    0 => (sys::CLD_EXITED, (status >> 8) & 0xff),
                    sig if status & 0x80 != 0 => (sys::CLD_DUMPED, sig),
                    sig => (sys::CLD_KILLED, sig),
                };
                w.rusage = rusage;
                if let Some(p) = &self.peak {
                    p.fetch_max(
                        rusage[4].max(0) as u64,
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
            }
            Some(Event::WallTime) => {
                init_walltime = true;
                (w.code, w.status) = (sys::CLD_KILLED, 9);
            }
            _ => {}
        }
        let ru = w.rusage;
        let usage = Usage {
            real_time: self.started.elapsed(),
            user_time: timeval(ru[0], ru[1]),
            system_time: timeval(ru[2], ru[3]),
            // The exit hook's reading is the program's own; ru_maxrss includes the host's
            // peak (see exit_hook.rs), so it is never reported.
            max_rss_kb: self
                .peak
                .as_ref()
                .map(|p| p.load(std::sync::atomic::Ordering::Relaxed))
                .filter(|kb| *kb > 0),
            minor_faults: ru[8].max(0) as u64,
            major_faults: ru[9].max(0) as u64,
            voluntary_switches: ru[16].max(0) as u64,
            involuntary_switches: ru[17].max(0) as u64,
        };
        let (exit_code, signal, core_dumped) = match w.code {
            sys::CLD_EXITED => (Some(w.status), None, false),
            sys::CLD_DUMPED => (None, Some(w.status), true),
            _ => (None, Some(w.status), false),
        };
        let reason = match (signal, self.timed_out || init_walltime) {
            (None, _) => ExitReason::Exited,
            (Some(9), true) => ExitReason::WallTimeExceeded,
            (Some(24), _) => ExitReason::CpuTimeExceeded,
            // At the hard limit the kernel sends SIGKILL instead (the CLI sets soft = hard).
            (Some(9), _)
                if self.cpu_limit.is_some_and(|l| {
                    // rusage samples CPU time; allow a tick of difference to the kernel's count.
                    usage.user_time + usage.system_time + Duration::from_millis(100)
                        >= Duration::from_secs(l)
                }) =>
            {
                ExitReason::CpuTimeExceeded
            }
            (Some(25), _) => ExitReason::FileSizeExceeded,
            (Some(31), _) => ExitReason::SeccompViolation,
            (Some(_), _) => ExitReason::Signaled,
        };
        let enforced = crate::enforcement::Enforced::from(&self.enforcement);
        let status = ExitStatus {
            reason,
            exit_code,
            signal,
            core_dumped,
            usage,
            enforced,
        };
        let pidns = self.enforcement.namespaces.contains(&crate::Namespace::Pid);
        if let (Some(p), true) = (&self.peak, pidns) {
            crate::exit_hook::unwatch(p);
        }
        self.status = Some(status);
        if let Some(t) = &self.terminal {
            t.reclaim();
        }
        self.pasta = None; // stops pasta
        Ok(Some(status))
    }

    /// Waiting is the spawner's: a copy of this `Child` in a process forked from it shares
    /// the init's reports and the piped streams with the spawner, and would take them.
    fn check_owner(&self) -> Result<()> {
        if self.owner == crate::process_local::current_pid() {
            return Ok(());
        }
        Err(Error::Io {
            op: "waiting for a sandbox another process spawned (only that process can)",
            errno: 10, // ECHILD: not this process's child
        })
    }

    /// Wait for the program to end (closing its stdin first). Calling it again returns the
    /// same status.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(s) = self.status {
            return Ok(s);
        }
        self.check_owner()?;
        drop(self.stdin.take());
        self.wait_ready()?;
        match self.reap(WaitIdOptions::empty())? {
            Some(s) => Ok(s),
            None => Err(Error::Io {
                op: "waitid",
                errno: 10,
            }),
        }
    }

    /// The status if the program has ended, without blocking (enforces the wall-clock limit).
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if let Some(s) = self.status {
            return Ok(Some(s));
        }
        self.check_owner()?;
        if self.remaining().is_some_and(|d| d.is_zero()) {
            self.expire()?;
        }
        self.pump_events(false)?;
        if self.events.is_none() && self.terminal.is_some() {
            self.check_direct_stop();
        }
        self.reap(WaitIdOptions::NOHANG)
    }

    /// Wait for the end while draining piped stdout and stderr concurrently.
    pub fn wait_with_output(mut self) -> Result<Output> {
        self.check_owner()?;
        drop(self.stdin.take());
        let mut out = Vec::new();
        let mut err = Vec::new();
        let mut o = self.stdout.take().map(|s| s.0);
        let mut e = self.stderr.take().map(|s| s.0);
        let mut buf = vec![0u8; 64 * 1024];
        while o.is_some() || e.is_some() {
            let timeout = match self.remaining() {
                None => None,
                Some(d) if d.is_zero() => {
                    self.expire()?;
                    None
                }
                Some(d) => Some(Timespec::try_from(d).unwrap_or(Timespec {
                    tv_sec: i64::MAX,
                    tv_nsec: 0,
                })),
            };
            let mut fds = Vec::with_capacity(2);
            if let Some(f) = &o {
                fds.push(PollFd::new(f, PollFlags::IN));
            }
            if let Some(f) = &e {
                fds.push(PollFd::new(f, PollFlags::IN));
            }
            match poll(&mut fds, timeout.as_ref()) {
                Ok(0) | Err(rustix::io::Errno::INTR) => continue,
                Ok(_) => {}
                Err(x) => return Err(Error::io("poll", x)),
            }
            let ready: Vec<bool> = fds.iter().map(|p| !p.revents().is_empty()).collect();
            drop(fds);
            let mut idx = 0;
            for (slot, sink) in [(&mut o, &mut out), (&mut e, &mut err)] {
                if slot.is_none() {
                    continue;
                }
                let r = ready[idx];
                idx += 1;
                if !r {
                    continue;
                }
                let f = slot.as_mut().expect("checked above");
                match f.read(&mut buf) {
                    Ok(0) => *slot = None,
                    Ok(n) => sink.extend_from_slice(&buf[..n]),
                    Err(x) if x.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(x) => return Err(Error::io("read", x)),
                }
            }
        }
        let status = self.wait()?;
        Ok(Output {
            status,
            stdout: out,
            stderr: err,
        })
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // A forked process's copy (a Python object collected in a `multiprocessing` worker)
        // refers to the spawner's sandbox through a shared pidfd: only the spawner kills it.
        if self.status.is_none() && self.owner == crate::process_local::current_pid() {
            let _ = sys::pidfd_send_signal(self.signaller.pidfd(), Signal::KILL);
            let _ = self.reap(WaitIdOptions::empty());
        }
    }
}
