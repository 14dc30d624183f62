//! Exit codes, one test per documented case: 1 for everything the user wrote wrong (found
//! before or during setup), 2 for usage, 125 for other setup failures, 126 not executable,
//! 127 not found (the 126/127 cases are in lookup.rs).

mod common;

use common::*;

/// Runs `hakoniwa run ARGS -- true` and checks exit 1 and a message containing `says`.
fn user_error(args: &[&str], says: &str) {
    let mut a = vec!["run"];
    a.extend(args);
    a.extend(["--", "true"]);
    let out = hk(&a);
    assert_eq!(out.code, 1, "{a:?}: {}", out.stderr);
    assert!(out.stderr.contains(says), "{a:?}: {}", out.stderr);
    assert!(!out.stderr.contains("setup failed"), "{}", out.stderr);
}

#[test]
fn a_bind_target_with_dot_dot_is_a_user_error() {
    user_error(&["-b", "/tmp:/usr/../x"], "'..'");
}

#[test]
fn a_tmpfs_on_the_root_is_a_user_error() {
    user_error(&["--tmpfs", "/"], "cannot mount over /");
}

#[test]
fn a_uid_map_that_overflows_is_a_user_error() {
    user_error(&["--uidmap", "4294967295"], "overflows");
}

#[test]
fn overlapping_uid_maps_are_a_user_error() {
    user_error(&["-u", "0:0:1", "-u", "0:1:1"], "overlap");
}

#[test]
fn a_relative_landlock_path_is_a_user_error() {
    user_error(&["--landlock-fs-ro", "rel/dir"], "rel/dir");
}

#[test]
fn a_malformed_seccomp_json_is_a_user_error() {
    let d = temp_dir("bad-seccomp");
    let f = d.join("bad.json");
    write(&f, "{bad");
    user_error(&["--seccomp", s(&f)], "invalid seccomp profile");
}

#[test]
fn a_ro_suffix_on_a_bind_is_rejected_with_a_pointer_to_b_and_capital_b() {
    for (flag, arg) in [
        ("-b", "/tmp:/b:ro"),
        ("-b", "/tmp:/b:rw"),
        ("-B", "/tmp:/b:rw"),
        ("-b", "/tmp:ro"),
    ] {
        user_error(
            &[flag, arg],
            "use -b/--bindmount-ro HOST:CONTAINER for read-only",
        );
    }
}

#[test]
fn a_setup_failure_that_is_not_the_users_is_125_with_the_stage() {
    // An unmapped --user: the kernel refuses the credentials, nothing the CLI can check.
    let out = hk(&["run", "--user", "nobody", "--", "true"]);
    assert_eq!(out.code, 125, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("sandbox setup failed at stage credentials"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_usage_error_is_2() {
    assert_eq!(hk(&["run", "--no-such-flag"]).code, 2);
    assert_eq!(hk(&["run", "--userns", "manual"]).code, 2);
}

#[test]
fn the_json_status_of_a_user_error_carries_code_1() {
    let out = hk(&["run", "--tmpfs", "/", "--json-status", "-", "--", "true"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = status_doc(&out.stdout);
    assert_eq!(v["reason"], "setup_failed");
    assert_eq!(v["code"], 1);
}

#[test]
fn a_working_directory_missing_inside_the_sandbox_is_a_user_error() {
    // `-w :/x` is a value the user wrote; the engine finds it missing only at chdir.
    user_error(
        &["-w", ":/no/such/dir-hk"],
        "the working directory /no/such/dir-hk does not exist inside the sandbox (errno 2): No such file or directory",
    );
}
