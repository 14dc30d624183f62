//! Paths inside the new root, resolved without ever leaving it.
//!
//! Every lookup goes through `openat2(root, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)`:
//! a symlink such as `etc -> /` in a writable `rootdir` resolves to the root itself instead
//! of the host's `/`, and `/proc/self/...` magic links are refused. Paths are built in a
//! fixed buffer on the child's stack; nothing allocates.

use core::ffi::CStr;

use crate::plan::RawFd;
use crate::sys::{self, SysResult};

/// Longest path the child handles (Linux `PATH_MAX`).
pub const PATH_MAX: usize = 4096;

const RESOLVE: u64 = sys::RESOLVE_IN_ROOT | sys::RESOLVE_NO_MAGICLINKS;

/// A NUL-terminated path in a fixed buffer.
pub struct PathBuf {
    buf: [u8; PATH_MAX],
    len: usize,
}

impl Default for PathBuf {
    fn default() -> Self {
        Self::new()
    }
}

impl PathBuf {
    /// An empty path.
    pub const fn new() -> Self {
        PathBuf {
            buf: [0; PATH_MAX],
            len: 0,
        }
    }

    /// Replace the contents with `s` (without its NUL).
    pub fn set(&mut self, s: &[u8]) -> SysResult<()> {
        self.len = 0;
        self.append(s)
    }

    /// Append raw bytes.
    pub fn append(&mut self, s: &[u8]) -> SysResult<()> {
        let end = self.len + s.len();
        if end >= PATH_MAX {
            return Err(sys::ENAMETOOLONG);
        }
        self.buf
            .get_mut(self.len..end)
            .ok_or(sys::ENAMETOOLONG)?
            .copy_from_slice(s);
        self.len = end;
        if let Some(b) = self.buf.get_mut(end) {
            *b = 0;
        }
        Ok(())
    }

    /// Append `/` (unless empty or already ending in one) and a component.
    pub fn push(&mut self, comp: &[u8]) -> SysResult<()> {
        if self.len > 0 && self.buf.get(self.len - 1) != Some(&b'/') {
            self.append(b"/")?;
        }
        self.append(comp)
    }

    /// Current length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the path is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Cut back to `len` bytes.
    pub fn truncate(&mut self, len: usize) {
        if len < self.len {
            self.len = len;
            if let Some(b) = self.buf.get_mut(len) {
                *b = 0;
            }
        }
    }

    /// The path as a C string.
    pub fn as_cstr(&self) -> &CStr {
        let bytes = self.buf.get(..=self.len).unwrap_or(b"\0");
        CStr::from_bytes_with_nul(bytes).unwrap_or(c"")
    }
}

/// Strip leading slashes: in-root paths are relative to the root fd.
pub fn relative(path: &[u8]) -> &[u8] {
    let mut p = path;
    while let [b'/', rest @ ..] = p {
        p = rest;
    }
    p
}

/// The same string without its leading slashes, still NUL-terminated.
pub fn relative_cstr(path: &CStr) -> &CStr {
    let all = path.to_bytes_with_nul();
    let skip = all.iter().take_while(|&&b| b == b'/').count();
    all.get(skip..)
        .and_then(|b| CStr::from_bytes_with_nul(b).ok())
        .unwrap_or(c"")
}

/// Open `rel` (relative to `root`) without leaving `root`.
pub fn open_in(root: RawFd, rel: &CStr, flags: u64, mode: u64) -> SysResult<RawFd> {
    let rel = if rel.is_empty() { c"." } else { rel };
    sys::openat2(root, rel, flags | sys::O_CLOEXEC, mode, RESOLVE)
}

/// Split the last component off `path` (no trailing slash expected).
pub fn split_last(path: &[u8]) -> (&[u8], &[u8]) {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (
            path.get(..i).unwrap_or(&[]),
            path.get(i + 1..).unwrap_or(&[]),
        ),
        None => (&[], path),
    }
}

/// Make sure the directory `path` exists inside `root` (like `mkdir -p`) and return an
/// `O_PATH` fd to it. With `create` false nothing is created: a missing component is
/// `ENOENT`.
pub fn ensure_dir(root: RawFd, path: &[u8], buf: &mut PathBuf, create: bool) -> SysResult<RawFd> {
    let rel = relative(path);
    // Usually the whole directory exists: one lookup instead of one per component (the walk
    // below resolves the same prefixes the same way, so only a failure needs it).
    buf.set(rel)?;
    match open_in(root, buf.as_cstr(), sys::O_PATH | sys::O_DIRECTORY, 0) {
        Ok(fd) => return Ok(fd),
        Err(e) if !create => return Err(e),
        Err(_) => {}
    }
    buf.set(b"")?;
    let mut dir = open_in(root, c".", sys::O_PATH | sys::O_DIRECTORY, 0)?;
    for comp in rel
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
    {
        buf.push(comp)?;
        let next = match open_in(root, buf.as_cstr(), sys::O_PATH | sys::O_DIRECTORY, 0) {
            Ok(fd) => fd,
            Err(sys::ENOENT) if create => {
                let mut name = PathBuf::new();
                name.set(comp)?;
                match sys::mkdirat(dir, name.as_cstr(), 0o755) {
                    Ok(()) | Err(sys::EEXIST) => {}
                    Err(e) => {
                        sys::close(dir);
                        return Err(e);
                    }
                }
                match open_in(root, buf.as_cstr(), sys::O_PATH | sys::O_DIRECTORY, 0) {
                    Ok(fd) => fd,
                    Err(e) => {
                        sys::close(dir);
                        return Err(e);
                    }
                }
            }
            Err(e) => {
                sys::close(dir);
                return Err(e);
            }
        };
        sys::close(dir);
        dir = next;
    }
    Ok(dir)
}

/// Make sure a non-directory exists at `path` inside `root` (an empty file is created when
/// missing, with its parent directories, unless `create` is false) and return an `O_PATH`
/// fd to it.
pub fn ensure_file(root: RawFd, path: &[u8], buf: &mut PathBuf, create: bool) -> SysResult<RawFd> {
    let rel = relative(path);
    let (parent, name) = split_last(rel);
    let dir = ensure_dir(root, parent, buf, create)?;
    let result = (|| {
        buf.set(rel)?;
        match open_in(root, buf.as_cstr(), sys::O_PATH, 0) {
            Err(sys::ENOENT) if create => {
                buf.set(name)?;
                sys::openat(
                    dir,
                    buf.as_cstr(),
                    sys::O_CREAT | sys::O_EXCL | sys::O_WRONLY | sys::O_NOFOLLOW | sys::O_CLOEXEC,
                    0o644,
                )
            }
            other => other,
        }
    })();
    sys::close(dir);
    result
}
