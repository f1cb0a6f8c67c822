//! The peer: Debian's Prometheus 2.42, started by the benchmark on a
//! directory of its own.

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// A Prometheus of the benchmark's own, killed when dropped.
pub struct Peer {
    child: Child,
    pub base: String,
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Already exited is fine: kill only fails then.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `prometheus` on `dir/tsdb` with no scrape targets and the remote
    /// write receiver, and waits (60 s at most) until it is ready.
    pub async fn start(binary: &Path, dir: &Path, http: &reqwest::Client) -> anyhow::Result<Peer> {
        std::fs::write(dir.join("prometheus.yml"), "scrape_configs: []\n")?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(dir.join("prometheus.log"))?;
        let child = Command::new(binary)
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            // The month's blocks are older than the default 15 days.
            .arg("--storage.tsdb.retention.time=90d")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut peer = Peer {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            let ready = http.get(format!("{}/-/ready", peer.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(peer);
            }
            if let Some(status) = peer.child.try_wait()? {
                anyhow::bail!("prometheus exited ({status}); see {}", dir.display());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "prometheus not ready after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// `name` on `PATH`, else in `/usr/bin`.
pub fn binary(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/bin")])
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// Bytes of the files under `path`.
pub fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&entry.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

/// Turns the OpenMetrics text in `file` into blocks under `tsdb` with
/// `promtool tsdb create-blocks-from openmetrics`, each spanning
/// `block_hours` at most (promtool's default is 2; Prometheus's compactor
/// merges older blocks into larger ones, up to a tenth of the retention).
pub fn backfill(promtool: &Path, file: &Path, tsdb: &Path, block_hours: u32) -> anyhow::Result<()> {
    let output = Command::new(promtool)
        .args(["tsdb", "create-blocks-from", "openmetrics"])
        .arg(format!("--max-block-duration={block_hours}h"))
        .arg(file)
        .arg(tsdb)
        .stdin(Stdio::null())
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "promtool: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(())
}
