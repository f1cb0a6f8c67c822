//! Exporting what the Logs page shows as NDJSON or CSV, built in the browser and
//! handed to the user as a download (a `Blob` behind an object URL).

use serde_json::{Map, Value};

use crate::api::{LogLine, LogTable};

/// The two export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One JSON object a line.
    Ndjson,
    /// Comma-separated values with a header row.
    Csv,
}

impl Format {
    /// The file name extension and MIME type.
    fn file(self) -> (&'static str, &'static str) {
        match self {
            Format::Ndjson => ("ndjson", "application/x-ndjson"),
            Format::Csv => ("csv", "text/csv"),
        }
    }
}

/// Columns of a log line in CSV; attributes go in one column as JSON.
const LINE_COLUMNS: [&str; 8] = [
    "ts",
    "level",
    "service",
    "host",
    "message",
    "trace_id",
    "span_id",
    "attributes",
];

/// Log lines in `format`.
pub fn lines(format: Format, lines: &[LogLine]) -> String {
    match format {
        Format::Ndjson => lines
            .iter()
            .filter_map(|l| serde_json::to_string(l).ok())
            .map(|json| json + "\n")
            .collect(),
        Format::Csv => {
            let mut out = csv_row(LINE_COLUMNS.iter().map(|c| (*c).to_owned()));
            for line in lines {
                out += &csv_row([
                    line.ts.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                    line.level.clone(),
                    line.service.clone(),
                    line.host.clone(),
                    line.message.clone(),
                    line.trace_id.clone().unwrap_or_default(),
                    line.span_id.clone().unwrap_or_default(),
                    Value::Object(line.attributes.clone()).to_string(),
                ]);
            }
            out
        }
    }
}

/// A `/logs/query` table in `format`: NDJSON has one object per row.
pub fn table(format: Format, table: &LogTable) -> String {
    match format {
        Format::Ndjson => table
            .rows
            .iter()
            .map(|row| {
                let object: Map<String, Value> = table
                    .columns
                    .iter()
                    .cloned()
                    .zip(row.iter().cloned())
                    .collect();
                Value::Object(object).to_string() + "\n"
            })
            .collect(),
        Format::Csv => {
            let mut out = csv_row(table.columns.iter().cloned());
            for row in &table.rows {
                out += &csv_row(row.iter().map(|v| match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                }));
            }
            out
        }
    }
}

/// One CSV record (RFC 4180): fields with a comma, quote or line break are quoted.
fn csv_row(fields: impl IntoIterator<Item = String>) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|f| {
            if f.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f
            }
        })
        .collect();
    fields.join(",") + "\r\n"
}

/// Offers `content` as a download named `sightline-logs.<ext>`.
pub fn download(format: Format, content: &str) {
    let (extension, mime) = format.file();
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;

        let save = || -> Option<()> {
            let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(content));
            let options = web_sys::BlobPropertyBag::new();
            options.set_type(mime);
            let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).ok()?;
            let url = web_sys::Url::create_object_url_with_blob(&blob).ok()?;
            let document = web_sys::window()?.document()?;
            let link: web_sys::HtmlAnchorElement =
                document.create_element("a").ok()?.dyn_into().ok()?;
            link.set_href(&url);
            link.set_download(&format!("sightline-logs.{extension}"));
            link.click();
            // Revoke later: the download reads the URL after this call returns.
            leptos::prelude::set_timeout(
                move || {
                    let _ = web_sys::Url::revoke_object_url(&url);
                },
                std::time::Duration::from_secs(10),
            );
            Some(())
        };
        // Without a download the button simply does nothing; there is nothing to undo.
        let _ = save();
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (extension, mime, content);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_quoting() {
        assert_eq!(
            csv_row(["a".to_owned(), "b,c".to_owned(), "say \"hi\"\n".to_owned()]),
            "a,\"b,c\",\"say \"\"hi\"\"\n\"\r\n"
        );
    }

    #[test]
    fn tables_export_as_rows_of_objects_or_csv() {
        let t = LogTable {
            columns: vec!["level".into(), "count()".into()],
            rows: vec![
                vec![Value::from("error"), Value::from(3)],
                vec![Value::Null, Value::from(1)],
            ],
        };
        let objects: Vec<Value> = table(Format::Ndjson, &t)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert_eq!(
            objects,
            vec![
                serde_json::json!({"level": "error", "count()": 3}),
                serde_json::json!({"level": null, "count()": 1}),
            ]
        );
        assert_eq!(table(Format::Csv, &t), "level,count()\r\nerror,3\r\n,1\r\n");
    }
}
