//! Profiles people can find: `-c NAME`, `hakoniwa profiles`, `-c -`, `--print-config`, and
//! profile errors that name what is wrong.

mod common;

use std::path::Path;

use common::*;

#[test]
fn a_profile_is_found_by_name_in_the_user_config_dir_then_among_the_built_in_ones() {
    let d = temp_dir("xdg");
    let xdg = s(&d);
    write(
        &d.join("hakoniwa/profiles/mine.toml"),
        "hostname = \"mine\"\ncommand = { cmdline = [\"/bin/sh\", \"-c\", \"cat /proc/sys/kernel/hostname\"] }\n",
    );
    let out = hk_with(&["run", "-c", "mine"], &[("XDG_CONFIG_HOME", xdg)]);
    out.ok();
    assert_eq!(out.stdout, "mine\n");
    let hostname_under = |profile: &str| {
        let args = [
            "run",
            "-c",
            profile,
            "--",
            "cat",
            "/proc/sys/kernel/hostname",
        ];
        let out = hk_with(&args, &[("XDG_CONFIG_HOME", xdg)]);
        out.ok();
        out.stdout
    };
    // A built-in example, with its built-in includes.
    assert_eq!(hostname_under("shell"), "hakoniwa\n");
    // The user's profile of the same name wins over the built-in one.
    write(
        &d.join("hakoniwa/profiles/shell.toml"),
        "hostname = \"users\"\n",
    );
    assert_eq!(hostname_under("shell"), "users\n");
    let out = hk_with(
        &["run", "-c", "no-such-profile", "--", "true"],
        &[("XDG_CONFIG_HOME", xdg)],
    );
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("no profile \"no-such-profile\"")
            && out.stderr.contains(&format!("{xdg}/hakoniwa/profiles"))
            && out.stderr.contains("/etc/hakoniwa/profiles"),
        "{}",
        out.stderr
    );
}

#[test]
fn profiles_lists_every_name_with_its_source() {
    let d = temp_dir("list");
    write(&d.join("hakoniwa/profiles/mine.toml"), "");
    write(&d.join("hakoniwa/profiles/offline.toml"), "");
    let out = hk_with(&["profiles"], &[("XDG_CONFIG_HOME", s(&d))]);
    out.ok();
    let line = |name: &str| -> Vec<String> {
        out.stdout
            .lines()
            .filter(|l| l.split_whitespace().next() == Some(name))
            .map(str::to_string)
            .collect()
    };
    assert!(line("mine")[0].ends_with(&format!("{}/hakoniwa/profiles/mine.toml", s(&d))));
    assert!(line("shell")[0].contains("built-in (examples/shell.toml)"));
    assert!(line("abstractions/base")[0].contains("built-in"));
    let offline = line("offline");
    assert_eq!(offline.len(), 2, "{}", out.stdout);
    assert!(!offline[0].contains("shadowed") && offline[1].ends_with("(shadowed)"));
}

#[test]
fn a_profile_is_read_from_standard_input_with_a_dash() {
    let out = hk_piped(
        Path::new("/"),
        &["run", "-c", "-"],
        &[],
        "envs = [{ name = \"X\", value = \"from-stdin\" }]\ncommand = { cmdline = [\"/bin/sh\", \"-c\", \"echo $X\"] }\n",
    );
    out.ok();
    assert_eq!(out.stdout, "from-stdin\n");
}

#[test]
fn print_config_shows_the_resolved_sandbox_without_running_it() {
    let d = temp_dir("dry");
    let marker = d.join("ran");
    let script = format!("touch {}", s(&marker));
    for flag in ["--print-config", "--dry-run"] {
        let out = hk(&[
            "run",
            flag,
            "-B",
            s(&d),
            "--uidmap",
            "0",
            "--limit-nofile",
            "64",
            "--landlock-fs-rx",
            "/usr",
            "--landlock-tcp-connect",
            "443",
            "--",
            "/bin/sh",
            "-c",
            &script,
        ]);
        out.ok();
        assert!(!marker.exists(), "{flag} ran the program");
        for want in [
            &format!(
                "{{ source = \"{0}\", destination = \"{0}\", rw = true }}",
                s(&d)
            ) as &str,
            "{ container_id = 0, host_id = ",
            "{ type = \"nofile\", value = 64 }",
            "{ type = \"fs\" }",
            "{ path = \"/usr\", access = \"r-x\" }",
            "{ port = 443, access = \"tcp.connect\" }",
            "#   bind_ro /usr -> /usr",
            "path = \"podman\"",
        ] {
            assert!(
                out.stdout.contains(want),
                "{flag}: {want:?} missing:\n{}",
                out.stdout
            );
        }
    }
}

