//! Parsing a condition text into an [`Expr`].
//!
//! The grammar is in `condition.pest`. Before pest runs, one linear scan
//! rejects unterminated strings and nesting deeper than [`MAX_DEPTH`], so
//! that no input can exhaust the stack. Errors carry byte offsets into the
//! text; the loader maps them to file positions.

use pest::Parser as _;
use pest::iterators::Pair;

use super::ast::{
    Check, Expr, ExprKind, FieldRef, List, Modifier, Op, Operand, Rhs, TextId, TextSpan, Transform,
    TransformArg, Value,
};
use crate::diag::Code;

/// Deepest nesting of parentheses accepted (Falco's limit too).
pub const MAX_DEPTH: usize = 1000;

/// Stack a parse may need per level of nesting (measured: about 12 KiB in a
/// debug build; release needs far less).
const STACK_PER_LEVEL: usize = 32 * 1024;

#[derive(pest_derive::Parser)]
#[grammar = "syntax/condition.pest"]
struct ConditionParser;

/// A syntax error at a byte range of the condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// `E201`..`E205`.
    pub code: Code,
    /// What is wrong.
    pub message: String,
    /// First byte of the offending token.
    pub start: usize,
    /// One past its last byte.
    pub end: usize,
}

impl SyntaxError {
    fn new(code: Code, message: impl Into<String>, start: usize, end: usize) -> SyntaxError {
        SyntaxError {
            code,
            message: message.into(),
            start,
            end,
        }
    }
}

/// Parses `text`, tagging every span with `id`.
pub fn parse(text: &str, id: TextId) -> Result<Expr, SyntaxError> {
    if text.trim_matches(is_blank).is_empty() {
        return Err(SyntaxError::new(
            Code::E205,
            "the condition is empty",
            0,
            text.len(),
        ));
    }
    let depth = prescan(text)?;
    // Deep nesting needs more stack than a small thread has: grow it (only
    // when the remaining stack is short) rather than overflow.
    let needed = (depth + 8) * STACK_PER_LEVEL;
    stacker::maybe_grow(needed, needed * 2, || parse_checked(text, id))
}

fn parse_checked(text: &str, id: TextId) -> Result<Expr, SyntaxError> {
    let mut pairs = ConditionParser::parse(Rule::condition, text)
        .map_err(|e| to_error(text, Rule::condition, &e))?;
    let condition = pairs
        .next()
        .ok_or_else(|| SyntaxError::new(Code::E201, "no condition", 0, 0))?;
    let builder = Builder { id };
    let or = condition
        .into_inner()
        .find(|p| p.as_rule() == Rule::or_expr)
        .ok_or_else(|| SyntaxError::new(Code::E201, "no condition", 0, 0))?;
    builder.bool_expr(or)
}

/// Parses a lone field or transformer call (as in an output template).
pub fn parse_operand(text: &str, id: TextId) -> Result<Operand, SyntaxError> {
    let depth = prescan(text)?;
    let needed = (depth + 8) * STACK_PER_LEVEL;
    stacker::maybe_grow(needed, needed * 2, || {
        let mut pairs = ConditionParser::parse(Rule::operand_only, text)
            .map_err(|e| to_error(text, Rule::operand_only, &e))?;
        let operand = pairs
            .next()
            .and_then(|p| p.into_inner().next())
            .ok_or_else(|| SyntaxError::new(Code::E201, "expected a field", 0, text.len()))?;
        Builder { id }.operand(operand)
    })
}

fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{8}' | '\r' | '\n')
}

/// Rejects unterminated strings and over-deep nesting in one pass; returns
/// the deepest nesting seen.
fn prescan(text: &str) -> Result<usize, SyntaxError> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut max_depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            quote @ (b'"' | b'\'') => {
                let start = i;
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => {
                            return Err(SyntaxError::new(
                                Code::E202,
                                "this string is never closed",
                                start,
                                start + 1,
                            ));
                        }
                        Some(b'\\') => i += 2,
                        Some(&b) if b == quote => break,
                        Some(_) => i += 1,
                    }
                }
            }
            b'(' => {
                depth += 1;
                max_depth = max_depth.max(depth);
                if depth > MAX_DEPTH {
                    return Err(SyntaxError::new(
                        Code::E204,
                        format!("parentheses nest deeper than {MAX_DEPTH} levels"),
                        i,
                        i + 1,
                    ));
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(max_depth)
}

fn to_error(text: &str, rule: Rule, error: &pest::error::Error<Rule>) -> SyntaxError {
    let at = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    if let Some(e) = dangling_word(text, at) {
        return e;
    }
    if let Some(e) = unclosed(text, rule, at) {
        return e;
    }
    let expected = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => describe(positives),
        pest::error::ErrorVariant::CustomError { message } => message.clone(),
    };
    let (found, len) = found(text, at);
    SyntaxError::new(
        Code::E201,
        format!("expected {expected}, found {found}"),
        at,
        at + len,
    )
}

