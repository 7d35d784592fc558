//! Binding a parsed condition to the field catalog and checking it.
//!
//! Macros are inlined (with Falco's visibility rule and loop detection),
//! list names substituted, fields bound to catalog ids, arguments
//! validated, operators checked against field types (list-valued fields
//! take only `in`, `intersects`, `exists`), values converted. Every problem
//! is reported once, with the chain of macros and the rule it came through.

use std::sync::Arc;

use lanner_audit::{FieldType, fields, lookup, parse_arg};

use crate::checked::{Cond, Multi, Operand, Piece, Source, Test, TestRhs, Transformer};
use crate::compile::{Compiler, Failed, MacroState, Scope};
use crate::diag::Code;
use crate::read::closest;
use crate::syntax::ast::{self, Check, Expr, ExprKind, Op, Rhs, TextSpan, TransformArg, Value};
use crate::syntax::print;

/// The deepest chain of macros using macros.
const MAX_MACRO_DEPTH: usize = 256;

/// The deepest nesting of transformers (`concat(toupper(concat(...)))`): far beyond any
/// real rule, and a bound on the recursion of binding and evaluating them.
const MAX_TRANSFORMER_DEPTH: usize = 64;

/// The type of a bound operand: element type and whether it is a list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shape {
    pub ty: FieldType,
    pub list: bool,
}

