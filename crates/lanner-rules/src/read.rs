//! Reading one rules file's YAML items into the [`Store`].
//!
//! Every item kind and key of Falco's rules files: `required_engine_version`,
//! `required_plugin_versions`, `list`, `macro`, `rule`, with the
//! precedence, scalar decoding, append and override semantics of Falco's
//! reader and collector. Unlike Falco, a bad item does not stop the file:
//! it is reported and skipped, and reading goes on with the next item.
//! Rule items live in `read_rule`.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::item::{ListDef, MacroDef, PluginRequirement, Store};
use crate::source::{FileId, Sources, Span};
use crate::text::{Located, Piece};
use crate::yaml::{self, Kind, Node};

/// The engine version Lanner implements, for `required_engine_version`.
pub const ENGINE_VERSION: (u32, u32, u32) = (0, 50, 0);

/// The plugins whose fields Lanner provides, with the versions it matches.
pub const PROVIDED_PLUGINS: &[(&str, (u32, u32, u32))] =
    &[("k8saudit", (0, 18, 0)), ("json", (0, 7, 4))];

/// Reads the items of one file into a store.
pub struct Reader<'a> {
    pub(crate) sources: &'a Sources,
    pub(crate) file: FileId,
    pub(crate) store: &'a mut Store,
    pub(crate) diags: &'a mut Diagnostics,
}

/// A mapping item, its entries looked up by key; remembers which keys were
/// read so the rest can be reported as unknown.
pub(crate) struct Item<'n> {
    pub node: &'n Node,
    pub entries: &'n [(Node, Node)],
}

impl<'n> Item<'n> {
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, _)| k.span)
    }

    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A required non-empty scalar.
    pub fn string(&self, key: &str) -> Result<Located, Diagnostic> {
        let Some(node) = self.get(key) else {
            return Err(Diagnostic::new(Code::E103, format!("missing key `{key}`"))
                .at(self.node.span)
                .label(format!("this item needs `{key}`")));
        };
        scalar(node, key)
    }

    /// An optional non-empty scalar.
    pub fn opt_string(&self, key: &str) -> Result<Option<Located>, Diagnostic> {
        self.get(key).map(|node| scalar(node, key)).transpose()
    }

    /// An optional boolean in YAML 1.1 spelling (`true`, `yes`, `on`, ...).
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, Diagnostic> {
        let Some(node) = self.get(key) else {
            return Ok(None);
        };
        let value = scalar(node, key)?;
        parse_bool(&value.value).map(Some).ok_or_else(|| {
            Diagnostic::new(
                Code::E104,
                format!("`{key}` must be a boolean, found `{}`", value.value),
            )
            .at(node.span)
            .help("use `true` or `false`")
        })
    }

    /// An optional sequence of scalars (null is an empty sequence).
    pub fn opt_strings(&self, key: &str) -> Result<Option<Vec<Located>>, Diagnostic> {
        let Some(node) = self.get(key) else {
            return Ok(None);
        };
        strings(node, key).map(Some)
    }

    /// Reports keys other than `allowed` as unknown (W104).
    pub fn check_keys(&self, kind: &str, allowed: &[&str], diags: &mut Diagnostics) {
        for (key, _) in self.entries {
            let name = key.as_str().unwrap_or("");
            if !allowed.contains(&name) {
                let mut d = Diagnostic::new(
                    Code::W104,
                    format!("unknown key `{name}` in {kind}; it is ignored"),
                )
                .at(key.span);
                if let Some(best) = closest(name, allowed) {
                    d = d.help(format!("did you mean `{best}`?"));
                }
                diags.push(d);
            }
        }
    }
}

/// The closest of `candidates` to `name`, if close enough to suggest.
pub(crate) fn closest<'c>(name: &str, candidates: &[&'c str]) -> Option<&'c str> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), *c))
        .filter(|(score, _)| *score > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// YAML 1.1 booleans as yaml-cpp reads them.
pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["y", "yes", "true", "on"];
    const FALSE: [&str; 4] = ["n", "no", "false", "off"];
    let matches = |word: &str| {
        text == word
            || text == word.to_uppercase()
            || (text.len() == word.len() && {
                let mut chars = word.chars();
                chars
                    .next()
                    .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                    == Some(text.to_owned())
            })
    };
    if TRUE.iter().any(|w| matches(w)) {
        Some(true)
    } else if FALSE.iter().any(|w| matches(w)) {
        Some(false)
    } else {
        None
    }
}

