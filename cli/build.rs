//! Records the git commit the binary is built from, for `hakoniwa --version`.
//!
//! `HAKONIWA_GIT_COMMIT` is `git describe --always --dirty --abbrev=12` of the source tree,
//! or `unknown` when there is no git (a crate tarball). The dirty marker is the state at the
//! last build that re-ran this script (it re-runs when HEAD, the branch or the index moves).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["describe", "--always", "--dirty", "--abbrev=12"]);
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
        println!("cargo:rerun-if-changed={dir}/index");
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            let common = git(&["rev-parse", "--git-common-dir"]).unwrap_or(dir.clone());
            println!("cargo:rerun-if-changed={common}/{r}");
        }
    }
    println!(
        "cargo:rustc-env=HAKONIWA_GIT_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
