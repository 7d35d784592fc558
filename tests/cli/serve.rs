//! `lanner serve` end to end: the real binary on 127.0.0.1 (port 0), a real
//! HTTP(S) client, real signals. Every wait is bounded in time and every
//! loop in count; nothing leaves the loopback interface.

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::common::{arg, root};

const RULES: &str = r"
- rule: Pod Created
  desc: a pod was created
  condition: ka.verb = create and ka.target.resource = pods
  output: pod %ka.target.name created by %ka.user.name
  priority: WARNING
  source: k8s_audit
  tags: [k8s]
- rule: Secret Read
  desc: a secret was read
  condition: ka.verb = get and ka.target.resource = secrets
  output: secret %ka.target.name read by %ka.user.name
  priority: INFO
  source: k8s_audit
";

/// Long enough for any wait in these tests on a loaded 2-core machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// One audit event: `verb` on `resource` named `name`.
fn event(verb: &str, resource: &str, name: &str) -> String {
    format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Request","auditID":"id-{name}","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/prod/{resource}/{name}","verb":"{verb}","user":{{"username":"alice","groups":["system:authenticated"]}},"objectRef":{{"resource":"{resource}","namespace":"prod","name":"{name}","apiVersion":"v1"}},"responseStatus":{{"code":200}},"requestReceivedTimestamp":"2024-05-01T12:00:00.000000Z","stageTimestamp":"2024-05-01T12:00:00.123456Z"}}"#
    )
}

fn pod(name: &str) -> String {
    event("create", "pods", name)
}

fn event_list(events: &[String]) -> String {
    format!(
        r#"{{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{{}},"items":[{}]}}"#,
        events.join(",")
    )
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write test file");
    path
}

/// Polls `check` every 20 ms until it is true or `PATIENCE` runs out.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        if check() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}");
}

