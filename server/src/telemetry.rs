//! Sightline watching itself: `tracing` logs (JSON or pretty, optionally to a
//! rotated file), Prometheus metrics at `/metrics`, Sentry reports of its own
//! panics and errors, and the per-minute request count the Overview page charts.

use std::{
    collections::VecDeque,
    sync::{Mutex, OnceLock},
};

use anyhow::Context;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::{
    filter::LevelFilter, fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter, Layer,
};

use crate::config::{Config, LogFormat, LogRotation};

/// Keeps the log file writer and the Sentry client alive until exit (dropping them
/// flushes what is buffered).
pub struct TelemetryGuard {
    _log_file: Option<tracing_appender::non_blocking::WorkerGuard>,
    _sentry: Option<sentry::ClientInitGuard>,
}

/// Installs logging and, when configured, Sentry. Call once, at start-up. The
/// server logs to stdout; one-off commands log warnings to stderr so that their
/// `--json` output on stdout stays clean.
pub fn init(config: &Config, serving: bool) -> anyhow::Result<TelemetryGuard> {
    let sentry = config.sentry_dsn.as_ref().map(|dsn| {
        let mut options = sentry::ClientOptions::default();
        options.release = sentry::release_name!();
        options.environment = Some(config.environment.clone().into());
        options.send_default_pii = false;
        let rate = config.sentry_traces_sample_rate;
        let options = options.traces_sampler(move |context: &sentry::TransactionContext| {
            if is_ingestion(context.name()) {
                0.0
            } else {
                rate
            }
        });
        sentry::init((dsn.as_str(), options))
    });

    let default_filter = if serving { "info,sqlx=warn" } else { "warn" };
    let filter = match std::env::var("SIGHTLINE_LOG") {
        Ok(directives) => {
            EnvFilter::try_new(directives).context("SIGHTLINE_LOG: not a valid log filter")?
        }
        Err(_) => EnvFilter::new(default_filter),
    };
    let stdout = match (config.log_format, serving) {
        (LogFormat::Json, true) => fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .boxed(),
        (LogFormat::Pretty, true) => fmt::layer().compact().boxed(),
        (_, false) => fmt::layer().compact().with_writer(std::io::stderr).boxed(),
    };
    let (file, file_guard) = match &config.log_file {
        Some(path) => {
            let rotation = match config.log_rotation {
                LogRotation::Hourly => tracing_appender::rolling::Rotation::HOURLY,
                LogRotation::Daily => tracing_appender::rolling::Rotation::DAILY,
                LogRotation::Never => tracing_appender::rolling::Rotation::NEVER,
            };
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
            let prefix = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("sightline.log");
            let appender = tracing_appender::rolling::Builder::new()
                .rotation(rotation)
                .filename_prefix(prefix)
                .max_log_files(config.log_keep.max(1))
                .build(dir.unwrap_or(std::path::Path::new(".")))
                .context("SIGHTLINE_LOG_FILE: cannot open the log file")?;
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let layer = fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(false)
                .flatten_event(true)
                .with_writer(writer)
                .boxed();
            (Some(layer), Some(guard))
        }
        None => (None, None),
    };
    // Error-level events become Sentry events; info and warnings ride along with
    // them as breadcrumbs.
    let sentry_errors = sentry
        .as_ref()
        .map(|_| sentry::integrations::tracing::ErrorLayer::new().with_filter(LevelFilter::ERROR));
    let sentry_breadcrumbs = sentry.as_ref().map(|_| {
        sentry::integrations::tracing::BreadcrumbLayer::new().with_filter(LevelFilter::INFO)
    });

    tracing_subscriber::registry()
        .with(filter)
        .with(stdout)
        .with(file)
        .with(sentry_errors)
        .with(sentry_breadcrumbs)
        .try_init()
        .context("installing the log subscriber")?;
    Ok(TelemetryGuard {
        _log_file: file_guard,
        _sentry: sentry,
    })
}

/// The process-wide Prometheus recorder behind `/metrics`, installed on first use.
pub fn prometheus() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &[
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                ],
            )
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        // Fails only if another recorder was installed first (never, in this binary).
        let _ = metrics::set_global_recorder(recorder);
        handle
    })
}

/// How many minutes of request counts [`RequestRate`] keeps.
pub const RATE_WINDOW_MINUTES: usize = 60;

/// Requests served per minute over the last hour: a fixed-size ring, so memory
/// never grows with traffic.
#[derive(Debug, Default)]
pub struct RequestRate {
    minutes: Mutex<VecDeque<(i64, u64)>>,
}

impl RequestRate {
    /// Counts one request served at `now_ms` (unix milliseconds).
    pub fn record(&self, now_ms: i64) {
        let minute = now_ms.div_euclid(60_000) * 60_000;
        let Ok(mut minutes) = self.minutes.lock() else {
            return;
        };
        match minutes.back_mut() {
            Some((m, count)) if *m == minute => *count += 1,
            _ => {
                minutes.push_back((minute, 1));
                while minutes.len() > RATE_WINDOW_MINUTES {
                    minutes.pop_front();
                }
            }
        }
    }

    /// One point a minute for the last hour up to `now_ms`, zero where nothing
    /// was served.
    pub fn points(&self, now_ms: i64) -> Vec<(i64, f64)> {
        let current = now_ms.div_euclid(60_000) * 60_000;
        let minutes = match self.minutes.lock() {
            Ok(m) => m.clone(),
            Err(_) => VecDeque::new(),
        };
        (0..RATE_WINDOW_MINUTES as i64)
            .rev()
            .map(|ago| {
                let minute = current - ago * 60_000;
                let count = minutes
                    .iter()
                    .find(|(m, _)| *m == minute)
                    .map_or(0, |(_, c)| *c);
                (minute, count as f64)
            })
            .collect()
    }
}

/// Whether a request path is one of the ingestion endpoints, whose requests are
/// not traced: they are the bulk of the traffic, and a Sightline reporting to
/// itself would otherwise trace the reports of its own traces.
pub fn is_ingestion(path: &str) -> bool {
    let path = path.split_once(' ').map_or(path, |(_, p)| p);
    path.ends_with("/envelope/")
        || path.ends_with("/envelope")
        || path.ends_with("/store/")
        || path.ends_with("/store")
        || path.starts_with("/api/v1/ingest/")
        || path.starts_with("/loki/")
        || path.starts_with("/v1/")
        || path.contains("_bulk")
        || path.starts_with("/prometheus/")
        || path.starts_with("/capture")
        || path.starts_with("/batch")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_rate_counts_per_minute_and_forgets_old_minutes() {
        let rate = RequestRate::default();
        let t0 = 1_700_000_000_000_i64 / 60_000 * 60_000;
        rate.record(t0);
        rate.record(t0 + 10);
        rate.record(t0 + 60_000);
        let points = rate.points(t0 + 60_000);
        assert_eq!(points.len(), RATE_WINDOW_MINUTES);
        assert_eq!(points[RATE_WINDOW_MINUTES - 1], (t0 + 60_000, 1.0));
        assert_eq!(points[RATE_WINDOW_MINUTES - 2], (t0, 2.0));
        for minute in 0..200 {
            rate.record(t0 + minute * 60_000);
        }
        assert!(rate.minutes.lock().map(|m| m.len()).unwrap_or(0) <= RATE_WINDOW_MINUTES);
    }
}
