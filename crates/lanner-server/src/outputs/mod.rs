//! Where alerts go: stdout, files, HTTP receivers, programs.
//!
//! Each output has its own format, minimum priority, bounded queue and
//! thread or task, so a slow output does not hold up the others more than
//! its queue allows. Two policies, chosen by what the output is for:
//!
//! * **stdout and file** are local and reliable: when their queue is full,
//!   evaluation waits (which fills the pipeline, which makes the webhook
//!   answer 503, which makes the API server retry): nothing is lost.
//! * **http and program** depend on something outside Lanner: when their
//!   queue is full the alert is dropped for that output and counted in
//!   `lanner_output_drops_total`, so a dead receiver cannot stop detection.
//!
//! An alert is rendered at most once per format, in the evaluation worker
//! (rendering needs the engine that raised it), and shared between outputs.

mod http;
mod program;
mod writer;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Sender, TrySendError};
use lanner_engine::{Alert, Engine};
use lanner_rules::Priority;

use crate::config::{Format, OutputConfig, StdoutOutput};
use crate::metrics::{AlertLabels, Metrics, OutputLabels};

/// Why an output could not start.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file output's file could not be opened.
    #[error("output `{name}`: cannot open {path}: {source}")]
    Open {
        /// The output.
        name: String,
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// An HTTP output could not be set up (bad CA file, bad header).
    #[error("output `{name}`: {reason}")]
    Http {
        /// The output.
        name: String,
        /// Why.
        reason: String,
    },
}

/// One rendered alert on its way to an output.
#[derive(Clone, Debug)]
pub struct Line {
    /// The alert in the output's format, without a line break.
    pub text: Arc<str>,
    /// When the request that carried the event arrived.
    pub received: Instant,
}

enum Sink {
    /// Waits when full.
    Blocking(Sender<Line>),
    /// Drops when full.
    Lossy(Sender<Line>),
    /// Drops when full (an async task consumes it).
    Task(tokio::sync::mpsc::Sender<Line>),
}

struct Output {
    labels: OutputLabels,
    format: Format,
    min_priority: Priority,
    sink: Sink,
}

/// The configured outputs, as the evaluation workers see them.
pub struct Outputs {
    list: Vec<Output>,
    metrics: Arc<Metrics>,
}

