//! The C ABI of hakoniwa: `libhakoniwa.so.0` / `libhakoniwa.a` and `include/hakoniwa.h`
//! (generated from this crate by cbindgen; see `capi/cbindgen.toml`).
//!
//! # Conventions (repeated in the header's preamble)
//! - Opaque handles (`hakoniwa_container_t`, `hakoniwa_command_t`, `hakoniwa_child_t`,
//!   `hakoniwa_status_t`) are created by a `_new`-style call and released with their
//!   `_free`, which accepts NULL.
//! - Functions returning `int` return 0 (`HAKONIWA_OK`) or a negative `HAKONIWA_ERROR_*`
//!   code; the calling thread's last error then holds the message, stage, path and errno
//!   (`hakoniwa_last_error_*`). Success does not clear it.
//! - NULL handles and strings, handles that were freed, invalid UTF-8 where text is needed
//!   and embedded NUL bytes are errors (`HAKONIWA_ERROR_INVALID_ARGUMENT`), never crashes.
//!   Handles are checked against a registry of live handles, so a freed handle (or a
//!   handle of another type) is refused; a freed handle whose address was reused by a new
//!   handle of the same type cannot be told apart: do not use a handle after `_free`.
//! - No panic crosses the boundary: each entry point catches it and returns
//!   `HAKONIWA_ERROR_PANIC`.
//! - Memory returned to the caller comes with its length and is released with
//!   `hakoniwa_string_free` or `hakoniwa_buffer_free`.
//! - Threads: every function may be called from any thread. A handle may be used by one
//!   thread at a time, except: a container, which any number of threads may read at once
//!   (`hakoniwa_command_new`, `hakoniwa_container_clone`) once no thread changes it; a
//!   child, whose functions other than `_free` may run while another thread waits for it
//!   (to kill it, say); and a status, which is immutable.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs)]
#![allow(non_camel_case_types)]
// The entry points are called from C, where `unsafe` means nothing; instead of marking
// them `unsafe fn`, every pointer is checked (handles against the registry of live
// handles, strings and out-pointers for NULL) and the remaining contract (a non-NULL
// pointer points to what its type says) is documented in the header.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

mod args;
mod child;
mod command;
mod consts;
mod container;
mod error;
mod handles;
mod json_config;
mod memory;
mod status;
mod version;

pub use child::*;
pub use command::*;
pub use consts::*;
pub use container::*;
pub use error::*;
pub use memory::*;
pub use status::*;
pub use version::*;
