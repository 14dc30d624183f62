//! Filesystem isolation (issue 3): tmpfs root, rootfs, binds, devfs, tmpfs, procfs, safety.
mod common;

use std::path::{Path, PathBuf};

use common::*;
use hakoniwa::{Container, Error, HOST_ROOT_DIRS};

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hakoniwa-fs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn mountinfo() -> String {
    std::fs::read_to_string("/proc/self/mountinfo").unwrap()
}

/// Mount options of `target` as listed inside the sandbox's /proc/self/mountinfo.
fn opts_of(mi: &str, target: &str) -> String {
    mi.lines()
        .rfind(|l| l.split_whitespace().nth(4) == Some(target))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let sep = f.iter().position(|x| *x == "-").unwrap();
            format!("{} {} {}", f[5], f[sep + 1], f[sep + 3])
        })
        .unwrap_or_else(|| panic!("{target} not mounted:\n{mi}"))
}

#[test]
fn root_lists_exactly_the_host_system_dirs_plus_proc() {
    let (code, out, _) = sh(&sandbox(), "ls -a /");
    assert_eq!(code, 0);
    let mut expected: Vec<String> = HOST_ROOT_DIRS
        .iter()
        .filter(|d| Path::new("/").join(d).symlink_metadata().is_ok())
        .map(|d| d.to_string())
        .chain([".".into(), "..".into(), "proc".into()])
        .collect();
    expected.sort();
    let mut got: Vec<String> = out.lines().map(String::from).collect();
    got.sort();
    assert_eq!(got, expected);
}

#[test]
fn host_symlinks_are_recreated_as_symlinks() {
    for d in HOST_ROOT_DIRS {
        let host = Path::new("/").join(d);
        if let Ok(target) = std::fs::read_link(&host) {
            let (_, out, _) = sh(&sandbox(), &format!("readlink /{d}"));
            assert_eq!(out.trim(), target.to_str().unwrap());
        }
    }
}

#[test]
fn system_dirs_and_root_are_read_only() {
    let (code, out, _) = sh(
        &sandbox(),
        "touch /usr/x 2>&1; touch /x 2>&1; mkdir /y 2>&1; true",
    );
    assert_eq!(code, 0);
    assert_eq!(out.matches("Read-only file system").count(), 3, "{out}");
}

