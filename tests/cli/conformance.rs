//! Conformance with Falco's own k8s audit test suites (issue #3).
//!
//! Every case runs the real binary over one trace of
//! `../shared/falco/traces/k8s_audit/` with the rules files one test of
//! Falco's suites loads, in the same order, under `--rule-matching first`
//! (Falco's default), and compares the whole set of alerts, counted by rule,
//! with the expectation: an alert the case does not list fails it.
//!
//! Two suites, one case per test in each:
//! * `testing_*`: falcosecurity/testing `tests/k8saudit/k8saudit_test.go`
//!   (syscall rules v1.0.1, k8saudit plugin rules 0.18.0, overrides from
//!   `tests/data/rules/k8saudit.go`);
//! * `legacy_*`: falcosecurity/falco 0.34.1 `test/falco_k8s_audit_tests.yaml`
//!   (falco-rules 0.1.0, k8saudit rules 0.6.0, overrides from
//!   `test/rules/k8s_audit/`).
//!
//! How each expectation follows from the rules is written down in
//! `docs/conformance.md`; the suites themselves assert only the count of one
//! rule (or nothing), so the other rules' silence is derived there too.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{arg, falco_dir, lanner, stderr, stdout};

/// Syscall rules embedded in falcosecurity/testing (v1.0.1).
const FR1: &str = "rules/falco_rules-1.0.1.yaml";
/// k8saudit plugin rules 0.18.0.
const K18: &str = "rules/k8s_audit_rules.yaml";
/// falco-rules 0.1.0 (syscall rules of Falco 0.34).
const FR0: &str = "rules/falco_rules-0.1.0.yaml";
/// k8saudit rules 0.6.0.
const K06: &str = "rules/k8s_audit_rules-plugin-0.6.0.yaml";

/// An override file of the testing suite.
macro_rules! ts {
    ($file:literal) => {
        concat!("overrides/testing-suite/", $file)
    };
}

/// An override file of the legacy suite.
macro_rules! ls {
    ($file:literal) => {
        concat!("overrides/legacy-suite/", $file)
    };
}

/// What one run must produce.
enum Expect {
    /// Exit 0 and exactly these alerts (rule, count); an empty map means no
    /// alert. `priority` and `output` (a substring), when given, must hold
    /// for every alert.
    Alerts {
        counts: &'static [(&'static str, usize)],
        priority: Option<&'static str>,
        output: Option<&'static str>,
    },
    /// Exit 0, no alert, the trace's line refused with this on stderr.
    Rejected(&'static str),
}

struct Case {
    name: &'static str,
    /// Relative to the Falco corpus, in load order.
    rules: &'static [&'static str],
    /// A file of `traces/k8s_audit/`.
    trace: &'static str,
    expect: Expect,
}

/// `Some` of the literal, or `None` without one.
macro_rules! opt {
    () => {
        None
    };
    ($v:literal) => {
        Some($v)
    };
}

macro_rules! expect {
    ({ $($rule:literal: $n:literal),* $(,)? } $(priority $p:literal)? $(output $o:literal)?) => {
        Expect::Alerts {
            counts: &[$(($rule, $n)),*],
            priority: opt!($($p)?),
            output: opt!($($o)?),
        }
    };
    ((rejected $s:literal)) => {
        Expect::Rejected($s)
    };
}

