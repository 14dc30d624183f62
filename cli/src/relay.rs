//! The supervisor's relay between the caller's terminal and the sandbox's pseudo-terminal
//! ([`crate::pty`]).
//!
//! One thread copies bytes both ways with `poll`: what the user types goes to the master
//! (only when the program's stdin is the pseudo-terminal, and only while `hakoniwa` is the
//! terminal's foreground job and the program runs), what the program writes goes to the
//! caller's terminal. When stdin is elsewhere (a pipe, a file), only output is relayed: the
//! caller's terminal keeps its modes, so its Ctrl-C, Ctrl-\ and Ctrl-Z signal `hakoniwa`'s
//! group; the signal thread hands them here and the master sends them to the program's
//! foreground group (`TIOCSIG`), after which a stop goes on as below. Job control stays the
//! shell's:
//! - Ctrl-Z typed reaches the pseudo-terminal as a byte, its line discipline stops the
//!   program, the engine sees the stop and calls the hook [`Prepared::start`] gave it: the
//!   caller's terminal gets its modes back and `hakoniwa` stops with the same signal, with
//!   the rest of its process group when the user typed the suspend key (a script that ran
//!   it, the rest of a pipeline: [`hakoniwa::stop_job`]), so the shell shows the job
//!   stopped; on `fg` the terminal is made raw again and the program continued;
//! - in the background (`&`, `bg`) nothing is read from the caller's terminal, so the shell
//!   keeps its input; output still goes out, as for any background job; the relay looks
//!   again whether it is in the foreground on SIGCONT (`fg` of a stopped job) and every
//!   200 ms while it is not (`fg` of a running one sends no signal); after a SIGCONT raw
//!   mode is applied again (a shell resets the modes of a job stopped from outside);
//! - `SIGWINCH` copies the window size to the pseudo-terminal, whose kernel side signals
//!   the program's foreground group.
//!
//! In a pipeline (stdin the terminal, stdout not: `hakoniwa run -- PROG | less`) the caller's
//! terminal keeps its modes: what it reads as lines is relayed, but only while the terminal
//! is in canonical mode with echo (a pager that switched it, or a password prompt that
//! turned echo off, is reading the keys, so they are left to it; the modes are looked at
//! right before each read, every 200 ms while waiting, and reads do not block, so a key
//! another reader took first cannot hold the relay); its Ctrl-C, Ctrl-\ and Ctrl-Z signal
//! the pipeline's group, `hakoniwa` included, and the relay thread passes them on as the
//! program's terminal's own key for them, after dropping what it holds of the lines typed
//! before: that terminal's line discipline then signals its foreground group and discards
//! what was typed and not yet read, as the caller's terminal did (`TIOCSIG` when it
//! generates no signals).
//!
//! When the caller's terminal hangs up (its window or connection closed), the relay stops
//! reading it and sends `hakoniwa` a `SIGHUP`, which goes to the program as for any hang-up
//! while `hakoniwa` runs: a program holding a pseudo-terminal of its own would otherwise
//! never learn that its user is gone (the kernel sends the hang-up only to the caller's
//! session leader, which need not pass it on). It also closes the master, which hangs up
//! the pseudo-terminal: a program that ignores `SIGHUP` reads end-of-file there, as it
//! would on the caller's terminal.
//!
//! When the sandbox has ended, the relay drains what the program wrote until the master
//! reports that no slave descriptor is left (`EIO`), so the output is complete before
//! `hakoniwa` prints anything or exits; then the terminal's modes are restored.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use rustix::io::Errno;

use crate::pty::UserTerminal;

/// How long the drain after the end waits for more output when slave descriptors are
/// still open somewhere (only possible without a PID namespace: with one, every process
/// holding the slave is gone when the sandbox's end is reported).
const DRAIN_IDLE: Timespec = Timespec {
    tv_sec: 2,
    tv_nsec: 0,
};

