//! Compatibility with the original hakoniwa: its profile format, `-v` wording, setup error
//! lines, limits that bind only the program, and supplementary groups for `--user`.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/compat")
}

fn id(flag: &str) -> String {
    let o = std::process::Command::new("id").arg(flag).output().unwrap();
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Run `hakoniwa` from `dir` with the compat variables set.
fn hk_compat(dir: &Path, args: &[&str], stdin: &str) -> Out {
    let (uid, gid) = (id("-u"), id("-g"));
    hk_piped(
        dir,
        args,
        &[("HK_COMPAT_UID", &uid), ("HK_COMPAT_GID", &gid)],
        stdin,
    )
}

#[test]
fn every_profile_in_the_original_format_loads_and_runs() {
    let dir = compat_dir();
    let mut profiles: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    profiles.sort();
    assert!(profiles.len() >= 30, "{profiles:?}");
    let mut failed = Vec::new();
    for p in &profiles {
        let name = p.file_name().unwrap().to_str().unwrap();
        let mut args = vec!["run", "-c", s(p)];
        if name.starts_with("part-") {
            args.extend(["--", "/bin/sh", "-c", "echo ok"]);
        }
        let out = hk_compat(&dir, &args, "");
        if out.code != 0 || out.stdout.lines().last() != Some("ok") {
            failed.push(format!(
                "{name}: exit {}\nstdout:\n{}stderr:\n{}",
                out.code, out.stdout, out.stderr
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn a_resolved_profile_prints_as_a_profile_that_loads_back() {
    let dir = compat_dir();
    let p = dir.join("includes.toml");
    let first = hk_compat(&dir, &["run", "--print-config", "-c", s(&p)], "");
    first.ok();
    assert!(
        first
            .stdout
            .contains("{ name = \"A\", value = \"from-main\" }"),
        "{}",
        first.stdout
    );
    assert!(
        first.stdout.contains("network = { mode = \"host\" }"),
        "{}",
        first.stdout
    );
    // Loading the printed profile resolves to the same sandbox.
    let again = hk_compat(&dir, &["run", "--print-config", "-c", "-"], &first.stdout);
    again.ok();
    let again = again.stdout;
    assert_eq!(first.stdout, again);
}

#[test]
fn limits_bind_the_program_not_the_sandbox_setup() {
    // RLIMIT_NOFILE 2: the setup still opens what it needs; the program then fails on its
    // own, as it would outside a sandbox (the loader cannot open libc).
    for extra in [&[][..], &["--landlock-fs-rx", "/usr"][..]] {
        let mut a = vec!["run", "--limit-nofile", "2"];
        a.extend(extra);
        a.extend(["--", "/usr/bin/echo", "hi"]);
        let out = hk(&a);
        assert_eq!(out.code, 127, "{extra:?}: {}", out.stderr);
        assert!(
            out.stderr.contains("cannot open shared object file"),
            "{extra:?}: {}",
            out.stderr
        );
        assert!(!out.stderr.contains("setup failed"), "{}", out.stderr);
    }
    // The limit is in force for the program.
    let out = hk(&[
        "run",
        "--limit-nofile",
        "5",
        "--",
        "/bin/sh",
        "-c",
        "ulimit -n",
    ]);
    out.ok();
    assert_eq!(out.stdout.trim(), "5");
}

#[test]
fn setup_error_lines_end_with_the_error_text() {
    // Not executable (here: landlock allows no execution): 126, the original's line first.
    let out = hk(&["run", "--landlock-restrict=fs", "--", "/usr/bin/echo", "OK"]);
    assert_eq!(out.code, 126, "{}", out.stderr);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "hakoniwa: sandbox setup failed at stage exec (/usr/bin/echo, errno 13): Permission denied"
    );
    // Any other stage: the same shape, and a hint on a line of its own after it.
    let out = hk(&["run", "--user", "nobody", "--", "/bin/true"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "hakoniwa: sandbox setup failed at stage credentials (errno 22): Invalid argument"
    );
    assert!(lines[1].starts_with("hakoniwa: hint: "), "{}", out.stderr);
}

/// Rules of the Podman profile as the original counted them: one per name of every entry
/// that applies on x86_64 to a program without capabilities.
fn podman_rules() -> Option<usize> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/seccomp/podman.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let mut n = 0;
    for e in v["syscalls"].as_array()? {
        let list = |k: &str, f: &str| e[k][f].as_array().map_or(0, |a| a.len());
        let arches = |k: &str| {
            e[k]["arches"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "amd64"))
        };
        if list("includes", "caps") > 0
            || (list("includes", "arches") > 0 && !arches("includes"))
            || arches("excludes")
        {
            continue;
        }
        n += e["names"].as_array()?.len();
    }
    Some(n)
}

#[test]
fn verbose_lines_keep_the_original_wording_and_order() {
    let d = temp_dir("verbose");
    let out = hk_with(
        &[
            "run",
            "-v",
            "--tmpfs",
            "/tmp",
            "--devfs",
            "/dev",
            "-b",
            &format!("{}:/data", s(&d)),
            "-e",
            "A=1",
            "--limit-nofile",
            "64",
            "--landlock-fs-rx",
            "/usr",
            "--",
            "/usr/bin/echo",
            "hi",
        ],
        &[],
    );
    out.ok();
    let (uid, gid) = (id("-u"), id("-g"));
    let expected = [
        "Unshare namespaces: MOUNT, PID, USER".to_string(),
        "Mount:  <root>: tmpfs".to_string(),
        "Mount: bind_ro: /usr -> /usr".to_string(),
        "Mount:    proc: /proc".to_string(),
        format!("Mount: bind_ro: {} -> /data", s(&d)),
        "Mount:   devfs: /dev".to_string(),
        "Mount:   tmpfs: /tmp".to_string(),
        "FsOperation: symlink: /bin -> usr/bin".to_string(),
        format!("UID mapping: container_id: {uid}, host_id: {uid}, count: 1"),
        format!("GID mapping: container_id: {gid}, host_id: {gid}, count: 1"),
        "Env: A=1".to_string(),
        "Rlimit: nofile".to_string(),
        "Landlock: fs".to_string(),
        "Seccomp: Load ".to_string(),
        "Execve: \"/usr/bin/echo\", [\"hi\"]".to_string(),
        "Exited: ".to_string(),
    ];
    let mut at = 0;
    for e in &expected {
        match out.stderr[at..].find(&format!("] {e}")) {
            Some(i) => at += i,
            None => panic!("{e:?} missing or out of order in:\n{}", out.stderr),
        }
    }
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("Seccomp: Load "))
        .unwrap();
    assert!(
        line.ends_with(" rules for architectures(X32, X86, X8664)"),
        "{line}"
    );
    if let Some(n) = podman_rules() {
        assert!(
            line.contains(&format!("Seccomp: Load {} rules", n + 1)),
            "{line}"
        );
    }
}

/// A rootfs whose `/etc/group` lists root in several groups (one of them beyond the map).
fn rootfs_with_groups() -> TempDir {
    let d = temp_dir("groups");
    for l in ["bin", "lib", "lib64", "sbin"] {
        std::os::unix::fs::symlink(format!("usr/{l}"), d.join(l)).unwrap();
    }
    write(&d.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    write(
        &d.join("etc/group"),
        "root:x:0:\nadm:x:4:daemon,root\nwheel:x:10:root\nother:x:20:bob\nfar:x:900000:root\n",
    );
    let _ = std::process::Command::new("chmod")
        .args(["-R", "a+rX", s(&d)])
        .status();
    d
}

#[test]
fn user_root_gets_the_supplementary_groups_etc_group_lists() {
    let d = rootfs_with_groups();
    let root = rustix::process::geteuid().is_root();
    let maps: Vec<&str> = if root {
        vec!["-u", "0:100000:65536", "-g", "0:100000:65536"]
    } else {
        vec!["--userns", "auto"]
    };
    let mut a = vec!["run", "--rootfs", s(&d), "-b", "/usr"];
    a.extend(&maps);
    a.extend(["--user", "root", "--", "id", "-G"]);
    let out = hk(&a);
    out.ok();
    let mut groups: Vec<&str> = out.stdout.split_whitespace().collect();
    groups.sort();
    assert_eq!(groups, ["0", "10", "4"], "{}", out.stdout);
    // Explicit groups replace the lookup.
    let mut a = vec!["run", "--rootfs", s(&d), "-b", "/usr"];
    a.extend(&maps);
    a.extend(["--user", "root:root:wheel", "--", "id", "-G"]);
    let out = hk(&a);
    out.ok();
    assert_eq!(out.stdout.trim(), "0 10");
}

/// What the original's parser accepts (its keys, required keys and value types), as a
/// checklist: `None` on success, else what it would reject. `include` selects the smaller
/// set of keys the original allows in an included file.
fn original_format_error(v: &toml::Value, include: bool) -> Option<String> {
    use toml::Value as V;
    type Check = fn(&V) -> bool;
    let strings: Check = |v| v.as_array().is_some_and(|a| a.iter().all(V::is_str));
    // (key, required, check) per table kind.
    let fields = |kind: &str| -> &'static [(&'static str, bool, Check)] {
        match kind {
            "namespace" => &[
                ("type", true, |v| v.is_str()),
                ("share", false, |v| v.is_bool()),
            ],
            "mount" => &[
                ("source", true, |v| v.is_str()),
                ("destination", false, |v| v.is_str()),
                ("type", false, |v| {
                    matches!(v.as_str(), Some("" | "devfs" | "tmpfs"))
                }),
                ("rw", false, |v| v.is_bool()),
            ],
            "env" => &[
                ("name", true, |v| v.is_str()),
                ("value", false, |v| v.is_str()),
            ],
            "network" => &[
                ("mode", true, |v| {
                    matches!(v.as_str(), Some("none" | "host" | "pasta"))
                }),
                ("options", false, |v| {
                    v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str()))
                }),
            ],
            "file" => &[
                ("destination", true, |v| v.is_str()),
                ("contents", true, |v| v.is_str()),
            ],
            "dir" => &[("destination", true, |v| v.is_str())],
            "symlink" => &[
                ("original", true, |v| v.is_str()),
                ("link", true, |v| v.is_str()),
            ],
            "resource" => &[
                ("type", true, |v| {
                    matches!(v.as_str(), Some("fs" | "tcp.bind" | "tcp.connect"))
                }),
                ("unrestrict", false, |v| v.is_bool()),
            ],
            "fs-rule" => &[
                ("path", true, |v| v.is_str()),
                ("access", true, |v| {
                    v.as_str()
                        .is_some_and(|s| s.chars().all(|c| "rwxRWX-".contains(c)))
                }),
            ],
            "net-rule" => &[
                ("port", true, |v| {
                    v.as_integer().is_some_and(|p| (0..65536).contains(&p))
                }),
                ("access", true, |v| {
                    matches!(v.as_str(), Some("tcp.bind" | "tcp.connect"))
                }),
            ],
            "rootdir" => &[
                ("path", true, |v| v.is_str()),
                ("rw", false, |v| v.is_bool()),
            ],
            "idmap" => &[
                ("container_id", true, |v| v.is_integer()),
                ("host_id", false, |v| v.is_integer()),
                ("count", false, |v| v.is_integer()),
            ],
            "limit" => &[
                ("type", true, |v| {
                    matches!(
                        v.as_str(),
                        Some("as" | "core" | "cpu" | "fsize" | "nofile" | "walltime")
                    )
                }),
                ("value", true, |v| v.as_integer().is_some_and(|n| n >= 0)),
            ],
            "seccomp" => &[("path", false, |v| v.is_str())],
            "command" => &[
                ("cmdline", true, |v| {
                    v.as_array().is_some_and(|a| a.iter().all(|x| x.is_str()))
                }),
                ("cwd", false, |v| v.is_str()),
            ],
            _ => unreachable!("{kind}"),
        }
    };
    fn table(v: &V, kind: &str, spec: &[(&str, bool, Check)]) -> Option<String> {
        let t = v.as_table().map(Some).unwrap_or(None)?;
        for k in t.keys() {
            if !spec.iter().any(|(n, _, _)| n == k) {
                return Some(format!("{kind}: unknown key {k:?}"));
            }
        }
        for (n, required, check) in spec {
            match t.get(*n) {
                None if *required => return Some(format!("{kind}: missing {n:?}")),
                Some(x) if !check(x) => return Some(format!("{kind}: bad {n} {x}")),
                _ => {}
            }
        }
        None
    }
    let list = |v: &V, kind: &str| -> Option<String> {
        let Some(a) = v.as_array() else {
            return Some(format!("{kind}: not an array"));
        };
        a.iter().find_map(|x| match x.as_table() {
            Some(_) => table(x, kind, fields(kind)),
            None => Some(format!("{kind}: not a table: {x}")),
        })
    };
    let sub = |v: &V, kinds: &[(&str, &str)]| -> Option<String> {
        let t = v.as_table()?;
        for k in t.keys() {
            match kinds.iter().find(|(n, _)| n == k) {
                Some((_, kind)) => {
                    if let Some(e) = list(&t[k], kind) {
                        return Some(e);
                    }
                }
                None => return Some(format!("unknown key {k:?}")),
            }
        }
        None
    };
    let top = v.as_table()?;
    for (k, x) in top {
        let e = match k.as_str() {
            "namespaces" => list(x, "namespace"),
            "mounts" => list(x, "mount"),
            "envs" => list(x, "env"),
            "network" => table(x, "network", fields("network")),
            "filesystem" => sub(
                x,
                &[("files", "file"), ("dirs", "dir"), ("symlinks", "symlink")],
            ),
            "landlock" => sub(
                x,
                &[
                    ("resources", "resource"),
                    ("fs", "fs-rule"),
                    ("net", "net-rule"),
                ],
            ),
            _ if include => Some(format!("key {k:?} is not allowed in an included file")),
            "@include" => (!strings(x)).then(|| "@include: not a list of strings".to_string()),
            "rootdir" => table(x, "rootdir", fields("rootdir")),
            "uidmaps" | "gidmaps" => list(x, "idmap"),
            "hostname" => (!x.is_str()).then(|| "hostname: not a string".to_string()),
            "limits" => list(x, "limit"),
            "seccomp" => table(x, "seccomp", fields("seccomp")),
            "command" => table(x, "command", fields("command")),
            _ => Some(format!("unknown key {k:?}")),
        };
        if e.is_some() {
            return e;
        }
    }
    None
}

