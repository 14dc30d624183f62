//! Landlock through the whole spawn path: rules resolve inside the sandbox (issue 4).
mod common;

use common::*;
use hakoniwa::landlock::{CompatMode, FsAccess, Resource, Ruleset};
use hakoniwa::{Error, Stage};

fn confined(rules: &[(&str, FsAccess)]) -> hakoniwa::Container {
    let mut r = Ruleset::new();
    r.restrict(Resource::Fs, CompatMode::Enforce);
    for (p, a) in rules {
        r.add_fs_rule(*p, *a);
    }
    let mut c = sandbox();
    c.tmpfsmount("/tmp").landlock(r);
    c
}

#[test]
fn landlock_rules_apply_to_paths_inside_the_sandbox() {
    let rx = FsAccess::R | FsAccess::X;
    let c = confined(&[
        ("/usr", rx),
        ("/etc", FsAccess::R),
        ("/tmp", FsAccess::R | FsAccess::W),
    ]);
    let (code, out, err) = sh(
        &c,
        "echo ok > /tmp/f && cat /tmp/f; ls /proc >/dev/null 2>&1 || echo proc-denied",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "ok\nproc-denied\n");
}

#[test]
fn landlock_missing_rule_path_is_a_setup_error_naming_it() {
    let c = confined(&[
        ("/usr", FsAccess::R | FsAccess::X),
        ("/not/here", FsAccess::R),
    ]);
    let err = c.command("/bin/true").status().unwrap_err();
    match &err {
        Error::Setup {
            stage: Stage::Landlock,
            target,
            errno: 2,
        } => assert_eq!(target.as_deref(), Some("/not/here")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn landlock_rule_without_restriction_is_an_error() {
    let mut r = Ruleset::new();
    r.add_fs_rule("/usr", FsAccess::R);
    let mut c = sandbox();
    c.landlock(r);
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                field: "landlock",
                ..
            }
        ),
        "{err:?}"
    );
}
