//! The comune's retention rule: applications, their files and their window
//! are erased `retention_years` school years after the window's school
//! year ends (`Window::erasable_from`). The scheduled function erases once
//! a day; `admin retention --dry-run` reports what would go first.
//! Erasing is idempotent: a run cut short is finished by the next one.

use serde::Serialize;
use time::Duration;

use crate::app::App;
use crate::domain::application::Status;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::window::Window;
use crate::ports::Erasure;

/// What a run erased (or, dry, would erase).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    pub windows_erased: usize,
    pub applications_erased: usize,
    pub files_erased: usize,
    /// The windows concerned: `<tenant>/<window id> <school year>`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<String>,
}

/// The windows of `tenant` past their retention now.
pub async fn due_windows(app: &App, tenant: &Tenant) -> Result<Vec<Window>, Error> {
    let now = app.clock.now();
    let mut windows = app.store.list_windows(&tenant.slug).await?;
    windows.retain(|w| w.erasable_from(tenant.retention_years) <= now);
    windows.sort_by(|a, b| a.opens_at.cmp(&b.opens_at).then(a.id.cmp(&b.id)));
    Ok(windows)
}

/// Erase (or, `dry_run`, count) what `tenant` keeps past its retention.
pub async fn run_tenant(
    app: &App,
    tenant: &Tenant,
    dry_run: bool,
) -> Result<RetentionReport, Error> {
    let mut report = RetentionReport::default();
    for window in due_windows(app, tenant).await? {
        report.windows.push(format!(
            "{}/{} {}",
            tenant.slug, window.id, window.school_year
        ));
        for status in Status::ALL {
            for a in super::staff::all_in(app, tenant, &window.id, status).await? {
                let mut files = Vec::new();
                for prefix in [
                    format!("documents/{}/{}/", tenant.slug, a.id),
                    format!("attachments/{}/{}/", tenant.slug, a.id),
                ] {
                    files.extend(app.documents.list(&prefix).await?);
                }
                report.files_erased += files.len();
                report.applications_erased += 1;
                if dry_run {
                    continue;
                }
                for key in &files {
                    app.documents.delete(key).await?;
                }
                let erasure = Erasure {
                    hold: super::applications::hold_of(app, tenant, &a, &window),
                    owners: super::sessions::family_of(app, tenant, &a),
                };
                app.store
                    .erase_application(&tenant.slug, &a, &erasure)
                    .await?;
            }
        }
        report.windows_erased += 1;
        if !dry_run {
            app.store.erase_window(&tenant.slug, &window.id).await?;
            app.tenants.forget_windows(&tenant.slug);
            tracing::info!(tenant = %tenant.slug, window = %window.id, "window erased after its retention");
        }
    }
    Ok(report)
}

/// The scheduled run: every tenant, once a day (a claim per tenant and
/// day, so that runs every five minutes erase once).
pub async fn run_daily(app: &App) -> Result<RetentionReport, Error> {
    let now = app.clock.now();
    let day = now.date().to_string();
    let mut total = RetentionReport::default();
    for tenant in app.store.list_tenants().await? {
        if !app
            .store
            .claim_once(
                &tenant.slug,
                "retention",
                &day,
                Some(now + Duration::days(3)),
            )
            .await?
        {
            continue;
        }
        let report = run_tenant(app, &tenant, false).await?;
        total.windows_erased += report.windows_erased;
        total.applications_erased += report.applications_erased;
        total.files_erased += report.files_erased;
    }
    Ok(total)
}
