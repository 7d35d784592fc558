//! `lanner run`: inputs, bad lines, alert formats, options.

use crate::common::{arg, falco_dir, lanner, stderr, stdout};

#[test]
fn non_audit_line_is_reported_with_its_line_and_the_run_succeeds() {
    let Some(falco) = falco_dir("non_audit_line") else {
        return;
    };
    let trace = falco.join("traces/k8s_audit/fal_01_003.json");
    let out = lanner(
        &[
            "run",
            "-r",
            arg(&falco.join("rules/k8s_audit_rules.yaml")),
            arg(&trace),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("fal_01_003.json:1: not a Kubernetes audit event"),
        "{err}"
    );
    assert!(err.contains("1 rejected lines"), "{err}");
    assert_eq!(stdout(&out), "");
}

const RULES: &str = r"
- macro: kexec
  condition: ka.verb = create and ka.target.subresource = exec
- rule: Exec Into Pod
  desc: exec
  condition: kexec
  output: exec by %ka.user.name into %ka.target.namespace/%ka.target.name groups=%ka.user.groups
  priority: NOTICE
  source: k8s_audit
  tags: [k8s, exec]
- rule: Any Create
  desc: any create
  condition: ka.verb = create
  output: create by %ka.user.name
  priority: INFO
  source: k8s_audit
  tags: [activity]
";

const EXEC_EVENT: &str = r#"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"a1","stage":"ResponseComplete","verb":"create","user":{"username":"alice","groups":["dev","system:authenticated"]},"objectRef":{"resource":"pods","namespace":"prod","name":"web","subresource":"exec"},"stageTimestamp":"2024-05-01T12:00:00.123456789Z"}"#;

fn rules_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut file, RULES.as_bytes()).expect("write rules");
    file
}

#[test]
fn stdin_events_alert_in_text_form_with_the_first_matching_rule() {
    let rules = rules_file();
    let out = lanner(
        &["run", "-r", arg(rules.path())],
        Some(format!("{EXEC_EVENT}\n").as_bytes()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "12:00:00.123456789: Notice exec by alice into prod/web groups=(dev,system:authenticated)\n"
    );
}

#[test]
fn rule_matching_all_gives_one_alert_per_matching_rule() {
    let rules = rules_file();
    let out = lanner(
        &[
            "run",
            "-r",
            arg(rules.path()),
            "--rule-matching",
            "all",
            "-",
        ],
        Some(EXEC_EVENT.as_bytes()),
    );
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[1].ends_with("Informational create by alice"),
        "{lines:?}"
    );
}

#[test]
fn rule_selection_options_change_which_rules_run() {
    let rules = rules_file();
    let run = |extra: &[&str]| {
        let mut args = vec!["run", "-r", arg(rules.path()), "--rule-matching", "all"];
        args.extend_from_slice(extra);
        stdout(&lanner(&args, Some(EXEC_EVENT.as_bytes())))
            .lines()
            .count()
    };
    assert_eq!(run(&["--min-priority", "notice"]), 1);
    assert_eq!(run(&["-D", "Exec*"]), 1);
    assert_eq!(run(&["-T", "activity"]), 1);
    assert_eq!(run(&["-t", "exec"]), 1);
    assert_eq!(run(&["-D", "*"]), 0);
}

#[test]
fn json_alerts_have_falcos_keys_and_types() {
    let rules = rules_file();
    let out = lanner(
        &["run", "-r", arg(rules.path()), "--format", "json"],
        Some(EXEC_EVENT.as_bytes()),
    );
    let alert: serde_json::Value =
        serde_json::from_str(stdout(&out).trim()).expect("one JSON alert");
    let keys: Vec<&str> = alert
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "hostname",
            "output",
            "output_fields",
            "priority",
            "rule",
            "source",
            "tags",
            "time"
        ]
    );
    assert_eq!(alert["hostname"], "test-host");
    assert_eq!(alert["priority"], "Notice");
    assert_eq!(alert["rule"], "Exec Into Pod");
    assert_eq!(alert["source"], "k8s_audit");
    assert_eq!(alert["tags"], serde_json::json!(["exec", "k8s"]));
    assert_eq!(alert["time"], "2024-05-01T12:00:00.123456789Z");
    let fields = &alert["output_fields"];
    assert_eq!(fields["evt.time"], 1_714_564_800_123_456_789_i64);
    assert_eq!(fields["ka.user.name"], "alice");
    assert_eq!(
        fields["ka.user.groups"],
        serde_json::json!(["dev", "system:authenticated"])
    );
    assert!(
        alert["output"]
            .as_str()
            .expect("output")
            .starts_with("12:00:00.123456789: Notice exec by alice")
    );
}

