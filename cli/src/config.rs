//! Profiles: TOML files rendered first as a minijinja template, then parsed strictly
//! (unknown keys are errors) and merged with their `@include`s.

use std::fmt;
use std::path::{Path, PathBuf};

use hakoniwa::Namespace;
use minijinja::{context, Environment, UndefinedBehavior};
use serde::{Deserialize, Deserializer};

use crate::profiles::Origin;

/// A complete profile, after includes are merged.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    #[serde(rename = "@include", default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub namespaces: Vec<NamespaceCfg>,
    #[serde(default)]
    pub mounts: Vec<MountCfg>,
    #[serde(default)]
    pub filesystem: FilesystemCfg,
    #[serde(default)]
    pub envs: Vec<EnvCfg>,
    pub network: Option<NetworkCfg>,
    #[serde(default)]
    pub landlock: LandlockCfg,
    pub rootdir: Option<RootdirCfg>,
    pub rootfs: Option<String>,
    #[serde(default)]
    pub uidmaps: Vec<IdMapCfg>,
    #[serde(default)]
    pub gidmaps: Vec<IdMapCfg>,
    pub hostname: Option<String>,
    #[serde(default)]
    pub limits: Vec<LimitCfg>,
    pub seccomp: Option<SeccompCfg>,
    pub command: Option<CommandCfg>,
    pub user: Option<String>,
    pub userns: Option<UsernsMode>,
    pub allow_new_privs: Option<bool>,
    pub workdir: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamespaceCfg {
    #[serde(rename = "type")]
    pub kind: Namespace,
    #[serde(default)]
    pub share: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum MountType {
    #[default]
    #[serde(rename = "")]
    Bind,
    #[serde(rename = "devfs")]
    Devfs,
    #[serde(rename = "tmpfs")]
    Tmpfs,
}

/// `[[mounts]]`: `source` (may be `""` for devfs and tmpfs), `destination` (defaults to
/// `source`), `type`, `rw`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountCfg {
    #[serde(default)]
    pub source: String,
    pub destination: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: MountType,
    #[serde(default)]
    pub rw: bool,
    /// A bind with device access (`--dev-bind`): read-write, device nodes usable.
    #[serde(default)]
    pub dev: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesystemCfg {
    #[serde(default)]
    pub files: Vec<FileCfg>,
    #[serde(default)]
    pub dirs: Vec<DirCfg>,
    #[serde(default)]
    pub symlinks: Vec<SymlinkCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileCfg {
    pub destination: String,
    #[serde(default)]
    pub contents: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirCfg {
    pub destination: String,
    #[serde(default = "default_dir_mode")]
    pub mode: u32,
}

fn default_dir_mode() -> u32 {
    0o700
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SymlinkCfg {
    pub original: String,
    pub link: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvCfg {
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    None,
    Host,
    Pasta,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkCfg {
    pub mode: NetworkMode,
    #[serde(default)]
    pub options: Vec<String>,
}

/// A landlock resource as spelled on the command line and in profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, serde::Serialize)]
pub enum LandlockResource {
    #[serde(rename = "fs")]
    Fs,
    #[serde(rename = "tcp.bind")]
    TcpBind,
    #[serde(rename = "tcp.connect")]
    TcpConnect,
    /// Landlock's abstract UNIX socket scope (ABI 6): no connecting to an abstract socket
    /// bound outside the sandbox (an X11 server's `@/tmp/.X11-unix/X0`, a D-Bus bus), even on
    /// the host's network.
    #[serde(rename = "unix.abstract")]
    UnixAbstract,
    /// Landlock's signal scope (ABI 6): no signals to processes outside the sandbox.
    #[serde(rename = "signal")]
    Signal,
}

impl LandlockResource {
    /// The name as spelled in profiles and flags.
    pub fn name(self) -> &'static str {
        match self {
            Self::Fs => "fs",
            Self::TcpBind => "tcp.bind",
            Self::TcpConnect => "tcp.connect",
            Self::UnixAbstract => "unix.abstract",
            Self::Signal => "signal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fs" => Some(Self::Fs),
            "tcp.bind" => Some(Self::TcpBind),
            "tcp.connect" => Some(Self::TcpConnect),
            "unix.abstract" => Some(Self::UnixAbstract),
            "signal" => Some(Self::Signal),
            _ => None,
        }
    }
}

/// Landlock file-system access: a set of `r`, `w`, `x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsAccess {
    pub r: bool,
    pub w: bool,
    pub x: bool,
}

impl FsAccess {
    /// Any string of `r`, `w`, `x` and `-`, in any case (`"r-x"`, `"RW-"`, `"rx"`); `"---"`
    /// grants nothing.
    pub fn parse(s: &str) -> Option<Self> {
        let mut a = FsAccess {
            r: false,
            w: false,
            x: false,
        };
        if s.is_empty() {
            return None;
        }
        for c in s.chars() {
            match c.to_ascii_lowercase() {
                'r' => a.r = true,
                'w' => a.w = true,
                'x' => a.x = true,
                '-' => {}
                _ => return None,
            }
        }
        Some(a)
    }

    /// The original's spelling: `"r-x"`.
    pub fn mode_string(&self) -> String {
        [(self.r, 'r'), (self.w, 'w'), (self.x, 'x')]
            .iter()
            .map(|&(on, c)| if on { c } else { '-' })
            .collect()
    }

    /// Whether the access grants nothing (`"---"`).
    pub fn is_empty(&self) -> bool {
        !(self.r || self.w || self.x)
    }
}

impl fmt::Display for FsAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (on, c) in [(self.r, 'r'), (self.w, 'w'), (self.x, 'x')] {
            if on {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for FsAccess {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        FsAccess::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid access {s:?}: expected the characters r, w, x and - (e.g. \"r-x\", \"rw-\", \"rx\")"
            ))
        })
    }
}

/// An entry of `landlock.resources`: the original's table `{ type, unrestrict }`, or just
/// the resource's name (restrict it).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub enum ResourceEntry {
    Name(LandlockResource),
    Table(ResourceTable),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceTable {
    #[serde(rename = "type")]
    pub kind: LandlockResource,
    #[serde(default)]
    pub unrestrict: bool,
}

impl ResourceEntry {
    /// The resource and whether it is restricted (`false`: `unrestrict = true`).
    pub fn get(self) -> (LandlockResource, bool) {
        match self {
            ResourceEntry::Name(r) => (r, true),
            ResourceEntry::Table(t) => (t.kind, !t.unrestrict),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockCfg {
    #[serde(default)]
    pub resources: Vec<ResourceEntry>,
    #[serde(default)]
    pub fs: Vec<LandlockFsCfg>,
    #[serde(default)]
    pub net: Vec<LandlockNetCfg>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockFsCfg {
    pub path: String,
    pub access: FsAccess,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockNetCfg {
    pub port: u16,
    /// `"tcp.bind"` or `"tcp.connect"` (the original's key; `mode` is our older spelling).
    #[serde(alias = "mode")]
    pub access: LandlockResource,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RootdirCfg {
    pub path: String,
    #[serde(default)]
    pub rw: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdMapCfg {
    pub container_id: u32,
    pub host_id: Option<u32>,
    pub count: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LimitType {
    As,
    Core,
    Cpu,
    Fsize,
    Nofile,
    Nproc,
    Walltime,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LimitValue {
    Int(u64),
    Float(f64),
    Str(String),
}

impl fmt::Display for LimitValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitValue::Int(n) => write!(f, "{n}"),
            LimitValue::Float(x) => write!(f, "{x}"),
            LimitValue::Str(s) => write!(f, "{s}"),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitCfg {
    #[serde(rename = "type")]
    pub kind: LimitType,
    pub value: LimitValue,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeccompCfg {
    pub path: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandCfg {
    #[serde(default)]
    pub cmdline: Vec<String>,
    pub cwd: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UsernsMode {
    Auto,
}

impl Profile {
    /// Merge `over` (the including file) into `self` (what was included): lists are
    /// concatenated, scalars of `over` win.
    fn merge(&mut self, over: Profile) {
        self.namespaces.extend(over.namespaces);
        self.mounts.extend(over.mounts);
        self.filesystem.files.extend(over.filesystem.files);
        self.filesystem.dirs.extend(over.filesystem.dirs);
        self.filesystem.symlinks.extend(over.filesystem.symlinks);
        self.envs.extend(over.envs);
        self.landlock.resources.extend(over.landlock.resources);
        self.landlock.fs.extend(over.landlock.fs);
        self.landlock.net.extend(over.landlock.net);
        self.uidmaps.extend(over.uidmaps);
        self.gidmaps.extend(over.gidmaps);
        self.limits.extend(over.limits);
        macro_rules! scalar {
            ($($f:ident),*) => { $( if over.$f.is_some() { self.$f = over.$f; } )* };
        }
        scalar!(
            network,
            rootdir,
            rootfs,
            hostname,
            seccomp,
            command,
            user,
            userns,
            allow_new_privs,
            workdir
        );
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |i| offset - i - 1) + 1;
    (line, col)
}

/// Parse rendered profile text; errors name `file:line:col`.
pub fn parse(file: &Path, text: &str) -> Result<Profile, String> {
    toml::from_str::<Profile>(text).map_err(|e| {
        let msg = e.message().trim_end().to_string();
        match e.span() {
            Some(span) => {
                let (l, c) = line_col(text, span.start);
                format!("{}:{l}:{c}: {msg}", file.display())
            }
            None => format!("{}: {msg}", file.display()),
        }
    })
}

/// Load a profile and everything it includes.
pub fn load(origin: &Origin) -> Result<Profile, String> {
    let mut stack = Vec::new();
    load_inner(origin, &mut stack, false)
}

fn load_inner(origin: &Origin, stack: &mut Vec<Origin>, included: bool) -> Result<Profile, String> {
    if let Some(i) = stack.iter().position(|p| p == origin) {
        let chain: Vec<String> = stack[i..]
            .iter()
            .chain(std::iter::once(origin))
            .map(|p| p.to_string())
            .collect();
        return Err(format!("include cycle: {}", chain.join(" -> ")));
    }
    if included {
        log::debug!("CONFIG: Including {origin}");
    } else {
        log::debug!("CONFIG: {origin}");
    }
    let source = origin.read()?;
    let dir = origin.dir();
    let name = origin.to_string();
    let text = render(Path::new(&name), &dir, &source)?;
    log::trace!("CONFIG: rendered {name}:\n{text}");
    let mut profile = parse(Path::new(&name), &text)?;
    if let Some(s) = &mut profile.seccomp {
        // A relative file is looked for next to the profile, then (as the original did)
        // from the current directory.
        if !matches!(s.path.as_str(), "podman" | "audit" | "unconfined") {
            let next_to = dir.join(&s.path);
            if next_to.exists() || !Path::new(&s.path).exists() {
                s.path = next_to.display().to_string();
            }
        }
    }
    stack.push(origin.clone());
    let mut merged = Profile::default();
    for inc in std::mem::take(&mut profile.include) {
        let sub = origin.include(&inc)?;
        merged.merge(load_inner(&sub, stack, true)?);
    }
    stack.pop();
    merged.merge(profile);
    Ok(merged)
}

/// Render the profile as a minijinja template.
pub fn render(file: &Path, dir: &Path, source: &str) -> Result<String, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    // TOML spells booleans in lowercase (minijinja prints Python's True/False), and a
    // function that returns nothing (`mkdir_p`, `touch`) renders as nothing, not `None`:
    // the original's profiles call them on a line of their own.
    env.set_formatter(|out, state, value| match value.kind() {
        minijinja::value::ValueKind::Bool => out
            .write_str(if value.is_true() { "true" } else { "false" })
            .map_err(Into::into),
        minijinja::value::ValueKind::None => Ok(()),
        _ => minijinja::escape_formatter(out, state, value),
    });
    env.add_function("os_env", |name: String| {
        std::env::var(name).unwrap_or_default()
    });
    env.add_function("path_exists", |p: String| Path::new(&p).exists());
    env.add_function("path_is_dir", |p: String| Path::new(&p).is_dir());
    env.add_function("path_is_symlink", |p: String| Path::new(&p).is_symlink());
    env.add_function("fs_read_link", |p: String| {
        std::fs::read_link(&p)
            .map(|t| t.display().to_string())
            .map_err(|e| tmpl_err(format!("fs_read_link({p}): {e}")))
    });
    env.add_function("fs_glob", |pattern: String| glob_paths("fs_glob", &pattern));
    env.add_function("fs_findup", |name: String| {
        let mut d = std::env::current_dir().ok();
        while let Some(dir) = d {
            let candidate = dir.join(&name);
            if candidate.exists() {
                return candidate.display().to_string();
            }
            d = dir.parent().map(Path::to_path_buf);
        }
        String::new()
    });
    env.add_function("fs_mkdir", |p: String| {
        std::fs::create_dir_all(&p)
            .map(|_| p.clone())
            .map_err(|e| tmpl_err(format!("fs_mkdir({p}): {e}")))
    });
    env.add_function("fs_touch", |p: String| touch("fs_touch", &p).map(|()| p));
    env.add_function("fs_xdg_user_dir", |name: String| xdg_user_dir(&name));
    add_original_functions(&mut env);
    // `{% include "x" %}` and `{% import %}` read files next to the profile, as the
    // original's templates could.
    env.set_loader(minijinja::path_loader(dir));
    let name = file.display().to_string();
    let undefined = |env: &Environment<'_>| -> Vec<String> {
        let Ok(t) = env.get_template(&name) else {
            return Vec::new();
        };
        let mut v: Vec<String> = t
            .undeclared_variables(false)
            .into_iter()
            .filter(|n| n != "__dir__" && env.globals().all(|(g, _)| g != n.as_str()))
            .collect();
        v.sort();
        v
    };
    env.add_template_owned(name.clone(), source.to_string())
        .and_then(|_| env.get_template(&name)?.render(context! { __dir__ => dir }))
        .map_err(|e| {
            let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
            let mut detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
            if e.kind() == minijinja::ErrorKind::UndefinedError {
                let names = undefined(&env);
                if !names.is_empty() {
                    detail = format!(": {} is not defined", names.join(", "));
                }
            }
            format!(
                "{}{line}: template error: {}{detail}",
                file.display(),
                e.kind()
            )
        })
}

/// The template functions of the original hakoniwa, under its names (profiles written for
/// it render unchanged): `printenv`, `mkdir_p`, `touch`, `find`, `readlink`,
/// `xdg_user_dir`. `mkdir_p` and `touch` render as nothing.
fn add_original_functions(env: &mut Environment<'_>) {
    env.add_function("printenv", |name: String| {
        std::env::var(name).unwrap_or_default()
    });
    env.add_function("mkdir_p", |p: String| {
        std::fs::create_dir_all(&p).map_err(|e| tmpl_err(format!("mkdir_p({p:?}) => {e}")))
    });
    env.add_function("touch", |p: String| touch("touch", &p));
    env.add_function("find", |pattern: String| glob_paths("find", &pattern));
    env.add_function("readlink", |p: String| {
        std::fs::read_link(&p)
            .map(|t| t.display().to_string())
            .map_err(|e| tmpl_err(format!("readlink({p:?}) => {e}")))
    });
    env.add_function("xdg_user_dir", |name: String| xdg_user_dir(&name));
}

/// The paths matching a glob pattern (`fs_glob`, `find`).
///
/// A pattern with `**` is matched by walking the tree below its literal part without
/// following symbolic links to directories (as find(1) does): the glob crate's own walk
/// follows them, so one link to `.` in a globbed directory (which a sandboxed program can
/// plant in a directory bound read-write) repeats every match ~40 times, and two make the
/// walk exponential, so the CLI never starts.
fn glob_paths(func: &str, pattern: &str) -> Result<Vec<String>, minijinja::Error> {
    let err = |e: &dyn fmt::Display| tmpl_err(format!("{func}({pattern:?}): {e}"));
    if !pattern.contains("**") {
        let paths = glob::glob(pattern).map_err(|e| err(&e))?;
        return Ok(paths
            .filter_map(|p| p.ok())
            .map(|p| p.display().to_string())
            .collect());
    }
    let compiled = glob::Pattern::new(pattern).map_err(|e| err(&e))?;
    let options = glob::MatchOptions {
        require_literal_separator: true,
        ..glob::MatchOptions::new()
    };
    // The directories before the first component with a wildcard.
    let base: PathBuf = Path::new(pattern)
        .components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .collect();
    let mut found = Vec::new();
    let mut todo = vec![base];
    while let Some(dir) = todo.pop() {
        let listing = if dir.as_os_str().is_empty() {
            std::fs::read_dir(".")
        } else {
            std::fs::read_dir(&dir)
        };
        let Ok(listing) = listing else { continue };
        for entry in listing.flatten() {
            let path = dir.join(entry.file_name());
            if compiled.matches_path_with(&path, options) {
                found.push(path.display().to_string());
            }
            // `DirEntry::file_type` does not follow a symbolic link.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                todo.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Create a file if it does not exist (`fs_touch`, `touch`). Whatever is there already is
/// left alone and not opened: a FIFO a sandboxed program left in a directory bound
/// read-write would block the CLI, a symbolic link would make it create its target
/// anywhere the caller may write, a device node would run its driver's `open`.
fn touch(func: &str, p: &str) -> Result<(), minijinja::Error> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags((rustix::fs::OFlags::NOFOLLOW | rustix::fs::OFlags::NONBLOCK).bits() as i32)
        .open(p)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(tmpl_err(format!("{func}({p:?}): {e}"))),
    }
}

fn tmpl_err(msg: String) -> minijinja::Error {
    minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, msg)
}

/// `XDG_<NAME>_DIR` from `user-dirs.dirs`, else `$HOME/<Name>`; empty without a home.
fn xdg_user_dir(name: &str) -> String {
    let Ok(home) = std::env::var("HOME") else {
        return String::new();
    };
    let upper = name.to_uppercase();
    let config = std::env::var("XDG_CONFIG_HOME")
        .ok()
        .filter(|c| c.starts_with('/'))
        .unwrap_or_else(|| format!("{home}/.config"));
    // Only a regular file is read (a FIFO there would block the CLI), and only its start.
    let dirs_file = PathBuf::from(format!("{config}/user-dirs.dirs"));
    if let Ok(text) = crate::host_file::read_regular(&dirs_file, 64 * 1024) {
        let key = format!("XDG_{upper}_DIR=");
        for line in text.lines() {
            if let Some(v) = line.trim().strip_prefix(&key) {
                return v.trim_matches('"').replace("$HOME", &home);
            }
        }
    }
    let mut cap = upper.to_lowercase();
    if let Some(first) = cap.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    format!("{home}/{cap}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }

    #[test]
    fn access_strings_of_every_shape_parse() {
        let a = |s: &str| FsAccess::parse(s).map(|a| a.mode_string());
        for (s, want) in [
            ("r--", "r--"),
            ("r-x", "r-x"),
            ("rw-", "rw-"),
            ("-w-", "-w-"),
            ("-wx", "-wx"),
            ("rwx", "rwx"),
            ("R-X", "r-x"),
            ("Rw-", "rw-"),
            ("rx", "r-x"),
            ("---", "---"),
        ] {
            assert_eq!(a(s).as_deref(), Some(want), "{s}");
        }
        assert!(FsAccess::parse("---").unwrap().is_empty());
        assert_eq!(a(""), None);
        assert_eq!(a("q"), None);
        assert_eq!(a("r-q"), None);
    }
}
