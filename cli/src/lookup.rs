//! The sandbox's file tree as seen from the host, for messages only.
//!
//! The engine looks a program name up on the command's `PATH` *inside* the sandbox (the
//! runtime's `execvp`-like search after `pivot_root`). When that fails, or when the CLI wants
//! to name the program that died, it needs to know what the sandbox saw: [`SandboxView`]
//! maps a path inside the sandbox to the host path behind it (the `rootdir`, the `rootfs`
//! entries, the binds), follows symbolic links the way the sandbox would (relative to its own
//! root), and so explains an `ENOENT` from `execve`: the program itself missing, or its `#!`
//! interpreter, or its ELF dynamic loader (`PT_INTERP`).
//!
//! The view never decides what runs; it only reads host files to explain a failure.

use std::ffi::OsString;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// What a path inside the sandbox is backed by.
#[derive(Debug, Clone)]
enum Backing {
    /// A host path (a bind, a rootfs entry, the rootdir).
    Host(PathBuf),
    /// A fresh file system with nothing of the host in it (tmpfs, devfs, the tmpfs root).
    Empty,
}

/// Mount targets inside the sandbox and what backs them; later entries win on equal targets.
#[derive(Debug, Clone, Default)]
pub struct SandboxView {
    mounts: Vec<(PathBuf, Backing)>,
    symlinks: Vec<(PathBuf, PathBuf)>,
    /// The program's working directory inside the sandbox (relative names start here).
    cwd: PathBuf,
}

/// Why `execve` of a program failed with `ENOENT`, as far as the host can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// No such file (given by path) or no match on `PATH` (given by name).
    Program,
    /// The program (at this sandbox path) exists, its `#!` interpreter does not (control
    /// characters in its name escaped: `/bin/sh\r`).
    Interpreter {
        program: PathBuf,
        interpreter: String,
    },
    /// The program (at this sandbox path) exists, its ELF dynamic loader does not (control
    /// characters in its name escaped).
    Loader { program: PathBuf, loader: String },
    /// The program (at this sandbox path) seems to exist and what it needs too: the host's
    /// view of the sandbox cannot tell what is missing (e.g. the interpreter's own loader).
    Unexplained { program: PathBuf },
}

const MAX_HOPS: usize = 40;

impl SandboxView {
    /// The root: a host directory (`--rootdir`) or an empty tmpfs; a procfs at `/proc`.
    pub fn new(rootdir: Option<&Path>) -> Self {
        let root = match rootdir {
            Some(d) => Backing::Host(d.to_path_buf()),
            None => Backing::Empty,
        };
        SandboxView {
            // Every sandbox gets its own procfs at /proc: a rootdir's /proc is not seen.
            mounts: vec![
                (PathBuf::from("/"), root),
                (PathBuf::from("/proc"), Backing::Empty),
            ],
            symlinks: Vec::new(),
            cwd: PathBuf::from("/"),
        }
    }

    /// The working directory inside the sandbox.
    pub fn set_cwd(&mut self, cwd: &Path) {
        self.cwd = cwd.to_path_buf();
    }

    /// A host path bound at `target`.
    pub fn bind(&mut self, source: &Path, target: &Path) {
        self.mounts
            .push((target.to_path_buf(), Backing::Host(source.to_path_buf())));
    }

    /// A fresh file system (tmpfs, devfs) at `target`.
    pub fn empty(&mut self, target: &Path) {
        self.mounts.push((target.to_path_buf(), Backing::Empty));
    }

    /// A symbolic link created inside the sandbox.
    pub fn symlink(&mut self, original: &Path, link: &Path) {
        self.symlinks
            .push((link.to_path_buf(), original.to_path_buf()));
    }

    /// The host path behind an absolute, normalised sandbox path (no symlink resolution).
    fn backing(&self, path: &Path) -> Option<PathBuf> {
        let (target, backing) = self
            .mounts
            .iter()
            .enumerate()
            .filter(|(_, (t, _))| path.starts_with(t))
            // The deepest target wins; among equal targets the later one.
            .max_by_key(|(i, (t, _))| (t.components().count(), *i))
            .map(|(_, m)| m)?;
        match backing {
            Backing::Host(src) => {
                let rest = path.strip_prefix(target).ok()?;
                Some(if rest.as_os_str().is_empty() {
                    src.clone()
                } else {
                    src.join(rest)
                })
            }
            Backing::Empty => None,
        }
    }

    fn is_parent_of_a_target(&self, dir: &Path) -> bool {
        let under = |t: &PathBuf| t.starts_with(dir) && t != dir;
        self.mounts.iter().any(|(t, _)| under(t)) || self.symlinks.iter().any(|(l, _)| under(l))
    }

