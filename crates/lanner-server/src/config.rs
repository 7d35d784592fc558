//! The configuration file: one YAML document for `lanner serve` and
//! `lanner run`, with `-o key=value` overrides.
//!
//! Overrides are applied to the YAML tree *before* it is deserialized, so a
//! value given on the command line is checked exactly like one in the file.
//! Unknown keys and bad values are errors that name the key path
//! (`outputs[1].min_priority`). Every key and its default is documented in
//! `docs/configuration.md`; this module does not open sockets or files other
//! than the configuration file itself.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lanner_engine::{Options, RuleMatching};
use lanner_rules::Priority;
use serde::Deserialize;
use serde::de::{self, Deserializer};
use serde_norway::Value;

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not YAML.
    #[error("{origin}: not valid YAML: {reason}")]
    Yaml {
        /// The file, or `-o` for an override.
        origin: String,
        /// The parser's message (with line and column).
        reason: String,
    },
    /// A `-o` argument is not `key=value`, or its key cannot be set.
    #[error("-o {arg}: {reason}")]
    Override {
        /// The argument as given.
        arg: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key is unknown or its value is wrong.
    #[error("{origin}: {key}: {reason}")]
    Invalid {
        /// The file, or `defaults` when there is none.
        origin: String,
        /// The key path, e.g. `outputs[0].format`.
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// Alert format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Falco's text line.
    #[default]
    Text,
    /// Falco's JSON object (`json_output: true`).
    Json,
}

/// Log format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per record.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Which rules run.
    pub rules: RulesConfig,
    /// The webhook listener.
    pub server: ServerConfig,
    /// The queue between requests and evaluation.
    pub pipeline: PipelineConfig,
    /// Where alerts go; empty means stdout in the `--format` of the command line.
    pub outputs: Vec<OutputConfig>,
    /// Logging.
    pub log: LogConfig,
}

/// `rules:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Rules files or directories, in load order; empty means the built-in rules.
    pub paths: Vec<PathBuf>,
    /// How often the rules files are checked for changes (`0s` turns it off).
    pub watch_interval: Seconds,
    /// `first` or `all`.
    pub rule_matching: Matching,
    /// Rules less severe than this never run.
    pub min_priority: PriorityName,
    /// Rules disabled by name (`*` matches any text).
    pub disabled_rules: Vec<String>,
    /// Rules with these tags are disabled.
    pub disabled_tags: Vec<String>,
    /// If not empty, only rules with these tags run.
    pub enabled_tags: Vec<String>,
    /// Rules with these tags run even when the files disable them.
    pub included_tags: Vec<String>,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            paths: Vec::new(),
            watch_interval: Seconds(Duration::from_secs(2)),
            rule_matching: Matching::First,
            min_priority: PriorityName(Priority::Debug),
            disabled_rules: Vec::new(),
            disabled_tags: Vec::new(),
            enabled_tags: Vec::new(),
            included_tags: Vec::new(),
        }
    }
}

impl RulesConfig {
    /// The engine options these settings select.
    #[must_use]
    pub fn engine_options(&self) -> Options {
        Options {
            rule_matching: match self.rule_matching {
                Matching::First => RuleMatching::First,
                Matching::All => RuleMatching::All,
            },
            min_priority: self.min_priority.0,
            disabled_rules: self.disabled_rules.clone(),
            disabled_tags: self.disabled_tags.clone(),
            enabled_tags: self.enabled_tags.clone(),
            included_tags: self.included_tags.clone(),
            ..Options::default()
        }
    }
}

/// `rules.rule_matching`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Matching {
    /// At most one alert per event.
    #[default]
    First,
    /// One alert per matching rule.
    All,
}

/// `server:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The path the API server POSTs to.
    pub path: String,
    /// Largest request body accepted; larger ones get 413.
    pub max_body_size: ByteSize,
    /// Serve plain HTTP (no TLS).
    pub plaintext: bool,
    /// TLS files.
    pub tls: TlsConfig,
    /// Bearer token checked on the audit path.
    pub auth: AuthConfig,
    /// How long in-flight requests may take to finish on shutdown.
    pub shutdown_timeout: Seconds,
    /// How long a client may take to send its request headers.
    pub header_timeout: Seconds,
    /// Tokio worker threads for HTTP (0: one per core).
    pub threads: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([0, 0, 0, 0], 9765)),
            path: "/k8s-audit".to_owned(),
            max_body_size: ByteSize(12 << 20),
            plaintext: false,
            tls: TlsConfig::default(),
            auth: AuthConfig::default(),
            shutdown_timeout: Seconds(Duration::from_secs(30)),
            header_timeout: Seconds(Duration::from_secs(30)),
            threads: 0,
        }
    }
}

