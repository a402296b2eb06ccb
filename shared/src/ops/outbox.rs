//! The outbox: mails owed to guardians (the credentials letter of a
//! submission, the office's decision) are written in the same transaction
//! as the state change that owes them, then sent right away; when the mail
//! service fails, the scheduled function sends them later with backoff.
//!
//! A sender first leases the message (a conditional write), so two senders
//! never send it together; it is deleted once the mail service accepted
//! it. The one window for a duplicate is a sender dying between the mail
//! service's acceptance and the delete: the lease then expires and the
//! message is sent again (at least once, never lost).
//!
//! Where the comune has an App IO service and the family proved the
//! guardian's fiscal code with SPID/CIE, a status change's message has a
//! second stage: once the mail is accepted, the same item moves to the App
//! IO stage (its attempts start again) and the App IO message goes out
//! under the same lease, retried the same way; the mail is never sent
//! again for it.

use time::{Duration, OffsetDateTime};

use crate::app::App;
use crate::documents::{app_io, application_docs, mail};
use crate::domain::application::{Application, Status};
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::domain::window::Window;
use crate::ports::{AppIoError, Credentials, MessageKind, OutboxMessage, Stage};

/// How long a sender holds a message before another may retry it.
const LEASE: Duration = Duration::minutes(2);

/// After this many failed attempts a message has waited over 15 minutes
/// (1 + 2 + 4 + 8 of backoff): each further failure logs `outbox message
/// late`, which the template's alarm watches.
pub const LATE_AFTER_ATTEMPTS: u32 = 4;

/// Messages a scheduled run handles at most.
const BATCH: usize = 200;

/// The wait before the next attempt after `attempts` failed ones: one
/// minute, doubling, at most an hour.
pub fn backoff(attempts: u32) -> Duration {
    let minutes = 1i64 << attempts.saturating_sub(1).min(6);
    Duration::minutes(minutes.min(60))
}

/// What happened to one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Failed; due again later.
    Retrying,
    /// Another sender has it, or it was already sent.
    Skipped,
    /// Nothing can ever be sent (the application is gone): dropped.
    Dropped,
}

/// What the sender right after a state change already holds: the tenant,
/// the application just written and, if read, its window. The scheduled
/// run has none of it and reads it from the store.
#[derive(Clone, Copy)]
pub struct InHand<'a> {
    pub tenant: &'a Tenant,
    pub application: &'a Application,
    pub window: Option<&'a Window>,
    /// The temporary password a `Password` message carries, drawn and
    /// stored (as a hash) with the draft that owes it.
    pub password: Option<&'a str>,
}

/// Try to send one message now.
pub async fn deliver(
    app: &App,
    message: &OutboxMessage,
    in_hand: Option<InHand<'_>>,
) -> Result<Delivery, Error> {
    let now = app.clock.now();
    let Some(leased) = app
        .store
        .lease_message(&message.tenant, &message.id, now, now + LEASE)
        .await?
    else {
        return Ok(Delivery::Skipped);
    };
    finish(app, &leased, in_hand).await
}

/// Send a message this sender holds the lease of, and record the outcome.
async fn finish(
    app: &App,
    leased: &OutboxMessage,
    in_hand: Option<InHand<'_>>,
) -> Result<Delivery, Error> {
    let mut attempts = leased.attempts;
    // The tenant and application, as just written or as stored now: read
    // once for both stages.
    let loaded;
    let in_hand = match in_hand {
        Some(h) => Ok(h),
        None => match load(app, leased).await {
            Ok(l) => {
                loaded = l;
                Ok(InHand {
                    tenant: &loaded.0,
                    application: &loaded.1,
                    window: None,
                    password: None,
                })
            }
            Err(f) => Err(f),
        },
    };
    let outcome = match in_hand {
        Err(f) => Err(f),
        Ok(h) => match leased.stage {
            Stage::Mail => match send(app, leased, h).await {
                Ok(Next::Done) => Ok(()),
                Ok(Next::AppIo) => {
                    app.store
                        .message_to_app_io(&leased.tenant, &leased.id)
                        .await?;
                    attempts = 1;
                    send_app_io(app, leased, h).await
                }
                Err(f) => Err(f),
            },
            Stage::AppIo => send_app_io(app, leased, h).await,
        },
    };
    match outcome {
        Ok(()) => {
            app.store.message_sent(&leased.tenant, &leased.id).await?;
            Ok(Delivery::Sent)
        }
        Err(Failure::Permanent(why)) => {
            tracing::error!(application = %leased.application_id, kind = leased.kind.code(), reason = %why, "mail dropped");
            app.store.message_sent(&leased.tenant, &leased.id).await?;
            Ok(Delivery::Dropped)
        }
        Err(Failure::Transient(why)) => {
            let retry_at = app.clock.now() + backoff(attempts);
            tracing::warn!(application = %leased.application_id, kind = leased.kind.code(), attempts, reason = %why, "mail not sent, will retry");
            if attempts >= LATE_AFTER_ATTEMPTS {
                // Its backoffs add up to more than 15 minutes: an alarm.
                tracing::error!(application = %leased.application_id, kind = leased.kind.code(), attempts = leased.attempts, "outbox message late");
            }
            app.store
                .message_failed(&leased.tenant, &leased.id, retry_at)
                .await?;
            Ok(Delivery::Retrying)
        }
    }
}

