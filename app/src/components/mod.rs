//! Building blocks shared by the pages: the app layout and its parts, the chart and
//! the panel around it, log level badges, the loading, error and empty states, and
//! the wait for a project.

pub mod chart;
pub mod copy_button;
pub mod layout;
pub mod level;
pub mod paged_list;
pub mod panel;
pub mod project_scoped;
pub mod project_selector;
pub mod share_bar;
pub mod sidebar;
pub mod status;
pub mod time_range_picker;
pub mod user_menu;
