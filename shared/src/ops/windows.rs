//! Enrollment windows: the public list and the scheduled close.

use serde::Serialize;
use time::OffsetDateTime;

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::window::{Service, Window, WindowStatus};
use crate::http::store_error;

/// A window as the contract shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowView {
    pub id: String,
    pub service: Service,
    pub service_name: &'static str,
    pub school_year: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
    pub status: WindowStatus,
}

impl WindowView {
    pub fn new(window: &Window, now: OffsetDateTime) -> Self {
        Self {
            id: window.id.clone(),
            service: window.service,
            service_name: window.service.name(),
            school_year: window.school_year.to_string(),
            opens_at: window.opens_at,
            closes_at: window.closes_at,
            status: window.status(now),
        }
    }
}

/// The tenant's windows of the services it offers, by opening time.
pub async fn list(app: &App, tenant: &Tenant) -> Result<Vec<WindowView>, Error> {
    let now = app.clock.now();
    let mut windows = app
        .store
        .list_windows(&tenant.slug)
        .await
        .map_err(store_error)?;
    windows.retain(|w| tenant.offers(w.service));
    windows.sort_by(|a, b| a.opens_at.cmp(&b.opens_at).then(a.id.cmp(&b.id)));
    Ok(windows.iter().map(|w| WindowView::new(w, now)).collect())
}

/// What one run of the scheduled function did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CloseReport {
    pub windows_closed: usize,
}

/// Record the close of every window whose `closes_at` has passed. Safe to
/// run twice, and concurrently: each close is a conditional write.
pub async fn close_due(app: &App) -> Result<CloseReport, Error> {
    let now = app.clock.now();
    let due = app
        .store
        .windows_due_to_close(now)
        .await
        .map_err(store_error)?;
    let mut report = CloseReport::default();
    for (tenant, window) in due {
        let closed_at = window.closes_at;
        if app
            .store
            .record_window_closed(&tenant, &window.id, closed_at)
            .await
            .map_err(store_error)?
        {
            report.windows_closed += 1;
            tracing::info!(tenant = %tenant, window = %window.id, "window closed");
        }
    }
    Ok(report)
}
