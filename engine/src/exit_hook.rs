//! The program's own peak memory, read at its exit.
//!
//! The child shares the host's address space until `execve` (that is what makes spawning
//! independent of the host's size), and the kernel folds the pre-exec address space's
//! high-water mark into the program's `ru_maxrss` at `execve`. So `waitid`'s figure is at
//! least the host's own peak. Instead, when the caller asks for the figure
//! ([`crate::Container::peak_memory`]), the child installs the variant of the sandbox's one
//! seccomp program in which `exit_group` returns a user notification (built by
//! `hakoniwa_seccomp::codegen::compile_with_exit_hook`; the program still sees a single
//! filter). One engine thread listens on every sandbox's notification descriptor; when PID 1
//! of a sandbox calls `exit_group`, its address space still exists, so the thread reads
//! `VmHWM` from `/proc/PID/status` and lets the call continue. Other processes of the
//! sandbox continue at once. A program killed by a signal makes no `exit_group`: then the
//! engine uses a reading taken when it killed the program itself (wall-clock limit,
//! `Child::kill`), and otherwise reports no figure. Nothing of this runs (no thread, no
//! round trip at exit) unless the caller asked.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::process_local::ProcessLocal;

/// Peak RSS (KiB) of a program, 0 until known.
pub(crate) type Peak = Arc<AtomicU64>;

struct Watched {
    listener: Arc<OwnedFd>,
    pid: i32,
    peak: Peak,
}

/// Entries are keyed by a never-reused id (the epoll data), not by descriptor number: a
/// listener closed by `unwatch` between `epoll_wait` and `serve` must not be confused with
/// a new one that got the same number (the thread would block on it).
struct Notifier {
    epoll: OwnedFd,
    watched: Mutex<HashMap<u64, Watched>>,
    next_id: AtomicU64,
    thread_started: AtomicBool,
}

/// One per process: after a `fork` of the host, the forked process gets its own epoll
/// instance and thread instead of the parent's (whose thread does not exist there).
static NOTIFIER: ProcessLocal<Notifier> = ProcessLocal::new();

/// `VmHWM` (KiB) of `pid`, if it belongs to thread group `tgid` (any thread may call
/// `exit_group`).
pub(crate) fn vm_hwm(pid: i32, tgid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        s.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    if field("Tgid:")? as i32 != tgid {
        return None;
    }
    field("VmHWM:")
}

fn notifier() -> Option<&'static Notifier> {
    let n = NOTIFIER
        .get_or_try_init(|| {
            let epoll = rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC)?;
            Ok::<_, rustix::io::Errno>(Notifier {
                epoll,
                watched: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
                thread_started: AtomicBool::new(false),
            })
        })
        .ok()?;
    // The thread starts once the value is published, so a value that lost a race never
    // has a thread.
    if !n.thread_started.swap(true, Ordering::AcqRel) {
        let started = std::thread::Builder::new()
            .name("hakoniwa-exit-hook".into())
            .spawn(move || run(n));
        if started.is_err() {
            n.thread_started.store(false, Ordering::Release);
            return None;
        }
    }
    Some(n)
}

/// Start watching a sandbox's listener; the returned cell receives PID 1's peak RSS.
pub(crate) fn watch(listener: OwnedFd, pid: i32) -> Option<Peak> {
    use rustix::event::epoll;
    let n = notifier()?;
    let peak: Peak = Arc::new(AtomicU64::new(0));
    let id = n.next_id.fetch_add(1, Ordering::Relaxed);
    let listener = Arc::new(listener);
    let mut g = n.watched.lock().unwrap_or_else(|e| e.into_inner());
    epoll::add(
        &n.epoll,
        &*listener,
        epoll::EventData::new_u64(id),
        epoll::EventFlags::IN,
    )
    .ok()?;
    g.insert(
        id,
        Watched {
            listener,
            pid,
            peak: peak.clone(),
        },
    );
    Some(peak)
}

/// Stop watching (after PID 1 of a PID namespace was reaped, nothing with the filter is
/// left; closing the listener right away keeps descriptor counts exact).
pub(crate) fn unwatch(peak: &Peak) {
    let Some(n) = NOTIFIER.get() else {
        return;
    };
    let mut g = n.watched.lock().unwrap_or_else(|e| e.into_inner());
    let id = g
        .iter()
        .find(|(_, w)| Arc::ptr_eq(&w.peak, peak))
        .map(|(id, _)| *id);
    if let Some(w) = id.and_then(|id| g.remove(&id)) {
        let _ = rustix::event::epoll::delete(&n.epoll, &*w.listener);
    }
}

fn run(n: &'static Notifier) {
    use rustix::event::epoll::EventFlags as F;
    let mut events: Vec<rustix::event::epoll::Event> = Vec::with_capacity(16);
    loop {
        events.clear();
        if rustix::event::epoll::wait(&n.epoll, rustix::buffer::spare_capacity(&mut events), None)
            .is_err()
        {
            continue;
        }
        for ev in events.iter() {
            let (flags, data) = (ev.flags, ev.data); // copies out of the packed struct
            let id = data.u64();
            let entry = n
                .watched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(&id)
                .map(|w| (w.listener.clone(), w.pid, w.peak.clone()));
            let Some((listener, pid, peak)) = entry else {
                continue;
            }; // unwatched meanwhile
            if flags.contains(F::IN) {
                serve(&listener, pid, &peak);
            } else if flags.intersects(F::HUP | F::ERR) {
                // Every process with the filter is gone.
                if let Some(w) = n
                    .watched
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&id)
                {
                    let _ = rustix::event::epoll::delete(&n.epoll, &*w.listener);
                }
            }
        }
    }
}

/// Answer one notification: record PID 1's `VmHWM`, then let `exit_group` continue.
fn serve(listener: &OwnedFd, pid: i32, peak: &Peak) {
    use hakoniwa_runtime::sys::{seccomp_notif_continue, seccomp_notif_recv};
    let fd = listener.as_raw_fd();
    let Ok((id, tid)) = seccomp_notif_recv(fd) else {
        return; // ENOENT: the task died meanwhile
    };
    if let Some(kb) = vm_hwm(tid, pid) {
        peak.fetch_max(kb, Ordering::Relaxed);
    }
    let _ = seccomp_notif_continue(fd, id);
}
