//! Issue "Safe defaults when the program runs as uid 0": escape attempts by a program that
//! is root inside the sandbox (`uidmap(0).gidmap(0)`), run the same way whether the test
//! runs as root or as an unprivileged user. Each test also has a control that shows the
//! probe can see the thing it says is impossible.
mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;

use common::*;
use hakoniwa::seccomp::Seccomp;
use hakoniwa::Container;

fn sys_admin() -> u32 {
    hakoniwa::caps::from_name("SYS_ADMIN").unwrap()
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hakoniwa-esc-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `perl /probe/setattr.pl PATH`: `mount_setattr(AT_FDCWD, PATH, 0, {attr_clr: RDONLY}, 32)`;
/// prints the errno, or 0 if the flag was cleared.
const SETATTR_PL: &str = r#"my $p = shift; my $a = pack("QQQQ", 0, 1, 0, 0);
my $r = syscall(442, -100, $p, 0, $a, 32); print $r == -1 ? $! + 0 : 0;"#;

/// `perl /probe/openw.pl PATH...`: a real `open(O_WRONLY | O_APPEND)` (never creating the
/// file); prints `PATH=opened` or `PATH=ERRNO`, one per line.
const OPENW_PL: &str = r#"use Fcntl;
for my $p (@ARGV) {
  if (sysopen(my $f, $p, O_WRONLY | O_APPEND)) { print "$p=opened\n"; close $f }
  else { print "$p=", $! + 0, "\n" }
}"#;

/// `perl /probe/umount.pl PATH...`: `umount2(PATH, MNT_DETACH)`; prints `PATH=0|ERRNO`.
const UMOUNT_PL: &str = r#"for my $p (@ARGV) {
  my $r = syscall(166, $p, 2); print "umount $p=", ($r == -1 ? $! + 0 : 0), "\n";
}"#;

/// The default sandbox with a tmpfs /tmp, a devfs and the perl probes under /probe.
fn base() -> Container {
    let mut c = sandbox();
    c.devfsmount("/dev")
        .tmpfsmount("/tmp")
        .file("/probe/setattr.pl", SETATTR_PL)
        .file("/probe/openw.pl", OPENW_PL)
        .file("/probe/umount.pl", UMOUNT_PL);
    c
}

/// `base()` with the program as uid 0 / gid 0. For a root caller that is host root, whose
/// sandbox loses CAP_SETFCAP and set-id modes by default (tests in `host_root.rs`); these
/// probes need the whole default set (mapping uid 0 in a nested user namespace needs
/// CAP_SETFCAP), so the block is turned off here.
fn root_inside() -> Container {
    let mut c = base();
    c.uidmap(0).gidmap(0).runctl(hakoniwa::Runctl::AllowSetid);
    c
}

/// The variants a uid-0 program is tried under: (label, container).
fn root_variants() -> Vec<(&'static str, Container)> {
    let mut unconfined = root_inside();
    unconfined.seccomp(Seccomp::Unconfined);
    let mut sys_admin_cap = root_inside();
    sys_admin_cap.cap_add(sys_admin());
    let mut both = root_inside();
    both.seccomp(Seccomp::Unconfined).cap_add(sys_admin());
    vec![
        ("default", root_inside()),
        ("unconfined", unconfined),
        ("cap_add(SYS_ADMIN)", sys_admin_cap),
        ("unconfined+SYS_ADMIN", both),
    ]
}

