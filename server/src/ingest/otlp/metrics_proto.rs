//! The OTLP metrics messages Sightline reads, as prost structs written from
//! `opentelemetry/proto/{collector/metrics,metrics}/v1/*.proto` (field numbers
//! as published; exemplars and `Metric.metadata` are not read, and protobuf
//! skips them as unknown fields), and the OTLP/JSON form of the same request
//! ([`from_json`]) decoded into the same structs, so that both encodings go
//! through one translation.
//!
//! OTLP/JSON is the proto3 JSON mapping: lowerCamelCase names (snake_case is
//! accepted too), 64-bit integers as strings or numbers, enums as numbers or
//! names, doubles as numbers or `"NaN"`/`"Infinity"`/`"-Infinity"`, bytes as
//! base64.

use serde_json::{Map, Value};

use super::proto::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, Resource,
};
// The OTLP/JSON readers the logs and traces decoders use too.
use super::json::{field, integer, list, object_of, text, unsigned};

/// `ExportMetricsServiceRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExportMetricsServiceRequest {
    #[prost(message, repeated, tag = "1")]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// `ExportMetricsServiceResponse`.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportMetricsServiceResponse {
    #[prost(message, optional, tag = "1")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_success: Option<ExportMetricsPartialSuccess>,
}

/// `ExportMetricsPartialSuccess`.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportMetricsPartialSuccess {
    #[prost(int64, tag = "1")]
    #[serde(serialize_with = "super::proto::int64_json")]
    pub rejected_data_points: i64,
    #[prost(string, tag = "2")]
    pub error_message: String,
}

/// `ResourceMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ResourceMetrics {
    #[prost(message, optional, tag = "1")]
    pub resource: Option<Resource>,
    #[prost(message, repeated, tag = "2")]
    pub scope_metrics: Vec<ScopeMetrics>,
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `ScopeMetrics`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ScopeMetrics {
    #[prost(message, optional, tag = "1")]
    pub scope: Option<InstrumentationScope>,
    #[prost(message, repeated, tag = "2")]
    pub metrics: Vec<Metric>,
    #[prost(string, tag = "3")]
    pub schema_url: String,
}

/// `Metric`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Metric {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub description: String,
    /// UCUM, e.g. `ms`, `By`, `1`, `{request}`.
    #[prost(string, tag = "3")]
    pub unit: String,
    #[prost(oneof = "metric::Data", tags = "5, 7, 9, 10, 11")]
    pub data: Option<metric::Data>,
}

/// The variants of `Metric.data`.
pub mod metric {
    /// `Metric.data`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        #[prost(message, tag = "5")]
        Gauge(super::Gauge),
        #[prost(message, tag = "7")]
        Sum(super::Sum),
        #[prost(message, tag = "9")]
        Histogram(super::Histogram),
        #[prost(message, tag = "10")]
        ExponentialHistogram(super::ExponentialHistogram),
        #[prost(message, tag = "11")]
        Summary(super::Summary),
    }
}

/// `Gauge`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Gauge {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
}

/// `Sum`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Sum {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<NumberDataPoint>,
    /// An [`AggregationTemporality`] number.
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
    #[prost(bool, tag = "3")]
    pub is_monotonic: bool,
}

/// `Histogram`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Histogram {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<HistogramDataPoint>,
    /// An [`AggregationTemporality`] number.
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
}

/// `ExponentialHistogram`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExponentialHistogram {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<ExponentialHistogramDataPoint>,
    /// An [`AggregationTemporality`] number.
    #[prost(enumeration = "AggregationTemporality", tag = "2")]
    pub aggregation_temporality: i32,
}

/// `Summary`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Summary {
    #[prost(message, repeated, tag = "1")]
    pub data_points: Vec<SummaryDataPoint>,
}

/// `AggregationTemporality`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AggregationTemporality {
    Unspecified = 0,
    Delta = 1,
    Cumulative = 2,
}

/// `DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK`: the point marks
/// the series as ended (Prometheus's stale marker), it carries no value.
pub const FLAG_NO_RECORDED_VALUE: u32 = 1;

/// `NumberDataPoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NumberDataPoint {
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    /// Bits of `DataPointFlags` ([`FLAG_NO_RECORDED_VALUE`]).
    #[prost(uint32, tag = "8")]
    pub flags: u32,
    #[prost(oneof = "number_data_point::Value", tags = "4, 6")]
    pub value: Option<number_data_point::Value>,
}