/// The longest drain after the end, for a writer that keeps the slave busy (again only
/// possible without a PID namespace, e.g. a daemon left by a profile that shares it).
const DRAIN_MAX: std::time::Duration = std::time::Duration::from_secs(10);
/// How long after the suspend key a stop of the program counts as the user's (a program
/// stops on it at once, or after reading it, as an editor does; two seconds leave room
/// for a loaded machine).
const SUSPEND_WINDOW: std::time::Duration = std::time::Duration::from_secs(2);

/// How often the relay looks whether it is in the foreground again while it is not: `fg`
/// of a job that runs in the background sends no signal (bash continues only stopped jobs).
const BACKGROUND_CHECK: Timespec = Timespec {
    tv_sec: 0,
    tv_nsec: 200_000_000,
};

/// SIGINT, SIGQUIT, SIGTSTP.
const SIGINT: i32 = 2;
const SIGQUIT: i32 = 3;
const SIGTSTP: i32 = 20;

/// The pseudo-terminal, opened and given to the command, before the spawn.
pub struct Prepared {
    term: UserTerminal,
    master: OwnedFd,
    out: OwnedFd,
    /// Which of the program's stdin, stdout, stderr got the slave.
    streams: [bool; 3],
    /// stdin is the terminal, stdout is not (see [`Shared::cooked`]).
    pipeline: bool,
}

/// Open a pseudo-terminal for `cmd` if any of the caller's stdin, stdout, stderr is a
/// terminal (as `sudo`'s `use_pty`), and give its slave to the program's standard streams
/// that are that terminal (the first of the three that is one), as the sandbox's
/// controlling terminal; the other streams stay as they are. `None` when none is a
/// terminal.
pub fn prepare(cmd: &mut hakoniwa::Command) -> std::io::Result<Option<Prepared>> {
    use crate::pty::terminal_device;
    let std = [
        rustix::stdio::stdin(),
        rustix::stdio::stdout(),
        rustix::stdio::stderr(),
    ];
    let ttys = crate::default_env::stdio_terminals();
    let devices = [0, 1, 2].map(|i| ttys[i].then(|| terminal_device(std[i])).flatten());
    let Some((first, dev)) = devices
        .iter()
        .enumerate()
        .find_map(|(i, d)| d.map(|d| (i, d)))
    else {
        return Ok(None);
    };
    let streams = devices.map(|d| d == Some(dev));
    // Part of a pipeline (`hakoniwa run -- PROG | less`): input comes from the terminal, output
    // goes elsewhere, maybe to a pager that reads the same terminal.
    let pipeline = streams[0] && !streams[1];
    let user = std[first];
    let term = UserTerminal::new(user.try_clone_to_owned()?, streams[2]);
    let pair = crate::pty::open(user, term.is_foreground())?;
    if pipeline {
        // The caller's terminal keeps its modes and echoes what is typed itself.
        crate::pty::echo_off(pair.slave.as_fd());
    }
    if streams[0] {
        cmd.stdin(pair.slave.try_clone()?);
    }
    if streams[1] {
        cmd.stdout(pair.slave.try_clone()?);
    }
    if streams[2] {
        cmd.stderr(pair.slave.try_clone()?);
    }
    cmd.controlling_terminal(true);
    // The program's output goes where the caller's own output to that terminal goes; with
    // stdout and stderr elsewhere, only the echo of what is typed is left, written to the
    // terminal on stdin.
    let out = if streams[1] {
        rustix::stdio::stdout().try_clone_to_owned()?
    } else if streams[2] {
        rustix::stdio::stderr().try_clone_to_owned()?
    } else {
        rustix::stdio::stdin().try_clone_to_owned()?
    };
    Ok(Some(Prepared {
        term,
        master: pair.master,
        out,
        streams,
        pipeline,
    }))
}

