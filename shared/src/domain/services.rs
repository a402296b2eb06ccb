//! What each service of a tenant asks and says: its name, fee bands,
//! rules and information texts, and what its form offers (bus stops, care
//! slots, ranking criteria). `GET services` shows it; validation checks
//! an application's service part against it.

use serde::{Deserialize, Serialize};

use super::window::Service;

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

/// A bus stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stop {
    pub id: String,
    /// "Piazza Roma".
    pub name: String,
    /// "Linea 1".
    pub route: String,
}

/// A care slot: `pre` (before school) or `post` (after school), or any
/// other a comune runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    pub id: String,
    /// "Pre scuola 7:30–8:30".
    pub name: String,
}

/// The slot whose care ends after school: who meets the child is asked.
pub const AFTER_SCHOOL_SLOT: &str = "post";

/// A ranking criterion a family may declare (DPR 445/2000).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    pub code: String,
    /// "Entrambi i genitori lavorano".
    pub label: String,
    pub points: u32,
}

/// A tenant's settings for one service. Every part is optional: a missing
/// name is the service's usual one, missing fee bands or texts are the
/// tenant's general ones.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub fee_bands: Vec<FeeBandRule>,
    #[serde(default)]
    pub information: Option<Information>,
    #[serde(default)]
    pub stops: Vec<Stop>,
    #[serde(default)]
    pub slots: Vec<Slot>,
    #[serde(default)]
    pub criteria: Vec<Criterion>,
}

/// One service as a tenant runs it, with the fallbacks applied: what `GET
/// services` shows and what forms and documents use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub service: Service,
    pub name: String,
    pub fee_bands: Vec<FeeBandRule>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub stops: Vec<Stop>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slots: Vec<Slot>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<Criterion>,
    /// The service rules and the information notice's texts.
    #[serde(skip)]
    pub information: Information,
}

impl ServiceView {
    /// The fee band for an ISEE (in cents); no ISEE gives the highest band.
    pub fn fee_band(&self, isee_cents: Option<i64>) -> Option<&FeeBandRule> {
        band_for(&self.fee_bands, isee_cents)
    }

    pub fn stop(&self, id: &str) -> Option<&Stop> {
        self.stops.iter().find(|s| s.id == id)
    }

    pub fn slot(&self, id: &str) -> Option<&Slot> {
        self.slots.iter().find(|s| s.id == id)
    }

    pub fn criterion(&self, code: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.code == code)
    }

    /// The points of the declared criteria (unknown codes count nothing).
    pub fn points(&self, declared: &[String]) -> u32 {
        declared
            .iter()
            .filter_map(|c| self.criterion(c))
            .map(|c| c.points)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::Tenant;

    fn tenant() -> Tenant {
        serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune", "contact_email": "a@b.it", "phone": "080",
            "services": ["refezione", "trasporto"],
            "fee_bands": [ { "code": "U", "fee_cents": 500 } ],
            "information": { "service_rules": ["Mensa."], "meal_cancellation": ["Disdici entro le 9:30."],
                             "portal_url": "https://x.example.it/demo/" },
            "service_settings": {
                "trasporto": {
                    "name": "Scuolabus",
                    "fee_bands": [ { "code": "T", "fee_cents": 20000 } ],
                    "information": { "service_rules": ["Bus."], "meal_cancellation": ["Non qui."] },
                    "stops": [ { "id": "st-1", "name": "Piazza Roma", "route": "Linea 1" } ],
                    "criteria": [ { "code": "far", "label": "Abita a più di 2 km", "points": 3 },
                                  { "code": "work", "label": "Genitori lavoratori", "points": 2 } ]
                }
            }
        }))
        .expect("tenant")
    }

    #[test]
    fn a_service_has_its_own_settings_or_the_tenants() {
        let t = tenant();
        let bus = t.service(Service::Trasporto);
        assert_eq!(bus.name, "Scuolabus");
        assert_eq!(bus.fee_band(None).map(|b| b.fee_cents), Some(20000));
        assert_eq!(bus.information.service_rules, vec!["Bus.".to_string()]);
        assert!(bus.information.meal_cancellation.is_empty(), "no meal text");
        assert_eq!(bus.information.portal_url, "https://x.example.it/demo/");
        assert_eq!(bus.stop("st-1").map(|s| s.route.as_str()), Some("Linea 1"));
        assert_eq!(bus.points(&["far".into(), "work".into(), "nope".into()]), 5);
        let meals = t.service(Service::Refezione);
        assert_eq!(meals.name, "Refezione scolastica");
        assert_eq!(meals.fee_band(None).map(|b| b.code.as_str()), Some("U"));
        assert_eq!(meals.information.meal_cancellation.len(), 1);
        let offered: Vec<Service> = t.service_views().iter().map(|v| v.service).collect();
        assert_eq!(offered, vec![Service::Refezione, Service::Trasporto]);
        let json = serde_json::to_value(&meals).expect("json");
        assert!(json.get("stops").is_none() && json.get("information").is_none());
    }
}