/// Send right after the state change that owed the message: it was
/// written already leased to this sender (`owed`), so no lease is taken.
/// Failures are logged: the message stays in the outbox for the scheduled
/// run (after the lease, if this sender dies first).
pub async fn deliver_now(app: &App, message: &OutboxMessage, in_hand: InHand<'_>) {
    if let Err(e) = finish(app, message, Some(in_hand)).await {
        tracing::warn!(application = %message.application_id, error = %e, "outbox left for the scheduled run");
    }
}

/// What a scheduled run did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxReport {
    pub sent: usize,
    pub retrying: usize,
    pub dropped: usize,
}

/// The scheduled run: every message due now, once.
pub async fn deliver_due(app: &App) -> Result<OutboxReport, Error> {
    let mut report = OutboxReport::default();
    let due = app.store.due_messages(app.clock.now(), BATCH).await?;
    for message in due {
        match deliver(app, &message, None).await {
            Ok(Delivery::Sent) => report.sent += 1,
            Ok(Delivery::Retrying) => report.retrying += 1,
            Ok(Delivery::Dropped) => report.dropped += 1,
            Ok(Delivery::Skipped) => {}
            // One message's store trouble does not stop the others.
            Err(e) => {
                tracing::warn!(application = %message.application_id, error = %e, "outbox message not handled");
                report.retrying += 1;
            }
        }
    }
    Ok(report)
}

enum Failure {
    Transient(String),
    Permanent(String),
}

fn transient(e: impl std::fmt::Display) -> Failure {
    Failure::Transient(e.to_string())
}

/// Tenant and application as stored now, for a sender that holds neither.
async fn load(app: &App, message: &OutboxMessage) -> Result<(Tenant, Application), Failure> {
    let tenant = app
        .store
        .get_tenant(&message.tenant)
        .await
        .map_err(transient)?
        .ok_or_else(|| Failure::Permanent("tenant gone".into()))?;
    let application = app
        .store
        .get_application(&message.tenant, &message.application_id)
        .await
        .map_err(transient)?
        .ok_or_else(|| Failure::Permanent("application gone".into()))?;
    Ok((tenant, application))
}

/// What is left once the mail is accepted.
enum Next {
    Done,
    AppIo,
}

/// Whether the App IO message of `message` is owed.
fn app_io_owed(app: &App, tenant: &Tenant, a: &Application, message: &OutboxMessage) -> bool {
    app.app_io.is_some() && app_io::recipient(tenant, a, message.kind).is_some()
}

/// The App IO message of a status change: to the guardian, if the
/// citizen's profile allows the comune's service; nothing otherwise.
async fn send_app_io(
    app: &App,
    message: &OutboxMessage,
    in_hand: InHand<'_>,
) -> Result<(), Failure> {
    let Some(io) = app.app_io.as_ref() else {
        // The deployment stopped sending to App IO: nothing owed.
        return Ok(());
    };
    let (tenant, a, known_window) = (in_hand.tenant, in_hand.application, in_hand.window);
    let Some(fiscal_code) = app_io::recipient(tenant, a, message.kind) else {
        return Ok(());
    };
    let window = match known_window {
        Some(w) => w.clone(),
        None => super::documents::window_of(app, tenant, a)
            .await
            .map_err(transient)?,
    };
    let to_io = |e: AppIoError| match e {
        AppIoError::Unavailable(why) => Failure::Transient(why),
        AppIoError::Refused(why) => Failure::Permanent(why),
    };
    if !io
        .sender_allowed(&tenant.slug, fiscal_code)
        .await
        .map_err(to_io)?
    {
        tracing::info!(application = %a.id, kind = message.kind.code(), "app io: the citizen does not take messages from this service");
        return Ok(());
    }
    let Some(content) = app_io::status_message(
        tenant,
        a,
        &tenant.service(window.service).name,
        message.kind,
        fiscal_code,
    ) else {
        return Ok(());
    };
    io.send(&tenant.slug, &content).await.map_err(to_io)?;
    tracing::info!(application = %a.id, kind = message.kind.code(), "app io message sent");
    Ok(())
}

