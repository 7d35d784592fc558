//! Stopping: a flag every task can wait on, and the signals that set it.
//!
//! SIGTERM and SIGINT start a graceful shutdown (stop accepting, finish
//! in-flight requests, drain the queue, flush outputs); a second one exits at
//! once. SIGHUP reloads the rules, the TLS files, and reopens file outputs.
//! This module only signals; the order of the shutdown steps is in `server`.

use tokio::sync::watch;

/// A one-way flag: once set, every [`Shutdown::wait`] returns.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: std::sync::Arc<watch::Sender<bool>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl Shutdown {
    /// A flag not yet set.
    #[must_use]
    pub fn new() -> Shutdown {
        Shutdown {
            tx: std::sync::Arc::new(watch::channel(false).0),
        }
    }

    /// Sets the flag.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether the flag is set.
    #[must_use]
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// Returns once the flag is set.
    pub async fn wait(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this cannot fail.
        let _ = rx.wait_for(|set| *set).await;
    }
}

/// What a signal asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGHUP: reload.
    Reload,
    /// SIGTERM or SIGINT: stop.
    Stop,
}

/// Listens for SIGHUP, SIGTERM and SIGINT and calls `on` for each; after
/// the first SIGTERM/SIGINT, a second one exits the process with status 130.
pub fn spawn_signal_handler(on: impl Fn(Signal) + Send + 'static) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        let mut stopping = false;
        loop {
            let signal = tokio::select! {
                _ = hup.recv() => Signal::Reload,
                _ = term.recv() => Signal::Stop,
                _ = int.recv() => Signal::Stop,
            };
            if signal == Signal::Stop {
                if stopping {
                    tracing::warn!("second stop signal: exiting now");
                    std::process::exit(130);
                }
                stopping = true;
            }
            on(signal);
        }
    });
    Ok(())
}
