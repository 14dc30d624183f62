//! Exit codes of the `hakoniwa` binary and the error type that carries them.
//!
//! Decided once, documented in the README and the man page (EXIT STATUS):
//!
//! | code | meaning |
//! |---|---|
//! | the program's | the program exited |
//! | 128+N | the program was killed by signal N (137 for a wall-clock kill); for SIGINT and SIGQUIT `hakoniwa` ends by the same signal after its cleanup (`signals::exit`), which shells also show as 128+N |
//! | 1 | something the user wrote is wrong: a flag value, a profile, or a configuration the engine rejects before it starts (`Error::Config`), or a working directory missing inside the sandbox |
//! | 2 | command-line usage error (unknown flag, missing value) |
//! | 125 | the sandbox could not be set up for another reason (kernel, permissions, pasta) |
//! | 126 | the program was found but cannot be executed (permission, format, missing `#!` interpreter or dynamic loader) |
//! | 127 | the program was not found inside the sandbox (by name on `PATH`, or by path) |

use std::fmt;

/// Something the user wrote is wrong (flag value, profile, configuration).
pub const INVALID: i32 = 1;
/// Clap usage errors.
pub const USAGE: i32 = 2;
/// The sandbox could not be set up (or a requested feature is not available).
pub const SETUP_FAILED: i32 = 125;
/// The program exists but cannot be executed.
pub const NOT_EXECUTABLE: i32 = 126;
/// The program was not found inside the sandbox.
pub const NOT_FOUND: i32 = 127;

/// An error of the front end, with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    pub code: i32,
    pub message: String,
}

impl CliError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        CliError::new(INVALID, message)
    }

    pub fn setup(message: impl Into<String>) -> Self {
        CliError::new(SETUP_FAILED, message)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The exit code for an engine error without further context: a configuration the engine
/// rejects is the user's mistake (1), anything else a setup failure (125). Exec failures are
/// refined by `run` (126, 127), which knows the sandbox's file tree.
impl From<hakoniwa::Error> for CliError {
    fn from(e: hakoniwa::Error) -> Self {
        // A working directory (`-w :DIR`, a profile's `command.cwd`) that does not exist
        // inside the sandbox is a value the user wrote, found during setup.
        if let hakoniwa::Error::Setup {
            stage: hakoniwa::Stage::Chdir,
            target,
            errno: errno @ (2 | 20),
        } = &e
        {
            return CliError::invalid(format!(
                "the working directory {} does not exist inside the sandbox (errno {errno}): {}\n\
                 hint: bind the host directory that holds it (-b/-B HOST:CONTAINER), or use \
                 -w HOST_DIR, which binds a host directory at the same path and changes to it",
                target.as_deref().unwrap_or("?"),
                crate::strerror::strerror(*errno)
            ));
        }
        use hakoniwa::ErrorKind as K;
        // Landlock and seccomp configurations (and landlock rights the kernel cannot
        // enforce) are rejected before the sandbox starts, like any other configuration.
        let code = match e.kind() {
            K::Config | K::Landlock | K::Seccomp | K::Unsupported => INVALID,
            _ => SETUP_FAILED,
        };
        CliError::new(code, e.to_string())
    }
}
