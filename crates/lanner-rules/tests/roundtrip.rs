//! Property tests of the condition parser and printer.
//!
//! `printed_trees_parse_back_to_themselves` generates syntax trees that the
//! parser can produce (`and`/`or` with two or more operands, ordering
//! operators with numbers, bare values only where the printer leaves them
//! bare, modifiers only before lists, ...), prints them and parses the text:
//! the result must be the same tree. The other properties feed the parser
//! text it was never meant to see: it may refuse it, never panic.

use lanner_rules::syntax::ast::{
    Check, Expr, ExprKind, FieldRef, List, Modifier, Op, Operand, Rhs, TextId, TextSpan, Transform,
    TransformArg, Value,
};
use lanner_rules::syntax::{needs_quotes, parse, parse_operand, print};
use proptest::prelude::*;

// ------------------------------------------------------------- strategies

fn value(text: String, quoted: bool) -> Value {
    Value {
        text,
        quoted,
        span: TextSpan::default(),
    }
}

/// Any text, with a bias towards characters that need quoting or escaping.
fn any_text() -> BoxedStrategy<String> {
    prop_oneof![
        "[ -~]{0,12}",
        any::<String>(),
        "[\"'\\\\()=, \\t\\n\\r\\x00\\x08\\x0b\\x0c\\x7fé]{0,8}",
    ]
    .boxed()
}

/// A value the printer leaves bare (so it parses back as bare).
fn bare_text() -> BoxedStrategy<String> {
    "[a-zA-Z0-9_./:*?<>!@#$%^&+~\\[\\]\\\\\\x00\\x1c\\x7f\u{a0}\u{2028}é日-]{1,10}"
        .prop_filter("bare", |t| !needs_quotes(t))
        .boxed()
}

/// Text the grammar lexes as a number (the only right-hand side of `<`).
fn number_text() -> BoxedStrategy<String> {
    prop_oneof![
        "[+-]?[0-9]{1,6}",
        "[+-]?[0-9]{1,4}\\.[0-9]{0,3}",
        "[0-9]{1,3}[eE][+-][0-9]{1,2}",
        "0[xX][0-9a-fA-F]{1,6}",
    ]
    .boxed()
}

fn identifier() -> BoxedStrategy<String> {
    "[a-zA-Z][a-zA-Z0-9_]{0,6}".boxed()
}

fn macro_name() -> BoxedStrategy<String> {
    identifier()
        .prop_filter("keyword", |n| !matches!(n.as_str(), "and" | "or" | "not"))
        .boxed()
}

/// A string value: quoted (anything) or bare.
fn str_value() -> BoxedStrategy<Value> {
    prop_oneof![
        any_text().prop_map(|t| value(t, true)),
        bare_text().prop_map(|t| value(t, false)),
    ]
    .boxed()
}

fn field_arg() -> BoxedStrategy<Value> {
    prop_oneof![
        "[a-zA-Z0-9/_.~:()=,<>!*\\\\\\x01\u{a0}é-]{1,8}".prop_map(|t| value(t, false)),
        any_text().prop_map(|t| value(t, true)),
    ]
    .boxed()
}

fn field() -> BoxedStrategy<FieldRef> {
    (
        "[a-zA-Z][a-zA-Z0-9_]{0,4}(\\.[a-zA-Z][a-zA-Z0-9_]{0,4}){1,3}",
        proptest::option::weighted(0.3, field_arg()),
    )
        .prop_map(|(name, arg)| FieldRef {
            name,
            arg,
            span: TextSpan::default(),
        })
        .boxed()
}

const TRANSFORMERS: &[&str] = &[
    "tolower", "toupper", "b64", "basename", "len", "join", "concat", "getopt",
];

/// A field, or a transformer call over fields, values and lists.
fn operand() -> BoxedStrategy<Operand> {
    field()
        .prop_map(Operand::Field)
        .prop_recursive(3, 12, 3, |inner| {
            let arg = transform_arg(inner);
            (
                prop::sample::select(TRANSFORMERS),
                prop::collection::vec(arg, 1..4),
                proptest::option::weighted(0.2, field_arg()),
            )
                .prop_map(|(name, args, arg)| {
                    Operand::Transform(Transform {
                        name: name.to_owned(),
                        args,
                        arg,
                        span: TextSpan::default(),
                    })
                })
        })
        .boxed()
}

fn transform_arg(operand: BoxedStrategy<Operand>) -> BoxedStrategy<TransformArg> {
    let leaf = prop_oneof![
        3 => operand.prop_map(TransformArg::Operand),
        1 => any_text().prop_map(|t| TransformArg::Value(value(t, true))),
        1 => number_text().prop_map(|t| TransformArg::Value(value(t, false))),
    ];
    leaf.prop_recursive(2, 6, 3, |inner| {
        prop::collection::vec(inner, 0..3).prop_map(TransformArg::List)
    })
    .boxed()
}

fn list() -> BoxedStrategy<Rhs> {
    prop::collection::vec(str_value(), 0..4)
        .prop_map(|items| {
            Rhs::List(List {
                items,
                span: TextSpan::default(),
            })
        })
        .boxed()
}

/// `val(field)` or a transformer call.
fn rhs_operand() -> BoxedStrategy<Rhs> {
    prop_oneof![
        field().prop_map(|f| Rhs::Operand(Operand::Field(f))),
        operand()
            .prop_filter("a transformer", |o| matches!(o, Operand::Transform(_)))
            .prop_map(Rhs::Operand),
    ]
    .boxed()
}

fn modifier() -> BoxedStrategy<Modifier> {
    prop::sample::select(vec![Modifier::OneOf, Modifier::AnyOf, Modifier::AllOf]).boxed()
}

