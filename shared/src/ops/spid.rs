//! SPID/CIE login through the tenant's OpenID Connect provider: the ID
//! token's signature (the provider's JWKS, the algorithm pinned to the
//! tenant's configuration, never a symmetric one), `iss`, `aud`, `exp`,
//! `iat` (not in the future beyond a small skew), single use (its `jti`, or
//! the token's hash, remembered until it expires), and the guardian's
//! fiscal code from the SPID/CIE attribute claim.

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;
use time::OffsetDateTime;

use crate::app::App;
use crate::domain::error::Error;
use crate::domain::fiscal_code::FiscalCode;
use crate::domain::tenant::Tenant;
use crate::ops::sessions::{self, Opened, SessionClaims};

/// Clock skew tolerated on `iat`.
pub const IAT_SKEW_SECS: i64 = 60;
pub const FISCAL_NUMBER_CLAIM: &str = "https://attributes.eid.gov.it/fiscal_number";

pub fn asymmetric(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "PS256" => Some(Algorithm::PS256),
        "PS384" => Some(Algorithm::PS384),
        "PS512" => Some(Algorithm::PS512),
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "EdDSA" => Some(Algorithm::EdDSA),
        _ => None,
    }
}

/// The guardian's fiscal code from the claims: the SPID/CIE attribute, or
/// `fiscal_number` where a broker renames it, `TINIT-` removed.
pub fn fiscal_code_of(claims: &Value) -> Option<FiscalCode> {
    let raw = claims
        .get(FISCAL_NUMBER_CLAIM)
        .or_else(|| claims.get("fiscal_number"))
        .and_then(Value::as_str)?;
    let code = raw.trim();
    let code = code
        .strip_prefix("TINIT-")
        .or_else(|| code.strip_prefix("tinit-"))
        .unwrap_or(code);
    FiscalCode::parse(code).ok()
}

/// Verify an ID token and return its claims. Every failure is `401
/// invalid_id_token` (a provider that cannot be reached is `503`).
/// `nonce`, when the client sends the one it put in the authorization
/// request, must be the token's; `azp`, when the token has one, must be our
/// client id (OpenID Connect Core 3.1.3.7).
pub async fn verify(
    app: &App,
    tenant: &Tenant,
    token: &str,
    nonce: Option<&str>,
) -> Result<(Value, FiscalCode), Error> {
    let provider = tenant.oidc.as_ref().ok_or(Error::InvalidIdToken)?;
    let alg = asymmetric(&provider.algorithm).ok_or(Error::InvalidIdToken)?;
    let header = jsonwebtoken::decode_header(token).map_err(|_| Error::InvalidIdToken)?;
    if header.alg != alg {
        return Err(Error::InvalidIdToken);
    }
    let jwk = super::jwks::key(&provider.jwks_uri, header.kid.as_deref())
        .await?
        .ok_or(Error::InvalidIdToken)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Error::InvalidIdToken)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[provider.issuer.as_str()]);
    validation.set_audience(&[provider.client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    validation.leeway = 0;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map_err(|_| Error::InvalidIdToken)?
        .claims;
    let now = app.clock.now().unix_timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(Error::InvalidIdToken)?;
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or(Error::InvalidIdToken)?;
    if now >= exp || iat > now + IAT_SKEW_SECS {
        return Err(Error::InvalidIdToken);
    }
    if !bound_to_us(&claims, &provider.client_id, nonce) {
        return Err(Error::InvalidIdToken);
    }
    let fiscal_code = fiscal_code_of(&claims).ok_or(Error::InvalidIdToken)?;
    // Accepted once: remember its jti (or the token itself) until it expires.
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| token.to_owned());
    let key = app
        .config
        .keyed_hash("id-token", tenant.slug.as_str(), &jti);
    let expires = OffsetDateTime::from_unix_timestamp(exp + 60).ok();
    if !app
        .store
        .claim_once(&tenant.slug, "id-token", &key, expires)
        .await?
    {
        tracing::warn!("replayed id token refused");
        return Err(Error::InvalidIdToken);
    }
    Ok((claims, fiscal_code))
}

/// Whether the token was issued to us for this login: `azp` (when present)
/// is our client id, and `nonce` (when the client sent one) is the token's.
fn bound_to_us(claims: &Value, client_id: &str, nonce: Option<&str>) -> bool {
    let azp_ok = match claims.get("azp") {
        None => true,
        Some(azp) => azp.as_str() == Some(client_id),
    };
    let nonce_ok = match nonce {
        None => true,
        Some(n) => !n.is_empty() && claims.get("nonce").and_then(Value::as_str) == Some(n),
    };
    azp_ok && nonce_ok
}

/// `POST /sessions {id_token, nonce?}`: a session with the SPID/CIE identity
/// (merged into `existing`, if any).
pub async fn login(
    app: &App,
    tenant: &Tenant,
    token: &str,
    nonce: Option<&str>,
    existing: Option<SessionClaims>,
) -> Result<Opened, Error> {
    let (_, fiscal_code) = verify(app, tenant, token, nonce).await?;
    let mut claims = sessions::renew_or_new(app, tenant, existing)?;
    claims.spid_fiscal_code = Some(fiscal_code.to_string());
    tracing::info!("session opened with SPID/CIE");
    sessions::open(app, claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fiscal_number_claims() {
        let c = serde_json::json!({ FISCAL_NUMBER_CLAIM: "TINIT-RSSMRA15E41A662Y" });
        assert_eq!(
            fiscal_code_of(&c).map(|f| f.to_string()),
            Some("RSSMRA15E41A662Y".into())
        );
        let c = serde_json::json!({ "fiscal_number": "RSSMRA15E41A662Y" });
        assert!(fiscal_code_of(&c).is_some());
        let c = serde_json::json!({ "fiscal_number": "TINIT-NOTACODE" });
        assert!(fiscal_code_of(&c).is_none());
        assert!(fiscal_code_of(&serde_json::json!({})).is_none());
    }

    #[test]
    fn tokens_are_bound_to_our_client_and_the_login_nonce() {
        let c = serde_json::json!({ "aud": "portale", "nonce": "n-1" });
        assert!(bound_to_us(&c, "portale", None));
        assert!(bound_to_us(&c, "portale", Some("n-1")));
        assert!(!bound_to_us(&c, "portale", Some("n-2")));
        assert!(!bound_to_us(&c, "portale", Some("")));
        let without = serde_json::json!({ "aud": "portale" });
        assert!(!bound_to_us(&without, "portale", Some("n-1")));
        let azp = serde_json::json!({ "azp": "portale" });
        assert!(bound_to_us(&azp, "portale", None));
        let other = serde_json::json!({ "azp": "altro-client" });
        assert!(!bound_to_us(&other, "portale", None));
    }

    #[test]
    fn symmetric_algorithms_are_never_accepted() {
        assert!(asymmetric("HS256").is_none());
        assert!(asymmetric("none").is_none());
        assert!(asymmetric("RS256").is_some());
    }
}
