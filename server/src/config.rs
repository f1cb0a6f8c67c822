//! Configuration from the environment. Every variable is documented here, in the
//! README and in `.env.example`; a bad value stops start-up with a message that
//! names the variable.

use std::{net::SocketAddr, path::PathBuf, str::FromStr};

use anyhow::{anyhow, Context};
use url::Url;

/// How Sightline's own log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (the default when stdout is not a terminal).
    Json,
    /// Human-readable lines (the default on a terminal).
    Pretty,
}

/// How often the log file named by `SIGHTLINE_LOG_FILE` starts a new file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRotation {
    Hourly,
    Daily,
    Never,
}

/// Everything Sightline reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `SIGHTLINE_DATABASE_URL`: the PostgreSQL server to use. Unset: Sightline
    /// runs its own private cluster under `<data dir>/pg` (the embedded default).
    pub database_url: Option<String>,
    /// `SIGHTLINE_LISTEN`: address the HTTP server binds. Default `127.0.0.1:3000`.
    pub listen: SocketAddr,
    /// `SIGHTLINE_DATA_DIR`: where the embedded PostgreSQL cluster lives.
    /// Default `./data`.
    pub data_dir: PathBuf,
    /// `SIGHTLINE_PUBLIC_URL`: the URL people and SDKs reach this server at; used
    /// for DSNs and to decide whether cookies are `Secure`. Default
    /// `http://<SIGHTLINE_LISTEN>`.
    pub public_url: Url,
    /// `SIGHTLINE_LOG_FORMAT`: `json` or `pretty`. Default: `json` unless stdout is
    /// a terminal.
    pub log_format: LogFormat,
    /// `SIGHTLINE_LOG_FILE`: also write logs (JSON) to this file, rotated.
    pub log_file: Option<PathBuf>,
    /// `SIGHTLINE_LOG_ROTATION`: `daily` (default), `hourly` or `never`.
    pub log_rotation: LogRotation,
    /// `SIGHTLINE_LOG_KEEP`: how many rotated log files to keep. Default 7.
    pub log_keep: usize,
    /// `SIGHTLINE_SENTRY_DSN`: report Sightline's own panics and errors here (it
    /// may be a project of this very Sightline).
    pub sentry_dsn: Option<String>,
    /// `SIGHTLINE_SENTRY_TRACES_SAMPLE_RATE`: share (0–1) of Sightline's own
    /// requests sent to that DSN as transactions. Default 0.1; ingestion requests
    /// are never traced (a Sightline reporting to itself would trace its own
    /// reports).
    pub sentry_traces_sample_rate: f32,
    /// `SIGHTLINE_ENVIRONMENT`: environment name sent with those reports.
    /// Default `production`.
    pub environment: String,
    /// `SIGHTLINE_SESSION_TTL_HOURS`: how long a browser session lasts. Default 168.
    pub session_ttl_hours: i64,
    /// `SIGHTLINE_LOGS_RETENTION_DAYS`: log lines older than this many days are
    /// dropped (whole hour partitions). Default 14.
    pub logs_retention_days: u64,
    /// `SIGHTLINE_ERRORS_RETENTION_DAYS`: error events older than this many days
    /// are dropped (whole day partitions); their issues stay. Default 30.
    pub errors_retention_days: u64,
    /// `SIGHTLINE_SPANS_RETENTION_DAYS`: spans (transactions and traces) older
    /// than this many days are dropped (whole day partitions). Default 14.
    pub spans_retention_days: u64,
    /// `SIGHTLINE_METRICS_RETENTION_DAYS`: metric samples older than this many
    /// days are dropped (whole hour partitions). Default 15, as Prometheus.
    pub metrics_retention_days: u64,
    /// `SIGHTLINE_METRICS_ROLLUP_1M_RETENTION_DAYS` and `..._1H_...`: how long
    /// the one-minute and one-hour rollups of metrics are kept (whole day
    /// and month partitions). Defaults 90 and 730.
    pub metrics_rollup_retention_days: crate::metrics::RollupRetention,
    /// `SIGHTLINE_SELF_SCRAPE`: `on` (default) makes Sightline scrape its own
    /// `/metrics` every 15 s into the project `sightline` (made if missing),
    /// so its ingest rates, queues and pools are in the metrics explorer out
    /// of the box; `off` does not.
    pub self_scrape: bool,
    /// `SIGHTLINE_INGEST_QUEUE_MB`: memory each ingest queue (logs, errors,
    /// spans) may hold before ingestion answers 429/503 with Retry-After.
    /// Default 64.
    pub ingest_queue_mb: usize,
    /// `SIGHTLINE_INGEST_DECODE_MB`: decompressed request bodies all ingestion
    /// requests together may hold; beyond it a request waits up to 5 s for
    /// room, then gets 429 with Retry-After. At least 129 (room for the
    /// largest body an endpoint accepts, 128 MiB for `_bulk`). Default 256.
    pub ingest_decode_mb: usize,
    /// `SIGHTLINE_TRUSTED_PROXIES`: comma-separated addresses or CIDR ranges of
    /// the reverse proxies in front of Sightline. From those peers the client's
    /// address is read from `Forwarded`/`X-Forwarded-For` (for per-address
    /// login limits); from any other peer those headers are ignored. Default:
    /// none.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `LEPTOS_SITE_ROOT`: the directory holding `pkg/` (the WASM bundle and CSS).
    /// Default `target/site`.
    pub site_root: PathBuf,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, so tests need not touch the process
    /// environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let listen: SocketAddr = parse(&get, "SIGHTLINE_LISTEN", "127.0.0.1:3000")?;
        let public_url = match get("SIGHTLINE_PUBLIC_URL") {
            Some(raw) => parse_public_url(&raw).context("SIGHTLINE_PUBLIC_URL")?,
            None => parse_public_url(&format!("http://{listen}"))?,
        };
        let log_format = match get("SIGHTLINE_LOG_FORMAT").as_deref() {
            None => {
                if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                    LogFormat::Pretty
                } else {
                    LogFormat::Json
                }
            }
            Some("json") => LogFormat::Json,
            Some("pretty") => LogFormat::Pretty,
            Some(other) => {
                return Err(anyhow!(
                    "SIGHTLINE_LOG_FORMAT: `{other}` is not a log format; use `json` or `pretty`"
                ))
            }
        };
        let log_rotation = match get("SIGHTLINE_LOG_ROTATION").as_deref() {
            None | Some("daily") => LogRotation::Daily,
            Some("hourly") => LogRotation::Hourly,
            Some("never") => LogRotation::Never,
            Some(other) => {
                return Err(anyhow!(
                    "SIGHTLINE_LOG_ROTATION: `{other}` is not a rotation; use `daily`, `hourly` or `never`"
                ))
            }
        };
        let session_ttl_hours: i64 = parse(&get, "SIGHTLINE_SESSION_TTL_HOURS", "168")?;
        if session_ttl_hours <= 0 {
            return Err(anyhow!("SIGHTLINE_SESSION_TTL_HOURS: must be at least 1"));
        }
        let logs_retention_days: u64 = parse(&get, "SIGHTLINE_LOGS_RETENTION_DAYS", "14")?;
        if !(1..=3650).contains(&logs_retention_days) {
            return Err(anyhow!("SIGHTLINE_LOGS_RETENTION_DAYS: use 1 to 3650 days"));
        }
        let errors_retention_days: u64 = parse(&get, "SIGHTLINE_ERRORS_RETENTION_DAYS", "30")?;
        if !(1..=3650).contains(&errors_retention_days) {
            return Err(anyhow!(
                "SIGHTLINE_ERRORS_RETENTION_DAYS: use 1 to 3650 days"
            ));
        }
        let spans_retention_days: u64 = parse(&get, "SIGHTLINE_SPANS_RETENTION_DAYS", "14")?;
        if !(1..=3650).contains(&spans_retention_days) {
            return Err(anyhow!(
                "SIGHTLINE_SPANS_RETENTION_DAYS: use 1 to 3650 days"
            ));
        }
        let metrics_retention_days: u64 = parse(&get, "SIGHTLINE_METRICS_RETENTION_DAYS", "15")?;
        if !(1..=3650).contains(&metrics_retention_days) {
            return Err(anyhow!(
                "SIGHTLINE_METRICS_RETENTION_DAYS: use 1 to 3650 days"
            ));
        }
        let mut rollup_days = [0u64; 2];
        for (days, (name, default)) in rollup_days.iter_mut().zip([
            ("SIGHTLINE_METRICS_ROLLUP_1M_RETENTION_DAYS", "90"),
            ("SIGHTLINE_METRICS_ROLLUP_1H_RETENTION_DAYS", "730"),
        ]) {
            *days = parse(&get, name, default)?;
            if !(1..=36500).contains(days) {
                return Err(anyhow!("{name}: use 1 to 36500 days"));
            }
        }
        // A coarser tier outlives a finer one: a long panel falls back to it.
        if rollup_days[0] < metrics_retention_days || rollup_days[1] < rollup_days[0] {
            return Err(anyhow!(
                "SIGHTLINE_METRICS_ROLLUP_1M_RETENTION_DAYS ({}) must be at least \
                 SIGHTLINE_METRICS_RETENTION_DAYS ({metrics_retention_days}), and \
                 SIGHTLINE_METRICS_ROLLUP_1H_RETENTION_DAYS ({}) at least the former",
                rollup_days[0],
                rollup_days[1]
            ));
        }
        let metrics_rollup_retention_days = crate::metrics::RollupRetention {
            minute_days: rollup_days[0],
            hour_days: rollup_days[1],
        };
        let self_scrape = match get("SIGHTLINE_SELF_SCRAPE").as_deref() {
            None | Some("on") => true,
            Some("off") => false,
            Some(other) => {
                return Err(anyhow!(
                    "SIGHTLINE_SELF_SCRAPE: `{other}` is not `on` or `off`"
                ))
            }
        };
        let ingest_queue_mb: usize = parse(&get, "SIGHTLINE_INGEST_QUEUE_MB", "64")?;
        if !(1..=4096).contains(&ingest_queue_mb) {
            return Err(anyhow!("SIGHTLINE_INGEST_QUEUE_MB: use 1 to 4096"));
        }
        let ingest_decode_mb: usize = parse(&get, "SIGHTLINE_INGEST_DECODE_MB", "256")?;
        if !(129..=65536).contains(&ingest_decode_mb) {
            return Err(anyhow!("SIGHTLINE_INGEST_DECODE_MB: use 129 to 65536"));
        }
        let database_url = get("SIGHTLINE_DATABASE_URL");
        if let Some(url) = &database_url {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(anyhow!(
                    "SIGHTLINE_DATABASE_URL: expected a postgres:// or postgresql:// URL"
                ));
            }
        }
        let sentry_traces_sample_rate: f32 =
            parse(&get, "SIGHTLINE_SENTRY_TRACES_SAMPLE_RATE", "0.1")?;
        if !(0.0..=1.0).contains(&sentry_traces_sample_rate) {
            return Err(anyhow!(
                "SIGHTLINE_SENTRY_TRACES_SAMPLE_RATE: use a share from 0 to 1"
            ));
        }
        let trusted_proxies = get("SIGHTLINE_TRUSTED_PROXIES")
            .map(|raw| parse_networks(&raw))
            .transpose()
            .context("SIGHTLINE_TRUSTED_PROXIES")?
            .unwrap_or_default();
        let sentry_dsn = get("SIGHTLINE_SENTRY_DSN");
        if let Some(dsn) = &sentry_dsn {
            sentry::types::Dsn::from_str(dsn)
                .map_err(|e| anyhow!("SIGHTLINE_SENTRY_DSN: not a valid DSN: {e}"))?;
        }

        Ok(Config {
            database_url,
            listen,
            data_dir: PathBuf::from(get("SIGHTLINE_DATA_DIR").unwrap_or_else(|| "data".into())),
            public_url,
            log_format,
            log_file: get("SIGHTLINE_LOG_FILE").map(PathBuf::from),
            log_rotation,
            log_keep: parse(&get, "SIGHTLINE_LOG_KEEP", "7")?,
            sentry_dsn,
            sentry_traces_sample_rate,
            environment: get("SIGHTLINE_ENVIRONMENT").unwrap_or_else(|| "production".into()),
            session_ttl_hours,
            logs_retention_days,
            errors_retention_days,
            spans_retention_days,
            metrics_retention_days,
            metrics_rollup_retention_days,
            self_scrape,
            ingest_queue_mb,
            ingest_decode_mb,
            trusted_proxies,
            site_root: PathBuf::from(
                get("LEPTOS_SITE_ROOT").unwrap_or_else(|| "target/site".into()),
            ),
        })
    }

    /// Whether browser cookies must carry `Secure` (the public URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// The Sentry DSN of a project key: `http://<key>@<host:port>[/path]/<project_id>`.
    pub fn dsn(&self, public_key: &str, project_id: i64) -> String {
        let url = &self.public_url;
        let host = url.host_str().unwrap_or("localhost");
        let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
        let path = url.path().trim_end_matches('/');
        format!(
            "{}://{public_key}@{host}{port}{path}/{project_id}",
            url.scheme()
        )
    }
}

