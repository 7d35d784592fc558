//! The condition parser: any bytes (as lossy UTF-8) either parse or give a
//! syntax error, never a panic or a stack overflow. Whatever parses must
//! print to text that parses back to the same tree.

#![no_main]

use lanner_rules::syntax::ast::TextId;
use lanner_rules::syntax::{parse, parse_operand, print};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = parse_operand(&text, TextId(0));
    let Ok(mut expr) = parse(&text, TextId(0)) else {
        return;
    };
    let printed = print(&expr);
    let mut again = match parse(&printed, TextId(0)) {
        Ok(again) => again,
        Err(e) => panic!("{text:?} printed as {printed:?} does not parse: {e:?}"),
    };
    expr.clear_spans();
    again.clear_spans();
    assert_eq!(expr, again, "{text:?} printed as {printed:?}");
});
