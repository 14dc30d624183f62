//! A quick reading of plain `hakoniwa run` command lines, without clap.
//!
//! clap builds its whole tree of every flag (with help texts and value parsers) before it
//! reads one argument: about a thousand allocations and a fifth of the time from `execve`
//! to the sandbox's clone. Most command lines are simple: `run`, flags, and the program.
//! Those are read here into the very [`Cli`] clap would make. Anything else goes to clap,
//! which reads, rejects and explains as before: a short flag spelled other than `-v`, `-q`
//! or `-b VALUE`, a flag used twice that may be given once, a value that starts with `-`
//! or is empty, a flag not listed below, help, version, other subcommands, bytes that are
//! not UTF-8.
//! The tests compare both readings of generated command lines.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::cli::{Cli, Commands, RunArgs};

/// Where a flag's value goes.
enum Field<'a> {
    /// A switch (`--no-pty`).
    Switch(&'a mut bool),
    /// A value that may be given once.
    Once(&'a mut Option<String>),
    /// A repeatable value.
    Texts(&'a mut Vec<String>),
    /// A repeatable path.
    Paths(&'a mut Vec<PathBuf>),
}

/// The `run` flag with this long name, if it is read here.
fn field<'a>(a: &'a mut RunArgs, name: &str) -> Option<Field<'a>> {
    use Field::*;
    Some(match name {
        "unshare-all" => Switch(&mut a.unshare_all),
        "unshare-cgroup" => Switch(&mut a.unshare_cgroup),
        "unshare-ipc" => Switch(&mut a.unshare_ipc),
        "unshare-network" => Switch(&mut a.unshare_network),
        "unshare-uts" => Switch(&mut a.unshare_uts),
        "rootdir" => Once(&mut a.rootdir),
        "rootfs" => Once(&mut a.rootfs),
        "bindmount-ro" => Texts(&mut a.bindmount_ro),
        "bindmount-rw" => Texts(&mut a.bindmount_rw),
        "dev-bind" => Texts(&mut a.dev_bind),
        "devfs" => Paths(&mut a.devfs),
        "tmpfs" => Paths(&mut a.tmpfs),
        "dir" => Paths(&mut a.dir),
        "symlink" => Texts(&mut a.symlink),
        "userns" => Once(&mut a.userns),
        "uidmap" => Texts(&mut a.uidmap),
        "gidmap" => Texts(&mut a.gidmap),
        "user" => Once(&mut a.user),
        "hostname" => Once(&mut a.hostname),
        "network" => Once(&mut a.network),
        "setenv" => Texts(&mut a.setenv),
        "workdir" => Once(&mut a.workdir),
        "limit-as" => Once(&mut a.limit_as),
        "limit-core" => Once(&mut a.limit_core),
        "limit-cpu" => Once(&mut a.limit_cpu),
        "limit-fsize" => Once(&mut a.limit_fsize),
        "limit-nofile" => Once(&mut a.limit_nofile),
        "limit-nproc" => Once(&mut a.limit_nproc),
        "limit-walltime" => Once(&mut a.limit_walltime),
        "landlock-restrict" => Once(&mut a.landlock_restrict),
        "landlock-restrict-all" => Switch(&mut a.landlock_restrict_all),
        "landlock-restrict-fs" => Switch(&mut a.landlock_restrict_fs),
        "landlock-restrict-tcp-bind" => Switch(&mut a.landlock_restrict_tcp_bind),
        "landlock-restrict-tcp-connect" => Switch(&mut a.landlock_restrict_tcp_connect),
        "landlock-fs-ro" => Texts(&mut a.landlock_fs_ro),
        "landlock-fs-rw" => Texts(&mut a.landlock_fs_rw),
        "landlock-fs-rx" => Texts(&mut a.landlock_fs_rx),
        "landlock-tcp-bind" => Texts(&mut a.landlock_tcp_bind),
        "landlock-tcp-connect" => Texts(&mut a.landlock_tcp_connect),
        "seccomp" => Once(&mut a.seccomp),
        "allow-new-privs" => Switch(&mut a.allow_new_privs),
        "allow-setid" => Switch(&mut a.allow_setid),
        "no-init" => Switch(&mut a.no_init),
        "no-pty" => Switch(&mut a.no_pty),
        "cap-add" => Texts(&mut a.cap_add),
        "cap-drop" => Texts(&mut a.cap_drop),
        "config" => Once(&mut a.config),
        "print-config" | "dry-run" => Switch(&mut a.print_config),
        "json-status" => Once(&mut a.json_status),
        "json-schema" => Switch(&mut a.json_schema),
        _ => return None,
    })
}

/// `hakoniwa --version` (or `-V`) alone: the text clap prints for it.
pub fn version(args: impl IntoIterator<Item = OsString>) -> Option<String> {
    let mut args = args.into_iter();
    let first = args.next()?;
    (args.next().is_none() && (first == "--version" || first == "-V"))
        .then(|| format!("hakoniwa {}\n", crate::cli::VERSION))
}

/// The long name of a short flag of `run` that takes a value.
fn short_name(arg: &str) -> Option<&'static str> {
    Some(match arg {
        "-b" => "bindmount-ro",
        "-B" => "bindmount-rw",
        "-u" => "uidmap",
        "-g" => "gidmap",
        "-e" => "setenv",
        "-w" => "workdir",
        "-c" => "config",
        _ => return None,
    })
}

