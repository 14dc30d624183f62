//! The capability examples of `engine/examples/` (one per capability) run and print what
//! they promise, and docs/rust.md shows each of them verbatim; the facts docs/rust.md
//! states about the public types and the engine's threads hold.
//!
//! The examples are built by `cargo test` (and by `cargo build --workspace --examples` in
//! .ci/test); each is run as a separate process, as a user would run it.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::example;

/// The capability examples, in the order docs/rust.md shows them.
const EXAMPLES: [&str; 8] = [
    "namespaces",
    "mounts",
    "network",
    "limits",
    "landlock",
    "seccomp",
    "io",
    "usage",
];

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Run an example with stdin null; assert it succeeded and return (pid, stdout).
fn run(name: &str) -> (u32, String) {
    let exe = example(name);
    assert!(exe.exists(), "build the examples first: {exe:?}");
    let child = Command::new(&exe)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    (pid, stdout)
}

#[test]
fn the_namespaces_example_runs_under_the_init_and_root_of_its_own_namespaces() {
    let (_, out) = run("namespaces");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "pid=2 uid=0 host=sandbox", "{out}");
    assert_eq!(
        lines[1].split_whitespace().collect::<Vec<_>>(),
        ["1", "hakoniwa-init"]
    );
    assert_eq!(lines[2].split_whitespace().collect::<Vec<_>>(), ["2", "sh"]);
    // Only the init, the shell and ps exist in the PID namespace.
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[3].trim_end().ends_with(" ps"), "{out}");
    assert_eq!(lines[4], "exit status: 0");
}

#[test]
fn the_mounts_example_binds_creates_and_cleans_up() {
    let (pid, out) = run("mounts");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "hello from the host",
            "hello from the config",
            "/data is read-only",
            "scratch"
        ],
        "{out}"
    );
    for entry in [
        "config", "data", "dev", "input", "out", "proc", "tmp", "usr", "work",
    ] {
        assert!(lines.contains(&entry), "/ lacks {entry}: {out}");
    }
    assert_eq!(lines.last(), Some(&"host sees: written"), "{out}");
    let scratch = std::env::temp_dir().join(format!("hakoniwa-mounts-{pid}"));
    assert!(!scratch.exists(), "{scratch:?} left behind");
}

#[test]
fn the_network_example_has_only_loopback_offline_and_reaches_the_host_through_pasta() {
    let (_, out) = run("network");
    assert_eq!(
        out, "offline: lo:\nthrough pasta: hello from the host\n",
        "{out}"
    );
}

#[test]
fn the_limits_example_reports_which_limit_ended_the_program() {
    let (_, out) = run("limits");
    assert_eq!(
        out,
        "open files: 64\nbusy loop: CpuTimeExceeded\nsleep 60: WallTimeExceeded, code 137\n"
    );
}

#[test]
fn the_landlock_example_allows_tmp_and_denies_etc() {
    let (_, out) = run("landlock");
    let (abi, rest) = out.split_once('\n').unwrap();
    let abi: u32 = abi.strip_prefix("landlock ABI ").unwrap().parse().unwrap();
    assert!(abi >= 1, "{out}");
    assert_eq!(
        rest,
        "kept\nls: cannot open directory '/etc': Permission denied\n"
    );
}

#[test]
fn the_seccomp_example_gets_eperm_from_mkdir_and_a_kill_from_uname() {
    let (_, out) = run("seccomp");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("mkdir: "), "{out}");
    assert!(lines[0].ends_with("Operation not permitted"), "{out}");
    assert_eq!(lines[1], "uname: SeccompViolation, signal Some(31)");
}

#[test]
fn the_io_example_captures_pipes_and_passes_a_descriptor() {
    let (_, out) = run("io");
    assert_eq!(
        out,
        "captured: to stdout\ncaptured: to stderr\ncode: Some(3)\ntr: SHOUT\nfd 3: through fd 3\n"
    );
}

#[test]
fn the_usage_example_reports_the_programs_own_peak_memory() {
    let (_, out) = run("usage");
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name:?} line: {out}"))
    };
    assert_eq!(out.lines().next(), Some("67108864"), "{out}");
    assert_eq!(field("exit: "), "exit status: 0");
    let kb: u64 = field("peak rss: ")
        .strip_suffix(" KiB")
        .unwrap()
        .parse()
        .unwrap();
    // perl held a 64 MiB string; well under a GiB (the test binary's own peak is not in it,
    // but a wrong reading would typically be ru_maxrss or 0).
    assert!((64 * 1024..1024 * 1024).contains(&kb), "{out}");
    for name in [
        "setup: ",
        "real: ",
        "cpu: ",
        "faults: ",
        "context switches: ",
    ] {
        field(name);
    }
}