/// `server.tls:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// PEM certificate chain, leaf first.
    pub cert_file: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: Option<PathBuf>,
    /// PEM CA certificates; when set, clients on the audit path must present
    /// a certificate signed by one of them.
    pub client_ca_file: Option<PathBuf>,
}

/// `server.auth:`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// The token itself (prefer `token_file`).
    pub token: Option<String>,
    /// A file holding the token (surrounding whitespace ignored).
    pub token_file: Option<PathBuf>,
}

/// `pipeline:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Events accepted but not yet evaluated, at most; beyond it requests get 503.
    pub queue_events: usize,
    /// Threads evaluating rules.
    pub workers: usize,
    /// The `Retry-After` of a 503, in whole seconds.
    pub retry_after: Seconds,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            queue_events: 20_000,
            workers: 1,
            retry_after: Seconds(Duration::from_secs(1)),
        }
    }
}

/// One entry of `outputs:`, told apart by its `type:` key.
#[derive(Clone, Debug)]
pub enum OutputConfig {
    /// Alerts on standard output.
    Stdout(StdoutOutput),
    /// Alerts appended to a file, reopened on SIGHUP.
    File(FileOutput),
    /// Each alert sent to a URL with a POST request.
    Http(HttpOutput),
    /// Alerts fed to a long-running command, one per line.
    Program(ProgramOutput),
}

// By hand rather than `#[serde(tag = "type")]`: serde buffers a tagged
// enum's content, which loses the key path of an error inside an entry.
impl<'de> Deserialize<'de> for OutputConfig {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut map = serde_norway::Mapping::deserialize(d)?;
        let kind = match map.remove("type") {
            Some(Value::String(kind)) => kind,
            Some(_) => return Err(de::Error::custom("type: must be a string")),
            None => {
                return Err(de::Error::custom(
                    "missing `type`: use stdout, file, http or program",
                ));
            }
        };
        let rest = Value::Mapping(map);
        match kind.as_str() {
            "stdout" => entry(rest).map(OutputConfig::Stdout),
            "file" => entry(rest).map(OutputConfig::File),
            "http" => entry(rest).map(OutputConfig::Http),
            "program" => entry(rest).map(OutputConfig::Program),
            other => Err(de::Error::custom(format!(
                "unknown output type `{other}`: use stdout, file, http or program"
            ))),
        }
    }
}

/// Deserializes the rest of an output entry, keeping the key path of an error.
fn entry<'de, T: Deserialize<'de>, E: de::Error>(value: Value) -> Result<T, E> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let reason = e.into_inner();
        if path == "." {
            E::custom(reason)
        } else {
            E::custom(format!("{path}: {reason}"))
        }
    })
}

impl OutputConfig {
    /// The output's kind, as in `type:`.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            OutputConfig::Stdout(_) => "stdout",
            OutputConfig::File(_) => "file",
            OutputConfig::Http(_) => "http",
            OutputConfig::Program(_) => "program",
        }
    }

    /// The settings every output has.
    #[must_use]
    pub fn common(&self) -> (&Option<String>, Format, Priority) {
        match self {
            OutputConfig::Stdout(o) => (&o.name, o.format, o.min_priority.0),
            OutputConfig::File(o) => (&o.name, o.format, o.min_priority.0),
            OutputConfig::Http(o) => (&o.name, o.format, o.min_priority.0),
            OutputConfig::Program(o) => (&o.name, o.format, o.min_priority.0),
        }
    }
}

/// `type: stdout`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StdoutOutput {
    /// Name in metrics and logs (default: the type).
    pub name: Option<String>,
    /// `text` or `json`.
    pub format: Format,
    /// Alerts less severe than this are not sent here.
    pub min_priority: PriorityName,
    /// Alerts waiting to be written, at most (evaluation waits when full).
    pub queue: usize,
}

impl Default for StdoutOutput {
    fn default() -> Self {
        StdoutOutput {
            name: None,
            format: Format::Text,
            min_priority: PriorityName::default(),
            queue: default_queue(),
        }
    }
}

/// `type: file`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileOutput {
    /// Name in metrics and logs (default: the type).
    #[serde(default)]
    pub name: Option<String>,
    /// The file (created if absent, appended to).
    pub path: PathBuf,
    /// `text` or `json`.
    #[serde(default)]
    pub format: Format,
    /// Alerts less severe than this are not sent here.
    #[serde(default)]
    pub min_priority: PriorityName,
    /// Alerts waiting to be written, at most (evaluation waits when full).
    #[serde(default = "default_queue")]
    pub queue: usize,
}