impl Prepared {
    /// Start relaying, before the spawn: the caller's terminal is raw from now on (in the
    /// foreground), so a Ctrl-Z or Ctrl-C typed as the program starts reaches the program's
    /// terminal, never `hakoniwa` alone. Until [`Relay::attach`], Ctrl-C and Ctrl-\ also
    /// signal `hakoniwa` itself, as they would in cooked mode (a run still in setup ends).
    pub fn start(self) -> std::io::Result<Relay> {
        rustix::fs::fcntl_setfl(&self.master, rustix::fs::OFlags::NONBLOCK)?;
        let (wake_r, wake_w) = rustix::pipe::pipe_with(
            rustix::pipe::PipeFlags::CLOEXEC | rustix::pipe::PipeFlags::NONBLOCK,
        )?;
        let reader = self
            .pipeline
            .then(|| self.term.reopen_nonblocking())
            .flatten();
        let shared = Arc::new(Shared {
            term: self.term,
            input: self.streams[0],
            cooked: self.pipeline,
            reader,
            master: self.master,
            mode: Mutex::new(Mode::default()),
            ended: AtomicBool::new(false),
            continued: AtomicBool::new(false),
            suspend_typed: Mutex::new(None),
            attached: AtomicBool::new(false),
            signal_request: AtomicU32::new(0),
            relaying: AtomicBool::new(true),
            wake_w,
        });
        // Raw before the thread reads anything.
        shared.take_terminal();
        let s = shared.clone();
        let out = self.out;
        let thread = std::thread::Builder::new()
            .name("hakoniwa-pty".into())
            .spawn(move || relay(&s, out.as_fd(), wake_r.as_fd()))
            .inspect_err(|_| shared.give_back())?;
        Ok(Relay {
            shared,
            thread: Some(thread),
            streams: self.streams,
        })
    }
}

#[derive(Default)]
struct Mode {
    /// While the caller's terminal is in raw mode: the modes to put back.
    raw: Option<rustix::termios::Termios>,
    /// `hakoniwa` is about to stop: the terminal stays as the shell expects it.
    paused: bool,
    /// We were in the background when last looked at.
    was_background: bool,
    /// A SIGTSTP for the program came before [`Relay::attach`] (the program may already
    /// run): sent on when attached.
    deferred_stop: bool,
}

struct Shared {
    term: UserTerminal,
    /// The program's stdin is the pseudo-terminal: what the user types is relayed (and the
    /// caller's terminal is raw in the foreground). Otherwise only output is, and the
    /// caller's terminal keeps its modes.
    input: bool,
    /// Input is relayed, but the caller's terminal keeps its modes (the program's stdout is
    /// not that terminal: it is part of a pipeline, maybe to a pager that reads the same
    /// terminal, as `sudo` does with `use_pty`). Lines typed go to the program only while the
    /// terminal is in canonical mode with echo: otherwise another program of the pipeline
    /// (a pager, a password prompt) has taken the keyboard. The keys that signal reach `hakoniwa`'s group, which passes them
    /// on as when only output is relayed; end-of-file typed is sent on as the slave's EOF
    /// character.
    cooked: bool,
    /// With `cooked`: the caller's terminal opened again, non-blocking (see
    /// [`UserTerminal::reopen_nonblocking`]); `None` if that failed (then the shared one).
    reader: Option<OwnedFd>,
    master: OwnedFd,
    mode: Mutex<Mode>,
    /// The sandbox has ended: drain the output, read no more input.
    ended: AtomicBool,
    /// The sandbox runs: typed bytes only go to the program's terminal.
    attached: AtomicBool,
    /// Keyboard signals for the program ([`Shared::keyboard_signal`]) that the relay thread
    /// is to deliver ([`interrupt`]): bit `n` for signal `n`.
    signal_request: AtomicU32,
    /// The relay thread still runs its loop (else a signal request is delivered at once).
    relaying: AtomicBool,
    /// We were continued: the shell may have reset the terminal's modes while we were
    /// stopped (by someone else than the stop hook), so raw mode is applied again.
    continued: AtomicBool,
    /// When the last key typed was the suspend key (Ctrl-Z), or the caller's terminal sent
    /// SIGTSTP: a stop of the program within [`SUSPEND_WINDOW`] of it is the user's, which
    /// stops the whole job ([`Shared::program_stopped`]). A program that ignored the key
    /// cannot use it later to stop whoever runs `hakoniwa`.
    suspend_typed: Mutex<Option<std::time::Instant>>,
    wake_w: OwnedFd,
}

