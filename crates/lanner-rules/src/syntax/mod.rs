//! The condition language: grammar, syntax tree, parser and printer.
//!
//! This module knows no field catalog, macros or lists: it turns text into a
//! tree and back. Binding names is the job of `check`.

pub mod ast;
mod parse;
mod print;

pub use parse::{MAX_DEPTH, SyntaxError, parse, parse_operand};
pub use print::{needs_quotes, print, write_operand, write_quoted};
