#!/usr/bin/env bash
# Schemathesis against the OpenAPI document (GET /api/v1/openapi.json) of a real
# `sightline serve`: every operation is called with generated valid and invalid
# input, and each answer must match the document (status codes, schemas,
# content types), refuse what the schema forbids, accept what it allows, and
# never be a 5xx. Exits non-zero on any failure or error.
#
# Needs DATABASE_URL (a PostgreSQL server where it may create a database; the
# test one of tests/pg.sh), tests/python/.venv (`make deps-test`) and curl.
#   SIGHTLINE_BIN           the binary under test (default target/debug/sightline)
#   SCHEMATHESIS_EXAMPLES   test cases per operation (default 50, ~1 minute)
#   SCHEMATHESIS_SEED       the generator's seed; fixed by default, so that `make
#                           test` gives the same verdict for the same code (a new
#                           seed's finding would otherwise turn an unrelated
#                           change's CI red). `random` explores: run it that way
#                           when changing the API, and fix what it finds.
# Arguments are passed on to `schemathesis run`.
# Reports, the server's log and Schemathesis' replay cache go to
# tests/schemathesis/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

bin=$(realpath "${SIGHTLINE_BIN:-target/debug/sightline}")
examples=${SCHEMATHESIS_EXAMPLES:-50}
seed=${SCHEMATHESIS_SEED:-168212724976040731968378808103263312021}
schemathesis=$root/tests/python/.venv/bin/schemathesis
artifacts=$root/tests/schemathesis/artifacts
database=sightline_schemathesis
: "${DATABASE_URL:?DATABASE_URL must point at the test PostgreSQL (tests/pg.sh)}"
test -x "$bin" || { echo "no executable sightline at $bin" >&2; exit 1; }
test -x "$schemathesis" || { echo "$schemathesis missing: run make deps-test" >&2; exit 1; }

mkdir -p "$artifacts"
rm -f "$artifacts"/junit.xml "$artifacts"/events.ndjson "$artifacts"/server.log
log=$artifacts/server.log
work=$(mktemp -d)
server_pid=
schemathesis_pid=

cleanup() {
  if [ -n "$schemathesis_pid" ]; then
    kill "$schemathesis_pid" 2>/dev/null || true
    wait "$schemathesis_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  psql "$DATABASE_URL" -q -c "drop database if exists $database with (force)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'echo "tests/schemathesis/run.sh: failed at line $LINENO (server log: $log)" >&2' ERR

# A database of its own on the test PostgreSQL, recreated each run.
export PGOPTIONS='-c client_min_messages=warning'
psql "$DATABASE_URL" -q -v ON_ERROR_STOP=1 \
  -c "drop database if exists $database with (force)" -c "create database $database"
db_url=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' \
  "$DATABASE_URL" "$database")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

export SIGHTLINE_DATABASE_URL=$db_url SIGHTLINE_LISTEN=127.0.0.1:$port SIGHTLINE_PUBLIC_URL=$base \
  SIGHTLINE_LOG_FORMAT=json LEPTOS_SITE_ROOT=$root/target/site
"$bin" serve >"$log" 2>&1 &
server_pid=$!

deadline=$(( $(date +%s) + 60 ))
until [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ]; do
  if ! kill -0 "$server_pid" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
    echo "sightline exited, or was not ready at $base within 60 s; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sleep 0.2
done

# --- fixtures -----------------------------------------------------------------
# Without real ids nearly every /projects/{project}/..., /issues/{issue_id},
# /events/{event_id} and /traces/{trace_id} call is a 404 and the handlers behind
# it are never reached, so the path parameters are pinned to the data made here.

json() { # json FIELD-EXPRESSION < document, e.g. json '["issues"][0]["issue_id"]'
  python3 -c "import json, sys; print(json.load(sys.stdin)$1)"
}
api() { # api METHOD PATH [curl arguments]: the admin API; fails on a non-2xx answer
  local method=$1 path=$2
  shift 2
  curl -sS --fail-with-body -X "$method" -H "Authorization: Bearer $admin_token" "$@" "$base$path"
}

admin_token=$("$bin" token create --name schemathesis --role admin --json | json '["token"]')
demo=$("$bin" project create --slug demo --name Demo --json)
project_id=$(json '["project_id"]' <<<"$demo")
ingest_key=$(json '["ingest_key"]' <<<"$demo")
# PATCH /projects/{project} may change the slug: it gets a project of its own,
# addressed by id, so that renaming it breaks neither the pinned "demo" nor itself.
scratch_id=$("$bin" project create --slug scratch --name Scratch --json | json '["project_id"]')
# A user for update_user to change (delete_user is excluded below: it would remove it).
user_id=$("$bin" user create --email schemathesis@example.com --role viewer --json | json '["user_id"]')
# Spare keys for revoke_key and rotate_key, which would otherwise revoke the key
# that ingest_logs authenticates with. Revoking is idempotent (204 each time);
# rotating revokes the key, so hooks.py moves each rotation of the pinned key on
# to the newest key of the same label.
rotated_key_label="schemathesis rotate"
revoked_key_id=$(api POST /api/v1/projects/demo/keys -H 'Content-Type: application/json' \
  -d '{"label":"schemathesis revoke"}' | json '["key_id"]')
rotated_key_id=$(api POST /api/v1/projects/demo/keys -H 'Content-Type: application/json' \
  -d "{\"label\":\"$rotated_key_label\"}" | json '["key_id"]')

event_id=5c4e0f6d8a2b4c1e9f3a7b6d2e1c0a98
trace_id=0af7651916cd43dd8448eb211c80319c
now=$(date +%s)

curl -sS --fail-with-body -o /dev/null -X POST "$base/api/v1/ingest/logs" \
  -H "Authorization: Bearer $ingest_key" -H 'Content-Type: application/json' \
  -d '[{"message":"schemathesis fixture one","level":"info","service":"api"},
       {"message":"schemathesis fixture two","level":"error","service":"api"}]'
