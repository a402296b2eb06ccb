//! A municipality (Comune, Ente) and what it configures.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::services::{FeeBandRule, Information};
use super::services::{ServiceSettings, ServiceView, band_for};
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff_auth: Option<StaffAuth>,
    /// The SPID/CIE OpenID Connect provider (or broker) parents log in
    /// with. Without it `id_token` logins are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcProvider>,
    /// Each service's own name, fee bands, texts, stops, slots and
    /// ranking criteria (`domain::services`).
    #[serde(default)]
    pub service_settings: BTreeMap<Service, ServiceSettings>,
    /// Submit needs the guardian's mobile number proved by an SMS code.
    #[serde(default)]
    pub require_verified_phone: bool,
    /// Security codes by SMS in an hour above which an alarm goes off and
    /// the code path asks for a challenge (never a refusal).
    #[serde(default = "default_sms_per_hour")]
    pub sms_per_hour: u32,
    /// The same threshold for security codes by mail.
    #[serde(default = "default_code_mails_per_hour")]
    pub code_mails_per_hour: u32,
    /// The schools of the comune: where listed, `pupil.school` is one of
    /// their names, and each receives its weekly list of confirmed pupils.
    #[serde(default)]
    pub schools: Vec<School>,
    /// Applications and their files are erased this many school years
    /// after their window's school year ends (the comune's retention rule).
    #[serde(default = "default_retention_years")]
    pub retention_years: u32,
    /// The comune's service in the App IO, if it has one: the guardian
    /// gets a message there for each mailed status change. Its API key is
    /// a secret of the stack (`<stack>/app-io/<slug>`), never in this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_io: Option<AppIoService>,
}

/// A service of the comune in the App IO.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppIoService {
    /// The service's id in App IO's back-office (for the operators: the
    /// API key names the service).
    pub service_id: String,
}

/// The default retention: five school years after the year ends.
pub const DEFAULT_RETENTION_YEARS: u32 = 5;

fn default_retention_years() -> u32 {
    DEFAULT_RETENTION_YEARS
}

/// A school and the address its weekly lists go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct School {
    pub name: String,
    pub email: Email,
}

/// The default hourly SMS threshold: above the busiest hour of a large
/// comune's opening morning, far below what toll fraud would send.
pub const DEFAULT_SMS_PER_HOUR: u32 = 500;

/// The default hourly threshold of code mails (a city of a million's
/// opening hour sends a few thousand).
pub const DEFAULT_CODE_MAILS_PER_HOUR: u32 = 5000;

fn default_code_mails_per_hour() -> u32 {
    DEFAULT_CODE_MAILS_PER_HOUR
}

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

impl Tenant {
    pub fn offers(&self, service: Service) -> bool {
        self.services.contains(&service)
    }

    /// The names of the tenant's schools (empty: any school name).
    pub fn school_names(&self) -> Vec<String> {
        self.schools.iter().map(|s| s.name.clone()).collect()
    }

    /// The tenant's general fee band for an ISEE (in cents); no ISEE gives
    /// the highest band. A service's own bands: `Tenant::service`.
    pub fn fee_band(&self, isee_cents: Option<i64>) -> Option<&FeeBandRule> {
        band_for(&self.fee_bands, isee_cents)
    }
}

impl Tenant {
    /// `service` as this tenant runs it.
    pub fn service(&self, service: Service) -> ServiceView {
        let own = self
            .service_settings
            .get(&service)
            .cloned()
            .unwrap_or_default();
        let mut information = own.information.unwrap_or_else(|| self.information.clone());
        // Meal cancellation is about meals only.
        if service != Service::Refezione {
            information.meal_cancellation.clear();
        }
        // The comune's privacy notice and portal, unless the service has its own.
        if information.privacy_notice.is_empty() {
            information.privacy_notice = self.information.privacy_notice.clone();
        }
        if information.portal_url.is_empty() {
            information.portal_url = self.information.portal_url.clone();
        }
        ServiceView {
            service,
            name: own.name.unwrap_or_else(|| service.name().to_owned()),
            fee_bands: if own.fee_bands.is_empty() {
                self.fee_bands.clone()
            } else {
                own.fee_bands
            },
            stops: own.stops,
            slots: own.slots,
            criteria: own.criteria,
            information,
        }
    }

    /// Every service the tenant offers, in the contract's order.
    pub fn service_views(&self) -> Vec<ServiceView> {
        Service::ALL
            .into_iter()
            .filter(|s| self.offers(*s))
            .map(|s| self.service(s))
            .collect()
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
