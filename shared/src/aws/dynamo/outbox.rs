//! `OutboxStore`: the mails owed (`TENANT#<slug>#OUTBOX#<id>` / `OUTBOX`),
//! indexed by the time they are due in `OUTBOX_SHARDS` partitions.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::ReturnValue;
use time::OffsetDateTime;

use super::codec::{OUTBOX_SHARDS, decode_outbox, outbox_index_keys};
use super::{DynamoStore, GSI1_SK, PK, SK, map_err, n, outbox_pk, s, time_sort, written};
use crate::domain::values::TenantSlug;
use crate::ports::{OutboxMessage, OutboxStore, StoreError};

impl DynamoStore {
    /// An update that makes message `id` due at `due`, in the index too;
    /// its condition names the key `#pk` and the due time `#due`.
    fn due_at(
        &self,
        tenant: &TenantSlug,
        id: &str,
        due: OffsetDateTime,
    ) -> UpdateItemFluentBuilder {
        let (_, gsk) = outbox_index_keys(tenant, id, due);
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(outbox_pk(tenant, id)))
            .key(SK, s("OUTBOX"))
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#due", "due")
            .expression_attribute_names("#gsk", GSI1_SK)
            .expression_attribute_values(":due", n(due.unix_timestamp()))
            .expression_attribute_values(":gsk", s(gsk))
    }
}

#[async_trait]
impl OutboxStore for DynamoStore {
    async fn due_messages(
        &self,
        now: OffsetDateTime,
        limit: usize,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let upper = time_sort(now, "~");
        let mut due = Vec::new();
        for shard in 0..OUTBOX_SHARDS {
            let out = self
                .index_up_to(format!("OUTBOX#{shard}"), upper.clone())
                .limit(i32::try_from(limit).unwrap_or(100))
                .send()
                .await
                .map_err(|e| map_err(e, |_| false))?;
            for item in out.items() {
                due.push(decode_outbox(item)?);
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
        let result = self
            .due_at(tenant, id, lease_until)
            .update_expression("SET #due = :due, #gsk = :gsk ADD #att :one")
            .condition_expression("attribute_exists(#pk) AND #due <= :now")
            .expression_attribute_names("#att", "attempts")
            .expression_attribute_values(":now", n(now.unix_timestamp()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match written(result)? {
            Some(out) => out.attributes.as_ref().map(decode_outbox).transpose(),
            None => Ok(None),
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

    async fn message_to_app_io(&self, tenant: &TenantSlug, id: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(outbox_pk(tenant, id)))
            .key(SK, s("OUTBOX"))
            .update_expression("SET #stage = :io, #att = :one")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .expression_attribute_names("#stage", "stage")
            .expression_attribute_names("#att", "attempts")
            .expression_attribute_values(":io", s("app_io"))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        written(result).map(drop)
    }

    async fn message_failed(
        &self,
        tenant: &TenantSlug,
        id: &str,
        retry_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let result = self
            .due_at(tenant, id, retry_at)
            .update_expression("SET #due = :due, #gsk = :gsk")
            .condition_expression("attribute_exists(#pk)")
            .send()
            .await;
        // A failed condition: sent by another sender meanwhile, nothing to
        // retry.
        written(result).map(drop)
    }
}
