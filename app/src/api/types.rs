//! Request and response bodies of `/api/v1`. Every field here is part of the public
//! API: change it only together with the OpenAPI document and the UI.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The one error shape of the API: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong, for programs (`code`) and for people (`message`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `unauthorized`, `forbidden`, `not_found`.
    pub code: String,
    /// A sentence saying what was wrong and, where possible, how to fix it.
    pub message: String,
}

/// What a user or API token may do. Ordered: a higher role can do everything a
/// lower one can.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also changes dashboards and alert rules.
    Editor,
    /// Also manages projects, keys, users and tokens.
    Admin,
}

impl Role {
    /// The lowercase name used on the wire, in the database and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }

    /// All roles, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Editor, Role::Admin];
}

impl std::str::FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "editor" => Ok(Role::Editor),
            "admin" => Ok(Role::Admin),
            other => Err(format!(
                "unknown role `{other}`: expected admin, editor or viewer"
            )),
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `POST /api/v1/auth/login` and `POST /api/v1/setup`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    /// An e-mail address (`name@domain`, at most 254 characters). The
    /// patterns of this API spell out the characters Unicode calls white
    /// space, which regular expression engines disagree on.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
            max_length = 254
        )
    )]
    pub email: String,
    /// 8 to 1024 characters.
    #[cfg_attr(feature = "ssr", schema(min_length = 8, max_length = 1024))]
    pub password: String,
}

/// `GET /api/v1/setup`: whether the one-time "create the first admin" page applies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SetupStatus {
    pub needs_setup: bool,
}

/// `GET /api/v1/me`: who is calling.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    /// The user, or `None` when the caller is an API token.
    pub user: Option<User>,
    /// The API token's name when the caller is a token.
    pub token_name: Option<String>,
    pub role: Role,
}

/// `GET /api/v1/me/project`: the project (slug) the UI opens when the URL names
/// none: the one this user last looked at, else the one with the newest data,
/// else the first by slug; `None` when there is no project.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DefaultProject {
    pub project: Option<String>,
}

/// `PUT /api/v1/me/project`: the project the user is looking at, remembered
/// as their default.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectChoice {
    /// Id or slug.
    pub project: String,
}

/// A person who can log in.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct User {
    pub user_id: i64,
    pub email: String,
    /// How others see them; may be empty.
    #[serde(default)]
    pub name: String,
    pub role: Role,
    /// A deactivated user cannot log in.
    #[serde(default = "yes")]
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

fn yes() -> bool {
    true
}

/// `PATCH /api/v1/users/{user_id}`: what changes (absent fields stay).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserPatch {
    /// At most 100 characters; empty clears it.
    #[cfg_attr(feature = "ssr", schema(max_length = 100))]
    pub name: Option<String>,
    pub role: Option<Role>,
    /// `false` deactivates the user (ending their sessions), `true` reactivates.
    pub active: Option<bool>,
}

/// `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewUser {
    /// An e-mail address (`name@domain`, at most 254 characters).
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[^@\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+@[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$",
            max_length = 254
        )
    )]
    pub email: String,
    pub role: Role,
    /// When absent, a password is generated and returned once; else 8 to 1024
    /// characters.
    #[cfg_attr(feature = "ssr", schema(min_length = 8, max_length = 1024))]
    pub password: Option<String>,
}

/// Answer to `POST /api/v1/users`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserCreated {
    pub user: User,
    /// The generated password, present only when none was given. Shown once.
    pub password: Option<String>,
}

/// A project groups everything one service or product sends.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Project {
    pub project_id: i64,
    /// URL-safe short name: lowercase letters, digits and `-`.
    pub slug: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

/// `POST /api/v1/projects`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewProject {
    /// 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[a-z0-9][a-z0-9-]{0,62}[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
        )
    )]
    pub slug: String,
    /// 1 to 100 characters, not all blank.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
            max_length = 100
        )
    )]
    pub name: String,
}

/// Answer to `POST /api/v1/projects`: the project and its first ingest key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectCreated {
    pub project: Project,
    pub key: ProjectKey,
}

/// `PATCH /api/v1/projects/{project}`: fields to change.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectPatch {
    /// 1 to 100 characters, not all blank.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
            max_length = 100
        )
    )]
    pub name: Option<String>,
    /// 1 to 63 lowercase letters, digits and `-`, starting with a letter or digit.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"^[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*[a-z0-9][a-z0-9-]{0,62}[\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$"
        )
    )]
    pub slug: Option<String>,
}

/// An ingest key: it authenticates ingestion into its own project only, and is the
/// public key of the project's Sentry DSN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProjectKey {
    pub key_id: i64,
    pub project_id: i64,
    pub label: String,
    /// The key itself (32 hex characters).
    pub public_key: String,
    /// The Sentry DSN built from the server's public URL.
    pub dsn: String,
    pub created_at: DateTime<Utc>,
    /// Set once the key is revoked; a revoked key authenticates nothing.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/projects/{project}/keys`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewKey {
    /// 1 to 100 characters, not all blank.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
            max_length = 100
        )
    )]
    pub label: Option<String>,
}

/// An API token (the secret itself is shown only once, at creation).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewToken {
    /// 1 to 100 characters, not all blank.
    #[cfg_attr(
        feature = "ssr",
        schema(
            pattern = r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]",
            max_length = 100
        )
    )]
    pub name: String,
    pub role: Role,
}

/// Answer to `POST /api/v1/tokens`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    /// The bearer secret. Shown once; only its hash is stored.
    pub token: String,
    pub api_token: ApiToken,
}

/// One line of a chart: points are `(unix milliseconds, value)`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Series {
    pub name: String,
    /// Unit of the values, shown on the y axis (e.g. `req/min`, `ms`).
    pub unit: String,
    pub points: Vec<(i64, f64)>,
}

/// `GET /api/v1/overview`: figures available now, for the Overview page.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Overview {
    pub projects: i64,
    pub users: i64,
    pub active_keys: i64,
    pub active_tokens: i64,
    /// HTTP requests served per minute by this instance, last 60 minutes.
    pub requests_per_minute: Series,
}
