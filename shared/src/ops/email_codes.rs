//! Proving an email address: send a 6-digit code, exchange it for a session.
//!
//! Every state change is a conditional write on the record's version: two
//! tabs, a double click or a retry never double-count or double-send.

use aws_lc_rs::constant_time::verify_slices_are_equal;
use serde::Serialize;

use crate::app::App;
use crate::documents::mail;
use crate::domain::email_code::{self, CODE_TTL_SECS, RESEND_AFTER_SECS};
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::http::auth::{self, SessionClaims};
use crate::http::store_error;
use crate::ports::{MailError, StoreError};

/// Optimistic-concurrency retries before giving up with `503`.
const RETRIES: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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

fn busy() -> Error {
    Error::Unavailable {
        retry_after_secs: 1,
    }
}

/// Send a new security code to `email`, within the cooldown and hourly cap.
pub async fn request_code(app: &App, tenant: &Tenant, email: &Email) -> Result<CodeSent, Error> {
    let key = address_key(app, tenant, email);
    let code = format!("{:06}", super::random_below(1_000_000)?);
    let hash = code_hash(app, tenant, &key, &code);
    let mut stored = false;
    for _ in 0..RETRIES {
        let now = app.clock.now().unix_timestamp();
        let current = app
            .store
            .get_email_code(&tenant.slug, &key)
            .await
            .map_err(store_error)?;
        let next = email_code::issue(current.as_ref().map(|c| &c.value), hash.clone(), now)?;
        match app
            .store
            .put_email_code(&tenant.slug, &key, &next, current.map(|c| c.version))
            .await
        {
            Ok(()) => {
                stored = true;
                break;
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(store_error(e)),
        }
    }
    if !stored {
        return Err(busy());
    }
    let message = mail::security_code(tenant, email, &code);
    match app.mailer.send(&message).await {
        Ok(()) => {
            tracing::info!("security code sent");
            Ok(CodeSent {
                expires_in: CODE_TTL_SECS,
                resend_after: RESEND_AFTER_SECS,
            })
        }
        Err(MailError::Unavailable) => Err(Error::Unavailable {
            retry_after_secs: RESEND_AFTER_SECS.unsigned_abs(),
        }),
        Err(MailError::Rejected(detail)) => {
            Err(Error::Internal(format!("mail rejected: {detail}")))
        }
    }
}

/// The answer to a successful `POST /sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionOpened {
    pub token: String,
    pub expires_in: i64,
    pub session: SessionView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionView {
    pub tenant: String,
    pub email: Option<String>,
    pub guardian_fiscal_code: Option<String>,
    pub must_change_password: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: time::OffsetDateTime,
}

/// Sign a session for these claims.
pub fn open(app: &App, claims: &SessionClaims) -> Result<SessionOpened, Error> {
    Ok(SessionOpened {
        token: auth::issue(&app.config, claims)?,
        expires_in: claims.exp - claims.iat,
        session: SessionView {
            tenant: claims.tenant.clone(),
            email: claims.email.clone(),
            guardian_fiscal_code: claims.spid_fiscal_code.clone(),
            must_change_password: claims.must_change_password,
            expires_at: claims.expires_at(),
        },
    })
}

/// Exchange a code for a session. With `existing` (a valid session of the
/// same tenant) the new token carries both identities.
pub async fn verify_code(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    code: &str,
    existing: Option<SessionClaims>,
) -> Result<SessionOpened, Error> {
    let key = address_key(app, tenant, email);
    let submitted = code_hash(app, tenant, &key, code);
    let mut accepted = false;
    for _ in 0..RETRIES {
        let now = app.clock.now().unix_timestamp();
        let current = app
            .store
            .get_email_code(&tenant.slug, &key)
            .await
            .map_err(store_error)?;
        let matches = current.as_ref().is_some_and(|c| {
            verify_slices_are_equal(c.value.code_hash.as_bytes(), submitted.as_bytes()).is_ok()
        });
        let verdict = email_code::verify(current.as_ref().map(|c| &c.value), matches, now);
        if let Some(next) = &verdict.next {
            match app
                .store
                .put_email_code(&tenant.slug, &key, next, current.map(|c| c.version))
                .await
            {
                Ok(()) => {}
                // Someone else changed the record (a parallel attempt):
                // decide again on what is stored now.
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(store_error(e)),
            }
        }
        verdict.outcome?;
        accepted = true;
        break;
    }
    if !accepted {
        return Err(busy());
    }
    let now = app.clock.now();
    let mut claims = match existing {
        Some(mut c) => {
            c.iat = now.unix_timestamp();
            c.exp = c.iat + auth::SESSION_TTL_SECS;
            c
        }
        None => SessionClaims::new(&app.config, &tenant.slug, now, super::random_id("s")?),
    };
    claims.email = Some(email.to_string());
    tracing::info!("session opened with an email code");
    open(app, &claims)
}
