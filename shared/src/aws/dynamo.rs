//! The DynamoDB store: one table, keys designed from the access patterns
//! (see docs/data-model.md). Attribute names stay in this file.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use super::{describe, is_transient};
use crate::domain::application::{Application, Attachment, Status};
use crate::domain::email_code::CodeState;
use crate::domain::roster::RosterEntry;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;
use crate::ports::{
    ApplicationKeys, CreateError, Credentials, MessageKind, OutboxMessage, RosterWriteError, Store,
    StoreError, SubmitError, Versioned,
};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const TTL: &str = "ttl";
const DATA: &str = "data";
const VERSION: &str = "version";
/// The GSI1 partition of windows whose close is not recorded yet. Sparse:
/// a window leaves it when closed, so it stays a handful of items.
const OPEN_WINDOWS: &str = "WINDOWS#OPEN";

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn tenant_pk(tenant: &TenantSlug) -> String {
    format!("TENANT#{tenant}")
}

fn email_code_pk(tenant: &TenantSlug, address_key: &str) -> String {
    format!("TENANT#{tenant}#ADDR#{address_key}")
}

fn application_pk(tenant: &TenantSlug, id: &str) -> String {
    format!("TENANT#{tenant}#APP#{id}")
}

fn pupil_pk(tenant: &TenantSlug, pupil: &str) -> String {
    format!("TENANT#{tenant}#PUPIL#{pupil}")
}

fn owner_pk(tenant: &TenantSlug, owner: &str) -> String {
    format!("TENANT#{tenant}#OWNER#{owner}")
}

fn roster_pk(tenant: &TenantSlug, user_code: &str) -> String {
    format!("TENANT#{tenant}#ROSTER#{user_code}")
}

fn user_code_pk(tenant: &TenantSlug, user_code: &str) -> String {
    format!("TENANT#{tenant}#USERCODE#{user_code}")
}

fn outbox_pk(tenant: &TenantSlug, id: &str) -> String {
    format!("TENANT#{tenant}#OUTBOX#{id}")
}

/// Pending outbox messages are indexed in this many GSI partitions
/// (`OUTBOX#<n>`), so that an opening morning's submissions do not all
/// write one index key.
const OUTBOX_SHARDS: u32 = 8;

fn outbox_index_keys(tenant: &TenantSlug, id: &str, due: OffsetDateTime) -> (String, String) {
    let shard = id
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)))
        % OUTBOX_SHARDS;
    (
        format!("OUTBOX#{shard}"),
        format!("{:012}#{tenant}#{id}", due.unix_timestamp().max(0)),
    )
}

fn outbox_item(message: &OutboxMessage) -> Item {
    let (gpk, gsk) = outbox_index_keys(&message.tenant, &message.id, message.due);
    HashMap::from([
        (PK.to_string(), s(outbox_pk(&message.tenant, &message.id))),
        (SK.to_string(), s("OUTBOX")),
        ("app_id".to_string(), s(message.application_id.clone())),
        ("kind".to_string(), s(message.kind.code())),
        ("attempts".to_string(), n(message.attempts)),
        ("due".to_string(), n(message.due.unix_timestamp())),
        (GSI1_PK.to_string(), s(gpk)),
        (GSI1_SK.to_string(), s(gsk)),
    ])
}

fn outbox_from_item(item: &Item) -> Result<OutboxMessage, StoreError> {
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
        application_id: text("app_id")?,
        kind,
        attempts: u32::try_from(number("attempts")?).unwrap_or(u32::MAX),
        due: OffsetDateTime::from_unix_timestamp(number("due")?)
            .map_err(|_| StoreError::Other("outbox item with a bad time".into()))?,
    })
}

/// Roster entries hang off the same identity partitions as the
/// applications a guardian creates (`OWNER#<keyed hash>`).
const ROSTER_LINK: &str = "ROSTER#";
const LINKS: &str = "links";

/// The staff list: a window's applications by status, newest first.
fn staff_list_keys(tenant: &TenantSlug, app: &Application) -> (String, String) {
    let at = app.submitted_at.unwrap_or(app.first_saved_at);
    (
        format!(
            "TENANT#{tenant}#WINDOW#{}#{}",
            app.window_id,
            app.status.code()
        ),
        format!("{:012}#{}", at.unix_timestamp().max(0), app.id),
    )
}

