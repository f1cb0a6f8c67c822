-- Metrics: series (a metric name and its labels, per project), the label pairs
-- they are made of (the inverted index label matchers read), the HELP/TYPE/UNIT
-- clients send, and the samples, one narrow row each while their hour is hot.

-- Every label pair seen in a project, `__name__` included. Listings of label
-- names and values read this small table, never the series; a matcher is
-- turned into the ids of the pairs it accepts (regular expressions are applied
-- in Rust, with Prometheus's RE2 syntax, to the values of one name).
create table metric_label (
    label_id   integer generated always as identity primary key,
    project_id bigint not null references project (project_id) on delete cascade,
    name       text   not null,
    value      text   not null,
    constraint metric_label_key unique (project_id, name, value)
);

-- One row a series. `labels_hash` (16 bytes of the SHA-256 of the metric name
-- and the sorted pairs) identifies it; `label_ids` holds the ids of its pairs,
-- sorted, for the GIN index that answers matchers. `first_seen`/`last_seen`
-- bound its samples (last_seen to the hour), so a query skips series that
-- were not alive in its range.
create table metric_series (
    series_id   bigint generated always as identity primary key,
    project_id  bigint      not null references project (project_id) on delete cascade,
    metric      text        not null,
    labels      jsonb       not null,
    label_ids   integer[]   not null,
    labels_hash bytea       not null,
    first_seen  timestamptz not null,
    last_seen   timestamptz not null,
    constraint metric_series_key unique (project_id, labels_hash)
);
create index metric_series_metric_idx on metric_series (project_id, metric);
create index metric_series_label_ids_idx on metric_series using gin (label_ids);

-- HELP, TYPE and UNIT of a metric family, as remote_write (field 3), OTLP and
-- scrapes send them; for the explorer and `/api/v1/metadata`.
create table metric_metadata (
    project_id bigint      not null references project (project_id) on delete cascade,
    metric     text        not null,
    type       text        not null,
    help       text        not null default '',
    unit       text        not null default '',
    updated_at timestamptz not null default now(),
    constraint metric_metadata_pkey primary key (project_id, metric)
);

-- Samples, hour partitions kept by the server's partition upkeep. No unique
-- key: a sample sent twice is written twice and read once (the first wins), so
-- that ingest is a plain COPY. A stale marker is the NaN whose bits are
-- 0x7ff0000000000002, written with binary COPY so its bits survive.
create table metric_sample (
    series_id bigint      not null,
    ts        timestamptz not null,
    value     float8      not null
) partition by range (ts);
create table metric_sample_default partition of metric_sample default;
create index metric_sample_series_ts_idx on metric_sample (series_id, ts);
