//! `POST /api/v1/ingest/metrics`: metrics in Sightline's own JSON
//! (`[{"name", "labels": {}, "value", "ts"?}]`) or in Prometheus's text
//! exposition (0.0.4 or OpenMetrics, by `Content-Type`), so that a cron job
//! pushes a file as it would to a Pushgateway. `ts` is RFC 3339 or an epoch
//! number whose magnitude says its unit; without it (and for exposition lines
//! without a timestamp) the sample takes the arrival time. Good samples are
//! stored even when others in the same body are refused; the answer counts
//! both.

use std::collections::BTreeMap;

use app::api::IngestSummary;
use axum::{
    body::Body,
    extract::State,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    auth::IngestKey,
    body::{self, BodyLimits},
    native::{nothing_accepted, refuse},
    prometheus::exposition::{self, Format},
};
use crate::{
    http::error::{ApiError, Json},
    metrics::record::{Metadata, MetricRecord, SeriesSamples},
    pipeline::clock::{parse_timestamp, retention, ReceiveWindow},
    AppState,
};

/// Body limits of the endpoint.
pub const LIMITS: BodyLimits = BodyLimits {
    wire: 16 * 1024 * 1024,
    decoded: 64 * 1024 * 1024,
};
/// Most samples one request may carry.
pub const MAX_SAMPLES: usize = 200_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(ingest_metrics))
}

/// The OpenAPI schema of a body: an array whose items are samples
/// ([`NativeSample`]); an item that is not one is refused on its own and
/// reported in `errors` while the others are stored, so the items are any
/// JSON value here. (A text exposition body is described in words.)
pub struct NativeMetricsBody;

impl utoipa::PartialSchema for NativeMetricsBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, SchemaType};
        let item = ObjectBuilder::new()
            .schema_type(SchemaType::AnyValue)
            .description(Some(
                "a sample: {\"name\": metric name, \"labels\": {name: value}, \"value\": number or \"NaN\"/\"+Inf\"/\"-Inf\", \"ts\"?: RFC 3339 or epoch}; \
                 an item that is not one is refused and reported in `errors`, and the others are stored",
            ));
        ArrayBuilder::new()
            .items(item)
            .max_items(Some(MAX_SAMPLES))
            .into()
    }
}

impl utoipa::ToSchema for NativeMetricsBody {}

/// One sample of Sightline's JSON form.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct NativeSample {
    /// The metric name, e.g. `orders_total`.
    name: String,
    /// Label names and values.
    #[serde(default)]
    labels: BTreeMap<String, String>,
    /// The value; `"NaN"`, `"+Inf"` and `"-Inf"` as strings.
    value: Value,
    /// RFC 3339 or epoch seconds/ms/µs/ns; default the arrival time.
    #[serde(default)]
    ts: Option<Value>,
}

/// Stores samples in the key's project; answers after they are committed.
#[utoipa::path(post, path = "/ingest/metrics", tag = "ingest",
    request_body(content = NativeMetricsBody, description = "a JSON array of samples, or Prometheus text exposition (`text/plain; version=0.0.4` or `application/openmetrics-text`)", content_type = "application/json"),
    responses(
        (status = 200, body = IngestSummary, description = "stored (some samples may have been refused)"),
        (status = 400, description = "nothing could be read, or every sample was refused"),
        (status = 401, description = "missing or unknown ingest key"),
        (status = 413, description = "body, decompressed body or sample count too large"),
        (status = 429, description = "ingest queue full; see Retry-After"),
    ),
    security(("ingest_key" = [])))]
async fn ingest_metrics(
    State(state): State<AppState>,
    key: IngestKey,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let bytes = body::read(&state.decode, &headers, body, LIMITS).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let now = Utc::now();
    let window = ReceiveWindow::new(now, retention(state.config.metrics_retention_days));
    let (records, summary) = body::parse(bytes.len(), move || {
        decode(&bytes, content_type.as_deref(), now, &window)
    })
    .await??;
    if records.is_empty() && summary.rejected > 0 {
        return Ok(nothing_accepted("sample", summary));
    }
    key.deliver(&state, &state.metrics, records).await?;
    Ok(Json(summary).into_response())
}

/// One sample before it joins its series: labels with `__name__`, time, value.
type Point = (Vec<(String, String)>, i64, f64);

