//! `hakoniwa_container_from_json`: a container described by one JSON document, version 1
//! (documented in `docs/container.md`). Unknown fields are errors, so a typo is never
//! silently ignored; every error names the field.

use std::ffi::{c_char, c_int};

use serde_json::{Map, Value};

use hakoniwa::landlock::Ruleset;
use hakoniwa::seccomp::Seccomp;
use hakoniwa::{Container, Network, Pasta};

use crate::args::{out, text};
use crate::container::{hakoniwa_container_t, seccomp_by_name};
use crate::error::{guard_code, Failure, Result};
use crate::handles::new_handle;

fn bad(field: &str, why: impl std::fmt::Display) -> Failure {
    Failure::invalid(format!("container JSON: {field}: {why}"))
}

fn object<'a>(v: &'a Value, field: &str, keys: &[&str]) -> Result<&'a Map<String, Value>> {
    let m = v
        .as_object()
        .ok_or_else(|| bad(field, "expected an object"))?;
    if let Some(k) = m.keys().find(|k| !keys.contains(&k.as_str())) {
        return Err(bad(
            field,
            format!("unknown field {k:?} (known: {})", keys.join(", ")),
        ));
    }
    Ok(m)
}

fn string<'a>(v: &'a Value, field: &str) -> Result<&'a str> {
    let s = v.as_str().ok_or_else(|| bad(field, "expected a string"))?;
    if s.contains('\0') {
        return Err(bad(field, "contains a NUL byte"));
    }
    Ok(s)
}

fn uint(v: &Value, field: &str, max: u64) -> Result<u64> {
    v.as_u64()
        .filter(|n| *n <= max)
        .ok_or_else(|| bad(field, format!("expected an integer 0..={max}")))
}

fn array<'a>(v: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    v.as_array().ok_or_else(|| bad(field, "expected an array"))
}

fn boolean(v: &Value, field: &str) -> Result<bool> {
    v.as_bool()
        .ok_or_else(|| bad(field, "expected true or false"))
}

fn maps(v: &Value, field: &str) -> Result<Vec<(u32, u32, u32)>> {
    let max = u32::MAX as u64;
    array(v, field)?
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let f = format!("{field}[{i}]");
            let t = array(m, &f)?;
            if t.len() != 3 {
                return Err(bad(&f, "expected [container_id, host_id, count]"));
            }
            Ok((
                uint(&t[0], &f, max)? as u32,
                uint(&t[1], &f, max)? as u32,
                uint(&t[2], &f, max)? as u32,
            ))
        })
        .collect()
}

fn mount(c: &mut Container, v: &Value, f: &str) -> Result<()> {
    let kind = v
        .get("type")
        .map(|t| string(t, &format!("{f}.type")))
        .transpose()?
        .ok_or_else(|| bad(f, "missing \"type\""))?;
    let field = |k: &str| format!("{f}.{k}");
    let get = |m: &Map<String, Value>, k: &str| -> Result<String> {
        m.get(k)
            .ok_or_else(|| bad(f, format!("missing {k:?}")))
            .and_then(|x| string(x, &field(k)).map(str::to_string))
    };
    match kind {
        "bind" => {
            let m = object(v, f, &["type", "source", "target", "readonly"])?;
            let source = get(m, "source")?;
            let target = m.get("target").map_or(Ok(source.clone()), |t| {
                string(t, &field("target")).map(str::to_string)
            })?;
            match m
                .get("readonly")
                .map(|r| boolean(r, &field("readonly")))
                .transpose()?
            {
                Some(false) => c.bindmount_rw(source, target),
                _ => c.bindmount_ro(source, target),
            };
        }
        "tmpfs" => {
            let m = object(v, f, &["type", "target", "size", "mode"])?;
            let size = m
                .get("size")
                .map(|s| uint(s, &field("size"), u64::MAX))
                .transpose()?;
            let mode = m
                .get("mode")
                .map(|s| uint(s, &field("mode"), 0o7777))
                .transpose()?;
            c.tmpfsmount_with(get(m, "target")?, size, mode.map(|x| x as u32));
        }
        "proc" => {
            let m = object(v, f, &["type", "target"])?;
            c.procfsmount(get(m, "target")?);
        }
        "devfs" => {
            let m = object(v, f, &["type", "target"])?;
            c.devfsmount(get(m, "target")?);
        }
        "dir" => {
            let m = object(v, f, &["type", "target", "mode"])?;
            let mode = m
                .get("mode")
                .map(|s| uint(s, &field("mode"), 0o7777))
                .transpose()?;
            c.dir(get(m, "target")?, mode.unwrap_or(0o755) as u32);
        }
        "file" => {
            let m = object(v, f, &["type", "target", "contents"])?;
            let contents = m
                .get("contents")
                .map(|x| string(x, &field("contents")))
                .transpose()?;
            c.file(get(m, "target")?, contents.unwrap_or(""));
        }
        "symlink" => {
            let m = object(v, f, &["type", "original", "target"])?;
            c.symlink(get(m, "original")?, get(m, "target")?);
        }
        other => {
            return Err(bad(
                &field("type"),
                format!(
                    "unknown mount type {other:?} (bind, tmpfs, proc, devfs, dir, file, symlink)"
                ),
            ))
        }
    }
    Ok(())
}

