//! Every shell example of the README's "Command line" section, run exactly as printed
//! (`sh -c LINE`) from a scratch directory holding what they use: `hello.c`, `./untrusted`,
//! and `cli/` (for `-c cli/profiles/...`), with `hakoniwa` first on `PATH` and `HOME` in the
//! scratch directory (the install lines write under `~`).

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// The lines of the ```sh blocks between "## Command line" and the next "## ".
fn readme_examples() -> Vec<String> {
    readme_blocks("Command line", "sh")
        .iter()
        .flat_map(|b| b.lines().map(str::to_string).collect::<Vec<_>>())
        .filter(|l| !l.trim().is_empty())
        .collect()
}

struct Place {
    dir: TempDir,
    home: PathBuf,
    path: String,
}

fn place() -> Place {
    let dir = temp_dir("readme");
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let work = dir.join("work");
    std::fs::create_dir_all(&work).unwrap();
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")), work.join("cli")).unwrap();
    write(
        &work.join("hello.c"),
        "#include <stdio.h>\nint main(void) { puts(\"hello\"); return 0; }\n",
    );
    write(&work.join("untrusted"), "#!/bin/sh\necho untrusted ran\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        work.join("untrusted"),
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    let exe = bin();
    let bindir = Path::new(&exe).parent().unwrap().display().to_string();
    Place {
        dir,
        home,
        path: format!("{bindir}:/usr/local/bin:/usr/bin:/bin"),
    }
}

fn shell(p: &Place, line: &str) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", line])
        .current_dir(p.dir.join("work"))
        .env_clear()
        .env("PATH", &p.path)
        .env("HOME", &p.home)
        .stdin(Stdio::null());
    c
}

/// Descendants of `pid` (via /proc/PID/task/*/children).
fn descendants(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let mut todo = vec![pid];
    while let Some(p) = todo.pop() {
        let tasks = std::fs::read_dir(format!("/proc/{p}/task"))
            .into_iter()
            .flatten();
        for t in tasks.flatten() {
            let kids = std::fs::read_to_string(t.path().join("children")).unwrap_or_default();
            for k in kids.split_whitespace().filter_map(|k| k.parse().ok()) {
                out.push(k);
                todo.push(k);
            }
        }
    }
    out
}

fn port_free(port: u16) -> bool {
    TcpListener::bind(("127.0.0.1", port)).is_ok()
}

