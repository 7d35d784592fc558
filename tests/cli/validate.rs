//! `lanner validate`, `lanner list`, `lanner fields`.

use crate::common::{arg, falco_dir, lanner, stderr, stdout};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path
}

const GOOD: &str = "- rule: R\n  desc: d\n  condition: ka.verb = get\n  output: o %ka.user.name\n  priority: INFO\n  source: k8s_audit\n  tags: [b, a]\n";

#[test]
fn validate_exits_0_on_valid_rules_and_1_on_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(&dir, "good.yaml", GOOD);
    let out = lanner(&["validate", "-r", arg(&good)], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("ok: 0 errors"), "{}", stderr(&out));

    let bad = write(
        &dir,
        "bad.yaml",
        "- rule: R\n  desc: d\n  condition: ka.verb = get and ka.usr.name = x\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
    );
    let out = lanner(&["validate", "-r", arg(&bad)], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("error[E301]: unknown field `ka.usr.name`"),
        "{err}"
    );
    assert!(err.contains("bad.yaml:3:32"), "{err}");
    assert!(err.contains("did you mean `ka.user.name`?"), "{err}");
}

#[test]
fn warnings_alone_do_not_fail_validation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        &dir,
        "warn.yaml",
        &format!("{GOOD}- macro: unused\n  condition: ka.verb = get\n"),
    );
    let out = lanner(&["validate", "-r", arg(&path)], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("warning[W102]"), "{}", stderr(&out));
}

#[test]
fn validate_json_lists_diagnostics_with_positions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = write(
        &dir,
        "bad.yaml",
        "- rule: R\n  desc: d\n  condition: ka.verb = = get\n  output: o\n  priority: INFO\n  source: k8s_audit\n",
    );
    let out = lanner(&["validate", "--format", "json", "-r", arg(&bad)], None);
    assert_eq!(out.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(doc["errors"], 1);
    let d = &doc["diagnostics"][0];
    assert_eq!(d["code"], "E201");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["location"]["line"], 3);
    assert_eq!(d["location"]["column"], 24);
    assert_eq!(d["context"][0], "in rule `R`");
}

#[test]
fn rules_load_in_the_order_given() {
    let dir = tempfile::tempdir().expect("tempdir");
    let base = write(&dir, "base.yaml", GOOD);
    let over = write(
        &dir,
        "over.yaml",
        "- rule: R\n  priority: CRITICAL\n  override:\n    priority: replace\n",
    );
    let out = lanner(
        &[
            "list",
            "--format",
            "json",
            "-r",
            arg(&base),
            "-r",
            arg(&over),
        ],
        None,
    );
    let rules: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(rules[0]["priority"], "Critical");
    let out = lanner(
        &[
            "list",
            "--format",
            "json",
            "-r",
            arg(&over),
            "-r",
            arg(&base),
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "override before its rule is an error"
    );
}

#[test]
fn list_json_gives_each_rule() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = write(&dir, "good.yaml", GOOD);
    let out = lanner(&["list", "--format", "json", "-r", arg(&good)], None);
    let rules: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(rules[0]["name"], "R");
    assert_eq!(rules[0]["priority"], "Informational");
    assert_eq!(rules[0]["source"], "k8s_audit");
    assert_eq!(rules[0]["enabled"], true);
    assert_eq!(rules[0]["tags"], serde_json::json!(["a", "b"]));
    assert_eq!(rules[0]["status"], "loaded");
}

#[test]
fn fields_json_lists_the_catalog() {
    let out = lanner(&["fields", "--format", "json"], None);
    let fields: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let fields = fields.as_array().expect("array");
    assert!(fields.len() >= 106, "{}", fields.len());
    let groups = fields
        .iter()
        .find(|f| f["name"] == "ka.user.groups")
        .expect("ka.user.groups");
    assert_eq!(groups["list"], true);
    let value = fields
        .iter()
        .find(|f| f["name"] == "jevt.value")
        .expect("jevt.value");
    assert_eq!(value["arg"], "json_pointer");
}

#[test]
fn falcos_rules_validate_without_errors() {
    let Some(falco) = falco_dir("falcos_rules_validate") else {
        return;
    };
    let rules = falco.join("rules/k8s_audit_rules.yaml");
    let out = lanner(&["validate", "-r", arg(&rules)], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

/// Rules files built to exhaust memory or the stack get errors, not crashes.
#[test]
fn hostile_rules_files_are_errors_not_crashes() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let rule = |cond: &str, output: &str| {
        format!(
            "- rule: R\n  desc: d\n  condition: {cond}\n  output: \"{output}\"\n  priority: INFO\n  source: k8s_audit\n"
        )
    };
    let mut chain = String::from("- macro: m0\n  condition: ka.verb = a\n");
    for i in 1..=3000 {
        let _ = writeln!(chain, "- macro: m{i}\n  condition: m{}", i - 1);
    }
    chain.push_str(&rule("m3000", "o"));
    let mut lists = String::from("- list: l0\n  items: [a, b]\n");
    for i in 1..=40 {
        let _ = writeln!(lists, "- list: l{i}\n  items: [l{0}, l{0}]", i - 1);
    }
    lists.push_str(&rule("ka.verb in (l40)", "o"));
    let mut laughs = String::from("- list: x0\n  items: &a0 [a, b, c, d, e, f, g, h, i, j]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        let _ = writeln!(laughs, "- list: x{i}\n  items: &a{i} [{refs}]");
    }
    let cases = [
        ("chain", chain, "E312"),
        ("lists", lists, "E312"),
        ("laughs", laughs, "E101"),
        (
            "width",
            rule("ka.verb = a", "a %999999999999999ka.verb"),
            "E402",
        ),
        ("nbsp", rule("ka.verb = a", "a %\u{a0}x"), "E402"),
    ];
    for (name, text, code) in cases {
        let path = write(&dir, &format!("{name}.yaml"), &text);
        let out = lanner(&["validate", "-r", arg(&path)], None);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert!(stderr(&out).contains(code), "{name}: {}", stderr(&out));
    }
}
