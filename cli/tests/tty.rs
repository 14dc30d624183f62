//! Terminal behaviour, driven through tmux: job control inside and around the sandbox,
//! Ctrl-C, Ctrl-Z/fg, window size changes, and signals the program sends to its own
//! process group (issues 10 item 4 and 14).
use std::process::Command;
use std::time::{Duration, Instant};

fn tmux(sock: &str, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .args(["-S", sock])
        .args(args)
        .output()
        .expect("tmux is required (.ci/setup)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A tmux server running one window (killed, with whatever runs in it, however the test
/// ends).
struct Tty {
    sock: String,
}

impl Tty {
    fn start(name: &str, cmd: &str) -> Tty {
        let sock = std::env::temp_dir()
            .join(format!("hakoniwa-tty-{name}-{}", std::process::id()))
            .to_str()
            .unwrap()
            .to_string();
        let t = Tty { sock };
        tmux(
            &t.sock,
            &[
                "new-session",
                "-d",
                "-s",
                "hk",
                "-x",
                "100",
                "-y",
                "30",
                cmd,
            ],
        );
        t
    }

    /// An interactive bash with job control and a fixed prompt.
    fn shell(name: &str) -> Tty {
        let t = Tty::start(
            name,
            "env -i PATH=/usr/bin:/bin TERM=screen PS1='sh> ' bash --norc --noprofile -i",
        );
        t.wait_for("sh>");
        t
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "hk"];
        args.extend_from_slice(keys);
        tmux(&self.sock, &args);
    }

    fn line(&self, text: &str) {
        self.keys(&[text, "Enter"]);
    }

    fn screen(&self) -> String {
        tmux(
            &self.sock,
            &["capture-pane", "-t", "hk", "-p", "-S", "-100"],
        )
    }

    fn wait_for(&self, needle: &str) -> String {
        let t = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(needle) {
                return screen;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "{needle:?} never appeared:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        tmux(&self.sock, &["kill-server"]);
        let _ = std::fs::remove_file(&self.sock);
    }
}

/// The binary under test: this build's, or `HAKONIWA_TEST_BIN` (to check that a new test
/// fails against an older build).
fn hk() -> String {
    std::env::var("HAKONIWA_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hakoniwa").into())
}

/// State letters (`R`, `S`, `T`, ...) of host processes named `comm` whose command line
/// contains `marker`.
fn states(comm: &str, marker: &str) -> Vec<char> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let p = e.path();
        let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
        if !String::from_utf8_lossy(&cmd).contains(marker) {
            continue;
        }
        let stat = std::fs::read_to_string(p.join("stat")).unwrap_or_default();
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        if &stat[open + 1..close] == comm {
            v.extend(stat[close + 2..].chars().next());
        }
    }
    v
}

