//! Evaluating compiled conditions on one event.
//!
//! A [`Frame`] holds the event and its field cache: each slot is extracted
//! the first time a rule reads it and reused by every later rule. Missing
//! values make every comparison false (`!=` included), as in Falco.

use std::borrow::Cow;

use base64::Engine as _;
use lanner_audit::{Event, Value};
use lanner_rules::checked::Transformer;
use lanner_rules::syntax::ast::{Modifier, Op};

use crate::matcher::StrMatcher;
use crate::program::{Lhs, LhsSource, MultiNode, Node, PieceNode, Slots, TestKind, TestNode};

/// Reusable buffers for evaluating events one after another: the field
/// cache's storage and the prefilter's candidate set. Owned by a worker
/// loop and passed to [`Engine::process_with`](crate::Engine::process_with),
/// it saves the per-event allocations and resets of a fresh cache. One
/// scratch may serve any engine (a reloaded one included).
#[derive(Debug, Default)]
pub struct Scratch {
    /// Per slot: the generation in which it was last read, and where its
    /// value is in `values` (valid only for the current generation).
    seen: Vec<(u32, u32)>,
    /// The current generation (one per event).
    generation: u32,
    /// The storage of a frame's values, empty between events.
    values: Vec<Option<Value<'static>>>,
    /// The prefilter's candidate rules.
    pub(crate) bits: Vec<u64>,
}

impl Scratch {
    /// Empty buffers (allocated on first use).
    #[must_use]
    pub fn new() -> Scratch {
        Scratch::default()
    }
}

/// One event being evaluated, with its field cache.
///
/// The cache is sparse: `seen` says, per slot, whether the slot was read in
/// this frame's generation and where its value went in `values` (`None`:
/// not available). Starting an event is bumping the generation, whatever
/// the number of slots.
pub struct Frame<'e, 's> {
    event: &'e Event,
    slots: &'s Slots,
    seen: Vec<(u32, u32)>,
    generation: u32,
    values: Vec<Option<Value<'e>>>,
}

impl<'e, 's> Frame<'e, 's> {
    /// A frame for `event` with an empty cache.
    #[must_use]
    pub fn new(event: &'e Event, slots: &'s Slots) -> Frame<'e, 's> {
        Frame {
            event,
            slots,
            seen: vec![(0, 0); slots.len()],
            generation: 1,
            values: Vec::new(),
        }
    }

    /// A frame for `event` with an empty cache, using the buffers of
    /// `scratch` (give them back with [`Frame::recycle`]).
    #[must_use]
    pub fn with_scratch(
        event: &'e Event,
        slots: &'s Slots,
        scratch: &mut Scratch,
    ) -> Frame<'e, 's> {
        let mut seen = std::mem::take(&mut scratch.seen);
        let mut generation = scratch.generation.wrapping_add(1);
        if generation == 0 {
            // Wrapped: forget every stamp so none can look current.
            seen.fill((0, 0));
            generation = 1;
        }
        if seen.len() < slots.len() {
            seen.resize(slots.len(), (0, 0));
        }
        scratch.generation = generation;
        // `values` is empty: `Value<'static>` is a `Value<'e>` (covariance).
        let mut values: Vec<Option<Value<'e>>> = std::mem::take(&mut scratch.values);
        values.reserve(slots.len());
        Frame {
            event,
            slots,
            seen,
            generation,
            values,
        }
    }

    /// Gives the frame's buffers back to `scratch` for the next event.
    pub fn recycle(self, scratch: &mut Scratch) {
        scratch.values = unborrow(self.values);
        scratch.seen = self.seen;
    }

