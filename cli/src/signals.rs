//! Signals sent to `hakoniwa run` itself (Ctrl-C without a terminal hand-over, `kill`,
//! a closing terminal, `timeout`).
//!
//! They are blocked in every thread (the mask is set before any thread exists) and taken
//! with `sigtimedwait`, never by an asynchronous handler. The thread that takes them starts
//! once the program has run for a moment (or, when setup may wait for long, before: a
//! profile to read, pasta to start, a terminal to relay). Until then the main thread takes
//! them: setup at its checkpoints, then while it watches the program's first moments (a
//! signalfd wakes it), so a short setup creates no thread ahead of the sandbox's clone and
//! a program that ends at once needs none at all. A signal that arrives meanwhile stays
//! pending in the kernel and is taken at the next checkpoint, at once while the program
//! runs, or by the thread as soon as it starts; of several different ones pending at once
//! the lowest-numbered is taken first (the kernel keeps no arrival order):
//! - while the program runs, each is forwarded to it (through the sandbox's init, in the
//!   order taken: [`hakoniwa::Signaller`]); if it
//!   ends the program, `hakoniwa` exits with the program's 128+N after the engine has torn
//!   the sandbox down (pasta stopped), or for SIGINT and SIGQUIT ends by the same signal
//!   then ([`end_like`]);
//! - during setup, the first one that would end a process is remembered: once `spawn`
//!   returns, the sandbox is killed and cleaned up and `hakoniwa` exits with 128+N;
//! - one that `hakoniwa` was started with ignored (`nohup`, a script's `&`) is dropped.
//!
//! SIGTSTP is taken here too (SIGTTIN and SIGTTOU are left alone): unless the relay takes
//! it (below), `hakoniwa` stops as its default action would stop it. With the terminal
//! handed over (`--no-pty`), Ctrl-Z goes to the program's process group, and the engine
//! stops `hakoniwa` in turn (job control). A SIGTSTP, SIGINT or SIGQUIT that reaches
//! `hakoniwa` itself then (its group has the terminal's foreground after `bg` and `fg`, or
//! a `kill`) goes to the program's whole group, which gets the terminal back
//! ([`hakoniwa::Signaller::signal_from_terminal`]); the program's stop stops `hakoniwa` the
//! same way.
//!
//! SIGCONT (also taken here; blocking it does not keep it from continuing the process) is
//! passed on to the program while it runs, as to any other process: `timeout` sends SIGTERM
//! then SIGCONT, so that a stopped program wakes up to end. One taken before `hakoniwa`
//! forwards anything is passed on as soon as it does (the program runs from the moment
//! `spawn` returns and may have stopped itself already). In the caller's own terminal under
//! job control (`--no-pty`), the engine's [`hakoniwa::Signaller`] first hands the program
//! the terminal's foreground when `hakoniwa` has it: a shell's `fg`, also after `bg` while
//! the program ran on in the background.
//!
//! With a pseudo-terminal relayed for the program ([`crate::relay`]), SIGWINCH is not
//! forwarded: the relay copies the window size to the pseudo-terminal, whose kernel side
//! signals the program's foreground group. SIGCONT also tells the relay to look again
//! whether `hakoniwa` is in the foreground. When the relay only copies output (stdin is not the terminal, so
//! the caller's terminal stays in its modes and its Ctrl-C, Ctrl-\ and Ctrl-Z signal
//! `hakoniwa`'s group), the relay passes SIGINT, SIGQUIT and SIGTSTP to the program's
//! terminal as if typed there.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::{Arc, Mutex};

use syscalls::{syscall, Sysno};

/// SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM, SIGWINCH.
const FORWARDED: [i32; 8] = [1, 2, 3, 10, 12, 14, 15, 28];
/// Signals whose default action does not end a process (only forwarded).
const HARMLESS: [i32; 1] = [28];
/// SIGCONT: passed on to the program (see the module docs), and to the relay.
const SIGCONT: i32 = 18;
/// SIGTSTP: given to the relay, or acted upon as its default action would (stop).
const SIGTSTP: i32 = 20;

/// What the pseudo-terminal relay does with a signal; `false`: not taken, handled as without
/// a relay.
type TerminalHandler = std::sync::Arc<dyn Fn(i32) -> bool + Send + Sync>;

