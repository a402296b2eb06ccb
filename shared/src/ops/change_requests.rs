//! Requests for changes: the office asks the family for a change (a
//! missing or unreadable document) instead of rejecting; the family edits
//! and submits again until the due time, even after the window's close
//! (`ops::applications::update`, `ops::submission`, through
//! `Application::open_to_family`); the scheduled function reminds the
//! family once, 48 hours before the due time, and afterwards returns the
//! application to `submitted` as it stands, for the office to decide.
//!
//! The due time is kept twice: on the application (what the rules read)
//! and on a timer item in one small index partition of every tenant (what
//! the scheduled function reads, no scan). The timer is written before the
//! application and forgotten lazily: a timer whose application no longer
//! waits for that due time is deleted when the scheduled run meets it.

use time::{Duration, OffsetDateTime};

use super::changes::{self, Change, Pupil};
use super::retry::{self, Attempt};
use crate::app::App;
use crate::domain::application::{ChangeRequest, HistoryEntry, Status};
use crate::domain::error::{Error, FieldError};
use crate::domain::tenant::Tenant;
use crate::ports::{ChangeTimer, MessageKind, OutboxMessage, StoreError};

/// The family is reminded this long before the due time.
pub const REMINDER_BEFORE: Duration = Duration::hours(48);
/// A due time at least this far ahead (the family must be able to act)…
const MIN_NOTICE: Duration = Duration::hours(1);
/// …and at most this far (the office must decide within the school year).
const MAX_NOTICE: Duration = Duration::days(90);
/// The longest message.
const MAX_MESSAGE_CHARS: usize = 2000;

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub due_at: Option<String>,
}

/// The request's message and due time, or the fields that are wrong.
fn check(req: &NewRequest, now: OffsetDateTime) -> Result<(String, OffsetDateTime), Error> {
    let mut errors = Vec::new();
    let message = req.message.as_deref().map(str::trim).unwrap_or_default();
    if message.is_empty()
        || message.chars().count() > MAX_MESSAGE_CHARS
        || message
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r')
    {
        errors.push(FieldError::new(
            "message",
            "required",
            "Scrivi alla famiglia che cosa modificare o integrare (al massimo 2000 caratteri).",
        ));
    }
    let due = req.due_at.as_deref().and_then(|raw| {
        OffsetDateTime::parse(raw, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(|t| t.to_offset(time::UtcOffset::UTC))
            // To the second, as the timer keeps it.
            .and_then(|t| t.replace_nanosecond(0).ok())
    });
    let due = match due {
        Some(t) if t >= now + MIN_NOTICE && t <= now + MAX_NOTICE => Some(t),
        _ => {
            errors.push(FieldError::new(
                "due_at",
                "invalid",
                "Scadenza non valida: una data e ora (RFC 3339) tra un'ora e 90 giorni da adesso.",
            ));
            None
        }
    };
    match due {
        Some(due) if errors.is_empty() => Ok((message.to_owned(), due)),
        _ => Err(Error::InvalidFields(errors)),
    }
}

/// `POST staff/applications/{id}/request-changes`: from `submitted` only;
/// the family is mailed the message and the due time. The pupil and the
/// place stay held.
pub async fn request(
    app: &App,
    tenant: &Tenant,
    id: &str,
    staff: &str,
    req: NewRequest,
    if_match: Option<u64>,
) -> Result<crate::domain::application::Application, Error> {
    let (message, due_at) = check(&req, app.clock.now())?;
    let (message, due_at) = (&message, due_at);
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = super::staff::read(app.store.as_ref(), tenant, id).await?;
        if if_match.is_some_and(|v| v != current.version) {
            return Err(Error::VersionConflict);
        }
        if current.status != Status::Submitted {
            return Err(Error::InvalidTransition);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        let now = app.clock.now();
        // The timer first: an application never waits without one (a
        // timer left by a failed write is dropped when met).
        app.store
            .put_change_timer(&ChangeTimer {
                tenant: tenant.slug.clone(),
                application_id: current.id.clone(),
                due_at,
            })
            .await?;
        let by = format!("staff:{staff}");
        let mut next = current.clone();
        next.status = Status::ChangesRequested;
        next.version = current.version + 1;
        next.updated_at = now;
        next.change_request = Some(ChangeRequest {
            message: message.clone(),
            due_at,
            requested_at: now,
            by: by.clone(),
        });
        next.history.push(HistoryEntry {
            at: now,
            by,
            from: Some(current.status),
            to: Status::ChangesRequested,
            reason: Some(message.clone()),
        });
        let change = Change {
            kind: MessageKind::ChangesRequested,
            pupil: Pupil::Kept,
            what: "changes requested",
        };
        changes::record(app, tenant, &window, &current, next, change).await
    })
    .await
}

/// What one scheduled run did with requests for changes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct RequestsReport {
    pub changes_reminded: usize,
    pub changes_returned: usize,
}

