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
//! # Peak memory
//! `ExitStatus::usage().max_rss_kb` is the program's own peak (`VmHWM` read at its
//! `exit_group` through a seccomp user notification, or before the engine kills it), not
//! the kernel's `ru_maxrss`, which includes the host's peak because the child shared the
//! host's address space until `execve`. See `exit_hook.rs` and the README.
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
pub mod landlock;
mod namespace;
pub mod network;
mod plan;
mod rlimit;
pub mod seccomp;
mod spawn;
mod stdio;
mod sys;

pub use child::{Child, ChildStderr, ChildStdin, ChildStdout, Output};
pub use command::Command;
pub use container::{Container, IdMap, Runctl};
pub use enforcement::{Enforcement, LandlockReport, SeccompReport, SetupTimings};
pub use error::{Error, Result, Stage};
pub use exit_status::{Enforced, ExitReason, ExitStatus, Usage};
pub use namespace::Namespace;
pub use network::{Network, Pasta};
pub use plan::{DEFAULT_PATH, HOST_ROOT_DIRS};
pub use rlimit::{Rlimit, RLIM_INFINITY};
pub use stdio::Stdio;
