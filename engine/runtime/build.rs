//! Tells dependents where this crate's sources are (`DEP_HAKONIWA_RUNTIME_SRC`): the
//! engine's build script compiles the sandbox's init from files shared with this crate.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:src={dir}/src");
    println!("cargo:rerun-if-changed=build.rs");
}
