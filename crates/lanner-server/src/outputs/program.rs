//! The program output: a long-running shell command fed one alert per line
//! on its standard input, restarted when it exits.
//!
//! A restart waits `restart_backoff`, doubled while the command keeps
//! exiting, up to 30 s; it goes back to the configured wait once a command
//! has run for a minute. A line whose write fails is written once more to the
//! restarted command. On shutdown stdin is closed and the command gets 5 s to
//! finish before it is killed.

use std::io::{BufWriter, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use super::Line;
use crate::config::ProgramOutput;
use crate::metrics::{Metrics, OutputLabels};

const MAX_BACKOFF: Duration = Duration::from_secs(30);
const HEALTHY_AFTER: Duration = Duration::from_secs(60);

struct Program {
    config: ProgramOutput,
    labels: OutputLabels,
    metrics: Arc<Metrics>,
    child: Option<(Child, BufWriter<ChildStdin>, Instant)>,
    backoff: Duration,
    next_start: Instant,
    started_once: bool,
}

impl Program {
    /// The running command's stdin, starting it if it is time.
    fn stdin(&mut self) -> Option<&mut BufWriter<ChildStdin>> {
        self.reap();
        if self.child.is_none() {
            let wait = self.next_start.saturating_duration_since(Instant::now());
            std::thread::sleep(wait);
            self.start();
        }
        self.child.as_mut().map(|(_, stdin, _)| stdin)
    }

    fn start(&mut self) {
        let spawned = Command::new("sh")
            .arg("-c")
            .arg(&self.config.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::inherit())
            .stderr(Stdio::inherit())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let stdin = child.stdin.take().expect("stdin is piped");
                if self.started_once {
                    self.metrics
                        .output_restarts
                        .get_or_create(&self.labels)
                        .inc();
                    tracing::info!(output = %self.labels.output, pid = child.id(), "program restarted");
                } else {
                    tracing::info!(output = %self.labels.output, pid = child.id(), "program started");
                }
                self.started_once = true;
                self.child = Some((child, BufWriter::new(stdin), Instant::now()));
            }
            Err(e) => {
                self.metrics.output_errors.get_or_create(&self.labels).inc();
                tracing::error!(output = %self.labels.output, "cannot start `sh -c {}`: {e}", self.config.command);
                self.schedule_restart(None);
            }
        }
    }

    /// Notices a command that exited and schedules its restart.
    fn reap(&mut self) {
        let exited = match &mut self.child {
            Some((child, _, started)) => match child.try_wait() {
                Ok(Some(status)) => Some((status.to_string(), *started)),
                Ok(None) => None,
                Err(e) => Some((e.to_string(), *started)),
            },
            None => None,
        };
        if let Some((status, started)) = exited {
            self.child = None;
            self.metrics.output_errors.get_or_create(&self.labels).inc();
            tracing::warn!(output = %self.labels.output, "program exited ({status}); restarting");
            self.schedule_restart(Some(started));
        }
    }

    fn schedule_restart(&mut self, started: Option<Instant>) {
        if started.is_some_and(|s| s.elapsed() >= HEALTHY_AFTER) {
            self.backoff = self.config.restart_backoff.0;
        }
        let now = Instant::now();
        self.next_start = now.checked_add(self.backoff).unwrap_or(now + MAX_BACKOFF);
        self.backoff = self.backoff.saturating_mul(2).min(MAX_BACKOFF);
    }

    /// Kills a command whose stdin failed, so that it is restarted.
    fn fail(&mut self, e: &std::io::Error) {
        if let Some((mut child, _, started)) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            self.metrics.output_errors.get_or_create(&self.labels).inc();
            tracing::warn!(output = %self.labels.output, "cannot write to program ({e}); restarting");
            self.schedule_restart(Some(started));
        }
    }

    fn write(&mut self, line: &Line) -> bool {
        for _ in 0..2 {
            let Some(stdin) = self.stdin() else { continue };
            let result = stdin
                .write_all(line.text.as_bytes())
                .and_then(|()| stdin.write_all(b"\n"));
            match result {
                Ok(()) => return true,
                Err(e) => self.fail(&e),
            }
        }
        false
    }

    fn flush(&mut self) {
        if let Some((_, stdin, _)) = &mut self.child {
            if let Err(e) = stdin.flush() {
                self.fail(&e);
            }
        }
    }

    fn stop(&mut self) {
        if let Some((mut child, stdin, _)) = self.child.take() {
            drop(stdin);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Starts the thread; it ends when every sender is gone and the queue is written.
pub(super) fn spawn(
    rx: Receiver<Line>,
    config: ProgramOutput,
    name: &str,
    metrics: Arc<Metrics>,
) -> JoinHandle<()> {
    let labels = Metrics::output(name);
    std::thread::Builder::new()
        .name(format!("output-{name}"))
        .spawn(move || {
            let mut program = Program {
                backoff: config.restart_backoff.0,
                config,
                labels,
                metrics,
                child: None,
                next_start: Instant::now(),
                started_once: false,
            };
            program.start();
            loop {
                let line = match rx.recv_timeout(Duration::from_millis(250)) {
                    Ok(line) => line,
                    Err(RecvTimeoutError::Timeout) => {
                        program.reap();
                        if program.child.is_none() && Instant::now() >= program.next_start {
                            program.start();
                        }
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                };
                for line in std::iter::once(line)
                    .chain(std::iter::from_fn(|| rx.try_recv().ok()).take(1024))
                {
                    if program.write(&line) {
                        program
                            .metrics
                            .output_sent
                            .get_or_create(&program.labels)
                            .inc();
                        program
                            .metrics
                            .alert_latency_seconds
                            .observe(line.received.elapsed().as_secs_f64());
                    } else {
                        program
                            .metrics
                            .output_drops
                            .get_or_create(&program.labels)
                            .inc();
                    }
                }
                program.flush();
            }
            program.stop();
        })
        .expect("spawn output thread")
}
