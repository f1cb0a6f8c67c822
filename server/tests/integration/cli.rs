//! The `sightline` command line against a real PostgreSQL: what `project create`,
//! `token create` and `user create` print, and that what they make works over HTTP.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use crate::common;

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use axum::http::StatusCode;
use common::{database_url, Auth, TestApp};
use serde_json::{json, Value};
use sqlx::PgPool;

fn sightline(pool: &PgPool, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(args)
        .env("SIGHTLINE_DATABASE_URL", database_url(pool))
        .env("SIGHTLINE_PUBLIC_URL", "http://127.0.0.1:3000")
        .env_remove("SIGHTLINE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sightline");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("sightline runs")
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

#[sqlx::test(migrations = "../migrations")]
async fn project_and_token_commands_print_json_that_works(pool: PgPool) {
    let project = json_of(&sightline(
        &pool,
        &[
            "project", "create", "--slug", "demo", "--name", "Demo", "--json",
        ],
        None,
    ));
    let id = project["project_id"].as_i64().expect("integer project_id");
    let key = project["ingest_key"].as_str().unwrap();
    assert_eq!(project["slug"], "demo");
    assert_eq!(project["name"], "Demo");
    assert_eq!(project["dsn"], format!("http://{key}@127.0.0.1:3000/{id}"));

    let token = json_of(&sightline(
        &pool,
        &[
            "token", "create", "--name", "ro", "--role", "viewer", "--json",
        ],
        None,
    ));
    let token = token["token"].as_str().unwrap().to_string();

    let app = TestApp::new(pool.clone());
    let viewer = Auth::Bearer(token);
    let listed = app.get("/api/v1/projects", &viewer).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body[0]["slug"], "demo");
    let create = app
        .post(
            "/api/v1/projects",
            &viewer,
            json!({"slug": "x", "name": "X"}),
        )
        .await;
    assert_eq!(create.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/projects", &Auth::None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[sqlx::test(migrations = "../migrations")]
async fn user_create_takes_the_password_from_stdin_or_generates_one(pool: PgPool) {
    let given = json_of(&sightline(
        &pool,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "admin",
            "--password-stdin",
            "--json",
        ],
        Some("s3cret password\n"),
    ));
    assert!(
        given["password"].is_null(),
        "a given password is not echoed"
    );
    let generated = json_of(&sightline(
        &pool,
        &[
            "user",
            "create",
            "--email",
            "dev@example.com",
            "--role",
            "viewer",
            "--json",
        ],
        None,
    ));
    let password = generated["password"].as_str().unwrap().to_string();

    let app = TestApp::new(pool.clone());
    let admin = app.login("ops@example.com", "s3cret password").await;
    assert_eq!(app.get("/api/v1/me", &admin).await.body["role"], "admin");
    let viewer = app.login("dev@example.com", &password).await;
    assert_eq!(app.get("/api/v1/me", &viewer).await.body["role"], "viewer");

    let duplicate = sightline(
        &pool,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--role",
            "viewer",
        ],
        None,
    );
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
}

#[sqlx::test(migrations = "../migrations")]
async fn bad_configuration_stops_with_the_variable_named(pool: PgPool) {
    let output = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("migrate")
        .env("SIGHTLINE_DATABASE_URL", database_url(&pool))
        .env("SIGHTLINE_LISTEN", "not-an-address")
        .output()
        .expect("spawn");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("SIGHTLINE_LISTEN"));

    let bad_role = sightline(
        &pool,
        &["token", "create", "--name", "x", "--role", "owner"],
        None,
    );
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("admin, editor or viewer"));

    let migrate = json_of(&sightline(&pool, &["migrate", "--json"], None));
    assert_eq!(migrate["migrated"], true);
}
