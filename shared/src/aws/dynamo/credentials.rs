//! `CredentialStore`: a pupil's login credentials, versioned, beside the
//! pupil's guards (`TENANT#<slug>#PUPIL#<keyed hash>` / `CREDENTIALS`).

use async_trait::async_trait;

use super::codec::{decode_credentials, encode_credentials};
use super::{DynamoStore, pupil_pk};
use crate::domain::values::TenantSlug;
use crate::ports::{CredentialStore, Credentials, StoreError, Versioned};

#[async_trait]
impl CredentialStore for DynamoStore {
    async fn get_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Option<Versioned<Credentials>>, StoreError> {
        self.get_as(pupil_pk(tenant, pupil), "CREDENTIALS", decode_credentials)
            .await
    }

    async fn put_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let version = expected.unwrap_or(0) + 1;
        self.put_versioned(
            encode_credentials(tenant, pupil, credentials, version)?,
            expected,
        )
        .await
    }
}
