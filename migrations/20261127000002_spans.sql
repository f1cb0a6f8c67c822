-- Performance: spans from Sentry transactions and OpenTelemetry traces, one row a
-- span, range-partitioned by day on the span's start like error_event (partitions
-- made ahead by the partition upkeep, retention drops them whole).
--
-- A segment is a transaction (Sentry) or a service's local root span
-- (OpenTelemetry): one unit of work of one endpoint. Every span carries the span
-- id and name of its segment, so the transactions table reads segments only and a
-- trace reads every span.

create table span (
    project_id     bigint           not null,
    -- When the span started.
    ts             timestamptz      not null,
    received_at    timestamptz      not null default now(),
    trace_id       text             not null,
    span_id        text             not null,
    parent_span_id text,
    -- The span id of the segment this span belongs to (its own for a segment);
    -- null when the segment was not known when the span arrived.
    segment_id     text,
    is_segment     boolean          not null,
    -- The segment's name (e.g. `GET /users/{id}`), on every span of it.
    transaction    text             not null default '',
    op             text             not null default '',
    -- The span's description.
    name           text             not null default '',
    -- A Sentry span status.
    status         text             not null,
    duration_ms    double precision not null,
    service        text             not null default '',
    environment    text             not null default '',
    release        text             not null default '',
    http_status    integer,
    tags           jsonb            not null default '{}',
    -- Every other attribute of the span.
    data           jsonb            not null default '{}',
    constraint span_duration_check check (duration_ms >= 0),
    constraint span_status_check check (status in
        ('ok', 'cancelled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found',
         'already_exists', 'permission_denied', 'resource_exhausted', 'failed_precondition',
         'aborted', 'out_of_range', 'unimplemented', 'internal_error', 'unavailable',
         'data_loss', 'unauthenticated'))
) partition by range (ts);
create table span_default partition of span default;

-- The transactions table: segments of a project in a time range, aggregated by
-- name. The included columns are all it reads, so an index-only scan serves it.
create index span_segment_project_ts_idx on span (project_id, ts)
    include (transaction, duration_ms, status, environment) where is_segment;
-- One transaction's series and its slowest segments.
create index span_segment_transaction_idx on span (project_id, transaction, ts)
    where is_segment;
-- Every span of a trace (the waterfall).
create index span_trace_id_idx on span (trace_id);
