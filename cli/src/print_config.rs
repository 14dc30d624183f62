//! `run --print-config` (`--dry-run`): the resolved sandbox, written as a profile in the
//! original's format (plus our extensions) that `-c -` loads back. What is not a profile
//! key (the mounts a `rootfs` makes, capabilities) is written as comments.

use std::fmt::Write as _;
use std::path::Path;

use hakoniwa::{BindAccess, Mount, Namespace};

use crate::config::LandlockResource;
use crate::printable::printable;
use crate::settings::{Network, Settings};
use crate::verbose;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn qp(p: &Path) -> String {
    q(&p.display().to_string())
}

/// `key = [ ... ]`, one item a line; nothing for an empty list.
fn array(w: &mut String, key: &str, items: Vec<String>) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(w, "{key} = [");
    for i in items {
        let _ = writeln!(w, "  {i},");
    }
    let _ = writeln!(w, "]");
}

/// The profile text for `s`: `unshared` are the namespaces the sandbox gets, `rootfs` the
/// directory the root is populated from with the entries the engine's layout makes of it.
pub fn render(s: &Settings, unshared: &[Namespace], rootfs: Option<(&Path, &[Mount])>) -> String {
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(w, "# The resolved sandbox (hakoniwa run --print-config).");
    let _ = writeln!(
        w,
        "# Unshared namespaces: {}",
        verbose::namespace_names(unshared).join(", ")
    );
    if let Some((d, rw)) = &s.rootdir {
        let _ = writeln!(w, "rootdir = {{ path = {}, rw = {rw} }}", qp(d));
    }
    match &s.rootfs {
        // The directory as resolved (absolute), so that the output loads the same from
        // anywhere; `none` as it is.
        Some(r) => {
            let _ = writeln!(
                w,
                "rootfs = {}",
                rootfs.map_or_else(|| q(r), |(d, _)| qp(d))
            );
        }
        None if s.rootdir.is_none() => {
            let _ = writeln!(w, "rootfs = \"/\"");
        }
        None => {}
    }
    if let Some((r, entries)) = rootfs {
        // Names and link targets come from the rootfs directory, which may be an image the
        // user did not make: a newline in one must not end the comment (and start a key).
        let c = |p: &Path| printable(&p.display().to_string());
        let _ = writeln!(w, "# The root gets from {}:", c(r));
        for m in entries {
            let _ = match m {
                Mount::Symlink { original, target } => {
                    writeln!(w, "#   symlink {} -> {}", c(target), c(original))
                }
                Mount::Bind { source, target, .. } => {
                    writeln!(w, "#   bind_ro {} -> {}", c(source), c(target))
                }
                other => writeln!(w, "#   {} {}", other.kind_name(), c(other.target())),
            };
        }
        let _ = writeln!(w, "#   proc /proc");
    }
    if let Some(h) = &s.hostname {
        let _ = writeln!(w, "hostname = {}", q(h));
    }
    if s.userns_auto {
        let _ = writeln!(w, "userns = \"auto\"");
    }
    if let Some(u) = &s.user {
        let mut spec = u.user.clone();
        if u.group.is_some() || !u.supplementary.is_empty() {
            spec.push(':');
            spec.push_str(u.group.as_deref().unwrap_or(""));
        }
        if !u.supplementary.is_empty() {
            spec.push(':');
            spec.push_str(&u.supplementary.join(","));
        }
        let _ = writeln!(w, "user = {}", q(&spec));
    }
    if s.allow_new_privs {
        let _ = writeln!(w, "allow_new_privs = true");
    }
    let _ = writeln!(
        w,
        "# Capabilities of a uid-0 program: {}",
        hakoniwa::caps::names(s.caps).join(", ")
    );
    let namespaces = s
        .namespaces
        .iter()
        .map(|(ns, on)| {
            let name = format!("{ns:?}").to_lowercase();
            format!("{{ type = {}, share = {} }}", q(&name), !on)
        })
        .collect();
    array(w, "namespaces", namespaces);
    if let Some(n) = &s.network {
        let _ = match n {
            Network::None => writeln!(w, "network = {{ mode = \"none\" }}"),
            Network::Host => writeln!(w, "network = {{ mode = \"host\" }}"),
            Network::Pasta(opts) => {
                let opts: Vec<String> = opts.iter().map(|o| q(o)).collect();
                writeln!(
                    w,
                    "network = {{ mode = \"pasta\", options = [{}] }}",
                    opts.join(", ")
                )
            }
        };
    }
    let mounts = s
        .mounts
        .iter()
        .filter_map(|m| match m {
            Mount::Bind {
                source,
                target,
                access: BindAccess::Device,
            } => Some(format!(
                "{{ source = {}, destination = {}, rw = true, dev = true }}",
                qp(source),
                qp(target)
            )),
            Mount::Bind {
                source,
                target,
                access,
            } => Some(format!(
                "{{ source = {}, destination = {}, rw = {} }}",
                qp(source),
                qp(target),
                *access == BindAccess::ReadWrite
            )),
            Mount::Devfs { target } => Some(format!(
                "{{ source = \"\", destination = {}, type = \"devfs\" }}",
                qp(target)
            )),
            Mount::Tmpfs { target, .. } => Some(format!(
                "{{ source = \"\", destination = {}, type = \"tmpfs\" }}",
                qp(target)
            )),
            // Directories, files and links are in [filesystem]; nothing else is a flag.
            _ => None,
        })
        .collect();
    array(w, "mounts", mounts);
    for (key, maps) in [("uidmaps", &s.uidmaps), ("gidmaps", &s.gidmaps)] {
        let maps = maps
            .iter()
            .map(|(c, h, n)| format!("{{ container_id = {c}, host_id = {h}, count = {n} }}"))
            .collect();
        array(w, key, maps);
    }
    let mut limits: Vec<String> = s
        .limits
        .iter()
        .map(|(r, v)| {
            let value = if *v == hakoniwa::RLIM_INFINITY {
                "\"unlimited\"".to_string()
            } else {
                v.to_string()
            };
            format!("{{ type = {}, value = {value} }}", q(r.name()))
        })
        .collect();
    if let Some(t) = s.walltime {
        let secs = t.as_secs_f64();
        let value = if secs.fract() == 0.0 {
            format!("{}", t.as_secs())
        } else {
            format!("{secs}")
        };
        limits.push(format!("{{ type = \"walltime\", value = {value} }}"));
    }
    array(w, "limits", limits);
    let envs = s
        .envs
        .iter()
        .map(|(k, v)| format!("{{ name = {}, value = {} }}", q(k), q(v)))
        .collect();
    array(w, "envs", envs);
    if !(s.dirs.is_empty() && s.files.is_empty() && s.symlinks.is_empty()) {
        let _ = writeln!(w, "\n[filesystem]");
        let dirs = s
            .dirs
            .iter()
            .map(|(d, mode)| format!("{{ destination = {}, mode = 0o{mode:o} }}", qp(d)))
            .collect();
        array(w, "dirs", dirs);
        let files = s
            .files
            .iter()
            .map(|(f, c)| format!("{{ destination = {}, contents = {} }}", qp(f), q(c)))
            .collect();
        array(w, "files", files);
        let symlinks = s
            .symlinks
            .iter()
            .map(|(o, l)| format!("{{ original = {}, link = {} }}", qp(o), qp(l)))
            .collect();
        array(w, "symlinks", symlinks);
    }
    let ll = &s.landlock;
    let mut resources: Vec<String> = ll
        .restrict
        .iter()
        .map(|r| format!("{{ type = {} }}", q(r.name())))
        .collect();
    resources.extend(
        ll.unrestricted
            .iter()
            .filter(|r| !ll.restrict.contains(r))
            .map(|r| format!("{{ type = {}, unrestrict = true }}", q(r.name()))),
    );
    if !resources.is_empty() {
        let _ = writeln!(w, "\n[landlock]");
        array(w, "resources", resources);
        let fs = ll
            .fs
            .iter()
            .map(|(p, a)| format!("{{ path = {}, access = {} }}", qp(p), q(&a.mode_string())))
            .collect();
        array(w, "fs", fs);
        let mut net = Vec::new();
        for (ports, r) in [
            (&ll.tcp_bind, LandlockResource::TcpBind),
            (&ll.tcp_connect, LandlockResource::TcpConnect),
        ] {
            net.extend(
                ports
                    .iter()
                    .map(|p| format!("{{ port = {p}, access = {} }}", q(r.name()))),
            );
        }
        array(w, "net", net);
    }
    // A file as an absolute path, like the rootfs: the output loads the same from anywhere.
    let seccomp = match &s.seccomp {
        crate::confine::SeccompChoice::File(p) => {
            crate::settings::absolute(p).display().to_string()
        }
        other => other.name(),
    };
    let _ = writeln!(w, "\n[seccomp]\npath = {}", q(&seccomp));
    let argv: Vec<String> = s.argv.iter().map(|a| q(a)).collect();
    let _ = writeln!(w, "\n[command]\ncmdline = [{}]", argv.join(", "));
    if let Some(d) = &s.cwd {
        let _ = writeln!(w, "cwd = {}", qp(d));
    }
    o
}