#[derive(Default)]
struct State {
    /// Where to forward, while the sandbox runs.
    target: Option<hakoniwa::Signaller>,
    /// The first ending signal that arrived before the sandbox ran.
    pending: Option<i32>,
    /// A SIGCONT arrived before the sandbox ran (see [`Signals::forward_to`]).
    continue_pending: bool,
    /// The pseudo-terminal relay, while it runs.
    terminal: Option<TerminalHandler>,
    /// Bits (1 << signal) of the forwarded signals `hakoniwa` was started with ignored
    /// (`nohup`, a script's `&`): blocking them still queues them, so they are dropped
    /// here, as the kernel would have dropped them.
    ignored: u64,
}

/// The CLI's signal handling; see the module docs.
pub struct Signals {
    state: Arc<Mutex<State>>,
    /// Whether the thread that takes the signals runs.
    started: std::cell::Cell<bool>,
}

fn set() -> u64 {
    FORWARDED
        .iter()
        .fold(1u64 << (SIGCONT - 1) | 1u64 << (SIGTSTP - 1), |m, s| {
            m | 1 << (s - 1)
        })
}

/// Name of a signal number for messages.
pub fn name(sig: i32) -> String {
    let names = [
        (1, "SIGHUP"),
        (2, "SIGINT"),
        (3, "SIGQUIT"),
        (10, "SIGUSR1"),
        (12, "SIGUSR2"),
        (14, "SIGALRM"),
        (15, "SIGTERM"),
    ];
    names
        .iter()
        .find(|(n, _)| *n == sig)
        .map_or_else(|| format!("signal {sig}"), |(_, s)| (*s).to_string())
}

/// Take one signal of the set: wait for it, or with `poll` only take one already pending.
fn take_one(poll: bool) -> Option<i32> {
    let mask = set();
    let zero = [0i64; 2];
    let timeout: *const i64 = if poll {
        zero.as_ptr()
    } else {
        std::ptr::null()
    };
    // SAFETY: `mask` is a live sigset of the kernel's size, `timeout` NULL or a live
    // zero timespec; no siginfo is wanted.
    let r = unsafe {
        syscall!(
            Sysno::rt_sigtimedwait,
            &mask as *const u64,
            0usize,
            timeout,
            8usize
        )
    };
    r.ok().map(|sig| sig as i32)
}

/// A descriptor that is readable while one of the signals is pending (nothing is read from
/// it: [`take_one`] takes them).
fn signalfd() -> Option<OwnedFd> {
    const SFD_CLOEXEC: usize = 0o2000000;
    const SFD_NONBLOCK: usize = 0o4000;
    let mask = set();
    // SAFETY: `mask` is a live sigset of the kernel's size.
    let fd = unsafe {
        syscall!(
            Sysno::signalfd4,
            -1isize as usize,
            &mask as *const u64,
            8usize,
            SFD_CLOEXEC | SFD_NONBLOCK
        )
    }
    .ok()?;
    // SAFETY: a new descriptor the kernel just returned, owned by nobody else.
    Some(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) })
}

/// What a signal taken does (in whichever thread took it).
fn act(state: &Mutex<State>, sig: i32) {
    let mut s = state.lock().unwrap_or_else(|e| e.into_inner());
    if s.ignored & (1 << sig) != 0 {
        return;
    }
    if sig == SIGCONT {
        if let Some(t) = &s.terminal {
            t(sig);
        }
        match &s.target {
            Some(target) => {
                let _ = target.signal(sig);
            }
            None => s.continue_pending = true,
        }
        return;
    }
    if s.terminal.as_ref().is_some_and(|t| t(sig)) {
        return;
    }
    if sig == SIGTSTP {
        if let Some(target) = s.target.as_ref().filter(|t| t.job_control()) {
            // Ctrl-Z reached this process, not the program: the program runs in the
            // background (a shell's `fg` of a job that ran on after `bg` hands the terminal
            // over without a signal). It goes to the program's whole group, whose stop
            // stops this process in turn (the engine's job control); `fg` continues both.
            let _ = target.signal_from_terminal(sig);
            return;
        }
        drop(s);
        stop_self(sig);
        return;
    }
    match &s.target {
        // Ctrl-C or Ctrl-\ typed while this process's group holds the terminal (see
        // SIGTSTP above): to the program's whole group, which gets the terminal back
        // (otherwise as any signal).
        Some(target) if INTERRUPTING.contains(&sig) => {
            let _ = target.signal_from_terminal(sig);
        }
        Some(target) => {
            // Gone already, or a full request pipe (an init frozen from outside): nothing
            // better to do than drop it, as the kernel drops a second pending signal.
            let _ = target.signal(sig);
        }
        None if !HARMLESS.contains(&sig) && s.pending.is_none() => s.pending = Some(sig),
        None => {}
    }
}

