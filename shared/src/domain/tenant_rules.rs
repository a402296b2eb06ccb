//! The rules a tenant's configuration must keep before it is applied (the
//! admin command's `tenant validate` and `tenant apply`): every problem at
//! once, each with the dotted path of the value and an English message for
//! the IT officer who edits the file.

use std::collections::BTreeSet;

use super::services::{FeeBandRule, Information, ServiceSettings};
use super::tenant::Tenant;

/// One thing wrong with a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path into the file, e.g. `service_settings.trasporto.stops.1.id`.
    pub path: String,
    pub message: String,
}

/// Where the configuration will run: loopback addresses (the local
/// stand-ins) are allowed only on the local stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Deployed,
    Local,
}

struct Check {
    problems: Vec<Problem>,
    target: Target,
}

impl Check {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    /// A text people read: not empty, no control characters.
    fn text(&mut self, path: &str, value: &str, max: usize) {
        let t = value.trim();
        if t.is_empty() {
            self.push(path, "must not be empty");
        } else if t.chars().count() > max {
            self.push(path, format!("at most {max} characters"));
        } else if t.chars().any(|c| c.is_control() && c != '\n') {
            self.push(path, "must not contain control characters");
        }
    }

    /// Paragraphs: each a text.
    fn paragraphs(&mut self, path: &str, list: &[String], required: bool) {
        if required && list.is_empty() {
            self.push(path, "must have at least one paragraph");
        }
        for (i, p) in list.iter().enumerate() {
            self.text(&format!("{path}.{i}"), p, 2000);
        }
    }

    /// An `https://` address, or `http://` on loopback for the local stack.
    fn url(&mut self, path: &str, value: &str) {
        let loopback = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
            .iter()
            .any(|p| value.starts_with(p));
        if value.starts_with("https://") && value.len() > "https://".len() {
            return;
        }
        if loopback && self.target == Target::Local {
            return;
        }
        if loopback {
            self.push(
                path,
                "a loopback address is allowed only on the local stack",
            );
        } else {
            self.push(path, "must be an https:// address");
        }
    }

    /// Bands lowest first: codes unique, ceilings strictly rising, only the
    /// last without a ceiling, fees not negative.
    fn fee_bands(&mut self, path: &str, bands: &[FeeBandRule], required: bool) {
        if bands.is_empty() {
            if required {
                self.push(
                    path,
                    "needs at least one band (the last without max_isee_cents)",
                );
            }
            return;
        }
        let mut codes = BTreeSet::new();
        let mut previous: Option<i64> = None;
        for (i, b) in bands.iter().enumerate() {
            let at = format!("{path}.{i}");
            self.text(&format!("{at}.code"), &b.code, 8);
            if !codes.insert(b.code.trim().to_owned()) {
                self.push(format!("{at}.code"), "band code used twice");
            }
            if b.fee_cents < 0 {
                self.push(format!("{at}.fee_cents"), "must not be negative");
            }
            let last = i + 1 == bands.len();
            match (b.max_isee_cents, last) {
                (None, true) => {}
                (None, false) => self.push(
                    format!("{at}.max_isee_cents"),
                    "only the last band may have no ceiling",
                ),
                (Some(_), true) => self.push(
                    format!("{at}.max_isee_cents"),
                    "the last band must have no ceiling (it applies without ISEE)",
                ),
                (Some(max), false) => {
                    if max < 0 {
                        self.push(format!("{at}.max_isee_cents"), "must not be negative");
                    }
                    if previous.is_some_and(|p| max <= p) {
                        self.push(
                            format!("{at}.max_isee_cents"),
                            "bands overlap: each ceiling must be above the previous one",
                        );
                    }
                    previous = Some(max);
                }
            }
        }
    }

