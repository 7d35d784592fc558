//! The HTTP output: each alert sent in its own POST, as Falco's `http_output`
//! does (Falco's JSON object with `Content-Type: application/json`), so
//! falcosidekick and other receivers built for Falco accept it.
//!
//! Failed attempts (connection errors, timeouts, 429 and 5xx answers) are
//! retried with exponential backoff; other 4xx answers are not, since the
//! same request would fail again. An alert that runs out of attempts is
//! dropped and counted. `concurrency` tasks share one bounded queue.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use tokio::sync::Mutex;

use super::{Line, OutputError};
use crate::config::{Format, HttpOutput};
use crate::metrics::{Metrics, OutputLabels};

/// Builds the client and starts the sending tasks.
pub(super) fn spawn(
    config: &HttpOutput,
    name: &str,
    metrics: &Arc<Metrics>,
) -> Result<
    (
        tokio::sync::mpsc::Sender<Line>,
        Vec<tokio::task::JoinHandle<()>>,
    ),
    OutputError,
> {
    let fail = |reason: String| OutputError::Http {
        name: name.to_owned(),
        reason,
    };
    let mut headers = HeaderMap::new();
    let content_type = match config.format {
        Format::Json => "application/json",
        Format::Text => "text/plain; charset=utf-8",
    };
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    for (key, value) in &config.headers {
        let key = HeaderName::from_bytes(key.as_bytes())
            .map_err(|e| fail(format!("header `{key}`: {e}")))?;
        let value =
            HeaderValue::from_str(value).map_err(|e| fail(format!("header `{key}`: {e}")))?;
        headers.insert(key, value);
    }
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .timeout(config.timeout.0)
        .default_headers(headers)
        .user_agent(concat!("lanner/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &config.ca_file {
        let pem =
            std::fs::read(ca).map_err(|e| fail(format!("cannot read {}: {e}", ca.display())))?;
        for cert in reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| fail(format!("{}: {e}", ca.display())))?
        {
            builder = builder.add_root_certificate(cert);
        }
    }
    let client = builder.build().map_err(|e| fail(e.to_string()))?;
    let (tx, rx) = tokio::sync::mpsc::channel(config.queue);
    let rx = Arc::new(Mutex::new(rx));
    let sender = Arc::new(Sender {
        client,
        url: config.url.clone(),
        max_attempts: config.max_attempts,
        backoff: config.backoff.0,
        max_backoff: config.max_backoff.0,
        labels: Metrics::output(name),
        metrics: Arc::clone(metrics),
    });
    let tasks = (0..config.concurrency)
        .map(|_| {
            let rx = Arc::clone(&rx);
            let sender = Arc::clone(&sender);
            tokio::spawn(async move {
                loop {
                    let next = rx.lock().await.recv().await;
                    let Some(line) = next else { break };
                    sender.send(line).await;
                }
            })
        })
        .collect();
    Ok((tx, tasks))
}

struct Sender {
    client: reqwest::Client,
    url: String,
    max_attempts: u32,
    backoff: Duration,
    max_backoff: Duration,
    labels: OutputLabels,
    metrics: Arc<Metrics>,
}

impl Sender {
    async fn send(&self, line: Line) {
        let mut wait = self.backoff;
        for attempt in 1..=self.max_attempts {
            let result = self
                .client
                .post(&self.url)
                .body(line.text.as_bytes().to_vec())
                .send()
                .await;
            let (retry, reason) = match result {
                Ok(response) if response.status().is_success() => {
                    self.metrics.output_sent.get_or_create(&self.labels).inc();
                    self.metrics
                        .alert_latency_seconds
                        .observe(line.received.elapsed().as_secs_f64());
                    return;
                }
                Ok(response) => {
                    let status = response.status();
                    (
                        status.is_server_error() || status.as_u16() == 429,
                        format!("status {status}"),
                    )
                }
                Err(e) => (true, error_chain(&e)),
            };
            self.metrics.output_errors.get_or_create(&self.labels).inc();
            if !retry || attempt == self.max_attempts {
                self.metrics.output_drops.get_or_create(&self.labels).inc();
                tracing::warn!(output = %self.labels.output, attempts = attempt, "alert dropped: {reason}");
                return;
            }
            tracing::debug!(output = %self.labels.output, attempt, "POST failed ({reason}); retrying in {wait:?}");
            tokio::time::sleep(wait).await;
            wait = (wait.saturating_mul(2)).min(self.max_backoff);
        }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
