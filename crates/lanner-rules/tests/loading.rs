//! Loading semantics: append and override, redefinition, lists, macros,
//! exceptions, sources, priorities, versions, and Falco's own rules files.
//!
//! Conditions are compared in a canonical text form built from the checked
//! rule (macros inlined, `and`/`or` parenthesised as Falco prints them), or
//! by the values a check ends up with after list substitution.

use std::path::{Path, PathBuf};

use lanner_rules::checked::{Cond, OutputPart, Rule, Test, TestRhs};
use lanner_rules::{Code, Loaded, Loader, Priority, RuleStatus};

// ---------------------------------------------------------------- helpers

/// Loads `files` (name, text) in order.
fn load_files(files: &[(&str, &str)]) -> Loaded {
    let mut loader = Loader::new();
    for (name, text) in files {
        loader.add_source(*name, *text);
    }
    loader.finish()
}

fn load(text: &str) -> Loaded {
    load_files(&[("rules.yaml", text)])
}

/// Every diagnostic, rendered: the failure message of the assertions below.
fn rendered(loaded: &Loaded) -> String {
    loaded
        .diagnostics
        .items()
        .iter()
        .map(|d| d.short(&loaded.sources))
        .collect::<Vec<_>>()
        .join("\n")
}

fn codes(loaded: &Loaded) -> Vec<&'static str> {
    loaded
        .diagnostics
        .items()
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

fn count(loaded: &Loaded, code: Code) -> usize {
    loaded
        .diagnostics
        .items()
        .iter()
        .filter(|d| d.code == code)
        .count()
}

#[track_caller]
fn assert_no_errors(loaded: &Loaded) {
    assert!(!loaded.diagnostics.has_errors(), "{}", rendered(loaded));
}

/// Asserts that `code` was reported and no other error was.
#[track_caller]
fn assert_only_error(loaded: &Loaded, code: Code) {
    let errors: Vec<Code> = loaded
        .diagnostics
        .items()
        .iter()
        .filter(|d| d.severity() == lanner_rules::Severity::Error)
        .map(|d| d.code)
        .collect();
    assert!(
        !errors.is_empty() && errors.iter().all(|c| *c == code),
        "{}",
        rendered(loaded)
    );
}

#[track_caller]
fn rule<'a>(loaded: &'a Loaded, name: &str) -> &'a Rule {
    loaded
        .ruleset
        .rules
        .iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("rule `{name}` not loaded:\n{}", rendered(loaded)))
}

/// A condition in canonical form, macros inlined.
fn show(cond: &Cond) -> String {
    let join = |items: &[Cond], word: &str| {
        let parts: Vec<String> = items.iter().map(show).collect();
        format!("({})", parts.join(word))
    };
    match cond {
        Cond::And(items) => join(items, " and "),
        Cond::Or(items) => join(items, " or "),
        Cond::Not(inner) => format!("not {}", show(inner)),
        Cond::Macro { body, .. } => show(body),
        Cond::Test(test) => test.text.clone(),
    }
}

fn condition(loaded: &Loaded, name: &str) -> String {
    show(&rule(loaded, name).condition)
}

/// Every check of a condition, in order.
fn tests(cond: &Cond) -> Vec<&Test> {
    match cond {
        Cond::And(items) | Cond::Or(items) => items.iter().flat_map(tests).collect(),
        Cond::Not(inner) => tests(inner),
        Cond::Macro { body, .. } => tests(body),
        Cond::Test(test) => vec![test],
    }
}

/// The right-hand values of the rule's first check.
fn first_values(loaded: &Loaded, name: &str) -> Vec<String> {
    let rule = rule(loaded, name);
    match &tests(&rule.condition)[0].rhs {
        TestRhs::Value(v) => vec![v.clone()],
        TestRhs::List(items) => items.clone(),
        other => panic!("unexpected right-hand side {other:?}"),
    }
}

/// An output template back as text (`%key` for fields).
fn output(loaded: &Loaded, name: &str) -> String {
    rule(loaded, name)
        .output
        .iter()
        .map(|part| match part {
            OutputPart::Text(text) => text.clone(),
            OutputPart::Field { keys, .. } => format!("%{}", keys.join(",")),
        })
        .collect()
}

/// A complete `k8s_audit` rule item.
fn audit_rule(name: &str, condition: &str) -> String {
    format!(
        "- rule: {name}\n  desc: d\n  condition: {condition}\n  output: user=%ka.user.name\n  priority: NOTICE\n  source: k8s_audit\n"
    )
}

fn names(loaded: &Loaded) -> Vec<&str> {
    loaded
        .ruleset
        .rules
        .iter()
        .map(|r| r.name.as_str())
        .collect()
}

// ------------------------------------------------------- append, override

const BASE: &str = "
- rule: R
  desc: first
  condition: ka.verb = create and ka.user.name = alice
  output: verb=%ka.verb
  priority: NOTICE
  source: k8s_audit
  tags: [a]
";

#[test]
fn override_appends_and_replaces_per_key() {
    let loaded = load(&format!(
        "{BASE}
- rule: R
  condition: or ka.user.name = bob
  desc: second
  tags: [b]
  output: user=%ka.user.name
  priority: error
  override:
    condition: append
    desc: append
    tags: append
    output: replace
    priority: replace
"
    ));
    assert_no_errors(&loaded);
    // Appended text is parsed with the old: `and` binds tighter than `or`.
    assert_eq!(
        condition(&loaded, "R"),
        "((ka.verb = create and ka.user.name = alice) or ka.user.name = bob)"
    );
    let r = rule(&loaded, "R");
    assert_eq!(r.desc, "first second");
    assert_eq!(r.tags, ["a", "b"]);
    assert_eq!(r.priority, Priority::Error);
    assert_eq!(output(&loaded, "R"), "user=%ka.user.name");
}

