//! What the metrics tests share: remote write requests as Prometheus sends
//! them, Prometheus's query API read back as `(labels, value)` pairs (once, or
//! until an answer comes), and a real Prometheus run by the test.

use std::{
    fs,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use axum::{
    body::Body,
    http::{header, Request, StatusCode},
};
use serde_json::Value;
use server::ingest::prometheus::proto::{self, Label, Sample, TimeSeries, WriteRequest};

use super::{Auth, TestApp, TestResponse};

/// Sightline's remote write endpoint.
pub const REMOTE_WRITE: &str = "/prometheus/api/v1/write";

/// A series of a remote write request: its labels as given (order and empty
/// values kept, as a client may send them) and its samples `(ms, value)`.
pub fn series(labels: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    TimeSeries {
        labels: labels
            .iter()
            .map(|(n, v)| Label {
                name: n.to_string(),
                value: v.to_string(),
            })
            .collect(),
        samples: samples
            .iter()
            .map(|&(timestamp, value)| Sample { value, timestamp })
            .collect(),
        histograms: 0,
    }
}

/// A remote write of `body` (a snappy-compressed `WriteRequest`) as
/// Prometheus sends it, with the key as the basic-auth password, as its
/// `basic_auth` block sends it.
pub fn remote_write(key: &str, body: Vec<u8>) -> Request<Body> {
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("prometheus:{key}"));
    Request::post(REMOTE_WRITE)
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .header(header::CONTENT_TYPE, "application/x-protobuf")
        .header(header::CONTENT_ENCODING, "snappy")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(Body::from(body))
        .expect("request")
}

/// Sends `timeseries` by remote write and expects them committed (204).
pub async fn write(app: &TestApp, key: &str, timeseries: Vec<TimeSeries>) {
    let request = WriteRequest {
        timeseries,
        metadata: Vec::new(),
    };
    let r = app.send(remote_write(key, proto::encode(&request))).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text);
}

/// `text` encoded for a query string.
pub fn enc(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The `data` of a Prometheus API answer, asserting that it is a success.
pub fn success(r: &TestResponse) -> &Value {
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.body["status"], "success", "{}", r.text);
    &r.body["data"]
}

/// The instant vector of `query` in the project `slug`, at `at` (ms) or now:
/// `(labels, value)`, sorted by labels.
pub async fn instant(
    app: &TestApp,
    auth: &Auth,
    slug: &str,
    query: &str,
    at: Option<i64>,
) -> Vec<(Value, f64)> {
    let mut uri = format!("/prometheus/{slug}/api/v1/query?query={}", enc(query));
    if let Some(t) = at {
        uri.push_str(&format!("&time={}", t as f64 / 1000.0));
    }
    let r = app.get(&uri, auth).await;
    let data = success(&r);
    assert_eq!(data["resultType"], "vector", "{}", r.text);
    let mut out: Vec<(Value, f64)> = data["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|s| {
            if let Some(t) = at {
                assert_eq!(s["value"][0].as_f64(), Some(t as f64 / 1000.0));
            }
            let v = s["value"][1].as_str().expect("a string value");
            (s["metric"].clone(), v.parse().expect("a number"))
        })
        .collect();
    out.sort_by_key(|a| a.0.to_string());
    out
}

/// Asks `query` now (as [`instant`]) until `check` holds for the answer,
/// which it returns; fails after `within` with the last answer.
pub async fn wait_for(
    app: &TestApp,
    auth: &Auth,
    slug: &str,
    query: &str,
    within: Duration,
    check: impl Fn(&[(Value, f64)]) -> bool,
) -> Vec<(Value, f64)> {
    let started = Instant::now();
    loop {
        let got = instant(app, auth, slug, query, None).await;
        if check(&got) {
            return got;
        }
        assert!(
            started.elapsed() < within,
            "`{query}` never became what the test waits for in {within:?}; last answer: {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A Prometheus of the test's own (Debian's 2.42, `make deps-test`), on a free
/// loopback port with its files in a fresh temporary directory. Dropping it
/// kills the process and removes the directory, unless the test failed: then
/// the log is printed and the files are kept for a look.
pub struct Prometheus {
    dir: PathBuf,
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// Starts Prometheus with the configuration `config(its own address)`
    /// and the flags `flags`, and waits (30 s at most) until it is ready.
    pub async fn start(config: impl FnOnce(&str) -> String, flags: &[&str]) -> Self {
        let binary = prometheus_binary();
        let dir = std::env::temp_dir().join(format!(
            "sightline-prometheus-{}-{}",
            std::process::id(),
            server::auth::secret::random_hex(6)
        ));
        fs::create_dir_all(dir.join("tsdb")).expect("temp dir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let address = format!("127.0.0.1:{port}");
        fs::write(dir.join("prometheus.yml"), config(&address)).expect("config");
        let log = fs::File::create(dir.join("prometheus.log")).expect("log file");
        let child = Command::new(&binary)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .arg("--log.level=warn")
            .args(flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut prometheus = Prometheus {
            dir,
            child,
            base: format!("http://{address}"),
            http: reqwest::Client::builder()
                .no_proxy()
                .timeout(Duration::from_secs(20))
                .build()
                .expect("http client"),
        };
        let started = Instant::now();
        loop {
            let ready = prometheus
                .http
                .get(format!("{}/-/ready", prometheus.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return prometheus;
            }
            if let Some(status) = prometheus.child.try_wait().expect("try_wait") {
                panic!("prometheus exited ({status})\n{}", prometheus.log());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "prometheus not ready after 30 s\n{}",
                prometheus.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Its log so far, headed by the file's path.
    pub fn log(&self) -> String {
        let path = self.dir.join("prometheus.log");
        let text = fs::read_to_string(&path).unwrap_or_else(|e| format!("(not readable: {e})"));
        format!("--- {}:\n{text}", path.display())
    }

    /// Sends it a snappy-compressed remote write request (it must run with
    /// `--web.enable-remote-write-receiver`).
    pub async fn write(&self, body: Vec<u8>) {
        let response = self
            .http
            .post(format!("{}/api/v1/write", self.base))
            .header(header::CONTENT_TYPE, "application/x-protobuf")
            .header(header::CONTENT_ENCODING, "snappy")
            .header("X-Prometheus-Remote-Write-Version", "0.1.0")
            .body(body)
            .send()
            .await
            .expect("remote write to prometheus");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "prometheus refused a write: {status} {text}"
        );
    }

    /// `GET /api/v1/{path}?{query}`: the status and the JSON body.
    pub async fn get(&self, path_and_query: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{}/api/v1/{path_and_query}", self.base))
            .send()
            .await
            .expect("query prometheus");
        let status = response.status().as_u16();
        let text = response.text().await.expect("prometheus's answer");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // Already exited is fine: kill only fails then.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("{}", self.log());
            eprintln!("prometheus's files are kept in {}", self.dir.display());
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// prometheus on `PATH`, else Debian's.
fn prometheus_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join("prometheus"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!("prometheus not found: run `make deps-test` (it installs the apt package prometheus)")
        })
}
