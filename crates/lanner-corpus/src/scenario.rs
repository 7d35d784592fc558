//! What happens in the cluster: the benign background traffic of a busy cluster (leases,
//! status updates, watches, controllers reconciling, people running kubectl), and risky
//! requests that the default Falco k8s audit rules are written to catch.

use fastrand::Rng;

use crate::cluster::{
    ADDONS, Actor, Addon, CONTROLLERS, Cluster, Ctl, Infra, NAMESPACES, Workload, suffix, uuid,
};
use crate::event::{
    APISERVICES, APPLICATIONS, CERTIFICATES, CLUSTERROLEBINDINGS, CLUSTERROLES, CONFIGMAPS, CRDS,
    CRONJOBS, CSINODES, DAEMONSETS, DEPLOYMENTS, ENDPOINTS, ENDPOINTSLICES, EVENTS, FLOWSCHEMAS,
    HPAS, INGRESSES, JOBS, LEASES, Level, NAMESPACES as NAMESPACES_RES, NODEMETRICS, NODES, PDBS,
    PODMETRICS, PODS, PRIORITYCLASSES, PVCS, REPLICASETS, RESOURCEQUOTAS, ROLEBINDINGS, ROLES, Req,
    Res, SARS, SECRETS, SERVICEACCOUNTS, SERVICES, STATEFULSETS, Stage, TOKENREVIEWS,
};
use crate::objects::{Meta, PodParams, bare, binding, configmap, deployment, pod, role, service};

/// Mutable generation state besides the cluster.
pub(crate) struct Ctx {
    pub rng: Rng,
    /// The cluster's etcd revision, for `resourceVersion`s.
    pub rv: u64,
    /// The current time, microseconds since the epoch.
    pub now_us: i64,
}

impl Ctx {
    fn rv(&mut self) -> u64 {
        self.rv += self.rng.u64(1..40);
        self.rv
    }

    fn now_s(&self) -> i64 {
        self.now_us / 1_000_000
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.rng.usize(0..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// An index into `weights`, drawn in proportion to them.
    fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut draw = self.rng.u32(0..total);
        for (i, &w) in weights.iter().enumerate() {
            if draw < w {
                return i;
            }
            draw -= w;
        }
        weights.len() - 1
    }

    fn watch_query(&mut self) -> String {
        let timeout = self.rng.u32(300..600);
        let rv = self.rv.saturating_sub(self.rng.u64(0..5000));
        format!(
            "?allowWatchBookmarks=true&resourceVersion={rv}&timeout={}m{}s&timeoutSeconds={timeout}&watch=true",
            timeout / 60,
            timeout % 60
        )
    }

    fn workload<'c>(&mut self, cluster: &'c Cluster) -> &'c Workload {
        &cluster.workloads[self.rng.usize(0..cluster.workloads.len())]
    }

    /// A workload outside kube-system, and one of its pods.
    fn pod<'c>(&mut self, cluster: &'c Cluster) -> (&'c Workload, &'c str) {
        let w = self.workload(cluster);
        let pod = &w.pods[self.rng.usize(0..w.pods.len())];
        (w, pod)
    }

    fn node<'c>(&mut self, cluster: &'c Cluster) -> &'c str {
        &cluster.node_names[self.rng.usize(0..cluster.node_names.len())]
    }
}

/// Resources that list/watch-heavy clients follow.
const WATCHED: &[&Res] = &[
    PODS,
    NODES,
    SERVICES,
    ENDPOINTSLICES,
    CONFIGMAPS,
    NAMESPACES_RES,
    DEPLOYMENTS,
    REPLICASETS,
    DAEMONSETS,
    STATEFULSETS,
    JOBS,
    PVCS,
    INGRESSES,
    SERVICEACCOUNTS,
    PDBS,
];

fn list<'c>(ctx: &mut Ctx, actor: &'c Actor, res: &'static Res, ns: Option<&str>) -> Req<'c> {
    let query = if ctx.chance(0.5) {
        "?limit=500&resourceVersion=0"
    } else {
        "?resourceVersion=0"
    };
    Req::new(actor, "list", res, ns, None).query(query)
}

fn watch<'c>(ctx: &mut Ctx, actor: &'c Actor, res: &'static Res, ns: Option<&str>) -> Req<'c> {
    let query = ctx.watch_query();
    Req::new(actor, "watch", res, ns, None).query(query)
}

fn lease<'c>(ctx: &mut Ctx, actor: &'c Actor, verb: &'static str, ns: &str, name: &str) -> Req<'c> {
    let query = if ctx.chance(0.5) {
        "?timeout=5s"
    } else {
        "?timeout=10s"
    };
    Req::new(actor, verb, LEASES, Some(ns), Some(name)).query(query)
}

fn event_create<'c>(ctx: &mut Ctx, actor: &'c Actor, cluster: &Cluster) -> Req<'c> {
    let w = ctx.workload(cluster);
    Req::new(actor, "create", EVENTS, Some(w.ns), None)
}

