//! The resolved settings of `hakoniwa run`: the profile and the flags merged into one
//! [`Settings`] (parsing of every flag value, user and id-map resolution).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use hakoniwa::{BindAccess, Mount, Namespace, Rlimit};

use crate::cli::RunArgs;
use crate::config::{self, LandlockResource, LimitType, MountType, NetworkMode, Profile};
use crate::confine::{LandlockConfig, SeccompChoice};
use crate::exit_code::CliError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    None,
    Host,
    Pasta(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub user: String,
    pub group: Option<String>,
    pub supplementary: Vec<String>,
}

/// Everything `run` needs, after merging the profile and the flags (flags win).
#[derive(Debug, Default)]
pub struct Settings {
    /// Namespace switches in order: `true` unshares, `false` shares.
    pub namespaces: Vec<(Namespace, bool)>,
    pub rootfs: Option<String>,
    pub rootdir: Option<(PathBuf, bool)>,
    /// Binds, tmpfs and devfs mounts in flag order (directories, files and links are the
    /// fields below).
    pub mounts: Vec<Mount>,
    pub dirs: Vec<(PathBuf, u32)>,
    pub files: Vec<(PathBuf, String)>,
    pub symlinks: Vec<(PathBuf, PathBuf)>,
    pub userns_auto: bool,
    pub uidmaps: Vec<(u32, u32, u32)>,
    pub gidmaps: Vec<(u32, u32, u32)>,
    pub user: Option<UserSpec>,
    pub hostname: Option<String>,
    pub network: Option<Network>,
    pub envs: Vec<(String, String)>,
    /// Position of each name in `envs` (a repeated name replaces the value in place, in
    /// constant time: thousands of `-e` stay linear).
    pub(crate) env_index: HashMap<String, usize>,
    pub cwd: Option<PathBuf>,
    pub limits: BTreeMap<Rlimit, u64>,
    pub walltime: Option<Duration>,
    pub landlock: LandlockConfig,
    pub seccomp: SeccompChoice,
    pub allow_new_privs: bool,
    /// Let a sandbox holding host root's ids create set-id files and file capabilities.
    pub allow_setid: bool,
    /// Run the program as PID 1 (no init).
    pub no_init: bool,
    /// Give the program the caller's terminal itself, not a relayed pseudo-terminal.
    pub no_pty: bool,
    /// Capabilities kept for a uid-0 program (default: the engine's Podman set).
    pub caps: u64,
    pub argv: Vec<String>,
    /// Measure the program's own peak memory (only when it is shown: `--json-status`, `-v`):
    /// it costs a round trip at the program's exit.
    pub peak_memory: bool,
}

pub(crate) type Res<T> = Result<T, CliError>;

pub(crate) fn invalid<T>(msg: impl Into<String>) -> Res<T> {
    Err(CliError::invalid(msg))
}

pub(crate) fn caller_uid() -> u32 {
    rustix::process::getuid().as_raw()
}

pub(crate) fn caller_gid() -> u32 {
    rustix::process::getgid().as_raw()
}

/// `C[:H[:N]]`, H defaulting to `default_host`, N to 1.
pub fn parse_idmap(kind: &str, s: &str, default_host: u32) -> Res<(u32, u32, u32)> {
    let bad = |why: &str| CliError::invalid(format!("invalid {kind} map {s:?}: {why}"));
    let parts: Vec<&str> = s.split(':').collect();
    if parts.len() > 3 {
        return Err(bad("expected CONTAINER[:HOST[:COUNT]]"));
    }
    let num = |p: &str, what: &str| {
        p.parse::<u32>()
            .map_err(|_| bad(&format!("{what} {p:?} is not a number")))
    };
    let c = num(parts[0], "container id")?;
    let h = match parts.get(1) {
        Some(p) => num(p, "host id")?,
        None => default_host,
    };
    let n = match parts.get(2) {
        Some(p) => num(p, "count")?,
        None => 1,
    };
    if n == 0 {
        return Err(bad("count must be at least 1"));
    }
    Ok((c, h, n))
}

