//! Issue 10, mount holes: device nodes behind binds and rootdirs (item 1), submounts of a
//! read-only rootdir (3), `file` entries under a read-only rootdir (8), the devfs nodes'
//! host inodes (9) and mount points inside read-write binds (12). Each probe runs the same
//! way as root and as an unprivileged caller; where a setup needs root it says so.
mod common;

use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use common::*;
use hakoniwa::{Container, Error, Stage};

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hakoniwa-mnt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `perl /probe/open.pl PATH...`: `open(O_RDWR)` of each path (never creating it); prints
/// `PATH=opened` or `PATH=ERRNO`, one per line.
const OPEN_PL: &str = r#"use Fcntl;
for my $p (@ARGV) {
  if (sysopen(my $f, $p, O_RDWR)) { print "$p=opened\n"; close $f }
  else { print "$p=", $! + 0, "\n" }
}"#;

const EACCES: &str = "13";

/// Open each path read-write inside `c`; the `path=result` lines as a map.
fn open_rw(c: &mut Container, paths: &[&str]) -> std::collections::BTreeMap<String, String> {
    c.file("/probe/open.pl", OPEN_PL);
    let (code, out, err) = sh(c, &format!("perl /probe/open.pl {}", paths.join(" ")));
    assert_eq!(code, 0, "{out}{err}");
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The setup error of running `/bin/true` in `c`: (stage, errno, message).
fn setup_error(c: &Container) -> (Stage, i32, String) {
    match c.command("/bin/true").status() {
        Err(e @ Error::Setup { stage, errno, .. }) => (stage, errno, e.to_string()),
        other => panic!("expected a setup error, got {other:?}"),
    }
}

fn is_root() -> bool {
    euid() == 0
}

fn names(d: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------
// Item 1: every bind and every rootdir is nodev.

#[test]
fn a_readonly_bind_of_dev_cannot_open_host_devices() {
    let mut c = sandbox();
    c.bindmount_ro("/dev", "/hostdev");
    let got = open_rw(&mut c, &["/hostdev/null", "/hostdev/zero", "/hostdev/full"]);
    for (p, r) in &got {
        assert_eq!(r, EACCES, "{p} opened through a read-only bind: {got:?}");
    }
    assert_eq!(got.len(), 3);
}

/// A loop device over a scratch image, detached again on drop.
struct Loop {
    dev: String,
    image: PathBuf,
}

impl Loop {
    fn new(tag: &str) -> Loop {
        let image = scratch(tag).join("disk.img");
        std::fs::write(&image, vec![0u8; 1 << 20]).unwrap();
        let out = std::process::Command::new("losetup")
            .args(["-f", "--show", image.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "losetup: {out:?}");
        let dev = String::from_utf8(out.stdout).unwrap().trim().to_string();
        Loop { dev, image }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = std::process::Command::new("losetup")
            .args(["-d", &self.dev])
            .status();
        if let Some(d) = self.image.parent() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

#[test]
fn a_bind_of_dev_cannot_write_a_host_disk_image_through_a_loop_device() {
    // The issue's exploit: `-b /dev:/dev` and `printf X > /dev/loopN` overwrote a host-only
    // disk image. As root the node is writable by its permissions; only nodev stops it.
    if !is_root() {
        eprintln!("skipped as an unprivileged caller: attaching a loop device needs root");
        return;
    }
    let lo = Loop::new("loop");
    let name = lo.dev.trim_start_matches("/dev/");
    for rw in [false, true] {
        let mut c = sandbox();
        if rw {
            c.bindmount_rw("/dev", "/hostdev");
        } else {
            c.bindmount_ro("/dev", "/hostdev");
        }
        let (_, out, err) = sh(
            &c,
            &format!("printf X > /hostdev/{name} && sync /hostdev/{name}; echo rc=$?"),
        );
        assert!(
            !out.contains("rc=0"),
            "wrote the loop device (rw={rw}): {out}{err}"
        );
        assert!(err.contains("Permission denied"), "{err}");
    }
    let image = std::fs::read(&lo.image).unwrap();
    assert!(image.iter().all(|&b| b == 0), "the host disk image changed");
}

#[test]
fn a_readwrite_bind_of_dev_cannot_open_host_devices() {
    let mut c = sandbox();
    c.bindmount_rw("/dev", "/hostdev");
    let got = open_rw(&mut c, &["/hostdev/null", "/hostdev/zero"]);
    assert_eq!(got.get("/hostdev/null").map(String::as_str), Some(EACCES));
    assert_eq!(got.get("/hostdev/zero").map(String::as_str), Some(EACCES));
}

#[test]
fn a_device_bind_keeps_device_nodes_usable() {
    // The control: the same probe opens the nodes when devices are asked for.
    let mut c = sandbox();
    c.bindmount_dev("/dev/null", "/hostdev/null")
        .bindmount_dev("/dev/zero", "/hostdev/zero");
    let got = open_rw(&mut c, &["/hostdev/null", "/hostdev/zero"]);
    assert_eq!(got.get("/hostdev/null").map(String::as_str), Some("opened"));
    assert_eq!(got.get("/hostdev/zero").map(String::as_str), Some("opened"));
}

#[test]
fn a_readonly_rootdir_of_the_host_root_cannot_open_host_devices() {
    let mut c = Container::new();
    c.rootdir("/", false);
    let got = open_rw(&mut c, &["/dev/null", "/dev/zero", "/dev/tty"]);
    assert_eq!(got.get("/dev/null").map(String::as_str), Some(EACCES));
    assert_eq!(got.get("/dev/zero").map(String::as_str), Some(EACCES));
    // /dev/tty may fail for lack of a terminal (ENXIO) but must never open.
    assert_ne!(got.get("/dev/tty").map(String::as_str), Some("opened"));
}

#[test]
fn a_readonly_rootdir_holding_device_nodes_cannot_open_them() {
    // /dev itself as the rootdir: its top-level entries are the host's device nodes.
    let mut c = Container::new();
    c.rootdir("/dev", false).rootfs("/");
    let got = open_rw(&mut c, &["/null", "/zero", "/full"]);
    for (p, r) in &got {
        assert_eq!(r, EACCES, "{p}: {got:?}");
    }
}

#[test]
fn a_writable_rootdir_holding_a_device_node_cannot_open_it() {
    if !is_root() {
        eprintln!("skipped as an unprivileged caller: mknod of a device node needs root");
        return;
    }
    let root = scratch("rw-rootdir-dev");
    for d in ["usr", "probe", "proc"] {
        std::fs::create_dir(root.join(d)).unwrap();
    }
    for (l, t) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(t, root.join(l)).unwrap();
    }
    let st = std::process::Command::new("mknod")
        .args([root.join("null").to_str().unwrap(), "c", "1", "3"])
        .status()
        .unwrap();
    assert!(st.success());
    let mut c = Container::new();
    c.rootdir(&root, true).bindmount_ro("/usr", "/usr");
    let got = open_rw(&mut c, &["/null"]);
    assert_eq!(got.get("/null").map(String::as_str), Some(EACCES));
    std::fs::remove_dir_all(root).unwrap();
}

// ---------------------------------------------------------------------------------------
// Item 3: a read-only rootdir is read-only with everything mounted below it.
// (Mounting below a host directory needs privileges on the host: the CLI test
// `readonly_rootdir_submounts_are_read_only` sets it up in `unshare -Urm` for both callers.)

#[test]
fn a_readonly_rootdir_with_a_submount_stays_read_only_below_it() {
    if !is_root() {
        eprintln!(
            "skipped as an unprivileged caller: mounting a tmpfs below a host directory needs \
             root (cli test readonly_rootdir_submounts_are_read_only covers both callers)"
        );
        return;
    }
    let root = scratch("ro-rootdir-submount");
    std::fs::create_dir(root.join("data")).unwrap();
    let mount = |args: &[&str]| {
        assert!(std::process::Command::new(args[0])
            .args(&args[1..])
            .status()
            .unwrap()
            .success())
    };
    let data = root.join("data");
    mount(&["mount", "-t", "tmpfs", "none", data.to_str().unwrap()]);
    let mut c = Container::new();
    c.rootdir(&root, false).rootfs("/");
    let (code, out, err) = sh(&c, "echo x > /data/f && echo wrote");
    mount(&["umount", data.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!data.join("f").exists());
    std::fs::remove_dir_all(root).unwrap();
}

// ---------------------------------------------------------------------------------------
// Item 8: `file` entries never modify a read-only rootdir.

fn ro_rootdir_with_etc(tag: &str) -> PathBuf {
    let root = scratch(tag);
    std::fs::create_dir(root.join("etc")).unwrap();
    std::fs::write(root.join("etc/hosts"), "host file\n").unwrap();
    root
}

#[test]
fn a_file_entry_over_a_readonly_rootdir_file_leaves_the_host_file_alone() {
    let root = ro_rootdir_with_etc("file-over");
    let before = std::fs::metadata(root.join("etc/hosts")).unwrap();
    let mut c = Container::new();
    c.rootdir(&root, false)
        .bindmount_ro("/usr", "/usr")
        .symlink("usr/bin", "/bin")
        .symlink("usr/lib", "/lib")
        .symlink("usr/lib64", "/lib64")
        .file("/etc/hosts", "sandbox file\n")
        .file("/top-level", "made in the root tmpfs\n");
    let (code, out, err) = sh(
        &c,
        "cat /etc/hosts /top-level; ls -a /etc; echo x > /etc/hosts || echo still read-only",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "sandbox file\nmade in the root tmpfs\n.\n..\nhosts\nstill read-only\n"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("etc/hosts")).unwrap(),
        "host file\n"
    );
    let after = std::fs::metadata(root.join("etc/hosts")).unwrap();
    assert_eq!((before.ino(), before.mtime()), (after.ino(), after.mtime()));
    assert_eq!(names(&root), ["etc"]);
    assert_eq!(names(&root.join("etc")), ["hosts"]);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_new_file_inside_a_readonly_rootdir_directory_is_refused() {
    let root = ro_rootdir_with_etc("file-new");
    let mut c = Container::new();
    c.rootdir(&root, false)
        .rootfs("/")
        .file("/etc/hosts", "x")
        .file("/etc/new", "x");
    let (stage, errno, msg) = setup_error(&c);
    assert_eq!((stage, errno), (Stage::MountTarget, 30), "{msg}");
    assert!(
        msg.contains("/etc/new") && msg.contains("read-only"),
        "{msg}"
    );
    assert_eq!(names(&root.join("etc")), ["hosts"]);
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_mount_point_missing_inside_a_readonly_rootdir_directory_is_refused() {
    // Only the top level of a read-only rootdir is our tmpfs: below it, nothing is created.
    let root = ro_rootdir_with_etc("mount-point-new");
    std::fs::create_dir(root.join("own")).unwrap();
    let mut c = Container::new();
    c.rootdir(&root, false)
        .rootfs("/")
        .bindmount_ro("/etc/passwd", "/own/newname");
    let (stage, errno, msg) = setup_error(&c);
    assert_eq!((stage, errno), (Stage::MountTarget, 30), "{msg}");
    assert!(
        msg.contains("/own/newname") && msg.contains("read-only"),
        "{msg}"
    );
    assert_eq!(names(&root), ["etc", "own"]);
    assert!(names(&root.join("own")).is_empty());
    std::fs::remove_dir_all(root).unwrap();
}

#[test]
fn a_readonly_rootdir_is_never_written_to_while_the_sandbox_runs() {
    // Mount points, files, dirs and links land in the root tmpfs, never in the host
    // directory: nothing is left even if the supervisor is killed mid-run.
    let root = scratch("ro-rootdir-live");
    std::fs::create_dir(root.join("data")).unwrap();
    let mut c = Container::new();
    c.rootdir(&root, false)
        .rootfs("/")
        .devfsmount("/dev")
        .tmpfsmount("/tmp")
        .bindmount_ro("/etc/passwd", "/hostname")
        .dir("/made", 0o700)
        .file("/made/file", "x")
        .symlink("/made", "/link");
    let mut child = c
        .command("/bin/sh")
        .args(["-c", "echo up; read line"])
        .stdin(hakoniwa::Stdio::piped())
        .stdout(hakoniwa::Stdio::piped())
        .spawn()
        .unwrap();
    let mut up = [0u8; 3];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut up).unwrap();
    assert_eq!(
        names(&root),
        ["data"],
        "the host directory changed during the run"
    );
    assert!(names(&root.join("data")).is_empty());
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(names(&root), ["data"]);
    std::fs::remove_dir_all(root).unwrap();
}

// ---------------------------------------------------------------------------------------
// Item 9: the devfs nodes are read-only binds.

/// The probe only tries changes that would be harmless if they went through (the same mode,
/// the same owner, the current time): with the hole open, as root, they succeed and move the
/// host inode's ctime, which is what the test detects.
#[test]
fn devfs_nodes_work_but_their_host_inodes_cannot_be_changed() {
    let before = std::fs::metadata("/dev/null").unwrap();
    let mut c = sandbox();
    c.devfsmount("/dev").uidmap(0).gidmap(0);
    let (code, out, err) = sh(
        &c,
        "echo data > /dev/null && head -c 4 /dev/zero | wc -c
         chmod 666 /dev/null 2>/dev/null; echo chmod=$?
         touch /dev/null 2>/dev/null; echo touch=$?
         chown 0:0 /dev/null 2>/dev/null; echo chown=$?",
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "4", "{out}");
    for l in &lines[1..] {
        assert!(
            !l.ends_with("=0"),
            "{l} succeeded on the host's /dev/null:\n{out}"
        );
    }
    let after = std::fs::metadata("/dev/null").unwrap();
    assert_eq!(before.mode(), after.mode());
    assert_eq!(before.mtime(), after.mtime());
    assert_eq!(before.ctime(), after.ctime());
    assert_eq!((before.uid(), before.gid()), (after.uid(), after.gid()));
}

// ---------------------------------------------------------------------------------------
// Item 12: no mount point is ever created inside a read-write bind.

#[test]
fn a_missing_mount_point_inside_a_readwrite_bind_is_refused_and_nothing_is_created() {
    let d = scratch("rw-bind-nested");
    let mut c = sandbox();
    c.bindmount_rw(&d, "/shared")
        .bindmount_ro("/etc/passwd", "/shared/a/b/c")
        .tmpfsmount("/shared/t");
    // Refused before anything runs, each missing host path named.
    let err = c.command("/bin/true").status().unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    let msg = err.to_string();
    for p in ["a/b/c", "t"] {
        let host = d.join(p);
        assert!(msg.contains(host.to_str().unwrap()), "{p} not named: {msg}");
    }
    assert!(names(&d).is_empty(), "created on the host: {:?}", names(&d));
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn a_mount_point_behind_a_symlink_in_a_readwrite_bind_is_refused_by_the_child_too() {
    // The host-side check sees the link itself; inside, it leads to a path the sandbox lacks
    // (/home is not bound): the child refuses to create it rather than making anything.
    let d = scratch("rw-bind-link");
    std::os::unix::fs::symlink("/home/hakoniwa-absent", d.join("l")).unwrap();
    let mut c = sandbox();
    c.bindmount_rw(&d, "/shared").tmpfsmount("/shared/l");
    let (stage, errno, msg) = setup_error(&c);
    assert_eq!((stage, errno), (Stage::MountTarget, 2), "{msg}");
    assert!(msg.contains("never"), "{msg}");
    assert_eq!(names(&d), ["l"]);
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn an_existing_mount_point_inside_a_readwrite_bind_is_used() {
    let d = scratch("rw-bind-existing");
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    std::fs::write(d.join("a/b/c"), "").unwrap();
    std::fs::create_dir(d.join("t")).unwrap();
    let mut c = sandbox();
    c.bindmount_rw(&d, "/shared")
        .bindmount_ro("/etc/passwd", "/shared/a/b/c")
        .tmpfsmount("/shared/t")
        .tmpfsmount("/shared/t/deeper/still");
    let (code, out, err) = sh(
        &c,
        "cat /shared/a/b/c >/shared/t/x && ls -d /shared/t/deeper/still && echo new > /shared/new",
    );
    assert_eq!(
        (code, out.as_str()),
        (0, "/shared/t/deeper/still\n"),
        "{err}"
    );
    assert_eq!(names(&d), ["a", "new", "t"]);
    assert!(names(&d.join("t")).is_empty());
    std::fs::remove_dir_all(d).unwrap();
}

// ---------------------------------------------------------------------------------------
// A read-write rootdir holds what earlier programs left: a FIFO where the next run's
// `file` entry goes must not block the set-up (nothing, not even SIGTERM to the CLI, ends a
// run whose set-up never finishes).

#[test]
fn a_fifo_left_in_a_writable_rootdir_cannot_hang_the_next_run_s_setup() {
    let root = scratch("rw-rootdir-fifo");
    for d in ["usr", "proc", "etc"] {
        std::fs::create_dir(root.join(d)).unwrap();
    }
    std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
    let fifo = root.join("etc/notes");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let mut c = Container::new();
    c.rootdir(&root, true)
        .bindmount_ro("/usr", "/usr")
        .file("/etc/notes", "x\n");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = c.command("/bin/true").status().map_err(|e| e.to_string());
        let _ = tx.send(r);
    });
    let r = match rx.recv_timeout(std::time::Duration::from_secs(20)) {
        Ok(r) => r,
        Err(_) => {
            // Unblock the set-up (a reader arrives), so the failed test leaves nothing.
            let _ = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(0o4000) // O_NONBLOCK
                .open(&fifo);
            let _ = rx.recv_timeout(std::time::Duration::from_secs(20));
            let _ = std::fs::remove_dir_all(&root);
            panic!("the set-up blocked opening the FIFO left in the rootdir");
        }
    };
    std::fs::remove_dir_all(&root).unwrap();
    let e = r.expect_err("a FIFO is not a file the entry can be written to");
    assert!(e.contains("/etc/notes"), "{e}");
}
