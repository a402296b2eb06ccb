//! `ClaimStore`: markers of things done once, `TENANT#<slug>#ONCE#…`.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::codec::{encode_claim, encode_outbox};
use super::{DynamoStore, PK, SK, map_err, once_pk, put_item, s, written};
use crate::domain::values::TenantSlug;
use crate::ports::{ClaimStore, OutboxMessage, StoreError};

/// The condition of a put that must create its item.
const NEW: Option<&str> = Some("attribute_not_exists(#pk)");

#[async_trait]
impl ClaimStore for DynamoStore {
    async fn claim_once(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
        expires: Option<OffsetDateTime>,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode_claim(tenant, kind, key, expires)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", PK)
            .send()
            .await;
        Ok(written(result)?.is_some())
    }

    async fn release_claim(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(once_pk(tenant, kind, key)))
            .key(SK, s("ONCE"))
            .send()
            .await
            .map_err(|e| map_err(e, |_| false))?;
        Ok(())
    }

    async fn claim_with_message(
        &self,
        tenant: &TenantSlug,
        kind: &str,
        key: &str,
        message: &OutboxMessage,
    ) -> Result<bool, StoreError> {
        let table = self.table.as_str();
        let actions = vec![
            put_item(table, encode_claim(tenant, kind, key, None), NEW)?,
            put_item(table, encode_outbox(message), NEW)?,
        ];
        let Err(cancelled) = self.transact(actions).await else {
            return Ok(true);
        };
        if cancelled.failed_at(0) {
            return Ok(false);
        }
        if cancelled.failed_at(1) {
            return Err(StoreError::Conflict);
        }
        Err(cancelled.into_error())
    }
}
