//! The imaginary cluster the corpus is the audit log of: nodes, control-plane components,
//! controllers, workloads and people, drawn once from the seed.

use fastrand::Rng;

/// The Kubernetes version every component reports in its user agent.
const K8S: &str = "v1.29.4 (linux/amd64) kubernetes/55019c8";
const KUBECTL: &str = "kubectl/v1.29.3 (linux/amd64) kubernetes/6813625";

/// Who makes a request: everything that goes into `user`, `sourceIPs` and `userAgent`,
/// and the authorizer's reason when it allows the request.
pub(crate) struct Actor {
    pub name: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    /// `user.extra`, as JSON text.
    pub extra: Option<String>,
    pub ip: String,
    pub agent: String,
    pub reason: String,
}

/// A kube-system controller running inside kube-controller-manager under its own
/// service account (`--use-service-account-credentials`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Ctl {
    ReplicaSet,
    Deployment,
    EndpointSlice,
    Endpoint,
    GarbageCollector,
    Namespace,
    Node,
    PodGc,
    Hpa,
    Job,
    CronJob,
    ResourceQuota,
    Coredns,
    KubeProxy,
    MetricsServer,
}

/// Controllers, with the weight of their share of kube-system service-account traffic.
pub(crate) const CONTROLLERS: &[(Ctl, &str, u32)] = &[
    (Ctl::ReplicaSet, "replicaset-controller", 10),
    (Ctl::Deployment, "deployment-controller", 6),
    (Ctl::EndpointSlice, "endpointslice-controller", 12),
    (Ctl::Endpoint, "endpoint-controller", 6),
    (Ctl::GarbageCollector, "generic-garbage-collector", 10),
    (Ctl::Namespace, "namespace-controller", 3),
    (Ctl::Node, "node-controller", 8),
    (Ctl::PodGc, "pod-garbage-collector", 3),
    (Ctl::Hpa, "horizontal-pod-autoscaler", 6),
    (Ctl::Job, "job-controller", 4),
    (Ctl::CronJob, "cronjob-controller", 4),
    (Ctl::ResourceQuota, "resourcequota-controller", 4),
    (Ctl::Coredns, "coredns", 8),
    (Ctl::KubeProxy, "kube-proxy", 8),
    (Ctl::MetricsServer, "metrics-server", 8),
];

/// Service accounts of add-ons outside kube-system.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Addon {
    Prometheus,
    IngressNginx,
    CertManager,
    ArgoCd,
    ExternalDns,
}

pub(crate) const ADDONS: &[(Addon, &str, &str, u32)] = &[
    (Addon::Prometheus, "monitoring", "prometheus", 35),
    (Addon::IngressNginx, "ingress-nginx", "ingress-nginx", 20),
    (Addon::CertManager, "cert-manager", "cert-manager", 15),
    (Addon::ArgoCd, "argocd", "argocd-application-controller", 20),
    (Addon::ExternalDns, "external-dns", "external-dns", 10),
];

/// Users outside `system:` that the default rules allow.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Infra {
    KubeProxy,
    Autoscaler,
    NodeManager,
    Vpa,
}

/// A workload: a `Deployment`, its current `ReplicaSet` and its pods.
pub(crate) struct Workload {
    pub ns: &'static str,
    pub name: &'static str,
    pub image: &'static str,
    pub port: u16,
    pub uid: String,
    pub rs_hash: String,
    pub rs_uid: String,
    pub pods: Vec<String>,
}

const WORKLOADS: &[(&str, &str, &str, u16)] = &[
    ("default", "nginx", "nginx:1.25.4", 80),
    (
        "web",
        "frontend",
        "registry.example.com/web/frontend:2.7.1",
        8080,
    ),
    ("web", "api", "registry.example.com/web/api:3.12.0", 8080),
    (
        "web",
        "search",
        "registry.example.com/web/search:1.4.9",
        9200,
    ),
    (
        "payments",
        "payments-api",
        "registry.example.com/payments/api:5.2.3",
        8443,
    ),
    (
        "payments",
        "ledger-worker",
        "registry.example.com/payments/ledger:5.2.3",
        8080,
    ),
    (
        "checkout",
        "checkout",
        "registry.example.com/shop/checkout:1.19.0",
        8080,
    ),
    ("checkout", "cart-redis", "redis:7.2.4-alpine", 6379),
    (
        "data",
        "kafka-connect",
        "confluentinc/cp-kafka-connect:7.6.0",
        8083,
    ),
    (
        "data",
        "etl-runner",
        "registry.example.com/data/etl:0.31.2",
        8080,
    ),
    ("monitoring", "grafana", "grafana/grafana:10.4.1", 3000),
    (
        "monitoring",
        "kube-state-metrics",
        "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.12.0",
        8080,
    ),
    (
        "ingress-nginx",
        "ingress-nginx-controller",
        "registry.k8s.io/ingress-nginx/controller:v1.10.0",
        80,
    ),
    (
        "cert-manager",
        "cert-manager",
        "quay.io/jetstack/cert-manager-controller:v1.14.4",
        9402,
    ),
    (
        "argocd",
        "argocd-repo-server",
        "quay.io/argoproj/argocd:v2.10.6",
        8081,
    ),
];

