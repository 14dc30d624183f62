//! Builds the sandbox's init (`init/main.rs`): a `#![no_std]`, `#![no_main]` static
//! executable without libc, embedded into the engine with `include_bytes!` (see
//! `src/init.rs`).
//!
//! It is compiled by invoking `$RUSTC` directly rather than through cargo: a nested cargo on
//! the same target directory would wait forever for the lock the outer cargo holds.

use std::env;
use std::path::PathBuf;
use std::process::Command;

const SOURCES: [&str; 5] = [
    "init/main.rs",
    "init/sys.rs",
    "runtime/src/init_proto.rs",
    "runtime/src/search.rs",
    "runtime/src/stage.rs",
];

fn main() {
    for f in SOURCES {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-env-changed=RUSTC");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let target = env::var("TARGET").expect("cargo sets TARGET");
    let bin = out.join("hakoniwa-init");
    let mut cmd = Command::new(rustc);
    cmd.args([
        "--edition=2021",
        "--crate-type=bin",
        "--crate-name=hakoniwa_init",
    ])
    .args(["--target", &target])
    .args([
        "-C",
        "panic=abort",
        "-C",
        "opt-level=s",
        "-C",
        "codegen-units=1",
    ])
    .args(["-C", "debuginfo=0", "-C", "strip=symbols"])
    // A static, non-PIE executable with its own `_start` and no C runtime.
    .args([
        "-C",
        "relocation-model=static",
        "-C",
        "target-feature=+crt-static",
    ])
    .args(["-C", "link-arg=-nostartfiles", "-C", "link-arg=-nostdlib"])
    .args([
        "-C",
        "link-arg=-static",
        "-C",
        "link-arg=-Wl,--build-id=none",
    ])
    .arg("init/main.rs")
    .arg("-o")
    .arg(&bin);
    let status = cmd.status().expect("running $RUSTC for the init");
    assert!(status.success(), "building the init failed: {cmd:?}");
}