impl Signals {
    /// Block the signals in this (still only) thread; see [`Signals::start`] for the thread
    /// that takes them.
    pub fn install() -> Signals {
        let ignored = FORWARDED
            .iter()
            .filter(|&&sig| ignored(sig))
            .fold(0u64, |m, &sig| m | 1 << sig);
        let mask = set();
        // SAFETY: `mask` is a live sigset of the kernel's size; threads created later
        // inherit the mask.
        let _ = unsafe {
            syscall!(
                Sysno::rt_sigprocmask,
                0usize, // SIG_BLOCK
                &mask as *const u64,
                0usize,
                8usize
            )
        };
        Signals {
            state: Arc::new(Mutex::new(State {
                ignored,
                ..State::default()
            })),
            started: std::cell::Cell::new(false),
        }
    }

    /// Start the thread that takes the signals from now on (once; it takes at once those
    /// pending).
    pub fn start(&self) {
        if self.started.replace(true) {
            return;
        }
        let shared = self.state.clone();
        let _ = std::thread::Builder::new()
            .name("hakoniwa-signals".into())
            .spawn(move || loop {
                if let Some(sig) = take_one(false) {
                    act(&shared, sig);
                }
            });
    }

    /// Before the thread runs: act on the signals pending now.
    fn poll(&self) {
        if !self.started.get() {
            while let Some(sig) = take_one(true) {
                act(&self.state, sig);
            }
        }
    }

    /// Offer every signal to the pseudo-terminal relay first from now on (the thread starts:
    /// the relay needs its signals while the setup goes on).
    pub fn relay_terminal(&self, handler: TerminalHandler) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .terminal = Some(handler);
        self.start();
    }

    /// The ending signal received so far during setup, if any.
    pub fn pending(&self) -> Option<i32> {
        self.poll();
        self.state.lock().unwrap_or_else(|e| e.into_inner()).pending
    }

    /// The sandbox runs: forward to `target` from now on, unless an ending signal arrived
    /// during setup (returned; the caller ends the sandbox). See [`Signals::wait_for_end`]
    /// for what takes the signals next.
    ///
    /// A SIGCONT taken before this call is passed on now: the program runs from the moment
    /// `spawn` returns, and may have stopped itself already.
    pub fn forward_to(&self, target: hakoniwa::Signaller) -> Option<i32> {
        self.poll();
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if s.pending.is_some() {
            return s.pending;
        }
        if std::mem::take(&mut s.continue_pending) {
            let _ = target.signal(SIGCONT);
        }
        s.target = Some(target);
        None
    }

    /// Whether the sandbox (`pidfd`) ends within `timeout`. Until the thread runs, the
    /// signals that arrive meanwhile are taken here (a signalfd wakes the wait); if the
    /// sandbox still runs after `timeout`, the thread starts. A program that ends at once
    /// thus never needs the thread.
    pub fn wait_for_end(&self, pidfd: BorrowedFd<'_>, timeout: std::time::Duration) -> bool {
        use rustix::event::{poll, PollFd, PollFlags, Timespec};
        let deadline = std::time::Instant::now() + timeout;
        let wake = if self.started.get() {
            None
        } else {
            let w = signalfd();
            if w.is_none() {
                self.start();
            }
            w
        };
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let t = Timespec {
                tv_sec: left.as_secs() as i64,
                tv_nsec: left.subsec_nanos() as i64,
            };
            let mut fds = vec![PollFd::new(&pidfd, PollFlags::IN)];
            if let Some(w) = &wake {
                fds.push(PollFd::new(w, PollFlags::IN));
            }
            match poll(&mut fds, Some(&t)) {
                Ok(n) if n > 0 => {
                    if fds[0].revents().contains(PollFlags::IN) {
                        return true;
                    }
                    self.poll();
                }
                _ => break,
            }
        }
        self.start();
        false
    }
}

