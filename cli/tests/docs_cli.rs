//! docs/cli.md: every example runs exactly as printed and prints what the page says it
//! prints (the conventions are in `common/docs.rs`), and every flag of `hakoniwa run --help`
//! and every subcommand has an example.

mod common;

use common::docs::{examples, matches, read_page, run_steps, steps, Example};
use common::*;

fn cli_md() -> String {
    read_page("cli.md")
}

#[test]
fn every_example_of_docs_cli_md_prints_what_the_page_says() {
    let doc = cli_md();
    let list = steps("docs/cli.md", &doc);
    assert!(list.len() >= 60, "only {} examples found", list.len());
    run_steps("docs/cli.md", &list);
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
    let list = examples("docs/cli.md", &doc);
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
    let list = examples("docs/cli.md", &cli_md());
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

/// The README's `console` examples (the tour) run exactly as printed, with the conventions
/// of docs/cli.md.
#[test]
fn every_console_example_of_the_readme_prints_what_it_says() {
    let readme = read_page("../README.md");
    let list = steps("README.md", &readme);
    assert!(list.len() >= 4, "only {} README examples found", list.len());
    run_steps("README.md", &list);
}
