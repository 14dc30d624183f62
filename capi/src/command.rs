//! `hakoniwa_command_t`: a program to run in a container. Mirrors `hakoniwa::Command`;
//! reusable: it can be spawned any number of times with the same settings.
//!
//! Threads: a command may be used by one thread at a time.

use std::ffi::{c_char, c_int};
use std::os::fd::{BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::Duration;

use hakoniwa::{Command, Stdio};

use crate::args::{bytes, out};
use crate::child::hakoniwa_child_t;
use crate::consts::*;
use crate::container::hakoniwa_container_t;
use crate::error::{guard, guard_code, Failure, Result};
use crate::handles::{free_handle, handle_mut, handle_ref, new_handle, Handle};
use crate::status::hakoniwa_status_t;

/// A program, its arguments, environment, working directory, streams and wall-clock
/// limit, bound to a copy of a container (opaque). Free with `hakoniwa_command_free`.
pub struct hakoniwa_command_t {
    pub(crate) inner: Command,
}

impl Handle for hakoniwa_command_t {
    const NAME: &'static str = "hakoniwa_command_t";
}

fn with(cmd: *mut hakoniwa_command_t, f: impl FnOnce(&mut Command) -> Result<()>) -> c_int {
    guard_code(|| {
        // SAFETY: a command is used by one thread at a time (documented).
        let cmd = unsafe { handle_mut(cmd) }?;
        f(&mut cmd.inner)
    })
}

/// A duplicate of the caller's descriptor `fd` (the caller keeps and closes its own).
pub(crate) fn dup_fd(fd: c_int, what: &str) -> Result<OwnedFd> {
    if fd < 0 {
        return Err(Failure::invalid(format!("{what}: invalid descriptor {fd}")));
    }
    // SAFETY: borrowed only for the duration of the dup; fcntl(F_DUPFD_CLOEXEC) on a
    // descriptor that is not open fails with EBADF, which is reported.
    let b = unsafe { BorrowedFd::borrow_raw(fd) };
    b.try_clone_to_owned()
        .map_err(|e| Failure::io(&format!("{what}: duplicating descriptor {fd}"), e))
}

/// A command running `program` (a path, or a name looked up in the sandbox's `PATH`; not
/// empty) in a copy of `container`. On success `*result` is the new command.
///
/// Thread-safe: any number of threads may make commands from one container at once, as
/// long as no thread changes the container meanwhile.
#[no_mangle]
pub extern "C" fn hakoniwa_command_new(
    container: *const hakoniwa_container_t,
    program: *const c_char,
    result: *mut *mut hakoniwa_command_t,
) -> c_int {
    guard_code(|| {
        let result = out(result, "result")?;
        // SAFETY: reading only; the documented rule: nobody changes the container now.
        let c = unsafe { handle_ref(container) }?;
        let program = bytes(program, "program")?;
        if program.is_empty() {
            return Err(Failure::invalid("program must not be empty"));
        }
        *result = new_handle(hakoniwa_command_t {
            inner: c.inner.command(program),
        });
        Ok(())
    })
}

/// Free a command. NULL is ignored. Children it spawned are not affected.
#[no_mangle]
pub extern "C" fn hakoniwa_command_free(cmd: *mut hakoniwa_command_t) {
    // SAFETY: the caller's contract: nothing else uses `cmd` now.
    guard(|_| (), || unsafe { free_handle(cmd) })
}

/// Append an argument (any bytes but NUL).
#[no_mangle]
pub extern "C" fn hakoniwa_command_arg(cmd: *mut hakoniwa_command_t, arg: *const c_char) -> c_int {
    with(cmd, |c| {
        c.arg(bytes(arg, "arg")?);
        Ok(())
    })
}

/// Set an environment variable (the environment starts empty).
#[no_mangle]
pub extern "C" fn hakoniwa_command_env(
    cmd: *mut hakoniwa_command_t,
    key: *const c_char,
    value: *const c_char,
) -> c_int {
    with(cmd, |c| {
        let key = bytes(key, "key")?;
        if key.is_empty() || key.as_encoded_bytes().contains(&b'=') {
            return Err(Failure::invalid("key is empty or contains '='"));
        }
        c.env(key, bytes(value, "value")?);
        Ok(())
    })
}

/// Remove an environment variable set earlier.
#[no_mangle]
pub extern "C" fn hakoniwa_command_env_remove(
    cmd: *mut hakoniwa_command_t,
    key: *const c_char,
) -> c_int {
    with(cmd, |c| {
        c.env_remove(bytes(key, "key")?);
        Ok(())
    })
}

/// Remove every environment variable set earlier.
#[no_mangle]
pub extern "C" fn hakoniwa_command_env_clear(cmd: *mut hakoniwa_command_t) -> c_int {
    with(cmd, |c| {
        c.env_clear();
        Ok(())
    })
}

/// Working directory inside the sandbox.
#[no_mangle]
pub extern "C" fn hakoniwa_command_current_dir(
    cmd: *mut hakoniwa_command_t,
    dir: *const c_char,
) -> c_int {
    with(cmd, |c| {
        c.current_dir(bytes(dir, "dir")?);
        Ok(())
    })
}

/// Connect a standard stream (`HAKONIWA_STDIN/STDOUT/STDERR`) as `mode`
/// (`HAKONIWA_STDIO_INHERIT/NULL/PIPE/FD`); `fd` is used with `HAKONIWA_STDIO_FD` only and
/// is duplicated (the caller keeps its own). Defaults: inherit for spawn and status; for
/// output, stdin null and the others piped.
#[no_mangle]
pub extern "C" fn hakoniwa_command_stdio(
    cmd: *mut hakoniwa_command_t,
    stream: u32,
    mode: u32,
    fd: c_int,
) -> c_int {
    with(cmd, |c| {
        let s = match mode {
            HAKONIWA_STDIO_INHERIT => Stdio::inherit(),
            HAKONIWA_STDIO_NULL => Stdio::null(),
            HAKONIWA_STDIO_PIPE => Stdio::piped(),
            HAKONIWA_STDIO_FD => Stdio::from_fd(dup_fd(fd, "fd")?),
            _ => return Err(Failure::invalid(format!("unknown stdio mode {mode}"))),
        };
        match stream {
            HAKONIWA_STDIN => c.stdin(s),
            HAKONIWA_STDOUT => c.stdout(s),
            HAKONIWA_STDERR => c.stderr(s),
            _ => return Err(Failure::invalid(format!("unknown stream {stream}"))),
        };
        Ok(())
    })
}

/// Pass the caller's descriptor `fd` to the program as descriptor `target` (>= 3). `fd` is
/// duplicated now; the caller keeps its own.
#[no_mangle]
pub extern "C" fn hakoniwa_command_preserve_fd(
    cmd: *mut hakoniwa_command_t,
    fd: c_int,
    target: c_int,
) -> c_int {
    with(cmd, |c| {
        if target < 3 {
            return Err(Failure::invalid(format!(
                "target descriptor {target} must be 3 or higher (0, 1 and 2 are set with \
                 hakoniwa_command_stdio)"
            )));
        }
        c.preserve_fd(dup_fd(fd, "fd")?, target);
        Ok(())
    })
}

/// Wall-clock limit in milliseconds (> 0): when it expires the whole sandbox is killed and
/// the status reason is `HAKONIWA_EXIT_WALL_TIME_EXCEEDED`. Enforced while the caller
/// waits (`hakoniwa_child_wait*`, `hakoniwa_command_status`/`_output`).
#[no_mangle]
pub extern "C" fn hakoniwa_command_wait_timeout(cmd: *mut hakoniwa_command_t, ms: u64) -> c_int {
    with(cmd, |c| {
        if ms == 0 {
            return Err(Failure::invalid("wait timeout must be > 0 ms"));
        }
        c.wait_timeout(Duration::from_millis(ms));
        Ok(())
    })
}

/// Give the sandbox a terminal of its own (`on` != 0): it runs in a session of its own whose
/// controlling terminal is the first of the program's stdin, stdout, stderr that is a
/// terminal (typically the slave of a pseudo-terminal the caller opened and relays; set
/// the streams with `hakoniwa_command_stdio(..., HAKONIWA_STDIO_FD, slave)`). Ctrl-C and
/// Ctrl-Z typed there reach the program, and nothing in the sandbox can reach the caller's
/// own terminal. A program stopped by a terminal stop signal stays stopped until
/// `hakoniwa_child_signal(child, SIGCONT)`. When none of the streams is a terminal the
/// spawn fails with `HAKONIWA_ERROR_CONFIG`.
#[no_mangle]
pub extern "C" fn hakoniwa_command_controlling_terminal(
    cmd: *mut hakoniwa_command_t,
    on: c_int,
) -> c_int {
    with(cmd, |c| {
        c.controlling_terminal(on != 0);
        Ok(())
    })
}

/// Check the command and its container as `hakoniwa_command_spawn` would, and build the
/// complete plan, without running anything: 0, or the same error code and last error
/// (stage `config`) a spawn would give for the configuration. Errors only the kernel can
/// report (a mount that fails, a missing program) still come from the spawn alone.
#[no_mangle]
pub extern "C" fn hakoniwa_command_prepare(cmd: *mut hakoniwa_command_t) -> c_int {
    with(cmd, |c| {
        c.prepare()?;
        Ok(())
    })
}

/// Start the program. On success `*result` is the running child (free it with
/// `hakoniwa_child_free`, which kills it if it still runs). A setup failure returns
/// `HAKONIWA_ERROR_SETUP` with the stage, path and errno in the last error.
#[no_mangle]
pub extern "C" fn hakoniwa_command_spawn(
    cmd: *mut hakoniwa_command_t,
    result: *mut *mut hakoniwa_child_t,
) -> c_int {
    with(cmd, |c| {
        let result = out(result, "result")?;
        let child = c.spawn()?;
        *result = new_handle(hakoniwa_child_t::new(child)?);
        Ok(())
    })
}

/// Run to completion (inherited streams unless set) and return the status in `*result`
/// (free it with `hakoniwa_status_free`).
#[no_mangle]
pub extern "C" fn hakoniwa_command_status(
    cmd: *mut hakoniwa_command_t,
    result: *mut *mut hakoniwa_status_t,
) -> c_int {
    with(cmd, |c| {
        let result = out(result, "result")?;
        let mut child = c.spawn()?;
        let status = child.wait()?;
        *result = new_handle(hakoniwa_status_t::new(
            status,
            Arc::new(child.enforcement().clone()),
        ));
        Ok(())
    })
}

/// Run to completion capturing stdout and stderr (stdin is /dev/null unless set). On
/// success `*result` is the status and `*out`/`*out_len`, `*err`/`*err_len` the captured
/// bytes (NULL when empty; free each with `hakoniwa_buffer_free`). `out` or `err` may be
/// NULL to discard that stream.
#[no_mangle]
pub extern "C" fn hakoniwa_command_output(
    cmd: *mut hakoniwa_command_t,
    result: *mut *mut hakoniwa_status_t,
    out_data: *mut *mut u8,
    out_len: *mut usize,
    err_data: *mut *mut u8,
    err_len: *mut usize,
) -> c_int {
    with(cmd, |c| {
        let result = out(result, "result")?;
        let captured = crate::child::Captured::check(out_data, out_len, err_data, err_len)?;
        let child = c.spawn_for_output()?;
        let enforcement = Arc::new(child.enforcement().clone());
        let o = child.wait_with_output()?;
        *result = new_handle(hakoniwa_status_t::new(o.status, enforcement));
        captured.give(o.stdout, o.stderr);
        Ok(())
    })
}
