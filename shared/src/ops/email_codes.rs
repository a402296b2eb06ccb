//! Proving an email address: send a 6-digit code, exchange it for a session.
//!
//! Every state change is a conditional write on the record's version: two
//! tabs, a double click or a retry never double-count or double-send.

use aws_lc_rs::constant_time::verify_slices_are_equal;

use crate::app::App;
use crate::documents::mail;
use crate::domain::email_code::{self, CODE_TTL_SECS, RESEND_AFTER_SECS};
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::ports::{MailError, StoreError};

use super::clients;
use super::retry::{self, Attempt};
use super::sessions::{self, Opened, SessionClaims};

/// What `POST email-codes` tells the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub expires_in: i64,
    pub resend_after: i64,
}

fn address_key(app: &App, tenant: &Tenant, email: &Email) -> String {
    app.config
        .keyed_hash("address", tenant.slug.as_str(), email.as_str())
}

fn code_hash(app: &App, tenant: &Tenant, address_key: &str, code: &str) -> String {
    app.config.keyed_hash(
        "email-code",
        tenant.slug.as_str(),
        &format!("{address_key}:{code}"),
    )
}

/// Send a new code to `email` (cooldown and hourly cap per address), on
/// behalf of `client` (the keyed hash of the requester's address).
pub async fn request_code(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    client: &str,
) -> Result<CodeSent, Error> {
    let key = address_key(app, tenant, email);
    let code = format!("{:06}", super::random_below(1_000_000)?);
    let hash = code_hash(app, tenant, &key, &code);
    let (key, hash) = (&key, &hash);
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let now = app.clock.now().unix_timestamp();
        let current = app.store.get_email_code(&tenant.slug, key).await?;
        let next = email_code::issue(
            current.as_ref().map(|c| &c.value),
            hash.clone(),
            now,
            client,
        )?;
        match app
            .store
            .put_email_code(&tenant.slug, key, &next, current.map(|c| c.version))
            .await
        {
            Ok(()) => Ok(Attempt::Done(())),
            Err(StoreError::Conflict) => Ok(Attempt::Again),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    let message = mail::security_code(tenant, email, &code);
    match app.mailer.send(&message).await {
        Ok(()) => {
            tracing::info!("security code sent");
            Ok(CodeSent {
                expires_in: CODE_TTL_SECS,
                resend_after: RESEND_AFTER_SECS,
            })
        }
        // The cooldown now runs: the client may ask again after it.
        Err(MailError::Unavailable) => Err(Error::Unavailable {
            retry_after_secs: RESEND_AFTER_SECS.unsigned_abs(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Exchange a code for a session (merged into `existing`, if any).
pub async fn verify_code(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    code: &str,
    client: &str,
    existing: Option<SessionClaims>,
) -> Result<Opened, Error> {
    clients::within_budget(app, client).await?;
    let key = address_key(app, tenant, email);
    let submitted = code_hash(app, tenant, &key, code);
    let (key, submitted) = (&key, &submitted);
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let now = app.clock.now().unix_timestamp();
        let current = app.store.get_email_code(&tenant.slug, key).await?;
        let matches = current.as_ref().is_some_and(|c| {
            verify_slices_are_equal(c.value.code_hash.as_bytes(), submitted.as_bytes()).is_ok()
        });
        let verdict = email_code::verify(current.as_ref().map(|c| &c.value), matches, now, client);
        if let Some(next) = &verdict.next {
            match app
                .store
                .put_email_code(&tenant.slug, key, next, current.map(|c| c.version))
                .await
            {
                Ok(()) => {}
                Err(StoreError::Conflict) => return Ok(Attempt::Again),
                Err(e) => return Err(e.into()),
            }
        }
        if let Err(e) = verdict.outcome {
            if matches!(e, Error::InvalidCode { .. }) {
                clients::wrong_guess(app, client).await;
            }
            return Err(e);
        }
        Ok(Attempt::Done(()))
    })
    .await?;
    let mut claims = sessions::renew_or_new(app, tenant, existing)?;
    claims.email = Some(email.to_string());
    tracing::info!("session opened with an email code");
    sessions::open(app, claims)
}
