//! Helpers shared by the test modules: fixtures and field lookups.

use std::borrow::Cow;

use lanner_audit::{Event, Value, decode_payload, extract, lookup, parse_arg};

/// The fixture events under `tests/fixtures`, by file stem.
pub fn fixture_text(name: &str) -> &'static str {
    match name {
        "pod" => include_str!("../fixtures/pod.json"),
        "ephemeral" => include_str!("../fixtures/ephemeral.json"),
        "binding" => include_str!("../fixtures/binding.json"),
        "role" => include_str!("../fixtures/role.json"),
        "service" => include_str!("../fixtures/service.json"),
        "configmap" => include_str!("../fixtures/configmap.json"),
        "exec" => include_str!("../fixtures/exec.json"),
        "no_audit_id" => include_str!("../fixtures/no_audit_id.json"),
        other => panic!("no fixture {other}"),
    }
}

/// The single event of a fixture, numbered 42.
pub fn fixture(name: &str) -> Event {
    let mut events = decode_payload(fixture_text(name).as_bytes(), 42).expect("fixture decodes");
    assert_eq!(events.len(), 1, "fixture {name} holds one event");
    events.remove(0).expect("fixture event is valid")
}

/// Extract `field[arg]` from `event`, checking the argument first.
pub fn get<'e>(event: &'e Event, field: &str, arg: Option<&str>) -> Option<Value<'e>> {
    let id = lookup(field).unwrap_or_else(|| panic!("unknown field {field}"));
    let arg = parse_arg(id, arg).unwrap_or_else(|e| panic!("{field}: {e}"));
    extract(event, id, arg.as_ref())
}

/// A text value.
#[allow(clippy::unnecessary_wraps)] // matches the `Option` that `extract` returns
pub fn s(text: &str) -> Option<Value<'static>> {
    Some(Value::Str(Cow::Owned(text.to_owned())))
}

/// A list value.
#[allow(clippy::unnecessary_wraps)] // matches the `Option` that `extract` returns
pub fn l(items: &[&str]) -> Option<Value<'static>> {
    Some(Value::List(
        items.iter().map(|i| Cow::Owned((*i).to_owned())).collect(),
    ))
}
