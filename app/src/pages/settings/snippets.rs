//! Setup snippets for common SDKs, filled in with a project's DSN and key.

use leptos::prelude::*;

use crate::components::copy_button::CopyButton;

/// The server's base URL as written in a DSN (`https://<key>@host[:port]/<id>`).
fn origin_from_dsn(dsn: &str) -> Option<String> {
    let (scheme, rest) = dsn.split_once("://")?;
    let host_and_path = rest.rsplit_once('@').map_or(rest, |(_, after)| after);
    let host = host_and_path.split('/').next()?;
    Some(format!("{scheme}://{host}"))
}

/// The snippets, as (title, code).
fn snippets(dsn: &str, key: &str) -> Vec<(&'static str, String)> {
    let origin = origin_from_dsn(dsn).unwrap_or_else(|| "http://localhost:8080".to_owned());
    vec![
        (
            "Rust (sentry crate)",
            format!("let _guard = sentry::init(\"{dsn}\");"),
        ),
        ("Python (sentry-sdk)", format!("import sentry_sdk\n\nsentry_sdk.init(dsn=\"{dsn}\")")),
        (
            "JavaScript (@sentry/browser or @sentry/node)",
            format!("Sentry.init({{ dsn: \"{dsn}\" }});"),
        ),
        (
            "curl (native log ingestion)",
            format!(
                "curl -X POST '{origin}/api/v1/ingest/logs' \\\n  -H 'Authorization: Bearer {key}' \\\n  -H 'Content-Type: application/json' \\\n  -d '{{\"level\": \"info\", \"message\": \"hello from curl\"}}'"
            ),
        ),
    ]
}

/// One block per SDK, each with a Copy button.
#[component]
pub fn SdkSnippets(
    /// The project's Sentry DSN.
    dsn: String,
    /// The ingest key, for the bearer examples.
    key: String,
) -> impl IntoView {
    let blocks = snippets(&dsn, &key)
        .into_iter()
        .map(|(title, code)| {
            view! {
                <div class="snippet">
                    <div class="snippet-head">
                        <span>{title}</span>
                        <CopyButton text=code.clone() label=format!("Copy {title} snippet")/>
                    </div>
                    <pre><code>{code}</code></pre>
                </div>
            }
        })
        .collect_view();
    view! {
        <div class="snippets">
            <h3>"Send data"</h3>
            <p class="muted">"Point an unmodified Sentry SDK at the DSN, or send logs with the key as a bearer token."</p>
            {blocks}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ingest_origin_comes_from_the_dsn() {
        assert_eq!(
            origin_from_dsn("http://0123abcd@127.0.0.1:3000/7").as_deref(),
            Some("http://127.0.0.1:3000")
        );
        assert_eq!(origin_from_dsn("not a dsn"), None);
    }

    #[test]
    fn every_snippet_carries_the_dsn_or_the_key() {
        let all = snippets("https://k@sightline.example/1", "k");
        assert_eq!(all.len(), 4);
        assert!(all[..3]
            .iter()
            .all(|(_, code)| code.contains("https://k@sightline.example/1")));
        assert!(all[3].1.contains("Authorization: Bearer k"));
        assert!(all[3]
            .1
            .contains("https://sightline.example/api/v1/ingest/logs"));
    }
}