impl Compiler<'_> {
    /// Binds `expr` (from `scope`'s text) into a checked condition.
    pub(crate) fn bind(&mut self, expr: &Expr, scope: &Scope) -> Result<Cond, Failed> {
        // Macro chains recurse once per macro: grow the stack rather than
        // overflow on a long chain (the expanded size is checked after).
        stacker::maybe_grow(128 * 1024, 4 * 1024 * 1024, || self.bind_expr(expr, scope))
    }

    fn bind_expr(&mut self, expr: &Expr, scope: &Scope) -> Result<Cond, Failed> {
        match &expr.kind {
            ExprKind::And(items) | ExprKind::Or(items) => {
                let mut bound = Vec::with_capacity(items.len());
                let mut failed = false;
                for item in items {
                    match self.bind(item, scope) {
                        Ok(c) => bound.push(c),
                        Err(Failed) => failed = true,
                    }
                }
                if failed {
                    return Err(Failed);
                }
                Ok(if matches!(expr.kind, ExprKind::And(_)) {
                    Cond::And(bound)
                } else {
                    Cond::Or(bound)
                })
            }
            ExprKind::Not(inner) => Ok(Cond::Not(Box::new(self.bind(inner, scope)?))),
            ExprKind::Macro(name) => self.bind_macro(name, expr.span, scope),
            ExprKind::Check(check) => self.bind_check(check, expr, scope),
        }
    }

    fn bind_macro(&mut self, name: &str, span: TextSpan, scope: &Scope) -> Result<Cond, Failed> {
        let Some(index) = self.store.macros.get_index_of(name) else {
            let mut d = self.error(Code::E302, format!("undefined macro `{name}`"), span, scope);
            if self.store.lists.contains_key(name) {
                d = d.help(format!(
                    "`{name}` is a list: use it as a value, e.g. `field in ({name})`"
                ));
            } else {
                let names: Vec<&str> = self.store.macros.keys().map(String::as_str).collect();
                if let Some(best) = closest(name, &names) {
                    d = d.help(format!("did you mean `{best}`?"));
                }
            }
            self.report(d);
            return Err(Failed);
        };
        if let Scope::Macro { index: from, .. } = scope {
            let visibility = self.store.macros[*from].visibility;
            let (_, target) = self.store.macros.get_index(index).ok_or(Failed)?;
            // A macro sees only macros first defined before its own latest
            // definition (Falco's visibility rule).
            if target.first >= visibility {
                let d = self
                    .error(
                        Code::E302,
                        format!("macro `{name}` is used before it is defined"),
                        span,
                        scope,
                    )
                    .help("a macro can only use macros defined before it; move the definition up");
                self.report(d);
                return Err(Failed);
            }
        }
        if scope.macro_depth() >= MAX_MACRO_DEPTH {
            let d = self
                .error(
                    Code::E312,
                    format!("macros nest deeper than {MAX_MACRO_DEPTH} levels here"),
                    span,
                    scope,
                )
                .help("a macro using a macro using a macro...: flatten the chain");
            self.report(d);
            return Err(Failed);
        }
        let body = match &self.macros[index] {
            MacroState::Bound(body) => Arc::clone(body),
            MacroState::Failed => return Err(Failed),
            MacroState::InProgress => {
                let d = self
                    .error(
                        Code::E303,
                        format!("macro `{name}` refers to itself"),
                        span,
                        scope,
                    )
                    .help("a macro cannot use itself, directly or through other macros");
                self.report(d);
                return Err(Failed);
            }
            MacroState::Parsed(expr, text) => {
                let (expr, text) = (expr.clone(), *text);
                self.macros[index] = MacroState::InProgress;
                let inner = Scope::Macro {
                    index,
                    text,
                    parent: Box::new(scope.clone()),
                };
                if let Ok(cond) = self.bind(&expr, &inner) {
                    let body = Arc::new(cond);
                    self.macros[index] = MacroState::Bound(Arc::clone(&body));
                    body
                } else {
                    // A rule with `skip-if-unknown-filter` hid the error:
                    // leave the macro for the next rule to report.
                    self.macros[index] = if self.skipped_unknown.is_some() {
                        MacroState::Parsed(expr, text)
                    } else {
                        MacroState::Failed
                    };
                    return Err(Failed);
                }
            }
        };
        Ok(Cond::Macro {
            name: Arc::from(name),
            body,
        })
    }

    fn bind_check(&mut self, check: &Check, expr: &Expr, scope: &Scope) -> Result<Cond, Failed> {
        let (lhs, shape) = self.bind_operand(&check.lhs, scope)?;
        self.check_operator(check, shape, scope)?;
        let rhs = self.bind_rhs(check, shape, scope)?;
        let op = if check.op == Op::EqEq {
            Op::Eq
        } else {
            check.op
        };
        Ok(Cond::Test(Box::new(Test {
            lhs,
            op,
            modifier: check.modifier,
            rhs,
            text: print(expr),
        })))
    }

    /// Binds a field or transformer call.
    pub(crate) fn bind_operand(
        &mut self,
        operand: &ast::Operand,
        scope: &Scope,
    ) -> Result<(Operand, Shape), Failed> {
        if nesting(operand) > MAX_TRANSFORMER_DEPTH {
            return Err(self.transformer_error(
                format!("transformers nest deeper than {MAX_TRANSFORMER_DEPTH} levels here"),
                operand.span(),
                None,
                scope,
            ));
        }
        match operand {
            ast::Operand::Field(field) => {
                let Some(id) = lookup(&field.name) else {
                    self.unknown_field(&field.name, field.span, scope);
                    return Err(Failed);
                };
                let arg =
                    parse_arg(id, field.arg.as_ref().map(|a| a.text.as_str())).map_err(|e| {
                        let span = field.arg.as_ref().map_or(field.span, |a| a.span);
                        let d = self.error(Code::E305, e.to_string(), span, scope);
                        self.report(d);
                        Failed
                    })?;
                let def = id.def();
                Ok((
                    Operand::field(id, arg),
                    Shape {
                        ty: def.ty,
                        list: def.list,
                    },
                ))
            }
            ast::Operand::Transform(t) => {
                let transformer = match t.name.as_str() {
                    "tolower" => Transformer::ToLower,
                    "toupper" => Transformer::ToUpper,
                    "b64" => Transformer::B64,
                    "basename" => Transformer::Basename,
                    "len" => Transformer::Len,
                    "concat" | "join" | "getopt" => return self.bind_multi(t, scope),
                    other => {
                        let d = self.error(
                            Code::E308,
                            format!("transformer `{other}` is not supported by Lanner yet"),
                            t.span,
                            scope,
                        );
                        self.report(d);
                        return Err(Failed);
                    }
                };
                let [TransformArg::Operand(inner)] = t.args.as_slice() else {
                    let d = self.error(
                        Code::E308,
                        format!("`{}` takes exactly one field", t.name),
                        t.span,
                        scope,
                    );
                    self.report(d);
                    return Err(Failed);
                };
                if t.arg.is_some() {
                    let d = self.error(
                        Code::E308,
                        format!("`{}(...)` does not take an argument in brackets", t.name),
                        t.span,
                        scope,
                    );
                    self.report(d);
                    return Err(Failed);
                }
                let (mut bound, shape) = self.bind_operand(inner, scope)?;
                if shape.ty != FieldType::String {
                    let d = self.error(
                        Code::E308,
                        format!(
                            "`{}` applies to string fields, not {} fields",
                            t.name,
                            describe(shape)
                        ),
                        t.span,
                        scope,
                    );
                    self.report(d);
                    return Err(Failed);
                }
                bound.transforms.push(transformer);
                let shape = if transformer == Transformer::Len {
                    Shape {
                        ty: FieldType::Uint64,
                        list: false,
                    }
                } else {
                    shape
                };
                Ok((bound, shape))
            }
        }
    }

    /// Binds `concat(...)`, `join(...)` or `getopt(...)`.
    fn bind_multi(
        &mut self,
        t: &ast::Transform,
        scope: &Scope,
    ) -> Result<(Operand, Shape), Failed> {
        let name = t.name.as_str();
        if name != "getopt" && t.arg.is_some() {
            return Err(self.transformer_error(
                format!("`{name}(...)` does not take an argument in brackets"),
                t.span,
                None,
                scope,
            ));
        }
        let mut list = false;
        let multi = match (name, t.args.as_slice()) {
            ("concat", args) if args.len() >= 2 => Multi::Concat(
                args.iter()
                    .map(|arg| self.bind_piece(arg, t, true, scope))
                    .collect::<Result<_, _>>()?,
            ),
            ("join", [sep, items]) => Multi::Join {
                sep: self.bind_piece(sep, t, false, scope)?,
                items: self.bind_list(items, t, scope)?,
            },
            ("getopt", [args, optstring]) => {
                let select = match &t.arg {
                    None => None,
                    Some(arg) => {
                        let [c] = arg.text.as_bytes() else {
                            return Err(self.transformer_error(
                                "`getopt(...)[c]` selects one option character".to_owned(),
                                arg.span,
                                Some("e.g. `getopt(args, \"p:v\")[p]`"),
                                scope,
                            ));
                        };
                        Some(*c)
                    }
                };
                list = select.is_none();
                Multi::Getopt {
                    args: self.bind_list(args, t, scope)?,
                    optstring: self.bind_piece(optstring, t, true, scope)?,
                    select,
                }
            }
            // The wrong number of arguments.
            _ => {
                let (message, example) = match name {
                    "concat" => (
                        "`concat` takes two or more values",
                        "e.g. `concat(ka.user.name, \"@\", ka.target.namespace)`",
                    ),
                    "join" => (
                        "`join` takes a separator and a list",
                        "e.g. `join(\",\", (ka.user.name, ka.target.name))`",
                    ),
                    _ => (
                        "`getopt` takes a list of arguments and an option string",
                        "e.g. `getopt((\"-p\", \"8080\"), \"p:v\")[p]`",
                    ),
                };
                return Err(self.transformer_error(
                    message.to_owned(),
                    t.span,
                    Some(example),
                    scope,
                ));
            }
        };
        Ok((
            Operand {
                source: Source::Multi(Box::new(multi)),
                transforms: Vec::new(),
            },
            Shape {
                ty: FieldType::String,
                list,
            },
        ))
    }

    /// Binds a single value given to `t`: a quoted string, a number, or a field or
    /// transformer with one value (a string one if `string`).
    fn bind_piece(
        &mut self,
        arg: &TransformArg,
        t: &ast::Transform,
        string: bool,
        scope: &Scope,
    ) -> Result<Piece, Failed> {
        let operand = match arg {
            TransformArg::Value(value) => return Ok(Piece::Text(value.text.clone())),
            TransformArg::List(_) => {
                return Err(self.transformer_error(
                    format!("`{}` takes a single value here, not a list", t.name),
                    t.span,
                    None,
                    scope,
                ));
            }
            TransformArg::Operand(operand) => operand,
        };
        let (bound, shape) = self.bind_operand(operand, scope)?;
        if shape.list || (string && shape.ty != FieldType::String) {
            let wanted = if string { "a string" } else { "a single value" };
            return Err(self.transformer_error(
                format!(
                    "`{}` takes {wanted} here, not a {} value",
                    t.name,
                    describe(shape)
                ),
                operand.span(),
                shape
                    .list
                    .then_some("`join(\"sep\", list)` makes one text of a list's values"),
                scope,
            ));
        }
        Ok(Piece::Operand(bound))
    }

    /// Binds the list given to `join` or `getopt`: `(a, b, ...)` (each element's values in
    /// turn) or a list-valued field.
    fn bind_list(
        &mut self,
        arg: &TransformArg,
        t: &ast::Transform,
        scope: &Scope,
    ) -> Result<Vec<Piece>, Failed> {
        let not_a_list = |this: &mut Self, span: TextSpan, help: &'static str| {
            this.transformer_error(
                format!(
                    "`{}` takes a list here: `(a, b, ...)` or a list-valued field",
                    t.name
                ),
                span,
                Some(help),
                scope,
            )
        };
        match arg {
            TransformArg::List(items) => {
                let mut pieces = Vec::with_capacity(items.len());
                for item in items {
                    pieces.push(match item {
                        TransformArg::Value(value) => Piece::Text(value.text.clone()),
                        TransformArg::Operand(operand) => {
                            Piece::Operand(self.bind_operand(operand, scope)?.0)
                        }
                        TransformArg::List(_) => {
                            return Err(self.transformer_error(
                                "lists inside a transformer's list are not allowed".to_owned(),
                                t.span,
                                Some("write the elements in one list"),
                                scope,
                            ));
                        }
                    });
                }
                Ok(pieces)
            }
            TransformArg::Value(value) => Err(not_a_list(
                self,
                value.span,
                "a single value is a list of one: `(\"value\")`",
            )),
            TransformArg::Operand(operand) => {
                if innermost_multi(operand).is_some() {
                    // Falco types these by their declaration (one string), so they are
                    // only accepted inside a list.
                    return Err(not_a_list(
                        self,
                        operand.span(),
                        "put it in parentheses: `(getopt(...))`",
                    ));
                }
                let (bound, shape) = self.bind_operand(operand, scope)?;
                if !shape.list {
                    return Err(not_a_list(
                        self,
                        operand.span(),
                        "a single value is a list of one: `(field)`",
                    ));
                }
                Ok(vec![Piece::Operand(bound)])
            }
        }
    }

    /// Reports E308 (invalid transformer use).
    fn transformer_error(
        &mut self,
        message: String,
        span: TextSpan,
        help: Option<&str>,
        scope: &Scope,
    ) -> Failed {
        let mut d = self.error(Code::E308, message, span, scope);
        if let Some(help) = help {
            d = d.help(help);
        }
        self.report(d);
        Failed
    }

    fn unknown_field(&mut self, name: &str, span: TextSpan, scope: &Scope) {
        if scope.skip_unknown() {
            self.skipped_unknown = Some(name.to_owned());
            return;
        }
        let names: Vec<&str> = fields().iter().map(|f| f.name).collect();
        let mut d = self.error(Code::E301, format!("unknown field `{name}`"), span, scope);
        d = match closest(name, &names) {
            Some(best) => d.help(format!("did you mean `{best}`?")),
            None => d.help("k8s_audit rules can use the ka.*, jevt.*, json.* and evt.* fields; `lanner fields` lists them"),
        };
        self.report(d);
    }

    fn check_operator(&mut self, check: &Check, shape: Shape, scope: &Scope) -> Result<(), Failed> {
        let op = check.op;
        let pattern_op = matches!(
            op,
            Op::Contains
                | Op::IContains
                | Op::StartsWith
                | Op::EndsWith
                | Op::Glob
                | Op::IGlob
                | Op::Regex
        );
        // A `getopt` list is new: no old rule needs the leniency.
        if shape.list
            && pattern_op
            && check.modifier.is_none()
            && shape.ty == FieldType::String
            && innermost_multi(&check.lhs).is_none()
        {
            // Falco's pre-plugin engine allowed this; current Falco rejects
            // it. Lanner keeps old rules loading: true if any element matches.
            let d = self
                .error(
                    Code::W113,
                    format!(
                        "`{}` on a list-valued field matches if any element matches",
                        op.as_str()
                    ),
                    check.op_span,
                    scope,
                )
                .help("current Falco rejects this; for exact values write `intersects (...)`");
            self.report(d);
            return Ok(());
        }
        let problem = if shape.list && !matches!(op, Op::In | Op::Intersects | Op::Exists) {
            Some((
                format!("`{}` is not supported on a list-valued field", op.as_str()),
                "list-valued fields take only `in`, `intersects` and `exists`; e.g. `intersects (a, b)`",
            ))
        } else if check.modifier.is_some() && (shape.list || shape.ty != FieldType::String) {
            Some((
                format!(
                    "`{} {}` needs a single-valued string field",
                    op.as_str(),
                    check.modifier.map_or("", |m| m.as_str())
                ),
                "modifiers apply to string operators on single-valued string fields",
            ))
        } else {
            match shape.ty {
                FieldType::String => matches!(op, Op::BContains | Op::BStartsWith).then(|| {
                    (
                        format!(
                            "`{}` compares byte buffers; this field is a string",
                            op.as_str()
                        ),
                        "use `contains` or `startswith`",
                    )
                }),
                FieldType::Uint64 | FieldType::AbsTime => (!matches!(
                    op,
                    Op::Eq
                        | Op::EqEq
                        | Op::Ne
                        | Op::Lt
                        | Op::Le
                        | Op::Gt
                        | Op::Ge
                        | Op::In
                        | Op::Intersects
                        | Op::Exists
                ))
                .then(|| {
                    (
                        format!("`{}` is not supported on a numeric field", op.as_str()),
                        "numeric fields take =, !=, <, <=, >, >=, in, intersects and exists",
                    )
                }),
                FieldType::Bool => (!matches!(
                    op,
                    Op::Eq | Op::EqEq | Op::Ne | Op::In | Op::Intersects | Op::Exists
                ))
                .then(|| {
                    (
                        format!("`{}` is not supported on a boolean field", op.as_str()),
                        "boolean fields take =, !=, in, intersects and exists",
                    )
                }),
            }
        };
        if let Some((message, help)) = problem {
            let d = self
                .error(Code::E304, message, check.op_span, scope)
                .help(help);
            self.report(d);
            return Err(Failed);
        }
        Ok(())
    }

    fn bind_rhs(&mut self, check: &Check, shape: Shape, scope: &Scope) -> Result<TestRhs, Failed> {
        match &check.rhs {
            Rhs::None => Ok(TestRhs::None),
            Rhs::Value(value) => {
                let text = self.single_value(value, scope)?;
                self.warn_value(check, value, &text, scope);
                self.convert(check.op, shape, &text, value.span, scope)?;
                Ok(TestRhs::Value(text))
            }
            Rhs::List(list) => {
                let mut items = Vec::with_capacity(list.items.len());
                for value in &list.items {
                    let expanded = self.expand_value(value);
                    for text in expanded {
                        self.warn_value(check, value, &text, scope);
                        self.convert(check.op, shape, &text, value.span, scope)?;
                        items.push(text);
                    }
                }
                Ok(TestRhs::List(items))
            }
            Rhs::ListRef(value) => Ok(TestRhs::List(self.expand_value(value))),
            Rhs::Operand(operand) => {
                let (bound, rhs_shape) = self.bind_operand(operand, scope)?;
                if matches!(check.op, Op::Regex | Op::PMatch) {
                    let d = self.error(
                        Code::E309,
                        format!(
                            "`{}` does not take a field on its right-hand side",
                            check.op.as_str()
                        ),
                        operand.span(),
                        scope,
                    );
                    self.report(d);
                    return Err(Failed);
                }
                if rhs_shape != shape {
                    let d = self.error(
                        Code::E309,
                        format!(
                            "cannot compare a {} field with a {} field",
                            describe(shape),
                            describe(rhs_shape)
                        ),
                        operand.span(),
                        scope,
                    );
                    self.report(d);
                    return Err(Failed);
                }
                Ok(TestRhs::Field(bound))
            }
        }
    }

    /// A bare value that names a list stands for the list's one item.
    fn single_value(&mut self, value: &Value, scope: &Scope) -> Result<String, Failed> {
        if value.quoted {
            return Ok(value.text.clone());
        }
        let Some(items) = self.lists.get(&value.text) else {
            return Ok(value.text.clone());
        };
        if let [item] = items.as_slice() {
            return Ok(item.clone());
        }
        let d = self
            .error(
                Code::E311,
                format!(
                    "list `{}` has {} items, but a single value is expected here",
                    value.text,
                    items.len()
                ),
                value.span,
                scope,
            )
            .help(format!("use `in ({})` to test membership", value.text));
        self.report(d);
        Err(Failed)
    }

    /// A list element: a list's name expands to its items.
    fn expand_value(&self, value: &Value) -> Vec<String> {
        if !value.quoted {
            if let Some(items) = self.lists.get(&value.text) {
                return items.clone();
            }
        }
        vec![value.text.clone()]
    }

    fn warn_value(&mut self, check: &Check, value: &Value, text: &str, scope: &Scope) {
        let lhs_name = match &check.lhs {
            ast::Operand::Field(f) => f.name.as_str(),
            ast::Operand::Transform(_) => "",
        };
        let unsafe_field = lhs_name.starts_with("ka.") || lhs_name.starts_with("jevt.");
        let na_op = matches!(
            check.op,
            Op::Eq | Op::EqEq | Op::Ne | Op::In | Op::Intersects | Op::PMatch
        );
        if text == "<NA>" && unsafe_field && na_op {
            let d = self
                .error(
                    Code::W108,
                    "comparing with `<NA>` never matches a missing field",
                    value.span,
                    scope,
                )
                .help(format!(
                    "use `{lhs_name} exists` or `not {lhs_name} exists`"
                ));
            self.report(d);
        }
        if !value.quoted && lookup(text).is_some() {
            let d = self
                .error(
                    Code::W109,
                    format!("`{text}` is a field, but here it is compared as a string"),
                    value.span,
                    scope,
                )
                .help(format!(
                    "to compare with the field's value write `val({text})`"
                ));
            self.report(d);
        }
    }

    /// Checks that `text` is a valid right-hand side for `op` on `shape`.
    fn convert(
        &mut self,
        op: Op,
        shape: Shape,
        text: &str,
        span: TextSpan,
        scope: &Scope,
    ) -> Result<(), Failed> {
        let problem = match shape.ty {
            FieldType::Uint64 | FieldType::AbsTime => text
                .parse::<u64>()
                .is_err()
                .then(|| (Code::E307, format!("`{text}` is not a valid number"))),
            FieldType::Bool => (!matches!(text, "true" | "false")).then(|| {
                (
                    Code::E307,
                    format!("`{text}` is not a boolean: use `true` or `false`"),
                )
            }),
            FieldType::String => {
                if text.contains('\0') {
                    Some((Code::E307, "a value cannot contain a NUL byte".to_owned()))
                } else if op == Op::Regex {
                    regex_problem(text).map(|e| (Code::E306, format!("invalid regex: {e}")))
                } else if matches!(op, Op::Glob | Op::IGlob) {
                    crate::pattern::glob(text, op == Op::IGlob)
                        .err()
                        .map(|e| (Code::E306, format!("invalid glob pattern: {}", e.kind())))
                } else if op == Op::PMatch {
                    text.split('/')
                        .filter(|c| crate::pattern::has_wildcards(c))
                        .find_map(|c| crate::pattern::path_component(c).err())
                        .map(|e| (Code::E306, format!("invalid path pattern: {}", e.kind())))
                } else {
                    None
                }
            }
        };
        if let Some((code, message)) = problem {
            let d = self.error(code, message, span, scope);
            self.report(d);
            return Err(Failed);
        }
        Ok(())
    }
}

