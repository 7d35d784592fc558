//! What a Kubernetes audit event is, for Lanner: decoding and framing, the field catalog,
//! and field extraction, compatible with Falco's `k8saudit` and `json` plugins.
//!
//! * [`open_input`] / [`LineReader`] read JSON lines from files, gzip files or stdin.
//! * [`decode_payload`] turns one line (or one webhook body) into [`Event`]s: an `Event`,
//!   an `EventList`, or arrays of them.
//! * [`fields()`] is the catalog of every field a `k8s_audit` rule can use; [`lookup`]
//!   resolves a name to a [`FieldId`] and [`parse_arg`] checks its `[argument]`, once, when
//!   rules are compiled.
//! * [`extract`] gives a field's [`Value`] on an event, or `None` when it is not available.
//!
//! This crate knows nothing about rules, conditions or outputs.
//!
//! ```
//! use lanner_audit::{Value, decode_payload, extract, lookup, parse_arg};
//!
//! let line = br#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1",
//!     "stage":"ResponseComplete","verb":"create","user":{"username":"alice"},
//!     "requestURI":"/api/v1/namespaces/default/pods/web/exec?command=sh&command=-c",
//!     "objectRef":{"resource":"pods","namespace":"default","name":"web","subresource":"exec"},
//!     "stageTimestamp":"2024-05-01T12:00:00.123456Z"}"#;
//!
//! let events = decode_payload(line, 1)?;
//! let event = events.into_iter().next().unwrap()?;
//! assert_eq!(event.num(), 1);
//! assert_eq!(event.timestamp_ns(), 1_714_564_800_123_456_000);
//!
//! // Resolve fields once, then extract them from any number of events.
//! let user = lookup("ka.user.name").unwrap();
//! assert_eq!(extract(&event, user, None), Some(Value::from("alice")));
//!
//! let param = lookup("ka.uri.param").unwrap();
//! let command = parse_arg(param, Some("command"))?;
//! assert_eq!(extract(&event, param, command.as_ref()), Some(Value::from("sh")));
//!
//! let groups = lookup("ka.user.groups").unwrap();
//! assert_eq!(extract(&event, groups, None), None); // not available
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod arg;
mod catalog;
mod decode;
mod event;
mod extract;
mod input;
mod markdown;
mod parse;
mod table;
mod tape;
mod text;
mod time;
mod top;
mod uri;
pub mod util;
mod value;
mod walk;

pub use arg::{ArgError, FieldArg, parse_arg};
pub use catalog::{ArgKind, FieldDef, FieldId, FieldType, fields, lookup};
pub use decode::{Decoder, EventError, PayloadError, decode_payload};
pub use event::Event;
pub use extract::{Extractor, extract};
pub use input::{LineError, LineReader, MAX_LINE_LEN, open_input};
pub use markdown::fields_markdown;
pub use time::utc_time;
pub use value::Value;
