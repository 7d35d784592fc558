//! Field extraction: the value of one catalog field on one event.
//!
//! Each catalog row carries a [`Recipe`]; this module runs it. `None` means "not available"
//! in Falco's sense: the data is missing, has the wrong type, or a list came out empty. Every
//! `ka.*` field is unavailable on an event without `auditID` (the plugin's gate); the json
//! plugin and `evt.*` fields have no such gate. Array and path walking is in [`crate::walk`].

use std::borrow::Cow;

use crate::arg::FieldArg;
use crate::catalog::{EvtField, FieldId, JsonField, Recipe, SubjectKind};
use crate::event::Event;
use crate::tape::{Kind, NodeRef};
use crate::time;
use crate::top;
use crate::uri::query_param;
use crate::value::Value;
use crate::walk::{repository, values, walk};

/// Extract `field` from `event`. `arg` must come from [`crate::parse_arg`] for the same
/// field; a missing required argument or one of the wrong kind gives `None`.
#[must_use]
pub fn extract<'e>(event: &'e Event, field: FieldId, arg: Option<&FieldArg>) -> Option<Value<'e>> {
    let def = field.get()?;
    let root = event.root()?;
    match def.recipe {
        Recipe::Json(json) => return json_field(event, root, json, arg),
        Recipe::Evt(evt) => return Some(evt_field(event, evt)),
        _ => {}
    }
    event.member(top::AUDIT_ID)?;
    let index = match arg {
        Some(FieldArg::Index(n)) => Some(*n),
        _ => None,
    };
    let list = |v: Vec<Cow<'e, str>>| (!v.is_empty()).then_some(Value::List(v));
    match def.recipe {
        Recipe::Keys(path) => keys(event, path, def.list),
        Recipe::Walk(path, slots) => {
            values(walk_event(event, index, path)?, slots).map(Value::List)
        }
        Recipe::UriParam => {
            let key = key_arg(arg)?;
            let uri = event.get("requestURI")?.text();
            let value = match uri {
                Cow::Borrowed(uri) => query_param(uri, key)?,
                Cow::Owned(uri) => Cow::Owned(query_param(&uri, key)?.into_owned()),
            };
            Some(Value::Str(value))
        }
        Recipe::TargetPodName => target_pod_name(event),
        Recipe::Subjects(kind) => list(subjects(event, kind)?),
        Recipe::HasName => key_arg(arg).map(|_| Value::from("true")),
        Recipe::AnyPrivileged => any_privileged(event),
        Recipe::FirstImage { repository: repo } => {
            let image = walk_event(event, Some(0), FIRST_IMAGE)?
                .into_iter()
                .next()??
                .text();
            Some(Value::Str(if repo { repository(image) } else { image }))
        }
        Recipe::HostPorts(path) => list(host_ports(walk_event(event, index, path)?)?),
        Recipe::Effective {
            list: path,
            own,
            pod,
        } => list(effective(event, index, path, own, pod)?),
        Recipe::RulesField(prop) => {
            let found = walk_event(event, index, &["requestObject", "rules", prop])?;
            let arrays = found
                .into_iter()
                .flatten()
                .filter(|n| n.kind() == Kind::Array);
            list(
                arrays
                    .flat_map(NodeRef::elements)
                    .map(NodeRef::text)
                    .collect(),
            )
        }
        Recipe::SourceIps => {
            let ips = event.get("sourceIPs").filter(|n| n.kind() == Kind::Array)?;
            match index {
                None => list(ips.elements().map(NodeRef::text).collect()),
                Some(n) => list(vec![ips.elements().nth(usize::try_from(n).ok()?)?.text()]),
            }
        }
        Recipe::VolumeHostPath => volume_host_path(event, key_arg(arg)?),
        Recipe::VolumeTypes => {
            let found = walk_event(event, index, &["requestObject", "spec", "volumes", ""])?;
            let volumes = found.into_iter().flatten();
            let keys = volumes.flat_map(NodeRef::members).map(|(k, _)| k.text());
            list(keys.filter(|k| k != "name").collect())
        }
        Recipe::Json(_) | Recipe::Evt(_) => None,
    }
}

const PRIVILEGED: &[&str] = &[
    "requestObject",
    "spec",
    "containers",
    "securityContext",
    "privileged",
];
const FIRST_IMAGE: &[&str] = &["requestObject", "spec", "containers", "image"];