#[test]
fn gzip_input_is_recognised_by_its_magic_bytes() {
    use std::io::Write as _;
    let rules = rules_file();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("audit.log");
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).expect("create"),
        flate2::Compression::fast(),
    );
    writeln!(gz, "{EXEC_EVENT}").expect("write");
    gz.finish().expect("finish");
    let out = lanner(&["run", "-r", arg(rules.path()), arg(&path)], None);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn bad_lines_are_reported_and_the_good_ones_still_alert() {
    let rules = rules_file();
    let input = format!(
        "not json\n{{\"kind\": 0}}\n{EXEC_EVENT}\n{}\n",
        &EXEC_EVENT[..40]
    );
    let out = lanner(&["run", "-r", arg(rules.path())], Some(input.as_bytes()));
    assert!(out.status.success());
    let err = stderr(&out);
    assert!(err.contains("<stdin>:1: "), "{err}");
    assert!(
        err.contains("<stdin>:2: not a Kubernetes audit event"),
        "{err}"
    );
    assert!(err.contains("<stdin>:4: "), "{err}");
    assert!(err.contains("3 rejected lines"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 1);
}

#[test]
fn missing_input_file_exits_2_after_processing_the_others() {
    let rules = rules_file();
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.log");
    std::fs::write(&good, EXEC_EVENT).expect("write");
    // Inline (one worker) and with workers reading batches in turn.
    for workers in ["1", "3"] {
        let out = lanner(
            &[
                "run",
                "-r",
                arg(rules.path()),
                "--workers",
                workers,
                "/nonexistent/audit.log",
                arg(&good),
                "/nonexistent/other.log",
                arg(&good),
            ],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{workers} workers");
        assert!(stderr(&out).contains("/nonexistent/audit.log"));
        assert!(stderr(&out).contains("/nonexistent/other.log"));
        assert_eq!(stdout(&out).lines().count(), 2, "{workers} workers");
    }
}

#[test]
fn rules_that_fail_to_load_exit_1_without_reading_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "- rule: x\n  desc: d\n  condition: ka.nope = 1\n  output: o\n  priority: INFO\n  source: k8s_audit\n").expect("write");
    let out = lanner(&["run", "-r", arg(&bad)], Some(EXEC_EVENT.as_bytes()));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("E301"), "{}", stderr(&out));
}

#[test]
fn privileged_pod_json_alert_matches_falcos_shape() {
    let Some(falco) = falco_dir("privileged_pod_json_alert") else {
        return;
    };
    let out = lanner(
        &[
            "run",
            "--format",
            "json",
            "-r",
            arg(&falco.join("rules/k8s_audit_rules.yaml")),
            arg(&falco.join("traces/k8s_audit/create_nginx_pod_privileged.json")),
        ],
        None,
    );
    let alert: serde_json::Value =
        serde_json::from_str(stdout(&out).trim()).expect("one JSON alert");
    assert_eq!(alert["rule"], "Create Privileged Pod");
    assert_eq!(alert["priority"], "Warning");
    assert_eq!(alert["source"], "k8s_audit");
    assert_eq!(alert["tags"], serde_json::json!(["k8s"]));
    let fields = alert["output_fields"].as_object().expect("output_fields");
    assert!(fields["evt.time"].is_i64());
    assert_eq!(
        fields["ka.user.name"],
        "system:serviceaccount:kube-system:replicaset-controller"
    );
    assert_eq!(
        fields["ka.req.pod.containers.image"],
        serde_json::json!(["nginx"])
    );
    assert!(fields["ka.req.pod.initContainers.image"].is_null());
    for key in ["hostname", "output", "time"] {
        assert!(alert[key].is_string(), "{key}");
    }
}

