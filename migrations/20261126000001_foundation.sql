-- Foundation: people, sessions, API tokens, projects and their ingest keys.

create table app_user (
    user_id       bigint generated always as identity primary key,
    email         text not null,
    password_hash text not null,
    role          text not null,
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint app_user_role_check check (role in ('admin', 'editor', 'viewer')),
    constraint app_user_email_check check (length(email) between 3 and 254)
);
create unique index app_user_email_key on app_user (lower(email));

-- A browser session. The cookie holds a random secret; only its SHA-256 is stored.
create table session (
    session_hash text primary key,
    user_id      bigint not null references app_user (user_id) on delete cascade,
    csrf_token   text not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null
);
create index session_user_id_idx on session (user_id);
create index session_expires_at_idx on session (expires_at);

-- Failed logins, for rate limiting (pruned as they age out of the window).
create table login_failure (
    login_failure_id bigint generated always as identity primary key,
    email            text not null,
    client_ip        text,
    failed_at        timestamptz not null default now()
);
create index login_failure_email_idx on login_failure (lower(email), failed_at);
create index login_failure_ip_idx on login_failure (client_ip, failed_at);

-- API tokens authenticate scripts with a role. Only the SHA-256 of the secret is kept.
create table api_token (
    api_token_id bigint generated always as identity primary key,
    name         text not null,
    token_hash   text not null,
    role         text not null,
    created_by   bigint references app_user (user_id) on delete set null,
    created_at   timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at   timestamptz,
    constraint api_token_token_hash_key unique (token_hash),
    constraint api_token_role_check check (role in ('admin', 'editor', 'viewer')),
    constraint api_token_name_check check (length(name) between 1 and 100)
);

create table project (
    project_id bigint generated always as identity primary key,
    slug       text not null,
    name       text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint project_slug_key unique (slug),
    constraint project_slug_check check (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    constraint project_name_check check (length(name) between 1 and 100)
);

-- Ingest keys: the public key of the project's Sentry DSN, and the credential
-- every ingestion protocol accepts. Shown in the UI (as Sentry does), so kept as is.
create table project_key (
    project_key_id bigint generated always as identity primary key,
    project_id     bigint not null references project (project_id) on delete cascade,
    label          text not null default 'Default',
    public_key     text not null,
    created_at     timestamptz not null default now(),
    revoked_at     timestamptz,
    constraint project_key_public_key_key unique (public_key),
    constraint project_key_label_check check (length(label) between 1 and 100)
);
create index project_key_project_id_idx on project_key (project_id);