/// A stream of a child process collected by a thread, optionally only after
/// `open` is called (to let a pipe fill up).
struct Collected {
    text: Arc<Mutex<String>>,
    gate: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Collected {
    fn start(stream: impl std::io::Read + Send + 'static, gated: bool) -> Collected {
        let text = Arc::new(Mutex::new(String::new()));
        let (gate, wait) = mpsc::channel::<()>();
        let sink = Arc::clone(&text);
        let thread = std::thread::spawn(move || {
            if gated {
                let _ = wait.recv();
            }
            let mut reader = BufReader::new(stream);
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                sink.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Collected {
            text,
            gate: gated.then_some(gate),
            thread: Some(thread),
        }
    }

    fn open(&mut self) {
        if let Some(gate) = self.gate.take() {
            let _ = gate.send(());
        }
    }

    fn text(&self) -> String {
        self.text.lock().unwrap().clone()
    }

    fn wait_for(&self, what: &str, check: impl Fn(&str) -> bool) -> String {
        eventually(what, || check(&self.text()));
        self.text()
    }

    /// Everything, once the stream has ended.
    fn finish(mut self) -> String {
        self.open();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.text()
    }
}

/// A running `lanner serve`.
struct Serve {
    child: Child,
    addr: SocketAddr,
    stdout: Collected,
    stderr: Collected,
}

impl Serve {
    /// Starts `lanner serve ARGS --listen 127.0.0.1:0` and waits for its address.
    fn start(args: &[&str]) -> Serve {
        Serve::start_gated(args, false)
    }

    /// Same, reading stdout only after `stdout.open()` when `gated`.
    fn start_gated(args: &[&str], gated: bool) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lanner"))
            .arg("serve")
            .args(args)
            .args(["--listen", "127.0.0.1:0"])
            .current_dir(root())
            .env("LANNER_HOSTNAME", "test-host")
            .env("TZ", "UTC")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("lanner serve starts");
        let stdout = Collected::start(child.stdout.take().expect("stdout"), gated);
        let stderr = Collected::start(child.stderr.take().expect("stderr"), false);
        let deadline = Instant::now() + PATIENCE;
        let addr = loop {
            let text = stderr.text();
            if let Some(at) = text.find("listening on ") {
                let rest = &text[at + "listening on ".len()..];
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                break rest[..end]
                    .parse()
                    .expect("a socket address after `listening on`");
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "lanner serve exited ({status}) before listening:\n{}",
                    stderr.finish()
                );
            }
            assert!(
                Instant::now() < deadline,
                "lanner serve did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Serve {
            child,
            addr,
            stdout,
            stderr,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn https_url(&self, path: &str) -> String {
        format!("https://{}{path}", self.addr)
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -s {name} failed");
    }

    /// Sends SIGTERM and waits for the exit; returns the status, stdout and stderr.
    fn stop(mut self) -> (ExitStatus, String, String) {
        self.signal("TERM");
        let status = self.wait_exit();
        let stdout = std::mem::replace(&mut self.stdout, Collected::start(std::io::empty(), false));
        let stderr = std::mem::replace(&mut self.stderr, Collected::start(std::io::empty(), false));
        (status, stdout.finish(), stderr.finish())
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("lanner serve did not exit:\n{}", self.stderr.text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn metrics(&self) -> String {
        client()
            .get(self.url("/metrics"))
            .send()
            .expect("GET /metrics")
            .text()
            .expect("metrics body")
    }

    /// The value of one exposition line (`name{labels}`), 0 if absent.
    fn metric(&self, series: &str) -> u64 {
        metric_value(&self.metrics(), series)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn metric_value(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .timeout(PATIENCE)
        .build()
        .expect("client")
}

fn post(
    client: &reqwest::blocking::Client,
    url: &str,
    body: String,
) -> reqwest::blocking::Response {
    client
        .post(url)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .expect("POST answered")
}

fn rules_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = write(dir.path(), "rules.yaml", RULES);
    (dir, rules)
}

#[test]
fn an_eventlist_batch_is_accepted_and_its_alerts_go_to_stdout() {
    let (_dir, rules) = rules_dir();
    let server = Serve::start(&["-r", arg(&rules), "--plaintext"]);
    let client = client();
    let batch = event_list(&[
        pod("web-1"),
        event("get", "secrets", "db-pass"),
        event("list", "pods", "x"),
    ]);
    let reply = post(&client, &server.url("/k8s-audit"), batch);
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.text().unwrap(), "{\"accepted\":3,\"rejected\":0}\n");
    // A single Event and a JSON array are accepted too.
    assert_eq!(
        post(&client, &server.url("/k8s-audit"), pod("web-2")).status(),
        200
    );
    assert_eq!(
        post(
            &client,
            &server.url("/k8s-audit"),
            format!("[{}]", pod("web-3"))
        )
        .status(),
        200
    );
    let out = server
        .stdout
        .wait_for("three pod alerts", |t| t.lines().count() >= 4);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "12:00:00.123456000: Warning pod web-1 created by alice",
            "12:00:00.123456000: Informational secret db-pass read by alice",
            "12:00:00.123456000: Warning pod web-2 created by alice",
            "12:00:00.123456000: Warning pod web-3 created by alice",
        ]
    );
    let (status, _, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("serving plain HTTP"),
        "the plaintext warning is logged: {stderr}"
    );
}

#[test]
fn health_readiness_and_metrics_endpoints_answer() {
    let (_dir, rules) = rules_dir();
    let server = Serve::start(&["-r", arg(&rules), "--plaintext"]);
    let client = client();
    assert_eq!(
        client.get(server.url("/healthz")).send().unwrap().status(),
        200
    );
    assert_eq!(
        client.get(server.url("/readyz")).send().unwrap().status(),
        200
    );
    post(
        &client,
        &server.url("/k8s-audit"),
        event_list(&[pod("a"), pod("b")]),
    );
    eventually("two events processed", || {
        server.metric("lanner_events_processed_total") >= 2
    });
    let metrics = server.metrics();
    for series in [
        "lanner_events_received_total 2",
        "lanner_alerts_total{rule=\"Pod Created\",priority=\"Warning\"} 2",
        "lanner_requests_total{status=\"200\"} 1",
        "lanner_request_duration_seconds_count 1",
        "lanner_queue_capacity_events 20000",
        "lanner_rules_loaded 2",
    ] {
        assert!(metrics.contains(series), "missing `{series}` in\n{metrics}");
    }
    for name in [
        "lanner_queue_events",
        "lanner_alert_latency_seconds_bucket",
        "process_resident_memory_bytes",
    ] {
        assert!(metrics.contains(name), "missing `{name}` in\n{metrics}");
    }
}

#[test]
fn malformed_bodies_get_400_with_the_reason() {
    let (_dir, rules) = rules_dir();
    let server = Serve::start(&["-r", arg(&rules), "--plaintext"]);
    let client = client();
    let audit = server.url("/k8s-audit");
    let cases = [
        ("{\"kind\":", "invalid JSON"),
        ("{\"kind\":\"Pod\"}", "not a Kubernetes audit event"),
        (
            r#"{"kind":"Event","auditID":"x","verb":"get"}"#,
            "no valid event: event has no stageTimestamp",
        ),
    ];
    for (body, reason) in cases {
        let reply = post(&client, &audit, body.to_owned());
        assert_eq!(reply.status(), 400, "{body}");
        let text = reply.text().unwrap();
        assert!(text.contains(reason), "{body}: {text}");
    }
    // One bad event among good ones is dropped; the good ones are accepted.
    let mixed = event_list(&[pod("ok"), r#"{"kind":"Event","verb":"get"}"#.to_owned()]);
    let reply = post(&client, &audit, mixed);
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.text().unwrap(), "{\"accepted\":1,\"rejected\":1}\n");
    let reply = client
        .post(&audit)
        .header("Content-Type", "text/plain")
        .body("x")
        .send()
        .unwrap();
    assert_eq!(reply.status(), 415);
    let reply = client.get(&audit).send().unwrap();
    assert_eq!(reply.status(), 405);
    assert_eq!(reply.headers()["allow"], "POST");
    assert_eq!(
        client
            .post(server.url("/other"))
            .body("{}")
            .send()
            .unwrap()
            .status(),
        404
    );
    eventually("the invalid event counted", || {
        server.metric("lanner_events_rejected_total{reason=\"invalid_event\"}") >= 2
    });
}

#[test]
fn a_body_over_the_limit_gets_413_with_or_without_content_length() {
    let (_dir, rules) = rules_dir();
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--plaintext",
        "-o",
        "server.max_body_size=2KiB",
    ]);
    let client = client();
    let big = event_list(&(0..20).map(|i| pod(&format!("p{i}"))).collect::<Vec<_>>());
    assert!(big.len() > 2048);
    let reply = post(&client, &server.url("/k8s-audit"), big.clone());
    assert_eq!(reply.status(), 413);
    assert!(reply.text().unwrap().contains("larger than 2048 bytes"));
    // Chunked: no Content-Length, so the limit applies while reading.
    let reply = client
        .post(server.url("/k8s-audit"))
        .header("Content-Type", "application/json")
        .body(reqwest::blocking::Body::new(std::io::Cursor::new(
            big.into_bytes(),
        )))
        .send()
        .unwrap();
    assert_eq!(reply.status(), 413);
    assert_eq!(
        post(&client, &server.url("/k8s-audit"), pod("small")).status(),
        200
    );
}

#[test]
fn a_full_queue_gets_503_with_retry_after_and_accepted_events_are_not_lost() {
    let (dir, rules) = rules_dir();
    let config = write(
        dir.path(),
        "lanner.yaml",
        "pipeline:\n  queue_events: 40\n  retry_after: 3s\noutputs:\n  - type: stdout\n    queue: 1\n",
    );
    // Nobody reads stdout at first: the pipe fills, the stdout output
    // blocks, evaluation waits, the queue fills up.
    let mut server = Serve::start_gated(
        &["-r", arg(&rules), "--plaintext", "-c", arg(&config)],
        true,
    );
    let client = client();
    let long = "x".repeat(200);
    let mut accepted = Vec::new();
    let mut refused = None;
    for batch in 0..2000 {
        let names: Vec<String> = (0..20).map(|i| format!("b{batch}-{i}-{long}")).collect();
        let reply = post(
            &client,
            &server.url("/k8s-audit"),
            event_list(&names.iter().map(|n| pod(n)).collect::<Vec<_>>()),
        );
        match reply.status().as_u16() {
            200 => accepted.extend(names),
            503 => {
                refused = Some(reply);
                break;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    let refused = refused.expect("the queue filled up within 2000 batches");
    assert_eq!(refused.headers()["retry-after"], "3");
    assert!(refused.text().unwrap().contains("queue is full"));
    assert!(server.metric("lanner_events_rejected_total{reason=\"queue_full\"}") >= 20);
    // Now read stdout: every accepted event's alert comes out.
    server.stdout.open();
    let out = server.stdout.wait_for("every accepted event's alert", |t| {
        t.lines().count() >= accepted.len()
    });
    let seen: HashSet<&str> = out.lines().filter_map(|l| l.split(' ').nth(3)).collect();
    for name in &accepted {
        assert!(seen.contains(name.as_str()), "alert for {name} missing");
    }
    assert_eq!(
        post(&client, &server.url("/k8s-audit"), pod("after")).status(),
        200
    );
}

/// A CA, a server certificate for 127.0.0.1 signed by it, and a client
/// certificate signed by it, as PEM files in `dir`.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    client_identity: Vec<u8>,
    ca_pem: Vec<u8>,
}

fn make_pki(dir: &Path, prefix: &str) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, format!("{prefix} test CA"));
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().unwrap()).unwrap();
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .unwrap()
        .signed_by(&server_key, &ca)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let mut client_params = CertificateParams::new(vec!["kube-apiserver".to_owned()]).unwrap();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "kube-apiserver");
    let client = client_params.signed_by(&client_key, &ca).unwrap();
    Pki {
        ca: write(dir, &format!("{prefix}-ca.pem"), &ca.pem()),
        cert: write(dir, &format!("{prefix}-server.pem"), &server.pem()),
        key: write(
            dir,
            &format!("{prefix}-server-key.pem"),
            &server_key.serialize_pem(),
        ),
        client_identity: format!("{}{}", client.pem(), client_key.serialize_pem()).into_bytes(),
        ca_pem: ca.pem().into_bytes(),
    }
}

fn tls_client(ca_pem: &[u8], identity: Option<&[u8]>) -> reqwest::blocking::Client {
    let mut builder = reqwest::blocking::Client::builder()
        .use_rustls_tls()
        .timeout(PATIENCE)
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem).unwrap());
    if let Some(identity) = identity {
        builder = builder.identity(reqwest::Identity::from_pem(identity).unwrap());
    }
    builder.build().unwrap()
}

