//! Events per second for decoding a JSON-lines corpus with serde_json (a DOM, as the issue's
//! reference), simd-json and sonic-rs, and with Lanner's decoder, rounds interleaved so that
//! the machine's load moves them together. Given a `lanner` binary and rules, each round also
//! times `lanner run --format json --workers 1` over the corpus (decode, evaluate, alerts).
//! Usage: `json-baselines CORPUS [ROUNDS [LANNER RULES]]`.

use std::collections::BTreeMap;
use std::time::Instant;

use sonic_rs::JsonContainerTrait as _;

type Decoder = fn(&[u8]) -> usize;
type EventResult = Result<lanner_audit::Event, lanner_audit::EventError>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: json-baselines CORPUS [ROUNDS [LANNER RULES]]")?;
    let rounds: usize = args.next().map_or(Ok(5), |r| r.parse())?;
    let lanner = args.next().zip(args.next());
    let data = std::fs::read(&path)?;
    let lines: Vec<&[u8]> = data
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let decoders: [(&str, Decoder); 5] = [
        ("serde_json::Value", |l| {
            serde_json::from_slice::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.as_object().map(serde_json::Map::len))
                .unwrap_or(0)
        }),
        ("simd_json borrowed value", |l| {
            let mut copy = l.to_vec();
            simd_json::to_borrowed_value(&mut copy)
                .ok()
                .and_then(|v| simd_json::prelude::ValueAsObject::as_object(&v).map(|o| o.len()))
                .unwrap_or(0)
        }),
        ("sonic_rs::Value", |l| {
            sonic_rs::from_slice::<sonic_rs::Value>(l)
                .ok()
                .and_then(|v| v.as_object().map(|o| o.len()))
                .unwrap_or(0)
        }),
        ("sonic_rs get verb (lazy)", |l| {
            sonic_rs::get_from_slice(l, &["verb"]).map_or(0, |v| v.as_raw_str().len())
        }),
        ("lanner Decoder", |l| {
            // One decoder for the whole corpus, reusing its buffers, as `lanner run` does.
            thread_local! {
                static DECODER: std::cell::RefCell<(lanner_audit::Decoder, Vec<EventResult>)> =
                    std::cell::RefCell::default();
            }
            DECODER.with_borrow_mut(|(decoder, events)| {
                events.clear();
                decoder.decode(l, 0, events).map_or(0, |()| events.len())
            })
        }),
    ];
    let mut best: BTreeMap<&str, f64> = BTreeMap::new();
    for _ in 0..rounds {
        for (name, decode) in &decoders {
            let start = Instant::now();
            let mut sum = 0;
            for line in &lines {
                sum += decode(line);
            }
            std::hint::black_box(sum);
            let rate = lines.len() as f64 / start.elapsed().as_secs_f64();
            let entry = best.entry(name).or_insert(0.0);
            *entry = entry.max(rate);
        }
        if let Some((bin, rules)) = &lanner {
            let start = Instant::now();
            let status = std::process::Command::new(bin)
                .args([
                    "run",
                    "--format",
                    "json",
                    "--workers",
                    "1",
                    "-q",
                    "-r",
                    rules,
                    &path,
                ])
                .stdout(std::process::Stdio::null())
                .status()?;
            if !status.success() {
                return Err(format!("{bin} failed: {status}").into());
            }
            let rate = lines.len() as f64 / start.elapsed().as_secs_f64();
            let entry = best.entry("lanner run --workers 1").or_insert(0.0);
            *entry = entry.max(rate);
        }
    }
    let serde = best.get("serde_json::Value").copied().unwrap_or(f64::NAN);
    println!("{} events, best of {rounds} rounds", lines.len());
    for (name, rate) in &best {
        println!(
            "{name:26} {:>7.0}k events/s  {:>5.2}x serde_json",
            rate / 1e3,
            rate / serde
        );
    }
    Ok(())
}
