//! Landlock tests. The negotiation tests are pure; the enforcement tests restrict a fresh
//! thread for real (landlock applies to the calling thread and its future children) and
//! probe what it can still do.

use std::fs;
use std::io::{self, ErrorKind};
use std::net::{TcpListener, TcpStream};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;

const EACCES: i32 = 13;
const EPERM: i32 = 1;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(tag: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("hakoniwa-landlock-{}-{tag}-{n}", std::process::id())
}

/// A directory under the temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(unique(tag));
        fs::create_dir_all(&p).expect("create temp dir");
        TempDir(p)
    }

    /// `dir/` with `dir/file` ("hello") and `dir/sub/`, and a copy of `true` at `dir/true`.
    fn fixture(tag: &str) -> Self {
        let t = TempDir::new(tag);
        fs::write(t.0.join("file"), b"hello").expect("write file");
        fs::create_dir(t.0.join("sub")).expect("mkdir sub");
        let tru = fs::canonicalize("/bin/true").expect("/bin/true");
        fs::copy(&tru, t.0.join("true")).expect("copy true");
        fs::set_permissions(t.0.join("true"), fs::Permissions::from_mode(0o755)).expect("chmod");
        t
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn require_abi(needed: u32) -> u32 {
    let abi = kernel_abi().expect("query landlock ABI");
    assert!(
        abi >= needed,
        "this test needs landlock ABI {needed}, the kernel has {abi}"
    );
    abi
}

/// Run `f` in a new thread restricted by `prepared`.
fn in_restricted<T: Send + 'static>(
    prepared: Prepared,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        rustix::thread::set_no_new_privs(true).expect("no_new_privs");
        hakoniwa_runtime::landlock::apply(&prepared.plan()).expect("landlock apply");
        f()
    })
    .join()
    .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Prepare `rs` for the running kernel (Enforce must succeed) and run `f` under it.
fn under<T: Send + 'static>(rs: &Ruleset, f: impl FnOnce() -> T + Send + 'static) -> T {
    let prepared = rs.prepare(require_abi(1)).expect("prepare");
    in_restricted(prepared, f)
}

#[track_caller]
fn assert_errno<T: std::fmt::Debug>(r: io::Result<T>, errno: i32, what: &str) {
    match r {
        Err(e) if e.raw_os_error() == Some(errno) => {}
        other => panic!("{what}: expected errno {errno}, got {other:?}"),
    }
}

#[track_caller]
fn assert_ok<T: std::fmt::Debug>(r: io::Result<T>, what: &str) {
    if let Err(e) = r {
        panic!("{what}: expected success, got {e}");
    }
}

fn fs_ruleset(rules: &[(&Path, FsAccess)]) -> Ruleset {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce);
    for (p, a) in rules {
        rs.add_fs_rule(*p, *a);
    }
    rs
}

/// Results of the filesystem probes, in the order of [`fs_probes`].
#[derive(Debug)]
struct FsProbes {
    list_dir: io::Result<()>,
    read_file: io::Result<()>,
    write_file: io::Result<()>,
    create_file: io::Result<()>,
    make_dir: io::Result<()>,
    list_parent: io::Result<()>,
}

fn fs_probes(d: PathBuf) -> FsProbes {
    FsProbes {
        list_dir: fs::read_dir(&d).map(drop),
        read_file: fs::read(d.join("file")).map(drop),
        write_file: fs::OpenOptions::new()
            .append(true)
            .open(d.join("file"))
            .map(drop),
        // Write-only on purpose (`File::create_new` also opens for reading).
        create_file: fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(d.join("new"))
            .map(drop),
        make_dir: fs::create_dir(d.join("newdir")),
        list_parent: fs::read_dir(d.parent().unwrap_or(Path::new("/"))).map(drop),
    }
}

// ---- filesystem: r / w / x -------------------------------------------------------------

