//! Terminal behaviour, driven through tmux: job control inside and around the sandbox,
//! Ctrl-C, Ctrl-Z/fg, window size changes, and signals the program sends to its own
//! process group (issues 10 item 4 and 14).
mod common;

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

    /// Wait until the shell's prompt shows on a line after the last `needle`.
    fn wait_for_prompt_after(&self, needle: &str) {
        let t = Instant::now();
        loop {
            let screen = self.screen();
            let prompt = screen
                .rfind(needle)
                .is_some_and(|at| screen[at..].lines().skip(1).any(|l| l.starts_with("sh>")));
            if prompt {
                return;
            }
            assert!(
                t.elapsed() < Duration::from_secs(15),
                "no prompt after {needle:?}:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
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

/// The binary under test ([`common::bin`]) as one word of a shell command line: the
/// checkout's path may hold spaces.
fn hk() -> String {
    common::sh_quote(&common::bin())
}

/// The host processes whose command line contains `marker`: each one's name and the fields
/// of `/proc/PID/stat` after it (state, ppid, pgrp, session, tty_nr, tpgid, ...).
fn procs_with(marker: &str) -> Vec<(String, Vec<String>)> {
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
        let fields = stat[close + 1..].split_whitespace().map(String::from);
        v.push((stat[open + 1..close].to_string(), fields.collect()));
    }
    v
}

/// State letters (`R`, `S`, `T`, ...) of host processes named `comm` whose command line
/// contains `marker`.
fn states(comm: &str, marker: &str) -> Vec<char> {
    procs_with(marker)
        .into_iter()
        .filter(|(name, _)| name == comm)
        .filter_map(|(_, f)| f.first().and_then(|s| s.chars().next()))
        .collect()
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

/// Wait until no process named one of `comms` with `marker` in its command line is left
/// (10 s at most) after the terminal of test `tag` hung up.
fn wait_gone(tag: &str, comms: &[&str], marker: &str) {
    let start = Instant::now();
    loop {
        let left: Vec<char> = comms.iter().flat_map(|c| states(c, marker)).collect();
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{tag}: the sandbox outlived its terminal: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Run `line` in a fresh shell; its screen once `needle` shows (the shell ends with it).
fn screen_after(name: &str, line: &str, needle: &str) -> String {
    let t = Tty::shell(name);
    t.line(line);
    t.wait_for(needle)
}

/// Whether `done` holds within 10 s (looked at every 50 ms).
fn within_10s(mut done: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > Duration::from_secs(10) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    true
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
    // Durations no other test uses (tests run in parallel), to find these sleeps among the
    // host's processes.
    let secs = format!("32.{}", std::process::id());
    t.line(&format!("sleep {secs}"));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    t.line("echo rc=$?");
    t.wait_for("rc=130");
    let secs = format!("33.{}", std::process::id());
    t.line(&format!("sleep {secs}"));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-z"]);
    let screen = t.wait_for("Stopped");
    assert!(screen.contains(&format!("sleep {secs}")), "{screen}");
    t.line("kill -9 %1; echo killed");
    t.wait_for("killed");
}

#[test]
fn ctrl_c_raises_keyboard_interrupt_in_the_python_repl() {
    let t = Tty::shell("py");
    t.line(&format!("{} run -- python3 -q; echo rc=$?", hk()));
    t.wait_for(">>>");
    // Printed once the statement runs (the typed line does not contain it): a Ctrl-C at the
    // prompt would print KeyboardInterrupt too.
    t.line("import time; print('sle' + 'eping'); time.sleep(30)");
    t.wait_for("\nsleeping");
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
    t.line(&format!("{} run -- sleep {secs}", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    // hakoniwa ends by SIGINT as the program did: the shell drops the rest of a line then,
    // so the status is asked for on the next one.
    t.wait_for("^C\nsh>");
    t.line("echo rc=$?");
    t.wait_for("rc=130");
}

#[test]
fn closing_the_terminal_ends_the_sandbox_when_it_is_not_hakoniwa_s_controlling_terminal() {
    // `setsid` puts hakoniwa in a session of its own, as `runuser`/`su` do with the
    // programs they start: the terminal is not its controlling terminal, so the kernel's
    // hang-up signals reach the terminal's session, not hakoniwa. Once with the program's
    // input relayed, once with only its output relayed.
    for (tag, redirect) in [("hup-in", ""), ("hup-out", " </dev/null")] {
        let secs = format!("31.{}{}", std::process::id(), redirect.len());
        let cmd = format!("setsid -w {} run -- sleep {secs}{redirect}", hk());
        let t = Tty::start(tag, &cmd);
        wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
        drop(t); // kills the tmux server: the terminal hangs up
        wait_gone(tag, &["sleep", "hakoniwa", "hakoniwa-init"], &secs);
    }
}

#[test]
fn closing_the_terminal_ends_a_sandbox_whose_program_ignores_sighup() {
    // Without hakoniwa, `read` on a terminal that hung up returns (end of file) even when
    // SIGHUP is ignored: the program's own terminal hangs up with the caller's. Once as the
    // window's program, once from an interactive shell (which passes SIGHUP to its jobs).
    let marker = format!("hk-hupign-{}", std::process::id());
    let prog = format!("{} run -- sh -c 'trap \"\" HUP; read x' {marker}", hk());
    for (tag, shell) in [("hupign", false), ("hupignsh", true)] {
        let t = if shell {
            let t = Tty::shell(tag);
            t.line(&prog);
            t
        } else {
            Tty::start(tag, &prog)
        };
        wait_state("sh", &marker, |c| c == 'S', "the program never started");
        drop(t); // kills the tmux server: the terminal hangs up
        wait_gone(tag, &["sh", "hakoniwa", "hakoniwa-init"], &marker);
    }
}

#[test]
fn a_sigint_sent_after_the_terminal_hung_up_still_reaches_the_program() {
    // In a pipeline the relay thread passes SIGINT on through the program's terminal; once
    // the terminal hung up that fails, and the signal must then go the usual way (it was
    // reported as delivered, and lost).
    let dir = common::temp_dir("hupint");
    let d = common::s(&dir);
    let marker = format!("hk-hupint-{}", std::process::id());
    let script = format!(
        "trap \"\" HUP; trap \"echo INT > {d}/got; exit 0\" INT; : > {d}/ready; \
         while :; do sleep 0.1; done"
    );
    let cmd = format!(
        "{} run -B {d} -- sh -c '{script}' {marker} > /dev/null",
        hk()
    );
    let t = Tty::start("hupint", &cmd);
    // Not `wait_state`: tmux's own `sh -c` (it stays for the redirection) has the marker
    // in its command line too, and waits while the sandbox is still being set up.
    assert!(
        within_10s(|| dir.join("ready").exists()),
        "the program never started"
    );
    let hakoniwa: Vec<u32> = common::pids_with(&marker)
        .into_iter()
        .filter(|(pid, _)| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == "hakoniwa\n")
        })
        .map(|(pid, _)| pid)
        .collect();
    assert_eq!(hakoniwa.len(), 1, "{:?}", common::pids_with(&marker));
    drop(t); // kills the tmux server: the terminal hangs up; the program ignores SIGHUP
    std::thread::sleep(Duration::from_millis(300));
    let _ = Command::new("kill")
        .args(["-INT", &hakoniwa[0].to_string()])
        .status();
    if !within_10s(|| dir.join("got").exists()) {
        for (pid, _) in common::pids_with(&marker) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        panic!("the SIGINT never reached the program");
    }
    wait_gone("hupint", &["sh", "hakoniwa", "hakoniwa-init"], &marker);
}

#[test]
fn a_pager_after_hakoniwa_in_a_pipeline_gets_the_keys_while_the_program_runs() {
    // stdin is the terminal and stdout the pager's pipe: the terminal keeps the pager's
    // modes (no raw mode, nothing restored over them) and its keys (nothing is read while
    // it is out of canonical mode). `q` comes while the program still runs.
    let t = Tty::shell("pager");
    let prompt = format!("pager-{}", std::process::id());
    t.line_checking_modes(&format!(
        "{} run -- sh -c 'seq 1 1000; sleep 3' | less -Ps{prompt}",
        hk()
    ));
    t.wait_for(&prompt);
    t.keys(&["q"]);
    t.wait_for("kept-0");
}

#[test]
fn a_pager_that_starts_late_gets_the_keys_and_hakoniwa_does_not_wait_for_a_line() {
    // The pager switches the terminal's modes after hakoniwa last looked: a key must go to
    // it, and hakoniwa, whose program has ended, must not sit in a read of the terminal.
    let t = Tty::shell("latepager");
    let prompt = format!("late-{}", std::process::id());
    t.line_checking_modes(&format!(
        "{} run -- seq 1 100000 | (sleep 0.5; less -Ps{prompt})",
        hk()
    ));
    t.wait_for(&prompt);
    t.keys(&["q"]);
    t.wait_for("kept-0");
}

#[test]
fn in_a_pipeline_typed_lines_reach_the_program_once_and_ctrl_d_ends_its_input() {
    let t = Tty::shell("pipein");
    let script =
        "echo ready$((6*7)); sleep 0.3; read -r x; echo got-$x; read -r y; echo got2-$y-$?; cat; echo end";
    t.line_checking_modes(&format!("{} run -- sh -c '{script}' | cat", hk()));
    // Typed before the program reads (during its sleep): the terminal keeps the line until
    // the relay does. Not before the program runs: bash may still have the terminal in its
    // line editor's mode, without echo (a line typed with the command has its own test).
    t.wait_for("ready42");
    t.line("abc");
    t.wait_for("got-abc");
    t.line("de");
    t.wait_for("got2-de-0");
    // Ctrl-D at the start of a line is the end of input, as on any terminal: `cat` ends.
    t.keys(&["C-d"]);
    let screen = t.wait_for("kept-0");
    assert!(screen.contains("end"), "{screen}");
    // The caller's terminal echoed what was typed; the program's terminal did not again.
    assert_eq!(screen.matches("abc").count(), 2, "{screen}");
}

#[test]
fn in_a_pipeline_a_line_typed_with_the_command_reaches_the_program_as_one_line() {
    // Typed in the same burst as the command: bash's line editor still has the terminal in
    // raw mode, and the line becomes one ending in `\r` when bash makes the terminal
    // canonical to run the command (CI once typed that fast). It was passed on with an
    // end-of-file after it, and the program's next read ended at once.
    let t = Tty::shell("pipeburst");
    let script = "read -r x; echo got-$x; read -r y; echo got2-$y-$?; cat; echo end";
    let cmd = format!("{} run -- sh -c '{script}' | cat; echo done-$?", hk());
    t.keys(&[&cmd, "Enter", "abc", "Enter"]);
    t.wait_for("got-abc");
    t.line("de");
    // `got2-` alone is on the command line.
    t.wait_for("got2-de-0");
    t.keys(&["C-d"]);
    let screen = t.wait_for("done-0");
    assert!(screen.contains("end"), "{screen}");
}

#[test]
fn in_a_pipeline_editing_keys_typed_with_the_command_edit_the_line_and_end_nothing() {
    // Typed in the same burst as the command, the keys come unedited in one read once bash
    // makes the terminal canonical: `x` and backspace were passed on with an end-of-file
    // after them, which the program's terminal, once it had erased the `x`, read as the end
    // of input.
    let t = Tty::shell("pipeedit");
    let script = r#"read -r x; echo "rc=$? got [$x]""#;
    for (n, keys) in [["x", "BSpace"], ["abc", "C-u"]].iter().enumerate() {
        // The marker is computed, so that the command line itself never matches it.
        let cmd = format!(
            "{} run -- sh -c '{script}' | cat; echo done$((100+{n}))-$?",
            hk()
        );
        t.keys(&[&cmd, "Enter", keys[0], keys[1]]);
        t.line(&format!("hello{n}"));
        let screen = t.wait_for(&format!("done{}-", 100 + n));
        assert!(
            screen.contains(&format!("rc=0 got [hello{n}]")),
            "{keys:?}:\n{screen}"
        );
    }
}

#[test]
fn in_a_pipeline_lines_typed_reach_the_program_when_echo_was_off_before_it_started() {
    // `stty -echo; x=$(prog)`, a script's password prompt: echo off meant "another program
    // of the pipeline has the keyboard", and nothing typed ever reached the program.
    let t = Tty::shell("pipenoecho");
    let marker = format!("noecho{}", std::process::id());
    t.line(&format!(
        "stty -echo; n=$({} run -- sh -c 'head -n 1' {marker}); stty echo; echo len$((6*7))=${{#n}}",
        hk()
    ));
    wait_state("sh", &marker, |c| c == 'S', "the sandbox never started");
    t.line("secret");
    let screen = t.wait_for("len42=");
    assert!(screen.contains("len42=6"), "{screen}");
    assert!(
        !screen.contains("secret"),
        "echoed although echo was off:\n{screen}"
    );
}

#[test]
fn in_a_pipeline_ctrl_c_discards_the_lines_typed_before_it_as_a_terminal_does() {
    // The caller's terminal discards what was typed before Ctrl-C; the program's terminal
    // was signalled with TIOCSIG, which discards nothing, and the program then read the
    // stale line.
    let t = Tty::shell("pipeflush");
    let secs = format!("38.{}", std::process::id());
    let script = format!("trap 'echo INT' INT; sleep {secs}; read -r x; echo got:\\$x:");
    // Output to a file, not `| cat`: Ctrl-C would end `cat` too.
    let out = common::temp_dir("pipeflush");
    let file = out.join("out");
    let f = common::sh_quote(common::s(&file));
    t.line(&format!(
        "{} run -- sh -c \"{script}\" > {f}; cat {f}",
        hk()
    ));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.line("stale");
    t.keys(&["C-c"]);
    // The SIGINT has reached the program's group when `sleep` is gone.
    assert!(
        within_10s(|| states("sleep", &secs).is_empty()),
        "sleep outlived Ctrl-C"
    );
    t.line("fresh");
    // On a failure the screen shows `got:stale:`.
    t.wait_for("got:fresh:");
}

#[test]
fn in_a_pipeline_ctrl_z_discards_the_lines_typed_before_it_as_a_terminal_does() {
    // As for Ctrl-C: after `fg` the program read the line typed before Ctrl-Z.
    let t = Tty::shell("pipetstp");
    let out = common::temp_dir("pipetstp");
    let file = out.join("out");
    let f = common::sh_quote(common::s(&file));
    let secs = format!("34.{}", std::process::id());
    let script = format!("sleep {secs}; read -r x; echo got:\\$x:");
    // Not `; cat` after it: bash abandons the rest of a list whose command was stopped.
    t.line(&format!("{} run -- sh -c \"{script}\" > {f}", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.line("stale");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    t.line("fg");
    wait_state("sleep", &secs, |c| c == 'S', "sleep was not continued");
    let _ = Command::new("pkill")
        .args(["-f", &format!("^sleep {secs}")])
        .status();
    t.line("fresh");
    let read = || std::fs::read_to_string(&file).unwrap_or_default();
    within_10s(|| read().contains("got:"));
    assert_eq!(read(), "got:fresh:\n", "{}", t.screen());
}

#[test]
fn in_a_pipeline_two_signals_sent_back_to_back_both_reach_the_program() {
    // The relay thread delivers them; a second request overwrote a first one not yet
    // delivered (a review saw 2 of 12 runs lose the SIGINT).
    let t = Tty::shell("pipetwo");
    let dir = common::temp_dir("pipetwo");
    let secs = format!("36.{}", std::process::id());
    let script = format!(
        "trap \"echo INT\" INT; trap \"echo QUIT\" QUIT; sleep {secs}; sleep 0.3; echo end"
    );
    t.line(&format!(
        "cd {}; for i in 1 2 3 4 5 6 7 8 9 10; do {} run -- sh -c '{script}' > out$i & \
         p=$!; until pgrep -f \"^sleep {secs}\" >/dev/null; do sleep 0.02; done; \
         kill -INT $p; kill -QUIT $p; wait $p; done; \
         echo both$((2*3))-$(grep -l QUIT out* | xargs grep -l INT | wc -l)",
        common::sh_quote(common::s(&dir)),
        hk()
    ));
    let screen = t.wait_for("both6-");
    assert!(screen.contains("both6-10"), "{screen}");
}

#[test]
fn when_only_output_is_relayed_ctrl_c_is_echoed_once() {
    // Delivered as the program's terminal's own key, it was echoed there too (that terminal
    // keeps echo when stdin is not it).
    let t = Tty::shell("outonly");
    let secs = format!("35.{}", std::process::id());
    let script = format!("trap \"echo INT\" INT; sleep {secs}; echo aft$((6*7))er");
    t.line(&format!("echo hi | {} run -- sh -c '{script}'", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    let screen = t.wait_for("aft42er");
    assert!(screen.contains("INT"), "{screen}");
    assert!(!screen.contains("^C^C"), "{screen}");
}

#[test]
fn in_a_pipeline_ctrl_z_and_ctrl_c_reach_the_program() {
    // The terminal keeps its modes: the keys signal the pipeline's group, hakoniwa passes
    // them to the program's terminal.
    ctrl_z_and_fg("tstppipe", "", "| cat");
}

#[test]
fn ctrl_c_ends_a_loop_of_the_shell_as_it_would_with_the_program_itself() {
    // An interactive shell ends a loop whose job was killed by SIGINT, not one whose job
    // exited 130: hakoniwa, once the sandbox is gone, ends by the signal that ended the
    // program.
    let t = Tty::shell("loop");
    let secs = format!("39.{}", std::process::id());
    t.line(&format!(
        "for i in 1 2; do {} run -- sleep {secs}; echo next-$i-$?; done",
        hk()
    ));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    // Keys typed before the shell has the terminal back would go to the sandbox's.
    let screen = t.wait_for("^C\nsh>");
    assert!(!screen.contains("next-1-"), "the loop went on:\n{screen}");
    t.line("echo after-the-loop");
    let screen = t.wait_for("\nafter-the-loop");
    assert!(!screen.contains("next-1-"), "the loop went on:\n{screen}");
    assert!(states("sleep", &secs).is_empty(), "the second run started");
}

#[test]
fn ctrl_z_stops_the_program_and_fg_resumes_it() {
    ctrl_z_and_fg("tstp", "", "");
}

#[test]
fn with_no_pty_ctrl_z_stops_the_program_and_fg_resumes_it() {
    // The caller's terminal itself: the init hands its foreground back on `fg`.
    ctrl_z_and_fg("tstpnp", "--no-pty", "");
}

#[test]
fn with_stdin_redirected_ctrl_z_stops_the_program_and_fg_resumes_it() {
    // Only output is relayed: the caller's terminal keeps its modes and sends SIGTSTP to
    // hakoniwa's group, which passes it to the program's terminal.
    ctrl_z_and_fg("tstpout", "", "< /dev/null");
}

#[test]
fn ctrl_z_stops_the_script_that_ran_hakoniwa_and_fg_resumes_it() {
    // A Ctrl-Z typed in the relayed terminal stops the program; hakoniwa stops the rest of
    // its process group with it, as the caller's terminal would have: otherwise the script
    // (here `sh -c`) would run on, waiting for hakoniwa, its shell would never see the job
    // stop, and the terminal would hang. (With `--no-pty` the engine cannot tell a typed
    // Ctrl-Z from the program's own stop, and stops hakoniwa alone: README, "Job control".)
    ctrl_z_and_fg_in_a_script("tstpsh");
}

#[test]
fn ctrl_z_read_by_a_raw_mode_program_that_suspends_itself_stops_the_script_too() {
    // An editor reads Ctrl-Z as a key (its terminal raw) and stops its own group, as vim
    // does: the key passed the relay just before, so the stop is the user's and the script
    // that ran hakoniwa stops with it.
    let t = Tty::shell("tstpraw");
    let marker = format!("hk-tstpraw-{}", std::process::id());
    let code = "import os, signal, termios, tty; old = termios.tcgetattr(0); tty.setraw(0); \
                key = os.read(0, 1); termios.tcsetattr(0, termios.TCSADRAIN, old); \
                os.kill(0, signal.SIGTSTP); print('resumed after', key)";
    let inner = format!(
        "{} run -- python3 -c {} {marker}",
        hk(),
        common::sh_quote(code)
    );
    t.line(&format!("sh -c {}", common::sh_quote(&inner)));
    wait_state(
        "python3",
        &marker,
        |c| c == 'S',
        "python never waited for a key",
    );
    // Raw only once python has set it: then Ctrl-Z is a byte it reads.
    std::thread::sleep(Duration::from_millis(300));
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    wait_state("python3", &marker, |c| c == 'T', "python did not stop");
    t.line("fg");
    t.wait_for("resumed after b'\\x1a'");
    t.wait_for_prompt_after("resumed after");
}

#[test]
fn a_ctrl_z_the_program_ignored_cannot_stop_the_timeout_that_runs_hakoniwa_later() {
    // Only output is relayed: the terminal's Ctrl-Z stops `timeout` and hakoniwa itself
    // (their group has the foreground); the program ignores it. After `fg`, its own stop
    // long after the key is not the user's: it stops hakoniwa alone, and timeout ends it.
    let t = Tty::shell("tstplate");
    let marker = format!("hk-tstplate-{}", std::process::id());
    let code = "import os, signal, time; signal.signal(signal.SIGTSTP, signal.SIG_IGN); \
                time.sleep(4); signal.signal(signal.SIGTSTP, signal.SIG_DFL); \
                os.kill(0, signal.SIGTSTP); time.sleep(60)";
    t.line(&format!(
        "timeout 8 {} run -- python3 -c {} {marker} < /dev/null",
        hk(),
        common::sh_quote(code)
    ));
    wait_state("python3", &marker, |c| c == 'S', "python never ran");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    t.line("fg");
    // Read by the shell once the job has ended (the program's stdin is not the terminal).
    t.line("echo r\"\"c=$?");
    let screen = t.wait_for("rc=");
    assert!(screen.contains("rc=124"), "{screen}");
    assert_eq!(screen.matches("Stopped").count(), 1, "{screen}");
}

fn ctrl_z_and_fg_in_a_script(name: &str) {
    let marker = format!("hk-{name}-{}", std::process::id());
    let inner = format!("{} run -- python3 -c 'while True: pass' {marker}", hk());
    let cmd = format!("sh -c {}", common::sh_quote(&inner));
    ctrl_z_and_fg_line(name, &marker, &cmd, false);
}

#[test]
fn fg_resumes_a_program_that_used_up_its_inits_pending_signals() {
    // The engine's requests to the init (here: give the program the terminal and continue
    // it) are a pipe and a plain doorbell signal, which the kernel delivers even when it
    // cannot queue a signal's information: a program that lowered its init's
    // RLIMIT_SIGPENDING (or filled its user's queue) does not make `fg` hang.
    let program = "sh -c 'prlimit --pid 1 --sigpending=0:0 && \
                   exec python3 -c \"while True: pass\" MARKER'";
    ctrl_z_and_fg_of("tstpq", "", "", program);
    ctrl_z_and_fg_of("tstpqnp", "--no-pty", "", program);
}

#[test]
fn with_no_pty_after_bg_and_fg_ctrl_z_stops_the_program_again() {
    // `bg` continues hakoniwa in the background, and the program with it; `fg` of a job
    // that runs only gives hakoniwa's group the terminal, without a signal. Ctrl-Z then
    // reaches hakoniwa, not the program: it must stop the program's whole group (a shell
    // and its child here), and so hakoniwa, not hakoniwa alone while the program runs on.
    // Ctrl-C likewise reaches the whole group: the child, not only the shell.
    let (t, marker) = no_pty_job_sent_to_background(
        "bgfg",
        "python3",
        "sh -c \"python3 -c 'while True: pass' MARKER; echo sh-went-on\"",
        'R',
    );
    t.line("fg");
    std::thread::sleep(Duration::from_millis(500)); // the shell has run `fg`
    t.keys(&["C-z"]);
    wait_state(
        "python3",
        &marker,
        |c| c == 'T',
        "Ctrl-Z after bg and fg: python ran on",
    );
    t.wait_for_prompt_after("fg");
    t.line("bg");
    wait_state("python3", &marker, |c| c == 'R', "python did not run on");
    t.line("fg");
    std::thread::sleep(Duration::from_millis(500));
    t.keys(&["C-c"]);
    t.wait_for("KeyboardInterrupt");
    t.wait_for_prompt_after("KeyboardInterrupt");
    assert!(states("python3", &marker).is_empty(), "python still runs");
    assert!(!t.screen().contains("sh-went-on\n"), "{}", t.screen());
}

#[test]
fn with_no_pty_after_bg_and_fg_the_program_reads_the_terminal_without_a_second_fg() {
    // After `bg` and `fg`, the program still runs in the background when it reads: its
    // SIGTTIN must hand it the terminal (hakoniwa has it), not stop hakoniwa once more.
    let (t, marker) =
        no_pty_job_sent_to_background("bgread", "sh", "sh -c 'sleep 3; read x; echo got-$x'", 'S');
    t.line("fg");
    // The read: the program waits in it, in the terminal's foreground.
    let t0 = Instant::now();
    loop {
        let fg = states("sh", &marker) == ['S'] && foreground_is(&marker);
        if fg {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(15),
            "the program never got the terminal:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.line("abc");
    t.wait_for("got-abc");
    assert_eq!(t.screen().matches("Stopped").count(), 1, "{}", t.screen());
}

/// `hakoniwa run --no-pty -- PROGRAM MARKER` (or with `MARKER` in `program` replaced) in a
/// shell, stopped with Ctrl-Z and sent on with `bg`: the shell has the terminal, the program (a `comm` process) runs on in the
/// background, in state `running` (`R`, or `S` while it sleeps).
fn no_pty_job_sent_to_background(
    name: &str,
    comm: &str,
    program: &str,
    running: char,
) -> (Tty, String) {
    let t = Tty::shell(name);
    let marker = format!("hk-{name}-{}", std::process::id());
    let program = match program.contains("MARKER") {
        true => program.replace("MARKER", &marker),
        false => format!("{program} {marker}"),
    };
    t.line_checking_modes(&format!("{} run --no-pty -- {program}", hk()));
    wait_state(comm, &marker, |c| c == running, "the program never ran");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    wait_state(
        comm,
        &marker,
        |c| c == 'T',
        "Ctrl-Z did not stop the program",
    );
    t.line("bg");
    wait_state(
        comm,
        &marker,
        |c| c == running,
        "it did not run on after bg",
    );
    (t, marker)
}

/// Whether the host process whose command line holds `marker` and is named `sh` leads the
/// terminal's foreground process group (`tpgid` equals its `pgrp` in `/proc/PID/stat`).
fn foreground_is(marker: &str) -> bool {
    procs_with(marker)
        .iter()
        .any(|(name, f)| name == "sh" && f.len() > 5 && f[2] == f[5])
}

#[test]
fn with_no_pty_timeout_ends_a_program_that_stopped_itself() {
    // timeout runs hakoniwa in a process group of its own, in the terminal's background:
    // its SIGCONT (after SIGTERM) continues the program there.
    let screen = screen_after(
        "npto",
        &format!(
            "timeout 2 {} run --no-pty -- sh -c 'kill -STOP $$; echo not-ended'; echo \"r\"c=$?",
            hk()
        ),
        "rc=",
    );
    assert!(screen.contains("rc=124"), "{screen}");
    assert!(!screen.contains("not-ended\n"), "{screen}");
}

fn ctrl_z_and_fg(name: &str, flags: &str, redirect: &str) {
    ctrl_z_and_fg_of(
        name,
        flags,
        redirect,
        "python3 -c 'while True: pass' MARKER",
    );
}

/// Ctrl-Z and `fg` with `program` (`MARKER` in it: a python3 argument to find it by).
fn ctrl_z_and_fg_of(name: &str, flags: &str, redirect: &str, program: &str) {
    let marker = format!("hk-{name}-{}", std::process::id());
    let program = program.replace("MARKER", &marker);
    let cmd = format!("{} run {flags} -- {program} {redirect}", hk());
    ctrl_z_and_fg_line(name, &marker, &cmd, redirect.starts_with('|'));
}

/// Ctrl-Z and `fg` of the shell command line `cmd`, which runs python3 with `marker` among
/// its arguments (`pipe`: `cmd` ends in a pipeline to `cat`).
fn ctrl_z_and_fg_line(name: &str, marker: &str, cmd: &str, pipe: bool) {
    let t = Tty::shell(name);
    let marker = marker.to_string();
    t.line_checking_modes(cmd);
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
    if pipe {
        // Ctrl-C also ended `cat`, so the shell dropped the rest of the line: the modes
        // are looked at by the next one, typed once the shell reads again (a line typed
        // before would go to the program, which reads lines in a pipeline).
        t.wait_for_prompt_after("KeyboardInterrupt");
        t.line("[ \"$(stty -g)\" = \"$S\" ] && echo modes-kept");
        t.wait_for("\nmodes-kept");
    } else {
        t.wait_for("kept-1");
    }
}

#[test]
fn a_window_size_change_reaches_a_program_that_is_not_a_shell() {
    let t = Tty::shell("winch");
    // os.write in the handler: a print there could interrupt a print of the main flow, and
    // Python refuses that ("reentrant call").
    let script = "import os, signal; \
                  signal.signal(signal.SIGWINCH, lambda *a: os.write(1, b'winch %d\\n' % os.get_terminal_size().columns)); \
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
fn a_window_size_change_while_hakoniwa_is_stopped_reaches_the_program_after_fg() {
    // The resize signals the shell, which then has the terminal; `fg` brings it along.
    let t = Tty::shell("winchstop");
    let marker = format!("hk-winchstop-{}", std::process::id());
    t.line(&format!(
        "{} run -- sh -c 'read x; stty size' {marker}",
        hk()
    ));
    wait_state("sh", &marker, |c| c == 'S', "the program never started");
    t.keys(&["C-z"]);
    t.wait_for("Stopped");
    tmux(
        &t.sock,
        &["resize-window", "-t", "hk", "-x", "90", "-y", "25"],
    );
    t.line("fg");
    t.wait_raw();
    t.line("x");
    t.wait_for("\n25 90");
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
        "sh -c {}",
        common::sh_quote(&format!(
            "{} run -- sh -c \"kill -KILL 0\" | cat; echo ne\"\"xt",
            hk()
        ))
    ));
    t.wait_for("\nnext");
    // hakoniwa itself survives to report how the program ended.
    t.line(&format!("{} run -v -- sh -c 'kill -KILL 0'", hk()));
    t.wait_for("Exited: signaled");
}

#[test]
fn term_is_passed_when_stdin_is_a_terminal() {
    term_is_passed_for("term", "");
}

#[test]
fn term_is_passed_when_only_stdout_is_a_terminal() {
    term_is_passed_for("term-out", " </dev/null");
}

fn term_is_passed_for(tag: &str, redirect: &str) {
    let t = Tty::start(
        tag,
        &format!(
            "{} run -- sh -c 'echo TERM=[$TERM] PATH=[$PATH]; sleep 30'{redirect}",
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
    // would keep the script, and the terminal, waiting forever after the limit. The
    // program's own stop stops hakoniwa alone, never the script that runs it.
    let script = format!(
        "{} run --limit-walltime 1 -- sh -c \"kill -TSTP 0; sleep 30\"; echo r\"\"c=$?",
        hk()
    );
    let screen = screen_after(
        "tstp1",
        &format!("bash -c {}", common::sh_quote(&script)),
        "rc=137",
    );
    assert!(!screen.contains("Stopped"), "{screen}");
}

#[test]
fn a_self_stopped_program_cannot_hold_the_timeout_that_runs_hakoniwa() {
    // `timeout` sends SIGTERM then SIGCONT at its deadline (README, "Signals sent to
    // hakoniwa run"); a program that stops itself with `kill -TSTP 0` stops hakoniwa alone,
    // so neither `timeout` typed at the prompt (its group is then the terminal's foreground
    // job) nor one in a script (a background group of its own) is stopped with it.
    for (name, flags) in [("tstpto", ""), ("tstptonp", "--no-pty")] {
        let cmd = format!(
            "timeout 2 {} run {flags} -- sh -c \"kill -TSTP 0; sleep 30\"; echo r\"\"c=$?",
            hk()
        );
        for line in [cmd.clone(), format!("sh -c {}", common::sh_quote(&cmd))] {
            let screen = screen_after(name, &line, "rc=");
            assert!(screen.contains("rc=124"), "{line}: {screen}");
            assert!(!screen.contains("Stopped"), "{line}: {screen}");
        }
    }
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
/// the foreground of the terminal on descriptor `argv[2]` (0 or 1; again whenever someone
/// else takes it) and
/// writes what it reads there to `stolen`. It writes `ready` (the terminal's device
/// number) once it holds the foreground
/// after the program stopped: taken from the shell (argument `shell`), or at all
/// (argument `any`: the foreground of a terminal of its own never changes).
const STEAL: &str = r#"import os, select, signal, sys, time
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTTOU])
parent = os.getpid()
fd = int(sys.argv[2])
if os.fork() == 0:
    os.setpgid(0, 0)
    me = os.getpgrp()
    def state():
        return open('/proc/%d/stat' % parent).read().rsplit(')', 1)[1].split()[0]
    while state() != 'T':
        time.sleep(0.01)
    ready = False
    while True:
        fg = os.tcgetpgrp(fd)
        if fg != me:
            if sys.argv[1] == 'any' or fg != parent:
                os.tcsetpgrp(fd, me)
                if not ready:
                    open('/steal/ready', 'w').write(str(os.fstat(fd).st_rdev))
                    ready = True
        if ready and select.select([fd], [], [], 0.05)[0]:
            open('/steal/stolen', 'wb').write(os.read(fd, 100))
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

/// Run the thief (`STEAL`) from an interactive shell, until it is ready to read; `fd 0`:
/// the terminal on its stdin, `fd 1 < /dev/null`: on its stdout, stdin redirected.
fn start_thief(name: &str, flags: &str, mode: &str, fd: &str) -> (StealDir, Tty) {
    let d = StealDir::new(name);
    let t = Tty::shell(name);
    t.line(&format!(
        "{} run {flags} -B {} -- /usr/bin/python3 /steal/steal.py {mode} {fd}",
        hk(),
        common::sh_quote(&format!("{}:/steal", d.0.display()))
    ));
    t.wait_for("Stopped");
    wait_file(&d, "ready", &t);
    (d, t)
}

#[test]
fn a_sandbox_process_cannot_take_the_terminal_while_hakoniwa_is_stopped() {
    cannot_take_the_terminal("steal", "0");
}

#[test]
fn with_stdin_redirected_a_sandbox_process_cannot_take_the_terminal_on_its_stdout() {
    // Stdin from /dev/null, stdout the caller's terminal: stdout gets the relayed terminal
    // too, so the thief, working on its stdout, again only takes that one.
    cannot_take_the_terminal("stealout", "1 < /dev/null");
}

fn cannot_take_the_terminal(name: &str, fd: &str) {
    // With the relayed pseudo-terminal (the default) the thief can only take that terminal:
    // what the user types next goes to the shell.
    let (d, t) = start_thief(name, "", "any", fd);
    use std::os::unix::fs::MetadataExt;
    let tty = tmux(&t.sock, &["display", "-p", "-t", "hk", "#{pane_tty}"]);
    let callers = std::fs::metadata(tty.trim()).unwrap().rdev();
    assert_ne!(
        d.read("ready").unwrap().trim(),
        callers.to_string(),
        "the sandbox made its group the foreground of the caller's terminal"
    );
    // (The quotes keep the typed line from containing what the shell prints.)
    t.line("echo typed-by-\"\"the-user");
    t.wait_for("\ntyped-by-the-user");
    assert_eq!(d.read("stolen"), None, "the sandbox read the shell's input");
    kill_hakoniwa(name);
}

#[test]
fn with_no_pty_a_sandbox_process_can_still_take_the_terminal_while_hakoniwa_is_stopped() {
    // The documented price of --no-pty (docs/security.md): the thief's group becomes the
    // foreground of the caller's own terminal while the shell should have it. (Whether a
    // line typed then reaches the thief or the shell depends on how fast each takes the
    // terminal back; the foreground group itself is what the test above rules out.)
    let (_d, t) = start_thief("stealnp", "--no-pty", "shell", "0");
    let thief = host_pid_of_thief("stealnp");
    let bash: u32 = tmux(&t.sock, &["display", "-p", "-t", "hk", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap();
    let start = Instant::now();
    // Field 8 of a process's stat: the foreground group of its controlling terminal.
    while stat_field(bash, 8) != Some(thief) {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the thief ({thief}) never had the caller's terminal (foreground {:?})",
            stat_field(bash, 8)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill_hakoniwa("stealnp");
}

/// Field `n` (1-based, as in proc(5)) of `/proc/PID/stat`, as a number.
fn stat_field(pid: u32, n: usize) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 2..];
    rest.split_whitespace().nth(n - 3)?.parse().ok()
}

/// The thief of the test `name`: the `steal.py` process whose parent is `steal.py` too,
/// in the sandbox of that test's hakoniwa (hakoniwa, its init, the program, the thief).
fn host_pid_of_thief(name: &str) -> u32 {
    let marker = format!("hakoniwa-{name}-{}", std::process::id());
    let start = Instant::now();
    loop {
        let hk = pids("hakoniwa", &marker);
        let parent = |p: u32| stat_field(p, 4);
        let thief = pids("python3", "steal.py").into_iter().find(|p| {
            parent(*p)
                .and_then(parent)
                .and_then(parent)
                .is_some_and(|h| hk.contains(&h))
        });
        if let Some(p) = thief {
            return p;
        }
        assert!(start.elapsed() < Duration::from_secs(20), "no thief");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILL to the hakoniwa run by the test `name` (the sandbox dies with it).
fn kill_hakoniwa(name: &str) {
    let marker = format!("hakoniwa-{name}-{}", std::process::id());
    for p in pids("hakoniwa", &marker) {
        let _ = Command::new("kill")
            .args(["-KILL", &p.to_string()])
            .status();
    }
}

/// Host pids of processes named `comm` whose command line contains `marker`.
fn pids(comm: &str, marker: &str) -> Vec<u32> {
    let mut v = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let p = e.path();
        let cmd = std::fs::read(p.join("cmdline")).unwrap_or_default();
        let name = std::fs::read_to_string(p.join("comm")).unwrap_or_default();
        if name.trim_end() == comm && String::from_utf8_lossy(&cmd).contains(marker) {
            v.push(pid);
        }
    }
    v
}

fn wait_pid(comm: &str, marker: &str) -> u32 {
    let t = Instant::now();
    loop {
        if let Some(p) = pids(comm, marker).first() {
            return *p;
        }
        assert!(t.elapsed() < Duration::from_secs(20), "no {comm} {marker}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

impl Tty {
    /// `stty -a` of the pane's terminal (the caller's terminal, as hakoniwa sees it).
    fn modes(&self) -> String {
        let tty = tmux(&self.sock, &["display", "-p", "-t", "hk", "#{pane_tty}"]);
        let out = Command::new("stty")
            .args(["-a", "-F", tty.trim()])
            .output()
            .expect("stty");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Wait until hakoniwa has put the caller's terminal in raw mode (it relays).
    fn wait_raw(&self) {
        let t = Instant::now();
        // Raw, not readline's mode (which keeps signals and output processing).
        let raw = |m: String| m.contains("-icanon") && m.contains("-isig") && m.contains("-opost");
        while !raw(self.modes()) {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the terminal never became raw:\n{}",
                self.modes()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Once the terminal is raw, send `sig` to the process `comm` with `marker`.
    fn kill_when_raw(&self, comm: &str, marker: &str, sig: &str) {
        self.wait_raw();
        let pid = wait_pid(comm, marker);
        Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .unwrap();
    }

    /// Run `cmd` so that the shell prints `kept-CODE` if the terminal's modes afterwards are
    /// those before, `changed-CODE` otherwise.
    /// After a command run on its own line following `S=$(stty -g)`: whether the modes are
    /// those of before, and its status (`kept-CODE` / `changed-CODE`).
    fn check_modes_and_status(&self) {
        self.line("R=$?; [ \"$(stty -g)\" = \"$S\" ] && echo kept-$R || echo changed-$R");
    }

    fn line_checking_modes(&self, cmd: &str) {
        self.line(&format!(
            "S=$(stty -g); {cmd}; R=$?; [ \"$(stty -g)\" = \"$S\" ] && echo kept-$R || echo changed-$R"
        ));
    }
}

#[test]
fn the_terminal_modes_come_back_after_an_end_a_sigterm_to_hakoniwa_and_a_killed_program() {
    let t = Tty::shell("modes");
    let marker = std::process::id().to_string();
    // A normal end, after the program read a line in the relayed terminal.
    t.line_checking_modes(&format!("{} run -- sh -c 'read x'", hk()));
    t.wait_raw();
    t.line("x");
    t.wait_for("kept-0");
    // SIGTERM to hakoniwa: forwarded, the program ends, hakoniwa exits 143.
    t.line_checking_modes(&format!("{} run -- sleep 40.{marker}", hk()));
    t.kill_when_raw("hakoniwa", &format!("40.{marker}"), "-TERM");
    t.wait_for("kept-143");
    // The program killed from outside: hakoniwa reports 137.
    t.line_checking_modes(&format!("{} run -- sleep 41.{marker}", hk()));
    t.kill_when_raw("sleep", &format!("41.{marker}"), "-KILL");
    t.wait_for("kept-137");
}

#[test]
fn the_window_size_is_seen_inside_and_follows_a_resize() {
    let t = Tty::shell("size");
    let size = |t: &Tty| {
        tmux(
            &t.sock,
            &["display", "-p", "-t", "hk", "#{pane_height} #{pane_width}"],
        )
        .trim()
        .to_string()
    };
    let before = size(&t);
    t.line(&format!(
        "{} run -- sh -c 's=$(stty size); echo start $s; \
         while [ \"$(stty size)\" = \"$s\" ]; do sleep 0.05; done; echo now $(stty size)'",
        hk()
    ));
    t.wait_for(&format!("start {before}"));
    tmux(
        &t.sock,
        &["resize-window", "-t", "hk", "-x", "120", "-y", "40"],
    );
    let after = size(&t);
    assert_ne!(before, after);
    t.wait_for(&format!("now {after}"));
}

#[test]
fn ctrl_d_ends_the_program_s_input() {
    let t = Tty::shell("eof");
    t.line(&format!(
        "{} run -- sh -c 'wc -l | sed s/^/lines=/'; echo rc=$?",
        hk()
    ));
    t.wait_raw();
    t.line("a");
    t.line("b");
    t.keys(&["C-d"]);
    t.wait_for("lines=2");
    t.wait_for("rc=0");
}

#[test]
fn a_large_output_arrives_entirely_before_hakoniwa_exits() {
    large_output("seq", "");
}

#[test]
fn with_stdin_redirected_a_large_output_arrives_entirely_and_in_order() {
    large_output("seqout", "< /dev/null");
}

fn large_output(name: &str, redirect: &str) {
    let t = Tty::shell(name);
    let log = std::env::temp_dir().join(format!("hakoniwa-tty-{name}-{}.log", std::process::id()));
    struct Rm(std::path::PathBuf);
    impl Drop for Rm {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }
    let _rm = Rm(log.clone());
    // Everything the pane receives, in order.
    tmux(
        &t.sock,
        &[
            "pipe-pane",
            "-t",
            "hk",
            "-o",
            &format!("cat >> {}", common::sh_quote(&log.display().to_string())),
        ],
    );
    t.line(&format!(
        "{} run -- seq 100000 {redirect}; echo r\"\"c=$?",
        hk()
    ));
    let start = Instant::now();
    let text = loop {
        let text = String::from_utf8_lossy(&std::fs::read(&log).unwrap_or_default()).into_owned();
        if text.contains("rc=0") {
            break text;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "rc=0 never came:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    let before_rc = &text[..text.find("rc=0").unwrap()];
    let numbers: Vec<u32> = before_rc
        .split(['\r', '\n'])
        .filter(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(numbers.len(), 100_000, "lines lost or added");
    assert!(
        numbers.iter().zip(1..).all(|(n, want)| *n == want),
        "the lines are not 1..=100000 in order"
    );
}

#[test]
fn in_the_background_hakoniwa_leaves_the_shell_its_input_and_fg_relays_again() {
    let t = Tty::shell("bg");
    t.line(&format!("{} run -- sh -c 'read x; echo got-$x' &", hk()));
    // The shell reads what is typed while the job runs in the background.
    t.line("echo still-\"\"mine");
    t.wait_for("\nstill-mine");
    t.line("fg");
    t.wait_raw();
    t.line("abc");
    t.wait_for("got-abc");
}

#[test]
fn after_an_outside_stop_and_fg_the_terminal_is_raw_again_and_relayed() {
    // `kill -TSTP` of hakoniwa itself (not Ctrl-Z, which goes to the program): the shell
    // shows it stopped and may reset the terminal; `fg` must give a working relay again.
    outside_stop("xstop", false);
}

#[test]
fn after_an_outside_stop_bg_and_fg_the_terminal_is_raw_again_and_relayed() {
    // The same with a spell in the background between (`fg` of a running job sends no
    // SIGCONT).
    outside_stop("xstopbg", true);
}

fn outside_stop(name: &str, bg: bool) {
    let t = Tty::shell(name);
    let marker = format!("hk-{name}-{}", std::process::id());
    t.line(&format!(
        "{} run -- python3 -c 'import sys; [print(\"got\", l.strip(), flush=True) for l in sys.stdin]' {marker}",
        hk()
    ));
    t.kill_when_raw("hakoniwa", &marker, "-TSTP");
    t.wait_for("Stopped");
    if bg {
        t.line("bg; echo in-the-back\"\"ground");
        t.wait_for("in-the-background");
    }
    // `fg` returns the job's status once it ends.
    t.line("fg; echo rc=$?");
    t.wait_raw();
    t.line("abc");
    t.wait_for("got abc");
    t.keys(&["C-d"]);
    t.wait_for("rc=0");
}

#[test]
fn the_verbose_log_stays_line_by_line_while_the_terminal_is_relayed() {
    // The terminal is raw from before the spawn: the log's lines end with CR LF then.
    let t = Tty::shell("vlog");
    t.line(&format!("{} run -v -- sh -c 'read x'; echo rc=$?", hk()));
    t.wait_raw();
    t.line("x");
    let screen = t.wait_for("rc=0");
    let lines: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("[hakoniwa]"))
        .collect();
    assert!(lines.len() > 5, "{screen}");
    assert!(
        lines.iter().all(|l| l.starts_with("[hakoniwa]")),
        "{screen}"
    );
}

/// Shows, on its stderr, the devices of the program's stdout and stderr and whether its
/// stdin is a terminal.
const DEVICES: &str = "import os, sys; d = lambda n: os.fstat(n).st_rdev if os.isatty(n) else 0; \
    print('devs', d(1), d(2), 'stdin-tty', os.isatty(0), 'end', file=sys.stderr)";

impl Tty {
    /// The device number of the pane's terminal (the caller's).
    fn device(&self) -> u64 {
        use std::os::unix::fs::MetadataExt;
        let tty = tmux(&self.sock, &["display", "-p", "-t", "hk", "#{pane_tty}"]);
        std::fs::metadata(tty.trim()).unwrap().rdev()
    }

    /// Run the `DEVICES` probe with `flags` and `redirect`; (stdout's, stderr's device).
    fn devices(&self, flags: &str, redirect: &str) -> (u64, u64) {
        static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.line(&format!(
            "{} run {flags} -- python3 -c \"{DEVICES}\" {redirect}; echo d\"\"one-{n}",
            hk()
        ));
        let screen = self.wait_for(&format!("\ndone-{n}"));
        let line = screen
            .lines()
            .rev()
            .find(|l| l.starts_with("devs ") && l.ends_with(" end"))
            .unwrap_or_else(|| panic!("no probe output:\n{screen}"));
        let f: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(f[4], "False", "stdin became a terminal: {line}");
        (f[1].parse().unwrap(), f[2].parse().unwrap())
    }
}

#[test]
fn with_stdin_from_a_pipe_or_dev_null_stdout_and_stderr_are_not_the_caller_s_terminal() {
    let t = Tty::shell("devs");
    let callers = t.device();
    for redirect in ["< /dev/null", "< /etc/hostname", "< <(echo from-a-pipe)"] {
        let (out, err) = t.devices("", redirect);
        assert_ne!(out, callers, "{redirect}: stdout is the caller's terminal");
        assert_ne!(err, callers, "{redirect}: stderr is the caller's terminal");
    }
    // Stdin and stdout redirected: stderr alone gets the relayed terminal.
    let (out, err) = t.devices("", "< /dev/null > /dev/null");
    assert_eq!(out, 0);
    assert!(err != 0 && err != callers, "stderr {err}, caller {callers}");
    // --no-pty: the caller's own terminal, as before.
    let (out, err) = t.devices("--no-pty", "< /dev/null");
    assert_eq!((out, err), (callers, callers));
}

#[test]
fn with_stdin_from_a_pipe_output_is_relayed_line_by_line_and_the_modes_are_kept() {
    let t = Tty::shell("pipeout");
    // The pipe stays the program's stdin; its lines come out once each, without blank lines
    // between them (the slave's and the terminal's output processing both apply).
    t.line_checking_modes(&format!(
        "printf 'line-a\\nline-b\\n' | {} run -- sh -c 'cat; printf \"x1\\nx2\\n\"'",
        hk()
    ));
    let screen = t.wait_for("kept-0");
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines.iter().position(|l| *l == "line-a").expect(&screen);
    assert_eq!(
        &lines[at..at + 5],
        ["line-a", "line-b", "x1", "x2", "kept-0"],
        "{screen}"
    );
}

#[test]
fn with_stdin_redirected_ctrl_c_and_ctrl_backslash_end_the_program_and_the_modes_are_kept() {
    let t = Tty::shell("intout");
    let secs = format!("34.{}", std::process::id());
    // hakoniwa ends by SIGINT (SIGQUIT) as the program did: the shell drops the rest of the
    // line then, so the modes and the status are looked at by the next one.
    t.line("S=$(stty -g)");
    t.line(&format!("{} run -- sleep {secs} < /dev/null", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-c"]);
    t.check_modes_and_status();
    t.wait_for("kept-130");
    // Ctrl-\ likewise (SIGQUIT, 128+3).
    let secs = format!("35.{}", std::process::id());
    t.line(&format!("{} run -- sleep {secs} < /dev/null", hk()));
    wait_state("sleep", &secs, |c| c == 'S', "sleep never started");
    t.keys(&["C-\\"]);
    t.check_modes_and_status();
    t.wait_for("kept-131");
    // A handler runs too.
    let marker = format!("hk-intout-{}", std::process::id());
    t.line_checking_modes(&format!(
        "echo | {} run -- python3 -c 'import time; time.sleep(30)' {marker}",
        hk()
    ));
    wait_state("python3", &marker, |c| c == 'S', "python never started");
    t.keys(&["C-c"]);
    t.wait_for("KeyboardInterrupt");
    t.wait_for("kept-1");
}

#[test]
fn with_no_terminal_on_any_stream_there_is_no_pseudo_terminal_and_no_relay_thread() {
    use std::io::{BufRead, Write};
    use std::process::Stdio;
    let mut child = Command::new(common::bin())
        .args(["run", "--", "sh", "-c", "tty; echo ready; read x"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("ready") {
        assert_ne!(out.read_line(&mut seen).unwrap(), 0, "{seen}");
    }
    assert!(seen.contains("not a tty"), "{seen}");
    let threads: Vec<String> = std::fs::read_dir(format!("/proc/{}/task", child.id()))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path().join("comm")).unwrap_or_default())
        .collect();
    assert!(
        !threads.iter().any(|c| c.trim() == "hakoniwa-pty"),
        "{threads:?}"
    );
    child.stdin.take().unwrap().write_all(b"x\n").unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn with_devfs_the_console_is_the_relayed_terminal_not_the_caller_s() {
    // A devfs binds the terminal on the program's stdout as /dev/console: the relayed one,
    // or the program could open the caller's terminal by that path and read from it.
    let t = Tty::shell("console");
    let callers = t.device();
    let probe =
        "import os; print('con', os.stat('/dev/console').st_rdev, os.fstat(1).st_rdev, 'end')";
    for (n, flags) in ["", "--no-pty"].into_iter().enumerate() {
        t.line(&format!(
            "{} run {flags} --devfs /dev -- python3 -c \"{probe}\"; echo d\"\"one-{n}",
            hk()
        ));
        let screen = t.wait_for(&format!("\ndone-{n}"));
        let line = screen
            .lines()
            .rev()
            .find(|l| l.starts_with("con ") && l.ends_with(" end"))
            .unwrap_or_else(|| panic!("no probe output:\n{screen}"));
        let f: Vec<u64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        // The console is the program's stdout; only --no-pty gives it the caller's terminal.
        assert_eq!(f[0], f[1], "{flags}: {line}");
        assert_eq!(f[0] == callers, flags == "--no-pty", "{flags}: {line}");
    }
}
