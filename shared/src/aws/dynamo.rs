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
use crate::domain::email_code::CodeState;
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::domain::window::Window;
use crate::ports::{Store, StoreError, Versioned};

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
    serde_json::from_str(raw).map_err(|e| StoreError::Other(format!("stored data unreadable: {e}")))
}

fn version_of(item: &Item) -> u64 {
    item.get(VERSION)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Map an SDK error; `conflict` tells whether it was a failed condition.
fn map_err<E, R>(err: SdkError<E, R>, conflict: impl Fn(&E) -> bool) -> StoreError
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

    async fn windows_due_to_close(
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
            if window.due_to_close(now) {
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

    async fn get_email_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
    ) -> Result<Option<Versioned<CodeState>>, StoreError> {
        let Some(item) = self.get(email_code_pk(tenant, address_key), "CODE").await? else {
            return Ok(None);
        };
        Ok(Some(Versioned {
            value: from_item(&item)?,
            version: version_of(&item),
        }))
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