/// A pod that `w`'s `ReplicaSet` (or someone with kubectl) creates, with the request and
/// response bodies.
fn pod_params<'w>(
    ctx: &mut Ctx,
    cluster: &'w Cluster,
    w: &'w Workload,
    owned: bool,
) -> PodParams<'w> {
    let rs = format!("{}-{}", w.name, w.rs_hash);
    let name = format!("{rs}-{}", suffix(&mut ctx.rng, 5));
    let node = ctx.node(cluster);
    PodParams {
        ns: w.ns,
        name: Some(if owned { name } else { w.name.to_owned() }),
        generate_name: owned.then(|| format!("{rs}-")),
        app: w.name,
        owner: owned.then_some((rs, w.rs_uid.as_str(), w.rs_hash.as_str())),
        image: w.image,
        port: w.port,
        privileged: false,
        privileged_second: false,
        host_network: false,
        host_pid: false,
        host_path: None,
        uid: uuid(&mut ctx.rng),
        rv: ctx.rv(),
        created_s: ctx.now_s(),
        token_volume: format!("kube-api-access-{}", suffix(&mut ctx.rng, 5)),
        node: Some(node),
    }
}

fn pod_create<'c>(actor: &'c Actor, p: &PodParams<'_>, kubectl: bool) -> Req<'c> {
    let query = if kubectl {
        "?fieldManager=kubectl-run&fieldValidation=Strict"
    } else {
        ""
    };
    Req::new(
        actor,
        "create",
        PODS,
        Some(p.ns),
        p.name.as_deref().filter(|_| p.generate_name.is_none()),
    )
    .query(query)
    .objects(Some(pod(p, false)), Some(pod(p, true)))
    .with_annotations("\"pod-security.kubernetes.io/enforce-policy\":\"privileged:latest\"")
}

impl Req<'_> {
    fn with_annotations(mut self, annotations: &'static str) -> Self {
        self.annotations = annotations;
        self
    }
}

fn not_kube_system<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> &'c Workload {
    loop {
        let w = ctx.workload(cluster);
        if w.ns != "kube-system" {
            return w;
        }
    }
}

/// Ordinary traffic: what the cluster does all day.
pub(crate) fn benign<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    // Shares of traffic by who sends it; about 80% are `system:` accounts.
    match ctx.weighted(&[290, 60, 50, 240, 90, 90, 100, 80]) {
        0 => node(ctx, cluster),
        1 => controller_manager(ctx, cluster),
        2 => scheduler(ctx, cluster),
        3 => controller(ctx, cluster),
        4 => apiserver(ctx, cluster),
        5 => addon(ctx, cluster),
        6 => admin(ctx, cluster),
        _ => infra(ctx, cluster),
    }
}

fn node<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let i = ctx.rng.usize(0..cluster.nodes.len());
    let (actor, name) = (&cluster.nodes[i], cluster.node_names[i].as_str());
    match ctx.weighted(&[20, 18, 14, 6, 20, 6, 6, 4, 4, 3, 3, 3, 3]) {
        0 => {
            Req::new(actor, "get", NODES, None, Some(name)).query("?resourceVersion=0&timeout=10s")
        }
        1 => lease(ctx, actor, "get", "kube-node-lease", name),
        2 => lease(ctx, actor, "update", "kube-node-lease", name),
        3 => Req::new(actor, "patch", NODES, None, Some(name))
            .sub("status")
            .query("?timeout=10s"),
        4 => {
            let (w, pod) = ctx.pod(cluster);
            Req::new(actor, "get", PODS, Some(w.ns), Some(pod))
        }
        5 => {
            let (w, pod) = ctx.pod(cluster);
            Req::new(actor, "patch", PODS, Some(w.ns), Some(pod)).sub("status")
        }
        6 => {
            let ns = ctx.pick(NAMESPACES);
            Req::new(actor, "get", CONFIGMAPS, Some(ns), Some("kube-root-ca.crt"))
        }
        7 => {
            let ns = ctx.pick(NAMESPACES);
            let q = ctx.watch_query().replacen(
                '?',
                "?fieldSelector=metadata.name%3Dkube-root-ca.crt&",
                1,
            );
            Req::new(actor, "watch", CONFIGMAPS, Some(ns), None).query(q)
        }
        8 => event_create(ctx, actor, cluster),
        9 => list(ctx, actor, SERVICES, None),
        10 => watch(ctx, actor, SERVICES, None),
        11 => Req::new(actor, "get", CSINODES, None, Some(name)),
        _ => {
            let (w, _) = ctx.pod(cluster);
            let q =
                ctx.watch_query()
                    .replacen('?', "?fieldSelector=metadata.name%3Ddefault-token&", 1);
            Req::new(actor, "watch", SECRETS, Some(w.ns), None).query(q)
        }
    }
}

