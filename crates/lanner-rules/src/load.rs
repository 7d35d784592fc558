//! Loading rules files: the public entry point of the crate.
//!
//! Files are read in the order given (a directory contributes its `*.yaml`
//! and `*.yml` files sorted by name) into one store, then compiled once.
//! Every independent problem is reported; a rule with an error is left out
//! of the rule set, and loading fails if there is any error at all.

use std::path::Path;

use crate::checked::RuleSet;
use crate::compile::{Compiler, RuleStatus};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::item::Store;
use crate::priority::Priority;
use crate::read::Reader;
use crate::source::Sources;

/// Collects rules files, then compiles them with [`Loader::finish`].
#[derive(Debug, Default)]
pub struct Loader {
    sources: Sources,
    store: Store,
    diags: Diagnostics,
}

/// The result of a load.
#[derive(Debug)]
pub struct Loaded {
    /// Every file read, for rendering diagnostics.
    pub sources: Sources,
    /// Every problem found, in order.
    pub diagnostics: Diagnostics,
    /// The `k8s_audit` rules that loaded without error, in evaluation order.
    pub ruleset: RuleSet,
    /// A summary of every rule defined in the files, in load order.
    pub rules: Vec<RuleInfo>,
}

/// One rule as `lanner list` shows it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct RuleInfo {
    /// The rule's name.
    pub name: String,
    /// Its priority.
    pub priority: Priority,
    /// Its event source.
    pub source: String,
    /// Whether the files enable it.
    pub enabled: bool,
    /// Its tags, sorted.
    pub tags: Vec<String>,
    /// Its description.
    pub desc: String,
    /// The names of its exceptions, in order.
    pub exceptions: Vec<String>,
    /// Whether Lanner evaluates it, and if not, why.
    pub status: RuleStatus,
    /// `file:line` of its definition.
    pub location: String,
}

impl Loader {
    /// An empty loader.
    #[must_use]
    pub fn new() -> Loader {
        Loader::default()
    }

    /// Reads a rules file, or every `*.yaml`/`*.yml` file of a directory in
    /// name order. Unreadable paths are reported as `E111`.
    pub fn add_path(&mut self, path: &Path) {
        if path.is_dir() {
            match std::fs::read_dir(path) {
                Ok(entries) => {
                    let mut files: Vec<_> = entries
                        .filter_map(Result::ok)
                        .map(|e| e.path())
                        .filter(|p| {
                            p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
                        })
                        .collect();
                    files.sort();
                    for file in files {
                        self.add_path(&file);
                    }
                }
                Err(e) => self.unreadable(path, &e.to_string()),
            }
            return;
        }
        match std::fs::read(path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => self.add_source(path.display().to_string(), text),
                Err(e) => self.unreadable(path, &format!("not UTF-8 text ({e})")),
            },
            Err(e) => self.unreadable(path, &e.to_string()),
        }
    }

    fn unreadable(&mut self, path: &Path, reason: &str) {
        self.diags.push(Diagnostic::new(
            Code::E111,
            format!("cannot read rules file `{}`: {reason}", path.display()),
        ));
    }

    /// Reads rules from text, under `name` (shown in diagnostics).
    pub fn add_source(&mut self, name: impl Into<String>, text: impl Into<String>) {
        let file = self.sources.add(name, text);
        Reader {
            sources: &self.sources,
            file,
            store: &mut self.store,
            diags: &mut self.diags,
        }
        .read();
    }

    /// Compiles everything read so far.
    #[must_use]
    pub fn finish(mut self) -> Loaded {
        let (ruleset, statuses) = Compiler::new(&self.sources, &self.store, &mut self.diags).run();
        let rules = self
            .store
            .rules
            .iter()
            .zip(statuses)
            .map(|((name, def), status)| {
                let file = self.sources.get(def.file);
                RuleInfo {
                    name: name.clone(),
                    priority: def.priority,
                    source: def.source.clone(),
                    enabled: def.enabled,
                    tags: def.tags.iter().cloned().collect(),
                    desc: def.desc.clone(),
                    exceptions: def
                        .exceptions
                        .iter()
                        .map(|e| e.name.value.clone())
                        .collect(),
                    status,
                    location: format!(
                        "{}:{}",
                        file.name,
                        file.line_col(def.name_span.start as usize).line
                    ),
                }
            })
            .collect();
        Loaded {
            sources: self.sources,
            diagnostics: self.diags,
            ruleset,
            rules,
        }
    }
}

/// Loads `paths` in order and compiles them.
#[must_use]
pub fn load_paths<P: AsRef<Path>>(paths: &[P]) -> Loaded {
    let mut loader = Loader::new();
    for path in paths {
        loader.add_path(path.as_ref());
    }
    loader.finish()
}
