//! The `staff-token` function: Amazon Cognito's pre-token-generation
//! trigger of the staff user pool. Staff of every comune sign in through
//! the deployment's one user pool, a group per comune (named by its slug,
//! managed by `admin staff invite|remove`); this trigger puts the claims
//! the API requires into the ID token: `role: "staff"` and `tenant:
//! "<slug>"`, from the user's group. Users cannot write groups, and no
//! user attribute is read, so nobody can give themselves a role or a
//! tenant. A user in no comune's group, or in several, gets neither claim
//! (and every staff route refuses the token).

use serde_json::{Value, json};
use shared::domain::values::TenantSlug;

pub const BINARY: &str = "staff-token";

/// The claims a user of `groups` gets: `None` unless exactly one group is
/// a tenant slug.
pub fn staff_claims(groups: &[String]) -> Option<(String, String)> {
    let tenants: Vec<&String> = groups
        .iter()
        .filter(|g| TenantSlug::parse(g).is_ok())
        .collect();
    match tenants.as_slice() {
        [one] => Some(("staff".to_owned(), (*one).clone())),
        _ => None,
    }
}

/// The trigger's event with its response filled in (Cognito's V1 event
/// shape: `request.groupConfiguration.groupsToOverride`; the answer in
/// `response.claimsOverrideDetails`). The claims `role` and `tenant` are
/// always overridden, and suppressed when the user has no single tenant.
pub fn handle(mut event: Value) -> Value {
    let groups: Vec<String> = event
        .pointer("/request/groupConfiguration/groupsToOverride")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let details = match staff_claims(&groups) {
        Some((role, tenant)) => {
            tracing::info!(tenant = %tenant, "staff claims issued");
            json!({
                "claimsToAddOrOverride": { "role": role, "tenant": tenant },
            })
        }
        None => {
            tracing::warn!(
                groups = groups.len(),
                "no single comune for this user: no staff claims"
            );
            json!({ "claimsToSuppress": ["role", "tenant"] })
        }
    };
    if let Some(map) = event.as_object_mut() {
        map.insert(
            "response".into(),
            json!({ "claimsOverrideDetails": details }),
        );
    }
    event
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_comune_gives_the_claims_and_anything_else_none() {
        let g = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            staff_claims(&g(&["demo"])),
            Some(("staff".into(), "demo".into()))
        );
        // Cognito's own groups (names with capitals or underscores) are not comuni.
        assert_eq!(
            staff_claims(&g(&["demo", "us-east-1_Google"])),
            Some(("staff".into(), "demo".into()))
        );
        assert_eq!(staff_claims(&g(&[])), None);
        assert_eq!(staff_claims(&g(&["demo", "altrove"])), None);
    }

    #[test]
    fn the_sample_events_get_their_answers() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events/staff-token");
        let read = |name: &str| -> Value {
            serde_json::from_str(&std::fs::read_to_string(dir.join(name)).expect("sample"))
                .expect("json")
        };
        let out = handle(read("one-comune.json"));
        assert_eq!(
            out.pointer("/response/claimsOverrideDetails/claimsToAddOrOverride"),
            Some(&json!({ "role": "staff", "tenant": "demo" }))
        );
        // The rest of the event comes back as it was.
        assert_eq!(out["userPoolId"], read("one-comune.json")["userPoolId"]);
        let out = handle(read("no-group.json"));
        assert_eq!(
            out.pointer("/response/claimsOverrideDetails/claimsToSuppress"),
            Some(&json!(["role", "tenant"]))
        );
        assert!(
            out.pointer("/response/claimsOverrideDetails/claimsToAddOrOverride")
                .is_none()
        );
    }
}
