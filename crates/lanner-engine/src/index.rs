//! Rule prefiltering: skip rules that cannot match an event.
//!
//! Many rules require a field to have one of a few values (`ka.verb =
//! create`, `ka.target.resource in (roles, clusterroles)`). Such a
//! *necessary constraint* is found by walking the condition: an `and` needs
//! what any of its operands needs, an `or` needs what all its operands need
//! (the union of their values), `not` needs nothing. For the fields that
//! several rules constrain, the index maps each value to the set of rules
//! that can still match; per event, the candidate rules are the
//! intersection over those fields, looked up with one extraction each, and
//! only as long as a later field could still remove a candidate. A rule
//! outside the candidates would have evaluated to false anyway, so results
//! are identical with and without the index (a test checks it). A rule that
//! is a candidate is then evaluated without the tests the index has just
//! proved for it (`unproved`).

use std::collections::{BTreeMap, BTreeSet};

use foldhash::HashMap;

use lanner_audit::FieldType;
use lanner_rules::checked::{Cond, Test, TestRhs};
use lanner_rules::syntax::ast::Op;

use crate::eval::Frame;
use crate::program::{SlotId, Slots};
use lanner_audit::Value;
use lanner_audit::util::same_bytes;

/// Values a slot must have for a condition to hold.
type Constraints = BTreeMap<SlotId, BTreeSet<String>>;

/// A set of rules, by position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleBits(Vec<u64>);

impl RuleBits {
    fn empty(rules: usize) -> RuleBits {
        RuleBits(vec![0; rules.div_ceil(64)])
    }

    /// All of `rules` rules.
    fn all(rules: usize) -> RuleBits {
        let mut words = vec![!0; rules.div_ceil(64)];
        if let Some(last) = words.last_mut().filter(|_| rules % 64 != 0) {
            *last = (1 << (rules % 64)) - 1;
        }
        RuleBits(words)
    }

    fn set(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }
}

/// Whether every bit of `bits` is also set in `of`.
fn within(bits: &[u64], of: &[u64]) -> bool {
    bits.iter().zip(of).all(|(a, b)| a & !b == 0)
}

fn and_words(bits: &mut [u64], other: &[u64]) {
    for (a, b) in bits.iter_mut().zip(other) {
        *a &= b;
    }
}

/// The positions of the set bits of `words`, in order.
pub fn iter_bits(words: &[u64]) -> impl Iterator<Item = usize> + '_ {
    words.iter().enumerate().flat_map(|(w, &word)| {
        let mut word = word;
        std::iter::from_fn(move || {
            if word == 0 {
                return None;
            }
            let bit = word.trailing_zeros() as usize;
            word &= word - 1;
            Some(w * 64 + bit)
        })
    })
}

/// One indexed field: which rules may match for each of its values.
#[derive(Debug)]
struct SlotIndex {
    slot: SlotId,
    by_value: ValueTable,
    /// Rules without a constraint on this field (the answer for other values
    /// and for a missing field).
    unconstrained: RuleBits,
}

impl SlotIndex {
    /// The rules the value of this field in `frame` leaves possible.
    fn allowed(&self, frame: &mut Frame<'_, '_>) -> &RuleBits {
        match frame.slot(self.slot) {
            Some(Value::Str(v)) => self.by_value.get(v).unwrap_or(&self.unconstrained),
            _ => &self.unconstrained,
        }
    }
}

/// Most values of one bucket of [`ValueTable::ByLength`]; more in some bucket and the table
/// is hashed.
const BUCKET: usize = 4;

/// Values of one length and their rule sets.
type Bucket = Box<[(Box<[u8]>, RuleBits)]>;