#[test]
fn tls_serves_https_with_a_generated_certificate() {
    let (dir, rules) = rules_dir();
    let pki = make_pki(dir.path(), "a");
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--tls-cert",
        arg(&pki.cert),
        "--tls-key",
        arg(&pki.key),
    ]);
    let client = tls_client(&pki.ca_pem, None);
    let reply = post(
        &client,
        &server.https_url("/k8s-audit"),
        event_list(&[pod("tls-pod")]),
    );
    assert_eq!(reply.status(), 200);
    server
        .stdout
        .wait_for("the alert", |t| t.contains("pod tls-pod created"));
    // Plain HTTP to the TLS port gets no answer.
    assert!(
        client
            .post(server.url("/k8s-audit"))
            .body(pod("x"))
            .send()
            .is_err()
    );
    let (status, _, stderr) = server.stop();
    assert!(status.success());
    assert!(!stderr.contains("serving plain HTTP"), "{stderr}");
}

#[test]
fn mtls_rejects_clients_without_a_certificate_from_the_ca() {
    let (dir, rules) = rules_dir();
    let pki = make_pki(dir.path(), "a");
    let other = make_pki(dir.path(), "b");
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--tls-cert",
        arg(&pki.cert),
        "--tls-key",
        arg(&pki.key),
        "--tls-client-ca",
        arg(&pki.ca),
    ]);
    let audit = server.https_url("/k8s-audit");
    let anonymous = tls_client(&pki.ca_pem, None);
    let reply = post(&anonymous, &audit, pod("anon"));
    assert_eq!(reply.status(), 401);
    assert!(
        reply
            .text()
            .unwrap()
            .contains("client certificate is required")
    );
    // Probes do not need a certificate.
    assert_eq!(
        anonymous
            .get(server.https_url("/healthz"))
            .send()
            .unwrap()
            .status(),
        200
    );
    // A certificate from another CA fails the handshake.
    let stranger = tls_client(&pki.ca_pem, Some(&other.client_identity));
    assert!(stranger.post(&audit).body(pod("stranger")).send().is_err());
    let trusted = tls_client(&pki.ca_pem, Some(&pki.client_identity));
    assert_eq!(post(&trusted, &audit, pod("trusted")).status(), 200);
    let out = server
        .stdout
        .wait_for("the trusted alert", |t| t.contains("pod trusted created"));
    assert!(!out.contains("anon") && !out.contains("stranger"), "{out}");
}

