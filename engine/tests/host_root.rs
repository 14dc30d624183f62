//! Sandboxes whose ids are host root's (a root caller's default `0 0 1` map): no set-id
//! files or file capabilities left in a read-write bind, and no process limit that the
//! kernel would not enforce. As an unprivileged caller the sandbox never holds host root's
//! ids: the same programs show that nothing is blocked there and that the limit holds.
mod common;

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use common::*;
use hakoniwa::{Container, Rlimit, Runctl};

/// A scratch directory removed when the test ends, passed or not: it may hold set-id files.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let d =
            std::env::temp_dir().join(format!("hakoniwa-hostroot-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Scratch(d)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Every way a set-id file or a file capability is made, in `/w`; one `name=0|ERRNO` line
/// each (`setcap` prints its exit code).
const SETID_SH: &str = r#"cd /w
cp /bin/true t
chmod u+s t 2>/dev/null; echo "chmod_u+s=$?"
chmod g+s t 2>/dev/null; echo "chmod_g+s=$?"
perl -e 'use Fcntl; sysopen(my $f, "o", O_WRONLY|O_CREAT, 04755) ? print "open_creat=0\n" : print "open_creat=", $!+0, "\n"'
perl -e 'my $p = "n"; print "mknod=", (syscall(133, $p, 0100000|04755, 0) == -1 ? $!+0 : 0), "\n"'
perl -e 'open(my $f, ">", "c") or die; print "fchmod=", (chmod(02755, $f) ? 0 : $!+0), "\n"'
setcap cap_setuid+ep t 2>/dev/null; echo "setcap=$?"
"#;

fn setid_probe(allow: bool) -> (std::collections::BTreeMap<String, String>, Scratch) {
    let d = Scratch::new(if allow { "setid-allowed" } else { "setid" });
    let mut c = sandbox();
    c.devfsmount("/dev").bindmount_rw(&d.0, "/w");
    if allow {
        c.runctl(Runctl::AllowSetid);
    }
    let (code, out, err) = sh(&c, SETID_SH);
    assert_eq!(code, 0, "{out}{err}");
    let kv = out
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    (kv, d)
}

fn setid_bits(p: &std::path::Path) -> u32 {
    std::fs::symlink_metadata(p)
        .map(|m| m.mode() & 0o6000)
        .unwrap_or(0)
}

fn has_file_caps(p: &std::path::Path) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
    let mut buf = [0u8; 64];
    // SAFETY: valid C strings and a buffer of the given length.
    let n = unsafe {
        syscalls::syscall!(
            syscalls::Sysno::getxattr,
            c.as_ptr(),
            c"security.capability".as_ptr(),
            buf.as_mut_ptr(),
            buf.len()
        )
    };
    n.is_ok()
}

#[test]
fn host_root_cannot_create_setid_files_or_file_capabilities_in_a_read_write_bind() {
    let (r, d) = setid_probe(false);
    let files = ["t", "o", "n", "c"].map(|f| d.0.join(f));
    if euid() == 0 {
        for k in ["chmod_u+s", "chmod_g+s", "open_creat", "mknod", "fchmod"] {
            assert_eq!(r[k], "1", "{k} must give EPERM: {r:?}");
        }
        assert_ne!(r["setcap"], "0", "setcap must fail: {r:?}");
        for f in &files {
            assert_eq!(setid_bits(f), 0, "{} has set-id bits", f.display());
        }
        assert!(!has_file_caps(&files[0]), "file capabilities were written");
    } else {
        // Not host root: set-id files of the caller's own uid are not blocked.
        assert_eq!(r["chmod_u+s"], "0", "{r:?}");
    }
}

#[test]
fn allow_setid_lets_host_root_create_setid_files_and_file_capabilities() {
    if euid() != 0 {
        return; // only a root caller's sandbox is blocked in the first place
    }
    let (r, d) = setid_probe(true);
    for k in [
        "chmod_u+s",
        "chmod_g+s",
        "open_creat",
        "mknod",
        "fchmod",
        "setcap",
    ] {
        assert_eq!(r[k], "0", "{k} must work with AllowSetid: {r:?}");
    }
    assert_ne!(setid_bits(&d.0.join("t")), 0);
    assert!(has_file_caps(&d.0.join("t")));
}

/// Fork up to 30 children that sleep; print how many forks succeeded.
const FORKS_PL: &str = r#"my @k; for (1..30) { my $p = fork; last unless defined $p;
if ($p == 0) { sleep 60; exit 0 } push @k, $p } print scalar(@k), "\n"; kill 9, @k;"#;