/// SIGINT and SIGQUIT: the keys that interrupt.
const INTERRUPTING: [i32; 2] = [2, 3];

/// The signal `hakoniwa` ends with (see [`end_like`]); 0: none.
static END_LIKE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Remember that the program (or the setup) was ended by `sig`: if that is SIGINT or
/// SIGQUIT, [`exit`] ends `hakoniwa` by the same signal once everything is cleaned up, so
/// that an interactive shell that ran it stops a loop as it would for the program itself
/// (a shell only does so for a job killed by the signal, not for one that exits 128+N; `sudo`
/// and `timeout` do the same). The status the shell shows is still 128+N.
pub fn end_like(sig: i32) {
    if INTERRUPTING.contains(&sig) {
        END_LIKE.store(sig, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Exit with `code`, or by the signal [`end_like`] remembered, unless `hakoniwa` was started
/// with it ignored (as shells start background jobs): then `code`. No core dump comes of it.
pub fn exit(code: i32) -> ! {
    use std::io::Write;
    let sig = END_LIKE.load(std::sync::atomic::Ordering::Relaxed);
    if sig != 0 && !ignored(sig) {
        let _ = std::io::stdout().flush();
        let _ = std::io::stderr().flush();
        let _ = rustix::process::setrlimit(
            rustix::process::Resource::Core,
            rustix::process::Rlimit {
                current: Some(0),
                maximum: None,
            },
        );
        // A core_pattern that pipes to a program ignores RLIMIT_CORE; this holds for it too.
        let _ =
            rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable);
        stop_self(sig);
    }
    std::process::exit(code)
}

/// Whether `sig`'s disposition is "ignore" (inherited through `execve`).
fn ignored(sig: i32) -> bool {
    // The kernel's struct sigaction: handler, flags, restorer, mask.
    let mut old = [0u64; 4];
    // SAFETY: no new action (NULL); `old` is large enough for the kernel's struct.
    let r = unsafe { syscall!(Sysno::rt_sigaction, sig, 0usize, old.as_mut_ptr(), 8usize) };
    r.is_ok() && old[0] == 1 // SIG_IGN
}

/// Stop (or otherwise act on) `sig` as its default action would, now, in this thread: the
/// signal is unblocked here around a `tgkill` to this thread (it is blocked in every thread
/// so that the signal thread can take it). A stop signal returns once continued.
pub fn stop_self(sig: i32) {
    let set: u64 = 1 << (sig - 1);
    let mut old: u64 = 0;
    // SAFETY: `set` and `old` are live sigsets of the kernel's size.
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            1usize, // SIG_UNBLOCK
            &set as *const u64,
            &mut old as *mut u64,
            8usize
        )
    };
    let pid = rustix::process::getpid().as_raw_nonzero().get();
    // SAFETY: no pointers.
    let _ =
        unsafe { syscall!(Sysno::gettid).and_then(|tid| syscall!(Sysno::tgkill, pid, tid, sig)) };
    // SAFETY: as above; puts the previous mask back.
    let _ = unsafe {
        syscall!(
            Sysno::rt_sigprocmask,
            2usize, // SIG_SETMASK
            &old as *const u64,
            0usize,
            8usize
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Send `sig` to the calling thread only (it stays pending there while blocked).
    fn to_this_thread(sig: i32) {
        let pid = rustix::process::getpid().as_raw_nonzero().get();
        // SAFETY: no pointers.
        unsafe { syscall!(Sysno::gettid).and_then(|tid| syscall!(Sysno::tgkill, pid, tid, sig)) }
            .unwrap();
    }

    /// Whether process `pid` is stopped (state `T` in `/proc/PID/stat`).
    fn stopped(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|s| s.rsplit(") ").next().is_some_and(|r| r.starts_with('T')))
    }

    /// Wait (up to 10 s) until process `pid` is stopped, or running if `!want_stopped`.
    fn await_stopped(pid: u32, want_stopped: bool) {
        let t = std::time::Instant::now();
        while stopped(pid) != want_stopped {
            assert!(t.elapsed().as_secs() < 10, "never stopped = {want_stopped}");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Run `f` in a thread of its own: the mask `install` sets stays there.
    fn in_own_thread(f: impl FnOnce() + Send + 'static) {
        std::thread::spawn(f).join().unwrap();
    }

    /// A sandbox running `sleep 30`, then this thread's signal handling installed (the
    /// sandbox is started first, as `hakoniwa run` starts it after blocking: here nothing
    /// depends on the runtime resetting the mask).
    fn sleeping_sandbox_then_signals() -> (hakoniwa::Child, Signals) {
        let child = hakoniwa::Container::new()
            .rootfs("/")
            .command("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        (child, Signals::install())
    }

    #[test]
    fn an_ending_signal_during_setup_is_taken_at_the_checkpoint_before_any_thread_runs() {
        in_own_thread(|| {
            let (mut child, signals) = sleeping_sandbox_then_signals();
            to_this_thread(15);
            assert_eq!(signals.pending(), Some(15));
            assert!(!signals.started.get(), "no thread during setup");
            let target = child.signaller().unwrap();
            assert_eq!(signals.forward_to(target), Some(15), "the run ends");
            child.kill().unwrap();
            child.wait().unwrap();
        });
    }

    #[test]
    fn a_signal_in_the_programs_first_moments_is_forwarded_without_the_thread() {
        in_own_thread(|| {
            let (mut child, signals) = sleeping_sandbox_then_signals();
            assert_eq!(signals.forward_to(child.signaller().unwrap()), None);
            to_this_thread(15);
            let ended = signals.wait_for_end(child.pidfd(), std::time::Duration::from_secs(20));
            let status = child.wait().unwrap();
            assert!(ended, "the program did not end: {status:?}");
            assert_eq!(status.signal(), Some(15), "SIGTERM forwarded: {status:?}");
            assert!(!signals.started.get(), "no thread was needed");
        });
    }

    #[test]
    fn sigcont_is_passed_on() {
        in_own_thread(|| {
            let (mut child, signals) = sleeping_sandbox_then_signals();
            assert_eq!(signals.forward_to(child.signaller().unwrap()), None);
            // Stopped, with a SIGTERM pending that only a SIGCONT lets it act on (what
            // `timeout` does: SIGTERM, then SIGCONT).
            child.signal(19).unwrap();
            // Only once it has stopped: a SIGTERM that finds it still running (the stop
            // sent but not yet taken) ends it at once, as for any process.
            await_stopped(child.program_id().unwrap(), true);
            child.signal(15).unwrap();
            to_this_thread(SIGCONT);
            let ended = signals.wait_for_end(child.pidfd(), std::time::Duration::from_secs(10));
            if !ended {
                child.kill().unwrap();
            }
            let status = child.wait().unwrap();
            assert!(ended, "still stopped: {status:?}");
            assert_eq!(status.signal(), Some(15), "{status:?}");
        });
    }

    #[test]
    fn a_sigcont_taken_before_forwarding_starts_is_passed_on_then() {
        // The program runs from the moment `spawn` returns; one that stops itself at once
        // may get its SIGCONT before `forward_to` (a lone `kill -CONT`, which used to be
        // dropped and left it stopped for good).
        in_own_thread(|| {
            let (mut child, signals) = sleeping_sandbox_then_signals();
            let program = child.program_id().unwrap();
            child.signal(19).unwrap();
            await_stopped(program, true);
            to_this_thread(SIGCONT);
            assert_eq!(signals.forward_to(child.signaller().unwrap()), None);
            await_stopped(program, false);
            child.kill().unwrap();
            child.wait().unwrap();
        });
    }

    #[test]
    fn the_thread_starts_when_the_program_outlives_the_first_moments() {
        in_own_thread(|| {
            let (mut child, signals) = sleeping_sandbox_then_signals();
            assert_eq!(signals.forward_to(child.signaller().unwrap()), None);
            let ended = signals.wait_for_end(child.pidfd(), std::time::Duration::from_millis(20));
            let _ = child.kill();
            let _ = child.wait();
            assert!(!ended);
            assert!(
                signals.started.get(),
                "the thread takes the signals from now on"
            );
        });
    }

    #[test]
    fn the_first_ending_signal_is_kept_and_a_harmless_one_ends_nothing() {
        in_own_thread(|| {
            let signals = Signals::install();
            to_this_thread(28);
            assert_eq!(signals.pending(), None, "SIGWINCH ends nothing");
            to_this_thread(1);
            assert_eq!(signals.pending(), Some(1));
            to_this_thread(15);
            assert_eq!(signals.pending(), Some(1), "the first one is kept");
        });
    }
}