/// A size or count with an optional K, M, G (or T) suffix (powers of 1024), or `unlimited`.
pub fn parse_size(flag: &str, s: &str) -> Res<u64> {
    let t = s.trim();
    if t == "unlimited" || t == "infinity" {
        return Ok(hakoniwa::RLIM_INFINITY);
    }
    let (num, mult) = match t.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => {
            let m: u64 = match c.to_ascii_uppercase() {
                'K' => 1 << 10,
                'M' => 1 << 20,
                'G' => 1 << 30,
                'T' => 1 << 40,
                _ => return invalid(format!("invalid value for {flag}: {s:?} (unknown suffix)")),
            };
            (&t[..i], m)
        }
        _ => (t, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| {
            CliError::invalid(format!(
                "invalid value for {flag}: {s:?} (expected a number, optionally with K, M or G)"
            ))
        })
}

pub fn parse_walltime(flag: &str, s: &str) -> Res<Duration> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && x < 1e12 => Ok(Duration::from_secs_f64(x)),
        _ => invalid(format!(
            "invalid value for {flag}: {s:?} (expected a positive number of seconds)"
        )),
    }
}

fn parse_port(s: &str) -> Res<u16> {
    s.trim().parse::<u16>().map_err(|_| {
        CliError::invalid(format!(
            "invalid port {s:?}: expected a number from 0 to 65535"
        ))
    })
}

