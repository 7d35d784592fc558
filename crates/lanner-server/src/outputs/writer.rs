//! The stdout and file outputs: a thread writing lines through a buffer,
//! flushed whenever its queue is empty.
//!
//! A file is opened in append mode and reopened (same path) when SIGHUP
//! bumps the [`Reopen`] generation, so `logrotate` can rename it and send
//! SIGHUP, or use `copytruncate`, which needs nothing from us since the file
//! is in append mode.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::{Line, Reopen};
use crate::metrics::Metrics;

/// Where the lines go.
pub(super) enum Target {
    Stdout,
    File {
        path: PathBuf,
        file: Option<BufWriter<File>>,
    },
}

impl Target {
    /// Opens `path` for appending (creating it), to fail at start-up rather
    /// than at the first alert.
    pub(super) fn file(path: &Path) -> io::Result<Target> {
        Ok(Target::File {
            path: path.to_owned(),
            file: Some(BufWriter::with_capacity(1 << 16, open(path)?)),
        })
    }

    fn write_line(&mut self, stdout: &mut BufWriter<io::Stdout>, line: &str) -> io::Result<()> {
        let out: &mut dyn Write = match self {
            Target::Stdout => stdout,
            Target::File { path, file } => {
                if file.is_none() {
                    *file = Some(BufWriter::with_capacity(1 << 16, open(path)?));
                }
                file.as_mut().expect("opened above")
            }
        };
        out.write_all(line.as_bytes())?;
        out.write_all(b"\n")
    }

    fn flush(&mut self, stdout: &mut BufWriter<io::Stdout>) -> io::Result<()> {
        match self {
            Target::Stdout => stdout.flush(),
            Target::File {
                file: Some(file), ..
            } => file.flush(),
            Target::File { file: None, .. } => Ok(()),
        }
    }

    /// Closes the file; the next write opens the path again.
    fn reopen(&mut self, stdout: &mut BufWriter<io::Stdout>) -> io::Result<()> {
        let flushed = self.flush(stdout);
        if let Target::File { file, path } = self {
            *file = None;
            tracing::info!(path = %path.display(), "reopening alert file");
        }
        flushed
    }
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}

/// Lines written between flushes, at most.
const BATCH: usize = 1024;

/// Starts the thread; it ends when every sender is gone and the queue is written.
pub(super) fn spawn(
    rx: Receiver<Line>,
    mut target: Target,
    name: &str,
    metrics: Arc<Metrics>,
    reopen: Reopen,
) -> JoinHandle<()> {
    let labels = Metrics::output(name);
    std::thread::Builder::new()
        .name(format!("output-{name}"))
        .spawn(move || {
            let mut stdout = BufWriter::with_capacity(1 << 16, io::stdout());
            let mut generation = reopen.generation();
            let mut pending: Vec<Instant> = Vec::with_capacity(BATCH);
            let mut failing = false;
            loop {
                let first = match rx.recv_timeout(Duration::from_millis(250)) {
                    Ok(line) => Some(line),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => break,
                };
                if reopen.generation() != generation {
                    generation = reopen.generation();
                    let _ = target.reopen(&mut stdout);
                }
                let mut result = Ok(());
                for line in first
                    .into_iter()
                    .chain(std::iter::from_fn(|| rx.try_recv().ok()).take(BATCH))
                {
                    pending.push(line.received);
                    result = result.and(target.write_line(&mut stdout, &line.text));
                }
                if pending.is_empty() {
                    continue;
                }
                result = result.and(target.flush(&mut stdout));
                let count = pending.len() as u64;
                match result {
                    Ok(()) => {
                        for received in pending.drain(..) {
                            metrics
                                .alert_latency_seconds
                                .observe(received.elapsed().as_secs_f64());
                        }
                        metrics.output_sent.get_or_create(&labels).inc_by(count);
                        if failing {
                            tracing::info!(output = %labels.output, "output writes again");
                            failing = false;
                        }
                    }
                    Err(e) => {
                        pending.clear();
                        metrics.output_errors.get_or_create(&labels).inc();
                        metrics.output_drops.get_or_create(&labels).inc_by(count);
                        if !failing {
                            tracing::error!(output = %labels.output, "cannot write alerts: {e}");
                            failing = true;
                        }
                        // Reopen next time: the file may have been removed or the disk filled.
                        let _ = target.reopen(&mut stdout);
                    }
                }
            }
            let _ = target.flush(&mut stdout);
        })
        .expect("spawn output thread")
}
