//! A municipality (Comune, Ente) and what it configures.

use serde::{Deserialize, Serialize};

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
}

impl Tenant {
    pub fn offers(&self, service: Service) -> bool {
        self.services.contains(&service)
    }
}
