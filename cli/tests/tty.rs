//! An interactive shell under a real terminal keeps job control (tmux drives it).
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

fn wait_for(sock: &str, needle: &str) -> String {
    let t = Instant::now();
    loop {
        let screen = tmux(sock, &["capture-pane", "-t", "hk", "-p"]);
        if screen.contains(needle) {
            return screen;
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{needle:?} never appeared:\n{screen}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills the tmux server (and with it the sandbox) however the test ends.
struct Server(String);

impl Drop for Server {
    fn drop(&mut self) {
        tmux(&self.0, &["kill-server"]);
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn interactive_shell_gets_ctrl_c_and_ctrl_z() {
    let sock = std::env::temp_dir().join(format!("hakoniwa-tty-{}", std::process::id()));
    let server = Server(sock.to_str().unwrap().to_string());
    let sock = server.0.as_str();
    let cmd = format!("{} run -- sh -i", env!("CARGO_BIN_EXE_hakoniwa"));
    tmux(
        sock,
        &[
            "new-session",
            "-d",
            "-s",
            "hk",
            "-x",
            "100",
            "-y",
            "30",
            &cmd,
        ],
    );
    // The prompt is "# " for root and "$ " otherwise (capture-pane trims the space).
    let prompt = if rustix::process::geteuid().is_root() {
        "#"
    } else {
        "$"
    };
    wait_for(sock, prompt);
    tmux(sock, &["send-keys", "-t", "hk", "sleep 30", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux(sock, &["send-keys", "-t", "hk", "C-c"]);
    tmux(sock, &["send-keys", "-t", "hk", "echo rc=$?", "Enter"]);
    wait_for(sock, "rc=130");
    tmux(sock, &["send-keys", "-t", "hk", "sleep 31", "Enter"]);
    std::thread::sleep(Duration::from_millis(300));
    tmux(sock, &["send-keys", "-t", "hk", "C-z"]);
    let screen = wait_for(sock, "Stopped");
    assert!(screen.contains("sleep 31"), "{screen}");
    tmux(
        sock,
        &["send-keys", "-t", "hk", "kill -9 %1; echo killed", "Enter"],
    );
    wait_for(sock, "killed");
}

#[test]
fn term_is_passed_when_stdin_is_a_terminal() {
    let sock = std::env::temp_dir().join(format!("hakoniwa-tty-term-{}", std::process::id()));
    let server = Server(sock.to_str().unwrap().to_string());
    let sock = server.0.as_str();
    // HAKONIWA_TEST_BIN: check this test against an older build (see common/mod.rs).
    let bin = std::env::var("HAKONIWA_TEST_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_hakoniwa").to_string());
    let cmd = format!("{bin} run -- sh -c 'echo TERM=[$TERM] PATH=[$PATH]; sleep 30'");
    tmux(
        sock,
        &[
            "new-session",
            "-d",
            "-s",
            "hk",
            "-x",
            "200",
            "-y",
            "30",
            &cmd,
        ],
    );
    let screen = wait_for(sock, "PATH=[");
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