fn compat(v: &Value, f: &str) -> Result<hakoniwa::landlock::CompatMode> {
    use hakoniwa::landlock::CompatMode;
    match string(v, f)? {
        "enforce" => Ok(CompatMode::Enforce),
        "best_effort" => Ok(CompatMode::BestEffort),
        other => Err(bad(
            f,
            format!("unknown mode {other:?} (enforce, best_effort)"),
        )),
    }
}

fn landlock(v: &Value) -> Result<Ruleset> {
    use hakoniwa::landlock::{FsAccess, Resource, Scope};
    let f = "landlock";
    let m = object(v, f, &["restrict", "fs_rules", "net_rules", "scopes"])?;
    let resource = |s: &str, field: &str| match s {
        "fs" => Ok(Resource::Fs),
        "tcp_bind" => Ok(Resource::TcpBind),
        "tcp_connect" => Ok(Resource::TcpConnect),
        other => Err(bad(
            field,
            format!("unknown resource {other:?} (fs, tcp_bind, tcp_connect)"),
        )),
    };
    let mut r = Ruleset::new();
    if let Some(res) = m.get("restrict") {
        for (k, mode) in object(res, "landlock.restrict", &["fs", "tcp_bind", "tcp_connect"])? {
            let field = format!("landlock.restrict.{k}");
            r.restrict(resource(k, &field)?, compat(mode, &field)?);
        }
    }
    if let Some(rules) = m.get("fs_rules") {
        for (i, rule) in array(rules, "landlock.fs_rules")?.iter().enumerate() {
            let field = format!("landlock.fs_rules[{i}]");
            let o = object(rule, &field, &["path", "access"])?;
            let path = string(
                o.get("path")
                    .ok_or_else(|| bad(&field, "missing \"path\""))?,
                &field,
            )?;
            let acc = string(
                o.get("access")
                    .ok_or_else(|| bad(&field, "missing \"access\""))?,
                &field,
            )?;
            let mut a = FsAccess::empty();
            for ch in acc.chars() {
                a |= match ch {
                    'r' => FsAccess::R,
                    'w' => FsAccess::W,
                    'x' => FsAccess::X,
                    _ => return Err(bad(&field, format!("access {acc:?}: use r, w, x"))),
                };
            }
            r.add_fs_rule(path, a);
        }
    }
    if let Some(rules) = m.get("net_rules") {
        for (i, rule) in array(rules, "landlock.net_rules")?.iter().enumerate() {
            let field = format!("landlock.net_rules[{i}]");
            let o = object(rule, &field, &["port", "resource"])?;
            let port = uint(
                o.get("port")
                    .ok_or_else(|| bad(&field, "missing \"port\""))?,
                &field,
                65535,
            )?;
            let res = string(
                o.get("resource")
                    .ok_or_else(|| bad(&field, "missing \"resource\""))?,
                &field,
            )?;
            r.add_net_rule(port as u16, resource(res, &field)?);
        }
    }
    if let Some(scopes) = m.get("scopes") {
        for (k, mode) in object(
            scopes,
            "landlock.scopes",
            &["abstract_unix_socket", "signal"],
        )? {
            let field = format!("landlock.scopes.{k}");
            let s = if k == "signal" {
                Scope::Signal
            } else {
                Scope::AbstractUnixSocket
            };
            r.scope(s, compat(mode, &field)?);
        }
    }
    Ok(r)
}