/// The variants of `NumberDataPoint.value`.
pub mod number_data_point {
    /// `NumberDataPoint.value`.
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(double, tag = "4")]
        AsDouble(f64),
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
}

/// `HistogramDataPoint`: `bucket_counts[i]` counts the values in
/// `(explicit_bounds[i-1], explicit_bounds[i]]`, the last one up to +Inf.
#[derive(Clone, PartialEq, prost::Message)]
pub struct HistogramDataPoint {
    #[prost(message, repeated, tag = "9")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    #[prost(fixed64, repeated, tag = "6")]
    pub bucket_counts: Vec<u64>,
    #[prost(double, repeated, tag = "7")]
    pub explicit_bounds: Vec<f64>,
    #[prost(uint32, tag = "10")]
    pub flags: u32,
    #[prost(double, optional, tag = "11")]
    pub min: Option<f64>,
    #[prost(double, optional, tag = "12")]
    pub max: Option<f64>,
}

/// `ExponentialHistogramDataPoint`: bucket `index` of the positive range
/// counts the values in `(base^index, base^(index+1)]`, `base = 2^(2^-scale)`;
/// the negative range holds the absolute values of negative ones.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ExponentialHistogramDataPoint {
    #[prost(message, repeated, tag = "1")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    #[prost(double, optional, tag = "5")]
    pub sum: Option<f64>,
    #[prost(sint32, tag = "6")]
    pub scale: i32,
    #[prost(fixed64, tag = "7")]
    pub zero_count: u64,
    #[prost(message, optional, tag = "8")]
    pub positive: Option<exponential_histogram_data_point::Buckets>,
    #[prost(message, optional, tag = "9")]
    pub negative: Option<exponential_histogram_data_point::Buckets>,
    #[prost(uint32, tag = "10")]
    pub flags: u32,
    #[prost(double, optional, tag = "12")]
    pub min: Option<f64>,
    #[prost(double, optional, tag = "13")]
    pub max: Option<f64>,
    #[prost(double, tag = "14")]
    pub zero_threshold: f64,
}

/// The nested messages of `ExponentialHistogramDataPoint`.
pub mod exponential_histogram_data_point {
    /// `ExponentialHistogramDataPoint.Buckets`: `bucket_counts[i]` is the
    /// count of bucket `offset + i`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Buckets {
        #[prost(sint32, tag = "1")]
        pub offset: i32,
        #[prost(uint64, repeated, tag = "2")]
        pub bucket_counts: Vec<u64>,
    }
}

/// `SummaryDataPoint`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct SummaryDataPoint {
    #[prost(message, repeated, tag = "7")]
    pub attributes: Vec<KeyValue>,
    #[prost(fixed64, tag = "2")]
    pub start_time_unix_nano: u64,
    #[prost(fixed64, tag = "3")]
    pub time_unix_nano: u64,
    #[prost(fixed64, tag = "4")]
    pub count: u64,
    #[prost(double, tag = "5")]
    pub sum: f64,
    #[prost(message, repeated, tag = "6")]
    pub quantile_values: Vec<summary_data_point::ValueAtQuantile>,
    #[prost(uint32, tag = "8")]
    pub flags: u32,
}

/// The nested messages of `SummaryDataPoint`.
pub mod summary_data_point {
    /// `SummaryDataPoint.ValueAtQuantile`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueAtQuantile {
        #[prost(double, tag = "1")]
        pub quantile: f64,
        #[prost(double, tag = "2")]
        pub value: f64,
    }
}

/// Decodes an OTLP/JSON metrics request; the error says what is malformed.
pub fn from_json(body: &[u8]) -> Result<ExportMetricsServiceRequest, String> {
    let value: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let object = value.as_object().ok_or("expected a JSON object")?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: each(
            object,
            "resourceMetrics",
            "resource_metrics",
            resource_metrics,
        )?,
    })
}

fn resource_metrics(object: &Map<String, Value>) -> Result<ResourceMetrics, String> {
    let resource = match field(object, "resource", "resource") {
        Some(r) => Some(Resource {
            attributes: key_values(object_of(r, "resource")?)?,
        }),
        None => None,
    };
    Ok(ResourceMetrics {
        resource,
        scope_metrics: each(object, "scopeMetrics", "scope_metrics", scope_metrics)?,
        schema_url: text(object, "schemaUrl", "schema_url"),
    })
}

