-- Scrape targets: URLs Sightline pulls Prometheus metrics from, per project,
-- with the state of their last scrape. `next_scrape_at` is also the claim:
-- an instance takes due targets with `for update skip locked` and moves it
-- forward before scraping, so each scrape is done by exactly one instance.

create table scrape_target (
    target_id        bigint generated always as identity primary key,
    project_id       bigint      not null references project (project_id) on delete cascade,
    job              text        not null,
    url              text        not null,
    interval_seconds integer     not null,
    timeout_seconds  integer     not null,
    labels           jsonb       not null default '{}',
    -- {"basic": {"username", "password"}} or {"bearer": {"token"}}; never returned.
    auth             jsonb,
    tls_verify       boolean     not null default true,
    honor_labels     boolean     not null default false,
    created_at       timestamptz not null default now(),
    next_scrape_at   timestamptz not null default now(),
    last_scrape_at   timestamptz,
    last_duration_s  float8,
    last_samples     integer,
    last_error       text,
    health           text        not null default 'unknown',
    constraint scrape_target_interval_check check (interval_seconds between 1 and 3600),
    constraint scrape_target_timeout_check check (timeout_seconds between 1 and interval_seconds),
    constraint scrape_target_key unique (project_id, job, url)
);
create index scrape_target_due_idx on scrape_target (next_scrape_at);
