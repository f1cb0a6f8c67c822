use super::super::metrics_proto::{
    exponential_histogram_data_point::Buckets, summary_data_point::ValueAtQuantile,
    ExponentialHistogram, Gauge, Histogram, ResourceMetrics, ScopeMetrics, Sum, Summary,
};
use super::super::metrics_proto::{
    number_data_point, ExponentialHistogramDataPoint, HistogramDataPoint, NumberDataPoint,
    SummaryDataPoint, FLAG_NO_RECORDED_VALUE,
};
use super::super::proto::{any_value, AnyValue, InstrumentationScope, Resource};
use super::delta::ExponentialTotal;
use super::*;

const T0: u64 = 1_764_151_200_000_000_000;
const SECOND: u64 = 1_000_000_000;

fn kv(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(value.to_string())),
        }),
    }
}

fn request(resource: Vec<KeyValue>, metrics: Vec<Metric>) -> ExportMetricsServiceRequest {
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource {
                attributes: resource,
            }),
            scope_metrics: vec![ScopeMetrics {
                scope: None,
                metrics,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

fn svc() -> Vec<KeyValue> {
    vec![kv("service.name", "svc")]
}

fn metric(name: &str, unit: &str, data: Data) -> Metric {
    Metric {
        name: name.to_string(),
        description: format!("about {name}"),
        unit: unit.to_string(),
        data: Some(data),
    }
}

fn number(start: u64, time: u64, value: f64) -> NumberDataPoint {
    NumberDataPoint {
        attributes: vec![],
        start_time_unix_nano: start,
        time_unix_nano: time,
        flags: 0,
        value: Some(number_data_point::Value::AsDouble(value)),
    }
}

fn sum(points: Vec<NumberDataPoint>, temporality: AggregationTemporality) -> Data {
    Data::Sum(Sum {
        data_points: points,
        aggregation_temporality: temporality as i32,
        is_monotonic: true,
    })
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    let mut labels: Labels = pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    labels.sort();
    labels
}

/// The points of the series with exactly these labels.
fn points<'a>(t: &'a Translated, pairs: &[(&str, &str)]) -> &'a [(i64, f64)] {
    let wanted = labels(pairs);
    t.series
        .iter()
        .find(|(l, _)| *l == wanted)
        .map(|(_, p)| p.as_slice())
        .unwrap_or_else(|| panic!("no series {wanted:?} in {:#?}", t.series))
}

fn ms(nanos: u64) -> i64 {
    (nanos / 1_000_000) as i64
}

#[test]
fn a_monotonic_counter_gets_total_and_its_job() {
    let req = request(
        svc(),
        vec![metric(
            "bars.orders",
            "{order}",
            sum(
                vec![number(T0, T0 + SECOND, 7.0)],
                AggregationTemporality::Cumulative,
            ),
        )],
    );
    let t = translate(req, &DeltaToCumulative::default(), 1);
    assert_eq!(
        points(&t, &[("__name__", "bars_orders_total"), ("job", "svc")]),
        [(ms(T0 + SECOND), 7.0)]
    );
    assert_eq!(
        t.metadata,
        [(
            "bars_orders_total".to_string(),
            "counter",
            "about bars.orders".to_string(),
            "{order}".to_string()
        )]
    );
    assert_eq!(
        (t.refused, t.series.len()),
        (0, 1),
        "no target_info without other attributes"
    );
}