/// The token at `at`, for messages, and its length.
fn found(text: &str, at: usize) -> (String, usize) {
    let rest = text.get(at..).unwrap_or("");
    let len = token_len(rest);
    if rest.is_empty() {
        ("the end of the condition".to_owned(), 0)
    } else {
        (format!("`{}`", &rest[..len]), len)
    }
}

/// A condition that ends with a word needing something after it
/// (`... and`, `x.y startswith`): pest stops before the word, because the
/// word is only a keyword when followed by a blank; say what is missing.
fn dangling_word(text: &str, at: usize) -> Option<SyntaxError> {
    let rest = text.get(at..)?.trim_end_matches(is_blank);
    let needs = match rest {
        "and" | "or" | "not" => "a condition",
        "in" | "intersects" | "pmatch" => "a list",
        word if Op::from_str(word).is_some_and(Op::is_word) && word != "exists" => "a value",
        _ => return None,
    };
    let end = at + rest.len();
    Some(SyntaxError::new(
        Code::E201,
        format!("expected {needs} after `{rest}`, found the end of the condition"),
        end,
        end,
    ))
}

/// A list, group or argument left open (`x in (a, b`): pest's own error
/// points at the start of the last value, or names only the rules it tried;
/// the detailed attempts know how far the parse got and that it wanted `,`
/// or `)` there. Errors are rare, so the text is parsed a
/// second time with pest's (slower) error detail on.
fn unclosed(text: &str, rule: Rule, at: usize) -> Option<SyntaxError> {
    let attempts = parse_with_detail(text, rule).err()?.parse_attempts()?;
    let pos = attempts.max_position;
    let tokens: Vec<String> = attempts
        .expected_tokens()
        .iter()
        .map(ToString::to_string)
        .collect();
    if pos < at || !tokens.iter().any(|t| t == ")" || t == "]") {
        return None;
    }
    let words: Vec<&str> = [
        (",", "`,`"),
        (")", "`)`"),
        ("]", "`]`"),
        ("and", "`and`"),
        ("or", "`or`"),
    ]
    .into_iter()
    .filter(|(t, _)| tokens.iter().any(|x| x == t))
    .map(|(_, w)| w)
    .collect();
    let (found, len) = found(text, pos);
    Some(SyntaxError::new(
        Code::E201,
        format!("expected {}, found {found}", join_or(&words)),
        pos,
        pos + len,
    ))
}

/// Parses with pest's error detail on. The switch is global, so detailed
/// parses take turns (a parse on another thread could otherwise turn it off
/// under this one); ordinary parses do not look at it.
fn parse_with_detail(
    text: &str,
    rule: Rule,
) -> Result<pest::iterators::Pairs<'_, Rule>, pest::error::Error<Rule>> {
    static DETAIL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    /// Turns the detail off again, even on unwinding.
    struct Off;
    impl Drop for Off {
        fn drop(&mut self) {
            pest::set_error_detail(false);
        }
    }
    let _turn = DETAIL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    pest::set_error_detail(true);
    let _off = Off;
    ConditionParser::parse(rule, text)
}

fn token_len(rest: &str) -> usize {
    let first = rest.chars().next().map_or(0, char::len_utf8);
    if rest.starts_with(['(', ')', ',', '=', '"', '\'']) {
        return first;
    }
    rest.find(|c: char| c.is_whitespace() || "(),=\"'".contains(c))
        .unwrap_or(rest.len())
        .max(first)
}