/// The rule sets of an indexed field's values.
///
/// Every event looks up each indexed field's value (six per event with Falco's rules). The
/// fields have a few to a few dozen values of varied lengths, so grouping them by length
/// leaves one to a few candidates, compared inline: cheaper than hashing the value and
/// comparing with `memcmp` (measured together with the inline key compares of
/// `lanner_audit`'s tape: -1.1% instructions per event on the benign corpus). A `foldhash`
/// map is kept for fields with many values of one length.
#[derive(Debug)]
enum ValueTable {
    /// `ByLength[n]`: the values of `n` bytes, with their rule sets.
    ByLength(Box<[Bucket]>),
    /// A hash map from value to rule set.
    Hashed(HashMap<Box<str>, RuleBits>),
}

impl ValueTable {
    fn new(values: HashMap<Box<str>, RuleBits>) -> ValueTable {
        let longest = values.keys().map(|v| v.len()).max().unwrap_or(0);
        let mut by_length: Vec<Vec<(Box<[u8]>, RuleBits)>> = vec![Vec::new(); longest + 1];
        for (value, bits) in &values {
            if let Some(bucket) = by_length.get_mut(value.len()) {
                bucket.push((value.as_bytes().into(), bits.clone()));
            }
        }
        if by_length.iter().any(|bucket| bucket.len() > BUCKET) {
            return ValueTable::Hashed(values);
        }
        ValueTable::ByLength(by_length.into_iter().map(Vec::into_boxed_slice).collect())
    }

    /// The rule set of `value`, if it is one of the table's values.
    fn get(&self, value: &str) -> Option<&RuleBits> {
        match self {
            ValueTable::ByLength(by_length) => {
                let value = value.as_bytes();
                by_length
                    .get(value.len())?
                    .iter()
                    .find(|(v, _)| same_bytes(v, value))
                    .map(|(_, bits)| bits)
            }
            ValueTable::Hashed(map) => map.get(value),
        }
    }
}

/// The prefilter of an engine.
#[derive(Debug)]
pub struct RuleIndex {
    rules: usize,
    /// The indexed fields, the ones constraining most rules first.
    slots: Vec<SlotIndex>,
    /// Per indexed field `k`: the rules that no field after `k` constrains. Once every
    /// candidate left is one of them, the later fields cannot remove any, and their values
    /// need not be read.
    free_after: Vec<RuleBits>,
}

impl RuleIndex {
    /// Builds the index for `conditions` (one per rule, in order).
    #[must_use]
    pub fn new(conditions: &[&Cond], slots: &mut Slots) -> RuleIndex {
        let constraints: Vec<Constraints> =
            conditions.iter().map(|c| necessary(c, slots)).collect();
        let mut uses: BTreeMap<SlotId, usize> = BTreeMap::new();
        for c in &constraints {
            for slot in c.keys() {
                *uses.entry(*slot).or_default() += 1;
            }
        }
        let rules = conditions.len();
        let mut indexed = Vec::new();
        for (&slot, &count) in &uses {
            if count < 2 {
                continue;
            }
            let mut unconstrained = RuleBits::empty(rules);
            for (i, c) in constraints.iter().enumerate() {
                if !c.contains_key(&slot) {
                    unconstrained.set(i);
                }
            }
            let mut by_value: HashMap<Box<str>, RuleBits> = HashMap::default();
            for (i, c) in constraints.iter().enumerate() {
                for value in c.get(&slot).into_iter().flatten() {
                    by_value
                        .entry(value.as_str().into())
                        .or_insert_with(|| unconstrained.clone())
                        .set(i);
                }
            }
            indexed.push(SlotIndex {
                slot,
                by_value: ValueTable::new(by_value),
                unconstrained,
            });
        }
        // Fields constraining more rules first: they leave fewer candidates, so the stop
        // below comes sooner.
        indexed.sort_by_key(|index| {
            let free: u32 = index.unconstrained.0.iter().map(|w| w.count_ones()).sum();
            (free, index.slot)
        });
        let mut free_after = Vec::with_capacity(indexed.len());
        let mut free = RuleBits::all(rules);
        for index in indexed.iter().rev() {
            free_after.push(free.clone());
            and_words(&mut free.0, &index.unconstrained.0);
        }
        free_after.reverse();
        RuleIndex {
            rules,
            slots: indexed,
            free_after,
        }
    }

