//! `TenantStore`: a tenant's configuration, `TENANT#<slug>` / `CONFIG`.

use async_trait::async_trait;

use super::codec::{TENANTS, decode_tenant, decode_versioned, encode_tenant};
use super::{DynamoStore, GSI1, GSI1_PK, PK, VERSION, condition_failed, map_err, n, s, tenant_pk};
use crate::domain::tenant::Tenant;
use crate::domain::values::TenantSlug;
use crate::ports::{StoreError, TenantStore, Versioned};

#[async_trait]
impl TenantStore for DynamoStore {
    async fn get_tenant(&self, slug: &TenantSlug) -> Result<Option<Tenant>, StoreError> {
        self.get_as(tenant_pk(slug), "CONFIG", decode_tenant).await
    }

    async fn put_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        self.put(encode_tenant(tenant)?).await
    }

    async fn get_tenant_versioned(
        &self,
        slug: &TenantSlug,
    ) -> Result<Option<Versioned<Tenant>>, StoreError> {
        self.get_as(tenant_pk(slug), "CONFIG", decode_versioned)
            .await
    }

    async fn replace_tenant(
        &self,
        tenant: &Tenant,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut item = encode_tenant(tenant)?;
        item.insert(VERSION.to_owned(), n(expected.unwrap_or(0) + 1));
        let request = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        // A configuration written before versions (0) has no attribute.
        let request = match expected {
            None => request
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", PK),
            Some(0) => request
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#v)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#v", VERSION),
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
