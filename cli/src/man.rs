//! `hakoniwa man`: the manual page, from the clap definitions plus the sections clap cannot
//! derive (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES, PROFILES).

use std::io::Write;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::exit_code;

/// The examples, one command per line with an optional `# comment`; the README's
/// "Command line" block has the same lines (a test checks it).
pub const EXAMPLES: &str = include_str!("../examples.txt");

const EXIT_STATUS: &[(&str, &str)] = &[
    ("N", "the program exited with N (a program that itself exits 1, 125, 126 or 127 gives that code and no message)"),
    ("128+N", "the program was killed by signal N; hakoniwa names the signal, except SIGINT and SIGPIPE and with -q; for SIGINT and SIGQUIT hakoniwa then ends by the same signal, so an interactive shell stops a loop as for the program itself (137 for a wall-clock kill, with a message naming the limit; 159 for a seccomp kill, with the system call when the kernel log is readable)"),
    ("1", "something you wrote is wrong: a flag value, a profile, or a configuration the engine rejects (a bind target with .., --tmpfs /, an id map that overflows or overlaps, a relative landlock path, a malformed seccomp JSON file, a working directory that does not exist inside the sandbox)"),
    ("2", "command-line usage error (unknown flag, missing value)"),
    ("125", "the sandbox could not be set up for another reason: the message names the stage, the path and the errno, with a hint for known causes (user namespaces disabled, pasta failing or not installed, /dev/net/tun unusable)"),
    ("126", "the program was found but cannot be executed: not executable, denied (landlock), not a format the kernel runs, or its #! interpreter or ELF dynamic loader is missing inside the sandbox (the message names it)"),
    ("127", "the program was not found inside the sandbox, by name on the sandbox's PATH or by path"),
];

fn environment() -> String {
    format!(
        "The program's environment is clean: nothing of the caller's is passed except what -e/--setenv and a profile's envs ask for, and two defaults: PATH={} unless given, and TERM (the caller's value) when standard input is a terminal and TERM is set and not given. A program name without a slash is looked up on that PATH inside the sandbox, never on the host's.

hakoniwa itself reads PATH to find pasta, newuidmap and newgidmap, and TERM as above.",
        hakoniwa::DEFAULT_PATH
    )
}

const FILES: &str = "/etc/subuid, /etc/subgid: the caller's subordinate ranges (--userns auto).
/dev/net/tun: opened by pasta (--network pasta); it must be a character device others may read and write (mode 0666) for an unprivileged caller.
/dev/kmsg: read, when allowed (root, or kernel.dmesg_restrict = 0), to name the system call of a seccomp kill.
$XDG_CONFIG_HOME/hakoniwa/profiles (default ~/.config/hakoniwa/profiles), /etc/hakoniwa/profiles: profiles found by name (-c NAME), in this order, before the built-in ones.
cli/profiles/ in the source tree: the shipped profile abstractions and examples, built into the binary (see PROFILES).";

const PROFILES: &str = "-c FILE|NAME|- loads a profile: a TOML file rendered first as a minijinja template, in the original hakoniwa's format (its profiles load unchanged) plus our keys. A NAME is looked up in the directories under FILES, then among the built-in profiles (hakoniwa profiles lists them with their source); - reads standard input. An argument starting with /, ./ or ../ is a file (also a pipe, as from <(...)); any other is a name, or a file in the current directory when no profile has that name; when it is both, that is an error (write ./NAME for the file), so a file in the directory one works in cannot stand in for a profile name. run --print-config (--dry-run) prints the resolved sandbox as a profile without running it. Flags are applied after the profile (lists are appended, single values override it), and -- COMMAND overrides its command. Keys: namespaces, mounts, filesystem, envs, network, landlock, rootdir, rootfs, uidmaps, gidmaps, userns, hostname, limits, seccomp, command, user, workdir, allow_new_privs; \"@include\" merges other profiles first. The format, the template functions and the shipped abstractions (base, devices, network, network-none, network-pasta, x11, wayland, dbus, audio) and examples (shell, offline, web-client) are described in docs/profiles.md.";

/// Escape text for roff: backslashes, hyphens (so they stay ASCII), and a leading dot or quote.
fn roff(text: &str) -> String {
    let t = text.replace('\\', "\\e").replace('-', "\\-");
    if t.starts_with('.') || t.starts_with('\'') {
        format!("\\&{t}")
    } else {
        t
    }
}

fn section(out: &mut Vec<u8>, name: &str, paragraphs: &str) {
    let _ = writeln!(out, ".SH {name}");
    for (i, p) in paragraphs.split("\n\n").enumerate() {
        if i > 0 {
            let _ = writeln!(out, ".PP");
        }
        for line in p.lines() {
            let _ = writeln!(out, "{}", roff(line));
            let _ = writeln!(out, ".br");
        }
    }
}

/// The extra sections, in roff.
fn extra_sections(out: &mut Vec<u8>) {
    let _ = writeln!(out, ".SH \"EXIT STATUS\"");
    for (code, what) in EXIT_STATUS {
        let _ = writeln!(out, ".TP\n\\fB{}\\fR\n{}", roff(code), roff(what));
    }
    section(out, "ENVIRONMENT", &environment());
    section(out, "FILES", FILES);
    let _ = writeln!(out, ".SH EXAMPLES\n.nf");
    for line in EXAMPLES.lines() {
        let _ = writeln!(out, "{}", roff(line));
    }
    let _ = writeln!(out, ".fi");
    section(out, "PROFILES", PROFILES);
}

/// Print the page of hakoniwa or of one subcommand; returns the exit code.
pub fn main(sub: Option<&str>) -> i32 {
    let mut cmd = Cli::command();
    cmd.build();
    let page = match sub {
        None => cmd,
        Some(name) => match cmd.find_subcommand(name) {
            Some(c) => c
                .clone()
                .name(String::leak(format!("hakoniwa-{name}")) as &str),
            None => {
                eprintln!("hakoniwa: no such subcommand: {name}");
                return exit_code::INVALID;
            }
        },
    };
    let has_subcommands = page.has_subcommands();
    let man = clap_mangen::Man::new(page);
    let mut out = Vec::new();
    let mut render = || -> std::io::Result<()> {
        man.render_title(&mut out)?;
        man.render_name_section(&mut out)?;
        man.render_synopsis_section(&mut out)?;
        man.render_description_section(&mut out)?;
        man.render_options_section(&mut out)?;
        if has_subcommands {
            man.render_subcommands_section(&mut out)?;
        }
        if matches!(sub, None | Some("run")) {
            extra_sections(&mut out);
        }
        man.render_version_section(&mut out)
    };
    if let Err(e) = render() {
        eprintln!("hakoniwa: man: {e}");
        return exit_code::INVALID;
    }
    let _ = std::io::stdout().write_all(&out);
    0
}