fn seccomp(v: &Value) -> Result<Seccomp> {
    let f = "seccomp";
    if let Some(name) = v.as_str() {
        return seccomp_by_name(name).map_err(|e| bad(f, e.message));
    }
    let m = object(v, f, &["name", "oci", "file"])?;
    match (m.get("oci"), m.get("file")) {
        (Some(oci), None) => {
            let json = match oci {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let name = m
                .get("name")
                .map(|n| string(n, "seccomp.name"))
                .transpose()?;
            Ok(Seccomp::Oci {
                name: name.unwrap_or("inline").to_string(),
                json,
            })
        }
        (None, Some(file)) => {
            let path = string(file, "seccomp.file")?;
            let json = std::fs::read_to_string(path)
                .map_err(|e| Failure::io(&format!("seccomp.file {path}"), e))?;
            let name = m
                .get("name")
                .map(|n| string(n, "seccomp.name"))
                .transpose()?;
            Ok(Seccomp::Oci {
                name: name.unwrap_or(path).to_string(),
                json,
            })
        }
        _ => Err(bad(
            f,
            "give a profile name, or an object with exactly one of \"oci\", \"file\"",
        )),
    }
}

fn caps(v: &Value, field: &str) -> Result<Vec<u32>> {
    array(v, field)?
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let f = format!("{field}[{i}]");
            let name = string(c, &f)?;
            hakoniwa::caps::from_name(name)
                .ok_or_else(|| bad(&f, format!("unknown capability {name:?}")))
        })
        .collect()
}

fn network(c: &mut Container, v: &Value) -> Result<()> {
    match v {
        Value::String(s) if s == "none" => c.network(Network::None),
        Value::String(s) if s == "host" => c.network(Network::Host),
        Value::Object(_) => {
            let m = object(v, "network", &["pasta"])?;
            let p = m
                .get("pasta")
                .ok_or_else(|| bad("network", "expected {\"pasta\": {...}}"))?;
            let o = object(p, "network.pasta", &["program", "args"])?;
            let mut pasta = Pasta::new();
            if let Some(prog) = o.get("program") {
                pasta.program(string(prog, "network.pasta.program")?);
            }
            if let Some(args) = o.get("args") {
                let list = array(args, "network.pasta.args")?
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        string(a, &format!("network.pasta.args[{i}]")).map(str::to_string)
                    })
                    .collect::<Result<Vec<_>>>()?;
                pasta.args(list);
            }
            c.network(pasta)
        }
        _ => {
            return Err(bad(
                "network",
                "expected \"none\", \"host\" or {\"pasta\": {...}}",
            ))
        }
    };
    Ok(())
}

const FIELDS: &[&str] = &[
    "version",
    "base",
    "namespaces",
    "share",
    "uidmaps",
    "gidmaps",
    "hostname",
    "rlimits",
    "rootfs",
    "rootdir",
    "mounts",
    "landlock",
    "seccomp",
    "capabilities",
    "cap_add",
    "cap_drop",
    "network",
    "user",
    "runctl",
    "init",
];

/// A container from one JSON document (schema: `docs/container.md`, version 1), so that
/// bindings reach every option without new symbols. On success `*result` is a new
/// container; on error (`HAKONIWA_ERROR_INVALID_ARGUMENT`) the message names the offending
/// field.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_container_from_json(
    json: *const c_char,
    result: *mut *mut hakoniwa_container_t,
) -> c_int {
    guard_code(|| {
        let result = out(result, "result")?;
        let c = container(text(json, "json")?)?;
        *result = new_handle(c);
        Ok(())
    })
}

