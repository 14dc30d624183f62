//! Running the examples of a page of `docs/` exactly as printed.
//!
//! A page is read in order as a list of [`Step`]s:
//!
//! - in a ```console block, a line `$ CMD` is a command, run as `sh -c CMD` from one scratch
//!   directory (holding `cli/`, a link to this crate, for the shipped profiles) with
//!   `hakoniwa` first on `PATH`, `HOME` in the scratch directory and stdin null. It must exit
//!   0, and the lines after it are its exact stdout, where a line `...` matches any number of
//!   lines and the texts `$PWD` and `$HOME` stand for the scratch and home directories;
//! - a fenced block (```toml, ```json, ```text, ...) right after a line ``File `NAME`:`` is
//!   written to `NAME` (relative to the scratch directory, or to `HOME` with a leading `~/`)
//!   before the commands after it run. Every ```toml block must be named so, and
//!   [`check_files_are_used`] checks that a command or another file uses each file, so no
//!   example goes unchecked.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::*;

/// A command of a ```console block and the stdout the page shows for it.
pub struct Example {
    /// 1-based line of the command in the page.
    pub line: usize,
    pub command: String,
    pub stdout: Vec<String>,
}

/// A ```toml block the page saves as a file.
pub struct FileBlock {
    /// 1-based line of the opening fence.
    pub line: usize,
    pub path: String,
    pub text: String,
}

pub enum Step {
    Command(Example),
    File(FileBlock),
}

/// The text of `docs/NAME`.
pub fn read_page(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs")
            .join(name),
    )
    .unwrap()
}

/// The name a line ``File `NAME`:`` gives to the block after it.
fn file_name(line: &str) -> Option<&str> {
    line.strip_prefix("File `")?.strip_suffix("`:")
}

/// The steps of `doc` (`page` names it in messages), in order.
pub fn steps(page: &str, doc: &str) -> Vec<Step> {
    let mut out: Vec<Step> = Vec::new();
    // The block being read: a console block, or the file a toml block is saved as.
    let mut console = false;
    let mut file: Option<FileBlock> = None;
    let mut skip = false;
    let mut previous = "";
    for (i, l) in doc.lines().enumerate() {
        let at = i + 1;
        if skip {
            skip = l != "```";
        } else if let Some(mut f) = file.take() {
            assert!(
                !l.starts_with("```") || l == "```",
                "{page}:{at}: the block of line {} is not closed",
                f.line
            );
            if l == "```" {
                out.push(Step::File(f));
            } else {
                f.text.push_str(l);
                f.text.push('\n');
                file = Some(f);
            }
        } else if console {
            if l == "```" {
                console = false;
            } else if let Some(cmd) = l.strip_prefix("$ ") {
                out.push(Step::Command(Example {
                    line: at,
                    command: cmd.to_string(),
                    stdout: Vec::new(),
                }));
            } else {
                match out.last_mut() {
                    Some(Step::Command(ex)) => ex.stdout.push(l.to_string()),
                    _ => panic!("{page}:{at}: output before a command"),
                }
            }
        } else if l == "```console" {
            console = true;
        } else if let Some(lang) = l.strip_prefix("```").filter(|x| !x.is_empty()) {
            match file_name(previous) {
                Some(path) => {
                    file = Some(FileBlock {
                        line: at,
                        path: path.to_string(),
                        text: String::new(),
                    })
                }
                None if lang == "toml" => {
                    panic!("{page}:{at}: a ```toml block must follow a line File `NAME`:")
                }
                // Another block that is not a file (shown, not run): skip it.
                None => skip = true,
            }
        }
        if !l.trim().is_empty() {
            previous = l;
        }
    }
    assert!(file.is_none() && !console, "{page}: a block is not closed");
    out
}

/// The commands of `doc`, in order.
pub fn examples(page: &str, doc: &str) -> Vec<Example> {
    steps(page, doc)
        .into_iter()
        .filter_map(|s| match s {
            Step::Command(ex) => Some(ex),
            Step::File(_) => None,
        })
        .collect()
}

