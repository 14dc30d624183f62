//! docs/cli.md: every example runs exactly as printed and prints what the page says it
//! prints, and every flag of `hakoniwa run --help` and every subcommand has an example.
//!
//! In the page's ```console blocks a line `$ CMD` is run as `sh -c CMD` (in order, from one
//! scratch directory holding `cli/` for the profile examples, with `hakoniwa` first on
//! `PATH`, `HOME` in the scratch directory and stdin null); it must exit 0, and the lines
//! after it are its exact stdout, where a line `...` matches any number of lines.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

struct Example {
    /// 1-based line of the command in docs/cli.md.
    line: usize,
    command: String,
    stdout: Vec<String>,
}

fn cli_md() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md")).unwrap()
}

/// The examples of the ```console blocks, in order.
fn examples(doc: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_block = false;
    for (i, l) in doc.lines().enumerate() {
        match (in_block, l) {
            (false, "```console") => in_block = true,
            (true, "```") => in_block = false,
            (true, l) => match l.strip_prefix("$ ") {
                Some(cmd) => out.push(Example {
                    line: i + 1,
                    command: cmd.to_string(),
                    stdout: Vec::new(),
                }),
                None => out
                    .last_mut()
                    .unwrap_or_else(|| panic!("docs/cli.md:{}: output before a command", i + 1))
                    .stdout
                    .push(l.to_string()),
            },
            _ => {}
        }
    }
    out
}

/// Whether `actual` matches `expected`, where a line "..." matches any number of lines.
fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((e, rest)) => actual.first() == Some(&e.as_str()) && matches(rest, &actual[1..]),
    }
}

#[test]
fn every_example_of_docs_cli_md_prints_what_the_page_says() {
    let doc = cli_md();
    let list = examples(&doc);
    assert!(list.len() >= 60, "only {} examples found", list.len());
    let dir = temp_dir("docs-cli");
    let (work, home) = (dir.join("work"), dir.join("home"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")), work.join("cli")).unwrap();
    let exe = PathBuf::from(bin());
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        exe.parent().unwrap().display()
    );
    for ex in &list {
        let out = out_of(
            Command::new("sh")
                .args(["-c", &ex.command])
                .current_dir(&work)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", &home),
        );
        let at = format!("docs/cli.md:{}: {}", ex.line, ex.command);
        if userns_auto_without_ranges(&at, &out) {
            continue; // as the page says: exit 125 naming the file
        }
        assert_eq!(
            out.code, 0,
            "{at}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        let actual: Vec<&str> = out.stdout.lines().collect();
        assert!(
            matches(&ex.stdout, &actual),
            "{at}\nthe page says:\n{}\nit printed:\n{}\nstderr:\n{}",
            ex.stdout.join("\n"),
            out.stdout,
            out.stderr
        );
    }
}

/// Whether some example passes `flag` (as a word, or `flag=...`).
fn used(list: &[Example], flag: &str) -> bool {
    list.iter().any(|ex| {
        ex.command
            .split_whitespace()
            .any(|w| w == flag || w.starts_with(&format!("{flag}=")))
    })
}

#[test]
fn every_flag_of_run_help_has_an_example_in_docs_cli_md() {
    let help = hk(&["run", "--help"]);
    help.ok();
    let doc = cli_md();
    let list = examples(&doc);
    let mut flags = 0;
    let mut missing = Vec::new();
    for line in help.stdout.lines() {
        let l = line.trim_start();
        if !l.starts_with('-') {
            continue;
        }
        let names: Vec<&str> = l
            .split_whitespace()
            .take(2)
            .map(|w| w.trim_end_matches(',').trim_end_matches("..."))
            .filter(|w| w.starts_with('-'))
            .collect();
        flags += 1;
        let long = names
            .iter()
            .find(|n| n.starts_with("--"))
            .unwrap_or(&names[0]);
        if !doc.contains(&format!("`{long}")) || !names.iter().any(|n| used(&list, n)) {
            missing.push(long.to_string());
        }
    }
    assert!(
        flags >= 40,
        "parsed only {flags} flags from:\n{}",
        help.stdout
    );
    assert!(
        missing.is_empty(),
        "docs/cli.md has no heading and example for: {missing:?}"
    );
}

#[test]
fn every_subcommand_has_an_example_in_docs_cli_md() {
    let help = hk(&["--help"]);
    help.ok();
    let list = examples(&cli_md());
    let subcommands: Vec<&str> = help
        .stdout
        .split("Commands:")
        .nth(1)
        .expect("a Commands section")
        .split("\n\n")
        .next()
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(subcommands.contains(&"run"), "{subcommands:?}");
    for sub in subcommands {
        assert!(
            list.iter()
                .any(|ex| ex.command.contains(&format!("hakoniwa {sub}"))),
            "docs/cli.md has no example of `hakoniwa {sub}`"
        );
    }
}

#[test]
fn the_example_matcher_treats_dots_as_any_lines() {
    let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert!(matches(&e(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(matches(&e(&["..."]), &[]));
    assert!(!matches(&e(&["a"]), &["a", "b"]));
    assert!(!matches(&e(&["a", "...", "d"]), &["a", "b"]));
}