curl -sS --fail-with-body -o /dev/null -X POST "$base/api/$project_id/store/?sentry_key=$ingest_key" \
  -H 'Content-Type: application/json' -d @- <<EOF
{"event_id":"$event_id","timestamp":$now,"platform":"python","level":"error",
 "release":"app@1.0.0","environment":"production",
 "exception":{"values":[{"type":"ValueError","value":"schemathesis fixture"}]}}
EOF
curl -sS --fail-with-body -o /dev/null -X POST "$base/api/$project_id/envelope/?sentry_key=$ingest_key" \
  --data-binary @- <<EOF
{"event_id":"6d5f1e7c9b3a4d2f8e4b8c7e3f2d1b09"}
{"type":"transaction"}
{"event_id":"6d5f1e7c9b3a4d2f8e4b8c7e3f2d1b09","type":"transaction","transaction":"GET /checkout","start_timestamp":$((now - 2)),"timestamp":$((now - 1)),"release":"app@1.0.0","environment":"production","contexts":{"trace":{"trace_id":"$trace_id","span_id":"b7ad6b7169203331","op":"http.server","status":"ok"}},"spans":[{"trace_id":"$trace_id","span_id":"c7ad6b7169203332","parent_span_id":"b7ad6b7169203331","op":"db","description":"select 1","start_timestamp":$((now - 2)).1,"timestamp":$((now - 2)).2}]}
EOF

# Ingestion is queued: wait until the event and the trace can be read.
deadline=$(( $(date +%s) + 30 ))
until api GET "/api/v1/events/$event_id" -o /dev/null 2>/dev/null &&
      api GET "/api/v1/projects/demo/traces/$trace_id" -o /dev/null 2>/dev/null; do
  if [ "$(date +%s)" -ge "$deadline" ]; then
    echo "the fixture event $event_id or trace $trace_id was not stored within 30 s; server log:" >&2
    tail -n 50 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
issue_id=$(api GET /api/v1/projects/demo/issues | json '["issues"][0]["issue_id"]')
log_line=$(api GET /api/v1/projects/demo/logs/search)
log_id=$(json '["rows"][0]["id"]' <<<"$log_line")
log_ts=$(json '["rows"][0]["ts"]' <<<"$log_line")

