//! Enrollment windows: the public list and the scheduled close.

use serde::Serialize;
use time::OffsetDateTime;

use crate::app::App;
use crate::domain::application::{Application, HistoryEntry, Status};
use crate::domain::error::Error;
use crate::domain::ranking::Ranking;
use crate::domain::tenant::Tenant;
use crate::domain::window::{Service, Window, WindowStatus};
use crate::ports::{MessageKind, OutboxMessage, StoreError};

/// A window as the contract shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WindowView {
    pub id: String,
    pub service: Service,
    /// The service's name as the tenant calls it.
    pub service_name: String,
    pub school_year: String,
    #[serde(with = "time::serde::rfc3339")]
    pub opens_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub closes_at: OffsetDateTime,
    pub status: WindowStatus,
    /// Places (`null`: unlimited).
    pub capacity: Option<u32>,
    pub ranking: Ranking,
}

impl WindowView {
    pub fn new(tenant: &Tenant, window: &Window, now: OffsetDateTime) -> Self {
        Self {
            id: window.id.clone(),
            service: window.service,
            service_name: tenant.service(window.service).name,
            school_year: window.school_year.to_string(),
            opens_at: window.opens_at,
            closes_at: window.closes_at,
            status: window.status(now),
            capacity: window.capacity,
            ranking: window.ranking,
        }
    }
}

/// The tenant's windows of the services it offers, by opening time (the
/// public list: this process's copy within `Config::window_ttl`).
pub async fn list(app: &App, tenant: &Tenant) -> Result<Vec<WindowView>, Error> {
    let now = app.clock.now();
    let ttl = app.config.window_ttl;
    let mut windows = match app.tenants.windows(&tenant.slug, ttl) {
        Some(w) => w,
        None => {
            let read = app.store.list_windows(&tenant.slug).await?;
            if !ttl.is_zero() {
                app.tenants.keep_windows(&tenant.slug, &read);
            }
            read
        }
    };
    windows.retain(|w| tenant.offers(w.service));
    windows.sort_by(|a, b| a.opens_at.cmp(&b.opens_at).then(a.id.cmp(&b.id)));
    Ok(windows
        .iter()
        .map(|w| WindowView::new(tenant, w, now))
        .collect())
}

/// What one run of the scheduled function did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CloseReport {
    pub windows_closed: usize,
    pub drafts_expired: usize,
    pub reminders_sent: usize,
}

/// Reminders go to drafts of windows closing within this many seconds.
pub const REMINDER_BEFORE_SECS: i64 = 48 * 3600;

/// The scheduled run: expire the drafts of every window whose close has
/// passed, then record the close; remind, once, the guardians of drafts in
/// windows closing within 48 hours. Safe to run twice, and concurrently:
/// every step is a conditional write, and a run cut short is finished by
/// the next one (the close is recorded only after the drafts expired).
pub async fn close_due(app: &App) -> Result<CloseReport, Error> {
    let now = app.clock.now();
    let mut report = CloseReport::default();
    let closing = app
        .store
        .windows_closing_by(now + time::Duration::seconds(REMINDER_BEFORE_SECS))
        .await?;
    for (tenant, window) in closing {
        let Some(config) = app.store.get_tenant(&tenant).await? else {
            continue;
        };
        if window.closes_at <= now {
            report.drafts_expired += expire_drafts(app, &config, &window).await?;
            if app
                .store
                .record_window_closed(&tenant, &window.id, window.closes_at)
                .await?
            {
                app.tenants.forget_windows(&tenant);
                report.windows_closed += 1;
                tracing::info!(tenant = %tenant, window = %window.id, "window closed");
            }
        } else if window.is_open(now) {
            report.reminders_sent += remind(app, &config, &window).await?;
        }
    }
    Ok(report)
}

/// Every draft of the window, page by page.
async fn drafts(app: &App, tenant: &Tenant, window: &Window) -> Result<Vec<Application>, Error> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let (page, next) = app
            .store
            .window_applications(&tenant.slug, &window.id, Status::Draft, 100, after)
            .await?;
        out.extend(page);
        match next {
            Some(k) => after = Some(k),
            None => return Ok(out),
        }
    }
}

async fn expire_drafts(app: &App, tenant: &Tenant, window: &Window) -> Result<usize, Error> {
    let mut expired = 0;
    for draft in drafts(app, tenant, window).await? {
        let mut next = draft.clone();
        next.status = Status::Expired;
        next.version = draft.version + 1;
        next.updated_at = app.clock.now();
        next.history.push(HistoryEntry {
            at: window.closes_at,
            by: "system".into(),
            from: Some(Status::Draft),
            to: Status::Expired,
            reason: None,
        });
        match app
            .store
            .put_application(&tenant.slug, &next, draft.version)
            .await
        {
            Ok(()) => expired += 1,
            // Changed meanwhile (another run, or a submit that won before
            // the close): leave it as it is now.
            Err(StoreError::Conflict) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(expired)
}

async fn remind(app: &App, tenant: &Tenant, window: &Window) -> Result<usize, Error> {
    // One mail per family address, naming every pupil still in draft: owed
    // through the outbox under a claim per window and address, so two runs
    // (or two at once) queue it once, and a mail SES refuses is retried.
    let mut by_address: std::collections::BTreeMap<String, String> = Default::default();
    for draft in drafts(app, tenant, window).await? {
        let Some(to) = super::sessions::proved_address(&draft) else {
            continue;
        };
        // The family's first draft (by id) stands for the others.
        let first = by_address.entry(to.to_string()).or_insert(draft.id.clone());
        if draft.id < *first {
            *first = draft.id.clone();
        }
    }
    let now = app.clock.now();
    let mut queued = Vec::new();
    for (address, application_id) in by_address {
        let key = app.config.keyed_hash(
            "reminder",
            tenant.slug.as_str(),
            &format!("{}:{address}", window.id),
        );
        let message = OutboxMessage::new(&tenant.slug, &application_id, MessageKind::Reminder, now);
        if app
            .store
            .claim_with_message(&tenant.slug, "reminder", &key, &message)
            .await?
        {
            queued.push(message);
        }
    }
    let mut sent = 0;
    for message in &queued {
        if super::outbox::deliver(app, message, None).await? == super::outbox::Delivery::Sent {
            sent += 1;
        }
    }
    Ok(sent)
}
