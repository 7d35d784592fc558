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

/// A bound field, or a transformer of several values (`concat`, `join`, `getopt`), with
/// the one-value transformers applied to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Operand {
    /// Where the value comes from.
    pub source: Source,
    /// Transformers, applied first to last (innermost first).
    pub transforms: Vec<Transformer>,
}

/// Where an [`Operand`]'s value comes from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// A field and its validated argument.
    Field {
        /// The field.
        field: FieldId,
        /// Its validated argument.
        arg: Option<FieldArg>,
    },
    /// A transformer of several values.
    Multi(Box<Multi>),
}

/// A transformer of several values (Falco 0.44).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Multi {
    /// `concat(a, b, ...)`: the single values, concatenated; not available if one is not.
    Concat(Vec<Piece>),
    /// `join(sep, (a, b, ...))` or `join(sep, list_field)`: the values of the list (each
    /// piece's values in turn, lists flattened), separated by `sep`'s value.
    Join {
        /// The separator.
        sep: Piece,
        /// The values to join.
        items: Vec<Piece>,
    },
    /// `getopt(args, optstring)`: the options in `args` (each piece's values in turn),
    /// parsed as POSIX `getopt` would: a list of option characters, each followed by its
    /// argument if it takes one (`?` for an unknown option). With `[c]`: the argument of the
    /// last `-c` (`c` itself for an option without argument); not available if none.
    Getopt {
        /// The command line.
        args: Vec<Piece>,
        /// Which options exist; `x:` takes an argument.
        optstring: Piece,
        /// `[c]`: the option to select.
        select: Option<u8>,
    },
}

/// A value given to a [`Multi`] transformer.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Piece {
    /// A quoted string or a number, as written.
    Text(String),
    /// A field or a transformer.
    Operand(Operand),
}

impl Operand {
    /// A field without transformers.
    #[must_use]
    pub fn field(field: FieldId, arg: Option<FieldArg>) -> Operand {
        Operand {
            source: Source::Field { field, arg },
            transforms: Vec::new(),
        }
    }

    /// The field, if the value comes from one field (transformers aside).
    #[must_use]
    pub fn plain_field(&self) -> Option<(FieldId, Option<&FieldArg>)> {
        match &self.source {
            Source::Field { field, arg } => Some((*field, arg.as_ref())),
            Source::Multi(_) => None,
        }
    }

    /// Every field the operand reads, left to right.
    #[must_use]
    pub fn fields(&self) -> Vec<(FieldId, Option<&FieldArg>)> {
        fn walk<'a>(operand: &'a Operand, out: &mut Vec<(FieldId, Option<&'a FieldArg>)>) {
            let pieces: Vec<&Piece> = match &operand.source {
                Source::Field { field, arg } => {
                    out.push((*field, arg.as_ref()));
                    return;
                }
                Source::Multi(multi) => match &**multi {
                    Multi::Concat(items) => items.iter().collect(),
                    Multi::Join { sep, items } => std::iter::once(sep).chain(items).collect(),
                    Multi::Getopt {
                        args, optstring, ..
                    } => args.iter().chain(std::iter::once(optstring)).collect(),
                },
            };
            for piece in pieces {
                if let Piece::Operand(inner) = piece {
                    walk(inner, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }
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
        /// The keys in JSON `output_fields`, one per field the operand reads, in the
        /// order of [`Operand::fields`]: the field as written, without transformers
        /// (Falco's behaviour).
        keys: Vec<String>,
        /// `%10field`: pad or cut to this width in text output.
        width: Option<usize>,
    },
}
