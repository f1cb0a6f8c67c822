//! PostgreSQL cannot store the NUL character (U+0000) in `text` or `jsonb`: a
//! value holding one fails in SQL, which would be a 500 for a request that is
//! simply invalid. Every `/api/v1` input that can carry one (the URL path, the
//! query string, a JSON body) is checked here, at the edge, and refused with a
//! 400 that names the field. Ingestion does not come through here: it strips
//! NUL from records, so that a shipper's batch is not lost for one byte.

use axum::{
    extract::Request,
    http::Uri,
    middleware::Next,
    response::{IntoResponse, Response},
};
use serde_json::Value;

use super::error::ApiError;

/// Middleware: refuses a request whose URL path or query string holds an
/// encoded NUL (`%00`), before any handler turns it into SQL.
pub async fn refuse_in_uri(request: Request, next: Next) -> Response {
    match in_uri(request.uri()) {
        Some(field) => refusal(&field).into_response(),
        None => next.run(request).await,
    }
}

/// The 400 for a NUL in `field`.
pub fn refusal(field: &str) -> ApiError {
    ApiError::BadRequest(format!(
        "{field}: contains a NUL character (\\u0000), which cannot be stored"
    ))
}

/// Where in `uri` a NUL is, if anywhere: "the URL path" or "query parameter `q`".
fn in_uri(uri: &Uri) -> Option<String> {
    if uri.path().contains("%00") {
        return Some("the URL path".into());
    }
    let query = uri.query().filter(|q| q.contains("%00"))?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(key, value)| key.contains('\0') || value.contains('\0'))
        .map(|(key, _)| format!("query parameter `{}`", key.replace('\0', "\\u0000")))
}

/// The path of the first string (or key) holding a NUL in a JSON body, such as
/// `email` or `labels[2].name`. A NUL can only be written `\u0000` in JSON, so
/// bodies without that text are passed over without being parsed twice.
pub fn in_json(body: &[u8]) -> Option<String> {
    memchr::memmem::find(body, b"\\u0000")?;
    let value: Value = serde_json::from_slice(body).ok()?;
    let mut path = String::new();
    find(&value, &mut path).then(|| {
        if path.is_empty() {
            "the body".to_string()
        } else {
            path
        }
    })
}

/// Depth-first search for a NUL; on success `path` names where it is.
fn find(value: &Value, path: &mut String) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().enumerate().any(|(i, item)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = find(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        Value::Object(fields) => fields.iter().any(|(key, item)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&key.replace('\0', "\\u0000"));
            let found = key.contains('\0') || find(item, path);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_field_holding_a_nul() {
        assert_eq!(
            in_json(br#"{"email":"a\u0000b@x","password":"x"}"#).as_deref(),
            Some("email")
        );
        assert_eq!(
            in_json(br#"{"a":{"b":["ok","x\u0000"]}}"#).as_deref(),
            Some("a.b[1]")
        );
        assert_eq!(in_json(br#"{"k\u0000":1}"#).as_deref(), Some("k\\u0000"));
        // An escaped backslash followed by `u0000` is six plain characters.
        assert_eq!(in_json(br#"{"a":"\\u0000"}"#), None);
        assert_eq!(in_json(br#"{"a":"plain"}"#), None);
    }

    #[test]
    fn finds_a_nul_in_the_path_or_query() {
        let uri: Uri = "/api/v1/projects/a/logs/search?from=now-1h&q=x%00y"
            .parse()
            .unwrap();
        assert_eq!(in_uri(&uri).as_deref(), Some("query parameter `q`"));
        let uri: Uri = "/api/v1/projects/a%00b".parse().unwrap();
        assert_eq!(in_uri(&uri).as_deref(), Some("the URL path"));
        let uri: Uri = "/api/v1/projects/a?q=100%25".parse().unwrap();
        assert_eq!(in_uri(&uri), None);
    }
}