#[test]
fn read_only_bind_cannot_be_remounted_even_as_root_inside() {
    let dir = scratch("remount");
    std::fs::write(dir.join("f"), "x").unwrap();
    let mut c = sandbox();
    std::fs::write(dir.join("single"), "y").unwrap();
    c.uidmap(0)
        .gidmap(0)
        .bindmount_ro(&dir, "/data")
        .bindmount_ro(dir.join("single"), "/file")
        .tmpfsmount("/tmp");
    let script =
        "for t in /data /file; do mount -o remount,rw $t 2>/dev/null; mount -o remount,bind,rw $t 2>/dev/null; \
                  unshare -Urm sh -c \"mount -o remount,bind,rw $t\" 2>/dev/null; done; \
                  echo owned > /data/f 2>/dev/null; echo owned > /file 2>/dev/null; touch /data/new 2>/dev/null; id -u";
    let (code, out, _) = sh(&c, script);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "0");
    assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "x");
    assert_eq!(
        std::fs::read_to_string(dir.join("single")).unwrap(),
        "y",
        "a file bind was made writable"
    );
    assert!(!dir.join("new").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bind_rw_and_ro_options() {
    let dir = scratch("binds");
    std::fs::write(dir.join("file"), "content").unwrap();
    let mut c = sandbox();
    c.bindmount_rw(&dir, "/rw")
        .bindmount_ro(&dir, "/ro")
        .bindmount_ro(dir.join("file"), "/etc2/file");
    c.devfsmount("/dev").tmpfsmount("/tmp");
    let (code, out, err) = sh(
        &c,
        "cat /etc2/file; echo w > /rw/written; cat /proc/self/mountinfo",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("content"));
    assert_eq!(std::fs::read_to_string(dir.join("written")).unwrap(), "w\n");
    let rw = opts_of(&out, "/rw");
    let ro = opts_of(&out, "/ro");
    assert!(rw.starts_with("rw,nosuid"), "{rw}");
    assert!(ro.starts_with("ro,nosuid"), "{ro}");
    let dev = opts_of(&out, "/dev");
    assert!(
        dev.starts_with("rw,nosuid,noexec") && dev.contains("tmpfs"),
        "{dev}"
    );
    let tmp = opts_of(&out, "/tmp");
    assert!(
        tmp.starts_with("rw,nosuid,nodev") && tmp.contains("tmpfs"),
        "{tmp}"
    );
    let proc_ = opts_of(&out, "/proc");
    assert!(
        proc_.starts_with("rw,nosuid,nodev,noexec") && proc_.contains(" proc "),
        "{proc_}"
    );
    assert!(opts_of(&out, "/dev/pts").contains("devpts"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn nested_targets_apply_in_any_order_and_later_replaces_earlier() {
    let a = scratch("nest-a");
    let b = scratch("nest-b");
    std::fs::write(a.join("which"), "a").unwrap();
    std::fs::write(b.join("which"), "b").unwrap();
    // A mount point inside a read-only bind must exist in its source (nothing is created
    // in a read-only host directory).
    std::fs::create_dir(a.join("inner")).unwrap();
    let mut c = sandbox();
    // The deeper target is added first; it must still end up on top of /m.
    c.bindmount_ro(&b, "/m/inner").bindmount_ro(&a, "/m");
    let (_, out, _) = sh(&c, "cat /m/which /m/inner/which");
    assert_eq!(out, "ab");
    let mut c = sandbox();
    c.bindmount_ro(&a, "/m").bindmount_ro(&b, "/m");
    let (_, out, _) = sh(&c, "cat /m/which");
    assert_eq!(out, "b");
    std::fs::remove_dir_all(a).unwrap();
    std::fs::remove_dir_all(b).unwrap();
}

#[test]
fn many_siblings_of_every_kind_under_one_directory_all_land_there() {
    // Siblings share their parent directory, which the child resolves once for all of
    // them: binds of directories and files, a tmpfs with something inside, a directory, a
    // file and a link, all below /m, and the same below a link to a tmpfs.
    let a = scratch("siblings");
    std::fs::write(a.join("which"), "a").unwrap();
    std::fs::write(a.join("single"), "f").unwrap();
    let mut c = sandbox();
    for i in 0..50 {
        c.bindmount_ro(&a, format!("/m/d{i}"));
    }
    c.bindmount_ro(a.join("single"), "/m/file")
        .tmpfsmount("/m/t")
        .dir("/m/t/x", 0o700)
        .dir("/m/dir", 0o711)
        .file("/m/written", "w")
        .symlink("d7/which", "/m/link")
        .tmpfsmount("/real")
        .symlink("/real", "/s")
        .bindmount_ro(&a, "/s/b1")
        .bindmount_ro(&a, "/s/b2");
    let script = "ls /m | wc -l; cat /m/d0/which /m/d49/which /m/file /m/written /m/link; \
                  stat -c %a /m/dir /m/t/x; cat /real/b1/which /real/b2/which; ls /real";
    let (code, out, err) = sh(&c, script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "55\naafwa711\n700\naab1\nb2\n");
    std::fs::remove_dir_all(a).unwrap();
}

#[test]
fn a_mount_point_that_cannot_be_made_fails_its_own_step_among_many() {
    // With many fresh mount points the child makes them while the sources are cloned on a
    // helper thread; one it cannot make must fail as it does alone: at its own step.
    let long = format!("/m/{}", "x".repeat(300));
    let mut alone = sandbox();
    alone.bindmount_ro("/usr/share", &long);
    let mut many = sandbox();
    for i in 0..100 {
        many.bindmount_ro("/usr/share", format!("/m/{i}"));
    }
    many.bindmount_ro("/usr/share", &long);
    for c in [&alone, &many] {
        match c.command("/bin/true").status() {
            Err(e @ Error::Setup { .. }) => {
                let text = e.to_string();
                assert!(text.contains("mount-target"), "{text}");
                assert!(text.contains(&format!("/usr/share -> {long}")), "{text}");
                assert!(text.contains("errno 36"), "{text}");
            }
            other => panic!("expected a setup error, got {other:?}"),
        }
    }
}

#[test]
fn a_source_the_child_cannot_clone_fails_as_it_does_alone_among_many() {
    // /proc/self/task/TID is this thread's directory here, and missing in the child (its
    // /proc/self is the child): the parent's check passes, the child's clone fails. With
    // many fresh mount points two threads clone; the error must be the one a single
    // thread gives.
    let link = std::fs::read_link("/proc/thread-self").unwrap();
    let tid = link.file_name().unwrap().to_string_lossy().into_owned();
    let source = format!("/proc/self/task/{tid}");
    let mut alone = sandbox();
    alone.bindmount_ro(&source, "/z");
    let mut many = sandbox();
    for i in 0..100 {
        many.bindmount_ro("/usr/share", format!("/m/{i}"));
    }
    many.bindmount_ro(&source, "/z");
    for i in 100..200 {
        many.bindmount_ro("/usr/share", format!("/m/{i}"));
    }
    for c in [&alone, &many] {
        match c.command("/bin/true").status() {
            Err(e @ Error::Setup { .. }) => {
                let text = e.to_string();
                assert!(text.contains("mount-source"), "{text}");
                assert!(text.contains(&source), "{text}");
                assert!(text.contains("errno 2"), "{text}");
            }
            other => panic!("expected a setup error, got {other:?}"),
        }
    }
}

#[test]
fn many_binds_hold_where_the_child_cannot_make_a_thread() {
    // A kernel before 6.9 (no pidfd for a thread) or a filter refusing threads: the child
    // clones the sources and makes the mount points on its one thread, with the same result.
    for flag in [None, Some("--without-clone-threads")] {
        let out = std::process::Command::new(example("binds_probe"))
            .args(flag)
            .output()
            .unwrap();
        assert!(out.status.success(), "{flag:?}: {out:?}");
        let want = match flag {
            Some(_) => "clone threads: EPERM\n100\nRead-only file system\n",
            None => "100\nRead-only file system\n",
        };
        assert_eq!(String::from_utf8_lossy(&out.stdout), want, "{flag:?}");
    }
}

/// Run `ro_probe [flag] DIR` inside `unshare -Urm` (works as root and as an unprivileged
/// user) after giving DIR a tmpfs submount there; returns the probe's stdout.
fn ro_probe_over_a_submount(tag: &str, flag: &str) -> String {
    let dir = scratch(tag);
    std::fs::create_dir(dir.join("sub")).unwrap();
    let d = dir.display();
    let probe = example("ro_probe");
    let out = std::process::Command::new("unshare")
        .args([
            "-Urm",
            "sh",
            "-c",
            &format!(
                "mount -t tmpfs none {d}/sub && exec {} {flag} {d}",
                probe.display()
            ),
        ])
        .output()
        .unwrap();
    std::fs::remove_dir_all(dir).unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn recursive_read_only_covers_submounts() {
    let out = ro_probe_over_a_submount("rec", "");
    assert_eq!(out.trim(), "sub: Read-only file system");
}

#[test]
fn read_only_binds_hold_where_the_kernel_lacks_open_tree_attr() {
    // The child sets a bind's flags while cloning its source (open_tree_attr, Linux 6.15);
    // where that call fails it must set them the older way.
    let out = ro_probe_over_a_submount("no-attr", "--without-open-tree-attr");
    assert_eq!(
        out, "open_tree_attr: ENOSYS\nsub: Read-only file system\n",
        "{out}"
    );
}

#[test]
fn devfs_has_exactly_the_expected_entries() {
    let mut c = sandbox();
    c.devfsmount("/dev");
    let (code, out, err) = sh(&c, "ls -A /dev | sort | tr '\\n' ' '; echo; head -c 4 /dev/urandom | wc -c; echo x > /dev/null && readlink /dev/ptmx /dev/fd");
    assert_eq!(code, 0, "{err}");
    let mut lines = out.lines();
    let entries = lines.next().unwrap().trim().to_string();
    let console = if rustix::termios::isatty(std::io::stdout()) {
        "console "
    } else {
        ""
    };
    assert_eq!(
        entries,
        format!("{console}fd full null ptmx pts random shm stderr stdin stdout tty urandom zero")
    );
    assert_eq!(lines.next().unwrap().trim(), "4");
    assert_eq!(lines.next().unwrap(), "pts/ptmx");
    assert_eq!(lines.next().unwrap(), "/proc/self/fd");
}

#[test]
fn tmpfs_with_size_and_mode_and_files() {
    let mut c = sandbox();
    c.devfsmount("/dev")
        .tmpfsmount_with("/scratch", Some(1 << 20), Some(0o1777))
        .dir("/made/deep/dir", 0o750)
        .file("/etc-extra/greeting", "hello\n")
        .symlink("/etc-extra/greeting", "/link");
    let (code, out, err) = sh(
        &c,
        "stat -c %a /scratch /made/deep/dir; cat /link; dd if=/dev/zero of=/scratch/big bs=1024 count=2048 2>&1 | grep -c 'No space'",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "1777\n750\nhello\n1\n");
}

#[test]
fn procfs_needs_a_pid_namespace() {
    let mut c = sandbox();
    c.share(hakoniwa::Namespace::Pid);
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                field: "procfsmount",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn host_proc_is_not_reachable_inside() {
    let (code, out, _) = sh(&sandbox(), "cat /proc/self/mountinfo");
    assert_eq!(code, 0);
    let proc_mounts: Vec<&str> = out.lines().filter(|l| l.contains(" proc ")).collect();
    // Our procfs at /proc and its read-only covers; none of the host's mounts.
    assert!(proc_mounts
        .iter()
        .all(|l| l.split_whitespace().nth(4).unwrap().starts_with("/proc")));
    assert!(
        !out.contains(" /tmp "),
        "the scratch attach point must not be visible:\n{out}"
    );
    let host_root_mounts = mountinfo().lines().count();
    assert!(out.lines().count() < host_root_mounts + 40);
}

/// One line of a mountinfo: mount point, per-mount flags among ro/rw/nosuid/nodev/noexec,
/// the optional (propagation) fields, filesystem type, superblock options.
struct MountLine {
    point: String,
    flags: std::collections::BTreeSet<String>,
    propagation: Vec<String>,
    fstype: String,
    super_opts: String,
}

fn parse_mountinfo(mi: &str) -> Vec<MountLine> {
    mi.lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let sep = f.iter().position(|x| *x == "-").unwrap();
            MountLine {
                point: f[4].to_string(),
                flags: f[5]
                    .split(',')
                    .filter(|o| ["ro", "rw", "nosuid", "nodev", "noexec"].contains(o))
                    .map(String::from)
                    .collect(),
                propagation: f[6..sep].iter().map(|s| s.to_string()).collect(),
                fstype: f[sep + 1].to_string(),
                super_opts: f.get(sep + 3).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

#[test]
fn the_default_mount_table_is_the_system_dirs_and_a_covered_proc_with_their_flags() {
    assert_default_mount_table();
}

#[test]
fn without_open_tree_attr_the_default_mount_table_is_the_same() {
    // Kernels before 6.15 (or a filter) refuse open_tree_attr: the child then clones with
    // open_tree and sets the flags with mount_setattr. A filter in a forked copy of this
    // process makes the call fail with ENOSYS for the sandbox it starts.
    let code = in_forked_process(|| {
        filters::without_open_tree_attr();
        assert_default_mount_table();
        true
    });
    assert_eq!(code, OK);
}

/// The mount table of the default sandbox (`rootfs("/")`), read inside it: exactly the
/// host's system directories, read-only, `nosuid`, `nodev`; a read-only tmpfs root; one
/// procfs with its read-only covers and masks (those this kernel has), none propagating.
fn assert_default_mount_table() {
    use hakoniwa::{PROC_MASKED, PROC_READONLY};
    let (code, out, err) = sh(
        &sandbox(),
        "cat /proc/self/mountinfo; echo ==; \
         for f in /proc/*; do [ -c $f ] && echo \"$f $(stat -c %t:%T $f)\"; done; true",
    );
    assert_eq!(code, 0, "{err}");
    let (mi, nodes) = out.split_once("==\n").unwrap();
    let lines = parse_mountinfo(mi);
    let set = |s: &str| -> std::collections::BTreeSet<String> {
        s.split(',').map(String::from).collect()
    };
    // What the host's kernel and root have decide which entries exist.
    let host_proc = |n: &str| std::fs::symlink_metadata(Path::new("/proc").join(n)).ok();
    // (mount point, flags it must have, filesystem type when the engine chooses it)
    let mut expected: Vec<(String, &str, Option<&str>)> = vec![
        ("/".into(), "ro,nosuid,nodev", Some("tmpfs")),
        ("/proc".into(), "rw,nosuid,nodev,noexec", Some("proc")),
    ];
    for d in HOST_ROOT_DIRS {
        if Path::new("/")
            .join(d)
            .symlink_metadata()
            .is_ok_and(|m| m.is_dir())
        {
            expected.push((format!("/{d}"), "ro,nosuid,nodev", None));
        }
    }
    for n in PROC_READONLY {
        if host_proc(n).is_some() {
            expected.push((format!("/proc/{n}"), "ro,nosuid,nodev,noexec", Some("proc")));
        }
    }
    let mut masked_files = Vec::new();
    for n in PROC_MASKED {
        match host_proc(n) {
            Some(m) if m.is_dir() => expected.push((
                format!("/proc/{n}"),
                "ro,nosuid,nodev,noexec",
                Some("tmpfs"),
            )),
            Some(_) => {
                expected.push((format!("/proc/{n}"), "ro", None));
                masked_files.push(format!("/proc/{n}"));
            }
            None => {}
        }
    }
    let mut points: Vec<&str> = lines.iter().map(|l| l.point.as_str()).collect();
    points.sort();
    let mut want: Vec<&str> = expected.iter().map(|e| e.0.as_str()).collect();
    want.sort();
    assert_eq!(points, want, "exactly these mounts, each once:\n{mi}");
    for (point, flags, fstype) in &expected {
        let l = lines.iter().find(|l| &l.point == point).unwrap();
        let must = set(flags);
        assert!(l.flags.is_superset(&must), "{point} lacks {flags}:\n{mi}");
        let ro = must.contains("ro");
        assert_eq!(l.flags.contains("ro"), ro, "{point} read-only {ro}:\n{mi}");
        assert_eq!(l.flags.contains("rw"), !ro, "{point} read-only {ro}:\n{mi}");
        assert!(l.propagation.is_empty(), "{point} propagates:\n{mi}");
        if let Some(t) = fstype {
            assert_eq!(&l.fstype, t, "{point}:\n{mi}");
        }
    }
    let opts = |p: &str| &lines.iter().find(|l| l.point == p).unwrap().super_opts;
    assert!(set(opts("/")).contains("mode=755"), "{mi}");
    for n in PROC_MASKED {
        if host_proc(n).is_some_and(|m| m.is_dir()) {
            let o = set(opts(&format!("/proc/{n}")));
            assert!(
                o.contains("size=0k") && o.contains("mode=000"),
                "{n}: {o:?}"
            );
        }
    }
    // A masked file is the null device (1:3), read-only.
    for f in &masked_files {
        assert!(
            nodes.contains(&format!("{f} 1:3")),
            "{f} is not /dev/null:\n{nodes}"
        );
    }
}

#[test]
fn custom_rootfs_from_a_busybox_tree() {
    let busybox = Path::new("/bin/busybox");
    if !busybox.exists() {
        panic!("busybox-static is required (installed by .ci/setup)");
    }
    let tree = scratch("busybox");
    std::fs::create_dir_all(tree.join("bin")).unwrap();
    // An empty placeholder with the real binary bound over it: copying the binary would race
    // with other tests' fork+exec holding the copy's write descriptor (ETXTBSY).
    std::fs::File::create(tree.join("bin/busybox")).unwrap();
    std::os::unix::fs::symlink("busybox", tree.join("bin/sh")).unwrap();
    std::os::unix::fs::symlink("busybox", tree.join("bin/ls")).unwrap();
    let mut c = Container::new();
    c.rootfs(&tree).bindmount_ro(busybox, "/bin/busybox");
    let out = c
        .command("/bin/sh")
        .args(["-c", "echo ok; ls /"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "ok\nbin\nproc\n");
    let mut c = Container::new();
    c.rootfs(tree.join("missing"));
    let err = c.command("/bin/sh").status().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Config {
                field: "rootfs",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("missing"));
    std::fs::remove_dir_all(tree).unwrap();
}

#[test]
fn rootdir_twice_leaves_nothing_behind() {
    // A read-write rootdir must hold its mount points (the engine creates none there); a
    // read-only one gets them in the tmpfs root.
    let root = scratch("rootdir");
    for d in ["usr", "etc", "dev", "tmp", "proc"] {
        std::fs::create_dir(root.join(d)).unwrap();
    }
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    std::os::unix::fs::symlink("usr/lib64", root.join("lib64")).unwrap();
    for rw in [true, true, false] {
        if !rw {
            for d in ["dev", "tmp", "proc"] {
                std::fs::remove_dir(root.join(d)).unwrap();
            }
        }
        let before = walk(&root);
        let mut c = Container::new();
        c.rootdir(&root, rw)
            .bindmount_ro("/usr", "/usr")
            .devfsmount("/dev")
            .tmpfsmount("/tmp");
        let (code, out, err) = sh(&c, "ls /dev/null /tmp /proc/self >/dev/null && echo ran");
        assert_eq!((code, out.as_str()), (0, "ran\n"), "{err}");
        assert_eq!(walk(&root), before, "rootdir changed (rw={rw})");
    }
    std::fs::remove_dir_all(root).unwrap();
}

fn walk(p: &Path) -> Vec<PathBuf> {
    let mut v = vec![];
    for e in std::fs::read_dir(p).unwrap().flatten() {
        v.push(e.path());
        if e.file_type().unwrap().is_dir() {
            v.extend(walk(&e.path()));
        }
    }
    v.sort();
    v
}

#[test]
fn symlink_in_writable_rootdir_cannot_escape() {
    let root = scratch("escape");
    std::fs::create_dir(root.join("usr")).unwrap();
    std::fs::create_dir(root.join("proc")).unwrap();
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    std::os::unix::fs::symlink("usr/lib", root.join("lib")).unwrap();
    std::os::unix::fs::symlink("usr/lib64", root.join("lib64")).unwrap();
    std::os::unix::fs::symlink("/", root.join("etc")).unwrap();
    let marker = format!("hakoniwa-escape-{}", std::process::id());
    let mut c = Container::new();
    c.rootdir(&root, true)
        .bindmount_ro("/usr", "/usr")
        .file(format!("/etc/{marker}"), "x");
    let (code, _, err) = sh(&c, "true");
    assert_eq!(code, 0, "{err}");
    // A mount point through the link is refused (none is created in a read-write rootdir).
    c.bindmount_ro("/etc/passwd", format!("/etc/{marker}-bind"));
    assert!(c.command("/bin/true").status().is_err());
    assert!(
        !Path::new("/").join(&marker).exists(),
        "escaped to the host's /"
    );
    assert!(
        !Path::new("/").join(format!("{marker}-bind")).exists(),
        "escaped to the host's /"
    );
    // It landed inside the root instead (etc -> / resolves to the rootdir itself).
    assert!(root.join(&marker).exists());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn locked_host_flags_and_device_binds_work() {
    // /dev/shm or /run are nosuid,nodev host mounts; binding them must not trip on locked flags.
    // A device node works only through an explicit device bind (every other bind is nodev).
    let mut c = sandbox();
    c.bindmount_dev("/dev/null", "/null")
        .bindmount_ro("/sys", "/sys")
        .bindmount_ro("/dev/shm", "/shm");
    let (code, out, err) = sh(
        &c,
        "echo x > /null && ls /sys/kernel >/null && ls /shm >/null && echo ok",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "ok\n");
}

#[test]
fn many_runs_leave_no_mounts_files_or_processes() {
    let mi_before = mountinfo();
    // Anything new, except the scratch directories other tests of this binary (running in
    // parallel) create on purpose.
    let tmp_before = my_tmp_entries(&["hakoniwa-fs-"]);
    let marker = format!("{}.{}", 7000 + std::process::id() % 1000, 141421);
    let mut c = sandbox();
    c.devfsmount("/dev").tmpfsmount("/tmp");
    for i in 0..200 {
        if i % 4 == 0 {
            // Killed right after spawn, while the program may still be starting.
            let mut child = c.command("/bin/sleep").arg(&marker).spawn().unwrap();
            child.kill().unwrap();
            child.wait().unwrap();
        } else {
            assert!(c.command("/bin/true").status().unwrap().success());
        }
    }
    assert_eq!(mountinfo(), mi_before);
    let new = new_tmp_entries(&tmp_before, &["hakoniwa-fs-"]);
    assert!(new.is_empty(), "{new:?}");
    assert!(host_pids_with(&marker).is_empty(), "leftover processes");
}

#[test]
fn a_writable_rootdir_lacking_mount_points_is_refused_naming_each() {
    // Nothing is created in a read-write rootdir for mount points, so nothing can be left
    // there (not even if the supervisor is killed) and no cleanup ever walks paths the
    // program could have swapped for symlinks.
    let root = scratch("rw-rootdir-missing");
    std::fs::create_dir_all(root.join("usr")).unwrap();
    for (l, t) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(t, root.join(l)).unwrap();
    }
    let before = walk(&root);
    let mut c = Container::new();
    c.rootdir(&root, true)
        .bindmount_ro("/usr", "/usr")
        .devfsmount("/dev")
        .bindmount_ro("/etc/passwd", "/a/b/f");
    let err = c.command("/bin/true").status().unwrap_err();
    let msg = err.to_string();
    for p in ["a/b/f", "dev", "proc"] {
        let host = root.join(p);
        assert!(msg.contains(host.to_str().unwrap()), "{p} not named: {msg}");
    }
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert_eq!(walk(&root), before, "created in the rootdir");
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_changed_rootfs_directory_is_seen_by_the_next_spawn() {
    // One directory per change: an entry added, one removed, one replaced by a symlink.
    let dirs: Vec<PathBuf> = ["added", "removed", "relinked"]
        .iter()
        .map(|t| {
            let d = scratch(&format!("cache-{t}"));
            for e in ["keep", "gone", "swap"] {
                std::fs::create_dir(d.join(e)).unwrap();
            }
            d
        })
        .collect();
    // The engine remembers a directory's expansion only once the directory has been
    // unchanged for two seconds (top_level_cache.rs): let them settle, so that the first
    // spawn of each fills the cache and the second must notice the change.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let listing = |d: &Path| {
        let mut c = Container::new();
        c.rootfs(d)
            .bindmount_ro("/usr", "/usr")
            .symlink("usr/bin", "/bin")
            .symlink("usr/lib", "/lib")
            .symlink("usr/lib64", "/lib64");
        let (code, out, err) = sh(
            &c,
            "for e in keep gone swap new; do \
               if [ -L /$e ]; then echo $e@; elif [ -d /$e ]; then echo $e; fi; done",
        );
        assert_eq!(code, 0, "{err}");
        out
    };
    for d in &dirs {
        assert_eq!(listing(d), "keep\ngone\nswap\n");
    }
    std::fs::create_dir(dirs[0].join("new")).unwrap();
    std::fs::remove_dir(dirs[1].join("gone")).unwrap();
    std::fs::remove_dir(dirs[2].join("swap")).unwrap();
    std::os::unix::fs::symlink("keep", dirs[2].join("swap")).unwrap();
    assert_eq!(listing(&dirs[0]), "keep\ngone\nswap\nnew\n");
    assert_eq!(listing(&dirs[1]), "keep\nswap\n");
    assert_eq!(listing(&dirs[2]), "keep\ngone\nswap@\n");
    for d in &dirs {
        std::fs::remove_dir_all(d).unwrap();
    }
}

#[test]
fn a_readonly_rootdir_with_more_entries_than_the_open_file_limit_is_refused_with_the_limit() {
    // Each top-level entry of a read-only rootdir is a mount source the child holds open at
    // once: past RLIMIT_NOFILE the error names the limit (from a spawn and from prepare).
    let d = scratch("many-entries");
    for i in 0..100 {
        std::fs::write(d.join(format!("f{i}")), "").unwrap();
    }
    let code = in_forked_process(|| {
        let limit = libc::rlimit {
            rlim_cur: 64,
            rlim_max: 64,
        };
        // SAFETY: a valid rlimit struct; lowers this forked process's own limit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) }, 0);
        let mut c = Container::new();
        c.rootdir(&d, false);
        let spawned = c.command("/bin/true").status().unwrap_err().to_string();
        let prepared = c.command("/bin/true").prepare().unwrap_err().to_string();
        let named = |e: &str| e.contains("open-file limit of 64") && e.contains("mount sources");
        named(&spawned) && named(&prepared) || panic!("{spawned}\n{prepared}")
    });
    assert_eq!(code, OK);
    std::fs::remove_dir_all(&d).unwrap();
}
