//! `requestObject` and `responseObject` bodies: what clients send and what the API server
//! stores (the response adds `uid`, `resourceVersion`, defaults, admission changes).

use crate::json::{Obj, obj, time_s};

/// A pod, or a `Deployment`'s pod template.
#[allow(clippy::struct_excessive_bools)]
pub(crate) struct PodParams<'a> {
    pub ns: &'a str,
    /// Set once the API server has named it (responses; `kubectl run` requests).
    pub name: Option<String>,
    /// `<replicaset>-` for pods a `ReplicaSet` creates.
    pub generate_name: Option<String>,
    pub app: &'a str,
    /// The owning `ReplicaSet`: name, uid, pod-template-hash.
    pub owner: Option<(String, &'a str, &'a str)>,
    pub image: &'a str,
    pub port: u16,
    pub privileged: bool,
    /// Run the privileged container second, behind an ordinary one.
    pub privileged_second: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_path: Option<&'a str>,
    pub uid: String,
    pub rv: u64,
    pub created_s: i64,
    /// `kube-api-access-xxxxx`, added by admission.
    pub token_volume: String,
    pub node: Option<&'a str>,
}

fn labels(o: &mut Obj<'_>, p: &PodParams<'_>) {
    o.o("labels", |l| {
        l.s("app", p.app);
        if let Some((_, _, hash)) = &p.owner {
            l.s("pod-template-hash", hash);
        }
    });
}

fn containers(o: &mut Obj<'_>, p: &PodParams<'_>, response: bool) {
    let container =
        |c: &mut Obj<'_>, name: &str, image: &str, port: u16, privileged: bool, mount: bool| {
            c.s("name", name).s("image", image);
            c.a("ports", |a| {
                a.o(|o| {
                    o.s("name", "http")
                        .n("containerPort", port)
                        .s("protocol", "TCP");
                });
            });
            c.a("env", |a| {
                a.o(|o| {
                    o.s("name", "LOG_LEVEL").s("value", "info");
                });
                a.o(|o| {
                    o.s("name", "POD_NAMESPACE").o("valueFrom", |v| {
                        v.o("fieldRef", |f| {
                            f.s("apiVersion", "v1").s("fieldPath", "metadata.namespace");
                        });
                    });
                });
            });
            c.o("resources", |r| {
                r.o("limits", |l| {
                    l.s("memory", "512Mi");
                });
                r.o("requests", |l| {
                    l.s("cpu", "100m").s("memory", "256Mi");
                });
            });
            if mount || response {
                c.a("volumeMounts", |a| {
                    if mount {
                        if let Some(path) = p.host_path {
                            a.o(|o| {
                                o.s("name", "host").s("mountPath", &format!("/host{path}"));
                            });
                        }
                    }
                    if response {
                        a.o(|o| {
                            o.s("name", &p.token_volume)
                                .b("readOnly", true)
                                .s("mountPath", "/var/run/secrets/kubernetes.io/serviceaccount");
                        });
                    }
                });
            }
            c.o("readinessProbe", |r| {
                r.o("httpGet", |h| {
                    h.s("path", "/healthz").n("port", port).s("scheme", "HTTP");
                });
                r.n("timeoutSeconds", 1)
                    .n("periodSeconds", 10)
                    .n("successThreshold", 1)
                    .n("failureThreshold", 3);
            });
            c.s("terminationMessagePath", "/dev/termination-log")
                .s("terminationMessagePolicy", "File");
            c.s("imagePullPolicy", "IfNotPresent");
            c.o("securityContext", |s| {
                if privileged {
                    s.b("privileged", true);
                } else {
                    s.b("allowPrivilegeEscalation", false)
                        .b("runAsNonRoot", true);
                }
            });
        };
    o.a("containers", |a| {
        if p.privileged_second {
            a.o(|c| container(c, p.app, p.image, p.port, false, false));
            a.o(|c| container(c, "debug", "busybox:1.36", 8081, true, true));
        } else {
            a.o(|c| container(c, p.app, p.image, p.port, p.privileged, true));
        }
    });
}

