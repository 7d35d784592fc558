//! Realistic Kubernetes audit logs for Lanner's benches and tests, deterministic from a
//! seed.
//!
//! The log is that of an imaginary busy cluster (12 nodes, a dozen namespaces, the usual
//! add-ons) as its API server writes it with an `audit.k8s.io/v1` policy: one JSON event
//! per line, about 1 KB each on average. Like a real cluster's, most of it is background
//! traffic: about 80% of requests come from `system:` accounts (kubelets, the controller
//! manager and its controllers, the scheduler, the API server itself), about half are
//! `get`s (leases, nodes, pods), the rest lists, watches, status updates, patches, creates
//! and deletes, a few percent failing (403, 404, 409, 422). Pod creations carry
//! `requestObject` and `responseObject`.
//!
//! A share of requests ([`Config::risky_rate`], 1% by default) are the kind the default
//! Falco k8s audit rules look for: privileged, host-network, host-PID or sensitive
//! host-path pods, bindings to `cluster-admin`, exec/attach/port-forward, secrets read by
//! people, configmaps holding AWS keys, anonymous requests, unknown users, wildcard roles,
//! new namespaces, deployments, `NodePort` services... [`Config::match_heavy`] makes most
//! requests risky.
//!
//! ```
//! use lanner_corpus::{Config, generate, lines};
//!
//! let config = Config { events: 100, seed: 7, ..Config::default() };
//! let mut out = Vec::new();
//! let bytes = generate(&config, &mut out)?;
//! assert_eq!(bytes, out.len() as u64);
//! assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 100);
//!
//! // The same seed gives the same corpus.
//! let again: Vec<String> = lines(&config).collect();
//! assert_eq!(again.join("\n") + "\n", String::from_utf8(out)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cluster;
mod event;
mod json;
mod objects;
mod scenario;

use std::io::{self, Write};

use fastrand::Rng;

use crate::cluster::{Cluster, uuid};
use crate::scenario::Ctx;

/// The risky share of [`Config::match_heavy`] corpora.
pub const MATCH_HEAVY_RISKY_RATE: f64 = 0.9;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// How many events.
    pub events: u64,
    /// The same seed gives the same corpus.
    pub seed: u64,
    /// The share of requests, from 0 to 1, that are risky.
    pub risky_rate: f64,
    /// Make [`MATCH_HEAVY_RISKY_RATE`] of requests risky, whatever `risky_rate` says.
    pub match_heavy: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            events: 10_000,
            seed: 1,
            risky_rate: 0.01,
            match_heavy: false,
        }
    }
}

impl Config {
    /// The share of risky requests in effect.
    #[must_use]
    pub fn effective_risky_rate(&self) -> f64 {
        if self.match_heavy {
            MATCH_HEAVY_RISKY_RATE
        } else {
            self.risky_rate.clamp(0.0, 1.0)
        }
    }
}

/// Counts of what a [`Generator`] has produced so far.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events generated.
    pub events: u64,
    /// Bytes of JSON, counting one newline per event.
    pub bytes: u64,
    /// Events drawn from the risky requests.
    pub risky: u64,
}

/// Generates the events of one corpus, in order. As an [`Iterator`], yields each event as
/// one line of JSON without its newline.
pub struct Generator {
    ctx: Ctx,
    cluster: Cluster,
    remaining: u64,
    risky_rate: f64,
    stats: Stats,
}

/// Mean time between two requests: a cluster serving 500 requests per second.
const MEAN_GAP_US: f64 = 2_000.0;

impl Generator {
    /// A generator for `config`.
    #[must_use]
    pub fn new(config: &Config) -> Generator {
        let mut rng = Rng::with_seed(config.seed);
        let cluster = Cluster::new(&mut rng);
        let now_us = cluster.start_s * 1_000_000;
        Generator {
            ctx: Ctx {
                rng,
                rv: 48_000_000 + config.seed % 1_000_000,
                now_us,
            },
            cluster,
            remaining: config.events,
            risky_rate: config.effective_risky_rate(),
            stats: Stats::default(),
        }
    }

    /// Replace the contents of `line` with the next event (no newline); `false` once all
    /// events have been generated.
    pub fn next_into(&mut self, line: &mut String) -> bool {
        line.clear();
        if self.remaining == 0 {
            return false;
        }
        self.remaining -= 1;
        let ctx = &mut self.ctx;
        // Exponential gaps; `1 - f64()` is never 0.
        #[allow(clippy::cast_possible_truncation)]
        let gap = (-(1.0 - ctx.rng.f64()).ln() * MEAN_GAP_US) as i64;
        ctx.now_us += gap.max(1);
        let is_risky = ctx.rng.f64() < self.risky_rate;
        let mut req = if is_risky {
            scenario::risky(ctx, &self.cluster)
        } else {
            scenario::benign(ctx, &self.cluster)
        };
        scenario::finish(ctx, &mut req, !is_risky);
        let audit_id = uuid(&mut ctx.rng);
        req.write(line, &audit_id, ctx.now_us);
        self.stats.events += 1;
        self.stats.bytes += line.len() as u64 + 1;
        self.stats.risky += u64::from(is_risky);
        true
    }

    /// What has been generated so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        self.stats
    }
}

impl Iterator for Generator {
    type Item = String;

    fn next(&mut self) -> Option<String> {
        let mut line = String::with_capacity(1024);
        self.next_into(&mut line).then_some(line)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, usize::try_from(self.remaining).ok())
    }
}

/// The events of `config`, one line of JSON each, without newlines.
#[must_use]
pub fn lines(config: &Config) -> Generator {
    Generator::new(config)
}

/// Write the corpus of `config` to `out`, one event per line; returns the bytes written.
pub fn generate(config: &Config, out: &mut impl Write) -> io::Result<u64> {
    let mut generator = Generator::new(config);
    let mut line = String::with_capacity(4096);
    while generator.next_into(&mut line) {
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(generator.stats().bytes)
}