#[test]
fn landlock_fs_read_only() {
    let t = TempDir::fixture("ro");
    let p = under(&fs_ruleset(&[(t.path(), FsAccess::R)]), {
        let d = t.path().to_owned();
        move || fs_probes(d)
    });
    assert_ok(p.list_dir, "R: list dir");
    assert_ok(p.read_file, "R: read file");
    assert_errno(p.write_file, EACCES, "R: write file");
    assert_errno(p.create_file, EACCES, "R: create file");
    assert_errno(p.make_dir, EACCES, "R: mkdir");
    assert_errno(
        p.list_parent,
        EACCES,
        "R: list the parent (outside the rule)",
    );
}

#[test]
fn landlock_fs_write_only() {
    let t = TempDir::fixture("wo");
    let p = under(&fs_ruleset(&[(t.path(), FsAccess::W)]), {
        let d = t.path().to_owned();
        move || fs_probes(d)
    });
    assert_errno(p.list_dir, EACCES, "W: list dir");
    assert_errno(p.read_file, EACCES, "W: read file");
    assert_ok(p.write_file, "W: write file");
    assert_ok(p.create_file, "W: create file");
    assert_ok(p.make_dir, "W: mkdir");
    assert_errno(p.list_parent, EACCES, "W: list the parent");
}

#[test]
fn landlock_fs_read_write() {
    let t = TempDir::fixture("rw");
    let p = under(&fs_ruleset(&[(t.path(), FsAccess::R | FsAccess::W)]), {
        let d = t.path().to_owned();
        move || fs_probes(d)
    });
    assert_ok(p.list_dir, "RW: list dir");
    assert_ok(p.read_file, "RW: read file");
    assert_ok(p.write_file, "RW: write file");
    assert_ok(p.create_file, "RW: create file");
    assert_ok(p.make_dir, "RW: mkdir");
    assert_errno(p.list_parent, EACCES, "RW: list the parent");
}

#[test]
fn landlock_fs_no_rules_denies_everything() {
    let t = TempDir::fixture("none");
    let p = under(&fs_ruleset(&[]), {
        let d = t.path().to_owned();
        move || fs_probes(d)
    });
    assert_errno(p.list_dir, EACCES, "none: list dir");
    assert_errno(p.read_file, EACCES, "none: read file");
    assert_errno(p.create_file, EACCES, "none: create file");
}

/// Rules for `/usr` (merged-/usr: covers /bin, /lib, /lib64 through their symlinks) and
/// `/etc`, so that a dynamically linked program can be loaded.
fn exec_ruleset(dir: &Path, dir_access: FsAccess) -> Ruleset {
    fs_ruleset(&[
        (Path::new("/usr"), FsAccess::R | FsAccess::X),
        (Path::new("/etc"), FsAccess::R),
        (dir, dir_access),
    ])
}

fn run(program: &Path) -> io::Result<bool> {
    Command::new(program).status().map(|s| s.success())
}

#[test]
fn landlock_fs_execute_denied_without_x() {
    let t = TempDir::fixture("nox");
    let copy = t.path().join("true");
    let (copied, system) = under(
        &exec_ruleset(t.path(), FsAccess::R | FsAccess::W),
        move || (run(&copy), run(Path::new("/bin/true"))),
    );
    let e = copied.expect_err("executing a copy without X must fail");
    assert_eq!(e.kind(), ErrorKind::PermissionDenied, "{e}");
    assert_eq!(e.raw_os_error(), Some(EACCES), "{e}");
    assert!(
        system.expect("/bin/true under /usr with X"),
        "/bin/true failed"
    );
}

#[test]
fn landlock_fs_execute_allowed_with_x() {
    // execve opens the file for reading too: executing needs R and X.
    let t = TempDir::fixture("x");
    let copy = t.path().join("true");
    let copied = under(
        &exec_ruleset(t.path(), FsAccess::R | FsAccess::X),
        move || run(&copy),
    );
    assert!(
        copied.expect("executing the copy with RX"),
        "copy of true failed"
    );
}

