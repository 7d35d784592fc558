//! The rows of the field catalog, in Falco's order: the k8saudit plugin's 100 `ka.*` fields
//! (v0.18.0), the json plugin's `json.*` / `jevt.*` fields, then the generic `evt.*` fields
//! that make sense without a kernel.
//!
//! `reads` uses JSON pointers with `[*]` where every array element is visited (or only
//! element `N` when the field takes an `[N]` index argument).

use crate::catalog::{
    ArgKind, EvtField, FieldDef, FieldType, JsonField, Recipe,
    Recipe::{
        AnyPrivileged, Effective, Evt, FirstImage, HasName, HostPorts, Json, Keys, RulesField,
        SourceIps, Subjects, TargetPodName, UriParam, VolumeHostPath, VolumeTypes, Walk,
    },
    Slots::{Flatten, Joined, Repository, SkipNil, Strict},
    SubjectKind,
};

const fn def(
    name: &'static str,
    list: bool,
    arg: ArgKind,
    reads: &'static str,
    desc: &'static str,
    recipe: Recipe,
) -> FieldDef {
    FieldDef {
        name,
        ty: FieldType::String,
        list,
        arg,
        desc,
        reads,
        deprecated: false,
        recipe,
    }
}

/// A single text value, no argument.
const fn one(name: &'static str, reads: &'static str, desc: &'static str, r: Recipe) -> FieldDef {
    def(name, false, ArgKind::None, reads, desc, r)
}

/// A list, no argument.
const fn list(name: &'static str, reads: &'static str, desc: &'static str, r: Recipe) -> FieldDef {
    def(name, true, ArgKind::None, reads, desc, r)
}

/// A list with an optional `[N]` index.
const fn each(name: &'static str, reads: &'static str, desc: &'static str, r: Recipe) -> FieldDef {
    def(name, true, ArgKind::Index, reads, desc, r)
}

/// A single text value with a required `[key]`.
const fn keyed(name: &'static str, reads: &'static str, desc: &'static str, r: Recipe) -> FieldDef {
    def(name, false, ArgKind::Key, reads, desc, r)
}

const fn deprecated(mut f: FieldDef) -> FieldDef {
    f.deprecated = true;
    f
}

const fn evt(
    name: &'static str,
    ty: FieldType,
    reads: &'static str,
    desc: &'static str,
    e: EvtField,
) -> FieldDef {
    let mut f = one(name, reads, desc, Evt(e));
    f.ty = ty;
    f
}

