//! Evaluation, the way `lanner run --format json` spends its time per event: decode the
//! line, run every rule over the event (`rule_matching: first`, Falco's default), render
//! each alert as JSON. Over two `lanner-corpus` corpora of 20,000 events (seed 1):
//!
//! * `benign`: a busy cluster's ordinary traffic with 1% risky requests;
//! * `match_heavy`: 90% risky requests, so most events alert.
//!
//! Rules: Falco's `k8s_audit_rules.yaml` from `../shared/falco`; when absent, Lanner's own
//! `rules/` directory (and the bench says so). Throughput is in events per second; the
//! corpus sizes are printed at start for MB/s.
//!
//! Run: `cargo bench --bench evaluate -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use lanner_audit::Decoder;
#[path = "common/corpora.rs"]
mod corpora;

use corpora::{EVENTS, corpora};
use lanner_engine::{Engine, Options};
use lanner_rules::Loader;

/// Falco's k8s audit rules, or Lanner's `rules/` when they are absent.
fn engine() -> (&'static str, Engine) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let falco = root.join("../shared/falco/rules/k8s_audit_rules.yaml");
    let (label, path) = if falco.exists() {
        ("falco_rules", falco)
    } else {
        eprintln!(
            "{} is absent: evaluating Lanner's own rules/ instead",
            falco.display()
        );
        ("lanner_rules", root.join("rules"))
    };
    let mut loader = Loader::new();
    loader.add_path(&path);
    let result = loader.finish();
    assert!(
        !result.diagnostics.has_errors(),
        "the benched rules must load without errors"
    );
    (
        label,
        Engine::new(&result.ruleset, &Options::default()).expect("rules compile"),
    )
}

/// Decode, evaluate and render every line; returns (events, alerts, rendered bytes).
fn run(engine: &Engine, lines: &[String]) -> (u64, u64, u64) {
    let (mut num, mut alert_count, mut rendered) = (1, 0, 0);
    let mut alerts = Vec::new();
    // One scratch for the whole corpus, as `lanner run` keeps one per batch.
    let mut scratch = engine.scratch();
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for line in lines {
        decoder
            .decode(black_box(line.as_bytes()), num, &mut events)
            .expect("corpus lines decode");
        for event in events.drain(..) {
            let event = event.expect("corpus events decode");
            num += 1;
            alerts.clear();
            engine.process_with(&event, &mut scratch, &mut alerts);
            for alert in &alerts {
                alert_count += 1;
                rendered += black_box(engine.render_json(alert)).len() as u64;
            }
        }
    }
    (num - 1, alert_count, rendered)
}

fn bench_evaluate(c: &mut Criterion) {
    let (label, engine) = engine();
    let mut group = c.benchmark_group("evaluate");
    // One iteration is a whole corpus: flat sampling keeps within --measurement-time.
    group.sampling_mode(SamplingMode::Flat).sample_size(10);
    group.throughput(Throughput::Elements(EVENTS));
    for (name, lines, bytes) in corpora() {
        let (events, alerts, _) = run(&engine, &lines);
        assert_eq!(events, EVENTS);
        eprintln!("{label}/{name}: {events} events, {bytes} bytes, {alerts} alerts");
        group.bench_function(format!("{label}/{name}_{EVENTS}"), |b| {
            b.iter(|| run(&engine, &lines));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_evaluate);
criterion_main!(benches);