#[test]
fn landlock_fs_execute_needs_read_too() {
    let t = TempDir::fixture("xonly");
    let copy = t.path().join("true");
    let copied = under(&exec_ruleset(t.path(), FsAccess::X), move || run(&copy));
    assert_errno(copied, EACCES, "executing with X but without R");
}

#[test]
fn landlock_fs_rule_on_a_file_masks_directory_rights() {
    // R|W carries directory-only rights; the child must mask them for a regular file
    // (the kernel answers EINVAL otherwise).
    let t = TempDir::fixture("file");
    let file = t.path().join("file");
    let p = under(&fs_ruleset(&[(&file, FsAccess::R | FsAccess::W)]), {
        let d = t.path().to_owned();
        move || fs_probes(d)
    });
    assert_ok(p.read_file, "file rule: read it");
    assert_ok(p.write_file, "file rule: write it");
    assert_errno(p.list_dir, EACCES, "file rule: list its directory");
    assert_errno(p.create_file, EACCES, "file rule: create a sibling");
}

#[test]
fn landlock_fs_missing_rule_path_fails_the_setup() {
    let t = TempDir::new("missing");
    let rs = fs_ruleset(&[
        (t.path(), FsAccess::R),
        (&t.path().join("absent"), FsAccess::R),
    ]);
    let prepared = rs.prepare(require_abi(1)).expect("prepare");
    let r = std::thread::spawn(move || hakoniwa_runtime::landlock::apply(&prepared.plan()))
        .join()
        .expect("thread");
    let fail = r.expect_err("a missing rule path must fail");
    assert_eq!(fail.stage, hakoniwa_runtime::Stage::Landlock);
    assert_eq!(fail.errno, 2, "ENOENT");
    assert_eq!(fail.index, 1, "index of the failing rule");
}

fn truncate(path: &Path) -> io::Result<()> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("no NUL");
    // SAFETY: `c` is a NUL-terminated path that lives across the call.
    unsafe { syscalls::syscall!(syscalls::Sysno::truncate, c.as_ptr(), 0usize) }
        .map(drop)
        .map_err(|e| io::Error::from_raw_os_error(e.into_raw()))
}

#[test]
fn landlock_fs_truncate_follows_the_abi() {
    let abi = require_abi(3);
    let t = TempDir::fixture("trunc");
    let rs = fs_ruleset(&[(t.path(), FsAccess::R)]);
    // Running ABI: TRUNCATE is handled and not granted by R.
    let file = t.path().join("file");
    let r = in_restricted(rs.prepare(abi).expect("prepare"), move || truncate(&file));
    assert_errno(r, EACCES, "truncate with R on the running ABI");

    // Simulated ABI 2 in Enforce mode: TRUNCATE cannot be handled; not an error, but
    // reported, and really not enforced.
    let old = rs.prepare(2).expect("prepare(2)");
    assert!(
        old.report()
            .dropped
            .iter()
            .any(|d| d.to_string().starts_with("fs:truncate")),
        "{:?}",
        old.report()
    );
    let file = t.path().join("file");
    let r = in_restricted(old, move || truncate(&file));
    assert_ok(
        r,
        "truncate on simulated ABI 2 (reported as not restricted)",
    );
}

// ---- network ----------------------------------------------------------------------------

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

fn two_free_ports() -> (u16, u16) {
    let a = free_port();
    loop {
        let b = free_port();
        if b != a {
            return (a, b);
        }
    }
}