#[test]
fn a_configured_bearer_token_is_required() {
    let (dir, rules) = rules_dir();
    let token = write(dir.path(), "token", "s3cret-token\n");
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--plaintext",
        "-o",
        &format!("server.auth.token_file={}", arg(&token)),
    ]);
    let client = client();
    let audit = server.url("/k8s-audit");
    let reply = post(&client, &audit, pod("none"));
    assert_eq!(reply.status(), 401);
    assert_eq!(reply.headers()["www-authenticate"], "Bearer");
    let wrong = client
        .post(&audit)
        .bearer_auth("s3cret-tokeN")
        .body(pod("wrong"))
        .send()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let right = client
        .post(&audit)
        .bearer_auth("s3cret-token")
        .body(pod("right"))
        .send()
        .unwrap();
    assert_eq!(right.status(), 200);
    let out = server
        .stdout
        .wait_for("the alert", |t| t.contains("pod right created"));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(server.metric("lanner_requests_total{status=\"401\"}") >= 2);

    // A rotated token file is read again on SIGHUP; an empty one is refused and the token
    // in use stays.
    let send = |token: &str, name: &str| {
        client
            .post(&audit)
            .bearer_auth(token)
            .body(pod(name))
            .send()
            .unwrap()
            .status()
    };
    std::fs::write(&token, "n3w-token\n").unwrap();
    server.signal("HUP");
    server
        .stderr
        .wait_for("the token reload", |t| t.contains("bearer token reloaded"));
    assert_eq!(send("s3cret-token", "old-token"), 401);
    assert_eq!(send("n3w-token", "new-token"), 200);
    std::fs::write(&token, "  \n").unwrap();
    server.signal("HUP");
    server.stderr.wait_for("the failed reload", |t| {
        t.contains("token reload failed, keeping the token in use")
    });
    assert_eq!(send("n3w-token", "still-new-token"), 200);
    let out = server
        .stdout
        .wait_for("the alerts", |t| t.contains("pod still-new-token created"));
    assert!(!out.contains("old-token"), "{out}");
}

