//! `concat`, `join` and `getopt` (Falco 0.44's transformers of several values), in
//! conditions and outputs, on decoded audit events. Expectations follow libs'
//! `filter_transformer.ut.cpp` and `eventformatter.ut.cpp`, moved to audit fields.

use lanner_engine::{Engine, Options};

const EVENT: &str = r#"{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"create","user":{"username":"alice","groups":["dev","ops"]},"objectRef":{"resource":"pods","namespace":"web","name":"shop"},"stageTimestamp":"2024-05-01T12:00:00Z"}"#;

/// An event without a namespace and without groups.
const BARE: &str = r#"{"kind":"Event","auditID":"2","stage":"ResponseComplete","verb":"get","user":{"username":"bob"},"objectRef":{"resource":"nodes","name":"n1"},"stageTimestamp":"2024-05-01T12:00:01Z"}"#;

fn engine(condition: &str, output: &str) -> Engine {
    engine_with(condition, output, true)
}

fn engine_with(condition: &str, output: &str, prefilter: bool) -> Engine {
    let rules = format!(
        "- rule: R\n  desc: d\n  condition: {}\n  output: {}\n  priority: NOTICE\n  source: k8s_audit\n",
        serde_json::to_string(condition).expect("json"),
        serde_json::to_string(output).expect("json"),
    );
    let mut loader = lanner_rules::Loader::new();
    loader.add_source("rules.yaml", &rules);
    let output = loader.finish();
    assert!(
        !output.diagnostics.has_errors(),
        "{condition}: {:?}",
        output.diagnostics
    );
    let options = Options {
        prefilter,
        ..Options::default()
    };
    Engine::new(&output.ruleset, &options).expect("engine")
}

fn alert(engine: &Engine, line: &str) -> Option<lanner_engine::Alert> {
    let events = lanner_audit::decode_payload(line.as_bytes(), 1).expect("decode");
    let event = events.into_iter().next().expect("one").expect("event");
    let mut alerts = Vec::new();
    engine.process(&event, &mut alerts);
    alerts.pop()
}

/// Whether the rule fires, with the prefilter and without (they must agree).
fn holds(condition: &str, line: &str) -> bool {
    let fired = alert(&engine(condition, "x"), line).is_some();
    let unfiltered = alert(&engine_with(condition, "x", false), line).is_some();
    assert_eq!(fired, unfiltered, "prefilter changes {condition}");
    fired
}