/// The pasta example serves forever: fetch a page through the forwarded port, then kill the
/// server (SIGKILL from the host reaches the sandbox's PID 1) so hakoniwa ends normally
/// (137) and stops pasta, which frees the port.
fn run_http_server_example(p: &Place, line: &str) {
    let t = Instant::now();
    while !port_free(8080) {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "port 8080 stayed busy on the host: cannot run {line:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut child = shell(p, line)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    let page = loop {
        let got = TcpStream::connect(("127.0.0.1", 8080))
            .ok()
            .and_then(|mut s| {
                s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
                s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
                let mut r = String::new();
                s.read_to_string(&mut r).ok()?;
                r.starts_with("HTTP/1.0 200").then_some(r)
            });
        if let Some(r) = got {
            break r;
        }
        if t.elapsed() > Duration::from_secs(30) || child.try_wait().unwrap().is_some() {
            let _ = child.kill();
            let mut e = String::new();
            child.stderr.take().unwrap().read_to_string(&mut e).unwrap();
            panic!("{line:?} never served a page: {e}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(page.contains("Directory listing"), "{page}");
    let python: Vec<u32> = descendants(child.id())
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.starts_with("python3"))
        })
        .collect();
    assert_eq!(python.len(), 1, "one python3 server: {python:?}");
    rustix::process::kill_process(
        rustix::process::Pid::from_raw(python[0] as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    let st = child.wait().unwrap();
    assert_eq!(st.code(), Some(137), "{line:?}");
    let t = Instant::now();
    while !port_free(8080) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "pasta still holds port 8080"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_command_line_example_of_the_readme_runs_as_printed() {
    let lines = readme_examples();
    assert!(lines.len() >= 12, "{lines:?}");
    let p = place();
    for line in &lines {
        if line.contains("python3 -m http.server 8080") {
            run_http_server_example(&p, line);
            continue;
        }
        let out = out_of(&mut shell(&p, line));
        if userns_auto_without_ranges(line, &out) {
            continue;
        }
        assert_eq!(
            out.code, 0,
            "{line}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        if line.contains("./untrusted") {
            assert_eq!(out.stdout, "untrusted ran\n");
        }
        if line.contains("cc -o hello") {
            let hello = Command::new(p.dir.join("work/hello")).output().unwrap();
            assert_eq!(hello.stdout, b"hello\n");
        }
    }
    // The install lines put the completions and man pages where the README says.
    for f in [
        ".local/share/bash-completion/completions/hakoniwa",
        ".zfunc/_hakoniwa",
        ".config/fish/completions/hakoniwa.fish",
        ".local/share/man/man1/hakoniwa.1",
        ".local/share/man/man1/hakoniwa-run.1",
    ] {
        let len = std::fs::metadata(p.home.join(f))
            .map(|m| m.len())
            .unwrap_or(0);
        assert!(len > 0, "~/{f} was not written");
    }
    // And they work from there: bash loads the completion, man finds the pages (man-db
    // derives ~/.local/share/man from ~/.local/bin on PATH, as the README says).
    let completion = p
        .home
        .join(".local/share/bash-completion/completions/hakoniwa");
    let bash = out_of(Command::new("bash").args([
        "-c",
        &format!(". {} && complete -p hakoniwa", completion.display()),
    ]));
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    assert!(bash.stdout.contains("hakoniwa"), "{}", bash.stdout);
    let path = format!("{}/.local/bin:{}", p.home.display(), p.path);
    let man = out_of(shell(&p, "man -w hakoniwa-run").env("PATH", path));
    assert_eq!(
        man.stdout.trim(),
        p.home
            .join(".local/share/man/man1/hakoniwa-run.1")
            .display()
            .to_string(),
        "{}",
        man.stderr
    );
}

#[test]
fn the_man_page_examples_are_the_readme_examples() {
    let man = hk(&["man"]);
    man.ok();
    let text = man.stdout.replace("\\-", "-").replace("\\e", "\\");
    for line in readme_examples()
        .iter()
        .filter(|l| l.starts_with("hakoniwa "))
    {
        assert!(text.contains(line.as_str()), "man page lacks {line:?}");
    }
}

#[test]
fn the_readme_and_the_man_page_state_the_engines_default_path() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let want = format!("PATH={}", hakoniwa::DEFAULT_PATH);
    assert!(readme.contains(&want), "the README does not say {want}");
    let man = hk(&["man", "run"]);
    man.ok();
    assert!(
        man.stdout.replace("\\-", "-").contains(&want),
        "the man page does not say {want}"
    );
}

/// The fenced blocks of language `lang` in the README's section `## heading`.
fn readme_blocks(heading: &str, lang: &str) -> Vec<String> {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = readme
        .split(&format!("\n## {heading}\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("the README has no section {heading:?}"))
        .split("\n## ")
        .next()
        .unwrap();
    section
        .split(&format!("```{lang}\n"))
        .skip(1)
        .map(|b| b.split("```\n").next().unwrap().to_string())
        .collect()
}

/// The README's "two commands": `.ci/run` runs `bash .ci/test` (which runs `.ci/setup`
/// first), so the second is what CI does; the first, and the `cargo install` line after
/// them, are mirrored here with the binary built from the package they name.
#[test]
fn the_readmes_first_command_runs_the_shell_session_it_promises() {
    let blocks = readme_blocks("The two commands", "sh");
    assert_eq!(blocks.len(), 1);
    let commands: Vec<&str> = blocks[0]
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .collect();
    let first = "bash .ci/setup && cargo run --release -q -p hakoniwa-sandbox-cli -- run -- sh -c 'id; ls /; ps aux'";
    assert_eq!(commands, [first, "bash .ci/test"]);
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    assert!(manifest.contains("\nname = \"hakoniwa-sandbox-cli\"\n"));
    // The install line after the block puts this package's binary, named hakoniwa, on PATH.
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    assert!(readme.contains("`cargo install --locked --path cli`"));
    assert!(manifest.contains("[[bin]]\nname = \"hakoniwa\"\n"));
    let ci =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.ci/test")).unwrap();
    assert!(ci.contains("\nbash .ci/setup\n"));
    let out = hk(&["run", "--", "sh", "-c", "id; ls /; ps aux"]);
    out.ok();
    assert!(out
        .stdout
        .contains(&format!("uid={}", rustix::process::getuid().as_raw())));
    let ls: Vec<&str> = out.stdout.lines().skip(1).take(4).collect();
    assert_eq!(ls[..3], ["bin", "etc", "lib"], "{}", out.stdout);
    let ps: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("hakoniwa-init"))
        .collect();
    assert_eq!(ps.len(), 1, "{}", out.stdout);
}

/// The README's troubleshooting messages, each provoked the way users meet it: the
/// hakoniwa binary run inside a sandbox whose seccomp profile (as a container runtime's
/// may) denies creating namespaces, or makes landlock look absent.
#[test]
fn the_readmes_troubleshooting_messages_are_what_users_see() {
    let blocks = readme_blocks("Troubleshooting", "text");
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    let dir = temp_dir("readme-troubleshooting");
    let exe = bin();
    let cases = [
        (
            r#"{"names": ["clone3", "unshare"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}"#,
            &["run", "--", "true"][..],
            125,
        ),
        (
            r#"{"names": ["landlock_create_ruleset"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}"#,
            &["run", "--landlock-fs-ro", "/usr", "--", "true"][..],
            1,
        ),
    ];
    for (i, (rule, inner, code)) in cases.into_iter().enumerate() {
        let profile = dir.join(format!("profile{i}.json"));
        write(
            &profile,
            &format!(r#"{{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{rule}]}}"#),
        );
        let bind = format!("{exe}:/h");
        let mut args = vec![
            "run",
            "--no-init",
            "--devfs",
            "/dev",
            "--seccomp",
            s(&profile),
            "-b",
            &bind,
            "--",
            "/h",
        ];
        args.extend_from_slice(inner);
        let out = hk(&args);
        assert_eq!(out.code, code, "{}", out.stderr);
        assert_eq!(
            out.stderr,
            blocks[i],
            "README troubleshooting block {}",
            i + 1
        );
    }
}
