//! Rules loading: Falco's `k8s_audit_rules.yaml` (from `../shared/falco`,
//! read once at start) read, resolved and checked by `lanner-rules`, then
//! also compiled by the engine. When the Falco file is absent, Lanner's own
//! `rules/` directory is measured instead (and the bench says so).
//!
//! Throughput is in rules per second.
//!
//! Run: `cargo bench --bench load -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lanner_engine::{Engine, Options};
use lanner_rules::{Loaded, Loader};

/// The files to load, as (name, text), and what they are.
fn rules_files() -> (&'static str, Vec<(String, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let falco = root.join("../shared/falco/rules/k8s_audit_rules.yaml");
    if let Ok(text) = std::fs::read_to_string(&falco) {
        return (
            "falco_k8s_audit_rules",
            vec![(falco.display().to_string(), text)],
        );
    }
    eprintln!(
        "{} is absent: measuring Lanner's own rules/ instead",
        falco.display()
    );
    let mut paths: Vec<_> = std::fs::read_dir(root.join("rules"))
        .expect("rules/ exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
        .collect();
    paths.sort();
    let files = paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable rules file");
            (p.display().to_string(), text)
        })
        .collect();
    ("lanner_rules_dir", files)
}

fn load(files: &[(String, String)]) -> Loaded {
    let mut loader = Loader::new();
    for (name, text) in files {
        loader.add_source(name.as_str(), text.as_str());
    }
    loader.finish()
}

fn bench_load(c: &mut Criterion) {
    let (label, files) = rules_files();
    let loaded = load(&files);
    assert!(
        !loaded.diagnostics.has_errors(),
        "the benched rules must load without errors"
    );
    let rules = loaded.ruleset.rules.len() as u64;

    let mut group = c.benchmark_group("load");
    group.throughput(Throughput::Elements(rules));
    group.bench_function(format!("{label}/check"), |b| {
        b.iter(|| black_box(load(black_box(&files))));
    });
    group.bench_function(format!("{label}/check+compile"), |b| {
        b.iter(|| {
            let loaded = load(black_box(&files));
            black_box(Engine::new(&loaded.ruleset, &Options::default()).expect("compiles"))
        });
    });
    group.finish();
}

criterion_group!(benches, bench_load);
criterion_main!(benches);
