//! One module per subcommand.

mod explain;
mod fields;
mod list;
mod rules;
mod run;
pub mod serve;
mod test;
mod validate;

use std::process::ExitCode;

use crate::cli::{Cli, Command};

/// Runs the chosen subcommand.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Explain {
            rules,
            rule,
            event,
            event_number,
        } => explain::run(&rules, &rule, &event, event_number),
        Command::Test {
            rules,
            paths,
            verbose,
        } => test::run(&rules, &paths, verbose),
        Command::Validate { rules, format } => validate::run(&rules, format),
        Command::List { rules, format } => list::run(&rules, format),
        Command::Fields { format } => fields::run(format),
    }
}