#[test]
fn landlock_tcp_bind() {
    require_abi(4);
    let target = TcpListener::bind("127.0.0.1:0").expect("listener");
    let target_port = target.local_addr().expect("addr").port();
    // A port found free may be taken by a test running alongside before the bind: another
    // pair then (the assertions are unchanged).
    let (ok, denied, connect) = (0..5)
        .map(|_| {
            let (allowed, other) = two_free_ports();
            let mut rs = Ruleset::new();
            rs.restrict(Resource::TcpBind, CompatMode::Enforce)
                .add_net_rule(allowed, Resource::TcpBind);
            under(&rs, move || {
                (
                    TcpListener::bind(("127.0.0.1", allowed)).map(drop),
                    TcpListener::bind(("127.0.0.1", other)).map(drop),
                    TcpStream::connect(("127.0.0.1", target_port)).map(drop),
                )
            })
        })
        .find(|(ok, _, _)| !matches!(ok, Err(e) if e.kind() == std::io::ErrorKind::AddrInUse))
        .expect("five pairs of ports, each taken before the bind");
    assert_ok(ok, "bind the allowed port");
    assert_errno(denied, EACCES, "bind another port");
    assert_ok(connect, "connect is not restricted");
}

#[test]
fn landlock_tcp_connect() {
    require_abi(4);
    let allowed = TcpListener::bind("127.0.0.1:0").expect("listener a");
    let other = TcpListener::bind("127.0.0.1:0").expect("listener b");
    let (pa, pb) = (
        allowed.local_addr().expect("a").port(),
        other.local_addr().expect("b").port(),
    );
    let mut rs = Ruleset::new();
    rs.restrict(Resource::TcpConnect, CompatMode::Enforce)
        .add_net_rule(pa, Resource::TcpConnect);
    let (ok, denied, bind) = under(&rs, move || {
        (
            TcpStream::connect(("127.0.0.1", pa)).map(drop),
            TcpStream::connect(("127.0.0.1", pb)).map(drop),
            TcpListener::bind("127.0.0.1:0").map(drop),
        )
    });
    assert_ok(ok, "connect to the allowed port");
    assert_errno(denied, EACCES, "connect to another (listening) port");
    assert_ok(bind, "bind is not restricted");
}

#[test]
fn landlock_best_effort_on_simulated_abi_3_really_drops_tcp_bind() {
    require_abi(4);
    let (allowed, other) = two_free_ports();
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::BestEffort)
        .add_fs_rule("/", FsAccess::R | FsAccess::W | FsAccess::X)
        .restrict(Resource::TcpBind, CompatMode::BestEffort)
        .add_net_rule(allowed, Resource::TcpBind);
    let prepared = rs.prepare(3).expect("BestEffort on ABI 3");
    assert_eq!(prepared.report().handled_net, 0);
    assert!(prepared
        .report()
        .dropped
        .iter()
        .any(|d| d.to_string().starts_with("tcp_bind")));
    let r = in_restricted(prepared, move || {
        TcpListener::bind(("127.0.0.1", other)).map(drop)
    });
    assert_ok(r, "bind is not restricted when tcp_bind was dropped");
}

// ---- scopes -------------------------------------------------------------------------------

fn abstract_addr(name: &str) -> SocketAddr {
    SocketAddr::from_abstract_name(name.as_bytes()).expect("abstract address")
}

#[test]
fn landlock_scope_abstract_unix_socket() {
    require_abi(6);
    let name = unique("sock");
    let _outside = UnixListener::bind_addr(&abstract_addr(&name)).expect("bind outside");
    let mut scoped = Ruleset::new();
    scoped.scope(Scope::AbstractUnixSocket, CompatMode::Enforce);
    let (to_outside, to_inside) = under(&scoped, {
        let name = name.clone();
        move || {
            let outside = UnixStream::connect_addr(&abstract_addr(&name)).map(drop);
            // A socket created inside the domain stays reachable.
            let inner = unique("inner");
            let inside = UnixListener::bind_addr(&abstract_addr(&inner))
                .and_then(|_l| UnixStream::connect_addr(&abstract_addr(&inner)))
                .map(drop);
            (outside, inside)
        }
    });
    assert_errno(
        to_outside,
        EPERM,
        "connect to an abstract socket outside the domain",
    );
    assert_ok(to_inside, "connect to an abstract socket inside the domain");

    // Control: a domain without the scope can connect.
    let mut unscoped = Ruleset::new();
    unscoped.restrict(Resource::TcpBind, CompatMode::Enforce);
    let r = under(&unscoped, move || {
        UnixStream::connect_addr(&abstract_addr(&name)).map(drop)
    });
    assert_ok(r, "connect without the scope");
}

