//! `lanner serve`: the audit webhook receiver (placeholder until the server lands).

use std::process::ExitCode;

/// Arguments of `lanner serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub fn run(_args: &ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`lanner serve` is not built yet")
}
