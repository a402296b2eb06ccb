//! The tenant of a request, kept per process for a short time: every
//! request needs the comune's configuration, and reading it each time made
//! its item the hottest read of the table (one partition, 3,000 RRU/s) and
//! one more round trip per request. A change made with `admin tenant apply`
//! reaches every function within `Config::tenant_ttl` (30 s). Only found
//! tenants are kept: a comune created a moment ago is found at once. The
//! windows the parents' requests read are kept the same way, for
//! `Config::window_ttl` (2 s). The copies live in `crate::cache`.

use std::sync::Arc;

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;

/// The comune `slug`, from this process's copy if it is fresh enough,
/// else from the store; `404 tenant_not_found` when there is none.
pub async fn tenant(app: &App, slug: &TenantSlug) -> Result<Tenant, Error> {
    let ttl = app.config.tenant_ttl;
    if let Some(t) = app.tenants.get(slug, ttl) {
        return Ok((*t).clone());
    }
    let found = app
        .store
        .get_tenant(slug)
        .await?
        .ok_or(Error::TenantNotFound)?;
    if !ttl.is_zero() {
        app.tenants.keep(Arc::new(found.clone()));
    }
    Ok(found)
}

/// Window `id` of the comune for a parent's request: this process's copy
/// if read within `Config::window_ttl`, else from the store (kept then).
pub(crate) async fn window(app: &App, tenant: &Tenant, id: &str) -> Result<Option<Window>, Error> {
    let ttl = app.config.window_ttl;
    if let Some(w) = app.tenants.window(&tenant.slug, id, ttl) {
        return Ok(Some(w));
    }
    let found = app.store.get_window(&tenant.slug, id).await?;
    if let Some(w) = &found
        && !ttl.is_zero()
    {
        app.tenants.keep_window(&tenant.slug, w);
    }
    Ok(found)
}
