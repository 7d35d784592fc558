//! Expanding a rule's exceptions into condition text.
//!
//! Falco turns exceptions into text appended to the condition and parses the
//! result; Lanner does the same (spec section 4.3), so that exception values
//! that name lists or transformers behave exactly as in Falco. Each value
//! keeps its YAML position, so a syntax error in a generated clause points
//! at the value that caused it.

use crate::diag::{Code, Diagnostic};
use crate::item::{ExceptionDef, Shape};
use crate::read_rule::is_modifier_comp;
use crate::text::{Located, Piece};
use crate::yaml::{Kind, Node};

/// The condition text of a rule: `(<condition>)` followed by one
/// `and not (...)` clause per exception that has values.
pub fn expand(condition: &[Piece], exceptions: &[ExceptionDef]) -> Result<Vec<Piece>, Diagnostic> {
    let mut out = Vec::with_capacity(condition.len() + 2);
    out.push(glue("("));
    out.extend(condition.iter().cloned());
    out.push(glue(")"));
    for ex in exceptions {
        let clause = match (&ex.fields, &ex.comps) {
            (Shape::One(field), Shape::One(comp)) => scalar_form(field, comp, &ex.values)?,
            (Shape::Many(fields), Shape::Many(comps)) => list_form(ex, fields, comps)?,
            _ => Vec::new(),
        };
        if !clause.is_empty() {
            out.push(glue(" and not "));
            out.extend(clause);
        }
    }
    Ok(out)
}

fn glue(text: &str) -> Piece {
    Piece::Glue(text.to_owned())
}

fn scalar_form(field: &Located, comp: &Located, values: &[Node]) -> Result<Vec<Piece>, Diagnostic> {
    let mut out = Vec::new();
    for value in values {
        let Kind::Scalar(s) = &value.kind else {
            return Err(Diagnostic::new(
                Code::E110,
                "with a single field, `values` must be a list of strings",
            )
            .at(value.span));
        };
        if out.is_empty() {
            out.push(glue("("));
            out.push(Piece::Scalar(field.clone()));
            out.push(glue(" "));
            out.push(Piece::Scalar(comp.clone()));
            out.push(glue(" ("));
        } else {
            out.push(glue(", "));
        }
        quote_item(&mut out, Located::new(s, value.span));
    }
    if !out.is_empty() {
        out.push(glue("))"));
    }
    Ok(out)
}

fn list_form(
    ex: &ExceptionDef,
    fields: &[Located],
    comps: &[Located],
) -> Result<Vec<Piece>, Diagnostic> {
    let mut out = vec![glue("(")];
    let mut any = false;
    for tuple in &ex.values {
        let Kind::Seq(items) = &tuple.kind else {
            return Err(Diagnostic::new(
                Code::E110,
                format!(
                    "each value of exception `{}` must be a list with one entry per field",
                    ex.name.value
                ),
            )
            .at(tuple.span));
        };
        if items.len() != fields.len() {
            return Err(Diagnostic::new(
                Code::E110,
                format!(
                    "exception `{}` has {} fields but this value has {} entries",
                    ex.name.value,
                    fields.len(),
                    items.len()
                ),
            )
            .at(tuple.span));
        }
        out.push(glue(if any { " or (" } else { "(" }));
        any = true;
        for (k, ((field, comp), item)) in fields.iter().zip(comps).zip(items).enumerate() {
            out.push(glue(if k == 0 { " " } else { " and " }));
            out.push(Piece::Scalar(field.clone()));
            out.push(glue(" "));
            out.push(Piece::Scalar(comp.clone()));
            out.push(glue(" "));
            value_item(&mut out, comp, item)?;
        }
        out.push(glue(")"));
    }
    out.push(glue(")"));
    Ok(if any { out } else { Vec::new() })
}

fn value_item(out: &mut Vec<Piece>, comp: &Located, item: &Node) -> Result<(), Diagnostic> {
    match &item.kind {
        Kind::Seq(elements) => {
            out.push(glue("("));
            for (i, element) in elements.iter().enumerate() {
                if i > 0 {
                    out.push(glue(", "));
                }
                let Kind::Scalar(s) = &element.kind else {
                    return Err(Diagnostic::new(
                        Code::E110,
                        "exception values can nest one list deep at most",
                    )
                    .at(element.span));
                };
                quote_item(out, Located::new(s, element.span));
            }
            out.push(glue(")"));
        }
        Kind::Scalar(s) => {
            let value = Located::new(s, item.span);
            let list_comp = matches!(comp.value.trim(), "in" | "intersects" | "pmatch")
                || is_modifier_comp(comp.value.trim());
            if list_comp && !value.value.starts_with('(') {
                out.push(glue("("));
                out.push(Piece::Scalar(value));
                out.push(glue(")"));
            } else if list_comp {
                out.push(Piece::Scalar(value));
            } else {
                quote_item(out, value);
            }
        }
        Kind::Null | Kind::Map(_) => {
            return Err(Diagnostic::new(
                Code::E110,
                "an exception value must be a string or a list of strings",
            )
            .at(item.span));
        }
    }
    Ok(())
}

/// Falco's `quote_item`: a value with a space that is not already quoted is
/// wrapped in double quotes (nothing is escaped).
fn quote_item(out: &mut Vec<Piece>, value: Located) {
    let quote = value.value.contains(' ') && !value.value.starts_with(['"', '\'']);
    if quote {
        out.push(glue("\""));
        out.push(Piece::Scalar(value));
        out.push(glue("\""));
    } else {
        out.push(Piece::Scalar(value));
    }
}
