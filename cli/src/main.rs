//! `hakoniwa`: the command-line front end of the hakoniwa sandbox engine.

mod cli;
mod config;
mod confine;
mod doctor;
mod exit_code;
mod json_status;
mod run;

use std::io::Write;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Commands};

/// Writes `[hakoniwa] message` lines to stderr.
struct Logger;

impl log::Log for Logger {
    fn enabled(&self, m: &log::Metadata) -> bool {
        m.level() <= log::max_level()
    }

    fn log(&self, r: &log::Record) {
        if self.enabled(r.metadata()) {
            let _ = writeln!(std::io::stderr().lock(), "[hakoniwa] {}", r.args());
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

fn man(sub: Option<&str>) -> i32 {
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
    let mut out = Vec::new();
    if let Err(e) = clap_mangen::Man::new(page).render(&mut out) {
        eprintln!("hakoniwa: man: {e}");
        return exit_code::INVALID;
    }
    let _ = std::io::stdout().write_all(&out);
    0
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            std::process::exit(if e.use_stderr() { exit_code::USAGE } else { 0 });
        }
    };
    let code = match cli.command {
        Commands::Run(args) => {
            init_logger(args.verbose, args.quiet);
            run::main(&args)
        }
        Commands::Doctor { json } => doctor::main(json),
        Commands::Completion { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "hakoniwa",
                &mut std::io::stdout(),
            );
            0
        }
        Commands::Man { subcommand } => man(subcommand.as_deref()),
    };
    std::process::exit(code);
}