#[test]
fn override_replaces_condition_tags_and_enabled() {
    let loaded = load(&format!(
        "{BASE}
- rule: R
  condition: ka.verb = delete
  tags: [c]
  enabled: false
  output: more %ka.user.name
  override:
    condition: replace
    tags: replace
    enabled: replace
    output: append
"
    ));
    assert_no_errors(&loaded);
    assert_eq!(condition(&loaded, "R"), "ka.verb = delete");
    let r = rule(&loaded, "R");
    assert_eq!(r.tags, ["c"]);
    assert!(!r.enabled);
    assert_eq!(output(&loaded, "R"), "verb=%ka.verb more %ka.user.name");
}

#[test]
fn override_of_lists_and_macros() {
    let loaded = load(&format!(
        "
- list: users
  items: [alice]
- list: users
  items: [bob]
  override:
    items: append
- list: groups
  items: [x]
- list: groups
  items: [y]
  override:
    items: replace
- list: fresh
  items: [z]
  override:
    items: replace
- macro: m
  condition: ka.verb = create
- macro: m
  condition: or ka.verb = update
  override:
    condition: append
{}{}{}",
        audit_rule("Users", "ka.user.name in (users)"),
        audit_rule("Groups", "ka.user.groups intersects (groups, fresh)"),
        audit_rule("Macro", "m"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(first_values(&loaded, "Users"), ["alice", "bob"]);
    // `items: replace` is a plain redefinition: no earlier list needed.
    assert_eq!(first_values(&loaded, "Groups"), ["y", "z"]);
    assert_eq!(
        condition(&loaded, "Macro"),
        "(ka.verb = create or ka.verb = update)"
    );
}

#[test]
fn override_of_a_missing_rule_or_macro_is_an_error() {
    let loaded = load(
        "
- rule: Nobody
  condition: and ka.verb = create
  override:
    condition: append
- macro: nothing
  condition: or x.y = 1
  override:
    condition: append
",
    );
    assert_eq!(count(&loaded, Code::E107), 2, "{}", rendered(&loaded));
}

#[test]
fn override_cannot_be_combined_with_append_true() {
    let loaded = load(&format!(
        "{BASE}
- rule: R
  condition: and ka.verb = create
  append: true
  override:
    condition: append
"
    ));
    assert_only_error(&loaded, Code::E106);
}

#[test]
fn legacy_append_uses_only_condition_and_exceptions() {
    let loaded = load(&format!(
        "{BASE}
- rule: R
  condition: or ka.user.name = bob
  output: ignored
  priority: ERROR
  desc: ignored
  append: true
  exceptions:
    - name: ns
      fields: ka.target.namespace
      values: [kube-system]
- list: l
  items: [a]
- list: l
  items: [b]
  append: true
- macro: m
  condition: ka.verb = get
- macro: m
  condition: or ka.verb = list
  append: true
{}{}",
        audit_rule("List", "ka.user.name in (l)"),
        audit_rule("Macro", "m")
    ));
    assert_no_errors(&loaded);
    assert_eq!(count(&loaded, Code::W106), 3, "{}", rendered(&loaded));
    assert_eq!(
        condition(&loaded, "R"),
        "(((ka.verb = create and ka.user.name = alice) or ka.user.name = bob) and not ka.target.namespace in (kube-system))"
    );
    let r = rule(&loaded, "R");
    assert_eq!(r.priority, Priority::Notice);
    assert_eq!(r.desc, "first");
    assert_eq!(output(&loaded, "R"), "verb=%ka.verb");
    assert_eq!(first_values(&loaded, "List"), ["a", "b"]);
    assert_eq!(
        condition(&loaded, "Macro"),
        "(ka.verb = get or ka.verb = list)"
    );
}

#[test]
fn legacy_append_to_a_missing_rule_is_an_error() {
    let loaded = load("- rule: Nobody\n  condition: and ka.verb = create\n  append: true\n");
    assert_only_error(&loaded, Code::E107);
}

#[test]
fn standalone_enabled_toggles_an_existing_rule() {
    let loaded = load(&format!("{BASE}\n- rule: R\n  enabled: false\n"));
    assert_no_errors(&loaded);
    assert_eq!(codes(&loaded), ["W106"]);
    assert!(!rule(&loaded, "R").enabled);
    let info = &loaded.rules[0];
    assert!(!info.enabled);
    assert_eq!(info.status, RuleStatus::Loaded);
}

#[test]
fn enabled_replace_turns_a_rule_back_on() {
    let loaded = load(&format!(
        "{BASE}\n- rule: R\n  enabled: false\n  override:\n    enabled: replace\n- rule: R\n  enabled: true\n  override:\n    enabled: replace\n"
    ));
    assert_no_errors(&loaded);
    assert!(codes(&loaded).is_empty(), "{}", rendered(&loaded));
    assert!(rule(&loaded, "R").enabled);
}

#[test]
fn redefinition_replaces_everything_but_keeps_the_position() {
    let loaded = load(&format!(
        "
- rule: A
  desc: first A
  condition: ka.verb = create
  output: a
  priority: ERROR
  source: k8s_audit
  enabled: false
  tags: [old]
{}{}
- rule: A
  desc: second A
  condition: ka.verb = delete
  output: a2
  priority: DEBUG
  source: k8s_audit
",
        audit_rule("B", "ka.verb = get"),
        audit_rule("C", "ka.verb = list"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(names(&loaded), ["A", "B", "C"]);
    let a = rule(&loaded, "A");
    assert_eq!(a.desc, "second A");
    assert_eq!(a.priority, Priority::Debug);
    // Keys not given again go back to their defaults.
    assert!(a.enabled);
    assert!(a.tags.is_empty());
    assert_eq!(condition(&loaded, "A"), "ka.verb = delete");
    let ids: Vec<u32> = loaded.ruleset.rules.iter().map(|r| r.id.0).collect();
    assert_eq!(ids, [0, 1, 2]);
}

#[test]
fn redefinition_in_a_later_file_keeps_the_position() {
    let first = format!(
        "{}{}",
        audit_rule("A", "ka.verb = create"),
        audit_rule("B", "ka.verb = get")
    );
    let second = audit_rule("A", "ka.verb = delete");
    let loaded = load_files(&[("one.yaml", &first), ("two.yaml", &second)]);
    assert_no_errors(&loaded);
    assert_eq!(names(&loaded), ["A", "B"]);
    assert_eq!(condition(&loaded, "A"), "ka.verb = delete");
}

#[test]
fn redefinition_with_another_source_is_an_error() {
    let loaded = load(&format!(
        "{}\n- rule: A\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: INFO\n",
        audit_rule("A", "ka.verb = create")
    ));
    assert_only_error(&loaded, Code::E112);
}

// ------------------------------------------------------------------ lists

#[test]
fn lists_of_lists_expand_recursively() {
    let loaded = load(&format!(
        "
- list: a
  items: [a1]
- list: b
  items: [a, b1]
- list: c
  items: [b, c1]
- list: d
  items: [e, d1]
- list: e
  items: [e1]
{}{}",
        audit_rule("C", "ka.user.name in (c)"),
        audit_rule("D", "ka.user.name in (d, e)"),
    ));
    assert_no_errors(&loaded);
    // Falco expands one level only (C would hold the literal `a`).
    assert_eq!(first_values(&loaded, "C"), ["a1", "b1", "c1"]);
    // A list named before its definition stays a literal item.
    assert_eq!(first_values(&loaded, "D"), ["e", "d1", "e1"]);
    assert_eq!(count(&loaded, Code::W103), 0, "{}", rendered(&loaded));
}

#[test]
fn list_appended_after_use_in_another_list_is_seen() {
    // `b` is re-defined (appended) after `a` was appended, so `a` is
    // visible to it; the items are taken after all appends.
    let loaded = load(&format!(
        "
- list: a
  items: [a1]
- list: b
  items: [a]
- list: a
  items: [a2]
  override:
    items: append
{}",
        audit_rule("B", "ka.user.name in (b)"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(first_values(&loaded, "B"), ["a1", "a2"]);
}

#[test]
fn list_names_are_substituted_into_in_lists() {
    let loaded = load(&format!(
        "
- list: admins
  items: [alice, bob]
- list: nobody
  items: []
- list: quoted
  items: ['\"(systemd)\"', \"'a b'\", plain]
{}{}{}{}{}{}",
        audit_rule("Merge", "ka.user.name in (admins, carol, admins)"),
        audit_rule("Empty", "ka.user.name in (nobody)"),
        audit_rule("EmptyAndMore", "ka.user.name in (nobody, dave)"),
        audit_rule("Quoted", "ka.user.name in (\"admins\", 'nobody')"),
        audit_rule("OwnQuotes", "ka.user.name in (quoted)"),
        audit_rule("Bare", "ka.user.name in admins"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(
        first_values(&loaded, "Merge"),
        ["alice", "bob", "carol", "alice", "bob"]
    );
    assert!(first_values(&loaded, "Empty").is_empty());
    assert_eq!(first_values(&loaded, "EmptyAndMore"), ["dave"]);
    // Quoted strings are values, never list names (Falco substitutes
    // inside quotes too).
    assert_eq!(first_values(&loaded, "Quoted"), ["admins", "nobody"]);
    // Items written with their own quotes stand for the quoted string.
    assert_eq!(
        first_values(&loaded, "OwnQuotes"),
        ["(systemd)", "a b", "plain"]
    );
    // `in name` without parentheses is the whole list (Falco: a parse
    // error for more than one item).
    assert_eq!(first_values(&loaded, "Bare"), ["alice", "bob"]);
}

#[test]
fn a_one_item_list_is_a_single_value() {
    let loaded = load(&format!(
        "
- list: the_admin
  items: [alice]
{}{}",
        audit_rule("Eq", "ka.user.name = the_admin"),
        audit_rule("Prefix", "ka.user.name startswith the_admin"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(first_values(&loaded, "Eq"), ["alice"]);
    assert_eq!(first_values(&loaded, "Prefix"), ["alice"]);
}

#[test]
fn a_multi_item_or_empty_list_with_equals_is_an_error() {
    let loaded = load(&format!(
        "
- list: admins
  items: [alice, bob]
- list: nobody
  items: []
{}{}",
        audit_rule("Two", "ka.user.name = admins"),
        audit_rule("None", "ka.user.name = nobody"),
    ));
    assert_eq!(count(&loaded, Code::E311), 2, "{}", rendered(&loaded));
    assert!(loaded.ruleset.rules.is_empty());
}

#[test]
fn a_list_used_only_by_a_macro_or_list_is_used() {
    let loaded = load(&format!(
        "
- list: inner
  items: [a]
- list: outer
  items: [inner]
- list: by_macro
  items: [b]
- macro: m
  condition: ka.user.name in (by_macro)
{}",
        audit_rule("R", "m and ka.user.name in (outer)"),
    ));
    assert_no_errors(&loaded);
    assert!(codes(&loaded).is_empty(), "{}", rendered(&loaded));
}

// ------------------------------------------------------------- exceptions

const EXCEPTION_RULE: &str = "
- rule: R
  desc: d
  condition: ka.verb = create
  output: user=%ka.user.name
  priority: NOTICE
  source: k8s_audit
  exceptions:
";

fn with_exceptions(exceptions: &str) -> Loaded {
    load(&format!(
        "- list: system_ns\n  items: [kube-system, kube-public]\n{EXCEPTION_RULE}{exceptions}"
    ))
}

#[test]
fn exception_scalar_form_defaults_to_in() {
    let loaded = with_exceptions(
        "    - name: users\n      fields: ka.user.name\n      values: [alice, \"bob smith\"]\n",
    );
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ka.user.name in (alice, \"bob smith\"))"
    );
}

#[test]
fn exception_scalar_form_takes_pmatch_intersects_and_modifiers() {
    let loaded = with_exceptions(
        "    - name: uris
      fields: ka.uri
      comps: pmatch
      values: [/api/v1, /healthz]
    - name: groups
      fields: ka.user.groups
      comps: intersects
      values: [system:masters]
    - name: agents
      fields: ka.useragent
      comps: startswith anyof
      values: [kubectl, helm]
",
    );
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ka.uri pmatch (/api/v1, /healthz) and not ka.user.groups intersects (system:masters) and not ka.useragent startswith anyof (kubectl, helm))"
    );
}

#[test]
fn exception_list_form_defaults_comps_to_equals() {
    let loaded = with_exceptions(
        "    - name: pairs
      fields: [ka.user.name, ka.target.namespace]
      values:
        - [alice, default]
        - [bob, kube-system]
",
    );
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ((ka.user.name = alice and ka.target.namespace = default) or (ka.user.name = bob and ka.target.namespace = kube-system)))"
    );
}

#[test]
fn exception_tuples_may_hold_lists_and_list_names() {
    let loaded = with_exceptions(
        "    - name: nested
      fields: [ka.user.name, ka.target.namespace]
      comps: [=, in]
      values:
        - [alice, [default, monitoring]]
        - [bob, system_ns]
        - [carol, (system_ns)]
",
    );
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ((ka.user.name = alice and ka.target.namespace in (default, monitoring)) or (ka.user.name = bob and ka.target.namespace in (system_ns)) or (ka.user.name = carol and ka.target.namespace in (system_ns))))"
    );
    let rule = rule(&loaded, "R");
    let namespaces: Vec<&TestRhs> = tests(&rule.condition)
        .into_iter()
        .filter(|t| t.text.starts_with("ka.target.namespace"))
        .map(|t| &t.rhs)
        .collect();
    let expected = TestRhs::List(vec!["kube-system".into(), "kube-public".into()]);
    assert_eq!(format!("{:?}", namespaces[1]), format!("{expected:?}"));
    assert_eq!(format!("{:?}", namespaces[2]), format!("{expected:?}"));
}

#[test]
fn exception_without_values_adds_nothing() {
    let loaded = with_exceptions("    - name: later\n      fields: [ka.user.name]\n");
    assert_no_errors(&loaded);
    assert_eq!(condition(&loaded, "R"), "ka.verb = create");
}

#[test]
fn exception_values_are_appended_by_name() {
    let loaded = load(&format!(
        "{EXCEPTION_RULE}    - name: users
      fields: ka.user.name
      values: [alice]
- rule: R
  exceptions:
    - name: users
      values: [bob]
    - name: namespaces
      fields: [ka.target.namespace]
      comps: [startswith]
      values: [[kube-]]
  override:
    exceptions: append
"
    ));
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ka.user.name in (alice, bob) and not ka.target.namespace startswith kube-)"
    );
}

#[test]
fn exceptions_replace_swaps_the_whole_list() {
    let loaded = load(&format!(
        "{EXCEPTION_RULE}    - name: users
      fields: ka.user.name
      values: [alice]
- rule: R
  exceptions:
    - name: namespaces
      fields: ka.target.namespace
      values: [default]
  override:
    exceptions: replace
"
    ));
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not ka.target.namespace in (default))"
    );
}

#[test]
fn exception_fields_may_use_transformers() {
    let loaded = with_exceptions(
        "    - name: lower
      fields: [tolower(ka.user.name)]
      values: [[alice]]
",
    );
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and not tolower(ka.user.name) = alice)"
    );
}

// ----------------------------------------------------------------- macros

#[test]
fn a_rule_may_use_a_macro_defined_after_it_in_the_same_or_a_later_file() {
    let first = format!(
        "{}- macro: same_file\n  condition: ka.verb = create\n",
        audit_rule("R", "same_file and later_file")
    );
    let second = "- macro: later_file\n  condition: ka.user.name = alice\n";
    let loaded = load_files(&[("one.yaml", &first), ("two.yaml", second)]);
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = create and ka.user.name = alice)"
    );
}

#[test]
fn a_macro_sees_only_macros_defined_before_it() {
    let loaded = load(&format!(
        "
- macro: early
  condition: ka.verb = create
- macro: uses_early
  condition: early and ka.user.name = alice
- macro: uses_late
  condition: late
- macro: late
  condition: ka.verb = delete
{}{}",
        audit_rule("Ok", "uses_early"),
        audit_rule("Bad", "uses_late"),
    ));
    assert_only_error(&loaded, Code::E302);
    assert_eq!(names(&loaded), ["Ok"]);
    assert_eq!(
        condition(&loaded, "Ok"),
        "(ka.verb = create and ka.user.name = alice)"
    );
}

#[test]
fn a_macro_redefined_later_keeps_its_place_for_visibility() {
    let loaded = load(&format!(
        "
- macro: base
  condition: ka.verb = create
- macro: user
  condition: base and ka.user.name = alice
- macro: base
  condition: ka.verb = update
{}",
        audit_rule("R", "user"),
    ));
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.verb = update and ka.user.name = alice)"
    );
}

