//! `lanner explain`: golden tests of the rendered tree.

use crate::common::{arg, lanner, stderr, stdout};

const RULES: &str = r#"- list: shells
  items: [sh, bash]
- macro: kexec
  condition: ka.verb = create and ka.target.subresource in (exec, attach)
- rule: Shell In Pod
  desc: a shell was started in a pod
  condition: kexec and ka.uri.param[command] in (shells) and not ka.user.name startswith "system:"
  output: shell by %ka.user.name
  priority: WARNING
  source: k8s_audit
"#;

const EVENT: &str = r#"{"kind":"Event","auditID":"1","stage":"ResponseComplete","verb":"create","user":{"username":"alice"},"requestURI":"/api/v1/namespaces/prod/pods/web/exec?command=bash&stdin=true","objectRef":{"resource":"pods","name":"web","subresource":"exec"},"stageTimestamp":"2024-05-01T12:00:00Z"}"#;

fn explain(event: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).expect("write");
    let out = lanner(
        &["explain", "-r", arg(&rules), "--rule", "Shell In Pod", "-"],
        Some(event.as_bytes()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).replace(arg(&rules), "rules.yaml")
}

#[test]
fn explain_shows_why_a_rule_fires() {
    assert_eq!(
        explain(EVENT),
        "\
rule `Shell In Pod` (rules.yaml:5): fires
true  and
├─ true  macro kexec
│  └─ true  and
│     ├─ true  ka.verb = create    [value: create]
│     └─ true  ka.target.subresource in (exec, attach)    [value: exec]
├─ true  ka.uri.param[command] in (shells)    [value: bash]
└─ true  not
   └─ false ka.user.name startswith \"system:\"    [value: alice]
"
    );
}

#[test]
fn explain_shows_why_a_rule_does_not_fire() {
    let event = EVENT
        .replace("alice", "system:admin")
        .replace("command=bash", "command=ls");
    assert_eq!(
        explain(&event),
        "\
rule `Shell In Pod` (rules.yaml:5): does not fire
false and
├─ true  macro kexec
│  └─ true  and
│     ├─ true  ka.verb = create    [value: create]
│     └─ true  ka.target.subresource in (exec, attach)    [value: exec]
├─ false ka.uri.param[command] in (shells)    [value: ls]
└─ false not
   └─ true  ka.user.name startswith \"system:\"    [value: system:admin]
"
    );
}

#[test]
fn explain_names_close_rules_when_the_name_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rules = dir.path().join("rules.yaml");
    std::fs::write(&rules, RULES).expect("write");
    let out = lanner(
        &["explain", "-r", arg(&rules), "--rule", "shell", "-"],
        Some(EVENT.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `Shell In Pod`?"),
        "{}",
        stderr(&out)
    );
}
