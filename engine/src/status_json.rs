//! The JSON status document: how a sandboxed program ended and what the sandbox enforced.
//!
//! One writer for every front end (the CLI's `--json-status`, the C ABI's
//! `hakoniwa_status_to_json`, the Python and Go bindings through it), so they produce the
//! same document. Its JSON Schema is `engine/status.schema.json` ([`SCHEMA`]; a symlink
//! `docs/status.schema.json` points to it), and the document carries `"version": 1` and only
//! grows by adding fields.
//!
//! Conventions: times are seconds (`real_time`, `user_time`, `system_time`) or milliseconds
//! (`setup_ms`), rounded to whole microseconds; sets (namespaces, capabilities, landlock
//! rights and scopes) are arrays of names, never raw bit masks.
//!
//! Two exit fields, on purpose: `exit_code` is the program's own `exit()` value (null when a
//! signal ended it); `code` is the single number a shell sees from `hakoniwa run`: the
//! exit code, or 128 + the signal, or the CLI's code for a failure before the program ran.
//!
//! # Examples
//! ```no_run
//! use hakoniwa::Container;
//! let mut child = Container::new().rootfs("/").command("/bin/true").spawn().unwrap();
//! let status = child.wait().unwrap();
//! let json = status.to_json(child.enforcement());
//! assert!(json.contains(r#""reason": "exited""#));
//! ```

use std::fmt::Write;
use std::time::Duration;

use crate::enforcement::Enforcement;
use crate::exit_status::{ExitReason, ExitStatus};

/// Version of the document (the `version` field).
pub const VERSION: u32 = 1;

/// The JSON Schema (draft 2020-12) of the document.
pub const SCHEMA: &str = include_str!("../status.schema.json");

/// The limit behind an exit reason: `walltime`, `cpu` or `fsize`.
pub fn limit_of(reason: ExitReason) -> Option<&'static str> {
    match reason {
        ExitReason::WallTimeExceeded => Some("walltime"),
        ExitReason::CpuTimeExceeded => Some("cpu"),
        ExitReason::FileSizeExceeded => Some("fsize"),
        _ => None,
    }
}

