use lanner_rules::syntax::{parse, ast::TextId};
#[test]
fn scratch() {
    for t in ["a.b in (pods, deployments", "a.b = create and", "(a.b = )", "a.b = x c.d = y", "a.b in (a,, b)", "a.b = = c", "a.b startswith", "(   )", "a.b == = create", "a.b exists and and c", "a.b in (a, b", "(a.b = x", "(a.b = x or (c.d = y)", "a.b in", "a.b = x and not", "a.b in (a b)", "a.b[x = 1", "tolower(a.b = 1", "a.b = val(c.d", "not", "a.b", "a.b =", "x and (y or"] {
        println!("{t:?} -> {:?}", parse(t, TextId(0)).err().map(|e| (e.message, e.start, e.end)));
    }
}
