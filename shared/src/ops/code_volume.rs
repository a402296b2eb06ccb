//! A comune's hourly volume of security codes, by mail and by SMS. Every
//! code sent is counted (one counter item per tenant, channel and hour);
//! the first one past the tenant file's threshold (`code_mails_per_hour`,
//! `sms_per_hour`) logs [`OVER_THRESHOLD`], which raises an alarm, and the
//! scheduled run puts the comune's code path on the web ACL's challenge
//! list until an hour passes under the threshold. No family is refused:
//! a person in a browser passes the challenge, a script does not (a `429`
//! here would stop every family of the comune at once).

use std::collections::BTreeSet;

use serde::Serialize;

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::ports::ChallengeList;

use super::codes::Channel;

/// The log line the code volume alarm watches for (`infra/template.yaml`).
pub const OVER_THRESHOLD: &str = "code volume over threshold";

/// The pattern that keeps the web ACL's list from being empty: it matches
/// no request path.
pub const NO_PATH: &str = "^$";

fn counter(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "MAIL",
        Channel::Phone => "SMS",
    }
}

/// The tenant's threshold for `channel`, per hour.
pub fn threshold(tenant: &Tenant, channel: Channel) -> u64 {
    u64::from(match channel {
        Channel::Email => tenant.code_mails_per_hour,
        Channel::Phone => tenant.sms_per_hour,
    })
}

/// The web ACL's pattern for a comune's code path (the request path there
/// carries the API's stage before `/v1`).
pub fn pattern(tenant: &Tenant, channel: Channel) -> String {
    let path = match channel {
        Channel::Email => "email-codes",
        Channel::Phone => "phone-codes",
    };
    format!("/v1/{}/{path}$", tenant.slug)
}

/// Count one code sent. Never fails the request: a counter that cannot be
/// written is logged and the family gets its code.
pub async fn note(app: &App, tenant: &Tenant, channel: Channel) {
    let hour = app.clock.now().unix_timestamp().div_euclid(3600);
    match app
        .store
        .count_code(&tenant.slug, counter(channel), hour)
        .await
    {
        // The hour's count estimated from the shard written: the line is
        // written by each shard whose estimate crosses the threshold (the
        // alarm needs one); the scheduled run's challenge decision reads
        // the exact sum.
        Ok((n, shards))
            if n * shards > threshold(tenant, channel)
                && (n - 1) * shards <= threshold(tenant, channel) =>
        {
            tracing::error!(
                tenant = %tenant.slug,
                channel = counter(channel),
                threshold = threshold(tenant, channel),
                "{OVER_THRESHOLD}"
            );
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "code volume not counted"),
    }
}

/// What the scheduled run did to the challenge list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChallengeReport {
    /// Code paths under a challenge now.
    pub challenged_paths: usize,
    /// Whether the list changed.
    pub changed: bool,
}

/// The code paths that should be challenged now: those of comuni over
/// their threshold in this hour or the last.
pub async fn over_threshold(app: &App) -> Result<BTreeSet<String>, Error> {
    let hour = app.clock.now().unix_timestamp().div_euclid(3600);
    let mut paths = BTreeSet::new();
    for tenant in app.store.list_tenants().await? {
        for channel in [Channel::Email, Channel::Phone] {
            let limit = threshold(&tenant, channel);
            for h in [hour, hour - 1] {
                if app
                    .store
                    .code_count(&tenant.slug, counter(channel), h)
                    .await?
                    > limit
                {
                    paths.insert(pattern(&tenant, channel));
                    break;
                }
            }
        }
    }
    Ok(paths)
}

/// Make the web ACL's challenge list what the counters say.
pub async fn refresh(app: &App, list: &dyn ChallengeList) -> Result<ChallengeReport, Error> {
    let mut patterns = over_threshold(app).await?;
    let challenged_paths = patterns.len();
    patterns.insert(NO_PATH.to_owned());
    let changed = list
        .set(&patterns)
        .await
        .map_err(|e| Error::Internal(format!("challenge list: {e}")))?;
    if changed {
        tracing::warn!(challenged_paths, "web ACL challenge list changed");
    }
    Ok(ChallengeReport {
        challenged_paths,
        changed,
    })
}
