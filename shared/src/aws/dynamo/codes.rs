//! `EmailCodeStore`: one code record per address, versioned.

use async_trait::async_trait;

use super::codec::{decode_email_code, encode_email_code};
use super::{DynamoStore, email_code_pk};
use crate::domain::email_code::CodeState;
use crate::domain::values::TenantSlug;
use crate::ports::{EmailCodeStore, StoreError, Versioned};

#[async_trait]
impl EmailCodeStore for DynamoStore {
    async fn get_email_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
    ) -> Result<Option<Versioned<CodeState>>, StoreError> {
        self.get_as(
            email_code_pk(tenant, address_key),
            "CODE",
            decode_email_code,
        )
        .await
    }

    async fn put_email_code(
        &self,
        tenant: &TenantSlug,
        address_key: &str,
        state: &CodeState,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let version = expected.map_or(1, |v| v + 1);
        self.put_versioned(
            encode_email_code(tenant, address_key, state, version)?,
            expected,
        )
        .await
    }
}
