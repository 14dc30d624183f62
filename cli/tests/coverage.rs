//! Flags and template functions not exercised elsewhere, each end to end.
mod common;

use common::*;

#[test]
fn landlock_fs_rw_allows_writing_only_there() {
    let d = temp_dir("ll-rw");
    let out = hk(&[
        "run",
        "-B",
        &format!("{}:/w", s(&d)),
        "--tmpfs",
        "/t",
        "--landlock-fs-rx",
        "/usr",
        "--landlock-fs-rw",
        "/w",
        "--",
        "sh",
        "-c",
        "echo hi > /w/f && echo written; echo no > /t/f 2>/dev/null || echo denied",
    ]);
    out.ok();
    assert_eq!(out.stdout, "written\ndenied\n");
    assert_eq!(std::fs::read_to_string(d.join("f")).unwrap(), "hi\n");
}

#[test]
fn landlock_tcp_bind_allows_only_the_listed_port() {
    let script = "for p in 23461 23462; do perl -MIO::Socket::INET -e \
                  'IO::Socket::INET->new(LocalAddr => \"127.0.0.1\", LocalPort => $ARGV[0], Listen => 1) and print \"ok\\n\" or print \"$!\\n\"' $p; done";
    let out = hk(&[
        "run",
        "--devfs",
        "/dev",
        "--network",
        "none",
        "--landlock-tcp-bind",
        "23461",
        "--",
        "sh",
        "-c",
        script,
    ]);
    out.ok();
    assert_eq!(out.stdout, "ok\nPermission denied\n");
}

#[test]
fn landlock_unix_abstract_keeps_the_host_s_abstract_sockets_out_of_reach() {
    // The host's network is shared by default, abstract UNIX sockets (X11's, D-Bus's)
    // included: the scope cuts the sandbox off from those bound outside it.
    use std::os::linux::net::SocketAddrExt;
    let name = format!("hk-abstract-{}", std::process::id());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(&name).unwrap();
    let listener = std::os::unix::net::UnixListener::bind_addr(&addr).unwrap();
    listener.set_nonblocking(true).unwrap();
    let connect = format!(
        "import socket\ns = socket.socket(socket.AF_UNIX)\ntry:\n    s.connect('\\0{name}'); print('connected')\nexcept OSError as e:\n    print(e.errno)"
    );
    let connect_with = |flags: &[&str]| {
        let mut args = vec!["run"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--", "python3", "-c", &connect]);
        let out = hk(&args);
        out.ok();
        out.stdout
    };
    assert_eq!(connect_with(&[]), "connected\n", "the control");
    let denied = connect_with(&["--landlock-restrict", "unix.abstract"]);
    assert_eq!(denied, "1\n", "EPERM expected");
    // Both scopes are named in the status, as the kernel enforces them.
    let out = hk(&[
        "run",
        "--landlock-restrict",
        "unix.abstract,signal",
        "--json-status",
        "-",
        "--",
        "true",
    ]);
    out.ok();
    assert_both_scopes(&out.stdout);
}

#[test]
fn a_seccomp_profile_file_is_applied() {
    let d = temp_dir("sc");
    let f = d.join("deny-uname.json");
    write(
        &f,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["uname"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    );
    let out = hk(&["run", "--seccomp", s(&f), "--", "uname"]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("Operation not permitted"),
        "{}",
        out.stderr
    );
    let out = hk(&[
        "run",
        "--seccomp",
        s(&f),
        "--json-status",
        "-",
        "--",
        "true",
    ]);
    out.ok();
    assert_eq!(status_doc(&out.stdout)["seccomp"]["profile"], s(&f));
}

#[test]
fn trace_logging_shows_the_rendered_profile() {
    let d = temp_dir("vv");
    let p = d.join("p.toml");
    write(&p, "hostname = \"{{ 'tr' ~ 'aced' }}\"\n");
    let out = hk(&["run", "-vv", "-c", s(&p), "--", "true"]);
    out.ok();
    assert!(
        out.stderr.contains("hostname = \"traced\""),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("CONFIG:"), "{}", out.stderr);
}

#[test]
fn rootdir_with_bin_skips_the_default_rootfs() {
    // A root that has its own /bin: nothing of the host's system is bound in.
    let d = temp_dir("rootdir-bin");
    std::fs::create_dir_all(d.join("bin")).unwrap();
    std::fs::create_dir_all(d.join("data")).unwrap();
    let out = hk(&[
        "run",
        "--rootdir",
        s(&d),
        "-b",
        "/usr",
        "-b",
        "/bin",
        "-b",
        "/lib",
        "-b",
        "/lib64",
        "--",
        "/usr/bin/ls",
        "/",
    ]);
    out.ok();
    let entries: Vec<&str> = out.stdout.split_whitespace().collect();
    assert!(
        entries.contains(&"data") && !entries.contains(&"etc"),
        "{entries:?}"
    );
}

#[test]
fn template_functions_read_link_findup_and_xdg() {
    let d = temp_dir("tmpl");
    std::os::unix::fs::symlink("/usr/share", d.join("link")).unwrap();
    std::fs::create_dir_all(d.join("a/b")).unwrap();
    write(&d.join("marker.txt"), "");
    let p = d.join("a/b/p.toml");
    write(
        &p,
        &format!(
            "envs = [{{ name = \"LINK\", value = \"{{{{ fs_read_link('{}') }}}}\" }}, \
             {{ name = \"FOUND\", value = \"{{{{ fs_findup('marker.txt') }}}}\" }}, \
             {{ name = \"DL\", value = \"{{{{ fs_xdg_user_dir('download') }}}}\" }}]\n",
            d.join("link").display()
        ),
    );
    let mut c = std::process::Command::new(bin());
    c.args(["run", "-c", s(&p), "--", "env"])
        .current_dir(d.join("a/b"))
        .env("HOME", "/home/someone");
    c.env("XDG_CONFIG_HOME", d.join("nowhere"));
    let o = c.output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains("LINK=/usr/share\n"), "{out}");
    assert!(
        out.contains(&format!("FOUND={}\n", d.join("marker.txt").display())),
        "{out}"
    );
    assert!(out.contains("DL=/home/someone/Download\n"), "{out}");
}
