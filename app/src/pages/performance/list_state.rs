//! The transactions table's search and order, kept in the URL next to the
//! project and time range so a link shows the same table: `q`, `sort` (absent
//! means `count`) and `order` (absent means the column's natural order:
//! descending, but ascending for the name).

use chrono::{DateTime, Utc};
use leptos_router::params::ParamsMap;

use super::links::ENVIRONMENT_KEY;
use crate::api::client::TransactionScope;

/// A column of the table, which is also an order the API can sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Column {
    /// The transaction's name.
    Name,
    /// Transactions in the range.
    #[default]
    Count,
    /// Transactions per minute.
    Throughput,
    /// Median duration.
    P50,
    /// 95th percentile duration.
    P95,
    /// 99th percentile duration.
    P99,
    /// Share of failed transactions.
    FailureRate,
    /// Apdex score.
    Apdex,
}

impl Column {
    /// Every column, in table order.
    pub const ALL: [Column; 8] = [
        Column::Name,
        Column::Count,
        Column::Throughput,
        Column::P50,
        Column::P95,
        Column::P99,
        Column::FailureRate,
        Column::Apdex,
    ];

    /// The name in the URL and the API's `sort`.
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Name => "name",
            Column::Count => "count",
            Column::Throughput => "throughput_per_min",
            Column::P50 => "p50_ms",
            Column::P95 => "p95_ms",
            Column::P99 => "p99_ms",
            Column::FailureRate => "error_rate",
            Column::Apdex => "apdex",
        }
    }

    /// The column's heading.
    pub fn label(self) -> &'static str {
        match self {
            Column::Name => "Transaction",
            Column::Count => "Count",
            Column::Throughput => "Throughput",
            Column::P50 => "p50",
            Column::P95 => "p95",
            Column::P99 => "p99",
            Column::FailureRate => "Failure rate",
            Column::Apdex => "Apdex",
        }
    }

    /// What the column holds, for the heading's tooltip.
    pub fn description(self) -> &'static str {
        match self {
            Column::Name => "The transaction's name",
            Column::Count => "Transactions in the time range",
            Column::Throughput => "Transactions per minute over the time range",
            Column::P50 => "Median duration, in milliseconds",
            Column::P95 => "95th percentile duration, in milliseconds",
            Column::P99 => "99th percentile duration, in milliseconds",
            Column::FailureRate => {
                "Share of transactions whose status is not ok, cancelled or unknown"
            }
            Column::Apdex => "(satisfied + tolerating / 2) / count, with the threshold T below",
        }
    }

    /// Reads a `sort=` value.
    pub fn from_name(name: &str) -> Option<Column> {
        Column::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The order a first click on the column sorts by.
    pub fn natural_order(self) -> Order {
        if self == Column::Name {
            Order::Asc
        } else {
            Order::Desc
        }
    }
}

/// Ascending or descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Smallest (or A) first.
    Asc,
    /// Largest (or Z) first.
    Desc,
}

impl Order {
    /// The name in the URL and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    /// Reads an `order=` value.
    pub fn from_name(name: &str) -> Option<Order> {
        match name {
            "asc" => Some(Order::Asc),
            "desc" => Some(Order::Desc),
            _ => None,
        }
    }

    /// The other order.
    pub fn flipped(self) -> Order {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }
}

/// What the transactions table shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListState {
    /// Words the name must contain; empty for all.
    pub q: String,
    /// The one environment shown; empty for all.
    pub environment: String,
    /// The column sorted by.
    pub sort: Column,
    /// Its order.
    pub order: Order,
}

impl Default for ListState {
    fn default() -> Self {
        ListState {
            q: String::new(),
            environment: String::new(),
            sort: Column::default(),
            order: Column::default().natural_order(),
        }
    }
}

impl ListState {
    /// Reads the state from a URL query; unknown values are the defaults.
    pub fn from_query(query: &ParamsMap) -> ListState {
        let sort = query
            .get_str("sort")
            .and_then(Column::from_name)
            .unwrap_or_default();
        ListState {
            q: query.get_str("q").unwrap_or_default().trim().to_owned(),
            environment: query
                .get_str(ENVIRONMENT_KEY)
                .unwrap_or_default()
                .trim()
                .to_owned(),
            sort,
            order: query
                .get_str("order")
                .and_then(Order::from_name)
                .unwrap_or_else(|| sort.natural_order()),
        }
    }