fn forks_under_limit(c: &mut Container) -> Result<u32, String> {
    c.devfsmount("/dev").setrlimit(Rlimit::Nproc, 10, 10);
    match c.command("/usr/bin/perl").args(["-e", FORKS_PL]).output() {
        Ok(o) => Ok(String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{o:?}"))),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn a_process_limit_for_a_program_running_as_host_root_is_refused_with_the_reason() {
    let r = forks_under_limit(&mut sandbox());
    if euid() == 0 {
        let e = r.expect_err("the limit cannot hold for kuid 0: spawn must fail");
        assert!(
            e.contains("RLIMIT_NPROC") && e.contains("host uid 0"),
            "{e}"
        );
    } else {
        let n = r.expect("an unprivileged caller's limit is accepted");
        assert!(n < 10, "the limit of 10 did not hold: {n} forks");
    }
}

#[test]
fn a_process_limit_holds_when_the_program_is_not_host_root() {
    // As root: a map without host root, or another user; as hkuser: the default.
    let mut cases = vec![sandbox()];
    if euid() == 0 {
        cases[0]
            .uidmaps(&[(0, 100000, 65536)])
            .gidmaps(&[(0, 100000, 65536)]);
        let mut other = sandbox();
        other
            .uidmaps(&[(0, 0, 1), (4242, 4242, 1)])
            .gidmaps(&[(0, 0, 1), (4242, 4242, 1)])
            .user(4242, 4242, None);
        cases.push(other);
    }
    for mut c in cases {
        let n = forks_under_limit(&mut c).expect("the limit is accepted");
        assert!(n < 10, "the limit of 10 did not hold: {n} forks");
    }
}

#[test]
fn host_root_cannot_map_root_in_a_nested_user_namespace_unless_allowed() {
    // The kernel requires CAP_SETFCAP to map uid 0 of a new user namespace: a nested root
    // that is host root could otherwise write file capabilities valid on the host.
    if euid() != 0 {
        return; // an unprivileged caller's sandbox keeps CAP_SETFCAP (its files are its own)
    }
    let probe = "unshare -Ur true 2>/dev/null; echo $?";
    let mut c = sandbox();
    c.devfsmount("/dev").uidmap(0).gidmap(0);
    let (_, out, err) = sh(&c, probe);
    assert_eq!(
        out.trim(),
        "1",
        "unshare -Ur must fail for host root: {err}"
    );
    c.runctl(Runctl::AllowSetid);
    let (_, out, err) = sh(&c, probe);
    assert_eq!(out.trim(), "0", "{err}");
}

/// The less common ways to a set-id mode, in `/w`: an `O_TMPFILE` made set-id then linked in,
/// `fchmodat2` (with flags, and on an `O_PATH` descriptor), `chmod` through a
/// `/proc/self/fd` link, `openat2` and `io_uring` (whose modes seccomp cannot read), a
/// set-group-ID FIFO, and the x32 number of `chmod`. One `name errno` line each.
const SETID_MORE_PY: &str = r#"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def r(name, v):
    print(name, ctypes.get_errno() if v < 0 else 0)
O_TMPFILE = 0o20000000 | 0o200000
r("tmpfile_setuid", libc.syscall(257, -100, b"/w", O_TMPFILE | 2, 0o4755))
fd = libc.syscall(257, -100, b"/w", O_TMPFILE | 2, 0o755)
r("tmpfile_fchmod", libc.fchmod(fd, 0o4755))
libc.syscall(265, fd, b"", -100, b"/w/tmp", 0x1000)
open("/w/f", "w").close()
r("fchmodat2", libc.syscall(452, -100, b"/w/f", 0o4755, 0x100))
p = os.open("/w/f", os.O_PATH)
r("fchmodat2_empty_path", libc.syscall(452, p, b"", 0o2755, 0x1000))
r("chmod_proc_fd", libc.chmod(b"/proc/self/fd/%d" % p, 0o4755))
class How(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]
r("openat2", libc.syscall(437, -100, b"/w/o2", ctypes.byref(How(0o101, 0o4755, 0)), 24))
r("io_uring_setup", libc.syscall(425, 4, (ctypes.c_char * 120)()))
r("mknodat_fifo_setgid", libc.syscall(259, -100, b"/w/fifo", 0o010000 | 0o2755, 0))
r("x32_chmod", libc.syscall(0x40000000 | 90, b"/w/f", 0o4755))
r("control_chmod_755", libc.chmod(b"/w/f", 0o755))
"#;

#[test]
fn host_root_cannot_make_setid_files_through_tmpfile_fchmodat2_proc_fd_openat2_or_io_uring() {
    let d = Scratch::new("setid-more");
    let mut c = sandbox();
    c.devfsmount("/dev").bindmount_rw(&d.0, "/w");
    let out = c
        .command("/usr/bin/python3")
        .args(["-c", SETID_MORE_PY])
        .output()
        .expect("spawn");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let got: std::collections::BTreeMap<&str, &str> =
        text.lines().filter_map(|l| l.split_once(' ')).collect();
    assert_eq!(got.get("control_chmod_755"), Some(&"0"), "{text}{out:?}");
    if euid() == 0 {
        let (eperm, enosys) = ("1", "38");
        for k in [
            "tmpfile_setuid",
            "tmpfile_fchmod",
            "fchmodat2",
            "fchmodat2_empty_path",
            "chmod_proc_fd",
            "mknodat_fifo_setgid",
        ] {
            assert_eq!(got.get(k), Some(&eperm), "{k}: {text}");
        }
        for k in ["openat2", "io_uring_setup", "x32_chmod"] {
            assert_eq!(got.get(k), Some(&enosys), "{k}: {text}");
        }
        for e in std::fs::read_dir(&d.0).unwrap().flatten() {
            assert_eq!(setid_bits(&e.path()), 0, "{} is set-id", e.path().display());
        }
    } else {
        // Not host root: the caller's own set-id files are not blocked.
        assert_eq!(got.get("fchmodat2"), Some(&"0"), "{text}");
    }
}