/// [`walk`] from the event object, its first key looked up in the event's index. The event
/// object is an object (decoding drops anything else), so the first step does not fan out.
fn walk_event<'e>(
    event: &'e Event,
    index: Option<u32>,
    keys: &[&str],
) -> Option<Vec<Option<NodeRef<'e>>>> {
    let root = event.root()?;
    match keys.split_first() {
        Some((first, rest)) if !first.is_empty() && root.kind() != Kind::Array => {
            walk(event.get(first)?, index, rest)
        }
        _ => walk(root, index, keys),
    }
}

fn key_arg(arg: Option<&FieldArg>) -> Option<&str> {
    match arg {
        Some(FieldArg::Key(key)) => Some(key),
        _ => None,
    }
}

/// A field and its argument prepared for extraction from many events: [`extract`] with the
/// work that depends only on the field done once.
///
/// Most fields rules read are a fixed path from a top-level member (`ka.verb`,
/// `ka.target.resource`, `ka.user.name`...). For those, the catalog row, the recipe and the
/// slot of the first key in the event's index of top-level members are resolved here, so
/// extracting is two array reads and the walk of the rest of the path. The engine keeps one
/// per slot (with the length-first key compare of `NodeRef::field`: 16,718 -> 15,884
/// instructions per event with Falco's rules, benign corpus).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extractor(Plan);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Plan {
    /// A `ka.*` [`Recipe::Keys`] field whose first key is indexed: that key's slot in the
    /// event's index ([`crate::top`]), the rest of the path, and whether it is a list field.
    Member {
        slot: usize,
        rest: &'static [&'static str],
        list: bool,
    },
    /// A `json.value`/`jevt.value` pointer whose first segment is indexed: that segment's
    /// slot and the rest (no `auditID` gate: the json plugin has none).
    Pointer { slot: usize, rest: Box<[String]> },
    /// `json.rawtime`/`jevt.rawtime`: the event time as text (see [`Extractor::available`]).
    RawTime(FieldId),
    /// Anything else: [`extract`] as is.
    Field(FieldId, Option<FieldArg>),
}

impl Extractor {
    /// Prepares `field` with its argument (see [`extract`]).
    #[must_use]
    pub fn new(field: FieldId, arg: Option<&FieldArg>) -> Extractor {
        let plan = field.get().and_then(|def| match (def.recipe, arg) {
            (Recipe::Keys(path), _) => {
                let (first, rest) = path.split_first()?;
                let slot = top::position(first)?;
                Some(Plan::Member {
                    slot,
                    rest,
                    list: def.list,
                })
            }
            (Recipe::Json(JsonField::Value), Some(FieldArg::Pointer(segments))) => {
                let (first, rest) = segments.split_first()?;
                let slot = top::position(first)?;
                Some(Plan::Pointer {
                    slot,
                    rest: rest.into(),
                })
            }
            (Recipe::Json(JsonField::RawTime), _) => Some(Plan::RawTime(field)),
            _ => None,
        });
        Extractor(plan.unwrap_or_else(|| Plan::Field(field, arg.cloned())))
    }

    /// The field's value on `event`: what [`extract`] gives for the same field and argument.
    #[must_use]
    pub fn extract<'e>(&self, event: &'e Event) -> Option<Value<'e>> {
        match &self.0 {
            Plan::Member { slot, rest, list } => {
                // The gate of every `ka.*` field, as in `extract`.
                event.member(top::AUDIT_ID)?;
                node_value(event.member(*slot)?.get_path(rest)?, *list)
            }
            Plan::Pointer { slot, rest } => {
                Some(Value::Str(event.member(*slot)?.get_path(rest)?.text()))
            }
            Plan::RawTime(field) => extract(event, *field, None),
            Plan::Field(field, arg) => extract(event, *field, arg.as_ref()),
        }
    }

    /// Whether the field is available on `event` (`extract(event).is_some()`), when that is
    /// known without building the value; `None` when it is not (then extract it).
    ///
    /// Falco's `k8s_audit_always_true` macro is `jevt.rawtime exists`: the answer needs no
    /// formatting of the time and no allocation.
    #[must_use]
    pub fn available(&self, event: &Event) -> Option<bool> {
        match self.0 {
            // `extract` gives the time's text whenever the event has its object.
            Plan::RawTime(_) => Some(event.root().is_some()),
            _ => None,
        }
    }

    /// Whether the field's value on `event` is the single text `text`, when that is known
    /// without building the value: `Some(None)` when the field is not available,
    /// `Some(Some(equal))` otherwise; `None` when it is not known (then extract it).
    ///
    /// Falco's `k8s_audit_never_true` macro is `jevt.rawtime=0`, read on most events: the
    /// time is compared as a number, with no text formatted and no allocation.
    #[must_use]
    pub fn equals(&self, event: &Event, text: &str) -> Option<Option<bool>> {
        match self.0 {
            Plan::RawTime(_) => {
                if event.root().is_none() {
                    return Some(None);
                }
                // The text of `ns` is canonical decimal: digits only, no leading zero.
                let canonical = !text.is_empty()
                    && text.bytes().all(|b| b.is_ascii_digit())
                    && (text == "0" || !text.starts_with('0'));
                let equal = canonical && text.parse::<i64>().ok() == Some(event.timestamp_ns());
                Some(Some(equal))
            }
            _ => None,
        }
    }
}