    /// Resolve a sandbox path to the host file behind it, following symbolic links as the
    /// sandbox would. `None` when it does not exist in the sandbox (as far as the host can
    /// tell: a tmpfs or devfs is taken as empty). Returns the sandbox path and the host path.
    pub fn resolve(&self, path: &Path) -> Option<(PathBuf, PathBuf)> {
        let mut todo: Vec<OsString> = Vec::new();
        push_components(&mut todo, &self.cwd.join(path));
        let mut cur = PathBuf::from("/");
        let mut hops = 0;
        while let Some(c) = todo.pop() {
            if c == ".." {
                cur.pop();
                continue;
            }
            let next = cur.join(&c);
            let link = match self.symlinks.iter().rev().find(|(l, _)| *l == next) {
                Some((_, orig)) => Some(orig.clone()),
                None => {
                    let Some(host) = self.backing(&next) else {
                        // A directory the engine creates for a deeper mount point or link.
                        if self.is_parent_of_a_target(&next) {
                            cur = next;
                            continue;
                        }
                        return None;
                    };
                    let meta = std::fs::symlink_metadata(&host).ok()?;
                    if meta.file_type().is_symlink() {
                        Some(std::fs::read_link(&host).ok()?)
                    } else {
                        None
                    }
                }
            };
            match link {
                Some(target) => {
                    hops += 1;
                    if hops > MAX_HOPS {
                        return None;
                    }
                    if target.is_absolute() {
                        cur = PathBuf::from("/");
                    }
                    push_components(&mut todo, &target);
                }
                None => cur = next,
            }
        }
        let host = self.backing(&cur)?;
        std::fs::metadata(&host).ok()?;
        Some((cur, host))
    }

    /// Find a program the way the runtime does: a name with a slash as it is, a name
    /// without one in each directory of `search_path`. Returns the sandbox path (as found,
    /// absolute) and host path (all links followed) of the first regular file found.
    pub fn find_program(&self, program: &str, search_path: &str) -> Option<(PathBuf, PathBuf)> {
        let candidates: Vec<PathBuf> = if program.contains('/') {
            vec![PathBuf::from(program)]
        } else {
            search_path
                .split(':')
                .map(|d| if d.is_empty() { "." } else { d })
                .map(|d| Path::new(d).join(program))
                .collect()
        };
        // The path as found (`/usr/bin/python3`), not its final target (`python3.11`).
        candidates.into_iter().find_map(|c| {
            let (_, host) = self.resolve(&c).filter(|(_, h)| h.is_file())?;
            let inside = self.cwd.join(c);
            let inside = inside
                .components()
                .filter(|x| *x != Component::CurDir)
                .collect();
            Some((inside, host))
        })
    }

    /// Explain an `ENOENT` from `execve(program)`.
    pub fn explain_enoent(&self, program: &str, search_path: &str) -> Missing {
        let Some((inside, host)) = self.find_program(program, search_path) else {
            return Missing::Program;
        };
        // Follow the chain the kernel follows: a `#!` interpreter may itself be a script
        // or an ELF file with a loader (binfmt allows a few levels; 4 here, like the kernel's
        // limit of 5 including the program).
        let (mut file, mut host) = (inside.clone(), host);
        for _ in 0..4 {
            match interpreter_of(&host) {
                Some(Interp::Shebang(interp)) => match self.resolve(Path::new(&interp)) {
                    None => {
                        return Missing::Interpreter {
                            program: file,
                            interpreter: crate::printable::printable(&interp),
                        }
                    }
                    Some((_, h)) => {
                        file = PathBuf::from(interp);
                        host = h;
                    }
                },
                Some(Interp::Elf(loader)) if self.resolve(Path::new(&loader)).is_none() => {
                    return Missing::Loader {
                        program: file,
                        loader: crate::printable::printable(&loader),
                    }
                }
                _ => break,
            }
        }
        Missing::Unexplained { program: inside }
    }
}

/// Push the components of `p` onto a stack so that the first component is popped first.
fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    let comps: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect();
    stack.extend(comps.into_iter().rev());
}

/// What `execve` needs besides the file itself.
#[derive(Debug, PartialEq, Eq)]
enum Interp {
    /// The first word of a `#!` line.
    Shebang(String),
    /// The `PT_INTERP` of an ELF file.
    Elf(String),
}

