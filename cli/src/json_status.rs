//! `--json-status`: one JSON document describing how the sandboxed program ended.

use std::io::Write;

use hakoniwa::{ExitReason, ExitStatus};
use serde::Serialize;

/// The document written by `--json-status`.
#[derive(Debug, Serialize)]
pub struct Report {
    /// `exited`, `signaled`, `wall_time_exceeded`, ... or `setup_failed`.
    pub reason: String,
    /// The exit code of `hakoniwa` (the program's, 128+signal, or 1, 125, 126, 127 when the
    /// program did not start: see exit_code.rs).
    pub code: i32,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub core_dumped: bool,
    /// The limit that ended the program: `walltime`, `cpu` or `fsize`.
    pub limit: Option<&'static str>,
    pub real_time: Option<f64>,
    pub user_time: Option<f64>,
    pub system_time: Option<f64>,
    pub max_rss_kb: Option<u64>,
    pub minor_faults: Option<u64>,
    pub major_faults: Option<u64>,
    pub voluntary_switches: Option<u64>,
    pub involuntary_switches: Option<u64>,
    /// Namespaces unshared.
    pub namespaces: Vec<String>,
    /// Setup time per part, in milliseconds (prepare, clone, idmap, network, mounts,
    /// identity, confine, exec, total).
    pub setup_ms: Option<std::collections::BTreeMap<&'static str, f64>>,
    /// Capabilities kept for a uid-0 program (null when the program is not uid 0).
    pub capabilities: Option<Vec<String>>,
    /// Landlock: ABI, handled access sets, rule counts, what was dropped (null when off).
    pub landlock: Option<serde_json::Value>,
    /// Seccomp: profile, filter length, architectures (null when unconfined).
    pub seccomp: Option<serde_json::Value>,
    /// The setup error, when the sandbox could not be set up.
    pub error: Option<String>,
}

/// The limit behind an exit reason.
pub fn limit_of(reason: ExitReason) -> Option<&'static str> {
    match reason {
        ExitReason::WallTimeExceeded => Some("walltime"),
        ExitReason::CpuTimeExceeded => Some("cpu"),
        ExitReason::FileSizeExceeded => Some("fsize"),
        _ => None,
    }
}

impl Report {
    pub fn from_status(status: &ExitStatus, namespaces: Vec<String>) -> Self {
        let u = status.usage();
        Report {
            reason: status.reason.name().to_string(),
            code: status.code(),
            exit_code: status.exit_code,
            signal: status.signal,
            core_dumped: status.core_dumped,
            limit: limit_of(status.reason),
            real_time: Some(u.real_time.as_secs_f64()),
            user_time: Some(u.user_time.as_secs_f64()),
            system_time: Some(u.system_time.as_secs_f64()),
            max_rss_kb: Some(u.max_rss_kb),
            minor_faults: Some(u.minor_faults),
            major_faults: Some(u.major_faults),
            voluntary_switches: Some(u.voluntary_switches),
            involuntary_switches: Some(u.involuntary_switches),
            namespaces,
            setup_ms: None,
            capabilities: None,
            landlock: None,
            seccomp: None,
            error: None,
        }
    }

    pub fn setup_failed(code: i32, error: String, namespaces: Vec<String>) -> Self {
        Report {
            reason: "setup_failed".into(),
            code,
            exit_code: None,
            signal: None,
            core_dumped: false,
            limit: None,
            real_time: None,
            user_time: None,
            system_time: None,
            max_rss_kb: None,
            minor_faults: None,
            major_faults: None,
            voluntary_switches: None,
            involuntary_switches: None,
            namespaces,
            setup_ms: None,
            capabilities: None,
            landlock: None,
            seccomp: None,
            error: Some(error),
        }
    }

    /// Write to `dest` (`-` = stdout).
    pub fn write(&self, dest: &str) -> std::io::Result<()> {
        let mut text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        text.push('\n');
        if dest == "-" {
            std::io::stdout().lock().write_all(text.as_bytes())
        } else {
            std::fs::write(dest, text)
        }
    }
}
