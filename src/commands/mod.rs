//! One operation per command; each is a thin wrapper that wires the desired,
//! observed, plan, apply and printer modules together.

pub mod apply;
pub mod check;
pub mod context;
pub mod diff;
pub mod generate;
pub mod import;
pub mod init;
pub mod login;
pub mod logout;
pub mod plan;
pub mod templates;

use crate::Outcome;
use crate::cli::{Cli, Command};
use crate::error::Result;
use crate::printer::{Printer, Verbosity};

/// Runs a parsed command line and returns the process exit code. Errors are
/// printed here, in one place, with their hints; every error exits 1.
pub fn run(cli: Cli) -> i32 {
    let verbosity = if cli.global.quiet {
        Verbosity::Quiet
    } else if cli.global.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let printer = Printer::new(cli.global.color, verbosity);
    match dispatch(cli, &printer) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => {
            printer.error(&err);
            1
        }
    }
}

/// Prints a clap error and returns the exit code: 0 for `--help` and
/// `--version`, 1 for a usage error (with a hint, like every other error).
pub fn usage_error(e: clap::Error) -> i32 {
    use clap::error::ErrorKind;
    match e.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                1
            } else {
                0
            }
        }
        _ => {
            let _ = e.print();
            crate::printer::to_stderr(
                "\nhint: run `moot --help`, or `moot <command> --help`, for usage",
            );
            1
        }
    }
}

fn dispatch(cli: Cli, printer: &Printer) -> Result<Outcome> {
    match cli.command {
        Command::Login(args) => login::run(args, printer),
        Command::Plan(args) => plan::run(&cli.global, args, printer),
        Command::Check(args) => check::run(&cli.global, &args, printer),
        Command::Import(args) => import::run(&args, &cli.global, printer),
        Command::Logout(args) => logout::run(&args, printer),
        Command::Diff(args) => diff::run(&cli.global, &args, printer),
        Command::Apply(args) => apply::run(&cli.global, args, printer),
        Command::Init(args) => init::run(&args, &cli.global, printer),
        Command::Templates => templates::run(printer),
        Command::Generate(target) => generate::run(&target, printer),
    }
}