fn controller_manager<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let actor = &cluster.controller_manager;
    match ctx.weighted(&[40, 38, 4, 4, 8, 6]) {
        0 => lease(ctx, actor, "get", "kube-system", "kube-controller-manager"),
        1 => lease(
            ctx,
            actor,
            "update",
            "kube-system",
            "kube-controller-manager",
        ),
        2 => Req::new(actor, "create", TOKENREVIEWS, None, None),
        3 => Req::new(actor, "create", SARS, None, None),
        4 => {
            let res = ctx.pick(&[
                CONFIGMAPS,
                SECRETS,
                SERVICEACCOUNTS,
                PODS,
                NODES,
                NAMESPACES_RES,
            ]);
            watch(ctx, actor, res, None)
        }
        _ => Req::new(
            actor,
            "get",
            CONFIGMAPS,
            Some("kube-system"),
            Some("extension-apiserver-authentication"),
        ),
    }
}

fn scheduler<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let actor = &cluster.scheduler;
    match ctx.weighted(&[30, 28, 14, 8, 10, 6]) {
        0 => lease(ctx, actor, "get", "kube-system", "kube-scheduler"),
        1 => lease(ctx, actor, "update", "kube-system", "kube-scheduler"),
        2 => {
            let (w, pod) = ctx.pod(cluster);
            Req::new(actor, "create", PODS, Some(w.ns), Some(pod)).sub("binding")
        }
        3 => event_create(ctx, actor, cluster),
        4 => {
            let res = ctx.pick(&[PODS, NODES, PVCS, CSINODES, NAMESPACES_RES, PDBS]);
            watch(ctx, actor, res, None)
        }
        _ => {
            let res = ctx.pick(&[PODS, NODES, PVCS, CSINODES, NAMESPACES_RES, PDBS]);
            list(ctx, actor, res, None)
        }
    }
}

