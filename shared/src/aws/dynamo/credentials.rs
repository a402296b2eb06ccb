//! `CredentialStore`: each family's login credentials for a pupil,
//! versioned, beside the pupil's links and hold
//! (`TENANT#<slug>#PUPIL#<keyed hash>` / `CREDENTIALS#<family's keyed hash>`).

use async_trait::async_trait;

use super::codec::{
    CREDENTIALS, credentials_family, credentials_sk, decode_credentials, encode_credentials,
};
use super::{DynamoStore, pupil_pk};
use crate::domain::values::TenantSlug;
use crate::ports::{CredentialStore, Credentials, StoreError, Versioned};

#[async_trait]
impl CredentialStore for DynamoStore {
    async fn get_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        family: &str,
    ) -> Result<Option<Versioned<Credentials>>, StoreError> {
        self.get_as(
            pupil_pk(tenant, pupil),
            &credentials_sk(family),
            decode_credentials,
        )
        .await
    }

    async fn pupil_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
    ) -> Result<Vec<(String, Versioned<Credentials>)>, StoreError> {
        let mut out = Vec::new();
        for item in self
            .query_prefix(pupil_pk(tenant, pupil), CREDENTIALS)
            .await?
        {
            if let Some(family) = credentials_family(&item) {
                out.push((family, decode_credentials(&item)?));
            }
        }
        Ok(out)
    }

    async fn put_credentials(
        &self,
        tenant: &TenantSlug,
        pupil: &str,
        family: &str,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let version = expected.unwrap_or(0) + 1;
        self.put_versioned(
            encode_credentials(tenant, pupil, family, credentials, version)?,
            expected,
        )
        .await
    }
}
