//! Staff tokens: JWTs from the tenant's staff identity provider (Cognito
//! in production, checked there by API Gateway's JWT authorizer and again
//! here). The algorithm is pinned to the tenant's configuration, the key
//! comes from the tenant's JWKS, `iss`, `exp` (and `aud` when configured)
//! are required, `role` must be `staff`, and a token of another tenant sees
//! nothing (`404`).

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::Request;
use serde::Deserialize;

use super::bearer_token;
use crate::app::App;
use crate::domain::error::Error;
use crate::domain::tenant::Tenant;

#[derive(Debug, Clone, Deserialize)]
pub struct StaffClaims {
    pub sub: String,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub tenant: Option<String>,
}

fn algorithm(name: &str) -> Option<Algorithm> {
    match name {
        "RS256" => Some(Algorithm::RS256),
        "RS384" => Some(Algorithm::RS384),
        "RS512" => Some(Algorithm::RS512),
        "ES256" => Some(Algorithm::ES256),
        "ES384" => Some(Algorithm::ES384),
        "PS256" => Some(Algorithm::PS256),
        "EdDSA" => Some(Algorithm::EdDSA),
        // Symmetric algorithms are never accepted for staff tokens.
        _ => None,
    }
}

/// Whom a staff token must come from: the tenant's own provider (a JWKS
/// in its configuration), or the deployment's staff user pool.
struct Provider {
    issuer: String,
    audience: Option<String>,
    algorithm: Algorithm,
}

/// The staff member of the request, for `tenant`. A tenant with its own
/// provider (`staff_auth`) trusts that one; otherwise the deployment's
/// user pool (`STAFF_ISSUER`, `STAFF_CLIENT_ID`: Amazon Cognito, its keys
/// fetched from the pool's JWKS and cached), whose pre-token trigger puts
/// `role` and `tenant` from the user's group.
pub async fn staff_session(
    app: &App,
    req: &Request,
    tenant: &Tenant,
) -> Result<StaffClaims, Error> {
    let token = bearer_token(req).ok_or(Error::Unauthorized)?;
    // A valid parent session is a caller without the staff role.
    if crate::ops::sessions::verify(&app.config, token, &tenant.slug, app.clock.now()).is_ok() {
        return Err(Error::Forbidden);
    }
    let header = jsonwebtoken::decode_header(token).map_err(|_| Error::Unauthorized)?;
    let (provider, jwk) = match (&tenant.staff_auth, &app.config.staff_pool) {
        (Some(config), _) => {
            let keys: JwkSet =
                serde_json::from_value(config.jwks.clone()).map_err(|_| Error::Unauthorized)?;
            let jwk = match &header.kid {
                Some(kid) => keys.find(kid),
                None if keys.keys.len() == 1 => keys.keys.first(),
                None => None,
            }
            .cloned()
            .ok_or(Error::Unauthorized)?;
            let provider = Provider {
                issuer: config.issuer.clone(),
                audience: config.audience.clone(),
                algorithm: algorithm(&config.algorithm).ok_or(Error::Unauthorized)?,
            };
            (provider, jwk)
        }
        (None, Some(pool)) => {
            let provider = Provider {
                issuer: pool.issuer.clone(),
                audience: Some(pool.client_id.clone()),
                algorithm: algorithm(&pool.algorithm).ok_or(Error::Unauthorized)?,
            };
            // The algorithm before any fetch: a forged header costs nothing.
            if header.alg != provider.algorithm {
                return Err(Error::Unauthorized);
            }
            let uri = format!(
                "{}/.well-known/jwks.json",
                pool.issuer.trim_end_matches('/')
            );
            let jwk = crate::ops::jwks::key(&uri, header.kid.as_deref())
                .await?
                .ok_or(Error::Unauthorized)?;
            (provider, jwk)
        }
        (None, None) => return Err(Error::Unauthorized),
    };
    let alg = provider.algorithm;
    if header.alg != alg {
        return Err(Error::Unauthorized);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| Error::Unauthorized)?;
    let mut validation = Validation::new(alg);
    validation.set_issuer(&[provider.issuer.as_str()]);
    match &provider.audience {
        Some(aud) => {
            validation.set_audience(&[aud.as_str()]);
            validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        }
        None => {
            validation.validate_aud = false;
            validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        }
    }
    validation.validate_exp = false;
    validation.leeway = 0;
    #[derive(Deserialize)]
    struct Expiry {
        exp: i64,
    }
    let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
        .map_err(|_| Error::Unauthorized)?;
    let exp: Expiry =
        serde_json::from_value(data.claims.clone()).map_err(|_| Error::Unauthorized)?;
    if app.clock.now().unix_timestamp() >= exp.exp {
        return Err(Error::Unauthorized);
    }
    let claims: StaffClaims =
        serde_json::from_value(data.claims).map_err(|_| Error::Unauthorized)?;
    if claims.role.as_deref() != Some("staff") {
        return Err(Error::Forbidden);
    }
    if claims.tenant.as_deref() != Some(tenant.slug.as_str()) {
        return Err(Error::NotFound);
    }
    Ok(claims)
}
