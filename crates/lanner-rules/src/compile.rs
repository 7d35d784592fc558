//! From collected items to a checked rule set.
//!
//! Runs once, after every file is read: expands lists (lists of lists),
//! parses every macro and rule condition (exceptions expanded), marks which
//! macros and lists are used (by rules of any source), binds the
//! `k8s_audit` rules, checks their outputs, and reports what is skipped or
//! unused. Rules of other sources are parsed but never bound, so the fields
//! of a syscall ruleset loaded alongside do not matter.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::checked::{Cond, Rule, RuleId, RuleSet};
use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::exception;
use crate::item::Store;
use crate::read::{PROVIDED_PLUGINS, compatible};
use crate::source::{FileId, Sources, Span};
use crate::syntax::ast::{Expr, ExprKind, Rhs, TextId, TextSpan};
use crate::syntax::{SyntaxError, parse};
use crate::text::Text;

/// The event source Lanner evaluates.
pub const SOURCE: &str = "k8s_audit";

/// Marker for "failed, and the reason was already reported".
#[derive(Clone, Copy, Debug)]
pub(crate) struct Failed;

/// Where a condition being bound comes from, for context chains.
#[derive(Clone, Debug)]
pub(crate) enum Scope {
    Rule {
        index: usize,
        text: TextId,
        skip_unknown: bool,
    },
    Macro {
        index: usize,
        text: TextId,
        parent: Box<Scope>,
    },
}

impl Scope {
    pub(crate) fn text(&self) -> TextId {
        match self {
            Scope::Rule { text, .. } | Scope::Macro { text, .. } => *text,
        }
    }

    /// How many macros deep this scope is.
    pub(crate) fn macro_depth(&self) -> usize {
        let mut depth = 0;
        let mut scope = self;
        while let Scope::Macro { parent, .. } = scope {
            depth += 1;
            scope = parent;
        }
        depth
    }

    pub(crate) fn skip_unknown(&self) -> bool {
        match self {
            Scope::Rule { skip_unknown, .. } => *skip_unknown,
            Scope::Macro { parent, .. } => parent.skip_unknown(),
        }
    }

    fn context(&self, store: &Store) -> Vec<String> {
        let mut out = Vec::new();
        let mut scope = self;
        let mut first = true;
        loop {
            let (word, name) = match scope {
                Scope::Rule { index, .. } => {
                    ("rule", store.rules.get_index(*index).map(|(n, _)| n))
                }
                Scope::Macro { index, .. } => {
                    ("macro", store.macros.get_index(*index).map(|(n, _)| n))
                }
            };
            let lead = if first { "in" } else { "used by" };
            out.push(format!(
                "{lead} {word} `{}`",
                name.map_or("?", String::as_str)
            ));
            first = false;
            match scope {
                Scope::Rule { .. } => return out,
                Scope::Macro { parent, .. } => scope = parent,
            }
        }
    }
}

/// A macro's progress through binding.
pub(crate) enum MacroState {
    Parsed(Expr, TextId),
    InProgress,
    Bound(Arc<Cond>),
    Failed,
}

/// The state of one compilation.
pub(crate) struct Compiler<'a> {
    pub sources: &'a Sources,
    pub store: &'a Store,
    diags: &'a mut Diagnostics,
    texts: Vec<Text>,
    pub lists: HashMap<String, Vec<String>>,
    pub macros: Vec<MacroState>,
    pub skipped_unknown: Option<String>,
    reported: HashSet<(Code, Option<Span>, String)>,
    used_lists: HashSet<String>,
    used_macro_set: HashSet<usize>,
}

/// How a rule fared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Checked and evaluated.
    Loaded,
    /// Its source is not `k8s_audit`.
    OtherSource,
    /// It uses an unknown field and has `skip-if-unknown-filter: true`.
    SkippedUnknownField,
    /// It has an error.
    Invalid,
}