config=$work/schemathesis.toml
cat >"$config" <<EOF
# Written by tests/schemathesis/run.sh for one run.
hooks = "$root/tests/schemathesis/hooks.py"

[headers]
Authorization = "Bearer $admin_token"

# Path parameters pinned to the fixtures (every operation that has them).
[parameters]
"path.project" = "demo"
"path.issue_id" = $issue_id
"path.event_id" = "$event_id"
"path.trace_id" = "$trace_id"
"path.key_id" = $revoked_key_id
"path.user_id" = $user_id

# Harness mistakes fail the run instead of passing quietly: an operation that
# only ever answered 401/403 (missing_auth) or mostly 404 (missing_test_data, a
# pinned id that does not exist), or a filter matching no operation (a renamed
# operationId, which would e.g. let delete_project run).
[warnings]
fail-on = ["missing_auth", "missing_test_data", "unmatched_filter"]

# Log ingestion authenticates with the project's ingest key, not an API token.
[[operations]]
include-operation-id = "ingest_logs"
headers = { Authorization = "Bearer $ingest_key" }

# Metrics ingestion authenticates with the project's ingest key too.
[[operations]]
include-operation-id = "ingest_metrics"
headers = { Authorization = "Bearer $ingest_key" }

# It may change the slug: pinned to the scratch project, by id (see above).
[[operations]]
include-operation-id = "update_project"
parameters = { "path.project" = "$scratch_id" }

# The context of a log line needs a line that exists: its id and timestamp.
[[operations]]
include-operation-id = "context"
parameters = { "query.id" = $log_id, "query.ts" = "$log_ts" }

# An endless Server-Sent Events stream, which Schemathesis reads until the request
# timeout (10 s by default) on each accepted call: 1 s and fewer cases suffice.
[[operations]]
include-operation-id = "tail"
request-timeout = 1
generation = { max-examples = 10 }

# Its own spare key; hooks.py follows the key through its rotations.
[[operations]]
include-operation-id = "rotate_key"
parameters = { "path.key_id" = $rotated_key_id }
EOF

args=(
  --config-file "$config"
  run "$base/api/v1/openapi.json"
  --checks all
  --max-examples "$examples"
  # delete_project would delete the pinned "demo" project, after which every
  # other /projects/{project}/... operation only finds 404s.
  --exclude-operation-id delete_project
  # revoke_token would revoke the API token this run authenticates with.
  --exclude-operation-id revoke_token
  # delete_user would remove the fixture user update_user changes, after which
  # update_user only finds 404s.
  --exclude-operation-id delete_user
  # delete_target removes a target once; every later call would be a 404
  # (missing_test_data). The integration tests delete targets.
  --exclude-operation-id delete_target
  # NUL in strings is refused with 400 on purpose, at the edge (PostgreSQL cannot
  # store it in text), although JSON Schema "string" allows it.
  --generation-allow-x00 false
  --report junit,ndjson
  --report-junit-path "$artifacts/junit.xml"
  --report-ndjson-path "$artifacts/events.ndjson"
  --no-color
)
if [ "$seed" != random ]; then
  args+=(--seed "$seed")
fi
args+=("$@") # e.g. --include-path-regex /logs/
echo "schemathesis: $examples examples per operation against $bin"
# Run from the artifacts directory: Schemathesis keeps its example database and
# replay cache (`st replay <id>`) in the working directory.
# In the background, so that a signal to this script is handled at once (cleanup
# stops it too) rather than after Schemathesis ends.
(cd "$artifacts" &&
  SIGHTLINE_ST_BASE_URL=$base SIGHTLINE_ST_ADMIN_TOKEN=$admin_token \
  SIGHTLINE_ST_ROTATED_KEY_ID=$rotated_key_id SIGHTLINE_ST_ROTATED_KEY_LABEL=$rotated_key_label \
  exec "$schemathesis" "${args[@]}") &
schemathesis_pid=$!
status=0
wait "$schemathesis_pid" || status=$?
schemathesis_pid=
if [ "$status" -ne 0 ]; then
  echo "schemathesis failed (exit $status); reports and the server log in $artifacts" >&2
fi
exit "$status"
