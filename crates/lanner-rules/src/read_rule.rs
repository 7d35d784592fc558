//! Reading `rule` items: full definitions, `override:` appends and replaces,
//! legacy `append: true`, standalone `enabled:`, and exceptions.
//!
//! Which path an item takes, and what each path requires, follows Falco's
//! reader (spec section 1.8 and 5).

use std::collections::BTreeSet;

use crate::diag::{Code, Diagnostic};
use crate::item::{ExceptionDef, RuleDef, Shape};
use crate::priority::Priority;
use crate::read::{
    Item, OverrideOp, Reader, deprecated_append, override_and_append, scalar, strings,
};
use crate::syntax::ast::Op;
use crate::text::{Located, Piece};
use crate::yaml::{Kind, Node};

/// Every key a rule item may have.
pub const RULE_KEYS: &[&str] = &[
    "rule",
    "condition",
    "output",
    "desc",
    "priority",
    "source",
    "enabled",
    "tags",
    "exceptions",
    "append",
    "override",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
];

const APPENDABLE: &[&str] = &["condition", "output", "desc", "tags", "exceptions"];
const REPLACEABLE: &[&str] = &[
    "condition",
    "output",
    "desc",
    "priority",
    "tags",
    "exceptions",
    "enabled",
    "warn_evttypes",
    "skip-if-unknown-filter",
    "capture",
    "capture_duration",
];

