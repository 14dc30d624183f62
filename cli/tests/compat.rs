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
    hk_in(
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
    let out = hk(&["run", "--landlock-restrict=fs", "--", "/usr/bin/echo", "OK"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    let first = out.stderr.lines().next().unwrap_or_default();
    assert_eq!(
        first,
        "hakoniwa: sandbox setup failed at stage exec (/usr/bin/echo, errno 13): Permission denied"
    );
    // A hint comes on its own line, after the error.
    let out = hk(&["run", "--rootfs", "none", "--", "/bin/true"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines[0],
        "hakoniwa: sandbox setup failed at stage exec (/bin/true, errno 2): No such file or directory"
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
    let d = scratch("verbose");
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
    let _ = std::fs::remove_dir_all(&d);
}

/// A rootfs whose `/etc/group` lists root in several groups (one of them beyond the map).
fn rootfs_with_groups() -> PathBuf {
    let d = scratch("groups");
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
    let _ = std::fs::remove_dir_all(&d);
}