fn controller<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let weights: Vec<u32> = CONTROLLERS.iter().map(|c| c.2).collect();
    let i = ctx.weighted(&weights);
    let actor = &cluster.controllers[i];
    let w = not_kube_system(ctx, cluster);
    let pod = w.pods[ctx.rng.usize(0..w.pods.len())].as_str();
    let rs = format!("{}-{}", w.name, w.rs_hash);
    match CONTROLLERS[i].0 {
        Ctl::ReplicaSet => match ctx.weighted(&[25, 25, 20, 10, 15]) {
            0 => {
                let p = pod_params(ctx, cluster, w, true);
                pod_create(actor, &p, false)
            }
            1 => Req::new(actor, "update", REPLICASETS, Some(w.ns), Some(&rs)).sub("status"),
            2 => Req::new(actor, "get", REPLICASETS, Some(w.ns), Some(&rs)),
            3 => Req::new(actor, "delete", PODS, Some(w.ns), Some(pod)),
            _ => event_create(ctx, actor, cluster),
        },
        Ctl::Deployment => match ctx.weighted(&[40, 30, 15, 15]) {
            0 => Req::new(actor, "update", DEPLOYMENTS, Some(w.ns), Some(w.name)).sub("status"),
            1 => Req::new(actor, "get", DEPLOYMENTS, Some(w.ns), Some(w.name)),
            2 => Req::new(actor, "get", REPLICASETS, Some(w.ns), Some(&rs)),
            _ => event_create(ctx, actor, cluster),
        },
        Ctl::EndpointSlice => match ctx.weighted(&[60, 25, 15]) {
            0 => {
                let name = format!("{}-{}", w.name, suffix(&mut ctx.rng, 5));
                Req::new(actor, "update", ENDPOINTSLICES, Some(w.ns), Some(&name))
            }
            1 => Req::new(actor, "get", SERVICES, Some(w.ns), Some(w.name)),
            _ => event_create(ctx, actor, cluster),
        },
        Ctl::Endpoint => match ctx.weighted(&[60, 40]) {
            0 => Req::new(actor, "update", ENDPOINTS, Some(w.ns), Some(w.name)),
            _ => Req::new(actor, "get", ENDPOINTS, Some(w.ns), Some(w.name)),
        },
        Ctl::GarbageCollector => match ctx.weighted(&[50, 25, 15, 5]) {
            0 => {
                let (res, name) = *ctx.pick(&[
                    &(PODS, pod),
                    &(REPLICASETS, rs.as_str()),
                    &(DEPLOYMENTS, w.name),
                ]);
                Req::new(actor, "get", res, Some(w.ns), Some(name))
            }
            1 => {
                let res = ctx.pick(WATCHED);
                list(ctx, actor, res, None)
            }
            2 => {
                let res = ctx.pick(WATCHED);
                watch(ctx, actor, res, None)
            }
            _ => Req::new(actor, "delete", PODS, Some(w.ns), Some(pod)),
        },
        Ctl::Namespace => {
            let ns = ctx.pick(NAMESPACES);
            if ctx.chance(0.5) {
                let res = ctx.pick(WATCHED);
                list(ctx, actor, res, Some(ns))
            } else {
                Req::new(actor, "get", NAMESPACES_RES, None, Some(ns))
            }
        }
        Ctl::Node => match ctx.weighted(&[50, 20, 30]) {
            0 => Req::new(actor, "get", NODES, None, Some(ctx.node(cluster))),
            1 => Req::new(actor, "patch", NODES, None, Some(ctx.node(cluster))),
            _ => {
                let node = ctx.node(cluster);
                list(ctx, actor, PODS, None).query(format!("?fieldSelector=spec.nodeName%3D{node}"))
            }
        },
        Ctl::PodGc => match ctx.weighted(&[50, 50]) {
            0 => list(ctx, actor, PODS, None),
            _ => list(ctx, actor, NODES, None),
        },
        Ctl::Hpa => match ctx.weighted(&[40, 40, 20]) {
            0 => Req::new(actor, "get", DEPLOYMENTS, Some(w.ns), Some(w.name)).sub("scale"),
            1 => list(ctx, actor, PODMETRICS, Some(w.ns))
                .query(format!("?labelSelector=app%3D{}", w.name)),
            _ => Req::new(actor, "update", HPAS, Some(w.ns), Some(w.name)).sub("status"),
        },
        Ctl::Job | Ctl::CronJob => match ctx.weighted(&[30, 30, 20, 10, 10]) {
            0 => Req::new(actor, "get", CRONJOBS, Some(w.ns), Some("nightly-report")),
            1 => list(ctx, actor, JOBS, None),
            2 => Req::new(
                actor,
                "update",
                JOBS,
                Some(w.ns),
                Some("nightly-report-28573920"),
            )
            .sub("status"),
            3 => Req::new(actor, "create", JOBS, Some(w.ns), None),
            _ => event_create(ctx, actor, cluster),
        },
        Ctl::ResourceQuota => match ctx.weighted(&[50, 50]) {
            0 => list(ctx, actor, RESOURCEQUOTAS, None),
            _ => {
                Req::new(actor, "update", RESOURCEQUOTAS, Some(w.ns), Some("compute")).sub("status")
            }
        },
        Ctl::Coredns => {
            let res = ctx.pick(&[ENDPOINTSLICES, SERVICES, NAMESPACES_RES]);
            if ctx.chance(0.7) {
                watch(ctx, actor, res, None)
            } else {
                list(ctx, actor, res, None)
            }
        }
        Ctl::KubeProxy => match ctx.weighted(&[40, 40, 20]) {
            0 => watch(ctx, actor, ENDPOINTSLICES, None),
            1 => watch(ctx, actor, SERVICES, None),
            _ => Req::new(actor, "get", NODES, None, Some(ctx.node(cluster))),
        },
        Ctl::MetricsServer => match ctx.weighted(&[30, 30, 20, 20]) {
            0 => list(ctx, actor, NODES, None),
            1 => Req::new(actor, "create", SARS, None, None),
            2 => Req::new(actor, "create", TOKENREVIEWS, None, None),
            _ => Req::new(
                actor,
                "get",
                CONFIGMAPS,
                Some("kube-system"),
                Some("extension-apiserver-authentication"),
            ),
        },
    }
}

fn apiserver<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let actor = &cluster.apiserver;
    match ctx.weighted(&[15, 12, 10, 8, 15, 15, 6, 5, 4, 4]) {
        0 => {
            let ns = ctx.pick(&["default", "kube-system", "kube-public", "kube-node-lease"]);
            Req::new(actor, "get", NAMESPACES_RES, None, Some(ns))
        }
        1 => Req::new(actor, "get", SERVICES, Some("default"), Some("kubernetes")),
        2 => Req::new(actor, "get", ENDPOINTS, Some("default"), Some("kubernetes")),
        3 => Req::new(
            actor,
            "get",
            ENDPOINTSLICES,
            Some("default"),
            Some("kubernetes"),
        ),
        4 => lease(ctx, actor, "get", "kube-system", &cluster.apiserver_lease),
        5 => lease(
            ctx,
            actor,
            "update",
            "kube-system",
            &cluster.apiserver_lease,
        ),
        6 => {
            let res = ctx.pick(&[PRIORITYCLASSES, FLOWSCHEMAS, APISERVICES, CRDS]);
            list(ctx, actor, res, None)
        }
        7 => Req::new(
            actor,
            "get",
            APISERVICES,
            None,
            Some("v1beta1.metrics.k8s.io"),
        ),
        8 => {
            let name = ctx.pick(&[
                "system-leader-election",
                "workload-leader-election",
                "kube-controller-manager",
                "service-accounts",
                "global-default",
            ]);
            Req::new(actor, "patch", FLOWSCHEMAS, None, Some(name)).sub("status")
        }
        _ => Req::new(
            actor,
            "get",
            PRIORITYCLASSES,
            None,
            Some("system-node-critical"),
        ),
    }
}

