//! Link options of the shared library: the soname carries the ABI major version, and the
//! version script exports only `hakoniwa_*` under the version node `HAKONIWA_0`.

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo:rerun-if-changed=hakoniwa.map");
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libhakoniwa.so.0");
    println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={dir}/hakoniwa.map");
}
