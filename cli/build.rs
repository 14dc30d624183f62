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
    // Only files that exist: cargo reruns the script on every build for a missing one.
    let watch = |path: String| {
        if std::path::Path::new(&path).exists() {
            println!("cargo:rerun-if-changed={path}");
        }
    };
    if let Some(dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch(format!("{dir}/HEAD"));
        watch(format!("{dir}/index"));
        let common = git(&["rev-parse", "--path-format=absolute", "--git-common-dir"])
            .unwrap_or(dir.clone());
        watch(format!("{common}/packed-refs"));
        if let Some(r) = git(&["symbolic-ref", "-q", "HEAD"]) {
            watch(format!("{common}/{r}"));
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!(
        "cargo:rustc-env=HAKONIWA_GIT_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