    /// The rules that may match the event in `frame`, as bit words in
    /// `bits` (overwritten; rule `i` is bit `i % 64` of word `i / 64`).
    ///
    /// Fields are read in order until the candidates left are all rules that no later
    /// field constrains. With Falco's rules, most events keep two rules that no field
    /// constrains, so most events read two or three of the six indexed fields.
    pub fn candidates_into(&self, frame: &mut Frame<'_, '_>, bits: &mut Vec<u64>) {
        bits.clear();
        let mut fields = self.slots.iter().zip(&self.free_after);
        let Some((first, free)) = fields.next() else {
            bits.extend_from_slice(&RuleBits::all(self.rules).0);
            return;
        };
        bits.extend_from_slice(&first.allowed(frame).0);
        if within(bits, &free.0) {
            return;
        }
        for (index, free) in fields {
            and_words(bits, &index.allowed(frame).0);
            if within(bits, &free.0) {
                return;
            }
        }
    }

    /// How many fields are indexed.
    #[must_use]
    pub fn indexed_fields(&self) -> usize {
        self.slots.len()
    }
}

/// The necessary constraints of a condition.
fn necessary(cond: &Cond, slots: &mut Slots) -> Constraints {
    match cond {
        Cond::And(items) => {
            let mut out = Constraints::new();
            for item in items {
                for (slot, values) in necessary(item, slots) {
                    match out.get_mut(&slot) {
                        Some(existing) => existing.retain(|v| values.contains(v)),
                        None => {
                            out.insert(slot, values);
                        }
                    }
                }
            }
            out
        }
        Cond::Or(items) => {
            let mut parts = items.iter().map(|c| necessary(c, slots));
            let Some(mut out) = parts.next() else {
                return Constraints::new();
            };
            for part in parts {
                out.retain(|slot, _| part.contains_key(slot));
                for (slot, values) in part {
                    if let Some(existing) = out.get_mut(&slot) {
                        existing.extend(values);
                    }
                }
            }
            out
        }
        Cond::Not(_) => Constraints::new(),
        Cond::Macro { body, .. } => necessary(body, slots),
        Cond::Test(test) => match (constraint(test), test.lhs.plain_field()) {
            (Some(values), Some((field, arg))) => {
                let slot = slots.slot(field, arg);
                std::iter::once((slot, values)).collect()
            }
            _ => Constraints::new(),
        },
    }
}

/// The values a test requires of its field, when it holds exactly when its field has one
/// of them: `=` or `in`/`intersects` on a plain string field (no transformer, no list, no
/// modifier).
fn constraint(test: &Test) -> Option<BTreeSet<String>> {
    let (field, _) = test.lhs.plain_field()?;
    let def = field.def();
    let plain = test.lhs.transforms.is_empty()
        && !def.list
        && def.ty == FieldType::String
        && test.modifier.is_none();
    if !plain {
        return None;
    }
    match (&test.op, &test.rhs) {
        (Op::Eq | Op::EqEq, TestRhs::Value(v)) => Some(std::iter::once(v.clone()).collect()),
        (Op::In | Op::Intersects, TestRhs::List(vs)) => Some(vs.iter().cloned().collect()),
        _ => None,
    }
}

