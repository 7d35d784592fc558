//! `lanner test`: run rule test files against the rules.
//!
//! Every rule runs (`rule_matching: all`, disabled rules included), so a
//! case checks its rule alone, whatever else fires. A failure says what
//! fired instead, or what the alert said.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use lanner_audit::decode_payload;
use lanner_engine::{Engine, Options, RuleMatching};

use crate::cli::Format;
use crate::cmd::rules;
use crate::ruletest::{self, Case};

pub fn run(rule_paths: &[PathBuf], paths: &[PathBuf], verbose: bool) -> anyhow::Result<ExitCode> {
    let mut rule_files = rule_paths.to_vec();
    let mut test_files = Vec::new();
    for path in paths {
        if rule_paths.is_empty() && path.is_dir() {
            rule_files.extend(ruletest::rules_files(path)?);
        }
        test_files.extend(ruletest::test_files(path)?);
    }
    let loaded = rules::load(&rule_files);
    rules::print_diagnostics(&loaded, Format::Text, false)?;
    if loaded.diagnostics.has_errors() {
        eprintln!("lanner: the rules under test failed to load");
        return Ok(ExitCode::from(1));
    }
    let options = Options {
        rule_matching: RuleMatching::All,
        include_disabled: true,
        ..Options::default()
    };
    let engine = Engine::new(&loaded.ruleset, &options)?;
    let mut totals = Totals::default();
    for file in &test_files {
        let suite = ruletest::read(file)?;
        for rule in &suite.rules {
            if !engine.rules().iter().any(|r| r.rule.name == rule.rule) {
                println!(
                    "FAIL {} ({}): no such rule is loaded",
                    rule.rule, rule.location
                );
                totals.failed_rules += 1;
                continue;
            }
            let mut failures = Vec::new();
            for case in &rule.cases {
                totals.cases += 1;
                match check(&engine, &rule.rule, case) {
                    Ok(()) if verbose => println!("  ok   {} ({})", case.name, case.location),
                    Ok(()) => {}
                    Err(why) => {
                        failures.push(format!("  FAIL {} ({}): {why}", case.name, case.location));
                    }
                }
            }
            totals.rules += 1;
            if failures.is_empty() {
                println!("PASS {} ({} cases)", rule.rule, rule.cases.len());
            } else {
                totals.failed_rules += 1;
                totals.failed_cases += failures.len();
                println!(
                    "FAIL {} ({} of {} cases failed)",
                    rule.rule,
                    failures.len(),
                    rule.cases.len()
                );
                for f in failures {
                    println!("{f}");
                }
            }
        }
    }
    println!(
        "{} passed, {} failed ({} rules, {} cases in {} files)",
        totals.cases - totals.failed_cases,
        totals.failed_cases,
        totals.rules,
        totals.cases,
        test_files.len()
    );
    Ok(if totals.failed_rules == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

#[derive(Default)]
struct Totals {
    rules: usize,
    cases: usize,
    failed_rules: usize,
    failed_cases: usize,
}

fn check(engine: &Engine, rule: &str, case: &Case) -> Result<(), String> {
    let bytes = serde_json::to_vec(&case.event)
        .context("event")
        .map_err(|e| e.to_string())?;
    let events = decode_payload(&bytes, 1).map_err(|e| format!("bad event: {e}"))?;
    let mut alerts = Vec::new();
    for event in events {
        let event = event.map_err(|e| format!("bad event: {e}"))?;
        engine.process(&event, &mut alerts);
    }
    let fired: Vec<&str> = alerts
        .iter()
        .map(|a| engine.rule(a).rule.name.as_str())
        .collect();
    let mine = alerts.iter().find(|a| engine.rule(a).rule.name == rule);
    match (case.fires, mine) {
        (true, None) => Err(if fired.is_empty() {
            "did not fire (no rule fired)".to_owned()
        } else {
            format!("did not fire; fired instead: {}", fired.join(", "))
        }),
        (false, Some(alert)) => Err(format!("fired: {}", alert.message)),
        (true, Some(alert)) => match &case.output {
            Some(expected) if *expected != alert.message => Err(format!(
                "output differs\n       expected: {expected}\n       got:      {}",
                alert.message
            )),
            _ => Ok(()),
        },
        (false, None) => Ok(()),
    }
}
