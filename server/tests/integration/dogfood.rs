//! Dogfooding: a Sightline whose `SIGHTLINE_SENTRY_DSN` is one of its own
//! projects receives its own errors (as issues) and its own sampled request
//! transactions (as spans), through its own Sentry endpoint, like any app would.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use sqlx::PgPool;

use crate::common::database_url;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn sightline(pool: &PgPool, public_url: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sightline"));
    command
        .env("SIGHTLINE_DATABASE_URL", database_url(pool))
        .env("SIGHTLINE_PUBLIC_URL", public_url)
        .env_remove("SIGHTLINE_LOG")
        .stdin(Stdio::null());
    command
}

fn json_output(command: &mut Command) -> Value {
    let output = command.output().expect("sightline runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON on stdout")
}

/// Stops the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Polls `query` (a count) until it is at least 1 or 30 s have passed.
async fn eventually(pool: &PgPool, query: &str) -> i64 {
    let started = Instant::now();
    loop {
        let count: i64 = sqlx::query_scalar(query)
            .fetch_one(pool)
            .await
            .expect("count");
        if count > 0 || started.elapsed() > Duration::from_secs(30) {
            return count;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[sqlx::test(migrations = "../migrations")]
async fn sightline_reports_its_own_errors_and_transactions_into_itself(pool: PgPool) {
    let port = free_port();
    let public_url = format!("http://127.0.0.1:{port}");
    let project = json_output(sightline(&pool, &public_url).args([
        "project",
        "create",
        "--slug",
        "sightline",
        "--name",
        "Sightline",
        "--json",
    ]));
    let dsn = project["dsn"].as_str().expect("dsn").to_string();
    let token = json_output(sightline(&pool, &public_url).args([
        "token", "create", "--name", "t", "--role", "viewer", "--json",
    ]))["token"]
        .as_str()
        .expect("token")
        .to_string();

    let _server = Server(
        sightline(&pool, &public_url)
            .arg("serve")
            .env("SIGHTLINE_LISTEN", format!("127.0.0.1:{port}"))
            .env("SIGHTLINE_SENTRY_DSN", &dsn)
            .env("SIGHTLINE_SENTRY_TRACES_SAMPLE_RATE", "1.0")
            .env("SIGHTLINE_ENVIRONMENT", "dogfood")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sightline serve"),
    );
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client
        .get(format!("{public_url}/readyz"))
        .send()
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(started.elapsed() < Duration::from_secs(30), "server up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Requests are traced (all of them, at rate 1.0)...
    for _ in 0..3 {
        let listed = client
            .get(format!("{public_url}/api/v1/projects"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("request");
        assert!(listed.status().is_success());
    }
    // ...and a request that fails inside Sightline (its database lost a table)
    // is an error Sightline reports.
    sqlx::query("alter table log_count_minute rename to log_count_minute_gone")
        .execute(&pool)
        .await
        .expect("rename");
    let failed = client
        .get(format!(
            "{public_url}/api/v1/projects/sightline/logs/histogram?q=&from=now-1h"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("request");
    assert_eq!(failed.status().as_u16(), 500);

    let project_id = project["project_id"].as_i64().expect("project id");
    let issues = eventually(
        &pool,
        &format!(
            "select count(*) from issue where project_id = {project_id} and title like '%request failed%'"
        ),
    )
    .await;
    assert_eq!(issues, 1, "the failed request became an issue");
    let environment: String =
        sqlx::query_scalar("select environment from error_event where project_id = $1 limit 1")
            .bind(project_id)
            .fetch_one(&pool)
            .await
            .expect("event");
    assert_eq!(environment, "dogfood");
    let transactions = eventually(
        &pool,
        &format!(
            "select count(*) from span where project_id = {project_id} and is_segment
             and transaction = 'GET /api/v1/projects'"
        ),
    )
    .await;
    assert!(transactions >= 1, "request transactions named by route");
    let ingestion: i64 =
        sqlx::query_scalar("select count(*) from span where transaction like '%envelope%'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(ingestion, 0, "its own reports are not traced");
}
