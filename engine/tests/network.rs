//! Networking (issue 6): none, host and pasta; loopback only, no internet.
mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

use common::*;
use hakoniwa::{Error, Network, Pasta, Stage};

fn net(n: impl Into<Network>) -> hakoniwa::Container {
    let mut c = sandbox();
    c.devfsmount("/dev").network(n);
    c
}

/// A free TCP port on the host's loopback.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A port for pasta to forward from the host (`-t`), outside the kernel's ephemeral range.
///
/// When pasta cannot bind a forwarded port's IPv4 socket but can bind the IPv6 one, it
/// carries on silently. A port from `free_port` is released before pasta binds it, and a
/// test running at the same time could be handed the same port by its own `bind(0)` in
/// between (CI saw this once). Ports below the ephemeral range are never handed out that
/// way; each call of this process takes the next one, from a start that differs per process.
fn forward_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20000 + (std::process::id() % 500) as u16 * 16;
    (0..64)
        .map(|_| start + NEXT.fetch_add(1, Ordering::Relaxed) % 16)
        .find(|&port| {
            let free = |a: &str| TcpListener::bind((a, port)).is_ok();
            free("0.0.0.0") && free("::")
        })
        .expect("no free port to forward among 16 tried")
}

const PERL_SERVER: &str = r#"use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => "0.0.0.0", LocalPort => $ARGV[0], Listen => 1, ReuseAddr => 1) or die "listen: $!"; print STDOUT "listening\n"; STDOUT->flush; my $c = $s->accept; print $c "hello from inside\n"; close $c;"#;
const PERL_CLIENT: &str = r#"use IO::Socket::INET; my $c = IO::Socket::INET->new(PeerAddr => "127.0.0.1", PeerPort => $ARGV[0], Timeout => 3); if ($c) { print scalar <$c> } else { print "refused: $!\n" }"#;

#[test]
fn none_has_only_loopback_up_and_local_traffic_works() {
    let c = net(Network::None);
    let (code, out, err) = sh(&c, "ip -o link | awk '{print $2, $3}'");
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("lo: <LOOPBACK,UP,LOWER_UP>"), "{out}");
    let port = 23456;
    // The client starts once the server said it listens (no sleep: a pipe orders them).
    let script = format!(
        "perl -e '{PERL_SERVER}' {port} | {{ read -r listening; perl -e '{PERL_CLIENT}' {port}; }}"
    );
    let (code, out, err) = sh(&c, &script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hello from inside\n");
}

