//! `TenantStore`: a tenant's configuration, `TENANT#<slug>` / `CONFIG`.

use async_trait::async_trait;

use super::codec::{decode_tenant, encode_tenant};
use super::{DynamoStore, tenant_pk};
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
}
