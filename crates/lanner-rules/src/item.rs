//! The collected definitions of lists, macros and rules, across files.
//!
//! Items are collected in load order, exactly as Falco's collector does: a
//! redefinition replaces the content but keeps the position of the first
//! definition (which decides evaluation order and visibility); every
//! define or append bumps the item's visibility to the current counter.

use std::collections::BTreeSet;

use indexmap::IndexMap;

use crate::priority::Priority;
use crate::source::{FileId, Span};
use crate::text::{Located, Piece};
use crate::yaml::Node;

/// A `list` item.
#[derive(Clone, Debug)]
pub struct ListDef {
    /// Where the name was written (latest definition).
    pub name_span: Span,
    /// The raw items, in order.
    pub items: Vec<Located>,
    /// The counter value at the first definition.
    pub first: u32,
    /// The counter value at the latest define or append.
    pub visibility: u32,
}

/// A `macro` item.
#[derive(Clone, Debug)]
pub struct MacroDef {
    /// Where the name was written (latest definition).
    pub name_span: Span,
    /// The condition, with appends.
    pub condition: Vec<Piece>,
    /// The counter value at the first definition.
    pub first: u32,
    /// The counter value at the latest define or append.
    pub visibility: u32,
}

/// A `rule` item after every append and override.
// One bool per boolean key of Falco's rule items.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Debug)]
pub struct RuleDef {
    /// Where the name was written (first full definition).
    pub name_span: Span,
    /// The file of the definition.
    pub file: FileId,
    /// The condition, with appends (exceptions are separate).
    pub condition: Vec<Piece>,
    /// The output template, with appends.
    pub output: Vec<Piece>,
    /// The description.
    pub desc: String,
    /// The priority.
    pub priority: Priority,
    /// The event source (`syscall` when not given, as in Falco).
    pub source: String,
    /// Whether the rule is enabled.
    pub enabled: bool,
    /// Tags, sorted and de-duplicated.
    pub tags: BTreeSet<String>,
    /// Exceptions, in declaration order.
    pub exceptions: Vec<ExceptionDef>,
    /// `skip-if-unknown-filter`.
    pub skip_if_unknown_filter: bool,
    /// `warn_evttypes` (kept for compatibility; has no effect on `k8s_audit`).
    pub warn_evttypes: bool,
    /// `capture` (kept for compatibility).
    pub capture: bool,
    /// `capture_duration` in milliseconds (kept for compatibility).
    pub capture_duration: u32,
}

/// One exception of a rule.
#[derive(Clone, Debug)]
pub struct ExceptionDef {
    /// The exception's name.
    pub name: Located,
    /// `fields`: one field (scalar form) or several (list form).
    pub fields: Shape,
    /// `comps`, defaulted: `in` for the scalar form, `=` per field for the list form.
    pub comps: Shape,
    /// `values`, as written.
    pub values: Vec<Node>,
}

/// A scalar or a sequence of scalars.
#[derive(Clone, Debug)]
pub enum Shape {
    /// `fields: ka.user.name`
    One(Located),
    /// `fields: [ka.user.name, ka.target.namespace]`
    Many(Vec<Located>),
}

/// A `required_plugin_versions` entry: any one alternative satisfies it.
#[derive(Clone, Debug)]
pub struct PluginRequirement {
    /// `(name, version, span)` of the entry and each alternative, in order.
    pub alternatives: Vec<(String, (u32, u32, u32), Span)>,
}

/// Everything collected from the files loaded so far.
#[derive(Debug, Default)]
pub struct Store {
    /// Lists by name, in order of first definition.
    pub lists: IndexMap<String, ListDef>,
    /// Macros by name, in order of first definition.
    pub macros: IndexMap<String, MacroDef>,
    /// Rules by name, in order of first definition.
    pub rules: IndexMap<String, RuleDef>,
    /// Plugin requirements, checked after all files are loaded.
    pub plugin_requirements: Vec<PluginRequirement>,
    counter: u32,
}

impl Store {
    /// Advances and returns the visibility counter.
    pub fn tick(&mut self) -> u32 {
        self.counter += 1;
        self.counter
    }
}