/// `type: http`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpOutput {
    /// Name in metrics and logs (default: the type).
    #[serde(default)]
    pub name: Option<String>,
    /// Where to POST (e.g. falcosidekick's `http://falcosidekick:2801/`).
    pub url: String,
    /// `json` (Falco's alert object; the default) or `text`.
    #[serde(default = "json_format")]
    pub format: Format,
    /// Alerts less severe than this are not sent here.
    #[serde(default)]
    pub min_priority: PriorityName,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Timeout of one attempt.
    #[serde(default = "default_http_timeout")]
    pub timeout: Seconds,
    /// Attempts per alert, the first included.
    #[serde(default = "default_attempts")]
    pub max_attempts: u32,
    /// Wait before the first retry; doubled after each, up to `max_backoff`.
    #[serde(default = "default_backoff")]
    pub backoff: Seconds,
    /// Longest wait between attempts.
    #[serde(default = "default_max_backoff")]
    pub max_backoff: Seconds,
    /// Alerts waiting to be sent, at most; more are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// Extra PEM CA certificates to trust for `https://` URLs.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

/// `type: program`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgramOutput {
    /// Name in metrics and logs (default: the type).
    #[serde(default)]
    pub name: Option<String>,
    /// A shell command (`sh -c`), fed one alert per line on stdin.
    pub command: String,
    /// `text` or `json`.
    #[serde(default)]
    pub format: Format,
    /// Alerts less severe than this are not sent here.
    #[serde(default)]
    pub min_priority: PriorityName,
    /// Alerts waiting to be written, at most; more are dropped and counted.
    #[serde(default = "default_queue")]
    pub queue: usize,
    /// Wait before restarting the command after it exits (doubled while it
    /// keeps failing, up to 30 s).
    #[serde(default = "default_backoff")]
    pub restart_backoff: Seconds,
}

fn default_queue() -> usize {
    10_000
}
fn json_format() -> Format {
    Format::Json
}
fn default_http_timeout() -> Seconds {
    Seconds(Duration::from_secs(5))
}
fn default_attempts() -> u32 {
    5
}
fn default_backoff() -> Seconds {
    Seconds(Duration::from_millis(500))
}
fn default_max_backoff() -> Seconds {
    Seconds(Duration::from_secs(30))
}
fn default_concurrency() -> usize {
    4
}

/// `log:`
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `text` or `json`.
    pub format: LogFormat,
    /// A level (`info`) or a `tracing` filter (`info,lanner_server=debug`).
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".to_owned(),
        }
    }
}

/// A priority name in the config (`warning`, `INFO`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorityName(pub Priority);

impl Default for PriorityName {
    fn default() -> Self {
        PriorityName(Priority::Debug)
    }
}

impl<'de> Deserialize<'de> for PriorityName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Priority::parse(&text).map(PriorityName).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown priority `{text}`: use emergency, alert, critical, error, warning, notice, informational or debug"
            ))
        })
    }
}

/// A duration: a number of seconds, or text such as `250ms`, `2s`, `5m`, `1h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seconds(pub Duration);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Int(n) => Ok(Seconds(Duration::from_secs(n))),
            NumOrText::Num(n) if n >= 0.0 && n.is_finite() => Duration::try_from_secs_f64(n)
                .map(Seconds)
                .map_err(|_| de::Error::custom(format!("duration {n} is too large"))),
            NumOrText::Num(n) => Err(de::Error::custom(format!(
                "duration {n} is negative or not finite"
            ))),
            NumOrText::Text(t) => parse_duration(&t).map(Seconds).ok_or_else(|| {
                de::Error::custom(format!(
                    "bad duration `{t}`: use e.g. 500ms, 2s, 5m, 1h or a number of seconds"
                ))
            }),
        }
    }
}

/// A size in bytes: a number, or text such as `512KiB`, `12MiB`, `1GB`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match NumOrText::deserialize(d)? {
            NumOrText::Int(n) => Ok(ByteSize(n)),
            NumOrText::Num(n) => Err(de::Error::custom(format!(
                "size {n} is not a whole number of bytes"
            ))),
            NumOrText::Text(t) => parse_size(&t).map(ByteSize).ok_or_else(|| {
                de::Error::custom(format!(
                    "bad size `{t}`: use e.g. 65536, 512KiB, 12MiB or 1GB"
                ))
            }),
        }
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} bytes", self.0)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumOrText {
    Int(u64),
    Num(f64),
    Text(String),
}