fn split_list(s: &str, seps: &[char]) -> Vec<String> {
    s.split(|c| seps.contains(&c))
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

fn parse_user(s: &str) -> Res<UserSpec> {
    let mut parts = s.splitn(3, ':');
    let user = parts.next().unwrap_or_default().to_string();
    if user.is_empty() {
        return invalid(format!(
            "invalid --user {s:?}: expected USER[:GROUP[:SUPP,...]]"
        ));
    }
    let group = parts.next().filter(|g| !g.is_empty()).map(str::to_string);
    let supplementary = parts
        .next()
        .map(|p| split_list(p, &[',']))
        .unwrap_or_default();
    Ok(UserSpec {
        user,
        group,
        supplementary,
    })
}

/// Look a user (and groups) up in a sandbox's `passwd` and `group` files; numeric ids are
/// taken as they are. Without explicit supplementary groups the user gets those
/// `/etc/group` lists it in (that `gid_mapped` says the sandbox maps).
pub(crate) fn resolve_user(
    u: &UserSpec,
    etc: &Path,
    gid_mapped: impl Fn(u32) -> bool,
) -> Res<(u32, u32, Option<Vec<u32>>)> {
    let read = |name: &str| std::fs::read_to_string(etc.join(name)).unwrap_or_default();
    let passwd = read("passwd");
    let group = read("group");
    let find = |text: &str, name: &str, field: usize| -> Option<u32> {
        text.lines()
            .map(|l| l.split(':').collect::<Vec<_>>())
            .find(|f| f.first() == Some(&name))
            .and_then(|f| f.get(field)?.parse().ok())
    };
    let (uid, primary) = match u.user.parse::<u32>() {
        Ok(n) => (n, None),
        Err(_) => {
            let uid = find(&passwd, &u.user, 2).ok_or_else(|| {
                CliError::invalid(format!(
                    "--user: no user {:?} in {}",
                    u.user,
                    etc.join("passwd").display()
                ))
            })?;
            (uid, find(&passwd, &u.user, 3))
        }
    };
    let gid_of = |g: &str| -> Res<u32> {
        g.parse::<u32>().or_else(|_| {
            find(&group, g, 2).ok_or_else(|| {
                CliError::invalid(format!(
                    "--user: no group {g:?} in {}",
                    etc.join("group").display()
                ))
            })
        })
    };
    let gid = match &u.group {
        Some(g) => gid_of(g)?,
        None => primary.unwrap_or(uid),
    };
    let groups = if u.supplementary.is_empty() {
        // As su and runuser do (initgroups): the groups of /etc/group that list the user,
        // plus the primary group. Groups the sandbox does not map cannot be set: they are
        // left out (logged), and with none left the supplementary groups are just cleared.
        let mut member: Vec<u32> = Vec::new();
        for f in group.lines().map(|l| l.split(':').collect::<Vec<_>>()) {
            let listed = f
                .get(3)
                .is_some_and(|m| m.split(',').any(|n| n.trim() == u.user));
            if let (true, Some(g)) = (listed, f.get(2).and_then(|g| g.parse::<u32>().ok())) {
                if g == gid || member.contains(&g) {
                    continue;
                }
                if gid_mapped(g) {
                    member.push(g);
                } else {
                    log::debug!("User: group {} ({g}) is not mapped; not set", f[0]);
                }
            }
        }
        (!member.is_empty()).then(|| std::iter::once(gid).chain(member).collect())
    } else {
        Some(
            u.supplementary
                .iter()
                .map(|g| gid_of(g))
                .collect::<Res<Vec<u32>>>()?,
        )
    };
    Ok((uid, gid, groups))
}

fn parse_network(s: &str) -> Res<Network> {
    let (mode, opts) = match s.split_once(':') {
        Some((m, o)) => (m, Some(o)),
        None => (s, None),
    };
    match (mode, opts) {
        ("none", None) => Ok(Network::None),
        ("host", None) => Ok(Network::Host),
        ("pasta", o) => Ok(Network::Pasta(
            o.map(|o| split_list(o, &[','])).unwrap_or_default(),
        )),
        _ => invalid(format!(
            "invalid --network {s:?}: expected none, host or pasta[:OPT,...]"
        )),
    }
}

pub fn absolute(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

fn container_path(flag: &str, p: &Path) -> Res<PathBuf> {
    if !p.is_absolute() {
        return invalid(format!(
            "invalid {flag} {}: the path in the sandbox must be absolute",
            p.display()
        ));
    }
    Ok(p.to_path_buf())
}

/// A bind's host path, made absolute; it must exist.
fn bind_source(flag: &str, host: &str) -> Res<PathBuf> {
    let source = absolute(Path::new(host));
    match std::fs::symlink_metadata(&source) {
        Ok(_) => Ok(source),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => invalid(format!(
            "{flag}: bind mount source does not exist: {}",
            source.display()
        )),
        Err(e) => invalid(format!(
            "{flag}: bind mount source cannot be reached: {}: {}",
            source.display(),
            crate::strerror::io_text(&e)
        )),
    }
}

/// The byte offsets of the `:` in `s` that are not written `\:`.
fn separators(s: &str) -> Vec<usize> {
    let b = s.as_bytes();
    (0..b.len())
        .filter(|&i| b[i] == b':' && (i == 0 || b[i - 1] != b'\\'))
        .collect()
}

/// `s` with every `\:` turned into `:`.
fn unescape_colons(s: &str) -> String {
    s.replace("\\:", ":")
}

/// `HOST[:CONTAINER]`; HOST must exist. A colon inside a path is written `\:`.
fn parse_bind(flag: &str, s: &str, access: BindAccess) -> Res<Mount> {
    let seps = separators(s);
    let (host, target) = match seps.first() {
        Some(&i) => (unescape_colons(&s[..i]), Some(&s[i + 1..])),
        None => (unescape_colons(s), None),
    };
    if host.is_empty() {
        return invalid(format!("invalid {flag} {s:?}: empty host path"));
    }
    let source = bind_source(flag, &host)?;
    // `-b /src:/b:ro` (bwrap, docker habit) or `-b /src:ro`.
    let suffix = target.map(|t| separators(t).last().map_or(t, |&i| &t[i + 1..]));
    if let Some(mode) = suffix {
        if mode == "ro" || mode == "rw" {
            return invalid(format!(
                "invalid {flag} {s:?}: hakoniwa takes no :{mode} suffix (it would be part of the path); \
                 use -b/--bindmount-ro HOST:CONTAINER for read-only and -B/--bindmount-rw HOST:CONTAINER for read-write"
            ));
        }
    }
    let target = match target.map(unescape_colons) {
        Some(t) if !t.is_empty() => container_path(flag, Path::new(&t))?,
        _ => source.clone(),
    };
    Ok(Mount::Bind {
        source,
        target,
        access,
    })
}

/// A tmpfs with the kernel's default size and mode (what `--tmpfs` makes).
fn tmpfs(target: PathBuf) -> Mount {
    Mount::Tmpfs {
        target,
        size: None,
        mode: None,
    }
}

/// `DIR[:rw|:ro]`; `what` names the flag or profile key in errors.
fn parse_rootdir(what: &str, s: &str) -> Res<(PathBuf, bool)> {
    let (dir, rw) = match s.rsplit_once(':') {
        Some((d, "rw")) => (d, true),
        Some((d, "ro")) => (d, false),
        _ => (s, false),
    };
    let dir = absolute(Path::new(dir));
    if !dir.is_dir() {
        return invalid(format!(
            "{what}: not an existing directory: {}",
            dir.display()
        ));
    }
    Ok((dir, rw))
}

impl Settings {
    fn set_workdir(&mut self, flag: &str, s: &str) -> Res<()> {
        if let Some(inner) = s.strip_prefix(':') {
            self.cwd = Some(container_path(flag, Path::new(inner))?);
            return Ok(());
        }
        let host = absolute(Path::new(s));
        if !host.is_dir() {
            return invalid(format!(
                "{flag}: working directory does not exist on the host: {}",
                host.display()
            ));
        }
        self.mounts.push(Mount::Bind {
            source: host.clone(),
            target: host.clone(),
            access: BindAccess::ReadWrite,
        });
        self.cwd = Some(host);
        Ok(())
    }

    fn add_env(&mut self, s: &str) -> Res<()> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (s.to_string(), None),
        };
        if name.is_empty() {
            return invalid(format!("invalid --setenv {s:?}: empty variable name"));
        }
        self.add_env_pair(name, value);
        Ok(())
    }

    fn add_env_pair(&mut self, name: String, value: Option<String>) {
        let value = match value {
            Some(v) => v,
            None => match std::env::var(&name) {
                Ok(v) => v,
                Err(_) => {
                    log::debug!("Env: {name} is not set on the host; not passed");
                    return;
                }
            },
        };
        match self.env_index.get(&name) {
            Some(&i) => self.envs[i].1 = value,
            None => {
                self.env_index.insert(name.clone(), self.envs.len());
                self.envs.push((name, value));
            }
        }
    }

    fn set_limit(&mut self, kind: LimitType, flag: &str, value: &str) -> Res<()> {
        let r = match kind {
            LimitType::Walltime => {
                self.walltime = Some(parse_walltime(flag, value)?);
                return Ok(());
            }
            LimitType::As => Rlimit::As,
            LimitType::Core => Rlimit::Core,
            LimitType::Cpu => Rlimit::Cpu,
            LimitType::Fsize => Rlimit::Fsize,
            LimitType::Nofile => Rlimit::Nofile,
            LimitType::Nproc => Rlimit::Nproc,
        };
        self.limits.insert(r, parse_size(flag, value)?);
        Ok(())
    }

    fn apply_profile(&mut self, p: Profile, file: &str) -> Res<()> {
        let ctx = |e: CliError| CliError {
            code: e.code,
            message: format!("{file}: {}", e.message),
        };
        for ns in p.namespaces {
            self.namespaces.push((ns.kind, !ns.share));
        }
        for m in p.mounts {
            let dest = m.destination.clone().unwrap_or_else(|| m.source.clone());
            if dest.is_empty() {
                return Err(ctx(CliError::invalid(
                    "mounts: an entry needs a source or a destination",
                )));
            }
            let target = container_path("mounts.destination", Path::new(&dest)).map_err(ctx)?;
            self.mounts.push(match m.kind {
                MountType::Bind => {
                    if m.source.is_empty() {
                        return Err(ctx(CliError::invalid(format!(
                            "mounts: the bind mount at {dest} needs a source"
                        ))));
                    }
                    let access = match (m.dev, m.rw) {
                        (true, _) => BindAccess::Device,
                        (false, true) => BindAccess::ReadWrite,
                        (false, false) => BindAccess::ReadOnly,
                    };
                    // A profile's source is a path as it is (a colon included).
                    Mount::Bind {
                        source: bind_source("mounts.source", &m.source).map_err(ctx)?,
                        target,
                        access,
                    }
                }
                MountType::Devfs => Mount::Devfs { target },
                MountType::Tmpfs => tmpfs(target),
            });
        }
        for f in p.filesystem.files {
            let t = container_path("filesystem.files", Path::new(&f.destination)).map_err(ctx)?;
            self.files.push((t, f.contents));
        }
        for d in p.filesystem.dirs {
            let t = container_path("filesystem.dirs", Path::new(&d.destination)).map_err(ctx)?;
            self.dirs.push((t, d.mode));
        }
        for s in p.filesystem.symlinks {
            let t = container_path("filesystem.symlinks", Path::new(&s.link)).map_err(ctx)?;
            self.symlinks.push((PathBuf::from(s.original), t));
        }
        for e in p.envs {
            if e.name.is_empty() || e.name.contains('=') {
                return Err(ctx(CliError::invalid(format!(
                    "invalid environment variable name {:?}",
                    e.name
                ))));
            }
            // As the original: no value means the host's value, or empty when it is unset.
            let value = e
                .value
                .unwrap_or_else(|| std::env::var(&e.name).unwrap_or_default());
            self.add_env_pair(e.name, Some(value));
        }
        if let Some(n) = p.network {
            self.network = Some(match n.mode {
                NetworkMode::None => Network::None,
                NetworkMode::Host => Network::Host,
                NetworkMode::Pasta => Network::Pasta(n.options),
            });
        }
        // Entries apply in order (includes first): a later `unrestrict = true` wins over an
        // earlier restriction, and the other way round.
        let ll = &mut self.landlock;
        for e in p.landlock.resources {
            let (res, on) = e.get();
            if on {
                ll.restrict.insert(res);
                ll.unrestricted.remove(&res);
            } else {
                ll.restrict.remove(&res);
                ll.unrestricted.insert(res);
            }
        }
        // A rule implies restricting its resource (our extension), unless the profile
        // explicitly unrestricted it.
        let imply = |ll: &mut LandlockConfig, r: LandlockResource| {
            if !ll.unrestricted.contains(&r) {
                ll.restrict.insert(r);
            }
        };
        for f in p.landlock.fs {
            imply(&mut self.landlock, LandlockResource::Fs);
            if f.access.is_empty() {
                log::debug!("Landlock: rule {} grants nothing (\"---\")", f.path);
                continue;
            }
            self.landlock.fs.push((PathBuf::from(f.path), f.access));
        }
        for n in p.landlock.net {
            match n.access {
                LandlockResource::TcpBind => self.landlock.tcp_bind.push(n.port),
                LandlockResource::TcpConnect => self.landlock.tcp_connect.push(n.port),
                _ => {
                    return Err(ctx(CliError::invalid(
                        "landlock.net access must be tcp.bind or tcp.connect",
                    )))
                }
            }
            imply(&mut self.landlock, n.access);
        }
        if let Some(r) = p.rootdir {
            // The path as it is (a profile says rw with its own key).
            let (dir, _) = parse_rootdir("rootdir.path", &format!("{}:ro", r.path)).map_err(ctx)?;
            self.rootdir = Some((dir, r.rw));
        }
        if let Some(r) = p.rootfs {
            self.rootfs = Some(r);
        }
        for m in p.uidmaps {
            self.uidmaps.push((
                m.container_id,
                m.host_id.unwrap_or_else(caller_uid),
                m.count.unwrap_or(1),
            ));
        }
        for m in p.gidmaps {
            self.gidmaps.push((
                m.container_id,
                m.host_id.unwrap_or_else(caller_gid),
                m.count.unwrap_or(1),
            ));
        }
        if let Some(h) = p.hostname {
            self.hostname = Some(h);
        }
        for l in p.limits {
            let flag = format!("limits ({:?})", l.kind).to_lowercase();
            self.set_limit(l.kind, &flag, &l.value.to_string())
                .map_err(ctx)?;
        }
        if let Some(s) = p.seccomp {
            self.seccomp = SeccompChoice::parse(&s.path)
                .map_err(CliError::invalid)
                .map_err(ctx)?;
        }
        if let Some(c) = p.command {
            self.argv = c.cmdline;
            if let Some(cwd) = c.cwd {
                self.cwd = Some(container_path("command.cwd", Path::new(&cwd)).map_err(ctx)?);
            }
        }
        if let Some(u) = p.user {
            self.user = Some(parse_user(&u).map_err(ctx)?);
        }
        if p.userns.is_some() {
            self.userns_auto = true;
        }
        if let Some(a) = p.allow_new_privs {
            self.allow_new_privs = a;
        }
        if let Some(w) = p.workdir {
            self.set_workdir("workdir", &w).map_err(ctx)?;
        }
        Ok(())
    }

    fn apply_args(&mut self, a: &RunArgs) -> Res<()> {
        if a.unshare_all {
            for ns in [
                Namespace::Cgroup,
                Namespace::Ipc,
                Namespace::Network,
                Namespace::Uts,
            ] {
                self.namespaces.push((ns, true));
            }
        }
        for (on, ns) in [
            (a.unshare_cgroup, Namespace::Cgroup),
            (a.unshare_ipc, Namespace::Ipc),
            (a.unshare_network, Namespace::Network),
            (a.unshare_uts, Namespace::Uts),
        ] {
            if on {
                self.namespaces.push((ns, true));
            }
        }
        if let Some(r) = &a.rootdir {
            self.rootdir = Some(parse_rootdir("--rootdir", r)?);
        }
        if let Some(r) = &a.rootfs {
            self.rootfs = Some(r.clone());
        }
        for b in &a.bindmount_ro {
            self.mounts
                .push(parse_bind("--bindmount-ro", b, BindAccess::ReadOnly)?);
        }
        for b in &a.bindmount_rw {
            self.mounts
                .push(parse_bind("--bindmount-rw", b, BindAccess::ReadWrite)?);
        }
        for b in &a.dev_bind {
            self.mounts
                .push(parse_bind("--dev-bind", b, BindAccess::Device)?);
        }
        for d in &a.devfs {
            self.mounts.push(Mount::Devfs {
                target: container_path("--devfs", d)?,
            });
        }
        for t in &a.tmpfs {
            self.mounts.push(tmpfs(container_path("--tmpfs", t)?));
        }
        for d in &a.dir {
            self.dirs.push((container_path("--dir", d)?, 0o700));
        }
        for s in &a.symlink {
            let Some((orig, link)) = s
                .split_once(':')
                .filter(|(o, l)| !o.is_empty() && !l.is_empty())
            else {
                return invalid(format!("invalid --symlink {s:?}: expected ORIGINAL:LINK"));
            };
            self.symlinks.push((
                PathBuf::from(orig),
                container_path("--symlink", Path::new(link))?,
            ));
        }
        if a.userns.is_some() {
            self.userns_auto = true;
        }
        for m in &a.uidmap {
            self.uidmaps.push(parse_idmap("uid", m, caller_uid())?);
        }
        for m in &a.gidmap {
            self.gidmaps.push(parse_idmap("gid", m, caller_gid())?);
        }
        if let Some(u) = &a.user {
            self.user = Some(parse_user(u)?);
        }
        if let Some(h) = &a.hostname {
            if h.is_empty() || h.len() > 64 {
                return invalid(format!("invalid --hostname {h:?}: must be 1 to 64 bytes"));
            }
            self.hostname = Some(h.clone());
        }
        if let Some(n) = &a.network {
            self.network = Some(parse_network(n)?);
        }
        for e in &a.setenv {
            self.add_env(e)?;
        }
        if let Some(w) = &a.workdir {
            self.set_workdir("--workdir", w)?;
        }
        for (v, kind, flag) in [
            (&a.limit_as, LimitType::As, "--limit-as"),
            (&a.limit_core, LimitType::Core, "--limit-core"),
            (&a.limit_cpu, LimitType::Cpu, "--limit-cpu"),
            (&a.limit_fsize, LimitType::Fsize, "--limit-fsize"),
            (&a.limit_nofile, LimitType::Nofile, "--limit-nofile"),
            (&a.limit_nproc, LimitType::Nproc, "--limit-nproc"),
            (&a.limit_walltime, LimitType::Walltime, "--limit-walltime"),
        ] {
            if let Some(v) = v {
                self.set_limit(kind, flag, v)?;
            }
        }
        if let Some(r) = &a.landlock_restrict {
            for item in split_list(r, &[',']) {
                match LandlockResource::parse(&item) {
                    Some(res) => {
                        self.landlock.restrict.insert(res);
                    }
                    None => {
                        return invalid(format!(
                            "invalid --landlock-restrict resource {item:?}: expected fs, tcp.bind, tcp.connect, unix.abstract or signal"
                        ))
                    }
                }
            }
        }
        let all = a.landlock_restrict_all;
        for (on, res) in [
            (a.landlock_restrict_fs, LandlockResource::Fs),
            (a.landlock_restrict_tcp_bind, LandlockResource::TcpBind),
            (
                a.landlock_restrict_tcp_connect,
                LandlockResource::TcpConnect,
            ),
        ] {
            if on || all {
                self.landlock.restrict.insert(res);
            }
        }
        for (list, access) in [
            (&a.landlock_fs_ro, "r"),
            (&a.landlock_fs_rw, "rw"),
            (&a.landlock_fs_rx, "rx"),
        ] {
            let access = config::FsAccess::parse(access).expect("valid literal");
            for item in list {
                for p in split_list(item, &[',', ':']) {
                    self.landlock.fs.push((PathBuf::from(p), access));
                    self.landlock.restrict.insert(LandlockResource::Fs);
                }
            }
        }
        for (list, res) in [
            (&a.landlock_tcp_bind, LandlockResource::TcpBind),
            (&a.landlock_tcp_connect, LandlockResource::TcpConnect),
        ] {
            for item in list {
                for p in split_list(item, &[',']) {
                    let port = parse_port(&p)?;
                    match res {
                        LandlockResource::TcpBind => self.landlock.tcp_bind.push(port),
                        _ => self.landlock.tcp_connect.push(port),
                    }
                    self.landlock.restrict.insert(res);
                }
            }
        }
        if let Some(s) = &a.seccomp {
            self.seccomp = SeccompChoice::parse(s).map_err(CliError::invalid)?;
        }
        if a.allow_new_privs {
            self.allow_new_privs = true;
        }
        if a.allow_setid {
            self.allow_setid = true;
        }
        if a.no_init {
            self.no_init = true;
        }
        if a.no_pty {
            self.no_pty = true;
        }
        for name in &a.cap_drop {
            if name.eq_ignore_ascii_case("all") {
                self.caps = 0;
            } else {
                let n = hakoniwa::caps::from_name(name).ok_or_else(|| {
                    CliError::invalid(format!("unknown capability {name:?} in --cap-drop"))
                })?;
                self.caps &= !(1u64 << n);
            }
        }
        for name in &a.cap_add {
            let n = hakoniwa::caps::from_name(name).ok_or_else(|| {
                CliError::invalid(format!("unknown capability {name:?} in --cap-add"))
            })?;
            self.caps |= 1u64 << n;
        }
        if !a.argv.is_empty() {
            self.argv = a.argv.clone();
        }
        Ok(())
    }
}