fn parse<T>(get: &impl Fn(&str) -> Option<String>, name: &str, default: &str) -> anyhow::Result<T>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = get(name).unwrap_or_else(|| default.to_string());
    raw.trim()
        .parse()
        .map_err(|e| anyhow!("{name}: `{raw}` is not valid: {e}"))
}

/// `10.0.0.0/8, 192.168.1.7, ::1`: networks, a bare address being a network of one.
fn parse_networks(raw: &str) -> anyhow::Result<Vec<ipnet::IpNet>> {
    raw.split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(|item| {
            item.parse::<ipnet::IpNet>()
                .or_else(|_| item.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                .map_err(|_| anyhow!("`{item}` is not an IP address or CIDR range"))
        })
        .collect()
}

fn parse_public_url(raw: &str) -> anyhow::Result<Url> {
    let url = Url::parse(raw).map_err(|e| anyhow!("`{raw}` is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(anyhow!(
            "`{raw}` must be an http:// or https:// URL with a host"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> anyhow::Result<Config> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_work_on_a_laptop() -> anyhow::Result<()> {
        let c = config(&[])?;
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.public_url.as_str(), "http://127.0.0.1:3000/");
        assert!(c.database_url.is_none());
        assert!(!c.secure_cookies());
        Ok(())
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (name, value) in [
            ("SIGHTLINE_LISTEN", "nowhere"),
            ("SIGHTLINE_LOG_FORMAT", "xml"),
            ("SIGHTLINE_PUBLIC_URL", "ftp://x"),
            ("SIGHTLINE_DATABASE_URL", "mysql://x"),
            ("SIGHTLINE_LOG_KEEP", "-1"),
            ("SIGHTLINE_SENTRY_DSN", "not a dsn"),
            ("SIGHTLINE_SESSION_TTL_HOURS", "0"),
            ("SIGHTLINE_LOGS_RETENTION_DAYS", "0"),
            ("SIGHTLINE_SPANS_RETENTION_DAYS", "0"),
            ("SIGHTLINE_INGEST_QUEUE_MB", "lots"),
            ("SIGHTLINE_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local"),
            ("SIGHTLINE_INGEST_DECODE_MB", "64"),
            ("SIGHTLINE_METRICS_ROLLUP_1M_RETENTION_DAYS", "0"),
            // Rollups are kept at least as long as what they summarise.
            ("SIGHTLINE_METRICS_ROLLUP_1M_RETENTION_DAYS", "7"),
            ("SIGHTLINE_METRICS_ROLLUP_1H_RETENTION_DAYS", "30"),
        ] {
            let err = config(&[(name, value)]).err().map(|e| format!("{e:#}"));
            assert!(
                err.as_deref().is_some_and(|e| e.contains(name)),
                "{name}={value}: {err:?}"
            );
        }
    }

    #[test]
    fn trusted_proxies_are_networks_or_addresses() -> anyhow::Result<()> {
        assert!(config(&[])?.trusted_proxies.is_empty());
        let c = config(&[("SIGHTLINE_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.7,::1")])?;
        let shown: Vec<String> = c.trusted_proxies.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["10.0.0.0/8", "192.168.1.7/32", "::1/128"]);
        Ok(())
    }

    #[test]
    fn dsn_uses_the_public_url() -> anyhow::Result<()> {
        let c = config(&[("SIGHTLINE_PUBLIC_URL", "https://sl.example.com")])?;
        assert_eq!(c.dsn("abc", 7), "https://abc@sl.example.com/7");
        assert!(c.secure_cookies());
        let c = config(&[
            ("SIGHTLINE_LISTEN", "0.0.0.0:8080"),
            ("SIGHTLINE_PUBLIC_URL", "http://h:8080/sl/"),
        ])?;
        assert_eq!(c.dsn("abc", 7), "http://abc@h:8080/sl/7");
        Ok(())
    }
}