/// Falco's `extractFromKeys`: the node at `path`; list fields need an array.
fn keys<'e>(event: &'e Event, path: &[&str], is_list: bool) -> Option<Value<'e>> {
    node_value(event.get_path(path)?, is_list)
}

/// The value of the node a [`Recipe::Keys`] path leads to: its text, or for list fields the
/// text of each element of an array (an empty array or another kind is not available).
fn node_value(node: NodeRef<'_>, is_list: bool) -> Option<Value<'_>> {
    if !is_list {
        return Some(Value::Str(node.text()));
    }
    if node.kind() != Kind::Array {
        return None;
    }
    let items: Vec<_> = node.elements().map(NodeRef::text).collect();
    (!items.is_empty()).then_some(Value::List(items))
}

/// `"true"` when any of `spec.containers` has `privileged: true` (the JSON boolean), else
/// `"false"`; unavailable without `spec.containers`.
fn any_privileged(event: &Event) -> Option<Value<'_>> {
    let found = walk_event(event, None, PRIVILEGED)?;
    let any = found
        .into_iter()
        .flatten()
        .any(|n| n.as_bool() == Some(true));
    Some(Value::from(if any { "true" } else { "false" }))
}

/// Per container (the walk of `path`): its value at `own`, else the pod's at `pod`, else 0.
fn effective<'e>(
    event: &'e Event,
    index: Option<u32>,
    path: &[&str],
    own: &[&str],
    pod: &[&str],
) -> Option<Vec<Cow<'e, str>>> {
    let default = event
        .get_path(pod)
        .map_or(Cow::Borrowed("0"), NodeRef::text);
    let containers = walk_event(event, index, path)?.into_iter().flatten();
    Some(
        containers
            .map(|c| {
                c.get_path(own)
                    .map_or_else(|| default.clone(), NodeRef::text)
            })
            .collect(),
    )
}

/// `responseObject.metadata.name`, only for requests on pods themselves.
fn target_pod_name(event: &Event) -> Option<Value<'_>> {
    let object_ref = event.get("objectRef");
    let text_of = |key: &str| {
        object_ref
            .and_then(|o| o.get(key))
            .and_then(NodeRef::as_str)
    };
    if text_of("resource").as_deref() != Some("pods")
        || !text_of("subresource").unwrap_or_default().is_empty()
    {
        return None;
    }
    keys(event, &["responseObject", "metadata", "name"], false)
}

/// The names of the binding subjects of one kind; `None` if `subjects` is not an array.
fn subjects(event: &Event, kind: SubjectKind) -> Option<Vec<Cow<'_, str>>> {
    let Some(subjects) = event.get_path(&["requestObject", "subjects"]) else {
        return Some(Vec::new());
    };
    if subjects.kind() != Kind::Array {
        return None;
    }
    let wanted = match kind {
        SubjectKind::User => "User",
        SubjectKind::Group => "Group",
        SubjectKind::ServiceAccount | SubjectKind::NamespacedServiceAccount => "ServiceAccount",
    };
    let names = subjects.elements().filter_map(|subject| {
        let (k, name) = (subject.get("kind")?, subject.get("name")?);
        if k.text() != wanted {
            return None;
        }
        if let SubjectKind::NamespacedServiceAccount = kind {
            let namespace = subject.get("namespace")?;
            return Some(Cow::Owned(format!("{}:{}", namespace.text(), name.text())));
        }
        Some(name.text())
    });
    Some(names.collect())
}