    /// Writes the state into a URL query, leaving defaults out.
    pub fn write_query(&self, query: &mut ParamsMap) {
        if self.q.is_empty() {
            query.remove("q");
        } else {
            query.replace("q", self.q.clone());
        }
        if self.environment.is_empty() {
            query.remove(ENVIRONMENT_KEY);
        } else {
            query.replace(ENVIRONMENT_KEY, self.environment.clone());
        }
        if self.sort == Column::default() {
            query.remove("sort");
        } else {
            query.replace("sort", self.sort.as_str().to_owned());
        }
        if self.order == self.sort.natural_order() {
            query.remove("order");
        } else {
            query.replace("order", self.order.as_str().to_owned());
        }
    }

    /// The state after a click on `column`'s heading: the other order for the
    /// current column, the natural order for another one.
    pub fn clicked(&self, column: Column) -> ListState {
        let order = if column == self.sort {
            self.order.flipped()
        } else {
            column.natural_order()
        };
        ListState {
            q: self.q.clone(),
            environment: self.environment.clone(),
            sort: column,
            order,
        }
    }

    /// `aria-sort` of `column`'s heading.
    pub fn aria_sort(&self, column: Column) -> &'static str {
        match (column == self.sort, self.order) {
            (false, _) => "none",
            (true, Order::Asc) => "ascending",
            (true, Order::Desc) => "descending",
        }
    }

    /// The API request for this state over `from`..`to`.
    pub fn scope(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> TransactionScope {
        TransactionScope {
            q: self.q.clone(),
            environment: self.environment.clone(),
            sort: self.sort.as_str(),
            order: self.order.as_str(),
            from,
            to,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&'static str, &str)]) -> ParamsMap {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn a_bare_url_sorts_by_count_descending() {
        let state = ListState::from_query(&query(&[("project", "web")]));
        assert_eq!(state, ListState::default());
        assert_eq!(state.order, Order::Desc);
        assert_eq!(state.aria_sort(Column::Count), "descending");
        assert_eq!(state.aria_sort(Column::Name), "none");
    }

    #[test]
    fn clicks_flip_the_current_column_and_start_others_in_their_natural_order() {
        let state = ListState::default();
        let by_p95 = state.clicked(Column::P95);
        assert_eq!((by_p95.sort, by_p95.order), (Column::P95, Order::Desc));
        let flipped = by_p95.clicked(Column::P95);
        assert_eq!(flipped.order, Order::Asc);
        let by_name = flipped.clicked(Column::Name);
        assert_eq!((by_name.sort, by_name.order), (Column::Name, Order::Asc));
    }

    #[test]
    fn the_state_survives_the_url_and_leaves_defaults_out() {
        let state = ListState {
            q: "checkout".into(),
            environment: "production".into(),
            sort: Column::P99,
            order: Order::Asc,
        };
        let mut q = query(&[("project", "web"), ("range", "24h")]);
        state.write_query(&mut q);
        assert_eq!(q.get_str("sort"), Some("p99_ms"));
        assert_eq!(q.get_str("order"), Some("asc"));
        assert_eq!(q.get_str("environment"), Some("production"));
        assert_eq!(ListState::from_query(&q), state);

        let by_name = ListState {
            q: String::new(),
            environment: String::new(),
            sort: Column::Name,
            order: Order::Asc,
        };
        by_name.write_query(&mut q);
        assert_eq!(q.get_str("order"), None, "ascending is the name's default");
        assert_eq!(q.get_str("q"), None);
        assert_eq!(q.get_str("environment"), None);
        assert_eq!(ListState::from_query(&q), by_name);

        ListState::default().write_query(&mut q);
        assert_eq!(q.get_str("sort"), None);
        assert_eq!(q.get_str("project"), Some("web"));
        assert_eq!(q.get_str("range"), Some("24h"));
    }

    #[test]
    fn unknown_values_fall_back_to_the_defaults() {
        let state = ListState::from_query(&query(&[("sort", "size"), ("order", "up")]));
        assert_eq!(state, ListState::default());
    }
}