/// Make the mail from the application (as just written, or as stored now)
/// and hand it to the mail service; then say whether an App IO message is
/// owed too.
async fn send(app: &App, message: &OutboxMessage, in_hand: InHand<'_>) -> Result<Next, Failure> {
    let (tenant, a, known_window) = (in_hand.tenant, in_hand.application, in_hand.window);
    let io_owed = app_io_owed(app, tenant, a, message);
    let next = if io_owed { Next::AppIo } else { Next::Done };
    let Some(to) = super::sessions::proved_address(a) else {
        if io_owed {
            // No address to mail: App IO is the family's only channel.
            return Ok(Next::AppIo);
        }
        return Err(Failure::Permanent(
            "application without a proved email".into(),
        ));
    };
    let read_window;
    let window = match known_window {
        Some(w) => w,
        None => {
            read_window = super::documents::window_of(app, tenant, a)
                .await
                .map_err(transient)?;
            &read_window
        }
    };
    let name = a.pupil_name();
    let lang = a.body.language.unwrap_or_default();
    let mail = match message.kind {
        MessageKind::Password => {
            let drawn;
            let password = match in_hand.password {
                Some(p) => p,
                None => match draw_password(app, tenant, a, &to, message).await? {
                    Some(p) => {
                        drawn = p;
                        drawn.as_str()
                    }
                    // The family has a password (mailed before, or its own).
                    None => return Ok(Next::Done),
                },
            };
            app.mailer
                .send(&mail::temporary_password(
                    tenant, &to, &name, password, lang,
                ))
                .await
                .map_err(transient)?;
            return Ok(Next::Done);
        }
        MessageKind::Reminder => {
            // Every pupil the family still has in draft in this window.
            let family = super::sessions::email_identity(app, tenant, to.as_str());
            let mut names: Vec<String> = app
                .store
                .owner_applications(&tenant.slug, &family)
                .await
                .map_err(transient)?
                .iter()
                .filter(|d| d.window_id == a.window_id && d.status == Status::Draft)
                .map(Application::pupil_name)
                .collect();
            if names.is_empty() {
                // Submitted meanwhile: nothing to remind.
                return Ok(Next::Done);
            }
            names.sort();
            mail::draft_reminder(
                tenant,
                &to,
                &names.join(", "),
                &tenant.service(window.service).name,
                &application_docs::italian_datetime(window.closes_at),
                lang,
            )
        }
        MessageKind::Credentials => {
            let pdf = application_docs::render_kind(
                application_docs::Kind::Credentials,
                tenant,
                a,
                window,
                a.submitted_at.unwrap_or_else(|| app.clock.now()),
            )
            .map_err(|e| Failure::Permanent(e.to_string()))?;
            mail::credentials_letter(
                tenant,
                &to,
                &name,
                &tenant.service(window.service),
                a.user_code.as_deref().unwrap_or(""),
                pdf,
                lang,
            )
        }
        MessageKind::Withdrawal => mail::withdrawal(
            tenant,
            &to,
            &name,
            &tenant.service(window.service),
            a.user_code.as_deref(),
            lang,
        ),
        MessageKind::PlaceAvailable => mail::place_available(
            tenant,
            &to,
            &name,
            &tenant.service(window.service),
            a.user_code.as_deref(),
            lang,
        ),
        MessageKind::Criteria => mail::criteria_corrected(
            tenant,
            &to,
            &name,
            &tenant.service(window.service),
            a.user_code.as_deref(),
            &tenant.service(window.service).points(
                a.body
                    .service
                    .as_ref()
                    .and_then(|s| s.criteria.as_deref())
                    .unwrap_or_default(),
            ),
            lang,
        ),
        MessageKind::ChangesRequested | MessageKind::ChangesReminder => {
            let Some(request) = a
                .change_request
                .as_ref()
                .filter(|_| a.status == Status::ChangesRequested)
            else {
                // Answered (or returned) meanwhile: nothing to ask.
                return Ok(Next::Done);
            };
            let due = application_docs::italian_datetime(request.due_at);
            let service = tenant.service(window.service);
            if message.kind == MessageKind::ChangesRequested {
                mail::changes_requested(
                    tenant,
                    &to,
                    &name,
                    &service,
                    a.user_code.as_deref(),
                    &request.message,
                    &due,
                    lang,
                )
            } else {
                mail::changes_reminder(
                    tenant,
                    &to,
                    &name,
                    &service,
                    a.user_code.as_deref(),
                    &due,
                    lang,
                )
            }
        }
        MessageKind::Waitlisted => mail::waitlisted(
            tenant,
            &to,
            &name,
            &tenant.service(window.service),
            a.user_code.as_deref(),
            lang,
        ),
        MessageKind::Decision => mail::decision(
            tenant,
            &to,
            &name,
            &tenant.service(window.service),
            a.user_code.as_deref().unwrap_or("—"),
            a.status == Status::Confirmed,
            a.decision_reason.as_deref(),
            lang,
        ),
    };
    // Unavailable or refused alike, it is tried again: a refused message
    // (say, an address SES will not take) does not get better by waiting,
    // but an operator may fix the cause, and a letter is never dropped.
    app.mailer.send(&mail).await.map_err(transient)?;
    tracing::info!(application = %a.id, kind = message.kind.code(), attempts = message.attempts, "mail sent");
    Ok(next)
}

