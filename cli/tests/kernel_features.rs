//! Kernels without a feature: the CLI runs inside an outer sandbox (no namespaces, so the
//! host's procfs stays fully visible) whose seccomp profile makes one system call fail the
//! way an older kernel or a container runtime would. Each case must either work through a
//! fallback or fail with a clear message naming the missing feature.
mod common;

use hakoniwa::seccomp::Seccomp;
use hakoniwa::Container;

/// Run `hakoniwa ARGS` with `deny` (OCI `syscalls` entries as JSON) applied around it.
fn run_without(deny: &str, args: &[&str]) -> (i32, String, String) {
    let json = format!(r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{deny}]}}"#);
    let mut outer = Container::empty();
    // As root the outer program is host root: keep CAP_SETFCAP, which the CLI inside needs
    // to map uid 0 in its user namespace (the outer sandbox only simulates the kernel).
    outer.runctl(hakoniwa::Runctl::AllowSetid);
    outer.seccomp(Seccomp::Oci {
        name: "simulated-old-kernel".into(),
        json,
    });
    let out = outer
        .command(common::bin())
        .args(args)
        .output()
        .expect("outer sandbox");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const ENOSYS: &str = r#""action":"SCMP_ACT_ERRNO","errnoRet":38"#;

#[test]
fn without_clone3_the_clone_fallback_is_used() {
    let (code, out, err) = run_without(
        &format!(r#"{{"names":["clone3"],{ENOSYS}}}"#),
        &["run", "--", "echo", "ok"],
    );
    assert_eq!((code, out.as_str()), (0, "ok\n"), "{err}");
}

#[test]
fn without_user_namespaces_the_error_says_why() {
    // clone3 unavailable, and clone with CLONE_NEWUSER refused, as with a sysctl or AppArmor
    // restriction on unprivileged user namespaces.
    let deny = format!(
        r#"{{"names":["clone3"],{ENOSYS}}},{{"names":["clone"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}}]}}"#
    );
    let (code, _, err) = run_without(&deny, &["run", "--", "true"]);
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("stage unshare") && err.contains("user namespaces"),
        "{err}"
    );
}

#[test]
fn without_the_new_mount_api_the_error_names_it() {
    let (code, _, err) = run_without(
        // Such a kernel has neither call (open_tree_attr came with Linux 6.15).
        &format!(r#"{{"names":["open_tree","open_tree_attr"],{ENOSYS}}}"#),
        &["run", "--", "true"],
    );
    assert_eq!(code, 125, "{err}");
    assert!(
        err.contains("stage mount-source") && err.contains("new mount API"),
        "{err}"
    );
}

#[test]
fn without_openat2_the_error_names_it() {
    let (code, _, err) = run_without(
        &format!(r#"{{"names":["openat2"],{ENOSYS}}}"#),
        &["run", "--", "true"],
    );
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("openat2"), "{err}");
}

#[test]
fn without_landlock_a_requested_ruleset_is_an_error() {
    let deny = format!(
        r#"{{"names":["landlock_create_ruleset","landlock_add_rule","landlock_restrict_self"],{ENOSYS}}}"#
    );
    let (code, _, err) = run_without(&deny, &["run", "--landlock-fs-rx", "/usr", "--", "true"]);
    assert_ne!(code, 0, "{err}");
    assert!(err.contains("landlock"), "{err}");
    // Without landlock flags nothing needs it.
    let (code, _, err) = run_without(&deny, &["run", "--", "true"]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn without_seccomp_filters_the_error_names_the_stage() {
    let (code, _, err) = run_without(
        r#"{"names":["seccomp"],"action":"SCMP_ACT_ERRNO","errnoRet":22}"#,
        &["run", "--", "true"],
    );
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("stage seccomp"), "{err}");
    let (code, _, err) = run_without(
        r#"{"names":["seccomp"],"action":"SCMP_ACT_ERRNO","errnoRet":22}"#,
        &["run", "--seccomp", "unconfined", "--", "true"],
    );
    assert_eq!(code, 0, "{err}");
}

/// The README's troubleshooting section quotes, line by line, what a user sees on a kernel
/// that refuses unprivileged user namespaces and on one without landlock.
#[test]
fn the_readme_quotes_the_messages_of_kernels_without_a_feature() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("README.md");
    let no_userns = format!(
        r#"{{"names":["clone3"],{ENOSYS}}},{{"names":["clone"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{{"index":0,"value":268435456,"valueTwo":268435456,"op":"SCMP_CMP_MASKED_EQ"}}]}}"#
    );
    let no_landlock = format!(
        r#"{{"names":["landlock_create_ruleset","landlock_add_rule","landlock_restrict_self"],{ENOSYS}}}"#
    );
    let runs: Vec<(String, String)> = [
        (no_userns, &["run", "--", "true"][..]),
        (
            no_landlock,
            &["run", "--landlock-fs-rx", "/usr", "--", "true"][..],
        ),
    ]
    .into_iter()
    .map(|(deny, args)| {
        let (code, _, err) = run_without(&deny, args);
        assert_ne!(code, 0, "{err}");
        (args.join(" "), err)
    })
    .collect();
    for (args, err) in &runs {
        eprintln!("hakoniwa {args}:\n{err}");
    }
    for (args, err) in &runs {
        for line in err.lines() {
            assert!(
                readme.contains(line),
                "README.md does not quote this line of `hakoniwa {args}`:\n{line}"
            );
        }
    }
}
