//! The contract's wire shapes of what operations return: the application
//! as parents and staff read it, sessions, dates on the wire, and the
//! `If-Match` precondition.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use crate::domain::application::{Application, AttachmentAccess, Status};
use crate::ops::email_codes::CodeSent;
use crate::ops::sessions::Opened;

/// A time on the wire: RFC 3339, as stored (UTC).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `201` of `POST sessions`: the token and what the session carries.
pub fn session(opened: &Opened) -> Value {
    let claims = &opened.claims;
    json!({
        "token": opened.token,
        "expires_in": claims.exp - claims.iat,
        "session": {
            "tenant": claims.tenant,
            "email": claims.email,
            "phone": claims.phone,
            "guardian_fiscal_code": claims.spid_fiscal_code,
            "must_change_password": claims.must_change_password,
            "expires_at": rfc3339(claims.expires_at()),
        },
    })
}

/// `202` of `POST email-codes` and `POST phone-codes`.
pub fn code_sent(sent: &CodeSent) -> Value {
    json!({ "expires_in": sent.expires_in, "resend_after": sent.resend_after })
}

/// The application as the contract shows it: the body plus its state.
pub fn application(a: &Application, missing: &[String]) -> Value {
    let mut out = match serde_json::to_value(&a.body) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    };
    out.insert("kind".into(), Value::String(a.kind.clone()));
    out.insert("window_id".into(), Value::String(a.window_id.clone()));
    if !out.contains_key("isee") {
        out.insert("isee".into(), Value::Null);
    }
    let state = serde_json::json!({
        "id": a.id,
        "status": a.status,
        "version": a.version,
        "first_saved_at": rfc3339(a.first_saved_at),
        "updated_at": rfc3339(a.updated_at),
        "submitted_at": a.submitted_at.map(rfc3339),
        "decided_at": a.decided_at.map(rfc3339),
        "decision_reason": a.decision_reason,
        "user_code": a.user_code,
        "fee_band": a.fee_band,
        "missing": missing,
    });
    if let Value::Object(state) = state {
        out.extend(state);
    }
    // Only while the office waits for the family's changes.
    if let Some(r) = &a.change_request {
        out.insert(
            "change_request".into(),
            json!({
                "message": r.message,
                "due_at": rfc3339(r.due_at),
                "requested_at": rfc3339(r.requested_at),
            }),
        );
    }
    Value::Object(out)
}

/// A read of one application adds its place: `rank` is `{ position,
/// points, within_capacity }` in a window with places, else `null`.
pub fn with_rank(mut view: Value, rank: Option<crate::domain::ranking::Rank>) -> Value {
    if let Some(map) = view.as_object_mut() {
        map.insert(
            "rank".into(),
            serde_json::to_value(rank).unwrap_or(Value::Null),
        );
    }
    view
}

/// The application as staff read it: the parent's view plus its history,
/// `contested` (another family tried to enroll the same pupil) and
/// `verification` (what the family proved).
pub fn staff_application(a: &Application, missing: &[String]) -> Value {
    let mut view = application(a, missing);
    if let Some(map) = view.as_object_mut() {
        map.insert(
            "history".into(),
            serde_json::to_value(&a.history).unwrap_or_default(),
        );
        map.insert("contested".into(), Value::Bool(a.contested));
        map.insert(
            "verification".into(),
            json!({
                "email": a.owner.email.is_some(),
                "phone": a.phone_proved(),
                "spid": a.owner.spid_fiscal_code.is_some(),
            }),
        );
    }
    view
}

/// A staff read's history with the openings of its attachments that hold
/// health data, in time order: `{ at, by, event: "attachment_opened",
/// kind, attachment_id }` beside the status changes.
pub fn with_accesses(mut view: Value, accesses: &[AttachmentAccess]) -> Value {
    if accesses.is_empty() {
        return view;
    }
    if let Some(Value::Array(history)) = view.get_mut("history") {
        for a in accesses {
            history.push(json!({
                "at": rfc3339(a.at),
                "by": a.by,
                "event": "attachment_opened",
                "kind": a.kind,
                "attachment_id": a.attachment_id,
            }));
        }
        // RFC 3339 in UTC sorts as time; a stable sort keeps equal times
        // in their order.
        history.sort_by(|x, y| {
            let at = |v: &Value| {
                v.get("at")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned()
            };
            at(x).cmp(&at(y))
        });
    }
    view
}

/// `GET staff/windows/{id}/stats`: every status, zeros included.
pub fn stats(counts: &[(Status, i64)], capacity: Option<u32>) -> Value {
    let counts: Map<String, Value> = counts
        .iter()
        .map(|(status, n)| (status.code().to_owned(), Value::from((*n).max(0))))
        .collect();
    json!({ "counts": counts, "capacity": capacity })
}
