//! Alerts: the output string filled in from the event, and the two forms
//! Falco prints: the text line `<time>: <Priority> <output>` and the JSON
//! object of `json_output` (keys in alphabetical order, as Falco's are), so
//! that tools built for Falco's alerts (falcosidekick) read Lanner's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use lanner_audit::{FieldId, Value, extract, lookup, utc_time};
use lanner_rules::checked::OutputPart;

use crate::engine::Engine;
use crate::eval::Frame;
use crate::json;
use crate::program::{Lhs, SlotId, Slots};

/// What a missing value prints as (Falco's `<NA>`).
pub const NA: &str = "<NA>";

/// An alert: which rule matched which event, and the filled-in output.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Index of the rule in [`Engine::rules`].
    pub rule: usize,
    /// The event time (`stageTimestamp`), ns since the epoch.
    pub time_ns: i64,
    /// The event time as Falco's text alerts print it (`evt.time`, local).
    pub time_text: String,
    /// The rule's output with the event's values filled in.
    pub message: String,
    /// The raw field values for JSON `output_fields`, by key.
    pub fields: BTreeMap<Arc<str>, FieldValue>,
}

/// A field value in JSON `output_fields`.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum FieldValue {
    /// Not available: `null`.
    Missing,
    /// A string.
    Str(String),
    /// A list of strings.
    List(Vec<String>),
    /// A number.
    U64(u64),
    /// A boolean.
    Bool(bool),
}

impl From<Option<&Value<'_>>> for FieldValue {
    fn from(value: Option<&Value<'_>>) -> FieldValue {
        match value {
            None => FieldValue::Missing,
            Some(Value::Str(s)) => FieldValue::Str(s.to_string()),
            Some(Value::List(items)) => {
                FieldValue::List(items.iter().map(ToString::to_string).collect())
            }
            Some(Value::U64(n)) => FieldValue::U64(*n),
            Some(Value::Bool(b)) => FieldValue::Bool(*b),
        }
    }
}

#[derive(Debug)]
enum Part {
    Text(Box<str>),
    Field {
        lhs: Lhs,
        /// The fields it reads, for `output_fields`: key and slot.
        raw: Box<[(Arc<str>, SlotId)]>,
        width: Option<usize>,
    },
}

/// A compiled output template.
#[derive(Debug)]
pub(crate) struct OutputProgram {
    parts: Vec<Part>,
    evt_time: Option<FieldId>,
}

impl OutputProgram {
    pub(crate) fn new(parts: &[OutputPart], slots: &mut Slots) -> OutputProgram {
        let parts = parts
            .iter()
            .map(|part| match part {
                OutputPart::Text(t) => Part::Text(t.as_str().into()),
                OutputPart::Field {
                    operand,
                    keys,
                    width,
                } => Part::Field {
                    lhs: crate::program::lhs(operand, slots),
                    // One key per field, in the same order (the loader writes them so).
                    raw: keys
                        .iter()
                        .zip(operand.fields())
                        .map(|(key, (field, arg))| {
                            (Arc::from(key.as_str()), slots.slot(field, arg))
                        })
                        .collect(),
                    width: *width,
                },
            })
            .collect();
        OutputProgram {
            parts,
            evt_time: lookup("evt.time"),
        }
    }

    pub(crate) fn alert(&self, rule: usize, frame: &mut Frame<'_, '_>) -> Alert {
        let mut message = String::new();
        let mut fields = BTreeMap::new();
        for part in &self.parts {
            match part {
                Part::Text(t) => message.push_str(t),
                Part::Field { lhs, raw, width } => {
                    let start = message.len();
                    match frame.value(lhs) {
                        Some(v) => render_value(&mut message, &v),
                        None => message.push_str(NA),
                    }
                    if let Some(width) = width {
                        fit(&mut message, start, *width);
                    }
                    for (key, slot) in raw {
                        fields.insert(Arc::clone(key), FieldValue::from(frame.slot(*slot)));
                    }
                }
            }
        }
        let event = frame.event();
        let time_text = self
            .evt_time
            .and_then(|id| extract(event, id, None))
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        Alert {
            rule,
            time_ns: event.timestamp_ns(),
            time_text,
            message,
            fields,
        }
    }
}

