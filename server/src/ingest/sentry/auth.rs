//! Where a Sentry SDK puts its key (the DSN's public key, which Sightline
//! treats as the project's ingest key): the `X-Sentry-Auth` header
//! (`Sentry sentry_key=<key>, sentry_version=7, sentry_client=sentry.rust/0.49.5`),
//! the same in `Authorization`, or the `sentry_key` query parameter that browser
//! SDKs use because they cannot send custom headers without a CORS preflight.
//! The DSN itself (`https://<key>@host/<project_id>`) also reaches the server, in
//! envelope headers of tunnelled browser traffic.

use axum::http::{header, HeaderMap};
use url::{form_urlencoded, Url};

/// The custom header of Sentry SDKs.
const SENTRY_AUTH: &str = "x-sentry-auth";

/// The request's `sentry_key`: from `X-Sentry-Auth`, else `Authorization:
/// Sentry ...`, else the `sentry_key` parameter of `query` (the URL's query
/// string, without `?`).
pub fn sentry_key(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    auth_field(headers, "sentry_key").or_else(|| {
        form_urlencoded::parse(query?.as_bytes())
            .find(|(name, _)| name == "sentry_key")
            .map(|(_, value)| value.trim().to_string())
            .filter(|value| !value.is_empty())
    })
}

/// The SDK's name and version (`sentry.python/2.40.0`), for metrics: the
/// `sentry_client` of the auth header, else a `User-Agent` that names a Sentry SDK.
pub fn client_name(headers: &HeaderMap) -> Option<String> {
    auth_field(headers, "sentry_client").or_else(|| {
        let agent = headers.get(header::USER_AGENT)?.to_str().ok()?.trim();
        agent
            .get(..7)
            .is_some_and(|p| p.eq_ignore_ascii_case("sentry."))
            .then(|| agent.to_string())
    })
}

/// The public key of a DSN (its user name).
pub fn key_from_dsn(dsn: &str) -> Option<String> {
    let url = Url::parse(dsn.trim()).ok()?;
    Some(url.username().to_string()).filter(|key| !key.is_empty())
}

/// The project id of a DSN (the last segment of its path).
pub fn project_from_dsn(dsn: &str) -> Option<String> {
    let url = Url::parse(dsn.trim()).ok()?;
    url.path_segments()?
        .rev()
        .find(|segment| !segment.is_empty())
        .map(str::to_string)
}

/// A field of the Sentry auth header: `X-Sentry-Auth` (where the `Sentry `
/// prefix is optional), else `Authorization` with the `Sentry` scheme.
fn auth_field(headers: &HeaderMap, name: &str) -> Option<String> {
    let from = |value: &str, prefix_required: bool| {
        let value = value.trim();
        let fields = match strip_scheme(value) {
            Some(fields) => fields,
            None if prefix_required => return None,
            None => value,
        };
        field(fields, name)
    };
    headers
        .get_all(SENTRY_AUTH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| from(v, false))
        .or_else(|| {
            headers
                .get_all(header::AUTHORIZATION)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .find_map(|v| from(v, true))
        })
}

/// `value` without its case-insensitive `Sentry` scheme, if it has one.
fn strip_scheme(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(char::is_whitespace)?;
    scheme.eq_ignore_ascii_case("sentry").then_some(rest)
}

/// The value of `name` in `a=1, b=2` (quotes around the value are dropped).
fn field(fields: &str, name: &str) -> Option<String> {
    fields.split(',').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        if key.trim() != name {
            return None;
        }
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        Some(value.to_string()).filter(|v| !v.is_empty())
    })
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn the_rust_and_python_sdks_auth_headers() {
        // sentry 0.49 (`Auth`'s Display) and sentry-sdk 2.x.
        let rust = headers(&[(
            "x-sentry-auth",
            "Sentry sentry_key=abc123, sentry_version=7, sentry_timestamp=1700000000, sentry_client=sentry.rust/0.49.5",
        )]);
        assert_eq!(sentry_key(&rust, None).as_deref(), Some("abc123"));
        assert_eq!(client_name(&rust).as_deref(), Some("sentry.rust/0.49.5"));
        let python = headers(&[(
            "X-Sentry-Auth",
            "Sentry sentry_key=def456, sentry_version=7, sentry_client=sentry.python/2.40.0",
        )]);
        assert_eq!(sentry_key(&python, None).as_deref(), Some("def456"));
        assert_eq!(
            client_name(&python).as_deref(),
            Some("sentry.python/2.40.0")
        );
    }

    #[test]
    fn other_spellings_of_the_header() {
        let no_prefix = headers(&[("x-sentry-auth", "sentry_version=7,sentry_key=k1")]);
        assert_eq!(sentry_key(&no_prefix, None).as_deref(), Some("k1"));
        let authorization = headers(&[(
            "authorization",
            "sentry sentry_key = \"k2\" , sentry_version=7",
        )]);
        assert_eq!(sentry_key(&authorization, None).as_deref(), Some("k2"));
        // Another scheme is not Sentry's, even if it looks alike.
        let bearer = headers(&[("authorization", "Bearer sentry_key=k3")]);
        assert_eq!(sentry_key(&bearer, None), None);
        let empty = headers(&[("x-sentry-auth", "Sentry sentry_key=, sentry_version=7")]);
        assert_eq!(sentry_key(&empty, None), None);
    }

    #[test]
    fn browser_sdks_use_the_query_string() {
        let query =
            "sentry_version=7&sentry_key=k%2B4&sentry_client=sentry.javascript.browser%2F8.0.0";
        assert_eq!(
            sentry_key(&HeaderMap::new(), Some(query)).as_deref(),
            Some("k+4")
        );
        assert_eq!(sentry_key(&HeaderMap::new(), Some("a=1")), None);
        assert_eq!(sentry_key(&HeaderMap::new(), None), None);
        // The header wins over the query.
        let header = headers(&[("x-sentry-auth", "Sentry sentry_key=from-header")]);
        assert_eq!(
            sentry_key(&header, Some(query)).as_deref(),
            Some("from-header")
        );
    }

    #[test]
    fn the_client_falls_back_to_a_sentry_user_agent() {
        let agent = headers(&[("user-agent", "sentry.python/2.40.0")]);
        assert_eq!(client_name(&agent).as_deref(), Some("sentry.python/2.40.0"));
        let browser = headers(&[("user-agent", "Mozilla/5.0")]);
        assert_eq!(client_name(&browser), None);
    }

    #[test]
    fn keys_and_projects_of_dsns() {
        let dsn = "https://e12d836b15bb49d7bbf99e64295d995b@o1.ingest.example.com/42";
        assert_eq!(
            key_from_dsn(dsn).as_deref(),
            Some("e12d836b15bb49d7bbf99e64295d995b")
        );
        assert_eq!(project_from_dsn(dsn).as_deref(), Some("42"));
        // The deprecated secret, a path prefix, a trailing slash.
        let old = "http://public:secret@localhost:8080/sentry/7/";
        assert_eq!(key_from_dsn(old).as_deref(), Some("public"));
        assert_eq!(project_from_dsn(old).as_deref(), Some("7"));
        assert_eq!(key_from_dsn("https://host/42"), None);
        assert_eq!(project_from_dsn("https://key@host/"), None);
        assert_eq!(key_from_dsn("not a dsn"), None);
    }
}
