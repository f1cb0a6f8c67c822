//! The command line: `serve` (the default), `migrate`, `user create`,
//! `token create`, `project create`. Every command reads the same environment as
//! the server, works whether or not a server runs on the same data directory, and
//! prints machine-readable JSON with `--json`.

use std::{io::Read, process::ExitCode};

use anyhow::{anyhow, Context};
use app::api::Role;
use clap::{Args, Parser, Subcommand};
use serde_json::json;

use crate::{
    auth::{tokens, users},
    bench,
    config::Config,
    db::{self, Opener},
    pipeline::partitions,
    projects, serve, telemetry, AppState,
};

/// Sightline: logs, errors, metrics, traces and product analytics in one server.
#[derive(Debug, Parser)]
#[command(name = "sightline", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (the default).
    Serve,
    /// Measure ingestion and search on this machine (in a database of its own,
    /// `sightline_bench`, recreated each run) and print the figures.
    Bench(BenchArgs),
    #[command(flatten)]
    OneOff(OneOff),
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// `logs` (ingest rate against raw COPY, search latency), `errors` (Sentry
    /// events per second and their latency), `bombs` (concurrent 1 GiB gzip
    /// bombs: answers, peak memory, `/healthz` latency) or `metrics` (remote
    /// write samples per second, bytes a sample, PromQL latency, beside
    /// Prometheus when it is installed).
    #[arg(value_enum, default_value_t = BenchKind::Logs)]
    kind: BenchKind,
    /// Log lines to ingest.
    #[arg(long, default_value_t = 1_000_000)]
    lines: usize,
    /// Error events to send.
    #[arg(long, default_value_t = 30_000)]
    events: usize,
    /// Concurrent HTTP clients (default 4 for logs and metrics; for errors 16,
    /// 64 and 256 in turn; 64 bombs).
    #[arg(long)]
    clients: Option<usize>,
    /// Lines (logs) or samples (metrics) per request.
    #[arg(long, default_value_t = 1000)]
    batch: usize,
    /// Runs of each search or query.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Metrics: active series of the 1 h ingest (20 a handler of each target).
    #[arg(long, default_value_t = 20_000)]
    series: usize,
    /// Metrics: scrape targets the series come from.
    #[arg(long, default_value_t = 40)]
    targets: usize,
    /// Metrics: seconds between scrapes of the 1 h ingest.
    #[arg(long, default_value_t = 15)]
    interval_seconds: u64,
    /// Metrics: targets of the 24 h data (60 s apart; promtool backfills
    /// Prometheus with them).
    #[arg(long, default_value_t = 4)]
    day_targets: usize,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BenchKind {
    Logs,
    Errors,
    Bombs,
    Metrics,
}

/// Commands that open the database, do one thing and exit.
#[derive(Debug, Subcommand)]
enum OneOff {
    /// Apply database migrations and exit.
    Migrate,
    /// Create missing log partitions and apply retention now; print what was done.
    Maintenance,
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage projects.
    #[command(subcommand)]
    Project(ProjectCommand),
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a user. The password comes from standard input with
    /// --password-stdin; otherwise one is generated and printed once.
    Create(UserCreate),
}

#[derive(Debug, Args)]
struct UserCreate {
    #[arg(long)]
    email: String,
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Read the password from standard input (first line).
    #[arg(long)]
    password_stdin: bool,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create an API token; the secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
}