/// Renders a value as Falco's text output does: lists as `(a,b)`.
pub fn render_value(out: &mut String, value: &Value<'_>) {
    match value {
        Value::Str(s) => out.push_str(s),
        Value::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(item);
            }
            out.push(')');
        }
        Value::U64(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

/// Pads with spaces or cuts the text from `start` to exactly `width` chars.
fn fit(out: &mut String, start: usize, width: usize) {
    let len = out[start..].chars().count();
    if len > width {
        let cut = out[start..]
            .char_indices()
            .nth(width)
            .map_or(out.len(), |(i, _)| start + i);
        out.truncate(cut);
    } else {
        out.extend(std::iter::repeat_n(' ', width - len));
    }
}

impl Engine {
    /// The text line: `<time>: <Priority> <output>`.
    #[must_use]
    pub fn render_text(&self, alert: &Alert) -> String {
        let rule = &self.rule(alert).rule;
        format!("{}: {} {}", alert.time_text, rule.priority, alert.message)
    }

    /// The JSON object of Falco's `json_output`, on one line.
    #[must_use]
    pub fn render_json(&self, alert: &Alert) -> String {
        let rule = &self.rule(alert).rule;
        let output = self.render_text(alert);
        // Written directly rather than through `serde_json` (whose string escaping was the
        // largest cost of a match-heavy run): the same bytes, keys in the order serde
        // wrote them (alphabetical, as Falco's), `output_fields` sorted with `evt.time`
        // (the event time in ns) in its place. A test compares with `serde_json`.
        let mut out = String::with_capacity(output.len() * 2 + 256);
        out.push_str("{\"hostname\":");
        json::push_str(&mut out, &self.hostname);
        out.push_str(",\"output\":");
        json::push_str(&mut out, &output);
        out.push_str(",\"output_fields\":{");
        let mut time = Some(alert.time_ns);
        let mut first = true;
        for (key, value) in &alert.fields {
            if time.is_some() && &**key >= "evt.time" {
                push_time_field(&mut out, &mut first, &mut time);
                if &**key == "evt.time" {
                    continue;
                }
            }
            push_key(&mut out, &mut first, key);
            push_field_value(&mut out, value);
        }
        if time.is_some() {
            push_time_field(&mut out, &mut first, &mut time);
        }
        out.push_str("},\"priority\":");
        json::push_str(&mut out, rule.priority.as_str());
        out.push_str(",\"rule\":");
        json::push_str(&mut out, &rule.name);
        out.push_str(",\"source\":");
        json::push_str(&mut out, &rule.source);
        out.push_str(",\"tags\":[");
        for (i, tag) in rule.tags.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            json::push_str(&mut out, tag);
        }
        out.push_str("],\"time\":");
        json::push_str(&mut out, &utc_time(alert.time_ns));
        out.push('}');
        out
    }
}

/// Appends `"key":` to an object being written (a comma first unless it is the first).
fn push_key(out: &mut String, first: &mut bool, key: &str) {
    if !std::mem::take(first) {
        out.push(',');
    }
    json::push_str(out, key);
    out.push(':');
}

/// Appends the `evt.time` member of `output_fields` (once: `time` is taken).
fn push_time_field(out: &mut String, first: &mut bool, time: &mut Option<i64>) {
    if let Some(ns) = time.take() {
        push_key(out, first, "evt.time");
        let _ = write!(out, "{ns}");
    }
}

