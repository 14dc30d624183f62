//! Profiles: TOML files rendered first as a minijinja template, then parsed strictly
//! (unknown keys are errors) and merged with their `@include`s.

use std::fmt;
use std::path::{Path, PathBuf};

use hakoniwa::Namespace;
use minijinja::{context, Environment, UndefinedBehavior};
use serde::{Deserialize, Deserializer};

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MountCfg {
    #[serde(default)]
    pub source: String,
    pub destination: String,
    #[serde(rename = "type", default)]
    pub kind: MountType,
    #[serde(default)]
    pub rw: bool,
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
}

impl LandlockResource {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "fs" => Some(Self::Fs),
            "tcp.bind" => Some(Self::TcpBind),
            "tcp.connect" => Some(Self::TcpConnect),
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
            let slot = match c {
                'r' => &mut a.r,
                'w' => &mut a.w,
                'x' => &mut a.x,
                _ => return None,
            };
            if *slot {
                return None;
            }
            *slot = true;
        }
        Some(a)
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
                "invalid access {s:?}: expected a combination of r, w, x (e.g. \"r\", \"rw\", \"rx\")"
            ))
        })
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LandlockCfg {
    #[serde(default)]
    pub resources: Vec<LandlockResource>,
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
    pub mode: LandlockResource,
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
pub fn load(path: &Path) -> Result<Profile, String> {
    let mut stack = Vec::new();
    load_inner(path, &mut stack, false)
}

fn load_inner(path: &Path, stack: &mut Vec<PathBuf>, included: bool) -> Result<Profile, String> {
    let canon = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if let Some(i) = stack.iter().position(|p| *p == canon) {
        let chain: Vec<String> = stack[i..]
            .iter()
            .chain(std::iter::once(&canon))
            .map(|p| p.display().to_string())
            .collect();
        return Err(format!("include cycle: {}", chain.join(" -> ")));
    }
    if included {
        log::debug!("CONFIG: Including {}", canon.display());
    } else {
        log::debug!("CONFIG: {}", canon.display());
    }
    let source =
        std::fs::read_to_string(&canon).map_err(|e| format!("{}: {e}", canon.display()))?;
    let dir = canon.parent().unwrap_or(Path::new("/")).to_path_buf();
    let text = render(&canon, &dir, &source)?;
    log::trace!("CONFIG: rendered {}:\n{text}", canon.display());
    let mut profile = parse(&canon, &text)?;
    if let Some(s) = &mut profile.seccomp {
        if !matches!(s.path.as_str(), "podman" | "audit" | "unconfined") {
            s.path = dir.join(&s.path).display().to_string();
        }
    }
    stack.push(canon);
    let mut merged = Profile::default();
    for inc in std::mem::take(&mut profile.include) {
        let sub = load_inner(&dir.join(&inc), stack, true)?;
        merged.merge(sub);
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
    // TOML spells booleans in lowercase (minijinja prints Python's True/False).
    env.set_formatter(|out, state, value| {
        match (value.kind() == minijinja::value::ValueKind::Bool).then(|| value.is_true()) {
            Some(b) => out
                .write_str(if b { "true" } else { "false" })
                .map_err(Into::into),
            None => minijinja::escape_formatter(out, state, value),
        }
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
    env.add_function("fs_glob", |pattern: String| {
        let paths =
            glob::glob(&pattern).map_err(|e| tmpl_err(format!("fs_glob({pattern}): {e}")))?;
        Ok::<_, minijinja::Error>(
            paths
                .filter_map(|p| p.ok())
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>(),
        )
    });
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
    env.add_function("fs_touch", |p: String| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map(|_| p.clone())
            .map_err(|e| tmpl_err(format!("fs_touch({p}): {e}")))
    });
    env.add_function("fs_xdg_user_dir", |name: String| xdg_user_dir(&name));
    let name = file.display().to_string();
    env.add_template_owned(name.clone(), source.to_string())
        .and_then(|_| env.get_template(&name)?.render(context! { __dir__ => dir }))
        .map_err(|e| {
            let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
            let detail = e.detail().map(|d| format!(": {d}")).unwrap_or_default();
            format!(
                "{}{line}: template error: {}{detail}",
                file.display(),
                e.kind()
            )
        })
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
    let config = std::env::var("XDG_CONFIG_HOME").unwrap_or_else(|_| format!("{home}/.config"));
    if let Ok(text) = std::fs::read_to_string(format!("{config}/user-dirs.dirs")) {
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
    fn access_parses() {
        assert!(FsAccess::parse("rwx").is_some());
        assert!(FsAccess::parse("rr").is_none());
        assert!(FsAccess::parse("q").is_none());
    }
}
