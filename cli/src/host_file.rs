//! Reading host files whose names a file tree the user does not control may choose (the
//! program's `#!` chain in a rootdir or a bound directory, a directory a template globs):
//! only regular files, never through a final symbolic link, and without ever opening
//! anything else, so a FIFO cannot block the CLI and no device driver runs on open.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

use rustix::fs::OFlags;

/// Open `path` for reading if it is a regular file (not a symbolic link to one).
///
/// The name is first opened with `O_PATH | O_NOFOLLOW`, which opens nothing (no FIFO
/// blocks, no device's `open` runs); only when that inode is a regular file is it reopened
/// for reading through `/proc/self/fd`, which reaches the same inode even if the name was
/// changed in between.
pub fn open_regular(path: &Path) -> io::Result<File> {
    // rustix, not OpenOptions::custom_flags: std masks custom flags with O_ACCMODE, which
    // on musl includes O_PATH (its O_SEARCH), so the name would be opened for reading.
    let probe = File::from(rustix::fs::open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )?);
    let meta = probe.metadata()?;
    if !meta.file_type().is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a regular file", path.display()),
        ));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OFlags::NONBLOCK.bits() as i32)
        .open(format!("/proc/self/fd/{}", probe.as_raw_fd()))?;
    let reopened = file.metadata()?;
    if (reopened.dev(), reopened.ino()) != (meta.dev(), meta.ino()) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: changed while being opened", path.display()),
        ));
    }
    Ok(file)
}

/// The text of a regular file (see [`open_regular`]), at most `limit` bytes of it.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<String> {
    let mut text = String::new();
    open_regular(path)?.take(limit).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_are_opened() {
        let d = std::env::temp_dir().join(format!("hk-host-file-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("file"), "text").unwrap();
        std::os::unix::fs::symlink("file", d.join("link")).unwrap();
        let fifo = d.join("fifo");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        assert_eq!(read_regular(&d.join("file"), 2).unwrap(), "te");
        assert!(open_regular(&d.join("link")).is_err());
        assert!(open_regular(&fifo).is_err());
        assert!(open_regular(&d).is_err());
        assert!(open_regular(Path::new("/dev/null")).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }
}