fn addon<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let weights: Vec<u32> = ADDONS.iter().map(|a| a.3).collect();
    let i = ctx.weighted(&weights);
    let (kind, own_ns, name, _) = ADDONS[i];
    let actor = &cluster.addons[i];
    let w = not_kube_system(ctx, cluster);
    match kind {
        Addon::Prometheus => match ctx.weighted(&[15, 15, 30, 10, 10]) {
            0 => {
                let res = ctx.pick(&[PODS, ENDPOINTS, SERVICES, NODES]);
                list(ctx, actor, res, None)
            }
            1 => {
                let res = ctx.pick(&[PODS, ENDPOINTS, SERVICES, NODES]);
                watch(ctx, actor, res, None)
            }
            2 => {
                let node = ctx.node(cluster);
                let path = ctx.pick(&["/metrics", "/metrics/cadvisor", "/metrics/probes"]);
                Req::new(actor, "get", NODES, None, Some(node))
                    .sub("proxy")
                    .query(path)
            }
            3 => Req::path(actor, "/metrics"),
            _ => list(ctx, actor, NODEMETRICS, None),
        },
        Addon::IngressNginx => match ctx.weighted(&[15, 15, 20, 10, 10]) {
            0 => lease(ctx, actor, "get", own_ns, "ingress-nginx-leader"),
            1 => lease(ctx, actor, "update", own_ns, "ingress-nginx-leader"),
            2 => {
                let res = ctx.pick(&[INGRESSES, SERVICES, ENDPOINTSLICES, CONFIGMAPS]);
                watch(ctx, actor, res, None)
            }
            3 => Req::new(
                actor,
                "get",
                CONFIGMAPS,
                Some(own_ns),
                Some("ingress-nginx-controller"),
            ),
            _ => Req::new(actor, "update", INGRESSES, Some(w.ns), Some(w.name)).sub("status"),
        },
        Addon::CertManager => match ctx.weighted(&[15, 15, 20, 15, 10]) {
            0 => lease(ctx, actor, "get", "kube-system", "cert-manager-controller"),
            1 => lease(
                ctx,
                actor,
                "update",
                "kube-system",
                "cert-manager-controller",
            ),
            2 => Req::new(
                actor,
                "get",
                CERTIFICATES,
                Some(w.ns),
                Some(&format!("{}-tls", w.name)),
            ),
            3 => Req::new(
                actor,
                "update",
                CERTIFICATES,
                Some(w.ns),
                Some(&format!("{}-tls", w.name)),
            )
            .sub("status"),
            _ => watch(ctx, actor, CERTIFICATES, None),
        },
        Addon::ArgoCd => match ctx.weighted(&[20, 20, 30, 15, 10]) {
            0 => {
                let res = ctx.pick(WATCHED);
                list(ctx, actor, res, None)
            }
            1 => {
                let res = ctx.pick(WATCHED);
                watch(ctx, actor, res, None)
            }
            2 => {
                let (res, n) = *ctx.pick(&[
                    &(DEPLOYMENTS, w.name),
                    &(SERVICES, w.name),
                    &(CONFIGMAPS, "app-config"),
                ]);
                Req::new(actor, "get", res, Some(w.ns), Some(n))
            }
            3 => Req::new(actor, "patch", APPLICATIONS, Some(own_ns), Some(w.ns)),
            _ => Req::new(actor, "get", APPLICATIONS, Some(own_ns), Some(w.ns)),
        },
        Addon::ExternalDns => {
            let _ = name;
            let res = ctx.pick(&[SERVICES, INGRESSES, NODES, PODS]);
            if ctx.chance(0.8) {
                list(ctx, actor, res, None)
            } else {
                watch(ctx, actor, res, None)
            }
        }
    }
}