/// Merge the profile (if any) and the flags.
pub fn resolve(args: &RunArgs) -> Res<Settings> {
    let mut s = Settings {
        caps: hakoniwa::caps::DEFAULT,
        ..Settings::default()
    };
    if let Some(arg) = &args.config {
        let origin = crate::profiles::locate(arg).map_err(CliError::invalid)?;
        let profile = config::load(&origin).map_err(CliError::invalid)?;
        s.apply_profile(profile, &origin.to_string())?;
    }
    s.apply_args(args)?;
    s.landlock.drop_unrestricted_rules();
    if s.userns_auto && (!s.uidmaps.is_empty() || !s.gidmaps.is_empty()) {
        return invalid("--userns auto conflicts with --uidmap/--gidmap (and profile uidmaps/gidmaps): use one or the other");
    }
    if s.argv.is_empty() {
        s.argv = vec!["/bin/sh".into()];
    }
    s.peak_memory = args.json_status.is_some() || log::log_enabled!(log::Level::Debug);
    Ok(s)
}

/// The caller's user name from the host's /etc/passwd.
fn user_name(uid: u32) -> Option<String> {
    let text = std::fs::read_to_string("/etc/passwd").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
    })
}

/// The caller's first range in /etc/subuid or /etc/subgid: `(start, count)`.
pub fn subid_range(file: &str, id: u32, name: Option<&str>) -> Option<(u32, u32)> {
    let text = std::fs::read_to_string(file).ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.trim().split(':').collect();
        if f.len() != 3 {
            return None;
        }
        if f[0] == id.to_string() || Some(f[0]) == name {
            Some((f[1].parse().ok()?, f[2].parse().ok()?))
        } else {
            None
        }
    })
}

