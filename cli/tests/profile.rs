//! Profiles (`--config`): template, includes, merging and error reporting.

mod common;

use common::*;

#[test]
fn verbose_mode_logs_the_profile_and_its_includes() {
    let shell = profiles_dir().join("examples/shell.toml");
    let out = hk(&["run", "-v", "--config", s(&shell), "--", "hostname"]);
    out.ok();
    assert_eq!(out.stdout.trim(), "hakoniwa");
    assert!(
        out.stderr.contains(&format!("CONFIG: {}", s(&shell))),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("CONFIG: Including "), "{}", out.stderr);
    assert!(
        out.stderr.contains("abstractions/base.toml"),
        "{}",
        out.stderr
    );
}

#[test]
fn verbose_mode_logs_once_what_a_profile_repeats_of_the_rootfs() {
    // The shell profile's abstractions bind /usr and /etc and link /bin as its rootfs does:
    // one mount each in the sandbox, one line each in the log.
    let out = hk(&["run", "-v", "-c", "shell", "--", "true"]);
    out.ok();
    for line in [
        "Mount: bind_ro: /usr -> /usr",
        "Mount: bind_ro: /etc -> /etc",
        "FsOperation: symlink: /bin -> usr/bin",
    ] {
        assert_eq!(
            out.stderr.matches(line).count(),
            1,
            "{line}:\n{}",
            out.stderr
        );
    }
}

#[test]
fn a_profile_s_landlock_resources_take_the_scopes() {
    let d = temp_dir("ll-scopes");
    let f = d.join("scopes.toml");
    write(
        &f,
        "[landlock]\nresources = [{ type = \"unix.abstract\" }, { type = \"signal\" }]\n",
    );
    let out = hk(&["run", "-c", s(&f), "--json-status", "-", "--", "true"]);
    out.ok();
    assert_both_scopes(&out.stdout);
}

#[test]
fn the_offline_example_profile_sets_its_network_limit_and_path() {
    let offline = profiles_dir().join("examples/offline.toml");
    let out = hk(&[
        "run",
        "-c",
        s(&offline),
        "--",
        "sh",
        "-c",
        "readlink /proc/self/ns/net; ulimit -n; echo $PATH",
    ]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_ne!(lines[0], host_ns("net"));
    assert_eq!(lines[1], "256");
    assert_eq!(lines[2], "/usr/local/bin:/usr/bin:/bin");
}

#[test]
fn a_profiles_command_runs_unless_the_command_line_gives_one() {
    let d = temp_dir("cmd");
    let p = d.join("p.toml");
    write(
        &p,
        "command = { cmdline = [\"/bin/echo\", \"from-profile\"], cwd = \"/usr\" }\n",
    );
    let out = hk(&["run", "-c", s(&p)]);
    out.ok();
    assert_eq!(out.stdout, "from-profile\n");
    let out = hk(&["run", "-c", s(&p), "--", "pwd"]);
    out.ok();
    assert_eq!(out.stdout, "/usr\n");
}

#[test]
fn template_functions_and_dir_render_into_the_profile() {
    let d = temp_dir("tmpl");
    write(&d.join("a.txt"), "");
    write(&d.join("b.txt"), "");
    let p = d.join("p.toml");
    write(
        &p,
        r#"envs = [
  { name = "DIR", value = "{{ __dir__ }}" },
  { name = "FROM_ENV", value = "{{ os_env('HK_TMPL') }}" },
  { name = "EXISTS", value = "{{ path_exists('/usr') }}/{{ path_is_dir('/usr') }}/{{ path_exists('/nope-hk') }}" },
  { name = "GLOB", value = "{{ fs_glob(__dir__ ~ '/*.txt') | length }}" },
  { name = "MK", value = "{{ fs_mkdir(__dir__ ~ '/made') }}" },
  { name = "TOUCH", value = "{{ fs_touch(__dir__ ~ '/touched') }}" },
]
{% if path_is_symlink('/proc/self') %}hostname = "linked"{% endif %}
"#,
    );
    let out = hk_with(
        &[
            "run",
            "-c",
            s(&p),
            "--",
            "sh",
            "-c",
            "echo $DIR; echo $FROM_ENV; echo $EXISTS; echo $GLOB; hostname",
        ],
        &[("HK_TMPL", "tv")],
    );
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    let canon = std::fs::canonicalize(&d).unwrap();
    assert_eq!(lines[0], s(&canon));
    assert_eq!(lines[1], "tv");
    assert_eq!(lines[2], "true/true/false");
    assert_eq!(lines[3], "2");
    assert_eq!(lines[4], "linked");
    assert!(d.join("made").is_dir());
    assert!(d.join("touched").is_file());
}

#[test]
fn includes_merge_lists_and_override_scalars() {
    let d = temp_dir("merge");
    write(
        &d.join("inc/base.toml"),
        "hostname = \"base\"\nenvs = [{ name = \"A\", value = \"1\" }]\n",
    );
    write(
        &d.join("top.toml"),
        "\"@include\" = [\"inc/base.toml\"]\nhostname = \"top\"\nenvs = [{ name = \"B\", value = \"2\" }]\n",
    );
    let out = hk(&[
        "run",
        "-c",
        s(&d.join("top.toml")),
        "--",
        "sh",
        "-c",
        "hostname; echo $A$B",
    ]);
    out.ok();
    assert_eq!(out.stdout, "top\n12\n");
}