/// The [`Cli`] clap would read from `args` (without the program name), or `None` when the
/// line is not one read here.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Option<Cli> {
    let mut args = args
        .into_iter()
        .map(|a| a.into_string().ok())
        .collect::<Option<Vec<String>>>()?
        .into_iter();
    if args.next()? != "run" {
        return None;
    }
    let mut run = RunArgs::default();
    let (mut verbose, mut quiet) = (0u8, false);
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        let (name, inline) = match arg.strip_prefix("--") {
            Some(long) => match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            },
            None => match arg.as_str() {
                "-v" | "-vv" | "-vvv" => {
                    verbose = verbose.checked_add(arg.len() as u8 - 1)?;
                    continue;
                }
                "-q" => ("quiet", None),
                // A short flag with its value as the next argument (`-b /opt`).
                _ if arg.starts_with('-') => (short_name(&arg)?, None),
                // The program: it and every argument after it are its command line.
                _ => {
                    run.argv.push(arg);
                    break;
                }
            },
        };
        match name {
            "verbose" if inline.is_none() => verbose = verbose.checked_add(1)?,
            "quiet" if inline.is_none() && !quiet => quiet = true,
            _ => {
                let value = |inline: Option<String>, args: &mut std::vec::IntoIter<String>| {
                    let v = match inline {
                        Some(v) => v,
                        None => args.next()?,
                    };
                    (!v.is_empty() && !v.starts_with('-')).then_some(v)
                };
                match field(&mut run, name)? {
                    Field::Switch(on) if inline.is_none() && !*on => *on = true,
                    Field::Switch(_) => return None,
                    Field::Once(slot) if slot.is_none() => {
                        let v = value(inline, &mut args)?;
                        // The only value clap accepts for --userns.
                        if name == "userns" && v != "auto" {
                            return None;
                        }
                        *slot = Some(v);
                    }
                    Field::Once(_) => return None,
                    Field::Texts(list) => list.push(value(inline, &mut args)?),
                    Field::Paths(list) => list.push(value(inline, &mut args)?.into()),
                }
            }
        }
    }
    if quiet && verbose > 0 {
        return None; // clap's conflict error
    }
    run.argv.extend(args);
    Some(Cli {
        command: Commands::Run(Box::new(run)),
        verbose,
        quiet,
    })
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// clap's reading of `args`, as text, or `None` for an error.
    fn by_clap(args: &[&str]) -> Option<String> {
        let argv = std::iter::once("hakoniwa").chain(args.iter().copied());
        Cli::try_parse_from(argv).ok().map(|c| format!("{c:?}"))
    }

    fn quick(args: &[&str]) -> Option<String> {
        parse(args.iter().map(OsString::from)).map(|c| format!("{c:?}"))
    }

    /// Every long flag of `run` clap knows, with whether it takes a value.
    fn run_flags() -> Vec<(String, bool)> {
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap().clone();
        let mut flags = Vec::new();
        for a in run.get_arguments() {
            let takes = a.get_action().takes_values();
            for l in a
                .get_long()
                .into_iter()
                .chain(a.get_all_aliases().unwrap_or_default())
            {
                flags.push((l.to_string(), takes));
            }
        }
        flags
    }

    /// Command lines built around each flag of `run`, in every spelling and misuse.
    fn generated_lines() -> Vec<Vec<String>> {
        let tails: [&[&str]; 5] = [
            &[],
            &["--", "/bin/echo", "a b", "--x"],
            &["prog", "--unshare-all", "-v", "--"],
            &["--"],
            &["-v", "prog"],
        ];
        let mut lines = Vec::new();
        let shorts = ["-b", "-B", "-u", "-g", "-e", "-w", "-c", "-v", "-q", "-x"];
        let names = run_flags().into_iter().map(|(f, _)| format!("--{f}"));
        for f in names.chain(shorts.map(String::from)) {
            let uses: [Vec<String>; 11] = [
                vec![f.clone()],
                vec![f.clone(), "auto".into()],
                vec![f.clone(), "/x:y".into()],
                vec![format!("{f}=v w")],
                vec![format!("{f}=")],
                vec![f.clone(), String::new()],
                vec![f.clone(), "-x".into()],
                vec![f.clone(), "7".into(), f.clone(), "8".into()],
                vec![f.clone(), f.clone()],
                vec![format!("{f}=auto"), "--no-pty".into()],
                vec![f.clone(), "ünï cödé".into(), "-q".into()],
            ];
            for used in uses {
                for tail in tails {
                    let mut line = vec!["run".to_string()];
                    line.extend(used.iter().cloned());
                    line.extend(tail.iter().map(|s| s.to_string()));
                    lines.push(line);
                }
            }
        }
        lines
    }

    #[test]
    fn every_line_read_quickly_is_read_by_clap_the_same_way() {
        let mut read = 0;
        let mut extra: Vec<Vec<String>> = [
            &["run"][..],
            &["run", "--"],
            &["run", "-v", "-vv", "--verbose", "true"],
            &["run", "-q", "-v", "true"],
            &["run", "-q", "-q"],
            &["run", "--quiet", "--quiet"],
            &["run", "--verbose=1"],
            &["run", "-b", "/x", "true"],
            &["run", "--help"],
            &["run", "--version"],
            &["run", "-"],
            &["run", "--unshare", "true"],
            &["run", "--json-status-fd", "3"],
            &["run", "--json-status", "x", "--json-status-fd", "3"],
            &["-v", "run", "true"],
            &["doctor"],
            &["run", "--userns", "other"],
        ]
        .iter()
        .map(|l| l.iter().map(|s| s.to_string()).collect())
        .collect();
        extra.extend(generated_lines());
        for line in &extra {
            let line: Vec<&str> = line.iter().map(String::as_str).collect();
            if let Some(q) = quick(&line) {
                read += 1;
                assert_eq!(Some(q), by_clap(&line), "{line:?}");
            }
        }
        assert!(read > 500, "only {read} lines read quickly");
    }

    #[test]
    fn common_run_lines_are_read_quickly() {
        for line in [
            &["run", "--", "/bin/true"][..],
            &["run", "/bin/true"],
            &["run", "--seccomp", "unconfined", "--", "/bin/true"],
            &[
                "run",
                "--unshare-all",
                "--devfs",
                "/dev",
                "--tmpfs",
                "/tmp",
                "--",
                "sh",
            ],
            &[
                "run",
                "-v",
                "--network=pasta:-t,8080",
                "--",
                "sh",
                "-c",
                "x",
            ],
            &["run", "--setenv", "A=1", "--setenv", "B", "--dry-run"],
            &[
                "run", "-b", "/opt", "-B", "/tmp", "-e", "TERM", "-w", ":/tmp", "--", "ls",
            ],
        ] {
            assert!(quick(line).is_some(), "{line:?}");
            assert_eq!(quick(line), by_clap(line), "{line:?}");
        }
    }

    #[test]
    fn every_flag_read_quickly_is_a_run_flag_of_clap_of_the_same_kind() {
        let flags = run_flags();
        let mut a = RunArgs::default();
        let mut names = 0;
        for (flag, takes) in &flags {
            if let Some(f) = field(&mut a, flag) {
                names += 1;
                let switch = matches!(f, Field::Switch(_));
                assert_eq!(switch, !takes, "--{flag}");
            }
        }
        assert!(names >= 50, "{names} flags read quickly");
        let cmd = Cli::command();
        let run = cmd.find_subcommand("run").unwrap();
        for short in ["-b", "-B", "-u", "-g", "-e", "-w", "-c"] {
            let c = short.chars().nth(1).unwrap();
            let arg = run.get_arguments().find(|a| a.get_short() == Some(c));
            let long = arg.and_then(|a| a.get_long());
            assert_eq!(long, short_name(short), "{short}");
            assert!(arg.unwrap().get_action().takes_values(), "{short}");
        }
    }

    #[test]
    fn the_version_is_printed_as_clap_prints_it() {
        let cmd = Cli::command();
        let clap = cmd.render_version().to_string();
        for flag in ["--version", "-V"] {
            assert_eq!(version([OsString::from(flag)]), Some(clap.clone()));
            let err = Cli::try_parse_from(["hakoniwa", flag]).unwrap_err();
            assert_eq!(err.kind(), clap::error::ErrorKind::DisplayVersion);
            assert_eq!(err.to_string(), clap);
        }
        assert_eq!(version(["run", "--version"].map(OsString::from)), None);
        assert_eq!(version(["--version", "x"].map(OsString::from)), None);
    }
}
