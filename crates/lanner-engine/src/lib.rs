//! Lanner's engine: compiled rules evaluated per audit event, and alerts.
//!
//! The checked [`RuleSet`](lanner_rules::RuleSet) from `lanner-rules` is
//! compiled into predicate trees over field *slots* (each field extracted
//! at most once per event), with prepared matchers for every right-hand
//! side. No YAML, no parser, no field-name lookup happens per event.
//!
//! ```
//! use lanner_engine::{Engine, Options};
//!
//! let mut loader = lanner_rules::Loader::new();
//! loader.add_source("rules.yaml", r#"
//! - rule: Exec into pod
//!   desc: Someone ran kubectl exec
//!   condition: ka.verb = create and ka.target.subresource = exec
//!   output: exec by %ka.user.name into %ka.target.name (ns=%ka.target.namespace)
//!   priority: NOTICE
//!   source: k8s_audit
//! "#);
//! let loaded = loader.finish();
//! let engine = Engine::new(&loaded.ruleset, &Options::default()).unwrap();
//!
//! let line = br#"{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"create",
//!   "user":{"username":"alice"},"objectRef":{"resource":"pods","name":"web","subresource":"exec"},
//!   "stageTimestamp":"2024-05-01T12:00:00Z"}"#;
//! let events = lanner_audit::decode_payload(line, 1).unwrap();
//! let event = events[0].as_ref().unwrap();
//! let mut alerts = Vec::new();
//! engine.process(event, &mut alerts);
//! assert_eq!(alerts[0].message, "exec by alice into web (ns=<NA>)");
//! ```

mod alert;
mod engine;
mod eval;
pub mod explain;
mod getopt;
mod index;
mod json;
mod matcher;
mod program;

pub use alert::{Alert, FieldValue, NA, render_value};
pub use engine::{CompiledRule, Engine, EngineError, Options, RuleMatching, output_keys};
pub use eval::{Frame, Scratch, transform};
pub use lanner_audit::utc_time;
pub use matcher::{MatcherError, PathPrefixes, StrMatcher, StrSet};
pub use program::{CompileError, Node, SlotId, Slots, compile};
