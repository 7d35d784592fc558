//! The current rules, and replacing them while the server runs.
//!
//! The compiled [`Engine`] sits behind an [`ArcSwap`]: each evaluation batch
//! takes the engine current when it starts, so a reload never pauses
//! evaluation and never mixes two rule sets within a batch. A reload (on
//! SIGHUP, or when [`watch`] sees a rules file change) compiles the files
//! anew and swaps the engine in only if loading gave no error; otherwise the
//! old engine stays and the diagnostics are logged.
//!
//! Change detection polls file metadata (modification time, size, inode),
//! following symlinks, so the atomic symlink swap Kubernetes uses to update a
//! mounted `ConfigMap` is seen like an edit in place.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::metrics::{Metrics, ReasonLabels, gauge};
use crate::shutdown::Shutdown;
use arc_swap::ArcSwap;
use lanner_engine::{Engine, EngineError, Options};
use lanner_rules::Loaded;

/// Loads rules from paths (or the built-in rules when there are none): the
/// binary provides it, since only it embeds the built-in rules.
pub type LoadFn = Arc<dyn Fn(&[PathBuf]) -> Loaded + Send + Sync>;

/// Why a rule set could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// Loading reported errors; `rendered` holds them as the CLI prints them.
    #[error("rules failed to load ({errors} errors):\n{rendered}")]
    Load {
        /// The number of errors.
        errors: usize,
        /// Every error, rendered with its source lines.
        rendered: String,
    },
    /// A rule failed to compile.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// The rules in force, and how to load them again.
pub struct Rules {
    engine: ArcSwap<Engine>,
    load: LoadFn,
    paths: Vec<PathBuf>,
    options: Options,
    metrics: Arc<Metrics>,
    reloading: Mutex<()>,
}

impl Rules {
    /// Loads the rules for the first time.
    pub fn new(
        load: LoadFn,
        paths: Vec<PathBuf>,
        options: Options,
        metrics: Arc<Metrics>,
    ) -> Result<Rules, RulesError> {
        let engine = compile(&load, &paths, &options)?;
        metrics.rules_loaded.set(gauge(engine.rules().len()));
        Ok(Rules {
            engine: ArcSwap::from_pointee(engine),
            load,
            paths,
            options,
            metrics,
            reloading: Mutex::new(()),
        })
    }

    /// The engine in force.
    #[must_use]
    pub fn engine(&self) -> Arc<Engine> {
        self.engine.load_full()
    }

    /// The rules files and directories (empty: the built-in rules).
    #[must_use]
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Loads the rules again and swaps them in if they load without error.
    /// Logs the outcome either way; returns the number of rules now in force.
    pub fn reload(&self, why: &str) -> Result<usize, RulesError> {
        let _one_at_a_time = self
            .reloading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match compile(&self.load, &self.paths, &self.options) {
            Ok(engine) => {
                let count = engine.rules().len();
                self.engine.store(Arc::new(engine));
                self.metrics.rules_loaded.set(gauge(count));
                self.metrics
                    .rules_reloads
                    .get_or_create(&ReasonLabels { reason: "success" })
                    .inc();
                tracing::info!(rules = count, "rules reloaded ({why})");
                Ok(count)
            }
            Err(e) => {
                self.metrics
                    .rules_reloads
                    .get_or_create(&ReasonLabels { reason: "failure" })
                    .inc();
                tracing::error!("rules reload ({why}) failed, keeping the rules in force: {e}");
                Err(e)
            }
        }
    }
}

fn compile(load: &LoadFn, paths: &[PathBuf], options: &Options) -> Result<Engine, RulesError> {
    let loaded = load(paths);
    if loaded.diagnostics.has_errors() {
        let rendered: Vec<String> = loaded
            .diagnostics
            .items()
            .iter()
            .filter(|d| d.severity() == lanner_rules::Severity::Error)
            .map(|d| d.render(&loaded.sources))
            .collect();
        return Err(RulesError::Load {
            errors: loaded.diagnostics.error_count(),
            rendered: rendered.join(""),
        });
    }
    Ok(Engine::new(&loaded.ruleset, options)?)
}

/// What identifies the content of the rules files without reading them.
#[derive(Debug, PartialEq, Eq)]
pub struct Fingerprint(Vec<(PathBuf, Option<Stamp>)>);

/// Modification time, size and inode of a file.
type Stamp = (SystemTime, u64, u64);

/// The metadata of every rules file under `paths` (directories: their
/// `*.yaml` and `*.yml` files).
#[must_use]
pub fn fingerprint(paths: &[PathBuf]) -> Fingerprint {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                        .collect()
                })
                .unwrap_or_default();
            files.sort();
            out.extend(files.into_iter().map(|f| (f.clone(), stamp(&f))));
        } else {
            out.push((path.clone(), stamp(path)));
        }
    }
    Fingerprint(out)
}

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

/// Polls the rules files every `interval` and reloads when they change,
/// until `stop` is set. Does nothing for the built-in rules.
pub async fn watch(rules: Arc<Rules>, interval: Duration, stop: Shutdown) {
    if rules.paths().is_empty() || interval.is_zero() {
        return;
    }
    let paths = rules.paths().to_vec();
    let mut last = {
        let paths = paths.clone();
        tokio::task::spawn_blocking(move || fingerprint(&paths))
            .await
            .ok()
    };
    loop {
        tokio::select! {
            () = tokio::time::sleep(interval) => {}
            () = stop.wait() => return,
        }
        let now = {
            let paths = paths.clone();
            tokio::task::spawn_blocking(move || fingerprint(&paths))
                .await
                .ok()
        };
        if now.is_some() && now != last {
            last = now;
            let rules = Arc::clone(&rules);
            let _ = tokio::task::spawn_blocking(move || rules.reload("rules files changed")).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "- rule: R\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: INFO\n  source: k8s_audit\n";

    fn loader() -> LoadFn {
        Arc::new(|paths: &[PathBuf]| lanner_rules::load_paths(paths))
    }

    #[test]
    fn broken_rules_leave_the_old_engine_in_force() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("r.yaml");
        std::fs::write(&file, GOOD).unwrap();
        let rules = Rules::new(
            loader(),
            vec![file.clone()],
            Options::default(),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        let before = rules.engine();
        std::fs::write(&file, "- rule: R\n  condition: ka.verb = = create\n").unwrap();
        assert!(matches!(rules.reload("test"), Err(RulesError::Load { .. })));
        assert!(Arc::ptr_eq(&before, &rules.engine()));
        std::fs::write(&file, GOOD.replace("- rule: R", "- rule: S")).unwrap();
        assert_eq!(rules.reload("test").unwrap(), 1);
        assert_eq!(rules.engine().rules()[0].rule.name, "S");
    }

    #[test]
    fn fingerprint_changes_when_a_file_in_a_directory_changes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.yaml"), GOOD).unwrap();
        let paths = vec![dir.path().to_owned()];
        let first = fingerprint(&paths);
        assert_eq!(first, fingerprint(&paths));
        std::fs::write(dir.path().join("b.yml"), GOOD).unwrap();
        assert_ne!(first, fingerprint(&paths));
    }
}
