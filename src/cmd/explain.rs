//! `lanner explain`: why a rule fires or not on one event.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use lanner_audit::{Event, decode_payload, open_input};
use lanner_engine::explain;

use crate::cli::Format;
use crate::cmd::rules;

pub fn run(
    rule_paths: &[PathBuf],
    name: &str,
    input: &Path,
    number: u64,
) -> anyhow::Result<ExitCode> {
    let loaded = rules::load(rule_paths);
    rules::print_diagnostics(&loaded, Format::Text, false)?;
    if loaded.diagnostics.has_errors() {
        eprintln!("lanner: rules failed to load; run `lanner validate` for details");
        return Ok(ExitCode::from(1));
    }
    let Some(rule) = loaded.ruleset.rules.iter().find(|r| r.name == name) else {
        let names: Vec<&str> = loaded
            .ruleset
            .rules
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        let close = names
            .iter()
            .filter(|n| n.to_lowercase().contains(&name.to_lowercase()))
            .take(5)
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>();
        if close.is_empty() {
            bail!("no rule named `{name}` is loaded (`lanner list` shows them)");
        }
        bail!(
            "no rule named `{name}` is loaded; did you mean {}?",
            close.join(", ")
        );
    };
    let event = nth_event(input, number)?;
    let explained = explain::explain(rule, &event)?;
    print!("{}", explain::render(rule, &explained));
    Ok(ExitCode::SUCCESS)
}

fn nth_event(input: &Path, number: u64) -> anyhow::Result<Event> {
    let mut reader =
        open_input(input).with_context(|| format!("cannot read {}", input.display()))?;
    let mut seen = 0;
    while let Some(line) = reader.next_line() {
        let (line_number, bytes) = line?;
        let events = decode_payload(bytes, seen + 1)
            .with_context(|| format!("{}:{line_number}", input.display()))?;
        for event in events {
            let event = event.with_context(|| format!("{}:{line_number}", input.display()))?;
            seen += 1;
            if seen == number {
                return Ok(event);
            }
        }
    }
    bail!("{} has {seen} events, not {number}", input.display())
}
