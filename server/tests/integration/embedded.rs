//! The embedded default, as a user meets it: `sightline serve` with no database
//! configured creates and starts a private PostgreSQL under the data directory,
//! survives the database going away, shares it with CLI commands, stops it on
//! SIGTERM within 10 s, and starts again after `kill -9` or a stale
//! `postmaster.pid`.

#![expect(clippy::expect_used, reason = "test setup fails loudly")]

use std::{
    io::{Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

struct Server {
    child: Child,
    port: u16,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn start(data_dir: &Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .arg("serve")
        .env_remove("SIGHTLINE_DATABASE_URL")
        .env("SIGHTLINE_DATA_DIR", data_dir)
        .env("SIGHTLINE_LISTEN", format!("127.0.0.1:{port}"))
        .env("SIGHTLINE_LOG_FORMAT", "json")
        .env("SIGHTLINE_LOG_FILE", data_dir.join("logs/sightline.log"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn sightline serve");
    let server = Server { child, port };
    wait_for(&server, 200, Duration::from_secs(90));
    server
}

/// `GET path` on the server; the status code, or 0 when nothing answers.
fn status_of(port: u16, path: &str) -> u16 {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

fn wait_for(server: &Server, status: u16, limit: Duration) {
    let start = Instant::now();
    loop {
        let now = status_of(server.port, "/readyz");
        if now == status {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "/readyz stayed {now}, expected {status}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn signal(server: &Server, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(server.child.id().to_string())
        .status()
        .expect("kill");
    assert!(status.success());
}

/// Waits for exit; returns how long it took.
fn wait_exit(server: &mut Server, limit: Duration) -> Duration {
    let start = Instant::now();
    loop {
        if let Some(status) = server.child.try_wait().expect("try_wait") {
            let took = start.elapsed();
            eprintln!("sightline exited with {status} after {took:?}");
            return took;
        }
        assert!(
            start.elapsed() < limit,
            "sightline did not exit within {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn as_postgres(program: &Path) -> Command {
    if nix::unistd::Uid::effective().is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn pg_ctl() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL installed under /usr/lib/postgresql (make test installs it)")
        .flatten()
        .map(|e| e.path().join("bin/pg_ctl"))
        .filter(|p| p.exists())
        .collect();
    versions.sort();
    versions.pop().expect("pg_ctl")
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sightline-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// The rotated log file (named `sightline.log.<date>`) holds JSON lines with `text`.
fn assert_log_file_has(dir: &Path, text: &str) {
    let start = Instant::now();
    loop {
        let contents: String = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("sightline.log"))
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .collect();
        if let Some(line) = contents.lines().find(|l| l.contains(text)) {
            let parsed: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
            assert_eq!(parsed["level"], "INFO");
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no `{text}` in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn embedded_postgres_lives_and_dies_with_the_server() {
    let data_dir = scratch_dir("embedded");
    let cluster = data_dir.join("pg");

    // First run: initdb, start, migrate, serve.
    let mut server = start(&data_dir);
    assert!(cluster.join("PG_VERSION").exists());
    assert_eq!(status_of(server.port, "/healthz"), 200);
    assert_log_file_has(&data_dir.join("logs"), "Sightline is listening");

    // A CLI command while the server runs uses the running cluster.
    let output = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args([
            "project", "create", "--slug", "demo", "--name", "Demo", "--json",
        ])
        .env_remove("SIGHTLINE_DATABASE_URL")
        .env("SIGHTLINE_DATA_DIR", &data_dir)
        .output()
        .expect("cli");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        status_of(server.port, "/readyz"),
        200,
        "the CLI left the cluster running"
    );

    // The database goes away and comes back: /readyz follows without a restart.
    let stop = as_postgres(&pg_ctl())
        .args(["stop", "-m", "fast", "-w", "-D"])
        .arg(&cluster)
        .stdout(Stdio::null())
        .status()
        .expect("pg_ctl stop");
    assert!(stop.success());
    wait_for(&server, 503, Duration::from_secs(20));
    let socket_dir = cluster.join("run");
    let started = as_postgres(&pg_ctl())
        .args(["start", "-w", "-D"])
        .arg(&cluster)
        .arg("-l")
        .arg(cluster.join("postgres.log"))
        .arg("-o")
        .arg(format!(
            "-k {} -c listen_addresses=''",
            socket_dir.display()
        ))
        .stdout(Stdio::null())
        .status()
        .expect("pg_ctl start");
    assert!(started.success());
    wait_for(&server, 200, Duration::from_secs(20));

    // SIGTERM: clean exit within 10 s, PostgreSQL stopped.
    signal(&server, "TERM");
    wait_exit(&mut server, Duration::from_secs(10));
    assert!(
        !cluster.join("postmaster.pid").exists(),
        "PostgreSQL still running"
    );

    // kill -9 leaves PostgreSQL running: the next start adopts it.
    let mut server = start(&data_dir);
    signal(&server, "KILL");
    wait_exit(&mut server, Duration::from_secs(5));
    let mut server = start(&data_dir);
    signal(&server, "TERM");
    wait_exit(&mut server, Duration::from_secs(10));

    // A stale postmaster.pid (its PID now some other process) does not block a start.
    std::fs::write(cluster.join("postmaster.pid"), "1\n").expect("fake pid file");
    let mut server = start(&data_dir);
    signal(&server, "TERM");
    wait_exit(&mut server, Duration::from_secs(10));

    let _ = std::fs::remove_dir_all(&data_dir);
}

/// `kill -9` of the server and its postmaster together, then an immediate
/// restart. The killed postmaster stays a zombie until its parent reaps it:
/// this test makes itself that parent (a child subreaper) and reaps it only
/// after the restart, so the zombie is there every time, as it was on the
/// machines where a restart gave up after 30 s.
#[test]
fn a_crash_of_server_and_postgres_together_restarts_within_15_s() {
    nix::sys::prctl::set_child_subreaper(true).expect("become a child subreaper");
    let data_dir = scratch_dir("double-crash");
    let cluster = data_dir.join("pg");
    let mut server = start(&data_dir);
    let pid_file = std::fs::read_to_string(cluster.join("postmaster.pid")).expect("postmaster.pid");
    let postmaster: i32 = pid_file
        .lines()
        .next()
        .and_then(|l| l.trim().parse().ok())
        .expect("postmaster pid");

    let status = Command::new("kill")
        .args([
            "-KILL",
            &server.child.id().to_string(),
            &postmaster.to_string(),
        ])
        .status()
        .expect("kill");
    assert!(status.success());
    wait_exit(&mut server, Duration::from_secs(5));

    let restarted = Instant::now();
    let mut server = start(&data_dir);
    let took = restarted.elapsed();
    assert!(took < Duration::from_secs(15), "ready after {took:?}");
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(postmaster), None);

    signal(&server, "TERM");
    wait_exit(&mut server, Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&data_dir);
}

#[test]
fn a_data_dir_the_postgres_user_cannot_enter_still_works_as_root() {
    if !nix::unistd::Uid::effective().is_root() {
        eprintln!("not root: PostgreSQL runs as this user, nothing to test");
        return;
    }
    // Like a clone under /root: a private parent directory.
    let private = scratch_dir("private");
    std::fs::set_permissions(
        &private,
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .expect("chmod");
    let data_dir = private.join("data");
    let output = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(["migrate", "--json"])
        .env_remove("SIGHTLINE_DATABASE_URL")
        .env("SIGHTLINE_DATA_DIR", &data_dir)
        .output()
        .expect("cli");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let target = std::fs::read_link(data_dir.join("pg")).expect("pg is a link to the cluster");
    assert!(
        target.starts_with("/var/lib/sightline"),
        "{}",
        target.display()
    );
    assert!(target.join("PG_VERSION").exists());
    assert!(
        !target.join("postmaster.pid").exists(),
        "the CLI stopped the cluster it started"
    );
    let _ = std::fs::remove_dir_all(&private);
    let _ = std::fs::remove_dir_all(target.parent().unwrap_or(&target));
}

/// Sends `body` as `POST path` with a bearer token; returns status and body.
fn post_json(port: u16, path: &str, token: &str, body: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, body)
}

fn get_json(port: u16, path: &str, token: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string()
}

fn cli_json(data_dir: &Path, args: &[&str]) -> serde_json::Value {
    let output = Command::new(env!("CARGO_BIN_EXE_sightline"))
        .args(args)
        .env_remove("SIGHTLINE_DATABASE_URL")
        .env("SIGHTLINE_DATA_DIR", data_dir)
        .output()
        .expect("cli");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

#[test]
fn acknowledged_log_lines_survive_a_crash_of_server_and_database() {
    let data_dir = scratch_dir("durable");
    let cluster = data_dir.join("pg");
    let mut server = start(&data_dir);
    let project = cli_json(
        &data_dir,
        &["project", "create", "--slug", "d", "--name", "D", "--json"],
    );
    let key = project["ingest_key"].as_str().expect("key").to_string();
    let token = cli_json(
        &data_dir,
        &[
            "token", "create", "--name", "t", "--role", "viewer", "--json",
        ],
    );
    let token = token["token"].as_str().expect("token").to_string();

    let lines: Vec<String> = (0..500)
        .map(|i| format!("{{\"message\":\"durable {i}\"}}"))
        .collect();
    let (status, body) = post_json(
        server.port,
        "/api/v1/ingest/logs",
        &key,
        &format!("[{}]", lines.join(",")),
    );
    assert_eq!(status, 200, "{body}");

    // Crash both: the server with SIGKILL, PostgreSQL with an immediate stop (no
    // checkpoint; it must replay its WAL at the next start).
    signal(&server, "KILL");
    wait_exit(&mut server, Duration::from_secs(5));
    let stop = as_postgres(&pg_ctl())
        .args(["stop", "-m", "immediate", "-D"])
        .arg(&cluster)
        .stdout(Stdio::null())
        .status()
        .expect("pg_ctl stop");
    assert!(stop.success());

    let mut server = start(&data_dir);
    let found = get_json(
        server.port,
        "/api/v1/projects/d/logs/search?q=durable&from=now-1h&limit=1000",
        &token,
    );
    let found: serde_json::Value = serde_json::from_str(&found).expect("search answer");
    assert_eq!(
        found["rows"].as_array().map(Vec::len),
        Some(500),
        "every acknowledged line is there"
    );
    signal(&server, "TERM");
    wait_exit(&mut server, Duration::from_secs(10));
    let _ = std::fs::remove_dir_all(&data_dir);
}
