//! Hakoniwa: process isolation for Linux.
//!
//! A [`Container`] describes a sandbox (namespaces, id maps, a root filesystem built from
//! scratch, limits, landlock, seccomp); [`Container::command`] gives a [`Command`] shaped like
//! `std::process::Command` whose `spawn`/`status`/`output` run the program inside it.
//!
//! ```no_run
//! use hakoniwa::Container;
//! fn main() {
//!     _ = Container::new()        // new user, mount and PID namespaces
//!         .rootfs("/")            // host /bin, /lib, /usr, ... read-only
//!         .command("/bin/sh")
//!         .status()
//!         .expect("failed to execute process within container");
//! }
//! ```
//!
//! # How a spawn works
//! The parent prepares everything (C strings, argv/envp arrays, id-map lines, the ordered
//! mount plan, the BPF program) and clones a child with `CLONE_VM` on a private stack, so no
//! page tables are copied however large the host is. The child runs code from
//! `hakoniwa-runtime`, a `#![no_std]` crate without `alloc`: only raw system calls on the
//! prepared memory, which makes spawning safe from multithreaded hosts. Setup failures come
//! back over a close-on-exec pipe as (stage, errno, entry) records: see [`Error`].
//!
//! # PID 1
//! With a PID namespace, PID 1 is the sandbox's init (`hakoniwa-init`, its own static
//! executable run from a sealed memfd), which runs the program in its own process group,
//! forwards signals, reaps orphans and reports the program's end; see
//! [`Container::init`] and the README ("PID 1, signals and the terminal").
//!
//! # Threads, signals and `fork`
//! The engine starts threads only when needed: a spawn from the main thread clones from
//! that thread; a spawn from any other thread hands the clone to an idle "spawner" thread
//! (started on demand, one per concurrent spawn, never exiting, all signals blocked), so
//! that the sandbox's parent-death signal follows a thread that lives as long as the
//! process. With [`Container::peak_memory`], one "exit-hook" thread answers the sandboxes'
//! `exit_group` notifications (only without the init, which reports the program's rusage
//! itself). The cloning thread blocks all signals for the duration of the
//! clone and restores its mask. The engine's process-wide state (these threads, the compiled
//! seccomp programs) belongs to the process that made it: after `fork()` the forked process
//! builds its own and never touches the parent's (whose threads do not exist there). A C host
//! that calls `pthread_exit` in its main thread while other threads go on kills the
//! sandboxes that thread spawned (their parent-death signal fires).
//!
//! # Peak memory
//! Measured only when asked for with [`Container::peak_memory`]; otherwise
//! `ExitStatus::usage.max_rss_kb` is `None`. When asked, it is the program's own peak: with
//! the init, the program's `ru_maxrss` as the init's `wait4` reports it; without the init,
//! `VmHWM` read at the program's `exit_group` through a seccomp user notification (see
//! `exit_hook.rs`); either way, a reading taken before the engine kills the program itself
//! (wall-clock limit, `Child::kill`). Never the `ru_maxrss` of the engine's own child, which
//! includes the host's peak (folded in at `execve`, because the child shared the host's
//! address space until then).
//!
//! # Kernel interfaces
//!
//! The Linux interfaces the engine uses, by step:
//! - Creating the child: [clone(2)](https://man7.org/linux/man-pages/man2/clone.2.html), [namespaces(7)](https://man7.org/linux/man-pages/man7/namespaces.7.html)
//! - User namespaces and id maps: [user_namespaces(7)](https://man7.org/linux/man-pages/man7/user_namespaces.7.html), [newuidmap(1)](https://man7.org/linux/man-pages/man1/newuidmap.1.html), [newgidmap(1)](https://man7.org/linux/man-pages/man1/newgidmap.1.html)
//! - The new root: [mount_namespaces(7)](https://man7.org/linux/man-pages/man7/mount_namespaces.7.html), [mount_setattr(2)](https://man7.org/linux/man-pages/man2/mount_setattr.2.html), [openat2(2)](https://man7.org/linux/man-pages/man2/openat2.2.html), [pivot_root(2)](https://man7.org/linux/man-pages/man2/pivot_root.2.html), [tmpfs(5)](https://man7.org/linux/man-pages/man5/tmpfs.5.html), [proc(5)](https://man7.org/linux/man-pages/man5/proc.5.html)
//! - Identity: [capabilities(7)](https://man7.org/linux/man-pages/man7/capabilities.7.html), [credentials(7)](https://man7.org/linux/man-pages/man7/credentials.7.html), [keyrings(7)](https://man7.org/linux/man-pages/man7/keyrings.7.html), [setsid(2)](https://man7.org/linux/man-pages/man2/setsid.2.html)
//! - Limits: [getrlimit(2)](https://man7.org/linux/man-pages/man2/getrlimit.2.html)
//! - Confinement: [prctl(2)](https://man7.org/linux/man-pages/man2/prctl.2.html), [landlock(7)](https://man7.org/linux/man-pages/man7/landlock.7.html), [seccomp(2)](https://man7.org/linux/man-pages/man2/seccomp.2.html), [seccomp_unotify(2)](https://man7.org/linux/man-pages/man2/seccomp_unotify.2.html), [close_range(2)](https://man7.org/linux/man-pages/man2/close_range.2.html)
//! - The program and its init: [execve(2)](https://man7.org/linux/man-pages/man2/execve.2.html), [execveat(2)](https://man7.org/linux/man-pages/man2/execveat.2.html), [memfd_create(2)](https://man7.org/linux/man-pages/man2/memfd_create.2.html), [credentials(7)](https://man7.org/linux/man-pages/man7/credentials.7.html) (process groups), [tcsetpgrp(3)](https://man7.org/linux/man-pages/man3/tcsetpgrp.3.html)
//! - Supervision: [pidfd_open(2)](https://man7.org/linux/man-pages/man2/pidfd_open.2.html), [pidfd_send_signal(2)](https://man7.org/linux/man-pages/man2/pidfd_send_signal.2.html), [waitid(2)](https://man7.org/linux/man-pages/man2/wait.2.html), [getrusage(2)](https://man7.org/linux/man-pages/man2/getrusage.2.html)
//!
//! Examples of every capability are in `engine/examples/` and, with notes on threads,
//! `fork` and signals, in `docs/rust.md`.
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

pub mod caps;
mod child;
mod command;
mod container;
mod enforcement;
mod error;
mod exit_hook;
mod exit_status;
mod host_root;
mod idmap;
mod init;
mod jobctl;
pub mod landlock;
mod namespace;
pub mod network;
mod plan;
mod process_local;
mod process_spec;
mod rlimit;
mod runctl;
pub mod seccomp;
mod spawn;
pub mod status_json;
mod stdio;
mod sys;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout, Output};
pub use command::Command;
pub use container::Container;
pub use enforcement::{Enforced, Enforcement, LandlockReport, SeccompReport, SetupTimings};
pub use error::{Error, ErrorKind, Result, Stage};
pub use exit_status::{ExitReason, ExitStatus, Usage};
pub use idmap::IdMap;
pub use namespace::Namespace;
pub use network::{Network, Pasta};
pub use plan::{DEFAULT_PATH, HOST_ROOT_DIRS, PROC_MASKED, PROC_READONLY};
pub use rlimit::{Rlimit, RLIM_INFINITY};
pub use runctl::Runctl;
pub use stdio::Stdio;
