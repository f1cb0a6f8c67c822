//! The embedded default: a private PostgreSQL cluster under `<data dir>/pg`,
//! created with `initdb` on first run, listening only on a Unix socket inside the
//! cluster directory (no TCP port), stopped when the server stops.
//!
//! PostgreSQL refuses to run as root, so when Sightline runs as root the cluster
//! belongs to the `postgres` user and every `initdb`/`pg_ctl` call goes through
//! `runuser -u postgres`. If the data directory sits below a directory that user
//! cannot enter (such as `/root`), the cluster lives under
//! `/var/lib/sightline/<hash of the data dir>/pg` instead and `<data dir>/pg` is a
//! symbolic link to it.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use anyhow::{anyhow, bail, Context};
use sha2::{Digest, Sha256};
use sqlx::{postgres::PgConnectOptions, ConnectOptions, Connection};
use tokio::process::Command;

/// Name of the database Sightline keeps its data in, inside the cluster.
const DATABASE: &str = "sightline";
/// How long a start waits for a previous postmaster to come up or go away.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Longest Unix socket path the kernel accepts, less room for `.s.PGSQL.5432`.
const MAX_SOCKET_DIR_LEN: usize = 100;

/// Settings for an ingest-heavy cluster that owns its machine's PostgreSQL:
/// PostgreSQL's defaults (128 MB of buffers, a checkpoint every 1 GB of WAL)
/// suit a small shared server, and make every batch write full pages to WAL
/// again soon after each checkpoint. Buffers take an eighth of the memory
/// (between 128 MB and 2 GB); WAL is compressed, since it is mostly log text.
fn tuning(memory: Option<u64>) -> String {
    const MB: u64 = 1024 * 1024;
    let buffers = memory.map_or(128 * MB, |m| (m / 8).clamp(128 * MB, 2048 * MB));
    format!(
        "-c shared_buffers={}MB -c max_wal_size=4GB -c checkpoint_timeout=15min -c wal_compression=lz4",
        buffers / MB
    )
}

/// The machine's memory, from `/proc/meminfo` (Linux).
fn memory_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A running embedded cluster.
#[derive(Debug)]
pub struct EmbeddedPostgres {
    bin_dir: PathBuf,
    cluster_dir: PathBuf,
    socket_dir: PathBuf,
    as_postgres_user: bool,
    /// Whether [`EmbeddedPostgres::stop`] stops the cluster: the server owns it;
    /// a CLI command owns it only if it started it.
    owned: bool,
}

impl EmbeddedPostgres {
    /// Creates the cluster if needed, starts it unless it already runs, and makes
    /// sure the `sightline` database exists. `adopt`: stop the cluster at
    /// [`stop`](Self::stop) even when it was already running (the server, after a
    /// crash); otherwise only a cluster this call started is stopped.
    pub async fn start(data_dir: &Path, adopt: bool) -> anyhow::Result<Self> {
        let bin_dir = find_bin_dir()?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("SIGHTLINE_DATA_DIR: cannot create {}", data_dir.display()))?;
        let data_dir = data_dir.canonicalize().with_context(|| {
            format!("SIGHTLINE_DATA_DIR: cannot resolve {}", data_dir.display())
        })?;
        let as_postgres_user = nix::unistd::Uid::effective().is_root();
        let cluster_dir = cluster_dir(&data_dir, as_postgres_user).await?;
        let socket_dir = socket_dir(&cluster_dir);

