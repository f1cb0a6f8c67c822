//! A real log shipper, unmodified: Debian's rsyslog (8.2302) tails two log files
//! with `imfile` and ships them with its `omelasticsearch` output in bulk mode to
//! Sightline's Elasticsearch API over real HTTP, authenticating with a project's
//! ingest key as the basic-auth password. The lines must arrive with their
//! message, service, host, level and index, and be found by the search API.
//!
//! rsyslogd runs as a child of the test, in the foreground, with its config,
//! pid file, work directory and logs in a fresh temporary directory, so it never
//! touches the system's logging. It comes from the apt packages `rsyslog` and
//! `rsyslog-elasticsearch` (`make deps-test`); without them the test fails
//! rather than skips.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::{
    fs,
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::api::Role;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use common::TestApp;
use serde_json::{json, Value};
use sqlx::PgPool;

/// The index rsyslog names in every bulk action.
const INDEX: &str = "app-logs";
/// The host name rsyslog puts on its messages (instead of the machine's).
const HOST: &str = "rsyslog-test-host";
/// How long rsyslog has to deliver everything.
const DEADLINE: Duration = Duration::from_secs(30);

/// The rsyslog configuration: `{dir}`, `{host}`, `{index}`, `{port}` and `{key}`
/// are filled in.
///
/// Two files, each read by `imfile` with its own tag (the service) and severity,
/// go through one ruleset to `omelasticsearch`; a template writes each line as
/// the JSON document. Without `esVersion.major="8"` (as in most existing
/// configs) rsyslog puts `"_type":"events"` in every action line; Sightline
/// ignores it. rsyslog's own messages (`processInternalMessages`, instead of the
/// system's `/dev/log`) go to `rsyslogd.log`, and the bulk requests Elasticsearch
/// refused to `es-errors.json`, for the failure message.
const CONFIG: &str = r#"
global(
  workDirectory="{dir}/work"
  localHostname="{host}"
  processInternalMessages="on"
)
module(load="imfile")
module(load="omelasticsearch")

