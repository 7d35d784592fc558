//! Output templates: `%field`, `%field[arg]`, `%transformer(field)`, `%Nfield`.
//!
//! A `%` starts a field token; the token is the longest prefix of what
//! follows that names a known field (so `%ka.verb.` is `ka.verb` then a
//! literal `.`), then an optional `[arg]`. There is no escape for a literal
//! `%` (as in Falco). Unknown fields are `E401`, malformed tokens `E402`.

use lanner_audit::{FieldDef, fields, lookup};

use crate::checked::OutputPart;
use crate::compile::{Compiler, Failed, Scope};
use crate::diag::Code;
use crate::read::closest;
use crate::syntax::ast::{self, TextSpan};
use crate::syntax::{parse_operand, write_operand};

/// The widest `%Nfield` accepted (a width pads every alert to N characters).
const MAX_WIDTH: usize = 1024;

const TRANSFORMERS: &[&str] = &[
    "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt",
];

impl Compiler<'_> {
    /// Parses and binds the output template in `scope`'s text.
    pub(crate) fn bind_output(
        &mut self,
        template: &str,
        scope: &Scope,
    ) -> Result<Vec<OutputPart>, Failed> {
        let text_id = scope.text();
        let span = |start: usize, end: usize| TextSpan {
            text: text_id,
            start: start as u32,
            end: end as u32,
        };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut failed = false;
        let bytes = template.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] != b'%' {
                let next = template[i..].find('%').map_or(template.len(), |k| i + k);
                literal.push_str(&template[i..next]);
                i = next;
                continue;
            }
            let start = i;
            i += 1;
            let digits = template[i..].bytes().take_while(u8::is_ascii_digit).count();
            let width = template[i..i + digits].parse::<usize>().ok();
            i += digits;
            if digits > 0 && width.is_none_or(|w| w > MAX_WIDTH) {
                let d = self.error(
                    Code::E402,
                    format!("a field width can be at most {MAX_WIDTH}"),
                    span(start, i),
                    scope,
                );
                self.report(d);
                failed = true;
                continue;
            }
            let rest = &template[i..];
            if rest.is_empty() {
                let message = if digits > 0 {
                    "an output cannot end with `%` and a width"
                } else {
                    "an output cannot end with `%`"
                };
                let d = self.error(Code::E402, message, span(start, i), scope);
                self.report(d);
                failed = true;
                break;
            }
            if let Ok((len, operand, keys)) = self.output_token(rest, i, scope) {
                if !literal.is_empty() {
                    parts.push(OutputPart::Text(std::mem::take(&mut literal)));
                }
                parts.push(OutputPart::Field {
                    operand,
                    keys,
                    width,
                });
                i += len;
            } else {
                failed = true;
                // Skip the bad token and keep checking the rest.
                let first = rest.chars().next().map_or(1, char::len_utf8);
                i += rest
                    .find(|c: char| c.is_whitespace() || c == '%')
                    .unwrap_or(rest.len())
                    .max(first);
            }
        }
        if failed {
            return Err(Failed);
        }
        if !literal.is_empty() {
            parts.push(OutputPart::Text(literal));
        }
        Ok(parts)
    }

    /// Binds the token at the start of `rest` (at `offset` in the template):
    /// returns its length, the operand and its JSON keys.
    fn output_token(
        &mut self,
        rest: &str,
        offset: usize,
        scope: &Scope,
    ) -> Result<(usize, crate::checked::Operand, Vec<String>), Failed> {
        let span = |start: usize, end: usize| TextSpan {
            text: scope.text(),
            start: (offset + start) as u32,
            end: (offset + end) as u32,
        };
        let word_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .unwrap_or(rest.len());
        if word_len == 0 {
            let d = self
                .error(
                    Code::E402,
                    "`%` must be followed by a field name",
                    span(0, 1),
                    scope,
                )
                .help("there is no escape for a literal `%` in Falco outputs; reword the text");
            self.report(d);
            return Err(Failed);
        }
        let word = &rest[..word_len];
        if TRANSFORMERS.contains(&word) && rest[word_len..].starts_with('(') {
            let Some(mut close) = matching_paren(rest, word_len) else {
                let d = self.error(
                    Code::E402,
                    format!("`{word}(` is never closed"),
                    span(0, word_len + 1),
                    scope,
                );
                self.report(d);
                return Err(Failed);
            };
            // `getopt(...)[c]`: a bracketed argument right after the call belongs to it
            // (only `getopt` takes one); anything else after `)` is text, as in Falco.
            if word == "getopt" {
                if let Some(end) = bracket_arg(&rest[close + 1..]) {
                    close += end;
                }
            }
            let call = &rest[..=close];
            let mut operand = parse_operand(call, scope.text()).map_err(|e| {
                let d = self.error(Code::E402, e.message, span(e.start, e.end), scope);
                self.report(d);
                Failed
            })?;
            shift_spans(&mut operand, offset as u32);
            let (bound, _) = self.bind_operand(&operand, scope)?;
            let mut keys = Vec::new();
            output_keys(&operand, &mut keys);
            return Ok((close + 1, bound, keys));
        }
        // The longest prefix that names a field.
        let Some((name_len, def)) = (1..=word_len)
            .rev()
            .filter(|&n| rest.is_char_boundary(n))
            .find_map(|n| lookup(&rest[..n]).map(|id| (n, id.def())))
        else {
            if scope.skip_unknown() {
                // `skip-if-unknown-filter` covers outputs too (as in Falco).
                self.skipped_unknown = Some(word.to_owned());
                return Err(Failed);
            }
            let names: Vec<&str> = fields().iter().map(|f| f.name).collect();
            let mut d = self.error(
                Code::E401,
                format!("unknown field `{word}` in output"),
                span(0, word_len),
                scope,
            );
            if let Some(best) = closest(word, &names) {
                d = d.help(format!("did you mean `{best}`?"));
            }
            self.report(d);
            return Err(Failed);
        };
        let mut len = name_len;
        let mut field_text = rest[..name_len].to_owned();
        if takes_arg(def) && rest[len..].starts_with('[') {
            let Some(close) = rest[len..].find(']') else {
                let d = self.error(
                    Code::E402,
                    "field argument `[` is never closed",
                    span(len, len + 1),
                    scope,
                );
                self.report(d);
                return Err(Failed);
            };
            field_text.push_str(&rest[len..=len + close]);
            len += close + 1;
        }
        let mut operand = parse_operand(&field_text, scope.text()).map_err(|e| {
            let d = self.error(Code::E402, e.message, span(e.start, e.end), scope);
            self.report(d);
            Failed
        })?;
        shift_spans(&mut operand, offset as u32);
        let (bound, _) = self.bind_operand(&operand, scope)?;
        Ok((len, bound, vec![field_text]))
    }
}

