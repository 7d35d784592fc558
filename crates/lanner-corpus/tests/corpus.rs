//! The corpus is deterministic, well-formed, shaped like a real cluster's audit log, and
//! the default rules find in it what was put there.

use std::path::{Path, PathBuf};

use lanner_audit::decode_payload;
use lanner_corpus::{Config, generate, lines};
use lanner_engine::{Engine, Options};
use serde_json::Value;

fn corpus(config: &Config) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = generate(config, &mut out).unwrap();
    assert_eq!(bytes, out.len() as u64);
    out
}

#[test]
fn same_seed_same_corpus() {
    let config = Config {
        events: 2_000,
        seed: 42,
        ..Config::default()
    };
    assert_eq!(corpus(&config), corpus(&config));
    let other = Config {
        seed: 43,
        ..config.clone()
    };
    assert_ne!(corpus(&config), corpus(&other));
}

#[test]
fn events_have_the_audit_v1_shape() {
    let config = Config {
        events: 5_000,
        seed: 3,
        risky_rate: 0.2,
        ..Config::default()
    };
    let mut last_stage = String::new();
    for (i, line) in lines(&config).enumerate() {
        let event: Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("line {}: {e}: {line}", i + 1));
        assert_eq!(event["kind"], "Event");
        assert_eq!(event["apiVersion"], "audit.k8s.io/v1");
        for key in [
            "level",
            "auditID",
            "stage",
            "requestURI",
            "verb",
            "userAgent",
            "requestReceivedTimestamp",
        ] {
            assert!(event[key].is_string(), "line {}: no {key}: {line}", i + 1);
        }
        assert!(event["user"]["username"].is_string());
        assert!(event["user"]["groups"].is_array());
        assert!(event["sourceIPs"][0].is_string());
        let stage = event["stageTimestamp"].as_str().unwrap().to_owned();
        assert!(
            stage >= last_stage,
            "line {}: stageTimestamp goes back",
            i + 1
        );
        assert!(event["requestReceivedTimestamp"].as_str().unwrap() <= stage.as_str());
        last_stage = stage;
        if event["stage"] != "RequestReceived" {
            assert!(
                event["responseStatus"]["code"].is_u64(),
                "line {}: {line}",
                i + 1
            );
            assert!(event["annotations"]["authorization.k8s.io/decision"].is_string());
        }
        let decoded = decode_payload(line.as_bytes(), 1).unwrap();
        assert_eq!(decoded.len(), 1);
        assert!(
            decoded[0].is_ok(),
            "line {}: {:?}",
            i + 1,
            decoded[0].as_ref().err()
        );
    }
}

#[test]
fn mix_looks_like_a_real_cluster() {
    let config = Config {
        events: 20_000,
        ..Config::default()
    };
    let (mut bytes, mut system, mut gets, mut failed) = (0usize, 0u32, 0u32, 0u32);
    for line in lines(&config) {
        bytes += line.len() + 1;
        let event: Value = serde_json::from_str(&line).unwrap();
        system += u32::from(
            event["user"]["username"]
                .as_str()
                .unwrap()
                .starts_with("system:"),
        );
        gets += u32::from(event["verb"] == "get");
        failed += u32::from(
            event["responseStatus"]["code"]
                .as_u64()
                .is_some_and(|c| c >= 400),
        );
    }
    let n = f64::from(20_000u32);
    let average = f64::from(u32::try_from(bytes).expect("a small corpus")) / n;
    assert!(
        (800.0..1300.0).contains(&average),
        "{average} bytes per event"
    );
    assert!(
        (0.75..0.88).contains(&(f64::from(system) / n)),
        "system share {system}"
    );
    assert!(
        (0.42..0.58).contains(&(f64::from(gets) / n)),
        "get share {gets}"
    );
    assert!(
        (0.01..0.06).contains(&(f64::from(failed) / n)),
        "failure share {failed}"
    );
}

/// Falco's own k8s audit rules where the workspace has them, else Lanner's.
fn rules_path() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let falco = root.join("../shared/falco/rules/k8s_audit_rules.yaml");
    if falco.exists() {
        falco
    } else {
        root.join("rules")
    }
}

fn alerts(config: &Config) -> usize {
    let loaded = lanner_rules::load_paths(&[rules_path()]);
    assert!(!loaded.diagnostics.has_errors());
    let engine = Engine::new(&loaded.ruleset, &Options::default()).unwrap();
    let mut alerts = Vec::new();
    let mut count = 0;
    for (i, line) in lines(config).enumerate() {
        for event in decode_payload(line.as_bytes(), i as u64 + 1).unwrap() {
            alerts.clear();
            engine.process(&event.unwrap(), &mut alerts);
            count += alerts.len();
        }
    }
    count
}

#[test]
fn benign_traffic_raises_almost_nothing() {
    let config = Config {
        events: 5_000,
        risky_rate: 0.0,
        ..Config::default()
    };
    let count = alerts(&config);
    assert!(count <= 25, "{count} alerts on benign traffic");
}

#[test]
fn match_heavy_corpora_mostly_alert() {
    let config = Config {
        events: 2_000,
        match_heavy: true,
        ..Config::default()
    };
    let count = alerts(&config);
    assert!(
        count >= 1_400,
        "only {count} alerts in 2000 match-heavy events"
    );
}