#[test]
fn landlock_scope_signal() {
    require_abi(6);
    let mut sleepers: Vec<_> = (0..2)
        .map(|_| {
            Command::new("/bin/sleep")
                .arg("30")
                .spawn()
                .expect("spawn sleep")
        })
        .collect();
    let pids: Vec<_> = sleepers
        .iter()
        .map(rustix::process::Pid::from_child)
        .collect();
    let kill = |pid| move || rustix::process::kill_process(pid, rustix::process::Signal::TERM);

    let mut scoped = Ruleset::new();
    scoped.scope(Scope::Signal, CompatMode::Enforce);
    let denied = under(&scoped, kill(pids[0]));
    let mut unscoped = Ruleset::new();
    unscoped.restrict(Resource::TcpBind, CompatMode::Enforce);
    let allowed = under(&unscoped, kill(pids[1]));

    for s in &mut sleepers {
        let _ = s.kill();
        let _ = s.wait();
    }
    assert_eq!(
        denied,
        Err(rustix::io::Errno::PERM),
        "signal a process outside the domain"
    );
    assert_eq!(allowed, Ok(()), "signal without the scope");
}

// ---- negotiation (pure) ------------------------------------------------------------------

#[test]
fn landlock_kernel_abi_is_known() {
    let abi = kernel_abi().expect("kernel_abi");
    assert!(abi >= 1, "landlock is not available here (ABI 0)");
}

#[test]
fn landlock_rule_without_restriction_is_an_error() {
    let mut rs = Ruleset::new();
    rs.add_fs_rule("/usr", FsAccess::R);
    assert_eq!(
        rs.prepare(7).unwrap_err(),
        LandlockError::RuleWithoutRestriction {
            resource: "fs",
            rule: "/usr".into()
        }
    );

    // Restricting connect does not make a bind rule meaningful.
    let mut rs = Ruleset::new();
    rs.restrict(Resource::TcpConnect, CompatMode::Enforce)
        .add_net_rule(80, Resource::TcpBind);
    let e = rs.prepare(7).unwrap_err();
    assert_eq!(
        e,
        LandlockError::RuleWithoutRestriction {
            resource: "tcp_bind",
            rule: "80".into()
        }
    );
    assert!(e.to_string().contains("tcp_bind is not restricted"), "{e}");
}

#[test]
fn landlock_enforce_on_old_abi_is_unsupported() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::TcpBind, CompatMode::Enforce)
        .add_net_rule(8080, Resource::TcpBind);
    let e = rs.prepare(3).unwrap_err();
    assert_eq!(
        e,
        LandlockError::Unsupported {
            resource: "tcp_bind",
            needed_abi: 4,
            kernel_abi: 3
        }
    );
    assert!(e.to_string().contains("ABI 4"), "{e}");

    let mut rs = Ruleset::new();
    rs.scope(Scope::Signal, CompatMode::Enforce);
    assert_eq!(
        rs.prepare(5).unwrap_err(),
        LandlockError::Unsupported {
            resource: "scope:signal",
            needed_abi: 6,
            kernel_abi: 5
        }
    );

    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce);
    assert_eq!(
        rs.prepare(0).unwrap_err(),
        LandlockError::Unsupported {
            resource: "fs",
            needed_abi: 1,
            kernel_abi: 0
        }
    );
}

