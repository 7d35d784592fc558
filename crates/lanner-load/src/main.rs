//! `lanner-load`: posts `EventList` batches to a running `lanner serve`
//! from several connections, as the API server's webhook backend does, and
//! reports what the server sustained.
//!
//! The batches (100 to 400 events by default, from a `lanner-corpus`
//! generated cluster log or from a JSON-lines file) are built before the
//! clock starts, so on a shared machine the client spends its CPU on HTTP
//! only. A 503 is retried after a short pause, as the webhook backend does.
//! At the end it waits for the server's queue to drain and reads its
//! `/metrics`: events processed per second, request latency (measured here),
//! request-to-alert latency (the server's `lanner_alert_latency_seconds`
//! histogram) and resident memory (the peak of one sample a second).
//!
//! ```text
//! lanner serve --plaintext --listen 127.0.0.1:9765 > /dev/null &
//! lanner-load --url http://127.0.0.1:9765/k8s-audit --connections 4 --seconds 30
//! ```
//!
//! It only talks to the URL given; use it against your own server.

// Figures for a report: counts far below 2^52, never negative.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_sign_loss,
    clippy::cast_possible_truncation
)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;

/// Load generator for `lanner serve`.
#[derive(Debug, Parser)]
#[command(name = "lanner-load", version)]
struct Args {
    /// The audit endpoint, e.g. `http://127.0.0.1:9765/k8s-audit`.
    #[arg(long)]
    url: String,
    /// Concurrent connections (one request in flight on each).
    #[arg(long, default_value_t = 4)]
    connections: usize,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
    /// Fewest events per batch.
    #[arg(long, default_value_t = 100)]
    batch_min: usize,
    /// Most events per batch.
    #[arg(long, default_value_t = 400)]
    batch_max: usize,
    /// Events from this JSON-lines file instead of a generated corpus.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// Events in the generated corpus (batches cycle over it).
    #[arg(long, default_value_t = 100_000)]
    corpus_events: u64,
    /// Seed of the generated corpus and of the batch sizes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Share of risky (alerting) requests in the generated corpus.
    #[arg(long, default_value_t = 0.01)]
    risky_rate: f64,
    /// Bearer token to send.
    #[arg(long)]
    token: Option<String>,
    /// Target events per second over all connections (default: as fast as
    /// the server answers), to measure latency below saturation.
    #[arg(long)]
    rate: Option<f64>,
    /// The server's metrics (default: /metrics on the same host).
    #[arg(long)]
    metrics_url: Option<String>,
}

