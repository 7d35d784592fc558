//! Falco's rule language, as Lanner loads it.
//!
//! YAML rules files go in; a checked [`RuleSet`] and a list of
//! [`Diagnostic`]s come out. The pipeline: YAML with spans (`yaml`) ->
//! items collected across files with Falco's append/override semantics
//! (`read`, `item`) -> exceptions expanded (`exception`) -> conditions
//! parsed with a pest grammar (`syntax`) -> lists substituted, macros
//! inlined, fields bound to the catalog of `lanner-audit` (`check`),
//! outputs checked (`output`) -> [`checked`] form for the engine.
//!
//! ```
//! let mut loader = lanner_rules::Loader::new();
//! loader.add_source("rules.yaml", r#"
//! - rule: Exec into pod
//!   desc: Someone ran kubectl exec
//!   condition: ka.verb = create and ka.target.subresource = exec
//!   output: exec by %ka.user.name into %ka.target.name
//!   priority: NOTICE
//!   source: k8s_audit
//! "#);
//! let loaded = loader.finish();
//! assert!(!loaded.diagnostics.has_errors());
//! assert_eq!(loaded.ruleset.rules[0].name, "Exec into pod");
//! ```

// Loading's error type is the `Diagnostic` (code, message, spans, context,
// help), returned on a cold path; boxing it would only add noise to every `?`.
#![allow(clippy::result_large_err)]

mod check;
pub mod checked;
mod compile;
pub mod diag;
mod exception;
mod item;
mod load;
mod output;
pub mod pattern;
pub mod priority;
mod read;
mod read_rule;
pub mod source;
pub mod syntax;
mod text;
pub mod yaml;

pub use checked::RuleSet;
pub use compile::{RuleStatus, SOURCE};
pub use diag::{Code, Diagnostic, Diagnostics, Severity};
pub use load::{Loaded, Loader, RuleInfo, load_paths};
pub use priority::Priority;
pub use read::{ENGINE_VERSION, PROVIDED_PLUGINS};
