//! Every catalog field extracted from realistic events, present and absent, with index
//! arguments, over `containers`, `initContainers` and `ephemeralContainers`. The last test
//! checks that the table covers the whole catalog.

use std::collections::BTreeSet;

use lanner_audit::{Value, fields};

use crate::common::{fixture, get, l, s};

/// One expectation: `field[arg]` on fixture `event` is `want` (`None`: not available).
struct Case {
    field: &'static str,
    arg: Option<&'static str>,
    event: &'static str,
    want: Option<Value<'static>>,
}

fn c(
    field: &'static str,
    arg: Option<&'static str>,
    event: &'static str,
    want: Option<Value<'static>>,
) -> Case {
    Case {
        field,
        arg,
        event,
        want,
    }
}

const NS: i64 = 1_714_564_800_123_456_000;

/// `HH:MM:SS[.nnnnnnnnn]` / `YYYY-MM-DD HH:MM:SS[.nnnnnnnnn]` in the machine's zone.
fn local(date: bool, nanos: bool) -> String {
    let ts = jiff::Timestamp::from_nanosecond(i128::from(NS)).unwrap();
    let dt = jiff::tz::TimeZone::system().to_datetime(ts);
    let mut out = if date {
        format!("{:04}-{:02}-{:02} ", dt.year(), dt.month(), dt.day())
    } else {
        String::new()
    };
    out.push_str(&dt.time().strftime("%H:%M:%S").to_string());
    if nanos {
        out += ".123456000";
    }
    out
}

const SECCTX: &str = r#"{"privileged":true,"allowPrivilegeEscalation":true,"readOnlyRootFilesystem":false,"runAsUser":0,"procMount":"Unmasked","capabilities":{"add":["SYS_ADMIN","NET_ADMIN"],"drop":["ALL"]}}"#;

const MINIMAL_PRETTY: &str = r#"{
  "kind": "Event",
  "apiVersion": "audit.k8s.io/v1beta1",
  "level": "None",
  "stage": "ResponseComplete",
  "verb": "get",
  "user": {
    "username": "system:kube-scheduler"
  },
  "sourceIPs": [],
  "stageTimestamp": "2024-05-01T12:00:00Z"
}"#;

