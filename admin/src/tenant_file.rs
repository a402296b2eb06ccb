//! Tenant files: a comune's configuration in YAML, the fields of
//! `shared::domain::tenant::Tenant` (see `docs/tenant-file.example.yaml`).
//! The staff sign-in (`staff_auth`) is the deployment's, never a file's.

use std::collections::BTreeMap;

use serde_json::Value;
use shared::domain::tenant::Tenant;
use shared::domain::tenant_rules::{Problem, Target};
use shared::domain::values::TenantSlug;
use shared::ports::{StoreError, TenantStore};

/// What the file may not set.
const DEPLOYMENT_ONLY: &[&str] = &["staff_auth"];

/// The configuration a file describes, or every problem found: a file
/// that is not YAML or does not have the configuration's shape gives that
/// one problem (with its line); otherwise every rule it breaks.
pub fn parse(text: &str, target: Target) -> Result<Tenant, Vec<Problem>> {
    let value: Value = serde_norway::from_str(text).map_err(|e| {
        vec![Problem {
            path: String::new(),
            message: format!("not a valid YAML document: {e}"),
        }]
    })?;
    let mut problems = Vec::new();
    if let Some(map) = value.as_object() {
        for key in DEPLOYMENT_ONLY {
            if map.contains_key(*key) {
                problems.push(Problem {
                    path: (*key).to_owned(),
                    message: "set by the deployment (the staff user pool), not by a tenant file"
                        .into(),
                });
            }
        }
    }
    // The shape, through the YAML deserializer itself: its message names
    // the field and the line.
    let tenant: Tenant = match serde_norway::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            problems.push(Problem {
                path: e
                    .location()
                    .map(|l| format!("line {}", l.line()))
                    .unwrap_or_default(),
                message: e.to_string(),
            });
            return Err(problems);
        }
    };
    problems.extend(tenant.problems(target));
    if problems.is_empty() {
        Ok(tenant)
    } else {
        Err(problems)
    }
}

/// The configuration as a file: what `parse` reads back to the same value.
pub fn to_file(tenant: &Tenant) -> Result<String, String> {
    // In the configuration's own order; the deployment's part left out.
    let body = serde_norway::to_string(&Tenant {
        staff_auth: None,
        ..tenant.clone()
    })
    .map_err(|e| e.to_string())?;
    Ok(format!(
        "# Tenant file of {} ({}), exported by `admin tenant export`.\n\
# Edit, review, then `admin tenant apply <file>`; see docs/tenant-file.example.yaml.\n{body}",
        tenant.name, tenant.slug
    ))
}

/// `admin tenant export SLUG`: the stored configuration as a file.
pub async fn export(store: &dyn TenantStore, slug: &str) -> Result<String, String> {
    let slug = TenantSlug::parse(slug).map_err(|_| format!("{slug:?} is not a tenant slug"))?;
    let tenant = store
        .get_tenant(&slug)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no tenant {slug}"))?;
    to_file(&tenant)
}

/// Every leaf of a JSON value by dotted path.
fn leaves(value: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_owned()
        } else {
            format!("{path}.{k}")
        }
    };
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                leaves(v, &join(k), out);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for (i, v) in items.iter().enumerate() {
                leaves(v, &join(&i.to_string()), out);
            }
        }
        other => {
            out.insert(path.to_owned(), other.to_string());
        }
    }
}

fn comparable(tenant: &Tenant) -> BTreeMap<String, String> {
    let mut value = serde_json::to_value(tenant).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        for key in DEPLOYMENT_ONLY {
            map.remove(*key);
        }
    }
    let mut out = BTreeMap::new();
    leaves(&value, "", &mut out);
    out
}

/// The changes from `before` to `after`, a line each: `+ path: value`,
/// `- path: value`, `~ path: old -> new`.
pub fn diff(before: Option<&Tenant>, after: &Tenant) -> Vec<String> {
    let old = before.map(comparable).unwrap_or_default();
    let new = comparable(after);
    let mut lines = Vec::new();
    for (path, value) in &new {
        match old.get(path) {
            None => lines.push(format!("+ {path}: {value}")),
            Some(was) if was != value => lines.push(format!("~ {path}: {was} -> {value}")),
            Some(_) => {}
        }
    }
    for (path, value) in &old {
        if !new.contains_key(path) {
            lines.push(format!("- {path}: {value}"));
        }
    }
    // The deployment's staff sign-in: named, not shown (its keys).
    if before.map(|b| &b.staff_auth) != Some(&after.staff_auth) && after.staff_auth.is_some() {
        lines.push("~ staff_auth: the deployment's staff sign-in".to_owned());
    }
    lines
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The tenant is new.
    pub created: bool,
    /// The changes, as `diff` writes them (empty: nothing to do).
    pub changes: Vec<String>,
    /// Whether it was written (not for a dry run, nor without changes).
    pub written: bool,
}

