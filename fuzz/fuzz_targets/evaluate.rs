//! Rules on events: the first line of the input is a condition, the second an output
//! template, the rest audit events (JSON lines). When the rule loads, every event is
//! evaluated and every alert rendered (text and JSON). Nothing may panic: transformers
//! (`concat`, `join`, `getopt`, ...), field arguments and operators meet any event.

#![no_main]

use lanner_engine::{Engine, Options};
use lanner_rules::Loader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.splitn(3, '\n');
    let (Some(condition), Some(output)) = (lines.next(), lines.next()) else {
        return;
    };
    let events = lines.next().unwrap_or_default();
    // JSON strings are YAML double-quoted scalars.
    let (Ok(condition), Ok(output)) = (
        serde_json::to_string(condition),
        serde_json::to_string(output),
    ) else {
        return;
    };
    let rules = format!(
        "- rule: R\n  desc: d\n  condition: {condition}\n  output: {output}\n  priority: NOTICE\n  source: k8s_audit\n"
    );
    let mut loader = Loader::new();
    loader.add_source("rules.yaml", &rules);
    let loaded = loader.finish();
    if loaded.diagnostics.has_errors() {
        return;
    }
    let Ok(engine) = Engine::new(&loaded.ruleset, &Options::default()) else {
        return;
    };
    let mut alerts = Vec::new();
    for (n, line) in events.lines().enumerate() {
        let Ok(decoded) = lanner_audit::decode_payload(line.as_bytes(), n as u64 + 1) else {
            continue;
        };
        for event in decoded.into_iter().flatten() {
            alerts.clear();
            engine.process(&event, &mut alerts);
            for alert in &alerts {
                let _ = engine.render_text(alert);
                let _ = engine.render_json(alert);
            }
        }
    }
});