impl Shared {
    fn mode(&self) -> std::sync::MutexGuard<'_, Mode> {
        self.mode.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wake(&self) {
        let _ = rustix::io::write(&self.wake_w, b"w");
    }

    /// Whether we are the terminal's foreground job; if so (and the program runs), the
    /// terminal is made raw.
    fn take_terminal(&self) -> bool {
        let fg = self.term.is_foreground();
        let mut m = self.mode();
        if !fg {
            m.was_background = true;
            return false;
        }
        // Back in the foreground, or continued: the shell may have set its own modes since.
        let again =
            std::mem::take(&mut m.was_background) | self.continued.swap(false, Ordering::SeqCst);
        if self.input && !self.cooked && !m.paused && !self.ended.load(Ordering::SeqCst) {
            match &m.raw {
                None => m.raw = self.term.make_raw(),
                // The modes to put back at the end stay those from before.
                Some(_) if again => {
                    let _ = self.term.make_raw();
                }
                Some(_) => {}
            }
        }
        true
    }

    /// Close the master (its descriptor now refers to `/dev/null`, so the other threads'
    /// uses of it fail harmlessly): with no master left, the kernel hangs up the slave.
    fn hang_up_pty(&self) {
        use std::os::fd::{AsRawFd, FromRawFd};
        let Ok(null) = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDWR | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        ) else {
            return;
        };
        // SAFETY: a second owner of the master's descriptor number, never dropped: `dup2`
        // only replaces what the number refers to, and `self.master` keeps owning it.
        let mut number =
            std::mem::ManuallyDrop::new(unsafe { OwnedFd::from_raw_fd(self.master.as_raw_fd()) });
        let _ = rustix::io::dup2(&null, &mut number);
    }

    fn give_back(&self) {
        if let Some(saved) = self.mode().raw.take() {
            self.term.restore(&saved);
        }
    }

    /// Before the sandbox runs: the interrupt and quit keys signal `hakoniwa`, as the
    /// terminal's own line discipline would in the modes the shell set.
    fn signal_keys(&self, typed: &[u8]) {
        use rustix::process::Signal;
        use rustix::termios::SpecialCodeIndex;
        let Some(keys) = self.mode().raw.as_ref().map(|t| {
            [
                (t.special_codes[SpecialCodeIndex::VINTR], Signal::INT),
                (t.special_codes[SpecialCodeIndex::VQUIT], Signal::QUIT),
            ]
        }) else {
            return;
        };
        for (key, sig) in keys {
            if key != 0 && typed.contains(&key) {
                // To the process, not this thread: the signal handling takes it like a
                // key's signal in cooked mode, and the setup ends with the terminal's modes
                // restored (the default action here would end the process at once).
                let _ = rustix::process::kill_process(rustix::process::getpid(), sig);
            }
        }
    }

    /// See [`Relay::signal_handler`]. Before the sandbox runs, SIGINT and SIGQUIT end the
    /// setup as without a relay; SIGTSTP waits for [`Relay::attach`] (the spawn may have
    /// started the program already, with nobody yet to hear of its stop).
    fn keyboard_signal(&self, sig: i32) -> bool {
        if (self.input && !self.cooked) || self.ended.load(Ordering::SeqCst) {
            return false;
        }
        let mut m = self.mode();
        if m.paused {
            return false;
        }
        if sig == SIGTSTP {
            self.note_suspend(true);
        }
        if !self.attached.load(Ordering::SeqCst) {
            m.deferred_stop |= sig == SIGTSTP;
            return sig == SIGTSTP;
        }
        drop(m);
        if !self.input {
            // Only output is relayed: nothing typed waits in the program's terminal (and
            // its echo, left on, would show the key a second time).
            return crate::pty::signal_foreground(self.master.as_fd(), sig).is_ok();
        }
        // The relay thread delivers it, between its writes of what was typed before; once
        // its loop has ended (the sandbox ended, the terminal hung up), this thread does.
        self.signal_request.fetch_or(1 << sig, Ordering::SeqCst);
        self.wake();
        if self.relaying.load(Ordering::SeqCst) {
            return true;
        }
        self.deliver_signal_requests()
    }

    /// Deliver the pending [`Shared::signal_request`]s, each once; whether all got through.
    fn deliver_signal_requests(&self) -> bool {
        let bits = self.signal_request.swap(0, Ordering::SeqCst);
        let mut all_sent = true;
        for sig in [SIGINT, SIGQUIT, SIGTSTP] {
            if bits & (1 << sig) != 0 {
                all_sent &= interrupt(self, sig);
            }
        }
        all_sent
    }

    /// Typed bytes relayed in raw mode: note whether the last was the suspend key (the
    /// caller's terminal's own, from the modes to put back; Ctrl-Z if they are not known).
    fn note_typed(&self, typed: &[u8]) {
        use rustix::termios::SpecialCodeIndex;
        let Some(&last) = typed.last() else {
            return;
        };
        let key = self
            .mode()
            .raw
            .as_ref()
            .map_or(0x1a, |t| t.special_codes[SpecialCodeIndex::VSUSP]);
        self.note_suspend(key != 0 && last == key);
    }

    /// Note that the suspend key was just typed (`true`), or that another key came after it.
    fn note_suspend(&self, typed: bool) {
        let mut t = self.suspend_typed.lock().unwrap_or_else(|e| e.into_inner());
        *t = typed.then(std::time::Instant::now);
    }

    /// Whether the suspend key was typed within [`SUSPEND_WINDOW`] (and no key since);
    /// forgotten once asked.
    fn suspend_just_typed(&self) -> bool {
        let mut t = self.suspend_typed.lock().unwrap_or_else(|e| e.into_inner());
        t.take().is_some_and(|at| at.elapsed() <= SUSPEND_WINDOW)
    }

    /// The engine's stop hook (see the module docs): give the terminal back, stop like the
    /// program, and once continued take the terminal again if in the foreground. A stop the
    /// user typed stops the rest of `hakoniwa`'s process group too, as the caller's terminal
    /// would have (a script that ran it: else its shell would never see the job stop);
    /// any other (the program's own `kill -TSTP 0`, a background read) stops `hakoniwa`
    /// alone, so that the program cannot stop the script or `timeout` that runs it.
    fn program_stopped(&self, sig: i32) -> bool {
        {
            let mut m = self.mode();
            m.paused = true;
            if let Some(saved) = m.raw.take() {
                self.term.restore(&saved);
            }
        }
        if sig == SIGTSTP && self.suspend_just_typed() {
            hakoniwa::stop_job(sig, self.term.fd());
        } else {
            crate::signals::stop_self(sig);
        }
        self.mode().paused = false;
        let fg = self.take_terminal();
        self.wake();
        fg
    }
}

