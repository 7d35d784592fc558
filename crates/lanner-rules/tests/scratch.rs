use pest::Parser as _;
#[derive(pest_derive::Parser)]
#[grammar = "syntax/condition.pest"]
struct P;
#[test]
fn scratch() {
    pest::set_error_detail(true);
    for t in ["a.b in (pods, deployments", "a.b = create and", "(a.b = )", "a.b = x c.d = y", "a.b in (a,, b)", "a.b = = c", "a.b startswith", "(   )", "a.b == = create", "a.b exists and and c", "a.b in (a, b"] {
        let e = P::parse(Rule::condition, t).unwrap_err();
        let a = e.parse_attempts().unwrap();
        println!("{t:?} -> {:?} max={} exp={:?} unexp={:?}", e.location, a.max_position, a.expected_tokens(), a.unexpected_tokens());
        println!("   stacks {:?}", a.call_stacks());
    }
}
