"""Sends metrics to Sightline with the OpenTelemetry Python SDK's OTLP/HTTP metric
exporter (protobuf), as an instrumented service would: a counter `bars.orders`,
a histogram `x.latency` in milliseconds and an up-down counter, from service
`svc`, cumulative and then delta temporality. Usage: otlp_metrics.py <url> <ingest key>."""

import sys

from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

url, key = sys.argv[1], sys.argv[2]


def provider(service, temporality):
    exporter = OTLPMetricExporter(
        endpoint=f"{url}/v1/metrics",
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
        preferred_temporality=temporality,
    )
    # A long interval: the test exports by force_flush, twice.
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({"service.name": service, "service.instance.id": "i-1"})
    return MeterProvider(resource=resource, metric_readers=[reader])


cumulative = provider("svc", {})
meter = cumulative.get_meter("shop")
orders = meter.create_counter("bars.orders", description="Orders placed.")
latency = meter.create_histogram("x.latency", unit="ms", description="Latency.")
queue = meter.create_up_down_counter("jobs.queued")
orders.add(3, {"plan": "pro"})
latency.record(12, {"route": "/a"})
latency.record(700, {"route": "/a"})
queue.add(5)
cumulative.force_flush()
orders.add(2, {"plan": "pro"})
cumulative.force_flush()
cumulative.shutdown()

delta = provider("svc-delta", {Counter: AggregationTemporality.DELTA, Histogram: AggregationTemporality.DELTA})
counter = delta.get_meter("shop").create_counter("bars.orders")
counter.add(4)
delta.force_flush()
counter.add(6)
delta.force_flush()
delta.shutdown()
print("ok")