/// Namespaces that exist.
pub(crate) const NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "web",
    "payments",
    "checkout",
    "data",
    "monitoring",
    "ingress-nginx",
    "cert-manager",
    "argocd",
    "external-dns",
];

pub(crate) struct Cluster {
    pub node_names: Vec<String>,
    pub nodes: Vec<Actor>,
    pub controller_manager: Actor,
    pub scheduler: Actor,
    pub apiserver: Actor,
    /// Parallel to [`CONTROLLERS`].
    pub controllers: Vec<Actor>,
    /// Parallel to [`ADDONS`].
    pub addons: Vec<Actor>,
    /// `kubernetes-admin` and `admin`, both in `system:masters`.
    pub admins: Vec<Actor>,
    pub infra: Vec<(Infra, Actor)>,
    /// People the default rules do not know.
    pub strangers: Vec<Actor>,
    pub anonymous: Actor,
    pub workloads: Vec<Workload>,
    /// The API server's identity lease, `apiserver-<id>`.
    pub apiserver_lease: String,
    /// Seconds since the epoch when the log starts.
    pub start_s: i64,
}

/// Lower-case hex digits.
pub(crate) fn hex(rng: &mut Rng, n: usize) -> String {
    (0..n)
        .map(|_| char::from_digit(rng.u32(0..16), 16).unwrap())
        .collect()
}

