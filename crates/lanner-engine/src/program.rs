//! Compiling a checked condition into a predicate tree.
//!
//! Each distinct `(field, argument)` pair used by any rule becomes a *slot*:
//! an index into the per-event cache, so every field is extracted at most
//! once per event whatever the number of rules reading it. Right-hand
//! values become prepared matchers (sets, substring finders, automata).
//! Constant sub-trees (`x in ()`) fold to constants.

use std::collections::HashMap;

use lanner_audit::{Extractor, FieldArg, FieldId, FieldType};
use lanner_rules::checked::{Cond, Multi, Operand, Piece, Source, Test, TestRhs, Transformer};
use lanner_rules::syntax::ast::{Modifier, Op};

use crate::matcher::{MatcherError, PathPrefixes, StrMatcher, StrSet};

/// Index of a field in the per-event cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SlotId(pub u32);

/// Every `(field, argument)` the compiled rules read.
#[derive(Debug, Default)]
pub struct Slots {
    /// Per slot, its field prepared for extraction (resolved once here rather than per
    /// event).
    pub(crate) extractors: Vec<Extractor>,
    index: HashMap<(FieldId, Option<FieldArg>), SlotId>,
}

impl Slots {
    /// The slot of a field, allocating one the first time.
    pub fn slot(&mut self, field: FieldId, arg: Option<&FieldArg>) -> SlotId {
        let key = (field, arg.cloned());
        if let Some(slot) = self.index.get(&key) {
            return *slot;
        }
        let slot = SlotId(self.extractors.len() as u32);
        self.extractors.push(Extractor::new(field, arg));
        self.index.insert(key, slot);
        slot
    }

    /// How many slots there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.extractors.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.extractors.is_empty()
    }
}

/// A node of a compiled condition.
#[derive(Debug)]
pub enum Node {
    /// All children hold (evaluated left to right, short-circuit).
    And(Box<[Node]>),
    /// Some child holds.
    Or(Box<[Node]>),
    /// The child does not hold.
    Not(Box<Node>),
    /// A constant.
    Const(bool),
    /// A comparison.
    Test(Box<TestNode>),
}

/// A value and the transformers applied to it.
#[derive(Debug)]
pub struct Lhs {
    /// Where the value comes from.
    pub source: LhsSource,
    /// Transformers, innermost first.
    pub transforms: Box<[Transformer]>,
}

/// Where an [`Lhs`]'s value comes from.
#[derive(Debug)]
pub enum LhsSource {
    /// A field, cached in this slot.
    Slot(SlotId),
    /// `concat`, `join` or `getopt` of other values.
    Multi(Box<MultiNode>),
}

/// A compiled [`Multi`] transformer.
#[derive(Debug)]
pub enum MultiNode {
    /// `concat(...)`.
    Concat(Box<[PieceNode]>),
    /// `join(sep, list)`.
    Join {
        /// The separator.
        sep: PieceNode,
        /// The values, flattened.
        items: Box<[PieceNode]>,
    },
    /// `getopt(args, optstring)[select]`.
    Getopt {
        /// The command line, flattened.
        args: Box<[PieceNode]>,
        /// The option string.
        optstring: PieceNode,
        /// `[c]`.
        select: Option<u8>,
    },
}

/// A compiled [`Piece`].
#[derive(Debug)]
pub enum PieceNode {
    /// A literal.
    Text(Box<str>),
    /// A field or a transformer.
    Value(Lhs),
}

impl Lhs {
    /// The slot of a field without transformers.
    #[must_use]
    pub fn plain_slot(&self) -> Option<SlotId> {
        match self.source {
            LhsSource::Slot(slot) if self.transforms.is_empty() => Some(slot),
            _ => None,
        }
    }
}

/// A compiled comparison.
#[derive(Debug)]
pub struct TestNode {
    /// The field side.
    pub lhs: Lhs,
    /// What to do with its value.
    pub kind: TestKind,
}

/// The comparison of a [`TestNode`].
#[derive(Debug)]
pub enum TestKind {
    /// `exists`.
    Exists,
    /// A string comparison; on a list, true if any element matches.
    Str(StrMatcher),
    /// `in` (`all`: every list element must be in the set) or `intersects`.
    Set {
        /// The right-hand values.
        set: StrSet,
        /// `in` on a list: all elements; otherwise any.
        all: bool,
    },
    /// `pmatch (paths)`.
    PathPrefix(PathPrefixes),
    /// `op oneof|anyof|allof (values)`.
    Modifier {
        /// Which count of matches is required.
        mode: Modifier,
        /// One matcher per value.
        matchers: Box<[StrMatcher]>,
    },
    /// A numeric comparison.
    Num {
        /// The operator.
        op: Op,
        /// The value.
        value: u64,
    },
    /// Numeric `in`/`intersects`.
    NumSet(Box<[u64]>),
    /// A comparison with another field.
    Field {
        /// The operator.
        op: Op,
        /// The other field.
        rhs: Lhs,
    },
}

