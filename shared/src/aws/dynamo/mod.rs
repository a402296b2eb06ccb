//! The DynamoDB store: one table, keys designed from the access patterns
//! (see docs/data-model.md). Attribute names stay in this folder: the keys,
//! the shared requests and the error mapping here, the items' encoding in
//! `codec`, and one file per concept implementing that concept's trait of
//! `crate::ports`.

mod applications;
mod claims;
mod codec;
mod codes;
mod credentials;
mod guesses;
mod outbox;
mod roster;
mod tenants;
mod windows;

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::PutBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};

use super::{RawResponse, describe, is_transient};
use crate::domain::values::TenantSlug;
use crate::ports::StoreError;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "gsi1";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
/// The places index: a window's applications that hold a pupil, in the
/// window's order (`domain::ranking`), spread over `RANK_SHARDS` keys.
pub const GSI2: &str = "gsi2";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
/// Index partitions per window's order: a window's submissions spread
/// their index writes over this many keys (one per last hex digit of the
/// id; at 2,000 submissions a second about 720 WRU/s each, counting an
/// index write of a transaction twice).
pub const RANK_SHARDS: u8 = 16;
/// Counter items per window's counts: at most 1,000 writes a second go to
/// one item, so a window's status changes spread over this many (all read
/// in one BatchGetItem; at 2,000 enrollments a second about 370 WRU/s
/// each). A count moved under another shard count than it was added with
/// still sums right: only the sum over the shards is read.
pub const COUNT_SHARDS: u8 = 32;
/// Index partitions per window and status of the staff list (`gsi1`): an
/// enrollment writes about 10 WRU to its window's draft partition and 8 to
/// the submitted one, so 2,000 enrollments a second need more than 20 keys
/// to stay under a partition's 1,000 WRU/s.
pub const STATUS_SHARDS: u32 = 32;
pub const TTL: &str = "ttl";
const DATA: &str = "data";
const VERSION: &str = "version";

type Item = HashMap<String, AttributeValue>;

#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn tenant_pk(tenant: &TenantSlug) -> String {
    format!("TENANT#{tenant}")
}

fn code_pk(tenant: &TenantSlug, address_key: &str) -> String {
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

fn once_pk(tenant: &TenantSlug, kind: &str, key: &str) -> String {
    format!("TENANT#{tenant}#ONCE#{kind}#{key}")
}

fn window_sk(id: &str) -> String {
    format!("WINDOW#{id}")
}

/// A GSI sort key that sorts by time: the Unix seconds in 12 digits (never
/// negative), then what makes it unique.
fn time_sort(at: time::OffsetDateTime, rest: &str) -> String {
    format!("{:012}#{rest}", at.unix_timestamp().max(0))
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Map an SDK error; `conflict` tells whether it was a failed condition.
fn map_err<E: ProvideErrorMetadata>(
    err: SdkError<E, RawResponse>,
    conflict: impl Fn(&E) -> bool,
) -> StoreError {
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

/// Whether a write was refused because its condition did not hold.
fn condition_failed<E: ProvideErrorMetadata>(err: &E) -> bool {
    err.code() == Some("ConditionalCheckFailedException")
}

/// A conditional write whose failed condition is an answer, not an error:
/// `Some` with the output when it was written, `None` when the condition
/// did not hold.
fn written<O, E: ProvideErrorMetadata>(
    result: Result<O, SdkError<E, RawResponse>>,
) -> Result<Option<O>, StoreError> {
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e) => match map_err(e, condition_failed) {
            StoreError::Conflict => Ok(None),
            other => Err(other),
        },
    }
}

/// A transaction that was not written.
struct Cancelled {
    /// The indexes of the actions whose condition failed.
    failed: Vec<usize>,
    err: SdkError<TransactWriteItemsError, RawResponse>,
}

impl Cancelled {
    fn new(err: SdkError<TransactWriteItemsError, RawResponse>) -> Self {
        let failed = match err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(t)) => t
                .cancellation_reasons()
                .iter()
                .enumerate()
                .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                .map(|(i, _)| i)
                .collect(),
            _ => Vec::new(),
        };
        Self { failed, err }
    }

    /// Whether the condition of action `index` failed.
    fn failed_at(&self, index: usize) -> bool {
        self.failed.contains(&index)
    }

    /// Whether another transaction in progress on the same items cancelled
    /// this one (DynamoDB's `TransactionConflict`): nothing was written.
    fn raced(&self) -> bool {
        match self.err.as_service_error() {
            Some(TransactWriteItemsError::TransactionCanceledException(t)) => t
                .cancellation_reasons()
                .iter()
                .any(|r| r.code() == Some("TransactionConflict")),
            _ => false,
        }
    }

    /// The error once the caller has looked at the conditions: cancelled
    /// for another reason (a concurrent transaction on the same items)
    /// nothing was written and the client may retry.
    fn into_error(self) -> StoreError {
        if self
            .err
            .as_service_error()
            .is_some_and(|e| e.is_transaction_canceled_exception())
        {
            return StoreError::Unavailable;
        }
        map_err(self.err, |_| false)
    }
}

fn transaction_put(put: PutBuilder) -> Result<TransactWriteItem, StoreError> {
    let put = put
        .build()
        .map_err(|e| StoreError::Other(format!("transaction put: {e}")))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// A transaction's put of `item`, if `condition` (naming the key as `#pk`)
/// holds.
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
    transaction_put(put)
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

    /// The item under `pk`/`sk`, decoded by `decode`.
    async fn get_as<T>(
        &self,
        pk: String,
        sk: &str,
        decode: impl FnOnce(&Item) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.get(pk, sk).await?.as_ref().map(decode).transpose()
    }

    /// Every item a query finds, page after page.
    async fn query_all(&self, query: QueryFluentBuilder) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pages = query.into_paginator().items().send();
        while let Some(item) = pages.next().await {
            items.push(item.map_err(|e| map_err(e, |_| false))?);
        }
        Ok(items)
    }

    /// The items under `pk` whose sort key starts with `prefix`.
    async fn query_prefix(&self, pk: String, prefix: &str) -> Result<Vec<Item>, StoreError> {
        self.query_all(
            self.client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix)),
        )
        .await
    }

    /// A query of the GSI1 partition `gpk` up to the sort key `upper`.
    fn index_up_to(&self, gpk: String, upper: String) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND #sk <= :upper")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_names("#sk", GSI1_SK)
            .expression_attribute_values(":pk", s(gpk))
            .expression_attribute_values(":upper", s(upper))
    }

    /// Write `actions` in one transaction.
    async fn transact(&self, actions: Vec<TransactWriteItem>) -> Result<(), Cancelled> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await
            .map(drop)
            .map_err(Cancelled::new)
    }

    /// The attribute `attr` of the link items under `pk` whose sort key
    /// starts with `prefix` (items without it are passed over).
    async fn linked(
        &self,
        pk: String,
        prefix: &str,
        attr: &str,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .query_prefix(pk, prefix)
            .await?
            .iter()
            .filter_map(|item| codec::link_target(item, attr))
            .collect())
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

    /// Put a versioned item if the stored version is still `expected`, or
    /// with `None` only if there is none (`Conflict` otherwise).
    async fn put_versioned(&self, item: Item, expected: Option<u64>) -> Result<(), StoreError> {
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
            .map_err(|e| map_err(e, condition_failed))?;
        Ok(())
    }
}
