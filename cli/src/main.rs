//! `hakoniwa`: the command-line front end of the hakoniwa sandbox engine.

mod arena;
mod cli;
mod config;
mod confine;
mod death;
mod default_env;
mod doctor;
mod exit_code;
mod host_file;
mod json_status;
mod lookup;
mod man;
mod network_error;
mod print_config;
mod printable;
mod profiles;
mod pty;
mod quick_args;
mod relay;
mod run;
mod settings;
mod signals;
mod slim;
mod strerror;
mod verbose;

use std::io::Write;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Commands};

/// Start-up's many small blocks come from one region (see arena.rs).
#[global_allocator]
static HEAP: arena::Arena = arena::Arena::new();

/// Writes `[hakoniwa] message` lines to stderr.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            // (Raw mode while a pseudo-terminal is relayed: see pty.rs.)
            let end = crate::pty::stderr_line_end();
            let _ = write!(std::io::stderr().lock(), "[hakoniwa] {}{end}", r.args());
        }
    }

    fn flush(&self) {}
}

static LOGGER: Logger = Logger;

fn init_logger(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => log::LevelFilter::Error,
        (false, 0) => log::LevelFilter::Warn,
        (false, 1) => log::LevelFilter::Debug,
        (false, _) => log::LevelFilter::Trace,
    };
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

fn main() {
    // Plain `run` lines and `--version` skip building clap's tree (see quick_args.rs).
    if let Some(v) = quick_args::version(std::env::args_os().skip(1)) {
        // As clap: a closed stdout is not an error.
        let _ = std::io::stdout().write_all(v.as_bytes());
        std::process::exit(0);
    }
    let quick = quick_args::parse(std::env::args_os().skip(1));
    let cli = match quick.map_or_else(Cli::try_parse, Ok) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { exit_code::USAGE } else { 0 });
        }
    };
    let code = match cli.command {
        Commands::Run(mut args) => {
            args.verbose = cli.verbose;
            args.quiet = cli.quiet;
            init_logger(args.verbose, args.quiet);
            run::main(&args)
        }
        Commands::Doctor { json } => doctor::main(json),
        Commands::Profiles => profiles::main(),
        Commands::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "hakoniwa",
                &mut std::io::stdout(),
            );
            0
        }
        Commands::Man { subcommand } => man::main(subcommand.as_deref()),
    };
    signals::exit(code);
}
