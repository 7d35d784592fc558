//! Loading rules for a command: the given paths, or the built-in ruleset,
//! and printing the diagnostics.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;

use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use lanner_rules::{Loaded, Loader, Severity};

use crate::cli::Format;

/// Lanner's default ruleset: every `rules/*.yaml`, embedded at build time
/// in name order (see `build.rs`).
pub const BUILTIN: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));

/// Loads `paths` in order, or the built-in rules when there are none.
pub fn load(paths: &[PathBuf]) -> Loaded {
    let mut loader = Loader::new();
    if paths.is_empty() {
        for (name, text) in BUILTIN {
            loader.add_source(*name, *text);
        }
    } else {
        for path in paths {
            loader.add_path(path);
        }
    }
    loader.finish()
}

/// Prints diagnostics to stderr (text) or stdout (JSON).
pub fn print_diagnostics(loaded: &Loaded, format: Format, warnings: bool) -> anyhow::Result<()> {
    let shown = loaded
        .diagnostics
        .items()
        .iter()
        .filter(|d| warnings || d.severity() == Severity::Error);
    match format {
        Format::Json => {
            let items: Vec<_> = shown.map(|d| d.to_json(&loaded.sources)).collect();
            let doc = serde_json::json!({
                "errors": loaded.diagnostics.error_count(),
                "warnings": loaded.diagnostics.warning_count(),
                "diagnostics": items,
            });
            let mut out = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut out, &doc)?;
            writeln!(out)?;
        }
        Format::Text => {
            let choice = if std::io::stderr().is_terminal() {
                ColorChoice::Auto
            } else {
                ColorChoice::Never
            };
            let mut stream = StandardStream::stderr(choice);
            for d in shown {
                d.render_to(&loaded.sources, &mut stream)?;
            }
        }
    }
    Ok(())
}