/// A non-empty scalar value.
pub(crate) fn scalar(node: &Node, key: &str) -> Result<Located, Diagnostic> {
    match &node.kind {
        Kind::Scalar(s) if !s.value.is_empty() => Ok(Located::new(s, node.span)),
        Kind::Scalar(_) | Kind::Null => {
            Err(Diagnostic::new(Code::E104, format!("`{key}` is empty")).at(node.span))
        }
        _ => Err(Diagnostic::new(
            Code::E104,
            format!("`{key}` must be a scalar, found {}", node.kind_name()),
        )
        .at(node.span)),
    }
}

/// A sequence of scalars (null is empty).
pub(crate) fn strings(node: &Node, key: &str) -> Result<Vec<Located>, Diagnostic> {
    match &node.kind {
        Kind::Null => Ok(Vec::new()),
        Kind::Seq(items) => items
            .iter()
            .map(|item| match &item.kind {
                Kind::Scalar(s) => Ok(Located::new(s, item.span)),
                _ => Err(Diagnostic::new(
                    Code::E104,
                    format!(
                        "each entry of `{key}` must be a scalar, found {}",
                        item.kind_name()
                    ),
                )
                .at(item.span)),
            })
            .collect(),
        _ => Err(Diagnostic::new(
            Code::E104,
            format!("`{key}` must be a sequence, found {}", node.kind_name()),
        )
        .at(node.span)),
    }
}