impl Reader<'_> {
    pub(crate) fn rule(&mut self, item: &Item<'_>) -> Result<(), Diagnostic> {
        let name = item.string("rule")?;
        let append = item.opt_bool("append")?.unwrap_or(false);
        let overrides = self.overrides(item, APPENDABLE, REPLACEABLE)?;
        if !overrides.is_empty() {
            if append {
                return Err(override_and_append(item));
            }
            return self.rule_override(item, &name, &overrides);
        }
        if append {
            self.diags.push(deprecated_append(item));
            return self.rule_legacy_append(item, &name);
        }
        if !["condition", "output", "desc", "priority"]
            .iter()
            .any(|k| item.has(k))
        {
            return self.rule_enabled_only(item, &name);
        }
        self.rule_define(item, name)
    }

    fn rule_define(&mut self, item: &Item<'_>, name: Located) -> Result<(), Diagnostic> {
        let missing: Vec<&str> = ["condition", "output", "desc", "priority"]
            .into_iter()
            .filter(|k| !item.has(k))
            .collect();
        if !missing.is_empty() {
            let keys = missing
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ");
            return Err(Diagnostic::new(Code::E103, format!("rule `{}` is missing {keys}", name.value))
                .at(name.span)
                .help("a rule needs `condition`, `output`, `desc` and `priority`; to change an existing rule use `override:`"));
        }
        let condition = item.string("condition")?;
        let output = item.string("output")?;
        let desc = item.string("desc")?;
        let priority = parse_priority(&item.string("priority")?)?;
        let source = item
            .opt_string("source")?
            .map_or_else(|| "syscall".to_owned(), |s| s.value);
        if let Some(previous) = self.store.rules.get(&name.value) {
            if previous.source != source {
                return Err(source_mismatch(&name, &previous.source, &source));
            }
        }
        let exceptions = match item.get("exceptions") {
            Some(node) => self.exceptions(node, true)?,
            None => Vec::new(),
        };
        let mut output = output;
        trim_in_place(&mut output.value);
        let def = RuleDef {
            name_span: name.span,
            file: self.file,
            condition: vec![Piece::Scalar(condition)],
            output: vec![Piece::Scalar(output)],
            desc: desc.value,
            priority,
            source,
            enabled: item.opt_bool("enabled")?.unwrap_or(true),
            tags: tags(item)?.unwrap_or_default(),
            exceptions,
            skip_if_unknown_filter: item.opt_bool("skip-if-unknown-filter")?.unwrap_or(false),
            warn_evttypes: item.opt_bool("warn_evttypes")?.unwrap_or(true),
            capture: item.opt_bool("capture")?.unwrap_or(false),
            capture_duration: capture_duration(item)?.unwrap_or(0),
        };
        self.store.tick();
        self.store.rules.insert(name.value, def);
        Ok(())
    }

    fn rule_enabled_only(&mut self, item: &Item<'_>, name: &Located) -> Result<(), Diagnostic> {
        let Some(enabled) = item.opt_bool("enabled")? else {
            return Err(Diagnostic::new(
                Code::E103,
                format!(
                    "rule `{}` has none of `condition`, `output`, `desc`, `priority` or `enabled`",
                    name.value
                ),
            )
            .at(name.span));
        };
        self.diags.push(
            Diagnostic::new(Code::W106, "a standalone `enabled` key is deprecated")
                .at(item.key_span("enabled").unwrap_or(name.span))
                .help("add `override: {enabled: replace}` to the item"),
        );
        let Some(rule) = self.store.rules.get_mut(&name.value) else {
            return Err(Diagnostic::new(
                Code::E107,
                format!(
                    "rule `{}` has an `enabled` key, but no rule by that name exists",
                    name.value
                ),
            )
            .at(name.span));
        };
        rule.enabled = enabled;
        Ok(())
    }

    fn rule_legacy_append(&mut self, item: &Item<'_>, name: &Located) -> Result<(), Diagnostic> {
        let condition = item.opt_string("condition")?;
        let exceptions = item.get("exceptions");
        if condition.is_none() && exceptions.is_none() {
            return Err(Diagnostic::new(
                Code::E103,
                "an appended rule must have `condition` or `exceptions`",
            )
            .at(name.span));
        }
        self.check_source(item, name)?;
        if !self.store.rules.contains_key(&name.value) {
            return Err(no_previous_rule(name, "condition", OverrideOp::Append));
        }
        let appended = exceptions
            .map(|node| self.exceptions(node, false))
            .transpose()?;
        self.store.tick();
        let Some(rule) = self.store.rules.get_mut(&name.value) else {
            return Ok(());
        };
        if let Some(condition) = condition {
            rule.condition.push(Piece::Glue(" ".to_owned()));
            rule.condition.push(Piece::Scalar(condition));
        }
        if let Some(appended) = appended {
            self.append_exceptions(&name.value, appended)?;
        }
        Ok(())
    }

    fn rule_override(
        &mut self,
        item: &Item<'_>,
        name: &Located,
        overrides: &[(String, OverrideOp, crate::source::Span)],
    ) -> Result<(), Diagnostic> {
        for key in REPLACEABLE {
            if item.has(key) && !overrides.iter().any(|(k, _, _)| k == key) {
                return Err(Diagnostic::new(
                    Code::E106,
                    format!("unexpected key `{key}`: no entry for it under `override`"),
                )
                .at(item.key_span(key).unwrap_or(name.span))
                .help(if APPENDABLE.contains(key) {
                    format!("add `{key}: append` or `{key}: replace` under `override`")
                } else {
                    format!("add `{key}: replace` under `override`")
                }));
            }
        }
        self.check_source(item, name)?;
        if !self.store.rules.contains_key(&name.value) {
            let (key, op, _) = &overrides[0];
            return Err(no_previous_rule(name, key, *op));
        }
        let op_of = |key: &str| {
            overrides
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, op, _)| *op)
        };
        // Appends first, then replaces, as Falco applies them.
        let mut appended_exceptions = None;
        let mut replaced_exceptions = None;
        if let Some(node) = item.get("exceptions") {
            match op_of("exceptions") {
                Some(OverrideOp::Append) => {
                    appended_exceptions = Some(self.exceptions(node, false)?);
                }
                _ => replaced_exceptions = Some(self.exceptions(node, true)?),
            }
        }
        let priority = match item.get("priority") {
            Some(node) => Some(parse_priority(&scalar(node, "priority")?)?),
            None => None,
        };
        let new_tags = tags(item)?;
        let enabled = item.opt_bool("enabled")?;
        let skip = item.opt_bool("skip-if-unknown-filter")?;
        let warn = item.opt_bool("warn_evttypes")?;
        let capture = item.opt_bool("capture")?;
        let duration = capture_duration(item)?;
        let texts = ["condition", "output", "desc"].map(|k| item.opt_string(k).map(|v| (k, v)));
        let mut texts_read = Vec::new();
        for t in texts {
            texts_read.push(t?);
        }
        self.store.tick();
        if let Some(appended) = appended_exceptions {
            self.append_exceptions(&name.value, appended)?;
        }
        let Some(rule) = self.store.rules.get_mut(&name.value) else {
            return Ok(());
        };
        for (key, value) in texts_read {
            let Some(mut value) = value else { continue };
            let op = op_of(key);
            if key == "output" {
                trim_in_place(&mut value.value);
            }
            match (key, op) {
                ("condition", Some(OverrideOp::Append)) => append_text(&mut rule.condition, value),
                ("condition", _) => rule.condition = vec![Piece::Scalar(value)],
                ("output", Some(OverrideOp::Append)) => append_text(&mut rule.output, value),
                ("output", _) => rule.output = vec![Piece::Scalar(value)],
                (_, Some(OverrideOp::Append)) => {
                    rule.desc.push(' ');
                    rule.desc.push_str(&value.value);
                }
                _ => rule.desc = value.value,
            }
        }
        if let Some(new_tags) = new_tags {
            if op_of("tags") == Some(OverrideOp::Append) {
                rule.tags.extend(new_tags);
            } else {
                rule.tags = new_tags;
            }
        }
        if let Some(list) = replaced_exceptions {
            rule.exceptions = list;
        }
        if let Some(p) = priority {
            rule.priority = p;
        }
        if let Some(v) = enabled {
            rule.enabled = v;
        }
        if let Some(v) = skip {
            rule.skip_if_unknown_filter = v;
        }
        if let Some(v) = warn {
            rule.warn_evttypes = v;
        }
        if let Some(v) = capture {
            rule.capture = v;
        }
        if let Some(v) = duration {
            rule.capture_duration = v;
        }
        Ok(())
    }

    /// An explicit, different `source` on an append or override is an error.
    fn check_source(&self, item: &Item<'_>, name: &Located) -> Result<(), Diagnostic> {
        let source = item
            .get("source")
            .and_then(Node::as_str)
            .filter(|s| !s.is_empty());
        if let (Some(source), Some(previous)) = (source, self.store.rules.get(&name.value)) {
            if previous.source != source {
                return Err(source_mismatch(name, &previous.source, source));
            }
        }
        Ok(())
    }

    /// Appends exceptions to a rule: values of existing ones, whole new ones.
    fn append_exceptions(
        &mut self,
        rule_name: &str,
        appended: Vec<ExceptionDef>,
    ) -> Result<(), Diagnostic> {
        let Some(rule) = self.store.rules.get_mut(rule_name) else {
            return Ok(());
        };
        for ex in appended {
            if ex.values.is_empty() {
                self.diags.push(
                    Diagnostic::new(
                        Code::W111,
                        format!("exception `{}` is appended without values", ex.name.value),
                    )
                    .at(ex.name.span),
                );
            }
            let has_fields = !matches!(&ex.fields, Shape::Many(f) if f.is_empty());
            if let Some(existing) = rule
                .exceptions
                .iter_mut()
                .find(|e| e.name.value == ex.name.value)
            {
                if has_fields {
                    return Err(Diagnostic::new(
                        Code::E110,
                        format!("exception `{}` already exists: an append can only add `values`, not `fields` or `comps`", ex.name.value),
                    )
                    .at(ex.name.span));
                }
                existing.values.extend(ex.values);
            } else if !has_fields {
                return Err(Diagnostic::new(
                    Code::E110,
                    format!("exception `{}` is new, so it needs `fields`", ex.name.value),
                )
                .at(ex.name.span));
            } else {
                rule.exceptions.push(ex);
            }
        }
        Ok(())
    }

    /// Reads an `exceptions:` sequence. `define` is false for appends, where
    /// an exception that names an existing one may omit `fields`.
    fn exceptions(&mut self, node: &Node, define: bool) -> Result<Vec<ExceptionDef>, Diagnostic> {
        let items = match &node.kind {
            Kind::Null => return Ok(Vec::new()),
            Kind::Seq(items) => items,
            _ => {
                return Err(
                    Diagnostic::new(Code::E110, "`exceptions` must be a sequence").at(node.span),
                );
            }
        };
        let mut out: Vec<ExceptionDef> = Vec::new();
        for entry in items {
            let Kind::Map(entries) = &entry.kind else {
                return Err(
                    Diagnostic::new(Code::E110, "each exception must be a mapping").at(entry.span),
                );
            };
            let ex = Item {
                node: entry,
                entries,
            };
            ex.check_keys(
                "exception",
                &["name", "fields", "comps", "values"],
                self.diags,
            );
            let name = ex.string("name")?;
            if out.iter().any(|e| e.name.value == name.value) {
                self.diags.push(
                    Diagnostic::new(
                        Code::W110,
                        format!(
                            "exception `{}` is defined more than once in this item",
                            name.value
                        ),
                    )
                    .at(name.span),
                );
            }
            let values = match ex.get("values") {
                None
                | Some(Node {
                    kind: Kind::Null, ..
                }) => Vec::new(),
                Some(Node {
                    kind: Kind::Seq(values),
                    ..
                }) => values.clone(),
                Some(other) => {
                    return Err(Diagnostic::new(
                        Code::E110,
                        "exception `values` must be a sequence",
                    )
                    .at(other.span));
                }
            };
            let fields = ex.get("fields").map(|n| shape(n, "fields")).transpose()?;
            let comps = ex.get("comps").map(|n| shape(n, "comps")).transpose()?;
            let Some(fields) = fields else {
                if define {
                    return Err(Diagnostic::new(
                        Code::E103,
                        format!("exception `{}` is missing `fields`", name.value),
                    )
                    .at(name.span));
                }
                if comps.is_some() {
                    return Err(Diagnostic::new(
                        Code::E110,
                        "an appended exception can only add `values`, not `comps`",
                    )
                    .at(name.span));
                }
                // Values for an existing exception: fields come from it.
                out.push(ExceptionDef {
                    name,
                    fields: Shape::Many(Vec::new()),
                    comps: Shape::Many(Vec::new()),
                    values,
                });
                continue;
            };
            let comps = default_comps(&fields, comps, &name)?;
            out.push(ExceptionDef {
                name,
                fields,
                comps,
                values,
            });
        }
        Ok(out)
    }
}

