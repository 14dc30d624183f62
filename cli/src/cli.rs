//! Command-line definitions (clap derive). The flag names follow upstream hakoniwa 1.x.

use std::path::PathBuf;

use clap::builder::{PossibleValue, TypedValueParser};
use clap::{ArgAction, Args, Parser, Subcommand};

/// `--version`: the crate version and the git commit it was built from (see build.rs).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (git ",
    env!("HAKONIWA_GIT_COMMIT"),
    ")"
);

/// A free-form string whose common values shell completions offer (`--network pasta:...`
/// accepts more than its completions list, so clap must not reject other values; `run`
/// validates them and names the flag).
#[derive(Clone, Copy)]
pub struct Suggest(&'static [(&'static str, &'static str)]);

impl TypedValueParser for Suggest {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0
                .iter()
                .map(|(v, help)| PossibleValue::new(*v).help(*help)),
        ))
    }
}

const NETWORK_VALUES: Suggest = Suggest(&[
    ("none", "a new network namespace with lo up"),
    ("host", "the host's network"),
    (
        "pasta",
        "a new namespace connected through pasta (pasta:OPT,... passes options)",
    ),
]);
const SECCOMP_VALUES: Suggest = Suggest(&[
    ("podman", "the built-in profile with Podman's decisions"),
    ("audit", "log instead of blocking"),
    ("unconfined", "no filter"),
]);
const LANDLOCK_VALUES: Suggest = Suggest(&[
    ("fs", "file system access"),
    ("tcp.bind", "binding TCP ports"),
    ("tcp.connect", "connecting to TCP ports"),
    (
        "unix.abstract",
        "abstract UNIX sockets bound outside the sandbox",
    ),
    ("signal", "signals to processes outside the sandbox"),
]);

/// Run programs in a Linux sandbox built from namespaces, mounts and limits.
#[derive(Debug, Parser)]
#[command(name = "hakoniwa", version = VERSION, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Commands,
    /// Log each step to stderr (-v debug, -vv trace); before or after the subcommand
    #[arg(short = 'v', long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Print no messages of hakoniwa's own, only errors
    #[arg(short = 'q', long, conflicts_with = "verbose", global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Commands {
    /// Run a command in a sandbox
    Run(Box<RunArgs>),
    /// Check what this host supports (user namespaces, landlock, pasta, id maps, ...)
    Doctor {
        /// Print the result as JSON
        #[arg(long)]
        json: bool,
    },
    /// List the profiles `run -c NAME` finds, with where each comes from
    Profiles,
    /// Print a shell completion script
    Completion {
        /// The shell
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of hakoniwa or of one subcommand
    Man {
        /// Subcommand (run, doctor, completion)
        subcommand: Option<String>,
    },
}