/// Whether `actual` matches `expected`, where a line "..." matches any number of lines.
pub fn matches(expected: &[String], actual: &[&str]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((e, rest)) if e == "..." => (0..=actual.len()).any(|k| matches(rest, &actual[k..])),
        Some((e, rest)) => actual.first() == Some(&e.as_str()) && matches(rest, &actual[1..]),
    }
}

/// Every file the page saves is used: a later command or another file names it, or, for a
/// file in a `hakoniwa/profiles` directory, a later command loads it by name (`-c NAME`).
pub fn check_files_are_used(page: &str, steps: &[Step]) {
    for (i, step) in steps.iter().enumerate() {
        let Step::File(f) = step else { continue };
        let name = Path::new(&f.path).file_name().unwrap().to_str().unwrap();
        let by_name = f
            .path
            .split_once("hakoniwa/profiles/")
            .map(|(_, rest)| format!("-c {}", rest.trim_end_matches(".toml")));
        let later = steps[i + 1..].iter().any(|s| match s {
            Step::Command(ex) => {
                ex.command.contains(name)
                    || by_name.as_ref().is_some_and(|n| ex.command.contains(n))
            }
            Step::File(_) => false,
        });
        let included = steps.iter().enumerate().any(|(j, s)| match s {
            Step::File(g) => j != i && g.text.contains(name),
            Step::Command(_) => false,
        });
        assert!(
            later || included,
            "{page}:{}: the file {} is used by no command after it",
            f.line,
            f.path
        );
    }
}

/// `text` with the scratch and home directories written as `$PWD` and `$HOME`.
fn with_names(text: &str, work: &Path, home: &Path) -> String {
    let mut t = text.to_string();
    for (dir, name) in [(work, "$PWD"), (home, "$HOME")] {
        if let Ok(canonical) = std::fs::canonicalize(dir) {
            t = t.replace(canonical.to_str().unwrap(), name);
        }
        t = t.replace(dir.to_str().unwrap(), name);
    }
    t
}

/// Run the steps of a page in order, as the module's documentation says.
pub fn run_steps(page: &str, steps: &[Step]) {
    let dir = temp_dir(&format!("docs-{}", page.replace(['/', '.'], "-")));
    let (work, home) = (dir.join("work"), dir.join("home"));
    std::fs::create_dir_all(&work).unwrap();
    std::fs::create_dir_all(&home).unwrap();
    std::os::unix::fs::symlink(Path::new(env!("CARGO_MANIFEST_DIR")), work.join("cli")).unwrap();
    let exe = PathBuf::from(bin());
    let path = format!(
        "{}:/usr/local/bin:/usr/bin:/bin",
        exe.parent().unwrap().display()
    );
    // The files saved so far that ask for `--userns auto`.
    let mut userns_auto: Vec<&str> = Vec::new();
    for step in steps {
        let ex = match step {
            Step::File(f) => {
                let target = match f.path.strip_prefix("~/") {
                    Some(rest) => home.join(rest),
                    None => work.join(&f.path),
                };
                write(&target, &f.text);
                if f.text.contains("userns = \"auto\"") {
                    userns_auto.push(&f.path);
                }
                continue;
            }
            Step::Command(ex) => ex,
        };
        let out = out_of(
            Command::new("sh")
                .args(["-c", &ex.command])
                .current_dir(&work)
                .env_clear()
                .env("PATH", &path)
                .env("HOME", &home),
        );
        let mut at = format!("{page}:{}: {}", ex.line, ex.command);
        if userns_auto.iter().any(|f| ex.command.contains(f)) {
            at.push_str(" (with --userns auto from the profile)");
        }
        if userns_auto_without_ranges(&at, &out) {
            continue; // as the page says: exit 125 naming the file
        }
        assert_eq!(
            out.code, 0,
            "{at}\nstdout:\n{}\nstderr:\n{}",
            out.stdout, out.stderr
        );
        let stdout = with_names(&out.stdout, &work, &home);
        let actual: Vec<&str> = stdout.lines().collect();
        assert!(
            matches(&ex.stdout, &actual),
            "{at}\nthe page says:\n{}\nit printed:\n{}\nstderr:\n{}",
            ex.stdout.join("\n"),
            stdout,
            out.stderr
        );
    }
}
