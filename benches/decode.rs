//! Decoding alone: JSON lines from `lanner-corpus` (seed 1, about 1 KB per event) turned
//! into `Event`s by a `Decoder`, as `lanner run` does before evaluating anything.
//! The corpus is generated once, in memory, before measuring.
//!
//! Each corpus is measured twice, once per throughput unit: `decode/*` in events per
//! second, `decode_bytes/*` in bytes per second.
//!
//! Run: `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 5`.

use std::hint::black_box;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use lanner_audit::Decoder;

#[path = "common/corpora.rs"]
mod corpora;

use corpora::{EVENTS, corpora};

fn decode_all(lines: &[String]) -> u64 {
    let mut num = 1;
    // One decoder for the corpus, reusing its buffers, as `lanner run` keeps one per batch.
    let mut decoder = Decoder::new();
    let mut events = Vec::new();
    for line in lines {
        decoder
            .decode(black_box(line.as_bytes()), num, &mut events)
            .expect("corpus lines decode");
        for event in events.drain(..) {
            black_box(event.expect("corpus events decode"));
            num += 1;
        }
    }
    num - 1
}

fn bench_decode(c: &mut Criterion) {
    let corpora = corpora();
    for (name, lines, _) in &corpora {
        assert_eq!(decode_all(lines), EVENTS, "{name}: every event decodes");
    }
    for (group_name, by_bytes) in [("decode", false), ("decode_bytes", true)] {
        let mut group = c.benchmark_group(group_name);
        // One iteration is a whole corpus (tens of milliseconds): flat sampling keeps
        // the run within --measurement-time.
        group.sampling_mode(SamplingMode::Flat).sample_size(10);
        for (name, lines, bytes) in &corpora {
            group.throughput(if by_bytes {
                Throughput::Bytes(*bytes)
            } else {
                Throughput::Elements(EVENTS)
            });
            group.bench_function(format!("{name}_{EVENTS}"), |b| b.iter(|| decode_all(lines)));
        }
        group.finish();
    }
}

criterion_group!(benches, bench_decode);
criterion_main!(benches);