fn admin<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let actor = &cluster.admins[ctx.rng.usize(0..cluster.admins.len())];
    let (w, pod) = ctx.pod(cluster);
    match ctx.weighted(&[22, 14, 10, 8, 8, 6, 6, 5, 5, 4, 4, 3, 14, 2]) {
        0 => Req::new(actor, "get", PODS, Some(w.ns), Some(pod)),
        1 => list(ctx, actor, PODS, Some(w.ns)).query("?limit=500"),
        2 => Req::new(actor, "get", DEPLOYMENTS, Some(w.ns), Some(w.name)),
        3 => Req::new(actor, "get", PODS, Some(w.ns), Some(pod))
            .sub("log")
            .query(format!("?container={}&tailLines=100", w.name)),
        4 => list(ctx, actor, EVENTS, Some(w.ns)).query("?limit=500"),
        5 => Req::new(actor, "patch", DEPLOYMENTS, Some(w.ns), Some(w.name))
            .query("?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
        6 => list(ctx, actor, NODES, None).query("?limit=500"),
        7 => Req::new(actor, "get", CONFIGMAPS, Some(w.ns), Some("app-config")),
        8 => Req::new(actor, "get", SERVICES, Some(w.ns), Some(w.name)),
        9 => Req::new(actor, "delete", PODS, Some(w.ns), Some(pod)),
        10 => list(ctx, actor, NAMESPACES_RES, None).query("?limit=500"),
        11 => Req::new(actor, "get", STATEFULSETS, Some(w.ns), Some(w.name)),
        12 => {
            let path = ctx.pick(&[
                "/api",
                "/apis",
                "/version",
                "/openapi/v3",
                "/api?timeout=32s",
                "/apis?timeout=32s",
            ]);
            Req::path(actor, path)
        }
        _ => {
            let w = not_kube_system(ctx, cluster);
            let p = pod_params(ctx, cluster, w, false);
            pod_create(actor, &p, true)
        }
    }
}

fn infra<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    let (kind, actor) = &cluster.infra[ctx.rng.usize(0..cluster.infra.len())];
    match kind {
        Infra::KubeProxy => match ctx.weighted(&[40, 40, 20]) {
            0 => watch(ctx, actor, SERVICES, None),
            1 => watch(ctx, actor, ENDPOINTSLICES, None),
            _ => Req::new(actor, "get", NODES, None, Some(ctx.node(cluster))),
        },
        Infra::Autoscaler => match ctx.weighted(&[20, 20, 20, 20, 20]) {
            0 => Req::new(
                actor,
                "get",
                CONFIGMAPS,
                Some("kube-system"),
                Some("cluster-autoscaler-status"),
            ),
            1 => Req::new(
                actor,
                "update",
                CONFIGMAPS,
                Some("kube-system"),
                Some("cluster-autoscaler-status"),
            ),
            2 => lease(ctx, actor, "get", "kube-system", "cluster-autoscaler"),
            3 => lease(ctx, actor, "update", "kube-system", "cluster-autoscaler"),
            _ => {
                let res = ctx.pick(&[PODS, NODES, PDBS, STATEFULSETS]);
                list(ctx, actor, res, None)
            }
        },
        Infra::NodeManager => match ctx.weighted(&[40, 30, 30]) {
            0 => Req::new(actor, "get", NODES, None, Some(ctx.node(cluster))),
            1 => Req::new(
                actor,
                "get",
                CONFIGMAPS,
                Some("kube-system"),
                Some("aws-auth"),
            ),
            _ => list(ctx, actor, PODS, None),
        },
        Infra::Vpa => match ctx.weighted(&[50, 50]) {
            0 => list(ctx, actor, PODMETRICS, None),
            _ => watch(ctx, actor, PODS, None),
        },
    }
}

