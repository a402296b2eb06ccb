//! Seed data of the local stack: a tenant and its windows from a JSON file,
//! with window times relative to now so that the open window stays open,
//! and last year's roster from a CSV file beside it, imported by the same
//! code as staff imports.

use std::path::Path;

use serde::Deserialize;
use shared::app::App;
use shared::domain::tenant::{OidcProvider, StaffAuth, Tenant};
use shared::domain::values::SchoolYear;
use shared::domain::window::{Service, Window};
use time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    tenant: Tenant,
    windows: Vec<SeedWindow>,
    /// A roster CSV, relative to the seed file.
    #[serde(default)]
    roster: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedWindow {
    id: String,
    service: Service,
    school_year: SchoolYear,
    opens_days_from_now: i64,
    closes_days_from_now: i64,
}

/// The local identity providers a seeded tenant trusts unless its file
/// names its own.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub staff: Option<StaffAuth>,
    pub oidc: Option<OidcProvider>,
}

/// Write the file's tenant and windows (overwriting earlier seeds).
pub async fn seed_file(app: &App, path: &Path, trust: Trust) -> Result<(), String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut seed: SeedFile =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    if seed.tenant.staff_auth.is_none() {
        seed.tenant.staff_auth = trust.staff;
    }
    if seed.tenant.oidc.is_none() {
        seed.tenant.oidc = trust.oidc;
    }
    // Whole minutes, so that the seeded times read well.
    let now = app
        .clock
        .now()
        .replace_second(0)
        .unwrap_or(app.clock.now())
        .replace_nanosecond(0)
        .unwrap_or(app.clock.now());
    let closes_in_past = |w: &SeedWindow| w.closes_days_from_now <= 0;
    app.store
        .put_tenant(&seed.tenant)
        .await
        .map_err(|e| format!("seeding the tenant: {e}"))?;
    for w in &seed.windows {
        let opens_at = now + Duration::days(w.opens_days_from_now);
        let closes_at = now + Duration::days(w.closes_days_from_now);
        let window = Window {
            id: w.id.clone(),
            service: w.service,
            school_year: w.school_year.clone(),
            opens_at,
            closes_at,
            closed_at: closes_in_past(w).then_some(closes_at),
        };
        app.store
            .put_window(&seed.tenant.slug, &window)
            .await
            .map_err(|e| format!("seeding window {}: {e}", w.id))?;
    }
    if let Some(name) = &seed.roster {
        let file = path.parent().unwrap_or(Path::new(".")).join(name);
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report = shared::ops::renewals::import(app, &seed.tenant, &bytes)
            .await
            .map_err(|e| format!("importing {}: {}", file.display(), e.message()))?;
        if let Some(bad) = report.rejected.first() {
            return Err(format!(
                "{}: line {} refused ({})",
                file.display(),
                bad.line,
                bad.code
            ));
        }
    }
    Ok(())
}

/// A tenant whose windows the caller chooses (tests use this for isolation).
pub async fn seed_tenant(app: &App, tenant: &Tenant, windows: &[Window]) -> Result<(), String> {
    app.store
        .put_tenant(tenant)
        .await
        .map_err(|e| format!("seeding the tenant: {e}"))?;
    for w in windows {
        app.store
            .put_window(&tenant.slug, w)
            .await
            .map_err(|e| format!("seeding window {}: {e}", w.id))?;
    }
    Ok(())
}
