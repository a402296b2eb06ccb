//! Seed data of the local stack: a tenant and its windows from a JSON file,
//! with window times relative to now so that the open window stays open,
//! and last year's roster from a CSV file beside it, imported by the same
//! code as staff imports.

use std::path::Path;

use serde::Deserialize;
use shared::app::App;
use shared::domain::tenant::{OidcProvider, StaffAuth, Tenant};
use shared::domain::tenant_rules::Target;
use shared::domain::values::SchoolYear;
use shared::domain::window::{Service, Window};
use time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    /// The comune's tenant file (YAML), relative to the seed file, applied
    /// by the admin command's code.
    tenant_file: String,
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
    #[serde(default)]
    capacity: Option<u32>,
    #[serde(default)]
    ranking: shared::domain::ranking::Ranking,
}

/// The local identity providers a seeded tenant trusts unless its file
/// names its own.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub staff: Option<StaffAuth>,
    pub oidc: Option<OidcProvider>,
}

/// A seed file as JSON. A file with `"extends": "<other file>"` is that
/// file with this one merged over it (RFC 7386: objects merge key by key,
/// anything else replaces), so a variant tenant names only what differs.
fn read_seed(path: &Path) -> Result<serde_json::Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let base = value
        .as_object_mut()
        .and_then(|o| o.remove("extends"))
        .and_then(|b| b.as_str().map(str::to_owned));
    match base {
        None => Ok(value),
        Some(base) => {
            let mut merged = read_seed(&path.parent().unwrap_or(Path::new(".")).join(base))?;
            merge_patch(&mut merged, value);
            Ok(merged)
        }
    }
}

fn merge_patch(target: &mut serde_json::Value, patch: serde_json::Value) {
    match (target, patch) {
        (serde_json::Value::Object(t), serde_json::Value::Object(p)) => {
            for (key, value) in p {
                if value.is_null() {
                    t.remove(&key);
                } else {
                    merge_patch(t.entry(key).or_insert(serde_json::Value::Null), value);
                }
            }
        }
        (t, p) => *t = p,
    }
}

/// The seed files of the local stack, in the order they are applied.
pub const FILES: &[&str] = &["local/seed/demo.json", "local/seed/demo-sms.json"];
/// The tenants those files seed.
pub const SLUGS: &[&str] = &["demo", "demo-sms"];

/// The tenant of a seed's tenant file, for the local stack: checked as
/// `admin tenant validate` does (loopback addresses allowed), with the
/// local staff provider as the deployment's staff sign-in and the running
/// stand-in as its SPID/CIE provider when the file names a loopback one.
fn tenant_of(path: &Path, seed: &SeedFile, trust: Trust) -> Result<Tenant, String> {
    let file = path
        .parent()
        .unwrap_or(Path::new("."))
        .join(&seed.tenant_file);
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let mut tenant = admin::parse(&text, Target::Local).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.path, p.message))
            .collect();
        format!("{}:\n  {}", file.display(), lines.join("\n  "))
    })?;
    tenant.staff_auth = trust.staff;
    let loopback = |o: &OidcProvider| o.issuer.starts_with("http://127.0.0.1");
    if tenant.oidc.as_ref().is_none_or(loopback) {
        tenant.oidc = trust.oidc;
    }
    Ok(tenant)
}

/// The tenant a seed file names, as the local stack applies it, without
/// its identity providers (for the benchmarks' documents).
pub fn tenant_of_file(path: &Path) -> Result<Tenant, String> {
    let seed: SeedFile =
        serde_json::from_value(read_seed(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    tenant_of(
        path,
        &seed,
        Trust {
            staff: None,
            oidc: None,
        },
    )
}

/// Write the file's tenant (through `admin tenant apply`) and windows
/// (overwriting earlier seeds).
pub async fn seed_file(app: &App, path: &Path, trust: Trust) -> Result<(), String> {
    let seed: SeedFile =
        serde_json::from_value(read_seed(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    let tenant = tenant_of(path, &seed, trust)?;
    // Whole minutes, so that the seeded times read well.
    let now = app
        .clock
        .now()
        .replace_second(0)
        .unwrap_or(app.clock.now())
        .replace_nanosecond(0)
        .unwrap_or(app.clock.now());
    let closes_in_past = |w: &SeedWindow| w.closes_days_from_now <= 0;
    admin::apply(app.store.as_ref(), tenant.clone(), false)
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
            capacity: w.capacity,
            ranking: w.ranking,
        };
        app.store
            .put_window(&tenant.slug, &window)
            .await
            .map_err(|e| format!("seeding window {}: {e}", w.id))?;
    }
    if let Some(name) = &seed.roster {
        let file = path.parent().unwrap_or(Path::new(".")).join(name);
        let bytes =
            std::fs::read(&file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let report = shared::ops::renewals::import(app, &tenant, &bytes)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_variant_names_only_what_differs() {
        let mut base = serde_json::json!({
            "tenant": { "slug": "demo", "name": "A", "information": { "portal_url": "x", "top_up": ["t"] } },
            "roster": "r.csv"
        });
        merge_patch(
            &mut base,
            serde_json::json!({
                "tenant": { "slug": "demo-sms", "information": { "portal_url": "y" } },
                "roster": null
            }),
        );
        assert_eq!(
            base,
            serde_json::json!({
                "tenant": { "slug": "demo-sms", "name": "A", "information": { "portal_url": "y", "top_up": ["t"] } }
            })
        );
    }

    #[test]
    fn every_seed_file_reads_and_its_tenant_file_is_valid() {
        let mut tenants = Vec::new();
        for file in FILES {
            let path = crate::workspace_root().join(file);
            let value = read_seed(&path).expect("seed");
            let seed: SeedFile = serde_json::from_value(value).expect(file);
            assert!(!seed.windows.is_empty(), "{file}");
            tenants.push(tenant_of(&path, &seed, Trust::default()).expect(file));
        }
        assert_eq!(tenants[1].slug.as_str(), "demo-sms");
        assert!(tenants[1].require_verified_phone);
        assert!(
            tenants[0]
                .schools
                .iter()
                .any(|s| s.name == "Primaria G. Mazzini")
        );
    }
}