#[test]
fn a_macro_loop_is_reported_once() {
    let loaded = load(&format!(
        "
- macro: ping
  condition: ka.verb = create
- macro: pong
  condition: ping
- macro: ping
  condition: or pong
  override:
    condition: append
{}{}",
        audit_rule("A", "ping"),
        audit_rule("B", "pong"),
    ));
    assert_only_error(&loaded, Code::E303);
    assert_eq!(count(&loaded, Code::E303), 1, "{}", rendered(&loaded));
    assert!(loaded.ruleset.rules.is_empty());
}

#[test]
fn a_macro_is_a_parenthesised_group() {
    let loaded = load(&format!(
        "- macro: either\n  condition: ka.verb = get or ka.verb = list\n{}",
        audit_rule("R", "ka.user.name = alice and either")
    ));
    assert_no_errors(&loaded);
    assert_eq!(
        condition(&loaded, "R"),
        "(ka.user.name = alice and (ka.verb = get or ka.verb = list))"
    );
}

#[test]
fn an_error_in_a_macro_used_by_many_rules_is_reported_once() {
    let loaded = load(&format!(
        "- macro: bad\n  condition: ka.usr.name = alice\n{}{}{}",
        audit_rule("A", "bad"),
        audit_rule("B", "ka.verb = get and bad"),
        audit_rule("C", "not bad"),
    ));
    assert_eq!(codes(&loaded), ["E301"]);
    assert!(loaded.ruleset.rules.is_empty());
    assert!(loaded.rules.iter().all(|r| r.status == RuleStatus::Invalid));
}

