//! Rule test files: events that must fire a rule, and near misses that must
//! not. The format is documented in `docs/testing-rules.md`.
//!
//! ```yaml
//! - event: pod-create            # a named event cases can start from
//!   json: {kind: Event, ...}     # inline (YAML or JSON), or `file: pod.json`
//! - rule: Create Privileged Pod
//!   fires:
//!     - name: privileged container
//!       event: pod-create          # a named event or an inline mapping
//!       patch: {requestObject: {spec: {containers: [{name: c, image: x, securityContext: {privileged: true}}]}}}
//!       output: "..."              # optional: the exact alert message
//!   does_not_fire:
//!     - name: not privileged
//!       event: pod-create
//! ```
//!
//! This module reads test files into [`Suite`]s; `cmd::test` runs them.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use lanner_rules::source::{FileId, Sources};
use lanner_rules::yaml::{self, Kind, Node, Style};
use serde_json::{Map, Value};

/// The cases of one test file.
#[derive(Debug)]
pub struct Suite {
    /// Cases per rule, in file order.
    pub rules: Vec<RuleCases>,
}

/// The cases for one rule.
#[derive(Debug)]
pub struct RuleCases {
    /// The rule's name.
    pub rule: String,
    /// `file:line` of the item.
    pub location: String,
    /// Every case.
    pub cases: Vec<Case>,
}

/// One event and what it must do.
#[derive(Debug)]
pub struct Case {
    /// The case's name (or `fires #N`).
    pub name: String,
    /// `file:line` of the case.
    pub location: String,
    /// Whether the rule must fire.
    pub fires: bool,
    /// The event, as JSON.
    pub event: Value,
    /// The exact message expected, if given.
    pub output: Option<String>,
}

/// Reads one test file.
pub fn read(path: &Path) -> anyhow::Result<Suite> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut sources = Sources::new();
    let file = sources.add(path.display().to_string(), text);
    let reader = FileReader {
        sources: &sources,
        file,
        dir: path.parent().unwrap_or(Path::new(".")),
    };
    let docs = yaml::parse(file, sources.get(file)).map_err(|d| anyhow!(d.short(&sources)))?;
    let mut named: HashMap<String, Value> = HashMap::new();
    let mut rules = Vec::new();
    for doc in &docs {
        let items = match &doc.kind {
            Kind::Seq(items) => items,
            Kind::Null => continue,
            _ => bail!("{}: a test file is a list of items", reader.at(doc)),
        };
        for item in items {
            if let Some(name) = reader.get(item, "event").and_then(Node::as_str) {
                named.insert(name.to_owned(), reader.event_source(item)?);
            } else if let Some(rule) = reader.get(item, "rule").and_then(Node::as_str) {
                let mut cases = Vec::new();
                for (key, fires) in [("fires", true), ("does_not_fire", false)] {
                    if let Some(list) = reader.get(item, key) {
                        let Kind::Seq(entries) = &list.kind else {
                            bail!("{}: `{key}` must be a list of cases", reader.at(list));
                        };
                        for (i, entry) in entries.iter().enumerate() {
                            cases.push(reader.case(entry, fires, i, key, &named)?);
                        }
                    }
                }
                rules.push(RuleCases {
                    rule: rule.to_owned(),
                    location: reader.at(item),
                    cases,
                });
            } else {
                bail!(
                    "{}: an item must have `rule` (cases) or `event` (a named event)",
                    reader.at(item)
                );
            }
        }
    }
    Ok(Suite { rules })
}

struct FileReader<'a> {
    sources: &'a Sources,
    file: FileId,
    dir: &'a Path,
}