#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Create new CGROUP, IPC, NETWORK and UTS namespaces as well
    #[arg(long)]
    pub unshare_all: bool,
    /// Create a new CGROUP namespace
    #[arg(long)]
    pub unshare_cgroup: bool,
    /// Create a new IPC namespace
    #[arg(long)]
    pub unshare_ipc: bool,
    /// Create a new NETWORK namespace
    #[arg(long)]
    pub unshare_network: bool,
    /// Create a new UTS namespace
    #[arg(long)]
    pub unshare_uts: bool,

    /// Use a host directory as the root (read-only unless `:rw`)
    #[arg(long, value_name = "DIR[:rw]")]
    pub rootdir: Option<String>,
    /// Populate the root from a directory's top-level entries, or `none` [default: /]
    #[arg(long, value_name = "PATH|none")]
    pub rootfs: Option<String>,
    /// Bind mount a host path read-only
    #[arg(short = 'b', long, value_name = "HOST[:CONTAINER]")]
    pub bindmount_ro: Vec<String>,
    /// Bind mount a host path read-write
    #[arg(short = 'B', long, value_name = "HOST[:CONTAINER]")]
    pub bindmount_rw: Vec<String>,
    /// DANGEROUS: bind mount a host path read-write with device access
    ///
    /// Every other bind (and --rootdir) is `nodev`: device nodes below it cannot be opened.
    /// This one keeps them usable, so the program can read and write the host devices it
    /// finds there with your permissions (disks, loop devices, input devices, terminals,
    /// /dev/kvm). Bind single nodes you need, not /dev; --devfs is enough for most programs.
    #[arg(long, value_name = "HOST[:CONTAINER]")]
    pub dev_bind: Vec<String>,
    /// Mount a minimal devfs
    #[arg(long, value_name = "PATH")]
    pub devfs: Vec<PathBuf>,
    /// Mount a new tmpfs
    #[arg(long, value_name = "PATH")]
    pub tmpfs: Vec<PathBuf>,
    /// Create a directory (mode 0700)
    #[arg(long, value_name = "PATH")]
    pub dir: Vec<PathBuf>,
    /// Create a symbolic link LINK pointing to ORIGINAL
    #[arg(long, value_name = "ORIGINAL:LINK")]
    pub symlink: Vec<String>,

    /// Map root to the caller and 1.. to the caller's /etc/subuid and /etc/subgid range
    #[arg(long, value_name = "auto", value_parser = ["auto"])]
    pub userns: Option<String>,
    /// Map uids: CONTAINER[:HOST[:COUNT]] (HOST defaults to the caller's uid, COUNT to 1)
    #[arg(short = 'u', long, value_name = "C[:H[:N]]")]
    pub uidmap: Vec<String>,
    /// Map gids: CONTAINER[:HOST[:COUNT]] (HOST defaults to the caller's gid, COUNT to 1)
    #[arg(short = 'g', long, value_name = "C[:H[:N]]")]
    pub gidmap: Vec<String>,
    /// Run as a user (and groups) of the sandbox's own /etc/passwd and /etc/group; the ids must be mapped
    #[arg(long, value_name = "USER[:GROUP[:SUPP,...]]")]
    pub user: Option<String>,
    /// Set the host name (implies --unshare-uts)
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Network mode: none (new namespace), host (share it), pasta[:OPT,...]
    #[arg(long, value_name = "none|host|pasta[:OPT,...]", value_parser = NETWORK_VALUES, hide_possible_values = true)]
    pub network: Option<String>,

    /// Set an environment variable; a bare NAME copies the host's value
    #[arg(short = 'e', long, value_name = "NAME=VALUE|NAME|NAME=")]
    pub setenv: Vec<String>,
    /// Bind HOST_PATH read-write at the same path and change to it; `:PATH` only changes to it
    #[arg(short = 'w', long, value_name = "HOST_PATH|:CONTAINER_PATH")]
    pub workdir: Option<String>,

    /// Limit the address space (bytes; K, M, G suffixes)
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true)]
    pub limit_as: Option<String>,
    /// Limit core dump size (bytes; K, M, G suffixes)
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true)]
    pub limit_core: Option<String>,
    /// Limit CPU time (seconds)
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub limit_cpu: Option<String>,
    /// Limit the size of written files (bytes; K, M, G suffixes)
    #[arg(long, value_name = "SIZE", allow_negative_numbers = true)]
    pub limit_fsize: Option<String>,
    /// Limit open files
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub limit_nofile: Option<String>,
    /// Limit processes
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub limit_nproc: Option<String>,
    /// Limit wall-clock time (seconds, fractions allowed); the sandbox is killed on expiry
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub limit_walltime: Option<String>,

    /// Restrict with landlock: fs, tcp.bind, tcp.connect, unix.abstract, signal (comma separated)
    #[arg(long, value_name = "RESOURCES", value_parser = LANDLOCK_VALUES, hide_possible_values = true)]
    pub landlock_restrict: Option<String>,
    /// Restrict fs, tcp.bind and tcp.connect (the original's spelling)
    #[arg(long)]
    pub landlock_restrict_all: bool,
    /// Restrict fs (the original's spelling of `--landlock-restrict fs`)
    #[arg(long)]
    pub landlock_restrict_fs: bool,
    /// Restrict tcp.bind (the original's spelling)
    #[arg(long)]
    pub landlock_restrict_tcp_bind: bool,
    /// Restrict tcp.connect (the original's spelling)
    #[arg(long)]
    pub landlock_restrict_tcp_connect: bool,
    /// Allow reading these paths (`,` or `:` separated; implies restricting fs)
    #[arg(long, value_name = "PATHS")]
    pub landlock_fs_ro: Vec<String>,
    /// Allow reading and writing these paths (implies restricting fs)
    #[arg(long, value_name = "PATHS")]
    pub landlock_fs_rw: Vec<String>,
    /// Allow reading and executing these paths (implies restricting fs)
    #[arg(long, value_name = "PATHS")]
    pub landlock_fs_rx: Vec<String>,
    /// Allow binding these TCP ports (implies restricting tcp.bind)
    #[arg(long, value_name = "PORTS")]
    pub landlock_tcp_bind: Vec<String>,
    /// Allow connecting to these TCP ports (implies restricting tcp.connect)
    #[arg(long, value_name = "PORTS")]
    pub landlock_tcp_connect: Vec<String>,
    /// Seccomp profile: podman (default), audit, unconfined, or an OCI JSON file
    #[arg(long, value_name = "podman|audit|unconfined|FILE", value_parser = SECCOMP_VALUES, hide_possible_values = true)]
    pub seccomp: Option<String>,

    /// Do not set no_new_privs (setuid programs work)
    #[arg(long)]
    pub allow_new_privs: bool,
    /// Let a sandbox that holds host root's ids create set-id files and file capabilities
    /// (by default denied: such files in a read-write bind make any host user root)
    #[arg(long)]
    pub allow_setid: bool,
    /// Run the program as PID 1 instead of under hakoniwa's init (the original layout; the
    /// program then ignores signals it has no handler for and does not reap orphans)
    #[arg(long)]
    pub no_init: bool,
    /// With a terminal on stdin, give the program that terminal itself instead of a
    /// pseudo-terminal of its own relayed by hakoniwa (less safe: a sandbox process can then
    /// read what you type to your shell while hakoniwa is stopped or in the background)
    #[arg(long)]
    pub no_pty: bool,
    /// Give a uid-0 program a capability beyond the default set (e.g. SYS_ADMIN); repeatable
    #[arg(long, value_name = "NAME")]
    pub cap_add: Vec<String>,
    /// Take a capability from a uid-0 program (NAME or ALL); repeatable
    #[arg(long, value_name = "NAME|ALL")]
    pub cap_drop: Vec<String>,
    /// Load a profile: a FILE, a NAME (see `hakoniwa profiles`), or `-` for standard input
    #[arg(short = 'c', long, value_name = "FILE|NAME|-")]
    pub config: Option<String>,
    /// Print the resolved sandbox as a profile and exit without running it
    #[arg(long, visible_alias = "dry-run")]
    pub print_config: bool,
    /// `-v` count, set from the global flag (`hakoniwa -v run` and `hakoniwa run -v` alike).
    #[arg(skip)]
    pub verbose: u8,
    /// `-q`, set from the global flag.
    #[arg(skip)]
    pub quiet: bool,
    /// Write the exit status as JSON to FILE, or to stdout with `-` (shared with the
    /// program: for programs that write nothing). FILE is opened before the program runs:
    /// created, or truncated only if it is a regular file you own; never through a symlink
    #[arg(long, value_name = "FILE|-", conflicts_with = "json_status_fd")]
    pub json_status: Option<String>,
    /// Write the exit status as JSON to the open file descriptor N
    #[arg(long, value_name = "N")]
    pub json_status_fd: Option<i32>,
    /// Print the JSON Schema of the --json-status document and exit
    #[arg(long)]
    pub json_schema: bool,

    /// The command and its arguments [default: /bin/sh]
    #[arg(trailing_var_arg = true, value_name = "COMMAND")]
    pub argv: Vec<String>,
}
