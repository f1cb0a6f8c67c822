-- Logs: one row a log line, range-partitioned by day on its timestamp.
--
-- Day partitions (log_entry_pYYYYMMDD) are created ahead of time by the server's
-- partition upkeep; rows outside every day partition (far past or future) land
-- in log_entry_default. Retention drops whole day partitions.

create extension if not exists pg_trgm;

-- Each nextval reserves a block of 2^20 ids: the batch writer numbers a batch's
-- rows block + 0, block + 1, ... so one call covers a whole batch, and the id range
-- of a committed batch is known (live tail fetches exactly that range).
create sequence log_entry_log_id_seq as bigint increment by 1048576;

create table log_entry (
    project_id  bigint      not null,
    ts          timestamptz not null,
    -- Unique with ts; breaks ties in keyset pagination.
    log_id      bigint      not null default nextval('log_entry_log_id_seq'),
    received_at timestamptz not null default now(),
    -- 1 trace, 2 debug, 3 info, 4 warn, 5 error, 6 fatal: ordered, so `level:>=warn` is a range.
    level       smallint    not null,
    service     text        not null default '',
    host        text        not null default '',
    message     text        not null default '',
    trace_id    text,
    span_id     text,
    attributes  jsonb       not null default '{}',
    constraint log_entry_level_check check (level between 1 and 6)
) partition by range (ts);

alter sequence log_entry_log_id_seq owned by log_entry.log_id;

create table log_entry_default partition of log_entry default;

-- Indexes are chosen by measurement (`sightline bench`, README): every index
-- costs ingest throughput. Newest-first listing, keyset pagination and every
-- first page of a search walk this one; counts by level and service read
-- log_count_minute below instead of the lines.
create index log_entry_project_ts_idx on log_entry (project_id, ts desc, log_id desc);
-- "The logs of this trace" (errors and traces link here).
create index log_entry_trace_id_idx on log_entry (trace_id) where trace_id is not null;

-- Lines per minute, project, level and service, kept by the batch writer in the
-- same transaction as the lines. Counts and histograms whose filter only involves
-- level and service read these instead of scanning millions of lines.
create table log_count_minute (
    project_id bigint      not null,
    minute     timestamptz not null,
    level      smallint    not null,
    service    text        not null,
    lines      bigint      not null,
    constraint log_count_minute_pkey primary key (project_id, minute, level, service)
);