/// A random version-4 UUID.
pub(crate) fn uuid(rng: &mut Rng) -> String {
    let variant = ['8', '9', 'a', 'b'][rng.usize(0..4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        hex(rng, 8),
        hex(rng, 4),
        hex(rng, 3),
        hex(rng, 3),
        hex(rng, 12)
    )
}

/// Characters Kubernetes uses for generated name suffixes.
pub(crate) fn suffix(rng: &mut Rng, n: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    (0..n)
        .map(|_| char::from(ALPHABET[rng.usize(0..ALPHABET.len())]))
        .collect()
}

fn rbac(binding: &str, role: &str, subject: &str) -> String {
    format!(
        "RBAC: allowed by ClusterRoleBinding \"{binding}\" of ClusterRole \"{role}\" to {subject}"
    )
}

fn service_account(
    rng: &mut Rng,
    ns: &str,
    name: &str,
    agent: String,
    ip: String,
    pod: Option<(&str, &str)>,
) -> Actor {
    let extra = pod.map(|(pod, node)| {
        format!(
            "{{\"authentication.kubernetes.io/credential-id\":[\"JTI={}\"],\"authentication.kubernetes.io/node-name\":[\"{node}\"],\"authentication.kubernetes.io/node-uid\":[\"{}\"],\"authentication.kubernetes.io/pod-name\":[\"{pod}\"],\"authentication.kubernetes.io/pod-uid\":[\"{}\"]}}",
            uuid(rng),
            uuid(rng),
            uuid(rng)
        )
    });
    Actor {
        name: format!("system:serviceaccount:{ns}:{name}"),
        uid: Some(uuid(rng)),
        groups: vec![
            "system:serviceaccounts".to_owned(),
            format!("system:serviceaccounts:{ns}"),
            "system:authenticated".to_owned(),
        ],
        extra,
        ip,
        agent,
        reason: rbac(
            &format!("system:controller:{name}"),
            &format!("system:controller:{name}"),
            &format!("ServiceAccount \"{name}/{ns}\""),
        ),
    }
}

impl Cluster {
    pub(crate) fn new(rng: &mut Rng) -> Cluster {
        let control_ip = "10.0.0.10".to_owned();
        let mut node_names = Vec::new();
        let mut node_ips = Vec::new();
        for _ in 0..12 {
            let (a, b) = (rng.u8(16..64), rng.u8(2..250));
            node_names.push(format!("ip-10-0-{a}-{b}.eu-west-1.compute.internal"));
            node_ips.push(format!("10.0.{a}.{b}"));
        }
        let nodes = node_names
            .iter()
            .zip(&node_ips)
            .map(|(name, ip)| Actor {
                name: format!("system:node:{name}"),
                uid: None,
                groups: vec!["system:nodes".to_owned(), "system:authenticated".to_owned()],
                extra: None,
                ip: ip.clone(),
                agent: format!("kubelet/{K8S}"),
                reason: String::new(),
            })
            .collect();
        let component = |name: &str, agent: &str| Actor {
            name: format!("system:{name}"),
            uid: None,
            groups: vec!["system:authenticated".to_owned()],
            extra: None,
            ip: control_ip.clone(),
            agent: format!("{agent}/{K8S}/leader-election"),
            reason: rbac(
                &format!("system:{name}"),
                &format!("system:{name}"),
                &format!("User \"system:{name}\""),
            ),
        };
        let controller_manager = component("kube-controller-manager", "kube-controller-manager");
        let scheduler = component("kube-scheduler", "kube-scheduler");
        let apiserver = Actor {
            name: "system:apiserver".to_owned(),
            uid: Some(uuid(rng)),
            groups: vec![
                "system:authenticated".to_owned(),
                "system:masters".to_owned(),
            ],
            extra: None,
            ip: "::1".to_owned(),
            agent: format!("kube-apiserver/{K8S}"),
            reason: String::new(),
        };
        let mut workloads: Vec<Workload> = WORKLOADS
            .iter()
            .map(|&(ns, name, image, port)| Workload {
                ns,
                name,
                image,
                port,
                uid: uuid(rng),
                rs_hash: suffix(rng, 10),
                rs_uid: uuid(rng),
                pods: Vec::new(),
            })
            .collect();
        for w in &mut workloads {
            let replicas = rng.usize(2..6);
            w.pods = (0..replicas)
                .map(|_| format!("{}-{}-{}", w.name, w.rs_hash, suffix(rng, 5)))
                .collect();
        }
        let controllers = CONTROLLERS
            .iter()
            .map(|&(ctl, name, _)| match ctl {
                Ctl::Coredns | Ctl::MetricsServer | Ctl::KubeProxy => {
                    let node = rng.usize(0..node_names.len());
                    let pod = format!("{name}-{}-{}", suffix(rng, 10), suffix(rng, 5));
                    let agent = match ctl {
                        Ctl::Coredns => "coredns/v1.11.1 (linux/amd64)".to_owned(),
                        Ctl::KubeProxy => format!("kube-proxy/{K8S}"),
                        _ => "metrics-server/v0.7.1 (linux/amd64) kubernetes/$Format".to_owned(),
                    };
                    let pod_ip = format!("10.244.{}.{}", rng.u8(0..12), rng.u8(2..250));
                    let ip = if ctl == Ctl::KubeProxy {
                        node_ips[node].clone()
                    } else {
                        pod_ip
                    };
                    let mut a = service_account(
                        rng,
                        "kube-system",
                        name,
                        agent,
                        ip,
                        Some((&pod, &node_names[node])),
                    );
                    a.reason = rbac(
                        &format!("system:{name}"),
                        &format!("system:{name}"),
                        &format!("ServiceAccount \"{name}/kube-system\""),
                    );
                    a
                }
                _ => service_account(
                    rng,
                    "kube-system",
                    name,
                    format!(
                        "kube-controller-manager/{K8S}/system:serviceaccount:kube-system:{name}"
                    ),
                    control_ip.clone(),
                    None,
                ),
            })
            .collect();
        let addons = ADDONS
            .iter()
            .map(|&(addon, ns, name, _)| {
                let node = rng.usize(0..node_names.len());
                let pod = format!("{name}-{}-{}", suffix(rng, 10), suffix(rng, 5));
                let agent = match addon {
                    Addon::Prometheus => "Prometheus/2.51.1".to_owned(),
                    Addon::IngressNginx => "nginx-ingress-controller/v1.10.0 (linux/amd64) ingress-nginx/71f78d49f0a496c31d4c19f095469f3f23900f8a".to_owned(),
                    Addon::CertManager => "cert-manager-controller/v1.14.4 (linux/amd64) cert-manager/2a5e2f8f8ab2c5e2e0e7b8e4c3d1a9f0b6c7d8e9".to_owned(),
                    Addon::ArgoCd => "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format".to_owned(),
                    Addon::ExternalDns => "external-dns/v0.14.1".to_owned(),
                };
                let ip = format!("10.244.{}.{}", rng.u8(0..12), rng.u8(2..250));
                let mut a = service_account(rng, ns, name, agent, ip, Some((&pod, &node_names[node])));
                a.reason = rbac(name, name, &format!("ServiceAccount \"{name}/{ns}\""));
                a
            })
            .collect();
        let masters = |name: &str, ip: &str| Actor {
            name: name.to_owned(),
            uid: None,
            groups: vec![
                "system:masters".to_owned(),
                "system:authenticated".to_owned(),
            ],
            extra: None,
            ip: ip.to_owned(),
            agent: KUBECTL.to_owned(),
            reason: rbac("cluster-admin", "cluster-admin", "Group \"system:masters\""),
        };
        let admins = vec![
            masters("kubernetes-admin", "192.168.10.23"),
            masters("admin", "192.168.10.57"),
        ];
        let infra_user = |name: &str, groups: &[&str], ip: &str, agent: &str| Actor {
            name: name.to_owned(),
            uid: None,
            groups: groups.iter().map(|&g| g.to_owned()).collect(),
            extra: None,
            ip: ip.to_owned(),
            agent: agent.to_owned(),
            reason: rbac(name, name, &format!("User \"{name}\"")),
        };
        let infra = vec![
            (
                Infra::KubeProxy,
                infra_user(
                    "kube-proxy",
                    &["system:authenticated"],
                    &node_ips[0],
                    &format!("kube-proxy/{K8S}"),
                ),
            ),
            (
                Infra::Autoscaler,
                infra_user(
                    "cluster-autoscaler",
                    &["system:authenticated"],
                    "10.244.3.17",
                    "cluster-autoscaler/v1.29.2",
                ),
            ),
            (
                Infra::NodeManager,
                infra_user(
                    "eks:node-manager",
                    &["system:authenticated"],
                    "10.0.0.31",
                    "eks-node-manager/v0.0.0 (linux/amd64) kubernetes/$Format",
                ),
            ),
            (
                Infra::Vpa,
                infra_user(
                    "vpa-recommender",
                    &["system:authenticated"],
                    "10.244.5.9",
                    "vpa-recommender/v1.1.1",
                ),
            ),
        ];
        let person = |name: &str, groups: &[&str], ip: &str| {
            let mut a = infra_user(name, groups, ip, KUBECTL);
            a.uid = Some(format!("oidc:{name}"));
            a.reason = format!(
                "RBAC: allowed by ClusterRoleBinding \"developers-edit\" of ClusterRole \"edit\" to Group \"{}\"",
                groups[0]
            );
            a
        };
        let strangers = vec![
            person(
                "alice@example.com",
                &["developers", "system:authenticated"],
                "203.0.113.17",
            ),
            person(
                "bob@example.com",
                &["developers", "system:authenticated"],
                "203.0.113.42",
            ),
            person("ci-deployer", &["ci", "system:authenticated"], "10.0.0.77"),
            person(
                "mallory",
                &["contractors", "system:authenticated"],
                "198.51.100.9",
            ),
        ];
        let anonymous = Actor {
            name: "system:anonymous".to_owned(),
            uid: None,
            groups: vec!["system:unauthenticated".to_owned()],
            extra: None,
            ip: "198.51.100.200".to_owned(),
            agent: "python-requests/2.31.0".to_owned(),
            reason: "RBAC: allowed by ClusterRoleBinding \"anonymous-view\" of ClusterRole \"view\" to User \"system:anonymous\"".to_owned(),
        };
        Cluster {
            node_names,
            nodes,
            controller_manager,
            scheduler,
            apiserver,
            controllers,
            addons,
            admins,
            infra,
            strangers,
            anonymous,
            workloads,
            apiserver_lease: format!("apiserver-{}", suffix(rng, 26)),
            // 2024-05-01T00:00:00Z
            start_s: 1_714_521_600,
        }
    }
}
