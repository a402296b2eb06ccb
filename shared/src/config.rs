//! Process configuration, read once per cold start from the environment.
//! In AWS the secret comes from Secrets Manager through the template; locally
//! the dev server generates one per run. It is never in the repository.

use aws_lc_rs::hmac;

/// The deployment's settings.
#[derive(Clone)]
pub struct Config {
    pub table_name: String,
    pub bucket_name: String,
    /// The verified SES sender, e.g. `no-reply@iscrizioni.example.it`.
    pub mail_from: String,
    /// Issuer of parent session tokens.
    pub session_issuer: String,
    /// The SMS sender id registered for Italian numbers (`SMS_SENDER_ID`),
    /// if any; without it carriers show a generic sender.
    pub sms_sender_id: Option<String>,
    /// The deployment's staff user pool, whose tokens every tenant without
    /// its own provider trusts (`STAFF_ISSUER`, `STAFF_CLIENT_ID`).
    pub staff_pool: Option<StaffPool>,
    /// App IO's API (`APP_IO_URL`, default production) and where the
    /// tenants' service keys are kept (`APP_IO_SECRET_PREFIX`, e.g.
    /// `<stack>/app-io/`); without the prefix no App IO message is sent.
    pub app_io_url: String,
    pub app_io_secret_prefix: Option<String>,
    /// How long a process keeps a comune's App IO key (five minutes).
    pub app_io_key_ttl: std::time::Duration,
    /// How long a process keeps a comune's configuration
    /// (`TENANT_CACHE_SECS`, default 30; 0 reads it on every request).
    pub tenant_ttl: std::time::Duration,
    /// How long a process keeps a window it read for the parents' requests
    /// (`WINDOW_CACHE_SECS`, default 2; 0 reads it on every request). The
    /// office's own reads and changes never use a kept copy, and a change
    /// drops this process's copies at once.
    pub window_ttl: std::time::Duration,
    session_key: Vec<u8>,
    code_hash_key: hmac::Key,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("table_name", &self.table_name)
            .field("bucket_name", &self.bucket_name)
            .field("session_issuer", &self.session_issuer)
            .finish_non_exhaustive()
    }
}

/// The staff user pool (Amazon Cognito): its issuer (the keys are at
/// `<issuer>/.well-known/jwks.json`), the app client its ID tokens are
/// for, and the one algorithm it signs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffPool {
    pub issuer: String,
    pub client_id: String,
    pub algorithm: String,
}

pub const MIN_SECRET_LEN: usize = 32;

impl Config {
    /// Builds the configuration; each purpose gets its own key derived from
    /// the one secret, so a session key never doubles as a hashing key.
    pub fn new(
        table_name: impl Into<String>,
        bucket_name: impl Into<String>,
        mail_from: impl Into<String>,
        secret: &[u8],
    ) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "APP_SECRET must be at least {MIN_SECRET_LEN} bytes long"
            ));
        }
        let master = hmac::Key::new(hmac::HMAC_SHA256, secret);
        let derive = |label: &str| hmac::sign(&master, label.as_bytes()).as_ref().to_vec();
        Ok(Self {
            table_name: table_name.into(),
            bucket_name: bucket_name.into(),
            mail_from: mail_from.into(),
            session_issuer: "iscrizioni-scolastiche".into(),
            sms_sender_id: None,
            staff_pool: None,
            app_io_url: crate::aws::app_io::DEFAULT_URL.into(),
            app_io_secret_prefix: None,
            app_io_key_ttl: std::time::Duration::from_secs(300),
            tenant_ttl: std::time::Duration::from_secs(30),
            window_ttl: std::time::Duration::from_secs(2),
            session_key: derive("parent-session-jwt-v1"),
            code_hash_key: hmac::Key::new(hmac::HMAC_SHA256, &derive("email-code-hash-v1")),
        })
    }

    /// From `TABLE_NAME`, `BUCKET_NAME`, `MAIL_FROM` and `APP_SECRET`, and
    /// the optional `SMS_SENDER_ID` and staff pool (`STAFF_ISSUER`,
    /// `STAFF_CLIENT_ID`, `STAFF_ALGORITHM`).
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).map_err(|_| format!("{name} is not set"));
        let mut config = Self::new(
            var("TABLE_NAME")?,
            var("BUCKET_NAME")?,
            var("MAIL_FROM")?,
            var("APP_SECRET")?.as_bytes(),
        )?;
        config.sms_sender_id = std::env::var("SMS_SENDER_ID")
            .ok()
            .filter(|v| !v.is_empty());
        let set = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        config.app_io_url = set("APP_IO_URL").unwrap_or(config.app_io_url);
        config.app_io_secret_prefix = set("APP_IO_SECRET_PREFIX");
        if let Some(secs) = set("TENANT_CACHE_SECS") {
            let secs: u64 = secs
                .parse()
                .map_err(|_| "TENANT_CACHE_SECS is not a number of seconds".to_string())?;
            config.tenant_ttl = std::time::Duration::from_secs(secs);
        }
        if let Some(secs) = set("WINDOW_CACHE_SECS") {
            let secs: u64 = secs
                .parse()
                .map_err(|_| "WINDOW_CACHE_SECS is not a number of seconds".to_string())?;
            config.window_ttl = std::time::Duration::from_secs(secs);
        }
        config.staff_pool = match (set("STAFF_ISSUER"), set("STAFF_CLIENT_ID")) {
            (Some(issuer), Some(client_id)) => Some(StaffPool {
                issuer,
                client_id,
                // Cognito signs with RS256.
                algorithm: set("STAFF_ALGORITHM").unwrap_or_else(|| "RS256".into()),
            }),
            _ => None,
        };
        Ok(config)
    }

    pub fn session_key(&self) -> &[u8] {
        &self.session_key
    }

    /// A keyed hash (HMAC-SHA-256, hex) bound to a purpose and a tenant: the
    /// stored form of codes and the key under which an address is filed.
    pub fn keyed_hash(&self, purpose: &str, tenant: &str, value: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.code_hash_key);
        for part in [purpose, tenant, value] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        hex(ctx.sign().as_ref())
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::new("t", "b", "m@x.it", &[7u8; 32]).expect("config")
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(Config::new("t", "b", "m", b"short").is_err());
    }

    #[test]
    fn keyed_hash_is_bound_to_purpose_and_tenant() {
        let c = config();
        let a = c.keyed_hash("code", "demo", "123456");
        assert_eq!(a.len(), 64);
        assert_eq!(a, c.keyed_hash("code", "demo", "123456"));
        assert_ne!(a, c.keyed_hash("code", "other", "123456"));
        assert_ne!(a, c.keyed_hash("addr", "demo", "123456"));
        // Length prefixes: no ambiguity from concatenation.
        assert_ne!(c.keyed_hash("ab", "c", "d"), c.keyed_hash("a", "bc", "d"));
    }

    #[test]
    fn debug_hides_keys() {
        let s = format!("{:?}", config());
        assert!(!s.contains("session_key"));
    }
}
