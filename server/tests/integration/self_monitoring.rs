//! With `SIGHTLINE_SENTRY_DSN` set, Sightline reports its own error-level events
//! through the `sentry` crate, tagged with release and environment. A small HTTP
//! receiver stands in for the Sentry server and records what arrives.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    process::Command,
    sync::mpsc,
    time::Duration,
};

/// Accepts HTTP requests, answers 200, and sends each request's path and body.
fn receiver() -> (u16, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.trim().is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                }
            }
            let mut body = vec![0; length];
            let _ = reader.read_exact(&mut body);
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_string();
            let _ = tx.send((path, String::from_utf8_lossy(&body).into_owned()));
            let mut stream = reader.into_inner();
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}");
        }
    });
    (port, rx)
}

#[test]
fn error_events_reach_the_configured_sentry_dsn() {
    let (port, received) = receiver();
    let output = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("migrate")
        // Nothing listens on port 1: the command fails and logs an error.
        .env(
            "SIGHTLINE_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/sightline",
        )
        .env(
            "SIGHTLINE_SENTRY_DSN",
            format!("http://0123456789abcdef0123456789abcdef@127.0.0.1:{port}/42"),
        )
        .env("SIGHTLINE_ENVIRONMENT", "ci-test")
        .output()
        .expect("run sightline");
    assert!(!output.status.success());

    let (path, body) = received
        .recv_timeout(Duration::from_secs(10))
        .expect("an envelope reached the DSN");
    assert_eq!(path, "/api/42/envelope/");
    assert!(body.contains("\"environment\":\"ci-test\""), "{body}");
    assert!(body.contains("\"release\":\"server@"), "{body}");
    assert!(body.contains("could not connect to PostgreSQL"), "{body}");
}