impl<'a> Compiler<'a> {
    pub(crate) fn new(sources: &'a Sources, store: &'a Store, diags: &'a mut Diagnostics) -> Self {
        Compiler {
            sources,
            store,
            diags,
            texts: Vec::new(),
            lists: HashMap::new(),
            macros: Vec::new(),
            skipped_unknown: None,
            reported: HashSet::new(),
            used_lists: HashSet::new(),
            used_macro_set: HashSet::new(),
        }
    }

    /// A diagnostic at `span` of a condition or output text, with context.
    pub(crate) fn error(
        &self,
        code: Code,
        message: impl Into<String>,
        span: TextSpan,
        scope: &Scope,
    ) -> Diagnostic {
        let mut d = Diagnostic::new(code, message);
        if let Some(file_span) = self
            .texts
            .get(span.text.0 as usize)
            .and_then(|t| t.span(self.sources, span.start as usize, span.end as usize))
        {
            d = d.at(file_span);
        }
        for step in scope.context(self.store) {
            d = d.context(step);
        }
        d
    }

    /// Records a diagnostic unless the same one was already reported (a
    /// macro used by many rules reports its problem once).
    pub(crate) fn report(&mut self, d: Diagnostic) {
        if self.reported.insert((d.code, d.span, d.message.clone())) {
            self.diags.push(d);
        }
    }

    fn add_text(&mut self, text: Text) -> TextId {
        self.texts.push(text);
        TextId(self.texts.len() as u32 - 1)
    }

    fn syntax_error(&mut self, e: &SyntaxError, text: TextId, scope: &Scope) {
        let span = TextSpan {
            text,
            start: e.start as u32,
            end: e.end.max(e.start) as u32,
        };
        let d = self.error(e.code, e.message.clone(), span, scope);
        self.report(d);
    }

    /// Runs the whole compilation.
    pub(crate) fn run(mut self) -> (RuleSet, Vec<RuleStatus>) {
        self.expand_lists();
        self.parse_macros();
        let parsed = self.parse_rules();
        self.mark_used(&parsed);
        let mut rules = Vec::new();
        let mut statuses = Vec::with_capacity(parsed.len());
        for (index, parsed) in parsed.into_iter().enumerate() {
            let status = match parsed {
                None => RuleStatus::Invalid,
                Some(_) if self.store.rules[index].source != SOURCE => RuleStatus::OtherSource,
                Some((expr, text)) => match self.bind_rule(index, &expr, text) {
                    Ok(Some(rule)) => {
                        rules.push(rule);
                        RuleStatus::Loaded
                    }
                    Ok(None) => RuleStatus::SkippedUnknownField,
                    Err(Failed) => RuleStatus::Invalid,
                },
            };
            statuses.push(status);
        }
        for (i, rule) in rules.iter_mut().enumerate() {
            rule.id = RuleId(i as u32);
        }
        self.warn_other_sources();
        self.warn_unused();
        self.check_plugins();
        (RuleSet { rules }, statuses)
    }

    /// Lists of lists: an item naming a list defined before this list's
    /// latest definition expands to that list's items (recursively).
    fn expand_lists(&mut self) {
        let store = self.store;
        for (index, (name, def)) in store.lists.iter().enumerate() {
            let mut seen = HashSet::new();
            let mut budget = MAX_LIST_ITEMS;
            let items = expand_list(store, index, &mut seen, &mut self.used_lists, &mut budget);
            if budget == 0 {
                self.diags.push(
                    Diagnostic::new(
                        Code::E312,
                        format!("list `{name}` expands to more than {MAX_LIST_ITEMS} items"),
                    )
                    .at(def.name_span),
                );
            }
            self.lists.insert(name.clone(), items);
        }
    }