/// Parse a version-1 container document.
pub(crate) fn container(json: &str) -> Result<hakoniwa_container_t> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| Failure::invalid(format!("container JSON: {e}")))?;
    let m = object(&doc, "(document)", FIELDS)?;
    match m.get("version").and_then(Value::as_u64) {
        Some(1) => {}
        _ => return Err(bad("version", "expected 1 (the only version so far)")),
    }
    let mut c = match m.get("base").map(|b| string(b, "base")).transpose()? {
        // Peak memory on, as for hakoniwa_container_new (see there).
        None | Some("default") => {
            let mut c = Container::new();
            c.peak_memory(true);
            c
        }
        Some("empty") => {
            let mut c = Container::empty();
            c.peak_memory(true);
            c
        }
        Some(other) => {
            return Err(bad(
                "base",
                format!("unknown base {other:?} (default, empty)"),
            ))
        }
    };
    let ns_list = |key: &str| -> Result<Vec<hakoniwa::Namespace>> {
        m.get(key).map_or(Ok(Vec::new()), |v| {
            array(v, key)?
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let f = format!("{key}[{i}]");
                    let s = string(n, &f)?;
                    hakoniwa::Namespace::from_name(s)
                        .ok_or_else(|| bad(&f, format!("unknown namespace {s:?}")))
                })
                .collect()
        })
    };
    for ns in ns_list("namespaces")? {
        c.unshare(ns);
    }
    for ns in ns_list("share")? {
        c.share(ns);
    }
    if let Some(v) = m.get("uidmaps") {
        c.uidmaps(&maps(v, "uidmaps")?);
    }
    if let Some(v) = m.get("gidmaps") {
        c.gidmaps(&maps(v, "gidmaps")?);
    }
    if let Some(v) = m.get("hostname") {
        c.hostname(string(v, "hostname")?);
    }
    if let Some(v) = m.get("rlimits") {
        let o = v
            .as_object()
            .ok_or_else(|| bad("rlimits", "expected an object"))?;
        for (k, lim) in o {
            let f = format!("rlimits.{k}");
            let r = hakoniwa::Rlimit::from_name(k).ok_or_else(|| bad(&f, "unknown resource"))?;
            let (soft, hard) = match lim {
                Value::Array(a) if a.len() == 2 => {
                    (uint(&a[0], &f, u64::MAX)?, uint(&a[1], &f, u64::MAX)?)
                }
                Value::Null => (u64::MAX, u64::MAX),
                other => {
                    let n = uint(other, &f, u64::MAX)?;
                    (n, n)
                }
            };
            c.setrlimit(r, soft, hard);
        }
    }
    if let Some(v) = m.get("rootfs") {
        c.rootfs(string(v, "rootfs")?);
    }
    if let Some(v) = m.get("rootdir") {
        let o = object(v, "rootdir", &["path", "rw"])?;
        let path = string(
            o.get("path")
                .ok_or_else(|| bad("rootdir", "missing \"path\""))?,
            "rootdir.path",
        )?;
        let rw = o
            .get("rw")
            .map(|x| boolean(x, "rootdir.rw"))
            .transpose()?
            .unwrap_or(false);
        c.rootdir(path, rw);
    }
    if let Some(v) = m.get("mounts") {
        for (i, mnt) in array(v, "mounts")?.iter().enumerate() {
            mount(&mut c, mnt, &format!("mounts[{i}]"))?;
        }
    }
    let ruleset = m.get("landlock").map(landlock).transpose()?;
    if let Some(r) = &ruleset {
        c.landlock(r.clone());
    }
    if let Some(v) = m.get("seccomp") {
        c.seccomp(seccomp(v)?);
    }
    if let Some(v) = m.get("capabilities") {
        c.capabilities(
            caps(v, "capabilities")?
                .iter()
                .fold(0, |m, n| m | 1u64 << n),
        );
    }
    for n in m
        .get("cap_add")
        .map(|v| caps(v, "cap_add"))
        .transpose()?
        .unwrap_or_default()
    {
        c.cap_add(n);
    }
    for n in m
        .get("cap_drop")
        .map(|v| caps(v, "cap_drop"))
        .transpose()?
        .unwrap_or_default()
    {
        c.cap_drop(n);
    }
    if let Some(v) = m.get("network") {
        network(&mut c, v)?;
    }
    if let Some(v) = m.get("user") {
        let o = object(v, "user", &["uid", "gid", "groups"])?;
        let id = |k: &str| -> Result<u32> {
            let f = format!("user.{k}");
            o.get(k)
                .ok_or_else(|| bad("user", format!("missing {k:?}")))
                .and_then(|x| uint(x, &f, u32::MAX as u64))
                .map(|x| x as u32)
        };
        let groups = o
            .get("groups")
            .map(|g| {
                array(g, "user.groups")?
                    .iter()
                    .map(|x| uint(x, "user.groups", u32::MAX as u64).map(|x| x as u32))
                    .collect::<Result<Vec<u32>>>()
            })
            .transpose()?;
        c.user(id("uid")?, id("gid")?, groups.as_deref());
    }
    if let Some(v) = m.get("runctl") {
        for (i, r) in array(v, "runctl")?.iter().enumerate() {
            let f = format!("runctl[{i}]");
            c.runctl(match string(r, &f)? {
                "allow_new_privs" => hakoniwa::Runctl::AllowNewPrivs,
                "rootdir_rw" => hakoniwa::Runctl::RootdirRW,
                "allow_setid" => hakoniwa::Runctl::AllowSetid,
                other => {
                    return Err(bad(
                        &f,
                        format!(
                            "unknown runctl {other:?} (allow_new_privs, rootdir_rw, allow_setid)"
                        ),
                    ))
                }
            });
        }
    }
    if let Some(v) = m.get("init") {
        c.init(boolean(v, "init")?);
    }
    let mut out = hakoniwa_container_t::new(c);
    if let Some(r) = ruleset {
        out.landlock = r;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(json: &str) -> String {
        match container(json) {
            Ok(_) => panic!("accepted: {json}"),
            Err(e) => e.message,
        }
    }

    #[test]
    fn a_full_document_is_accepted() {
        let doc = r#"{
            "version": 1, "base": "default", "namespaces": ["ipc", "uts"], "share": ["uts"],
            "uidmaps": [[0, 1000, 1]], "hostname": "box", "rlimits": {"nofile": [64, 64], "cpu": 5},
            "rootfs": "/", "mounts": [
                {"type": "bind", "source": "/usr", "target": "/usr", "readonly": true},
                {"type": "tmpfs", "target": "/tmp", "size": 1048576},
                {"type": "devfs", "target": "/dev"}, {"type": "dir", "target": "/d", "mode": 448},
                {"type": "file", "target": "/f", "contents": "x"},
                {"type": "symlink", "original": "/f", "target": "/g"}],
            "landlock": {"restrict": {"fs": "enforce", "tcp_bind": "best_effort"},
                         "fs_rules": [{"path": "/usr", "access": "rx"}],
                         "net_rules": [{"port": 8080, "resource": "tcp_bind"}],
                         "scopes": {"signal": "enforce"}},
            "seccomp": "audit", "cap_add": ["CAP_NET_ADMIN"], "cap_drop": ["kill"],
            "network": "none", "user": {"uid": 0, "gid": 0}, "runctl": ["allow_new_privs"],
            "init": false
        }"#;
        container(doc).unwrap_or_else(|e| panic!("{}", e.message));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_named() {
        assert!(err(r#"{"version": 1, "hostnme": "x"}"#).contains("hostnme"));
        assert!(err(r#"{"version": 2}"#).contains("version"));
        assert!(err(r#"{"version": 1, "mounts": [{"type": "bind"}]}"#).contains("mounts[0]"));
        assert!(err(r#"{"version": 1, "rlimits": {"bogus": 1}}"#).contains("rlimits.bogus"));
        assert!(err(r#"{"version": 1, "cap_add": ["NOPE"]}"#).contains("cap_add[0]"));
        assert!(
            err(r#"{"version": 1, "landlock": {"fs_rules": [{"path": "/", "access": "q"}]}}"#)
                .contains("landlock.fs_rules[0]")
        );
        assert!(err("not json").contains("container JSON"));
    }

    #[test]
    fn an_embedded_nul_is_refused() {
        assert!(err(r#"{"version": 1, "rootfs": "/us\u0000r"}"#).contains("NUL"));
    }
}
