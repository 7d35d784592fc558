//! The HTTP(S) server: the listener, connections, the shutdown sequence.
//!
//! Connections are served by hyper-util's `auto` builder (HTTP/1.1, and
//! HTTP/2 over TLS through ALPN or by prior knowledge) and registered with
//! its `GracefulShutdown`. Stopping goes in this order, so that an event
//! that got a 200 is always evaluated and its alerts written:
//!
//! 1. stop accepting; `/readyz` answers 503;
//! 2. let in-flight requests finish (at most `server.shutdown_timeout`);
//! 3. close the pipeline and let the workers evaluate every queued batch;
//! 4. close the outputs and wait for them to write or send what they hold.
//!
//! The request handlers themselves are in `handler`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::net::{TcpListener, TcpStream};

use crate::ServerError;
use crate::config::{Config, Format};
use crate::handler::{State, service};
use crate::metrics::Metrics;
use crate::outputs::{self, Reopen};
use crate::pipeline::Pipeline;
use crate::reload::{LoadFn, Rules};
use crate::shutdown::Shutdown;
use crate::tls::TlsFiles;

/// How long a client may take for the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// A running server.
pub struct Server {
    addr: SocketAddr,
    shutdown: Shutdown,
    rules: Arc<Rules>,
    reopen: Reopen,
    tls: Option<(TlsFiles, Arc<ArcSwap<rustls::ServerConfig>>)>,
    /// `server.auth.token_file` and the token in use.
    token_file: Option<(PathBuf, Arc<ArcSwap<String>>)>,
    stopped: Shutdown,
}

impl Server {
    /// Loads the rules, starts outputs and workers, binds the listener and
    /// starts serving, on the current tokio runtime.
    pub async fn start(
        config: Config,
        load: LoadFn,
        default_format: Format,
    ) -> Result<Server, ServerError> {
        let metrics = Arc::new(Metrics::new());
        let rules = Arc::new(Rules::new(
            load,
            config.rules.paths.clone(),
            config.rules.engine_options(),
            Arc::clone(&metrics),
        )?);
        tracing::info!(rules = rules.engine().rules().len(), "rules loaded");
        let tls = tls_files(&config)?
            .map(|files| files.load().map(|c| (files, Arc::new(ArcSwap::new(c)))))
            .transpose()?;
        let token = token(&config)?.map(|t| Arc::new(ArcSwap::from_pointee(t)));
        // A token from a file is read again on SIGHUP (a rotated Secret).
        let token_file = config
            .server
            .auth
            .token_file
            .clone()
            .zip(token.as_ref().map(Arc::clone));
        let reopen = Reopen::default();
        let (outputs, outputs_running) =
            outputs::start(&config.outputs, default_format, &metrics, &reopen)?;
        let (pipeline, workers) = Pipeline::start(
            config.pipeline.workers,
            config.pipeline.queue_events,
            &rules,
            &Arc::new(outputs),
            &metrics,
        );
        let listener = TcpListener::bind(config.server.listen)
            .await
            .map_err(|source| ServerError::Bind {
                addr: config.server.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.server.listen,
            source,
        })?;
        if tls.is_none() {
            tracing::warn!(
                "serving plain HTTP (--plaintext): audit events and tokens cross the network unencrypted"
            );
        }
        let shutdown = Shutdown::new();
        let state = Arc::new(State {
            path: config.server.path.clone(),
            max_body: config.server.max_body_size.0,
            token,
            require_client_cert: config.server.tls.client_ca_file.is_some() && tls.is_some(),
            retry_after: config.pipeline.retry_after.0.as_secs().max(1),
            pipeline,
            metrics,
            shutdown: shutdown.clone(),
        });
        tokio::spawn(crate::reload::watch(
            Arc::clone(&rules),
            config.rules.watch_interval.0,
            shutdown.clone(),
        ));
        let acceptor = tls.as_ref().map(|(_, current)| Arc::clone(current));
        let timeouts = (
            config.server.header_timeout.0,
            config.server.shutdown_timeout.0,
        );
        let stopped = Shutdown::new();
        let done = stopped.clone();
        tokio::spawn(async move {
            serve(listener, &state, acceptor, timeouts).await;
            state.pipeline.close();
            workers.finish().await;
            outputs_running.finish(timeouts.1).await;
            tracing::info!("stopped");
            done.trigger();
        });
        tracing::info!("listening on {addr}");
        Ok(Server {
            addr,
            shutdown,
            rules,
            reopen,
            tls,
            token_file,
            stopped,
        })
    }

