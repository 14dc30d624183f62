//! The program's own peak memory, read at its exit.
//!
//! The child shares the host's address space until `execve` (that is what makes spawning
//! independent of the host's size), and the kernel folds the pre-exec address space's
//! high-water mark into the program's `ru_maxrss` at `execve`. So `waitid`'s figure is at
//! least the host's own peak. Instead, the child installs a second, tiny seccomp filter that
//! turns `exit_group` into a user notification (everything else is allowed). One engine
//! thread listens on every sandbox's notification descriptor; when PID 1 of a sandbox calls
//! `exit_group`, its address space still exists, so the thread reads `VmHWM` from
//! `/proc/PID/status` and lets the call continue. Other processes of the sandbox continue
//! at once. A program killed by a signal makes no `exit_group`: then the engine uses a
//! reading taken when it killed the program itself (wall-clock limit, `Child::kill`), and
//! otherwise `ru_maxrss` (documented as an upper bound).

use std::collections::HashMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use hakoniwa_runtime::SockFilter;
use syscalls::{syscall, Sysno};

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const SECCOMP_RET_USER_NOTIF: u32 = 0x7fc0_0000;
const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
const NR_EXIT_GROUP: u32 = 231;

/// `exit_group` on x86_64 → user notification; everything else → allow.
pub(crate) const FILTER: [SockFilter; 6] = [
    SockFilter {
        code: 0x20,
        jt: 0,
        jf: 0,
        k: 4,
    }, // ld arch
    SockFilter {
        code: 0x15,
        jt: 0,
        jf: 3,
        k: AUDIT_ARCH_X86_64,
    }, // jeq x86_64 ? : allow
    SockFilter {
        code: 0x20,
        jt: 0,
        jf: 0,
        k: 0,
    }, // ld nr
    SockFilter {
        code: 0x15,
        jt: 0,
        jf: 1,
        k: NR_EXIT_GROUP,
    }, // jeq exit_group ? : allow
    SockFilter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: SECCOMP_RET_USER_NOTIF,
    }, // ret notify
    SockFilter {
        code: 0x06,
        jt: 0,
        jf: 0,
        k: SECCOMP_RET_ALLOW,
    }, // ret allow
];

const NOTIF_RECV: u64 = 0xc050_2100;
const NOTIF_SEND: u64 = 0xc018_2101;
const FLAG_CONTINUE: u32 = 1;

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
}

static NOTIFIER: OnceLock<Option<Notifier>> = OnceLock::new();

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
    NOTIFIER
        .get_or_init(|| {
            let epoll =
                rustix::event::epoll::create(rustix::event::epoll::CreateFlags::CLOEXEC).ok()?;
            let n = Notifier {
                epoll,
                watched: Mutex::new(HashMap::new()),
                next_id: AtomicU64::new(1),
            };
            std::thread::Builder::new()
                .name("hakoniwa-exit-hook".into())
                .spawn(run)
                .ok()?;
            Some(n)
        })
        .as_ref()
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
    let Some(Some(n)) = NOTIFIER.get() else {
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

fn run() {
    use rustix::event::epoll::EventFlags as F;
    // The notifier is initialised before this thread can observe it.
    let n = loop {
        if let Some(Some(n)) = NOTIFIER.get() {
            break n;
        }
        std::thread::yield_now();
    };
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
    let fd = listener.as_raw_fd();
    // struct seccomp_notif: id (u64), pid (u32), flags (u32), seccomp_data (64 bytes).
    let mut notif = [0u64; 10];
    // SAFETY: `notif` is a zeroed struct seccomp_notif the kernel fills; `fd` is kept open by
    // the caller's reference for the duration of the call.
    if unsafe { syscall!(Sysno::ioctl, fd, NOTIF_RECV, notif.as_mut_ptr()) }.is_err() {
        return; // ENOENT: the task died meanwhile
    }
    let id = notif[0];
    let tid = (notif[1] & 0xffff_ffff) as i32;
    if let Some(kb) = vm_hwm(tid, pid) {
        peak.fetch_max(kb, Ordering::Relaxed);
    }
    // struct seccomp_notif_resp: id (u64), val (i64), error (i32), flags (u32).
    let resp: [u64; 3] = [id, 0, (FLAG_CONTINUE as u64) << 32];
    // SAFETY: `resp` is a live struct seccomp_notif_resp.
    let _ = unsafe { syscall!(Sysno::ioctl, fd, NOTIF_SEND, resp.as_ptr()) };
}
