//! The words of an errno in messages.

/// `strerror` without std's " (os error N)" suffix.
pub fn strerror(errno: i32) -> String {
    io_text(&std::io::Error::from_raw_os_error(errno))
}

/// An I/O error's text without std's " (os error N)".
pub fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_errno_reads_as_its_message_without_the_os_error_suffix() {
        assert_eq!(strerror(2), "No such file or directory");
    }
}