/// Appends a value of `output_fields` as JSON.
fn push_field_value(out: &mut String, value: &FieldValue) {
    match value {
        FieldValue::Missing => out.push_str("null"),
        FieldValue::Str(s) => json::push_str(out, s),
        FieldValue::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json::push_str(out, item);
            }
            out.push(']');
        }
        FieldValue::U64(n) => {
            let _ = write!(out, "{n}");
        }
        FieldValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The alert JSON as `serde_json` writes it (how `render_json` wrote it before it was
    /// written by hand): the reference `render_json` must match byte for byte.
    fn serde_render(engine: &Engine, alert: &Alert) -> String {
        #[derive(serde::Serialize)]
        #[serde(untagged)]
        enum JsonField<'a> {
            Value(&'a FieldValue),
            Time(i64),
        }
        #[derive(serde::Serialize)]
        struct JsonAlert<'a> {
            hostname: &'a str,
            output: String,
            output_fields: BTreeMap<&'a str, JsonField<'a>>,
            priority: &'static str,
            rule: &'a str,
            source: &'a str,
            tags: &'a [String],
            time: String,
        }
        let rule = &engine.rule(alert).rule;
        let mut output_fields: BTreeMap<&str, JsonField<'_>> = alert
            .fields
            .iter()
            .map(|(k, v)| (&**k, JsonField::Value(v)))
            .collect();
        output_fields.insert("evt.time", JsonField::Time(alert.time_ns));
        serde_json::to_string(&JsonAlert {
            hostname: &engine.hostname,
            output: engine.render_text(alert),
            output_fields,
            priority: rule.priority.as_str(),
            rule: &rule.name,
            source: &rule.source,
            tags: &rule.tags,
            time: utc_time(alert.time_ns),
        })
        .unwrap()
    }

    #[test]
    fn json_alerts_are_the_bytes_serde_json_writes() {
        let rules = r#"
- rule: "Odd \"rule\"\tname"
  desc: every kind of output field, keys before and after evt.time
  condition: ka.verb exists
  output: >-
    q="%ka.user.name" %ka.user.groups %evt.time %ka.target.name %ka.response.code
    %jevt.value[/annotations/a] %ka.req.pod.containers.privileged %evt.num %ka.auditid
  priority: WARNING
  source: k8s_audit
  tags: [a "tag", "back\\slash", é]
"#;
        let mut loader = lanner_rules::Loader::new();
        loader.add_source("rules.yaml", rules);
        let finished = loader.finish();
        assert!(
            finished.ruleset.rules.len() == 1,
            "{:?}",
            finished.diagnostics
        );
        let engine = Engine::new(&finished.ruleset, &crate::Options::default()).unwrap();
        let lines = [
            r#"{"kind":"Event","auditID":"1","verb":"create","user":{"username":"al\"ice\n\u0001\u001f é","groups":["g1","g\\2"]},"objectRef":{"resource":"pods","name":"web/\u007f"},"responseStatus":{"code":201},"annotations":{"a":"x\ty"},"requestObject":{"spec":{"containers":[{"privileged":true}]}},"stageTimestamp":"2024-05-01T12:00:00.123456789Z"}"#,
            r#"{"kind":"Event","auditID":"2","verb":"get","stageTimestamp":"1970-01-01T00:00:00Z"}"#,
        ];
        let mut scratch = engine.scratch();
        let mut alerts = Vec::new();
        let mut seen = 0;
        for (i, line) in lines.iter().enumerate() {
            for event in lanner_audit::decode_payload(line.as_bytes(), i as u64 + 1).unwrap() {
                let Ok(event) = event else { continue };
                alerts.clear();
                engine.process_with(&event, &mut scratch, &mut alerts);
                for alert in &alerts {
                    assert_eq!(engine.render_json(alert), serde_render(&engine, alert));
                    seen += 1;
                }
            }
        }
        assert_eq!(seen, 2);
    }

    #[test]
    fn width_pads_and_cuts() {
        let mut s = String::from("x=abc");
        fit(&mut s, 2, 5);
        assert_eq!(s, "x=abc  ");
        let mut s = String::from("x=abcdef");
        fit(&mut s, 2, 3);
        assert_eq!(s, "x=abc");
    }
}
