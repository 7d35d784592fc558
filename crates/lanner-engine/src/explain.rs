//! Why a rule did or did not fire: the condition as a tree (macros expanded
//! and named), with each field's value and each sub-expression's result.
//!
//! Every branch is evaluated (no short-circuit), so an author sees all the
//! reasons at once. The tests use the same compiled matchers as the engine.

use std::fmt::Write as _;

use lanner_audit::Event;
use lanner_rules::checked::{Cond, Rule};

use crate::alert::{NA, render_value};
use crate::eval::Frame;
use crate::program::{CompileError, Lhs, Node, Slots, compile};

/// A node of an explanation, with its result.
#[derive(Debug)]
pub enum Explained {
    /// `and` of the children.
    And(bool, Vec<Explained>),
    /// `or` of the children.
    Or(bool, Vec<Explained>),
    /// `not` of the child.
    Not(bool, Box<Explained>),
    /// A macro's body.
    Macro(bool, String, Box<Explained>),
    /// A comparison: its text, the field as written and its value.
    Test {
        /// Result.
        result: bool,
        /// The check, e.g. `ka.verb = create`.
        text: String,
        /// The field side's value, rendered (`<NA>` when missing).
        value: String,
    },
}

impl Explained {
    /// The node's result.
    #[must_use]
    pub fn result(&self) -> bool {
        match self {
            Explained::And(r, _)
            | Explained::Or(r, _)
            | Explained::Not(r, _)
            | Explained::Macro(r, _, _) => *r,
            Explained::Test { result, .. } => *result,
        }
    }
}

enum Plan {
    And(Vec<Plan>),
    Or(Vec<Plan>),
    Not(Box<Plan>),
    Macro(String, Box<Plan>),
    Test(String, Node, Lhs),
}

/// Explains `rule` on `event`.
pub fn explain(rule: &Rule, event: &Event) -> Result<Explained, CompileError> {
    let mut slots = Slots::default();
    let plan = plan(&rule.condition, &mut slots)?;
    let mut frame = Frame::new(event, &slots);
    Ok(run(&plan, &mut frame))
}

fn plan(cond: &Cond, slots: &mut Slots) -> Result<Plan, CompileError> {
    Ok(match cond {
        Cond::And(items) => Plan::And(
            items
                .iter()
                .map(|c| plan(c, slots))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Or(items) => Plan::Or(
            items
                .iter()
                .map(|c| plan(c, slots))
                .collect::<Result<_, _>>()?,
        ),
        Cond::Not(inner) => Plan::Not(Box::new(plan(inner, slots)?)),
        Cond::Macro { name, body } => Plan::Macro(name.to_string(), Box::new(plan(body, slots)?)),
        Cond::Test(test) => {
            let node = compile(cond, slots)?;
            let lhs = crate::program::lhs(&test.lhs, slots);
            Plan::Test(test.text.clone(), node, lhs)
        }
    })
}

fn run(plan: &Plan, frame: &mut Frame<'_, '_>) -> Explained {
    match plan {
        Plan::And(items) => {
            let children: Vec<Explained> = items.iter().map(|p| run(p, frame)).collect();
            Explained::And(children.iter().all(Explained::result), children)
        }
        Plan::Or(items) => {
            let children: Vec<Explained> = items.iter().map(|p| run(p, frame)).collect();
            Explained::Or(children.iter().any(Explained::result), children)
        }
        Plan::Not(inner) => {
            let child = run(inner, frame);
            Explained::Not(!child.result(), Box::new(child))
        }
        Plan::Macro(name, body) => {
            let child = run(body, frame);
            Explained::Macro(child.result(), name.clone(), Box::new(child))
        }
        Plan::Test(text, node, lhs) => {
            let result = frame.eval(node);
            let mut value = String::new();
            match frame.value(lhs) {
                Some(v) => render_value(&mut value, &v),
                None => value.push_str(NA),
            }
            Explained::Test {
                result,
                text: text.clone(),
                value,
            }
        }
    }
}

/// Renders an explanation as an indented tree.
#[must_use]
pub fn render(rule: &Rule, explained: &Explained) -> String {
    let verdict = if explained.result() {
        "fires"
    } else {
        "does not fire"
    };
    let mut out = format!("rule `{}` ({}): {verdict}\n", rule.name, rule.location);
    line(&mut out, explained, "", "");
    out
}

fn word(result: bool) -> &'static str {
    if result { "true " } else { "false" }
}

fn line(out: &mut String, node: &Explained, lead: &str, child_lead: &str) {
    let (label, children): (String, Vec<&Explained>) = match node {
        Explained::And(r, items) => (format!("{} and", word(*r)), items.iter().collect()),
        Explained::Or(r, items) => (format!("{} or", word(*r)), items.iter().collect()),
        Explained::Not(r, inner) => (format!("{} not", word(*r)), vec![&**inner]),
        Explained::Macro(r, name, inner) => (format!("{} macro {name}", word(*r)), vec![&**inner]),
        Explained::Test {
            result,
            text,
            value,
        } => (
            format!("{} {text}    [value: {value}]", word(*result)),
            Vec::new(),
        ),
    };
    let _ = writeln!(out, "{lead}{label}");
    let count = children.len();
    for (i, child) in children.into_iter().enumerate() {
        let last = i + 1 == count;
        let branch = if last { "└─ " } else { "├─ " };
        let next = if last { "   " } else { "│  " };
        line(
            out,
            child,
            &format!("{child_lead}{branch}"),
            &format!("{child_lead}{next}"),
        );
    }
}