#[test]
fn an_include_cycle_is_named() {
    let d = temp_dir("cycle");
    write(&d.join("a.toml"), "\"@include\" = [\"b.toml\"]\n");
    write(&d.join("b.toml"), "\"@include\" = [\"a.toml\"]\n");
    let out = hk(&["run", "-c", s(&d.join("a.toml")), "--", "true"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("include cycle"), "{}", out.stderr);
    assert!(out.stderr.contains("a.toml -> "), "{}", out.stderr);
    assert!(out.stderr.contains("b.toml -> "), "{}", out.stderr);
}

fn profile_error(text: &str) -> String {
    let d = temp_dir("bad");
    let p = d.join("bad.toml");
    write(&p, text);
    let out = hk(&["run", "-c", s(&p), "--", "true"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("bad.toml:"), "{}", out.stderr);
    out.stderr
}

#[test]
fn an_unknown_namespace_is_named_with_its_line_and_column() {
    let e = profile_error("hostname = \"x\"\nnamespaces = [{ type = \"bogus\" }]\n");
    assert!(e.contains("bad.toml:2:"), "{e}");
    assert!(e.contains("bogus"), "{e}");
}

#[test]
fn a_malformed_profile_is_named_with_its_line_and_column() {
    let e = profile_error("hostname = \"x\"\n\nrootfs = = \"/\"\n");
    assert!(e.contains("bad.toml:3:"), "{e}");
}

#[test]
fn an_unknown_key_is_rejected() {
    let e = profile_error("hostnme = \"x\"\n");
    assert!(e.contains("bad.toml:1:1"), "{e}");
    assert!(e.contains("hostnme"), "{e}");
}

#[test]
fn bad_values_in_a_profile_are_named() {
    let e = profile_error("landlock = { fs = [{ path = \"/usr\", access = \"q\" }] }\n");
    assert!(e.contains("invalid access"), "{e}");
    let e = profile_error("landlock = { net = [{ port = 70000, mode = \"tcp.bind\" }] }\n");
    assert!(e.contains("bad.toml:1:"), "{e}");
    let e = profile_error("limits = [{ type = \"stack\", value = 1 }]\n");
    assert!(e.contains("stack"), "{e}");
    let e = profile_error("mounts = [{ source = \"/no/such/src-hk\", destination = \"/x\" }]\n");
    assert!(e.contains("/no/such/src-hk"), "{e}");
    let e = profile_error("{{ undefined_thing }}\n");
    assert!(e.contains("template"), "{e}");
}

#[test]
fn every_profile_key_applies_to_the_sandbox() {
    let d = temp_dir("keys");
    write(&d.join("data/f"), "bound");
    let p = d.join("p.toml");
    write(
        &p,
        &format!(
            r#"namespaces = [{{ type = "uts" }}, {{ type = "network", share = true }}]
mounts = [
  {{ source = "{data}", destination = "/data" }},
  {{ destination = "/t", type = "tmpfs" }},
  {{ destination = "/dev", type = "devfs" }},
]
filesystem = {{ files = [{{ destination = "/etc2/motd", contents = "hi" }}], dirs = [{{ destination = "/w", mode = 0o750 }}], symlinks = [{{ original = "/data/f", link = "/lnk" }}] }}
uidmaps = [{{ container_id = 0 }}]
gidmaps = [{{ container_id = 0 }}]
hostname = "keys"
limits = [{{ type = "nofile", value = 100 }}, {{ type = "as", value = "1G" }}, {{ type = "walltime", value = 30 }}]
seccomp = {{ path = "podman" }}
allow_new_privs = true
"#,
            data = s(&d.join("data"))
        ),
    );
    let out = hk(&[
        "run",
        "-c",
        s(&p),
        "--",
        "sh",
        "-c",
        "cat /data/f; echo; cat /etc2/motd; echo; stat -c %a /w; cat /lnk; echo; id -u; hostname; ulimit -n; ls /dev/null; readlink /proc/self/ns/net; echo x > /t/x",
    ]);
    out.ok();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        &lines[..8],
        [
            "bound",
            "hi",
            "750",
            "bound",
            "0",
            "keys",
            "100",
            "/dev/null"
        ]
    );
    assert_eq!(lines[8], host_ns("net"));
}

#[test]
fn a_profiles_landlock_rules_are_enforced() {
    let d = temp_dir("ll");
    let p = d.join("p.toml");
    write(
        &p,
        "landlock = { resources = [\"fs\"], fs = [{ path = \"/usr\", access = \"rx\" }], net = [{ port = 443, mode = \"tcp.connect\" }] }\n",
    );
    let out = hk(&[
        "run",
        "-c",
        s(&p),
        "--",
        "/bin/sh",
        "-c",
        "ls /usr >/dev/null; ls / || echo denied",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("denied"), "{}", out.stdout);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

/// Every shipped profile renders, parses and runs a trivial command.
#[test]
fn shipped_profiles_all_load_and_run() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut n = 0;
    for dir in ["abstractions", "examples"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "toml") {
                let out = hk(&["run", "-c", p.to_str().unwrap(), "--", "/bin/true"]);
                assert_eq!(out.code, 0, "{}: {}", p.display(), out.stderr);
                n += 1;
            }
        }
    }
    assert!(n >= 10, "only {n} profiles");
}

