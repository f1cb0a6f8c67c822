-- Users as admins manage them: a display name, and deactivation (a
-- deactivated user cannot log in and their sessions end; their name stays on
-- what they did).
alter table app_user
    add column name   text    not null default '',
    add column active boolean not null default true,
    add constraint app_user_name_check check (length(name) <= 100);

-- The project each user last looked at: the UI opens it on their next visit
-- (from any browser). Deleting the project forgets it.
alter table app_user
    add column last_project_id bigint references project (project_id) on delete set null;
