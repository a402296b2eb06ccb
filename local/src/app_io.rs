//! The local stand-in for App IO: the subset of its API the stack calls
//! (`POST /profiles`, `POST /messages`, with the service's key in
//! `Ocp-Apim-Subscription-Key`), checked as App IO checks it, and what it
//! received (`GET /_local/io-messages`). Every citizen allows the sender
//! unless `local/seed/app-io.json` lists the fiscal code as opted out.
//! With the fault proxy's `AppIo` switch on it answers 503, as App IO does
//! when it is down.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde::Deserialize;
use serde_json::{Value, json};
use shared::http::{HttpResponse, json};

use crate::faults::{Fault, Faults};

/// The stand-in's seed: who opted out of the comune's messages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seed {
    pub opted_out: Vec<String>,
}

pub const SEED_FILE: &str = "local/seed/app-io.json";

pub struct StandIn {
    key: String,
    opted_out: HashSet<String>,
    messages: Mutex<Vec<Value>>,
    faults: Option<Arc<Faults>>,
}

/// App IO's error body (a problem+json).
fn problem(status: u16, detail: &str) -> HttpResponse {
    json(
        status,
        &json!({ "status": status, "title": "Error", "detail": detail }),
    )
}

fn fiscal_code_ok(fc: &str) -> bool {
    let b = fc.as_bytes();
    b.len() == 16
        && fc
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl StandIn {
    pub fn new(key: String, seed: Seed, faults: Option<Arc<Faults>>) -> Self {
        Self {
            key,
            opted_out: seed.opted_out.into_iter().collect(),
            messages: Mutex::new(Vec::new()),
            faults,
        }
    }

    /// The refusal App IO would give before looking at the body, if any.
    fn gate(&self, key: Option<&str>) -> Option<HttpResponse> {
        if self.faults.as_ref().is_some_and(|f| f.on(Fault::AppIo)) {
            return Some(problem(503, "service unavailable"));
        }
        if key != Some(self.key.as_str()) {
            return Some(problem(401, "missing or invalid subscription key"));
        }
        None
    }

    /// `POST /profiles` `{ fiscal_code }`: the citizen's limited profile.
    pub fn profiles(&self, key: Option<&str>, body: &Value) -> HttpResponse {
        if let Some(refused) = self.gate(key) {
            return refused;
        }
        let Some(fc) = body["fiscal_code"].as_str().filter(|fc| fiscal_code_ok(fc)) else {
            return problem(400, "fiscal_code is not a valid fiscal code");
        };
        json(
            200,
            &json!({ "sender_allowed": !self.opted_out.contains(fc), "preferred_languages": ["it_IT"] }),
        )
    }

    /// `POST /messages`: recorded when it keeps App IO's rules.
    pub fn messages(&self, key: Option<&str>, body: &Value, now: &str) -> HttpResponse {
        if let Some(refused) = self.gate(key) {
            return refused;
        }
        let fc = body["fiscal_code"].as_str().unwrap_or("");
        let subject = body["content"]["subject"].as_str().unwrap_or("");
        let markdown = body["content"]["markdown"].as_str().unwrap_or("");
        if !fiscal_code_ok(fc) {
            return problem(400, "fiscal_code is not a valid fiscal code");
        }
        if !(10..=120).contains(&subject.chars().count()) {
            return problem(400, "content.subject must be 10 to 120 characters");
        }
        if !(80..=10_000).contains(&markdown.chars().count()) {
            return problem(400, "content.markdown must be 80 to 10000 characters");
        }
        if self.opted_out.contains(fc) {
            return problem(403, "the citizen does not allow this sender");
        }
        let mut messages = self
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let id = format!("01LOCAL{:08}", messages.len() + 1);
        messages.push(json!({
            "id": id, "fiscal_code": fc, "subject": subject, "markdown": markdown, "sent_at": now,
        }));
        json(201, &json!({ "id": id }))
    }

    /// `GET /_local/io-messages`: what it accepted, oldest first.
    pub fn received(&self) -> HttpResponse {
        let messages = self
            .messages
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        json(200, &json!({ "messages": messages }))
    }
}
