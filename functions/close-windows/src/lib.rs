//! The `close-windows` function, run by an EventBridge schedule every five
//! minutes: closes the windows whose time has passed (their drafts become
//! `expired`, never deleted), reminds, once, the guardians with a draft in
//! a window closing within 48 hours, reminds (48 hours before) and then
//! returns to the office the requests for changes past their due time, and
//! erases, once a day, what each comune keeps past its retention, and
//! sends the outbox's mails that are due (those the mail service refused at
//! the time, retried with backoff), and keeps the web ACL's challenge list
//! (the code paths of comuni over their hourly threshold). A second schedule (Monday mornings,
//! Europe/Rome) runs the weekly school lists instead. EventBridge delivers
//! at least once: every step is idempotent.

use serde::Serialize;
use shared::app::App;
use shared::domain::error::Error;
use shared::ops::change_requests::{self, RequestsReport};
use shared::ops::code_volume::{self, ChallengeReport};
use shared::ops::outbox::{self, OutboxReport};
use shared::ops::retention::{self, RetentionReport};
use shared::ops::school_lists::{self, SchoolListsReport};
use shared::ops::windows::{self, CloseReport};

pub mod waf;

pub const BINARY: &str = "close-windows";

/// What one run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    #[serde(flatten)]
    pub close: CloseReport,
    #[serde(flatten)]
    pub requests: RequestsReport,
    pub mails: OutboxReport,
    pub retention: RetentionReport,
    /// `None` where the function keeps no challenge list.
    pub challenges: Option<ChallengeReport>,
}

/// One run, now. The outbox is worked even when closing failed; the first
/// error is then returned, so that the schedule's retry runs again.
pub async fn run(app: &App) -> Result<Report, Error> {
    let close = windows::close_due(app).await;
    let requests = change_requests::run_due(app).await;
    let mails = outbox::deliver_due(app).await;
    let erased = retention::run_daily(app).await;
    let challenges = match &app.challenges {
        Some(list) => Some(code_volume::refresh(app, list.as_ref()).await),
        None => None,
    };
    let report = Report {
        close: close.clone().unwrap_or_default(),
        requests: requests.clone().unwrap_or_default(),
        mails: mails.clone().unwrap_or_default(),
        retention: erased.clone().unwrap_or_default(),
        challenges: challenges.clone().and_then(Result::ok),
    };
    tracing::info!(
        windows_closed = report.close.windows_closed,
        drafts_expired = report.close.drafts_expired,
        reminders_sent = report.close.reminders_sent,
        changes_reminded = report.requests.changes_reminded,
        changes_returned = report.requests.changes_returned,
        mails_sent = report.mails.sent,
        mails_retrying = report.mails.retrying,
        applications_erased = report.retention.applications_erased,
        "scheduled run done"
    );
    close?;
    requests?;
    mails?;
    erased?;
    challenges.transpose()?;
    Ok(report)
}

/// The event of the Monday schedule: `{"job": "school-lists"}`.
pub const SCHOOL_LISTS_JOB: &str = "school-lists";

/// The weekly school lists, now (each school once this week).
pub async fn run_school_lists(app: &App) -> Result<SchoolListsReport, Error> {
    school_lists::send_weekly(app).await
}

/// What a scheduled event asks for: the weekly lists, or the usual run.
pub async fn dispatch(app: &App, event: &serde_json::Value) -> Result<serde_json::Value, Error> {
    let json = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| Error::Internal(format!("report: {e}")))
    };
    if event.get("job").and_then(|j| j.as_str()) == Some(SCHOOL_LISTS_JOB) {
        json(serde_json::to_value(run_school_lists(app).await?))
    } else {
        json(serde_json::to_value(run(app).await?))
    }
}