/// `x.y.z` (trailing text after the third number ignored, as Falco's sscanf).
pub(crate) fn parse_version(text: &str) -> Option<(u32, u32, u32)> {
    if let Ok(minor) = text.parse::<u32>() {
        return Some((0, minor, 0));
    }
    let mut parts = text.splitn(3, '.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    let rest = parts.next()?;
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let patch = digits.parse().ok()?;
    Some((major, minor, patch))
}

fn version_string(v: (u32, u32, u32)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

/// Whether `have` satisfies `required`: same major, not older.
pub(crate) fn compatible(have: (u32, u32, u32), required: (u32, u32, u32)) -> bool {
    have.0 == required.0 && have >= required
}

/// An `override:` entry: append or replace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OverrideOp {
    Append,
    Replace,
}

impl Reader<'_> {
    /// Reads every document and item of the file.
    pub fn read(&mut self) {
        let source = self.sources.get(self.file);
        let docs = match yaml::parse(self.file, source) {
            Ok(docs) => docs,
            Err(d) => return self.diags.push(d),
        };
        for doc in &docs {
            match &doc.kind {
                Kind::Null => {}
                Kind::Seq(items) => {
                    for item in items {
                        if let Err(d) = self.item(item) {
                            self.diags.push(d);
                        }
                    }
                }
                _ => self.diags.push(
                    Diagnostic::new(
                        Code::E102,
                        format!(
                            "rules content must be a sequence of items, found {}",
                            doc.kind_name()
                        ),
                    )
                    .at(doc.span)
                    .help("start each item with `- `, e.g. `- rule: My Rule`"),
                ),
            }
        }
    }

    fn item(&mut self, node: &Node) -> Result<(), Diagnostic> {
        let entries = match &node.kind {
            Kind::Null => return Ok(()),
            Kind::Map(entries) => entries,
            _ => {
                return Err(Diagnostic::new(
                    Code::E102,
                    format!("each item must be a mapping, found {}", node.kind_name()),
                )
                .at(node.span));
            }
        };
        let item = Item { node, entries };
        if item.has("required_engine_version") {
            item.check_keys(
                "required_engine_version",
                &["required_engine_version"],
                self.diags,
            );
            self.engine_version(&item)
        } else if item.has("required_plugin_versions") {
            item.check_keys(
                "required_plugin_versions",
                &["required_plugin_versions"],
                self.diags,
            );
            self.plugin_versions(&item)
        } else if item.has("list") {
            item.check_keys("list", &["list", "items", "append", "override"], self.diags);
            self.list(&item)
        } else if item.has("macro") {
            item.check_keys(
                "macro",
                &["macro", "condition", "append", "override"],
                self.diags,
            );
            self.macro_item(&item)
        } else if item.has("rule") {
            item.check_keys("rule", crate::read_rule::RULE_KEYS, self.diags);
            self.rule(&item)
        } else {
            self.diags.push(
                Diagnostic::new(Code::W105, "unknown top-level item; it is ignored")
                    .at(node.span)
                    .help("an item starts with `rule`, `macro`, `list`, `required_engine_version` or `required_plugin_versions`"),
            );
            Ok(())
        }
    }

    // A method like the other item readers, though it needs no state.
    #[allow(clippy::unused_self)]
    fn engine_version(&mut self, item: &Item<'_>) -> Result<(), Diagnostic> {
        let value = item.string("required_engine_version")?;
        let required = parse_version(&value.value).ok_or_else(|| {
            Diagnostic::new(
                Code::E108,
                format!(
                    "cannot read engine version `{}`: expected `x.y.z` or a number",
                    value.value
                ),
            )
            .at(value.span)
        })?;
        if !compatible(ENGINE_VERSION, required) {
            return Err(Diagnostic::new(
                Code::E108,
                format!(
                    "these rules require engine version {}, but Lanner implements {}",
                    version_string(required),
                    version_string(ENGINE_VERSION)
                ),
            )
            .at(value.span));
        }
        Ok(())
    }

    fn plugin_versions(&mut self, item: &Item<'_>) -> Result<(), Diagnostic> {
        let node = item.get("required_plugin_versions").unwrap_or(item.node);
        let Kind::Seq(entries) = &node.kind else {
            return Err(Diagnostic::new(
                Code::E109,
                "`required_plugin_versions` must be a sequence",
            )
            .at(node.span));
        };
        for entry in entries {
            let mut alternatives = vec![plugin_entry(entry)?];
            let Kind::Map(map) = &entry.kind else {
                continue;
            };
            let entry_item = Item {
                node: entry,
                entries: map,
            };
            if let Some(alts) = entry_item.get("alternatives") {
                let Kind::Seq(alts) = &alts.kind else {
                    return Err(
                        Diagnostic::new(Code::E109, "`alternatives` must be a sequence")
                            .at(alts.span),
                    );
                };
                for alt in alts {
                    alternatives.push(plugin_entry(alt)?);
                }
            }
            self.store
                .plugin_requirements
                .push(PluginRequirement { alternatives });
        }
        Ok(())
    }

    fn list(&mut self, item: &Item<'_>) -> Result<(), Diagnostic> {
        let name = item.string("list")?;
        if name
            .value
            .contains(|c: char| "()\"'=,".contains(c) || c.is_whitespace())
        {
            self.diags.push(
                Diagnostic::new(
                    Code::W107,
                    format!("list name `{}` is not valid", name.value),
                )
                .at(name.span)
                .help("list names cannot contain blanks, quotes, parentheses, `=` or `,`"),
            );
        }
        let items = item
            .opt_strings("items")?
            .ok_or_else(|| Diagnostic::new(Code::E103, "missing key `items`").at(item.node.span))?;
        let op = self.single_override(item, "items", &["items"], &["items"])?;
        let visibility = self.store.tick();
        match op {
            Some(OverrideOp::Append) => {
                let Some(list) = self.store.lists.get_mut(&name.value) else {
                    return Err(no_previous("list", &name, "items"));
                };
                list.items.extend(items);
                list.visibility = visibility;
            }
            Some(OverrideOp::Replace) | None => {
                let first = self
                    .store
                    .lists
                    .get(&name.value)
                    .map_or(visibility, |l| l.first);
                let def = ListDef {
                    name_span: name.span,
                    items,
                    first,
                    visibility,
                };
                self.store.lists.insert(name.value, def);
            }
        }
        Ok(())
    }

    fn macro_item(&mut self, item: &Item<'_>) -> Result<(), Diagnostic> {
        let name = item.string("macro")?;
        let valid = name.value.starts_with(|c: char| c.is_ascii_alphabetic())
            && name
                .value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            self.diags.push(
                Diagnostic::new(Code::W107, format!("macro name `{}` is not valid", name.value))
                    .at(name.span)
                    .help("a macro name is a letter followed by letters, digits or `_`; others cannot be referenced"),
            );
        }
        let condition = item.string("condition")?;
        let op = self.single_override(item, "condition", &["condition"], &["condition"])?;
        let visibility = self.store.tick();
        match op {
            Some(OverrideOp::Append) => {
                let Some(def) = self.store.macros.get_mut(&name.value) else {
                    return Err(no_previous("macro", &name, "condition"));
                };
                def.condition.push(Piece::Glue(" ".to_owned()));
                def.condition.push(Piece::Scalar(condition));
                def.visibility = visibility;
            }
            Some(OverrideOp::Replace) | None => {
                let first = self
                    .store
                    .macros
                    .get(&name.value)
                    .map_or(visibility, |m| m.first);
                let def = MacroDef {
                    name_span: name.span,
                    condition: vec![Piece::Scalar(condition)],
                    first,
                    visibility,
                };
                self.store.macros.insert(name.value, def);
            }
        }
        Ok(())
    }

    /// For lists and macros: the one operation on `key`, from `override:` or
    /// the legacy `append: true` (with its deprecation warning).
    fn single_override(
        &mut self,
        item: &Item<'_>,
        key: &str,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> Result<Option<OverrideOp>, Diagnostic> {
        let append = item.opt_bool("append")?.unwrap_or(false);
        let overrides = self.overrides(item, appendable, replaceable)?;
        if !overrides.is_empty() && append {
            return Err(override_and_append(item));
        }
        if let Some((_, op, _)) = overrides.iter().find(|(k, _, _)| k == key) {
            return Ok(Some(*op));
        }
        if append {
            self.diags.push(deprecated_append(item));
            return Ok(Some(OverrideOp::Append));
        }
        Ok(None)
    }

    /// Reads `override:`: each key with `append` or `replace`.
    // A method like the other item readers, though it needs no state.
    #[allow(clippy::unused_self)]
    pub(crate) fn overrides(
        &mut self,
        item: &Item<'_>,
        appendable: &[&str],
        replaceable: &[&str],
    ) -> Result<Vec<(String, OverrideOp, Span)>, Diagnostic> {
        let Some(node) = item.get("override") else {
            return Ok(Vec::new());
        };
        let Kind::Map(entries) = &node.kind else {
            return Err(Diagnostic::new(
                Code::E106,
                "`override` must be a mapping of key to `append` or `replace`",
            )
            .at(node.span));
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            let key_name = key.as_str().unwrap_or("").to_owned();
            let op = match value.as_str() {
                Some("append") => OverrideOp::Append,
                Some("replace") => OverrideOp::Replace,
                _ => {
                    let allowed = match (
                        appendable.contains(&key_name.as_str()),
                        replaceable.contains(&key_name.as_str()),
                    ) {
                        (true, true) => "`append` or `replace`",
                        (true, false) => "`append`",
                        (false, true) => "`replace`",
                        (false, false) => "nothing",
                    };
                    return Err(Diagnostic::new(
                        Code::E106,
                        format!(
                            "invalid override operation for `{key_name}`: allowed is {allowed}"
                        ),
                    )
                    .at(value.span));
                }
            };
            let allowed = match op {
                OverrideOp::Append => appendable,
                OverrideOp::Replace => replaceable,
            };
            if !allowed.contains(&key_name.as_str()) {
                let (verb, instead) = match op {
                    OverrideOp::Append => ("appended to", "; use `replace` instead"),
                    OverrideOp::Replace => ("replaced", ""),
                };
                return Err(Diagnostic::new(
                    Code::E106,
                    format!("key `{key_name}` cannot be {verb}{instead}"),
                )
                .at(key.span));
            }
            if !item.has(&key_name) {
                let word = match op {
                    OverrideOp::Append => "an append",
                    OverrideOp::Replace => "a replace",
                };
                return Err(Diagnostic::new(
                    Code::E106,
                    format!("{word} override for `{key_name}` was given, but `{key_name}` is not defined in this item"),
                )
                .at(key.span));
            }
            out.push((key_name, op, key.span));
        }
        Ok(out)
    }
}

