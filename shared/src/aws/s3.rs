//! Private document storage in S3: server-side encrypted objects, reachable
//! from outside only through short-lived presigned links.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;

use crate::ports::{DocumentError, DocumentStorage};

#[derive(Clone, Debug)]
pub struct S3Documents {
    client: Client,
    bucket: String,
}

impl S3Documents {
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }
}

fn map_err<E>(err: aws_sdk_s3::error::SdkError<E, super::RawResponse>) -> DocumentError
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    if super::is_transient(&err) {
        DocumentError::Unavailable
    } else {
        DocumentError::Other(super::describe(&err))
    }
}

#[async_trait]
impl DocumentStorage for S3Documents {
    async fn put(&self, key: &str, content_type: &str, data: Vec<u8>) -> Result<(), DocumentError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .server_side_encryption(ServerSideEncryption::Aes256)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Vec<u8>, DocumentError> {
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(se) if se.is_no_such_key() => DocumentError::NotFound,
                _ => map_err(e),
            })?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| DocumentError::Other(format!("read body: {e}")))?;
        Ok(bytes.into_bytes().to_vec())
    }

    async fn exists(&self, key: &str) -> Result<bool, DocumentError> {
        Ok(self.size(key).await?.is_some())
    }

    async fn delete(&self, key: &str) -> Result<(), DocumentError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, DocumentError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(map_err)?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        Ok(keys)
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, DocumentError> {
        // A list of the key as a prefix, not a HEAD: in AWS a HEAD of a
        // missing key answers 403 unless the role may list the whole
        // bucket, while a list is allowed by the grant scoped to our
        // prefixes (`s3:prefix`). The key itself sorts first.
        let page = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(key)
            .max_keys(1)
            .send()
            .await
            .map_err(map_err)?;
        Ok(page
            .contents()
            .iter()
            .find(|o| o.key() == Some(key))
            .map(|o| o.size().unwrap_or(0).max(0).unsigned_abs()))
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        content_length: u64,
        expires_in_secs: u64,
    ) -> Result<String, DocumentError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(expires_in_secs))
            .map_err(|e| DocumentError::Other(format!("presigning config: {e}")))?;
        let length = i64::try_from(content_length)
            .map_err(|_| DocumentError::Other("content length out of range".into()))?;
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length)
            // No encryption header: it would be signed, and a browser that
            // has only the link would not send it. The bucket encrypts
            // every object by default (infra/template.yaml).
            .presigned(config)
            .await
            .map_err(map_err)?;
        Ok(request.uri().to_string())
    }

    async fn presign_get(
        &self,
        key: &str,
        filename: &str,
        expires_in_secs: u64,
    ) -> Result<String, DocumentError> {
        let config = PresigningConfig::expires_in(Duration::from_secs(expires_in_secs))
            .map_err(|e| DocumentError::Other(format!("presigning config: {e}")))?;
        let request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .response_content_disposition(format!("attachment; filename=\"{filename}\""))
            .presigned(config)
            .await
            .map_err(map_err)?;
        Ok(request.uri().to_string())
    }
}