/// Why `pattern` is not a valid regex, in one line about the pattern as
/// written (not the anchored form Lanner compiles).
fn regex_problem(pattern: &str) -> Option<String> {
    let anchored = regex::Regex::new(&format!("^(?:{pattern})$")).err()?;
    let error = regex::Regex::new(pattern).err().unwrap_or(anchored);
    // A syntax error renders as the pattern, a caret line and `error: ...`.
    let text = error.to_string();
    let last = text.lines().last().unwrap_or(&text);
    Some(last.strip_prefix("error: ").unwrap_or(last).to_owned())
}

/// How deeply transformers nest in `operand` (0 for a field).
fn nesting(operand: &ast::Operand) -> usize {
    fn arg_nesting(arg: &TransformArg) -> usize {
        match arg {
            TransformArg::Operand(operand) => nesting(operand),
            TransformArg::List(items) => items.iter().map(arg_nesting).max().unwrap_or(0),
            TransformArg::Value(_) => 0,
        }
    }
    match operand {
        ast::Operand::Field(_) => 0,
        ast::Operand::Transform(t) => 1 + t.args.iter().map(arg_nesting).max().unwrap_or(0),
    }
}

/// The name of the `concat`, `join` or `getopt` under `operand`'s one-value transformers,
/// if its value comes from one.
fn innermost_multi(operand: &ast::Operand) -> Option<&str> {
    let ast::Operand::Transform(t) = operand else {
        return None;
    };
    match (t.name.as_str(), t.args.as_slice()) {
        (name @ ("concat" | "join" | "getopt"), _) => Some(name),
        (_, [TransformArg::Operand(inner)]) => innermost_multi(inner),
        _ => None,
    }
}

fn describe(shape: Shape) -> String {
    let ty = match shape.ty {
        FieldType::String => "string",
        FieldType::Uint64 => "numeric",
        FieldType::AbsTime => "timestamp",
        FieldType::Bool => "boolean",
    };
    if shape.list {
        format!("list-of-{ty}")
    } else {
        ty.to_owned()
    }
}