fn scope_metrics(object: &Map<String, Value>) -> Result<ScopeMetrics, String> {
    let scope = match field(object, "scope", "scope") {
        Some(s) => {
            let s = object_of(s, "scope")?;
            Some(InstrumentationScope {
                name: text(s, "name", "name"),
                version: text(s, "version", "version"),
                attributes: key_values(s)?,
            })
        }
        None => None,
    };
    Ok(ScopeMetrics {
        scope,
        metrics: each(object, "metrics", "metrics", metric)?,
        schema_url: text(object, "schemaUrl", "schema_url"),
    })
}

fn metric(object: &Map<String, Value>) -> Result<Metric, String> {
    let temporality = |o: &Map<String, Value>| {
        enumeration(
            field(o, "aggregationTemporality", "aggregation_temporality"),
            "aggregationTemporality",
        )
    };
    let data = if let Some(v) = field(object, "gauge", "gauge") {
        let o = object_of(v, "gauge")?;
        Some(metric::Data::Gauge(Gauge {
            data_points: each(o, "dataPoints", "data_points", number_point)?,
        }))
    } else if let Some(v) = field(object, "sum", "sum") {
        let o = object_of(v, "sum")?;
        Some(metric::Data::Sum(Sum {
            data_points: each(o, "dataPoints", "data_points", number_point)?,
            aggregation_temporality: temporality(o)?,
            is_monotonic: boolean(field(o, "isMonotonic", "is_monotonic"), "isMonotonic")?,
        }))
    } else if let Some(v) = field(object, "histogram", "histogram") {
        let o = object_of(v, "histogram")?;
        Some(metric::Data::Histogram(Histogram {
            data_points: each(o, "dataPoints", "data_points", histogram_point)?,
            aggregation_temporality: temporality(o)?,
        }))
    } else if let Some(v) = field(object, "exponentialHistogram", "exponential_histogram") {
        let o = object_of(v, "exponentialHistogram")?;
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: each(o, "dataPoints", "data_points", exponential_point)?,
            aggregation_temporality: temporality(o)?,
        }))
    } else if let Some(v) = field(object, "summary", "summary") {
        let o = object_of(v, "summary")?;
        Some(metric::Data::Summary(Summary {
            data_points: each(o, "dataPoints", "data_points", summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: text(object, "name", "name"),
        description: text(object, "description", "description"),
        unit: text(object, "unit", "unit"),
        data,
    })
}

fn number_point(o: &Map<String, Value>) -> Result<NumberDataPoint, String> {
    let value = if let Some(v) = field(o, "asDouble", "as_double") {
        Some(number_data_point::Value::AsDouble(double(
            Some(v),
            "asDouble",
        )?))
    } else if let Some(v) = field(o, "asInt", "as_int") {
        Some(number_data_point::Value::AsInt(
            integer(v).ok_or("asInt: expected an integer")?,
        ))
    } else {
        None
    };
    let (start, time) = times(o)?;
    Ok(NumberDataPoint {
        attributes: key_values(o)?,
        start_time_unix_nano: start,
        time_unix_nano: time,
        flags: flags(o)?,
        value,
    })
}

fn histogram_point(o: &Map<String, Value>) -> Result<HistogramDataPoint, String> {
    let (start, time) = times(o)?;
    Ok(HistogramDataPoint {
        attributes: key_values(o)?,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: unsigned(field(o, "count", "count"), "count")?,
        sum: optional_double(o, "sum", "sum")?,
        bucket_counts: list(o, "bucketCounts", "bucket_counts")?
            .iter()
            .map(|v| unsigned(Some(v), "bucketCounts"))
            .collect::<Result<_, _>>()?,
        explicit_bounds: list(o, "explicitBounds", "explicit_bounds")?
            .iter()
            .map(|v| double(Some(v), "explicitBounds"))
            .collect::<Result<_, _>>()?,
        flags: flags(o)?,
        min: optional_double(o, "min", "min")?,
        max: optional_double(o, "max", "max")?,
    })
}

fn exponential_point(o: &Map<String, Value>) -> Result<ExponentialHistogramDataPoint, String> {
    let (start, time) = times(o)?;
    let buckets = |camel: &str| -> Result<_, String> {
        match field(o, camel, camel) {
            None => Ok(None),
            Some(b) => {
                let b = object_of(b, camel)?;
                Ok(Some(exponential_histogram_data_point::Buckets {
                    offset: signed32(field(b, "offset", "offset"), "offset")?,
                    bucket_counts: list(b, "bucketCounts", "bucket_counts")?
                        .iter()
                        .map(|v| unsigned(Some(v), "bucketCounts"))
                        .collect::<Result<_, _>>()?,
                }))
            }
        }
    };
    Ok(ExponentialHistogramDataPoint {
        attributes: key_values(o)?,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: unsigned(field(o, "count", "count"), "count")?,
        sum: optional_double(o, "sum", "sum")?,
        scale: signed32(field(o, "scale", "scale"), "scale")?,
        zero_count: unsigned(field(o, "zeroCount", "zero_count"), "zeroCount")?,
        positive: buckets("positive")?,
        negative: buckets("negative")?,
        flags: flags(o)?,
        min: optional_double(o, "min", "min")?,
        max: optional_double(o, "max", "max")?,
        zero_threshold: double(field(o, "zeroThreshold", "zero_threshold"), "zeroThreshold")?,
    })
}

fn summary_point(o: &Map<String, Value>) -> Result<SummaryDataPoint, String> {
    let (start, time) = times(o)?;
    Ok(SummaryDataPoint {
        attributes: key_values(o)?,
        start_time_unix_nano: start,
        time_unix_nano: time,
        count: unsigned(field(o, "count", "count"), "count")?,
        sum: double(field(o, "sum", "sum"), "sum")?,
        quantile_values: each(o, "quantileValues", "quantile_values", |q| {
            Ok(summary_data_point::ValueAtQuantile {
                quantile: double(field(q, "quantile", "quantile"), "quantile")?,
                value: double(field(q, "value", "value"), "value")?,
            })
        })?,
        flags: flags(o)?,
    })
}

fn times(o: &Map<String, Value>) -> Result<(u64, u64), String> {
    Ok((
        unsigned(
            field(o, "startTimeUnixNano", "start_time_unix_nano"),
            "startTimeUnixNano",
        )?,
        unsigned(field(o, "timeUnixNano", "time_unix_nano"), "timeUnixNano")?,
    ))
}

fn flags(o: &Map<String, Value>) -> Result<u32, String> {
    u32::try_from(unsigned(field(o, "flags", "flags"), "flags")?)
        .map_err(|_| "flags: expected a 32-bit number".to_string())
}

/// Every object of the array `camel`, decoded by `decode`.
fn each<T>(
    object: &Map<String, Value>,
    camel: &str,
    snake: &str,
    decode: impl Fn(&Map<String, Value>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    list(object, camel, snake)?
        .iter()
        .map(|item| decode(object_of(item, camel)?))
        .collect()
}

fn boolean(value: Option<&Value>, name: &str) -> Result<bool, String> {
    match value {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(format!("{name}: expected true or false")),
    }
}

/// `AggregationTemporality` as its number or its name
/// (`AGGREGATION_TEMPORALITY_DELTA`).
fn enumeration(value: Option<&Value>, name: &str) -> Result<i32, String> {
    const NAMES: [&str; 3] = ["UNSPECIFIED", "DELTA", "CUMULATIVE"];
    match value {
        None => Ok(0),
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{name}: expected an integer")),
        Some(Value::String(s)) => {
            let short = s.trim_start_matches("AGGREGATION_TEMPORALITY_");
            NAMES
                .iter()
                .zip(0..)
                .find(|(n, _)| **n == short)
                .map(|(_, i)| i)
                .ok_or_else(|| format!("{name}: unknown `{s}`"))
        }
        Some(_) => Err(format!("{name}: expected a number or a name")),
    }
}

fn signed32(value: Option<&Value>, name: &str) -> Result<i32, String> {
    match value {
        None => Ok(0),
        Some(v) => integer(v)
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| format!("{name}: expected a 32-bit integer")),
    }
}

/// A double: a number, or one of the proto3 JSON names of the special values.
fn double(value: Option<&Value>, name: &str) -> Result<f64, String> {
    match value {
        None => Ok(0.0),
        Some(Value::Number(n)) => n
            .as_f64()
            .ok_or_else(|| format!("{name}: expected a number")),
        Some(Value::String(s)) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            other => other
                .parse()
                .map_err(|_| format!("{name}: expected a number")),
        },
        Some(_) => Err(format!("{name}: expected a number")),
    }
}

fn optional_double(
    o: &Map<String, Value>,
    camel: &str,
    snake: &str,
) -> Result<Option<f64>, String> {
    field(o, camel, snake)
        .map(|v| double(Some(v), camel))
        .transpose()
}

/// The `attributes` of an object.
fn key_values(object: &Map<String, Value>) -> Result<Vec<KeyValue>, String> {
    each(object, "attributes", "attributes", key_value)
}

fn key_value(object: &Map<String, Value>) -> Result<KeyValue, String> {
    Ok(KeyValue {
        key: text(object, "key", "key"),
        value: field(object, "value", "value").map(any_value).transpose()?,
    })
}

fn any_value(value: &Value) -> Result<AnyValue, String> {
    let object = object_of(value, "value")?;
    let inner = if let Some(v) = field(object, "stringValue", "string_value") {
        any_value::Value::StringValue(v.as_str().unwrap_or_default().to_string())
    } else if let Some(v) = field(object, "boolValue", "bool_value") {
        any_value::Value::BoolValue(v.as_bool().unwrap_or_default())
    } else if let Some(v) = field(object, "intValue", "int_value") {
        any_value::Value::IntValue(integer(v).ok_or("intValue: expected an integer")?)
    } else if let Some(v) = field(object, "doubleValue", "double_value") {
        any_value::Value::DoubleValue(double(Some(v), "doubleValue")?)
    } else if let Some(v) = field(object, "arrayValue", "array_value") {
        any_value::Value::ArrayValue(ArrayValue {
            values: list(object_of(v, "arrayValue")?, "values", "values")?
                .iter()
                .map(any_value)
                .collect::<Result<_, _>>()?,
        })
    } else if let Some(v) = field(object, "kvlistValue", "kvlist_value") {
        any_value::Value::KvlistValue(KeyValueList {
            values: each(object_of(v, "kvlistValue")?, "values", "values", key_value)?,
        })
    } else if let Some(v) = field(object, "bytesValue", "bytes_value") {
        use base64::Engine;
        let text = v.as_str().unwrap_or_default();
        any_value::Value::BytesValue(
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| "bytesValue: expected base64")?,
        )
    } else {
        return Ok(AnyValue { value: None });
    };
    Ok(AnyValue { value: Some(inner) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_otlp_json_mapping_decodes() {
        let body = br#"{"resource_metrics":[{"scope_metrics":[{"metrics":[
            {"name":"h","exponential_histogram":{"aggregation_temporality":"AGGREGATION_TEMPORALITY_DELTA",
              "data_points":[{"time_unix_nano":"5","scale":"3","zero_threshold":"Infinity",
                "negative":{"offset":-4,"bucket_counts":[1,"2"]},"min":"-Infinity","sum":"NaN",
                "attributes":[{"key":"b","value":{"bytesValue":"aGk="}},
                  {"key":"l","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":true}}]}}}]}]}},
            {"name":"s","sum":{"aggregationTemporality":1,"dataPoints":[{"asInt":-3,"flags":1}]}}
          ]}]}]}"#;
        let request = from_json(body).unwrap();
        let metrics = &request.resource_metrics[0].scope_metrics[0].metrics;
        let Some(metric::Data::ExponentialHistogram(h)) = &metrics[0].data else {
            panic!("not an exponential histogram: {metrics:?}");
        };
        assert_eq!(
            h.aggregation_temporality,
            AggregationTemporality::Delta as i32
        );
        let p = &h.data_points[0];
        assert_eq!((p.time_unix_nano, p.scale), (5, 3));
        assert_eq!(p.zero_threshold, f64::INFINITY);
        assert_eq!(p.min, Some(f64::NEG_INFINITY));
        assert!(p.sum.is_some_and(f64::is_nan));
        assert_eq!(
            p.negative,
            Some(exponential_histogram_data_point::Buckets {
                offset: -4,
                bucket_counts: vec![1, 2]
            })
        );
        assert_eq!(
            p.attributes[0].value,
            Some(AnyValue {
                value: Some(any_value::Value::BytesValue(b"hi".to_vec()))
            })
        );
        let Some(metric::Data::Sum(s)) = &metrics[1].data else {
            panic!("not a sum");
        };
        assert_eq!(
            s.data_points[0].value,
            Some(number_data_point::Value::AsInt(-3))
        );
        assert_eq!(s.data_points[0].flags, FLAG_NO_RECORDED_VALUE);
        for bad in [
            &br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"asInt":1.5}]}}]}]}]}"#[..],
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"timeUnixNano":-1}]}}]}]}]}"#,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"isMonotonic":"yes"}}]}]}]}"#,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"histogram":{"dataPoints":[{"explicitBounds":["x"]}]}}]}]}]}"#,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"exponentialHistogram":{"dataPoints":[{"scale":4294967296}]}}]}]}]}"#,
            br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"gauge":{"dataPoints":[{"flags":4294967296}]}}]}]}]}"#,
            b"not json",
        ] {
            assert!(from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
