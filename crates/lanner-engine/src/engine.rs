//! The engine: compiled rules in evaluation order, and the per-event loop.
//!
//! Which rules run is decided once, when the engine is built: a rule runs
//! if the rules files enable it (or an enabled-only tag selects it), its
//! priority is at least the threshold, and no `--disable-rule` or
//! `--disable-tag` removes it. For each event the rules run in load order;
//! with `rule_matching: first` the first match ends the event.

use std::sync::Arc;

use lanner_audit::Event;
use lanner_rules::checked::{OutputPart, Rule};
use lanner_rules::{Priority, RuleSet};

use crate::alert::{Alert, OutputProgram};
use crate::eval::Frame;
use crate::index::RuleIndex;
use crate::program::{CompileError, Node, Slots, compile};

/// `rule_matching`: how many rules may alert on one event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RuleMatching {
    /// At most one alert per event: the first matching rule (Falco's default).
    #[default]
    First,
    /// Every matching rule alerts, in load order.
    All,
}

/// Which rules run, and how.
#[derive(Clone, Debug)]
pub struct Options {
    /// `first` or `all`.
    pub rule_matching: RuleMatching,
    /// Rules less severe than this never run.
    pub min_priority: Priority,
    /// Rules disabled by name (`*` matches any text).
    pub disabled_rules: Vec<String>,
    /// Rules with any of these tags are disabled.
    pub disabled_tags: Vec<String>,
    /// If not empty: only rules with one of these tags run, and they run
    /// even when the rules files disable them.
    pub enabled_tags: Vec<String>,
    /// Rules with any of these tags run even if the files disable them.
    pub included_tags: Vec<String>,
    /// Run rules the files disable too (for rule tests).
    pub include_disabled: bool,
    /// Skip rules that cannot match an event (see `index`); results are
    /// the same either way.
    pub prefilter: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            rule_matching: RuleMatching::First,
            min_priority: Priority::Debug,
            disabled_rules: Vec::new(),
            disabled_tags: Vec::new(),
            enabled_tags: Vec::new(),
            included_tags: Vec::new(),
            include_disabled: false,
            prefilter: true,
        }
    }
}

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    /// The checked rule (name, priority, tags, output...).
    pub rule: Arc<Rule>,
    pub(crate) condition: Node,
    pub(crate) output: OutputProgram,
}

/// Compiled rules and the field slots they read.
#[derive(Debug)]
pub struct Engine {
    rules: Vec<CompiledRule>,
    index: Option<RuleIndex>,
    slots: Slots,
    matching: RuleMatching,
    pub(crate) hostname: String,
}

/// A rule that failed to compile (a bug in checking: the loader should have
/// caught it), with the reason.
#[derive(Debug, thiserror::Error)]
#[error("rule `{rule}`: {source}")]
pub struct EngineError {
    /// The rule's name.
    pub rule: String,
    /// What went wrong.
    pub source: CompileError,
}

impl Engine {
    /// Compiles the rules of `ruleset` that `options` select.
    pub fn new(ruleset: &RuleSet, options: &Options) -> Result<Engine, EngineError> {
        let mut slots = Slots::default();
        let mut rules = Vec::new();
        for rule in ruleset.rules.iter().filter(|r| selected(r, options)) {
            let condition = compile(&rule.condition, &mut slots).map_err(|source| EngineError {
                rule: rule.name.clone(),
                source,
            })?;
            let output = OutputProgram::new(&rule.output, &mut slots);
            rules.push(CompiledRule {
                rule: Arc::new(rule.clone()),
                condition,
                output,
            });
        }
        let index = options.prefilter.then(|| {
            let conditions: Vec<&lanner_rules::checked::Cond> = ruleset
                .rules
                .iter()
                .filter(|r| selected(r, options))
                .map(|r| &r.condition)
                .collect();
            RuleIndex::new(&conditions, &mut slots)
        });
        Ok(Engine {
            rules,
            index,
            slots,
            matching: options.rule_matching,
            hostname: hostname(),
        })
    }

    /// The rules that run, in evaluation order.
    #[must_use]
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Evaluates every selected rule on `event` and appends its alerts to
    /// `alerts`, in rule order.
    pub fn process(&self, event: &Event, alerts: &mut Vec<Alert>) {
        let mut frame = Frame::new(event, &self.slots);
        match &self.index {
            Some(index) => {
                let candidates = index.candidates(&mut frame);
                self.evaluate(candidates.iter(), &mut frame, alerts);
            }
            None => self.evaluate(0..self.rules.len(), &mut frame, alerts),
        }
    }

    fn evaluate(
        &self,
        rules: impl Iterator<Item = usize>,
        frame: &mut Frame<'_, '_>,
        alerts: &mut Vec<Alert>,
    ) {
        for index in rules {
            let Some(rule) = self.rules.get(index) else {
                continue;
            };
            if frame.eval(&rule.condition) {
                alerts.push(rule.output.alert(index, frame));
                if self.matching == RuleMatching::First {
                    return;
                }
            }
        }
    }

    /// How many fields the prefilter indexes (0 without prefilter).
    #[must_use]
    pub fn indexed_fields(&self) -> usize {
        self.index.as_ref().map_or(0, RuleIndex::indexed_fields)
    }

    /// The compiled rule an alert came from.
    #[must_use]
    pub fn rule(&self, alert: &Alert) -> &CompiledRule {
        &self.rules[alert.rule]
    }
}

fn selected(rule: &Rule, options: &Options) -> bool {
    if rule.priority > options.min_priority {
        return false;
    }
    if options
        .disabled_rules
        .iter()
        .any(|p| wildcard(p, &rule.name))
    {
        return false;
    }
    if rule.tags.iter().any(|t| options.disabled_tags.contains(t)) {
        return false;
    }
    if options.enabled_tags.is_empty() {
        rule.enabled
            || options.include_disabled
            || rule.tags.iter().any(|t| options.included_tags.contains(t))
    } else {
        rule.tags.iter().any(|t| options.enabled_tags.contains(t))
    }
}

/// `*` matches any text; everything else literally.
fn wildcard(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return pattern == name;
    };
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

fn hostname() -> String {
    std::env::var("LANNER_HOSTNAME")
        .or_else(|_| std::env::var("FALCO_HOSTNAME"))
        .unwrap_or_else(|_| gethostname::gethostname().to_string_lossy().into_owned())
}

/// The field keys an output template puts in JSON `output_fields`.
#[must_use]
pub fn output_keys(parts: &[OutputPart]) -> Vec<&str> {
    parts
        .iter()
        .filter_map(|p| match p {
            OutputPart::Field { key, .. } => Some(key.as_str()),
            OutputPart::Text(_) => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::wildcard;

    #[test]
    fn wildcard_matches_star_anywhere() {
        assert!(wildcard("*", "anything"));
        assert!(wildcard("K8s *", "K8s Secret Created"));
        assert!(wildcard("*Secret*", "K8s Secret Created"));
        assert!(!wildcard("K8s", "K8s Secret Created"));
        assert!(wildcard("Create Privileged Pod", "Create Privileged Pod"));
    }
}