fn takes_arg(def: &FieldDef) -> bool {
    !matches!(def.arg, lanner_audit::ArgKind::None)
}

fn matching_paren(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in text.char_indices().skip_while(|(i, _)| *i < open) {
        if let Some(q) = quote {
            // Inside a quoted argument: parentheses do not count.
            match c {
                '\\' if !escaped => escaped = true,
                _ if c == q && !escaped => quote = None,
                _ => escaped = false,
            }
            continue;
        }
        match c {
            '"' | '\'' => quote = Some(c),
            '(' => depth += 1,
            ')' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// The length of the field argument `[arg]` at the start of `text` (`arg` bare, without
/// blanks, brackets or quotes, or quoted without brackets), if there is one.
fn bracket_arg(text: &str) -> Option<usize> {
    let inner = text.strip_prefix('[')?;
    let end = inner.find(']')?;
    let arg = &inner[..end];
    let quoted = arg.len() >= 2
        && (arg.starts_with('"') && arg.ends_with('"')
            || arg.starts_with('\'') && arg.ends_with('\''));
    let bare = !arg.is_empty()
        && !arg.contains(|c: char| c.is_whitespace() || matches!(c, '[' | '"' | '\''));
    (quoted && !arg.contains(char::is_whitespace) || bare).then_some(end + 2)
}

/// The keys Falco uses in `output_fields` for a transformer token: every field in it, as
/// written, left to right (for one-value transformers, the innermost field).
fn output_keys(operand: &ast::Operand, out: &mut Vec<String>) {
    fn arg_keys(arg: &ast::TransformArg, out: &mut Vec<String>) {
        match arg {
            ast::TransformArg::Operand(inner) => output_keys(inner, out),
            ast::TransformArg::List(items) => items.iter().for_each(|a| arg_keys(a, out)),
            ast::TransformArg::Value(_) => {}
        }
    }
    match operand {
        ast::Operand::Field(_) => {
            let mut key = String::new();
            write_operand(&mut key, operand);
            out.push(key);
        }
        ast::Operand::Transform(t) => t.args.iter().for_each(|a| arg_keys(a, out)),
    }
}

fn shift_spans(operand: &mut ast::Operand, by: u32) {
    let shift = |s: &mut TextSpan| {
        s.start += by;
        s.end += by;
    };
    match operand {
        ast::Operand::Field(f) => {
            shift(&mut f.span);
            if let Some(arg) = &mut f.arg {
                shift(&mut arg.span);
            }
        }
        ast::Operand::Transform(t) => {
            shift(&mut t.span);
            if let Some(arg) = &mut t.arg {
                shift(&mut arg.span);
            }
            for arg in &mut t.args {
                shift_arg(arg, by);
            }
        }
    }
}

fn shift_arg(arg: &mut ast::TransformArg, by: u32) {
    match arg {
        ast::TransformArg::Operand(inner) => shift_spans(inner, by),
        ast::TransformArg::List(items) => items.iter_mut().for_each(|a| shift_arg(a, by)),
        ast::TransformArg::Value(v) => {
            v.span.start += by;
            v.span.end += by;
        }
    }
}
