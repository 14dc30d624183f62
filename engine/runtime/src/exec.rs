//! The last step: `execve` of the program, with a `PATH` search (done inside the sandbox)
//! for names without a slash, like `execvp` but without allocation; or `execveat` of the
//! sandbox's init, which does the same search after forking.

use crate::init_proto::Control;
use crate::plan::{InitPlan, Plan, RawFd};
use crate::search::{exec_search, SEARCH_MAX};
use crate::sys;

/// Try to execute the program; returns the errno of the most relevant failure.
pub fn exec(plan: &Plan<'_>) -> i32 {
    let mut buf = [0u8; SEARCH_MAX];
    exec_search(plan.program, plan.search_path, &mut buf, |path| {
        // SAFETY: the parent built argv/envp as NULL-terminated arrays of C strings that live
        // until this process has exec'd or exited.
        unsafe { sys::execve(path, plan.argv, plan.envp) }
    })
}

/// Start the init from its memfd, handing it the error pipe, the events pipe's write and
/// read ends and the request pipe's read end, and the watch (`[host pidfd, signalfd, epoll]`,
/// -1s: none); returns the errno.
pub fn exec_init(
    init: &InitPlan<'_>,
    err: RawFd,
    events: [RawFd; 3],
    watch: [RawFd; 3],
    memfd: RawFd,
) -> i32 {
    let [host_pidfd, signal_fd, watch_fd] = watch;
    let control = Control {
        err_fd: err,
        events_fd: events[0],
        events_read_fd: events[1],
        flags: init.flags,
        nproc: init.nproc,
        deadline_ns: init.deadline_ns,
        host_pidfd,
        signal_fd,
        watch_fd,
        request_fd: events[2],
    }
    .encode();
    if init.control.len() != control.len() {
        return sys::EINVAL;
    }
    for (cell, b) in init.control.iter().zip(control) {
        cell.set(b);
    }
    // The pipes (and the pidfd) must survive this execve (the init marks them close-on-exec
    // again).
    for fd in [
        err, events[0], events[1], events[2], host_pidfd, signal_fd, watch_fd,
    ] {
        if fd < 0 {
            continue;
        }
        if let Err(e) = sys::fcntl(fd, sys::F_SETFD, 0) {
            return e;
        }
    }
    if host_pidfd >= 0 {
        // The thread that cloned this child waits for its execve, so until here its end is
        // the host's end, and SIGKILL stays. From here on that thread may end first; the
        // init watches the host's pidfd instead (an end before it looks is still seen: the
        // pidfd stays readable).
        if let Err(e) = sys::prctl(sys::PR_SET_PDEATHSIG, 0, 0, 0, 0) {
            return e;
        }
    }
    // SAFETY: the parent built the init's argv/envp as NULL-terminated arrays of C strings
    // (envp[0] is the control buffer written above) that live until this process has
    // exec'd or exited.
    unsafe { sys::execveat_fd(memfd, init.argv, init.envp) }
}
