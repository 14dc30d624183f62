//! Issue 10 through the CLI: device nodes behind binds and `--rootdir` (item 1, `--dev-bind`),
//! submounts of a read-only rootdir (3), profile `files` under a read-only rootdir (8),
//! mount points inside read-write binds (12).
mod common;

use std::process::Command;

use common::*;

#[test]
fn a_bind_of_dev_cannot_write_host_devices_and_dev_bind_can() {
    for flag in ["-b", "-B"] {
        let out = hk(&[
            "run",
            flag,
            "/dev:/hostdev",
            "--",
            "sh",
            "-c",
            "printf X > /hostdev/null",
        ]);
        assert_ne!(out.code, 0, "{flag} /dev let the program write a device");
        assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
    }
    hk(&[
        "run",
        "--dev-bind",
        "/dev/null:/hostdev/null",
        "--",
        "sh",
        "-c",
        "printf X > /hostdev/null",
    ])
    .ok();
}

#[test]
fn dev_bind_is_documented_as_dangerous() {
    let out = hk(&["run", "--help"]);
    out.ok();
    let at = out.stdout.find("--dev-bind").expect("--dev-bind in help");
    let text = &out.stdout[at..];
    assert!(text.contains("DANGEROUS"), "{text}");
    assert!(text.contains("nodev"), "{text}");
    let missing = hk(&["run", "--dev-bind", "/no/such/dev-hk", "--", "true"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("/no/such/dev-hk"),
        "{}",
        missing.stderr
    );
}

#[test]
fn rootdir_of_the_host_root_cannot_open_host_devices() {
    let out = hk(&[
        "run",
        "--rootdir",
        "/",
        "--",
        "sh",
        "-c",
        "printf X > /dev/null || echo refused",
    ]);
    out.ok();
    assert_eq!(out.stdout, "refused\n", "{}", out.stderr);
}

/// The host directory gets a tmpfs mounted below it inside `unshare -Urm` (so the test needs
/// no privileges): the sandbox must not be able to write to that submount.
#[test]
fn readonly_rootdir_submounts_are_read_only() {
    let d = temp_dir("rootdir-submount");
    std::fs::create_dir_all(d.join("data")).unwrap();
    let script = format!(
        "mount -t tmpfs none {root}/data && echo before > {root}/data/f && \
         {hk} run --rootdir {root} -- sh -c 'cat /data/f; echo x > /data/f' ; \
         echo rc=$?; cat {root}/data/f",
        root = sh_quote(s(&d)),
        hk = sh_quote(&bin())
    );
    let out = Command::new("unshare")
        .args(["-Urm", "--propagation", "private", "sh", "-c", &script])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, "before\nrc=2\nbefore\n", "{stderr}");
    assert!(stderr.contains("Read-only file system"), "{stderr}");
}

#[test]
fn a_profile_file_never_modifies_a_readonly_rootdir() {
    let d = temp_dir("rootdir-profile-file");
    let root = d.join("root");
    write(&root.join("etc/motd"), "host motd\n");
    // A root with its own /bin: the CLI then binds none of the host's system directories
    // over it, so /etc is the rootdir's own.
    std::fs::create_dir_all(root.join("bin")).unwrap();
    std::fs::create_dir_all(root.join("usr")).unwrap();
    let p = d.join("p.toml");
    write(
        &p,
        &format!(
            "rootdir = {{ path = \"{}\", rw = false }}\n\
             filesystem = {{ files = [{{ destination = \"/etc/motd\", contents = \"profile motd\" }}] }}\n",
            s(&root)
        ),
    );
    let out = hk(&[
        "run",
        "-c",
        s(&p),
        "-b",
        "/usr",
        "-b",
        "/usr/bin:/bin",
        "-b",
        "/usr/lib:/lib",
        "-b",
        "/usr/lib64:/lib64",
        "--",
        "cat",
        "/etc/motd",
    ]);
    out.ok();
    assert_eq!(out.stdout, "profile motd");
    assert_eq!(
        std::fs::read_to_string(root.join("etc/motd")).unwrap(),
        "host motd\n"
    );
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["bin", "etc", "usr"]);
}

#[test]
fn a_mount_point_missing_in_a_readwrite_bind_is_refused_naming_the_host_path() {
    let d = temp_dir("rw-bind-nested");
    let out = hk(&[
        "run",
        "-B",
        &format!("{}:/shared", s(&d)),
        "-b",
        "/etc/passwd:/shared/a/b/c",
        "--",
        "true",
    ]);
    assert_ne!(out.code, 0);
    let host = d.join("a/b/c");
    assert!(out.stderr.contains(s(&host)), "{}", out.stderr);
    assert!(out.stderr.contains("create"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_dir(&d).unwrap().count(),
        0,
        "created on the host"
    );
}

#[test]
fn a_readonly_rootdir_with_more_entries_than_descriptors_is_refused_with_the_limit() {
    // Each top-level entry of a read-only rootdir is a bind, and the sandbox clones every
    // source before mounting: past the open-file limit that is a clear error, not EMFILE.
    let d = temp_dir("rootdir-many-entries");
    for i in 0..100 {
        write(&d.join(format!("f{i}")), "");
    }
    let script = format!(
        "ulimit -n 64 && exec {} run --rootdir {} -- true",
        sh_quote(&bin()),
        sh_quote(s(&d))
    );
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("open-file limit of 64"), "{stderr}");
}

#[test]
fn a_profile_mount_needs_dev_true_for_device_access() {
    let d = temp_dir("profile-dev");
    for (dev, expect) in [(false, "refused\n"), (true, "written\n")] {
        let p = d.join(format!("dev-{dev}.toml"));
        write(
            &p,
            &format!(
                "mounts = [{{ source = \"/dev/null\", destination = \"/null\", dev = {dev} }}]\n"
            ),
        );
        let out = hk(&[
            "run",
            "-c",
            s(&p),
            "--",
            "sh",
            "-c",
            "echo x 2>&- > /null && echo written || echo refused",
        ]);
        out.ok();
        assert_eq!(out.stdout, expect, "dev = {dev}: {}", out.stderr);
    }
}
