//! `doctor`, `completion` and `man`.

mod common;

use common::*;

#[test]
fn doctor_json_has_checks() {
    let out = hk(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).expect(&out.stdout);
    let names: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for want in [
        "user namespaces",
        "landlock",
        "pasta",
        "newuidmap",
        "newgidmap",
        "subuid",
        "subgid",
        "mount API",
        "openat2",
        "cgroup v2",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    let userns = &v.as_array().unwrap()[0];
    // The other tests need user namespaces, so here they must work.
    assert_eq!(userns["status"], "ok", "{userns}");
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn doctor_table() {
    let out = hk(&["doctor"]);
    out.ok();
    assert!(out.stdout.contains("user namespaces"));
    assert!(out.stdout.contains("landlock"));
}

#[test]
fn completions() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = hk(&["completion", shell]);
        out.ok();
        assert!(out.stdout.contains("hakoniwa"), "{shell}");
        assert!(out.stdout.contains("limit-walltime"), "{shell}");
    }
    assert_eq!(hk(&["completion", "tcsh"]).code, 2);
}

#[test]
fn man_pages() {
    let out = hk(&["man"]);
    out.ok();
    assert!(
        out.stdout.contains(".TH hakoniwa"),
        "{}",
        &out.stdout[..200.min(out.stdout.len())]
    );
    let out = hk(&["man", "run"]);
    out.ok();
    assert!(out.stdout.contains("bindmount\\-ro"), "{}", out.stdout);
    assert_eq!(hk(&["man", "nope"]).code, 1);
}

#[test]
fn version_and_help() {
    hk(&["--version"]).ok();
    let out = hk(&["run", "--help"]);
    out.ok();
    for flag in [
        "--unshare-all",
        "--rootdir",
        "--bindmount-ro",
        "--userns",
        "--landlock-fs-rx",
        "--seccomp",
        "--json-status",
    ] {
        assert!(out.stdout.contains(flag), "{flag}");
    }
}
