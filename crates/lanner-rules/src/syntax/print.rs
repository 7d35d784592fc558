//! Printing a condition back to text.
//!
//! The form follows Falco's canonical printer: `and`/`or` as `(a and b)`,
//! `not x`, checks as `lhs op rhs`, lists as `(a, b)`. Values are quoted
//! when the bare form would not parse back to the same value, so that
//! `parse(print(e)) == e` for every tree (a property test checks it).

use std::fmt::Write as _;

use super::ast::{Check, Expr, ExprKind, Operand, Rhs, TransformArg, Value};

/// Prints `expr` in canonical form.
#[must_use]
pub fn print(expr: &Expr) -> String {
    let mut out = String::new();
    write_expr(&mut out, expr);
    out
}

fn write_expr(out: &mut String, expr: &Expr) {
    match &expr.kind {
        ExprKind::And(items) | ExprKind::Or(items) => {
            let word = if matches!(expr.kind, ExprKind::And(_)) {
                " and "
            } else {
                " or "
            };
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(word);
                }
                write_expr(out, item);
            }
            out.push(')');
        }
        ExprKind::Not(inner) => {
            out.push_str("not ");
            // `not` applies to one operand: a check or macro needs no parens,
            // but a nested `not` would fold away when parsed, so wrap it.
            if matches!(inner.kind, ExprKind::Not(_)) {
                out.push('(');
                write_expr(out, inner);
                out.push(')');
            } else {
                write_expr(out, inner);
            }
        }
        ExprKind::Macro(name) => out.push_str(name),
        ExprKind::Check(check) => write_check(out, check),
    }
}

fn write_check(out: &mut String, check: &Check) {
    write_operand(out, &check.lhs);
    out.push(' ');
    out.push_str(check.op.as_str());
    if let Some(modifier) = check.modifier {
        out.push(' ');
        out.push_str(modifier.as_str());
    }
    match &check.rhs {
        Rhs::None => {}
        Rhs::Value(v) => {
            out.push(' ');
            write_value(out, v);
        }
        Rhs::ListRef(v) => {
            out.push(' ');
            out.push_str(&v.text);
        }
        Rhs::List(list) => {
            out.push_str(" (");
            for (i, v) in list.items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, v);
            }
            out.push(')');
        }
        Rhs::Operand(Operand::Field(f)) => {
            out.push_str(" val(");
            write_operand(out, &Operand::Field(f.clone()));
            out.push(')');
        }
        Rhs::Operand(op) => {
            out.push(' ');
            write_operand(out, op);
        }
    }
}

/// Prints an operand: `name`, `name[arg]`, `tolower(name)`.
pub fn write_operand(out: &mut String, operand: &Operand) {
    match operand {
        Operand::Field(f) => {
            out.push_str(&f.name);
            if let Some(arg) = &f.arg {
                write_arg(out, arg);
            }
        }
        Operand::Transform(t) => {
            out.push_str(&t.name);
            out.push('(');
            for (i, arg) in t.args.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_transform_arg(out, arg);
            }
            out.push(')');
            if let Some(arg) = &t.arg {
                write_arg(out, arg);
            }
        }
    }
}

fn write_transform_arg(out: &mut String, arg: &TransformArg) {
    match arg {
        TransformArg::Operand(op) => write_operand(out, op),
        TransformArg::Value(v) => write_value(out, v),
        TransformArg::List(items) => {
            out.push('(');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_transform_arg(out, item);
            }
            out.push(')');
        }
    }
}

fn write_arg(out: &mut String, arg: &Value) {
    out.push('[');
    let bare_ok = !arg.quoted
        && !arg.text.is_empty()
        && !arg
            .text
            .contains(|c: char| matches!(c, '[' | ']' | '"' | '\'') || ends_bare(c));
    if bare_ok {
        out.push_str(&arg.text);
    } else {
        write_quoted(out, &arg.text);
    }
    out.push(']');
}

fn write_value(out: &mut String, value: &Value) {
    if value.quoted || needs_quotes(&value.text) {
        write_quoted(out, &value.text);
    } else {
        out.push_str(&value.text);
    }
}

/// Whether `text` must be quoted to parse back as the same bare value: it
/// is empty, or has a character that ends a bare value in the grammar
/// (parentheses, quotes, `=`, `,`, blanks, vertical tab, form feed). Other
/// characters, control characters and backslashes included, stay bare, so
/// that a bare value prints bare.
#[must_use]
pub fn needs_quotes(text: &str) -> bool {
    text.is_empty()
        || text.contains(|c: char| matches!(c, '(' | ')' | '"' | '\'' | '=' | ',') || ends_bare(c))
}

/// The blanks and other spaces that end a bare value or argument.
fn ends_bare(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\u{8}' | '\r' | '\n' | '\u{b}' | '\u{c}')
}

/// Writes `text` in double quotes with Falco's escapes.
pub fn write_quoted(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
