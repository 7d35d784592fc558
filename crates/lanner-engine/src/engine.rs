//! The engine: compiled rules in evaluation order, and the per-event loop.
//!
//! Which rules run is decided once, when the engine is built: a rule runs
//! if the rules files enable it (or an enabled-only tag selects it), its
//! priority is at least the threshold, and no `--disable-rule` or
//! `--disable-tag` removes it. For each event the rules run in load order;
//! with `rule_matching: first` the first match ends the event.

use std::sync::Arc;

use lanner_audit::Event;
use lanner_rules::checked::{Cond, OutputPart, Rule};
use lanner_rules::{Priority, RuleSet};

use crate::alert::{Alert, OutputProgram};
use crate::eval::{Frame, Scratch};
use crate::index::{RuleIndex, iter_bits, unproved};
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
    /// The condition; with a prefilter, less the tests it proves for the rules it lets
    /// through (`index::unproved`), since it is only evaluated for those.
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
        let selected: Vec<&Rule> = ruleset
            .rules
            .iter()
            .filter(|r| selected(r, options))
            .collect();
        let index = options.prefilter.then(|| {
            let conditions: Vec<&Cond> = selected.iter().map(|r| &r.condition).collect();
            RuleIndex::new(&conditions, &mut slots)
        });
        let mut rules = Vec::new();
        for rule in selected {
            let failed = |source| EngineError {
                rule: rule.name.clone(),
                source,
            };
            let condition = match &index {
                Some(index) => match unproved(&rule.condition, index, &mut slots) {
                    Some(rest) => compile(&rest, &mut slots).map_err(failed)?,
                    None => Node::Const(true),
                },
                None => compile(&rule.condition, &mut slots).map_err(failed)?,
            };
            let output = OutputProgram::new(&rule.output, &mut slots);
            rules.push(CompiledRule {
                rule: Arc::new(rule.clone()),
                condition,
                output,
            });
        }
        Ok(Engine {
            rules,
            index,
            slots,
            matching: options.rule_matching,
            hostname: hostname(),
        })
    }

    /// Empty buffers for [`Engine::process_with`] (of any engine).
    #[must_use]
    pub fn scratch(&self) -> Scratch {
        Scratch::new()
    }

    /// The rules that run, in evaluation order.
    #[must_use]
    pub fn rules(&self) -> &[CompiledRule] {
        &self.rules
    }

    /// Evaluates every selected rule on `event` and appends its alerts to
    /// `alerts`, in rule order.
    ///
    /// A convenience for [`Engine::process_with`] with fresh buffers; loops
    /// over many events should keep a [`Scratch`] and call that instead.
    pub fn process(&self, event: &Event, alerts: &mut Vec<Alert>) {
        self.process_with(event, &mut Scratch::new(), alerts);
    }

    /// [`Engine::process`] reusing the buffers in `scratch` (any scratch:
    /// the results do not depend on what it held before).
    pub fn process_with(&self, event: &Event, scratch: &mut Scratch, alerts: &mut Vec<Alert>) {
        let mut frame = Frame::with_scratch(event, &self.slots, scratch);
        match &self.index {
            Some(index) => {
                index.candidates_into(&mut frame, &mut scratch.bits);
                self.evaluate(iter_bits(&scratch.bits), &mut frame, alerts);
            }
            None => self.evaluate(0..self.rules.len(), &mut frame, alerts),
        }
        frame.recycle(scratch);
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
        .flat_map(|p| match p {
            OutputPart::Field { keys, .. } => keys.as_slice(),
            OutputPart::Text(_) => &[],
        })
        .map(String::as_str)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{Engine, Options, RuleMatching, wildcard};

    fn engine(rules: &str, rule_matching: RuleMatching, prefilter: bool) -> Engine {
        let mut loader = lanner_rules::Loader::new();
        loader.add_source("rules.yaml", rules);
        let output = loader.finish();
        assert!(!output.diagnostics.has_errors(), "{rules}");
        let ruleset = output.ruleset;
        let options = Options {
            rule_matching,
            prefilter,
            ..Options::default()
        };
        Engine::new(&ruleset, &options).expect("engine")
    }

    const RULES: &str = r"
- rule: Exec into pod
  desc: exec
  condition: ka.verb = create and ka.target.subresource = exec
  output: exec by %ka.user.name into %ka.target.name
  priority: NOTICE
  source: k8s_audit
- rule: Secret read
  desc: secret
  condition: ka.verb in (get, list) and ka.target.resource = secrets and ka.user.name != admin
  output: secret %ka.target.name read by %ka.user.name
  priority: WARNING
  source: k8s_audit
- rule: Anyone
  desc: any user
  condition: ka.user.name exists and not ka.user.name in (system:a, system:b)
  output: user %ka.user.name verb %ka.verb
  priority: INFO
  source: k8s_audit
";

    const OTHER_RULES: &str = r#"
- rule: Deletes
  desc: deletes
  condition: ka.verb = delete and ka.target.resource in (pods, secrets)
  output: "%ka.target.resource %ka.target.name deleted by %ka.user.name"
  priority: NOTICE
  source: k8s_audit
"#;

    fn events() -> Vec<lanner_audit::Event> {
        let lines = [
            r#"{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"create","user":{"username":"alice"},"objectRef":{"resource":"pods","name":"web","subresource":"exec"},"stageTimestamp":"2024-05-01T12:00:00Z"}"#,
            r#"{"kind":"Event","auditID":"2","stage":"ResponseComplete","verb":"get","user":{"username":"bob"},"objectRef":{"resource":"secrets","name":"db"},"stageTimestamp":"2024-05-01T12:00:01Z"}"#,
            r#"{"kind":"Event","auditID":"3","stage":"ResponseComplete","verb":"delete","user":{"username":"system:a"},"objectRef":{"resource":"pods","name":"old"},"stageTimestamp":"2024-05-01T12:00:02Z"}"#,
            r#"{"kind":"Event","auditID":"4","stage":"ResponseComplete","verb":"list","objectRef":{"resource":"secrets"},"stageTimestamp":"2024-05-01T12:00:03Z"}"#,
        ];
        let mut out = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            for event in
                lanner_audit::decode_payload(line.as_bytes(), i as u64 + 1).expect("decode")
            {
                out.push(event.expect("event"));
            }
        }
        out
    }

    fn messages(
        engine: &Engine,
        event: &lanner_audit::Event,
        scratch: Option<&mut super::Scratch>,
    ) -> Vec<(usize, String)> {
        let mut alerts = Vec::new();
        match scratch {
            Some(scratch) => engine.process_with(event, scratch, &mut alerts),
            None => engine.process(event, &mut alerts),
        }
        alerts.into_iter().map(|a| (a.rule, a.message)).collect()
    }

    #[test]
    fn a_shared_scratch_gives_the_results_of_fresh_ones() {
        let events = events();
        let engines = [
            engine(RULES, RuleMatching::All, true),
            engine(RULES, RuleMatching::All, false),
            engine(RULES, RuleMatching::First, true),
            engine(OTHER_RULES, RuleMatching::All, true),
            engine(OTHER_RULES, RuleMatching::All, false),
        ];
        // The prefilter (with several indexed fields, and with none) changes
        // no result.
        for event in &events {
            assert_eq!(
                messages(&engines[0], event, None),
                messages(&engines[1], event, None)
            );
            assert_eq!(
                messages(&engines[3], event, None),
                messages(&engines[4], event, None)
            );
        }
        // One scratch across events and engines (as after a reload).
        let mut scratch = engines[0].scratch();
        let mut total = 0;
        for round in 0..3 {
            for engine in &engines {
                for event in &events {
                    let fresh = messages(engine, event, None);
                    let shared = messages(engine, event, Some(&mut scratch));
                    assert_eq!(fresh, shared, "round {round}");
                    total += fresh.len();
                }
            }
        }
        assert!(total > 0);
    }

    #[test]
    fn conditions_the_prefilter_proves_whole_still_need_the_prefilter_to_pass() {
        // Both fields are constrained by both rules, so both are indexed; `Deletes` is then
        // nothing but what the prefilter checks.
        let secret_read = RULES
            .split("- rule: ")
            .find(|r| r.starts_with("Secret read"))
            .unwrap();
        let rules = format!("{OTHER_RULES}- rule: {secret_read}");
        let with = engine(&rules, RuleMatching::All, true);
        let without = engine(&rules, RuleMatching::All, false);
        assert_eq!(with.rules().len(), 2, "{rules}");
        assert_eq!(with.indexed_fields(), 2);
        assert!(matches!(
            with.rules()[0].condition,
            super::Node::Const(true)
        ));
        let line = |verb: &str, resource: &str, user: &str| {
            format!(
                r#"{{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"{verb}","user":{{"username":"{user}"}},"objectRef":{{"resource":"{resource}","name":"x"}},"stageTimestamp":"2024-05-01T12:00:00Z"}}"#
            )
        };
        let cases = [
            (line("delete", "pods", "bob"), vec![0]),
            (line("delete", "configmaps", "bob"), vec![]),
            (line("get", "secrets", "bob"), vec![1]),
            (line("get", "secrets", "admin"), vec![]),
            (line("get", "pods", "bob"), vec![]),
            (
                r#"{"kind":"Event","auditID":"1","stageTimestamp":"2024-05-01T12:00:00Z"}"#
                    .to_owned(),
                vec![],
            ),
        ];
        for (line, expected) in cases {
            let event = lanner_audit::decode_payload(line.as_bytes(), 1)
                .expect("decode")
                .pop()
                .expect("one")
                .expect("event");
            let fired: Vec<usize> = messages(&with, &event, None)
                .into_iter()
                .map(|(r, _)| r)
                .collect();
            assert_eq!(fired, expected, "{line}");
            assert_eq!(
                messages(&without, &event, None),
                messages(&with, &event, None)
            );
        }
    }

    #[test]
    fn wildcard_matches_star_anywhere() {
        assert!(wildcard("*", "anything"));
        assert!(wildcard("K8s *", "K8s Secret Created"));
        assert!(wildcard("*Secret*", "K8s Secret Created"));
        assert!(!wildcard("K8s", "K8s Secret Created"));
        assert!(wildcard("Create Privileged Pod", "Create Privileged Pod"));
    }
}
