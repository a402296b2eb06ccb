//! `ClaimStore`: markers of things done once, `TENANT#<slug>#ONCE#…`.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::codec::encode_claim;
use super::{DynamoStore, PK, written};
use crate::domain::values::TenantSlug;
use crate::ports::{ClaimStore, StoreError};

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
}
