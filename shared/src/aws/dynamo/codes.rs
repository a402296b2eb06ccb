//! `CodeStore`: one code record per address (email or mobile number),
//! versioned; the numbers a session asked SMS codes for
//! (`TENANT#<slug>#SESSION#<id>` / `PHONES`, a string set of keyed hashes);
//! the codes a tenant sent in one hour by channel, in shards
//! (`TENANT#<slug>#MAIL#<n>` or `#SMS#<n>` / `HOUR#<unix hour>`, a number
//! `n`). The last two go with the
//! table's TTL.

use std::collections::HashMap;

use async_trait::async_trait;

use super::codec::{decode_code, encode_code};
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};

use super::{DynamoStore, PK, SK, TTL, code_pk, map_err, n, s, written};
use crate::domain::security_code::CodeState;
use crate::domain::values::TenantSlug;
use crate::ports::{CodeStore, StoreError, Versioned};

#[async_trait]
impl CodeStore for DynamoStore {
    async fn get_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
    ) -> Result<Option<Versioned<CodeState>>, StoreError> {
        self.get_as(code_pk(tenant, address_key), "CODE", decode_code)
            .await
    }

    async fn put_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
        state: &CodeState,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        self.put_versioned(encode_code(tenant, address_key, state, version)?, expected)
            .await
    }

    async fn note_session_phone(
        &self,
        tenant: &TenantSlug,
        session: &str,
        phone_key: &str,
        limit: u32,
        purge_at: i64,
    ) -> Result<bool, StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("TENANT#{tenant}#SESSION#{session}")))
            .key(SK, s("PHONES"))
            .update_expression("ADD #phones :phone SET #ttl = :ttl")
            .condition_expression(
                "attribute_not_exists(#phones) OR contains(#phones, :key) OR size(#phones) < :limit",
            )
            .expression_attribute_names("#phones", "phones")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":phone", AttributeValue::Ss(vec![phone_key.to_owned()]))
            .expression_attribute_values(":key", s(phone_key))
            .expression_attribute_values(":limit", n(i64::from(limit)))
            .expression_attribute_values(":ttl", n(purge_at))
            .send()
            .await;
        Ok(written(update)?.is_some())
    }

    async fn count_code(
        &self,
        tenant: &TenantSlug,
        channel: &str,
        hour: i64,
    ) -> Result<(u64, u64), StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(hour_key(tenant, channel, hour, next_shard())))
            .update_expression("ADD #n :one SET #ttl = :ttl")
            .expression_attribute_names("#n", "n")
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n((hour + 2) * 3600))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok((counted(out.attributes.as_ref()), u64::from(CODE_SHARDS)))
    }

    async fn code_count(
        &self,
        tenant: &TenantSlug,
        channel: &str,
        hour: i64,
    ) -> Result<u64, StoreError> {
        // Every shard in one BatchGetItem; unprocessed keys asked again.
        let keys: Vec<_> = (0..CODE_SHARDS)
            .map(|shard| hour_key(tenant, channel, hour, shard))
            .collect();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .build()
                .map_err(|e| StoreError::Other(format!("batch get: {e}")))?,
        );
        let mut total = 0;
        for _ in 0..5 {
            let Some(request) = pending.take() else {
                return Ok(total);
            };
            let out = self
                .client
                .batch_get_item()
                .request_items(self.table.clone(), request)
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
            if let Some(items) = out.responses().and_then(|r| r.get(&self.table)) {
                total += items.iter().map(|i| counted(Some(i))).sum::<u64>();
            }
            pending = out
                .unprocessed_keys()
                .and_then(|u| u.get(&self.table))
                .cloned();
        }
        match pending {
            None => Ok(total),
            Some(_) => Err(StoreError::Unavailable),
        }
    }
}

/// Counter items per tenant, channel and hour: one item takes at most
/// 1,000 writes a second, and each code sent is one.
const CODE_SHARDS: u32 = 16;

/// The shard of the next count: round robin from a start that differs by
/// process, so that a city's many function instances spread their writes.
fn next_shard() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(u32::MAX);
    let start = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    };
    let _ = NEXT.compare_exchange(
        u32::MAX,
        start() % CODE_SHARDS,
        Ordering::Relaxed,
        Ordering::Relaxed,
    );
    NEXT.fetch_add(1, Ordering::Relaxed) % CODE_SHARDS
}

/// The key of a tenant's codes by `channel` in `hour`.
fn hour_key(
    tenant: &TenantSlug,
    channel: &str,
    hour: i64,
    shard: u32,
) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            PK.to_owned(),
            s(format!("TENANT#{tenant}#{channel}#{shard}")),
        ),
        (SK.to_owned(), s(format!("HOUR#{hour}"))),
    ])
}

/// The count `n` of a counter item (0 when there is none).
fn counted(item: Option<&HashMap<String, AttributeValue>>) -> u64 {
    item.and_then(|a| a.get("n"))
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