    fn information(&mut self, path: &str, info: &Information, comune: bool) {
        self.paragraphs(
            &format!("{path}.service_rules"),
            &info.service_rules,
            comune,
        );
        self.paragraphs(
            &format!("{path}.privacy_notice"),
            &info.privacy_notice,
            comune,
        );
        self.paragraphs(&format!("{path}.top_up"), &info.top_up, false);
        self.paragraphs(
            &format!("{path}.meal_cancellation"),
            &info.meal_cancellation,
            false,
        );
        if comune || !info.portal_url.is_empty() {
            self.url(&format!("{path}.portal_url"), &info.portal_url);
        }
    }

    /// Ids unique and well formed.
    fn ids<'a>(&mut self, path: &str, what: &str, ids: impl Iterator<Item = &'a str>) {
        let mut seen = BTreeSet::new();
        for (i, id) in ids.enumerate() {
            let at = format!("{path}.{i}.{what}");
            if id.is_empty()
                || id.len() > 40
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                self.push(&at, "lowercase letters, digits, - and _ only (1 to 40)");
            }
            if !seen.insert(id.to_owned()) {
                self.push(&at, format!("{what} used twice"));
            }
        }
    }

    fn service(&mut self, path: &str, s: &ServiceSettings) {
        if let Some(name) = &s.name {
            self.text(&format!("{path}.name"), name, 80);
        }
        self.fee_bands(&format!("{path}.fee_bands"), &s.fee_bands, false);
        if let Some(info) = &s.information {
            self.information(&format!("{path}.information"), info, false);
        }
        self.ids(
            &format!("{path}.stops"),
            "id",
            s.stops.iter().map(|x| x.id.as_str()),
        );
        for (i, stop) in s.stops.iter().enumerate() {
            self.text(&format!("{path}.stops.{i}.name"), &stop.name, 80);
            self.text(&format!("{path}.stops.{i}.route"), &stop.route, 80);
        }
        self.ids(
            &format!("{path}.slots"),
            "id",
            s.slots.iter().map(|x| x.id.as_str()),
        );
        for (i, slot) in s.slots.iter().enumerate() {
            self.text(&format!("{path}.slots.{i}.name"), &slot.name, 80);
        }
        self.ids(
            &format!("{path}.criteria"),
            "code",
            s.criteria.iter().map(|x| x.code.as_str()),
        );
        for (i, c) in s.criteria.iter().enumerate() {
            self.text(&format!("{path}.criteria.{i}.label"), &c.label, 200);
            if c.points == 0 || c.points > 1000 {
                self.push(
                    format!("{path}.criteria.{i}.points"),
                    "from 1 to 1000 points",
                );
            }
        }
    }
}