/// Per port: `hostPort`, else `containerPort`. A `ports` that is not an array is a type
/// error for the whole field.
fn host_ports<'e>(found: Vec<Option<NodeRef<'e>>>) -> Option<Vec<Cow<'e, str>>> {
    let mut out = Vec::new();
    for ports in found.into_iter().flatten() {
        if ports.kind() != Kind::Array {
            return None;
        }
        let port = |p: NodeRef<'e>| p.get("hostPort").or_else(|| p.get("containerPort"));
        out.extend(ports.elements().filter_map(port).map(NodeRef::text));
    }
    Some(out)
}

/// `"true"` when a volume's host path equals `arg`, or starts with it minus a final `*`.
fn volume_host_path<'e>(event: &'e Event, arg: &str) -> Option<Value<'e>> {
    let found = walk_event(
        event,
        None,
        &["requestObject", "spec", "volumes", "hostPath", "path"],
    )?;
    let prefix = arg.strip_suffix('*');
    let hit = found
        .into_iter()
        .flatten()
        .map(NodeRef::text)
        .any(|path| path == arg || prefix.is_some_and(|p| path.starts_with(p)));
    Some(Value::from(if hit { "true" } else { "false" }))
}

fn json_field<'e>(
    event: &'e Event,
    root: NodeRef<'e>,
    field: JsonField,
    arg: Option<&FieldArg>,
) -> Option<Value<'e>> {
    match field {
        JsonField::Value => {
            let Some(FieldArg::Pointer(segments)) = arg else {
                return None;
            };
            if segments.is_empty() {
                return Some(Value::Str(root.compact()));
            }
            Some(Value::Str(event.get_path(segments)?.text()))
        }
        JsonField::Obj => Some(Value::from(root.pretty())),
        JsonField::RawTime => Some(Value::from(event.timestamp_ns().to_string())),
    }
}

