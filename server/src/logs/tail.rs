//! Live tail: `GET /logs/tail?q` streams new matching lines as Server-Sent Events.
//!
//! The batch writer announces every commit with `NOTIFY sightline_logs` (project,
//! id range, time range). One listener per instance ([`TailHub`]) rebroadcasts
//! those notices; each subscriber fetches the matching rows of the batches of its
//! project with the same compiled filter as search. A subscriber that falls
//! behind (a slow reader) loses notices, not ingestion speed: it gets a `skipped`
//! event saying how many batches it missed.

use std::{collections::VecDeque, convert::Infallible, time::Duration};

use app::api::LogLine;
use axum::{
    extract::State,
    response::sse::{Event, KeepAlive, Sse},
};
use futures_util::stream::{self, Stream};
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, OnceCell};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::{
    query::{LogQuery, Scope},
    search::{self, SearchParams},
    store,
    writer::{BatchNotice, NOTIFY_CHANNEL},
};
use crate::{
    http::error::{ApiResult, Query},
    pipeline::workers::Workers,
    query::scope::ReadScope,
    AppState,
};

/// Batches a subscriber may fall behind before it skips.
const BACKLOG: usize = 256;
/// Lines sent for one batch at most (the rest are reported as skipped).
const LINES_PER_BATCH: i64 = 500;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(tail))
}

/// The instance's one `LISTEN sightline_logs` connection, started on first use
/// as one of the instance's [`Workers`].
pub struct TailHub {
    sender: OnceCell<broadcast::Sender<BatchNotice>>,
    workers: Workers,
}

impl TailHub {
    /// A hub whose listener, once started, runs until `workers` stop.
    pub fn new(workers: Workers) -> Self {
        TailHub {
            sender: OnceCell::new(),
            workers,
        }
    }

    /// Subscribes to committed batches, starting the listener if needed.
    pub async fn subscribe(
        &self,
        pool: &sqlx::PgPool,
    ) -> ApiResult<broadcast::Receiver<BatchNotice>> {
        let sender = self
            .sender
            .get_or_try_init(|| async {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen(NOTIFY_CHANNEL).await?;
                let (sender, _) = broadcast::channel(BACKLOG);
                let forwarding = sender.clone();
                self.workers.spawn(|cancel| async move {
                    tokio::select! {
                        () = forward(listener, forwarding) => {}
                        () = cancel.cancelled() => {}
                    }
                });
                Ok::<_, sqlx::Error>(sender)
            })
            .await?;
        Ok(sender.subscribe())
    }
}

async fn forward(mut listener: PgListener, sender: broadcast::Sender<BatchNotice>) {
    loop {
        match listener.recv().await {
            Ok(notification) => {
                if let Ok(notice) = serde_json::from_str::<BatchNotice>(notification.payload()) {
                    // No subscriber is fine: the notice is simply dropped.
                    let _ = sender.send(notice);
                }
            }
            Err(error) => {
                // PgListener reconnects on the next recv; notices sent meanwhile are lost.
                tracing::warn!(error = %error, "live tail listener lost its connection");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// New lines matching `q`, as they are committed (`event: line`, data: a log line
/// as JSON); `event: skipped` when this reader fell behind.
#[utoipa::path(get, path = "/projects/{project}/logs/tail", tag = "logs",
    params(("project" = String, Path, description = "id or slug"), SearchParams),
    responses((status = 200, description = "text/event-stream of `line` and `skipped` events", content_type = "text/event-stream"),
              (status = 400), (status = 401), (status = 404)))]
async fn tail(
    State(state): State<AppState>,
    read: ReadScope,
    Query(params): Query<SearchParams>,
) -> ApiResult<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let resolved = search::resolve(&read, &params)?;
    let receiver = state.tail.subscribe(&state.pool).await?;
    let subscriber = Subscriber {
        state,
        project_id: resolved.scope.project_id,
        query: resolved.query,
        receiver,
        pending: VecDeque::new(),
    };
    let events = stream::unfold(subscriber, |mut s| async move {
        let event = s.next_event().await?;
        Some((Ok(event), s))
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

struct Subscriber {
    state: AppState,
    project_id: i64,
    query: LogQuery,
    receiver: broadcast::Receiver<BatchNotice>,
    pending: VecDeque<Event>,
}

impl Subscriber {
    async fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(event);
            }
            match self.receiver.recv().await {
                Ok(notice) if notice.p == self.project_id => self.load(&notice).await,
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Some(
                        Event::default()
                            .event("skipped")
                            .data(format!("{{\"batches\":{missed}}}")),
                    )
                }
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    async fn load(&mut self, notice: &BatchNotice) {
        let scope = Scope {
            project_id: self.project_id,
            from: notice.from,
            to: notice.to + chrono::Duration::microseconds(1),
        };
        let mut sql = store::select_lines(&scope);
        sql.push(" and log_id between ")
            .push_bind(notice.lo)
            .push(" and ")
            .push_bind(notice.hi);
        self.query.push_filter(&mut sql);
        sql.push(" order by ts, log_id limit ")
            .push_bind(LINES_PER_BATCH + 1);
        match store::fetch_lines(&self.state.queries, sql).await {
            Ok(mut lines) => {
                let more = lines.len() as i64 > LINES_PER_BATCH;
                lines.truncate(LINES_PER_BATCH as usize);
                self.pending.extend(lines.iter().map(line_event));
                if more {
                    self.pending.push_back(
                        Event::default()
                            .event("skipped")
                            .data("{\"reason\":\"more lines in one batch than live tail shows\"}"),
                    );
                }
            }
            Err(error) => tracing::warn!(error = %error, "live tail could not load a batch"),
        }
    }
}

fn line_event(line: &LogLine) -> Event {
    Event::default()
        .event("line")
        .data(serde_json::to_string(line).unwrap_or_default())
}
