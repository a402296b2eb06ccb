//! Places and waiting lists: an application's key in its window's order
//! (kept on the application, written with every change that moves it),
//! its position (a count of the keys below it on the places index), the
//! capacity checked at confirmation, and the "Posto disponibile" mail to
//! the family whose application comes within the places when one frees.
//!
//! What a position costs: one `Query` with `Select: COUNT` per index shard
//! (8), each reading only the index keys below the application's (about
//! 130 bytes each, keys only): for the 25,000th of 50,000 applications,
//! about 3 MB of index read in 8 to 11 requests, ~400 read units; the
//! first hundred positions cost 8 requests of a few KB. No request reads
//! the applications themselves, and no item is written per submission
//! besides the application's own.

use crate::app::App;
use crate::domain::application::{Application, Status};
use crate::domain::error::Error;
use crate::domain::ranking::{self, Rank};
use crate::domain::tenant::Tenant;
use crate::domain::window::Window;
use crate::ports::{MessageKind, OutboxMessage};

/// The points an application's declared criteria give in its service.
pub fn points(tenant: &Tenant, window: &Window, a: &Application) -> u32 {
    let declared = a
        .body
        .service
        .as_ref()
        .and_then(|s| s.criteria.clone())
        .unwrap_or_default();
    tenant.service(window.service).points(&declared)
}

/// Set the application's key in its window's order from what it is now
/// (call before writing it).
pub fn rekey(tenant: &Tenant, window: &Window, a: &mut Application) {
    let points = points(tenant, window, a);
    a.rank_key = ranking::rank_key(a, window.ranking, points);
}

/// Its position in the window's order (1 is first), if it holds a place.
pub async fn position(app: &App, tenant: &Tenant, a: &Application) -> Result<Option<u32>, Error> {
    let Some(key) = &a.rank_key else {
        return Ok(None);
    };
    let before = app
        .store
        .ranked_before(&tenant.slug, &a.window_id, key)
        .await?;
    Ok(Some(before.saturating_add(1)))
}

/// The rank reads show: in a window with places, for an application that
/// holds one.
pub async fn rank(
    app: &App,
    tenant: &Tenant,
    window: &Window,
    a: &Application,
) -> Result<Option<Rank>, Error> {
    let Some(capacity) = window.capacity else {
        return Ok(None);
    };
    Ok(position(app, tenant, a)
        .await?
        .map(|p| ranking::rank(p, points(tenant, window, a), capacity)))
}

/// The rank of an application, reading its window: `None` (the contract's
/// `rank: null`) in a window without places or for one that holds none.
pub async fn rank_of(app: &App, tenant: &Tenant, a: &Application) -> Result<Option<Rank>, Error> {
    let window = super::documents::window_of(app, tenant, a).await?;
    rank(app, tenant, &window, a).await
}

/// Confirmation binds the capacity: `409 no_places` beyond it.
pub async fn check_within(
    app: &App,
    tenant: &Tenant,
    window: &Window,
    a: &Application,
) -> Result<(), Error> {
    let Some(capacity) = window.capacity else {
        return Ok(());
    };
    match position(app, tenant, a).await? {
        Some(p) if p <= capacity => Ok(()),
        _ => Err(Error::NoPlaces),
    }
}

/// A place freed (a rejection, a withdrawal): the application now at the
/// last place, if it is not confirmed, came within the places; its family
/// is mailed once for that place. Best effort: a failure is logged, the
/// office sees the ranking anyway.
pub async fn place_freed(app: &App, tenant: &Tenant, window: &Window) {
    let Some(capacity) = window.capacity else {
        return;
    };
    if let Err(e) = announce_last_place(app, tenant, window, capacity).await {
        tracing::warn!(error = %e, window = %window.id, "place available not announced");
    }
}

async fn announce_last_place(
    app: &App,
    tenant: &Tenant,
    window: &Window,
    capacity: u32,
) -> Result<(), Error> {
    let limit = usize::try_from(capacity).unwrap_or(usize::MAX);
    let first = app
        .store
        .ranked_first(&tenant.slug, &window.id, limit)
        .await?;
    let Some(last) = first.get(limit.saturating_sub(1)) else {
        return Ok(());
    };
    let Some(a) = app.store.get_application(&tenant.slug, last).await? else {
        return Ok(());
    };
    if !matches!(a.status, Status::Submitted | Status::Waitlisted) {
        return Ok(());
    }
    let now = app.clock.now();
    let message = OutboxMessage::new(&tenant.slug, &a.id, MessageKind::PlaceAvailable, now);
    // Once per application and place in the order.
    let key = app.config.keyed_hash(
        "place",
        tenant.slug.as_str(),
        a.rank_key.as_deref().unwrap_or(&a.id),
    );
    if app
        .store
        .claim_with_message(&tenant.slug, "place", &key, &message)
        .await?
    {
        tracing::info!(application = %a.id, "place available");
        super::outbox::deliver(app, &message, None).await?;
    }
    Ok(())
}
