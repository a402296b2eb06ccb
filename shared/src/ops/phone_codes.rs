//! Proving a mobile number: an SMS with a 6-digit code, exchanged for the
//! session's `phone`. Codes follow the email codes' rules (`ops::codes`).
//! SMS cost money and can be abused for toll fraud, so only a session that
//! already proved an email may ask, for at most three numbers; past the
//! tenant's `sms_per_hour`, an alarm and a challenge (`ops::code_volume`).

use crate::app::App;
use crate::documents::sms;
use crate::domain::error::Error;
use crate::domain::language::Lang;
use crate::domain::security_code::RESEND_AFTER_SECS;
use crate::domain::tenant::Tenant;
use crate::domain::values::MobilePhone;
use crate::ports::{Sms, SmsError};

use super::codes::{self, Channel};
use super::email_codes::CodeSent;
use super::sessions::{self, Opened, SessionClaims};

/// Different numbers one session may ask SMS codes for.
pub const NUMBERS_PER_SESSION: u32 = 3;
/// How long a session's numbers are remembered: longer than any session
/// renewed by use lives in practice.
const NUMBERS_KEPT_SECS: i64 = 24 * 3600;

/// Send a code by SMS to `phone`, for the holder of `session`.
pub async fn request_code(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    phone: &MobilePhone,
    client: &str,
    lang: Lang,
) -> Result<CodeSent, Error> {
    if session.email.is_none() {
        return Err(Error::EmailRequired);
    }
    let now = app.clock.now().unix_timestamp();
    let key = codes::address_key(app, tenant, Channel::Phone, phone.as_str());
    if !app
        .store
        .note_session_phone(
            &tenant.slug,
            &session.sub,
            &key,
            NUMBERS_PER_SESSION,
            now + NUMBERS_KEPT_SECS,
        )
        .await?
    {
        tracing::warn!("session over its phone numbers");
        // A new session (a new email code) may try other numbers.
        return Err(Error::TooManyRequests {
            retry_after_secs: (session.exp - now).max(1).unsigned_abs(),
        });
    }
    let code = codes::issue(app, tenant, Channel::Phone, &key, client).await?;
    let message = Sms {
        to: phone.clone(),
        text: sms::security_code(tenant, &code, lang),
    };
    match app.sms.send(&message).await {
        Ok(()) => {
            tracing::info!("sms security code sent");
            super::code_volume::note(app, tenant, Channel::Phone).await;
            Ok(CodeSent::now())
        }
        Err(SmsError::Unavailable) => Err(Error::Unavailable {
            retry_after_secs: RESEND_AFTER_SECS.unsigned_abs(),
        }),
        Err(e) => Err(e.into()),
    }
}

/// Exchange an SMS code for the session's `phone` (the session is renewed,
/// keeping what it proved before).
pub async fn verify_code(
    app: &App,
    tenant: &Tenant,
    session: SessionClaims,
    phone: &MobilePhone,
    code: &str,
    client: &str,
) -> Result<Opened, Error> {
    if session.email.is_none() {
        return Err(Error::EmailRequired);
    }
    let key = codes::address_key(app, tenant, Channel::Phone, phone.as_str());
    codes::check(app, tenant, Channel::Phone, &key, code, client).await?;
    let mut claims = sessions::renew_or_new(app, tenant, Some(session))?;
    claims.phone = Some(phone.to_string());
    tracing::info!("mobile number proved with an sms code");
    sessions::open(app, claims)
}
