//! Names from file trees the user does not control (a rootfs image, a program's `#!` line)
//! put into messages and into `--print-config`: control characters escaped, so a newline
//! cannot start a line of its own (a profile key, a log line) and an escape sequence cannot
//! drive the terminal.

/// `s` with control characters escaped (`\n`, `\r`, `\u{1b}`); the rest as it is.
pub fn printable(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_nothing_else() {
        assert_eq!(printable("a\nb\r\x1b[2Jé"), "a\\nb\\r\\u{1b}[2Jé");
    }
}
