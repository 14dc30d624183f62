//! Records the git commit the binary is built from, for `hakoniwa --version`, and lays out
//! the release build's start-up code together.
//!
//! `HAKONIWA_GIT_COMMIT` is `git describe --always --dirty --abbrev=12` of the source tree,
//! or `unknown` when there is no git (a crate tarball). The dirty marker is the state at the
//! last build that re-ran this script (it re-runs when HEAD, the branch or the index moves).

use std::process::Command;

/// The musl build of `hakoniwa` (README, "Install") is linked with `hot-text.ld`: the code
/// the CLI runs on its start-up path, in the order it first runs, as one output section
/// before the rest of the text. Each 64 KiB of text the start-up touches costs a page fault
/// (~3 µs on a 2-core VM, with the kernel's fault-around); the default toolchain scatters
/// that code over 28 such windows, laid out together it takes 7 (`tests/musl.sh` checks
/// at most 12). The script only adds an output
/// section (`INSERT BEFORE .text`) to the linker's default one: GNU ld and lld read it.
/// `HAKONIWA_HOT_TEXT=0` links without it (a linker that cannot read it, such as mold);
/// `bench/hot-text/regen.sh` regenerates it.
fn hot_text() {
    println!("cargo:rerun-if-changed=hot-text.ld");
    println!("cargo:rerun-if-env-changed=HAKONIWA_HOT_TEXT");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let script = std::path::Path::new(&var("CARGO_MANIFEST_DIR")).join("hot-text.ld");
    if var("CARGO_CFG_TARGET_OS") == "linux"
        && var("CARGO_CFG_TARGET_ENV") == "musl"
        && var("CARGO_CFG_TARGET_ARCH") == "x86_64"
        && var("HAKONIWA_HOT_TEXT") != "0"
        && script.exists()
    {
        println!(
            "cargo:rustc-link-arg-bin=hakoniwa=-Wl,-T,{}",
            script.display()
        );
    }
}

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
    hot_text();
    println!(
        "cargo:rustc-env=HAKONIWA_GIT_COMMIT={}",
        commit.unwrap_or_else(|| "unknown".into())
    );
}