impl Tenant {
    /// Every problem of this configuration for `target`; empty when it can
    /// be applied.
    pub fn problems(&self, target: Target) -> Vec<Problem> {
        let mut c = Check {
            problems: Vec::new(),
            target,
        };
        c.text("name", &self.name, 120);
        c.text("phone", &self.phone, 40);
        if self.services.is_empty() {
            c.push("services", "offer at least one service");
        }
        let mut offered = BTreeSet::new();
        for (i, s) in self.services.iter().enumerate() {
            if !offered.insert(*s) {
                c.push(format!("services.{i}"), "service listed twice");
            }
        }
        if self.arrears_tolerance_cents < 0 {
            c.push("arrears_tolerance_cents", "must not be negative");
        }
        if !(1..=20).contains(&self.retention_years) {
            c.push("retention_years", "from 1 to 20 school years");
        }
        if self.sms_per_hour == 0 {
            c.push("sms_per_hour", "must be at least 1");
        }
        if let Some(io) = &self.app_io
            && (io.service_id.is_empty()
                || io.service_id.len() > 64
                || !io.service_id.chars().all(|ch| ch.is_ascii_alphanumeric()))
        {
            c.push(
                "app_io.service_id",
                "App IO's service id: 1 to 64 letters and digits",
            );
        }
        if self.code_mails_per_hour == 0 {
            c.push("code_mails_per_hour", "must be at least 1");
        }
        c.fee_bands(
            "fee_bands",
            &self.fee_bands,
            self.services.iter().any(|s| {
                self.service_settings
                    .get(s)
                    .is_none_or(|x| x.fee_bands.is_empty())
            }),
        );
        c.information("information", &self.information, true);
        for (service, settings) in &self.service_settings {
            let path = format!("service_settings.{}", service.code());
            if !offered.contains(service) {
                c.push(&path, "settings for a service the comune does not offer");
            }
            c.service(&path, settings);
        }
        let mut names = BTreeSet::new();
        for (i, school) in self.schools.iter().enumerate() {
            c.text(&format!("schools.{i}.name"), &school.name, 120);
            if !names.insert(school.name.trim().to_owned()) {
                c.push(format!("schools.{i}.name"), "school listed twice");
            }
        }
        if let Some(oidc) = &self.oidc {
            c.url("oidc.issuer", &oidc.issuer);
            c.url("oidc.jwks_uri", &oidc.jwks_uri);
            c.text("oidc.client_id", &oidc.client_id, 200);
            if !["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]
                .contains(&oidc.algorithm.as_str())
            {
                c.push(
                    "oidc.algorithm",
                    "RS256, RS384, RS512, ES256, ES384 or PS256",
                );
            }
        }
        c.problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(extra: serde_json::Value) -> Tenant {
        let mut base = serde_json::json!({
            "slug": "esempio", "name": "Comune di Esempio", "contact_email": "a@b.it",
            "phone": "080 000", "services": ["refezione", "trasporto"],
            "fee_bands": [
                { "code": "A", "max_isee_cents": 600000, "fee_cents": 200 },
                { "code": "B", "fee_cents": 500 }
            ],
            "information": { "service_rules": ["Regole."], "privacy_notice": ["Informativa."],
                             "portal_url": "https://iscrizioni.comune.example.it/esempio/" }
        });
        if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                b.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(base).expect("tenant")
    }

    fn paths(t: &Tenant, target: Target) -> Vec<String> {
        t.problems(target).into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn a_good_configuration_has_no_problem() {
        assert_eq!(
            paths(&tenant(serde_json::json!({})), Target::Deployed),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_problem_is_listed_with_its_path() {
        let t = tenant(serde_json::json!({
            "name": " ",
            "fee_bands": [
                { "code": "A", "max_isee_cents": 900000, "fee_cents": 200 },
                { "code": "B", "max_isee_cents": 600000, "fee_cents": 300 },
                { "code": "C", "fee_cents": 500 }
            ],
            "information": { "service_rules": [""], "privacy_notice": [],
                             "portal_url": "http://127.0.0.1:3000/esempio/" },
            "service_settings": {
                "trasporto": { "stops": [
                    { "id": "p1", "name": "Piazza", "route": "Linea 1" },
                    { "id": "p1", "name": "Stazione", "route": "Linea 1" }
                ] },
                "pre_post_scuola": {}
            },
            "schools": [ { "name": "Primaria", "email": "p@s.it" }, { "name": "Primaria", "email": "q@s.it" } ],
            "oidc": { "issuer": "https://idp.example.it", "client_id": "x", "algorithm": "RS256",
                      "jwks_uri": "http://idp.example.it/jwks" }
        }));
        assert_eq!(
            paths(&t, Target::Deployed),
            [
                "name",
                "fee_bands.1.max_isee_cents",
                "information.service_rules.0",
                "information.privacy_notice",
                "information.portal_url",
                "service_settings.pre_post_scuola",
                "service_settings.trasporto.stops.1.id",
                "schools.1.name",
                "oidc.jwks_uri",
            ]
        );
        // On the local stack the loopback portal is fine.
        assert!(!paths(&t, Target::Local).contains(&"information.portal_url".to_owned()));
    }
}