/// One plugin requirement: name, version and where it was written.
type PluginEntry = (String, (u32, u32, u32), Span);

fn plugin_entry(node: &Node) -> Result<PluginEntry, Diagnostic> {
    let Kind::Map(entries) = &node.kind else {
        return Err(Diagnostic::new(
            Code::E109,
            "a plugin requirement must be a mapping with `name` and `version`",
        )
        .at(node.span));
    };
    let item = Item { node, entries };
    let name = item.string("name").map_err(|d| Diagnostic {
        code: Code::E109,
        ..d
    })?;
    let version = item.string("version").map_err(|d| Diagnostic {
        code: Code::E109,
        ..d
    })?;
    let parsed = parse_version(&version.value)
        .filter(|_| version.value.contains('.'))
        .ok_or_else(|| {
            Diagnostic::new(
                Code::E109,
                format!(
                    "invalid required version `{}` for plugin `{}`",
                    version.value, name.value
                ),
            )
            .at(version.span)
        })?;
    Ok((name.value, parsed, node.span))
}

pub(crate) fn no_previous(kind: &str, name: &Located, key: &str) -> Diagnostic {
    Diagnostic::new(
        Code::E107,
        format!("{kind} `{}` uses `append` or `override.{key}: append`, but no {kind} by that name exists", name.value),
    )
    .at(name.span)
    .help(format!("define the {kind} first, or load the file that defines it earlier"))
}

pub(crate) fn override_and_append(item: &Item<'_>) -> Diagnostic {
    Diagnostic::new(
        Code::E106,
        "keys `override` and `append: true` cannot be used together",
    )
    .at(item.key_span("append").unwrap_or(item.node.span))
    .help("add an `append` entry under `override` (e.g. `condition: append`) instead")
}

pub(crate) fn deprecated_append(item: &Item<'_>) -> Diagnostic {
    Diagnostic::new(Code::W106, "`append: true` is deprecated")
        .at(item.key_span("append").unwrap_or(item.node.span))
        .help("add an `append` entry under `override` (e.g. `condition: append`) instead")
}
