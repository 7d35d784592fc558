//! Falco's rule language, as Lanner loads it.
pub mod diag;
pub mod source;
pub mod syntax;
pub mod yaml;
