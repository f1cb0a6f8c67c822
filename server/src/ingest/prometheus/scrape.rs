//! Scraping: Sightline pulls the `/metrics` of the targets configured per
//! project ([`crate::metrics::targets`]), as a Prometheus server would, and
//! writes what it read through the metrics writer.
//!
//! - Every second the worker claims the targets due (each claim moves the
//!   target's next time forward in the same statement, rows being claimed
//!   elsewhere are skipped: with several instances on one database, each
//!   scrape is done by exactly one of them) and scrapes them concurrently.
//! - A body is Prometheus text 0.0.4 or OpenMetrics ([`super::exposition`]),
//!   gzip or not, within size and time limits. Each series gets `job`,
//!   `instance` (the URL's host:port) and the target's labels; where the
//!   target's own labels clash, they become `exported_<name>`, unless the
//!   target honours its labels (`honor_labels`).
//! - As Prometheus writes them: `up` (1, or 0 when the scrape failed),
//!   `scrape_duration_seconds`, `scrape_samples_scraped`,
//!   `scrape_samples_post_metric_relabeling` and `scrape_series_added`; and a
//!   stale marker for each series that was in the previous scrape and is not
//!   in this one (all of them when the target is down), so that a query stops
//!   finding it at once rather than five minutes later. The series of a
//!   deleted target are forgotten within a minute.

use std::{
    collections::{BTreeMap, HashMap, HashSet},
    io::Read,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use app::api::ScrapeAuth;
use chrono::Utc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::exposition::{self, Format};
use crate::{
    metrics::{
        record::{Metadata, MetricRecord, SeriesSamples, STALE_NAN_BITS},
        targets::{self, DueTarget, ScrapeState},
    },
    AppState,
};

/// How often due targets are looked for.
const TICK: Duration = Duration::from_secs(1);
/// How often the last series of deleted targets are forgotten.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Targets claimed at once, and scraped at once.
const CONCURRENCY: usize = 32;
/// Largest body, as sent and once decompressed.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// What Prometheus asks for, best first.
const ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

/// Labels of a series without `__name__`, sorted.
type Labels = Vec<(String, String)>;

/// The series each target had in its last scrape (name and labels), for
/// stale markers.
#[derive(Default)]
struct Previous(Mutex<HashMap<i64, HashSet<(String, Labels)>>>);

impl Previous {
    /// Remembers `current` as the target's last series; returns how many of
    /// them are new, and the series of the scrape before that are gone.
    fn replace(
        &self,
        target_id: i64,
        current: HashSet<(String, Labels)>,
    ) -> (usize, Vec<(String, Labels)>) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let before = seen.remove(&target_id).unwrap_or_default();
        let added = current.difference(&before).count();
        let gone = before
            .into_iter()
            .filter(|series| !current.contains(series))
            .collect();
        seen.insert(target_id, current);
        (added, gone)
    }

    /// The targets whose series are remembered.
    fn target_ids(&self) -> Vec<i64> {
        let seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        seen.keys().copied().collect()
    }

    /// Forgets every target but those in `kept`.
    fn retain(&self, kept: &HashSet<i64>) {
        let mut seen = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        seen.retain(|target_id, _| kept.contains(target_id));
    }
}

