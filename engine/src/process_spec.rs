//! What a [`crate::Command`] contributes to one spawn: the program, its arguments,
//! environment and working directory, this spawn's standard streams and preserved
//! descriptors, and the wall-clock limit. The container contributes the rest.
//!
//! The plan and the spawn sequence take a container and a `ProcessSpec`, never a whole
//! `Command`, so they do not depend on the public builder.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::time::Duration;

use crate::stdio::Streams;

/// One spawn's process: borrowed from the command, except the streams, which are this
/// spawn's own copies (the command keeps its settings for the next spawn).
#[derive(Debug)]
pub(crate) struct ProcessSpec<'a> {
    /// The program as given (a name without a slash is searched in `PATH`).
    pub(crate) program: &'a OsStr,
    /// The arguments after the program.
    pub(crate) args: &'a [OsString],
    /// The whole environment (nothing is inherited).
    pub(crate) envs: &'a [(OsString, OsString)],
    /// Working directory inside the sandbox (`/` by default with a mount namespace).
    pub(crate) cwd: Option<&'a Path>,
    /// Standard streams and preserved descriptors.
    pub(crate) streams: Streams,
    /// Wall-clock limit.
    pub(crate) wait_timeout: Option<Duration>,
    /// stdin becomes the controlling terminal of the sandbox's own session.
    pub(crate) controlling_terminal: bool,
}
