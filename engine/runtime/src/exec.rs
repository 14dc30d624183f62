//! `execve` of the program, with a `PATH` search (done inside the sandbox) for names
//! without a slash, like `execvp` but without allocation.

use crate::path::PathBuf;
use crate::plan::Plan;
use crate::sys;

/// Try to execute the program; returns the errno of the most relevant failure.
pub fn exec(plan: &Plan<'_>, buf: &mut PathBuf) -> i32 {
    let prog = plan.program.to_bytes();
    if prog.contains(&b'/') || plan.search_path.is_empty() {
        // SAFETY: the parent built argv/envp as NULL-terminated arrays of C strings that live
        // until this process has exec'd or exited.
        return unsafe { sys::execve(plan.program, plan.argv, plan.envp) };
    }
    let mut best = sys::ENOENT;
    for dir in plan.search_path.split(|&b| b == b':') {
        let dir = if dir.is_empty() { b"." as &[u8] } else { dir };
        if buf.set(dir).and_then(|()| buf.push(prog)).is_err() {
            continue;
        }
        // SAFETY: as above.
        let e = unsafe { sys::execve(buf.as_cstr(), plan.argv, plan.envp) };
        match e {
            sys::ENOENT | sys::ENOTDIR => {}
            // Like execvp: remember a permission problem but keep looking.
            sys::EACCES => best = sys::EACCES,
            other => return other,
        }
    }
    best
}
