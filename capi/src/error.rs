//! Error codes, the calling thread's last error, and the panic guard every entry point
//! runs in.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// Success.
pub const HAKONIWA_OK: c_int = 0;
/// A NULL or freed handle, a NULL string, invalid UTF-8, an embedded NUL byte, an unknown
/// constant, or a malformed JSON container description.
pub const HAKONIWA_ERROR_INVALID_ARGUMENT: c_int = -1;
/// The configuration is invalid (found by spawn).
pub const HAKONIWA_ERROR_CONFIG: c_int = -2;
/// A setup step failed, in the parent or in the child before `execve`: see
/// `hakoniwa_last_error_stage()`, `_path()` and `_errno()`.
pub const HAKONIWA_ERROR_SETUP: c_int = -3;
/// A system call outside the setup failed (pipes, polling, waiting, reading a file).
pub const HAKONIWA_ERROR_IO: c_int = -4;
/// The landlock ruleset is invalid.
pub const HAKONIWA_ERROR_LANDLOCK: c_int = -5;
/// The seccomp profile cannot be loaded or compiled.
pub const HAKONIWA_ERROR_SECCOMP: c_int = -6;
/// The kernel cannot provide what was asked for.
pub const HAKONIWA_ERROR_UNSUPPORTED: c_int = -7;
/// A bug: a panic inside the library was caught.
pub const HAKONIWA_ERROR_PANIC: c_int = -8;
/// The call does not fit the handle's state (e.g. a stream that is not piped, a child
/// whose pipes were already drained).
pub const HAKONIWA_ERROR_STATE: c_int = -9;

/// A failure on its way to the caller.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: c_int,
    pub(crate) message: String,
    pub(crate) stage: Option<&'static str>,
    pub(crate) path: Option<String>,
    pub(crate) errno: i32,
}

impl Failure {
    pub(crate) fn new(code: c_int, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
            stage: None,
            path: None,
            errno: 0,
        }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Failure::new(HAKONIWA_ERROR_INVALID_ARGUMENT, message)
    }

    pub(crate) fn state(message: impl Into<String>) -> Self {
        Failure::new(HAKONIWA_ERROR_STATE, message)
    }

    pub(crate) fn io(what: &str, e: std::io::Error) -> Self {
        let mut f = Failure::new(HAKONIWA_ERROR_IO, format!("{what}: {e}"));
        f.errno = e.raw_os_error().unwrap_or(0);
        f
    }
}

impl From<hakoniwa::Error> for Failure {
    fn from(e: hakoniwa::Error) -> Self {
        Failure {
            // ErrorKind values are stable and match the HAKONIWA_ERROR_* codes.
            code: -(e.kind() as c_int),
            message: e.to_string(),
            stage: e.stage().map(|s| s.name()),
            path: e.target().map(str::to_string),
            errno: e.errno().unwrap_or(0),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

/// What `hakoniwa_last_error_*` return, as C strings.
struct LastError {
    code: c_int,
    message: CString,
    stage: Option<CString>,
    path: Option<CString>,
    errno: i32,
}

fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', "\\0")).unwrap_or_default()
}

thread_local! {
    static LAST: RefCell<Option<LastError>> = const { RefCell::new(None) };
}

fn remember(f: Failure) -> c_int {
    let code = f.code;
    let stored = LastError {
        code,
        message: c_string(&f.message),
        stage: f.stage.map(c_string),
        path: f.path.as_deref().map(c_string),
        errno: f.errno,
    };
    LAST.with(|l| *l.borrow_mut() = Some(stored));
    code
}

/// Run an entry point's body: a failure or a panic becomes the thread's last error, and
/// `on_error(code)` is what the function returns then.
pub(crate) fn guard<T>(on_error: impl FnOnce(c_int) -> T, body: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(v)) => v,
        Ok(Err(f)) => on_error(remember(f)),
        Err(p) => {
            let what = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            on_error(remember(Failure::new(
                HAKONIWA_ERROR_PANIC,
                format!("internal error (panic): {what}"),
            )))
        }
    }
}

/// [`guard`] for functions returning an `int` code.
pub(crate) fn guard_code(body: impl FnOnce() -> Result<()>) -> c_int {
    guard(|code| code, || body().map(|()| HAKONIWA_OK))
}

fn last<T>(f: impl FnOnce(&LastError) -> T, none: T) -> T {
    LAST.with(|l| l.borrow().as_ref().map_or(none, f))
}

/// The code of the calling thread's last error (`HAKONIWA_OK` if none).
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_code() -> c_int {
    guard(|c| c, || Ok(last(|e| e.code, HAKONIWA_OK)))
}

/// The message of the calling thread's last error, or NULL if there is none. The string
/// belongs to the library and stays valid until the next failing call on this thread or
/// `hakoniwa_last_error_clear()`.
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_message() -> *const c_char {
    guard(
        |_| ptr::null(),
        || Ok(last(|e| e.message.as_ptr(), ptr::null())),
    )
}

/// The setup stage of the last error (`"mount"`, `"exec"`, `"config"`, ...), or NULL when
/// it has none. Valid as long as the message is.
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_stage() -> *const c_char {
    guard(
        |_| ptr::null(),
        || {
            Ok(last(
                |e| e.stage.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                ptr::null(),
            ))
        },
    )
}

/// The path, limit or rule the last error concerns, or NULL. Valid as long as the message
/// is.
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_path() -> *const c_char {
    guard(
        |_| ptr::null(),
        || {
            Ok(last(
                |e| e.path.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
                ptr::null(),
            ))
        },
    )
}

/// The errno of the last error (positive), or 0 when it has none.
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_errno() -> c_int {
    guard(|_| 0, || Ok(last(|e| e.errno, 0)))
}

/// Forget the calling thread's last error (strings returned for it become invalid).
///
/// Thread-safe: each thread has its own last error.
#[no_mangle]
pub extern "C" fn hakoniwa_last_error_clear() {
    guard(
        |_| (),
        || {
            LAST.with(|l| *l.borrow_mut() = None);
            Ok(())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_are_the_negated_engine_kinds() {
        use hakoniwa::ErrorKind as K;
        for (kind, code) in [
            (K::Config, HAKONIWA_ERROR_CONFIG),
            (K::Setup, HAKONIWA_ERROR_SETUP),
            (K::Io, HAKONIWA_ERROR_IO),
            (K::Landlock, HAKONIWA_ERROR_LANDLOCK),
            (K::Seccomp, HAKONIWA_ERROR_SECCOMP),
            (K::Unsupported, HAKONIWA_ERROR_UNSUPPORTED),
        ] {
            assert_eq!(-(kind as c_int), code, "{kind:?}");
        }
    }

    #[test]
    fn a_panic_becomes_an_error_code_with_its_message() {
        let code = guard_code(|| panic!("boom"));
        assert_eq!(code, HAKONIWA_ERROR_PANIC);
        assert_eq!(hakoniwa_last_error_code(), HAKONIWA_ERROR_PANIC);
        // SAFETY: the pointer is the thread's last error message, just set.
        let msg = unsafe { std::ffi::CStr::from_ptr(hakoniwa_last_error_message()) };
        assert!(msg.to_str().unwrap().contains("boom"));
    }
}