fn profile_error(text: &str) -> String {
    let d = temp_dir("err");
    let p = d.join("p.toml");
    write(&p, text);
    let out = hk(&["run", "-c", s(&p), "--", "true"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    out.stderr.replace(s(&d), "DIR")
}

#[test]
fn a_wrong_type_names_line_and_column() {
    let e = profile_error("hostname = \"h\"\nlimits = [{ type = \"nofile\", value = [1] }]\n");
    assert!(e.contains("DIR/p.toml:2:"), "{e}");
    let e = profile_error("mounts = [\n  { source = 1 },\n]\n");
    assert!(
        e.contains("DIR/p.toml:2:14: invalid type: integer `1`, expected a string"),
        "{e}"
    );
}

#[test]
fn a_missing_include_names_the_including_file() {
    let e = profile_error("\"@include\" = [\"nope.toml\"]\n");
    assert!(
        e.contains(
            "DIR/p.toml: cannot include \"nope.toml\": DIR/nope.toml: No such file or directory"
        ),
        "{e}"
    );
}

#[test]
fn an_undefined_template_variable_is_named() {
    let e = profile_error("hostname = \"{{ hostname_from_nowhere }}\"\n");
    assert!(e.contains("DIR/p.toml:1: template error"), "{e}");
    assert!(e.contains("hostname_from_nowhere is not defined"), "{e}");
}

#[test]
fn a_profile_rootdir_error_names_the_key() {
    let e = profile_error("rootdir = { path = \"/no/such/root/dir\" }\n");
    assert!(
        e.contains("DIR/p.toml: rootdir.path: not an existing directory: /no/such/root/dir"),
        "{e}"
    );
    assert!(!e.contains("--rootdir"), "{e}");
}

#[test]
fn a_newline_in_a_rootfs_name_does_not_add_a_key_to_the_printed_config() {
    // A rootfs image the user did not make: a link target and a file name with a newline
    // and a profile key after it. Printed as comments, they must stay comments, so that
    // `-c -` loading the output back gets no writable rootdir from them.
    let r = temp_dir("rootfs-newline");
    std::os::unix::fs::symlink(
        "usr/lib\nrootdir = { path = \"/\", rw = true }",
        r.join("lib"),
    )
    .unwrap();
    write(&r.join("x\nhostname = \"injected\""), "");
    let printed = hk(&["run", "--rootfs", s(&r), "--print-config", "--", "true"]);
    printed.ok();
    let keys: Vec<&str> = printed
        .stdout
        .lines()
        .filter(|l| l.starts_with("rootdir") || l.starts_with("hostname"))
        .collect();
    assert!(keys.is_empty(), "{keys:?} in:\n{}", printed.stdout);
    assert!(
        printed
            .stdout
            .contains("#   symlink /lib -> usr/lib\\nrootdir = { path = \"/\", rw = true }"),
        "{}",
        printed.stdout
    );
    let loaded = hk_piped(
        &r,
        &["run", "-v", "-c", "-", "--print-config"],
        &[],
        &printed.stdout,
    );
    loaded.ok();
    assert!(
        !loaded.stdout.lines().any(|l| l.starts_with("rootdir")),
        "{}",
        loaded.stdout
    );
}

#[test]
fn print_config_writes_a_relative_rootfs_as_an_absolute_path() {
    // The output is meant to be saved and loaded back (`-c FILE`, `-c -`) from elsewhere.
    let r = temp_dir("rootfs-relative");
    let (parent, name) = (
        r.parent().unwrap(),
        r.file_name().unwrap().to_str().unwrap(),
    );
    let out = hk_in(
        parent,
        &["run", "--rootfs", name, "--print-config", "--", "true"],
    );
    out.ok();
    assert!(
        out.stdout.contains(&format!("\nrootfs = \"{}\"\n", s(&r))),
        "{}",
        out.stdout
    );
}

#[test]
fn a_file_in_the_current_directory_does_not_replace_a_profile_name() {
    // `-c offline` in a downloaded project that ships a file named `offline`: the user asked
    // for the built-in profile, the file grants the host's network.
    let d = temp_dir("cwd-shadow");
    write(
        &d.join("offline"),
        "network = { mode = \"host\" }\nhostname = \"from-the-file\"\n",
    );
    let out = hk_in(&d, &["run", "-c", "offline", "--", "true"]);
    assert_eq!(out.code, 1, "ran with the file:\n{}", out.stderr);
    assert!(
        out.stderr.contains("-c offline: ambiguous")
            && out.stderr.contains("<built-in>/examples/offline.toml")
            && out.stderr.contains("write ./offline for the file"),
        "{}",
        out.stderr
    );
    // Asked for explicitly, the file is used.
    let out = hk_in(
        &d,
        &[
            "run",
            "-c",
            "./offline",
            "--",
            "cat",
            "/proc/sys/kernel/hostname",
        ],
    );
    out.ok();
    assert_eq!(out.stdout, "from-the-file\n");
    // A file that no profile name clashes with is still found without ./ (as the original
    // took any path).
    write(&d.join("mine"), "hostname = \"mine\"\n");
    let out = hk_in(
        &d,
        &[
            "run",
            "-c",
            "mine",
            "--",
            "cat",
            "/proc/sys/kernel/hostname",
        ],
    );
    out.ok();
    assert_eq!(out.stdout, "mine\n");
}

#[test]
fn a_profile_is_read_from_a_process_substitution() {
    // bash's `-c <(...)` passes /dev/fd/63, a pipe: not a regular file, still a profile.
    let out = out_of(std::process::Command::new("bash").arg("-c").arg(format!(
        "{} run -c <(printf 'hostname = \"piped\"\\n') -- cat /proc/sys/kernel/hostname",
        sh_quote(&bin())
    )));
    out.ok();
    assert_eq!(out.stdout, "piped\n", "{}", out.stderr);
}

#[test]
fn profiles_lists_a_name_once_behind_a_link_to_its_own_directory() {
    let d = temp_dir("list-loop");
    write(&d.join("hakoniwa/profiles/p.toml"), "");
    std::os::unix::fs::symlink(".", d.join("hakoniwa/profiles/loop")).unwrap();
    let out = hk_with(&["profiles"], &[("XDG_CONFIG_HOME", s(&d))]);
    out.ok();
    let mine: Vec<&str> = out.stdout.lines().filter(|l| l.contains(s(&d))).collect();
    assert_eq!(mine.len(), 1, "{}", out.stdout);
    assert!(mine[0].starts_with("p "), "{}", out.stdout);
}

#[test]
fn an_escape_sequence_in_a_rootfs_name_reaches_the_verbose_log_escaped() {
    // A file name in a rootfs image must not drive the terminal `-v` writes to (here: set
    // its title) nor start a log line of its own.
    let r = temp_dir("rootfs-escape");
    write(&r.join("a\x1b]0;owned\x07\n[hakoniwa] Mount: forged"), "");
    let out = hk(&[
        "run",
        "-v",
        "--rootfs",
        s(&r),
        "--print-config",
        "--",
        "true",
    ]);
    out.ok();
    assert!(
        !out.stderr.contains('\x1b') && !out.stderr.contains("\n[hakoniwa] Mount: forged"),
        "{:?}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("/a\\u{1b}]0;owned\\u{7}\\n[hakoniwa] Mount: forged"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_example_copied_into_the_profile_directory_finds_the_built_in_abstractions() {
    // What a new user does first: copy a shipped example next to their own profiles and
    // edit it. Its "../abstractions/base.toml" is not there; the built-in one of that name is.
    let d = temp_dir("copied-example");
    let shell = std::fs::read_to_string(profiles_dir().join("examples/shell.toml")).unwrap();
    write(
        &d.join("hakoniwa/profiles/myshell.toml"),
        &shell.replace("hostname = \"hakoniwa\"", "hostname = \"mine\""),
    );
    let out = hk_with(
        &[
            "run",
            "-c",
            "myshell",
            "--",
            "cat",
            "/proc/sys/kernel/hostname",
        ],
        &[("XDG_CONFIG_HOME", s(&d))],
    );
    out.ok();
    assert_eq!(out.stdout, "mine\n");
    // A user's own abstraction of that name comes first.
    write(
        &d.join("hakoniwa/abstractions/base.toml"),
        "mounts = [{ source = \"\", destination = \"/tmp\", type = \"tmpfs\" }]\n\
         envs = [{ name = \"BASE\", value = \"users\" }]\n",
    );
    let out = hk_with(
        &["run", "-c", "myshell", "--", "/bin/sh", "-c", "echo $BASE"],
        &[("XDG_CONFIG_HOME", s(&d))],
    );
    out.ok();
    assert_eq!(out.stdout, "users\n");
}

#[test]
fn print_config_writes_a_relative_seccomp_file_as_an_absolute_path() {
    let d = temp_dir("seccomp-relative");
    write(
        &d.join("sc.json"),
        "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": []}",
    );
    let out = hk_in(
        &d,
        &[
            "run",
            "--seccomp",
            "sc.json",
            "--print-config",
            "--",
            "true",
        ],
    );
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("[seccomp]\npath = \"{}/sc.json\"\n", s(&d))),
        "{}",
        out.stdout
    );
    // Loaded back from another directory, it is the same file.
    let loaded = hk_piped(
        Path::new("/"),
        &["run", "-c", "-", "--", "true"],
        &[],
        &out.stdout,
    );
    loaded.ok();
}

#[test]
fn a_relative_xdg_config_home_is_not_searched_for_profiles() {
    // The XDG spec says to ignore a relative value; searched, it made the current
    // directory (a downloaded project, say) a source of profiles by name.
    let d = temp_dir("xdg-relative");
    for dir in ["rel", ".config"] {
        write(
            &d.join(dir).join("hakoniwa/profiles/evil.toml"),
            "hostname = \"from-the-cwd\"\n",
        );
    }
    // A relative XDG_CONFIG_HOME; an empty one with an empty HOME ("" + "/.config").
    for (xdg, home) in [("rel", "/nonexistent-hk"), ("", "")] {
        let out = out_of(
            std::process::Command::new(bin())
                .args(["run", "-c", "evil", "--", "true"])
                .current_dir(&*d)
                .env("XDG_CONFIG_HOME", xdg)
                .env("HOME", home),
        );
        assert_eq!(out.code, 1, "XDG_CONFIG_HOME={xdg:?}: {}", out.stderr);
        assert!(out.stderr.contains("no profile \"evil\""), "{}", out.stderr);
    }
}