/// The caller's terminal hung up: `hakoniwa` gets the `SIGHUP` a session leader gets, and
/// its signal handling passes it to the program and ends with it. The pseudo-terminal hangs
/// up too, as the caller's did: a program that ignores `SIGHUP` then reads end-of-file and
/// fails to write, as it would on the caller's terminal, instead of waiting for input that
/// can no longer come.
fn hang_up(s: &Shared) {
    let _ = rustix::process::kill_process(rustix::process::getpid(), rustix::process::Signal::HUP);
    s.hang_up_pty();
}

/// The running relay; dropping it ends it as [`Relay::finish`] does.
pub struct Relay {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    /// Which of the program's stdin, stdout, stderr got the slave.
    streams: [bool; 3],
}

impl Relay {
    /// Take the slave back from `cmd` (after the spawn): the sandbox holds the only copies
    /// left, so the master reports their end.
    pub fn release_slave(&self, cmd: &mut hakoniwa::Command) {
        if self.streams[0] {
            cmd.stdin(hakoniwa::Stdio::inherit());
        }
        if self.streams[1] {
            cmd.stdout(hakoniwa::Stdio::inherit());
        }
        if self.streams[2] {
            cmd.stderr(hakoniwa::Stdio::inherit());
        }
    }

    /// The sandbox runs: `child`'s terminal stops go through [`Shared::program_stopped`].
    pub fn attach(&self, child: &mut hakoniwa::Child) {
        let s = self.shared.clone();
        child.on_terminal_stop(move |sig| s.program_stopped(sig));
        let mut m = self.shared.mode();
        self.shared.attached.store(true, Ordering::SeqCst);
        // What was typed meanwhile can go to the program now.
        self.shared.wake();
        if std::mem::take(&mut m.deferred_stop) {
            drop(m);
            let _ = crate::pty::signal_foreground(self.shared.master.as_fd(), SIGTSTP);
        }
    }

