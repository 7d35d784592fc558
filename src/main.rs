//! `lanner`: a Falco-compatible detection engine for Kubernetes audit logs.
//!
//! Thin: parses the command line, calls the libraries, maps results to exit
//! codes. Exit status: 0 success; 1 rules failed to load or (for `validate`)
//! had errors; 2 bad usage or unreadable input.

mod cli;
mod cmd;
mod ruletest;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("lanner: {e:#}");
            ExitCode::from(2)
        }
    }
}
