//! The committed `include/hakoniwa.h` is what cbindgen generates from the sources now.

use std::path::Path;

#[test]
fn the_committed_header_is_the_generated_one() {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        // The source tree, not the crate: no `cargo metadata` run, so the test also runs
        // as a user without access to the cargo home.
        .with_src(crate_dir.join("src/lib.rs"))
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut generated);
    let path = crate_dir.join("../include/hakoniwa.h");
    if std::env::var_os("HAKONIWA_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "include/hakoniwa.h is stale: run HAKONIWA_BLESS=1 cargo test -p hakoniwa-capi --test header"
    );
}