/// Outputs are trimmed of leading and trailing blanks, as in Falco.
fn trim_in_place(text: &mut String) {
    let end = text.trim_end().len();
    text.truncate(end);
    let start = text.len() - text.trim_start().len();
    text.drain(..start);
}

fn append_text(pieces: &mut Vec<Piece>, value: Located) {
    if value.value.is_empty() {
        return;
    }
    pieces.push(Piece::Glue(" ".to_owned()));
    pieces.push(Piece::Scalar(value));
}

fn shape(node: &Node, key: &str) -> Result<Shape, Diagnostic> {
    match &node.kind {
        Kind::Seq(_) => Ok(Shape::Many(strings(node, key)?)),
        _ => Ok(Shape::One(scalar(node, key)?)),
    }
}

/// Defaults and validates `comps` (spec section 4.2).
fn default_comps(
    fields: &Shape,
    comps: Option<Shape>,
    name: &Located,
) -> Result<Shape, Diagnostic> {
    match fields {
        Shape::One(_) => {
            let comp = match comps {
                None => {
                    return Ok(Shape::One(Located {
                        value: "in".to_owned(),
                        ..name.clone()
                    }));
                }
                Some(Shape::One(c)) => c,
                Some(Shape::Many(_)) => {
                    return Err(Diagnostic::new(
                        Code::E110,
                        "when `fields` is a single field, `comps` must be one operator too",
                    )
                    .at(name.span));
                }
            };
            let text = comp.value.trim();
            let ok = matches!(text, "in" | "pmatch" | "intersects") || is_modifier_comp(text);
            if !ok {
                return Err(Diagnostic::new(
                    Code::E310,
                    format!("`{text}` cannot be used with a single field: use `in`, `pmatch`, `intersects` or an operator with `oneof`/`anyof`/`allof`"),
                )
                .at(comp.span));
            }
            Ok(Shape::One(comp))
        }
        Shape::Many(field_list) => {
            if field_list.is_empty() {
                return Err(Diagnostic::new(
                    Code::E110,
                    "exception `fields` must list at least one field",
                )
                .at(name.span));
            }
            let comps = match comps {
                None => field_list
                    .iter()
                    .map(|f| Located {
                        value: "=".to_owned(),
                        ..f.clone()
                    })
                    .collect(),
                Some(Shape::Many(c)) => c,
                Some(Shape::One(c)) => vec![c],
            };
            if comps.len() != field_list.len() {
                return Err(Diagnostic::new(
                    Code::E110,
                    format!(
                        "exception `{}` has {} fields but {} comps",
                        name.value,
                        field_list.len(),
                        comps.len()
                    ),
                )
                .at(name.span)
                .help("`fields` and `comps` must have the same length"));
            }
            for comp in &comps {
                let text = comp.value.trim();
                if Op::from_str(text).is_none() && !is_modifier_comp(text) {
                    return Err(Diagnostic::new(
                        Code::E310,
                        format!("`{text}` is not a supported comparison operator"),
                    )
                    .at(comp.span));
                }
            }
            Ok(Shape::Many(comps))
        }
    }
}

