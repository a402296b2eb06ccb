//! Every item the store writes, as pure functions from a domain value to
//! its attributes and back. Most items keep their value as JSON in `data`;
//! what a decode cannot read is a `StoreError`, never a panic, and its
//! message never quotes the stored value.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{
    DATA, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, PK, SK, TTL, VERSION, application_pk, code_pk,
    n, once_pk, outbox_pk, owner_pk, pupil_pk, roster_pk, s, tenant_pk, time_sort, user_code_pk,
    window_sk,
};
use crate::domain::application::{Application, Attachment, AttachmentAccess, Status};
use crate::domain::roster::RosterEntry;
use crate::domain::security_code::CodeState;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;
use crate::ports::{
    ChangeTimer, Credentials, Hold, MessageKind, OutboxMessage, Stage, StoreError, Versioned,
};
use aws_sdk_dynamodb::types::AttributeValue;

/// The GSI1 partition of windows whose close is not recorded yet. Sparse:
/// a window leaves it when closed, so it stays a handful of items.
pub(super) const OPEN_WINDOWS: &str = "WINDOWS#OPEN";
/// Pending outbox messages are indexed in this many GSI partitions
/// (`OUTBOX#<n>`), so that an opening morning's submissions do not all
/// write one index key: about 9 index WRU per enrollment (three messages,
/// each written and deleted) at 2,000 enrollments a second is 18,000 WRU/s,
/// under 600 per shard.
pub(super) const OUTBOX_SHARDS: u32 = 32;
/// Roster entries hang off the same identity partitions as the
/// applications a guardian creates (`OWNER#<keyed hash>`).
pub(super) const ROSTER_LINK: &str = "ROSTER#";
const LINKS: &str = "links";
/// The attribute of a link item naming an application.
pub(super) const APP_ID: &str = "app_id";
/// The attribute of a roster link naming its entry.
pub(super) const USER_CODE: &str = "user_code";

fn to_json<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Other(format!("serialize: {e}")))
}

