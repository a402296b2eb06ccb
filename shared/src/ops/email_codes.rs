//! Proving an email address: send a 6-digit code, exchange it for a session.

use crate::app::App;
use crate::documents::mail;
use crate::domain::error::Error;
use crate::domain::language::Lang;
use crate::domain::security_code::{CODE_TTL_SECS, RESEND_AFTER_SECS};
use crate::domain::tenant::Tenant;
use crate::domain::values::Email;
use crate::ports::MailError;

use super::codes::{self, Channel};
use super::sessions::{self, Opened, SessionClaims};

/// What `POST email-codes` (and `POST phone-codes`) tells the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeSent {
    pub expires_in: i64,
    pub resend_after: i64,
}

impl CodeSent {
    pub fn now() -> Self {
        Self {
            expires_in: CODE_TTL_SECS,
            resend_after: RESEND_AFTER_SECS,
        }
    }
}

/// Send a new code to `email` (cooldown and hourly cap per address), on
/// behalf of `client` (the keyed hash of the requester's address).
pub async fn request_code(
    app: &App,
    tenant: &Tenant,
    email: &Email,
    client: &str,
    lang: Lang,
) -> Result<CodeSent, Error> {
    let key = codes::address_key(app, tenant, Channel::Email, email.as_str());
    let code = codes::issue(app, tenant, Channel::Email, &key, client).await?;
    let message = mail::security_code(tenant, email, &code, lang);
    match app.mailer.send(&message).await {
        Ok(()) => {
            tracing::info!("security code sent");
            super::code_volume::note(app, tenant, Channel::Email).await;
            Ok(CodeSent::now())
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
    let key = codes::address_key(app, tenant, Channel::Email, email.as_str());
    codes::check(app, tenant, Channel::Email, &key, code, client).await?;
    let mut claims = sessions::renew_or_new(app, tenant, existing)?;
    claims.email = Some(email.to_string());
    tracing::info!("session opened with an email code");
    sessions::open(app, claims)
}