/// `cond` for evaluating a rule that the prefilter let through: without the tests that
/// being let through already proves. Such a test is one of the operands `cond` is the
/// conjunction of (through `and` and macros) and constrains an indexed field: the
/// prefilter let the rule through only because that field's value is in the
/// intersection of the rule's constraints on it, so in the test's values too. `None`: the
/// whole condition is proved (it is such a test, or a conjunction of them).
///
/// With Falco's rules, `kevt` (`jevt.value[/stage] in (k8s_audit_stages)`) opens most
/// rules, and the two rules most events reach both test it again.
pub(crate) fn unproved(cond: &Cond, index: &RuleIndex, slots: &mut Slots) -> Option<Cond> {
    match cond {
        Cond::And(items) => {
            let kept: Vec<Cond> = items
                .iter()
                .filter_map(|c| unproved(c, index, slots))
                .collect();
            (!kept.is_empty()).then_some(Cond::And(kept))
        }
        Cond::Macro { body, .. } => unproved(body, index, slots),
        Cond::Test(test) if constraint(test).is_some() => {
            let Some((field, arg)) = test.lhs.plain_field() else {
                return Some(cond.clone());
            };
            let slot = slots.slot(field, arg);
            if index.slots.iter().any(|s| s.slot == slot) {
                None
            } else {
                Some(cond.clone())
            }
        }
        _ => Some(cond.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::{RuleBits, RuleIndex, and_words, iter_bits};
    use crate::eval::Frame;
    use crate::program::Slots;

    #[test]
    fn fields_that_cannot_remove_a_candidate_are_not_read() {
        let mut loader = lanner_rules::Loader::new();
        loader.add_source(
            "rules.yaml",
            r"
- rule: Exec
  desc: d
  condition: ka.verb = create and ka.target.subresource = exec
  output: o
  priority: NOTICE
  source: k8s_audit
- rule: Attach
  desc: d
  condition: ka.verb in (create, get) and ka.target.subresource = attach
  output: o
  priority: NOTICE
  source: k8s_audit
- rule: Any
  desc: d
  condition: ka.user.name exists
  output: o
  priority: NOTICE
  source: k8s_audit
",
        );
        let ruleset = loader.finish().ruleset;
        let conditions: Vec<_> = ruleset.rules.iter().map(|r| &r.condition).collect();
        let mut slots = Slots::default();
        let index = RuleIndex::new(&conditions, &mut slots);
        assert_eq!(index.indexed_fields(), 2);
        let candidates = |line: &str| {
            let event = lanner_audit::decode_payload(line.as_bytes(), 1)
                .expect("payload")
                .pop()
                .expect("one event")
                .expect("event");
            let mut frame = Frame::new(&event, &slots);
            let mut bits = Vec::new();
            index.candidates_into(&mut frame, &mut bits);
            let read: Vec<bool> = (0..slots.len()).map(|i| frame.cached(i)).collect();
            (iter_bits(&bits).collect::<Vec<_>>(), read)
        };
        let event = |verb: &str| {
            format!(
                r#"{{"kind":"Event","auditID":"1","verb":"{verb}","objectRef":{{"subresource":"exec"}},"stageTimestamp":"2024-05-01T12:00:00Z"}}"#
            )
        };
        // `delete` leaves only `Any`, which no field constrains: the subresource is not read.
        let (rules, read) = candidates(&event("delete"));
        assert_eq!(rules, vec![2]);
        assert_eq!(read.iter().filter(|r| **r).count(), 1, "{read:?}");
        // `create` leaves all three; the subresource then removes `Attach`.
        let (rules, read) = candidates(&event("create"));
        assert_eq!(rules, vec![0, 2]);
        assert_eq!(read.iter().filter(|r| **r).count(), 2, "{read:?}");
    }

    #[test]
    fn bits_iterate_in_order_across_words() {
        let mut bits = RuleBits::empty(130);
        for i in [0, 5, 63, 64, 129] {
            bits.set(i);
        }
        assert_eq!(
            iter_bits(&bits.0).collect::<Vec<_>>(),
            vec![0, 5, 63, 64, 129]
        );
        let mut other = RuleBits::empty(130);
        other.set(64);
        other.set(5);
        and_words(&mut bits.0, &other.0);
        assert_eq!(iter_bits(&bits.0).collect::<Vec<_>>(), vec![5, 64]);
    }
}