/// The body's samples grouped into series, and the tally.
fn decode(
    bytes: &[u8],
    content_type: Option<&str>,
    now: DateTime<Utc>,
    window: &ReceiveWindow,
) -> Result<(Vec<MetricRecord>, IngestSummary), ApiError> {
    if bytes.trim_ascii().is_empty() {
        return Err(ApiError::BadRequest(
            "the body is empty: send a JSON array of samples or a text exposition".into(),
        ));
    }
    let json = content_type.is_none_or(|t| t.contains("json"))
        && bytes.trim_ascii_start().first() == Some(&b'[');
    let mut summary = IngestSummary {
        accepted: 0,
        rejected: 0,
        errors: Vec::new(),
    };
    let mut points: Vec<(usize, Point)> = Vec::new();
    let mut metadata = Vec::new();
    if json {
        let items: Vec<Value> = serde_json::from_slice(bytes).map_err(|e| {
            ApiError::BadRequest(format!("body is not a JSON array of samples: {e}"))
        })?;
        too_many(items.len())?;
        for (index, item) in items.into_iter().enumerate() {
            match native_point(item, now) {
                Ok(point) => points.push((index, point)),
                Err(reason) => refuse(&mut summary, index, reason),
            }
        }
    } else {
        let text = std::str::from_utf8(bytes)
            .map_err(|_| ApiError::BadRequest("body is not UTF-8 text".into()))?;
        let parsed = exposition::parse(text, Format::from_content_type(content_type));
        too_many(parsed.samples.len())?;
        for error in parsed.errors {
            refuse(&mut summary, 0, error);
        }
        for (index, sample) in parsed.samples.into_iter().enumerate() {
            let mut labels = sample.labels;
            labels.push(("__name__".into(), sample.name));
            let ts = sample.timestamp_ms.unwrap_or(now.timestamp_millis());
            points.push((index, (labels, ts, sample.value)));
        }
        for family in parsed.families {
            metadata.push(MetricRecord::Metadata(Metadata {
                metric: family.name,
                kind: family.kind.name().into(),
                help: family.help,
                unit: family.unit,
            }));
        }
    }

    // Points of one series become one record.
    // Labels → the index of the series' first sample, and its points.
    type Points = (usize, Vec<(i64, f64)>);
    let mut series: BTreeMap<Vec<(String, String)>, Points> = BTreeMap::new();
    for (index, (mut labels, ts, value)) in points {
        let in_window =
            DateTime::from_timestamp_millis(ts).is_some_and(|t| window.drift(t).is_none());
        if !in_window {
            refuse(
                &mut summary,
                index,
                "the time is outside the retention window (too old, or more than an hour ahead)"
                    .into(),
            );
            continue;
        }
        labels.sort();
        let entry = series.entry(labels).or_insert((index, Vec::new()));
        entry.1.push((ts, value));
    }
    let mut records = Vec::with_capacity(series.len() + metadata.len());
    for (labels, (index, samples)) in series {
        let count = samples.len();
        match SeriesSamples::new(labels, samples) {
            Ok(series) => {
                summary.accepted += count;
                records.push(MetricRecord::Series(series));
            }
            Err(error) => {
                for _ in 0..count {
                    refuse(&mut summary, index, error.to_string());
                }
            }
        }
    }
    records.extend(metadata);
    Ok((records, summary))
}

fn too_many(count: usize) -> Result<(), ApiError> {
    if count > MAX_SAMPLES {
        return Err(ApiError::Rejected(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("more than {MAX_SAMPLES} samples in one request; split it"),
        ));
    }
    Ok(())
}

/// A sample of the JSON form, or why it is refused.
fn native_point(item: Value, now: DateTime<Utc>) -> Result<Point, String> {
    let sample: NativeSample =
        serde_json::from_value(item).map_err(|e| format!("not a sample: {e}"))?;
    let value = match &sample.value {
        Value::Number(n) => n.as_f64().ok_or("`value` is not a number")?,
        Value::String(s) => match s.as_str() {
            "NaN" => f64::NAN,
            "+Inf" | "Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            other => other
                .parse::<f64>()
                .map_err(|_| format!("`value`: `{other}` is not a number"))?,
        },
        _ => return Err("`value` is not a number".into()),
    };
    let ts = match &sample.ts {
        None | Some(Value::Null) => now,
        Some(ts) => parse_timestamp(ts).ok_or("`ts` is not RFC 3339 or an epoch number")?,
    };
    let mut labels: Vec<(String, String)> = sample.labels.into_iter().collect();
    if labels.iter().any(|(n, _)| n == "__name__") {
        return Err("the name goes in `name`, not in the label `__name__`".into());
    }
    labels.push(("__name__".into(), sample.name));
    Ok((labels, ts.timestamp_millis(), value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeDelta;

    fn window(now: DateTime<Utc>) -> ReceiveWindow {
        ReceiveWindow::new(now, TimeDelta::days(15))
    }

    #[test]
    fn json_samples_group_into_series_and_bad_ones_are_counted() {
        let now = Utc::now();
        let body = serde_json::json!([
            {"name": "orders_total", "labels": {"plan": "pro"}, "value": 3},
            {"name": "orders_total", "labels": {"plan": "pro"}, "value": 4, "ts": now.timestamp_millis() - 1000},
            {"name": "temp", "value": "NaN"},
            {"name": "1bad", "value": 1},
            {"name": "x", "value": "many"},
            {"name": "old", "value": 1, "ts": "2001-01-01T00:00:00Z"},
        ]);
        let (records, summary) =
            decode(body.to_string().as_bytes(), None, now, &window(now)).unwrap();
        assert_eq!((summary.accepted, summary.rejected), (3, 3));
        let reasons: Vec<&str> = summary.errors.iter().map(|e| e.reason.as_str()).collect();
        assert!(reasons[0].contains("`many` is not a number"), "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("retention window")));
        assert!(reasons
            .iter()
            .any(|r| r.contains("`1bad` is not a valid metric name")));
        let MetricRecord::Series(orders) = &records[0] else {
            panic!("a series first")
        };
        assert_eq!(orders.metric, "orders_total");
        assert_eq!(orders.samples.len(), 2);
    }

    #[test]
    fn an_empty_body_is_refused() {
        let now = Utc::now();
        assert!(decode(b" \n", None, now, &window(now)).is_err());
        let (records, _) = decode(b"[]", None, now, &window(now)).unwrap();
        assert!(records.is_empty(), "an empty array is a batch of nothing");
    }

    #[test]
    fn text_exposition_is_read_with_its_metadata() {
        let now = Utc::now();
        let text = "# HELP jobs_done Jobs done.\n# TYPE jobs_done counter\njobs_done{queue=\"a\"} 7\njobs_done{queue=\"b\"} 2\nbroken line here\n";
        let (records, summary) = decode(
            text.as_bytes(),
            Some("text/plain; version=0.0.4"),
            now,
            &window(now),
        )
        .unwrap();
        assert_eq!((summary.accepted, summary.rejected), (2, 1));
        assert!(records.iter().any(|r| matches!(r, MetricRecord::Metadata(m) if m.kind == "counter" && m.help == "Jobs done.")));
    }
}