#[derive(Default)]
struct Counters {
    accepted_events: AtomicU64,
    requests: AtomicU64,
    refused: AtomicU64,
    errors: AtomicU64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(
        args.batch_min >= 1 && args.batch_min <= args.batch_max,
        "need 1 <= batch-min <= batch-max"
    );
    let metrics_url = args
        .metrics_url
        .clone()
        .unwrap_or_else(|| metrics_url_for(&args.url));
    eprintln!("lanner-load: building batches...");
    let batches = Arc::new(build_batches(&args)?);
    let total_events: usize = batches.iter().map(|(n, _)| n).sum();
    eprintln!(
        "lanner-load: {} batches, {total_events} events, {:.1} MB; sending for {}s on {} connections",
        batches.len(),
        batches.iter().map(|(_, b)| b.len()).sum::<usize>() as f64 / 1e6,
        args.seconds,
        args.connections
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(run(args, batches, metrics_url))
}

async fn run(
    args: Args,
    batches: Arc<Vec<(usize, bytes::Bytes)>>,
    metrics_url: String,
) -> anyhow::Result<()> {
    let scraper = reqwest::Client::new();
    let before = scrape(&scraper, &metrics_url).await?;
    let counters = Arc::new(Counters::default());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.seconds);
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (scraper, url, peak) = (scraper.clone(), metrics_url.clone(), Arc::clone(&peak_rss));
        tokio::spawn(async move {
            loop {
                if let Ok(text) = scrape(&scraper, &url).await {
                    peak.fetch_max(
                        value(&text, "process_resident_memory_bytes") as u64,
                        Ordering::Relaxed,
                    );
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    let tasks: Vec<_> = (0..args.connections)
        .map(|_| {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .http1_only()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client");
            let (batches, next, counters) = (
                Arc::clone(&batches),
                Arc::clone(&next),
                Arc::clone(&counters),
            );
            let (url, token) = (args.url.clone(), args.token.clone());
            let pace = args.rate.map(|rate| rate / args.connections as f64);
            tokio::spawn(async move {
                let target = Target {
                    url: &url,
                    token: token.as_deref(),
                    pace,
                };
                send_until(deadline, &client, &target, &batches, &next, &counters).await
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await?);
    }
    let sent_for = started.elapsed();
    // Wait for the queue to drain, for at most a minute.
    let mut after = scrape(&scraper, &metrics_url).await?;
    for _ in 0..600 {
        if value(&after, "lanner_queue_events") == 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(&scraper, &metrics_url).await?;
    }
    let drained_after = started.elapsed();
    sampler.abort();
    peak_rss.fetch_max(
        value(&after, "process_resident_memory_bytes") as u64,
        Ordering::Relaxed,
    );
    print!(
        "{}",
        report(
            &counters,
            &mut latencies,
            sent_for,
            drained_after,
            &before,
            &after,
            peak_rss.load(Ordering::Relaxed)
        )
    );
    Ok(())
}

/// Where and how fast one connection sends.
struct Target<'a> {
    url: &'a str,
    token: Option<&'a str>,
    /// Events per second for this connection, if paced.
    pace: Option<f64>,
}

/// One connection: POSTs batches until the deadline; returns request latencies in µs.
async fn send_until(
    deadline: Instant,
    client: &reqwest::Client,
    target: &Target<'_>,
    batches: &[(usize, bytes::Bytes)],
    next: &AtomicUsize,
    counters: &Counters,
) -> Vec<u32> {
    let mut latencies = Vec::new();
    let mut index = next.fetch_add(1, Ordering::Relaxed) % batches.len();
    let started = Instant::now();
    let mut sent_events = 0.0;
    while Instant::now() < deadline {
        if let Some(pace) = target.pace {
            let due = started + Duration::from_secs_f64(sent_events / pace);
            tokio::time::sleep_until(due.into()).await;
        }
        let (events, body) = &batches[index];
        let mut request = client
            .post(target.url)
            .header("Content-Type", "application/json")
            .body(body.clone());
        if let Some(token) = target.token {
            request = request.bearer_auth(token);
        }
        let sent = Instant::now();
        let result = request.send().await;
        let took = sent.elapsed();
        counters.requests.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok(reply) if reply.status().is_success() => {
                let _ = reply.bytes().await;
                latencies.push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
                counters
                    .accepted_events
                    .fetch_add(*events as u64, Ordering::Relaxed);
                sent_events += *events as f64;
                index = next.fetch_add(1, Ordering::Relaxed) % batches.len();
            }
            Ok(reply) if reply.status().as_u16() == 503 => {
                counters.refused.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Ok(reply) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!(
                    "lanner-load: status {}: {}",
                    reply.status(),
                    reply.text().await.unwrap_or_default()
                );
                index = next.fetch_add(1, Ordering::Relaxed) % batches.len();
            }
            Err(e) => {
                counters.errors.fetch_add(1, Ordering::Relaxed);
                eprintln!("lanner-load: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    latencies
}

/// `EventList` bodies of random sizes between the bounds, with their event counts.
fn build_batches(args: &Args) -> anyhow::Result<Vec<(usize, bytes::Bytes)>> {
    let lines: Vec<String> = match &args.events {
        Some(path) => std::fs::read_to_string(path)?
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        None => lanner_corpus::lines(&lanner_corpus::Config {
            events: args.corpus_events,
            seed: args.seed,
            risky_rate: args.risky_rate,
            ..lanner_corpus::Config::default()
        })
        .collect(),
    };
    anyhow::ensure!(!lines.is_empty(), "no events");
    let mut rng = fastrand::Rng::with_seed(args.seed);
    let mut batches = Vec::new();
    let mut at = 0;
    while at < lines.len() {
        let n = rng
            .usize(args.batch_min..=args.batch_max)
            .min(lines.len() - at);
        let mut body = String::from(
            r#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["#,
        );
        body.push_str(&lines[at..at + n].join(","));
        body.push_str("]}");
        batches.push((n, bytes::Bytes::from(body)));
        at += n;
    }
    Ok(batches)
}

fn metrics_url_for(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let host_end = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    format!("{}/metrics", &url[..host_end])
}

async fn scrape(client: &reqwest::Client, url: &str) -> anyhow::Result<String> {
    Ok(client
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?)
}

/// The value of a series (`name` or `name{labels}`); summed over label sets
/// when `series` has no labels and the metric has some.
fn value(text: &str, series: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            let matches = name == series
                || (!series.contains('{')
                    && name.starts_with(series)
                    && name[series.len()..].starts_with('{'));
            matches.then(|| v.parse::<f64>().ok()).flatten()
        })
        .sum()
}

/// Quantile `q` of a Prometheus histogram `name` (interpolated within a bucket).
fn histogram_quantile(text: &str, name: &str, q: f64) -> Option<f64> {
    let prefix = format!("{name}_bucket{{le=\"");
    let mut buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"} ")?;
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    if total == 0.0 {
        return None;
    }
    let rank = q * total;
    let (mut lower, mut below) = (0.0, 0.0);
    for (le, count) in buckets {
        if count >= rank {
            if le.is_infinite() {
                return Some(lower);
            }
            let share = if count > below {
                (rank - below) / (count - below)
            } else {
                0.0
            };
            return Some(lower + (le - lower) * share);
        }
        (lower, below) = (le, count);
    }
    None
}

fn percentile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let at = ((sorted.len() - 1) as f64 * q).round() as usize;
    f64::from(sorted[at]) / 1000.0
}

fn report(
    counters: &Counters,
    latencies: &mut [u32],
    sent_for: Duration,
    drained_after: Duration,
    before: &str,
    after: &str,
    peak_rss: u64,
) -> String {
    latencies.sort_unstable();
    let accepted = counters.accepted_events.load(Ordering::Relaxed);
    let processed = value(after, "lanner_events_processed_total")
        - value(before, "lanner_events_processed_total");
    let alerts = value(after, "lanner_alerts_total") - value(before, "lanner_alerts_total");
    let mut out = String::new();
    let _ = writeln!(
        out,
        "requests: {} ok, {} refused (503), {} errors",
        latencies.len(),
        counters.refused.load(Ordering::Relaxed),
        counters.errors.load(Ordering::Relaxed)
    );
    let _ = writeln!(
        out,
        "accepted: {accepted} events in {:.1}s = {:.0} events/s",
        sent_for.as_secs_f64(),
        accepted as f64 / sent_for.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "processed: {processed:.0} events, queue drained after {:.1}s = {:.0} events/s sustained; {alerts:.0} alerts",
        drained_after.as_secs_f64(),
        processed / drained_after.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "request latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(latencies, 0.50),
        percentile(latencies, 0.99),
        percentile(latencies, 1.0)
    );
    let q = |q| {
        histogram_quantile(after, "lanner_alert_latency_seconds", q)
            .map_or("n/a".to_owned(), |s| format!("{:.1} ms", s * 1000.0))
    };
    let _ = writeln!(
        out,
        "request-to-alert latency (server histogram): p50 {}, p99 {}",
        q(0.5),
        q(0.99)
    );
    let _ = writeln!(
        out,
        "server resident memory: peak {:.0} MiB (sampled each second)",
        peak_rss as f64 / f64::from(1 << 20)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_within_buckets() {
        let text =
            "x_bucket{le=\"0.001\"} 50\nx_bucket{le=\"0.002\"} 100\nx_bucket{le=\"+Inf\"} 100\n";
        assert_eq!(histogram_quantile(text, "x", 0.5), Some(0.001));
        assert!((histogram_quantile(text, "x", 0.75).unwrap() - 0.0015).abs() < 1e-9);
    }

    #[test]
    fn metrics_url_is_on_the_same_host() {
        assert_eq!(
            metrics_url_for("http://127.0.0.1:9765/k8s-audit"),
            "http://127.0.0.1:9765/metrics"
        );
    }

    #[test]
    fn labelled_series_are_summed() {
        let text = "a_total{rule=\"x\"} 2\na_total{rule=\"y\"} 3\nab_total 7\n";
        assert!((value(text, "a_total") - 5.0).abs() < 1e-9);
    }
}
