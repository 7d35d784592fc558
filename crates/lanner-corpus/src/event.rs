//! One request as the API server audits it, and its `audit.k8s.io/v1` JSON.

use std::fmt::Write as _;

use crate::cluster::Actor;
use crate::json::obj;

/// An API resource.
pub(crate) struct Res {
    pub name: &'static str,
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    /// Its kind, singular, lower-case, as failure messages name it (`pods "x" not found`).
    pub singular: &'static str,
}

macro_rules! res {
    ($id:ident, $name:literal, $group:literal, $version:literal, $ns:literal, $singular:literal) => {
        pub(crate) const $id: &Res = &Res {
            name: $name,
            group: $group,
            version: $version,
            namespaced: $ns,
            singular: $singular,
        };
    };
}

res!(PODS, "pods", "", "v1", true, "pod");
res!(NODES, "nodes", "", "v1", false, "node");
res!(CONFIGMAPS, "configmaps", "", "v1", true, "configmap");
res!(SECRETS, "secrets", "", "v1", true, "secret");
res!(SERVICES, "services", "", "v1", true, "service");
res!(ENDPOINTS, "endpoints", "", "v1", true, "endpoints");
res!(EVENTS, "events", "", "v1", true, "event");
res!(
    SERVICEACCOUNTS,
    "serviceaccounts",
    "",
    "v1",
    true,
    "serviceaccount"
);
res!(NAMESPACES, "namespaces", "", "v1", false, "namespace");
res!(
    PVCS,
    "persistentvolumeclaims",
    "",
    "v1",
    true,
    "persistentvolumeclaim"
);
res!(
    RESOURCEQUOTAS,
    "resourcequotas",
    "",
    "v1",
    true,
    "resourcequota"
);
res!(LEASES, "leases", "coordination.k8s.io", "v1", true, "lease");
res!(DEPLOYMENTS, "deployments", "apps", "v1", true, "deployment");
res!(REPLICASETS, "replicasets", "apps", "v1", true, "replicaset");
res!(DAEMONSETS, "daemonsets", "apps", "v1", true, "daemonset");
res!(
    STATEFULSETS,
    "statefulsets",
    "apps",
    "v1",
    true,
    "statefulset"
);
res!(
    ENDPOINTSLICES,
    "endpointslices",
    "discovery.k8s.io",
    "v1",
    true,
    "endpointslice"
);
res!(JOBS, "jobs", "batch", "v1", true, "job");
res!(CRONJOBS, "cronjobs", "batch", "v1", true, "cronjob");
res!(
    ROLES,
    "roles",
    "rbac.authorization.k8s.io",
    "v1",
    true,
    "role"
);
res!(
    ROLEBINDINGS,
    "rolebindings",
    "rbac.authorization.k8s.io",
    "v1",
    true,
    "rolebinding"
);
res!(
    CLUSTERROLES,
    "clusterroles",
    "rbac.authorization.k8s.io",
    "v1",
    false,
    "clusterrole"
);
res!(
    CLUSTERROLEBINDINGS,
    "clusterrolebindings",
    "rbac.authorization.k8s.io",
    "v1",
    false,
    "clusterrolebinding"
);
res!(
    INGRESSES,
    "ingresses",
    "networking.k8s.io",
    "v1",
    true,
    "ingress"
);
res!(
    TOKENREVIEWS,
    "tokenreviews",
    "authentication.k8s.io",
    "v1",
    false,
    "tokenreview"
);
res!(
    SARS,
    "subjectaccessreviews",
    "authorization.k8s.io",
    "v1",
    false,
    "subjectaccessreview"
);
res!(
    CSINODES,
    "csinodes",
    "storage.k8s.io",
    "v1",
    false,
    "csinode"
);
res!(
    PRIORITYCLASSES,
    "priorityclasses",
    "scheduling.k8s.io",
    "v1",
    false,
    "priorityclass"
);
res!(
    APISERVICES,
    "apiservices",
    "apiregistration.k8s.io",
    "v1",
    false,
    "apiservice"
);
res!(
    FLOWSCHEMAS,
    "flowschemas",
    "flowcontrol.apiserver.k8s.io",
    "v1",
    false,
    "flowschema"
);
res!(
    CERTIFICATES,
    "certificates",
    "cert-manager.io",
    "v1",
    true,
    "certificate"
);
res!(
    HPAS,
    "horizontalpodautoscalers",
    "autoscaling",
    "v2",
    true,
    "horizontalpodautoscaler"
);
res!(
    PDBS,
    "poddisruptionbudgets",
    "policy",
    "v1",
    true,
    "poddisruptionbudget"
);
res!(
    APPLICATIONS,
    "applications",
    "argoproj.io",
    "v1alpha1",
    true,
    "application"
);
res!(
    NODEMETRICS,
    "nodes",
    "metrics.k8s.io",
    "v1beta1",
    false,
    "nodemetrics"
);
res!(
    PODMETRICS,
    "pods",
    "metrics.k8s.io",
    "v1beta1",
    true,
    "podmetrics"
);
res!(
    CRDS,
    "customresourcedefinitions",
    "apiextensions.k8s.io",
    "v1",
    false,
    "customresourcedefinition"
);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Level {
    Metadata,
    Request,
    RequestResponse,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stage {
    RequestReceived,
    ResponseStarted,
    ResponseComplete,
}

/// What a request is about: a resource, or a plain path like `/readyz`.
pub(crate) enum Target {
    Resource {
        res: &'static Res,
        ns: Option<String>,
        name: Option<String>,
        sub: Option<&'static str>,
        uid: Option<String>,
    },
    Path(&'static str),
}

/// One request, ready to be written as an event.
pub(crate) struct Req<'c> {
    pub actor: &'c Actor,
    pub verb: &'static str,
    pub target: Target,
    /// The query string, with its `?`, or empty.
    pub query: String,
    pub level: Level,
    pub stage: Stage,
    pub code: u16,
    /// `reason` and `message` of a failed request.
    pub failure: Option<(&'static str, String)>,
    pub request_object: Option<String>,
    pub response_object: Option<String>,
    /// Annotations besides the authorizer's, as JSON members (`"k":"v"`), or empty.
    pub annotations: &'static str,
    pub latency_us: i64,
}

impl<'c> Req<'c> {
    pub(crate) fn new(
        actor: &'c Actor,
        verb: &'static str,
        res: &'static Res,
        ns: Option<&str>,
        name: Option<&str>,
    ) -> Req<'c> {
        Req {
            actor,
            verb,
            target: Target::Resource {
                res,
                ns: ns.filter(|_| res.namespaced).map(str::to_owned),
                name: name.map(str::to_owned),
                sub: None,
                uid: None,
            },
            query: String::new(),
            level: Level::Metadata,
            stage: Stage::ResponseComplete,
            code: if verb == "create" { 201 } else { 200 },
            failure: None,
            request_object: None,
            response_object: None,
            annotations: "",
            latency_us: 0,
        }
    }

    pub(crate) fn path(actor: &'c Actor, path: &'static str) -> Req<'c> {
        let mut req = Req::new(actor, "get", PODS, None, None);
        req.target = Target::Path(path);
        req
    }

    pub(crate) fn sub(mut self, sub: &'static str) -> Self {
        if let Target::Resource { sub: s, .. } = &mut self.target {
            *s = Some(sub);
        }
        self
    }

    pub(crate) fn uid(mut self, uid: String) -> Self {
        if let Target::Resource { uid: u, .. } = &mut self.target {
            *u = Some(uid);
        }
        self
    }

    pub(crate) fn query(mut self, query: impl Into<String>) -> Self {
        self.query = query.into();
        self
    }

    pub(crate) fn objects(mut self, request: Option<String>, response: Option<String>) -> Self {
        self.level = Level::RequestResponse;
        self.request_object = request;
        self.response_object = response;
        self
    }

    /// Make it fail with `code`, as the API server words it.
    pub(crate) fn fail(&mut self, code: u16) {
        let Target::Resource {
            res, ns, name, sub, ..
        } = &self.target
        else {
            return;
        };
        let what = if res.group.is_empty() {
            res.name.to_owned()
        } else {
            format!("{}.{}", res.name, res.group)
        };
        let name = name.as_deref().unwrap_or("");
        let (reason, message) = match code {
            403 => {
                let resource = match sub {
                    Some(sub) => format!("{}/{sub}", res.name),
                    None => res.name.to_owned(),
                };
                let scope = match ns {
                    Some(ns) => format!("in the namespace \"{ns}\""),
                    None => "at the cluster scope".to_owned(),
                };
                let subject = if name.is_empty() {
                    what.clone()
                } else {
                    format!("{what} \"{name}\"")
                };
                (
                    "Forbidden",
                    format!(
                        "{subject} is forbidden: User \"{}\" cannot {} resource \"{resource}\" in API group \"{}\" {scope}",
                        self.actor.name, self.verb, res.group
                    ),
                )
            }
            404 => ("NotFound", format!("{what} \"{name}\" not found")),
            409 if self.verb == "create" => {
                ("AlreadyExists", format!("{what} \"{name}\" already exists"))
            }
            409 => (
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {what} \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                ),
            ),
            _ => (
                "Invalid",
                format!(
                    "{} \"{name}\" is invalid: spec.template.spec.containers[0].image: Required value",
                    res.singular
                ),
            ),
        };
        self.code = code;
        self.failure = Some((reason, message));
        self.response_object = None;
        if self.level == Level::RequestResponse && self.request_object.is_none() {
            self.level = Level::Metadata;
        }
    }

    /// Write the event as one line of JSON (no newline) into `out`.
    pub(crate) fn write(&self, out: &mut String, audit_id: &str, stage_us: i64) {
        let received_us = if self.stage == Stage::RequestReceived {
            stage_us
        } else {
            stage_us - self.latency_us
        };
        obj(out, |o| {
            o.s("kind", "Event").s("apiVersion", "audit.k8s.io/v1");
            o.s(
                "level",
                match self.level {
                    Level::Metadata => "Metadata",
                    Level::Request => "Request",
                    Level::RequestResponse => "RequestResponse",
                },
            );
            o.s("auditID", audit_id);
            o.s(
                "stage",
                match self.stage {
                    Stage::RequestReceived => "RequestReceived",
                    Stage::ResponseStarted => "ResponseStarted",
                    Stage::ResponseComplete => "ResponseComplete",
                },
            );
            o.s("requestURI", &self.uri());
            o.s("verb", self.verb);
            let actor = self.actor;
            o.o("user", |u| {
                u.s("username", &actor.name)
                    .opt("uid", actor.uid.as_deref());
                u.a("groups", |a| {
                    for g in &actor.groups {
                        a.s(g);
                    }
                });
                if let Some(extra) = &actor.extra {
                    u.raw("extra", extra);
                }
            });
            o.strs("sourceIPs", &[&actor.ip]);
            o.s("userAgent", &actor.agent);
            if let Target::Resource {
                res,
                ns,
                name,
                sub,
                uid,
            } = &self.target
            {
                o.o("objectRef", |r| {
                    r.s("resource", res.name)
                        .opt("namespace", ns.as_deref())
                        .opt("name", name.as_deref());
                    r.opt("uid", uid.as_deref());
                    if !res.group.is_empty() {
                        r.s("apiGroup", res.group);
                    }
                    r.s("apiVersion", res.version).opt("subresource", *sub);
                });
            }
            if self.stage != Stage::RequestReceived {
                o.o("responseStatus", |r| {
                    r.o("metadata", |_| {});
                    if let Some((reason, message)) = &self.failure {
                        r.s("status", "Failure")
                            .s("message", message)
                            .s("reason", reason);
                        if let Target::Resource {
                            res,
                            name: Some(name),
                            ..
                        } = &self.target
                        {
                            r.o("details", |d| {
                                d.s("name", name);
                                if !res.group.is_empty() {
                                    d.s("group", res.group);
                                }
                                d.s("kind", res.name);
                            });
                        }
                    }
                    r.n("code", self.code);
                });
            }
            if self.level != Level::Metadata {
                if let Some(body) = &self.request_object {
                    o.raw("requestObject", body);
                }
            }
            if self.level == Level::RequestResponse && self.stage == Stage::ResponseComplete {
                if let Some(body) = &self.response_object {
                    o.raw("responseObject", body);
                }
            }
            o.time_us("requestReceivedTimestamp", received_us);
            o.time_us("stageTimestamp", stage_us);
            if self.stage != Stage::RequestReceived {
                let decision = if self.code == 403 { "forbid" } else { "allow" };
                let reason = if self.code == 403 {
                    ""
                } else {
                    self.actor.reason.as_str()
                };
                o.o("annotations", |a| {
                    a.raw_members(self.annotations);
                    a.s("authorization.k8s.io/decision", decision)
                        .s("authorization.k8s.io/reason", reason);
                });
            }
        });
    }

    fn uri(&self) -> String {
        let mut uri = String::with_capacity(96);
        match &self.target {
            Target::Path(path) => uri.push_str(path),
            Target::Resource {
                res, ns, name, sub, ..
            } => {
                if res.group.is_empty() {
                    let _ = write!(uri, "/api/{}", res.version);
                } else {
                    let _ = write!(uri, "/apis/{}/{}", res.group, res.version);
                }
                if let Some(ns) = ns {
                    let _ = write!(uri, "/namespaces/{ns}");
                }
                let _ = write!(uri, "/{}", res.name);
                if let Some(name) = name {
                    let _ = write!(uri, "/{name}");
                }
                if let Some(sub) = sub {
                    let _ = write!(uri, "/{sub}");
                }
            }
        }
        uri.push_str(&self.query);
        uri
    }
}
