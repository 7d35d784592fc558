//! The server's metrics, exposed on `GET /metrics` in Prometheus text format
//! (version 0.0.4) with the `prometheus-client` crate.
//!
//! One [`Metrics`] is shared by the HTTP handlers, the evaluation workers and
//! the outputs; every metric is an atomic, so recording never blocks. The
//! names are part of Lanner's interface (`docs/server.md` lists them).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// `Content-Type` of `/metrics`.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Labels of `lanner_alerts_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    /// The rule's name.
    pub rule: String,
    /// Its priority (`Warning`).
    pub priority: String,
}

/// Labels of the per-output metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutputLabels {
    /// The output's name.
    pub output: String,
}

/// Labels with a reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    /// Why.
    pub reason: &'static str,
}

/// Labels of `lanner_requests_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    /// The HTTP status code.
    pub status: u16,
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    /// Events accepted into the pipeline.
    pub events_received: Counter,
    /// Events refused, by reason (`invalid_event`, `queue_full`, ...).
    pub events_rejected: Family<ReasonLabels, Counter>,
    /// Events evaluated.
    pub events_processed: Counter,
    /// Requests on the audit path, by status code.
    pub requests: Family<StatusLabels, Counter>,
    /// Time from the first byte of a request to its response.
    pub request_seconds: Histogram,
    /// Alerts raised, by rule and priority.
    pub alerts: Family<AlertLabels, Counter>,
    /// Alerts written or sent, by output.
    pub output_sent: Family<OutputLabels, Counter>,
    /// Failed writes or send attempts, by output.
    pub output_errors: Family<OutputLabels, Counter>,
    /// Alerts lost (queue full or retries exhausted), by output.
    pub output_drops: Family<OutputLabels, Counter>,
    /// Restarts of program outputs.
    pub output_restarts: Family<OutputLabels, Counter>,
    /// Time from receiving the request to handing the alert to the output.
    pub alert_latency_seconds: Histogram,
    /// Events accepted and not yet evaluated.
    pub queue_events: Gauge,
    /// The queue's capacity in events.
    pub queue_capacity: Gauge,
    /// Rules reloads, by result (`success`, `failure`).
    pub rules_reloads: Family<ReasonLabels, Counter>,
    /// Rules the current engine evaluates.
    pub rules_loaded: Gauge,
    /// Resident memory of the process, read at scrape time.
    pub resident_memory: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// All metrics at zero, registered.
    #[must_use]
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let m = Metrics {
            registry: Registry::default(),
            events_received: Counter::default(),
            events_rejected: Family::default(),
            events_processed: Counter::default(),
            requests: Family::default(),
            request_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 16)),
            alerts: Family::default(),
            output_sent: Family::default(),
            output_errors: Family::default(),
            output_drops: Family::default(),
            output_restarts: Family::default(),
            alert_latency_seconds: Histogram::new(exponential_buckets(0.000_25, 2.0, 16)),
            queue_events: Gauge::default(),
            queue_capacity: Gauge::default(),
            rules_reloads: Family::default(),
            rules_loaded: Gauge::default(),
            resident_memory: Gauge::default(),
        };
        let r = &mut registry;
        r.register(
            "lanner_events_received",
            "Audit events accepted into the pipeline",
            m.events_received.clone(),
        );
        r.register(
            "lanner_events_rejected",
            "Audit events refused, by reason",
            m.events_rejected.clone(),
        );
        r.register(
            "lanner_events_processed",
            "Audit events evaluated against the rules",
            m.events_processed.clone(),
        );
        r.register(
            "lanner_requests",
            "Requests on the audit path, by HTTP status",
            m.requests.clone(),
        );
        r.register(
            "lanner_request_duration_seconds",
            "Time from receiving an audit request to answering it",
            m.request_seconds.clone(),
        );
        r.register(
            "lanner_alerts",
            "Alerts raised, by rule and priority",
            m.alerts.clone(),
        );
        r.register(
            "lanner_output_sent",
            "Alerts written or sent, by output",
            m.output_sent.clone(),
        );
        r.register(
            "lanner_output_errors",
            "Failed writes or send attempts, by output",
            m.output_errors.clone(),
        );
        r.register(
            "lanner_output_drops",
            "Alerts lost by an output (queue full or retries exhausted)",
            m.output_drops.clone(),
        );
        r.register(
            "lanner_output_restarts",
            "Restarts of program outputs",
            m.output_restarts.clone(),
        );
        r.register(
            "lanner_alert_latency_seconds",
            "Time from receiving the request to handing its alert to an output",
            m.alert_latency_seconds.clone(),
        );
        r.register(
            "lanner_queue_events",
            "Events accepted and waiting for evaluation",
            m.queue_events.clone(),
        );
        r.register(
            "lanner_queue_capacity_events",
            "Capacity of the evaluation queue in events",
            m.queue_capacity.clone(),
        );
        r.register(
            "lanner_rules_reloads",
            "Rules reloads, by result",
            m.rules_reloads.clone(),
        );
        r.register(
            "lanner_rules_loaded",
            "Rules the current engine evaluates",
            m.rules_loaded.clone(),
        );
        r.register(
            "process_resident_memory_bytes",
            "Resident memory size in bytes",
            m.resident_memory.clone(),
        );
        Metrics { registry, ..m }
    }

    /// Counts one request on the audit path.
    pub fn request(&self, status: u16, seconds: f64) {
        self.requests.get_or_create(&StatusLabels { status }).inc();
        self.request_seconds.observe(seconds);
    }

    /// Counts events refused for `reason`.
    pub fn reject(&self, reason: &'static str, events: u64) {
        self.events_rejected
            .get_or_create(&ReasonLabels { reason })
            .inc_by(events);
    }

    /// The labels of an output's metrics.
    #[must_use]
    pub fn output(name: &str) -> OutputLabels {
        OutputLabels {
            output: name.to_owned(),
        }
    }

    /// The text exposition.
    #[must_use]
    pub fn render(&self) -> String {
        if let Some(rss) = resident_bytes() {
            self.resident_memory.set(rss);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

/// A count as a gauge value.
#[must_use]
pub fn gauge(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `VmRSS` of this process from `/proc/self/statm` (Linux only).
fn resident_bytes() -> Option<i64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_counter_names_with_total_and_labels() {
        let m = Metrics::new();
        m.events_received.inc_by(3);
        m.alerts
            .get_or_create(&AlertLabels {
                rule: "Exec".into(),
                priority: "Notice".into(),
            })
            .inc();
        m.request(200, 0.001);
        let text = m.render();
        assert!(text.contains("lanner_events_received_total 3"), "{text}");
        assert!(
            text.contains("lanner_alerts_total{rule=\"Exec\",priority=\"Notice\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("lanner_requests_total{status=\"200\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("lanner_request_duration_seconds_count 1"),
            "{text}"
        );
    }
}