/// Each file's rendered text, from the `-vv` log of a run of `profile`.
fn rendered(dir: &Path, profile: &Path) -> Vec<(String, String)> {
    let out = hk_compat(
        dir,
        &["run", "-vv", "-c", s(profile), "--", "/bin/true"],
        "",
    );
    out.ok();
    out.stderr
        .split("\n[hakoniwa] ")
        .filter_map(|chunk| {
            chunk
                .trim_start_matches("[hakoniwa] ")
                .strip_prefix("CONFIG: rendered ")
        })
        .filter_map(|c| c.split_once(":\n"))
        .map(|(name, text)| (name.to_string(), text.to_string()))
        .collect()
}

#[test]
fn the_compat_and_shipped_profiles_use_only_the_original_format() {
    let compat = compat_dir();
    let shipped = profiles_dir();
    let mut files: Vec<PathBuf> = Vec::new();
    for d in [
        compat.clone(),
        shipped.join("abstractions"),
        shipped.join("examples"),
    ] {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "toml") {
                files.push(e.path());
            }
        }
    }
    let mut problems = Vec::new();
    for f in &files {
        for (name, text) in rendered(&compat, f) {
            let include = name.contains("/part-") || name.contains("/abstractions/");
            let v: toml::Value = match toml::from_str(&text) {
                Ok(v) => v,
                Err(e) => {
                    problems.push(format!("{name}: {e}"));
                    continue;
                }
            };
            if let Some(e) = original_format_error(&v, include) {
                problems.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(files.len() > 40);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_format_checklist_rejects_what_the_original_rejects() {
    let check =
        |text: &str, include: bool| original_format_error(&toml::from_str(text).unwrap(), include);
    assert_eq!(
        check("rootfs = \"/\"", false).unwrap(),
        "unknown key \"rootfs\""
    );
    assert!(check("hostname = \"h\"", true).is_some());
    assert!(check(
        "mounts = [{ destination = \"/dev\", type = \"devfs\" }]",
        true
    )
    .is_some());
    assert!(check("landlock = { resources = [\"fs\"] }", true).is_some());
    assert!(check(
        "landlock = { net = [{ port = 1, mode = \"tcp.bind\" }] }",
        true
    )
    .is_some());
    assert!(check("limits = [{ type = \"walltime\", value = 1.5 }]", false).is_some());
    assert!(check(
        "mounts = [{ source = \"\", destination = \"/dev\", type = \"devfs\" }]",
        true
    )
    .is_none());
}

#[test]
fn the_originals_landlock_restrict_flags_are_accepted() {
    let cat = ["--", "/usr/bin/cat", "/etc/passwd"];
    let run = |flags: &[&str]| {
        let mut a = vec!["run"];
        a.extend(flags);
        a.extend(cat);
        hk(&a)
    };
    // Restricted fs with only /usr allowed: /etc is out of reach.
    for flag in ["--landlock-restrict-fs", "--landlock-restrict-all"] {
        let out = run(&[flag, "--landlock-fs-rx", "/usr"]);
        assert_eq!(out.code, 1, "{flag}: {}", out.stderr);
        assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
    }
    // Only the network restricted: the file is readable, and a connect is not allowed.
    let out = run(&[
        "--landlock-restrict-tcp-bind",
        "--landlock-restrict-tcp-connect",
    ]);
    out.ok();
    let out = hk(&[
        "run",
        "--network",
        "none",
        "--landlock-restrict-tcp-connect",
        "--",
        "/usr/bin/python3",
        "-c",
        "import socket\ntry:\n socket.create_connection(('127.0.0.1', 9))\nexcept PermissionError:\n print('denied')",
    ]);
    out.ok();
    assert_eq!(out.stdout.trim(), "denied");
}

#[test]
fn the_documented_differences_from_the_original_hold() {
    // lo is up in a new network namespace: a loopback server and client work.
    let out = hk(&[
        "run",
        "--network",
        "none",
        "--",
        "/usr/bin/python3",
        "-c",
        "import socket\ns = socket.create_server(('127.0.0.1', 0))\nc = socket.create_connection(s.getsockname())\nprint('connected')",
    ]);
    out.ok();
    assert_eq!(out.stdout.trim(), "connected");
    // A rootdir is mounted nosuid (nodev: the mount helper's change, tested with it).
    let out = hk(&[
        "run",
        "--rootdir",
        "/",
        "--",
        "/bin/sh",
        "-c",
        "awk '$5 == \"/\" { print $6 }' /proc/self/mountinfo",
    ]);
    out.ok();
    let opts = out.stdout.lines().last().unwrap_or_default().to_string();
    assert!(opts.contains("nosuid"), "{}", out.stdout);
    // uid 0 inside has Podman's capabilities: no CAP_SYS_ADMIN to set the host name.
    let out = hk(&[
        "run",
        "--uidmap",
        "0",
        "--unshare-uts",
        "--",
        "/bin/sh",
        "-c",
        "hostname compat-name",
    ]);
    assert_ne!(out.code, 0, "{}", out.stdout);
    let out = hk(&[
        "run",
        "--uidmap",
        "0",
        "--hostname",
        "compat-name",
        "--",
        "hostname",
    ]);
    out.ok();
    assert_eq!(out.stdout.trim(), "compat-name");
}