/// `250ms`, `2s`, `1.5s`, `5m`, `1h`.
fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (num, unit) = text.split_at(split);
    let num: f64 = num.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 0.001,
        "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        _ => return None,
    };
    Duration::try_from_secs_f64(num * factor).ok()
}

/// `65536`, `512KiB`, `12MiB`, `1GB`, `10kB`.
fn parse_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let num: u64 = num.parse().ok()?;
    let factor: u64 = match unit.trim() {
        "" | "B" => 1,
        "k" | "kB" | "KB" => 1000,
        "KiB" | "Ki" => 1 << 10,
        "MB" | "M" => 1_000_000,
        "MiB" | "Mi" => 1 << 20,
        "GB" | "G" => 1_000_000_000,
        "GiB" | "Gi" => 1 << 30,
        _ => return None,
    };
    num.checked_mul(factor)
}

impl Config {
    /// Reads `path` (if any), applies `overrides` (`key.path=value`, the
    /// value read as YAML), and checks the result.
    pub fn load(path: Option<&Path>, overrides: &[String]) -> Result<Config, ConfigError> {
        let (origin, mut tree) = match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let origin = path.display().to_string();
                let tree: Value = serde_norway::from_str(&text).map_err(|e| ConfigError::Yaml {
                    origin: origin.clone(),
                    reason: e.to_string(),
                })?;
                (origin, tree)
            }
            None => ("configuration".to_owned(), Value::Null),
        };
        if tree.is_null() {
            tree = Value::Mapping(serde_norway::Mapping::new());
        }
        for arg in overrides {
            apply_override(&mut tree, arg)?;
        }
        Config::from_tree(tree, &origin)
    }

    /// Checks a YAML tree.
    fn from_tree(tree: Value, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = serde_path_to_error::deserialize(tree).map_err(|e| {
            let key = e.path().to_string();
            ConfigError::Invalid {
                origin: origin.to_owned(),
                key: if key == "." {
                    "(top level)".to_owned()
                } else {
                    key
                },
                reason: e.into_inner().to_string(),
            }
        })?;
        config
            .check()
            .map_err(|(key, reason)| ConfigError::Invalid {
                origin: origin.to_owned(),
                key,
                reason,
            })?;
        Ok(config)
    }

    /// Checks what types alone do not.
    fn check(&self) -> Result<(), (String, String)> {
        if !self.server.path.starts_with('/') {
            return Err((
                "server.path".into(),
                format!("`{}` must start with `/`", self.server.path),
            ));
        }
        if self.pipeline.queue_events == 0 {
            return Err(("pipeline.queue_events".into(), "must be at least 1".into()));
        }
        if self.pipeline.workers == 0 || self.pipeline.workers > 1024 {
            return Err((
                "pipeline.workers".into(),
                "must be between 1 and 1024".into(),
            ));
        }
        for (i, output) in self.outputs.iter().enumerate() {
            let key = |k: &str| format!("outputs[{i}].{k}");
            match output {
                OutputConfig::Http(h) => {
                    if !(h.url.starts_with("http://") || h.url.starts_with("https://")) {
                        return Err((
                            key("url"),
                            format!("`{}` is not an http:// or https:// URL", h.url),
                        ));
                    }
                    if h.max_attempts == 0 {
                        return Err((key("max_attempts"), "must be at least 1".into()));
                    }
                    if h.queue == 0 || h.concurrency == 0 {
                        return Err((
                            key("queue"),
                            "queue and concurrency must be at least 1".into(),
                        ));
                    }
                }
                OutputConfig::Program(p) if p.command.trim().is_empty() => {
                    return Err((key("command"), "must not be empty".into()));
                }
                OutputConfig::File(FileOutput { queue: 0, .. })
                | OutputConfig::Stdout(StdoutOutput { queue: 0, .. })
                | OutputConfig::Program(ProgramOutput { queue: 0, .. }) => {
                    return Err((key("queue"), "must be at least 1".into()));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Sets `key.path=value` in `tree`: mappings are created as needed, a
/// numeric segment indexes a sequence (`outputs.0.format=json`).
fn apply_override(tree: &mut Value, arg: &str) -> Result<(), ConfigError> {
    let fail = |reason: String| ConfigError::Override {
        arg: arg.to_owned(),
        reason,
    };
    let (key, text) = arg
        .split_once('=')
        .ok_or_else(|| fail("expected key=value, e.g. server.listen=0.0.0.0:9765".into()))?;
    if key.is_empty() || key.split('.').any(str::is_empty) {
        return Err(fail("empty key".into()));
    }
    let value: Value = if text.is_empty() {
        Value::String(String::new())
    } else {
        serde_norway::from_str(text).map_err(|e| fail(format!("value is not valid YAML: {e}")))?
    };
    let mut node = tree;
    let mut walked = String::new();
    for segment in key.split('.') {
        if !walked.is_empty() {
            walked.push('.');
        }
        walked.push_str(segment);
        if node.is_null() {
            if segment.parse::<usize>().is_ok() {
                return Err(fail(format!("`{walked}`: there is no list here to index")));
            }
            *node = Value::Mapping(serde_norway::Mapping::new());
        }
        node = match node {
            Value::Mapping(map) => map
                .entry(Value::String(segment.to_owned()))
                .or_insert(Value::Null),
            Value::Sequence(items) => {
                let index: usize = segment
                    .parse()
                    .map_err(|_| fail(format!("`{walked}`: a list needs a number here")))?;
                let len = items.len();
                items
                    .get_mut(index)
                    .ok_or_else(|| fail(format!("`{walked}`: the list has {len} entries")))?
            }
            _ => return Err(fail(format!("`{walked}`: its parent is not a mapping"))),
        };
    }
    *node = value;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str, overrides: &[&str]) -> Result<Config, ConfigError> {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), text).unwrap();
        let overrides: Vec<String> = overrides.iter().map(|s| (*s).to_owned()).collect();
        Config::load(Some(file.path()), &overrides)
    }

    #[test]
    fn empty_file_gives_the_documented_defaults() {
        let config = load_text("", &[]).unwrap();
        assert_eq!(config.server.listen.to_string(), "0.0.0.0:9765");
        assert_eq!(config.server.path, "/k8s-audit");
        assert_eq!(config.server.max_body_size.0, 12 << 20);
        assert_eq!(config.rules.watch_interval.0, Duration::from_secs(2));
        assert_eq!(config.pipeline.queue_events, 20_000);
        assert!(config.outputs.is_empty());
    }

    #[test]
    fn unknown_key_is_named_with_its_path() {
        let err = load_text("server:\n  tls:\n    cert: x\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.tls"), "{err}");
        assert!(err.contains("unknown field `cert`"), "{err}");
    }

    #[test]
    fn bad_value_in_an_output_names_the_entry() {
        let err = load_text("outputs:\n  - type: stdout\n  - type: file\n    path: /tmp/x\n    min_priority: loud\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("outputs[1]: min_priority: unknown priority"),
            "{err}"
        );
        assert!(err.contains("unknown priority `loud`"), "{err}");
    }

    #[test]
    fn unknown_output_field_is_an_error() {
        let err = load_text("outputs:\n  - type: stdout\n    colour: red\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("outputs[0]: colour: unknown field `colour`"),
            "{err}"
        );
        let err = load_text("outputs:\n  - type: syslog\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown output type `syslog`"), "{err}");
    }

    #[test]
    fn overrides_apply_before_checking() {
        let config = load_text(
            "outputs:\n  - type: stdout\n",
            &[
                "server.listen=127.0.0.1:0",
                "outputs.0.format=json",
                "rules.paths=[a.yaml, b.yaml]",
                "server.max_body_size=1KiB",
            ],
        )
        .unwrap();
        assert_eq!(config.server.listen.to_string(), "127.0.0.1:0");
        assert_eq!(config.outputs[0].common().1, Format::Json);
        assert_eq!(
            config.rules.paths,
            vec![PathBuf::from("a.yaml"), PathBuf::from("b.yaml")]
        );
        assert_eq!(config.server.max_body_size.0, 1024);
        let err = load_text("", &["server.listen=nowhere"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.listen"), "{err}");
        let err = load_text("", &["outputs.3.format=json"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("-o outputs.3.format=json"), "{err}");
    }

    #[test]
    fn durations_and_sizes_take_units() {
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("2 weeks"), None);
        assert_eq!(parse_size("12MiB"), Some(12 << 20));
        assert_eq!(parse_size("10kB"), Some(10_000));
        assert_eq!(parse_size("lots"), None);
        let err = load_text("server:\n  shutdown_timeout: soon\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.shutdown_timeout"), "{err}");
    }

    #[test]
    fn http_output_defaults_to_json_and_checks_its_url() {
        let config = load_text(
            "outputs:\n  - type: http\n    url: http://sidekick:2801/\n",
            &[],
        )
        .unwrap();
        assert_eq!(config.outputs[0].common().1, Format::Json);
        let err = load_text("outputs:\n  - type: http\n    url: sidekick\n", &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("outputs[0].url"), "{err}");
    }
}
