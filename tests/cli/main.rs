//! End-to-end tests of the `lanner` binary: one test binary, one module per
//! area. Tests that read Falco's files in `../shared/falco` print that they
//! skip when it is absent (a user's clone has no `../shared`; CI has it).

mod common;
mod conformance;
mod explain;
mod prefilter;
mod rules_doc;
mod run;
mod serve;
mod validate;
