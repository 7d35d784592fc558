//! Lanner's built-in ruleset: it loads without warnings, its tests pass,
//! every rule is tested and tagged, and `docs/rules.md` is generated from it.
//! Regenerate the page with `LANNER_BLESS=1 cargo test --test cli rules_doc`.
//!
//! The page comes from `lanner list --format json` (name, priority, tags,
//! whether enabled, description, exception names) plus a plain text scan of
//! `rules/*.yaml` for what `list` does not say: each exception's fields and
//! the allowlist macros and lists a rule's condition reaches. The scan relies
//! on the files' layout (items start at column 0, keys are indented by two
//! spaces), which the files keep.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use crate::common::{lanner, root, stderr, stdout};

#[test]
fn builtin_rules_validate_without_warnings() {
    let out = lanner(&["validate", "--format", "json", "-r", "rules"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(doc["errors"], 0, "{}", stdout(&out));
    assert_eq!(doc["warnings"], 0, "{}", stdout(&out));
}

#[test]
fn builtin_rule_tests_pass() {
    let out = lanner(&["test", "rules/"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains(" 0 failed"), "{}", stdout(&out));
}

#[test]
fn every_builtin_rule_has_two_firing_cases_and_two_near_misses() {
    let counts = test_case_counts(&root().join("rules/tests"));
    let mut problems = Vec::new();
    for rule in builtin_rules() {
        let name = rule["name"].as_str().unwrap_or_default();
        match counts.get(name) {
            None => problems.push(format!("{name}: no test cases")),
            Some(&(fires, misses)) if fires < 2 || misses < 2 => {
                problems.push(format!(
                    "{name}: {fires} firing cases and {misses} near misses"
                ));
            }
            Some(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "rules/tests/*.test.yaml:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_builtin_rule_is_tagged_with_mitre_attack() {
    let mut problems = Vec::new();
    for rule in builtin_rules() {
        let name = rule["name"].as_str().unwrap_or_default();
        let tags: Vec<&str> = rule["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let technique = tags.iter().any(|t| {
            t.len() >= 5 && t.starts_with('T') && t[1..5].bytes().all(|b| b.is_ascii_digit())
        });
        let tactic = tags.iter().any(|t| t.starts_with("mitre_"));
        if !technique || !tactic || !tags.contains(&"k8s") {
            problems.push(format!("{name}: tags {tags:?}"));
        }
        if rule["desc"].as_str().unwrap_or_default().trim().len() < 80 {
            problems.push(format!(
                "{name}: the description is too short to say what and why"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn rules_md_matches_the_builtin_rules() {
    let path = root().join("docs/rules.md");
    let want = render(&builtin_rules(), &scan_rules_files(&root().join("rules")));
    if std::env::var_os("LANNER_BLESS").is_some() {
        std::fs::write(&path, &want).expect("write docs/rules.md");
        return;
    }
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        have == want,
        "{} is stale; run LANNER_BLESS=1 cargo test --test cli rules_doc",
        path.display()
    );
}

/// The built-in rules, as `lanner list --format json` gives them.
fn builtin_rules() -> Vec<Value> {
    let out = lanner(&["list", "--format", "json"], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    doc.as_array().expect("an array of rules").clone()
}

// ---------------------------------------------------------------------------
// Test files: how many cases each rule has
// ---------------------------------------------------------------------------

/// Per rule: (cases that must fire, cases that must not), over every
/// `*.test.yaml` in `dir`.
fn test_case_counts(dir: &Path) -> BTreeMap<String, (usize, usize)> {
    let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/tests")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read test file");
        let (mut rule, mut section) = (None::<String>, None::<bool>);
        for line in text.lines() {
            if let Some(name) = line.strip_prefix("- rule: ") {
                rule = Some(unquote(name).to_owned());
                section = None;
            } else if line.starts_with("- ") {
                rule = None;
            } else if line == "  fires:" {
                section = Some(true);
            } else if line == "  does_not_fire:" {
                section = Some(false);
            } else if line.starts_with("    - ") {
                if let (Some(rule), Some(fires)) = (&rule, section) {
                    let entry = counts.entry(rule.clone()).or_default();
                    if fires {
                        entry.0 += 1;
                    } else {
                        entry.1 += 1;
                    }
                }
            }
        }
    }
    counts
}

// ---------------------------------------------------------------------------
// Rules files: conditions, exceptions, macros, lists
// ---------------------------------------------------------------------------

/// One `- rule:`, `- macro:` or `- list:` item of a rules file.
#[derive(Debug, Default)]
struct Item {
    condition: String,
    /// (name, fields, comps) of each exception.
    exceptions: Vec<(String, Vec<String>, Vec<String>)>,
}

#[derive(Debug, Default)]
struct Scan {
    rules: BTreeMap<String, Item>,
    macros: BTreeMap<String, Item>,
    lists: BTreeSet<String>,
}

fn scan_rules_files(dir: &Path) -> Scan {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("rules/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut scan = Scan::default();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read rules file");
        let mut blocks: Vec<Vec<&str>> = Vec::new();
        for line in text.lines() {
            if line.starts_with("- ") {
                blocks.push(vec![line]);
            } else if let Some(block) = blocks.last_mut() {
                block.push(line);
            }
        }
        for block in blocks {
            let head = block[0];
            if let Some(name) = head.strip_prefix("- rule: ") {
                scan.rules
                    .insert(unquote(name).to_owned(), read_item(&block));
            } else if let Some(name) = head.strip_prefix("- macro: ") {
                scan.macros
                    .insert(name.trim().to_owned(), read_item(&block));
            } else if let Some(name) = head.strip_prefix("- list: ") {
                scan.lists.insert(name.trim().to_owned());
            }
        }
    }
    scan
}

/// The condition text and the exceptions of an item's lines.
fn read_item(block: &[&str]) -> Item {
    let mut item = Item::default();
    let mut section = "";
    for line in &block[1..] {
        let indent = line.len() - line.trim_start().len();
        let trimmed = line.trim();
        if indent == 2 && !trimmed.is_empty() {
            let (key, rest) = trimmed.split_once(':').unwrap_or((trimmed, ""));
            section = key;
            if key == "condition" {
                item.condition
                    .push_str(rest.trim().trim_start_matches(['>', '|']));
                item.condition.push(' ');
            }
            continue;
        }
        match section {
            "condition" => {
                item.condition.push_str(trimmed);
                item.condition.push(' ');
            }
            "exceptions" => read_exception_line(&mut item.exceptions, indent, trimmed),
            _ => {}
        }
    }
    item
}

fn read_exception_line(
    exceptions: &mut Vec<(String, Vec<String>, Vec<String>)>,
    indent: usize,
    line: &str,
) {
    if let Some(name) = line.strip_prefix("- name: ").filter(|_| indent == 4) {
        exceptions.push((name.trim().to_owned(), Vec::new(), Vec::new()));
        return;
    }
    let Some((_, fields, comps)) = exceptions.last_mut() else {
        return;
    };
    let values = |text: &str| -> Vec<String> {
        let text = text.trim();
        let inner = text
            .strip_prefix('[')
            .and_then(|t| t.strip_suffix(']'))
            .unwrap_or(text);
        inner
            .split(", ")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect()
    };
    if let Some(rest) = line.strip_prefix("fields:") {
        fields.extend(values(rest));
    } else if let Some(rest) = line.strip_prefix("comps:") {
        comps.extend(values(rest));
    } else if let Some(value) = line.strip_prefix("- ").filter(|_| indent == 8) {
        // A block list under `fields:` (used when a field has brackets).
        fields.push(value.trim().to_owned());
    }
}

/// Every `lanner_*` macro and list a condition reaches, through macros.
fn reachable(condition: &str, scan: &Scan) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut macros, mut lists) = (BTreeSet::new(), BTreeSet::new());
    let mut todo: Vec<String> = names(condition);
    while let Some(name) = todo.pop() {
        if let Some(m) = scan.macros.get(&name) {
            if macros.insert(name) {
                todo.extend(names(&m.condition));
            }
        } else if scan.lists.contains(&name) {
            lists.insert(name);
        }
    }
    (macros, lists)
}

/// The `lanner_*` words of a condition.
fn names(condition: &str) -> Vec<String> {
    condition
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.starts_with("lanner_"))
        .map(str::to_owned)
        .collect()
}

fn unquote(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

const INTRO: &str = "# Lanner's default rules

<!-- Generated from rules/*.yaml by tests/cli/rules_doc.rs; do not edit by hand.
     Regenerate with: LANNER_BLESS=1 cargo test --test cli rules_doc -->

Lanner ships with its own ruleset for Kubernetes audit logs, embedded in the
binary: `lanner run` uses it when no `-r` is given. The files are in
[`rules/`](../rules), loaded in name order, and every rule has events that must
fire it and near misses that must not in [`rules/tests/`](../rules/tests)
(`lanner test rules/`; see [testing-rules.md](testing-rules.md)).

Rules look at the last stage of each request (`ResponseComplete`), and at
requests the API server carried out, except where the refusal is the point
(`Request Forbidden`). Streaming requests (exec, attach, port-forward) are
reported when the session opens (`ResponseStarted`); see the macro
`lanner_stream_stage`.

Pod rules check pods that people and tools create, and debug containers added
to running pods. Pods that the built-in controllers create from a Deployment,
DaemonSet, StatefulSet, ReplicaSet, Job or CronJob are not checked again: the
*Pod Template* rules check the template when someone writes it, and name that
someone. If your audit policy does not record the bodies of those workloads,
replace the macro `lanner_allowed_pod_creator` (see its comment).

## Priorities

| Priority | Meaning in this ruleset |
|---|---|
| Critical | The cluster is open to everyone. |
| Error | A direct path to a node or to cluster admin was opened, or a defense removed. |
| Warning | A risky change that attackers use and clusters rarely need. |
| Notice | Interactive and credential activity worth a line in the record. |
| Informational | The activity change log (disabled by default). |

## Tuning

Put your changes in a file loaded after the built-in rules
(`lanner run -r rules/ -r local.yaml`, or a later file in the same
directory); do not edit the shipped files.

- **Lists named `lanner_trusted_*`** are allowlists: extend them.

  ```yaml
  - list: lanner_trusted_users
    items: [ci-deployer, alice@example.com]
    override: {items: append}
  ```

- **Macros named `lanner_allowed_*`** decide what a rule lets through; replace
  one to change the logic.

  ```yaml
  - macro: lanner_allowed_pod
    condition: ka.target.namespace in (node-agents) and lanner_pod_images_trusted
    override: {condition: replace}
  ```

- **Exceptions**: every rule has named exceptions without values; append
  values for a precise, per-rule allowlist.

  ```yaml
  - rule: Privileged Container in Pod
    exceptions:
      - name: namespace_images
        values:
          - [monitoring, [quay.io/prometheus/node-exporter]]
    override: {exceptions: append}
  ```

- **Other lists** (sensitive host paths, dangerous capabilities, privileged
  roles, credential markers, system namespaces) define what is risky; extend
  or replace them the same way.

- **The activity family** is disabled; enable it with
  `lanner run --include-tag activity`, or one rule with
  `{rule: Secret Deleted, enabled: true, override: {enabled: replace}}`.
  Disable any rule with `-D NAME` or a whole tag with `-T TAG`.

";

fn render(rules: &[Value], scan: &Scan) -> String {
    let mut out = String::from(INTRO);
    out.push_str("## Rules\n\n| Rule | Priority | Enabled | File |\n|---|---|---|---|\n");
    for rule in rules {
        let name = rule["name"].as_str().unwrap_or_default();
        let _ = writeln!(
            out,
            "| [{name}](#{}) | {} | {} | `{}` |",
            anchor(name),
            rule["priority"].as_str().unwrap_or_default(),
            if rule["enabled"].as_bool().unwrap_or(false) {
                "yes"
            } else {
                "no"
            },
            file_of(rule),
        );
    }
    let mut file = String::new();
    for rule in rules {
        if file_of(rule) != file {
            file = file_of(rule);
            let _ = write!(out, "\n## `{file}`\n");
        }
        render_rule(&mut out, rule, scan);
    }
    out
}

fn render_rule(out: &mut String, rule: &Value, scan: &Scan) {
    let name = rule["name"].as_str().unwrap_or_default();
    let tags: Vec<String> = rule["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(|t| format!("`{t}`"))
        .collect();
    let desc = rule["desc"]
        .as_str()
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let _ = write!(
        out,
        "\n### {name}\n\n- **Priority:** {}\n- **Enabled by default:** {}\n- **Tags:** {}\n\n{desc}\n\n",
        rule["priority"].as_str().unwrap_or_default(),
        if rule["enabled"].as_bool().unwrap_or(false) {
            "yes"
        } else {
            "no (tag `activity`)"
        },
        tags.join(" "),
    );
    let item = scan.rules.get(name);
    let (macros, lists) = item
        .map(|i| reachable(&i.condition, scan))
        .unwrap_or_default();
    let mut tuning = Vec::new();
    for (ex, fields, comps) in item.map(|i| i.exceptions.as_slice()).unwrap_or_default() {
        let on: Vec<String> = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let comp = comps
                    .get(i)
                    .map_or(if fields.len() == 1 { "in" } else { "=" }, String::as_str);
                format!("`{f}` {comp}")
            })
            .collect();
        tuning.push(format!("exception `{ex}`: {}", on.join(", ")));
    }
    let allowed: Vec<String> = macros
        .iter()
        .filter(|m| m.starts_with("lanner_allowed_"))
        .map(|m| format!("`{m}`"))
        .collect();
    if !allowed.is_empty() {
        tuning.push(format!("allowlist macros: {}", allowed.join(", ")));
    }
    let trusted: Vec<String> = lists
        .iter()
        .filter(|l| l.starts_with("lanner_trusted_"))
        .map(|l| format!("`{l}`"))
        .collect();
    if !trusted.is_empty() {
        tuning.push(format!("allowlists: {}", trusted.join(", ")));
    }
    let other: Vec<String> = lists
        .iter()
        .filter(|l| !l.starts_with("lanner_trusted_"))
        .map(|l| format!("`{l}`"))
        .collect();
    if !other.is_empty() {
        tuning.push(format!("other lists it reads: {}", other.join(", ")));
    }
    out.push_str("**Tuning:**\n\n");
    for line in tuning {
        let _ = writeln!(out, "- {line}");
    }
}

/// `rules/10-workloads.yaml` from `builtin:rules/10-workloads.yaml:16`.
fn file_of(rule: &Value) -> String {
    let location = rule["location"].as_str().unwrap_or_default();
    let path = location.strip_prefix("builtin:").unwrap_or(location);
    path.rsplit_once(':').map_or(path, |(p, _)| p).to_owned()
}

/// GitHub's heading anchor: lower case, spaces to dashes, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c.to_ascii_lowercase()),
            _ => None,
        })
        .collect()
}