#[test]
fn several_workers_give_the_same_output_in_the_same_order_as_one() {
    let rules = rules_file();
    let mut input = String::new();
    for i in 0..6000 {
        if i % 997 == 0 {
            input.push_str("{\"kind\": 0}\n");
        }
        let verb = if i % 3 == 0 { "create" } else { "get" };
        input.push_str(
            &EXEC_EVENT
                .replace("alice", &format!("user{i}"))
                .replace("\"create\"", &format!("\"{verb}\"")),
        );
        input.push('\n');
    }
    let run = |workers: &str| {
        lanner(
            &["run", "-r", arg(rules.path()), "--workers", workers],
            Some(input.as_bytes()),
        )
    };
    let one = run("1");
    let four = run("4");
    assert_eq!(stdout(&one).lines().count(), 2000);
    assert_eq!(stdout(&one), stdout(&four));
    let errors = |out: &std::process::Output| {
        stderr(out)
            .lines()
            .filter(|l| l.starts_with("<stdin>:"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(errors(&one).len(), 7);
    assert_eq!(errors(&one), errors(&four));
}

/// Falco 0.44's `concat`, `join` and `getopt`, end to end: condition, text output and the
/// JSON alert's `output_fields` (one key per field read, raw values).
#[test]
fn transformers_of_several_values_fire_and_render() {
    let rules = r#"
- rule: Exec By Group
  desc: exec, with the user and groups as one text
  condition: >
    ka.verb = create and concat(ka.target.namespace, "/", ka.target.subresource) = prod/exec
    and join(",", ka.user.groups) contains "system:authenticated"
    and getopt(("-u", ka.user.name), "u:")[u] = alice
  output: who=%concat(ka.user.name, "@", ka.target.namespace) groups=%join("+", ka.user.groups) missing=%concat(ka.user.name, ka.impuser.name)
  priority: NOTICE
  source: k8s_audit
"#;
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .expect("temp file");
    std::io::Write::write_all(&mut file, rules.as_bytes()).expect("write rules");
    let out = lanner(
        &["run", "-r", arg(file.path()), "--format", "json", "-"],
        Some(EXEC_EVENT.as_bytes()),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let alert: serde_json::Value = serde_json::from_str(text.trim()).expect("one JSON alert");
    let output = alert["output"].as_str().expect("output");
    assert!(
        output.ends_with("Notice who=alice@prod groups=dev+system:authenticated missing=<NA>"),
        "{output}"
    );
    let fields = alert["output_fields"].as_object().expect("output_fields");
    let mut keys: Vec<&str> = fields.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "evt.time",
            "ka.impuser.name",
            "ka.target.namespace",
            "ka.user.groups",
            "ka.user.name"
        ]
    );
    assert_eq!(
        fields["ka.user.groups"],
        serde_json::json!(["dev", "system:authenticated"])
    );
    assert_eq!(fields["ka.impuser.name"], serde_json::Value::Null);

    // The same event with another user does not fire.
    let bob = EXEC_EVENT.replace("\"alice\"", "\"bob\"");
    let out = lanner(&["run", "-r", arg(file.path()), "-"], Some(bob.as_bytes()));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
}

/// A line over the 64 MiB limit is skipped with a message naming the file and the line,
/// and the lines after it are evaluated.
#[test]
fn a_line_over_the_limit_is_reported_with_its_number_and_skipped() {
    let mut file = tempfile::Builder::new()
        .suffix(".jsonl")
        .tempfile()
        .expect("temp file");
    let huge = vec![b'x'; (64 << 20) + 1];
    for part in [
        EXEC_EVENT.as_bytes(),
        b"\n",
        &huge,
        b"\n",
        EXEC_EVENT.as_bytes(),
        b"\n",
    ] {
        std::io::Write::write_all(&mut file, part).expect("write");
    }
    let rules = rules_file();
    let out = lanner(&["run", "-r", arg(rules.path()), arg(file.path())], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let name = file.path().display().to_string();
    assert!(
        err.contains(&format!(
            "{name}:2: line of 67108865 bytes is longer than the 67108864-byte limit"
        )),
        "{err}"
    );
    assert!(err.contains("2 events, 1 rejected lines"), "{err}");
    assert_eq!(stdout(&out).lines().count(), 2, "one alert per exec event");
}
