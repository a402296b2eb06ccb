//! Every item the store writes, as pure functions from a domain value to
//! its attributes and back. Most items keep their value as JSON in `data`;
//! what a decode cannot read is a `StoreError`, never a panic, and its
//! message never quotes the stored value.

use std::collections::HashMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{
    DATA, GSI1_PK, GSI1_SK, Item, PK, SK, TTL, VERSION, application_pk, email_code_pk, n, once_pk,
    outbox_pk, owner_pk, pupil_pk, roster_pk, s, tenant_pk, time_sort, user_code_pk, window_sk,
};
use crate::domain::application::{Application, Attachment};
use crate::domain::email_code::CodeState;
use crate::domain::roster::RosterEntry;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;
use crate::ports::{Credentials, MessageKind, OutboxMessage, StoreError, Versioned};
use aws_sdk_dynamodb::types::AttributeValue;

/// The GSI1 partition of windows whose close is not recorded yet. Sparse:
/// a window leaves it when closed, so it stays a handful of items.
pub(super) const OPEN_WINDOWS: &str = "WINDOWS#OPEN";
/// Pending outbox messages are indexed in this many GSI partitions
/// (`OUTBOX#<n>`), so that an opening morning's submissions do not all
/// write one index key.
pub(super) const OUTBOX_SHARDS: u32 = 8;
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

pub(super) fn encode_tenant(tenant: &Tenant) -> Result<Item, StoreError> {
    data_item(tenant_pk(&tenant.slug), "CONFIG", tenant)
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

/// The staff list: a window's applications by status, newest first.
fn staff_list_keys(tenant: &TenantSlug, app: &Application) -> (String, String) {
    let at = app.submitted_at.unwrap_or(app.first_saved_at);
    (
        staff_list_pk(tenant, &app.window_id, app.status.code()),
        time_sort(at, &app.id),
    )
}

/// The index partition of a window's applications in one status.
pub(super) fn staff_list_pk(tenant: &TenantSlug, window_id: &str, status: &str) -> String {
    format!("TENANT#{tenant}#WINDOW#{window_id}#{status}")
}

/// The id of the application whose staff-list sort key is `gsk`.
pub(super) fn staff_list_id(gsk: &str) -> String {
    gsk.split('#').nth(1).unwrap_or_default().to_owned()
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
    Ok(item)
}

pub(super) fn decode_application(item: &Item) -> Result<Application, StoreError> {
    from_data(item)
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

/// The guard of one application per pupil and window.
pub(super) fn encode_pupil_guard(tenant: &TenantSlug, pupil: &str, app: &Application) -> Item {
    link_item(
        pupil_pk(tenant, pupil),
        window_sk(&app.window_id),
        APP_ID,
        &app.id,
    )
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

pub(super) fn encode_credentials(
    tenant: &TenantSlug,
    pupil: &str,
    credentials: &Credentials,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = data_item(pupil_pk(tenant, pupil), "CREDENTIALS", credentials)?;
    item.insert(VERSION.to_string(), n(version));
    Ok(item)
}

pub(super) fn decode_credentials(item: &Item) -> Result<Versioned<Credentials>, StoreError> {
    decode_versioned(item)
}

/// An address's code record; the table's TTL drops it once useless.
pub(super) fn encode_email_code(
    tenant: &TenantSlug,
    address_key: &str,
    state: &CodeState,
    version: u64,
) -> Result<Item, StoreError> {
    let mut item = data_item(email_code_pk(tenant, address_key), "CODE", state)?;
    item.extend([
        (VERSION.to_string(), n(version)),
        (TTL.to_string(), n(state.purge_after())),
    ]);
    Ok(item)
}

pub(super) fn decode_email_code(item: &Item) -> Result<Versioned<CodeState>, StoreError> {
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
    HashMap::from([
        (PK.to_string(), s(outbox_pk(&message.tenant, &message.id))),
        (SK.to_string(), s("OUTBOX")),
        (APP_ID.to_string(), s(message.application_id.clone())),
        ("kind".to_string(), s(message.kind.code())),
        ("attempts".to_string(), n(message.attempts)),
        ("due".to_string(), n(message.due.unix_timestamp())),
        (GSI1_PK.to_string(), s(gpk)),
        (GSI1_SK.to_string(), s(gsk)),
    ])
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
    })
}