/// Render `template` as the value of `HK_OUT` and print it from inside the sandbox.
fn render_in(dir: &std::path::Path, template: &str, envs: &[(&str, &str)]) -> Out {
    let p = dir.join("p.toml");
    write(
        &p,
        &format!("envs = [{{ name = \"HK_OUT\", value = \"{template}\" }}]\n"),
    );
    hk_with(
        &[
            "run",
            "-c",
            s(&p),
            "--",
            "/bin/sh",
            "-c",
            "echo \"$HK_OUT\"",
        ],
        envs,
    )
}

/// [`render_in`] while watching `fifo` (see `watching_fifo`): the CLI must not open it,
/// and the sandbox prints `want`.
fn renders_without_opening(
    dir: &std::path::Path,
    fifo: &std::path::Path,
    cli_reads: bool,
    template: &str,
    envs: &[(&str, &str)],
    want: &str,
) {
    let (out, opened) = watching_fifo(fifo, cli_reads, || render_in(dir, template, envs));
    assert!(!opened, "the CLI opened the FIFO: {}", out.stderr);
    out.ok();
    assert_eq!(out.stdout, want);
}

#[test]
fn touch_in_a_profile_does_not_open_an_existing_fifo() {
    // A FIFO left where a profile touches a file (e.g. by a sandboxed program in a directory
    // bound read-write) blocked the CLI before the sandbox even started.
    let d = temp_dir("touch-fifo");
    let fifo = d.join("history");
    mkfifo(&fifo);
    let template = format!("{{{{ touch('{}') }}}}ok", s(&fifo));
    renders_without_opening(&d, &fifo, false, &template, &[], "ok\n");
}

#[test]
fn touch_in_a_profile_does_not_create_the_target_of_a_symlink() {
    let d = temp_dir("touch-link");
    let target = d.join("elsewhere");
    std::os::unix::fs::symlink(&target, d.join("file")).unwrap();
    let out = render_in(
        &d,
        &format!("{{{{ touch('{}') }}}}ok", s(&d.join("file"))),
        &[],
    );
    out.ok();
    assert!(!target.exists(), "touch created the symlink's target");
    // A missing file is still created.
    let out = render_in(
        &d,
        &format!("{{{{ touch('{}') }}}}ok", s(&d.join("new"))),
        &[],
    );
    out.ok();
    assert!(d.join("new").is_file());
}

#[test]
fn find_in_a_profile_does_not_follow_a_link_to_a_directory() {
    // t/a -> . : glob's walk went round the loop ~40 times (and with two such links never
    // finished). Each file is found once.
    let d = temp_dir("find-loop");
    write(&d.join("t/f.x"), "");
    write(&d.join("t/sub/g.x"), "");
    std::os::unix::fs::symlink(".", d.join("t/a")).unwrap();
    let out = render_in(
        &d,
        &format!("{{{{ find('{}/t/**/*.x') | join(',') }}}}", s(&d)),
        &[],
    );
    out.ok();
    assert_eq!(
        out.stdout,
        format!("{0}/t/f.x,{0}/t/sub/g.x\n", s(&d)),
        "{}",
        out.stderr
    );
}

#[test]
fn xdg_user_dir_does_not_read_a_fifo() {
    let d = temp_dir("xdg-fifo");
    let fifo = d.join("user-dirs.dirs");
    mkfifo(&fifo);
    renders_without_opening(
        &d,
        &fifo,
        true,
        "{{ xdg_user_dir('DOWNLOAD') }}",
        &[("XDG_CONFIG_HOME", s(&d)), ("HOME", "/home/hk-test")],
        "/home/hk-test/Download\n",
    );
}

#[test]
fn mkdir_p_and_touch_render_as_nothing() {
    // The original's profiles call them on a line of their own; "None" there was a TOML
    // error ("key with no value").
    let d = temp_dir("render-nothing");
    let p = d.join("p.toml");
    write(
        &p,
        &format!(
            "{{{{ mkdir_p('{0}/made') }}}}\n{{{{ touch('{0}/made/file') }}}}\n\
             envs = [{{ name = \"HK_OUT\", value = \"[{{{{ touch('{0}/other') }}}}]\" }}]\n",
            s(&d)
        ),
    );
    let out = hk(&[
        "run",
        "-c",
        s(&p),
        "--",
        "/bin/sh",
        "-c",
        "echo \"$HK_OUT\"",
    ]);
    out.ok();
    assert_eq!(out.stdout, "[]\n");
    assert!(d.join("made/file").is_file() && d.join("other").is_file());
}
