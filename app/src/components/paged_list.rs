//! [`Pages`]: a list read a page at a time with the API's keyset cursors (log
//! lines, issues, and the lists to come), and [`MoreButton`] below it.
//!
//! The first page is read again whenever the list's query changes; "more"
//! appends the next page, leaving out items already shown (a page boundary can
//! move while new items arrive). An answer that comes back after a newer
//! request, or after the page was left, is dropped.

use std::future::Future;

use leptos::prelude::*;

use crate::api::client::ApiError;
use crate::components::status::ErrorBox;

/// One page of a list and the cursor of the next (`None` on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Where the first page is.
#[derive(Debug, Clone, PartialEq)]
pub enum FirstPage {
    Loading,
    Ready,
    Failed(ApiError),
}

/// Where the next page is.
#[derive(Debug, Clone, PartialEq)]
pub enum NextPage {
    Idle,
    Loading,
    Failed(ApiError),
}

/// The items read so far and where the reading is. Cheap to copy: every field
/// is a handle.
pub struct Pages<T: Send + Sync + 'static> {
    /// Everything shown, in the API's order.
    pub items: RwSignal<Vec<T>>,
    /// The cursor of the next page; `None` when there is none (or it was let go).
    pub cursor: RwSignal<Option<String>>,
    pub first: RwSignal<FirstPage>,
    pub next: RwSignal<NextPage>,
    /// Bumped by every first-page request: older answers are stale.
    generation: StoredValue<u64>,
}

impl<T: Send + Sync + 'static> Clone for Pages<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: Send + Sync + 'static> Copy for Pages<T> {}

impl<T: Clone + Send + Sync + 'static> Default for Pages<T> {
    fn default() -> Self {
        Pages {
            items: RwSignal::new(Vec::new()),
            cursor: RwSignal::new(None),
            first: RwSignal::new(FirstPage::Loading),
            next: RwSignal::new(NextPage::Idle),
            generation: StoredValue::new(0),
        }
    }
}

impl<T: Clone + Send + Sync + 'static> Pages<T> {
    /// Reads the first page with `fetch`, replacing what is shown.
    pub fn load_first<Fut>(self, fetch: Fut)
    where
        Fut: Future<Output = Result<Page<T>, ApiError>> + 'static,
    {
        let current = self.generation.get_value() + 1;
        self.generation.set_value(current);
        self.first.set(FirstPage::Loading);
        self.next.set(NextPage::Idle);
        leptos::task::spawn_local(async move {
            let answer = fetch.await;
            if self.generation.try_get_value() != Some(current) {
                return;
            }
            match answer {
                Ok(page) => {
                    self.items.set(page.items);
                    self.cursor.set(page.next_cursor);
                    self.first.set(FirstPage::Ready);
                }
                Err(e) => {
                    self.items.set(Vec::new());
                    self.cursor.set(None);
                    self.first.set(FirstPage::Failed(e));
                }
            }
        });
    }

    /// Reads the page after the last one with `fetch(cursor)` and appends the
    /// items whose `key` is not shown yet. Nothing when there is no next page.
    pub fn load_next<K, F, Fut>(self, fetch: F, key: fn(&T) -> K)
    where
        K: PartialEq + 'static,
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Result<Page<T>, ApiError>> + 'static,
    {
        let Some(after) = self.cursor.get_untracked() else {
            return;
        };
        let current = self.generation.get_value();
        self.next.set(NextPage::Loading);
        let answer = fetch(after);
        leptos::task::spawn_local(async move {
            let answer = answer.await;
            if self.generation.try_get_value() != Some(current) {
                return;
            }
            match answer {
                Ok(page) => {
                    self.items.update(|all| {
                        for item in page.items {
                            if !all.iter().any(|shown| key(shown) == key(&item)) {
                                all.push(item);
                            }
                        }
                    });
                    self.cursor.set(page.next_cursor);
                    self.next.set(NextPage::Idle);
                }
                Err(e) => self.next.set(NextPage::Failed(e)),
            }
        });
    }

    /// Whether there is a next page to read.
    pub fn has_next(self) -> bool {
        self.cursor.with(Option::is_some)
    }
}

/// The button under a paged list, with its loading text and its error.
#[component]
pub fn MoreButton(
    /// The button's `id`.
    id: &'static str,
    /// Its text, e.g. "Load older".
    label: &'static str,
    /// Whether there is a next page.
    #[prop(into)]
    has_next: Signal<bool>,
    /// Where the next page is.
    #[prop(into)]
    next: Signal<NextPage>,
    /// Reads the next page.
    on_click: Callback<()>,
) -> impl IntoView {
    let loading = move || next.get() == NextPage::Loading;
    view! {
        <Show when=move || has_next.get()>
            <button
                id=id
                type="button"
                class="button secondary"
                disabled=loading
                on:click=move |_| on_click.run(())
            >
                {move || if loading() { "Loading…" } else { label }}
            </button>
        </Show>
        {move || match next.get() {
            NextPage::Failed(e) => Some(view! { <ErrorBox error=e/> }),
            _ => None,
        }}
    }
}
