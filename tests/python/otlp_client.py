"""Sends logs to Sightline with the OpenTelemetry Python SDK's OTLP/HTTP exporter
(protobuf), as an instrumented service would. Usage: otlp_client.py <url> <ingest key>.
Prints {"trace_id": "<hex>"} of the span the error was logged in."""

import json
import logging
import sys

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider

url, key = sys.argv[1], sys.argv[2]
provider = LoggerProvider(
    resource=Resource.create(
        {"service.name": "checkout", "host.name": "py-1", "deployment.environment": "test"}
    )
)
exporter = OTLPLogExporter(
    endpoint=f"{url}/v1/logs", headers={"Authorization": f"Bearer {key}"}, timeout=10
)
provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))

log = logging.getLogger("shop.payments")
log.setLevel(logging.DEBUG)
log.propagate = False
log.addHandler(LoggingHandler(level=logging.DEBUG, logger_provider=provider))

tracer = TracerProvider().get_tracer("shop")
log.warning("card declined", extra={"order_id": 42})
with tracer.start_as_current_span("pay") as span:
    log.error("gateway timeout")
    trace_id = format(span.get_span_context().trace_id, "032x")
log.info("payment ok")

provider.force_flush()
provider.shutdown()
print(json.dumps({"trace_id": trace_id}))