#[test]
fn landlock_best_effort_on_old_abi_drops_and_reports() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_fs_rule("/usr", FsAccess::R)
        .restrict(Resource::TcpBind, CompatMode::BestEffort)
        .add_net_rule(8080, Resource::TcpBind)
        .scope(Scope::AbstractUnixSocket, CompatMode::BestEffort);
    let p = rs.prepare(3).expect("prepare(3)");
    let r = p.report();
    assert_eq!(r.abi, 3);
    assert_eq!(r.handled_net, 0);
    assert_eq!(r.scoped, 0);
    assert_eq!(r.handled_fs, fs_rights(3));
    assert!(p.plan().net_rules.is_empty());
    assert_eq!(p.plan().fs_rules.len(), 1);
    let has = |prefix: &str| r.dropped.iter().any(|d| d.to_string().starts_with(prefix));
    assert!(has("tcp_bind: needs landlock ABI 4"), "{:?}", r.dropped);
    assert!(has("scope:abstract_unix_socket"), "{:?}", r.dropped);
    assert!(has("fs:ioctl_dev"), "{:?}", r.dropped);
    assert!(!has("fs:truncate"), "{:?}", r.dropped);

    // Nothing usable at all: a no-op plan, everything reported.
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::BestEffort)
        .add_fs_rule("/", FsAccess::R);
    let p = rs.prepare(0).expect("prepare(0)");
    assert!(p.report().is_noop());
    assert!(p.plan().fs_rules.is_empty());
    assert_eq!(p.report().dropped.len(), 1, "{:?}", p.report().dropped);
}

#[test]
fn landlock_full_abi_enforces_everything() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .restrict(Resource::TcpBind, CompatMode::Enforce)
        .restrict(Resource::TcpConnect, CompatMode::Enforce)
        .scope(Scope::AbstractUnixSocket, CompatMode::Enforce)
        .scope(Scope::Signal, CompatMode::Enforce)
        .add_net_rule(443, Resource::TcpConnect);
    let p = rs.prepare(7).expect("prepare(7)");
    let r = p.report();
    assert_eq!(r.handled_fs, (1 << 16) - 1);
    assert_eq!(r.handled_net, NET_BIND_TCP | NET_CONNECT_TCP);
    assert_eq!(r.scoped, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL);
    assert!(r.dropped.is_empty(), "{:?}", r.dropped);
    let plan = p.plan();
    assert_eq!(plan.net_rules.len(), 1);
    assert_eq!(
        (plan.net_rules[0].port, plan.net_rules[0].access),
        (443, NET_CONNECT_TCP)
    );
    // A future kernel is driven as the newest known ABI.
    assert_eq!(
        rs.prepare(42).expect("prepare(42)").report().abi,
        LATEST_ABI
    );
}

#[test]
fn landlock_fs_rights_per_abi() {
    assert_eq!(fs_rights(0), 0);
    assert_eq!(fs_rights(1), (1 << 13) - 1);
    assert_eq!(fs_rights(2), (1 << 14) - 1);
    assert_eq!(fs_rights(3), (1 << 15) - 1);
    assert_eq!(fs_rights(4), (1 << 15) - 1);
    assert_eq!(fs_rights(5), (1 << 16) - 1);
    assert_eq!(fs_rights(7), (1 << 16) - 1);

    assert_eq!(FsAccess::R.rights(7), FS_READ_FILE | FS_READ_DIR);
    assert_eq!(FsAccess::X.rights(7), FS_EXECUTE);
    let w1 = FsAccess::W.rights(1);
    assert_eq!(
        w1,
        fs_rights(1) & !(FS_EXECUTE | FS_READ_FILE | FS_READ_DIR)
    );
    assert_eq!(FsAccess::W.rights(2), w1 | FS_REFER);
    assert_eq!(FsAccess::W.rights(3), w1 | FS_REFER | FS_TRUNCATE);
    assert_eq!(
        FsAccess::W.rights(5),
        w1 | FS_REFER | FS_TRUNCATE | FS_IOCTL_DEV
    );
    assert_eq!(FsAccess::all().rights(7), fs_rights(7));

    // On ABI 1 REFER is implicitly denied (stricter), so it is not reported as dropped.
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce);
    let d = rs.prepare(1).expect("prepare(1)").report().dropped.clone();
    assert_eq!(d.len(), 2, "{d:?}");
    assert!(
        d[0].to_string().starts_with("fs:truncate") && d[1].to_string().starts_with("fs:ioctl_dev"),
        "{d:?}"
    );
}