/// Why a checked condition could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// A matcher failed to build.
    #[error("{0}")]
    Matcher(#[from] MatcherError),
    /// A numeric value failed to parse.
    #[error("`{0}` is not a valid number")]
    Number(String),
}

/// Compiles `cond`, allocating slots in `slots`.
pub fn compile(cond: &Cond, slots: &mut Slots) -> Result<Node, CompileError> {
    Ok(match cond {
        Cond::And(items) => {
            let items = items
                .iter()
                .map(|c| compile(c, slots))
                .collect::<Result<Vec<_>, _>>()?;
            if items.iter().any(|n| matches!(n, Node::Const(false))) {
                Node::Const(false)
            } else {
                Node::And(
                    items
                        .into_iter()
                        .filter(|n| !matches!(n, Node::Const(true)))
                        .collect(),
                )
            }
        }
        Cond::Or(items) => {
            let items = items
                .iter()
                .map(|c| compile(c, slots))
                .collect::<Result<Vec<_>, _>>()?;
            if items.iter().any(|n| matches!(n, Node::Const(true))) {
                Node::Const(true)
            } else {
                Node::Or(
                    items
                        .into_iter()
                        .filter(|n| !matches!(n, Node::Const(false)))
                        .collect(),
                )
            }
        }
        Cond::Not(inner) => match compile(inner, slots)? {
            Node::Const(b) => Node::Const(!b),
            node => Node::Not(Box::new(node)),
        },
        Cond::Macro { body, .. } => compile(body, slots)?,
        Cond::Test(test) => compile_test(test, slots)?,
    })
}

/// Compiles an operand, allocating slots for its fields.
pub(crate) fn lhs(operand: &Operand, slots: &mut Slots) -> Lhs {
    let source = match &operand.source {
        Source::Field { field, arg } => LhsSource::Slot(slots.slot(*field, arg.as_ref())),
        Source::Multi(multi) => {
            let mut piece = |p: &Piece| match p {
                Piece::Text(t) => PieceNode::Text(t.as_str().into()),
                Piece::Operand(o) => PieceNode::Value(lhs(o, slots)),
            };
            LhsSource::Multi(Box::new(match &**multi {
                Multi::Concat(items) => MultiNode::Concat(items.iter().map(&mut piece).collect()),
                Multi::Join { sep, items } => MultiNode::Join {
                    sep: piece(sep),
                    items: items.iter().map(&mut piece).collect(),
                },
                Multi::Getopt {
                    args,
                    optstring,
                    select,
                } => MultiNode::Getopt {
                    args: args.iter().map(&mut piece).collect(),
                    optstring: piece(optstring),
                    select: *select,
                },
            }))
        }
    };
    Lhs {
        source,
        transforms: operand.transforms.clone().into_boxed_slice(),
    }
}

/// The element type an operand yields after its transformers.
fn value_type(operand: &Operand) -> FieldType {
    if operand.transforms.contains(&Transformer::Len) {
        return FieldType::Uint64;
    }
    match &operand.source {
        Source::Field { field, .. } => field.def().ty,
        Source::Multi(_) => FieldType::String,
    }
}

fn compile_test(test: &Test, slots: &mut Slots) -> Result<Node, CompileError> {
    let numeric = matches!(
        value_type(&test.lhs),
        FieldType::Uint64 | FieldType::AbsTime
    );
    let kind = match &test.rhs {
        TestRhs::None => TestKind::Exists,
        TestRhs::Field(rhs) => TestKind::Field {
            op: test.op,
            rhs: lhs(rhs, slots),
        },
        TestRhs::Value(v) if numeric => TestKind::Num {
            op: test.op,
            value: v.parse().map_err(|_| CompileError::Number(v.clone()))?,
        },
        TestRhs::Value(v) => TestKind::Str(StrMatcher::new(test.op, v)?),
        TestRhs::List(values) => {
            if values.is_empty()
                && test.modifier.is_none()
                && test.op != Op::PMatch
                && test.lhs.plain_field().is_some()
            {
                // `x in ()` and `x intersects ()` never hold on a field (an empty list
                // field is not available). An empty `getopt` list is `in ()`, as in Falco.
                return Ok(Node::Const(false));
            }
            match (test.modifier, test.op) {
                (Some(mode), op) => TestKind::Modifier {
                    mode,
                    matchers: values
                        .iter()
                        .map(|v| StrMatcher::new(op, v))
                        .collect::<Result<_, _>>()?,
                },
                (None, Op::PMatch) => TestKind::PathPrefix(PathPrefixes::new(values)?),
                (None, _) if numeric => TestKind::NumSet(
                    values
                        .iter()
                        .map(|v| v.parse().map_err(|_| CompileError::Number(v.clone())))
                        .collect::<Result<_, _>>()?,
                ),
                (None, op) => TestKind::Set {
                    set: StrSet::new(values),
                    all: op == Op::In,
                },
            }
        }
    };
    Ok(Node::Test(Box::new(TestNode {
        lhs: lhs(&test.lhs, slots),
        kind,
    })))
}