template(name="sightline-doc" type="list" option.jsonf="on") {
  property(outname="@timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="message" name="msg" format="jsonf")
  property(outname="host" name="hostname" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
  property(outname="service" name="app-name" format="jsonf")
}

ruleset(name="to-sightline") {
  action(type="omelasticsearch"
    server="127.0.0.1" serverport="{port}" usehttps="off"
    bulkmode="on" searchIndex="{index}"
    uid="sightline" pwd="{key}"
    template="sightline-doc"
    errorFile="{dir}/es-errors.json")
}

input(type="imfile" file="{dir}/checkout.log" tag="checkout" severity="info" ruleset="to-sightline")
input(type="imfile" file="{dir}/payments.log" tag="payments" severity="error" ruleset="to-sightline")

*.* action(type="omfile" file="{dir}/rsyslogd.log")
"#;

/// An rsyslogd of the test's own, with its temporary directory. Dropping it
/// kills the process, and removes the directory unless the test failed (then
/// it is kept, and named in the message, for a look at rsyslog's files).
struct Rsyslogd {
    dir: PathBuf,
    child: Option<Child>,
}

impl Rsyslogd {
    /// Writes the config for Sightline at `port` with ingest key `key`, checks
    /// it with `rsyslogd -N1` (which also fails when `omelasticsearch` is not
    /// installed) and starts rsyslogd in the foreground.
    fn start(port: u16, key: &str) -> Self {
        assert!(
            key.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "the ingest key goes into a quoted rsyslog string: {key:?}"
        );
        let binary = rsyslogd_binary();
        let dir = std::env::temp_dir().join(format!(
            "sightline-rsyslog-{}-{}",
            std::process::id(),
            server::auth::secret::random_hex(6)
        ));
        fs::create_dir_all(dir.join("work")).expect("temp dir");
        let mut shipper = Rsyslogd { dir, child: None };
        for file in ["checkout.log", "payments.log"] {
            fs::write(shipper.dir.join(file), "").expect("log file");
        }
        let dir_text = shipper.dir.to_str().expect("temp dir is UTF-8");
        let config = CONFIG
            .replace("{dir}", dir_text)
            .replace("{host}", HOST)
            .replace("{index}", INDEX)
            .replace("{port}", &port.to_string())
            .replace("{key}", key);
        let config_path = shipper.dir.join("rsyslog.conf");
        fs::write(&config_path, config).expect("config");

        let check = Command::new(&binary)
            .arg("-N1")
            .arg("-f")
            .arg(&config_path)
            .output()
            .expect("rsyslogd -N1");
        assert!(
            check.status.success(),
            "rsyslogd rejects the config ({}); is rsyslog-elasticsearch installed? Run `make deps-test`.\n{}{}",
            check.status,
            String::from_utf8_lossy(&check.stdout),
            String::from_utf8_lossy(&check.stderr)
        );

        let stdout = fs::File::create(shipper.dir.join("stdout.txt")).expect("stdout file");
        let stderr = fs::File::create(shipper.dir.join("stderr.txt")).expect("stderr file");
        let child = Command::new(&binary)
            .arg("-n")
            .arg("-f")
            .arg(&config_path)
            .arg("-i")
            .arg(shipper.dir.join("rsyslogd.pid"))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        shipper.child = Some(child);
        shipper
    }

    /// Appends `lines` to the watched file `name`.
    fn append(&self, name: &str, lines: &[String]) {
        let mut file = fs::OpenOptions::new()
            .append(true)
            .open(self.dir.join(name))
            .expect("open the watched file");
        let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
        file.write_all(text.as_bytes()).expect("append");
    }

    /// Fails the test if rsyslogd has exited.
    fn assert_running(&mut self) {
        let exited = self
            .child
            .as_mut()
            .and_then(|child| child.try_wait().expect("try_wait"));
        if let Some(status) = exited {
            panic!("rsyslogd exited ({status})\n{}", self.diagnostics());
        }
    }

    /// rsyslog's own output, internal log and error file, for failure messages.
    fn diagnostics(&self) -> String {
        let mut text = format!("rsyslog's files are in {}", self.dir.display());
        for file in ["stderr.txt", "stdout.txt", "rsyslogd.log", "es-errors.json"] {
            let content = fs::read_to_string(self.dir.join(file))
                .unwrap_or_else(|e| format!("(not readable: {e})"));
            text.push_str(&format!("\n--- {file}:\n{content}"));
        }
        text
    }

    /// Kills rsyslogd and waits for it.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Already exited is fine: kill only fails then.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        self.stop();
        if !std::thread::panicking() {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// rsyslogd on `PATH` or in the sbin directories a non-root `PATH` may lack.
fn rsyslogd_binary() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join("rsyslogd"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| {
            panic!(
                "rsyslogd not found: run `make deps-test` (it installs the apt packages rsyslog and rsyslog-elasticsearch)"
            )
        })
}

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .expect("the listen URL ends with a port")
}

type Row = (i16, String, String, String, Value, DateTime<Utc>);

/// The project's lines, by message (sorted here: the database's collation may
/// not be bytewise).
async fn rows(pool: &PgPool, project_id: i64) -> Vec<Row> {
    let mut rows: Vec<Row> = sqlx::query_as(
        "select level, service, host, message, attributes, ts from log_entry where project_id = $1",
    )
    .bind(project_id)
    .fetch_all(pool)
    .await
    .expect("rows");
    rows.sort_by(|a, b| a.3.cmp(&b.3));
    rows
}

/// Waits until `expected` lines are stored, failing with rsyslog's output when
/// rsyslogd dies, reports a refused request or the deadline passes.
async fn wait_for_lines(pool: &PgPool, project_id: i64, expected: usize, shipper: &mut Rsyslogd) {
    let started = Instant::now();
    loop {
        let stored: i64 =
            sqlx::query_scalar("select count(*) from log_entry where project_id = $1")
                .bind(project_id)
                .fetch_one(pool)
                .await
                .expect("count");
        if usize::try_from(stored).expect("count") >= expected {
            return;
        }
        shipper.assert_running();
        // rsyslog does not retry what Elasticsearch refused (a 401, an item's
        // error): it writes it to its error file, so waiting longer is useless.
        assert!(
            !shipper.dir.join("es-errors.json").exists(),
            "rsyslog reports refused requests ({stored} of {expected} lines stored)\n{}",
            shipper.diagnostics()
        );
        assert!(
            started.elapsed() < DEADLINE,
            "{stored} of {expected} lines arrived within {DEADLINE:?}\n{}",
            shipper.diagnostics()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn rsyslog_ships_tailed_files_through_the_bulk_api(pool: PgPool) {
    let app = TestApp::new(pool.clone());
    let (project_id, key) = app.project("syslog").await;
    let url = app.listen().await;
    let started = Utc::now();
    let mut shipper = Rsyslogd::start(port_of(&url), &key);

    // Quotes, a backslash and non-ASCII text exercise the template's JSON escaping.
    let checkout: Vec<String> = (0..20)
        .map(|i| format!(r#"order {i:02} paid: "{i}.50 €" via C:\gateway"#))
        .collect();
    let payments: Vec<String> = (0..5)
        .map(|i| format!("payment {i} declined: issuer timeout"))
        .collect();
    shipper.append("checkout.log", &checkout);
    shipper.append("payments.log", &payments);

    let expected = checkout.len() + payments.len();
    wait_for_lines(&pool, project_id, expected, &mut shipper).await;
    // Nothing more than once: give a duplicate a moment to show up.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let stored = rows(&pool, project_id).await;
    shipper.assert_running();
    let diagnostics = shipper.diagnostics();
    shipper.stop();

    assert_eq!(stored.len(), expected, "{stored:?}");
    let mut want: Vec<(i16, &str, &str, &str)> = checkout
        .iter()
        .map(|m| (3, "checkout", HOST, m.as_str()))
        .chain(payments.iter().map(|m| (5, "payments", HOST, m.as_str())))
        .collect();
    want.sort_by_key(|row| row.3);
    let got: Vec<(i16, &str, &str, &str)> = stored
        .iter()
        .map(|(level, service, host, message, _, _)| {
            (*level, service.as_str(), host.as_str(), message.as_str())
        })
        .collect();
    assert_eq!(got, want, "{diagnostics}");
    let now = Utc::now();
    for (_, _, _, message, attributes, ts) in &stored {
        assert_eq!(
            attributes,
            &json!({"index": INDEX}),
            "only the index is left over: {message}"
        );
        assert!(
            *ts >= started - chrono::Duration::seconds(1) && *ts <= now,
            "{message}: rsyslog's timestamp {ts} is outside the test's {started} to {now}"
        );
    }
    assert!(
        !shipper.dir.join("es-errors.json").exists(),
        "rsyslog reported refused items\n{diagnostics}"
    );

    // A user finds them with the search language.
    let viewer = app.token(Role::Viewer).await;
    let found = app
        .get(
            "/api/v1/projects/syslog/logs/search?q=index:app-logs%20service:payments%20level:error&from=now-1h&limit=100",
            &viewer,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    let mut messages: Vec<&str> = found.body["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["message"].as_str().expect("message"))
        .collect();
    messages.sort_unstable();
    assert_eq!(messages, payments, "{}", found.text);
    let found = app
        .get(
            "/api/v1/projects/syslog/logs/search?q=%22order%2007%20paid%22&from=now-1h",
            &viewer,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text);
    assert_eq!(
        found.body["rows"][0]["message"], checkout[7],
        "{}",
        found.text
    );
    assert_eq!(
        found.body["rows"][0]["service"], "checkout",
        "{}",
        found.text
    );
    assert_eq!(found.body["rows"].as_array().map(Vec::len), Some(1));
}
