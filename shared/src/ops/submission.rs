//! "Invia iscrizione": the only act that enrolls. Complete-form check, the
//! window's close to the second, a random user code unique in the tenant
//! (reserved in the same transaction as the state change), the fee band,
//! the history, the credentials letter queued in the outbox, then the
//! documents and the letter sent. A repeated or
//! racing submit answers the same application and sends nothing twice:
//! only the call whose transaction wins does the after-work.

use super::sessions::SessionClaims;
use crate::app::App;
use crate::domain::application::{self, Application, HistoryEntry, Status};
use crate::domain::error::{Error, FieldError};
use crate::domain::tenant::Tenant;
use crate::domain::window::Window;
use crate::ports::{MessageKind, SubmitError};

use super::outbox;

use super::applications::{Uploads, context_with, hold_of, refuse_held};
use super::retry::{self, Attempt};
use super::sessions::{load_own_with_attachments, require_email_or_password};

/// An 8-digit user code: random, never sequential, no leading zero.
pub fn draw_user_code() -> Result<String, Error> {
    Ok((10_000_000 + super::random_below(90_000_000)?).to_string())
}

/// `422 incomplete` with `guardian.phone` `not_verified`: the tenant
/// requires the mobile number proved by SMS.
fn phone_not_verified() -> Error {
    Error::Incomplete(vec![FieldError::new(
        "guardian.phone",
        "not_verified",
        "Verifica il numero di cellulare con il codice che ricevi via SMS: il Comune lo \
richiede per inviare la domanda.",
    )])
}

/// A submission's outcome: the application and, when this call read it,
/// its window (for the rank the answer shows, without reading it again).
pub struct Submitted {
    pub application: Application,
    pub window: Option<Window>,
}

pub async fn submit(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
    if_match: Option<u64>,
) -> Result<Submitted, Error> {
    require_email_or_password(session)?;
    // A conflict is a drawn user code already taken, or a racing write:
    // draw again, or look again at what is stored now.
    retry::optimistic(8, move || async move {
        let (current, attachments) = load_own_with_attachments(app, tenant, session, id).await?;
        if current.user_code.is_some()
            && matches!(
                current.status,
                Status::Submitted | Status::Confirmed | Status::Rejected
            )
        {
            // Already enrolled: the same answer, nothing sent again.
            return Ok(Attempt::Done(Submitted {
                application: current,
                window: None,
            }));
        }
        if if_match.is_some_and(|v| v != current.version) {
            return Err(Error::VersionConflict);
        }
        // A draft, or an application the office asked to change (sent
        // again until the request's due time, the window closed or not).
        let again = current.status == Status::ChangesRequested;
        if current.status != Status::Draft && !again {
            return Err(Error::NotEditable);
        }
        let window = super::documents::window_of(app, tenant, &current).await?;
        let now = app.clock.now();
        if !current.open_to_family(&window, now) {
            return Err(Error::WindowClosed);
        }
        let ctx = context_with(
            app,
            tenant,
            &current.id,
            &current.body,
            Some(&window),
            Uploads::Record,
            attachments,
        )
        .await?;
        let report = application::validate(&current.body, &ctx);
        application::check_complete(&report)?;
        let proved_phone = application::phone_proof(
            current.guardian_phone(),
            &[session.phone.as_deref(), current.proved_phone.as_deref()],
        );
        if tenant.require_verified_phone && proved_phone.is_none() {
            return Err(phone_not_verified());
        }
        let band = super::applications::fee_band(tenant, window.service, &current.body);
        // A renewal keeps last year's code, held since the roster import;
        // a new enrollment draws one and reserves it with the submission.
        // Sent again, it keeps its code (and its first submission time,
        // so its place).
        let (user_code, reserve) = match (&current.kind[..], &current.user_code) {
            ("renewal", Some(code)) => (code.clone(), false),
            (_, Some(code)) if again => (code.clone(), false),
            _ => (draw_user_code()?, true),
        };
        let mut next = current.clone();
        next.status = Status::Submitted;
        next.version = current.version + 1;
        next.submitted_at = current.submitted_at.filter(|_| again).or(Some(now));
        next.change_request = None;
        next.updated_at = now;
        next.user_code = Some(user_code.clone());
        next.fee_band = band;
        next.proved_phone = proved_phone;
        super::places::rekey(tenant, &window, &mut next);
        next.history.push(HistoryEntry {
            at: now,
            by: "parent".into(),
            from: Some(current.status),
            to: Status::Submitted,
            reason: None,
        });
        // The credentials letter is owed in the same transaction (sent
        // again, the letter of this version: the first may still wait).
        let letter = if again {
            outbox::owed_again(tenant, &next, MessageKind::Credentials, now)
        } else {
            outbox::owed(tenant, &next, MessageKind::Credentials, now)
        };
        let hold = hold_of(app, tenant, &next, &window);
        match app
            .store
            .submit_application(
                &tenant.slug,
                &next,
                current.version,
                reserve.then_some(user_code.as_str()),
                &letter,
                &hold,
            )
            .await
        {
            Ok(()) => {
                tracing::info!(application = %next.id, "application submitted");
                // Resubmitted after a request for changes: the documents of
                // the version sent before are replaced.
                let earlier = current.status == Status::ChangesRequested;
                super::documents::prepare_all_in(app, tenant, &next, &window, earlier).await;
                outbox::deliver_now(
                    app,
                    &letter,
                    outbox::InHand {
                        tenant,
                        application: &next,
                        window: Some(&window),
                        password: None,
                    },
                )
                .await;
                Ok(Attempt::Done(Submitted {
                    application: next,
                    window: Some(window),
                }))
            }
            // Another code, or another look at what is stored now (a racing
            // submit may have won: then its result is the answer).
            Err(SubmitError::UserCodeTaken) | Err(SubmitError::Conflict) => Ok(Attempt::Again),
            // Another family's application holds the pupil: it is marked
            // contested for the office, this one stays a draft.
            Err(SubmitError::Held) => match app.store.holder(&tenant.slug, &hold).await? {
                Some(holder) if holder != next.id => Err(refuse_held(app, tenant, &holder).await),
                // Released meanwhile (a rejection): try again.
                _ => Ok(Attempt::Again),
            },
            Err(SubmitError::Store(e)) => Err(e.into()),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_are_eight_random_digits() {
        let codes: Vec<String> = (0..50)
            .map(|_| draw_user_code().unwrap_or_default())
            .collect();
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 8 && c.bytes().all(|b| b.is_ascii_digit()))
        );
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert!(sorted.len() > 45);
    }
}