fn application_item(tenant: &TenantSlug, app: &Application) -> Result<Item, StoreError> {
    let (gpk, gsk) = staff_list_keys(tenant, app);
    Ok(HashMap::from([
        (PK.to_string(), s(application_pk(tenant, &app.id))),
        (SK.to_string(), s("APP")),
        (DATA.to_string(), to_json(app)?),
        (VERSION.to_string(), n(app.version)),
        (GSI1_PK.to_string(), s(gpk)),
        (GSI1_SK.to_string(), s(gsk)),
    ]))
}

/// A transaction's replacement of an application still at `expected`.
fn application_at_version(
    table: &str,
    tenant: &TenantSlug,
    application: &Application,
    expected: u64,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(application_item(tenant, application)?))
        .condition_expression("#v = :v")
        .expression_attribute_names("#v", VERSION)
        .expression_attribute_values(":v", n(expected))
        .build()
        .map_err(|e| StoreError::Other(format!("transaction put: {e}")))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn put_item(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    let mut put = Put::builder().table_name(table).set_item(Some(item));
    if let Some(c) = condition {
        put = put
            .condition_expression(c)
            .expression_attribute_names("#pk", PK);
    }
    let put = put
        .build()
        .map_err(|e| StoreError::Other(format!("transaction put: {e}")))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// The indexes of the actions whose condition failed in a cancelled
/// transaction.
fn cancelled_actions<R>(
    err: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Vec<usize> {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match err.as_service_error() {
        Some(TransactWriteItemsError::TransactionCanceledException(t)) => t
            .cancellation_reasons()
            .iter()
            .enumerate()
            .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
            .map(|(i, _)| i)
            .collect(),
        _ => Vec::new(),
    }
}

fn window_sk(id: &str) -> String {
    format!("WINDOW#{id}")
}

fn open_window_sort(closes_at: OffsetDateTime, tenant: &TenantSlug, id: &str) -> String {
    format!("{:012}#{tenant}#{id}", closes_at.unix_timestamp().max(0))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn to_json<T: Serialize>(value: &T) -> Result<AttributeValue, StoreError> {
    serde_json::to_string(value)
        .map(AttributeValue::S)
        .map_err(|e| StoreError::Other(format!("serialize: {e}")))
}

fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
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

fn version_of(item: &Item) -> u64 {
    item.get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Map an SDK error; `conflict` tells whether it was a failed condition.
fn map_err<E>(err: SdkError<E, super::RawResponse>, conflict: impl Fn(&E) -> bool) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    if let SdkError::ServiceError(e) = &err
        && conflict(e.err())
    {
        return StoreError::Conflict;
    }
    if is_transient(&err) {
        tracing::warn!(error = %describe(&err), "dynamodb transient error");
        StoreError::Unavailable
    } else {
        StoreError::Other(describe(&err))
    }
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    async fn get(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(out.item)
    }

    /// The `app_id`s of the link items under `pk` whose sort key starts
    /// with `prefix`.
    async fn linked_ids(&self, pk: String, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.linked(pk, prefix, "app_id").await
    }

    /// The attribute `attr` of the items under `pk` whose sort key starts
    /// with `prefix`.
    async fn linked(
        &self,
        pk: String,
        prefix: &str,
        attr: &str,
    ) -> Result<Vec<String>, StoreError> {
        let mut ids = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":prefix", s(prefix))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| map_err(e, |_| false))?;
            if let Some(id) = item.get(attr).and_then(|v| v.as_s().ok()) {
                ids.push(id.clone());
            }
        }
        Ok(ids)
    }

    async fn applications(
        &self,
        tenant: &TenantSlug,
        ids: Vec<String>,
    ) -> Result<Vec<Application>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = self.get(application_pk(tenant, &id), "APP").await? {
                out.push(from_item(&item)?);
            }
        }
        Ok(out)
    }

    /// An item's `data` with the version its conditional writes must name.
    async fn get_versioned<T: DeserializeOwned>(
        &self,
        pk: String,
        sk: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let Some(item) = self.get(pk, sk).await? else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            value: from_item(&item)?,
            version: version_of(&item),
        }))
    }

    async fn put(&self, item: Item) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(())
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get_tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.get(tenant_pk(slug), "CONFIG")
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let item = HashMap::from([
            (PK.to_string(), s(tenant_pk(&tenant.slug))),
            (SK.to_string(), s("CONFIG")),
            (DATA.to_string(), to_json(tenant)?),
        ]);
        self.put(item).await
    }

    async fn list_windows(&self, tenant: &TenantSlug) -> Result<Vec<Window>, StoreError> {
        let mut windows = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(tenant_pk(tenant)))
            .expression_attribute_values(":prefix", s("WINDOW#"))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| map_err(e, |_| false))?;
            windows.push(from_item(&item)?);
        }
        Ok(windows)
    }

    async fn put_window(&self, tenant: &TenantSlug, window: &Window) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            (PK.to_string(), s(tenant_pk(tenant))),
            (SK.to_string(), s(window_sk(&window.id))),
            (DATA.to_string(), to_json(window)?),
        ]);
        if window.closed_at.is_none() {
            item.insert(GSI1_PK.into(), s(OPEN_WINDOWS));
            item.insert(
                GSI1_SK.into(),
                s(open_window_sort(window.closes_at, tenant, &window.id)),
            );
        }
        self.put(item).await
    }

    async fn claim_once(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
        expires: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let mut request = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(format!("TENANT#{tenant}#ONCE#{kind}#{key}")))
            .item(SK, s("ONCE"))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK);
        if let Some(t) = expires {
            request = request.item(TTL, n(t.unix_timestamp()));
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(e) => match map_err(e, |e| e.is_conditional_check_failed_exception()) {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn windows_closing_by(
        &self,
        now: OffsetDateTime,
    ) -> Result<Vec<(TenantSlug, Window)>, StoreError> {
        // Every sort key up to "<now>#~" sorts before any window closing
        // after now ('~' is after every slug character).
        let upper = format!("{:012}#~", now.unix_timestamp().max(0));
        let mut due = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND #sk <= :upper")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_names("#sk", GSI1_SK)
            .expression_attribute_values(":pk", s(OPEN_WINDOWS))
            .expression_attribute_values(":upper", s(upper))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| map_err(e, |_| false))?;
            let tenant = item
                .get(PK)
                .and_then(|v| v.as_s().ok())
                .and_then(|pk| pk.strip_prefix("TENANT#"))
                .and_then(|slug| TenantSlug::parse(slug).ok())
                .ok_or_else(|| StoreError::Other("window item with a bad key".into()))?;
            let window: Window = from_item(&item)?;
            if window.closed_at.is_none() && window.closes_at <= now {
                due.push((tenant, window));
            }
        }
        Ok(due)
    }

    async fn record_window_closed(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let Some(item) = self.get(tenant_pk(tenant), &window_sk(window_id)).await? else {
            return Ok(false);
        };
        let mut window: Window = from_item(&item)?;
        if window.closed_at.is_some() {
            return Ok(false);
        }
        let previous_data = item
            .get(DATA)
            .cloned()
            .ok_or_else(|| StoreError::Other("item without data".into()))?;
        window.closed_at = Some(at);
        // Conditional on the data read: a concurrent run or a staff change in
        // between makes this a no-op rather than a lost update.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(tenant_pk(tenant)))
            .key(SK, s(window_sk(window_id)))
            .update_expression("SET #data = :new REMOVE #gpk, #gsk")
            .condition_expression("#data = :old")
            .expression_attribute_names("#data", DATA)
            .expression_attribute_names("#gpk", GSI1_PK)
            .expression_attribute_names("#gsk", GSI1_SK)
            .expression_attribute_values(":new", to_json(&window)?)
            .expression_attribute_values(":old", previous_data)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) => match map_err(e, |e| e.is_conditional_check_failed_exception()) {
                StoreError::Conflict => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn get_window(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
    ) -> Result<Option<Window>, StoreError> {
        self.get(tenant_pk(tenant), &window_sk(window_id))
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    async fn create_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        keys: &ApplicationKeys,
    ) -> Result<(), CreateError> {
        let table = self.table.as_str();
        let mut actions = vec![
            put_item(
                table,
                application_item(tenant, application)?,
                Some("attribute_not_exists(#pk)"),
            )?,
            put_item(
                table,
                HashMap::from([
                    (PK.to_string(), s(pupil_pk(tenant, &keys.pupil))),
                    (
                        SK.to_string(),
                        s(format!("WINDOW#{}", application.window_id)),
                    ),
                    ("app_id".to_string(), s(application.id.clone())),
                ]),
                Some("attribute_not_exists(#pk)"),
            )?,
        ];
        for owner in &keys.owners {
            let lock = Update::builder()
                .table_name(table)
                .key(PK, s(owner_pk(tenant, owner)))
                .key(SK, s("GUARDIAN"))
                .update_expression("SET #g = :g")
                .condition_expression("attribute_not_exists(#pk) OR #g = :g")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#g", "guardian")
                .expression_attribute_values(":g", s(keys.guardian.clone()))
                .build()
                .map_err(|e| StoreError::Other(format!("transaction update: {e}")))?;
            actions.push(TransactWriteItem::builder().update(lock).build());
            actions.push(put_item(
                table,
                HashMap::from([
                    (PK.to_string(), s(owner_pk(tenant, owner))),
                    (SK.to_string(), s(format!("APP#{}", application.id))),
                    ("app_id".to_string(), s(application.id.clone())),
                ]),
                None,
            )?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        if err
            .as_service_error()
            .is_some_and(|e| e.is_transaction_canceled_exception())
        {
            let failed = cancelled_actions(&err);
            // Action 1 is the pupil's guard; from 2 on, owner locks and links.
            if failed.contains(&1) {
                return Err(CreateError::DuplicatePupil);
            }
            if failed.iter().any(|i| *i >= 2) {
                return Err(CreateError::GuardianMismatch);
            }
            if failed.contains(&0) {
                return Err(CreateError::Store(StoreError::Conflict));
            }
            // Cancelled for another reason (a concurrent transaction on the
            // same items): nothing was written, the client may retry.
            return Err(CreateError::Store(StoreError::Unavailable));
        }
        Err(CreateError::Store(map_err(err, |_| false)))
    }

    async fn get_application(
        &self,
        tenant: &TenantSlug,
        id: &str,
    ) -> Result<Option<Application>, StoreError> {
        self.get(application_pk(tenant, id), "APP")
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    async fn put_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
    ) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(application_item(tenant, application)?))
            .condition_expression("#v = :v")
            .expression_attribute_names("#v", VERSION)
            .expression_attribute_values(":v", n(expected))
            .send()
            .await
            .map_err(|e| map_err(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn submit_application(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        reserve: Option<&str>,
        message: &OutboxMessage,
    ) -> Result<(), SubmitError> {
        let table = self.table.as_str();
        // Action 0 is the application, 1 the credentials letter owed, 2 the
        // user code's reservation.
        let mut actions = vec![
            application_at_version(table, tenant, application, expected)?,
            put_item(
                table,
                outbox_item(message),
                Some("attribute_not_exists(#pk)"),
            )?,
        ];
        if let Some(user_code) = reserve {
            actions.push(put_item(
                table,
                HashMap::from([
                    (PK.to_string(), s(user_code_pk(tenant, user_code))),
                    (SK.to_string(), s("USERCODE")),
                    ("app_id".to_string(), s(application.id.clone())),
                ]),
                Some("attribute_not_exists(#pk)"),
            )?);
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        let failed = cancelled_actions(&err);
        if failed.contains(&0) || failed.contains(&1) {
            return Err(SubmitError::Conflict);
        }
        if failed.contains(&2) {
            return Err(SubmitError::UserCodeTaken);
        }
        if err
            .as_service_error()
            .is_some_and(|e| e.is_transaction_canceled_exception())
        {
            return Err(SubmitError::Store(StoreError::Unavailable));
        }
        Err(SubmitError::Store(map_err(err, |_| false)))
    }

    async fn put_application_with_message(
        &self,
        tenant: &TenantSlug,
        application: &Application,
        expected: u64,
        message: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let table = self.table.as_str();
        let result = self
            .client
            .transact_write_items()
            .transact_items(application_at_version(
                table,
                tenant,
                application,
                expected,
            )?)
            .transact_items(put_item(
                table,
                outbox_item(message),
                Some("attribute_not_exists(#pk)"),
            )?)
            .send()
            .await;
        let Err(err) = result else {
            return Ok(());
        };
        if !cancelled_actions(&err).is_empty() {
            return Err(StoreError::Conflict);
        }
        if err
            .as_service_error()
            .is_some_and(|e| e.is_transaction_canceled_exception())
        {
            return Err(StoreError::Unavailable);
        }
        Err(map_err(err, |_| false))
    }

    async fn due_messages(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let upper = format!("{:012}#~", now.unix_timestamp().max(0));
        let mut due = Vec::new();
        for shard in 0..OUTBOX_SHARDS {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI1)
                .key_condition_expression("#pk = :pk AND #sk <= :upper")
                .expression_attribute_names("#pk", GSI1_PK)
                .expression_attribute_names("#sk", GSI1_SK)
                .expression_attribute_values(":pk", s(format!("OUTBOX#{shard}")))
                .expression_attribute_values(":upper", s(upper.clone()))
                .limit(i32::try_from(limit).unwrap_or(100))
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
            for item in out.items() {
                due.push(outbox_from_item(item)?);
            }
        }
        due.sort_by_key(|m| m.due);
        due.truncate(limit);
        Ok(due)
    }

    async fn lease_message(
        &self,
        tenant: &TenantSlug,
        id: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<OutboxMessage>, StoreError> {
        let (_, gsk) = outbox_index_keys(tenant, id, lease_until);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(outbox_pk(tenant, id)))
            .key(SK, s("OUTBOX"))
            .update_expression("SET #due = :until, #gsk = :gsk ADD #att :one")
            .condition_expression("attribute_exists(#pk) AND #due <= :now")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#due", "due")
            .expression_attribute_names("#gsk", GSI1_SK)
            .expression_attribute_names("#att", "attempts")
            .expression_attribute_values(":until", n(lease_until.unix_timestamp()))
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":gsk", s(gsk))
            .expression_attribute_values(":one", n(1))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.as_ref().map(outbox_from_item).transpose(),
            Err(e) => match map_err(e, |e| e.is_conditional_check_failed_exception()) {
                StoreError::Conflict => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn message_sent(&self, tenant: &TenantSlug, id: &str) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(outbox_pk(tenant, id)))
            .key(SK, s("OUTBOX"))
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(())
    }

    async fn message_failed(
        &self,
        tenant: &TenantSlug,
        id: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let (_, gsk) = outbox_index_keys(tenant, id, retry_at);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(outbox_pk(tenant, id)))
            .key(SK, s("OUTBOX"))
            .update_expression("SET #due = :due, #gsk = :gsk")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#due", "due")
            .expression_attribute_names("#gsk", GSI1_SK)
            .expression_attribute_values(":due", n(retry_at.unix_timestamp()))
            .expression_attribute_values(":gsk", s(gsk))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match map_err(e, |e| e.is_conditional_check_failed_exception()) {
                // Sent by another sender meanwhile: nothing to retry.
                StoreError::Conflict => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn put_roster_entry(
        &self,
        tenant: &TenantSlug,
        entry: &RosterEntry,
        links: &[String],
    ) -> Result<bool, RosterWriteError> {
        let table = self.table.as_str();
        let pk = roster_pk(tenant, &entry.user_code);
        let data = to_json(entry)?;
        let mut wanted: Vec<String> = links.to_vec();
        wanted.sort();
        wanted.dedup();
        // Conditional on what was read: a concurrent import of the same
        // code makes the loser read again instead of losing an update.
        for _ in 0..3 {
            let old = self.get(pk.clone(), "ENTRY").await?;
            let old_links: Vec<String> = old
                .as_ref()
                .and_then(|i| i.get(LINKS))
                .and_then(|v| v.as_ss().ok())
                .cloned()
                .unwrap_or_default();
            if let Some(item) = &old {
                let mut sorted = old_links.clone();
                sorted.sort();
                if item.get(DATA) == Some(&data) && sorted == wanted {
                    return Ok(false);
                }
            }
            let mut put = Put::builder()
                .table_name(table)
                .item(PK, s(pk.clone()))
                .item(SK, s("ENTRY"))
                .item(DATA, data.clone())
                .item(LINKS, AttributeValue::Ss(wanted.clone()))
                .expression_attribute_names("#pk", PK);
            put = match old.as_ref().and_then(|i| i.get(DATA)) {
                Some(previous) => put
                    .condition_expression("attribute_exists(#pk) AND #data = :old")
                    .expression_attribute_names("#data", DATA)
                    .expression_attribute_values(":old", previous.clone()),
                None => put.condition_expression("attribute_not_exists(#pk)"),
            };
            let put = put
                .build()
                .map_err(|e| StoreError::Other(format!("transaction put: {e}")))?;
            // Action 0 is the entry, action 1 (first import only) the hold
            // on its user code, then the identity links.
            let mut actions = vec![TransactWriteItem::builder().put(put).build()];
            if old.is_none() {
                let hold = Put::builder()
                    .table_name(table)
                    .item(PK, s(user_code_pk(tenant, &entry.user_code)))
                    .item(SK, s("USERCODE"))
                    .item("roster", AttributeValue::Bool(true))
                    .condition_expression("attribute_not_exists(#pk) OR #roster = :yes")
                    .expression_attribute_names("#pk", PK)
                    .expression_attribute_names("#roster", "roster")
                    .expression_attribute_values(":yes", AttributeValue::Bool(true))
                    .build()
                    .map_err(|e| StoreError::Other(format!("transaction put: {e}")))?;
                actions.push(TransactWriteItem::builder().put(hold).build());
            }
            let sk = format!("{ROSTER_LINK}{}", entry.user_code);
            for link in &wanted {
                actions.push(put_item(
                    table,
                    HashMap::from([
                        (PK.to_string(), s(owner_pk(tenant, link))),
                        (SK.to_string(), s(sk.clone())),
                        ("user_code".to_string(), s(entry.user_code.clone())),
                    ]),
                    None,
                )?);
            }
            for stale in old_links.iter().filter(|l| !wanted.contains(l)) {
                let delete = Delete::builder()
                    .table_name(table)
                    .key(PK, s(owner_pk(tenant, stale)))
                    .key(SK, s(sk.clone()))
                    .build()
                    .map_err(|e| StoreError::Other(format!("transaction delete: {e}")))?;
                actions.push(TransactWriteItem::builder().delete(delete).build());
            }
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(actions))
                .send()
                .await;
            let Err(err) = result else {
                return Ok(true);
            };
            let failed = cancelled_actions(&err);
            if old.is_none() && failed.contains(&1) {
                return Err(RosterWriteError::UserCodeTaken);
            }
            if failed.contains(&0) {
                continue;
            }
            if err
                .as_service_error()
                .is_some_and(|e| e.is_transaction_canceled_exception())
            {
                return Err(StoreError::Unavailable.into());
            }
            return Err(map_err(err, |_| false).into());
        }
        Err(StoreError::Unavailable.into())
    }

    async fn roster_entry(
        &self,
        tenant: &TenantSlug,
        user_code: &str,
    ) -> Result<Option<RosterEntry>, StoreError> {
        self.get(roster_pk(tenant, user_code), "ENTRY")
            .await?
            .map(|item| from_item(&item))
            .transpose()
    }

    async fn roster_entries(
        &self,
        tenant: &TenantSlug,
        link: &str,
    ) -> Result<Vec<RosterEntry>, StoreError> {
        let codes = self
            .linked(owner_pk(tenant, link), ROSTER_LINK, "user_code")
            .await?;
        let mut out = Vec::with_capacity(codes.len());
        for code in codes {
            if let Some(entry) = self.roster_entry(tenant, &code).await? {
                out.push(entry);
            }
        }
        Ok(out)
    }

    async fn window_applications(
        &self,
        tenant: &TenantSlug,
        window_id: &str,
        status: Status,
        limit: usize,
        after: Option<String>,
    ) -> Result<(Vec<Application>, Option<String>), StoreError> {
        let gpk = format!("TENANT#{tenant}#WINDOW#{window_id}#{}", status.code());
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", s(gpk.clone()))
            .scan_index_forward(false)
            .limit(i32::try_from(limit).unwrap_or(50));
        if let Some(gsk) = after {
            // The table keys of an application follow from its index key.
            let id = gsk.split('#').nth(1).unwrap_or_default().to_owned();
            request = request
                .exclusive_start_key(PK, s(application_pk(tenant, &id)))
                .exclusive_start_key(SK, s("APP"))
                .exclusive_start_key(GSI1_PK, s(gpk))
                .exclusive_start_key(GSI1_SK, s(gsk));
        }
        let out = request.send().await.map_err(|e| map_err(e, |_| false))?;
        let items = out
            .items()
            .iter()
            .map(from_item)
            .collect::<Result<Vec<Application>, _>>()?;
        let next = out
            .last_evaluated_key()
            .and_then(|k| k.get(GSI1_SK))
            .and_then(|v| v.as_s().ok())
            .cloned();
        Ok((items, next))
    }

    async fn replace_window(
        &self,
        tenant: &TenantSlug,
        previous: &Window,
        next: &Window,
    ) -> Result<(), StoreError> {
        let mut item = HashMap::from([
            (PK.to_string(), s(tenant_pk(tenant))),
            (SK.to_string(), s(window_sk(&next.id))),
            (DATA.to_string(), to_json(next)?),
        ]);
        if next.closed_at.is_none() {
            item.insert(GSI1_PK.into(), s(OPEN_WINDOWS));
            item.insert(
                GSI1_SK.into(),
                s(open_window_sort(next.closes_at, tenant, &next.id)),
            );
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#data = :old")
            .expression_attribute_names("#data", DATA)
            .expression_attribute_values(":old", to_json(previous)?)
            .send()
            .await
            .map_err(|e| map_err(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn put_attachment(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
        attachment: &Attachment,
    ) -> Result<(), StoreError> {
        self.put(HashMap::from([
            (PK.to_string(), s(application_pk(tenant, application_id))),
            (SK.to_string(), s(format!("ATT#{}", attachment.id))),
            (DATA.to_string(), to_json(attachment)?),
        ]))
        .await
    }

    async fn attachments(
        &self,
        tenant: &TenantSlug,
        application_id: &str,
    ) -> Result<Vec<Attachment>, StoreError> {
        let mut out = Vec::new();
        let mut pages = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#sk", SK)
            .expression_attribute_values(":pk", s(application_pk(tenant, application_id)))
            .expression_attribute_values(":prefix", s("ATT#"))
            .into_paginator()
            .items()
            .send();
        while let Some(item) = pages.next().await {
            let item = item.map_err(|e| map_err(e, |_| false))?;
            out.push(from_item(&item)?);
        }
        Ok(out)
    }

    async fn owner_applications(
        &self,
        tenant: &TenantSlug,
        owner: &str,
    ) -> Result<Vec<Application>, StoreError> {
        let ids = self.linked_ids(owner_pk(tenant, owner), "APP#").await?;
        self.applications(tenant, ids).await
    }

    async fn pupil_applications(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Vec<Application>, StoreError> {
        let ids = self.linked_ids(pupil_pk(tenant, pupil), "WINDOW#").await?;
        self.applications(tenant, ids).await
    }

    async fn get_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Option<Versioned<Credentials>>, StoreError> {
        self.get_versioned(pupil_pk(tenant, pupil), "CREDENTIALS")
            .await
    }

    async fn put_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let current = expected.unwrap_or(0);
        let item = HashMap::from([
            (PK.to_string(), s(pupil_pk(tenant, pupil))),
            (SK.to_string(), s("CREDENTIALS")),
            (DATA.to_string(), to_json(credentials)?),
            (VERSION.to_string(), n(current + 1)),
        ]);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = if expected.is_some() {
            request
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(current))
        } else {
            request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK)
        };
        request
            .send()
            .await
            .map_err(|e| map_err(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }

    async fn get_email_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
    ) -> Result<Option<Versioned<CodeState>>, StoreError> {
        self.get_versioned(email_code_pk(tenant, address_key), "CODE")
            .await
    }

    async fn put_email_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
        state: &CodeState,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let next_version = expected.map_or(1, |v| v + 1);
        let item = HashMap::from([
            (PK.to_string(), s(email_code_pk(tenant, address_key))),
            (SK.to_string(), s("CODE")),
            (DATA.to_string(), to_json(state)?),
            (VERSION.to_string(), n(next_version)),
            (TTL.to_string(), n(state.purge_after())),
        ]);
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let request = match expected {
            None => request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some(v) => request
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", n(v)),
        };
        request
            .send()
            .await
            .map_err(|e| map_err(e, |e| e.is_conditional_check_failed_exception()))?;
        Ok(())
    }
}