/// The 71 fields of plugin v0.17.0, in order.
#[rustfmt::skip]
const CLASSIC: [FieldDef; 71] = [
    one("ka.auditid", "/auditID", "The unique id of the audit event", Keys(&["auditID"])),
    one("ka.stage", "/stage", "Stage of the request (e.g. RequestReceived, ResponseComplete, etc.)", Keys(&["stage"])),
    one("ka.auth.decision", "/annotations/authorization.k8s.io~1decision", "The authorization decision (allow or forbid)", Keys(&["annotations", "authorization.k8s.io/decision"])),
    one("ka.auth.reason", "/annotations/authorization.k8s.io~1reason", "Why the request was authorized or forbidden", Keys(&["annotations", "authorization.k8s.io/reason"])),
    one("ka.auth.openshift.decision", "/annotations/authentication.openshift.io~1decision", "The OpenShift authentication decision", Keys(&["annotations", "authentication.openshift.io/decision"])),
    one("ka.validations.admission.policy.failure", "/annotations/validation.policy.admission.k8s.io~1validation_failure", "The validating admission policy failures (JSON text, as annotated)", Keys(&["annotations", "validation.policy.admission.k8s.io/validation_failure"])),
    one("ka.security.pod.violations", "/annotations/pod-security.kubernetes.io~1audit-violations", "The pod security standard violations", Keys(&["annotations", "pod-security.kubernetes.io/audit-violations"])),
    one("ka.auth.openshift.username", "/annotations/authentication.openshift.io~1username", "The user name OpenShift authenticated", Keys(&["annotations", "authentication.openshift.io/username"])),
    one("ka.user.name", "/user/username", "The user name performing the request", Keys(&["user", "username"])),
    list("ka.user.groups", "/user/groups", "The groups the requesting user belongs to", Keys(&["user", "groups"])),
    one("ka.impuser.name", "/impersonatedUser/username", "The impersonated user name", Keys(&["impersonatedUser", "username"])),
    one("ka.verb", "/verb", "The action being performed (get, list, create, ...)", Keys(&["verb"])),
    one("ka.uri", "/requestURI", "The request URI as sent from client to server", Keys(&["requestURI"])),
    keyed("ka.uri.param", "/requestURI (query string)", "The first value of a query parameter of the URI, decoded (ka.uri.param[command])", UriParam),
    one("ka.target.name", "/objectRef/name", "The name of the target object", Keys(&["objectRef", "name"])),
    one("ka.target.namespace", "/objectRef/namespace", "The namespace of the target object", Keys(&["objectRef", "namespace"])),
    one("ka.target.resource", "/objectRef/resource", "The resource of the target object", Keys(&["objectRef", "resource"])),
    one("ka.target.subresource", "/objectRef/subresource", "The subresource of the target object", Keys(&["objectRef", "subresource"])),
    one("ka.target.pod.name", "/responseObject/metadata/name (when /objectRef/resource is pods, without subresource)", "The name of the pod a pod request created or read", TargetPodName),
    list("ka.req.binding.subjects", "/requestObject/subjects", "The subjects of a role binding, each as JSON text", Keys(&["requestObject", "subjects"])),
    list("ka.req.binding.subjects.user_names", "/requestObject/subjects[*]/name (kind User)", "The names of the User subjects of a role binding", Subjects(SubjectKind::User)),
    list("ka.req.binding.subjects.serviceaccount_names", "/requestObject/subjects[*]/name (kind ServiceAccount)", "The names of the ServiceAccount subjects of a role binding", Subjects(SubjectKind::ServiceAccount)),
    list("ka.req.binding.subjects.serviceaccount_ns_names", "/requestObject/subjects[*]/namespace and name (kind ServiceAccount)", "The namespace:name of the ServiceAccount subjects of a role binding", Subjects(SubjectKind::NamespacedServiceAccount)),
    list("ka.req.binding.subjects.group_names", "/requestObject/subjects[*]/name (kind Group)", "The names of the Group subjects of a role binding", Subjects(SubjectKind::Group)),
    one("ka.req.binding.role", "/requestObject/roleRef/name", "The role a role binding links", Keys(&["requestObject", "roleRef", "name"])),
    deprecated(keyed("ka.req.binding.subject.has_name", "(nothing)", "Deprecated: always true, whatever the argument", HasName)),
    one("ka.req.configmap.name", "/objectRef/name", "The name of the target config map (same as ka.target.name)", Keys(&["objectRef", "name"])),
    one("ka.req.configmap.obj", "/requestObject/data", "The data of a config map, as JSON text", Keys(&["requestObject", "data"])),
    each("ka.req.pod.containers.args", "/requestObject/spec/containers[*]/args", "The args of each pod container, joined with spaces", Walk(&["requestObject", "spec", "containers", "args"], Joined)),
    each("ka.req.pod.containers.command", "/requestObject/spec/containers[*]/command", "The command of each pod container, joined with spaces", Walk(&["requestObject", "spec", "containers", "command"], Joined)),
    each("ka.req.pod.containers.name", "/requestObject/spec/containers[*]/name", "The name of each pod container (unavailable if one has none)", Walk(&["requestObject", "spec", "containers", "name"], Strict)),
    each("ka.req.pod.containers.image", "/requestObject/spec/containers[*]/image", "The image of each pod container (unavailable if one has none)", Walk(&["requestObject", "spec", "containers", "image"], Strict)),
    deprecated(one("ka.req.container.image", "/requestObject/spec/containers[0]/image", "Deprecated by ka.req.pod.containers.image: the image of the first container", FirstImage { repository: false })),
    each("ka.req.pod.containers.image.repository", "/requestObject/spec/containers[*]/image", "The image of each pod container up to the first ':' or '@'", Walk(&["requestObject", "spec", "containers", "image"], Repository)),
    deprecated(one("ka.req.container.image.repository", "/requestObject/spec/containers[0]/image", "Deprecated by ka.req.pod.containers.image.repository: the repository of the first container", FirstImage { repository: true })),
    one("ka.req.pod.host_ipc", "/requestObject/spec/hostIPC", "Whether the pod uses the host's IPC namespace", Keys(&["requestObject", "spec", "hostIPC"])),
    one("ka.req.pod.host_network", "/requestObject/spec/hostNetwork", "Whether the pod uses the host's network namespace", Keys(&["requestObject", "spec", "hostNetwork"])),
    deprecated(one("ka.req.container.host_network", "/requestObject/spec/hostNetwork", "Deprecated alias of ka.req.pod.host_network", Keys(&["requestObject", "spec", "hostNetwork"]))),
    one("ka.req.pod.host_pid", "/requestObject/spec/hostPID", "Whether the pod uses the host's PID namespace", Keys(&["requestObject", "spec", "hostPID"])),
    each("ka.req.pod.containers.host_port", "/requestObject/spec/containers[*]/ports[*]/hostPort, else containerPort", "The host port of each port of the pod containers", HostPorts(&["requestObject", "spec", "containers", "ports"])),
    each("ka.req.pod.containers.privileged", "/requestObject/spec/containers[*]/securityContext/privileged", "The privileged flag of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "privileged"], SkipNil)),
    deprecated(one("ka.req.container.privileged", "/requestObject/spec/containers[*]/securityContext/privileged", "Deprecated by ka.req.pod.containers.privileged: true if any container is privileged", AnyPrivileged)),
    each("ka.req.pod.containers.allow_privilege_escalation", "/requestObject/spec/containers[*]/securityContext/allowPrivilegeEscalation", "The allowPrivilegeEscalation flag of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "allowPrivilegeEscalation"], SkipNil)),
    each("ka.req.pod.containers.read_only_fs", "/requestObject/spec/containers[*]/securityContext/readOnlyRootFilesystem", "The readOnlyRootFilesystem flag of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "readOnlyRootFilesystem"], SkipNil)),
    one("ka.req.pod.run_as_user", "/requestObject/spec/securityContext/runAsUser", "The pod-level runAsUser uid", Keys(&["requestObject", "spec", "securityContext", "runAsUser"])),
    each("ka.req.pod.containers.run_as_user", "/requestObject/spec/containers[*]/securityContext/runAsUser", "The runAsUser uid of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "runAsUser"], SkipNil)),
    each("ka.req.pod.containers.eff_run_as_user", "/requestObject/spec/containers[*]/securityContext/runAsUser, else /requestObject/spec/securityContext/runAsUser, else 0", "The uid each pod container runs as: its own, else the pod's, else 0", Effective { list: &["requestObject", "spec", "containers", ""], own: &["securityContext", "runAsUser"], pod: &["requestObject", "spec", "securityContext", "runAsUser"] }),
    one("ka.req.pod.run_as_group", "/requestObject/spec/securityContext/runAsGroup", "The pod-level runAsGroup gid", Keys(&["requestObject", "spec", "securityContext", "runAsGroup"])),
    each("ka.req.pod.containers.run_as_group", "/requestObject/spec/containers[*]/securityContext/runAsGroup", "The runAsGroup gid of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "runAsGroup"], SkipNil)),
    each("ka.req.pod.containers.eff_run_as_group", "/requestObject/spec/containers[*]/securityContext/runAsGroup, else /requestObject/spec/securityContext/runAsGroup, else 0", "The gid each pod container runs as: its own, else the pod's, else 0", Effective { list: &["requestObject", "spec", "containers", ""], own: &["securityContext", "runAsGroup"], pod: &["requestObject", "spec", "securityContext", "runAsGroup"] }),
    each("ka.req.pod.containers.proc_mount", "/requestObject/spec/containers[*]/securityContext/procMount", "The procMount type of each pod container that sets it", Walk(&["requestObject", "spec", "containers", "securityContext", "procMount"], SkipNil)),
    list("ka.req.role.rules", "/requestObject/rules", "The rules of a role, each as JSON text", Keys(&["requestObject", "rules"])),
    each("ka.req.role.rules.apiGroups", "/requestObject/rules[*]/apiGroups[*]", "The API groups of the rules of a role", RulesField("apiGroups")),
    each("ka.req.role.rules.nonResourceURLs", "/requestObject/rules[*]/nonResourceURLs[*]", "The non-resource URLs of the rules of a role", RulesField("nonResourceURLs")),
    each("ka.req.role.rules.verbs", "/requestObject/rules[*]/verbs[*]", "The verbs of the rules of a role", RulesField("verbs")),
    each("ka.req.role.rules.resources", "/requestObject/rules[*]/resources[*]", "The resources of the rules of a role", RulesField("resources")),
    one("ka.req.pod.fs_group", "/requestObject/spec/securityContext/fsGroup", "The pod-level fsGroup gid", Keys(&["requestObject", "spec", "securityContext", "fsGroup"])),
    list("ka.req.pod.supplemental_groups", "/requestObject/spec/securityContext/supplementalGroups", "The pod-level supplemental gids", Keys(&["requestObject", "spec", "securityContext", "supplementalGroups"])),
    each("ka.req.pod.containers.add_capabilities", "/requestObject/spec/containers[*]/securityContext/capabilities/add[*]", "The capabilities added to the pod containers, one value per capability", Walk(&["requestObject", "spec", "containers", "securityContext", "capabilities", "add"], Flatten)),
    one("ka.req.service.type", "/requestObject/spec/type", "The type of a service", Keys(&["requestObject", "spec", "type"])),
    each("ka.req.service.ports", "/requestObject/spec/ports", "The ports of a service, as one JSON text", Walk(&["requestObject", "spec", "ports"], SkipNil)),
    each("ka.req.pod.volumes.hostpath", "/requestObject/spec/volumes[*]/hostPath/path", "The host path of each pod volume that has one", Walk(&["requestObject", "spec", "volumes", "hostPath", "path"], SkipNil)),
    deprecated(keyed("ka.req.volume.hostpath", "/requestObject/spec/volumes[*]/hostPath/path", "Deprecated by ka.req.pod.volumes.hostpath: true if a volume uses the host path (prefix when it ends in *)", VolumeHostPath)),
    each("ka.req.pod.volumes.flexvolume_driver", "/requestObject/spec/volumes[*]/flexVolume/driver", "The flexVolume driver of each pod volume that has one", Walk(&["requestObject", "spec", "volumes", "flexVolume", "driver"], SkipNil)),
    each("ka.req.pod.volumes.volume_type", "/requestObject/spec/volumes[*] (keys)", "The type of each pod volume: every key but name", VolumeTypes),
    one("ka.resp.name", "/responseObject/metadata/name", "The name of the object in the response", Keys(&["responseObject", "metadata", "name"])),
    one("ka.response.code", "/responseStatus/code", "The HTTP response code", Keys(&["responseStatus", "code"])),
    one("ka.response.reason", "/responseStatus/reason", "The reason for the response code", Keys(&["responseStatus", "reason"])),
    one("ka.useragent", "/userAgent", "The user agent of the client", Keys(&["userAgent"])),
    each("ka.sourceips", "/sourceIPs[*]", "The IP addresses of the client", SourceIps),
    one("ka.cluster.name", "/annotations/cluster_name", "The name of the cluster (a forwarder's annotation)", Keys(&["annotations", "cluster_name"])),
];

/// The fields every pod container list has (`initContainers`, `ephemeralContainers`).
macro_rules! container_list {
    ($list:literal, $label:literal) => {
        [
            each(concat!("ka.req.pod.", $list, ".name"), concat!("/requestObject/spec/", $list, "[*]/name"), concat!("The name of each pod ", $label, " (unavailable if one has none)"), Walk(&["requestObject", "spec", $list, "name"], Strict)),
            each(concat!("ka.req.pod.", $list, ".image"), concat!("/requestObject/spec/", $list, "[*]/image"), concat!("The image of each pod ", $label, " (unavailable if one has none)"), Walk(&["requestObject", "spec", $list, "image"], Strict)),
            each(concat!("ka.req.pod.", $list, ".image.repository"), concat!("/requestObject/spec/", $list, "[*]/image"), concat!("The image of each pod ", $label, " up to the first ':' or '@'"), Walk(&["requestObject", "spec", $list, "image"], Repository)),
            each(concat!("ka.req.pod.", $list, ".command"), concat!("/requestObject/spec/", $list, "[*]/command"), concat!("The command of each pod ", $label, ", joined with spaces"), Walk(&["requestObject", "spec", $list, "command"], Joined)),
            each(concat!("ka.req.pod.", $list, ".args"), concat!("/requestObject/spec/", $list, "[*]/args"), concat!("The args of each pod ", $label, ", joined with spaces"), Walk(&["requestObject", "spec", $list, "args"], Joined)),
            each(concat!("ka.req.pod.", $list, ".privileged"), concat!("/requestObject/spec/", $list, "[*]/securityContext/privileged"), concat!("The privileged flag of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "privileged"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".allow_privilege_escalation"), concat!("/requestObject/spec/", $list, "[*]/securityContext/allowPrivilegeEscalation"), concat!("The allowPrivilegeEscalation flag of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "allowPrivilegeEscalation"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".read_only_fs"), concat!("/requestObject/spec/", $list, "[*]/securityContext/readOnlyRootFilesystem"), concat!("The readOnlyRootFilesystem flag of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "readOnlyRootFilesystem"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".run_as_user"), concat!("/requestObject/spec/", $list, "[*]/securityContext/runAsUser"), concat!("The runAsUser uid of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "runAsUser"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".eff_run_as_user"), concat!("/requestObject/spec/", $list, "[*]/securityContext/runAsUser, else /requestObject/spec/securityContext/runAsUser, else 0"), concat!("The uid each pod ", $label, " runs as: its own, else the pod's, else 0"), Effective { list: &["requestObject", "spec", $list, ""], own: &["securityContext", "runAsUser"], pod: &["requestObject", "spec", "securityContext", "runAsUser"] }),
            each(concat!("ka.req.pod.", $list, ".run_as_group"), concat!("/requestObject/spec/", $list, "[*]/securityContext/runAsGroup"), concat!("The runAsGroup gid of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "runAsGroup"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".eff_run_as_group"), concat!("/requestObject/spec/", $list, "[*]/securityContext/runAsGroup, else /requestObject/spec/securityContext/runAsGroup, else 0"), concat!("The gid each pod ", $label, " runs as: its own, else the pod's, else 0"), Effective { list: &["requestObject", "spec", $list, ""], own: &["securityContext", "runAsGroup"], pod: &["requestObject", "spec", "securityContext", "runAsGroup"] }),
            each(concat!("ka.req.pod.", $list, ".proc_mount"), concat!("/requestObject/spec/", $list, "[*]/securityContext/procMount"), concat!("The procMount type of each pod ", $label, " that sets it"), Walk(&["requestObject", "spec", $list, "securityContext", "procMount"], SkipNil)),
            each(concat!("ka.req.pod.", $list, ".add_capabilities"), concat!("/requestObject/spec/", $list, "[*]/securityContext/capabilities/add[*]"), concat!("The capabilities added to the pod ", $label, "s, one value per capability"), Walk(&["requestObject", "spec", $list, "securityContext", "capabilities", "add"], Flatten)),
        ]
    };
}

const INIT: [FieldDef; 14] = container_list!("initContainers", "init container");

const INIT_HOST_PORT: [FieldDef; 1] = [each(
    "ka.req.pod.initContainers.host_port",
    "/requestObject/spec/initContainers[*]/ports[*]/hostPort, else containerPort",
    "The host port of each port of the pod init containers",
    HostPorts(&["requestObject", "spec", "initContainers", "ports"]),
)];

const EPHEMERAL: [FieldDef; 14] = container_list!("ephemeralContainers", "ephemeral container");

/// The json plugin's fields; `jevt.*` are its aliases kept for older rules.
#[rustfmt::skip]
const JSON: [FieldDef; 6] = [
    def("json.value", false, ArgKind::JsonPointer, "the JSON pointer given as argument", "The value at a JSON pointer: strings as is, anything else as JSON text", Json(JsonField::Value)),
    one("json.obj", "the whole event", "The whole event as indented JSON", Json(JsonField::Obj)),
    one("json.rawtime", "/stageTimestamp", "The event time in nanoseconds since the epoch, as text", Json(JsonField::RawTime)),
    def("jevt.value", false, ArgKind::JsonPointer, "the JSON pointer given as argument", "Alias of json.value", Json(JsonField::Value)),
    one("jevt.obj", "the whole event", "Alias of json.obj", Json(JsonField::Obj)),
    one("jevt.rawtime", "/stageTimestamp", "Alias of json.rawtime", Json(JsonField::RawTime)),
];

/// Generic event fields usable on `k8s_audit` events.
#[rustfmt::skip]
const EVT: [FieldDef; 11] = [
    evt("evt.num", FieldType::Uint64, "(reader)", "The sequence number of the event", EvtField::Num),
    evt("evt.time", FieldType::String, "/stageTimestamp", "The event time, local: HH:MM:SS.nnnnnnnnn", EvtField::Time),
    evt("evt.time.s", FieldType::String, "/stageTimestamp", "The event time, local: HH:MM:SS", EvtField::TimeS),
    evt("evt.time.iso8601", FieldType::String, "/stageTimestamp", "The event time, UTC: YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000", EvtField::TimeIso8601),
    evt("evt.datetime", FieldType::String, "/stageTimestamp", "The event date and time, local: YYYY-MM-DD HH:MM:SS.nnnnnnnnn", EvtField::Datetime),
    evt("evt.datetime.s", FieldType::String, "/stageTimestamp", "The event date and time, local: YYYY-MM-DD HH:MM:SS", EvtField::DatetimeS),
    evt("evt.rawtime", FieldType::AbsTime, "/stageTimestamp", "The event time in nanoseconds since the epoch", EvtField::RawTime),
    evt("evt.rawtime.s", FieldType::AbsTime, "/stageTimestamp", "The whole seconds of the event time since the epoch", EvtField::RawTimeS),
    evt("evt.rawtime.ns", FieldType::AbsTime, "/stageTimestamp", "The nanoseconds part of the event time", EvtField::RawTimeNs),
    evt("evt.source", FieldType::String, "(constant)", "The event source: k8s_audit", EvtField::Source),
    evt("evt.pluginname", FieldType::String, "(constant)", "The plugin that produces the events: k8saudit", EvtField::PluginName),
];

/// Number of rows in the catalog.
const COUNT: usize = CLASSIC.len() + INIT.len() + 1 + EPHEMERAL.len() + JSON.len() + EVT.len();

/// Copy `part` into `out` from `at`; return the next free position.
const fn put(out: &mut [FieldDef; COUNT], at: usize, part: &[FieldDef]) -> usize {
    let mut i = 0;
    while i < part.len() {
        out[at + i] = part[i];
        i += 1;
    }
    at + part.len()
}

/// The catalog, in order.
pub(crate) static FIELDS: [FieldDef; COUNT] = {
    let mut out = [CLASSIC[0]; COUNT];
    let mut at = put(&mut out, 0, &CLASSIC);
    at = put(&mut out, at, &INIT);
    at = put(&mut out, at, &INIT_HOST_PORT);
    at = put(&mut out, at, &EPHEMERAL);
    at = put(&mut out, at, &JSON);
    at = put(&mut out, at, &EVT);
    assert!(at == COUNT);
    out
};