    fn parse_macros(&mut self) {
        let store = self.store;
        for (index, (_, def)) in store.macros.iter().enumerate() {
            let text = self.add_text(Text::assemble(&def.condition));
            let scope = Scope::Macro {
                index,
                text,
                parent: Box::new(Scope::Rule {
                    index: usize::MAX,
                    text,
                    skip_unknown: false,
                }),
            };
            match parse(&self.texts[text.0 as usize].text.clone(), text) {
                Ok(expr) => self.macros.push(MacroState::Parsed(expr, text)),
                Err(e) => {
                    let mut d = self.error(
                        e.code,
                        e.message.clone(),
                        TextSpan {
                            text,
                            start: e.start as u32,
                            end: e.end as u32,
                        },
                        &scope,
                    );
                    d.context.truncate(1);
                    self.report(d);
                    self.macros.push(MacroState::Failed);
                }
            }
        }
    }

    fn parse_rules(&mut self) -> Vec<Option<(Expr, TextId)>> {
        let store = self.store;
        let mut out = Vec::with_capacity(store.rules.len());
        for (index, (_, def)) in store.rules.iter().enumerate() {
            let scope_of = |text| Scope::Rule {
                index,
                text,
                skip_unknown: def.skip_if_unknown_filter,
            };
            let pieces = match exception::expand(&def.condition, &def.exceptions) {
                Ok(pieces) => pieces,
                Err(d) => {
                    let d = d.context(format!(
                        "in rule `{}`",
                        store.rules.get_index(index).map_or("", |(n, _)| n)
                    ));
                    self.report(d);
                    out.push(None);
                    continue;
                }
            };
            let text = self.add_text(Text::assemble(&pieces));
            match parse(&self.texts[text.0 as usize].text.clone(), text) {
                Ok(expr) => out.push(Some((expr, text))),
                Err(e) => {
                    // The text parsed is `(<condition>)` plus exception
                    // clauses. An error in the condition itself reads better
                    // on the condition alone: no `)` the user did not write,
                    // and a blank condition is E205.
                    let own = self.add_text(Text::assemble(&def.condition));
                    let (e, text) = match parse(&self.texts[own.0 as usize].text.clone(), own) {
                        Err(alone) => (alone, own),
                        Ok(_) => (e, text),
                    };
                    self.syntax_error(&e, text, &scope_of(text));
                    out.push(None);
                }
            }
        }
        out
    }

    fn bind_rule(
        &mut self,
        index: usize,
        expr: &Expr,
        text: TextId,
    ) -> Result<Option<Rule>, Failed> {
        let store = self.store;
        let Some((name, def)) = store.rules.get_index(index) else {
            return Err(Failed);
        };
        let scope = Scope::Rule {
            index,
            text,
            skip_unknown: def.skip_if_unknown_filter,
        };
        self.skipped_unknown = None;
        let condition = self.bind(expr, &scope);
        let output_text = self.add_text(Text::assemble(&def.output));
        let output_scope = Scope::Rule {
            index,
            text: output_text,
            skip_unknown: def.skip_if_unknown_filter,
        };
        let template = self.texts[output_text.0 as usize].text.clone();
        let output = self.bind_output(&template, &output_scope);
        if let Some(field) = self.skipped_unknown.take() {
            let d = Diagnostic::new(
                Code::W112,
                format!("rule `{name}` uses unknown field `{field}` and has `skip-if-unknown-filter: true`; it is skipped"),
            )
            .at(def.name_span);
            self.report(d);
            return Ok(None);
        }
        let (condition, output) = (condition?, output?);
        let (size, depth) = measure(&condition, &mut HashMap::new());
        if size > MAX_EXPANDED_NODES || depth > MAX_EXPANDED_DEPTH {
            let d = Diagnostic::new(
                Code::E312,
                format!(
                    "rule `{name}` is too large once its macros are expanded ({size} nodes, {depth} levels; at most {MAX_EXPANDED_NODES} nodes and {MAX_EXPANDED_DEPTH} levels)"
                ),
            )
            .at(def.name_span)
            .help("a macro used twice in a macro used twice... doubles at each level; restructure the macros");
            self.report(d);
            return Err(Failed);
        }
        let file = self.sources.get(def.file);
        let line = file.line_col(def.name_span.start as usize).line;
        Ok(Some(Rule {
            id: RuleId(0),
            name: name.clone(),
            desc: def.desc.clone(),
            priority: def.priority,
            source: def.source.clone(),
            enabled: def.enabled,
            tags: def.tags.iter().cloned().collect(),
            condition,
            output,
            location: format!("{}:{line}", file.name),
        }))
    }

