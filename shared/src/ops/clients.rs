//! The client behind a request, as far as guessing goes: its address (the
//! request's source address; behind CloudFront, the viewer's address once
//! the origin secret makes it trustworthy) under a keyed hash, and a bound
//! on its wrong guesses (security codes, passwords) across every address
//! and tenant. The bound is sized for hundreds of families behind one
//! address (a carrier's NAT, a CAF help desk, the comune's own counter):
//! one family makes a handful of wrong guesses; a guesser makes thousands.

use crate::app::App;
use crate::domain::error::Error;

/// Wrong guesses one client may make in an hour, in every tenant together.
pub const MAX_WRONG_GUESSES_PER_HOUR: u32 = 300;

/// The keyed hash that stands for a client address (never stored in clear).
pub fn key(app: &App, address: &str) -> String {
    app.config.keyed_hash("client", "*", address.trim())
}

fn hour(app: &App) -> i64 {
    app.clock.now().unix_timestamp().div_euclid(3600)
}

/// `429 too_many_attempts` once the client has used up its wrong guesses
/// for this hour (until the hour ends).
pub async fn within_budget(app: &App, client: &str) -> Result<(), Error> {
    let now = app.clock.now().unix_timestamp();
    let used = app.store.wrong_guesses(client, hour(app)).await?;
    if used >= MAX_WRONG_GUESSES_PER_HOUR {
        tracing::warn!("client over its hourly wrong guesses");
        return Err(Error::TooManyAttempts {
            retry_after_secs: Some((3600 - now.rem_euclid(3600)).max(1).unsigned_abs()),
        });
    }
    Ok(())
}

/// Count one wrong guess of the client (best effort: a lost count is one
/// guess more for the guesser, never a refusal for a family).
pub async fn wrong_guess(app: &App, client: &str) {
    if let Err(e) = app.store.count_wrong_guess(client, hour(app)).await {
        tracing::warn!(error = %e, "wrong guess not counted");
    }
}