/// What may follow `op`, as the grammar has it.
fn rhs_for(op: Op) -> BoxedStrategy<(Option<Modifier>, Rhs)> {
    if op == Op::Exists {
        Just((None, Rhs::None)).boxed()
    } else if op.is_ordering() {
        prop_oneof![
            number_text().prop_map(|t| (None, Rhs::Value(value(t, false)))),
            rhs_operand().prop_map(|r| (None, r)),
        ]
        .boxed()
    } else if op.takes_list() {
        prop_oneof![
            list().prop_map(|r| (None, r)),
            rhs_operand().prop_map(|r| (None, r)),
            identifier().prop_map(|t| (None, Rhs::ListRef(value(t, false)))),
        ]
        .boxed()
    } else {
        prop_oneof![
            3 => str_value().prop_map(|v| (None, Rhs::Value(v))),
            1 => rhs_operand().prop_map(|r| (None, r)),
            1 => (modifier(), list()).prop_map(|(m, r)| (Some(m), r)),
        ]
        .boxed()
    }
}

fn check() -> BoxedStrategy<Check> {
    // Mostly plain fields on the left, as in real rules.
    let lhs = prop_oneof![3 => field().prop_map(Operand::Field), 1 => operand()];
    (lhs, prop::sample::select(Op::ALL))
        .prop_flat_map(|(lhs, op)| {
            rhs_for(op).prop_map(move |(modifier, rhs)| Check {
                lhs: lhs.clone(),
                op,
                modifier,
                rhs,
                op_span: TextSpan::default(),
            })
        })
        .boxed()
}

fn expr() -> BoxedStrategy<Expr> {
    let leaf = prop_oneof![
        1 => macro_name().prop_map(ExprKind::Macro),
        3 => check().prop_map(|c| ExprKind::Check(Box::new(c))),
    ]
    .prop_map(|kind| Expr {
        kind,
        span: TextSpan::default(),
    });
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(ExprKind::And),
            prop::collection::vec(inner.clone(), 2..4).prop_map(ExprKind::Or),
            inner.prop_map(|e| ExprKind::Not(Box::new(e))),
        ]
        .prop_map(|kind| Expr {
            kind,
            span: TextSpan::default(),
        })
    })
    .boxed()
}

/// Fragments of the language, glued at random into near-conditions.
const TOKENS: &[&str] = &[
    "ka.verb",
    "jevt.value[/a/b]",
    "x.y[",
    "]",
    "(",
    ")",
    "((",
    "))",
    ",",
    "=",
    "==",
    "!=",
    "<",
    ">=",
    "and",
    "or",
    "not",
    "not(",
    "or(",
    "in",
    "intersects",
    "pmatch",
    "exists",
    "contains",
    "startswith",
    "oneof",
    "anyof",
    "allof",
    "val(",
    "tolower(",
    "len(",
    "join(",
    "\"",
    "'",
    "\"a b\"",
    "'c'",
    "\\",
    "\\\"",
    "\\x4",
    "\\xZZ",
    "1",
    "-2.5e+3",
    "0x1F",
    "m",
    "<NA>",
    "\n",
    "\t",
    " ",
    "é",
];

// ------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_themselves(expr in expr()) {
        let text = print(&expr);
        let mut parsed = parse(&text, TextId(0))
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e:?}")))?;
        parsed.clear_spans();
        prop_assert_eq!(&parsed, &expr, "printed as {:?}", text);
        // Printing is canonical: a second round gives the same text.
        prop_assert_eq!(print(&parsed), text);
    }

    #[test]
    fn printed_operands_parse_back_to_themselves(operand in operand()) {
        let mut text = String::new();
        lanner_rules::syntax::write_operand(&mut text, &operand);
        let parsed = parse_operand(&text, TextId(0))
            .map_err(|e| TestCaseError::fail(format!("{text:?} does not parse: {e:?}")))?;
        let expected = Expr { kind: ExprKind::Check(Box::new(Check {
            lhs: operand, op: Op::Exists, modifier: None, rhs: Rhs::None, op_span: TextSpan::default(),
        })), span: TextSpan::default() };
        let mut got = Expr { kind: ExprKind::Check(Box::new(Check {
            lhs: parsed, op: Op::Exists, modifier: None, rhs: Rhs::None, op_span: TextSpan::default(),
        })), span: TextSpan::default() };
        got.clear_spans();
        prop_assert_eq!(got, expected, "printed as {:?}", text);
    }

    #[test]
    fn parsing_any_printable_string_never_panics(text in "[ -~\\t\\n]{0,80}") {
        let _ = parse(&text, TextId(0));
        let _ = parse_operand(&text, TextId(0));
    }

    #[test]
    fn parsing_any_string_never_panics(text in any::<String>()) {
        let _ = parse(&text, TextId(0));
    }

    #[test]
    fn parsing_token_soup_never_panics(
        tokens in prop::collection::vec((prop::sample::select(TOKENS), prop::bool::ANY), 0..30),
    ) {
        let mut text = String::new();
        for (token, space) in tokens {
            text.push_str(token);
            if space {
                text.push(' ');
            }
        }
        if let Ok(expr) = parse(&text, TextId(0)) {
            // Whatever parses prints to something that parses the same.
            let printed = print(&expr);
            let mut again = parse(&printed, TextId(0))
                .map_err(|e| TestCaseError::fail(format!("{text:?} printed as {printed:?}: {e:?}")))?;
            let mut expr = expr;
            expr.clear_spans();
            again.clear_spans();
            prop_assert_eq!(again, expr, "{:?} printed as {:?}", text, printed);
        }
    }
}
