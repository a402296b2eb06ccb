//! Parent sessions: short-lived JWTs signed by us (HS256 pinned, `iss`,
//! `aud`, `exp`, `sub` required, tenant checked). A session carries the
//! verified email and/or the SPID/CIE fiscal code of the guardian.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::config::Config;
use crate::domain::error::Error;
use crate::domain::values::TenantSlug;

/// Sessions last 30 minutes.
pub const SESSION_TTL_SECS: i64 = 1800;
/// The audience of parent session tokens; other token kinds use others.
pub const SESSION_AUDIENCE: &str = "parent-session";

/// The claims of a parent session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    pub iss: String,
    pub aud: String,
    /// A random session id (not personal data).
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    pub tenant: String,
    /// The verified email address, if proven in this session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The guardian's fiscal code from SPID/CIE, if logged in that way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spid_fiscal_code: Option<String>,
    /// Keyed hash of the pupil's fiscal code, for a session opened with the
    /// pupil's fiscal code and password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pupil: Option<String>,
    /// Set for a session opened with a temporary password.
    #[serde(default)]
    pub must_change_password: bool,
}

impl SessionClaims {
    pub fn new(config: &Config, tenant: &TenantSlug, now: OffsetDateTime, sub: String) -> Self {
        let iat = now.unix_timestamp();
        Self {
            iss: config.session_issuer.clone(),
            aud: SESSION_AUDIENCE.into(),
            sub,
            iat,
            exp: iat + SESSION_TTL_SECS,
            tenant: tenant.to_string(),
            email: None,
            spid_fiscal_code: None,
            pupil: None,
            must_change_password: false,
        }
    }

    pub fn expires_at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.exp).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

pub fn issue(config: &Config, claims: &SessionClaims) -> Result<String, Error> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(config.session_key()),
    )
    .map_err(|e| Error::Internal(format!("session signing failed: {e}")))
}

/// Verify a session token for `tenant` at `now` (our clock, not the
/// library's: expiry follows the injected clock). Any failure is `401`,
/// except a valid session of another tenant: `404`.
pub fn verify(
    config: &Config,
    token: &str,
    tenant: &TenantSlug,
    now: OffsetDateTime,
) -> Result<SessionClaims, Error> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_issuer(&[config.session_issuer.as_str()]);
    validation.set_audience(&[SESSION_AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    // Expiry is checked below against the injected clock, to the second.
    validation.validate_exp = false;
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<SessionClaims>(
        token,
        &DecodingKey::from_secret(config.session_key()),
        &validation,
    )
    .map_err(|_| Error::Unauthorized)?;
    let claims = data.claims;
    if now.unix_timestamp() >= claims.exp {
        return Err(Error::Unauthorized);
    }
    // A valid session of another tenant: nothing here is the caller's, and
    // whether it exists is not revealed (the contract's "wrong tenant").
    if claims.tenant != tenant.as_str() {
        return Err(Error::NotFound);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use time::macros::datetime;

    fn config() -> Config {
        Config::new("t", "b", "m@x.it", &[9u8; 32]).expect("config")
    }

    fn demo() -> TenantSlug {
        TenantSlug::parse("demo").expect("slug")
    }

    const NOW: OffsetDateTime = datetime!(2025-04-22 08:00 UTC);

    fn token() -> String {
        let mut claims = SessionClaims::new(&config(), &demo(), NOW, "s-1".into());
        claims.email = Some("anna@example.it".into());
        issue(&config(), &claims).expect("token")
    }

    #[test]
    fn round_trip() {
        let claims = verify(&config(), &token(), &demo(), NOW).expect("valid");
        assert_eq!(claims.email.as_deref(), Some("anna@example.it"));
        assert_eq!(claims.exp - claims.iat, 1800);
    }

    #[test]
    fn expired_wrong_tenant_wrong_key_are_refused() {
        let t = token();
        assert!(verify(&config(), &t, &demo(), NOW + time::Duration::seconds(1800)).is_err());
        assert!(verify(&config(), &t, &demo(), NOW + time::Duration::seconds(1799)).is_ok());
        let other = TenantSlug::parse("other").expect("slug");
        assert_eq!(verify(&config(), &t, &other, NOW), Err(Error::NotFound));
        let other_key = Config::new("t", "b", "m", &[1u8; 32]).expect("config");
        assert_eq!(
            verify(&other_key, &t, &demo(), NOW),
            Err(Error::Unauthorized)
        );
    }

    #[test]
    fn alg_none_and_tampering_are_refused() {
        let t = token();
        let parts: Vec<&str> = t.split('.').collect();
        let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let forged = format!("{none_header}.{}.", parts[1]);
        assert!(verify(&config(), &forged, &demo(), NOW).is_err());
        let mut payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("b64")).expect("json");
        payload["tenant"] = "other".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            parts[2]
        );
        assert!(verify(&config(), &tampered, &demo(), NOW).is_err());
        assert!(verify(&config(), "garbage", &demo(), NOW).is_err());
    }

    #[test]
    fn wrong_audience_is_refused() {
        let mut claims = SessionClaims::new(&config(), &demo(), NOW, "s".into());
        claims.aud = "staff".into();
        let t = issue(&config(), &claims).expect("token");
        assert!(verify(&config(), &t, &demo(), NOW).is_err());
    }
}
