//! "Rinuncia": the family gives an application up, from the portal or by
//! calling the office, which records it on its behalf. The application
//! becomes `withdrawn` in one transaction with the mail it owes and the
//! release of the pupil's hold and of the family's guard, so the pupil
//! (and the place) is free at once, also for the family that withdrew.

use crate::app::App;
use crate::domain::application::{Application, HistoryEntry, Status};
use crate::domain::error::{Error, FieldError};
use crate::domain::tenant::Tenant;
use crate::ports::MessageKind;

use super::changes::{self, Change, Pupil};
use super::retry;
use super::sessions::{self, SessionClaims};

/// Who withdraws.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// The family, in its own session.
    Family(&'a SessionClaims),
    /// The office on the family's behalf (a phone call), with the reason.
    Office { staff: &'a str, reason: &'a str },
}

/// The reason an operator gives: required, at most 1000 characters.
pub fn office_reason(raw: Option<&str>) -> Result<String, Error> {
    raw.map(str::trim)
        .filter(|r| !r.is_empty() && r.chars().count() <= 1000)
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::InvalidFields(vec![FieldError::new(
                "reason",
                "required",
                "Indica il motivo della rinuncia (al massimo 1000 caratteri): resta nella cronologia.",
            )])
        })
}

/// Withdraw application `id`: from `draft`, `submitted` or `confirmed`,
/// else `409 invalid_transition`.
pub async fn withdraw(
    app: &App,
    tenant: &Tenant,
    actor: Actor<'_>,
    id: &str,
) -> Result<Application, Error> {
    if let Actor::Family(session) = actor {
        sessions::require_email_or_password(session)?;
    }
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let current = match actor {
            Actor::Family(session) => sessions::load_own(app, tenant, session, id).await?,
            Actor::Office { .. } => super::staff::read(app.store.as_ref(), tenant, id).await?,
        };
        if !current.status.withdrawable() {
            return Err(Error::InvalidTransition);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        let now = app.clock.now();
        let mut next = current.clone();
        next.status = Status::Withdrawn;
        next.version = current.version + 1;
        next.updated_at = now;
        next.history.push(HistoryEntry {
            at: now,
            by: match actor {
                Actor::Family(_) => "parent".into(),
                Actor::Office { staff, .. } => format!("staff:{staff}"),
            },
            from: Some(current.status),
            to: Status::Withdrawn,
            reason: match actor {
                Actor::Family(_) => None,
                Actor::Office { reason, .. } => Some(reason.to_owned()),
            },
        });
        let change = Change {
            kind: MessageKind::Withdrawal,
            pupil: Pupil::Freed,
            what: "withdrawn",
        };
        changes::record(app, tenant, &window, &current, next, change).await
    })
    .await
}