    /// Marks macros and lists reachable from any rule (of any source).
    fn mark_used(&mut self, parsed: &[Option<(Expr, TextId)>]) {
        let mut used_macros = HashSet::new();
        let mut stack: Vec<Expr> = parsed.iter().flatten().map(|(e, _)| e.clone()).collect();
        while let Some(expr) = stack.pop() {
            visit(&expr, &mut |e| match &e.kind {
                ExprKind::Macro(name) => {
                    if let Some(index) = self.store.macros.get_index_of(name) {
                        if used_macros.insert(index) {
                            if let Some(MacroState::Parsed(body, _)) = self.macros.get(index) {
                                stack.push(body.clone());
                            }
                        }
                    } else if self.store.lists.contains_key(name) {
                        // A list written where a macro goes is an error
                        // (E302) already; calling it unused too would be noise.
                        self.used_lists.insert(name.clone());
                    }
                }
                ExprKind::Check(check) => {
                    let values: Vec<&crate::syntax::ast::Value> = match &check.rhs {
                        Rhs::Value(v) | Rhs::ListRef(v) => vec![v],
                        Rhs::List(list) => list.items.iter().collect(),
                        Rhs::None | Rhs::Operand(_) => Vec::new(),
                    };
                    for v in values.into_iter().filter(|v| !v.quoted) {
                        if self.store.lists.contains_key(&v.text) {
                            self.used_lists.insert(v.text.clone());
                        }
                    }
                }
                _ => {}
            });
        }
        self.used_macro_set = used_macros;
    }
}

/// The most nodes a rule's condition may have with its macros expanded.
const MAX_EXPANDED_NODES: u64 = 200_000;
/// The deepest a rule's condition may nest with its macros expanded.
const MAX_EXPANDED_DEPTH: u32 = 2_000;

/// Size and depth of a condition with macros expanded, each macro body
/// measured once (bodies are shared, so this is linear in the macros).
fn measure(cond: &Cond, memo: &mut HashMap<*const Cond, (u64, u32)>) -> (u64, u32) {
    match cond {
        Cond::And(items) | Cond::Or(items) => {
            let (mut size, mut depth) = (1u64, 0u32);
            for item in items {
                let (s, d) = measure(item, memo);
                size = size.saturating_add(s);
                depth = depth.max(d);
            }
            (size, depth.saturating_add(1))
        }
        Cond::Not(inner) => {
            let (s, d) = measure(inner, memo);
            (s.saturating_add(1), d.saturating_add(1))
        }
        Cond::Macro { body, .. } => {
            let key = std::sync::Arc::as_ptr(body);
            if let Some(known) = memo.get(&key) {
                return *known;
            }
            let measured = measure(body, memo);
            memo.insert(key, measured);
            measured
        }
        Cond::Test(_) => (1, 1),
    }
}

fn visit(expr: &Expr, f: &mut impl FnMut(&Expr)) {
    f(expr);
    match &expr.kind {
        ExprKind::And(items) | ExprKind::Or(items) => items.iter().for_each(|e| visit(e, f)),
        ExprKind::Not(inner) => visit(inner, f),
        ExprKind::Macro(_) | ExprKind::Check(_) => {}
    }
}

/// The most items a list may expand to (lists of lists can double at each
/// level).
const MAX_LIST_ITEMS: usize = 100_000;

fn expand_list(
    store: &Store,
    index: usize,
    seen: &mut HashSet<usize>,
    used: &mut HashSet<String>,
    budget: &mut usize,
) -> Vec<String> {
    let Some((_, def)) = store.lists.get_index(index) else {
        return Vec::new();
    };
    seen.insert(index);
    let mut out = Vec::with_capacity(def.items.len());
    for item in &def.items {
        if *budget == 0 {
            break;
        }
        let referenced = store
            .lists
            .get_full(&item.value)
            .filter(|(i, _, l)| !seen.contains(i) && l.first < def.visibility);
        if let Some((i, name, _)) = referenced {
            used.insert(name.clone());
            out.extend(expand_list(store, i, seen, used, budget));
        } else {
            *budget -= 1;
            out.push(unquote_item(&item.value));
        }
    }
    seen.remove(&index);
    out
}

