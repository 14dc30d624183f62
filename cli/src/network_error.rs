//! Messages for `--network pasta` failures: pasta's own words, what to install, and
//! whether `/dev/net/tun` can be used, instead of the engine's generic stage + errno.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use crate::exit_code::CliError;

/// The Debian package that ships `pasta`.
const PASTA_PACKAGE: &str = "passt";

/// Check, before anything starts, that pasta can open `/dev/net/tun`.
///
/// Pasta opens it after joining the sandbox's user namespace; there the caller's own ids are
/// mapped but the device's owner (root) is not for an unprivileged caller, so only the
/// "other" permission bits count.
pub fn check_tun(tun: &Path, caller_is_root: bool) -> Result<(), CliError> {
    let fail = |why: String| {
        Err(CliError::setup(format!(
            "--network pasta: {} is not usable: {why}",
            tun.display()
        )))
    };
    let meta = match std::fs::metadata(tun) {
        Ok(m) => m,
        Err(e) => {
            return fail(format!(
                "{e} (load the tun module: modprobe tun; in a container, pass the device in)"
            ))
        }
    };
    if !meta.file_type().is_char_device() {
        return fail("not a character device".into());
    }
    let mode = meta.permissions().mode();
    if !caller_is_root && mode & 0o006 != 0o006 {
        return fail(format!(
            "mode {:o} does not let others read and write it (Debian's default is 0666: chmod 0666 {})",
            mode & 0o777,
            tun.display()
        ));
    }
    if let Err(e) = std::fs::OpenOptions::new().read(true).write(true).open(tun) {
        return fail(e.to_string());
    }
    Ok(())
}

/// The CLI error for an engine error; network-stage errors get pasta's own message.
pub fn explain(e: hakoniwa::Error) -> CliError {
    const ENOENT: i32 = 2;
    if let hakoniwa::Error::Setup {
        stage: hakoniwa::Stage::Network,
        target,
        errno,
    } = &e
    {
        let detail = target.clone().unwrap_or_default();
        if *errno == ENOENT && detail.starts_with("pasta:") {
            return CliError::setup(format!(
                "--network pasta: pasta is not installed (not found on PATH); install the Debian package `{PASTA_PACKAGE}` (apt install {PASTA_PACKAGE})"
            ));
        }
        // The engine's text is "pasta failed (exit status: N): pasta's lines"; its errno is
        // not pasta's (pasta reports no errno), so it is left out.
        let detail = detail
            .strip_prefix("pasta failed (")
            .and_then(|r| r.split_once("): "))
            .map(|(status, msg)| format!("pasta failed ({status}): {msg}"))
            .unwrap_or(detail);
        // Pasta opens /dev/net/tun inside the sandbox's user namespace (see check_tun).
        let hint = if detail.contains("tun") {
            "; pasta could not use /dev/net/tun: rootless pasta needs it readable and writable by others (mode 0666)"
        } else {
            ""
        };
        return CliError::setup(format!("--network pasta: {detail}{hint}"));
    }
    CliError::from(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_tun_device_is_named() {
        let e = check_tun(Path::new("/no/such/tun-hk"), false).unwrap_err();
        assert!(e.message.contains("/no/such/tun-hk is not usable"), "{e}");
    }

    #[test]
    fn a_regular_file_is_not_a_tun_device() {
        let e = check_tun(Path::new("/etc/passwd"), true).unwrap_err();
        assert!(e.message.contains("not a character device"), "{e}");
    }
}