#[test]
fn landlock_bad_rules_are_errors() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_fs_rule("usr/lib", FsAccess::R);
    assert_eq!(
        rs.prepare(7).unwrap_err(),
        LandlockError::BadPath("usr/lib".into())
    );

    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_fs_rule("/a\0b", FsAccess::R);
    assert!(matches!(
        rs.prepare(7).unwrap_err(),
        LandlockError::BadPath(_)
    ));

    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_fs_rule("/usr", FsAccess::empty());
    assert_eq!(
        rs.prepare(7).unwrap_err(),
        LandlockError::EmptyAccess("/usr".into())
    );

    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_net_rule(22, Resource::Fs);
    assert_eq!(
        rs.prepare(7).unwrap_err(),
        LandlockError::NotANetResource { port: 22 }
    );
}

#[test]
fn landlock_ruleset_and_prepared_are_thread_safe_values() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Ruleset>();
    send_sync::<Prepared>();
    send_sync::<Enforcement>();
    // Prepared owns its paths: the plan stays valid after the Ruleset is gone and after
    // the Prepared value moves.
    let prepared = {
        let mut rs = Ruleset::new();
        rs.restrict(Resource::Fs, CompatMode::Enforce)
            .add_fs_rule(String::from("/usr/share"), FsAccess::R);
        rs.prepare(7).expect("prepare")
    };
    let moved = Box::new(prepared);
    assert_eq!(moved.plan().fs_rules[0].path.to_bytes(), b"/usr/share");
    assert_eq!(moved.plan().fs_rules[0].access, FS_READ_FILE | FS_READ_DIR);
}

#[test]
fn dropped_restrictions_are_typed_with_the_abi_they_need() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::Fs, CompatMode::Enforce)
        .add_fs_rule("/usr", FsAccess::R)
        .restrict(Resource::TcpBind, CompatMode::BestEffort)
        .add_net_rule(8080, Resource::TcpBind)
        .scope(Scope::Signal, CompatMode::BestEffort);
    let p = rs.prepare(3).expect("prepare(3)");
    let dropped = &p.report().dropped;
    assert!(dropped.contains(&Dropped {
        what: NotEnforced::Resource(Resource::TcpBind),
        needed_abi: 4,
        kernel_abi: 3,
        rules: 1,
    }));
    assert!(dropped.contains(&Dropped {
        what: NotEnforced::Scope(Scope::Signal),
        needed_abi: 6,
        kernel_abi: 3,
        rules: 0,
    }));
    assert!(dropped.contains(&Dropped {
        what: NotEnforced::FsRight(FS_IOCTL_DEV),
        needed_abi: 5,
        kernel_abi: 3,
        rules: 0,
    }));
    assert_eq!(
        NotEnforced::FsRight(FS_IOCTL_DEV).name(),
        "fs:ioctl_dev",
        "names stay the report's words"
    );
}

#[test]
fn an_unenforceable_resource_is_an_unsupported_error_kind() {
    let mut rs = Ruleset::new();
    rs.restrict(Resource::TcpConnect, CompatMode::Enforce);
    let err = crate::Error::Landlock(rs.prepare(3).unwrap_err());
    assert_eq!(err.kind(), crate::ErrorKind::Unsupported);
    assert_eq!(crate::ErrorKind::Unsupported as u32, 7);
}

#[test]
fn right_names_follow_the_bits() {
    assert_eq!(
        fs_right_names(FS_EXECUTE | FS_READ_FILE | FS_IOCTL_DEV),
        ["execute", "read_file", "ioctl_dev"]
    );
    assert_eq!(net_right_names(NET_CONNECT_TCP), ["connect_tcp"]);
    assert_eq!(
        scope_names(SCOPE_SIGNAL | SCOPE_ABSTRACT_UNIX_SOCKET),
        ["abstract_unix_socket", "signal"]
    );
}