/// A list item written with its own quotes (`'"(systemd)"'`) stands for the
/// quoted string, as it does after Falco's textual substitution.
fn unquote_item(item: &str) -> String {
    let quoted = item.len() >= 2
        && ((item.starts_with('"') && item.ends_with('"'))
            || (item.starts_with('\'') && item.ends_with('\'')));
    if quoted {
        item[1..item.len() - 1].to_owned()
    } else {
        item.to_owned()
    }
}

impl Compiler<'_> {
    fn warn_other_sources(&mut self) {
        let mut by_file: Vec<(FileId, String, usize, Span)> = Vec::new();
        for def in self.store.rules.values().filter(|d| d.source != SOURCE) {
            match by_file
                .iter_mut()
                .find(|(f, s, _, _)| *f == def.file && *s == def.source)
            {
                Some(entry) => entry.2 += 1,
                None => by_file.push((def.file, def.source.clone(), 1, def.name_span)),
            }
        }
        for (_, source, count, span) in by_file {
            let rules = if count == 1 { "rule" } else { "rules" };
            let mut d = Diagnostic::new(
                Code::W101,
                format!("{count} {rules} in this file have source `{source}`; Lanner evaluates only `{SOURCE}` rules, so they are skipped"),
            )
            .at(span)
            .label("the first of them");
            if source == "syscall" {
                d = d.help("rules without `source:` default to `syscall`, as in Falco; add `source: k8s_audit` to audit rules");
            }
            self.diags.push(d);
        }
    }

    fn warn_unused(&mut self) {
        for (index, (name, def)) in self.store.macros.iter().enumerate() {
            if !self.used_macro_set.contains(&index) {
                self.diags.push(
                    Diagnostic::new(
                        Code::W102,
                        format!("macro `{name}` is not used by any rule or macro"),
                    )
                    .at(def.name_span),
                );
            }
        }
        for (name, def) in &self.store.lists {
            if !self.used_lists.contains(name) {
                self.diags.push(
                    Diagnostic::new(
                        Code::W103,
                        format!("list `{name}` is not used by any rule, macro or list"),
                    )
                    .at(def.name_span),
                );
            }
        }
    }

    fn check_plugins(&mut self) {
        for requirement in &self.store.plugin_requirements {
            let decided = requirement
                .alternatives
                .iter()
                .find_map(|(name, version, span)| {
                    PROVIDED_PLUGINS
                        .iter()
                        .find(|(p, _)| p == name)
                        .map(|(_, have)| (name, *version, *have, *span))
                });
            match decided {
                Some((_, required, have, _)) if compatible(have, required) => {}
                Some((name, required, have, span)) => self.diags.push(
                    Diagnostic::new(
                        Code::E109,
                        format!(
                            "these rules require plugin `{name}` {}.{}.{}, but Lanner provides the fields of {}.{}.{}",
                            required.0, required.1, required.2, have.0, have.1, have.2
                        ),
                    )
                    .at(span),
                ),
                None => {
                    let names: Vec<String> = requirement
                        .alternatives
                        .iter()
                        .map(|(n, v, _)| format!("{n} (>= {}.{}.{})", v.0, v.1, v.2))
                        .collect();
                    let span = requirement.alternatives.first().map(|(_, _, s)| *s);
                    let mut d = Diagnostic::new(
                        Code::E109,
                        format!("plugin requirement not satisfied: Lanner provides none of {}", names.join(", ")),
                    );
                    if let Some(span) = span {
                        d = d.at(span);
                    }
                    self.diags.push(d);
                }
            }
        }
    }
}
