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
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
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
    listener: OwnedFd,
    pid: i32,
    peak: Peak,
}

struct Notifier {
    epoll: OwnedFd,
    watched: Mutex<HashMap<RawFd, Watched>>,
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
    let n = notifier()?;
    let peak: Peak = Arc::new(AtomicU64::new(0));
    let fd = listener.as_raw_fd();
    n.watched.lock().unwrap_or_else(|e| e.into_inner()).insert(
        fd,
        Watched {
            listener,
            pid,
            peak: peak.clone(),
        },
    );
    let ev = rustix::event::epoll::Event {
        flags: rustix::event::epoll::EventFlags::IN,
        data: rustix::event::epoll::EventData::new_u64(fd as u64),
    };
    let guard = n.watched.lock().unwrap_or_else(|e| e.into_inner());
    let ok = guard
        .get(&fd)
        .map(|w| rustix::event::epoll::add(&n.epoll, &w.listener, ev.data, ev.flags).is_ok())
        .unwrap_or(false);
    drop(guard);
    if !ok {
        n.watched
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&fd);
        return None;
    }
    Some(peak)
}

/// Stop watching (after PID 1 of a PID namespace was reaped, nothing with the filter is
/// left; closing the listener right away keeps descriptor counts exact).
pub(crate) fn unwatch(peak: &Peak) {
    let Some(Some(n)) = NOTIFIER.get() else {
        return;
    };
    let mut g = n.watched.lock().unwrap_or_else(|e| e.into_inner());
    let fd = g
        .iter()
        .find(|(_, w)| Arc::ptr_eq(&w.peak, peak))
        .map(|(fd, _)| *fd);
    if let Some(w) = fd.and_then(|fd| g.remove(&fd)) {
        let _ = rustix::event::epoll::delete(&n.epoll, &w.listener);
    }
}

fn run() {
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
            let fd = data.u64() as RawFd;
            use rustix::event::epoll::EventFlags as F;
            if flags.contains(F::IN) {
                serve(n, fd);
            } else if flags.intersects(F::HUP | F::ERR) {
                // Every process with the filter is gone.
                if let Some(w) = n
                    .watched
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&fd)
                {
                    let _ = rustix::event::epoll::delete(&n.epoll, &w.listener);
                }
            }
        }
    }
}

/// Answer one notification: record PID 1's `VmHWM`, then let `exit_group` continue.
fn serve(n: &Notifier, fd: RawFd) {
    // struct seccomp_notif: id (u64), pid (u32), flags (u32), seccomp_data (64 bytes).
    let mut notif = [0u64; 10];
    // SAFETY: `notif` is a zeroed struct seccomp_notif the kernel fills.
    if unsafe { syscall!(Sysno::ioctl, fd, NOTIF_RECV, notif.as_mut_ptr()) }.is_err() {
        return; // ENOENT: the task died meanwhile
    }
    let id = notif[0];
    let tid = (notif[1] & 0xffff_ffff) as i32;
    let target = n
        .watched
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&fd)
        .map(|w| (w.pid, w.peak.clone()));
    if let Some((pid, peak)) = target {
        if let Some(kb) = vm_hwm(tid, pid) {
            peak.fetch_max(kb, Ordering::Relaxed);
        }
    }
    // struct seccomp_notif_resp: id (u64), val (i64), error (i32), flags (u32).
    let resp: [u64; 3] = [id, 0, (FLAG_CONTINUE as u64) << 32];
    // SAFETY: `resp` is a live struct seccomp_notif_resp.
    let _ = unsafe { syscall!(Sysno::ioctl, fd, NOTIF_SEND, resp.as_ptr()) };
}