/// A temporary password for the family that created `a` (whose proved
/// address is `to`), to be mailed by `message`: the password, and the
/// credentials to store (its hash) with the family's identity. Nothing is
/// stored here.
pub(crate) struct NewPassword {
    pub password: String,
    pub family: String,
    pub credentials: Credentials,
}

pub(crate) fn new_password(
    app: &App,
    tenant: &Tenant,
    to: &Email,
    message: &OutboxMessage,
) -> Result<NewPassword, Error> {
    let password = super::passwords::temporary()?;
    Ok(NewPassword {
        credentials: Credentials {
            password_hash: super::passwords::hash(&password)?,
            temporary: true,
            failures: Default::default(),
            changed_in: None,
            email: Some(to.as_str().to_owned()),
            issued_at: Some(app.clock.now().unix_timestamp()),
            mailed_by: Some(message.id.clone()),
        },
        family: super::sessions::email_identity(app, tenant, to.as_str()),
        password,
    })
}

/// A later attempt of a `Password` message: draw a new temporary password
/// and store its hash, unless the family already has a password (`None`
/// then). One this very message carried (its first mail may not have
/// arrived) or a temporary one nobody used within 30 days is replaced.
async fn draw_password(
    app: &App,
    tenant: &Tenant,
    a: &Application,
    to: &Email,
    message: &OutboxMessage,
) -> Result<Option<String>, Failure> {
    let pupil = super::sessions::pupil_key(app, tenant, &a.pupil_fiscal_code);
    let family = super::sessions::email_identity(app, tenant, to.as_str());
    let now = app.clock.now().unix_timestamp();
    let existing = app
        .store
        .get_credentials(&tenant.slug, &pupil, &family)
        .await
        .map_err(transient)?;
    let expected = match &existing {
        None => None,
        Some(c)
            if c.value.mailed_by.as_deref() == Some(message.id.as_str())
                || super::passwords::expired(&c.value, now) =>
        {
            Some(c.version)
        }
        Some(_) => return Ok(None),
    };
    let fresh = new_password(app, tenant, to, message).map_err(transient)?;
    // A conflict (another sender, another tab) is retried later.
    app.store
        .put_credentials(
            &tenant.slug,
            &pupil,
            &fresh.family,
            &fresh.credentials,
            expected,
        )
        .await
        .map_err(transient)?;
    Ok(Some(fresh.password))
}

/// A message owed by a state change at `now`, written leased to the
/// request that makes the change (its first attempt, due again only after
/// the lease): that request sends it with `deliver_now` without another
/// write to take it.
pub fn owed(
    tenant: &Tenant,
    a: &Application,
    kind: MessageKind,
    now: OffsetDateTime,
) -> OutboxMessage {
    leased(OutboxMessage::new(&tenant.slug, &a.id, kind, now), now)
}

fn leased(mut message: OutboxMessage, now: OffsetDateTime) -> OutboxMessage {
    message.due = now + LEASE;
    message.attempts = 1;
    message
}

/// A message of a kind an application may owe more than once (a second
/// request for changes, a letter sent again): its id names the version
/// that owes it.
pub fn owed_again(
    tenant: &Tenant,
    a: &Application,
    kind: MessageKind,
    now: OffsetDateTime,
) -> OutboxMessage {
    let mut message = OutboxMessage::new(&tenant.slug, &a.id, kind, now);
    message.id = format!("{}-v{}", message.id, a.version);
    leased(message, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let minutes: Vec<i64> = (1..=9).map(|a| backoff(a).whole_minutes()).collect();
        assert_eq!(minutes, vec![1, 2, 4, 8, 16, 32, 60, 60, 60]);
        assert_eq!(backoff(0).whole_minutes(), 1);
    }
}