#[test]
fn a_histogram_gets_its_unit_and_cumulative_buckets() {
    let point = HistogramDataPoint {
        attributes: vec![kv("http.route", "/a")],
        start_time_unix_nano: T0,
        time_unix_nano: T0 + SECOND,
        count: 6,
        sum: Some(12.5),
        bucket_counts: vec![1, 2, 3],
        explicit_bounds: vec![0.5, 1.0],
        ..Default::default()
    };
    let data = Data::Histogram(Histogram {
        data_points: vec![point],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    });
    let t = translate(
        request(svc(), vec![metric("x.latency", "ms", data)]),
        &DeltaToCumulative::default(),
        1,
    );
    let at = ms(T0 + SECOND);
    let base = [("job", "svc"), ("http_route", "/a")];
    let bucket = |le: &'static str| {
        let mut l = base.to_vec();
        l.extend([("__name__", "x_latency_milliseconds_bucket"), ("le", le)]);
        l
    };
    assert_eq!(points(&t, &bucket("0.5")), [(at, 1.0)]);
    assert_eq!(points(&t, &bucket("1")), [(at, 3.0)]);
    assert_eq!(points(&t, &bucket("+Inf")), [(at, 6.0)]);
    let mut sum = base.to_vec();
    sum.push(("__name__", "x_latency_milliseconds_sum"));
    assert_eq!(points(&t, &sum), [(at, 12.5)]);
    let mut count = base.to_vec();
    count.push(("__name__", "x_latency_milliseconds_count"));
    assert_eq!(points(&t, &count), [(at, 6.0)]);
    assert_eq!(t.metadata[0].0, "x_latency_milliseconds");
    assert_eq!(t.metadata[0].1, "histogram");
}

#[test]
fn delta_sums_accumulate_across_requests_per_project() {
    let deltas = DeltaToCumulative::default();
    let send = |start: u64, end: u64, value: f64, tenant: i64| {
        let data = sum(
            vec![number(start, end, value)],
            AggregationTemporality::Delta,
        );
        translate(
            request(svc(), vec![metric("jobs.done", "", data)]),
            &deltas,
            tenant,
        )
    };
    let name = [("__name__", "jobs_done_total"), ("job", "svc")];
    let first = send(T0, T0 + SECOND, 5.0, 1);
    assert_eq!(points(&first, &name), [(ms(T0 + SECOND), 5.0)]);
    let second = send(T0 + SECOND, T0 + 2 * SECOND, 3.0, 1);
    assert_eq!(points(&second, &name), [(ms(T0 + 2 * SECOND), 8.0)]);
    // Another project's series of the same name is its own.
    let other = send(T0 + SECOND, T0 + 2 * SECOND, 1.0, 2);
    assert_eq!(points(&other, &name), [(ms(T0 + 2 * SECOND), 1.0)]);
    // Overlapping the previous delta (starts before it ended): refused.
    let overlap = send(T0 + SECOND + 1, T0 + 3 * SECOND, 4.0, 1);
    assert_eq!((overlap.refused, overlap.series.len()), (1, 0));
    assert!(overlap
        .first_refusal
        .is_some_and(|r| r.contains("jobs_done_total") && r.contains("before")));
    let next = send(T0 + 2 * SECOND, T0 + 3 * SECOND, 2.0, 1);
    assert_eq!(points(&next, &name), [(ms(T0 + 3 * SECOND), 10.0)]);
    assert_eq!(deltas.len(), 2);
}

#[test]
fn delta_histograms_accumulate_and_the_state_is_bounded() {
    let deltas = DeltaToCumulative::new(2);
    let point = |start: u64, counts: Vec<u64>| HistogramDataPoint {
        start_time_unix_nano: start,
        time_unix_nano: start + SECOND,
        count: counts.iter().sum(),
        sum: Some(1.0),
        bucket_counts: counts,
        explicit_bounds: vec![1.0],
        ..Default::default()
    };
    let send = |name: &str, p: HistogramDataPoint| {
        let data = Data::Histogram(Histogram {
            data_points: vec![p],
            aggregation_temporality: AggregationTemporality::Delta as i32,
        });
        translate(request(vec![], vec![metric(name, "s", data)]), &deltas, 1)
    };
    send("h", point(T0, vec![1, 1]));
    let t = send("h", point(T0 + SECOND, vec![2, 0]));
    let le1 = [("__name__", "h_seconds_bucket"), ("le", "1")];
    assert_eq!(points(&t, &le1), [(ms(T0 + 2 * SECOND), 3.0)]);
    let count = [("__name__", "h_seconds_count")];
    assert_eq!(points(&t, &count), [(ms(T0 + 2 * SECOND), 4.0)]);
    assert_eq!(points(&t, &[("__name__", "h_seconds_sum")])[0].1, 2.0);
    for name in ["a", "b", "c"] {
        send(name, point(T0, vec![1, 0]));
    }
    assert!(deltas.len() <= 2);
}

