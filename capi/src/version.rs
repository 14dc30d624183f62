//! Library version.

use std::ffi::c_char;

/// Major version of the library (the ABI major is the soname's: `libhakoniwa.so.0`).
pub const HAKONIWA_VERSION_MAJOR: u32 = 0;
/// Minor version.
pub const HAKONIWA_VERSION_MINOR: u32 = 1;
/// Patch version.
pub const HAKONIWA_VERSION_PATCH: u32 = 0;

static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");

/// The library's version, `"MAJOR.MINOR.PATCH"` (a static string; never NULL). Compare it
/// with the `HAKONIWA_VERSION_*` constants of the header the program was compiled with.
///
/// Thread-safe.
#[no_mangle]
pub extern "C" fn hakoniwa_version() -> *const c_char {
    VERSION.as_ptr().cast()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_constants_match_the_package_version() {
        let want =
            format!("{HAKONIWA_VERSION_MAJOR}.{HAKONIWA_VERSION_MINOR}.{HAKONIWA_VERSION_PATCH}");
        assert_eq!(want, env!("CARGO_PKG_VERSION"));
        // SAFETY: a static NUL-terminated string.
        let got = unsafe { std::ffi::CStr::from_ptr(hakoniwa_version()) };
        assert_eq!(got.to_str().unwrap(), want);
    }
}
