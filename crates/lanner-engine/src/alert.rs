//! Alerts: the output string filled in from the event, and the two forms
//! Falco prints: the text line `<time>: <Priority> <output>` and the JSON
//! object of `json_output` (keys in alphabetical order, as Falco's are), so
//! that tools built for Falco's alerts (falcosidekick) read Lanner's.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use lanner_audit::{FieldId, Value, extract, lookup};
use lanner_rules::checked::OutputPart;

use crate::engine::Engine;
use crate::eval::Frame;
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
        raw: SlotId,
        key: Arc<str>,
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
                    key,
                    width,
                } => Part::Field {
                    lhs: Lhs {
                        slot: slots.slot(operand.field, operand.arg.as_ref()),
                        transforms: operand.transforms.clone().into_boxed_slice(),
                    },
                    raw: slots.slot(operand.field, operand.arg.as_ref()),
                    key: Arc::from(key.as_str()),
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
                Part::Field {
                    lhs,
                    raw,
                    key,
                    width,
                } => {
                    let start = message.len();
                    match frame.value(lhs) {
                        Some(v) => render_value(&mut message, &v),
                        None => message.push_str(NA),
                    }
                    if let Some(width) = width {
                        fit(&mut message, start, *width);
                    }
                    fields.insert(Arc::clone(key), FieldValue::from(frame.slot(*raw)));
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

/// One value of JSON `output_fields`.
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
        // Serialised in place rather than through `serde_json::Value`s (a copy of every
        // field): same bytes, fewer allocations per alert.
        let mut output_fields: BTreeMap<&str, JsonField<'_>> = alert
            .fields
            .iter()
            .map(|(k, v)| (&**k, JsonField::Value(v)))
            .collect();
        output_fields.insert("evt.time", JsonField::Time(alert.time_ns));
        let json = JsonAlert {
            hostname: &self.hostname,
            output: self.render_text(alert),
            output_fields,
            priority: rule.priority.as_str(),
            rule: &rule.name,
            source: &rule.source,
            tags: &rule.tags,
            time: utc_time(alert.time_ns),
        };
        serde_json::to_string(&json).unwrap_or_default()
    }
}

/// `2016-08-04T16:17:57.881781397Z`
#[must_use]
pub fn utc_time(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = jiff::tz::TimeZone::UTC.to_datetime(ts);
    let (Ok(year @ 1000..=9999), Ok(nanos)) = (u32::try_from(dt.year()), u32::try_from(nanos))
    else {
        return format!("{}.{nanos:09}Z", ts.strftime("%Y-%m-%dT%H:%M:%S"));
    };
    // Every time an `i64` of nanoseconds holds has a four-digit year: written without
    // `strftime` and `format!`, which cost more than the digits.
    let field = |n: i8| u32::from(n.unsigned_abs());
    let mut out = String::with_capacity(30);
    push_padded(&mut out, year, 4);
    out.push('-');
    push_padded(&mut out, field(dt.month()), 2);
    out.push('-');
    push_padded(&mut out, field(dt.day()), 2);
    out.push('T');
    push_padded(&mut out, field(dt.hour()), 2);
    out.push(':');
    push_padded(&mut out, field(dt.minute()), 2);
    out.push(':');
    push_padded(&mut out, field(dt.second()), 2);
    out.push('.');
    push_padded(&mut out, nanos, 9);
    out.push('Z');
    out
}

/// Appends `n` in decimal, zero-padded to `width` digits (what `{n:0width$}` writes, for
/// widths up to 10), without the formatting machinery: alert times are written for every
/// alert, and `write!` cost more than the digits (with `evt.time` and the JSON `time` both
/// written this way: 48,605 -> 47,205 instructions per event on the match-heavy corpus).
fn push_padded(out: &mut String, n: u32, width: usize) {
    const MAX: usize = 10;
    let mut digits = [b'0'; MAX];
    let mut rest = n;
    let mut len = 0;
    loop {
        if let Some(d) = digits.get_mut(MAX - 1 - len) {
            *d = b'0' + (rest % 10) as u8;
        }
        rest /= 10;
        len += 1;
        if (rest == 0 && len >= width) || len == MAX {
            break;
        }
    }
    for &d in digits.get(MAX - len..).unwrap_or_default() {
        out.push(char::from(d));
    }
}

/// `utc_time` as it was written before the fast path (tests compare the two).
#[cfg(test)]
fn utc_time_strftime(ns: i64) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000);
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    format!("{}.{nanos:09}Z", ts.strftime("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_time_has_nine_fraction_digits_and_z() {
        assert_eq!(
            utc_time(1_470_327_477_881_781_397),
            "2016-08-04T16:17:57.881781397Z"
        );
        assert_eq!(utc_time(0), "1970-01-01T00:00:00.000000000Z");
        for ns in [
            i64::MIN,
            i64::MIN + 999_999_999,
            -1,
            1,
            999_999_999,
            1_000_000_000,
            1_714_564_800_123_456_000,
            951_782_400_000_000_007, // 2000-02-29
            i64::MAX,
        ] {
            assert_eq!(utc_time(ns), utc_time_strftime(ns), "{ns}");
        }
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