#[test]
fn exponential_histograms_become_classic_buckets() {
    // Scale 0: base 2; positive bucket i holds (2^i, 2^(i+1)].
    let point = ExponentialHistogramDataPoint {
        time_unix_nano: T0,
        count: 8,
        sum: Some(20.0),
        scale: 0,
        zero_count: 1,
        positive: Some(Buckets {
            offset: 0,
            bucket_counts: vec![1, 2, 0, 3],
        }),
        negative: Some(Buckets {
            offset: 1,
            bucket_counts: vec![1],
        }),
        ..Default::default()
    };
    let data = Data::ExponentialHistogram(ExponentialHistogram {
        data_points: vec![point.clone()],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    });
    let t = translate(
        request(vec![], vec![metric("e", "", data)]),
        &DeltaToCumulative::default(),
        1,
    );
    let bucket = |le| points(&t, &[("__name__", "e_bucket"), ("le", le)])[0].1;
    // Negative bucket 1 holds [-4, -2): bound -2.
    assert_eq!(bucket("-2"), 1.0);
    assert_eq!(bucket("0"), 2.0);
    assert_eq!(bucket("2"), 3.0);
    assert_eq!(bucket("4"), 5.0);
    assert!(t
        .series
        .iter()
        .all(|(l, _)| !l.contains(&("le".to_string(), "8".to_string()))));
    assert_eq!(bucket("16"), 8.0);
    assert_eq!(bucket("+Inf"), 8.0);
    assert_eq!(points(&t, &[("__name__", "e_count")])[0].1, 8.0);

    // Scale 1: base √2; bound of bucket 0 is √2.
    let mut finer = point;
    finer.scale = 1;
    finer.negative = None;
    let total = ExponentialTotal::of(&finer);
    let bounds: Vec<String> = total
        .classic_buckets()
        .iter()
        .map(|(b, _)| prometheus_float(*b))
        .collect();
    assert_eq!(bounds, ["0", "1.4142135623730951", "2", "4"]);

    // Deltas at different scales add at the coarser one.
    let mut a = ExponentialTotal::of(&finer);
    let mut coarse = finer.clone();
    coarse.scale = 0;
    a.add(ExponentialTotal::of(&coarse));
    assert_eq!(a.scale, 0);
    assert_eq!(a.positive.values().sum::<u64>(), 12);
    assert_eq!(a.count, 16);

    // Totals of deltas far apart stay within the bucket limit, counts kept.
    let far = |offset| ExponentialTotal {
        positive: (0..MAX_BUCKETS_PER_POINT as i64)
            .map(|i| (offset + i, 1))
            .collect(),
        ..ExponentialTotal::of(&finer)
    };
    let mut total = far(0);
    total.add(far(1 << 30));
    assert!(total.positive.len() <= MAX_BUCKETS_PER_POINT);
    assert_eq!(
        total.positive.values().sum::<u64>(),
        2 * MAX_BUCKETS_PER_POINT as u64
    );
    assert_eq!(total.scale, 0, "one halving fits both runs");
}

#[test]
fn no_recorded_value_is_a_stale_marker() {
    let mut p = number(0, T0, 0.0);
    p.flags = FLAG_NO_RECORDED_VALUE;
    p.value = None;
    let gauge = Data::Gauge(Gauge {
        data_points: vec![p],
    });
    let summary = Data::Summary(Summary {
        data_points: vec![SummaryDataPoint {
            time_unix_nano: T0,
            flags: FLAG_NO_RECORDED_VALUE,
            quantile_values: vec![ValueAtQuantile {
                quantile: 0.5,
                value: 1.0,
            }],
            ..Default::default()
        }],
    });
    let t = translate(
        request(
            svc(),
            vec![metric("up", "", gauge), metric("s", "", summary)],
        ),
        &DeltaToCumulative::default(),
        1,
    );
    assert_eq!(t.refused, 0);
    assert_eq!(t.series.len(), 4);
    for (_, points) in &t.series {
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].1.to_bits(), STALE_NAN_BITS);
    }
    points(
        &t,
        &[("__name__", "s"), ("quantile", "0.5"), ("job", "svc")],
    );
}

