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
//! # Thread safety: `Send` and `Sync`
//! Every public type is `Send` and `Sync` (checked at compile time by the test
//! `every_public_type_is_send_and_sync`): [`Container`], [`Command`], [`Child`],
//! [`ChildStdin`], [`ChildStdout`], [`ChildStderr`], [`Output`], [`Stdio`], [`ExitStatus`],
//! [`ExitReason`], [`Usage`], [`Enforced`], [`Enforcement`], [`LandlockReport`],
//! [`SeccompReport`], [`SetupTimings`], [`Error`], [`ErrorKind`], [`Stage`], [`Namespace`],
//! [`Network`], [`Pasta`], [`Rlimit`], [`Runctl`], [`IdMap`], [`Mount`], [`BindAccess`], and
//! the [`layout`], [`landlock`] and [`seccomp`] types. A [`Container`] is plain data: clone it, share it, build commands from
//! it on many threads at once. [`Command`] and [`Child`] take `&mut self` where they change
//! (spawning, waiting, killing), so sharing one between threads needs a lock, as with
//! `std::process`; reading a [`Child`]'s report (`enforcement`, `warnings`, `id`) needs none.
//! Spawns from several threads run in parallel.
//!
//! # Background threads
//! The engine starts threads only when needed, and none of them ever exits (they are
//! idle between uses):
//! - **`hakoniwa-spawner`**: a spawn from a thread other than the main thread of a sandbox
//!   without an init ([`Container::init`]`(false)`, or no PID namespace), or whose program
//!   may hold `CAP_SYS_PTRACE`, hands the clone to an idle spawner thread, started when all
//!   are busy (the pool grows to the largest number of such concurrent spawns and stays).
//!   The sandbox's parent-death signal then follows a thread that lives as long as the
//!   process. Any other spawn clones from the calling thread and starts no thread: from the
//!   main thread, or with an init, which then has no parent-death signal and watches a
//!   pidfd of the host process instead: the sandbox ends with the whole process, not with
//!   the spawning thread.
//! - **`hakoniwa-exit-hook`**: one per process, started by the first spawn with
//!   [`Container::peak_memory`] that has no init (the init reports the program's rusage
//!   itself); it answers the sandboxes' `exit_group` notifications.
//! - **`hakoniwa-pasta`**: one per process, started by the first spawn with pasta
//!   networking ([`Network`]); pasta is its child, so pasta's parent-death signal follows
//!   the process rather than the spawning thread. While it starts a pasta (about a
//!   millisecond of `fork` and `execve`), no sandbox child is cloned: one cloned then would
//!   hold that start's status pipe until its own `execve`.
//!
//! A C host that calls `pthread_exit` in its main thread while other threads go on kills the
//! sandboxes that thread spawned (their parent-death signal fires).
//!
//! # `fork`
//! The engine's process-wide state (the threads above and their queues, the exit hook's
//! epoll, the init's memfd, the compiled seccomp programs, the procfs facts) belongs to the
//! process that made it: after `fork()`
//! the forked process never touches the parent's copy (whose threads do not exist there),
//! not even its locks, and builds its own on first use. A forked host can spawn, supervise
//! and wait as the parent does (Python's `multiprocessing` with the fork start method, Go
//! and C hosts that fork workers). A [`Child`] belongs to the process that spawned it: in a
//! forked process its copy still refers to the parent's sandbox, which is not that
//! process's child, so waiting for it there is refused (it would take the spawner's reports
//! and output); dropping it there only closes that
//! process's copies of its descriptors and leaves the sandbox to its spawner (a Python
//! worker collecting an inherited object must not end the parent's sandbox);
//! [`Child::kill`] there still kills it.
//!
//! # Signals
//! The engine installs no signal handlers and changes no disposition of the host. It
//! touches signals only here:
//! - the cloning thread blocks all signals for the duration of the clone and restores its
//!   mask (spawner threads keep all signals blocked), so no handler of the host runs in the
//!   child on the shared address space; the child resets every disposition and its mask
//!   before `execve`;
//! - the child gets `PR_SET_PDEATHSIG(SIGKILL)`, and so does pasta; an init cloned by a
//!   thread other than the main thread has none and watches a pidfd of the host process
//!   instead (see `hakoniwa-spawner` above);
//! - [`Child::kill`] sends SIGKILL to the sandbox's PID 1 through its pidfd. With the init,
//!   [`Child::signal`] (and [`Signaller::signal`]) writes every other signal to a pipe the
//!   init watches and the program has no end of, and the init forwards them in the order
//!   they were sent (SIGSTOP, which sent to PID 1 would stop the init, stops the program);
//!   signals others send to the init with `kill` are forwarded too; a failed setup
//!   and a dropped, unwaited [`Child`] send SIGKILL; an expired wall-clock limit sends
//!   SIGKILL;
//! - under job control (the caller's terminal on stdin), when the program stops on a
//!   terminal stop signal the supervisor stops itself the same way (`tgkill` with the same
//!   signal, so the caller's shell regains the terminal; a relay that knows the stop was
//!   typed stops its whole job with [`stop_job`]), with a one-shot timer sending
//!   SIGCONT to the process at the wall-clock deadline; SIGTTOU is blocked in the calling
//!   thread around `tcsetpgrp`, and the program is sent SIGCONT when the supervisor is
//!   continued (through the init, asked through the same pipe to hand the terminal back
//!   first), and a `SIGCONT` sent with [`Child::signal`] hands the terminal back the same way
//!   when the supervisor's group is in the foreground (a shell's `fg` after `bg`); with
//!   [`Command::controlling_terminal`] the caller's hook
//!   ([`Child::on_terminal_stop`]) decides instead, and the engine stops nothing itself.
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

mod cached_fd;
pub mod caps;
mod child;
mod child_stack;
mod command;
mod container;
mod enforcement;
mod error;
mod exit_hook;
mod exit_status;
mod host_root;
mod host_watch;
mod idmap;
mod init;
mod jobctl;
pub mod landlock;
pub mod layout;
mod mount;
mod mount_plan;
mod namespace;
pub mod network;
mod plan;
pub mod probe;
mod process_local;
mod process_spec;
mod rlimit;
mod runctl;
pub mod seccomp;
mod signaller;
mod spawn;
pub mod status_json;
mod stdio;
mod sys;
mod top_level_cache;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout, Output};
pub use command::Command;
pub use container::Container;
pub use enforcement::{Enforced, Enforcement, LandlockReport, SeccompReport, SetupTimings};
pub use error::{Error, ErrorKind, Result, Stage};
pub use exit_status::{ExitReason, ExitStatus, Usage};
pub use idmap::IdMap;
pub use jobctl::stop_job;
pub use layout::{HOST_ROOT_DIRS, PROC_MASKED, PROC_READONLY};
pub use mount::{BindAccess, Mount};
pub use namespace::Namespace;
pub use network::{Network, Pasta};
pub use plan::DEFAULT_PATH;
pub use rlimit::{Rlimit, RLIM_INFINITY};
pub use runctl::Runctl;
pub use signaller::Signaller;
pub use stdio::Stdio;