#[test]
fn none_cannot_reach_the_host() {
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let (code, out, err) = sh(
        &net(Network::None),
        &format!("perl -e '{PERL_CLIENT}' {port}"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("refused"), "{out}");
}

#[test]
fn host_mode_shares_the_host_interfaces() {
    let mut c = net(Network::Host);
    c.unshare(hakoniwa::Namespace::Network)
        .network(Network::Host); // host overrides unshare
    let (code, out, _) = sh(&c, "readlink /proc/self/ns/net");
    assert_eq!(code, 0);
    assert_eq!(
        out.trim(),
        std::fs::read_link("/proc/self/ns/net")
            .unwrap()
            .to_str()
            .unwrap()
    );
}

#[test]
fn pasta_inbound_forwarding_reaches_a_server_inside() {
    let port = forward_port();
    let mut child = net(Pasta::default().args(["-t", &port.to_string()]))
        .command("/usr/bin/perl")
        .args(["-e", PERL_SERVER, &port.to_string()])
        .stdout(hakoniwa::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = [0u8; 10];
    child
        .stdout
        .as_mut()
        .unwrap()
        .read_exact(&mut line)
        .unwrap();
    assert_eq!(&line, b"listening\n");
    let t = Instant::now();
    let mut got = String::new();
    while t.elapsed() < Duration::from_secs(10) {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            got.clear();
            let _ = s.read_to_string(&mut got);
            if !got.is_empty() {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(got, "hello from inside\n");
    assert!(child.wait().unwrap().success());
}

#[test]
fn pasta_outbound_forwarding_reaches_a_host_server() {
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = host.accept().unwrap();
        s.write_all(b"hello from the host\n").unwrap();
    });
    let (code, out, err) = sh(
        &net(Pasta::default().args(["-T", &port.to_string()])),
        &format!("perl -e '{PERL_CLIENT}' {port}"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "hello from the host\n");
    server.join().unwrap();
}

#[test]
fn pasta_errors_carry_pastas_message() {
    let err = net(Pasta::default().program("/no/such/pasta"))
        .command("/bin/true")
        .status()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Setup {
                stage: Stage::Network,
                errno: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("/no/such/pasta"), "{err}");
    let err = net(Pasta::default().args(["--definitely-not-an-option"]))
        .command("/bin/true")
        .status()
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::Setup {
                stage: Stage::Network,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("definitely-not-an-option"),
        "{err}"
    );
}

/// What the sandboxes `pids` left: a pasta started for one of them (its command line ends
/// with the sandbox's pid), a sandbox still there, or a network namespace this process holds
/// a descriptor of. Nothing else is counted: other processes of the machine (other tests
/// among them) start and stop pasta and network namespaces at the same time.
fn left_from(pids: &[u32]) -> Vec<String> {
    let mut left = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let comm = std::fs::read_to_string(e.path().join("comm")).unwrap_or_default();
        let cmd = std::fs::read(e.path().join("cmdline")).unwrap_or_default();
        let pasta = comm.starts_with("passt") || comm.starts_with("pasta");
        if pasta
            && pids
                .iter()
                .any(|p| cmd.ends_with(format!("\0{p}\0").as_bytes()))
        {
            left.push(format!("pasta {pid}: {}", String::from_utf8_lossy(&cmd)));
        } else if pids.contains(&pid) {
            left.push(format!("sandbox {pid} ({})", comm.trim()));
        }
    }
    for fd in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        if let Ok(l) = std::fs::read_link(fd.path()) {
            if l.to_string_lossy().starts_with("net:[") {
                left.push(format!(
                    "descriptor {:?} of {}",
                    fd.file_name(),
                    l.display()
                ));
            }
        }
    }
    left
}

#[test]
fn pasta_defaults_forward_nothing_and_keep_the_gateway_unmapped() {
    let args = Pasta::default().command_line(42, false);
    for pair in [
        ["-t", "none"],
        ["-u", "none"],
        ["-T", "none"],
        ["-U", "none"],
    ] {
        assert!(args.windows(2).any(|w| w == pair), "{args:?}");
    }
    assert!(args.contains(&"--no-map-gw".to_string()), "{args:?}");
    assert!(
        args.ends_with(&["--pid".into(), "/proc/self/fd/0".into(), "42".into()]),
        "{args:?}"
    );
    // A caller's forwarding replaces the default for that direction only; --map-gw wins.
    let args = Pasta::default()
        .args(["-t", "8080", "--map-gw"])
        .command_line(1, true);
    assert!(!args.windows(2).any(|w| w == ["-t", "none"]), "{args:?}");
    assert!(args.windows(2).any(|w| w == ["-T", "none"]), "{args:?}");
    assert!(
        !args.iter().any(|a| a == "--no-map-gw" || a == "--map-gw"),
        "{args:?}"
    );
    assert!(args.windows(2).any(|w| w == ["--runas", "0"]), "{args:?}");
}

#[test]
fn landlock_tcp_rules_compose_with_none_and_host() {
    use hakoniwa::landlock::{CompatMode, Resource, Ruleset};
    for mode in [Network::None, Network::Host] {
        // With the host's network the ports are the host's: take free ones, not fixed ones
        // another process of the machine may hold.
        let allowed = free_port();
        let denied = std::iter::repeat_with(free_port)
            .find(|p| *p != allowed)
            .unwrap();
        let mut r = Ruleset::new();
        r.restrict(Resource::TcpBind, CompatMode::Enforce)
            .add_net_rule(allowed, Resource::TcpBind);
        let mut c = net(mode.clone());
        c.landlock(r);
        let bind = |port: u16| {
            format!("perl -MIO::Socket::INET -e 'IO::Socket::INET->new(LocalAddr => \"127.0.0.1\", LocalPort => {port}, Listen => 1) and print \"ok\\n\" or print \"$!\\n\"'")
        };
        let (code, out, err) = sh(&c, &format!("{}; {}", bind(allowed), bind(denied)));
        assert_eq!(code, 0, "{mode:?}: {err}");
        assert_eq!(out, "ok\nPermission denied\n", "{mode:?}");
    }
}

#[test]
fn fifty_pasta_runs_leave_no_pasta_behind() {
    let c = net(Pasta::default());
    let mut pids = Vec::new();
    for _ in 0..50 {
        // pasta's command line names the sandbox's pid: that is how its pasta is found.
        let mut child = c.command("/bin/true").spawn().unwrap();
        pids.push(child.id());
        assert!(child.wait().unwrap().success());
    }
    // No pasta of these runs is left, and nothing pins one of their network namespaces.
    let t = Instant::now();
    let mut left = left_from(&pids);
    while !left.is_empty() && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
        left = left_from(&pids);
    }
    assert!(left.is_empty(), "{left:#?}");
}