#[test]
fn json_and_protobuf_decode_to_the_same_request() {
    let json = br#"{"resourceMetrics":[{"resource":{"attributes":[
        {"key":"service.name","value":{"stringValue":"svc"}},
        {"key":"service.namespace","value":{"stringValue":"shop"}},
        {"key":"service.instance.id","value":{"stringValue":"i-1"}},
        {"key":"host.name","value":{"stringValue":"h1"}}]},
      "scopeMetrics":[{"scope":{"name":"lib","version":"1.2"},"metrics":[
        {"name":"bars.orders","unit":"1","sum":{"aggregationTemporality":2,"isMonotonic":true,
          "dataPoints":[{"startTimeUnixNano":"1764151200000000000","timeUnixNano":1764151201000000000,
            "asInt":"42","attributes":[{"key":"code","value":{"intValue":"200"}}]}]}},
        {"name":"temp","unit":"Cel","gauge":{"dataPoints":[{"timeUnixNano":"1764151201000000000","asDouble":"NaN"}]}},
        {"name":"size","unit":"By","histogram":{"aggregationTemporality":"AGGREGATION_TEMPORALITY_CUMULATIVE",
          "dataPoints":[{"timeUnixNano":"1764151201000000000","count":"3","sum":10,
            "bucketCounts":["1",2],"explicitBounds":[1024]}]}},
        {"name":"exp","exponentialHistogram":{"aggregationTemporality":2,"dataPoints":[{
          "timeUnixNano":"1764151201000000000","count":"2","scale":-1,"zeroCount":"1","zeroThreshold":0.001,
          "positive":{"offset":-2,"bucketCounts":["1"]}}]}},
        {"name":"rpc","summary":{"dataPoints":[{"timeUnixNano":"1764151201000000000","count":"4","sum":2.5,
          "quantileValues":[{"quantile":0.99,"value":1.5}],"flags":0}]}}
      ]}]}]}"#;
    let from_json = decode_json(json).unwrap();
    let bytes = from_json.encode_to_vec();
    let from_protobuf = decode_protobuf(&bytes).unwrap();
    // Debug text, as NaN (the gauge's value) is unequal to itself.
    assert_eq!(format!("{from_json:?}"), format!("{from_protobuf:?}"));
    let metrics = &from_json.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics.len(), 5);
    assert!(matches!(
        &metrics[0].data,
        Some(Data::Sum(s)) if s.is_monotonic && s.data_points[0].value == Some(number_data_point::Value::AsInt(42))
    ));

    let a = translate(from_json, &DeltaToCumulative::default(), 1);
    let b = translate(from_protobuf, &DeltaToCumulative::default(), 1);
    assert_eq!(
        format!("{a:?}"),
        format!("{b:?}"),
        "NaN compares unequal, text does not"
    );
    assert_eq!(a.refused, 0, "{:?}", a.first_refusal);
    let common = [
        ("job", "shop/svc"),
        ("instance", "i-1"),
        ("otel_scope_name", "lib"),
        ("otel_scope_version", "1.2"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut l = common.to_vec();
        l.extend_from_slice(extra);
        l
    };
    assert_eq!(
        points(
            &a,
            &with(&[("__name__", "bars_orders_total"), ("code", "200")])
        ),
        [(1_764_151_201_000, 42.0)]
    );
    assert!(points(&a, &with(&[("__name__", "temp_celsius")]))[0]
        .1
        .is_nan());
    assert_eq!(
        points(
            &a,
            &with(&[("__name__", "size_bytes_bucket"), ("le", "1024")])
        )[0]
        .1,
        1.0
    );
    // Scale -1: base 4, bucket -2 holds (1/16, 1/4].
    assert_eq!(
        points(&a, &with(&[("__name__", "exp_bucket"), ("le", "0.25")]))[0].1,
        2.0
    );
    assert_eq!(
        points(&a, &with(&[("__name__", "exp_bucket"), ("le", "0.001")]))[0].1,
        1.0
    );
    assert_eq!(
        points(&a, &with(&[("__name__", "rpc"), ("quantile", "0.99")]))[0].1,
        1.5
    );
    // The other resource attributes go to target_info, once.
    assert_eq!(
        points(
            &a,
            &[
                ("__name__", "target_info"),
                ("job", "shop/svc"),
                ("instance", "i-1"),
                ("host_name", "h1")
            ]
        ),
        [(1_764_151_201_000, 1.0)]
    );
    assert!(a.metadata.iter().any(|m| m.0 == "target_info"));
}