/// The README's library example is `engine/examples/readme.rs`: an interactive shell, fed a
/// script here.
#[test]
fn the_readme_library_example_runs_a_shell_as_pid_2_of_the_sandbox() {
    let readme = std::fs::read_to_string(manifest_dir().join("../README.md")).unwrap();
    let code = std::fs::read_to_string(manifest_dir().join("examples/readme.rs")).unwrap();
    let block = readme
        .split("```rust,no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("```\n").next())
        .expect("the README has a rust,no_run block");
    assert!(
        code.ends_with(block),
        "README.md's Rust example is not engine/examples/readme.rs (after its header)"
    );
    let exe = example("readme");
    let mut child = Command::new(&exe)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"echo pid $$; ls /usr/bin/env\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{:?}", out.status);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "pid 2\n/usr/bin/env\n"
    );
}

fn rust_md() -> String {
    std::fs::read_to_string(manifest_dir().join("../docs/rust.md")).unwrap()
}

#[test]
fn docs_rust_md_shows_every_capability_example_verbatim() {
    let doc = rust_md();
    let mut last = 0;
    for name in EXAMPLES {
        let rel = format!("engine/examples/{name}.rs");
        let code =
            std::fs::read_to_string(manifest_dir().join(format!("examples/{name}.rs"))).unwrap();
        let block = format!("[`{rel}`](../{rel}):\n\n```rust\n{code}```\n");
        let at = doc.find(&block).unwrap_or_else(|| {
            panic!(
                "docs/rust.md does not show {rel} as it is (link, then the file in a rust block)"
            )
        });
        assert!(at > last, "docs/rust.md shows {rel} out of order");
        last = at;
    }
    // No other Rust code in the document: everything shown is what the tests run.
    assert_eq!(
        doc.matches("```rust").count(),
        EXAMPLES.len(),
        "docs/rust.md has Rust code that is not one of the run examples"
    );
}

#[test]
fn docs_rust_md_names_the_crate_as_its_manifest_does() {
    let manifest = std::fs::read_to_string(manifest_dir().join("Cargo.toml")).unwrap();
    // The package name, then the library name the code uses.
    assert!(manifest.contains("\nname = \"hakoniwa-sandbox\"\n"));
    assert!(manifest.contains("[lib]\n# The library keeps the name its users write: `use hakoniwa`.\nname = \"hakoniwa\"\n"));
    assert!(rust_md().contains("hakoniwa = { package = \"hakoniwa-sandbox\", path = \"engine\" }"));
}

#[test]
fn the_public_types_are_send_sync_clone_and_copy_as_docs_rust_md_says() {
    fn send_sync<T: Send + Sync>() {}
    fn clone<T: Clone>() {}
    fn copy<T: Copy>() {}
    send_sync::<hakoniwa::Container>();
    send_sync::<hakoniwa::Command>();
    send_sync::<hakoniwa::Child>();
    send_sync::<hakoniwa::ChildStdin>();
    send_sync::<hakoniwa::ChildStdout>();
    send_sync::<hakoniwa::ChildStderr>();
    send_sync::<hakoniwa::Output>();
    send_sync::<hakoniwa::ExitStatus>();
    send_sync::<hakoniwa::Error>();
    send_sync::<hakoniwa::Stdio>();
    send_sync::<hakoniwa::landlock::Ruleset>();
    send_sync::<hakoniwa::Mount>();
    send_sync::<hakoniwa::layout::Layout>();
    clone::<hakoniwa::Mount>();
    clone::<hakoniwa::layout::Layout>();
    clone::<hakoniwa::Container>();
    clone::<hakoniwa::Error>();
    copy::<hakoniwa::ExitStatus>();
    copy::<hakoniwa::Usage>();
    let doc = rust_md();
    for claim in [
        "`Container` | yes | yes | `Clone`",
        "`ExitStatus`, `Usage` | yes | yes | `Copy`",
        "`Mount`, `layout::Layout` | yes | yes | `Clone`",
    ] {
        assert!(doc.contains(claim), "docs/rust.md lacks {claim:?}");
    }
}

/// Names (as `comm` shows them, 15 bytes at most) of this process's threads.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|c| c.trim_end().to_string())
        .collect()
}

#[test]
fn a_spawn_starts_exactly_the_engine_threads_docs_rust_md_names() {
    // From a thread that is not the main thread the clone goes to a spawner thread. The
    // exit-hook thread serves sandboxes without the init that ask for peak memory.
    let status = common::sandbox().command("/bin/true").status().unwrap();
    assert!(status.success());
    let mut c = common::sandbox();
    c.init(false).peak_memory(true);
    assert!(c.command("/bin/true").status().unwrap().success());
    let mut ours: Vec<String> = thread_names()
        .into_iter()
        .filter(|n| n.starts_with("hakoniwa"))
        .collect();
    ours.sort();
    ours.dedup();
    assert_eq!(ours, ["hakoniwa-exit-h", "hakoniwa-spawne"]);
    let doc = rust_md();
    for name in ["`hakoniwa-spawner`", "`hakoniwa-exit-hook`"] {
        assert!(doc.contains(name), "docs/rust.md does not name {name}");
    }
}