fn pod_spec(o: &mut Obj<'_>, p: &PodParams<'_>, response: bool) {
    if p.host_path.is_some() || response {
        o.a("volumes", |a| {
            if let Some(path) = p.host_path {
                a.o(|v| {
                    v.s("name", "host").o("hostPath", |h| {
                        h.s("path", path).s("type", "");
                    });
                });
            }
            if response {
                a.o(|v| {
                    v.s("name", &p.token_volume).o("projected", |pr| {
                        pr.a("sources", |s| {
                            s.o(|s| {
                                s.o("serviceAccountToken", |t| {
                                    t.n("expirationSeconds", 3607).s("path", "token");
                                });
                            });
                            s.o(|s| {
                                s.o("configMap", |c| {
                                    c.s("name", "kube-root-ca.crt").a("items", |i| {
                                        i.o(|i| {
                                            i.s("key", "ca.crt").s("path", "ca.crt");
                                        });
                                    });
                                });
                            });
                        });
                        pr.n("defaultMode", 420);
                    });
                });
            }
        });
    }
    containers(o, p, response);
    o.s("restartPolicy", "Always")
        .n("terminationGracePeriodSeconds", 30)
        .s("dnsPolicy", "ClusterFirst");
    if response {
        o.s("serviceAccountName", "default")
            .s("serviceAccount", "default");
        if let Some(node) = p.node {
            o.s("nodeName", node);
        }
    }
    if p.host_network {
        o.b("hostNetwork", true);
    }
    if p.host_pid {
        o.b("hostPID", true);
    }
    o.o("securityContext", |_| {})
        .s("schedulerName", "default-scheduler");
    if response {
        o.a("tolerations", |a| {
            for key in [
                "node.kubernetes.io/not-ready",
                "node.kubernetes.io/unreachable",
            ] {
                a.o(|t| {
                    t.s("key", key)
                        .s("operator", "Exists")
                        .s("effect", "NoExecute")
                        .n("tolerationSeconds", 300);
                });
            }
        });
        o.n("priority", 0)
            .b("enableServiceLinks", true)
            .s("preemptionPolicy", "PreemptLowerPriority");
    }
}

/// A Pod as sent (`response == false`) or as stored.
pub(crate) fn pod(p: &PodParams<'_>, response: bool) -> String {
    let mut out = String::with_capacity(2048);
    obj(&mut out, |o| {
        o.s("kind", "Pod").s("apiVersion", "v1");
        o.o("metadata", |m| {
            if response || p.generate_name.is_none() {
                m.opt("name", p.name.as_deref());
            }
            m.opt("generateName", p.generate_name.as_deref())
                .s("namespace", p.ns);
            if response {
                m.s("uid", &p.uid)
                    .s("resourceVersion", &p.rv.to_string())
                    .s("creationTimestamp", &time_s(p.created_s));
            } else {
                m.raw("creationTimestamp", "null");
            }
            labels(m, p);
            if let Some((name, uid, _)) = &p.owner {
                m.a("ownerReferences", |a| {
                    a.o(|r| {
                        r.s("apiVersion", "apps/v1")
                            .s("kind", "ReplicaSet")
                            .s("name", name)
                            .s("uid", uid);
                        r.b("controller", true).b("blockOwnerDeletion", true);
                    });
                });
            }
        });
        o.o("spec", |s| pod_spec(s, p, response));
        o.o("status", |s| {
            if response {
                s.s("phase", "Pending").s("qosClass", "Burstable");
            }
        });
    });
    out
}

/// A `Deployment` whose template is `p`.
pub(crate) fn deployment(p: &PodParams<'_>, name: &str, replicas: u32, response: bool) -> String {
    let mut out = String::with_capacity(2048);
    obj(&mut out, |o| {
        o.s("kind", "Deployment").s("apiVersion", "apps/v1");
        o.o("metadata", |m| {
            m.s("name", name).s("namespace", p.ns);
            if response {
                m.s("uid", &p.uid)
                    .s("resourceVersion", &p.rv.to_string())
                    .n("generation", 1);
                m.s("creationTimestamp", &time_s(p.created_s));
            } else {
                m.raw("creationTimestamp", "null");
            }
            m.o("labels", |l| {
                l.s("app", p.app);
            });
            m.o("annotations", |a| {
                if response {
                    a.s("deployment.kubernetes.io/revision", "1");
                }
                a.s("kubectl.kubernetes.io/last-applied-configuration", "");
            });
        });
        o.o("spec", |s| {
            s.n("replicas", replicas);
            s.o("selector", |sel| {
                sel.o("matchLabels", |l| {
                    l.s("app", p.app);
                });
            });
            s.o("template", |t| {
                t.o("metadata", |m| {
                    m.raw("creationTimestamp", "null").o("labels", |l| {
                        l.s("app", p.app);
                    });
                });
                t.o("spec", |ps| pod_spec(ps, p, false));
            });
            s.o("strategy", |st| {
                st.s("type", "RollingUpdate").o("rollingUpdate", |r| {
                    r.s("maxUnavailable", "25%").s("maxSurge", "25%");
                });
            });
            s.n("revisionHistoryLimit", 10)
                .n("progressDeadlineSeconds", 600);
        });
        o.o("status", |_| {});
    });
    out
}