    /// The address the server listens on (the port chosen when it was 0).
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// What SIGHUP does: reload the rules (kept if the new ones fail), the
    /// TLS files and the token file (same), and reopen file outputs.
    pub async fn reload(&self) {
        let rules = Arc::clone(&self.rules);
        let _ = tokio::task::spawn_blocking(move || rules.reload("SIGHUP")).await;
        if let Some((files, current)) = &self.tls {
            match files.load() {
                Ok(config) => {
                    current.store(config);
                    tracing::info!("TLS certificate and key reloaded");
                }
                Err(e) => tracing::error!("TLS reload failed, keeping the certificate in use: {e}"),
            }
        }
        if let Some((path, current)) = &self.token_file {
            match read_token(path) {
                Ok(token) => {
                    current.store(Arc::new(token));
                    tracing::info!("bearer token reloaded from {}", path.display());
                }
                Err(e) => tracing::error!("token reload failed, keeping the token in use: {e}"),
            }
        }
        self.reopen.trigger();
    }

    /// Starts the graceful shutdown; [`Server::wait`] returns when it is done.
    pub fn shutdown(&self) {
        if !self.shutdown.is_triggered() {
            tracing::info!(
                "shutting down: no new connections; finishing requests, the queue and outputs"
            );
        }
        self.shutdown.trigger();
    }

    /// Waits until the server has stopped: every accepted event evaluated
    /// and its alerts handed over by the outputs.
    pub async fn wait(&self) {
        self.stopped.wait().await;
    }
}

fn tls_files(config: &Config) -> Result<Option<TlsFiles>, ServerError> {
    let tls = &config.server.tls;
    match (config.server.plaintext, &tls.cert_file, &tls.key_file) {
        (true, None, None) if tls.client_ca_file.is_none() => Ok(None),
        (true, ..) => Err(ServerError::Config(
            "plaintext is set together with TLS files: choose one".to_owned(),
        )),
        (false, Some(cert), Some(key)) => Ok(Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: tls.client_ca_file.clone(),
        })),
        (false, ..) => Err(ServerError::Config(
            "TLS needs both server.tls.cert_file and server.tls.key_file (--tls-cert, --tls-key); \
             for plain HTTP say so with --plaintext (server.plaintext: true)"
                .to_owned(),
        )),
    }
}

fn token(config: &Config) -> Result<Option<String>, ServerError> {
    let auth = &config.server.auth;
    let token = match (&auth.token, &auth.token_file) {
        (Some(_), Some(_)) => {
            return Err(ServerError::Config(
                "set server.auth.token or server.auth.token_file, not both".to_owned(),
            ));
        }
        (Some(token), None) => nonempty(token, "server.auth.token"),
        (None, Some(path)) => read_token(path),
        (None, None) => return Ok(None),
    };
    token.map(Some).map_err(ServerError::Config)
}

/// The token in `path`, or why there is none (also what SIGHUP reads again).
fn read_token(path: &Path) -> Result<String, String> {
    let what = format!("server.auth.token_file {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| format!("{what}: {e}"))?;
    nonempty(&text, &what)
}

/// `token` without surrounding whitespace, unless nothing is left (`what` names its place).
fn nonempty(token: &str, what: &str) -> Result<String, String> {
    match token.trim() {
        "" => Err(format!("{what}: the bearer token is empty")),
        token => Ok(token.to_owned()),
    }
}

/// Accepts connections until shutdown, then waits for in-flight requests.
async fn serve(
    listener: TcpListener,
    state: &Arc<State>,
    tls: Option<Arc<ArcSwap<rustls::ServerConfig>>>,
    (header_timeout, shutdown_timeout): (Duration, Duration),
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!("accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = state.shutdown.wait() => break,
        };
        let _ = stream.set_nodelay(true);
        let connection = Connection {
            builder: builder.clone(),
            watcher: graceful.watcher(),
            state: Arc::clone(state),
        };
        match &tls {
            None => connection.serve(TokioIo::new(stream), false),
            Some(current) => {
                let acceptor = tokio_rustls::TlsAcceptor::from(current.load_full());
                tokio::spawn(connection.handshake(acceptor, stream, peer));
            }
        }
    }
    drop(listener);
    if tokio::time::timeout(shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("in-flight requests did not finish within {shutdown_timeout:?}");
    }
}

struct Connection {
    builder: auto::Builder<TokioExecutor>,
    watcher: Watcher,
    state: Arc<State>,
}

impl Connection {
    async fn handshake(
        self,
        acceptor: tokio_rustls::TlsAcceptor,
        stream: TcpStream,
        peer: SocketAddr,
    ) {
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => {
                let client_cert = stream
                    .get_ref()
                    .1
                    .peer_certificates()
                    .is_some_and(|c| !c.is_empty());
                self.serve(TokioIo::new(stream), client_cert);
            }
            Ok(Err(e)) => tracing::info!(%peer, "TLS handshake failed: {e}"),
            Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
        }
    }

    fn serve<I>(self, io: I, client_cert: bool)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let conn = self
            .builder
            .serve_connection(io, service(self.state, client_cert))
            .into_owned();
        let conn = self.watcher.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("connection ended with an error: {e}");
            }
        });
    }
}
