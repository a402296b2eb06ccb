//! `AppIo`: PagoPA's App IO API for a comune's service (`POST /profiles`,
//! `POST /messages`, with the service's key in `Ocp-Apim-Subscription-Key`),
//! written from `io-functions-services`' published OpenAPI. Each tenant's
//! key is a Secrets Manager secret, `<prefix><slug>`, read on first use and
//! kept for `Config::app_io_key_ttl` (a rotated key is picked up within
//! that time).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::json;

use crate::domain::values::TenantSlug;
use crate::ports::{AppIo, AppIoError, IoMessage};

/// App IO's production API.
pub const DEFAULT_URL: &str = "https://api.io.pagopa.it/api/v1";

pub struct AppIoClient {
    /// Made at the first message, not at start: its TLS set-up reads the
    /// system's trust store, which most invocations never need.
    http: std::sync::OnceLock<reqwest::Client>,
    secrets: aws_sdk_secretsmanager::Client,
    base_url: String,
    secret_prefix: String,
    key_ttl: Duration,
    keys: Mutex<HashMap<String, (String, Instant)>>,
}

impl AppIoClient {
    pub fn new(
        secrets: aws_sdk_secretsmanager::Client,
        base_url: &str,
        secret_prefix: &str,
        key_ttl: Duration,
    ) -> Self {
        Self {
            http: std::sync::OnceLock::new(),
            secrets,
            base_url: base_url.trim_end_matches('/').to_owned(),
            secret_prefix: secret_prefix.to_owned(),
            key_ttl,
            keys: Mutex::new(HashMap::new()),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(3))
                .timeout(Duration::from_secs(5))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default()
        })
    }

    /// The tenant's service key.
    async fn key(&self, tenant: &TenantSlug) -> Result<String, AppIoError> {
        let now = Instant::now();
        if let Some((key, at)) = self
            .keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(tenant.as_str())
            && now.duration_since(*at) < self.key_ttl
        {
            return Ok(key.clone());
        }
        let out = self
            .secrets
            .get_secret_value()
            .secret_id(format!("{}{}", self.secret_prefix, tenant))
            .send()
            .await
            .map_err(|e| {
                // No key, or no permission: an operator must act; the
                // message waits in the outbox meanwhile.
                tracing::error!(error = %aws_sdk_secretsmanager::error::DisplayErrorContext(&e), "app io key unreadable");
                AppIoError::Unavailable("the service key cannot be read".into())
            })?;
        let key = out
            .secret_string()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| AppIoError::Unavailable("the service key is empty".into()))?
            .to_owned();
        self.keys
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(tenant.to_string(), (key.clone(), now));
        Ok(key)
    }

    async fn post(
        &self,
        tenant: &TenantSlug,
        path: &str,
        body: serde_json::Value,
    ) -> Result<reqwest::Response, AppIoError> {
        let key = self.key(tenant).await?;
        self.http()
            .post(format!("{}{path}", self.base_url))
            .header("Ocp-Apim-Subscription-Key", key)
            .json(&body)
            .send()
            .await
            // The error names the address, never the body.
            .map_err(|e| AppIoError::Unavailable(e.without_url().to_string()))
    }
}

/// What an answer other than success means for the message.
fn failure(status: reqwest::StatusCode) -> AppIoError {
    let code = status.as_u16();
    match code {
        // Throttled, down, or our key refused (an operator fixes it).
        401 | 403 | 408 | 429 | 500..=599 => AppIoError::Unavailable(format!("answered {code}")),
        _ => AppIoError::Refused(format!("answered {code}")),
    }
}

#[async_trait]
impl AppIo for AppIoClient {
    async fn sender_allowed(
        &self,
        tenant: &TenantSlug,
        fiscal_code: &str,
    ) -> Result<bool, AppIoError> {
        let response = self
            .post(tenant, "/profiles", json!({ "fiscal_code": fiscal_code }))
            .await?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(false);
        }
        if !status.is_success() {
            return Err(failure(status));
        }
        let profile: serde_json::Value = response
            .json()
            .await
            .map_err(|_| AppIoError::Unavailable("unreadable profile".into()))?;
        Ok(profile["sender_allowed"].as_bool() == Some(true))
    }

    async fn send(&self, tenant: &TenantSlug, message: &IoMessage) -> Result<(), AppIoError> {
        let response = self
            .post(
                tenant,
                "/messages",
                json!({
                    "fiscal_code": message.fiscal_code,
                    "feature_level_type": "STANDARD",
                    "content": { "subject": message.subject, "markdown": message.markdown },
                }),
            )
            .await?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(failure(status))
        }
    }
}
