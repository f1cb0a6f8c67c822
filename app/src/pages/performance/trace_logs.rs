//! The log lines of a trace (the newest 200, oldest first): local time, how far
//! into the trace, level in its colour, service and message, with a link to the
//! same search on the Logs page.

use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::figures::format_ms;
use crate::api::LogLine;
use crate::components::level::LevelBadge;
use crate::components::status::EmptyState;
use crate::local_time::{absolute_time, format_local};

/// `+12.5 ms` from the trace's start (`-` before it), or nothing without a start.
fn offset(ts: DateTime<Utc>, start: Option<DateTime<Utc>>) -> String {
    let Some(start) = start else {
        return String::new();
    };
    let micros = (ts - start).num_microseconds().unwrap_or_default();
    let ms = micros as f64 / 1000.0;
    if ms < 0.0 {
        format!("−{}", format_ms(-ms))
    } else {
        format!("+{}", format_ms(ms))
    }
}

/// The lines of a trace.
#[component]
pub fn TraceLogs(
    /// Oldest first.
    lines: Vec<LogLine>,
    /// The trace's start.
    start: Option<DateTime<Utc>>,
) -> impl IntoView {
    if lines.is_empty() {
        return view! {
            <EmptyState
                title="No log lines carry this trace id"
                detail="Log lines join a trace through their trace_id field (OpenTelemetry logs and most log bridges set it)."
            />
        }
        .into_any();
    }
    let rows = lines
        .into_iter()
        .map(|line| {
            let ts_ms = line.ts.timestamp_millis();
            view! {
                <tr class="trace-log-row" data-log-id=line.id.to_string()>
                    <td class="trace-log-time">
                        <time datetime=line.ts.to_rfc3339() title=absolute_time(ts_ms)>
                            {format_local(ts_ms, "%H:%M:%S%.3f")}
                        </time>
                    </td>
                    <td class="trace-log-offset muted">{offset(line.ts, start)}</td>
                    <td class="trace-log-level"><LevelBadge level=line.level.clone()/></td>
                    <td class="trace-log-service" title=line.service.clone()>{line.service.clone()}</td>
                    <td class="trace-log-message">{line.message.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table trace-log-table">
            <colgroup>
                <col class="trace-log-col-time"/>
                <col class="trace-log-col-offset"/>
                <col class="trace-log-col-level"/>
                <col class="trace-log-col-service"/>
                <col/>
            </colgroup>
            <thead>
                <tr>
                    <th scope="col">"Time"</th>
                    <th scope="col">"In trace"</th>
                    <th scope="col">"Level"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Message"</th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn lines_are_placed_from_the_trace_start() {
        let start = DateTime::<Utc>::default();
        assert_eq!(
            offset(start + Duration::microseconds(12_500), Some(start)),
            "+12.5 ms"
        );
        assert_eq!(
            offset(start - Duration::milliseconds(3), Some(start)),
            "−3 ms"
        );
        assert_eq!(offset(start, None), "");
    }
}
