//! The documents of a submitted application: made on submission (and
//! again after each change), stored privately under keys without personal
//! data, served through presigned links valid 300 seconds. A missing one
//! (a failed render or upload) is made again on the next request.

use serde::Serialize;

use super::sessions::SessionClaims;
use crate::app::App;
use crate::documents::application_docs::{self, Kind};
use crate::domain::application::{Application, Status};
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;
use crate::domain::window::Window;

/// Presigned links live this long.
pub const LINK_TTL_SECS: u64 = 300;

#[derive(Debug, Clone, Serialize)]
pub struct DocumentLink {
    pub kind: &'static str,
    pub filename: &'static str,
    pub url: String,
    pub expires_in: u64,
}

/// The window of `a`, as this process read it within `Config::window_ttl`.
pub(crate) async fn window_of(
    app: &App,
    tenant: &Tenant,
    a: &Application,
) -> Result<Window, Error> {
    super::tenants::window(app, tenant, &a.window_id)
        .await?
        .ok_or_else(|| Error::Internal("application without its window".into()))
}

/// Render and store one document of the application's version.
async fn make(
    app: &App,
    tenant: &Tenant,
    a: &Application,
    window: &Window,
    kind: Kind,
) -> Result<String, Error> {
    let key = application_docs::object_key(tenant, a, kind);
    let started = std::time::Instant::now();
    let pdf = application_docs::render_kind(kind, tenant, a, window, app.clock.now())?;
    tracing::info!(
        kind = kind.code(),
        ms = started.elapsed().as_millis() as u64,
        bytes = pdf.len(),
        "document rendered"
    );
    app.documents.put(&key, "application/pdf", pdf).await?;
    Ok(key)
}

/// Make every document of a submitted application's version, just
/// written (so none of them exists yet: no look first); failures are
/// logged and repaired on the next documents request. `earlier`: an
/// earlier version was submitted, whose documents are then deleted.
pub async fn prepare_all_in(
    app: &App,
    tenant: &Tenant,
    a: &Application,
    window: &Window,
    earlier: bool,
) {
    for kind in Kind::ALL {
        if let Err(e) = make(app, tenant, a, window, kind).await {
            tracing::error!(application = %a.id, kind = kind.code(), error = %e, "document not prepared");
        }
    }
    if earlier && let Err(e) = prune(app, tenant, a).await {
        tracing::warn!(application = %a.id, error = %e, "older documents not deleted");
    }
}

/// Only the current version of each document is kept: delete those of
/// older versions (never of a newer one, which a racing update may be
/// making).
async fn prune(app: &App, tenant: &Tenant, a: &Application) -> Result<(), Error> {
    let prefix = application_docs::prefix(tenant, a);
    for key in app.documents.list(&prefix).await? {
        let older = key
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_prefix('v'))
            .and_then(|rest| rest.split('/').next())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|v| v < a.version);
        if older {
            app.documents.delete(&key).await?;
        }
    }
    Ok(())
}

/// `GET applications/{id}/documents`.
pub async fn links(
    app: &App,
    tenant: &Tenant,
    session: &SessionClaims,
    id: &str,
) -> Result<Vec<DocumentLink>, Error> {
    let a = super::sessions::load_own(app, tenant, session, id).await?;
    if matches!(a.status, Status::Draft | Status::Expired) || a.submitted_at.is_none() {
        return Err(Error::NotSubmitted);
    }
    // One list of the version's documents; a missing one (a failed render
    // or upload at submission) is made now.
    let stored = app
        .documents
        .list(&format!(
            "{}v{}/",
            application_docs::prefix(tenant, &a),
            a.version
        ))
        .await?;
    let mut window = None;
    let mut out = Vec::new();
    for kind in Kind::ALL {
        let mut key = application_docs::object_key(tenant, &a, kind);
        if !stored.contains(&key) {
            let w = match window.take() {
                Some(w) => w,
                None => window_of(app, tenant, &a).await?,
            };
            key = make(app, tenant, &a, &w, kind).await?;
            window = Some(w);
        }
        let url = app
            .documents
            .presign_get(&key, kind.filename(), LINK_TTL_SECS)
            .await?;
        out.push(DocumentLink {
            kind: kind.code(),
            filename: kind.filename(),
            url,
            expires_in: LINK_TTL_SECS,
        });
    }
    Ok(out)
}
