//! `lanner run`: evaluate rules against audit log files or stdin.
//!
//! Streams: one line at a time, never a whole file. Alerts go to stdout in
//! input order; problems with input lines go to stderr as `file:line:
//! reason` and the run goes on; the summary goes to stderr at the end.

use std::collections::BTreeMap;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use lanner_audit::{LineError, decode_payload, open_input};
use lanner_engine::{Alert, Engine, Options, RuleMatching};

use crate::cli::{Format, Matching, RunArgs};
use crate::cmd::rules;

/// Counts for the end-of-run summary.
#[derive(Default)]
struct Summary {
    events: u64,
    bytes: u64,
    rejected: u64,
    alerts_by_rule: BTreeMap<usize, u64>,
    unreadable_inputs: u64,
}

pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    let loaded = rules::load(&args.rules);
    rules::print_diagnostics(&loaded, Format::Text, false)?;
    if loaded.diagnostics.has_errors() {
        eprintln!(
            "lanner: rules failed to load ({} errors); run `lanner validate` for details",
            loaded.diagnostics.error_count()
        );
        return Ok(ExitCode::from(1));
    }
    let options = Options {
        rule_matching: match args.rule_matching {
            Matching::First => RuleMatching::First,
            Matching::All => RuleMatching::All,
        },
        min_priority: args.min_priority,
        disabled_rules: args.disable_rule.clone(),
        disabled_tags: args.disable_tag.clone(),
        enabled_tags: args.enable_tag.clone(),
        included_tags: args.include_tag.clone(),
        include_disabled: false,
    };
    let engine = Engine::new(&loaded.ruleset, &options)?;
    let inputs = if args.inputs.is_empty() {
        vec![PathBuf::from("-")]
    } else {
        args.inputs.clone()
    };
    let started = Instant::now();
    let mut summary = Summary::default();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    for input in &inputs {
        match process_input(input, &engine, args.format, &mut out, &mut summary) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
            Err(e) => {
                eprintln!("lanner: {}: {e}", display(input));
                summary.unreadable_inputs += 1;
            }
        }
    }
    match out.flush() {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(ExitCode::SUCCESS),
        other => other?,
    }
    if !args.quiet {
        print_summary(&engine, &summary, started.elapsed().as_secs_f64());
    }
    Ok(if summary.unreadable_inputs > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn display(path: &Path) -> String {
    if path == Path::new("-") { "<stdin>".to_owned() } else { path.display().to_string() }
}

fn process_input(
    input: &Path,
    engine: &Engine,
    format: Format,
    out: &mut impl Write,
    summary: &mut Summary,
) -> io::Result<()> {
    let name = display(input);
    let mut reader = open_input(input)?;
    let mut alerts: Vec<Alert> = Vec::new();
    while let Some(line) = reader.next_line() {
        let (number, bytes) = match line {
            Ok(line) => line,
            Err(LineError::Io { source, .. }) => return Err(source),
            Err(e) => {
                eprintln!("{name}:{}: {e}", e.line());
                summary.rejected += 1;
                continue;
            }
        };
        summary.bytes += bytes.len() as u64 + 1;
        let events = match decode_payload(bytes, summary.events + 1) {
            Ok(events) => events,
            Err(e) => {
                eprintln!("{name}:{number}: {e}");
                summary.rejected += 1;
                continue;
            }
        };
        for event in events {
            let event = match event {
                Ok(event) => event,
                Err(e) => {
                    eprintln!("{name}:{number}: {e}");
                    summary.rejected += 1;
                    continue;
                }
            };
            summary.events += 1;
            alerts.clear();
            engine.process(&event, &mut alerts);
            for alert in &alerts {
                *summary.alerts_by_rule.entry(alert.rule).or_default() += 1;
                let line = match format {
                    Format::Text => engine.render_text(alert),
                    Format::Json => engine.render_json(alert),
                };
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

fn print_summary(engine: &Engine, summary: &Summary, seconds: f64) {
    let total: u64 = summary.alerts_by_rule.values().sum();
    let rate = if seconds > 0.0 { summary.events as f64 / seconds } else { 0.0 };
    let mb = summary.bytes as f64 / 1e6;
    eprintln!(
        "lanner: {} events, {} rejected lines, {total} alerts in {seconds:.3}s ({rate:.0} events/s, {:.1} MB/s)",
        summary.events,
        summary.rejected,
        if seconds > 0.0 { mb / seconds } else { 0.0 }
    );
    let mut by_priority: BTreeMap<lanner_rules::Priority, u64> = BTreeMap::new();
    for (&rule, &count) in &summary.alerts_by_rule {
        let rule = &engine.rules()[rule].rule;
        *by_priority.entry(rule.priority).or_default() += count;
        eprintln!("  {count:>8}  {}", rule.name);
    }
    if !by_priority.is_empty() {
        let parts: Vec<String> = by_priority.iter().map(|(p, c)| format!("{p}: {c}")).collect();
        eprintln!("  by priority: {}", parts.join(", "));
    }
}