fn evt_field(event: &Event, field: EvtField) -> Value<'static> {
    let ns = event.timestamp_ns();
    let raw = u64::try_from(ns).unwrap_or(0);
    match field {
        EvtField::Num => Value::U64(event.num()),
        EvtField::Time => Value::from(time::local(ns, false, true)),
        EvtField::TimeS => Value::from(time::local(ns, false, false)),
        EvtField::TimeIso8601 => Value::from(time::iso8601(ns)),
        EvtField::Datetime => Value::from(time::local(ns, true, true)),
        EvtField::DatetimeS => Value::from(time::local(ns, true, false)),
        EvtField::RawTime => Value::U64(raw),
        EvtField::RawTimeS => Value::U64(raw / 1_000_000_000),
        EvtField::RawTimeNs => Value::U64(raw % 1_000_000_000),
        EvtField::Source => Value::from("k8s_audit"),
        EvtField::PluginName => Value::from("k8saudit"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::lookup;
    use crate::decode::decode_payload;

    #[test]
    fn ka_fields_need_an_audit_id_but_jevt_and_evt_do_not() {
        let line = br#"{"kind":"Event","verb":"get","stageTimestamp":"2018-10-25T14:09:12Z"}"#;
        let event = decode_payload(line, 7).unwrap().remove(0).unwrap();
        let get = |name: &str, arg: Option<FieldArg>| {
            extract(&event, lookup(name).unwrap(), arg.as_ref())
        };
        assert_eq!(get("ka.verb", None), None);
        assert_eq!(
            get("jevt.value", Some(FieldArg::Pointer(vec!["verb".into()]))),
            Some(Value::from("get"))
        );
        assert_eq!(get("evt.num", None), Some(Value::U64(7)));
        assert_eq!(extract(&event, FieldId(u16::MAX), None), None);
    }

    /// Every field, with arguments of each kind, on the fixtures, the sample log and events
    /// built to trip the shortcuts (escaped and repeated keys, wrong kinds, no `auditID`).
    #[test]
    fn rawtime_equality_is_that_of_its_text() {
        let event = |stamp: &str| {
            let line = format!(r#"{{"kind":"Event","stageTimestamp":"{stamp}"}}"#);
            decode_payload(line.as_bytes(), 1)
                .unwrap()
                .remove(0)
                .unwrap()
        };
        let field = lookup("jevt.rawtime").unwrap();
        let rawtime = Extractor::new(field, None);
        let cases = [
            ("1970-01-01T00:00:00Z", "0", true),
            ("1970-01-01T00:00:00Z", "00", false),
            ("1970-01-01T00:00:00Z", "-0", false),
            ("1970-01-01T00:00:00Z", "+0", false),
            ("1970-01-01T00:00:01Z", "1000000000", true),
            ("1970-01-01T00:00:01Z", "01000000000", false),
            ("1970-01-01T00:00:01Z", "1000000000 ", false),
            ("2024-05-01T12:00:00Z", "0", false),
            ("2024-05-01T12:00:00Z", "99999999999999999999999", false),
            ("2024-05-01T12:00:00Z", "", false),
        ];
        for (stamp, text, equal) in cases {
            let event = event(stamp);
            let want = extract(&event, field, None).map(|v| v.as_str() == Some(text));
            assert_eq!(want, Some(equal), "{stamp} {text:?}");
            assert_eq!(rawtime.equals(&event, text), Some(want), "{stamp} {text:?}");
        }
    }

    #[test]
    fn a_prepared_extractor_gives_what_extract_gives() {
        let mut lines: Vec<&str> = vec![
            include_str!("../tests/fixtures/pod.json"),
            include_str!("../tests/fixtures/ephemeral.json"),
            include_str!("../tests/fixtures/binding.json"),
            include_str!("../tests/fixtures/role.json"),
            include_str!("../tests/fixtures/service.json"),
            include_str!("../tests/fixtures/configmap.json"),
            include_str!("../tests/fixtures/exec.json"),
            include_str!("../tests/fixtures/no_audit_id.json"),
            r#"{"auditID":"a","verb":"get","ver\u0062":"x","objectRef":{"res\u006furce":"pods",
                "resource":"secrets","name":"n","name":"m","subresource":null},
                "user":{"username":["a","b"],"groups":"g"},"stage":{"x":[1, 2]},
                "stageTimestamp":"1969-12-31T23:59:59.5Z"}"#,
            r#"{"auditID":1,"objectRef":[{"resource":"pods"}],"user":"u","verb":7,
                "requestURI":"/api?command=sh","stageTimestamp":"2024-05-01T12:00:00Z"}"#,
            r#"{"verb":"get","user":{"username":"a"},"stage":"ResponseComplete",
                "stageTimestamp":"2024-05-01T12:00:00Z"}"#,
        ];
        lines.extend(
            include_str!("../../../samples/audit.jsonl")
                .lines()
                .take(300),
        );
        let pointers: [&[&str]; 6] = [
            &[],
            &["verb"],
            &["stage"],
            &["objectRef", "resource"],
            &["user", "groups", "0"],
            &["nope"],
        ];
        let mut args: Vec<Option<FieldArg>> = vec![
            None,
            Some(FieldArg::Index(0)),
            Some(FieldArg::Index(1)),
            Some(FieldArg::Key("command".into())),
        ];
        for p in pointers {
            args.push(Some(FieldArg::Pointer(
                p.iter().map(|s| (*s).to_owned()).collect(),
            )));
        }
        let mut checked = 0;
        for (n, line) in lines.iter().enumerate() {
            let Ok(events) = decode_payload(line.as_bytes(), n as u64) else {
                continue;
            };
            for event in events.into_iter().flatten() {
                for i in 0..crate::catalog::fields().len() {
                    let field = FieldId(u16::try_from(i).unwrap());
                    for arg in &args {
                        let want = extract(&event, field, arg.as_ref());
                        let prepared = Extractor::new(field, arg.as_ref());
                        assert_eq!(
                            prepared.extract(&event),
                            want,
                            "line {n}, field {i}, {arg:?}"
                        );
                        if let Some(available) = prepared.available(&event) {
                            assert_eq!(available, want.is_some(), "line {n}, field {i}");
                        }
                        let texts = [&event.timestamp_ns().to_string(), "0", "00", "", "x"];
                        for text in texts {
                            if let Some(equal) = prepared.equals(&event, text) {
                                let same = want.as_ref().map(|v| v.as_str() == Some(text));
                                assert_eq!(equal, same, "line {n}, field {i}, {text:?}");
                            }
                        }
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 100_000, "{checked}");
    }
}