#[rustfmt::skip]
fn cases() -> Vec<Case> {
    let u = |n| Some(Value::U64(n));
    vec![
        // Event identity and annotations.
        c("ka.auditid", None, "pod", s("4c5e2d9a-0b1f-4a51-9d0e-7b2f0c6f1a01")),
        c("ka.auditid", None, "no_audit_id", None),
        c("ka.stage", None, "pod", s("ResponseComplete")),
        c("ka.stage", None, "no_audit_id", None),
        c("ka.auth.decision", None, "pod", s("allow")),
        c("ka.auth.decision", None, "exec", s("forbid")),
        c("ka.auth.reason", None, "pod", s(r#"RBAC: allowed by ClusterRoleBinding "admins" of ClusterRole "cluster-admin" to User "alice""#)),
        c("ka.auth.reason", None, "exec", s("")),
        c("ka.auth.openshift.decision", None, "pod", s("allow")),
        c("ka.auth.openshift.decision", None, "exec", None),
        c("ka.auth.openshift.username", None, "pod", s("alice")),
        c("ka.validations.admission.policy.failure", None, "pod", s(r#"[{"message":"no host network","policy":"deny-host-network","binding":"deny-host-network","expressionIndex":0,"validationActions":["Audit"]}]"#)),
        c("ka.validations.admission.policy.failure", None, "exec", None),
        c("ka.security.pod.violations", None, "pod", s(r#"would violate PodSecurity "restricted:latest": privileged (container "web" must not set securityContext.privileged=true)"#)),
        c("ka.cluster.name", None, "pod", s("prod-eu")),
        c("ka.cluster.name", None, "exec", None),
        // Who and how.
        c("ka.user.name", None, "exec", s("mallory")),
        c("ka.user.name", None, "no_audit_id", None),
        c("ka.user.groups", None, "pod", l(&["system:masters", "system:authenticated"])),
        c("ka.user.groups", None, "role", None),
        c("ka.impuser.name", None, "pod", s("bob")),
        c("ka.impuser.name", None, "exec", None),
        c("ka.verb", None, "ephemeral", s("patch")),
        c("ka.uri", None, "pod", s("/api/v1/namespaces/default/pods?fieldManager=kubectl-client-side-apply&dryRun=All")),
        c("ka.uri.param", Some("command"), "exec", s("sh")),
        c("ka.uri.param", Some("container"), "exec", s("web")),
        c("ka.uri.param", Some("dryRun"), "pod", s("All")),
        c("ka.uri.param", Some("command"), "pod", None),
        c("ka.useragent", None, "pod", s("kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b")),
        c("ka.useragent", None, "binding", None),
        c("ka.sourceips", None, "pod", l(&["10.0.0.1", "10.0.0.2"])),
        c("ka.sourceips", Some("1"), "pod", l(&["10.0.0.2"])),
        c("ka.sourceips", Some("2"), "pod", None),
        c("ka.sourceips", None, "no_audit_id", None),
        // Target and response.
        c("ka.target.name", None, "exec", s("web-0")),
        c("ka.target.name", None, "pod", None),
        c("ka.target.namespace", None, "pod", s("default")),
        c("ka.target.namespace", None, "role", None),
        c("ka.target.resource", None, "role", s("clusterroles")),
        c("ka.target.subresource", None, "exec", s("exec")),
        c("ka.target.subresource", None, "pod", None),
        c("ka.target.pod.name", None, "pod", s("web-7d4b9")),
        c("ka.target.pod.name", None, "exec", None),
        c("ka.target.pod.name", None, "binding", None),
        c("ka.resp.name", None, "binding", s("ci-admin")),
        c("ka.resp.name", None, "exec", None),
        c("ka.response.code", None, "pod", s("201")),
        c("ka.response.reason", None, "exec", s("Forbidden")),
        c("ka.response.reason", None, "pod", None),
        // Bindings and roles.
        c("ka.req.binding.subjects", None, "binding", l(&[r#"{"kind":"User","apiGroup":"rbac.authorization.k8s.io","name":"alice"}"#, r#"{"kind":"Group","apiGroup":"rbac.authorization.k8s.io","name":"devs"}"#, r#"{"kind":"ServiceAccount","name":"builder","namespace":"ci"}"#, r#"{"kind":"ServiceAccount","name":"orphan"}"#])),
        c("ka.req.binding.subjects", None, "pod", None),
        c("ka.req.binding.subjects.user_names", None, "binding", l(&["alice"])),
        c("ka.req.binding.subjects.user_names", None, "pod", None),
        c("ka.req.binding.subjects.serviceaccount_names", None, "binding", l(&["builder", "orphan"])),
        c("ka.req.binding.subjects.serviceaccount_ns_names", None, "binding", l(&["ci:builder"])),
        c("ka.req.binding.subjects.group_names", None, "binding", l(&["devs"])),
        c("ka.req.binding.role", None, "binding", s("cluster-admin")),
        c("ka.req.binding.role", None, "role", None),
        c("ka.req.binding.subject.has_name", Some("alice"), "pod", s("true")),
        c("ka.req.binding.subject.has_name", Some("alice"), "no_audit_id", None),
        c("ka.req.role.rules", None, "role", l(&[r#"{"apiGroups":[""],"resources":["pods","pods/exec"],"verbs":["get","create"]}"#, r#"{"nonResourceURLs":["/healthz","/metrics"],"verbs":["get"]}"#])),
        c("ka.req.role.rules", None, "binding", None),
        c("ka.req.role.rules.apiGroups", None, "role", l(&[""])),
        c("ka.req.role.rules.apiGroups", Some("1"), "role", None),
        c("ka.req.role.rules.nonResourceURLs", None, "role", l(&["/healthz", "/metrics"])),
        c("ka.req.role.rules.verbs", None, "role", l(&["get", "create", "get"])),
        c("ka.req.role.rules.verbs", Some("1"), "role", l(&["get"])),
        c("ka.req.role.rules.resources", None, "role", l(&["pods", "pods/exec"])),
        c("ka.req.role.rules.resources", Some("2"), "role", None),
        // Config maps and services.
        c("ka.req.configmap.name", None, "configmap", s("app-config")),
        c("ka.req.configmap.obj", None, "configmap", s(r#"{"password":"hunter2","config.yaml":"a: 1\nb: \"x\""}"#)),
        c("ka.req.configmap.obj", None, "pod", None),
        c("ka.req.service.type", None, "service", s("NodePort")),
        c("ka.req.service.ports", None, "service", l(&[r#"[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]"#])),
        c("ka.req.service.ports", Some("0"), "service", l(&[r#"[{"name":"http","protocol":"TCP","port":80,"targetPort":8080,"nodePort":30080}]"#])),
        c("ka.req.service.ports", None, "pod", None),
        // Pod-level settings.
        c("ka.req.pod.host_ipc", None, "pod", s("false")),
        c("ka.req.pod.host_network", None, "pod", s("true")),
        c("ka.req.pod.host_network", None, "ephemeral", None),
        c("ka.req.container.host_network", None, "pod", s("true")),
        c("ka.req.pod.host_pid", None, "pod", s("false")),
        c("ka.req.pod.host_pid", None, "exec", None),
        c("ka.req.pod.run_as_user", None, "pod", s("1000")),
        c("ka.req.pod.run_as_group", None, "pod", s("3000")),
        c("ka.req.pod.run_as_group", None, "ephemeral", None),
        c("ka.req.pod.fs_group", None, "pod", s("2000")),
        c("ka.req.pod.supplemental_groups", None, "pod", l(&["4000", "5000"])),
        c("ka.req.pod.supplemental_groups", None, "ephemeral", None),
        // Volumes.
        c("ka.req.pod.volumes.hostpath", None, "pod", l(&["/var/run/docker.sock", "/proc"])),
        c("ka.req.pod.volumes.hostpath", Some("3"), "pod", l(&["/proc"])),
        c("ka.req.pod.volumes.hostpath", Some("1"), "pod", None),
        c("ka.req.volume.hostpath", Some("/proc*"), "pod", s("true")),
        c("ka.req.volume.hostpath", Some("/var/run/docker.sock"), "pod", s("true")),
        c("ka.req.volume.hostpath", Some("/etc"), "pod", s("false")),
        c("ka.req.volume.hostpath", Some("/etc"), "exec", None),
        c("ka.req.pod.volumes.flexvolume_driver", None, "pod", l(&["example/lvm"])),
        c("ka.req.pod.volumes.flexvolume_driver", Some("0"), "pod", None),
        c("ka.req.pod.volumes.volume_type", None, "pod", l(&["hostPath", "configMap", "flexVolume", "hostPath"])),
        c("ka.req.pod.volumes.volume_type", Some("1"), "pod", l(&["configMap"])),
        c("ka.req.pod.volumes.volume_type", None, "service", None),
        // containers
        c("ka.req.pod.containers.name", None, "pod", l(&["web", "sidecar"])),
        c("ka.req.pod.containers.name", Some("1"), "pod", l(&["sidecar"])),
        c("ka.req.pod.containers.name", Some("2"), "pod", None),
        c("ka.req.pod.containers.image", None, "pod", l(&["registry.local:5000/team/web:1.2", "busybox@sha256:0123abcd"])),
        c("ka.req.pod.containers.image", None, "exec", None),
        c("ka.req.container.image", None, "pod", s("registry.local:5000/team/web:1.2")),
        c("ka.req.container.image", None, "exec", None),
        c("ka.req.pod.containers.image.repository", None, "pod", l(&["registry.local", "busybox"])),
        c("ka.req.pod.containers.image.repository", Some("1"), "pod", l(&["busybox"])),
        c("ka.req.container.image.repository", None, "pod", s("registry.local")),
        c("ka.req.pod.containers.command", None, "pod", l(&["nginx -g daemon off;"])),
        c("ka.req.pod.containers.command", Some("1"), "pod", None),
        c("ka.req.pod.containers.args", None, "pod", l(&["sleep 3600"])),
        c("ka.req.pod.containers.args", None, "ephemeral", None),
        c("ka.req.pod.containers.host_port", None, "pod", l(&["8080", "443"])),
        c("ka.req.pod.containers.host_port", Some("1"), "pod", None),
        c("ka.req.pod.containers.privileged", None, "pod", l(&["true"])),
        c("ka.req.pod.containers.privileged", Some("1"), "pod", None),
        c("ka.req.pod.containers.privileged", None, "ephemeral", None),
        c("ka.req.container.privileged", None, "pod", s("true")),
        c("ka.req.container.privileged", None, "ephemeral", s("false")),
        c("ka.req.container.privileged", None, "exec", None),
        c("ka.req.pod.containers.allow_privilege_escalation", None, "pod", l(&["true"])),
        c("ka.req.pod.containers.read_only_fs", None, "pod", l(&["false"])),
        c("ka.req.pod.containers.run_as_user", None, "pod", l(&["0"])),
        c("ka.req.pod.containers.eff_run_as_user", None, "pod", l(&["0", "1000"])),
        c("ka.req.pod.containers.eff_run_as_user", Some("1"), "pod", l(&["1000"])),
        c("ka.req.pod.containers.eff_run_as_user", None, "ephemeral", l(&["0"])),
        c("ka.req.pod.containers.run_as_group", None, "pod", l(&["7"])),
        c("ka.req.pod.containers.eff_run_as_group", None, "pod", l(&["3000", "7"])),
        c("ka.req.pod.containers.proc_mount", None, "pod", l(&["Unmasked"])),
        c("ka.req.pod.containers.add_capabilities", None, "pod", l(&["SYS_ADMIN", "NET_ADMIN"])),
        c("ka.req.pod.containers.add_capabilities", Some("0"), "pod", l(&["SYS_ADMIN", "NET_ADMIN"])),
        c("ka.req.pod.containers.add_capabilities", Some("1"), "pod", None),
        // initContainers
        c("ka.req.pod.initContainers.name", None, "pod", l(&["init", "migrate"])),
        c("ka.req.pod.initContainers.name", None, "ephemeral", None),
        c("ka.req.pod.initContainers.image", None, "pod", l(&["alpine:3.19", "registry.local/db/migrate:7"])),
        c("ka.req.pod.initContainers.image.repository", None, "pod", l(&["alpine", "registry.local/db/migrate"])),
        c("ka.req.pod.initContainers.command", None, "pod", l(&["sh -c echo hi"])),
        c("ka.req.pod.initContainers.args", None, "pod", l(&["--up"])),
        c("ka.req.pod.initContainers.args", Some("0"), "pod", None),
        c("ka.req.pod.initContainers.privileged", None, "pod", l(&["false"])),
        c("ka.req.pod.initContainers.allow_privilege_escalation", None, "pod", l(&["false"])),
        c("ka.req.pod.initContainers.read_only_fs", None, "pod", l(&["true"])),
        c("ka.req.pod.initContainers.run_as_user", None, "pod", l(&["1001"])),
        c("ka.req.pod.initContainers.eff_run_as_user", None, "pod", l(&["1001", "1000"])),
        c("ka.req.pod.initContainers.run_as_group", None, "pod", l(&["1002"])),
        c("ka.req.pod.initContainers.eff_run_as_group", None, "pod", l(&["1002", "3000"])),
        c("ka.req.pod.initContainers.proc_mount", None, "pod", l(&["Default"])),
        c("ka.req.pod.initContainers.add_capabilities", None, "pod", l(&["NET_RAW"])),
        c("ka.req.pod.initContainers.host_port", None, "pod", l(&["9000"])),
        c("ka.req.pod.initContainers.host_port", Some("1"), "pod", None),
        // ephemeralContainers
        c("ka.req.pod.ephemeralContainers.name", None, "ephemeral", l(&["debugger-x7k"])),
        c("ka.req.pod.ephemeralContainers.name", None, "pod", None),
        c("ka.req.pod.ephemeralContainers.image", None, "ephemeral", l(&["busybox:1.36"])),
        c("ka.req.pod.ephemeralContainers.image.repository", None, "ephemeral", l(&["busybox"])),
        c("ka.req.pod.ephemeralContainers.command", None, "ephemeral", l(&["sh"])),
        c("ka.req.pod.ephemeralContainers.args", None, "ephemeral", l(&["-i -l"])),
        c("ka.req.pod.ephemeralContainers.privileged", None, "ephemeral", l(&["true"])),
        c("ka.req.pod.ephemeralContainers.privileged", Some("1"), "ephemeral", None),
        c("ka.req.pod.ephemeralContainers.allow_privilege_escalation", None, "ephemeral", l(&["true"])),
        c("ka.req.pod.ephemeralContainers.read_only_fs", None, "ephemeral", l(&["false"])),
        c("ka.req.pod.ephemeralContainers.run_as_user", None, "ephemeral", l(&["0"])),
        c("ka.req.pod.ephemeralContainers.eff_run_as_user", None, "ephemeral", l(&["0"])),
        c("ka.req.pod.ephemeralContainers.run_as_group", None, "ephemeral", l(&["2000"])),
        c("ka.req.pod.ephemeralContainers.run_as_group", None, "pod", None),
        c("ka.req.pod.ephemeralContainers.eff_run_as_group", None, "ephemeral", l(&["2000"])),
        c("ka.req.pod.containers.eff_run_as_group", None, "ephemeral", l(&["0"])),
        c("ka.req.pod.ephemeralContainers.proc_mount", None, "ephemeral", l(&["Default"])),
        c("ka.req.pod.ephemeralContainers.add_capabilities", None, "ephemeral", l(&["SYS_PTRACE"])),
        // json plugin
        c("json.value", Some("/user/username"), "pod", s("alice")),
        c("json.value", Some("/requestObject/spec/containers/0/securityContext"), "pod", s(SECCTX)),
        c("json.value", Some("/responseStatus/code"), "pod", s("201")),
        c("json.value", Some("/nope"), "pod", None),
        c("jevt.value", Some("/annotations/authorization.k8s.io~1decision"), "pod", s("allow")),
        c("jevt.value", Some("/stage"), "no_audit_id", s("ResponseComplete")),
        c("jevt.value", Some("/sourceIPs"), "no_audit_id", s("[]")),
        c("jevt.value", Some("/requestObject/data/config.yaml"), "configmap", s("a: 1\nb: \"x\"")),
        c("jevt.value", Some(""), "no_audit_id", s(include_str!("../fixtures/no_audit_id.json").trim_end())),
        c("json.obj", None, "no_audit_id", s(MINIMAL_PRETTY)),
        c("jevt.obj", None, "no_audit_id", s(MINIMAL_PRETTY)),
        c("json.rawtime", None, "pod", s("1714564800123456000")),
        c("jevt.rawtime", None, "no_audit_id", s("1714564800000000000")),
        // evt
        c("evt.num", None, "pod", u(42)),
        c("evt.time", None, "pod", s(&local(false, true))),
        c("evt.time.s", None, "pod", s(&local(false, false))),
        c("evt.time.iso8601", None, "pod", s("2024-05-01T12:00:00.123456000+0000")),
        c("evt.datetime", None, "pod", s(&local(true, true))),
        c("evt.datetime.s", None, "pod", s(&local(true, false))),
        c("evt.rawtime", None, "pod", u(1_714_564_800_123_456_000)),
        c("evt.rawtime.s", None, "pod", u(1_714_564_800)),
        c("evt.rawtime.ns", None, "pod", u(123_456_000)),
        c("evt.source", None, "no_audit_id", s("k8s_audit")),
        c("evt.pluginname", None, "no_audit_id", s("k8saudit")),
    ]
}

#[test]
fn every_case_extracts_the_expected_value() {
    let mut failures = Vec::new();
    for case in cases() {
        let event = crate::common::fixture(case.event);
        let got = get(&event, case.field, case.arg);
        if got != case.want {
            failures.push(format!(
                "{}[{}] on {}: got {:?}, want {:?}",
                case.field,
                case.arg.unwrap_or("-"),
                case.event,
                got,
                case.want
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_catalog_field_has_an_extraction_case() {
    let covered: BTreeSet<&str> = cases().iter().map(|c| c.field).collect();
    let catalog: BTreeSet<&str> = fields().iter().map(|f| f.name).collect();
    let missing: Vec<_> = catalog.difference(&covered).collect();
    let unknown: Vec<_> = covered.difference(&catalog).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "missing {missing:?}, unknown {unknown:?}"
    );
}

#[test]
fn every_field_has_a_case_where_it_is_present() {
    let cases = cases();
    for f in fields() {
        assert!(
            cases.iter().any(|c| c.field == f.name && c.want.is_some()),
            "{} has no present case",
            f.name
        );
    }
}

#[test]
fn every_ka_field_is_unavailable_without_audit_id() {
    let event = fixture("no_audit_id");
    for f in fields().iter().filter(|f| f.name.starts_with("ka.")) {
        let arg = match f.arg {
            lanner_audit::ArgKind::Key => Some("x"),
            _ => None,
        };
        assert_eq!(get(&event, f.name, arg), None, "{}", f.name);
    }
}

#[test]
fn strings_borrow_from_the_event_when_they_have_no_escapes() {
    let event = fixture("pod");
    assert!(matches!(
        get(&event, "ka.user.name", None),
        Some(Value::Str(std::borrow::Cow::Borrowed("alice")))
    ));
    match get(
        &event,
        "json.value",
        Some("/requestObject/spec/containers/0/securityContext"),
    ) {
        Some(Value::Str(std::borrow::Cow::Borrowed(_))) => {}
        other => panic!("compact object should borrow: {other:?}"),
    }
}

#[test]
fn null_and_numbers_are_returned_as_their_json_text() {
    let line = br#"{"kind":"Event","auditID":"x","objectRef":{"namespace":null,"name":1.50e3},"stageTimestamp":"2024-05-01T12:00:00Z"}"#;
    let event = lanner_audit::decode_payload(line, 1)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(get(&event, "ka.target.namespace", None), s("null"));
    assert_eq!(get(&event, "ka.target.name", None), s("1.50e3"));
}

#[test]
fn image_fields_are_unavailable_when_any_container_lacks_an_image() {
    let line = br#"{"kind":"Event","auditID":"x","requestObject":{"spec":{"containers":[{"name":"a","image":"nginx"},{"name":"b"}]}},"stageTimestamp":"2024-05-01T12:00:00Z"}"#;
    let event = lanner_audit::decode_payload(line, 1)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(get(&event, "ka.req.pod.containers.image", None), None);
    assert_eq!(
        get(&event, "ka.req.pod.containers.image.repository", None),
        None
    );
    assert_eq!(
        get(&event, "ka.req.pod.containers.image", Some("0")),
        l(&["nginx"])
    );
    assert_eq!(
        get(&event, "ka.req.pod.containers.name", None),
        l(&["a", "b"])
    );
}

#[test]
fn command_must_be_an_array_of_strings() {
    let line = br#"{"kind":"Event","auditID":"x","requestObject":{"spec":{"containers":[{"command":["a",1]}],"initContainers":[{"command":"sh"}],"ephemeralContainers":[{"command":[]}]}},"stageTimestamp":"2024-05-01T12:00:00Z"}"#;
    let event = lanner_audit::decode_payload(line, 1)
        .unwrap()
        .remove(0)
        .unwrap();
    assert_eq!(get(&event, "ka.req.pod.containers.command", None), None);
    assert_eq!(get(&event, "ka.req.pod.initContainers.command", None), None);
    assert_eq!(
        get(&event, "ka.req.pod.ephemeralContainers.command", None),
        l(&[""])
    );
}

#[test]
fn missing_subresource_is_not_available() {
    let event = fixture("pod");
    assert_eq!(get(&event, "ka.target.subresource", None), None);
}
