//! docs/profiles.md: every example runs exactly as printed (the page's files are saved, its
//! commands print what it says; the conventions are in `common/docs.rs`), and the page keeps
//! up with the code: every profile key has an example, every template function and every
//! shipped profile is named.

mod common;

use std::path::Path;

use common::docs::{check_files_are_used, read_page, run_steps, steps, Step};
use common::*;

const PAGE: &str = "docs/profiles.md";

fn page() -> String {
    read_page("profiles.md")
}

/// The text of every file the page saves.
fn files(doc: &str) -> Vec<String> {
    steps(PAGE, doc)
        .into_iter()
        .filter_map(|s| match s {
            Step::File(f) => Some(f.text),
            Step::Command(_) => None,
        })
        .collect()
}

#[test]
fn every_example_of_docs_profiles_md_prints_what_the_page_says() {
    let doc = page();
    let list = steps(PAGE, &doc);
    let commands = list
        .iter()
        .filter(|s| matches!(s, Step::Command(_)))
        .count();
    assert!(commands >= 40, "only {commands} commands found");
    check_files_are_used(PAGE, &list);
    run_steps(PAGE, &list);
}

/// The top-level keys a profile may have, as the binary lists them when it meets an
/// unknown one.
fn profile_keys() -> Vec<String> {
    let out = hk_piped(
        Path::new("/"),
        &["run", "-c", "-", "--", "true"],
        &[],
        "no_such_key = 1\n",
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let list = out
        .stderr
        .split("expected one of ")
        .nth(1)
        .unwrap_or_else(|| panic!("no key list in: {}", out.stderr));
    let keys: Vec<String> = list
        .split(',')
        .map(|k| k.trim().trim_matches('`').to_string())
        .collect();
    assert!(keys.len() >= 15, "{keys:?}");
    keys
}

#[test]
fn every_profile_key_has_an_example_in_docs_profiles_md() {
    let doc = page();
    let files = files(&doc);
    let mut missing = Vec::new();
    for key in profile_keys() {
        let sets_it = |line: &str| {
            let l = line.trim_start();
            [
                format!("{key} ="),
                format!("\"{key}\" ="),
                format!("[{key}]"),
                format!("[{key}."),
            ]
            .iter()
            .any(|p| l.starts_with(p.as_str()))
        };
        let in_example = files.iter().any(|t| t.lines().any(sets_it));
        if !in_example || !doc.contains(&format!("`{key}")) {
            missing.push(key);
        }
    }
    assert!(
        missing.is_empty(),
        "{PAGE} names no key and has no example file setting: {missing:?}"
    );
}

#[test]
fn every_template_function_is_named_in_docs_profiles_md() {
    let source =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config.rs"))
            .unwrap();
    let names: Vec<&str> = source
        .split("add_function(\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(names.len() >= 15, "{names:?}");
    let doc = page();
    let missing: Vec<&&str> = names
        .iter()
        .filter(|n| !doc.contains(&format!("`{n}")))
        .collect();
    assert!(
        missing.is_empty(),
        "{PAGE} does not name the template functions {missing:?}"
    );
}

#[test]
fn every_shipped_profile_has_a_row_in_docs_profiles_md() {
    let out = hk(&["profiles"]);
    out.ok();
    let doc = page();
    let built_in: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| l.contains("built-in ("))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(built_in.len() >= 12, "{}", out.stdout);
    for name in built_in {
        assert!(
            doc.contains(&format!("\n| `{name}` | ")),
            "{PAGE} has no row for the shipped profile {name}"
        );
    }
}

#[test]
fn the_page_conventions_save_named_blocks_and_skip_other_ones() {
    let doc = "File `a.toml`:\n\n```toml\nx = 1\n```\n\n```text\nshown only\n```\n\n\
               File `~/b.json`:\n```json\n{}\n```\n```console\n$ cat a.toml\nx = 1\n```\n";
    let list = steps("test", doc);
    let kinds: Vec<String> = list
        .iter()
        .map(|s| match s {
            Step::File(f) => format!("file {} {:?}", f.path, f.text),
            Step::Command(ex) => format!("command {} {:?}", ex.command, ex.stdout),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "file a.toml \"x = 1\\n\"",
            "file ~/b.json \"{}\\n\"",
            "command cat a.toml [\"x = 1\"]",
        ]
    );
}

#[test]
#[should_panic(expected = "test:1: a ```toml block must follow a line File `NAME`:")]
fn a_toml_block_without_a_file_name_is_refused() {
    steps("test", "```toml\nx = 1\n```\n");
}

#[test]
#[should_panic(expected = "the file unused.toml is used by no command after it")]
fn a_file_no_command_uses_is_refused() {
    let list = steps(
        "test",
        "File `unused.toml`:\n```toml\nx = 1\n```\n```console\n$ hakoniwa run -c unused\n```\n",
    );
    check_files_are_used("test", &list);
}

#[test]
fn a_file_is_used_by_its_file_name_or_its_profile_name() {
    let doc = "File `a.toml`:\n```toml\nx = 1\n```\n\
               File `~/.config/hakoniwa/profiles/team/b.toml`:\n```toml\nx = 1\n```\n\
               ```console\n$ hakoniwa run -c ./a.toml\n$ hakoniwa run -c team/b\n```\n";
    check_files_are_used("test", &steps("test", doc));
}
