//! Wire types of the metrics configuration endpoints: scrape targets, which
//! Sightline pulls Prometheus metrics from.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How Sightline authenticates to a target: basic auth or a bearer token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ScrapeAuth {
    Basic { username: String, password: String },
    Bearer { token: String },
}

/// `POST /api/v1/projects/{project}/metrics/targets`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewScrapeTarget {
    /// The `job` label of the target's series.
    pub job: String,
    /// `http://` or `https://` URL of the metrics, e.g. `http://node:9100/metrics`,
    /// without a user name or password (those go in `auth`).
    pub url: String,
    /// Seconds between scrapes, 1 to 3600.
    pub interval_seconds: i32,
    /// Seconds a scrape may take, at most the interval; default 10 (or the interval).
    #[serde(default)]
    pub timeout_seconds: Option<i32>,
    /// Labels added to every series of the target.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub auth: Option<ScrapeAuth>,
    /// Check the target's TLS certificate (default true).
    #[serde(default)]
    pub tls_verify: Option<bool>,
    /// Keep the target's own `job`/`instance` (and other) labels where they
    /// clash with Sightline's, as Prometheus's `honor_labels` (default false:
    /// the target's become `exported_<name>`).
    #[serde(default)]
    pub honor_labels: Option<bool>,
}

/// The answer to creating a target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreatedScrapeTarget {
    pub target_id: i64,
}

/// A scrape target and its state (credentials are never returned).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScrapeTarget {
    pub target_id: i64,
    pub job: String,
    pub url: String,
    /// The `instance` label: the URL's host and port.
    pub instance: String,
    pub interval_seconds: i32,
    pub timeout_seconds: i32,
    pub labels: BTreeMap<String, String>,
    /// `basic`, `bearer` or none.
    pub auth: Option<String>,
    pub tls_verify: bool,
    pub honor_labels: bool,
    /// `up`, `down`, or `unknown` before the first scrape.
    pub health: String,
    pub last_scrape: Option<DateTime<Utc>>,
    pub last_duration_seconds: Option<f64>,
    pub last_samples: Option<i32>,
    pub last_error: Option<String>,
}

/// A metric of a project, with its metadata when a client sent it
/// (`GET /api/v1/projects/{project}/metrics/names`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricName {
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `summary`, ... when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
}

/// A label of a metric's series and its values
/// (`GET /api/v1/projects/{project}/metrics/labels?metric=`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MetricLabel {
    pub name: String,
    /// Its values, sorted; at most 200.
    pub values: Vec<String>,
    /// More values exist than are listed.
    #[serde(default)]
    pub truncated: bool,
}

/// One series of an instant query
/// (`GET /api/v1/projects/{project}/metrics/instant?query=`): its labels
/// (`__name__` among them when it has a name) and its value now.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct InstantValue {
    pub labels: BTreeMap<String, String>,
    /// `NaN`, `+Inf` and `-Inf` as Prometheus writes them; else a number.
    pub value: String,
}