// ------------------------------------------------------------------- yaml

#[test]
fn a_block_scalar_may_end_the_file_without_a_line_break() {
    // libyaml-safer panics on this input; Lanner must not.
    for style in [">", "|", ">-", "|+"] {
        let loaded = load(&format!(
            "- rule: R\n  desc: d\n  output: o\n  priority: INFO\n  source: k8s_audit\n  condition: {style}\n    ka.verb = create"
        ));
        assert!(codes(&loaded).is_empty(), "{style}: {}", rendered(&loaded));
        assert_eq!(condition(&loaded, "R"), "ka.verb = create");
    }
}

#[test]
fn yaml_the_parser_gives_up_on_is_an_error_not_a_crash() {
    let loaded = load("- rule: R\n  tags: [!,");
    assert_eq!(codes(&loaded), ["E101"]);
}

// ---------------------------------------------------------------- sources

#[test]
fn rules_of_another_source_are_skipped_with_one_warning_per_file() {
    let syscall = "
- macro: spawned
  condition: evt.type = execve and proc.name = sh
- list: shells
  items: [bash, sh]
- rule: Shell
  desc: no source means syscall
  condition: spawned and proc.name in (shells) and container.id != host
  output: shell %proc.name %container.info
  priority: WARNING
- rule: Open
  desc: d
  condition: evt.type = open and fd.nam = x
  output: open
  priority: WARNING
  source: syscall
";
    let loaded = load_files(&[
        ("one.yaml", syscall),
        (
            "two.yaml",
            "- rule: Other\n  desc: d\n  condition: ct.name = x\n  output: o\n  priority: INFO\n  source: aws_cloudtrail\n",
        ),
        ("three.yaml", &audit_rule("Audit", "ka.verb = create")),
    ]);
    assert_no_errors(&loaded);
    // One W101 per file and source; the macro and list used only by
    // syscall rules are neither bound nor reported unused.
    assert_eq!(codes(&loaded), ["W101", "W101"], "{}", rendered(&loaded));
    assert_eq!(names(&loaded), ["Audit"]);
    let statuses: Vec<(&str, &str, RuleStatus)> = loaded
        .rules
        .iter()
        .map(|r| (r.name.as_str(), r.source.as_str(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("Shell", "syscall", RuleStatus::OtherSource),
            ("Open", "syscall", RuleStatus::OtherSource),
            ("Other", "aws_cloudtrail", RuleStatus::OtherSource),
            ("Audit", "k8s_audit", RuleStatus::Loaded),
        ]
    );
}

#[test]
fn a_syntax_error_in_a_rule_of_another_source_is_still_an_error() {
    let loaded = load(
        "- rule: S\n  desc: d\n  condition: evt.type = = open\n  output: o\n  priority: INFO\n",
    );
    assert_only_error(&loaded, Code::E201);
}

// ------------------------------------------------- skip-if-unknown-filter

#[test]
fn skip_if_unknown_filter_turns_an_unknown_field_into_a_warning() {
    let loaded = load(&format!(
        "
- macro: from_node
  condition: ka.node.name exists
- rule: In condition
  desc: d
  condition: ka.verb = create and from_node
  output: o
  priority: NOTICE
  source: k8s_audit
  skip-if-unknown-filter: true
- rule: In output
  desc: d
  condition: ka.verb = create
  output: node=%ka.node.name
  priority: NOTICE
  source: k8s_audit
  skip-if-unknown-filter: true
- rule: Known fields
  desc: d
  condition: ka.verb = create
  output: user=%ka.user.name
  priority: NOTICE
  source: k8s_audit
  skip-if-unknown-filter: yes
{}",
        audit_rule("Plain", "ka.verb = delete")
    ));
    assert_no_errors(&loaded);
    assert_eq!(codes(&loaded), ["W112", "W112"], "{}", rendered(&loaded));
    assert_eq!(names(&loaded), ["Known fields", "Plain"]);
    assert_eq!(loaded.rules[0].status, RuleStatus::SkippedUnknownField);
    assert_eq!(loaded.rules[1].status, RuleStatus::SkippedUnknownField);
}

#[test]
fn skip_if_unknown_filter_does_not_hide_other_errors() {
    let loaded = load(
        "- rule: R\n  desc: d\n  condition: ka.user.groups = x\n  output: o\n  priority: NOTICE\n  source: k8s_audit\n  skip-if-unknown-filter: true\n",
    );
    assert_only_error(&loaded, Code::E304);
}

// ------------------------------------------------------------- priorities

#[test]
fn priorities_are_read_case_insensitively_with_info() {
    let cases = [
        ("EMERGENCY", Priority::Emergency),
        ("alert", Priority::Alert),
        ("Critical", Priority::Critical),
        ("ERROR", Priority::Error),
        ("wArNiNg", Priority::Warning),
        ("notice", Priority::Notice),
        ("INFORMATIONAL", Priority::Informational),
        ("info", Priority::Informational),
        ("Info", Priority::Informational),
        ("DEBUG", Priority::Debug),
    ];
    for (text, expected) in cases {
        let loaded = load(&format!(
            "- rule: R\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: {text}\n  source: k8s_audit\n"
        ));
        assert_no_errors(&loaded);
        assert_eq!(rule(&loaded, "R").priority, expected, "{text}");
    }
    assert_eq!(Priority::Informational.to_string(), "Informational");
}

#[test]
fn abbreviated_priorities_are_errors() {
    for text in ["warn", "crit", "err", "emerg", "INFORMATION", "\"\""] {
        let loaded = load(&format!(
            "- rule: R\n  desc: d\n  condition: ka.verb = create\n  output: o\n  priority: {text}\n  source: k8s_audit\n"
        ));
        assert!(loaded.diagnostics.has_errors(), "{text} accepted");
        assert!(loaded.ruleset.rules.is_empty());
    }
}

// --------------------------------------------------------------- versions

#[test]
fn required_engine_version_accepts_numbers_and_semver_up_to_the_engine() {
    for ok in [
        "2",
        "15",
        "50",
        "0.26.0",
        "0.50.0",
        "0.26.0-rc1",
        "\"0.40.0\"",
    ] {
        let loaded = load(&format!("- required_engine_version: {ok}\n"));
        assert!(codes(&loaded).is_empty(), "{ok}: {}", rendered(&loaded));
    }
    for bad in ["51", "0.51.0", "0.63.0", "1.0.0", "latest", "0.x.0"] {
        let loaded = load(&format!("- required_engine_version: {bad}\n"));
        assert_eq!(codes(&loaded), ["E108"], "{bad}");
    }
    assert_eq!(lanner_rules::ENGINE_VERSION, (0, 50, 0));
}

#[test]
fn required_plugin_versions_are_checked_against_the_provided_fields() {
    let ok = "
- required_plugin_versions:
    - name: k8saudit
      version: 0.6.0
      alternatives:
        - name: k8saudit-eks
          version: 0.1.0
    - name: k8saudit-gke
      version: 0.1.0
      alternatives:
        - name: k8saudit
          version: 0.18.0
    - name: json
      version: 0.7.0
";
    let loaded = load(ok);
    assert!(codes(&loaded).is_empty(), "{}", rendered(&loaded));
    let bad = [
        "[{name: k8saudit, version: 0.19.0}]",
        "[{name: k8saudit, version: 1.0.0}]",
        "[{name: json, version: 0.8.0}]",
        // The first alternative Lanner provides decides.
        "[{name: k8saudit, version: 0.99.0, alternatives: [{name: json, version: 0.1.0}]}]",
        "[{name: cloudtrail, version: 0.1.0}]",
        "[{name: k8saudit, version: \"1\"}]",
        "[{name: k8saudit}]",
        "k8saudit",
    ];
    for text in bad {
        let loaded = load(&format!("- required_plugin_versions: {text}\n"));
        assert_eq!(codes(&loaded), ["E109"], "{text}: {}", rendered(&loaded));
    }
}

// ------------------------------------------------ Falco's own rules files

/// `../shared/falco` next to the repository, if present.
fn falco_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/falco");
    if dir.is_dir() {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

/// Loads the files in order (paths relative to the Falco directory);
/// asserts no errors and returns the number of `k8s_audit` rules loaded.
fn falco_load(dir: &Path, files: &[&str]) -> usize {
    let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
    let loaded = lanner_rules::load_paths(&paths);
    let errors: Vec<String> = loaded
        .diagnostics
        .items()
        .iter()
        .filter(|d| d.severity() == lanner_rules::Severity::Error)
        .map(|d| d.render(&loaded.sources))
        .collect();
    assert!(errors.is_empty(), "{files:?}:\n{}", errors.join("\n"));
    loaded.ruleset.rules.len()
}

fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("directory")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn falco_k8s_audit_rules_load_without_errors() {
    let Some(dir) = falco_dir() else { return };
    assert_eq!(falco_load(&dir, &["rules/k8s_audit_rules.yaml"]), 48);
    assert_eq!(
        falco_load(&dir, &["rules/k8s_audit_rules-falco-repo-last.yaml"]),
        43
    );
    assert_eq!(
        falco_load(&dir, &["rules/k8s_audit_rules-plugin-0.6.0.yaml"]),
        43
    );
    assert_eq!(
        falco_load(&dir, &["rules/k8s_audit_rules-falco-0.31.1.yaml"]),
        39
    );
}

/// Falco's legacy suite (falco 0.34.1 `test/rules/k8s_audit/`): the syscall
/// rules, the k8s audit rules, then one override file; the `engine_v4/`
/// overrides go on top of `engine_v4_k8s_audit_rules.yaml`.
#[test]
fn falco_legacy_suite_combinations_load_without_errors() {
    let Some(dir) = falco_dir() else { return };
    let base = [
        "rules/falco_rules-0.1.0.yaml",
        "rules/k8s_audit_rules-plugin-0.6.0.yaml",
    ];
    // engine_v4_k8s_audit_rules.yaml only redefines rules of plugin 0.6.0.
    suite(&dir, "overrides/legacy-suite", &base, 43, 43);
}

/// The falcosecurity/testing suite: syscall rules 1.0.1, the current k8s
/// audit rules, then one override file.
#[test]
fn falco_testing_suite_combinations_load_without_errors() {
    let Some(dir) = falco_dir() else { return };
    let base = ["rules/falco_rules-1.0.1.yaml", "rules/k8s_audit_rules.yaml"];
    // Four rule names of engine_v4_k8s_audit_rules.yaml are not in today's file.
    suite(&dir, "overrides/testing-suite", &base, 48, 52);
}

/// Loads `base`, then `base` + each override file, then `base` +
/// `engine_v4_k8s_audit_rules.yaml` + each `engine_v4/` file; `v4_total` is
/// the number of rules with the engine v4 file (its rules redefine those
/// of the base with the same name and add the others).
fn suite(dir: &Path, overrides: &str, base: &[&str], base_rules: usize, v4_total: usize) {
    assert_eq!(falco_load(dir, base), base_rules);
    for name in yaml_files(&dir.join(overrides)) {
        let file = format!("{overrides}/{name}");
        let mut files = base.to_vec();
        files.push(&file);
        let loaded = falco_load(dir, &files);
        let expected = match name.as_str() {
            // Adds one rule of its own.
            "single_rule_with_json_pointer.yaml" => base_rules + 1,
            "engine_v4_k8s_audit_rules.yaml" => v4_total,
            _ => base_rules,
        };
        assert_eq!(loaded, expected, "{files:?}");
    }
    let v4 = format!("{overrides}/engine_v4_k8s_audit_rules.yaml");
    for name in yaml_files(&dir.join(overrides).join("engine_v4")) {
        let file = format!("{overrides}/engine_v4/{name}");
        let mut files = base.to_vec();
        files.push(&v4);
        files.push(&file);
        assert_eq!(falco_load(dir, &files), v4_total, "{files:?}");
        // The engine v4 rules alone, then the override.
        assert_eq!(
            falco_load(dir, &[v4.as_str(), file.as_str()]),
            32,
            "{v4} + {file}"
        );
    }
}

/// `concat`, `join` and `getopt` load where Falco 0.44 loads them, and the misuses Falco
/// rejects are errors naming the transformer.
#[test]
fn transformers_of_several_values_are_checked() {
    let good = [
        r#"concat(ka.user.name, "@", ka.target.namespace) = "a@b""#,
        r"concat(ka.user.name, 1, toupper(ka.verb)) startswith a",
        r#"join(",", ka.user.groups) = "a,b""#,
        r#"join(ka.verb, (ka.user.groups, ka.user.name, "x", 2, evt.num)) contains ",""#,
        r#"join(",", ()) = """#,
        r#"join(",", (getopt(("-a"), "a"))) = a"#,
        r#"getopt(ka.user.groups, "n:")[n] in (a, b)"#,
        r#"getopt(("-n", ka.user.name), ka.verb) intersects (n)"#,
        r#"ka.user.name = concat(ka.verb, "x")"#,
        r#"ka.user.groups intersects getopt(("-a"), "a")"#,
    ];
    for condition in good {
        let loaded = load(&audit_rule("R", condition));
        assert!(
            codes(&loaded).is_empty(),
            "{condition}: {}",
            rendered(&loaded)
        );
    }
    let bad = [
        (
            r"concat(ka.user.name) = a",
            "E308",
            "`concat` takes two or more values",
        ),
        (
            r#"concat(ka.user.groups, "x") = a"#,
            "E308",
            "not a list-of-string value",
        ),
        (
            r#"concat(evt.num, "x") = a"#,
            "E308",
            "takes a string here, not a numeric value",
        ),
        (
            r#"concat(("a", "b"), "x") = a"#,
            "E308",
            "single value here, not a list",
        ),
        (
            r#"concat(ka.user.name, "x")[a] = a"#,
            "E308",
            "does not take an argument in brackets",
        ),
        (
            r#"join(",") = a"#,
            "E308",
            "`join` takes a separator and a list",
        ),
        (
            r#"join(",", ("a"), ("b")) = a"#,
            "E308",
            "`join` takes a separator and a list",
        ),
        (
            r#"join(ka.user.groups, ("a")) = a"#,
            "E308",
            "not a list-of-string value",
        ),
        (r#"join(",", "a") = a"#, "E308", "`join` takes a list here"),
        (
            r#"join(",", getopt(("-a"), "a")) = a"#,
            "E308",
            "`join` takes a list here",
        ),
        (
            r#"join(",", (("a"))) = a"#,
            "E308",
            "lists inside a transformer's list",
        ),
        (
            r#"getopt(("-a")) exists"#,
            "E308",
            "`getopt` takes a list of arguments",
        ),
        (
            r#"getopt("-a", "a") exists"#,
            "E308",
            "`getopt` takes a list here",
        ),
        (
            r#"getopt(("-a"), ("a")) exists"#,
            "E308",
            "single value here, not a list",
        ),
        (
            r#"getopt(("-a"), "a")[ab] = a"#,
            "E308",
            "selects one option character",
        ),
        (
            r#"getopt(("-a"), "a") = a"#,
            "E304",
            "not supported on a list-valued field",
        ),
        (
            r#"concat(ka.verb, "x") bcontains 41"#,
            "E304",
            "compares byte buffers",
        ),
        (
            r#"ka.verb in getopt(("-a"), "a")"#,
            "E309",
            "cannot compare a string field with a list-of-string field",
        ),
        (
            r#"getopt(("-a"), "a") contains a"#,
            "E304",
            "not supported on a list-valued field",
        ),
        (
            r#"toupper(getopt(("-a"), "a")) startswith a"#,
            "E304",
            "not supported on a list-valued field",
        ),
        (
            r#"join(",", toupper(getopt(("-a"), "a"))) = a"#,
            "E308",
            "`join` takes a list here",
        ),
        (
            r"tolower(ka.verb, ka.user.name) = a",
            "E308",
            "takes exactly one field",
        ),
    ];
    let deep = format!(
        "{}ka.user.name{} = a",
        "toupper(".repeat(65),
        ")".repeat(65)
    );
    let deep_concat = format!(
        "{}ka.user.name{} = a",
        "concat(\"x\", ".repeat(65),
        ")".repeat(65)
    );
    let bad = bad.into_iter().chain([
        (
            deep.as_str(),
            "E308",
            "transformers nest deeper than 64 levels",
        ),
        (
            deep_concat.as_str(),
            "E308",
            "transformers nest deeper than 64 levels",
        ),
    ]);
    for (condition, code, message) in bad {
        let loaded = load(&audit_rule("R", condition));
        assert_eq!(codes(&loaded), [code], "{condition}: {}", rendered(&loaded));
        assert!(
            rendered(&loaded).contains(message),
            "{condition}: {}",
            rendered(&loaded)
        );
    }
}

/// An output token's `output_fields` keys are the fields it reads, as written, in the
/// order of `Operand::fields` (the engine pairs them up by position).
#[test]
fn output_keys_follow_the_fields_a_token_reads() {
    let text = "- rule: R\n  desc: d\n  condition: ka.verb = get\n  output: >\n    %concat(toupper(ka.user.name), \"@\", ka.target.namespace)\n    %join(ka.verb, (ka.user.groups, \"x\", len(ka.target.name)))\n    %getopt((\"-u\", ka.impuser.name), ka.target.subresource)[u]\n    %tolower(ka.req.pod.containers.image[0]) %ka.verb\n  priority: NOTICE\n  source: k8s_audit\n";
    let loaded = load(text);
    assert!(codes(&loaded).is_empty(), "{}", rendered(&loaded));
    let parts: Vec<(Vec<String>, Vec<&str>)> = rule(&loaded, "R")
        .output
        .iter()
        .filter_map(|part| match part {
            OutputPart::Field { operand, keys, .. } => Some((
                keys.clone(),
                operand.fields().iter().map(|(f, _)| f.def().name).collect(),
            )),
            OutputPart::Text(_) => None,
        })
        .collect();
    let want: [&[&str]; 5] = [
        &["ka.user.name", "ka.target.namespace"],
        &["ka.verb", "ka.user.groups", "ka.target.name"],
        &["ka.impuser.name", "ka.target.subresource"],
        &["ka.req.pod.containers.image[0]"],
        &["ka.verb"],
    ];
    assert_eq!(parts.len(), want.len());
    for ((keys, fields), want) in parts.iter().zip(want) {
        assert_eq!(keys, want);
        let names: Vec<&str> = want
            .iter()
            .map(|k| k.split('[').next().unwrap_or(k))
            .collect();
        assert_eq!(fields, &names);
    }
}
