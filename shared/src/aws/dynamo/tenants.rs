//! `TenantStore`: a tenant's configuration, `TENANT#<slug>` / `CONFIG`.

use async_trait::async_trait;

use super::codec::{TENANTS, decode_tenant, encode_tenant};
use super::{DynamoStore, GSI1, GSI1_PK, s, tenant_pk};
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::ports::{StoreError, TenantStore};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.get_as(tenant_pk(slug), "CONFIG", decode_tenant).await
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put(encode_tenant(tenant)?).await
    }

    async fn list_tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI1_PK)
            .expression_attribute_values(":pk", s(TENANTS));
        self.query_all(query)
            .await?
            .iter()
            .map(decode_tenant)
            .collect()
    }
}
