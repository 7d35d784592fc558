//! Rule prefiltering: skip rules that cannot match an event.
//!
//! Many rules require a field to have one of a few values (`ka.verb =
//! create`, `ka.target.resource in (roles, clusterroles)`). Such a
//! *necessary constraint* is found by walking the condition: an `and` needs
//! what any of its operands needs, an `or` needs what all its operands need
//! (the union of their values), `not` needs nothing. For the fields that
//! several rules constrain, the index maps each value to the set of rules
//! that can still match; per event, the candidate rules are the
//! intersection over those fields, looked up with one extraction each. A
//! rule outside the candidates would have evaluated to false anyway, so
//! results are identical with and without the index (a test checks it).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use lanner_audit::FieldType;
use lanner_rules::checked::{Cond, TestRhs};
use lanner_rules::syntax::ast::Op;

use crate::eval::Frame;
use crate::program::{SlotId, Slots};
use lanner_audit::Value;

/// Values a slot must have for a condition to hold.
type Constraints = BTreeMap<SlotId, BTreeSet<String>>;

/// A set of rules, by position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleBits(Vec<u64>);

impl RuleBits {
    fn empty(rules: usize) -> RuleBits {
        RuleBits(vec![0; rules.div_ceil(64)])
    }

    fn all(rules: usize) -> RuleBits {
        let mut bits = RuleBits::empty(rules);
        for i in 0..rules {
            bits.set(i);
        }
        bits
    }

    fn set(&mut self, i: usize) {
        if let Some(word) = self.0.get_mut(i / 64) {
            *word |= 1 << (i % 64);
        }
    }

    fn and_with(&mut self, other: &RuleBits) {
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a &= b;
        }
    }

    /// The rule positions in the set, in order.
    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(w, &word)| {
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
}

/// One indexed field: which rules may match for each of its values.
#[derive(Debug)]
struct SlotIndex {
    slot: SlotId,
    by_value: HashMap<Box<str>, RuleBits>,
    /// Rules without a constraint on this field (the answer for other values
    /// and for a missing field).
    unconstrained: RuleBits,
}

/// The prefilter of an engine.
#[derive(Debug)]
pub struct RuleIndex {
    rules: usize,
    slots: Vec<SlotIndex>,
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
            let mut by_value: HashMap<Box<str>, RuleBits> = HashMap::new();
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
                by_value,
                unconstrained,
            });
        }
        RuleIndex {
            rules,
            slots: indexed,
        }
    }

    /// The rules that may match the event in `frame`.
    pub fn candidates(&self, frame: &mut Frame<'_, '_>) -> RuleBits {
        let mut bits = RuleBits::all(self.rules);
        for index in &self.slots {
            let allowed = match frame.slot(index.slot) {
                Some(Value::Str(v)) => index.by_value.get(&**v).unwrap_or(&index.unconstrained),
                _ => &index.unconstrained,
            };
            bits.and_with(allowed);
        }
        bits
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
        Cond::Test(test) => {
            let def = test.lhs.field.def();
            let plain = test.lhs.transforms.is_empty()
                && !def.list
                && def.ty == FieldType::String
                && test.modifier.is_none();
            let values: Option<BTreeSet<String>> = match (&test.op, &test.rhs) {
                (Op::Eq | Op::EqEq, TestRhs::Value(v)) => {
                    Some(std::iter::once(v.clone()).collect())
                }
                (Op::In | Op::Intersects, TestRhs::List(vs)) => Some(vs.iter().cloned().collect()),
                _ => None,
            };
            match values {
                Some(values) if plain => {
                    let slot = slots.slot(test.lhs.field, test.lhs.arg.as_ref());
                    std::iter::once((slot, values)).collect()
                }
                _ => Constraints::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RuleBits;

    #[test]
    fn bits_iterate_in_order_across_words() {
        let mut bits = RuleBits::empty(130);
        for i in [0, 5, 63, 64, 129] {
            bits.set(i);
        }
        assert_eq!(bits.iter().collect::<Vec<_>>(), vec![0, 5, 63, 64, 129]);
        let mut other = RuleBits::empty(130);
        other.set(64);
        other.set(5);
        bits.and_with(&other);
        assert_eq!(bits.iter().collect::<Vec<_>>(), vec![5, 64]);
    }
}