/// Stored-object metadata common to the small objects below.
pub(crate) struct Meta<'a> {
    pub name: &'a str,
    pub ns: Option<&'a str>,
    pub uid: String,
    pub rv: u64,
    pub created_s: i64,
}

fn metadata(o: &mut Obj<'_>, m: &Meta<'_>, response: bool) {
    o.o("metadata", |md| {
        md.s("name", m.name).opt("namespace", m.ns);
        if response {
            md.s("uid", &m.uid).s("resourceVersion", &m.rv.to_string());
            md.s("creationTimestamp", &time_s(m.created_s));
        } else {
            md.raw("creationTimestamp", "null");
        }
    });
}

/// A `ClusterRoleBinding` or `RoleBinding` of `role` to one subject.
pub(crate) fn binding(
    m: &Meta<'_>,
    role_kind: &str,
    role: &str,
    subject: (&str, &str, Option<&str>),
    response: bool,
) -> String {
    let mut out = String::with_capacity(640);
    obj(&mut out, |o| {
        let kind = if m.ns.is_some() {
            "RoleBinding"
        } else {
            "ClusterRoleBinding"
        };
        o.s("kind", kind)
            .s("apiVersion", "rbac.authorization.k8s.io/v1");
        metadata(o, m, response);
        o.a("subjects", |a| {
            a.o(|s| {
                let (kind, name, ns) = subject;
                s.s("kind", kind);
                if kind != "ServiceAccount" {
                    s.s("apiGroup", "rbac.authorization.k8s.io");
                }
                s.s("name", name).opt("namespace", ns);
            });
        });
        o.o("roleRef", |r| {
            r.s("apiGroup", "rbac.authorization.k8s.io")
                .s("kind", role_kind)
                .s("name", role);
        });
    });
    out
}

/// A `ClusterRole` or `Role` with `rules` (api groups, resources, verbs).
pub(crate) fn role(m: &Meta<'_>, rules: &[(&[&str], &[&str], &[&str])], response: bool) -> String {
    let mut out = String::with_capacity(640);
    obj(&mut out, |o| {
        let kind = if m.ns.is_some() {
            "Role"
        } else {
            "ClusterRole"
        };
        o.s("kind", kind)
            .s("apiVersion", "rbac.authorization.k8s.io/v1");
        metadata(o, m, response);
        o.a("rules", |a| {
            for (groups, resources, verbs) in rules {
                a.o(|r| {
                    r.strs("verbs", verbs)
                        .strs("apiGroups", groups)
                        .strs("resources", resources);
                });
            }
        });
    });
    out
}

/// A `ConfigMap` with `data`.
pub(crate) fn configmap(m: &Meta<'_>, data: &[(&str, &str)], response: bool) -> String {
    let mut out = String::with_capacity(640);
    obj(&mut out, |o| {
        o.s("kind", "ConfigMap").s("apiVersion", "v1");
        metadata(o, m, response);
        o.o("data", |d| {
            for (k, v) in data {
                d.s(k, v);
            }
        });
    });
    out
}

/// A Service of type `kind` selecting `app`.
pub(crate) fn service(
    m: &Meta<'_>,
    kind: &str,
    app: &str,
    port: u16,
    node_port: u16,
    response: bool,
) -> String {
    let mut out = String::with_capacity(640);
    obj(&mut out, |o| {
        o.s("kind", "Service").s("apiVersion", "v1");
        metadata(o, m, response);
        o.o("spec", |s| {
            s.a("ports", |a| {
                a.o(|p| {
                    p.s("protocol", "TCP").n("port", port).n("targetPort", port);
                    if kind == "NodePort" && response {
                        p.n("nodePort", node_port);
                    }
                });
            });
            s.o("selector", |sel| {
                sel.s("app", app);
            });
            if response {
                s.s("clusterIP", "10.96.143.27")
                    .strs("clusterIPs", &["10.96.143.27"]);
            }
            s.s("type", kind).s("sessionAffinity", "None");
        });
        o.o("status", |s| {
            s.o("loadBalancer", |_| {});
        });
    });
    out
}

/// An object with nothing but metadata: a `Namespace` or a `ServiceAccount`.
pub(crate) fn bare(kind: &str, m: &Meta<'_>, response: bool) -> String {
    let mut out = String::with_capacity(320);
    obj(&mut out, |o| {
        o.s("kind", kind).s("apiVersion", "v1");
        metadata(o, m, response);
        if kind == "Namespace" {
            o.o("spec", |s| {
                if response {
                    s.strs("finalizers", &["kubernetes"]);
                }
            });
            o.o("status", |s| {
                if response {
                    s.s("phase", "Active");
                }
            });
        }
    });
    out
}