/// Read the `#!` interpreter or the ELF `PT_INTERP` of a host file. Only a regular file is
/// opened: the tree may be the program's own (a rootdir, a bound directory), and the view
/// can differ from what the kernel saw (e.g. a rootdir's `/proc` is procfs inside), so a
/// FIFO or a device node on the `#!` chain must not be opened (a FIFO would block forever).
fn interpreter_of(host: &Path) -> Option<Interp> {
    let mut f = crate::host_file::open_regular(host).ok()?;
    let mut head = [0u8; 256];
    let n = f.read(&mut head).ok()?;
    let head = &head[..n];
    if let Some(rest) = head.strip_prefix(b"#!") {
        return shebang_interpreter(rest).map(Interp::Shebang);
    }
    if head.starts_with(b"\x7fELF") {
        return elf_interp(&mut f).map(Interp::Elf);
    }
    None
}

/// The interpreter of a `#!` line (the bytes after `#!`), split as the kernel splits it
/// (`fs/binfmt_script.c`): the line ends at a newline, blanks are spaces and tabs only, and
/// the name ends at a blank or NUL. So a carriage return (a script with DOS line endings) is
/// part of the name, as it is for `execve`.
fn shebang_interpreter(rest: &[u8]) -> Option<String> {
    let line = rest.split(|&b| b == b'\n').next().unwrap_or(rest);
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let start = line.iter().position(|b| !blank(b))?;
    let name = line[start..]
        .split(|b| blank(b) || *b == 0)
        .next()
        .filter(|n| !n.is_empty())?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// `PT_INTERP` of a little-endian ELF file (32- or 64-bit).
fn elf_interp(f: &mut std::fs::File) -> Option<String> {
    use std::io::{Seek, SeekFrom};
    let mut eh = [0u8; 64];
    f.seek(SeekFrom::Start(0)).ok()?;
    f.read_exact(&mut eh).ok()?;
    if eh[5] != 1 {
        return None; // big-endian: not something this x86_64 host runs
    }
    let u16at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as u64;
    let u32at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as u64;
    let u64at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap());
    let wide = eh[4] == 2;
    let (phoff, phentsize, phnum) = if wide {
        (u64at(&eh, 0x20), u16at(&eh, 0x36), u16at(&eh, 0x38))
    } else {
        (u32at(&eh, 0x1c), u16at(&eh, 0x2a), u16at(&eh, 0x2c))
    };
    if !(32..=64).contains(&phentsize) || phnum > 256 {
        return None;
    }
    let mut ph = vec![0u8; phentsize as usize];
    for i in 0..phnum {
        f.seek(SeekFrom::Start(phoff + i * phentsize)).ok()?;
        f.read_exact(&mut ph).ok()?;
        if u32at(&ph, 0) != 3 {
            continue; // not PT_INTERP
        }
        let (off, size) = if wide {
            (u64at(&ph, 8), u64at(&ph, 32))
        } else {
            (u32at(&ph, 4), u32at(&ph, 16))
        };
        if size == 0 || size > 4096 {
            return None;
        }
        let mut name = vec![0u8; size as usize];
        f.seek(SeekFrom::Start(off)).ok()?;
        f.read_exact(&mut name).ok()?;
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        return Some(String::from_utf8_lossy(&name[..end]).into_owned());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_root_view_follows_the_merged_usr_symlinks() {
        let mut v = SandboxView::new(None);
        for d in hakoniwa::HOST_ROOT_DIRS {
            v.bind(&Path::new("/").join(d), &Path::new("/").join(d));
        }
        let (inside, host) = v.find_program("sh", hakoniwa::DEFAULT_PATH).unwrap();
        assert!(inside.ends_with("sh"), "{inside:?}");
        assert!(host.is_file());
        assert!(
            v.resolve(Path::new("/tmp")).is_none(),
            "/tmp is not in the sandbox"
        );
    }

    #[test]
    fn a_shebang_line_is_split_as_the_kernel_splits_it() {
        let i = |l: &[u8]| shebang_interpreter(l);
        assert_eq!(i(b"/bin/sh\n").as_deref(), Some("/bin/sh"));
        assert_eq!(
            i(b" \t/usr/bin/env python3\n").as_deref(),
            Some("/usr/bin/env")
        );
        assert_eq!(i(b"/bin/sh\r\n").as_deref(), Some("/bin/sh\r"));
        assert_eq!(i(b"/bin/sh\x0c-x\n").as_deref(), Some("/bin/sh\x0c-x"));
        assert_eq!(i(b"/bin/sh").as_deref(), Some("/bin/sh"));
        assert_eq!(i(b" \n/bin/sh"), None);
    }

    #[test]
    fn the_dynamic_loader_of_the_test_binary_is_read_from_its_elf_header() {
        let exe = std::env::current_exe().unwrap();
        match interpreter_of(&exe) {
            Some(Interp::Elf(l)) => assert!(l.contains("ld-linux"), "{l}"),
            other => panic!("{other:?}"),
        }
    }
}