#[test]
fn the_file_output_appends_and_reopens_its_file_on_sighup() {
    let (dir, rules) = rules_dir();
    let alerts = dir.path().join("alerts.json");
    let config = write(
        dir.path(),
        "lanner.yaml",
        &format!(
            "outputs:\n  - type: file\n    path: {}\n    format: json\n",
            alerts.display()
        ),
    );
    let server = Serve::start(&["-r", arg(&rules), "--plaintext", "--config", arg(&config)]);
    let client = client();
    post(&client, &server.url("/k8s-audit"), pod("before-rotation"));
    eventually("the first alert in the file", || {
        std::fs::read_to_string(&alerts).is_ok_and(|t| t.contains("before-rotation"))
    });
    let rotated = dir.path().join("alerts.json.1");
    std::fs::rename(&alerts, &rotated).unwrap();
    server.signal("HUP");
    server
        .stderr
        .wait_for("the reopen", |t| t.contains("reopening alert file"));
    post(&client, &server.url("/k8s-audit"), pod("after-rotation"));
    eventually("the second alert in the new file", || {
        std::fs::read_to_string(&alerts).is_ok_and(|t| t.contains("after-rotation"))
    });
    let old = std::fs::read_to_string(&rotated).unwrap();
    assert_eq!(old.lines().count(), 1, "{old}");
    let json: serde_json::Value = serde_json::from_str(old.trim()).unwrap();
    assert_eq!(json["rule"], "Pod Created");
    assert!(
        server.stdout.text().is_empty(),
        "no stdout output when outputs are configured"
    );
}

