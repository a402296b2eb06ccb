//! A municipality (Comune, Ente) and what it configures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::services::ServiceSettings;
use super::values::{Email, TenantSlug};
use super::window::Service;

/// A tenant's configuration. Every record of the system belongs to exactly
/// one tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    pub slug: TenantSlug,
    /// "Comune di Esempio".
    pub name: String,
    pub contact_email: Email,
    pub phone: String,
    /// The services this municipality offers.
    pub services: Vec<Service>,
    /// A prepaid balance below minus this many cents blocks a renewal.
    #[serde(default)]
    pub arrears_tolerance_cents: i64,
    /// Fee bands by ISEE, lowest first; the last one (without a ceiling)
    /// applies to applications without ISEE.
    #[serde(default)]
    pub fee_bands: Vec<FeeBandRule>,
    /// The service rules and the privacy notice (GDPR art. 13) printed in
    /// the information notice.
    #[serde(default)]
    pub information: Information,
    /// Whom staff tokens of this tenant come from (in production the
    /// Cognito user pool). Without it no staff token is accepted.
    #[serde(default)]
    pub staff_auth: Option<StaffAuth>,
    /// The SPID/CIE OpenID Connect provider (or broker) parents log in
    /// with. Without it `id_token` logins are refused.
    #[serde(default)]
    pub oidc: Option<OidcProvider>,
    /// Each service's own name, fee bands, texts, stops, slots and
    /// ranking criteria (`domain::services`).
    #[serde(default)]
    pub service_settings: BTreeMap<Service, ServiceSettings>,
    /// Submit needs the guardian's mobile number proved by an SMS code.
    #[serde(default)]
    pub require_verified_phone: bool,
    /// At most this many SMS an hour for the tenant (against toll fraud:
    /// past it, SMS codes wait for the next hour and an alarm goes off).
    #[serde(default = "default_sms_per_hour")]
    pub sms_per_hour: u32,
}

/// The default hourly SMS cap: above the busiest hour of a large comune's
/// opening morning, far below what toll fraud would send.
pub const DEFAULT_SMS_PER_HOUR: u32 = 500;

fn default_sms_per_hour() -> u32 {
    DEFAULT_SMS_PER_HOUR
}

/// A tenant's SPID/CIE OpenID Connect provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcProvider {
    pub issuer: String,
    /// Our client id at the provider: the tokens' `aud`.
    pub client_id: String,
    /// The one algorithm the provider signs with, e.g. `RS256`.
    pub algorithm: String,
    /// Where its keys are (HTTPS; plain HTTP only on loopback, for the
    /// local stand-in).
    pub jwks_uri: String,
}

/// The staff identity provider a tenant trusts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAuth {
    pub issuer: String,
    /// Checked when set (Cognito access tokens carry `client_id`, not `aud`).
    #[serde(default)]
    pub audience: Option<String>,
    /// The one algorithm accepted, e.g. `RS256` (Cognito) or `ES256`.
    pub algorithm: String,
    /// The provider's public keys, as a JWKS document (`{"keys": [...]}`).
    pub jwks: serde_json::Value,
}

/// One fee band: up to `max_isee_cents` (inclusive), `fee_cents` a meal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeeBandRule {
    pub code: String,
    #[serde(default)]
    pub max_isee_cents: Option<i64>,
    pub fee_cents: i64,
}

/// Texts of the information notice and of the credentials letter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Information {
    /// Paragraphs of the service rules.
    #[serde(default)]
    pub service_rules: Vec<String>,
    /// Paragraphs of the privacy notice.
    #[serde(default)]
    pub privacy_notice: Vec<String>,
    /// How to top up the prepaid balance.
    #[serde(default)]
    pub top_up: Vec<String>,
    /// How to cancel a meal.
    #[serde(default)]
    pub meal_cancellation: Vec<String>,
    /// The portal's address, for "how to log in".
    #[serde(default)]
    pub portal_url: String,
}

impl Tenant {
    pub fn offers(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// The tenant's general fee band for an ISEE (in cents); no ISEE gives
    /// the highest band. A service's own bands: `Tenant::service`.
    pub fn fee_band(&self, isee_cents: Option<i64>) -> Option<&FeeBandRule> {
        band_for(&self.fee_bands, isee_cents)
    }
}

/// The band of `bands` (lowest first, the last without a ceiling) for an
/// ISEE; no ISEE gives the highest band.
pub fn band_for(bands: &[FeeBandRule], isee_cents: Option<i64>) -> Option<&FeeBandRule> {
    match isee_cents {
        Some(v) => bands
            .iter()
            .find(|b| b.max_isee_cents.is_none_or(|max| v <= max)),
        None => bands.last(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune di Esempio", "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione"],
            "fee_bands": [
                { "code": "A", "max_isee_cents": 600000, "fee_cents": 200 },
                { "code": "B", "max_isee_cents": 1500000, "fee_cents": 350 },
                { "code": "C", "fee_cents": 500 }
            ]
        }))
        .expect("tenant")
    }

    #[test]
    fn fee_bands_by_isee() {
        let t = tenant();
        let code = |v| t.fee_band(v).map(|b| b.code.as_str());
        assert_eq!(code(Some(0)), Some("A"));
        assert_eq!(code(Some(600_000)), Some("A"));
        assert_eq!(code(Some(600_001)), Some("B"));
        assert_eq!(code(Some(1_250_000)), Some("B"));
        assert_eq!(code(Some(9_000_000)), Some("C"));
        assert_eq!(code(None), Some("C"));
    }
}
