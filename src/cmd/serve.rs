//! `lanner serve`: the audit webhook receiver (the `lanner-server` crate).
//!
//! The configuration is resolved here in one place: the YAML file, then the
//! `-o key=value` overrides, then the dedicated flags (which are overrides
//! too: `--listen X` is `-o server.listen=X`), so a flag always wins.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use lanner_server::config::{Config, Format};

use crate::cmd::rules;

/// Arguments of `lanner serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// A rules file or directory (repeatable; default: `rules.paths` of the
    /// config file, else the built-in rules).
    #[arg(short = 'r', long = "rules", value_name = "PATH")]
    pub rules: Vec<PathBuf>,
    /// The configuration file (YAML; see docs/configuration.md).
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Set a configuration key, e.g. `-o server.max_body_size=16MiB` or
    /// `-o outputs.0.min_priority=warning` (repeatable; applied in order).
    #[arg(short = 'o', value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Address to listen on (`server.listen`, default 0.0.0.0:9765).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// TLS certificate chain, PEM (`server.tls.cert_file`).
    #[arg(long = "tls-cert", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key, PEM (`server.tls.key_file`).
    #[arg(long = "tls-key", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
    /// Require client certificates signed by this CA on the audit path
    /// (`server.tls.client_ca_file`).
    #[arg(long = "tls-client-ca", value_name = "FILE")]
    pub tls_client_ca: Option<PathBuf>,
    /// Serve plain HTTP, without TLS (`server.plaintext`; warns on start).
    #[arg(long)]
    pub plaintext: bool,
    /// Alert format on stdout when no outputs are configured.
    #[arg(long, value_enum, default_value_t)]
    pub format: crate::cli::Format,
    /// Check the configuration and the rules, then exit.
    #[arg(long = "check")]
    pub check: bool,
}

pub fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = resolve(args)?;
    lanner_server::log::init(&config.log)?;
    let load: lanner_server::reload::LoadFn = Arc::new(|paths: &[PathBuf]| load_rules(paths));
    if args.check {
        let loaded = load(&config.rules.paths);
        rules::print_diagnostics(&loaded, crate::cli::Format::Text, false)?;
        if loaded.diagnostics.has_errors() {
            return Ok(ExitCode::from(1));
        }
        eprintln!("lanner: configuration and rules are valid");
        return Ok(ExitCode::SUCCESS);
    }
    let format = match args.format {
        crate::cli::Format::Text => Format::Text,
        crate::cli::Format::Json => Format::Json,
    };
    match lanner_server::run(config, load, format) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(e @ lanner_server::ServerError::Rules(_)) => {
            eprintln!("lanner: {e}");
            Ok(ExitCode::from(1))
        }
        Err(e) => Err(e.into()),
    }
}

/// Loads `paths` in order; the path `builtin` stands for the built-in rules,
/// so that files can append to them. No paths: the built-in rules.
pub fn load_rules(paths: &[PathBuf]) -> lanner_rules::Loaded {
    if !paths.iter().any(|p| p.as_os_str() == "builtin") {
        return rules::load(paths);
    }
    let mut loader = lanner_rules::Loader::new();
    for path in paths {
        if path.as_os_str() == "builtin" {
            for (name, text) in rules::BUILTIN {
                loader.add_source(*name, *text);
            }
        } else {
            loader.add_path(path);
        }
    }
    loader.finish()
}

/// The file, then `-o`, then the flags.
fn resolve(args: &ServeArgs) -> anyhow::Result<Config> {
    let mut set = args.set.clone();
    let mut flag = |key: &str, value: Option<String>| {
        if let Some(value) = value {
            set.push(format!("{key}={}", yaml_string(&value)));
        }
    };
    flag("server.listen", args.listen.clone());
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    flag("server.tls.cert_file", path(&args.tls_cert));
    flag("server.tls.key_file", path(&args.tls_key));
    flag("server.tls.client_ca_file", path(&args.tls_client_ca));
    if args.plaintext {
        set.push("server.plaintext=true".to_owned());
    }
    let mut config = Config::load(args.config.as_deref(), &set)?;
    if !args.rules.is_empty() {
        config.rules.paths.clone_from(&args.rules);
    }
    Ok(config)
}

/// A value quoted so that YAML reads it back as this exact string.
fn yaml_string(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