/// A JSON string literal.
fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn names<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let v: Vec<String> = items.into_iter().map(|s| string(s.as_ref())).collect();
    format!("[{}]", v.join(", "))
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// Seconds rounded to whole microseconds (`0.001234`).
fn seconds(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// Milliseconds rounded to whole microseconds (`1.234`).
fn millis(d: Duration) -> String {
    let us = d.as_micros();
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// Builds the document field by field, in a fixed order.
struct Doc(Vec<(&'static str, String)>);

impl Doc {
    fn field(&mut self, key: &'static str, value: String) {
        self.0.push((key, value));
    }

    fn finish(self) -> String {
        let mut out = String::from("{\n");
        let n = self.0.len();
        for (i, (k, v)) in self.0.into_iter().enumerate() {
            let _ = write!(out, "  \"{k}\": {v}");
            out.push_str(if i + 1 < n { ",\n" } else { "\n" });
        }
        out.push_str("}\n");
        out
    }
}

fn namespace_names(e: &Enforcement) -> String {
    names(e.namespaces.iter().map(|ns| ns.name()))
}

fn enforcement_fields(doc: &mut Doc, e: &Enforcement) {
    let t = &e.timings;
    let parts = [
        ("prepare", t.prepare),
        ("clone", t.clone),
        ("idmap", t.idmap),
        ("network", t.network),
        ("release", t.release),
        ("mounts", t.mounts),
        ("identity", t.identity),
        ("confine", t.confine),
        ("exec", t.exec),
        ("total", t.total),
    ];
    let timings: Vec<String> = parts
        .iter()
        .map(|(k, d)| format!("\"{k}\": {}", millis(*d)))
        .collect();
    doc.field("setup_ms", format!("{{{}}}", timings.join(", ")));
    doc.field(
        "capabilities",
        e.capabilities
            .map_or("null".into(), |c| names(crate::caps::names(c))),
    );
    doc.field("no_new_privs", e.no_new_privs.to_string());
    doc.field(
        "landlock",
        e.landlock.as_ref().map_or("null".into(), |l| {
            use crate::landlock::{fs_right_names, net_right_names, scope_names};
            format!(
                "{{\"abi\": {}, \"handled_fs\": {}, \"handled_net\": {}, \"scoped\": {}, \
                 \"fs_rules\": {}, \"net_rules\": {}, \"dropped\": {}}}",
                l.abi,
                names(fs_right_names(l.handled_fs)),
                names(net_right_names(l.handled_net)),
                names(scope_names(l.scoped)),
                l.fs_rules,
                l.net_rules,
                names(l.dropped.iter().map(|d| d.to_string())),
            )
        }),
    );
    doc.field(
        "seccomp",
        e.seccomp.as_ref().map_or("null".into(), |s| {
            format!(
                "{{\"profile\": {}, \"instructions\": {}, \"architectures\": {}}}",
                string(&s.profile),
                s.instructions,
                names(&s.architectures)
            )
        }),
    );
}

impl ExitStatus {
    /// The JSON status document of this run (pretty-printed, one trailing newline), with
    /// the sandbox's [`Enforcement`] (from [`crate::Child::enforcement`]). See
    /// [`crate::status_json`] for the format and its schema.
    pub fn to_json(&self, enforcement: &Enforcement) -> String {
        let u = &self.usage;
        let mut doc = Doc(Vec::new());
        doc.field("version", VERSION.to_string());
        doc.field("reason", string(self.reason.name()));
        doc.field("code", self.code().to_string());
        doc.field("exit_code", opt(self.exit_code));
        doc.field("signal", opt(self.signal));
        doc.field("core_dumped", self.core_dumped.to_string());
        doc.field("limit", opt(limit_of(self.reason).map(string)));
        doc.field("real_time", seconds(u.real_time));
        doc.field("user_time", seconds(u.user_time));
        doc.field("system_time", seconds(u.system_time));
        doc.field("max_rss_kb", opt(u.max_rss_kb));
        doc.field("minor_faults", u.minor_faults.to_string());
        doc.field("major_faults", u.major_faults.to_string());
        doc.field("voluntary_switches", u.voluntary_switches.to_string());
        doc.field("involuntary_switches", u.involuntary_switches.to_string());
        doc.field("namespaces", namespace_names(enforcement));
        enforcement_fields(&mut doc, enforcement);
        doc.field("error", "null".into());
        doc.finish()
    }
}

/// The document for a run whose program never started: `reason` is `setup_failed`, `code`
/// the caller's exit code for it, `error` the message; usage and enforcement are null.
/// `namespaces` are the names of the namespaces that were asked for.
pub fn setup_failed(code: i32, error: &str, namespaces: &[&str]) -> String {
    let mut doc = Doc(Vec::new());
    for key in FIELDS {
        let value = match key {
            "version" => VERSION.to_string(),
            "reason" => string("setup_failed"),
            "code" => code.to_string(),
            "core_dumped" => "false".into(),
            "namespaces" => names(namespaces),
            "error" => string(error),
            _ => "null".into(),
        };
        doc.field(key, value);
    }
    doc.finish()
}

/// The document's fields, in the order both writers emit them.
const FIELDS: [&str; 22] = [
    "version",
    "reason",
    "code",
    "exit_code",
    "signal",
    "core_dumped",
    "limit",
    "real_time",
    "user_time",
    "system_time",
    "max_rss_kb",
    "minor_faults",
    "major_faults",
    "voluntary_switches",
    "involuntary_switches",
    "namespaces",
    "setup_ms",
    "capabilities",
    "no_new_privs",
    "landlock",
    "seccomp",
    "error",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_json() {
        assert_eq!(string("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\u0001é""#);
    }

    #[test]
    fn times_are_rounded_to_microseconds() {
        assert_eq!(seconds(Duration::from_nanos(1_234_567_891)), "1.234567");
        assert_eq!(millis(Duration::from_nanos(1_234_567_891)), "1234.567");
        assert_eq!(millis(Duration::from_nanos(999)), "0.000");
    }

    fn keys(doc: &str) -> Vec<&str> {
        doc.lines()
            .filter_map(|l| l.strip_prefix("  \"")?.split('"').next())
            .collect()
    }

    #[test]
    fn both_documents_have_the_same_fields_in_the_same_order() {
        let status = ExitStatus {
            reason: ExitReason::Exited,
            exit_code: Some(0),
            signal: None,
            core_dumped: false,
            usage: Default::default(),
            enforced: Default::default(),
        };
        let run = status.to_json(&Enforcement::default());
        assert_eq!(keys(&run), FIELDS);
        assert_eq!(keys(&setup_failed(125, "e", &[])), FIELDS);
    }

    #[test]
    fn a_setup_failure_document_names_the_error() {
        let doc = setup_failed(125, "bad \"thing\"", &["user", "mount"]);
        assert!(doc.contains(r#""reason": "setup_failed""#), "{doc}");
        assert!(doc.contains(r#""error": "bad \"thing\"""#), "{doc}");
        assert!(doc.contains(r#""namespaces": ["user", "mount"]"#), "{doc}");
        assert!(doc.ends_with("}\n"));
    }
}
