-- Errors: events from Sentry SDKs grouped into issues, releases, and release
-- health (sessions). Also the per-key rate limit Sentry clients are told about,
-- and the project's Apdex threshold for the performance pages.

alter table project_key add column rate_limit_per_minute integer;
alter table project_key add constraint project_key_rate_limit_check
    check (rate_limit_per_minute is null or rate_limit_per_minute > 0);

alter table project add column apdex_threshold_ms integer not null default 500;
alter table project add constraint project_apdex_threshold_check
    check (apdex_threshold_ms between 1 and 600000);

-- A release as first seen in an event or session; "resolved in next release"
-- compares releases by when each was first seen.
create table release (
    project_id bigint      not null references project (project_id) on delete cascade,
    version    text        not null,
    first_seen timestamptz not null,
    last_seen  timestamptz not null,
    constraint release_pkey primary key (project_id, version)
);

-- One issue per project and fingerprint hash.
create table issue (
    issue_id            bigint generated always as identity primary key,
    project_id          bigint      not null references project (project_id) on delete cascade,
    grouping_hash       text        not null,
    title               text        not null,
    culprit             text        not null default '',
    level               text        not null,
    platform            text        not null default 'other',
    status              text        not null default 'unresolved',
    first_seen          timestamptz not null,
    last_seen           timestamptz not null,
    event_count         bigint      not null default 0,
    first_release       text,
    last_release        text,
    -- "Resolve in next release": a later event reopens the issue only when its
    -- release was first seen after this one.
    resolved_in_release text,
    resolved_at         timestamptz,
    -- Ignored until a time, or until event_count reaches this many.
    ignore_until        timestamptz,
    ignore_until_count  bigint,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),
    constraint issue_project_hash_key unique (project_id, grouping_hash),
    constraint issue_status_check check (status in ('unresolved', 'resolved', 'ignored'))
);
create index issue_project_last_seen_idx on issue (project_id, last_seen desc);

-- What happened to an issue: first seen, regressions, status changes (by whom).
create table issue_activity (
    issue_activity_id bigint generated always as identity primary key,
    issue_id          bigint      not null references issue (issue_id) on delete cascade,
    kind              text        not null,
    detail            jsonb       not null default '{}',
    user_id           bigint      references app_user (user_id) on delete set null,
    created_at        timestamptz not null default now(),
    constraint issue_activity_kind_check check (kind in
        ('first_seen', 'regression', 'resolved', 'resolved_in_release', 'ignored', 'unresolved', 'unignored'))
);
create index issue_activity_issue_idx on issue_activity (issue_id, created_at);

-- Every stored occurrence, range-partitioned by day like log_entry (partitions
-- made ahead by the partition upkeep, retention drops them whole).
create table error_event (
    project_id  bigint      not null,
    ts          timestamptz not null,
    event_id    uuid        not null,
    issue_id    bigint      not null,
    received_at timestamptz not null default now(),
    level       text        not null,
    release     text,
    environment text,
    transaction text,
    trace_id    text,
    user_key    text,
    -- Tags as one JSON object (key -> value), for filters and top values.
    tags        jsonb       not null default '{}',
    -- The event as normalised, for the event page. lz4 compresses the 2-10 KB
    -- payloads several times faster than the default pglz (measured).
    payload     jsonb       compression lz4 not null
) partition by range (ts);
create table error_event_default partition of error_event default;
create index error_event_issue_ts_idx on error_event (issue_id, ts desc, event_id);
create index error_event_project_ts_idx on error_event (project_id, ts desc);
create index error_event_event_id_idx on error_event (event_id);
create index error_event_trace_id_idx on error_event (trace_id) where trace_id is not null;

-- Event ids already stored, so a retried event is stored once (a unique index on
-- the partitioned table would have to include ts). Pruned with retention.
create table error_event_seen (
    project_id bigint      not null,
    event_id   uuid        not null,
    ts         timestamptz not null,
    constraint error_event_seen_pkey primary key (project_id, event_id)
);
create index error_event_seen_ts_idx on error_event_seen (ts);

-- Events per issue and hour: sparklines and counts over long ranges without
-- reading the events.
create table issue_hour (
    issue_id bigint      not null references issue (issue_id) on delete cascade,
    hour     timestamptz not null,
    events   bigint      not null,
    constraint issue_hour_pkey primary key (issue_id, hour)
);

-- Release health: session counts per release, environment and hour, and the
-- distinct users (devices) seen per release with whether any of their sessions crashed.
create table release_session_hour (
    project_id  bigint      not null references project (project_id) on delete cascade,
    release     text        not null,
    environment text        not null,
    hour        timestamptz not null,
    started     bigint      not null default 0,
    exited      bigint      not null default 0,
    errored     bigint      not null default 0,
    abnormal    bigint      not null default 0,
    crashed     bigint      not null default 0,
    constraint release_session_hour_pkey primary key (project_id, release, environment, hour)
);

create table release_user (
    project_id  bigint      not null references project (project_id) on delete cascade,
    release     text        not null,
    environment text        not null,
    distinct_id text        not null,
    crashed     boolean     not null default false,
    first_seen  timestamptz not null,
    last_seen   timestamptz not null,
    constraint release_user_pkey primary key (project_id, release, environment, distinct_id)
);

-- Search indexes for closed partitions are built by the partition upkeep (trigram
-- GIN on log messages); the default partition, which only catches far past or
-- future lines, carries it from the start.
create index log_entry_default_message_trgm on log_entry_default using gin (message gin_trgm_ops);
