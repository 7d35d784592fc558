//! `lanner validate`: load rules files and report every problem.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::Format;
use crate::cmd::rules;

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let loaded = rules::load(paths);
    rules::print_diagnostics(&loaded, format, true)?;
    let errors = loaded.diagnostics.error_count();
    let warnings = loaded.diagnostics.warning_count();
    if format == Format::Text {
        let verdict = if errors == 0 { "ok" } else { "invalid" };
        eprintln!(
            "{verdict}: {errors} error{}, {warnings} warning{}; {} k8s_audit rule{} loaded",
            plural(errors),
            plural(warnings),
            loaded.ruleset.rules.len(),
            plural(loaded.ruleset.rules.len())
        );
    }
    Ok(if errors == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