/// `admin tenant apply FILE [--dry-run]`: write the configuration if it
/// differs from the stored one, on the condition that the stored one is
/// still the one compared (another apply in between is refused: run it
/// again). The deployment's staff sign-in is kept.
pub async fn apply(
    store: &dyn TenantStore,
    mut tenant: Tenant,
    dry_run: bool,
) -> Result<Applied, String> {
    let current = store
        .get_tenant_versioned(&tenant.slug)
        .await
        .map_err(|e| e.to_string())?;
    if tenant.staff_auth.is_none() {
        tenant.staff_auth = current.as_ref().and_then(|c| c.value.staff_auth.clone());
    }
    let changes = diff(current.as_ref().map(|c| &c.value), &tenant);
    let created = current.is_none();
    if changes.is_empty() && !created {
        return Ok(Applied {
            created,
            changes,
            written: false,
        });
    }
    if dry_run {
        return Ok(Applied {
            created,
            changes,
            written: false,
        });
    }
    match store
        .replace_tenant(&tenant, current.as_ref().map(|c| c.version))
        .await
    {
        Ok(()) => Ok(Applied {
            created,
            changes,
            written: true,
        }),
        Err(StoreError::Conflict) => Err(format!(
            "the configuration of {} changed while this apply ran (another apply?): nothing written, run it again",
            tenant.slug
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "
slug: esempio
name: Comune di Esempio
contact_email: scuola@comune.example.it
phone: '+39 080 0000000'
services: [refezione]
fee_bands:
  - { code: A, max_isee_cents: 600000, fee_cents: 200 }
  - { code: B, fee_cents: 500 }
information:
  service_rules: [Regole del servizio.]
  privacy_notice: [Informativa.]
  portal_url: https://iscrizioni.comune.example.it/esempio/
";

    #[test]
    fn a_file_reads_and_exports_back_to_the_same_configuration() {
        let t = parse(FILE, Target::Deployed).expect("valid");
        assert_eq!(t.name, "Comune di Esempio");
        let again = parse(&to_file(&t).expect("export"), Target::Deployed).expect("valid");
        assert_eq!(again, t);
        assert!(diff(Some(&t), &again).is_empty());
    }

    #[test]
    fn the_documented_example_is_valid() {
        let text = include_str!("../../docs/tenant-file.example.yaml");
        let t = parse(text, Target::Deployed).expect("the example is valid");
        assert_eq!(t.slug.as_str(), "esempio");
        assert_eq!(
            t.service(shared::domain::window::Service::Trasporto)
                .stops
                .len(),
            2
        );
    }

    #[test]
    fn a_broken_file_lists_what_is_wrong() {
        let broken = FILE
            .replace("name: Comune di Esempio", "name: ''")
            .replace("max_isee_cents: 600000, ", "")
            .replace("https://iscrizioni", "http://iscrizioni");
        let problems = parse(&broken, Target::Deployed).expect_err("broken");
        let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "name",
                "fee_bands.0.max_isee_cents",
                "information.portal_url"
            ]
        );
        // Not the configuration's shape: one problem, with its line.
        let problems =
            parse(&format!("{FILE}colour: blue\n"), Target::Deployed).expect_err("shape");
        assert_eq!(problems.len(), 1);
        assert!(problems[0].message.contains("colour"), "{problems:?}");
        assert!(problems[0].path.starts_with("line "), "{problems:?}");
        let problems =
            parse(&format!("{FILE}staff_auth: {{}}\n"), Target::Deployed).expect_err("staff");
        assert_eq!(problems[0].path, "staff_auth");
        assert!(parse("slug: [", Target::Deployed).is_err());
    }

    #[test]
    fn the_diff_names_each_change() {
        let before = parse(FILE, Target::Deployed).expect("valid");
        let mut after = before.clone();
        after.name = "Comune di Altrove".into();
        after.phone = "+39 06 1".into();
        after.arrears_tolerance_cents = 500;
        let lines = diff(Some(&before), &after);
        assert!(
            lines.contains(&"~ name: \"Comune di Esempio\" -> \"Comune di Altrove\"".to_owned()),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l.starts_with("~ phone:")));
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("~ arrears_tolerance_cents:"))
        );
        assert_eq!(diff(None, &before).len(), comparable(&before).len());
    }
}