#[test]
fn concat_joins_its_values() {
    let yes = [
        r#"concat(ka.user.name, "@", ka.target.namespace) = "alice@web""#,
        r#"concat("aaa", "bbb", "ccc") = aaabbbccc"#,
        r"concat(toupper(ka.user.name), ka.verb) = ALICEcreate",
        r#"concat(ka.target.namespace, concat("/", toupper(ka.target.name))) = web/SHOP"#,
        r"toupper(concat(ka.user.name, ka.verb)) startswith ALICE",
        r"len(concat(ka.user.name, ka.verb)) = 11",
        r#"b64(concat("YWFh", "YmJi")) = aaabbb"#,
        r"concat(ka.user.name, 1) = alice1",
        r"concat(ka.user.name, 0x10) = alice0x10",
        r#"concat(ka.user.name, "") in (alice, bob)"#,
        r#"ka.user.name = concat("al", "ice")"#,
        r"concat(ka.user.name, ka.verb) exists",
        // Next to tests the prefilter indexes.
        r"ka.verb = create and concat(ka.user.name, ka.verb) = alicecreate",
        r#"ka.target.resource in (pods) and not concat(ka.verb, "x") = getx"#,
    ];
    for condition in yes {
        assert!(holds(condition, EVENT), "{condition}");
    }
    assert!(!holds(r#"concat("aaa", "bbb") = "aaa-bbb""#, EVENT));
    // One value missing: no value at all, so every comparison is false, `!=` included.
    for condition in [
        r"concat(ka.user.name, ka.target.namespace) = bob",
        r"concat(ka.user.name, ka.target.namespace) != bob",
        r"concat(ka.user.name, ka.target.namespace) exists",
    ] {
        assert!(!holds(condition, BARE), "{condition}");
    }
    assert!(holds(
        r"not concat(ka.user.name, ka.target.namespace) exists",
        BARE
    ));
}

#[test]
fn join_puts_the_separator_between_values() {
    let yes = [
        r#"join("-", (ka.user.name, ka.verb)) = alice-create"#,
        r#"join("->", ("aaa")) = aaa"#,
        r#"join(",", ()) = """#,
        r#"join(", ", ka.user.groups) = "dev, ops""#,
        r#"join("/", (ka.user.groups, ka.user.name)) = dev/ops/alice"#,
        r"join(ka.verb, (ka.user.name, ka.target.name)) = alicecreateshop",
        r#"join("", (tolower(ka.user.groups))) = devops"#,
        r#"join(",", (evt.num, evt.num)) = "1,1""#,
        r#"join("-", (ka.target.namespace, join("->", ("aaa", toupper(ka.user.name))))) = web-aaa->ALICE"#,
        r#"len(join("-", (ka.user.name, ka.verb))) = 12"#,
    ];
    for condition in yes {
        assert!(holds(condition, EVENT), "{condition}");
    }
    assert!(!holds(r#"join(",", ()) = ",""#, EVENT));
    // A missing element (no groups): the whole join is missing.
    assert!(!holds(
        r#"join(",", (ka.user.name, ka.user.groups)) exists"#,
        BARE
    ));
}

#[test]
fn getopt_parses_options() {
    let yes = [
        r#"getopt(("-n", "-t", "hello"), "nt:")[t] = hello"#,
        r#"getopt(("-n", "-t", "hello"), "nt:")[n] = n"#,
        r#"getopt(("-p8080"), "p:") intersects (8080)"#,
        r#"getopt(("-p8080"), "p:") in (p, 8080)"#,
        r#"getopt(("-xzf", "file.tar.gz"), "xzf:") intersects ("file.tar.gz")"#,
        r#"getopt(("-u", ka.user.name), "u:")[u] = alice"#,
        r#"getopt(("-t", "v1", "-t"), "t:")[t] = """#,
        // Nothing parsed is still a value: an empty list.
        r#"getopt(("file", "-n"), "n") exists"#,
        r#"getopt(("file", "-n"), "n") in (n)"#,
        r#"getopt(("file", "-n"), "n") in ()"#,
        r#"join(",", (getopt(("-a", "-b", "x"), "ab:"))) = "a,b,x""#,
        r#"toupper(getopt(("-a"), "a")[a]) = A"#,
    ];
    for condition in yes {
        assert!(holds(condition, EVENT), "{condition}");
    }
    let no = [
        r#"getopt(("file", "-n"), "n") intersects (n)"#,
        r#"getopt(("-n"), "n") in ()"#,
        r#"getopt(("-n"), "nt:")[t] in ()"#,
        r#"getopt(("-n"), "nt:")[t] exists"#,
        r#"getopt(("-n"), "nt:")[t] != x"#,
        r#"getopt(("regular_file", "-f", "another_file"), "f:") intersects (f, another_file)"#,
    ];
    for condition in no {
        assert!(!holds(condition, EVENT), "{condition}");
    }
}

#[test]
fn outputs_render_the_result_and_key_every_field() {
    let create = engine(
        "ka.verb = create",
        r#"who=%concat(ka.user.name, "@", ka.target.namespace) path=%join("/", (ka.target.namespace, ka.target.name)) opt=%getopt(("-p", "80"), "p:")[p] all=%getopt(("-a", "-b"), "ab") up=%toupper(concat(ka.user.name, ka.verb)) end"#,
    );
    let fired = alert(&create, EVENT).expect("fires");
    assert_eq!(
        fired.message,
        "who=alice@web path=web/shop opt=80 all=(a,b) up=ALICECREATE end"
    );
    let keys: Vec<&str> = fired.fields.keys().map(|k| &**k).collect();
    assert_eq!(
        keys,
        [
            "ka.target.name",
            "ka.target.namespace",
            "ka.user.name",
            "ka.verb"
        ]
    );

    // A missing value prints <NA> for the whole token, not a partial text.
    let bare = engine(
        "ka.verb = get",
        r#"who=%concat(ka.user.name, "/", ka.target.namespace) end"#,
    );
    let fired = alert(&bare, BARE).expect("fires");
    assert_eq!(fired.message, "who=<NA> end");

    // After `)`, a bracket is the call's only for `getopt`, and only when it is an
    // argument: otherwise it is text, as in Falco.
    let brackets = engine(
        "ka.verb = create",
        r#"%toupper(ka.user.name)[x] %concat(ka.user.name, ")")[0] %getopt(("-a"), "a")[a end] %getopt(("-a"), "a")["a"]"#,
    );
    let fired = alert(&brackets, EVENT).expect("fires");
    assert_eq!(fired.message, "ALICE[x] alice)[0] (a)[a end] a");
}
