//! The checked rule set handed to the engine.
//!
//! Everything here is resolved and valid: lists substituted, macros inlined
//! (kept as named nodes so `lanner explain` can show them), fields bound to
//! catalog ids with validated arguments, values converted, operators
//! allowed for their field types, regexes compiled once to prove them valid.
//! The engine compiles this into its own predicate program; it never sees
//! YAML, pest or a field name it would have to look up per event.

use std::sync::Arc;

use lanner_audit::{FieldArg, FieldId};

use crate::priority::Priority;
use crate::syntax::ast::{Modifier, Op};

/// Identifies a rule by its position in evaluation (load) order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleId(pub u32);

/// The rules of one source that loaded without error, in load order.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// Every checked rule, enabled or not, in evaluation order.
    pub rules: Vec<Rule>,
}

/// A checked rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Position in evaluation order.
    pub id: RuleId,
    /// The rule's name.
    pub name: String,
    /// Its description.
    pub desc: String,
    /// Its priority.
    pub priority: Priority,
    /// Its event source (always `k8s_audit` today).
    pub source: String,
    /// Whether the rules files enable it.
    pub enabled: bool,
    /// Sorted, de-duplicated tags.
    pub tags: Vec<String>,
    /// The condition, exceptions included.
    pub condition: Cond,
    /// The output template.
    pub output: Vec<OutputPart>,
    /// `file:line` of the rule's definition, for messages.
    pub location: String,
}

/// A condition.
#[derive(Clone, Debug)]
pub enum Cond {
    /// All must hold.
    And(Vec<Cond>),
    /// Any must hold.
    Or(Vec<Cond>),
    /// Must not hold.
    Not(Box<Cond>),
    /// A macro's body, under its name.
    Macro {
        /// The macro's name.
        name: Arc<str>,
        /// Its resolved body (shared by every rule using it).
        body: Arc<Cond>,
    },
    /// A comparison.
    Test(Box<Test>),
}

/// `lhs op [modifier] rhs`.
#[derive(Clone, Debug)]
pub struct Test {
    /// The field side.
    pub lhs: Operand,
    /// The operator (`==` is reported as `=`).
    pub op: Op,
    /// `oneof`/`anyof`/`allof`.
    pub modifier: Option<Modifier>,
    /// The other side.
    pub rhs: TestRhs,
    /// The check as written, in canonical form, for explanations.
    pub text: String,
}

/// A bound field with its argument and transformers.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operand {
    /// The field.
    pub field: FieldId,
    /// Its validated argument.
    pub arg: Option<FieldArg>,
    /// Transformers, applied first to last (innermost first).
    pub transforms: Vec<Transformer>,
}

/// A field transformer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transformer {
    /// ASCII lower case.
    ToLower,
    /// ASCII upper case.
    ToUpper,
    /// Base64 decode (standard alphabet, padding optional).
    B64,
    /// Text after the last `/`.
    Basename,
    /// Length in bytes, or number of list elements.
    Len,
}

/// The right-hand side of a [`Test`].
#[derive(Clone, Debug)]
pub enum TestRhs {
    /// `exists`.
    None,
    /// One value.
    Value(String),
    /// A list (literal, list names substituted).
    List(Vec<String>),
    /// Another field (`val(...)` or a transformer).
    Field(Operand),
}

/// A piece of an output template.
#[derive(Clone, Debug)]
pub enum OutputPart {
    /// Literal text.
    Text(String),
    /// A field to render.
    Field {
        /// The field (transformers apply in text output).
        operand: Operand,
        /// The key in JSON `output_fields`: the field as written, without
        /// transformers (Falco's behaviour).
        key: String,
        /// `%10field`: pad or cut to this width in text output.
        width: Option<usize>,
    },
}
