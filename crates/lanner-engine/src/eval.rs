//! Evaluating compiled conditions on one event.
//!
//! A [`Frame`] holds the event and its field cache: each slot is extracted
//! the first time a rule reads it and reused by every later rule. Missing
//! values make every comparison false (`!=` included), as in Falco.

use std::borrow::Cow;

use base64::Engine as _;
use lanner_audit::{Event, Value, extract};
use lanner_rules::checked::Transformer;
use lanner_rules::syntax::ast::{Modifier, Op};

use crate::matcher::StrMatcher;
use crate::program::{Lhs, Node, Slots, TestKind, TestNode};

/// A slot of the per-event cache.
#[derive(Clone, Debug)]
enum Slot<'e> {
    /// Not extracted yet.
    Unread,
    /// Extracted: not available.
    Missing,
    /// Extracted: this value.
    Value(Value<'e>),
}

/// One event being evaluated, with its field cache.
pub struct Frame<'e, 's> {
    event: &'e Event,
    slots: &'s Slots,
    cache: Vec<Slot<'e>>,
}

impl<'e, 's> Frame<'e, 's> {
    /// A frame for `event` with an empty cache.
    #[must_use]
    pub fn new(event: &'e Event, slots: &'s Slots) -> Frame<'e, 's> {
        Frame {
            event,
            slots,
            cache: vec![Slot::Unread; slots.len()],
        }
    }

    /// The event.
    #[must_use]
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// The raw value of a slot (extracted once).
    pub fn slot(&mut self, slot: crate::program::SlotId) -> Option<&Value<'e>> {
        let index = slot.0 as usize;
        if matches!(self.cache.get(index)?, Slot::Unread) {
            let (field, arg) = self.slots.fields.get(index)?;
            self.cache[index] = match extract(self.event, *field, arg.as_ref()) {
                Some(value) => Slot::Value(value),
                None => Slot::Missing,
            };
        }
        match self.cache.get(index)? {
            Slot::Value(value) => Some(value),
            Slot::Unread | Slot::Missing => None,
        }
    }

    /// The value of a field after its transformers; `None` if not available.
    pub fn value(&mut self, lhs: &Lhs) -> Option<Cow<'_, Value<'e>>> {
        let raw = self.slot(lhs.slot)?;
        if lhs.transforms.is_empty() {
            return Some(Cow::Borrowed(raw));
        }
        let mut value = raw.clone();
        for t in &*lhs.transforms {
            value = transform(*t, value)?;
        }
        Some(Cow::Owned(value))
    }

    /// Evaluates a node.
    pub fn eval(&mut self, node: &Node) -> bool {
        match node {
            Node::And(items) => items.iter().all(|n| self.eval(n)),
            Node::Or(items) => items.iter().any(|n| self.eval(n)),
            Node::Not(inner) => !self.eval(inner),
            Node::Const(b) => *b,
            Node::Test(test) => self.test(test),
        }
    }

    fn test(&mut self, test: &TestNode) -> bool {
        if let TestKind::Field { op, rhs } = &test.kind {
            return self.field_test(&test.lhs, *op, rhs);
        }
        let Some(value) = self.value(&test.lhs) else {
            return false;
        };
        check(&value, &test.kind)
    }

    fn field_test(&mut self, lhs: &Lhs, op: Op, rhs: &Lhs) -> bool {
        let Some(right) = self.value(rhs).map(Cow::into_owned) else {
            return false;
        };
        let Some(left) = self.value(lhs) else {
            return false;
        };
        let right_values: Vec<String> = match &right {
            Value::Str(s) => vec![s.to_string()],
            Value::List(items) => items.iter().map(ToString::to_string).collect(),
            Value::U64(n) => vec![n.to_string()],
            Value::Bool(b) => vec![b.to_string()],
        };
        match op {
            Op::In | Op::Intersects => {
                let set = crate::matcher::StrSet::new(&right_values);
                check(
                    &left,
                    &TestKind::Set {
                        set,
                        all: op == Op::In,
                    },
                )
            }
            _ => {
                if let (Value::U64(a), Value::U64(b)) = (&*left, &right) {
                    return compare_num(op, *a, *b);
                }
                let Some(target) = right_values.first() else {
                    return false;
                };
                StrMatcher::new(op, target).is_ok_and(|m| check(&left, &TestKind::Str(m)))
            }
        }
    }
}

/// Applies a comparison to an available value.
fn check(value: &Value<'_>, kind: &TestKind) -> bool {
    match (value, kind) {
        (_, TestKind::Exists) => true,
        (Value::Str(s), TestKind::Str(m)) => m.matches(s),
        (Value::List(items), TestKind::Str(m)) => items.iter().any(|s| m.matches(s)),
        (Value::Str(s), TestKind::Set { set, .. }) => set.contains(s),
        (Value::List(items), TestKind::Set { set, all: true }) => {
            items.iter().all(|s| set.contains(s))
        }
        (Value::List(items), TestKind::Set { set, all: false }) => {
            items.iter().any(|s| set.contains(s))
        }
        (Value::Str(s), TestKind::PathPrefix(p)) => p.matches(s),
        (Value::Str(s), TestKind::Modifier { mode, matchers }) => {
            let hits = matchers.iter().filter(|m| m.matches(s)).count();
            match mode {
                Modifier::OneOf => hits == 1,
                Modifier::AnyOf => hits >= 1,
                Modifier::AllOf => !matchers.is_empty() && hits == matchers.len(),
            }
        }
        (Value::U64(n), TestKind::Num { op, value }) => compare_num(*op, *n, *value),
        (Value::U64(n), TestKind::NumSet(values)) => values.contains(n),
        (Value::Bool(b), kind) => check(
            &Value::Str(Cow::Borrowed(if *b { "true" } else { "false" })),
            kind,
        ),
        _ => false,
    }
}

fn compare_num(op: Op, a: u64, b: u64) -> bool {
    match op {
        Op::Eq | Op::EqEq | Op::In | Op::Intersects => a == b,
        Op::Ne => a != b,
        Op::Lt => a < b,
        Op::Le => a <= b,
        Op::Gt => a > b,
        Op::Ge => a >= b,
        _ => false,
    }
}

/// Applies one transformer; `None` when it fails (invalid base64).
#[must_use]
pub fn transform<'e>(t: Transformer, value: Value<'e>) -> Option<Value<'e>> {
    let each = |value: Value<'e>, f: &dyn Fn(&str) -> Option<String>| -> Option<Value<'e>> {
        match value {
            Value::Str(s) => f(&s).map(|v| Value::Str(Cow::Owned(v))),
            Value::List(items) => items
                .iter()
                .map(|s| f(s).map(Cow::Owned))
                .collect::<Option<Vec<_>>>()
                .map(Value::List),
            other => Some(other),
        }
    };
    match t {
        Transformer::ToLower => each(value, &|s| Some(s.to_ascii_lowercase())),
        Transformer::ToUpper => each(value, &|s| Some(s.to_ascii_uppercase())),
        Transformer::Basename => each(value, &|s| {
            Some(s.rsplit_once('/').map_or(s, |(_, base)| base).to_owned())
        }),
        Transformer::B64 => each(value, &|s| {
            let engine = base64::engine::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            );
            engine
                .decode(s.as_bytes())
                .ok()
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        }),
        Transformer::Len => Some(Value::U64(match &value {
            Value::Str(s) => s.len() as u64,
            Value::List(items) => items.len() as u64,
            Value::U64(_) | Value::Bool(_) => return None,
        })),
    }
}