#[test]
fn bad_input_is_an_error_or_a_refusal_never_a_panic() {
    assert!(decode_json(b"[]").is_err());
    assert!(decode_json(br#"{"resourceMetrics":{}}"#).is_err());
    assert!(decode_json(
        br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"sum":{"aggregationTemporality":"SIDEWAYS"}}]}]}]}"#
    )
    .is_err());
    assert!(decode_protobuf(&[0xff, 0xff, 0xff]).is_err());
    let mut seed = 7u64;
    for len in 0..400 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                (seed >> 56) as u8
            })
            .collect();
        if let Ok(r) = decode_protobuf(&bytes) {
            translate(r, &DeltaToCumulative::default(), 1);
        }
        let _ = decode_json(&bytes);
    }
    // Out of range scales, extreme offsets, bad buckets, no time, no value.
    let exp = |scale, offset| ExponentialHistogramDataPoint {
        attributes: vec![kv("offset", &format!("{offset}"))],
        time_unix_nano: T0,
        scale,
        count: 1,
        positive: Some(Buckets {
            offset,
            bucket_counts: vec![1, 1],
        }),
        negative: Some(Buckets {
            offset,
            bucket_counts: vec![1],
        }),
        ..Default::default()
    };
    let data = Data::ExponentialHistogram(ExponentialHistogram {
        data_points: vec![
            exp(21, 0),
            exp(20, i32::MAX),
            exp(-10, i32::MIN),
            exp(-10, 1),
        ],
        aggregation_temporality: AggregationTemporality::Delta as i32,
    });
    let histogram = Data::Histogram(Histogram {
        data_points: vec![HistogramDataPoint {
            time_unix_nano: T0,
            bucket_counts: vec![1],
            explicit_bounds: vec![1.0],
            ..Default::default()
        }],
        aggregation_temporality: AggregationTemporality::Cumulative as i32,
    });
    let unspecified = Data::Sum(Sum {
        data_points: vec![number(0, T0, 1.0)],
        ..Default::default()
    });
    let mut no_value = number(0, T0, 1.0);
    no_value.value = None;
    let gauge = Data::Gauge(Gauge {
        data_points: vec![number(0, 0, 1.0), no_value],
    });
    let t = translate(
        request(
            vec![],
            vec![
                metric("e", "", data),
                metric("h", "", histogram),
                metric("u", "", unspecified),
                metric("g", "", gauge),
                metric(
                    "...",
                    "",
                    Data::Gauge(Gauge {
                        data_points: vec![number(0, T0, 1.0)],
                    }),
                ),
            ],
        ),
        &DeltaToCumulative::default(),
        1,
    );
    assert_eq!(t.refused, 6, "{:?}", t.first_refusal);
    assert!(t.first_refusal.is_some_and(|r| r.contains("scale 21")));
    for (labels, _) in &t.series {
        assert!(labels.iter().all(|(n, v)| !n.is_empty() && !v.is_empty()));
    }
}

#[test]
fn one_name_keeps_one_type() {
    let gauge = Data::Gauge(Gauge {
        data_points: vec![number(0, T0, 1.0)],
    });
    let counter = sum(
        vec![number(T0, T0, 2.0)],
        AggregationTemporality::Cumulative,
    );
    let t = translate(
        request(
            svc(),
            vec![metric("x.total", "", gauge), metric("x", "", counter)],
        ),
        &DeltaToCumulative::default(),
        1,
    );
    assert_eq!(t.metadata.len(), 1);
    assert_eq!(
        points(&t, &[("__name__", "x_total"), ("job", "svc")])[0].1,
        1.0
    );
    assert_eq!(t.refused, 1);
    assert!(t
        .first_refusal
        .is_some_and(|r| r.contains("already a gauge")));
}