/// `key=value` lines of the output (later lines win).
fn kv(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

fn run(c: &Container, script: &str) -> (String, String) {
    let (code, out, err) = sh(c, script);
    assert_eq!(code, 0, "script failed:\n{out}\n{err}");
    (out, err)
}

// ---------------------------------------------------------------------------------------
// Read-only binds stay read-only.

/// Every way of making /data writable, from the sandbox and from a user namespace the
/// program makes itself; each prints `name=RESULT` (0 = it worked).
const REMOUNT_SCRIPT: &str = r#"
mount -o remount,rw /data 2>/dev/null; echo "remount=$?"
mount -o remount,bind,rw /data 2>/dev/null; echo "remount_bind=$?"
echo "setattr=$(perl /probe/setattr.pl /data)"
( : > /data/outer ) 2>/dev/null; echo "write=$?"
unshare -Urm sh -c '
  echo "inner_ns=1"
  mount -o remount,rw /data 2>/dev/null; echo "inner_remount=$?"
  mount -o remount,bind,rw /data 2>/dev/null; echo "inner_remount_bind=$?"
  echo "inner_setattr=$(perl /probe/setattr.pl /data)"
  ( : > /data/inner ) 2>/dev/null; echo "inner_write=$?"
' 2>/dev/null
echo "opts=$(awk '$5 == "/data" { print $6 }' /proc/self/mountinfo | tail -n 1)"
"#;

#[test]
fn read_only_bind_cannot_be_made_writable_by_uid0() {
    for (label, mut c) in root_variants() {
        let dir = scratch("ro");
        std::fs::write(dir.join("f"), "x").unwrap();
        c.bindmount_ro(&dir, "/data");
        let (out, err) = run(&c, REMOUNT_SCRIPT);
        let r = kv(&out);
        let ctx = format!("[{label}]\n{out}\n{err}");
        for k in ["remount", "remount_bind", "write"] {
            assert_ne!(r[k], "0", "{k} succeeded {ctx}");
        }
        assert_ne!(r["setattr"], "0", "mount_setattr cleared RDONLY {ctx}");
        // unshare(CLONE_NEWUSER) is allowed by the default profile, so the nested attempts
        // really ran in every variant: the program could make its own namespaces.
        assert_eq!(
            r.get("inner_ns").map(String::as_str),
            Some("1"),
            "unshare -Urm did not run {ctx}"
        );
        for k in ["inner_remount", "inner_remount_bind", "inner_write"] {
            assert_ne!(r[k], "0", "{k} succeeded {ctx}");
        }
        assert_ne!(r["inner_setattr"], "0", "nested mount_setattr worked {ctx}");
        assert!(r["opts"].starts_with("ro,"), "flags changed {ctx}");
        let mut left: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        left.sort();
        assert_eq!(left, ["f"], "a file appeared on the host {ctx}");
        assert_eq!(std::fs::read_to_string(dir.join("f")).unwrap(), "x");
        std::fs::remove_dir_all(dir).unwrap();
    }
}

#[test]
fn control_the_remount_probe_sees_a_writable_bind() {
    let dir = scratch("rw");
    let mut c = root_inside();
    c.bindmount_rw(&dir, "/data");
    let (out, err) = run(&c, REMOUNT_SCRIPT);
    let r = kv(&out);
    assert_eq!(r["write"], "0", "{out}\n{err}");
    assert_eq!(r["inner_write"], "0", "{out}\n{err}");
    assert!(r["opts"].starts_with("rw,"), "{out}");
    assert!(dir.join("outer").exists() && dir.join("inner").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

// ---------------------------------------------------------------------------------------
// procfs.

const PROC_WRITABLE_TARGETS: [&str; 4] = [
    "/proc/sys/kernel/core_pattern",
    "/proc/sys/kernel/modprobe",
    "/proc/sys/vm/drop_caches",
    "/proc/sysrq-trigger",
];

fn proc_variants() -> Vec<(&'static str, Container)> {
    let mut v = vec![("default map", base())];
    v.extend(root_variants());
    v
}

#[test]
fn sensitive_proc_files_cannot_be_opened_for_writing() {
    let targets = PROC_WRITABLE_TARGETS.join(" ");
    // First try to take the read-only covers away, then open each for writing. The
    // program's own /proc/self/comm is the control: the probe can open a proc file.
    let script = format!(
        "perl /probe/umount.pl /proc/sys /proc/sysrq-trigger /proc/keys; \
         perl /probe/openw.pl {targets} /proc/self/comm"
    );
    for (label, c) in proc_variants() {
        let (out, err) = run(&c, &script);
        let r = kv(&out);
        let ctx = format!("[{label}]\n{out}\n{err}");
        assert_eq!(r["/proc/self/comm"], "opened", "control {ctx}");
        for t in PROC_WRITABLE_TARGETS {
            let got = r.get(t).unwrap_or_else(|| panic!("{t} not probed {ctx}"));
            assert_ne!(got, "opened", "{t} opened for writing {ctx}");
        }
        for m in ["/proc/sys", "/proc/sysrq-trigger", "/proc/keys"] {
            assert_ne!(r[&format!("umount {m}")], "0", "{m} was unmounted {ctx}");
        }
    }
}

#[test]
fn masked_proc_files_show_nothing() {
    let files = "/proc/kcore /proc/keys /proc/timer_list /proc/latency_stats /proc/sched_debug";
    let dirs = "/proc/acpi /proc/scsi";
    let script = format!(
        "for f in {files} /proc/version; do [ -e $f ] && echo \"$f=$(head -c 65536 $f 2>/dev/null | wc -c)\"; done; \
         for d in {dirs}; do [ -d $d ] && echo \"$d=$(ls -A $d | wc -l)\"; done; true"
    );
    for (label, c) in proc_variants() {
        let (out, err) = run(&c, &script);
        let r = kv(&out);
        let ctx = format!("[{label}]\n{out}\n{err}");
        assert_ne!(r["/proc/version"], "0", "control: an unmasked file {ctx}");
        // What the host shows, where this caller can read it, so the check can fail.
        for f in files.split(' ').chain(dirs.split(' ')) {
            if let Some(n) = r.get(f) {
                assert_eq!(n, "0", "{f} shows something {ctx}");
            }
        }
        assert!(r.contains_key("/proc/keys"), "{ctx}");
        assert!(r.contains_key("/proc/timer_list"), "{ctx}");
    }
    if euid() == 0 {
        let host = std::fs::read_to_string("/proc/timer_list").unwrap_or_default();
        assert!(
            !host.is_empty(),
            "control: the host's timer_list has content"
        );
    }
}

#[test]
fn a_new_procfs_cannot_be_mounted_or_is_harmless() {
    let targets = format!("{} /proc/sys/kernel/core_pattern", PROC_WRITABLE_TARGETS[3]);
    let fresh_targets = "/tmp/p/sys/kernel/core_pattern /tmp/p/sysrq-trigger";
    let script = format!(
        "unshare -Urmpf --mount-proc perl /probe/openw.pl {targets} 2>/dev/null; \
           echo \"mount_proc=$?\"; \
         unshare -Urmpf sh -c 'mkdir -p /tmp/p && mount -t proc proc /tmp/p 2>/dev/null; \
           echo \"mount_t_proc=$?\"; ! mountpoint -q /tmp/p || perl /probe/openw.pl {fresh_targets}' 2>/dev/null; true"
    );
    let mut variants = root_variants();
    variants.push(("default map", base()));
    for (label, c) in variants {
        let (out, err) = run(&c, &script);
        let ctx = format!("[{label}]\n{out}\n{err}");
        assert!(
            !out.contains("=opened"),
            "a procfs file opened for writing {ctx}"
        );
        let r = kv(&out);
        // The documented decision: the mount itself is refused.
        assert_ne!(r["mount_proc"], "0", "unshare --mount-proc worked {ctx}");
        // (Not reached as host root: without CAP_SETFCAP `unshare -U` cannot map root.)
        let t = r.get("mount_t_proc").map_or("not reached", String::as_str);
        assert_ne!(t, "0", "mount -t proc worked {ctx}");
    }
}

// ---------------------------------------------------------------------------------------
// Keyring.

/// Add a key to a fresh session keyring of a child process (not the test's own), then run
/// `script` in that session with `$id` replaced by the key's serial: `sandbox_sh OPTS` when `opts` is given, plain
/// `sh` (no engine) otherwise.
fn in_key_session(opts: Option<&[&str]>, script: &str) -> String {
    let helper = example("sandbox_sh");
    assert!(helper.exists(), "build the examples first: {helper:?}");
    let runner = match opts {
        Some(o) => format!("{} {}", helper.display(), o.join(" ")),
        None => "sh -c".to_string(),
    };
    let outer = format!(
        "id=$(keyctl add user hk-secret s3cret @s) || exit 9; \
         exec {runner} \"{script}\""
    );
    let out = std::process::Command::new("keyctl")
        .args(["session", "-", "sh", "-c", &outer])
        .output()
        .expect("keyctl is required (keyutils, installed by .ci/setup)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

const KEY_SCRIPT: &str = "keyctl print $id 2>/dev/null || echo print-denied; \
                          keyctl show @s 2>&1; cat /proc/keys 2>&1; true";

#[test]
fn the_callers_session_key_is_not_readable_inside() {
    // Control: in the same session without the engine, the key can be read and is listed.
    let plain = in_key_session(None, KEY_SCRIPT);
    assert!(plain.starts_with("s3cret"), "{plain}");
    assert!(plain.contains("hk-secret"), "{plain}");
    for opts in [&["--uid0"][..], &[], &["--uid0", "--unconfined"]] {
        let out = in_key_session(Some(opts), &format!("echo id=$id; {KEY_SCRIPT}"));
        assert!(out.contains("id="), "{opts:?}: {out}");
        assert!(out.contains("print-denied"), "{opts:?}: {out}");
        assert!(!out.contains("s3cret"), "{opts:?}: payload leaked: {out}");
        assert!(!out.contains("hk-secret"), "{opts:?}: key listed: {out}");
    }
}

#[test]
fn the_callers_keys_are_not_reachable_by_serial() {
    // describe needs only the "view" permission that a key gives its owner's uid; with
    // `keyctl setperm` granting the user "read", even the payload is readable.
    let script = "keyctl describe $id 2>/dev/null || echo describe-denied";
    let out = in_key_session(Some(&["--uid0"]), script);
    assert!(out.contains("describe-denied"), "{out}");
}

// ---------------------------------------------------------------------------------------
// Terminal injection.

const TIOCSPTLCK: usize = 0x4004_5431;
const TIOCGPTPEER: usize = 0x5441;

/// A new pty: (master, non-blocking; a slave descriptor).
fn pty() -> (std::fs::File, OwnedFd) {
    use std::os::unix::fs::OpenOptionsExt;
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc_flags::O_NOCTTY | libc_flags::O_NONBLOCK)
        .open("/dev/ptmx")
        .unwrap();
    let unlock: i32 = 0;
    // SAFETY: TIOCSPTLCK reads one int from the pointer, which is valid for the call.
    unsafe {
        syscalls::syscall!(
            syscalls::Sysno::ioctl,
            master.as_raw_fd(),
            TIOCSPTLCK,
            &unlock as *const i32
        )
    }
    .expect("unlockpt");
    let flags = libc_flags::O_RDWR | libc_flags::O_NOCTTY | libc_flags::O_CLOEXEC;
    // SAFETY: TIOCGPTPEER takes open flags by value and returns a new descriptor.
    let fd = unsafe {
        syscalls::syscall!(
            syscalls::Sysno::ioctl,
            master.as_raw_fd(),
            TIOCGPTPEER,
            flags
        )
    }
    .expect("TIOCGPTPEER");
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    let slave = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    (master, slave)
}

/// Read the (non-blocking) pty master until `want` shows up, for at most `ms` milliseconds
/// otherwise, or until the pty reports an error (e.g. EIO once every slave is closed).
fn read_master_until(master: &mut std::fs::File, want: &[u8], ms: u64) -> Vec<u8> {
    let mut got = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(ms);
    while !got.windows(want.len()).any(|w| w == want) && std::time::Instant::now() < deadline {
        let mut buf = [0u8; 256];
        match master.read(&mut buf) {
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(_) => break,
        }
    }
    got
}

mod libc_flags {
    pub const O_RDWR: i32 = 0o2;
    pub const O_NOCTTY: i32 = 0o400;
    pub const O_NONBLOCK: i32 = 0o4000;
    pub const O_CLOEXEC: i32 = 0o2000000;
}

/// `perl /probe/tty.pl`: make stdin (the pty) the controlling terminal of a new session
/// (so TIOCSTI is allowed by the kernel), then try TIOCSTI and TIOCLINUX on it.
// The program leads its own process group, and a group leader cannot start a session:
// fork first, as setsid(1) does.
const TTY_PL: &str = r#"use POSIX ();
if (getpgrp() == $$) { my $pid = fork(); if ($pid) { waitpid($pid, 0); exit($? >> 8) } }
POSIX::setsid();
print "sctty=", (ioctl(STDIN, 0x540E, 0) ? 0 : $! + 0), "\n";
my $c = "x"; print "tiocsti=", (ioctl(STDIN, 0x5412, $c) ? 0 : $! + 0), "\n";
my $b = "\x00" x 64; print "tioclinux=", (ioctl(STDIN, 0x541C, $b) ? 0 : $! + 0), "\n";"#;

/// Runs the TTY probe; `injected_ms` is how long to look for an injected `x` on the master:
/// long when it is expected (found at once unless the machine is slow), short when it must
/// not come (its absence is the result).
fn tty_probe(mut c: Container, injected_ms: u64) -> (BTreeMap<String, String>, Vec<u8>) {
    let (mut master, slave) = pty();
    // Keep a slave open here so that the master stays readable after the program exits.
    let keep = slave.try_clone().unwrap();
    c.file("/probe/tty.pl", TTY_PL);
    let out = c
        .command("/usr/bin/perl")
        .arg("/probe/tty.pl")
        .stdin(hakoniwa::Stdio::from(slave))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Echoes reach the master through the pty's flip buffer (a work queue), so poll: until
    // an `x` shows up, or for `injected_ms` when it does not.
    let echoed = read_master_until(&mut master, b"x", injected_ms);
    drop(keep);
    (kv(&String::from_utf8_lossy(&out.stdout)), echoed)
}

#[test]
fn tiocsti_and_tioclinux_are_denied() {
    let mut uid0 = base();
    uid0.uidmap(0).gidmap(0);
    for (label, c) in [("default map", base()), ("uid 0", uid0)] {
        let (r, echoed) = tty_probe(c, 500);
        assert_eq!(r["sctty"], "0", "[{label}] setup: {r:?}");
        assert_eq!(
            r["tiocsti"], "1",
            "[{label}] TIOCSTI must give EPERM: {r:?}"
        );
        assert_eq!(
            r["tioclinux"], "1",
            "[{label}] TIOCLINUX must give EPERM: {r:?}"
        );
        assert!(!echoed.contains(&b'x'), "[{label}] injected: {echoed:?}");
    }
    // Control: without the filter the same probe reaches the kernel's own checks.
    let mut c = base();
    c.seccomp(Seccomp::Unconfined);
    let legacy = std::fs::read_to_string("/proc/sys/dev/tty/legacy_tiocsti")
        .map(|s| s.trim() == "1")
        .unwrap_or(true);
    let (r, echoed) = tty_probe(c, if legacy { 20_000 } else { 500 });
    assert_eq!(r["sctty"], "0", "{r:?}");
    assert_ne!(r["tioclinux"], "1", "{r:?}");
    if legacy {
        assert_eq!(r["tiocsti"], "0", "{r:?}");
        assert!(
            echoed.contains(&b'x'),
            "control injected nothing: {echoed:?}"
        );
    } else {
        assert_ne!(r["tiocsti"], "1", "{r:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Capabilities.

/// [CapInh, CapPrm, CapEff, CapBnd, CapAmb] of the program.
fn caps_inside(c: &Container) -> [u64; 5] {
    let (out, _) = run(c, "grep ^Cap /proc/self/status");
    let mut v = [u64::MAX; 5];
    for (i, name) in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"]
        .iter()
        .enumerate()
    {
        let line = out
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} missing: {out}"));
        v[i] = u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap();
    }
    v
}

#[test]
fn uid0_holds_exactly_the_default_capabilities() {
    let d = hakoniwa::caps::DEFAULT;
    assert_eq!(d, 0x8004_05fb, "Podman's set on x86_64");
    assert_eq!(caps_inside(&root_inside()), [0, d, d, d, 0]);
    let mut c = root_inside();
    c.cap_add(sys_admin());
    let a = d | 1 << 21;
    assert_eq!(caps_inside(&c), [0, a, a, a, 0]);
    let mut c = root_inside();
    c.capabilities(0);
    assert_eq!(caps_inside(&c), [0; 5]);
}

#[test]
fn a_non_root_program_holds_no_capabilities() {
    let mut c = base();
    c.uidmap(1000).gidmap(1000);
    assert_eq!(caps_inside(&c), [0; 5], "uidmap(1000)");
    // As root the default map is host root's: CAP_SETFCAP is dropped (set-id block).
    let d = hakoniwa::caps::DEFAULT & !(1 << 31);
    let expected = if euid() == 0 { [0, d, d, d, 0] } else { [0; 5] };
    assert_eq!(
        caps_inside(&base()),
        expected,
        "default map, euid {}",
        euid()
    );
}

// ---------------------------------------------------------------------------------------
// What worked keeps working.

#[test]
fn uid0_can_chown_and_chmod_in_its_own_tmpfs() {
    let (out, err) = run(
        &root_inside(),
        "touch /tmp/f && chown 0:0 /tmp/f && chmod 4750 /tmp/f && stat -c '%u:%g %a' /tmp/f; \
         mkdir /tmp/d && chmod 700 /tmp/d && chgrp 0 /tmp/d && stat -c '%u:%g %a' /tmp/d; \
         chown 1:1 /tmp/f 2>/dev/null || echo only-id-0-is-mapped",
    );
    assert_eq!(out, "0:0 4750\n0:0 700\nonly-id-0-is-mapped\n", "{err}");
}

/// `perl /probe/ldisc.pl`: on stdout (the pty), try the requests that change the terminal
/// for everyone (TIOCSETD to N_NULL, TIOCEXCL, TIOCVHANGUP, KDSETMODE, VT_ACTIVATE), print
/// `name=0|ERRNO` to stderr, then write `alive` to the terminal.
const LDISC_PL: &str = r#"$| = 1;
my $null = pack("i", 27); print STDERR "tiocsetd=", (ioctl(STDOUT, 0x5423, $null) ? 0 : $! + 0), "\n";
print STDERR "tiocexcl=", (ioctl(STDOUT, 0x540C, 0) ? 0 : $! + 0), "\n";
print STDERR "kdsetmode=", (ioctl(STDOUT, 0x4B3A, 1) ? 0 : $! + 0), "\n";
print STDERR "vt_activate=", (ioctl(STDOUT, 0x5606, 1) ? 0 : $! + 0), "\n";
print STDERR "tcgets=", (ioctl(STDOUT, 0x5401, my $t = "\0" x 64) ? 0 : $! + 0), "\n";
print "alive\n";"#;

/// Run the ldisc probe with a pty's slave as stdout; return the probe's results, what the
/// master read, and the slave's line discipline afterwards (`TIOCGETD`).
fn ldisc_probe(mut c: Container) -> (BTreeMap<String, String>, String, i32) {
    let (mut master, slave) = pty();
    let keep = slave.try_clone().unwrap();
    c.file("/probe/ldisc.pl", LDISC_PL);
    let out = c
        .command("/usr/bin/perl")
        .arg("/probe/ldisc.pl")
        .stdout(hakoniwa::Stdio::from(slave))
        .stderr(hakoniwa::Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let mut ldisc: i32 = -1;
    // SAFETY: TIOCGETD writes one int to the pointer, valid for the call.
    unsafe {
        syscalls::syscall!(
            syscalls::Sysno::ioctl,
            keep.as_raw_fd(),
            0x5424,
            &mut ldisc as *mut i32
        )
    }
    .expect("TIOCGETD");
    // Through N_TTY, `alive` reaches the master (polled: the flip buffer is a work queue;
    // found at once unless the machine is slow). Another discipline may hold it forever.
    let read = if ldisc == 0 {
        read_master_until(&mut master, b"alive", 20_000)
    } else {
        Vec::new()
    };
    (
        kv(&String::from_utf8_lossy(&out.stderr)),
        String::from_utf8_lossy(&read).into_owned(),
        ldisc,
    )
}

#[test]
fn tiocsetd_on_a_terminal_stdout_is_denied_and_the_terminal_still_works() {
    let allow_all = Seccomp::Oci {
        name: "allow-all".into(),
        json: r#"{"defaultAction":"SCMP_ACT_ALLOW"}"#.into(),
    };
    for (label, c) in [
        ("default", base()),
        ("uid 0", root_inside()),
        ("allow-all OCI", {
            let mut c = base();
            c.seccomp(allow_all);
            c
        }),
    ] {
        let (r, read, ldisc) = ldisc_probe(c);
        for k in ["tiocsetd", "tiocexcl", "kdsetmode", "vt_activate"] {
            assert_eq!(r[k], "1", "[{label}] {k} must give EPERM: {r:?}");
        }
        assert_eq!(r["tcgets"], "0", "[{label}] termios stays usable: {r:?}");
        assert_eq!(ldisc, 0, "[{label}] the line discipline is still N_TTY");
        assert!(read.contains("alive"), "[{label}] terminal dead: {read:?}");
    }
    // Control: without the filter the probe does change the line discipline.
    let mut c = base();
    c.seccomp(Seccomp::Unconfined);
    let (r, _, ldisc) = ldisc_probe(c);
    assert_eq!(r["tiocsetd"], "0", "{r:?}");
    assert_eq!(ldisc, 27, "the control did not reach the kernel");
}

#[test]
fn tiocsti_is_denied_under_every_profile_and_unconfined_gets_a_new_session() {
    // Audit and OCI profiles (here one that allows every ioctl) get the denial on top.
    let allow_all = Seccomp::Oci {
        name: "allow-all".into(),
        json: r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["ioctl"],"action":"SCMP_ACT_ALLOW"}]}"#.into(),
    };
    for profile in [Seccomp::Audit, allow_all] {
        let mut c = base();
        c.seccomp(profile.clone());
        let (r, echoed) = tty_probe(c, 500);
        assert_eq!(r["sctty"], "0", "{profile:?}: {r:?}");
        assert_eq!(
            r["tiocsti"], "1",
            "{profile:?}: TIOCSTI must give EPERM: {r:?}"
        );
        assert_eq!(
            r["tioclinux"], "1",
            "{profile:?}: TIOCLINUX must give EPERM: {r:?}"
        );
        assert!(!echoed.contains(&b'x'), "{profile:?}: injected: {echoed:?}");
    }
    // Unconfined: no filter, so the program must not share the caller's session.
    let (_master, slave) = pty();
    let mut c = base();
    c.seccomp(Seccomp::Unconfined);
    let out = c
        .command("/bin/sh")
        .args(["-c", "cut -d' ' -f6 /proc/self/stat; echo $$"])
        .stdin(hakoniwa::Stdio::from(slave))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let (sid, pid) = (lines.next().unwrap_or(""), lines.next().unwrap_or(""));
    // The sandbox's init (PID 1) leads the session; the program is PID 2.
    assert_eq!(
        (sid, pid),
        ("1", "2"),
        "the session must be the sandbox's own: {out:?}"
    );
}

#[test]
fn more_proc_paths_are_read_only_and_every_procfs_is_covered() {
    // A second procfs at another path gets the same covers as /proc.
    let mut c = base();
    c.uidmap(0).gidmap(0).procfsmount("/proc2");
    let script = "for p in /proc /proc2; do for d in irq bus fs sys; do \
                  if [ -d $p/$d ]; then touch $p/$d/x 2>/dev/null && echo $p/$d=writable || echo $p/$d=ro; fi; done; \
                  ( : >> $p/sysrq-trigger ) 2>/dev/null && echo $p/sysrq=writable || echo $p/sysrq=ro; \
                  grep -c . $p/timer_list 2>/dev/null || echo $p/timer_list=masked; done";
    let out = c.command("/bin/sh").args(["-c", script]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("writable"), "{text}");
    for p in ["/proc", "/proc2"] {
        assert!(text.contains(&format!("{p}/sys=ro")), "{text}");
        assert!(text.contains(&format!("{p}/sysrq=ro")), "{text}");
    }
}

#[test]
fn stdin_not_a_terminal_means_a_new_session_under_the_default_profile() {
    let out = base()
        .command("/bin/sh")
        .args(["-c", "cut -d' ' -f6 /proc/self/stat"])
        .stdin(hakoniwa::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{out:?}");
}
