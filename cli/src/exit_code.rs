//! Exit codes of the `hakoniwa` binary and the error type that carries them.

use std::fmt;

/// An invalid command-line value or profile.
pub const INVALID: i32 = 1;
/// Clap usage errors.
pub const USAGE: i32 = 2;
/// The sandbox could not be set up (or a requested feature is not available).
pub const SETUP_FAILED: i32 = 125;
/// The program was not found on the host `PATH`.
pub const NOT_FOUND: i32 = 127;

/// An error of the front end, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn invalid(message: impl Into<String>) -> Self {
        CliError {
            code: INVALID,
            message: message.into(),
        }
    }

    pub fn setup(message: impl Into<String>) -> Self {
        CliError {
            code: SETUP_FAILED,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        CliError {
            code: NOT_FOUND,
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<hakoniwa::Error> for CliError {
    fn from(e: hakoniwa::Error) -> Self {
        CliError::setup(e.to_string())
    }
}