/// The JSON value of `data`.
fn from_data<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let raw = item
        .get(DATA)
        .and_then(|v| v.as_s().ok())
        .ok_or_else(|| StoreError::Other("item without data".into()))?;
    // The position only: serde's message may quote the stored value.
    serde_json::from_str(raw).map_err(|e| {
        StoreError::Other(format!(
            "stored data unreadable ({:?} at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// An item's `data` with the version its conditional writes must name (0
/// when the item has none).
pub(super) fn decode_versioned<T: DeserializeOwned>(
    item: &Item,
) -> Result<Versioned<T>, StoreError> {
    let version = item
        .get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(Versioned {
        value: from_data(item)?,
        version,
    })
}

/// An item of key `pk`/`sk` with `value` as JSON in `data`.
fn data_item<T: Serialize>(
    pk: String,
    sk: impl Into<String>,
    value: &T,
) -> Result<Item, StoreError> {
    Ok(HashMap::from([
        (PK.to_string(), s(pk)),
        (SK.to_string(), s(sk)),
        (DATA.to_string(), to_json(value)?),
    ]))
}

/// The GSI1 partition of every tenant's configuration (a scheduled job
/// that concerns each tenant lists them there; a few hundred items).
pub(super) const TENANTS: &str = "TENANTS";

pub(super) fn encode_tenant(tenant: &Tenant) -> Result<Item, StoreError> {
    let mut item = data_item(tenant_pk(&tenant.slug), "CONFIG", tenant)?;
    item.extend([
        (GSI1_PK.to_string(), s(TENANTS)),
        (GSI1_SK.to_string(), s(tenant.slug.as_str())),
    ]);
    Ok(item)
}

pub(super) fn decode_tenant(item: &Item) -> Result<Tenant, StoreError> {
    from_data(item)
}

/// A window, in the index of open windows while its close is not recorded.
pub(super) fn encode_window(tenant: &TenantSlug, window: &Window) -> Result<Item, StoreError> {
    let mut item = data_item(tenant_pk(tenant), window_sk(&window.id), window)?;
    if window.closed_at.is_none() {
        item.insert(GSI1_PK.into(), s(OPEN_WINDOWS));
        item.insert(
            GSI1_SK.into(),
            s(time_sort(
                window.closes_at,
                &format!("{tenant}#{}", window.id),
            )),
        );
    }
    Ok(item)
}

/// A window's `data` alone: what a conditional replacement compares.
pub(super) fn window_data(window: &Window) -> Result<AttributeValue, StoreError> {
    to_json(window)
}

pub(super) fn decode_window(item: &Item) -> Result<Window, StoreError> {
    from_data(item)
}

/// A window with its tenant, read from its key (the index of open windows
/// spans every tenant).
pub(super) fn decode_tenant_window(item: &Item) -> Result<(TenantSlug, Window), StoreError> {
    let tenant = item
        .get(PK)
        .and_then(|v| v.as_s().ok())
        .and_then(|pk| pk.strip_prefix("TENANT#"))
        .and_then(|slug| TenantSlug::parse(slug).ok())
        .ok_or_else(|| StoreError::Other("window item with a bad key".into()))?;
    Ok((tenant, decode_window(item)?))
}

/// The staff list: a window's applications by status, newest first, in
/// `STATUS_SHARDS` index partitions per status.
fn staff_list_keys(tenant: &TenantSlug, app: &Application) -> (String, String) {
    let at = app.submitted_at.unwrap_or(app.first_saved_at);
    (
        staff_list_pk(
            tenant,
            &app.window_id,
            app.status.code(),
            id_shard(&app.id, super::STATUS_SHARDS),
        ),
        time_sort(at, &app.id),
    )
}

/// The shard of a random id among `shards` (at most 256): its last two hex
/// digits, uniform since the id is random.
pub(super) fn id_shard(id: &str, shards: u32) -> u32 {
    let value = id
        .chars()
        .rev()
        .take(2)
        .filter_map(|c| c.to_digit(16))
        .enumerate()
        .fold(0u32, |acc, (i, d)| acc + (d << (4 * i)));
    value % shards.max(1)
}

/// The places index key of one shard of a window's order.
pub(super) fn rank_pk(tenant: &TenantSlug, window_id: &str, shard: u8) -> String {
    format!("TENANT#{tenant}#WINDOW#{window_id}#RANK#{shard}")
}

/// The shard of an application (its random id's last hex digit).
pub(super) fn rank_shard(application_id: &str) -> u8 {
    application_id
        .chars()
        .last()
        .and_then(|c| c.to_digit(16))
        .map_or(0, |d| (d as u8) % super::RANK_SHARDS)
}

/// One index partition of a window's applications in one status.
pub(super) fn staff_list_pk(
    tenant: &TenantSlug,
    window_id: &str,
    status: &str,
    shard: u32,
) -> String {
    format!("TENANT#{tenant}#WINDOW#{window_id}#{status}#{shard}")
}

pub(super) fn encode_application(
    tenant: &TenantSlug,
    app: &Application,
) -> Result<Item, StoreError> {
    let (gpk, gsk) = staff_list_keys(tenant, app);
    let mut item = data_item(application_pk(tenant, &app.id), "APP", app)?;
    item.extend([
        (VERSION.to_string(), n(app.version)),
        (GSI1_PK.to_string(), s(gpk)),
        (GSI1_SK.to_string(), s(gsk)),
    ]);
    if let Some(key) = &app.rank_key {
        item.extend([
            (
                GSI2_PK.to_string(),
                s(rank_pk(tenant, &app.window_id, rank_shard(&app.id))),
            ),
            (GSI2_SK.to_string(), s(key.clone())),
        ]);
    }
    Ok(item)
}

/// The application as stored, counted under the status it has there.
pub(super) fn decode_application(item: &Item) -> Result<Application, StoreError> {
    let mut app: Application = from_data(item)?;
    app.counted_as = Some(app.status);
    Ok(app)
}

/// The counter item of one shard of a window's counts per status.
pub(super) fn count_pk(tenant: &TenantSlug, window_id: &str, shard: u8) -> String {
    format!("TENANT#{tenant}#WINDOW#{window_id}#COUNT#{shard}")
}

/// The shard of an application's count (its random id's last two hex
/// digits, so that a window's writes spread over every shard).
pub(super) fn count_shard(application_id: &str) -> u8 {
    u8::try_from(id_shard(application_id, u32::from(super::COUNT_SHARDS))).unwrap_or(0)
}

/// The attribute of a counter item that counts `status`.
pub(super) fn count_attr(status: Status) -> String {
    format!("n_{}", status.code())
}

/// The counts one counter item holds (absent attributes are zero).
pub(super) fn decode_counts(item: &Item) -> Vec<(Status, i64)> {
    Status::ALL
        .iter()
        .map(|st| {
            let n = item
                .get(&count_attr(*st))
                .and_then(|v| v.as_n().ok())
                .and_then(|v| v.parse::<i64>().ok())
                .unwrap_or(0);
            (*st, n)
        })
        .collect()
}

/// The record of a staff member opening an attachment.
pub(super) fn encode_access(
    tenant: &TenantSlug,
    application_id: &str,
    access: &AttachmentAccess,
) -> Result<Item, StoreError> {
    data_item(
        application_pk(tenant, application_id),
        format!("ACCESS#{}", time_sort(access.at, &access.id)),
        access,
    )
}

pub(super) fn decode_access(item: &Item) -> Result<AttachmentAccess, StoreError> {
    from_data(item)
}

/// The partition of the open requests for changes (of every tenant), by
/// due time: few items, read by the scheduled function.
pub(super) const CHANGES_DUE: &str = "CHANGES_DUE";

/// The timer of an application's request for changes.
pub(super) fn encode_change_timer(timer: &ChangeTimer) -> Item {
    HashMap::from([
        (
            PK.to_string(),
            s(application_pk(&timer.tenant, &timer.application_id)),
        ),
        (SK.to_string(), s("CHANGES_DUE")),
        (GSI1_PK.to_string(), s(CHANGES_DUE)),
        (
            GSI1_SK.to_string(),
            s(time_sort(
                timer.due_at,
                &format!("{}#{}", timer.tenant, timer.application_id),
            )),
        ),
        ("tenant".to_string(), s(timer.tenant.as_str())),
        ("app_id".to_string(), s(timer.application_id.clone())),
        ("due".to_string(), n(timer.due_at.unix_timestamp())),
    ])
}

pub(super) fn decode_change_timer(item: &Item) -> Result<ChangeTimer, StoreError> {
    let text = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Other(format!("change timer without {k}")))
    };
    let due = item
        .get("due")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .and_then(|v| OffsetDateTime::from_unix_timestamp(v).ok())
        .ok_or_else(|| StoreError::Other("change timer without due".into()))?;
    let tenant = TenantSlug::parse(&text("tenant")?)
        .map_err(|_| StoreError::Other("change timer tenant".into()))?;
    Ok(ChangeTimer {
        tenant,
        application_id: text("app_id")?,
        due_at: due,
    })
}

pub(super) fn encode_attachment(
    tenant: &TenantSlug,
    application_id: &str,
    attachment: &Attachment,
) -> Result<Item, StoreError> {
    data_item(
        application_pk(tenant, application_id),
        format!("ATT#{}", attachment.id),
        attachment,
    )
}

pub(super) fn decode_attachment(item: &Item) -> Result<Attachment, StoreError> {
    from_data(item)
}

/// A link item: `attr` names what the item under `pk`/`sk` points at.
fn link_item(pk: String, sk: String, attr: &str, target: &str) -> Item {
    HashMap::from([
        (PK.to_string(), s(pk)),
        (SK.to_string(), s(sk)),
        (attr.to_string(), s(target)),
    ])
}

/// What a link item points at; `None` for an item without it.
pub(super) fn link_target(item: &Item, attr: &str) -> Option<String> {
    item.get(attr).and_then(|v| v.as_s().ok()).cloned()
}

/// A pupil's application (a fiscal-code login finds them here).
pub(super) fn encode_pupil_link(tenant: &TenantSlug, pupil: &str, application_id: &str) -> Item {
    link_item(
        pupil_pk(tenant, pupil),
        format!("{PUPIL_APP}{application_id}"),
        APP_ID,
        application_id,
    )
}

/// The sort-key prefix of a pupil's application links.
pub(super) const PUPIL_APP: &str = "APP#";

/// A family's guard: one live application of its own per pupil and window
/// (another family's draft never blocks it).
pub(super) fn encode_family_guard(
    tenant: &TenantSlug,
    owner: &str,
    pupil: &str,
    app: &Application,
) -> Item {
    link_item(
        owner_pk(tenant, owner),
        family_guard_sk(pupil, &app.window_id),
        APP_ID,
        &app.id,
    )
}

pub(super) fn family_guard_sk(pupil: &str, window_id: &str) -> String {
    format!("PUPIL#{pupil}#{}", window_sk(window_id))
}

/// What holds a pupil for a service and school year: the one application
/// submitted (or later) for it, whichever family sent it.
pub(super) fn encode_hold(tenant: &TenantSlug, hold: &Hold, application_id: &str) -> Item {
    link_item(
        pupil_pk(tenant, &hold.pupil),
        hold_sk(hold),
        APP_ID,
        application_id,
    )
}

pub(super) fn hold_sk(hold: &Hold) -> String {
    format!("HOLD#{}#{}", hold.service, hold.school_year)
}

/// An application created by a session identity.
pub(super) fn encode_owner_link(tenant: &TenantSlug, owner: &str, application_id: &str) -> Item {
    link_item(
        owner_pk(tenant, owner),
        format!("APP#{application_id}"),
        APP_ID,
        application_id,
    )
}

/// A user code drawn at submission, held by its application.
pub(super) fn encode_user_code_reservation(
    tenant: &TenantSlug,
    user_code: &str,
    application_id: &str,
) -> Item {
    link_item(
        user_code_pk(tenant, user_code),
        "USERCODE".into(),
        APP_ID,
        application_id,
    )
}

/// Last year's user code, held by the roster.
pub(super) fn encode_roster_hold(tenant: &TenantSlug, user_code: &str) -> Item {
    HashMap::from([
        (PK.to_string(), s(user_code_pk(tenant, user_code))),
        (SK.to_string(), s("USERCODE")),
        ("roster".to_string(), AttributeValue::Bool(true)),
    ])
}

/// A roster entry filed under a guardian identity.
pub(super) fn encode_roster_link(tenant: &TenantSlug, link: &str, user_code: &str) -> Item {
    link_item(
        owner_pk(tenant, link),
        roster_link_sk(user_code),
        USER_CODE,
        user_code,
    )
}

pub(super) fn roster_link_sk(user_code: &str) -> String {
    format!("{ROSTER_LINK}{user_code}")
}

/// A roster entry with the identities (`links`, sorted) it is filed under.
pub(super) fn encode_roster_entry(
    tenant: &TenantSlug,
    entry: &RosterEntry,
    links: &[String],
) -> Result<Item, StoreError> {
    let mut item = data_item(roster_pk(tenant, &entry.user_code), "ENTRY", entry)?;
    item.insert(LINKS.to_string(), AttributeValue::Ss(links.to_vec()));
    Ok(item)
}

pub(super) fn decode_roster_entry(item: &Item) -> Result<RosterEntry, StoreError> {
    from_data(item)
}

/// The identities a stored roster entry is filed under (none when the
/// attribute is missing).
pub(super) fn roster_links(item: &Item) -> Vec<String> {
    item.get(LINKS)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default()
}

/// A family's credentials for a pupil (`family`: the keyed hash of the
/// address the password was mailed to).
pub(super) fn encode_credentials(
    tenant: &TenantSlug,
    pupil: &str,
    family: &str,
    credentials: &Credentials,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = data_item(pupil_pk(tenant, pupil), credentials_sk(family), credentials)?;
    item.insert(VERSION.to_string(), n(version));
    Ok(item)
}

pub(super) const CREDENTIALS: &str = "CREDENTIALS#";

pub(super) fn credentials_sk(family: &str) -> String {
    format!("{CREDENTIALS}{family}")
}

/// The family whose credentials an item holds.
pub(super) fn credentials_family(item: &Item) -> Option<String> {
    item.get(SK)
        .and_then(|v| v.as_s().ok())
        .and_then(|sk| sk.strip_prefix(CREDENTIALS))
        .map(str::to_owned)
}

pub(super) fn decode_credentials(item: &Item) -> Result<Versioned<Credentials>, StoreError> {
    decode_versioned(item)
}

/// An address's code record; the table's TTL drops it once useless.
pub(super) fn encode_code(
    tenant: &TenantSlug,
    address_key: &str,
    state: &CodeState,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = data_item(code_pk(tenant, address_key), "CODE", state)?;
    item.extend([
        (VERSION.to_string(), n(version)),
        (TTL.to_string(), n(state.purge_after())),
    ]);
    Ok(item)
}

pub(super) fn decode_code(item: &Item) -> Result<Versioned<CodeState>, StoreError> {
    decode_versioned(item)
}

/// The marker of something done once, dropped by the TTL after `expires`.
pub(super) fn encode_claim(
    tenant: &TenantSlug,
    kind: &str,
    key: &str,
    expires: Option<OffsetDateTime>,
) -> Item {
    let mut item = HashMap::from([
        (PK.to_string(), s(once_pk(tenant, kind, key))),
        (SK.to_string(), s("ONCE")),
    ]);
    if let Some(t) = expires {
        item.insert(TTL.to_string(), n(t.unix_timestamp()));
    }
    item
}

/// The index keys of an outbox message due at `due`: its shard and the
/// time it is due.
pub(super) fn outbox_index_keys(
    tenant: &TenantSlug,
    id: &str,
    due: OffsetDateTime,
) -> (String, String) {
    let shard = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % OUTBOX_SHARDS;
    (
        format!("OUTBOX#{shard}"),
        time_sort(due, &format!("{tenant}#{id}")),
    )
}

pub(super) fn encode_outbox(message: &OutboxMessage) -> Item {
    let (gpk, gsk) = outbox_index_keys(&message.tenant, &message.id, message.due);
    let mut item = HashMap::from([
        (PK.to_string(), s(outbox_pk(&message.tenant, &message.id))),
        (SK.to_string(), s("OUTBOX")),
        (APP_ID.to_string(), s(message.application_id.clone())),
        ("kind".to_string(), s(message.kind.code())),
        ("attempts".to_string(), n(message.attempts)),
        ("due".to_string(), n(message.due.unix_timestamp())),
        (GSI1_PK.to_string(), s(gpk)),
        (GSI1_SK.to_string(), s(gsk)),
    ]);
    if message.stage == Stage::AppIo {
        item.insert("stage".to_string(), s("app_io"));
    }
    item
}

pub(super) fn decode_outbox(item: &Item) -> Result<OutboxMessage, StoreError> {
    let text = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .ok_or_else(|| StoreError::Other(format!("outbox item without {k}")))
    };
    let number = |k: &str| {
        item.get(k)
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or_else(|| StoreError::Other(format!("outbox item without {k}")))
    };
    let pk = text(PK)?;
    let (tenant, id) = pk
        .strip_prefix("TENANT#")
        .and_then(|rest| rest.split_once("#OUTBOX#"))
        .ok_or_else(|| StoreError::Other("outbox item with a bad key".into()))?;
    let kind = match text("kind")?.as_str() {
        "credentials" => MessageKind::Credentials,
        "decision" => MessageKind::Decision,
        "password" => MessageKind::Password,
        "reminder" => MessageKind::Reminder,
        "withdrawal" => MessageKind::Withdrawal,
        "place_available" => MessageKind::PlaceAvailable,
        "waitlisted" => MessageKind::Waitlisted,
        "criteria" => MessageKind::Criteria,
        "changes_requested" => MessageKind::ChangesRequested,
        "changes_reminder" => MessageKind::ChangesReminder,
        _ => return Err(StoreError::Other("outbox item of unknown kind".into())),
    };
    Ok(OutboxMessage {
        tenant: TenantSlug::parse(tenant)
            .map_err(|_| StoreError::Other("outbox item with a bad tenant".into()))?,
        id: id.to_owned(),
        application_id: text(APP_ID)?,
        kind,
        attempts: u32::try_from(number("attempts")?).unwrap_or(u32::MAX),
        due: OffsetDateTime::from_unix_timestamp(number("due")?)
            .map_err(|_| StoreError::Other("outbox item with a bad time".into()))?,
        stage: match item
            .get("stage")
            .and_then(|v| v.as_s().ok())
            .map(String::as_str)
        {
            Some("app_io") => Stage::AppIo,
            _ => Stage::Mail,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::application::{FeeBand, HistoryEntry, Owner, Status};
    use crate::domain::window::Service;
    use time::macros::datetime;

    fn slug() -> TenantSlug {
        TenantSlug::parse("demo").expect("slug")
    }

    fn text(item: &Item, attr: &str) -> String {
        item.get(attr)
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_else(|| panic!("no text {attr} in {item:?}"))
    }

    fn number(item: &Item, attr: &str) -> String {
        item.get(attr)
            .and_then(|v| v.as_n().ok())
            .cloned()
            .unwrap_or_else(|| panic!("no number {attr} in {item:?}"))
    }

    /// The item's attribute names, sorted.
    fn names(item: &Item) -> Vec<&str> {
        let mut names: Vec<&str> = item.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    fn keys(item: &Item) -> (String, String) {
        (text(item, PK), text(item, SK))
    }

    fn other(result: Result<impl std::fmt::Debug, StoreError>) -> String {
        match result {
            Err(StoreError::Other(message)) => message,
            other => panic!("expected StoreError::Other, got {other:?}"),
        }
    }

    fn tenant() -> Tenant {
        serde_json::from_value(serde_json::json!({
            "slug": "demo", "name": "Comune di Esempio", "contact_email": "ufficio@example.it",
            "phone": "080 123456", "services": ["refezione", "trasporto"],
            "arrears_tolerance_cents": 500,
            "fee_bands": [
                { "code": "A", "max_isee_cents": 600000, "fee_cents": 200 },
                { "code": "B", "fee_cents": 500 }
            ],
            "information": { "service_rules": ["Regola"], "portal_url": "https://example.it" },
            "staff_auth": { "issuer": "https://idp.example.it", "algorithm": "RS256", "jwks": { "keys": [] } },
            "oidc": { "issuer": "https://spid.example.it", "client_id": "c", "algorithm": "RS256",
                      "jwks_uri": "https://spid.example.it/jwks" }
        }))
        .expect("tenant")
    }

    fn window(closed_at: Option<OffsetDateTime>) -> Window {
        Window {
            id: "w-1".into(),
            service: Service::Refezione,
            school_year: crate::domain::values::SchoolYear::parse("2025/2026").expect("year"),
            opens_at: datetime!(2025-04-22 07:00 UTC),
            closes_at: datetime!(2025-05-31 21:59:59 UTC),
            closed_at,
            capacity: Some(3),
            ranking: crate::domain::ranking::Ranking::Points,
        }
    }

    fn application(status: Status, submitted_at: Option<OffsetDateTime>) -> Application {
        Application {
            id: "app-7".into(),
            window_id: "w-1".into(),
            kind: "new".into(),
            body: serde_json::from_value(serde_json::json!({
                "window_id": "w-1", "kind": "new",
                "pupil": { "fiscal_code": "RSSMRA15E41A662S", "first_name": "Maria", "last_name": "Rossi" },
                "guardian": { "first_name": "Anna", "email": "anna@example.it",
                              "address": { "city": "Corato", "province": "BA" } },
                "service": { "diet": { "kind": "none" }, "days": ["mon", "fri"] },
                "isee": { "isee_cents": 1250000 },
                "declarations": { "privacy": true }
            }))
            .expect("body"),
            status,
            version: 3,
            first_saved_at: datetime!(2025-04-22 08:00 UTC),
            updated_at: datetime!(2025-04-23 09:30:15 UTC),
            submitted_at,
            decided_at: None,
            decision_reason: Some("Posti esauriti".into()),
            user_code: Some("48213977".into()),
            fee_band: Some(FeeBand {
                code: "B".into(),
                fee_cents: 350,
            }),
            owner: Owner {
                email: Some("anna@example.it".into()),
                spid_fiscal_code: None,
            },
            pupil_fiscal_code: "RSSMRA15E41A662S".into(),
            guardian_fiscal_code: "BNCNNA80A41A662C".into(),
            history: vec![HistoryEntry {
                at: datetime!(2025-04-22 08:00 UTC),
                by: "parent".into(),
                from: None,
                to: Status::Draft,
                reason: None,
            }],
            contested: true,
            proved_phone: Some("+393331234567".into()),
            rank_key: None,
            change_request: None,
            // As read from the store.
            counted_as: Some(status),
        }
    }

    fn attachment() -> Attachment {
        Attachment {
            id: "att-1".into(),
            kind: "isee".into(),
            filename: "attestazione ISEE.pdf".into(),
            content_type: "application/pdf".into(),
            size: 123_456,
            object_key: "attachments/app-7/att-1".into(),
            created_at: datetime!(2025-04-22 08:05:09 UTC),
            confirmed: true,
        }
    }

    fn roster_entry() -> RosterEntry {
        RosterEntry {
            user_code: "48213977".into(),
            service: Service::Refezione,
            pupil_fiscal_code: "SPSGLI16C54C983Q".into(),
            pupil_first_name: "Giulia".into(),
            pupil_last_name: "Esposito".into(),
            pupil_birth_date: "2016-03-14".into(),
            school: "Primaria \"Don Milani\", plesso 2".into(),
            grade: "2".into(),
            section: "A".into(),
            guardian_fiscal_code: "SPSMRC82L09A662D".into(),
            guardian_first_name: "Marco".into(),
            guardian_last_name: "Esposito".into(),
            guardian_email: Some("marco.esposito@example.it".into()),
            guardian_phone: None,
            balance_cents: -4200,
            stop_id: None,
        }
    }

    fn credentials() -> Credentials {
        Credentials {
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
            temporary: true,
            failures: [(
                "client-hash".to_string(),
                vec![1_750_000_000, 1_750_000_100],
            )]
            .into(),
            changed_in: Some("session-1".into()),
            email: Some("anna@example.it".into()),
            issued_at: Some(1_750_000_000),
            mailed_by: Some("tenant-app-7-password".into()),
        }
    }

    fn code_state() -> CodeState {
        CodeState {
            code_hash: "hmac-of-the-code".into(),
            issued_at: 1_750_000_000,
            expires_at: 1_750_000_600,
            failed_attempts: 2,
            failed_others: 3,
            requester: Some("client-hash".into()),
            consumed: false,
            sent_at: vec![1_749_999_000, 1_750_000_000],
        }
    }

    fn message() -> OutboxMessage {
        let mut m = OutboxMessage::new(
            &slug(),
            "app-7",
            MessageKind::Decision,
            datetime!(2025-05-01 10:00 UTC),
        );
        m.attempts = 4;
        m
    }

    // Round trips: every item kind decodes to what was encoded, under the
    // keys and attribute names the table (and existing data) use.

    #[test]
    fn tenant_round_trip() {
        let t = tenant();
        let item = encode_tenant(&t).expect("encode");
        assert_eq!(keys(&item), ("TENANT#demo".into(), "CONFIG".into()));
        assert_eq!(names(&item), ["data", "gsi1pk", "gsi1sk", "pk", "sk"]);
        assert_eq!(text(&item, GSI1_PK), "TENANTS");
        assert_eq!(decode_tenant(&item), Ok(t));
    }

    #[test]
    fn random_ids_spread_evenly_over_the_status_shards() {
        let mut per_shard = [0u32; super::super::STATUS_SHARDS as usize];
        for last in 0..=255u32 {
            per_shard
                [id_shard(&format!("app-{last:02x}"), super::super::STATUS_SHARDS) as usize] += 1;
        }
        assert!(
            per_shard
                .iter()
                .all(|&n| n == 256 / super::super::STATUS_SHARDS)
        );
        assert_eq!(id_shard("app-", 32), 0);
    }

    #[test]
    fn counts_are_sharded_by_the_id_and_read_as_zero_when_absent() {
        assert_eq!(count_shard("app-00"), 0);
        assert_eq!(count_shard("app-0f"), 15);
        assert_eq!(count_shard("app-1f"), 31);
        assert_eq!(count_shard("app-a3"), 3);
        let item = HashMap::from([
            (count_attr(Status::Submitted), n(3)),
            (count_attr(Status::Draft), n(-1)),
        ]);
        let counts = decode_counts(&item);
        assert_eq!(counts.len(), Status::ALL.len());
        assert!(counts.contains(&(Status::Submitted, 3)));
        assert!(counts.contains(&(Status::Draft, -1)));
        assert!(counts.contains(&(Status::Confirmed, 0)));
    }

    #[test]
    fn change_timers_round_trip_by_due_time() {
        let timer = ChangeTimer {
            tenant: slug(),
            application_id: "app-7".into(),
            due_at: datetime!(2025-05-02 10:00 UTC),
        };
        let item = encode_change_timer(&timer);
        assert_eq!(text(&item, GSI1_PK), "CHANGES_DUE");
        assert_eq!(text(&item, GSI1_SK), "001746180000#demo#app-7");
        assert_eq!(decode_change_timer(&item), Ok(timer));
        let mut broken = item.clone();
        broken.remove("due");
        assert!(decode_change_timer(&broken).is_err());
    }

    #[test]
    fn open_window_round_trip_is_in_the_open_index() {
        let w = window(None);
        let item = encode_window(&slug(), &w).expect("encode");
        assert_eq!(keys(&item), ("TENANT#demo".into(), "WINDOW#w-1".into()));
        assert_eq!(names(&item), ["data", "gsi1pk", "gsi1sk", "pk", "sk"]);
        assert_eq!(text(&item, GSI1_PK), "WINDOWS#OPEN");
        assert_eq!(text(&item, GSI1_SK), "001748728799#demo#w-1");
        assert_eq!(item.get(DATA), Some(&window_data(&w).expect("data")));
        assert_eq!(decode_window(&item), Ok(w.clone()));
        assert_eq!(decode_tenant_window(&item), Ok((slug(), w)));
    }

    #[test]
    fn closed_window_round_trip_leaves_the_open_index() {
        let w = window(Some(datetime!(2025-05-01 10:00 UTC)));
        let item = encode_window(&slug(), &w).expect("encode");
        assert_eq!(names(&item), ["data", "pk", "sk"]);
        assert_eq!(decode_window(&item), Ok(w));
    }

    #[test]
    fn application_round_trip_in_the_staff_list() {
        let draft = application(Status::Draft, None);
        let item = encode_application(&slug(), &draft).expect("encode");
        assert_eq!(keys(&item), ("TENANT#demo#APP#app-7".into(), "APP".into()));
        assert_eq!(
            names(&item),
            ["data", "gsi1pk", "gsi1sk", "pk", "sk", "version"]
        );
        assert_eq!(number(&item, VERSION), "3");
        assert_eq!(text(&item, GSI1_PK), "TENANT#demo#WINDOW#w-1#draft#7");
        assert_eq!(text(&item, GSI1_SK), "001745308800#app-7");
        assert_eq!(decode_application(&item), Ok(draft));

        // A submitted one is listed by its submission.
        let submitted = application(Status::Submitted, Some(datetime!(2025-04-24 12:00 UTC)));
        let item = encode_application(&slug(), &submitted).expect("encode");
        assert_eq!(text(&item, GSI1_PK), "TENANT#demo#WINDOW#w-1#submitted#7");
        assert_eq!(text(&item, GSI1_SK), "001745496000#app-7");
        assert_eq!(decode_application(&item), Ok(submitted.clone()));

        // One that holds a place is on the places index, in its shard.
        let mut ranked = submitted;
        ranked.rank_key = Some("1#00000001745496000000000000#app-7".into());
        let item = encode_application(&slug(), &ranked).expect("encode");
        assert_eq!(text(&item, GSI2_PK), "TENANT#demo#WINDOW#w-1#RANK#7");
        assert_eq!(text(&item, GSI2_SK), "1#00000001745496000000000000#app-7");
        assert_eq!(decode_application(&item), Ok(ranked));
        assert_eq!(rank_shard("app-0f"), 15);
        assert!((0..16).all(|d| rank_shard(&format!("app-{d:x}")) < super::super::RANK_SHARDS));
    }

    #[test]
    fn attachment_round_trip() {
        let a = attachment();
        let item = encode_attachment(&slug(), "app-7", &a).expect("encode");
        assert_eq!(
            keys(&item),
            ("TENANT#demo#APP#app-7".into(), "ATT#att-1".into())
        );
        assert_eq!(names(&item), ["data", "pk", "sk"]);
        assert_eq!(decode_attachment(&item), Ok(a));
    }

    #[test]
    fn outbox_message_round_trip() {
        let m = message();
        let item = encode_outbox(&m);
        assert_eq!(
            keys(&item),
            ("TENANT#demo#OUTBOX#app-7-decision".into(), "OUTBOX".into())
        );
        assert_eq!(
            names(&item),
            [
                "app_id", "attempts", "due", "gsi1pk", "gsi1sk", "kind", "pk", "sk"
            ]
        );
        assert_eq!(text(&item, APP_ID), "app-7");
        assert_eq!(text(&item, "kind"), "decision");
        assert_eq!(number(&item, "attempts"), "4");
        assert_eq!(number(&item, "due"), "1746093600");
        let (gpk, gsk) = outbox_index_keys(&slug(), &m.id, m.due);
        assert_eq!(text(&item, GSI1_PK), gpk);
        assert_eq!(text(&item, GSI1_SK), gsk);
        assert_eq!(gsk, "001746093600#demo#app-7-decision");
        assert_eq!(decode_outbox(&item), Ok(m));

        let mut letter = OutboxMessage::new(
            &slug(),
            "app-8",
            MessageKind::Credentials,
            datetime!(2025-05-01 10:00 UTC),
        );
        letter.attempts = 0;
        assert_eq!(decode_outbox(&encode_outbox(&letter)), Ok(letter));
    }

    #[test]
    fn outbox_shards_are_stable_and_in_range() {
        let due = datetime!(2025-05-01 10:00 UTC);
        let mut seen = std::collections::BTreeSet::new();
        for i in 0..64 {
            let (gpk, _) = outbox_index_keys(&slug(), &format!("app-{i}-credentials"), due);
            let shard: u32 = gpk
                .strip_prefix("OUTBOX#")
                .and_then(|n| n.parse().ok())
                .expect("shard");
            assert!(shard < OUTBOX_SHARDS);
            seen.insert(shard);
        }
        assert!(seen.len() > 1, "every message in one shard");
        // The shard follows from the id alone. A message keeps the shard
        // it was written in (a lease moves only its sort key), and the
        // shards of 8 before are among today's 32: none is left unread.
        assert_eq!(outbox_index_keys(&slug(), "a", due).0, "OUTBOX#1");
        assert_eq!(
            outbox_index_keys(&slug(), "app-7-decision", due).0,
            "OUTBOX#30"
        );
    }

    #[test]
    fn roster_entry_round_trip_with_its_links() {
        let e = roster_entry();
        let links = vec!["hash-a".to_string(), "hash-b".to_string()];
        let item = encode_roster_entry(&slug(), &e, &links).expect("encode");
        assert_eq!(
            keys(&item),
            ("TENANT#demo#ROSTER#48213977".into(), "ENTRY".into())
        );
        assert_eq!(names(&item), ["data", "links", "pk", "sk"]);
        assert_eq!(decode_roster_entry(&item), Ok(e));
        assert_eq!(roster_links(&item), links);

        let mut without = item.clone();
        without.remove(LINKS);
        assert_eq!(roster_links(&without), Vec::<String>::new());
    }

    #[test]
    fn credentials_round_trip_with_their_version() {
        let c = credentials();
        let item = encode_credentials(&slug(), "pupil-hash", "family-hash", &c, 2).expect("encode");
        assert_eq!(
            keys(&item),
            (
                "TENANT#demo#PUPIL#pupil-hash".into(),
                "CREDENTIALS#family-hash".into()
            )
        );
        assert_eq!(credentials_family(&item).as_deref(), Some("family-hash"));
        assert_eq!(names(&item), ["data", "pk", "sk", "version"]);
        assert_eq!(
            decode_credentials(&item),
            Ok(Versioned {
                value: c.clone(),
                version: 2
            })
        );
        // Written before `changed_in` existed: still readable.
        let mut old = c;
        old.changed_in = None;
        old.email = None;
        old.issued_at = None;
        old.mailed_by = None;
        let item = encode_credentials(&slug(), "pupil-hash", "f", &old, 1).expect("encode");
        assert!(!text(&item, DATA).contains("changed_in"));
        assert_eq!(decode_credentials(&item).map(|v| v.value), Ok(old));
    }

    #[test]
    fn email_code_round_trip_with_version_and_ttl() {
        let state = code_state();
        let item = encode_code(&slug(), "addr-hash", &state, 5).expect("encode");
        assert_eq!(
            keys(&item),
            ("TENANT#demo#ADDR#addr-hash".into(), "CODE".into())
        );
        assert_eq!(names(&item), ["data", "pk", "sk", "ttl", "version"]);
        assert_eq!(number(&item, TTL), state.purge_after().to_string());
        assert_eq!(
            decode_code(&item),
            Ok(Versioned {
                value: state,
                version: 5
            })
        );
    }

    #[test]
    fn versioned_item_without_version_reads_as_version_zero() {
        let mut item = encode_code(&slug(), "addr-hash", &code_state(), 5).expect("encode");
        item.remove(VERSION);
        assert_eq!(decode_code(&item).map(|v| v.version), Ok(0));
    }

    #[test]
    fn link_items_point_at_their_target() {
        let app = application(Status::Draft, None);
        let cases = [
            (
                encode_pupil_link(&slug(), "pupil-hash", "app-7"),
                ("TENANT#demo#PUPIL#pupil-hash", "APP#app-7"),
                APP_ID,
                "app-7",
            ),
            (
                encode_family_guard(&slug(), "owner-hash", "pupil-hash", &app),
                (
                    "TENANT#demo#OWNER#owner-hash",
                    "PUPIL#pupil-hash#WINDOW#w-1",
                ),
                APP_ID,
                "app-7",
            ),
            (
                encode_hold(
                    &slug(),
                    &Hold {
                        pupil: "pupil-hash".into(),
                        service: "refezione".into(),
                        school_year: "2025/2026".into(),
                    },
                    "app-7",
                ),
                ("TENANT#demo#PUPIL#pupil-hash", "HOLD#refezione#2025/2026"),
                APP_ID,
                "app-7",
            ),
            (
                encode_owner_link(&slug(), "owner-hash", "app-7"),
                ("TENANT#demo#OWNER#owner-hash", "APP#app-7"),
                APP_ID,
                "app-7",
            ),
            (
                encode_user_code_reservation(&slug(), "48213977", "app-7"),
                ("TENANT#demo#USERCODE#48213977", "USERCODE"),
                APP_ID,
                "app-7",
            ),
            (
                encode_roster_link(&slug(), "owner-hash", "48213977"),
                ("TENANT#demo#OWNER#owner-hash", "ROSTER#48213977"),
                USER_CODE,
                "48213977",
            ),
        ];
        for (item, (pk, sk), attr, target) in cases {
            assert_eq!(keys(&item), (pk.to_string(), sk.to_string()));
            assert_eq!(names(&item).len(), 3, "{item:?}");
            assert_eq!(link_target(&item, attr).as_deref(), Some(target));
        }
        // An item without the attribute (or of another type) links nowhere.
        let mut odd = encode_owner_link(&slug(), "owner-hash", "app-7");
        assert_eq!(link_target(&odd, USER_CODE), None);
        odd.insert(APP_ID.into(), n(7));
        assert_eq!(link_target(&odd, APP_ID), None);
    }

    #[test]
    fn roster_hold_and_claim_markers() {
        let hold = encode_roster_hold(&slug(), "48213977");
        assert_eq!(
            keys(&hold),
            ("TENANT#demo#USERCODE#48213977".into(), "USERCODE".into())
        );
        assert_eq!(hold.get("roster"), Some(&AttributeValue::Bool(true)));
        assert_eq!(names(&hold), ["pk", "roster", "sk"]);

        let claim = encode_claim(&slug(), "reminder", "key-hash", None);
        assert_eq!(
            keys(&claim),
            ("TENANT#demo#ONCE#reminder#key-hash".into(), "ONCE".into())
        );
        assert_eq!(names(&claim), ["pk", "sk"]);
        let claim = encode_claim(
            &slug(),
            "id-token",
            "jti-hash",
            Some(datetime!(2025-05-01 10:00 UTC)),
        );
        assert_eq!(number(&claim, TTL), "1746093600");
    }

    // Corrupted items: a typed error with a message for the logs, never a
    // panic, and never the stored value in the message.

    type Decoder = fn(&Item) -> Result<(), StoreError>;

    /// Every decoder of a JSON `data` item, with a good item of its kind.
    fn data_items() -> Vec<(&'static str, Item, Decoder)> {
        vec![
            ("tenant", encode_tenant(&tenant()).expect("encode"), |i| {
                decode_tenant(i).map(drop)
            }),
            (
                "window",
                encode_window(&slug(), &window(None)).expect("encode"),
                |i| decode_window(i).map(drop),
            ),
            (
                "open window",
                encode_window(&slug(), &window(None)).expect("encode"),
                |i| decode_tenant_window(i).map(drop),
            ),
            (
                "application",
                encode_application(&slug(), &application(Status::Draft, None)).expect("encode"),
                |i| decode_application(i).map(drop),
            ),
            (
                "attachment",
                encode_attachment(&slug(), "app-7", &attachment()).expect("encode"),
                |i| decode_attachment(i).map(drop),
            ),
            (
                "roster entry",
                encode_roster_entry(&slug(), &roster_entry(), &["h".into()]).expect("encode"),
                |i| decode_roster_entry(i).map(drop),
            ),
            (
                "credentials",
                encode_credentials(&slug(), "p", "f", &credentials(), 1).expect("encode"),
                |i| decode_credentials(i).map(drop),
            ),
            (
                "email code",
                encode_code(&slug(), "a", &code_state(), 1).expect("encode"),
                |i| decode_code(i).map(drop),
            ),
        ]
    }

    #[test]
    fn an_item_without_data_is_an_error() {
        for (kind, mut item, decode) in data_items() {
            assert_eq!(decode(&item), Ok(()), "{kind}");
            item.remove(DATA);
            assert_eq!(other(decode(&item)), "item without data", "{kind}");
        }
    }

    #[test]
    fn data_of_the_wrong_type_is_an_error() {
        for (kind, mut item, decode) in data_items() {
            item.insert(DATA.into(), n(42));
            assert_eq!(other(decode(&item)), "item without data", "{kind}");
            item.insert(DATA.into(), AttributeValue::Ss(vec!["{}".into()]));
            assert_eq!(other(decode(&item)), "item without data", "{kind}");
        }
    }

    #[test]
    fn unreadable_json_is_an_error_that_does_not_quote_it() {
        for (kind, mut item, decode) in data_items() {
            for bad in [
                "{\"secret\": \"RSSMRA15E41A662S\"",
                "RSSMRA15E41A662S",
                "[\"RSSMRA15E41A662S\"]",
                "{\"unexpected\": \"RSSMRA15E41A662S\"}",
            ] {
                item.insert(DATA.into(), s(bad));
                let message = other(decode(&item));
                assert!(
                    message.starts_with("stored data unreadable ("),
                    "{kind}: {message}"
                );
                assert!(!message.contains("RSSMRA"), "{kind}: {message}");
            }
        }
    }

    /// `data` with one JSON field replaced.
    fn with_field(item: &Item, field: &str, value: serde_json::Value) -> Item {
        let mut json: serde_json::Value = serde_json::from_str(&text(item, DATA)).expect("json");
        json[field] = value;
        let mut item = item.clone();
        item.insert(DATA.into(), s(json.to_string()));
        item
    }

    #[test]
    fn an_unreadable_date_is_an_error() {
        let w = encode_window(&slug(), &window(None)).expect("encode");
        let a = encode_application(&slug(), &application(Status::Draft, None)).expect("encode");
        let att = encode_attachment(&slug(), "app-7", &attachment()).expect("encode");
        for (item, field, decode) in [
            (&w, "closes_at", (|i| decode_window(i).map(drop)) as Decoder),
            (&w, "closed_at", |i| decode_window(i).map(drop)),
            (&a, "first_saved_at", |i| decode_application(i).map(drop)),
            (&a, "submitted_at", |i| decode_application(i).map(drop)),
            (&att, "created_at", |i| decode_attachment(i).map(drop)),
        ] {
            for bad in [
                serde_json::json!("31/05/2025"),
                serde_json::json!("2025-02-30T10:00:00Z"),
                serde_json::json!(1_748_728_799),
            ] {
                let message = other(decode(&with_field(item, field, bad)));
                assert!(
                    message.starts_with("stored data unreadable ("),
                    "{field}: {message}"
                );
            }
        }
    }

    #[test]
    fn an_open_window_with_a_bad_key_is_an_error() {
        let item = encode_window(&slug(), &window(None)).expect("encode");
        for pk in [s("WINDOW#w-1"), s("TENANT#Not A Slug"), n(1)] {
            let mut bad = item.clone();
            bad.insert(PK.into(), pk);
            assert_eq!(
                other(decode_tenant_window(&bad)),
                "window item with a bad key"
            );
        }
        let mut bad = item;
        bad.remove(PK);
        assert_eq!(
            other(decode_tenant_window(&bad)),
            "window item with a bad key"
        );
    }

    #[test]
    fn a_corrupted_outbox_item_is_an_error() {
        let good = encode_outbox(&message());
        let changed = |attr: &str, value: Option<AttributeValue>| {
            let mut item = good.clone();
            match value {
                Some(v) => item.insert(attr.into(), v),
                None => item.remove(attr),
            };
            other(decode_outbox(&item))
        };
        for attr in [PK, APP_ID, "kind"] {
            assert_eq!(
                changed(attr, None),
                format!("outbox item without {attr}"),
                "{attr}"
            );
            assert_eq!(
                changed(attr, Some(n(1))),
                format!("outbox item without {attr}"),
                "{attr}"
            );
        }
        for attr in ["attempts", "due"] {
            let expected = format!("outbox item without {attr}");
            assert_eq!(changed(attr, None), expected);
            assert_eq!(changed(attr, Some(s("4"))), expected);
            assert_eq!(changed(attr, Some(n("four"))), expected);
            assert_eq!(changed(attr, Some(n("1.5"))), expected);
        }
        assert_eq!(
            changed("kind", Some(s("postcard"))),
            "outbox item of unknown kind"
        );
        assert_eq!(
            changed(PK, Some(s("TENANT#demo#APP#app-7"))),
            "outbox item with a bad key"
        );
        assert_eq!(
            changed(PK, Some(s("TENANT#No Slug#OUTBOX#app-7-decision"))),
            "outbox item with a bad tenant"
        );
        assert_eq!(
            changed("due", Some(n(i64::MAX))),
            "outbox item with a bad time"
        );
    }

    #[test]
    fn outbox_attempts_beyond_the_counter_saturate() {
        let mut item = encode_outbox(&message());
        item.insert("attempts".into(), n(u64::from(u32::MAX) + 10));
        assert_eq!(decode_outbox(&item).map(|m| m.attempts), Ok(u32::MAX));
    }
}
