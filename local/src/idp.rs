//! The local stand-in identity providers' keys: one signs staff tokens,
//! another SPID/CIE ID tokens; the seeded tenants trust their JWKS.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use shared::domain::error::Error;
use shared::domain::tenant::{OidcProvider, StaffAuth};

/// A local stand-in identity provider: an ES256 key made for this run,
/// whose public half (a JWKS) the seeded tenants trust. One serves staff
/// tokens, another SPID/CIE ID tokens.
#[derive(Clone)]
pub struct LocalIdp {
    key: EncodingKey,
    kid: String,
    pub jwks: serde_json::Value,
    /// Its issuer: `<stack>/_local/staff-idp` for the staff stand-in, whose
    /// keys are then at `<issuer>/.well-known/jwks.json` as a Cognito
    /// pool's are.
    pub issuer: String,
}

/// The path of the staff stand-in under the stack's address.
pub const STAFF_IDP_PATH: &str = "/_local/staff-idp";
/// The app client id of the staff stand-in's tokens (`aud`).
pub const STAFF_CLIENT_ID: &str = "staff";
/// The client id of the local SPID/CIE stand-in's tokens.
pub const OIDC_CLIENT_ID: &str = "iscrizioni-locale";

impl LocalIdp {
    pub fn generate(kid: &str, issuer: &str) -> Result<Self, String> {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .map_err(|_| "cannot generate a local signing key".to_string())?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| "cannot read a local signing key".to_string())?;
        // Uncompressed point: 0x04, then X and Y, 32 bytes each.
        let point = pair.public_key().as_ref();
        let (Some(x), Some(y)) = (point.get(1..33), point.get(33..65)) else {
            return Err("unexpected public key shape".into());
        };
        Ok(Self {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            kid: kid.to_owned(),
            jwks: json!({ "keys": [{
                "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
                "x": URL_SAFE_NO_PAD.encode(x), "y": URL_SAFE_NO_PAD.encode(y),
            }]}),
            issuer: issuer.to_owned(),
        })
    }

    /// Sign `claims` (ES256, with this key's `kid`).
    pub fn sign(&self, claims: &serde_json::Value) -> Result<String, Error> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| Error::Internal(format!("local token signing: {e}")))
    }

    /// What a tenant configures to trust this provider for staff.
    pub fn trust(&self) -> StaffAuth {
        StaffAuth {
            issuer: self.issuer.clone(),
            audience: Some(STAFF_CLIENT_ID.into()),
            algorithm: "ES256".into(),
            jwks: self.jwks.clone(),
        }
    }

    /// What the deployment's configuration says of this stand-in as the
    /// staff user pool.
    pub fn pool(&self) -> shared::config::StaffPool {
        shared::config::StaffPool {
            issuer: self.issuer.clone(),
            client_id: STAFF_CLIENT_ID.into(),
            algorithm: "ES256".into(),
        }
    }

    /// A staff token for `tenant`, valid 8 hours from `now`.
    pub fn token(&self, tenant: &str, now: i64) -> Result<String, Error> {
        self.sign(&json!({
            "iss": self.issuer,
            "aud": STAFF_CLIENT_ID,
            "sub": "operatore-locale",
            "iat": now,
            "exp": now + 8 * 3600,
            "role": "staff",
            "tenant": tenant,
        }))
    }

    /// A staff member's ID token as the user pool issues it: the claims
    /// the pre-token trigger (`fn_staff_token`, the same code) gives a user
    /// of `groups`, valid an hour from `now`.
    pub fn pool_token(&self, groups: &[String], now: i64) -> Result<String, Error> {
        let event = json!({ "request": { "groupConfiguration": { "groupsToOverride": groups } } });
        let out = fn_staff_token::handle(event);
        let mut claims = json!({
            "iss": self.issuer,
            "aud": STAFF_CLIENT_ID,
            "token_use": "id",
            "sub": "operatore-locale",
            "cognito:groups": groups,
            "iat": now,
            "exp": now + 3600,
        });
        if let (Some(map), Some(add)) = (
            claims.as_object_mut(),
            out.pointer("/response/claimsOverrideDetails/claimsToAddOrOverride")
                .and_then(|v| v.as_object()),
        ) {
            for (k, v) in add {
                map.insert(k.clone(), v.clone());
            }
        }
        self.sign(&claims)
    }
}

/// The staff stand-in (kept under its earlier name for readers of tests).
pub type StaffIdp = LocalIdp;

/// The SPID/CIE stand-in's configuration for a tenant, served at `base`.
pub fn oidc_provider(base: &str) -> OidcProvider {
    OidcProvider {
        issuer: format!("{base}/_local/oidc"),
        client_id: OIDC_CLIENT_ID.into(),
        algorithm: "ES256".into(),
        jwks_uri: format!("{base}/_local/oidc/jwks.json"),
    }
}
