-- Rollups of compacted metric samples, for ranges longer than raw retention
-- and for panels whose step is a multiple of a minute or an hour. Each bucket
-- summarises its samples (count, first, last and previous sample, sum, min,
-- max, counter resets and what they lost, changes, stale markers): enough for
-- `rate`, `increase`, `*_over_time` and friends to give the raw answer (see
-- server/src/metrics/rollup.rs and promql/summary.rs).
--
-- Packed like chunks: one row per series and period, its buckets in XOR
-- columns, because a row per bucket would cost more in tuple and index
-- overhead than the samples it summarises. Timestamps inside `data` are
-- relative to `ts`.

-- 60 one-minute buckets of one hour; `ts` is the hour.
create table metric_rollup_1m (
    series_id bigint      not null,
    ts        timestamptz not null,
    data      bytea       not null,
    constraint metric_rollup_1m_pkey primary key (series_id, ts)
) partition by range (ts);
alter table metric_rollup_1m alter column data set storage external;
create table metric_rollup_1m_default partition of metric_rollup_1m default;

-- 24 one-hour buckets of one day; `ts` is the day (UTC).
create table metric_rollup_1h (
    series_id bigint      not null,
    ts        timestamptz not null,
    data      bytea       not null,
    constraint metric_rollup_1h_pkey primary key (series_id, ts)
) partition by range (ts);
alter table metric_rollup_1h alter column data set storage external;
create table metric_rollup_1h_default partition of metric_rollup_1h default;