/// `startswith oneof`, `= anyof`, ...
pub(crate) fn is_modifier_comp(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let (Some(op), Some(modifier), None) = (words.next(), words.next(), words.next()) else {
        return false;
    };
    Op::from_str(op).is_some_and(Op::takes_modifier)
        && matches!(modifier, "oneof" | "anyof" | "allof")
}

fn parse_priority(value: &Located) -> Result<Priority, Diagnostic> {
    Priority::parse(&value.value).ok_or_else(|| {
        Diagnostic::new(Code::E105, format!("invalid priority `{}`", value.value))
            .at(value.span)
            .help("use one of Emergency, Alert, Critical, Error, Warning, Notice, Informational (or Info), Debug")
    })
}

fn tags(item: &Item<'_>) -> Result<Option<BTreeSet<String>>, Diagnostic> {
    Ok(item
        .opt_strings("tags")?
        .map(|tags| tags.into_iter().map(|t| t.value).collect()))
}

fn capture_duration(item: &Item<'_>) -> Result<Option<u32>, Diagnostic> {
    item.opt_string("capture_duration")?
        .map(|v| {
            v.value.parse().map_err(|_| {
                Diagnostic::new(
                    Code::E104,
                    format!(
                        "`capture_duration` must be a number of milliseconds, found `{}`",
                        v.value
                    ),
                )
                .at(v.span)
            })
        })
        .transpose()
}

fn source_mismatch(name: &Located, previous: &str, new: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E112,
        format!(
            "rule `{}` was defined with source `{previous}` and is redefined with source `{new}`",
            name.value
        ),
    )
    .at(name.span)
}

fn no_previous_rule(name: &Located, key: &str, op: OverrideOp) -> Diagnostic {
    let message = match op {
        OverrideOp::Append => format!(
            "rule `{}` uses `append` or `override.{key}: append`, but no rule by that name exists",
            name.value
        ),
        OverrideOp::Replace => format!(
            "rule `{}` uses `override.{key}: replace`, but no rule by that name exists",
            name.value
        ),
    };
    Diagnostic::new(Code::E107, message)
        .at(name.span)
        .help("define the rule first, or load the file that defines it earlier")
}