pub(crate) type Maps = Vec<(u32, u32, u32)>;

pub(crate) fn userns_auto_maps() -> Res<(Maps, Maps)> {
    let (uid, gid) = (caller_uid(), caller_gid());
    let name = user_name(uid);
    let who = name.clone().unwrap_or_else(|| uid.to_string());
    let Some((us, un)) = subid_range("/etc/subuid", uid, name.as_deref()) else {
        return Err(CliError::setup(format!(
            "--userns auto: no range for {who} in /etc/subuid"
        )));
    };
    let Some((gs, gn)) = subid_range("/etc/subgid", gid, name.as_deref()) else {
        return Err(CliError::setup(format!(
            "--userns auto: no range for {who} in /etc/subgid"
        )));
    };
    Ok((
        vec![(0, uid, 1), (1, us, un)],
        vec![(0, gid, 1), (1, gs, gn)],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_map_is_container_id_then_host_id_and_count() {
        assert_eq!(parse_idmap("uid", "0", 7).unwrap(), (0, 7, 1));
        assert_eq!(parse_idmap("uid", "0:5:3", 7).unwrap(), (0, 5, 3));
        assert!(parse_idmap("uid", "a", 7).is_err());
        assert!(parse_idmap("uid", "0:1:2:3", 7).is_err());
    }

    #[test]
    fn sizes_take_k_m_and_g_suffixes_and_refuse_anything_else() {
        assert_eq!(parse_size("x", "64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("x", "2G").unwrap(), 2 << 30);
        assert_eq!(parse_size("x", "512K").unwrap(), 512 << 10);
        assert_eq!(parse_size("x", "10").unwrap(), 10);
        assert!(parse_size("x", "10Q").is_err());
        assert!(parse_size("x", "-1").is_err());
    }

    #[test]
    fn a_wall_time_takes_fractions_of_a_second_and_is_more_than_zero() {
        assert_eq!(
            parse_walltime("x", "0.5").unwrap(),
            Duration::from_millis(500)
        );
        assert!(parse_walltime("x", "0").is_err());
    }

    #[test]
    fn a_repeated_env_name_keeps_the_last_value_once() {
        let mut s = Settings::default();
        for i in 0..2000 {
            s.add_env_pair(format!("V{}", i % 1000), Some(i.to_string()));
        }
        s.add_env_pair("V3".into(), Some("last".into()));
        assert_eq!(s.envs.len(), 1000);
        assert_eq!(s.envs[3], ("V3".to_string(), "last".to_string()));
        assert_eq!(s.envs[999], ("V999".to_string(), "1999".to_string()));
    }
}