/// The scheduled run: every timer due within 48 hours. Past its due time,
/// the application goes back to `submitted` (its first submission time and
/// place kept); within 48 hours of it, the family is reminded once (a
/// claim per application and due time, with the mail in one transaction).
/// Safe to run twice and concurrently.
pub async fn run_due(app: &App) -> Result<RequestsReport, Error> {
    let now = app.clock.now();
    let mut report = RequestsReport::default();
    for timer in app.store.change_timers_due(now + REMINDER_BEFORE).await? {
        let Some(tenant) = app.store.get_tenant(&timer.tenant).await? else {
            app.store.delete_change_timer(&timer).await?;
            continue;
        };
        let current = app
            .store
            .get_application(&tenant.slug, &timer.application_id)
            .await?;
        let waiting = current.as_ref().is_some_and(|a| {
            a.status == Status::ChangesRequested
                && a.change_request
                    .as_ref()
                    .is_some_and(|r| r.due_at.unix_timestamp() == timer.due_at.unix_timestamp())
        });
        if !waiting {
            // Answered, decided, withdrawn, or asked again with another
            // due time (which has its own timer).
            app.store.delete_change_timer(&timer).await?;
            continue;
        }
        if timer.due_at < now {
            if return_to_office(app, &tenant, &timer).await? {
                report.changes_returned += 1;
            }
            app.store.delete_change_timer(&timer).await?;
        } else if remind(app, &tenant, &timer).await? {
            report.changes_reminded += 1;
        }
    }
    Ok(report)
}

/// The one reminder of a request: `true` when this run queued (and tried)
/// it.
async fn remind(app: &App, tenant: &Tenant, timer: &ChangeTimer) -> Result<bool, Error> {
    let key = app.config.keyed_hash(
        "changes-reminder",
        tenant.slug.as_str(),
        &format!("{}:{}", timer.application_id, timer.due_at.unix_timestamp()),
    );
    let mut message = OutboxMessage::new(
        &tenant.slug,
        &timer.application_id,
        MessageKind::ChangesReminder,
        app.clock.now(),
    );
    message.id = format!("{}-{}", message.id, timer.due_at.unix_timestamp());
    if !app
        .store
        .claim_with_message(&tenant.slug, "changes-reminder", &key, &message)
        .await?
    {
        return Ok(false);
    }
    super::outbox::deliver(app, &message, None).await?;
    Ok(true)
}

/// Past the due time: back to `submitted` as it stands, for the office
/// (the family is not mailed: the office decides next). `true` when this
/// run did it.
async fn return_to_office(app: &App, tenant: &Tenant, timer: &ChangeTimer) -> Result<bool, Error> {
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let Some(current) = app
            .store
            .get_application(&tenant.slug, &timer.application_id)
            .await?
        else {
            return Ok(Attempt::Done(false));
        };
        let due = current
            .change_request
            .as_ref()
            .map(|r| r.due_at.unix_timestamp());
        if current.status != Status::ChangesRequested || due != Some(timer.due_at.unix_timestamp()) {
            return Ok(Attempt::Done(false));
        }
        let mut next = current.clone();
        next.status = Status::Submitted;
        next.version = current.version + 1;
        next.updated_at = app.clock.now();
        next.change_request = None;
        next.history.push(HistoryEntry {
            at: timer.due_at,
            by: "system".into(),
            from: Some(Status::ChangesRequested),
            to: Status::Submitted,
            reason: Some("Scadenza della richiesta di integrazione: la domanda torna all'ufficio così com'è.".into()),
        });
        match app
            .store
            .put_application(&tenant.slug, &next, current.version)
            .await
        {
            Ok(()) => {
                tracing::info!(application = %next.id, "request for changes expired: back to the office");
                Ok(Attempt::Done(true))
            }
            Err(StoreError::Conflict) => Ok(Attempt::Again),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn req(message: &str, due: &str) -> NewRequest {
        NewRequest {
            message: Some(message.into()),
            due_at: Some(due.into()),
        }
    }

    #[test]
    fn a_request_needs_a_message_and_a_due_time_ahead() {
        let now = datetime!(2026-09-01 08:00 UTC);
        assert!(
            check(
                &req("Allega l'ISEE leggibile.", "2026-09-08T12:00:00+02:00"),
                now
            )
            .is_ok()
        );
        let fields = |r: Result<(String, OffsetDateTime), Error>| match r {
            Err(Error::InvalidFields(f)) => f.iter().map(|e| e.field.clone()).collect::<Vec<_>>(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            fields(check(&req(" ", "2026-09-08T12:00:00Z"), now)),
            ["message"]
        );
        assert_eq!(
            fields(check(&req("Ok", "2026-09-01T08:30:00Z"), now)),
            ["due_at"]
        );
        assert_eq!(
            fields(check(&req("Ok", "2027-09-01T08:30:00Z"), now)),
            ["due_at"]
        );
        assert_eq!(fields(check(&req("Ok", "domani"), now)), ["due_at"]);
        assert_eq!(
            fields(check(
                &NewRequest {
                    message: None,
                    due_at: None
                },
                now
            )),
            ["message", "due_at"]
        );
    }
}