/// The threads and tasks behind the outputs, to wait for on shutdown.
pub struct Running {
    threads: Vec<JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Asks file outputs to reopen their files (after logrotate moved them).
#[derive(Clone, Debug, Default)]
pub struct Reopen(Arc<AtomicU64>);

impl Reopen {
    /// Asks every file output to reopen its file before its next write.
    pub fn trigger(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    fn generation(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Starts every output; an empty list means stdout in `default_format`.
/// HTTP outputs run on the current tokio runtime.
pub fn start(
    configs: &[OutputConfig],
    default_format: Format,
    metrics: &Arc<Metrics>,
    reopen: &Reopen,
) -> Result<(Outputs, Running), OutputError> {
    let fallback = [OutputConfig::Stdout(StdoutOutput {
        format: default_format,
        ..StdoutOutput::default()
    })];
    let configs = if configs.is_empty() {
        &fallback[..]
    } else {
        configs
    };
    let names = names(configs);
    let mut list = Vec::new();
    let mut running = Running {
        threads: Vec::new(),
        tasks: Vec::new(),
    };
    for (config, name) in configs.iter().zip(names) {
        let (_, format, min_priority) = config.common();
        let labels = Metrics::output(&name);
        let sink = match config {
            OutputConfig::Stdout(o) => {
                let (tx, rx) = crossbeam_channel::bounded(o.queue.max(1));
                let target = writer::Target::Stdout;
                running.threads.push(writer::spawn(
                    rx,
                    target,
                    &name,
                    Arc::clone(metrics),
                    reopen.clone(),
                ));
                Sink::Blocking(tx)
            }
            OutputConfig::File(o) => {
                let target = writer::Target::file(&o.path).map_err(|source| OutputError::Open {
                    name: name.clone(),
                    path: o.path.display().to_string(),
                    source,
                })?;
                let (tx, rx) = crossbeam_channel::bounded(o.queue);
                running.threads.push(writer::spawn(
                    rx,
                    target,
                    &name,
                    Arc::clone(metrics),
                    reopen.clone(),
                ));
                Sink::Blocking(tx)
            }
            OutputConfig::Program(o) => {
                let (tx, rx) = crossbeam_channel::bounded(o.queue.max(1));
                running
                    .threads
                    .push(program::spawn(rx, o.clone(), &name, Arc::clone(metrics)));
                Sink::Lossy(tx)
            }
            OutputConfig::Http(o) => {
                let (tx, tasks) = http::spawn(o, &name, metrics)?;
                running.tasks.extend(tasks);
                Sink::Task(tx)
            }
        };
        tracing::info!(output = %name, kind = config.kind(), "output ready");
        list.push(Output {
            labels,
            format,
            min_priority,
            sink,
        });
    }
    Ok((
        Outputs {
            list,
            metrics: Arc::clone(metrics),
        },
        running,
    ))
}

/// Output names: `name:` if given, else the type, numbered when repeated.
fn names(configs: &[OutputConfig]) -> Vec<String> {
    let base: Vec<String> = configs
        .iter()
        .map(|c| c.common().0.clone().unwrap_or_else(|| c.kind().to_owned()))
        .collect();
    base.iter()
        .enumerate()
        .map(|(i, name)| {
            if base.iter().filter(|n| *n == name).count() > 1 {
                format!("{name}-{i}")
            } else {
                name.clone()
            }
        })
        .collect()
}

impl Outputs {
    /// Counts `alert` and hands it to every output whose minimum priority it
    /// reaches, rendered in that output's format.
    pub fn dispatch(&self, engine: &Engine, alert: &Alert, received: Instant) {
        let rule = &engine.rule(alert).rule;
        self.metrics
            .alerts
            .get_or_create(&AlertLabels {
                rule: rule.name.clone(),
                priority: rule.priority.as_str().to_owned(),
            })
            .inc();
        let mut text: Option<Arc<str>> = None;
        let mut json: Option<Arc<str>> = None;
        for output in &self.list {
            if rule.priority > output.min_priority {
                continue;
            }
            let rendered = match output.format {
                Format::Text => text.get_or_insert_with(|| engine.render_text(alert).into()),
                Format::Json => json.get_or_insert_with(|| engine.render_json(alert).into()),
            };
            let line = Line {
                text: Arc::clone(rendered),
                received,
            };
            let delivered = match &output.sink {
                Sink::Blocking(tx) => tx.send(line).is_ok(),
                Sink::Lossy(tx) => !matches!(
                    tx.try_send(line),
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_))
                ),
                Sink::Task(tx) => tx.try_send(line).is_ok(),
            };
            if !delivered {
                self.metrics
                    .output_drops
                    .get_or_create(&output.labels)
                    .inc();
            }
        }
    }
}

impl Running {
    /// Waits for every output to write what it was given (their queues
    /// close when the [`Outputs`] is dropped), for at most `timeout`.
    pub async fn finish(self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("an http output did not finish sending in time");
                abort.abort();
            }
        }
        let threads = self.threads;
        let joined = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        });
        if tokio::time::timeout_at(deadline, joined).await.is_err() {
            tracing::warn!("an output did not finish writing in time");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn repeated_output_types_get_numbered_names() {
        let config = Config::load(
            None,
            &[
                "outputs=[{type: stdout}, {type: file, path: /tmp/a}, {type: file, path: /tmp/b, name: audit}, {type: stdout}]"
                    .to_owned(),
            ],
        )
        .unwrap();
        assert_eq!(
            names(&config.outputs),
            ["stdout-0", "file", "audit", "stdout-3"]
        );
    }
}
