//! Structured logs with `tracing`: text or JSON lines on stderr.
//!
//! Alerts never go through the log; they go to outputs. The level is a
//! `tracing` filter (`info`, or `info,lanner_server=debug`); `RUST_LOG`
//! wins when set.

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
#[error("log.level `{level}`: {reason}")]
pub struct LogError {
    /// The filter given.
    pub level: String,
    /// Why it is wrong.
    pub reason: String,
}

/// Installs the global subscriber (once; later calls do nothing).
pub fn init(config: &LogConfig) -> Result<(), LogError> {
    let filter = match std::env::var("RUST_LOG") {
        Ok(env) if !env.is_empty() => EnvFilter::try_new(env),
        _ => EnvFilter::try_new(&config.level),
    }
    .map_err(|e| LogError {
        level: config.level.clone(),
        reason: e.to_string(),
    })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _ = match config.format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    Ok(())
}
