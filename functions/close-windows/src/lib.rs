//! The `close-windows` function, run by an EventBridge schedule every five
//! minutes: closes the windows whose time has passed (their drafts become
//! `expired`, never deleted), reminds, once, the guardians with a draft in
//! a window closing within 48 hours, and sends the outbox's mails that are
//! due (those the mail service refused at the time, retried with backoff).
//! EventBridge delivers at least once: every step is idempotent.

use serde::Serialize;
use shared::app::App;
use shared::domain::error::Error;
use shared::ops::outbox::{self, OutboxReport};
use shared::ops::windows::{self, CloseReport};

pub const BINARY: &str = "close-windows";

/// What one run did.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub close: CloseReport,
    pub mails: OutboxReport,
}

/// One run, now. The outbox is worked even when closing failed; the first
/// error is then returned, so that the schedule's retry runs again.
pub async fn run(app: &App) -> Result<Report, Error> {
    let close = windows::close_due(app).await;
    let mails = outbox::deliver_due(app).await;
    let report = Report {
        close: close.clone().unwrap_or_default(),
        mails: mails.clone().unwrap_or_default(),
    };
    tracing::info!(
        windows_closed = report.close.windows_closed,
        drafts_expired = report.close.drafts_expired,
        reminders_sent = report.close.reminders_sent,
        mails_sent = report.mails.sent,
        mails_retrying = report.mails.retrying,
        "scheduled run done"
    );
    close?;
    mails?;
    Ok(report)
}