    /// What the signal thread does with SIGWINCH (copy the window size) and SIGCONT (look
    /// again whether we are in the foreground); and, when only output is relayed or the
    /// caller's terminal keeps its modes ([`Shared::cooked`]), with
    /// SIGINT, SIGQUIT and SIGTSTP while the program runs: the caller's terminal sent them
    /// to `hakoniwa`'s group for a key typed there (or someone sent them to `hakoniwa`), so
    /// the pseudo-terminal sends them to its foreground group, as if typed there (the stop
    /// then goes through [`Shared::program_stopped`]). Returns whether it took the signal.
    pub fn signal_handler(&self) -> Arc<dyn Fn(i32) -> bool + Send + Sync> {
        let s = self.shared.clone();
        Arc::new(move |sig| match sig {
            28 => {
                crate::pty::copy_size(s.term.fd(), s.master.as_fd());
                s.wake();
                true
            }
            18 => {
                s.continued.store(true, Ordering::SeqCst);
                // A resize while we were stopped signalled the shell, not us.
                crate::pty::copy_size(s.term.fd(), s.master.as_fd());
                s.wake();
                true
            }
            SIGINT | SIGQUIT | SIGTSTP => s.keyboard_signal(sig),
            _ => false,
        })
    }

    /// The sandbox has ended: relay the rest of its output, then restore the terminal.
    pub fn finish(&mut self) {
        self.shared.ended.store(true, Ordering::SeqCst);
        self.shared.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.shared.give_back();
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.finish();
    }
}

fn write_all(fd: BorrowedFd<'_>, mut b: &[u8]) {
    while !b.is_empty() {
        match rustix::io::write(fd, b) {
            Ok(n) => b = &b[n..],
            Err(Errno::INTR) => {}
            // A terminal that went away: the output has nowhere to go, keep draining.
            Err(_) => return,
        }
    }
}

/// The end-of-file character of the pseudo-terminal (Ctrl-D unless the program changed it).
fn eof_char(s: &Shared) -> u8 {
    use rustix::termios::SpecialCodeIndex;
    match rustix::termios::tcgetattr(&s.master) {
        Ok(t) if t.special_codes[SpecialCodeIndex::VEOF] != 0 => {
            t.special_codes[SpecialCodeIndex::VEOF]
        }
        _ => 4,
    }
}

