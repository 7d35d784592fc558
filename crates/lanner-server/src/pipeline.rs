//! The bounded queue between the HTTP handlers and the evaluation workers.
//!
//! A handler decodes its request body into events and [`Pipeline::submit`]s
//! them as one batch. The bound is in *events* (a semaphore with one permit
//! per event; the permits travel with the batch and are returned when it has
//! been evaluated), so memory stays bounded whatever the batch sizes. A
//! batch either fits whole or is refused whole: the handler then answers 503
//! with `Retry-After` and the API server's webhook backend sends the batch
//! again. A batch that was submitted is evaluated, even during shutdown:
//! [`Workers::finish`] drains the queue before returning.
//!
//! Evaluation runs on plain threads (it is CPU-bound and never awaits),
//! each batch against the engine in force when the batch starts.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender};
use lanner_audit::Event;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::{Metrics, gauge};
use crate::outputs::Outputs;
use crate::reload::Rules;

/// Why a batch was not accepted.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The queue has no room for the batch now.
    #[error("the evaluation queue is full")]
    Full,
    /// The batch is larger than the whole queue.
    #[error("a batch of {events} events is larger than the queue ({capacity} events)")]
    TooLarge {
        /// Events in the batch.
        events: usize,
        /// The queue's capacity.
        capacity: usize,
    },
    /// The server is shutting down.
    #[error("the server is shutting down")]
    Closed,
}

struct Batch {
    events: Vec<Event>,
    received: Instant,
    _permit: OwnedSemaphorePermit,
}

/// The sending side, shared by the handlers.
pub struct Pipeline {
    tx: Mutex<Option<Sender<Batch>>>,
    permits: Arc<Semaphore>,
    capacity: usize,
    metrics: Arc<Metrics>,
}

/// The evaluation threads.
pub struct Workers(Vec<JoinHandle<()>>);

impl Pipeline {
    /// Starts `workers` evaluation threads behind a queue of `capacity` events.
    #[must_use]
    pub fn start(
        workers: usize,
        capacity: usize,
        rules: &Arc<Rules>,
        outputs: &Arc<Outputs>,
        metrics: &Arc<Metrics>,
    ) -> (Pipeline, Workers) {
        let capacity = capacity.min(Semaphore::MAX_PERMITS).min(u32::MAX as usize);
        let (tx, rx) = crossbeam_channel::unbounded();
        let permits = Arc::new(Semaphore::new(capacity));
        metrics.queue_capacity.set(gauge(capacity));
        let threads = (0..workers)
            .map(|i| {
                let rx = rx.clone();
                let (rules, outputs, metrics, permits) = (
                    Arc::clone(rules),
                    Arc::clone(outputs),
                    Arc::clone(metrics),
                    Arc::clone(&permits),
                );
                std::thread::Builder::new()
                    .name(format!("eval-{i}"))
                    .spawn(move || evaluate(&rx, &rules, &outputs, &metrics, &permits, capacity))
                    .expect("spawn evaluation thread")
            })
            .collect();
        let pipeline = Pipeline {
            tx: Mutex::new(Some(tx)),
            permits,
            capacity,
            metrics: Arc::clone(metrics),
        };
        (pipeline, Workers(threads))
    }

    /// Queues `events` as one batch, or refuses them all.
    pub fn submit(&self, events: Vec<Event>, received: Instant) -> Result<(), SubmitError> {
        if events.is_empty() {
            return Ok(());
        }
        let n = events.len();
        if n > self.capacity {
            return Err(SubmitError::TooLarge {
                events: n,
                capacity: self.capacity,
            });
        }
        let guard = self
            .tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let tx = guard.as_ref().ok_or(SubmitError::Closed)?;
        let permit = Arc::clone(&self.permits)
            .try_acquire_many_owned(n as u32)
            .map_err(|_| SubmitError::Full)?;
        tx.send(Batch {
            events,
            received,
            _permit: permit,
        })
        .map_err(|_| SubmitError::Closed)?;
        drop(guard);
        self.metrics
            .queue_events
            .set(gauge(self.capacity - self.permits.available_permits()));
        Ok(())
    }

    /// Events waiting, and the capacity.
    #[must_use]
    pub fn depth(&self) -> (usize, usize) {
        (
            self.capacity - self.permits.available_permits(),
            self.capacity,
        )
    }

    /// Accepts no more batches; the workers finish the queued ones and stop.
    pub fn close(&self) {
        self.tx
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
    }
}

fn evaluate(
    rx: &Receiver<Batch>,
    rules: &Rules,
    outputs: &Outputs,
    metrics: &Metrics,
    permits: &Semaphore,
    capacity: usize,
) {
    let mut alerts = Vec::new();
    let mut scratch = rules.engine().scratch();
    while let Ok(batch) = rx.recv() {
        let engine = rules.engine();
        for event in &batch.events {
            alerts.clear();
            engine.process_with(event, &mut scratch, &mut alerts);
            for alert in &alerts {
                outputs.dispatch(&engine, alert, batch.received);
            }
        }
        metrics.events_processed.inc_by(batch.events.len() as u64);
        drop(batch);
        metrics
            .queue_events
            .set(gauge(capacity - permits.available_permits()));
    }
}

impl Workers {
    /// Waits until every queued batch is evaluated (call [`Pipeline::close`] first).
    pub async fn finish(self) {
        let threads = self.0;
        let _ = tokio::task::spawn_blocking(move || {
            for thread in threads {
                let _ = thread.join();
            }
        })
        .await;
    }
}
