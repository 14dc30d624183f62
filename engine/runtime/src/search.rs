//! `execvp`-like program lookup without allocation: try `dir/name` for each directory of a
//! colon-separated search path, in a caller-provided buffer.
//!
//! Pure `core` code with no system calls of its own (the caller passes the exec function),
//! so that the runtime and the sandbox's init (`engine/init`, a separate executable that
//! includes this file) look programs up identically.

use core::ffi::CStr;

/// Longest candidate path (Linux `PATH_MAX`, NUL included).
pub const SEARCH_MAX: usize = 4096;

const ENOENT: i32 = 2;
const ENOTDIR: i32 = 20;
const EACCES: i32 = 13;

/// Run `exec` on `program` (when it contains a slash or `search_path` is empty) or on each
/// `dir/program`; returns the errno of the most relevant failure, like `execvp`: a
/// permission problem is remembered while the search goes on, "not found" is the default.
/// `exec` returns only on failure, with a positive errno.
pub fn exec_search(
    program: &CStr,
    search_path: &[u8],
    buf: &mut [u8; SEARCH_MAX],
    mut exec: impl FnMut(&CStr) -> i32,
) -> i32 {
    let prog = program.to_bytes();
    if prog.contains(&b'/') || search_path.is_empty() {
        return exec(program);
    }
    let mut best = ENOENT;
    for dir in search_path.split(|&b| b == b':') {
        let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
        let slash = usize::from(!dir.ends_with(b"/"));
        let len = dir.len() + slash + prog.len();
        // Too long for PATH_MAX: skipped, like execvp does.
        let Some(out) = buf.get_mut(..=len) else {
            continue;
        };
        let (d, rest) = out.split_at_mut(dir.len());
        let (sep, rest) = rest.split_at_mut(slash);
        let (p, nul) = rest.split_at_mut(prog.len());
        d.copy_from_slice(dir);
        sep.fill(b'/');
        p.copy_from_slice(prog);
        nul.fill(0);
        let Ok(candidate) = CStr::from_bytes_until_nul(buf.as_slice()) else {
            continue;
        };
        match exec(candidate) {
            ENOENT | ENOTDIR => {}
            EACCES => best = EACCES,
            other => return other,
        }
    }
    best
}