/// The scraper: runs until `cancel`.
pub async fn run(state: AppState, cancel: CancellationToken) {
    let clients = match Clients::new() {
        Ok(clients) => Arc::new(clients),
        Err(error) => {
            tracing::error!(error = %error, "scraping is off: no HTTP client");
            return;
        }
    };
    let previous = Arc::new(Previous::default());
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let mut pruned = Instant::now();
    loop {
        if pruned.elapsed() >= PRUNE_EVERY {
            pruned = Instant::now();
            forget_deleted(&state, &previous).await;
        }
        let free = slots.available_permits();
        if free > 0 {
            match targets::claim_due(&state.pool, free as i64).await {
                Ok(due) => {
                    for target in due {
                        let Ok(slot) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let (state, clients, previous) =
                            (state.clone(), clients.clone(), previous.clone());
                        tokio::spawn(async move {
                            scrape_and_store(&state, &clients, &previous, target).await;
                            drop(slot);
                        });
                    }
                }
                Err(error) => tracing::warn!(error = %error, "claiming scrape targets failed"),
            }
        }
        tokio::select! {
            () = cancel.cancelled() => return,
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Forgets the last series of targets deleted since their last scrape, so
/// that the map does not grow with every target ever scraped.
async fn forget_deleted(state: &AppState, previous: &Previous) {
    let remembered = previous.target_ids();
    if remembered.is_empty() {
        return;
    }
    match targets::existing(&state.pool, &remembered).await {
        Ok(kept) => previous.retain(&kept),
        Err(error) => tracing::warn!(error = %error, "looking up scrape targets failed"),
    }
}

/// One client that checks certificates and one that does not (per target).
struct Clients {
    verifying: reqwest::Client,
    trusting: reqwest::Client,
}

impl Clients {
    fn new() -> reqwest::Result<Self> {
        let build = |verify: bool| {
            reqwest::Client::builder()
                .user_agent(concat!("Sightline/", env!("CARGO_PKG_VERSION")))
                .danger_accept_invalid_certs(!verify)
                .redirect(reqwest::redirect::Policy::limited(3))
                .build()
        };
        Ok(Clients {
            verifying: build(true)?,
            trusting: build(false)?,
        })
    }
}

async fn scrape_and_store(
    state: &AppState,
    clients: &Clients,
    previous: &Previous,
    target: DueTarget,
) {
    let started = Instant::now();
    let at = Utc::now();
    let timeout = Duration::from_secs(u64::try_from(target.timeout_seconds).unwrap_or(10));
    let body = match tokio::time::timeout(timeout, fetch(clients, &target)).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "the scrape took longer than its timeout of {}s",
            target.timeout_seconds
        )),
    };
    let duration = started.elapsed().as_secs_f64();
    let parsed = body.map(|(text, content_type)| {
        exposition::parse(&text, Format::from_content_type(content_type.as_deref()))
    });
    let base = base_labels(&target);
    let now_ms = at.timestamp_millis();
    let mut records = Vec::new();
    let mut current = HashSet::new();
    let (error, scraped) = match parsed {
        Ok(parsed) => {
            let scraped = parsed.samples.len();
            let error = parsed.errors.first().map(|e| {
                format!(
                    "{} lines could not be read; the first: {e}",
                    parsed.errors.len()
                )
            });
            series_of(&target, &base, parsed, now_ms, &mut records, &mut current);
            (error, scraped)
        }
        Err(error) => (Some(error), 0),
    };
    let up = error.is_none() || scraped > 0;
    let (added, gone) = previous.replace(target.target_id, current);
    for (metric, labels) in &gone {
        stale(&mut records, metric, labels, now_ms);
    }
    for (name, value) in [
        ("up", if up { 1.0 } else { 0.0 }),
        ("scrape_duration_seconds", duration),
        ("scrape_samples_scraped", scraped as f64),
        ("scrape_samples_post_metric_relabeling", scraped as f64),
        ("scrape_series_added", added as f64),
    ] {
        push(&mut records, name, base.clone(), vec![(now_ms, value)]);
    }
    if let Err(error) = state.metrics.write(target.project_id, records).await {
        tracing::warn!(target.id = target.target_id, error = %error, "storing a scrape failed");
    }
    let outcome = ScrapeState {
        at,
        up,
        duration_seconds: duration,
        samples: i32::try_from(scraped).unwrap_or(i32::MAX),
        error,
    };
    if let Err(error) = targets::record(&state.pool, target.target_id, &outcome).await {
        tracing::warn!(target.id = target.target_id, error = %error, "recording a scrape failed");
    }
}

/// `job`, `instance` and the target's labels.
fn base_labels(target: &DueTarget) -> BTreeMap<String, String> {
    let instance = url::Url::parse(&target.url)
        .ok()
        .and_then(|u| targets::instance_of(&u))
        .unwrap_or_default();
    let mut labels = BTreeMap::from([
        ("job".to_string(), target.job.clone()),
        ("instance".to_string(), instance),
    ]);
    labels.extend(target.labels.0.clone());
    labels
}

/// The scraped samples as series with the target's labels.
fn series_of(
    target: &DueTarget,
    base: &BTreeMap<String, String>,
    parsed: exposition::Parsed,
    now_ms: i64,
    records: &mut Vec<MetricRecord>,
    current: &mut HashSet<(String, Labels)>,
) {
    let mut grouped: BTreeMap<(String, Labels), Vec<(i64, f64)>> = BTreeMap::new();
    for sample in parsed.samples {
        let mut labels: BTreeMap<String, String> = sample.labels.into_iter().collect();
        for (name, value) in base {
            match labels.remove(name) {
                Some(own) if target.honor_labels => {
                    labels.insert(name.clone(), own);
                }
                Some(own) => {
                    labels.insert(format!("exported_{name}"), own);
                    labels.insert(name.clone(), value.clone());
                }
                None => {
                    labels.insert(name.clone(), value.clone());
                }
            }
        }
        let ts = sample.timestamp_ms.unwrap_or(now_ms);
        grouped
            .entry((sample.name, labels.into_iter().collect()))
            .or_default()
            .push((ts, sample.value));
    }
    for ((metric, labels), samples) in grouped {
        current.insert((metric.clone(), labels.clone()));
        push(records, &metric, labels, samples);
    }
    for family in parsed.families {
        records.push(MetricRecord::Metadata(Metadata {
            metric: family.name,
            kind: family.kind.name().into(),
            help: family.help,
            unit: family.unit,
        }));
    }
}