    /// The event.
    #[must_use]
    pub fn event(&self) -> &'e Event {
        self.event
    }

    /// The raw value of a slot (extracted once).
    pub fn slot(&mut self, slot: crate::program::SlotId) -> Option<&Value<'e>> {
        let index = slot.0 as usize;
        let (stamp, at) = *self.seen.get(index)?;
        let at = if stamp == self.generation {
            at as usize
        } else {
            let extractor = self.slots.extractors.get(index)?;
            let at = self.values.len();
            self.values.push(extractor.extract(self.event));
            self.seen[index] = (self.generation, at as u32);
            at
        };
        self.values.get(at)?.as_ref()
    }

    /// Whether a slot's field is available: from the cache, else from the extractor when it
    /// can tell without building the value (`jevt.rawtime exists`, Falco's
    /// `k8s_audit_always_true`, then formats and allocates no time text), else by
    /// extracting it.
    fn exists(&mut self, slot: crate::program::SlotId) -> bool {
        let index = slot.0 as usize;
        if !self.cached(index) {
            let known = self
                .slots
                .extractors
                .get(index)
                .and_then(|e| e.available(self.event));
            if let Some(available) = known {
                return available;
            }
        }
        self.slot(slot).is_some()
    }

    /// Whether slot `index` was read for this frame's event.
    pub(crate) fn cached(&self, index: usize) -> bool {
        self.seen
            .get(index)
            .is_some_and(|&(stamp, _)| stamp == self.generation)
    }

    /// `=` or `!=` (`equal`) against `text`, when the extractor can answer without building
    /// the value (`jevt.rawtime=0`, Falco's `k8s_audit_never_true`); `None` otherwise.
    fn compare_text(
        &mut self,
        slot: crate::program::SlotId,
        text: &str,
        equal: bool,
    ) -> Option<bool> {
        let index = slot.0 as usize;
        if self.cached(index) {
            return None;
        }
        let answer = self.slots.extractors.get(index)?.equals(self.event, text)?;
        // Missing values make every comparison false, `!=` included.
        Some(answer.is_some_and(|same| same == equal))
    }

    /// The value of a field after its transformers; `None` if not available.
    pub fn value(&mut self, lhs: &Lhs) -> Option<Cow<'_, Value<'e>>> {
        let mut value = match &lhs.source {
            LhsSource::Slot(slot) => {
                let raw = self.slot(*slot)?;
                if lhs.transforms.is_empty() {
                    return Some(Cow::Borrowed(raw));
                }
                raw.clone()
            }
            LhsSource::Multi(multi) => self.multi(multi)?,
        };
        for t in &*lhs.transforms {
            value = transform(*t, value)?;
        }
        Some(Cow::Owned(value))
    }

    /// The value of `concat`, `join` or `getopt`; `None` if one of its values is not
    /// available (Falco's behaviour: no partial result).
    fn multi(&mut self, multi: &MultiNode) -> Option<Value<'e>> {
        match multi {
            MultiNode::Concat(pieces) => {
                let mut out = String::new();
                for piece in pieces {
                    self.push_single(piece, &mut out)?;
                }
                Some(Value::Str(Cow::Owned(out)))
            }
            MultiNode::Join { sep, items } => {
                let mut separator = String::new();
                self.push_single(sep, &mut separator)?;
                let items = self.flatten(items)?;
                Some(Value::Str(Cow::Owned(items.join(&separator))))
            }
            MultiNode::Getopt {
                args,
                optstring,
                select,
            } => {
                let mut options = String::new();
                self.push_single(optstring, &mut options)?;
                let args = self.flatten(args)?;
                crate::getopt::getopt(&args, options.as_bytes(), *select)
            }
        }
    }

    /// Appends a piece's single value to `out`; `None` if it is not available.
    fn push_single(&mut self, piece: &PieceNode, out: &mut String) -> Option<()> {
        match piece {
            PieceNode::Text(text) => out.push_str(text),
            PieceNode::Value(lhs) => match &*self.value(lhs)? {
                // Binding allows only single values here.
                Value::List(items) => out.push_str(items.first()?),
                value => crate::alert::render_value(out, value),
            },
        }
        Some(())
    }

    /// The values of `pieces`, lists flattened, numbers as text; `None` if one is not
    /// available.
    fn flatten(&mut self, pieces: &[PieceNode]) -> Option<Vec<String>> {
        let mut out = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match piece {
                PieceNode::Text(text) => out.push(text.to_string()),
                PieceNode::Value(lhs) => match &*self.value(lhs)? {
                    Value::List(items) => out.extend(items.iter().map(ToString::to_string)),
                    value => {
                        let mut text = String::new();
                        crate::alert::render_value(&mut text, value);
                        out.push(text);
                    }
                },
            }
        }
        Some(out)
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
        match &test.kind {
            TestKind::Field { op, rhs } => return self.field_test(&test.lhs, *op, rhs),
            TestKind::Exists => {
                if let Some(slot) = test.lhs.plain_slot() {
                    return self.exists(slot);
                }
            }
            TestKind::Str(StrMatcher::Eq(literal) | StrMatcher::Ne(literal)) => {
                if let Some(slot) = test.lhs.plain_slot() {
                    let equal = matches!(test.kind, TestKind::Str(StrMatcher::Eq(_)));
                    if let Some(answer) = self.compare_text(slot, literal, equal) {
                        return answer;
                    }
                }
            }
            _ => {}
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

/// Empties `values` and returns its storage with another lifetime.
///
/// Safe code: the vector is emptied first, so the closure never runs, and
/// collecting a `vec::IntoIter` into a `Vec` of an element type of the same
/// size and alignment reuses the allocation (the standard library's
/// in-place collection; a test checks that it happens). Were it not reused,
/// this would merely allocate.
fn unborrow<'b>(mut values: Vec<Option<Value<'_>>>) -> Vec<Option<Value<'b>>> {
    values.clear();
    values.into_iter().map(|_| unreachable!()).collect()
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use lanner_audit::Value;

    use super::unborrow;

    #[test]
    fn unborrow_keeps_the_allocation() {
        let text = String::from("borrowed");
        let mut values: Vec<Option<Value<'_>>> = Vec::with_capacity(16);
        values.push(Some(Value::Str(Cow::Borrowed(&text))));
        values.push(None);
        let ptr = values.as_ptr().cast::<u8>();
        let recycled: Vec<Option<Value<'static>>> = unborrow(values);
        drop(text);
        assert!(recycled.is_empty());
        assert_eq!(recycled.capacity(), 16);
        assert_eq!(recycled.as_ptr().cast::<u8>(), ptr);
    }
}