/// Defines `CASES` and one `#[test]` per case.
macro_rules! cases {
    ($( $(#[$meta:meta])* $name:ident: [$($rules:expr),+ $(,)?], $trace:literal
        => $expect:tt $(priority $p:literal)? $(output $o:literal)?; )*) => {
        const CASES: &[Case] = &[$(
            Case {
                name: stringify!($name),
                rules: &[$($rules),+],
                trace: $trace,
                expect: expect!($expect $(priority $p)? $(output $o)?),
            },
        )*];
        $(
            $(#[$meta])*
            #[test]
            fn $name() {
                check(stringify!($name));
            }
        )*
    };
}

// One row per test of each suite, named `<suite>_<name of the test in the
// legacy suite>` (the testing suite's Go tests carry the same names in
// CamelCase), sorted by trace within each suite. See docs/conformance.md.
cases! {
    testing_anonymous_user: [FR1, K18], "anonymous_creates_namespace_foo.json"
        => {"Anonymous Request Allowed": 1} priority "Warning" output "user=system:anonymous";
    testing_attach_cluster_admin_role: [FR1, K18], "attach_cluster_admin_role.json"
        => {"Attach to cluster-admin Role": 1} priority "Warning";
    testing_pod_attach: [FR1, K18], "attach_pod.json"
        => {"Attach/Exec Pod": 1} priority "Notice" output "action=attach";
    testing_create_pod_exec_cluster_role: [FR1, K18], "create_cluster_role_pod_exec.json"
        => {"ClusterRole With Pod Exec Created": 1} priority "Warning";
    testing_create_cluster_role_wildcard_resources: [FR1, K18], "create_cluster_role_wildcard_resources.json"
        => {"ClusterRole With Wildcard Created": 1} priority "Warning";
    testing_create_cluster_role_wildcard_verbs: [FR1, K18], "create_cluster_role_wildcard_verbs.json"
        => {"ClusterRole With Wildcard Created": 1} priority "Warning";
    testing_create_writable_cluster_role: [FR1, K18], "create_cluster_role_write_privileges.json"
        => {"ClusterRole With Write Privileges Created": 1} priority "Notice";
    testing_create_clusterrole: [FR1, K18], "create_clusterrole.json"
        => {"K8s ClusterRole Created": 1} priority "Informational";
    testing_create_clusterrolebinding: [FR1, K18], "create_clusterrolebinding.json"
        => {"K8s ClusterRoleBinding Created": 1} priority "Informational";
    testing_create_configmap: [FR1, K18], "create_configmap.json"
        => {"K8s ConfigMap Created": 1} priority "Informational";
    testing_create_configmap_no_private_creds: [FR1, K18, ts!("disallow_kactivity.yaml")], "create_configmap_no_sensitive_values.json"
        => {};
    testing_create_configmap_private_creds: [FR1, K18, ts!("disallow_kactivity.yaml")], "create_configmap_sensitive_values.json"
        => {"Create/Modify Configmap With Private Credentials": 6} priority "Warning" output "configmap=my-config";
    testing_create_deployment: [FR1, K18], "create_deployment.json"
        => {"K8s Deployment Created": 1} priority "Informational";
    testing_create_kube_system_secret: [FR1, K18], "create_kube_system_secret.json"
        => {};
    testing_compat_engine_v4_create_hostnetwork_pod: [FR1, ts!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_hostnetwork.json"
        => {"Create HostNetwork Pod": 1} priority "Warning";
    testing_compat_engine_v4_create_hostnetwork_trusted_pod: [FR1, K18, ts!("engine_v4_k8s_audit_rules.yaml"), ts!("trust_nginx_container.yaml")], "create_nginx_pod_hostnetwork.json"
        => {"Create HostNetwork Pod": 1} priority "Warning";
    testing_create_hostnetwork_pod: [FR1, K18], "create_nginx_pod_hostnetwork.json"
        => {"Create HostNetwork Pod": 1} priority "Warning";
    testing_create_hostnetwork_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_hostnetwork.json"
        => {};
    testing_create_privileged_no_secctx_1st_container_2nd_container_pod: [FR1, K18], "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx,mysql:latest)";
    testing_create_nohostnetwork_pod: [FR1, K18], "create_nginx_pod_nohostnetwork.json"
        => {};
    testing_create_nohostnetwork_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_nohostnetwork.json"
        => {};
    testing_compat_engine_v4_create_privileged_pod: [FR1, ts!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_privileged.json"
        => {"Create Privileged Pod": 1} priority "Warning";
    testing_compat_engine_v4_create_privileged_trusted_pod: [FR1, K18, ts!("engine_v4_k8s_audit_rules.yaml"), ts!("trust_nginx_container.yaml")], "create_nginx_pod_privileged.json"
        => {"Create Privileged Pod": 1} priority "Warning";
    testing_create_privileged_pod: [FR1, K18], "create_nginx_pod_privileged.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx)";
    testing_create_privileged_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_privileged.json"
        => {};
    testing_create_privileged_2nd_container_pod: [FR1, K18], "create_nginx_pod_privileged_2nd_container.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx,mysql:latest)";
    testing_create_sensitive_mount_pod: [FR1, K18], "create_nginx_pod_sensitive_mount.json"
        => {"Create Sensitive Mount Pod": 1} priority "Warning";
    testing_create_sensitive_mount_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_sensitive_mount.json"
        => {};
    testing_create_sensitive_mount_2nd_container_pod: [FR1, K18], "create_nginx_pod_sensitive_mount_2nd_container.json"
        => {"Create Sensitive Mount Pod": 1} priority "Warning";
    testing_compat_engine_v4_create_allowed_pod: [FR1, ts!("engine_v4_k8s_audit_rules.yaml"), ts!("engine_v4/allow_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    testing_compat_engine_v4_create_disallowed_pod: [FR1, ts!("engine_v4_k8s_audit_rules.yaml"), ts!("engine_v4/allow_only_apache_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {"Create Disallowed Pod": 1} priority "Warning" output "image=nginx";
    testing_compat_engine_v4_create_unprivileged_pod: [FR1, ts!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    testing_create_allowed_pod: [FR1, K18, ts!("allow_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    testing_create_disallowed_pod: [FR1, K18, ts!("allow_only_apache_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {"Create Disallowed Pod": 1} priority "Warning" output "images=(nginx)";
    testing_create_unprivileged_pod: [FR1, K18], "create_nginx_pod_unprivileged.json"
        => {};
    testing_create_unprivileged_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    testing_json_pointer_correct_parse: [ts!("single_rule_with_json_pointer.yaml")], "create_nginx_pod_unprivileged.json"
        => {"json_pointer_example": 1} priority "Warning" output "JSON Pointer Test Alert";
    testing_create_unsensitive_mount_pod: [FR1, K18], "create_nginx_pod_unsensitive_mount.json"
        => {};
    testing_create_unsensitive_mount_trusted_pod: [FR1, K18, ts!("trust_nginx_container.yaml")], "create_nginx_pod_unsensitive_mount.json"
        => {};
    testing_create_nodeport_service: [FR1, K18, ts!("disallow_kactivity.yaml")], "create_nginx_service_nodeport.json"
        => {"Create NodePort Service": 1} priority "Warning" output "service=nginx";
    testing_create_nonodeport_service: [FR1, K18, ts!("disallow_kactivity.yaml")], "create_nginx_service_nonodeport.json"
        => {};
    testing_create_pod_in_kube_public_namespace: [FR1, K18], "create_pod_kube_public_namespace.json"
        => {"Pod Created in Kube Namespace": 1} priority "Warning" output "ns=kube-public";
    testing_create_pod_in_kube_system_namespace: [FR1, K18], "create_pod_kube_system_namespace.json"
        => {"Pod Created in Kube Namespace": 1} priority "Warning" output "ns=kube-system";
    testing_create_secret: [FR1, K18], "create_secret.json"
        => {"K8s Secret Created": 1} priority "Informational";
    testing_create_service: [FR1, K18], "create_service.json"
        => {"K8s Service Created": 1} priority "Informational";
    testing_create_service_account_token_secret: [FR1, K18], "create_service_account_token_secret.json"
        => {};
    testing_create_serviceaccount: [FR1, K18], "create_serviceaccount.json"
        => {"K8s Serviceaccount Created": 1} priority "Informational";
    testing_create_serviceaccount_in_kube_public_namespace: [FR1, K18], "create_serviceaccount_kube_public_namespace.json"
        => {"Service Account Created in Kube Namespace": 1} priority "Warning";
    testing_create_serviceaccount_in_kube_system_namespace: [FR1, K18], "create_serviceaccount_kube_system_namespace.json"
        => {"Service Account Created in Kube Namespace": 1} priority "Warning";
    testing_system_clusterrole_deleted: [FR1, K18], "delete_cluster_role_kube_aggregator.json"
        => {"System ClusterRole Modified/Deleted": 1} priority "Warning" output "action=delete";
    testing_delete_clusterrole: [FR1, K18], "delete_clusterrole.json"
        => {"K8s ClusterRole Deleted": 1} priority "Informational";
    testing_delete_clusterrolebinding: [FR1, K18], "delete_clusterrolebinding.json"
        => {"K8s ClusterRoleBinding Deleted": 1} priority "Informational";
    testing_delete_configmap: [FR1, K18], "delete_configmap.json"
        => {"K8s ConfigMap Deleted": 1} priority "Informational";
    testing_delete_deployment: [FR1, K18], "delete_deployment.json"
        => {"K8s Deployment Deleted": 1} priority "Informational";
    testing_delete_namespace: [FR1, K18], "delete_namespace_foo.json"
        => {"K8s Namespace Deleted": 1} priority "Informational";
    testing_delete_secret: [FR1, K18], "delete_secret.json"
        => {"K8s Secret Deleted": 1} priority "Informational";
    testing_delete_service: [FR1, K18], "delete_service.json"
        => {"K8s Service Deleted": 1} priority "Informational";
    testing_delete_serviceaccount: [FR1, K18], "delete_serviceaccount.json"
        => {"K8s Serviceaccount Deleted": 1} priority "Informational";
    testing_pod_exec: [FR1, K18], "exec_pod.json"
        => {"Attach/Exec Pod": 1} priority "Notice" output "action=exec command=bash";
    testing_fal_01_003: [FR1, K18], "fal_01_003.json"
        => (rejected "fal_01_003.json:1: not a Kubernetes audit event");
    testing_namespace_in_allowed_set: [FR1, K18, ts!("allow_namespace_foo.yaml"), ts!("disallow_kactivity.yaml")], "minikube_creates_namespace_foo.json"
        => {};
    testing_system_clusterrole_modified: [FR1, K18], "modify_cluster_role_node_problem_detector.json"
        => {"System ClusterRole Modified/Deleted": 1} priority "Warning" output "action=patch";
    testing_create_namespace: [FR1, K18, ts!("allow_namespace_foo.yaml"), ts!("allow_user_some-user.yaml")], "some-user_creates_namespace_foo.json"
        => {"K8s Namespace Created": 1} priority "Informational" output "namespace=foo";
    testing_namespace_outside_allowed_set: [FR1, K18, ts!("allow_user_some-user.yaml")], "some-user_creates_namespace_foo.json"
        => {"Create Disallowed Namespace": 1} priority "Warning" output "ns=foo";
    testing_user_in_allowed_set: [FR1, K18, ts!("allow_namespace_foo.yaml"), ts!("allow_user_some-user.yaml"), ts!("disallow_kactivity.yaml")], "some-user_creates_namespace_foo.json"
        => {};
    testing_user_outside_allowed_set: [FR1, K18, ts!("allow_namespace_foo.yaml")], "some-user_creates_namespace_foo.json"
        => {"Disallowed K8s User": 1} priority "Warning" output "user=some-user";

    legacy_anonymous_user: [FR0, K06], "anonymous_creates_namespace_foo.json"
        => {"Anonymous Request Allowed": 1} priority "Warning" output "user=system:anonymous";
    legacy_attach_cluster_admin_role: [FR0, K06], "attach_cluster_admin_role.json"
        => {"Attach to cluster-admin Role": 1} priority "Warning";
    legacy_pod_attach: [FR0, K06], "attach_pod.json"
        => {"Attach/Exec Pod": 1} priority "Notice" output "action=attach";
    legacy_create_pod_exec_cluster_role: [FR0, K06], "create_cluster_role_pod_exec.json"
        => {"ClusterRole With Pod Exec Created": 1} priority "Warning";
    legacy_create_cluster_role_wildcard_resources: [FR0, K06], "create_cluster_role_wildcard_resources.json"
        => {"ClusterRole With Wildcard Created": 1} priority "Warning";
    legacy_create_cluster_role_wildcard_verbs: [FR0, K06], "create_cluster_role_wildcard_verbs.json"
        => {"ClusterRole With Wildcard Created": 1} priority "Warning";
    legacy_create_writable_cluster_role: [FR0, K06], "create_cluster_role_write_privileges.json"
        => {"ClusterRole With Write Privileges Created": 1} priority "Notice";
    legacy_create_clusterrole: [FR0, K06], "create_clusterrole.json"
        => {"K8s Role/Clusterrole Created": 1} priority "Informational";
    legacy_create_clusterrolebinding: [FR0, K06], "create_clusterrolebinding.json"
        => {"K8s Role/Clusterrolebinding Created": 1} priority "Informational";
    legacy_create_configmap: [FR0, K06], "create_configmap.json"
        => {"K8s ConfigMap Created": 1} priority "Informational";
    legacy_create_configmap_no_private_creds: [FR0, K06, ls!("disallow_kactivity.yaml")], "create_configmap_no_sensitive_values.json"
        => {};
    legacy_create_configmap_private_creds: [FR0, K06, ls!("disallow_kactivity.yaml")], "create_configmap_sensitive_values.json"
        => {"Create/Modify Configmap With Private Credentials": 6} priority "Warning" output "configmap=my-config";
    legacy_create_deployment: [FR0, K06], "create_deployment.json"
        => {"K8s Deployment Created": 1} priority "Informational";
    legacy_create_kube_system_secret: [FR0, K06], "create_kube_system_secret.json"
        => {};
    legacy_compat_engine_v4_create_hostnetwork_pod: [FR0, ls!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_hostnetwork.json"
        => {"Create HostNetwork Pod": 1};
    legacy_compat_engine_v4_create_hostnetwork_trusted_pod: [FR0, K06, ls!("engine_v4_k8s_audit_rules.yaml"), ls!("trust_nginx_container.yaml")], "create_nginx_pod_hostnetwork.json"
        => {};
    legacy_create_hostnetwork_pod: [FR0, K06], "create_nginx_pod_hostnetwork.json"
        => {"Create HostNetwork Pod": 1} priority "Warning";
    legacy_create_hostnetwork_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_hostnetwork.json"
        => {};
    legacy_create_privileged_no_secctx_1st_container_2nd_container_pod: [FR0, K06], "create_nginx_pod_no_secctx_1st_container_privileged_2nd_container.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx,mysql:latest)";
    legacy_create_nohostnetwork_pod: [FR0, K06], "create_nginx_pod_nohostnetwork.json"
        => {};
    legacy_create_nohostnetwork_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_nohostnetwork.json"
        => {};
    legacy_compat_engine_v4_create_privileged_pod: [FR0, ls!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_privileged.json"
        => {"Create Privileged Pod": 1};
    legacy_compat_engine_v4_create_privileged_trusted_pod: [FR0, K06, ls!("engine_v4_k8s_audit_rules.yaml"), ls!("trust_nginx_container.yaml")], "create_nginx_pod_privileged.json"
        => {};
    legacy_create_privileged_pod: [FR0, K06], "create_nginx_pod_privileged.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx)";
    legacy_create_privileged_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_privileged.json"
        => {};
    legacy_create_privileged_2nd_container_pod: [FR0, K06], "create_nginx_pod_privileged_2nd_container.json"
        => {"Create Privileged Pod": 1} priority "Warning" output "images=(nginx,mysql:latest)";
    legacy_create_sensitive_mount_pod: [FR0, K06], "create_nginx_pod_sensitive_mount.json"
        => {"Create Sensitive Mount Pod": 1} priority "Warning";
    legacy_create_sensitive_mount_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_sensitive_mount.json"
        => {};
    legacy_create_sensitive_mount_2nd_container_pod: [FR0, K06], "create_nginx_pod_sensitive_mount_2nd_container.json"
        => {"Create Sensitive Mount Pod": 1} priority "Warning";
    legacy_compat_engine_v4_create_allowed_pod: [FR0, ls!("engine_v4_k8s_audit_rules.yaml"), ls!("engine_v4/allow_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    legacy_compat_engine_v4_create_disallowed_pod: [FR0, ls!("engine_v4_k8s_audit_rules.yaml"), ls!("engine_v4/allow_only_apache_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {"Create Disallowed Pod": 1};
    legacy_compat_engine_v4_create_unprivileged_pod: [FR0, ls!("engine_v4_k8s_audit_rules.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    legacy_create_allowed_pod: [FR0, K06, ls!("allow_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    legacy_create_disallowed_pod: [FR0, K06, ls!("allow_only_apache_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {"Create Disallowed Pod": 1} priority "Warning" output "images=(nginx)";
    legacy_create_unprivileged_pod: [FR0, K06], "create_nginx_pod_unprivileged.json"
        => {};
    legacy_create_unprivileged_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_unprivileged.json"
        => {};
    legacy_json_pointer_correct_parse: [ls!("single_rule_with_json_pointer.yaml")], "create_nginx_pod_unprivileged.json"
        => {"json_pointer_example": 1} priority "Warning" output "JSON Pointer Test Alert";
    legacy_create_unsensitive_mount_pod: [FR0, K06], "create_nginx_pod_unsensitive_mount.json"
        => {};
    legacy_create_unsensitive_mount_trusted_pod: [FR0, K06, ls!("trust_nginx_container.yaml")], "create_nginx_pod_unsensitive_mount.json"
        => {};
    legacy_create_nodeport_service: [FR0, K06, ls!("disallow_kactivity.yaml")], "create_nginx_service_nodeport.json"
        => {"Create NodePort Service": 1} priority "Warning" output "service=nginx";
    legacy_create_nonodeport_service: [FR0, K06, ls!("disallow_kactivity.yaml")], "create_nginx_service_nonodeport.json"
        => {};
    legacy_create_pod_in_kube_public_namespace: [FR0, K06], "create_pod_kube_public_namespace.json"
        => {"Pod Created in Kube Namespace": 1} priority "Warning" output "ns=kube-public";
    legacy_create_pod_in_kube_system_namespace: [FR0, K06], "create_pod_kube_system_namespace.json"
        => {"Pod Created in Kube Namespace": 1} priority "Warning" output "ns=kube-system";
    legacy_create_secret: [FR0, K06], "create_secret.json"
        => {"K8s Secret Created": 1} priority "Informational";
    legacy_create_service: [FR0, K06], "create_service.json"
        => {"K8s Service Created": 1} priority "Informational";
    legacy_create_service_account_token_secret: [FR0, K06], "create_service_account_token_secret.json"
        => {};
    legacy_create_serviceaccount: [FR0, K06], "create_serviceaccount.json"
        => {"K8s Serviceaccount Created": 1} priority "Informational";
    legacy_create_serviceaccount_in_kube_public_namespace: [FR0, K06], "create_serviceaccount_kube_public_namespace.json"
        => {"Service Account Created in Kube Namespace": 1} priority "Warning";
    legacy_create_serviceaccount_in_kube_system_namespace: [FR0, K06], "create_serviceaccount_kube_system_namespace.json"
        => {"Service Account Created in Kube Namespace": 1} priority "Warning";
    legacy_system_clusterrole_deleted: [FR0, K06], "delete_cluster_role_kube_aggregator.json"
        => {"System ClusterRole Modified/Deleted": 1} priority "Warning" output "action=delete";
    legacy_delete_clusterrole: [FR0, K06], "delete_clusterrole.json"
        => {"K8s Role/Clusterrole Deleted": 1} priority "Informational";
    legacy_delete_clusterrolebinding: [FR0, K06], "delete_clusterrolebinding.json"
        => {"K8s Role/Clusterrolebinding Deleted": 1} priority "Informational";
    legacy_delete_configmap: [FR0, K06], "delete_configmap.json"
        => {"K8s ConfigMap Deleted": 1} priority "Informational";
    legacy_delete_deployment: [FR0, K06], "delete_deployment.json"
        => {"K8s Deployment Deleted": 1} priority "Informational";
    legacy_delete_namespace: [FR0, K06], "delete_namespace_foo.json"
        => {"K8s Namespace Deleted": 1} priority "Informational";
    legacy_delete_secret: [FR0, K06], "delete_secret.json"
        => {"K8s Secret Deleted": 1} priority "Informational";
    legacy_delete_service: [FR0, K06], "delete_service.json"
        => {"K8s Service Deleted": 1} priority "Informational";
    legacy_delete_serviceaccount: [FR0, K06], "delete_serviceaccount.json"
        => {"K8s Serviceaccount Deleted": 1} priority "Informational";
    legacy_pod_exec: [FR0, K06], "exec_pod.json"
        => {"Attach/Exec Pod": 1} priority "Notice" output "action=exec command=bash";
    legacy_fal_01_003: [FR0, K06], "fal_01_003.json"
        => (rejected "fal_01_003.json:1: not a Kubernetes audit event");
    legacy_namespace_in_allowed_set: [FR0, K06, ls!("allow_namespace_foo.yaml"), ls!("disallow_kactivity.yaml")], "minikube_creates_namespace_foo.json"
        => {};
    legacy_system_clusterrole_modified: [FR0, K06], "modify_cluster_role_node_problem_detector.json"
        => {"System ClusterRole Modified/Deleted": 1} priority "Warning" output "action=patch";
    legacy_create_namespace: [FR0, K06, ls!("allow_namespace_foo.yaml"), ls!("allow_user_some-user.yaml")], "some-user_creates_namespace_foo.json"
        => {"K8s Namespace Created": 1} priority "Informational" output "namespace=foo";
    legacy_namespace_outside_allowed_set: [FR0, K06, ls!("allow_user_some-user.yaml")], "some-user_creates_namespace_foo.json"
        => {"Create Disallowed Namespace": 1} priority "Warning" output "ns=foo";
    legacy_user_in_allowed_set: [FR0, K06, ls!("allow_namespace_foo.yaml"), ls!("allow_user_some-user.yaml"), ls!("disallow_kactivity.yaml")], "some-user_creates_namespace_foo.json"
        => {};
    legacy_user_outside_allowed_set: [FR0, K06, ls!("allow_namespace_foo.yaml")], "some-user_creates_namespace_foo.json"
        => {"Disallowed K8s User": 1} priority "Warning" output "user=some-user";
}

fn check(name: &str) {
    let Some(falco) = falco_dir(name) else { return };
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .expect("case in the table");
    let rules: Vec<_> = case.rules.iter().map(|r| falco.join(r)).collect();
    let trace = falco.join("traces/k8s_audit").join(case.trace);
    let mut args = vec!["run", "--format", "json", "--rule-matching", "first"];
    for r in &rules {
        args.extend(["-r", arg(r)]);
    }
    args.push(arg(&trace));
    let out = lanner(&args, None);
    let (text, err) = (stdout(&out), stderr(&out));
    let context = format!(
        "case {name}\nstatus: {}\nstdout:\n{text}\nstderr:\n{err}",
        out.status
    );

    let alerts: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("alert is not JSON ({e}): {l}\n{context}"))
        })
        .collect();
    let mut got: BTreeMap<String, usize> = BTreeMap::new();
    for a in &alerts {
        let rule = a["rule"]
            .as_str()
            .unwrap_or_else(|| panic!("alert without rule: {a}\n{context}"));
        *got.entry(rule.to_owned()).or_default() += 1;
    }

    match case.expect {
        Expect::Alerts {
            counts,
            priority,
            output,
        } => {
            assert!(out.status.success(), "{context}");
            assert!(err.contains(" 0 rejected lines"), "{context}");
            let want: BTreeMap<String, usize> =
                counts.iter().map(|&(r, n)| (r.to_owned(), n)).collect();
            assert_eq!(got, want, "alerts by rule differ\n{context}");
            for a in &alerts {
                assert_eq!(a["source"], "k8s_audit", "{context}");
                if let Some(p) = priority {
                    assert_eq!(a["priority"], p, "priority\n{context}");
                }
                if let Some(o) = output {
                    let line = a["output"].as_str().unwrap_or_default();
                    assert!(line.contains(o), "output lacks {o:?}\n{context}");
                }
            }
        }
        Expect::Rejected(what) => {
            assert!(out.status.success(), "{context}");
            assert!(got.is_empty(), "{context}");
            assert!(err.contains(what), "stderr lacks {what:?}\n{context}");
        }
    }
}

/// The table runs every trace of the corpus (and names no other).
#[test]
fn every_k8s_audit_trace_is_covered() {
    let Some(falco) = falco_dir("every_k8s_audit_trace_is_covered") else {
        return;
    };
    let on_disk: BTreeSet<String> = std::fs::read_dir(falco.join("traces/k8s_audit"))
        .expect("trace directory")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| {
            std::path::Path::new(n)
                .extension()
                .is_some_and(|e| e == "json")
        })
        .collect();
    let in_table: BTreeSet<String> = CASES.iter().map(|c| c.trace.to_owned()).collect();
    assert_eq!(in_table, on_disk);
}

/// Each suite runs every trace, so each has a case per trace.
#[test]
fn both_suites_cover_every_trace() {
    for suite in ["testing_", "legacy_"] {
        let traces: BTreeSet<&str> = CASES
            .iter()
            .filter(|c| c.name.starts_with(suite))
            .map(|c| c.trace)
            .collect();
        let all: BTreeSet<&str> = CASES.iter().map(|c| c.trace).collect();
        assert_eq!(traces, all, "{suite}");
    }
}

/// Every rules file a case names exists (a typo would fail as a load error).
#[test]
fn every_rules_file_exists() {
    let Some(falco) = falco_dir("every_rules_file_exists") else {
        return;
    };
    for case in CASES {
        for r in case.rules {
            assert!(falco.join(r).is_file(), "{}: {r}", case.name);
        }
    }
}