#[test]
fn landlock_tcp_rules_compose_with_pasta() {
    use hakoniwa::landlock::{CompatMode, Resource, Ruleset};
    let host = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = host.local_addr().unwrap().port();
    let other = TcpListener::bind("127.0.0.1:0").unwrap();
    let other_port = other.local_addr().unwrap().port();
    let mut r = Ruleset::new();
    r.restrict(Resource::TcpConnect, CompatMode::Enforce)
        .add_net_rule(port, Resource::TcpConnect);
    let mut c = net(Pasta::default().args(["-T", &format!("{port},{other_port}")]));
    c.landlock(r);
    let script = format!("perl -e '{PERL_CLIENT}' {other_port}; perl -e '{PERL_CLIENT}' {port}");
    let server = std::thread::spawn(move || {
        let (mut s, _) = host.accept().unwrap();
        s.write_all(b"allowed\n").unwrap();
    });
    let (code, out, err) = sh(&c, &script);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "refused: Permission denied\nallowed\n");
    server.join().unwrap();
    drop(other);
}

/// The pids of this process's children (any thread's) that are pasta forwarding `port`.
fn my_pasta_children(port: u16) -> Vec<u32> {
    let forward = format!("\0-t\0{port}\0");
    let mut v = Vec::new();
    for t in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
        let s = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
        for pid in s.split_whitespace() {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let has = |n: &[u8]| cmd.windows(n.len()).any(|w| w == n);
            if cmd.starts_with(b"pasta\0") && has(forward.as_bytes()) {
                v.push(pid.parse().unwrap());
            }
        }
    }
    v
}

#[test]
fn pasta_keeps_running_after_the_spawning_thread_ends_and_stops_with_the_sandbox() {
    // pasta's parent-death signal follows its parent thread: it must be a long-lived engine
    // thread, not the short-lived one that called spawn().
    let port = forward_port();
    let c = net(Pasta::default().args(["-t", &port.to_string()]));
    let mut child = std::thread::spawn(move || {
        c.command("/bin/sh")
            .args(["-c", "read x; echo $x"])
            .stdin(hakoniwa::Stdio::piped())
            .stdout(hakoniwa::Stdio::piped())
            .spawn()
            .unwrap()
    })
    .join()
    .unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let pasta = my_pasta_children(port);
    assert_eq!(pasta.len(), 1, "pasta died with the spawning thread");
    assert!(
        TcpListener::bind(("0.0.0.0", port)).is_err(),
        "pasta no longer forwards {port}"
    );
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "go\n");
    assert!(
        my_pasta_children(port).is_empty(),
        "pasta outlived the sandbox"
    );
}

#[test]
fn sandboxes_with_pasta_spawned_from_several_threads_at_once_all_run() {
    // A sandbox child cloned while the launcher's `std::process` spawn of another
    // sandbox's pasta waited for its execve held that spawn's status pipe, and waited for a
    // go-ahead that needed the launcher: the runs hung (about one round in three of this
    // test before the fix; a timing-dependent race, so a pass proves less than a failure).
    let (tx, rx) = std::sync::mpsc::channel();
    for t in 0..4 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            let c = net(Pasta::default());
            for i in 0..15 {
                let (code, out, _) = sh(&c, &format!("echo {t}-{i}"));
                assert_eq!((code, out.trim()), (0, format!("{t}-{i}").as_str()));
            }
            tx.send(t).unwrap();
        });
    }
    drop(tx);
    for _ in 0..4 {
        rx.recv_timeout(Duration::from_secs(120))
            .expect("a thread's spawns with pasta failed or hung (a deadlock)");
    }
}