fn wait_state(comm: &str, marker: &str, want: impl Fn(char) -> bool, what: &str) {
    let t = Instant::now();
    loop {
        let s = states(comm, marker);
        if !s.is_empty() && s.iter().all(|c| want(*c)) {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(10), "{what}: {s:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn interactive_shell_gets_ctrl_c_and_ctrl_z() {
    let t = Tty::start("sh", &format!("{} run -- sh -i", hk()));
    // The prompt is "# " for root and "$ " otherwise (capture-pane trims the space).
    let prompt = if rustix::process::geteuid().is_root() {
        "#"
    } else {
        "$"
    };
    t.wait_for(prompt);
    t.line("sleep 30");
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-c"]);
    t.line("echo rc=$?");
    t.wait_for("rc=130");
    t.line("sleep 31");
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-z"]);
    let screen = t.wait_for("Stopped");
    assert!(screen.contains("sleep 31"), "{screen}");
    t.line("kill -9 %1; echo killed");
    t.wait_for("killed");
}

#[test]
fn ctrl_c_raises_keyboard_interrupt_in_the_python_repl() {
    let t = Tty::shell("py");
    t.line(&format!("{} run -- python3 -q; echo rc=$?", hk()));
    t.wait_for(">>>");
    t.line("import time; time.sleep(30)");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    t.wait_for("KeyboardInterrupt");
    // The REPL survived it and still works.
    t.line("print(6 * 7)");
    t.wait_for("42");
    t.keys(&["C-d"]);
    t.wait_for("rc=0");
}

#[test]
fn ctrl_c_ends_a_program_without_a_handler() {
    let t = Tty::shell("int");
    // A duration no other test uses, to find this sleep among the host's processes.
    let secs = format!("30.{}", std::process::id());
    t.line(&format!("{} run -- sleep {secs}; echo rc=$?", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    t.wait_for("rc=130");
}

#[test]
fn ctrl_z_stops_the_program_and_fg_resumes_it() {
    let t = Tty::shell("tstp");
    let marker = format!("hk-tstp-{}", std::process::id());
    t.line(&format!(
        "{} run -- python3 -c 'while True: pass' {marker}; echo rc=$?",
        hk()
    ));
    wait_state("python3", &marker, |c| c == 'R', "python never ran");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    // The program itself is stopped, not only hakoniwa.
    wait_state("python3", &marker, |c| c == 'T', "python kept running");
    t.line("fg");
    wait_state("python3", &marker, |c| c == 'R', "python did not resume");
    // Back in the foreground: Ctrl-C reaches it again.
    t.keys(&["C-c"]);
    t.wait_for("KeyboardInterrupt");
    t.wait_for("rc=1");
}

#[test]
fn a_window_size_change_reaches_a_program_that_is_not_a_shell() {
    let t = Tty::shell("winch");
    let script = "import os, signal; \
                  signal.signal(signal.SIGWINCH, lambda *a: print('winch', os.get_terminal_size().columns, flush=True)); \
                  print('rea' + 'dy', flush=True); \
                  [signal.pause() for _ in iter(int, 1)]";
    t.line(&format!("{} run -- python3 -c \"{script}\"", hk()));
    t.wait_for("ready");
    tmux(
        &t.sock,
        &["resize-window", "-t", "hk", "-x", "120", "-y", "30"],
    );
    t.wait_for("winch 120");
}

#[test]
fn kill_zero_sigstop_from_inside_freezes_neither_hakoniwa_nor_its_wall_time_limit() {
    let t = Tty::shell("stop0");
    t.line(&format!(
        "{} run --limit-walltime 1 -- sh -c 'kill -STOP 0'; echo rc=$?",
        hk()
    ));
    t.wait_for("rc=137");
}

#[test]
fn kill_zero_sigkill_from_inside_reaches_neither_hakoniwa_nor_a_pipeline_peer() {
    let t = Tty::shell("kill0");
    // (The quotes keep the typed command line from containing what is waited for.)
    t.line(&format!(
        "sh -c '{} run -- sh -c \"kill -KILL 0\" | cat; echo ne\"\"xt'",
        hk()
    ));
    t.wait_for("\nnext");
    // hakoniwa itself survives to report how the program ended.
    t.line(&format!("{} run -v -- sh -c 'kill -KILL 0'", hk()));
    t.wait_for("Exited: signaled");
}

#[test]
fn term_is_passed_when_stdin_is_a_terminal() {
    let t = Tty::start(
        "term",
        &format!(
            "{} run -- sh -c 'echo TERM=[$TERM] PATH=[$PATH]; sleep 30'",
            hk()
        ),
    );
    let screen = t.wait_for("PATH=[");
    // tmux sets TERM for what it runs (screen or tmux-256color, by its configuration).
    let term = screen
        .split("TERM=[")
        .nth(1)
        .and_then(|r| r.split(']').next())
        .unwrap_or_default();
    assert!(
        term == "screen" || term.starts_with("screen-") || term.starts_with("tmux"),
        "TERM inside was {term:?}:\n{screen}"
    );
    assert!(
        screen.contains("PATH=[/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]"),
        "{screen}"
    );
}

#[test]
fn the_wall_time_limit_holds_while_a_self_stopped_program_has_hakoniwa_stopped() {
    // A program that stops its own group with SIGTSTP stops hakoniwa too (job control), but
    // the sandbox's init keeps the clock: by the time `fg` comes, the limit has ended it.
    let t = Tty::shell("tstp0");
    t.line(&format!(
        "{} run --limit-walltime 1 -- sh -c 'kill -TSTP 0; sleep 30'",
        hk()
    ));
    t.wait_for("Stopped");
    // The kernel continues hakoniwa at the deadline: it reports without waiting for `fg`.
    t.wait_for("wall-clock limit of 1s exceeded");
    t.line("true");
    t.wait_for("Exit 137");
}

#[test]
fn a_self_stopped_program_cannot_keep_hakoniwa_past_its_wall_time_in_a_script() {
    // In a script (no job control) nobody sends `fg`: a hakoniwa stopped like its program
    // would keep the script, and the terminal, waiting forever after the limit.
    let t = Tty::shell("tstp1");
    t.line(&format!(
        "bash -c '{} run --limit-walltime 1 -- sh -c \"kill -TSTP 0; sleep 30\"; echo r\"\"c=$?'",
        hk()
    ));
    t.wait_for("rc=137");
}

/// A directory for the thief's files, writable by the program whatever its uid, removed
/// however the test ends.
struct StealDir(std::path::PathBuf);

impl StealDir {
    fn new(name: &str) -> StealDir {
        let d =
            StealDir(std::env::temp_dir().join(format!("hakoniwa-{name}-{}", std::process::id())));
        std::fs::create_dir_all(&d.0).unwrap();
        let _ = Command::new("chmod").arg("777").arg(&d.0).status();
        std::fs::write(d.0.join("steal.py"), STEAL).unwrap();
        d
    }

    fn read(&self, file: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(file)).ok()
    }
}

impl Drop for StealDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The program stops its own process (so hakoniwa stops too, and the shell takes the
/// terminal back); a child in a group of its own, with SIGTTOU blocked, then makes its group
/// the foreground of the terminal on its stdin (again whenever someone else takes it) and
/// writes what it reads there to `stolen`. It writes `ready` once it holds the foreground
/// after the program stopped: taken from the shell (argument `shell`), or at all
/// (argument `any`: the foreground of a terminal of its own never changes).
const STEAL: &str = r#"import os, select, signal, sys, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTTOU])
parent = os.getpid()
if os.fork() == 0:
    os.setpgid(0, 0)
    me = os.getpgrp()
    def state():
        return open('/proc/%d/stat' % parent).read().rsplit(')', 1)[1].split()[0]
    while state() != 'T':
        time.sleep(0.01)
    ready = False
    while True:
        fg = os.tcgetpgrp(0)
        if fg != me:
            if sys.argv[1] == 'any' or fg != parent:
                os.tcsetpgrp(0, me)
                if not ready:
                    open('/steal/ready', 'w').write('ready')
                    ready = True
        if ready and select.select([0], [], [], 0.05)[0]:
            open('/steal/stolen', 'wb').write(os.read(0, 100))
            os._exit(0)
        time.sleep(0.01)
os.kill(parent, signal.SIGTSTP)
time.sleep(60)
"#;

fn wait_file(d: &StealDir, file: &str, t: &Tty) {
    let start = Instant::now();
    while d.read(file).is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{file} never appeared:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run the thief (`STEAL`) from an interactive shell, until it is ready to read.
fn start_thief(name: &str, flags: &str, mode: &str) -> (StealDir, Tty) {
    let d = StealDir::new(name);
    let t = Tty::shell(name);
    t.line(&format!(
        "{} run {flags} -B {}:/steal -- /usr/bin/python3 /steal/steal.py {mode}",
        hk(),
        d.0.display()
    ));
    t.wait_for("Stopped");
    wait_file(&d, "ready", &t);
    (d, t)
}

#[test]
fn a_sandbox_process_cannot_take_the_terminal_while_hakoniwa_is_stopped() {
    // With the relayed pseudo-terminal (the default) the thief can only take that terminal:
    // what the user types next goes to the shell.
    let (d, t) = start_thief("steal", "", "any");
    // (The quotes keep the typed line from containing what the shell prints.)
    t.line("echo typed-by-\"\"the-user");
    t.wait_for("\ntyped-by-the-user");
    assert_eq!(d.read("stolen"), None, "the sandbox read the shell's input");
    t.line("kill -KILL %1");
}

#[test]
fn with_no_pty_a_sandbox_process_can_still_take_the_terminal_while_hakoniwa_is_stopped() {
    // The documented price of --no-pty (docs/security.md), and the proof that the test
    // above can fail: the caller's own terminal is taken and the typed line stolen.
    let (d, t) = start_thief("stealnp", "--no-pty", "shell");
    t.line("echo typed-by-\"\"the-user");
    wait_file(&d, "stolen", &t);
    assert!(
        d.read("stolen").unwrap().contains("typed-by-"),
        "{:?}",
        d.read("stolen")
    );
    t.line("kill -KILL %1");
}
