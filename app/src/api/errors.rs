//! Wire types of the errors endpoints: issues, their events, triage, and release
//! health.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An issue's triage state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IssueStatus {
    Unresolved,
    Resolved,
    Ignored,
}

impl IssueStatus {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            IssueStatus::Unresolved => "unresolved",
            IssueStatus::Resolved => "resolved",
            IssueStatus::Ignored => "ignored",
        }
    }

    /// Parses the API name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "unresolved" => Some(IssueStatus::Unresolved),
            "resolved" => Some(IssueStatus::Resolved),
            "ignored" => Some(IssueStatus::Ignored),
            _ => None,
        }
    }
}

/// One row of `GET /api/v1/projects/{project}/issues`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueSummary {
    pub issue_id: i64,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub platform: String,
    pub status: IssueStatus,
    /// Events within the requested time range.
    pub count: i64,
    /// Distinct users affected within the requested time range.
    pub user_count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Events per bucket across the requested range (oldest first), for a sparkline.
    pub sparkline: Vec<i64>,
}

/// `GET /api/v1/projects/{project}/issues`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueList {
    pub issues: Vec<IssueSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A value of a tag and how many of the sampled events carry it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TagValue {
    pub value: String,
    pub count: i64,
}

/// A tag's most frequent values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TagSummary {
    pub key: String,
    /// Events sampled that carry this tag.
    pub total: i64,
    pub top: Vec<TagValue>,
}

/// Events in one bucket of time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventBucket {
    pub ts: DateTime<Utc>,
    pub events: i64,
}

/// Something that happened to an issue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueActivity {
    /// `first_seen`, `regression`, `resolved`, `resolved_in_release`, `ignored`,
    /// `unresolved` or `unignored`.
    pub kind: String,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub detail: Value,
    /// E-mail of the user who did it, when a person did.
    pub user: Option<String>,
    pub at: DateTime<Utc>,
}

/// `GET /api/v1/issues/{issue_id}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IssueDetail {
    pub issue_id: i64,
    pub project_id: i64,
    pub project_slug: String,
    pub title: String,
    pub culprit: String,
    pub level: String,
    pub platform: String,
    pub status: IssueStatus,
    /// Events ever (also those past retention).
    pub count: i64,
    /// Distinct users among the stored events.
    pub user_count: i64,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    pub first_release: Option<String>,
    pub last_release: Option<String>,
    pub resolved_in_release: Option<String>,
    pub ignore_until: Option<DateTime<Utc>>,
    pub ignore_until_count: Option<i64>,
    /// Events per hour over the requested range (default the last 24 h).
    pub series: Vec<EventBucket>,
    /// Top values of each tag over the latest events.
    pub tags: Vec<TagSummary>,
    pub activity: Vec<IssueActivity>,
    /// The newest stored event, to show first.
    pub latest_event_id: Option<String>,
}

/// `PATCH /api/v1/issues/{issue_id}` (and the bulk form for a project).
/// `status` is required; `resolved_in_release` goes only with `resolved`, the
/// `ignore_*` fields only with `ignored` (the schema says so, [`issue_update_schema`]).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct IssueUpdate {
    pub status: Option<IssueStatus>,
    /// With `status: resolved`: `"next"` resolves in the next release (a later
    /// event reopens the issue only when it comes from a newer release), or a
    /// release version.
    pub resolved_in_release: Option<String>,
    /// With `status: ignored`: ignore until this time.
    pub ignore_until: Option<DateTime<Utc>>,
    /// With `status: ignored`: ignore until this many more events arrive.
    pub ignore_count: Option<i64>,
}

/// `PATCH /api/v1/projects/{project}/issues`: the same change for many issues.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct BulkIssueUpdate {
    pub issue_ids: Vec<i64>,
    #[serde(flatten)]
    pub update: IssueUpdate,
}

/// RFC 3339 with calendar days only (29 February aside), as a pattern for the
/// OpenAPI document: documentation tools and test generators read `format:
/// date-time` as a hint, a pattern they obey.
pub const RFC3339_PATTERN: &str = r"^[0-9]{4}-(((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01]))|((0[469]|11)-(0[1-9]|[12][0-9]|30))|(02-(0[1-9]|1[0-9]|2[0-8])))T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$";

