//! The rule prefilter skips only rules that cannot match: with and without
//! it, the engine gives the same alerts (`rule_matching: all`, so every rule's
//! verdict is compared) on Falco's rules over generated and real events.

use lanner_engine::{Alert, Engine, Options, RuleMatching};

use crate::common::falco_dir;

fn alerts(engine: &Engine, lines: &[String]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut buf: Vec<Alert> = Vec::new();
    for line in lines {
        let Ok(events) = lanner_audit::decode_payload(line.as_bytes(), 1) else {
            continue;
        };
        for event in events.into_iter().flatten() {
            buf.clear();
            engine.process(&event, &mut buf);
            out.extend(buf.iter().map(|a| (a.rule, a.message.clone())));
        }
    }
    out
}

#[test]
fn prefilter_changes_no_verdict_on_falcos_rules() {
    let Some(falco) = falco_dir("prefilter_changes_no_verdict") else {
        return;
    };
    let loaded = lanner_rules::load_paths(&[falco.join("rules/k8s_audit_rules.yaml")]);
    assert!(!loaded.diagnostics.has_errors());
    let options = |prefilter| Options {
        rule_matching: RuleMatching::All,
        include_disabled: true,
        prefilter,
        ..Options::default()
    };
    let with = Engine::new(&loaded.ruleset, &options(true)).expect("engine");
    let without = Engine::new(&loaded.ruleset, &options(false)).expect("engine");
    assert!(with.indexed_fields() > 0, "the prefilter indexes something");

    let mut lines: Vec<String> = lanner_corpus::lines(&lanner_corpus::Config {
        events: 20_000,
        seed: 7,
        risky_rate: 0.2,
        ..lanner_corpus::Config::default()
    })
    .collect();
    for entry in std::fs::read_dir(falco.join("traces/k8s_audit")).expect("traces") {
        let text = std::fs::read_to_string(entry.expect("entry").path()).expect("trace");
        lines.extend(text.lines().map(str::to_owned));
    }
    let a = alerts(&with, &lines);
    let b = alerts(&without, &lines);
    assert!(a.len() > 100, "the corpus makes rules fire ({})", a.len());
    assert_eq!(a, b);
}
