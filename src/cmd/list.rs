//! `lanner list`: the rules the files define.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::Format;
use crate::cmd::rules;

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let loaded = rules::load(paths);
    rules::print_diagnostics(&loaded, Format::Text, false)?;
    let mut out = std::io::stdout().lock();
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &loaded.rules)?;
            writeln!(out)?;
        }
        Format::Text => {
            let width = loaded
                .rules
                .iter()
                .map(|r| r.name.len())
                .max()
                .unwrap_or(4)
                .max(4);
            writeln!(
                out,
                "{:<width$}  {:<13}  {:<9}  {:<7}  TAGS",
                "NAME", "PRIORITY", "SOURCE", "ENABLED"
            )?;
            for rule in &loaded.rules {
                writeln!(
                    out,
                    "{:<width$}  {:<13}  {:<9}  {:<7}  {}",
                    rule.name,
                    rule.priority.as_str(),
                    rule.source,
                    if rule.enabled { "yes" } else { "no" },
                    rule.tags.join(",")
                )?;
            }
        }
    }
    Ok(if loaded.diagnostics.has_errors() {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
