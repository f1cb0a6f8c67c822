"""Schemathesis hooks of tests/schemathesis/run.sh (loaded through the `hooks` key
of the configuration it writes).

Rotating a key revokes it and creates a new one with the same label, so a key id
pinned in the configuration could be rotated only once: every later call would
be a 404, and in the stateful phase the pinned id would replace the id of a key
just created ("created resource not found"). Before each rotation of the pinned
key, this points the call at the current active key of its rotation chain.

The body of `POST /api/v1/query` names a source and a query in that source's
language, which no JSON Schema can tie together: a positive case is given the
fixture project and a valid query of a valid source (drawn from the case's
own values, so a run stays reproducible); negative cases are sent as generated.

The `q` parameter of the logs endpoints has the format `log-query`: a query in
Sightline's log query language (docs/logs-query.md), which no JSON Schema can
describe. Valid values are drawn from queries of every kind the language has.
"""

import json
import os
import zlib
import urllib.parse
import urllib.request

import schemathesis
from hypothesis import strategies as st

BASE_URL = os.environ["SIGHTLINE_ST_BASE_URL"]
ADMIN_TOKEN = os.environ["SIGHTLINE_ST_ADMIN_TOKEN"]
ROTATED_KEY_ID = int(os.environ["SIGHTLINE_ST_ROTATED_KEY_ID"])
ROTATED_KEY_LABEL = os.environ["SIGHTLINE_ST_ROTATED_KEY_LABEL"]


def _active_rotated_key(project):
    request = urllib.request.Request(
        f"{BASE_URL}/api/v1/projects/{urllib.parse.quote(str(project), safe='')}/keys",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            keys = json.load(response)
    except (OSError, ValueError):
        return None  # not a project with keys: leave the call as generated
    active = [
        k["key_id"] for k in keys if k["label"] == ROTATED_KEY_LABEL and k.get("revoked_at") is None
    ]
    return max(active) if active else None


@schemathesis.hook
def before_call(context, case, kwargs):
    operation = case.operation
    if operation.method.upper() != "POST":
        return
    if operation.path.endswith("/keys/{key_id}/rotate"):
        _follow_rotated_key(case)
    elif operation.path.endswith("/query"):
        _valid_series_query(case)
    elif operation.path.endswith("/ingest/metrics"):
        _valid_samples(case)
    elif operation.path.endswith("/metrics/targets"):
        _valid_target(case)


def _follow_rotated_key(case):
    if case.path_parameters.get("key_id") != ROTATED_KEY_ID:
        return
    current = _active_rotated_key(case.path_parameters["project"])
    if current is not None:
        case.path_parameters["key_id"] = current


def _valid_series_query(case):
    meta = getattr(case, "meta", None)
    if meta is None or str(meta.generation.mode) != "positive" or not isinstance(case.body, dict):
        return
    pick = zlib.crc32(json.dumps(case.body, sort_keys=True, default=str).encode())
    source = sorted(SERIES_QUERIES)[pick % len(SERIES_QUERIES)]
    queries = SERIES_QUERIES[source]
    case.body = {
        "project": "demo",
        "source": source,
        "query": queries[(pick // 7) % len(queries)],
        "from": ["now-1h", "now-24h", "now-2d/d", ""][(pick // 11) % 4],
        "to": ["now", "now+1h", ""][(pick // 13) % 3],
        "step": ["1m", "300", "", "1h"][(pick // 17) % 4],
    }


def _positive(case):
    meta = getattr(case, "meta", None)
    return meta is not None and str(meta.generation.mode) == "positive"


def _pick(case):
    return zlib.crc32(json.dumps(case.body, sort_keys=True, default=str).encode())


def _valid_samples(case):
    # The items of a metrics body are any JSON value in the schema (a bad one
    # is refused on its own); a positive case sends samples that are valid.
    if not _positive(case):
        return
    pick = _pick(case)
    case.body = [
        {"name": f"schemathesis_metric_{pick % 5}", "labels": {"job": "st", "n": str(i)}, "value": pick % 97 + i}
        for i in range(pick % 4)
    ]


def _valid_target(case):
    # A target's timeout must not pass its interval, which JSON Schema cannot
    # say; a positive case gets a valid target (a port nothing listens on).
    if not _positive(case) or not isinstance(case.body, dict):
        return
    pick = _pick(case)
    interval = 1 + pick % 3600
    case.body = {
        "job": f"schemathesis-{pick % 7}",
        "url": f"http://127.0.0.1:9/metrics?case={pick % 1000}",
        "interval_seconds": interval,
        "timeout_seconds": 1 + (pick // 3) % interval,
        "labels": {"team": "st"},
    }


# Valid PromQL for the `promql` format (the metrics explorer's instant query).
PROMQL = ["up", "1 + 1", "sum(rate(schemathesis_metric_1[5m]))", 'count by (job) ({job="st"})', "vector(1)"]

schemathesis.openapi.format("promql", st.sampled_from(PROMQL))


# Queries of every construct of docs/logs-query.md: words, phrases, fields and
# comparisons, regular expressions, boolean operators, and stats stages.
LOG_QUERIES = [
    "",
    "error",
    '"payment failed"',
    "level:error",
    "level:>=warn",
    "service:api and not level:debug",
    "service:api or service:web",
    "/time(out|d)/",
    "http.status:500",
    "order.id:42",
    "trace_id:5b8efff798038103d269b633813fc60c",
    "level:error | stats count() by service",
    "* | stats count() by level",
]

schemathesis.openapi.format("log-query", st.sampled_from(LOG_QUERIES))

# Valid queries of each source of POST /api/v1/query.
SERIES_QUERIES = {
    "logs": LOG_QUERIES + ["| stats count() by level every 1m", "error | stats count(), p95(duration_ms)"],
    "errors": ["", "count", "count by level", "by issue level:error", "count by release environment:production"],
    "metrics": PROMQL,
    "performance": [
        "",
        "p95",
        "count, p50, p99 by transaction",
        'failure_rate transaction:"GET /checkout"',
        "apdex, throughput by op",
    ],
}