/// A tiny HTTP/1.1 receiver: answers the first `fail_first` requests with
/// 500, then 200; collects the bodies of all requests.
fn receiver(fail_first: usize) -> (SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&bodies);
    std::thread::spawn(move || {
        let mut served = 0;
        for stream in listener.incoming().take(200) {
            let Ok(stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(PATIENCE));
            let mut reader = BufReader::new(stream);
            // Keep-alive: several requests per connection.
            loop {
                let mut length = 0;
                let mut line = String::new();
                let mut got_request = false;
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                    got_request = true;
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                if !got_request {
                    break;
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                served += 1;
                let status = if served <= fail_first {
                    "500 Internal Server Error"
                } else {
                    "200 OK"
                };
                let reply = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
                if reader.get_mut().write_all(reply.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    (addr, bodies)
}

#[test]
fn the_http_output_posts_falco_json_and_retries_after_a_failure() {
    let (dir, rules) = rules_dir();
    let (addr, bodies) = receiver(1);
    let config = write(
        dir.path(),
        "lanner.yaml",
        &format!(
            "outputs:\n  - type: http\n    url: http://{addr}/\n    backoff: 50ms\n    concurrency: 1\n  - type: stdout\n    min_priority: warning\n"
        ),
    );
    let server = Serve::start(&["-r", arg(&rules), "--plaintext", "-c", arg(&config)]);
    let client = client();
    post(
        &client,
        &server.url("/k8s-audit"),
        event_list(&[pod("web"), event("get", "secrets", "token")]),
    );
    eventually("two alerts received after one retry", || {
        bodies.lock().unwrap().len() >= 3
    });
    let bodies = bodies.lock().unwrap().clone();
    assert_eq!(
        bodies[0], bodies[1],
        "the failed POST is retried with the same alert"
    );
    let json: serde_json::Value = serde_json::from_str(&bodies[0]).unwrap();
    assert_eq!(json["rule"], "Pod Created");
    assert_eq!(json["priority"], "Warning");
    assert_eq!(json["source"], "k8s_audit");
    assert_eq!(json["hostname"], "test-host");
    assert_eq!(json["output_fields"]["ka.target.name"], "web");
    assert_eq!(json["time"], "2024-05-01T12:00:00.123456000Z");
    assert!(
        json["output"]
            .as_str()
            .unwrap()
            .ends_with("Warning pod web created by alice")
    );
    let second: serde_json::Value = serde_json::from_str(&bodies[2]).unwrap();
    assert_eq!(second["rule"], "Secret Read");
    // stdout has a minimum priority of warning: only the pod alert.
    let out = server
        .stdout
        .wait_for("the stdout alert", |t| !t.is_empty());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.stdout.text().lines().count(), 1, "{out}");
    assert_eq!(
        server.metric("lanner_output_errors_total{output=\"http\"}"),
        1
    );
    assert_eq!(
        server.metric("lanner_output_sent_total{output=\"http\"}"),
        2
    );
    assert_eq!(
        server.metric("lanner_output_drops_total{output=\"http\"}"),
        0
    );
}

#[test]
fn an_unreachable_http_receiver_costs_drops_not_events() {
    let (dir, rules) = rules_dir();
    // A port nobody listens on: bind, note, close.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let config = write(
        dir.path(),
        "lanner.yaml",
        &format!(
            "outputs:\n  - type: http\n    url: http://{addr}/\n    max_attempts: 2\n    backoff: 10ms\n"
        ),
    );
    let server = Serve::start(&["-r", arg(&rules), "--plaintext", "-c", arg(&config)]);
    let reply = post(&client(), &server.url("/k8s-audit"), pod("lost"));
    assert_eq!(reply.status(), 200);
    eventually("the drop counted", || {
        server.metric("lanner_output_drops_total{output=\"http\"}") >= 1
    });
    assert_eq!(
        server.metric("lanner_output_errors_total{output=\"http\"}"),
        2
    );
}

#[test]
fn the_program_output_is_fed_alerts_and_restarted_when_it_exits() {
    let (dir, rules) = rules_dir();
    let sink = dir.path().join("program.out");
    // `head -n 1` takes one alert and exits: each alert needs a restart.
    let config = write(
        dir.path(),
        "lanner.yaml",
        &format!(
            "outputs:\n  - type: program\n    command: head -n 1 >> '{}'\n    format: json\n    restart_backoff: 50ms\n",
            sink.display()
        ),
    );
    let server = Serve::start(&["-r", arg(&rules), "--plaintext", "-c", arg(&config)]);
    let client = client();
    for (i, name) in ["first", "second", "third"].iter().enumerate() {
        post(&client, &server.url("/k8s-audit"), pod(name));
        eventually("the alert in the program's file", || {
            std::fs::read_to_string(&sink).is_ok_and(|t| t.lines().count() == i + 1)
        });
        eventually("the program restarted", || {
            server.metric("lanner_output_restarts_total{output=\"program\"}")
                >= u64::try_from(i + 1).unwrap()
        });
    }
    let text = std::fs::read_to_string(&sink).unwrap();
    let names: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["output_fields"]["ka.target.name"]
                .to_string()
        })
        .collect();
    assert_eq!(names, ["\"first\"", "\"second\"", "\"third\""]);
    let (status, _, stderr) = server.stop();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("program exited"), "{stderr}");
}

#[test]
fn sighup_reloads_good_rules_and_keeps_the_old_ones_when_the_new_are_broken() {
    let dir = tempfile::tempdir().unwrap();
    let rule = |name: &str| {
        format!(
            "- rule: {name}\n  desc: d\n  condition: ka.verb = create\n  output: {name} saw %ka.target.name\n  priority: NOTICE\n  source: k8s_audit\n"
        )
    };
    let rules = write(dir.path(), "rules.yaml", &rule("Old"));
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--plaintext",
        "-o",
        "rules.watch_interval=0s",
    ]);
    let client = client();
    let audit = server.url("/k8s-audit");
    post(&client, &audit, pod("one"));
    server
        .stdout
        .wait_for("the old rule", |t| t.contains("Old saw one"));
    write(dir.path(), "rules.yaml", &rule("New"));
    server.signal("HUP");
    server
        .stderr
        .wait_for("the reload", |t| t.contains("rules reloaded (SIGHUP)"));
    post(&client, &audit, pod("two"));
    server
        .stdout
        .wait_for("the new rule", |t| t.contains("New saw two"));
    write(
        dir.path(),
        "rules.yaml",
        "- rule: Broken\n  desc: d\n  condition: ka.verb = = create\n  output: o\n  priority: NOTICE\n  source: k8s_audit\n",
    );
    server.signal("HUP");
    let err = server.stderr.wait_for("the failed reload", |t| {
        t.contains("rules reload (SIGHUP) failed")
    });
    assert!(err.contains("keeping the rules in force"), "{err}");
    assert!(
        err.contains("rules.yaml:3"),
        "the diagnostic points into the file: {err}"
    );
    post(&client, &audit, pod("three"));
    let out = server
        .stdout
        .wait_for("the kept rule", |t| t.contains("New saw three"));
    assert!(
        !out.contains("Old saw two") && !out.contains("Old saw three"),
        "{out}"
    );
    assert_eq!(
        server.metric("lanner_rules_reloads_total{reason=\"failure\"}"),
        1
    );
    assert_eq!(
        server.metric("lanner_rules_reloads_total{reason=\"success\"}"),
        1
    );
}