/// What pest expected, in words, in a fixed order.
fn describe(rules: &[Rule]) -> String {
    const ORDER: &[&str] = &[
        "a condition",
        "a field",
        "an operator",
        "a value",
        "`val(field)`",
        "`oneof`, `anyof` or `allof`",
        "a list `(a, b)`",
        "a list name",
        "a macro name",
        "a field argument",
        "`(`",
        "`not`",
        "`and`",
        "`or`",
        "the end of the condition",
    ];
    let mut words: Vec<&str> = Vec::new();
    for rule in rules {
        let word = match rule {
            Rule::kw_and => "`and`",
            Rule::kw_or => "`or`",
            Rule::EOI => "the end of the condition",
            Rule::op_exists | Rule::op_num | Rule::op_sym | Rule::op_word | Rule::op_list => {
                "an operator"
            }
            Rule::bare | Rule::quoted | Rule::number => "a value",
            Rule::list => "a list `(a, b)`",
            Rule::list_ref => "a list name",
            Rule::field | Rule::field_name | Rule::transformer | Rule::transformer_name => {
                "a field"
            }
            Rule::val => "`val(field)`",
            Rule::macro_ref => "a macro name",
            Rule::group => "`(`",
            Rule::kw_not => "`not`",
            Rule::modifier => "`oneof`, `anyof` or `allof`",
            Rule::field_arg | Rule::arg_bare => "a field argument",
            _ => "a condition",
        };
        if !words.contains(&word) {
            words.push(word);
        }
    }
    // On the right of an operator, a field (`val(x)`, `tolower(x)`) or a
    // modifier are forms a value can take: "a value" says enough.
    if words.contains(&"a value") || words.contains(&"a list `(a, b)`") {
        words.retain(|w| {
            !matches!(
                *w,
                "a field" | "`val(field)`" | "`oneof`, `anyof` or `allof`"
            )
        });
    }
    // Where a condition is expected, its forms need no listing.
    if words.contains(&"a condition") {
        words.retain(|w| !matches!(*w, "a field" | "a macro name" | "`(`" | "`not`"));
    }
    words.sort_by_key(|w| ORDER.iter().position(|o| o == w));
    if words.is_empty() {
        return "a condition".to_owned();
    }
    join_or(&words)
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

struct Builder {
    id: TextId,
}

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> TextSpan {
        let span = pair.as_span();
        TextSpan {
            text: self.id,
            start: span.start() as u32,
            end: span.end() as u32,
        }
    }

    fn bool_expr(&self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::or_expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::or_expr;
                let mut items = Vec::new();
                for inner in pair.into_inner() {
                    if !matches!(inner.as_rule(), Rule::kw_or | Rule::kw_and) {
                        items.push(self.bool_expr(inner)?);
                    }
                }
                if items.len() == 1 {
                    return items
                        .pop()
                        .ok_or_else(|| SyntaxError::new(Code::E201, "empty", 0, 0));
                }
                let kind = if is_or {
                    ExprKind::Or(items)
                } else {
                    ExprKind::And(items)
                };
                Ok(Expr { kind, span })
            }
            Rule::not_expr => {
                let mut negate = false;
                let mut primary = None;
                for inner in pair.into_inner() {
                    if inner.as_rule() == Rule::kw_not {
                        negate = !negate;
                    } else {
                        primary = Some(self.bool_expr(inner)?);
                    }
                }
                let primary =
                    primary.ok_or_else(|| SyntaxError::new(Code::E201, "missing operand", 0, 0))?;
                if negate {
                    Ok(Expr {
                        kind: ExprKind::Not(Box::new(primary)),
                        span,
                    })
                } else {
                    Ok(primary)
                }
            }
            Rule::group => {
                let inner = pair
                    .into_inner()
                    .next()
                    .ok_or_else(|| SyntaxError::new(Code::E201, "empty group", 0, 0))?;
                let mut expr = self.bool_expr(inner)?;
                expr.span = span;
                Ok(expr)
            }
            Rule::macro_ref => Ok(Expr {
                kind: ExprKind::Macro(pair.as_str().to_owned()),
                span,
            }),
            Rule::check => self.check(pair),
            _ => Err(SyntaxError::new(
                Code::E201,
                "unexpected input",
                span.start as usize,
                span.end as usize,
            )),
        }
    }

    fn check(&self, pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let lhs_pair = inner
            .next()
            .ok_or_else(|| SyntaxError::new(Code::E201, "missing field", 0, 0))?;
        let lhs = self.operand(lhs_pair)?;
        let op_pair = inner
            .next()
            .ok_or_else(|| SyntaxError::new(Code::E201, "missing operator", 0, 0))?;
        let op_span = self.span(&op_pair);
        let op = Op::from_str(op_pair.as_str()).ok_or_else(|| {
            SyntaxError::new(
                Code::E201,
                format!("unknown operator `{}`", op_pair.as_str()),
                op_span.start as usize,
                op_span.end as usize,
            )
        })?;
        let mut modifier = None;
        let mut rhs = Rhs::None;
        for part in inner {
            match part.as_rule() {
                Rule::modifier => {
                    modifier = Some(match part.as_str() {
                        "oneof" => Modifier::OneOf,
                        "anyof" => Modifier::AnyOf,
                        _ => Modifier::AllOf,
                    });
                }
                Rule::list => {
                    let list_span = self.span(&part);
                    let items = part
                        .into_inner()
                        .map(|v| self.value(&v))
                        .collect::<Result<_, _>>()?;
                    rhs = Rhs::List(List {
                        items,
                        span: list_span,
                    });
                }
                Rule::list_ref => rhs = Rhs::ListRef(self.value(&part)?),
                Rule::val => {
                    let field = part
                        .into_inner()
                        .next()
                        .ok_or_else(|| SyntaxError::new(Code::E201, "empty val()", 0, 0))?;
                    rhs = Rhs::Operand(self.operand(field)?);
                }
                Rule::transformer => rhs = Rhs::Operand(self.operand(part)?),
                _ => rhs = Rhs::Value(self.value(&part)?),
            }
        }
        Ok(Expr {
            kind: ExprKind::Check(Box::new(Check {
                lhs,
                op,
                modifier,
                rhs,
                op_span,
            })),
            span,
        })
    }

    fn operand(&self, pair: Pair<'_, Rule>) -> Result<Operand, SyntaxError> {
        let span = self.span(&pair);
        if pair.as_rule() == Rule::field {
            let mut inner = pair.into_inner();
            let name = inner
                .next()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let arg = inner.next().map(|a| self.field_arg(a)).transpose()?;
            return Ok(Operand::Field(FieldRef { name, arg, span }));
        }
        let mut name = String::new();
        let mut args = Vec::new();
        let mut arg = None;
        for part in pair.into_inner() {
            match part.as_rule() {
                Rule::transformer_name => part.as_str().clone_into(&mut name),
                Rule::field_arg => arg = Some(self.field_arg(part)?),
                _ => args.push(self.transform_arg(part)?),
            }
        }
        Ok(Operand::Transform(Transform {
            name,
            args,
            arg,
            span,
        }))
    }

    fn transform_arg(&self, pair: Pair<'_, Rule>) -> Result<TransformArg, SyntaxError> {
        match pair.as_rule() {
            Rule::field | Rule::transformer => Ok(TransformArg::Operand(self.operand(pair)?)),
            Rule::transformer_list => Ok(TransformArg::List(
                pair.into_inner()
                    .map(|p| self.transform_arg(p))
                    .collect::<Result<_, _>>()?,
            )),
            _ => Ok(TransformArg::Value(self.value(&pair)?)),
        }
    }

    fn field_arg(&self, pair: Pair<'_, Rule>) -> Result<Value, SyntaxError> {
        let span = self.span(&pair);
        let inner = pair
            .into_inner()
            .next()
            .ok_or_else(|| SyntaxError::new(Code::E201, "empty field argument", 0, 0))?;
        let mut value = self.value(&inner)?;
        value.span = span;
        Ok(value)
    }

    fn value(&self, pair: &Pair<'_, Rule>) -> Result<Value, SyntaxError> {
        let span = self.span(pair);
        if pair.as_rule() != Rule::quoted {
            return Ok(Value {
                text: pair.as_str().to_owned(),
                quoted: false,
                span,
            });
        }
        let raw = pair.as_str();
        let quote = raw.chars().next().unwrap_or('"');
        let body = raw.get(1..raw.len().saturating_sub(1)).unwrap_or("");
        let text = unescape(body, quote).map_err(|(offset, message)| {
            let at = span.start as usize + 1 + offset;
            SyntaxError::new(Code::E203, message, at, at + 2)
        })?;
        Ok(Value {
            text,
            quoted: true,
            span,
        })
    }
}

/// Decodes the escapes of a quoted string body (Falco's `unescape_str`).
fn unescape(body: &str, quote: char) -> Result<String, (usize, String)> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, next)) = chars.next() else {
            return Err((i, "a string cannot end with a lone `\\`".to_owned()));
        };
        match next {
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            // Falco turns `\ ` into a lone backslash, as `\\`.
            '\\' | ' ' => out.push('\\'),
            '/' => out.push('/'),
            '"' if quote == '"' => out.push('"'),
            '\'' if quote == '\'' => out.push('\''),
            'x' => {
                let hex: String = chars.by_ref().take(2).map(|(_, c)| c).collect();
                let byte = u8::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 2)
                    .ok_or((i, format!("invalid hex escape `\\x{hex}`")))?;
                out.push(char::from(byte));
            }
            other => {
                return Err((
                    i,
                    format!("unsupported escape `\\{other}` in a {quote}-quoted string"),
                ));
            }
        }
    }
    Ok(out)
}
