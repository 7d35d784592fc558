//! Lanner's audit webhook server: the Kubernetes API server's webhook
//! backend POSTs `EventList` batches, Lanner evaluates them and sends the
//! alerts on.
//!
//! ```text
//! POST /k8s-audit ─► handler: auth, size limit, decode ─► pipeline (bounded, in events)
//!                      │ 200 only once queued; 400/413/503      │
//!                      ▼                                        ▼
//!                   metrics ◄──────────── workers: engine (ArcSwap, reloadable)
//!                                                   │
//!                              outputs: stdout │ file │ http │ program
//! ```
//!
//! * [`config`]: the YAML configuration and `-o key=value` overrides;
//! * [`Server`] (`server`, `handler`, [`tls`]): the listener, TLS/mTLS,
//!   the bearer token, the endpoints, the shutdown sequence;
//! * [`pipeline`]: the queue between requests and evaluation;
//! * [`outputs`]: where alerts go;
//! * [`reload`]: rules replaced on SIGHUP or file change, only if they load;
//! * [`follow`]: `lanner run --follow`, reading a log across rotations;
//! * [`metrics`], [`log`], [`shutdown`].
//!
//! It does not know where the built-in rules live: the caller passes a
//! [`LoadFn`].
//!
//! ```
//! use std::sync::Arc;
//! use lanner_server::{Server, config::{Config, Format}};
//!
//! # let rt = tokio::runtime::Runtime::new().unwrap();
//! # rt.block_on(async {
//! let rules = "- rule: Exec\n  desc: exec\n  condition: ka.target.subresource = exec\n  \
//!              output: exec by %ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n";
//! let load = Arc::new(move |_: &[std::path::PathBuf]| {
//!     let mut loader = lanner_rules::Loader::new();
//!     loader.add_source("rules.yaml", rules);
//!     loader.finish()
//! });
//! let config = Config::load(None, &["server.listen=127.0.0.1:0".into(), "server.plaintext=true".into()]).unwrap();
//! let server = Server::start(config, load, Format::Text).await.unwrap();
//! assert_ne!(server.local_addr().port(), 0);
//! server.shutdown();
//! server.wait().await;
//! # });
//! ```

pub mod config;
pub mod follow;
mod handler;
pub mod log;
pub mod metrics;
pub mod outputs;
pub mod pipeline;
pub mod reload;
mod server;
pub mod shutdown;
pub mod tls;

use std::net::SocketAddr;

pub use server::Server;

use crate::config::{Config, Format};
use crate::reload::LoadFn;
use crate::shutdown::Signal;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The configuration does not make sense.
    #[error("{0}")]
    Config(String),
    /// The rules did not load.
    #[error(transparent)]
    Rules(#[from] reload::RulesError),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// An output could not start.
    #[error(transparent)]
    Output(#[from] outputs::OutputError),
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The runtime or the signal handlers could not start.
    #[error("cannot start: {0}")]
    Runtime(#[from] std::io::Error),
}

/// Runs the server until SIGTERM or SIGINT and a graceful shutdown: what
/// `lanner serve` does. SIGHUP reloads rules and TLS files and reopens
/// file outputs.
pub fn run(config: Config, load: LoadFn, default_format: Format) -> Result<(), ServerError> {
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    if config.server.threads > 0 {
        runtime.worker_threads(config.server.threads);
    }
    let runtime = runtime.enable_all().thread_name("lanner-http").build()?;
    runtime.block_on(async move {
        let server = std::sync::Arc::new(Server::start(config, load, default_format).await?);
        let handle = std::sync::Arc::clone(&server);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        shutdown::spawn_signal_handler(move |signal| {
            let _ = tx.send(signal);
        })?;
        let signals = tokio::spawn(async move {
            while let Some(signal) = rx.recv().await {
                match signal {
                    Signal::Reload => {
                        tracing::info!("SIGHUP: reloading rules and TLS files, reopening files");
                        handle.reload().await;
                    }
                    Signal::Stop => handle.shutdown(),
                }
            }
        });
        server.wait().await;
        signals.abort();
        Ok(())
    })
}