/// Requests the default rules exist for.
pub(crate) fn risky<'c>(ctx: &mut Ctx, cluster: &'c Cluster) -> Req<'c> {
    // Mostly people the rules allow, so that the rule that fires is the one the request
    // is about rather than "Disallowed K8s User".
    let actor = if ctx.chance(0.3) {
        &cluster.strangers[ctx.rng.usize(0..cluster.strangers.len())]
    } else {
        &cluster.admins[ctx.rng.usize(0..cluster.admins.len())]
    };
    let rs_controller = &cluster.controllers[0];
    let w = not_kube_system(ctx, cluster);
    let pod_name = w.pods[ctx.rng.usize(0..w.pods.len())].as_str();
    let created_s = ctx.now_s();
    let weights = [
        10, 8, 8, 3, 6, 10, 3, 3, 10, 8, 8, 10, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2,
    ];
    match ctx.weighted(&weights) {
        // Pods that break out of their sandbox.
        which @ 0..=3 => {
            let by_controller = ctx.chance(0.5);
            let mut p = pod_params(ctx, cluster, w, by_controller);
            match which {
                0 => {
                    p.privileged = true;
                    p.privileged_second = ctx.chance(0.3);
                    p.image = ctx.pick(&[
                        "docker.io/library/alpine:3.19",
                        "busybox:1.36",
                        "nicolaka/netshoot:v0.12",
                        w.image,
                    ]);
                }
                1 => p.host_network = true,
                2 => {
                    p.host_path = Some(ctx.pick(&[
                        "/",
                        "/etc",
                        "/proc",
                        "/var/run/docker.sock",
                        "/run/containerd/containerd.sock",
                        "/var/lib/kubelet",
                        "/etc/kubernetes",
                        "/root",
                    ]));
                }
                _ => p.host_pid = true,
            }
            pod_create(
                if by_controller { rs_controller } else { actor },
                &p,
                !by_controller,
            )
        }
        4 => {
            let name = format!("{}-admin", actor.name.split('@').next().unwrap_or("ops"));
            let m = Meta {
                name: &name,
                ns: None,
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            let subject = ("User", actor.name.as_str(), None);
            Req::new(actor, "create", CLUSTERROLEBINDINGS, None, Some(&name))
                .query("?fieldManager=kubectl-create&fieldValidation=Strict")
                .objects(
                    Some(binding(&m, "ClusterRole", "cluster-admin", subject, false)),
                    Some(binding(&m, "ClusterRole", "cluster-admin", subject, true)),
                )
        }
        // Exec, attach, port-forward.
        which @ 5..=7 => {
            let sub = ["exec", "attach", "portforward"][which - 5];
            let query = match sub {
                "exec" => {
                    let cmd = ctx.pick(&["sh", "bash", "cat&command=%2Fetc%2Fshadow", "env"]);
                    format!(
                        "?command={cmd}&container={}&stdin=true&stdout=true&tty=true",
                        w.name
                    )
                }
                "attach" => format!("?container={}&stdin=true&stdout=true&tty=true", w.name),
                _ => "?ports=8080".to_owned(),
            };
            let mut req = Req::new(
                actor,
                if ctx.chance(0.8) { "create" } else { "get" },
                PODS,
                Some(w.ns),
                Some(pod_name),
            )
            .sub(sub)
            .query(query);
            req.level = Level::Request;
            req.stage = Stage::ResponseStarted;
            req.code = 101;
            req
        }
        8 => {
            let name = ctx.pick(&[
                "db-credentials",
                "stripe-api-key",
                "registry-pull-secret",
                "tls-wildcard",
            ]);
            let mut req = Req::new(actor, "get", SECRETS, Some(w.ns), Some(name));
            if ctx.chance(0.2) {
                req.fail(403);
            }
            req
        }
        9 => {
            let data: &[(&str, &str)] = &[
                (
                    "app.properties",
                    "region=eu-west-1\nbucket=reports-prod\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
                ),
                (
                    "ui.properties",
                    "color.good=purple\ncolor.bad=yellow\nallow.textmode=true\n",
                ),
            ];
            let name = "app-config";
            let m = Meta {
                name,
                ns: Some(w.ns),
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            let verb = if ctx.chance(0.5) { "create" } else { "update" };
            Req::new(actor, verb, CONFIGMAPS, Some(w.ns), Some(name))
                .uid(m.uid.clone())
                .objects(
                    Some(configmap(&m, data, false)),
                    Some(configmap(&m, data, true)),
                )
        }
        10 => {
            let anon = &cluster.anonymous;
            match ctx.weighted(&[40, 30, 30]) {
                0 => list(ctx, anon, PODS, None),
                1 => Req::new(
                    anon,
                    "get",
                    SECRETS,
                    Some("kube-system"),
                    Some("bootstrap-token-abcdef"),
                ),
                _ => list(ctx, anon, CONFIGMAPS, Some("kube-system")),
            }
        }
        11 => {
            let stranger = &cluster.strangers[ctx.rng.usize(0..cluster.strangers.len())];
            match ctx.weighted(&[40, 30, 30]) {
                0 => Req::new(stranger, "get", PODS, Some(w.ns), Some(pod_name)),
                1 => list(ctx, stranger, PODS, Some(w.ns)).query("?limit=500"),
                _ => Req::new(stranger, "patch", DEPLOYMENTS, Some(w.ns), Some(w.name))
                    .query("?fieldManager=kubectl-client-side-apply&fieldValidation=Strict"),
            }
        }
        12 => {
            let namespaced = ctx.chance(0.5);
            let name = ctx.pick(&["ops-all", "debugger", "ci-writer", "pod-exec"]);
            let rules: &[(&[&str], &[&str], &[&str])] = match ctx.rng.u8(0..3) {
                0 => &[(&["*"], &["*"], &["*"])],
                1 => &[(&[""], &["pods", "pods/exec"], &["get", "list", "create"])],
                _ => &[(
                    &["apps"],
                    &["deployments"],
                    &["get", "list", "update", "patch", "create"],
                )],
            };
            let ns = namespaced.then_some(w.ns);
            let m = Meta {
                name,
                ns,
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            let res = if namespaced { ROLES } else { CLUSTERROLES };
            Req::new(actor, "create", res, ns, Some(name))
                .objects(Some(role(&m, rules, false)), Some(role(&m, rules, true)))
        }
        13 => {
            let mut p = pod_params(ctx, cluster, w, false);
            p.uid.clone_from(&w.uid);
            let replicas = ctx.rng.u32(1..5);
            Req::new(actor, "create", DEPLOYMENTS, Some(w.ns), Some(w.name))
                .query("?fieldManager=kubectl-client-side-apply&fieldValidation=Strict")
                .objects(
                    Some(deployment(&p, w.name, replicas, false)),
                    Some(deployment(&p, w.name, replicas, true)),
                )
        }
        14 => {
            let mut p = pod_params(ctx, cluster, w, false);
            p.ns = "kube-system";
            pod_create(actor, &p, true)
        }
        15 => {
            let m = Meta {
                name: w.name,
                ns: Some(w.ns),
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            let node_port = ctx.rng.u16(30000..32768);
            Req::new(actor, "create", SERVICES, Some(w.ns), Some(w.name)).objects(
                Some(service(&m, "NodePort", w.name, w.port, node_port, false)),
                Some(service(&m, "NodePort", w.name, w.port, node_port, true)),
            )
        }
        16 => {
            let name = ctx.pick(&["sandbox", "tmp-test", "crypto", "foo"]);
            let m = Meta {
                name,
                ns: None,
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            Req::new(actor, "create", NAMESPACES_RES, None, Some(name)).objects(
                Some(bare("Namespace", &m, false)),
                Some(bare("Namespace", &m, true)),
            )
        }
        17 => {
            let name = format!("{}-view", w.name);
            let m = Meta {
                name: &name,
                ns: Some(w.ns),
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            let subject = ("ServiceAccount", "default", Some(w.ns));
            Req::new(actor, "create", ROLEBINDINGS, Some(w.ns), Some(&name)).objects(
                Some(binding(&m, "ClusterRole", "view", subject, false)),
                Some(binding(&m, "ClusterRole", "view", subject, true)),
            )
        }
        18 => {
            let name = ctx.pick(&["backup-agent", "tiller", "helper"]);
            let m = Meta {
                name,
                ns: Some("kube-system"),
                uid: uuid(&mut ctx.rng),
                rv: ctx.rv(),
                created_s,
            };
            Req::new(
                actor,
                "create",
                SERVICEACCOUNTS,
                Some("kube-system"),
                Some(name),
            )
            .objects(
                Some(bare("ServiceAccount", &m, false)),
                Some(bare("ServiceAccount", &m, true)),
            )
        }
        19 => {
            let name = ctx.pick(&[
                "system:node-problem-detector",
                "system:aggregate-to-edit",
                "system:kube-dns",
            ]);
            let verb = if ctx.chance(0.8) { "patch" } else { "delete" };
            Req::new(actor, verb, CLUSTERROLES, None, Some(name))
        }
        20 => Req::new(actor, "create", INGRESSES, Some(w.ns), Some(w.name)),
        21 => Req::new(actor, "create", SECRETS, Some(w.ns), Some("db-credentials")),
        _ => Req::new(actor, "patch", PODS, Some(w.ns), Some(pod_name)).sub("ephemeralcontainers"),
    }
}

/// Fill in what every request needs: latency, stage, the odd failure.
pub(crate) fn finish(ctx: &mut Ctx, req: &mut Req<'_>, benign: bool) {
    req.latency_us = match req.verb {
        "get" => i64::from(ctx.rng.u32(250..6_000)),
        "list" => i64::from(ctx.rng.u32(1_500..90_000)),
        "watch" => 0,
        "create" => i64::from(ctx.rng.u32(2_000..35_000)),
        _ => i64::from(ctx.rng.u32(1_500..18_000)),
    };
    if req.verb == "watch" {
        // A watch is audited when it starts and again when it ends, minutes later.
        if ctx.chance(0.5) {
            req.stage = Stage::ResponseStarted;
            req.latency_us = i64::from(ctx.rng.u32(500..3_000));
        } else {
            let timeout: i64 = req
                .query
                .split("timeoutSeconds=")
                .nth(1)
                .and_then(|t| t.split('&').next()?.parse().ok())
                .unwrap_or(400);
            req.latency_us = timeout * 1_000_000 + i64::from(ctx.rng.u32(0..1_000));
        }
    }
    if benign && req.failure.is_none() && req.stage == Stage::ResponseComplete {
        let is_path = matches!(req.target, crate::event::Target::Path(_));
        let failure = match req.verb {
            "get" if !is_path && ctx.chance(0.03) => Some(404),
            "update" if ctx.chance(0.04) => Some(409),
            "patch" if ctx.chance(0.015) => Some(422),
            "create" if req.request_object.is_some() && ctx.chance(0.01) => Some(409),
            "list" | "watch" if ctx.chance(0.01) => Some(403),
            _ => None,
        };
        if let Some(code) = failure {
            req.fail(code);
        }
    }
    // Most audit policies drop RequestReceived; some keep it.
    if req.stage == Stage::ResponseComplete && ctx.chance(0.03) {
        req.stage = Stage::RequestReceived;
        req.failure = None;
        req.code = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_respects_zero_weights() {
        let mut ctx = Ctx {
            rng: Rng::with_seed(7),
            rv: 1,
            now_us: 0,
        };
        for _ in 0..1000 {
            assert_ne!(ctx.weighted(&[3, 0, 5]), 1);
        }
    }
}
