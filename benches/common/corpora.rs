//! The corpora every bench measures, generated once in memory from
//! `lanner-corpus` (seed 1, about 1 KB per event). Shared by `decode` and
//! `evaluate` through `#[path]`.

use lanner_corpus::{Config, lines};

pub const EVENTS: u64 = 20_000;

/// The corpora: (name, lines, bytes counting newlines).
pub fn corpora() -> Vec<(&'static str, Vec<String>, u64)> {
    [
        (
            "benign",
            Config {
                events: EVENTS,
                seed: 1,
                ..Config::default()
            },
        ),
        (
            "match_heavy",
            Config {
                events: EVENTS,
                seed: 1,
                match_heavy: true,
                ..Config::default()
            },
        ),
    ]
    .into_iter()
    .map(|(name, config)| {
        let lines: Vec<String> = lines(&config).collect();
        let bytes = lines.iter().map(|l| l.len() as u64 + 1).sum();
        (name, lines, bytes)
    })
    .collect()
}