#[test]
fn too_many_points_are_refused_whole() {
    let points: Vec<NumberDataPoint> = (0..5).map(|i| number(0, T0 + i, 1.0)).collect();
    let req = request(
        svc(),
        vec![metric(
            "g",
            "",
            Data::Gauge(Gauge {
                data_points: points,
            }),
        )],
    );
    assert_eq!(points_within(&req, 5), Ok(5));
    assert_eq!(
        points_within(&req, 4),
        Err("more than 4 data points in one request".to_string())
    );
    let many = vec![number(0, T0, 1.0); MAX_POINTS_PER_REQUEST + 1];
    let req = request(
        svc(),
        vec![metric("g", "", Data::Gauge(Gauge { data_points: many }))],
    );
    let t = translate(req, &DeltaToCumulative::default(), 1);
    assert_eq!((t.refused, t.series.len()), (MAX_POINTS_PER_REQUEST + 1, 0));
    assert!(t
        .first_refusal
        .is_some_and(|r| r.starts_with("more than 200000")));
}

#[test]
fn names_follow_the_collector() {
    let name = |n, u, total, ratio| prometheus_name(n, u, total, ratio);
    assert_eq!(
        name("http.server.duration", "s", false, false),
        "http_server_duration_seconds"
    );
    assert_eq!(name("io", "By/s", false, false), "io_bytes_per_second");
    assert_eq!(
        name("packets", "{packet}/s", true, false),
        "packets_per_second_total"
    );
    assert_eq!(
        name("cpu.utilization", "1", false, true),
        "cpu_utilization_ratio"
    );
    assert_eq!(
        name("cpu.utilization", "1", false, false),
        "cpu_utilization"
    );
    assert_eq!(
        name("latency_seconds", "s", false, false),
        "latency_seconds"
    );
    assert_eq!(name("requests.total", "", true, false), "requests_total");
    assert_eq!(name("mem", "%", false, false), "mem_percent");
    assert_eq!(name("a..b--c:d", "", false, false), "a_b_c:d");
    assert_eq!(name("2xx", "", false, false), "_2xx");
    assert_eq!(name("...", "{x}", false, false), "");
    assert_eq!(name("größe", "MiBy", false, false), "gr_e_mebibytes");
}

#[test]
fn labels_are_sanitised_and_collisions_joined() {
    assert_eq!(label_name("http.method").as_deref(), Some("http_method"));
    assert_eq!(label_name("1st").as_deref(), Some("key_1st"));
    assert_eq!(label_name("__name__").as_deref(), Some("key_name_"));
    assert_eq!(label_name("_x").as_deref(), Some("key_x"));
    assert_eq!(label_name("a..b").as_deref(), Some("a_b"));
    assert_eq!(label_name(""), None);
    let attrs = [
        kv("a.b", "2"),
        kv("a-b", "1"),
        kv("c", ""),
        kv("job", "mine"),
    ];
    assert_eq!(
        attribute_labels(attrs.iter()),
        labels(&[("a_b", "1;2"), ("job", "mine")])
    );
    let int = KeyValue {
        key: "n".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::ArrayValue(
                super::super::proto::ArrayValue {
                    values: vec![AnyValue {
                        value: Some(any_value::Value::IntValue(1)),
                    }],
                },
            )),
        }),
    };
    assert_eq!(attribute_labels([&int]), labels(&[("n", "[1]")]));
    // A resource's job wins over an attribute called job.
    let target = Target::of(&svc());
    let deltas = DeltaToCumulative::default();
    let context = Context {
        target: &target,
        scope: vec![],
        deltas: &deltas,
        tenant: 1,
    };
    assert_eq!(
        context.labels(&attrs),
        labels(&[("a_b", "1;2"), ("job", "svc")])
    );
    let _ = InstrumentationScope::default();
}

#[test]
fn floats_are_written_as_prometheus_writes_them() {
    let cases = [
        (0.5, "0.5"),
        (1.0, "1"),
        (0.0, "0"),
        (-2.0, "-2"),
        (1024.0, "1024"),
        (100_000.0, "100000"),
        (1e6, "1e+06"),
        (2.5e6, "2.5e+06"),
        (123_456.7, "123456.7"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (0.001, "0.001"),
        (1.5e-300, "1.5e-300"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for (value, text) in cases {
        assert_eq!(prometheus_float(value), text, "{value}");
    }
}
