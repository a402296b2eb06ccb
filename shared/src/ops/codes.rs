//! The life of a security code, whatever carries it (a mail or an SMS):
//! a new code replaces the address's record under the rules of
//! `domain::security_code`; a guess is checked and counted. Every state
//! change is a conditional write on the record's version: two tabs, a
//! double click or a retry never double-count or double-send.

use aws_lc_rs::constant_time::verify_slices_are_equal;

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::security_code;
use crate::domain::tenant::Tenant;
use crate::ports::StoreError;

use super::clients;
use super::retry::{self, Attempt};

/// What a code was sent for: the keyed-hash purposes of the address and of
/// its codes, so an email and a phone number never share a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Phone,
}

impl Channel {
    fn purposes(self) -> (&'static str, &'static str) {
        match self {
            Channel::Email => ("address", "email-code"),
            Channel::Phone => ("phone", "phone-code"),
        }
    }
}

/// Where one address's codes are filed (a keyed hash, never the address).
pub fn address_key(app: &App, tenant: &Tenant, channel: Channel, address: &str) -> String {
    app.config
        .keyed_hash(channel.purposes().0, tenant.slug.as_str(), address)
}

fn code_hash(app: &App, tenant: &Tenant, channel: Channel, key: &str, code: &str) -> String {
    app.config.keyed_hash(
        channel.purposes().1,
        tenant.slug.as_str(),
        &format!("{key}:{code}"),
    )
}

/// Store a new code for the address (cooldown and hourly cap per address)
/// on behalf of `client`; the code to send.
pub async fn issue(
    app: &App,
    tenant: &Tenant,
    channel: Channel,
    key: &str,
    client: &str,
) -> Result<String, Error> {
    let code = format!("{:06}", super::random_below(1_000_000)?);
    let hash = code_hash(app, tenant, channel, key, &code);
    let hash = &hash;
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let now = app.clock.now().unix_timestamp();
        let current = app.store.get_code(&tenant.slug, key).await?;
        let next = security_code::issue(
            current.as_ref().map(|c| &c.value),
            hash.clone(),
            now,
            client,
        )?;
        match app
            .store
            .put_code(&tenant.slug, key, &next, current.map(|c| c.version))
            .await
        {
            Ok(()) => Ok(Attempt::Done(())),
            Err(StoreError::Conflict) => Ok(Attempt::Again),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    Ok(code)
}

/// Check `code` against the address's current code, counting a wrong
/// guess against the code and the client; `Ok` consumes the code.
pub async fn check(
    app: &App,
    tenant: &Tenant,
    channel: Channel,
    key: &str,
    code: &str,
    client: &str,
) -> Result<(), Error> {
    clients::within_budget(app, client).await?;
    let submitted = code_hash(app, tenant, channel, key, code);
    let submitted = &submitted;
    retry::optimistic(retry::ATTEMPTS, move || async move {
        let now = app.clock.now().unix_timestamp();
        let current = app.store.get_code(&tenant.slug, key).await?;
        let matches = current.as_ref().is_some_and(|c| {
            verify_slices_are_equal(c.value.code_hash.as_bytes(), submitted.as_bytes()).is_ok()
        });
        let verdict =
            security_code::verify(current.as_ref().map(|c| &c.value), matches, now, client);
        if let Some(next) = &verdict.next {
            match app
                .store
                .put_code(&tenant.slug, key, next, current.map(|c| c.version))
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
    .await
}