fn push(
    records: &mut Vec<MetricRecord>,
    metric: &str,
    labels: impl IntoIterator<Item = (String, String)>,
    samples: Vec<(i64, f64)>,
) {
    let labels = labels.into_iter().chain(std::iter::once((
        "__name__".to_string(),
        metric.to_string(),
    )));
    if let Ok(series) = SeriesSamples::new(labels, samples) {
        records.push(MetricRecord::Series(series));
    }
}

fn stale(records: &mut Vec<MetricRecord>, metric: &str, labels: &Labels, now_ms: i64) {
    push(
        records,
        metric,
        labels.iter().cloned(),
        vec![(now_ms, f64::from_bits(STALE_NAN_BITS))],
    );
}

/// The target's body as text and its content type.
async fn fetch(clients: &Clients, target: &DueTarget) -> Result<(String, Option<String>), String> {
    let client = if target.tls_verify {
        &clients.verifying
    } else {
        &clients.trusting
    };
    let mut request = client
        .get(&target.url)
        .header(reqwest::header::ACCEPT, ACCEPT)
        .header(reqwest::header::ACCEPT_ENCODING, "gzip")
        .header(
            "X-Prometheus-Scrape-Timeout-Seconds",
            target.timeout_seconds.to_string(),
        );
    request = match target.auth.as_ref().map(|a| &a.0) {
        Some(ScrapeAuth::Basic { username, password }) => {
            request.basic_auth(username, Some(password))
        }
        Some(ScrapeAuth::Bearer { token }) => request.bearer_auth(token),
        None => request,
    };
    let mut response = request.send().await.map_err(describe)?;
    if !response.status().is_success() {
        return Err(format!("server returned HTTP status {}", response.status()));
    }
    let header = |name: reqwest::header::HeaderName| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header(reqwest::header::CONTENT_TYPE);
    let gzip =
        header(reqwest::header::CONTENT_ENCODING).is_some_and(|e| e.eq_ignore_ascii_case("gzip"));
    let mut raw = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(describe)? {
        if raw.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(format!("body larger than {} MiB", MAX_BODY_BYTES >> 20));
        }
        raw.extend_from_slice(&chunk);
    }
    let bytes = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .take(MAX_BODY_BYTES as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| format!("the gzip body does not decompress: {e}"))?;
        if out.len() > MAX_BODY_BYTES {
            return Err(format!(
                "body larger than {} MiB once decompressed",
                MAX_BODY_BYTES >> 20
            ));
        }
        out
    } else {
        raw
    };
    let text = String::from_utf8(bytes).map_err(|_| "the body is not UTF-8 text".to_string())?;
    Ok((text, content_type))
}

/// An HTTP error in a sentence, with its cause (connection refused, ...),
/// but without the URL: it may hold a secret (a token in the query), and the
/// sentence is shown to every viewer of the project as the target's last error.
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(name: &str) -> (String, Labels) {
        (name.to_string(), vec![("job".into(), "node".into())])
    }

    #[test]
    fn each_scrape_is_compared_with_the_one_before() {
        let previous = Previous::default();
        let (added, gone) = previous.replace(1, HashSet::from([series("a"), series("b")]));
        assert_eq!((added, gone), (2, vec![]));
        let (added, gone) = previous.replace(1, HashSet::from([series("b"), series("c")]));
        assert_eq!((added, gone), (1, vec![series("a")]));
    }

    #[test]
    fn deleted_targets_are_forgotten() {
        let previous = Previous::default();
        for target_id in [1, 2, 3] {
            previous.replace(target_id, HashSet::from([series("up")]));
        }
        previous.retain(&HashSet::from([2, 4]));
        assert_eq!(previous.target_ids(), vec![2]);
        // A target scraped again after being forgotten starts afresh.
        let (added, gone) = previous.replace(1, HashSet::from([series("up")]));
        assert_eq!((added, gone), (1, vec![]));
    }
}
