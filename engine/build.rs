//! Builds the sandbox's init (`init/main.rs`): a `#![no_std]`, `#![no_main]` static
//! executable without libc, embedded into the engine with `include_bytes!` (see
//! `src/init.rs`).
//!
//! It is compiled by invoking `$RUSTC` directly rather than through cargo: a nested cargo on
//! the same target directory would wait forever for the lock the outer cargo holds.
//!
//! It also precompiles the built-in seccomp profile (`Seccomp::Podman`) for the capability sets a
//! program gets by default (Podman's set for uid 0 inside, without CAP_SETFCAP when the
//! sandbox reaches host root, none otherwise), with and without the set-id rules of
//! host-root sandboxes, plain and with the exit hook. Generating the program costs a few hundred microseconds per process, a
//! large share of the CLI's start-up; the engine uses these when the capability set matches
//! and compiles at run time otherwise. `seccomp::tests` checks that they equal what the run
//! time compiler produces.

use std::env;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use hakoniwa_seccomp::caps::{cap_mask, PODMAN_DEFAULT_CAPS};
use hakoniwa_seccomp::{codegen, podman_default, setid, SockFilter};

/// The init's own sources, relative to the engine's manifest directory.
const INIT_SOURCES: [&str; 2] = ["main.rs", "sys.rs"];
/// Sources it shares with the runtime crate (`#[path = "../runtime/src/..."]` in main.rs).
const SHARED_SOURCES: [&str; 6] = [
    "init_proto.rs",
    "named.rs",
    "search.rs",
    "stage.rs",
    "trampoline.rs",
    "wire.rs",
];

/// Lay the init's sources out in `OUT_DIR` as main.rs expects them (`init/`, and
/// `runtime/src/` from the runtime crate, wherever cargo has it: in this workspace or
/// unpacked from a registry), and return the path of main.rs there.
fn stage_init_sources(out: &std::path::Path) -> PathBuf {
    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let runtime_src = PathBuf::from(
        env::var_os("DEP_HAKONIWA_RUNTIME_SRC").expect("hakoniwa-runtime declares links"),
    );
    let root = out.join("init-src");
    for (from_dir, names, to_dir) in [
        (manifest.join("init"), &INIT_SOURCES[..], root.join("init")),
        (runtime_src, &SHARED_SOURCES[..], root.join("runtime/src")),
    ] {
        std::fs::create_dir_all(&to_dir).expect("creating the init's source directory");
        for name in names {
            let from = from_dir.join(name);
            println!("cargo:rerun-if-changed={}", from.display());
            std::fs::copy(&from, to_dir.join(name))
                .unwrap_or_else(|e| panic!("copying {}: {e}", from.display()));
        }
    }
    root.join("init/main.rs")
}

fn build_init() {
    println!("cargo:rerun-if-env-changed=RUSTC");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let main_rs = stage_init_sources(&out);
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
    // On musl targets rustc adds its own self-contained C start files unless told not to.
    .args(if target.contains("musl") {
        &["-C", "link-self-contained=no"][..]
    } else {
        &[][..]
    })
    .args([
        "-C",
        "link-arg=-static",
        "-C",
        "link-arg=-Wl,--build-id=none",
    ])
    // Two segments (read+execute, read+write) instead of four: every sandbox's execve maps
    // each one and faults on each. RELRO protects nothing in a static binary without
    // relocations; without unwinding (panic=abort) no unwind tables are needed.
    .args([
        "-C",
        "link-arg=-Wl,-z,noseparate-code",
        "-C",
        "link-arg=-Wl,-z,norelro",
        "-C",
        "force-unwind-tables=no",
    ])
    .arg(&main_rs)
    .arg("-o")
    .arg(&bin);
    let status = cmd.status().expect("running $RUSTC for the init");
    assert!(status.success(), "building the init failed: {cmd:?}");
}

fn array(prog: &[SockFilter]) -> String {
    let mut s = String::from("&[");
    for f in prog {
        let _ = write!(
            s,
            "SockFilter{{code:{},jt:{},jf:{},k:{:#x}}},",
            f.code, f.jt, f.jf, f.k
        );
    }
    s.push(']');
    s
}

fn precompile_seccomp() {
    let mut out = String::from(
        "// Generated by engine/build.rs from hakoniwa_seccomp::podman_default; do not edit.\n\
         pub(crate) static PRECOMPILED: &[Precompiled] = &[\n",
    );
    // The profile is built for the architecture this script runs on: precompile only when
    // that is the target's (otherwise the engine compiles at run time).
    let native = std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok(std::env::consts::ARCH);
    let podman = cap_mask(PODMAN_DEFAULT_CAPS);
    let setfcap = cap_mask(&["CAP_SETFCAP"]);
    let sets: &[(u64, bool)] = if native {
        &[
            (podman, false),
            (podman & !setfcap, true),
            (podman, true),
            (0, false),
            (0, true),
        ]
    } else {
        &[]
    };
    for &(caps, deny_setid) in sets {
        let mut policy = podman_default(caps);
        if deny_setid {
            setid::deny_setid_modes(&mut policy).expect("built-in rules");
        }
        let plain = policy.compile().expect("built-in profile compiles");
        let hooked = codegen::compile_with_exit_hook(&policy).expect("built-in profile compiles");
        let arches: Vec<String> = plain
            .arches
            .iter()
            .map(|a| format!("Arch::{a:?}"))
            .collect();
        let _ = writeln!(
            out,
            "Precompiled {{ caps: {caps:#x}, deny_setid: {deny_setid}, profile: {:?}, rules: {}, arches: &[{}], plain: {}, hooked: {} }},",
            plain.profile,
            policy.profile_rules(),
            arches.join(","),
            array(&plain.instructions),
            array(&hooked)
        );
    }
    out.push_str("];\n");
    let path = std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR"))
        .join("precompiled_seccomp.rs");
    std::fs::write(path, out).expect("write precompiled programs");
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    build_init();
    precompile_seccomp();
}
