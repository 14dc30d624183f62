//! `doctor`, `completion` and `man`.

mod common;

use common::*;

#[test]
fn doctor_json_lists_every_check() {
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
fn doctor_prints_a_table() {
    let out = hk(&["doctor"]);
    out.ok();
    assert!(out.stdout.contains("user namespaces"));
    assert!(out.stdout.contains("landlock"));
}

#[test]
fn completions_are_printed_for_every_supported_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = hk(&["completion", shell]);
        out.ok();
        assert!(out.stdout.contains("hakoniwa"), "{shell}");
        assert!(out.stdout.contains("limit-walltime"), "{shell}");
    }
    assert_eq!(hk(&["completion", "tcsh"]).code, 2);
}

#[test]
fn completions_offer_values_for_network_seccomp_and_landlock_restrict() {
    let bash = hk(&["completion", "bash"]);
    bash.ok();
    for (flag, values) in [
        ("--network", "none host pasta"),
        ("--seccomp", "podman audit unconfined"),
        (
            "--landlock-restrict",
            "fs tcp.bind tcp.connect unix.abstract signal",
        ),
    ] {
        let case = format!("{flag})\n                    COMPREPLY=($(compgen -W \"{values}\"");
        assert!(
            bash.stdout.contains(&case),
            "{flag}: no {values:?} in the bash script"
        );
    }
    let fish = hk(&["completion", "fish"]);
    assert!(fish.stdout.contains("-l network -d"), "{}", fish.stdout);
    assert!(fish
        .stdout
        .contains("none\\t'a new network namespace with lo up'"));
    // Values outside the list are still accepted (pasta options, a seccomp file).
    let out = hk(&[
        "run",
        "--network",
        "pasta:-T,80",
        "--seccomp",
        "unconfined",
        "--",
        "true",
    ]);
    out.ok();
}

#[test]
fn man_pages_are_printed_for_hakoniwa_and_its_subcommands() {
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
fn the_man_page_has_exit_status_environment_files_examples_and_profiles() {
    for page in [&["man"][..], &["man", "run"][..]] {
        let out = hk(page);
        out.ok();
        for section in [
            ".SH \"EXIT STATUS\"",
            ".SH ENVIRONMENT",
            ".SH FILES",
            ".SH EXAMPLES",
            ".SH PROFILES",
        ] {
            assert!(out.stdout.contains(section), "{page:?} lacks {section}");
        }
        for code in ["125", "126", "127", "128+N"] {
            assert!(
                out.stdout.contains(&format!("\\fB{code}\\fR")),
                "{page:?}: {code}"
            );
        }
        assert!(
            out.stdout
                .contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
            "{page:?}: the default PATH"
        );
    }
}

#[test]
fn the_version_names_the_git_commit_it_was_built_from() {
    let out = hk(&["--version"]);
    out.ok();
    let line = out.stdout.trim();
    let want = format!("hakoniwa {} (git ", env!("CARGO_PKG_VERSION"));
    assert!(line.starts_with(&want) && line.ends_with(')'), "{line}");
    let commit = &line[want.len()..line.len() - 1];
    let head = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match head {
        Ok(h) if h.status.success() => {
            let head = String::from_utf8_lossy(&h.stdout);
            let short = commit.trim_end_matches("-dirty");
            assert!(
                head.starts_with(short),
                "--version says {commit}, HEAD is {head}"
            );
        }
        // No git here (or git refuses the tree, as for another user): check the form only.
        _ => assert!(
            commit == "unknown"
                || commit
                    .trim_end_matches("-dirty")
                    .chars()
                    .all(|c| c.is_ascii_hexdigit()),
            "{commit}"
        ),
    }
}

#[test]
fn verbose_before_the_subcommand_works_as_after_it() {
    for args in [
        &["-v", "run", "--", "true"][..],
        &["run", "-v", "--", "true"][..],
    ] {
        let out = hk(args);
        out.ok();
        assert!(
            out.stderr.contains("[hakoniwa] Unshare namespaces:"),
            "{args:?}: {}",
            out.stderr
        );
    }
    let out = hk(&["-q", "run", "--limit-walltime", "0.2", "--", "sleep", "1"]);
    assert_eq!(out.code, 137);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn version_works_and_help_lists_the_main_flags() {
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