#[test]
fn a_changed_rules_file_is_reloaded_without_a_signal() {
    let (dir, rules) = rules_dir();
    let server = Serve::start(&[
        "-r",
        arg(&rules),
        "--plaintext",
        "-o",
        "rules.watch_interval=100ms",
    ]);
    // Sleep past the file system's timestamp granularity.
    std::thread::sleep(Duration::from_millis(50));
    write(
        dir.path(),
        "rules.yaml",
        &RULES.replace("pod %ka.target.name created", "new pod %ka.target.name"),
    );
    server.stderr.wait_for("the reload", |t| {
        t.contains("rules reloaded (rules files changed)")
    });
    post(&client(), &server.url("/k8s-audit"), pod("watched"));
    server
        .stdout
        .wait_for("the new output", |t| t.contains("new pod watched by alice"));
}

#[test]
fn sigterm_during_a_stream_of_requests_loses_no_accepted_event() {
    let (_dir, rules) = rules_dir();
    let server = Serve::start(&["-r", arg(&rules), "--plaintext"]);
    let url = server.url("/k8s-audit");
    let started = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders: Vec<JoinHandle<Vec<String>>> = (0..4)
        .map(|t| {
            let url = url.clone();
            let started = Arc::clone(&started);
            std::thread::spawn(move || {
                let client = client();
                let mut accepted = Vec::new();
                for r in 0..2000 {
                    let names: Vec<String> = (0..50).map(|e| format!("t{t}-r{r}-e{e}")).collect();
                    let body = event_list(&names.iter().map(|n| pod(n)).collect::<Vec<_>>());
                    let sent = client
                        .post(&url)
                        .header("Content-Type", "application/json")
                        .body(body)
                        .send();
                    match sent {
                        Ok(reply) if reply.status() == 200 => accepted.extend(names),
                        // Refused while stopping (503) or connection closed: not accepted.
                        _ => break,
                    }
                    started.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                accepted
            })
        })
        .collect();
    eventually("a stream of requests", || {
        started.load(std::sync::atomic::Ordering::Relaxed) >= 40
    });
    let (status, stdout, stderr) = server.stop();
    let accepted: Vec<String> = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    assert!(status.success(), "exit status {status}: {stderr}");
    assert!(
        accepted.len() >= 2000,
        "only {} events accepted",
        accepted.len()
    );
    let mut seen = HashSet::new();
    for line in stdout.lines() {
        let name = line.split(' ').nth(3).unwrap_or_default().to_owned();
        assert!(seen.insert(name), "alert repeated: {line}");
    }
    let missing: Vec<&String> = accepted
        .iter()
        .filter(|n| !seen.contains(n.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} accepted events lost, e.g. {:?}",
        missing.len(),
        missing.first()
    );
    assert!(stderr.contains("stopped"), "{stderr}");
}

/// A running `lanner run --follow FILE`.
fn follow(rules: &Path, log: &Path) -> (Child, Collected) {
    let (child, out, _) = follow_with(rules, log, &[]);
    (child, out)
}

/// A running `lanner run --follow FILE` with more options, and its stdout and stderr.
fn follow_with(rules: &Path, log: &Path, options: &[&str]) -> (Child, Collected, Collected) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanner"))
        .args(["run", "-r", arg(rules), "--follow", arg(log)])
        .args(options)
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("lanner run starts");
    let out = Collected::start(child.stdout.take().unwrap(), false);
    let err = Collected::start(child.stderr.take().unwrap(), false);
    (child, out, err)
}

fn append(path: &Path, names: &[&str]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for name in names {
        writeln!(file, "{}", pod(name)).unwrap();
    }
}