/// Whether `typed`, one read of the caller's terminal in canonical mode, ends a line as
/// typed, so that no end-of-file is to follow it (a read that does not is a line ended by
/// Ctrl-D).
///
/// Keys typed in the same burst as the command, while the shell's line editor still had
/// the terminal raw, come as one read when the shell makes the terminal canonical again,
/// unedited: they may end in `\r` (Enter) or in anything else, and hold editing keys that a
/// canonical read never does (erase, kill, Ctrl-D...). Those are passed on as typed: the
/// program's terminal edits them as the caller's would have.
fn whole_line(s: &Shared, typed: &[u8]) -> bool {
    use rustix::termios::SpecialCodeIndex as C;
    let last = typed[typed.len() - 1];
    if matches!(last, b'\n' | b'\r') || s.term.special_chars(&[C::VEOL, C::VEOL2]).contains(&last) {
        return true;
    }
    let editing = [
        C::VEOF,
        C::VERASE,
        C::VWERASE,
        C::VKILL,
        C::VREPRINT,
        C::VLNEXT,
    ];
    let editing = s.term.special_chars(&editing);
    typed.iter().any(|b| editing.contains(b))
}

/// The relay thread's loop (see the module docs).
fn relay(s: &Shared, out: BorrowedFd<'_>, wake: BorrowedFd<'_>) {
    let mut buf = vec![0u8; 16 * 1024];
    // Typed bytes the master has not taken yet (the program is not reading).
    let mut pending: Vec<u8> = Vec::new();
    let mut input_open = s.input;
    let mut hung_up = false;
    let mut ended_at = None;
    loop {
        let ended = s.ended.load(Ordering::SeqCst);
        if ended {
            pending.clear();
            let t = *ended_at.get_or_insert_with(std::time::Instant::now);
            if t.elapsed() > DRAIN_MAX {
                break;
            }
        }
        let fg = s.take_terminal();
        // In a pipeline, a terminal out of canonical mode belongs to another program (a pager).
        let keyboard_ours = !s.cooked || s.term.is_cooked();
        let read_input = input_open && fg && keyboard_ours && !ended && pending.is_empty();
        // Typed bytes wait for the sandbox to run: before, the pseudo-terminal has no
        // session yet, and a Ctrl-Z or Ctrl-C typed at once would signal nobody.
        let attached = s.attached.load(Ordering::SeqCst);
        let mut master_events = PollFlags::IN;
        if !pending.is_empty() && attached {
            master_events |= PollFlags::OUT;
        }
        let term = s.reader.as_ref().map_or(s.term.fd(), |r| r.as_fd());
        let mut fds = vec![
            PollFd::new(&s.master, master_events),
            PollFd::new(&wake, PollFlags::IN),
        ];
        // The caller's terminal is watched even when nothing is read from it: poll reports
        // a hang-up unasked.
        if !hung_up {
            let events = if read_input {
                PollFlags::IN
            } else {
                PollFlags::empty()
            };
            fds.push(PollFd::new(&term, events));
        }
        let timeout = if ended {
            Some(&DRAIN_IDLE)
        } else if (!fg || s.cooked) && input_open {
            // In a pipeline, also to notice a pager that takes the keyboard meanwhile.
            Some(&BACKGROUND_CHECK)
        } else {
            None
        };
        match poll(&mut fds, timeout) {
            Ok(0) if ended => break, // drained: nothing more came for a while after the end
            Ok(0) => continue,       // in the background: look again
            Ok(_) => {}
            Err(Errno::INTR) => continue,
            Err(_) => break,
        }
        let master_ready = fds[0].revents();
        let woken = !fds[1].revents().is_empty();
        let term_ready = fds.get(2).map_or(PollFlags::empty(), |f| f.revents());
        let typed = read_input && !term_ready.is_empty();
        let hang_up_seen = !read_input && term_ready.intersects(PollFlags::HUP | PollFlags::ERR);
        drop(fds);
        if woken {
            while rustix::io::read(wake, &mut buf).is_ok_and(|n| n > 0) {}
            if s.signal_request.load(Ordering::SeqCst) != 0 {
                // As a terminal discards what was typed before Ctrl-C or Ctrl-Z.
                pending.clear();
                s.deliver_signal_requests();
            }
        }
        if master_ready.intersects(PollFlags::IN | PollFlags::HUP | PollFlags::ERR) {
            match rustix::io::read(&s.master, &mut buf) {
                Ok(n) if n > 0 => write_all(out, &buf[..n]),
                Ok(_) | Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                // EIO: no slave descriptor is left, everything was read.
                Err(_) => break,
            }
        }
        if master_ready.contains(PollFlags::OUT) && !pending.is_empty() && attached {
            match rustix::io::write(&s.master, &pending) {
                Ok(n) => {
                    pending.drain(..n);
                }
                Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                Err(_) => pending.clear(),
            }
        }
        if hang_up_seen {
            // Watched no more either way (poll would keep reporting it).
            hung_up = true;
            if s.term.hung_up() {
                hang_up(s);
                break;
            }
        }
        // In a pipeline the modes are looked at again right before the read: a pager may
        // have switched them since the poll.
        if typed && (!s.cooked || s.term.is_cooked()) {
            match rustix::io::read(term, &mut buf) {
                // Ctrl-D typed in canonical mode: the program reads its end-of-file too.
                Ok(0) if s.cooked && !s.term.hung_up() => pending.push(eof_char(s)),
                // End of input: in raw mode only a hang-up gives it.
                Ok(0) => {
                    input_open = false;
                    if s.term.hung_up() {
                        hang_up(s);
                        break;
                    }
                }
                Ok(n) => {
                    if !s.attached.load(Ordering::SeqCst) {
                        s.signal_keys(&buf[..n]);
                    }
                    if !s.cooked {
                        s.note_typed(&buf[..n]);
                    }
                    pending.extend_from_slice(&buf[..n]);
                    // A line ended by Ctrl-D rather than Enter: passed on at once, too.
                    if s.cooked && !whole_line(s, &buf[..n]) {
                        pending.push(eof_char(s));
                    }
                }
                Err(Errno::AGAIN) | Err(Errno::INTR) => {}
                // A read that raced with the shell taking the terminal back.
                Err(Errno::IO) if !s.term.is_foreground() => {}
                Err(_) => {
                    input_open = false;
                    if s.term.hung_up() {
                        hang_up(s);
                        break;
                    }
                }
            }
        }
    }
    s.relaying.store(false, Ordering::SeqCst);
    s.deliver_signal_requests();
    // The program can no longer be reached (or has ended): the terminal is the shell's
    // again, so Ctrl-C typed now reaches `hakoniwa`, which forwards it.
    s.give_back();
}

/// Signal the program's terminal's foreground group with `sig` (SIGINT, SIGQUIT or SIGTSTP:
/// a key typed at the caller's terminal, which signalled `hakoniwa`'s group). Through the
/// program's terminal's own key for it when that terminal generates signals, as if typed
/// there: its line discipline then also discards the input not yet read, as the caller's
/// terminal did (unless `noflsh`). Otherwise with `TIOCSIG`, which discards nothing.
/// Whether the signal was sent (not after a hang-up: the master is `/dev/null` then).
fn interrupt(s: &Shared, sig: i32) -> bool {
    use rustix::termios::{LocalModes, SpecialCodeIndex as C};
    let index = match sig {
        SIGINT => C::VINTR,
        SIGQUIT => C::VQUIT,
        _ => C::VSUSP,
    };
    let key = rustix::termios::tcgetattr(&s.master)
        .ok()
        .filter(|t| t.local_modes.contains(LocalModes::ISIG))
        .map(|t| t.special_codes[index])
        .filter(|&c| c != 0);
    if let Some(key) = key {
        if rustix::io::write(&s.master, &[key]) == Ok(1) {
            return true;
        }
    }
    crate::pty::signal_foreground(s.master.as_fd(), sig).is_ok()
}