impl FileReader<'_> {
    fn at(&self, node: &Node) -> String {
        let file = self.sources.get(self.file);
        let at = file.line_col(node.span.start as usize);
        format!("{}:{}:{}", file.name, at.line, at.column)
    }

    #[allow(clippy::unused_self)] // a method, like the other lookups of the reader
    fn get<'n>(&self, node: &'n Node, key: &str) -> Option<&'n Node> {
        match &node.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The event of a named-event item: `json:` inline or `file:`.
    fn event_source(&self, item: &Node) -> anyhow::Result<Value> {
        if let Some(json) = self.get(item, "json") {
            return Ok(to_json(json));
        }
        if let Some(file) = self.get(item, "file").and_then(Node::as_str) {
            return self.event_file(file, item);
        }
        bail!("{}: a named event needs `json:` or `file:`", self.at(item))
    }

    fn event_file(&self, file: &str, node: &Node) -> anyhow::Result<Value> {
        let path = self.dir.join(file);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "{}: cannot read event file {}",
                self.at(node),
                path.display()
            )
        })?;
        let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        serde_json::from_str(line)
            .with_context(|| format!("{}: {} is not JSON", self.at(node), path.display()))
    }

    fn case(
        &self,
        entry: &Node,
        fires: bool,
        index: usize,
        key: &str,
        named: &HashMap<String, Value>,
    ) -> anyhow::Result<Case> {
        let name = self
            .get(entry, "name")
            .and_then(Node::as_str)
            .map_or_else(|| format!("{key} #{}", index + 1), str::to_owned);
        let mut event = match (self.get(entry, "event"), self.get(entry, "file")) {
            (Some(node), _) if matches!(node.kind, Kind::Scalar(_)) => {
                let reference = node.as_str().unwrap_or("");
                named.get(reference).cloned().ok_or_else(|| {
                    anyhow!(
                        "{}: no event named `{reference}` above this case",
                        self.at(node)
                    )
                })?
            }
            (Some(node), _) => to_json(node),
            (None, Some(file)) => self.event_file(file.as_str().unwrap_or(""), file)?,
            (None, None) => bail!(
                "{}: case `{name}` needs `event:` or `file:`",
                self.at(entry)
            ),
        };
        if let Some(patch) = self.get(entry, "patch") {
            merge_patch(&mut event, &to_json(patch));
        }
        let output = self
            .get(entry, "output")
            .and_then(Node::as_str)
            .map(str::to_owned);
        Ok(Case {
            name,
            location: self.at(entry),
            fires,
            event,
            output,
        })
    }
}

/// A YAML node as JSON, with YAML's core schema for plain scalars.
#[must_use]
pub fn to_json(node: &Node) -> Value {
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or("").to_owned(), to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        Kind::Scalar(s) if s.style != Style::Plain => Value::String(s.value.clone()),
        Kind::Scalar(s) => plain_scalar(&s.value),
    }
}

fn plain_scalar(text: &str) -> Value {
    match text {
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<i64>() {
        return Value::from(n);
    }
    if text.contains(['.', 'e', 'E']) && text.starts_with(|c: char| c.is_ascii_digit() || c == '-')
    {
        if let Some(n) = text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
        {
            return Value::Number(n);
        }
    }
    Value::String(text.to_owned())
}

/// RFC 7386 JSON merge patch: objects merge, `null` deletes, anything else
/// replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

/// Test files under `path`: the file itself, or every `*.test.yaml` /
/// `*.test.yml` below a directory, sorted.
pub fn test_files(path: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_owned()]);
    }
    let mut out = Vec::new();
    let mut stack = vec![path.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("cannot read {}", dir.display()))?
        {
            let p = entry?.path();
            if p.is_dir() {
                stack.push(p);
            } else if is_test_file(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Whether `path` is named like a test file.
#[must_use]
pub fn is_test_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".test.yaml") || n.ends_with(".test.yml"))
}

/// The rules files directly in `dir` (not test files), sorted.
pub fn rules_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && !is_test_file(p)
                && p.extension().is_some_and(|e| e == "yaml" || e == "yml")
        })
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_merges_objects_and_deletes_nulls() {
        let mut doc = serde_json::json!({"a": {"b": 1, "c": 2}, "d": [1, 2]});
        merge_patch(
            &mut doc,
            &serde_json::json!({"a": {"b": null, "e": 3}, "d": [3]}),
        );
        assert_eq!(doc, serde_json::json!({"a": {"c": 2, "e": 3}, "d": [3]}));
    }

    #[test]
    fn inline_events_keep_their_key_order() {
        let mut sources = Sources::new();
        let file = sources.add("t.yaml", "{b: 1, a: {z: x, y: [2, 1]}}");
        let docs = yaml::parse(file, sources.get(file)).expect("yaml");
        let json = serde_json::to_string(&to_json(&docs[0])).expect("json");
        assert_eq!(json, r#"{"b":1,"a":{"z":"x","y":[2,1]}}"#);
    }

    #[test]
    fn plain_scalars_follow_yaml_core_types() {
        assert_eq!(plain_scalar("true"), Value::Bool(true));
        assert_eq!(plain_scalar("201"), Value::from(201));
        assert_eq!(plain_scalar("1.5"), serde_json::json!(1.5));
        assert_eq!(plain_scalar("nginx:1.25"), Value::from("nginx:1.25"));
        assert_eq!(plain_scalar("v1"), Value::from("v1"));
    }
}