/// The schema of an [`IssueUpdate`] (with `issue_ids` for the bulk form): one
/// of three shapes by `status`, since which other fields may be given depends
/// on it. A field that does not belong to the status may only be null.
#[cfg(feature = "ssr")]
pub fn issue_update_schema(bulk: bool) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::schema::SchemaType;
    use utoipa::openapi::schema::{
        ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, Type,
    };
    let null = || ObjectBuilder::new().schema_type(Type::Null);
    let nullable = |t: Type| SchemaType::from_iter([t, Type::Null]);
    let shape = |status: &str| {
        let mut object = ObjectBuilder::new()
            .property(
                "status",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some([status])),
            )
            .required("status");
        let resolved_in_release = if status == "resolved" {
            ObjectBuilder::new()
                .schema_type(nullable(Type::String))
                .min_length(Some(1))
                .max_length(Some(200))
                .pattern(Some(r"[^\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"))
                .description(Some("`next`, or the release version that fixes it"))
        } else {
            null()
        };
        let (until, count) = if status == "ignored" {
            (
                ObjectBuilder::new()
                    .schema_type(nullable(Type::String))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
                    // Tools read the format as a hint; the pattern they obey.
                    .pattern(Some(RFC3339_PATTERN)),
                ObjectBuilder::new()
                    .schema_type(nullable(Type::Integer))
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1)),
            )
        } else {
            (null(), null())
        };
        object = object
            .property("resolved_in_release", resolved_in_release)
            .property("ignore_until", until)
            .property("ignore_count", count);
        if bulk {
            object = object
                .property(
                    "issue_ids",
                    ArrayBuilder::new().items(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64))),
                    ),
                )
                .required("issue_ids");
        }
        object
    };
    OneOfBuilder::new()
        .item(shape("unresolved"))
        .item(shape("resolved"))
        .item(shape("ignored"))
        .into()
}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for IssueUpdate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        issue_update_schema(false)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for IssueUpdate {}

#[cfg(feature = "ssr")]
impl utoipa::PartialSchema for BulkIssueUpdate {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        issue_update_schema(true)
    }
}

#[cfg(feature = "ssr")]
impl utoipa::ToSchema for BulkIssueUpdate {}

/// Answer of the bulk update.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BulkIssueResult {
    pub updated: i64,
}

/// One row of `GET /api/v1/issues/{issue_id}/events`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventSummary {
    pub event_id: String,
    pub ts: DateTime<Utc>,
    pub level: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub transaction: Option<String>,
    pub trace_id: Option<String>,
    pub user: Option<String>,
    pub message: String,
}

/// `GET /api/v1/issues/{issue_id}/events`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventList {
    /// Newest first.
    pub events: Vec<EventSummary>,
    pub next_cursor: Option<String>,
}

/// `GET /api/v1/events/{event_id}`: one event in full, with its neighbours in
/// its issue for oldest / previous / next / latest navigation.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EventDetail {
    pub event_id: String,
    pub issue_id: i64,
    pub project_id: i64,
    pub ts: DateTime<Utc>,
    pub level: String,
    pub release: Option<String>,
    pub environment: Option<String>,
    pub transaction: Option<String>,
    pub trace_id: Option<String>,
    pub user: Option<String>,
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub tags: Value,
    /// The event as the SDK sent it (normalised): exception, breadcrumbs,
    /// contexts, request, user, extra...
    #[cfg_attr(feature = "ssr", schema(value_type = Object))]
    pub payload: Value,
    pub oldest_event_id: Option<String>,
    pub previous_event_id: Option<String>,
    pub next_event_id: Option<String>,
    pub latest_event_id: Option<String>,
}

/// Release health of one release.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseHealth {
    pub version: String,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Sessions started within the range.
    pub sessions: i64,
    pub crashed_sessions: i64,
    pub errored_sessions: i64,
    /// Share of sessions that did not crash (0–1); absent without sessions.
    pub crash_free_sessions: Option<f64>,
    /// Distinct users (or devices) with sessions in this release.
    pub users: i64,
    pub crashed_users: i64,
    /// Share of users none of whose sessions crashed (0–1).
    pub crash_free_users: Option<f64>,
    /// Issues first seen in this release.
    pub new_issues: i64,
}

/// `GET /api/v1/projects/{project}/releases`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseList {
    /// Newest first.
    pub releases: Vec<ReleaseHealth>,
}