fn alerted(out: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split(' ').nth(3).unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn follow_from_end_reads_only_new_lines() {
    let (dir, rules) = rules_dir();
    let log = dir.path().join("audit.log");
    append(&log, &["a1", "a2"]);
    let (mut child, out, err) = follow_with(&rules, &log, &["--follow-from", "end"]);
    // Where it started, once it has: only then are new lines sure to be new to it.
    let size = std::fs::metadata(&log).unwrap().len();
    err.wait_for("the start message", |t| {
        t.contains(&format!("from byte {size} (its end)"))
    });
    append(&log, &["b1", "b2"]);
    let text = out.wait_for("the new lines", |t| t.lines().count() >= 2);
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(alerted(&text), ["b1", "b2"], "{text}");
    assert_eq!(out.finish().lines().count(), 2, "nothing older");
}

#[test]
fn follow_survives_rename_and_create_rotation() {
    let (dir, rules) = rules_dir();
    let log = dir.path().join("audit.log");
    append(&log, &["a1", "a2"]);
    let (mut child, out) = follow(&rules, &log);
    out.wait_for("the existing lines", |t| t.lines().count() >= 2);
    std::fs::rename(&log, dir.path().join("audit.log.1")).unwrap();
    // The API server still writes to the renamed file until it reopens.
    append(&dir.path().join("audit.log.1"), &["a3"]);
    append(&log, &["b1", "b2"]);
    out.wait_for("the lines of both files", |t| t.lines().count() >= 5);
    append(&log, &["b3"]);
    let text = out.wait_for("a later line", |t| t.lines().count() >= 6);
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        alerted(&text),
        ["a1", "a2", "a3", "b1", "b2", "b3"],
        "{text}"
    );
    assert_eq!(out.finish().lines().count(), 6, "nothing repeated");
}

#[test]
fn follow_survives_copytruncate_rotation() {
    let (dir, rules) = rules_dir();
    let log = dir.path().join("audit.log");
    append(&log, &["a1", "a2", "a3"]);
    let (mut child, out) = follow(&rules, &log);
    out.wait_for("the existing lines", |t| t.lines().count() >= 3);
    std::fs::copy(&log, dir.path().join("audit.log.1")).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &["b1"]);
    out.wait_for("the first line after truncation", |t| {
        t.lines().count() >= 4
    });
    // Grows past the old size before the next poll: still noticed.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, &["c1", "c2", "c3", "c4"]);
    let text = out.wait_for("the lines after the second truncation", |t| {
        t.lines().count() >= 8
    });
    std::thread::sleep(Duration::from_millis(300));
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        alerted(&text),
        ["a1", "a2", "a3", "b1", "c1", "c2", "c3", "c4"],
        "{text}"
    );
    assert_eq!(out.finish().lines().count(), 8, "nothing repeated");
}

#[test]
fn configuration_errors_name_the_key_and_exit_2() {
    let (dir, rules) = rules_dir();
    let config = write(dir.path(), "bad.yaml", "server:\n  lisen: 127.0.0.1:1\n");
    let out = crate::common::lanner(&["serve", "-r", arg(&rules), "-c", arg(&config)], None);
    assert_eq!(out.status.code(), Some(2));
    let err = crate::common::stderr(&out);
    assert!(
        err.contains("bad.yaml: server.lisen: unknown field `lisen`, expected one of `listen`"),
        "{err}"
    );
    let out = crate::common::lanner(
        &["serve", "-r", arg(&rules), "-o", "outputs=[{type: file}]"],
        None,
    );
    assert!(
        crate::common::stderr(&out).contains("outputs[0]: missing field `path`"),
        "{}",
        crate::common::stderr(&out)
    );
    let out = crate::common::lanner(
        &["serve", "-r", arg(&rules), "--listen", "127.0.0.1:0"],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        crate::common::stderr(&out).contains("--plaintext"),
        "TLS or an explicit --plaintext"
    );
    let broken = write(
        dir.path(),
        "broken.yaml",
        "- rule: X\n  condition: ka.verb = = a\n",
    );
    let out = crate::common::lanner(
        &[
            "serve",
            "-r",
            arg(&broken),
            "--plaintext",
            "--listen",
            "127.0.0.1:0",
        ],
        None,
    );
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        crate::common::stderr(&out)
    );
}

#[test]
fn run_reads_the_rules_settings_of_the_config_file() {
    let (dir, rules) = rules_dir();
    let config = write(
        dir.path(),
        "lanner.yaml",
        &format!(
            "rules:\n  paths: [{}]\n  min_priority: warning\n",
            rules.display()
        ),
    );
    let input = format!("{}\n{}\n", pod("web"), event("get", "secrets", "s"));
    let out = crate::common::lanner(&["run", "-c", arg(&config), "-q"], Some(input.as_bytes()));
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    assert_eq!(
        crate::common::stdout(&out),
        "12:00:00.123456000: Warning pod web created by alice\n"
    );
    let out = crate::common::lanner(
        &[
            "run",
            "-c",
            arg(&config),
            "-o",
            "rules.min_priority=debug",
            "-q",
        ],
        Some(input.as_bytes()),
    );
    assert_eq!(crate::common::stdout(&out).lines().count(), 2);
}