#[derive(Debug, Subcommand)]
enum ProjectCommand {
    /// Create a project with an ingest key; prints its Sentry DSN.
    Create {
        #[arg(long)]
        slug: String,
        #[arg(long)]
        name: String,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    s.parse()
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sightline: {e:#}");
            return ExitCode::from(2);
        }
    };
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let _telemetry = match telemetry::init(&config, serving) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("sightline: {e:#}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sightline: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "sightline failed");
            eprintln!("sightline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli, config: Config) -> anyhow::Result<()> {
    let command = match cli.command {
        None | Some(Command::Serve) => return serve::serve(config).await,
        Some(Command::Bench(args)) => {
            return match args.kind {
                BenchKind::Logs => {
                    let options = bench::logs::BenchOptions {
                        lines: args.lines.max(1),
                        clients: args.clients.unwrap_or(4).clamp(1, 64),
                        batch: args.batch.clamp(1, 50_000),
                        runs: args.runs.max(1),
                    };
                    bench::logs::run(config, options).await
                }
                BenchKind::Errors => {
                    let clients = match args.clients {
                        Some(clients) => vec![clients.clamp(1, 256)],
                        None => bench::errors::DEFAULT_CLIENTS.to_vec(),
                    };
                    bench::errors::run(config, args.events.max(1), &clients).await
                }
                BenchKind::Bombs => {
                    bench::bombs::run(config, args.clients.unwrap_or(64).clamp(1, 256)).await
                }
                BenchKind::Metrics => {
                    let options = bench::metrics::BenchOptions {
                        series: args.series.max(20),
                        targets: args.targets.clamp(1, 10_000),
                        interval_s: args.interval_seconds.clamp(1, 300),
                        batch: args.batch.clamp(1, 50_000),
                        writers: args.clients.unwrap_or(4).clamp(1, 64),
                        runs: args.runs.max(1),
                        day_targets: args.day_targets.clamp(1, 10_000),
                    };
                    bench::metrics::run(config, options).await
                }
            };
        }
        Some(Command::OneOff(command)) => command,
    };
    // Read stdin before touching the database so a missing password fails fast.
    let password = match &command {
        OneOff::User(UserCommand::Create(args)) if args.password_stdin => {
            let mut input = String::new();
            std::io::stdin()
                .take(4096)
                .read_to_string(&mut input)
                .context("reading the password from standard input")?;
            Some(input.lines().next().unwrap_or_default().to_string())
        }
        _ => None,
    };
    let database = db::open(&config, Opener::Cli).await?;
    let result = async {
        db::migrate(&database.pool).await?;
        let state = AppState::new(database.pool.clone(), config)?;
        execute(command, &state, password, cli.json).await
    }
    .await;
    database.pool.close().await;
    if let Some(pg) = &database.embedded {
        pg.stop().await?;
    }
    result
}

async fn execute(
    command: OneOff,
    state: &AppState,
    password: Option<String>,
    as_json: bool,
) -> anyhow::Result<()> {
    let pool = &state.pool;
    match command {
        OneOff::Migrate => {
            print(
                as_json,
                json!({"migrated": true}),
                "migrations applied".into(),
            );
        }
        OneOff::Maintenance => {
            let tables = crate::state::partitioned_tables(&state.config);
            let mut report = partitions::run_once(pool, &tables, chrono::Utc::now()).await?;
            if !report.skipped {
                report.indexed =
                    partitions::index_closed(pool, &tables, chrono::Utc::now()).await?;
            }
            let text = if report.skipped {
                "another instance is running maintenance; nothing done".to_string()
            } else {
                format!(
                    "created {} partition(s){}\ndropped {} partition(s){}\ndeleted {} row(s) past retention from default partitions\nbuilt {} search index(es) on closed partitions{}",
                    report.created.len(),
                    list(&report.created),
                    report.dropped.len(),
                    list(&report.dropped),
                    report.purged_default_rows,
                    report.indexed.len(),
                    list(&report.indexed)
                )
            };
            print(as_json, serde_json::to_value(&report)?, text);
        }
        OneOff::User(UserCommand::Create(args)) => {
            let generated = password.is_none();
            let password = password.unwrap_or_else(|| crate::auth::secret::random_alphanumeric(20));
            let user = users::insert_user(pool, &args.email, &password, args.role)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let shown = generated.then_some(password);
            let text = match &shown {
                Some(p) => format!(
                    "created {} ({}), password: {p}\nthe password is shown only now",
                    user.email, user.role
                ),
                None => format!("created {} ({})", user.email, user.role),
            };
            print(
                as_json,
                json!({"user_id": user.user_id, "email": user.email, "role": user.role, "password": shown}),
                text,
            );
        }
        OneOff::Token(TokenCommand::Create { name, role }) => {
            let created = tokens::insert_token(pool, &name, role, None)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let text = format!(
                "{}\nthe token is shown only now; it carries the {role} role",
                created.token
            );
            print(
                as_json,
                json!({"token": created.token, "token_id": created.api_token.token_id, "name": created.api_token.name, "role": role}),
                text,
            );
        }
        OneOff::Project(ProjectCommand::Create { slug, name }) => {
            let created = projects::insert_project(state, &slug, &name)
                .await
                .map_err(|e| anyhow!("{e}"))?;
            let text = format!(
                "created project {} ({}), id {}\ningest key: {}\nDSN: {}",
                created.project.name,
                created.project.slug,
                created.project.project_id,
                created.key.public_key,
                created.key.dsn
            );
            print(
                as_json,
                json!({
                    "project_id": created.project.project_id,
                    "slug": created.project.slug,
                    "name": created.project.name,
                    "ingest_key": created.key.public_key,
                    "dsn": created.key.dsn,
                }),
                text,
            );
        }
    }
    Ok(())
}

fn list(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(": {}", names.join(", "))
    }
}

fn print(as_json: bool, value: serde_json::Value, text: String) {
    if as_json {
        println!("{value}");
    } else {
        println!("{text}");
    }
}
