//! `run --print-config` (`--dry-run`): the resolved sandbox, written as a profile in the
//! original's format (plus our extensions) that `-c -` loads back. What is not a profile
//! key (the mounts a `rootfs` makes, capabilities) is written as comments.

use std::fmt::Write as _;
use std::path::Path;

use hakoniwa::Namespace;

use crate::config::LandlockResource;
use crate::run::{Mount, Network, Settings};
use crate::verbose;

fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn qp(p: &Path) -> String {
    q(&p.display().to_string())
}

/// The profile text for `s`: `unshared` are the namespaces the sandbox gets, `rootfs` the
/// directory the root is populated from.
pub fn render(s: &Settings, unshared: &[Namespace], rootfs: Option<&Path>) -> String {
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
        Some(r) => {
            let _ = writeln!(w, "rootfs = {}", q(r));
        }
        None if s.rootdir.is_none() => {
            let _ = writeln!(w, "rootfs = \"/\"");
        }
        None => {}
    }
    if let Some(r) = rootfs {
        let _ = writeln!(w, "# The root gets from {}:", r.display());
        for (n, link) in verbose::rootfs_entries(r) {
            let _ = match link {
                Some(t) => writeln!(w, "#   symlink /{n} -> {}", t.display()),
                None => writeln!(w, "#   bind_ro {} -> /{n}", r.join(&n).display()),
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
    let _ = writeln!(w, "\nnamespaces = [");
    for (ns, on) in &s.namespaces {
        let name = format!("{ns:?}").to_lowercase();
        let _ = writeln!(w, "  {{ type = {}, share = {} }},", q(&name), !on);
    }
    let _ = writeln!(w, "]");
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
    let _ = writeln!(w, "mounts = [");
    for m in &s.mounts {
        let _ = match m {
            Mount::Bind { source, target, rw } => writeln!(
                w,
                "  {{ source = {}, destination = {}, rw = {rw} }},",
                qp(source),
                qp(target)
            ),
            Mount::Devfs(t) => writeln!(
                w,
                "  {{ source = \"\", destination = {}, type = \"devfs\" }},",
                qp(t)
            ),
            Mount::Tmpfs(t) => writeln!(
                w,
                "  {{ source = \"\", destination = {}, type = \"tmpfs\" }},",
                qp(t)
            ),
        };
    }
    let _ = writeln!(w, "]");
    for (key, maps) in [("uidmaps", &s.uidmaps), ("gidmaps", &s.gidmaps)] {
        let _ = writeln!(w, "{key} = [");
        for (c, h, n) in maps {
            let _ = writeln!(w, "  {{ container_id = {c}, host_id = {h}, count = {n} }},");
        }
        let _ = writeln!(w, "]");
    }
    let _ = writeln!(w, "limits = [");
    for (r, v) in &s.limits {
        let value = if *v == hakoniwa::RLIM_INFINITY {
            "\"unlimited\"".to_string()
        } else {
            v.to_string()
        };
        let _ = writeln!(w, "  {{ type = {}, value = {value} }},", q(r.name()));
    }
    if let Some(t) = s.walltime {
        let secs = t.as_secs_f64();
        let value = if secs.fract() == 0.0 {
            format!("{}", t.as_secs())
        } else {
            format!("{secs}")
        };
        let _ = writeln!(w, "  {{ type = \"walltime\", value = {value} }},");
    }
    let _ = writeln!(w, "]");
    let _ = writeln!(w, "envs = [");
    for (k, v) in &s.envs {
        let _ = writeln!(w, "  {{ name = {}, value = {} }},", q(k), q(v));
    }
    let _ = writeln!(w, "]");
    if !(s.dirs.is_empty() && s.files.is_empty() && s.symlinks.is_empty()) {
        let _ = writeln!(w, "\n[filesystem]");
        let _ = writeln!(w, "dirs = [");
        for (d, mode) in &s.dirs {
            let _ = writeln!(w, "  {{ destination = {}, mode = 0o{mode:o} }},", qp(d));
        }
        let _ = writeln!(w, "]\nfiles = [");
        for (f, contents) in &s.files {
            let _ = writeln!(
                w,
                "  {{ destination = {}, contents = {} }},",
                qp(f),
                q(contents)
            );
        }
        let _ = writeln!(w, "]\nsymlinks = [");
        for (orig, link) in &s.symlinks {
            let _ = writeln!(w, "  {{ original = {}, link = {} }},", qp(orig), qp(link));
        }
        let _ = writeln!(w, "]");
    }
    let ll = &s.landlock;
    let _ = writeln!(w, "\n[landlock]\nresources = [");
    for r in &ll.restrict {
        let _ = writeln!(w, "  {{ type = {} }},", q(r.name()));
    }
    for r in ll.unrestricted.iter().filter(|r| !ll.restrict.contains(r)) {
        let _ = writeln!(w, "  {{ type = {}, unrestrict = true }},", q(r.name()));
    }
    let _ = writeln!(w, "]\nfs = [");
    for (p, a) in &ll.fs {
        let _ = writeln!(
            w,
            "  {{ path = {}, access = {} }},",
            qp(p),
            q(&a.mode_string())
        );
    }
    let _ = writeln!(w, "]\nnet = [");
    for (ports, r) in [
        (&ll.tcp_bind, LandlockResource::TcpBind),
        (&ll.tcp_connect, LandlockResource::TcpConnect),
    ] {
        for p in ports {
            let _ = writeln!(w, "  {{ port = {p}, access = {} }},", q(r.name()));
        }
    }
    let _ = writeln!(w, "]");
    let _ = writeln!(w, "\n[seccomp]\npath = {}", q(&s.seccomp.name()));
    let argv: Vec<String> = s.argv.iter().map(|a| q(a)).collect();
    let _ = writeln!(w, "\n[command]\ncmdline = [{}]", argv.join(", "));
    if let Some(d) = &s.cwd {
        let _ = writeln!(w, "cwd = {}", qp(d));
    }
    o
}