        let mut pg = EmbeddedPostgres {
            bin_dir,
            cluster_dir,
            socket_dir,
            as_postgres_user,
            owned: adopt,
        };
        if !pg.cluster_dir.join("PG_VERSION").exists() {
            pg.init().await?;
        }
        if pg.accepts_connections().await {
            tracing::info!(cluster = %pg.cluster_dir.display(), "embedded PostgreSQL already running");
        } else {
            pg.launch().await?;
            pg.owned = true;
        }
        pg.create_database().await?;
        Ok(pg)
    }

    /// How to connect to the `sightline` database over the cluster's socket.
    pub fn connect_options(&self) -> PgConnectOptions {
        self.admin_options().database(DATABASE)
    }

    /// Stops the cluster if this process owns it (fast shutdown: open transactions
    /// roll back, committed data is safe).
    pub async fn stop(&self) -> anyhow::Result<()> {
        if !self.owned {
            return Ok(());
        }
        let status = self
            .pg_command("pg_ctl")
            .arg("stop")
            .arg("-D")
            .arg(&self.cluster_dir)
            .args(["-m", "fast", "-w", "-t", "8"])
            .stdout(Stdio::null())
            .status()
            .await
            .context("running pg_ctl stop")?;
        if !status.success() {
            bail!("pg_ctl stop failed ({status})");
        }
        tracing::info!("embedded PostgreSQL stopped");
        Ok(())
    }

    /// The cluster's directory (for messages and tests).
    pub fn cluster_dir(&self) -> &Path {
        &self.cluster_dir
    }

    async fn init(&self) -> anyhow::Result<()> {
        tracing::info!(cluster = %self.cluster_dir.display(), "creating embedded PostgreSQL cluster");
        std::fs::create_dir_all(&self.cluster_dir)
            .with_context(|| format!("cannot create {}", self.cluster_dir.display()))?;
        self.hand_to_postgres(&self.cluster_dir)?;
        let output = self
            .pg_command("initdb")
            .arg("-D")
            .arg(&self.cluster_dir)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .output()
            .await
            .context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// Starts the cluster, after whatever state a crash left it in: a live
    /// postmaster still starting up or shutting down is waited for (and used if
    /// it comes up); a dead one's `postmaster.pid` is removed; and while the dead
    /// one's children still hold its shared memory, starting is retried.
    async fn launch(&self) -> anyhow::Result<()> {
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        loop {
            if self.wait_for_previous_postmaster(deadline).await? {
                return Ok(());
            }
            match self.pg_ctl_start().await {
                Ok(()) => return Ok(()),
                // After a kill -9 of the postmaster, its backends take a moment
                // to notice and exit; until then PostgreSQL refuses to start
                // ("pre-existing shared memory block is still in use").
                Err(error) if Instant::now() < deadline => {
                    tracing::warn!(error = %format!("{error:#}"), "embedded PostgreSQL did not start; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Deals with a `postmaster.pid` left behind: `true` when its postmaster
    /// turned out to be alive and now accepts connections; `false` when there
    /// is none (any more) and the cluster may be started.
    async fn wait_for_previous_postmaster(&self, deadline: Instant) -> anyhow::Result<bool> {
        let pid_file = self.cluster_dir.join("postmaster.pid");
        loop {
            let Ok(contents) = std::fs::read_to_string(&pid_file) else {
                return Ok(false);
            };
            if !postmaster_alive(&contents) {
                // A crash (kill -9, power loss) leaves postmaster.pid behind; its
                // PID may since belong to another process, which makes PostgreSQL
                // refuse to start.
                tracing::warn!("removing stale postmaster.pid left by an unclean stop");
                self.remove_stale_socket_locks();
                match std::fs::remove_file(&pid_file) {
                    Ok(()) => return Ok(false),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
                    Err(e) => return Err(e).context("removing stale postmaster.pid"),
                }
            }
            // Still starting up or shutting down: give it time to answer, and
            // look again whether it is still there.
            if self.accepts_connections().await {
                return Ok(true);
            }
            if Instant::now() >= deadline {
                bail!(
                    "a PostgreSQL process owns {} but does not accept connections",
                    self.cluster_dir.display()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The socket's lock file (`.s.PGSQL.<port>.lock`) names the postmaster
    /// too, and PostgreSQL tests that PID with `kill(pid, 0)`, which a zombie
    /// passes: left behind by a killed postmaster not yet reaped, it makes every
    /// start fail with "lock file already exists". Removed once its PID is
    /// known not to be a live PostgreSQL.
    fn remove_stale_socket_locks(&self) {
        let Ok(entries) = std::fs::read_dir(&self.socket_dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !(name.starts_with(".s.PGSQL.") && name.ends_with(".lock")) {
                continue;
            }
            let stale = std::fs::read_to_string(entry.path())
                .map(|contents| !postmaster_alive(&contents))
                .unwrap_or(false);
            if stale {
                tracing::warn!(file = %entry.path().display(), "removing a stale socket lock file");
                if let Err(error) = std::fs::remove_file(entry.path()) {
                    tracing::warn!(%error, "could not remove a stale socket lock file");
                }
            }
        }
    }

    async fn pg_ctl_start(&self) -> anyhow::Result<()> {
        std::fs::create_dir_all(&self.socket_dir)
            .with_context(|| format!("cannot create {}", self.socket_dir.display()))?;
        self.hand_to_postgres(&self.socket_dir)?;
        let log_file = self.cluster_dir.join("postgres.log");
        let server_options = format!(
            "-k {} -c listen_addresses='' -c unix_socket_permissions=0700 {}",
            self.socket_dir.display(),
            tuning(memory_bytes())
        );
        let output = self
            .pg_command("pg_ctl")
            .arg("start")
            .arg("-D")
            .arg(&self.cluster_dir)
            .arg("-l")
            .arg(&log_file)
            .args(["-w", "-t", "60", "-o", &server_options])
            .stdout(Stdio::null())
            .output()
            .await
            .context("running pg_ctl start")?;
        if !output.status.success() {
            bail!(
                "embedded PostgreSQL did not start ({}); see {}",
                String::from_utf8_lossy(&output.stderr).trim(),
                log_file.display()
            );
        }
        tracing::info!(cluster = %self.cluster_dir.display(), "embedded PostgreSQL started");
        Ok(())
    }

    async fn accepts_connections(&self) -> bool {
        let options = self.admin_options().database("postgres");
        matches!(
            tokio::time::timeout(Duration::from_secs(3), options.connect()).await,
            Ok(Ok(_))
        )
    }

    async fn create_database(&self) -> anyhow::Result<()> {
        let mut conn = self
            .admin_options()
            .database("postgres")
            .connect()
            .await
            .context("connecting to the embedded PostgreSQL")?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(DATABASE)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("create database {DATABASE}"))
                .execute(&mut conn)
                .await?;
        }
        conn.close().await?;
        Ok(())
    }

    fn admin_options(&self) -> PgConnectOptions {
        PgConnectOptions::new()
            .socket(&self.socket_dir)
            .username("postgres")
    }

    fn pg_command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        let mut command = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command.stdin(Stdio::null()).kill_on_drop(false);
        command
    }

    fn hand_to_postgres(&self, dir: &Path) -> anyhow::Result<()> {
        use std::os::unix::fs::PermissionsExt;
        if self.as_postgres_user {
            let user = postgres_user()?;
            nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
                .with_context(|| format!("cannot give {} to the postgres user", dir.display()))?;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot restrict {}", dir.display()))?;
        Ok(())
    }
}

/// Whether the PID on the first line of a `postmaster.pid` is a live PostgreSQL
/// process: not an unrelated process that reused the PID after a crash, and not
/// a killed postmaster that nobody has reaped yet (a zombie keeps its name).
fn postmaster_alive(pid_file: &str) -> bool {
    let Some(pid) = pid_file
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<u32>().ok())
    else {
        return false;
    };
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| process_is_live_postgres(&stat))
        .unwrap_or(false)
}

/// Reads `/proc/<pid>/stat`: `pid (comm) state ...`. The name may itself hold
/// spaces and parentheses, so the state is what follows the last `)`.
fn process_is_live_postgres(stat: &str) -> bool {
    let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
        return false;
    };
    let name = stat.get(open + 1..close).unwrap_or_default();
    let state = stat
        .get(close + 1..)
        .unwrap_or_default()
        .trim_start()
        .chars()
        .next();
    matches!(name, "postgres" | "postmaster") && !matches!(state, Some('Z' | 'X' | 'x') | None)
}

fn postgres_user() -> anyhow::Result<nix::unistd::User> {
    nix::unistd::User::from_name("postgres")?.ok_or_else(|| {
        anyhow!("Sightline runs as root, and PostgreSQL refuses root: it needs a `postgres` system user (created by the Debian `postgresql` package)")
    })
}

/// Finds `initdb` and `pg_ctl`: `SIGHTLINE_PG_BIN`, the newest
/// `/usr/lib/postgresql/<version>/bin`, or `PATH`.
fn find_bin_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("SIGHTLINE_PG_BIN") {
        let dir = PathBuf::from(dir);
        if dir.join("pg_ctl").exists() {
            return Ok(dir);
        }
        bail!("SIGHTLINE_PG_BIN: no pg_ctl in {}", dir.display());
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("initdb").exists() && dir.join("pg_ctl").exists() {
                return Ok(dir);
            }
        }
    }
    bail!(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install PostgreSQL 15 or newer \
         (Debian/Ubuntu: `apt-get install postgresql`), point SIGHTLINE_PG_BIN at its bin directory, \
         or set SIGHTLINE_DATABASE_URL to use an existing server"
    )
}

/// `<data dir>/pg`, unless the postgres user cannot reach it (see the module docs).
async fn cluster_dir(data_dir: &Path, as_postgres_user: bool) -> anyhow::Result<PathBuf> {
    let wanted = data_dir.join("pg");
    if !as_postgres_user {
        return Ok(wanted);
    }
    if let Ok(target) = std::fs::read_link(&wanted) {
        return Ok(target);
    }
    if wanted.exists() || postgres_can_enter(data_dir).await {
        return Ok(wanted);
    }
    let hash = hex::encode(&Sha256::digest(data_dir.as_os_str().as_encoded_bytes())[..6]);
    let elsewhere = Path::new("/var/lib/sightline").join(hash).join("pg");
    let parent = elsewhere
        .parent()
        .unwrap_or(Path::new("/var/lib/sightline"));
    std::fs::create_dir_all(parent)
        .with_context(|| format!("cannot create {}", parent.display()))?;
    std::os::unix::fs::symlink(&elsewhere, &wanted).with_context(|| {
        format!(
            "cannot link {} to {}",
            wanted.display(),
            elsewhere.display()
        )
    })?;
    tracing::info!(
        data_dir = %data_dir.display(),
        cluster = %elsewhere.display(),
        "the postgres user cannot enter the data directory; keeping the cluster elsewhere"
    );
    Ok(elsewhere)
}

async fn postgres_can_enter(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .stdin(Stdio::null())
        .status()
        .await
        .map(|s| s.success())
        .unwrap_or(false)
}

/// The socket lives in the cluster directory unless that path is too long for a
/// Unix socket; then in a short directory under `/tmp` named after it.
fn socket_dir(cluster_dir: &Path) -> PathBuf {
    let inside = cluster_dir.join("run");
    if inside.as_os_str().len() <= MAX_SOCKET_DIR_LEN {
        return inside;
    }
    let hash = hex::encode(&Sha256::digest(cluster_dir.as_os_str().as_encoded_bytes())[..6]);
    PathBuf::from(format!("/tmp/sightline-pg-{hash}"))
}

#[cfg(test)]
mod tests {
    use super::{process_is_live_postgres, tuning};

    #[test]
    fn a_zombie_postmaster_is_dead() {
        assert!(process_is_live_postgres(
            "4242 (postgres) S 1 4242 4242 0 -1"
        ));
        assert!(!process_is_live_postgres(
            "4242 (postgres) Z 1 4242 4242 0 -1"
        ));
        assert!(!process_is_live_postgres("4242 (bash) S 1 4242 4242 0 -1"));
        assert!(!process_is_live_postgres("4242 (a) b) S 1"));
    }

    #[test]
    fn buffers_take_an_eighth_of_memory_within_bounds() {
        const GB: u64 = 1024 * 1024 * 1024;
        assert!(tuning(Some(24 * GB)).contains("shared_buffers=2048MB"));
        assert!(tuning(Some(8 * GB)).contains("shared_buffers=1024MB"));
        assert!(tuning(Some(GB / 2)).contains("shared_buffers=128MB"));
        assert!(tuning(None).contains("shared_buffers=128MB"));
    }
}
