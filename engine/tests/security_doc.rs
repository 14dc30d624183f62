//! `docs/security.md` lists every escape probe the tests run: a new probe test without a row
//! in its probe table fails here (issue 10, item 13).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The security test files, relative to the repository root. Every test function in them
/// is a probe and needs a row.
const PROBE_FILES: [&str; 8] = [
    "engine/tests/escapes.rs",
    "engine/tests/arch_probes.rs",
    "engine/tests/mount_escapes.rs",
    "engine/tests/host_root.rs",
    "engine/tests/init_escapes.rs",
    "cli/tests/mount_escapes.rs",
    "cli/tests/sigkill.rs",
    "cli/tests/hardening.rs",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Names of the `#[test]` functions of a Rust test file (attributes such as `#[ignore]`
/// may sit between `#[test]` and the `fn`).
fn test_functions(src: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut pending = false;
    for line in src.lines().map(str::trim) {
        if line == "#[test]" {
            pending = true;
        } else if pending && line.starts_with("fn ") {
            let name = line["fn ".len()..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_'))
                .next()
                .unwrap_or_default();
            out.push(name.to_string());
            pending = false;
        } else if pending && !(line.starts_with("#[") || line.starts_with("//")) {
            pending = false;
        }
    }
    out
}

/// (probe, file) of every row of the probe table: the first cell in backticks, the second
/// cell's path (a trailing "(branch)" note dropped).
fn table_rows(doc: &str) -> Vec<(String, String)> {
    let table = doc
        .split("## The probe table")
        .nth(1)
        .expect("docs/security.md has a '## The probe table' section");
    table
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let probe = cells[1].trim_matches('`').to_string();
            let file = cells[2].split_whitespace().next().unwrap_or("").to_string();
            (probe, file)
        })
        .collect()
}

#[test]
fn the_security_probe_table_lists_every_probe_test() {
    let doc = std::fs::read_to_string(repo().join("docs/security.md")).unwrap();
    let rows: BTreeSet<(String, String)> = table_rows(&doc).into_iter().collect();
    assert!(rows.len() >= 20, "the probe table looks empty: {rows:?}");
    let mut missing = Vec::new();
    let mut checked = 0;
    for file in PROBE_FILES {
        let src =
            std::fs::read_to_string(repo().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let tests = test_functions(&src);
        assert!(!tests.is_empty(), "no tests found in {file}");
        for t in tests {
            checked += 1;
            if !rows.contains(&(t.clone(), file.to_string())) {
                missing.push(format!("{file}: {t}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "probe tests without a row in the probe table of docs/security.md:\n{}",
        missing.join("\n")
    );
    assert!(checked >= 20, "only {checked} probe tests found");
}

#[test]
fn the_probe_table_parser_sees_a_missing_row() {
    // The checks above cannot pass by accident: a test function absent from a table is seen.
    let src = "#[test]\n#[ignore = \"x\"]\nfn a_probe() {}\nfn helper() {}\n#[test]\nfn b() {}\n";
    assert_eq!(test_functions(src), ["a_probe", "b"]);
    let doc = "## The probe table\n| Probe | File |\n|---|---|\n| `a_probe` | x.rs (sec-proc) |\n";
    let rows = table_rows(doc);
    assert_eq!(rows, [("a_probe".to_string(), "x.rs".to_string())]);
    assert!(!rows.iter().any(|(p, _)| p == "b"));
}

#[test]
fn the_security_document_covers_the_threat_model_residue_and_reporting() {
    let doc = std::fs::read_to_string(repo().join("docs/security.md")).unwrap();
    for heading in [
        "## Threat model",
        "## What is protected",
        "## What is not protected",
        "## Reporting a vulnerability",
        "## The probe table",
    ] {
        assert!(doc.contains(heading), "missing section {heading}");
    }
    // Item 13: the information that stays visible, each with its reason.
    for topic in [
        "inotify",
        "/proc/self/fd/1",
        "mountinfo",
        "root-only",
        "65534",
    ] {
        assert!(doc.contains(topic), "the residue list lacks {topic}");
    }
    assert!(!doc.contains("@example.com"), "a placeholder address");
}
