"""Sends traces to Sightline with the OpenTelemetry Python SDK's OTLP/HTTP span
exporter (protobuf), as an instrumented HTTP service would, with start and end
times set so that the durations are known. Usage: otlp_traces.py <url> <ingest key>.

Sends ten `GET /users/{id}` server spans taking 100, 200, ..., 1000 ms (the
fourth answers 404, the eighth fails with 500), each with a database child
span, and one `POST /orders` server span below a remote parent (a request from
another service). Prints {"trace_ids": [...], "remote_trace_id": "<hex>"}."""

import json
import sys
import time

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExportResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags

url, key = sys.argv[1], sys.argv[2]
provider = TracerProvider(
    resource=Resource.create(
        {
            "service.name": "users-api",
            "service.version": "2.0.1",
            "deployment.environment.name": "staging",
        }
    )
)
failures = []


class CheckedExporter(OTLPSpanExporter):
    """The real exporter, remembering failed exports so that the test sees them."""

    def export(self, spans):
        result = super().export(spans)
        if result != SpanExportResult.SUCCESS:
            failures.append(result)
        return result


exporter = CheckedExporter(
    endpoint=f"{url}/v1/traces", headers={"Authorization": f"Bearer {key}"}, timeout=10
)
provider.add_span_processor(BatchSpanProcessor(exporter))
tracer = provider.get_tracer("users.http", "1.0")

MS = 1_000_000
# Ten minutes ago, on a whole millisecond, one request a second from then on.
base = (time.time_ns() // MS - 10 * 60 * 1000) * MS
trace_ids = []
for i in range(1, 11):
    start = base + i * 1000 * MS
    duration = i * 100 * MS
    status_code = {4: 404, 8: 500}.get(i, 200)
    server = tracer.start_span(
        "GET /users/{id}",
        kind=SpanKind.SERVER,
        start_time=start,
        attributes={
            "http.request.method": "GET",
            "http.route": "/users/{id}",
            "url.path": f"/users/{i}",
            "http.response.status_code": status_code,
        },
    )
    if status_code >= 500:
        server.set_status(Status(StatusCode.ERROR, "database unavailable"))
    query = tracer.start_span(
        "SELECT users",
        context=trace.set_span_in_context(server),
        kind=SpanKind.CLIENT,
        start_time=start + 10 * MS,
        attributes={"db.system.name": "postgresql", "db.query.text": "select * from users where id = $1"},
    )
    query.end(end_time=start + 10 * MS + duration // 2)
    server.end(end_time=start + duration)
    trace_ids.append(format(server.get_span_context().trace_id, "032x"))

# A request from another service: the parent span lives in the caller.
remote = SpanContext(
    trace_id=0x4BF92F3577B34DA6A3CE929D0E0E4736,
    span_id=0x00F067AA0BA902B7,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED),
)
orders = tracer.start_span(
    "POST /orders",
    context=trace.set_span_in_context(NonRecordingSpan(remote)),
    kind=SpanKind.SERVER,
    start_time=base + 20 * 1000 * MS,
    attributes={"http.request.method": "POST", "http.route": "/orders", "http.response.status_code": 201},
)
orders.end(end_time=base + 20 * 1000 * MS + 50 * MS)

provider.force_flush()
provider.shutdown()
if failures:
    sys.exit(f"export failed: {failures}")
print(json.dumps({"trace_ids": trace_ids, "remote_trace_id": format(remote.trace_id, "032x")}))
